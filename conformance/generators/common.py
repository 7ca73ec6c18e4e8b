"""Helpers shared by the generators: deterministic pseudo-random data and upstream interop facts."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from conformance.vectors import shared_dir


def det_bytes(label: str, n: int) -> bytes:
    """``n`` bytes derived from ``label`` alone (SHA-256 in counter mode): the only randomness allowed."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}#{i}".encode()).digest()
        i += 1
    return out[:n]


def det_int(label: str, lo: int, hi: int) -> int:
    """An integer in ``[lo, hi]`` derived from ``label``."""
    span = hi - lo + 1
    return lo + int.from_bytes(det_bytes(label, 40), "big") % span


class InteropMissing(RuntimeError):
    pass


@cache
def interop(name: str) -> Any:
    """A JSON file of ``../shared/interop/ela`` (read in place, never copied)."""
    path = shared_dir() / "interop" / "ela" / name
    if not path.is_file():
        raise InteropMissing(
            f"{path} not found: the vectors include upstream facts from ../shared/interop; "
            "put the shared folder beside the checkout or set ELASTOS_SHARED"
        )
    return json.loads(path.read_text())


def fact(fact_id: str) -> dict[str, Any]:
    for f in interop("facts.json"):
        if f["id"] == fact_id:
            return f
    raise KeyError(fact_id)


def provenance(file: str, item: str, source: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    """The ``provenance`` field of a case built from upstream data."""
    return {"interop_file": f"shared/interop/ela/{file}", "item": item, "upstream": source}
