"""Validation of ID-sidechain transactions and blocks.

A sidechain node checks a block in this order: its header (:func:`spec.sidechain.block.check_side_header`),
that the main-chain block its SideAuxPow names is in the main chain (SCV-001, through a
:class:`MainView`), its place on the sidechain (SCV-002), its transactions' merkle root (SCV-003), one
coinbase, first (SCV-004), and then every transaction against the sidechain state before the block plus
the outputs of the block's earlier transactions (:func:`check_side_tx`):

* SCV-005 every input names an unspent output, none twice (within the transaction and the block);
* the programs sign the transaction (TXC-010..012, the main chain's ``RunPrograms``);
* a deposit (RechargeToSideChain) v1 names a main-chain transaction the main-chain view holds (SCV-006),
  a v0 one carries the transaction with an SPV merkle proof into a main-chain block (SPV-001..009,
  :mod:`spec.sidechain.spv`), and either passes XCH-001..006;
* a withdrawal (TransferCrossChainAsset) passes XCH-010..015;
* every other transaction balances per asset (AST-004..006) and a RegisterAsset passes AST-001..003;
* SCV-007 a RegisterDID carries a request (the ID chain's state machine checks it,
  :func:`spec.did.chain.check_request`, with the transaction's id as its txid);
* a Record of type ``elastos/edition/1.0`` carries an edition request (:mod:`spec.assets.editions`).

SCV-008: the coinbase pays at most the block's ELA fees (the ID sidechain mints nothing).

What a valid transaction does to the state is returned as :class:`SideEffects`; the node applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from spec.assets import registry as A
from spec.chain.merkle import merkle_root
from spec.chain.params import ELA_ASSET_ID
from spec.chain.block import Header
from spec.chain.tx import Output, RecordPayload, Transaction
from spec.chain.validation import check_signatures
from spec.errors import Reason, Reject, rule
from spec.sidechain import crosschain as X
from spec.sidechain import spv
from spec.sidechain.block import SideBlock, check_side_header
from spec.sidechain.params import SidechainParams
from spec.sidechain.tx import RechargeToSideChainPayload, RegisterDIDPayload, SideTransaction, SideTxType

__all__ = ["SideView", "MainView", "SideEffects", "BlockOverlay", "EDITION_RECORD_TYPE", "check_side_tx", "check_side_block"]

EDITION_RECORD_TYPE: Final = b"elastos/edition/1.0"
"""The record type of a Record transaction that carries an edition request."""

_S = "sidechain"
rule("SCV-001", Reason.SIDE_MAIN_BLOCK_UNKNOWN, "The main-chain block a SideAuxPow names is in the main chain.",
     suite=_S, upstream="checkHeader (SPV: the main header's bits match the SPV-stored header at its height)",
     note="Deviation: upstream compares bits with its SPV header store (or checks an arbiter's signature before "
     "CheckPowHeaderHeight); the spec asks the main-chain view whether the block is on the main chain.")
rule("SCV-002", Reason.SIDE_BLOCK_PLACE, "A sidechain block extends the tip: previous is the tip's hash and the "
     "height is the tip's plus one.", suite=_S, upstream="blockchain.ProcessBlock / checkBlockContext")
rule("SCV-003", Reason.BLOCK_BAD_MERKLE_ROOT, "A sidechain block's merkle root is the root of its txids.", suite=_S,
     upstream="checkBlockSanity: \"block merkle root is invalid\"")
rule("SCV-004", Reason.SIDE_COINBASE, "A sidechain block has one coinbase, its first transaction.", suite=_S,
     upstream="checkBlockSanity: \"first transaction in block is not a coinbase\" / \"more than one coinbase\"")
rule("SCV-005", Reason.TX_UNKNOWN_REFERENCE, "Every input names an unspent sidechain output, and no output is "
     "spent twice in a transaction or a block.", suite=_S,
     upstream="checkReferencedOutput / checkTransactionDoubleSpend")
rule("SCV-006", Reason.DEPOSIT_NOT_IN_MAIN_CHAIN, "A deposit by hash (recharge v1) names a main-chain transaction of "
     "the main chain.",
     suite=_S, upstream="checkRechargeToSideChainTransaction: \"Get RechargeToSideChain transaction failed\"")
rule("SCV-007", Reason.REQUEST_PAYLOAD, "A RegisterDID transaction has no inputs and outputs of other assets than "
     "ELA, and pays at least MinTransactionFee in ELA.", suite=_S)
rule("SCV-008", Reason.COINBASE_BAD_REWARD, "The coinbase pays at most the block's ELA fees.", suite=_S,
     note="Deviation: upstream's sidechain framework also pays a reward; the ID sidechain of the specification "
     "mints nothing, so ELA on it only ever comes from deposits.")
rule("SCV-009", Reason.BLOCK_DUPLICATE_TX, "No two transactions of a sidechain block have the same txid (which also "
     "closes the duplicate-last merkle mutation, CVE-2012-2459).", suite=_S,
     upstream="checkTransactionsMerkle: \"block contains duplicate transaction\"")


class SideView(Protocol):
    """The sidechain state a transaction is checked against."""

    def utxo(self, txid: bytes, index: int) -> Output | None:
        """The unspent output (its asset id included), or ``None``."""
        ...

    def asset_precision(self, asset_id: bytes) -> int | None:
        """A registered asset's precision (ELA: 8), or ``None``."""
        ...

    def credited(self, main_txid: bytes) -> bool:
        """Whether a deposit of this main-chain transaction was already credited."""
        ...


class MainView(Protocol):
    """What the sidechain knows of the main chain (upstream: its SPV service)."""

    def has_block(self, block_hash: bytes) -> bool:
        """The block is on the main chain."""
        ...

    def transaction(self, txid: bytes) -> Transaction | None:
        """A transaction of the main chain, or ``None``."""
        ...

    def header(self, block_hash: bytes) -> Header | None:
        """The header of a block of the main chain, or ``None`` (upstream: the SPV header store)."""
        ...


@dataclass
class SideEffects:
    """What one valid transaction changes."""

    spent: list[tuple[bytes, int]] = field(default_factory=list)
    created: list[Output] = field(default_factory=list)
    """Its outputs as the UTXO set keeps them (:func:`spec.assets.registry.issued_outputs`)."""
    fees: dict[bytes, int] = field(default_factory=dict)
    credited: bytes | None = None
    """The main-chain transaction a deposit credits."""
    did_request: str | None = None
    """A RegisterDID's request JSON."""
    edition: bytes | None = None
    """An edition request."""
    withdrawal: bool = False
    new_asset: tuple[bytes, int] | None = None
    """A RegisterAsset's (asset id, precision)."""


class BlockOverlay:
    """The state before a block plus the outputs of the block's earlier transactions."""

    def __init__(self, view: SideView) -> None:
        self.view = view
        self.created: dict[tuple[bytes, int], Output] = {}
        self.spent: set[tuple[bytes, int]] = set()
        self.assets: dict[bytes, int] = {}
        self.credits: set[bytes] = set()

    def utxo(self, txid: bytes, index: int) -> Output | None:
        key = (txid, index)
        if key in self.spent:
            return None
        return self.created.get(key) or self.view.utxo(txid, index)

    def asset_precision(self, asset_id: bytes) -> int | None:
        return self.assets.get(asset_id, self.view.asset_precision(asset_id))

    def credited(self, main_txid: bytes) -> bool:
        return main_txid in self.credits or self.view.credited(main_txid)

    def apply(self, txid: bytes, fx: SideEffects) -> None:
        self.spent.update(fx.spent)
        for i, o in enumerate(fx.created):
            self.created[(txid, i)] = o
        if fx.new_asset is not None:
            self.assets[fx.new_asset[0]] = fx.new_asset[1]
        if fx.credited is not None:
            self.credits.add(fx.credited)


def check_side_tx(tx: SideTransaction, view: SideView, main: MainView, params: SidechainParams,
                  x_program_hash: bytes) -> SideEffects:
    """Check one non-coinbase transaction; what it does."""
    fx = SideEffects()
    references: list[Output] = []
    seen: set[tuple[bytes, int]] = set()
    for i, inp in enumerate(tx.inputs):
        key = (inp.previous.txid, inp.previous.index)
        ref = view.utxo(*key)
        # [SCV-005] an unspent output, not spent twice
        if ref is None or key in seen:
            raise Reject(Reason.TX_UNKNOWN_REFERENCE, "SCV-005", f"input {i}")
        seen.add(key)
        references.append(ref)
    fx.spent = sorted(seen)
    t = tx.tx_type
    if t == SideTxType.RECHARGE_TO_SIDECHAIN:
        p = tx.payload
        assert isinstance(p, RechargeToSideChainPayload)
        if tx.payload_version == 1:
            main_tx = main.transaction(p.main_chain_transaction_hash)
            # [SCV-006] the deposit is a transaction of the main chain
            if main_tx is None:
                raise Reject(Reason.DEPOSIT_NOT_IN_MAIN_CHAIN, "SCV-006", "the main chain has no such transaction")
        else:
            main_tx, _ = spv.check_recharge_proof(p.merkle_proof, p.main_chain_transaction, main.header)
        X.check_recharge(tx, main_tx, x_program_hash, exchange_rate=params.exchange_rate,
                         min_cross_chain_fee=params.min_cross_chain_tx_fee, credited=view.credited)
        fx.credited = main_tx.txid()
        fx.created = list(tx.outputs)
        return fx
    check_signatures(tx, references)
    if t == SideTxType.TRANSFER_CROSS_CHAIN_ASSET:
        X.check_withdraw(tx, [r.value for r in references], min_cross_chain_fee=params.min_cross_chain_tx_fee)
        fx.withdrawal = True
    else:
        fx.fees = A.check_asset_balance(tx, references, view.asset_precision, params.min_transaction_fee)
    if t == SideTxType.REGISTER_ASSET:
        aid = A.check_register_asset(tx)
        fx.new_asset = (aid, tx.payload.asset.precision)  # type: ignore[union-attr]
    if t == SideTxType.REGISTER_DID:
        p2 = tx.payload
        assert isinstance(p2, RegisterDIDPayload)
        # [SCV-007] a DID request pays its fee in ELA only
        if any(o.asset_id != ELA_ASSET_ID for o in [*references, *tx.outputs]) or \
                fx.fees.get(ELA_ASSET_ID, 0) < params.min_transaction_fee:
            raise Reject(Reason.REQUEST_PAYLOAD, "SCV-007", "a RegisterDID pays an ELA fee and moves only ELA")
        fx.did_request = p2.request_json()
    if t == SideTxType.RECORD and isinstance(tx.payload, RecordPayload) and tx.payload.type == EDITION_RECORD_TYPE:
        fx.edition = tx.payload.content
    fx.created = A.issued_outputs(tx)
    return fx


def check_side_block(block: SideBlock, tip_hash: bytes, tip_height: int, view: SideView, main: MainView,
                     params: SidechainParams, x_program_hash: bytes) -> list[SideEffects]:
    """Check a block on the tip; the effects of each transaction (the coinbase's first)."""
    h = block.header
    check_side_header(h, params.retarget.pow_limit)
    # [SCV-001] the SideAuxPow's main block is on the main chain
    if not main.has_block(h.side_auxpow.main_block_header.hash()):
        raise Reject(Reason.SIDE_MAIN_BLOCK_UNKNOWN, "SCV-001", "the main chain has no such block")
    # [SCV-002] the block extends the tip
    if h.previous != tip_hash or h.height != tip_height + 1:
        raise Reject(Reason.SIDE_BLOCK_PLACE, "SCV-002", f"height {h.height} after {tip_height}")
    txs = block.transactions
    txids = [t.txid() for t in txs]
    # [SCV-009] no txid twice
    if len(set(txids)) != len(txids):
        raise Reject(Reason.BLOCK_DUPLICATE_TX, "SCV-009", "a transaction repeats")
    # [SCV-003] the merkle root of the txids
    if not txs or merkle_root(txids) != h.merkle_root:
        raise Reject(Reason.BLOCK_BAD_MERKLE_ROOT, "SCV-003", "merkle root")
    # [SCV-004] one coinbase, first
    if txs[0].tx_type != SideTxType.COINBASE or any(t.tx_type == SideTxType.COINBASE for t in txs[1:]) \
            or txs[0].inputs:
        raise Reject(Reason.SIDE_COINBASE, "SCV-004", "the first transaction and only it is a coinbase")
    overlay = BlockOverlay(view)
    effects: list[SideEffects] = [SideEffects()]
    for tx in txs[1:]:
        fx = check_side_tx(tx, overlay, main, params, x_program_hash)
        overlay.apply(tx.txid(), fx)
        effects.append(fx)
    fees = sum(fx.fees.get(ELA_ASSET_ID, 0) for fx in effects)
    coinbase = txs[0]
    paid = sum(o.value for o in coinbase.outputs)
    # [SCV-008] the coinbase pays at most the ELA fees
    if paid > fees or any(o.asset_id != ELA_ASSET_ID or o.value < 0 for o in coinbase.outputs):
        raise Reject(Reason.COINBASE_BAD_REWARD, "SCV-008", f"coinbase {paid} > fees {fees}")
    effects[0] = SideEffects(created=list(coinbase.outputs))
    return effects


def side_merkle_root(txs: Sequence[SideTransaction]) -> bytes:
    return merkle_root([t.txid() for t in txs])
