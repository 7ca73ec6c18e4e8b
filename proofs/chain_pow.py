"""Proofs about compact bits, the retarget, the AuxPoW expected index and the duplicate-last merkle tree.

The spec functions branch on Python values, so each is given a **model** over Z3 terms, written
with the spec's own constants; the correspondence tests in ``tests/test_proofs_chain_pow.py``
evaluate the same model functions on constants (through :func:`proofs.framework.concrete` or, for
the merkle model, with ``sha256d`` as the node function) and compare them with the spec functions
with Hypothesis, on random inputs and on every boundary.

Models
------

================================  ===================================================================
model                             stands for
================================  ===================================================================
:func:`big_to_compact_model`      ``big_to_compact`` on a non-negative 256-bit integer -> u32
:func:`compact_to_big_model`      ``compact_to_big``: u32 -> (negative, magnitude of ``width`` bits)
:func:`retarget_model`            ``retarget_target``: old target (Int), two u32 timestamps -> Int
:func:`expected_index_model`      ``expected_index`` on u32 nonce, chain ID and branch length
:func:`merkle_model`              ``merkle_root`` of a list of fixed length, over any node function
:func:`duplicate_model`           ``has_duplicate``
================================  ===================================================================

The merkle proofs use a Z3 algebraic datatype ``Tree = Leaf(bv256) | Node(Tree, Tree)`` as the node
function. Two trees are equal in that datatype exactly when they are built the same way from the
same leaves, so an equality of roots found there holds for **every** hash function, ``sha256d``
included (the replay recomputes it with the real one); and an equality that cannot happen there
could only happen through a collision of the hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import z3

from spec.chain import auxpow as A
from spec.chain import merkle as M
from spec.chain import pow as P
from spec.errors import Reject

from proofs.framework import ModelValues, Query, concrete, proof, vector_case

_TESTS = "tests/test_proofs_chain_pow.py::"
TARGET_BITS = 256
"""Width of a target the proofs quantify over: every hash is below 2^256."""
PROOF_WIDTH = 264
"""Width of :func:`compact_to_big_model` in the proofs: holds every value of an exponent <= 33."""
FULL_WIDTH = 2048
"""Width that holds every value compact bits can denote (0x7fffff << 2016 < 2^2039)."""


def _bv(v: int, width: int) -> z3.BitVecRef:
    return z3.BitVecVal(v, width)


# -- compact bits ------------------------------------------------------------------------------------


def _at_least_bytes(n: z3.BitVecRef, k: int) -> z3.BoolRef:
    """``n >= 256^(k-1)``: some byte at position k-1 or above is not zero."""
    return z3.Extract(TARGET_BITS - 1, 8 * (k - 1), n) != 0


def big_to_compact_model(n: z3.BitVecRef) -> z3.BitVecRef:
    """Model of ``big_to_compact`` for 0 <= n < 2^256: top three bytes, bump on bit 23, exponent.

    One case per byte length L of ``n`` (``len(n.Bytes())``), tested from the longest down: the
    mantissa is ``n`` shifted so that its top byte is bits 16-23; if bit 23 is set it is shifted
    right one more byte and the exponent is L + 1.
    """
    result = _bv(0, 32)  # n == 0
    for length in range(1, TARGET_BITS // 8 + 1):
        if length <= 3:
            mantissa = z3.Extract(23, 0, z3.Extract(31, 0, n) << (8 * (3 - length)))
        else:
            mantissa = z3.Extract(8 * length - 1, 8 * (length - 3), n)
        bump = z3.Extract(23, 23, mantissa) == 1
        plain = z3.Concat(_bv(length, 8), mantissa)
        bumped = z3.Concat(_bv(length + 1, 8), _bv(0, 8), z3.Extract(23, 8, mantissa))
        result = z3.If(_at_least_bytes(n, length), z3.If(bump, bumped, plain), result)
    return result


def compact_to_big_model(c: z3.BitVecRef, width: int) -> tuple[z3.BoolRef, z3.BitVecRef, z3.BoolRef]:
    """Model of ``compact_to_big``: ``(negative, magnitude, in_range)`` for the u32 ``c``.

    ``magnitude`` has ``width`` bits; ``in_range`` says the exponent's value fits in them (else the
    magnitude reads 0). The spec's value is ``-magnitude`` when ``negative`` and the magnitude is
    not zero, else ``magnitude``.
    """
    mantissa = z3.ZeroExt(width - 23, z3.Extract(22, 0, c))
    exponent = z3.Extract(31, 24, c)
    magnitude = _bv(0, width)
    top = 3
    for k in range(0, 256):
        if k <= 3:
            value = z3.LShR(mantissa, 8 * (3 - k))
        elif 8 * (k - 3) + 23 <= width:
            value = mantissa << (8 * (k - 3))
        else:
            break
        top = k
        magnitude = z3.If(exponent == k, value, magnitude)
    negative = z3.Extract(23, 23, c) == 1
    return negative, magnitude, z3.ULE(exponent, top)


def truncate_model(n: z3.BitVecRef) -> tuple[z3.BitVecRef, z3.BitVecRef, z3.BitVecRef]:
    """``(c, t, t256)``: ``c = big_to_compact(n)``, ``t = compact_to_big(c)`` at :data:`PROOF_WIDTH`
    bits and ``t256`` its low 256 bits."""
    c = big_to_compact_model(n)
    _, t, _ = compact_to_big_model(c, PROOF_WIDTH)
    return c, t, z3.Extract(TARGET_BITS - 1, 0, t)


def evaluate_big_to_compact(n: int) -> int:
    """:func:`big_to_compact_model` on the constant ``n`` (0 <= n < 2^256)."""
    return concrete(big_to_compact_model(_bv(n, TARGET_BITS)))


def evaluate_compact_to_big(c: int, width: int = FULL_WIDTH) -> int | None:
    """:func:`compact_to_big_model` on the constant ``c`` as a signed value; ``None`` out of range."""
    negative, magnitude, in_range = concrete(compact_to_big_model(_bv(c, 32), width))
    if not in_range:
        return None
    return -magnitude if negative else magnitude


def compact_roundtrip_query() -> Query:
    """forall 0 <= n < 2^256, with c = B(n) and t = C(c): see :func:`compact_roundtrip`."""
    n = z3.BitVec("n", TARGET_BITS)
    c, t, t256 = truncate_model(n)
    exponent = z3.LShR(c, 24)
    wide_n = z3.ZeroExt(PROOF_WIDTH - TARGET_BITS, n)
    # the bits below the top 8*(exponent-3) are cleared (none when exponent <= 3)
    cleared = _bv(0, PROOF_WIDTH)
    for e in range(4, TARGET_BITS // 8 + 2):
        cleared = z3.If(exponent == e, _bv((1 << (8 * (e - 3))) - 1, PROOF_WIDTH), cleared)
    claim = z3.And(
        (c & P.COMPACT_SIGN_BIT) == 0,
        z3.ULE(exponent, 33),
        t == wide_n & ~cleared,
        z3.ULE(t, wide_n),
        big_to_compact_model(t256) == c,
    )
    return Query(claim, {"n": n})


def compact_monotone_query() -> Query:
    """forall n1 <= n2 < 2^256: C(B(n1)) <= C(B(n2))."""
    n1, n2 = z3.BitVec("n1", TARGET_BITS), z3.BitVec("n2", TARGET_BITS)
    _, t1, _ = truncate_model(n1)
    _, t2, _ = truncate_model(n2)
    return Query(z3.ULE(t1, t2), {"n1": n1, "n2": n2}, (z3.ULE(n1, n2),))


def compact_idempotent_query() -> Query:
    """forall u32 c with sign bit clear and exponent <= 32: C(B(C(c))) == C(c)."""
    c = z3.BitVec("c", 32)
    _, t, in_range = compact_to_big_model(c, PROOF_WIDTH)
    t256 = z3.Extract(TARGET_BITS - 1, 0, t)
    _, again, _ = compact_to_big_model(big_to_compact_model(t256), PROOF_WIDTH)
    assumptions = ((c & P.COMPACT_SIGN_BIT) == 0, z3.ULE(z3.LShR(c, 24), 32))
    return Query(z3.And(in_range, z3.Extract(PROOF_WIDTH - 1, TARGET_BITS, t) == 0, again == t), {"c": c}, assumptions)


def replay_target(values: ModelValues) -> dict[str, Any]:
    """Replay a target through ``big_to_compact`` and ``compact_to_big``."""
    out: dict[str, Any] = {}
    for key in sorted(values):
        n = values[key]
        c = P.big_to_compact(n)
        t = P.compact_to_big(c)
        out[key] = {"n": str(n), "bits": f"{c:#010x}", "target": str(t), "again": f"{P.big_to_compact(t):#010x}"}
    return out


def case_target(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case``: the first model value as an ``ela.bits.from_target`` case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        n = values[sorted(values)[0]]
        return vector_case("chain/ela.bits.from_target", f"proof-{proof_name}-{hashlib.sha256(str(n).encode()).hexdigest()[:16]}",
                           {"target": str(n)}, (), f"Found by proof {proof_name}.")
    return to_case


def replay_bits(values: ModelValues) -> dict[str, Any]:
    """Replay compact bits through ``compact_to_big`` then ``big_to_compact`` and back."""
    c = values["c"]
    t = P.compact_to_big(c)
    again = P.big_to_compact(t)
    return {"bits": f"{c:#010x}", "target": str(t), "again": f"{again:#010x}", "target_again": str(P.compact_to_big(again))}


def case_bits(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case``: the bits as an ``ela.bits.to_target`` case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        return vector_case("chain/ela.bits.to_target", f"proof-{proof_name}-{values['c']:08x}", {"bits": values["c"]},
                           (), f"Found by proof {proof_name}.")
    return to_case


_COMPACT_ABOUT = ("spec.chain.pow.big_to_compact", "spec.chain.pow.compact_to_big")
_COMPACT_TESTS = (
    _TESTS + "test_big_to_compact_model_matches_spec",
    _TESTS + "test_big_to_compact_model_boundaries",
    _TESTS + "test_compact_to_big_model_matches_spec",
    _TESTS + "test_compact_to_big_model_boundaries",
)


@proof(
    name="compact_roundtrip",
    statement="For every target 0 <= n < 2^256, c = big_to_compact(n) has no sign bit and exponent <= 33; "
    "compact_to_big(c) is n with its bits below the top three bytes cleared (so <= n), and "
    "big_to_compact(compact_to_big(c)) == c.",
    rules=("POW-001", "POW-002", "POW-003"), about=_COMPACT_ABOUT, correspondence=_COMPACT_TESTS,
    replay=replay_target, to_case=case_target("compact_roundtrip"),
)
def compact_roundtrip() -> Query:
    """For all 2^256 values n: with ``c = big_to_compact_model(n)`` and ``t`` the magnitude of
    ``compact_to_big_model(c)`` (264 bits): the sign bit of c is clear; its exponent is at most 33;
    ``t == n & ~(2^(8*(e-3)) - 1)`` for e = exponent > 3 and ``t == n`` for e <= 3 (compaction
    rounds down by dropping whole low bytes and nothing else); hence ``t <= n``; and compacting t
    again gives c back, so the output of ``big_to_compact`` is a fixed point (canonical).

    Tied to the spec by correspondence: both models equal the spec functions on random values and on
    every byte-length and bit-23 boundary (tests named in ``correspondence``).
    """
    return compact_roundtrip_query()


@proof(
    name="compact_monotone",
    statement="Compaction preserves order: for 0 <= n1 <= n2 < 2^256, "
    "compact_to_big(big_to_compact(n1)) <= compact_to_big(big_to_compact(n2)).",
    rules=("POW-004",), about=_COMPACT_ABOUT, correspondence=_COMPACT_TESTS,
    replay=replay_target, to_case=case_target("compact_monotone"),
)
def compact_monotone() -> Query:
    """For all pairs n1 <= n2 below 2^256: the rounded-down target of n1 is at most the one of n2.
    With ``retarget_bounds`` this bounds the bits a retarget returns: the target they denote lies
    between the rounded-down ``min(old // 4, PowLimit)`` and ``min(4 * old, PowLimit)``.

    Tied to the spec by correspondence (the compact-bits tests named in ``correspondence``).
    """
    return compact_monotone_query()


@proof(
    name="compact_idempotent",
    statement="For every u32 bits with the sign bit clear and exponent <= 32, compacting the target "
    "they denote loses nothing: compact_to_big(big_to_compact(compact_to_big(bits))) == compact_to_big(bits), "
    "even for non-canonical bits such as 0x1f0008ff.",
    rules=("POW-004",), about=_COMPACT_ABOUT, correspondence=_COMPACT_TESTS,
    replay=replay_bits, to_case=case_bits("compact_idempotent"),
)
def compact_idempotent() -> Query:
    """For all 2^32 bits c with bit 23 clear and exponent <= 32 (every target up to 0x7fffff << 232,
    which includes PowLimitBits and every bits a block can carry): the denoted target fits in 256
    bits, and compacting it and expanding again returns the same target. So a retarget that keeps
    the target (an exact 86400 s window) keeps the work, though it may rewrite the bits
    (``0x1f0008ff`` becomes ``0x1e08ff00``).

    Tied to the spec by correspondence (the compact-bits tests named in ``correspondence``).
    """
    return compact_idempotent_query()


# -- retarget ------------------------------------------------------------------------------------------


def retarget_model(old: z3.ArithRef, prev_ts: z3.BitVecRef, first_ts: z3.BitVecRef,
                   params: P.RetargetParams = P.NETWORK_RETARGET_PARAMS["mainnet"]) -> z3.ArithRef:
    """Model of ``retarget_target(prev_bits, uint32(prev_ts - first_ts), params)`` with ``old = C(prev_bits)``."""
    actual = z3.BV2Int(prev_ts - first_ts)
    lo, hi = params.min_retarget_timespan, params.max_retarget_timespan
    adjusted = z3.If(actual < lo, z3.IntVal(lo), z3.If(actual > hi, z3.IntVal(hi), actual))
    new = (old * adjusted) / params.target_timespan  # Z3's integer division floors for a positive divisor
    return z3.If(new > params.pow_limit, z3.IntVal(params.pow_limit), new)


def evaluate_retarget(old: int, prev_ts: int, first_ts: int, params: P.RetargetParams = P.NETWORK_RETARGET_PARAMS["mainnet"]) -> int:
    """:func:`retarget_model` on constants."""
    return concrete(retarget_model(z3.IntVal(old), _bv(prev_ts, 32), _bv(first_ts, 32), params))


def retarget_query(params: P.RetargetParams = P.NETWORK_RETARGET_PARAMS["mainnet"]) -> Query:
    """forall 0 < old <= PowLimit and u32 timestamps: the bounds of :func:`retarget_bounds`."""
    old = z3.Int("old")
    prev_ts, first_ts = z3.BitVec("prev_ts", 32), z3.BitVec("first_ts", 32)
    new = retarget_model(old, prev_ts, first_ts, params)
    limit = z3.IntVal(params.pow_limit)
    factor = params.adjustment_factor

    def smaller(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
        return z3.If(a < b, a, b)

    claim = z3.And(
        new <= limit,
        new <= smaller(old * factor, limit),
        new >= smaller(old / factor, limit),
        # a window whose first header is later than its last (by less than 2^31 s): the u32 span wraps
        # above the maximum and clamps to it
        z3.Implies(z3.And(z3.UGT(first_ts, prev_ts), z3.ULT(first_ts - prev_ts, 1 << 31)),
                   new == smaller(old * factor, limit)),
    )
    return Query(claim, {"old": old, "prev_ts": prev_ts, "first_ts": first_ts}, (old > 0, old <= limit))


def replay_retarget(values: ModelValues) -> dict[str, Any]:
    """Replay through ``retarget_target`` and ``next_required_bits`` at prev height 1439."""
    old, prev_ts, first_ts = values["old"], values["prev_ts"], values["first_ts"]
    params = P.NETWORK_RETARGET_PARAMS["mainnet"]
    bits = P.big_to_compact(old)
    actual = (prev_ts - first_ts) & 0xFFFF_FFFF
    return {"old": str(old), "prev_bits": f"{bits:#010x}", "actual_timespan": actual,
            "new_target": str(P.retarget_target(bits, actual, params)),
            "next_bits": f"{P.next_required_bits(1439, bits, prev_ts, first_ts, params):#010x}"}


def case_retarget(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case``: an ``ela.bits.next`` case at prev height 1439 with the model's timestamps."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        bits = P.big_to_compact(values["old"])
        headers = [{"height": 720, "timestamp": values["first_ts"], "bits": bits},
                   {"height": 1439, "timestamp": values["prev_ts"], "bits": bits}]
        tag = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:16]
        return vector_case("chain/ela.bits.next", f"proof-{proof_name}-{tag}", {"headers": headers, "network": "mainnet"},
                           ("POW-004",), f"Found by proof {proof_name}.")
    return to_case


@proof(
    name="retarget_bounds",
    statement="For every old target 0 < old <= PowLimit and all u32 timestamps, the retarget's new target "
    "(before compaction) lies in [min(old // 4, PowLimit), min(4 * old, PowLimit)], so never above PowLimit; "
    "a first timestamp later than the last (by less than 2^31 s) gives exactly min(4 * old, PowLimit).",
    rules=("POW-004",), about=("spec.chain.pow.retarget_target", "spec.chain.pow.next_required_bits"),
    correspondence=(_TESTS + "test_retarget_model_matches_spec", _TESTS + "test_retarget_model_boundaries"),
    replay=replay_retarget, to_case=case_retarget("retarget_bounds"),
)
def retarget_bounds() -> Query:
    """For every integer 0 < old <= 2^255 - 1 (every target a header that passed POW-001/POW-002
    can carry) and all 2^64 pairs of u32 timestamps: ``new = min(old * clamp(uint32(prev_ts -
    first_ts), 21600, 345600) // 86400, PowLimit)`` satisfies ``new <= PowLimit``, ``new <= min(4 *
    old, PowLimit)`` and ``new >= min(old // 4, PowLimit)`` (integer division: ``old * 21600 // 86400``
    is exactly ``old // 4``). If ``first_ts > prev_ts`` by less than 2^31 s, the u32 span wraps above
    the maximum and ``new == min(4 * old, PowLimit)`` (a larger gap wraps to a small span again). The bits returned are ``big_to_compact(new)``, whose target is
    ``new`` rounded down (``compact_roundtrip``), which keeps the order (``compact_monotone``); so
    it is at most ``min(4 * old, PowLimit)``. Note that ``old // 4`` is 0 for old < 4: the bounds
    do not keep a tiny target positive.

    Tied to the spec by correspondence: ``retarget_model`` equals ``retarget_target`` (and its
    compaction ``next_required_bits`` at a retarget height) on random bits and timestamps and at
    every clamp edge and the PowLimit cap (tests named in ``correspondence``).
    """
    return retarget_query()


# -- AuxPoW expected index -------------------------------------------------------------------------------


def expected_index_model(nonce: z3.BitVecRef, chain_id: z3.BitVecRef, h: z3.BitVecRef) -> tuple[z3.BoolRef, z3.BitVecRef, z3.BitVecRef]:
    """Model of ``expected_index`` on u32 terms: ``(defined, index, modulus)``.

    ``modulus`` is Go's ``uint32(1 << h)``; ``defined`` is ``modulus != 0`` (the spec rejects with
    AUX-011 otherwise).
    """
    r = nonce * A.LCG_MULTIPLIER + A.LCG_INCREMENT
    r = r + chain_id
    r = r * A.LCG_MULTIPLIER + A.LCG_INCREMENT
    modulus = _bv(1, 32) << h
    return modulus != 0, z3.URem(r, modulus), modulus


def evaluate_expected_index(nonce: int, chain_id: int, h: int) -> int | None:
    """:func:`expected_index_model` on constants; ``None`` where it is undefined."""
    defined, index, _ = concrete(expected_index_model(_bv(nonce, 32), _bv(chain_id, 32), _bv(h, 32)))
    return index if defined else None


def expected_index_query() -> Query:
    """forall u32 nonce, chain ID, h: defined iff h < 32, and then index < 2^h (its low h bits)."""
    nonce, chain_id, h = z3.BitVec("nonce", 32), z3.BitVec("chain_id", 32), z3.BitVec("h", 32)
    defined, index, modulus = expected_index_model(nonce, chain_id, h)
    r = (nonce * A.LCG_MULTIPLIER + A.LCG_INCREMENT + chain_id) * A.LCG_MULTIPLIER + A.LCG_INCREMENT
    claim = z3.And(
        defined == z3.ULT(h, 32),
        z3.Implies(defined, z3.And(z3.ULT(index, modulus), index == r & (modulus - 1))),
    )
    return Query(claim, {"nonce": nonce, "chain_id": chain_id, "h": h})


def replay_expected_index(values: ModelValues) -> dict[str, Any]:
    """Replay through ``expected_index``."""
    try:
        index = A.expected_index(values["nonce"], values["chain_id"], values["h"])
    except Reject as e:
        return {**values, "reject": e.reason.value, "rule": e.rule}
    return {**values, "index": index, "below_2_pow_h": index < (1 << values["h"])}


def case_expected_index(values: ModelValues) -> dict[str, Any]:
    """``to_case``: an ``ela.auxpow.expected_index`` case."""
    data = {"nonce": values["nonce"], "chain_id": values["chain_id"], "height": values["h"]}
    tag = f"{values['nonce']:08x}-{values['chain_id']:08x}-{values['h']}"
    return vector_case("chain/ela.auxpow.expected_index", f"proof-expected_index_range-{tag}", data, ("AUX-011",),
                       "Found by proof expected_index_range.")


@proof(
    name="expected_index_range",
    statement="For all u32 nonce, chain ID and branch length h: expected_index is defined iff h < 32, and "
    "then it is < 2^h (the low h bits of the LCG output), so it always names a slot of the aux tree.",
    rules=("AUX-010", "AUX-011"), about=("spec.chain.auxpow.expected_index",),
    correspondence=(_TESTS + "test_expected_index_model_matches_spec", _TESTS + "test_expected_index_model_boundaries"),
    replay=replay_expected_index, to_case=case_expected_index,
)
def expected_index_range() -> Query:
    """For all 2^96 triples of u32 (nonce, chain_id, h): Go's ``uint32(1 << h)`` is non-zero exactly
    when h < 32 (so AUX-011 rejects exactly the branch lengths 32 and above); and then the index
    ``r % 2^h`` is below 2^h and equals ``r & (2^h - 1)``, where ``r`` is the two LCG steps with the
    chain ID added between them, all modulo 2^32.

    Tied to the spec by correspondence: ``expected_index_model`` equals ``expected_index`` (value, or
    the AUX-011 rejection) on random triples and on h = 0, 1, 30, 31, 32, 33 and the upstream
    examples (tests named in ``correspondence``).
    """
    return expected_index_query()


# -- merkle malleability ---------------------------------------------------------------------------------

Node = TypeVar("Node")


def merkle_model(leaves: Sequence[Node], parent: Callable[[Node, Node], Node]) -> Node:
    """``merkle_root``'s shape over any node function: pairs in order, an odd last node doubled."""
    if not leaves:
        raise ValueError("merkle_model: no leaves")
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def duplicate_model(leaves: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """Model of ``has_duplicate``: some two positions hold equal values."""
    pairs = [leaves[i] == leaves[j] for i in range(len(leaves)) for j in range(i + 1, len(leaves))]
    return z3.Or(*pairs) if pairs else z3.BoolVal(False)


def sha256d_parent(left: bytes, right: bytes) -> bytes:
    """The node function of the real tree."""
    return hashlib.sha256(hashlib.sha256(left + right).digest()).digest()


def evaluate_merkle(leaves: Sequence[bytes]) -> bytes:
    """:func:`merkle_model` with ``sha256d`` as the node function."""
    return merkle_model(list(leaves), sha256d_parent)


def evaluate_duplicate(leaves: Sequence[bytes]) -> bool:
    """:func:`duplicate_model` on constants."""
    return concrete(duplicate_model([_bv(int.from_bytes(x, "big"), 256) for x in leaves]))


_TREE: z3.DatatypeSortRef | None = None


def tree_sort() -> z3.DatatypeSortRef:
    """``Tree = Leaf(bv256) | Node(Tree, Tree)``: the free term algebra of the merkle tree."""
    global _TREE
    if _TREE is None:
        t = z3.Datatype("MerkleTree")
        t.declare("leaf", ("value", z3.BitVecSort(256)))
        t.declare("node", ("left", t), ("right", t))
        _TREE = t.create()
    return _TREE


def tree_root(leaves: Sequence[z3.BitVecRef]) -> z3.DatatypeRef:
    """:func:`merkle_model` in the term algebra: equal roots there are equal under every hash."""
    tree = tree_sort()
    return merkle_model([tree.leaf(x) for x in leaves], tree.node)


def _leaves(prefix: str, n: int) -> tuple[z3.BitVecRef, ...]:
    return tuple(z3.BitVec(f"{prefix}_{i}", 256) for i in range(n))


def malleable_query(short: int = 3, long: int = 4) -> Query:
    """exists distinct leaves xs (``short``) and leaves ys (``long``): the trees are equal."""
    xs, ys = _leaves("xs", short), _leaves("ys", long)
    distinct = (z3.Distinct(*xs),) if short > 1 else ()
    return Query(tree_root(xs) == tree_root(ys), {"xs": xs, "ys": ys}, distinct, kind="exists")


MAX_COLLISION_LEAVES = 9


def collision_query(max_leaves: int = MAX_COLLISION_LEAVES) -> Query:
    """forall pairs of lengths m < n <= max_leaves: equal trees imply the longer list has a duplicate."""
    claims, inputs = [], {}
    for m in range(1, max_leaves + 1):
        for n in range(m + 1, max_leaves + 1):
            xs, ys = _leaves(f"x{m}_{n}", m), _leaves(f"y{m}_{n}", n)
            claims.append(z3.Implies(tree_root(xs) == tree_root(ys), duplicate_model(ys)))
            inputs[f"xs_{m}_{n}"], inputs[f"ys_{m}_{n}"] = xs, ys
    same = []
    for n in range(1, max_leaves + 1):
        xs, ys = _leaves(f"s{n}", n), _leaves(f"t{n}", n)
        same.append(z3.Implies(tree_root(xs) == tree_root(ys), z3.And(*[a == b for a, b in zip(xs, ys)])))
        inputs[f"same_xs_{n}"], inputs[f"same_ys_{n}"] = xs, ys
    return Query(z3.And(*claims, *same), inputs)


def _hashes(values: Sequence[int]) -> list[bytes]:
    return [v.to_bytes(32, "big") for v in values]


def replay_malleable(values: ModelValues) -> dict[str, Any]:
    """Replay both lists through ``merkle_root`` and ``has_duplicate`` (real sha256d)."""
    out = {}
    for key in sorted(values):
        hs = _hashes(values[key])
        out[key] = {"hashes": [h.hex() for h in hs], "root": M.merkle_root(hs).hex(), "has_duplicate": M.has_duplicate(hs)}
    keys = sorted(values)
    out["same_root"] = len({out[k]["root"] for k in keys}) == 1 and len(keys) > 1
    return out


def case_malleable(proof_name: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case``: the longer list of the witness as an ``ela.merkle.root`` case."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        key = max(sorted(values), key=lambda k: len(values[k]))
        hs = _hashes(values[key])
        tag = hashlib.sha256(b"".join(hs)).hexdigest()[:16]
        return vector_case("chain/ela.merkle.root", f"proof-{proof_name}-{tag}", {"hashes": [h.hex() for h in hs]},
                           ("MRK-001",), f"Found by proof {proof_name}.")
    return to_case


_MERKLE_ABOUT = ("spec.chain.merkle.merkle_root", "spec.chain.merkle.has_duplicate")
_MERKLE_TESTS = (
    _TESTS + "test_merkle_model_matches_spec",
    _TESTS + "test_duplicate_model_matches_spec",
    _TESTS + "test_malleable_witness_replays",
)


@proof(
    name="merkle_duplicate_last_malleable",
    statement="The raw merkle root is malleable: there are three distinct hashes whose list has the same root "
    "as a list of four, for every hash function; the four-hash list repeats a hash.",
    rules=("MRK-001",), about=_MERKLE_ABOUT, correspondence=_MERKLE_TESTS,
    replay=replay_malleable, to_case=case_malleable("merkle_duplicate_last_malleable"),
)
def merkle_duplicate_last_malleable() -> Query:
    """Exists three pairwise distinct 256-bit leaves xs and four leaves ys such that the trees that
    ``merkle_model`` builds from them in the free term algebra (``leaf``/``node``) are equal. Equality
    in the free algebra means equal construction, so the roots are equal under ``sha256d`` too: the
    replay recomputes both with the real ``merkle_root`` and shows the same root, and that the
    longer list has a duplicate (``has_duplicate``), which is what block sanity rejects. Z3's
    witness is necessarily ``ys = xs + [xs[2]]`` (CVE-2012-2459).

    Tied to the spec by correspondence: ``merkle_model`` with ``sha256d`` as the node function equals
    ``merkle_root`` on random lists of 1 to 40 hashes, and ``duplicate_model`` equals
    ``has_duplicate`` (tests named in ``correspondence``).
    """
    return malleable_query()


@proof(
    name="merkle_collision_needs_duplicate",
    statement="Without a hash collision, two lists of at most 9 hashes with the same merkle root are equal, "
    "or the longer one repeats a hash.",
    rules=("MRK-001",), about=_MERKLE_ABOUT, correspondence=_MERKLE_TESTS,
    replay=replay_malleable, to_case=case_malleable("merkle_collision_needs_duplicate"),
)
def merkle_collision_needs_duplicate() -> Query:
    """For all lengths m < n <= 9 and all leaves: if the term-algebra trees of an m-list and an
    n-list are equal, the n-list has two equal leaves; and for every length n <= 9, equal trees of
    two n-lists have equal leaves position by position. So, short of a sha256d collision, the only
    way two different transaction lists share a merkle root is the duplicate-last one, and a block
    sanity rule against repeated txids closes it.

    Tied to the spec by correspondence (the merkle tests named in ``correspondence``).
    """
    return collision_query()
