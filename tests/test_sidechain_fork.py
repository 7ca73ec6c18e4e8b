"""Fork choice in the sidechain node: competing branches kept in SQLite, a reorganisation that takes back
exactly what the losing branch did (a deposit credited, a DID registered, a withdrawal burned: the arbiters
no longer see it), the node's tip and state compared with the spec's by a Hypothesis state machine, and two
nodes on loopback P2P that saw different branches ending on the one with the most work.

The main chain is a fixed set of main blocks (those whose SideAuxPows prove the sidechain blocks of
:func:`conformance.generators.sidechain_fork.fork_blocks`) and one deposit transaction: a
:class:`~spec.sidechain.validation.MainView` of data, the same the vectors use."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spec.chain.block import Header
from spec.chain.tx import Transaction
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain import state as SS
from spec.sidechain import withdrawal as W
from spec.sidechain.block import SideBlock

from conformance.generators.sidechain import _coinbase, _side_block
from conformance.generators.sidechain_fork import ForkBlocks, fork_blocks

from reference.node.rpc import RpcClient
from reference.sidechain.arbiter import pending_withdrawal
from reference.sidechain.node import SideNode
from reference.sidechain.peer import SideP2P
from reference.sidechain.rpc import SideRpcServer
from helpers import wait_for

PARAMS = SP.id_network("instant")


class FixedMain:
    """A main chain that holds the given blocks and transactions (and no headers)."""

    def __init__(self, blocks: set[bytes], txs: dict[bytes, Transaction]) -> None:
        self.blocks, self.txs = blocks, txs

    def has_block(self, block_hash: bytes) -> bool:
        return block_hash in self.blocks

    def transaction(self, txid: bytes) -> Transaction | None:
        return self.txs.get(txid)

    def header(self, block_hash: bytes) -> Header | None:
        return None


def _main(f: ForkBlocks, extra: set[bytes] = frozenset()) -> FixedMain:  # type: ignore[assignment]
    return FixedMain(set(f.main_blocks) | set(extra), {f.deposit.txid(): f.deposit})


def _node(path: Path, main: FixedMain) -> SideNode:
    return SideNode(path, main, PARAMS, now=lambda: SP.side_genesis_block().header.timestamp + 100)


def node_state(node: SideNode) -> tuple[Any, ...]:
    """What the node's stores hold, in the spec's terms."""
    with node.lock:
        db = node.store.db
        utxos = {(bytes(t), n): (bytes(a), v, lk, bytes(p)) for t, n, a, v, lk, p in
                 db.execute("SELECT txid, n, asset, value, lock, ph FROM utxo")}
        deposits = {bytes(m) for (m,) in db.execute("SELECT main_txid FROM credited")}
        withdrawals = sorted(bytes(t) for (t,) in db.execute("SELECT txid FROM withdrawals"))
        assets = {bytes(a): p for a, p in db.execute("SELECT asset, precision FROM assets")}
        dids = sorted(d for (d,) in node.did.store.db.execute("SELECT did FROM dids"))
        return (tuple(node.store.best_chain()), utxos, deposits, withdrawals, assets, dids, node.editions)


def spec_state(s: SS.SideState) -> tuple[Any, ...]:
    return (s.hashes, {k: (o.asset_id, o.value, o.output_lock, o.program_hash) for k, o in s.utxos.items()},
            set(s.deposits), sorted(s.withdrawals), dict(s.assets), sorted(k for k, _ in s.did.dids), s.editions)


def test_a_heavier_branch_takes_back_the_deposit_the_did_and_the_withdrawal(tmp_path: Path) -> None:
    f = fork_blocks()
    node = _node(tmp_path / "n", _main(f))
    rpc = SideRpcServer(node).start()
    try:
        side = RpcClient(f"http://127.0.0.1:{rpc.port}")
        for b in f.a:
            assert node.submit_block(b) == {b.hash(): "valid"}
        assert node.status(f.a[-1].hash()) == "tip"
        assert side.call("did_resolveDID", {"did": f.did})["status"] == 0
        pending = side.call("getwithdraws")
        assert [w["txid"] for w in pending] == [f.withdrawal.hex()]
        w = pending_withdrawal(pending[0])
        x_addr = SP.x_address(SP.side_genesis_block().hash())
        x_utxos = [(b"\x11" * 32, 0, 10**8)]
        pay = W.withdrawal_payment(w, x_utxos, x_address=x_addr, exchange_rate=1.0)
        assert pay is not None

        def arbiter_check() -> W.PendingWithdrawal:
            """What an arbiter does before signing: the sidechain's pending withdrawals, read over RPC."""
            now_pending = {bytes.fromhex(p["txid"]): pending_withdrawal(p) for p in side.call("getwithdraws")}
            return W.check_withdrawal_payment(pay, now_pending.get, lambda t, i: dict(
                ((t2, i2), v) for t2, i2, v in x_utxos).get((t, i)), x_address=x_addr, exchange_rate=1.0,
                signed_before=None, side_height=int(side.call("getblockcount")) - 1, confirmations=1)

        assert arbiter_check().side_txid == f.withdrawal       # before the reorganisation: an arbiter would sign

        for b in f.b[:3]:                                       # equal work: a stays the tip
            assert node.submit_block(b) == {b.hash(): "valid"}
        assert node.status(f.a[-1].hash()) == "tip" and node.status(f.b[2].hash()) == "valid"
        assert node.submit_block(f.b[3]) == {f.b[3].hash(): "valid"}
        assert node.status(f.b[3].hash()) == "tip" and node.height() == 4

        assert side.call("did_resolveDID", {"did": f.did})["status"] != 0      # the DID does not resolve
        assert side.call("getwithdraws") == []                                  # nothing for the arbiters to pay
        with pytest.raises(Reject) as e:
            arbiter_check()
        assert e.value.reason is Reason.ARBITER_UNKNOWN_WITHDRAWAL
        tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b], _main(f))
        assert node_state(node) == spec_state(tree.tip_state)
        assert not node.store.credited(f.deposit.txid())
        # the losing branch's transactions went back to the pool, in chain order, as they still check on b
        assert list(node.pool) == [tx.txid() for blk in f.a for tx in blk.transactions[1:]]

        # the deposit can be credited again on the winning branch, by a block that builds on it
        again, m = _side_block(f.b[-1], [_coinbase(5), f.a[0].transactions[1]])
        node.main.blocks.add(m)
        assert node.submit_block(again) == {again.hash(): "valid"} and node.store.credited(f.deposit.txid())
        assert list(node.pool) == [tx.txid() for blk in f.a[1:] for tx in blk.transactions[1:]]   # mined: gone
    finally:
        rpc.stop()
        node.close()


def test_a_restart_keeps_side_branches_and_the_chosen_tip(tmp_path: Path) -> None:
    f = fork_blocks()
    node = _node(tmp_path / "n", _main(f))
    for b in [*f.a, *f.b[:3]]:
        node.submit_block(b)
    assert node.submit_block(f.c[2]) == {f.c[2].hash(): "orphan"}
    assert node.submit_block(f.c[1]) == {f.c[1].hash(): "orphan"}
    before = node_state(node)
    node.close()
    node = _node(tmp_path / "n", _main(f))
    try:
        assert node_state(node) == before and node.status(f.b[2].hash()) == "valid"
        assert node.status(f.c[2].hash()) == "orphan"
        out = node.submit_block(f.c[0])                        # c's first block connects the orphans: c wins
        assert out == {x.hash(): "valid" for x in f.c} and node.status(f.c[2].hash()) == "tip"
        tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b[:3], f.c[2], f.c[1], f.c[0]], _main(f))
        assert tree.best == f.c[2].hash() and node_state(node) == spec_state(tree.tip_state)
    finally:
        node.close()


def test_invalid_blocks_and_their_descendants_are_refused_and_change_nothing(tmp_path: Path) -> None:
    f = fork_blocks()
    node = _node(tmp_path / "n", _main(f))
    try:
        for b in [*f.a, *f.b[:2]]:
            node.submit_block(b)
        before = node_state(node)
        with pytest.raises(Reject) as e:
            node.submit_block(f.bad)
        assert e.value.reason is Reason.COINBASE_BAD_REWARD
        with pytest.raises(Reject) as e:
            node.submit_block(f.after_bad[0])
        assert e.value.reason is Reason.SIDE_FORK_DESCENDS_INVALID
        assert node.submit_block(f.bad) == {f.bad.hash(): "duplicate"}
        assert node_state(node) == before and node.status(f.after_bad[0].hash()) == "invalid"
    finally:
        node.close()


KINDS = ("empty", "empty", "empty", "empty", "deposit", "did", "burn", "mint", "greedy")
"""What a mined block carries besides its coinbase: nothing; the recharge of the fixture's deposit (invalid
where the chain credited it); the DID request paid from that recharge's output, or the withdrawal burning
the DID request's change, or an edition minted by the DID with that change (invalid where that output is not
unspent, or the DID not registered before the block); a coinbase above the fees (SCV-008)."""


class NodeMatchesSpec(RuleBasedStateMachine):
    """Random sidechain block trees, mined on random known blocks and delivered in random order (with
    duplicates and restarts) to a real node and to the spec's tree; after every step the node's tip and
    its whole state (both stores and the editions) are the spec's."""

    def __init__(self) -> None:
        super().__init__()
        self.f = fork_blocks()
        self.dir = tempfile.mkdtemp(prefix="side-fork-")
        self.main = _main(self.f)
        self.node = _node(Path(self.dir), self.main)
        self.tree = SS.new_side_tree(PARAMS)
        self.built: list[SideBlock] = [SP.side_genesis_block()]
        self.salt = 0

    @initialize(branches=st.lists(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5), min_size=2, max_size=3),
                story=st.sampled_from([(), ("deposit", "did", "mint"), ("deposit", "did", "burn")]))
    def start(self, branches: list[list[str]], story: tuple[str, ...]) -> None:
        """Competing branches on the genesis block to begin with, the first often a deposit, the DID paid
        with it, then an edition it mints or a withdrawal."""
        branches[0] = [*story, *branches[0]]
        self.mine(0, branches)

    @rule(parent=st.integers(0, 10**6),
          branches=st.lists(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5), min_size=1, max_size=3))
    def mine(self, parent: int, branches: list[list[str]]) -> None:
        """One to three competing branches of new blocks on any block built so far (delivered or not,
        valid or not)."""
        for kinds in branches:
            prev = self.built[parent % len(self.built)]
            for kind in kinds:
                prev = self._mine(prev, kind)

    def _mine(self, prev: SideBlock, kind: str) -> SideBlock:
        f = self.f
        self.salt += 1
        body = {"empty": [], "deposit": [f.a[0].transactions[1]], "did": [f.a[1].transactions[1]],
                "burn": [f.a[2].transactions[1]], "mint": [f.mint], "greedy": []}[kind]
        pays = [(b"\x21" + bytes(20), 1)] if kind == "greedy" else []
        block, m = _side_block(prev, [_coinbase(prev.header.height + 1 + 1000 * self.salt, pays), *body])
        self.main.blocks.add(m)
        self.built.append(block)
        return block

    @rule(i=st.integers(0, 10**6))
    def deliver(self, i: int) -> None:
        self._deliver(self.built[i % len(self.built)])

    @rule(i=st.integers(0, 10**6), signature=st.booleans())
    def forge(self, i: int, signature: bool) -> None:
        """A copy of a built block under its hash with its SideAuxPow, or a signature, corrupted: refused and
        forgotten by both, so the honest block is still taken when it comes."""
        from conformance.generators.sidechain_fork import forged_auxpow, forged_signature

        b = self.built[1 + i % (len(self.built) - 1)] if len(self.built) > 1 else self.built[0]
        signed = len(b.transactions) > 1 and b.transactions[-1].programs
        self._deliver(forged_signature(b) if signature and signed else forged_auxpow(b))

    @rule(r=st.randoms(use_true_random=False))
    def deliver_all(self, r: random.Random) -> None:
        """Every block built so far, in a random order (those seen before are duplicates)."""
        blocks = list(self.built)
        r.shuffle(blocks)
        for b in blocks:
            self._deliver(b)
            self.same_tip_and_state()

    def _deliver(self, b: SideBlock) -> None:
        old = self.tree.best
        self.tree, want = SS.add_side_block(self.tree, b, self.main)
        try:
            got = self.node.submit_block(b)
        except Reject as e:
            why = want[b.hash()]
            assert e.reason.value == ("SIDE_FORK_DESCENDS_INVALID" if why.startswith("descends") else why)
            assert b.hash() not in self.tree.states and b.hash() not in self.tree.orphans
        else:
            assert got == want
        h = b.hash()
        assert self.node.status(h) == ("tip" if h == self.tree.best else "valid" if h in self.tree.states else
                                       "orphan" if h in self.tree.orphans else
                                       "invalid" if h in self.tree.invalid else None)
        if old not in self.tree.tip_state.hashes:
            event("a reorganisation")
        if self.tree.tip_state.did.dids:
            event("a DID on the tip")
        if self.tree.tip_state.editions.works:
            event("an edition on the tip")

    @rule()
    def restart(self) -> None:
        self.node.close()
        self.node = _node(Path(self.dir), self.main)

    @invariant()
    def same_tip_and_state(self) -> None:
        assert self.node.tip_hash() == self.tree.best
        assert node_state(self.node) == spec_state(self.tree.tip_state)

    def teardown(self) -> None:
        self.node.close()
        shutil.rmtree(self.dir, ignore_errors=True)


NodeMatchesSpec.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                             suppress_health_check=[HealthCheck.too_slow])
test_node_matches_the_spec = NodeMatchesSpec.TestCase


_wait = wait_for


def test_two_nodes_that_saw_different_branches_converge_on_the_most_work(tmp_path: Path) -> None:
    f = fork_blocks()
    a = _node(tmp_path / "a", _main(f))
    b = _node(tmp_path / "b", _main(f))
    for blk in f.a:                          # A saw branch a (3 blocks, a deposit, a DID, a withdrawal)
        a.submit_block(blk)
    for blk in f.b:                          # B saw branch b (4 blocks)
        b.submit_block(blk)
    pa, pb = SideP2P(a).start(), SideP2P(b).start()
    try:
        pa.connect("127.0.0.1", pb.port)
        _wait("A on b's tip", lambda: a.tip_hash() == f.b[-1].hash())
        _wait("B holds a's branch", lambda: all(b.status(x.hash()) == "valid" for x in f.a))
        assert node_state(a) == node_state(b)
        # A then extends a shared block of a with branch c (4 blocks from genesis, equal to b): no change;
        # one more block on c makes c the heaviest, and B follows
        for blk in f.c:
            a.submit_block(blk)
        assert a.tip_hash() == f.b[-1].hash()
        c4, m = _side_block(f.c[-1], [_coinbase(9)])
        a.main.blocks.add(m)
        b.main.blocks.add(m)
        a.submit_block(c4)
        _wait("B on c's tip", lambda: b.tip_hash() == c4.hash())
        assert node_state(a) == node_state(b)
        tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b, *f.c, c4], _main(f, {m}))
        assert node_state(b) == spec_state(tree.tip_state)
        assert b.store.credited(f.deposit.txid()) and not b.did.store.did(f.did)   # c shares a's deposit, not its DID
    finally:
        pa.stop()
        pb.stop()
        a.close()
        b.close()


_IMPORTER = r"""
import json, sys
from reference.sidechain.node import SideNode
from spec.chain.tx import Transaction
from spec.sidechain import params as SP
from spec.sidechain.block import SideBlock

class FixedMain:
    def __init__(self, blocks, txs):
        self.blocks, self.txs = blocks, txs
    def has_block(self, h):
        return h in self.blocks
    def transaction(self, txid):
        return self.txs.get(txid)
    def header(self, h):
        return None

data = json.load(open(sys.argv[2]))
txs = [Transaction.decode(bytes.fromhex(t)) for t in data["main_txs"]]
main = FixedMain({bytes.fromhex(h) for h in data["main_blocks"]}, {t.txid(): t for t in txs})
node = SideNode(sys.argv[1], main, SP.id_network("instant"), now=lambda: int(sys.argv[3]))
blocks = [SideBlock.decode(bytes.fromhex(b)) for b in data["blocks"]]
print("ready", flush=True)
while True:
    for b in blocks:
        try:
            node.submit_block(b)
        except Exception:
            pass
"""


def _extend(parent: SideBlock, n: int, salt: int, mains: list[bytes]) -> list[SideBlock]:
    out = []
    for _ in range(n):
        parent, m = _side_block(parent, [_coinbase(parent.header.height + 1 + 1000 * salt)])
        mains.append(m)
        out.append(parent)
    return out


def test_sigkill_never_leaves_a_half_applied_reorganisation(tmp_path: Path) -> None:
    import json
    import os
    import random
    import signal
    import subprocess
    import sys

    f = fork_blocks()
    mains = list(f.main_blocks)
    p = [*f.a, *_extend(f.a[-1], 7, 7, mains)]                 # a deposit, a DID, a withdrawal, then 7 more
    q = [*f.b, *_extend(f.b[-1], 4, 8, mains)]                 # empty, 8 blocks
    # the tip swings: p (3) -> q (4, the DID gone) -> p (6, the DID back) -> q (8) -> p (10, its last 4 as orphans first)
    blocks = p[:3] + q[:4] + p[3:6] + q[4:8] + p[6:10][::-1]
    main = FixedMain(set(mains), {f.deposit.txid(): f.deposit})
    (tmp_path / "blocks.json").write_text(json.dumps({
        "main_blocks": [m.hex() for m in mains], "main_txs": [f.deposit.serialize().hex()],
        "blocks": [b.serialize().hex() for b in blocks]}))
    now = SP.side_genesis_block().header.timestamp + 100
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(repo))
    rng = random.Random(3)
    by_hash = {b.hash(): b for b in blocks}
    seen_tips = set()
    for round_ in range(10):
        datadir = tmp_path / f"node{round_ % 5}"            # five fresh stores, each killed twice
        proc = subprocess.Popen([sys.executable, "-c", _IMPORTER, str(datadir), str(tmp_path / "blocks.json"), str(now)],
                                env=env, stdout=subprocess.PIPE, cwd=repo)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.35))           # the whole sequence takes about 0.3 s
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        node = SideNode(datadir, main, PARAMS, now=lambda: now)        # recovery: the DID store brought level
        try:
            linear = SS.side_genesis_state(PARAMS)
            for h in node.store.best_chain()[1:]:
                linear, _ = SS.apply_side_block(linear, by_hash[h], main)
            assert node_state(node) == spec_state(linear)
            assert node.store.did_rewind() is None
            seen_tips.add((node.height(), node.tip_hash()))
        finally:
            node.close()
    print("tips seen after kills:", sorted(h for h, _ in seen_tips))
    node = SideNode(datadir, main, PARAMS, now=lambda: now)
    try:
        for b in blocks:
            try:
                node.submit_block(b)
            except Reject:
                pass
        tree, _ = SS.side_fork_choice(PARAMS, blocks, main)
        assert node.tip_hash() == tree.best == p[9].hash()
        assert node_state(node) == spec_state(tree.tip_state) and tree.tip_state.did.did(f.did) is not None
    finally:
        node.close()


def test_an_edition_minted_only_on_the_losing_branch_is_gone(tmp_path: Path) -> None:
    f = fork_blocks()
    minted, m = _side_block(f.a[1], [_coinbase(3), f.mint])
    main = _main(f, {m})
    node = _node(tmp_path / "n", main)
    try:
        for b in [f.a[0], f.a[1], minted]:
            assert node.submit_block(b) == {b.hash(): "valid"}
        assert node.editions.works and node.edition_history[-1][0] == 3
        for b in f.b:
            node.submit_block(b)
        assert node.tip_hash() == f.b[-1].hash()
        assert not node.editions.works and node.edition_history == []
        assert node.store.edition_events() == []
        # back to a's side: c forks after a's first block and outweighs b; it holds neither DID nor edition
        extra, m2 = _side_block(f.c[-1], [_coinbase(9)])
        main.blocks.add(m2)
        for b in [*f.c, extra]:
            node.submit_block(b)
        tree, _ = SS.side_fork_choice(PARAMS, [f.a[0], f.a[1], minted, *f.b, *f.c, extra], main)
        assert node.tip_hash() == tree.best == extra.hash() and node_state(node) == spec_state(tree.tip_state)
        assert not tree.tip_state.editions.works
    finally:
        node.close()


def test_a_block_the_main_chain_does_not_prove_yet_is_taken_later(tmp_path: Path) -> None:
    """SCV-001 depends on the node's main-chain view, which grows: the refusal is not remembered."""
    f = fork_blocks()
    main = FixedMain(set(), {f.deposit.txid(): f.deposit})
    node = _node(tmp_path / "n", main)
    try:
        with pytest.raises(Reject) as e:
            node.submit_block(f.b[0])
        assert e.value.reason is Reason.SIDE_MAIN_BLOCK_UNKNOWN and node.status(f.b[0].hash()) is None
        assert node.submit_block(f.b[1]) == {f.b[1].hash(): "orphan"}
        main.blocks.update(f.main_blocks)                     # the main node caught up
        assert node.submit_block(f.b[0]) == {f.b[0].hash(): "valid", f.b[1].hash(): "valid"}
        assert node.tip_hash() == f.b[1].hash()
        with pytest.raises(Reject) as e:                       # an intrinsic fault is remembered
            node.submit_block(f.bad)
        assert node.status(f.bad.hash()) == "invalid"
    finally:
        node.close()


def test_a_forged_copy_does_not_keep_the_honest_block_out(tmp_path: Path) -> None:
    """Copies of a's blocks under their hashes, with the SideAuxPow or a signature corrupted (neither is covered
    by the block hash): the node refuses each without remembering it, as the spec does, and takes the honest
    blocks after them; the node's tip and state are the spec's."""
    from conformance.generators.sidechain_fork import forged_auxpow, forged_signature

    f = fork_blocks()
    main = _main(f)
    node = _node(tmp_path / "n", main)
    try:
        order = [forged_auxpow(f.a[0]), f.a[0], forged_signature(f.a[1]), f.a[1], f.a[2]]
        with pytest.raises(Reject) as e:
            node.submit_block(order[0])
        assert e.value.reason is Reason.SIDE_AUX_MERKLE and node.status(f.a[0].hash()) is None
        assert node.submit_block(f.a[0]) == {f.a[0].hash(): "valid"}
        with pytest.raises(Reject) as e:
            node.submit_block(order[2])
        assert e.value.reason is Reason.SIGNATURE_INVALID and node.status(f.a[1].hash()) is None
        assert node.submit_block(f.a[1]) == {f.a[1].hash(): "valid"}
        assert node.submit_block(f.a[2]) == {f.a[2].hash(): "valid"}
        tree, _ = SS.side_fork_choice(PARAMS, order, main)
        assert node.tip_hash() == tree.best == f.a[2].hash() and node_state(node) == spec_state(tree.tip_state)
    finally:
        node.close()


def test_a_store_without_the_version_is_refused_at_open_not_mid_reorganisation(tmp_path: Path) -> None:
    """A sidechain store written before side branches and undo data were kept (tables, no version) is refused
    when it is opened, with its version named, and left as it was; ``elastos sidechain`` says so and exits 2.
    A new folder opens, and opens again (the version it writes is the one it reads)."""
    import sqlite3
    import subprocess
    import sys

    from reference.sidechain.store import SCHEMA_VERSION, SideStore, SideStoreError

    fresh = tmp_path / "fresh.sqlite"
    SideStore(fresh).close()
    SideStore(fresh).close()
    assert sqlite3.connect(fresh).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    old = tmp_path / "old" / "side.sqlite"
    old.parent.mkdir()
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL)")
    db.execute("INSERT INTO blocks VALUES (0, x'00', x'00')")
    db.commit()
    db.close()
    before = old.read_bytes()
    with pytest.raises(SideStoreError, match="version 0"):
        SideStore(old)
    assert old.read_bytes() == before

    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SideStoreError, match=f"version {SCHEMA_VERSION + 1}"):
        SideStore(other)

    done = subprocess.run([sys.executable, "-m", "reference.cli", "sidechain", "--datadir", str(old.parent),
                           "--main-rpc", "http://127.0.0.1:1", "--rpcport", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "sidechain store version 0" in done.stderr, done.stderr
    assert old.read_bytes() == before


def test_equal_work_siblings_connected_together_end_on_the_spec_tip() -> None:
    """Two orphan siblings of equal work (B3 and D on B2) connect in one call when B1 arrives: the tie goes to
    the one the spec connects first, which depends on arrival order, not on the hashes. Found by the state
    machine: the node used to take orphans in hash order."""
    m = NodeMatchesSpec()
    try:
        m.start(branches=[["empty"], ["empty"] * 5, ["empty"] * 2], story=())
        m.mine(parent=3, branches=[["empty"]])          # D on B2 (built: genesis, A1, B1..B5, C1, C2, D)
        for i in (8, 3, 1, 4, 7, 0, 9, 6, 2):           # C2, B2, A1, B3, C1, genesis, D, B5, B1
            b = m.built[i]
            m.tree, want = SS.add_side_block(m.tree, b, m.main)
            assert m.node.submit_block(b) == want
            assert m.node.tip_hash() == m.tree.best
            assert node_state(m.node) == spec_state(m.tree.tip_state)
        assert m.tree.best == m.built[9].hash()          # D arrived after B3, connects first, keeps the tie
        m.restart()
        assert m.node.tip_hash() == m.tree.best and node_state(m.node) == spec_state(m.tree.tip_state)
    finally:
        m.teardown()
