"""Correspondence tests of the models in :mod:`proofs.chain_pow`, and checks that the proofs have teeth.

Each test evaluates the very model function a proof reasons about on constants and compares it
with the spec function, on random inputs and on every boundary (DESIGN §6).
"""

from __future__ import annotations

import json

import pytest
import z3
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proofs import chain_pow as C
from proofs.framework import Query, get_proof, proof, run_proof
from spec.chain import merkle as M
from spec.chain import pow as P
from spec.chain.auxpow import expected_index
from spec.errors import Reason, Reject

fast = settings(max_examples=150, deadline=None)
U32 = 0xFFFF_FFFF
MAIN = P.NETWORK_RETARGET_PARAMS["mainnet"]


# -- compact bits ------------------------------------------------------------------------------------


def _targets_near_boundaries() -> list[int]:
    out = {0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x7FFFFF, 0x800000, 0xFFFFFF, P.POW_LIMIT, (1 << 256) - 1}
    for k in range(1, 33):
        for d in (-1, 0, 1):
            v = (1 << (8 * k)) + d
            if 0 <= v < 1 << 256:
                out.add(v)
        out.add(0x80 << (8 * (k - 1)) if k < 32 else 0)
        out.add((0x80 << (8 * (k - 1))) - 1 if k < 32 else 0)
    return sorted(out)


def _check_big_to_compact(n: int) -> None:
    assert C.evaluate_big_to_compact(n) == P.big_to_compact(n)


@fast
@given(st.integers(0, 256).flatmap(lambda bits: st.integers(0, (1 << bits) - 1)))
def test_big_to_compact_model_matches_spec(n: int) -> None:
    _check_big_to_compact(n)


@pytest.mark.parametrize("n", _targets_near_boundaries(), ids=hex)
def test_big_to_compact_model_boundaries(n: int) -> None:
    _check_big_to_compact(n)


def _check_compact_to_big(c: int) -> None:
    assert C.evaluate_compact_to_big(c, C.FULL_WIDTH) == P.compact_to_big(c)
    narrow = C.evaluate_compact_to_big(c, C.PROOF_WIDTH)
    if c >> 24 <= 33:
        assert narrow == P.compact_to_big(c)
    else:
        assert narrow is None


@fast
@given(st.integers(0, U32) | st.integers(0, 0x22FFFFFF))
@example(0x1F0008FF)
@example(0xFFFFFFFF)
def test_compact_to_big_model_matches_spec(c: int) -> None:
    _check_compact_to_big(c)


_BITS_EDGES = sorted({e << 24 | m for e in (0, 1, 2, 3, 4, 32, 33, 34, 255)
                      for m in (0, 1, 0x7FFFFF, 0x800000, 0x800001, 0xFFFFFF, 0x008000, 0x0008FF)})


@pytest.mark.parametrize("c", _BITS_EDGES, ids=lambda c: f"{c:08x}")
def test_compact_to_big_model_boundaries(c: int) -> None:
    _check_compact_to_big(c)


# -- retarget ----------------------------------------------------------------------------------------


def _check_retarget(bits: int, prev_ts: int, first_ts: int) -> None:
    actual = (prev_ts - first_ts) & U32
    spec_target = P.retarget_target(bits, actual, MAIN)
    assert C.evaluate_retarget(P.compact_to_big(bits), prev_ts, first_ts) == spec_target
    # and the bits a retarget height gets are the compaction of the model's target
    assert P.next_required_bits(1439, bits, prev_ts, first_ts, MAIN) == P.big_to_compact(spec_target)


_valid_bits = st.integers(1, P.POW_LIMIT).map(P.big_to_compact)


@fast
@given(_valid_bits | st.integers(0, U32), st.integers(0, U32), st.integers(0, U32))
def test_retarget_model_matches_spec(bits: int, prev_ts: int, first_ts: int) -> None:
    _check_retarget(bits, prev_ts, first_ts)


_SPANS = (0, 1, 21599, 21600, 21601, 86399, 86400, 86401, 172799, 172800, 345599, 345600, 345601, U32,
          U32 - 345600, (1 << 31), -1 & U32)


@pytest.mark.parametrize("span", _SPANS)
@pytest.mark.parametrize("bits", (0x1F0008FF, 0x1D03FFFF, 0x207FFFFF, 0x20400000, 0x03000003, 0x01010000))
def test_retarget_model_boundaries(bits: int, span: int) -> None:
    _check_retarget(bits, (1_000_000 + span) & U32, 1_000_000)


# -- expected index --------------------------------------------------------------------------------------


def _check_expected_index(nonce: int, chain_id: int, h: int) -> None:
    try:
        spec_index = expected_index(nonce, chain_id, h)
    except Reject as e:
        assert (e.reason, e.rule) == (Reason.AUXPOW_BRANCH_TOO_LONG, "AUX-011")
        spec_index = None
    assert C.evaluate_expected_index(nonce, chain_id, h) == spec_index


@fast
@given(st.integers(0, U32), st.integers(0, U32) | st.sampled_from([6, 1224]), st.integers(0, 40) | st.integers(0, U32))
def test_expected_index_model_matches_spec(nonce: int, chain_id: int, h: int) -> None:
    _check_expected_index(nonce, chain_id, h)


@pytest.mark.parametrize("h", (0, 1, 2, 30, 31, 32, 33, 63, 64, U32))
@pytest.mark.parametrize("nonce,chain_id", ((0, 1224), (1, 1224), (U32, 1224), (0, 6), (U32, U32), (12345, 0)))
def test_expected_index_model_boundaries(nonce: int, chain_id: int, h: int) -> None:
    _check_expected_index(nonce, chain_id, h)


# -- merkle -------------------------------------------------------------------------------------------


@fast
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_merkle_model_matches_spec(leaves: list[bytes]) -> None:
    assert C.evaluate_merkle(leaves) == M.merkle_root(leaves)
    # also with the last pairs repeated, where the duplicate-last rule is at work
    assert C.evaluate_merkle(leaves + leaves[-1:]) == M.merkle_root(leaves + leaves[-1:])


@fast
@given(st.lists(st.sampled_from([bytes(32), b"\x01" * 32, b"\x02" + bytes(31)]) | st.binary(min_size=32, max_size=32),
                max_size=8))
def test_duplicate_model_matches_spec(leaves: list[bytes]) -> None:
    assert C.evaluate_duplicate(leaves) == M.has_duplicate(leaves)


def test_malleable_witness_replays() -> None:
    result = run_proof(get_proof("merkle_duplicate_last_malleable"))
    assert result.status == "proved"
    xs, ys = result.witness["xs"], result.witness["ys"]
    assert len(set(xs)) == 3 and ys == xs + xs[-1:]
    replay = json.loads(result.replay)
    assert replay["same_root"] and replay["ys"]["has_duplicate"] and not replay["xs"]["has_duplicate"]
    assert result.case["expect"] == {"ok": {"root": replay["xs"]["root"]}}


# -- the proofs have teeth: wrong statements get counterexamples the spec confirms ----------------------


def _declare(name: str, build, replay=C.replay_target) -> object:
    return proof(name=name, statement=name, replay=replay, to_case=lambda v: {}, correspondence=("t",),
                 registry=None)(build)


def test_compaction_is_lossy_counterexample() -> None:
    def build() -> Query:
        """(wrong) compaction loses nothing."""
        n = z3.BitVec("n", C.TARGET_BITS)
        _, _, t256 = C.truncate_model(n)
        return Query(t256 == n, {"n": n})

    result = run_proof(_declare("lossless", build))
    assert result.status == "counterexample"
    n = result.counterexample["n"]
    assert P.compact_to_big(P.big_to_compact(n)) < n


def test_retarget_not_bounded_by_old_counterexample() -> None:
    def build() -> Query:
        """(wrong) a retarget never makes the target easier."""
        q = C.retarget_query()
        old, prev_ts, first_ts = (q.inputs[k] for k in ("old", "prev_ts", "first_ts"))
        return Query(C.retarget_model(old, prev_ts, first_ts) <= old, q.inputs, q.assumptions)

    result = run_proof(_declare("never_easier", build, C.replay_retarget))
    assert result.status == "counterexample"
    v = result.counterexample
    assert C.evaluate_retarget(v["old"], v["prev_ts"], v["first_ts"]) > v["old"]
    assert json.loads(result.replay)["actual_timespan"] > P.TARGET_TIMESPAN


def test_same_length_lists_cannot_collide_structurally() -> None:
    def build() -> Query:
        """(wrong) two different 4-lists can share a tree."""
        xs, ys = C._leaves("a", 4), C._leaves("b", 4)
        return Query(z3.And(C.tree_root(xs) == C.tree_root(ys), z3.Or(*[a != b for a, b in zip(xs, ys)])),
                     {"xs": xs, "ys": ys}, kind="exists")

    assert run_proof(_declare("same_length", build, C.replay_malleable)).status == "counterexample"


@pytest.mark.parametrize("name", ["compact_roundtrip", "compact_monotone", "compact_idempotent", "retarget_bounds",
                                  "expected_index_range", "merkle_duplicate_last_malleable",
                                  "merkle_collision_needs_duplicate"])
def test_chain_pow_proofs_are_registered_and_tied(name: str) -> None:
    p = get_proof(name)
    assert p.module == "proofs.chain_pow" and p.method == "model" and p.correspondence
    assert all(a.startswith("spec.chain.") for a in p.about)
