"""The runtime's view of Carrier: a small interface, and an in-process loopback implementation.

The runtime needs two operations: send bytes from one DID to another, and take the messages waiting
for a DID. :class:`reference.runtime.carrier_node.NodeCarrier` implements the same interface on a real
Carrier node; the loopback carrier delivers between runtimes of one process and is what the unit
tests and the plain demo use.
Who may talk to whom is not the carrier's business: the runtime checks every outbound call with
:func:`spec.runtime.hostcalls.decide` and every inbound message with
:func:`spec.runtime.hostcalls.admit_inbound`.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Protocol

__all__ = ["Carrier", "LoopbackCarrier"]


class Carrier(Protocol):
    """What the runtime needs of Carrier."""

    def send(self, from_did: str, to_did: str, data: bytes) -> None:
        """Queue ``data`` from ``from_did`` to ``to_did``."""

    def receive(self, did: str) -> list[tuple[str, bytes]]:
        """Take every message waiting for ``did``: ``(from_did, data)`` in arrival order."""


class LoopbackCarrier:
    """In-process delivery: a queue per DID, bounded so that a flood cannot exhaust the host."""

    def __init__(self, max_queue: int = 1024) -> None:
        self._queues: dict[str, deque[tuple[str, bytes]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.max_queue = max_queue
        self.dropped = 0

    def send(self, from_did: str, to_did: str, data: bytes) -> None:
        with self._lock:
            q = self._queues[to_did]
            if len(q) >= self.max_queue:
                self.dropped += 1
                return
            q.append((from_did, bytes(data)))

    def receive(self, did: str) -> list[tuple[str, bytes]]:
        with self._lock:
            q = self._queues.pop(did, deque())
        return list(q)
