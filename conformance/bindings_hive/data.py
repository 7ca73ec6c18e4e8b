"""Handlers of the ``hive`` suite for partitions, access, the database, files, CIDs and scripts.

A database crosses the boundary as ``{collection: [documents]}``; files as a list of
``{path, size, sha256, cid, public, created, modified}``. Operation lists run in order from the given
state; any rejection rejects the whole case (the spec's transitions are all-or-nothing).
"""

from __future__ import annotations

import hashlib
from typing import Any

from spec.hive import access, cid, scripts
from spec.hive import database as db
from spec.hive import files as fs

from conformance.bindings import Input, handler
from conformance.bindings_hive.common import Json, array, caller, malformed, obj

MAX_FILL = 64 << 20


def database_in(v: Any) -> db.Database:
    if not isinstance(v, dict) or not all(isinstance(d, list) for d in v.values()):
        raise malformed("collections: expected an object of arrays")
    return db.Database(collections=tuple((k, tuple(v[k])) for k in sorted(v)))


def database_out(d: db.Database) -> Json:
    return {n: list(docs) for n, docs in d.collections}


def files_in(v: Any) -> fs.Files:
    """File metadata entries ``{path, size, sha256, cid, public, created, modified}``, checked as the spec's model."""
    if not isinstance(v, list):
        raise malformed("files: expected an array of entries")
    out = []
    for item in v:
        e = Input(item, ("path", "size", "sha256", "cid", "public", "created", "modified"))
        cid_v = e.raw("cid")
        if cid_v is not None and not isinstance(cid_v, str):
            raise malformed("cid: a string or null")
        fs.check_path(e.text("path"))
        out.append(fs.FileEntry(path=e.text("path"), size=e.small_int("size", 0, 1 << 50), sha256=e.text("sha256"),
                                cid=cid_v, public=_bool(e, "public"), created=e.small_int("created", 0, 1 << 40),
                                modified=e.small_int("modified", 0, 1 << 40)))
    return fs.Files(entries=tuple(sorted(out, key=lambda x: x.path)))


def files_out(f: fs.Files) -> list[Json]:
    return [entry_out(e) for e in f.entries]


def entry_out(e: fs.FileEntry) -> Json:
    return {"path": e.path, "size": e.size, "sha256": e.sha256, "cid": e.cid, "public": e.public,
            "created": e.created, "modified": e.modified}


def _bool(o: Input, key: str, default: bool = False) -> bool:
    if not o.has(key):
        return default
    v = o.raw(key)
    if not isinstance(v, bool):
        raise malformed(f"{key}: expected a boolean")
    return v


@handler("hive", "hive.partition.name",
         "`user_did`, `app_did` -> `database`: hive_user_db_ + md5(user_did + '_' + app_did)")
def _partition_name(data: Any) -> Json:
    inp = Input(data, ("user_did", "app_did"))
    return {"database": access.database_name(inp.text("user_did"), inp.text("app_did"))}


@handler("hive", "hive.access.direct",
         "`caller` (object or null), `target` {user_did, app_did} -> `partition`: may a direct call act there")
def _access_direct(data: Any) -> Json:
    inp = Input(data, ("caller", "target"))
    t = Input(inp.raw("target"), ("user_did", "app_did"))
    p = access.check_direct(caller(inp.raw("caller")),
                            access.Partition(user_did=t.text("user_did"), app_did=t.text("app_did")))
    return {"partition": {"user_did": p.user_did, "app_did": p.app_did, "database": access.database_name(
        p.user_did, p.app_did)}}


@handler("hive", "hive.db.match", "`document`, `filter` -> `matches`: the filter language on one document")
def _db_match(data: Any) -> Json:
    inp = Input(data, ("document", "filter"))
    return {"matches": db.matches(obj(inp, "document"), inp.raw("filter"))}


def _db_op(d: db.Database, op: Any, now: int | None) -> tuple[db.Database, Json]:
    kind = op.get("op") if isinstance(op, dict) else None
    if kind == "create":
        o = Input(op, ("op", "collection"))
        return db.create_collection(d, o.text("collection")), {}
    if kind == "drop":
        o = Input(op, ("op", "collection"))
        return db.delete_collection(d, o.text("collection")), {}
    if kind == "insert":
        o = Input(op, ("op", "collection", "documents", "ids"), ("timestamp",))
        ids = array(o, "ids")
        docs = array(o, "documents")
        if len(ids) != len(docs) or not all(isinstance(i, str) for i in ids):
            raise malformed("ids: one string per document")
        stamp = now if _bool(o, "timestamp") else None
        return db.insert(d, o.text("collection"), docs, ids, now=stamp), {"inserted_ids": ids}
    if kind == "find":
        o = Input(op, ("op", "collection", "filter"), ("options",))
        opts = o.raw("options") if o.has("options") else None
        return d, {"items": db.find(d, o.text("collection"), o.raw("filter"), opts)}
    if kind == "count":
        o = Input(op, ("op", "collection", "filter"))
        return d, {"count": db.count(d, o.text("collection"), o.raw("filter"))}
    if kind == "update":
        o = Input(op, ("op", "collection", "filter", "update", "many"), ("upsert", "upsert_id", "timestamp"))
        new, matched, modified, upserted = db.update(
            d, o.text("collection"), o.raw("filter"), o.raw("update"), many=_bool(o, "many"),
            upsert=_bool(o, "upsert"), upsert_id=o.text("upsert_id") if o.has("upsert_id") else None,
            now=now if _bool(o, "timestamp") else None)
        return new, {"matched_count": matched, "modified_count": modified, "upserted_id": upserted}
    if kind == "delete":
        o = Input(op, ("op", "collection", "filter", "many"))
        new, deleted = db.delete(d, o.text("collection"), o.raw("filter"), many=_bool(o, "many"))
        return new, {"deleted_count": deleted}
    raise malformed(f"unknown database op {kind!r}")


@handler("hive", "hive.db.ops",
         "`collections`, `ops` [{op: create|drop|insert|find|count|update|delete, ...}], `now`? -> `results`, "
         "`collections`")
def _db_ops(data: Any) -> Json:
    inp = Input(data, ("collections", "ops"), ("now",))
    d = database_in(inp.raw("collections"))
    t = inp.small_int("now", 0, 1 << 40) if inp.has("now") else None
    results = []
    for op in array(inp, "ops"):
        d, r = _db_op(d, op, t)
        results.append(r)
    return {"results": results, "collections": database_out(d)}


def _fs_op(f: fs.Files, op: Any, now: int, quota: int) -> tuple[fs.Files, Json]:
    kind = op.get("op") if isinstance(op, dict) else None
    if kind == "put":
        o = Input(op, ("op", "path", "body"), ("public",))
        return fs.put(f, o.text("path"), o.hex("body"), public=_bool(o, "public"), now=now, quota=quota), {}
    if kind in ("get", "hash"):
        o = Input(op, ("op", "path"))
        e = fs.get(f, o.text("path"))
        if kind == "hash":
            return f, {"name": e.path, "algorithm": "SHA256", "hash": e.sha256}
        return f, entry_out(e)
    if kind == "list":
        o = Input(op, ("op", "folder"))
        return f, {"children": [{"name": c.name, "is_file": c.is_file, "size": c.size}
                                for c in fs.listing(f, o.text("folder"))]}
    if kind in ("copy", "move"):
        o = Input(op, ("op", "src", "dst"))
        if kind == "copy":
            return fs.copy(f, o.text("src"), o.text("dst"), now=now, quota=quota), {}
        return fs.move(f, o.text("src"), o.text("dst"), now=now), {}
    if kind == "delete":
        o = Input(op, ("op", "path"))
        return fs.delete(f, o.text("path")), {}
    raise malformed(f"unknown file op {kind!r}")


@handler("hive", "hive.files.ops",
         "`ops` [{op: put|get|hash|list|copy|move|delete, ...}], `now`, `quota` -> `results`, `files`: from an "
         "empty partition")
def _files_ops(data: Any) -> Json:
    inp = Input(data, ("ops", "now", "quota"))
    t = inp.small_int("now", 0, 1 << 40)
    quota = inp.small_int("quota", 0, 1 << 50)
    f = fs.Files()
    results = []
    for op in array(inp, "ops"):
        f, r = _fs_op(f, op, t, quota)
        results.append(r)
    return {"results": results, "files": files_out(f)}


@handler("hive", "hive.cid",
         "`data` (hex) or `fill` {byte (hex), length} -> `cid`, `sha256`, `size`: CIDv0 as ipfs add computes it")
def _cid(data: Any) -> Json:
    inp = Input(data, (), ("data", "fill"))
    if inp.has("data") == inp.has("fill"):
        raise malformed("exactly one of data and fill")
    if inp.has("data"):
        body = inp.hex("data")
    else:
        f = Input(inp.raw("fill"), ("byte", "length"))
        byte = f.hex("byte")
        if len(byte) != 1:
            raise malformed("fill.byte: one byte")
        body = byte * f.small_int("length", 0, MAX_FILL)
    return {"cid": cid.cid_v0(body), "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}


@handler("hive", "hive.script.register",
         "`name`, `definition` -> `script` {name, executable, condition, allowAnonymousUser, allowAnonymousApp}")
def _script_register(data: Any) -> Json:
    inp = Input(data, ("name", "definition"))
    s = scripts.parse_script(inp.text("name"), inp.raw("definition"))
    return {"script": {"name": s.name, "executable": s.executable, "condition": s.condition,
                       "allowAnonymousUser": s.allow_anonymous_user, "allowAnonymousApp": s.allow_anonymous_app}}


def partition_in(v: Any, now: int) -> scripts.PartitionData:
    p = Input(v, ("collections", "files", "scripts"))
    f = fs.Files()
    for item in array(p, "files"):
        e = Input(item, ("path", "body"), ("public",))
        f = fs.put(f, e.text("path"), e.hex("body"), public=_bool(e, "public"), now=now, quota=1 << 50)
    data = scripts.PartitionData(database=database_in(p.raw("collections")), files=f)
    defs = obj(p, "scripts")
    for name in sorted(defs):
        data = scripts.register(data, scripts.parse_script(name, defs[name]))
    return data


@handler("hive", "hive.script.run",
         "`partition` {collections, files [{path, body, public?}], scripts {name: definition}}, `script`, "
         "`caller` (object or null), `params`, `now`, `id_prefix` -> `result`, `collections`")
def _script_run(data: Any) -> Json:
    inp = Input(data, ("partition", "script", "caller", "params", "now", "id_prefix"))
    t = inp.small_int("now", 0, 1 << 40)
    part = partition_in(inp.raw("partition"), t)
    new, result = scripts.run(part, inp.text("script"), caller(inp.raw("caller")), inp.raw("params"),
                              id_prefix=inp.text("id_prefix"), now=t)
    return {"result": result, "collections": database_out(new.database)}
