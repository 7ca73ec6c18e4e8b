"""Handlers of the ``hive`` suite for backup envelopes, promotion and home-folder sync.

Sync manifests cross the boundary as arrays: remote entries ``{path, version, sha256, size}``
(``sha256`` null: a tombstone), local entries ``{path, sha256, size, base_version, base_sha256}``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from spec.hive import backup, sync

from conformance.bindings import Input, handler
from conformance.bindings_hive.common import Json, array, malformed, obj
from conformance.bindings_hive.data import database_in, database_out, files_in, files_out


@handler("hive", "hive.backup.seal",
         "`user_did`, `databases` {name: collections}, `files`? {name: [entries]}, `bodies` [hex], `key`, `nonce`, "
         "`create_time` -> `metadata`, `blobs` {sha256: hex}: partition dumps encrypted with SecretBox")
def _backup_seal(data: Any) -> Json:
    inp = Input(data, ("user_did", "databases", "bodies", "key", "nonce", "create_time"), ("files",))
    key, nonce = inp.hex("key"), inp.hex("nonce")
    if len(key) != backup.KEY_SIZE or len(nonce) != backup.NONCE_SIZE:
        raise malformed("key: 32 bytes, nonce: 24 bytes")
    dbs = obj(inp, "databases")
    files = obj(inp, "files") if inp.has("files") else {}
    dumps = {name: backup.dump(name, database_in(dbs[name]), files_in(files.get(name, []))) for name in dbs}
    bodies: dict[str, tuple[bytes, int]] = {}
    for b in inp.hex_list("bodies"):
        h = hashlib.sha256(b).hexdigest()
        bodies[h] = (b, bodies[h][1] + 1 if h in bodies else 1)
    meta, blobs = backup.build_metadata(inp.text("user_did"), dumps, bodies, key=key, nonce=nonce,
                                        create_time=inp.small_int("create_time", 0, 1 << 40))
    return {"metadata": meta, "blobs": {h: b.hex() for h, b in sorted(blobs.items())}}


@handler("hive", "hive.backup.restore",
         "`metadata`, `blobs` {sha256: hex} -> `databases` {name: collections}, `files` {name: [entries]}")
def _backup_restore(data: Any) -> Json:
    inp = Input(data, ("metadata", "blobs"))
    raw = obj(inp, "blobs")
    blobs = {k: Input({"x": v}, ("x",)).hex("x") for k, v in raw.items()}
    parts = backup.restore(inp.raw("metadata"), blobs)
    return {"databases": {name: database_out(d) for name, (d, _) in sorted(parts.items())},
            "files": {name: files_out(f) for name, (_, f) in sorted(parts.items())}}


@handler("hive", "hive.backup.promote",
         "`backup` (metadata or null), `active_vault` -> `active_vault`: promote the backup on the backup node")
def _backup_promote(data: Any) -> Json:
    inp = Input(data, ("backup", "active_vault"))
    active = inp.raw("active_vault")
    if not isinstance(active, bool):
        raise malformed("active_vault: expected a boolean")
    node = backup.BackupNode(active_vault=active)
    if inp.raw("backup") is not None:
        node = backup.store_backup(node, inp.raw("backup"))
    return {"active_vault": backup.promote(node).active_vault}


def _remote_out(r: dict[str, sync.RemoteEntry]) -> list[Json]:
    return [{"path": e.path, "version": e.version, "sha256": e.sha256, "size": e.size} for _, e in sorted(r.items())]


def _local_out(lo: dict[str, sync.LocalEntry]) -> list[Json]:
    return [{"path": e.path, "sha256": e.sha256, "size": e.size, "base_version": e.base_version,
             "base_sha256": e.base_sha256} for _, e in sorted(lo.items())]


@handler("hive", "hive.sync.plan",
         "`local`, `remote` (manifests) -> `actions`, then (carried out with no concurrent writer) `local`, "
         "`remote`")
def _sync_plan(data: Any) -> Json:
    inp = Input(data, ("local", "remote"))
    local, remote = sync.parse_local(array(inp, "local")), sync.parse_remote(array(inp, "remote"))
    actions = sync.plan(local, remote)
    lo, re_ = sync.execute(local, remote, actions)
    return {"actions": [{"op": a.op, "path": a.path, "sha256": a.sha256, "base_version": a.base_version,
                         "source": a.source} for a in actions],
            "local": _local_out(lo), "remote": _remote_out(re_)}


@handler("hive", "hive.sync.write",
         "`remote`, `path`, `sha256` (null: delete), `size`, `base_version` -> `remote`: the vault's compare-and-swap")
def _sync_write(data: Any) -> Json:
    inp = Input(data, ("remote", "path", "sha256", "size", "base_version"))
    remote = sync.parse_remote(array(inp, "remote"))
    sha = inp.raw("sha256")
    if sha is not None and not isinstance(sha, str):
        raise malformed("sha256: a string or null")
    out = sync.apply_write(remote, inp.text("path"), sha, inp.small_int("size", 0, 1 << 50),
                           inp.small_int("base_version", 0, 1 << 50))
    return {"remote": _remote_out(out)}


@handler("hive", "hive.sync.upload",
         "`path`, `size`, `sha256`, `chunks` [{offset, data, at?}], `finish`?, `start`?, `finish_at`? -> `received`, "
         "`complete`: a resumable upload started at `start` (default 0), each chunk sent at its `at` (default: the "
         "previous time), finished at `finish_at` (default: the last time)")
def _sync_upload(data: Any) -> Json:
    inp = Input(data, ("path", "size", "sha256", "chunks"), ("finish", "start", "finish_at"))
    now = inp.small_int("start", 0, 1 << 40) if inp.has("start") else 0
    s = sync.start_upload(inp.text("path"), inp.small_int("size", 0, 1 << 32), inp.text("sha256"), now=now)
    for c in array(inp, "chunks"):
        ci = Input(c, ("offset", "data"), ("at",))
        now = ci.small_int("at", 0, 1 << 40) if ci.has("at") else now
        s = sync.append_chunk(s, ci.small_int("offset", 0, 1 << 32), ci.hex("data"), now=now)
    finish = inp.raw("finish") if inp.has("finish") else True
    if not isinstance(finish, bool):
        raise malformed("finish: expected a boolean")
    if finish:
        sync.finish_upload(s, now=inp.small_int("finish_at", 0, 1 << 40) if inp.has("finish_at") else now)
    return {"received": len(s.received), "complete": finish}
