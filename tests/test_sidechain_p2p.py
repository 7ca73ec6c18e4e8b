"""Sidechain P2P: sidechain nodes on loopback TCP exchange blocks and transactions and agree. Each node checks
every block with the spec against its own view of the main chain; a forged block is refused with ``reject``
and its reason, and changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from spec.chain.builder import sign_standard
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Input, OutPoint, Output, TransferAssetPayload
from spec.chain.p2p import MsgBlock
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import standard_redeem_script
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain.tx import SideTransaction, SideTxType

from reference.sidechain.devnet import FUNDING, NOW, SIDE_PARAMS, SideDevnet
from reference.sidechain.node import RpcMainView, SideNode
from reference.sidechain.peer import SideP2P, side_network
from helpers import wait_for


_wait = wait_for


@pytest.fixture()
def net(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = SideDevnet(tmp_path / "net")
    yield n
    n.close()


def _state(node: SideNode) -> tuple[Any, ...]:
    with node.lock:
        return (node.store.best_chain(),
                sorted(node.store.db.execute("SELECT txid, n, value, ph FROM utxo").fetchall()),
                sorted(node.store.db.execute("SELECT main_txid FROM credited").fetchall()))


def test_two_sidechain_nodes_exchange_blocks_and_transactions_and_agree(net: SideDevnet, tmp_path: Path) -> None:
    miner = address_from_program_hash(Uint168(data=FUNDING))
    a = net.side
    b = SideNode(tmp_path / "b", RpcMainView(net.main_url), SIDE_PARAMS, now=lambda: NOW)
    pa, pb = SideP2P(a).start(), SideP2P(b).start()
    others: list[tuple[SideP2P, SideNode]] = []
    try:
        pb.connect("127.0.0.1", pa.port)
        user_key = hashlib.sha256(b"p2p user").digest()
        user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
        user = address_from_program_hash(Uint168(data=user_ph))
        net.deposit(user, 5 * 10**7)
        for _ in range(3):                                    # blocks are made on A only
            net.arbiter.relay_deposits()
            net.arbiter.merge_mine(miner)
        _wait("B at A's tip", lambda: b.height() == a.height() == 3)
        assert _state(a) == _state(b)                          # the same chain, UTXO set and credited deposits
        assert b.store.utxos_of(user_ph)

        # a transaction submitted to B is relayed to A, mined there, and the block comes back to B
        (txid, index, out), = b.store.utxos_of(user_ph)
        pay = sign_standard(SideTransaction(tx_type=SideTxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                                            inputs=(Input(previous=OutPoint(txid=txid, index=index),
                                                          sequence=0xFFFF_FFFF),),
                                            outputs=(Output(asset_id=ELA_ASSET_ID, value=out.value - 1000, output_lock=0,
                                                            program_hash=user_ph),)), [user_key])
        b.submit_tx(pay)
        _wait("the transaction in A's pool", lambda: pay.txid() in a.pool)
        net.arbiter.merge_mine(miner)
        _wait("B at A's new tip", lambda: b.height() == a.height() == 4)
        assert _state(a) == _state(b) and not b.pool and not a.pool
        assert [u[0] for u in b.store.utxos_of(user_ph)] == [pay.txid()]

        # a forged block (A's tip moved one height up: its SideAuxPow no longer names it) sent to B: reject with the reason, nothing stored
        tip = a.store.block_at(a.height())
        assert tip is not None
        forged = tip.model_copy(update={"header": tip.header.model_copy(update={
            "height": tip.header.height + 1, "previous": tip.hash()})})
        c = SideNode(tmp_path / "c", RpcMainView(net.main_url), SIDE_PARAMS, now=lambda: NOW)
        pc = SideP2P(c).start()
        others.append((pc, c))
        peer = pc.connect("127.0.0.1", pb.port)
        _wait("the handshake", lambda: peer.session.verack_received)
        before = _state(b)
        peer.send(MsgBlock(data=forged.serialize()))
        rej = _wait("B's reject", lambda: [r for r in peer.rejects if r.rejected_command == b"block"])
        assert b"SIDE_AUX_BLOCK_HASH" in rej[0].reason, rej[0].reason   # its SideAuxPow proves another block
        assert _state(b) == before
        # ... while C, which has the whole chain to catch up on, syncs it from B meanwhile
        _wait("C caught up through B", lambda: c.height() == 4)
        assert _state(c)[0] == _state(a)[0]

        # a late node syncs a longer chain in batches of 2 hashes per inv
        for _ in range(3):
            net.arbiter.merge_mine(miner)
        _wait("B at 7", lambda: b.height() == 7)
        d = SideNode(tmp_path / "d", RpcMainView(net.main_url), SIDE_PARAMS, now=lambda: NOW)
        pd = SideP2P(d).start()
        others.append((pd, d))
        pa.max_blocks_per_inv = 2
        pd.connect("127.0.0.1", pa.port)
        _wait("D caught up", lambda: d.height() == 7)
        assert _state(d) == _state(a)
    finally:
        for p, n in others:
            p.stop()
            n.close()
        pa.stop()
        pb.stop()
        b.close()


def test_the_sidechain_network_has_its_own_magic() -> None:
    """A main-chain node and a sidechain node never mistake each other's messages (P2P-002)."""
    from spec.chain.p2p import NETWORKS
    net = side_network(SIDE_PARAMS)
    assert net.magic == SIDE_PARAMS.magic == 2018202
    assert net.magic != NETWORKS["instant"].magic
