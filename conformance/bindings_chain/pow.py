"""Handlers of the ``chain`` suite for merkle roots, compact bits, work, proof of work, retarget and AuxPoW.

Hashes are stored-order hex. Targets and work are decimal strings (they exceed 2^53); bits,
heights, timestamps, indices, nonces and chain IDs are JSON numbers (u32). ``network`` selects the
retarget parameters of :data:`spec.chain.pow.NETWORK_RETARGET_PARAMS`.
"""

from __future__ import annotations

from typing import Any

from spec.chain import auxpow, merkle, pow
from spec.chain import params as P
from spec.encoding.primitives import U32_MAX
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]


def _network(inp: Input) -> pow.RetargetParams:
    return pow.NETWORK_RETARGET_PARAMS[P.network(inp.text("network")).name]  # NET-001


def _u32(inp: Input, key: str) -> int:
    return inp.small_int(key, 0, U32_MAX)


# -- merkle -----------------------------------------------------------------------------------------


@handler("chain", "ela.merkle.root", "`hashes` (stored-order hex, in block order) -> `root`: duplicate-last merkle root")
def _merkle_root(data: Any) -> Json:
    return {"root": merkle.merkle_root(Input(data, ("hashes",)).hex_list("hashes")).hex()}


@handler("chain", "ela.merkle.branch", "`hashes`, `index` -> `branch`: sibling hashes from the leaf up")
def _merkle_branch(data: Any) -> Json:
    inp = Input(data, ("hashes", "index"))
    return {"branch": [h.hex() for h in merkle.merkle_branch(inp.hex_list("hashes"), _u32(inp, "index"))]}


@handler("chain", "ela.merkle.branch_root", "`leaf`, `branch`, `index` -> `root`: GetMerkleRoot")
def _merkle_branch_root(data: Any) -> Json:
    inp = Input(data, ("leaf", "branch", "index"))
    return {"root": merkle.merkle_branch_root(inp.hex("leaf"), inp.hex_list("branch"), _u32(inp, "index")).hex()}


# -- compact bits, work, proof of work ------------------------------------------------------------


@handler(
    "chain", "ela.bits.to_target",
    "`bits` -> `target` (signed decimal), `negative`, `canonical_bits`: CompactToBig, and BigToCompact of the result",
)
def _bits_to_target(data: Any) -> Json:
    target = pow.compact_to_big(_u32(Input(data, ("bits",)), "bits"))
    return {"target": str(target), "negative": target < 0, "canonical_bits": pow.big_to_compact(target)}


@handler("chain", "ela.bits.from_target", "`target` (signed decimal) -> `bits`: BigToCompact")
def _bits_from_target(data: Any) -> Json:
    return {"bits": pow.big_to_compact(Input(data, ("target",)).big_int("target"))}


@handler("chain", "ela.work", "`bits` -> `work` (decimal): 2^256 // (target + 1), 0 for a target <= 0")
def _work(data: Any) -> Json:
    return {"work": str(pow.calc_work(_u32(Input(data, ("bits",)), "bits")))}


@handler(
    "chain", "ela.pow.check",
    "`parent_header` (80-byte Bitcoin header) or `parent_header_hash`, `bits`, `network` -> `{}`: CheckProofOfWork",
)
def _pow_check(data: Any) -> Json:
    inp = Input(data, ("bits", "network"), ("parent_header", "parent_header_hash"))
    if inp.has("parent_header") == inp.has("parent_header_hash"):
        raise Reject(Reason.MALFORMED_INPUT, None, "give exactly one of parent_header, parent_header_hash")
    if inp.has("parent_header"):
        h = auxpow.BtcHeader.decode(inp.hex("parent_header")).hash()
    else:
        h = inp.hex("parent_header_hash")
    pow.check_proof_of_work(h, _u32(inp, "bits"), _network(inp).pow_limit)
    return {}


def _headers(inp: Input) -> list[tuple[int, int, int]]:
    raw = inp.raw("headers")
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "headers: expected a list")
    out = []
    for item in raw:
        h = Input(item, ("height", "timestamp", "bits"))
        out.append((_u32(h, "height"), _u32(h, "timestamp"), _u32(h, "bits")))
    return out


@handler(
    "chain", "ela.bits.next",
    "`headers` ([{height, timestamp, bits}], oldest first, ending at the previous block), `network` -> "
    "`bits`: CalcNextRequiredDifficulty",
)
def _bits_next(data: Any) -> Json:
    inp = Input(data, ("headers", "network"))
    return {"bits": pow.next_bits_from_headers(_headers(inp), _network(inp))}


# -- AuxPoW -----------------------------------------------------------------------------------------


def _header_json(h: auxpow.BtcHeader) -> Json:
    return {"version": h.version, "previous": h.previous.hex(), "merkle_root": h.merkle_root.hex(),
            "timestamp": h.timestamp, "bits": h.bits, "nonce": h.nonce, "hash": h.hash().hex()}


def _tx_json(tx: auxpow.BtcTx) -> Json:
    return {
        "version": tx.version,
        "inputs": [{"previous_hash": i.previous_hash.hex(), "previous_index": i.previous_index,
                    "signature_script": i.signature_script.hex(), "sequence": i.sequence} for i in tx.tx_in],
        "outputs": [{"value": str(o.value), "pk_script": o.pk_script.hex()} for o in tx.tx_out],
        "lock_time": tx.lock_time,
        "txid": tx.hash().hex(),
    }


@handler(
    "chain", "ela.auxpow.decode",
    "`auxpow` -> `par_coinbase_tx`, `parent_hash`, `par_coinbase_branch`, `par_merkle_index`, "
    "`aux_merkle_branch`, `aux_merkle_index`, `par_block_header`, `size`",
)
def _auxpow_decode(data: Any) -> Json:
    raw = Input(data, ("auxpow",)).hex("auxpow")
    ap = auxpow.AuxPow.decode(raw)
    return {
        "par_coinbase_tx": _tx_json(ap.par_coinbase_tx),
        "parent_hash": ap.parent_hash.hex(),
        "par_coinbase_branch": [h.hex() for h in ap.par_coinbase_branch],
        "par_merkle_index": ap.par_merkle_index,
        "aux_merkle_branch": [h.hex() for h in ap.aux_merkle_branch],
        "aux_merkle_index": ap.aux_merkle_index,
        "par_block_header": _header_json(ap.par_block_header),
        "size": len(raw),
    }


@handler(
    "chain", "ela.auxpow.check",
    "`auxpow`, `block_hash` (stored order), `chain_id` -> `{}`: AuxPow.Check",
)
def _auxpow_check(data: Any) -> Json:
    inp = Input(data, ("auxpow", "block_hash", "chain_id"))
    ap = auxpow.AuxPow.decode(inp.hex("auxpow"))
    auxpow.check_auxpow(ap, inp.hex("block_hash"), _u32(inp, "chain_id"))
    return {}


@handler(
    "chain", "ela.auxpow.expected_index",
    "`nonce`, `chain_id`, `height` (aux branch length) -> `index`: GetExpectedIndex",
)
def _auxpow_expected_index(data: Any) -> Json:
    inp = Input(data, ("nonce", "chain_id", "height"))
    return {"index": auxpow.expected_index(_u32(inp, "nonce"), _u32(inp, "chain_id"), _u32(inp, "height"))}
