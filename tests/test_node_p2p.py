"""P2P over real loopback TCP: handshake, sync, relay, and refusal of malformed or rule-breaking input."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from reference.node.node import Node
from reference.node.peer import BAN_THRESHOLD, P2P, p2p_network
from spec.chain.p2p import (
    HEADER_SIZE,
    PROTOCOL_VERSION,
    MsgBlock,
    MsgPing,
    MsgPong,
    MsgReject,
    MsgVerAck,
    MsgVersion,
    ServiceFlag,
    decode_payload,
    encode_message,
    frame,
    read_message_header,
)
from test_node_helpers import GENESIS, NOW, PARAMS, chain, make_block


def wait_for(cond, timeout: float = 10.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_sync_and_relay(tmp_path: Path) -> None:
    a, b = Node(tmp_path / "a", PARAMS, now=lambda: NOW), Node(tmp_path / "b", PARAMS, now=lambda: NOW)
    blocks = chain(12)
    for blk in blocks[:10]:
        a.submit_block(blk)
    pa, pb = P2P(a).start(), P2P(b).start()
    pa.max_blocks_per_inv = 3   # the 10 blocks come in four getblocks rounds
    try:
        pb.connect("127.0.0.1", pa.port)
        assert wait_for(lambda: b.best_hash() == a.best_hash())
        # a new block on a is relayed to b by inv/getdata
        for blk in blocks[10:]:
            a.submit_block(blk)
        assert wait_for(lambda: b.best_hash() == blocks[-1].hash())
        assert b.store.all_utxos() == a.store.all_utxos()
    finally:
        pa.stop(), pb.stop(), a.close(), b.close()


class RawPeer:
    """A hand-driven peer on a real socket."""

    def __init__(self, port: int) -> None:
        self.net = p2p_network(PARAMS)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.send(MsgVersion(version=PROTOCOL_VERSION, services=int(ServiceFlag.NODE_NETWORK), timestamp=0, port=0,
                             nonce=42, height=0, relay=True))

    def send(self, m) -> None:
        self.sock.sendall(encode_message(self.net, m))

    def recv(self):
        hdr = self._exact(HEADER_SIZE)
        if hdr is None:
            return None
        h = read_message_header(hdr, self.net)
        return decode_payload(h, self._exact(h.length) if h.length else b"")

    def _exact(self, n: int):
        buf = b""
        while len(buf) < n:
            try:
                c = self.sock.recv(n - len(buf))
            except OSError:
                return None
            if not c:
                return None
            buf += c
        return buf

    def until(self, kind):
        while True:
            m = self.recv()
            if m is None or isinstance(m, kind):
                return m


def test_rule_breaking_block_and_garbage_are_refused(tmp_path: Path) -> None:
    node = Node(tmp_path / "a", PARAMS, now=lambda: NOW)
    for blk in chain(3):
        node.submit_block(blk)
    before = (node.best_hash(), node.store.all_utxos(), node.store.best_chain())
    p2p = P2P(node).start()
    try:
        raw = RawPeer(p2p.port)
        assert isinstance(raw.until(MsgVersion), MsgVersion)
        raw.send(MsgVerAck())
        raw.send(MsgPing(nonce=1))
        pong = raw.until(MsgPong)
        assert pong is not None and pong.nonce == node.height() == 3
        tip = node.store.block(node.best_hash())
        bad = make_block(tip.hash(), tip.header.height + 1, tip.header.timestamp + 1, 77, variant="bad_reward")
        raw.send(MsgBlock(data=bad.serialize() + b"\x00"))
        rej = raw.until(MsgReject)
        assert rej is not None and rej.reason == b"COINBASE_BAD_REWARD" and rej.hash == bad.hash()
        # a truncated block payload (valid frame, bad content) is malformed
        raw.sock.sendall(frame(raw.net, "block", bad.serialize()[:50]))
        rej = raw.until(MsgReject)
        assert rej is not None and rej.code == 0x01 and b"TRUNCATED" in rej.reason
        peer = next(p for p in p2p.peers)
        assert peer.misbehaviour == 70
        # past the threshold the peer is disconnected, the node keeps running
        raw.send(MsgBlock(data=make_block(tip.hash(), tip.header.height + 1, tip.header.timestamp + 1, 78,
                                          variant="unknown_ref").serialize() + b"\x00"))
        assert wait_for(lambda: not p2p.peers)
        assert (node.best_hash(), node.store.all_utxos(), node.store.best_chain()) == before
        # a wrong magic ends the connection at once
        raw2 = RawPeer(p2p.port)
        assert wait_for(lambda: len(p2p.peers) == 1)
        raw2.sock.sendall(b"\x01\x02\x03\x04" + bytes(20))
        assert wait_for(lambda: not p2p.peers)
        assert (node.best_hash(), node.store.all_utxos(), node.store.best_chain()) == before
        good = make_block(tip.hash(), tip.header.height + 1, tip.header.timestamp + 1, 79)
        node.submit_block(good)
        assert node.best_hash() == good.hash()
    finally:
        p2p.stop()
        node.close()


def test_transaction_relay(tmp_path: Path) -> None:
    from spec.chain.builder import sign_standard, transfer
    from test_node_helpers import KEY, MINER

    a, b = Node(tmp_path / "a", PARAMS, now=lambda: NOW), Node(tmp_path / "b", PARAMS, now=lambda: NOW)
    blocks = chain(101)
    for blk in blocks:
        a.submit_block(blk)
    pa, pb = P2P(a).start(), P2P(b).start()
    try:
        pb.connect("127.0.0.1", pa.port)
        assert wait_for(lambda: b.best_hash() == a.best_hash())
        cb = blocks[0].transactions[0]
        tx = sign_standard(transfer([(cb.txid(), 1)], [(MINER, cb.outputs[1].value - 1000)]), [KEY])
        a.submit_tx(tx.serialize())
        assert wait_for(lambda: tx.txid() in b.mempool.txs)
        # a block mined on b with the pool transaction reaches a and empties both pools
        tmpl = b.template(MINER)
        from spec.chain.builder import solve
        b.submit_block(solve(tmpl))
        assert wait_for(lambda: a.best_hash() == b.best_hash() and not a.mempool.txs and not b.mempool.txs)
        assert a.store.output_count(tx.txid()) == 1
    finally:
        pa.stop(), pb.stop(), a.close(), b.close()


def test_getaddr_is_answered_with_connected_peers(tmp_path: Path) -> None:
    from spec.chain.p2p import MsgAddr, MsgGetAddr

    a, b, c = (Node(tmp_path / n, PARAMS, now=lambda: NOW) for n in "abc")
    pa, pb, pc = P2P(a).start(), P2P(b).start(), P2P(c).start()
    try:
        # c, then b, connect to a; each outbound side sends getaddr after the handshake
        pc.connect("127.0.0.1", pa.port)
        assert wait_for(lambda: any(p.listen_port == pc.port for p in pa.peers))
        pb.connect("127.0.0.1", pa.port)
        # a answers b with the listening addresses of its connected peers (b's and c's)
        assert wait_for(lambda: ("127.0.0.1", pc.port) in pb.known_addresses)
        assert ("127.0.0.1", pb.port) in pb.known_addresses
        assert ("127.0.0.1", pa.port) not in pb.known_addresses   # a's own address is not among its peers
        # a hand-driven peer on a real socket sees the addr message itself
        raw = RawPeer(pa.port)
        assert isinstance(raw.until(MsgVersion), MsgVersion)
        raw.send(MsgVerAck())
        raw.send(MsgGetAddr())
        reply = raw.until(MsgAddr)
        assert reply is not None
        listed = {(bytes(a_.ip[-4:]), a_.port) for a_ in reply.addresses}
        assert {(bytes([127, 0, 0, 1]), pb.port), (bytes([127, 0, 0, 1]), pc.port)} <= listed
        assert all(a_.ip[:12] == bytes(10) + b"\xff\xff" for a_ in reply.addresses)
        # the raw peer announced no listening port, so it is not listed
        assert 0 not in {a_.port for a_ in reply.addresses}
    finally:
        pa.stop(), pb.stop(), pc.stop(), a.close(), b.close(), c.close()


def test_a_connection_without_handshake_is_closed(tmp_path: Path) -> None:
    node = Node(tmp_path / "a", PARAMS, now=lambda: NOW)
    p2p = P2P(node).start()
    p2p.handshake_timeout = 0.5
    try:
        silent = socket.create_connection(("127.0.0.1", p2p.port), timeout=5)
        half = RawPeer(p2p.port)          # sends version, never verack
        assert isinstance(half.until(MsgVersion), MsgVersion)
        good = RawPeer(p2p.port)          # completes the handshake
        assert isinstance(good.until(MsgVersion), MsgVersion)
        good.send(MsgVerAck())
        assert wait_for(lambda: len(p2p.peers) == 3)
        assert wait_for(lambda: len(p2p.peers) == 1, timeout=5)
        assert silent.recv(1) == b""      # closed by the node
        good.send(MsgPing(nonce=9))
        assert good.until(MsgPong) is not None   # the handshaken peer is still served
    finally:
        p2p.stop()
        node.close()


def test_pool_refuses_a_spend_of_a_pool_output_until_it_is_mined(tmp_path: Path) -> None:
    """As ELA's CheckTransactionContext, the pool reads inputs from the chain's UTXO set only."""
    from spec.chain.builder import sign_standard, solve, transfer
    from spec.errors import Reject
    from test_node_helpers import KEY, MINER

    node = Node(tmp_path / "a", PARAMS, now=lambda: NOW)
    blocks = chain(101)
    for blk in blocks:
        node.submit_block(blk)
    cb = blocks[0].transactions[0]
    parent = sign_standard(transfer([(cb.txid(), 1)], [(MINER, cb.outputs[1].value - 1000)]), [KEY])
    child = sign_standard(transfer([(parent.txid(), 0)], [(MINER, cb.outputs[1].value - 2000)]), [KEY])
    node.submit_tx(parent)
    try:
        node.submit_tx(child)
    except Reject as e:
        assert e.reason.value == "TX_UNKNOWN_REFERENCE"
    else:
        raise AssertionError("a spend of an unconfirmed output entered the pool")
    assert list(node.mempool.txs) == [parent.txid()]
    node.submit_block(solve(node.template(MINER)))
    assert node.submit_tx(child) == child.txid()
    node.close()


def test_a_forged_copy_relayed_first_does_not_keep_the_honest_block_out(tmp_path: Path) -> None:
    """A peer relays a copy of the next block whose AuxPoW it corrupted (the block hash does not cover the
    AuxPoW): the node refuses it without remembering the hash, so it still takes the honest block of that hash
    when an honest node offers it."""
    from helpers import forged_copy

    blocks = chain(4)
    honest, victim = Node(tmp_path / "a", PARAMS, now=lambda: NOW), Node(tmp_path / "b", PARAMS, now=lambda: NOW)
    for blk in blocks:
        honest.submit_block(blk)
    for blk in blocks[:3]:
        victim.submit_block(blk)
    forged = forged_copy(blocks[3], "auxpow")
    ph, pv = P2P(honest).start(), P2P(victim).start()
    try:
        raw = RawPeer(pv.port)
        assert isinstance(raw.until(MsgVersion), MsgVersion)
        raw.send(MsgVerAck())
        raw.send(MsgBlock(data=forged.serialize() + b"\x00"))
        rej = raw.until(MsgReject)
        assert rej is not None and rej.reason == b"AUXPOW_PARENT_MERKLE_MISMATCH" and rej.hash == blocks[3].hash()
        assert victim.status(blocks[3].hash()) is None and victim.best_hash() == blocks[2].hash()
        pv.connect("127.0.0.1", ph.port)
        assert wait_for(lambda: victim.best_hash() == blocks[3].hash())
        assert victim.store.all_utxos() == honest.store.all_utxos()
    finally:
        ph.stop(), pv.stop(), honest.close(), victim.close()
