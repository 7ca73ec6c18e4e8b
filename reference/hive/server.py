"""``elastos hive serve``: the reference vault over HTTP on loopback, with upstream's v2 routes.

HTTP stack: the standard library's ``ThreadingHTTPServer``, as the reference node and ID-chain
service use it. The vault's work per request is a SQLite transaction around a pure spec transition,
serialized by the store's lock, so an async stack would buy nothing here and would add a dependency;
a deployment that needs concurrency puts the same routes behind an ASGI server.

Every rule is the spec's: a call loads the state, runs the spec function and stores the result.
A rejection answers its HTTP status with ``{"error": {"message", "reason", "rule"}}``:

==========================================================  ======
reason                                                      status
==========================================================  ======
token, JWT and sign-in reasons                              401
``HIVE_ACCESS_DENIED``, ``HIVE_SCRIPT_CONDITION``           403
``HIVE_*_NOT_FOUND``                                        404
``HIVE_COLLECTION_EXISTS``, ``HIVE_FILE_EXISTS``            455
``HIVE_QUOTA_EXCEEDED``                                     507
``HIVE_SYNC_STALE``, ``HIVE_UPLOAD_OFFSET``, ``…STATE``     409
``HIVE_UPLOAD_EXPIRED``                                     410
everything else (malformed input)                           400
==========================================================  ======

Routes (base ``/api/v2``): ``POST did/signin``, ``POST did/auth``, ``GET node/version``;
``GET vault/db/collections``, ``PUT|DELETE vault/db/collections/<name>``, ``POST
vault/db/collection/<name>`` (insert, or ``?op=count``), ``PATCH …?updateone=``, ``DELETE
…?deleteone=``, ``GET vault/db/<name>?filter=&skip=&limit=``, ``POST vault/db/query``;
``GET|PUT|PATCH|DELETE vault/files/<path>`` with ``comp=children|metadata|hash``, ``public=``,
``dest=`` (copy) and ``to=`` (move); ``PUT|PATCH|DELETE vault/scripting/<name>`` (register, run,
unregister) and ``PUT|GET vault/scripting/stream/<transaction id>``; the home-folder sync routes
(the spec's own, :mod:`spec.hive.sync`); backup: ``POST vault/content?to=hive_node`` and
``?from=hive_node`` (with a ``HiveBackupCredential``), on the backup node ``POST did/backup_auth``,
``PUT vault-backup-service/backup``, ``GET vault-backup-service/restore`` (``BackupToken``) and
``POST backup/promotion`` (the user's access token): ``GET vault/sync/manifest``, ``PUT|DELETE
vault/sync/files/<path>?base=<version>`` (compare-and-swap), ``POST vault/sync/uploads`` (start a
resumable upload), ``GET|PUT vault/sync/uploads/<id>[?offset=]`` (status, append a chunk),
``POST vault/sync/uploads/<id>?base=`` (finish: the body becomes visible only now) and ``DELETE
vault/sync/uploads/<id>`` (give a session up: its bytes and the room it held are freed at once).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from spec.crypto import p256
from spec.did import document
from spec.errors import Reason, Reject
from spec.hive import access, auth, backup, identity, scripts, sync
from spec.hive import database as db
from spec.hive import files as fs

from reference.hive.client import HiveError
from reference.hive.store import HiveStore
from reference.hive.stream import copy_hashed

MAX_BODY = 256 << 20
IO_CHUNK = 1 << 20
"""Bodies are received in pieces of at most this size (one pass: receive, write, hash)."""
WRITEBACK_EVERY = 8 << 20
"""While a large body arrives, the kernel is asked to start writing each this many bytes to disk, so
the ``fsync`` that makes the upload durable finds little left to do."""


def _writeback_starter() -> Any:
    """Linux ``sync_file_range(fd, offset, n, SYNC_FILE_RANGE_WRITE)``: start writing a range to disk
    without waiting (``None`` where the call does not exist; the final ``fsync`` does it all then)."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return lambda fd, offset, n: call(fd, offset, n, 2)


_start_writeback = _writeback_starter()
MAX_JSON_DEPTH = 128
"""Deepest nesting of arrays and objects in a request's JSON (a body or the ``filter`` parameter): room for a
document of MongoDB's 100 levels inside a request, and a bound on the spec's filter, update and script
functions, which recurse over what they are given."""
TRANSACTION_LIFETIME = 3600
HOUSEKEEPING_EVERY = 600.0
"""Seconds between two runs of :meth:`Vault.housekeeping` in a serving vault."""
IDLE_TIMEOUT = 120.0
"""Seconds a connection may send nothing, between requests or in the middle of a body, before the vault
closes it: a client that announces a body and stalls, or a half-open connection, would otherwise hold a
handler thread and a descriptor for ever. A body cut this way is a body cut short: nothing of it is
published (an upload's temporary file is removed; a sync chunk keeps what arrived, as after a network cut)."""
SERVICE_DOCUMENT_LIFETIME = 5 * 365 * 86400

_STATUS = {
    Reason.HIVE_ACCESS_DENIED: 403, Reason.HIVE_SCRIPT_CONDITION: 403,
    Reason.HIVE_SCRIPT_NOT_FOUND: 404, Reason.HIVE_COLLECTION_NOT_FOUND: 404, Reason.HIVE_FILE_NOT_FOUND: 404,
    Reason.HIVE_COLLECTION_EXISTS: 455, Reason.HIVE_FILE_EXISTS: 455, Reason.HIVE_QUOTA_EXCEEDED: 507,
    Reason.HIVE_SYNC_STALE: 409, Reason.HIVE_UPLOAD_OFFSET: 409, Reason.HIVE_BACKUP_STATE: 409,
    Reason.HIVE_UPLOAD_EXPIRED: 410,
}
_UNAUTHORIZED = ("HIVE_JWT_", "HIVE_TOKEN_", "HIVE_SIGNIN_", "HIVE_CHALLENGE_", "HIVE_PRESENTATION_",
                 "HIVE_CREDENTIAL_")


def status_of(reason: Reason) -> int:
    if reason in _STATUS:
        return _STATUS[reason]
    return 401 if reason.value.startswith(_UNAUTHORIZED) else 400


class HttpError(Exception):
    def __init__(self, status: int, message: str, reason: str = "MALFORMED_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class Vault:
    """The vault's behaviour, independent of HTTP: each method is one route."""

    def __init__(self, store: HiveStore, service_key: bytes, *, quota: int, clock: Any = time.time,
                 idchain: str | None = None) -> None:
        self.store = store
        self.quota = quota
        self.clock = clock
        self.idchain = idchain
        """JSON-RPC URL of an ID-chain service that resolves DIDs the vault does not hold locally."""
        self.service = auth.ServiceKey(did=identity.did_of(service_key), key_id=identity.key_id_of(service_key),
                                       private_key=service_key, public_key=p256.public_key_from_private(service_key))
        now = self.now()
        with store.transaction() as con:
            if self.service.did not in store.documents():
                store.cache_document(con, self.service.did, identity.primitive_document(
                    service_key, created=now, expires=now + SERVICE_DOCUMENT_LIFETIME))
        self.housekeeping()  # what a vault killed between a commit and its unlink left behind

    def housekeeping(self) -> dict[str, int]:
        """The periodic sweep: the partial bytes of every upload session expired by the vault's clock
        (HSYNC-005) are dropped, and every blob that no committed row names is removed (the inline
        collection after each commit leaves one only when the vault died, or an unlink failed, in between)."""
        with self.store.transaction() as con:
            uploads = self.store.expire_uploads(con, self.now())
        return {"uploads": uploads, "blobs": self.store.sweep()}

    def _room(self, con: Any, part: str, now: int, exclude: str | None = None) -> int:
        """The quota a write may use: the partition's quota less the declared sizes of its live upload
        sessions (but ``exclude``, the session being finished), which hold their room until they finish
        or expire."""
        return self.quota - self.store.reserved_bytes(con, part, now, exclude=exclude)

    def now(self) -> int:
        return int(self.clock())

    def resolver(self) -> document.Resolver:
        """Documents signed in with or given at start, then (with ``idchain``) the ID chain's current ones."""
        return document.resolver_from_texts(_Documents(self.store.documents(), self.idchain))

    def add_document(self, text: str) -> str:
        did = str(document.parse_document(text).subject)
        with self.store.transaction() as con:
            self.store.cache_document(con, did, text)
        return did

    # -- sign-in ----------------------------------------------------------------------------------------

    def sign_in(self, body: Any) -> dict[str, Any]:
        doc = body.get("id") if isinstance(body, dict) else None
        if isinstance(doc, dict):
            doc = json.dumps(doc)
        if not isinstance(doc, str):
            raise HttpError(400, "body: expected {\"id\": <DID document>}")
        now = self.now()
        with self.store.transaction() as con:
            state, challenge = auth.sign_in(self.store.load_auth(con), doc, self.service, nonce=secrets.token_hex(16),
                                            now=now, resolve=self.resolver())
            self.store.save_auth(con, state, now)
            self.store.cache_document(con, str(document.parse_document(doc).subject), doc)
        return {"challenge": challenge}

    def auth(self, body: Any) -> dict[str, Any]:
        response = body.get("challenge_response") if isinstance(body, dict) else None
        if not isinstance(response, str):
            raise HttpError(400, "body: expected {\"challenge_response\": <JWT>}")
        now = self.now()
        with self.store.transaction() as con:
            state, grant = auth.authenticate(self.store.load_auth(con), response, self.service, now=now,
                                             resolve=self.resolver())
            self.store.save_auth(con, state, now)
            self.store.record_partition(con, access.database_name(grant.user_did, grant.app_did), grant.user_did)
        return {"token": grant.token}

    def backup_auth(self, body: Any) -> dict[str, Any]:
        """``/did/backup_auth`` on a backup node: a vault's response with a HiveBackupCredential."""
        response = body.get("challenge_response") if isinstance(body, dict) else None
        if not isinstance(response, str):
            raise HttpError(400, "body: expected {\"challenge_response\": <JWT>}")
        now = self.now()
        with self.store.transaction() as con:
            state, grant = auth.authenticate_backup(self.store.load_auth(con), response, self.service, now=now,
                                                    resolve=self.resolver())
            self.store.save_auth(con, state, now)
        return {"token": grant.token}

    def caller(self, header: str | None, *, required: bool = True, backup: bool = False) -> auth.Caller | None:
        if header is None:
            if required:
                raise HttpError(401, "missing Authorization header", "HIVE_JWT_MALFORMED")
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            raise HttpError(401, "Authorization: expected 'token <JWT>'", "HIVE_JWT_MALFORMED")
        return auth.check_token(token.strip(), service_did=self.service.did,
                                service_public_key=self.service.public_key, now=self.now(), backup=backup)

    # -- database -----------------------------------------------------------------------------------------

    def _db_change(self, caller: auth.Caller, change: Any) -> Any:
        part = access.database_name(caller.user_did, caller.app_did)
        with self.store.transaction() as con:
            before = self.store.load_database(con, part)
            after, result = change(before)
            self.store.save_database(con, part, before, after)
        return result

    def _db_read(self, caller: auth.Caller) -> db.Database:
        with self.store.transaction() as con:
            return self.store.load_database(con, access.database_name(caller.user_did, caller.app_did))

    def collections(self, caller: auth.Caller) -> dict[str, Any]:
        return {"collections": [{"name": n} for n, _ in self._db_read(caller).collections]}

    def create_collection(self, caller: auth.Caller, name: str) -> dict[str, Any]:
        return self._db_change(caller, lambda d: (db.create_collection(d, name), {"name": name}))

    def delete_collection(self, caller: auth.Caller, name: str) -> None:
        self._db_change(caller, lambda d: (db.delete_collection(d, name), None))

    def insert(self, caller: auth.Caller, name: str, body: Any) -> dict[str, Any]:
        docs = body.get("document") if isinstance(body, dict) else None
        if not isinstance(docs, list):
            raise HttpError(400, "body: expected {\"document\": [...]}")
        ids = [secrets.token_hex(12) for _ in docs]
        stamp = self.now() if _opt(body, "timestamp") else None
        return self._db_change(caller, lambda d: (db.insert(d, name, docs, ids, now=stamp),
                                                  {"acknowledged": True, "inserted_ids": ids}))

    def count(self, caller: auth.Caller, name: str, body: Any) -> dict[str, Any]:
        return {"count": db.count(self._db_read(caller), name, _member(body, "filter", {}))}

    def update(self, caller: auth.Caller, name: str, body: Any, *, many: bool) -> dict[str, Any]:
        f, u = _member(body, "filter", {}), _member(body, "update", None)
        upsert = bool(_opt(body, "upsert"))
        stamp = self.now() if _opt(body, "timestamp") else None
        uid = secrets.token_hex(12)

        def change(d: db.Database) -> Any:
            new, matched, modified, upserted = db.update(d, name, f, u, many=many, upsert=upsert, upsert_id=uid,
                                                         now=stamp)
            return new, {"acknowledged": True, "matched_count": matched, "modified_count": modified,
                         "upserted_id": upserted}
        return self._db_change(caller, change)

    def delete(self, caller: auth.Caller, name: str, body: Any, *, many: bool) -> dict[str, Any]:
        f = _member(body, "filter", {})

        def change(d: db.Database) -> Any:
            new, n = db.delete(d, name, f, many=many)
            return new, {"deleted_count": n}
        return self._db_change(caller, change)

    def find(self, caller: auth.Caller, name: str, f: Any, options: Any) -> dict[str, Any]:
        return {"items": db.find(self._db_read(caller), name, f, options)}

    # -- files ------------------------------------------------------------------------------------------------

    def _files(self, caller: auth.Caller, change: Any) -> Any:
        part = access.database_name(caller.user_did, caller.app_did)
        with self.store.transaction() as con:
            before = self.store.load_files(con, part)
            after, result = change(before, self._room(con, part, self.now()))
            if after is not None:
                self.store.save_files(con, part, after, before)
        return result

    def upload(self, caller: auth.Caller, path: str, body: Body, public: bool) -> dict[str, Any]:
        return self._upload(access.database_name(caller.user_did, caller.app_did), path, body, public)

    def _upload(self, part: str, path: str, body: Body, public: bool) -> dict[str, Any]:
        """A put through the spec, the body streamed to disk: the quota is checked on the declared size
        before a byte is stored (507 at once), the body is received, hashed and written in one pass,
        then the spec's put runs on the digest and the body is renamed into place before the
        metadata naming it commits. Only the path's neighbourhood of the partition is read."""
        fs.check_path(path)
        with self.store.transaction() as con:
            view, other = self.store.load_neighbourhood(con, part, path)
            room = self._room(con, part, self.now())
        fs.room_for(view, path, body.size, quota=room, other_bytes=other)
        got = body.receive(self.store.incoming_path(), public=public)
        try:
            now = self.now()
            with self.store.transaction() as con:
                view, other = self.store.load_neighbourhood(con, part, path)
                after = fs.put_digest(view, path, size=got.size, sha256=got.sha256, cid=got.cid, public=public,
                                      now=now, quota=self._room(con, part, now), other_bytes=other)
                self.store.publish_blob(got.path, got.sha256, synced=True)
                self.store.save_files(con, part, after, view)
        finally:
            got.discard()
        e = after.find(path)
        assert e is not None
        return {"name": path, "cid": e.cid}

    def _file(self, caller: auth.Caller, path: str) -> fs.FileEntry:
        """The spec's ``get`` on the path's neighbourhood (one file's rows, not the partition's)."""
        fs.check_path(path)
        with self.store.transaction() as con:
            view, _ = self.store.load_neighbourhood(con, access.database_name(caller.user_did, caller.app_did), path)
        return fs.get(view, path)

    def download(self, caller: auth.Caller, path: str) -> Path:
        """The body's file (sent with ``sendfile``, never read whole)."""
        return self.store.blob_path(self._file(caller, path).sha256)

    def children(self, caller: auth.Caller, path: str) -> dict[str, Any]:
        kids = self._files(caller, lambda f, room: (None, fs.listing(f, path)))
        return {"value": [{"name": c.name, "is_file": c.is_file, "size": c.size, "is_encrypt": False,
                           "encrypt_method": ""} for c in kids]}

    def metadata(self, caller: auth.Caller, path: str) -> dict[str, Any]:
        e = self._file(caller, path)
        return {"name": e.path, "is_file": True, "size": e.size, "created": e.created, "updated": e.modified,
                "sha256": e.sha256, "cid": e.cid, "public": e.public}

    def file_hash(self, caller: auth.Caller, path: str) -> dict[str, Any]:
        e = self._file(caller, path)
        return {"name": e.path, "algorithm": "SHA256", "hash": e.sha256}

    def copy(self, caller: auth.Caller, src: str, dst: str) -> dict[str, Any]:
        now = self.now()
        return self._files(caller, lambda f, room: (fs.copy(f, src, dst, now=now, quota=room), {"name": dst}))

    def move(self, caller: auth.Caller, src: str, dst: str) -> dict[str, Any]:
        now = self.now()
        return self._files(caller, lambda f, room: (fs.move(f, src, dst, now=now), {"name": dst}))

    def delete_file(self, caller: auth.Caller, path: str) -> None:
        self._files(caller, lambda f, room: (fs.delete(f, path), None))

    # -- home-folder sync -----------------------------------------------------------------------------------

    def manifest(self, caller: auth.Caller) -> dict[str, Any]:
        part = access.database_name(caller.user_did, caller.app_did)
        with self.store.transaction() as con:
            remote = self.store.load_manifest(con, part)
        return {"manifest": [{"path": e.path, "version": e.version, "sha256": e.sha256, "size": e.size}
                             for _, e in sorted(remote.items())]}

    def sync_write(self, caller: auth.Caller, path: str, body: Body | Received | None, base: int,
                   session: str | None = None) -> dict[str, Any]:
        """An upload (``body``) or delete (``None``) that replaces version ``base`` (HSYNC-002). The body
        is streamed to disk first; only the path's neighbourhood of the partition is read. ``session``: the
        upload session whose bytes these are (its reserved room is the write's own)."""
        part = access.database_name(caller.user_did, caller.app_did)
        fs.check_path(path)
        if isinstance(body, Body):
            with self.store.transaction() as con:
                cur = self.store.load_manifest(con, part, [path]).get(path)
                view, other = self.store.load_neighbourhood(con, part, path)
                room = self._room(con, part, self.now())
            # refused before a byte is stored: a stale base (HSYNC-002), no room (HFS-004)
            sync.apply_write({path: cur} if cur else {}, path, None, 0, base)
            fs.room_for(view, path, body.size, quota=room, other_bytes=other)
            body = body.receive(self.store.incoming_path(), public=False)
        try:
            now = self.now()
            with self.store.transaction() as con:
                remote = self.store.load_manifest(con, part, [path])
                digest = body.sha256 if body is not None else None
                # the spec's compare-and-swap (HSYNC-002): the write must name the current version
                sync.apply_write(remote, path, digest, body.size if body is not None else 0, base)
                files, other = self.store.load_neighbourhood(con, part, path)
                if body is None:
                    after = fs.delete(files, path) if files.find(path) is not None else files
                else:
                    after = fs.put_digest(files, path, size=body.size, sha256=body.sha256, cid=None, public=False,
                                          now=now, quota=self._room(con, part, now, session), other_bytes=other)
                    self.store.publish_blob(body.path, body.sha256, synced=True)
                self.store.save_files(con, part, after, files)
                if body is None and files.find(path) is None:
                    cur = remote.get(path)
                    self.store.save_manifest(con, part,
                                             sync.apply_write(remote, path, None, 0, cur.version if cur else 0))
                entry = self.store.load_manifest(con, part, [path])[path]
        finally:
            if body is not None:
                body.discard()
        return {"path": path, "version": entry.version, "sha256": entry.sha256}

    def upload_start(self, caller: auth.Caller, body: Any) -> dict[str, Any]:
        """Open a session (HSYNC-005: it lives ``UPLOAD_LIFETIME`` from now, renewed by each chunk). Its
        declared size is held against the quota from now until it finishes or expires (HFS-004 at once)."""
        path, size, digest = _member(body, "path", None), _member(body, "size", None), _member(body, "sha256", None)
        if not isinstance(path, str) or not isinstance(size, int) or not isinstance(digest, str):
            raise HttpError(400, "body: expected {\"path\", \"size\", \"sha256\"}")
        now = self.now()
        s = sync.start_upload(path, size, digest, now=now)
        part = access.database_name(caller.user_did, caller.app_did)
        uid = secrets.token_hex(16)
        with self.store.transaction() as con:
            view, other = self.store.load_neighbourhood(con, part, path)
            fs.room_for(view, path, size, quota=self._room(con, part, now), other_bytes=other)
            self.store.start_upload(con, uid, part, path, size, digest, s.expires)
        return {"upload_id": uid, "received": 0, "expires": s.expires}

    def _session(self, caller: auth.Caller, uid: str, *, renew: bool = False) -> tuple[sync.UploadSession, int]:
        """The live session (its bytes stay on disk) and how many bytes it holds; with ``renew``, its lifetime
        starts again now (a chunk is about to be appended). An expired session's bytes are dropped and the
        call is refused (HSYNC-005)."""
        now = self.now()
        with self.store.transaction() as con:
            row = self.store.get_upload(con, uid)
            if row is None or row[0] != access.database_name(caller.user_did, caller.app_did):
                raise HttpError(404, "no such upload", Reason.HIVE_FILE_NOT_FOUND.value)
            s = sync.UploadSession(path=row[1], size=row[2], sha256=row[3], expires=row[4])
            if now < s.expires and renew:
                self.store.renew_upload(con, uid, sync.upload_expiry(now))
        if now >= s.expires:
            self.store.upload_path(uid).unlink(missing_ok=True)
        sync.check_live(s, now)
        return s, self.store.upload_path(uid).stat().st_size

    def upload_cancel(self, caller: auth.Caller, uid: str) -> None:
        """Give a session up (live or expired): its partial bytes go, and the room it held is free at once."""
        with self.store.transaction() as con:
            row = self.store.get_upload(con, uid)
            if row is None or row[0] != access.database_name(caller.user_did, caller.app_did):
                raise HttpError(404, "no such upload", Reason.HIVE_FILE_NOT_FOUND.value)
            self.store.end_upload(con, uid)

    def upload_status(self, caller: auth.Caller, uid: str) -> dict[str, Any]:
        s, received = self._session(caller, uid)
        return {"upload_id": uid, "received": received, "size": s.size, "expires": s.expires}

    def upload_chunk(self, caller: auth.Caller, uid: str, offset: int, chunk: Body) -> dict[str, Any]:
        """Append a chunk (HSYNC-005 and HSYNC-003 on the declared length, before it is read; the session's
        lifetime starts again), streamed to the session's file and flushed. A chunk cut short leaves the
        bytes that arrived: the session holds them.

        The chunk is written at its ``offset``, not appended: the check and the write are not one step (the
        body streams from the network outside the store's lock), so two chunks sent at one offset at once (a
        client retrying a chunk that is still arriving, or whose cut connection the vault has not noticed yet)
        both pass HSYNC-003. Appended, both landed and the session held more than its size for ever; written
        at the offset, the second writes the same bytes over the first, and the session never exceeds the
        size HSYNC-003 checked (a chunk that differs fails the digest at the finish, HSYNC-004)."""
        s, received = self._session(caller, uid, renew=True)
        sync.check_chunk(received, s.size, offset, chunk.size)
        try:
            f = open(self.store.upload_path(uid), "r+b")
        except FileNotFoundError:  # given up (or finished) since the check
            raise HttpError(404, "no such upload", Reason.HIVE_FILE_NOT_FOUND.value) from None
        with f:
            f.seek(offset)
            try:
                chunk.copy_to(f)
            finally:
                f.flush()
                os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
        return {"upload_id": uid, "received": size}

    def upload_finish(self, caller: auth.Caller, uid: str, base: int) -> dict[str, Any]:
        """Check the session is live and complete with its digest (HSYNC-005, HSYNC-004, one pass over its
        file), then write it like a sync upload; the session's file is linked, not copied, into the blob
        store, and the room it held becomes the file's."""
        s, _ = self._session(caller, uid)
        src = self.store.upload_path(uid)
        tmp = self.store.incoming_path()
        os.link(src, tmp)
        got = Received.of_file(tmp)
        try:
            sync.check_finished(s, got.size, got.sha256)
            out = self.sync_write(caller, s.path, got, base, session=uid)
        finally:
            got.discard()
        with self.store.transaction() as con:
            self.store.end_upload(con, uid)
        return out

    # -- backup: the vault's side ------------------------------------------------------------------------

    def _backup_node(self, credential: Any) -> tuple[Any, str]:
        """Sign in to the backup node a HiveBackupCredential names; a client holding the BackupToken."""
        from reference.hive.client import HiveClient

        if not isinstance(credential, str):
            raise HttpError(400, "body: expected {\"credential\": <HiveBackupCredential>}")
        try:
            parsed = json.loads(credential)
        except (ValueError, RecursionError):
            parsed = None  # the node checks the credential (HAUTH-016); here it only has to name the node
        subject = parsed.get("credentialSubject") if isinstance(parsed, dict) else None
        url = subject.get("targetNodeURL") if isinstance(subject, dict) else None
        if not isinstance(url, str) or not url.startswith("http://127.0.0.1:"):
            raise HttpError(400, "the credential's targetNodeURL is not a loopback vault")
        node = HiveClient(url)
        now = self.now()
        docs = self.store.documents()
        challenge = node.request("POST", "did/signin", {"id": json.loads(docs[self.service.did])}, auth_header=False)
        node_did, nonce = auth.check_challenge(challenge["challenge"], self.service.did, now=now,
                                               resolve=self.resolver())
        vp = identity.create_presentation(self.service.private_key, (credential,), realm=node_did, nonce=nonce,
                                          created=now)
        response = auth.make_response(vp, instance_did=self.service.did, key_id=self.service.key_id,
                                      private_key=self.service.private_key, service_did=node_did, now=now)
        node.token = node.request("POST", "did/backup_auth", {"challenge_response": response}, auth_header=False)["token"]
        return node, node_did

    def backup_to_node(self, caller: auth.Caller, body: Any) -> dict[str, Any]:
        """``POST /vault/content?to=hive_node``: every partition of the caller's user, to the backup node."""
        node, _ = self._backup_node(_member(body, "credential", None))
        dumps: dict[str, bytes] = {}
        bodies: dict[str, tuple[bytes, int]] = {}
        with self.store.transaction() as con:
            for part in self.store.partitions_of(con, caller.user_did):
                files = self.store.load_files(con, part)
                dumps[part] = backup.dump(part, self.store.load_database(con, part), files)
                for e in files.entries:
                    data, n = bodies.get(e.sha256, (self.store.get_blob(e.sha256), 0))
                    bodies[e.sha256] = (data, n + 1)
        meta, blobs = backup.build_metadata(caller.user_did, dumps, bodies, key=secrets.token_bytes(backup.KEY_SIZE),
                                            nonce=secrets.token_bytes(backup.NONCE_SIZE), create_time=self.now())
        node.request("PUT", "vault-backup-service/backup", {
            "metadata": meta, "blobs": {h: b.hex() for h, b in blobs.items()},
            "bodies": {h: b.hex() for h, (b, _) in bodies.items()}})
        return {"state": "done", "databases": len(dumps), "files": sum(n for _, n in bodies.values())}

    def restore_from_node(self, caller: auth.Caller, body: Any) -> dict[str, Any]:
        """``POST /vault/content?from=hive_node``: bring the user's partitions back from the backup node."""
        node, _ = self._backup_node(_member(body, "credential", None))
        got = node.request("GET", "vault-backup-service/restore")
        parts = self._import_backup(caller.user_did, got)
        return {"state": "done", "databases": parts}

    def _import_backup(self, user_did: str, got: Any) -> int:
        meta = got.get("metadata") if isinstance(got, dict) else None
        if not isinstance(meta, dict) or meta.get("user_did") != user_did:
            raise HttpError(400, "the backup is not this user's")
        parts = backup.restore(meta, _hex_map(got, "blobs"))
        with self.store.transaction() as con:
            for h, data in _hex_map(got, "bodies").items():
                if hashlib.sha256(data).hexdigest() != h:
                    raise HttpError(400, "a file body does not match its digest", Reason.HIVE_BACKUP_MALFORMED.value)
                self.store.put_blob(data)
            for name, (database, files) in parts.items():
                missing = [e.path for e in files.entries if not self.store.blob_path(e.sha256).exists()]
                if missing:
                    raise HttpError(400, f"bodies missing for {missing[:3]}", Reason.HIVE_BACKUP_MALFORMED.value)
                self.store.save_database(con, name, self.store.load_database(con, name), database)
                self.store.save_files(con, name, files)
                self.store.record_partition(con, name, user_did)
        return len(parts)

    # -- backup: the backup node's side ---------------------------------------------------------------------

    def store_backup(self, caller: auth.Caller, body: Any) -> dict[str, Any]:
        """``PUT /vault-backup-service/backup`` (BackupToken): keep the user's backup, checked whole."""
        meta = _member(body, "metadata", None)
        blobs, bodies = _hex_map(body, "blobs"), _hex_map(body, "bodies")
        backup.restore(meta, blobs)  # every dump is there, with its digest, and opens
        if meta.get("user_did") != caller.user_did:
            raise HttpError(403, "the backup is not the token's user's", Reason.HIVE_ACCESS_DENIED.value)
        if {f["sha256"] for f in meta["files"]} != set(bodies) or any(
                hashlib.sha256(b).hexdigest() != h for h, b in bodies.items()):
            raise HttpError(400, "file bodies do not match the metadata", Reason.HIVE_BACKUP_MALFORMED.value)
        with self.store.transaction() as con:
            _, active = self.store.load_backup(con, caller.user_did)
            node = backup.store_backup(backup.BackupNode(active_vault=active), meta)
            for b in [*blobs.values(), *bodies.values()]:
                self.store.put_blob(b)
            self.store.save_backup(con, caller.user_did, node.backup or meta, node.active_vault)
        return {"state": "stored"}

    def read_backup(self, caller: auth.Caller) -> dict[str, Any]:
        """``GET /vault-backup-service/restore`` (BackupToken): the stored backup, dumps and bodies. The
        blobs are read in the transaction that reads the metadata, under the store's lock: a backup
        replaced meanwhile (whose commit collects the blobs only the old one named) waits until they are
        read, so the answer is one whole backup, never a 500 for a blob collected in between."""
        with self.store.transaction() as con:
            meta, active = self.store.load_backup(con, caller.user_did)
            meta = backup.require_backup(backup.BackupNode(backup=meta, active_vault=active))
            return {"metadata": meta,
                    "blobs": {d["sha256"]: self.store.get_blob(d["sha256"]).hex() for d in meta["databases"]},
                    "bodies": {f["sha256"]: self.store.get_blob(f["sha256"]).hex() for f in meta["files"]}}

    def promote(self, caller: auth.Caller) -> dict[str, Any]:
        """``POST /backup/promotion`` (the user's AccessToken on the backup node): serve the backup as the vault."""
        with self.store.transaction() as con:
            meta, active = self.store.load_backup(con, caller.user_did)
        node = backup.promote(backup.BackupNode(backup=meta, active_vault=active))
        assert node.backup is not None
        parts = self._import_backup(caller.user_did, self.read_backup(caller))
        with self.store.transaction() as con:
            self.store.save_backup(con, caller.user_did, node.backup, True)
        return {"state": "promoted", "databases": parts}

    # -- scripting ---------------------------------------------------------------------------------------------

    def register_script(self, caller: auth.Caller, name: str, definition: Any) -> dict[str, Any]:
        script = scripts.parse_script(name, definition)
        part = access.database_name(caller.user_did, caller.app_did)
        with self.store.transaction() as con:
            self.store.save_script(con, part, script.name, definition)
        return {name: {"name": name}}

    def unregister_script(self, caller: auth.Caller, name: str) -> None:
        part = access.database_name(caller.user_did, caller.app_did)
        with self.store.transaction() as con:
            if not self.store.delete_script(con, part, name):
                raise HttpError(404, f"no script {name!r}", Reason.HIVE_SCRIPT_NOT_FOUND.value)

    def run_script(self, caller: auth.Caller | None, name: str, body: Any) -> dict[str, Any]:
        ctx = body.get("context") if isinstance(body, dict) else None
        if not isinstance(ctx, dict) or not isinstance(ctx.get("target_did"), str) or not isinstance(
                ctx.get("target_app_did"), str):
            raise HttpError(400, "body: expected {\"context\": {\"target_did\", \"target_app_did\"}, \"params\"}")
        part = access.database_name(ctx["target_did"], ctx["target_app_did"])
        now = self.now()
        with self.store.transaction() as con:
            data = self.store.load_partition(con, part)
            new, result = scripts.run(data, name, caller, body.get("params", {}), id_prefix=secrets.token_hex(8) + "-",
                                      now=now)
            self.store.save_database(con, part, data.database, new.database)
            for out in result.values():
                tx = out.get("transaction") if isinstance(out, dict) else None
                if isinstance(tx, dict):
                    tid = secrets.token_hex(16)
                    self.store.add_transaction(con, tid, part, tx["action"], tx["path"], now + TRANSACTION_LIFETIME)
                    del out["transaction"]
                    out["transaction_id"] = tid
        return result

    def _transaction(self, tid: str, action: str) -> tuple[str, str]:
        with self.store.transaction() as con:
            t = self.store.take_transaction(con, tid, self.now())
        if t is None or t[1] != action:
            raise HttpError(404, "no such transaction", Reason.HIVE_FILE_NOT_FOUND.value)
        return t[0], t[2]

    def stream_upload(self, tid: str, body: Body) -> dict[str, Any]:
        part, path = self._transaction(tid, "upload")
        return self._upload(part, path, body, False)

    def stream_download(self, tid: str) -> Path:
        part, path = self._transaction(tid, "download")
        with self.store.transaction() as con:
            e = fs.get(self.store.load_neighbourhood(con, part, path)[0], path)
        return self.store.blob_path(e.sha256)


class Received:
    """A body received into a temporary file: its size, SHA-256 and CIDv0 (when public), from one pass."""

    def __init__(self, path: Path, digest: fs.BodyDigest) -> None:
        self.path = path
        self.size, self.sha256, self.cid = digest.size, digest.sha256(), digest.cid()

    @classmethod
    def of_file(cls, path: Path) -> Received:
        digest = fs.BodyDigest(public=False)
        buf = bytearray(IO_CHUNK)
        view = memoryview(buf)
        with open(path, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                digest.update(view[:n])
        return cls(path, digest)

    def discard(self) -> None:
        """Remove the temporary file unless it was published."""
        self.path.unlink(missing_ok=True)


class Body:
    """A request body not read yet: ``size`` from Content-Length, read once by :meth:`receive` or
    :meth:`copy_to`, in pieces of at most ``IO_CHUNK``."""

    def __init__(self, rfile: Any, size: int) -> None:
        self._rfile, self.size, self.consumed = rfile, size, False

    def copy_to(self, out: Any, digest: fs.BodyDigest | None = None, *, writeback: bool = False) -> None:
        """Write the body to the file ``out``, updating ``digest`` (:func:`reference.hive.stream.copy_hashed`:
        a large body's SHA-256, and a public body's CIDv0 leaves, are computed on threads of their own, at
        the same time, while the next piece arrives). With ``writeback``, the
        kernel is asked to start writing each ``WRITEBACK_EVERY`` bytes to disk as they are written. A body
        cut short raises ``ConnectionError`` after writing what arrived."""
        if self.consumed:
            raise RuntimeError("the request body was read already")
        self.consumed = True
        on_written = _writeback(out.fileno()) if writeback and _start_writeback is not None else None
        # each piece filled whole (IO_CHUNK): handing the hashing threads one piece per socket read (often
        # 64 KiB) costs more in thread hand-offs than it saves
        got = copy_hashed(self._rfile.readinto, out.write, self.size, digest.parts() if digest is not None else (),
                          written=on_written, piece=IO_CHUNK)
        if got < self.size:
            raise ConnectionError(f"the request body ended {self.size - got} bytes short")

    def receive(self, tmp: Path, *, public: bool) -> Received:
        """The body in the temporary file ``tmp``, hashed as it arrives and flushed to disk."""
        digest = fs.BodyDigest(public=public)
        try:
            with open(tmp, "wb", buffering=0) as f:
                self.copy_to(f, digest, writeback=True)
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Received(tmp, digest)

    def drain(self) -> None:
        """Read and drop a body no route took, so the connection can carry the next request."""
        if not self.consumed:
            self.copy_to(_Sink())


def _writeback(fd: int) -> Any:
    """A ``written`` callback for :func:`~reference.hive.stream.copy_hashed`: each ``WRITEBACK_EVERY`` bytes
    written to ``fd``, start writing them to disk (``sync_file_range``), so the final ``fsync`` finds
    little left to do."""
    started = 0

    def on_written(total: int) -> None:
        nonlocal started
        if total - started >= WRITEBACK_EVERY:
            _start_writeback(fd, started, total - started)
            started = total
    return on_written


class _Sink:
    def write(self, data: Any) -> None:
        pass


class _Documents(dict[str, str]):
    """Known document texts by DID; a DID not known is looked up on the ID chain (``did_resolveDID``:
    the newest transaction of a valid DID carries the document as its payload)."""

    def __init__(self, known: dict[str, str], idchain: str | None) -> None:
        super().__init__(known)
        self.idchain = idchain

    def get(self, did: str, default: Any = None) -> Any:  # type: ignore[override]
        if did in self or self.idchain is None:
            return super().get(did, default)
        from spec.did import chain
        from spec.did import request as R

        from reference.node.rpc import RpcClient, RpcError

        try:
            result = RpcClient(self.idchain).call("did_resolveDID", did=did)
        except (RpcError, OSError, ValueError):
            return default
        txs = result.get("transaction") or []
        if result.get("status") != chain.STATUS_VALID or not txs:
            return default
        try:
            req = R.parse_request(json.dumps(txs[0]["operation"]))
            text = R.b64url_decode(req.payload).decode("utf-8")
        except (Reject, KeyError, TypeError, UnicodeDecodeError):
            return default
        self[did] = text
        return text


def _member(body: Any, key: str, default: Any) -> Any:
    if not isinstance(body, dict):
        raise HttpError(400, "body: expected a JSON object")
    v = body.get(key, default)
    if v is None:
        raise HttpError(400, f"body: {key!r} is required")
    return v


def _hex_map(body: Any, key: str) -> dict[str, bytes]:
    """``{sha256: hex}`` of a backup message, decoded."""
    v = body.get(key, {}) if isinstance(body, dict) else None
    if not isinstance(v, dict) or not all(isinstance(h, str) and isinstance(b, str) for h, b in v.items()):
        raise HttpError(400, f"{key}: expected an object of hex strings")
    try:
        return {h: bytes.fromhex(b) for h, b in v.items()}
    except ValueError:
        raise HttpError(400, f"{key}: not hex") from None


def _unquote(text: str) -> str:
    """A file path or a name from the URL: percent-decoded as UTF-8, bytes that are not UTF-8 as lone
    surrogates, which the spec's path and name rules refuse (HFS-001, HSCR-001, HDB-004), so two different
    byte strings never decode to one name (``errors="replace"`` would read ``%ff`` and ``%fe`` both as
    U+FFFD)."""
    return urllib.parse.unquote(text, errors="surrogateescape")


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _finite(text: str) -> float:
    x = float(text)
    if x in (float("inf"), float("-inf")):
        raise ValueError(f"{text}: out of a double's range")
    return x


def _loads(text: str | bytes, what: str) -> Any:
    """A request's JSON: RFC 8259 text (no NaN or Infinity, no number beyond a double's range, which JSON
    cannot carry back and PostgreSQL's JSONB refuses), nested at most ``MAX_JSON_DEPTH`` deep; else 400."""
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError):
        raise HttpError(400, f"{what}: not JSON") from None
    if db.json_depth(value) > MAX_JSON_DEPTH:
        raise HttpError(400, f"{what}: nested deeper than {MAX_JSON_DEPTH}")
    return value


def _is_digits(v: str) -> bool:
    """Only the ASCII digits 0-9 (``str.isdigit`` also holds for ``"²"``, which ``int`` refuses, and ``"٣"``)."""
    return v.isascii() and v.isdigit()


def _int_param(q: dict[str, str], key: str) -> int:
    v = q.get(key, "")
    if not _is_digits(v):
        raise HttpError(400, f"{key}: expected a non-negative integer")
    return int(v)


def _opt(body: Any, key: str) -> Any:
    opts = body.get("options") if isinstance(body, dict) else None
    return opts.get(key) if isinstance(opts, dict) else None


class _Handler(BaseHTTPRequestHandler):
    vault: Vault
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None, raw: bytes | Path | None = None) -> None:
        if isinstance(raw, Path):
            self._send_file(status, raw)
            return
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_file(self, status: int, path: Path) -> None:
        """A body straight from its file: ``sendfile`` (zero copy), never read into memory. A blob collected
        between the look-up and the open (its last file deleted meanwhile) is 404, as the file now is; once
        open, the body is sent whole even if it is collected during the send."""
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            raise HttpError(404, "the file was deleted meanwhile", Reason.HIVE_FILE_NOT_FOUND.value) from None
        with f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.connection.sendfile(f)

    def _body(self) -> Body:
        """The request body as a stream (file routes); over ``MAX_BODY`` is 413."""
        n = self._content_length()
        if n > MAX_BODY:
            raise HttpError(413, f"body over {MAX_BODY} bytes")
        self._request_body = Body(self.rfile, n)
        return self._request_body

    def _content_length(self) -> int:
        """The body's length, from the framing checked before routing (:meth:`_framing`)."""
        assert self._length is not None
        return self._length

    def _framing(self) -> int:
        """Where the request's body ends: its one ``Content-Length`` (0 without). A body in a transfer coding
        is 411 (the vault needs the declared length before the body: the quota is checked on it, HFS-004);
        a length that is not ASCII digits, or two lengths that differ, is 400. Either way the connection
        is closed after the answer: where the body ends is unknown, so the next request cannot be found."""
        if self.headers.get_all("Transfer-Encoding"):
            raise HttpError(411, "Transfer-Encoding: send the body with a Content-Length")
        values = {v.strip() for line in self.headers.get_all("Content-Length") or [] for v in line.split(",")}
        if len(values) > 1 or not all(_is_digits(v) for v in values):
            raise HttpError(400, "Content-Length: expected one non-negative integer")
        return int(values.pop()) if values else 0

    def _raw_body(self) -> bytes:
        body = self._body()
        out = io.BytesIO()
        body.copy_to(out)
        return out.getvalue()

    def _json(self) -> Any:
        raw = self._raw_body()
        return _loads(raw, "body") if raw else {}

    def _dispatch(self, method: str) -> None:
        self._request_body: Body | None = None
        self._length: int | None = None
        try:
            self._length = self._framing()
            if not self.path.isascii():  # RFC 3986: a target is ASCII; other bytes are percent-encoded
                raise HttpError(400, "request target: not ASCII (percent-encode it)")
            url = urllib.parse.urlsplit(self.path)
            # bytes that are not UTF-8 decode to lone surrogates, which no path, name or value admits (a path:
            # HFS-001), instead of to U+FFFD, which made two different names one
            q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True,
                                                            errors="surrogateescape").items()}
            status, body, raw = self._route(method, url.path, q)
            self._finish_body()
            self._send(status, body, raw)
        except (ConnectionError, TimeoutError):  # the client went away, or went quiet (IDLE_TIMEOUT), in the
            self.close_connection = True          # middle of its body: nobody to answer
        except Reject as e:
            self._finish_body()
            self._send(status_of(e.reason), {"error": {"message": e.detail or str(e), "reason": e.reason.value,
                                                       "rule": e.rule}})
        except HttpError as e:
            self._finish_body()
            self._send(e.status, {"error": {"message": e.message, "reason": e.reason, "rule": None}})
        except HiveError as e:  # a backup node this vault called refused: 502, with the node's reason
            self._finish_body()
            self._send(502, {"error": {"message": f"backup node: {e.message}", "reason": e.reason, "rule": None}})
        except Exception as e:  # noqa: BLE001 - a fault of the vault (or of a backup node it called)
            self._finish_body()
            self._send(500, {"error": {"message": f"{type(e).__name__}: {e}", "reason": "INTERNAL", "rule": None}})

    def _finish_body(self) -> None:
        """Before answering, read what is left of a body the route did not take (an upload refused before it
        was read), so a keep-alive client reads the answer; a body too large to drain closes the connection."""
        body = self._request_body
        if self._length is None:  # bad framing: nothing more is read from this connection
            self.close_connection = True
            return
        try:
            if body is None:
                n = self._content_length()
                if n:
                    body = Body(self.rfile, n)
            if body is not None and not body.consumed:
                if body.size > MAX_BODY:
                    self.close_connection = True
                    body.consumed = True
                else:
                    body.drain()
        except (HttpError, ConnectionError, TimeoutError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _route(self, method: str, path: str, q: dict[str, str]) -> tuple[int, Any, bytes | Path | None]:
        v = self.vault
        if not path.startswith("/api/v2/"):
            raise HttpError(404, "not found")
        p = path[len("/api/v2/"):]
        if (method, p) == ("POST", "did/signin"):
            return 201, v.sign_in(self._json()), None
        if (method, p) == ("POST", "did/auth"):
            return 201, v.auth(self._json()), None
        if (method, p) == ("POST", "did/backup_auth"):
            return 201, v.backup_auth(self._json()), None
        if p.startswith("vault-backup-service/"):
            node_caller = v.caller(self.headers.get("Authorization"), backup=True)
            assert node_caller is not None
            if (method, p) == ("PUT", "vault-backup-service/backup"):
                return 201, v.store_backup(node_caller, self._json()), None
            if (method, p) == ("GET", "vault-backup-service/restore"):
                return 200, v.read_backup(node_caller), None
            raise HttpError(404, f"no route {method} {path}")
        if (method, p) == ("GET", "node/version"):
            return 200, {"major": 2, "minor": 0, "patch": 0}, None
        m = re.fullmatch(r"vault/scripting/stream/([0-9a-f]+)", p)
        if m:
            if method == "PUT":
                return 200, v.stream_upload(m.group(1), self._body()), None
            if method == "GET":
                return 200, None, v.stream_download(m.group(1))
        m = re.fullmatch(r"vault/scripting/([^/]+)", p)
        if m and method == "PATCH":
            body = self._json()
            return 200, v.run_script(v.caller(self.headers.get("Authorization"), required=False),
                                     _unquote(m.group(1)), body), None
        caller = v.caller(self.headers.get("Authorization"))
        assert caller is not None
        if m and method == "PUT":
            return 200, v.register_script(caller, _unquote(m.group(1)), self._json()), None
        if m and method == "DELETE":
            v.unregister_script(caller, _unquote(m.group(1)))
            return 204, None, None
        if (method, p) == ("POST", "vault/content") and q.get("to") == "hive_node":
            return 201, v.backup_to_node(caller, self._json()), None
        if (method, p) == ("POST", "vault/content") and q.get("from") == "hive_node":
            return 201, v.restore_from_node(caller, self._json()), None
        if (method, p) == ("POST", "backup/promotion"):
            return 201, v.promote(caller), None
        if (method, p) == ("GET", "vault/sync/manifest"):
            return 200, v.manifest(caller), None
        m = re.fullmatch(r"vault/sync/files/(.+)", p)
        if m and method in ("PUT", "DELETE"):
            base = _int_param(q, "base")
            body = self._body() if method == "PUT" else None
            return 200, v.sync_write(caller, _unquote(m.group(1)), body, base), None
        if (method, p) == ("POST", "vault/sync/uploads"):
            return 201, v.upload_start(caller, self._json()), None
        m = re.fullmatch(r"vault/sync/uploads/([0-9a-f]+)", p)
        if m and method == "GET":
            return 200, v.upload_status(caller, m.group(1)), None
        if m and method == "PUT":
            return 200, v.upload_chunk(caller, m.group(1), _int_param(q, "offset"), self._body()), None
        if m and method == "POST":
            return 200, v.upload_finish(caller, m.group(1), _int_param(q, "base")), None
        if m and method == "DELETE":
            v.upload_cancel(caller, m.group(1))
            return 204, None, None
        if (method, p) == ("GET", "vault/db/collections"):
            return 200, v.collections(caller), None
        m = re.fullmatch(r"vault/db/collections/([^/]+)", p)
        if m and method in ("PUT", "DELETE"):
            name = _unquote(m.group(1))
            if method == "PUT":
                return 200, v.create_collection(caller, name), None
            v.delete_collection(caller, name)
            return 204, None, None
        m = re.fullmatch(r"vault/db/collection/([^/]+)", p)
        if m:
            name = _unquote(m.group(1))
            if method == "POST" and q.get("op") == "count":
                return 200, v.count(caller, name, self._json()), None
            if method == "POST":
                return 201, v.insert(caller, name, self._json()), None
            if method == "PATCH":
                return 200, v.update(caller, name, self._json(), many=q.get("updateone", "true") == "false"), None
            if method == "DELETE":
                return 200, v.delete(caller, name, self._json(), many=q.get("deleteone", "true") == "false"), None
        if (method, p) == ("POST", "vault/db/query"):
            body = self._json()
            return 200, v.find(caller, _member(body, "collection", None), _member(body, "filter", {}),
                               body.get("options")), None
        m = re.fullmatch(r"vault/db/([^/]+)", p)
        if m and method == "GET":
            f = _loads(q.get("filter") or "{}", "filter")
            opts: dict[str, Any] = {}
            for k in ("skip", "limit"):
                if q.get(k):
                    if not _is_digits(q[k]):
                        raise HttpError(400, f"{k}: not a number")
                    opts[k] = int(q[k])
            return 200, v.find(caller, _unquote(m.group(1)), f, opts), None
        if p == "vault/files" or p.startswith("vault/files/"):
            fpath = _unquote(p[len("vault/files/"):] if p != "vault/files" else "")
            return self._files(method, caller, fpath, q)
        raise HttpError(404, f"no route {method} {path}")

    def _files(self, method: str, caller: auth.Caller, path: str,
               q: dict[str, str]) -> tuple[int, Any, bytes | Path | None]:
        v = self.vault
        if method == "GET":
            comp = q.get("comp")
            if comp == "children":
                return 200, v.children(caller, path), None
            if comp == "metadata":
                return 200, v.metadata(caller, path), None
            if comp == "hash":
                return 200, v.file_hash(caller, path), None
            return 200, None, v.download(caller, path)
        if method == "PUT" and "dest" in q:
            return 201, v.copy(caller, path, q["dest"]), None
        if method == "PUT":
            return 200, v.upload(caller, path, self._body(), q.get("public") == "true"), None
        if method == "PATCH" and "to" in q:
            return 200, v.move(caller, path, q["to"]), None
        if method == "DELETE":
            v.delete_file(caller, path)
            return 204, None, None
        raise HttpError(400, "unsupported file operation")


class HiveServer:
    """The HTTP server around a :class:`Vault`, on 127.0.0.1."""

    def __init__(self, vault: Vault, port: int = 0, *, housekeeping_every: float = HOUSEKEEPING_EVERY,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        # the handler's timeout is set on each connection's socket (socketserver.StreamRequestHandler)
        handler = type("Handler", (_Handler,), {"vault": vault, "timeout": idle_timeout})
        self.vault = vault
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._stopped = False
        self._every = housekeeping_every
        self._quit = threading.Event()
        self._janitor = threading.Thread(target=self._housekeeping, daemon=True)

    def start(self) -> HiveServer:
        self._thread.start()
        self._janitor.start()
        return self

    def _housekeeping(self) -> None:
        while not self._quit.wait(self._every):
            try:
                self.vault.housekeeping()
            except Exception:  # a failed round (the database away for a moment) is tried again next time
                continue

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._quit.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._janitor.is_alive():
            self._janitor.join()


def load_service_key(datadir: Path) -> bytes:
    """The vault's service key, drawn on first start and kept in ``service.key`` (hex)."""
    path = datadir / "service.key"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    while True:
        key = secrets.token_bytes(32)
        try:
            p256.public_key_from_private(key)
            break
        except Reject:
            continue
    path.write_text(key.hex())
    path.chmod(0o600)
    return key


def run(datadir: str, port: int, quota: int, documents: list[str], postgres: str | None = None,
        idchain: str | None = None, *, housekeeping_every: float = HOUSEKEEPING_EVERY) -> int:
    """``elastos hive serve``: serve until SIGTERM or SIGINT, with a housekeeping round every
    ``housekeeping_every`` seconds (``--housekeeping-interval``)."""
    from reference.signals import StopFlag

    folder = Path(datadir)
    folder.mkdir(parents=True, exist_ok=True)
    store = HiveStore(folder, postgres)
    vault = Vault(store, load_service_key(folder), quota=quota, idchain=idchain)
    for path in documents:
        for f in sorted(Path(path).glob("*.json")) if Path(path).is_dir() else [Path(path)]:
            vault.add_document(f.read_text())
    server = HiveServer(vault, port, housekeeping_every=housekeeping_every).start()
    print(f"ready port={server.port} did={vault.service.did}", flush=True)
    stop = StopFlag()  # SIGTERM or SIGINT (reference.signals: no lock in the handler)
    while not stop.wait(0.2):
        pass
    server.stop()
    store.close()
    return 0


__all__ = ["HiveServer", "HiveStore", "Vault", "load_service_key", "run", "status_of"]
