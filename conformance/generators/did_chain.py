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


LATER = "2033-01-01T00:00:00Z"
"""The expires of the documents renewed or created again after the SDK's 2026 expiries."""
FOO_GRACE_END = chain.grace_end(chain.document.parse_document(norm("foo.id")))
"""foo's grace end: its expires (2026-11-20T09:54:10Z) plus MAX_EXPIRED_TIME (365 days)."""


def renewed(name: str, did: str) -> str:
    """A primitive SDK document with expires LATER, signed by its default key."""
    return resign(norm(f"{name}.id"), [f"{did}#primary"], lambda d: d.update(expires=LATER))


def foo_again_doc(controllers: tuple[str, ...] = (USER3, USER4), multisig: str | None = "2:2") -> str:
    """A new did:elastos:foo document (2:2 by user3 and user4 by default), expires LATER."""
    def change(d: dict[str, Any]) -> None:
        d.update(controller=list(controllers) if len(controllers) > 1 else controllers[0], expires=LATER)
        if multisig is None:
            d.pop("multisig", None)
        else:
            d["multisig"] = multisig
    return resign(norm("foo.id"), [f"{c}#primary" for c in controllers], change)


def foo_again(controllers: tuple[str, ...] = (USER3, USER4), multisig: str | None = "2:2") -> str:
    """The create request of :func:`foo_again_doc`, signed by its first controller."""
    return req("create", foo_again_doc(controllers, multisig), f"{controllers[0]}#primary")


def foo_renewal() -> str:
    """foo's SDK document (user1, user2) with expires LATER, signed by both."""
    return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"], lambda d: d.update(expires=LATER))


def foo_lapsed() -> Seq:
    """foo created (request 5), then user3, user4, user1 and user2 renewed to LATER, so that they are valid
    controllers (IDC-015) after foo's grace end: the sequence before foo's grace end."""
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    for name, did in (("user3", USER3), ("user4", USER4), ("user1", USER1), ("user2", USER2)):
        s.add(update(s, did, renewed(name, did), f"{did}#primary"))
    return s


def at(s: Seq, request_text: str, block_time: int) -> str:
    s.items.append({"request": request_text, "block_time": block_time})
    return request_text


def foo_to_user4_later() -> str:
    """:func:`foo_to_user4` with expires LATER."""
    return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER4}#primary"],
                  lambda d: d.update(controller=[USER1, USER4], expires=LATER))


def foo_named(name: str) -> str:
    """foo's SDK document (user1, user2; 2:2) with the id ``did:elastos:<name>``, signed by both."""
    return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"],
                  lambda d: d.update(id=f"did:elastos:{name}"))


def foo_with_authorization(name: str = "foo") -> str:
    """foo's SDK document (id ``did:elastos:<name>``) with a key of its own (user1's key2) listed under
    authorization, signed 2:2."""
    did = f"did:elastos:{name}"
    k1 = f"{did}#k1"

    def change(d: dict[str, Any]) -> None:
        d["id"] = did
        d["publicKey"] = [{"id": k1, "type": "ECDSAsecp256r1", "controller": did,
                           "publicKeyBase58": json.loads(norm("user1.id"))["publicKey"][0]["publicKeyBase58"]}]
        d["authorization"] = [k1]
    return resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"], change)


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
    yield from _recreate_sequences()


def _recreate_sequences() -> Iterator[tuple[str, Seq, str, tuple[str, ...]]]:
    """Customized-DID re-create (IDC-013) and lapse (IDC-014) around foo's grace end."""
    s = foo_lapsed()
    at(s, foo_again(), FOO_GRACE_END)
    at(s, update(s, FOO, foo_renewal(), f"{USER1}#primary"), FOO_GRACE_END + 1)
    at(s, transfer(s, FOO, foo_to_user4_later(), [f"{USER1}#primary", f"{USER2}#primary"]), FOO_GRACE_END + 1)
    at(s, foo_again(), FOO_GRACE_END + 1)
    at(s, update(s, FOO, foo_again_doc(), f"{USER3}#primary"), FOO_GRACE_END + 2)
    yield "recreate_customized_after_grace", s, \
        "foo (user1, user2) expires 2026-11-20; at its grace end (expires + 365 days) user3 and user4's create is " \
        "rejected, one second later user1's update and transfer are rejected (lapsed), user3 and user4's create is " \
        "accepted and updated: foo's history holds both lives", ("IDC-002", "IDC-013", "IDC-014", "IDC-005")
    s = foo_lapsed()
    expires = chain.document.parse_date("2026-11-20T09:54:10Z")
    at(s, update(s, FOO, foo_renewal(), f"{USER1}#primary"), expires + 1000)
    at(s, foo_again(), FOO_GRACE_END + 1)
    yield "renew_expired_customized", s, \
        "foo expired but within its grace period: its controllers' update renews it (to 2033), so the create by " \
        "user3 and user4 after the old grace end is rejected", ("IDC-014",)
    s = foo_lapsed()
    s.add(req("deactivate", FOO, f"{USER1}#primary"))
    at(s, foo_again(), FOO_GRACE_END + 1)
    yield "recreate_deactivated_customized", s, \
        "foo deactivated: a create after its grace end is still rejected (deactivation is final)", ("IDC-004",)
    s = foo_lapsed()
    at(s, req("deactivate", FOO, f"{USER1}#primary"), FOO_GRACE_END + 1)
    yield "deactivate_after_grace", s, "a deactivate is not limited by the grace period", ("IDC-004", "IDC-014")
    s = users()
    user1_end = chain.grace_end(chain.document.parse_document(norm("user1.id")))
    at(s, req("create", renewed("user1", USER1), f"{USER1}#primary"), user1_end + 1)
    yield "recreate_primitive", s, "a primitive DID is never created again, however long after its expiry", \
        ("IDC-002",)


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
    s = customized()
    s.add(req("create", foo_with_authorization(), f"{USER2}#primary"))
    yield CaseSpec("create_customized_reserved", {"requests": _inputs(s), "reserved": ["Foo", "BAZ", USER1]}, OK,
                   rules=("IDC-018",), description="reserved Foo and BAZ: the creates of foo and baz are rejected "
                   "(names compared lower-cased), examplecorp, bar and foobar accepted, user1 (a primitive DID "
                   "named in the set) accepted; foo with authorization keys is then still rejected (IDC-017 first)")


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


def _resolve_sequences() -> Iterator[tuple[str, Seq, str, str, int | None, int, str]]:
    """(name, sequence, DID, what, now, expected status, expected operations newest first with ``all`` /
    without) for did.chain.resolve; both are checked against the spec when the cases are generated."""
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER2}#primary"))
    yield "updated", s, FOO, "foo created and updated twice", None, 0, "update update create / update"
    yield "updated_expired", s, FOO, "asked after foo's expiry: status 1", NOW_AFTER, 1, "update update create / update"
    t = s.copy()
    t.add(req("deactivate", FOO, f"{USER1}#primary"))
    yield "deactivated", t, FOO, "foo deactivated after two updates", None, 2, \
        "deactivate update update create / deactivate update"
    c = customized()
    c.add(transfer(c, BAZ, norm("baz.new-id"), [f"{USER1}#primary"]))
    yield "transferred", c, BAZ, "baz transferred to user4", None, 0, "transfer create / transfer"
    d = users()
    d.add(req("deactivate", USER3, f"{USER3}#primary"))
    yield "deactivated_created_only", d, USER3, "user3 deactivated right after its create", None, 2, \
        "deactivate create / deactivate create"
    yield "created", users(), USER1, "user1 created", None, 0, "create / create"
    yield "not_found", users(), FOO, "foo never created: no transactions", None, 3, " / "
    g = foo_lapsed()
    at(g, foo_again(), FOO_GRACE_END + 1)
    yield "recreated", g, FOO, "foo created again after its grace end: both lives with all, the new create without", \
        None, 0, "create create / create"
    yield "other_case", s, "did:elastos:FOO", "did:elastos:FOO resolves foo (customized ids are one DID in any case)", \
        None, 0, "update update create / update"


@generator("did", "did.chain.resolve")
def resolve_cases() -> Iterator[CaseSpec]:
    for name, s, did, what, now, want_status, ops in _resolve_sequences():
        state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
        for every, want in zip((True, False), ops.split(" / "), strict=True):
            status, txs = chain.resolve_did(state, did, all=every, now=now)
            assert " ".join(t.operation for t in txs) == want, (name, every, [t.operation for t in txs])
            assert status == want_status, (name, every, status)
            inp: dict[str, Any] = {"requests": _inputs(s), "did": did, "all": every}
            if now is not None:
                inp["now"] = now
            yield CaseSpec(f"{name}_{'all' if every else 'latest'}", inp, OK, description=what,
                           expect_ok={"status": status})


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
               ("IDC-001", "IDC-002", "IDC-015"))
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
               "the ticket names baz's last txid", ("IDC-003", "IDC-004", "IDC-007", "IDC-015", "IDC-016"))
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
    g = foo_lapsed()
    yield case("recreate_foo_at_grace_end", g, foo_again(), Reason.IDCHAIN_ALREADY_EXISTS,
               "foo's grace end has not passed", block_time=FOO_GRACE_END)
    yield case("recreate_foo_after_grace", g, foo_again(), OK,
               "one second after foo's grace end, by other controllers (user3, user4)", ("IDC-001", "IDC-013"),
               block_time=FOO_GRACE_END + 1)
    yield case("recreate_foo_by_old_controllers", g, foo_again((USER1, USER2)), OK,
               "after the grace end by its former controllers", ("IDC-013",), block_time=FOO_GRACE_END + 1)
    yield case("recreate_foo_single_controller", g, foo_again((USER3,), None), OK,
               "after the grace end by one controller", ("IDC-013",), block_time=FOO_GRACE_END + 1)
    yield case("update_foo_in_grace", g, update(g, FOO, norm("foo.id"), f"{USER1}#primary"), Reason.IDCHAIN_EXPIRES,
               "foo's own document has expired: an update publishing it again is too short",
               block_time=FOO_GRACE_END)
    renewal = foo_renewal()
    yield case("renew_foo_at_grace_end", g, update(g, FOO, renewal, f"{USER1}#primary"), OK,
               "at its grace end foo's controllers may still renew it", ("IDC-005", "IDC-014"),
               block_time=FOO_GRACE_END)
    yield case("renew_foo_after_grace", g, update(g, FOO, renewal, f"{USER1}#primary"),
               Reason.IDCHAIN_CUSTOMIZED_LAPSED, "one second after the grace end the update is too late",
               block_time=FOO_GRACE_END + 1)
    yield case("transfer_foo_after_grace", g, transfer(g, FOO, foo_to_user4_later(),
                                                       [f"{USER1}#primary", f"{USER2}#primary"]),
               Reason.IDCHAIN_CUSTOMIZED_LAPSED, "a transfer after the grace end", block_time=FOO_GRACE_END + 1)
    g2 = foo_lapsed()
    g2.add(req("deactivate", FOO, f"{USER1}#primary"))
    yield case("recreate_deactivated_foo", g2, foo_again(), Reason.IDCHAIN_ALREADY_EXISTS,
               "a deactivated customized DID is not created again, even after its grace end",
               block_time=FOO_GRACE_END + 1)
    g3 = users()
    yield case("recreate_primitive_after_grace", g3, req("create", renewed("user1", USER1), f"{USER1}#primary"),
               Reason.IDCHAIN_ALREADY_EXISTS, "a primitive DID is never created again",
               block_time=chain.grace_end(chain.document.parse_document(norm("user1.id"))) + 1)
    # controllers and deactivate signers must be valid at the block time (IDC-015)
    foo_expires = chain.document.parse_date("2026-11-20T09:54:10Z")
    user2_expires = chain.document.parse_date("2026-11-20T09:54:08Z")
    yield case("create_foo_controller_expired", users(), req("create", foo_renewal(), f"{USER1}#primary"),
               Reason.IDCHAIN_CONTROLLER_INVALID, "user1 and user2 expired in 2026: they cannot control a new DID",
               block_time=foo_expires + 10)
    valid = foo_lapsed()
    yield case("create_foo2_controllers_renewed", valid, req("create", resign(
        norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"],
        lambda d: d.update(id="did:elastos:foo2", expires=LATER)), f"{USER1}#primary"), OK,
        "after user1 and user2 renewed to 2033 they control a new DID in 2027", ("IDC-015",),
        block_time=FOO_GRACE_END)
    dc = users()
    dc.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    dc.add(req("deactivate", USER2, f"{USER2}#primary"))
    yield case("update_foo_controller_deactivated", dc, update(dc, FOO, norm("foo.id"), f"{USER1}#primary"),
               Reason.IDCHAIN_CONTROLLER_INVALID, "user2, a controller of foo, is deactivated")
    yield case("deactivate_foo_by_valid_controller", dc, req("deactivate", FOO, f"{USER1}#primary"), OK,
               "user1 is valid: it deactivates foo although user2 is deactivated", ("IDC-015",))
    yield case("deactivate_expired_user1", users(), req("deactivate", USER1, f"{USER1}#primary"),
               Reason.IDCHAIN_CONTROLLER_INVALID, "user1 expired: its own deactivate is by an invalid signer",
               block_time=user2_expires + 10)
    # an expired customized DID is not transferred (IDC-016), though it may be renewed
    ex = foo_lapsed()
    yield case("transfer_expired_foo", ex, transfer(ex, FOO, foo_to_user4_later(), [f"{USER1}#primary",
                                                                                   f"{USER2}#primary"]),
               Reason.IDCHAIN_TRANSFER_EXPIRED, "foo expired in 2026: a transfer in its grace period is rejected",
               block_time=foo_expires + 10)
    ex2 = foo_lapsed()
    yield case("transfer_foo_before_expiry", ex2, transfer(ex2, FOO, foo_to_user4_later(),
                                                           [f"{USER1}#primary", f"{USER2}#primary"]), OK,
               "the same transfer one second before foo expires", ("IDC-015", "IDC-016"), block_time=foo_expires - 1)
    yield case("create_customized_bad_charset", users(), req("create", foo_named("foo-bar"), f"{USER1}#primary"),
               Reason.DID_CHAIN_ID_CHARSET, "on chain a customized id is letters and digits only")
    yield case("create_customized_mixed_case", users(), req("create", foo_named("FooBar2"), f"{USER1}#primary"), OK,
               "letters and digits in any case", ("DID-012", "IDC-002"))
    yield case("create_other_case_of_foo", f, req("create", foo_named("Foo"), f"{USER1}#primary"),
               Reason.IDCHAIN_ALREADY_EXISTS, "did:elastos:Foo is foo: customized ids are one DID in any case")
    yield case("update_foo_in_upper_case", f, update(f, FOO, foo_named("FOO"), f"{USER1}#primary"), OK,
               "an update of did:elastos:FOO names foo's last txid and updates foo", ("DID-012", "IDC-005"))
    # a customized DID's document has no authorization keys (IDC-017)
    auth = foo_with_authorization()
    yield case("create_foo_with_authorization", users(), req("create", auth, f"{USER2}#primary"),
               Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION, "customized did can not have Authorization")
    yield case("update_foo_adding_authorization", f, update(f, FOO, auth, f"{USER1}#primary"),
               Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION, "an update may not add authorization keys to foo")
    yield case("transfer_foo_with_authorization", f, transfer(f, FOO, resign(
        auth, [f"{USER1}#primary", f"{USER4}#primary"], lambda d: d.update(controller=[USER1, USER4])),
        [f"{USER1}#primary", f"{USER2}#primary"]),
        Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION, "nor may a transfer publish them")
    u1_auth = json.loads(norm("user1.id")).get("authorization")
    assert u1_auth, "user1's SDK document has authorization keys"
    yield case("create_primitive_with_authorization", Seq(), req("create", norm("user1.id"), f"{USER1}#primary"), OK,
               "user1's SDK document has an authorization key: a primitive DID may", ("IDC-017",))
    yield case("update_foo_without_authorization", f, update(f, FOO, norm("foo.id"), f"{USER1}#primary"), OK,
               "foo's SDK document has no authorization keys", ("IDC-017",))

    # reserved customized names (IDC-018): a parameter, empty in the PoW-era profile
    def reserved(name: str, s: Seq, last: str, means: str | Reason, what: str, names: list[str],
                 rules: tuple[str, ...] = ()) -> CaseSpec:
        spec = case(name, s, last, means, what, rules)
        spec.input["reserved"] = names
        return spec
    foo_create = req("create", norm("foo.id"), f"{USER2}#primary")
    yield reserved("create_foo_reserved", users(), foo_create, Reason.IDCHAIN_CUSTOMIZED_RESERVED,
                   "foo is reserved", ["foo"])
    yield reserved("create_foo_reserved_other_case", users(), foo_create, Reason.IDCHAIN_CUSTOMIZED_RESERVED,
                   "FOO is reserved: names compare lower-cased", ["bar", "FOO"])
    yield reserved("create_upper_foo_reserved", users(), req("create", foo_named("FOO"), f"{USER1}#primary"),
                   Reason.IDCHAIN_CUSTOMIZED_RESERVED, "did:elastos:FOO when foo is reserved", ["foo"])
    yield reserved("create_foo_other_names_reserved", users(), foo_create, OK,
                   "bar and foo2 are reserved, not foo", ["bar", "foo2"], ("IDC-018",))
    yield reserved("create_foo_none_reserved", users(), foo_create, OK,
                   "an empty reserved set (the PoW-era profile)", [], ("IDC-018",))
    yield reserved("create_primitive_named_reserved", Seq(), req("create", norm("user1.id"), f"{USER1}#primary"), OK,
                   "the set names user1's id, but user1 is a primitive DID", [USER1.removeprefix("did:elastos:")],
                   ("IDC-018",))
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
    g = foo_lapsed()
    at(g, foo_again(), FOO_GRACE_END + 1)
    at(g, update(g, FOO, foo_again_doc(), f"{USER3}#primary"), FOO_GRACE_END + 2)
    lives = _history(g, FOO)
    foo_others = {k: v for k, v in docs.items() if k != FOO}

    def foo_case(name: str, txs: list[dict[str, Any]], means: str | Reason, what: str) -> CaseSpec:
        return CaseSpec(name, {"did": FOO, "transactions": txs, "documents": foo_others}, means,
                        rules=("IDC-012", "IDC-013") if means == OK else (), description=what)

    yield foo_case("foo_two_lives", lives, OK, "foo created, then created again after its grace end and updated")
    yield foo_case("foo_recreate_in_grace", [lives[0], dict(lives[1], timestamp=FOO_GRACE_END)] + lives[2:],
                   Reason.IDCHAIN_HISTORY, "the second create's timestamp is not after foo's grace end")
    yield foo_case("foo_second_life_alone", lives[:2], OK, "the second life alone starts with its create")
