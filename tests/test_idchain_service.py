"""The reference ID-chain service: a real SQLite store and JSON-RPC over real loopback HTTP, checked
against the spec's state machine (:mod:`spec.did.chain`)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.bindings_did.chain import replay
from conformance.generators.did_chain import FOO, T0, TWITTER, customized, transfer, update, users
from conformance.generators.did_documents import text
from conformance.generators.did_requests import ISSUER, USER1, USER2, USER3, norm, req
from reference.idchain.rpc import Api, RpcClient, RpcError, RpcServer
from reference.node.rpc import INVALID_PARAMS
from reference.idchain.service import IdChainService
from spec.did import chain
from spec.errors import Reject

from idchain_helpers import assert_store_is, expected_did

DIDS = (ISSUER, USER1, USER2, USER3, FOO)


@pytest.fixture()
def served(tmp_path: Path):
    service = IdChainService(tmp_path / "idc")
    server = RpcServer(service).start()
    yield service, RpcClient(f"http://127.0.0.1:{server.port}")
    server.stop()
    service.close()


def publish(rpc: RpcClient, items: list[dict]) -> list[str]:
    results = []
    for i in items:
        try:
            rpc.call("did_publishRequest", {"request": i["request"], "block_time": i["block_time"]})
            results.append("ok")
        except RpcError as e:
            assert e.code == 43001 and e.reason
            results.append(e.reason)
    return results


def test_publish_and_resolve_match_the_spec(served) -> None:
    service, rpc = served
    s = customized()
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    s.add(req("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary"))
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))  # rejected: foo exists
    items = s.items
    state, want = replay([(i["request"], i["block_time"]) for i in items])
    assert publish(rpc, items) == want and want[-1] != "ok"
    assert_store_is(service, state)
    for did, _ in state.dids:
        for all_ in (False, True):
            assert rpc.call("did_resolveDID", {"did": did, "all": all_}) == expected_did(state, did, all_)
    assert rpc.call("did_resolveDID", {"did": "did:elastos:nobody", "all": False}) == \
        {"did": "did:elastos:nobody", "status": 3}
    got = rpc.call("did_resolveCredential", {"id": TWITTER})
    status, txs = chain.resolve_credential(state, TWITTER)
    assert got["status"] == status == 0 and [t["txid"] for t in got["transaction"]] == [t.txid for t in txs]
    assert rpc.call("did_listCredentials", {"did": USER1, "skip": 0, "limit": 10}) == \
        {"did": USER1, "credentials": [TWITTER]}
    assert rpc.call("did_listCredentials", {"did": USER1, "skip": 1, "limit": 10})["credentials"] == []
    rpc.call("did_publishRequest", {"request": req("revoke", TWITTER, f"{ISSUER}#primary"), "block_time": T0 + 99})
    assert rpc.call("did_resolveCredential", {"id": TWITTER, "issuer": ISSUER})["status"] == 2


def test_rejections_leave_the_store_unchanged(served) -> None:
    service, rpc = served
    publish(rpc, users().items)
    before = service.store.dump()
    state, _ = replay([(i["request"], i["block_time"]) for i in users().items])
    assert_store_is(service, state)
    good = req("create", norm("foo.id"), f"{USER2}#primary")
    bad_sig = json.loads(good)
    bad_sig["proof"]["signature"] = bad_sig["proof"]["signature"][::-1]
    for bad in ("{not json", json.dumps(bad_sig), req("create", norm("user1.id"), f"{USER1}#primary")):
        with pytest.raises(Reject) as spec_e:
            chain.apply_request(state, bad, T0 + 50, chain.request_txid(bad))
        with pytest.raises(RpcError) as e:
            rpc.call("did_publishRequest", {"request": bad, "block_time": T0 + 50})
        assert e.value.code == 43001 and e.value.reason == spec_e.value.reason.value
        assert e.value.message.startswith(e.value.reason)
        assert service.store.dump() == before
    with pytest.raises(RpcError) as e:
        rpc.call("did_publishRequest", {"request": {"header": {}}})
    assert e.value.code == 42002 and service.store.dump() == before


def test_restart_replays_to_the_same_resolution(tmp_path: Path) -> None:
    s = customized()
    s.add(transfer(s, FOO, norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"]))
    s.add(req("deactivate", USER3, f"{USER3}#primary"))
    first = IdChainService(tmp_path / "idc")
    for i in s.items:
        try:
            first.submit(i["request"], i["block_time"])
        except Reject:
            pass
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    heights = first.store.height()
    first.close()
    again = IdChainService(tmp_path / "idc")
    try:
        assert again.tip() == (heights, state.block_time)
        assert_store_is(again, state)
        assert replay([(text_, t) for text_, t, _ in again.store.requests()])[0] == state
        for did in DIDS:
            assert again.resolve_did(did, all=True) == chain.resolve_did(state, did, all=True)
    finally:
        again.close()


def test_cli_prints_ready_and_serves(tmp_path: Path) -> None:
    p = subprocess.Popen([sys.executable, "-m", "reference.cli", "idchain", "--datadir", str(tmp_path / "d")],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("ready rpc=")
        rpc = RpcClient(f"http://127.0.0.1:{int(line.split('=')[1])}")
        assert rpc.call("did_resolveDID", {"did": USER1, "all": True}) == {"did": USER1, "status": 3}
    finally:
        p.terminate()
        p.wait(10)


# -- property: random operation sequences, service against spec --------------------------------------------------

USERS = {ISSUER: "issuer", USER1: "user1", USER2: "user2", USER3: "user3"}


@lru_cache(maxsize=None)
def _create(did: str) -> str:
    return req("create", norm(f"{USERS[did]}.id"), f"{did}#primary")


@lru_cache(maxsize=None)
def _signed(op: str, payload: str, vm: str, prev: str | None = None) -> str:
    return req(op, payload, vm, previous_txid=prev)


def _build(state: chain.IdChainState, op: str, did: str) -> str:
    if op == "create":
        return _create(did)
    rec = state.did(did)
    prev = rec.transactions[-1].txid if rec is not None else "00" * 32
    if op == "update":
        return _signed("update", norm(f"{USERS[did]}.id"), f"{did}#primary", prev)
    if op == "deactivate":
        return _signed("deactivate", did, f"{did}#primary")
    if op == "declare":
        return _signed("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary")
    return _signed("revoke", TWITTER, f"{did}#primary")


OPS = st.lists(st.tuples(st.sampled_from(["create", "create", "update", "deactivate", "declare", "revoke"]),
                         st.sampled_from(sorted(USERS)), st.integers(0, 3)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_sequences_match_the_spec(ops: list[tuple[str, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        service = IdChainService(d)
        api = Api(service)
        state, t = chain.EMPTY, T0
        try:
            for op, did, dt in ops:
                t += dt
                request = _build(state, op, did)
                try:
                    want: str | None = None
                    state = chain.apply_request(state, request, t, chain.request_txid(request))
                except Reject as e:
                    want = e.reason.value
                try:
                    api.call("did_publishRequest", [{"request": request, "block_time": t}])
                    got = None
                except RpcError as e:
                    got = e.reason
                assert got == want
            assert_store_is(service, state)
            for did in USERS:
                assert api.call("did_resolveDID", {"did": did, "all": True}) == expected_did(state, did, True)
            status, _ = chain.resolve_credential(state, TWITTER)
            assert api.call("did_resolveCredential", {"id": TWITTER})["status"] == status
        finally:
            service.close()


# -- the store as the spec's view -------------------------------------------------------------------------------


def test_a_block_of_requests_sees_its_earlier_requests(tmp_path: Path) -> None:
    s = customized()
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    items = [i["request"] for i in s.items]
    dup = items[0]
    service = IdChainService(tmp_path / "idc")
    try:
        height, results = service.submit_block(T0, items + [dup])
        state, want = replay([(r, T0) for r in items + [dup]])
        assert height == 0 and [("ok" if isinstance(r, bytes) else r.reason.value) for r in results] == want
        assert want[-1] == "IDCHAIN_ALREADY_EXISTS" and want.count("ok") == len(items)
        assert_store_is(service, state)
        assert service.store.db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0] == 1
        before = service.store.dump()
        height, results = service.submit_block(T0 + 1, [dup, "{"])
        assert all(isinstance(r, Reject) for r in results) and service.store.dump() == before
    finally:
        service.close()


def test_a_failed_store_write_rolls_the_block_back(served) -> None:
    service, rpc = served
    s = users()
    publish(rpc, s.items)
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    before = service.store.dump()
    foo = req("create", norm("foo.id"), f"{USER2}#primary")
    declare = req("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary")
    # a real SQLite failure in the middle of the block: after its block row, transaction row and other changes
    service.store.db.execute("CREATE TEMP TRIGGER fail BEFORE INSERT ON credentials "
                             "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(RpcError) as e:
        rpc.call("did_publishRequest", {"request": declare, "block_time": T0 + 60})
    assert e.value.code == 45002 and "disk full" in e.value.message
    assert service.store.dump() == before
    with pytest.raises(Exception, match="disk full"):
        service.submit_block(T0 + 61, [foo, declare])
    assert service.store.dump() == before and service.tip() == (len(s.items) - 1, state.block_time)
    assert rpc.call("did_resolveDID", {"did": FOO, "all": True}) == {"did": FOO, "status": 3}
    assert_store_is(service, state)
    service.store.db.execute("DROP TRIGGER fail")
    height, results = service.submit_block(T0 + 61, [foo, declare])
    assert height == len(s.items) and all(isinstance(r, bytes) for r in results)
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items] + [(foo, T0 + 61), (declare, T0 + 61)])
    assert_store_is(service, state)
    assert rpc.call("did_resolveCredential", {"id": TWITTER})["status"] == 0


def test_resolution_reads_only_indexed_rows(served) -> None:
    """Every statement a lookup runs is a search on a key or an index (no table scan): the cost of resolving
    does not depend on how many DIDs are stored."""
    service, rpc = served
    s = customized()
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    publish(rpc, s.items)
    rpc.call("did_publishRequest", {"request": req("declare", text("v2", "user1.vc.twitter.normalized.json"),
                                                   f"{USER1}#primary"), "block_time": T0 + 90})
    rpc.call("did_publishRequest", {"request": req("revoke", TWITTER, f"{ISSUER}#primary"), "block_time": T0 + 91})
    statements: list[str] = []
    db = service.store.db
    db.set_trace_callback(statements.append)
    try:
        service.resolve_did(FOO, all=True)
        service.resolve_credential(TWITTER, ISSUER)
        service.credentials_of(USER1)
    finally:
        db.set_trace_callback(None)
    assert len(statements) >= 6
    for sql in statements:
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        assert plan and all(not p.startswith("SCAN") for p in plan), (sql, plan)


def test_a_store_of_another_version_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from reference.idchain.store import Store, StoreError

    (tmp_path / "idc").mkdir()
    db = sqlite3.connect(tmp_path / "idc" / "idchain.sqlite")
    db.execute("CREATE TABLE requests (seq INTEGER PRIMARY KEY)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="version 0"):
        Store(tmp_path / "idc")


def test_start_replays_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a store with requests in it reads no transaction and no record: nothing is replayed."""
    first = IdChainService(tmp_path / "idc")
    publish_all = [first.submit(i["request"], i["block_time"]) for i in users().items]
    first.close()
    import sqlite3

    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*a, **k):  # type: ignore[no-untyped-def]
        db = real_connect(*a, **k)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    again = IdChainService(tmp_path / "idc")
    monkeypatch.undo()
    try:
        assert statements and not [s for s in statements if any(t in s for t in ("transactions", "dids", "credentials"))
                                    and not s.lstrip().upper().startswith("CREATE")]
        assert again.store.count() == len(publish_all) == 5
        assert again.resolve_did(USER1)[0] == chain.STATUS_VALID
    finally:
        again.close()


def test_resolve_all_and_latest_have_eids_shapes(served) -> None:
    """did_resolveDID as EID answers it (internal/ethapi/didapi.go ResolveDID), checked field by field rather than
    against the spec: without ``all`` one transaction (the latest document's), preceded by the deactivate for a
    deactivated DID; with ``all`` every transaction newest first; params as the SDK sends them (the client sends
    a list of one map)."""
    service, rpc = served
    s = users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    s.add(update(s, FOO, norm("foo.id"), f"{USER1}#primary"))
    s.add(req("deactivate", USER3, f"{USER3}#primary"))
    assert set(publish(rpc, s.items)) == {"ok"}
    sent = [i["request"] for i in s.items]
    txid = [chain.request_txid(r).hex() for r in sent]

    def shape(res: dict, did: str, status: int, idx: list[int]) -> None:
        assert set(res) == {"did", "status", "transaction"} and res["did"] == did and res["status"] == status
        assert [t["txid"] for t in res["transaction"]] == [txid[i] for i in idx]
        for t, i in zip(res["transaction"], idx, strict=True):
            assert set(t) == {"txid", "timestamp", "operation"}
            assert t["operation"] == json.loads(sent[i]) and t["operation"]["header"]["operation"] in (
                "create", "update", "deactivate")
            assert t["timestamp"] == chain.document.format_date(s.items[i]["block_time"]) and t["timestamp"][-1] == "Z"

    shape(rpc.call("did_resolveDID", {"did": FOO, "all": False}), FOO, 0, [6])
    shape(rpc.call("did_resolveDID", {"did": FOO}), FOO, 0, [6])  # EID: all defaults to false
    shape(rpc.call("did_resolveDID", {"did": FOO, "all": True}), FOO, 0, [6, 5])
    shape(rpc.call("did_resolveDID", {"did": USER3, "all": False}), USER3, 2, [7, 3])
    shape(rpc.call("did_resolveDID", {"did": USER3, "all": True}), USER3, 2, [7, 3])
    assert rpc.call("did_resolveDID", {"did": "did:elastos:nobody", "all": True}) == \
        {"did": "did:elastos:nobody", "status": 3}
    # a bare id, as EID takes it, and a customized id in another case
    # (EID answers "did" with the id the document writes, whatever the case or form asked)
    bare = rpc.call("did_resolveDID", {"did": "foo", "all": True})
    assert bare["did"] == FOO and bare["transaction"] == rpc.call("did_resolveDID", {"did": FOO, "all": True})[
        "transaction"]
    upper = rpc.call("did_resolveDID", {"did": "did:elastos:FOO"})
    assert upper["did"] == FOO and upper["transaction"][0]["txid"] == txid[6]
    assert rpc.call("did_resolveDID", {"did": "nobody"}) == {"did": "nobody", "status": 3}
    # "all" must be a boolean (EID reads anything else as false; the service refuses it, typed)
    for bad in ("true", 1, None, [True]):
        with pytest.raises(RpcError) as e:
            rpc.call("did_resolveDID", {"did": FOO, "all": bad})
        assert e.value.code == INVALID_PARAMS and "all" in e.value.message


def test_service_recreates_a_customized_did_after_its_grace_end(served) -> None:
    from conformance.generators import did_chain as G

    service, rpc = served
    s = G.foo_lapsed()
    G.at(s, G.foo_again(), G.FOO_GRACE_END)  # rejected: not yet
    G.at(s, G.foo_again(), G.FOO_GRACE_END + 1)
    G.at(s, update(s, FOO, G.foo_renewal(), f"{USER1}#primary", prev=chain.request_txid(s.items[5]["request"]).hex()),
         G.FOO_GRACE_END + 2)  # rejected: the old controllers' update
    state, want = replay([(i["request"], i["block_time"]) for i in s.items])
    got = publish(rpc, s.items)
    assert got == want and got[-3:] == ["IDCHAIN_ALREADY_EXISTS", "ok", got[-1]] and got[-1] != "ok"
    assert_store_is(service, state)
    latest = rpc.call("did_resolveDID", {"did": FOO, "all": False})
    every = rpc.call("did_resolveDID", {"did": FOO, "all": True})
    new, old = chain.request_txid(s.items[-2]["request"]).hex(), chain.request_txid(s.items[5]["request"]).hex()
    assert latest["status"] == every["status"] == 0
    assert [t["txid"] for t in latest["transaction"]] == [new]
    assert [t["txid"] for t in every["transaction"]] == [new, old]
    assert every["transaction"][0]["operation"]["header"]["operation"] == "create"
