"""The Carrier node's stream and timer pieces: records cut from a TCP stream however it is split,
and receipt deadlines kept in one heap under one timer (``reference.carrier.node``)."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject

from reference.carrier.node import MAX_FRAME, Deadlines, _split_frames


def _feed(stream: bytes, cuts: list[int]) -> list[bytes]:
    """The records of ``stream`` read in pieces cut at ``cuts``, as a connection receives them."""
    records, rest, at = [], b"", 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        frames, rest = _split_frames(rest, stream[at:cut])
        records += [bytes(f) for f in frames]
        at = cut
    assert rest == b""  # the stream ends on a record boundary
    return records


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), max_size=12), st.data())
def test_records_are_the_same_however_the_stream_is_split(records, data) -> None:
    stream = b"".join(struct.pack(">I", len(r)) + r for r in records)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    assert _feed(stream, cuts) == records


def test_a_record_split_in_its_length_or_body_is_joined_once() -> None:
    record = struct.pack(">I", 5) + b"hello"
    assert _split_frames(b"", record[:2]) == ([], record[:2])
    assert _split_frames(record[:2], record[2:7]) == ([], record[:7])
    frames, rest = _split_frames(record[:7], record[7:] + record[:1])
    assert [bytes(f) for f in frames] == [b"hello"] and rest == record[:1]


@pytest.mark.parametrize("split", [0, 2, 4])
def test_an_oversize_record_is_refused_before_its_body(split: int) -> None:
    head = struct.pack(">I", MAX_FRAME + 1)
    with pytest.raises(Reject) as e:
        _split_frames(head[:split], head[split:] + bytes(10))
    assert (e.value.reason, e.value.rule) == (Reason.TRANSPORT_FRAME_MALFORMED, "CAR-017")
    frames, _ = _split_frames(b"", struct.pack(">I", MAX_FRAME) + bytes(10))  # the largest is awaited
    assert frames == []


def test_deadlines_fail_late_futures_in_time_order_and_drop_answered_ones() -> None:
    async def go() -> tuple[list[str], float, float]:
        loop = asyncio.get_running_loop()
        deadlines = Deadlines()
        slow, fast, answered = loop.create_future(), loop.create_future(), loop.create_future()
        order: list[str] = []
        for name, fut in (("slow", slow), ("fast", fast), ("answered", answered)):
            fut.add_done_callback(lambda f, name=name: order.append(name))
        t0 = loop.time()
        deadlines.add(slow, 0.4)
        deadlines.add(answered, 0.05)
        deadlines.add(fast, 0.1)  # an earlier deadline than the armed timer's re-arms it
        answered.set_result("receipt")
        with pytest.raises(TimeoutError):
            await fast
        t_fast = loop.time() - t0
        with pytest.raises(TimeoutError):
            await slow
        t_slow = loop.time() - t0
        assert answered.result() == "receipt" and deadlines._heap == [] and deadlines._timer is None
        return order, t_fast, t_slow

    order, t_fast, t_slow = asyncio.run(go())
    assert order == ["answered", "fast", "slow"]
    assert 0.09 <= t_fast < 0.39 <= t_slow < 2.0  # (asyncio may fire a timer a clock tick early)


def test_bulk_messages_both_ways_at_once_and_messages_between_them() -> None:
    """Two friends send each other a 5 MiB bulk message at the same time, with 1 KiB messages in
    between: both connections are flow-controlled in both directions (answers are written without
    waiting, a sender waits above the high-water mark), and everything arrives whole, once."""
    from test_carrier_node import started_friends

    async def go() -> None:
        _, alice, bob = await started_friends()
        try:
            big_a, big_b = bytes(range(256)) * 20480, bytes(range(255, -1, -1)) * 20480  # 5 MiB each
            sent = await asyncio.wait_for(asyncio.gather(
                alice.send_message(bob.node_id, big_a), bob.send_message(alice.node_id, big_b),
                *(alice.send_message(bob.node_id, bytes([i]) * 1024) for i in range(20))), 60)
            assert sent == ["delivered"] * 22
            got_b = [e["data"] for e in list(bob.events._queue) if e["event"] == "message"]
            got_a = [e["data"] for e in list(alice.events._queue) if e["event"] == "message"]
            assert got_a == [big_b] and sorted(got_b) == sorted([bytes([i]) * 1024 for i in range(20)] + [big_a])
            assert not alice.rejected and not bob.rejected
        finally:
            await alice.stop()
            await bob.stop()

    asyncio.run(go())
