"""Continuous home-folder sync (:class:`reference.runtime.home_sync.HomeWatcher`) against a real vault over
loopback HTTP: a user's phone and laptop each run the notes app in a Runtime. What the app writes reaches
the vault with no sync call; what the other device writes appears in the folder, where the app reads it;
concurrent writes keep both sides (the spec's conflict copy); a stop, even in the middle of a sync, loses
nothing; two syncs never run at once; a vault that is away is retried without touching the folder."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from spec.hive.sync import conflict_name

from reference.hive.client import HiveClient, SyncReport
from reference.runtime.home_sync import HomeSync, HomeWatcher, folder_listing

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)
from tests.test_integration_runtime_hive import PATH, Device, device, setup, tree, vault_files  # noqa: F401

FAST = {"interval": 0.3, "debounce": 0.05}


@pytest.fixture(params=["sqlite", "postgres"])
def hive_backend(request: pytest.FixtureRequest) -> str | None:
    """Every watcher test runs against a vault on SQLite and on PostgreSQL (``setup`` asks for this)."""
    return request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None


def wait_for(check: Callable[[], object], timeout: float = 20.0) -> object:
    end = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return value


class CountingSync(HomeSync):
    """A real :class:`HomeSync` that counts how many of its syncs run at once, and says when one starts."""

    def __init__(self, *args: object, pause: float = 0.0) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.active = self.most = self.calls = 0
        self.pause = pause
        self.started = threading.Event()
        self._count = threading.Lock()

    def sync(self) -> SyncReport:
        with self._count:
            self.active += 1
            self.calls += 1
            self.most = max(self.most, self.active)
        self.started.set()
        try:
            time.sleep(self.pause)  # widen the window in which a second sync could start
            return super().sync()
        finally:
            with self._count:
                self.active -= 1


def counting(d: Device, pause: float = 0.0) -> CountingSync:
    return CountingSync(d.runtime, d.sync.app_did, d.vault, pause=pause)


def test_what_the_app_writes_reaches_the_vault_without_a_sync_call(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    with HomeWatcher(phone.sync, **FAST) as watcher:
        assert phone.runtime.run(notes, "write").value == 0
        wait_for(lambda: vault_files(laptop.vault) == {PATH: b"buy milk"})
        phone.runtime.write_input(notes, 32, b"buy tea!")
        assert phone.runtime.run(notes, "write").value == 0
        wait_for(lambda: vault_files(laptop.vault) == {PATH: b"buy tea!"})
        assert phone.runtime.run(notes, "delete").value == 0
        wait_for(lambda: vault_files(laptop.vault) == {})
    assert watcher.errors == [] and len(watcher.reports) >= 3
    assert laptop.vault.manifest()[PATH].version == 3  # written, rewritten, deleted


def test_what_another_device_writes_appears_in_the_folder_and_the_app_reads_it(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    with HomeWatcher(phone.sync, **FAST), HomeWatcher(laptop.sync, **FAST):
        laptop.runtime.write_input(notes, 32, b"buy jam!")
        assert laptop.runtime.run(notes, "write").value == 0
        wait_for(lambda: tree(phone.home) == {PATH: b"buy jam!"})
        wait_for(lambda: phone.runtime.apps[notes].state.stored_bytes == 8)  # the quota counts it
        assert phone.runtime.run(notes, "read").value == 8 and phone.runtime.apps[notes].logs[-1] == "buy jam!"
        laptop.vault.write("notes/list.txt", b"from the vault's API", 0)  # any door of the vault
        wait_for(lambda: tree(phone.home).get("notes/list.txt") == b"from the vault's API")
        wait_for(lambda: tree(laptop.home) == tree(phone.home))


def test_concurrent_writes_on_two_devices_keep_both(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    phone.sync.sync(), laptop.sync.sync()  # both start from the same (empty) base
    laptop.runtime.write_input(notes, 32, b"buy jam!")
    assert laptop.runtime.run(notes, "write").value == 0  # the laptop writes while its watcher is not running
    with HomeWatcher(phone.sync, **FAST):
        phone.runtime.write_input(notes, 32, b"buy tea!")
        assert phone.runtime.run(notes, "write").value == 0
        wait_for(lambda: vault_files(phone.vault) == {PATH: b"buy tea!"})  # the phone's write wins the path
        with HomeWatcher(laptop.sync, **FAST):
            copy = conflict_name(PATH, hashlib.sha256(b"buy jam!").hexdigest(), {})
            expected = {PATH: b"buy tea!", copy: b"buy jam!"}
            wait_for(lambda: tree(phone.home) == tree(laptop.home) == vault_files(phone.vault) == expected)


def test_a_stop_in_the_middle_of_a_sync_loses_nothing(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    home = counting(phone, pause=0.3)
    big = bytes(range(256)) * (600 << 2)  # 600 KiB (the vault's quota is 1 MiB)
    watcher = HomeWatcher(home, interval=60, debounce=0.05).start()
    (home.folder / "notes").mkdir(parents=True, exist_ok=True)
    (home.folder / "notes" / "big.bin").write_bytes(big)
    assert home.started.wait(20)  # the watcher's sync of big.bin is under way
    assert phone.runtime.run(notes, "write").value == 0  # the app writes during it
    (home.folder / "notes" / "late.txt").write_bytes(b"written just before the stop")
    during = home.active
    watcher.stop()
    assert during == 1 and home.most == 1 and home.calls >= 2 and watcher.errors == []
    assert vault_files(laptop.vault) == {"notes/big.bin": big, PATH: b"buy milk",
                                         "notes/late.txt": b"written just before the stop"}
    assert tree(home.folder) == vault_files(laptop.vault)  # the folder kept everything too
    assert watcher.stop() is not None and home.active == 0  # a second stop is one more (empty) sync


def test_a_stop_before_any_sync_pushes_what_the_app_wrote(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    watcher = HomeWatcher(phone.sync, interval=60, debounce=30).start()
    assert phone.runtime.run(notes, "write").value == 0
    assert watcher.reports == []
    last = watcher.stop()
    assert last is not None and last.actions == [("upload", PATH)]
    assert vault_files(laptop.vault) == {PATH: b"buy milk"}


def test_two_syncs_never_run_at_once(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone, laptop = device(w, tmp_path / "phone", sign_in("phone")), device(w, tmp_path / "laptop", sign_in("laptop"))
    home = counting(phone, pause=0.05)
    with HomeWatcher(home, interval=0.05, debounce=0.01) as watcher:
        callers = [threading.Thread(target=watcher.sync_now) for _ in range(6)]
        for i, t in enumerate(callers):
            phone.runtime.write_input(notes, 32, f"item {i:03d}".encode()[:8])
            assert phone.runtime.run(notes, "write").value == 0
            t.start()
        for t in callers:
            t.join()
    assert home.most == 1 and home.calls >= 7
    assert vault_files(laptop.vault) == {PATH: b"item 005"}


def test_a_vault_that_is_away_is_retried_and_the_folder_keeps_its_files(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    notes = w.did("notes")
    phone = device(w, tmp_path / "phone", sign_in("phone"))
    away = HiveClient("http://127.0.0.1:9", phone.vault.token)  # nothing listens on the discard port
    errors: list[Exception] = []
    watcher = HomeWatcher(HomeSync(phone.runtime, notes, away), interval=0.1, debounce=0.02, on_error=errors.append)
    watcher.start()
    assert phone.runtime.run(notes, "write").value == 0
    wait_for(lambda: len(errors) >= 2)  # tried again at the next interval
    assert all(isinstance(e, OSError) for e in errors) and errors == watcher.errors[:len(errors)]
    watcher.stop(flush=False)
    assert tree(phone.sync.folder) == {PATH: b"buy milk"}
    with HomeWatcher(phone.sync, **FAST):  # the vault is back (the real one): the file goes up
        wait_for(lambda: vault_files(phone.vault) == {PATH: b"buy milk"})


def test_the_watcher_takes_a_positive_interval_and_lists_without_reading(setup, tmp_path: Path) -> None:
    w, _server, _docs, sign_in = setup
    phone = device(w, tmp_path / "phone", sign_in("phone"))
    with pytest.raises(ValueError, match="positive"):
        HomeWatcher(phone.sync, 0)
    watcher = HomeWatcher(phone.sync, 10).start()
    with pytest.raises(RuntimeError, match="already"):
        watcher.start()
    watcher.stop(flush=False)
    folder = phone.sync.folder
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "x").write_bytes(b"12345")
    (folder / "a" / ".hive-tmp-x").write_bytes(b"partial download")
    listing = folder_listing(folder)
    assert {(p, n) for p, n, _ in listing} == {("a/x", 5)}
    (folder / "a" / "x").write_bytes(b"54321")  # same size: the modification time tells
    os.utime(folder / "a" / "x", ns=(0, 1))
    assert folder_listing(folder) != listing
