"""Correspondence tests of the ID-chain proofs (:mod:`proofs.did_chain`).

The model functions the proofs reason about are evaluated on constants
(:func:`proofs.framework.concrete`) and compared with :func:`spec.did.chain.apply_request` and
:func:`spec.did.request.verify_request` on real requests built from the SDK test data.
"""

from __future__ import annotations

import json

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.generators.did_requests import USER1, USER2, USER3, documents, norm, req, resign
from proofs import did_chain as dc
from proofs.framework import concrete, get_proof, run_proof
from spec.did import document as D
from spec.did import request as R
from spec.errors import Reject


def _model(ops: list[int], refs: list[int], verified: list[bool]) -> list[bool]:
    return concrete(dc.run([z3.IntVal(o) for o in ops], [z3.IntVal(r) for r in refs],
                           [z3.BoolVal(v) for v in verified]))


_steps = st.lists(st.tuples(st.integers(0, 3), st.integers(-1, dc.STEPS - 1), st.booleans()),
                  min_size=1, max_size=dc.STEPS)


@settings(max_examples=30, deadline=None)
@given(_steps)
def test_model_matches_apply_request(steps: list[tuple[int, int, bool]]) -> None:
    ops, refs, verified = (list(x) for x in zip(*steps, strict=True))
    assert _model(ops, refs, verified) == dc.spec_outcomes(ops, refs, verified)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=dc.STEPS))
def test_model_matches_on_orderly_sequences(steps: list[tuple[int, bool]]) -> None:
    """Sequences that mostly name the previous request, so that long accepted chains occur."""
    ops = [o for o, _ in steps]
    refs = [i - 1 for i in range(len(steps))]
    verified = [True if i % 3 else v for i, (_, v) in enumerate(steps)]
    assert _model(ops, refs, verified) == dc.spec_outcomes(ops, refs, verified)


def _lapsed_model(ops: list[int], refs: list[int], verified: list[bool], lapsed: list[bool]) -> list[bool]:
    return concrete(dc.run([z3.IntVal(o) for o in ops], [z3.IntVal(r) for r in refs],
                           [z3.BoolVal(v) for v in verified], [z3.BoolVal(x) for x in lapsed]))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.booleans(), st.booleans()), min_size=1,
                max_size=dc.STEPS))
def test_lapsed_model_matches_apply_request(steps: list[tuple[int, bool, bool, bool]]) -> None:
    """Sequences about foo whose requests come before or after its grace end (the spec's clock realises each
    flag), mostly naming the previous request so that re-creates and long chains occur."""
    ops = [o for o, _, _, _ in steps]
    refs = [i - 1 if orderly else -1 for i, (_, orderly, _, _) in enumerate(steps)]
    verified = [True if i % 3 else v for i, (_, _, v, _) in enumerate(steps)]
    lapsed = [x for _, _, _, x in steps]
    assert _lapsed_model(ops, refs, verified, lapsed) == dc.spec_outcomes(ops, refs, verified, lapsed)


def test_lapsed_create_update_sequence() -> None:
    """create; update after the grace end (rejected); create again after it; update naming it; deactivate;
    create after the new grace end (rejected: deactivated)."""
    ops, refs, verified = [0, 1, 0, 1, 3, 0], [-1, 0, -1, 2, -1, -1], [True] * 6
    lapsed = [False, True, True, False, False, True]
    want = [True, False, True, True, True, False]
    assert dc.spec_outcomes(ops, refs, verified, lapsed) == _lapsed_model(ops, refs, verified, lapsed) == want


def test_long_accepted_chain() -> None:
    ops, refs, verified = [0, 1, 2, 1, 3, 1], [-1, 0, 1, 2, 3, 4], [True] * 6
    assert dc.spec_outcomes(ops, refs, verified) == _model(ops, refs, verified) == [True] * 5 + [False]


def _verified(op: str, doc_text: str, signer: str) -> bool:
    resolve = D.resolver_from_texts(documents())
    try:
        R.verify_request(R.parse_request(req(op, doc_text, signer, previous_txid="ab" * 32 if op == "update"
                                             else None)), resolve)
        return True
    except Reject:
        return False


@pytest.mark.parametrize("op", ["create", "update"])
@pytest.mark.parametrize("signer", [f"{USER1}#primary", f"{USER2}#primary", f"{USER3}#primary"])
@pytest.mark.parametrize("proofs", [1, 2])
def test_verified_model_matches_verify_request(op: str, signer: str, proofs: int) -> None:
    """foo is 2:2 (user1, user2): its document with 1 or 2 controller proofs, signed by a controller or not."""
    doc = norm("foo.id") if proofs == 2 else resign(norm("foo.id"), [f"{USER1}#primary"])
    assert len(D.parse_document(doc).proofs) == proofs
    by_controller = signer.split("#")[0] in (USER1, USER2)
    expect = concrete(dc.verified_model(z3.IntVal(dc.OPS.index(op)), z3.BoolVal(True), z3.BoolVal(by_controller),
                                        z3.BoolVal(False), z3.IntVal(proofs), z3.IntVal(2)))
    assert _verified(op, doc, signer) == expect


@pytest.mark.parametrize("signer", [f"{USER1}#primary", f"{USER2}#primary"])
def test_verified_model_primitive(signer: str) -> None:
    by_controller = signer.startswith(USER1)
    expect = concrete(dc.verified_model(z3.IntVal(0), z3.BoolVal(False), z3.BoolVal(by_controller),
                                        z3.BoolVal(False), z3.IntVal(1), z3.IntVal(1)))
    assert _verified("create", norm("user1.id"), signer) == expect
    deactivate = req("deactivate", USER1, signer)
    try:
        R.verify_request(R.parse_request(deactivate), D.resolver_from_texts(documents()))
        got = True
    except Reject:
        got = False
    assert got == concrete(dc.verified_model(z3.IntVal(3), z3.BoolVal(False), z3.BoolVal(by_controller),
                                             z3.BoolVal(False), z3.IntVal(1), z3.IntVal(1)))


def test_replay_runs_the_spec() -> None:
    out = dc._replay({"ops": [0, 3, 1], "refs": [-1, -1, 1], "verified": [True, True, True]})
    assert out["spec_accepts"] == [True, True, False]
    json.dumps(out)


@pytest.mark.parametrize("name", ["did_history_single_chain", "did_deactivation_final", "did_changes_need_control",
                                  "did_recreate_after_grace"])
def test_proof_is_proved(name: str) -> None:
    p = get_proof(name)
    assert p.method == "model" and p.correspondence
    assert run_proof(p).status == "proved"
