"""Correspondence tests of the asset and deposit proofs (:mod:`proofs.assets`): the model functions on
constants against the spec functions on real requests and transactions."""

from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import assets as pa
from proofs.framework import concrete, get_proof, run_proof
from spec.errors import Reject
from spec.sidechain import crosschain as X

from conformance.generators.sidechain import X_PH, _deposit_v0, _recharge, _user


def _edition_model(numbers, signers, tos, refs, signed) -> list[bool]:  # type: ignore[no-untyped-def]
    iv = lambda xs: [z3.IntVal(x) for x in xs]  # noqa: E731
    return concrete(pa.edition_run(iv(numbers), iv(signers), iv(tos), iv(refs), [z3.BoolVal(g) for g in signed]))


_transfers = st.lists(st.tuples(st.integers(0, pa.N + 1), st.integers(0, pa.PEOPLE - 1), st.integers(0, pa.PEOPLE - 1),
                                st.integers(pa.MINT, pa.STEPS - 1), st.booleans()), min_size=1, max_size=pa.STEPS)


@settings(max_examples=25, deadline=None)
@given(_transfers, st.data())
def test_edition_model_matches_apply_edition(steps, data) -> None:  # type: ignore[no-untyped-def]
    if data.draw(st.booleans()):  # orderly: sell on from the last event, so long chains of sales occur
        steps = [(k, s, t, i - 1 if i else pa.MINT, True) for i, (k, s, t, _, _) in enumerate(steps)]
    cols = [list(c) for c in zip(*steps, strict=True)]
    assert _edition_model(*cols) == pa.spec_edition_outcomes(*cols)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, pa.DEPOSITS - 1), min_size=1, max_size=pa.STEPS),
       st.lists(st.integers(-5, 60_000), min_size=pa.DEPOSITS, max_size=pa.DEPOSITS),
       st.lists(st.integers(0, 70_000), min_size=pa.DEPOSITS, max_size=pa.DEPOSITS))
def test_deposit_model_matches_check_recharge(refs: list[int], amounts: list[int], values: list[int]) -> None:
    ph, addr = _user("a")
    mains = [_deposit_v0([(addr, amounts[d], values[d])]) for d in range(pa.DEPOSITS)]
    done: set[bytes] = set()
    spec_ok, minted = [], 0
    for d in refs:
        recharge = _recharge(mains[d], [(ph, amounts[d])] if amounts[d] >= 0 else [])
        try:
            minted += X.check_recharge(recharge, mains[d], X_PH, exchange_rate=1.0, min_cross_chain_fee=pa.FEE,
                                       credited=lambda h: h in done)
            done.add(mains[d].txid())
            spec_ok.append(True)
        except Reject:
            spec_ok.append(False)
    ok, m, _ = pa.deposit_run([z3.IntVal(r) for r in refs], [z3.IntVal(a) for a in amounts], [z3.IntVal(v) for v in values])
    assert concrete(ok) == spec_ok
    assert concrete(m) == minted


def test_the_asset_proofs_prove() -> None:
    for name in ("edition_never_exceeds_n", "edition_no_double_sale", "deposit_credited_once"):
        assert run_proof(get_proof(name)).status == "proved", name
