"""P2P over TCP: handshake, block sync (getblocks / inv / getdata / block), relay, ping/pong, addr.

Codecs and session rules are :mod:`spec.chain.p2p`'s (``read_message_header``,
``decode_payload``, ``encode_message``, ``session_step``, ``block_locator``, ``locate_blocks``).
One thread per connection reads; writes hold the peer's lock. Misbehaviour is counted per peer:
a malformed message or a session-rule violation costs :data:`MALFORMED_SCORE`, a block or
transaction that breaks a rule costs :data:`INVALID_SCORE`, and at :data:`BAN_THRESHOLD` the
node disconnects the peer. A refused block or transaction is answered with ``reject`` naming the
spec's reason; the store is unchanged by it (see :mod:`reference.node.node`).

The ``instant`` network is regnet with instant blocks: it uses regnet's magic and sizes.
Block payloads are upstream's ``DposBlock``: the block, then a has-confirm bool (always false
here; a ``true`` is refused, this profile has no DPoS confirmations).

Addresses: after the handshake an outbound connection sends ``getaddr``. An inbound peer's
``getaddr`` is answered once per connection (the session layer's ``addr`` reply) with the
addresses of the currently connected peers that announced a listening port in their version (at
most :data:`~spec.chain.p2p.MAX_ADDR_PER_MSG`; nothing is sent when there are none, since an empty
``addr`` breaks P2P-015). Received ``addr`` entries go into :attr:`P2P.known_addresses`, an
in-memory set of at most :data:`MAX_KNOWN_ADDRESSES` ``(host, port)`` pairs; the node does not
connect to them by itself.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import time
from typing import Any
from collections.abc import Callable

from spec.chain.block import Block
from spec.chain.params import NetworkParams
from spec.chain.p2p import (
    HEADER_SIZE,
    MAX_ADDR_PER_MSG,
    MAX_BLOCKS_PER_MSG,
    NETWORKS,
    PROTOCOL_VERSION,
    ZERO_HASH,
    InvType,
    InvVect,
    Message,
    MsgAddr,
    MsgBlock,
    MsgGetAddr,
    MsgGetBlocks,
    MsgGetData,
    MsgInv,
    MsgNotFound,
    MsgPing,
    MsgPong,
    MsgReject,
    MsgTx,
    MsgVerAck,
    MsgVersion,
    NetAddress,
    Network,
    PeerSession,
    RejectCode,
    ServiceFlag,
    block_locator,
    decode_payload,
    encode_message,
    locate_blocks,
    read_message_header,
    session_step,
)
from spec.encoding.primitives import Reader, read_bool
from spec.errors import DecodeError, Reason, Reject

MALFORMED_SCORE = 20
INVALID_SCORE = 50
BAN_THRESHOLD = 100
PING_INTERVAL = 30.0
HANDSHAKE_TIMEOUT = 30.0
"""Seconds a connection has to complete the version/verack handshake before it is closed (the timer the
spec's :class:`~spec.chain.p2p.PeerSession` leaves outside the pure session rules)."""
BLOCK_INV_TYPES = (InvType.BLOCK, InvType.CONFIRMED_BLOCK)
MAX_KNOWN_ADDRESSES = 10_000
"""Bound on :attr:`P2P.known_addresses` (further addresses are dropped)."""


def ip_bytes(host: str) -> bytes:
    """A ``NetAddress`` ip: 16 bytes, an IPv4 address as ``::ffff:a.b.c.d``."""
    ip = ipaddress.ip_address(host)
    if isinstance(ip, ipaddress.IPv4Address):
        return bytes(10) + b"\xff\xff" + ip.packed
    return ip.packed


def ip_text(ip: bytes) -> str:
    """The host text of a ``NetAddress`` ip (IPv4-mapped addresses as dotted IPv4)."""
    v6 = ipaddress.IPv6Address(ip)
    return str(v6.ipv4_mapped) if v6.ipv4_mapped is not None else str(v6)


def p2p_network(params: NetworkParams) -> Network:
    """The network-layer parameters of a chain network (:data:`spec.chain.p2p.NETWORKS`)."""
    return NETWORKS[params.name]


def decode_block_payload(data: bytes) -> Block:
    """A ``block`` payload: the block and a has-confirm bool that must be false here."""
    r = Reader(data)
    block = Block.deserialize(r)
    if read_bool(r, "has confirm"):
        raise DecodeError(Reason.TRAILING_BYTES, None, "a DPoS confirmation is not part of this profile")
    r.finish("block message")
    return block


class Peer:
    """One connection. What depends on the chain (block payloads, the pool, block lookup, block submission)
    is in the small methods below, which :class:`reference.sidechain.peer.SidePeer` overrides; the
    handshake, framing, sync, relay and misbehaviour handling are shared."""

    inv_block_type = InvType.CONFIRMED_BLOCK
    """How this node announces blocks in ``inv`` (the main chain's blocks go out as ``DposBlock``)."""
    log_name = "peer"

    def __init__(self, manager: P2P, sock: socket.socket, inbound: bool) -> None:
        self.manager = manager
        self.sock = sock
        self.inbound = inbound
        self.host, remote_port = sock.getpeername()[:2]
        self.addr = "%s:%d" % (self.host, remote_port)
        self.listen_port = 0
        """The listening port the peer announced in its version (0: none)."""
        nonce = manager.nonce
        self.session = PeerSession(inbound=inbound, local_nonces=(nonce,))
        self.misbehaviour = 0
        self.write_lock = threading.Lock()
        self.alive = True
        self.sync_stop: bytes | None = None
        self.rejects: list[MsgReject] = []

    # -- sending ------------------------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        data = encode_message(self.manager.network, message)
        try:
            with self.write_lock:
                self.sock.sendall(data)
        except OSError:
            self.close()

    def send_version(self) -> None:
        self.send(MsgVersion(version=PROTOCOL_VERSION, services=int(ServiceFlag.NODE_NETWORK),
                             timestamp=int(time.time()) & 0xFFFF_FFFF, port=self.manager.port,
                             nonce=self.manager.nonce, height=self.manager.node.height(), relay=True))

    def send_getblocks(self) -> None:
        with self.manager.node.lock:
            chain = self.manager.node.store.best_chain()
        self.send(MsgGetBlocks(locator=block_locator(chain), hash_stop=ZERO_HASH))

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.manager.forget(self)

    def refuse(self, command: bytes, code: int, why: Reject | str, h: bytes, score: int) -> None:
        """Count the peer's misbehaviour, answer with ``reject``, and disconnect past the threshold."""
        self.misbehaviour += score
        self.send_reject(command, code, why, h)
        self.manager.log(f"{self.log_name} {self.addr}: refused {command.decode(errors='replace')} ({why}); "
                         f"misbehaviour +{score}, total {self.misbehaviour}")
        if self.misbehaviour >= BAN_THRESHOLD:
            self.manager.log(f"peer {self.addr}: disconnected (misbehaviour {self.misbehaviour})")
            self.close()

    # -- receiving ----------------------------------------------------------------------------------------

    def _read_exact(self, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _handshake_deadline(self) -> None:
        """Close the connection if version and verack have not both arrived in time."""
        if self.alive and not (self.session.version_received and self.session.verack_received):
            self.manager.log(f"{self.log_name} {self.addr}: no handshake within "
                             f"{self.manager.handshake_timeout:g} s; closed")
            self.close()

    def run(self) -> None:
        timer = threading.Timer(self.manager.handshake_timeout, self._handshake_deadline)
        timer.daemon = True
        timer.start()
        try:
            if not self.inbound:
                self.send_version()
            while self.alive:
                raw = self._read_exact(HEADER_SIZE)
                if raw is None:
                    break
                try:
                    header = read_message_header(raw, self.manager.network)
                except Reject as e:   # the stream cannot be resynchronized after a bad header
                    self.refuse(b"malformed", RejectCode.MALFORMED, e, ZERO_HASH, BAN_THRESHOLD)
                    break
                payload = self._read_exact(header.length)
                if payload is None:
                    break
                try:
                    message = decode_payload(header, payload)
                except Reject as e:
                    self.refuse(header.command, RejectCode.MALFORMED, e, ZERO_HASH, MALFORMED_SCORE)
                    continue
                try:
                    self.session = session_step(self.session, message)
                except Reject as e:
                    self.refuse(header.command, RejectCode.INVALID, e, ZERO_HASH, BAN_THRESHOLD)
                    break
                self.handle(message)
        finally:
            timer.cancel()
            self.close()

    def send_reject(self, command: bytes, code: int, e: Reject | str, h: bytes) -> None:
        self.send(MsgReject(rejected_command=command, code=code, reason=str(e).encode()[:1000], hash=h))

    def handle(self, m: Message) -> None:
        node = self.manager.node
        for reply in self.session.replies:
            if reply == "version":
                self.send_version()
            elif reply == "verack":
                self.send(MsgVerAck())
                self.send_getblocks()
                if not self.inbound:
                    self.send(MsgGetAddr())
            elif reply == "pong":
                self.send(MsgPong(nonce=node.height()))
            elif reply == "addr":
                addresses = self.manager.connected_addresses()
                if addresses:   # [P2P-015] never an empty addr
                    self.send(MsgAddr(addresses=addresses))
        if isinstance(m, MsgVersion):
            self.listen_port = m.port
        elif isinstance(m, MsgAddr):
            self.manager.remember_addresses(m.addresses)
        elif isinstance(m, MsgGetBlocks):
            with node.lock:
                chain = node.store.best_chain()
            hashes = locate_blocks(chain, m.locator, m.hash_stop, self.manager.max_blocks_per_inv)
            if hashes:
                self.send(MsgInv(inventory=tuple(InvVect(type=self.inv_block_type, hash=h) for h in hashes)))
        elif isinstance(m, MsgGetData):
            missing = []
            for v in m.inventory:
                if v.type in BLOCK_INV_TYPES:
                    with node.lock:
                        data = node.store.block_bytes(v.hash)
                    if data is not None:
                        self.send(MsgBlock(data=self.block_payload(data)))
                    else:
                        missing.append(v)
                elif v.type == InvType.TX:
                    tx = self.pool_tx(v.hash)
                    if tx is not None:
                        self.send(MsgTx(data=tx))
                    else:
                        missing.append(v)
            if missing:
                self.send(MsgNotFound(inventory=tuple(missing)))
        elif isinstance(m, MsgInv):
            want = []
            for v in m.inventory:
                if v.type in BLOCK_INV_TYPES and not self.knows_block(v.hash):
                    want.append(InvVect(type=v.type, hash=v.hash))
                elif v.type == InvType.TX and self.pool_tx(v.hash) is None:
                    want.append(v)
            blocks = [v for v in m.inventory if v.type in BLOCK_INV_TYPES]
            if len(blocks) > 1:   # a getblocks answer: ask for more once its last block is in
                self.sync_stop = blocks[-1].hash
            if want:
                self.send(MsgGetData(inventory=tuple(want)))
        elif isinstance(m, MsgBlock):
            self.on_block(m.data)
        elif isinstance(m, MsgTx):
            try:
                node.submit_tx(m.data, source=self)
            except Reject as e:
                if e.reason is Reason.TX_DUPLICATE:
                    return
                self.refuse(b"tx", RejectCode.INVALID, e, ZERO_HASH, INVALID_SCORE if e.rule else 0)
        elif isinstance(m, MsgReject):
            self.rejects.append(m)
            self.manager.log(f"{self.log_name} {self.addr} rejected our {m.rejected_command.decode(errors='replace')}: "
                             f"{m.reason.decode(errors='replace')}")

    def on_block(self, data: bytes) -> None:
        try:
            block = self.decode_block(data)
        except Reject as e:
            self.refuse(b"block", RejectCode.MALFORMED, e, ZERO_HASH, MALFORMED_SCORE)
            return
        h = block.hash()
        self.submit_block(block, h)
        if self.sync_stop == h:
            self.sync_stop = None
            self.send_getblocks()

    # -- what depends on the chain ------------------------------------------------------------------------

    def block_payload(self, stored: bytes) -> bytes:
        """A ``block`` message's payload for a stored block: ``DposBlock`` with no confirmation."""
        return stored + b"\x00"

    def decode_block(self, data: bytes) -> Any:
        return decode_block_payload(data)

    def pool_tx(self, txid: bytes) -> bytes | None:
        """A pool transaction's bytes, or ``None``."""
        entry = self.manager.node.mempool.txs.get(txid)
        return None if entry is None else entry[0].serialize()

    def knows_block(self, block_hash: bytes) -> bool:
        return self.manager.node.status(block_hash) is not None

    def submit_block(self, block: Any, h: bytes) -> None:
        """Hand a peer's block to the node; an orphan asks for its branch, a refused block costs the peer."""
        result = self.manager.node.submit_block(block, source=self).get(h, "")
        if result == "orphan":
            self.send_getblocks()
        elif result not in ("valid", "duplicate"):
            self.refuse(b"block", RejectCode.INVALID, result, h, INVALID_SCORE)


class P2P:
    """Listens on 127.0.0.1, keeps the peers, relays the node's new tips and pool transactions."""

    peer_class: type[Peer] = Peer
    thread_name = "p2p"

    def network_of(self, node: Any) -> Network:
        return p2p_network(node.params)

    def __init__(self, node: Any, port: int = 0, log: Callable[[str], None] | None = None) -> None:
        self.node = node
        self.network = self.network_of(node)
        self.nonce = secrets.randbits(64)
        self.peers: list[Peer] = []
        self.lock = threading.Lock()
        self.log = log or (lambda s: None)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.max_blocks_per_inv = MAX_BLOCKS_PER_MSG
        """Hashes one ``getblocks`` answer lists (upstream: 500; tests lower it to exercise batching)."""
        self.known_addresses: set[tuple[str, int]] = set()
        """``(host, port)`` pairs received in ``addr`` messages (in memory only, no auto-connect)."""
        self.handshake_timeout = HANDSHAKE_TIMEOUT
        """Seconds a new connection has to exchange version and verack (tests lower it)."""
        node.listeners.append(self._on_node_event)

    def start(self) -> P2P:
        threading.Thread(target=self._accept_loop, name=f"{self.thread_name}-accept", daemon=True).start()
        threading.Thread(target=self._ping_loop, name=f"{self.thread_name}-ping", daemon=True).start()
        return self

    def _ping_loop(self) -> None:
        """Every :data:`PING_INTERVAL` seconds, a ping (whose nonce is this node's height) to every peer."""
        while self.running:
            time.sleep(PING_INTERVAL)
            self.ping_all()

    def ping_all(self) -> None:
        with self.lock:
            peers = [p for p in self.peers if p.session.version_received]
        for p in peers:
            p.send(MsgPing(nonce=self.node.height()))

    def _accept_loop(self) -> None:
        while self.running:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self._add(sock, inbound=True)

    def connect(self, host: str, port: int) -> Peer:
        sock = socket.create_connection((host, port), timeout=10)
        sock.settimeout(None)
        return self._add(sock, inbound=False)

    def _add(self, sock: socket.socket, inbound: bool) -> Peer:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = self.peer_class(self, sock, inbound)
        with self.lock:
            self.peers.append(peer)
        self.log(f"{peer.log_name} {peer.addr} connected ({'inbound' if inbound else 'outbound'})")
        threading.Thread(target=peer.run, name=f"{self.thread_name}-peer-{peer.addr}", daemon=True).start()
        return peer

    def forget(self, peer: Peer) -> None:
        with self.lock:
            if peer in self.peers:
                self.peers.remove(peer)

    def connected_addresses(self) -> tuple[NetAddress, ...]:
        """The connected peers that announced a listening port, as an ``addr`` lists them (at most 1000)."""
        with self.lock:
            peers = [p for p in self.peers if p.alive and p.session.version_received and p.listen_port]
        now = int(time.time())
        out: dict[tuple[bytes, int], NetAddress] = {}
        for p in peers:
            try:
                ip = ip_bytes(p.host)
            except ValueError:
                continue
            out.setdefault((ip, p.listen_port),
                           NetAddress(timestamp=now, services=p.session.services, ip=ip, port=p.listen_port))
        return tuple(out.values())[:MAX_ADDR_PER_MSG]

    def remember_addresses(self, addresses: tuple[NetAddress, ...]) -> None:
        """Add received ``addr`` entries to :attr:`known_addresses` (up to :data:`MAX_KNOWN_ADDRESSES`)."""
        with self.lock:
            for a in addresses:
                if len(self.known_addresses) >= MAX_KNOWN_ADDRESSES:
                    break
                if a.port:
                    self.known_addresses.add((ip_text(a.ip), a.port))

    def _on_node_event(self, kind: str, h: bytes, source: object = None) -> None:
        inv = MsgInv(inventory=(InvVect(type=InvType.BLOCK if kind == "block" else InvType.TX, hash=h),))
        with self.lock:
            peers = list(self.peers)
        for p in peers:
            if p is not source and p.session.version_received:
                p.send(inv)

    def stop(self) -> None:
        self.running = False
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            peers = list(self.peers)
        for p in peers:
            p.close()
        if self._on_node_event in self.node.listeners:
            self.node.listeners.remove(self._on_node_event)


__all__ = ["BAN_THRESHOLD", "MAX_KNOWN_ADDRESSES", "P2P", "Peer", "decode_block_payload", "ip_bytes", "ip_text",
           "p2p_network"]
