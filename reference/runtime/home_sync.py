"""An app's home folder synced to the user's Hive vault.

The Runtime keeps an app's files in ``<root>/home/<user DID>/<app DID>/``
(:meth:`reference.runtime.sandbox.Runtime.home`); the user's vault keeps the partition of the same
(user DID, app DID) pair. :class:`HomeSync` joins the two through the Hive sync client
(:func:`reference.hive.client.sync_folder`, which carries out :func:`spec.hive.sync.plan`): one
:meth:`HomeSync.sync` pushes what the app wrote, pulls what another device of the same user wrote,
keeps both sides of a conflict under the spec's deterministic conflict name, and turns deletes into
tombstones. After a sync the runtime counts the home folder's bytes again, so the storage quota
(RT-092) covers the files the sync brought in.

The vault client is signed in as the app instance on this device, presenting the user's
``AppIdCredential`` for the app's DID (:meth:`reference.hive.client.HiveClient.sign_in`): that is
what puts the calls in the (user, app) partition. :class:`HomeSync` checks that the client's access
token names this runtime's user and app before it syncs anything.

The sync client's state (the base version of every path) lives outside the home folder, in
``<root>/sync/<user DID>/<app DID>.json``, so it is neither visible to the app nor synced.

A caller may run :meth:`HomeSync.sync` between calls into the app, or let a :class:`HomeWatcher` keep the
folder in step while the app runs: it polls the folder's listing (path, size, modification time of every
file: a ``stat`` walk, no hashing) every fraction of a second, syncs once the folder has been quiet for
``debounce`` seconds after a change, and syncs every ``interval`` seconds in any case, which is how it
learns what another device wrote (one manifest request when nothing changed). One lock makes every sync,
the watcher's and any :meth:`HomeWatcher.sync_now`, run alone; :meth:`HomeWatcher.stop` lets a sync under
way finish, then runs a last one, so whatever the app wrote before the stop reaches the vault. The app's
storage calls write by ``os.replace`` and the sync client renames downloads into place, so neither side
ever sees a half-written file; the rescan after a sync and the app's storage calls take turns on the
runtime's ``storage_lock``. The sync rules are the spec's, carried out by
:func:`reference.hive.client.sync_folder`; the watcher only decides when.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from reference.hive.client import HiveClient, SyncReport, sync_folder
from reference.runtime.sandbox import Runtime

__all__ = ["HomeSync", "HomeWatcher", "folder_listing", "token_partition"]


def token_partition(token: str) -> tuple[str, str]:
    """The (user DID, app DID) an access token's claims name (the vault checked its signature)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    props = claims.get("props")
    props = json.loads(props) if isinstance(props, str) else props or {}
    return props.get("userDid", ""), props.get("appDid", "")


class HomeSync:
    """One app's home folder in one runtime, kept in step with the user's vault partition."""

    def __init__(self, runtime: Runtime, app_did: str, client: HiveClient) -> None:
        if client.token is None:
            raise ValueError("the vault client is not signed in")
        partition = token_partition(client.token)
        if partition != (runtime.user, app_did):
            raise ValueError(f"the access token is for {partition}, not ({runtime.user}, {app_did})")
        self.runtime = runtime
        self.app_did = app_did
        self.client = client

    @property
    def folder(self) -> Path:
        return self.runtime.home(self.app_did)

    @property
    def state_file(self) -> Path:
        path = self.runtime.root / "sync" / self.runtime.user / f"{self.app_did}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def sync(self) -> SyncReport:
        """Push the app's changes, pull the vault's, and count the home folder's bytes again."""
        try:
            return sync_folder(self.client, self.folder, self.state_file)
        finally:
            if self.app_did in self.runtime.apps:
                self.runtime.rescan(self.app_did)


def folder_listing(folder: Path) -> frozenset[tuple[str, int, int]]:
    """``(path, size, modification time in ns)`` of every file under ``folder``: what the watcher compares
    to notice a change without reading a byte (the sync client's own temporary files left out)."""
    out = []
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            if name.startswith(".hive-tmp-"):
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except FileNotFoundError:  # removed while the folder was walked: the next poll sees it gone
                continue
            out.append((os.path.relpath(full, folder), st.st_size, st.st_mtime_ns))
    return frozenset(out)


class HomeWatcher:
    """Keeps one :class:`HomeSync` in step while the app runs, on a thread of its own.

    ``interval``: at most this many seconds pass between two syncs (a change from another device waits
    at most this long, as does a local change that never stops changing). ``debounce``: a local change is
    synced once the folder has not changed for this long (default: a quarter of ``interval``, at most
    one second). ``on_error``: called with a sync's error (the vault away, a network cut); the watcher
    goes on and tries again at the next interval, and the folder keeps every file meanwhile.
    """

    def __init__(self, home: HomeSync, interval: float, *, debounce: float | None = None,
                 on_error: Callable[[Exception], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("the sync interval must be positive")
        self.home = home
        self.interval = float(interval)
        self.debounce = float(debounce) if debounce is not None else min(1.0, self.interval / 4)
        self.poll = max(0.02, min(self.debounce, self.interval) / 4)
        """Seconds between two looks at the folder's listing."""
        self.on_error = on_error
        self.clock = clock
        self.reports: list[SyncReport] = []
        """Every sync's report, in order (the watcher's, ``sync_now``'s and the last one at the stop)."""
        self.errors: list[Exception] = []
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HomeWatcher:
        if self._thread is not None:
            raise RuntimeError("the watcher was started already")
        # the listing changes are measured from, taken here: a file written once start() returned is a change
        seen = folder_listing(self.home.folder)
        self._thread = threading.Thread(target=self._run, args=(seen,), name="home-sync", daemon=True)
        self._thread.start()
        return self

    def sync_now(self) -> SyncReport:
        """One sync, after any sync under way (never two at once)."""
        with self._lock:
            report = self.home.sync()
            self.reports.append(report)
            return report

    def stop(self, *, flush: bool = True) -> SyncReport | None:
        """Stop the watcher: a sync under way finishes, then (``flush``) a last sync pushes whatever the app
        wrote since. Idempotent; returns the last sync's report."""
        self._quit.set()
        if self._thread is not None:
            self._thread.join()
        return self.sync_now() if flush else None

    def __enter__(self) -> HomeWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, seen: frozenset[tuple[str, int, int]]) -> None:
        folder = self.home.folder
        changed_at: float | None = None
        due = self.clock() + self.interval
        while not self._quit.wait(self.poll):
            now_listing = folder_listing(folder)
            now = self.clock()
            if now_listing != seen:
                seen, changed_at = now_listing, now
            quiet = changed_at is not None and now - changed_at >= self.debounce
            if not quiet and now < due:
                continue
            # the listing the sync starts from: whatever changes while it runs (the app's writes, or the
            # sync's own downloads) is a change the next look sees, so nothing written meanwhile waits
            seen, changed_at = folder_listing(folder), None
            try:
                self.sync_now()
            except Exception as e:  # noqa: BLE001 - the vault away, a cut, a bad answer: the watcher tries again later
                self.errors.append(e)
                if self.on_error is not None:
                    self.on_error(e)
            due = self.clock() + self.interval
