"""The ID sidechain node: merge-mined blocks checked by the spec, a multi-asset UTXO set, deposits and
withdrawals, the ID chain's DID state and scarce editions.

A block is checked with :func:`spec.sidechain.validation.check_side_block` against the store and a
main-chain view (the main node's JSON-RPC); its DID requests are then checked by the ID chain's state
machine (a dry run through :class:`reference.idchain.service.IdChainService`, with the sidechain
transaction ids as their txids) and its edition records by :func:`spec.assets.editions.apply_edition`.
Only then is it stored: first the sidechain store (one SQLite transaction), then the DID store at the same
height. A kill between the two leaves the DID store behind, and the next start replays the missing
blocks' requests (``_catch_up``), so nothing accepted is lost or applied twice.
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
from spec.did import document
from spec.did.syntax import DID
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain.block import SideAuxPow, SideBlock, SideHeader
from spec.sidechain.tx import SideTransaction, SideTxType
from spec.sidechain.validation import BlockOverlay, MainView, SideEffects, check_side_block, check_side_tx

from reference.idchain.service import IdChainService
from reference.node.rpc import RpcClient, RpcError, display
from reference.sidechain.store import SideStore, decode_outputs, encode_outputs


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


class SideNode:
    """One ID-sidechain node over a data folder. Thread-safe: every public method holds the lock."""

    def __init__(self, datadir: str | Path, main: MainView, params: SP.SidechainParams,
                 now: Callable[[], int] | None = None) -> None:
        self.datadir = Path(datadir)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.params = params
        self.main = main
        self.now = now or (lambda: int(time.time()))
        self.store = SideStore(self.datadir / "side.sqlite")
        self.did = IdChainService(self.datadir / "did")
        self.genesis = SP.side_genesis_block()
        self.x_program_hash = SP.genesis_program_hash(self.genesis.hash())
        self.lock = threading.RLock()
        self.pool: dict[bytes, SideTransaction] = {}
        self.templates: dict[bytes, SideBlock] = {}
        self.listeners: list[Callable[[str, bytes, object], None]] = []
        """Called with ``("tx" | "block", hash, source)`` after a transaction is pooled or a block stored
        (the sidechain P2P relays them, :mod:`reference.sidechain.peer`)."""
        if self.store.height() < 0:
            with self.store.transaction():
                self.store.put_block(self.genesis, [SideEffects(created=[])] * len(self.genesis.transactions), [])
        self._catch_up()
        self.editions = E.EMPTY_EDITIONS
        for event, request, outputs in self.store.edition_events():
            self.editions = E.apply_edition(self.editions, request, event, self.resolver(), decode_outputs(outputs))

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

    def submit_block(self, block: SideBlock, source: object = None) -> None:
        """Check ``block`` on the tip with the spec and store it (see the module docstring)."""
        self._submit_block(block)
        self._notify("block", block.hash(), source)

    def _submit_block(self, block: SideBlock) -> None:
        with self.lock:
            h = block.header.height
            tip_hash = self.store.hash_at(self.store.height())
            assert tip_hash is not None
            effects = check_side_block(block, tip_hash, self.store.height(), self.store, self.main, self.params,
                                       self.x_program_hash)
            reqs = [(fx.did_request, tx.txid()) for tx, fx in zip(block.transactions, effects, strict=True)
                    if fx.did_request is not None]
            if reqs:
                self.did.submit_block(block.header.timestamp, [r for r, _ in reqs], height=h,
                                      txids=[t for _, t in reqs], strict=True, dry_run=True)
            state, events = self.editions, []
            for tx, fx in zip(block.transactions, effects, strict=True):
                if fx.edition is not None:
                    outs = _ela_outputs(tx)
                    state = E.apply_edition(state, fx.edition, tx.txid(), self.resolver(), outs)
                    events.append((tx.txid(), fx.edition, encode_outputs(outs)))
            with self.store.transaction():
                self.store.put_block(block, effects, events)
            if reqs:
                self.did.submit_block(block.header.timestamp, [r for r, _ in reqs], height=h,
                                      txids=[t for _, t in reqs], strict=True)
            self.editions = state
            for tx in block.transactions:
                self.pool.pop(tx.txid(), None)
            self.templates = {k: v for k, v in self.templates.items() if v.header.height > h}
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
