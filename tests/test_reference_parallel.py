"""reference.parallel gives the same verdicts as serial checking, in block order, rejections included."""

from __future__ import annotations

from conformance.bench_chain import build_block
from reference.parallel import ParallelChecker, check_forked, check_parallel, check_serial
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _mixed_block(n: int):  # type: ignore[no-untyped-def]
    """``n`` transfers, every third with a corrupted signature and every fifth with no program."""
    _, _, items = build_block(n)
    out = []
    for i, (tx, refs) in enumerate(items):
        if i % 3 == 1:
            p = tx.programs[0]
            sig = bytearray(p.parameter)
            sig[5 + i % 60] ^= 1
            tx = tx.model_copy(update={"programs": (Program(parameter=bytes(sig), code=p.code),)})
        elif i % 5 == 4:
            tx = tx.model_copy(update={"programs": ()})
        out.append((tx, refs))
    return out


def test_pool_shares_a_batch_between_this_process_and_its_workers() -> None:
    """A batch large enough to share is checked by this process and both workers, and the verdicts
    (acceptances and rejections alike) are the serial ones, in order."""
    items = _mixed_block(120)
    serial = check_serial(items)
    assert {v[1] for v in serial if v is not None} == {"CRY-006", "TXC-010"}
    with ParallelChecker(3) as pc:
        assert len(pc.pids) == 2
        by_workers = []
        for _ in range(5):  # the same workers serve batch after batch
            assert pc.check(items) == serial
            by_workers.append(pc.last_by_workers)
        # both sides took items; a single batch may go all one way when the machine is loaded (a
        # descheduled process takes nothing), so the batches are counted together
        assert all(0 <= n <= 120 for n in by_workers) and 0 < sum(by_workers) < 5 * 120, by_workers
        assert pc.check(items[:7]) == serial[:7]  # too small to share: checked here
        assert pc.check([]) == []
        assert pc.replaced == 0


def test_pool_with_one_worker_is_serial() -> None:
    items = _mixed_block(20)
    with ParallelChecker(1) as pc:
        assert pc.pids == []
        assert pc.check(items) == check_serial(items)


def test_pool_survives_a_worker_that_dies() -> None:
    """A worker killed between batches, or while one is under way, costs nothing but time: the batch is
    checked here, the worker is replaced, and the next batch is shared again."""
    import os
    import signal
    import threading

    items = _mixed_block(200)
    serial = check_serial(items)
    with ParallelChecker(2) as pc:
        (first,) = pc.pids
        os.kill(first, signal.SIGKILL)
        pc._procs[0][0].join()
        assert pc.check(items) == serial
        assert pc.replaced == 1 and pc.pids != [first]
        (second,) = pc.pids
        killer = threading.Timer(0.01, os.kill, (second, signal.SIGKILL))
        killer.start()
        for _ in range(10):  # the kill lands during one of these batches (or between two)
            assert pc.check(items) == serial
        killer.join()
        assert pc.replaced == 2 and second not in pc.pids
        assert pc.check(items) == serial


def test_pool_recovers_when_the_counter_lock_is_never_released(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker that dies holding the counters' lock would stop every process at its next chunk; the
    checker notices the lock held past LOCK_TIMEOUT, checks the batch itself and starts a new pool."""
    import reference.parallel as P

    monkeypatch.setattr(P, "LOCK_TIMEOUT", 0.2)
    items = _mixed_block(60)
    serial = check_serial(items)
    with ParallelChecker(2) as pc:
        stuck = pc._lock
        assert stuck.acquire()  # as a worker killed inside the lock leaves it
        assert pc.check(items) == serial
        assert pc._lock is not stuck and pc.replaced == 1
        assert pc.check(items) == serial  # the new pool shares batches again
        assert pc.replaced == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["sig", "code", "drop", "extra"]), st.integers(0, 99)),
                max_size=12))
def test_pool_matches_serial_on_mutated_blocks(pool, mutations) -> None:  # type: ignore[no-untyped-def]
    """Random corruptions (signature bits, redeem scripts, missing and extra programs) give the pool the
    spec's verdicts, in order."""
    items = list(_BASE)
    for i, kind, k in mutations:
        tx, refs = items[i]
        p = tx.programs[0] if tx.programs else Program(parameter=b"", code=b"")
        if kind == "sig" and p.parameter:
            b = bytearray(p.parameter)
            b[k % len(b)] ^= 1 << (k % 8)
            progs = (Program(parameter=bytes(b), code=p.code),)
        elif kind == "code" and p.code:
            b = bytearray(p.code)
            b[k % len(b)] ^= 1 << (k % 8)
            progs = (Program(parameter=p.parameter, code=bytes(b)),)
        elif kind == "drop":
            progs = ()
        else:
            progs = (p, Program(parameter=p.parameter, code=bytes([k % 256]) + p.code[1:]))
        items[i] = (tx.model_copy(update={"programs": progs}), refs)
    assert pool.check(items) == check_serial(items)


_BASE = build_block(40)[2]


@pytest.fixture(scope="module")
def pool():  # type: ignore[no-untyped-def]
    with ParallelChecker(2) as pc:
        yield pc
