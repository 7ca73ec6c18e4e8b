"""Proofs about the encoding primitives: canonical VarUint (ENC-003) and the order of ``Uint256``.

The spec functions :func:`~spec.encoding.primitives.encode_varuint`,
:func:`~spec.encoding.primitives.read_varuint` and :func:`~spec.encoding.hashes.compare_le` branch
on Python values, so they cannot be run on Z3 terms. Each is therefore given a **model**: a function
over Z3 bit-vector terms, written with the spec's own constants. The proofs are about the models;
the correspondence tests in ``tests/test_proofs.py`` evaluate the same model functions on constants
(:func:`evaluate_encode`, :func:`evaluate_decode`, :func:`evaluate_compare`, which use
:func:`proofs.framework.concrete`) and check them against the spec functions with Hypothesis, on
random values and on every boundary of the format.

Models
------

==========================  =====================================================================
model                       stands for
==========================  =====================================================================
:func:`encode_model`        ``encode_varuint``: 64-bit value -> (length, 9 bytes zero-padded)
:func:`decode_model`        ``read_varuint`` on a buffer of 9 bytes: -> (accepted, value, consumed)
:func:`compare_model`       ``compare_le``: the byte loop from the last byte down, -1 / 0 / 1
==========================  =====================================================================

``decode_model`` returns the value the bytes *denote* under their marker even when the spec
rejects them, so that properties can speak of non-canonical forms. Truncation (ENC-001) is outside
the model: it reads from a buffer that always holds the 9 bytes of the longest form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import z3

from spec.encoding.hashes import UINT256_SIZE, compare_le
from spec.encoding.primitives import (
    U16_MAX,
    U32_MAX,
    VARUINT_U16_MARKER,
    VARUINT_U32_MARKER,
    VARUINT_U64_MARKER,
    Reader,
    encode_varuint,
    read_varuint,
)
from spec.errors import DecodeError

from proofs.framework import ModelValues, Query, concrete, proof, vector_case

VARUINT_MAX_SIZE = 9
"""Bytes of the longest VarUint form: marker and a u64."""

VARUINT_FORMS: tuple[tuple[int, int, int], ...] = (
    # marker, payload bytes, smallest value the form may carry
    (VARUINT_U16_MARKER, 2, VARUINT_U16_MARKER),
    (VARUINT_U32_MARKER, 4, U16_MAX + 1),
    (VARUINT_U64_MARKER, 8, U32_MAX + 1),
)
"""The multi-byte forms of a VarUint, as ``read_varuint`` reads them."""

_TESTS = "tests/test_proofs.py::"
_VARUINT_ABOUT = ("spec.encoding.primitives.encode_varuint", "spec.encoding.primitives.read_varuint")
_VARUINT_TESTS = (
    _TESTS + "test_encode_model_matches_spec",
    _TESTS + "test_encode_model_boundaries",
    _TESTS + "test_decode_model_matches_spec",
    _TESTS + "test_decode_model_boundaries",
)


# -- models -----------------------------------------------------------------------------------------


class VarUintEncoding(NamedTuple):
    """What :func:`encode_model` returns."""

    length: z3.BitVecRef
    """8-bit: 1, 3, 5 or 9."""
    data: tuple[z3.BitVecRef, ...]
    """:data:`VARUINT_MAX_SIZE` bytes; the encoding is the first ``length``, the rest are zero."""


class VarUintDecoding(NamedTuple):
    """What :func:`decode_model` returns."""

    accepted: z3.BoolRef
    """The spec returns a value rather than rejecting with NON_CANONICAL_VARUINT."""
    value: z3.BitVecRef
    """64-bit: the value the bytes denote under their marker (also when rejected)."""
    consumed: z3.BitVecRef
    """8-bit: bytes read, marker included."""


def _byte(v: int) -> z3.BitVecRef:
    return z3.BitVecVal(v, 8)


def _little_endian(data: Sequence[z3.BitVecRef]) -> z3.BitVecRef:
    """The 64-bit value of up to 8 little-endian bytes."""
    word = data[0] if len(data) == 1 else z3.Concat(*reversed(data))
    return z3.ZeroExt(64 - 8 * len(data), word)


def encode_model(x: z3.BitVecRef) -> VarUintEncoding:
    """Model of ``encode_varuint`` for a 64-bit ``x``: the marker chosen as the spec chooses it."""
    small = z3.ULT(x, VARUINT_U16_MARKER)
    fits16 = z3.ULE(x, U16_MAX)
    fits32 = z3.ULE(x, U32_MAX)
    length = z3.If(small, _byte(1), z3.If(fits16, _byte(3), z3.If(fits32, _byte(5), _byte(9))))
    marker = z3.If(small, z3.Extract(7, 0, x), z3.If(
        fits16, _byte(VARUINT_U16_MARKER), z3.If(fits32, _byte(VARUINT_U32_MARKER), _byte(VARUINT_U64_MARKER))))
    payload = tuple(
        z3.If(z3.ULT(_byte(i), length), z3.Extract(8 * i - 1, 8 * i - 8, x), _byte(0))
        for i in range(1, VARUINT_MAX_SIZE)
    )
    return VarUintEncoding(length, (marker, *payload))


def decode_model(buf: Sequence[z3.BitVecRef], canonical: bool = True) -> VarUintDecoding:
    """Model of ``read_varuint`` on a 9-byte buffer: marker, payload by marker, shortest-form check.

    ``canonical=False`` leaves out the ENC-003 check (every form is accepted): a deliberately wrong
    model, used by the tests to show that the framework finds and replays counterexamples.
    """
    if len(buf) != VARUINT_MAX_SIZE:
        raise ValueError(f"decode_model needs {VARUINT_MAX_SIZE} bytes, got {len(buf)}")
    marker = buf[0]
    value = z3.ZeroExt(56, marker)
    consumed = _byte(1)
    minimum = z3.BitVecVal(0, 64)
    for form_marker, size, form_minimum in VARUINT_FORMS:
        is_form = marker == form_marker
        value = z3.If(is_form, _little_endian(buf[1:1 + size]), value)
        consumed = z3.If(is_form, _byte(1 + size), consumed)
        minimum = z3.If(is_form, z3.BitVecVal(form_minimum, 64), minimum)
    accepted = z3.UGE(value, minimum) if canonical else z3.BoolVal(True)
    return VarUintDecoding(accepted, value, consumed)


def compare_model(a: Sequence[z3.BitVecRef], b: Sequence[z3.BitVecRef]) -> z3.ArithRef:
    """Model of ``compare_le``: from the last byte down, the first differing byte decides."""
    result: z3.ArithRef = z3.IntVal(0)
    for i in range(len(a)):  # byte 0 is the innermost test, the last byte the outermost
        result = z3.If(a[i] != b[i], z3.If(z3.ULT(a[i], b[i]), z3.IntVal(-1), z3.IntVal(1)), result)
    return result


def integer_order(a: Sequence[z3.BitVecRef], b: Sequence[z3.BitVecRef]) -> z3.ArithRef:
    """-1, 0, 1 by unsigned order of the little-endian integers of ``a`` and ``b``."""
    x, y = z3.Concat(*reversed(a)), z3.Concat(*reversed(b))
    return z3.If(z3.ULT(x, y), z3.IntVal(-1), z3.If(x == y, z3.IntVal(0), z3.IntVal(1)))


def is_encoding_of(buf: Sequence[z3.BitVecRef], consumed: z3.BitVecRef, value: z3.BitVecRef) -> z3.BoolRef:
    """The first ``consumed`` bytes of ``buf`` are exactly :func:`encode_model` of ``value``."""
    enc = encode_model(value)
    same = [z3.Implies(z3.ULT(_byte(i), consumed), enc.data[i] == buf[i]) for i in range(VARUINT_MAX_SIZE)]
    return z3.And(enc.length == consumed, *same)


# -- the models on concrete values (used by the correspondence tests) ---------------------------------


def evaluate_encode(x: int) -> tuple[int, bytes]:
    """:func:`encode_model` on the constant ``x``: ``(length, all 9 bytes)``."""
    enc = encode_model(z3.BitVecVal(x, 64))
    return concrete(enc.length), bytes(concrete(enc.data))


def evaluate_decode(buf: bytes, canonical: bool = True) -> tuple[bool, int, int]:
    """:func:`decode_model` on 9 constant bytes: ``(accepted, value, consumed)``."""
    dec = decode_model(tuple(_byte(b) for b in buf), canonical)
    return concrete(dec.accepted), concrete(dec.value), concrete(dec.consumed)


def evaluate_compare(a: bytes, b: bytes) -> int:
    """:func:`compare_model` on two constant byte strings of equal length."""
    return concrete(compare_model([_byte(x) for x in a], [_byte(x) for x in b]))


# -- replay through the spec and vector cases -----------------------------------------------------


def spec_read_varuint(buf: bytes) -> dict[str, Any]:
    """What ``read_varuint`` does with ``buf``: the bytes it read, and its value or rejection."""
    r = Reader(buf)
    try:
        value = read_varuint(r)
    except DecodeError as e:
        return {"bytes": buf[:r.position].hex(), "accepted": False, "reject": e.reason.value, "rule": e.rule}
    return {"bytes": buf[:r.position].hex(), "accepted": True, "value": str(value),
            "canonical": encode_varuint(value).hex()}


def _buffer(values: ModelValues) -> bytes:
    return bytes(values["buf"])


def replay_buffer(values: ModelValues) -> dict[str, Any]:
    """Replay a 9-byte buffer through ``read_varuint``."""
    return spec_read_varuint(_buffer(values))


def replay_value(values: ModelValues) -> dict[str, Any]:
    """Replay a value through ``encode_varuint`` then ``read_varuint``."""
    x = values["x"]
    encoded = encode_varuint(x)
    out = spec_read_varuint(encoded)
    out.update(x=str(x), encoded=encoded.hex(), roundtrip=out.get("value") == str(x) and out["bytes"] == encoded.hex())
    return out


def _case_name(proof_name: str, tag: str) -> str:
    return f"proof-{proof_name}-{tag}"


def _decode_case(proof_name: str, data: bytes) -> dict[str, Any]:
    return vector_case(
        "encoding/varuint_decode", _case_name(proof_name, data.hex()), {"bytes": data.hex()},
        ("ENC-003",), f"Found by proof {proof_name}.",
    )


def case_buffer(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case`` for a buffer model: the bytes ``read_varuint`` reads, as a varuint_decode case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        return _decode_case(proof_name, bytes.fromhex(spec_read_varuint(_buffer(values))["bytes"]))
    return to_case


def case_value(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case`` for a value model: the spec's encoding of the value, as a varuint_decode case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        return _decode_case(proof_name, encode_varuint(values["x"]))
    return to_case


def replay_order(values: ModelValues) -> dict[str, Any]:
    """Replay two byte strings through ``compare_le`` and integer order."""
    a, b = bytes(values["a"]), bytes(values["b"])
    x, y = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    return {"a": a.hex(), "b": b.hex(), "compare_le": compare_le(a, b), "integer_order": (x > y) - (x < y)}


def case_order(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case`` for a pair of 32-byte strings: a uint256_compare case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        a, b = bytes(values["a"]), bytes(values["b"])
        tag = hashlib.sha256(a + b).hexdigest()[:16]
        return vector_case("encoding/uint256_compare", _case_name(proof_name, tag), {"a": a.hex(), "b": b.hex()},
                           (), f"Found by proof {proof_name}.")
    return to_case


# -- queries (shared with the tests, which run them on a wrong model) -----------------------------------


def _buffer_input() -> tuple[z3.BitVecRef, ...]:
    return tuple(z3.BitVec(f"buf_{i}", 8) for i in range(VARUINT_MAX_SIZE))


def roundtrip_query() -> Query:
    """forall x: decode(encode(x)) accepts, yields x and consumes exactly the encoded length."""
    x = z3.BitVec("x", 64)
    enc = encode_model(x)
    dec = decode_model(enc.data)
    return Query(z3.And(dec.accepted, dec.value == x, dec.consumed == enc.length), {"x": x})


def shortest_query() -> Query:
    """forall buffers: the form used is at least as long as encode's form for the value it denotes."""
    buf = _buffer_input()
    dec = decode_model(buf)
    return Query(z3.UGE(dec.consumed, encode_model(dec.value).length), {"buf": buf})


def unique_query(canonical: bool = True) -> Query:
    """forall buffers: decode accepts iff the bytes it reads are encode's output for their value,
    and for a multi-byte marker iff the payload is at least the marker's minimum."""
    buf = _buffer_input()
    dec = decode_model(buf, canonical)
    minimum_ok = [z3.Implies(buf[0] == m, dec.accepted == z3.UGE(dec.value, minimum)) for m, _, minimum in VARUINT_FORMS]
    return Query(z3.And(dec.accepted == is_encoding_of(buf, dec.consumed, dec.value), *minimum_ok), {"buf": buf})


def order_query(size: int = UINT256_SIZE) -> Query:
    """forall byte strings a, b of ``size`` bytes: the compare loop equals little-endian integer order."""
    a = tuple(z3.BitVec(f"a_{i}", 8) for i in range(size))
    b = tuple(z3.BitVec(f"b_{i}", 8) for i in range(size))
    return Query(compare_model(a, b) == integer_order(a, b), {"a": a, "b": b})


# -- the proofs ---------------------------------------------------------------------------------------


@proof(
    name="varuint_roundtrip",
    statement="For every 64-bit x, read_varuint(encode_varuint(x)) accepts, returns x and consumes "
    "exactly the encoded bytes.",
    rules=("ENC-003",), about=_VARUINT_ABOUT, correspondence=_VARUINT_TESTS,
    replay=replay_value, to_case=case_value("varuint_roundtrip"),
)
def varuint_roundtrip() -> Query:
    """For all 2^64 values x: ``decode_model(encode_model(x).data)`` is accepted, its value is x and
    it consumes ``encode_model(x).length`` bytes, so the encoding is read back whole and nothing of
    the bytes after it.

    Tied to the spec by correspondence: ``encode_model`` equals ``encode_varuint`` and
    ``decode_model`` equals ``read_varuint`` (acceptance, value, bytes read) on random inputs and on
    every boundary of the format (tests named in ``correspondence``).
    """
    return roundtrip_query()


@proof(
    name="varuint_shortest",
    statement="encode_varuint(x) is the shortest form of x: no 1, 3, 5 or 9-byte form with a "
    "shorter length denotes x.",
    rules=("ENC-003",), about=_VARUINT_ABOUT, correspondence=_VARUINT_TESTS,
    replay=replay_buffer, to_case=case_buffer("varuint_shortest"),
)
def varuint_shortest() -> Query:
    """For all 2^72 buffers of 9 bytes: the bytes consumed by the form the marker selects (1, 3, 5
    or 9) are at least ``encode_model(v).length``, where v is the value the form denotes, accepted or
    not. So no form of the format writes any value in fewer bytes than ``encode_varuint`` does.

    Tied to the spec by correspondence: ``decode_model``'s denoted value and bytes consumed equal
    ``read_varuint``'s value and reader position, and ``int.from_bytes`` of the payload when the spec
    rejects; ``encode_model`` equals ``encode_varuint`` (tests named in ``correspondence``).
    """
    return shortest_query()


@proof(
    name="varuint_unique",
    statement="read_varuint accepts exactly the outputs of encode_varuint: after marker 0xFD/0xFE/0xFF "
    "it accepts iff the payload is at least the marker's minimum, so each value has one encoding.",
    rules=("ENC-003",), about=_VARUINT_ABOUT, correspondence=_VARUINT_TESTS,
    replay=replay_buffer, to_case=case_buffer("varuint_unique"),
)
def varuint_unique() -> Query:
    """For all 2^72 buffers of 9 bytes: ``decode_model`` accepts iff the bytes it consumes equal
    ``encode_model`` of the value they denote (same length, same bytes); and for each marker 0xFD,
    0xFE, 0xFF it accepts iff the payload is at least 0xFD, 0x10000, 0x100000000. With
    ``varuint_roundtrip`` this makes the accepted encodings exactly the image of ``encode_varuint``:
    every value has one and only one accepted encoding (ENC-003).

    Tied to the spec by correspondence: ``decode_model`` equals ``read_varuint`` on random markers
    and payloads and at every form's minimum and minimum - 1 (tests named in ``correspondence``).
    """
    return unique_query()


@proof(
    name="uint256_order",
    statement="compare_le on 32 bytes (from byte 31 down) equals unsigned order of "
    "int.from_bytes(x, 'little') for all 2^256 x 2^256 pairs.",
    rules=(), about=("spec.encoding.hashes.compare_le", "spec.encoding.hashes.Uint256.compare"),
    correspondence=(_TESTS + "test_compare_model_matches_spec", _TESTS + "test_compare_model_edges"),
    replay=replay_order, to_case=case_order("uint256_order"),
)
def uint256_order() -> Query:
    """For all pairs of 32-byte strings a, b: ``compare_model(a, b)``, the nested ``If`` chain of the
    spec's loop (byte 31 is tested first, the first differing byte decides by unsigned byte order),
    equals -1, 0 or 1 by ``ULT`` / equality of the 256-bit words ``Concat(a[31], ..., a[0])`` and
    ``Concat(b[31], ..., b[0])``, which are ``int.from_bytes(a, "little")`` and the same of b.

    Tied to the spec by correspondence: ``compare_model`` equals ``compare_le`` on random pairs, on
    pairs that differ in one chosen byte, and on the all-0x00 / all-0xff edges (tests named in
    ``correspondence``).
    """
    return order_query()
