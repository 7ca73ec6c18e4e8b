"""Unit and property tests of the ELA serialization primitives and fixed-size hashes.

Covers :mod:`spec.encoding.primitives` (Reader, fixed-width integers, bool, VarUint, VarBytes,
VarString) and :mod:`spec.encoding.hashes` (Uint256, Uint168, hex parsing).
"""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.encoding import primitives as P
from spec.encoding.hashes import Uint168, Uint256, compare_le, parse_hex
from spec.errors import DecodeError, Reason, Reject

FAST = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

#: adversarial byte strings: arbitrary, long, and prefixes built from the markers
ANY_BYTES = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=1000, max_size=5000),
    st.lists(st.sampled_from([b"\xfd", b"\xfe", b"\xff", b"\x00", b"\xff" * 8, b"\xfc"]), max_size=12).map(b"".join),
)


def expect_reject(fn, *args, reason: Reason, rule: str | None, decode: bool = True, **kwargs) -> Reject:
    """Call ``fn`` and assert that it rejects with ``reason`` and ``rule``."""
    with pytest.raises(Reject) as info:
        fn(*args, **kwargs)
    err = info.value
    assert err.reason is reason, f"expected {reason}, got {err.reason} ({err})"
    assert err.rule == rule, f"expected rule {rule}, got {err.rule} ({err})"
    if decode:
        assert isinstance(err, DecodeError), f"a decoder must raise DecodeError, got {type(err).__name__}"
    return err


def decode_or_reject(fn, *args):
    """``fn(*args)`` or ``None`` when it raises a DecodeError; any other exception fails the test."""
    try:
        return fn(*args)
    except DecodeError as e:
        assert e.rule is not None, f"a spec decoder rejected without a rule ID: {e}"
        return None


def whole(reader_fn, data: bytes, *args):
    """Decode a complete object: ``reader_fn`` then ``finish``."""
    r = P.Reader(data)
    value = reader_fn(r, *args)
    r.finish()
    return value


# == Reader ==========================================================================================


def test_reader_reads_and_tracks_position():
    r = P.Reader(b"abcdef")
    assert r.read(2) == b"ab"
    assert (r.position, r.remaining) == (2, 4)
    assert r.read(0) == b""
    assert r.read(4) == b"cdef"
    assert r.since(1) == b"bcdef"
    r.finish()


def test_reader_truncated_read_consumes_nothing():
    r = P.Reader(b"abc")
    expect_reject(r.read, 4, reason=Reason.TRUNCATED, rule="ENC-001")
    assert r.position == 0, "a failed read must not move the cursor"


def test_reader_finish_rejects_trailing_bytes():
    r = P.Reader(b"\x00\x01")
    r.read(1)
    expect_reject(r.finish, reason=Reason.TRAILING_BYTES, rule="ENC-002")


def test_reader_copies_its_input():
    buf = bytearray(b"\x01\x02")
    r = P.Reader(buf)
    buf[0] = 0xFF
    assert r.read(1) == b"\x01", "the Reader must not alias a mutable buffer"


# == fixed-width integers =============================================================================

STRUCT_FORMAT = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q", "i32": "<i", "i64": "<q"}
READERS = {"u8": P.read_u8, "u16": P.read_u16, "u32": P.read_u32, "u64": P.read_u64, "i32": P.read_i32, "i64": P.read_i64}


def int_range(type_name: str) -> tuple[int, int]:
    size, signed = P.FIXED_INT_TYPES[type_name]
    if signed:
        return -(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1
    return 0, (1 << (8 * size)) - 1


def test_fixed_int_types_are_the_wire_types():
    assert set(P.FIXED_INT_TYPES) == set(STRUCT_FORMAT)
    assert int_range("i64") == (P.I64_MIN, P.I64_MAX)
    assert int_range("i32") == (P.I32_MIN, P.I32_MAX)
    assert int_range("u64")[1] == P.U64_MAX


@st.composite
def typed_int(draw):
    t = draw(st.sampled_from(sorted(P.FIXED_INT_TYPES)))
    lo, hi = int_range(t)
    v = draw(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0, lo + 1, hi - 1] if lo < 0 else [lo, hi, 1, hi - 1])))
    return t, v


@FAST
@given(typed_int())
def test_int_round_trip_and_struct_agreement(tv):
    t, v = tv
    raw = P.encode_int(v, t)
    assert raw == struct.pack(STRUCT_FORMAT[t], v), "encode_int must be little-endian two's complement"
    assert whole(P.read_int, raw, t) == v
    assert whole(READERS[t], raw) == v, f"read_{t} must agree with read_int"


@FAST
@given(st.sampled_from(sorted(P.FIXED_INT_TYPES)), st.data())
def test_int_decode_then_encode_is_identity(t, data):
    size, _ = P.FIXED_INT_TYPES[t]
    raw = data.draw(st.binary(min_size=size, max_size=size))
    value = whole(P.read_int, raw, t)
    assert P.encode_int(value, t) == raw
    assert value == struct.unpack(STRUCT_FORMAT[t], raw)[0]


@FAST
@given(st.sampled_from(sorted(P.FIXED_INT_TYPES)), ANY_BYTES)
def test_int_any_bytes_value_or_decode_error(t, raw):
    size, _ = P.FIXED_INT_TYPES[t]
    value = decode_or_reject(whole, P.read_int, raw, t)
    assert (value is not None) == (len(raw) == size)


@pytest.mark.parametrize("t", sorted(P.FIXED_INT_TYPES))
def test_int_truncated_and_trailing(t):
    size, _ = P.FIXED_INT_TYPES[t]
    for n in range(size):
        expect_reject(whole, P.read_int, b"\x00" * n, t, reason=Reason.TRUNCATED, rule="ENC-001")
    expect_reject(whole, P.read_int, b"\x00" * (size + 1), t, reason=Reason.TRAILING_BYTES, rule="ENC-002")


@pytest.mark.parametrize("t", sorted(P.FIXED_INT_TYPES))
def test_int_encode_out_of_range(t):
    lo, hi = int_range(t)
    for bad in (lo - 1, hi + 1, hi + (1 << 80)):
        expect_reject(P.encode_int, bad, t, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005", decode=False)


def test_signed_int_examples():
    assert whole(P.read_i32, b"\xff\xff\xff\xff") == -1
    assert whole(P.read_i64, b"\x00" * 7 + b"\x80") == P.I64_MIN
    assert P.encode_int(-2, "i32") == b"\xfe\xff\xff\xff"


# == bool ==============================================================================================


def test_bool_canonical_values():
    assert whole(P.read_bool, b"\x00") is False
    assert whole(P.read_bool, b"\x01") is True
    assert P.encode_bool(False) == b"\x00" and P.encode_bool(True) == b"\x01"


@FAST
@given(st.integers(1, 255))
def test_bool_any_nonzero_byte_reads_true_quirk(b):
    # Quirk (ReadBool compares with zero): any non-zero byte is true; only 0x01 is written back
    assert whole(P.read_bool, bytes([b])) is True
    assert P.encode_bool(True) == b"\x01"


@FAST
@given(ANY_BYTES)
def test_bool_any_bytes_value_or_decode_error(raw):
    value = decode_or_reject(whole, P.read_bool, raw)
    assert (value is not None) == (len(raw) == 1)
    if value is not None:
        assert value == (raw != b"\x00")


def test_bool_truncated():
    expect_reject(whole, P.read_bool, b"", reason=Reason.TRUNCATED, rule="ENC-001")


# == VarUint ==========================================================================================

VARUINT_BOUNDARIES = [0, 1, 0xFC, 0xFD, 0xFE, 0xFF, 0x100, 0xFFFF, 0x10000, P.U32_MAX, P.U32_MAX + 1, P.U64_MAX]
VARUINT_VALUES = st.one_of(st.sampled_from(VARUINT_BOUNDARIES), st.integers(0, P.U64_MAX), st.integers(0, 0x1_0000_0100))


def reference_compactsize(v: int) -> bytes:
    """Bitcoin Core's WriteCompactSize, written independently."""
    if v < 253:
        return struct.pack("<B", v)
    if v <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", v)
    if v <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", v)
    return b"\xff" + struct.pack("<Q", v)


@FAST
@given(VARUINT_VALUES)
def test_varuint_round_trip(v):
    raw = P.encode_varuint(v)
    assert raw == reference_compactsize(v)
    assert len(raw) == P.varuint_size(v)
    assert whole(P.read_varuint, raw) == v


@FAST
@given(ANY_BYTES)
@example(b"\xfd\xfc\x00")
@example(b"\xff" * 9)
def test_varuint_decode_then_encode_is_identity(raw):
    r = P.Reader(raw)
    value = decode_or_reject(P.read_varuint, r)
    if value is not None:
        assert P.encode_varuint(value) == raw[: r.position], "an accepted VarUint must be canonical"


@FAST
@given(VARUINT_VALUES, st.sampled_from([(0xFD, 2), (0xFE, 4), (0xFF, 8)]))
def test_varuint_every_wider_form_is_rejected(v, marker_width):
    marker, width = marker_width
    if v >= 1 << (8 * width):
        return  # does not fit this width at all
    raw = bytes([marker]) + v.to_bytes(width, "little")
    if raw == P.encode_varuint(v):
        assert whole(P.read_varuint, raw) == v
    else:
        expect_reject(whole, P.read_varuint, raw, reason=Reason.NON_CANONICAL_VARUINT, rule="ENC-003")


@pytest.mark.parametrize(
    "raw",
    [
        "fdfc00",  # 0xFC in a u16
        "fd0000",
        "feffff0000",  # 0xFFFF in a u32
        "fe00000000",
        "ffffffffff00000000",  # 0xFFFFFFFF in a u64
        "ff0000000000000000",
    ],
)
def test_varuint_non_canonical_forms(raw):
    expect_reject(whole, P.read_varuint, bytes.fromhex(raw), reason=Reason.NON_CANONICAL_VARUINT, rule="ENC-003")


@pytest.mark.parametrize(
    "raw, value",
    [("fc", 0xFC), ("fdfd00", 0xFD), ("fdffff", 0xFFFF), ("fe00000100", 0x10000),
     ("feffffffff", P.U32_MAX), ("ff0000000001000000", P.U32_MAX + 1), ("ffffffffffffffffff", P.U64_MAX)],
)
def test_varuint_smallest_canonical_forms(raw, value):
    assert whole(P.read_varuint, bytes.fromhex(raw)) == value


@pytest.mark.parametrize("raw", ["", "fd", "fdff", "fe", "feffffff", "ff", "ffffffffffffffff"])
def test_varuint_truncated(raw):
    expect_reject(whole, P.read_varuint, bytes.fromhex(raw), reason=Reason.TRUNCATED, rule="ENC-001")


def test_varuint_encode_out_of_range():
    for bad in (-1, P.U64_MAX + 1):
        expect_reject(P.encode_varuint, bad, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005", decode=False)


# == VarBytes / VarString =============================================================================


@FAST
@given(st.binary(max_size=600), st.integers(0, 1000))
def test_varbytes_round_trip_or_length_rejection(data, max_length):
    raw = P.encode_varbytes(data)
    assert raw == P.encode_varuint(len(data)) + data
    if len(data) <= max_length:
        assert whole(P.read_varbytes, raw, max_length) == data
    else:
        expect_reject(whole, P.read_varbytes, raw, max_length, reason=Reason.LENGTH_EXCEEDS_MAX, rule="ENC-004")


@FAST
@given(ANY_BYTES, st.integers(0, P.U32_MAX))
def test_varbytes_any_bytes_value_or_decode_error(raw, max_length):
    r = P.Reader(raw)
    value = decode_or_reject(P.read_varbytes, r, max_length)
    if value is not None:
        assert len(value) <= max_length
        assert P.encode_varbytes(value) == raw[: r.position], "an accepted VarBytes must re-encode to its bytes"


def test_varbytes_length_over_max_rejected_before_reading_data():
    # the prefix claims 2^64-1 bytes and none follow: the maximum is checked first, so the reason is
    # LENGTH_EXCEEDS_MAX, not TRUNCATED
    raw = b"\xff" + b"\xff" * 8
    r = P.Reader(raw)
    expect_reject(P.read_varbytes, r, 1000, reason=Reason.LENGTH_EXCEEDS_MAX, rule="ENC-004")
    # one more than the maximum, with the data present but longer than allowed
    expect_reject(whole, P.read_varbytes, b"\x04abcd", 3, reason=Reason.LENGTH_EXCEEDS_MAX, rule="ENC-004")
    assert whole(P.read_varbytes, b"\x03abc", 3) == b"abc"


def test_varbytes_truncated_data():
    expect_reject(whole, P.read_varbytes, b"\x05abc", 10, reason=Reason.TRUNCATED, rule="ENC-001")
    expect_reject(whole, P.read_varbytes, b"\xfd\x00\x01" + b"x" * 255, 1 << 20, reason=Reason.TRUNCATED, rule="ENC-001")


def test_varbytes_non_canonical_length_prefix():
    expect_reject(whole, P.read_varbytes, b"\xfd\x03\x00abc", 10, reason=Reason.NON_CANONICAL_VARUINT, rule="ENC-003")


def test_varbytes_huge_claimed_length_fails_fast():
    start = time.perf_counter()
    expect_reject(whole, P.read_varbytes, b"\xfe\xff\xff\xff\xff" + b"x" * 10, P.U32_MAX,
                  reason=Reason.TRUNCATED, rule="ENC-001")
    assert time.perf_counter() - start < 0.5


@FAST
@given(st.binary(max_size=300))
def test_varstring_round_trip_any_bytes_quirk(data):
    # Quirk: a VarString is not checked for UTF-8; any bytes come back unchanged
    raw = P.encode_varstring(data)
    assert raw == P.encode_varbytes(data)
    assert whole(P.read_varstring, raw) == data


@FAST
@given(ANY_BYTES)
def test_varstring_any_bytes_value_or_decode_error(raw):
    value = decode_or_reject(whole, P.read_varstring, raw)
    if value is not None:
        assert P.encode_varstring(value) == raw


def test_varstring_default_maximum_is_16_mib():
    assert P.MAX_VAR_STRING_LENGTH == 16 * 1024 * 1024
    over = P.encode_varuint(P.MAX_VAR_STRING_LENGTH + 1)
    expect_reject(whole, P.read_varstring, over, reason=Reason.LENGTH_EXCEEDS_MAX, rule="ENC-004")
    at = P.encode_varuint(P.MAX_VAR_STRING_LENGTH)
    expect_reject(whole, P.read_varstring, at + b"x", reason=Reason.TRUNCATED, rule="ENC-001")
    expect_reject(whole, P.read_varstring, b"\x04text", 3, reason=Reason.LENGTH_EXCEEDS_MAX, rule="ENC-004")


def test_varstring_non_utf8_is_kept():
    assert whole(P.read_varstring, b"\x02\xff\xfe") == b"\xff\xfe"


# == hex, Uint256, Uint168 =============================================================================


@FAST
@given(st.binary(max_size=64), st.booleans())
def test_parse_hex_round_trip(data, upper):
    text = data.hex().upper() if upper else data.hex()
    assert parse_hex(text) == data


@FAST
@given(st.text(max_size=80))
@example("0")
@example("0g")
@example(" 00")
@example("0x00")
@example("\u0660\u0660")
def test_parse_hex_any_text(text):
    value = decode_or_reject(parse_hex, text)
    valid = len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)
    assert (value is not None) == valid
    if value is not None:
        assert value.hex() == text.lower()


@pytest.mark.parametrize("text", ["0", "abc", "zz", "0x00", " 00", "00 ", "0\n"])
def test_parse_hex_rejections(text):
    expect_reject(parse_hex, text, reason=Reason.INVALID_HEX, rule="ENC-007")


@FAST
@given(st.binary(min_size=32, max_size=32))
def test_uint256_round_trips(data):
    h = Uint256.from_bytes(data)
    assert h.data == data and h.serialize() == data
    assert Uint256.decode(data) == h
    assert h.encode() == data
    assert h.display() == data[::-1].hex()
    assert Uint256.from_display(h.display()) == h
    assert Uint256.from_display(h.display().upper()) == h


@FAST
@given(ANY_BYTES)
def test_uint256_any_bytes(raw):
    a = decode_or_reject(Uint256.from_bytes, raw)
    b = decode_or_reject(Uint256.decode, raw)
    assert (a is not None) == (b is not None) == (len(raw) == 32)
    if a is not None:
        assert a == b and a.encode() == raw


@FAST
@given(st.text(max_size=80) | st.binary(max_size=40).map(bytes.hex))
def test_uint256_from_display_any_text(text):
    h = decode_or_reject(Uint256.from_display, text)
    if h is not None:
        assert h.display() == text.lower()


def test_uint256_wrong_sizes():
    expect_reject(Uint256.from_bytes, b"\x00" * 31, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    expect_reject(Uint256.from_bytes, b"\x00" * 33, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    expect_reject(Uint256.from_display, "00" * 31, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    expect_reject(Uint256.from_display, "0" * 63, reason=Reason.INVALID_HEX, rule="ENC-007")
    expect_reject(Uint256.decode, b"\x00" * 31, reason=Reason.TRUNCATED, rule="ENC-001")
    expect_reject(Uint256.decode, b"\x00" * 33, reason=Reason.TRAILING_BYTES, rule="ENC-002")


@FAST
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_uint256_compare_is_little_endian_integer_order(a, b):
    ia, ib = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    expected = (ia > ib) - (ia < ib)
    assert Uint256.from_bytes(a).compare(Uint256.from_bytes(b)) == expected
    assert compare_le(a, b) == expected


def test_uint256_compare_reads_the_last_byte_first():
    low = Uint256.from_bytes(b"\xff" + b"\x00" * 31)
    high = Uint256.from_bytes(b"\x00" * 31 + b"\x01")
    assert low.compare(high) == -1 and high.compare(low) == 1 and low.compare(low) == 0


@FAST
@given(st.binary(min_size=21, max_size=21))
def test_uint168_round_trips(data):
    h = Uint168.from_bytes(data)
    assert Uint168.decode(data) == h
    assert h.encode() == data
    assert h.prefix == data[0] and h.code_hash == data[1:]


@FAST
@given(ANY_BYTES)
def test_uint168_any_bytes(raw):
    a = decode_or_reject(Uint168.from_bytes, raw)
    b = decode_or_reject(Uint168.decode, raw)
    assert (a is not None) == (b is not None) == (len(raw) == 21)


def test_uint168_wrong_sizes_and_from_code():
    expect_reject(Uint168.from_bytes, b"\x21" * 20, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    expect_reject(Uint168.decode, b"\x21" * 22, reason=Reason.TRAILING_BYTES, rule="ENC-002")
    import hashlib

    code = b"\x21" + b"\x02" * 33 + b"\xac"
    expected = hashlib.new("ripemd160", hashlib.sha256(code).digest()).digest()
    ph = Uint168.from_code(0x21, code)
    assert ph.data == b"\x21" + expected


def test_uint168_compare_is_little_endian_integer_order():
    a = Uint168.from_bytes(b"\x21" + b"\x00" * 19 + b"\x01")
    b = Uint168.from_bytes(b"\x12" + b"\x00" * 19 + b"\x02")
    assert a.compare(b) == -1 and b.compare(a) == 1


def test_models_are_frozen_and_strict():
    from pydantic import ValidationError

    h = Uint256.from_bytes(b"\x00" * 32)
    with pytest.raises(ValidationError):
        h.data = b"\x01" * 32  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Uint256(data="00" * 32)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Uint256(data=b"\x00" * 32, extra=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Uint168(data=b"\x00" * 20)
