"""Deposits and withdrawals on the sidechain: the float64 conversion, and random deposits checked both ways."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject
from spec.sidechain import crosschain as X
from spec.sidechain.tx import SideTransaction

from conformance.generators.sidechain import X_PH, _deposit_v0, _recharge, _user


def _go_fixed64_of_float_product(amount: int, rate: float) -> int:
    """What Go's ``common.Fixed64(float64(amount) * rate)`` gives, computed through IEEE-754 doubles
    packed and unpacked explicitly (truncation toward zero, as Go's float-to-int conversion)."""
    product = struct.unpack("<d", struct.pack("<d", float(amount) * rate))[0]
    return int(product)


@given(st.integers(0, 2**62), st.floats(min_value=1e-8, max_value=1e4, allow_nan=False))
def test_convert_is_go_float64_arithmetic(amount: int, rate: float) -> None:
    assert X.convert(amount, rate) == _go_fixed64_of_float_product(amount, rate)


@given(st.integers(0, 2**53))
def test_rate_one_is_exact_below_2_53(amount: int) -> None:
    assert X.convert(amount, 1.0) == amount


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 10**12), st.integers(0, 10**6)),
                min_size=1, max_size=4, unique_by=lambda t: t[0]),
       st.sampled_from([1.0, 0.5, 2.0, 0.1]), st.data())
def test_a_faithful_recharge_passes_and_any_change_fails(entries, rate, data) -> None:
    users = {label: _user(label) for label, _, _ in entries}
    main = _deposit_v0([(users[l][1], amt, amt + 10_000 + extra) for l, amt, extra in entries])
    pays = [(users[l][0], X.convert(amt, rate)) for l, amt, _ in entries]
    good = _recharge(main, pays)
    total = X.check_recharge(good, main, X_PH, exchange_rate=rate, min_cross_chain_fee=10_000, credited=lambda h: False)
    assert total == sum(v for _, v in pays)
    with pytest.raises(Reject) as e:
        X.check_recharge(good, main, X_PH, exchange_rate=rate, min_cross_chain_fee=10_000, credited=lambda h: True)
    assert e.value.reason is Reason.DEPOSIT_DUPLICATE
    i = data.draw(st.integers(0, len(pays) - 1))
    changed = list(pays)
    changed[i] = (changed[i][0], changed[i][1] + data.draw(st.sampled_from([1, -1])))
    if changed[i][1] >= 0:
        bad: SideTransaction = _recharge(main, changed)
        with pytest.raises(Reject) as e:
            X.check_recharge(bad, main, X_PH, exchange_rate=rate, min_cross_chain_fee=10_000, credited=lambda h: False)
        assert e.value.reason in (Reason.DEPOSIT_OUTPUT_MISSING, Reason.DEPOSIT_TOTAL)
