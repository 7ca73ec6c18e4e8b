"""P2P for the ID sidechain: two or more sidechain nodes exchange blocks and transactions and agree.

It follows the main node's P2P (:mod:`reference.node.peer`): the same framing and messages
(:mod:`spec.chain.p2p`: ``version``/``verack``, ``getblocks``/``inv``/``getdata``/``block``, ``tx``,
``ping``/``pong``, ``reject``), the same session rules (``session_step``), the same locator
(``block_locator``/``locate_blocks``) and the same misbehaviour scores. What differs:

* the network is the sidechain's: its magic (``2017002`` on mainnet, ``2018202`` on regnet and
  ``instant``) and port, the main chain's size limits (:func:`side_network`);
* a ``block`` payload is the sidechain block alone (upstream's sidechain sends ``msg.NewBlock(block)``,
  no DPoS confirmation flag);
* every block is checked by :meth:`reference.sidechain.node.SideNode.submit_block`, i.e. by
  :func:`spec.sidechain.validation.check_side_block` against the node's own main-chain view, so a node
  only accepts a block whose SideAuxPow its own main node vouches for.

Every block goes through the node's fork choice (:meth:`reference.sidechain.node.SideNode.submit_block`,
the spec's :func:`spec.sidechain.state.add_side_block`): a competing block at or below the tip is kept on
its side branch, and becomes the tip with its branch once that branch has more work; a block whose parent
the node lacks is kept as an orphan and answered with ``getblocks`` (the locator finds the fork point, so
the peer sends the whole branch) at no cost. A node announces its tip (``inv``) whenever the tip changes,
so two nodes that saw different branches fetch each other's and both end on the branch with the most work.
Any refused block is answered with ``reject`` carrying the spec's reason and costs the peer
:data:`INVALID_SCORE`; the store keeps only the block's hash as invalid.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable

from spec.chain.p2p import (
    HEADER_SIZE,
    MAX_BLOCKS_PER_MSG,
    PROTOCOL_VERSION,
    ZERO_HASH,
    InvType,
    InvVect,
    Message,
    MsgBlock,
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
from spec.chain.params import network as main_network
from spec.errors import Reason, Reject
from spec.sidechain.block import SideBlock
from spec.sidechain.params import SidechainParams

from reference.node.peer import BAN_THRESHOLD, HANDSHAKE_TIMEOUT, INVALID_SCORE, MALFORMED_SCORE
from reference.sidechain.node import SideNode

BLOCK_INV_TYPES = (InvType.BLOCK, InvType.CONFIRMED_BLOCK)


def side_network(params: SidechainParams) -> Network:
    """The sidechain's network layer: its own magic and port, its main chain's size limits."""
    main = main_network(params.main_network)
    return Network(name=f"id-{params.name}", magic=params.magic, default_port=params.default_port,
                   max_block_context_size=main.max_block_context_size,
                   max_block_header_size=main.max_block_header_size)


class SidePeer:
    def __init__(self, manager: SideP2P, sock: socket.socket, inbound: bool) -> None:
        self.manager = manager
        self.sock = sock
        self.inbound = inbound
        host, port = sock.getpeername()[:2]
        self.addr = f"{host}:{port}"
        self.session = PeerSession(inbound=inbound, local_nonces=(manager.nonce,))
        self.misbehaviour = 0
        self.write_lock = threading.Lock()
        self.alive = True
        self.sync_stop: bytes | None = None
        self.rejects: list[MsgReject] = []

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
        self.misbehaviour += score
        self.send(MsgReject(rejected_command=command, code=code, reason=str(why).encode()[:1000], hash=h))
        self.manager.log(f"side peer {self.addr}: refused {command.decode(errors='replace')} ({why}); "
                         f"misbehaviour +{score}, total {self.misbehaviour}")
        if self.misbehaviour >= BAN_THRESHOLD:
            self.close()

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
        if self.alive and not (self.session.version_received and self.session.verack_received):
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

    def handle(self, m: Message) -> None:
        node = self.manager.node
        for reply in self.session.replies:
            if reply == "version":
                self.send_version()
            elif reply == "verack":
                self.send(MsgVerAck())
                self.send_getblocks()
            elif reply == "pong":
                self.send(MsgPong(nonce=node.height()))
        if isinstance(m, MsgGetBlocks):
            with node.lock:
                chain = node.store.best_chain()
            hashes = locate_blocks(chain, m.locator, m.hash_stop, self.manager.max_blocks_per_inv)
            if hashes:
                self.send(MsgInv(inventory=tuple(InvVect(type=InvType.BLOCK, hash=h) for h in hashes)))
        elif isinstance(m, MsgGetData):
            missing = []
            for v in m.inventory:
                if v.type in BLOCK_INV_TYPES:
                    with node.lock:
                        data = node.store.block_bytes(v.hash)
                    if data is not None:
                        self.send(MsgBlock(data=data))
                    else:
                        missing.append(v)
                elif v.type == InvType.TX:
                    with node.lock:
                        tx = node.pool.get(v.hash)
                    if tx is not None:
                        self.send(MsgTx(data=tx.serialize()))
                    else:
                        missing.append(v)
            if missing:
                self.send(MsgNotFound(inventory=tuple(missing)))
        elif isinstance(m, MsgInv):
            want = []
            with node.lock:
                for v in m.inventory:
                    if v.type in BLOCK_INV_TYPES and not node.store.has_block(v.hash):
                        want.append(InvVect(type=v.type, hash=v.hash))
                    elif v.type == InvType.TX and v.hash not in node.pool:
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

    def on_block(self, data: bytes) -> None:
        node = self.manager.node
        try:
            block = SideBlock.decode(data)
        except Reject as e:
            self.refuse(b"block", RejectCode.MALFORMED, e, ZERO_HASH, MALFORMED_SCORE)
            return
        h = block.hash()
        try:
            outcome = node.submit_block(block, source=self)
        except Reject as e:
            self.refuse(b"block", RejectCode.INVALID, e, h, INVALID_SCORE)
        else:
            if outcome.get(h) == "orphan":         # a branch we lack the start of: ask for it, no penalty
                self.send_getblocks()
        if self.sync_stop == h:
            self.sync_stop = None
            self.send_getblocks()


class SideP2P:
    """Listens on 127.0.0.1, keeps the peers, relays the sidechain node's new blocks and pool transactions."""

    def __init__(self, node: SideNode, port: int = 0, log: Callable[[str], None] | None = None) -> None:
        self.node = node
        self.network = side_network(node.params)
        self.nonce = secrets.randbits(64)
        self.peers: list[SidePeer] = []
        self.lock = threading.Lock()
        self.log = log or (lambda s: None)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.max_blocks_per_inv = MAX_BLOCKS_PER_MSG
        self.handshake_timeout = HANDSHAKE_TIMEOUT
        node.listeners.append(self._on_node_event)

    def start(self) -> SideP2P:
        threading.Thread(target=self._accept_loop, name="side-p2p-accept", daemon=True).start()
        return self

    def _accept_loop(self) -> None:
        while self.running:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self._add(sock, inbound=True)

    def connect(self, host: str, port: int) -> SidePeer:
        sock = socket.create_connection((host, port), timeout=10)
        sock.settimeout(None)
        return self._add(sock, inbound=False)

    def _add(self, sock: socket.socket, inbound: bool) -> SidePeer:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = SidePeer(self, sock, inbound)
        with self.lock:
            self.peers.append(peer)
        threading.Thread(target=peer.run, name=f"side-peer-{peer.addr}", daemon=True).start()
        return peer

    def forget(self, peer: SidePeer) -> None:
        with self.lock:
            if peer in self.peers:
                self.peers.remove(peer)

    def _on_node_event(self, kind: str, h: bytes, source: object = None) -> None:
        inv = MsgInv(inventory=(InvVect(type=InvType.BLOCK if kind == "block" else InvType.TX, hash=h),))
        with self.lock:
            peers = list(self.peers)
        for p in peers:
            if p is not source and p.session.version_received:
                p.send(inv)

    def ping_all(self) -> None:
        with self.lock:
            peers = [p for p in self.peers if p.session.version_received]
        for p in peers:
            p.send(MsgPing(nonce=self.node.height()))

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


__all__ = ["SideP2P", "SidePeer", "side_network"]
