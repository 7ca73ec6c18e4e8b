"""The Runtime's home folder synced to a real Hive vault: a user with two devices (a phone and a
laptop), each running its own Runtime with the same notes app. The app on the phone writes a file
into its home folder; a sync pushes it to the user's vault (the reference vault over HTTP on
loopback, signed in with real ES256 JWTs as the app instance on each device); the laptop's sync pulls
it into the laptop runtime's home folder, where the app reads it. Both devices then change the same
file: the spec's rule keeps both writes (the first sync wins the path, the other is kept under the
deterministic conflict name) and both devices end up with the same files."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reject
from spec.hive import files as hive_files
from spec.hive import identity
from spec.hive.sync import conflict_name
from spec.runtime import paths as runtime_paths

from reference.hive.client import HiveClient, HiveError
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore
from reference.runtime.carrier import LoopbackCarrier
from reference.runtime.home_sync import HomeSync
from reference.runtime.sandbox import Runtime, compile_wat
from reference.runtime.world import World

NOW = 1_750_000_000
PATH = "notes/today.txt"

# A notes app with three entry points: ``write`` stores the 8 bytes at 32 as the file named by the 15 bytes
# at 0 (notes/today.txt), ``read`` reads that file and logs it (-1: no such file), ``delete`` deletes it.
NOTEBOOK = """
(module
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "storage_delete" (func $delete (param i32 i32) (result i32)))
  (import "elastos" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "notes/today.txt")
  (data (i32.const 32) "buy milk")
  (func (export "write") (result i32)
    (call $write (i32.const 0) (i32.const 15) (i32.const 32) (i32.const 8)))
  (func (export "read") (result i32)
    (local $n i32)
    (local.set $n (call $read (i32.const 0) (i32.const 15) (i32.const 1024) (i32.const 1024)))
    (if (i32.ge_s (local.get $n) (i32.const 0))
      (then (drop (call $log (i32.const 1024) (local.get $n)))))
    (local.get $n))
  (func (export "delete") (result i32)
    (call $delete (i32.const 0) (i32.const 15))))
"""


@dataclass
class Device:
    runtime: Runtime
    sync: HomeSync
    vault: HiveClient

    @property
    def home(self) -> Path:
        return self.sync.folder


@pytest.fixture
def hive_backend() -> str | None:
    """The vault's database: ``None`` for SQLite, or a PostgreSQL DSN (a module that imports :func:`setup`
    overrides this fixture to run on both, as ``tests/test_hive_home_watcher.py`` does)."""
    return None


@pytest.fixture
def setup(tmp_path: Path, hive_backend: str | None) -> Iterator[tuple[World, HiveServer, dict[str, str], object]]:
    w = World(b"integration-hive")
    now = int(time.time())
    docs = {identity.did_of(w.key(x)): identity.primitive_document(w.key(x), created=now - 3600,
                                                                     expires=now + 86400 * 365)
            for x in ("user", "phone", "laptop")}
    store = HiveStore(tmp_path / "vault", hive_backend)
    vault = Vault(store, load_service_key(tmp_path / "vault"), quota=1 << 20)
    for text in docs.values():
        vault.add_document(text)
    docs[vault.service.did] = store.documents()[vault.service.did]
    server = HiveServer(vault, 0).start()

    def sign_in(device: str, app: str = "notes") -> HiveClient:
        """The app instance on ``device`` signs in with the AppIdCredential the user issued it."""
        client = HiveClient(f"http://127.0.0.1:{server.port}")
        vc = identity.issue_credential(w.key("user"), identity.did_of(w.key(device)), "app-id-credential",
                                       ("AppIdCredential",), {"appDid": w.did(app)}, issued=now - 60,
                                       expires=now + 86400)
        client.sign_in(w.key(device), vc, now=now, documents=docs)
        return client

    try:
        yield w, server, docs, sign_in
    finally:
        server.stop()
        store.close()


def device(w: World, root: Path, client: HiveClient) -> Device:
    rt = Runtime(w.did("user"), w.resolve, root, LoopbackCarrier(), now=NOW)
    code = compile_wat(NOTEBOOK)
    rt.install(code, w.manifest("notes", code, permissions=("storage.read", "storage.write")),
               [[w.token("notes", "storage:notes/*", a)] for a in ("read", "write", "delete")])
    return Device(rt, HomeSync(rt, w.did("notes"), client), client)


def tree(folder: Path) -> dict[str, bytes]:
    """The folder's files and their bodies, without a sync's download in flight (``.hive-tmp-<name>``, renamed
    into place once whole; the client's own scan skips it too). A watcher's sync may rename or delete a file
    between the listing and the read; then the snapshot is taken again, a bounded number of times."""
    for _ in range(100):
        try:
            return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                    if p.is_file() and not p.name.startswith(".hive-tmp-")}
        except FileNotFoundError:
            continue
    raise AssertionError(f"{folder}: files kept vanishing while read")


def vault_files(client: HiveClient) -> dict[str, bytes]:
    """The partition's live files, read through the vault's HTTP API: the manifest, then each body, which
    must be the one the manifest names. A device's watcher may sync between the two reads (a file deleted,
    404, or rewritten); then the snapshot is read again, a bounded number of times."""
    for _ in range(50):
        manifest = client.request("GET", "vault/sync/manifest")["manifest"]
        out = {}
        try:
            for e in manifest:
                if e["sha256"] is not None:
                    body = client.request("GET", f"vault/files/{e['path']}")
                    if hashlib.sha256(body).hexdigest() != e["sha256"] or len(body) != e["size"]:
                        raise _MovedOn
                    out[e["path"]] = body
        except _MovedOn:
            continue
        except HiveError as err:
            if err.status != 404:
                raise
            continue
        return out
    raise AssertionError("the vault's files never matched its manifest")


class _MovedOn(Exception):
    """A body read after the manifest is not the one it named (the partition changed in between)."""


def test_home_folder_syncs_through_the_vault(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone = device(w, tmp_path / "phone", sign_in("phone"))
    laptop = device(w, tmp_path / "laptop", sign_in("laptop"))
    home = f"home/{w.did('user')}/{notes}"
    assert phone.home == tmp_path / "phone" / home and laptop.home == tmp_path / "laptop" / home

    # the app on the phone writes; a sync pushes the file to the vault
    assert phone.runtime.run(notes, "write").value == 0
    assert tree(phone.home) == {PATH: b"buy milk"}
    assert phone.sync.sync().actions == [("upload", PATH)]
    assert vault_files(laptop.vault) == {PATH: b"buy milk"}

    # the laptop's runtime pulls it into its own home folder; the app there reads it
    assert laptop.runtime.run(notes, "read").value == -1
    report = laptop.sync.sync()
    assert report.actions == [("download", PATH)] and report.bytes_down == 8
    assert tree(laptop.home) == {PATH: b"buy milk"}
    assert laptop.runtime.apps[notes].state.stored_bytes == 8  # the quota counts what the sync brought
    assert laptop.runtime.run(notes, "read").value == 8
    assert laptop.runtime.apps[notes].logs == ["buy milk"]
    # nothing outside the home folder but the runtime's own sync state and temporary files
    assert {p.relative_to(tmp_path / "laptop").parts[0] for p in (tmp_path / "laptop").rglob("*") if p.is_file()} \
        == {"home", "sync"}

    # both devices change the file before either syncs: a conflict
    phone.runtime.write_input(notes, 32, b"buy tea!")
    laptop.runtime.write_input(notes, 32, b"buy jam!")
    assert phone.runtime.run(notes, "write").value == 0 and laptop.runtime.run(notes, "write").value == 0
    assert phone.sync.sync().actions == [("upload", PATH)]  # the first sync wins the path
    copy = conflict_name(PATH, hashlib.sha256(b"buy jam!").hexdigest(), {})
    assert copy == f"notes/today.conflict-{hashlib.sha256(b'buy jam!').hexdigest()[:16]}.txt"
    assert laptop.sync.sync().actions == [("upload", copy), ("download", PATH)]  # the other write is kept
    assert phone.sync.sync().actions == [("download", copy)]
    expected = {PATH: b"buy tea!", copy: b"buy jam!"}
    assert tree(phone.home) == tree(laptop.home) == vault_files(phone.vault) == expected
    assert phone.sync.sync().actions == [] and laptop.sync.sync().actions == []
    assert laptop.runtime.run(notes, "read").value == 8 and laptop.runtime.apps[notes].logs[-1] == "buy tea!"
    assert phone.runtime.apps[notes].state.stored_bytes == laptop.runtime.apps[notes].state.stored_bytes == 16

    # the app on the laptop deletes the file: the vault keeps a tombstone, the phone's copy goes
    assert laptop.runtime.run(notes, "delete").value == 0
    assert laptop.sync.sync().actions == [("delete", PATH)]
    assert [e for e in phone.vault.request("GET", "vault/sync/manifest")["manifest"] if e["path"] == PATH] \
        == [{"path": PATH, "version": 3, "sha256": None, "size": 0}]
    assert phone.sync.sync().actions == [("remove", PATH)]
    assert tree(phone.home) == tree(laptop.home) == vault_files(phone.vault) == {copy: b"buy jam!"}
    assert phone.runtime.apps[notes].state.stored_bytes == 8 and phone.runtime.run(notes, "read").value == -1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=12), min_size=1, max_size=4)
       | st.lists(st.sampled_from(["notes", "a.txt", ".", "..", "", "x:y", "%2e", "CON", ".elastos", "é", "\u00e9",
                                   "e\u0301", "\x7f", "a b", "~", ".hidden"]), min_size=1, max_size=4))
def test_every_path_an_app_can_write_can_be_synced(names: list[str]) -> None:
    """The vault's path rule (HFS-001) accepts every path the runtime's rules (RT-040 .. RT-048) accept,
    so no file an app writes is stuck outside the sync."""
    path = "/".join(names)
    try:
        runtime_paths.check_path(path)
    except Reject:
        return
    hive_files.check_path(path)


def test_home_sync_takes_only_a_token_for_its_own_partition(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    rt = Runtime(w.did("user"), w.resolve, tmp_path / "phone", LoopbackCarrier(), now=NOW)
    with pytest.raises(ValueError, match="access token"):
        HomeSync(rt, w.did("notes"), sign_in("phone", app="chat"))  # a token for another app's partition
    with pytest.raises(ValueError, match="not signed in"):
        HomeSync(rt, w.did("notes"), HiveClient("http://127.0.0.1:1"))
    other = Runtime(w.did("friend"), w.resolve, tmp_path / "friend", LoopbackCarrier(), now=NOW)
    with pytest.raises(ValueError, match="access token"):
        HomeSync(other, w.did("notes"), sign_in("phone"))  # the vault partition is another user's
