"""A Hive client: DID sign-in, JSON calls, and the home-folder sync of :mod:`spec.hive.sync` over HTTP.

:func:`sync_folder` keeps a local folder (the Runtime's ``home/<user DID>/<app DID>/``) and the
caller's vault partition in step. It reads the folder and the vault's manifest, asks
:func:`spec.hive.sync.plan` what to do, and does it: uploads are compare-and-swap on the version the
plan saw (large ones resumable, in chunks), downloads land in a temporary file renamed into place
only when their SHA-256 is the one the manifest promised, and a conflict copy is written both to the
vault and to the folder. If the vault moved on meanwhile (``HIVE_SYNC_STALE``) or a download does not
match, the round stops and the next round plans again from fresh state. The client's bases live in a
JSON state file beside the folder; every action appends its new base to a journal beside it (one short
write, flushed), which is folded into the state file when the sync ends, so a cut connection or a killed
client resumes where it stopped. A large upload's session id is kept there too: the next sync continues
the session instead of sending the body again. Bodies are streamed from and to files, never read whole.

The vault is not trusted with the folder: a manifest is parsed by :func:`spec.hive.sync.parse_remote`
(so every path is a plain relative path of the folder, and no file lies below another), a download is
kept only with the size and digest the manifest promised, every answer the client acts on is checked
(:class:`BadReply` otherwise: a status that is not a success, a JSON answer past ``max_reply`` bytes or
not of the route's shape, a version or a byte count the protocol cannot give), and the client never
follows a symbolic link in the folder: a link is not synced, and nothing is written below one
(:class:`LocalPathError`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.did import document
from spec.errors import Reject
from spec.hive import auth, identity, sync
from spec.hive import files as fs

from reference.hive.stream import copy_hashed

CHUNK = 1 << 20
"""Bodies above this size are uploaded through a resumable session, in chunks of this size."""
IO_CHUNK = 1 << 20
"""Bodies are sent and received in pieces of this size; a file is sent with ``sendfile``."""
MAX_REPLY = 256 << 20
"""The most bytes :meth:`HiveClient.request` reads of one answer (a JSON answer, or a body asked for whole);
a file of any size is read with :meth:`HiveClient.download_to`, which streams it."""
MAX_ERROR_BODY = 64 << 10
"""The most bytes read of an error answer's body."""
_TOKEN = re.compile(r"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*")


class HiveError(Exception):
    """A call the vault refused: its HTTP status and the spec's reason code."""

    def __init__(self, status: int, reason: str, message: str, rule: str | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message, self.rule = status, reason, message, rule


class BadReply(HiveError):
    """An answer the client will not act on: not of its route's shape, past ``max_reply`` bytes, or naming
    what the protocol cannot give (a manifest that breaks ``HSYNC-001``, a challenge that breaks the sign-in
    rules: then ``reason`` and ``rule`` are the spec's). ``reason`` is ``HIVE_BAD_REPLY`` otherwise, the
    client's own code, never one a vault sends."""

    def __init__(self, message: str, *, status: int = 200, reason: str = "HIVE_BAD_REPLY",
                 rule: str | None = None) -> None:
        super().__init__(status, reason, message, rule)

    @classmethod
    def of(cls, e: Reject, where: str) -> BadReply:
        return cls(f"{where}: {e.detail}", reason=e.reason.value, rule=e.rule)


class SyncIncomplete(HiveError):
    """A sync that ran out of rounds before the folder and the vault were in step (the vault kept moving, or
    kept answering bodies that were not its manifest's): what the last round planned is not all done."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__(0, "HIVE_SYNC_INCOMPLETE", f"the folder is not in step with the vault after "
                         f"{report.rounds} round(s)")
        self.report = report


class LocalStateError(HiveError):
    """The sync's state file or journal is not what the client writes (edited, or damaged on disk): the sync
    stops before it acts, and says which file. Moving the file away is safe: without bases, every file the
    folder and the vault both hold is a conflict or the same bytes, and a conflict keeps both."""

    def __init__(self, where: Path, why: str) -> None:
        super().__init__(0, "HIVE_LOCAL_STATE", f"{where}: {why}")


class LocalPathError(HiveError):
    """The folder has, where the vault's file goes, something the client does not replace: a symbolic link
    on the way (it would write outside the folder), a folder, or a file where a folder must be."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "HIVE_LOCAL_PATH", message)


class HiveClient:
    """Calls on one vault (``http://127.0.0.1:<port>``) with one access token."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60) -> None:
        self.base = url.rstrip("/") + "/api/v2/"
        self.token = token
        self.timeout = timeout
        """Seconds any one wait on the socket may last (connect, send, each read)."""
        self.max_reply = MAX_REPLY
        parts = urllib.parse.urlsplit(self.base)
        self._host, self._port, self._prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path

    def request(self, method: str, path: str, body: Any = None, raw: bytes | Path | None = None,
                auth_header: bool = True) -> Any:
        """One call: a JSON ``body``, or a ``raw`` body given as bytes or as a file (streamed, never read
        whole). A JSON answer is decoded; any other answer is returned as bytes."""
        with self._exchange(method, path, body=body, raw=raw, auth_header=auth_header) as r:
            payload, ctype = r.read_at_most(self.max_reply, path), r.getheader("Content-Type")
        if (ctype or "").split(";")[0].strip().lower() == "application/json":
            return _decode(payload, path) if payload else None
        return payload

    def _object(self, method: str, path: str, body: Any = None, raw: bytes | Path | None = None,
                auth_header: bool = True) -> dict[str, Any]:
        """A call whose answer is a JSON object."""
        out = self.request(method, path, body=body, raw=raw, auth_header=auth_header)
        if not isinstance(out, dict):
            raise BadReply(f"{path}: expected a JSON object, got {type(out).__name__}")
        return out

    def _exchange(self, method: str, path: str, *, body: Any = None, raw: bytes | Path | None = None,
                  auth_header: bool = True, offset: int = 0, length: int | None = None) -> _Response:
        """Send one request (a ``raw`` file from ``offset``, ``length`` bytes, with ``sendfile``) on a new
        connection; the open response when its status is below 400, else :class:`HiveError`."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout, blocksize=IO_CHUNK)
        try:
            conn.putrequest(method, self._prefix + path, skip_accept_encoding=True)
            if auth_header and self.token:
                conn.putheader("Authorization", f"token {self.token}")
            data = raw if isinstance(raw, bytes) else (json.dumps(body).encode() if body is not None else None)
            if isinstance(raw, Path):
                size = raw.stat().st_size - offset if length is None else length
                conn.putheader("Content-Type", "application/octet-stream")
                conn.putheader("Content-Length", str(size))
                conn.endheaders()
                with open(raw, "rb") as f:
                    assert conn.sock is not None
                    conn.sock.sendfile(f, offset, size)
            else:
                if data is not None:
                    conn.putheader("Content-Type", "application/json" if raw is None else "application/octet-stream")
                conn.putheader("Content-Length", str(len(data) if data is not None else 0))
                conn.endheaders(data)
            r = conn.getresponse()
        except http.client.HTTPException as e:
            conn.close()
            if isinstance(e, ConnectionError):  # the vault closed the connection without an answer
                raise
            raise BadReply(f"{path}: not an HTTP answer ({type(e).__name__})", status=0) from None
        except BaseException:
            conn.close()
            raise
        if not 200 <= r.status < 300:  # an error, or a status no route answers (a redirect is not followed)
            try:
                payload = r.read(MAX_ERROR_BODY)
            except (http.client.HTTPException, OSError):
                payload = b""
            finally:
                conn.close()
            raise _error(r.status, r.reason, payload)
        return _Response(conn, r)

    def sign_in(self, instance_key: bytes, credential: str, *, now: int, documents: dict[str, str]) -> str:
        """The sign-in of the app instance ``instance_key`` presenting ``credential`` (an AppIdCredential)."""
        did = identity.did_of(instance_key)
        challenge = self._object("POST", "did/signin", {"id": json.loads(documents[did])}, auth_header=False)
        jwt = challenge.get("challenge")
        if not isinstance(jwt, str):
            raise BadReply("did/signin: no challenge JWT")
        try:
            service_did, nonce = auth.check_challenge(jwt, did, now=now,
                                                      resolve=document.resolver_from_texts(documents))
        except Reject as e:
            raise BadReply.of(e, "did/signin: the challenge") from None
        vp = identity.create_presentation(instance_key, (credential,), realm=service_did, nonce=nonce, created=now)
        response = auth.make_response(vp, instance_did=did, key_id=identity.key_id_of(instance_key),
                                      private_key=instance_key, service_did=service_did, now=now)
        token = self._object("POST", "did/auth", {"challenge_response": response}, auth_header=False).get("token")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):  # sent back in a header: a JWT, nothing else
            raise BadReply("did/auth: the token is not a JWT")
        self.token = token
        return self.token

    # -- sync primitives -----------------------------------------------------------------------------------

    def manifest(self) -> dict[str, sync.RemoteEntry]:
        try:
            return sync.parse_remote(self._object("GET", "vault/sync/manifest").get("manifest"))
        except Reject as e:
            raise BadReply.of(e, "vault/sync/manifest") from None

    def write(self, path: str, body: bytes | Path | None, base: int) -> int:
        """Upload (``body``: bytes or a file, streamed) or delete (``None``) over version ``base``; the new version."""
        q = f"vault/sync/files/{urllib.parse.quote(path)}?base={base}"
        out = self._object("PUT", q, raw=body) if body is not None else self._object("DELETE", q)
        return _written(out, base, q)

    def upload_resumable(self, path: str, body: bytes | Path, base: int, upload_id: str | None = None,
                         sha256: str | None = None) -> int:
        """A chunked upload of bytes or of a file (each chunk sent from the file with ``sendfile``);
        ``upload_id`` resumes a session (the vault says how much it holds). ``sha256`` is the body's digest
        when the caller has it (a file is hashed otherwise)."""
        size = body.stat().st_size if isinstance(body, Path) else len(body)
        if upload_id is None:
            if sha256 is None:
                sha256 = file_sha256(body) if isinstance(body, Path) else hashlib.sha256(body).hexdigest()
            upload_id = self.start_upload(path, size, sha256)
        session = _upload_route(upload_id)
        # what the vault holds: at most the size (HSYNC-003 took no byte past it)
        offset = _received(self._object("GET", session), 0, size, session)
        while offset < size:
            url = f"{session}?offset={offset}"
            n = min(CHUNK, size - offset)
            if isinstance(body, Path):
                with self._exchange("PUT", url, raw=body, offset=offset, length=n) as r:
                    out = _decode(r.read_at_most(self.max_reply, url), url)
            else:
                out = self._object("PUT", url, raw=body[offset:offset + n])
            # a chunk at the session's end moves it on, never past the size (HSYNC-003): so the loop ends
            offset = _received(out, offset + 1, size, url)
        return _written(self._object("POST", f"{session}?base={base}"), base, session)

    def cancel_upload(self, upload_id: str) -> bool:
        """Give a resumable session up (``DELETE vault/sync/uploads/<id>``); ``False`` if the vault no longer
        has it (finished, purged) or it is not this partition's."""
        try:
            self.request("DELETE", _upload_route(upload_id))
        except HiveError as e:
            if e.reason != "HIVE_FILE_NOT_FOUND":
                raise
            return False
        return True

    def start_upload(self, path: str, size: int, sha256: str) -> str:
        """Open a resumable session for ``size`` bytes with digest ``sha256``; its id."""
        asked = {"path": path, "size": size, "sha256": sha256}
        uid = self._object("POST", "vault/sync/uploads", asked).get("upload_id")
        if not isinstance(uid, str) or not uid:
            raise BadReply("vault/sync/uploads: no upload id")
        return uid

    def upload_file(self, path: str, source: Path, *, public: bool = False) -> dict[str, Any]:
        """``PUT vault/files/<path>`` of a local file, streamed with ``sendfile`` (never read whole)."""
        q = f"vault/files/{urllib.parse.quote(path)}" + ("?public=true" if public else "")
        out: dict[str, Any] = self.request("PUT", q, raw=source)
        return out

    def download(self, path: str) -> bytes:
        return self.request("GET", f"vault/files/{urllib.parse.quote(path)}")

    def download_to(self, path: str, target: Path, *, expect_sha256: str | None = None, expect_size: int | None = None,
                    durable: bool = True) -> str:
        """Stream a file of the vault into ``target``: received in large pieces into a temporary file beside
        it, hashed as it arrives, flushed to disk (unless not ``durable``) and renamed into place. With
        ``expect_sha256`` (and ``expect_size``), a body with another digest (or size) is dropped
        (:class:`DigestMismatch`; no more than ``expect_size + 1`` bytes are read) and ``target`` is left as
        it was. The body's SHA-256."""
        tmp = _tmp_beside(target)
        digest = hashlib.sha256()
        try:
            route = f"vault/files/{urllib.parse.quote(path)}"
            with self._exchange("GET", route) as r, open(tmp, "wb", buffering=0) as f:
                if r.status != 200:  # the download route answers a body with 200 only
                    raise HiveError(r.status, "HTTP", f"{route}: status {r.status} is not a download")
                # a large body is hashed on a second thread while the next piece arrives
                declared = r.length  # what Content-Length promised (it counts down as the body is read)
                limit = declared if declared is not None else 1 << 62
                if expect_size is not None:
                    limit = min(limit, expect_size + 1)  # one byte more shows a body longer than promised
                got_bytes = copy_hashed(r.readinto, f.write, limit, [digest.update], piece=IO_CHUNK)
                if declared is not None and got_bytes < min(declared, limit):  # the connection closed early
                    raise ConnectionError(f"{path}: the body ended {min(declared, limit) - got_bytes} bytes short")
                if expect_size is not None and got_bytes != expect_size:
                    raise DigestMismatch(f"{path}: {got_bytes}{'+' if got_bytes > expect_size else ''} bytes, "
                                         f"expected {expect_size}")
                if durable:
                    os.fsync(f.fileno())
            got = digest.hexdigest()
            if expect_sha256 is not None and got != expect_sha256:
                raise DigestMismatch(f"{path}: {got}, expected {expect_sha256}")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return got


class DigestMismatch(Exception):
    """A downloaded body is not the one the manifest promised."""


class _Response:
    """An open response and its connection, closed together."""

    def __init__(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        self._conn, self._r = conn, response

    def read(self) -> bytes:
        return self._r.read()

    @property
    def status(self) -> int:
        return self._r.status

    def read_at_most(self, limit: int, where: str) -> bytes:
        """The whole body, or :class:`BadReply` past ``limit`` bytes; ``ConnectionError`` if it ends short."""
        try:
            data = self._r.read(limit + 1)
        except http.client.IncompleteRead as e:  # a chunked body cut short
            raise ConnectionError(f"{where}: the answer ended short") from e
        except http.client.HTTPException as e:
            raise BadReply(f"{where}: not an HTTP body ({type(e).__name__})") from None
        if len(data) > limit:
            raise BadReply(f"{where}: an answer of more than {limit} bytes")
        if self._r.length:  # Content-Length promised more than arrived
            raise ConnectionError(f"{where}: the answer ended {self._r.length} bytes short")
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        return self._r.readinto(buf)

    @property
    def length(self) -> int | None:
        """The bytes of the body not read yet (``None`` when the answer did not say)."""
        return self._r.length

    def getheader(self, name: str) -> str | None:
        return self._r.getheader(name)

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._r.close()
        self._conn.close()


def _decode(payload: bytes, where: str) -> Any:
    """A JSON answer, or :class:`BadReply` (not JSON, not UTF-8, nested past the parser's stack)."""
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        raise BadReply(f"{where}: the answer is not JSON") from None


def _error(status: int, phrase: str, payload: bytes) -> HiveError:
    """The vault's refusal: ``{"error": {"reason", "message", "rule"}}`` when it says so, else the status."""
    try:
        err = json.loads(payload).get("error")
    except (ValueError, RecursionError, AttributeError):
        err = None
    if not isinstance(err, dict):
        err = {"message": payload[:200].decode(errors="replace") or phrase}

    def text(key: str) -> str | None:
        v = err.get(key)
        return v if isinstance(v, str) and v else None

    return HiveError(status, text("reason") or "HTTP", text("message") or "", text("rule"))


def _written(out: dict[str, Any], base: int, where: str) -> int:
    """The version a sync write answered: the write replaced version ``base``, so it made the version
    :func:`spec.hive.sync.version_after` gives (HSYNC-002); any other answer is not the vault's
    compare-and-swap."""
    version = out.get("version")
    if type(version) is not int or version != sync.version_after(base):
        raise BadReply(f"{where}: version {version!r} after base {base}")
    return version


def _received(out: dict[str, Any], low: int, size: int, where: str) -> int:
    """A session's byte count, which must lie in ``low..size``."""
    n = out.get("received")
    if type(n) is not int or not low <= n <= size:
        raise BadReply(f"{where}: received {n!r}, expected {low}..{size}")
    return n


def _upload_route(upload_id: str) -> str:
    """A session's route: its id (the vault's, not trusted) as one quoted segment."""
    return f"vault/sync/uploads/{urllib.parse.quote(upload_id, safe='')}"


def _tmp_beside(target: Path) -> Path:
    """A temporary name beside ``target``, short whatever the target's name (a name of 255 bytes is valid)."""
    key = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return target.with_name(f".hive-tmp-{key}")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in pieces."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass
class SyncReport:
    rounds: int = 0
    actions: list[tuple[str, str]] = field(default_factory=list)
    """``(op, path)`` of every action carried out."""
    bytes_up: int = 0
    bytes_down: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, why)`` of every local file left out because the vault cannot take its path (``HFS-001``:
    a name that is not UTF-8, shown here with U+FFFD, a backslash or a control character, a path past
    1024 bytes); the others sync."""
    complete: bool = False
    """The last round's plan was empty: the folder and the vault were in step. ``False`` when the rounds
    ran out first (the vault kept moving, or kept answering bodies that were not the manifest's)."""


def _scan(folder: Path) -> tuple[dict[str, tuple[str, int]], list[tuple[str, str]]]:
    """The folder's files by path (digest, size), and the files whose path the vault cannot take
    (``HFS-001``: a name that is not UTF-8, a backslash or a control character in it, a path past 1024
    bytes), each with the reason: those are left out of the sync, so that one odd name does not stop the
    others."""
    out, skipped = {}, []
    for p in sorted(folder.rglob("*")):  # a symbolic link is not synced (rglob does not enter a linked folder)
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".hive-tmp-"):
            rel = p.relative_to(folder).as_posix()  # a name that is not UTF-8 has lone surrogates here
            try:
                fs.check_path(rel)
            except Reject as e:
                skipped.append((rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                                f"{e.rule}: {e.detail}"))
                continue
            with open(p, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
                out[rel] = (digest, os.fstat(f.fileno()).st_size)
    return out, skipped


def _local_target(folder: Path, path: str) -> Path:
    """Where the vault's file ``path`` goes in ``folder``, its folders made: every folder on the way is a real
    folder of ``folder`` (no symbolic link), and the target is absent or a file (:class:`LocalPathError`)."""
    segs = path.split("/")
    here = folder
    for seg in segs[:-1]:
        here = here / seg
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            raise LocalPathError(f"{path}: {here.relative_to(folder).as_posix()} is not a folder of the home folder")
        here.mkdir(exist_ok=True)
    target = here / segs[-1]
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise LocalPathError(f"{path}: a folder or a symbolic link is there")
    return target


def _write_local(folder: Path, path: str, source: Path) -> None:
    """A copy of the local file ``source`` at ``path``: written beside it, flushed, renamed into place."""
    target = _local_target(folder, path)
    tmp = _tmp_beside(target)
    shutil.copyfile(source, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)


def sync_folder(client: HiveClient, folder: Path, state_file: Path, *, max_rounds: int = 5) -> SyncReport:
    """Bring ``folder`` and the vault partition together (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    journal = state_file.with_name(state_file.name + ".journal")
    state = _load_state(state_file, journal)
    report = SyncReport()
    try:
        return _sync_rounds(client, folder, state, journal, report, max_rounds)
    finally:
        _compact_state(state_file, journal, state)


def _load_state(state_file: Path, journal: Path) -> dict[str, dict[str, Any]]:
    """The bases: the state file, then every complete line of the journal a cut sync left; checked
    (:func:`_check_state`), :class:`LocalStateError` when they are not what the client writes."""
    state: dict[str, dict[str, Any]] = {}
    if state_file.exists():
        try:
            loaded = json.loads(state_file.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):
            raise LocalStateError(state_file, "not JSON") from None
        if not isinstance(loaded, dict):
            raise LocalStateError(state_file, "not an object of paths")
        state.update(loaded)
    if journal.exists():
        data = journal.read_bytes()
        whole = data[:data.rfind(b"\n") + 1]
        if len(whole) < len(data):  # the line being written when the process died: its action is planned
            os.truncate(journal, len(whole))  # again, and the records this sync appends start on a line of their own
        for i, line in enumerate(whole.splitlines()):
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                raise LocalStateError(journal, f"line {i + 1} is not JSON") from None
            if not isinstance(rec, dict) or set(rec) != {"path", "entry"} or not isinstance(rec["path"], str):
                raise LocalStateError(journal, f"line {i + 1} is not a journal record")
            state[rec["path"]] = rec["entry"]
    _check_state(state_file, state)
    return state


_STATE_KEYS = frozenset({"base_version", "base_sha256", "upload_id", "upload_sha256"})


def _check_state(where: Path, state: dict[str, Any]) -> None:
    """Each path's entry is an object of ``base_version`` and ``base_sha256`` (both absent for a path never
    synced whose first upload session is open) and an open session's ``upload_id`` (a string) and
    ``upload_sha256``. Their values are checked as the spec checks a local manifest (``HSYNC-001``: a valid
    path, a version of at least 0, digests of 64 hex digits or null), the session's digest as the local
    file's (it is the digest of the file being sent)."""
    for path, entry in state.items():
        if not isinstance(entry, dict) or not set(entry) <= _STATE_KEYS or not isinstance(entry.get("upload_id", ""), str):
            raise LocalStateError(where, f"the entry of {path!r} is not a base")
    try:
        sync.parse_local([{"path": p, "sha256": e.get("upload_sha256"), "size": 0,
                           "base_version": e.get("base_version", 0), "base_sha256": e.get("base_sha256")}
                          for p, e in state.items()])
    except Reject as e:
        raise LocalStateError(where, f"{e.rule} {e.detail}") from None


def _compact_state(state_file: Path, journal: Path, state: dict[str, dict[str, Any]]) -> None:
    """Write the whole state once (temporary file, renamed into place), then drop the journal."""
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps(state, sort_keys=True))
    os.replace(tmp, state_file)
    journal.unlink(missing_ok=True)


def _sync_rounds(client: HiveClient, folder: Path, state: dict[str, dict[str, Any]], journal: Path,
                 report: SyncReport, max_rounds: int) -> SyncReport:
    log = open(journal, "a", encoding="utf-8")  # one line per action: saving a base costs one short write

    def record(path: str) -> None:
        log.write(json.dumps({"path": path, "entry": state[path]}, sort_keys=True) + "\n")
        log.flush()

    def save(path: str, version: int, sha: str | None) -> None:
        state[path] = {"base_version": version, "base_sha256": sha}
        record(path)

    def remember(path: str, upload_id: str, sha: str) -> None:
        """Keep an open session's id beside the path's base, so a cut upload resumes where it stopped."""
        state[path] = {**state.get(path, {}), "upload_id": upload_id, "upload_sha256": sha}
        record(path)

    with log:
        return _rounds(client, folder, state, report, max_rounds, save, remember)


def _rounds(client: HiveClient, folder: Path, state: dict[str, dict[str, Any]], report: SyncReport,
            max_rounds: int, save: Any, remember: Any) -> SyncReport:
    for _ in range(max_rounds):
        report.rounds += 1
        files, report.skipped = _scan(folder)
        local = {p: sync.LocalEntry(path=p, sha256=files[p][0] if p in files else None,
                                    size=files[p][1] if p in files else 0,
                                    base_version=state.get(p, {}).get("base_version", 0),
                                    base_sha256=state.get(p, {}).get("base_sha256"))
                 for p in set(files) | set(state)}
        remote = client.manifest()
        actions = sync.plan(local, remote)
        if not actions:
            report.complete = True
            return report
        try:
            for a in actions:
                if a.op == "upload":
                    source = folder / (a.source or a.path)
                    size = source.stat().st_size
                    if size > CHUNK:  # streamed from the file in chunks; the vault checks the digest at the end
                        if file_sha256(source) != a.sha256:
                            raise _Replan()  # the file changed since the scan
                        version = _upload_session(client, state, remember, a.path, source, size, a.sha256,
                                                  a.base_version)
                    else:
                        body = source.read_bytes()
                        if hashlib.sha256(body).hexdigest() != a.sha256:
                            raise _Replan()  # the file changed since the scan
                        version = client.write(a.path, body, a.base_version)
                    if a.source is not None:
                        _write_local(folder, a.path, source)
                    report.bytes_up += size
                    save(a.path, version, a.sha256)
                elif a.op == "delete":
                    save(a.path, client.write(a.path, None, a.base_version), None)
                elif a.op == "download":
                    target = _local_target(folder, a.path)
                    try:  # streamed into a temporary file, renamed into place only with the promised digest
                        client.download_to(a.path, target, expect_sha256=a.sha256, expect_size=remote[a.path].size)
                    except DigestMismatch:
                        raise _Replan() from None  # the vault moved on since the manifest
                    report.bytes_down += target.stat().st_size
                    save(a.path, a.base_version, a.sha256)
                elif a.op == "remove":
                    _local_target(folder, a.path).unlink(missing_ok=True)
                    save(a.path, a.base_version, None)
                else:  # adopt
                    save(a.path, a.base_version, a.sha256)
                report.actions.append((a.op, a.path))
        except HiveError as e:
            # the vault moved on (a stale base), or a file changed while it was being sent (its digest)
            if e.reason not in ("HIVE_SYNC_STALE", "HIVE_UPLOAD_DIGEST"):
                raise
        except _Replan:
            pass
    return report


def _upload_session(client: HiveClient, state: dict[str, dict[str, Any]], remember: Any, path: str, source: Path,
                    size: int, sha256: str, base: int) -> int:
    """A large upload through a resumable session: the session a cut sync left for these bytes is resumed
    (the vault says how much it holds), a new one is opened otherwise or when the vault no longer has it."""
    pending = state.get(path, {})
    upload_id = pending.get("upload_id") if pending.get("upload_sha256") == sha256 else None
    if upload_id is None and pending.get("upload_id"):  # a session for bytes the file no longer has: give it up,
        client.cancel_upload(str(pending["upload_id"]))  # so the room it holds in the quota is free now
    if upload_id is not None:
        try:
            return client.upload_resumable(path, source, base, upload_id=upload_id, sha256=sha256)
        except HiveError as e:
            if e.reason not in ("HIVE_FILE_NOT_FOUND", "HIVE_UPLOAD_EXPIRED"):  # the session is gone (finished,
                raise  # expired (HSYNC-005), or the vault lost it): a new one sends the body again
    upload_id = client.start_upload(path, size, sha256)
    remember(path, upload_id, sha256)
    return client.upload_resumable(path, source, base, upload_id=upload_id, sha256=sha256)


class _Replan(Exception):
    """Something moved between the plan and an action: plan again."""
