"""Generators of the ``did`` suite for the ID-chain state machine and resolve.

Every request is built here from the SDK's test documents, credentials, tickets and keys
(:mod:`conformance.generators.did_requests`), signed with RFC 6979 nonces, so the sequences are
deterministic. A request's txid is SHA256d of its bytes (:func:`spec.did.chain.request_txid`),
so an update's ``previousTxid`` and a ticket's ``txid`` are computed from the requests before them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from spec.did import chain
from spec.errors import Reason

from conformance.bindings_did.chain import replay
from conformance.generators.did_documents import NOW_AFTER
from conformance.generators.did_requests import (
    ISSUER, OK, USER1, USER2, USER3, USER4, documents, norm, req, resign, ticket_text)
from conformance.generators.did_documents import text
from conformance.vectors import CaseSpec, generator

T0 = 1700000000
"""Block time of the first request (2023-11-14); the SDK's documents expire in 2026."""
FOO, BAR, BAZ, FOOBAR, EXAMPLE = (f"did:elastos:{n}" for n in ("foo", "bar", "baz", "foobar", "example"))
TWITTER = f"{USER1}#twitter"


class Seq:
    """A request sequence under construction; block times advance by one second per request."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, request_text: str) -> str:
        self.items.append({"request": request_text, "block_time": T0 + len(self.items)})
        return request_text

    def last_txid(self, did: str) -> str:
        state, _ = replay([(i["request"], i["block_time"]) for i in self.items])
        rec = state.did(did)
        assert rec is not None, did
        return rec.transactions[-1].txid

    def copy(self) -> Seq:
        s = Seq()
        s.items = list(self.items)
        return s


def users() -> Seq:
    s = Seq()
    s.add(req("create", norm("issuer.id"), f"{ISSUER}#primary"))
    for did, name in ((USER1, "user1"), (USER2, "user2"), (USER3, "user3"), (USER4, "user4")):
        s.add(req("create", norm(f"{name}.id"), f"{did}#primary"))
    return s


def customized() -> Seq:
    s = users()
    s.add(req("create", norm("examplecorp.id"), f"{ISSUER}#primary"))
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(req("create", norm("bar.id"), f"{USER3}#primary"))
    s.add(req("create", norm("baz.id"), f"{USER1}#primary"))
    s.add(req("create", norm("foobar.id"), "did:elastos:foobar#key2"))
    return s


def update(s: Seq, did: str, doc: str, vm: str, prev: str | None = None) -> str:
    return req("update", doc, vm, previous_txid=prev or s.last_txid(did))


def transfer(s: Seq, did: str, new_doc: str, signers: list[str], txid: str | None = None) -> str:
    return req("transfer", new_doc, f"{USER4}#primary",
               ticket=ticket_text(did, signers, to=USER4, txid=txid or s.last_txid(did)))


def foo_to_user4() -> str:
    """foo's document with user4 in place of user2, signed by user1 and user4 (2:2)."""
    return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER4}#primary"], lambda d: d.update(controller=[USER1, USER4]))


def _sequences() -> Iterator[tuple[str, Seq, str, tuple[str, ...]]]:
    """(name, sequence, what, rules) for did.chain.apply."""
    yield "create_users", users(), "the issuer and user1..4 are created", ("IDC-001", "IDC-002")
    s = customized()
    yield "create_customized", s, "examplecorp, foo (2:2), bar (3:3), baz (1:3), foobar (2:3) after their controllers", \
        ("IDC-002",)
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(req("create", norm("foo.id"), f"{USER1}#primary"))
    yield "create_twice", s, "the second create of foo is rejected", ("IDC-002",)
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER2}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary", prev=chain.request_txid(s.items[-2]["request"]).hex()))
    s.add(update(s, USER1, norm("user1.id"), f"{USER1}#primary"))
    yield "updates_chain", s, "two updates naming the last txid, then one naming an older txid (rejected)", \
        ("IDC-003", "IDC-005")
    s = Seq()
    s.add(req("update", norm("user1.id"), f"{USER1}#primary", previous_txid="00" * 32))
    s.add(req("create", norm("user1.id"), f"{USER1}#primary"))
    yield "update_before_create", s, "an update of an unknown DID is rejected, the create then accepted", \
        ("IDC-002", "IDC-003")
    s = customized()
    s.add(transfer(s, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]))
    s.add(transfer(s, FOOBAR, norm("foobar.new-id"), [f"{USER1}#primary", f"{USER2}#primary"]))
    s.add(transfer(s, FOO, foo_to_user4(), [f"{USER1}#primary", f"{USER2}#primary"]))
    s.add(transfer(s, BAR, norm("foobar.new-id"), [f"{USER1}#primary", f"{USER2}#primary", f"{USER3}#primary"]))
    yield "transfers", s, "baz (1:3), foobar (2:3) and foo (2:2) transferred to user4 with tickets naming their last " \
        "txid; a transfer of bar publishing foobar's document is rejected", \
        ("IDC-003", "IDC-007")
    s = customized()
    s.add(req("transfer", norm("baz.new-id"), f"{USER4}#primary", ticket=text("v2", "baz.tt.json")))
    s.add(transfer(s, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]))
    s.add(transfer(s, BAZ, norm("baz.new-id"), [f"{USER4}#primary"]))
    yield "transfer_sdk_ticket_wrong_txid", s, \
        "the SDK's ticket names another txid (rejected); a fresh ticket is accepted; then user4 hands it on", \
        ("IDC-007",)
    s = users()
    s.add(req("deactivate", USER3, f"{USER3}#primary"))
    s.add(update(s, USER3, norm("user3.id"), f"{USER3}#primary"))
    s.add(req("deactivate", USER3, f"{USER3}#primary"))
    s.add(req("create", norm("user3.id"), f"{USER3}#primary"))
    yield "deactivate_final", s, "after a deactivate, update, deactivate and create are rejected", \
        ("IDC-002", "IDC-004")
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(req("deactivate", FOO, f"{USER1}#primary"))
    s.add(transfer(s, FOO, foo_to_user4(), [f"{USER1}#primary", f"{USER2}#primary"]))
    yield "deactivate_customized", s, "foo deactivated by one controller; a transfer after it is rejected", \
        ("IDC-004",)
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    swapped = resign(norm("foo.id"), [f"{USER1}#primary", f"{USER3}#primary"],
                     lambda d: d.update(controller=[USER1, USER3]))
    s.add(update(s, FOO, swapped, f"{USER1}#primary"))
    yield "update_changes_controllers", s, "an update replacing a controller is rejected (use a transfer)", \
        ("IDC-006",)
    s = Seq()
    s.items.append({"request": req("create", norm("user1.id"), f"{USER1}#primary"), "block_time": NOW_AFTER})
    yield "create_expired_document", s, "a document that expired before the block time is rejected", ("IDC-001",)
    s = users()
    s.add(req("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary"))
    s.items.append({"request": req("revoke", TWITTER, f"{USER3}#primary"), "block_time": NOW_AFTER})
    s.items.append({"request": req("revoke", TWITTER, f"{ISSUER}#primary"), "block_time": NOW_AFTER})
    yield "resolve_expired", s, "a revoke at a block time after the documents' expiry: every DID resolves expired", \
        ("IDC-010",)


def _credential_sequences() -> Iterator[tuple[str, Seq, str, int, tuple[str, ...], str | None]]:
    """(name, sequence, what, expected status, rules, issuer) for did.chain.resolve_credential."""
    twitter = text("v2", "user1.vc.twitter.normalized.json")
    declare = req("declare", twitter, f"{USER1}#primary")
    by_owner, by_issuer = req("revoke", TWITTER, f"{USER1}#primary"), req("revoke", TWITTER, f"{ISSUER}#primary")
    by_other = req("revoke", TWITTER, f"{USER3}#primary")
    orders: list[tuple[str, list[str], str, int, tuple[str, ...], str | None]] = [
        ("declared", [declare], "declared once", 0, ("IDC-008",), None),
        ("declare_twice", [declare, declare], "the second declare is rejected", 0, ("IDC-008",), None),
        ("declare_revoke_owner", [declare, by_owner], "revoked by its owner", 2, ("IDC-010",), None),
        ("declare_revoke_issuer", [declare, by_issuer], "revoked by its issuer", 2, ("IDC-010",), None),
        ("declare_revoke_other", [declare, by_other], "a revoke by a stranger is rejected", 0, ("IDC-010",), None),
        ("revoke_owner_then_declare", [by_owner, declare], "revoked before its declare: the declare is rejected",
         2, ("IDC-009",), None),
        ("revoke_issuer_then_declare", [by_issuer, declare], "revoked by the issuer before its declare (asked "
         "with that issuer)", 2, ("IDC-009",), ISSUER),
        ("revoke_issuer_undeclared", [by_issuer], "revoked by the issuer, never declared, asked without an issuer: "
         "not found", 3, ("IDC-010",), None),
        ("revoke_other_then_declare", [by_other, declare],
         "a stranger's revoke of an undeclared credential is recorded but does not count", 0, ("IDC-009",), None),
        ("revoke_other_asked_as_issuer", [by_other], "the stranger's revoke counts when asked with that issuer", 2,
         ("IDC-010",), USER3),
        ("revoke_only", [by_owner], "revoked without a declare", 2, ("IDC-010",), None),
        ("revoke_twice", [declare, by_owner, by_owner], "a second revoke by the same signer is rejected", 2,
         ("IDC-011",), None),
        ("revoke_owner_and_issuer", [declare, by_owner, by_issuer], "revoked by both", 2, ("IDC-011",), None),
        ("not_found", [], "never declared", 3, (), None),
    ]
    for name, reqs, what, status, rules, issuer in orders:
        s = users()
        for r in reqs:
            s.add(r)
        yield name, s, what, status, rules, issuer


def _inputs(s: Seq) -> list[dict[str, Any]]:
    return json.loads(json.dumps(s.items))


@generator("did", "did.chain.apply")
def apply_cases() -> Iterator[CaseSpec]:
    for name, s, what, rules in _sequences():
        yield CaseSpec(name, {"requests": _inputs(s)}, OK, rules=rules, description=what)


@generator("did", "did.chain.resolve_credential")
def credential_cases() -> Iterator[CaseSpec]:
    for name, s, what, status, rules, issuer in _credential_sequences():
        inp: dict[str, Any] = {"requests": _inputs(s), "id": TWITTER}
        if issuer is not None:
            inp["issuer"] = issuer
        state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
        got, _txs = chain.resolve_credential(state, TWITTER, issuer)
        assert got == status, (name, got)
        yield CaseSpec(name, inp, OK, rules=rules, description=what, expect_ok={"status": status})


@generator("did", "did.chain.submit")
def submit_cases() -> Iterator[CaseSpec]:
    twitter = text("v2", "user1.vc.twitter.normalized.json")

    def case(name: str, s: Seq, last: str, means: str | Reason, what: str, rules: tuple[str, ...] = (),
             block_time: int | None = None) -> CaseSpec:
        t = T0 + len(s.items) if block_time is None else block_time
        return CaseSpec(name, {"requests": _inputs(s), "request": last, "block_time": t}, means,
                        rules=rules if means == OK else (), description=what)

    s = users()
    yield case("create_foo", s, req("create", norm("foo.id"), f"{USER2}#primary"), OK, "a 2:2 DID after its controllers",
               ("IDC-001", "IDC-002"))
    yield case("create_expired", Seq(), req("create", norm("user1.id"), f"{USER1}#primary"), Reason.IDCHAIN_EXPIRES,
               "the document expired before the block time", block_time=NOW_AFTER)
    yield case("create_at_expiry", Seq(), req("create", norm("user1.id"), f"{USER1}#primary"), Reason.IDCHAIN_EXPIRES,
               "expires equal to the block time is too short", block_time=chain.document.parse_date("2026-11-20T09:54:08Z"))
    yield case("create_existing", s, req("create", norm("user1.id"), f"{USER1}#key2"), Reason.IDCHAIN_ALREADY_EXISTS,
               "user1 exists")
    yield case("update_user1", s, update(s, USER1, norm("user1.id"), f"{USER1}#primary"), OK,
               "previousTxid is the create's txid", ("IDC-003", "IDC-004", "IDC-005", "IDC-006"))
    yield case("update_0x_previous", s, update(s, USER1, norm("user1.id"), f"{USER1}#primary",
                                               prev="0x" + s.last_txid(USER1)), OK,
               "a previousTxid with a 0x prefix", ("IDC-005",))
    yield case("update_unknown", Seq(), req("update", norm("user1.id"), f"{USER1}#primary", previous_txid="00" * 32),
               Reason.IDCHAIN_NOT_FOUND, "user1 was never created")
    yield case("update_wrong_previous", s, update(s, USER1, norm("user1.id"), f"{USER1}#primary", prev="11" * 32),
               Reason.IDCHAIN_PREVIOUS_TXID, "previousTxid names no transaction of user1")
    yield case("update_other_dids_txid", s, update(s, USER1, norm("user1.id"), f"{USER1}#primary",
                                                   prev=s.last_txid(USER2)),
               Reason.IDCHAIN_PREVIOUS_TXID, "previousTxid names user2's create")
    f = users()
    f.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    swapped = resign(norm("foo.id"), [f"{USER1}#primary", f"{USER3}#primary"],
                     lambda d: d.update(controller=[USER1, USER3]))
    yield case("update_controllers_changed", f, update(f, FOO, swapped, f"{USER1}#primary"),
               Reason.IDCHAIN_CONTROLLERS_CHANGED, "foo's update replaces user2 by user3")
    yield case("update_foo", f, update(f, FOO, norm("foo.id"), f"{USER1}#primary"), OK, "foo's controllers kept",
               ("IDC-006",))
    d = users()
    d.add(req("deactivate", USER3, f"{USER3}#primary"))
    yield case("deactivate_twice", d, req("deactivate", USER3, f"{USER3}#primary"), Reason.IDCHAIN_DEACTIVATED,
               "DID WAS AREADY DEACTIVE")
    yield case("update_deactivated", d, update(d, USER3, norm("user3.id"), f"{USER3}#primary"),
               Reason.IDCHAIN_DEACTIVATED, "an update after the deactivate")
    yield case("create_deactivated", d, req("create", norm("user3.id"), f"{USER3}#primary"),
               Reason.IDCHAIN_ALREADY_EXISTS, "a deactivated DID cannot be created again")
    yield case("deactivate_user1", s, req("deactivate", USER1, f"{USER1}#primary"), OK, "by its default key",
               ("IDC-003", "IDC-004"))
    c = customized()
    yield case("transfer_baz", c, transfer(c, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]), OK,
               "the ticket names baz's last txid", ("IDC-003", "IDC-004", "IDC-007"))
    yield case("transfer_foobar_0x_ticket", c, transfer(c, FOOBAR, norm("foobar.new-id"),
                                                        [f"{USER1}#primary", f"{USER3}#primary"],
                                                        txid="0x" + c.last_txid(FOOBAR)), OK,
               "a ticket txid with a 0x prefix", ("IDC-007",))
    yield case("transfer_sdk_ticket", c, req("transfer", norm("baz.new-id"), f"{USER4}#primary",
                                             ticket=text("v2", "baz.tt.json")),
               Reason.IDCHAIN_TICKET_TXID, "the SDK's ticket names the SDK's txid, not this chain's")
    yield case("transfer_stale_ticket", c, transfer(c, BAZ, norm("baz.new-id"), [f"{USER1}#primary"],
                                                    txid=c.last_txid(FOO)),
               Reason.IDCHAIN_TICKET_TXID, "the ticket names another DID's txid")
    yield case("transfer_unknown", users(), transfer(c, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]),
               Reason.REQUEST_TICKET, "baz was never created: its ticket cannot be checked (verification runs first)")
    v = users()
    yield case("declare", v, req("declare", twitter, f"{USER1}#primary"), OK, "declared once",
               ("IDC-008", "IDC-009"))
    v.add(req("declare", twitter, f"{USER1}#primary"))
    yield case("declare_twice", v, req("declare", twitter, f"{USER1}#primary"), Reason.IDCHAIN_CREDENTIAL_EXISTS,
               "Credential already exists.")
    yield case("revoke_by_issuer", v, req("revoke", TWITTER, f"{ISSUER}#primary"), OK, "by the issuer",
               ("IDC-010", "IDC-011"))
    yield case("revoke_by_stranger", v, req("revoke", TWITTER, f"{USER2}#primary"), Reason.IDCHAIN_REVOKE_SIGNER,
               "user2 is neither owner nor issuer")
    v.add(req("revoke", TWITTER, f"{USER1}#primary"))
    yield case("revoke_twice", v, req("revoke", TWITTER, f"{USER1}#primary"), Reason.IDCHAIN_CREDENTIAL_REVOKED,
               "the owner revokes again")
    r = users()
    r.add(req("revoke", TWITTER, f"{ISSUER}#primary"))
    yield case("declare_after_revoke", r, req("declare", twitter, f"{USER1}#primary"),
               Reason.IDCHAIN_CREDENTIAL_REVOKED, "the issuer revoked it before the declare")
    r = users()
    r.add(req("revoke", TWITTER, f"{USER3}#primary"))
    yield case("revoke_undeclared_by_stranger", users(), req("revoke", TWITTER, f"{USER3}#primary"), OK,
               "an undeclared credential: the revoke is recorded", ("IDC-010", "IDC-011"))
    yield case("declare_after_stranger_revoke", r, req("declare", twitter, f"{USER1}#primary"), OK,
               "a stranger's revoke does not block the declare", ("IDC-008", "IDC-009"))


def _history(s: Seq, did: str) -> list[dict[str, Any]]:
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    _, txs = chain.resolve_did(state, did, all=True)
    return [t.model_dump() for t in txs]


@generator("did", "did.chain.check_history")
def history_cases() -> Iterator[CaseSpec]:
    docs = documents()
    s = customized()
    s.add(update(s, BAZ, norm("baz.id"), f"{USER1}#primary"))
    s.add(transfer(s, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]))
    s.add(req("deactivate", BAZ, f"{USER4}#primary"))
    full = _history(s, BAZ)
    others = {k: v for k, v in docs.items() if k != BAZ}

    def case(name: str, txs: list[dict[str, Any]], means: str | Reason, what: str) -> CaseSpec:
        return CaseSpec(name, {"did": BAZ, "transactions": txs, "documents": others}, means,
                        rules=("IDC-012",) if means == OK else (), description=what)

    yield case("baz_full", full, OK, "create, update, transfer, deactivate: a single chain")
    yield case("baz_prefix", full[1:], OK, "the history before the deactivate")
    yield case("create_only", full[3:], OK, "the create alone")
    yield case("missing_create", full[:3], Reason.IDCHAIN_HISTORY, "the create left out")
    yield case("missing_update", full[:2] + full[3:], Reason.IDCHAIN_HISTORY,
               "the update left out: the ticket names a txid the history lacks")
    yield case("reordered", [full[1], full[0]] + full[2:], Reason.IDCHAIN_HISTORY, "deactivate before the transfer")
    yield case("renamed_txid", [dict(full[0])] + [dict(full[1])] + [dict(full[2], txid="22" * 32)] + full[3:],
               Reason.IDCHAIN_HISTORY, "the update's txid changed: the ticket no longer links")
    yield case("operation_mislabelled", [dict(full[0], operation="update")] + full[1:], Reason.IDCHAIN_HISTORY,
               "a transaction's operation does not match its request")
    u = users()
    other = _history(u, USER2)
    yield case("other_did", full[1:] + other, Reason.IDCHAIN_HISTORY, "user2's create in baz's history")
    yield case("empty", [], Reason.IDCHAIN_HISTORY, "no transaction")
