"""Stopping a serving process on SIGTERM or SIGINT, safely.

A Python signal handler runs in the main thread between two bytecodes, wherever that thread is, even
while it holds a lock. ``threading.Event.wait`` holds the Event's own lock around its wait, so the
handler ``lambda *a: stop.set()``, with the main thread in ``stop.wait(...)``, can block on that lock
for good. A node stopped with SIGTERM once hung this way: the handler installed, the signal taken,
and the main thread asleep on a lock. :class:`StopFlag` takes no lock in its handler. The handler
stores a flag, and :meth:`StopFlag.wait` sleeps in short steps, checking it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterable

STEP = 0.05
"""Seconds a waiter sleeps between two looks at the flag: how late a stop can be seen."""


class StopFlag:
    """A stop request, set by :meth:`set` or by one of ``signals`` (SIGTERM and SIGINT by default; handlers
    installed at once, so create it in the main thread). It has the part of ``threading.Event``'s API that
    a serving loop uses: :meth:`set`, :meth:`is_set` and :meth:`wait`."""

    def __init__(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> None:
        self._set = False
        for s in signals:
            signal.signal(s, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._set = True  # an attribute store: no lock the interrupted main thread could hold

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until the flag is set or ``timeout`` seconds have passed; whether it is set."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            left = STEP if end is None else min(STEP, end - time.monotonic())
            if left <= 0:
                break
            time.sleep(left)
        return self._set


__all__ = ["STEP", "StopFlag"]
