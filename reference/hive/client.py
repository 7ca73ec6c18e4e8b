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
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.did import document
from spec.hive import auth, identity, sync

from reference.hive.stream import copy_hashed

CHUNK = 1 << 20
"""Bodies above this size are uploaded through a resumable session, in chunks of this size."""
IO_CHUNK = 1 << 20
"""Bodies are sent and received in pieces of this size; a file is sent with ``sendfile``."""


class HiveError(Exception):
    """A call the vault refused: its HTTP status and the spec's reason code."""

    def __init__(self, status: int, reason: str, message: str, rule: str | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message, self.rule = status, reason, message, rule


class HiveClient:
    """Calls on one vault (``http://127.0.0.1:<port>``) with one access token."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60) -> None:
        self.base = url.rstrip("/") + "/api/v2/"
        self.token = token
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.base)
        self._host, self._port, self._prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path

    def request(self, method: str, path: str, body: Any = None, raw: bytes | Path | None = None,
                auth_header: bool = True) -> Any:
        """One call: a JSON ``body``, or a ``raw`` body given as bytes or as a file (streamed, never read
        whole). A JSON answer is decoded; any other answer is returned as bytes."""
        with self._exchange(method, path, body=body, raw=raw, auth_header=auth_header) as r:
            payload, ctype = r.read(), r.getheader("Content-Type")
        if ctype == "application/json":
            return json.loads(payload) if payload else None
        return payload

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
        except BaseException:
            conn.close()
            raise
        if r.status >= 400:
            payload = r.read()
            conn.close()
            try:
                err = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                err = {"reason": "HTTP", "message": payload[:200].decode(errors="replace")}
            raise HiveError(r.status, err.get("reason") or "HTTP", err.get("message") or "", err.get("rule"))
        return _Response(conn, r)

    def sign_in(self, instance_key: bytes, credential: str, *, now: int, documents: dict[str, str]) -> str:
        """The sign-in of the app instance ``instance_key`` presenting ``credential`` (an AppIdCredential)."""
        did = identity.did_of(instance_key)
        challenge = self.request("POST", "did/signin", {"id": json.loads(documents[did])}, auth_header=False)
        service_did, nonce = auth.check_challenge(challenge["challenge"], did, now=now,
                                                  resolve=document.resolver_from_texts(documents))
        vp = identity.create_presentation(instance_key, (credential,), realm=service_did, nonce=nonce, created=now)
        response = auth.make_response(vp, instance_did=did, key_id=identity.key_id_of(instance_key),
                                      private_key=instance_key, service_did=service_did, now=now)
        self.token = self.request("POST", "did/auth", {"challenge_response": response}, auth_header=False)["token"]
        return self.token

    # -- sync primitives -----------------------------------------------------------------------------------

    def manifest(self) -> dict[str, sync.RemoteEntry]:
        return sync.parse_remote(self.request("GET", "vault/sync/manifest")["manifest"])

    def write(self, path: str, body: bytes | Path | None, base: int) -> int:
        """Upload (``body``: bytes or a file, streamed) or delete (``None``) over version ``base``; the new version."""
        q = f"vault/sync/files/{urllib.parse.quote(path)}?base={base}"
        out = self.request("PUT", q, raw=body) if body is not None else self.request("DELETE", q)
        return int(out["version"])

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
        offset = self.request("GET", f"vault/sync/uploads/{upload_id}")["received"]
        while offset < size:
            url = f"vault/sync/uploads/{upload_id}?offset={offset}"
            n = min(CHUNK, size - offset)
            if isinstance(body, Path):
                with self._exchange("PUT", url, raw=body, offset=offset, length=n) as r:
                    offset = json.loads(r.read())["received"]
            else:
                offset = self.request("PUT", url, raw=body[offset:offset + n])["received"]
        return int(self.request("POST", f"vault/sync/uploads/{upload_id}?base={base}")["version"])

    def cancel_upload(self, upload_id: str) -> bool:
        """Give a resumable session up (``DELETE vault/sync/uploads/<id>``); ``False`` if the vault no longer
        has it (finished, purged) or it is not this partition's."""
        try:
            self.request("DELETE", f"vault/sync/uploads/{upload_id}")
        except HiveError as e:
            if e.reason != "HIVE_FILE_NOT_FOUND":
                raise
            return False
        return True

    def start_upload(self, path: str, size: int, sha256: str) -> str:
        """Open a resumable session for ``size`` bytes with digest ``sha256``; its id."""
        return str(self.request("POST", "vault/sync/uploads", {"path": path, "size": size, "sha256": sha256})["upload_id"])

    def upload_file(self, path: str, source: Path, *, public: bool = False) -> dict[str, Any]:
        """``PUT vault/files/<path>`` of a local file, streamed with ``sendfile`` (never read whole)."""
        q = f"vault/files/{urllib.parse.quote(path)}" + ("?public=true" if public else "")
        out: dict[str, Any] = self.request("PUT", q, raw=source)
        return out

    def download(self, path: str) -> bytes:
        return self.request("GET", f"vault/files/{urllib.parse.quote(path)}")

    def download_to(self, path: str, target: Path, *, expect_sha256: str | None = None, durable: bool = True) -> str:
        """Stream a file of the vault into ``target``: received in large pieces into a temporary file beside
        it, hashed as it arrives, flushed to disk (unless not ``durable``) and renamed into place. With
        ``expect_sha256``, a body with another digest is dropped (:class:`DigestMismatch`) and ``target`` is
        left as it was. The body's SHA-256."""
        tmp = target.with_name(f".hive-tmp-{target.name}")
        digest = hashlib.sha256()
        try:
            with self._exchange("GET", f"vault/files/{urllib.parse.quote(path)}") as r, \
                    open(tmp, "wb", buffering=0) as f:
                # a large body is hashed on a second thread while the next piece arrives
                declared = r.length  # what Content-Length promised (it counts down as the body is read)
                got_bytes = copy_hashed(r.readinto, f.write, declared if declared is not None else 1 << 62,
                                        [digest.update], piece=IO_CHUNK)
                if declared is not None and got_bytes < declared:  # the connection closed early
                    raise ConnectionError(f"{path}: the body ended {declared - got_bytes} bytes short")
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


def _scan(folder: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.startswith(".hive-tmp-"):
            with open(p, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
                out[p.relative_to(folder).as_posix()] = (digest, os.fstat(f.fileno()).st_size)
    return out


def _write_local(folder: Path, path: str, source: Path) -> None:
    """A copy of the local file ``source`` at ``path``: written beside it, flushed, renamed into place."""
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".hive-tmp-{target.name}")
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
    """The bases: the state file, then every complete line of the journal a cut sync left."""
    state: dict[str, dict[str, Any]] = json.loads(state_file.read_text()) if state_file.exists() else {}
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                break  # the line being written when the process died: its action is planned again
            state[rec["path"]] = rec["entry"]
    return state


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
        files = _scan(folder)
        local = {p: sync.LocalEntry(path=p, sha256=files[p][0] if p in files else None,
                                    size=files[p][1] if p in files else 0,
                                    base_version=state.get(p, {}).get("base_version", 0),
                                    base_sha256=state.get(p, {}).get("base_sha256"))
                 for p in set(files) | set(state)}
        remote = client.manifest()
        actions = sync.plan(local, remote)
        if not actions:
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
                    target = folder / a.path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:  # streamed into a temporary file, renamed into place only with the promised digest
                        client.download_to(a.path, target, expect_sha256=a.sha256)
                    except DigestMismatch:
                        raise _Replan() from None  # the vault moved on since the manifest
                    report.bytes_down += target.stat().st_size
                    save(a.path, a.base_version, a.sha256)
                elif a.op == "remove":
                    (folder / a.path).unlink(missing_ok=True)
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
