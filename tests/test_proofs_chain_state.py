"""Correspondence tests of the chain-state proofs (:mod:`proofs.chain_state`).

Each test evaluates the very model functions a proof reasons about on constants
(:func:`proofs.framework.concrete`, or the model with the spec's own ``merkle_parent``) and compares
them with the spec: real transactions through ``check_tx_sanity``/``check_tx_context``, real blocks
through ``check_block_context``, ``apply_block`` and ``add_block`` on the ``instant`` network, and
``block_reward`` at random heights and at every boundary of the schedule.
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import chain_state as cs
from proofs.framework import concrete, get_proof, run_proof
from spec.chain import builder
from spec.chain.merkle import merkle_parent, merkle_root
from spec.chain.params import INSTANT, NETWORKS, block_reward, genesis_block, network
from spec.chain.state import add_block, apply_block, genesis_state, new_tree, spent_outpoints
from spec.chain.validation import FOUNDATION_SHARE, check_block_context, check_block_sanity, check_tx_sanity
from spec.crypto.p256 import public_key_from_private
from spec.encoding.primitives import I64_MAX, I64_MIN
from spec.errors import Reject

fast = settings(max_examples=150, deadline=None)
slow = settings(max_examples=20, deadline=None)

KEY = (0x5EED).to_bytes(32, "big")
PH = builder.standard_program_hash(public_key_from_private(KEY))
NOW = 2_000_000_000


def _ints(xs: list[int]) -> list[z3.ArithRef]:
    return [z3.IntVal(x) for x in xs]


# -- 1. tx_no_value_creation ------------------------------------------------------------------------------------


def _check_tx_value(ins: list[int], outs: list[int]) -> None:
    outputs_ok, fee_ok, fee = concrete(tuple(cs.tx_value_model(_ints(ins), _ints(outs))))
    spec = cs.spec_tx_value_outcome(ins, outs)
    assert fee == sum(ins) - sum(outs)
    if not outputs_ok:
        assert spec in ("TX-008", "TX-011")
    elif not fee_ok:
        assert spec == "TXC-005"
    else:
        assert spec == "accepted"
        assert sum(outs) < sum(ins)


_values_in = st.integers(0, I64_MAX) | st.integers(0, 10_000)
_values_out = st.integers(I64_MIN, I64_MAX) | st.integers(-5, 10_000) | st.just(I64_MAX)


@fast
@given(st.lists(_values_in, min_size=1, max_size=cs.MAX_IO), st.lists(_values_out, min_size=1, max_size=cs.MAX_IO))
def test_tx_value_model_matches_spec(ins: list[int], outs: list[int]) -> None:
    _check_tx_value(ins, outs)


@pytest.mark.parametrize("ins,outs", [
    ([1000], [900]), ([1000], [901]), ([1000], [0]), ([1000], [-1]), ([I64_MAX], [I64_MAX - 100]),
    ([I64_MAX, I64_MAX], [I64_MAX, 1]), ([I64_MAX, I64_MAX], [I64_MAX, 0]), ([100], [0]), ([99], [0]),
    ([I64_MAX, 5], [I64_MAX, -5]), ([0, 0, 0, 100], [0, 0, 0, 0]),
])
def test_tx_value_model_boundaries(ins: list[int], outs: list[int]) -> None:
    _check_tx_value(ins, outs)


# -- 2. coinbase_within_reward ------------------------------------------------------------------------------------


@fast
@given(st.integers(-3, 3) | st.integers(-10**9, 10**9))
def test_coinbase_model_matches_spec(delta: int) -> None:
    """BLC-005 of check_block_context rejects exactly when the model's guard is false."""
    state = genesis_state(INSTANT)
    cb = builder.coinbase(1, INSTANT, PH)
    outs = list(cb.outputs)
    outs[1] = outs[1].model_copy(update={"value": outs[1].value + delta})
    cb = cb.model_copy(update={"outputs": tuple(outs)})
    block = builder.block_template(state.tip().hash, 1, state.tip().timestamp + 1, INSTANT.pow_limit_bits, [cb])
    guard = concrete(cs.coinbase_reward_model(_ints([o.value for o in outs]), z3.IntVal(0),
                                              z3.IntVal(block_reward(1, INSTANT))))
    try:
        check_block_context(block, state, INSTANT)
    except Reject as e:
        assert e.rule == "BLC-005" and not guard
    else:
        assert guard


_totals = st.integers(0, cs.SHARE_BOUND - 1) | st.integers(0, 10**6) | st.sampled_from(
    [0, 1, 3, 9, 10, 11, cs.SHARE_BOUND - 1, cs.SHARE_BOUND - 10, 4_121_999_481_875_695])


@fast
@given(_totals)
def test_foundation_minimum_matches_spec(total: int) -> None:
    """The spec's int(float(total) * 0.3) lies in the model's set, and TX-012 rejects just below it."""
    minimum = int(float(total) * FOUNDATION_SHARE)
    assert concrete(cs.foundation_minimum_model(z3.IntVal(total), z3.IntVal(minimum)))
    if 0 < minimum and total <= I64_MAX:
        cb = builder.coinbase(1, INSTANT, PH)
        for first, ok in ((minimum, True), (minimum - 1, False)):
            outs = (cb.outputs[0].model_copy(update={"value": first}),
                    cb.outputs[1].model_copy(update={"value": total - first}))
            try:
                check_tx_sanity(cb.model_copy(update={"outputs": outs}), 1, INSTANT)
            except Reject as e:
                assert not ok and e.rule == "TX-012"
            else:
                assert ok


# -- 3. issuance_bounded ------------------------------------------------------------------------------------------------


@cache
def _boundaries(name: str) -> list[int]:
    out = set()
    for s in cs.reward_segments(network(name)):
        out.update(h for h in (s.start - 1, s.start, s.start + 1, s.end - 1) if 0 <= h < cs.U32_LIMIT)
    out.add(cs.U32_LIMIT - 1)
    return sorted(out)


def _check_reward(name: str, h: int) -> None:
    params = network(name)
    segments = cs.reward_segments(params)
    assert concrete(cs.reward_model(z3.IntVal(h), segments)) == block_reward(h, params)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NETWORKS), st.integers(0, cs.U32_LIMIT - 1) | st.integers(0, 5_000_000))
def test_reward_segments_match_spec(name: str, h: int) -> None:
    _check_reward(name, h)


@pytest.mark.parametrize("name", NETWORKS)
def test_reward_segments_boundaries(name: str) -> None:
    for h in _boundaries(name):
        _check_reward(name, h)
    # the segments cover [0, 2^32) without gaps, and the rewards never increase
    segments = cs.reward_segments(network(name))
    assert segments[0].start == 0 and segments[-1].end == cs.U32_LIMIT
    assert all(a.end == b.start and a.reward >= b.reward for a, b in zip(segments, segments[1:]))
    # every raw step of the schedule (NewELAIssuanceHeight, HalvingRewardHeight + k * interval) up
    # to 2^32: the spec's reward on either side is the model's segment reward
    params = network(name)
    rewards = {s.start: s.reward for s in segments}
    for c in cs.reward_cuts(params):
        seg = next(s for s in segments if s.start <= c < s.end)
        assert block_reward(c, params) == seg.reward
        if c > 0:
            before = next(s for s in segments if s.start <= c - 1 < s.end)
            assert block_reward(c - 1, params) == before.reward
    assert rewards


@slow
@given(st.sampled_from(NETWORKS), st.integers(1, cs.U32_LIMIT - 1))
def test_issued_model_small_heights(name: str, top: int) -> None:
    """issued_model(H) - issued_model(H - 1) == block_reward(H), and issued_model(0) == 0: the
    model's sum is the sum of the spec's rewards (by induction on H)."""
    params = network(name)
    segments = cs.reward_segments(params)
    assert concrete(cs.issued_model(z3.IntVal(0), segments)) == 0
    for h in {top, *[b for b in _boundaries(name) if b >= 1][:6]}:
        step = concrete(cs.issued_model(z3.IntVal(h), segments) - cs.issued_model(z3.IntVal(h - 1), segments))
        assert step == block_reward(h, params)


# -- chains on instant ---------------------------------------------------------------------------------------------------


def _next_block(state, txs, nonce: bytes = b"", fees: int | None = None):
    h = state.height + 1
    cb = builder.coinbase(h, INSTANT, PH, fees=1000 * len(txs) if fees is None else fees, nonce=nonce)
    block = builder.block_template(state.tip().hash, h, state.tip().timestamp + 1, INSTANT.pow_limit_bits, [cb, *txs])
    return builder.solve(block)


@cache
def _prepared():
    """A chain on instant whose tip holds 4 mature outputs of KEY, each worth VALUE."""
    state = genesis_state(INSTANT)
    state, _ = apply_block(state, _next_block(state, []), NOW)
    for _ in range(100):
        state, _ = apply_block(state, _next_block(state, []), NOW)
    # the coinbase of height 1 pays KEY its output 1
    entries = [(k, e) for k, e in state.utxos.items() if e.height == 1 and e.output.program_hash == PH]
    (txid, index), entry = entries[0]
    value = (entry.output.value - 1000) // 4
    split = builder.sign_standard(builder.transfer([(txid, index)], [(PH, value)] * 4), [KEY])
    state, _ = apply_block(state, _next_block(state, [split], fees=entry.output.value - 4 * value), NOW)
    return state, split.txid(), value


_chains = st.lists(  # blocks
    st.lists(  # transactions
        st.lists(st.integers(0, cs.UNIVERSE - 1), min_size=1, max_size=cs.TX_INPUTS),
        max_size=cs.BLOCK_TXS),
    min_size=1, max_size=cs.CHAIN_BLOCKS)


@slow
@given(_chains)
def test_spend_model_matches_apply_block(chain: list[list[list[int]]]) -> None:
    state, split_txid, value = _prepared()
    refs: dict[int, tuple[bytes, int]] = {k: (split_txid, k) for k in range(cs.INITIAL_OUTPOINTS)}
    worth: dict[int, int] = {k: value for k in range(cs.INITIAL_OUTPOINTS)}  # value of each outpoint id
    utxos = tuple(k < cs.INITIAL_OUTPOINTS for k in range(cs.UNIVERSE))
    spent_so_far: list[tuple[bytes, int]] = []
    for b, block_txs in enumerate(chain):
        txs = []
        for t, ids in enumerate(block_txs):
            inputs = [refs.get(k, (hashlib.sha256(b"none%d" % k).digest(), 0)) for k in ids]
            # every transaction pays a fee of 1000 (above MinTransactionFee): fees are not what the model is about
            out_value = sum(worth.get(k, value) for k in ids) - 1000
            tx = builder.sign_standard(builder.transfer(inputs, [(PH, out_value)], nonce=bytes([b, t])), [KEY])
            txs.append(tx)
            refs[cs.created_id(b, t)] = (tx.txid(), 0)
            worth[cs.created_id(b, t)] = out_value
        spends = [[z3.IntVal(ids[i] if i < len(ids) else 0) for i in range(cs.TX_INPUTS)] for ids in block_txs]
        used = [[z3.BoolVal(i < len(ids)) for i in range(cs.TX_INPUTS)] for ids in block_txs]
        present = [z3.BoolVal(t < len(block_txs)) for t in range(cs.BLOCK_TXS)]
        spends += [[z3.IntVal(0)] * cs.TX_INPUTS] * (cs.BLOCK_TXS - len(block_txs))
        used += [[z3.BoolVal(False)] * cs.TX_INPUTS] * (cs.BLOCK_TXS - len(block_txs))
        verdict = cs.apply_block_model([z3.BoolVal(u) for u in utxos], b, spends, used, present)
        model_ok = concrete(verdict.accepted)
        block = _next_block(state, txs, nonce=bytes([0xB0, b]))
        try:
            new_state, _ = apply_block(state, block, NOW)
        except Reject as e:
            assert not model_ok, e.rule
            continue
        assert model_ok
        spent = spent_outpoints(block)
        assert not set(spent) & set(spent_so_far) and len(set(spent)) == len(spent)
        spent_so_far += spent
        state = new_state
        utxos = tuple(concrete(verdict.utxos))
        for k in range(cs.UNIVERSE):
            if k in refs:
                assert utxos[k] == (refs[k] in state.utxos), k


# -- 5. fork_choice_first_max -----------------------------------------------------------------------------------------------


@slow
@given(st.lists(st.integers(0, 100), min_size=1, max_size=cs.FORK_BLOCKS))
def test_fork_choice_model_matches_add_block(parents: list[int]) -> None:
    tree = new_tree(INSTANT)
    order = [tree.best]  # connection order: genesis first
    for i, p in enumerate(parents):
        parent = tree.states[order[p % len(order)]]
        block = _next_block(parent, [], nonce=bytes([0xF0, i]))
        tree, outcome = add_block(tree, block, NOW)
        assert outcome == {block.hash(): "valid"}
        order.append(block.hash())
    works = [tree.states[h].work for h in order]
    best = concrete(cs.fork_choice_model(_ints(works)))
    assert order[best] == tree.best


# -- 6. merkle_duplicate_closed ----------------------------------------------------------------------------------------------


@fast
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=9))
def test_merkle_model_matches_spec(leaves: list[bytes]) -> None:
    assert cs.merkle_root_model(leaves, merkle_parent) == merkle_root(leaves)


def test_merkle_closed_by_blk008() -> None:
    """A duplicate-last list has the root of the shorter list; check_block_sanity rejects it (BLK-008)."""
    state = genesis_state(INSTANT)
    g = genesis_block("instant")
    t1 = builder.sign_standard(builder.transfer([(g.transactions[0].txid(), 0)], [(PH, 1)], nonce=b"1"), [KEY])
    t2 = builder.sign_standard(builder.transfer([(g.transactions[0].txid(), 1)], [(PH, 1)], nonce=b"2"), [KEY])
    short = _next_block(state, [t1, t2])
    long = short.model_copy(update={"transactions": short.transactions + (t2,)})
    assert merkle_root(short.txids()) == merkle_root(long.txids()) == short.header.merkle_root
    check_block_sanity(short, INSTANT, NOW)
    with pytest.raises(Reject) as e:
        check_block_sanity(long, INSTANT, NOW)
    assert e.value.rule == "BLK-008"
    # the proof's replay runs the spec on model values
    replay = cs._replay_merkle({"n": 3, "m": 4, "a": [1, 2, 3, 0, 0, 0], "b": [1, 2, 3, 3, 0, 0]})
    assert replay["root_a"] == replay["root_b"] and replay["dup_b"] and not replay["dup_a"]


# -- the proofs themselves ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tx_no_value_creation", "coinbase_within_reward", "issuance_bounded",
                                  "no_double_spend", "fork_choice_first_max", "merkle_duplicate_closed"])
def test_proof_is_proved(name: str) -> None:
    p = get_proof(name)
    assert p.method == "model" and p.correspondence
    assert run_proof(p).status == "proved"
