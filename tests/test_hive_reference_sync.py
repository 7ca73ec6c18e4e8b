"""Home-folder sync through the reference vault over HTTP: two devices, conflicts, deletes, stale writes,
a resumable upload cut in the middle, and the sync manifest following ordinary file calls."""

from __future__ import annotations

import hashlib
import time

import pytest

from spec.hive import identity

from reference.hive import client as hc
from reference.hive.client import HiveClient, HiveError, sync_folder
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

USER, PHONE, LAPTOP = (bytes(30) + bytes([9, i]) for i in range(1, 4))
APP = identity.did_of(bytes(30) + bytes([9, 9]))


@pytest.fixture(params=["sqlite", "postgres"])
def vault(request, tmp_path):
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
            for k in (USER, PHONE, LAPTOP)}
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    store = HiveStore(tmp_path / "vault", dsn)
    v = Vault(store, load_service_key(tmp_path / "vault"), quota=50 << 20)
    for text in docs.values():
        v.add_document(text)
    docs[v.service.did] = store.documents()[v.service.did]
    server = HiveServer(v, 0).start()

    def device(key: bytes) -> HiveClient:
        c = HiveClient(f"http://127.0.0.1:{server.port}")
        vc = identity.issue_credential(USER, identity.did_of(key), "app-id-credential", ("AppIdCredential",),
                                       {"appDid": APP}, issued=now - 60, expires=now + 86400)
        c.sign_in(key, vc, now=now, documents=docs)
        c.documents = docs  # type: ignore[attr-defined]
        return c

    yield device, tmp_path
    server.stop()
    store.close()


def phone_docs(client: HiveClient) -> dict[str, str]:
    """The documents the CLI needs to check the vault's challenge: the test's own and the vault's."""
    return client.documents  # type: ignore[attr-defined]


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_devices_converge_and_keep_both_sides_of_a_conflict(vault):
    device, tmp = vault
    phone, laptop = device(PHONE), device(LAPTOP)
    a, b = tmp / "phone" / "home", tmp / "laptop" / "home"
    sa, sb = tmp / "phone" / "state.json", tmp / "laptop" / "state.json"
    a.mkdir(parents=True)
    (a / "notes").mkdir()
    (a / "notes" / "todo.txt").write_bytes(b"milk\n")
    (a / "photo.bin").write_bytes(bytes(range(256)) * 50)
    sync_folder(phone, a, sa)
    report = sync_folder(laptop, b, sb)
    assert _tree(b) == _tree(a) and report.bytes_down == 5 + 12800

    # concurrent edits of the same file, a delete on one side, a new file on the other
    (a / "notes" / "todo.txt").write_bytes(b"milk\neggs\n")
    (b / "notes" / "todo.txt").write_bytes(b"milk\nbread\n")
    (b / "photo.bin").unlink()
    (b / "new.txt").write_bytes(b"from the laptop")
    sync_folder(phone, a, sa)
    sync_folder(laptop, b, sb)
    sync_folder(phone, a, sa)
    assert _tree(a) == _tree(b)
    tree = _tree(a)
    assert tree["notes/todo.txt"] == b"milk\neggs\n"  # the first sync won the path
    conflict = f"notes/todo.conflict-{hashlib.sha256(b'milk' + bytes([10]) + b'bread' + bytes([10])).hexdigest()[:16]}.txt"
    assert tree[conflict] == b"milk\nbread\n"  # the other write is kept, named deterministically
    assert "photo.bin" not in tree and tree["new.txt"] == b"from the laptop"
    # nothing left to do on either side
    assert sync_folder(phone, a, sa).actions == [] and sync_folder(laptop, b, sb).actions == []


def test_stale_write_is_refused(vault):
    device, _ = vault
    phone = device(PHONE)
    assert phone.write("x.txt", b"one", 0) == 1
    with pytest.raises(HiveError) as info:
        phone.write("x.txt", b"two", 0)
    assert (info.value.status, info.value.reason) == (409, "HIVE_SYNC_STALE")
    assert phone.write("x.txt", b"two", 1) == 2
    assert phone.download("x.txt") == b"two"


def test_manifest_follows_file_calls(vault):
    device, _ = vault
    phone = device(PHONE)
    phone.request("PUT", "vault/files/direct.txt", raw=b"v1")
    phone.request("PUT", "vault/files/direct.txt", raw=b"v2")
    phone.request("DELETE", "vault/files/direct.txt")
    m = phone.manifest()
    assert m["direct.txt"].version == 3 and m["direct.txt"].sha256 is None


def test_resumable_upload_survives_a_cut(vault, monkeypatch):
    device, tmp = vault
    phone = device(PHONE)
    monkeypatch.setattr(hc, "CHUNK", 1000)
    body = hashlib.sha256(b"seed").digest() * 200  # 6400 bytes: 7 chunks
    uid = phone.request("POST", "vault/sync/uploads", {"path": "big.bin", "size": len(body),
                                                        "sha256": hashlib.sha256(body).hexdigest()})["upload_id"]
    phone.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body[:1000])
    phone.request("PUT", f"vault/sync/uploads/{uid}?offset=1000", raw=body[1000:2500])
    # the connection drops here; nothing is visible yet
    with pytest.raises(HiveError) as info:
        phone.download("big.bin")
    assert info.value.status == 404
    with pytest.raises(HiveError) as info:  # a chunk at the wrong offset is refused
        phone.request("PUT", f"vault/sync/uploads/{uid}?offset=1000", raw=body[1000:2000])
    assert info.value.reason == "HIVE_UPLOAD_OFFSET"
    with pytest.raises(HiveError) as info:  # finishing early is refused
        phone.request("POST", f"vault/sync/uploads/{uid}?base=0")
    assert info.value.reason == "HIVE_UPLOAD_DIGEST"
    # a new client (same device) resumes from what the vault holds
    again = HiveClient(phone.base[:-len("/api/v2/")], phone.token)
    assert again.request("GET", f"vault/sync/uploads/{uid}")["received"] == 2500
    assert again.upload_resumable("big.bin", body, 0, upload_id=uid) == 1
    assert again.download("big.bin") == body


def test_interrupted_sync_resumes(vault, monkeypatch):
    """A sync cut after some actions leaves a consistent state; the next sync finishes the job."""
    device, tmp = vault
    phone = device(PHONE)
    home, state = tmp / "home", tmp / "state.json"
    home.mkdir()
    for i in range(5):
        (home / f"f{i}.txt").write_bytes(f"file {i}".encode())
    calls = {"n": 0}
    real = HiveClient.write

    def flaky(self, path, body, base):
        calls["n"] += 1
        if calls["n"] == 3:
            raise HiveError(503, "NETWORK", "connection reset")
        return real(self, path, body, base)

    monkeypatch.setattr(HiveClient, "write", flaky)
    with pytest.raises(HiveError):
        sync_folder(phone, home, state)
    assert len(phone.manifest()) == 2
    monkeypatch.setattr(HiveClient, "write", real)
    sync_folder(phone, home, state)
    other = tmp / "other"
    sync_folder(device(LAPTOP), other, tmp / "other.json")
    assert _tree(other) == _tree(home)


def test_cli_signin_and_sync(vault, tmp_path, capsys):
    from reference.cli import main

    device, tmp = vault
    phone = device(PHONE)  # the phone reads back what the laptop's CLI uploads
    url = phone.base[:-len("/api/v2/")]
    now = int(time.time())
    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    store_docs = phone_docs(phone)
    for i, text in enumerate(store_docs.values()):
        (docs_dir / f"{i}.json").write_text(text)
    (tmp_path / "key").write_text(LAPTOP.hex())
    (tmp_path / "vc.json").write_text(identity.issue_credential(
        USER, identity.did_of(LAPTOP), "app-id-credential", ("AppIdCredential",), {"appDid": APP},
        issued=now - 60, expires=now + 86400))
    assert main(["hive", "signin", "--url", url, "--key", str(tmp_path / "key"), "--credential",
                 str(tmp_path / "vc.json"), "--documents", str(docs_dir)]) == 0
    token = capsys.readouterr().out.strip()
    home = tmp_path / "home"
    home.mkdir()
    (home / "a.txt").write_bytes(b"hello")
    assert main(["hive", "sync", "--url", url, "--token", token, "--folder", str(home), "--state",
                 str(tmp_path / "state.json")]) == 0
    assert "upload   a.txt" in capsys.readouterr().out
    assert phone.download("a.txt") == b"hello"
    assert main(["hive", "call", "--url", url, "--token", token, "PUT", "vault/db/collections/notes"]) == 0
    assert main(["hive", "call", "--url", url, "--token", token, "POST", "vault/db/collection/notes",
                 "--json", '{"document": [{"n": 1}]}']) == 0
    capsys.readouterr()
    assert main(["hive", "call", "--url", url, "--token", token, "GET", "vault/db/notes"]) == 0
    assert '"n": 1' in capsys.readouterr().out
    assert main(["hive", "call", "--url", url, "--token", token, "GET", "vault/files/a.txt", "--out",
                 str(tmp_path / "got")]) == 0 and (tmp_path / "got").read_bytes() == b"hello"
    assert main(["hive", "call", "--url", url, "--token", token, "GET", "vault/files/nope"]) == 1
    assert "404 HIVE_FILE_NOT_FOUND" in capsys.readouterr().err
