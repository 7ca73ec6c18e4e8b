#!/usr/bin/env bash
# System packages the tests need beyond Python, installed with apt-get when missing (CI runs as root):
#   PostgreSQL server binaries (initdb, pg_ctl) for the Hive vault's PostgreSQL backend tests;
#   Graphviz (dot) for the diagrams of the published spec; Chromium for the site's browser test.
# Run by .ci/run before `make test`; safe to run again (installs nothing that is present).
set -euo pipefail

need_pg=0
if ! command -v initdb >/dev/null 2>&1 || ! command -v pg_ctl >/dev/null 2>&1; then
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        # installed but not on PATH: link the newest version's binaries
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
        ln -sf "$bin/initdb" /usr/local/bin/initdb
        ln -sf "$bin/pg_ctl" /usr/local/bin/pg_ctl
    else
        need_pg=1
    fi
fi

if [ "$need_pg" = 1 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts/system-deps.sh: PostgreSQL (initdb, pg_ctl) is missing and cannot be installed here" \
             "(needs root and apt-get); install the postgresql package" >&2
        exit 1
    fi
    echo "scripts/system-deps.sh: installing PostgreSQL with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    ln -sf "$bin/initdb" /usr/local/bin/initdb
    ln -sf "$bin/pg_ctl" /usr/local/bin/pg_ctl
fi
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts/system-deps.sh: missing ${missing[*]} and cannot install them here (needs root and apt-get)" >&2
        exit 1
    fi
    echo "scripts/system-deps.sh: installing ${missing[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "scripts/system-deps.sh: PostgreSQL $(initdb --version | awk '{print $3}'), $(dot -V 2>&1), $(chromium --version) ready" >&2
