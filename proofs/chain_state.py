"""Consensus invariants of the chain state: value, issuance, spending, fork choice, merkle roots.

The spec's validation and state functions (:mod:`spec.chain.validation`, :mod:`spec.chain.state`,
:mod:`spec.chain.params`, :mod:`spec.chain.merkle`) branch on Python values and build pydantic
transactions, so they cannot run on Z3 terms. Each proof here is about a **model** of the guards
those functions apply, written with the spec's own constants (and, for the reward schedule, with
the values the spec's :func:`~spec.chain.params.block_reward` returns). The correspondence tests in
``tests/test_proofs_chain_state.py`` evaluate the same model functions on constants
(:func:`proofs.framework.concrete`) and compare them with the spec functions with Hypothesis: on
real transactions, real chains built with :mod:`spec.chain.builder` on the ``instant`` network, and
every boundary of the reward schedule.

==============================  ==========================================================================
proof                           statement (bounded where the docstring says so)
==============================  ==========================================================================
``tx_no_value_creation``        an accepted non-coinbase transaction pays out less than it spends
``coinbase_within_reward``      BLC-005 bounds the coinbase by reward + fees; TX-012 leaves the miner 70 %
``issuance_bounded``            genesis + every reward up to any u32 height stays under the schedule's cap
``no_double_spend``             no outpoint is spent twice along a chain of accepted blocks
``fork_choice_first_max``       the tip has the most work and is the first seen among equals
``merkle_duplicate_closed``     two different txid lists with one root: the longer one repeats a txid
==============================  ==========================================================================

Arithmetic is over Z3 ``Int`` (the spec computes with unbounded Python ints and bounds them by its
own guards, TX-008 and TX-011); the foundation share is computed in IEEE binary64 as the spec does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import z3

from spec.chain.merkle import has_duplicate, merkle_root
from spec.chain.params import INSTANT, NETWORKS, ORIGIN_ISSUANCE, NetworkParams, block_reward, network
from spec.chain.validation import FOUNDATION_SHARE
from spec.encoding.primitives import I64_MAX

from proofs.framework import ModelValues, Query, proof, vector_case

_TESTS = "tests/test_proofs_chain_state.py::"
U32_LIMIT = 1 << 32
"""Heights are u32: every height is below this."""


def _no_vector(kind: str) -> Callable[[ModelValues], dict[str, Any]]:
    """``to_case`` of a proof whose inputs have no vector handler (the replay still runs the spec)."""
    def to_case(values: ModelValues) -> dict[str, Any]:
        raise ValueError(f"no vector handler takes a {kind}; see the replay for what the spec did")
    return to_case


# == 1. a valid non-coinbase transaction never creates value ===============================================

MAX_IO = 4
"""Bound of proof 1: at most this many inputs and outputs."""


class TxValueVerdict(NamedTuple):
    """What :func:`tx_value_model` returns."""

    outputs_ok: z3.BoolRef
    """TX-008 (no negative output) and TX-011 (running output sum <= 2^63 - 1) of ``check_tx_sanity``."""
    fee_ok: z3.BoolRef
    """TXC-005 of ``check_tx_context``: inputs minus outputs >= MinTransactionFee."""
    fee: z3.ArithRef


def tx_value_model(inputs: Sequence[z3.ArithRef], outputs: Sequence[z3.ArithRef],
                   params: NetworkParams = INSTANT) -> TxValueVerdict:
    """Model of the value guards a non-coinbase transaction passes: TX-008, TX-011, TXC-005.

    ``inputs`` are the values of the referenced outputs, ``outputs`` the transaction's.
    """
    ok = z3.BoolVal(True)
    total: z3.ArithRef = z3.IntVal(0)
    for v in outputs:
        ok = z3.And(ok, v >= 0)                    # TX-008
        total = total + v
        ok = z3.And(ok, total <= I64_MAX)          # TX-011, after each output
    fee = z3.Sum(*inputs) - total if inputs else -total
    return TxValueVerdict(ok, fee >= params.min_transaction_fee, fee)


def utxo_value_ok(v: z3.ArithRef) -> z3.BoolRef:
    """What a referenced value is: an output the chain accepted, so an i64 that passed TX-008."""
    return z3.And(v >= 0, v <= I64_MAX)


def _replay_tx_value(values: ModelValues) -> dict[str, Any]:
    n, m = values["n"], values["m"]
    ins, outs = values["inputs"][:n], values["outputs"][:m]
    return {"inputs": ins, "outputs": outs, "spec": spec_tx_value_outcome(ins, outs)}


def spec_tx_value_outcome(inputs: Sequence[int], outputs: Sequence[int]) -> str:
    """``"accepted"`` or the rule the spec rejects with, for a signed transfer with these values.

    The transaction spends outputs (of the given values) that a small in-memory chain view holds,
    signed by their owner, at height 1 of ``instant``.
    """
    from spec.chain import builder
    from spec.chain.params import ELA_ASSET_ID
    from spec.chain.tx import Output
    from spec.chain.validation import HeaderInfo, UtxoEntry, check_tx_context, check_tx_sanity
    from spec.errors import Reject

    key = (7).to_bytes(32, "big")
    from spec.crypto.p256 import public_key_from_private
    ph = builder.standard_program_hash(public_key_from_private(key))
    prev = bytes([0xAB]) * 32
    tx = builder.transfer([(prev, i) for i in range(len(inputs))], [(ph, v) for v in outputs])
    tx = builder.sign_standard(tx, [key])
    utxos = {(prev, i): UtxoEntry(output=Output(asset_id=ELA_ASSET_ID, value=v, output_lock=0, program_hash=ph),
                                  height=0) for i, v in enumerate(inputs)}

    class View:
        def tip(self) -> HeaderInfo:
            return HeaderInfo(hash=bytes(32), height=0, timestamp=0, bits=INSTANT.pow_limit_bits)

        def header_at(self, height: int) -> HeaderInfo | None:
            return self.tip() if height == 0 else None

        def utxo(self, txid: bytes, index: int) -> UtxoEntry | None:
            return utxos.get((txid, index))

        def output_count(self, txid: bytes) -> int | None:
            return len(inputs) if txid == prev else None

        def sidechain_tx_withdrawn(self, txhash: bytes) -> bool:
            return False

    try:
        check_tx_sanity(tx, 1, INSTANT)
        check_tx_context(tx, 1, View(), INSTANT)
    except Reject as e:
        return e.rule
    return "accepted"


@proof(
    name="tx_no_value_creation",
    statement="A non-coinbase transaction that passes TX-008, TX-011 and TXC-005 pays out less than it spends",
    rules=("TX-008", "TX-011", "TXC-005"),
    about=("spec.chain.validation.check_tx_sanity", "spec.chain.validation.check_tx_context"),
    correspondence=(_TESTS + "test_tx_value_model_matches_spec", _TESTS + "test_tx_value_model_boundaries"),
    replay=_replay_tx_value, to_case=_no_vector("transaction with chain context"), timeout_s=30,
)
def tx_no_value_creation() -> Query:
    """For every 1 <= n, m <= 4, input values that are accepted outputs (0..2^63-1) and output values
    (any integers): if :func:`tx_value_model` accepts the outputs (TX-008, TX-011) and the fee
    (TXC-005, MinTransactionFee = 100 sela), then sum(outputs) < sum(inputs), indeed
    sum(outputs) <= sum(inputs) - 100 and sum(outputs) <= 2^63 - 1 (no i64 wrap-around can hide
    created value). Unbounded integer arithmetic, as the spec's Python ints."""
    ins = [z3.Int(f"in{i}") for i in range(MAX_IO)]
    outs = [z3.Int(f"out{j}") for j in range(MAX_IO)]
    n, m = z3.Int("n"), z3.Int("m")
    cases = []
    for a in range(1, MAX_IO + 1):
        for b in range(1, MAX_IO + 1):
            v = tx_value_model(ins[:a], outs[:b])
            spent, paid = z3.Sum(*ins[:a]), z3.Sum(*outs[:b])
            guards = z3.And(v.outputs_ok, v.fee_ok, *[utxo_value_ok(x) for x in ins[:a]])
            holds = z3.And(paid < spent, paid <= spent - INSTANT.min_transaction_fee, paid <= I64_MAX)
            cases.append(z3.Implies(z3.And(n == a, m == b, guards), holds))
    return Query(claim=z3.And(*cases), inputs={"n": n, "m": m, "inputs": ins, "outputs": outs},
                 assumptions=(1 <= n, n <= MAX_IO, 1 <= m, m <= MAX_IO))


# == 2. the coinbase never exceeds reward + fees; the foundation share ======================================

SHARE_BOUND = 1 << 53
"""Totals the foundation-share proof covers: every sum of coinbase outputs the chain can carry.

Proof ``issuance_bounded`` shows the whole supply stays below 2^53 sela, and a coinbase pays out at
most reward + fees (``coinbase_within_reward``), which is part of the supply."""


def coinbase_reward_model(outputs: Sequence[z3.ArithRef], fees: z3.ArithRef, reward: z3.ArithRef) -> z3.BoolRef:
    """Model of BLC-005 of ``check_block_context``: sum(coinbase outputs) - fees == block_reward(h)."""
    return z3.Sum(*outputs) - fees == reward


SHARE_DOUBLE = z3.Q(*FOUNDATION_SHARE.as_integer_ratio())
"""The binary64 value the spec multiplies by: 0.3 rounded to 5404319552844595 / 2^54 (just below 0.3)."""
_HALF_ULP = z3.Q(1, 1 << 53)


def foundation_minimum_model(total: z3.ArithRef, minimum: z3.ArithRef) -> z3.BoolRef:
    """Model of TX-012's bound ``int(float(total) * 0.3)``: which integers ``minimum`` it can be.

    For 0 <= total < 2^53 ``float(total)`` is exact; the product with the binary64 0.3
    (:data:`SHARE_DOUBLE`) is rounded to nearest, within a relative 2^-53 of the exact product; ``int``
    truncates a non-negative value toward zero, so the result is above the rounded product minus 1
    and at most it. The model is the set of integers that these bounds allow (a sound enclosure
    of the binary64 computation, which Z3 decides in linear arithmetic; bit-blasting the float
    multiplication timed out). The correspondence test checks the spec's value lies in it.
    """
    exact = z3.ToReal(total) * SHARE_DOUBLE
    lo, hi = exact * (1 - _HALF_ULP), exact * (1 + _HALF_ULP)
    m = z3.ToReal(minimum)
    return z3.And(m <= hi, m > lo - 1)


@proof(
    name="coinbase_within_reward",
    statement="BLC-005 keeps the coinbase at reward + fees; under TX-012 the miner gets at most 70 % + 2 sela",
    rules=("BLC-005", "TX-012", "TXC-005", "TX-008"),
    about=("spec.chain.validation.check_block_context", "spec.chain.validation.check_tx_sanity",
           "spec.chain.params.block_reward"),
    correspondence=(_TESTS + "test_coinbase_model_matches_spec", _TESTS + "test_foundation_minimum_matches_spec"),
    replay=lambda v: {"total": v["total"], "foundation_min": int(float(v["total"]) * FOUNDATION_SHARE)},
    to_case=_no_vector("coinbase with fees"), timeout_s=60,
)
def coinbase_within_reward() -> Query:
    """Two parts, for a coinbase of 2..4 outputs, fees >= 0 and a reward >= 0:

    (a) if the outputs pass TX-008 (each >= 0) and :func:`coinbase_reward_model` (BLC-005) holds,
        then every output and their sum are <= reward + fees;
    (b) for every total 0 <= t < 2^53 (:data:`SHARE_BOUND`): if the first output is at least the
        foundation minimum, any value :func:`foundation_minimum_model` allows for
        ``int(float(t) * 0.3)``, then the rest (the miner's) satisfies 10 * miner <= 7 * t + 20,
        i.e. at most 70 % of the total plus 2 sela (binary64 rounding of 0.3 and of the product
        costs the foundation less than 1.5 sela below 2^53; 70 % + 1 sela is not claimed).
    """
    outs = [z3.Int(f"cb{j}") for j in range(4)]
    fees, reward, k = z3.Int("fees"), z3.Int("reward"), z3.Int("k")
    parts = []
    for count in range(2, 5):
        o = outs[:count]
        guard = z3.And(coinbase_reward_model(o, fees, reward), *[x >= 0 for x in o])
        parts.append(z3.Implies(z3.And(k == count, guard),
                                z3.And(z3.Sum(*o) <= reward + fees, *[x <= reward + fees for x in o])))
    total, first, minimum = z3.Int("total"), z3.Int("first"), z3.Int("foundation_min")
    share_ok = z3.And(total >= 0, total < SHARE_BOUND, first <= total,
                      foundation_minimum_model(total, minimum), first >= minimum)
    share = z3.Implies(share_ok, 10 * (total - first) <= 7 * total + 20)
    return Query(claim=z3.And(*parts, share),
                 inputs={"k": k, "outputs": outs, "fees": fees, "reward": reward, "total": total, "first": first,
                         "foundation_min": minimum},
                 assumptions=(2 <= k, k <= 4, fees >= 0, reward >= 0))


# == 3. total issuance stays under the schedule's cap =========================================================


class Segment(NamedTuple):
    """Heights ``start <= h < end`` all paying ``reward`` (the spec's value at ``start``)."""

    start: int
    end: int
    reward: int


def reward_segments(params: NetworkParams) -> list[Segment]:
    """The step function ``block_reward`` as segments from height 0 to 2^32, rewards from the spec.

    Boundaries: NewELAIssuanceHeight, HalvingRewardHeight, then every HalvingRewardInterval
    (:func:`reward_cuts`); neighbours with equal rewards are merged. Each segment's reward is :func:`block_reward` at its first height; the correspondence tests check
    that it is the reward at every height of the segment (random heights, every boundary +-1).
    """
    cuts = [0, params.new_ela_issuance_height, params.halving_reward_height]
    while cuts[-1] + params.halving_reward_interval < U32_LIMIT:
        cuts.append(cuts[-1] + params.halving_reward_interval)
    cuts.append(U32_LIMIT)
    merged: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        r = block_reward(a, params)
        if merged and merged[-1].reward == r:  # equal neighbours (the zero tail) are one segment
            merged[-1] = merged[-1]._replace(end=b)
        else:
            merged.append(Segment(a, b, r))
    return merged


def reward_cuts(params: NetworkParams) -> list[int]:
    """Every height where the schedule may step (before merging equal neighbours)."""
    cuts = [0, params.new_ela_issuance_height, params.halving_reward_height]
    while cuts[-1] + params.halving_reward_interval < U32_LIMIT:
        cuts.append(cuts[-1] + params.halving_reward_interval)
    return cuts


def reward_model(h: z3.ArithRef, segments: Sequence[Segment]) -> z3.ArithRef:
    """The reward at height ``h`` by the segment model."""
    out: z3.ArithRef = z3.IntVal(0)
    for s in reversed(segments):
        out = z3.If(z3.And(h >= s.start, h < s.end), z3.IntVal(s.reward), out)
    return out


def issued_model(top: z3.ArithRef, segments: Sequence[Segment]) -> z3.ArithRef:
    """sum of the model's reward over heights 1..top (genesis, height 0, pays ORIGIN_ISSUANCE instead)."""
    total: z3.ArithRef = z3.IntVal(0)
    for s in segments:
        lo = max(s.start, 1)
        if lo >= s.end or s.reward == 0:
            continue
        count = z3.If(top < lo, 0, z3.If(top >= s.end, s.end - lo, top - lo + 1))
        total = total + s.reward * count
    return total


def supply_cap(params: NetworkParams) -> int:
    """The supply the parameters imply, in exact integers (no floats, no u32 limit).

    ORIGIN_ISSUANCE + (NewELAIssuanceHeight - 1) * floor(InflationPerYear / BlocksPerYear)
    + (HalvingRewardHeight - NewELAIssuanceHeight) * floor(NewInflationPerYear / BlocksPerYear)
    + sum_{k>=1} HalvingRewardInterval * floor(NewInflationPerYear / BlocksPerYear / 2^k).
    """
    from spec.chain.params import BLOCKS_PER_YEAR, INFLATION_PER_YEAR, NEW_INFLATION_PER_YEAR

    cap = ORIGIN_ISSUANCE + (params.new_ela_issuance_height - 1) * (INFLATION_PER_YEAR // BLOCKS_PER_YEAR)
    cap += (params.halving_reward_height - params.new_ela_issuance_height) * (NEW_INFLATION_PER_YEAR // BLOCKS_PER_YEAR)
    k = 1
    while (r := NEW_INFLATION_PER_YEAR // (BLOCKS_PER_YEAR << k)) > 0:
        cap += params.halving_reward_interval * r
        k += 1
    return cap


def _replay_issuance(values: ModelValues) -> dict[str, Any]:
    out = {}
    for name in NETWORKS:
        params = network(name)
        top = values[f"h_{name}"]
        out[name] = {"height": top, "cap": supply_cap(params),
                     "issued": ORIGIN_ISSUANCE + sum(s.reward * max(0, min(top + 1, s.end) - max(s.start, 1))
                                                     for s in reward_segments(params))}
    return out


@proof(
    name="issuance_bounded",
    statement="Genesis plus the rewards of heights 1..H is at most the schedule's cap, for every u32 H, on every network",
    rules=("BLC-005",),
    about=("spec.chain.params.block_reward",),
    correspondence=(_TESTS + "test_reward_segments_match_spec", _TESTS + "test_reward_segments_boundaries",
                    _TESTS + "test_issued_model_small_heights"),
    replay=_replay_issuance, to_case=_no_vector("reward schedule"), timeout_s=30,
)
def issuance_bounded() -> Query:
    """For each network and every height 0 <= H < 2^32: ORIGIN_ISSUANCE (3.3e15 sela, the genesis
    coinbase) + sum_{h=1}^{H} block_reward(h) <= :func:`supply_cap` (params), with block_reward given
    by :func:`reward_segments` (its values computed by the spec's ``block_reward``). Mainnet's cap is
    3,300,000,000,000,000 + 919,799 * 502,283,105 + 131,400 * 304,414,003
    + 1,051,200 * sum_{k>=1} floor(304,414,003.04 / 2^k) = 4,121,999,481,875,695 sela (< 2^53);
    the proof also states cap < 2^53 for every network. By BLC-005 the coinbase creates exactly the
    reward (fees move existing value), so this bounds the supply of any chain of u32 heights."""
    claims = []
    inputs = {}
    for name in NETWORKS:
        params = network(name)
        top = z3.Int(f"h_{name}")
        inputs[f"h_{name}"] = top
        issued = ORIGIN_ISSUANCE + issued_model(top, reward_segments(params))
        cap = supply_cap(params)
        claims.append(z3.Implies(z3.And(top >= 0, top < U32_LIMIT), z3.And(issued <= cap, cap < SHARE_BOUND)))
    return Query(claim=z3.And(*claims), inputs=inputs)


# == 4. no outpoint is spent twice =============================================================================

CHAIN_BLOCKS = 3
"""Bound of proof 4: blocks in a chain."""
BLOCK_TXS = 2
"""Non-coinbase transactions per block."""
TX_INPUTS = 2
"""Inputs per transaction."""
INITIAL_OUTPOINTS = 4
"""Outpoints unspent before the chain (ids 0..3)."""
UNIVERSE = INITIAL_OUTPOINTS + CHAIN_BLOCKS * BLOCK_TXS
"""Outpoint ids: 0..3 initial, then ``created_id(b, t)`` = output 0 of transaction t of block b."""


def created_id(block: int, tx: int) -> int:
    return INITIAL_OUTPOINTS + block * BLOCK_TXS + tx


class SpendVerdict(NamedTuple):
    accepted: z3.BoolRef
    utxos: tuple[z3.BoolRef, ...]


def apply_block_model(utxos: Sequence[z3.BoolRef], block: int, spends: Sequence[Sequence[z3.ArithRef]],
                      used: Sequence[Sequence[z3.BoolRef]], txs: Sequence[z3.BoolRef]) -> SpendVerdict:
    """Model of the spending guards of ``apply_block`` for block number ``block`` of a chain.

    ``utxos[o]``: outpoint ``o`` is unspent before the block. ``txs[t]``: the block has transaction
    t; ``spends[t][i]`` the outpoint id input i spends, present when ``used[t][i]`` (input 0 of a
    present transaction always is: TX-002). Guards: BLK-009 (and TX-004) no outpoint twice in the
    block; TXC-002/TXC-003 every input's outpoint is unspent before the block (outputs of the same
    block are not visible). After: spent outpoints removed, each present transaction's output 0 added.
    """
    ins = [(spends[t][i], z3.And(txs[t], used[t][i])) for t in range(BLOCK_TXS) for i in range(TX_INPUTS)]
    ok = z3.And(*[z3.Implies(txs[t], used[t][0]) for t in range(BLOCK_TXS)])
    for a in range(len(ins)):
        for b in range(a + 1, len(ins)):
            ok = z3.And(ok, z3.Implies(z3.And(ins[a][1], ins[b][1]), ins[a][0] != ins[b][0]))   # BLK-009
    for o, present in ins:
        ok = z3.And(ok, z3.Implies(present, z3.Or(*[z3.And(o == k, utxos[k]) for k in range(UNIVERSE)])))  # TXC-002/3
    after = []
    for k in range(UNIVERSE):
        spent = z3.Or(*[z3.And(present, o == k) for o, present in ins])
        made = z3.Or(*[z3.And(txs[t], k == created_id(block, t)) for t in range(BLOCK_TXS)]) if k >= INITIAL_OUTPOINTS \
            else z3.BoolVal(False)
        after.append(z3.Or(z3.And(utxos[k], z3.Not(spent)), made))
    return SpendVerdict(ok, tuple(after))


def _spend_inputs() -> tuple[list, list, list]:
    spends = [[[z3.Int(f"s{b}_{t}_{i}") for i in range(TX_INPUTS)] for t in range(BLOCK_TXS)] for b in range(CHAIN_BLOCKS)]
    used = [[[z3.Bool(f"u{b}_{t}_{i}") for i in range(TX_INPUTS)] for t in range(BLOCK_TXS)] for b in range(CHAIN_BLOCKS)]
    txs = [[z3.Bool(f"t{b}_{t}") for t in range(BLOCK_TXS)] for b in range(CHAIN_BLOCKS)]
    return spends, used, txs


def _replay_spends(values: ModelValues) -> dict[str, Any]:
    chain = []
    for b in range(CHAIN_BLOCKS):
        block = []
        for t in range(BLOCK_TXS):
            if values["txs"][b][t]:
                block.append([values["spends"][b][t][i] for i in range(TX_INPUTS) if values["used"][b][t][i]])
        chain.append(block)
    return {"chain": chain, "note": "run spec_chain_outcome in the tests to replay through apply_block"}


@proof(
    name="no_double_spend",
    statement="Along any chain of accepted blocks (<= 3 blocks, 2 txs, 2 inputs) no outpoint is spent twice",
    rules=("BLK-009", "TX-004", "TXC-002", "TXC-003"),
    about=("spec.chain.state.apply_block", "spec.chain.state.connect_block", "spec.chain.state.spent_outpoints",
           "spec.chain.state.created_entries"),
    correspondence=(_TESTS + "test_spend_model_matches_apply_block",),
    replay=_replay_spends, to_case=_no_vector("chain of blocks"), timeout_s=30,
)
def no_double_spend() -> Query:
    """Chains of 3 blocks, each with 0..2 non-coinbase transactions of 1..2 inputs, over 4 initially
    unspent outpoints and the outputs the chain's transactions create (10 outpoint ids): if
    :func:`apply_block_model` accepts every block in turn, then the sequence of all spent outpoints
    (``spent_outpoints`` of every block, in order) has no repetition. (A rejected block leaves the
    state unchanged in the spec, so a chain the spec accepts is a chain of accepted blocks.)"""
    spends, used, txs = _spend_inputs()
    utxos: tuple[z3.BoolRef, ...] = tuple(z3.BoolVal(k < INITIAL_OUTPOINTS) for k in range(UNIVERSE))
    all_ok = []
    for b in range(CHAIN_BLOCKS):
        v = apply_block_model(utxos, b, spends[b], used[b], txs[b])
        all_ok.append(v.accepted)
        utxos = v.utxos
    flat = [(spends[b][t][i], z3.And(txs[b][t], used[b][t][i]))
            for b in range(CHAIN_BLOCKS) for t in range(BLOCK_TXS) for i in range(TX_INPUTS)]
    distinct = z3.And(*[z3.Implies(z3.And(flat[a][1], flat[c][1]), flat[a][0] != flat[c][0])
                        for a in range(len(flat)) for c in range(a + 1, len(flat))])
    return Query(claim=z3.Implies(z3.And(*all_ok), distinct), inputs={"spends": spends, "used": used, "txs": txs})


# == 5. fork choice =========================================================================================

FORK_BLOCKS = 6
"""Bound of proof 5: valid blocks connected after genesis."""


def fork_choice_model(works: Sequence[z3.ArithRef]) -> z3.ArithRef:
    """Model of ``add_block``'s tip update: index (0 = genesis) of the tip after connecting blocks
    with cumulative works ``works[1:]`` in order; a block becomes the tip only with strictly more work."""
    best: z3.ArithRef = z3.IntVal(0)
    best_work = works[0]
    for i in range(1, len(works)):
        better = works[i] > best_work
        best = z3.If(better, z3.IntVal(i), best)
        best_work = z3.If(better, works[i], best_work)
    return best


@proof(
    name="fork_choice_first_max",
    statement="The tip add_block chooses has the most cumulative work and is the first seen among equals",
    rules=(),
    about=("spec.chain.state.add_block", "spec.chain.state.fork_choice"),
    correspondence=(_TESTS + "test_fork_choice_model_matches_add_block",),
    replay=lambda v: {"works": v["works"]}, to_case=_no_vector("block tree"), timeout_s=30,
)
def fork_choice_first_max() -> Query:
    """For every sequence of 1 + 6 cumulative works (genesis, then the valid blocks in the order
    ``add_block`` connects them), the index chosen by :func:`fork_choice_model` has work >= every
    other, and every earlier block has strictly less work (so equal work never reorganises, and the
    result depends only on the sequence: deterministic)."""
    works = [z3.Int(f"w{i}") for i in range(FORK_BLOCKS + 1)]
    best = fork_choice_model(works)
    claims = []
    for i in range(FORK_BLOCKS + 1):
        claims.append(z3.Implies(best == i, z3.And(
            *[works[i] >= w for w in works], *[works[j] < works[i] for j in range(i)])))
    return Query(claim=z3.And(z3.And(best >= 0, best <= FORK_BLOCKS), *claims), inputs={"works": works})


# == 6. merkle: BLK-008 closes the duplicate-last malleability ===============================================

MERKLE_MAX = 6
"""Bound of proof 6: list lengths 1..6."""


def merkle_root_model(leaves: Sequence[Any], parent: Callable[[Any, Any], Any]) -> Any:
    """The duplicate-last tree over ``leaves`` with ``parent`` for an inner node: the shape of
    ``merkle_root`` (``parent`` is ``merkle_parent`` in the tests, an uninterpreted function here)."""
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2 == 1:
            level.append(level[-1])
        level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _inner_nodes(leaves: Sequence[Any], parent: Callable[[Any, Any], Any]) -> list[Any]:
    nodes: list[Any] = []
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2 == 1:
            level.append(level[-1])
        level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        nodes.extend(level)
    return nodes


def _replay_merkle(values: ModelValues) -> dict[str, Any]:
    a = [x.to_bytes(32, "little") for x in values["a"][:values["n"]]]
    b = [x.to_bytes(32, "little") for x in values["b"][:values["m"]]]
    return {"root_a": merkle_root(a).hex(), "root_b": merkle_root(b).hex(),
            "dup_a": has_duplicate(a), "dup_b": has_duplicate(b)}


def _case_merkle(values: ModelValues) -> dict[str, Any]:
    b = [x.to_bytes(32, "little").hex() for x in values["b"][:values["m"]]]
    return vector_case("chain/ela.merkle.root", "merkle-duplicate-closed-cex", {"hashes": b}, ("BLK-008",),
                       "model counterexample of merkle_duplicate_closed")


@proof(
    name="merkle_duplicate_closed",
    statement="Two different txid lists (length <= 6) with one merkle root: the longer one repeats a txid",
    rules=("BLK-008", "BLK-011"),
    about=("spec.chain.merkle.merkle_root", "spec.chain.merkle.has_duplicate", "spec.chain.validation.check_block_sanity"),
    correspondence=(_TESTS + "test_merkle_model_matches_spec", _TESTS + "test_merkle_closed_by_blk008"),
    replay=_replay_merkle, to_case=_case_merkle, timeout_s=60,
)
def merkle_duplicate_closed() -> Query:
    """For lists A (length n) and B (length m), 1 <= n <= m <= 6, of 256-bit hashes, with ``parent``
    an uninterpreted function assumed collision-free (``parent(x, y) = parent(x', y')`` only if
    ``x = x'`` and ``y = y'``, encoded by left/right inverse functions) and no leaf equal to an inner
    node of either tree: if ``merkle_root_model(A) == merkle_root_model(B)`` and A != B, then n < m
    and B contains a repeated hash. So a block whose txids are distinct (BLK-008) has no other
    distinct-txid list of length <= 6 with its root.

    What is *not* claimed: without the leaf/inner-node assumption the statement is false
    (``[H(a, b)]`` and ``[a, b]`` share a root, Z3 finds it at once). The assumption holds for
    transactions: an inner node is sha256d of 64 bytes, and a transaction that passes TX-002 and
    TX-006 (one input, one output) serializes to more than 64 bytes, so a txid equal to an inner
    node is a sha256d collision.
    """
    hs = z3.BitVecSort(256)
    parent = z3.Function("parent", hs, hs, hs)
    left = z3.Function("left", hs, hs)
    right = z3.Function("right", hs, hs)
    a = [z3.BitVec(f"a{i}", 256) for i in range(MERKLE_MAX)]
    b = [z3.BitVec(f"b{i}", 256) for i in range(MERKLE_MAX)]
    n, m = z3.Int("n"), z3.Int("m")
    assumptions = [1 <= n, n <= m, m <= MERKLE_MAX]
    cases = []
    for i in range(1, MERKLE_MAX + 1):
        for j in range(i, MERKLE_MAX + 1):
            la, lb = a[:i], b[:j]
            nodes = _inner_nodes(la, parent) + _inner_nodes(lb, parent)
            injective = [z3.And(left(x) == x.arg(0), right(x) == x.arg(1)) for x in nodes]
            separate = [leaf != node for leaf in la + lb for node in nodes]
            differ = z3.BoolVal(True) if i != j else z3.Or(*[x != y for x, y in zip(la, lb)])
            collide = z3.And(merkle_root_model(la, parent) == merkle_root_model(lb, parent), differ)
            dup_b = z3.Or(*[lb[p] == lb[q] for p in range(j) for q in range(p + 1, j)]) if j > 1 else z3.BoolVal(False)
            cases.append(z3.Implies(z3.And(n == i, m == j, *injective, *separate, collide),
                                    z3.And(n < m, dup_b)))
    return Query(claim=z3.And(*cases), inputs={"n": n, "m": m, "a": a, "b": b}, assumptions=tuple(assumptions))
