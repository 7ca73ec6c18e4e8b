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


def test_a_child_that_dies_or_tears_its_write_falls_back_to_the_serial_check(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """check_forked trusts a child only for verdicts it delivered whole: a child that exits before writing, or
    writes half a pickle, is waited for and the batch is checked here instead (same verdicts)."""
    import os

    import reference.parallel as P

    _, _, items = build_block(12)
    serial = check_serial(items)
    parent = os.getpid()
    real = P._take_chunks

    def dies(*args):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            os._exit(3)
        return real(*args)

    monkeypatch.setattr(P, "_take_chunks", dies)
    assert check_forked(items, 2) == serial

    def torn(*args):  # type: ignore[no-untyped-def]
        out = real(*args)
        if os.getpid() != parent:
            return out, b"\x80" * 10_000  # pickled whole by the child; cut below
        return out

    real_dumps = P.pickle.dumps

    def cut(obj, *a, **k):  # type: ignore[no-untyped-def]
        data = real_dumps(obj, *a, **k)
        return data[: len(data) // 2] if os.getpid() != parent else data

    monkeypatch.setattr(P, "_take_chunks", torn)
    monkeypatch.setattr(P.pickle, "dumps", cut)
    assert check_forked(items, 2) == serial


def test_finished_children_are_reaped_and_never_pile_up() -> None:
    """A child that delivered its verdicts is not waited for in the batch; it is collected without blocking
    by a later call, so repeated batches leave no zombie processes behind."""
    import os
    import time

    import reference.parallel as P

    _, _, items = build_block(12)
    serial = check_serial(items)
    seen: set[int] = set()
    for _ in range(20):
        assert check_forked(items, 3) == serial
        assert len(P._UNREAPED) <= 2 * 2  # at most this batch's and the previous batch's children
        seen |= set(P._UNREAPED)
    deadline = time.monotonic() + 10
    while P._UNREAPED and time.monotonic() < deadline:
        time.sleep(0.05)
        P._reap()
    assert P._UNREAPED == []
    for pid in seen:  # collected: no longer this process's children (not even zombies)
        try:
            os.waitpid(pid, os.WNOHANG)
            raise AssertionError(f"child {pid} was left unreaped")
        except ChildProcessError:
            pass
