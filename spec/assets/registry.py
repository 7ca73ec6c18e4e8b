"""Registered assets on a sidechain that carries several of them.

A ``RegisterAsset`` transaction names an asset (name, description, precision, token or share, amount,
controller); its id is the transaction's id. Outputs carry an asset id each, and a transaction balances
per asset (``FeeHelper.GetTxFeeMap``).

Rules
-----

* AST-001 a registered asset's precision is 0..8;
* AST-002 its amount is positive and a whole number of its smallest unit (``checkAmountPrecise``:
  a multiple of 10^(8 - precision));
* AST-003 issuance: the RegisterAsset transaction's outputs whose asset id is all zero carry the new
  asset (whose id is the transaction's id); they total exactly the registered amount and pay the
  controller. Deviation: upstream's sidechain registers assets but no rule ever creates their first
  outputs (a non-ELA output without inputs of its asset fails the balance check), so registered assets
  could not be used; the specification issues the amount in the registering transaction itself;
* AST-004 every output's asset is registered, and its value is a whole number of that asset's
  smallest unit (``checkAssetPrecision``);
* AST-005 no output value is negative;
* AST-006 per asset, inputs minus outputs is at least MinTransactionFee. Quirk: upstream asks this of
  **every** asset a transaction touches, so moving a token leaves 100 of its base units as fee
  besides the ELA fee.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from spec.chain.tx import Output, RegisterAssetPayload
from spec.errors import Reason, Reject, rule
from spec.sidechain.tx import SideTransaction, SideTxType

__all__ = ["MAX_PRECISION", "ISSUE_PLACEHOLDER", "amount_precise", "check_register_asset", "issued_outputs",
           "asset_fees", "check_asset_balance"]

MAX_PRECISION: Final = 8
ISSUE_PLACEHOLDER: Final = bytes(32)
"""The asset id of a RegisterAsset transaction's outputs that carry the asset it registers."""

_S = "assets"
rule("AST-001", Reason.ASSET_PRECISION, "A registered asset's precision is 0..8.", suite=_S,
     upstream="checkTransactionPayload: \"Invalide asset Precision.\"")
rule("AST-002", Reason.ASSET_AMOUNT, "A registered asset's amount is positive and a multiple of 10^(8 - precision).",
     suite=_S, upstream="checkTransactionPayload: \"Invalide asset value,out of precise.\"")
rule("AST-003", Reason.ASSET_ISSUANCE, "The RegisterAsset transaction's zero-asset-id outputs carry the new asset, "
     "total exactly its amount and pay its controller.", suite=_S,
     note="Deviation: upstream has no way to create a registered asset's first outputs.")
rule("AST-004", Reason.ASSET_UNKNOWN, "Every output's asset is registered and its value is a multiple of "
     "10^(8 - that asset's precision).", suite=_S,
     upstream="checkAssetPrecision: \"The asset not exist in local blockchain.\" / \"The precision of asset is incorrect.\"")
rule("AST-005", Reason.ASSET_NEGATIVE, "No output value is negative.", suite=_S,
     upstream="checkTransactionBalance: \"Invalide transaction UTXO output.\"")
rule("AST-006", Reason.ASSET_FEE, "Per asset, inputs minus outputs is at least MinTransactionFee.", suite=_S,
     upstream="checkTransactionBalance: \"Transaction fee not enough\"",
     note="Quirk: every asset a transaction touches owes the fee in its own units.")


def amount_precise(amount: int, precision: int) -> bool:
    """``checkAmountPrecise``: ``amount`` is a multiple of 10^(8 - precision)."""
    return amount % (10 ** (MAX_PRECISION - precision)) == 0


def check_register_asset(tx: SideTransaction) -> bytes:
    """A RegisterAsset transaction's own rules; the new asset's id."""
    assert tx.tx_type == SideTxType.REGISTER_ASSET
    p = tx.payload
    assert isinstance(p, RegisterAssetPayload)
    # [AST-001] precision 0..8
    if not 0 <= p.asset.precision <= MAX_PRECISION:
        raise Reject(Reason.ASSET_PRECISION, "AST-001", f"precision {p.asset.precision}")
    # [AST-002] a positive amount of whole smallest units
    if p.amount <= 0 or not amount_precise(p.amount, p.asset.precision):
        raise Reject(Reason.ASSET_AMOUNT, "AST-002", f"amount {p.amount} at precision {p.asset.precision}")
    issued = [o for o in tx.outputs if o.asset_id == ISSUE_PLACEHOLDER]
    # [AST-003] the issuance totals the amount and pays the controller
    if sum(o.value for o in issued) != p.amount or any(o.program_hash != p.controller for o in issued):
        raise Reject(Reason.ASSET_ISSUANCE, "AST-003", f"{len(issued)} issuing outputs for {p.amount}")
    return tx.txid()


def issued_outputs(tx: SideTransaction) -> list[Output]:
    """The transaction's outputs as the UTXO set keeps them: a RegisterAsset's placeholder outputs get the
    new asset's id."""
    if tx.tx_type != SideTxType.REGISTER_ASSET:
        return list(tx.outputs)
    aid = tx.txid()
    return [o.model_copy(update={"asset_id": aid}) if o.asset_id == ISSUE_PLACEHOLDER else o for o in tx.outputs]


def asset_fees(references: Sequence[Output], outputs: Sequence[Output]) -> dict[bytes, int]:
    """``GetTxFeeMap``: inputs minus outputs, per asset."""
    fees: dict[bytes, int] = {}
    for o in references:
        fees[o.asset_id] = fees.get(o.asset_id, 0) + o.value
    for o in outputs:
        fees[o.asset_id] = fees.get(o.asset_id, 0) - o.value
    return fees


def check_asset_balance(tx: SideTransaction, references: Sequence[Output], precision_of: Callable[[bytes], int | None],
                        min_fee: int) -> dict[bytes, int]:
    """The multi-asset checks of a transaction whose inputs spend ``references``; the fee per asset.

    ``precision_of(asset_id)`` is the registered asset's precision, ``None`` if it is not registered."""
    outputs = [o for o in tx.outputs if not (tx.tx_type == SideTxType.REGISTER_ASSET and o.asset_id == ISSUE_PLACEHOLDER)]
    for i, o in enumerate(outputs):
        prec = precision_of(o.asset_id)
        # [AST-004] a registered asset, in whole smallest units
        if prec is None or not amount_precise(o.value, prec):
            raise Reject(Reason.ASSET_UNKNOWN, "AST-004", f"output {i}: asset {o.asset_id[::-1].hex()}")
        # [AST-005] no negative output
        if o.value < 0:
            raise Reject(Reason.ASSET_NEGATIVE, "AST-005", f"output {i}")
    fees = asset_fees(references, outputs)
    for aid, fee in sorted(fees.items()):
        # [AST-006] every asset pays at least MinTransactionFee
        if fee < min_fee:
            raise Reject(Reason.ASSET_FEE, "AST-006", f"asset {aid[::-1].hex()}: fee {fee}")
    return fees
