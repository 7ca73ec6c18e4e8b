"""A reference Carrier node: the DHT over UDP, sessions over TCP, on asyncio.

Every rule is the spec's (:mod:`spec.carrier`): this module adds sockets, timers, randomness and
bookkeeping. What the node does:

* **DHT** (UDP): every datagram is :func:`spec.carrier.dht.seal_packet` with a fresh random nonce;
  received datagrams go through :func:`~spec.carrier.dht.open_packet` and the node's
  :class:`~spec.carrier.dht.NonceCache`; senders enter the :mod:`spec.carrier.routing` table.
  It answers ``ping``, ``find_node``, ``announce_peer`` (a node announces its own session port),
  ``find_peer``, ``store_value`` and ``find_value`` (values checked by :mod:`spec.carrier.dht`); it
  bootstraps from a node list and looks peers and values up iteratively.
* **Sessions** (TCP): ``Noise_IK`` towards a node id (the dialler always knows it), each message
  and transport frame written as ``length (u32 BE) || bytes``. Both sides verify the peer's DID
  binding through the resolver (:func:`spec.carrier.session.accept_peer`) before anything else.
  A session's connection is an asyncio protocol (:class:`Connection`): once the handshake is done,
  the frames a socket read brought are opened and their packets handled in the callback that
  received them, with no task between the socket and the spec.
* **Friends**: requests, accepts, removals, messages (bulk above 1024 bytes), invites and receipts,
  all through :mod:`spec.carrier.friends`; received events are put on :attr:`CarrierNode.events`.
* **Offline delivery**: a message for a friend who cannot be reached is sealed for the friend
  (``nonce || crypto_box``) and stored on the relay; a node pulls its mailbox, opens what its
  friends sealed, and deletes what it has. A store the relay refuses comes back at once as a
  ``relay_refused`` naming the store, which the sender raises as a typed :class:`~spec.errors.Reject`
  with the relay's reason (:func:`spec.carrier.relay.store_result`); only a relay that answers
  nothing leaves the sender to time out.

A packet that breaks a rule is dropped with its reason counted in :attr:`CarrierNode.rejected`;
a session whose frames fail is closed. The node stays up.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import json
import logging
import os
import socket
import struct
import time
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nacl import bindings as sodium
from nacl.exceptions import CryptoError

from spec.carrier import binding as B
from spec.carrier import dht as D
from spec.carrier import friends as F
from spec.carrier import identity as I
from spec.carrier import messages as M
from spec.carrier import noise as N
from spec.carrier import relay as R
from spec.carrier import routing as T
from spec.carrier import session as S
from spec.encoding.cbor import cbor_encode
from spec.errors import DecodeError, Reason, Reject

log = logging.getLogger("elastos.carrier")

RPC_TIMEOUT = 2.0
CONNECT_TIMEOUT = 5.0
MAX_FRAME = S.COUNTER_SIZE + N.MAX_MESSAGE
VERSION = 1
LOOKUP_ROUNDS = 20
RELAY_RECEIPT = -2
"""Key of the one relay store awaiting its receipt (stores are serialized)."""


@dataclass
class NodeConfig:
    seed: bytes
    nospam: bytes
    did: str
    did_private_key: bytes
    host: str = "127.0.0.1"
    udp_port: int = 0
    tcp_port: int = 0
    bootstrap: list[tuple[bytes, str, int]] = field(default_factory=list)
    relay: tuple[bytes, str, int] | None = None
    """The relay's node id, host and session port."""
    name: str = ""
    description: str = ""
    binding_lifetime: int = 7 * 86400
    state_file: Path | None = None
    """Where the node keeps its friends (and a relay its mailboxes) across restarts; None: in memory."""


@dataclass
class Session:
    peer: bytes
    did: str
    conn: Connection
    send: S.TransportState
    recv: S.TransportState
    transport: asyncio.Transport
    """The connection's transport (kept here: the data path reads it for every packet)."""


SEND_BATCH_BYTES = 256 * 1024
"""Bytes of frames sealed and written together when a bulk message is sent (then the sender waits
if the connection's buffer is above its high-water mark)."""
DRAIN_ABOVE = 64 * 1024
"""Bytes buffered by a connection above which a sender waits (asyncio's high-water mark)."""
PAUSE_READING_ABOVE = 1 << 20
"""Bytes buffered by a connection above which it stops reading (answers its peer does not read)."""


def _record(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _split_frames(rest: bytes, data: bytes) -> tuple[list[bytes | memoryview], bytes]:
    """The whole ``length || frame`` records in ``rest + data`` and what follows them. A record
    that lies within ``data`` is a view of it (not copied); one begun in ``rest`` is joined once."""
    frames: list[bytes | memoryview] = []
    if rest:
        if len(rest) < 4:
            data, rest = rest + data, b""
        else:
            (n,) = struct.unpack_from(">I", rest)
            if n > MAX_FRAME:
                raise Reject(Reason.TRANSPORT_FRAME_MALFORMED, "CAR-017", f"{n}-byte frame announced")
            need = 4 + n - len(rest)
            if len(data) < need:
                return frames, rest + data
            frames.append(rest[4:] + data[:need])
            data = data[need:] if need else data
    view, pos, size = memoryview(data), 0, len(data)
    while size - pos >= 4:
        (n,) = struct.unpack_from(">I", data, pos)
        if n > MAX_FRAME:
            raise Reject(Reason.TRANSPORT_FRAME_MALFORMED, "CAR-017", f"{n}-byte frame announced")
        if size - pos - 4 < n:
            break
        frames.append(view[pos + 4:pos + 4 + n])
        pos += 4 + n
    return frames, bytes(view[pos:]) if pos < size else b""


class Deadlines:
    """Futures that fail with :class:`TimeoutError` when their time is up, kept in one heap under
    one timer: a timer of its own per message (``asyncio.timeout``) cost more than the rest of the
    message's bookkeeping. Futures that are done are dropped from the top of the heap as new ones
    come (with equal timeouts that is all of them), or at the latest when their time is up."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, asyncio.Future[Any]]] = []
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, fut: asyncio.Future[Any], timeout: float) -> None:
        loop = fut.get_loop()
        when = loop.time() + timeout
        heap = self._heap
        while heap and heap[0][2].done():  # answered: forgotten now, not at its deadline
            heapq.heappop(heap)
        self._count += 1
        heapq.heappush(heap, (when, self._count, fut))
        if self._timer is None or when < self._timer.when():
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(when, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        heap = self._heap
        while heap and (heap[0][2].done() or heap[0][0] <= now):
            fut = heapq.heappop(heap)[2]
            if not fut.done():
                fut.set_exception(TimeoutError("no answer in time"))
        if heap:
            self._timer = loop.call_at(heap[0][0], self._expire, loop)


class Connection(asyncio.Protocol):
    """One session's TCP connection. Records (``length u32 BE || bytes``) are cut from the stream
    as it arrives; the handshake awaits them one at a time (:meth:`record`), and once the session is
    open (:meth:`start`) its frames are handed to the node in the callback that received them.
    Writing is flow-controlled: :meth:`drain` waits while the buffer is above the high-water mark."""

    def __init__(self, node: CarrierNode, incoming: bool) -> None:
        self.node = node
        self.incoming = incoming
        self.transport: asyncio.Transport | None = None
        self.rest = b""
        self.records: collections.deque[bytes | memoryview] = collections.deque()
        self.error: Exception | None = None
        self.session: Session | None = None
        self.lost = False
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reading_paused = False
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=DRAIN_ABOVE)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # frames are written whole: no Nagle delay between them
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.incoming:
            self.task = asyncio.ensure_future(self.node._incoming(self))

    def data_received(self, data: bytes) -> None:
        try:
            frames, self.rest = _split_frames(self.rest, data)
        except Reject as e:
            self.rest = b""
            if self.session is not None:  # a frame that fails ends the session
                self.node._reject(e, "frame")
                self.node._close(self.session)
            else:
                self.error = e
                self._wake()
            assert self.transport is not None
            self.transport.close()
            return
        if self.session is None:
            self.records.extend(frames)
            self._wake()
        elif frames:
            self.node._received(self.session, frames)
            assert self.transport is not None
            if (self._writable is not None and not self._reading_paused
                    and self.transport.get_write_buffer_size() > PAUSE_READING_ABOVE):
                self._reading_paused = True  # until the peer reads what it was sent
                self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        if self.session is not None:
            self.node._close(self.session)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        fut, self._writable = self._writable, None
        if fut is not None and not fut.done():
            fut.set_result(None)
        if self._reading_paused and self.transport is not None and not self.lost:
            self._reading_paused = False
            self.transport.resume_reading()

    @property
    def paused(self) -> bool:
        """True while the buffer is above the high-water mark: a sender should :meth:`drain`."""
        return self._writable is not None

    async def drain(self) -> None:
        if self._writable is not None:
            await self._writable
        if self.lost:
            raise ConnectionResetError("the session is closed")

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def record(self, timeout: float) -> bytes:
        """The next whole record of the handshake."""
        async with asyncio.timeout(timeout):
            while not self.records:
                if self.error is not None:
                    raise self.error
                if self.lost:
                    raise ConnectionResetError("the connection closed during the handshake")
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
        return bytes(self.records.popleft())

    def start(self, s: Session) -> None:
        """The handshake is done: frames from now on (and any that came with its last message) go to ``s``."""
        self.session = s
        if self.records:
            frames = list(self.records)
            self.records.clear()
            self.node._received(s, frames)
        if self.lost:
            self.node._close(s)


class CarrierNode:
    """One node; :meth:`start` binds its sockets, :meth:`stop` closes them."""

    def __init__(self, cfg: NodeConfig, resolve: B.CarrierResolver, clock: Callable[[], float] = time.time) -> None:
        self.cfg = cfg
        self.resolve = resolve
        self.clock = clock
        self.node_id = I.node_id_of(cfg.seed)
        self.address = I.make_address(self.node_id, cfg.nospam)
        self._x_private = I.x25519_private_of(cfg.seed)
        self.table = T.new_table(self.node_id, self.now())
        self.contacts: dict[bytes, tuple[str, int]] = {}
        self.peers: dict[bytes, tuple[str, int]] = {}
        self.nonces = D.NonceCache()
        self.values = D.ValueStore()
        self.friends = F.Friends(self_id=self.node_id, nospam=cfg.nospam)
        self.bulk = F.Bulk()
        self.invites = F.Invites()
        self.sessions: dict[bytes, Session] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.rejected: collections.Counter[str] = collections.Counter()
        self.relay_seen = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._receipts: dict[tuple[bytes, int], asyncio.Future[None]] = {}
        self._invite_replies: dict[tuple[bytes, int], asyncio.Future[dict[str, Any]]] = {}
        self._deadlines = Deadlines()
        self._txid = int.from_bytes(os.urandom(4), "big")
        self._msgid = int.from_bytes(os.urandom(4), "big")
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connecting: dict[bytes, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._relay_lock = asyncio.Lock()
        self._relay_store_id: int | None = None
        """The id of the one relay store awaiting its answer (stores are serialized)."""
        self.binding = self._make_binding()
        self._load()

    # -- state kept across restarts -------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {"friends": [[p.hex(), st] for p, st in self.friends.peers], "relay_seen": self.relay_seen}

    def _restore(self, d: dict[str, Any]) -> None:
        self.friends = F.Friends(self_id=self.node_id, nospam=self.cfg.nospam,
                                 peers=tuple((bytes.fromhex(p), st) for p, st in d["friends"]))
        self.relay_seen = int(d["relay_seen"])

    def _load(self) -> None:
        path = self.cfg.state_file
        if path is not None and path.is_file():
            self._restore(json.loads(path.read_text()))

    def save(self) -> None:
        """Write the state (atomically: a crash leaves the old or the new file, never half of one)."""
        path = self.cfg.state_file
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state()))
        os.replace(tmp, path)

    # -- basics ---------------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def _make_binding(self) -> B.Binding:
        now = self.now()
        return B.sign_binding(self.cfg.did, self.address, f"{self.cfg.did}#primary", now - 60,
                              now + self.cfg.binding_lifetime, self.cfg.did_private_key, self.cfg.seed)

    @property
    def udp_port(self) -> int:
        assert self._udp is not None
        return self._udp.get_extra_info("sockname")[1]

    @property
    def tcp_port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def _reject(self, e: Reject, where: str) -> None:
        self.rejected[e.reason.value] += 1
        log.info("%s dropped: %s", where, e)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(self.cfg.host, self.cfg.udp_port))
        self._server = await loop.create_server(lambda: Connection(self, True), self.cfg.host, self.cfg.tcp_port)
        for node_id, host, port in self.cfg.bootstrap:
            self._heard(node_id, host, port)
        if self.cfg.bootstrap:
            await self.bootstrap()

    async def stop(self) -> None:
        for s in list(self.sessions.values()):
            self._close(s)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._udp is not None:
            self._udp.close()
        for fut in self._pending.values():
            fut.cancel()

    # -- DHT ------------------------------------------------------------------------------------

    def _heard(self, node_id: bytes, host: str, port: int) -> None:
        if node_id == self.node_id:
            return
        self.contacts[node_id] = (host, port)
        self.table, _ = T.insert(self.table, node_id, self.now())

    def _send_dht(self, node_id: bytes, host: str, port: int, message: dict[str, Any]) -> None:
        assert self._udp is not None
        packet = D.seal_packet(self.cfg.seed, node_id, os.urandom(D.NONCE_SIZE), M.encode_message("dht", message))
        self._udp.sendto(packet, (host, port))

    async def rpc(self, node_id: bytes, method: int, body: dict[str, Any]) -> dict[str, Any] | None:
        """One request; the response body, or None on timeout or error."""
        host, port = self.contacts[node_id]
        self._txid = (self._txid + 1) & M.U32
        txid = self._txid
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[txid] = fut
        try:
            self._send_dht(node_id, host, port, {"y": 0x20 | method, "t": txid, "v": VERSION, "q": body})
            reply = await asyncio.wait_for(fut, RPC_TIMEOUT)
        except (asyncio.TimeoutError, Reject, OSError):
            self.table = T.node_failed(self.table, node_id, self.now())
            return None
        finally:
            self._pending.pop(txid, None)
        return reply.get("r")

    def _datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            sender, nonce, kind, msg = D.open_packet(self.cfg.seed, data)
            self.nonces = D.remember_nonce(self.nonces, sender, nonce)
            self._heard(sender, addr[0], addr[1])
        except Reject as e:
            self._reject(e, "datagram")
            return
        if kind.startswith("dht.request."):
            try:
                reply = self._answer(sender, addr, kind.rsplit(".", 1)[1], msg["q"])
            except Reject as e:
                self._reject(e, "request")
                reply_err = {"y": msg["y"] & 0x1F, "t": msg["t"], "v": VERSION, "e": {"c": 203, "m": e.reason.value}}
                self._send_dht(sender, addr[0], addr[1], reply_err)
                return
            self._send_dht(sender, addr[0], addr[1], {"y": 0x40 | (msg["y"] & 0x1F), "t": msg["t"], "v": VERSION, "r": reply})
        else:
            fut = self._pending.get(msg["t"])
            if fut is not None and not fut.done():
                fut.set_result(msg)

    def _nodes(self, target: bytes) -> list[list[Any]]:
        out = []
        for x in T.closest(self.table, target):
            host, port = self.contacts[x]
            out.append([x, bytes(int(p) for p in host.split(".")), port])
        return out

    def _answer(self, sender: bytes, addr: tuple[str, int], method: str, q: dict[str, Any]) -> dict[str, Any]:
        if method == "find_node":
            return {"n4": self._nodes(q["t"])}
        if method == "announce_peer":
            D.check_announce(sender, q)
            self.peers[sender] = (addr[0], q["p"])
            return {}
        if method == "store_value":
            self.values = D.store_value(self.values, value_from_body(q), q.get("cas"))
            return {}
        if method == "find_value":
            v = self.values.get(q["t"])
            return value_to_body(v) if v is not None else {"n4": self._nodes(q["t"])}
        if method == "find_peer":
            if q["t"] in self.peers:
                host, port = self.peers[q["t"]]
                return {"p": [[q["t"], bytes(int(p) for p in host.split(".")), port]]}
            return {"n4": self._nodes(q["t"])}
        return {}

    def _learn(self, nodes: list[list[Any]]) -> tuple[bytes, ...]:
        ids = []
        for node_id, ip, port in nodes:
            if node_id != self.node_id and len(ip) == 4:
                self.contacts.setdefault(node_id, (".".join(str(b) for b in ip), port))
                ids.append(node_id)
        return tuple(ids)

    async def lookup(self, target: bytes, method: int = 2) -> tuple[T.Lookup, dict[str, Any] | None]:
        """An iterative lookup (find_node, or find_peer which stops at the first peer list)."""
        lk = T.start_lookup(self.table, target)
        for _ in range(LOOKUP_ROUNDS):
            if T.lookup_done(lk):
                break
            lk, ask = T.next_queries(lk)
            if not ask:
                break
            replies = await asyncio.gather(*(self.rpc(x, method, {"t": target, "w": 1}) for x in ask))
            for x, r in zip(ask, replies):
                if r is None:
                    lk = T.lookup_failed(lk, x)
                    continue
                if "p" in r:
                    return lk, r
                self._heard(x, *self.contacts[x])
                lk = T.lookup_response(lk, x, self._learn(r.get("n4", [])))
        return lk, None

    async def bootstrap(self) -> None:
        await self.lookup(self.node_id)
        await self.announce()

    async def announce(self) -> None:
        lk, _ = await self.lookup(self.node_id)
        targets = set(T.lookup_result(lk)) | set(T.closest(self.table, self.node_id))
        body = D.sign_announce(self.cfg.seed, self.tcp_port, 0)
        await asyncio.gather(*(self.rpc(x, 3, body) for x in targets))

    async def put_value(self, v: D.Value, cas: int | None = None) -> int:
        """Store a value on the k nodes closest to its id; returns how many accepted it."""
        vid = D.check_value(v)
        lk, _ = await self.lookup(vid)
        body = {"tok": 0, **value_to_body(v), **({} if cas is None else {"cas": cas})}
        replies = await asyncio.gather(*(self.rpc(x, 5, body) for x in T.lookup_result(lk)))
        return sum(1 for r in replies if r is not None)

    async def get_value(self, vid: bytes) -> D.Value | None:
        """Look a value up by id; a value that is not the one asked for, or not signed, is ignored."""
        lk = T.start_lookup(self.table, vid)
        for _ in range(LOOKUP_ROUNDS):
            lk, ask = T.next_queries(lk)
            if not ask:
                return None
            for x, r in zip(ask, await asyncio.gather(*(self.rpc(x, 6, {"t": vid, "w": 1}) for x in ask))):
                if r is None:
                    lk = T.lookup_failed(lk, x)
                elif "v" in r:
                    try:
                        v = value_from_body(r)
                        D.check_value(v, vid)
                        return v
                    except Reject as e:
                        self._reject(e, "value")
                        lk = T.lookup_failed(lk, x)
                else:
                    lk = T.lookup_response(lk, x, self._learn(r.get("n4", [])))
        return None

    async def find_peer(self, node_id: bytes) -> tuple[str, int] | None:
        if node_id in self.peers:
            return self.peers[node_id]
        _, found = await self.lookup(node_id, method=4)
        if found is None:
            return None
        for pid, ip, port in found["p"]:
            if pid == node_id:
                self.peers[pid] = (".".join(str(b) for b in ip), port)
                return self.peers[pid]
        return None

    # -- sessions -------------------------------------------------------------------------------

    async def connect(self, peer: bytes, where: tuple[str, int] | None = None) -> Session:
        """The session with ``peer``, opened (IK) if there is none."""
        s = self.sessions.get(peer)
        if s is not None:
            return s
        async with self._connecting[peer]:
            if peer in self.sessions:
                return self.sessions[peer]
            where = where or await self.find_peer(peer)
            if where is None:
                raise ConnectionError("peer not found in the DHT")
            loop = asyncio.get_running_loop()
            _, conn = await asyncio.wait_for(loop.create_connection(lambda: Connection(self, False), *where), CONNECT_TIMEOUT)
            assert conn.transport is not None
            try:
                hs = S.start_handshake("IK", True, self.cfg.seed, os.urandom(32), peer)
                hs, m1 = N.write_message(hs, S.binding_payload(self.binding))
                conn.transport.write(_record(m1))
                hs, payload = N.read_message(hs, await conn.record(CONNECT_TIMEOUT))
                b = S.accept_peer(hs, payload, self.resolve, self.now(), expected_node=peer)
            except (Reject, asyncio.TimeoutError, OSError) as e:
                conn.transport.close()
                if isinstance(e, Reject):
                    self._reject(e, "handshake")
                raise ConnectionError(f"handshake with peer failed: {e}") from e
            return self._open(hs, peer, b.did, conn)

    def _open(self, hs: N.HandshakeState, peer: bytes, did: str, conn: Connection) -> Session:
        send, recv = S.transport_pair(hs)
        assert conn.transport is not None
        s = Session(peer=peer, did=did, conn=conn, send=send, recv=recv, transport=conn.transport)
        self.sessions[peer] = s  # an older session with the peer keeps reading until it closes
        conn.start(s)
        return s

    async def _incoming(self, conn: Connection) -> None:
        assert conn.transport is not None
        try:
            hs = S.start_handshake("IK", False, self.cfg.seed, os.urandom(32))
            hs, payload = N.read_message(hs, await conn.record(CONNECT_TIMEOUT))
            b = S.accept_peer(hs, payload, self.resolve, self.now())
            hs, m2 = N.write_message(hs, S.binding_payload(self.binding))
            conn.transport.write(_record(m2))
        except (Reject, asyncio.TimeoutError, OSError) as e:
            if isinstance(e, Reject):
                self._reject(e, "handshake")
            conn.transport.close()
            return
        peer = I.parse_address(b.address)[0]
        self._open(hs, peer, b.did, conn)

    def _close(self, s: Session) -> None:
        if self.sessions.get(s.peer) is s:
            del self.sessions[s.peer]
            # what waits for this peer's answer learns now that it will not come on this session
            for key in [k for k in (*self._receipts, *self._invite_replies) if k[0] == s.peer]:
                fut = self._receipts.pop(key, None) or self._invite_replies.pop(key, None)
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectionError("the session closed before the peer answered"))
        s.transport.close()

    async def send_packet(self, s: Session, value: dict[str, Any]) -> None:
        if self._write(s, [M.encode_message("session", value)]):
            await s.conn.drain()

    def _send(self, s: Session, value: dict[str, Any]) -> None:
        """Send a packet from a callback (an answer): written now, not waited for; a connection whose
        buffer grows above :data:`PAUSE_READING_ABOVE` stops reading until its peer reads."""
        self._write(s, [M.encode_message("session", value)])

    async def send_encoded(self, s: Session, packets: list[bytes]) -> None:
        """Send encoded session packets in order, about :data:`SEND_BATCH_BYTES` at a time."""
        at = 0
        while at < len(packets):
            end, size = at, 0
            while end < len(packets) and (end == at or size + len(packets[end]) <= SEND_BATCH_BYTES):
                size += len(packets[end])
                end += 1
            if self._write(s, packets[at:end]):
                await s.conn.drain()
            at = end

    @staticmethod
    def _write(s: Session, packets: list[bytes]) -> bool:
        """Seal and write packets with no await in between, so frames reach the socket in counter
        order without a lock; True when the connection's buffer is above the high-water mark and the
        sender should drain it (flow control)."""
        t = s.transport
        if t.is_closing():
            raise ConnectionResetError("the session is closed")
        s.send, frames = S.seal_frames(s.send, packets)
        if len(frames) == 1:
            t.write(_record(frames[0]))
        else:
            t.write(b"".join([x for f in frames for x in (struct.pack(">I", len(f)), f)]))
        return s.conn._writable is not None  # paused: above the high-water mark

    def _snapshot(self) -> tuple[Any, ...]:
        """What :meth:`save` writes, compared by identity (the spec's states are immutable values)."""
        return (self.friends, self.relay_seen)

    def _received(self, s: Session, frames: list[bytes | memoryview]) -> None:
        """Open the frames that arrived together and dispatch their packets in order (consecutive
        bulk chunks in one step). A refused packet is dropped; a refused frame ends the session (its
        stream can no longer be trusted), as does a connection that fails while answering."""
        before = self._snapshot()
        try:
            s.recv, plaintexts, error = S.open_frames(s.recv, frames)
            bulk: list[dict[str, Any]] = []
            for data in plaintexts:
                try:
                    kind, packet = M.decode_message("session", data)
                    if kind == "session.bulk":
                        bulk.append(packet)
                        continue
                    if bulk:
                        self._bulk(s, bulk)
                        bulk = []
                    self._dispatch(s, kind[8:], packet)  # without "session."
                except Reject as e:
                    self._reject(e, "packet")
                    if isinstance(e, DecodeError):
                        self._undecodable(s, data, e)
            if bulk:
                self._bulk(s, bulk)
            if error is not None:
                self._reject(error, "frame")
                self._close(s)
        except (ConnectionError, OSError):
            self._close(s)
        finally:
            if self._snapshot() != before:
                self.save()

    # -- the friend layer -----------------------------------------------------------------------

    def _dispatch(self, s: Session, kind: str, p: dict[str, Any]) -> None:
        peer = s.peer
        if kind == "message":
            F.require_friend(self.friends, peer)
            self.events.put_nowait({"event": "message", "peer": peer, "did": s.did, "data": p["msg"], "offline": False})
            self._write(s, [M.encode_receipt(p["id"])])
        elif kind == "receipt":
            fut = self._receipts.pop((peer, p["id"]), None) or self._receipts.pop((peer, RELAY_RECEIPT), None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif kind == "friend_request":
            before = self.friends.state(peer)
            self.friends = F.receive_request(self.friends, peer, p["nospam"])
            if self.friends.state(peer) == "friend" and before != "friend":
                self.events.put_nowait({"event": "friend_added", "peer": peer, "did": s.did})
            elif before is None:
                self.events.put_nowait({"event": "friend_request", "peer": peer, "did": s.did, "name": p["name"],
                                       "hello": p["hello"]})
        elif kind == "friend_accept":
            before = self.friends.state(peer)
            self.friends = F.receive_accept(self.friends, peer)
            if before != "friend":
                self.events.put_nowait({"event": "friend_added", "peer": peer, "did": s.did})
        elif kind == "friend_remove":
            self.friends = F.remove(self.friends, peer)
            self.events.put_nowait({"event": "friend_removed", "peer": peer})
        elif kind == "bulk":
            self._bulk(s, [p])
        elif kind == "invite_request":
            F.require_friend(self.friends, peer)
            self.events.put_nowait({"event": "invite", "peer": peer, "tid": p["tid"], "data": p["data"],
                                   "bundle": p.get("bundle")})
        elif kind == "invite_response":
            self.invites = F.receive_invite_response(self.invites, peer, p["tid"])
            reply = self._invite_replies.pop((peer, p["tid"]), None)
            if reply is not None and not reply.done():
                reply.set_result(p)
        else:
            self._dispatch_relay(s, kind, p)

    def _bulk(self, s: Session, packets: list[dict[str, Any]]) -> None:
        """Consecutive bulk chunks from one peer, as many single chunks would be taken."""
        try:
            F.require_friend(self.friends, s.peer)
        except Reject as e:
            for _ in packets:
                self._reject(e, "packet")
            return
        now = self.now()
        self.bulk = F.bulk_expire(self.bulk, now)
        self.bulk, results = F.bulk_chunks(self.bulk, s.peer, [(p["tid"], p["total"], p["data"]) for p in packets], now)
        for p, r in zip(packets, results):
            if isinstance(r, Reject):
                self._reject(r, "packet")
            elif r is not None:
                self.events.put_nowait({"event": "message", "peer": s.peer, "did": s.did, "data": r, "offline": False})
                self._write(s, [M.encode_receipt(p["tid"])])

    def _undecodable(self, s: Session, data: bytes, e: DecodeError) -> None:
        """A plain node answers no packet that does not decode (a relay answers a store it can name)."""

    def _dispatch_relay(self, s: Session, kind: str, p: dict[str, Any]) -> None:
        """A plain node takes only relay_items and relay_refused, and only from its relay."""
        if self.cfg.relay is None or s.peer != self.cfg.relay[0]:
            return
        if kind == "relay_items":
            fut = self._pending.get(-1)
            if fut is not None and not fut.done():
                fut.set_result(p)
        elif kind == "relay_refused" and self._relay_store_id is not None:
            waiting = self._receipts.get((s.peer, RELAY_RECEIPT))
            try:
                R.store_result(self._relay_store_id, "relay_refused", p)
            except Reject as e:  # the refusal of the store awaiting its answer
                if waiting is not None and not waiting.done():
                    waiting.set_exception(e)

    async def add_friend(self, address: str, hello: str) -> None:
        peer, nospam = I.parse_address(address)
        self.friends = F.send_request(self.friends, peer)
        self.save()
        try:
            s = await self.connect(peer)
            await self.send_packet(s, {"type": 6, "name": self.cfg.name, "descr": self.cfg.description,
                                       "hello": hello, "nospam": nospam})
        except (ConnectionError, OSError, asyncio.TimeoutError):
            self.friends = F.remove(self.friends, peer)
            self.save()
            raise

    async def accept_friend(self, peer: bytes) -> None:
        self.friends = F.accept(self.friends, peer)
        self.save()
        await self.send_packet(await self.connect(peer), {"type": 8})

    async def remove_friend(self, peer: bytes) -> None:
        self.friends = F.remove(self.friends, peer)
        self.save()
        s = self.sessions.get(peer)
        if s is not None:
            await self.send_packet(s, {"type": 7})

    async def send_message(self, peer: bytes, data: bytes, timeout: float = 10.0) -> str:
        """Send to a friend: ``"delivered"`` (the friend's receipt) or ``"relayed"`` (the relay's)."""
        F.require_friend(self.friends, peer)
        self._msgid = (self._msgid + 1) & M.U64
        msgid = self._msgid
        s = self.sessions.get(peer)
        if s is None:
            try:
                s = await self.connect(peer)
            except (ConnectionError, OSError, asyncio.TimeoutError):
                await self._relay_store(peer, data)
                return "relayed"
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key = (peer, msgid)
        self._receipts[key] = fut
        try:
            if len(data) <= M.MAX_MESSAGE:
                if self._write(s, [M.encode_session_message(msgid, data)]):
                    await s.conn.drain()
            else:
                await self.send_encoded(s, M.encode_bulk(msgid, data))
            self._deadlines.add(fut, timeout)  # the receipt is awaited for ``timeout`` seconds
            await fut
        finally:
            self._receipts.pop(key, None)
            if fut.done() and not fut.cancelled():
                fut.exception()  # seen here, even when the write failed first
        return "delivered"

    async def invite(self, peer: bytes, data: bytes, bundle: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        F.require_friend(self.friends, peer)
        self._msgid = (self._msgid + 1) & M.U64
        tid = self._msgid
        self.invites = F.send_invite(self.invites, peer, tid)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._invite_replies[(peer, tid)] = fut
        packet: dict[str, Any] = {"type": 34, "tid": tid, "data": data}
        if bundle is not None:
            packet["bundle"] = bundle
        await self.send_packet(await self.connect(peer), packet)
        return await asyncio.wait_for(fut, timeout)

    async def reply_invite(self, peer: bytes, tid: int, status: int, data: bytes = b"", reason: str | None = None) -> None:
        F.require_friend(self.friends, peer)
        packet: dict[str, Any] = {"type": 35, "tid": tid, "status": status, "data": data}
        if reason is not None:
            packet["reason"] = reason
        await self.send_packet(await self.connect(peer), packet)

    # -- offline delivery -----------------------------------------------------------------------

    def _seal_for(self, peer: bytes, packet: dict[str, Any]) -> bytes:
        nonce = os.urandom(24)
        return nonce + sodium.crypto_box(M.encode_message("session", packet), nonce, I.x25519_public_of(peer), self._x_private)

    def _open_from(self, sender: bytes, blob: bytes) -> bytes:
        try:
            return sodium.crypto_box_open(blob[24:], blob[:24], I.x25519_public_of(sender), self._x_private)
        except CryptoError:
            raise Reject(Reason.DHT_PACKET_DECRYPT, "CAR-041", "sealed blob does not open") from None

    async def _relay_session(self) -> Session:
        if self.cfg.relay is None:
            raise ConnectionError("no relay configured")
        relay_id, host, port = self.cfg.relay
        return await self.connect(relay_id, (host, port))

    async def _relay_store(self, peer: bytes, data: bytes) -> None:
        if len(data) > M.MAX_MESSAGE:
            raise ConnectionError("the friend is offline, and the relay carries messages of up to 1024 bytes")
        s = await self._relay_session()
        self._msgid = (self._msgid + 1) & M.U64
        blob = self._seal_for(peer, {"type": 33, "id": self._msgid, "msg": data})
        self._msgid = (self._msgid + 1) & M.U64
        store_id = self._msgid
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._relay_lock:
            key = (s.peer, RELAY_RECEIPT)
            self._receipts[key], self._relay_store_id = fut, store_id
            try:
                await self.send_packet(s, {"type": 64, "id": store_id, "to": peer, "blob": blob})
                # the relay's receipt, or its relay_refused raised here as a Reject; silence times out
                await asyncio.wait_for(fut, RPC_TIMEOUT * 3)
            finally:
                self._relay_store_id = None
                if self._receipts.get(key) is fut:
                    del self._receipts[key]

    async def pull_relay(self) -> int:
        """Fetch the mailbox, deliver what friends sealed, delete what was taken; returns the count."""
        s = await self._relay_session()
        delivered = 0
        while True:
            items = await self._relay_pull_once(s)
            delivered += await self._take(s, items)
            if len(items) < M.RELAY_MAX_ITEMS:
                return delivered

    async def _relay_pull_once(self, s: Session) -> list[list[Any]]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[-1] = fut
        try:
            await self.send_packet(s, {"type": 65, "after": self.relay_seen})
            return (await asyncio.wait_for(fut, RPC_TIMEOUT * 3))["items"]
        finally:
            self._pending.pop(-1, None)

    async def _take(self, s: Session, items: list[list[Any]]) -> int:
        delivered = 0
        for seq, sender, _stored, blob in items:
            try:
                F.require_friend(self.friends, sender)
                kind, p = M.decode_message("session", self._open_from(sender, blob))
                if kind != "session.message":
                    raise Reject(Reason.CARRIER_MSG_UNKNOWN_TYPE, "CAR-031", f"{kind} in a relay blob")
                self.events.put_nowait({"event": "message", "peer": sender, "data": p["msg"], "offline": True})
                delivered += 1
            except Reject as e:
                self._reject(e, "relay item")
            self.relay_seen = max(self.relay_seen, seq)
        self.save()
        if items:
            await self.send_packet(s, {"type": 66, "until": self.relay_seen})
        return delivered


def value_from_body(b: dict[str, Any]) -> D.Value:
    if "k" in b:
        return D.Value(data=b["v"], public_key=b["k"], nonce=b["n"], seq=b["seq"], signature=b["sig"], recipient=b.get("rec"))
    return D.Value(data=b["v"])


def value_to_body(v: D.Value) -> dict[str, Any]:
    if not v.mutable:
        return {"v": v.data}
    body = {"v": v.data, "k": v.public_key, "n": v.nonce, "seq": v.seq, "sig": v.signature}
    return body if v.recipient is None else {**body, "rec": v.recipient}


class RelayNode(CarrierNode):
    """An offline relay: a node that keeps sealed blobs in :mod:`spec.carrier.relay` mailboxes."""

    def __init__(self, cfg: NodeConfig, resolve: B.CarrierResolver, clock: Callable[[], float] = time.time) -> None:
        self.store = R.Relay()
        super().__init__(cfg, resolve, clock)

    def _state(self) -> dict[str, Any]:
        boxes = [[to.hex(), m.last_seq, [[i.seq, i.sender.hex(), i.stored, i.blob.hex()] for i in m.items]]
                 for to, m in self.store.mailboxes]
        return {**super()._state(), "mailboxes": boxes}

    def _snapshot(self) -> tuple[Any, ...]:
        return (*super()._snapshot(), self.store)

    def _restore(self, d: dict[str, Any]) -> None:
        super()._restore(d)
        self.store = R.Relay(mailboxes=tuple(
            (bytes.fromhex(to), R.Mailbox(last_seq=last, items=tuple(
                R.Item(seq=q, sender=bytes.fromhex(f), stored=t, blob=bytes.fromhex(b)) for q, f, t, b in items)))
            for to, last, items in d["mailboxes"]))

    def _undecodable(self, s: Session, data: bytes, e: DecodeError) -> None:
        """A store that does not decode but names its id is answered with relay_refused."""
        try:
            answer = R.answer_undecodable(bytes(data), e)
        except Reject:
            return  # nothing names the store: it gets no answer (it was counted as dropped)
        self._send(s, answer)

    def _dispatch_relay(self, s: Session, kind: str, p: dict[str, Any]) -> None:
        now = self.now()
        if kind == "relay_store":
            self.store, answer = R.answer_store(self.store, s.peer, p, now)
            if answer["type"] == M.SESSION_CODES["relay_refused"]:  # counted, and answered with its reason
                self.rejected[answer["reason"]] += 1
                log.info("relay store %d refused: %s [%s]", p["id"], answer["reason"], answer["rule"])
            else:
                self.save()  # stored durably before the receipt acknowledges it
            self._send(s, answer)
        elif kind == "relay_pull":
            items = R.pull(self.store, s.peer, p["after"], now)
            self._send(s, {"type": 67, "items": [[i.seq, i.sender, i.stored, i.blob] for i in items]})
        elif kind == "relay_delete":
            self.store = R.delete(self.store, s.peer, p["until"], now)
            self.save()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, node: CarrierNode) -> None:
        self.node = node

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.node._datagram(data, addr)


def encode_for_log(value: Any) -> str:
    return cbor_encode(value).hex()
