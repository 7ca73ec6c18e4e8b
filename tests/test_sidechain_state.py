"""The sidechain's state, a block's undo and fork choice (spec.sidechain.state): undo restores exactly the
state before a block, a reorganisation leaves exactly the state the winning branch implies (a deposit, a DID
and a withdrawal of the losing branch are gone), and the fork choice is the main chain's (one generic
``choose``), checked by hand-picked cases and by Hypothesis over random arrival orders of a block tree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain.pow import calc_work
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain import state as SS
from spec.sidechain.block import SideBlock

from conformance.bindings_sidechain.crosschain import _Main
from conformance.generators.sidechain_fork import ForkBlocks, fork_blocks

import pytest

PARAMS = SP.id_network("instant")


def _main(f: ForkBlocks) -> _Main:
    return _Main(set(f.main_blocks), {f.deposit.txid(): f.deposit})


def _fields(s: SS.SideState) -> tuple:  # type: ignore[type-arg]
    return (s.hashes, s.timestamp, dict(s.utxos), dict(s.assets), s.deposits, s.withdrawals, s.did, s.editions, s.work)


def _blocks_by_hash(f: ForkBlocks) -> dict[bytes, SideBlock]:
    return {b.hash(): b for b in (*f.a, *f.b, *f.c, f.bad, *f.after_bad)}


def test_undo_restores_exactly_the_state_before_each_block() -> None:
    f = fork_blocks()
    main = _main(f)
    state = SS.side_genesis_state(PARAMS)
    for block in f.a:
        after, undo = SS.apply_side_block(state, block, main)
        assert after != state and after.height == state.height + 1
        back = SS.undo_side_block(after, block, undo, state.timestamp)
        assert _fields(back) == _fields(state)
        state = after
    assert state.deposits == {f.deposit.txid()} and state.withdrawals == (f.withdrawal,)
    assert state.did.did(f.did) is not None


def test_undo_only_takes_the_tip_off() -> None:
    f = fork_blocks()
    g = SS.side_genesis_state(PARAMS)
    s1, u1 = SS.apply_side_block(g, f.a[0], _main(f))
    s2, _ = SS.apply_side_block(s1, f.a[1], _main(f))
    with pytest.raises(ValueError):
        SS.undo_side_block(s2, f.a[0], u1, g.timestamp)


def test_reorganisation_drops_what_only_the_losing_branch_did() -> None:
    f = fork_blocks()
    main = _main(f)
    tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b[:3]], main)
    assert tree.best == f.a[-1].hash()                               # a tie keeps the first seen
    assert tree.tip_state.credited(f.deposit.txid()) and tree.tip_state.did.did(f.did) is not None
    tree, out = SS.add_side_block(tree, f.b[3], main)
    assert out == {f.b[3].hash(): "valid"} and tree.best == f.b[3].hash()
    tip = tree.tip_state
    assert not tip.credited(f.deposit.txid())                       # the deposit may be credited again
    assert tip.did.did(f.did) is None                               # the DID does not resolve
    assert f.withdrawal not in tip.withdrawals                      # the arbiters have nothing to pay
    assert not any(o.program_hash == f.a[0].transactions[1].outputs[0].program_hash for o in tip.utxos.values())
    # undoing branch a block by block and applying b gives the same state as b's own chain
    state = tree.states[f.a[-1].hash()]
    for i in range(len(f.a) - 1, -1, -1):
        parent = tree.states[f.a[i].header.previous]
        _, undo = SS.apply_side_block(parent, f.a[i], main)
        state = SS.undo_side_block(state, f.a[i], undo, parent.timestamp)
    for block in f.b:
        state, _ = SS.apply_side_block(state, block, main)
    assert _fields(state) == _fields(tip)


def test_the_losing_branch_deposit_can_be_credited_on_the_winner() -> None:
    f = fork_blocks()
    main = _main(f)
    tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b], main)
    # a's first block credits the deposit; on b's tip the same recharge is acceptable again
    from conformance.generators.sidechain import _coinbase, _side_block
    again, m = _side_block(f.b[-1], [_coinbase(5), f.a[0].transactions[1]])
    tree, out = SS.add_side_block(tree, again, _Main(set(f.main_blocks) | {m}, main.txs))
    assert out == {again.hash(): "valid"} and tree.tip_state.credited(f.deposit.txid())


def test_require_side_tip_says_why_a_block_is_not_the_tip() -> None:
    f = fork_blocks()
    main = _main(f)
    tree, _ = SS.side_fork_choice(PARAMS, [*f.a, *f.b[:2], f.bad, *f.after_bad, f.c[2]], main)
    assert SS.require_side_tip(tree, f.a[-1].hash()).height == 3
    cases = {f.b[1].hash(): Reason.SIDE_FORK_LESS_WORK, f.c[2].hash(): Reason.BLOCK_UNKNOWN_PARENT,
             f.bad.hash(): Reason.COINBASE_BAD_REWARD, f.after_bad[1].hash(): Reason.SIDE_FORK_DESCENDS_INVALID}
    for h, reason in cases.items():
        with pytest.raises(Reject) as e:
            SS.require_side_tip(tree, h)
        assert e.value.reason is reason


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fork_choice_over_random_arrival_orders(data: st.DataObject) -> None:
    f = fork_blocks()
    main = _main(f)
    pool = list(_blocks_by_hash(f).values())
    order = data.draw(st.lists(st.sampled_from(pool), max_size=16))
    tree, _ = SS.side_fork_choice(PARAMS, order, main)
    valid = tree.states
    # the tip has the most work of all valid blocks
    assert tree.tip_state.work == max(s.work for s in valid.values())
    # every valid block's state is what applying its chain from genesis gives (no trace of other branches)
    by_hash = _blocks_by_hash(f)
    for h, state in valid.items():
        linear = SS.side_genesis_state(PARAMS)
        for bh in state.hashes[1:]:
            linear, _ = SS.apply_side_block(linear, by_hash[bh], main)
        assert _fields(linear) == _fields(state)
        assert state.work == sum(calc_work(by_hash[bh].header.bits) for bh in state.hashes[1:]) + \
            calc_work(SP.side_genesis_block().header.bits)
    # a block on the invalid block or its descendants is never valid; an orphan's parent is unknown
    assert f.bad.hash() not in valid and not any(b.hash() in valid for b in f.after_bad)
    for o in tree.orphans.values():
        assert o.header.previous not in valid
    # ties: among the blocks of the tip's work, the tip is the one that reached that work first
    best_work = tree.tip_state.work
    first = next(h for h in _connection_order(order, main) if valid[h].work == best_work)
    assert tree.best == first


def _connection_order(order: list[SideBlock], main: _Main) -> list[bytes]:
    """The hashes of the valid blocks in the order the tree connected them (each add's outcome order)."""
    tree = SS.new_side_tree(PARAMS)
    seen: list[bytes] = [tree.best]
    for b in order:
        tree, out = SS.add_side_block(tree, b, main)
        seen.extend(h for h, o in out.items() if o == "valid")
    return seen
