"""Blob collection in the reference vault, on SQLite and on PostgreSQL: shared bodies stay while a file names
them, a delete, an overwrite or a sync delete frees the body, a process killed between the metadata commit and
the unlink (or in the middle of a sweep) loses no named body and leaves only strays that the next sweep
collects, and a Hypothesis state machine of put/copy/move/delete keeps the blob set equal to the named set."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from spec.errors import Reject
from spec.hive import access, backup
from spec.hive import database as hive_db
from spec.hive.auth import Caller

from reference.hive.server import Body, HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

ALICE = Caller(user_did="did:elastos:alice", app_did="did:elastos:notes", instance_did="did:elastos:a1")
BOB = Caller(user_did="did:elastos:bob", app_did="did:elastos:notes", instance_did="did:elastos:b1")
REPO = Path(__file__).resolve().parents[1]


def _vault(folder: Path, dsn: str | None, quota: int = 1 << 20) -> Vault:
    return Vault(HiveStore(folder, dsn), load_service_key(folder), quota=quota, clock=lambda: 1_750_000_000)


def _put(v: Vault, who: Caller, path: str, data: bytes) -> None:
    v.upload(who, path, Body(io.BytesIO(data), len(data)), False)


def _read(v: Vault, who: Caller, path: str) -> bytes:
    return v.download(who, path).read_bytes()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    return request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None


def test_same_content_shares_one_blob_and_deleting_one_file_keeps_it(backend, tmp_path):
    v = _vault(tmp_path / "vault", backend)
    _put(v, ALICE, "a.txt", b"same body")
    _put(v, ALICE, "b/c.txt", b"same body")
    _put(v, BOB, "x.txt", b"same body")  # another partition, the same blob
    assert v.store.blob_digests() == {_sha(b"same body")}
    v.delete_file(ALICE, "a.txt")
    v.delete_file(ALICE, "b/c.txt")
    assert v.store.blob_digests() == {_sha(b"same body")}
    assert _read(v, BOB, "x.txt") == b"same body"
    v.delete_file(BOB, "x.txt")
    assert v.store.blob_digests() == set()
    v.store.close()


def test_delete_overwrite_move_and_copy_free_exactly_the_unnamed_bodies(backend, tmp_path):
    v = _vault(tmp_path / "vault", backend)
    _put(v, ALICE, "a", b"one")
    _put(v, ALICE, "a", b"two")  # overwrite: "one" is named by nothing
    assert v.store.blob_digests() == {_sha(b"two")}
    v.copy(ALICE, "a", "b")
    v.move(ALICE, "a", "c")  # "two" named by b and c
    v.delete_file(ALICE, "b")
    assert v.store.blob_digests() == {_sha(b"two")} and _read(v, ALICE, "c") == b"two"
    _put(v, ALICE, "d", b"three")
    v.sync_write(ALICE, "d", None, 1)  # a sync delete (tombstone) frees the body too
    v.delete_file(ALICE, "c")
    assert v.store.blob_digests() == set()
    assert v.store.sweep() == 0  # inline collection left nothing behind
    v.store.close()


def test_a_refused_write_collects_nothing_and_loses_nothing(backend, tmp_path):
    v = _vault(tmp_path / "vault", backend, quota=9)
    _put(v, ALICE, "a", b"12345")
    with pytest.raises(Reject):
        _put(v, ALICE, "a/b", b"x")  # a file where a folder would have to be
    with pytest.raises(Reject):
        v.copy(ALICE, "a", "b")  # over the quota: nothing is committed, "a" keeps its body
    with pytest.raises(Reject):
        v.move(ALICE, "missing", "z")
    assert v.store.blob_digests() == {_sha(b"12345")} and _read(v, ALICE, "a") == b"12345"
    v.store.close()


_CRASH = textwrap.dedent("""
    import io, json, os, sys
    from reference.hive.server import Body, HiveServer, Vault, load_service_key
    from reference.hive.store import HiveStore
    from spec.hive.auth import Caller
    folder, dsn, what = sys.argv[1], (sys.argv[2] or None), sys.argv[3]
    who = Caller(user_did="did:elastos:alice", app_did="did:elastos:notes", instance_did="did:elastos:a1")
    left = [int(sys.argv[4])]
    def die(self, sha):  # the process dies where the collector would unlink its next body
        if left[0] == 0:
            os._exit(9)
        left[0] -= 1
        self.blob_path(sha).unlink()
    HiveStore.remove_blob = die
    v = Vault(HiveStore(folder, dsn), load_service_key(__import__("pathlib").Path(folder)), quota=1 << 20,
              clock=lambda: 1_750_000_000)  # its start sweeps: the "sweep" case dies here
    if what == "delete":
        v.delete_file(who, "gone.txt")
    else:
        v.store.sweep()
    os._exit(0)
""")


def _crash(folder: Path, dsn: str | None, what: str, removals_before_death: int) -> int:
    proc = subprocess.run([sys.executable, "-c", _CRASH, str(folder), dsn or "", what, str(removals_before_death)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    return proc.returncode


def test_killed_between_the_commit_and_the_unlink(backend, tmp_path):
    folder = tmp_path / "vault"
    v = _vault(folder, backend)
    _put(v, ALICE, "gone.txt", b"to be deleted")
    _put(v, ALICE, "kept.txt", b"kept")
    v.store.close()
    assert _crash(folder, backend, "delete", 0) == 9  # died after the commit, before the unlink
    store = HiveStore(folder, backend)
    with store.transaction() as con:
        paths = [e.path for e in store.load_files(con, access.database_name(ALICE.user_did, ALICE.app_did)).entries]
    assert paths == ["kept.txt"]  # the delete committed
    assert store.blob_digests() == {_sha(b"to be deleted"), _sha(b"kept")}  # a stray, nothing lost
    store.close()
    v = _vault(folder, backend)  # the vault's start sweeps the stray
    assert v.store.blob_digests() == {_sha(b"kept")} and _read(v, ALICE, "kept.txt") == b"kept"
    v.store.close()


def test_a_failure_after_the_commit_fails_nothing_and_leaves_a_stray(backend, tmp_path, monkeypatch):
    v = _vault(tmp_path / "vault", backend)
    _put(v, ALICE, "gone.txt", b"to be deleted")
    _put(v, ALICE, "kept.txt", b"kept")

    def broken(self, sha):
        raise PermissionError(f"cannot unlink {sha}")

    monkeypatch.setattr(HiveStore, "remove_blob", broken)  # every unlink fails, after the commit
    v.delete_file(ALICE, "gone.txt")  # the call still succeeds: the delete is committed
    with pytest.raises(Reject):
        v.delete_file(ALICE, "gone.txt")
    assert v.store.blob_digests() == {_sha(b"to be deleted"), _sha(b"kept")}
    monkeypatch.setattr(HiveStore, "referenced", lambda self, digests=None: 1 // 0)  # the look-up itself fails
    _put(v, ALICE, "kept.txt", b"kept, rewritten")
    assert _read(v, ALICE, "kept.txt") == b"kept, rewritten"
    monkeypatch.undo()
    assert v.housekeeping()["blobs"] == 2  # the sweep collects both strays
    assert v.store.blob_digests() == {_sha(b"kept, rewritten")}
    v.store.close()


def test_killed_in_the_middle_of_a_sweep(backend, tmp_path):
    folder = tmp_path / "vault"
    v = _vault(folder, backend)
    named = {f"f{i}": f"body {i}".encode() for i in range(4)}
    for path, data in named.items():
        _put(v, ALICE, path, data)
    strays = [f"stray {i}".encode() for i in range(5)]
    for data in strays:
        v.store.put_blob(data)  # as a crash between publication and commit, or commit and unlink, leaves
    v.store.close()
    assert _crash(folder, backend, "sweep", 2) == 9  # two strays removed, then killed
    store = HiveStore(folder, backend)
    assert {_sha(d) for d in named.values()} <= store.blob_digests()
    assert len(store.blob_digests()) == len(named) + len(strays) - 2
    store.close()
    v = _vault(folder, backend)
    assert v.store.blob_digests() == {_sha(d) for d in named.values()}
    assert all(_read(v, ALICE, p) == d for p, d in named.items())
    v.store.close()


def test_a_replaced_backup_frees_the_bodies_only_it_named(backend, tmp_path):
    v = _vault(tmp_path / "vault", backend)
    first = {"user_did": "did:elastos:alice", "databases": [{"sha256": _sha(b"db1")}], "files": [{"sha256": _sha(b"f1")}]}
    second = {"user_did": "did:elastos:alice", "databases": [{"sha256": _sha(b"db2")}], "files": [{"sha256": _sha(b"f1")}]}
    with v.store.transaction() as con:
        for b in (b"db1", b"f1"):
            v.store.put_blob(b)
        v.store.save_backup(con, "did:elastos:alice", first, False)
    assert v.store.blob_digests() == {_sha(b"db1"), _sha(b"f1")}
    with v.store.transaction() as con:
        v.store.put_blob(b"db2")
        v.store.save_backup(con, "did:elastos:alice", second, False)
    assert v.store.blob_digests() == {_sha(b"db2"), _sha(b"f1")}
    v.store.put_blob(b"stray")
    assert v.housekeeping()["blobs"] == 1 and v.store.blob_digests() == {_sha(b"db2"), _sha(b"f1")}
    v.store.close()


def _backup_message(tag: bytes, bodies: list[bytes]) -> dict:
    """A backup message as a vault sends it (``PUT vault-backup-service/backup``): one encrypted dump of
    ALICE's partition (key and nonce from ``tag``, so two tags give two dump blobs) and the file bodies."""
    part = access.database_name(ALICE.user_did, ALICE.app_did)
    meta, blobs = backup.build_metadata(
        ALICE.user_did, {part: backup.dump(part, hive_db.Database())}, {_sha(b): (b, 1) for b in bodies},
        key=hashlib.sha256(tag).digest()[:backup.KEY_SIZE], nonce=hashlib.sha256(tag).digest()[:backup.NONCE_SIZE],
        create_time=1_750_000_000)
    return {"metadata": meta, "blobs": {h: b.hex() for h, b in blobs.items()},
            "bodies": {_sha(b): b.hex() for b in bodies}}


def test_a_backup_read_while_it_is_replaced_is_read_whole(backend, tmp_path, monkeypatch):
    """The backup node's restore reads the dumps and bodies the metadata names; a replacement of the backup
    that commits between the metadata and the blob reads collects the blobs only the old backup named. The
    read must see one whole backup (the old one: the replacement waits for it), never a missing blob."""
    v = _vault(tmp_path / "vault", backend)
    first = _backup_message(b"first", [b"only in the first backup", b"in both"])
    second = _backup_message(b"second", [b"in both", b"only in the second backup"])
    assert v.store_backup(ALICE, first) == {"state": "stored"}
    real_get = v.store.get_blob
    replacement: list[threading.Thread] = []
    replaced = threading.Event()

    def get_blob(digest: str) -> bytes:
        if not replacement:  # the first blob read: a real replacement runs on another thread now
            def replace() -> None:
                v.store_backup(ALICE, second)
                replaced.set()
            replacement.append(threading.Thread(target=replace))
            replacement[0].start()
            replaced.wait(1.0)  # the old code lets it commit and collect here; the lock holds it back
        return real_get(digest)

    monkeypatch.setattr(v.store, "get_blob", get_blob)
    got = v.read_backup(ALICE)
    replacement[0].join(timeout=20)
    assert replaced.is_set() and not replacement[0].is_alive()
    assert got == first
    monkeypatch.undo()
    assert v.read_backup(ALICE) == second
    assert v.store.blob_digests() == {*second["blobs"], *second["bodies"]}  # the first's own blobs collected
    v.store.close()


def test_backups_read_and_replaced_at_once_are_always_whole(backend, tmp_path):
    """Real concurrency, no hook: one thread replaces the backup back and forth while another reads it; every
    read is one of the two backups, whole."""
    v = _vault(tmp_path / "vault", backend)
    messages = [_backup_message(b"first", [b"one", b"shared"]), _backup_message(b"second", [b"shared", b"two"])]
    v.store_backup(ALICE, messages[0])
    done = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(40):
                v.store_backup(ALICE, messages[(i + 1) % 2])
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)
        finally:
            done.set()

    t = threading.Thread(target=writer)
    t.start()
    reads = 0
    while not done.is_set() or reads == 0:
        assert v.read_backup(ALICE) in messages
        reads += 1
    t.join()
    assert failures == [] and reads > 0
    v.store.close()


def test_a_serving_vault_sweeps_on_its_own(backend, tmp_path):
    v = _vault(tmp_path / "vault", backend)
    _put(v, ALICE, "kept.txt", b"kept")
    server = HiveServer(v, 0, housekeeping_every=0.05).start()
    try:
        v.store.put_blob(b"a stray, as a crash leaves it")
        end = time.monotonic() + 20
        while v.store.blob_digests() != {_sha(b"kept")}:
            assert time.monotonic() < end, "the housekeeping never swept"
            time.sleep(0.02)
    finally:
        server.stop()  # waits for a round under way
    v.store.close()


PATHS = st.sampled_from(["a", "b", "d/e", "d/f", "g/h/i"])
BODIES = st.sampled_from([b"", b"x", b"yy", b"shared", b"other body"])


def _machine(dsn: str | None) -> type[RuleBasedStateMachine]:
    class BlobMachine(RuleBasedStateMachine):
        """Put, copy, move and delete against a model (path -> body); the vault's blobs are exactly the
        named bodies after every step, before any sweep, and every file reads back."""

        def __init__(self) -> None:
            super().__init__()
            self.tmp = tempfile.TemporaryDirectory(prefix="hive-gc-")
            self.v = _vault(Path(self.tmp.name), dsn)
            if dsn is not None:  # one database for every example: start each from no rows, as its folder
                with self.v.store.transaction() as con:
                    for table in ("files", "versions", "backups"):
                        con.execute(f"DELETE FROM {table}")
            self.model: dict[str, bytes] = {}

        def _try(self, call, expect_ok: bool) -> None:
            try:
                call()
            except Reject:
                assert not expect_ok
                return
            assert expect_ok

        def _free(self, path: str) -> bool:
            return not any(p == path or p.startswith(path + "/") or path.startswith(p + "/") for p in self.model)

        @rule(path=PATHS, body=BODIES)
        def put(self, path: str, body: bytes) -> None:
            ok = path in self.model or self._free(path)
            self._try(lambda: _put(self.v, ALICE, path, body), ok)
            if ok:
                self.model[path] = body

        @rule(src=PATHS, dst=PATHS)
        def copy(self, src: str, dst: str) -> None:
            ok = src in self.model and self._free(dst)
            self._try(lambda: self.v.copy(ALICE, src, dst), ok)
            if ok:
                self.model[dst] = self.model[src]

        @rule(src=PATHS, dst=PATHS)
        def move(self, src: str, dst: str) -> None:
            ok = src in self.model and self._free(dst)
            self._try(lambda: self.v.move(ALICE, src, dst), ok)
            if ok:
                self.model[dst] = self.model.pop(src)

        @rule(path=PATHS)
        def delete(self, path: str) -> None:
            ok = path in self.model
            self._try(lambda: self.v.delete_file(ALICE, path), ok)
            if ok:
                del self.model[path]

        @invariant()
        def blobs_are_the_named_bodies(self) -> None:
            named = {_sha(b) for b in self.model.values()}
            assert self.v.store.blob_digests() == named == self.v.store.referenced()
            assert self.v.store.sweep() == 0
            assert all(_read(self.v, ALICE, p) == b for p, b in self.model.items())

        def teardown(self) -> None:
            self.v.store.close()
            self.tmp.cleanup()

    return BlobMachine


def test_blob_state_machine(backend):
    run_state_machine_as_test(_machine(backend), settings=settings(
        max_examples=25 if backend is None else 10, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
