"""The copy-and-hash loop of the vault's uploads and the client's downloads
(:func:`reference.hive.stream.copy_hashed`): for any body, any pattern of short reads and short writes,
any piece size, on one thread and with every hash on a thread of its own, the copy is the body and the
digests are the spec's whole-body digests (:class:`spec.hive.files.BodyDigest` SHA-256 and CIDv0, run as
its independent ``parts``); a stream that ends early returns what arrived, written and hashed; a failing
hash, read or write stops the copy with its exception and leaves no thread behind (Hypothesis)."""

from __future__ import annotations

import hashlib
import io
import threading
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.hive import cid
from spec.hive import files as fs

from reference.hive import stream

CHUNK = cid.CHUNK_SIZE


class Trickle:
    """A ``readinto``/``write`` pair over a body that hands out at most the next size of ``steps`` per call
    (a socket's short reads, a file's short writes), cycling through them."""

    def __init__(self, body: bytes, steps: list[int]) -> None:
        self.src, self.steps, self.i, self.out = io.BytesIO(body), steps, 0, bytearray()

    def _step(self) -> int:
        self.i += 1
        return self.steps[self.i % len(self.steps)]

    def readinto(self, view: memoryview) -> int:
        return self.src.readinto(view[:self._step()])

    def write(self, view: memoryview) -> int:
        n = min(len(view), self._step())
        self.out += view[:n]
        return n


def _body(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]


@settings(max_examples=60, deadline=None)
@given(size=st.sampled_from([0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 17, 9 * CHUNK + 5]),
       steps=st.lists(st.integers(1, 2 * CHUNK), min_size=1, max_size=5),
       piece=st.sampled_from([1000, CHUNK, stream.PIECE]), public=st.booleans(), threaded=st.booleans())
def test_the_copy_is_the_body_and_the_digests_are_the_specs(size, steps, piece, public, threaded):
    body = _body(size)
    t = Trickle(body, steps)
    d = fs.BodyDigest(public=public)
    totals: list[int] = []
    with mock.patch.object(stream, "THREADED_MIN", 0 if threaded else 1 << 40):
        n = stream.copy_hashed(t.readinto, t.write, size, d.parts(), written=totals.append, piece=piece)
    assert n == size and bytes(t.out) == body and d.size == size
    assert d.sha256() == hashlib.sha256(body).hexdigest()
    assert d.cid() == (cid.cid_v0(body) if public else None)
    assert totals == sorted(totals) and (totals[-1] if totals else 0) == size


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 5 * CHUNK), cut=st.integers(0, 5 * CHUNK), threaded=st.booleans())
def test_a_stream_that_ends_early_gives_what_arrived(size, cut, threaded):
    body = _body(size)
    arrived = body[:min(cut, size)]
    t = Trickle(arrived, [CHUNK // 3])
    d = fs.BodyDigest(public=False)
    with mock.patch.object(stream, "THREADED_MIN", 0 if threaded else 1 << 40):
        n = stream.copy_hashed(t.readinto, t.write, size, d.parts())
    assert n == len(arrived) and bytes(t.out) == arrived
    assert d.sha256() == hashlib.sha256(arrived).hexdigest()


class Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["hash", "read", "write"])
@pytest.mark.parametrize("threaded", [False, True])
def test_a_failure_stops_the_copy_and_leaves_no_thread(where, threaded):
    body = _body(24 << 20)  # many more pieces than buffers: a stop is seen
    t = Trickle(body, [stream.PIECE])
    calls = {"hash": 0, "read": 0, "write": 0}

    def counted(kind, fn):
        def call(view):
            calls[kind] += 1
            if kind == where and calls[kind] == 3:
                raise Boom(kind)
            return fn(view)
        return call

    digest = hashlib.sha256()
    with mock.patch.object(stream, "THREADED_MIN", 0 if threaded else 1 << 40), pytest.raises(Boom):
        stream.copy_hashed(counted("read", t.readinto), counted("write", t.write), len(body),
                           [counted("hash", digest.update)])
    assert not [t for t in threading.enumerate() if t.name == "hash"]  # every hashing thread ended
    assert len(t.out) <= (3 + stream.BUFFERS + 1) * stream.PIECE  # it stopped within the pieces in flight


@pytest.mark.parametrize("declared, sent", [(1000, 100), (10 << 20, 6 << 20 | 12345)])
def test_a_download_cut_short_by_a_clean_close_is_refused_and_leaves_the_target(tmp_path, declared, sent):
    """A vault (here a real loopback socket) that promises ``declared`` bytes and closes after ``sent``: the
    client raises ``ConnectionError`` and the target keeps its old content, with no temporary file left (on
    one thread and, for the large body, with the hash on its own)."""
    import socket

    from reference.hive.client import HiveClient

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % declared)
            conn.sendall(_body(sent))
            conn.shutdown(socket.SHUT_WR)

    server = threading.Thread(target=serve)
    server.start()
    target = tmp_path / "kept.txt"
    target.write_bytes(b"the old content")
    try:
        with pytest.raises(ConnectionError, match=f"ended {declared - sent} bytes short"):
            HiveClient(f"http://127.0.0.1:{port}", "token").download_to("kept.txt", target, durable=False)
    finally:
        server.join(timeout=20)
        listener.close()
    assert target.read_bytes() == b"the old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]
