"""An adversarial audit of the Hive client (``reference/hive/client.py`` and the ``elastos hive`` commands)
against a hostile or faulty vault: a real HTTP server on loopback whose every answer the test writes.

What must hold whatever the vault answers: the client writes, deletes and renames nothing outside the
synced folder (and its state and journal files); a local file is replaced only by a body that hashes to
the promised digest, and a conflict keeps both sides; every bad answer ends in a typed exception
(:class:`HiveError` and its subclasses, :class:`DigestMismatch`, a ``ConnectionError`` or a timeout),
never a hang, never a temporary file left behind; the CLI turns each into a message and exit status 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.crypto import p256
from spec.hive import auth, identity

from reference import cli
from reference.hive import client as hc
from reference.hive.client import BadReply, DigestMismatch, HiveClient, HiveError, sync_folder

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TYPED = (HiveError, DigestMismatch, ConnectionError, TimeoutError)
"""What a bad answer may end in."""


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# -- the fake vault ---------------------------------------------------------------------------------------------


Answer = Callable[["Handler", str, str, dict[str, str], bytes], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        split = urllib.parse.urlsplit(self.path)
        route = split.path.removeprefix("/api/v2/")
        query = dict(urllib.parse.parse_qsl(split.query))
        self.server.seen.append((self.command, self.path))
        self.close_connection = True
        try:
            self.server.answer(self, self.command, route, query, body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_PUT = do_POST = do_DELETE = _any

    def send(self, status: int, payload: Any = None, *, ctype: str | None = "application/json",
             length: int | None = None, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response_only(status)
        if ctype is not None and payload is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    answer: Answer
    seen: list[tuple[str, str]]


class FakeVault:
    """A real HTTP server on loopback; ``answer(handler, method, route, query, body)`` writes each answer."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.answer = answer or (lambda h, *a: h.send(404, {"error": {"reason": "X"}}))
        self.httpd.seen = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def answer(self) -> Answer:
        return self.httpd.answer

    @answer.setter
    def answer(self, fn: Answer) -> None:
        self.httpd.answer = fn

    @property
    def seen(self) -> list[tuple[str, str]]:
        return self.httpd.seen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def client(self, timeout: float = 5) -> HiveClient:
        return HiveClient(self.url, "t.t.t", timeout=timeout)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fake():
    v = FakeVault()
    yield v
    v.close()


class SyncVault:
    """A vault of the sync routes with whatever manifest and bodies the test gives, recording every upload."""

    def __init__(self, manifest: Any, bodies: dict[str, bytes] | None = None, version: Any = None,
                 mode: str = "right") -> None:
        self.manifest, self.bodies, self.version, self.mode = manifest, bodies or {}, version, mode
        self.uploads: list[tuple[str, bytes]] = []

    def __call__(self, h: Handler, method: str, route: str, query: dict[str, str], body: bytes) -> None:
        if route == "vault/sync/manifest":
            return h.send(200, {"manifest": self.manifest})
        if route.startswith("vault/files/") and method == "GET":
            path = urllib.parse.unquote(route.removeprefix("vault/files/"), errors="surrogateescape")
            if path not in self.bodies or self.mode == "404":
                return h.send(404, {"error": {"reason": "HIVE_FILE_NOT_FOUND", "message": path}})
            b = self.bodies[path]
            if self.mode == "wrong":
                return h.send(200, b + b"!", ctype="application/octet-stream")
            if self.mode == "short":
                return h.send(200, b, ctype="application/octet-stream", length=len(b) + 5)
            return h.send(200, b, ctype="application/octet-stream")
        if route.startswith("vault/sync/files/") and method in ("PUT", "DELETE"):
            path = urllib.parse.unquote(route.removeprefix("vault/sync/files/"))
            self.uploads.append((path, body))
            base = int(query.get("base", "0"))
            return h.send(200, {"path": path, "version": base + 1 if self.version is None else self.version})
        return h.send(404, {"error": {"reason": "HIVE_FILE_NOT_FOUND", "message": route}})


class Tree:
    """A scratch root: ``home/`` (the synced folder, with local files), ``outside/`` and a file beside
    ``home`` (what a hostile path aims at), the state file."""

    LOCAL = {"a": b"local a", "keep.txt": b"mine", "d/e.txt": b"deep"}

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hca-"))
        self.home = self.root / "home"
        self.state = self.root / "state.json"
        (self.root / "outside").mkdir()
        (self.root / "outside" / "secret.txt").write_bytes(b"secret")
        (self.root / "x").write_bytes(b"beside")
        for p, b in self.LOCAL.items():
            (self.home / p).parent.mkdir(parents=True, exist_ok=True)
            (self.home / p).write_bytes(b)
        self.before = self.outside()

    def outside(self) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for p in sorted(self.root.rglob("*")):
            rel = p.relative_to(self.root).as_posix()
            if rel == "home" or rel.startswith("home/") or rel.startswith("state.json"):
                continue
            out[rel] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
        return out

    def files(self) -> dict[str, bytes]:
        return {p.relative_to(self.home).as_posix(): p.read_bytes() for p in sorted(self.home.rglob("*"))
                if p.is_file() and not p.is_symlink()}

    def check(self, uploads: list[tuple[str, bytes]]) -> None:
        assert self.outside() == self.before, "the client changed something outside the folder"
        assert not [p for p in self.root.rglob("*") if ".hive-tmp-" in p.name], "a temporary file was left"
        kept = set(self.files().values()) | {b for _, b in uploads}
        for p, b in self.LOCAL.items():
            assert b in kept, f"the local file {p} was lost"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def run_sync(vault: FakeVault, answer: SyncVault, tree: Tree) -> Exception | None:
    vault.answer = answer
    try:
        sync_folder(vault.client(), tree.home, tree.state, max_rounds=2)
    except TYPED as e:
        return e
    return None


# -- manifests --------------------------------------------------------------------------------------------------

BODIES = [b"remote one", b"remote two", b""]
SEGMENTS = ["a", "b", "c.txt", "d", "e.txt", "..", ".", "", "x" * 256, "é" * 128, "\udc80", "a\x00", "a\\b",
            "outside", "keep.txt", "y" * 250]
HOSTILE_PATHS = ["../x", "/etc/x", "a/../../b", "../outside/secret.txt", "a/b", "a//b", "./a", "x" * 256,
                 "d/" + "z" * 300, "\udcff", "a/./b"]
paths = st.one_of(st.sampled_from(HOSTILE_PATHS), st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3)
                  .map("/".join))
numbers = st.one_of(st.integers(-2, 6), st.just(2**80), st.just(-(2**80)),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3), st.booleans(), st.none())
digests = st.one_of(st.sampled_from([sha(b) for b in BODIES]), st.none(),
                    st.sampled_from(["ABC", sha(b"x").upper(), 5]))


@st.composite
def entries(draw: Any) -> dict[str, Any]:
    e = {"path": draw(paths), "version": draw(st.one_of(st.integers(1, 4), numbers)), "sha256": draw(digests),
         "size": draw(st.one_of(st.sampled_from([len(b) for b in BODIES]), numbers))}
    if draw(st.integers(0, 9)) == 0:
        e.pop(draw(st.sampled_from(sorted(e))))
    if draw(st.integers(0, 9)) == 0:
        e["extra"] = 1
    return e


manifests = st.one_of(st.lists(entries(), max_size=6), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
                      st.integers(), st.text(max_size=4), st.none())


@SETTINGS
@given(manifest=manifests, mode=st.sampled_from(["right", "right", "wrong", "short", "404"]))
def test_any_manifest_ends_typed_and_keeps_every_local_file(fake, manifest, mode):
    """Generated manifests, right or wrong bodies: the sync ends or raises a typed error; nothing outside
    the folder changes, no temporary file stays, every local file's bytes are in the folder or the vault."""
    bodies = {}
    for e in manifest if isinstance(manifest, list) else []:
        if isinstance(e, dict) and isinstance(e.get("path"), str):
            bodies[e["path"]] = next((b for b in BODIES if sha(b) == e.get("sha256")), b"other")
    tree = Tree()
    try:
        answer = SyncVault(manifest, bodies, mode=mode)
        run_sync(fake, answer, tree)
        tree.check(answer.uploads)
        promised = {e.get("sha256") for e in manifest if isinstance(e, dict)} if isinstance(manifest, list) else set()
        for p, b in tree.files().items():  # a file the sync wrote holds a body the manifest promised
            assert b in Tree.LOCAL.values() or sha(b) in promised, p
    finally:
        tree.remove()


@pytest.mark.parametrize("bad", [p for p in HOSTILE_PATHS if p != "a/b"])
def test_a_manifest_path_out_of_the_folder_is_refused(fake, bad):
    tree = Tree()
    try:
        answer = SyncVault([{"path": bad, "version": 1, "sha256": sha(b"evil"), "size": 4}], {bad: b"evil"})
        err = run_sync(fake, answer, tree)
        assert isinstance(err, BadReply) and err.rule == "HSYNC-001"
        tree.check(answer.uploads)
        assert tree.files() == Tree.LOCAL
    finally:
        tree.remove()


def test_a_path_both_file_and_folder_is_refused(fake):
    """``a`` and ``a/b`` both live: no folder can hold both (before: the download of ``a/b`` failed in
    ``mkdir`` with an untyped ``FileExistsError`` after ``a`` had been written)."""
    tree = Tree()
    try:
        one, two = b"remote one", b"remote two"
        answer = SyncVault([{"path": "f", "version": 1, "sha256": sha(one), "size": len(one)},
                            {"path": "f/g", "version": 1, "sha256": sha(two), "size": len(two)}],
                           {"f": one, "f/g": two})
        err = run_sync(fake, answer, tree)
        assert isinstance(err, BadReply) and err.rule == "HSYNC-001"
        assert tree.files() == Tree.LOCAL
    finally:
        tree.remove()


def test_a_segment_longer_than_a_file_name_is_refused(fake):
    """A 256-byte segment cannot be a file name (NAME_MAX 255): the manifest is refused (before: an untyped
    ``OSError: File name too long``)."""
    tree = Tree()
    try:
        long = "é" * 128  # 256 UTF-8 bytes
        answer = SyncVault([{"path": long, "version": 1, "sha256": sha(b"x"), "size": 1}], {long: b"x"})
        err = run_sync(fake, answer, tree)
        assert isinstance(err, BadReply) and err.rule == "HSYNC-001"
    finally:
        tree.remove()


def test_a_name_of_255_bytes_downloads(fake):
    """The longest file name downloads (before: its temporary name, ``.hive-tmp-`` and the name, was too long
    for the file system)."""
    tree = Tree()
    try:
        name = "n" * 255
        answer = SyncVault([{"path": name, "version": 1, "sha256": sha(b"long"), "size": 4}], {name: b"long"})
        assert run_sync(fake, answer, tree) is None
        assert tree.files()[name] == b"long"
    finally:
        tree.remove()


def test_a_symlink_in_the_folder_is_not_followed(fake):
    """A link in the folder to a folder outside: a download below it would write there (before: it wrote
    ``outside/secret.txt``); a link to a file outside would upload that file (before: it did)."""
    tree = Tree()
    try:
        (tree.home / "link").symlink_to(tree.root / "outside", target_is_directory=True)
        (tree.home / "leak").symlink_to(tree.root / "outside" / "secret.txt")
        tree.before = tree.outside()
        answer = SyncVault([{"path": "link/secret.txt", "version": 1, "sha256": sha(b"evil"), "size": 4}],
                           {"link/secret.txt": b"evil"})
        err = run_sync(fake, answer, tree)
        assert isinstance(err, HiveError) and err.reason == "HIVE_LOCAL_PATH"
        assert (tree.root / "outside" / "secret.txt").read_bytes() == b"secret"
        assert b"secret" not in [b for _, b in answer.uploads]
        tree.check(answer.uploads)
    finally:
        tree.remove()


def test_a_remote_file_where_a_local_folder_is(fake):
    """The vault names ``d`` a file while ``d/`` is a local folder holding ``d/e.txt``: typed, and the folder
    keeps its file (before: an untyped ``IsADirectoryError``)."""
    tree = Tree()
    try:
        answer = SyncVault([{"path": "d", "version": 1, "sha256": sha(b"file"), "size": 4}], {"d": b"file"})
        err = run_sync(fake, answer, tree)
        assert isinstance(err, HiveError) and err.reason == "HIVE_LOCAL_PATH"
        tree.check(answer.uploads)
        assert tree.files()["d/e.txt"] == b"deep"
    finally:
        tree.remove()


@pytest.mark.parametrize("version", ["7", 2.5, True, -1, 0, 2**80, None, 5])
def test_a_write_answer_with_another_version_is_refused(fake, version):
    """A sync write over base ``b`` makes version ``b + 1`` (HSYNC-002); any other answer is refused (before:
    ``int()`` took ``"7"``, ``2.5``, ``True`` and any number, and kept it as the base)."""
    fake.answer = SyncVault([], version=version if version is not None else {"v": 1})
    with pytest.raises(BadReply):
        fake.client().write("a", b"x", 0)


# -- replies ----------------------------------------------------------------------------------------------------


def raw_answer(status: int, payload: Any, ctype: str | None = "application/json", **kw: Any) -> Answer:
    return lambda h, *a: h.send(status, payload, ctype=ctype, **kw)


@pytest.mark.parametrize("payload,ctype", [
    (b"not json", "application/json"),
    (b'{"manifest": [', "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"manifest": []}', "text/html"),
    ([1, 2], "application/json"),
    ({"other": []}, "application/json"),
    (b'"\xff"', "application/json"),
])
def test_a_manifest_reply_that_is_not_one_is_refused(fake, payload, ctype):
    """Not JSON, cut, nested 100,000 deep, of another type, not an object, or without ``manifest``: a
    :class:`BadReply` (before: ``TypeError``, ``KeyError``, ``RecursionError`` or ``JSONDecodeError``)."""
    fake.answer = raw_answer(200, payload, ctype)
    with pytest.raises(BadReply):
        fake.client().manifest()


def test_a_json_reply_with_a_charset_is_json(fake):
    """``application/json; charset=utf-8`` is JSON (before: the manifest came back as bytes, a ``TypeError``)."""
    fake.answer = raw_answer(200, {"manifest": []}, "application/json; charset=utf-8")
    assert fake.client().manifest() == {}


@pytest.mark.parametrize("status", [301, 302, 307, 204, 100 + 99])
def test_a_status_not_of_success_is_an_error(fake, status, tmp_path):
    """A redirect (or another non-2xx status below 400) is not a download: before, a 302 wrote an empty file
    at the target."""
    target = tmp_path / "t"
    target.write_bytes(b"kept")
    fake.answer = raw_answer(status, b"", "application/octet-stream", headers={"Location": "http://127.0.0.1:9/x"})
    if status == 204:
        with pytest.raises(HiveError):
            fake.client().download_to("a", target, expect_sha256=sha(b"x"))
    else:
        with pytest.raises(HiveError) as e:
            fake.client().download_to("a", target)
        assert e.value.status == status
    assert target.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == ["t"]


@pytest.mark.parametrize("status", [418, 503, 507, 599])
@pytest.mark.parametrize("payload", [b"teapot", b'{"error": "a string"}', b'{"error": {"reason": 5, "message": []}}',
                                     b"[" * 100_000, b'{"error": null}', b"\xff\xfe"])
def test_an_unknown_status_with_any_body_is_a_hive_error(fake, status, payload):
    """Before: ``{"error": "a string"}`` was an ``AttributeError`` and a body nested deep a ``RecursionError``."""
    fake.answer = raw_answer(status, payload)
    with pytest.raises(HiveError) as e:
        fake.client().request("GET", "vault/sync/manifest")
    assert e.value.status == status and isinstance(e.value.reason, str) and isinstance(e.value.message, str)


def test_a_short_body_leaves_nothing(fake, tmp_path):
    """Regression: a body shorter than its ``Content-Length`` is a ``ConnectionError``, the target as it was."""
    target = tmp_path / "t"
    target.write_bytes(b"kept")
    fake.answer = raw_answer(200, b"abc", "application/octet-stream", length=10)
    with pytest.raises(ConnectionError):
        fake.client().download_to("a", target)
    assert target.read_bytes() == b"kept" and [p.name for p in tmp_path.iterdir()] == ["t"]


def test_a_body_longer_than_promised_is_refused(fake, tmp_path):
    """The manifest promises a size: a body of another size is refused after at most one byte more (before:
    a vault could send without end and fill the disk)."""
    target = tmp_path / "t"
    fake.answer = raw_answer(200, b"abcdef" * 1000, "application/octet-stream")
    with pytest.raises(DigestMismatch):
        fake.client().download_to("a", target, expect_sha256=sha(b"abc"), expect_size=3)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_digest_mismatch_leaves_the_target(fake, tmp_path):
    """Regression: a body with another digest is dropped, the target as it was."""
    target = tmp_path / "t"
    target.write_bytes(b"kept")
    fake.answer = raw_answer(200, b"evil", "application/octet-stream")
    with pytest.raises(DigestMismatch):
        fake.client().download_to("a", target, expect_sha256=sha(b"good"))
    assert target.read_bytes() == b"kept" and [p.name for p in tmp_path.iterdir()] == ["t"]


def test_a_reply_that_never_ends_times_out(fake, tmp_path):
    """Regression: headers, then silence (or a body promised and never sent): the client's timeout ends it."""
    def stall(h: Handler, *a: Any) -> None:
        h.send_response_only(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "100")
        h.end_headers()
        h.wfile.flush()
        time.sleep(2)

    fake.answer = stall
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        fake.client(timeout=0.3).manifest()
    with pytest.raises(TimeoutError):
        fake.client(timeout=0.3).download_to("a", tmp_path / "t")
    assert time.monotonic() - t0 < 2 and list(tmp_path.iterdir()) == []


def test_a_json_reply_past_the_bound_is_refused(fake):
    """A JSON answer is read whole, so it is bounded (``max_reply``): a vault that sends without end (here, a
    body with no length that keeps coming) is refused at the bound (before: read until memory ran out)."""
    def endless(h: Handler, *a: Any) -> None:
        h.send_response_only(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(b'{"manifest": [' + b" " * (1 << 20))
        h.wfile.flush()

    fake.answer = endless
    c = fake.client()
    c.max_reply = 1 << 16
    with pytest.raises(BadReply):
        c.manifest()


# -- resumable uploads ------------------------------------------------------------------------------------------


class UploadVault:
    """The resumable routes; ``status`` and ``chunk`` say what ``received`` to answer."""

    def __init__(self, uid: Any = "u1", status: Callable[[int], Any] = lambda n: 0,
                 chunk: Callable[[int, int], Any] = lambda off, n: off + n, version: Any = None) -> None:
        self.uid, self.status, self.chunk, self.version = uid, status, chunk, version
        self.puts = 0

    def __call__(self, h: Handler, method: str, route: str, query: dict[str, str], body: bytes) -> None:
        if route == "vault/sync/uploads" and method == "POST":
            return h.send(200, {"upload_id": self.uid, "received": 0})
        if method == "GET":
            return h.send(200, {"received": self.status(len(body))})
        if method == "PUT":
            self.puts += 1
            if self.puts > 20:
                return h.send(503, {"error": {"reason": "ENOUGH", "message": "the test's bound"}})
            return h.send(200, {"received": self.chunk(int(query["offset"]), len(body))})
        if method == "POST":
            base = int(query["base"])
            return h.send(200, {"version": base + 1 if self.version is None else self.version})
        return h.send(404, {"error": {"reason": "HIVE_FILE_NOT_FOUND"}})


@pytest.mark.parametrize("status,chunk", [
    (lambda n: 10**9, lambda off, n: off + n),  # beyond the size
    (lambda n: -5, lambda off, n: off + n),  # negative
    (lambda n: 1.5, lambda off, n: off + n),  # not an integer
    (lambda n: "0", lambda off, n: off + n),
    (lambda n: 0, lambda off, n: 0),  # a chunk answer going back: before, the client sent the first chunk for ever
    (lambda n: 0, lambda off, n: off),  # no progress
    (lambda n: 0, lambda off, n: off + n + 7),  # past the size
    (lambda n: 0, lambda off, n: True),
])
@pytest.mark.parametrize("as_file", [False, True])
def test_a_hostile_received_count_is_refused(fake, tmp_path, status, chunk, as_file):
    body = os.urandom(hc.CHUNK + 100)
    src = tmp_path / "big"
    src.write_bytes(body)
    v = UploadVault(status=status, chunk=chunk)
    fake.answer = v
    with pytest.raises(BadReply):
        fake.client().upload_resumable("big", src if as_file else body, 0)
    assert v.puts <= 2


@pytest.mark.parametrize("version", [5, "1", None, 0])
def test_a_finish_with_another_version_is_refused(fake, version):
    fake.answer = UploadVault(version=version if version is not None else [1])
    with pytest.raises(BadReply):
        fake.client().upload_resumable("f", b"x" * 10, 0)


@pytest.mark.parametrize("uid", ["../../files/evil", "a/b", "a?offset=9", "a#b", "%2e%2e"])
def test_an_upload_id_with_path_characters_stays_one_segment(fake, uid):
    """The vault's upload id is sent as one quoted segment below ``vault/sync/uploads/`` (before: ``../../``
    sent the chunks to another route)."""
    fake.answer = UploadVault(uid=uid)
    del fake.seen[:]
    fake.client().upload_resumable("f", b"x" * 10, 0)
    for method, target in fake.seen[1:]:
        route = urllib.parse.urlsplit(target).path
        assert route.startswith("/api/v2/vault/sync/uploads/")
        rest = route.removeprefix("/api/v2/vault/sync/uploads/")
        assert "/" not in rest and urllib.parse.unquote(rest) == uid


@pytest.mark.parametrize("uid", [5, None, ["a"], {"a": 1}, ""])
def test_an_upload_id_not_a_string_is_refused(fake, uid):
    fake.answer = UploadVault(uid=uid)
    with pytest.raises(BadReply):
        fake.client().upload_resumable("f", b"x" * 10, 0)


# -- sign-in ----------------------------------------------------------------------------------------------------

NOW = int(time.time())  # the CLI signs in at the clock's time
VAULT_KEY, OTHER_KEY, INSTANCE, USER = (bytes(30) + bytes([13, i]) for i in range(1, 5))


def _documents() -> dict[str, str]:
    return {identity.did_of(k): identity.primitive_document(k, created=NOW - 3600, expires=NOW + 86400)
            for k in (VAULT_KEY, OTHER_KEY, INSTANCE, USER)}


def _challenge(key: bytes = VAULT_KEY, *, kid_key: bytes = VAULT_KEY, aud: str | None = None, now: int = NOW) -> str:
    service = auth.ServiceKey(did=identity.did_of(kid_key), key_id=identity.key_id_of(kid_key), private_key=key,
                              public_key=p256.public_key_from_private(key))
    doc = _documents()[identity.did_of(INSTANCE)]
    if aud is not None:
        doc = _documents()[aud]
    _, jwt = auth.sign_in(auth.AuthState(), doc, service, nonce="n" * 32, now=now)
    return jwt


def signin_vault(challenge: Any, token: Any) -> Answer:
    def answer(h: Handler, method: str, route: str, query: dict[str, str], body: bytes) -> None:
        if route == "did/signin":
            return h.send(200, challenge)
        if route == "did/auth":
            return h.send(200, token)
        return h.send(404, {"error": {"reason": "X"}})
    return answer


def _credential() -> str:
    return identity.issue_credential(USER, identity.did_of(INSTANCE), "app-id-credential", ("AppIdCredential",),
                                     {"appDid": identity.did_of(OTHER_KEY)}, issued=NOW - 60, expires=NOW + 3600)


@pytest.mark.parametrize("challenge,reason", [
    ({"challenge": "not.a.jwt"}, "HIVE_JWT_MALFORMED"),
    ({"challenge": 5}, None),
    ("a string", None),
    ({"other": 1}, None),
    ({"challenge": "CHALLENGE_OTHER_KEY"}, "HIVE_JWT_SIGNATURE"),
    ({"challenge": "CHALLENGE_EXPIRED"}, "HIVE_TOKEN_EXPIRED"),
    ({"challenge": "CHALLENGE_AUDIENCE"}, "HIVE_TOKEN_AUDIENCE"),
])
def test_a_bad_challenge_is_refused(fake, challenge, reason):
    if isinstance(challenge, dict) and isinstance(challenge.get("challenge"), str):
        challenge = {"challenge": {
            "CHALLENGE_OTHER_KEY": lambda: _challenge(OTHER_KEY),
            "CHALLENGE_EXPIRED": lambda: _challenge(now=NOW - 3600),
            "CHALLENGE_AUDIENCE": lambda: _challenge(aud=identity.did_of(USER)),
        }.get(challenge["challenge"], lambda: challenge["challenge"])()}
    fake.answer = signin_vault(challenge, {"token": "a.b.c"})
    c = HiveClient(fake.url, timeout=5)
    with pytest.raises(BadReply) as e:
        c.sign_in(INSTANCE, _credential(), now=NOW, documents=_documents())
    if reason is not None:
        assert e.value.reason == reason
    assert c.token is None
    assert [r for _, r in fake.seen[-2:]].count("/api/v2/did/auth") == 0


def test_a_good_challenge_signs_in(fake):
    """The control: the same fake vault with a valid challenge and token signs in."""
    fake.answer = signin_vault({"challenge": _challenge()}, {"token": "a.b.c"})
    c = HiveClient(fake.url, timeout=5)
    assert c.sign_in(INSTANCE, _credential(), now=NOW, documents=_documents()) == "a.b.c"


@pytest.mark.parametrize("token", [{"token": 5}, {"token": None}, {"token": ["a"]}, {"token": "a\r\nX-Evil: 1"},
                                   {"token": ""}, {}, "a.b.c", {"token": "a b"}])
def test_a_token_answer_that_is_not_a_token_is_refused(fake, token):
    """Before: ``5`` or a list became the client's token, and a header with CR LF failed in ``putheader``."""
    fake.answer = signin_vault({"challenge": _challenge()}, token)
    c = HiveClient(fake.url, timeout=5)
    with pytest.raises(BadReply):
        c.sign_in(INSTANCE, _credential(), now=NOW, documents=_documents())
    assert c.token is None


# -- the CLI ----------------------------------------------------------------------------------------------------


def test_cli_sync_against_a_bad_vault_exits_1_with_a_message(fake, tmp_path, capsys):
    """``elastos hive sync`` against a refusing, then a malformed vault: exit status 1 and one line (before:
    a traceback)."""
    for answer in (raw_answer(503, b"busy"), raw_answer(200, b"[" * 100_000), SyncVault([{"path": "../x"}])):
        fake.answer = answer
        rc = cli.main(["hive", "sync", "--url", fake.url, "--token", "t.t.t", "--folder", str(tmp_path / "home"),
                       "--state", str(tmp_path / "state.json")])
        err = capsys.readouterr().err
        assert rc == 1 and err.startswith("error") and "Traceback" not in err


def test_cli_sync_that_does_not_converge_exits_1(fake, tmp_path, capsys):
    """A vault whose bodies never match its manifest: the sync gives up after its rounds; the CLI says so and
    exits 1 (before: "synced" and 0)."""
    fake.answer = SyncVault([{"path": "a", "version": 1, "sha256": sha(b"x"), "size": 1}], {"a": b"x"}, mode="wrong")
    rc = cli.main(["hive", "sync", "--url", fake.url, "--token", "t.t.t", "--folder", str(tmp_path / "home"),
                   "--state", str(tmp_path / "state.json")])
    out = capsys.readouterr()
    assert rc == 1 and "not in step" in out.err
    assert not (tmp_path / "home" / "a").exists()


@pytest.mark.parametrize("challenge,token", [("x.y.z", {"token": "a.b.c"}), ("GOOD", {"token": 5}),
                                             ("GOOD", b"[" * 100_000)])
def test_cli_signin_against_a_bad_vault_exits_1(fake, tmp_path, capsys, challenge, token):
    """A bad challenge, a token that is not one, an answer nested deep: exit status 1 (before: a traceback)."""
    key, cred, docs = tmp_path / "key", tmp_path / "cred", tmp_path / "docs"
    key.write_text(INSTANCE.hex())
    cred.write_text(_credential())
    docs.mkdir()
    for i, text in enumerate(_documents().values()):
        (docs / f"{i}.json").write_text(text)
    fake.answer = signin_vault({"challenge": _challenge() if challenge == "GOOD" else challenge}, token)
    rc = cli.main(["hive", "signin", "--url", fake.url, "--key", str(key), "--credential", str(cred),
                   "--documents", str(docs)])
    out = capsys.readouterr()
    assert rc == 1 and out.err.startswith("error") and out.out == ""


def test_cli_call_against_a_bad_vault_exits_1(fake, capsys):
    fake.answer = raw_answer(200, b"[" * 100_000)
    rc = cli.main(["hive", "call", "--url", fake.url, "GET", "vault/sync/manifest"])
    assert rc == 1 and capsys.readouterr().err.startswith("error")


# -- the local side: names the vault cannot take, a damaged state file --------------------------------------------


def test_a_local_name_the_vault_cannot_take_is_skipped_and_the_rest_syncs(fake, tmp_path, capsys):
    """A name that is not UTF-8, one with a backslash, one with a control character: each is reported and left
    out, and every other file syncs (before: the first made every sync fail, a non-UTF-8 name with an untyped
    UnicodeEncodeError)."""
    home = tmp_path / "home"
    home.mkdir()
    os.mkdir(os.path.join(os.fsencode(home), b"sub"))
    for name in (b"bad\xff.txt", b"sub/back\\slash", b"tab\there"):
        with open(os.path.join(os.fsencode(home), name), "wb") as f:
            f.write(b"odd")
    (home / "good.txt").write_bytes(b"good")
    vault = SyncVault([])
    fake.answer = vault
    report = sync_folder(fake.client(), home, tmp_path / "state.json", max_rounds=1)  # this fake's manifest stays
    assert [p for p, _ in vault.uploads] == ["good.txt"]
    assert sorted(p for p, _ in report.skipped) == ["bad\ufffd.txt", "sub/back\\slash", "tab\there"]
    assert all(why.startswith("HFS-001") for _, why in report.skipped)
    vault.manifest = [{"path": "good.txt", "version": 1, "sha256": sha(b"good"), "size": 4}]
    again = sync_folder(fake.client(), home, tmp_path / "state.json", max_rounds=2)
    assert again.complete and again.actions == [] and len(again.skipped) == 3
    rc = cli.main(["hive", "sync", "--url", fake.url, "--token", "t.t.t", "--folder", str(home),
                   "--state", str(tmp_path / "state.json")])
    err = capsys.readouterr().err
    assert rc == 0 and err.count("skipped") == 3 and "Traceback" not in err


_STATE_TEXT = st.one_of(
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.recursive(st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from(["a", "../x", "0" * 64, "ab"]),
                 lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
                     st.sampled_from(["a", "../x", "base_version", "base_sha256", "upload_id", "other"]), inner,
                     max_size=3), max_leaves=6).map(json.dumps))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_STATE_TEXT, where=st.sampled_from(["state", "journal middle"]))
def test_a_damaged_state_file_is_a_typed_error_and_nothing_moves(fake, tmp_path_factory, text, where):
    """The state file or a journal line replaced by anything: the sync either reads it as the bases it is, or
    stops with LocalStateError before it acts (before: a KeyError, TypeError or pydantic error)."""
    root = tmp_path_factory.mktemp("state")
    home, state = root / "home", root / "state.json"
    home.mkdir()
    (home / "a").write_bytes(b"local a")
    journal = state.with_name(state.name + ".journal")
    if where == "state":
        state.write_text(text)
    else:  # a damaged line between two good ones: not the cut last line a killed sync leaves
        good = json.dumps({"path": "a", "entry": {"base_version": 0, "base_sha256": None}})
        journal.write_text(f"{good}\n{text}\n{good}\n")
    vault = SyncVault([])
    fake.answer = vault
    try:
        sync_folder(fake.client(), home, state, max_rounds=1)
    except hc.LocalStateError as e:
        assert e.reason == "HIVE_LOCAL_STATE" and vault.uploads == []
        assert (home / "a").read_bytes() == b"local a"
        return
    assert [p for p, _ in vault.uploads] == ["a"]


def test_a_journal_cut_mid_line_twice_still_syncs(fake, tmp_path):
    """A sync killed in the middle of a journal line, twice: each time the cut line is dropped (its action
    planned again) and the next records start on a line of their own, so the journal stays readable."""
    home, state = tmp_path / "home", tmp_path / "state.json"
    home.mkdir()
    (home / "a").write_bytes(b"local a")
    journal = state.with_name(state.name + ".journal")
    good = json.dumps({"path": "a", "entry": {"base_version": 1, "base_sha256": sha(b"local a")}})
    journal.write_text(good + "\n" + good[:20])
    hc._load_state(state, journal)
    assert journal.read_text() == good + "\n"
    with open(journal, "a") as f:
        f.write(good + "\n" + good[:7])
    assert hc._load_state(state, journal)["a"]["base_version"] == 1
    fake.answer = SyncVault([{"path": "a", "version": 1, "sha256": sha(b"local a"), "size": 7}])
    report = sync_folder(fake.client(), home, state, max_rounds=2)
    assert report.complete and report.actions == [] and not journal.exists()
