"""The reference implementation's adapter: ``elastos adapter`` (JSON lines on stdio).

The encoding and crypto suites are the spec itself, so the reference answers them through the
normative handler bindings (:mod:`conformance.bindings`). Suites that have stateful reference
components (the node, the ID chain, the vault) route their handlers to those components here.
"""

from __future__ import annotations

from conformance.bindings import HANDLERS
from conformance.protocol import serve
from spec import SPEC_VERSION

NAME = "elastos-reference"


def handler_table() -> dict:
    return {name: h.fn for name, h in HANDLERS.items()}


def main() -> int:
    return serve(handler_table(), NAME, SPEC_VERSION)


if __name__ == "__main__":
    raise SystemExit(main())
