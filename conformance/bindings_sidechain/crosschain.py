"""Handlers of the ``sidechain`` suite for sidechain transactions, deposits (RechargeToSideChain) and
withdrawals (TransferCrossChainAsset). Amounts are decimal strings of sela; ``exchange_rate`` a JSON
number (a float64, as upstream's configuration)."""

from __future__ import annotations

from typing import Any

from spec.chain.tx import Transaction
from spec.errors import Reason, Reject
from spec.sidechain import crosschain as X
from spec.sidechain import params as SP
from spec.sidechain.tx import RegisterDIDPayload, SideTransaction

from conformance.bindings import Input, handler

Json = dict[str, Any]
ID_X = SP.genesis_program_hash(SP.side_genesis_block().hash())


@handler("sidechain", "sidechain.tx.decode",
         "`tx` -> `txid`, `type`, `payload_version`, `inputs`, `outputs` (counts), `request` (RegisterDID: the request "
         "JSON text, else null)")
def _tx_decode(data: Any) -> Json:
    tx = SideTransaction.decode(Input(data, ("tx",)).hex("tx"))
    req = tx.payload.request_json() if isinstance(tx.payload, RegisterDIDPayload) else None
    return {"txid": tx.txid().hex(), "type": tx.tx_type, "payload_version": tx.payload_version,
            "inputs": len(tx.inputs), "outputs": len(tx.outputs), "request": req}


def _rate(inp: Input) -> float:
    if not inp.has("exchange_rate"):
        return 1.0
    v = inp.raw("exchange_rate")
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
        raise Reject(Reason.MALFORMED_INPUT, None, "exchange_rate: a positive number")
    return float(v)


@handler("sidechain", "sidechain.recharge.check",
         "`recharge` (sidechain tx), `main_tx` (main-chain tx), `credited` (main txids already credited), "
         "`exchange_rate`? (default 1), `x_program_hash`? (default the ID sidechain's) -> `total`")
def _recharge(data: Any) -> Json:
    inp = Input(data, ("recharge", "main_tx", "credited"), ("exchange_rate", "x_program_hash"))
    done = set(inp.hex_list("credited"))
    xph = inp.hex("x_program_hash") if inp.has("x_program_hash") else ID_X
    total = X.check_recharge(SideTransaction.decode(inp.hex("recharge")), Transaction.decode(inp.hex("main_tx")), xph,
                             exchange_rate=_rate(inp), min_cross_chain_fee=SP.id_network("mainnet").min_cross_chain_tx_fee,
                             credited=lambda h: h in done)
    return {"total": str(total)}


@handler("sidechain", "sidechain.withdraw.check",
         "`tx` (sidechain TransferCrossChainAsset), `input_values` (decimal strings) -> {}")
def _withdraw(data: Any) -> Json:
    inp = Input(data, ("tx", "input_values"))
    raw = inp.raw("input_values")
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "input_values: a list of decimal strings")
    values = [Input({"v": v}, ("v",)).big_int("v") for v in raw]
    X.check_withdraw(SideTransaction.decode(inp.hex("tx")), values,
                     min_cross_chain_fee=SP.id_network("mainnet").min_cross_chain_tx_fee)
    return {}
