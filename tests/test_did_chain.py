"""The ID-chain state machine and resolve: unit tests on sequences built from the SDK test data, and
Hypothesis properties over random operation sequences (a rejected request changes nothing; resolve
agrees with a plain replay; every resolved history passes the client's check)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.bindings_did.chain import replay
from conformance.generators import did_chain as G
from conformance.generators.did_requests import ISSUER, USER1, USER2, USER3, USER4, documents, norm, req
from conformance.generators.did_documents import text
from spec.did import chain
from spec.did import document as D
from spec.errors import Reason, Reject

T0 = G.T0


def run(reqs: list[str], start: int = T0) -> tuple[chain.IdChainState, list[str]]:
    return replay([(r, start + i) for i, r in enumerate(reqs)])


def test_users_and_customized_dids_resolve_valid() -> None:
    state, results = replay([(i["request"], i["block_time"]) for i in G.customized().items])
    assert results == ["ok"] * 10
    for did in (ISSUER, USER1, USER4, G.FOO, G.FOOBAR):
        status, txs = chain.resolve_did(state, did)
        assert status == chain.STATUS_VALID and len(txs) == 1 and txs[0].operation == "create"
    assert chain.resolve_did(state, "did:elastos:nobody") == (chain.STATUS_NOT_FOUND, ())


def test_update_needs_the_last_txid_and_resolve_lists_newest_first() -> None:
    create = req("create", norm("user1.id"), f"{USER1}#primary")
    first = req("update", norm("user1.id"), f"{USER1}#primary", previous_txid=chain.request_txid(create).hex())
    stale = req("update", norm("user1.id"), f"{USER1}#key2", previous_txid=chain.request_txid(create).hex())
    state, results = run([create, first, stale])
    assert results == ["ok", "ok", "IDCHAIN_PREVIOUS_TXID"]
    status, txs = chain.resolve_did(state, USER1, all=True)
    assert status == 0 and [t.txid for t in txs] == [chain.request_txid(first).hex(), chain.request_txid(create).hex()]
    assert [t.txid for t in chain.resolve_did(state, USER1)[1]] == [chain.request_txid(first).hex()]


def test_deactivate_is_final_and_resolves_deactivate_then_document() -> None:
    create = req("create", norm("user3.id"), f"{USER3}#primary")
    deact = req("deactivate", USER3, f"{USER3}#primary")
    again = req("update", norm("user3.id"), f"{USER3}#primary", previous_txid=chain.request_txid(deact).hex())
    state, results = run([create, deact, again, deact])
    assert results == ["ok", "ok", "IDCHAIN_DEACTIVATED", "IDCHAIN_DEACTIVATED"]
    status, txs = chain.resolve_did(state, USER3)
    assert status == chain.STATUS_DEACTIVATED and [t.operation for t in txs] == ["deactivate", "create"]


def test_expired_status_at_a_later_time() -> None:
    state, _ = run([req("create", norm("user1.id"), f"{USER1}#primary")])
    assert chain.resolve_did(state, USER1)[0] == chain.STATUS_VALID
    assert chain.resolve_did(state, USER1, now=G.NOW_AFTER)[0] == chain.STATUS_EXPIRED
    with pytest.raises(Reject) as e:
        chain.apply_request(chain.EMPTY, req("create", norm("user1.id"), f"{USER1}#primary"), G.NOW_AFTER, b"\0" * 32)
    assert e.value.reason is Reason.IDCHAIN_EXPIRES


def test_transfer_ticket_must_name_the_last_txid() -> None:
    s = G.customized()
    good = G.transfer(s, G.BAZ, norm("baz.new-id"), [f"{USER1}#primary"])
    sdk = req("transfer", norm("baz.new-id"), f"{USER4}#primary", ticket=text("v2", "baz.tt.json"))
    state, results = replay([(i["request"], i["block_time"]) for i in s.items] + [(sdk, T0 + 50), (good, T0 + 51)])
    assert results[-2:] == ["IDCHAIN_TICKET_TXID", "ok"]
    rec = state.did(G.BAZ)
    assert rec is not None and USER4 in [str(c) for c in rec.document.controllers]


def test_credential_orders() -> None:
    twitter = text("v2", "user1.vc.twitter.normalized.json")
    declare = req("declare", twitter, f"{USER1}#primary")
    by_issuer = req("revoke", G.TWITTER, f"{ISSUER}#primary")
    base = [i["request"] for i in G.users().items]
    state, results = run(base + [declare, declare, by_issuer, by_issuer])
    assert results[5:] == ["ok", "IDCHAIN_CREDENTIAL_EXISTS", "ok", "IDCHAIN_CREDENTIAL_REVOKED"]
    assert chain.resolve_credential(state, G.TWITTER)[0] == chain.STATUS_REVOKED
    state, results = run(base + [by_issuer, declare])
    assert results[5:] == ["ok", "IDCHAIN_CREDENTIAL_REVOKED"]
    state, results = run(base + [req("revoke", G.TWITTER, f"{USER2}#primary"), declare,
                                 req("revoke", G.TWITTER, f"{USER3}#primary")])
    assert results[5:] == ["ok", "ok", "IDCHAIN_REVOKE_SIGNER"]
    assert chain.resolve_credential(state, G.TWITTER)[0] == chain.STATUS_VALID
    assert chain.resolve_credential(state, G.TWITTER, USER2)[0] == chain.STATUS_REVOKED
    assert chain.resolve_credential(state, f"{USER1}#nothing")[0] == chain.STATUS_NOT_FOUND


def test_check_history_accepts_resolved_and_rejects_gaps() -> None:
    s = G.customized()
    s.add(G.update(s, G.BAZ, norm("baz.id"), f"{USER1}#primary"))
    s.add(G.transfer(s, G.BAZ, norm("baz.new-id"), [f"{USER1}#primary"]))
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    _, txs = chain.resolve_did(state, G.BAZ, all=True)
    resolve = D.resolver_from_texts({k: v for k, v in documents().items() if k != G.BAZ})
    latest = chain.check_history(G.BAZ, txs, resolve)
    assert USER4 in [str(c) for c in latest.controllers]
    with pytest.raises(Reject) as e:
        chain.check_history(G.BAZ, txs[:1] + txs[2:], resolve)
    assert e.value.reason is Reason.IDCHAIN_HISTORY


# -- properties ------------------------------------------------------------------------------------------

_CREATES = {USER1: ("user1.id", f"{USER1}#primary"), USER2: ("user2.id", f"{USER2}#primary"),
            USER3: ("user3.id", f"{USER3}#primary"), G.FOO: ("foo.id", f"{USER2}#primary")}
_OPS = st.sampled_from(["create", "update", "update_stale", "deactivate", "declare", "revoke_owner",
                        "revoke_other"])
_DIDS = st.sampled_from(sorted(_CREATES))


def _request(state: chain.IdChainState, op: str, did: str) -> str:
    doc, vm = _CREATES[did]
    rec = state.did(did)
    if op == "create":
        return req("create", norm(doc), vm)
    if op.startswith("update"):
        prev = rec.transactions[-1 if op == "update" else 0].txid if rec is not None else "ab" * 32
        return req("update", norm(doc), vm, previous_txid=prev)
    if op == "deactivate":
        return req("deactivate", did, f"{USER1}#primary" if did == G.FOO else vm)
    if op == "declare":
        return req("declare", text("v2", "user1.vc.twitter.normalized.json"), f"{USER1}#primary")
    return req("revoke", G.TWITTER, f"{USER1}#primary" if op == "revoke_owner" else vm)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_OPS, _DIDS), min_size=1, max_size=10))
def test_random_sequences(ops: list[tuple[str, str]]) -> None:
    state = chain.EMPTY
    accepted: dict[str, list[tuple[str, str]]] = {}
    previous: set[str] = set()
    for i, (op, did) in enumerate(ops):
        text_ = _request(state, op, did)
        before = state
        snapshot = state.model_dump_json()
        try:
            state = chain.apply_request(state, text_, T0 + i, chain.request_txid(text_))
        except Reject:
            assert state is before and state.model_dump_json() == snapshot
            continue
        parsed = json.loads(text_)
        prev = parsed["header"].get("previousTxid")
        if prev is not None:
            assert prev not in previous, "two accepted updates name one previous txid"
            previous.add(prev)
        if parsed["header"]["specification"] == "elastos/did/1.0":
            accepted.setdefault(did, []).append((chain.request_txid(text_).hex(), parsed["header"]["operation"]))
    resolve = state.resolver()
    for did in _CREATES:
        status, txs = chain.resolve_did(state, did, all=True)
        plain = accepted.get(did, [])
        if not plain:
            assert status == chain.STATUS_NOT_FOUND
            continue
        assert [t.txid for t in txs] == [t for t, _ in reversed(plain)]
        assert plain[0][1] == "create" and all(o != "create" for _, o in plain[1:])
        assert "deactivate" not in [o for _, o in plain[:-1]]
        assert status == (chain.STATUS_DEACTIVATED if plain[-1][1] == "deactivate" else chain.STATUS_VALID)
        chain.check_history(did, txs, lambda d, did=did: None if str(d) == did else resolve(d))


# -- the view and the change -----------------------------------------------------------------------------------


class DictView:
    """A second :class:`~spec.did.chain.IdChainView`: plain mutable dicts, changes applied in place (what a
    node's store does), checked against the value state."""

    def __init__(self) -> None:
        self.dids: dict[str, chain.DIDRecord] = {}
        self.credentials: dict[str, chain.CredentialRecord] = {}
        self.block_time = 0

    def did(self, did: object) -> chain.DIDRecord | None:
        return self.dids.get(str(did))

    def credential(self, vc_id: object) -> chain.CredentialRecord | None:
        return self.credentials.get(str(vc_id))

    def apply(self, change: chain.Change) -> None:
        if isinstance(change, chain.DIDChange):
            self.dids[change.did] = change.record
        else:
            self.credentials[change.id] = change.record
        self.block_time = change.transaction.timestamp


def _all_sequences() -> list[list[tuple[str, int]]]:
    seqs = [s for _, s, _, _ in G._sequences()] + [s for _, s, *_ in G._credential_sequences()]
    return [[(i["request"], i["block_time"]) for i in s.items] for s in seqs]


def test_check_request_on_another_view_gives_the_same_changes_and_resolution() -> None:
    for items in _all_sequences():
        state, view = chain.EMPTY, DictView()
        for text_, t in items:
            txid = chain.request_txid(text_)
            try:
                change = chain.check_request(state, text_, t, txid)
            except Reject as e:
                with pytest.raises(Reject) as again:
                    chain.check_request(view, text_, t, txid)
                assert again.value.reason is e.reason and again.value.rule == e.rule
                continue
            assert chain.check_request(view, text_, t, txid) == change
            assert change.transaction == chain.IdTransaction(
                txid=txid.hex(), timestamp=t, operation=json.loads(text_)["header"]["operation"], request=text_)
            before = state
            state = chain.apply_change(state, change)
            view.apply(change)
            assert state == chain.apply_request(before, text_, t, txid)
            if isinstance(change, chain.DIDChange):
                assert state.did(change.did) == change.record and change.record.transactions[-1] == change.transaction
                if change.transaction.operation != "deactivate":
                    assert D.parse_document(chain.published_document(change.transaction),
                                            state.resolver()) == change.record.document
            else:
                assert state.credential(change.id) == change.record
        assert [k for k, _ in state.dids] == sorted(view.dids) and dict(state.dids) == view.dids
        assert dict(state.credentials) == view.credentials and state.block_time == view.block_time
        for did in view.dids:
            for all_ in (False, True):
                assert chain.resolve_did(view, did, all=all_) == chain.resolve_did(state, did, all=all_)
        for vc in view.credentials:
            for issuer in (None, ISSUER, USER3):
                assert chain.resolve_credential(view, vc, issuer) == chain.resolve_credential(state, vc, issuer)


def test_check_request_changes_nothing() -> None:
    state, _ = replay([(i["request"], i["block_time"]) for i in G.customized().items])
    snapshot = state.model_dump_json()
    text_ = G.update(G.customized(), G.FOO, norm("foo.id"), f"{USER1}#primary")
    change = chain.check_request(state, text_, T0 + 100, chain.request_txid(text_))
    assert isinstance(change, chain.DIDChange) and change.did == G.FOO
    assert state.model_dump_json() == snapshot and len(state.did(G.FOO).transactions) == 1  # type: ignore[union-attr]
    assert len(change.record.transactions) == 2 and state.block_time != T0 + 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdefgh:", min_size=1, max_size=4), max_size=30))
def test_state_lookup_is_a_sorted_map(keys: list[str]) -> None:
    pairs: tuple = ()
    model: dict[str, int] = {}
    for i, k in enumerate(keys):
        pairs = chain._put(pairs, k, i)
        model[k] = i
        assert [k for k, _ in pairs] == sorted(model) and dict(pairs) == model
    for k in set(keys) | {"", "zz", "a"}:
        assert chain._get(pairs, k) == model.get(k)


# -- customized-DID grace period (IDC-013, IDC-014) ---------------------------------------------------


def _lapsed_state() -> chain.IdChainState:
    state, results = replay([(i["request"], i["block_time"]) for i in G.foo_lapsed().items])
    assert set(results) == {"ok"}
    return state


def test_grace_period_is_max_expired_height_five_second_blocks() -> None:
    # EID params/config.go: MaxExpiredHeight 6,307,200 on every network; TryGetExpiresHeight divides by 5.
    assert chain.MAX_EXPIRED_TIME == 6_307_200 * 5 == 365 * 24 * 3600
    foo = D.parse_document(norm("foo.id"))
    assert chain.grace_end(foo) == D.parse_date("2026-11-20T09:54:10Z") + 365 * 24 * 3600
    assert G.FOO_GRACE_END == D.parse_date("2027-11-20T09:54:10Z")


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=-3 * 24 * 3600, max_value=3 * 24 * 3600))
def test_recreate_and_lapse_switch_exactly_at_the_grace_end(offset: int) -> None:
    """Around foo's grace end: a create by other controllers is accepted exactly when the block time is after
    it, and an update renewing foo by its controllers exactly when it is not."""
    state, t = _lapsed_state(), G.FOO_GRACE_END + offset
    create = G.foo_again()
    last = state.did(G.FOO).transactions[-1].txid  # type: ignore[union-attr]
    renew = req("update", G.foo_renewal(), f"{USER1}#primary", previous_txid=last)
    try:
        change = chain.check_request(state, create, t, chain.request_txid(create))
        assert offset > 0
        assert isinstance(change, chain.DIDChange) and change.record.document.controllers == \
            (D.parse_document(G.foo_again_doc()).controllers)
        assert [x.operation for x in change.record.transactions] == ["create", "create"]
    except Reject as e:
        assert offset <= 0 and (e.reason, e.rule) == (Reason.IDCHAIN_ALREADY_EXISTS, "IDC-013")
    try:
        chain.check_request(state, renew, t, chain.request_txid(renew))
        assert offset <= 0
    except Reject as e:
        assert offset > 0 and (e.reason, e.rule) == (Reason.IDCHAIN_CUSTOMIZED_LAPSED, "IDC-014")


def test_recreated_did_starts_a_new_life_and_its_history_checks() -> None:
    s = G.foo_lapsed()
    G.at(s, G.foo_again(), G.FOO_GRACE_END + 1)
    state, results = replay([(i["request"], i["block_time"]) for i in s.items])
    assert results[-1] == "ok"
    status, latest = chain.resolve_did(state, G.FOO)
    assert status == chain.STATUS_VALID and [t.operation for t in latest] == ["create"]
    _, every = chain.resolve_did(state, G.FOO, all=True)
    assert [t.operation for t in every] == ["create", "create"]
    doc = chain.check_history(G.FOO, every, state.resolver())
    assert set(map(str, doc.controllers)) == {USER3, USER4}
    # the old controllers lost the DID: their update naming the new create's txid does not verify
    stale = req("update", G.foo_renewal(), f"{USER1}#primary", previous_txid=every[0].txid)
    with pytest.raises(Reject) as e:
        chain.check_request(state, stale, G.FOO_GRACE_END + 2, chain.request_txid(stale))
    assert e.value.reason is not Reason.IDCHAIN_PREVIOUS_TXID


def test_deviation_deactivated_customized_did_is_never_created_again() -> None:
    """Deviation (IDC-013): EID accepts the create of a deactivated customized DID after its grace period (and
    the DID stays deactivated); the spec rejects it, so deactivation is final."""
    s = G.foo_lapsed()
    s.add(req("deactivate", G.FOO, f"{USER1}#primary"))
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    for t in (G.FOO_GRACE_END + 1, G.FOO_GRACE_END + 3 * chain.MAX_EXPIRED_TIME):
        with pytest.raises(Reject) as e:
            chain.check_request(state, G.foo_again(), t, chain.request_txid(G.foo_again()))
        assert (e.value.reason, e.value.rule) == (Reason.IDCHAIN_ALREADY_EXISTS, "IDC-013")
    assert chain.resolve_did(state, G.FOO, now=G.FOO_GRACE_END + 1)[0] == chain.STATUS_DEACTIVATED


def test_deviation_grace_counted_in_block_time_not_heights() -> None:
    """Deviation (IDC-013): EID frees the name at height expiresHeight + MaxExpiredHeight, with
    expiresHeight = h + (expires - t) // 5 for the block (h, t) that published the document. With blocks exactly
    5 s apart that height is reached at expires + MAX_EXPIRED_TIME (within the 5 s of the floor); the spec uses
    that block time whatever the real block interval."""
    foo = D.parse_document(norm("foo.id"))
    expires = D.parse_date(foo.expires)
    for h, t in ((1000, T0), (123_457, T0 + 7)):
        expires_height = h + (expires - t) // chain.EXPIRES_BLOCK_INTERVAL
        free_height = expires_height + chain.MAX_EXPIRED_HEIGHT + 1
        free_time = t + (free_height - h) * chain.EXPIRES_BLOCK_INTERVAL
        assert abs(free_time - (chain.grace_end(foo) + 1)) <= chain.EXPIRES_BLOCK_INTERVAL
        # with 6-second blocks the name is free only 73 days later than the spec says
        slow = t + (free_height - h) * 6
        assert slow - chain.grace_end(foo) > 70 * 24 * 3600


def test_deactivate_is_not_limited_by_the_grace_period() -> None:
    state = _lapsed_state()
    deact = req("deactivate", G.FOO, f"{USER1}#primary")
    change = chain.check_request(state, deact, G.FOO_GRACE_END + 5 * chain.MAX_EXPIRED_TIME, chain.request_txid(deact))
    assert isinstance(change, chain.DIDChange) and change.record.deactivated


def test_resolve_handler_all_and_latest() -> None:
    from conformance.bindings_did.chain import _resolve as fn

    s = G.foo_lapsed()
    s.add(req("deactivate", G.FOO, f"{USER1}#primary"))
    items = [dict(i) for i in s.items]
    every = fn({"requests": items, "did": G.FOO, "all": True})
    latest = fn({"requests": items, "did": G.FOO, "all": False})
    assert every["status"] == latest["status"] == chain.STATUS_DEACTIVATED
    assert latest["txids"] == every["txids"] == [chain.request_txid(items[-1]["request"]).hex(),
                                                 chain.request_txid(items[5]["request"]).hex()]
    assert fn({"requests": items, "did": G.FOO, "all": False, "now": 0})["status"] == chain.STATUS_DEACTIVATED
    with pytest.raises(Reject) as e:
        fn({"requests": [], "did": G.FOO, "all": 1})
    assert e.value.reason is Reason.MALFORMED_INPUT


# -- ids on chain (DID-012): letters and digits, customized ids in any case ----------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=3, max_size=3))
def test_customized_ids_are_one_did_in_any_case(upper: list[bool]) -> None:
    name = "".join(c.upper() if u else c for c, u in zip("foo", upper, strict=True))
    s = G.users()
    s.add(req("create", norm("foo.id"), f"{USER2}#primary"))
    state, _ = replay([(i["request"], i["block_time"]) for i in s.items])
    variant = f"did:elastos:{name}"
    assert chain.resolve_did(state, variant) == chain.resolve_did(state, G.FOO)
    assert chain.lookup(state, chain.parse_did(variant))[0] == G.FOO  # type: ignore[index]
    renamed = G.resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"], lambda d: d.update(id=variant))
    again = req("create", renamed, f"{USER1}#primary")
    with pytest.raises(Reject) as e:
        chain.check_request(state, again, T0 + 100, chain.request_txid(again))
    assert e.value.reason is Reason.IDCHAIN_ALREADY_EXISTS
    upd = req("update", renamed, f"{USER1}#primary", previous_txid=state.did(G.FOO).transactions[-1].txid)  # type: ignore[union-attr]
    change = chain.check_request(state, upd, T0 + 100, chain.request_txid(upd))
    assert isinstance(change, chain.DIDChange) and change.did == G.FOO and str(change.record.document.subject) == variant


def test_primitive_dids_keep_their_case_and_chain_ids_are_alphanumeric() -> None:
    state, _ = replay([(i["request"], i["block_time"]) for i in G.users().items])
    assert chain.resolve_did(state, USER1.lower())[0] == chain.STATUS_NOT_FOUND
    for name in ("foo-bar", "foo.bar", "foo_bar"):
        doc = G.resign(norm("foo.id"), [f"{USER1}#primary", f"{USER2}#primary"],
                       lambda d, n=name: d.update(id=f"did:elastos:{n}"))
        text = req("create", doc, f"{USER1}#primary")
        with pytest.raises(Reject) as e:
            chain.check_request(state, text, T0 + 100, chain.request_txid(text))
        assert (e.value.reason, e.value.rule) == (Reason.DID_CHAIN_ID_CHARSET, "DID-012")
