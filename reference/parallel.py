"""Parallel signature checking of a block's transactions.

The rule stays the spec's: every transaction is checked by
:func:`spec.chain.validation.check_signatures` (TXC-010, TXC-011, TXC-012 and the script and
signature rules it runs). A verdict is ``None`` for a transaction whose signatures pass, or
``(reason, rule, detail)`` of the :class:`~spec.errors.Reject` the spec raised (:func:`reject_of` makes it
again); the verdicts come
back in block order, exactly as :func:`check_serial` returns them.

Two ways:

* :class:`ParallelChecker` keeps ``workers - 1`` worker processes, started once with the ``spawn``
  method (so it is safe in a process with threads, such as a node), and this process works too. For
  each batch this process computes what :func:`spec.chain.validation.check_signatures` needs before
  its costly part (the unsigned bytes, :func:`~spec.chain.validation.tx_program_hashes`), which is
  cheap, and sends only those bytes and the programs to the workers; the costly part,
  :func:`spec.chain.validation.check_programs`, runs everywhere. The processes share the batch through
  two counters in shared memory: this process takes chunks from the front, the workers from the back,
  so the work balances itself. A worker that dies costs only the batch it was on, which is then
  checked here, and it is replaced.
* :func:`check_forked` forks the workers for each batch, so the transactions reach them through the
  copied memory and only verdicts are sent back. Every process then pays copy-on-write faults for
  the interpreter's pages and the batch's objects it touches, several microseconds each on a virtual
  machine, so it gains less than the pool; it needs no process started beforehand.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import pickle
import threading
from collections.abc import Sequence
from typing import Any

from spec.chain.tx import Output, Transaction
from spec.chain.validation import check_programs, check_signatures, tx_program_hashes
from spec.errors import Reason, Reject

Verdict = tuple[str, str, str] | None
Item = tuple[Transaction, Sequence[Output]]
Job = tuple[bytes, list[bytes], tuple[tuple[bytes, bytes], ...]]
"""What :func:`spec.chain.validation.check_programs` reads of one transaction: its unsigned bytes, its
program hashes, and its programs as (parameter, code) pairs."""

POOL_CHUNK = 8
"""Transactions a process of :class:`ParallelChecker` takes at a time from the shared counters."""


class _Program:
    """A program as :func:`spec.chain.validation.check_programs` reads it."""

    __slots__ = ("parameter", "code")

    def __init__(self, parameter: bytes, code: bytes) -> None:
        self.parameter = parameter
        self.code = code


def _verdict(e: Reject) -> Verdict:
    return (e.reason.value, e.rule or "", e.detail)


def reject_of(verdict: tuple[str, str, str]) -> Reject:
    """The :class:`~spec.errors.Reject` a verdict records (the one the spec raised)."""
    reason, rule_id, detail = verdict
    return Reject(Reason(reason), rule_id or None, detail)


def check_one(tx: Transaction, references: Sequence[Output]) -> Verdict:
    """The spec's verdict on one transaction's signatures."""
    try:
        check_signatures(tx, references)
    except Reject as e:
        return _verdict(e)
    return None


def _check_chunk(items: Sequence[Item]) -> list[Verdict]:
    return [check_one(tx, refs) for tx, refs in items]


def check_serial(items: Sequence[Item]) -> list[Verdict]:
    """Every transaction checked in this process, in order."""
    return _check_chunk(items)


def _job(tx: Transaction, references: Sequence[Output]) -> Job:
    """The inputs of :func:`~spec.chain.validation.check_programs` for one transaction (may raise the
    spec's TXC-010 for a malformed Script attribute, exactly where :func:`check_signatures` would)."""
    return (tx.serialize_unsigned(), tx_program_hashes(tx, references),
            tuple((p.parameter, p.code) for p in tx.programs))


def _run_jobs(jobs: Sequence[Job]) -> list[Verdict]:
    out: list[Verdict] = []
    for message, hashes, programs in jobs:
        try:
            check_programs(message, hashes, [_Program(p, c) for p, c in programs])
        except Reject as e:
            out.append(_verdict(e))
        else:
            out.append(None)
    return out


START_TIMEOUT = 60.0
"""Seconds a new worker of :class:`ParallelChecker` has to import the spec and say it is ready."""

LOCK_TIMEOUT = 2.0
"""Seconds :class:`ParallelChecker` waits for the counters' lock (held for microseconds) before it
takes the holder for a worker that died holding it."""


class _LockLost(Exception):
    """The counters' lock was not released: a worker died holding it."""


def _take(bounds: Any, lock: Any, from_back: bool) -> tuple[int, int] | None:
    """The next chunk of the shared batch, ``(start, end)``: from its front (this process) or its back (the
    workers), or None when the two ends have met."""
    if not lock.acquire(timeout=LOCK_TIMEOUT):
        raise _LockLost
    try:
        front, back = bounds[0], bounds[1]
        if front >= back:
            return None
        if from_back:
            span = max(front, back - POOL_CHUNK), back
            bounds[1] = span[0]
        else:
            span = front, min(back, front + POOL_CHUNK)
            bounds[0] = span[1]
    finally:
        lock.release()
    return span


def _serve(conn: Any, bounds: Any, lock: Any) -> None:
    """A worker of :class:`ParallelChecker`: for each batch received, check chunks from the back of it
    until none is left and send back (start, verdicts) pairs; leave when the pipe closes."""
    conn.send_bytes(b"ready")  # the spec is imported: the checker may count on this worker
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        jobs: list[Job] = pickle.loads(data)
        done = []
        try:
            while (span := _take(bounds, lock, from_back=True)) is not None:
                start, end = span
                done.append((start, _run_jobs(jobs[start:end])))
        except _LockLost:  # another worker died holding the lock: the checker starts a new pool
            return
        conn.send_bytes(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))


class ParallelChecker:
    """``workers`` processes checking signatures: this one and ``workers - 1`` started now and kept.

    Reuse it across blocks (``with`` closes it). :meth:`check` may be called from several threads;
    batches are checked one at a time.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._ctx = multiprocessing.get_context("spawn")
        self._batch = threading.Lock()
        self._procs: list[tuple[Any, Any]] = []
        self.replaced = 0
        """Workers that died and were started again."""
        self.last_by_workers = 0
        """Transactions of the last shared batch that the workers checked."""
        self._open()

    def _open(self) -> None:
        self._bounds = self._ctx.RawArray("q", 2)
        self._lock = self._ctx.Lock()
        self._procs = [self._start() for _ in range(self.workers - 1)]

    def _start(self) -> tuple[Any, Any]:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, self._bounds, self._lock), daemon=True,
                                 name="elastos-sigcheck")
        proc.start()
        child.close()
        try:
            ready = parent.poll(START_TIMEOUT) and parent.recv_bytes() == b"ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            proc.kill()
            proc.join()
            raise RuntimeError(f"a signature-checking worker did not start within {START_TIMEOUT} s")
        return proc, parent

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        """Verdicts for ``items`` (decoded transactions and their referenced outputs), in order."""
        with self._batch:
            return self._check(items)

    def _check(self, items: Sequence[Item]) -> list[Verdict]:
        verdicts: list[Verdict] = [None] * len(items)
        where: list[int] = []
        jobs: list[Job] = []
        for i, (tx, refs) in enumerate(items):
            try:
                jobs.append(_job(tx, refs))
            except Reject as e:
                verdicts[i] = _verdict(e)
            else:
                where.append(i)
        if not self._procs or len(jobs) < 2 * POOL_CHUNK:
            for i, v in zip(where, _run_jobs(jobs)):
                verdicts[i] = v
            return verdicts
        try:
            parts = self._share(jobs)
        except _LockLost:  # a worker died holding the counters' lock: start the pool afresh
            self._reopen()
            parts = None
        if parts is None:  # a worker died mid-batch: its chunks are lost, so check the batch here
            self._replace_dead()
            parts = [(0, _run_jobs(jobs))]
        results: list[Verdict] = []
        for _, got in sorted(parts, key=lambda p: p[0]):
            results.extend(got)
        if len(results) != len(jobs):
            raise RuntimeError(f"parallel check returned {len(results)} verdicts for {len(jobs)} transactions")
        for i, v in zip(where, results):
            verdicts[i] = v
        return verdicts

    def _share(self, jobs: list[Job]) -> list[tuple[int, list[Verdict]]] | None:
        """(start, verdicts) pairs covering ``jobs``, checked here and by the workers; ``None`` if a
        worker failed to answer whole."""
        if not self._lock.acquire(timeout=LOCK_TIMEOUT):
            raise _LockLost
        self._bounds[0], self._bounds[1] = 0, len(jobs)
        self._lock.release()
        data = pickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL)
        sent = []
        for _, conn in self._procs:
            try:
                conn.send_bytes(data)
            except OSError:
                continue
            sent.append(conn)
        parts: list[tuple[int, list[Verdict]]] = []
        while (span := _take(self._bounds, self._lock, from_back=False)) is not None:
            start, end = span
            parts.append((start, _run_jobs(jobs[start:end])))
        failed = len(sent) < len(self._procs)
        by_workers = 0
        for conn in sent:
            try:
                got = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                failed = True
                continue
            parts.extend(got)
            by_workers += sum(len(v) for _, v in got)
        self.last_by_workers = by_workers
        return None if failed else parts

    def _reopen(self) -> None:
        self.replaced += len(self._procs)
        self.close()
        self._open()

    def _replace_dead(self) -> None:
        alive = []
        for proc, conn in self._procs:
            if proc.is_alive():
                alive.append((proc, conn))
                continue
            conn.close()
            proc.join()
            alive.append(self._start())
            self.replaced += 1
        self._procs = alive

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids."""
        return [proc.pid for proc, _ in self._procs]

    def close(self) -> None:
        for proc, conn in self._procs:
            conn.close()
        for proc, _ in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._procs = []

    def __enter__(self) -> ParallelChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_parallel(items: Sequence[Item], workers: int) -> list[Verdict]:
    """Verdicts for ``items`` with a fresh pool of ``workers`` processes."""
    with ParallelChecker(workers) as pc:
        return pc.check(items)


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


__all__ = ["ParallelChecker", "Verdict", "check_forked", "check_one", "check_parallel", "check_serial",
           "reject_of"]
