"""Handlers of the ``chain`` suite for transactions, blocks, genesis, validation, state and fork choice.

Hashes (txids, block hashes, asset IDs) are stored-order hex; other bytes lower-case hex. Amounts
and other i64 / u64 values are decimal strings; versions, types, indices, heights, timestamps,
bits and nonces are JSON numbers. ``network`` is ``mainnet``, ``testnet``, ``regnet`` or
``instant`` (regnet with ``InstantBlock()``, whose blocks are cheap to mine); another name is
refused with ``UNKNOWN_NETWORK`` (NET-001).

A chain state is given as ``pre``: the blocks after genesis, oldest first, as hex. The binding
applies them with :func:`spec.chain.state.apply_block` (at the case's ``now``); a ``pre`` block
that does not apply makes the input ``MALFORMED_INPUT``, since only the last block is the question.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from spec.chain import params as P
from spec.chain import state as S
from spec.chain import validation as V
from spec.chain.block import Block, Header
from spec.chain.tx import Output, Transaction
from spec.crypto import scripts
from spec.encoding import address
from spec.encoding.hashes import Uint168
from spec.encoding.primitives import U32_MAX
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]

BIG_FIELDS = frozenset({"amount", "target_amount", "votes", "output_index", "value"})
"""Payload fields written as decimal strings (i64 / u64)."""


def _network(inp: Input) -> P.NetworkParams:
    return P.network(inp.text("network"))  # NET-001: an unknown name is UNKNOWN_NETWORK


def _u32(inp: Input, key: str) -> int:
    return inp.small_int(key, 0, U32_MAX)


def _value_json(name: str, v: Any) -> Any:
    if isinstance(v, BaseModel):
        return {k: _value_json(k, getattr(v, k)) for k in type(v).model_fields}
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return str(v) if name in BIG_FIELDS else v
    if isinstance(v, tuple | list):
        return [_value_json(name, x) for x in v]
    raise TypeError(f"{name}: {type(v).__name__}")


def output_json(o: Output) -> Json:
    return {"asset_id": o.asset_id.hex(), "value": str(o.value), "output_lock": o.output_lock,
            "program_hash": o.program_hash.hex(), "type": o.type,
            "payload": _value_json("payload", o.payload) if o.payload is not None else None}


def tx_json(tx: Transaction) -> Json:
    return {
        "txid": tx.txid().hex(),
        "version": tx.version,
        "type": tx.tx_type,
        "payload_version": tx.payload_version,
        "payload": _value_json("payload", tx.payload),
        "attributes": [{"usage": a.usage, "data": a.data.hex()} for a in tx.attributes],
        "inputs": [{"txid": i.previous.txid.hex(), "index": i.previous.index, "sequence": i.sequence}
                   for i in tx.inputs],
        "outputs": [output_json(o) for o in tx.outputs],
        "lock_time": tx.lock_time,
        "programs": [{"parameter": p.parameter.hex(), "code": p.code.hex()} for p in tx.programs],
        "size": tx.size(),
    }


def header_json(h: Header) -> Json:
    return {"version": h.version, "previous": h.previous.hex(), "merkle_root": h.merkle_root.hex(),
            "timestamp": h.timestamp, "bits": h.bits, "nonce": h.nonce, "height": h.height}


def _block(inp: Input, key: str = "block") -> Block:
    return Block.decode(inp.hex(key))


def _tx(inp: Input, key: str = "tx") -> Transaction:
    return Transaction.decode(inp.hex(key))


# -- codecs ------------------------------------------------------------------------------------------


@handler("chain", "ela.tx.decode",
         "`tx` -> `txid`, `version`, `type`, `payload_version`, `payload`, `attributes`, `inputs`, `outputs`, "
         "`lock_time`, `programs`, `size`: decode a complete transaction")
def _tx_decode(data: Any) -> Json:
    return tx_json(_tx(Input(data, ("tx",))))


@handler("chain", "ela.block.decode",
         "`block` -> `hash`, `header` (without the AuxPoW), `txids`, `size`: decode a complete block")
def _block_decode(data: Any) -> Json:
    b = _block(Input(data, ("block",)))
    return {"hash": b.hash().hex(), "header": header_json(b.header), "txids": [t.hex() for t in b.txids()],
            "size": b.size()}


@handler("chain", "ela.tx.set_version",
         "`tx`, `version` -> `tx`, `txid`: the transaction re-encoded with another version (what a builder writes)")
def _tx_set_version(data: Any) -> Json:
    inp = Input(data, ("tx", "version"))
    tx = _tx(inp).model_copy(update={"version": inp.small_int("version", 0, 0xFF)})
    return {"tx": tx.serialize().hex(), "txid": tx.txid().hex()}


@handler("chain", "ela.genesis", "`network` -> `hash`, `block`: the genesis block the spec builds")
def _genesis(data: Any) -> Json:
    inp = Input(data, ("network",))
    g = P.genesis_block(inp.text("network"))
    return {"hash": g.hash().hex(), "block": g.serialize().hex()}


@handler("chain", "ela.reward", "`network`, `height` -> `sela`: GetBlockReward")
def _reward(data: Any) -> Json:
    inp = Input(data, ("network", "height"))
    return {"sela": str(P.block_reward(_u32(inp, "height"), _network(inp)))}


_ADDRESS_PREFIXES = {"standard": address.PREFIX_STANDARD, "deposit": address.PREFIX_DEPOSIT,
                     "did": address.PREFIX_DID}


@handler("chain", "ela.address.from_pubkey",
         "`pubkey`, `prefix` (standard | deposit | did) -> `address`, `program_hash`: of the key's standard script")
def _address_from_pubkey(data: Any) -> Json:
    inp = Input(data, ("pubkey", "prefix"))
    prefix = _ADDRESS_PREFIXES[inp.choice("prefix", tuple(_ADDRESS_PREFIXES))]
    code = scripts.standard_redeem_script(inp.hex("pubkey"))
    ph = Uint168.from_code(prefix, code)
    return {"address": address.address_from_program_hash(ph), "program_hash": ph.data.hex()}


# -- validation ------------------------------------------------------------------------------------------


LIMITS = ("max_block_context_size", "max_block_header_size", "max_tx_per_block")
"""Size and count limits a sanity case may lower (``limits``), so that a case at a limit stays small."""


def _limited(inp: Input) -> P.NetworkParams:
    params = _network(inp)
    if not inp.has("limits"):
        return params
    lim = Input(inp.raw("limits"), (), LIMITS)
    return params.model_copy(update={k: _u32(lim, k) for k in LIMITS if lim.has(k)})


@handler("chain", "ela.tx.sanity",
         "`tx`, `height`, `network` [, `limits`: {max_block_context_size}] -> `{}`: CheckTransactionSanity")
def _tx_sanity(data: Any) -> Json:
    inp = Input(data, ("tx", "height", "network"), ("limits",))
    V.check_tx_sanity(_tx(inp), _u32(inp, "height"), _limited(inp))
    return {}


@handler("chain", "ela.block.sanity",
         "`block`, `network`, `now` [, `limits`: {max_block_context_size, "
         "max_block_header_size, max_tx_per_block}] -> `{}`: CheckBlockSanity at adjusted time `now`")
def _block_sanity(data: Any) -> Json:
    inp = Input(data, ("block", "network", "now"), ("limits",))
    V.check_block_sanity(_block(inp), _limited(inp), _u32(inp, "now"))
    return {}


def _referenced(inp: Input) -> list[Output]:
    raw = inp.raw("referenced_outputs")
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "referenced_outputs: expected a list")
    out = []
    for item in raw:
        r = Input(item, ("txid", "index", "program_hash"), ("value",))
        r.hex("txid")
        r.small_int("index", 0, 0xFFFF)
        out.append(Output(asset_id=P.ELA_ASSET_ID, value=r.big_int("value") if r.has("value") else 0,
                          output_lock=0, program_hash=_fixed(r, "program_hash", 21)))
    return out


def _fixed(inp: Input, key: str, n: int) -> bytes:
    v = inp.hex(key)
    if len(v) != n:
        raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected {n} bytes")
    return v


@handler("chain", "ela.tx.verify_signatures",
         "`tx`, `referenced_outputs` ([{txid, index, program_hash}], one per input) -> `{}`: RunPrograms")
def _tx_verify_signatures(data: Any) -> Json:
    inp = Input(data, ("tx", "referenced_outputs"))
    tx = _tx(inp)
    refs = _referenced(inp)
    if len(refs) != len(tx.inputs):
        raise Reject(Reason.MALFORMED_INPUT, None, "one referenced output per input")
    V.check_signatures(tx, refs)
    return {}


class _View:
    """A :class:`~spec.chain.validation.ChainView` of UTXO entries and transaction output counts only."""

    def __init__(self, utxos: dict[tuple[bytes, int], V.UtxoEntry], counts: dict[bytes, int],
                 withdrawn: frozenset[bytes] = frozenset()) -> None:
        self._utxos, self._counts, self._withdrawn = utxos, counts, withdrawn

    def tip(self) -> V.HeaderInfo:
        raise Reject(Reason.MALFORMED_INPUT, None, "this view has no headers")

    def header_at(self, height: int) -> V.HeaderInfo | None:
        return None

    def utxo(self, txid: bytes, index: int) -> V.UtxoEntry | None:
        return self._utxos.get((txid, index))

    def output_count(self, txid: bytes) -> int | None:
        return self._counts.get(txid)

    def sidechain_tx_withdrawn(self, txhash: bytes) -> bool:
        return txhash in self._withdrawn


_UTXO_FIELDS = ("txid", "index", "value", "program_hash")
_UTXO_OPTIONAL = ("output_lock", "height", "coinbase", "tx_lock_time", "new_sidechain_pow")


def _utxo_entry(item: Any) -> tuple[tuple[bytes, int], V.UtxoEntry]:
    r = Input(item, _UTXO_FIELDS, _UTXO_OPTIONAL)
    flags = {}
    for key in ("coinbase", "new_sidechain_pow"):
        v = r.raw(key) if r.has(key) else False
        if not isinstance(v, bool):
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a boolean")
        flags[key] = v
    out = Output(asset_id=P.ELA_ASSET_ID, value=r.big_int("value"),
                 output_lock=_u32(r, "output_lock") if r.has("output_lock") else 0,
                 program_hash=_fixed(r, "program_hash", 21))
    entry = V.UtxoEntry(output=out, height=_u32(r, "height") if r.has("height") else 0,
                        tx_lock_time=_u32(r, "tx_lock_time") if r.has("tx_lock_time") else 0, **flags)
    return (_fixed(r, "txid", 32), r.small_int("index", 0, 0xFFFF)), entry


@handler(
    "chain", "ela.tx.context",
    "`tx`, `height`, `network`, `utxos` ([{txid, index, value, program_hash [, output_lock, height, coinbase, "
    "tx_lock_time, new_sidechain_pow]}]), `chain_txs` ({txid: output count}), `arbiters`? (public keys), "
    "`withdrawn`? (sidechain tx hashes already withdrawn) -> `fee`: CheckTransactionContext",
)
def _tx_context(data: Any) -> Json:
    inp = Input(data, ("tx", "height", "network", "utxos", "chain_txs"), ("arbiters", "withdrawn"))
    raw_utxos, raw_txs = inp.raw("utxos"), inp.raw("chain_txs")
    if not isinstance(raw_utxos, list) or not isinstance(raw_txs, dict):
        raise Reject(Reason.MALFORMED_INPUT, None, "utxos: a list; chain_txs: an object")
    utxos = dict(_utxo_entry(u) for u in raw_utxos)
    counts = {}
    for k, v in raw_txs.items():
        c = Input({"txid": k, "n": v}, ("txid", "n"))
        counts[_fixed(c, "txid", 32)] = c.small_int("n", 0, 0xFFFF + 1)
    for txid, _ in utxos:
        if txid not in counts:
            raise Reject(Reason.MALFORMED_INPUT, None, "every utxo's transaction is in chain_txs")
    params = _network(inp)
    if inp.has("arbiters"):  # a case may name the cross-chain arbiters the profile itself leaves empty
        params = params.model_copy(update={"cross_chain_arbiters": tuple(inp.hex_list("arbiters"))})
    withdrawn = frozenset(_fixed(Input({"h": h}, ("h",)), "h", 32) for h in inp.raw("withdrawn")) \
        if inp.has("withdrawn") and isinstance(inp.raw("withdrawn"), list) else frozenset()
    fee = V.check_tx_context(_tx(inp), _u32(inp, "height"), _View(utxos, counts, withdrawn), params)
    return {"fee": str(fee)}


# -- state -----------------------------------------------------------------------------------------------------


def _pre_state(inp: Input, params: P.NetworkParams, now: int) -> S.ChainState:
    state = S.genesis_state(params)
    for i, raw in enumerate(inp.hex_list("pre")):
        try:
            state, _ = S.apply_block(state, Block.decode(raw), now)
        except Reject as e:
            raise Reject(Reason.MALFORMED_INPUT, None, f"pre block {i} does not apply: {e.reason.value}") from None
    return state


def utxo_list(state: S.ChainState) -> list[Json]:
    return [{"txid": t.hex(), "index": i, "value": str(e.output.value), "program_hash": e.output.program_hash.hex()}
            for (t, i), e in sorted(state.utxos.items())]


def state_json(state: S.ChainState) -> Json:
    return {"tip": state.tip().hash.hex(), "height": state.height, "work": str(state.work),
            "utxos": utxo_list(state)}


@handler(
    "chain", "ela.block.apply",
    "`network`, `pre` (block hexes after genesis, oldest first), `block`, `now` -> `tip`, `height`, `work`, "
    "`utxos` (sorted by txid, index) of the state after the block: apply_block; also checks that undo_block "
    "restores the state before it",
)
def _block_apply(data: Any) -> Json:
    inp = Input(data, ("network", "pre", "block", "now"))
    params, now = _network(inp), _u32(inp, "now")
    pre = _pre_state(inp, params, now)
    block = _block(inp)
    post, undo = S.apply_block(pre, block, now)
    back = S.undo_block(post, block, undo)
    assert (back.headers, dict(back.utxos), dict(back.tx_outputs), back.work) == (
        pre.headers, dict(pre.utxos), dict(pre.tx_outputs), pre.work), "undo_block does not restore the state"
    return state_json(post)


def _invalid_reason(text: str) -> str:
    return text if text in Reason._value2member_map_ else "descends_from_invalid"


ARRIVAL_DOC = ("`statuses` (per block in input order: tip | valid | orphan | invalid | refused | duplicate; refused: "
               "turned away for a reason its hash does not commit to and forgotten, so that the same hash may come "
               "again; duplicate: the block's hash was already known when it came, after an earlier block of the "
               "input with that hash), `reasons` (per invalid or refused block: its rejection reason, or "
               "`descends_from_invalid` for a block that builds on an invalid one; null otherwise)")


def arrival_report(hashes: list[bytes], add: Callable[[int], dict[bytes, str]], status: Callable[[bytes], str | None],
                   invalid: Callable[[bytes], str]) -> tuple[list[str], list[str | None]]:
    """Feed the blocks of a fork-choice request in order (``add(i)`` adds the i-th and returns every decided
    block's outcome) and report each input block as ARRIVAL_DOC says: ``status(h)`` is the tree's status of a
    hash (None when unknown) and ``invalid(h)`` the reason it remembers for an invalid one."""
    holder: dict[bytes, int] = {}   # hash -> the input whose block the tree took for it
    refused: dict[int, str] = {}
    duplicate: set[int] = set()
    for i, h in enumerate(hashes):
        outcome = add(i)
        if outcome.get(h) == "duplicate":
            if h in hashes[:i]:
                duplicate.add(i)
            continue
        holder[h] = i
        for bh, o in outcome.items():
            if o not in ("valid", "orphan") and status(bh) is None:   # refused, not remembered
                refused[holder[bh]] = o
    statuses: list[str] = []
    reasons: list[str | None] = []
    for i, h in enumerate(hashes):
        st = "duplicate" if i in duplicate else "refused" if i in refused else status(h)
        assert st is not None, "a block the tree took has a status"
        statuses.append(st)
        reasons.append(refused[i] if st == "refused" else _invalid_reason(invalid(h)) if st == "invalid" else None)
    return statuses, reasons


def feed_blocks(tree: S.BlockTree, blocks: list[Block], now: int) -> tuple[S.BlockTree, list[str], list[str | None]]:
    """Feed ``blocks`` in order to the spec's ``tree`` (:func:`spec.chain.state.add_block`): the final tree and
    each block's status and reason as ``ela.fork_choice`` reports them (:func:`arrival_report`)."""

    def add(i: int) -> dict[bytes, str]:
        nonlocal tree
        tree, outcome = S.add_block(tree, blocks[i], now)
        return outcome

    statuses, reasons = arrival_report([b.hash() for b in blocks], add, lambda h: tree.status(h),
                                       lambda h: tree.invalid[h])
    return tree, statuses, reasons


@handler(
    "chain", "ela.fork_choice",
    "`network`, `blocks` (hexes, in arrival order), `now` -> `tip`, `height`, `work`, " + ARRIVAL_DOC,
)
def _fork_choice(data: Any) -> Json:
    inp = Input(data, ("network", "blocks", "now"))
    params, now = _network(inp), _u32(inp, "now")
    blocks = [Block.decode(b) for b in inp.hex_list("blocks")]
    tree, statuses, reasons = feed_blocks(S.new_tree(params), blocks, now)
    tip = tree.tip_state
    return {"tip": tip.tip().hash.hex(), "height": tip.height, "work": str(tip.work), "statuses": statuses,
            "reasons": reasons}
