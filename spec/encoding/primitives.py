"""Serialization primitives of the ELA wire format.

Every fixed-width integer is little-endian. Variable-length integers are Bitcoin's CompactSize,
read canonically. Variable-length byte strings are a VarUint length followed by the bytes, with a
maximum per field. Upstream: ``Elastos.ELA/common/serialize.go``.

All readers take a :class:`Reader` and consume from it; a decoder of a complete object finishes
with :meth:`Reader.finish`, so that trailing bytes are rejected.

Constants
---------

=========================  ====================  ===================================================
name                       value                 meaning
=========================  ====================  ===================================================
``MAX_VAR_STRING_LENGTH``  16 777 216 (16 MiB)   upper bound of a VarString (``MaxVarStringLength``)
``VARUINT_U16_MARKER``     ``0xFD``              prefix of a VarUint carried in a u16
``VARUINT_U32_MARKER``     ``0xFE``              prefix of a VarUint carried in a u32
``VARUINT_U64_MARKER``     ``0xFF``              prefix of a VarUint carried in a u64
=========================  ====================  ===================================================
"""

from __future__ import annotations

from typing import Final

from spec.errors import DecodeError, Reason, Reject, rule

MAX_VAR_STRING_LENGTH: Final = 16 * 1024 * 1024
VARUINT_U16_MARKER: Final = 0xFD
VARUINT_U32_MARKER: Final = 0xFE
VARUINT_U64_MARKER: Final = 0xFF

U8_MAX: Final = 0xFF
U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFF_FFFF
U64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
I64_MIN: Final = -(1 << 63)
I64_MAX: Final = (1 << 63) - 1
I32_MIN: Final = -(1 << 31)
I32_MAX: Final = (1 << 31) - 1

FIXED_INT_TYPES: Final = {
    # name: (size in bytes, signed)
    "u8": (1, False),
    "u16": (2, False),
    "u32": (4, False),
    "u64": (8, False),
    "i32": (4, True),
    "i64": (8, True),
}
"""The fixed-width integer types of the wire format, all little-endian."""

R_TRUNCATED = rule(
    "ENC-001", Reason.TRUNCATED,
    "A field is read only when all of its bytes are present.",
    suite="encoding", upstream="io.ErrUnexpectedEOF / io.EOF from io.ReadFull",
)
R_TRAILING = rule(
    "ENC-002", Reason.TRAILING_BYTES,
    "A complete object is the whole input: no bytes may follow it.",
    suite="encoding",
    note="Deviation: upstream readers stop where an object ends; the spec's top-level decoders require the "
    "input to end there too, so that one byte string has one meaning.",
)
R_VARUINT_CANONICAL = rule(
    "ENC-003", Reason.NON_CANONICAL_VARUINT,
    "A VarUint uses its shortest form: 0xFD only for values >= 0xFD, 0xFE only for values "
    ">= 0x10000, 0xFF only for values >= 0x100000000.",
    suite="encoding", upstream="ReadVarUint: errNonCanonicalVarInt",
)
R_MAX_LENGTH = rule(
    "ENC-004", Reason.LENGTH_EXCEEDS_MAX,
    "The length prefix of a VarBytes or VarString is at most the field's maximum.",
    suite="encoding", upstream="ReadVarBytes: \"<field> is larger than the max allowed size\"",
)
R_RANGE = rule(
    "ENC-005", Reason.VALUE_OUT_OF_RANGE,
    "An integer is written only as a type whose range contains it.",
    suite="encoding",
)


class Reader:
    """A cursor over an immutable byte string; every read is bounds-checked."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    @property
    def position(self) -> int:
        """Number of bytes consumed so far."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Number of bytes not yet consumed."""
        return len(self._data) - self._pos

    def read(self, n: int, what: str = "field") -> bytes:
        """Consume exactly ``n`` bytes."""
        # [ENC-001] a field is read only when all of its bytes are present
        if n > len(self._data) - self._pos:
            raise DecodeError(
                Reason.TRUNCATED, "ENC-001",
                f"{what}: need {n} bytes at offset {self._pos}, have {len(self._data) - self._pos}",
            )
        start = self._pos
        self._pos += n
        return self._data[start:self._pos]

    def since(self, start: int) -> bytes:
        """The bytes consumed from offset ``start`` up to the current position."""
        return self._data[start:self._pos]

    def finish(self, what: str = "object") -> None:
        """Assert that the whole input has been consumed."""
        # [ENC-002] a complete object is the whole input
        if self._pos != len(self._data):
            raise DecodeError(
                Reason.TRAILING_BYTES, "ENC-002",
                f"{what}: {len(self._data) - self._pos} bytes follow the end at offset {self._pos}",
            )


# -- fixed-width integers ----------------------------------------------------------------------


def read_int(r: Reader, type_name: str, what: str = "integer") -> int:
    """Read one fixed-width little-endian integer of ``type_name`` (see :data:`FIXED_INT_TYPES`)."""
    size, signed = FIXED_INT_TYPES[type_name]
    return int.from_bytes(r.read(size, what), "little", signed=signed)


def encode_int(value: int, type_name: str) -> bytes:
    """Write ``value`` as the fixed-width little-endian type ``type_name``."""
    size, signed = FIXED_INT_TYPES[type_name]
    lo = -(1 << (8 * size - 1)) if signed else 0
    hi = (1 << (8 * size - 1)) - 1 if signed else (1 << (8 * size)) - 1
    # [ENC-005] an integer is written only as a type whose range contains it
    if not lo <= value <= hi:
        raise Reject(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"{value} does not fit {type_name}")
    return value.to_bytes(size, "little", signed=signed)


def read_u8(r: Reader, what: str = "u8") -> int:
    return r.read(1, what)[0]


def read_u16(r: Reader, what: str = "u16") -> int:
    return int.from_bytes(r.read(2, what), "little")


def read_u32(r: Reader, what: str = "u32") -> int:
    return int.from_bytes(r.read(4, what), "little")


def read_u64(r: Reader, what: str = "u64") -> int:
    return int.from_bytes(r.read(8, what), "little")


def read_i32(r: Reader, what: str = "i32") -> int:
    return int.from_bytes(r.read(4, what), "little", signed=True)


def read_i64(r: Reader, what: str = "i64") -> int:
    return int.from_bytes(r.read(8, what), "little", signed=True)


def read_bool(r: Reader, what: str = "bool") -> bool:
    """Read a one-byte boolean.

    Quirk: any non-zero byte reads as ``True`` (``Elastos.ELA/common/serialize.go`` ``ReadBool``
    compares with zero); ``encode_bool`` writes only ``0x00`` and ``0x01``.
    """
    return r.read(1, what)[0] != 0


def encode_bool(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


# -- VarUint ------------------------------------------------------------------------------------


def varuint_size(value: int) -> int:
    """The number of bytes of the canonical VarUint encoding of ``value``."""
    if value < VARUINT_U16_MARKER:
        return 1
    if value <= U16_MAX:
        return 3
    if value <= U32_MAX:
        return 5
    return 9


def encode_varuint(value: int) -> bytes:
    """The shortest VarUint encoding of ``value`` (Bitcoin CompactSize)."""
    # [ENC-005] an integer is written only as a type whose range contains it
    if not 0 <= value <= U64_MAX:
        raise Reject(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"VarUint {value} outside [0, 2^64-1]")
    if value < VARUINT_U16_MARKER:
        return bytes((value,))
    if value <= U16_MAX:
        return b"\xfd" + value.to_bytes(2, "little")
    if value <= U32_MAX:
        return b"\xfe" + value.to_bytes(4, "little")
    return b"\xff" + value.to_bytes(8, "little")


def read_varuint(r: Reader, what: str = "varuint") -> int:
    """Read a VarUint, rejecting any encoding that is not the shortest."""
    marker = r.read(1, what)[0]
    if marker < VARUINT_U16_MARKER:
        return marker
    if marker == VARUINT_U16_MARKER:
        value, minimum = int.from_bytes(r.read(2, what), "little"), VARUINT_U16_MARKER
    elif marker == VARUINT_U32_MARKER:
        value, minimum = int.from_bytes(r.read(4, what), "little"), U16_MAX + 1
    else:
        value, minimum = int.from_bytes(r.read(8, what), "little"), U32_MAX + 1
    # [ENC-003] a VarUint uses its shortest form
    if value < minimum:
        raise DecodeError(
            Reason.NON_CANONICAL_VARUINT, "ENC-003",
            f"{what}: value {value:#x} after marker {marker:#x} must be >= {minimum:#x}",
        )
    return value


# -- VarBytes / VarString -------------------------------------------------------------------------


def encode_varbytes(data: bytes) -> bytes:
    """A VarUint length followed by ``data``."""
    return encode_varuint(len(data)) + bytes(data)


def read_varbytes(r: Reader, max_length: int, what: str = "varbytes") -> bytes:
    """Read a VarBytes whose length may not exceed ``max_length``.

    The maximum is checked before any data is read, so a huge length prefix costs nothing.
    """
    length = read_varuint(r, what)
    # [ENC-004] the length prefix is at most the field's maximum
    if length > max_length:
        raise DecodeError(
            Reason.LENGTH_EXCEEDS_MAX, "ENC-004", f"{what}: length {length} exceeds maximum {max_length}"
        )
    return r.read(length, what)


def encode_varstring(text: bytes) -> bytes:
    """A VarString is a VarBytes; the spec carries its content as raw bytes."""
    return encode_varbytes(text)


def read_varstring(r: Reader, max_length: int = MAX_VAR_STRING_LENGTH, what: str = "varstring") -> bytes:
    """Read a VarString (at most 16 MiB unless the field says less).

    Quirk: upstream converts the bytes with Go's ``string(buf)``, which does not check UTF-8, so a
    VarString may hold any bytes; the spec returns them unchanged and leaves text interpretation to
    the field that uses them.
    """
    return read_varbytes(r, max_length, what)
