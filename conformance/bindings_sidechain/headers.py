"""Handlers of the ``sidechain`` suite for the sidechain header, its SideAuxPow and the genesis block."""

from __future__ import annotations

from typing import Any

from spec.errors import Reason, Reject
from spec.sidechain import block as SB
from spec.sidechain import params as SP

from conformance.bindings import Input, handler

Json = dict[str, Any]
NETWORKS = tuple(SP.ID_NETWORKS)


@handler("sidechain", "sidechain.genesis",
         "`network` -> `hash`, `block`, `x_address`, `program_hash`: the ID sidechain's genesis block and X address")
def _genesis(data: Any) -> Json:
    Input(data, ("network",)).choice("network", NETWORKS)
    g = SP.side_genesis_block()
    return {"hash": g.hash().hex(), "block": g.serialize().hex(), "x_address": SP.x_address(g.hash()),
            "program_hash": SP.genesis_program_hash(g.hash()).hex()}


@handler("sidechain", "sidechain.x_address",
         "`genesis_hash` -> `x_address`, `program_hash`: GetGenesisProgramHash of any sidechain")
def _x_address(data: Any) -> Json:
    h = Input(data, ("genesis_hash",)).hex("genesis_hash")
    if len(h) != 32:
        raise Reject(Reason.MALFORMED_INPUT, None, "genesis_hash: 32 bytes")
    return {"x_address": SP.x_address(h), "program_hash": SP.genesis_program_hash(h).hex()}


@handler("sidechain", "sidechain.header.decode",
         "`header` -> `hash`, `height`, `bits`, `previous`, `main_block_hash`, `side_aux_txid`, `side_aux_merkle_index`, "
         "`branch_length`")
def _header_decode(data: Any) -> Json:
    h = SB.SideHeader.decode(Input(data, ("header",)).hex("header"))
    aux = h.side_auxpow
    return {"hash": h.hash().hex(), "height": h.height, "bits": h.bits, "previous": h.previous.hex(),
            "main_block_hash": aux.main_block_header.hash().hex(), "side_aux_txid": aux.side_aux_block_tx.txid().hex(),
            "side_aux_merkle_index": aux.side_aux_merkle_index, "branch_length": len(aux.side_aux_merkle_branch)}


@handler("sidechain", "sidechain.header.check",
         "`header`, `network` -> {}: checkHeader's size, SideAuxPow (main AuxPoW, transaction type, branch, block "
         "hash) and proof-of-work checks")
def _header_check(data: Any) -> Json:
    inp = Input(data, ("header", "network"))
    params = SP.id_network(inp.choice("network", NETWORKS))
    SB.check_side_header(SB.SideHeader.decode(inp.hex("header")), params.retarget.pow_limit)
    return {}
