"""Home-folder sync: the Runtime's ``home/<user DID>/<app DID>/`` as a cache of the vault partition.

Upstream Hive has no continuous client-vault sync (clients call the file API); this protocol is the
spec's own (Deviation, whole module). Its one promise: **no write is ever silently dropped**.

State
-----

The vault keeps a **remote manifest**: per path, a ``version`` (1, 2, ... bumped by every write)
and the body's SHA-256 and size, or a **tombstone** (``sha256 = null``, size 0) after a delete.
Tombstones are kept, so a client that was away learns of deletes.

The client keeps a **local manifest**: per path, the local body's SHA-256 (``null``: absent
locally) and the **base**, the remote ``(version, sha256)`` it last agreed with (version 0: never).

Plan (:func:`plan`)
-------------------

For every path of either manifest, with ``L`` the local entry and ``R`` the remote one (missing: absent,
base version 0; missing remote: version 0, absent), *local changed* = ``L.sha256 != L.base_sha256``,
*remote changed* = ``R.version != L.base_version``:

==================  ==================  =============================================================
local changed       remote changed      actions
==================  ==================  =============================================================
no                  no                  none
yes (written)       no                  ``upload`` path, base ``R.version``
yes (deleted)       no                  ``delete`` path (write a tombstone), base ``R.version``; none
                                        if the remote is already absent
no                  yes (written)       ``download`` path
no                  yes (deleted)       ``remove`` the local file (if present); ``adopt`` otherwise
yes                 yes, same content   ``adopt`` (record the remote version as the new base)
yes (deleted)       yes (written)       ``download``: the remote write wins over a delete
yes (written)       yes (deleted)       ``upload`` with base ``R.version``: the write wins over a delete
yes (written)       yes (written)       **conflict**: ``upload`` the local body to the conflict name
                                        (below), then ``download`` the remote body at the path
==================  ==================  =============================================================

Conflict name: ``<folder>/<stem>.conflict-<first 16 hex of the local SHA-256><.ext>`` where ``.ext``
is the last ``.``-suffix of the file name (none if the name has no ``.`` after its first character);
if the remote holds that name with other content, (or the local folder holds it with other content) the full 64 hex digits are used.
A name that would pass a segment's 255 bytes or the path's 1024 (``HFS-001``) is cut: the stem loses
bytes from its end (whole characters), then the extension does, so the copy is a path the vault takes. Two uploads of
the same body to the same name are planned once. Actions are ordered by target path. Same content gives
the same name on every device, so two devices that conflict alike converge.

Writes (:func:`apply_write`) are compare-and-swap: a write names the base version it replaces, and the
vault rejects a stale one (``HSYNC-002``); the client then plans again. Uploads are resumable
(:class:`UploadSession`): chunks must continue exactly where the session stands (``HSYNC-003``) and the
file becomes visible only when all bytes have arrived with the declared SHA-256 (``HSYNC-004``).

A session is not kept for ever: it expires ``UPLOAD_LIFETIME`` seconds after it was started or last took
a chunk (``HSYNC-005``). From then on its chunks, its status and its finish are refused with
``HIVE_UPLOAD_EXPIRED``, and the vault may drop its partial bytes; the client starts a new session.
The time is a parameter (``now``, Unix seconds): the vault passes its clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final, Literal, NoReturn

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule
from spec.hive.files import MAX_PATH_BYTES, MAX_SEGMENT_BYTES, check_path

__all__ = [
    "RemoteEntry",
    "LocalEntry",
    "Action",
    "UploadSession",
    "parse_remote",
    "parse_local",
    "conflict_name",
    "plan",
    "apply_write",
    "version_after",
    "UPLOAD_LIFETIME",
    "start_upload",
    "append_chunk",
    "upload_expiry",
    "check_live",
    "finish_upload",
    "check_chunk",
    "check_finished",
    "execute",
    "live",
]

R_MANIFEST: Final = rule(
    "HSYNC-001", Reason.HIVE_SYNC_MALFORMED,
    "A manifest is an array of entries with distinct valid paths, no file (sha256 not null) at a folder of "
    "another file; a remote entry has version >= 1 and sha256 64 lower-case hex digits (or null with size "
    "0); a local entry has sha256 and base_sha256 hex or null and base_version >= 0.",
    suite="hive", note="Deviation: upstream Hive has no sync protocol; this one is the spec's.",
)
R_STALE: Final = rule(
    "HSYNC-002", Reason.HIVE_SYNC_STALE,
    "A sync write (upload or delete) names as its base the path's current remote version (0 when the "
    "path has never existed).",
    suite="hive", note="Deviation: spec-defined compare-and-swap; upstream overwrites unconditionally.",
)
R_OFFSET: Final = rule(
    "HSYNC-003", Reason.HIVE_UPLOAD_OFFSET,
    "A resumable upload chunk starts at the number of bytes the session has received and does not run "
    "past the declared size.",
    suite="hive", note="Deviation: spec-defined resumable upload.",
)
R_DIGEST: Final = rule(
    "HSYNC-004", Reason.HIVE_UPLOAD_DIGEST,
    "An upload completes only with all declared bytes and their declared SHA-256.",
    suite="hive", note="Deviation: spec-defined resumable upload.",
)

R_EXPIRED: Final = rule(
    "HSYNC-005", Reason.HIVE_UPLOAD_EXPIRED,
    "A resumable upload session lives UPLOAD_LIFETIME (86400) seconds after its start or its last accepted "
    "chunk; at or after that time a chunk, a status request or the finish is refused.",
    suite="hive", note="Deviation: spec-defined resumable upload; the lifetime is the spec's.",
)

UPLOAD_LIFETIME: Final = 86400
"""Seconds an upload session lives after its start or its last accepted chunk."""

_HEX64: Final = re.compile(r"[0-9a-f]{64}")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class RemoteEntry(_Model):
    path: str
    version: int
    sha256: str | None
    """``None``: a tombstone."""
    size: int


class LocalEntry(_Model):
    path: str
    sha256: str | None
    """The local body's digest; ``None``: absent locally."""
    size: int
    """The local body's size (0 when absent)."""
    base_version: int
    base_sha256: str | None


class Action(_Model):
    """One step of a sync plan."""

    op: Literal["upload", "delete", "download", "remove", "adopt"]
    path: str
    """Where the action writes (for a conflict upload: the conflict name)."""
    sha256: str | None
    """The body the action moves (upload: local, download/adopt: remote); ``None`` for delete/remove."""
    base_version: int
    """Upload/delete: the remote version it replaces. Download/adopt/remove: the remote version taken."""
    source: str | None = None
    """A conflict upload: the local path whose body it carries."""


def _bad(detail: str) -> NoReturn:
    # [HSYNC-001] the manifest is of the specified shape
    raise Reject(Reason.HIVE_SYNC_MALFORMED, "HSYNC-001", detail)


def _digest(v: Any, where: str) -> str | None:
    # [HSYNC-001] a digest is 64 lower-case hex digits or null
    if v is not None and not (isinstance(v, str) and _HEX64.fullmatch(v)):
        _bad(f"{where}: expected 64 hex digits or null")
    return v


def _count(v: Any, where: str, lo: int) -> int:
    # [HSYNC-001] an integer in range
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        _bad(f"{where}: expected an integer >= {lo}")
    return v


def _entries(v: Any, members: set[str]) -> list[dict[str, Any]]:
    # [HSYNC-001] an array of objects with exactly the members
    if not isinstance(v, list) or not all(isinstance(e, dict) and set(e) == members for e in v):
        _bad(f"expected an array of objects with {sorted(members)}")
    paths = [e["path"] for e in v]
    for p in paths:
        try:
            check_path(p if isinstance(p, str) else "")
        except Reject:
            _bad(f"invalid path {p!r}")
    # [HSYNC-001] distinct paths
    if len(set(paths)) != len(paths):
        _bad("a path appears twice")
    return v


def _no_file_above(live: set[str]) -> None:
    """No file lies at a folder of another file: a folder cannot hold both ``a`` and ``a/b``."""
    for p in live:
        segs = p.split("/")
        for i in range(1, len(segs)):
            # [HSYNC-001] a file is not at a folder of another file
            if "/".join(segs[:i]) in live:
                _bad(f"{p!r} lies below the file {'/'.join(segs[:i])!r}")


def parse_remote(v: Any) -> dict[str, RemoteEntry]:
    out = {}
    for e in _entries(v, {"path", "version", "sha256", "size"}):
        sha = _digest(e["sha256"], e["path"])
        size = _count(e["size"], e["path"] + ".size", 0)
        # [HSYNC-001] a tombstone has size 0
        if sha is None and size != 0:
            _bad(f"{e['path']}: a tombstone has size 0")
        out[e["path"]] = RemoteEntry(path=e["path"], version=_count(e["version"], e["path"] + ".version", 1),
                                     sha256=sha, size=size)
    _no_file_above({p for p, e in out.items() if e.sha256 is not None})
    return out


def parse_local(v: Any) -> dict[str, LocalEntry]:
    out = {}
    for e in _entries(v, {"path", "sha256", "size", "base_version", "base_sha256"}):
        sha = _digest(e["sha256"], e["path"])
        size = _count(e["size"], e["path"] + ".size", 0)
        # [HSYNC-001] an absent local file has size 0
        if sha is None and size != 0:
            _bad(f"{e['path']}: an absent file has size 0")
        out[e["path"]] = LocalEntry(path=e["path"], sha256=sha, size=size,
                                    base_version=_count(e["base_version"], e["path"] + ".base_version", 0),
                                    base_sha256=_digest(e["base_sha256"], e["path"] + ".base_sha256"))
    _no_file_above({p for p, e in out.items() if e.sha256 is not None})
    return out


def conflict_name(path: str, sha256: str, remote: Mapping[str, RemoteEntry],
                  local: Mapping[str, LocalEntry] | None = None) -> str:
    """The deterministic name a conflicting local write is kept under."""
    folder, _, name = path.rpartition("/")
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    room = min(MAX_SEGMENT_BYTES, MAX_PATH_BYTES - len(folder.encode("utf-8")) - 1 if folder else MAX_PATH_BYTES)
    for digits in (16, 64):
        mark = f".conflict-{sha256[:digits]}"
        over = len(f"{stem}{mark}{ext}".encode("utf-8")) - room
        short_stem = _cut(stem, len(stem.encode("utf-8")) - over) if over > 0 else stem
        over -= len(stem.encode("utf-8")) - len(short_stem.encode("utf-8"))
        short_ext = _cut(ext, len(ext.encode("utf-8")) - over) if over > 0 else ext
        candidate = f"{short_stem}{mark}{short_ext}"
        full = f"{folder}/{candidate}" if folder else candidate
        held = [e.sha256 for e in (remote.get(full), (local or {}).get(full)) if e is not None and e.sha256]
        if all(h == sha256 for h in held):
            return full
    return full


def _cut(text: str, limit: int) -> str:
    """The longest start of ``text`` of at most ``limit`` UTF-8 bytes (whole characters)."""
    return text.encode("utf-8")[:max(limit, 0)].decode("utf-8", "ignore")


def plan(local: Mapping[str, LocalEntry], remote: Mapping[str, RemoteEntry]) -> list[Action]:
    """The actions that bring client and vault together (see the table above), by path."""
    out: list[Action] = []
    for path in sorted(set(local) | set(remote)):
        lo = local.get(path, LocalEntry(path=path, sha256=None, size=0, base_version=0, base_sha256=None))
        r = remote.get(path, RemoteEntry(path=path, version=0, sha256=None, size=0))
        lc, rc = lo.sha256 != lo.base_sha256, r.version != lo.base_version
        if not lc and not rc:
            continue
        if lc and not rc:
            if lo.sha256 is not None:
                out.append(Action(op="upload", path=path, sha256=lo.sha256, base_version=r.version))
            elif r.sha256 is not None:
                out.append(Action(op="delete", path=path, sha256=None, base_version=r.version))
            else:
                out.append(Action(op="adopt", path=path, sha256=None, base_version=r.version))
        elif not lc:
            if r.sha256 is not None:
                out.append(Action(op="download", path=path, sha256=r.sha256, base_version=r.version))
            elif lo.sha256 is not None:
                out.append(Action(op="remove", path=path, sha256=None, base_version=r.version))
            else:
                out.append(Action(op="adopt", path=path, sha256=None, base_version=r.version))
        elif lo.sha256 == r.sha256:
            out.append(Action(op="adopt", path=path, sha256=r.sha256, base_version=r.version))
        elif lo.sha256 is None:
            out.append(Action(op="download", path=path, sha256=r.sha256, base_version=r.version))
        elif r.sha256 is None:
            out.append(Action(op="upload", path=path, sha256=lo.sha256, base_version=r.version))
        else:
            name = conflict_name(path, lo.sha256, remote, local)
            existing = remote.get(name)
            if existing is None or existing.sha256 != lo.sha256:
                out.append(Action(op="upload", path=name, sha256=lo.sha256,
                                  base_version=existing.version if existing else 0, source=path))
            out.append(Action(op="download", path=path, sha256=r.sha256, base_version=r.version))
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for a in sorted(out, key=lambda a: (a.path, a.source is not None)):
        if a.op == "upload" and (a.path, a.sha256) in seen:
            continue
        seen.add((a.path, a.sha256))
        unique.append(a)
    return unique


def version_after(base_version: int) -> int:
    """The version a write over ``base_version`` makes (``HSYNC-002``): the next one."""
    return base_version + 1


def apply_write(remote: Mapping[str, RemoteEntry], path: str, sha256: str | None, size: int,
                base_version: int) -> dict[str, RemoteEntry]:
    """The vault's side of an upload (``sha256``) or delete (``None``): compare-and-swap on the version."""
    check_path(path)
    cur = remote.get(path)
    current = cur.version if cur is not None else 0
    # [HSYNC-002] the write replaces the current version
    if base_version != current:
        raise Reject(Reason.HIVE_SYNC_STALE, "HSYNC-002", f"{path}: base {base_version}, current {current}")
    out = dict(remote)
    out[path] = RemoteEntry(path=path, version=version_after(current), sha256=sha256, size=size if sha256 else 0)
    return out


def execute(local: Mapping[str, LocalEntry], remote: Mapping[str, RemoteEntry],
            actions: list[Action]) -> tuple[dict[str, LocalEntry], dict[str, RemoteEntry]]:
    """Carry out a plan with no concurrent writer: the client's and the vault's new manifests.

    A conflict upload also leaves the conflict copy in the local folder, so both sides hold it.
    """
    lo, re_ = dict(local), dict(remote)
    for a in actions:
        if a.op in ("upload", "delete"):
            src = lo[a.source if a.source is not None else a.path]
            size = src.size if a.op == "upload" else 0
            re_ = apply_write(re_, a.path, a.sha256, size, a.base_version)
            v = re_[a.path].version
            lo[a.path] = LocalEntry(path=a.path, sha256=a.sha256, size=size, base_version=v, base_sha256=a.sha256)
        elif a.op in ("download", "remove"):
            r = re_[a.path]
            lo[a.path] = LocalEntry(path=a.path, sha256=r.sha256, size=r.size, base_version=r.version,
                                    base_sha256=r.sha256)
        else:
            r = re_.get(a.path)
            cur = lo.get(a.path)
            lo[a.path] = LocalEntry(path=a.path, sha256=cur.sha256 if cur else None, size=cur.size if cur else 0,
                                    base_version=r.version if r else 0, base_sha256=r.sha256 if r else None)
    return lo, re_


def live(remote: Mapping[str, RemoteEntry]) -> dict[str, str]:
    """The files the vault holds: path -> SHA-256, tombstones left out."""
    return {p: e.sha256 for p, e in remote.items() if e.sha256 is not None}


# -- resumable uploads --------------------------------------------------------------------------------


class UploadSession(_Model):
    """An upload in progress; nothing is visible at ``path`` until :func:`finish_upload`."""

    path: str
    size: int
    sha256: str
    expires: int
    """Unix seconds: the session is refused from this time on (HSYNC-005)."""
    received: bytes = b""


def upload_expiry(now: int) -> int:
    """When a session started, or given a chunk, at ``now`` expires."""
    return now + UPLOAD_LIFETIME


def start_upload(path: str, size: int, sha256: str, *, now: int) -> UploadSession:
    check_path(path)
    _count(size, "size", 0)
    _digest(sha256, "sha256")
    return UploadSession(path=path, size=size, sha256=sha256, expires=upload_expiry(now))


def append_chunk(session: UploadSession, offset: int, chunk: bytes, *, now: int) -> UploadSession:
    """Add a chunk at ``offset`` at time ``now``; a resumed client asks for ``len(received)`` and continues
    there. An accepted chunk renews the session's lifetime."""
    check_live(session, now)
    check_chunk(len(session.received), session.size, offset, len(chunk))
    return session.model_copy(update={"received": session.received + chunk, "expires": upload_expiry(now)})


def finish_upload(session: UploadSession, *, now: int) -> bytes:
    """The complete body, once all bytes with the declared digest have arrived, before the session expired."""
    check_live(session, now)
    check_finished(session, len(session.received), hashlib.sha256(session.received).hexdigest())
    return session.received


def check_live(session: UploadSession, now: int) -> None:
    """HSYNC-005: the session has not expired at ``now``."""
    # [HSYNC-005] the session is used before it expires
    if now >= session.expires:
        raise Reject(Reason.HIVE_UPLOAD_EXPIRED, "HSYNC-005",
                     f"the upload session expired at {session.expires} (now {now})")


def check_chunk(received: int, size: int, offset: int, length: int) -> None:
    """HSYNC-003 for a session that holds ``received`` of ``size`` bytes: a chunk of ``length`` at ``offset``
    (what :func:`append_chunk` checks, for a vault that keeps the received bytes on disk)."""
    # [HSYNC-003] the chunk continues where the session stands, within the size
    if offset != received or offset + length > size:
        raise Reject(Reason.HIVE_UPLOAD_OFFSET, "HSYNC-003",
                     f"chunk at {offset}+{length}, session at {received} of {size}")


def check_finished(session: UploadSession, received: int, received_sha256: str) -> None:
    """HSYNC-004 for a session whose received bytes number ``received`` and hash to ``received_sha256``."""
    # [HSYNC-004] complete, with the declared digest
    if received != session.size or received_sha256 != session.sha256:
        raise Reject(Reason.HIVE_UPLOAD_DIGEST, "HSYNC-004", "incomplete upload or digest mismatch")
