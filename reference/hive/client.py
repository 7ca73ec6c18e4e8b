"""A Hive client: DID sign-in, JSON calls, and the home-folder sync of :mod:`spec.hive.sync` over HTTP.

:func:`sync_folder` keeps a local folder (the Runtime's ``home/<user DID>/<app DID>/``) and the
caller's vault partition in step. It reads the folder and the vault's manifest, asks
:func:`spec.hive.sync.plan` what to do, and does it: uploads are compare-and-swap on the version the
plan saw (large ones resumable, in chunks), downloads land in a temporary file renamed into place
only when their SHA-256 is the one the manifest promised, and a conflict copy is written both to the
vault and to the folder. If the vault moved on meanwhile (``HIVE_SYNC_STALE``) or a download does not
match, the round stops and the next round plans again from fresh state. The client's bases live in a
JSON state file beside the folder and are saved after every action, so a cut connection resumes
where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.did import document
from spec.hive import auth, identity, sync

CHUNK = 1 << 20
"""Bodies above this size are uploaded through a resumable session, in chunks of this size."""


class HiveError(Exception):
    """A call the vault refused: its HTTP status and the spec's reason code."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


class HiveClient:
    """Calls on one vault (``http://127.0.0.1:<port>``) with one access token."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60) -> None:
        self.base = url.rstrip("/") + "/api/v2/"
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                auth_header: bool = True) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if auth_header and self.token:
            req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                payload, ctype = r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                err = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                err = {"reason": "HTTP", "message": payload[:200].decode(errors="replace")}
            raise HiveError(e.code, err.get("reason") or "HTTP", err.get("message") or "") from None
        if ctype == "application/json":
            return json.loads(payload) if payload else None
        return payload

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

    def write(self, path: str, body: bytes | None, base: int) -> int:
        """Upload (``body``) or delete (``None``) over version ``base``; the new version."""
        q = f"vault/sync/files/{urllib.parse.quote(path)}?base={base}"
        out = self.request("PUT", q, raw=body) if body is not None else self.request("DELETE", q)
        return int(out["version"])

    def upload_resumable(self, path: str, body: bytes, base: int, upload_id: str | None = None) -> int:
        """A chunked upload; ``upload_id`` resumes a session (the vault says how much it holds)."""
        if upload_id is None:
            upload_id = self.request("POST", "vault/sync/uploads", {
                "path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})["upload_id"]
        offset = self.request("GET", f"vault/sync/uploads/{upload_id}")["received"]
        while offset < len(body):
            chunk = body[offset:offset + CHUNK]
            offset = self.request("PUT", f"vault/sync/uploads/{upload_id}?offset={offset}", raw=chunk)["received"]
        return int(self.request("POST", f"vault/sync/uploads/{upload_id}?base={base}")["version"])

    def download(self, path: str) -> bytes:
        return self.request("GET", f"vault/files/{urllib.parse.quote(path)}")


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
            data = p.read_bytes()
            out[p.relative_to(folder).as_posix()] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def _write_local(folder: Path, path: str, data: bytes) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".hive-tmp-{target.name}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def sync_folder(client: HiveClient, folder: Path, state_file: Path, *, max_rounds: int = 5) -> SyncReport:
    """Bring ``folder`` and the vault partition together (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, dict[str, Any]] = json.loads(state_file.read_text()) if state_file.exists() else {}
    report = SyncReport()

    def save(path: str, version: int, sha: str | None) -> None:
        state[path] = {"base_version": version, "base_sha256": sha}
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True))
        os.replace(tmp, state_file)

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
                    body = (folder / (a.source or a.path)).read_bytes()
                    if hashlib.sha256(body).hexdigest() != a.sha256:
                        raise _Replan()  # the file changed since the scan
                    version = (client.upload_resumable(a.path, body, a.base_version) if len(body) > CHUNK
                               else client.write(a.path, body, a.base_version))
                    if a.source is not None:
                        _write_local(folder, a.path, body)
                    report.bytes_up += len(body)
                    save(a.path, version, a.sha256)
                elif a.op == "delete":
                    save(a.path, client.write(a.path, None, a.base_version), None)
                elif a.op == "download":
                    data = client.download(a.path)
                    if hashlib.sha256(data).hexdigest() != a.sha256:
                        raise _Replan()  # the vault moved on since the manifest
                    _write_local(folder, a.path, data)
                    report.bytes_down += len(data)
                    save(a.path, a.base_version, a.sha256)
                elif a.op == "remove":
                    (folder / a.path).unlink(missing_ok=True)
                    save(a.path, a.base_version, None)
                else:  # adopt
                    save(a.path, a.base_version, a.sha256)
                report.actions.append((a.op, a.path))
        except HiveError as e:
            if e.reason != "HIVE_SYNC_STALE":
                raise
        except _Replan:
            pass
    return report


class _Replan(Exception):
    """Something moved between the plan and an action: plan again."""
