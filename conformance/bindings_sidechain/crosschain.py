"""Handlers of the ``sidechain`` suite for sidechain transactions, deposits (RechargeToSideChain) and
withdrawals (TransferCrossChainAsset). Amounts are decimal strings of sela; ``exchange_rate`` a JSON
number (a float64, as upstream's configuration)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spec.chain.block import Header
from spec.chain.tx import Output, Transaction
from spec.chain.params import ELA_ASSET_ID
from spec.errors import Reason, Reject
from spec.sidechain.block import SideBlock
from spec.sidechain.validation import check_side_block
from spec.sidechain import crosschain as X
from spec.sidechain import params as SP
from spec.sidechain import spv
from spec.sidechain import withdrawal as W
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


# -- blocks ----------------------------------------------------------------------------------------------------


class _View:
    def __init__(self, utxos: dict[tuple[bytes, int], Output], assets: dict[bytes, int], credited: set[bytes]) -> None:
        self.utxos, self.assets, self.credits = utxos, assets, credited

    def utxo(self, txid: bytes, index: int) -> Output | None:
        return self.utxos.get((txid, index))

    def asset_precision(self, asset_id: bytes) -> int | None:
        return self.assets.get(asset_id)

    def credited(self, main_txid: bytes) -> bool:
        return main_txid in self.credits


class _Main:
    def __init__(self, blocks: set[bytes], txs: dict[bytes, Transaction], headers: Sequence[Header] = ()) -> None:
        self.blocks, self.txs = blocks, txs
        self.headers = {h.hash(): h for h in headers}

    def has_block(self, block_hash: bytes) -> bool:
        return block_hash in self.blocks

    def transaction(self, txid: bytes) -> Transaction | None:
        return self.txs.get(txid)

    def header(self, block_hash: bytes) -> Header | None:
        return self.headers.get(block_hash)


def _headers(inp: Input, key: str) -> list[Header]:
    return [Header.decode(Input({"h": h}, ("h",)).hex("h")) for h in _list(inp, key)] if inp.has(key) else []


@handler("sidechain", "sidechain.recharge.proof",
         "`merkle_proof` (a recharge v0's MerkleProof bytes), `main_tx` (the carried main-chain transaction bytes), "
         "`main_headers` (the main chain's headers, hex) -> `txid` (the proved transaction), `block_hash`, `height`")
def _recharge_proof(data: Any) -> Json:
    inp = Input(data, ("merkle_proof", "main_tx", "main_headers"))
    headers = {h.hash(): h for h in _headers(inp, "main_headers")}
    tx, proof = spv.check_recharge_proof(inp.hex("merkle_proof"), inp.hex("main_tx"), headers.get)
    return {"txid": tx.txid().hex(), "block_hash": proof.block_hash.hex(), "height": proof.height}


def _list(inp: Input, key: str) -> list[Any]:
    v = inp.raw(key)
    if not isinstance(v, list):
        raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: a list")
    return v


@handler("sidechain", "sidechain.block.check",
         "`block`, `tip_hash`, `tip_height`, `network`, `utxos` ([{txid, index, asset_id, value, program_hash}]), "
         "`assets` ({asset_id: precision}; ELA is 8), `credited` (main txids), `main_blocks` (main-chain hashes), "
         "`main_txs` (main-chain transactions, hex), `main_headers`? (main-chain headers, hex: what recharge v0 proofs "
         "name) -> `fees` (ELA), `credited`, `did_requests`, `editions`, "
         "`withdrawals`, `spent`, `created` (counts)")
def _block_check(data: Any) -> Json:
    inp = Input(data, ("block", "tip_hash", "tip_height", "network", "utxos", "assets", "credited", "main_blocks",
                       "main_txs"), ("main_headers",))
    params = SP.id_network(inp.choice("network", tuple(SP.ID_NETWORKS)))
    utxos: dict[tuple[bytes, int], Output] = {}
    for u in _list(inp, "utxos"):
        ui = Input(u, ("txid", "index", "asset_id", "value", "program_hash"))
        utxos[(ui.hex("txid"), ui.small_int("index", 0, 0xFFFF))] = Output(
            asset_id=ui.hex("asset_id"), value=ui.big_int("value"), output_lock=0, program_hash=ui.hex("program_hash"))
    raw_assets = inp.raw("assets")
    if not isinstance(raw_assets, dict):
        raise Reject(Reason.MALFORMED_INPUT, None, "assets: an object")
    assets = {ELA_ASSET_ID: 8, **{bytes.fromhex(k): int(v) for k, v in raw_assets.items()}}
    view = _View(utxos, assets, set(inp.hex_list("credited")))
    main_txs = [Transaction.decode(Input({"t": t}, ("t",)).hex("t")) for t in _list(inp, "main_txs")]
    main = _Main(set(inp.hex_list("main_blocks")), {t.txid(): t for t in main_txs}, _headers(inp, "main_headers"))
    effects = check_side_block(SideBlock.decode(inp.hex("block")), inp.hex("tip_hash"),
                               inp.small_int("tip_height", -1, 1 << 32), view, main, params, ID_X)
    return {"fees": str(sum(fx.fees.get(ELA_ASSET_ID, 0) for fx in effects)),
            "credited": [fx.credited.hex() for fx in effects if fx.credited is not None],
            "did_requests": [fx.did_request for fx in effects if fx.did_request is not None],
            "editions": [fx.edition.hex() for fx in effects if fx.edition is not None],
            "withdrawals": sum(1 for fx in effects if fx.withdrawal),
            "spent": sum(len(fx.spent) for fx in effects), "created": sum(len(fx.created) for fx in effects)}


# -- what an arbiter signs -------------------------------------------------------------------------------------


def _pending(raw: Any) -> W.PendingWithdrawal:
    pi = Input(raw, ("txid", "height", "entries"))
    entries = []
    for e in _list(pi, "entries"):
        if not (isinstance(e, list) and len(e) == 3 and isinstance(e[0], str)):
            raise Reject(Reason.MALFORMED_INPUT, None, "entries: [[address, amount, burned]]")
        ei = Input({"v": e[1], "b": e[2]}, ("v", "b"))
        entries.append((e[0], ei.big_int("v"), ei.big_int("b")))
    return W.PendingWithdrawal(side_txid=pi.hex("txid"), height=pi.small_int("height", 0, 0xFFFF_FFFF),
                               entries=tuple(entries))


@handler("sidechain", "sidechain.withdrawal.payment",
         "`tx` (a proposed main-chain payment), `pending` ([{txid, height, entries: [[address, amount, burned]]}]: "
         "the sidechain's unpaid withdrawals, sidechain sela), `x_utxos` ([{txid, index, value}]: the X address's unspent outputs), "
         "`signed_before` (hex digest or null), `side_height` (the best sidechain height), `confirmations` (the "
         "blocks a burn needs), `exchange_rate`? -> `side_txid`, `digest`")
def _withdrawal_payment(data: Any) -> Json:
    inp = Input(data, ("tx", "pending", "x_utxos", "signed_before", "side_height", "confirmations"), ("exchange_rate",))
    pending = {w.side_txid: w for w in (_pending(r) for r in _list(inp, "pending"))}
    utxos: dict[tuple[bytes, int], int] = {}
    for u in _list(inp, "x_utxos"):
        ui = Input(u, ("txid", "index", "value"))
        utxos[(ui.hex("txid"), ui.small_int("index", 0, 0xFFFF))] = ui.big_int("value")
    before = None if inp.raw("signed_before") is None else inp.hex("signed_before")
    tx = Transaction.decode(inp.hex("tx"))
    w = W.check_withdrawal_payment(tx, pending.get, lambda t, i: utxos.get((t, i)), x_address=SP.x_address(
        SP.side_genesis_block().hash()), exchange_rate=_rate(inp), signed_before=before,
        side_height=inp.small_int("side_height", 0, 0xFFFF_FFFF), confirmations=inp.small_int("confirmations", 1, 0xFFFF))
    return {"side_txid": w.side_txid.hex(), "digest": W.payment_digest(tx).hex()}
