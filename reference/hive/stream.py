"""Bodies copied and hashed at once, by the vault (an upload) and by the client (a download).

A body is read from a socket in pieces and written to a file; every piece is also hashed (SHA-256, and the
CIDv0 leaves of a public file). Hashing is the slowest of the three (SHA-256 runs at about 1 GB/s on a
core with SHA extensions, a copy within the kernel at several), and ``hashlib`` releases the GIL while it
hashes a large piece, so :func:`copy_hashed` hashes on a second thread: piece *n* is hashed there while
piece *n + 1* is read and written here. A few buffers circulate between the two threads, so the body is
never held whole and the hash sees the pieces in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

PIECE = 1 << 20
"""Bytes per buffer: one read fills at most this much."""
BUFFERS = 4
"""Buffers circulating between the reading and the hashing thread."""
THREADED_MIN = 4 << 20
"""A body at least this large is hashed on a second thread; a smaller one is hashed as it is read (a thread
would cost more than it saves)."""


def copy_hashed(read: Callable[[memoryview], int], write: Callable[[memoryview], Any], size: int,
                update: Callable[[memoryview], None] | None, *, written: Callable[[int], None] | None = None,
                piece: int = PIECE) -> int:
    """Copy ``size`` bytes from ``read`` (``readinto``-like: fills the start of a view, returns how many
    bytes, 0 at the end of the stream) to ``write`` (``write``-like: returns how many bytes it took, or
    ``None`` for all), handing every piece to ``update`` on a second thread. ``written`` is told the total
    after each write. Returns how many bytes were copied: fewer than ``size`` when the stream ended first
    (what arrived is written and hashed; the caller decides what a short body means). An exception of
    ``update`` is raised here once the copy stops."""
    if update is None or size < THREADED_MIN:
        return _copy_inline(read, write, size, update, written, piece)
    free: queue.Queue[bytearray] = queue.Queue()
    full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
    for _ in range(BUFFERS):
        free.put(bytearray(min(piece, max(size, 1))))
    failed: list[BaseException] = []

    def hasher() -> None:
        while (item := full.get()) is not None:
            buf, n = item
            if not failed:
                try:
                    update(memoryview(buf)[:n])
                except BaseException as e:  # noqa: BLE001 - raised on the copying thread
                    failed.append(e)
            free.put(buf)

    worker = threading.Thread(target=hasher, name="hash", daemon=True)
    worker.start()
    done = 0
    try:
        while done < size and not failed:
            buf = free.get()
            view = memoryview(buf)
            n = read(view[:min(size - done, len(buf))])
            if not n:
                free.put(buf)
                break
            m = 0
            while m < n:
                k = write(view[m:n])
                m = n if k is None else m + k
            full.put((buf, n))
            done += n
            if written is not None:
                written(done)
    finally:
        full.put(None)
        worker.join()
    if failed:
        raise failed[0]
    return done


def _copy_inline(read: Callable[[memoryview], int], write: Callable[[memoryview], Any], size: int,
                 update: Callable[[memoryview], None] | None, written: Callable[[int], None] | None,
                 piece: int) -> int:
    """:func:`copy_hashed` on one thread."""
    buf = bytearray(min(piece, max(size, 1)))
    view = memoryview(buf)
    done = 0
    while done < size:
        n = read(view[:min(size - done, len(buf))])
        if not n:
            break
        m = 0
        while m < n:
            k = write(view[m:n])
            m = n if k is None else m + k
        if update is not None:
            update(view[:n])
        done += n
        if written is not None:
            written(done)
    return done


__all__ = ["BUFFERS", "PIECE", "THREADED_MIN", "copy_hashed"]
