"""The SQLite store: reorganization, invalid branches, persistence and crash safety (SIGKILL)."""

from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reference.node.node import Node
from reference.node.store import Store
from spec.chain.block import decode_block
from spec.chain.state import apply_block, fork_choice, genesis_state
from spec.errors import DecodeError, Reason
from test_node_helpers import GENESIS, NOW, PARAMS, chain, make_block

REPO = Path(__file__).resolve().parents[1]


def spec_state_of(store: Store):
    """The spec's state for the stored best chain, applied block by block from genesis."""
    state = genesis_state(PARAMS)
    for h in store.best_chain()[1:]:
        state, _ = apply_block(state, store.block(h), NOW)
    return state


def test_reorg_to_heavier_branch_and_back(tmp_path: Path) -> None:
    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    a = chain(4, tag=1)
    b = chain(6, parent=a[0], tag=2)
    for blk in a:
        assert node.submit_block(blk.serialize()) == {blk.hash(): "valid"}
    assert node.best_hash() == a[-1].hash()
    for blk in b[:2]:   # side branch, equal work at b[1]... (a has 4 blocks, b[:2] reaches height 3)
        node.submit_block(blk.serialize())
    assert node.best_hash() == a[-1].hash()
    for blk in b[2:]:
        node.submit_block(blk.serialize())
    assert node.best_hash() == b[-1].hash()
    assert node.store.all_utxos() == dict(spec_state_of(node.store).utxos)
    tree = fork_choice(PARAMS, a + b, NOW)
    assert node.best_hash() == tree.best
    assert node.store.all_utxos() == dict(tree.tip_state.utxos)


def test_invalid_branch_block_is_rejected_and_store_unchanged(tmp_path: Path) -> None:
    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    a = chain(3, tag=1)
    for blk in a:
        node.submit_block(blk)
    before = (node.best_hash(), node.store.all_utxos(), node.store.best_chain())
    b1 = make_block(GENESIS.hash(), 1, GENESIS.header.timestamp + 1, 9)
    b2 = make_block(b1.hash(), 2, b1.header.timestamp + 1, 9, variant="bad_reward")
    b3 = make_block(b2.hash(), 3, b2.header.timestamp + 1, 9)
    b4 = make_block(b3.hash(), 4, b3.header.timestamp + 1, 9)
    # orphans first, then the parent: the branch would win on work but b2 breaks BLC-005
    assert node.submit_block(b4)[b4.hash()] == "orphan"
    assert node.submit_block(b3)[b3.hash()] == "orphan"
    assert node.submit_block(b2)[b2.hash()] == "orphan"
    out = node.submit_block(b1)
    assert out[b1.hash()] == "valid"
    assert out[b2.hash()] == Reason.COINBASE_BAD_REWARD.value
    assert out[b3.hash()].startswith("descends from invalid")
    assert out[b4.hash()].startswith("descends from invalid")
    assert (node.best_hash(), node.store.all_utxos(), node.store.best_chain()) == before
    assert node.status(b4.hash()) == "invalid"

    # the verdicts survive a restart: the same blocks are refused without being validated again
    node.close()
    again = Node(tmp_path, PARAMS, now=lambda: NOW)
    try:
        for blk in (b2, b3, b4):
            assert again.status(blk.hash()) == "invalid"
            assert again.submit_block(blk) == {blk.hash(): "duplicate"}
        b5 = make_block(b4.hash(), 5, b4.header.timestamp + 1, 9)
        assert again.submit_block(b5)[b5.hash()].startswith("descends from invalid")
        assert again.invalid[b2.hash()] == Reason.COINBASE_BAD_REWARD.value
        assert (again.best_hash(), again.store.all_utxos(), again.store.best_chain()) == before
    finally:
        again.close()


def test_garbage_is_a_decode_error_and_changes_nothing(tmp_path: Path) -> None:
    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    a = chain(2)
    for blk in a:
        node.submit_block(blk)
    raw = a[-1].serialize()
    with pytest.raises(DecodeError):
        node.submit_block(raw[:-3])
    assert node.best_hash() == a[-1].hash()


def test_restart_keeps_the_chain(tmp_path: Path) -> None:
    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    a = chain(5)
    for blk in a:
        node.submit_block(blk)
    node.close()
    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    assert node.best_hash() == a[-1].hash() and node.height() == 5
    assert node.store.all_utxos() == dict(spec_state_of(node.store).utxos)


_IMPORTER = r"""
import struct, sys
from reference.node.node import Node
from spec.chain.params import INSTANT
node = Node(sys.argv[1], INSTANT, now=lambda: int(sys.argv[3]))
data = open(sys.argv[2], "rb").read()
pos = 0
print("ready", flush=True)
while True:
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        node.submit_block(data[pos + 4: pos + 4 + n])
        pos += 4 + n
"""


def test_sigkill_never_leaves_a_half_applied_block(tmp_path: Path) -> None:
    main = chain(20, tag=1)
    side = chain(25, parent=main[5], tag=2)          # heavier: forces a reorganization midway
    blocks = main + side[12:] + side[:12]           # side[12:] wait as orphans, then connect in one burst
    blob = b"".join(struct.pack("<I", len(b.serialize())) + b.serialize() for b in blocks)
    (tmp_path / "blocks.bin").write_bytes(blob)
    datadir = tmp_path / "node"
    rng = random.Random(1)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for round_ in range(6):
        p = subprocess.Popen([sys.executable, "-c", _IMPORTER, str(datadir), str(tmp_path / "blocks.bin"), str(NOW)],
                             env=env, stdout=subprocess.PIPE, cwd=REPO)
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.08 * (round_ + 1)))
        p.send_signal(signal.SIGKILL)
        p.wait()
        store = Store(datadir / "chain.sqlite", PARAMS)
        print("after kill", round_, "height", store.best_height(), "orphans", store.orphan_count())
        state = spec_state_of(store)
        assert store.best_hash() == state.tip().hash
        assert store.all_utxos() == dict(state.utxos)
        assert all(store.output_count(tx.txid()) is not None
                   for h in store.best_chain() for tx in store.block(h).transactions)
        store.close()
    # it can continue: feeding everything reaches the spec's fork choice
    node = Node(datadir, PARAMS, now=lambda: NOW)
    for b in blocks:
        node.submit_block(b)
    tree = fork_choice(PARAMS, blocks, NOW)
    assert node.best_hash() == tree.best == side[-1].hash()
    assert node.store.all_utxos() == dict(tree.tip_state.utxos)


def test_reorg_returns_detached_transactions_to_the_pool(tmp_path: Path) -> None:
    from spec.chain.builder import sign_standard, transfer
    from test_node_helpers import KEY, MINER

    node = Node(tmp_path, PARAMS, now=lambda: NOW)
    base = chain(101)
    for blk in base:
        node.submit_block(blk)
    cb = base[0].transactions[0]
    tx = sign_standard(transfer([(cb.txid(), 1)], [(MINER, cb.outputs[1].value - 500)]), [KEY])
    node.submit_tx(tx)
    tip = base[-1]
    a = make_block(tip.hash(), 102, tip.header.timestamp + 1, 1, txs=(tx,), fees=500)
    node.submit_block(a)
    assert node.best_hash() == a.hash() and not node.mempool.txs
    b = chain(2, parent=tip, tag=2)
    for blk in b:
        node.submit_block(blk)
    assert node.best_hash() == b[-1].hash()
    assert list(node.mempool.txs) == [tx.txid()] and node.mempool.txs[tx.txid()][1] == 500
    assert node.store.utxo(cb.txid(), 1) is not None
