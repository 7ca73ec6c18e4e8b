"""The node: block acceptance with the spec's fork choice over the SQLite store, and a mempool.

:meth:`Node.submit_block` follows :func:`spec.chain.state.add_block` step by step (same order of
decisions, so the same tip in every case, ties included): a block whose parent is unknown waits
as an orphan; a block whose parent is invalid is invalid; any other block is validated with the
spec's ``check_block_sanity`` and ``check_block_context`` against its parent's chain. When the
parent is not the tip, the store is moved to the parent's chain inside one SQLite transaction
(disconnect to the fork point with undo data, connect the branch), the block is checked there, and
the transaction is committed only if the branch now has strictly more work; otherwise it is rolled
back and the block is kept as a valid side-branch block. A rejected block changes nothing but the
``invalid`` table, which remembers its hash and reason (so it stays invalid across restarts, and so do
its descendants).

The pool takes a transaction only if its inputs are in the UTXO set of the tip, as ELA's
``CheckTransactionContext`` reads references from the chain alone: a transaction spending an output
of a pool transaction is refused until its parent is mined, and a block may not spend an output made
by an earlier transaction of the same block (each is checked against the parent's UTXO set).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spec.chain.block import Block, decode_block
from spec.chain.builder import block_template, coinbase
from spec.chain.params import NetworkParams
from spec.chain.pow import calc_work
from spec.chain.tx import Transaction, TxType, WithdrawFromSideChainPayload, decode_transaction
from spec.chain import validation
from spec.chain.validation import check_block_context, expected_bits, median_time_past
from spec.errors import Reason, Reject
from reference.core import resolve_backend, use_backend, use_verdicts
from reference.parallel import POOL_CHUNK, ParallelChecker
from reference.node.choice import StoreChoice
from reference.node.store import Store


def withdrawn_hashes_of(tx: Transaction) -> set[bytes]:
    """The sidechain transaction hashes a WithdrawFromSideChain (v0) names (none for other transactions)."""
    if tx.tx_type != TxType.WITHDRAW_FROM_SIDECHAIN or tx.payload_version != 0 \
            or not isinstance(tx.payload, WithdrawFromSideChainPayload):
        return set()
    return set(tx.payload.sidechain_tx_hashes)


class _KeepSide(Exception):
    """Internal: roll the trial reorganization back, the block stays on a side branch."""


@dataclass
class Mempool:
    txs: dict[bytes, tuple[Transaction, int]] = field(default_factory=dict)
    """txid -> (transaction, fee), in arrival order."""

    def spends(self) -> set[tuple[bytes, int]]:
        return {(i.previous.txid, i.previous.index) for tx, _ in self.txs.values() for i in tx.inputs}


class Node(StoreChoice):
    """A main-chain node over one store. Thread-safe: every public method holds the node's lock."""

    def __init__(
        self, datadir: str | Path, params: NetworkParams, now: Callable[[], int] | None = None,
        backend: str | None = None, sig_workers: int = 1,
    ) -> None:
        self.params = params
        self.backend = resolve_backend(backend)
        """``python`` or ``c``: where the spec's per-transaction checks (sanity, context and signatures) run
        (:mod:`reference.core`)."""
        self.sigpool = ParallelChecker(sig_workers) if sig_workers > 1 and self.backend == "python" else None
        """With ``sig_workers`` > 1 on the Python backend: the processes that check a block's signatures
        (:class:`reference.parallel.ParallelChecker`) before the spec's block checks take their verdicts
        (:meth:`_presigned`)."""
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.datadir / "chain.sqlite", params)
        self.now = now or (lambda: int(time.time()))
        self.invalid: dict[bytes, str] = self.store.invalid_blocks()
        self.mempool = Mempool()
        self.templates: dict[bytes, Block] = {}
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, bytes, object], None]] = []
        """Called with ("block", hash, source) when the tip changes and ("tx", txid, source) when the pool takes a
        transaction; ``source`` is whatever the caller passed (the peer it came from)."""
        with self.lock:
            for orphan in self.store.ready_orphans():   # finish what a kill interrupted
                if self.store.has_orphan(orphan.hash()):
                    self._add(orphan, recovering=True)

    def close(self) -> None:
        with self.lock:
            self.store.close()
            if self.sigpool is not None:
                self.sigpool.close()

    # -- queries -----------------------------------------------------------------------------------------

    def best_hash(self) -> bytes:
        with self.lock:
            return self.store.best_hash()

    def height(self) -> int:
        with self.lock:
            return self.store.tip().height

    def status(self, block_hash: bytes) -> str | None:
        """As :meth:`spec.chain.state.BlockTree.status`: tip, valid, orphan, invalid or None."""
        with self.lock:
            if block_hash == self.store.best_hash():
                return "tip"
            if self.store.has_block(block_hash):
                return "valid"
            if self.store.has_orphan(block_hash):
                return "orphan"
            if block_hash in self.invalid:
                return "invalid"
            return None

    # -- blocks --------------------------------------------------------------------------------------------

    def submit_block(self, data: bytes | Block, source: object = None) -> dict[bytes, str]:
        """Add one block (bytes or decoded); returns every decided block's outcome as ``add_block`` does.

        Raises :class:`~spec.errors.DecodeError` for bytes that are not a block.
        """
        block = data if isinstance(data, Block) else decode_block(data)
        with self.lock, use_backend(self.backend):
            old_best = self.store.best_hash()
            outcome = self._add(block)
            new_best = self.store.best_hash()
            if new_best != old_best:
                self._readd_detached(old_best)
                self._refresh_mempool()
                self.templates = {th: t for th, t in self.templates.items() if t.header.previous == new_best}
        if new_best != old_best:
            for fn in list(self.listeners):
                fn("block", new_best, source)
        return outcome

    def _precheck(self, block: Block) -> None:
        validation.check_block_sanity(block, self.params, self.now())  # through the module: the C backend's hook

    def _connect_or_side(self, b: Block, prechecked: bool) -> None:
        store = self.store
        if not prechecked:   # an orphan kept before this version checked orphans first, or one recovered
            self._precheck(b)
        parent = b.header.previous
        work = store.work(parent) + calc_work(b.header.bits)
        best = store.best_hash()
        if parent == best:
            with self._presigned(b):
                check_block_context(b, store, self.params)
            with store.transaction():
                store.put_block(b, work)
                store.delete_orphan(b.hash())
                store.connect(b)
            return
        best_work = store.work(best)
        try:
            with store.transaction():
                self._move_to(parent)
                with self._presigned(b):
                    check_block_context(b, store, self.params)
                store.put_block(b, work)
                store.delete_orphan(b.hash())
                if work <= best_work:
                    raise _KeepSide
                store.connect(b)
        except _KeepSide:
            with store.transaction():
                store.put_block(b, work)
                store.delete_orphan(b.hash())

    def _presigned(self, b: Block) -> contextlib.AbstractContextManager[None]:
        """With a signature pool: the signatures of ``b``'s transactions whose references are in the UTXO set
        (the view ``check_block_context`` reads them from) checked in parallel, for the spec's checks to take
        (:func:`reference.core.use_verdicts`); otherwise nothing. A transaction whose references are not all
        there is left to the spec, which rejects it for that before it looks at signatures."""
        if self.sigpool is None or len(b.transactions) < 2 * POOL_CHUNK:
            return contextlib.nullcontext()
        items = []
        for tx in b.transactions[1:]:
            refs = []
            for inp in tx.inputs:
                entry = self.store.utxo(inp.previous.txid, inp.previous.index)
                if entry is None:
                    break
                refs.append(entry.output)
            else:
                items.append((tx, refs))
        verdicts = self.sigpool.check(items)
        return use_verdicts({id(tx): (tx, tuple(o.program_hash for o in refs), v)
                             for (tx, refs), v in zip(items, verdicts)})

    def _move_to(self, target: bytes) -> None:
        """Inside a transaction: make the valid block ``target`` the tip (disconnect, then connect)."""
        store = self.store
        branch = []
        h = target
        while not store.on_best_chain(h):
            branch.append(h)
            entry = store.index_entry(h)
            assert entry is not None
            h = entry[0]
        fork = h
        while store.best_hash() != fork:
            store.disconnect_tip()
        for bh in reversed(branch):
            blk = store.block(bh)
            assert blk is not None
            store.connect(blk)

    # -- mempool -------------------------------------------------------------------------------------------

    def submit_tx(self, data: bytes | Transaction, source: object = None) -> bytes:
        """``sendrawtransaction``: check against the tip and add to the pool; returns the txid."""
        tx = data if isinstance(data, Transaction) else decode_transaction(data)
        with self.lock, use_backend(self.backend):
            txid = tx.txid()
            if txid in self.mempool.txs:
                raise Reject(Reason.TX_DUPLICATE, None, "already in the pool")
            fee = self._check_pool_tx(tx, self.mempool.spends())
            self.mempool.txs[txid] = (tx, fee)
        for fn in list(self.listeners):
            fn("tx", txid, source)
        return txid

    def _check_pool_tx(self, tx: Transaction, pool_spends: set[tuple[bytes, int]]) -> int:
        if tx.is_coinbase():
            raise Reject(Reason.BLOCK_SECOND_COINBASE, None, "a coinbase is not relayed")
        height = self.store.tip().height + 1
        # through the module, so that the C backend's hook (reference.core.use_backend) applies here too
        validation.check_tx_sanity(tx, height, self.params)
        fee = validation.check_tx_context(tx, height, self.store, self.params)
        for i in tx.inputs:
            if (i.previous.txid, i.previous.index) in pool_spends:
                raise Reject(Reason.TX_DOUBLE_SPEND, None, "conflicts with a pool transaction")
        named = withdrawn_hashes_of(tx)
        if named and named & {h for t, _ in self.mempool.txs.values() for h in withdrawn_hashes_of(t)}:
            raise Reject(Reason.TX_WITHDRAW_DUPLICATE, None, "a pool transaction already pays this withdrawal")
        return fee

    def _readd_detached(self, old_best: bytes) -> None:
        """After a reorganization, the transactions of the blocks that left the best chain go back to
        the pool (those still valid on the new tip survive :meth:`_refresh_mempool`)."""
        store = self.store
        h, detached = old_best, []
        while not store.on_best_chain(h):
            blk = store.block(h)
            assert blk is not None
            detached.append(blk)
            h = blk.header.previous
        txs = {tx.txid(): (tx, 0) for blk in reversed(detached) for tx in blk.transactions[1:]}
        if txs:
            txs.update(self.mempool.txs)
            self.mempool.txs = txs

    def _refresh_mempool(self) -> None:
        old = self.mempool.txs
        self.mempool = Mempool()
        for txid, (tx, _) in old.items():
            try:
                fee = self._check_pool_tx(tx, self.mempool.spends())
            except Reject:
                continue
            self.mempool.txs[txid] = (tx, fee)

    # -- mining --------------------------------------------------------------------------------------------

    def template(self, miner: bytes) -> Block:
        """A block template on the tip paying ``miner`` (a program hash), with the pool's transactions."""
        with self.lock:
            store = self.store
            tip = store.tip()
            height = tip.height + 1
            txs = [tx for tx, _ in self.mempool.txs.values()]
            fees = sum(fee for _, fee in self.mempool.txs.values())
            timestamp = max(self.now(), median_time_past(store, self.params.median_time_span))
            cb = coinbase(height, self.params, miner, fees=fees,
                          nonce=height.to_bytes(8, "little") + len(self.templates).to_bytes(4, "little"))
            blk = block_template(tip.hash, height, timestamp, expected_bits(store, self.params), [cb, *txs])
            self.templates[blk.hash()] = blk
            return blk


__all__ = ["Mempool", "Node"]
