"""Carrier CBOR messages (round-trips, bounds, malformed bytes) and DHT packets and values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import dht as D
from spec.carrier import identity as I
from spec.carrier import messages as M
from spec.encoding.cbor import cbor_encode
from spec.errors import Reason, Reject
from helpers import expect_reject

from conformance.generators.carrier import DHT_BAD, DHT_OK, SESSION_BAD, SESSION_OK, node, seed

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
U64 = st.integers(0, M.U64)


@pytest.mark.parametrize("family,name,value", [("dht", n, v) for n, v in DHT_OK] + [("session", n, v) for n, v in SESSION_OK],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_valid_messages_round_trip(family: str, name: str, value: dict[str, Any]):
    data = M.encode_message(family, value)
    kind, decoded = M.decode_message(family, data)
    assert decoded == value and cbor_encode(decoded) == data and kind.startswith(family)


@pytest.mark.parametrize("family,name,value,reason", [("dht", *x) for x in DHT_BAD] + [("session", *x) for x in SESSION_BAD],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_invalid_messages(family: str, name: str, value: Any, reason: Reason):
    with pytest.raises(Reject) as e:
        M.decode_message(family, cbor_encode(value))
    assert e.value.reason is reason


def test_kinds():
    assert M.decode_message("dht", cbor_encode({"y": 0x42, "t": 1, "v": 1, "r": {}}))[0] == "dht.response.find_node"
    assert M.decode_message("session", cbor_encode({"type": 33, "id": 0, "msg": b"x"}))[0] == "session.message"


SESSION = st.one_of(
    st.builds(lambda i, m: {"type": 33, "id": i, "msg": m}, U64, st.binary(min_size=1, max_size=1024)),
    st.builds(lambda t, tot, d: {"type": 36, "tid": t, "total": tot, "data": d}, U64, st.integers(1, M.MAX_BULK),
              st.binary(min_size=1, max_size=1024)),
    st.builds(lambda n, d, h, ns: {"type": 6, "name": n, "descr": d, "hello": h, "nospam": ns},
              st.text(max_size=15), st.text(max_size=30), st.text(min_size=1, max_size=200), st.binary(min_size=4, max_size=4)),
    st.builds(lambda t, b, d: {"type": 34, "tid": t, "bundle": b, "data": d}, U64, st.text(max_size=100), st.binary(max_size=300)),
    st.builds(lambda t, s, r: {"type": 35, "tid": t, "status": s, "reason": r}, U64, st.integers(0, M.U32), st.text(max_size=60)),
    st.builds(lambda i: {"type": 37, "id": i}, U64),
    st.builds(lambda i, to, b: {"type": 64, "id": i, "to": to, "blob": b}, U64, st.binary(min_size=32, max_size=32),
              st.binary(min_size=M.RELAY_MIN_BLOB, max_size=300)),
    st.builds(lambda i, r, u: {"type": 68, "id": i, "reason": r, "rule": u}, U64,
              st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"), min_size=1, max_size=M.MAX_CODE),
              st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"), min_size=1, max_size=M.MAX_RULE_ID)),
)


@FAST
@given(SESSION)
def test_session_round_trip(value: dict[str, Any]):
    data = M.encode_message("session", value)
    assert M.decode_message("session", data)[1] == value


@FAST
@given(st.binary(max_size=200), st.sampled_from(["dht", "session"]))
def test_arbitrary_bytes_decode_or_reject_with_a_reason(data: bytes, family: str):
    try:
        _, value = M.decode_message(family, data)
    except Reject as e:
        assert e.rule is not None
    else:
        assert cbor_encode(value) == data


@FAST
@given(SESSION, st.data())
def test_truncated_messages_are_rejected(value: dict[str, Any], data: st.DataObject):
    raw = M.encode_message("session", value)
    cut = data.draw(st.integers(0, len(raw) - 1))
    expect_reject(M.decode_message, "session", raw[:cut], reason=Reason.TRUNCATED, rule="ENC-001")


PING = cbor_encode({"y": 0x21, "t": 1, "v": 1, "q": {}})


@FAST
@given(st.binary(min_size=24, max_size=24), st.integers(0, M.U32))
def test_packet_round_trip_and_replay(nonce: bytes, txid: int):
    msg = cbor_encode({"y": 0x21, "t": txid, "v": 1, "q": {}})
    pkt = D.seal_packet(seed("alice"), node("bob"), nonce, msg)
    sender, n, kind, value = D.open_packet(seed("bob"), pkt)
    assert (sender, n, kind, cbor_encode(value)) == (node("alice"), nonce, "dht.request.ping", msg)
    cache = D.remember_nonce(D.NonceCache(), sender, n)
    expect_reject(D.remember_nonce, cache, sender, n, reason=Reason.DHT_NONCE_REPLAY, rule="CAR-042")
    assert D.remember_nonce(cache, node("carol"), n).seen[-1] == node("carol") + n


@FAST
@given(st.integers(0, 24 + 16 + 12), st.integers(1, 255))
def test_any_changed_packet_byte_is_refused(at: int, delta: int):
    pkt = D.seal_packet(seed("alice"), node("bob"), bytes(24), PING)
    at += 32
    bad = pkt[:at] + bytes((pkt[at] ^ delta,)) + pkt[at + 1:]
    expect_reject(D.open_packet, seed("bob"), bad, reason=Reason.DHT_PACKET_DECRYPT, rule="CAR-041")


def test_nonce_cache_forgets_the_oldest():
    cache = D.NonceCache(capacity=2)
    for k in range(3):
        cache = D.remember_nonce(cache, node("alice"), bytes([k]) * 24)
    assert D.remember_nonce(cache, node("alice"), bytes(24)).seen[-1].endswith(bytes(24))


def test_v2_would_reuse_the_nonce_for_every_packet():
    """The deviation, shown: v2's nonce for a pair is one constant, the spec's cache refuses a repeat."""
    n = I.v2_pair_nonce(node("alice"), node("bob"))
    first = D.seal_packet(seed("alice"), node("bob"), n, PING)
    second = D.seal_packet(seed("alice"), node("bob"), n, cbor_encode({"y": 0x21, "t": 2, "v": 1, "q": {}}))
    cache = D.remember_nonce(D.NonceCache(), *D.open_packet(seed("bob"), first)[:2])
    expect_reject(D.remember_nonce, cache, *D.open_packet(seed("bob"), second)[:2], reason=Reason.DHT_NONCE_REPLAY, rule="CAR-042")


@FAST
@given(st.lists(st.tuples(st.integers(0, 50), st.binary(min_size=1, max_size=8)), min_size=1, max_size=8))
def test_value_store_keeps_the_highest_seq(updates: list[tuple[int, bytes]]):
    """Model: the store accepts exactly the updates whose seq is above every accepted one."""
    store, best = D.ValueStore(), None
    for seq, data in updates:
        v = D.sign_value(seed("alice"), bytes(24), seq, data)
        try:
            store = D.store_value(store, v)
            accepted = True
        except Reject as e:
            assert e.reason is Reason.DHT_VALUE_SEQUENCE
            accepted = False
        assert accepted == (best is None or seq > best.seq or v == best)
        if accepted:
            best = v
    assert store.values == ((D.value_id(best), best),)
