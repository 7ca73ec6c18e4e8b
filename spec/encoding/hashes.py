"""Fixed-size hash values: ``Uint256`` (hashes, asset IDs) and ``Uint168`` (program hashes).

``Uint256`` is 32 raw bytes written and read as they are. The spec treats the **stored bytes** as
canonical; the display form used by the RPC and by configuration files is the hex of the reversed
bytes. Ordering compares the value as a little-endian integer (from byte 31 down), as upstream's
``Uint256.Compare`` does. Upstream: ``Elastos.ELA/common/uint256.go``, ``uint168.go``,
``uint160.go``.

``Uint168`` is ``prefix(1) || hash160(code)(20)``: the prefix says what kind of script owns it
(see :mod:`spec.encoding.address`).
"""

from __future__ import annotations

from typing import Annotated, Final, Self

from pydantic import Field

from spec.crypto.hashes import hash160
from spec.encoding.primitives import Reader
from spec.errors import DecodeError, Reason, rule
from spec.model import SpecModel

UINT256_SIZE: Final = 32
UINT168_SIZE: Final = 21
UINT160_SIZE: Final = 20

R_FIXED_SIZE = rule(
    "ENC-006", Reason.WRONG_LENGTH,
    "A Uint256 is exactly 32 bytes, a Uint168 exactly 21, a Uint160 exactly 20.",
    suite="encoding", upstream="Uint256FromBytes / Uint168FromBytes: \"invalid length\"",
)
R_HEX = rule(
    "ENC-007", Reason.INVALID_HEX,
    "A hash given as text is an even-length string of hexadecimal digits.",
    suite="encoding", upstream="hex.DecodeString error",
)


def parse_hex(text: str, what: str = "hex") -> bytes:
    """Decode a hex string (either case); reject anything else."""
    # [ENC-007] a hash given as text is an even-length string of hexadecimal digits
    if len(text) % 2 != 0 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise DecodeError(Reason.INVALID_HEX, "ENC-007", f"{what}: not an even-length hex string")
    return bytes.fromhex(text)


def _check_size(data: bytes, size: int, what: str) -> None:
    # [ENC-006] a fixed-size hash has exactly its size
    if len(data) != size:
        raise DecodeError(Reason.WRONG_LENGTH, "ENC-006", f"{what}: {len(data)} bytes, need {size}")


def compare_le(a: bytes, b: bytes) -> int:
    """Compare two equal-length byte strings as little-endian integers (-1, 0, 1).

    This is upstream's ``Compare`` loop, from the last byte down; proof ``uint256_order`` shows it
    equals integer order of ``int.from_bytes(x, "little")``.
    """
    for i in range(len(a) - 1, -1, -1):
        if a[i] != b[i]:
            return -1 if a[i] < b[i] else 1
    return 0


class Uint256(SpecModel):
    """A 32-byte hash in stored byte order."""

    data: Annotated[bytes, Field(min_length=UINT256_SIZE, max_length=UINT256_SIZE)]
    """The 32 stored bytes, exactly as on the wire."""

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_size(data, UINT256_SIZE, "Uint256")
        return cls(data=bytes(data))

    @classmethod
    def from_display(cls, text: str) -> Self:
        """Parse the display form (hex of the reversed bytes), as ``Uint256FromReversedHexString``."""
        raw = parse_hex(text, "Uint256 display")
        _check_size(raw, UINT256_SIZE, "Uint256")
        return cls(data=raw[::-1])

    def display(self) -> str:
        """Hex of the reversed bytes: the form the RPC shows."""
        return self.data[::-1].hex()

    def compare(self, other: "Uint256") -> int:
        """Order as little-endian integers: -1, 0 or 1."""
        return compare_le(self.data, other.data)

    def serialize(self) -> bytes:
        return self.data

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(data=r.read(UINT256_SIZE, "Uint256"))


class Uint168(SpecModel):
    """A 21-byte program hash: prefix byte then the hash160 of the redeem script."""

    data: Annotated[bytes, Field(min_length=UINT168_SIZE, max_length=UINT168_SIZE)]
    """The 21 bytes: ``prefix || hash160(code)``."""

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_size(data, UINT168_SIZE, "Uint168")
        return cls(data=bytes(data))

    @classmethod
    def from_code(cls, prefix: int, code: bytes) -> Self:
        """``ToProgramHash(prefix, code)``: ``prefix || hash160(code)``."""
        return cls(data=bytes((prefix,)) + hash160(code))

    @property
    def prefix(self) -> int:
        """The first byte: what kind of contract owns the hash."""
        return self.data[0]

    @property
    def code_hash(self) -> bytes:
        """``ToCodeHash``: the 20 bytes after the prefix (a ``Uint160``)."""
        return self.data[1:]

    def compare(self, other: "Uint168") -> int:
        """Order as little-endian integers, as upstream's ``Uint168.Compare``."""
        return compare_le(self.data, other.data)

    def serialize(self) -> bytes:
        return self.data

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(data=r.read(UINT168_SIZE, "Uint168"))
