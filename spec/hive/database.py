"""The vault database: collections of JSON documents and the specified subset of Mongo's filter language.

A partition's database is a map from collection name to a list of documents in insertion order.
A document is a JSON object with a string ``_id`` (given by the caller: the vault draws it, the spec
takes it as a parameter). Upstream stores collections in MongoDB; the spec fixes the subset of the
query language a vault must implement and its exact meaning, so that any store gives the same answers.

Values
------

JSON values: ``null``, booleans, numbers (integers and floats; ``1`` equals ``1.0``; booleans are not
numbers), strings, arrays and objects. Two objects are equal when they have the same members with
equal values (member order does not matter: Deviation, MongoDB compares embedded documents in order).

Paths
-----

A filter key that is not an operator is a **path**: member names joined by ``.``. Resolving a path
through an array resolves it in every element (``{"tags.name": "x"}`` looks at every ``tags[i].name``);
a numeric segment indexes an array. The result is the list of values found (empty: *missing*).

Filters (``HDB-001``)
---------------------

===================================  =================================================================
form                                 matches a document when
===================================  =================================================================
``{p: v}`` (``v`` not an operator    ``{p: {"$eq": v}}``
object)
``{p: {"$eq": v}}``                  some value at ``p`` equals ``v``, or is an array with an element
                                     equal to ``v``; ``v = null`` also matches a missing ``p``
``{p: {"$ne": v}}``                  not ``$eq``
``{p: {"$gt"|"$gte"|"$lt"|"$lte":    some value at ``p`` (or an element of an array there) compares so
v}}``                                with ``v``, both numbers or both strings (code-point order)
``{p: {"$in": [v…]}}``               ``$eq`` holds for some ``v``
``{p: {"$nin": [v…]}}``              not ``$in``
``{p: {"$exists": b}}``              ``p`` resolves to at least one value, iff ``b``
``{p: {"$not": {op…}}}``             the operator object does not match
``{"$and"|"$or"|"$nor": [f…]}``      all / some / none of the filters (a non-empty array)
===================================  =================================================================

Several members in one filter or operator object all have to hold. Anything else (an unknown
``$`` key, ``$in`` of a non-array, an empty ``$and``, a non-object filter, a filter nested more than
``MAX_DEPTH`` levels) is ``HIVE_FILTER_MALFORMED``.

Updates (``HDB-002``)
---------------------

An update is an object of operators: ``$set {p: v}``, ``$unset {p: any}``, ``$inc {p: number}``;
paths are dotted member names (no array indexes); ``_id`` cannot be changed. ``$inc`` of a missing
member sets it; of a non-number is malformed. Upsert inserts ``{_id, equality members of the filter
at top level, then the update}``; the ``_id`` is the filter's when it names a string ``_id``, else the
one the vault draws.

Stored values (``HDB-008``)
---------------------------

A document the vault stores (an inserted one, and every document an update or upsert leaves) is a
value both MongoDB and I-JSON (RFC 7493) can hold, so that it reads back the same from any store and
its JSON is well-formed: nested at most ``MAX_DEPTH`` (100) levels (the document is level 1), its
strings and member names sequences of Unicode scalar values (no lone surrogate, which has no UTF-8
form) without U+0000 (which a BSON member name and PostgreSQL's text cannot hold), its integers in the signed 64-bit range of BSON's ``int64`` and its numbers finite. A change
whose result breaks this (``$inc`` past the 64-bit range, or a float ``$inc`` to infinity) is refused
and changes nothing.

Find options (``HDB-003``)
--------------------------

``sort`` ``[[path, 1|-1], …]`` (values ordered null < numbers < strings < objects < arrays < booleans,
missing as null, stable), ``skip`` and ``limit`` non-negative integers (``limit`` 0 means none).

Upstream: Elastos.Hive.Node ``src/modules/database/database.py`` (``insert``, ``update``, ``delete``,
``count``, ``find``, ``query``), MongoDB query semantics.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final, NoReturn

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule

__all__ = [
    "Database",
    "FindOptions",
    "MAX_DEPTH",
    "json_depth",
    "check_filter",
    "check_document",
    "value_fault",
    "matches",
    "check_update",
    "apply_update",
    "parse_find_options",
    "create_collection",
    "delete_collection",
    "insert",
    "find",
    "count",
    "update",
    "delete",
    "check_collection_name",
    "check_stored_collection",
]

R_FILTER: Final = rule(
    "HDB-001", Reason.HIVE_FILTER_MALFORMED,
    "A filter is a JSON object, nested at most 100 levels, of path conditions and $and/$or/$nor (non-empty "
    "arrays of filters); a path condition is a value or an object of the operators $eq $ne $gt $gte $lt $lte "
    "$in $nin $exists $not with operands of their type.",
    suite="hive", upstream="MongoDB BadValue (\"unknown operator\"); Hive 400 InvalidParameter",
    note="Deviation: a subset of MongoDB's query language, with embedded-document equality independent "
    "of member order.",
)
R_UPDATE: Final = rule(
    "HDB-002", Reason.HIVE_FILTER_MALFORMED,
    "An update is a non-empty object of $set, $unset and $inc, each an object of dotted paths (no _id); "
    "$inc operands and the values they change are numbers.",
    suite="hive", upstream="MongoDB \"Modifiers operate on fields\" / \"Cannot apply $inc\"",
)
R_OPTIONS: Final = rule(
    "HDB-003", Reason.HIVE_FILTER_MALFORMED,
    "Find options are sort ([[path, 1|-1], ...]), skip and limit (non-negative integers) and nothing else.",
    suite="hive", upstream="database.py find/query options",
)
R_NAME: Final = rule(
    "HDB-004", Reason.HIVE_FILTER_MALFORMED,
    "A collection name is 1-120 characters of letters, digits, '_', '-' and '.', not starting with "
    "'system.' or '.'.",
    suite="hive", upstream="MongoDB collection name restrictions",
)
R_MISSING: Final = rule(
    "HDB-005", Reason.HIVE_COLLECTION_NOT_FOUND,
    "Insert, find, count, update and delete name an existing collection.",
    suite="hive", upstream="database.py: CollectionNotFoundException (404)",
)
R_EXISTS: Final = rule(
    "HDB-006", Reason.HIVE_COLLECTION_EXISTS,
    "A collection is created once.",
    suite="hive", upstream="database.py create_collection: AlreadyExistsException (455)",
    note="Deviation: upstream answers 200 when the collection exists; the spec rejects the second create.",
)
R_DOCUMENT: Final = rule(
    "HDB-007", Reason.HIVE_FILTER_MALFORMED,
    "An inserted document is a JSON object whose member names do not start with '$' and contain no '.', "
    "without _id (the vault assigns it); ids are distinct in the collection.",
    suite="hive", upstream="MongoDB document validation",
)
R_VALUE: Final = rule(
    "HDB-008", Reason.HIVE_FILTER_MALFORMED,
    "A stored document (inserted, or as an update or upsert leaves it) is nested at most 100 levels, its "
    "strings and member names have no lone surrogate and no U+0000, its integers are in the signed 64-bit "
    "range and its numbers are finite.",
    suite="hive", upstream="MongoDB: at most 100 levels of nesting, numbers as BSON int64 or double; "
    "RFC 7493 (I-JSON) 2.1 and 2.2",
    note="Deviation: MongoDB stores a double $inc that overflows as infinity, which JSON cannot carry back, "
    "and a string value with U+0000, which PostgreSQL's JSONB cannot; pymongo cannot encode an integer past "
    "64 bits, so upstream fails such a write with a server error.",
)

MAX_DEPTH: Final = 100
INT64_MIN: Final = -(1 << 63)
INT64_MAX: Final = (1 << 63) - 1
COMPARISONS: Final = ("$gt", "$gte", "$lt", "$lte")
OPERATORS: Final = ("$eq", "$ne", *COMPARISONS, "$in", "$nin", "$exists", "$not")
LOGICAL: Final = ("$and", "$or", "$nor")
_MISSING: Final = object()


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Database(_Model):
    """A partition's collections, by name (sorted), documents in insertion order."""

    collections: tuple[tuple[str, tuple[dict[str, Any], ...]], ...] = ()

    def get(self, name: str) -> tuple[dict[str, Any], ...]:
        for n, docs in self.collections:
            if n == name:
                return docs
        # [HDB-005] the collection exists
        raise Reject(Reason.HIVE_COLLECTION_NOT_FOUND, "HDB-005", f"no collection {name!r}")

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.collections)

    def with_collection(self, name: str, docs: tuple[dict[str, Any], ...]) -> Database:
        rest = [(n, d) for n, d in self.collections if n != name]
        return Database(collections=tuple(sorted([*rest, (name, docs)], key=lambda x: x[0])))


class FindOptions(_Model):
    sort: tuple[tuple[str, int], ...] = ()
    skip: int = 0
    limit: int = 0


# -- values -----------------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def json_depth(v: Any) -> int:
    """Levels of arrays and objects in ``v`` (a scalar is 0, ``{}`` is 1), counted without recursion."""
    level, depth = [v], 0
    while level := [x for x in level if isinstance(x, dict | list)]:
        depth += 1
        level = [y for x in level for y in (x.values() if isinstance(x, dict) else x)]
    return depth


def _has_lone_surrogate(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def value_fault(v: Any) -> str | None:
    """What keeps ``v`` from being stored (HDB-008's bounds), or ``None``: nesting past ``MAX_DEPTH``, a
    string or member name with a lone surrogate or U+0000, an integer outside the signed 64-bit range, a
    number that is not finite. ``v`` is a JSON value (``None``, ``bool``, ``int``, ``float``, ``str``, ``list``,
    ``dict`` with ``str`` keys)."""
    if json_depth(v) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            for k, y in x.items():
                if _has_lone_surrogate(k) or "\x00" in k:
                    return f"member name {k!r} has a lone surrogate or U+0000"
                stack.append(y)
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str):
            if _has_lone_surrogate(x) or "\x00" in x:
                return f"string {x!r} has a lone surrogate or U+0000"
        elif isinstance(x, bool):
            continue
        elif isinstance(x, int):
            if not INT64_MIN <= x <= INT64_MAX:
                return f"integer {x} is outside the signed 64-bit range"
        elif isinstance(x, float) and not math.isfinite(x):
            return f"number {x} is not finite"
    return None


def check_document(doc: dict[str, Any]) -> None:
    """Reject a document the vault cannot store (HDB-008)."""
    fault = value_fault(doc)
    # [HDB-008] a stored document is within MongoDB's and I-JSON's bounds
    if fault is not None:
        raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-008", fault)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans only with booleans, objects regardless of order."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def resolve_path(doc: Any, path: str) -> list[Any]:
    """Every value at a dotted path (through arrays); empty when missing."""
    values = [doc]
    for seg in path.split("."):
        nxt: list[Any] = []
        for v in values:
            if isinstance(v, dict):
                if seg in v:
                    nxt.append(v[seg])
            elif isinstance(v, list):
                if seg.isdigit() and int(seg) < len(v):
                    nxt.append(v[int(seg)])
                for el in v:
                    if isinstance(el, dict) and seg in el:
                        nxt.append(el[seg])
        values = nxt
    return values


def _candidates(values: list[Any]) -> list[Any]:
    """The values at a path and the elements of the arrays among them."""
    out = list(values)
    for v in values:
        if isinstance(v, list):
            out.extend(v)
    return out


def _compare(op: str, a: Any, b: Any) -> bool:
    if not ((_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return False
    if _is_number(a) and (math.isnan(a) or math.isnan(b)):
        return False
    return {"$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]


# -- filters ----------------------------------------------------------------------------------------


def _bad(detail: str) -> NoReturn:
    # [HDB-001] the filter is in the specified subset
    raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-001", detail)


def _is_operator_object(v: Any) -> bool:
    return isinstance(v, dict) and len(v) > 0 and all(isinstance(k, str) and k.startswith("$") for k in v)


def _check_ops(ops: dict[str, Any], where: str) -> None:
    for op, arg in ops.items():
        # [HDB-001] a known operator
        if op not in OPERATORS:
            _bad(f"{where}: unknown operator {op}")
        # [HDB-001] $in and $nin take an array
        if op in ("$in", "$nin") and not isinstance(arg, list):
            _bad(f"{where}.{op}: expected an array")
        # [HDB-001] $exists takes a boolean
        if op == "$exists" and not isinstance(arg, bool):
            _bad(f"{where}.$exists: expected a boolean")
        if op == "$not":
            # [HDB-001] $not takes an operator object
            if not _is_operator_object(arg):
                _bad(f"{where}.$not: expected an operator object")
            _check_ops(arg, where + ".$not")


def check_filter(f: Any) -> None:
    """Reject a filter outside the subset (HDB-001)."""
    # [HDB-001] a filter nests at most MAX_DEPTH levels (so that evaluating it cannot exhaust the stack)
    if json_depth(f) > MAX_DEPTH:
        _bad(f"filter: nested deeper than {MAX_DEPTH} levels")
    _check_filter(f, "filter")


def _check_filter(f: Any, where: str) -> None:
    # [HDB-001] a filter is an object
    if not isinstance(f, dict):
        _bad(f"{where}: expected an object")
    for key, v in f.items():
        if key in LOGICAL:
            # [HDB-001] $and/$or/$nor take a non-empty array of filters
            if not isinstance(v, list) or not v:
                _bad(f"{where}.{key}: expected a non-empty array")
            for i, sub in enumerate(v):
                _check_filter(sub, f"{where}.{key}[{i}]")
        elif key.startswith("$"):
            # [HDB-001] no other top-level operator
            _bad(f"{where}: unknown operator {key}")
        elif _is_operator_object(v):
            _check_ops(v, f"{where}.{key}")
        elif isinstance(v, dict) and any(isinstance(k, str) and k.startswith("$") for k in v):
            # [HDB-001] operators and plain members are not mixed
            _bad(f"{where}.{key}: mixes operators and members")


def _eq(values: list[Any], v: Any) -> bool:
    if v is None and not values:
        return True
    return any(equal(x, v) for x in _candidates(values))


def _ops_match(values: list[Any], ops: dict[str, Any]) -> bool:
    for op, arg in ops.items():
        if op == "$eq":
            ok = _eq(values, arg)
        elif op == "$ne":
            ok = not _eq(values, arg)
        elif op in COMPARISONS:
            ok = any(_compare(op, x, arg) for x in _candidates(values))
        elif op == "$in":
            ok = any(_eq(values, a) for a in arg)
        elif op == "$nin":
            ok = not any(_eq(values, a) for a in arg)
        elif op == "$exists":
            ok = bool(values) == arg
        else:  # $not
            ok = not _ops_match(values, arg)
        if not ok:
            return False
    return True


def _match(doc: dict[str, Any], f: dict[str, Any]) -> bool:
    for key, v in f.items():
        if key == "$and":
            ok = all(_match(doc, s) for s in v)
        elif key == "$or":
            ok = any(_match(doc, s) for s in v)
        elif key == "$nor":
            ok = not any(_match(doc, s) for s in v)
        elif _is_operator_object(v):
            ok = _ops_match(resolve_path(doc, key), v)
        else:
            ok = _eq(resolve_path(doc, key), v)
        if not ok:
            return False
    return True


def matches(doc: dict[str, Any], f: Any) -> bool:
    """Whether ``doc`` matches the filter ``f`` (checked first: HDB-001)."""
    check_filter(f)
    return _match(doc, f)


# -- updates ----------------------------------------------------------------------------------------


def _bad_update(detail: str) -> NoReturn:
    # [HDB-002] the update is in the specified subset
    raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-002", detail)


def check_update(u: Any) -> None:
    """Reject an update outside the subset (HDB-002)."""
    # [HDB-002] a non-empty object of known operators
    if not isinstance(u, dict) or not u or any(k not in ("$set", "$unset", "$inc") for k in u):
        _bad_update("expected a non-empty object of $set, $unset, $inc")
    for op, members in u.items():
        # [HDB-002] each operator takes an object of paths
        if not isinstance(members, dict) or not members:
            _bad_update(f"{op}: expected a non-empty object")
        for path, v in members.items():
            segs = path.split(".")
            # [HDB-002] a dotted member path, not _id
            if path == "_id" or segs[0] == "_id" or any(not s or s.startswith("$") for s in segs):
                _bad_update(f"{op}: bad path {path!r}")
            # [HDB-002] $inc takes numbers
            if op == "$inc" and not _is_number(v):
                _bad_update(f"$inc {path}: not a number")


def _set(doc: dict[str, Any], segs: list[str], value: Any) -> None:
    cur = doc
    for s in segs[:-1]:
        nxt = cur.get(s)
        if not isinstance(nxt, dict):
            # [HDB-002] a path goes through objects
            if nxt is not None:
                _bad_update(f"cannot create {s!r} inside a non-object")
            nxt = {}
            cur[s] = nxt
        cur = nxt
    cur[segs[-1]] = value


def _get(doc: dict[str, Any], segs: list[str]) -> Any:
    cur: Any = doc
    for s in segs:
        if not isinstance(cur, dict) or s not in cur:
            return _MISSING
        cur = cur[s]
    return cur


def apply_update(doc: dict[str, Any], u: dict[str, Any]) -> dict[str, Any]:
    """The document after an update (checked first: HDB-002)."""
    check_update(u)
    out = json.loads(json.dumps(doc))
    for path, v in u.get("$set", {}).items():
        _set(out, path.split("."), v)
    for path in u.get("$unset", {}):
        segs = path.split(".")
        parent = _get(out, segs[:-1]) if len(segs) > 1 else out
        if isinstance(parent, dict):
            parent.pop(segs[-1], None)
    for path, v in u.get("$inc", {}).items():
        segs = path.split(".")
        cur = _get(out, segs)
        # [HDB-002] $inc changes a number
        if cur is not _MISSING and not _is_number(cur):
            _bad_update(f"$inc {path}: the value is not a number")
        _set(out, segs, v if cur is _MISSING else cur + v)
    check_document(out)
    return out


# -- options and sorting -----------------------------------------------------------------------------


def parse_find_options(o: Any) -> FindOptions:
    """Check and read ``{sort?, skip?, limit?}`` (HDB-003)."""
    # [HDB-003] options are an object of sort, skip and limit
    if not isinstance(o, dict) or any(k not in ("sort", "skip", "limit") for k in o):
        raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-003", "options: only sort, skip and limit")
    for k in ("skip", "limit"):
        v = o.get(k, 0)
        # [HDB-003] skip and limit are non-negative integers
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-003", f"{k}: expected a non-negative integer")
    sort = o.get("sort", [])
    ok = isinstance(sort, list) and all(
        isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) and s[0] and s[1] in (1, -1)
        and not isinstance(s[1], bool) for s in sort)
    # [HDB-003] sort is a list of [path, 1|-1]
    if not ok:
        raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-003", "sort: expected [[path, 1|-1], ...]")
    return FindOptions(sort=tuple((s[0], s[1]) for s in sort), skip=o.get("skip", 0), limit=o.get("limit", 0))


def sort_key(v: Any) -> tuple[int, Any]:
    """The total order of values: null < numbers < strings < objects < arrays < booleans."""
    if v is None or v is _MISSING:
        return (0, 0)
    if isinstance(v, bool):
        return (5, v)
    if _is_number(v):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    if isinstance(v, dict):
        return (3, json.dumps(v, sort_keys=True))
    return (4, json.dumps(v, sort_keys=True))


# -- collections ------------------------------------------------------------------------------------

_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def check_collection_name(name: str) -> None:
    """HDB-004."""
    ok = 0 < len(name) <= 120 and set(name) <= _NAME_CHARS and not name.startswith((".", "system."))
    # [HDB-004] a valid collection name
    if not ok:
        raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-004", f"bad collection name {name!r}")


def create_collection(db: Database, name: str) -> Database:
    check_collection_name(name)
    # [HDB-006] created once
    if db.has(name):
        raise Reject(Reason.HIVE_COLLECTION_EXISTS, "HDB-006", f"collection {name!r} exists")
    return db.with_collection(name, ())


def delete_collection(db: Database, name: str) -> Database:
    db.get(name)
    return Database(collections=tuple((n, d) for n, d in db.collections if n != name))


def _plain_members(doc: dict[str, Any]) -> bool:
    return all(isinstance(k, str) and not k.startswith("$") and "." not in k for k in doc)


def check_stored_collection(name: str, docs: Any) -> None:
    """Reject a collection that no sequence of calls could have stored (what a restored dump must be): a
    valid name (HDB-004), and documents as :func:`insert` and :func:`update` leave them: objects with a
    string ``_id``, distinct, and otherwise plain member names (HDB-007), within the stored-value bounds
    (HDB-008)."""
    check_collection_name(name)
    # [HDB-007] a stored collection is an array of objects with distinct string ids and plain member names
    if not isinstance(docs, list) or not all(
            isinstance(d, dict) and isinstance(d.get("_id"), str) and _plain_members(
                {k: v for k, v in d.items() if k != "_id"}) for d in docs) or len({d["_id"] for d in docs}) != len(docs):
        raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-007", f"collection {name!r}: not documents as stored")
    for d in docs:
        check_document(d)


def insert(db: Database, name: str, docs: list[Any], ids: list[str], *, now: int | None = None) -> Database:
    """Insert documents with the given ids; ``now`` adds ``created`` and ``modified`` (the timestamp option)."""
    existing = db.get(name)
    have = {d["_id"] for d in existing}
    out = list(existing)
    for doc, _id in zip(docs, ids, strict=True):
        # [HDB-007] a document is an object of plain member names, without _id
        if not isinstance(doc, dict) or "_id" in doc or not _plain_members(doc):
            raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-007", "bad document")
        check_document(doc)
        # [HDB-007] ids are distinct
        if _id in have:
            raise Reject(Reason.HIVE_FILTER_MALFORMED, "HDB-007", f"duplicate _id {_id!r}")
        have.add(_id)
        stamped = {"_id": _id, **doc}
        if now is not None:
            stamped.update(created=now, modified=now)
        out.append(stamped)
    return db.with_collection(name, tuple(out))


def find(db: Database, name: str, f: Any, options: Any = None) -> list[dict[str, Any]]:
    docs = db.get(name)
    check_filter(f)
    opts = parse_find_options({} if options is None else options)
    hits = [d for d in docs if _match(d, f)]
    for path, direction in reversed(opts.sort):
        def key(d: dict[str, Any], path: str = path) -> tuple[int, Any]:
            vals = resolve_path(d, path)
            return sort_key(vals[0] if vals else None)
        hits.sort(key=key, reverse=direction == -1)
    hits = hits[opts.skip:]
    return hits[:opts.limit] if opts.limit else hits


def count(db: Database, name: str, f: Any) -> int:
    docs = db.get(name)
    check_filter(f)
    return sum(1 for d in docs if _match(d, f))


def update(db: Database, name: str, f: Any, u: Any, *, many: bool, upsert: bool = False,
           upsert_id: str | None = None, now: int | None = None) -> tuple[Database, int, int, str | None]:
    """``(db, matched, modified, upserted id)``; ``now`` stamps ``modified`` on changed documents."""
    docs = db.get(name)
    check_filter(f)
    check_update(u)
    out = list(docs)
    matched = modified = 0
    for i, d in enumerate(out):
        if not _match(d, f):
            continue
        matched += 1
        new = apply_update(d, u)
        if now is not None and new != d:
            new["modified"] = now
        if new != d:
            modified += 1
        out[i] = new
        if not many:
            break
    if matched == 0 and upsert:
        base = {k: v for k, v in f.items() if not k.startswith("$") and "." not in k and not _is_operator_object(v)}
        # a string _id the filter names is the new document's id (as in MongoDB); otherwise the given one
        new_id = base.pop("_id") if isinstance(base.get("_id"), str) else upsert_id
        db2 = insert(db, name, [base], [new_id if new_id is not None else ""], now=now)
        new_docs = list(db2.get(name))
        new_docs[-1] = apply_update(new_docs[-1], u)
        return db2.with_collection(name, tuple(new_docs)), 0, 0, new_docs[-1]["_id"]
    return db.with_collection(name, tuple(out)), matched, modified, None


def delete(db: Database, name: str, f: Any, *, many: bool) -> tuple[Database, int]:
    docs = db.get(name)
    check_filter(f)
    out: list[dict[str, Any]] = []
    deleted = 0
    for d in docs:
        if (many or deleted == 0) and _match(d, f):
            deleted += 1
        else:
            out.append(d)
    return db.with_collection(name, tuple(out)), deleted
