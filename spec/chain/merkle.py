"""The transaction merkle root of a block, and merkle branches.

Upstream: ``Elastos.ELA/crypto/merkletree.go`` (``ComputeRoot``), ``auxpow/auxpow.go``
(``GetMerkleRoot``). The same tree shape is Bitcoin's, so a branch of the Bitcoin parent block
(in the AuxPoW) is checked with the same :func:`merkle_branch_root`.

The tree
--------

* The leaves are the transaction hashes in block order, each 32 bytes in **stored** order (the
  bytes ``sha256d`` returns, not the reversed display form).
* ``parent = sha256d(left || right)``. A level with an odd number of nodes pairs its last node
  with itself ("duplicate last", as Bitcoin).
* One leaf is its own root; an empty list has no root ([MRK-001]).

A **branch** for the leaf at ``index`` lists, from the bottom level up, the sibling of the node on
the path to the root. :func:`merkle_branch_root` folds a leaf and its branch back into the root:
at each level, if bit 0 of ``index`` is set the node is a right child (``sha256d(sibling ||
node)``), otherwise a left child (``sha256d(node || sibling)``), then ``index`` is shifted right
by one. Bits of ``index`` above the branch length are ignored.

Quirk: duplicate-last makes the raw root malleable (CVE-2012-2459): ``[a, b, c]`` and
``[a, b, c, c]`` have the same root, and in general a list whose last pairs repeat. Such a list
always contains a repeated hash, which :func:`has_duplicate` detects; block sanity rejects a block
whose transaction hashes repeat, which closes the hole (proof ``merkle_duplicate_last_malleable``
exhibits the collision and shows that the longer list has a duplicate).

Constants
---------

=================  =====  ===========================================
name               value  meaning
=================  =====  ===========================================
``HASH_SIZE``      32     bytes of a leaf, a node and a branch entry
=================  =====  ===========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from spec.crypto.hashes import sha256d
from spec.encoding.hashes import R_FIXED_SIZE  # noqa: F401  (ENC-006 is raised here too)
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "HASH_SIZE",
    "merkle_parent",
    "merkle_root",
    "merkle_branch",
    "merkle_branch_root",
    "has_duplicate",
]

HASH_SIZE: Final = 32

R_EMPTY = rule(
    "MRK-001", Reason.MERKLE_EMPTY,
    "A merkle root is computed over at least one hash.",
    suite="chain", upstream="crypto.ComputeRoot: \"NewMerkleTree input no item error.\"",
)
R_INDEX = rule(
    "MRK-002", Reason.MERKLE_INDEX_OUT_OF_RANGE,
    "A merkle branch is made only for a leaf position 0 <= index < number of leaves.",
    suite="chain",
)


def _check_hashes(hashes: Sequence[bytes], what: str) -> None:
    for i, h in enumerate(hashes):
        # [ENC-006] every leaf, node and branch entry is exactly 32 bytes
        if len(h) != HASH_SIZE:
            raise DecodeError(Reason.WRONG_LENGTH, "ENC-006", f"{what} {i}: {len(h)} bytes, need {HASH_SIZE}")


def merkle_parent(left: bytes, right: bytes) -> bytes:
    """``sha256d(left || right)``: upstream's ``ComputeParent``."""
    return sha256d(left + right)


def _level_up(level: list[bytes]) -> list[bytes]:
    """The next level of the tree: pairs in order, an odd last node paired with itself."""
    if len(level) % 2 == 1:
        level = [*level, level[-1]]
    return [merkle_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    """The merkle root of the stored-order hashes ``hashes`` (``crypto.ComputeRoot``)."""
    # [MRK-001] a merkle root is computed over at least one hash
    if len(hashes) == 0:
        raise Reject(Reason.MERKLE_EMPTY, "MRK-001", "no hashes")
    _check_hashes(hashes, "hash")
    level = [bytes(h) for h in hashes]
    while len(level) > 1:
        level = _level_up(level)
    return level[0]


def merkle_branch(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The branch of the leaf at ``index`` in the tree of ``hashes``, bottom level first.

    ``merkle_branch_root(hashes[index], merkle_branch(hashes, index), index) == merkle_root(hashes)``.
    Where a node is the odd last one of its level, its sibling is itself.
    """
    # [MRK-002] a branch is made only for a leaf the tree holds
    if not 0 <= index < len(hashes):
        raise Reject(Reason.MERKLE_INDEX_OUT_OF_RANGE, "MRK-002", f"index {index} of {len(hashes)} leaves")
    _check_hashes(hashes, "hash")
    level = [bytes(h) for h in hashes]
    branch: list[bytes] = []
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        branch.append(level[sibling] if sibling < len(level) else level[i])
        level = _level_up(level)
        i >>= 1
    return branch


def merkle_branch_root(leaf: bytes, branch: Sequence[bytes], index: int) -> bytes:
    """Fold ``leaf`` and its ``branch`` into a root (upstream's ``auxpow.GetMerkleRoot``).

    ``index`` is the leaf position, a non-negative integer (a u32 on the wire). Upstream returns
    the zero hash for ``index == -1``; that value cannot be read from the wire, and the spec does
    not take negative indices.
    """
    _check_hashes([leaf], "leaf")
    _check_hashes(branch, "branch entry")
    if index < 0:
        raise ValueError("merkle_branch_root: index must be non-negative")
    node = bytes(leaf)
    for sibling in branch:
        node = merkle_parent(sibling, node) if index & 1 else merkle_parent(node, sibling)
        index >>= 1
    return node


def has_duplicate(hashes: Sequence[bytes]) -> bool:
    """Whether some hash occurs twice in ``hashes`` (the predicate block sanity rejects on)."""
    return len(set(map(bytes, hashes))) != len(hashes)
