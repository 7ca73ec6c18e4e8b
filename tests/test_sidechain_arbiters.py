"""Arbiters as separate processes: four ``elastos arbiter --serve`` processes, each holding one key of the
3-of-4 cross-chain set, merge-mine in turn (the one on duty signs the SideChainPow), relay a deposit, and pay
a withdrawal with three signatures. The arbiter that leads the payment is SIGKILLed right after it stored
a state (proposed, signed or sent) and restarted: the withdrawal is then paid exactly once. While it is
down, payments signed by fewer than m arbiters or by non-arbiters are refused by the main node, and the
live arbiters refuse to sign forged payments, each with its reason."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spec.chain.tx import Program, Transaction, TxType, WithdrawFromSideChainPayload
from spec.chain.validation import on_duty_cross_chain_arbiter
from spec.crypto import p256
from spec.crypto.scripts import PUSH_SIGNATURE, multisig_redeem_script, standard_redeem_script
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W
from spec.sidechain.tx import SideTxType

from reference.node.rpc import RpcClient, RpcError, from_display
from reference.sidechain.arbiter import _sela
from reference.sidechain.devnet import FUNDING, SideDevnet
from helpers import side_burn, wait_for

N = 4
M = N * 2 // 3 + 1
AMOUNT = 10**8
PAYOUT = 40_000_000


def _addr(key: bytes) -> tuple[bytes, str]:
    ph = Uint168.from_code(0x21, standard_redeem_script(p256.public_key_from_private(key))).data
    return ph, address_from_program_hash(Uint168(data=ph))


_wait = functools.partial(wait_for, timeout=120.0, interval=0.2, tolerate=(RpcError, OSError))


class Cluster:
    def __init__(self, root: Path, net: SideDevnet) -> None:
        self.root, self.net = root, net
        self.procs: dict[int, subprocess.Popen] = {}  # type: ignore[type-arg]
        self.pubkeys = [p256.public_key_from_private(k) for k in net.arbiter_keys]
        for i, k in enumerate(net.arbiter_keys):
            (root / f"arb{i}.json").write_text(json.dumps({"private_key": k.hex()}))

    def start(self, i: int, pause_at: str | None = None, recharge_version: int = 1) -> None:
        args = [sys.executable, "-m", "reference.cli", "arbiter", "--serve", "--main-rpc", self.net.main_url,
                "--side-rpc", self.net.side_url, "--key", str(self.root / f"arb{i}.json"), "--network", "instant",
                "--miner", address_from_program_hash(Uint168(data=FUNDING)), "--datadir", str(self.root / f"a{i}"),
                "--peers", str(self.root / "peers"), "--interval", "0.4", "--recharge-version", str(recharge_version)]
        args += [a for pk in self.pubkeys for a in ("--arbiter", pk.hex())]
        if pause_at:
            args += ["--pause-at", pause_at]
        log = open(self.root / f"a{i}.log", "a")  # noqa: SIM115
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("ready") and f"m={M} n={N}" in line, (line, (self.root / f"a{i}.log").read_text())
        self.procs[i] = p

    def kill(self, i: int) -> None:
        p = self.procs.pop(i)
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(timeout=30) == -signal.SIGKILL

    def stop_all(self) -> None:
        for i, p in list(self.procs.items()):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.procs.pop(i)

    def url(self, i: int) -> str:
        return (self.root / "peers" / f"{self.pubkeys[i].hex()}.url").read_text()

    def db(self, i: int) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.root / f'a{i}' / 'arbiter.sqlite'}?mode=ro", uri=True)


def _withdraw_payments(net: SideDevnet, side_txid: bytes) -> list[Transaction]:
    """Every WithdrawFromSideChain of the main chain that names ``side_txid``."""
    out = []
    for h in range(net.main.height() + 1):
        block = net.main.store.block(net.main.store.hash_at(h))  # type: ignore[arg-type]
        for tx in block.transactions:  # type: ignore[union-attr]
            if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN and side_txid in tx.payload.sidechain_tx_hashes:  # type: ignore[union-attr]
                out.append(tx)
    return out


@pytest.mark.parametrize("pause_at", ["proposed", "signed", "sent"])
def test_a_killed_arbiter_finishes_the_withdrawal_exactly_once(tmp_path: Path, pause_at: str) -> None:
    net = SideDevnet(tmp_path / "net", arbiters=N)
    cluster = Cluster(tmp_path, net)
    main, side = RpcClient(net.main_url), RpcClient(net.side_url)
    try:
        for i in range(N):
            cluster.start(i, pause_at=pause_at)
        # the arbiters merge-mine in turn: both chains grow with nobody else mining, each block's SideChainPow
        # signed by the arbiter on duty (the main node checks it, TXC-023), all four taking their turn
        _wait("merge-mined blocks", lambda: side.call("getblockcount") >= 5 and net.main.height() >= 105)
        producers = set()
        for h in range(102, net.main.height() + 1):
            block = net.main.store.block(net.main.store.hash_at(h))  # type: ignore[arg-type]
            assert [t.tx_type for t in block.transactions].count(TxType.SIDECHAIN_POW) == 1  # type: ignore[union-attr]
            producers.add(on_duty_cross_chain_arbiter(h, net.main_params))
        assert producers == set(cluster.pubkeys)

        user_key = hashlib.sha256(b"arbiter-test user").digest()
        user_ph, user = _addr(user_key)
        target_ph, target = _addr(b"\x09" * 32)
        net.deposit(user, AMOUNT)
        fund = _wait("the deposit credited on the sidechain", lambda: side.call("listunspent", {"addresses": [user]}))
        assert [f["sela"] for f in fund] == [str(AMOUNT)]

        burn = side_burn((from_display(fund[0]["txid"]), fund[0]["vout"]), target, PAYOUT, PAYOUT + 10_000,
                         AMOUNT - PAYOUT - 20_000, user_ph, user_key)
        side.call("sendrawtransaction", {"data": burn.serialize().hex()})
        side_txid = burn.txid()

        # the arbiter on duty takes the withdrawal and stops right after storing `pause_at`
        def paused() -> list[int]:
            return [i for i in range(N) if (tmp_path / f"a{i}" / "paused").exists()]

        (leader,) = _wait("an arbiter paused mid-withdrawal", paused)
        assert (tmp_path / f"a{leader}" / "paused").read_text() == pause_at
        with cluster.db(leader) as db:
            (state, raw_unsigned, raw_signed), = db.execute("SELECT state, unsigned, signed_tx FROM proposals").fetchall()
        assert state == pause_at
        cluster.kill(leader)                                        # SIGKILL, mid-withdrawal

        unsigned = Transaction.decode(raw_unsigned)
        if pause_at == "signed":
            _refusals(net, cluster, leader, unsigned, Transaction.decode(raw_signed), side_txid)
        paid_before = main.call("listunspent", addresses=[target])
        assert paid_before == [] or pause_at == "sent"             # "sent": it may already sit in the main pool

        cluster.start(leader)                                       # restart, without the pause
        _wait("the withdrawal paid and recorded", lambda: side.call("getwithdraws") == []
              and main.call("listunspent", addresses=[target]), timeout=180)
        height = net.main.height()
        _wait("three more main blocks", lambda: net.main.height() >= height + 3)

        # exactly once: one payment in the main chain, the target paid once, the X address debited once
        payments = _withdraw_payments(net, side_txid)
        assert len(payments) == 1
        assert payments[0].serialize_unsigned() == unsigned.serialize_unsigned()   # the stored proposal, not a new one
        assert [p["amount"] for p in main.call("listunspent", addresses=[target])] == ["0.40000000"]
        x = SP.x_address(SP.side_genesis_block().hash())
        x_total = sum(_sela(u["amount"]) for u in main.call("listunspent", addresses=[x]))
        assert x_total == AMOUNT + 10_000 - (PAYOUT + 10_000)  # at rate 1 the payment takes what was burned
        # every arbiter that signed signed this one payment, and no other
        digests = set()
        for i in range(N):
            with cluster.db(i) as db:
                rows = db.execute("SELECT side_txid, digest FROM signed").fetchall()
            assert len(rows) <= 1
            digests |= {bytes(d) for s, d in rows if bytes(s) == side_txid}
        assert digests == {W.payment_digest(unsigned)}
        with cluster.db(leader) as db:
            assert db.execute("SELECT state FROM proposals").fetchall() == [("sent",)]
            assert db.execute("SELECT COUNT(*) FROM paid WHERE side_txid=?", (side_txid,)).fetchone() == (1,)
    finally:
        cluster.stop_all()
        net.close()


def _refusals(net: SideDevnet, cluster: Cluster, leader: int, unsigned: Transaction, signed: Transaction,
              side_txid: bytes) -> None:
    """While the leader is down holding m signatures: the main node refuses under-signed and non-arbiter
    payments; the live arbiters refuse forged payments."""
    main = RpcClient(net.main_url)
    program = signed.programs[0]
    pushes = [program.parameter[i:i + 65] for i in range(0, len(program.parameter), 65)]
    assert len(pushes) == M

    def send(tx: Transaction) -> str:
        with pytest.raises(RpcError) as e:
            main.call("sendrawtransaction", tx.serialize().hex())
        return str(e.value.reason)

    fewer = signed.model_copy(update={"programs": (Program(parameter=b"".join(pushes[:M - 1]), code=program.code),)})
    assert send(fewer) == "NOT_ENOUGH_SIGNATURES"                  # CRY-024: m - 1 signatures
    outsider = hashlib.sha256(b"not an arbiter").digest()
    foreign = bytes((PUSH_SIGNATURE,)) + p256.ecdsa_sign(outsider, unsigned.serialize_unsigned())
    mixed = signed.model_copy(update={"programs": (Program(parameter=b"".join(pushes[:M - 1]) + foreign,
                                                           code=program.code),)})
    assert send(mixed) == "NOT_ENOUGH_SIGNATURES"                  # CRY-027: one signer is not an arbiter
    strangers = [hashlib.sha256(f"stranger-{i}".encode()).digest() for i in range(N)]
    spks = [p256.public_key_from_private(k) for k in strangers]
    message = unsigned.serialize_unsigned()
    own = unsigned.model_copy(update={"programs": (Program(
        parameter=b"".join(bytes((PUSH_SIGNATURE,)) + p256.ecdsa_sign(k, message) for k in strangers[:M]),
        code=multisig_redeem_script(M, spks, "crosschain")),)})
    assert send(own) == "TX_CROSS_CHAIN_ARBITERS"                  # TXC-016: a script of non-arbiters
    assert _withdraw_payments(net, side_txid) == []

    def signers() -> list[int]:
        out = []
        for i in range(N):
            with cluster.db(i) as db:
                if i != leader and db.execute("SELECT COUNT(*) FROM signed").fetchone() == (1,):
                    out.append(i)
        return out

    live = signers()
    assert len(live) >= M - 1                                       # the leader's m signatures: its own and m - 1 peers'
    arb = RpcClient(cluster.url(live[0]))

    def ask(tx: Transaction) -> str:
        with pytest.raises(RpcError) as e:
            arb.call("arbiter_sign", tx=tx.serialize().hex())
        return str(e.value.reason)

    outs = unsigned.outputs
    thief = unsigned.model_copy(update={"outputs": (outs[0].model_copy(update={"program_hash": _addr(outsider)[0]}),)
                                        + outs[1:]})
    assert ask(thief) == "ARBITER_PAYMENT_MISMATCH"                 # ARB-003
    unknown = unsigned.model_copy(update={"payload": WithdrawFromSideChainPayload(
        block_height=unsigned.payload.block_height, genesis_block_address=unsigned.payload.genesis_block_address,  # type: ignore[union-attr]
        sidechain_tx_hashes=(b"\x01" * 32,))})
    assert ask(unknown) == "ARBITER_UNKNOWN_WITHDRAWAL"             # ARB-001
    # a second, different but otherwise valid payment of the same withdrawal (another input sequence)
    other = unsigned.model_copy(update={"inputs": tuple(i.model_copy(update={"sequence": 0xFFFF_FFFE})
                                                        for i in unsigned.inputs)})
    assert W.payment_digest(other) != W.payment_digest(unsigned)
    assert ask(other) == "ARBITER_ALREADY_SIGNED"                   # ARB-004
    with cluster.db(live[0]) as db:
        assert db.execute("SELECT digest FROM signed").fetchall() == [(W.payment_digest(unsigned),)]


def test_two_withdrawals_are_paid_one_after_the_other(tmp_path: Path) -> None:
    """Two withdrawals in one sidechain block: the arbiters pay one at a time (the second spends the first's
    change), each exactly once, with deposits relayed with their SPV merkle proof (v0)."""
    net = SideDevnet(tmp_path / "net", arbiters=N)
    cluster = Cluster(tmp_path, net)
    main, side = RpcClient(net.main_url), RpcClient(net.side_url)
    try:
        for i in range(N):
            cluster.start(i, recharge_version=0)
        user_key = hashlib.sha256(b"two withdrawals").digest()
        user_ph, user = _addr(user_key)
        net.deposit(user, AMOUNT)
        fund = _wait("the v0 deposit credited", lambda: side.call("listunspent", {"addresses": [user]}))
        targets = [_addr(bytes([0x20 + i]) * 32) for i in range(2)]
        burned = [PAYOUT // (i + 1) + 10_000 for i in range(2)]
        burns = []
        prev = (from_display(fund[0]["txid"]), fund[0]["vout"], AMOUNT)
        for i, (_, target) in enumerate(targets):   # the second burn spends the first one's change
            change = prev[2] - burned[i] - 10_000
            burn = side_burn(prev[:2], target, PAYOUT // (i + 1), burned[i], change, user_ph, user_key)
            side.call("sendrawtransaction", {"data": burn.serialize().hex()})
            burns.append(burn)
            prev = (burn.txid(), 1, change)
        _wait("both withdrawals paid", lambda: all(main.call("listunspent", addresses=[t]) for _, t in targets)
              and side.call("getwithdraws") == [], timeout=180)
        height = net.main.height()
        _wait("three more main blocks", lambda: net.main.height() >= height + 3)
        for i, ((_, target), burn) in enumerate(zip(targets, burns)):
            assert len(_withdraw_payments(net, burn.txid())) == 1
            assert [_sela(p["amount"]) for p in main.call("listunspent", addresses=[target])] == [PAYOUT // (i + 1)]
        x = SP.x_address(SP.side_genesis_block().hash())
        assert sum(_sela(u["amount"]) for u in main.call("listunspent", addresses=[x])) == \
            AMOUNT + 10_000 - (PAYOUT + 10_000) - (PAYOUT // 2 + 10_000)
        recharges = [t for h in range(1, net.side.height() + 1) for t in net.side.store.block_at(h).transactions  # type: ignore[union-attr]
                     if t.tx_type == SideTxType.RECHARGE_TO_SIDECHAIN]
        assert [t.payload_version for t in recharges] == [0]
    finally:
        cluster.stop_all()
        net.close()


def test_an_arbiter_neither_proposes_nor_signs_a_burn_without_enough_blocks_on_it(tmp_path: Path) -> None:
    """ARB-005 in an arbiter (in process, over the nodes' real RPC): with the burn's block the best sidechain
    block, the arbiter proposes nothing and refuses to sign its payment with the reason; one block on top
    (2 confirmations, the default) and it signs the same payment; an arbiter asking for 3 still refuses."""
    from reference.sidechain.arbiterd import ArbiterDaemon
    from reference.sidechain.devnet import SIDE_PARAMS
    from spec.errors import Reason, Reject

    net = SideDevnet(tmp_path / "net", arbiters=N)
    side = RpcClient(net.side_url)
    miner = address_from_program_hash(Uint168(data=FUNDING))
    daemons = [ArbiterDaemon(net.arbiter_keys[0], net.main_url, net.side_url, net.main_params, SIDE_PARAMS,
                             tmp_path / f"d{c}", tmp_path / f"peers{c}", miner, confirmations=c) for c in (2, 3)]
    try:
        user_key = hashlib.sha256(b"arb-005 user").digest()
        user_ph, user = _addr(user_key)
        target = _addr(b"\x0a" * 32)[1]
        net.deposit(user, AMOUNT)
        for _ in range(2):
            net.arbiter.relay_deposits()
            net.arbiter.merge_mine(miner)
        fund = side.call("listunspent", {"addresses": [user]})[0]
        burn = side_burn((from_display(fund["txid"]), fund["vout"]), target, PAYOUT, PAYOUT + 10_000,
                         AMOUNT - PAYOUT - 20_000, user_ph, user_key)
        side.call("sendrawtransaction", {"data": burn.serialize().hex()})
        net.arbiter.merge_mine(miner)                       # the burn's block is the best sidechain block
        two, three = daemons
        (w,) = two._pending().values()
        assert w.height == int(side.call("getblockcount")) - 1
        payment = W.withdrawal_payment(w, two._x_utxos(), x_address=two.x_address,
                                       exchange_rate=SIDE_PARAMS.exchange_rate)
        assert payment is not None
        assert two.pay_withdrawals() == [] and two.store.proposal(burn.txid()) is None   # not proposed
        for d in daemons:
            with pytest.raises(Reject) as e:
                d.sign(payment)
            assert (e.value.reason, e.value.rule) == (Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, "ARB-005")
            assert d.store.signed_digest(burn.txid()) is None                             # nothing recorded
        net.arbiter.merge_mine(miner)                       # one block on top: 2 confirmations
        signature = two.sign(payment)
        p256.ecdsa_verify(two.public_key, payment.serialize_unsigned(), signature)
        assert two.store.signed_digest(burn.txid()) == W.payment_digest(payment)
        with pytest.raises(Reject) as e:
            three.sign(payment)
        assert e.value.rule == "ARB-005" and "2 of 3" in e.value.detail
    finally:
        for d in daemons:
            d.close()
        net.close()


def test_the_arbiter_on_duty_waits_for_the_sidechain_block_the_main_tip_proves(tmp_path: Path) -> None:
    """The arbiter that mines a main block submits its sidechain block just after it. The next arbiter on duty
    (in process here, over the nodes' real RPC) waits for that sidechain block before it takes a template:
    a template taken earlier would sit on the old sidechain tip, be dropped when the block arrives, and its
    main block would prove no sidechain block. So the two rounds give two main and two sidechain blocks.
    A sidechain block that never comes (its arbiter died between the two) holds the next round back only
    ``settle`` seconds; that late block is then refused."""
    import time

    from reference.sidechain.arbiterd import ArbiterDaemon
    from reference.sidechain.devnet import SIDE_PARAMS

    settle = 1.0
    net = SideDevnet(tmp_path / "net", arbiters=N)
    main, side = RpcClient(net.main_url), RpcClient(net.side_url)
    miner = address_from_program_hash(Uint168(data=FUNDING))
    daemons = {p256.public_key_from_private(k): ArbiterDaemon(k, net.main_url, net.side_url, net.main_params,
                                                                 SIDE_PARAMS, tmp_path / f"d{i}", tmp_path / "peers",
                                                                 miner, interval=0.0, settle=settle)
               for i, k in enumerate(net.arbiter_keys)}

    def on_duty() -> ArbiterDaemon:
        return daemons[on_duty_cross_chain_arbiter(int(main.call("getblockcount")), net.main_params)]

    def heights() -> tuple[int, int]:
        return int(main.call("getblockcount")), int(side.call("getblockcount"))

    try:
        start = heights()
        job, aux, _ = net.arbiter.prove(miner)              # a main block whose sidechain block is held back
        assert heights() == (start[0] + 1, start[1])
        nxt = on_duty()
        assert nxt.step()["mined"] == 0 and heights() == (start[0] + 1, start[1])   # it waits
        side.call("submitsideauxblock", blockhash=job["hash"], sideauxpow=aux.serialize().hex())
        assert nxt.step()["mined"] == 1
        assert heights() == (start[0] + 2, start[1] + 2)    # one sidechain block per main block

        late, late_aux, _ = net.arbiter.prove(miner)        # held back for good
        nxt = on_duty()
        assert nxt.step()["mined"] == 0
        time.sleep(settle)
        assert nxt.step()["mined"] == 1                     # taken as lost after `settle` seconds
        assert heights() == (start[0] + 4, start[1] + 3)
        with pytest.raises(RpcError) as e:
            side.call("submitsideauxblock", blockhash=late["hash"], sideauxpow=late_aux.serialize().hex())
        assert e.value.reason == "SIDE_BLOCK_PLACE"
    finally:
        for d in daemons.values():
            d.close()
        net.close()
