"""Customized DIDs through the ID-chain service over real loopback JSON-RPC: no authorization keys
(IDC-017), reserved names (IDC-018, the service's ``reserved`` parameter) and credential listing that
finds a customized owner in any case. Each result is compared with the spec's state machine."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.bindings_did.chain import replay
from conformance.generators import did_chain as G
from conformance.generators.did_chain import BAR, FOO, T0, customized, update, users
from conformance.generators.did_documents import text
from conformance.generators.did_requests import ISSUER, USER1, USER2, USER3, norm, private_key, req
from reference.idchain.rpc import RpcClient, RpcError, RpcServer
from reference.idchain.service import IdChainService
from spec.did import builder as B
from spec.did import chain, credential
from spec.did.syntax import parse_did, parse_did_url
from spec.errors import Reason, Reject

from idchain_helpers import assert_store_is
from test_idchain_service import publish


def _serve(datadir: Path, reserved: frozenset[str] = frozenset()) -> tuple[IdChainService, RpcServer, RpcClient]:
    service = IdChainService(datadir, reserved)
    server = RpcServer(service).start()
    return service, server, RpcClient(f"http://127.0.0.1:{server.port}")


@pytest.fixture()
def served(tmp_path: Path):
    service, server, rpc = _serve(tmp_path / "idc")
    yield service, rpc
    server.stop()
    service.close()


def _rejected(rpc: RpcClient, request_text: str, block_time: int) -> str:
    with pytest.raises(RpcError) as e:
        rpc.call("did_publishRequest", {"request": request_text, "block_time": block_time})
    assert e.value.code == 43001
    return str(e.value.reason)


# -- IDC-017 ----------------------------------------------------------------------------------------------------


def test_customized_document_with_authorization_is_refused(served) -> None:
    service, rpc = served
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    assert publish(rpc, s.items) == ["ok"] * len(s.items)
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    before = service.store.dump()
    auth = G.foo_with_authorization()
    assert json.loads(auth)["authorization"] == [f"{FOO}#k1"]
    attempts = [update(s, FOO, auth, f"{USER1}#primary"),
                req("create", G.foo_with_authorization("foo2"), f"{USER1}#primary")]
    for bad in attempts:
        got = _rejected(rpc, bad, T0 + 50)
        _, spec = replay([(i["request"], i["block_time"]) for i in s.items] + [(bad, T0 + 50)])
        assert got == spec[-1]
        assert service.store.dump() == before
        assert got == Reason.IDCHAIN_CUSTOMIZED_AUTHORIZATION
    assert_store_is(service, state)
    # the same keys listed under authorization are fine in a primitive DID's document (user1's SDK document)
    assert json.loads(norm("user1.id"))["authorization"]
    rpc.call("did_publishRequest", {"request": update(s, USER1, norm("user1.id"), f"{USER1}#primary"),
                                    "block_time": T0 + 51})
    # and foo without them is still updated
    rpc.call("did_publishRequest", {"request": update(s, FOO, norm("foo.id"), f"{USER1}#primary"), "block_time": T0 + 52})
    assert service.resolve_did(FOO, all=True)[1][0].operation == "update"


# -- IDC-018 ----------------------------------------------------------------------------------------------------


def test_reserved_names_are_refused_in_any_case(tmp_path: Path) -> None:
    reserved = frozenset({"FOO", "bar"})
    service, server, rpc = _serve(tmp_path / "idc", reserved)
    try:
        s = customized()
        got = publish(rpc, s.items)
        state, want = replay([(i["request"], i["block_time"]) for i in s.items], reserved)
        assert got == want
        # the users, examplecorp, foo, bar, baz, foobar: foo and bar are refused
        assert got == ["ok"] * 6 + [Reason.IDCHAIN_CUSTOMIZED_RESERVED.value] * 2 + ["ok"] * 2
        assert_store_is(service, state)
        assert rpc.call("did_resolveDID", {"did": "did:elastos:Foo", "all": True})["status"] == chain.STATUS_NOT_FOUND
        before = service.store.dump()
        assert _rejected(rpc, req("create", G.foo_named("Foo"), f"{USER1}#primary"), T0 + 60) == \
            Reason.IDCHAIN_CUSTOMIZED_RESERVED
        assert service.store.dump() == before
    finally:
        server.stop()
        service.close()


def test_a_name_reserved_later_stops_updates_and_transfers(tmp_path: Path) -> None:
    """The reserved set is the chain's parameter at the time of a request: a service restarted with foo
    reserved refuses foo's update and transfer, while bar goes on."""
    s = customized()
    first, server, rpc = _serve(tmp_path / "idc")
    try:
        assert publish(rpc, s.items) == ["ok"] * len(s.items)
    finally:
        server.stop()
        first.close()
    again, server, rpc = _serve(tmp_path / "idc", frozenset({"foo"}))
    try:
        before = again.store.dump()
        foo_update = update(s, FOO, norm("foo.id"), f"{USER1}#primary")
        foo_transfer = G.transfer(s, FOO, G.foo_to_user4(), [f"{USER1}#primary", f"{USER2}#primary"])
        state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
        for bad in (foo_update, foo_transfer):
            with pytest.raises(Reject) as spec_e:
                chain.apply_request(state, bad, T0 + 70, chain.request_txid(bad), frozenset({"foo"}))
            assert _rejected(rpc, bad, T0 + 70) == Reason.IDCHAIN_CUSTOMIZED_RESERVED == spec_e.value.reason
            assert again.store.dump() == before
        rpc.call("did_publishRequest", {"request": update(s, BAR, norm("bar.id"), f"{USER3}#primary"),
                                        "block_time": T0 + 71})
        assert again.resolve_did(BAR, all=True)[1][0].operation == "update"
    finally:
        server.stop()
        again.close()


def test_cli_takes_reserved_names(tmp_path: Path) -> None:
    p = subprocess.Popen([sys.executable, "-m", "reference.cli", "idchain", "--datadir", str(tmp_path / "d"),
                          "--reserved", "Foo", "--reserved", "baz"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("ready rpc=")
        rpc = RpcClient(f"http://127.0.0.1:{int(line.split('=')[1])}")
        assert publish(rpc, users().items) == ["ok"] * 5
        assert _rejected(rpc, req("create", norm("foo.id"), f"{USER2}#primary"), T0 + 10) == \
            Reason.IDCHAIN_CUSTOMIZED_RESERVED
        rpc.call("did_publishRequest", {"request": req("create", norm("examplecorp.id"), f"{ISSUER}#primary"),
                                        "block_time": T0 + 11})
    finally:
        p.terminate()
        p.wait(10)


# -- credential listing of customized owners ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _issuer() -> chain.DIDRecord:
    state, _ = replay([(i["request"], i["block_time"]) for i in users().items])
    issuer = state.did(ISSUER)
    assert issuer is not None
    return issuer


@lru_cache(maxsize=None)
def _credential_for(subject: str, fragment: str, n: int) -> str:
    """A credential about ``subject`` (as written), issued by the issuer's default key."""
    vc = B.issue_credential(parse_did_url(f"{subject}#{fragment}"), parse_did(subject), ["NickCredential"],
                            {"nick": f"n{n}"}, issuer_doc=_issuer().document, signer=parse_did_url(f"{ISSUER}#primary"),
                            private_key=private_key(f"{ISSUER}#primary"), now=T0)
    return credential.normalized(vc)


def _spec_listing(state: chain.IdChainState, did: str) -> list[str]:
    """The declared credentials whose owner the spec's lookup takes to the same DID as ``did``, newest first
    (by the declare's block time, then the order of the requests)."""
    asked = chain.lookup(state, parse_did(did))
    out = []
    for vc_id, rec in state.credentials:
        if rec.declare is None:
            continue
        owner = chain.lookup(state, rec.owner)
        if (asked is None and str(rec.owner) == did) or (asked is not None and owner is not None
                                                          and owner[0] == asked[0]):
            out.append((rec.declare.timestamp, vc_id))
    return [v for _, v in sorted(out, reverse=True)]


@pytest.mark.parametrize("asked", [FOO, "did:elastos:FOO", "did:elastos:Foo"])
def test_credentials_of_a_customized_did_in_any_case(served, asked: str) -> None:
    service, rpc = served
    s = customized()
    s.add(req("declare", text("v2", "foo.vc.email.normalized.json"), f"{USER1}#primary"))
    s.add(req("declare", _credential_for("did:elastos:FOO", "nick", 1), f"{USER2}#primary"))
    s.add(req("declare", _credential_for("did:elastos:Foo", "alias", 2), f"{USER1}#primary"))
    s.add(req("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary"))
    assert publish(rpc, s.items) == ["ok"] * len(s.items)
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    assert_store_is(service, state)
    want = _spec_listing(state, asked)
    assert want == ["did:elastos:Foo#alias", "did:elastos:FOO#nick", f"{FOO}#email"]
    assert rpc.call("did_listCredentials", {"did": asked, "skip": 0, "limit": 10}) == {"did": asked, "credentials": want}
    assert rpc.call("did_listCredentials", {"did": asked, "skip": 1, "limit": 1})["credentials"] == want[1:2]
    # a primitive DID is case-sensitive: user1 in another case owns nothing
    other = "did:elastos:" + USER1.removeprefix("did:elastos:").swapcase()
    assert rpc.call("did_listCredentials", {"did": other, "skip": 0, "limit": 10})["credentials"] == \
        _spec_listing(state, other) == []
    assert rpc.call("did_listCredentials", {"did": USER1, "skip": 0, "limit": 10})["credentials"] == \
        _spec_listing(state, USER1) == [G.TWITTER]


def test_credential_listing_reads_only_indexed_rows(served) -> None:
    service, rpc = served
    s = customized()
    s.add(req("declare", text("v2", "foo.vc.email.normalized.json"), f"{USER1}#primary"))
    publish(rpc, s.items)
    statements: list[str] = []
    db = service.store.db
    db.set_trace_callback(statements.append)
    try:
        assert service.credentials_of("did:elastos:FOO") == [f"{FOO}#email"]
    finally:
        db.set_trace_callback(None)
    listing = [sql for sql in statements if "FROM credentials" in sql]
    assert listing
    for sql in statements:
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        assert plan and all(not p.startswith("SCAN") for p in plan), (sql, plan)


CASES = st.lists(st.sampled_from(["foo", "FOO", "Foo", "fOo"]), min_size=1, max_size=3)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subjects=CASES, asked=st.sampled_from(["foo", "FOO", "Foo", "fOO"]))
def test_listing_matches_the_spec_for_any_case(tmp_path_factory: pytest.TempPathFactory, subjects: list[str],
                                               asked: str) -> None:
    """Credentials about foo written in random cases, listed in a random case: the service finds exactly the
    ones the spec's lookup takes to foo, whatever the case asked."""
    service, server, rpc = _serve(tmp_path_factory.mktemp("idc"))
    try:
        s = customized()
        for n, name in enumerate(subjects):
            s.add(req("declare", _credential_for(f"did:elastos:{name}", f"c{n}", n), f"{USER1}#primary"))
        publish(rpc, s.items)
        state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
        got = rpc.call("did_listCredentials", {"did": f"did:elastos:{asked}", "skip": 0, "limit": 100})["credentials"]
        assert got == _spec_listing(state, f"did:elastos:{asked}")
        assert len(got) == len(subjects)
    finally:
        server.stop()
        service.close()
