"""The spec's streaming forms agree with its whole-body forms: :class:`spec.hive.cid.CidV0Builder` and
:class:`spec.hive.files.BodyDigest` over any split of a body, and :func:`spec.hive.files.put_digest` /
:func:`spec.hive.files.delete` on a path's neighbourhood (plus the bytes of the rest) against the whole
partition: the same entries change and the same rejections come out (Hypothesis)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject
from spec.hive import cid
from spec.hive import files as fs

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

CHUNK = cid.CHUNK_SIZE


@settings(max_examples=40, deadline=None)
@given(size=st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]),
       cuts=st.lists(st.integers(0, 3 * CHUNK + 17), max_size=6), public=st.booleans())
def test_streaming_digest_equals_the_whole_body_digest(size, cuts, public):
    body = (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]
    d = fs.BodyDigest(public=public)
    edges = sorted({0, size, *[c for c in cuts if c <= size]})
    for a, b in zip(edges, edges[1:]):
        d.update(memoryview(body)[a:b])
    if size == 0:
        d.update(b"")
    assert d.size == size and d.sha256() == hashlib.sha256(body).hexdigest()
    assert d.cid() == (cid.cid_v0(body) if public else None)


@settings(max_examples=60, deadline=None)
@given(size=st.one_of(st.sampled_from([0, 1, 2, 126, 127, 128, 129, 16383, 16384, 16385, CHUNK - 1, CHUNK]),
                      st.integers(0, CHUNK)))
def test_a_leaf_is_its_frame_around_its_chunk(size):
    """:func:`spec.hive.cid.leaf_frame` (how a leaf is hashed without copying its chunk) is
    :func:`spec.hive.cid.leaf_node` cut around the chunk, at every varint width of the sizes."""
    chunk = (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]
    head, tail = cid.leaf_frame(size)
    assert head + chunk + tail == cid.leaf_node(chunk)
    node = cid._leaf(memoryview(chunk))
    enc = cid.leaf_node(chunk)
    assert node.multihash == bytes([0x12, 32]) + hashlib.sha256(enc).digest() and node.tsize == len(enc)


def test_builder_over_many_leaves_matches_a_published_cid():
    """175 chunks need a second level of the tree; the builder keeps leaves, not bodies."""
    body = bytes(175 * CHUNK)
    b = cid.CidV0Builder()
    for i in range(0, len(body), 1 << 20):
        b.update(body[i:i + (1 << 20)])
    assert b.cid() == cid.cid_v0(body)


_seg = st.sampled_from(["a", "b", "c"])
_path = st.lists(_seg, min_size=1, max_size=3).map("/".join)


@st.composite
def _partition(draw):
    entries = {}
    for p in draw(st.lists(_path, max_size=8)):
        try:
            files = fs.Files(entries=tuple(sorted(entries.values(), key=lambda e: e.path)))
            fs.put(files, p, b"", public=False, now=0, quota=1 << 30)  # keep the partition well-formed
        except Reject:
            continue
        size = draw(st.integers(0, 40))
        entries[p] = fs.FileEntry(path=p, size=size, sha256="0" * 64, cid=None, public=False, created=1, modified=1)
    return fs.Files(entries=tuple(sorted(entries.values(), key=lambda e: e.path)))


def _view(files: fs.Files, path: str) -> tuple[fs.Files, int]:
    exact, prefix = fs.neighbourhood(path)
    view = fs.Files(entries=tuple(e for e in files.entries if e.path in exact or e.path.startswith(prefix)))
    return view, fs.used_bytes(files) - fs.used_bytes(view)


def _outcome(f, *args, **kw):
    try:
        return f(*args, **kw)
    except Reject as e:
        return (e.reason, e.rule)


@settings(max_examples=200, deadline=None)
@given(files=_partition(), path=_path, size=st.integers(0, 60), quota=st.integers(0, 200))
def test_put_and_delete_on_the_neighbourhood_equal_them_on_the_whole_partition(files, path, size, quota):
    view, other = _view(files, path)
    digest = hashlib.sha256(bytes(size)).hexdigest()
    whole = _outcome(fs.put_digest, files, path, size=size, sha256=digest, cid=None, public=False, now=5,
                     quota=quota)
    part = _outcome(fs.put_digest, view, path, size=size, sha256=digest, cid=None, public=False, now=5,
                    quota=quota, other_bytes=other)
    if isinstance(whole, fs.Files):
        assert isinstance(part, fs.Files)
        rest = tuple(e for e in whole.entries if e not in view.entries and e.path != path)
        assert tuple(sorted(part.entries + rest, key=lambda e: e.path)) == whole.entries
    else:
        assert part == whole
    # the quota rule alone, on the declared size, agrees with the put whenever the path is placeable
    room = _outcome(fs.room_for, view, path, size, quota=quota, other_bytes=other)
    if whole == (Reason.HIVE_QUOTA_EXCEEDED, "HFS-004"):
        assert room == whole
    elif isinstance(whole, fs.Files):
        assert room is None
    deleted = _outcome(fs.delete, files, path)
    deleted_view = _outcome(fs.delete, view, path)
    assert (deleted_view == deleted) if not isinstance(deleted, fs.Files) else isinstance(deleted_view, fs.Files)


def test_put_digest_needs_a_cid_exactly_for_a_public_file():
    with pytest.raises(ValueError):
        fs.put_digest(fs.Files(), "a", size=0, sha256="0" * 64, cid=None, public=True, now=0, quota=1)
    with pytest.raises(ValueError):
        fs.put_digest(fs.Files(), "a", size=0, sha256="0" * 64, cid="Qm", public=False, now=0, quota=1)


# -- the vault over HTTP: large bodies streamed both ways ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def vault_client(request, tmp_path):
    import time

    from spec.hive import identity

    from reference.hive.client import HiveClient
    from reference.hive.server import HiveServer, Vault, load_service_key
    from reference.hive.store import HiveStore

    user, inst = bytes(30) + bytes([14, 1]), bytes(30) + bytes([14, 2])
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 60, expires=now + 86400)
            for k in (user, inst)}
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    store = HiveStore(tmp_path / "vault", dsn)
    v = Vault(store, load_service_key(tmp_path / "vault"), quota=64 << 20)
    for text in docs.values():
        v.add_document(text)
    docs[v.service.did] = store.documents()[v.service.did]
    server = HiveServer(v, 0).start()
    c = HiveClient(f"http://127.0.0.1:{server.port}")
    vc = identity.issue_credential(user, identity.did_of(inst), "app-id-credential", ("AppIdCredential",),
                                   {"appDid": identity.did_of(bytes(30) + bytes([14, 3]))}, issued=now - 60,
                                   expires=now + 86400)
    c.sign_in(inst, vc, now=now, documents=docs)
    yield c, tmp_path, store
    server.stop()
    store.close()


def test_large_public_upload_is_streamed_and_addressed_as_the_spec_says(vault_client):
    """A 9 MiB public file (over the pipelined size, 36 CID leaves, a chunk boundary not on a piece boundary)
    streamed from a file: the CID and SHA-256 the vault records are the spec's of the whole body, the body
    comes back byte for byte, and no temporary file is left."""

    c, tmp, store = vault_client
    body = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range((9 << 20) // 32 + 5))
    src = tmp / "big.bin"
    src.write_bytes(body)
    out = c.upload_file("pub/big.bin", src, public=True)
    assert out == {"name": "pub/big.bin", "cid": cid.cid_v0(body)}
    meta = c.request("GET", "vault/files/pub/big.bin?comp=metadata")
    assert meta["sha256"] == hashlib.sha256(body).hexdigest() and meta["size"] == len(body)
    assert c.download_to("pub/big.bin", tmp / "back.bin") == meta["sha256"]
    assert (tmp / "back.bin").read_bytes() == body
    assert list(store.incoming.iterdir()) == [] and not list(tmp.glob(".hive-tmp-*"))
