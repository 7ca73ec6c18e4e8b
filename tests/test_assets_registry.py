"""Registered assets: issuance and the per-asset balance, against a direct recomputation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spec.assets import registry as A
from spec.chain.tx import Output
from spec.errors import Reject

ASSETS = [bytes([i]) * 32 for i in range(1, 4)]


def _o(aid: bytes, v: int) -> Output:
    return Output(asset_id=aid, value=v, output_lock=0, program_hash=bytes(21))


@given(st.lists(st.tuples(st.sampled_from(ASSETS), st.integers(0, 10**9)), max_size=6),
       st.lists(st.tuples(st.sampled_from(ASSETS), st.integers(0, 10**9)), max_size=6))
def test_asset_fees_is_inputs_minus_outputs_per_asset(ins, outs) -> None:
    fees = A.asset_fees([_o(a, v) for a, v in ins], [_o(a, v) for a, v in outs])
    for aid in ASSETS:
        touched = any(a == aid for a, _ in ins + outs)
        expected = sum(v for a, v in ins if a == aid) - sum(v for a, v in outs if a == aid)
        assert (aid in fees) == touched
        if touched:
            assert fees[aid] == expected


@given(st.integers(0, 8), st.integers(-10**12, 10**12))
def test_amount_precise_is_whole_smallest_units(precision: int, amount: int) -> None:
    unit = 10 ** (8 - precision)
    assert A.amount_precise(amount, precision) == (amount % unit == 0)
    assert A.amount_precise(amount * unit, precision)


def test_issued_outputs_take_the_register_txid() -> None:
    from conformance.generators.assets import _register_tx
    tx = _register_tx()
    aid = A.check_register_asset(tx)
    assert [o.asset_id for o in A.issued_outputs(tx)] == [aid]
    try:
        A.check_register_asset(_register_tx(issued=[]))
    except Reject as e:
        assert e.rule == "AST-003"
    else:
        raise AssertionError("a registration issuing nothing was accepted")
