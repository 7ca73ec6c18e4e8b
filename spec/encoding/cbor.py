"""Deterministic CBOR: the profile used by the message layers that speak CBOR.

The encoding is RFC 8949 §4.2.1 "core deterministic encoding", restricted to a small data model:

===============  ====================  =====================================================
CBOR             major type            Python value
===============  ====================  =====================================================
unsigned int     0                     ``int`` in [0, 2^64-1]
negative int     1                     ``int`` in [-2^64, -1]
byte string      2                     ``bytes``
text string      3                     ``str`` (valid UTF-8)
array            4                     ``list``
map              5                     ``dict`` whose keys are ``int``, ``str`` or ``bytes``
simple           7 (20, 21, 22)        ``False``, ``True``, ``None``
===============  ====================  =====================================================

Every integer and length is written in the shortest form; no item has indefinite length; map
keys are sorted by the bytewise lexicographic order of their encodings and are unique. Tags,
floating-point numbers, ``undefined`` and the other simple values are outside the profile; so is
nesting deeper than :data:`MAX_DEPTH`. The decoder accepts exactly the encoder's outputs: for
every accepted input ``encode(decode(b)) == b``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Union

from spec.encoding.primitives import Reader
from spec.errors import DecodeError, Reason, Reject, rule

CborKey = Union[int, str, bytes]
CborValue = Union[int, bytes, str, bool, None, list["CborValue"], dict[CborKey, "CborValue"], "CborMap"]


@dataclass(frozen=True)
class CborMap:
    """A map given as a sequence of (key, value) pairs, for callers whose keys may repeat.

    The encoder sorts the pairs and rejects a repeated key ([CBOR-004]); a ``dict`` cannot hold
    one. The decoder always returns a ``dict``.
    """

    items: tuple[tuple[CborValue, CborValue], ...]

MAX_DEPTH: Final = 64
"""Arrays and maps nest at most this deep (the top-level item is depth 1)."""

MAJOR_UINT: Final = 0
MAJOR_NINT: Final = 1
MAJOR_BYTES: Final = 2
MAJOR_TEXT: Final = 3
MAJOR_ARRAY: Final = 4
MAJOR_MAP: Final = 5
MAJOR_TAG: Final = 6
MAJOR_SIMPLE: Final = 7
SIMPLE_FALSE: Final = 20
SIMPLE_TRUE: Final = 21
SIMPLE_NULL: Final = 22
AI_INDEFINITE: Final = 31

R_SHORTEST = rule(
    "CBOR-001", Reason.CBOR_NON_SHORTEST,
    "Every CBOR integer, length and count is written in the shortest form.",
    suite="encoding", upstream="RFC 8949 §4.2.1 (preferred serialization of arguments)",
)
R_INDEFINITE = rule(
    "CBOR-002", Reason.CBOR_INDEFINITE_LENGTH,
    "No CBOR item has indefinite length.",
    suite="encoding", upstream="RFC 8949 §4.2.1",
)
R_SORTED = rule(
    "CBOR-003", Reason.CBOR_UNSORTED_MAP,
    "CBOR map keys appear in bytewise lexicographic order of their encodings.",
    suite="encoding", upstream="RFC 8949 §4.2.1",
)
R_UNIQUE = rule(
    "CBOR-004", Reason.CBOR_DUPLICATE_KEY,
    "A CBOR map has each key once.",
    suite="encoding", upstream="RFC 8949 §5.6",
)
R_PROFILE = rule(
    "CBOR-005", Reason.CBOR_UNSUPPORTED,
    "A CBOR item is an integer, byte or text string, array, map, false, true or null; map keys are "
    "integers, byte strings or text strings.",
    suite="encoding",
)
R_UTF8 = rule(
    "CBOR-006", Reason.CBOR_INVALID_UTF8,
    "A CBOR text string is valid UTF-8.",
    suite="encoding", upstream="RFC 8949 §3.1 (major type 3)",
)
R_RESERVED = rule(
    "CBOR-007", Reason.CBOR_MALFORMED,
    "A CBOR head does not use the reserved additional information 28, 29 or 30, nor a break "
    "outside an indefinite-length item.",
    suite="encoding", upstream="RFC 8949 §3 and §3.2.1",
)
R_DEPTH = rule(
    "CBOR-008", Reason.CBOR_TOO_DEEP,
    "CBOR arrays and maps nest at most 64 deep.",
    suite="encoding",
)


# -- encoding -----------------------------------------------------------------------------------


def _head(major: int, arg: int) -> bytes:
    """The shortest head for ``major`` with argument ``arg``."""
    m = major << 5
    if arg < 24:
        return bytes((m | arg,))
    if arg < 1 << 8:
        return bytes((m | 24, arg))
    if arg < 1 << 16:
        return bytes((m | 25,)) + arg.to_bytes(2, "big")
    if arg < 1 << 32:
        return bytes((m | 26,)) + arg.to_bytes(4, "big")
    return bytes((m | 27,)) + arg.to_bytes(8, "big")


def cbor_encode(value: CborValue, _depth: int = 1) -> bytes:
    """The deterministic encoding of ``value``."""
    # [CBOR-008] arrays and maps nest at most 64 deep
    if isinstance(value, (list, dict, CborMap)) and _depth > MAX_DEPTH:
        raise Reject(Reason.CBOR_TOO_DEEP, "CBOR-008", f"depth {_depth}")
    if value is None:
        return bytes((MAJOR_SIMPLE << 5 | SIMPLE_NULL,))
    if isinstance(value, bool):
        return bytes((MAJOR_SIMPLE << 5 | (SIMPLE_TRUE if value else SIMPLE_FALSE),))
    if isinstance(value, int):
        # [ENC-005] an integer is written only as a type whose range contains it
        if not -(1 << 64) <= value < 1 << 64:
            raise Reject(Reason.VALUE_OUT_OF_RANGE, "ENC-005", "CBOR integers are in [-2^64, 2^64-1]")
        return _head(MAJOR_UINT, value) if value >= 0 else _head(MAJOR_NINT, -1 - value)
    if isinstance(value, bytes):
        return _head(MAJOR_BYTES, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8", errors="strict") if _is_scalar_text(value) else None
        # [CBOR-006] a text string is valid UTF-8 (a str holding lone surrogates has no UTF-8 form)
        if raw is None:
            raise Reject(Reason.CBOR_INVALID_UTF8, "CBOR-006", "text holds a lone surrogate")
        return _head(MAJOR_TEXT, len(raw)) + raw
    if isinstance(value, list):
        return _head(MAJOR_ARRAY, len(value)) + b"".join(cbor_encode(v, _depth + 1) for v in value)
    if isinstance(value, (dict, CborMap)):
        pairs = value.items if isinstance(value, CborMap) else tuple(value.items())
        items = []
        for k, v in pairs:
            # [CBOR-005] map keys are integers, byte strings or text strings
            if isinstance(k, bool) or not isinstance(k, (int, str, bytes)):
                raise Reject(Reason.CBOR_UNSUPPORTED, "CBOR-005", f"map key of type {type(k).__name__}")
            items.append((cbor_encode(k, _depth + 1), cbor_encode(v, _depth + 1)))
        items.sort(key=lambda kv: kv[0])
        for (a, _), (b, _) in zip(items, items[1:]):
            # [CBOR-004] a map has each key once
            if a == b:
                raise Reject(Reason.CBOR_DUPLICATE_KEY, "CBOR-004", "two keys encode alike")
        return _head(MAJOR_MAP, len(items)) + b"".join(k + v for k, v in items)
    # [CBOR-005] only the profile's item types
    raise Reject(Reason.CBOR_UNSUPPORTED, "CBOR-005", f"values of type {type(value).__name__}")


def _is_scalar_text(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# -- decoding -----------------------------------------------------------------------------------


def _read_arg(r: Reader, major: int, ai: int) -> int:
    """Read the argument of a head whose additional information is ``ai`` (0..27)."""
    if ai < 24:
        return ai
    size = 1 << (ai - 24)  # 24 -> 1, 25 -> 2, 26 -> 4, 27 -> 8
    arg = int.from_bytes(r.read(size, "CBOR argument"), "big")
    minimum = 24 if size == 1 else 1 << (8 * size // 2)
    # [CBOR-001] every integer, length and count is written in the shortest form
    if arg < minimum:
        raise DecodeError(
            Reason.CBOR_NON_SHORTEST, "CBOR-001",
            f"major {major}: argument {arg} written in {size} bytes",
        )
    return arg


def _decode_item(r: Reader, depth: int) -> CborValue:
    initial = r.read(1, "CBOR head")[0]
    major, ai = initial >> 5, initial & 0x1F
    # [CBOR-007] no reserved additional information (28, 29, 30)
    if 28 <= ai <= 30:
        raise DecodeError(Reason.CBOR_MALFORMED, "CBOR-007", f"reserved additional information {ai}")
    if ai == AI_INDEFINITE:
        # [CBOR-002] no item has indefinite length
        if major in (MAJOR_BYTES, MAJOR_TEXT, MAJOR_ARRAY, MAJOR_MAP):
            raise DecodeError(Reason.CBOR_INDEFINITE_LENGTH, "CBOR-002", f"major type {major}")
        # [CBOR-007] a break (0xff) or ai 31 on an integer or tag is malformed here
        raise DecodeError(Reason.CBOR_MALFORMED, "CBOR-007", f"additional information 31 with major {major}")
    if major == MAJOR_SIMPLE:
        if ai in (SIMPLE_FALSE, SIMPLE_TRUE):
            return ai == SIMPLE_TRUE
        if ai == SIMPLE_NULL:
            return None
        # [CBOR-005] floats, undefined and other simple values are outside the profile
        raise DecodeError(Reason.CBOR_UNSUPPORTED, "CBOR-005", f"major 7 additional information {ai}")
    if major == MAJOR_TAG:
        # [CBOR-005] tags are outside the profile
        raise DecodeError(Reason.CBOR_UNSUPPORTED, "CBOR-005", "tagged item")
    arg = _read_arg(r, major, ai)
    if major == MAJOR_UINT:
        return arg
    if major == MAJOR_NINT:
        return -1 - arg
    if major == MAJOR_BYTES:
        return r.read(arg, "CBOR byte string")
    if major == MAJOR_TEXT:
        raw = r.read(arg, "CBOR text string")
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            # [CBOR-006] a text string is valid UTF-8
            raise DecodeError(Reason.CBOR_INVALID_UTF8, "CBOR-006", "text string is not UTF-8") from None
    # arrays and maps
    # [CBOR-008] arrays and maps nest at most 64 deep
    if depth > MAX_DEPTH:
        raise DecodeError(Reason.CBOR_TOO_DEEP, "CBOR-008", f"depth {depth}")
    if major == MAJOR_ARRAY:
        # no preallocation: a huge count fails with TRUNCATED when the bytes run out
        return [_decode_item(r, depth + 1) for _ in range(arg)]
    out: dict[int | str | bytes, CborValue] = {}
    previous: bytes | None = None
    for _ in range(arg):
        start = r.position
        key = _decode_item(r, depth + 1)
        key_bytes = r.since(start)  # the key's own encoding
        # [CBOR-005] map keys are integers, byte strings or text strings
        if isinstance(key, bool) or not isinstance(key, (int, str, bytes)):
            raise DecodeError(Reason.CBOR_UNSUPPORTED, "CBOR-005", f"map key of type {type(key).__name__}")
        if previous is not None:
            # [CBOR-004] a map has each key once
            if key_bytes == previous:
                raise DecodeError(Reason.CBOR_DUPLICATE_KEY, "CBOR-004", f"key {key!r} repeated")
            # [CBOR-003] keys in bytewise lexicographic order of their encodings
            if key_bytes < previous:
                raise DecodeError(Reason.CBOR_UNSORTED_MAP, "CBOR-003", f"key {key!r} out of order")
        previous = key_bytes
        out[key] = _decode_item(r, depth + 1)
    return out


def cbor_decode(data: bytes) -> CborValue:
    """Decode one deterministic CBOR item that is the whole of ``data``."""
    r = Reader(data)
    value = _decode_item(r, 1)
    r.finish("CBOR item")
    return value
