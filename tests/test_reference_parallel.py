"""reference.parallel gives the same verdicts as serial checking, in block order, rejections included."""

from __future__ import annotations

from conformance.bench_chain import build_block
from reference.parallel import ParallelChecker, check_forked, check_parallel, check_serial, to_wire
from spec.chain.tx import Program


def test_parallel_matches_serial() -> None:
    _, _, items = build_block(5)
    tx, refs = items[2]
    p = tx.programs[0]
    sig = bytearray(p.parameter)
    sig[10] ^= 1  # corrupt r: the signature no longer verifies
    bad = tx.model_copy(update={"programs": (Program(parameter=bytes(sig), code=p.code),)})
    tx3, refs3 = items[3]
    unsigned = tx3.model_copy(update={"programs": ()})  # no program for the referenced hash
    items = [items[0], items[1], (bad, refs), (unsigned, refs3), items[4]]
    serial = check_serial(items)
    assert serial[0] is None and serial[1] is None and serial[4] is None
    assert serial[2] is not None and serial[2][:2] == ("SIGNATURE_INVALID", "CRY-006")
    assert serial[3] is not None and serial[3][1] == "TXC-010"
    assert check_parallel(items, 2) == serial
    assert check_parallel(items, 3) == serial
    assert check_forked(items, 2) == serial
    assert check_forked(items, 3) == serial
    assert check_forked(items, 1) == serial
    with ParallelChecker(2) as pc:
        assert pc.check_wire(to_wire(items)) == serial
