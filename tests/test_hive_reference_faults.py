"""Faults of the reference vault as a process, on SQLite and on PostgreSQL: killed (SIGKILL) in the middle of an
upload, in the middle of a resumable session and in the middle of one of its chunks, then restarted on the same
data folder and database: nothing half-written is visible, and the upload completes."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spec.hive import identity

from reference.hive.client import HiveClient, HiveError
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

USER, PHONE = bytes(30) + bytes([11, 1]), bytes(30) + bytes([11, 2])
APP = identity.did_of(bytes(30) + bytes([11, 9]))
REPO = Path(__file__).resolve().parents[1]


def _start(datadir: Path, docs_dir: Path, dsn: str | None) -> tuple[subprocess.Popen[str], int, str]:
    pg = ["--postgres", dsn] if dsn else []
    proc = subprocess.Popen([sys.executable, "-m", "reference.cli", "hive", "serve", "--datadir", str(datadir),
                             "--documents", str(docs_dir), *pg], stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready "), line
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    return proc, int(fields["port"]), fields["did"]


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path):
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400)
            for k in (USER, PHONE)}
    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    for i, text in enumerate(docs.values()):
        (docs_dir / f"{i}.json").write_text(text)
    vc = identity.issue_credential(USER, identity.did_of(PHONE), "app-id-credential", ("AppIdCredential",),
                                   {"appDid": APP}, issued=now - 60, expires=now + 86400)
    procs: list[subprocess.Popen[str]] = []

    def start() -> HiveClient:
        proc, port, did = _start(tmp_path / "vault", docs_dir, dsn)
        procs.append(proc)
        store = HiveStore(tmp_path / "vault", dsn)
        all_docs = {**docs, did: store.documents()[did]}
        store.close()
        c = HiveClient(f"http://127.0.0.1:{port}")
        c.sign_in(PHONE, vc, now=int(time.time()), documents=all_docs)
        c.port = port  # type: ignore[attr-defined]
        c.proc = proc  # type: ignore[attr-defined]
        return c

    yield start, tmp_path
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=20)


def _blobs_are_whole(vault: Path) -> None:
    for f in (vault / "blobs").rglob("*"):
        if f.is_file() and not f.name.startswith("."):
            assert hashlib.sha256(f.read_bytes()).hexdigest() == f.name


@pytest.mark.slow
def test_killed_mid_upload_shows_nothing_half_written(world):
    start, tmp = world
    c = start()
    c.request("PUT", "vault/files/kept.txt", raw=b"written before the crash")
    body = b"x" * (8 << 20)
    s = socket.create_connection(("127.0.0.1", c.port))  # type: ignore[attr-defined]
    s.sendall((f"PUT /api/v2/vault/files/big.bin HTTP/1.1\r\nHost: x\r\nAuthorization: token {c.token}\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body[: len(body) // 2])
    incoming = tmp / "vault" / "blobs" / ".incoming"
    deadline = time.monotonic() + 30
    while not any(incoming.iterdir()) and time.monotonic() < deadline:  # the vault is receiving the body
        time.sleep(0.05)
    time.sleep(0.3)
    c.proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    c.proc.wait(timeout=20)  # type: ignore[attr-defined]
    s.close()
    _blobs_are_whole(tmp / "vault")
    assert [p.name for p in (tmp / "vault" / "blobs" / ".incoming").iterdir()]  # what the vault was receiving
    c2 = start()
    assert list((tmp / "vault" / "blobs" / ".incoming").iterdir()) == []  # dropped on restart: never referenced
    with pytest.raises(HiveError) as info:
        c2.download("big.bin")
    assert info.value.status == 404
    assert c2.download("kept.txt") == b"written before the crash"
    assert "big.bin" not in c2.manifest()
    # the client sends it again, and this time it lands whole
    c2.request("PUT", "vault/files/big.bin", raw=body)
    assert c2.request("GET", "vault/files/big.bin?comp=hash")["hash"] == hashlib.sha256(body).hexdigest()
    _blobs_are_whole(tmp / "vault")


@pytest.mark.slow
def test_killed_mid_session_resumes_after_restart(world):
    start, tmp = world
    c = start()
    body = bytes(range(256)) * 40
    uid = c.request("POST", "vault/sync/uploads", {"path": "r.bin", "size": len(body),
                                                    "sha256": hashlib.sha256(body).hexdigest()})["upload_id"]
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body[:4000])
    c.proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    c.proc.wait(timeout=20)  # type: ignore[attr-defined]
    c2 = start()
    assert c2.request("GET", f"vault/sync/uploads/{uid}")["received"] == 4000
    assert c2.upload_resumable("r.bin", body, 0, upload_id=uid) == 1
    assert c2.download("r.bin") == body
    assert c2.request("GET", "vault/files/r.bin?comp=hash")["hash"] == hashlib.sha256(body).hexdigest()


@pytest.mark.slow
def test_killed_in_the_middle_of_a_chunk_resumes_from_the_bytes_held(world):
    """A chunk cut by the kill leaves the bytes that reached the disk; the session reports them, the client
    continues from there, and the finished file hashes to the declared digest."""
    start, tmp = world
    c = start()
    body = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(64 * 1024))  # 2 MiB
    uid = c.request("POST", "vault/sync/uploads", {"path": "chunked.bin", "size": len(body),
                                                    "sha256": hashlib.sha256(body).hexdigest()})["upload_id"]
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body[: 1 << 20])
    s = socket.create_connection(("127.0.0.1", c.port))  # type: ignore[attr-defined]
    rest = body[1 << 20:]
    s.sendall((f"PUT /api/v2/vault/sync/uploads/{uid}?offset={1 << 20} HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: token {c.token}\r\nContent-Length: {len(rest)}\r\n\r\n").encode() + rest[:300_000])
    time.sleep(0.5)
    c.proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    c.proc.wait(timeout=20)  # type: ignore[attr-defined]
    s.close()
    c2 = start()
    held = c2.request("GET", f"vault/sync/uploads/{uid}")["received"]
    assert (1 << 20) <= held <= (1 << 20) + 300_000
    with pytest.raises(HiveError) as info:  # nothing is visible before the session finishes
        c2.download("chunked.bin")
    assert info.value.status == 404
    assert c2.upload_resumable("chunked.bin", body, 0, upload_id=uid) == 1
    assert c2.download("chunked.bin") == body
