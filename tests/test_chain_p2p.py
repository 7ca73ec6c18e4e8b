"""Unit and property tests of the peer-to-peer messages (:mod:`spec.chain.p2p`): framing, every
payload's codec, the session rules, block locators and getblocks, and the handler bindings."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.bindings import run_handler
from conformance.bindings_chain.p2p import payload_from_json, payload_to_json
from spec.chain import p2p as P
from spec.errors import RULES, DecodeError, Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
NET = P.MAINNET

# == strategies =======================================================================================

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, 2**64 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)
h32 = st.binary(min_size=32, max_size=32)

net_addresses = st.builds(P.NetAddress, timestamp=i64, services=u64, ip=st.binary(min_size=16, max_size=16), port=u16)
inv_vects = st.builds(P.InvVect, type=st.one_of(st.sampled_from([int(t) for t in P.InvType]), u32), hash=h32)


@st.composite
def versions(draw):
    version = draw(st.one_of(u32, st.sampled_from([P.EBIP001_VERSION, P.DPOS_START_VERSION, P.CR_PROPOSAL_VERSION,
                                                    P.CR_PROPOSAL_VERSION - 1])))
    node_version = draw(st.binary(max_size=46)) if version >= P.CR_PROPOSAL_VERSION else None
    return P.MsgVersion(version=version, services=draw(u64), timestamp=draw(u32), port=draw(u16), nonce=draw(u64),
                        height=draw(u64), relay=draw(st.booleans()), node_version=node_version)


def _inv_like(cls):
    return st.builds(cls, inventory=st.lists(inv_vects, max_size=8).map(tuple))


messages = st.one_of(
    versions(),
    st.sampled_from([P.MsgVerAck(), P.MsgGetAddr(), P.MsgMemPool()]),
    st.builds(P.MsgAddr, addresses=st.lists(net_addresses, max_size=6).map(tuple)),
    st.builds(P.MsgPing, nonce=u64),
    st.builds(P.MsgPong, nonce=u64),
    st.builds(P.MsgGetBlocks, locator=st.lists(h32, max_size=6).map(tuple), hash_stop=h32),
    _inv_like(P.MsgInv), _inv_like(P.MsgGetData), _inv_like(P.MsgNotFound),
    st.builds(P.MsgBlock, data=st.binary(max_size=300)),
    st.builds(P.MsgTx, data=st.binary(max_size=300)),
    st.builds(P.MsgReject, rejected_command=st.binary(max_size=12), code=u8, reason=st.binary(max_size=40), hash=h32),
)
networks = st.sampled_from(list(P.NETWORKS.values()))


def decode_or_none(fn, *args):
    """``fn(*args)``, or ``None`` when it raises a DecodeError with a rule; any other exception fails."""
    try:
        return fn(*args)
    except DecodeError as e:
        assert e.rule is not None, f"a decoder rejected without a rule ID: {e}"
        return None


def sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def raw_frame(magic: int, field: bytes, payload: bytes, length: int | None = None, check: bytes | None = None) -> bytes:
    """A message built without the spec: ``field`` is the name (padded here) or the exact 12 bytes."""
    field = field.ljust(12, b"\x00")
    n = len(payload) if length is None else length
    return struct.pack("<I", magic) + field + struct.pack("<I", n) + (check or sha256d(payload)[:4]) + payload


# == round trips ======================================================================================


def test_every_command_has_a_type_and_a_strategy():
    assert set(P.MESSAGE_TYPES) == {"version", "verack", "getaddr", "addr", "ping", "pong", "getblocks", "inv",
                                    "getdata", "notfound", "block", "tx", "reject", "mempool"}
    for command, cls in P.MESSAGE_TYPES.items():
        assert cls.command == command
    assert not set(P.LEFT_OUT_COMMANDS) & set(P.MESSAGE_TYPES)


@FAST
@given(messages, networks)
def test_encode_then_decode_gives_the_same_message(m, network):
    data = P.encode_message(network, m)
    assert P.decode_message(data, network) == m
    assert type(P.decode_message(data, network)) is type(m)


@FAST
@given(messages, networks)
def test_decode_then_encode_gives_the_same_bytes(m, network):
    data = P.encode_message(network, m)
    assert P.encode_message(network, P.decode_message(data, network)) == data
    assert type(m).decode(m.encode()).encode() == m.encode()


@FAST
@given(messages, networks)
def test_header_then_payload_is_decode_message(m, network):
    data = P.encode_message(network, m)
    header = P.read_message_header(data[:P.HEADER_SIZE], network)
    assert header.name == m.command and header.length == len(data) - P.HEADER_SIZE
    assert P.decode_payload(header, data[P.HEADER_SIZE:]) == m


@FAST
@given(messages)
def test_json_fields_round_trip(m):
    assert payload_from_json(m.command, payload_to_json(m)) == m
    encoded = run_handler("chain/ela.p2p.encode", {"network": "testnet", "command": m.command,
                                                   "payload": payload_to_json(m)})["message"]
    decoded = run_handler("chain/ela.p2p.decode", {"network": "testnet", "message": encoded})
    assert decoded == {"command": m.command, "payload": payload_to_json(m)}


# == layouts, checked against bytes built by hand =======================================================


def test_frame_layout_and_magics(ela_facts):
    magics = ela_facts["network_magics"]["value"]
    for name, network in P.NETWORKS.items():
        upstream = magics["regnet" if name == "instant" else name]  # instant is regnet's network layer
        assert (network.magic, network.default_port) == (upstream["magic"], upstream["node_port"])
    data = P.encode_message(NET, P.MsgVerAck())
    assert data == struct.pack("<I", 2017001) + b"verack" + bytes(6) + bytes(4) + bytes.fromhex("5df6e0e2")
    assert P.checksum(b"") == bytes.fromhex("5df6e0e2")


def test_version_layout():
    m = P.MsgVersion(version=80000, services=7, timestamp=1_700_000_000, port=20338, nonce=2**64 - 1, height=5,
                     relay=False, node_version=b"v1")
    assert m.encode() == struct.pack("<IQIHQQB", 80000, 7, 1_700_000_000, 20338, 2**64 - 1, 5, 0) + b"\x02v1"
    old = P.MsgVersion(version=20000, services=1, timestamp=0, port=0, nonce=0, height=0, relay=True)
    assert len(old.encode()) == 35
    assert P.MsgVersion.decode(old.encode()).node_version is None


def test_quirk_relay_reads_any_non_zero_byte_as_true():
    raw = struct.pack("<IQIHQQB", 20000, 1, 0, 0, 0, 0, 0x80)
    assert P.MsgVersion.decode(raw).relay is True


def test_net_address_is_little_endian_with_i64_timestamp():
    a = P.NetAddress(timestamp=-2, services=1, ip=bytes(10) + b"\xff\xff\x7f\x00\x00\x01", port=0x1234)
    assert a.encode() == struct.pack("<qQ16sH", -2, 1, a.ip, 0x1234)
    assert len(a.encode()) == P.NET_ADDRESS_SIZE


def test_counts_are_fixed_width():
    h = bytes(range(32))
    assert P.MsgInv(inventory=(P.InvVect(type=2, hash=h),)).encode() == struct.pack("<II", 1, 2) + h
    assert P.MsgGetBlocks(locator=(h,), hash_stop=bytes(32)).encode() == struct.pack("<I", 1) + h + bytes(32)
    assert P.MsgAddr(addresses=()).encode() == bytes(8)


def test_reject_always_carries_the_hash():
    m = P.MsgReject(rejected_command=b"malformed", code=1, reason=b"", hash=bytes(32))
    assert m.encode() == b"\x09malformed\x01\x00" + bytes(32)


def test_block_and_tx_payloads_are_raw_bytes():
    for cls in (P.MsgBlock, P.MsgTx):
        assert cls.decode(b"").data == b""
        assert cls.decode(b"\x01\x02").encode() == b"\x01\x02"


def test_max_payloads_follow_upstream():
    assert {c: P.max_payload(c, P.MAINNET) for c in P.MESSAGE_TYPES} == {
        "version": 82, "verack": 0, "getaddr": 0, "mempool": 0, "addr": 42_008, "ping": 8, "pong": 8,
        "getblocks": 16_036, "inv": 1_800_004, "getdata": 1_800_004, "notfound": 1_800_004, "block": 6_000_000,
        "tx": 2_000_000, "reject": 524_288,
    }
    assert P.max_payload("block", P.TESTNET) == 18_000_000 and P.max_payload("tx", P.TESTNET) == 8_000_000
    assert P.max_payload("tx", P.REGNET) == 2_000_000
    # the largest well-formed version message is exactly the maximum
    top = P.MsgVersion(version=80000, services=0, timestamp=0, port=0, nonce=0, height=0, relay=True,
                       node_version=b"x" * 46)
    assert len(top.encode()) == P.VERSION_MAX_PAYLOAD


# == decoding bad bytes raises only DecodeError ===========================================================


@FAST
@given(st.binary(max_size=200), networks)
def test_arbitrary_bytes_raise_only_decode_errors(data, network):
    decode_or_none(P.decode_message, data, network)
    if len(data) == P.HEADER_SIZE:
        decode_or_none(P.read_message_header, data, network)


@FAST
@given(st.sampled_from(sorted(P.MESSAGE_TYPES)), st.binary(max_size=120), networks)
def test_arbitrary_payloads_under_a_valid_header_raise_only_decode_errors(command, payload, network):
    if len(payload) > P.max_payload(command, network):
        payload = payload[:P.max_payload(command, network)]
    data = raw_frame(network.magic, command.encode(), payload)
    m = decode_or_none(P.decode_message, data, network)
    if m is not None:
        assert P.encode_message(network, m) == data or isinstance(m, P.MsgVersion)  # only relay bytes may differ


@FAST
@given(messages, st.data())
def test_truncated_messages_are_truncated(m, data):
    raw = P.encode_message(NET, m)
    cut = data.draw(st.integers(0, len(raw) - 1))
    expect_reject(P.decode_message, raw[:cut], NET, reason=Reason.TRUNCATED, rule="ENC-001", decode=True)


@FAST
@given(messages, st.data())
def test_mutated_messages_raise_only_decode_errors(m, data):
    raw = bytearray(P.encode_message(NET, m))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    decode_or_none(P.decode_message, bytes(raw), NET)


@FAST
@given(st.sampled_from(sorted(P.MESSAGE_TYPES)), st.binary(max_size=120))
def test_payload_decoders_raise_only_decode_errors(command, payload):
    decode_or_none(P.MESSAGE_TYPES[command].decode, payload)


# == each framing and codec rule rejects with its reason =====================================================

PING = struct.pack("<Q", 9)


def test_p2p_001_command_field():
    for field in (b"versionxxxxx", b"ping\x00\x00\x00\x00\x00\x00\x00x", b"pi\x00ng"):
        expect_reject(P.decode_message, raw_frame(NET.magic, field, PING), NET,
                      reason=Reason.COMMAND_FIELD_MALFORMED, rule="P2P-001", decode=True)
    with pytest.raises(Reject) as info:
        P.MessageHeader(magic=1, command=b"a\x00b", length=0, checksum=bytes(4)).encode()
    assert info.value.rule == "P2P-001"


def test_p2p_002_magic():
    expect_reject(P.decode_message, raw_frame(P.TESTNET.magic, b"ping", PING), NET,
                  reason=Reason.WRONG_NETWORK_MAGIC, rule="P2P-002", decode=True)
    # the command field is checked first, the command's name after the magic
    expect_reject(P.decode_message, raw_frame(P.TESTNET.magic, b"ABCDEFGHIJKL", PING), NET,
                  reason=Reason.COMMAND_FIELD_MALFORMED, rule="P2P-001", decode=True)
    expect_reject(P.decode_message, raw_frame(P.TESTNET.magic, b"filterload", b""), NET,
                  reason=Reason.WRONG_NETWORK_MAGIC, rule="P2P-002", decode=True)


@pytest.mark.parametrize("command", list(P.LEFT_OUT_COMMANDS) + ["", "VERSION", "getheaders"])
def test_p2p_003_unknown_command(command):
    expect_reject(P.decode_message, raw_frame(NET.magic, command.encode(), b""), NET,
                  reason=Reason.UNKNOWN_COMMAND, rule="P2P-003", decode=True)
    expect_reject(P.frame, NET, command, b"", reason=Reason.UNKNOWN_COMMAND, rule="P2P-003")


def test_p2p_004_payload_too_large_is_checked_before_the_payload():
    for command in P.MESSAGE_TYPES:
        limit = P.max_payload(command, NET)
        header = raw_frame(NET.magic, command.encode(), b"", length=limit + 1)
        expect_reject(P.read_message_header, header, NET, reason=Reason.PAYLOAD_TOO_LARGE, rule="P2P-004",
                      decode=True)
        assert P.read_message_header(raw_frame(NET.magic, command.encode(), b"", length=limit), NET).length == limit
    expect_reject(P.frame, NET, "ping", bytes(9), reason=Reason.PAYLOAD_TOO_LARGE, rule="P2P-004")


def test_p2p_005_checksum():
    expect_reject(P.decode_message, raw_frame(NET.magic, b"ping", PING, check=bytes(4)), NET,
                  reason=Reason.BAD_CHECKSUM, rule="P2P-005", decode=True)


def test_p2p_006_node_version_presence():
    for version, nv in ((20000, b""), (79_999, b"x"), (80000, None)):
        m = P.MsgVersion(version=version, services=1, timestamp=0, port=0, nonce=0, height=0, relay=True,
                         node_version=nv)
        expect_reject(m.encode, reason=Reason.NODE_VERSION_FIELD, rule="P2P-006")


@pytest.mark.parametrize("command,count,rule_id", [
    ("inv", 50_001, "P2P-007"), ("getdata", 50_001, "P2P-007"), ("notfound", 2**32 - 1, "P2P-007"),
    ("addr", 1001, "P2P-008"), ("addr", 2**64 - 1, "P2P-008"), ("getblocks", 501, "P2P-009"),
])
def test_counts_are_limited(command, count, rule_id):
    width = "<Q" if command == "addr" else "<I"
    payload = struct.pack(width, count)
    expect_reject(P.decode_message, raw_frame(NET.magic, command.encode(), payload), NET,
                  reason=Reason.TOO_MANY_ITEMS, rule=rule_id, decode=True)


def test_counts_are_limited_when_encoding():
    h = bytes(32)
    with pytest.raises(Reject) as info:
        P.MsgGetBlocks(locator=(h,) * 501, hash_stop=h).encode()
    assert info.value.rule == "P2P-009"
    addr = P.NetAddress(timestamp=0, services=0, ip=bytes(16), port=0)
    with pytest.raises(Reject) as info:
        P.MsgAddr(addresses=(addr,) * 1001).encode()
    assert info.value.rule == "P2P-008"
    assert len(P.MsgAddr(addresses=(addr,) * 1000).encode()) == 8 + 1000 * 34
    with pytest.raises(Reject) as info:
        P.MsgInv(inventory=(P.InvVect(type=1, hash=h),) * 50_001).encode()
    assert info.value.rule == "P2P-007"


def test_payloads_are_read_exactly():
    inv = P.MsgInv(inventory=(P.InvVect(type=1, hash=bytes(32)),)).encode()
    expect_reject(P.decode_message, raw_frame(NET.magic, b"inv", inv + b"\x00"), NET,
                  reason=Reason.TRAILING_BYTES, rule="ENC-002", decode=True)
    ver = struct.pack("<IQIHQQB", 20000, 1, 0, 0, 0, 0, 1)
    expect_reject(P.decode_message, raw_frame(NET.magic, b"version", ver + b"\x01a"), NET,
                  reason=Reason.TRAILING_BYTES, rule="ENC-002", decode=True)
    expect_reject(P.decode_message, raw_frame(NET.magic, b"version", struct.pack("<IQIHQQB", 80000, 1, 0, 0, 0, 0, 1)),
                  NET, reason=Reason.TRUNCATED, rule="ENC-001", decode=True)


# == the session ================================================================================================


def version(v: int = 20000, services: int = 1, nonce: int = 42, height: int = 100, **kw) -> P.MsgVersion:
    nv = kw.pop("node_version", b"x" if v >= P.CR_PROPOSAL_VERSION else None)
    return P.MsgVersion(version=v, services=services, timestamp=0, port=20338, nonce=nonce, height=height,
                        relay=kw.pop("relay", True), node_version=nv)


def session(**kw) -> P.PeerSession:
    return P.PeerSession(inbound=kw.pop("inbound", True), **kw)


def test_handshake_inbound_and_outbound():
    s, replies = P.run_session(session(), [version(), P.MsgVerAck()])
    assert replies == [("version", "verack"), ()]
    assert s.version_received and s.verack_received and s.protocol_version == 20000 and s.height == 100
    _, replies = P.run_session(session(inbound=False), [version(), P.MsgVerAck()])
    assert replies == [("verack",), ()]


def test_negotiated_version_is_the_lower():
    assert P.session_step(session(), version(80000)).protocol_version == 20000
    assert P.session_step(session(local_version=80000), version(80000)).protocol_version == 80000
    assert P.session_step(session(local_version=80000), version(80000)).node_version == b"x"


def test_session_rules_reject_with_their_reasons():
    v = version()
    cases = [
        ([P.MsgVerAck()], Reason.VERSION_NOT_FIRST, "P2P-010", {}),
        ([P.MsgPing(nonce=1)], Reason.VERSION_NOT_FIRST, "P2P-010", {}),
        ([v, v], Reason.DUPLICATE_VERSION, "P2P-011", {}),
        ([v, P.MsgVerAck(), P.MsgVerAck()], Reason.DUPLICATE_VERACK, "P2P-012", {}),
        ([version(nonce=7)], Reason.SELF_CONNECTION, "P2P-013", {"local_nonces": (3, 7)}),
        ([version(19_999)], Reason.PROTOCOL_VERSION_TOO_OLD, "P2P-014", {}),
        ([version(80000)], Reason.PROTOCOL_VERSION_TOO_OLD, "P2P-014", {"local_version": 10001}),
        ([v, P.MsgAddr(addresses=())], Reason.EMPTY_ADDR, "P2P-015", {}),
        ([v, P.MsgNotFound(inventory=(P.InvVect(type=P.InvType.BLOCK, hash=bytes(32)),))],
         Reason.NOTFOUND_NON_TX, "P2P-016", {}),
        ([v, P.MsgMemPool()], Reason.SERVICE_NOT_OFFERED, "P2P-017", {}),
    ]
    for msgs, reason, rule_id, local in cases:
        expect_reject(P.run_session, session(**local), msgs, reason=reason, rule=rule_id)


def test_session_accepts_what_upstream_accepts():
    v = version()
    ok = [
        [version(10001, services=0)],  # an SPV peer may be old
        [v, P.MsgInv(inventory=()), P.MsgVerAck()],  # verack is not awaited
        [v, P.MsgNotFound(inventory=(P.InvVect(type=P.InvType.TX, hash=bytes(32)),))],
        [v, P.MsgAddr(addresses=(P.NetAddress(timestamp=0, services=1, ip=bytes(16), port=1),))],
    ]
    for msgs in ok:
        P.run_session(session(), msgs)
    P.run_session(session(local_services=3), [v, P.MsgMemPool()])


def test_ping_pong_and_getaddr():
    s, replies = P.run_session(session(), [version(height=2**32 + 3), P.MsgPing(nonce=2**33 + 9), P.MsgPong(nonce=77),
                                           P.MsgGetAddr(), P.MsgGetAddr()])
    assert replies == [("version", "verack"), ("pong",), (), ("addr",), ()]
    assert s.height == 77 and s.sent_addrs
    s = P.session_step(session(), version(height=2**32 + 3))
    assert s.height == 3
    _, replies = P.run_session(session(inbound=False), [version(), P.MsgGetAddr()])
    assert replies[-1] == ()


# == block locators and getblocks ===================================================================================


def chain(n: int, tag: bytes = b"c") -> list[bytes]:
    return [hashlib.sha256(tag + i.to_bytes(4, "little")).digest() for i in range(n)]


@FAST
@given(st.integers(1, 3000), st.data())
def test_block_locator_shape(n, data):
    c = chain(n)
    h = data.draw(st.integers(0, n - 1))
    loc = P.block_locator(c, h)
    heights = [c.index(x) for x in loc]
    assert heights[0] == h and heights[-1] == 0 and len(loc) <= P.MAX_LOCATOR_SIZE
    assert heights == sorted(set(heights), reverse=True)
    assert heights[: min(11, h + 1)] == list(range(h, h - min(11, h + 1), -1))


@FAST
@given(st.integers(1, 80), st.data())
def test_locate_blocks_is_a_slice_of_the_chain(n, data):
    c = chain(n)
    other = chain(5, b"other")
    locator = data.draw(st.lists(st.sampled_from(c + other), max_size=6))
    stop = data.draw(st.sampled_from(c + other + [bytes(32)]))
    limit = data.draw(st.integers(0, 100))
    got = P.locate_blocks(c, locator, stop, limit)
    known = [c.index(x) for x in locator if x in c]
    start = known[0] if known else 0
    assert len(got) <= limit
    assert list(got) == c[start + 1: start + 1 + len(got)]
    if stop in other:
        assert got == ()
    elif stop != bytes(32) and c.index(stop) >= start:
        assert len(got) == min(c.index(stop) - start, limit)
    elif stop == bytes(32):
        assert len(got) == min(n - 1 - start, limit)


def test_locate_blocks_cap_and_quirk():
    c = chain(600)
    assert len(P.locate_blocks(c, [c[0]], bytes(32))) == P.MAX_BLOCKS_PER_MSG
    assert P.locate_blocks(c, [], c[5]) == tuple(c[1:6])  # Quirk: not the stop block alone


def test_every_p2p_rule_is_registered_in_suite_chain():
    ids = [r for r in RULES if r.startswith("P2P-")]
    assert ids == sorted(ids) and len(ids) == 17
    assert all(RULES[r].suite == "chain" for r in ids)
