"""Correspondence tests of the isolation proofs (:mod:`proofs.isolation`).

Each model the proofs reason about is evaluated on constants (:func:`proofs.framework.concrete`) and
compared with the spec function it models, on inputs Hypothesis chooses.
"""

from __future__ import annotations

import json

import z3
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.generators import runtime as W
from proofs import isolation as iso
from proofs.framework import concrete, get_proof, run_proof
from spec.errors import Reject
from spec.runtime import capability as C
from spec.runtime import hostcalls as H
from spec.runtime import paths
from spec.runtime.identity import canonical_did, usable
from spec.runtime.intents import route_intent

PATHISH = st.lists(st.sampled_from(list("ab./\\:%2eE\x00 \u00e9\u0301") + ["..", "con", "/"]), max_size=16).map("".join)
ANY_TEXT = st.text(max_size=40)
DID_IDS = st.text(alphabet=st.sampled_from(list("abcXYZ019._-")), min_size=1, max_size=20)
GOOD_IDS = st.tuples(st.sampled_from(list("aZ9")), st.text(alphabet=st.sampled_from(list("abcXYZ019._-")), max_size=20)
                     ).map("".join)
NAMES = st.text(alphabet=st.sampled_from(list("ab.%2 \u00e9\u7b14-")), min_size=1, max_size=12)
GOOD_PATHS = st.lists(NAMES, min_size=1, max_size=5).map("/".join)


def _accepted(p: str) -> bool:
    try:
        paths.check_path(p)
    except Reject:
        return False
    return True


Z3_MAX_CHAR = 0x2FFFF
"""Z3's string alphabet ends here. The models' regular expressions single out only ``/``, ``:``,
``\\``, NUL and ``.``; every other character is treated alike, so a character beyond Z3's alphabet is
evaluated as ``x`` (the same class)."""


def _in(s: str, regex: z3.ReRef) -> bool:
    s = "".join("x" if ord(c) > Z3_MAX_CHAR else c for c in s)
    return bool(concrete(z3.InRe(z3.StringVal(s), regex)))


@settings(max_examples=400, deadline=None)
@given(st.one_of(PATHISH, ANY_TEXT))
def test_path_model_over_approximates_spec(p: str) -> None:
    """Every path the spec accepts is in the model's PATH_RE (so the proof covers it); paths with a
    '..', '.' or empty name are in neither."""
    if _accepted(p):
        assert _in(p, iso.PATH_RE), p
    names = p.split("/")
    if any(n in ("", ".", "..") for n in names):
        assert not _accepted(p)
        if "\udc80" not in p and all(not 0xD800 <= ord(c) <= 0xDFFF for c in p):
            assert not _in(p, iso.PATH_RE), p


@settings(max_examples=200, deadline=None)
@given(DID_IDS)
def test_did_model_covers_canonical_dids(ident: str) -> None:
    text = f"did:elastos:{ident}"
    if canonical_did(text) is not None:
        assert _in(text, iso.DID_RE)
    assert canonical_did(" " + text) is None and canonical_did(text + "/x") is None


@settings(max_examples=200, deadline=None)
@given(GOOD_IDS, GOOD_IDS, st.one_of(GOOD_PATHS, PATHISH))
def test_location_model_matches_spec(uid: str, aid: str, p: str) -> None:
    """An accepted location is in LOCATION_RE, starts with its home, and split at '/' gives exactly the
    component view ``home, user, app, names...`` the disjointness proof reasons about."""
    u, a = f"did:elastos:{uid}", f"did:elastos:{aid}"
    assume(canonical_did(u) is not None and canonical_did(a) is not None and _accepted(p))
    loc = paths.resolve_path(u, a, p)
    assert loc.startswith(paths.home(u, a))
    assert _in(loc, iso.LOCATION_RE) and _in(paths.home(u, a), iso.HOME_RE)
    assert loc.split("/") == ["home", u, a] + p.split("/")


def test_witnesses_replay() -> None:
    result = run_proof(get_proof("runtime_path_dotdot_name"))
    assert result.status == "proved"
    replay = json.loads(result.replay or "{}")
    assert ".." in replay["path"] and replay["spec"].endswith("/" + replay["path"])
    assert result.case is not None and result.case["expect"] == {"ok": {"location": replay["spec"]}}


RESOURCES = st.one_of(
    st.just("storage:*"), st.just("carrier:*"),
    st.lists(st.sampled_from(["a", "b", "docs", "x.txt"]), min_size=1, max_size=3).flatmap(
        lambda ns: st.sampled_from([f"storage:{'/'.join(ns)}", f"storage:{'/'.join(ns)}/*"])),
    st.sampled_from([f"carrier:{W.did('friend')}", f"carrier:{W.did('stranger')}", "intent:share.document",
                     "intent:chat.open"]),
)


@settings(max_examples=300, deadline=None)
@given(RESOURCES, RESOURCES)
def test_covers_model_matches_spec(p: str, r: str) -> None:
    assert C.check_resource(p, C.ACTIONS[p.partition(":")[0]][0])
    assert concrete(iso.covers(iso.ResourceTerms.of(p), iso.ResourceTerms.of(r))) == C.covers(p, r), (p, r)


def _token(resource: str, action: str, user: int, expiry: int, bound: int | None, delegatable: bool) -> C.Token:
    return C.Token(id=bytes(16), app=W.did("notes"), user=W.did(("user", "user2")[user]), resource=resource,
                   action=action, delegatable=delegatable, max_bytes=bound, expiry=expiry, issuer=W.did("user"),
                   parent=None, depth=0, sig=bytes(64))


def _terms(i: int, t: C.Token) -> list[z3.BoolRef]:
    x = iso.TokenTerms(i)
    r = iso.ResourceTerms.of(t.resource)
    return [x.resource.kind == r.kind, x.resource.all == r.all, x.resource.names == r.names,
            x.resource.wild == r.wild, x.action == ["read", "write", "list", "delete", "send", "receive"].index(t.action),
            x.user == (0 if t.user == W.did("user") else 1), x.expiry == t.expiry,
            x.bounded == (t.max_bytes is not None), x.max_bytes == (t.max_bytes or 0), x.delegatable == t.delegatable]


TOKENS = st.builds(_token, RESOURCES, st.sampled_from(["read", "send"]), st.integers(0, 1), st.integers(0, 3),
                   st.one_of(st.none(), st.integers(0, 3)), st.booleans())


@settings(max_examples=300, deadline=None)
@given(TOKENS, TOKENS)
def test_narrows_model_matches_spec(child: C.Token, parent: C.Token) -> None:
    s = z3.Solver()
    s.add(*_terms(0, child), *_terms(1, parent))
    s.add(iso.narrows(iso.TokenTerms(0), iso.TokenTerms(1)) != z3.BoolVal(C.narrows(child, parent)))
    assert s.check() == z3.unsat, (child, parent)


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS, TOKENS, RESOURCES)
def test_chain_never_amplifies(t0: C.Token, t1: C.Token, t2: C.Token, r: str) -> None:
    """The proved property, checked on the spec's own functions."""
    if C.narrows(t1, t0) and C.narrows(t2, t1) and C.covers(t2.resource, r):
        assert C.covers(t0.resource, r) and t2.action == t0.action and t2.expiry <= t0.expiry


# -- decide ------------------------------------------------------------------------------------------------------


MANIFESTS = {a: W.manifest_model(a) for a in ("notes", "chat", "viewer")}
GRANTS = [C.verify_chain([t], W.did(app), W.did("user"), W.NOW, frozenset(), W.resolver())
          for app, t in (("notes", W.NOTES_READ), ("notes", W.NOTES_WRITE), ("notes", W.SHARE),
                         ("chat", W.CHAT_SEND), ("chat", W.CHAT_RECV))]
GRANTS += [C.verify_chain(chain, W.did("notes"), W.did("user"), W.NOW, frozenset(), W.resolver())
           for chain in ([W.SHARED], [W.HELD_FIXED], W.DEPTH1, W.DEPTH2)]
PEERS = [W.did(x) for x in ("friend", "stranger", "gone", "stale")] + [
    "did:elastos:iQ3Dmq6AyWfDHcTqu5N3ENNbVHSLUaWYcT", "127.0.0.1"]
SAMPLES = {"path": ["notes/a.txt", "notes", "", "../x", "secret/y", "a" * 5000],
           "peer": PEERS, "sender": [W.did("notes"), W.did("chat")], "target": ["", W.did("viewer"), W.did("chat")],
           "action": ["share.document", "share.photo", "Bad", "read", "send"],
           "resource": ["storage:notes/*", "storage:notes/a.txt", "storage:*", "storage:../x", "carrier:*"]}
DELEGATION = {"expiry": [None, W.NOW, W.NOW + 60, W.NOW + W.HOUR, 2 * W.NOW], "max_bytes": [None, 0, 4096, 1 << 20],
              "delegatable": [None, False, True]}


@st.composite
def calls(draw: st.DrawFn) -> H.HostCall:
    name = draw(st.sampled_from(list(H.TABLE) + ["socket_open"]))
    keys = H.TABLE[name].args if name in H.TABLE and draw(st.booleans()) else \
        tuple(k for k in H.STRING_ARGS if draw(st.integers(0, 4)) == 0)
    args: dict[str, object] = {k: draw(st.sampled_from(SAMPLES[k])) for k in keys}
    if name == H.DELEGATE or draw(st.integers(0, 9)) == 0:
        args.update({k: draw(st.sampled_from(v)) for k, v in DELEGATION.items()})
    return H.HostCall(name=name, size=draw(st.sampled_from([0, 10, 1024, 1025, 4096, 4097, 65537])), **args)


def _ok(fn, *args) -> bool:  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Reject:
        return False
    return True


def _features(m, grants, state, call):  # type: ignore[no-untyped-def]
    """The check outcomes decide depends on, computed from the spec's parts."""
    e = H.TABLE.get(call.name)
    f = iso.CallFeatures()
    vals: dict[str, object] = {"name": iso.NAMES.index(call.name) if e else -1}
    given_args = tuple(k for k in H.STRING_ARGS if getattr(call, k) is not None)
    numbers = (call.expiry, call.max_bytes, call.delegatable)
    numbers_ok = (call.expiry is not None and call.delegatable is not None) if call.name == H.DELEGATE \
        else numbers == (None, None, None)
    vals["args_ok"] = e is not None and given_args == tuple(k for k in H.STRING_ARGS if k in e.args) and numbers_ok
    vals["size_ok"] = e is not None and call.size <= e.max_size and all(
        len(getattr(call, k).encode("utf-8", "surrogatepass")) <= H.MAX_STRING_ARG for k in given_args)
    vals["rate_ok"] = not (state.now < state.window_start + H.WINDOW
                           and state.calls_in_window >= m.limits.calls_per_window)
    vals["perm_requested"] = e is not None and (e.permission is None or e.permission in m.permissions)
    vals["path_ok"] = call.path is not None and (call.path == "" and call.name == "storage_list"
                                                 or _ok(paths.check_path, call.path))
    peer = call.peer or ""
    did = canonical_did(peer)
    resolved = W.resolver()(did) if did is not None else None
    vals["peer_canonical"] = did is not None
    vals["peer_resolves"] = resolved is not None
    vals["peer_active"] = resolved is not None and not resolved.deactivated
    vals["peer_valid"] = resolved is not None and usable(resolved, state.now, W.resolver())
    vals["peer_friend"] = peer in state.friends
    vals["intent_ok"] = None not in (call.sender, call.target, call.action) and _ok(
        route_intent, m, call.sender, call.target, call.action, state.installed)
    if e is not None and e.kind is not None:
        resource = {"storage_list": "storage:*" if call.path == "" else f"storage:{call.path}/*",
                    "carrier_send": f"carrier:{call.peer}", "carrier_receive": "carrier:*",
                    "intent_send": f"intent:{call.action}"}.get(call.name, f"storage:{call.path}")
        cov = [g for g in grants if g.app == m.app and g.user == state.user and g.action == e.action
               and C.covers(g.resource, resource)]
        vals["grant_covers"] = bool(cov)
        vals["grant_live"] = any(not state.revoked.intersection(g.chain_ids) and state.now < g.expiry
                                 and (g.max_bytes is None or call.size <= g.max_bytes) for g in cov)
    else:
        vals["grant_covers"] = vals["grant_live"] = False
    vals["quota_ok"] = state.stored_bytes + call.size <= state.quota
    if call.name == H.DELEGATE and call.resource is not None and call.action is not None and call.expiry is not None:
        vals["request_ok"] = (C.check_resource(call.resource, call.action) and state.now < call.expiry <= C.U64
                              and (call.max_bytes is None or call.max_bytes >= 0))
        recipient = [r for r in state.installed if r.app == call.target and r.app != m.app]
        needed = H.permission_for(call.resource.partition(":")[0], call.action)
        vals["recipient_ok"] = bool(recipient) and needed in recipient[0].permissions
        child = C.Capability(app=call.target or "", user=state.user, resource=call.resource, action=call.action,
                             max_bytes=call.max_bytes, expiry=call.expiry, chain_ids=(),
                             delegatable=bool(call.delegatable))
        vals["parent_narrowed"] = any(
            g.app == m.app and g.user == state.user and g.action == call.action
            and not state.revoked.intersection(g.chain_ids) and state.now < g.expiry and C.narrows(child, g)
            and g.depth < C.MAX_DELEGATION_DEPTH for g in grants)
    else:
        vals["request_ok"] = vals["recipient_ok"] = vals["parent_narrowed"] = False
    consts = [getattr(f, k) == (z3.IntVal(v) if k == "name" else z3.BoolVal(bool(v))) for k, v in vals.items()]
    return f, consts


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(list(MANIFESTS)), st.lists(st.sampled_from(range(len(GRANTS))), max_size=4), calls(),
       st.integers(0, 2), st.integers(0, 200), st.booleans(), st.sampled_from([0, W.HOUR]),
       st.sampled_from([0, H.DEFAULT_QUOTA - 100]))
def test_decide_model_matches_spec(app, grant_ids, call, window_back, calls_in, revoke, later, stored) -> None:  # type: ignore[no-untyped-def]
    m = MANIFESTS[app]
    grants = [GRANTS[i] for i in grant_ids]
    state = H.SandboxState(
        user=W.did("user"), now=W.NOW + later, window_start=W.NOW + later - window_back, calls_in_window=calls_in,
        stored_bytes=stored, friends=frozenset([W.did("friend"), W.did("gone"), W.did("stale")]),
        revoked=frozenset([GRANTS[0].chain_ids[0], GRANTS[3].chain_ids[0]]) if revoke else frozenset(),
        installed=tuple(MANIFESTS.values()))
    decision = H.decide(m, grants, state, call, W.resolver())
    f, consts = _features(m, grants, state, call)
    s = z3.Solver()
    s.add(*consts)
    s.add(iso.allowed(f) != z3.BoolVal(isinstance(decision, H.Allow)))
    assert s.check() == z3.unsat, (call, decision)


def test_table_is_classified() -> None:
    """Every entry is classified (network or not, permission, capability kind) and the classification is
    the one the mediation proof assumes: only Carrier calls have a network effect; a call naming a
    capability kind also needs a permission."""
    for name, e in H.TABLE.items():
        assert isinstance(e.network, bool) and e.name == name
        assert e.network == name.startswith("carrier_")
        assert (e.kind is None) == (e.permission is None) == (e.action is None)
        assert e.kind is None or e.action in C.ACTIONS[e.kind]
    unknown = H.decide(MANIFESTS["notes"], [], H.SandboxState(user=W.did("user"), now=W.NOW),
                       H.HostCall(name="sock_open"), W.resolver())
    assert isinstance(unknown, H.Deny) and unknown.rule == "RT-082"


def test_decide_model_matches_spec_on_delegations() -> None:
    """The decide model against the spec on every ``cap_delegate`` vector (allowed and denied), which random
    calls rarely reach allowed."""
    from conformance.bindings_runtime import sandbox as B

    allowed = 0
    for case in W.delegate_cases():
        inp = case.input
        m = MANIFESTS["notes"]
        state = B._state(inp["state"])
        grants = [C.verify_chain([bytes.fromhex(t) for t in chain], m.app, state.user, inp["granted_at"], frozenset(),
                                 W.resolver()) for chain in inp["grants"]]
        call = B._call(inp["call"])
        decision = H.decide(m, grants, state, call, W.resolver())
        assert isinstance(decision, H.Allow) == (case.means == "ok"), case.name
        allowed += isinstance(decision, H.Allow)
        f, consts = _features(m, grants, state, call)
        s = z3.Solver()
        s.add(*consts)
        s.add(iso.allowed(f) != z3.BoolVal(isinstance(decision, H.Allow)))
        assert s.check() == z3.unsat, case.name
    assert allowed >= 5
