"""Parallel signature checking of a block's transactions.

The rule stays the spec's: every transaction is checked by
:func:`spec.chain.validation.check_signatures` (TXC-010, TXC-011, TXC-012 and the script and
signature rules it runs), in a pool of worker processes. A verdict is ``None`` for a transaction
whose signatures pass, or ``(reason, rule, detail)`` of the :class:`~spec.errors.Reject` the spec
raised; the verdicts come back in block order, exactly as :func:`check_serial` returns them.

Two ways: :func:`check_forked` forks the workers for each batch, so the transactions reach them
through the copied memory and only verdicts are sent back (the fast way on POSIX);
:class:`ParallelChecker` keeps a pool of worker processes. In the pool, work is split into one
contiguous chunk per worker, so each worker receives its transactions in one
message. :meth:`ParallelChecker.check` sends decoded transactions (pickled with their memo of
unsigned bytes); :meth:`ParallelChecker.check_wire` sends bytes only, each transaction's
serialization and the program hashes of the outputs it spends, and the worker decodes them with
:meth:`~spec.chain.tx.Transaction.deserialize_with_unsigned`.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import pickle
from collections.abc import Sequence
from typing import Any
from concurrent.futures import ProcessPoolExecutor

from spec.chain.tx import Output, Transaction
from spec.chain.validation import check_signatures
from spec.encoding.primitives import Reader
from spec.errors import Reject

Verdict = tuple[str, str, str] | None
Item = tuple[Transaction, Sequence[Output]]
Wire = tuple[bytes, tuple[bytes, ...]]
"""A transaction's bytes and the program hashes of its referenced outputs."""


class _Owner:
    """The part of a referenced output the signature rules read."""

    __slots__ = ("program_hash",)

    def __init__(self, program_hash: bytes) -> None:
        self.program_hash = program_hash


def to_wire(items: Sequence[Item]) -> list[Wire]:
    return [(tx.encode(), tuple(o.program_hash for o in refs)) for tx, refs in items]


def _check_wire_chunk(items: Sequence[Wire]) -> list[Verdict]:
    out: list[Verdict] = []
    for raw, owners in items:
        r = Reader(raw)
        tx, unsigned = Transaction.deserialize_with_unsigned(r)
        try:
            check_signatures(tx, [_Owner(o) for o in owners], unsigned)  # type: ignore[misc]
        except Reject as e:
            out.append((e.reason.value, e.rule, str(e)))
        else:
            out.append(None)
    return out


def check_one(tx: Transaction, references: Sequence[Output]) -> Verdict:
    """The spec's verdict on one transaction's signatures."""
    try:
        check_signatures(tx, references)
    except Reject as e:
        return (e.reason.value, e.rule, str(e))
    return None


def _check_chunk(items: Sequence[Item]) -> list[Verdict]:
    return [check_one(tx, refs) for tx, refs in items]


def check_serial(items: Sequence[Item]) -> list[Verdict]:
    """Every transaction checked in this process, in order."""
    return _check_chunk(items)


def _chunks(items: Sequence[Item], n: int) -> list[Sequence[Item]]:
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(items[start:end])
        start = end
    return out


class ParallelChecker:
    """A pool of ``workers`` processes checking signatures; reuse it across blocks (``with`` closes it)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._pool = ProcessPoolExecutor(max_workers=workers)
        list(self._pool.map(_check_chunk, [[] for _ in range(workers)]))  # start the workers now

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        """Verdicts for ``items`` (decoded transactions and their referenced outputs) in order.

        The transactions are pickled with their memo of unsigned bytes, so a worker does not
        serialise them again."""
        out: list[Verdict] = []
        for part in self._pool.map(_check_chunk, _chunks(list(items), self.workers)):
            out.extend(part)
        return out

    def check_wire(self, items: Sequence[Wire]) -> list[Verdict]:
        """Verdicts for transactions given as bytes (what a node holds after reading a block)."""
        out: list[Verdict] = []
        for part in self._pool.map(_check_wire_chunk, _chunks(list(items), self.workers)):
            out.extend(part)
        return out

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> ParallelChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_parallel(items: Sequence[Item], workers: int) -> list[Verdict]:
    """Verdicts for ``items`` with a fresh pool of ``workers`` processes."""
    with ParallelChecker(workers) as pc:
        return pc.check(items)


__all__ = ["ParallelChecker", "Verdict", "check_one", "check_parallel", "check_serial"]


def check_forked(items: Sequence[Item], workers: int) -> list[Verdict]:
    """Verdicts for ``items`` in order, from ``workers`` processes forked for this one batch.

    Nothing is pickled on the way in: each child is a copy of this process and reads ``items``
    from memory; only the verdicts come back, through a pipe. This process works too. The
    processes take chunks of :data:`FORK_CHUNK` transactions from a counter in shared memory, so
    the work balances itself. Where ``os.fork`` is missing, or for a batch too small to share,
    the check is serial. A child only computes and leaves with ``os._exit``, so the threads of the
    parent (a node's peers) are never touched in it. Verdicts a child delivered whole are used without
    waiting for its exit (the teardown of a copy of this process); it is reaped, without blocking, by
    this or a later call. A child that delivers nothing or a torn write is waited for, and the batch is
    checked serially.
    """
    n = len(items)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers == 1 or n < 2 * workers or not hasattr(os, "fork"):
        return check_serial(items)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection in either process would copy the whole shared heap page by page
    try:
        return _fork_and_check(items, workers)
    finally:
        if gc_was_enabled:
            gc.enable()


FORK_CHUNK = 25
"""Transactions a process takes at a time from the shared queue of :func:`check_forked`."""


def _take_chunks(items: Sequence[Item], counter: mmap.mmap, lock: Any) -> list[tuple[int, list[Verdict]]]:
    """Check chunks taken from the shared counter until none is left; returns (start, verdicts) pairs."""
    done = []
    while True:
        with lock:
            start = int.from_bytes(counter[:8], "little")
            counter[:8] = (start + FORK_CHUNK).to_bytes(8, "little")
        if start >= len(items):
            return done
        done.append((start, _check_chunk(items[start:start + FORK_CHUNK])))


_UNREAPED: list[int] = []
"""Children of :func:`check_forked` that delivered their verdicts and may not have exited yet."""


def _reap() -> None:
    """Collect the children of earlier batches that have exited (never blocks)."""
    for pid in list(_UNREAPED):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # already collected (a caller waiting for any child)
            done = pid
        if done:
            _UNREAPED.remove(pid)


def _fork_and_check(items: Sequence[Item], workers: int) -> list[Verdict]:
    # Work is shared dynamically: every process takes the next chunk from a counter in shared
    # memory, so a process slowed by copy-on-write faults or the scheduler simply takes fewer.
    counter = mmap.mmap(-1, 8)
    lock = multiprocessing.get_context("fork").Lock()
    children: list[tuple[int, int]] = []
    for _ in range(workers - 1):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: check chunks, send the verdicts, leave
            status = 1
            try:
                os.close(read_end)
                data = pickle.dumps(_take_chunks(items, counter, lock))
                with os.fdopen(write_end, "wb") as f:
                    f.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end))
    parts = _take_chunks(items, counter, lock)
    failed = False
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as f:
            data = f.read()
        try:
            got = pickle.loads(data) if data else None
        except (pickle.UnpicklingError, EOFError, ValueError):
            got = None
        if got is None:  # nothing, or a torn write: the child died (out of memory, killed)
            os.waitpid(pid, 0)
            failed = True
            continue
        # The child wrote all its verdicts and closed the pipe; its exit (tearing down a copy of this
        # process) need not be waited for: it is reaped at the next call, or at once if already gone.
        _UNREAPED.append(pid)
        parts.extend(got)
    _reap()
    if failed:  # a child died: check everything here instead
        return check_serial(items)
    out: list[Verdict] = []
    for _, verdicts in sorted(parts, key=lambda p: p[0]):
        out.extend(verdicts)
    return out
