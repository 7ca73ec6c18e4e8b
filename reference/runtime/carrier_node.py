"""The runtime's Carrier interface backed by a real Carrier node (:mod:`reference.carrier.node`).

:class:`NodeCarrier` runs one :class:`~reference.carrier.node.CarrierNode` on its own asyncio loop
in a background thread and offers the runtime's synchronous interface
(:class:`reference.runtime.carrier.Carrier`): ``send(from_did, to_did, data)`` and
``receive(did)``. The node speaks for one DID, the user's (its DID document lists the node's
``CarrierAddress``, and every session proves the binding: :mod:`spec.carrier.binding`), so one node
serves one runtime.

Two layers check every message, each with its own rules:

* the **runtime** decides before anything is handed over (:func:`spec.runtime.hostcalls.decide`:
  the peer DID is canonical, resolves, is valid and not deactivated, and is one of the user's
  friends) and admits every inbound message (:func:`spec.runtime.hostcalls.admit_inbound`);
* the **node** sends only to a Carrier friend (:func:`spec.carrier.friends.require_friend`), over
  a Noise IK session whose peer proved its DID binding, and reports as sender the DID that the
  session (or, for a message fetched from the relay, the friendship) established.

The runtime's friends are the DIDs of the node's friends (:meth:`NodeCarrier.friend_dids`): a peer
becomes one only through a completed friend request and accept between the two nodes. A peer DID
is turned into a node id by resolving its document and reading its ``CarrierAddress`` services.

``send`` queues: messages go out in order on one outbound task, and the outcome of each
(``delivered``, ``relayed``, or the error) is kept in :attr:`NodeCarrier.outcomes`; :meth:`flush`
waits until the queue is empty. A queue beyond ``max_queue`` drops, as the loopback carrier does.

A message for a friend who cannot be reached goes to the node's relay (``relayed``); the friend's
node fetches it with :meth:`NodeCarrier.pull_relay`. A relayed message carries no session, so its
sender's DID is the one the friend's session proved earlier: the map from node ids to DIDs is kept
beside the node's state file (``<state>.dids.json``) and survives a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did.syntax import parse_did
from spec.errors import Reject

from reference.carrier.node import CarrierNode, NodeConfig, RelayNode

__all__ = ["NodeCarrier"]

T = TypeVar("T")
CALL_TIMEOUT = 15.0


class NodeCarrier:
    """A Carrier node on a background loop, behind the runtime's ``send`` / ``receive``."""

    def __init__(self, cfg: NodeConfig, resolve: B.CarrierResolver, *, clock: Callable[[], float] | None = None,
                 max_queue: int = 1024, relay: bool = False) -> None:
        self.cfg = cfg
        self.did = cfg.did
        self.resolve = resolve
        self.max_queue = max_queue
        self.dropped = 0
        self.outcomes: list[tuple[str, str]] = []
        """``(peer DID, "delivered" | "relayed" | error)`` of every message sent, in order."""
        self.events: list[dict[str, Any]] = []
        """Every node event other than messages (friend requests, friends added or removed, invites)."""
        self._inbox: deque[tuple[str, bytes]] = deque()
        self._dids: dict[bytes, str] = self._load_dids()
        """Node id -> the DID its session binding proved (kept beside the node's state file)."""
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"carrier-{cfg.name}", daemon=True)
        self._thread.start()
        kw = {} if clock is None else {"clock": clock}
        kind = RelayNode if relay else CarrierNode
        try:
            self.node: CarrierNode = self._call(self._make(lambda: kind(cfg, resolve, **kw)))
        except BaseException:
            self._end_loop()
            raise
        self._outbox: asyncio.Queue[tuple[str, bytes, bytes]] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- the DIDs of peers, across restarts ----------------------------------------------------------

    @property
    def _dids_file(self) -> Path | None:
        state = self.cfg.state_file
        return None if state is None else state.with_name(state.stem + ".dids.json")

    def _load_dids(self) -> dict[bytes, str]:
        path = self._dids_file
        if path is None or not path.is_file():
            return {}
        return {bytes.fromhex(k): v for k, v in json.loads(path.read_text()).items()}

    def _save_dids(self) -> None:
        """Write the map atomically (called with the lock held)."""
        path = self._dids_file
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k.hex(): v for k, v in sorted(self._dids.items())}))
        os.replace(tmp, path)

    # -- the loop -------------------------------------------------------------------------------------

    @staticmethod
    async def _make(factory: Callable[[], T]) -> T:
        return factory()  # built on the node's own loop, where its queues live

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> NodeCarrier:
        """Bind the node's sockets (UDP DHT, TCP sessions) and start the event and outbound tasks."""

        async def go() -> None:
            await self.node.start()
            self._outbox = asyncio.Queue()
            self._tasks = [asyncio.ensure_future(self._pump_events()), asyncio.ensure_future(self._pump_outbox())]

        self._call(go())
        return self

    def stop(self) -> None:
        """Close the node and end the loop thread."""

        async def go() -> None:
            for t in self._tasks:
                t.cancel()
            await self.node.stop()

        try:
            self._call(go())
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> NodeCarrier:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _pump_events(self) -> None:
        while True:
            ev = await self.node.events.get()
            peer = ev.get("peer")
            with self._lock:
                if "did" in ev and isinstance(peer, bytes) and self._dids.get(peer) != ev["did"]:
                    self._dids[peer] = ev["did"]  # proved by the session's DID binding
                    self._save_dids()
                sender = (ev.get("did") or self._dids.get(peer)) if isinstance(peer, bytes) else None
            if ev["event"] == "message":
                if sender is None:
                    continue  # a relayed message from a friend whose DID this node never saw
                with self._lock:
                    if len(self._inbox) >= self.max_queue:
                        self.dropped += 1
                        continue
                    self._inbox.append((sender, bytes(ev["data"])))
            else:
                with self._lock:
                    self.events.append(ev)

    async def _pump_outbox(self) -> None:
        assert self._outbox is not None
        while True:
            to_did, peer, data = await self._outbox.get()
            try:
                outcome = await self.node.send_message(peer, data)
            except (Reject, ConnectionError, OSError, asyncio.TimeoutError) as e:
                outcome = e.reason.value if isinstance(e, Reject) else type(e).__name__
            with self._lock:
                self.outcomes.append((to_did, outcome))
            self._outbox.task_done()

    # -- DIDs and friends -----------------------------------------------------------------------------

    def addresses_of(self, did: str) -> list[str]:
        """The Carrier addresses a DID's document names in its ``CarrierAddress`` services (none if the
        DID does not resolve valid)."""
        status, doc = self.resolve(parse_did(did))
        if status != 0 or doc is None:
            return []
        out = []
        for s in doc.services:
            if s.type == B.SERVICE_TYPE and s.endpoint.startswith(B.SCHEME):
                try:
                    I.parse_address(s.endpoint[len(B.SCHEME):])
                except Reject:
                    continue
                out.append(s.endpoint[len(B.SCHEME):])
        return out

    def add_friend(self, did: str, hello: str = "hello") -> None:
        """Send a friend request to the node the DID's document names."""
        addresses = self.addresses_of(did)
        if not addresses:
            raise LookupError(f"{did} names no Carrier address")
        self._call(self.node.add_friend(addresses[0], hello))

    def requests(self) -> list[str]:
        """DIDs of the peers whose friend requests wait for an answer."""
        pending = {p for p, st in self.node.friends.peers if st != "friend"}
        with self._lock:
            return [e["did"] for e in self.events if e["event"] == "friend_request" and e["peer"] in pending]

    def accept(self, did: str) -> None:
        """Accept the friend request that came from ``did`` (proved by its session binding)."""
        with self._lock:
            known_dids = list(self._dids.items())
        for peer, known in known_dids:
            if known == did and self.node.friends.state(peer) is not None:
                self._call(self.node.accept_friend(peer))
                return
        raise LookupError(f"no friend request from {did}")

    def friend_dids(self) -> frozenset[str]:
        """The DIDs of this node's friends (mutual friendships whose peers proved their DIDs)."""
        with self._lock:
            dids = dict(self._dids)
        return frozenset(dids[p] for p, st in self.node.friends.peers if st == "friend" and p in dids)

    # -- the runtime's interface ----------------------------------------------------------------------

    def send(self, from_did: str, to_did: str, data: bytes) -> None:
        """Queue ``data`` for the friend ``to_did``; the node speaks only for its own DID."""
        if from_did != self.did:
            raise ValueError(f"this node speaks for {self.did}, not {from_did}")
        with self._lock:
            peers = [p for p, d in self._dids.items() if d == to_did and self.node.friends.state(p) == "friend"]
        if not peers:
            with self._lock:
                self.outcomes.append((to_did, "no friend node"))
            return
        assert self._outbox is not None
        if self._outbox.qsize() >= self.max_queue:
            self.dropped += 1
            return
        self._loop.call_soon_threadsafe(self._outbox.put_nowait, (to_did, peers[0], bytes(data)))

    def receive(self, did: str) -> list[tuple[str, bytes]]:
        """Take the messages that arrived for ``did`` (this node's DID): ``(sender DID, data)``."""
        if did != self.did:
            return []
        with self._lock:
            out = list(self._inbox)
            self._inbox.clear()
        return out

    def flush(self, timeout: float = CALL_TIMEOUT) -> None:
        """Wait until every queued message has been sent (or has failed)."""
        assert self._outbox is not None
        outbox = self._outbox

        async def drained() -> None:
            await outbox.join()

        self._call(drained(), timeout)

    def announce(self) -> None:
        """Announce the node's session port in the DHT (after the peers it bootstraps from are up)."""
        self._call(self.node.announce())

    def pull_relay(self) -> int:
        """Fetch offline messages from the relay (the node's ``pull``)."""
        return self._call(self.node.pull_relay())
