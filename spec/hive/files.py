"""Vault files: paths, metadata and the put/get/list/metadata/hash/copy/move/delete state transitions.

A partition's files are a map from **path** to metadata. Bodies are content-addressed: the state
holds each file's SHA-256 and size, the store holds the bytes under their SHA-256 (the reference
keeps them on disk). Folders are implicit: a folder exists while a file lies under it.

Paths (``HFS-001``)
-------------------

A path is 1..1024 UTF-8 bytes (so no lone surrogate) of ``/``-separated segments of at most 255
bytes each, relative (no leading ``/``), with no empty, ``.`` or ``..`` segment, no backslash and no
control character (U+0000..U+001F, U+007F). A segment of 255 bytes is the longest file name of the
file systems a home folder lives on (``NAME_MAX`` of Linux, APFS): every file of a partition can be a
file of the folder that syncs it.
A trailing ``/`` is an empty segment. The empty path is the root folder, valid only for listing.

Operations
----------

===============================  =================================================================
operation                        effect (errors)
===============================  =================================================================
``put(path, body, public)``      create or replace the file; ``sha256``, ``size``; ``cid`` (CIDv0,
                                 :mod:`spec.hive.cid`) only when public; ``created`` kept on
                                 replace, ``modified = now`` (HFS-003 folder or file-parent in the
                                 way, HFS-004 quota)
``get/metadata/hash(path)``      the entry (HFS-002)
``list(folder)``                 the folder's direct children, files and folders, sorted by name
                                 (HFS-002 unless the root or an existing folder)
``copy(src, dst)``               a new entry with the same body (HFS-002, HFS-003, HFS-004)
``move(src, dst)``               the entry under a new path, ``modified = now`` (HFS-002, HFS-003)
``delete(path)``                 remove the file (HFS-002)
===============================  =================================================================

Copy and move act on files. The quota counts the bytes of every file of the partition (a copy
counts again, as in upstream, which charges the vault per file).

Large bodies and large partitions
---------------------------------

``put`` names its body, but nothing in the rules needs the body whole: :class:`BodyDigest` takes it
in pieces and gives the size, SHA-256 and (for a public file) CIDv0 that :func:`put_digest` stores,
so a vault streams a body to disk while hashing it once. Nor does a put need every entry of the
partition: only the file at the path, the files at its ancestor paths and the files below it can
collide with it (:func:`neighbourhood`); every other file counts only through its bytes towards the
quota. :func:`put_digest` and :func:`delete` on that neighbourhood, with ``other_bytes`` the bytes of
the rest, change exactly the entries they change on the whole partition, and reject exactly when
it does. :func:`room_for` is the quota rule alone, for a vault that knows a body's size before the
body arrives.

Upstream: Elastos.Hive.Node ``src/modules/files/files.py`` and ``files_service``
(``upload_file``, ``download_file``, ``list_folder``, ``get_properties``, ``get_hash``,
``copy_file``, ``move_file``, ``delete_file``), status codes 404 Not Found, 455 Already Exists,
507 Insufficient Storage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule
from spec.hive.cid import CidV0Builder, cid_v0

__all__ = [
    "MAX_PATH_BYTES",
    "MAX_SEGMENT_BYTES",
    "FileEntry",
    "Files",
    "Child",
    "check_path",
    "put",
    "get",
    "listing",
    "copy",
    "move",
    "delete",
    "used_bytes",
    "BodyDigest",
    "put_digest",
    "room_for",
    "neighbourhood",
]

MAX_PATH_BYTES: Final = 1024
MAX_SEGMENT_BYTES: Final = 255
"""The longest segment: ``NAME_MAX``, so a synced file can be a file of the home folder."""

R_PATH: Final = rule(
    "HFS-001", Reason.HIVE_PATH_INVALID,
    "A file path is 1..1024 UTF-8 bytes of '/'-separated segments of at most 255 bytes, relative, with no "
    "empty, '.' or '..' segment, no backslash and no control character.",
    suite="hive", upstream="files.py: InvalidParameterException (path)",
    note="Deviation: upstream normalizes some paths instead of rejecting them; the spec rejects every "
    "path that is not already in this form, so a path never escapes the partition or aliases another; a "
    "segment is at most 255 bytes (NAME_MAX) so every file can be a file of a synced home folder.",
)
R_FOUND: Final = rule(
    "HFS-002", Reason.HIVE_FILE_NOT_FOUND,
    "get, metadata, hash, copy and move sources, delete name an existing file; list names the root or a "
    "folder with a file under it.",
    suite="hive", upstream="FileNotFoundException (404)",
)
R_EXISTS: Final = rule(
    "HFS-003", Reason.HIVE_FILE_EXISTS,
    "A copy or move destination does not exist; a file is never put where a folder is, or below a file.",
    suite="hive", upstream="AlreadyExistsException (455)",
)
R_QUOTA: Final = rule(
    "HFS-004", Reason.HIVE_QUOTA_EXCEEDED,
    "After a put or copy, the partition's file bytes do not exceed its quota.",
    suite="hive", upstream="InsufficientStorageException (507)",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class FileEntry(_Model):
    """A file's metadata (``comp=metadata``)."""

    path: str
    size: int
    sha256: str
    """Lower-case hex SHA-256 of the body."""
    cid: str | None
    """CIDv0 when public."""
    public: bool
    is_encrypt: bool = False
    encrypt_method: str = ""
    created: int
    modified: int


class Files(_Model):
    """A partition's files, sorted by path."""

    entries: tuple[FileEntry, ...] = ()

    def find(self, path: str) -> FileEntry | None:
        for e in self.entries:
            if e.path == path:
                return e
        return None


class Child(_Model):
    """An entry of ``comp=children``."""

    name: str
    is_file: bool
    size: int


def check_path(path: str, *, root_ok: bool = False) -> None:
    """HFS-001."""
    if root_ok and path == "":
        return
    segs = path.split("/")
    ok = (not any(0xD800 <= ord(ch) <= 0xDFFF for ch in path)  # a lone surrogate has no UTF-8 form
          and 0 < len(path.encode("utf-8")) <= MAX_PATH_BYTES and "\\" not in path
          and all(ord(ch) >= 0x20 and ord(ch) != 0x7F for ch in path)
          and all(s not in ("", ".", "..") for s in segs)
          and all(len(s.encode("utf-8")) <= MAX_SEGMENT_BYTES for s in segs))
    # [HFS-001] a relative path of plain segments
    if not ok:
        raise Reject(Reason.HIVE_PATH_INVALID, "HFS-001", f"invalid path {path!r}")


def _with(files: Files, entry: FileEntry | None, drop: str | None = None) -> Files:
    kept = [e for e in files.entries if e.path != drop and (entry is None or e.path != entry.path)]
    if entry is not None:
        kept.append(entry)
    return Files(entries=tuple(sorted(kept, key=lambda e: e.path)))


def used_bytes(files: Files) -> int:
    return sum(e.size for e in files.entries)


def _placeable(files: Files, path: str) -> None:
    segs = path.split("/")
    parents = {"/".join(segs[:i]) for i in range(1, len(segs))}
    blocked = any(e.path in parents or e.path.startswith(path + "/") for e in files.entries)
    # [HFS-003] no folder at the path, no file above it
    if blocked:
        raise Reject(Reason.HIVE_FILE_EXISTS, "HFS-003", f"{path!r} collides with a file or folder")


def _quota(files: Files, quota: int, other_bytes: int = 0) -> None:
    used = used_bytes(files) + other_bytes
    # [HFS-004] within the quota
    if used > quota:
        raise Reject(Reason.HIVE_QUOTA_EXCEEDED, "HFS-004", f"{used} bytes > quota {quota}")


def get(files: Files, path: str) -> FileEntry:
    check_path(path)
    e = files.find(path)
    # [HFS-002] the file exists
    if e is None:
        raise Reject(Reason.HIVE_FILE_NOT_FOUND, "HFS-002", f"no file {path!r}")
    return e


def put(files: Files, path: str, body: bytes, *, public: bool, now: int, quota: int,
        is_encrypt: bool = False, encrypt_method: str = "") -> Files:
    d = BodyDigest(public=public)
    d.update(body)
    return put_digest(files, path, size=d.size, sha256=d.sha256(), cid=d.cid(), public=public, now=now, quota=quota,
                      is_encrypt=is_encrypt, encrypt_method=encrypt_method)


class BodyDigest:
    """A body's size, SHA-256 and (when ``public``) CIDv0, computed over pieces of any size."""

    def __init__(self, *, public: bool) -> None:
        self.size = 0
        self._sha = hashlib.sha256()
        self._cid = CidV0Builder() if public else None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for part in self.parts():
            part(data)

    def parts(self) -> tuple[Callable[[bytes | bytearray | memoryview], None], ...]:
        """The independent halves of :meth:`update`: the size and SHA-256, then (when ``public``) the CIDv0
        leaves. Each must see every piece, in order, but they share nothing, so a caller may run them at
        the same time (one thread each); ``update`` runs them one after the other."""
        if self._cid is None:
            return (self._count_and_hash,)
        return (self._count_and_hash, self._cid.update)

    def _count_and_hash(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        self._sha.update(data)

    def sha256(self) -> str:
        return self._sha.hexdigest()

    def cid(self) -> str | None:
        return self._cid.cid() if self._cid is not None else None


def put_digest(files: Files, path: str, *, size: int, sha256: str, cid: str | None, public: bool, now: int,
               quota: int, other_bytes: int = 0, is_encrypt: bool = False, encrypt_method: str = "") -> Files:
    """:func:`put` of a body known by its :class:`BodyDigest` (``cid`` given exactly when ``public``).

    ``files`` may be the :func:`neighbourhood` of ``path`` only, with ``other_bytes`` the bytes of
    every file left out."""
    if (cid is not None) != public:
        raise ValueError("put_digest: a CID is given exactly for a public file")
    check_path(path)
    _placeable(files, path)
    old = files.find(path)
    entry = FileEntry(path=path, size=size, sha256=sha256, cid=cid, public=public, is_encrypt=is_encrypt,
                      encrypt_method=encrypt_method, created=old.created if old else now, modified=now)
    out = _with(files, entry)
    _quota(out, quota, other_bytes)
    return out


def room_for(files: Files, path: str, size: int, *, quota: int, other_bytes: int = 0) -> None:
    """The quota rule of a put of ``size`` bytes at ``path``, before the body is there (HFS-004)."""
    old = files.find(path)
    _quota(files, quota, other_bytes + size - (old.size if old else 0))


def neighbourhood(path: str) -> tuple[tuple[str, ...], str]:
    """The entries a put or delete at ``path`` depends on: the exact ``path`` and its ancestor paths,
    and every path starting with the prefix (``path + "/"``)."""
    segs = path.split("/")
    return tuple("/".join(segs[:i]) for i in range(1, len(segs) + 1)), path + "/"


def listing(files: Files, folder: str) -> list[Child]:
    check_path(folder, root_ok=True)
    prefix = folder + "/" if folder else ""
    children: dict[str, Child] = {}
    for e in files.entries:
        if not e.path.startswith(prefix):
            continue
        rest = e.path[len(prefix):].split("/")
        if len(rest) == 1:
            children[rest[0]] = Child(name=rest[0], is_file=True, size=e.size)
        else:
            c = children.get(rest[0])
            size = (c.size if c is not None else 0) + e.size
            children[rest[0]] = Child(name=rest[0], is_file=False, size=size)
    # [HFS-002] the folder exists
    if folder and not children:
        raise Reject(Reason.HIVE_FILE_NOT_FOUND, "HFS-002", f"no folder {folder!r}")
    return [children[k] for k in sorted(children)]


def _free(files: Files, dst: str) -> None:
    check_path(dst)
    # [HFS-003] the destination does not exist
    if files.find(dst) is not None:
        raise Reject(Reason.HIVE_FILE_EXISTS, "HFS-003", f"{dst!r} exists")
    _placeable(files, dst)


def copy(files: Files, src: str, dst: str, *, now: int, quota: int) -> Files:
    e = get(files, src)
    _free(files, dst)
    out = _with(files, e.model_copy(update={"path": dst, "created": now, "modified": now}))
    _quota(out, quota)
    return out


def move(files: Files, src: str, dst: str, *, now: int) -> Files:
    e = get(files, src)
    _free(files, dst)
    return _with(files, e.model_copy(update={"path": dst, "modified": now}), drop=src)


def delete(files: Files, path: str) -> Files:
    get(files, path)
    return _with(files, None, drop=path)
