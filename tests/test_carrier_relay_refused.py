"""The relay's refusal packet (``relay_refused``, type 68; CAR-073 to CAR-075).

* its codec: any id, reason and rule encode to the deterministic CBOR and decode back through the
  general decoder; any text in those fields is taken or refused alike by encoder and decoder, with
  the reason of the bound (CAR-032) or of the code's characters (CAR-073);
* the relay's answer (spec): a store the relay refuses is answered with ``relay_refused`` naming
  its id, the relay's mailboxes are unchanged, and the sender takes exactly the relay's reason and
  rule from it;
* a real relay on loopback answers stores with unsealed (under 40 bytes) and oversize (over 60000
  bytes) blobs, sent by a raw peer, with ``relay_refused`` at once, stores nothing, and still takes
  a sealed store (a receipt).
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import identity as I
from spec.carrier import messages as M
from spec.carrier import relay as R
from spec.carrier import session as S
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import RULES, DecodeError, Reason, Reject

from conformance.generators.carrier import seed
from reference.carrier.node import RelayNode
from test_carrier_faults import RawPeer
from test_carrier_node import NOW, Dids, config

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
CODE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
U64 = st.integers(0, M.U64)
codes = st.text(st.sampled_from(CODE), min_size=1, max_size=M.MAX_CODE)
rule_ids = st.text(st.sampled_from(CODE), min_size=1, max_size=M.MAX_RULE_ID)


@FAST
@given(U64, codes, rule_ids)
def test_relay_refused_round_trips_through_the_general_decoder(sid: int, reason: str, rule: str) -> None:
    value = {"type": 68, "id": sid, "reason": reason, "rule": rule}
    data = M.encode_message("session", value)
    assert data == cbor_encode(value)
    assert cbor_decode(data) == value
    assert M.decode_message("session", data) == ("session.relay_refused", value)


def _expected_refusal(text: str, hi: int) -> tuple[Reason, str] | None:
    size = len(text.encode("utf-8"))
    if not 1 <= size <= hi:
        return Reason.CARRIER_MSG_TOO_LARGE, "CAR-032"
    if not set(text) <= set(CODE):
        return Reason.CARRIER_MSG_MALFORMED, "CAR-073"
    return None


@FAST
@given(U64, st.text(max_size=M.MAX_CODE + 8), st.text(max_size=M.MAX_RULE_ID + 4))
def test_any_text_is_taken_or_refused_alike_by_encoder_and_decoder(sid: int, reason: str, rule: str) -> None:
    value = {"type": 68, "id": sid, "reason": reason, "rule": rule}
    expected = _expected_refusal(reason, M.MAX_CODE) or _expected_refusal(rule, M.MAX_RULE_ID)
    raw = cbor_encode(value)
    if expected is None:
        assert M.decode_message("session", raw) == ("session.relay_refused", value)
        assert M.encode_message("session", value) == raw
        return
    with pytest.raises(DecodeError) as decoded:
        M.decode_message("session", raw)
    with pytest.raises(DecodeError) as encoded:
        M.encode_message("session", value)
    assert (decoded.value.reason, decoded.value.rule) == expected
    assert (encoded.value.reason, encoded.value.rule) == expected


TO = I.node_id_of(seed("bob"))
SENDER = I.node_id_of(seed("alice"))


@FAST
@given(st.integers(0, R.MAX_ITEMS), st.integers(0, 70000), U64)
def test_a_refused_store_is_answered_by_its_id_and_the_relay_is_unchanged(fill: int, size: int, sid: int) -> None:
    """Against the relay's own rule: the answer is a receipt exactly when :func:`R.store` keeps the
    blob, and otherwise names the store and the refusal that :func:`R.store` raises; the sender
    takes the same reason and rule back from it."""
    relay = R.Relay()
    for _ in range(fill):
        relay, _ = R.store(relay, TO, SENDER, bytes(40), NOW)
    blob = bytes(size)
    try:
        kept, seq = R.store(relay, TO, SENDER, blob, NOW)
        refusal = None
    except Reject as e:
        refusal = e
    after, answer = R.answer_store(relay, SENDER, {"type": 64, "id": sid, "to": TO, "blob": blob}, NOW)
    kind, decoded = M.decode_message("session", M.encode_message("session", answer))
    if refusal is None:
        assert (after, answer) == (kept, {"type": 37, "id": seq})
        assert R.store_result(sid, kind[8:], decoded) == seq
        return
    assert after is relay  # nothing stored, nothing dropped
    assert answer == {"type": 68, "id": sid, "reason": refusal.reason.value, "rule": refusal.rule}
    with pytest.raises(Reject) as taken:
        R.store_result(sid, kind[8:], decoded)
    assert (taken.value.reason, taken.value.rule) == (refusal.reason, refusal.rule)
    assert R.store_result((sid + 1) & M.U64, kind[8:], decoded) is None  # not an answer to another store


@FAST
@given(U64, codes, rule_ids)
def test_the_sender_takes_a_known_pair_and_names_any_other_relay_refused(sid: int, reason: str, rule: str) -> None:
    known = RULES.get(rule)
    with pytest.raises(Reject) as taken:
        R.store_result(sid, "relay_refused", {"type": 68, "id": sid, "reason": reason, "rule": rule})
    if known is not None and known.reason.value == reason:
        assert (taken.value.reason, taken.value.rule) == (known.reason, rule)
    else:
        assert (taken.value.reason, taken.value.rule) == (Reason.RELAY_REFUSED, "CAR-075")


# -- a real relay on loopback ----------------------------------------------------------------------


class LoopbackRelay:
    """A relay node and one raw peer (alice) on an event loop in a thread of its own, so that each
    Hypothesis example runs a store on the same live session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        dids = Dids()
        for label in ("relay", "alice", "bob"):
            dids.publish(label)
        self.relay = RelayNode(config("relay"), dids, lambda: NOW)
        self.call(self.relay.start())
        self.peer: RawPeer = self.call(RawPeer.dial("alice", self.relay))

    def call(self, coro: Any, timeout: float = 20.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _store(self, packet: bytes) -> tuple[str, dict[str, Any]]:
        await self.peer.write(self.peer.frame(packet))
        (size,) = struct.unpack(">I", await asyncio.wait_for(self.peer.r.readexactly(4), 5))
        self.peer.recv, plaintext = S.open_frame(self.peer.recv, await self.peer.r.readexactly(size))
        return M.decode_message("session", plaintext)

    def store(self, packet: bytes) -> tuple[str, dict[str, Any]]:
        return self.call(self._store(packet))

    def close(self) -> None:
        self.peer.w.close()
        self.call(self.relay.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackRelay]:
    lr = LoopbackRelay()
    try:
        yield lr
    finally:
        lr.close()


blob_sizes = st.one_of(st.integers(0, M.RELAY_MIN_BLOB - 1), st.integers(M.RELAY_MAX_BLOB + 1, 65400))


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(blob_sizes, U64, st.binary(min_size=1, max_size=1))
def test_loopback_relay_refuses_unsealed_and_oversize_blobs_at_once(loopback: LoopbackRelay, size: int, sid: int,
                                                                     fill: bytes) -> None:
    before = loopback.relay.store
    refused_before = loopback.relay.rejected["CARRIER_MSG_TOO_LARGE"]
    kind, answer = loopback.store(cbor_encode({"type": 64, "id": sid, "to": TO, "blob": fill * size}))
    assert (kind, answer) == ("session.relay_refused",
                              {"type": 68, "id": sid, "reason": "CARRIER_MSG_TOO_LARGE", "rule": "CAR-032"})
    with pytest.raises(Reject) as taken:
        R.store_result(sid, "relay_refused", answer)
    assert (taken.value.reason, taken.value.rule) == (Reason.CARRIER_MSG_TOO_LARGE, "CAR-032")
    assert loopback.relay.store == before  # nothing stored, nothing lost
    assert loopback.relay.rejected["CARRIER_MSG_TOO_LARGE"] == refused_before + 1


def test_loopback_relay_still_stores_after_refusals_and_answers_no_unnamed_store(loopback: LoopbackRelay) -> None:
    held = len(loopback.relay.store.mailbox(TO).items)
    malformed = loopback.relay.rejected["CARRIER_MSG_MALFORMED"]
    kind, answer = loopback.store(cbor_encode({"type": 64, "id": 5, "to": TO, "blob": bytes(64)}))
    assert kind == "session.receipt"
    assert R.store_result(5, "receipt", answer) == answer["id"]
    assert len(loopback.relay.store.mailbox(TO).items) == held + 1
    # a store without an id cannot be named: the relay counts it and sends nothing; the next
    # store's answer is the first thing the peer reads
    loopback.call(loopback.peer.packet({"type": 64, "to": TO, "blob": bytes(64)}))
    kind, answer = loopback.store(cbor_encode({"type": 64, "id": 6, "to": TO, "blob": bytes(10)}))
    assert (kind, answer["id"], answer["reason"]) == ("session.relay_refused", 6, "CARRIER_MSG_TOO_LARGE")
    assert loopback.relay.rejected["CARRIER_MSG_MALFORMED"] == malformed + 1
    assert len(loopback.relay.store.mailbox(TO).items) == held + 1
