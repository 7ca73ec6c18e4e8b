"""Invariants of the ID-chain state machine (:mod:`spec.did.chain`).

:func:`spec.did.chain.apply_request` parses JSON, verifies signatures and builds pydantic models, so
it cannot run on Z3 terms. Each proof here is about a **model** of its guards over a bounded
sequence of requests about one DID; the correspondence tests in ``tests/test_proofs_did_chain.py``
evaluate the same model functions on constants (:func:`proofs.framework.concrete`) and compare them
with ``apply_request`` on real requests built from the SDK test data (the customized 2:2 DID
``did:elastos:foo`` and the primitive ``user1``), with Hypothesis choosing the sequences.

==============================  ==========================================================================
proof                           statement (over every sequence of ``STEPS`` requests about one DID)
==============================  ==========================================================================
``did_history_single_chain``    no two accepted updates or transfers name the same previous transaction
``did_deactivation_final``      nothing is accepted after an accepted deactivate
``did_changes_need_control``    an accepted change is signed by a controller (or, for a primitive DID's
                                deactivate, an authorization key) and a customized DID's documents carry
                                at least m controller proofs
``did_recreate_after_grace``    a customized DID is created again only after its grace end and never once
                                deactivated, is not updated or transferred after its grace end, and its
                                history stays one chain across its lives
==============================  ==========================================================================

Operations are coded ``0`` create, ``1`` update, ``2`` transfer, ``3`` deactivate. ``ref`` is the index
of the request whose txid an update's ``previousTxid`` or a transfer's ticket names (``-1``: none of
the sequence's).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from hashlib import sha256
from typing import Any, NamedTuple

import z3

from proofs.framework import ModelValues, Query, proof

_TESTS = "tests/test_proofs_did_chain.py::"
STEPS = 6
"""Bound: the length of the request sequences the proofs cover."""
CREATE, UPDATE, TRANSFER, DEACTIVATE = 0, 1, 2, 3
OPS = ("create", "update", "transfer", "deactivate")


class DidState(NamedTuple):
    """The model of one DID's chain state."""

    exists: z3.BoolRef
    deactivated: z3.BoolRef
    last: z3.ArithRef
    """Index of the last accepted request (``-1``: none)."""


def initial() -> DidState:
    return DidState(z3.BoolVal(False), z3.BoolVal(False), z3.IntVal(-1))


def accepts(s: DidState, op: z3.ArithRef, ref: z3.ArithRef, verified: z3.BoolRef,
            lapsed: z3.BoolRef = z3.BoolVal(False), customized: z3.BoolRef = z3.BoolVal(True)) -> z3.BoolRef:
    """Model of :func:`spec.did.chain.apply_request`'s guards on a request that verify_request
    verified or not: IDC-002 (create only new), IDC-013 (a customized DID, not deactivated, is created
    again once ``lapsed``: the block time is after its grace end), IDC-003 (others only known), IDC-004
    (deactivation is final), IDC-014 (no update or transfer of a lapsed customized DID), IDC-005 (update
    names the last txid), IDC-007 (ticket names the last txid)."""
    again = z3.And(s.exists, customized, lapsed, z3.Not(s.deactivated))
    links = z3.Or(op == UPDATE, op == TRANSFER)
    return z3.And(verified, z3.If(op == CREATE, z3.Or(z3.Not(s.exists), again),
                                  z3.And(s.exists, z3.Not(s.deactivated),
                                         z3.Implies(links, z3.And(ref == s.last, z3.Not(z3.And(customized, lapsed)))))))


def step(s: DidState, i: int, op: z3.ArithRef, ref: z3.ArithRef, verified: z3.BoolRef,
         lapsed: z3.BoolRef = z3.BoolVal(False), customized: z3.BoolRef = z3.BoolVal(True)) -> tuple[DidState, z3.BoolRef]:
    """The state after request ``i``, and whether it was accepted."""
    ok = accepts(s, op, ref, verified, lapsed, customized)
    return DidState(z3.Or(s.exists, ok), z3.Or(s.deactivated, z3.And(ok, op == DEACTIVATE)),
                    z3.If(ok, z3.IntVal(i), s.last)), ok


def run(ops: Sequence[z3.ArithRef], refs: Sequence[z3.ArithRef], verified: Sequence[z3.BoolRef],
        lapsed: Sequence[z3.BoolRef] | None = None, customized: z3.BoolRef = z3.BoolVal(True)) -> list[z3.BoolRef]:
    """Whether each request of the sequence is accepted (``lapsed[i]``: request i comes after the DID's grace
    end; none by default)."""
    flags = list(lapsed) if lapsed is not None else [z3.BoolVal(False)] * len(ops)
    s, out = initial(), []
    for i, (op, ref, v, late) in enumerate(zip(ops, refs, verified, flags, strict=True)):
        s, ok = step(s, i, op, ref, v, late, customized)
        out.append(ok)
    return out


def verified_model(op: z3.ArithRef, customized: z3.BoolRef, by_controller: z3.BoolRef,
                   by_authorization: z3.BoolRef, proofs: z3.ArithRef, m: z3.ArithRef) -> z3.BoolRef:
    """Model of who :func:`spec.did.request.verify_request` lets change a DID (REQ-008, REQ-010,
    REQ-012, DOC genuineness): a document (create, update, transfer) needs a signer that controls
    the DID (its own key for a primitive DID, a controller's for a customized one) and, for a
    customized DID, ``m`` controller proofs (on the document, and on the ticket of a transfer); a
    deactivate needs a controller, or for a primitive DID one of its authorization keys."""
    document_ok = z3.And(by_controller, z3.Implies(customized, proofs >= m))
    deactivate_ok = z3.Or(by_controller, z3.And(z3.Not(customized), by_authorization))
    return z3.If(op == DEACTIVATE, deactivate_ok, document_ok)


def _inputs() -> tuple[list[z3.ArithRef], list[z3.ArithRef], list[z3.BoolRef]]:
    return ([z3.Int(f"op{i}") for i in range(STEPS)], [z3.Int(f"ref{i}") for i in range(STEPS)],
            [z3.Bool(f"verified{i}") for i in range(STEPS)])


def _domain(ops: Sequence[z3.ArithRef], refs: Sequence[z3.ArithRef]) -> tuple[z3.BoolRef, ...]:
    return tuple(z3.And(0 <= o, o <= 3, -1 <= r, r < STEPS) for o, r in zip(ops, refs, strict=True))


# -- the replay: a model's sequence through the spec -----------------------------------------------------------


def step_txid(i: int) -> bytes:
    """The txid the replay gives request ``i``: unique per position."""
    return sha256(f"did-chain-step-{i}".encode()).digest()


def spec_outcomes(ops: Sequence[int], refs: Sequence[int], signed_ok: Sequence[bool],
                  lapsed: Sequence[bool] | None = None) -> list[bool]:
    """Apply a sequence about ``did:elastos:foo`` (2:2, controllers user1 and user2, who are created
    first) with :func:`spec.did.chain.apply_request`; whether each request is accepted.

    ``signed_ok`` false makes the request fail verification: a create or update signed by user3 (not a
    controller), a transfer whose ticket has one of two proofs, a deactivate by user3. A transfer hands
    the DID to user1 (already a controller), so the controllers stay the same.

    Without ``lapsed`` every request comes in 2023 and publishes the SDK's foo document (expiring in
    2026). With ``lapsed``, request i comes one second after foo's grace end when ``lapsed[i]`` (and foo
    exists), else in 2023, and publishes foo's document renewed to five years after its block time, so
    that each flag of the model is realised by the spec's clock.
    """
    from conformance.generators.did_requests import USER1, USER2, USER3, norm, req, resign, ticket_text
    from spec.did import chain
    from spec.did.document import format_date
    from spec.errors import Reject

    @functools.lru_cache(maxsize=None)
    def renewed(expires: int) -> str:
        return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"],
                      lambda d: d.update(expires=format_date(expires)))

    state = chain.EMPTY
    for i, (name, user) in enumerate((("user1.id", USER1), ("user2.id", USER2), ("user3.id", USER3))):
        doc = norm(name)
        if lapsed is not None:  # controllers that stay valid (IDC-015) through every grace end the sequence reaches
            doc = resign(doc, [f"{user}#primary"], lambda d: d.update(expires="2199-01-01T00:00:00Z"))
        state = chain.apply_request(state, req("create", doc, f"{user}#primary"), 1700000000 + i,
                                    sha256(name.encode()).digest())
    foo = "did:elastos:foo"
    out = []
    for i, (op, ref, good) in enumerate(zip(ops, refs, signed_ok, strict=True)):
        prev = step_txid(ref).hex() if 0 <= ref < len(ops) else "cd" * 32
        signer = f"{USER1}#primary" if good else f"{USER3}#primary"
        t, doc = 1700000100 + i, norm("foo.id")
        if lapsed is not None:
            rec = state.did(foo)
            if lapsed[i] and rec is not None:
                t = chain.grace_end(rec.document) + 1
            doc = renewed(t + 5 * 365 * 24 * 3600)
        if op == CREATE:
            text = req("create", doc, signer)
        elif op == UPDATE:
            text = req("update", doc, signer, previous_txid=prev)
        elif op == TRANSFER:
            signers = [f"{USER1}#primary", f"{USER2}#primary"] if good else [f"{USER1}#primary"]
            text = req("transfer", doc, f"{USER1}#primary",
                       ticket=ticket_text(foo, signers, to=USER1, txid=prev))
        else:
            text = req("deactivate", foo, signer)
        try:
            state = chain.apply_request(state, text, t, step_txid(i))
            out.append(True)
        except Reject:
            out.append(False)
    return out


def _replay(values: ModelValues) -> dict[str, Any]:
    ops = [min(max(o, 0), 3) for o in values["ops"]]
    refs, verified = values["refs"], values["verified"]
    return {"ops": [OPS[o] for o in ops], "refs": refs, "verified": verified,
            "spec_accepts": spec_outcomes(ops, refs, verified)}


def _replay_lapsed(values: ModelValues) -> dict[str, Any]:
    ops = [min(max(o, 0), 3) for o in values["ops"]]
    refs, verified, lapsed = values["refs"], values["verified"], values["lapsed"]
    return {"ops": [OPS[o] for o in ops], "refs": refs, "verified": verified, "lapsed": lapsed,
            "spec_accepts": spec_outcomes(ops, refs, verified, lapsed)}


def _no_vector(values: ModelValues) -> dict[str, Any]:
    raise ValueError("a model sequence is replayed through apply_request; see the replay")


# == proofs ==================================================================================================


@proof(
    name="did_history_single_chain",
    statement="No two accepted updates or transfers of a DID name the same previous transaction",
    rules=("IDC-002", "IDC-003", "IDC-005", "IDC-007"),
    about=("spec.did.chain.apply_request",),
    correspondence=(_TESTS + "test_model_matches_apply_request", _TESTS + "test_model_matches_on_orderly_sequences"),
    replay=_replay, to_case=_no_vector, timeout_s=30,
)
def did_history_single_chain() -> Query:
    """For every sequence of ``STEPS`` = 6 requests about one DID (any operations, any referenced
    txids, any verification outcome), if :func:`accepts` accepts requests i < j that are both updates
    or transfers, they name different previous transactions, and each names an earlier accepted
    request: the accepted requests form a single chain from the create."""
    ops, refs, verified = _inputs()
    ok = run(ops, refs, verified)
    claims = []
    for j in range(STEPS):
        links = z3.Or(ops[j] == UPDATE, ops[j] == TRANSFER)
        earlier = z3.Or(*[z3.And(refs[j] == i, ok[i]) for i in range(j)]) if j else z3.BoolVal(False)
        claims.append(z3.Implies(z3.And(ok[j], links), earlier))
        for i in range(j):
            both = z3.And(ok[i], ok[j], z3.Or(ops[i] == UPDATE, ops[i] == TRANSFER), links)
            claims.append(z3.Implies(both, refs[i] != refs[j]))
    return Query(claim=z3.And(*claims), inputs={"ops": ops, "refs": refs, "verified": verified},
                 assumptions=_domain(ops, refs))


@proof(
    name="did_deactivation_final",
    statement="Once a deactivate of a DID is accepted, no later request about it is accepted",
    rules=("IDC-004",),
    about=("spec.did.chain.apply_request",),
    correspondence=(_TESTS + "test_model_matches_apply_request", _TESTS + "test_model_matches_on_orderly_sequences"),
    replay=_replay, to_case=_no_vector, timeout_s=30,
)
def did_deactivation_final() -> Query:
    """For every sequence of ``STEPS`` = 6 requests about one DID, if request i is an accepted
    deactivate then :func:`accepts` rejects every request j > i (create included, by IDC-002)."""
    ops, refs, verified = _inputs()
    ok = run(ops, refs, verified)
    claims = [z3.Implies(z3.And(ok[i], ops[i] == DEACTIVATE), z3.Not(ok[j]))
              for i in range(STEPS) for j in range(i + 1, STEPS)]
    return Query(claim=z3.And(*claims), inputs={"ops": ops, "refs": refs, "verified": verified},
                 assumptions=_domain(ops, refs))


@proof(
    name="did_changes_need_control",
    statement="An accepted change is signed by a controller (or a primitive DID's authorization key for a "
    "deactivate); a customized DID's documents carry at least m controller proofs",
    rules=("REQ-008", "REQ-010", "REQ-012", "IDC-004"),
    about=("spec.did.chain.apply_request", "spec.did.request.verify_request"),
    correspondence=(_TESTS + "test_verified_model_matches_verify_request",
                    _TESTS + "test_model_matches_apply_request"),
    replay=_replay, to_case=_no_vector, timeout_s=30,
)
def did_changes_need_control() -> Query:
    """For every sequence of ``STEPS`` = 6 requests about one DID whose verification is
    :func:`verified_model` (any signer, any number of proofs 0..n, any 1 <= m <= n <= 10), every
    request :func:`accepts` accepts is by a controller, or is a deactivate of a primitive DID by an
    authorization key; and for a customized DID every accepted create, update or transfer carries at
    least m controller proofs. Deactivating a customized DID needs one controller, as upstream."""
    ops, refs, _ = _inputs()
    customized, m, n = z3.Bool("customized"), z3.Int("m"), z3.Int("n")
    ctrl = [z3.Bool(f"by_controller{i}") for i in range(STEPS)]
    auth = [z3.Bool(f"by_authorization{i}") for i in range(STEPS)]
    proofs = [z3.Int(f"proofs{i}") for i in range(STEPS)]
    verified = [verified_model(ops[i], customized, ctrl[i], auth[i], proofs[i], m) for i in range(STEPS)]
    ok = run(ops, refs, verified)
    claims = []
    for i in range(STEPS):
        claims.append(z3.Implies(ok[i], z3.Or(ctrl[i], z3.And(ops[i] == DEACTIVATE, z3.Not(customized), auth[i]))))
        claims.append(z3.Implies(z3.And(ok[i], customized, ops[i] != DEACTIVATE), proofs[i] >= m))
    bounds = (1 <= m, m <= n, n <= 10, *[z3.And(0 <= p, p <= n) for p in proofs])
    return Query(claim=z3.And(*claims),
                 inputs={"ops": ops, "refs": refs, "verified": ctrl, "m": m, "n": n, "proofs": proofs},
                 assumptions=_domain(ops, refs) + bounds)


@proof(
    name="did_recreate_after_grace",
    statement="A customized DID is created again only after its grace end and never once deactivated; after its "
    "grace end it is never updated or transferred; its history stays a single chain",
    rules=("IDC-013", "IDC-014", "IDC-004", "IDC-005", "IDC-007"),
    about=("spec.did.chain.apply_request",),
    correspondence=(_TESTS + "test_lapsed_model_matches_apply_request",),
    replay=_replay_lapsed, to_case=_no_vector, timeout_s=30,
)
def did_recreate_after_grace() -> Query:
    """For every sequence of ``STEPS`` = 6 requests about one customized DID, each coming before or after
    the DID's grace end (``lapsed``, any pattern): an accepted create that follows an accepted request
    comes after the grace end and no deactivate was accepted before it; no update or transfer is accepted
    after the grace end; and accepted updates and transfers still name distinct, earlier accepted
    requests (the history is one chain across the DID's lives)."""
    ops, refs, verified = _inputs()
    lapsed = [z3.Bool(f"lapsed{i}") for i in range(STEPS)]
    ok = run(ops, refs, verified, lapsed)
    claims = []
    for j in range(STEPS):
        links = z3.Or(ops[j] == UPDATE, ops[j] == TRANSFER)
        before = [z3.And(ok[i]) for i in range(j)]
        deactivated = [z3.And(ok[i], ops[i] == DEACTIVATE) for i in range(j)]
        claims.append(z3.Implies(z3.And(ok[j], ops[j] == CREATE, z3.Or(z3.BoolVal(False), *before)),
                                 z3.And(lapsed[j], z3.Not(z3.Or(z3.BoolVal(False), *deactivated)))))
        claims.append(z3.Implies(z3.And(ok[j], links), z3.Not(lapsed[j])))
        earlier = z3.Or(*[z3.And(refs[j] == i, ok[i]) for i in range(j)]) if j else z3.BoolVal(False)
        claims.append(z3.Implies(z3.And(ok[j], links), earlier))
        for i in range(j):
            both = z3.And(ok[i], ok[j], z3.Or(ops[i] == UPDATE, ops[i] == TRANSFER), links)
            claims.append(z3.Implies(both, refs[i] != refs[j]))
    return Query(claim=z3.And(*claims), inputs={"ops": ops, "refs": refs, "verified": verified, "lapsed": lapsed},
                 assumptions=_domain(ops, refs))
