"""Hive data: the filter language against a naive model, database and file transitions, CIDv0, scripts, access."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject
from spec.hive import access, cid, scripts
from spec.hive import database as db
from spec.hive import files as fs
from spec.hive.auth import Caller

from tests.helpers import expect_reject

# -- the filter language against a naive model -------------------------------------------------------------------
#
# The model covers documents with top-level members a, b, c whose values are small integers, short strings,
# null, or arrays of small integers, and filters over those members. It is written from the operator table
# in spec/hive/database.py, independently of the evaluator: one function per operator over "the values a
# member offers" (the value itself, plus the elements if it is an array).

FIELDS = ("a", "b", "c")
scalar = st.one_of(st.integers(-3, 3), st.sampled_from(["x", "y", "z"]), st.none())
value = st.one_of(scalar, st.lists(st.integers(-3, 3), max_size=3))
documents = st.dictionaries(st.sampled_from(FIELDS), value, max_size=3)


def _offers(doc, field):
    if field not in doc:
        return None
    v = doc[field]
    return [v, *v] if isinstance(v, list) else [v]


def _same(x, y):
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    return type(x) is type(y) and x == y


def _model_eq(doc, field, v):
    offers = _offers(doc, field)
    if offers is None:
        return v is None
    return any(_same(o, v) for o in offers)


def _model_cmp(doc, field, op, v):
    for o in _offers(doc, field) or []:
        if isinstance(o, int) and isinstance(v, int) or isinstance(o, str) and isinstance(v, str):
            if {"$gt": o > v, "$gte": o >= v, "$lt": o < v, "$lte": o <= v}[op]:
                return True
    return False


def _model_op(doc, field, op, arg):
    if op == "$eq":
        return _model_eq(doc, field, arg)
    if op == "$ne":
        return not _model_eq(doc, field, arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return _model_cmp(doc, field, op, arg)
    if op == "$in":
        return any(_model_eq(doc, field, a) for a in arg)
    if op == "$nin":
        return not any(_model_eq(doc, field, a) for a in arg)
    if op == "$exists":
        return (field in doc) == arg
    return not all(_model_op(doc, field, k, a) for k, a in arg.items())  # $not


def model(doc, f):
    ok = True
    for k, v in f.items():
        if k == "$and":
            ok &= all(model(doc, s) for s in v)
        elif k == "$or":
            ok &= any(model(doc, s) for s in v)
        elif k == "$nor":
            ok &= not any(model(doc, s) for s in v)
        elif isinstance(v, dict):
            ok &= all(_model_op(doc, k, op, a) for op, a in v.items())
        else:
            ok &= _model_eq(doc, k, v)
    return ok


op_arg = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), scalar),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(scalar, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
)
operators = st.dictionaries(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"]),
                            st.none(), min_size=1, max_size=2).flatmap(
    lambda keys: st.tuples(*[op_arg.filter(lambda p, k=k: p[0] == k) for k in keys]).map(dict))
condition = st.one_of(scalar, operators, operators.map(lambda o: {"$not": o}))
leaf = st.dictionaries(st.sampled_from(FIELDS), condition, max_size=2)
filters = st.recursive(leaf, lambda inner: st.one_of(
    leaf, st.tuples(st.sampled_from(["$and", "$or", "$nor"]), st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: {t[0]: t[1]})), max_leaves=6)


@settings(max_examples=600, deadline=None)
@given(doc=documents, f=filters)
def test_filter_evaluator_agrees_with_the_naive_model(doc, f):
    assert db.matches(doc, f) == model(doc, f)


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(documents, max_size=6), f=filters)
def test_find_count_delete_agree_on_what_matches(docs, f):
    d = db.create_collection(db.Database(), "c")
    d = db.insert(d, "c", docs, [f"id{i}" for i in range(len(docs))])
    want = [i for i, doc in enumerate(docs) if model(doc, f)]
    assert [x["_id"] for x in db.find(d, "c", f)] == [f"id{i}" for i in want]
    assert db.count(d, "c", f) == len(want)
    after, deleted = db.delete(d, "c", f, many=True)
    assert deleted == len(want) and db.count(after, "c", {}) == len(docs) - len(want)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=4), st.booleans()),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8))
def test_any_json_filter_is_evaluated_or_rejected_with_its_reason(f):
    try:
        db.matches({"a": 1}, f)
    except Reject as e:
        assert (e.reason, e.rule) == (Reason.HIVE_FILTER_MALFORMED, "HDB-001")


def test_filter_edge_semantics():
    doc = {"a": [1, 2], "o": {"x": 1, "y": 2}, "n": None}
    assert db.matches(doc, {"a": 2}) and db.matches(doc, {"a": [1, 2]}) and not db.matches(doc, {"a": [2, 1]})
    assert db.matches(doc, {"o": {"y": 2, "x": 1}})
    assert db.matches(doc, {"missing": None}) and db.matches(doc, {"n": None})
    assert not db.matches(doc, {"n": {"$exists": False}})
    assert db.matches({"t": True}, {"t": True}) and not db.matches({"t": True}, {"t": 1})
    assert db.matches({"v": 1}, {"v": 1.0})
    expect_reject(db.matches, doc, {"a": {"$regex": "x"}}, reason=Reason.HIVE_FILTER_MALFORMED, rule="HDB-001")


def test_update_operators_and_upsert():
    d = db.insert(db.create_collection(db.Database(), "c"), "c", [{"n": 1, "s": {"k": 1}}], ["i1"])
    d, matched, modified, up = db.update(d, "c", {"n": 1}, {"$inc": {"n": 2}, "$set": {"s.j": 3}, "$unset": {"s.k": 1}},
                                         many=False)
    assert (matched, modified, up) == (1, 1, None)
    assert db.find(d, "c", {})[0] == {"_id": "i1", "n": 3, "s": {"j": 3}}
    d, matched, modified, up = db.update(d, "c", {"n": 9, "z": {"$gt": 1}}, {"$set": {"q": 1}}, many=False,
                                         upsert=True, upsert_id="i2")
    assert (matched, up) == (0, "i2") and db.find(d, "c", {"_id": "i2"}) == [{"_id": "i2", "n": 9, "q": 1}]
    d, _, _, up = db.update(d, "c", {"_id": "named"}, {"$set": {"q": 2}}, many=False, upsert=True, upsert_id="i3")
    assert up == "named" and db.find(d, "c", {"_id": "named"}) == [{"_id": "named", "q": 2}]
    expect_reject(db.apply_update, {"a": "s"}, {"$inc": {"a": 1}}, reason=Reason.HIVE_FILTER_MALFORMED,
                  rule="HDB-002")
    expect_reject(db.apply_update, {"a": 1}, {"$set": {"a.b": 1}}, reason=Reason.HIVE_FILTER_MALFORMED,
                  rule="HDB-002")


# Values a vault stores (HDB-008): JSON values with numbers at and past the bounds, lone surrogates and deep nesting.
_STORABLE_EDGES = st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30, 1.7976931348623157e308,
                                   float("inf"), float("-inf"), float("nan"), -0.0, 5e-324])
_ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=3) | st.just("a\x00") | st.builds(
    lambda a, s: a + s, st.text(max_size=2), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _STORABLE_EDGES | _ANY_TEXT,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ANY_TEXT, inner, max_size=3),
                       max_leaves=10)
_deep = st.integers(95, 105).map(lambda n: _nest(n))


def _nest(levels: int) -> dict:
    v: dict = {}
    for _ in range(levels - 1):
        v = {"k": v}
    return v


def _storable_by_other_means(doc: dict) -> bool:
    """The oracle: the standard library's strict JSON (no NaN or Infinity), its UTF-8 (a lone surrogate has
    none), orjson's integers (it refuses any below -2**63, and above 2**64 - 1: the signed bound above is
    checked apart), and by recursion a nesting count and a search for U+0000."""
    import json

    import orjson

    def levels(v) -> int:
        inner = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else None
        return 0 if inner is None else 1 + max(map(levels, inner), default=0)

    try:
        json.dumps(doc, allow_nan=False, ensure_ascii=False).encode("utf-8")
        orjson.dumps(doc)
    except (ValueError, TypeError, UnicodeEncodeError, orjson.JSONEncodeError):
        return False
    def texts(v):
        if isinstance(v, dict):
            yield from v
            v = list(v.values())
        if isinstance(v, list):
            for x in v:
                yield from texts(x)
        elif isinstance(v, str):
            yield v

    return levels(doc) <= 100 and all(x <= 2**63 - 1 for x in _ints(doc)) and not any("\x00" in t for t in texts(doc))


def _ints(v):
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, list):
        for x in v:
            yield from _ints(x)
    elif isinstance(v, int) and not isinstance(v, bool):
        yield v


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4).filter(lambda k: "." not in k and not k.startswith("$") and k != "_id"),
                       _values | _deep, max_size=3))
def test_a_document_is_stored_exactly_when_it_is_within_the_bounds(doc):
    empty = db.create_collection(db.Database(), "c")
    want = _storable_by_other_means(doc)
    try:
        after = db.insert(empty, "c", [doc], ["i"])
    except Reject as e:
        assert (e.reason, e.rule) == (Reason.HIVE_FILTER_MALFORMED, "HDB-008") and not want, (e, doc)
        return
    assert want, doc
    assert db.find(after, "c", {}) == [{"_id": "i", **doc}]


@settings(max_examples=300, deadline=None)
@given(start=st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False),
       step=st.integers(-(2**64), 2**64) | st.floats(allow_nan=False, allow_infinity=False) | _STORABLE_EDGES)
def test_inc_refuses_a_result_out_of_range_and_changes_nothing(start, step):
    import math

    d = db.insert(db.create_collection(db.Database(), "c"), "c", [{"n": start}], ["i"])
    try:
        after, matched, modified, _ = db.update(d, "c", {}, {"$inc": {"n": step}}, many=False)
    except Reject as e:
        assert e.reason == Reason.HIVE_FILTER_MALFORMED and e.rule == "HDB-008", e
        total = start + step
        assert (isinstance(total, float) and not math.isfinite(total)) or (
            isinstance(total, int) and not -(2**63) <= total < 2**63) or (
            isinstance(step, int) and not -(2**63) <= step < 2**63) or (isinstance(step, float) and not
                                                                         math.isfinite(step)), (start, step)
        return
    assert db.find(after, "c", {}) == [{"_id": "i", "n": start + step}]


def test_sort_order_across_types():
    docs = [{"v": True}, {"v": "s"}, {"v": [1]}, {"v": {"a": 1}}, {"v": 2}, {}, {"v": None}, {"v": 1.5}]
    d = db.insert(db.create_collection(db.Database(), "c"), "c", docs, [str(i) for i in range(len(docs))])
    got = [x.get("v", "missing") for x in db.find(d, "c", {}, {"sort": [["v", 1]]})]
    assert got == ["missing", None, 1.5, 2, "s", {"a": 1}, [1], True]


# -- files --------------------------------------------------------------------------------------------------------


def test_file_transitions():
    f = fs.put(fs.Files(), "a/b.txt", b"hello world\n", public=True, now=1, quota=100)
    e = fs.get(f, "a/b.txt")
    assert e.cid == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    assert e.sha256 == hashlib.sha256(b"hello world\n").hexdigest()
    f = fs.put(f, "a/b.txt", b"v2", public=False, now=5, quota=100)
    assert fs.get(f, "a/b.txt").created == 1 and fs.get(f, "a/b.txt").modified == 5 and fs.get(f, "a/b.txt").cid is None
    f = fs.copy(f, "a/b.txt", "c", now=6, quota=100)
    f = fs.move(f, "a/b.txt", "d/e", now=7)
    assert [c.name for c in fs.listing(f, "")] == ["c", "d"]
    expect_reject(fs.listing, f, "a", reason=Reason.HIVE_FILE_NOT_FOUND, rule="HFS-002")
    with pytest.raises(Reject) as info:
        fs.copy(f, "c", "d/e", now=8, quota=100)
    assert info.value.rule == "HFS-003"
    with pytest.raises(Reject) as info:
        fs.put(f, "big", bytes(97), public=False, now=9, quota=100)
    assert info.value.rule == "HFS-004"
    assert fs.used_bytes(fs.delete(f, "c")) == 2


segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(segment, min_size=1, max_size=4).map("/".join))
def test_a_valid_path_never_escapes_or_aliases(path):
    try:
        fs.check_path(path)
    except Reject as e:
        assert (e.reason, e.rule) == (Reason.HIVE_PATH_INVALID, "HFS-001")
        return
    segs = path.split("/")
    assert ".." not in segs and "." not in segs and "" not in segs and not path.startswith("/")
    assert "\\" not in path and all(ord(c) >= 0x20 and ord(c) != 0x7F for c in path)


# -- CIDv0 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data,want", [
    (b"", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
    (b"hello world\n", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"),
    (bytes(262145), "QmbVuw4C4vcmVKqxoWtgDVobvcHrSn51qsmQmyxjk4sB2Q"),
    (bytes(1310710), "QmNg7BJo8gEMDK8yGQbHEwPtycesnE6FUULX5iVd5TAL9f"),
])
def test_cid_v0_published_values(data, want):
    """Published by ethereum/solidity test/libsolutil/IpfsHash.cpp and (hello world) widely."""
    assert cid.cid_v0(data) == want


def test_leaf_bytes_layout():
    # dag-pb PBNode{Data: UnixFS{Type=File, Data="x", filesize=1}}
    assert cid.leaf_node(b"x") == bytes.fromhex("0a0708021201781801")
    assert cid.leaf_node(b"") == bytes.fromhex("0a0408021800")


# -- access and scripts -------------------------------------------------------------------------------------------

ALICE = Caller(user_did="did:elastos:alice", app_did="did:elastos:chat", instance_did="did:elastos:a1")
BOB = Caller(user_did="did:elastos:bob", app_did="did:elastos:chat", instance_did="did:elastos:b1")


def test_database_name_upstream_fact():
    assert access.database_name("did:elastos:iWFAUYhTa35c1fPe3iCJvihZHx6quumnym", "appId") == \
        "hive_user_db_b3a0321407410b176f570508741eeef7"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([ALICE, BOB, None]), st.sampled_from(["did:elastos:alice", "did:elastos:bob"]),
       st.sampled_from(["did:elastos:chat", "did:elastos:mail"]))
def test_direct_access_reaches_only_the_callers_partition(caller, user, app):
    target = access.Partition(user_did=user, app_did=app)
    try:
        assert access.check_direct(caller, target) == target
        assert caller is not None and (caller.user_did, caller.app_did) == (user, app)
    except Reject as e:
        assert e.rule == "HACL-001"
        assert caller is None or (caller.user_did, caller.app_did) != (user, app)


def _owner_data():
    data = scripts.PartitionData(database=db.insert(db.create_collection(db.Database(), "friends"), "friends",
                                                    [{"did": "did:elastos:bob"}], ["f1"]))
    data = data.model_copy(update={"database": db.create_collection(data.database, "wall")})
    script = scripts.parse_script("post", {
        "condition": {"name": "friend", "type": "queryHasResult",
                      "body": {"collection": "friends", "filter": {"did": "$caller_did"}}},
        "executable": {"name": "post", "type": "insert",
                       "body": {"collection": "wall", "document": {"by": "$caller_did", "text": "$params.text"}}}})
    return scripts.register(data, script)


def test_script_lets_a_friend_write_and_nobody_else():
    data = _owner_data()
    new, out = scripts.run(data, "post", BOB, {"text": "hi"}, id_prefix="x", now=1)
    assert out == {"post": {"inserted_id": "x0"}}
    assert db.find(new.database, "wall", {}) == [{"_id": "x0", "by": "did:elastos:bob", "text": "hi"}]
    with pytest.raises(Reject) as info:
        scripts.run(data, "post", ALICE.model_copy(update={"user_did": "did:elastos:eve"}), {"text": "x"},
                    id_prefix="x", now=1)
    assert info.value.rule == "HSCR-003"
    with pytest.raises(Reject) as info:
        scripts.run(data, "post", None, {"text": "x"}, id_prefix="x", now=1)
    assert info.value.rule == "HACL-002"


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=6), st.none()), max_size=3),
       st.sampled_from([ALICE, BOB, None]))
def test_substitution_replaces_only_whole_values(params, caller):
    template = {"k": ["$caller_did", "$caller_app_did", "not $caller_did", {"$caller_did": 1}]}
    out = scripts.substitute(template, caller, params)
    assert out["k"][0] == (caller.user_did if caller else None)
    assert out["k"][1] == (caller.app_did if caller else None)
    assert out["k"][2] == "not $caller_did" and out["k"][3] == {"$caller_did": 1}
    for name, v in params.items():
        assert scripts.substitute({"x": f"$params.{name}"}, caller, params) == {"x": v}
