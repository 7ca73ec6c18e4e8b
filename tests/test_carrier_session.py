"""Carrier sessions: DID-bound XX and IK handshakes, then transport frames (counters, rekey, replay,
reordering), with Hypothesis over delivery orders."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import binding as B
from spec.carrier import noise as N
from spec.carrier import session as S
from spec.did.document import parse_document
from spec.errors import Reason, Reject
from helpers import expect_reject

from conformance.generators.carrier import NOW, binding, did_of, document, node, seed

FAST = settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])


def _resolver(*labels: str, status: int = 0) -> B.CarrierResolver:
    table = {did_of(x): (status, parse_document(document(x))) for x in labels}
    return lambda d: table.get(str(d), (3, None))


def handshake(pattern: str, ini: str = "alice", res: str = "bob", ini_binding: str | None = None,
              res_binding: str | None = None, resolve: B.CarrierResolver | None = None):
    resolve = resolve or _resolver("alice", "bob", "carol")
    i = S.start_handshake(pattern, True, seed(ini), bytes([1]) * 32, node(res))
    r = S.start_handshake(pattern, False, seed(res), bytes([2]) * 32)
    pi, pr = S.binding_payload(binding(ini_binding or ini)), S.binding_payload(binding(res_binding or res))
    if pattern == "XX":
        i, m = N.write_message(i, b"")
        r, _ = N.read_message(r, m)
        r, m = N.write_message(r, pr)
        i, p = N.read_message(i, m)
        got_r = S.accept_peer(i, p, resolve, NOW, node(res))
        i, m = N.write_message(i, pi)
        r, p = N.read_message(r, m)
        got_i = S.accept_peer(r, p, resolve, NOW)
    else:
        i, m = N.write_message(i, pi)
        r, p = N.read_message(r, m)
        got_i = S.accept_peer(r, p, resolve, NOW)
        r, m = N.write_message(r, pr)
        i, p = N.read_message(i, m)
        got_r = S.accept_peer(i, p, resolve, NOW, node(res))
    return i, r, got_i, got_r


@pytest.mark.parametrize("pattern", ["XX", "IK"])
def test_handshake_binds_dids(pattern: str):
    i, r, bi, br = handshake(pattern)
    assert (bi.did, br.did) == (did_of("alice"), did_of("bob"))
    assert i.symmetric.h == r.symmetric.h and N.is_finished(i) and N.is_finished(r)
    si, ri = S.transport_pair(i)
    sr, rr = S.transport_pair(r)
    si, f = S.seal_frame(si, b"hello bob")
    assert S.open_frame(rr, f)[1] == b"hello bob"
    sr, f = S.seal_frame(sr, b"hello alice")
    assert S.open_frame(ri, f)[1] == b"hello alice"


@pytest.mark.parametrize("pattern", ["XX", "IK"])
def test_a_node_cannot_present_another_nodes_binding(pattern: str):
    with pytest.raises(Reject) as e:
        handshake(pattern, ini_binding="carol")
    assert (e.value.reason, e.value.rule) == (Reason.SESSION_PEER_MISMATCH, "CAR-016")
    with pytest.raises(Reject) as e:
        handshake(pattern, res_binding="carol")
    assert (e.value.reason, e.value.rule) == (Reason.SESSION_PEER_MISMATCH, "CAR-016")


def test_xx_dialled_node_must_answer():
    """carol answers a dial to bob with her own valid binding: the initiator refuses her."""
    resolve = _resolver("alice", "bob", "carol")
    i = S.start_handshake("XX", True, seed("alice"), bytes([1]) * 32)
    r = S.start_handshake("XX", False, seed("carol"), bytes([2]) * 32)
    i, m = N.write_message(i, b"")
    r, _ = N.read_message(r, m)
    r, m = N.write_message(r, S.binding_payload(binding("carol")))
    i, p = N.read_message(i, m)
    assert S.accept_peer(i, p, resolve, NOW).did == did_of("carol")
    expect_reject(S.accept_peer, i, p, resolve, NOW, node("bob"), reason=Reason.SESSION_PEER_MISMATCH, rule="CAR-016")


def test_deactivated_peer_is_refused():
    with pytest.raises(Reject) as e:
        handshake("XX", resolve=_resolver("alice", "bob", status=2))
    assert e.value.reason is Reason.BINDING_DID_NOT_VALID


def _pair(interval: int = 4) -> tuple[S.TransportState, S.TransportState]:
    t = S.TransportState(cipher=N.CipherState(k=bytes(range(32))), rekey_interval=interval)
    return t, t


@FAST
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=20), st.integers(1, 5))
def test_in_order_delivery_with_rekey(msgs: list[bytes], interval: int):
    send, recv = _pair(interval)
    for m in msgs:
        send, f = S.seal_frame(send, m)
        recv, out = S.open_frame(recv, f)
        assert out == m
    assert send.cipher == recv.cipher


@FAST
@given(st.integers(2, 12), st.data())
def test_any_out_of_order_delivery_is_refused_and_changes_nothing(n: int, data: st.DataObject):
    send, recv = _pair()
    frames = []
    for k in range(n):
        send, f = S.seal_frame(send, bytes([k]))
        frames.append(f)
    delivered = data.draw(st.integers(0, n - 1))
    for f in frames[:delivered]:
        recv, _ = S.open_frame(recv, f)
    wrong = data.draw(st.sampled_from([k for k in range(n) if k != delivered]))
    expected = (Reason.TRANSPORT_REPLAY, "CAR-018") if wrong < delivered else (Reason.TRANSPORT_REORDER, "CAR-019")
    expect_reject(S.open_frame, recv, frames[wrong], reason=expected[0], rule=expected[1])
    recv, out = S.open_frame(recv, frames[delivered])
    assert out == bytes([delivered])


@FAST
@given(st.binary(max_size=40), st.integers(0, 8 + 16 + 39), st.integers(1, 255))
def test_any_changed_byte_of_a_frame_is_refused(msg: bytes, at: int, delta: int):
    send, recv = _pair()
    send, f = S.seal_frame(send, msg)
    at %= len(f)
    bad = f[:at] + bytes((f[at] ^ delta,)) + f[at + 1:]
    with pytest.raises(Reject) as e:
        S.open_frame(recv, bad)
    assert e.value.reason in (Reason.NOISE_DECRYPT_FAILED, Reason.TRANSPORT_REORDER)


def test_frame_sizes():
    send, recv = _pair()
    expect_reject(S.open_frame, recv, bytes(23), reason=Reason.TRANSPORT_FRAME_MALFORMED, rule="CAR-017")
    expect_reject(S.seal_frame, send, bytes(S.MAX_FRAME_PLAINTEXT + 1), reason=Reason.NOISE_MESSAGE_LENGTH, rule="CAR-020")
    send, f = S.seal_frame(send, bytes(S.MAX_FRAME_PLAINTEXT))
    assert len(f) == 8 + N.MAX_MESSAGE and S.open_frame(recv, f)[1] == bytes(S.MAX_FRAME_PLAINTEXT)
