"""Stateful property: random operation sequences against the running ID-chain service, over real HTTP
JSON-RPC on loopback, and against the spec's :func:`~spec.did.chain.apply_request` and resolve functions.

Each rule builds one request from the SDK's test documents, credentials and keys (signed with RFC 6979
nonces by :mod:`conformance.generators.did_requests`), publishes it with ``did_publishRequest``, applies it
to the spec's state, and compares the outcome ("ok" or the reason code). Operations: create (primitive
and customized multisig DIDs), update (with the last, the first or an unknown previousTxid), transfer
(tickets naming the last or a wrong txid, by chosen controllers), deactivate, declare and revoke
credentials, and bad input (malformed JSON, duplicate members, wrong types, bad base64url, tampered
signatures, arbitrary text, a request that is not a string; an unknown member, which the SDK ignores).
After every step the service's resolution of every DID and credential, all and latest, equals the
spec's, and the service's store holds exactly the spec state's records (a rejection changes nothing
stored).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conformance.generators.did_chain import BAR, BAZ, EXAMPLE, FOO, FOOBAR, T0, TWITTER, foo_to_user4
from conformance.generators.did_documents import NOW_AFTER, text
from conformance.generators.did_requests import ISSUER, USER1, USER2, USER3, USER4, norm, req, ticket_text
from reference.idchain.rpc import RpcClient, RpcError, RpcServer
from reference.idchain.service import IdChainService
from spec.did import chain
from spec.errors import Reject

from idchain_helpers import assert_store_is, expected_did

PRIMITIVE = {ISSUER: "issuer", USER1: "user1", USER2: "user2", USER3: "user3", USER4: "user4"}
CUSTOMIZED = {EXAMPLE: ("examplecorp.id", f"{ISSUER}#primary"), FOO: ("foo.id", f"{USER2}#primary"),
              BAR: ("bar.id", f"{USER3}#primary"), BAZ: ("baz.id", f"{USER1}#primary"),
              FOOBAR: ("foobar.id", "did:elastos:foobar#key2")}
ALL_DIDS = sorted(PRIMITIVE) + sorted(CUSTOMIZED) + ["did:elastos:nobody"]
SIGNERS = [f"{ISSUER}#primary", f"{USER1}#primary", f"{USER1}#key2", f"{USER2}#primary", f"{USER3}#primary",
           f"{USER4}#primary", "did:elastos:foobar#key2"]
CREDENTIALS = {TWITTER: ("user1.vc.twitter.normalized.json", f"{USER1}#primary"),
               f"{USER1}#passport": ("user1.vc.passport.normalized.json", f"{USER1}#primary"),
               f"{FOO}#email": ("foo.vc.email.normalized.json", f"{USER2}#primary")}
NEW_DOCUMENT = {BAZ: "baz.new-id", FOOBAR: "foobar.new-id", BAR: "foobar.new-id"}
"""What a transfer publishes (bar with foobar's document: rejected)."""


def _initial_document(did: str) -> str:
    return norm(f"{PRIMITIVE[did]}.id") if did in PRIMITIVE else norm(CUSTOMIZED[did][0])


@cache
def _req(op: str, payload: str, vm: str, prev: str | None = None, ticket: str | None = None) -> str:
    return req(op, payload, vm, previous_txid=prev, ticket=ticket)


@cache
def _ticket(did: str, signers: tuple[str, ...], txid: str) -> str:
    return ticket_text(did, list(signers), to=USER4, txid=txid)


def _flip(s: str, i: int) -> str:
    """``s`` with the base64url character at ``i`` replaced by another one."""
    i %= len(s)
    return s[:i] + ("B" if s[i] == "A" else "A") + s[i + 1:]


BAD_KINDS = ["not_json", "truncated", "duplicate_member", "wrong_type_operation", "wrong_type_payload",
             "proof_list", "bad_base64url_payload", "padded_base64url", "bad_base64url_signature",
             "tampered_signature", "tampered_payload", "unknown_member", "unknown_operation"]


def _malformed(good: str, kind: str, i: int) -> str:
    d = json.loads(good)
    if kind == "not_json":
        return "{not json" + good[:i % 40]
    if kind == "truncated":
        return good[: i % (len(good) - 1)]
    if kind == "duplicate_member":
        return good[:-1] + ',"payload":' + json.dumps(d["payload"]) + "}"
    if kind == "wrong_type_operation":
        d["header"]["operation"] = 5
    elif kind == "wrong_type_payload":
        d["payload"] = [d["payload"]]
    elif kind == "proof_list":
        d["proof"] = [d["proof"]]
    elif kind == "bad_base64url_payload":
        d["payload"] = d["payload"][:-2] + "+/"
    elif kind == "padded_base64url":
        d["payload"] = d["payload"] + "=="
    elif kind == "bad_base64url_signature":
        d["proof"]["signature"] = "!" + d["proof"]["signature"][1:]
    elif kind == "tampered_signature":
        d["proof"]["signature"] = _flip(d["proof"]["signature"], i)
    elif kind == "tampered_payload":
        d["payload"] = _flip(d["payload"], i)
    elif kind == "unknown_member":
        d["extra"] = 1
    else:
        d["header"]["operation"] = "destroy"
    return json.dumps(d, separators=(",", ":"))


class IdChainMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="idchain-stateful-")
        self.service = IdChainService(Path(self.dir) / "idc")
        self.server = RpcServer(self.service).start()
        self.rpc = RpcClient(f"http://127.0.0.1:{self.server.port}")
        self.state = chain.EMPTY
        self.t = T0
        self.document: dict[str, str] = {}
        """Each DID's latest published document text (what an update republishes)."""
        self.results: list[str] = []

    def teardown(self) -> None:
        self.server.stop()
        self.service.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the comparison ------------------------------------------------------------------------------------------

    def publish(self, request: str) -> str:
        """Publish to the service and apply to the spec; both outcomes agree; the outcome."""
        try:
            new = chain.apply_request(self.state, request, self.t, chain.request_txid(request))
            want = "ok"
        except Reject as e:
            new, want = self.state, e.reason.value
        try:
            got = self.rpc.call("did_publishRequest", {"request": request, "block_time": self.t})
            assert got["txid"] == chain.request_txid(request).hex()
            outcome = "ok"
        except RpcError as e:
            assert e.code == 43001 and e.reason is not None and e.message.startswith(e.reason), e
            outcome = e.reason
        assert outcome == want, (outcome, want, request[:200])
        try:
            label = json.loads(request)["header"]["operation"]
        except Exception:  # noqa: BLE001 - bad input has no operation to label it with
            label = "bad input"
        event(f"{label}: {want}")
        if want == "ok":
            parsed = json.loads(request)
            if parsed["header"]["operation"] in ("create", "update", "transfer"):
                rec_did = next(k for k, r in new.dids if r.transactions[-1].txid == chain.request_txid(request).hex())
                self.document[rec_did] = chain.published_document(new.did(rec_did).transactions[-1])  # type: ignore[union-attr]
        self.state = new
        self.results.append(want)
        return want

    @invariant()
    def service_resolves_as_the_spec(self) -> None:
        for did in ALL_DIDS:
            for all_ in (False, True):
                assert self.rpc.call("did_resolveDID", {"did": did, "all": all_}) == expected_did(self.state, did, all_)
        for vc in CREDENTIALS:
            for issuer in (None, ISSUER):
                status, txs = chain.resolve_credential(self.state, vc, issuer)
                got = self.rpc.call("did_resolveCredential", {"id": vc} | ({"issuer": issuer} if issuer else {}))
                assert got["status"] == status
                assert [t["txid"] for t in got.get("transaction", [])] == [t.txid for t in txs]
        for did in (USER1, FOO):
            listed = self.rpc.call("did_listCredentials", {"did": did, "skip": 0, "limit": 10})["credentials"]
            declared = {k for k, c in self.state.credentials if c.declare is not None and str(c.owner) == did}
            assert sorted(listed) == sorted(declared)
        assert_store_is(self.service, self.state)

    # -- DIDs ----------------------------------------------------------------------------------------------------

    @initialize(users=st.one_of(st.just(set(PRIMITIVE)), st.sets(st.sampled_from(sorted(PRIMITIVE)), min_size=2)),
                customized=st.sampled_from([True, True, False]))
    def some_users(self, users: set[str], customized: bool) -> None:
        """Most sequences start from a chain with users (and their customized DIDs), so that later
        operations are more often accepted."""
        for did in sorted(users):
            assert self.publish(_req("create", _initial_document(did), f"{did}#primary")) == "ok"
        for did in sorted(CUSTOMIZED) if customized else ():
            self.publish(_req("create", _initial_document(did), CUSTOMIZED[did][1]))

    @rule(did=st.sampled_from(sorted(PRIMITIVE)), key2=st.booleans())
    def create_primitive(self, did: str, key2: bool) -> None:
        vm = f"{did}#key2" if key2 and did == USER1 else f"{did}#primary"
        self.publish(_req("create", _initial_document(did), vm))

    @rule(did=st.sampled_from(sorted(CUSTOMIZED)))
    def create_customized(self, did: str) -> None:
        self.publish(_req("create", _initial_document(did), CUSTOMIZED[did][1]))

    def _last(self, did: str, which: str) -> str:
        rec = self.state.did(did)
        if rec is None or which == "unknown":
            return "ab" * 32
        return rec.transactions[-1 if which == "last" else 0].txid

    def _controllers(self, did: str) -> list[str]:
        """The default keys of the DID's current controllers (its own key for a primitive DID)."""
        rec = self.state.did(did)
        if rec is None or not rec.document.controllers:
            return [f"{did}#primary"] if did in PRIMITIVE else [CUSTOMIZED[did][1]]
        return [f"{c}#primary" for c in rec.document.controllers]

    def _signer(self, did: str, own: bool, signer: str) -> str:
        return self._controllers(did)[0] if own else signer

    @rule(did=st.sampled_from(ALL_DIDS[:-1]), own=st.booleans(), signer=st.sampled_from(SIGNERS),
          prev=st.sampled_from(["last", "last", "first", "unknown"]))
    def update(self, did: str, own: bool, signer: str, prev: str) -> None:
        doc = self.document.get(did, _initial_document(did))
        self.publish(_req("update", doc, self._signer(did, own, signer), self._last(did, prev)))

    @rule(did=st.sampled_from([FOO, BAR, BAZ, FOOBAR]), n=st.sampled_from([None, None, 1, 2, 3]),
          stranger=st.booleans(), which=st.sampled_from(["last", "last", "unknown"]))
    def transfer(self, did: str, n: int | None, stranger: bool, which: str) -> None:
        """A ticket signed by ``n`` (default: m) of the DID's controllers, maybe also by the new owner (who
        is no controller)."""
        rec = self.state.did(did)
        m = rec.document.multisig[0] if rec is not None and rec.document.multisig else 1
        signers = self._controllers(did)[:m if n is None else n] + ([f"{USER4}#primary"] if stranger else [])
        doc = foo_to_user4() if did == FOO else norm(NEW_DOCUMENT[did])
        txid = self._last(did, which)
        self.publish(_req("transfer", doc, f"{USER4}#primary", ticket=_ticket(did, tuple(signers), txid)))

    @rule(did=st.sampled_from(ALL_DIDS[:-1]), own=st.booleans(), signer=st.sampled_from(SIGNERS))
    def deactivate(self, did: str, own: bool, signer: str) -> None:
        self.publish(_req("deactivate", did, self._signer(did, own, signer)))

    # -- credentials ---------------------------------------------------------------------------------------------

    @rule(vc=st.sampled_from(sorted(CREDENTIALS)), own_signer=st.booleans(), signer=st.sampled_from(SIGNERS))
    def declare(self, vc: str, own_signer: bool, signer: str) -> None:
        file, owner_vm = CREDENTIALS[vc]
        self.publish(_req("declare", text("v2", file), owner_vm if own_signer else signer))

    @rule(vc=st.sampled_from(sorted(CREDENTIALS)), signer=st.sampled_from(SIGNERS))
    def revoke(self, vc: str, signer: str) -> None:
        self.publish(_req("revoke", vc, signer))

    # -- bad input -----------------------------------------------------------------------------------------------

    @rule(kind=st.sampled_from(BAD_KINDS), base=st.sampled_from(["create", "declare", "deactivate"]),
          i=st.integers(0, 1000))
    def malformed(self, kind: str, base: str, i: int) -> None:
        good = {"create": _req("create", _initial_document(USER2), f"{USER2}#primary"),
                "declare": _req("declare", text("v2", CREDENTIALS[TWITTER][0]), f"{USER1}#primary"),
                "deactivate": _req("deactivate", USER3, f"{USER3}#primary")}[base]
        outcome = self.publish(_malformed(good, kind, i))
        # members the SDK does not know are ignored (spec.did.request.parse_request): only agreement is checked
        assert outcome != "ok" or kind == "unknown_member"

    @rule(junk=st.text(max_size=40))
    def arbitrary_text(self, junk: str) -> None:
        assert self.publish(junk) != "ok"

    @rule(value=st.sampled_from([5, None, {"header": {}}, ["x"]]))
    def request_not_a_string(self, value: object) -> None:
        before = self.service.store.count()
        try:
            self.rpc.call("did_publishRequest", {"request": value, "block_time": self.t})
            raise AssertionError("accepted a request that is not text")
        except RpcError as e:
            assert e.code == 42002
        assert self.service.store.count() == before

    # -- time ----------------------------------------------------------------------------------------------------

    @rule(dt=st.integers(0, 5))
    def tick(self, dt: int) -> None:
        self.t += dt

    @precondition(lambda self: len(self.results) >= 8 and self.t < NOW_AFTER)
    @rule()
    def past_expiry(self) -> None:
        """Blocks after the documents' expiry: creates and updates are rejected, resolve says expired."""
        self.t = NOW_AFTER


IdChainMachine.TestCase.settings = settings(
    max_examples=8, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestIdChainService = IdChainMachine.TestCase
