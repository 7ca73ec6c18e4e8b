"""Tests of ``Fixed64`` amounts: the 8-byte wire form and the decimal text form."""

from __future__ import annotations

import re
import struct
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.encoding import fixed64 as F
from spec.encoding.primitives import I64_MAX, I64_MIN, Reader
from spec.errors import DecodeError, Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
I64 = st.one_of(
    st.integers(I64_MIN, I64_MAX),
    st.sampled_from([0, 1, -1, F.ELA, -F.ELA, F.ELA // 2, I64_MIN, I64_MAX, I64_MIN + 1, I64_MAX - 1]),
    st.integers(-10 * F.ELA, 10 * F.ELA),
)
GRAMMAR = re.compile(r"-?[0-9]+(\.[0-9]+)?")




def read_whole(raw: bytes) -> int:
    r = Reader(raw)
    v = F.read_fixed64(r)
    r.finish()
    return v


def test_units():
    assert F.SELA == 1 and F.ELA == 100_000_000 and F.DECIMALS == 8


@FAST
@given(I64)
def test_wire_round_trip(sela):
    raw = F.encode_fixed64(sela)
    assert raw == struct.pack("<q", sela)
    assert read_whole(raw) == sela


@FAST
@given(st.binary(max_size=20))
def test_wire_any_bytes(raw):
    try:
        v = read_whole(raw)
    except DecodeError as e:
        assert len(raw) != 8 and e.reason in (Reason.TRUNCATED, Reason.TRAILING_BYTES)
    else:
        assert len(raw) == 8 and F.encode_fixed64(v) == raw


def test_wire_out_of_range():
    for bad in (I64_MAX + 1, I64_MIN - 1):
        expect_reject(F.encode_fixed64, bad, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")


@FAST
@given(I64)
def test_text_round_trip(sela):
    text = F.fixed64_to_string(sela)
    assert GRAMMAR.fullmatch(text)
    assert F.fixed64_from_string(text) == sela
    assert Decimal(text) * F.ELA == sela, "the text form must be the exact value in ELA"
    if sela % F.ELA:
        assert len(text.split(".")[1]) == 8, "a fraction is always written with 8 digits"
    else:
        assert "." not in text


@FAST
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{0,10})?", fullmatch=True),
        st.from_regex(r"[+-]?0*[0-9]{0,12}\.?[0-9]{0,9}", fullmatch=True),
    )
)
@example("92233720368.54775807")
@example("92233720368.54775808")
@example("-92233720368.54775808")
@example("-92233720368.54775809")
def test_text_any_string_value_or_decode_error(text):
    try:
        value = F.fixed64_from_string(text)
    except DecodeError as e:
        assert e.reason in (Reason.FIXED64_SYNTAX, Reason.FIXED64_PRECISION, Reason.VALUE_OUT_OF_RANGE)
        if e.reason is Reason.FIXED64_SYNTAX:
            assert not GRAMMAR.fullmatch(text)
        return
    # accepted: it matches the grammar and denotes exactly this many sela
    assert GRAMMAR.fullmatch(text)
    assert I64_MIN <= value <= I64_MAX
    assert Decimal(text) * F.ELA == value
    assert F.fixed64_from_string(F.fixed64_to_string(value)) == value


@pytest.mark.parametrize(
    "sela, text",
    [
        (F.ELA + F.ELA // 2, "1.50000000"),
        (F.ELA, "1"),
        (0, "0"),
        (1, "0.00000001"),
        (-1, "-0.00000001"),
        (-F.ELA - F.ELA // 2, "-1.50000000"),
        (-F.ELA, "-1"),
        (I64_MIN, "-92233720368.54775808"),
        (I64_MAX, "92233720368.54775807"),
        (2_100_000_000_000_000, "21000000"),
    ],
)
def test_text_examples(sela, text):
    assert F.fixed64_to_string(sela) == text
    assert F.fixed64_from_string(text) == sela


@pytest.mark.parametrize(
    "text, sela",
    [("1.5", 150_000_000), ("0.1", 10_000_000), ("007", 7 * F.ELA), ("-0", 0), ("-0.0", 0), ("1.00000000", F.ELA)],
)
def test_text_non_canonical_but_valid_inputs(text, sela):
    assert F.fixed64_from_string(text) == sela


def test_text_precision():
    expect_reject(F.fixed64_from_string, "1.123456789", reason=Reason.FIXED64_PRECISION, rule="ENC-009")
    expect_reject(F.fixed64_from_string, "0.000000000", reason=Reason.FIXED64_PRECISION, rule="ENC-009")


@pytest.mark.parametrize("text", ["abc", "", "1.", ".5", "+1", "-", "1e8", " 1", "1 ", "1,5", "--1", "1.2.3",
                                  "\u0661", "0x10", "1\n", "\uff11"])
def test_text_syntax(text):
    expect_reject(F.fixed64_from_string, text, reason=Reason.FIXED64_SYNTAX, rule="ENC-008")


def test_text_out_of_range():
    expect_reject(F.fixed64_from_string, "92233720368.54775808", reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")
    expect_reject(F.fixed64_from_string, "-92233720368.54775809", reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")
    expect_reject(F.fixed64_from_string, "100000000000", reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")


def test_text_huge_number_is_rejected_fast():
    for text in ("9" * 5000, "-" + "1" * 5000, "1" * 5000 + ".5", "1" * 200_000):
        start = time.perf_counter()
        expect_reject(F.fixed64_from_string, text, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")
        assert time.perf_counter() - start < 0.5, "the digit count must be checked before any big number is built"


def test_text_leading_zeros_do_not_count_as_digits():
    assert F.fixed64_from_string("0" * 5000 + "1") == F.ELA


def test_to_string_out_of_range():
    expect_reject(F.fixed64_to_string, I64_MAX + 1, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005")
