"""The vault's storage: SQLite (or PostgreSQL) for collections, file metadata, scripts and challenges;
bodies on disk.

Every state the spec defines (:class:`spec.hive.database.Database`, :class:`spec.hive.files.Files`,
:class:`spec.hive.scripts.PartitionData`, :class:`spec.hive.auth.AuthState`) is loaded from SQLite,
changed by the spec's pure transition, and written back in one database transaction, so a failed call
changes nothing. The default database is a SQLite file in the data folder; given a DSN, the same
statements run on PostgreSQL, with documents as JSONB (what a deployment that outgrows one machine
uses). A partition is keyed by its upstream database name (``hive_user_db_<md5>``).

File bodies are content-addressed: ``blobs/<sha256[:2]>/<sha256>``. A body is streamed into a
temporary file under ``blobs/.incoming`` (hashed as it arrives), flushed to disk and renamed into
place (``os.replace``) before the metadata that names it is committed, so a vault killed mid-upload
leaves at most an unreferenced temporary file, never a half-written body behind a path; temporary
files left by a killed vault are removed when the store opens.

Blob collection
---------------

A blob is removed only when no metadata row names it: no file of any partition (``files.sha256``) and
no stored backup (the ``sha256`` of its ``databases`` and ``files``). Blobs are shared, so two files
with the same content hold one blob and deleting one of them keeps it. Two collectors, both under the
store's lock, the lock every publication of a blob and every metadata commit holds too:

* **inline**: a transaction that drops a digest (a file deleted, overwritten, restored over, a backup
  replaced) notes it; after its ``COMMIT`` the store checks each noted digest against the committed
  rows and unlinks it if nothing names it. The unlink always follows the commit, so a vault killed in
  between leaves a stray blob that nothing names, never a name without its blob.
* **sweep** (:meth:`HiveStore.sweep`): every blob file against every named digest; run when the vault
  starts and by the server's housekeeping, it collects what a crash, or an unlink that failed, left.

Because a blob is published (``os.replace``) inside the transaction that commits the row naming it,
and collection runs under the same lock on committed rows, a collector never sees a blob that a
write is about to name: either the row is committed (the blob is kept) or the write has not yet
published it (it publishes it again when it finds it missing). One vault process serves a data folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spec.hive import auth, scripts, sync
from spec.hive import database as db
from spec.hive import files as fs

def _jsonb_text(value: Any) -> str:
    """JSON text for a JSONB column that reads back as ``value`` itself. JSONB keeps a number as an exact
    decimal and writes an integral one without a decimal point, so a float that ``json.dumps`` writes with an
    exponent (``1e+16`` and beyond) would read back as an integer, and past 2**53 as another number
    (``1e+308`` is not 10**308); such a float is written as its exact integer digits and ``.0``, which
    JSONB keeps as a decimal with a fraction and writes back in that form."""
    text = json.dumps(value)
    return text if "e+" not in text else _exact_json(value)


def _exact_json(value: Any) -> str:
    if isinstance(value, float) and "e+" in repr(value):
        return f"{int(value)}.0"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_exact_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_exact_json(v) for v in value) + "]"
    return json.dumps(value)


SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (partition TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (partition, name));
CREATE TABLE IF NOT EXISTS documents (partition TEXT NOT NULL, collection TEXT NOT NULL, seq BIGINT NOT NULL,
    body {json} NOT NULL, PRIMARY KEY (partition, collection, seq));
CREATE TABLE IF NOT EXISTS files (partition TEXT NOT NULL, path TEXT NOT NULL, size BIGINT NOT NULL,
    sha256 TEXT NOT NULL, cid TEXT, public BIGINT NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL,
    PRIMARY KEY (partition, path));
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE TABLE IF NOT EXISTS scripts (partition TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,
    PRIMARY KEY (partition, name));
CREATE TABLE IF NOT EXISTS challenges (did TEXT PRIMARY KEY, nonce TEXT NOT NULL, expires BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS dids (did TEXT PRIMARY KEY, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (partition TEXT NOT NULL, path TEXT NOT NULL, version BIGINT NOT NULL,
    sha256 TEXT, size BIGINT NOT NULL, PRIMARY KEY (partition, path));
CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, partition TEXT NOT NULL, path TEXT NOT NULL,
    size BIGINT NOT NULL, sha256 TEXT NOT NULL, expires BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS partitions (name TEXT PRIMARY KEY, user_did TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS backups (user_did TEXT PRIMARY KEY, metadata TEXT NOT NULL, active BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (id TEXT PRIMARY KEY, partition TEXT NOT NULL, action TEXT NOT NULL,
    path TEXT NOT NULL, expires BIGINT NOT NULL)
"""


def _alive(pid: str) -> bool:
    """Whether the process that named a temporary file ``.<pid>-...`` still runs."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Sql:
    """One connection, SQLite or PostgreSQL, behind the statements the store writes (``?`` placeholders,
    ``ON CONFLICT DO NOTHING``, no other dialect). PostgreSQL keeps documents as JSONB."""

    def __init__(self, folder: Path, dsn: str | None) -> None:
        self.postgres = dsn is not None
        if dsn is not None:
            import psycopg

            self._con: Any = psycopg.connect(dsn, autocommit=True)
            self.json_param = "CAST(? AS JSONB)"
            for statement in SCHEMA.format(json="JSONB").split(";"):
                self._con.execute(statement)
            # a database made before sessions expired: its sessions count as expired (expires 0)
            self._con.execute("ALTER TABLE uploads ADD COLUMN IF NOT EXISTS expires BIGINT NOT NULL DEFAULT 0")
        else:
            self._con = sqlite3.connect(folder / "hive.sqlite3", check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.executescript(SCHEMA.format(json="TEXT"))
            if "expires" not in [r[1] for r in self._con.execute("PRAGMA table_info(uploads)")]:
                self._con.execute("ALTER TABLE uploads ADD COLUMN expires BIGINT NOT NULL DEFAULT 0")
            self.json_param = "?"

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        return self._con.execute(self._sql(statement), params)

    def executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._con.cursor().executemany(self._sql(statement), rows)

    def begin(self) -> None:
        self._con.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")

    def close(self) -> None:
        self._con.close()


class HiveStore:
    """One vault's storage: bodies under ``folder``, everything else in SQLite there or in PostgreSQL (``dsn``)."""

    def __init__(self, folder: str | Path, dsn: str | None = None) -> None:
        self.folder = Path(folder)
        self.blobs = self.folder / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.incoming = self.blobs / ".incoming"
        self.incoming.mkdir(exist_ok=True)
        for left in self.incoming.iterdir():  # bodies a killed vault was receiving: never referenced
            if not _alive(left.name.lstrip(".").split("-")[0]):
                left.unlink(missing_ok=True)
        self._db = Sql(self.folder, dsn)
        self._lock = threading.RLock()
        self._dropped: set[str] = set()
        """Digests the open transaction stopped naming: candidates for collection after its commit."""

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        """One serialized transaction: everything in it is written, or nothing."""
        with self._lock:
            self._db.begin()
            try:
                yield self._db
            except BaseException:
                self._dropped.clear()
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            dropped, self._dropped = self._dropped, set()
            if dropped:
                try:
                    self.collect(dropped)
                except Exception:  # noqa: BLE001 - the change is committed; a stray blob waits for the sweep
                    pass

    # -- bodies ---------------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    def put_blob(self, data: bytes, digest: str | None = None) -> str:
        """Store a body under its SHA-256 (``digest`` when the caller has it from the spec already)."""
        digest = digest if digest is not None else hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(exist_ok=True)
        tmp = self.incoming_path()  # named by this process: removed when a later store opens, if left
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return digest

    def get_blob(self, sha256: str) -> bytes:
        return self.blob_path(sha256).read_bytes()

    def incoming_path(self) -> Path:
        """A new temporary file name for a body being received (same file system as the blobs)."""
        return self.incoming / f".{os.getpid()}-{threading.get_ident()}-{os.urandom(8).hex()}.part"

    def publish_blob(self, tmp: Path, digest: str, *, synced: bool = False) -> None:
        """Make the received body ``tmp`` (whose SHA-256 is ``digest``) the blob of that digest:
        flushed to disk (unless ``synced``) and renamed into place, or dropped when the blob is there."""
        path = self.blob_path(digest)
        if path.exists():
            tmp.unlink(missing_ok=True)
            return
        if not synced:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        path.parent.mkdir(exist_ok=True)
        os.replace(tmp, path)

    def blob_digests(self) -> set[str]:
        """The digests of every blob file on disk."""
        return {f.name for shard in self.blobs.iterdir() if shard.is_dir() and not shard.name.startswith(".")
                for f in shard.iterdir() if not f.name.startswith(".")}

    def _backup_digests(self) -> set[str]:
        out: set[str] = set()
        for (text,) in self._db.execute("SELECT metadata FROM backups"):
            meta = json.loads(text)
            out.update(d["sha256"] for d in [*meta.get("databases", []), *meta.get("files", [])])
        return out

    def referenced(self, digests: set[str] | None = None) -> set[str]:
        """The digests (of ``digests``, or all) that a committed file or backup names."""
        with self._lock:
            if digests is None:
                named = {r[0] for r in self._db.execute("SELECT DISTINCT sha256 FROM files")}
            else:
                named = {d for d in sorted(digests)
                         if self._db.execute("SELECT 1 FROM files WHERE sha256=? LIMIT 1", (d,)).fetchone()}
            named |= self._backup_digests() if digests is None else self._backup_digests() & digests
            return named

    def remove_blob(self, sha256: str) -> None:
        """Unlink one blob (the collectors' only way to remove a body)."""
        self.blob_path(sha256).unlink(missing_ok=True)

    def collect(self, digests: set[str]) -> int:
        """Inline collection: remove each of ``digests`` that no committed row names; how many were removed.
        An unlink that fails leaves a stray blob for the next :meth:`sweep`."""
        removed = 0
        with self._lock:
            for d in sorted(digests - self.referenced(digests)):
                try:
                    self.remove_blob(d)
                    removed += 1
                except OSError:
                    continue
        return removed

    def sweep(self) -> int:
        """Remove every blob that no committed row names; how many were removed."""
        with self._lock:
            stray = self.blob_digests() - self.referenced()
            for d in sorted(stray):
                self.remove_blob(d)
            return len(stray)

    # -- database -------------------------------------------------------------------------------------

    def load_database(self, con: Sql, partition: str) -> db.Database:
        names = [r[0] for r in con.execute("SELECT name FROM collections WHERE partition=? ORDER BY name",
                                           (partition,))]
        out = []
        for n in names:
            docs = tuple(json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in con.execute(
                "SELECT body FROM documents WHERE partition=? AND collection=? ORDER BY seq", (partition, n)))
            out.append((n, docs))
        return db.Database(collections=tuple(out))

    def save_database(self, con: Sql, partition: str, before: db.Database, after: db.Database) -> None:
        old, new = dict(before.collections), dict(after.collections)
        for name in set(old) | set(new):
            if old.get(name) == new.get(name):
                continue
            con.execute("DELETE FROM documents WHERE partition=? AND collection=?", (partition, name))
            if name not in new:
                con.execute("DELETE FROM collections WHERE partition=? AND name=?", (partition, name))
                continue
            con.execute("INSERT INTO collections VALUES (?, ?) ON CONFLICT DO NOTHING", (partition, name))
            encode = _jsonb_text if con.postgres else json.dumps
            con.executemany(f"INSERT INTO documents VALUES (?, ?, ?, {con.json_param})",
                            [(partition, name, i, encode(d)) for i, d in enumerate(new[name])])

    # -- files ----------------------------------------------------------------------------------------

    def load_files(self, con: Sql, partition: str) -> fs.Files:
        rows = con.execute("SELECT path, size, sha256, cid, public, created, modified FROM files WHERE partition=? "
                           "ORDER BY path", (partition,))
        # Rows were checked by the spec when they were written: rebuild them without validating again.
        return fs.Files.model_construct(entries=tuple(fs.FileEntry.model_construct(
            path=r[0], size=r[1], sha256=r[2], cid=r[3], public=bool(r[4]), is_encrypt=False, encrypt_method="",
            created=r[5], modified=r[6]) for r in rows))

    def load_neighbourhood(self, con: Sql, partition: str, path: str) -> tuple[fs.Files, int]:
        """The entries a put or delete at ``path`` depends on (:func:`spec.hive.files.neighbourhood`) and the
        bytes of every other file of the partition: one write reads a few rows, not the partition."""
        exact, prefix = fs.neighbourhood(path)
        marks = ", ".join("?" for _ in exact)
        below, params = "substr(path, 1, ?) = ?", [len(prefix), prefix]
        if not con.postgres:  # SQLite compares text bytewise: a range on the primary key finds the prefix
            below, params = f"path >= ? AND path < ? AND {below}", [prefix, path + "0", *params]  # '0' follows '/'
        rows = con.execute(f"SELECT path, size, sha256, cid, public, created, modified FROM files WHERE partition=? "
                           f"AND (path IN ({marks}) OR ({below})) ORDER BY path", (partition, *exact, *params))
        view = fs.Files.model_construct(entries=tuple(fs.FileEntry.model_construct(
            path=r[0], size=r[1], sha256=r[2], cid=r[3], public=bool(r[4]), is_encrypt=False, encrypt_method="",
            created=r[5], modified=r[6]) for r in rows))
        total = con.execute("SELECT COALESCE(SUM(size), 0) FROM files WHERE partition=?", (partition,)).fetchone()[0]
        return view, int(total) - fs.used_bytes(view)

    def save_files(self, con: Sql, partition: str, after: fs.Files,
                   before_files: fs.Files | None = None) -> None:
        """Store a partition's files (only the rows that changed); every path whose body changed gets
        the next sync version (a removed path a tombstone), so the sync manifest follows every file call.
        ``before_files`` is the stored state the change started from (read again when not given)."""
        start = before_files if before_files is not None else self.load_files(con, partition)
        before = {e.path: e for e in start.entries}
        now = {e.path: e for e in after.entries}
        changed = sorted(p for p in set(before) | set(now) if before.get(p) != now.get(p))
        if not changed:
            return
        remote = self.load_manifest(con, partition, changed)
        for path in changed:
            old, new = before.get(path), now.get(path)
            if (old.sha256 if old else None) != (new.sha256 if new else None):
                if old is not None:
                    self._dropped.add(old.sha256)
                cur = remote.get(path)
                remote = sync.apply_write(remote, path, new.sha256 if new else None, new.size if new else 0,
                                          cur.version if cur else 0)
            con.execute("DELETE FROM files WHERE partition=? AND path=?", (partition, path))
            if new is not None:
                con.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (partition, new.path, new.size, new.sha256, new.cid, int(new.public), new.created,
                             new.modified))
        self.save_manifest(con, partition, remote)

    # -- sync ----------------------------------------------------------------------------------------

    def load_manifest(self, con: Sql, partition: str,
                      paths: list[str] | None = None) -> dict[str, sync.RemoteEntry]:
        """The partition's sync manifest, or only the entries of ``paths``."""
        if paths is None:
            rows = list(con.execute("SELECT path, version, sha256, size FROM versions WHERE partition=?", (partition,)))
        else:
            rows = [r for p in paths for r in con.execute(
                "SELECT path, version, sha256, size FROM versions WHERE partition=? AND path=?", (partition, p))]
        return {r[0]: sync.RemoteEntry(path=r[0], version=r[1], sha256=r[2], size=r[3]) for r in rows}

    def save_manifest(self, con: Sql, partition: str, remote: dict[str, sync.RemoteEntry]) -> None:
        for e in remote.values():
            con.execute("DELETE FROM versions WHERE partition=? AND path=?", (partition, e.path))
            con.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?)", (partition, e.path, e.version, e.sha256, e.size))

    def upload_path(self, upload_id: str) -> Path:
        return self.folder / "uploads" / upload_id

    def start_upload(self, con: Sql, upload_id: str, partition: str, path: str, size: int,
                     sha256: str, expires: int) -> None:
        (self.folder / "uploads").mkdir(exist_ok=True)
        self.upload_path(upload_id).write_bytes(b"")
        con.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)", (upload_id, partition, path, size, sha256, expires))

    def get_upload(self, con: Sql, upload_id: str) -> tuple[str, str, int, str, int] | None:
        """``(partition, path, size, sha256, expires)`` of a session (an expired one too, until it is purged)."""
        row = con.execute("SELECT partition, path, size, sha256, expires FROM uploads WHERE id=?",
                          (upload_id,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def renew_upload(self, con: Sql, upload_id: str, expires: int) -> None:
        con.execute("UPDATE uploads SET expires=? WHERE id=?", (expires, upload_id))

    def end_upload(self, con: Sql, upload_id: str) -> None:
        con.execute("DELETE FROM uploads WHERE id=?", (upload_id,))
        self.upload_path(upload_id).unlink(missing_ok=True)

    def reserved_bytes(self, con: Sql, partition: str, now: int, *, exclude: str | None = None) -> int:
        """The declared sizes of the partition's sessions alive at ``now`` (but ``exclude``): the bytes the
        quota holds for them."""
        row = con.execute("SELECT COALESCE(SUM(size), 0) FROM uploads WHERE partition=? AND expires>? AND id<>?",
                          (partition, now, exclude or "")).fetchone()
        return int(row[0])

    def expire_uploads(self, con: Sql, now: int) -> int:
        """Drop the partial bytes of every session expired at ``now`` (how many held any), and forget a session
        one more lifetime later: until then its id answers HSYNC-005, not 404."""
        dropped = 0
        for (uid,) in con.execute("SELECT id FROM uploads WHERE expires<=?", (now,)).fetchall():
            if self.upload_path(uid).exists():
                self.upload_path(uid).unlink(missing_ok=True)
                dropped += 1
        con.execute("DELETE FROM uploads WHERE expires<=?", (now - sync.UPLOAD_LIFETIME,))
        return dropped

    # -- scripts --------------------------------------------------------------------------------------

    def load_partition(self, con: Sql, partition: str) -> scripts.PartitionData:
        data = scripts.PartitionData(database=self.load_database(con, partition), files=self.load_files(con, partition))
        for name, definition in con.execute("SELECT name, definition FROM scripts WHERE partition=? ORDER BY name",
                                            (partition,)):
            data = scripts.register(data, scripts.parse_script(name, json.loads(definition)))
        return data

    def save_script(self, con: Sql, partition: str, name: str, definition: Any) -> None:
        con.execute("DELETE FROM scripts WHERE partition=? AND name=?", (partition, name))
        con.execute("INSERT INTO scripts VALUES (?, ?, ?)", (partition, name, json.dumps(definition)))

    def delete_script(self, con: Sql, partition: str, name: str) -> bool:
        return con.execute("DELETE FROM scripts WHERE partition=? AND name=?", (partition, name)).rowcount > 0

    # -- sign-in --------------------------------------------------------------------------------------

    def load_auth(self, con: Sql) -> auth.AuthState:
        rows = con.execute("SELECT did, nonce, expires FROM challenges ORDER BY did")
        return auth.AuthState(challenges=tuple(auth.Challenge(did=r[0], nonce=r[1], expires=r[2]) for r in rows))

    def save_auth(self, con: Sql, state: auth.AuthState, now: int) -> None:
        con.execute("DELETE FROM challenges")
        con.executemany("INSERT INTO challenges VALUES (?, ?, ?)",
                        [(c.did, c.nonce, c.expires) for c in state.challenges if c.expires > now])

    def cache_document(self, con: Sql, did: str, text: str) -> None:
        con.execute("DELETE FROM dids WHERE did=?", (did,))
        con.execute("INSERT INTO dids VALUES (?, ?)", (did, text))

    def documents(self) -> dict[str, str]:
        with self._lock:
            return {r[0]: r[1] for r in self._db.execute("SELECT did, document FROM dids")}

    # -- partitions and backups -------------------------------------------------------------------------

    def record_partition(self, con: Sql, name: str, user_did: str) -> None:
        con.execute("INSERT INTO partitions VALUES (?, ?) ON CONFLICT DO NOTHING", (name, user_did))

    def partitions_of(self, con: Sql, user_did: str) -> list[str]:
        return [r[0] for r in con.execute("SELECT name FROM partitions WHERE user_did=? ORDER BY name", (user_did,))]

    def load_backup(self, con: Sql, user_did: str) -> tuple[dict[str, Any] | None, bool]:
        row = con.execute("SELECT metadata, active FROM backups WHERE user_did=?", (user_did,)).fetchone()
        return (None, False) if row is None else (json.loads(row[0]), bool(row[1]))

    def save_backup(self, con: Sql, user_did: str, metadata: dict[str, Any], active: bool) -> None:
        old, _ = self.load_backup(con, user_did)
        if old is not None:
            self._dropped.update(d["sha256"] for d in [*old.get("databases", []), *old.get("files", [])])
        con.execute("DELETE FROM backups WHERE user_did=?", (user_did,))
        con.execute("INSERT INTO backups VALUES (?, ?, ?)", (user_did, json.dumps(metadata), int(active)))

    # -- script transactions (fileUpload / fileDownload streams) -----------------------------------------

    def add_transaction(self, con: Sql, tid: str, partition: str, action: str, path: str,
                        expires: int) -> None:
        con.execute("INSERT INTO transactions VALUES (?, ?, ?, ?, ?)", (tid, partition, action, path, expires))

    def take_transaction(self, con: Sql, tid: str, now: int) -> tuple[str, str, str] | None:
        row = con.execute("SELECT partition, action, path, expires FROM transactions WHERE id=?", (tid,)).fetchone()
        if row is None:
            return None
        con.execute("DELETE FROM transactions WHERE id=?", (tid,))
        return None if row[3] <= now else (row[0], row[1], row[2])
