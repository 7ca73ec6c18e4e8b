"""``make bench``: run every benchmark, each in its own process, then one summary.

A benchmark exits non-zero when it misses its target; this driver still runs the ones after it and
exits non-zero at the end if any missed (or failed). Summary: a table on stdout and
``REPORTS/bench-summary.json``; each benchmark writes its own JSON report beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCHES: list[tuple[str, list[str]]] = [
    ("spine (encoding, crypto, vectors)", ["-m", "reference.cli", "bench", "--json", "{r}/bench.json"]),
    ("chain", ["-m", "conformance.bench_chain", "--json", "{r}/bench_chain.json"]),
    ("runtime", ["-m", "conformance.bench_runtime", "--json", "{r}/bench_runtime.json"]),
    ("node import", ["-m", "reference.cli", "bench", "node", "--json", "{r}/bench_node.json"]),
    ("sidechain", ["-m", "conformance.bench_sidechain", "--json", "{r}/bench_sidechain.json"]),
    ("carrier", ["-m", "reference.cli", "bench", "carrier", "--json", "{r}/bench_carrier.json"]),
    ("C core", ["-m", "conformance.bench_core", "--json", "{r}/bench_core.json"]),
    ("DID", ["-m", "conformance.bench_did", "--json", "{r}/bench_did.json"]),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", default="reports")
    ap.add_argument("--only", action="append", default=[], help="run only benchmarks whose name contains this")
    a = ap.parse_args(argv)
    Path(a.reports).mkdir(parents=True, exist_ok=True)
    rows = []
    chosen = [b for b in BENCHES if not a.only or any(o in b[0] for o in a.only)]
    for i, (name, args) in enumerate(chosen, 1):
        print(f"== [{i}/{len(chosen)}] {name}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, *[x.format(r=a.reports) for x in args]])
        rows.append({"benchmark": name, "exit": rc, "seconds": round(time.monotonic() - t0, 1),
                     "outcome": "met" if rc == 0 else f"missed (exit {rc})"})
    print()
    print(f"{'benchmark':36} {'outcome':14} {'seconds':>8}")
    print("-" * 60)
    for r in rows:
        print(f"{r['benchmark']:36} {r['outcome']:14} {r['seconds']:8.1f}")
    Path(a.reports, "bench-summary.json").write_text(json.dumps(rows, indent=2) + "\n")
    missed = [r["benchmark"] for r in rows if r["exit"] != 0]
    print(f"\nmake bench: {len(rows) - len(missed)} of {len(rows)} met their targets"
          + (f"; missed or failed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
