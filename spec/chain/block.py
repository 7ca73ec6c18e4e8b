"""The block header and the block.

Upstream: ``Elastos.ELA/core/types/common/header.go``, ``core/types/block.go``.

Header
------

===  ====  ===========  ==================================================================
off  size  field        encoding
===  ====  ===========  ==================================================================
0    4     version      u32 (0 in every block upstream makes)
4    32    previous     Uint256, stored order
36   32    merkle_root  Uint256, stored order
68   4     timestamp    u32, Unix seconds
72   4     bits         u32, compact target
76   4     nonce        u32 (not checked: the proof of work is in the AuxPoW)
80   4     height       u32
84   var   auxpow       :class:`~spec.chain.auxpow.AuxPow`
end  1     trailer      written as ``0x01``; read and ignored
===  ====  ===========  ==================================================================

The **block hash** is ``sha256d`` of the first 84 bytes: the AuxPoW and the trailer are not part
of it. A **block** is the header, a **u32** transaction count (fixed 4 bytes, not a VarUint), and
the transactions.
"""

from __future__ import annotations

from typing import Annotated, Final, Protocol, Self

from pydantic import Field

from spec.chain.auxpow import AuxPow
from spec.chain.tx import Transaction
from spec.crypto.hashes import sha256d
from spec.encoding.primitives import Reader, encode_int, read_u8, read_u32
from spec.model import SpecModel

HEADER_BASE_SIZE: Final = 84
"""Bytes of the header the block hash covers."""
HEADER_TRAILER: Final = 0x01
"""The byte upstream writes after the AuxPoW."""

Hash32 = Annotated[bytes, Field(min_length=32, max_length=32)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]


class _HeaderBase(Protocol):
    version: int
    previous: bytes
    merkle_root: bytes
    timestamp: int
    bits: int
    nonce: int
    height: int


def encode_header_base(h: _HeaderBase) -> bytes:
    """The 84-byte base every ELA-family header hashes (``SerializeNoAux``): version, previous, merkle
    root, timestamp, bits, nonce and height, the integers u32 little-endian. The main chain's
    :class:`Header` and the sidechain's header share it; only what follows (the AuxPoW) differs."""
    return (encode_int(h.version, "u32") + h.previous + h.merkle_root + encode_int(h.timestamp, "u32")
            + encode_int(h.bits, "u32") + encode_int(h.nonce, "u32") + encode_int(h.height, "u32"))


def read_header_base(r: Reader) -> dict[str, int | bytes]:
    """Read the 84-byte base (:func:`encode_header_base`) as the header's fields by name."""
    return {"version": read_u32(r, "header version"), "previous": r.read(32, "header previous"),
            "merkle_root": r.read(32, "header merkle root"), "timestamp": read_u32(r, "header timestamp"),
            "bits": read_u32(r, "header bits"), "nonce": read_u32(r, "header nonce"),
            "height": read_u32(r, "header height")}


class Header(SpecModel):
    """A main-chain block header with its AuxPoW."""

    version: U32 = 0
    previous: Hash32
    """Hash of the parent block, stored order (all zero in genesis)."""
    merkle_root: Hash32
    """Merkle root of the block's txids (:func:`spec.chain.merkle.merkle_root`)."""
    timestamp: U32
    bits: U32
    """The compact target the AuxPoW's parent header must meet."""
    nonce: U32 = 0
    height: U32
    auxpow: AuxPow
    """The Bitcoin merged-mining proof."""
    trailer: Annotated[int, Field(ge=0, le=0xFF)] = HEADER_TRAILER
    """Quirk: upstream reads one byte after the AuxPoW and ignores its value; the spec keeps it so that
    decoding and encoding are inverse, and it never affects the hash or validity."""

    def serialize_base(self) -> bytes:
        """The 84 bytes the block hash covers (``SerializeNoAux``)."""
        return encode_header_base(self)

    def hash(self) -> bytes:
        """The block hash, stored order."""
        return sha256d(self.serialize_base())

    def serialize(self) -> bytes:
        return self.serialize_base() + self.auxpow.serialize() + bytes((self.trailer,))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        base = read_header_base(r)
        auxpow = AuxPow.deserialize(r)
        return cls(**base, auxpow=auxpow, trailer=read_u8(r, "header trailer"))


class Block(SpecModel):
    """A block: the header and its transactions (the coinbase first)."""

    header: Header
    transactions: tuple[Transaction, ...]

    def hash(self) -> bytes:
        return self.header.hash()

    def txids(self) -> list[bytes]:
        return [tx.txid() for tx in self.transactions]

    def serialize(self) -> bytes:
        return (self.header.serialize() + encode_int(len(self.transactions), "u32")
                + b"".join(tx.serialize() for tx in self.transactions))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        header = Header.deserialize(r)
        count = read_u32(r, "transaction count")
        return cls(header=header, transactions=tuple(Transaction.deserialize(r) for _ in range(count)))

    def size(self) -> int:
        return len(self.serialize())


def decode_block(data: bytes) -> Block:
    """A complete block (no trailing bytes)."""
    return Block.decode(data)
