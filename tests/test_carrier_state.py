"""The Carrier state machines: friendship, bulk reassembly, invites, the Kademlia table and lookups,
and the relay; Hypothesis checks each against a small model."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import friends as F
from spec.carrier import relay as R
from spec.carrier import routing as T
from spec.errors import Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])
ME = b"\x00" * 31 + b"\x01"
NS = b"ns01"
PEERS = [bytes([k]) * 32 for k in range(2, 6)]
IDS = st.binary(min_size=32, max_size=32)


def test_friendship_flow():
    f = F.Friends(self_id=ME, nospam=NS)
    f = F.send_request(f, PEERS[0])
    expect_reject(F.require_friend, f, PEERS[0], reason=Reason.FRIEND_NOT_FRIEND, rule="CAR-054")
    f = F.receive_accept(f, PEERS[0])
    F.require_friend(f, PEERS[0])
    f = F.receive_request(f, PEERS[1], NS)
    expect_reject(F.receive_request, f, PEERS[2], b"old!", reason=Reason.FRIEND_NOSPAM, rule="CAR-051")
    f = F.accept(f, PEERS[1])
    assert [s for _, s in f.peers] == ["friend", "friend"]
    f = F.remove(f, PEERS[0])
    expect_reject(F.require_friend, f, PEERS[0], reason=Reason.FRIEND_NOT_FRIEND, rule="CAR-054")


OPS = st.lists(st.tuples(st.sampled_from(["send", "recv", "accept", "recv_accept", "remove"]), st.sampled_from(PEERS)),
               max_size=25)


@FAST
@given(OPS)
def test_friendship_matches_its_model(ops: list[tuple[str, bytes]]):
    """Model: a dict peer -> state with the transitions of the module's table; every refusal is one of
    the friendship reasons and changes nothing."""
    f = F.Friends(self_id=ME, nospam=NS)
    model: dict[bytes, str] = {}
    for op, peer in ops:
        s = model.get(peer)
        want = {
            "send": None if s in ("friend", "requested") else ("friend" if s == "pending" else "requested"),
            "recv": None if s == "friend" else ("friend" if s == "requested" else "pending"),
            "accept": "friend" if s == "pending" else None,
            "recv_accept": "friend" if s in ("requested", "friend") else None,
            "remove": "" if s is not None else None,
        }[op]
        fn = {"send": F.send_request, "recv": lambda f, p: F.receive_request(f, p, NS), "accept": F.accept,
              "recv_accept": F.receive_accept, "remove": F.remove}[op]
        try:
            f = fn(f, peer)
        except Reject as e:
            assert want is None, (op, s, e)
            assert e.rule in ("CAR-052", "CAR-053", "CAR-054")
            continue
        assert want is not None, (op, s)
        if want:
            model[peer] = want
        else:
            model.pop(peer)
        assert dict(f.peers) == model


@FAST
@given(st.binary(min_size=1, max_size=6000), st.lists(st.integers(1, 1024), min_size=1, max_size=40))
def test_bulk_reassembles_any_chunking(msg: bytes, sizes: list[int]):
    b, pos, out, k = F.Bulk(), 0, None, 0
    while pos < len(msg):
        n = sizes[k % len(sizes)]
        k += 1
        assert out is None
        b, out = F.bulk_chunk(b, PEERS[0], 9, len(msg), msg[pos:pos + n], 100)
        pos += n
    assert out == msg and b.transfers == ()


def test_bulk_timeout_and_expire():
    b, _ = F.bulk_chunk(F.Bulk(), PEERS[0], 1, 10, b"abc", 0)
    expect_reject(F.bulk_chunk, b, PEERS[0], 1, 10, b"d", 61, reason=Reason.BULK_TIMEOUT, rule="CAR-057")
    assert F.bulk_expire(b, 60).transfers == b.transfers and F.bulk_expire(b, 61).transfers == ()


def test_invites():
    inv = F.send_invite(F.Invites(), PEERS[0], 1)
    expect_reject(F.send_invite, inv, PEERS[0], 1, reason=Reason.INVITE_DUPLICATE_TID, rule="CAR-058")
    expect_reject(F.receive_invite_response, inv, PEERS[1], 1, reason=Reason.INVITE_UNKNOWN_TID, rule="CAR-059")
    assert F.receive_invite_response(inv, PEERS[0], 1).outstanding == ()


@FAST
@given(IDS, st.lists(IDS, max_size=60), IDS)
def test_routing_table_invariants(self_id: bytes, ids: list[bytes], target: bytes):
    t = T.new_table(self_id, 0)
    for n, x in enumerate(ids):
        if x == self_id:
            expect_reject(T.insert, t, x, n, reason=Reason.ROUTING_SELF, rule="CAR-060")
            continue
        t, _ = T.insert(t, x, n)
    m = len(t.buckets)
    entries = []
    for i, b in enumerate(t.buckets):
        assert len(b.entries) <= T.K and len(b.replacements) <= T.K
        for e in b.entries + b.replacements:
            cpl = T.common_prefix(self_id, e.id)
            assert (cpl == i) if i < m - 1 else (cpl >= i)
        entries += [e.id for e in b.entries]
    assert len(set(entries)) == len(entries)
    distinct = {x for x in ids if x != self_id}
    if len(distinct) <= T.K:
        assert set(entries) == distinct, "a table with room drops nothing"
    brute = sorted(entries, key=lambda x: int.from_bytes(x, "big") ^ int.from_bytes(target, "big"))[:T.K]
    assert list(T.closest(t, target)) == brute


def test_bucket_index_and_distance():
    a = bytes.fromhex("00000000f528d6132c15787ed16f09b08a4e7de7e2c5d3838974711032cb7076")
    b = bytes.fromhex("00000000f0a8d6132c15787ed16f09b08a4e7de7e2c5d3838974711032cb7076")
    assert T.distance(a, b) == 0x0580 << (8 * 26) and T.common_prefix(a, b) == 37
    t = T.new_table(a, 0)
    assert T.bucket_index(t, b) == 0
    expect_reject(T.bucket_index, t, a, reason=Reason.ROUTING_SELF, rule="CAR-060")


def test_refresh_after_15_minutes():
    t = T.new_table(ME, 0)
    t, _ = T.insert(t, PEERS[0], 100)
    assert T.buckets_to_refresh(t, 100 + 899) == () and T.buckets_to_refresh(t, 100 + 900) == (0,)


@FAST
@given(IDS, st.lists(IDS, min_size=1, max_size=30, unique=True), st.data())
def test_lookup_never_has_more_than_alpha_in_flight(target: bytes, world: list[bytes], data: st.DataObject):
    t = T.new_table(ME, 0)
    for x in world[:5]:
        if x != ME:
            t, _ = T.insert(t, x, 0)
    answers = {x: data.draw(st.lists(st.sampled_from(world), max_size=5)) for x in world}
    lk = T.start_lookup(t, target)
    for _ in range(100):
        if T.lookup_done(lk):
            break
        lk, ask = T.next_queries(lk)
        assert sum(1 for _, s in lk.candidates if s == "asked") <= T.ALPHA
        if not ask:
            break
        for x in ask:
            lk = T.lookup_response(lk, x, tuple(answers[x])) if x in answers else T.lookup_failed(lk, x)
    result = T.lookup_result(lk)
    assert len(result) <= T.K and ME not in result
    dist = [int.from_bytes(x, "big") ^ int.from_bytes(target, "big") for x in result]
    assert dist == sorted(dist)


def test_relay_limits_and_expiry():
    r = R.Relay()
    for _ in range(R.MAX_ITEMS):
        r, seq = R.store(r, PEERS[0], PEERS[1], bytes(40), 0)
    assert seq == R.MAX_ITEMS
    expect_reject(R.store, r, PEERS[0], PEERS[1], bytes(40), 0, reason=Reason.RELAY_MAILBOX_FULL, rule="CAR-072")
    assert len(R.pull(r, PEERS[0], 0, 0)) == 64 and R.pull(r, PEERS[0], R.MAX_ITEMS - 1, 0)[0].seq == R.MAX_ITEMS
    r2 = R.delete(r, PEERS[0], 100, 0)
    assert R.pull(r2, PEERS[0], 0, 0)[0].seq == 101
    r3, seq = R.store(r, PEERS[0], PEERS[1], bytes(40), R.TTL)
    assert seq == R.MAX_ITEMS + 1 and len(R.expire(r3, R.TTL).mailbox(PEERS[0]).items) == 1
    expect_reject(R.store, r, PEERS[2], PEERS[1], bytes(39), 0, reason=Reason.RELAY_NOT_SEALED, rule="CAR-070")


@FAST
@given(st.lists(st.tuples(st.sampled_from(["store", "pull", "delete"]), st.integers(0, 300), st.integers(0, 3)), max_size=40))
def test_relay_matches_its_model(ops: list[tuple[str, int, int]]):
    """Model: a list of (seq, stored, blob); nothing acknowledged is lost before the recipient deletes it."""
    r, model, last, now = R.Relay(), [], 0, 0
    for op, arg, dt in ops:
        now += dt * 86400
        model = [x for x in model if now - x[1] < R.TTL]
        if op == "store":
            blob = hashlib.sha256(bytes([arg % 256])).digest() * 2
            r, seq = R.store(r, PEERS[0], PEERS[1], blob, now)
            last += 1
            assert seq == last
            model.append((seq, now, blob))
        elif op == "pull":
            got = R.pull(r, PEERS[0], arg % (last + 1), now)
            assert [(i.seq, i.stored, i.blob) for i in got] == [x for x in model if x[0] > arg % (last + 1)][:64]
        else:
            r = R.delete(r, PEERS[0], arg % (last + 1), now)
            model = [x for x in model if x[0] > arg % (last + 1)]
