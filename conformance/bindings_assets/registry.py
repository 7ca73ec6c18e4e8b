"""Handlers of the ``assets`` suite for registered assets: registration, issuance and the per-asset balance."""

from __future__ import annotations

from typing import Any

from spec.assets import registry as A
from spec.chain.tx import Output
from spec.chain.params import ELA_ASSET_ID
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain.tx import SideTransaction

from conformance.bindings import Input, handler

Json = dict[str, Any]


@handler("assets", "assets.register.check",
         "`tx` (a sidechain RegisterAsset) -> `asset_id`, `issued` ([index, value] of the outputs carrying the asset)")
def _register(data: Any) -> Json:
    tx = SideTransaction.decode(Input(data, ("tx",)).hex("tx"))
    if tx.tx_type != 0x01:
        raise Reject(Reason.MALFORMED_INPUT, None, "tx: a RegisterAsset transaction")
    aid = A.check_register_asset(tx)
    issued = [[i, str(o.value)] for i, o in enumerate(A.issued_outputs(tx)) if o.asset_id == aid]
    return {"asset_id": aid.hex(), "issued": issued}


@handler("assets", "assets.balance.check",
         "`tx`, `references` ([{asset_id, value}] the outputs its inputs spend), `assets` ({asset_id: precision}; "
         "ELA is always registered at precision 8) -> `fees` ({asset_id: decimal string})")
def _balance(data: Any) -> Json:
    inp = Input(data, ("tx", "references", "assets"))
    tx = SideTransaction.decode(inp.hex("tx"))
    refs = []
    raw = inp.raw("references")
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "references: a list")
    for r in raw:
        ri = Input(r, ("asset_id", "value"))
        refs.append(Output(asset_id=ri.hex("asset_id"), value=ri.big_int("value"), output_lock=0, program_hash=bytes(21)))
    assets = inp.raw("assets")
    if not isinstance(assets, dict):
        raise Reject(Reason.MALFORMED_INPUT, None, "assets: an object")
    table = {ELA_ASSET_ID: 8}
    for k, v in assets.items():
        table[Input({"k": k}, ("k",)).hex("k")] = Input({"v": v}, ("v",)).small_int("v", 0, 255)
    fees = A.check_asset_balance(tx, refs, table.get, SP.id_network("mainnet").min_transaction_fee)
    return {"fees": {k.hex(): str(v) for k, v in sorted(fees.items())}}
