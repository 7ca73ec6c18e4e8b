"""Home-folder sync (no write is lost, both sides converge) and backup envelopes."""

from __future__ import annotations

import hashlib
import json
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject
from spec.hive import backup, sync
from spec.hive import database as db
from spec.hive import files as fs

from tests.helpers import expect_reject

PATHS = ("a.txt", "b", "dir/c.md", "dir/d")


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _synced(files: dict[str, str]) -> tuple[dict[str, sync.LocalEntry], dict[str, sync.RemoteEntry]]:
    """A client and vault in agreement over ``files`` (path -> content label), all at version 1."""
    remote = {p: sync.RemoteEntry(path=p, version=1, sha256=sha(c), size=len(c)) for p, c in files.items()}
    local = {p: sync.LocalEntry(path=p, sha256=sha(c), size=len(c), base_version=1, base_sha256=sha(c))
             for p, c in files.items()}
    return local, remote


edit = st.one_of(st.none(), st.sampled_from(["v1", "v2", "v3", "same"]))
"""A change to one path: None deletes, a label writes that content."""
changes = st.dictionaries(st.sampled_from(PATHS), edit, max_size=4)
base_files = st.dictionaries(st.sampled_from(PATHS), st.sampled_from(["v0", "same"]), max_size=4)


def _local_edit(local: dict[str, sync.LocalEntry], ch: dict[str, str | None]) -> dict[str, sync.LocalEntry]:
    out = dict(local)
    for p, c in ch.items():
        cur = out.get(p, sync.LocalEntry(path=p, sha256=None, size=0, base_version=0, base_sha256=None))
        out[p] = cur.model_copy(update={"sha256": sha(c) if c else None, "size": len(c) if c else 0})
    return out


def _remote_edit(remote: dict[str, sync.RemoteEntry], ch: dict[str, str | None]) -> dict[str, sync.RemoteEntry]:
    """Another device's writes, through the vault's compare-and-swap."""
    out = dict(remote)
    for p, c in ch.items():
        cur = out.get(p)
        if c is None and (cur is None or cur.sha256 is None):
            continue
        out = sync.apply_write(out, p, sha(c) if c else None, len(c) if c else 0, cur.version if cur else 0)
    return out


def _writes(before: dict[str, str | None], ch: dict[str, str | None]) -> set[str]:
    return {sha(c) for p, c in ch.items() if c is not None and (before.get(p) != c)}


@settings(max_examples=400, deadline=None)
@given(base=base_files, mine=changes, theirs=changes)
def test_one_round_converges_and_loses_no_write(base, mine, theirs):
    local, remote = _synced(base)
    local = _local_edit(local, mine)
    remote = _remote_edit(remote, theirs)
    actions = sync.plan(local, remote)
    lo, re_ = sync.execute(local, remote, actions)
    live = sync.live(re_)
    # converged: the folder is the vault, and there is nothing left to do
    assert {p: e.sha256 for p, e in lo.items() if e.sha256 is not None} == live
    assert sync.plan(lo, re_) == []
    # no write lost: every body either side wrote since they last agreed is in the vault (at its path or
    # as a conflict copy); only bodies both sides had seen may be replaced or deleted
    assert _writes(base, mine) | _writes(base, theirs) <= set(live.values())
    # a delete of a body the other side left alone takes effect on both sides
    for deleter, other in ((mine, theirs), (theirs, mine)):
        for p, c in deleter.items():
            if c is None and p in base and p not in other:
                assert p not in live
    # a conflict keeps the remote body at the path
    for p, c in mine.items():
        if p in theirs and c is not None and theirs[p] is not None and c != theirs[p] and c != base.get(p):
            assert live[p] == sha(theirs[p])


@settings(max_examples=300, deadline=None)
@given(base=base_files, a=changes, b=changes)
def test_two_devices_sync_in_turn_and_keep_every_write(base, a, b):
    """Concurrent histories on devices A and B: A syncs, then B, then A; all three end identical."""
    la, remote = _synced(base)
    lb = dict(la)
    la, lb = _local_edit(la, a), _local_edit(lb, b)
    la, remote = sync.execute(la, remote, sync.plan(la, remote))
    lb, remote = sync.execute(lb, remote, sync.plan(lb, remote))
    la, remote = sync.execute(la, remote, sync.plan(la, remote))
    live = sync.live(remote)
    for lo in (la, lb):
        assert {p: e.sha256 for p, e in lo.items() if e.sha256 is not None} == live
        assert sync.plan(lo, remote) == []
    assert _writes(base, a) | _writes(base, b) <= set(live.values())


def test_stale_write_is_refused_and_replanning_recovers():
    local, remote = _synced({"a.txt": "v0"})
    local = _local_edit(local, {"a.txt": "mine"})
    actions = sync.plan(local, remote)
    remote = _remote_edit(remote, {"a.txt": "theirs"})  # lands between plan and write
    with pytest.raises(Reject) as info:
        sync.execute(local, remote, actions)
    assert (info.value.reason, info.value.rule) == (Reason.HIVE_SYNC_STALE, "HSYNC-002")
    lo, re_ = sync.execute(local, remote, sync.plan(local, remote))
    assert set(sync.live(re_).values()) == {sha("mine"), sha("theirs")}


def test_conflict_name_is_deterministic():
    remote: dict[str, sync.RemoteEntry] = {}
    s = sha("x")
    assert sync.conflict_name("dir/report.final.pdf", s, remote) == f"dir/report.final.conflict-{s[:16]}.pdf"
    assert sync.conflict_name(".bashrc", s, remote) == f".bashrc.conflict-{s[:16]}"
    taken = {f"Makefile.conflict-{s[:16]}": sync.RemoteEntry(path=f"Makefile.conflict-{s[:16]}", version=1,
                                                             sha256=sha("other"), size=1)}
    assert sync.conflict_name("Makefile", s, taken) == f"Makefile.conflict-{s}"


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=5))
def test_resumable_upload_in_any_cut(body, cuts):
    points = sorted({c for c in cuts if c <= len(body)} | {0, len(body)})
    s = sync.start_upload("f", len(body), hashlib.sha256(body).hexdigest(), now=0)
    for a, b in zip(points, points[1:]):
        # nothing is visible before the last byte has arrived
        expect_reject(partial(sync.finish_upload, now=0), s, reason=Reason.HIVE_UPLOAD_DIGEST, rule="HSYNC-004")
        s = sync.append_chunk(s, a, body[a:b], now=0)
    assert sync.finish_upload(s, now=0) == body
    if body:
        expect_reject(partial(sync.append_chunk, now=0), s, len(body), b"x", reason=Reason.HIVE_UPLOAD_OFFSET,
                      rule="HSYNC-003")


@settings(max_examples=100, deadline=None)
@given(start=st.integers(0, 1 << 34), gaps=st.lists(st.integers(0, 2 * sync.UPLOAD_LIFETIME), min_size=1, max_size=6))
def test_upload_session_expires_a_lifetime_after_its_last_use(start, gaps):
    """Each step (a chunk, then the finish) comes ``gap`` seconds after the previous one: the session is
    accepted exactly while every gap is shorter than the lifetime, and the first late step is HSYNC-005."""
    body = bytes(range(len(gaps) - 1))
    s = sync.start_upload("f", len(body), hashlib.sha256(body).hexdigest(), now=start)
    now = start
    for i, gap in enumerate(gaps):
        now += gap
        late = gap >= sync.UPLOAD_LIFETIME
        if i < len(body):
            call, args = sync.append_chunk, (s, i, body[i:i + 1])
        else:
            call, args = sync.finish_upload, (s,)
        if late:
            expect_reject(partial(call, now=now), *args, reason=Reason.HIVE_UPLOAD_EXPIRED, rule="HSYNC-005")
            return
        out = call(*args, now=now)
        if i < len(body):
            s = out
            assert s.expires == now + sync.UPLOAD_LIFETIME
    assert out == body


# -- backup ----------------------------------------------------------------------------------------------------------

_stored_text = st.characters(codec="utf-8", exclude_characters="\x00")  # U+0000 is never stored (HDB-008)
json_docs = st.lists(st.dictionaries(st.text(_stored_text, max_size=5).filter(lambda k: k and not k.startswith("$") and "." not in k
                                                                and k != "_id"),
                                     st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(_stored_text, max_size=8), st.booleans(),
                                               st.none()),
                                     max_size=3), max_size=4)


@settings(max_examples=60, deadline=None)
@given(docs=json_docs, key=st.binary(min_size=32, max_size=32), nonce=st.binary(min_size=24, max_size=24))
def test_backup_round_trip(docs, key, nonce):
    d = db.insert(db.create_collection(db.Database(), "notes"), "notes", docs, [f"n{i}" for i in range(len(docs))])
    files = fs.put(fs.Files(), "f/a.txt", b"body", public=True, now=5, quota=100)
    dumps = {"hive_user_db_x": backup.dump("hive_user_db_x", d, files)}
    meta, blobs = backup.build_metadata("did:elastos:u", dumps, {}, key=key, nonce=nonce, create_time=1)
    assert backup.restore(meta, blobs) == {"hive_user_db_x": (d, files)}
    enc = next(iter(blobs.values()))
    assert len(enc) == len(dumps["hive_user_db_x"]) + 16
    expect_reject(backup.decrypt_dump, enc, bytes(32) if key != bytes(32) else b"\1" * 32, nonce,
                  reason=Reason.HIVE_BACKUP_DECRYPT, rule="HBAK-003")


def test_secretbox_is_pynacl_secretbox():
    from nacl.secret import SecretBox
    key, nonce = bytes(range(32)), bytes(range(24))
    assert SecretBox(key).decrypt(nonce + backup.encrypt_dump(b"dump", key, nonce)) == b"dump"


def test_promotion_states():
    meta, _ = backup.build_metadata("did:elastos:u", {}, {}, key=bytes(32), nonce=bytes(24), create_time=1)
    node = backup.store_backup(backup.BackupNode(), meta)
    promoted = backup.promote(node)
    assert promoted.active_vault
    expect_reject(backup.promote, promoted, reason=Reason.HIVE_BACKUP_STATE, rule="HBAK-004")
    expect_reject(backup.promote, backup.BackupNode(), reason=Reason.HIVE_BACKUP_STATE, rule="HBAK-004")


_dump_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, "a\udcff"]) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "$c", "d.e"]), inner,
                                                                max_size=2), max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(docs=st.lists(st.dictionaries(st.sampled_from(["x", "y", "$z", "w.v"]), _dump_values, max_size=3), max_size=3),
       name=st.sampled_from(["notes", "system.users", "a/b"]))
def test_a_dump_is_restored_exactly_when_a_vault_could_have_stored_it(docs, name):
    """load_dump accepts a dump's collection exactly when the spec's own insert takes its documents."""
    ids = [f"i{i}" for i in range(len(docs))]
    try:
        stored = db.insert(db.create_collection(db.Database(), name), name, docs, ids)
    except Reject:
        stored = None
    text = json.dumps({"name": "hive_user_db_x", "files": [],
                       "collections": {name: [{"_id": i, **d} for i, d in zip(ids, docs)]}}).encode()
    if stored is not None:
        assert backup.load_dump(text, "hive_user_db_x") == (stored, fs.Files())
    else:
        expect_reject(backup.load_dump, text, "hive_user_db_x", reason=Reason.HIVE_BACKUP_MALFORMED, rule="HBAK-002")
