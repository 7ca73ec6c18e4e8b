"""State transition and fork choice: apply / undo, reorganisation, ties, orphans, invalid branches."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.chain import params as P
from spec.chain import state as S
from spec.chain.pow import calc_work
from spec.errors import Reason
from conformance.generators import chain as G
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])


def same(a: S.ChainState, b: S.ChainState) -> bool:
    return (a.headers, dict(a.utxos), dict(a.tx_outputs), a.work) == (b.headers, dict(b.utxos), dict(b.tx_outputs), b.work)


def chain_blocks():
    b1 = G.funded_chain()[0]
    t = G.pay(10**8)
    b2 = G.make_block(b1.hash(), 2, [t], fees=100)
    b3 = G.make_block(b2.hash(), 3)
    return [b1, b2, b3]


def test_apply_then_undo_restores_each_state():
    state = S.genesis_state(P.INSTANT)
    history = [state]
    undos = []
    blocks = chain_blocks()
    for b in blocks:
        state, undo = S.apply_block(state, b, G.NOW)
        history.append(state)
        undos.append(undo)
    for b, undo in zip(reversed(blocks), reversed(undos)):
        state = S.undo_block(state, b, undo)
        history.pop()
        assert same(state, history[-1])


def test_apply_spends_and_creates():
    b1, b2, _ = chain_blocks()
    s1, _ = S.apply_block(S.genesis_state(P.INSTANT), b1, G.NOW)
    s2, undo = S.apply_block(s1, b2, G.NOW)
    spent = (b1.transactions[0].txid(), 1)
    assert spent in s1.utxos and spent not in s2.utxos
    assert undo.spent[0][0] == spent
    t = b2.transactions[1]
    assert {(t.txid(), i) for i in range(len(t.outputs))} <= set(s2.utxos)
    assert s2.work == s1.work + calc_work(b2.header.bits)


def test_apply_does_not_change_its_argument():
    b1 = G.funded_chain()[0]
    g = S.genesis_state(P.INSTANT)
    before = dict(g.utxos)
    S.apply_block(g, b1, G.NOW)
    assert dict(g.utxos) == before


def test_block_not_on_tip():
    b1 = G.funded_chain()[0]
    s1, _ = S.apply_block(S.genesis_state(P.INSTANT), b1, G.NOW)
    expect_reject(S.apply_block, s1, G.make_block(G.GENESIS, 1, ts=P.GENESIS_TIMESTAMP + 9), G.NOW,
                  reason=Reason.BLOCK_UNKNOWN_PARENT, rule="ST-001")


A = G.branch(None, 3, "a")
B = G.branch(A[0], 3, "b", start=20)          # forks after a1; 4 blocks deep: heaviest
C = G.branch(None, 2, "c", start=40)


@FAST
@given(st.permutations(A + B + C))
def test_fork_choice_is_independent_of_arrival_order(blocks):
    tree = S.fork_choice(P.INSTANT, blocks, G.NOW)
    assert tree.best == B[-1].hash()
    assert not tree.orphans and not tree.invalid
    assert tree.tip_state.height == 4


def test_equal_work_keeps_the_first_tip():
    assert S.fork_choice(P.INSTANT, A + C + [A[0]], G.NOW).best == A[-1].hash()
    a2 = A[:2]
    assert S.fork_choice(P.INSTANT, C + a2, G.NOW).best == C[-1].hash()
    assert S.fork_choice(P.INSTANT, a2 + C, G.NOW).best == a2[-1].hash()


def test_reorg_and_orphans():
    tree = S.new_tree(P.INSTANT)
    tree, out = S.add_block(tree, A[2], G.NOW)
    assert out == {A[2].hash(): "orphan"}
    tree, out = S.add_block(tree, A[1], G.NOW)
    tree, out = S.add_block(tree, A[0], G.NOW)
    assert set(out.values()) == {"valid"} and tree.best == A[2].hash()
    for b in B:
        tree, _ = S.add_block(tree, b, G.NOW)
    assert tree.best == B[-1].hash() and tree.status(A[2].hash()) == "valid"


def test_invalid_block_poisons_its_descendants():
    bad = G.make_block(A[1].hash(), 3, miner=G.ph("x"), bits=0x207FFFFE)
    kids = G.branch(bad, 3, "x", start=60)
    tree = S.fork_choice(P.INSTANT, A[:2] + [bad] + kids, G.NOW)
    assert tree.best == A[1].hash()
    assert tree.invalid[bad.hash()] == Reason.BLOCK_BAD_BITS.value
    assert all(tree.status(k.hash()) == "invalid" for k in kids)


def test_withdrawn_sidechain_hashes_follow_connect_and_undo() -> None:
    """connect_block records the sidechain transaction hashes a WithdrawFromSideChain v0 names (TXC-024's
    view) and undo_block forgets them."""
    from spec.chain.builder import block_template, coinbase, solve
    from spec.chain.params import ELA_ASSET_ID, INSTANT
    from spec.chain.state import connect_block, genesis_state, undo_block
    from spec.chain.tx import Output, Transaction, TxType, WithdrawFromSideChainPayload

    state = genesis_state(INSTANT)
    w = Transaction(version=0x09, tx_type=TxType.WITHDRAW_FROM_SIDECHAIN, payload=WithdrawFromSideChainPayload(
        block_height=1, genesis_block_address=b"X", sidechain_tx_hashes=(b"\x01" * 32, b"\x02" * 32)),
        inputs=(), outputs=(Output(asset_id=ELA_ASSET_ID, value=1, output_lock=0, program_hash=bytes(21)),))
    cb = coinbase(1, INSTANT, bytes(21))
    block = solve(block_template(state.tip().hash, 1, state.tip().timestamp + 1, INSTANT.pow_limit_bits, [cb, w]))
    after, undo = connect_block(state, block)
    assert after.sidechain_tx_withdrawn(b"\x01" * 32) and after.sidechain_tx_withdrawn(b"\x02" * 32)
    assert not state.sidechain_tx_withdrawn(b"\x01" * 32)
    back = undo_block(after, block, undo)
    assert back.withdrawn == frozenset() and not back.sidechain_tx_withdrawn(b"\x02" * 32)


def _honest_blocks() -> list:
    """Blocks 1..3 on ``instant``: block 2 a signed transfer, block 3 two transfers (an odd count of three
    transactions, which the duplicate-last mutation can lengthen) and a fork block on block 1."""
    from spec.chain import builder as B

    b1 = G.funded_chain()[0]
    t2 = G.pay(1_000_000)
    b2 = G.make_block(b1.hash(), 2, [t2], fees=100)
    ta = G.signed(B.transfer([(t2.txid(), 0)], [(G.ph("carol"), 999_000)]), "bob")
    tb = G.signed(B.transfer([(t2.txid(), 1)], [(G.ph("carol"), t2.outputs[1].value - 1_000)]), G.SPENDER)
    b3 = G.make_block(b2.hash(), 3, [ta, tb], fees=2_000)
    side = G.make_block(b1.hash(), 2, miner=G.ph("side"))
    return [b1, b2, b3, side]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_forged_copy_never_keeps_the_honest_block_out(d: st.DataObject) -> None:
    """Honest blocks in any order with forged copies (same hash; the AuxPoW, a program, a signature or the
    transaction list changed) anywhere among them: once the honest blocks have all been offered again at the
    end, as a syncing node asks for every hash it does not know, the tree is the honest blocks' alone."""
    from helpers import FORGERIES, forged_copy

    honest = _honest_blocks()
    order = d.draw(st.permutations(honest))
    for _ in range(d.draw(st.integers(1, 4))):
        forged = forged_copy(d.draw(st.sampled_from(honest)), d.draw(st.sampled_from(FORGERIES)))
        order.insert(d.draw(st.integers(0, len(order))), forged)
    tree = S.new_tree(G.NET)
    for b in order:
        tree, outcome = S.add_block(tree, b, G.NOW)
        for h, o in outcome.items():   # a forged copy is refused and forgotten, never remembered invalid
            assert o in ("valid", "orphan", "duplicate") or h not in tree.invalid
    for b in honest:
        tree, _ = S.add_block(tree, b, G.NOW)
    expected = S.fork_choice(G.NET, honest, G.NOW)
    assert tree.best == expected.best == honest[2].hash()
    assert set(tree.states) == set(expected.states) and not tree.invalid and not tree.orphans
