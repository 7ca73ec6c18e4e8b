"""Generators of the ``encoding`` suite."""

from __future__ import annotations

from collections.abc import Iterator

from spec.crypto.hashes import sha256d
from spec.encoding.address import PREFIXES
from spec.encoding.base58 import b58encode
from spec.encoding.primitives import FIXED_INT_TYPES
from spec.errors import Reason

from conformance.generators.common import det_bytes, det_int, fact, provenance
from conformance.vectors import CaseSpec, generator

OK = "ok"
VARUINT_RULES = ("ENC-001", "ENC-002", "ENC-003")


# -- VarUint -----------------------------------------------------------------------------------

VARUINT_BOUNDARIES = {
    "zero": 0, "one": 1, "max_1byte": 0xFC, "min_u16": 0xFD, "u16_fe": 0xFE, "u16_ff": 0xFF,
    "u16_0x100": 0x100, "max_u16": 0xFFFF, "min_u32": 0x10000, "max_u32": 0xFFFFFFFF,
    "min_u64": 0x100000000, "max_u64": 2**64 - 1,
}


def _varuint_bytes(v: int) -> bytes:
    if v < 0xFD:
        return bytes((v,))
    if v <= 0xFFFF:
        return b"\xfd" + v.to_bytes(2, "little")
    if v <= 0xFFFFFFFF:
        return b"\xfe" + v.to_bytes(4, "little")
    return b"\xff" + v.to_bytes(8, "little")


def _varuint_values() -> Iterator[tuple[str, int]]:
    yield from VARUINT_BOUNDARIES.items()
    for width, (lo, hi) in {"1": (0, 0xFC), "3": (0xFD, 0xFFFF), "5": (0x10000, 0xFFFFFFFF), "9": (2**32, 2**64 - 1)}.items():
        for i in range(4):
            yield f"random_{width}byte_{i}", det_int(f"varuint/{width}/{i}", lo, hi)


@generator("encoding", "varuint_decode")
def varuint_decode() -> Iterator[CaseSpec]:
    for name, v in _varuint_values():
        yield CaseSpec(name, {"bytes": _varuint_bytes(v).hex()}, OK, VARUINT_RULES, f"canonical VarUint of {v}")
    non_canonical = {
        "fd_zero": "fd0000", "fd_max_1byte": "fdfc00", "fe_zero": "fe00000000", "fe_max_u16": "feffff0000",
        "fe_0xfd": "fefd000000", "ff_zero": "ff0000000000000000", "ff_max_u32": "ffffffffff00000000",
        "ff_one": "ff0100000000000000",
    }
    for name, hx in non_canonical.items():
        yield CaseSpec(f"non_canonical_{name}", {"bytes": hx}, Reason.NON_CANONICAL_VARUINT, ("ENC-003",),
                       "a value written longer than its shortest form")
    for i in range(3):
        v = det_int(f"varuint/nc/{i}", 0, 0xFFFF)
        yield CaseSpec(f"non_canonical_random_{i}", {"bytes": "fe" + v.to_bytes(4, "little").hex()},
                       Reason.NON_CANONICAL_VARUINT, ("ENC-003",), f"{v} in the u32 form")
    for name, hx in {"empty": "", "fd_no_payload": "fd", "fd_one_byte": "fd00", "fe_three_bytes": "fe000001",
                     "ff_seven_bytes": "ff00000000000001"}.items():
        yield CaseSpec(f"truncated_{name}", {"bytes": hx}, Reason.TRUNCATED, ("ENC-001",), "input ends inside the VarUint")
    for name, hx in {"one_byte_then_zero": "0000", "u16_then_byte": "fdfd0001"}.items():
        yield CaseSpec(f"trailing_{name}", {"bytes": hx}, Reason.TRAILING_BYTES, ("ENC-002",), "bytes after the VarUint")


@generator("encoding", "varuint_encode")
def varuint_encode() -> Iterator[CaseSpec]:
    for name, v in _varuint_values():
        yield CaseSpec(name, {"value": str(v)}, OK, ("ENC-005",), f"the shortest form of {v}")
    yield CaseSpec("negative", {"value": "-1"}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",), "below 0")
    yield CaseSpec("two_pow_64", {"value": str(2**64)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",), "above 2^64-1")


# -- fixed-width integers and bool ------------------------------------------------------------------


def _int_range(t: str) -> tuple[int, int]:
    size, signed = FIXED_INT_TYPES[t]
    return (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)


@generator("encoding", "int_decode")
def int_decode() -> Iterator[CaseSpec]:
    for t, (size, signed) in FIXED_INT_TYPES.items():
        lo, hi = _int_range(t)
        for name, v in {"min": lo, "max": hi, "one": 1, "random": det_int(f"int/{t}", lo, hi)}.items():
            yield CaseSpec(f"{t}_{name}", {"type": t, "bytes": v.to_bytes(size, "little", signed=signed).hex()},
                           OK, ("ENC-001", "ENC-002"), f"{t} {v}, little-endian")
        yield CaseSpec(f"{t}_truncated", {"type": t, "bytes": "ff" * (size - 1)}, Reason.TRUNCATED, ("ENC-001",),
                       f"{size - 1} of {size} bytes")
        yield CaseSpec(f"{t}_trailing", {"type": t, "bytes": "01" * (size + 1)}, Reason.TRAILING_BYTES, ("ENC-002",),
                       f"{size + 1} bytes for a {size}-byte integer")


@generator("encoding", "int_encode")
def int_encode() -> Iterator[CaseSpec]:
    for t in FIXED_INT_TYPES:
        lo, hi = _int_range(t)
        yield CaseSpec(f"{t}_min", {"type": t, "value": str(lo)}, OK, ("ENC-005",))
        yield CaseSpec(f"{t}_max", {"type": t, "value": str(hi)}, OK, ("ENC-005",))
        yield CaseSpec(f"{t}_below_min", {"type": t, "value": str(lo - 1)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
        yield CaseSpec(f"{t}_above_max", {"type": t, "value": str(hi + 1)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))


@generator("encoding", "bool_decode")
def bool_decode() -> Iterator[CaseSpec]:
    yield CaseSpec("false", {"bytes": "00"}, OK, ("ENC-001", "ENC-002"))
    yield CaseSpec("true", {"bytes": "01"}, OK, ("ENC-001", "ENC-002"))
    yield CaseSpec("quirk_two_is_true", {"bytes": "02"}, OK, ("ENC-001",), "Quirk: any non-zero byte reads as true")
    yield CaseSpec("quirk_ff_is_true", {"bytes": "ff"}, OK, ("ENC-001",), "Quirk: any non-zero byte reads as true")
    yield CaseSpec("empty", {"bytes": ""}, Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("two_bytes", {"bytes": "0100"}, Reason.TRAILING_BYTES, ("ENC-002",))


# -- VarBytes / VarString ------------------------------------------------------------------------------


@generator("encoding", "varbytes_decode")
def varbytes_decode() -> Iterator[CaseSpec]:
    for n in (0, 1, 20, 252, 253, 300):
        data = det_bytes(f"varbytes/{n}", n)
        yield CaseSpec(f"length_{n}", {"bytes": (_varuint_bytes(n) + data).hex(), "max": 1000}, OK,
                       ("ENC-003", "ENC-004", "ENC-001"), f"{n} bytes under a maximum of 1000")
    data = det_bytes("varbytes/exact", 64)
    yield CaseSpec("length_equals_max", {"bytes": (b"\x40" + data).hex(), "max": 64}, OK, ("ENC-004",))
    yield CaseSpec("length_max_plus_one", {"bytes": (b"\x41" + det_bytes("varbytes/over", 65)).hex(), "max": 64},
                   Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",), "65 bytes where at most 64 are allowed")
    yield CaseSpec("huge_length_no_data", {"bytes": "ffffffffffffffffff", "max": 16777216}, Reason.LENGTH_EXCEEDS_MAX,
                   ("ENC-004",), "a 2^64-1 length is refused before any data is read")
    yield CaseSpec("zero_max", {"bytes": "0100", "max": 0}, Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",))
    yield CaseSpec("data_truncated", {"bytes": "05aabbcc", "max": 100}, Reason.TRUNCATED, ("ENC-001",),
                   "length 5, three bytes present")
    yield CaseSpec("length_non_canonical", {"bytes": "fd0300aabbcc", "max": 100}, Reason.NON_CANONICAL_VARUINT,
                   ("ENC-003",), "length 3 written in the u16 form")
    yield CaseSpec("trailing", {"bytes": "01aabb", "max": 100}, Reason.TRAILING_BYTES, ("ENC-002",))


@generator("encoding", "varbytes_encode")
def varbytes_encode() -> Iterator[CaseSpec]:
    for n in (0, 1, 252, 253, 70000):
        yield CaseSpec(f"length_{n}", {"data": det_bytes(f"varbytes_encode/{n}", n).hex()}, OK, ("ENC-005",))


@generator("encoding", "varstring_decode")
def varstring_decode() -> Iterator[CaseSpec]:
    for name, text in {"empty": "", "ascii": "ELA", "utf8": "Elastos \u00e9\u4e16\u754c"}.items():
        raw = text.encode()
        yield CaseSpec(name, {"bytes": (_varuint_bytes(len(raw)) + raw).hex()}, OK, ("ENC-004",))
    yield CaseSpec("quirk_not_utf8", {"bytes": "03ff00c3"}, OK, ("ENC-004",),
                   "Quirk: a VarString may hold any bytes; text is null when they are not UTF-8")
    yield CaseSpec("default_max_16mib", {"bytes": "fe01000001"}, Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",),
                   "16 MiB + 1 exceeds MaxVarStringLength")
    yield CaseSpec("field_max", {"bytes": "0461626364", "max": 3}, Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",))
    yield CaseSpec("truncated", {"bytes": "0461"}, Reason.TRUNCATED, ("ENC-001",))


# -- Fixed64 -----------------------------------------------------------------------------------------------


@generator("encoding", "fixed64_decode")
def fixed64_decode() -> Iterator[CaseSpec]:
    values = {"zero": 0, "one_sela": 1, "one_ela": 10**8, "one_and_a_half_ela": 15 * 10**7, "minus_one_sela": -1,
              "min": -(2**63), "max": 2**63 - 1, "genesis_coinbase": 3_300_000_000_000_000,
              "block_reward": 502283105}
    for name, v in values.items():
        yield CaseSpec(name, {"bytes": v.to_bytes(8, "little", signed=True).hex()}, OK, ("ENC-001",))
    yield CaseSpec("truncated", {"bytes": "00e1f505"}, Reason.TRUNCATED, ("ENC-001",))


@generator("encoding", "fixed64_from_string")
def fixed64_from_string() -> Iterator[CaseSpec]:
    ok = {"zero": "0", "one": "1", "one_and_a_half": "1.5", "one_sela": "0.00000001", "negative": "-3.3",
          "leading_zeros": "007.10", "max": "92233720368.54775807", "min": "-92233720368.54775808"}
    for name, text in ok.items():
        yield CaseSpec(name, {"text": text}, OK, ("ENC-008", "ENC-009", "ENC-005"))
    for name, text in {"letters": "abc", "empty": "", "trailing_point": "1.", "leading_point": ".5", "plus": "+1",
                       "exponent": "1e8", "space": " 1", "two_points": "1.2.3", "comma": "1,5"}.items():
        yield CaseSpec(f"syntax_{name}", {"text": text}, Reason.FIXED64_SYNTAX, ("ENC-008",))
    yield CaseSpec("nine_decimals", {"text": "1.123456789"}, Reason.FIXED64_PRECISION, ("ENC-009",),
                   "upstream: unsupported precision")
    yield CaseSpec("above_max", {"text": "92233720368.54775808"}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("below_min", {"text": "-92233720368.54775809"}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("thousand_digits", {"text": "9" * 1000}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",),
                   "refused on the digit count, without building the number")


# -- Uint256 / Uint168 ----------------------------------------------------------------------------------------


@generator("encoding", "uint256_decode")
def uint256_decode() -> Iterator[CaseSpec]:
    f = fact("ela_asset_id")
    yield CaseSpec("ela_asset_id", {"bytes": f["value"]["stored_hex"]}, OK, ("ENC-006",),
                   "the ELA asset ID; display is the reversed hex",
                   provenance("facts.json", "ela_asset_id", f["sources"]), expect_ok={"display": f["value"]["display_hex"]})
    yield CaseSpec("zero", {"bytes": "00" * 32}, OK, ("ENC-006",))
    for i in range(3):
        yield CaseSpec(f"random_{i}", {"bytes": det_bytes(f"u256/{i}", 32).hex()}, OK, ("ENC-006",))
    yield CaseSpec("31_bytes", {"bytes": "11" * 31}, Reason.WRONG_LENGTH, ("ENC-006",))
    yield CaseSpec("33_bytes", {"bytes": "11" * 33}, Reason.WRONG_LENGTH, ("ENC-006",))


@generator("encoding", "uint256_from_display")
def uint256_from_display() -> Iterator[CaseSpec]:
    f = fact("ela_asset_id")
    yield CaseSpec("ela_asset_id", {"display": f["value"]["display_hex"]}, OK, ("ENC-006", "ENC-007"),
                   "display form parses to the stored bytes", provenance("facts.json", "ela_asset_id", f["sources"]),
                   expect_ok={"stored": f["value"]["stored_hex"]})
    yield CaseSpec("upper_case", {"display": det_bytes("u256disp", 32).hex().upper()}, OK, ("ENC-007",))
    yield CaseSpec("odd_length", {"display": "a" * 63}, Reason.INVALID_HEX, ("ENC-007",))
    yield CaseSpec("non_hex", {"display": "zz" * 32}, Reason.INVALID_HEX, ("ENC-007",))
    yield CaseSpec("prefixed_0x", {"display": "0x" + "00" * 31}, Reason.INVALID_HEX, ("ENC-007",))
    yield CaseSpec("short", {"display": "00" * 31}, Reason.WRONG_LENGTH, ("ENC-006",))


@generator("encoding", "uint256_compare")
def uint256_compare() -> Iterator[CaseSpec]:
    zero = bytes(32)
    low_byte = b"\x01" + bytes(31)
    high_byte = bytes(31) + b"\x01"
    pairs = {
        "equal": (zero, zero), "low_byte_vs_high_byte": (low_byte, high_byte),
        "high_byte_vs_low_byte": (high_byte, low_byte), "byte31_decides": (b"\xff" * 31 + b"\x00", bytes(31) + b"\x01"),
    }
    for i in range(4):
        pairs[f"random_{i}"] = (det_bytes(f"cmp/a/{i}", 32), det_bytes(f"cmp/b/{i}", 32))
    for name, (a, b) in pairs.items():
        yield CaseSpec(name, {"a": a.hex(), "b": b.hex()}, OK, ("ENC-006",), "order as little-endian integers")
    yield CaseSpec("short_operand", {"a": "00" * 31, "b": "00" * 32}, Reason.WRONG_LENGTH, ("ENC-006",))


@generator("encoding", "uint168_decode")
def uint168_decode() -> Iterator[CaseSpec]:
    for p in PREFIXES:
        yield CaseSpec(f"prefix_{p.name}", {"bytes": (bytes((p.byte,)) + det_bytes(f"u168/{p.name}", 20)).hex()}, OK, ("ENC-006",))
    yield CaseSpec("20_bytes", {"bytes": "21" * 20}, Reason.WRONG_LENGTH, ("ENC-006",))
    yield CaseSpec("22_bytes", {"bytes": "21" * 22}, Reason.WRONG_LENGTH, ("ENC-006",))


# -- base58 -------------------------------------------------------------------------------------------------


@generator("encoding", "base58_encode")
def base58_encode() -> Iterator[CaseSpec]:
    samples = {"empty": b"", "zero": b"\x00", "three_zeros": b"\x00\x00\x00", "hello_world": b"hello world",
               "leading_zeros": b"\x00\x00" + det_bytes("b58/lz", 10), "ff32": b"\xff" * 32}
    for i in range(3):
        samples[f"random_{i}"] = det_bytes(f"b58/{i}", 5 + 9 * i)
    for name, data in samples.items():
        yield CaseSpec(name, {"bytes": data.hex()}, OK)


@generator("encoding", "base58_decode")
def base58_decode() -> Iterator[CaseSpec]:
    for name, text in {"empty": "", "ones": "111", "hello_world": "StV1DL6CwTryKyV", "leading_one": "1112"}.items():
        yield CaseSpec(name, {"text": text}, OK, ("B58-001",))
    for name, text in {"zero_digit": "10", "capital_o": "1O", "capital_i": "I1", "lower_l": "l1",
                       "plus": "ab+c", "non_ascii": "ab\u00e9", "space": "ab c"}.items():
        yield CaseSpec(f"invalid_{name}", {"text": text}, Reason.INVALID_BASE58_CHARACTER, ("B58-001",))


@generator("encoding", "base58check_encode")
def base58check_encode() -> Iterator[CaseSpec]:
    for name, data in {"empty": b"", "version_zero": b"\x00" + det_bytes("b58c/v0", 20),
                       "program_hash": b"\x21" + det_bytes("b58c/ph", 20)}.items():
        yield CaseSpec(name, {"payload": data.hex()}, OK)


@generator("encoding", "base58check_decode")
def base58check_decode() -> Iterator[CaseSpec]:
    good = b58encode(b"\x00" + det_bytes("b58cd", 20) + sha256d(b"\x00" + det_bytes("b58cd", 20))[:4])
    yield CaseSpec("valid", {"text": good}, OK, ("B58-001", "B58-002", "B58-003"))
    empty = b58encode(sha256d(b"")[:4])
    yield CaseSpec("empty_payload", {"text": empty}, OK, ("B58-002", "B58-003"))
    bad = good[:-1] + ("2" if good[-1] != "2" else "3")
    yield CaseSpec("bad_checksum", {"text": bad}, Reason.BAD_CHECKSUM, ("B58-003",), "last character changed")
    yield CaseSpec("too_short", {"text": "2g"}, Reason.TRUNCATED, ("B58-002",), "decodes to fewer than 4 bytes")
    yield CaseSpec("invalid_character", {"text": good[:5] + "0" + good[6:]}, Reason.INVALID_BASE58_CHARACTER, ("B58-001",))


# -- addresses -------------------------------------------------------------------------------------------------

ADDRESS_RULES = ("ADDR-001", "ADDR-002", "ADDR-003", "ADDR-004", "B58-001")


def _address_of(ph: bytes) -> str:
    return b58encode(ph + sha256d(ph)[:4])


@generator("encoding", "address_encode")
def address_encode() -> Iterator[CaseSpec]:
    f = fact("address_program_hash_pairs")
    for pair in f["value"]:
        name = (pair["upstream_name"] or pair["address"][:8]).lower()
        yield CaseSpec(f"upstream_{name}", {"program_hash": pair["program_hash_hex"]}, OK, ("ADDR-004",),
                       f"upstream gives {pair['address']}", provenance("facts.json", "address_program_hash_pairs", pair["source"]),
                       expect_ok={"address": pair["address"]})
    for p in PREFIXES:
        yield CaseSpec(f"prefix_{p.name}", {"program_hash": (bytes((p.byte,)) + det_bytes(f"addr/{p.name}", 20)).hex()},
                       OK, ("ADDR-004",), f"a {p.name} address starts with {p.letter}")
    for byte in (0x00, 0x17, 0xFF):
        yield CaseSpec(f"unknown_prefix_{byte:02x}", {"program_hash": (bytes((byte,)) + det_bytes("addr/unknown", 20)).hex()},
                       Reason.ADDRESS_UNKNOWN_PREFIX, ("ADDR-004",))
    yield CaseSpec("program_hash_20_bytes", {"program_hash": "21" * 20}, Reason.WRONG_LENGTH, ("ENC-006",))


@generator("encoding", "address_decode")
def address_decode() -> Iterator[CaseSpec]:
    f = fact("address_program_hash_pairs")
    for pair in f["value"]:
        name = (pair["upstream_name"] or pair["address"][:8]).lower()
        yield CaseSpec(f"upstream_{name}", {"address": pair["address"]}, OK, ADDRESS_RULES,
                       f"upstream gives {pair['program_hash_hex']}", provenance("facts.json", "address_program_hash_pairs", pair["source"]),
                       expect_ok={"program_hash": pair["program_hash_hex"]})
    for p in PREFIXES:
        ph = bytes((p.byte,)) + det_bytes(f"addr/{p.name}", 20)
        yield CaseSpec(f"prefix_{p.name}", {"address": _address_of(ph)}, OK, ADDRESS_RULES)
    good = "ELu7YtvBnZdhPHyLyrCxj7XtF7Dfy3neXv"
    yield CaseSpec("length_33", {"address": good[:-1]}, Reason.ADDRESS_LENGTH, ("ADDR-001",))
    yield CaseSpec("length_35", {"address": good + "1"}, Reason.ADDRESS_LENGTH, ("ADDR-001",))
    yield CaseSpec("empty", {"address": ""}, Reason.ADDRESS_LENGTH, ("ADDR-001",))
    yield CaseSpec("invalid_character", {"address": good[:10] + "0" + good[11:]}, Reason.INVALID_BASE58_CHARACTER, ("B58-001",))
    yield CaseSpec("bad_checksum", {"address": good[:-1] + ("w" if good[-1] != "w" else "x")}, Reason.BAD_CHECKSUM, ("ADDR-003",))
    yield CaseSpec("one_character_changed", {"address": good[:5] + ("8" if good[5] != "8" else "9") + good[6:]},
                   Reason.BAD_CHECKSUM, ("ADDR-003",), "a typing error is caught by the checksum")
    yield CaseSpec("leading_one", {"address": "1" + good[1:]}, Reason.ADDRESS_NOT_CANONICAL, ("ADDR-002",),
                   "a leading '1' is a zero byte: the payload is not 25 bytes with a non-zero prefix")
    yield CaseSpec("two_leading_ones", {"address": "11" + good[2:]}, Reason.ADDRESS_NOT_CANONICAL, ("ADDR-002",))
    unknown = bytes((0x17,)) + det_bytes("addr/unknown", 20)
    yield CaseSpec("unknown_prefix", {"address": _address_of(unknown)}, Reason.ADDRESS_UNKNOWN_PREFIX, ("ADDR-004",),
                   "Deviation: upstream accepts any prefix here")


# -- deterministic CBOR -----------------------------------------------------------------------------------------

CBOR_DECODE_RULES = ("CBOR-001", "CBOR-002", "CBOR-003", "CBOR-004", "CBOR-005", "CBOR-006", "CBOR-007", "CBOR-008")

CBOR_OK = {
    # RFC 8949 Appendix A examples inside the profile (hex -> meaning)
    "rfc_0": "00", "rfc_1": "01", "rfc_10": "0a", "rfc_23": "17", "rfc_24": "1818", "rfc_25": "1819",
    "rfc_100": "1864", "rfc_1000": "1903e8", "rfc_1000000": "1a000f4240", "rfc_1e12": "1b000000e8d4a51000",
    "rfc_u64_max": "1bffffffffffffffff", "rfc_neg_u64_max": "3bffffffffffffffff", "rfc_minus_1": "20",
    "rfc_minus_10": "29", "rfc_minus_100": "3863", "rfc_minus_1000": "3903e7", "rfc_false": "f4", "rfc_true": "f5",
    "rfc_null": "f6", "rfc_empty_bytes": "40", "rfc_bytes_01020304": "4401020304", "rfc_empty_text": "60",
    "rfc_text_a": "6161", "rfc_text_ietf": "6449455446", "rfc_text_quote_backslash": "62225c",
    "rfc_text_u_umlaut": "62c3bc", "rfc_text_water": "63e6b0b4", "rfc_text_surrogate_pair": "64f0908591",
    "rfc_empty_array": "80", "rfc_array_123": "83010203", "rfc_nested_array": "8301820203820405",
    "rfc_array_25": "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
    "rfc_empty_map": "a0", "rfc_map_ints": "a201020304", "rfc_map_text_keys": "a26161016162820203",
    "rfc_array_with_map": "826161a161626163", "rfc_map_five": "a56161614161626142616361436164614461656145",
    "mixed_key_types": "a301616141616162616120",
    "depth_64": "81" * 64 + "00",
    # control characters must be escaped when the text is written as JSON (U+0000, newline, U+001F, DEL)
    "text_control_characters": "6400 0a1f7f".replace(" ", ""),
}
CBOR_BAD = {
    "non_shortest_uint_1800": ("1800", Reason.CBOR_NON_SHORTEST), "non_shortest_uint_190017": ("190017", Reason.CBOR_NON_SHORTEST),
    "non_shortest_u32": ("1a0000ffff", Reason.CBOR_NON_SHORTEST), "non_shortest_u64": ("1b00000000ffffffff", Reason.CBOR_NON_SHORTEST),
    "non_shortest_negative": ("3800", Reason.CBOR_NON_SHORTEST), "non_shortest_length": ("5801ff", Reason.CBOR_NON_SHORTEST),
    "non_shortest_array_count": ("980100", Reason.CBOR_NON_SHORTEST),
    "indefinite_bytes": ("5f4101ff", Reason.CBOR_INDEFINITE_LENGTH), "indefinite_text": ("7f6161ff", Reason.CBOR_INDEFINITE_LENGTH),
    "indefinite_array": ("9f01ff", Reason.CBOR_INDEFINITE_LENGTH), "indefinite_map": ("bf0102ff", Reason.CBOR_INDEFINITE_LENGTH),
    "unsorted_int_keys": ("a203040102", Reason.CBOR_UNSORTED_MAP),
    "length_first_order": ("a26162011903e802", Reason.CBOR_UNSORTED_MAP),
    "duplicate_key": ("a201020103", Reason.CBOR_DUPLICATE_KEY),
    "tag_epoch": ("c11a514b67b0", Reason.CBOR_UNSUPPORTED), "float16": ("f93c00", Reason.CBOR_UNSUPPORTED),
    "float64": ("fb3ff199999999999a", Reason.CBOR_UNSUPPORTED), "undefined": ("f7", Reason.CBOR_UNSUPPORTED),
    "simple_16": ("f0", Reason.CBOR_UNSUPPORTED), "simple_255": ("f8ff", Reason.CBOR_UNSUPPORTED),
    "array_as_map_key": ("a18000", Reason.CBOR_UNSUPPORTED), "bool_as_map_key": ("a1f500", Reason.CBOR_UNSUPPORTED),
    "invalid_utf8": ("62c328", Reason.CBOR_INVALID_UTF8), "utf8_surrogate": ("63eda080", Reason.CBOR_INVALID_UTF8),
    "overlong_utf8": ("62c0af", Reason.CBOR_INVALID_UTF8),
    "reserved_ai_28": ("1c", Reason.CBOR_MALFORMED), "reserved_ai_30": ("5e", Reason.CBOR_MALFORMED),
    "lone_break": ("ff", Reason.CBOR_MALFORMED), "ai31_on_uint": ("1f", Reason.CBOR_MALFORMED),
    "depth_65": ("81" * 65 + "00", Reason.CBOR_TOO_DEEP),
    "empty": ("", Reason.TRUNCATED), "truncated_u32": ("1a0001", Reason.TRUNCATED),
    "huge_array_count": ("9bffffffffffffffff", Reason.TRUNCATED), "truncated_text": ("6461", Reason.TRUNCATED),
    "trailing": ("0000", Reason.TRAILING_BYTES),
}


@generator("encoding", "cbor_decode")
def cbor_decode() -> Iterator[CaseSpec]:
    for name, hx in CBOR_OK.items():
        yield CaseSpec(name, {"bytes": hx}, OK, CBOR_DECODE_RULES, "deterministic encoding")
    for name, (hx, reason) in CBOR_BAD.items():
        yield CaseSpec(name, {"bytes": hx}, reason)


def _i(v: int) -> dict:
    return {"int": str(v)}


@generator("encoding", "cbor_encode")
def cbor_encode() -> Iterator[CaseSpec]:
    rules = ("CBOR-003", "CBOR-004", "CBOR-005", "CBOR-008")
    yield CaseSpec("ints", {"value": {"array": [_i(0), _i(23), _i(24), _i(-1), _i(-25), _i(2**64 - 1), _i(-(2**64))]}}, OK, rules)
    yield CaseSpec("strings", {"value": {"array": [{"bytes": "00ff"}, {"text": "\u00fc\u6c34"}, {"text": ""}]}}, OK, rules)
    yield CaseSpec("simple", {"value": {"array": [{"bool": True}, {"bool": False}, {"null": True}]}}, OK, rules)
    yield CaseSpec("map_sorted_bytewise", {"value": {"map": [[{"text": "b"}, _i(1)], [_i(1000), _i(2)], [_i(-1), _i(3)], [{"bytes": "00"}, _i(4)]]}},
                   OK, rules, "keys are emitted in bytewise order of their encodings (1000 before \"b\", unlike length-first)")
    yield CaseSpec("map_nested", {"value": {"map": [[_i(2), {"map": [[_i(1), {"array": []}]]}], [_i(1), {"null": True}]]}}, OK, rules)
    yield CaseSpec("depth_64", {"value": _nest(64)}, OK, rules)
    yield CaseSpec("int_above_u64", {"value": _i(2**64)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("int_below_neg_u64", {"value": _i(-(2**64) - 1)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("duplicate_key", {"value": {"map": [[_i(1), _i(2)], [_i(1), _i(3)]]}}, Reason.CBOR_DUPLICATE_KEY, ("CBOR-004",))
    yield CaseSpec("array_key", {"value": {"map": [[{"array": []}, _i(1)]]}}, Reason.CBOR_UNSUPPORTED, ("CBOR-005",))
    yield CaseSpec("lone_surrogate", {"value": {"text": "\ud800"}}, Reason.CBOR_INVALID_UTF8, ("CBOR-006",))
    yield CaseSpec("depth_65", {"value": _nest(65)}, Reason.CBOR_TOO_DEEP, ("CBOR-008",))


def _nest(arrays: int) -> dict:
    """``arrays`` nested one-element arrays around the integer 0."""
    v: dict = _i(0)
    for _ in range(arrays):
        v = {"array": [v]}
    return v
