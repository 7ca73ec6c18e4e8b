"""Backup: the metadata a vault sends a backup node, encrypted database dumps, restore and promotion.

A backup copies a user's vault (every partition of the user) to a backup node. Database dumps are
encrypted with a NaCl **SecretBox** (XSalsa20-Poly1305) under a key and nonce the vault draws per
backup; the key and nonce travel, base58, in the metadata, which itself only moves over the
authenticated node-to-node channel (``BackupToken``, :mod:`spec.hive.auth`). File bodies are not
re-encrypted: the backup node pins them by CID.

Dump (Deviation)
----------------

Upstream dumps each MongoDB database with ``mongodump --archive``. The spec defines a portable dump
instead, of a whole partition: the UTF-8 JSON text ``{"name": <database name>, "collections":
{<name>: [<documents>]}, "files": [{path, size, sha256, cid, public, created, modified}]}`` (the
file metadata, which upstream keeps in the same MongoDB database), keys sorted, no whitespace, non-ASCII written as ``\\uXXXX``. The encrypted dump is
``SecretBox(key).encrypt(dump, nonce).ciphertext`` (16-byte tag followed by the stream-encrypted
bytes; the nonce is **not** prepended).

Metadata (``HBAK-001``)
-----------------------

::

    {"version": "1.0", "user_did": str, "create_time": int, "vault_size": int,
     "vault_package_size": int,
     "databases": [{"name": str, "sha256": hex, "cid": str, "size": int}],   # of the ENCRYPTED dump
     "files": [{"sha256": hex, "cid": str, "size": int, "count": int}],       # distinct bodies
     "encryption": {"secret_key": base58 (32 bytes), "nonce": base58 (24 bytes)}}

``vault_size`` is the dumps' plaintext sizes plus the file bodies (``size * count``);
``vault_package_size`` the encrypted dumps' sizes plus the distinct bodies.

Restore (``HBAK-002``, ``HBAK-003``) fetches each encrypted dump by its ``sha256``, checks digest and
size, opens it, and checks it is a dump of the named database, its collections as a vault stores them
(names ``HDB-004``, documents with distinct string ids and plain members ``HDB-007``, values within
``HDB-008``): a dump is restored only if calls to a vault could have made it. Promotion (``HBAK-004``) turns a
backup held by a backup node into that node's active vault for the user: there must be a backup,
and no active vault for the user there.

Upstream: Elastos.Hive.Node ``src/modules/backup/README.md``, ``backup_server.py``,
``encryption.py`` (``Encryption``: ``nacl.secret.SecretBox``, base58 key and nonce),
``backup.py`` (``promotion``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from pydantic import BaseModel, ConfigDict

from spec.encoding.base58 import b58decode, b58encode
from spec.errors import Reason, Reject, rule
from spec.hive.cid import cid_v0
from spec.hive.database import Database, check_stored_collection
from spec.hive.files import FileEntry, Files, check_path

__all__ = [
    "VERSION",
    "KEY_SIZE",
    "NONCE_SIZE",
    "dump",
    "load_dump",
    "encrypt_dump",
    "decrypt_dump",
    "build_metadata",
    "check_metadata",
    "restore",
    "BackupNode",
    "store_backup",
    "promote",
]

VERSION: Final = "1.0"
KEY_SIZE: Final = SecretBox.KEY_SIZE
NONCE_SIZE: Final = SecretBox.NONCE_SIZE

R_METADATA: Final = rule(
    "HBAK-001", Reason.HIVE_BACKUP_MALFORMED,
    "Backup metadata has version \"1.0\", the listed members of their JSON types, a 32-byte key and a "
    "24-byte nonce in base58.",
    suite="hive", upstream="backup_server.py metadata check (BadRequestException)",
)
R_DUMP: Final = rule(
    "HBAK-002", Reason.HIVE_BACKUP_MALFORMED,
    "Each encrypted dump a restore reads has the metadata's sha256 and size, and opens to a dump of the "
    "named database: JSON, its collections as a vault stores them (valid names, documents with distinct "
    "string ids, plain member names and stored values in bounds) and well-formed file entries.",
    suite="hive", upstream="backup: \"Failed to check the sha256 of the file\"",
)
R_DECRYPT: Final = rule(
    "HBAK-003", Reason.HIVE_BACKUP_DECRYPT,
    "An encrypted dump opens (Poly1305 tag verifies) under the metadata's key and nonce.",
    suite="hive", upstream="encryption.py: nacl CryptoError",
)
R_PROMOTE: Final = rule(
    "HBAK-004", Reason.HIVE_BACKUP_STATE,
    "Promotion needs a backup for the user on the node and no active vault for the user there; restore "
    "needs a backup.",
    suite="hive", upstream="backup.py promotion: \"No backup data\" / \"vault already exists\"",
)


_ENTRY_KEYS: Final = ("path", "size", "sha256", "cid", "public", "created", "modified")


def dump(name: str, database: Database, files: Files | None = None) -> bytes:
    """The portable dump of one partition: its database and its file metadata."""
    entries = [] if files is None else [{k: getattr(e, k) for k in _ENTRY_KEYS} for e in files.entries]
    body = {"name": name, "collections": {n: list(docs) for n, docs in database.collections}, "files": entries}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _entry(v: Any) -> FileEntry | None:
    """A file entry of a dump, or None when it is not one."""
    if not isinstance(v, dict) or set(v) != set(_ENTRY_KEYS) or not isinstance(v["path"], str):
        return None
    try:
        check_path(v["path"])
        e = FileEntry(**v)
    except (Reject, ValueError):
        return None
    return e if _hex64(e.sha256) and e.size >= 0 else None


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def load_dump(data: bytes, name: str) -> tuple[Database, Files]:
    """A dump back into a partition's database and file metadata (HBAK-002)."""
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    ok = (isinstance(body, dict) and set(body) == {"name", "collections", "files"} and body["name"] == name
          and isinstance(body["collections"], dict) and isinstance(body["files"], list))
    entries = [_entry(v) for v in body["files"]] if ok else []
    fault = None
    for n, docs in sorted(body["collections"].items()) if ok else ():
        try:
            check_stored_collection(n, docs)
        except Reject as e:
            fault = fault or f": {e.rule} {e.detail}"
    # [HBAK-002] the dump is a dump of the named partition: collections as a vault stores them (HDB-004, HDB-007,
    # HDB-008) and well-formed file entries
    if not ok or fault or any(e is None for e in entries) or len({e.path for e in entries if e}) != len(entries):
        raise Reject(Reason.HIVE_BACKUP_MALFORMED, "HBAK-002", f"not a dump of {name}{fault or ''}")
    database = Database(collections=tuple((n, tuple(body["collections"][n])) for n in sorted(body["collections"])))
    return database, Files(entries=tuple(sorted((e for e in entries if e), key=lambda e: e.path)))


def encrypt_dump(data: bytes, key: bytes, nonce: bytes) -> bytes:
    """SecretBox ciphertext (tag || stream) of a dump; the nonce is not prepended."""
    return SecretBox(key).encrypt(data, nonce).ciphertext


def decrypt_dump(ciphertext: bytes, key: bytes, nonce: bytes) -> bytes:
    try:
        return SecretBox(key).decrypt(ciphertext, nonce)
    except CryptoError:
        # [HBAK-003] the dump opens under the key and nonce
        raise Reject(Reason.HIVE_BACKUP_DECRYPT, "HBAK-003", "the dump does not open") from None


def build_metadata(user_did: str, dumps: Mapping[str, bytes], bodies: Mapping[str, tuple[bytes, int]], *,
                   key: bytes, nonce: bytes, create_time: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The metadata and the encrypted dumps by SHA-256, from plaintext dumps by database name and
    file bodies by SHA-256 with their reference count."""
    databases = []
    blobs: dict[str, bytes] = {}
    for name in sorted(dumps):
        enc = encrypt_dump(dumps[name], key, nonce)
        digest = hashlib.sha256(enc).hexdigest()
        blobs[digest] = enc
        databases.append({"name": name, "sha256": digest, "cid": cid_v0(enc), "size": len(enc)})
    files = [{"sha256": h, "cid": cid_v0(b), "size": len(b), "count": c} for h, (b, c) in sorted(bodies.items())]
    vault_size = sum(len(d) for d in dumps.values()) + sum(len(b) * c for b, c in bodies.values())
    package = sum(d["size"] for d in databases) + sum(len(b) for b, _ in bodies.values())
    meta = {"version": VERSION, "user_did": user_did, "create_time": create_time, "vault_size": vault_size,
            "vault_package_size": package, "databases": databases, "files": files,
            "encryption": {"secret_key": b58encode(key), "nonce": b58encode(nonce)}}
    return meta, blobs


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _hex64(v: Any) -> bool:
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


def check_metadata(meta: Any) -> tuple[bytes, bytes]:
    """Check metadata (HBAK-001); returns the dump key and nonce."""
    keys = {"version", "user_did", "create_time", "vault_size", "vault_package_size", "databases", "files",
            "encryption"}
    ok = isinstance(meta, dict) and set(meta) == keys and meta["version"] == VERSION and isinstance(
        meta["user_did"], str) and all(_int(meta[k]) for k in ("create_time", "vault_size", "vault_package_size"))
    ok = ok and isinstance(meta["databases"], list) and all(
        isinstance(d, dict) and set(d) == {"name", "sha256", "cid", "size"} and isinstance(d["name"], str)
        and _hex64(d["sha256"]) and isinstance(d["cid"], str) and _int(d["size"]) for d in meta["databases"])
    ok = ok and isinstance(meta["files"], list) and all(
        isinstance(f, dict) and set(f) == {"sha256", "cid", "size", "count"} and _hex64(f["sha256"])
        and isinstance(f["cid"], str) and _int(f["size"]) and _int(f["count"]) for f in meta["files"])
    enc = meta.get("encryption") if ok else None
    key = nonce = b""
    if isinstance(enc, dict) and set(enc) == {"secret_key", "nonce"} and all(isinstance(v, str) for v in enc.values()):
        try:
            key, nonce = b58decode(enc["secret_key"]), b58decode(enc["nonce"])
        except Reject:
            key = nonce = b""
    # [HBAK-001] the metadata's shape, key and nonce
    if not ok or len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise Reject(Reason.HIVE_BACKUP_MALFORMED, "HBAK-001", "malformed backup metadata")
    return key, nonce


def restore(meta: Any, blobs: Mapping[str, bytes]) -> dict[str, tuple[Database, Files]]:
    """Every partition of a backup (database and file metadata), by database name, from the metadata
    and the encrypted dumps by SHA-256."""
    key, nonce = check_metadata(meta)
    out: dict[str, tuple[Database, Files]] = {}
    for d in meta["databases"]:
        enc = blobs.get(d["sha256"])
        # [HBAK-002] the encrypted dump is there, with its digest and size
        if enc is None or hashlib.sha256(enc).hexdigest() != d["sha256"] or len(enc) != d["size"]:
            raise Reject(Reason.HIVE_BACKUP_MALFORMED, "HBAK-002", f"dump of {d['name']} missing or changed")
        out[d["name"]] = load_dump(decrypt_dump(enc, key, nonce), d["name"])
    return out


class BackupNode(BaseModel):
    """A node's view of one user: a stored backup's metadata and whether it serves the user's vault."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    backup: dict[str, Any] | None = None
    active_vault: bool = False


def store_backup(node: BackupNode, meta: Any) -> BackupNode:
    """Accept (or replace) a user's backup."""
    check_metadata(meta)
    return node.model_copy(update={"backup": meta})


def require_backup(node: BackupNode) -> dict[str, Any]:
    """The stored backup a restore reads (HBAK-004)."""
    # [HBAK-004] a backup exists
    if node.backup is None:
        raise Reject(Reason.HIVE_BACKUP_STATE, "HBAK-004", "No backup data")
    return node.backup


def promote(node: BackupNode) -> BackupNode:
    """Turn the backup into the node's active vault for the user."""
    require_backup(node)
    # [HBAK-004] no active vault for the user on this node
    if node.active_vault:
        raise Reject(Reason.HIVE_BACKUP_STATE, "HBAK-004", "the vault already exists")
    return node.model_copy(update={"active_vault": True})
