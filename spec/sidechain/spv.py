"""The SPV merkle proof of a RechargeToSideChain v0: a main-chain transaction proved to be in a main block.

A v0 recharge carries the main-chain deposit itself and a ``MerkleProof`` (``Elastos.ELA/elanet/bloom``):
the block's hash and height, the block's transaction count and a Bitcoin *partial merkle tree* (BIP 37's
``merkleblock``: hashes in depth-first order and one flag bit per visited node). The sidechain looks the
block up in its store of main-chain headers (upstream: the SPV module's header store), rebuilds the root
from the partial tree and requires it to be the header's merkle root and the carried transaction to be
one of the leaves the tree marks (``spvservice.VerifyTransaction`` -> ``bloom.CheckMerkleBlock``).

Wire layout (``MerkleProof.Serialize``)
---------------------------------------

==============  ================================================================
field           encoding
==============  ================================================================
BlockHash       32 bytes, stored order
Height          u32
Transactions    u32: how many transactions the block has
Hashes          **u32** count (at most ``MaxTxPerBlock`` = 10000), then 32 bytes each
Flags           varbytes, at most ``MaxTxPerBlock / 8`` = 1250 bytes; bit ``i`` of the
                traversal is bit ``i % 8`` of byte ``i // 8`` (least significant first)
==============  ================================================================

The partial tree
----------------

``width(h) = ceil(Transactions / 2^h)`` nodes sit at height ``h``; the root is at the least ``H`` with
``width(H) = 1``. The traversal starts at the root and, for each node it visits, reads one flag bit:

* at a leaf, or with flag 0: the node's hash is the next hash of the list; a leaf with flag 1 is a
  *matched* transaction;
* otherwise (an inner node with flag 1): visit the left child, then the right child if it exists
  (``2 pos + 1 < width(h - 1)``); the node is ``sha256d(left || right)``, or ``sha256d(left || left)``
  without a right child.

Rules
-----

* SPV-001 the proof decodes (sizes in range, nothing after it);
* SPV-002 the carried main-chain transaction decodes;
* SPV-003 the proof's block is a block of the main chain;
* SPV-004 the proof's height is that block's height;
* SPV-005 the tree is not empty: ``Transactions > 0``, at least one flag byte and at most
  ``Transactions`` hashes;
* SPV-006 the traversal uses every hash and every flag bit, and the bits after the last one used (to the
  end of its byte) are zero;
* SPV-007 no inner node has two equal children (CVE-2012-2459);
* SPV-008 the rebuilt root is the block's merkle root;
* SPV-009 the carried transaction is a matched leaf.

Deviation: upstream's ``CheckMerkleBlock`` stops when the root is complete and ignores hashes and flag
bits left over, ignores the Height field, and reads the proof from a reader that may hold more bytes. The
spec rejects all three (SPV-001, SPV-004, SPV-006), as Bitcoin Core's ``CPartialMerkleTree`` does for the
first two: otherwise one proof has many encodings, and a recharge (whose txid covers the proof) many
txids. The transaction count stays bound only as far as the traversal visits (as in Bitcoin): a count
that changes no visited node's shape rebuilds the same root. A proof built by upstream's
``NewMerkleBlock`` passes every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Final, Self

from pydantic import Field

from spec.chain.block import Header
from spec.chain.merkle import merkle_parent
from spec.chain.tx import Transaction
from spec.encoding.primitives import Reader, encode_int, encode_varbytes, read_u32, read_varbytes
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

__all__ = ["MAX_TX_PER_BLOCK", "MAX_FLAG_BYTES", "MerkleProof", "build_merkle_proof", "extract_matches",
           "check_merkle_proof", "check_recharge_proof"]

MAX_TX_PER_BLOCK: Final = 10_000
"""``pact.MaxTxPerBlock``: the most hashes a proof may carry."""
MAX_FLAG_BYTES: Final = MAX_TX_PER_BLOCK // 8
"""``maxFlagsPerMerkleProof``: the most flag bytes a proof may carry."""

_S = "sidechain"
_UP = "checkRechargeToSideChainTransaction"
_SPV = "spvservice.VerifyTransaction"
rule("SPV-001", Reason.DEPOSIT_PROOF_MALFORMED, "A recharge v0's merkle proof decodes: at most 10000 hashes, at most "
     "1250 flag bytes, and nothing after it.", suite=_S,
     upstream=f"{_UP}: \"RechargeToSideChain payload deserialize failed\" (MerkleProof.Deserialize)",
     note="Deviation: upstream ignores bytes after the proof; the spec refuses them.")
rule("SPV-002", Reason.DEPOSIT_PROOF_MALFORMED, "A recharge v0's main-chain transaction decodes, with nothing after it.",
     suite=_S, upstream=f"{_UP}: \"RechargeToSideChain mainChainTransaction deserialize failed\"")
rule("SPV-003", Reason.DEPOSIT_PROOF_BLOCK, "A merkle proof names a block of the main chain.", suite=_S,
     upstream=f"{_SPV}: \"can not get block from main chain\"")
rule("SPV-004", Reason.DEPOSIT_PROOF_BLOCK, "A merkle proof's height is its block's height.", suite=_S,
     note="Deviation: upstream carries the height but does not check it.")
rule("SPV-005", Reason.DEPOSIT_PROOF_TREE, "A merkle proof's tree is not empty: at least one transaction, at least one "
     "flag byte, and no more hashes than transactions.", suite=_S,
     upstream="bloom.CheckMerkleBlock: \"No transactions in merkleblock\" / \"No flag bits\"")
rule("SPV-006", Reason.DEPOSIT_PROOF_TREE, "A merkle proof's traversal uses every hash and flag bit it carries, and "
     "the bits after the last one used are zero.", suite=_S,
     upstream="bloom.CheckMerkleBlock: \"Ran out of hashes at position %d.\" / \"Ran out of flag bits.\"",
     note="Deviation: upstream ignores hashes and flag bits left over; the spec refuses them (one encoding per proof).")
rule("SPV-007", Reason.DEPOSIT_PROOF_TREE, "No inner node of a merkle proof has two equal children (CVE-2012-2459).",
     suite=_S, upstream="bloom.MakeMerkleParent: \"DUP HASH CRASH\"")
rule("SPV-008", Reason.DEPOSIT_PROOF_ROOT, "A merkle proof's rebuilt root is its block's merkle root.", suite=_S,
     upstream="bloom.CheckMerkleBlock: \"computed root %s but expect %s\"")
rule("SPV-009", Reason.DEPOSIT_PROOF_TX, "The recharge's main-chain transaction is a leaf its merkle proof matches.",
     suite=_S, upstream=f"{_SPV}: \"transaction hash not match proof\" / \"invalid transaction proof, no "
     "transactions found\"")

Hash32 = Annotated[bytes, Field(min_length=32, max_length=32)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]


class MerkleProof(SpecModel):
    """``bloom.MerkleProof``: a partial merkle tree of one main-chain block."""

    block_hash: Hash32
    """The main block's hash, stored order."""
    height: U32
    """The main block's height."""
    transactions: U32
    """How many transactions the block has (the tree's leaf count)."""
    hashes: tuple[Hash32, ...]
    """The tree's hashes in traversal order."""
    flags: Annotated[bytes, Field(max_length=MAX_FLAG_BYTES)]
    """One bit per visited node, least significant bit of each byte first."""

    def serialize(self) -> bytes:
        return (self.block_hash + encode_int(self.height, "u32") + encode_int(self.transactions, "u32")
                + encode_int(len(self.hashes), "u32") + b"".join(self.hashes) + encode_varbytes(self.flags))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        block_hash = r.read(32, "proof block hash")
        height = read_u32(r, "proof height")
        transactions = read_u32(r, "proof transactions")
        n = read_u32(r, "proof hash count")
        # [SPV-001] at most MaxTxPerBlock hashes
        if n > MAX_TX_PER_BLOCK:
            raise DecodeError(Reason.DEPOSIT_PROOF_MALFORMED, "SPV-001", f"{n} hashes > {MAX_TX_PER_BLOCK}")
        hashes = tuple(r.read(32, "proof hash") for _ in range(n))
        flags = read_varbytes(r, MAX_FLAG_BYTES, "proof flags")
        return cls(block_hash=block_hash, height=height, transactions=transactions, hashes=hashes, flags=flags)


def _width(n: int, h: int) -> int:
    return (n + (1 << h) - 1) >> h


def _tree_height(n: int) -> int:
    h = 0
    while _width(n, h) > 1:
        h += 1
    return h


def build_merkle_proof(txids: Sequence[bytes], matched: Sequence[int], block_hash: bytes, height: int) -> MerkleProof:
    """The proof of the transactions at ``matched`` in a block of ``txids`` (upstream's ``NewMerkleBlock``:
    ``MBlock.TraverseAndBuild``)."""
    n = len(txids)
    hit = [i in set(matched) for i in range(n)]
    hashes: list[bytes] = []
    bits: list[int] = []

    def node_hash(h: int, pos: int) -> bytes:
        if h == 0:
            return txids[pos]
        left = node_hash(h - 1, 2 * pos)
        right = node_hash(h - 1, 2 * pos + 1) if 2 * pos + 1 < _width(n, h - 1) else left
        return merkle_parent(left, right)

    def build(h: int, pos: int) -> None:
        parent = any(hit[pos << h:min((pos + 1) << h, n)])
        bits.append(int(parent))
        if h == 0 or not parent:
            hashes.append(node_hash(h, pos))
            return
        build(h - 1, 2 * pos)
        if 2 * pos + 1 < _width(n, h - 1):
            build(h - 1, 2 * pos + 1)

    build(_tree_height(n), 0)
    flags = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        flags[i // 8] |= b << (i % 8)
    return MerkleProof(block_hash=block_hash, height=height, transactions=n, hashes=tuple(hashes), flags=bytes(flags))


def extract_matches(proof: MerkleProof) -> tuple[bytes, list[bytes]]:
    """Walk the partial tree: its root and the matched txids (SPV-005..007)."""
    n = proof.transactions
    # [SPV-005] a transaction, a flag byte, no more hashes than transactions
    if n == 0 or not proof.flags or len(proof.hashes) > n:
        raise Reject(Reason.DEPOSIT_PROOF_TREE, "SPV-005",
                     f"{n} transactions, {len(proof.flags)} flag bytes, {len(proof.hashes)} hashes")
    total_bits = len(proof.flags) * 8
    used = {"bits": 0, "hashes": 0}
    matched: list[bytes] = []

    def bit() -> int:
        i = used["bits"]
        # [SPV-006] the traversal does not run out of flag bits
        if i >= total_bits:
            raise Reject(Reason.DEPOSIT_PROOF_TREE, "SPV-006", "ran out of flag bits")
        used["bits"] = i + 1
        return (proof.flags[i // 8] >> (i % 8)) & 1

    def next_hash() -> bytes:
        i = used["hashes"]
        # [SPV-006] the traversal does not run out of hashes
        if i >= len(proof.hashes):
            raise Reject(Reason.DEPOSIT_PROOF_TREE, "SPV-006", f"ran out of hashes after {i}")
        used["hashes"] = i + 1
        return proof.hashes[i]

    def walk(h: int, pos: int) -> bytes:
        flag = bit()
        if h == 0 or not flag:
            value = next_hash()
            if h == 0 and flag:
                matched.append(value)
            return value
        left = walk(h - 1, 2 * pos)
        if 2 * pos + 1 < _width(n, h - 1):
            right = walk(h - 1, 2 * pos + 1)
            # [SPV-007] no inner node has two equal children
            if right == left:
                raise Reject(Reason.DEPOSIT_PROOF_TREE, "SPV-007", f"equal children at height {h}, position {pos}")
        else:
            right = left
        return merkle_parent(left, right)

    root = walk(_tree_height(n), 0)
    b = used["bits"]
    # [SPV-006] every hash and every flag bit is used; the bits after the last one used are zero
    if used["hashes"] != len(proof.hashes) or (b + 7) // 8 != len(proof.flags) or \
            (b % 8 and proof.flags[-1] >> (b % 8)):
        raise Reject(Reason.DEPOSIT_PROOF_TREE, "SPV-006",
                     f"used {used['hashes']} of {len(proof.hashes)} hashes, {b} bits of {len(proof.flags)} bytes")
    return root, matched


def check_merkle_proof(proof: MerkleProof, header: Header | None, txid: bytes) -> None:
    """Hold ``proof`` to the main-chain header its block hash names (``None``: the main chain has no such
    block) and require ``txid`` among its matched leaves."""
    # [SPV-003] the block is a block of the main chain
    if header is None or header.hash() != proof.block_hash:
        raise Reject(Reason.DEPOSIT_PROOF_BLOCK, "SPV-003", proof.block_hash[::-1].hex())
    # [SPV-004] the proof's height is the block's
    if proof.height != header.height:
        raise Reject(Reason.DEPOSIT_PROOF_BLOCK, "SPV-004", f"height {proof.height}, the block's {header.height}")
    root, matched = extract_matches(proof)
    # [SPV-008] the rebuilt root is the block's merkle root
    if root != header.merkle_root:
        raise Reject(Reason.DEPOSIT_PROOF_ROOT, "SPV-008", f"computed {root[::-1].hex()}")
    # [SPV-009] the transaction is a matched leaf
    if txid not in matched:
        raise Reject(Reason.DEPOSIT_PROOF_TX, "SPV-009", f"{len(matched)} matched, not {txid[::-1].hex()}")


def check_recharge_proof(merkle_proof: bytes, main_chain_transaction: bytes,
                         header_of: Callable[[bytes], Header | None]) -> tuple[Transaction, MerkleProof]:
    """A recharge v0's payload: decode its proof and transaction and check the one proves the other.

    ``header_of(block_hash)`` is the header of a main-chain block, or ``None`` (upstream: the SPV header store)."""
    try:
        proof = MerkleProof.decode(merkle_proof)
    except DecodeError as e:
        # [SPV-001] the proof decodes
        raise DecodeError(Reason.DEPOSIT_PROOF_MALFORMED, "SPV-001", f"{e.reason.value}: {e.detail}") from None
    try:
        tx = Transaction.decode(main_chain_transaction)
    except DecodeError as e:
        # [SPV-002] the main-chain transaction decodes
        raise DecodeError(Reason.DEPOSIT_PROOF_MALFORMED, "SPV-002", f"{e.reason.value}: {e.detail}") from None
    check_merkle_proof(proof, header_of(proof.block_hash), tx.txid())
    return tx, proof
