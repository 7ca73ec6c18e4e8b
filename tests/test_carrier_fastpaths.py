"""The fast paths of the Carrier data path give exactly what the plain paths give.

The reference node seals and opens frames in batches, encodes a bulk message's chunks from one
template, decodes and encodes flat session packets without the general CBOR walk, and adds bulk
chunks in batches. Each is compared here, with Hypothesis, against the one-at-a-time function the
vectors use: same bytes, same values, same states, same refusals."""

from __future__ import annotations

import os

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import friends as F
from spec.carrier import messages as M
from spec.carrier import noise as N
from spec.carrier import session as S
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import DecodeError, Reason, Reject

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
KEY = bytes(range(32))

uints = st.one_of(st.integers(0, 30), st.integers(0, 300), st.integers(0, 70000), st.integers(0, 2**64 - 1))
short_keys = st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=6)
flat_maps = st.dictionaries(short_keys, st.one_of(uints, st.binary(max_size=300)), max_size=6)


@FAST
@given(flat_maps)
def test_flat_encoding_is_the_cbor_encoding(value) -> None:
    assert M._encode_flat(value) == cbor_encode(value)


@FAST
@given(flat_maps, st.data())
def test_flat_decoding_agrees_with_cbor_decode(value, data) -> None:
    """Valid encodings decode alike; a mutated encoding is either refused by both or decoded alike
    (the shortcut may decline, never disagree)."""
    enc = cbor_encode(value)
    assert M._flat_map(enc) in (value, None)
    assert M._flat_map(enc) == value or value == {}
    raw = bytearray(enc)
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["flip", "cut", "add"]))
        if op == "flip" and raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut" and raw:
            del raw[data.draw(st.integers(0, len(raw) - 1)):]
        else:
            raw.insert(data.draw(st.integers(0, len(raw))), data.draw(st.integers(0, 255)))
    fast = M._flat_map(bytes(raw))
    try:
        slow = cbor_decode(bytes(raw))
    except Reject:
        assert fast is None
    else:
        assert fast is None or fast == slow


def test_flat_decoding_declines_non_shortest_and_unsorted_forms() -> None:
    assert M._flat_map(bytes.fromhex("a1617818" + "05")) is None  # 5 written in one extra byte
    assert M._flat_map(bytes.fromhex("a2616201616101")) is None  # keys out of order
    assert M._flat_map(bytes.fromhex("a2616101616101")) is None  # a key twice
    assert M._flat_map(bytes.fromhex("a1616101") + b"\x00") is None  # trailing byte
    assert M._flat_map(bytes.fromhex("a1616101")) == {"a": 1}


@FAST
@given(st.integers(0, 2**64 - 1), st.one_of(st.integers(1, 5000), st.integers(60000, 200000),
                                             st.integers(M.MAX_BULK - 70000, M.MAX_BULK)))
def test_bulk_template_is_encode_message(tid, size) -> None:
    data = os.urandom(size)
    step = M.MAX_BULK_CHUNK
    expected = [M.encode_message("session", {"type": 36, "tid": tid, "total": size, "data": data[at:at + step]})
                for at in range(0, size, step)]
    assert M.encode_bulk(tid, data) == expected


def test_the_largest_bulk_packet_fills_one_transport_frame() -> None:
    """MAX_BULK_CHUNK is the largest whole number of KiB whose packet, with the widest tid and
    total, fits one transport frame; a packet one KiB larger would not."""
    widest = {"type": 36, "tid": 2**64 - 1, "total": M.MAX_BULK}
    assert len(M.encode_message("session", {**widest, "data": bytes(M.MAX_BULK_CHUNK)})) <= S.MAX_FRAME_PLAINTEXT
    assert len(cbor_encode({**widest, "data": bytes(M.MAX_BULK_CHUNK + 1024)})) > S.MAX_FRAME_PLAINTEXT
    _, frames = S.seal_frames(_ts(0, 1 << 20), M.encode_bulk(2**64 - 1, bytes(M.MAX_BULK)))  # refuses a packet too large
    assert len(frames) == -(-M.MAX_BULK // M.MAX_BULK_CHUNK) == 82


def _ts(n: int, interval: int) -> S.TransportState:
    return S.TransportState(cipher=N.CipherState(k=KEY, n=n), rekey_interval=interval)


@FAST
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=12), st.integers(0, 20), st.integers(1, 5),
       st.data())
def test_batched_frames_are_sequential_frames(plaintexts, start, interval, data) -> None:
    one, frames = _ts(start, interval), []
    for p in plaintexts:
        one, f = S.seal_frame(one, p)
        frames.append(f)
    batch, batch_frames = S.seal_frames(_ts(start, interval), plaintexts)
    assert batch_frames == frames and batch == one
    # a damaged frame somewhere: the batch stops exactly where one-at-a-time opening stops
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(frames) - 1))
        frames[at] = frames[at][:-1] + bytes([frames[at][-1] ^ 1])
    recv, opened, error = _ts(start, interval), [], None
    for f in frames:
        try:
            recv, p = S.open_frame(recv, f)
        except Reject as e:
            error = e
            break
        opened.append(p)
    got, got_opened, got_error = S.open_frames(_ts(start, interval), frames)
    assert got == recv and got_opened == opened
    # frames given as views of one buffer (as the node cuts them from a socket read) open alike
    buffer = memoryview(b"".join(frames))
    starts = [sum(len(f) for f in frames[:i]) for i in range(len(frames))]
    views = [buffer[at:at + len(f)] for at, f in zip(starts, frames)]
    got_v, opened_v, error_v = S.open_frames(_ts(start, interval), views)
    assert got_v == got and opened_v == got_opened and (error_v is None) == (got_error is None)
    assert (got_error is None) == (error is None)
    if error is not None:
        assert got_error is not None and (got_error.reason, got_error.rule) == (error.reason, error.rule)


chunk_ops = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 9), st.binary(min_size=1, max_size=5)), max_size=25)


@FAST
@given(chunk_ops, st.integers(0, 200))
def test_batched_bulk_chunks_are_sequential_chunks(ops, now) -> None:
    peer = bytes(32)
    start = F.Bulk(transfers=(F.Transfer(peer=peer, tid=2, total=9, started=0, chunks=(b"ab",), received=2),))
    one, results = start, []
    for tid, total, data in ops:
        try:
            one, whole = F.bulk_chunk(one, peer, tid, total, data, now)
            results.append(whole)
        except Reject as e:
            results.append((e.reason, e.rule))
    batch, got = F.bulk_chunks(start, peer, ops, now)
    assert [(r.reason, r.rule) if isinstance(r, Reject) else r for r in got] == results
    assert batch == one


def _check_session_walk(value) -> str:
    """The session packet check as a plain walk of the table (the form before the key-set shortcut)."""
    if not isinstance(value, dict) or "type" not in value or not M._is_int(value["type"]):
        raise DecodeError(Reason.CARRIER_MSG_MALFORMED, "CAR-030", "not a map with an integer type")
    entry = M.SESSION_TYPES.get(value["type"])
    if entry is None:
        raise DecodeError(Reason.CARRIER_MSG_UNKNOWN_TYPE, "CAR-031", "unknown type")
    name, schema = entry
    M._check_map(name, schema, value, extra_allowed=("type",))
    if name == "friend_request" and len(cbor_encode(value)) > M.MAX_FRIEND_REQUEST:
        raise DecodeError(Reason.CARRIER_MSG_TOO_LARGE, "CAR-033", "too long")
    return f"session.{name}"


FIELDS = sorted({k for _, schema in M.SESSION_TYPES.values() for k in schema}) + ["type", "ext"]
field_values = st.one_of(st.integers(-2, 2**64), st.booleans(), st.binary(max_size=70), st.text(max_size=70),
                         st.lists(st.integers(0, 3), max_size=2), st.none())
session_maps = st.one_of(
    st.builds(lambda code, rest: {"type": code, **rest},
              st.one_of(st.sampled_from(sorted(M.SESSION_TYPES)), st.integers(-1, 100), st.booleans(), st.text(max_size=2)),
              st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=6)),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.integers(0, 3)), field_values, max_size=5),
    field_values)


def _outcome(f, value):
    try:
        return f(value)
    except Reject as e:
        return (e.reason, e.rule)


@settings(deadline=None, max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(session_maps)
def test_session_check_agrees_with_the_table_walk(value) -> None:
    """The key-set shortcut of the session check accepts exactly what the walk of the table
    accepts, with the same kind, and refuses exactly the rest with the same reason and rule."""
    assert _outcome(lambda v: M.check_message("session", v), value) == _outcome(_check_session_walk, value)


@FAST
@given(st.sampled_from(sorted(M.SESSION_TYPES)), st.data())
def test_session_check_agrees_on_well_formed_packets(code, data) -> None:
    """Packets built from their own table (so mostly valid, some fields at or past their bounds)."""
    _, schema = M.SESSION_TYPES[code]
    value: dict = {"type": code}
    for k, (kind, required) in schema.items():
        if not required and data.draw(st.booleans()):
            continue
        tag = kind[0]
        if tag in ("uint", "range"):
            hi = kind[1] if tag == "uint" else kind[2]
            value[k] = data.draw(st.sampled_from([0, 1, hi, hi + 1]))
        elif tag in ("bytes", "text"):
            size = data.draw(st.sampled_from([kind[1], max(kind[1] - 1, 0), min(kind[2], 40), kind[2] + 1]))
            value[k] = bytes(size) if tag == "bytes" else "t" * size
        else:
            value[k] = []
    assert _outcome(lambda v: M.check_message("session", v), value) == _outcome(_check_session_walk, value)


@FAST
@given(st.lists(st.binary(max_size=40), max_size=6), st.integers(0, 2**64 - 8), st.integers(1, 4),
       st.binary(min_size=32, max_size=32))
def test_a_transport_state_made_by_a_transition_is_the_checked_one(plaintexts, start, interval, key) -> None:
    """The states that sealing and opening make without checking their fields are exactly the states
    the checking constructor makes from the same key, counter and interval."""
    ts = S.TransportState(N.CipherState(k=key, n=start), interval)
    assert (ts.k, ts.n, ts.rekey_interval) == (key, start, interval) and ts.cipher == N.CipherState(k=key, n=start)
    sent, frames = S.seal_frames(ts, plaintexts)
    got, opened, error = S.open_frames(ts, frames)
    assert error is None and opened == plaintexts
    for state in (sent, got):
        rebuilt = S.TransportState(N.CipherState(k=state.k, n=state.n), rekey_interval=state.rekey_interval)
        assert type(state) is S.TransportState and state == rebuilt and hash(state) == hash(rebuilt)
        assert state.n == start + len(plaintexts)
    assert sent == got


@pytest.mark.parametrize("cipher, interval", [
    (N.CipherState(k=None), 4), (N.CipherState(k=bytes(31)), 4), (N.CipherState(k=bytes(33)), 4),
    (N.CipherState(k=KEY, n=-1), 4), (N.CipherState(k=KEY, n=2**64), 4),
    (N.CipherState(k=KEY), 0), (N.CipherState(k=KEY), True), (N.CipherState(k=KEY), 1.0),
])
def test_the_transport_state_constructor_checks_its_fields(cipher, interval) -> None:
    with pytest.raises(ValueError):
        S.TransportState(cipher, interval)


def test_the_last_counter_state_is_a_state() -> None:
    """A state whose counter reached 2^64-1 is valid (it seals nothing more, CAR-023)."""
    ts = S.TransportState(N.CipherState(k=KEY, n=N.MAX_NONCE))
    with pytest.raises(Reject) as e:
        S.seal_frame(ts, b"x")
    assert (e.value.reason, e.value.rule) == (Reason.NOISE_NONCE_EXHAUSTED, "CAR-023")


ids = st.one_of(uints, st.integers(-3, -1), st.integers(2**64, 2**64 + 3), st.booleans())
bodies = st.one_of(st.binary(min_size=0, max_size=30), st.integers(1000, 1100).map(bytes), st.text(max_size=3))


@FAST
@given(ids, bodies)
def test_the_message_and_receipt_encoders_are_encode_message(msgid, msg) -> None:
    """The two packets of every message, encoded without the general check and encoder: the same
    bytes, or the same refusal."""
    assert _outcome(lambda v: M.encode_session_message(*v), (msgid, msg)) == \
        _outcome(lambda v: M.encode_message("session", {"type": 33, "id": v[0], "msg": v[1]}), (msgid, msg))
    assert _outcome(M.encode_receipt, msgid) == \
        _outcome(lambda v: M.encode_message("session", {"type": 37, "id": v}), msgid)


def _decode_general(data: bytes):
    """:func:`messages.decode_message` of a session packet without its message-and-receipt shortcut."""
    value = M._flat_map(data) or cbor_decode(data)
    return M.check_message("session", value), value


packets = st.one_of(
    st.builds(lambda i, m: cbor_encode({"type": 33, "id": i, "msg": m}), uints, st.binary(max_size=1030)),
    st.builds(lambda i: cbor_encode({"type": 37, "id": i}), uints),
    st.builds(lambda c, i, m: cbor_encode({"type": c, "id": i, "msg": m}), st.integers(0, 70), uints, st.binary(max_size=40)),
    st.builds(lambda i, m, extra: cbor_encode({"type": 33, "id": i, "msg": m, **extra}), uints, st.binary(max_size=40),
              st.dictionaries(st.sampled_from(["a", "ext", "tid"]), uints, max_size=2)),
    st.builds(lambda i: cbor_encode({"type": 37, "id": i, "msg": b"x"}), uints))


@settings(deadline=None, max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(packets, st.data())
def test_the_message_and_receipt_shortcut_agrees_with_the_general_decoder(enc, data) -> None:
    """Encodings of messages and receipts (and of their neighbours: other types, extra fields, fields
    out of bounds), as they are and mutated: the shortcut gives what the general decoder gives (kind
    and map, with the keys in the same order) or declines; it never declines a message or receipt
    that the general decoder accepts."""
    raw = bytearray(enc)
    for _ in range(data.draw(st.integers(0, 3))):
        op = data.draw(st.sampled_from(["flip", "cut", "add", "widen"]))
        if op == "flip" and raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut" and raw:
            del raw[data.draw(st.integers(0, len(raw) - 1)):]
        elif op == "widen" and len(raw) > 4:  # a head written one byte longer than needed
            raw[4:5] = bytes((0x18, raw[4])) if raw[4] < 24 else bytes(raw[4:5])
        else:
            raw.insert(data.draw(st.integers(0, len(raw))), data.draw(st.integers(0, 255)))
    raw = bytes(raw)
    fast = M._message_or_receipt(raw)
    general = _outcome(_decode_general, raw)
    if fast is not None:
        assert fast == general and list(fast[1]) == list(general[1])
    else:
        assert not (isinstance(general, tuple) and general[0] in ("session.message", "session.receipt"))
    assert _outcome(lambda d: M.decode_message("session", d), raw) == general
