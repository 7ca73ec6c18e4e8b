"""The runtime's Carrier interface (:class:`reference.runtime.carrier.Carrier`) on an ``elastos carrier
node`` process: commands go to the node's stdin as JSON lines, and its answers and events are read back
from its log (one JSON object a line, :mod:`reference.carrier.service`).

The node speaks for one DID (its ``key.json`` holds the DID's key), resolves every peer's DID from the
ID sidechain (``--idchain``), and reports for each friend request, friendship and message the DID the
session's binding proved. The runtime's friends are the DIDs of the node's completed friendships
(:meth:`ProcessCarrier.friend_dids`), as with the in-process :class:`reference.runtime.carrier_node.NodeCarrier`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import Any

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did import chain
from spec.did.document import Document
from spec.did.syntax import DID, parse_did
from spec.errors import Reject

from reference.devnet.procs import Proc

__all__ = ["ProcessCarrier", "carrier_addresses"]


def carrier_addresses(resolve: Any, did: str) -> list[str]:
    """The Carrier addresses ``did``'s document names (``CarrierAddress`` services), resolved with
    ``resolve(DID) -> (status, document)``; none if it does not resolve valid."""
    status, doc = resolve(parse_did(did))
    if status != chain.STATUS_VALID or doc is None:
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


class ProcessCarrier:
    """One Carrier node process, driven over its stdin, read from its log."""

    def __init__(self, proc: Proc, did: str, resolve: Any, timeout: float = 20.0) -> None:
        self.proc = proc
        self.did = did
        self.resolve = resolve  # (DID) -> (status, Document | None): the ID sidechain
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self.outcomes: list[tuple[str, str]] = []
        self._answers: deque[dict[str, Any]] = deque()
        self._inbox: deque[tuple[str, bytes]] = deque()
        self._peers: dict[str, str] = {}   # node id (base58) -> DID its session proved
        self._friends: set[str] = set()    # node ids of completed friendships
        self._cond = threading.Condition()
        self._cmd = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"carrier-log-{proc.name}", daemon=True)
        self._reader.start()

    # -- the log ----------------------------------------------------------------------------------------

    def _read(self) -> None:
        with open(self.proc.log, "rb") as f:
            f.readline()  # the node's first line (ids, address, ports)
            buf = b""
            while not self._stop.is_set():
                chunk = f.readline()
                if not chunk:
                    time.sleep(0.01)
                    continue
                buf += chunk
                if not buf.endswith(b"\n"):
                    continue
                line, buf = buf.decode("utf-8", "replace").strip(), b""
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a traceback or other log text
                if isinstance(obj, dict):
                    self._take(obj)

    def _take(self, obj: dict[str, Any]) -> None:
        with self._cond:
            if "event" not in obj:
                self._answers.append(obj)
            else:
                ev, peer, did = obj["event"], obj.get("peer"), obj.get("did")
                if isinstance(peer, str) and isinstance(did, str):
                    self._peers[peer] = did
                if ev == "friend_added" and isinstance(peer, str):
                    self._friends.add(peer)
                elif ev == "friend_removed" and isinstance(peer, str):
                    self._friends.discard(peer)
                if ev == "message":
                    sender = did if isinstance(did, str) else self._peers.get(str(peer))
                    if sender is not None:
                        self._inbox.append((sender, str(obj.get("data", "")).encode("utf-8")))
                else:
                    self.events.append(obj)
            self._cond.notify_all()

    def close(self) -> None:
        self._stop.set()

    def command(self, **cmd: Any) -> Any:
        """Send one command; its answer (raises :class:`RuntimeError` with the node's reason on an error)."""
        with self._cmd:
            stdin = self.proc.popen.stdin
            assert stdin is not None
            stdin.write((json.dumps(cmd) + "\n").encode())
            stdin.flush()
            with self._cond:
                if not self._cond.wait_for(lambda: bool(self._answers), self.timeout):
                    raise TimeoutError(f"{self.proc.name}: no answer to {cmd['cmd']}")
                answer = self._answers.popleft()
        if "error" in answer:
            raise RuntimeError(f"{answer['error']}: {answer.get('detail', '')}")
        return answer["ok"]

    def wait(self, predicate: Any, timeout: float | None = None) -> bool:
        """Poll ``predicate`` (which may send commands) until it holds or ``timeout`` passes."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not predicate():
            if time.monotonic() > end:
                return False
            with self._cond:
                self._cond.wait(0.05)
        return True

    # -- friends by DID ------------------------------------------------------------------------------------

    def add_friend(self, did: str, hello: str = "hello") -> str:
        """A friend request to the node that ``did``'s document (on the ID sidechain) names; its address."""
        addresses = carrier_addresses(self.resolve, did)
        if not addresses:
            raise LookupError(f"{did} names no Carrier address on the ID sidechain")
        self.command(cmd="add_friend", address=addresses[0], hello=hello)
        return addresses[0]

    def requests(self) -> list[str]:
        with self._cond:
            return [e["did"] for e in self.events if e["event"] == "friend_request" and "did" in e
                    and e.get("peer") not in self._friends]

    def accept(self, did: str) -> None:
        with self._cond:
            peers = [p for p, d in self._peers.items() if d == did]
        if not peers:
            raise LookupError(f"no friend request from {did}")
        self.command(cmd="accept", peer=peers[0])

    def friend_dids(self) -> frozenset[str]:
        """The DIDs of the node's completed friendships, asked of the node (``friends``), each named by the
        DID its session binding proved."""
        states = self.command(cmd="friends")
        with self._cond:
            self._friends = {p for p, st in states if st == "friend"}
            return frozenset(self._peers[p] for p in self._friends if p in self._peers)

    # -- the runtime's interface -------------------------------------------------------------------------

    def send(self, from_did: str, to_did: str, data: bytes) -> None:
        if from_did != self.did:
            raise ValueError(f"this node speaks for {self.did}, not {from_did}")
        with self._cond:
            peers = [p for p in self._friends if self._peers.get(p) == to_did]
        if not peers:
            self.outcomes.append((to_did, "no friend node"))
            return
        try:
            outcome = str(self.command(cmd="send", peer=peers[0], text=data.decode("utf-8")))
        except (RuntimeError, TimeoutError, UnicodeDecodeError) as e:
            outcome = str(e)
        self.outcomes.append((to_did, outcome))

    def receive(self, did: str) -> list[tuple[str, bytes]]:
        if did != self.did:
            return []
        with self._cond:
            out = list(self._inbox)
            self._inbox.clear()
        return out

    def pending(self) -> int:
        with self._cond:
            return len(self._inbox)


def sidechain_resolver(url: str) -> Any:
    """``(DID) -> (status, document)`` from the ID sidechain's DID JSON-RPC, each history checked with the
    spec (:class:`reference.carrier.service.ChainResolver`), answers kept one second."""
    from reference.carrier.service import ChainResolver

    return ChainResolver(url, ttl=1.0)


def runtime_resolver(chain_resolve: Any) -> Any:
    """The runtime's resolver (``DID -> ResolvedDid | None``) over a ``(status, document)`` resolver."""
    from spec.runtime.identity import ResolvedDid

    def resolve(did: DID) -> ResolvedDid | None:
        status, doc = chain_resolve(did)
        if doc is None:
            return None
        return ResolvedDid(document=doc, deactivated=status == chain.STATUS_DEACTIVATED)

    return resolve


def document_text(doc: Document) -> str:
    from spec.did.document import normalized

    return normalized(doc)

