"""The sidechain header, its SideAuxPow, and the triple merge-mining check.

A sidechain block is proved by **one Bitcoin proof of work** that also proves a main-chain (ELA) block:
the Bitcoin parent header commits (through the main header's AuxPoW) to the ELA block, whose
transactions include a ``SideChainPow`` transaction naming the sidechain block's hash.

Upstream: ``Elastos.ELA.SideChain/types/header.go``, ``types/block.go``, ``auxpow/sideauxpow.go``,
``blockchain/validator.go`` (``checkHeader``, ``checkProofOfWork``).

Sidechain header
----------------

===  ====  ==============  ===============================================================
off  size  field           encoding
===  ====  ==============  ===============================================================
0    84    base            as the main chain's header base (version .. height); the **block
                           hash** is ``sha256d`` of these 84 bytes
84   var   side_auxpow     :class:`SideAuxPow`
end  1     trailer         written as ``0x01``; read and ignored
===  ====  ==============  ===============================================================

SideAuxPow
----------

==========================  ====================================================================
field                       encoding
==========================  ====================================================================
``side_aux_block_tx``       a main-chain transaction (:class:`~spec.chain.tx.Transaction`), type
                            ``SideChainPow`` (0x05)
branch                      **u32** count (not a VarUint), then that many 32-byte hashes
``side_aux_merkle_index``   **u32**
``main_block_header``       a full main-chain header (:class:`~spec.chain.block.Header`: base,
                            Bitcoin AuxPoW, trailer)
==========================  ====================================================================

The triple check (``SideAuxPowCheck`` then ``checkProofOfWork``), in order:

1. the main header's AuxPoW proves the main header's hash (chain id 1224): AUX-001..011;
2. SAUX-001: the transaction is a ``SideChainPow``;
3. SAUX-002: folding the transaction's txid with the branch at the index gives the main header's
   merkle root (the plain transaction tree, :func:`spec.chain.merkle.merkle_branch_root`);
4. SAUX-003: the payload's first 32 bytes (``side_block_hash``) are the sidechain header's hash;
5. POW-001..003 with the **sidechain's** bits: the Bitcoin parent header's hash is at most the
   sidechain target, which is positive and at most the sidechain's PowLimit.
"""

from __future__ import annotations

from typing import Annotated, Final, Self

from pydantic import Field

from spec.chain.auxpow import AUXPOW_CHAIN_ID, check_auxpow
from spec.chain.block import HEADER_TRAILER, Header, encode_header_base, read_header_base
from spec.chain.merkle import merkle_branch_root
from spec.chain.pow import check_proof_of_work
from spec.chain.tx import SideChainPowPayload, Transaction, TxType
from spec.crypto.hashes import sha256d
from spec.encoding.primitives import Reader, encode_int, read_u8, read_u32
from spec.errors import Reason, Reject, rule
from spec.model import SpecModel
from spec.sidechain.tx import SideTransaction

__all__ = ["SideAuxPow", "SideHeader", "SideBlock", "check_side_auxpow", "check_side_header",
           "MAX_SIDE_HEADER_SIZE", "MAX_SIDE_TX_PER_BLOCK"]

MAX_SIDE_HEADER_SIZE: Final = 2_000_000
"""``types.MaxBlockHeaderSize``: the largest serialized sidechain header."""
MAX_SIDE_TX_PER_BLOCK: Final = 100_000
"""``types.MaxTxPerBlock``."""

Hash32 = Annotated[bytes, Field(min_length=32, max_length=32)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]

R_TX_TYPE = rule(
    "SAUX-001", Reason.SIDE_AUX_NOT_SIDECHAIN_POW,
    "The SideAuxPow's transaction is a SideChainPow (type 0x05).",
    suite="sidechain", upstream="SideAuxPowCheck: Payload.Data of a SideChainPow (other types fail)",
)
R_MERKLE = rule(
    "SAUX-002", Reason.SIDE_AUX_MERKLE,
    "The SideChainPow transaction's txid, folded with the SideAuxPow branch at its index, gives the main "
    "header's merkle root.",
    suite="sidechain", upstream="SideAuxPowCheck: \"sideAuxPowMerkleRoot check is failed\"",
)
R_BLOCK_HASH = rule(
    "SAUX-003", Reason.SIDE_AUX_BLOCK_HASH,
    "The SideChainPow payload's side_block_hash is the sidechain header's hash.",
    suite="sidechain", upstream="SideAuxPowCheck: \"payloadHash is not equal to hashAuxBlock\"",
)
R_HEADER_SIZE = rule(
    "SBLK-001", Reason.SIDE_HEADER_TOO_LARGE,
    f"A serialized sidechain header is at most {MAX_SIDE_HEADER_SIZE} bytes.",
    suite="sidechain", upstream="checkHeader: \"checkHeader header is too big\"",
)


class SideAuxPow(SpecModel):
    """The proof that a main-chain block (itself merge-mined with Bitcoin) commits to a sidechain block."""

    side_aux_block_tx: Transaction
    """The main-chain SideChainPow transaction naming the sidechain block."""
    side_aux_merkle_branch: tuple[Hash32, ...] = ()
    """The transaction's merkle branch in the main block, bottom level first."""
    side_aux_merkle_index: U32 = 0
    """The transaction's position in the main block."""
    main_block_header: Header
    """The main-chain header (with its Bitcoin AuxPoW) whose merkle root the branch reaches."""

    def serialize(self) -> bytes:
        return (self.side_aux_block_tx.serialize() + encode_int(len(self.side_aux_merkle_branch), "u32")
                + b"".join(self.side_aux_merkle_branch) + encode_int(self.side_aux_merkle_index, "u32")
                + self.main_block_header.serialize())

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        tx = Transaction.deserialize(r)
        count = read_u32(r, "side auxpow branch count")
        branch = tuple(r.read(32, "side auxpow branch hash") for _ in range(count))
        index = read_u32(r, "side auxpow merkle index")
        return cls(side_aux_block_tx=tx, side_aux_merkle_branch=branch, side_aux_merkle_index=index,
                   main_block_header=Header.deserialize(r))


class SideHeader(SpecModel):
    """A sidechain block header with its SideAuxPow."""

    version: U32 = 0
    previous: Hash32
    merkle_root: Hash32
    timestamp: U32
    bits: U32
    """The sidechain's compact target (its own retarget, as the main chain's)."""
    nonce: U32 = 0
    height: U32
    side_auxpow: SideAuxPow
    trailer: Annotated[int, Field(ge=0, le=0xFF)] = HEADER_TRAILER
    """Quirk: read and ignored, as the main chain's (kept so that decode and encode are inverse)."""

    def serialize_base(self) -> bytes:
        """The 84-byte base the hash covers, laid out as the main chain's (:func:`~spec.chain.block.encode_header_base`)."""
        return encode_header_base(self)

    def hash(self) -> bytes:
        """The sidechain block hash, stored order: ``sha256d`` of the 84-byte base."""
        return sha256d(self.serialize_base())

    def serialize(self) -> bytes:
        return self.serialize_base() + self.side_auxpow.serialize() + bytes((self.trailer,))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        base = read_header_base(r)
        aux = SideAuxPow.deserialize(r)
        return cls(**base, side_auxpow=aux, trailer=read_u8(r, "header trailer"))


class SideBlock(SpecModel):
    """A sidechain block: the header, a **u32** transaction count and the sidechain's transactions
    (:class:`~spec.sidechain.tx.SideTransaction`)."""

    header: SideHeader
    transactions: tuple[SideTransaction, ...]

    def hash(self) -> bytes:
        return self.header.hash()

    def serialize(self) -> bytes:
        return (self.header.serialize() + encode_int(len(self.transactions), "u32")
                + b"".join(tx.serialize() for tx in self.transactions))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        header = SideHeader.deserialize(r)
        count = read_u32(r, "transaction count")
        return cls(header=header, transactions=tuple(SideTransaction.deserialize(r) for _ in range(count)))


def check_side_auxpow(aux: SideAuxPow, side_hash: bytes) -> None:
    """``SideAuxPow.SideAuxPowCheck(sideHash)``: the main header is merge-mined, it contains the
    SideChainPow transaction, and that transaction names ``side_hash``."""
    main = aux.main_block_header
    check_auxpow(main.auxpow, main.hash(), AUXPOW_CHAIN_ID)
    tx = aux.side_aux_block_tx
    # [SAUX-001] the transaction is a SideChainPow
    if tx.tx_type != TxType.SIDECHAIN_POW or not isinstance(tx.payload, SideChainPowPayload):
        raise Reject(Reason.SIDE_AUX_NOT_SIDECHAIN_POW, "SAUX-001", f"transaction type {int(tx.tx_type):#04x}")
    root = merkle_branch_root(tx.txid(), aux.side_aux_merkle_branch, aux.side_aux_merkle_index)
    # [SAUX-002] the branch reaches the main header's merkle root
    if root != main.merkle_root:
        raise Reject(Reason.SIDE_AUX_MERKLE, "SAUX-002", "sideAuxPowMerkleRoot check is failed")
    # [SAUX-003] the payload names this sidechain block
    if tx.payload.side_block_hash != side_hash:
        raise Reject(Reason.SIDE_AUX_BLOCK_HASH, "SAUX-003", "payloadHash is not equal to hashAuxBlock")


def check_side_header(header: SideHeader, pow_limit: int) -> None:
    """``checkHeader`` up to the chain-state checks: size, the triple check, the sidechain's proof of work."""
    size = len(header.serialize())
    # [SBLK-001] the header is at most MaxBlockHeaderSize bytes
    if size > MAX_SIDE_HEADER_SIZE:
        raise Reject(Reason.SIDE_HEADER_TOO_LARGE, "SBLK-001", f"{size} bytes")
    check_side_auxpow(header.side_auxpow, header.hash())
    parent = header.side_auxpow.main_block_header.auxpow.par_block_header
    check_proof_of_work(parent.hash(), header.bits, pow_limit)
