"""One cross-chain arbiter as its own process (``elastos arbiter --serve``): it holds **one** key of the
m-of-n set, watches both chains, and together with the other arbiter processes produces SideChainPow
blocks and pays withdrawals.

Each round (every ``poll`` seconds) an arbiter process

1. **scans** the main blocks it has not seen: it relays each deposit to the X address to the sidechain
   (RechargeToSideChain v1 by hash, or v0 with its SPV merkle proof; every arbiter relays, the sidechain
   credits once, XCH-001) and records each WithdrawFromSideChain it finds as *paid*; a paid withdrawal the
   sidechain still lists is marked withdrawn there (``setwithdrawn``);
2. if it is the arbiter **on duty** at the next main height (``cross_chain_arbiters[(H - 1) mod n]``), it
   pays the sidechain's unpaid withdrawals: it builds the payment
   (:func:`spec.sidechain.withdrawal.withdrawal_payment`), stores the proposal, signs it and asks the
   other arbiter processes (their JSON-RPC ``arbiter_sign``) until it holds m = floor(2n/3) + 1
   signatures, stores the signed transaction, submits it to the main node and stores that it did;
3. if it is on duty, the main tip is ``interval`` seconds old and the sidechain block the main tip
   merge-mined has reached the sidechain node (or ``settle`` seconds have passed without it), it
   merge-mines one main and one sidechain block (:meth:`reference.sidechain.arbiter.Arbiter.merge_mine`:
   its SideChainPow, signed with its key). The arbiter that mined the main tip submits its sidechain
   block just after the main block; a template taken before that arrives would be on the old sidechain
   tip, dropped when it arrives, and this round's main block would prove no sidechain block.

An arbiter asked to sign checks the payment against both chains with
:func:`spec.sidechain.withdrawal.check_withdrawal_payment` (ARB-001..006), records the payment's digest
**before** the signature leaves, and so signs at most one payment per withdrawal.

Progress lives in SQLite (``arbiter.sqlite``, WAL): the main height scanned, the withdrawals seen paid,
the payment digest signed per withdrawal, and per withdrawal the proposal and its state (``proposed`` ->
``signed`` -> ``sent``). A process killed at any point restarts from there: a proposal is proposed
again unchanged, a signed transaction is submitted again (the pool answers ``TX_DUPLICATE`` while it
waits, the chain ``TX_WITHDRAW_DUPLICATE`` once it is mined, TXC-024), so a withdrawal is paid exactly
once (a ``sent`` payment is submitted again each round until it is mined, in case a main pool dropped it).
``pause_at`` (``--pause-at``) stops the process right after a state is stored, writing
``paused`` into its data folder, so that a test can SIGKILL it at that point.

Peers find each other through a shared folder: each process writes its RPC URL to
``<peers>/<public key>.url`` at start (a restarted process gets a new port and rewrites it).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from spec.chain.params import NetworkParams
from spec.chain.tx import Program, Transaction, WithdrawFromSideChainPayload
from spec.chain.validation import on_duty_cross_chain_arbiter
from spec.crypto import p256
from spec.crypto.scripts import PUSH_SIGNATURE, multisig_redeem_script
from spec.errors import DecodeError, Reject
from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W

from reference.node.rpc import INVALID_PARAMS, ApiServer, RpcClient, RpcError, from_display
from reference.sidechain.arbiter import (Arbiter, ExchangeRateMismatch, _sela, payments_in, pending_withdrawal,
                                         side_params_for)
from reference.signals import StopFlag

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS paid (side_txid BLOB PRIMARY KEY, main_txid BLOB NOT NULL, height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS signed (side_txid BLOB PRIMARY KEY, digest BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (side_txid BLOB PRIMARY KEY, unsigned BLOB NOT NULL, signed_tx BLOB,
                                      state TEXT NOT NULL);
"""

STATES = ("proposed", "signed", "sent")


class ArbiterStore:
    """The arbiter's progress; every write is one committed SQLite transaction."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def scanned(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='scanned'").fetchone()
        return -1 if row is None else int(row[0])

    def scan_block(self, height: int, paid: Sequence[tuple[bytes, bytes]]) -> None:
        """Record a scanned main block and the withdrawals it pays, at once."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            for side_txid, main_txid in paid:
                self.db.execute("INSERT OR IGNORE INTO paid VALUES (?, ?, ?)", (side_txid, main_txid, height))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('scanned', ?)", (height,))
            self.db.execute("COMMIT")

    def is_paid(self, side_txid: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM paid WHERE side_txid=?", (side_txid,)).fetchone() is not None

    def paid_count(self, side_txid: bytes) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM paid WHERE side_txid=?", (side_txid,)).fetchone()[0])

    def signed_digest(self, side_txid: bytes) -> bytes | None:
        row = self.db.execute("SELECT digest FROM signed WHERE side_txid=?", (side_txid,)).fetchone()
        return None if row is None else bytes(row[0])

    def record_signed(self, side_txid: bytes, digest: bytes) -> None:
        with self.lock:
            self.db.execute("INSERT OR IGNORE INTO signed VALUES (?, ?)", (side_txid, digest))

    def proposal(self, side_txid: bytes) -> tuple[bytes, bytes | None, str] | None:
        row = self.db.execute("SELECT unsigned, signed_tx, state FROM proposals WHERE side_txid=?",
                              (side_txid,)).fetchone()
        return None if row is None else (bytes(row[0]), None if row[1] is None else bytes(row[1]), str(row[2]))

    def in_flight(self) -> bool:
        """Whether a proposal of this arbiter is not yet seen paid in the main chain."""
        return self.db.execute("SELECT 1 FROM proposals p WHERE NOT EXISTS (SELECT 1 FROM paid WHERE "
                               "paid.side_txid = p.side_txid)").fetchone() is not None

    def put_proposal(self, side_txid: bytes, unsigned: bytes, signed_tx: bytes | None, state: str) -> None:
        assert state in STATES
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?, ?)", (side_txid, unsigned, signed_tx, state))

    def progress(self) -> dict[str, Any]:
        """What is stored, for ``arbiter_info``: the main height scanned, the withdrawals seen paid (side txid ->
        main txid, display order), the payment digest signed per withdrawal, and this arbiter's proposals
        with their state and, once signed, the payment's main txid."""
        with self.lock:   # one snapshot, not interleaved with the daemon's writes on this connection
            paid_rows = self.db.execute("SELECT side_txid, main_txid FROM paid").fetchall()
            signed_rows = self.db.execute("SELECT side_txid, digest FROM signed").fetchall()
            prop_rows = self.db.execute("SELECT side_txid, signed_tx, state FROM proposals").fetchall()
        paid = {bytes(s).hex(): bytes(m)[::-1].hex() for s, m in paid_rows}
        signed = {bytes(s).hex(): bytes(d).hex() for s, d in signed_rows}
        proposals = {}
        for s, signed_tx, state in prop_rows:
            txid = Transaction.decode(bytes(signed_tx)).txid()[::-1].hex() if signed_tx is not None else None
            proposals[bytes(s).hex()] = {"state": str(state), "main_txid": txid}
        return {"scanned": self.scanned(), "paid": paid, "signed": signed, "proposals": proposals}


class ArbiterApi:
    """The arbiter's JSON-RPC: ``arbiter_info`` (its public key, m and n, and its stored progress:
    :meth:`ArbiterStore.progress`) and ``arbiter_sign`` (``tx``: a proposed payment, hex -> ``signature``,
    hex; a refusal is an error carrying the ARB rule's reason)."""

    METHODS = ("arbiter_info", "arbiter_sign")

    def __init__(self, daemon: ArbiterDaemon) -> None:
        self.daemon = daemon

    def call(self, method: str, params: Any) -> Any:
        if method not in self.METHODS:
            raise RpcError(-32601, f"the method {method} does not exist/is not available")
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
            params = params[0]
        if not isinstance(params, dict):
            params = {}
        if method == "arbiter_info":
            return {"public_key": self.daemon.public_key.hex(), "m": self.daemon.m, "n": len(self.daemon.arbiters),
                    **self.daemon.store.progress()}
        raw = params.get("tx")
        try:
            tx = Transaction.decode(bytes.fromhex(raw)) if isinstance(raw, str) else None
        except (ValueError, DecodeError):
            tx = None
        if tx is None:
            raise RpcError(INVALID_PARAMS, "tx: a main-chain transaction, hex")
        try:
            return {"signature": self.daemon.sign(tx).hex()}
        except Reject as e:
            raise RpcError(-32000, str(e), e.reason.value) from None
        except ExchangeRateMismatch as e:
            raise RpcError(-32000, str(e)) from None


class ArbiterDaemon:
    """One arbiter process's work; :meth:`step` is one round, :meth:`run` loops until stopped."""

    def __init__(self, key: bytes, main_url: str, side_url: str, main_params: NetworkParams,
                 side_params: SP.SidechainParams, datadir: str | Path, peers: str | Path, miner: str, *,
                 interval: float = 1.0, settle: float = 10.0, recharge_version: int = 1,
                 pause_at: str | None = None,
                 confirmations: int = W.WITHDRAWAL_CONFIRMATIONS,
                 log: Callable[[str], None] = lambda s: None) -> None:
        if confirmations < 1:
            raise ValueError("confirmations: at least 1 (the burn's own block)")
        self.confirmations = confirmations
        """Sidechain blocks a burn needs, its own counted, before this arbiter proposes or signs its payment
        (ARB-005)."""
        self.key = key
        self.public_key = p256.public_key_from_private(key)
        self.arbiters = list(main_params.cross_chain_arbiters)
        if self.public_key not in self.arbiters:
            raise ValueError("this key is not one of the cross-chain arbiters")
        self.m = W.arbiter_threshold(len(self.arbiters))
        self.main = RpcClient(main_url, timeout=10)
        self.side = RpcClient(side_url, timeout=10)
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        (self.datadir / "paused").unlink(missing_ok=True)   # a restarted process is no longer paused
        self.peers = Path(peers)
        self.peers.mkdir(parents=True, exist_ok=True)
        self.store = ArbiterStore(self.datadir / "arbiter.sqlite")
        self.worker = Arbiter(main_url, side_url, [key], main_params, side_params, self.datadir / "unused.json", log,
                              confirmations=confirmations)
        self.main_params = main_params
        self.side_params = side_params
        self.x_address = SP.x_address(self.worker.genesis_hash)
        self.miner = miner
        self.interval = interval
        self.settle = settle
        """Seconds the arbiter on duty waits for the sidechain block the main tip merge-mined before it
        takes that block as lost (its arbiter died between the two) and merge-mines on the sidechain tip."""
        self.recharge_version = recharge_version
        self.pause_at = pause_at
        self.log = log
        self.sign_lock = threading.Lock()
        self.seen_height = -1
        self.seen_at = time.monotonic()
        self._tip_proves: tuple[int, bytes | None] = (-1, None)
        """The main tip's height and the sidechain block hash it merge-mined (None: none)."""
        self.rpc: ApiServer | None = None

    # -- serving ---------------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> int:
        """Serve ``arbiter_sign`` and publish the URL in the peers folder; the port."""
        self.rpc = ApiServer(ArbiterApi(self), port, "arbiter").start()
        url_file = self.peers / f"{self.public_key.hex()}.url"
        tmp = url_file.with_suffix(".tmp")
        tmp.write_text(f"http://127.0.0.1:{self.rpc.port}")
        tmp.replace(url_file)
        return self.rpc.port

    def close(self) -> None:
        if self.rpc is not None:
            self.rpc.stop()
        self.store.close()

    def _pause(self, state: str) -> None:
        if self.pause_at == state:
            (self.datadir / "paused").write_text(state)
            self.log(f"paused after storing state {state}")
            while True:
                time.sleep(3600)

    # -- signing ---------------------------------------------------------------------------------------------

    def _pending(self) -> dict[bytes, W.PendingWithdrawal]:
        return {bytes.fromhex(w["txid"]): pending_withdrawal(w) for w in self.side.call("getwithdraws")}

    def _side_height(self) -> int:
        """The best sidechain block's height, as this arbiter's sidechain node sees it."""
        return int(self.side.call("getblockcount")) - 1

    def _x_utxos(self) -> list[tuple[bytes, int, int]]:
        """The X address's unspent main-chain outputs ``(txid, index, value)``, sorted."""
        return sorted((from_display(u["txid"]), int(u["vout"]), _sela(u["amount"]))
                      for u in self.main.call("listunspent", addresses=[self.x_address]))

    def sign(self, tx: Transaction) -> bytes:
        """Check a proposed payment (ARB-001..006), record it, and sign it; never while the sidechain node's
        exchange rate is not this arbiter's (:class:`reference.sidechain.arbiter.ExchangeRateMismatch`)."""
        with self.sign_lock:
            self.worker.check_exchange_rate()
            side_height = self._side_height()
            pending = {k: v for k, v in self._pending().items() if not self.store.is_paid(k)}
            utxos = {(t, i): v for t, i, v in self._x_utxos()}
            p = tx.payload
            side = p.sidechain_tx_hashes[0] if isinstance(p, WithdrawFromSideChainPayload) and \
                len(p.sidechain_tx_hashes) == 1 else b""
            w = W.check_withdrawal_payment(tx, pending.get, lambda t, i: utxos.get((t, i)), x_address=self.x_address,
                                           exchange_rate=self.side_params.exchange_rate,
                                           signed_before=self.store.signed_digest(side), side_height=side_height,
                                           confirmations=self.confirmations)
            self.store.record_signed(w.side_txid, W.payment_digest(tx))   # before the signature leaves
            return p256.ecdsa_sign(self.key, tx.serialize_unsigned())

    def _peer_urls(self) -> list[str]:
        out = []
        for f in sorted(self.peers.glob("*.url")):
            if f.stem != self.public_key.hex():
                out.append(f.read_text().strip())
        return out

    def _collect(self, unsigned: Transaction) -> list[bytes] | None:
        """m signatures of ``unsigned``: this arbiter's and the peers' that answer; ``None`` if too few."""
        message = unsigned.serialize_unsigned()
        sigs = [self.sign(unsigned)]
        for url in self._peer_urls():
            if len(sigs) >= self.m:
                break
            try:
                sig = bytes.fromhex(RpcClient(url, timeout=5).call("arbiter_sign", tx=unsigned.serialize().hex())
                                    ["signature"])
            except RpcError as e:
                self.log(f"arbiter at {url} refused: {e.reason or e}")
                continue
            except OSError:
                continue  # not running (killed, restarting)
            if any(_verifies(pk, message, sig) for pk in self.arbiters) and sig not in sigs:
                sigs.append(sig)
        return sigs if len(sigs) >= self.m else None

    # -- the rounds ---------------------------------------------------------------------------------------------

    def scan(self) -> None:
        """Relay deposits and record payments of the main blocks not yet scanned."""
        top = int(self.main.call("getblockcount")) - 1
        if top != self.seen_height:
            self.seen_height, self.seen_at = top, time.monotonic()
        for h in range(self.store.scanned() + 1, top + 1):
            block = self.worker.main_block(h)
            for tx in block.transactions:
                recharge = self.worker.recharge_for(tx, block, h, self.recharge_version)
                if recharge is not None:
                    try:
                        self.side.call("sendrawtransaction", data=recharge.serialize().hex())
                        self.log(f"deposit {tx.txid()[::-1].hex()} relayed")
                    except RpcError as e:
                        if e.reason not in ("TX_DUPLICATE", "DEPOSIT_DUPLICATE"):
                            self.log(f"deposit {tx.txid()[::-1].hex()} not relayed: {e.reason or e}")
            self.store.scan_block(h, payments_in(block))
        for side_txid in self._pending():
            if self.store.is_paid(side_txid):
                self.side.call("setwithdrawn", txid=side_txid.hex())

    def side_settled(self) -> bool:
        """Whether the sidechain block the main tip merge-mined (if it merge-mined one of this sidechain's) is
        the sidechain node's tip, so that a new template builds on it; true as well once the main tip has
        been seen for ``settle`` seconds without it."""
        if time.monotonic() - self.seen_at >= self.settle:
            return True
        if self._tip_proves[0] != self.seen_height:
            self._tip_proves = (self.seen_height, self.worker.proven_side_hash(self.worker.main_block(self.seen_height)))
        proven = self._tip_proves[1]
        return proven is None or from_display(self.side.call("getbestblockhash")) == proven

    def on_duty(self) -> bool:
        return on_duty_cross_chain_arbiter(int(self.main.call("getblockcount")), self.main_params) == self.public_key

    def pay_withdrawals(self) -> list[str]:
        """As the arbiter on duty: carry every unpaid withdrawal one state further; the main txids sent."""
        sent = []
        side_height = self._side_height()
        for side_txid, w in self._pending().items():
            if self.store.is_paid(side_txid):
                continue
            prop = self.store.proposal(side_txid)
            if prop is None:
                if W.confirmations_of(w, side_height) < self.confirmations:
                    continue  # [ARB-005] not proposed while a sidechain reorganisation could take the burn back
                if self.store.in_flight():
                    continue  # one payment at a time: the next one spends the change of this one
                unsigned = W.withdrawal_payment(w, self._x_utxos(), x_address=self.x_address,
                                                exchange_rate=self.side_params.exchange_rate)
                if unsigned is None:
                    self.log(f"withdrawal {side_txid.hex()}: the X address does not cover it yet")
                    continue
                self.store.put_proposal(side_txid, unsigned.serialize(), None, "proposed")
                self._pause("proposed")
                prop = (unsigned.serialize(), None, "proposed")
            raw, signed_raw, state = prop
            if state == "proposed":
                unsigned = Transaction.decode(raw)
                try:
                    sigs = self._collect(unsigned)
                except Reject as e:  # this arbiter would not sign its own proposal (any more)
                    self.log(f"withdrawal {side_txid.hex()}: {e.reason.value} {e.detail}")
                    continue
                if sigs is None:
                    self.log(f"withdrawal {side_txid.hex()}: fewer than {self.m} arbiters signed; retrying")
                    continue
                code = multisig_redeem_script(self.m, self.arbiters, "crosschain")
                parameter = b"".join(bytes((PUSH_SIGNATURE,)) + s for s in sigs[:self.m])
                signed_tx = unsigned.model_copy(update={"programs": (Program(parameter=parameter, code=code),)})
                self.store.put_proposal(side_txid, raw, signed_tx.serialize(), "signed")
                self._pause("signed")
                signed_raw, state = signed_tx.serialize(), "signed"
            if state in ("signed", "sent"):   # "sent" again until mined: a main pool may have dropped it
                assert signed_raw is not None
                try:
                    sent.append(self.main.call("sendrawtransaction", signed_raw.hex()))
                    self.log(f"withdrawal {side_txid.hex()} paid by {sent[-1]}")
                except RpcError as e:
                    if e.reason not in ("TX_DUPLICATE", "TX_WITHDRAW_DUPLICATE"):
                        self.log(f"withdrawal {side_txid.hex()} not accepted: {e.reason or e}")
                        continue
                if state == "signed":
                    self.store.put_proposal(side_txid, raw, signed_raw, "sent")
                    self._pause("sent")
        return sent

    def step(self) -> dict[str, int]:
        """One round; what it did. Nothing at all while the sidechain node's exchange rate is not this
        arbiter's (:class:`reference.sidechain.arbiter.ExchangeRateMismatch`)."""
        self.worker.check_exchange_rate()
        self.scan()
        did = {"paid": 0, "mined": 0}
        if self.on_duty():
            did["paid"] = len(self.pay_withdrawals())
            if time.monotonic() - self.seen_at >= self.interval and self.side_settled():
                self.worker.merge_mine(self.miner)
                did["mined"] = 1
                self.scan()
        return did

    def run(self, stop: threading.Event | StopFlag, poll: float = 0.2, max_blocks: int | None = None) -> int:
        mined = 0
        while not stop.is_set() and (max_blocks is None or mined < max_blocks):
            try:
                mined += self.step()["mined"]
            except (RpcError, OSError, ExchangeRateMismatch) as e:
                self.log(f"round failed: {e}")   # a node restarting (or restarted at another rate); next round
            stop.wait(poll)
        return mined


def _verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        p256.ecdsa_verify(public_key, message, signature)
    except Reject:
        return False
    return True


def serve(main_rpc: str, side_rpc: str, key_file: str, arbiters: Sequence[str], network: str, miner: str,
          datadir: str, peers: str, rpcport: int, interval: float, recharge_version: int, pause_at: str | None,
          blocks: int, confirmations: int = W.WITHDRAWAL_CONFIRMATIONS, exchange_rate: float | None = None) -> int:
    """``elastos arbiter --serve``: one arbiter process until SIGTERM/SIGINT (or ``blocks`` mined, if > 0).

    At ``exchange_rate`` (default the network's); it exits 2 before serving if its sidechain node answers
    with another rate, and does no round while it does (a node not reachable yet is asked again each round)."""
    import sys

    from spec.chain.params import network as main_network
    from reference.node.wallet import load_key

    key = load_key(key_file)
    keys = tuple(bytes.fromhex(a) for a in arbiters) or (p256.public_key_from_private(key),)
    params = main_network(network).model_copy(update={"cross_chain_arbiters": keys})
    daemon = ArbiterDaemon(key, main_rpc, side_rpc, params, side_params_for(network, exchange_rate), datadir, peers,
                           miner, interval=interval, recharge_version=recharge_version, pause_at=pause_at,
                           confirmations=confirmations, log=lambda s: print(s, file=sys.stderr, flush=True))
    try:
        daemon.worker.check_exchange_rate()
    except ExchangeRateMismatch as e:
        print(f"elastos arbiter: {e}", file=sys.stderr, flush=True)
        daemon.close()
        return 2
    except (RpcError, OSError):
        pass   # the sidechain node is not up yet: each round asks again
    port = daemon.start(rpcport)
    print(f"ready rpc={port} pubkey={daemon.public_key.hex()} m={daemon.m} n={len(daemon.arbiters)} "
          f"scanned={daemon.store.scanned()}", flush=True)
    stop = StopFlag()  # SIGTERM or SIGINT (reference.signals: no lock in the handler)
    daemon.run(stop, max_blocks=blocks if blocks > 0 else None)
    daemon.close()
    return 0


__all__ = ["ArbiterApi", "ArbiterDaemon", "ArbiterStore", "serve"]
