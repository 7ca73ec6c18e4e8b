"""Bodies copied and hashed at once, by the vault (an upload) and by the client (a download).

A body is read from a socket in pieces and written to a file; every piece is also hashed (SHA-256, and the
CIDv0 leaves of a public file). Hashing is the slowest of these (SHA-256 runs at 1.6 to 1.75 GB/s on a core
with SHA extensions over bytes in its cache, 1.1 to 1.25 GB/s over bytes out of it; a copy within the kernel
at several GB/s), and ``hashlib`` releases the GIL while it hashes a large piece, so :func:`copy_hashed` runs
each hash on a thread of its own: piece *n* is hashed there (by every hash at once) while piece *n + 1* is
read and written here. A few buffers circulate between the threads, so the body is never held whole and each
hash sees the pieces in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

PIECE = 1 << 20
"""Bytes per buffer: one read fills at most this much."""
BUFFERS = 4
"""Buffers circulating between the reading thread and the hashing threads."""
THREADED_MIN = 4 << 20
"""A body at least this large is hashed on other threads; a smaller one is hashed as it is read (threads
would cost more than they save)."""

Update = Callable[[memoryview], Any]


class _Piece:
    """A buffer, how many bytes of it are filled, and how many hashes have still to see it."""

    __slots__ = ("buf", "n", "users", "lock")

    def __init__(self, size: int) -> None:
        self.buf, self.n, self.users, self.lock = bytearray(size), 0, 0, threading.Lock()


def copy_hashed(read: Callable[[memoryview], int], write: Callable[[memoryview], Any], size: int,
                hashes: Sequence[Update] = (), *, written: Callable[[int], None] | None = None,
                piece: int = PIECE) -> int:
    """Copy ``size`` bytes from ``read`` (``readinto``-like: fills the start of a view, returns how many
    bytes, 0 at the end of the stream) to ``write`` (``write``-like: returns how many bytes it took, or
    ``None`` for all), handing every piece to each of ``hashes`` (``update`` methods), each on a thread of
    its own. ``written`` is told the total after each write. Returns how many bytes were copied: fewer
    than ``size`` when the stream ended first (what arrived is written and hashed; the caller decides what
    a short body means). An exception of a hash is raised here once the copy stops."""
    if not hashes or size < THREADED_MIN:
        return _copy_inline(read, write, size, hashes, written, piece)
    free: queue.Queue[_Piece] = queue.Queue()
    for _ in range(BUFFERS):
        free.put(_Piece(min(piece, size)))
    inboxes: list[queue.Queue[_Piece | None]] = [queue.Queue() for _ in hashes]
    failed: list[BaseException] = []

    def hasher(update: Update, inbox: queue.Queue[_Piece | None]) -> None:
        while (p := inbox.get()) is not None:
            if not failed:
                try:
                    update(memoryview(p.buf)[:p.n])
                except BaseException as e:  # noqa: BLE001 - raised on the copying thread
                    failed.append(e)
            with p.lock:
                p.users -= 1
                last = p.users == 0
            if last:
                free.put(p)

    workers = [threading.Thread(target=hasher, args=(u, q), name="hash", daemon=True) for u, q in zip(hashes, inboxes)]
    for w in workers:
        w.start()
    done = 0
    try:
        while done < size and not failed:
            p = free.get()
            view = memoryview(p.buf)
            n = read(view[:min(size - done, len(p.buf))])
            if not n:
                free.put(p)
                break
            _write_all(write, view[:n])
            p.n, p.users = n, len(hashes)
            for q in inboxes:
                q.put(p)
            done += n
            if written is not None:
                written(done)
    finally:
        for q in inboxes:
            q.put(None)
        for w in workers:
            w.join()
    if failed:
        raise failed[0]
    return done


def _write_all(write: Callable[[memoryview], Any], view: memoryview) -> None:
    m = 0
    while m < len(view):
        k = write(view[m:])
        m = len(view) if k is None else m + k


def _copy_inline(read: Callable[[memoryview], int], write: Callable[[memoryview], Any], size: int,
                 hashes: Sequence[Update], written: Callable[[int], None] | None, piece: int) -> int:
    """:func:`copy_hashed` on one thread."""
    buf = bytearray(min(piece, max(size, 1)))
    view = memoryview(buf)
    done = 0
    while done < size:
        n = read(view[:min(size - done, len(buf))])
        if not n:
            break
        _write_all(write, view[:n])
        for update in hashes:
            update(view[:n])
        done += n
        if written is not None:
            written(done)
    return done


__all__ = ["BUFFERS", "PIECE", "THREADED_MIN", "copy_hashed"]
