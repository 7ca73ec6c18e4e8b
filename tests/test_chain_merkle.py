"""The duplicate-last merkle root, merkle branches, and the duplicate predicate."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain import merkle as M
from spec.errors import Reason
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=120)
leaf = st.binary(min_size=32, max_size=32)


def h(i: int) -> bytes:
    return hashlib.sha256(f"leaf {i}".encode()).digest()


def d(x: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(x).digest()).digest()


def reference_root(hashes: list[bytes]) -> bytes:
    """Bitcoin's CBlock::BuildMerkleTree loop, written independently of the spec."""
    tree = list(hashes)
    j, size = 0, len(hashes)
    while size > 1:
        for i in range(0, size, 2):
            i2 = min(i + 1, size - 1)
            tree.append(d(tree[j + i] + tree[j + i2]))
        j += size
        size = (size + 1) // 2
    return tree[-1]


def test_small_trees_by_hand():
    a, b, c = h(0), h(1), h(2)
    assert M.merkle_root([a]) == a
    assert M.merkle_root([a, b]) == d(a + b)
    assert M.merkle_root([a, b, c]) == d(d(a + b) + d(c + c))
    assert M.merkle_root([a, b, c, c]) == M.merkle_root([a, b, c])


def test_mainnet_genesis_root():
    coinbase = bytes.fromhex("b07c062090c44682e29832f1993d4a0f47e49a148d8b0e07d739a32670ff3a95")
    asset = bytes.fromhex("b037db964a231458d2d6ffd5ea18944c4f90e63d547c5d3b9874df66a4ead0a3")
    assert M.merkle_root([coinbase, asset]).hex() == "206cf70af49fa40e594189634da713872fe5ba6d0457ae235890e0438c853692"


@FAST
@given(st.lists(leaf, min_size=1, max_size=70))
def test_root_matches_independent_implementation(hashes):
    assert M.merkle_root(hashes) == reference_root(hashes)


@FAST
@given(st.lists(leaf, min_size=1, max_size=40), st.data())
def test_every_branch_folds_back_to_the_root(hashes, data):
    index = data.draw(st.integers(0, len(hashes) - 1))
    branch = M.merkle_branch(hashes, index)
    assert len(branch) == (len(hashes) - 1).bit_length()
    assert M.merkle_branch_root(hashes[index], branch, index) == M.merkle_root(hashes)
    # bits above the branch length are not read
    assert M.merkle_branch_root(hashes[index], branch, index + (1 << 40)) == M.merkle_root(hashes)


@FAST
@given(st.lists(leaf, min_size=1, max_size=30))
def test_duplicate_last_malleability_and_predicate(hashes):
    if len(hashes) % 2 == 1 and len(hashes) > 1:
        longer = hashes + hashes[-1:]
        assert M.merkle_root(longer) == M.merkle_root(hashes)
        assert M.has_duplicate(longer)
    assert M.has_duplicate(hashes) == (len(set(hashes)) != len(hashes))


def test_odd_node_sibling_is_itself():
    hashes = [h(i) for i in range(5)]
    branch = M.merkle_branch(hashes, 4)
    assert branch[0] == hashes[4]


def test_branch_root_right_child_order():
    a, s = h(10), h(11)
    assert M.merkle_branch_root(a, [s], 0) == d(a + s)
    assert M.merkle_branch_root(a, [s], 1) == d(s + a)


def test_rejections():
    expect_reject(M.merkle_root, [], reason=Reason.MERKLE_EMPTY, rule="MRK-001")
    expect_reject(M.merkle_root, [h(0), h(1)[:31]], reason=Reason.WRONG_LENGTH, rule="ENC-006", decode=True)
    expect_reject(M.merkle_branch, [h(0)], 1, reason=Reason.MERKLE_INDEX_OUT_OF_RANGE, rule="MRK-002")
    expect_reject(M.merkle_branch, [], 0, reason=Reason.MERKLE_INDEX_OUT_OF_RANGE, rule="MRK-002")
    expect_reject(M.merkle_branch, [h(0)], -1, reason=Reason.MERKLE_INDEX_OUT_OF_RANGE, rule="MRK-002")
    expect_reject(M.merkle_branch_root, h(0)[:31], [], 0, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    expect_reject(M.merkle_branch_root, h(0), [b"x"], 0, reason=Reason.WRONG_LENGTH, rule="ENC-006")
    with pytest.raises(ValueError):
        M.merkle_branch_root(h(0), [], -1)
