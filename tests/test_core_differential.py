"""Differential tests: random and mutated inputs go to the spec and to the C core (through cffi);
any disagreement in result or reason fails, and the failure is written out as a would-be vector
(``reports/differential/<handler>-<n>.json``, and in the failure message) whose ``expect`` is the
spec's answer."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conformance.bindings import cbor_to_json
from spec.chain import auxpow as aux
from spec.chain.block import decode_block
from spec.chain.merkle import merkle_root
from spec.chain.pow import POW_LIMIT, check_proof_of_work
from spec.chain.tx import decode_transaction
from spec.chain.validation import check_block_sanity, check_tx_sanity
from spec.crypto import p256, scripts
from spec.encoding import address, base58, cbor, primitives
from spec.errors import DecodeError, Reject
from tests.helpers import require_core

# a campaign (core/campaign.py) raises the example counts; the database comes from the profile
_CAMPAIGN = int(os.environ.get("HYPOTHESIS_CAMPAIGN_EXAMPLES", "0"))
FAST = settings(deadline=None, max_examples=_CAMPAIGN or 150, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(deadline=None, max_examples=_CAMPAIGN or 60, suppress_health_check=[HealthCheck.too_slow])
REPORTS = Path(__file__).resolve().parents[1] / "reports" / "differential"

core = require_core()


def _hexify(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: _hexify(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_hexify(x) for x in v]
    return v


def spec_outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("reject", REASON) of a spec call."""
    try:
        return ("ok", fn())
    except Reject as e:
        return ("reject", e.reason.value)


def core_outcome(code: int, value: Any = None) -> tuple[str, Any]:
    return ("ok", value) if code == 0 else ("reject", core.reason(code).value)


def agree(handler: str, inputs: dict[str, Any], spec: tuple[str, Any], c: tuple[str, Any]) -> None:
    """Fail with a would-be vector when the spec and the C core disagree."""
    if spec == c:
        return
    vector = {"suite": "differential", "handler": handler, "input": _hexify(inputs),
              "expect": {spec[0]: _hexify(spec[1])}, "c_core": {c[0]: _hexify(c[1])}}
    REPORTS.mkdir(parents=True, exist_ok=True)
    n = len(list(REPORTS.glob(f"{handler}-*.json")))
    (REPORTS / f"{handler}-{n}.json").write_text(json.dumps(vector, indent=1, sort_keys=True) + "\n")
    pytest.fail(f"spec and C core disagree; would-be vector:\n{json.dumps(vector, sort_keys=True)}")


def mutate(data: bytes, draw: Callable[[Any], Any]) -> bytes:
    """Flip, insert, delete or truncate a few bytes (what a fuzzer does to a valid encoding)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and out:
            out[pos] = draw(st.sampled_from([0x00, 0x01, 0xfd, 0xfe, 0xff, 0x7f, 0x80]))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and out:
            del out[pos:pos + draw(st.integers(1, 4))]
        elif op == "truncate":
            del out[pos:]
    return bytes(out)


# -- encoding ------------------------------------------------------------------------------------------


def _varuint_spec(data: bytes) -> int:
    r = primitives.Reader(data)
    v = primitives.read_varuint(r)
    r.finish()
    return v


@FAST
@given(st.one_of(st.binary(max_size=10), st.integers(0, 2**64 - 1).map(primitives.encode_varuint)),
       st.data())
def test_varuint(data: bytes, d: st.DataObject) -> None:
    data = mutate(data, d.draw)
    agree("varuint_decode", {"bytes": data}, spec_outcome(lambda: _varuint_spec(data)),
          spec_outcome(lambda: core.read_varuint(data)))


@FAST
@given(st.binary(max_size=300), st.integers(0, 400), st.data())
def test_varbytes(payload: bytes, maximum: int, d: st.DataObject) -> None:
    data = mutate(primitives.encode_varbytes(payload), d.draw)

    def spec() -> bytes:
        r = primitives.Reader(data)
        v = primitives.read_varbytes(r, maximum)
        r.finish()
        return v

    agree("varbytes_decode", {"bytes": data, "max": maximum}, spec_outcome(spec),
          spec_outcome(lambda: core.read_varbytes(data, maximum)))


B58_TEXT = st.text(alphabet=base58.ALPHABET + "0OIl+ é\x00", max_size=60)


@FAST
@given(st.one_of(B58_TEXT, st.binary(max_size=40).map(base58.b58encode)))
def test_base58_decode(text: str) -> None:
    agree("base58_decode", {"text": text}, spec_outcome(lambda: base58.b58decode(text)),
          spec_outcome(lambda: core.b58decode(text)))


@FAST
@given(st.binary(max_size=60))
def test_base58_encode(data: bytes) -> None:
    assert core.b58encode(data) == base58.b58encode(data)


@FAST
@given(st.binary(min_size=21, max_size=21), st.data())
def test_address_decode(ph: bytes, d: st.DataObject) -> None:
    text = base58.b58encode(ph + core.sha256d(ph)[:4])
    if d.draw(st.booleans()):
        chars = list(text)
        for _ in range(d.draw(st.integers(1, 2))):
            chars[d.draw(st.integers(0, len(chars) - 1))] = d.draw(st.sampled_from(base58.ALPHABET + "0l"))
        text = "".join(chars)
    agree("address_decode", {"address": text}, spec_outcome(lambda: address.program_hash_from_address(text).data),
          spec_outcome(lambda: core.program_hash_from_address(text)))


CBOR_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64 - 1), st.binary(max_size=8), st.text(max_size=8)),
    lambda kids: st.one_of(st.lists(kids, max_size=4),
                           st.dictionaries(st.one_of(st.integers(-100, 100), st.text(max_size=4)), kids, max_size=4)),
    max_leaves=12,
)


@FAST
@given(st.one_of(st.binary(max_size=30), CBOR_VALUES.map(cbor.cbor_encode)), st.data())
def test_cbor_decode(data: bytes, d: st.DataObject) -> None:
    data = mutate(data, d.draw)
    spec = spec_outcome(lambda: cbor_to_json(cbor.cbor_decode(data)))
    c = spec_outcome(lambda: json.loads(core.cbor_decode_json(data)))
    agree("cbor_decode", {"bytes": data}, spec, c)


# -- signatures and programs -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _key(i: int) -> tuple[bytes, bytes]:
    sk = (0x1000 + i).to_bytes(32, "big")
    return sk, p256.public_key_from_private(sk)


@SLOW
@given(st.integers(0, 5), st.binary(max_size=40), st.data())
def test_ecdsa_verify(k: int, message: bytes, d: st.DataObject) -> None:
    sk, pk = _key(k)
    sig = p256.ecdsa_sign(sk, message)
    choice = d.draw(st.sampled_from(["valid", "malleated", "mutated", "other-key", "bad-key"]))
    if choice == "malleated":
        sig = p256.malleate(sig)
    elif choice == "mutated":
        sig = mutate(sig, d.draw)
    elif choice == "other-key":
        pk = _key((k + 1) % 6)[1]
    elif choice == "bad-key":
        pk = mutate(pk, d.draw)
    inputs = {"pubkey": pk, "message": message, "signature": sig}
    agree("ecdsa_verify", inputs, spec_outcome(lambda: p256.ecdsa_verify(pk, message, sig)),
          spec_outcome(lambda: core.ecdsa_verify(pk, message, sig)))


@SLOW
@given(st.integers(1, 4), st.integers(2, 5), st.binary(max_size=20), st.data())
def test_program_verify(m: int, n: int, message: bytes, d: st.DataObject) -> None:
    assume(m <= n)
    keys = [_key(i) for i in range(n)]
    if d.draw(st.booleans()):
        code = scripts.standard_redeem_script(keys[0][1])
        signers = [keys[0][0]]
    else:
        code = scripts.multisig_redeem_script(m, [pk for _, pk in keys])
        signers = [sk for sk, _ in d.draw(st.lists(st.sampled_from(keys), min_size=0, max_size=n + 1))]
    param = b"".join(b"\x40" + p256.ecdsa_sign(sk, message) for sk in signers)
    if d.draw(st.booleans()):
        param = mutate(param, d.draw)
    if d.draw(st.integers(0, 4)) == 0:
        code = mutate(code, d.draw)
    spec = spec_outcome(lambda: (lambda s: (s.kind, s.m, s.n))(scripts.verify_program(code, param, message)))
    rc = core.program_verify_code(code, param, message)
    c = core_outcome(rc, spec[1] if rc == 0 else None)
    agree("program_verify", {"code": code, "parameter": param, "message": message}, spec, c)
    try:
        parsed = scripts.parse_redeem_script(code)
    except Reject:
        return
    # the same check on a script the spec has parsed (ec_script_verify)
    agree("script_verify", {"code": code, "parameter": param, "message": message},
          spec_outcome(lambda: scripts.verify_script(parsed, param, message) and None),
          core_outcome(core.script_verify_code(parsed, param, message)))


@SLOW
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=24), st.data())
def test_transaction_inputs_and_signatures(outpoints: list[tuple[int, int]], d: st.DataObject) -> None:
    """Many inputs (the sorted duplicate search), repeated outpoints, and the signature rules."""
    from conformance.bench_node import PARAMS
    from spec.chain import builder
    from spec.chain.validation import check_signatures

    sk, pk = _key(0)
    owner = builder.standard_program_hash(pk)
    tx = builder.transfer([(bytes([t + 1]) * 32, i) for t, i in outpoints], [(owner, 1000)])
    if d.draw(st.booleans()):
        tx = builder.sign_standard(tx, [sk])
    data = tx.serialize()
    height = 100_000

    def spec() -> None:
        check_tx_sanity(tx, height, PARAMS)

    agree("tx_sanity", {"tx": data, "height": height}, spec_outcome(spec),
          core_outcome(core.tx_sanity_code(data, height, core.chain_params(PARAMS))))
    refs = [type("Ref", (), {"program_hash": d.draw(st.sampled_from([owner, b"\x12" + owner[1:]]))})()
            for _ in tx.inputs]
    agree("check_signatures", {"tx": data, "refs": [r.program_hash for r in refs]},
          spec_outcome(lambda: check_signatures(tx, refs)), core_outcome(core.signatures_code(tx, refs)))


# -- transactions, blocks, AuxPoW --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _chain() -> tuple[list[bytes], list[bytes]]:
    from conformance.bench_node import build_blocks

    blocks = list(build_blocks(112))
    txs = [tx.serialize() for b in blocks for tx in b.transactions]
    return [b.serialize() for b in blocks], txs


@FAST
@given(st.data())
def test_transaction_decode_and_sanity(d: st.DataObject) -> None:
    from conformance.bench_node import PARAMS

    _, txs = _chain()
    data = mutate(d.draw(st.sampled_from(txs[-40:])), d.draw)
    height = d.draw(st.sampled_from([1, 100_000]))

    def spec() -> bytes:
        tx = decode_transaction(data)
        check_tx_sanity(tx, height, PARAMS)
        return tx.txid()

    c_decode, txid = core.tx_decode_code(data)
    rc = c_decode or core.tx_sanity_code(data, height, core.chain_params(PARAMS))
    agree("tx_sanity", {"tx": data, "height": height}, spec_outcome(spec), core_outcome(rc, txid))


@SLOW
@given(st.data())
def test_block_decode_and_sanity(d: st.DataObject) -> None:
    from conformance.bench_node import PARAMS

    blocks, _ = _chain()
    data = mutate(d.draw(st.sampled_from(blocks[-12:])), d.draw)
    now = 1_700_000_000

    def spec() -> list[bytes]:
        b = decode_block(data)
        check_block_sanity(b, PARAMS, now)
        return b.txids()

    try:
        cb = core.decode_block(data)
    except Reject as e:
        c = ("reject", e.reason.value)
    else:
        c = core_outcome(cb.sanity_code(core.chain_params(PARAMS), now), cb.txids())
    agree("block_sanity", {"block": data, "now": now}, spec_outcome(spec), c)


@FAST
@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1), st.lists(st.binary(min_size=32, max_size=32),
       max_size=3), st.binary(max_size=6), st.binary(max_size=6), st.integers(0, 2**32 - 1), st.data())
def test_auxpow_check(block_hash: bytes, nonce: int, branch: list[bytes], prefix: bytes, extra: bytes,
                      chain_id: int, d: st.DataObject) -> None:
    chain = d.draw(st.sampled_from([aux.AUXPOW_CHAIN_ID, chain_id]))
    raw = aux.make_auxpow(block_hash, aux.AUXPOW_CHAIN_ID, nonce=nonce, aux_branch=branch, script_prefix=prefix,
                          script_extra=extra).serialize()
    if d.draw(st.booleans()):
        raw = mutate(raw, d.draw)

    def spec() -> None:
        aux.check_auxpow(aux.AuxPow.decode(raw), block_hash, chain)

    agree("auxpow_check", {"auxpow": raw, "block_hash": block_hash, "chain_id": chain},
          spec_outcome(spec), core_outcome(core.auxpow_check_code(raw, block_hash, chain)))


@FAST
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_merkle_root(hashes: list[bytes]) -> None:
    agree("merkle_root", {"hashes": hashes}, spec_outcome(lambda: merkle_root(hashes)),
          spec_outcome(lambda: core.merkle_root(hashes)))


@FAST
@given(st.binary(min_size=32, max_size=32), st.one_of(st.integers(0, 2**32 - 1),
       st.sampled_from([0x1F0008FF, 0x207FFFFF, 0x1D00FFFF, 0x00800000, 0x04800001, 0x21008000, 0xFF7FFFFF])))
def test_proof_of_work(parent: bytes, bits: int) -> None:
    agree("pow_check", {"parent": parent, "bits": bits},
          spec_outcome(lambda: check_proof_of_work(parent, bits, POW_LIMIT)),
          core_outcome(core.pow_check_code(parent, bits, POW_LIMIT)))


def _c_string(fn: Callable[..., int], *args: Any) -> tuple[int, str]:
    out = core.ffi.new("char **")
    code = int(fn(*args, out))
    try:
        return code, core.ffi.string(out[0]).decode() if code == 0 else ""
    finally:
        if code == 0:
            core.lib.ec_free(out[0])


BITS = st.one_of(st.integers(0, 2**32 - 1), st.builds(lambda e, m: (e << 24) | m, st.integers(0, 255),
                                                       st.integers(0, 0xFFFFFF)))


@FAST
@given(BITS, st.integers(-(2**300), 2**300))
def test_compact_bits_and_work(bits: int, target: int) -> None:
    from spec.chain.pow import big_to_compact, calc_work, compact_to_big

    out, neg, canon = core.ffi.new("char **"), core.ffi.new("int *"), core.ffi.new("uint32_t *")
    assert core.lib.ec_bits_to_target(bits, out, neg, canon) == 0
    c = (core.ffi.string(out[0]).decode(), bool(neg[0]), int(canon[0]))
    core.lib.ec_free(out[0])
    t = compact_to_big(bits)
    agree("bits_to_target", {"bits": bits}, ("ok", (str(t), t < 0, big_to_compact(t))), ("ok", c))
    code, work = _c_string(core.lib.ec_calc_work, bits)
    agree("work", {"bits": bits}, ("ok", str(calc_work(bits))), core_outcome(code, work))
    b = core.ffi.new("uint32_t *")
    assert core.lib.ec_bits_from_target(str(target).encode(), b) == 0
    agree("bits_from_target", {"target": str(target)}, ("ok", big_to_compact(target)), ("ok", int(b[0])))


@FAST
@given(st.sampled_from(["mainnet", "instant"]), st.integers(0, 2**32 - 1), BITS, st.integers(0, 2**32 - 1),
       st.one_of(st.none(), st.integers(0, 2**32 - 1)), st.booleans())
def test_next_required_bits(net: str, prev_height: int, prev_bits: int, prev_ts: int, first_ts: int | None,
                            at_retarget: bool) -> None:
    from spec.chain import params as P
    from spec.chain.pow import next_required_bits

    params = P.network(net)
    if at_retarget:  # land on a retarget height often
        prev_height = max(1, prev_height - prev_height % params.blocks_per_retarget) - 1 or params.blocks_per_retarget - 1
    p = core.ffi.new("ec_retarget *")
    core.ffi.memmove(p.pow_limit, params.pow_limit.to_bytes(32, "big"), 32)
    p.pow_limit_bits = params.pow_limit_bits
    p.target_timespan, p.target_time_per_block = params.target_timespan, params.target_time_per_block
    p.adjustment_factor = params.adjustment_factor
    out = core.ffi.new("uint32_t *")
    code = int(core.lib.ec_next_required_bits(p, prev_height, prev_bits, prev_ts, first_ts is not None,
                                              first_ts or 0, out))
    agree("bits_next", {"network": net, "prev": [prev_height, prev_bits, prev_ts], "first": first_ts},
          spec_outcome(lambda: next_required_bits(prev_height, prev_bits, prev_ts, first_ts, params.retarget)),
          core_outcome(code, int(out[0])))


def _answer(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("reject", REASON) of a binding call."""
    try:
        return ("ok", fn())
    except (Reject, DecodeError) as e:
        return ("reject", e.reason.value)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=0, max_size=48), fmt=st.sampled_from(["H", "I", "Q"]))
def test_a_buffer_of_wider_items_is_read_as_its_bytes(data: bytes, fmt: str) -> None:
    """The bindings that read a caller's buffer take its length in bytes, not in items: a memoryview of
    2-, 4- or 8-byte items decodes exactly as the bytes it holds."""
    data = data[: len(data) - len(data) % 8]  # whole items of every width
    wide = memoryview(data).cast(fmt)
    assert _answer(lambda: core.read_varuint(wide)) == _answer(lambda: core.read_varuint(data))
    assert _answer(lambda: core.read_varbytes(wide, 40)) == _answer(lambda: core.read_varbytes(data, 40))
    zero = bytes(32)
    assert core.auxpow_check_code(wide, zero, 1224) == core.auxpow_check_code(data, zero, 1224)
    assert _answer(lambda: core.CoreBlock(wide).hash()) == _answer(lambda: core.CoreBlock(data).hash())
