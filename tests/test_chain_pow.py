"""Compact bits, work, the proof-of-work check and the retarget, against an independent implementation
and upstream's constants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain import pow as P
from spec.errors import Reason
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=300)
U32 = 0xFFFF_FFFF
MAIN = P.NETWORK_RETARGET_PARAMS["mainnet"]
INSTANT = P.NETWORK_RETARGET_PARAMS["instant"]


# -- an independent compact-bits implementation (Bitcoin Core's arith_uint256 way, on bytes) ---------


def ref_compact_to_big(c: int) -> int:
    size, word = c >> 24, c & 0x007FFFFF
    value = word >> (8 * (3 - size)) if size <= 3 else word * 256 ** (size - 3)
    return -value if c & 0x00800000 and value else value


def ref_big_to_compact(n: int) -> int:
    if n == 0:
        return 0
    m = abs(n)
    raw = m.to_bytes((m.bit_length() + 7) // 8, "big")
    size, top = len(raw), (raw + bytes(3))[:3]
    mantissa = int.from_bytes(top, "big")
    if mantissa & 0x00800000:
        mantissa = int.from_bytes(b"\x00" + top[:2], "big")
        size += 1
    return ((size << 24) & U32) | mantissa | (0x00800000 if n < 0 else 0)


targets = st.integers(0, 300).flatmap(lambda b: st.integers(-(1 << b), 1 << b))


@FAST
@given(st.integers(0, U32))
def test_compact_to_big_matches_reference(c):
    assert P.compact_to_big(c) == ref_compact_to_big(c)


@FAST
@given(targets)
def test_big_to_compact_matches_reference(n):
    assert P.big_to_compact(n) == ref_big_to_compact(n)


@FAST
@given(st.integers(0, 256).flatmap(lambda b: st.integers(0, (1 << b) - 1)))
def test_compaction_rounds_down_to_three_bytes_and_is_canonical(n):
    c = P.big_to_compact(n)
    t = P.compact_to_big(c)
    assert c & P.COMPACT_SIGN_BIT == 0 and 0 <= t <= n
    e = c >> 24
    assert n - t < (256 ** (e - 3) if e > 3 else 1)
    assert P.big_to_compact(t) == c


def test_upstream_constants(ela_facts):
    v = ela_facts["compact_bits_constants"]["value"]
    assert P.big_to_compact(P.POW_LIMIT) == int(v["PowLimit"]["big_to_compact"], 16)
    assert P.POW_LIMIT == int(v["PowLimit"]["hex"], 16)
    for key in ("PowLimitBits_main_test_reg", "genesis_bits", "InstantBlock_PowLimitBits"):
        f = v[key]
        bits = f["bits_uint32"]
        assert bits == int(f["bits_hex"], 16)
        assert P.compact_to_big(bits) == int(f["target_hex"], 16)
        assert P.big_to_compact(P.compact_to_big(bits)) == int(f["big_to_compact_of_target"], 16)
        assert str(P.calc_work(bits)) == f["work_2^256_div_target_plus_1"]
        assert (P.compact_to_big(bits) <= P.POW_LIMIT) is f["target_le_powlimit"]
    r = v["retarget"]
    assert (MAIN.target_timespan, MAIN.target_time_per_block, MAIN.adjustment_factor) == (
        r["TargetTimespan_s"], r["TargetTimePerBlock_s"], r["AdjustmentFactor"])
    assert (P.blocks_per_retarget(MAIN), MAIN.min_retarget_timespan, MAIN.max_retarget_timespan) == (
        r["blocksPerRetarget"], r["minRetargetTimespan_s"], r["maxRetargetTimespan_s"])
    assert (P.BLOCKS_PER_RETARGET, P.MIN_RETARGET_TIMESPAN, P.MAX_RETARGET_TIMESPAN) == (720, 21600, 345600)


def test_networks():
    for net in ("mainnet", "testnet", "regnet"):
        p = P.NETWORK_RETARGET_PARAMS[net]
        assert (p.pow_limit, p.pow_limit_bits, p.instant) == (P.POW_LIMIT, P.POW_LIMIT_BITS, False)
    assert INSTANT.instant and INSTANT.pow_limit_bits == 0x207FFFFF and P.blocks_per_retarget(INSTANT) == 10
    with pytest.raises(TypeError):
        P.NETWORK_RETARGET_PARAMS["mainnet"] = MAIN  # type: ignore[index]


def test_sign_and_edges():
    assert P.compact_to_big(0x04923456) == -0x12345600
    assert P.compact_to_big(0x00800000) == 0
    assert P.compact_to_big(0x01003456) == 0
    assert P.compact_to_big(0x01123456) == 0x12
    assert P.big_to_compact(0x80) == 0x02008000
    assert P.big_to_compact(-1) == 0x01810000
    assert P.big_to_compact(1 << 2048) == ((257 << 24) & U32) | 0x010000  # 257 bytes: exponent truncated to 8 bits
    expect_reject(P.compact_to_big, 1 << 32, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")
    expect_reject(P.compact_to_big, -1, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")


@FAST
@given(st.integers(0, U32))
def test_calc_work(bits):
    t = P.compact_to_big(bits)
    assert P.calc_work(bits) == ((1 << 256) // (t + 1) if t > 0 else 0)


def test_work_orders_targets():
    assert P.calc_work(0x1D03FFFF) > P.calc_work(P.POW_LIMIT_BITS) > P.calc_work(0x207FFFFF) > 0
    assert P.calc_work(0x01010000) == 1 << 255


# -- proof of work ---------------------------------------------------------------------------------------


def le(n: int) -> bytes:
    return n.to_bytes(32, "little")


def test_check_proof_of_work_boundaries():
    target = P.compact_to_big(P.POW_LIMIT_BITS)
    P.check_proof_of_work(le(target), P.POW_LIMIT_BITS, P.POW_LIMIT)
    P.check_proof_of_work(le(0), P.POW_LIMIT_BITS, P.POW_LIMIT)
    expect_reject(P.check_proof_of_work, le(target + 1), P.POW_LIMIT_BITS, P.POW_LIMIT,
                  reason=Reason.POW_HASH_ABOVE_TARGET, rule="POW-003")
    expect_reject(P.check_proof_of_work, bytes(31) + b"\x01", P.POW_LIMIT_BITS, P.POW_LIMIT,
                  reason=Reason.POW_HASH_ABOVE_TARGET, rule="POW-003")
    for bits in (0, 0x00800000, 0x04923456, 0x01003456):
        expect_reject(P.check_proof_of_work, le(0), bits, P.POW_LIMIT, reason=Reason.POW_TARGET_NOT_POSITIVE, rule="POW-001")
    expect_reject(P.check_proof_of_work, le(0), 0x21008000, P.POW_LIMIT, reason=Reason.POW_TARGET_ABOVE_LIMIT, rule="POW-002")
    expect_reject(P.check_proof_of_work, le(0)[:31], P.POW_LIMIT_BITS, P.POW_LIMIT, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    P.check_proof_of_work(le(0), 0x207FFFFF, P.POW_LIMIT)


@FAST
@given(st.binary(min_size=32, max_size=32), st.integers(0, U32))
def test_check_proof_of_work_is_the_three_comparisons(h, bits):
    t = P.compact_to_big(bits)
    value = int.from_bytes(h[::-1], "big")
    try:
        P.check_proof_of_work(h, bits, P.POW_LIMIT)
    except Exception as e:
        reason = e.reason  # type: ignore[attr-defined]
        expected = (Reason.POW_TARGET_NOT_POSITIVE if t <= 0 else
                    Reason.POW_TARGET_ABOVE_LIMIT if t > P.POW_LIMIT else Reason.POW_HASH_ABOVE_TARGET)
        assert reason is expected
    else:
        assert 0 < t <= P.POW_LIMIT and value <= t


# -- retarget, against a transcription of CalcNextRequiredDifficulty ------------------------------------


def ref_next(prev_height: int, prev_bits: int, prev_ts: int, chain: dict[int, int], params: P.RetargetParams) -> int:
    """Upstream's function line by line: chain maps height -> timestamp of the ancestors."""
    if prev_height == 0 or params.pow_limit_bits == 0x207FFFFF:
        return params.pow_limit_bits
    bpr = params.target_timespan // params.target_time_per_block
    if ((prev_height + 1) % (1 << 32)) % bpr != 0:
        return prev_bits
    first_ts = chain[(prev_height - bpr + 1) % (1 << 32)]
    actual = (prev_ts - first_ts) % (1 << 32)
    adjusted = actual
    if actual < params.target_timespan // params.adjustment_factor:
        adjusted = params.target_timespan // params.adjustment_factor
    elif actual > params.target_timespan * params.adjustment_factor:
        adjusted = params.target_timespan * params.adjustment_factor
    old = ref_compact_to_big(prev_bits)
    new = old * adjusted
    q = abs(new) // params.target_timespan
    new = q if new >= 0 else -q - (1 if abs(new) % params.target_timespan else 0)  # Euclidean, divisor > 0
    if new > params.pow_limit:
        new = params.pow_limit
    return ref_big_to_compact(new)


@FAST
@given(st.integers(0, 40).map(lambda k: 720 * k + 719) | st.integers(0, U32), st.integers(0, U32),
       st.integers(0, U32), st.integers(0, U32))
def test_next_required_bits_matches_reference(prev_height, prev_bits, prev_ts, first_ts):
    first_height = (prev_height - 719) % (1 << 32)
    chain = {first_height: first_ts}
    expected = ref_next(prev_height, prev_bits, prev_ts, chain, MAIN)
    assert P.next_required_bits(prev_height, prev_bits, prev_ts, first_ts, MAIN) == expected
    headers = [(first_height, first_ts, prev_bits), (prev_height, prev_ts, prev_bits)]
    assert P.next_bits_from_headers(headers, MAIN) == expected


@FAST
@given(st.integers(1, P.POW_LIMIT).map(P.big_to_compact), st.integers(0, U32), st.integers(0, U32))
def test_retarget_bounds_on_valid_targets(bits, prev_ts, first_ts):
    old = P.compact_to_big(bits)
    new_bits = P.next_required_bits(719, bits, prev_ts, first_ts, MAIN)
    new = P.compact_to_big(new_bits)
    assert 0 <= new <= min(4 * old, P.POW_LIMIT)
    floor = P.compact_to_big(P.big_to_compact(min(old // 4, P.POW_LIMIT)))
    assert new >= floor


def test_retarget_examples():
    b = P.POW_LIMIT_BITS
    assert P.next_required_bits(0, 0x1D03FFFF, 0, None, MAIN) == b
    assert P.next_required_bits(718, 0x1D03FFFF, 0, None, MAIN) == 0x1D03FFFF
    assert P.next_required_bits(719, b, 86400, 0, MAIN) == 0x1E08FF00  # canonical rewrite
    assert P.next_required_bits(719, 0x207FFFFF, 345600, 0, MAIN) == 0x207FFFFF  # capped at PowLimit
    assert P.next_required_bits(719, 0x1D03FFFF, 0, 1, MAIN) == P.big_to_compact(4 * P.compact_to_big(0x1D03FFFF))
    assert P.next_required_bits(719, 0x1D03FFFF, 0, 0, MAIN) == P.big_to_compact(P.compact_to_big(0x1D03FFFF) // 4)
    assert P.next_required_bits(719, 0x1D03FFFF, 0, None, INSTANT) == 0x207FFFFF
    assert P.next_required_bits(U32, 0x1D03FFFF, 86400, 0, MAIN) == 0x1D03FFFF  # u32 wrap makes it a retarget


def test_next_bits_from_headers_walks_back_by_height():
    chain = [(h, 1000 + 60 * h, P.POW_LIMIT_BITS) for h in range(700, 1440)]
    assert P.next_bits_from_headers(chain, MAIN) == P.next_required_bits(1439, P.POW_LIMIT_BITS, chain[-1][1], 1000 + 60 * 720, MAIN)
    assert P.next_bits_from_headers(chain[:-1], MAIN) == P.POW_LIMIT_BITS  # 1438 is not a retarget height
    expect_reject(P.next_bits_from_headers, chain[21:], MAIN, reason=Reason.RETARGET_ANCESTOR_MISSING, rule="POW-004")
    expect_reject(P.next_bits_from_headers, [], MAIN, reason=Reason.RETARGET_ANCESTOR_MISSING, rule="POW-004")
    expect_reject(P.next_required_bits, 1439, 1, 0, None, MAIN, reason=Reason.RETARGET_ANCESTOR_MISSING, rule="POW-004")
    assert P.next_bits_from_headers([(719, 5, 1)], INSTANT) == 0x207FFFFF
