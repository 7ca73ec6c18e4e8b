"""A network cut during a home-folder sync, on SQLite and on PostgreSQL: the client talks to the vault through a
real loopback TCP proxy that resets every connection once a byte budget is spent, in the middle of an upload or
of a download. Nothing half-written becomes visible on either side, nothing is lost, and the next sync finishes
the job (a large upload resuming the vault's session where it stopped, not starting again)."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

from spec.hive import identity

from reference.hive import client as hc
from reference.hive.client import HiveClient, sync_folder
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

USER, PHONE, LAPTOP = (bytes(30) + bytes([13, i]) for i in range(1, 4))
APP = identity.did_of(bytes(30) + bytes([13, 9]))


class CutProxy:
    """A TCP proxy on an ephemeral loopback port in front of ``target``. ``budget_up`` / ``budget_down`` bytes
    (client to vault / vault to client) are forwarded; when one is spent, the connection carrying the next
    byte is reset (RST) on both sides, and so is every later one until :meth:`heal`. ``forwarded_up`` counts
    the bytes that reached the vault."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.budget_up: int | None = None
        self.budget_down: int | None = None
        self.forwarded_up = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def heal(self) -> None:
        with self._lock:
            self.budget_up = self.budget_down = None

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target))
            for src, dst, way in ((conn, up, "up"), (up, conn, "down")):
                threading.Thread(target=self._pump, args=(src, dst, way, (conn, up)), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, way: str, pair: tuple[socket.socket, ...]) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                with self._lock:
                    budget = getattr(self, f"budget_{way}")
                    cut = budget is not None and len(data) > budget
                    if budget is not None:
                        data = data[:budget]
                        setattr(self, f"budget_{way}", budget - len(data))
                    if way == "up":
                        self.forwarded_up += len(data)
                if data:
                    dst.sendall(data)
                if cut:
                    self.cuts += 1
                    for s in pair:  # a reset, as when a cable is pulled and the peer gives up
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        s.close()
                    return
        except OSError:
            for s in pair:
                s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def net(request, tmp_path):
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
    proxy = CutProxy(server.port)

    def device(key: bytes, *, through_proxy: bool) -> HiveClient:
        direct = HiveClient(f"http://127.0.0.1:{server.port}")
        vc = identity.issue_credential(USER, identity.did_of(key), "app-id-credential", ("AppIdCredential",),
                                       {"appDid": APP}, issued=now - 60, expires=now + 86400)
        direct.sign_in(key, vc, now=now, documents=docs)
        return HiveClient(f"http://127.0.0.1:{proxy.port}", direct.token) if through_proxy else direct

    yield device, proxy, tmp_path
    proxy.close()
    server.stop()
    store.close()


def _body(n: int, seed: str) -> bytes:
    block = b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(1024))
    return (block * (n // len(block) + 1))[:n]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _live(c: HiveClient) -> dict[str, str]:
    return {p: e.sha256 for p, e in c.manifest().items() if e.sha256 is not None}


def test_cut_in_the_middle_of_an_upload(net, monkeypatch):
    device, proxy, tmp = net
    monkeypatch.setattr(hc, "CHUNK", 256 * 1024)  # 3 MiB in 12 chunks
    phone, watcher = device(PHONE, through_proxy=True), device(LAPTOP, through_proxy=False)
    home, state = tmp / "home", tmp / "state.json"
    home.mkdir()
    files = {"a1.txt": b"first", "a2.txt": b"second", "big.bin": _body(3 << 20, "big"), "z1.txt": b"last"}
    for name, data in files.items():
        (home / name).write_bytes(data)
    proxy.budget_up = (1 << 20) + 300 * 1024  # the connection drops about 1.3 MiB into big.bin
    with pytest.raises(OSError):
        sync_folder(phone, home, state)
    assert proxy.cuts == 1
    # the vault shows the whole small files written before the cut and nothing of big.bin or what came after
    assert _live(watcher) == {p: hashlib.sha256(files[p]).hexdigest() for p in ("a1.txt", "a2.txt")}
    assert _tree(home) == files  # the folder is untouched
    pending = json.loads(state.read_text())["big.bin"]
    held = watcher.request("GET", f"vault/sync/uploads/{pending['upload_id']}")["received"]
    assert 0 < held < len(files["big.bin"])
    # the network comes back: the next sync resumes the session and sends only what the vault lacks
    proxy.heal()
    sent_before = proxy.forwarded_up
    report = sync_folder(phone, home, state)
    assert sorted(p for op, p in report.actions if op == "upload") == ["big.bin", "z1.txt"]
    assert proxy.forwarded_up - sent_before < len(files["big.bin"]) - held + 64 * 1024  # the rest, plus headers
    assert _live(watcher) == {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    assert watcher.download("big.bin") == files["big.bin"]
    other = tmp / "laptop"
    sync_folder(watcher, other, tmp / "laptop.json")
    assert _tree(other) == files
    assert sync_folder(phone, home, state).actions == []


def test_cut_in_the_middle_of_a_download(net):
    device, proxy, tmp = net
    laptop, phone = device(LAPTOP, through_proxy=False), device(PHONE, through_proxy=True)
    src, home, state = tmp / "laptop", tmp / "home", tmp / "state.json"
    src.mkdir()
    files = {"a.txt": b"small", "big.bin": _body(3 << 20, "down"), "c.txt": b"after"}
    for name, data in files.items():
        (src / name).write_bytes(data)
    sync_folder(laptop, src, tmp / "laptop.json")
    home.mkdir()
    (home / "mine.txt").write_bytes(b"a local file the cut must not lose")
    proxy.budget_down = 1 << 20  # the connection drops about 1 MiB into big.bin
    with pytest.raises(OSError):
        sync_folder(phone, home, state)
    assert proxy.cuts == 1
    # nothing half-downloaded is visible, no temporary file is left, the local file is still there
    assert _tree(home) == {"a.txt": b"small", "mine.txt": b"a local file the cut must not lose"}
    assert "big.bin" not in json.loads(state.read_text())
    proxy.heal()
    sync_folder(phone, home, state)
    assert _tree(home) == {**files, "mine.txt": b"a local file the cut must not lose"}
    sync_folder(laptop, src, tmp / "laptop.json")
    assert _tree(src) == _tree(home)


def test_a_client_killed_mid_sync_keeps_every_base_its_journal_recorded(tmp_path):
    """The bases of actions done before a kill are in the journal (its last line may be cut): loading the state
    replays every complete line and stops at the cut one, whose action the next sync plans again."""
    state, journal = tmp_path / "state.json", tmp_path / "state.json.journal"
    state.write_text(json.dumps({"a.txt": {"base_version": 1, "base_sha256": "1" * 64}}))
    lines = [json.dumps({"path": "a.txt", "entry": {"base_version": 2, "base_sha256": "2" * 64}}),
             json.dumps({"path": "b.txt", "entry": {"base_version": 1, "base_sha256": "3" * 64}})]
    journal.write_text("\n".join(lines) + "\n" + lines[1][:20])
    loaded = hc._load_state(state, journal)
    assert loaded == {"a.txt": {"base_version": 2, "base_sha256": "2" * 64},
                      "b.txt": {"base_version": 1, "base_sha256": "3" * 64}}
    hc._compact_state(state, journal, loaded)
    assert json.loads(state.read_text()) == loaded and not journal.exists()
