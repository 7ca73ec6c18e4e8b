"""Isolation invariants of the Runtime sandbox (:mod:`spec.runtime`).

=================================  ==========================================================================
proof                              statement
=================================  ==========================================================================
``runtime_path_confinement``       every path the path rules accept resolves inside its app's home, with no
                                   ``.``/``..``/empty name
``runtime_homes_disjoint``         homes never nest, and a location belongs to one (user, app) home only
``runtime_path_dotdot_name``       witness: a name with ``..`` inside it (``a..b``) is accepted and confined
``runtime_no_amplification``       through any chain of delegations, what the last token covers the root
                                   token covers, with the same action, no later expiry and no larger bound
``runtime_decide_mediation``       every host call is classified; an allowed call needing a capability has
                                   the manifest's permission and a covering grant; an allowed call with a
                                   network effect is a Carrier call and, when it names a peer, the peer's
                                   DID is canonical, resolves, is active, valid and a friend
``runtime_bounded_cost``           every allowed host call costs at most its entry's ``max_cost``, and at
                                   most ``MAX_CALL_COST`` (spec-terms: ``call_cost`` on Z3 integers)
=================================  ==========================================================================

How each is tied to the spec: the path, resource-cover and decision proofs are about **models**
(Z3 string and Boolean terms below) and the correspondence tests in
``tests/test_proofs_isolation.py`` check with Hypothesis that the models agree with
:func:`spec.runtime.paths.check_path`, :func:`spec.runtime.capability.covers` /
:func:`~spec.runtime.capability.narrows` and :func:`spec.runtime.hostcalls.decide`. The path model
**over-approximates** acceptance (it keeps only the rules about separators, dots and DIDs), so a
property of every model-accepted path holds for every spec-accepted one; the test checks exactly
that direction on arbitrary strings. The cost proof evaluates the spec's own
:func:`spec.runtime.hostcalls.call_cost` on Z3 terms.
"""

from __future__ import annotations

from typing import Any

import z3

from proofs.framework import ModelValues, Query, proof
from spec.runtime import hostcalls as H

_TESTS = "tests/test_proofs_isolation.py::"
DID_PREFIX = "did:elastos:"
KINDS = ("storage", "carrier", "intent")
MAX_CALL_COST = max(H.max_cost(e) for e in H.TABLE.values())
"""The most any one allowed host call costs."""

S = z3.StringVal


def _no_replay(values: ModelValues) -> dict[str, Any]:
    return {"values": values}


def _no_vector(values: ModelValues) -> dict[str, Any]:
    raise ValueError("this proof has no vector form; its model is tested against the spec by correspondence")




# == paths =====================================================================================================

ALL = z3.AllChar(z3.ReSort(z3.StringSort()))
"""Any one character."""


def _but(*chars: str) -> z3.ReRef:
    """One character other than ``chars``."""
    return z3.Intersect(ALL, z3.Complement(z3.Union(*[z3.Re(c) for c in chars]) if len(chars) > 1 else z3.Re(chars[0])))


NAME_RE = z3.Intersect(z3.Plus(_but("/", ":", "\\", "\x00")), z3.Complement(z3.Union(z3.Re("."), z3.Re(".."))))
"""Model of one name :func:`spec.runtime.paths.check_path` accepts: RT-040 (not empty), RT-042 (no ``\\``,
``:`` or NUL; ``/`` separates names), RT-046 (not empty), RT-047 (not ``.`` or ``..``)."""
PATH_RE = z3.Concat(NAME_RE, z3.Star(z3.Concat(z3.Re("/"), NAME_RE)))
"""Model of an accepted path (RT-041: it starts with a name, so not with ``/``). It accepts a superset of
what the spec accepts (the other rules only remove paths)."""
DID_RE = z3.Concat(z3.Re(DID_PREFIX), z3.Plus(_but("/")))
"""Model of a canonical DID string (:func:`spec.runtime.identity.canonical_did`): no ``/``."""
HOME_RE = z3.Concat(z3.Re("home/"), DID_RE, z3.Re("/"), DID_RE, z3.Re("/"))
"""Every :func:`spec.runtime.paths.home`."""
LOCATION_RE = z3.Concat(HOME_RE, PATH_RE)
"""Every :func:`spec.runtime.paths.resolve_path` result."""
ESCAPES = (z3.Concat(z3.Star(ALL), z3.Re("/../"), z3.Star(ALL)), z3.Concat(z3.Star(ALL), z3.Re("/..")),
           z3.Concat(z3.Star(ALL), z3.Re("/./"), z3.Star(ALL)), z3.Concat(z3.Star(ALL), z3.Re("/.")),
           z3.Concat(z3.Star(ALL), z3.Re("//"), z3.Star(ALL)))
"""A ``..``, ``.`` or empty name anywhere: what lexical normalisation would change."""
STRINGS = z3.SeqSort(z3.StringSort())


def components(user: z3.SeqRef, app: z3.SeqRef, names: z3.SeqRef) -> z3.SeqRef:
    """A location as its sequence of names: ``home``, the user DID, the app DID, then the path's names."""
    return z3.Concat(z3.Unit(S("home")), z3.Unit(user), z3.Unit(app), names)


def _replay_path(values: ModelValues) -> dict[str, Any]:
    from spec.errors import Reject
    from spec.runtime import paths
    try:
        return {"path": values["p"], "spec": paths.resolve_path(DID_PREFIX + "iUser", DID_PREFIX + "iApp", values["p"])}
    except Reject as e:
        return {"path": values["p"], "spec_rejects": e.reason.value}


def _path_case(values: ModelValues) -> dict[str, Any]:
    from proofs.framework import vector_case
    return vector_case("runtime/runtime.path.resolve", "proof_witness_dotdot_name",
                       {"user": DID_PREFIX + "iUser", "app": DID_PREFIX + "iApp", "path": values["p"], "dir": False},
                       ("RT-047",), "witness of runtime_path_dotdot_name, replayed through the spec")


def _replay_location(values: ModelValues) -> dict[str, Any]:
    return {"location": values["x"], "user": values["u"], "app": values["a"]}


@proof(
    name="runtime_path_confinement",
    statement="Every accepted storage path resolves inside its home, with no '.', '..' or empty name",
    rules=("RT-040", "RT-041", "RT-042", "RT-046", "RT-047"),
    about=("spec.runtime.paths.check_path", "spec.runtime.paths.resolve_path", "spec.runtime.paths.home"),
    correspondence=(_TESTS + "test_path_model_over_approximates_spec", _TESTS + "test_did_model_covers_canonical_dids",
                    _TESTS + "test_location_model_matches_spec"),
    replay=_replay_location, to_case=_no_vector, timeout_s=60,
)
def runtime_path_confinement() -> Query:
    """No string ``x`` of :data:`LOCATION_RE` (``home/`` DID ``/`` DID ``/`` accepted path, which is what
    :func:`spec.runtime.paths.resolve_path` returns) has a ``..``, ``.`` or empty name (a match of any of
    :data:`ESCAPES`): lexical normalisation leaves every location unchanged, so a location starting with
    its home (by construction) stays inside it, whatever the path string was."""
    x = z3.String("x")
    claim = z3.Implies(z3.InRe(x, LOCATION_RE), z3.Not(z3.InRe(x, z3.Union(*ESCAPES))))
    return Query(claim=claim, inputs={"x": x})


@proof(
    name="runtime_homes_disjoint",
    statement="Homes never nest, and distinct (user, app) pairs have distinct homes: a location belongs to one "
    "home only",
    rules=("RT-042", "DID-002"),
    about=("spec.runtime.paths.home", "spec.runtime.paths.resolve_path", "spec.runtime.identity.canonical_did"),
    correspondence=(_TESTS + "test_did_model_covers_canonical_dids", _TESTS + "test_location_model_matches_spec"),
    replay=_replay_location, to_case=_no_vector, timeout_s=60,
)
def runtime_homes_disjoint() -> Query:
    """(1) No string is both a home (:data:`HOME_RE`) and a home followed by one or more characters: no
    home lies inside another. (2) In the component view (:func:`components`; the correspondence test
    checks that a location split at ``/`` gives exactly these names, since a DID and a name hold no
    ``/``), if ``(u, a) != (u2, a2)`` then ``home, u2, a2`` is not a prefix of ``home, u, a,
    names...``."""
    x, u, a, u2, a2 = (z3.String(n) for n in ("x", "u", "a", "u2", "a2"))
    names = z3.Const("names", STRINGS)
    no_nesting = z3.Not(z3.And(z3.InRe(x, HOME_RE), z3.InRe(x, z3.Concat(HOME_RE, z3.Plus(ALL)))))
    one_home = z3.Implies(z3.Or(u != u2, a != a2),
                          z3.Not(z3.PrefixOf(z3.Concat(z3.Unit(S("home")), z3.Unit(u2), z3.Unit(a2)),
                                             components(u, a, names))))
    return Query(claim=z3.And(no_nesting, one_home), inputs={"x": x, "u": u, "a": a, "u2": u2, "a2": a2})


@proof(
    name="runtime_path_dotdot_name",
    statement="Witness: a path with '..' inside a name is accepted and confined (the rule is about names, "
    "not substrings)",
    rules=("RT-047",),
    about=("spec.runtime.paths.check_path",),
    correspondence=(_TESTS + "test_path_model_over_approximates_spec", _TESTS + "test_witnesses_replay"),
    replay=_replay_path, to_case=_path_case, timeout_s=60,
)
def runtime_path_dotdot_name() -> Query:
    """There is a path ``p`` of 4 characters, letters ``..`` letters, in
    :data:`PATH_RE`; the replay runs it through :func:`spec.runtime.paths.resolve_path`, which accepts it."""
    p = z3.String("p")
    shape = z3.InRe(p, z3.Concat(z3.Plus(z3.Range("a", "z")), z3.Re(".."), z3.Plus(z3.Range("a", "z"))))
    claim = z3.And(z3.InRe(p, PATH_RE), shape, z3.Length(p) == 4)
    return Query(claim=claim, inputs={"p": p}, kind="exists")


# == capabilities ==============================================================================================


class ResourceTerms:
    """A resource in the component view: kind (index into ``KINDS``), ``kind:*`` or not, its names
    (a storage path's names, a peer DID, an intent action) and whether it ends in ``/*``."""

    def __init__(self, label: str) -> None:
        self.kind = z3.Int(f"kind_{label}")
        self.all = z3.Bool(f"all_{label}")
        self.names = z3.Const(f"names_{label}", STRINGS)
        self.wild = z3.Bool(f"wild_{label}")

    @staticmethod
    def of(resource: str) -> ResourceTerms:
        """The constant terms of a well-formed resource string (for the correspondence tests)."""
        kind, _, rest = resource.partition(":")
        t = ResourceTerms.__new__(ResourceTerms)
        t.kind = z3.IntVal(KINDS.index(kind))
        t.all = z3.BoolVal(rest == "*")
        t.wild = z3.BoolVal(kind == "storage" and rest.endswith("/*"))
        body = rest[:-2] if kind == "storage" and rest.endswith("/*") else rest
        parts = [] if rest == "*" else (body.split("/") if kind == "storage" else [body])
        t.names = z3.Concat(*[z3.Unit(S(n)) for n in parts]) if len(parts) > 1 else (
            z3.Unit(S(parts[0])) if parts else z3.Empty(STRINGS))
        return t


def covers(p: ResourceTerms, r: ResourceTerms) -> z3.BoolRef:
    """Model of :func:`spec.runtime.capability.covers` in the component view."""
    return z3.And(p.kind == r.kind, z3.Or(p.all, z3.And(z3.Not(r.all), z3.Or(
        z3.And(z3.Not(p.wild), z3.Not(r.wild), p.names == r.names),
        z3.And(p.wild, z3.PrefixOf(p.names, r.names), z3.Or(z3.Length(r.names) > z3.Length(p.names), r.wild))))))


class TokenTerms:
    """The fields of a token that delegation constrains."""

    def __init__(self, i: int) -> None:
        self.resource = ResourceTerms(str(i))
        self.action = z3.Int(f"action{i}")
        self.user = z3.Int(f"user{i}")
        self.expiry = z3.Int(f"expiry{i}")
        self.bounded = z3.Bool(f"bounded{i}")
        self.max_bytes = z3.Int(f"max_bytes{i}")
        self.delegatable = z3.Bool(f"delegatable{i}")


def narrows(child: TokenTerms, parent: TokenTerms) -> z3.BoolRef:
    """Model of :func:`spec.runtime.capability.narrows`."""
    bound_ok = z3.Or(z3.Not(parent.bounded), z3.And(child.bounded, child.max_bytes <= parent.max_bytes))
    return z3.And(parent.delegatable, child.user == parent.user, child.action == parent.action,
                  covers(parent.resource, child.resource), child.expiry <= parent.expiry, bound_ok)


@proof(
    name="runtime_no_amplification",
    statement="Through up to MAX_DELEGATION_DEPTH delegations, every resource the last token covers the root "
    "covers, with the same user and action, no later expiry and no larger size bound",
    rules=("RT-026", "RT-027", "RT-029"),
    about=("spec.runtime.capability.covers", "spec.runtime.capability.narrows", "spec.runtime.capability.verify_chain"),
    correspondence=(_TESTS + "test_covers_model_matches_spec", _TESTS + "test_narrows_model_matches_spec",
                    _TESTS + "test_chain_never_amplifies"),
    replay=_no_replay, to_case=_no_vector, timeout_s=60,
)
def runtime_no_amplification() -> Query:
    """For tokens ``t0`` (root) .. ``t2`` with ``narrows(t1, t0)`` and ``narrows(t2, t1)``
    (:data:`spec.runtime.capability.MAX_DELEGATION_DEPTH` = 2) and any resource ``r`` with
    ``covers(t_last, r)`` (``last`` = 1 or 2): ``covers(t0, r)``, ``t_last`` has ``t0``'s user and action,
    an expiry no later, and if ``t0`` is bounded then ``t_last`` is, by no more. A capability
    :func:`spec.runtime.hostcalls.decide` accepts (RT-029: some grant covers the call) is therefore
    covered by a root token the user signed. Intents carry data, never grants, so they add none."""
    t = [TokenTerms(i) for i in range(3)]
    r = ResourceTerms("call")
    claims = []
    for last in (1, 2):
        chain_ok = z3.And(*[narrows(t[i], t[i - 1]) for i in range(1, last + 1)])
        bound = z3.Implies(t[0].bounded, z3.And(t[last].bounded, t[last].max_bytes <= t[0].max_bytes))
        claims.append(z3.Implies(z3.And(chain_ok, covers(t[last].resource, r)),
                                 z3.And(covers(t[0].resource, r), t[last].user == t[0].user,
                                        t[last].action == t[0].action, t[last].expiry <= t[0].expiry, bound)))
    inputs: dict[str, Any] = {}
    for i, x in enumerate(t):
        inputs.update({f"action{i}": x.action, f"expiry{i}": x.expiry, f"kind{i}": x.resource.kind})
    return Query(claim=z3.And(*claims), inputs=inputs)


# == decide ====================================================================================================


NAMES = tuple(H.TABLE)
"""Host calls by index; any index outside ``range(len(NAMES))`` stands for a name not in the table."""


class CallFeatures:
    """What :func:`spec.runtime.hostcalls.decide` tests, as Z3 terms (see :func:`allowed`)."""

    FIELDS = ("args_ok", "size_ok", "rate_ok", "perm_requested", "path_ok", "peer_canonical", "peer_resolves",
              "peer_active", "peer_valid", "peer_friend", "intent_ok", "grant_covers", "grant_live", "quota_ok",
              "request_ok", "recipient_ok", "parent_narrowed")
    """``request_ok``, ``recipient_ok``: ``cap_delegate``'s RT-095 and RT-096; ``parent_narrowed``: some grant
    the app holds is live (not revoked, not expired), is one the request narrows
    (:func:`spec.runtime.capability.narrows`) and is shallower than the depth bound."""

    def __init__(self) -> None:
        self.name = z3.Int("name")
        for f in self.FIELDS:
            setattr(self, f, z3.Bool(f))

    def terms(self) -> dict[str, Any]:
        return {"name": self.name, **{f: getattr(self, f) for f in self.FIELDS}}


def _is(name: z3.ArithRef, *calls: str) -> z3.BoolRef:
    return z3.Or(*[name == NAMES.index(c) for c in calls])


def allowed(f: Any) -> z3.BoolRef:
    """Model of :func:`spec.runtime.hostcalls.decide`: Allow iff the call is in the table and every check
    its entry needs passes (RT-082..RT-084, RT-090, RT-091, the call's own rules, RT-024/025/029/030,
    RT-092). ``f`` holds the features as Z3 terms (or constants, in the correspondence test)."""
    in_table = z3.And(f.name >= 0, f.name < len(NAMES))
    needs_perm = _is(f.name, *[n for n in NAMES if H.TABLE[n].permission is not None])
    needs_grant = _is(f.name, *[n for n in NAMES if H.TABLE[n].kind is not None])
    storage = _is(f.name, *[n for n in NAMES if H.TABLE[n].kind == "storage"])
    peer_ok = z3.And(f.peer_canonical, f.peer_resolves, f.peer_active, f.peer_valid, f.peer_friend)
    own = z3.And(z3.Implies(storage, f.path_ok), z3.Implies(_is(f.name, "carrier_send"), peer_ok),
                 z3.Implies(_is(f.name, "intent_send"), f.intent_ok))
    delegation = z3.And(f.request_ok, f.recipient_ok, f.parent_narrowed)
    return z3.And(in_table, f.args_ok, f.size_ok, f.rate_ok, z3.Implies(needs_perm, f.perm_requested), own,
                  z3.Implies(needs_grant, z3.And(f.grant_covers, f.grant_live)),
                  z3.Implies(_is(f.name, "storage_write"), f.quota_ok),
                  z3.Implies(_is(f.name, H.DELEGATE), delegation))


@proof(
    name="runtime_decide_mediation",
    statement="Every host call is classified; an allowed call that needs a capability has the manifest's "
    "permission and a live covering grant; an allowed network call is a Carrier call and, naming a peer, "
    "the peer's DID is canonical, resolves, is active, valid and a friend; an allowed delegation extends a live "
    "grant it only narrows, within the depth bound, to a recipient whose manifest requests the permission",
    rules=("RT-070", "RT-071", "RT-072", "RT-073", "RT-074", "RT-082", "RT-084", "RT-029", "RT-026", "RT-027",
           "RT-096"),
    about=("spec.runtime.hostcalls.decide", "spec.runtime.hostcalls.check_imports", "spec.runtime.hostcalls.check_peer"),
    correspondence=(_TESTS + "test_decide_model_matches_spec", _TESTS + "test_table_is_classified",
                    _TESTS + "test_decide_model_matches_spec_on_delegations"),
    replay=_no_replay, to_case=_no_vector, timeout_s=60,
)
def runtime_decide_mediation() -> Query:
    """For every call index and every combination of check outcomes: if :func:`allowed` then the name is
    one of the table's (which classifies each as network or not, with or without a permission and a
    capability kind); if the entry names a permission, the manifest requests it; if it names a capability
    kind, a grant covers the call and is live (not revoked, not expired); if the entry has a network
    effect, the call is ``carrier_send`` or ``carrier_receive``, and a ``carrier_send`` passed all five
    peer checks (RT-070..RT-074); an allowed ``cap_delegate`` names a recipient that may hold the
    capability and extends a live grant that it only narrows, within the depth bound (with
    ``runtime_no_amplification``, what the recipient then holds is covered by a root grant of the user). ``carrier_receive`` names no peer: its messages were admitted by
    :func:`spec.runtime.hostcalls.admit_inbound`, which runs the same checks on the sender."""
    f = CallFeatures()
    ok = allowed(f)
    claims = [z3.Implies(ok, z3.And(f.name >= 0, f.name < len(NAMES)))]
    for i, n in enumerate(NAMES):
        e = H.TABLE[n]
        need = []
        if e.permission is not None:
            need.append(f.perm_requested)
        if e.kind is not None:
            need += [f.grant_covers, f.grant_live]
        if e.network:
            assert n in ("carrier_send", "carrier_receive"), n
        if n == "carrier_send":
            need += [f.peer_canonical, f.peer_resolves, f.peer_active, f.peer_valid, f.peer_friend]
        if n == H.DELEGATE:
            need += [f.recipient_ok, f.parent_narrowed]
        if need:
            claims.append(z3.Implies(z3.And(ok, f.name == i), z3.And(*need)))
    network = [i for i, n in enumerate(NAMES) if H.TABLE[n].network]
    claims.append(z3.Implies(z3.And(ok, z3.Or(*[f.name == i for i in network])), _is(f.name, "carrier_send",
                                                                                      "carrier_receive")))
    return Query(claim=z3.And(*claims), inputs=f.terms())


# == cost ======================================================================================================


def _replay_cost(values: ModelValues) -> dict[str, Any]:
    e = H.TABLE[NAMES[values["entry"]]] if 0 <= values["entry"] < len(NAMES) else None
    if e is None:
        return {"entry": values["entry"]}
    return {"entry": e.name, "cost": H.call_cost(e, values["size"], values["strings"]), "max_cost": H.max_cost(e)}


@proof(
    name="runtime_bounded_cost",
    statement="Every allowed host call costs at most its entry's max_cost and at most MAX_CALL_COST",
    rules=("RT-090", "RT-093"),
    about=("spec.runtime.hostcalls.call_cost", "spec.runtime.hostcalls.max_cost"),
    method="spec-terms", replay=_replay_cost, to_case=_no_vector, timeout_s=30,
)
def runtime_bounded_cost() -> Query:
    """:func:`spec.runtime.hostcalls.call_cost` evaluated on Z3 integers ``size`` and ``strings``, for each
    entry ``e`` of the table: under RT-090's bounds (``0 <= size <= e.max_size``, each of the entry's
    string arguments at most ``MAX_STRING_ARG`` bytes, so ``0 <= strings <= MAX_STRING_ARG * len(e.args)``)
    the cost is at most ``max_cost(e)`` and at most ``MAX_CALL_COST``, and at least 1 (every call is
    charged). With RT-091 an app's host calls in one window cost at most ``calls_per_window *
    MAX_CALL_COST``."""
    entry, size, strings = z3.Int("entry"), z3.Int("size"), z3.Int("strings")
    claims = []
    for i, n in enumerate(NAMES):
        e = H.TABLE[n]
        cost = H.call_cost(e, size, strings)
        within = z3.And(0 <= size, size <= e.max_size, 0 <= strings, strings <= H.MAX_STRING_ARG * len(e.args))
        claims.append(z3.Implies(z3.And(entry == i, within),
                                 z3.And(cost <= H.max_cost(e), cost <= MAX_CALL_COST, cost >= 1)))
    return Query(claim=z3.And(*claims), inputs={"entry": entry, "size": size, "strings": strings})
