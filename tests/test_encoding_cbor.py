"""Deterministic CBOR: round trips, canonicity, robustness, RFC 8949 examples and ordering, and
cross-checks with ``cbor2``."""

from __future__ import annotations

import time

import cbor2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.encoding.cbor import MAX_DEPTH, CborMap, cbor_decode, cbor_encode
from spec.errors import DecodeError, Reason, Reject
from functools import partial

from helpers import expect_reject as _expect_reject

FAST = settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])

INTS = st.one_of(
    st.integers(-(1 << 64), (1 << 64) - 1),
    st.integers(-300, 300),
    st.sampled_from([0, 23, 24, 255, 256, 65535, 65536, (1 << 32) - 1, 1 << 32, (1 << 64) - 1,
                     -1, -24, -25, -256, -257, -(1 << 32), -(1 << 32) - 1, -(1 << 64)]),
)
KEYS = st.one_of(INTS, st.text(max_size=8), st.binary(max_size=8))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, st.binary(max_size=40), st.text(max_size=40))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(KEYS, children, max_size=6)),
    max_leaves=30,
)
ANY_BYTES = st.one_of(
    st.binary(max_size=64),
    st.binary(min_size=500, max_size=3000),
    # well-formed-looking prefixes: heads of every major type with long arguments
    st.lists(st.sampled_from([b"\x9b", b"\xbb", b"\x5b", b"\x7b", b"\xff" * 8, b"\x18", b"\x19", b"\x1a",
                              b"\x1b", b"\x80", b"\xa0", b"\x81", b"\xa1", b"\x61", b"\x00", b"\xf5"]),
             max_size=20).map(b"".join),
)


def same(a, b) -> bool:
    """Equality that also compares types (``True == 1`` and ``[True] == [1]`` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        bk = {(type(k), k): k for k in b}
        return all((type(k), k) in bk and same(v, b[bk[(type(k), k)]]) for k, v in a.items())
    return a == b


expect_reject = partial(_expect_reject, decode=True)


# == properties =========================================================================================


@FAST
@given(VALUES)
def test_round_trip_encode_decode(value):
    raw = cbor_encode(value)
    assert same(cbor_decode(raw), value)


@FAST
@given(VALUES)
def test_cbor2_decodes_our_output_to_the_same_value(value):
    raw = cbor_encode(value)
    assert same(cbor2.loads(raw), value)


@FAST
@given(VALUES)
def test_map_keys_are_bytewise_sorted_and_unique(value):
    def check(v):
        if isinstance(v, dict):
            keys = [cbor_encode(k) for k in v]
            raw = cbor_encode(v)
            # re-read the key order from the encoding itself, through cbor2 (which keeps insertion order)
            order = [cbor_encode(k) for k in cbor2.loads(raw)]
            assert order == sorted(keys) and len(set(order)) == len(order)
            for x in v.values():
                check(x)
        elif isinstance(v, list):
            for x in v:
                check(x)

    check(value)


@FAST
@given(ANY_BYTES)
@example(b"\x9b" + b"\xff" * 8)
@example(b"\xa1\x80\x00")
@example(b"\xf9\x3c\x00")
def test_any_bytes_value_or_decode_error_and_canonical(raw):
    try:
        value = cbor_decode(raw)
    except DecodeError as e:
        assert e.rule is not None
        return
    assert cbor_encode(value) == raw, "the decoder must accept exactly the encoder's outputs"
    assert same(cbor2.loads(raw), value)


@FAST
@given(VALUES, st.data())
def test_cbor2_canonical_output_is_accepted_or_rejected_only_for_order(value, data):
    # cbor2's canonical mode (RFC 7049 §3.9) differs from ours only in the order of map keys
    raw = cbor2.dumps(value, canonical=True)
    try:
        assert same(cbor_decode(raw), value)
        assert raw == cbor_encode(value)
    except DecodeError as e:
        assert e.reason is Reason.CBOR_UNSORTED_MAP, e


@FAST
@given(VALUES, st.integers(0, 10_000))
def test_every_proper_prefix_is_truncated(value, cut):
    raw = cbor_encode(value)
    n = cut % len(raw)
    expect_reject(cbor_decode, raw[:n], reason=Reason.TRUNCATED, rule="ENC-001")


# == RFC 8949 Appendix A (the examples inside the profile) =============================================

APPENDIX_A = [
    (0, "00"), (1, "01"), (10, "0a"), (23, "17"), (24, "1818"), (25, "1819"), (100, "1864"),
    (1000, "1903e8"), (1000000, "1a000f4240"), (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"), (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"), (-10, "29"), (-100, "3863"), (-1000, "3903e7"),
    (False, "f4"), (True, "f5"), (None, "f6"),
    (b"", "40"), (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"), ("a", "6161"), ("IETF", "6449455446"), ("\"\\", "62225c"), ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"), ("\U00010151", "64f0908591"),
    ([], "80"), ([1, 2, 3], "83010203"), ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"), ({1: 2, 3: 4}, "a201020304"), ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    ({"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}, "a56161614161626142616361436164614461656145"),
]


@pytest.mark.parametrize("value, hexstr", APPENDIX_A, ids=[h for _, h in APPENDIX_A])
def test_rfc8949_appendix_a(value, hexstr):
    assert cbor_encode(value).hex() == hexstr
    assert same(cbor_decode(bytes.fromhex(hexstr)), value)


@pytest.mark.parametrize(
    "hexstr, reason, rule",
    [
        ("c249010000000000000000", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # bignum 2^64 (tag 2)
        ("f90000", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # 0.0 half
        ("fa47c35000", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # 100000.0 single
        ("fb3ff199999999999a", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # 1.1 double
        ("f7", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # undefined
        ("f0", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # simple(16)
        ("f8ff", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # simple(255)
        ("c074323031332d30332d32315432303a30343a30305a", Reason.CBOR_UNSUPPORTED, "CBOR-005"),  # tag 0
        ("5f42010243030405ff", Reason.CBOR_INDEFINITE_LENGTH, "CBOR-002"),
        ("7f657374726561646d696e67ff", Reason.CBOR_INDEFINITE_LENGTH, "CBOR-002"),
        ("9fff", Reason.CBOR_INDEFINITE_LENGTH, "CBOR-002"),
        ("bf61610161629f0203ffff", Reason.CBOR_INDEFINITE_LENGTH, "CBOR-002"),
    ],
)
def test_rfc8949_appendix_a_outside_the_profile(hexstr, reason, rule):
    expect_reject(cbor_decode, bytes.fromhex(hexstr), reason=reason, rule=rule)


def test_encoder_rejects_values_outside_the_profile():
    expect_reject(cbor_encode, 1 << 64, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005", decode=False)
    expect_reject(cbor_encode, -(1 << 64) - 1, reason=Reason.VALUE_OUT_OF_RANGE, rule="ENC-005", decode=False)
    expect_reject(cbor_encode, 1.5, reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005", decode=False)
    expect_reject(cbor_encode, (1, 2), reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005", decode=False)
    expect_reject(cbor_encode, {True: 1}, reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005", decode=False)
    expect_reject(cbor_encode, {None: 1}, reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005", decode=False)
    expect_reject(cbor_encode, {(1,): 1}, reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005", decode=False)
    expect_reject(cbor_encode, "\ud800", reason=Reason.CBOR_INVALID_UTF8, rule="CBOR-006", decode=False)
    expect_reject(cbor_encode, CborMap(((1, 2), (1, 3))), reason=Reason.CBOR_DUPLICATE_KEY, rule="CBOR-004",
                  decode=False)


def test_cbormap_encodes_like_a_dict_and_decodes_to_one():
    pairs = ((b"k", 1), ("z", 2), (-1, 3), (10, 4))
    raw = cbor_encode(CborMap(pairs))
    assert raw == cbor_encode(dict(pairs))
    assert same(cbor_decode(raw), dict(pairs))


# == RFC 8949 §4.2.1 key order vs RFC 7049 length-first order ========================================


def test_rfc8949_core_deterministic_key_order():
    # RFC 8949 §4.2.1 lists, in order: 10, 100, -1, "z", "aa", [100], [-1], false; the profile allows
    # the integer and string keys.
    keys = [10, 100, -1, "z", "aa"]
    value = {k: i for i, k in enumerate(reversed(keys))}
    raw = cbor_encode(value)
    assert list(cbor2.loads(raw)) == keys, "keys must appear in bytewise lexicographic order of encodings"
    assert raw.hex() == "a5" "0a04" "186403" "2002" "617a01" "62616100"
    encodings = [cbor_encode(k) for k in keys]
    assert encodings == sorted(encodings)


def test_ours_differs_from_cbor2_length_first_canonical_order():
    value = {10: 0, 100: 1, -1: 2, "z": 3, "aa": 4}
    ours = cbor_encode(value)
    theirs = cbor2.dumps(value, canonical=True)
    # length-first (RFC 7049 §3.9) puts the 1-byte key -1 before the 2-byte key 100
    assert list(cbor2.loads(theirs)) == [10, -1, 100, "z", "aa"]
    assert list(cbor2.loads(ours)) == [10, 100, -1, "z", "aa"]
    assert ours != theirs and sorted(ours) == sorted(theirs)
    expect_reject(cbor_decode, theirs, reason=Reason.CBOR_UNSORTED_MAP, rule="CBOR-003")
    # byte-string keys: b"\x00\x00" (42 0000) vs "a" (61 61): lexicographic and length-first agree
    # here, while 256 (19 0100) vs b"" (40): 0x19 < 0x40 bytewise although 256 is longer
    v2 = {256: 0, b"": 1}
    assert list(cbor2.loads(cbor_encode(v2))) == [256, b""]
    assert list(cbor2.loads(cbor2.dumps(v2, canonical=True))) == [b"", 256]


# == edge cases =========================================================================================


@pytest.mark.parametrize("head", ["9b", "bb", "5b", "7b"])
def test_huge_count_fails_fast_with_truncated(head):
    raw = bytes.fromhex(head) + b"\xff" * 8
    start = time.perf_counter()
    expect_reject(cbor_decode, raw, reason=Reason.TRUNCATED, rule="ENC-001")
    # a few well-formed items after the head (ascending keys for the map) still end in TRUNCATED
    expect_reject(cbor_decode, raw + bytes(range(10)), reason=Reason.TRUNCATED, rule="ENC-001")
    assert time.perf_counter() - start < 0.5, "a huge count must not be iterated or allocated"


@pytest.mark.parametrize(
    "hexstr",
    ["1817", "190017", "1900ff", "1a0000ffff", "1b00000000ffffffff", "3817", "5800", "780161", "9800", "b800",
     "99000101", "1a00000000"],
)
def test_non_shortest_rejected(hexstr):
    expect_reject(cbor_decode, bytes.fromhex(hexstr), reason=Reason.CBOR_NON_SHORTEST, rule="CBOR-001")


@pytest.mark.parametrize("hexstr", ["1818", "190100", "1a00010000", "1b0000000100000000", "3818", "5818" + "00" * 24])
def test_shortest_boundaries_accepted(hexstr):
    raw = bytes.fromhex(hexstr)
    assert cbor_encode(cbor_decode(raw)) == raw


@pytest.mark.parametrize("hexstr", ["1c", "1d", "1e", "3c", "5c", "7d", "9e", "bc", "dc", "fc", "fd", "fe"])
def test_reserved_additional_information(hexstr):
    expect_reject(cbor_decode, bytes.fromhex(hexstr), reason=Reason.CBOR_MALFORMED, rule="CBOR-007")


@pytest.mark.parametrize("hexstr", ["ff", "1f", "3f", "df", "8201ff", "a1ff00"])
def test_break_and_indefinite_integers_are_malformed(hexstr):
    expect_reject(cbor_decode, bytes.fromhex(hexstr), reason=Reason.CBOR_MALFORMED, rule="CBOR-007")


@pytest.mark.parametrize("hexstr", ["62c328", "63eda080", "61ff", "61c3", "64f8888080"])
def test_invalid_utf8(hexstr):
    expect_reject(cbor_decode, bytes.fromhex(hexstr), reason=Reason.CBOR_INVALID_UTF8, rule="CBOR-006")


def test_map_rules():
    expect_reject(cbor_decode, bytes.fromhex("a201010102"), reason=Reason.CBOR_DUPLICATE_KEY, rule="CBOR-004")
    expect_reject(cbor_decode, bytes.fromhex("a202010101"), reason=Reason.CBOR_UNSORTED_MAP, rule="CBOR-003")
    # 100 (18 64) sorts before -1 (20) bytewise; the reverse is unsorted
    expect_reject(cbor_decode, bytes.fromhex("a220001864" + "00"), reason=Reason.CBOR_UNSORTED_MAP, rule="CBOR-003")
    assert cbor_decode(bytes.fromhex("a218640020" + "00")) == {100: 0, -1: 0}
    for key in ("f5", "f4", "f6", "80", "a0"):
        expect_reject(cbor_decode, bytes.fromhex("a1" + key + "00"), reason=Reason.CBOR_UNSUPPORTED, rule="CBOR-005")
    # text "a" and bytes h'61' are distinct keys
    assert same(cbor_decode(bytes.fromhex("a24161006161" + "01")), {b"a": 0, "a": 1})


def test_trailing_and_empty():
    expect_reject(cbor_decode, b"", reason=Reason.TRUNCATED, rule="ENC-001")
    expect_reject(cbor_decode, b"\x00\x00", reason=Reason.TRAILING_BYTES, rule="ENC-002")
    expect_reject(cbor_decode, b"\x80\x00", reason=Reason.TRAILING_BYTES, rule="ENC-002")


def nested_list(depth: int):
    v: object = 0
    for _ in range(depth):
        v = [v]
    return v


def nested_map(depth: int):
    v: object = 0
    for _ in range(depth):
        v = CborMap(((0, v),))
    return v


def test_depth_limit_decoder():
    ok = b"\x81" * MAX_DEPTH + b"\x00"
    assert cbor_encode(cbor_decode(ok)) == ok
    expect_reject(cbor_decode, b"\x81" * (MAX_DEPTH + 1) + b"\x00", reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008")
    ok_map = b"\xa1\x00" * MAX_DEPTH + b"\x00"
    assert cbor_encode(cbor_decode(ok_map)) == ok_map
    expect_reject(cbor_decode, b"\xa1\x00" * (MAX_DEPTH + 1) + b"\x00", reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008")


def test_very_deep_input_fails_fast_without_recursion_error():
    start = time.perf_counter()
    expect_reject(cbor_decode, b"\x81" * 200_000, reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008")
    expect_reject(cbor_decode, b"\xa1\x00" * 100_000, reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008")
    assert time.perf_counter() - start < 1.0


def test_depth_limit_encoder_lists_and_dicts():
    assert cbor_encode(nested_list(MAX_DEPTH)) == b"\x81" * MAX_DEPTH + b"\x00"
    expect_reject(cbor_encode, nested_list(MAX_DEPTH + 1), reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008", decode=False)
    d: object = 0
    for _ in range(MAX_DEPTH + 1):
        d = {0: d}
    expect_reject(cbor_encode, d, reason=Reason.CBOR_TOO_DEEP, rule="CBOR-008", decode=False)


def test_depth_limit_encoder_cbormap():
    """The encoder must not produce bytes its own decoder rejects: a CborMap counts as a map for the
    depth limit exactly like a dict ([CBOR-008])."""
    assert cbor_encode(nested_map(MAX_DEPTH)) == b"\xa1\x00" * MAX_DEPTH + b"\x00"
    too_deep = nested_map(MAX_DEPTH + 1)
    with pytest.raises(Reject) as info:
        raw = cbor_encode(too_deep)
        pytest.fail(
            f"SPEC BUG: cbor_encode accepted CborMaps nested {MAX_DEPTH + 1} deep and wrote {raw[:8].hex()}..., "
            "which cbor_decode rejects with CBOR_TOO_DEEP; the [CBOR-008] guard in cbor_encode checks "
            "isinstance(value, (list, dict)) and misses CborMap"
        )
    assert info.value.reason is Reason.CBOR_TOO_DEEP and info.value.rule == "CBOR-008"
