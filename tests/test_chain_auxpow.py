"""The AuxPoW: codecs of the Bitcoin parent and the AuxPoW, the check against upstream's vectors, crafted
accept and reject cases for every rule, and a differential test against a line-by-line transcription
of upstream's ``Check``."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spec.chain import auxpow as A
from spec.chain.merkle import merkle_branch_root
from spec.encoding.primitives import U32_MAX
from spec.errors import DecodeError, Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
PANIC = "panic"

hash32 = st.binary(min_size=32, max_size=32)
u32 = st.integers(0, U32_MAX)


def d(x: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(x).digest()).digest()


@pytest.fixture(scope="module")
def upstream(repo_root):
    path = repo_root / ".." / "shared" / "interop" / "ela" / "auxpow.json"
    if not path.is_file():
        pytest.fail(f"interop data {path} is missing")
    return json.loads(path.read_text(encoding="utf-8"))


# -- strategies -------------------------------------------------------------------------------------

tx_in = st.builds(A.BtcTxIn, previous_hash=hash32, previous_index=u32, signature_script=st.binary(max_size=120),
                  sequence=u32)
tx_out = st.builds(A.BtcTxOut, value=st.integers(-(1 << 63), (1 << 63) - 1), pk_script=st.binary(max_size=60))
btc_tx = st.builds(A.BtcTx, version=st.integers(-(1 << 31), (1 << 31) - 1), tx_in=st.lists(tx_in, max_size=3).map(tuple),
                   tx_out=st.lists(tx_out, max_size=3).map(tuple), lock_time=u32)
btc_header = st.builds(A.BtcHeader, version=u32, previous=hash32, merkle_root=hash32, timestamp=u32, bits=u32, nonce=u32)
auxpows = st.builds(A.AuxPow, par_coinbase_tx=btc_tx, parent_hash=hash32,
                    par_coinbase_branch=st.lists(hash32, max_size=4).map(tuple), par_merkle_index=u32,
                    aux_merkle_branch=st.lists(hash32, max_size=4).map(tuple), aux_merkle_index=u32,
                    par_block_header=btc_header)


# -- codecs -------------------------------------------------------------------------------------------


@FAST
@given(st.one_of(tx_in, tx_out, btc_tx, btc_header, auxpows))
def test_every_model_round_trips(value):
    raw = value.encode()
    assert type(value).decode(raw) == value
    if isinstance(value, A.BtcHeader):
        assert len(raw) == A.BTC_HEADER_SIZE and value.hash() == d(raw)


@FAST
@given(auxpows, st.data())
def test_truncated_auxpow_is_a_decode_error(ap, data):
    raw = ap.encode()
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(DecodeError) as info:
        A.AuxPow.decode(raw[:cut])
    assert info.value.reason is Reason.TRUNCATED
    with pytest.raises(DecodeError) as info:
        A.AuxPow.decode(raw + b"\x00")
    assert info.value.reason is Reason.TRAILING_BYTES


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_decode_or_raise_decode_error(raw):
    for model in (A.AuxPow, A.BtcTx, A.BtcHeader):
        try:
            value = model.decode(raw)
        except DecodeError:
            continue
        assert value.encode() == raw


def test_zero_auxpow():
    z = A.zero_auxpow()
    raw = z.encode()
    assert len(raw) == A.ZERO_AUXPOW_SIZE == 132
    assert raw == bytes(4) + b"\x00\x00" + bytes(4) + bytes(32) + b"\x00" + bytes(4) + b"\x00" + bytes(4) + bytes(80)
    assert A.AuxPow.decode(raw) == z


def test_limits_and_strictness():
    with pytest.raises(DecodeError) as info:
        A.BtcTxIn.decode(bytes(36) + b"\xfd" + (10001).to_bytes(2, "little") + bytes(10005))
    assert info.value.reason is Reason.LENGTH_EXCEEDS_MAX
    with pytest.raises(DecodeError) as info:
        A.AuxPow.decode(bytes(4) + b"\xfd\x00\x00")
    assert info.value.reason is Reason.NON_CANONICAL_VARUINT
    with pytest.raises(Exception):
        A.BtcHeader(version=-1, previous=bytes(32), merkle_root=bytes(32), timestamp=0, bits=0, nonce=0)
    with pytest.raises(Exception):
        A.BtcTxIn(previous_hash=bytes(31), previous_index=0, signature_script=b"", sequence=0)
    with pytest.raises(Exception):
        A.BtcTxOut(value=0, pk_script=bytes(10001))


# -- upstream vectors ------------------------------------------------------------------------------------


@pytest.mark.interop
def test_upstream_vectors_decode_round_trip_and_check(upstream):
    assert len(upstream) == 3
    for case in upstream:
        raw = bytes.fromhex(case["auxpow_hex"])
        ap = A.AuxPow.decode(raw)
        assert ap.encode() == raw
        assert ap.parent_hash == ap.par_block_header.hash()[::-1]
        block = bytes.fromhex(case["block_hash_hex_as_in_source"])
        assert case["expect_valid"] is True
        A.check_auxpow(ap, block, case["chain_id"])
        A.check_auxpow(ap, block, A.AUXPOW_CHAIN_ID)
        assert reference_check(ap, block, case["chain_id"]) == "ok"
        expect_reject(A.check_auxpow, ap, block[::-1], case["chain_id"], reason=Reason.AUXPOW_ROOT_MISSING, rule="AUX-004")
    assert [len(A.AuxPow.decode(bytes.fromhex(c["auxpow_hex"])).aux_merkle_branch) for c in upstream] == [1, 1, 0]


@pytest.mark.interop
def test_expected_index_upstream_examples(ela_facts):
    f = ela_facts["auxpow_constants"]["value"]
    assert (f["AuxPowChainID"], f["merged_mining_magic_hex"]) == (A.AUXPOW_CHAIN_ID, A.MERGED_MINING_HEADER.hex())
    assert (f["lcg_multiplier"], f["lcg_increment"]) == (A.LCG_MULTIPLIER, A.LCG_INCREMENT)
    for key, value in f["expected_index_examples_chain_1224"].items():
        nonce, h = (int(part.split("=")[1], 0) for part in key.split(","))
        assert A.expected_index(nonce, A.AUXPOW_CHAIN_ID, h) == value


def test_expected_index_range_and_deviation():
    for h in range(32):
        assert 0 <= A.expected_index(U32_MAX, U32_MAX, h) < 1 << h
    for h in (32, 33, 100):
        expect_reject(A.expected_index, 0, 1224, h, reason=Reason.AUXPOW_BRANCH_TOO_LONG, rule="AUX-011")


# -- a transcription of upstream's Check, for differential testing ------------------------------------------


def go_merkle(h: bytes, branch, index: int) -> bytes:
    for it in branch:
        h = d(it + h) if index & 1 else d(h + it)
        index >>= 1
    return h


def reference_check(ap: A.AuxPow, block_hash: bytes, chain_id: int) -> str:
    """``ok``, ``false`` or ``panic``, as upstream's Go would end."""
    if go_merkle(d(ap.par_coinbase_tx.encode()), ap.par_coinbase_branch, ap.par_merkle_index) != ap.par_block_header.merkle_root:
        return "false"
    root = go_merkle(block_hash[::-1], ap.aux_merkle_branch, ap.aux_merkle_index)
    if not ap.par_coinbase_tx.tx_in:
        return PANIC
    script = ap.par_coinbase_tx.tx_in[0].signature_script
    s = script.hex()
    needle = root[::-1].hex()
    hi, ri = s.find("fabe6d6d"), s.find(needle)
    if hi == -1 or ri == -1:
        return "false"
    if s[hi + 2:].find("fabe6d6d") != -1:
        return "false"
    if hi + 8 != ri:
        return "false"
    ri += 64
    if len(s) - ri < 8:
        return "false"
    size = int.from_bytes(script[ri // 2: ri // 2 + 4], "little")
    n = len(ap.aux_merkle_branch)
    if size != ((1 << n) & U32_MAX if n < 32 else 0):
        return "false"
    if ri // 2 + 8 > len(script):  # Go: slice bounds out of range
        return PANIC
    nonce = int.from_bytes(script[ri // 2 + 4: ri // 2 + 8], "little")
    if n >= 32:  # Go: integer divide by zero
        return PANIC
    r = (nonce * 1103515245 + 12345) & U32_MAX
    r = (r + (chain_id & U32_MAX)) & U32_MAX
    r = (r * 1103515245 + 12345) & U32_MAX
    return "ok" if ap.aux_merkle_index == r % (1 << n) else "false"


PANIC_RULES = {"AUX-002", "AUX-009", "AUX-011"}


def spec_outcome(ap: A.AuxPow, block_hash: bytes, chain_id: int) -> str:
    try:
        A.check_auxpow(ap, block_hash, chain_id)
    except Reject as e:
        assert e.rule is not None and e.rule.startswith("AUX-"), e
        return PANIC if e.rule in PANIC_RULES else "false"
    return "ok"


def with_script(script: bytes, aux_branch=(), aux_index=0, inputs=1, par_branch=(), par_index=0) -> A.AuxPow:
    """An AuxPoW around ``script`` whose parent merkle root is consistent."""
    ins = tuple(A.BtcTxIn(previous_hash=bytes(32), previous_index=U32_MAX, signature_script=script if i == 0 else b"",
                          sequence=U32_MAX) for i in range(inputs))
    tx = A.BtcTx(version=1, tx_in=ins, tx_out=(), lock_time=0)
    header = A.BtcHeader(version=2, previous=bytes(32), merkle_root=merkle_branch_root(tx.hash(), par_branch, par_index),
                         timestamp=0, bits=0, nonce=0)
    return A.AuxPow(par_coinbase_tx=tx, parent_hash=bytes(32), par_coinbase_branch=tuple(par_branch),
                    par_merkle_index=par_index, aux_merkle_branch=tuple(aux_branch), aux_merkle_index=aux_index,
                    par_block_header=header)


script_parts = st.sampled_from([b"", A.MERGED_MINING_HEADER, b"\x0f\xab\xe6\xd6\xd0", b"\x01\x00\x00\x00",
                                b"\x02\x00\x00\x00", b"\x00", b"\xfa\xbe"])


@FAST
@given(hash32, st.integers(0, 5), u32, st.sampled_from([1224, 6, 7, 0, U32_MAX]), st.data())
def test_differential_against_upstream_transcription(block_hash, h, nonce, chain_id, data):
    branch = [hashlib.sha256(bytes([i])).digest() for i in range(h)]
    good = A.make_auxpow(block_hash, chain_id, nonce=nonce, aux_branch=branch)
    script = good.par_coinbase_tx.tx_in[0].signature_script
    # splice, cut or extend the committed script, and sometimes move the index
    mutation = data.draw(st.sampled_from(["none", "cut", "insert", "append", "index", "hash", "prefix_root"]))
    if mutation == "cut":
        script = script[:data.draw(st.integers(0, len(script)))]
    elif mutation == "insert":
        at = data.draw(st.integers(0, len(script)))
        script = script[:at] + data.draw(script_parts) + script[at:]
    elif mutation == "append":
        script = script + data.draw(script_parts)
    elif mutation == "prefix_root":
        script = A.aux_merkle_root(block_hash, branch, good.aux_merkle_index)[::-1] + script
    index = good.aux_merkle_index
    if mutation == "index":
        index = data.draw(u32)
    ap = with_script(script, branch, index)
    target = hashlib.sha256(block_hash).digest() if mutation == "hash" else block_hash
    assert spec_outcome(ap, target, chain_id) == reference_check(ap, target, chain_id)
    if mutation == "none":
        assert spec_outcome(ap, target, chain_id) == "ok"


@FAST
@given(st.binary(min_size=0, max_size=80), hash32, u32)
def test_differential_on_arbitrary_scripts(script, block_hash, index):
    ap = with_script(script, (), index)
    assert spec_outcome(ap, block_hash, 1224) == reference_check(ap, block_hash, 1224)


# -- building ------------------------------------------------------------------------------------------


@FAST
@given(hash32, u32, u32, st.lists(hash32, max_size=6), st.binary(max_size=20), st.binary(max_size=20),
       st.lists(hash32, max_size=4), u32)
def test_make_auxpow_passes_the_check(block_hash, chain_id, nonce, branch, prefix, extra, par_branch, parent_nonce):
    ap = A.make_auxpow(block_hash, chain_id, nonce=nonce, aux_branch=branch, script_prefix=prefix, script_extra=extra,
                       par_coinbase_branch=par_branch, par_merkle_index=len(par_branch))
    text = ap.par_coinbase_tx.tx_in[0].signature_script.hex()
    root_hex = A.aux_merkle_root(block_hash, branch, ap.aux_merkle_index)[::-1].hex()
    # the layout is right unless the free bytes (prefix, nonce, extra) spell the magic or the root again
    assume(text.count("fabe6d6d") == 1 and text.find("fabe6d6d", text.find("fabe6d6d") + 1) == -1)
    assume(text.find(root_hex) == 2 * len(prefix) + 8)
    A.check_auxpow(ap, block_hash, chain_id)
    mined = A.with_parent_nonce(ap, parent_nonce)
    A.check_auxpow(mined, block_hash, chain_id)
    assert mined.par_block_header.nonce == parent_nonce and mined.parent_hash == mined.par_block_header.hash()[::-1]
    assert A.AuxPow.decode(mined.encode()) == mined


def test_make_auxpow_nonce_spelling_the_magic():
    """A nonce whose bytes are the magic makes the commitment invalid: miners must skip it."""
    ap = A.make_auxpow(BLOCK, 1224, nonce=int.from_bytes(MM, "little"))
    expect_reject(A.check_auxpow, ap, BLOCK, 1224, reason=Reason.AUXPOW_MAGIC_REPEATED, rule="AUX-005")


def test_build_parent_coinbase_script_layout():
    block = bytes(range(32))
    script = A.build_parent_coinbase_script(block[::-1], 1, 7, prefix=b"\x03", extra=b"\xff")
    assert script == b"\x03" + A.MERGED_MINING_HEADER + block + (1).to_bytes(4, "little") + (7).to_bytes(4, "little") + b"\xff"


# -- every rule, crafted ----------------------------------------------------------------------------------

BLOCK = hashlib.sha256(b"ela block").digest()
MM = A.MERGED_MINING_HEADER


def le32(v: int) -> bytes:
    return v.to_bytes(4, "little")


def test_crafted_accepts():
    A.check_auxpow(with_script(MM + BLOCK + le32(1) + le32(0)), BLOCK, 1224)
    A.check_auxpow(with_script(b"\x03\x01\x02\x03" + MM + BLOCK + le32(1) + le32(5) + b"tail", inputs=2), BLOCK, 1224)
    par = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    A.check_auxpow(with_script(MM + BLOCK + le32(1) + le32(0), par_branch=par, par_index=6), BLOCK, 1224)


def _odd_nibble_block() -> bytes:
    i = 0
    while True:
        h = hashlib.sha256(b"odd %d" % i).digest()
        if h[-1] & 0x0F == 0:
            return h
        i += 1


def test_odd_nibble_commitment_quirk_and_deviation():
    block = _odd_nibble_block()
    text = "a" + MM.hex() + block.hex() + le32(1).hex()[1:] + le32(0).hex()
    script = bytes.fromhex(text)
    ap = with_script(script)
    A.check_auxpow(ap, block, 1224)
    assert reference_check(ap, block, 1224) == "ok"
    short = with_script(script[:-3])
    expect_reject(A.check_auxpow, short, block, 1224, reason=Reason.AUXPOW_SCRIPT_TOO_SHORT, rule="AUX-009")
    assert reference_check(short, block, 1224) == PANIC


def test_crafted_rejects():
    def rej(ap, reason, rule, block=BLOCK, chain_id=1224):
        expect_reject(A.check_auxpow, ap, block, chain_id, reason=reason, rule=rule)

    good = with_script(MM + BLOCK + le32(1) + le32(0))
    bad_root = good.model_copy(update={"par_block_header": good.par_block_header.model_copy(update={"merkle_root": bytes(32)})})
    rej(bad_root, Reason.AUXPOW_PARENT_MERKLE_MISMATCH, "AUX-001")
    rej(A.zero_auxpow(), Reason.AUXPOW_PARENT_MERKLE_MISMATCH, "AUX-001")
    no_in = A.BtcTx(version=1, tx_in=(), tx_out=(), lock_time=0)
    header = good.par_block_header.model_copy(update={"merkle_root": no_in.hash()})
    rej(good.model_copy(update={"par_coinbase_tx": no_in, "par_block_header": header}), Reason.AUXPOW_NO_COINBASE_INPUT, "AUX-002")
    rej(with_script(BLOCK + le32(1) + le32(0)), Reason.AUXPOW_MAGIC_MISSING, "AUX-003")
    rej(with_script(b""), Reason.AUXPOW_MAGIC_MISSING, "AUX-003")
    rej(good, Reason.AUXPOW_ROOT_MISSING, "AUX-004", block=bytes(32))
    rej(with_script(MM + BLOCK + le32(1) + le32(0) + MM), Reason.AUXPOW_MAGIC_REPEATED, "AUX-005")
    rej(with_script(MM + BLOCK + le32(1) + le32(0) + b"\x0f\xab\xe6\xd6\xd0"), Reason.AUXPOW_MAGIC_REPEATED, "AUX-005")
    rej(with_script(MM + b"\x00" + BLOCK + le32(1) + le32(0)), Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, "AUX-006")
    rej(with_script(BLOCK + MM + BLOCK + le32(1) + le32(0)), Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, "AUX-006")
    rej(with_script(MM + BLOCK + b"\x01\x00\x00"), Reason.AUXPOW_SCRIPT_TOO_SHORT, "AUX-007")
    rej(with_script(MM + BLOCK + le32(2) + le32(0)), Reason.AUXPOW_MERKLE_SIZE_MISMATCH, "AUX-008")
    rej(with_script(MM + BLOCK + le32(1)), Reason.AUXPOW_SCRIPT_TOO_SHORT, "AUX-009")
    rej(with_script(MM + BLOCK + le32(1) + b"\x00\x00\x00"), Reason.AUXPOW_SCRIPT_TOO_SHORT, "AUX-009")
    branch = [hashlib.sha256(b"sibling").digest()]
    ap = A.make_auxpow(BLOCK, 1224, nonce=0, aux_branch=branch)
    wrong = 1 - ap.aux_merkle_index
    root = A.aux_merkle_root(BLOCK, branch, wrong)
    rej(with_script(MM + root[::-1] + le32(2) + le32(0), branch, wrong), Reason.AUXPOW_INDEX_MISMATCH, "AUX-010")
    rej(ap, Reason.AUXPOW_INDEX_MISMATCH, "AUX-010", chain_id=1225)
    long_branch = [hashlib.sha256(bytes([i])).digest() for i in range(32)]
    root = A.aux_merkle_root(BLOCK, long_branch, 0)
    rej(with_script(MM + root[::-1] + le32(0) + le32(0), long_branch, 0), Reason.AUXPOW_BRANCH_TOO_LONG, "AUX-011")
    rej(with_script(MM + root[::-1] + le32(1) + le32(0), long_branch, 0), Reason.AUXPOW_MERKLE_SIZE_MISMATCH, "AUX-008")
    expect_reject(A.check_auxpow, good, BLOCK[:31], 1224, reason=Reason.WRONG_LENGTH, rule="ENC-006")
