"""The ID sidechain node: merge-mined blocks checked by the spec, a multi-asset UTXO set, deposits and
withdrawals, the ID chain's DID state and scarce editions, and fork choice between competing branches.

A block is checked with :func:`spec.sidechain.validation.check_side_block` against the store and a
main-chain view (the main node's JSON-RPC); its DID requests are then checked by the ID chain's state
machine (through :class:`reference.idchain.service.IdChainService`, with the sidechain transaction ids as
their txids) and its edition records by :func:`spec.assets.editions.apply_edition` -- what
:func:`spec.sidechain.state.apply_side_block` does.

Fork choice follows :func:`spec.sidechain.state.add_side_block` (the main chain's
:func:`spec.chain.state.choose`) step by step, as the main node does: a block whose parent is unknown
waits as an orphan (SCF-002); a block whose parent is invalid is invalid (SCF-003); a block on the tip is
checked and stored: first the sidechain store (one SQLite transaction), then the DID store at the same
height (a kill between the two leaves the DID store behind, and the next start replays the missing
blocks' requests, ``_catch_up``). A block on another block is checked on its parent's chain inside one
trial: one SQLite transaction of the sidechain store (disconnect to the fork point with the stored undo
data, connect the branch, each block checked again) and one of the DID store (rewound to the fork height,
the branch's requests applied). The trial is committed only if the branch has strictly more work than
the tip (SCF-001); otherwise both roll back and the block is kept as a valid side-branch block. On
commit, the sidechain store records the fork height in the same transaction, and the DID store is then
rewound to it and brought level (``_sync_did``, again on start if a kill came first): a kill at any
moment leaves either the old chain or the new one, never half of a reorganisation.

The spec's tree judges blocks against one fixed main-chain view; the node's view is the main node's
best chain, which changes. A block refused only by that view (:data:`MAIN_VIEW_RULES`) is therefore
not remembered as invalid: it is taken if it comes again once the main node holds what it names.

After a reorganisation a deposit credited, a DID registered, an edition recorded or a withdrawal burned
only on the losing branch is gone: the deposit can be credited again, the DID no longer resolves, and
``getwithdraws`` no longer lists the withdrawal, so the arbiters neither propose nor sign its payment
(ARB-001). A withdrawal the arbiters paid before the reorganisation stays paid on the main chain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from spec.assets import editions as E
from spec.chain.params import ELA_ASSET_ID
from spec.chain.block import Header, decode_block
from spec.chain.tx import CoinBasePayload, Output, Transaction
from spec.chain.merkle import merkle_root
from spec.chain.pow import calc_work
from spec.did import document
from spec.did.syntax import DID
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain.block import SideAuxPow, SideBlock, SideHeader, check_side_header
from spec.sidechain.tx import SideTransaction, SideTxType
from spec.sidechain.validation import BlockOverlay, MainView, SideEffects, check_side_block, check_side_tx

from reference.idchain.service import IdChainService
from reference.node.choice import StoreChoice
from reference.node.rpc import RpcClient, RpcError, display
from reference.sidechain.store import SideStore, SideStoreError, decode_outputs, encode_outputs


class RpcMainView:
    """The main chain as the sidechain sees it: blocks and transactions of its best chain, over JSON-RPC."""

    def __init__(self, url: str) -> None:
        self.rpc = RpcClient(url)

    def has_block(self, block_hash: bytes) -> bool:
        try:
            info = self.rpc.call("getblock", blockhash=display(block_hash), verbosity=1)
        except RpcError:
            return False
        return int(info["confirmations"]) > 0

    def header(self, block_hash: bytes) -> Header | None:
        try:
            info = self.rpc.call("getblock", blockhash=display(block_hash), verbosity=1)
            if int(info["confirmations"]) <= 0:
                return None
            raw = bytes.fromhex(self.rpc.call("getblock", blockhash=display(block_hash), verbosity=0))
        except RpcError:
            return None
        return decode_block(raw).header

    def transaction(self, txid: bytes) -> Transaction | None:
        try:
            info = self.rpc.call("getrawtransaction", txid=display(txid), verbose=True)
            if not info.get("blockhash") or not self.has_block(bytes.fromhex(info["blockhash"])[::-1]):
                return None
            return Transaction.decode(bytes.fromhex(self.rpc.call("getrawtransaction", txid=display(txid))))
        except RpcError:
            return None


MAIN_VIEW_RULES = frozenset({"SCV-001", "SCV-006", "SPV-003"})
"""Rules a block breaks only against today's main-chain view (its main block, its deposit, the block of its
deposit's proof not on the main chain yet): such a block is refused but not remembered as invalid, so it
is taken when it comes again after the main node has caught up."""


class _KeepSide(Exception):
    """Internal: roll the trial reorganisation back; the block stays on a side branch."""


class SideNode(StoreChoice):
    """One ID-sidechain node over a data folder. Thread-safe: every public method holds the lock."""

    def __init__(self, datadir: str | Path, main: MainView, params: SP.SidechainParams,
                 now: Callable[[], int] | None = None) -> None:
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.params = params
        self.main = main
        self.now = now or (lambda: int(time.time()))
        self.store = SideStore(self.datadir / "side.sqlite")
        try:
            self.store.bind_exchange_rate(params.exchange_rate)
        except SideStoreError:
            self.store.close()
            raise
        self.did = IdChainService(self.datadir / "did")
        self.genesis = SP.side_genesis_block()
        self.x_program_hash = SP.genesis_program_hash(self.genesis.hash())
        self.lock = threading.RLock()
        self.pool: dict[bytes, SideTransaction] = {}
        self.templates: dict[bytes, SideBlock] = {}
        self.listeners: list[Callable[[str, bytes, object], None]] = []
        """Called with ``("tx" | "block", hash, source)`` after a transaction is pooled or a block stored
        (the sidechain P2P relays them, :mod:`reference.sidechain.peer`)."""
        self.invalid: dict[bytes, str] = self.store.invalid_blocks()
        self._own_reject: Reject | None = None
        self._detached: list[SideBlock] = []
        self._attached: list[SideBlock] = []
        if self.store.height() < 0:
            with self.store.transaction():
                self.store.put_block(self.genesis, [SideEffects(created=[])] * len(self.genesis.transactions), [])
                self.store.put_known(self.genesis, calc_work(self.genesis.header.bits))
        self._sync_did()
        self._catch_up()
        self.edition_history: list[tuple[int, E.EditionState]] = self._replay_editions()
        """The edition state after each best-chain block with edition events, by height: a reorganisation
        starts from the one at the fork instead of checking the stored events again."""
        self.editions = self.edition_history[-1][1] if self.edition_history else E.EMPTY_EDITIONS
        with self.lock:
            for orphan in self.store.ready_orphans():   # finish what a kill interrupted
                if self.store.has_orphan(orphan.hash()):
                    self._add(orphan, recovering=True)

    def close(self) -> None:
        with self.lock:
            self.store.close()
            self.did.close()

    # -- state ------------------------------------------------------------------------------------------------

    def resolver(self) -> document.Resolver:
        """DID documents as the sidechain's ID chain holds them."""
        def resolve(did: DID) -> document.Document | None:
            rec = self.did.store.did(did)
            return None if rec is None else rec.document
        return resolve

    def height(self) -> int:
        with self.lock:
            return self.store.height()

    def tip_hash(self) -> bytes:
        with self.lock:
            h = self.store.hash_at(self.store.height())
            assert h is not None
            return h

    def _catch_up(self) -> None:
        """Replay into the DID store the requests of sidechain blocks it has not recorded (after a kill)."""
        did_height = self.did.tip()[0]
        for h in range(max(did_height + 1, 1), self.store.height() + 1):
            block = self.store.block_at(h)
            assert block is not None
            reqs = [(tx.payload.request_json(), tx.txid()) for tx in block.transactions  # type: ignore[union-attr]
                    if tx.tx_type == SideTxType.REGISTER_DID]
            if reqs:
                self.did.submit_block(block.header.timestamp, [r for r, _ in reqs], height=h,
                                      txids=[t for _, t in reqs], strict=True)

    # -- transactions ---------------------------------------------------------------------------------------------

    def submit_tx(self, data: bytes | SideTransaction, source: object = None) -> bytes:
        """Check a transaction against the tip and the pool; pool it; its txid."""
        txid = self._submit_tx(data)
        self._notify("tx", txid, source)
        return txid

    def _notify(self, kind: str, h: bytes, source: object) -> None:
        for listener in list(self.listeners):
            listener(kind, h, source)

    def _submit_tx(self, data: bytes | SideTransaction) -> bytes:
        tx = data if isinstance(data, SideTransaction) else SideTransaction.decode(data)
        with self.lock:
            txid = tx.txid()
            if txid in self.pool:
                raise Reject(Reason.TX_DUPLICATE, None, "already in the pool")
            overlay = BlockOverlay(self.store)
            for pooled in self.pool.values():
                overlay.apply(pooled.txid(), check_side_tx(pooled, overlay, self.main, self.params, self.x_program_hash))
            fx = check_side_tx(tx, overlay, self.main, self.params, self.x_program_hash)
            if fx.did_request is not None:
                pending = [(p.payload.request_json(), p.txid()) for p in self.pool.values()  # type: ignore[union-attr]
                           if p.tx_type == SideTxType.REGISTER_DID]
                self.did.submit_block(self.now(), [r for r, _ in pending] + [fx.did_request],
                                      height=self.store.height() + 1, txids=[t for _, t in pending] + [txid],
                                      strict=True, dry_run=True)
            if fx.edition is not None:
                E.apply_edition(self._pool_editions(), fx.edition, txid, self.resolver(), _ela_outputs(tx))
            self.pool[txid] = tx
            return txid

    def _pool_editions(self) -> E.EditionState:
        state = self.editions
        for p in self.pool.values():
            if p.tx_type == SideTxType.RECORD and p.payload.type == b"elastos/edition/1.0":  # type: ignore[union-attr]
                state = E.apply_edition(state, p.payload.content, p.txid(), self.resolver(), _ela_outputs(p))  # type: ignore[union-attr]
        return state

    # -- blocks ----------------------------------------------------------------------------------------------------

    def template(self, miner: bytes) -> SideBlock:
        """A block on the tip with the pool's transactions, its coinbase paying their ELA fees to ``miner``."""
        with self.lock:
            height = self.store.height() + 1
            overlay = BlockOverlay(self.store)
            txs: list[SideTransaction] = []
            fees = 0
            for tx in self.pool.values():
                fx = check_side_tx(tx, overlay, self.main, self.params, self.x_program_hash)
                overlay.apply(tx.txid(), fx)
                fees += fx.fees.get(ELA_ASSET_ID, 0)
                txs.append(tx)
            coinbase = SideTransaction(tx_type=SideTxType.COINBASE,
                                       payload=CoinBasePayload(content=height.to_bytes(4, "little")),
                                       outputs=(Output(asset_id=ELA_ASSET_ID, value=fees, output_lock=0,
                                                       program_hash=miner),) if fees else ())
            all_txs = (coinbase, *txs)
            tip = self.store.block_at(height - 1)
            assert tip is not None
            header = SideHeader(previous=tip.hash(), merkle_root=merkle_root([t.txid() for t in all_txs]),
                                timestamp=max(self.now(), tip.header.timestamp + 1),
                                bits=self.params.retarget.pow_limit_bits, height=height,
                                side_auxpow=self.genesis.header.side_auxpow)
            block = SideBlock(header=header, transactions=all_txs)
            self.templates[block.hash()] = block
            return block

    def submit_auxpow(self, side_hash: bytes, aux: SideAuxPow) -> SideBlock:
        """``submitsideauxblock``: the template ``side_hash`` with its SideAuxPow, checked and stored."""
        with self.lock:
            template = self.templates.get(side_hash)
            if template is None:
                raise Reject(Reason.SIDE_BLOCK_PLACE, None, "no such block template")
            block = template.model_copy(update={"header": template.header.model_copy(update={"side_auxpow": aux})})
            self.submit_block(block)
            return block

    def submit_block(self, block: SideBlock, source: object = None) -> dict[bytes, str]:
        """Add ``block`` with the spec's fork choice (see the module docstring); every decided block's
        outcome, as :func:`spec.sidechain.state.add_side_block` gives it. Raises the block's own
        :class:`~spec.errors.Reject` when it breaks a rule (SIDE_FORK_DESCENDS_INVALID when its parent did)."""
        with self.lock:
            old_best = self.tip_hash()
            self._own_reject = None
            self._attached, self._detached = [], []
            outcome = self._add(block)
            new_best = self.tip_hash()
            if new_best != old_best:
                self._after_tip_change(new_best)
            own = self._own_reject
        if new_best != old_best:
            self._notify("block", new_best, source)
        h = block.hash()
        if own is not None:
            raise own
        if h in self.invalid and outcome.get(h) not in (None, "duplicate"):
            raise Reject(Reason.SIDE_FORK_DESCENDS_INVALID, "SCF-003", self.invalid[h])
        return outcome

    def status(self, block_hash: bytes) -> str | None:
        """As the spec's tree: tip, valid, orphan, invalid or None."""
        with self.lock:
            if block_hash == self.tip_hash():
                return "tip"
            if self.store.is_known(block_hash):
                return "valid"
            if self.store.has_orphan(block_hash):
                return "orphan"
            return "invalid" if block_hash in self.invalid else None

    def _is_known(self, block_hash: bytes) -> bool:
        return bool(self.store.has_block(block_hash))

    def _parent_ready(self, parent: bytes) -> bool:
        return bool(self.store.is_known(parent))

    def _remembers(self, block: SideBlock, e: Reject) -> bool:
        return e.rule not in MAIN_VIEW_RULES and super()._remembers(block, e)

    def _rejected(self, block_hash: bytes, e: Reject, submitted: bool) -> None:
        if submitted:
            self._own_reject = e

    def _precheck(self, block: SideBlock) -> None:
        check_side_header(block.header, self.params.retarget.pow_limit)

    def _connect_or_side(self, b: SideBlock, prechecked: bool) -> None:
        store = self.store
        parent = b.header.previous
        work = store.work(parent) + calc_work(b.header.bits)
        best = self.tip_hash()
        if parent == best:
            effects, reqs, editions, events = self._check(b)
            with store.transaction():
                store.put_known(b, work)
                store.delete_orphan(b.hash())
                store.put_block(b, effects, events)
            if reqs:
                self.did.submit_block(b.header.timestamp, [r for r, _ in reqs], height=b.header.height,
                                      txids=[t for _, t in reqs], strict=True)
            if events:
                self.edition_history.append((b.header.height, editions))
            self.editions = editions
            self._attached.append(b)
            return
        best_work = store.work(best)
        branch, fork_height = self._branch_to(parent)
        detached: list[SideBlock] = []
        try:
            with store.transaction(), self.did.branch(fork_height, commit=False) as did_apply:
                while store.height() > fork_height:
                    detached.append(store.disconnect_tip())
                history = [(h, st) for h, st in self.edition_history if h <= fork_height]
                editions = history[-1][1] if history else E.EMPTY_EDITIONS
                for blk in [*(store.known_block(bh) for bh in branch), b]:
                    assert blk is not None
                    before = editions
                    editions = self._connect_checked(blk, editions, did_apply)
                    if editions is not before:
                        history.append((blk.header.height, editions))
                store.put_known(b, work)
                store.delete_orphan(b.hash())
                # [SCF-001] the branch replaces the tip only with strictly more work
                if work <= best_work:
                    raise _KeepSide
                store.set_did_rewind(fork_height)
        except _KeepSide:
            with store.transaction():
                store.put_known(b, work)
                store.delete_orphan(b.hash())
            return
        self._detached.extend(detached)
        self._attached.extend([*(self.store.known_block(bh) for bh in branch), b])  # type: ignore[list-item]
        self._sync_did()
        self.edition_history = history
        self.editions = editions

    def _check(self, b: SideBlock) -> tuple[list[SideEffects], list[tuple[str, bytes]], E.EditionState,
                                             list[tuple[bytes, bytes, bytes]]]:
        """Check ``b`` on the tip: the spec's block check, its DID requests (a dry run), its edition records."""
        effects = check_side_block(b, self.tip_hash(), self.store.height(), self.store, self.main, self.params,
                                   self.x_program_hash)
        reqs = [(fx.did_request, tx.txid()) for tx, fx in zip(b.transactions, effects, strict=True)
                if fx.did_request is not None]
        if reqs:
            self.did.submit_block(b.header.timestamp, [r for r, _ in reqs], height=b.header.height,
                                  txids=[t for _, t in reqs], strict=True, dry_run=True)
        editions, events = self._editions_of(b, effects, self.editions)
        return effects, reqs, editions, events

    def _editions_of(self, b: SideBlock, effects: list[SideEffects], state: E.EditionState
                     ) -> tuple[E.EditionState, list[tuple[bytes, bytes, bytes]]]:
        events = []
        for tx, fx in zip(b.transactions, effects, strict=True):
            if fx.edition is not None:
                outs = _ela_outputs(tx)
                state = E.apply_edition(state, fx.edition, tx.txid(), self.resolver(), outs)
                events.append((tx.txid(), fx.edition, encode_outputs(outs)))
        return state, events

    def _connect_checked(self, b: SideBlock, editions: E.EditionState,
                         did_apply: Callable[[int, int, list[str], list[bytes]], None]) -> E.EditionState:
        """Inside a reorganisation's transactions: check ``b`` on the tip (the branch is checked again
        against today's main-chain view), its editions against the DIDs before it, then its DID requests;
        store it on the best chain."""
        effects = check_side_block(b, self.tip_hash(), self.store.height(), self.store, self.main, self.params,
                                   self.x_program_hash)
        editions, events = self._editions_of(b, effects, editions)
        reqs = [(fx.did_request, tx.txid()) for tx, fx in zip(b.transactions, effects, strict=True)
                if fx.did_request is not None]
        if reqs:
            did_apply(b.header.height, b.header.timestamp, [r for r, _ in reqs], [t for _, t in reqs])
        self.store.put_block(b, effects, events)
        return editions

    def _branch_to(self, target: bytes) -> tuple[list[bytes], int]:
        """The known blocks from the best chain (exclusive) to ``target``, oldest first, and the fork height."""
        branch = []
        h = target
        while not self.store.on_best_chain(h):
            branch.append(h)
            prev = self.store.known_previous(h)
            assert prev is not None
            h = prev
        fork = self.store.known_block(h)
        assert fork is not None
        return branch[::-1], fork.header.height

    def _replay_editions(self) -> list[tuple[int, E.EditionState]]:
        """On start: the stored edition events replayed, the state after each height that has some."""
        history: list[tuple[int, E.EditionState]] = []
        state = E.EMPTY_EDITIONS
        for height, event, request, outputs in self.store.edition_events_by_height():
            state = E.apply_edition(state, request, event, self.resolver(), decode_outputs(outputs))
            if history and history[-1][0] == height:
                history[-1] = (height, state)
            else:
                history.append((height, state))
        return history

    def _sync_did(self) -> None:
        """After a reorganisation (or on start, if a kill came first): rewind the DID store to the height the
        sidechain store recorded and apply the best chain's requests above it; then clear the record."""
        mark = self.store.did_rewind()
        if mark is None:
            return
        with self.did.branch(mark, commit=True) as apply:
            for h in range(mark + 1, self.store.height() + 1):
                block = self.store.block_at(h)
                assert block is not None
                reqs = [(tx.payload.request_json(), tx.txid()) for tx in block.transactions  # type: ignore[union-attr]
                        if tx.tx_type == SideTxType.REGISTER_DID]
                if reqs:
                    apply(h, block.header.timestamp, [r for r, _ in reqs], [t for _, t in reqs])
        with self.store.transaction():
            self.store.set_did_rewind(None)

    def _after_tip_change(self, new_best: bytes) -> None:
        """The pool loses what the new chain holds or contradicts, and gets back the detached blocks'
        transactions that still check; templates on another parent go."""
        detached, self._detached = self._detached, []
        attached, self._attached = self._attached, []
        for blk in reversed(detached):          # oldest first: a transaction after the one it spends
            for tx in blk.transactions[1:]:
                self.pool.setdefault(tx.txid(), tx)
        for blk in attached:
            for tx in blk.transactions:
                self.pool.pop(tx.txid(), None)
        self.templates = {k: v for k, v in self.templates.items() if v.header.previous == new_best}
        self._drop_invalid_pool()

    def _drop_invalid_pool(self) -> None:
        """After a block, keep only the pool transactions that still check."""
        old, self.pool = self.pool, {}
        for txid, tx in old.items():
            try:
                self._submit_tx(tx)
            except Reject:
                continue


def _ela_outputs(tx: SideTransaction) -> list[tuple[bytes, int]]:
    """The ELA outputs of a transaction as ``(program hash, value)``: what pays an edition's royalty."""
    return [(o.program_hash, o.value) for o in tx.outputs if o.asset_id == ELA_ASSET_ID]


__all__ = ["RpcMainView", "SideNode"]
