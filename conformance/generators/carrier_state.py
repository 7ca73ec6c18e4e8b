"""Generators of the ``carrier`` suite for the state machines: friendship, bulk reassembly, invites,
the Kademlia routing table and lookups, and the offline relay.

Upstream case: the distance of two ids from Carrier v2's ``IdTests`` (Elastos.Carrier.Java
``api/src/test/java/elastos/carrier/IdTests.java`` and the same test in Elastos.Carrier.Native
``tests/id_tests.cc``), with its ``approxDistance`` of 219 (= 256 - common prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from spec.carrier import relay as R
from spec.encoding.cbor import cbor_encode
from spec.errors import Reason

from conformance.generators.carrier import NOW, node, nospam
from conformance.generators.common import det_bytes
from conformance.vectors import CaseSpec, generator

OK = "ok"
A, B, C = (node(x).hex() for x in ("alice", "bob", "carol"))
NS = nospam("alice").hex()


def _friends(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"self": A, "nospam": NS, "steps": steps}


def _op(op: str, peer: str, **extra: Any) -> dict[str, Any]:
    return {"op": op, "peer": peer, **extra}


FRIEND_RULES = ("CAR-050", "CAR-051", "CAR-052", "CAR-053", "CAR-054", "CAR-055")


@generator("carrier", "carrier.friends.run")
def friends_run() -> Iterator[CaseSpec]:
    yield CaseSpec("request_then_accepted", _friends([_op("send_request", B), _op("receive_accept", B), _op("message", B)]),
                   OK, FRIEND_RULES)
    yield CaseSpec("received_then_accept", _friends([_op("receive_request", B, nospam=NS), _op("accept", B), _op("message", B)]),
                   OK, FRIEND_RULES)
    yield CaseSpec("both_ask", _friends([_op("send_request", B), _op("receive_request", B, nospam=NS), _op("message", B)]),
                   OK, FRIEND_RULES, "crossing requests make a friendship")
    yield CaseSpec("request_repeated_by_peer", _friends([_op("receive_request", B, nospam=NS), _op("receive_request", B, nospam=NS)]),
                   OK, FRIEND_RULES, "a repeated request stays one pending request")
    yield CaseSpec("remove_then_ask_again", _friends([_op("send_request", B), _op("receive_accept", B), _op("remove", B),
                                                      _op("send_request", B)]), OK, FRIEND_RULES)
    yield CaseSpec("withdraw_request", _friends([_op("send_request", B), _op("remove", B)]), OK, FRIEND_RULES)
    flood = [_op("receive_request", node(f"flood{i}").hex(), nospam=NS) for i in range(64)]
    yield CaseSpec("64_pending", _friends(flood), OK, ("CAR-055",))
    yield CaseSpec("65th_request_refused", _friends(flood + [_op("receive_request", B, nospam=NS)]),
                   Reason.FRIEND_REQUEST_LIMIT, ("CAR-055",), "a flood of requests: the 65th is refused")
    yield CaseSpec("accepted_request_frees_a_slot", _friends(flood + [_op("accept", flood[0]["peer"]),
                                                                     _op("receive_request", B, nospam=NS)]), OK, ("CAR-055",))
    yield CaseSpec("message_to_stranger", _friends([_op("message", B)]), Reason.FRIEND_NOT_FRIEND, ("CAR-054",))
    yield CaseSpec("message_while_requested", _friends([_op("send_request", B), _op("message", B)]),
                   Reason.FRIEND_NOT_FRIEND, ("CAR-054",), "only friends exchange messages")
    yield CaseSpec("message_while_pending", _friends([_op("receive_request", B, nospam=NS), _op("message", B)]),
                   Reason.FRIEND_NOT_FRIEND, ("CAR-054",))
    yield CaseSpec("message_after_remove", _friends([_op("send_request", B), _op("receive_accept", B), _op("remove", B),
                                                     _op("message", B)]), Reason.FRIEND_NOT_FRIEND, ("CAR-054",))
    yield CaseSpec("remove_stranger", _friends([_op("remove", C)]), Reason.FRIEND_NOT_FRIEND, ("CAR-054",))
    yield CaseSpec("request_self", _friends([_op("send_request", A)]), Reason.FRIEND_SELF, ("CAR-050",))
    yield CaseSpec("request_from_self", _friends([_op("receive_request", A, nospam=NS)]), Reason.FRIEND_SELF, ("CAR-050",))
    yield CaseSpec("old_nospam", _friends([_op("receive_request", B, nospam="00000000")]), Reason.FRIEND_NOSPAM, ("CAR-051",),
                   "a request to an address whose nospam was changed")
    yield CaseSpec("request_twice", _friends([_op("send_request", B), _op("send_request", B)]), Reason.FRIEND_ALREADY, ("CAR-052",))
    yield CaseSpec("request_to_friend", _friends([_op("send_request", B), _op("receive_accept", B), _op("send_request", B)]),
                   Reason.FRIEND_ALREADY, ("CAR-052",))
    yield CaseSpec("request_from_friend", _friends([_op("send_request", B), _op("receive_accept", B),
                                                    _op("receive_request", B, nospam=NS)]), Reason.FRIEND_ALREADY, ("CAR-052",))
    yield CaseSpec("accept_without_request", _friends([_op("accept", B)]), Reason.FRIEND_NO_REQUEST, ("CAR-053",))
    yield CaseSpec("accept_own_request", _friends([_op("send_request", B), _op("accept", B)]), Reason.FRIEND_NO_REQUEST, ("CAR-053",))
    yield CaseSpec("unsolicited_accept", _friends([_op("receive_accept", B)]), Reason.FRIEND_NO_REQUEST, ("CAR-053",),
                   "an accept from a peer we never asked makes no friendship")


def _chunk(peer: str, tid: int, total: int, data: bytes, now: int) -> dict[str, Any]:
    return {"peer": peer, "tid": tid, "total": total, "data": data.hex(), "now": now}


BULK_RULES = ("CAR-056", "CAR-057")


@generator("carrier", "carrier.bulk.run")
def bulk_run() -> Iterator[CaseSpec]:
    msg = det_bytes("carrier/bulk", 2500)
    parts = [msg[i:i + 1024] for i in range(0, len(msg), 1024)]
    yield CaseSpec("three_chunks", {"steps": [_chunk(B, 7, 2500, p, NOW + i) for i, p in enumerate(parts)]}, OK, BULK_RULES)
    yield CaseSpec("two_transfers_interleaved", {"steps": [
        _chunk(B, 1, 2048, parts[0], NOW), _chunk(C, 1, 1025, parts[0], NOW), _chunk(B, 1, 2048, parts[1], NOW + 1),
        _chunk(C, 1, 1025, b"z", NOW + 2)]}, OK, BULK_RULES, "the same tid from two peers are two transfers")
    yield CaseSpec("in_progress", {"steps": [_chunk(B, 7, 2500, parts[0], NOW)]}, OK, BULK_RULES)
    yield CaseSpec("last_chunk_at_60s", {"steps": [_chunk(B, 7, 2048, parts[0], NOW), _chunk(B, 7, 2048, parts[1], NOW + 60)]},
                   OK, BULK_RULES)
    yield CaseSpec("last_chunk_at_61s", {"steps": [_chunk(B, 7, 2048, parts[0], NOW), _chunk(B, 7, 2048, parts[1], NOW + 61)]},
                   Reason.BULK_TIMEOUT, ("CAR-057",), "TASSEMBLY_TIMEOUT: 60 s from the first chunk")
    yield CaseSpec("total_changes", {"steps": [_chunk(B, 7, 2500, parts[0], NOW), _chunk(B, 7, 2600, parts[1], NOW)]},
                   Reason.BULK_MISMATCH, ("CAR-056",))
    yield CaseSpec("overflow", {"steps": [_chunk(B, 7, 1500, parts[0], NOW), _chunk(B, 7, 1500, parts[1], NOW)]},
                   Reason.BULK_MISMATCH, ("CAR-056",), "1024 + 1024 bytes for a total of 1500")
    yield CaseSpec("first_chunk_over_total", {"steps": [_chunk(B, 7, 10, parts[0], NOW)]}, Reason.BULK_MISMATCH, ("CAR-056",))
    yield CaseSpec("total_over_5mib", {"steps": [_chunk(B, 7, 5 * 1024 * 1024 + 1, parts[0], NOW)]},
                   Reason.BULK_MISMATCH, ("CAR-056",))


@generator("carrier", "carrier.invite.run")
def invite_run() -> Iterator[CaseSpec]:
    def s(op: str, peer: str, tid: int) -> dict[str, Any]:
        return {"op": op, "peer": peer, "tid": tid}
    rules = ("CAR-058", "CAR-059")
    yield CaseSpec("request_response", {"steps": [s("send", B, 1), s("response", B, 1)]}, OK, rules)
    yield CaseSpec("two_outstanding", {"steps": [s("send", B, 1), s("send", B, 2), s("send", C, 1), s("response", B, 2)]}, OK, rules)
    yield CaseSpec("tid_reused_after_response", {"steps": [s("send", B, 1), s("response", B, 1), s("send", B, 1)]}, OK, rules)
    yield CaseSpec("duplicate_tid", {"steps": [s("send", B, 1), s("send", B, 1)]}, Reason.INVITE_DUPLICATE_TID, ("CAR-058",))
    yield CaseSpec("unknown_tid", {"steps": [s("send", B, 1), s("response", B, 2)]}, Reason.INVITE_UNKNOWN_TID, ("CAR-059",))
    yield CaseSpec("response_from_other_peer", {"steps": [s("send", B, 1), s("response", C, 1)]}, Reason.INVITE_UNKNOWN_TID,
                   ("CAR-059",), "carol cannot answer an invite sent to bob")
    yield CaseSpec("second_response", {"steps": [s("send", B, 1), s("response", B, 1), s("response", B, 1)]},
                   Reason.INVITE_UNKNOWN_TID, ("CAR-059",))


def _id(prefix_bits: str, label: str) -> bytes:
    """A 32-byte id starting with the given bits, the rest derived from ``label``."""
    rest = int.from_bytes(det_bytes(f"carrier/id/{label}", 32), "big") & ((1 << (256 - len(prefix_bits))) - 1)
    return ((int(prefix_bits, 2) << (256 - len(prefix_bits))) | rest if prefix_bits else rest).to_bytes(32, "big")


SELF = _id("0", "self")


@generator("carrier", "carrier.routing.distance")
def routing_distance() -> Iterator[CaseSpec]:
    a = "00000000f528d6132c15787ed16f09b08a4e7de7e2c5d3838974711032cb7076"
    b = "00000000f0a8d6132c15787ed16f09b08a4e7de7e2c5d3838974711032cb7076"
    yield CaseSpec("carrier_v2_id_tests", {"a": a, "b": b}, OK, ("CAR-061",),
                   "Carrier v2 IdTests.testDistance; approxDistance 219 = 256 - 37",
                   {"research": "shared/research/carrier-runtime-hive.md §E", "item": "E.8",
                    "upstream": {"repo": "elastos/Elastos.Carrier.Java", "path": "api/src/test/java/elastos/carrier/IdTests.java"}},
                   expect_ok={"distance": "0000000005800000000000000000000000000000000000000000000000000000", "common_prefix": 37})
    yield CaseSpec("max_min", {"a": "ff" * 32, "b": "00" * 32}, OK, ("CAR-061",), expect_ok={"distance": "ff" * 32, "common_prefix": 0})
    yield CaseSpec("same", {"a": b, "b": b}, OK, ("CAR-061",), expect_ok={"distance": "00" * 32, "common_prefix": 256})
    yield CaseSpec("short_id", {"a": a[:-2], "b": b}, Reason.CARRIER_ID_INVALID, ("CAR-061",))


def _ins(x: bytes, now: int = NOW) -> dict[str, Any]:
    return {"op": "insert", "id": x.hex(), "now": now}


def _table(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"self": SELF.hex(), "now": NOW, "steps": steps, **extra}


@generator("carrier", "carrier.routing.run")
def routing_run() -> Iterator[CaseSpec]:
    far = [_id("1", f"far{i}") for i in range(10)]        # cpl 0 with SELF (which starts with 0)
    near = [_id("01", f"near{i}") for i in range(3)]      # cpl 1
    rules = ("CAR-060", "CAR-061")
    yield CaseSpec("fill_one_bucket", _table([_ins(x) for x in far[:8]], target=far[0].hex()), OK, rules)
    yield CaseSpec("split_home_bucket", _table([_ins(x) for x in far[:8]] + [_ins(near[0])], target=SELF.hex()), OK, rules,
                   "the full home bucket splits: ids with cpl 0 stay, the new id goes to the new home bucket")
    yield CaseSpec("full_far_bucket_replacement", _table([_ins(x) for x in far[:8]] + [_ins(near[0]), _ins(far[8]), _ins(far[9])]),
                   OK, rules, "after the split the cpl-0 bucket is not the home bucket: new ids become replacements")
    yield CaseSpec("update_moves_to_tail", _table([_ins(x) for x in far[:3]] + [_ins(far[0], NOW + 5)]), OK, rules)
    yield CaseSpec("failed_promotes_replacement", _table(
        [_ins(x) for x in far[:8]] + [_ins(near[0]), _ins(far[8]), {"op": "failed", "id": far[2].hex(), "now": NOW + 9}]),
        OK, rules)
    self_prefix = format(int.from_bytes(SELF, "big"), "0256b")[:200]
    deep = [_id(self_prefix, f"deep{i}") for i in range(9)]
    yield CaseSpec("deep_split", _table([_ins(x) for x in deep]), OK, rules,
                   "ids sharing 200 bits with the own id split the home bucket until they separate")
    yield CaseSpec("closest_k", _table([_ins(x) for x in far[:8]] + [_ins(x) for x in near], target=_id("011", "t").hex()), OK, rules)
    yield CaseSpec("refresh_due", _table([_ins(x) for x in far[:8]] + [_ins(near[0], NOW + 600)], refresh_at=NOW + 15 * 60 + 1),
                   OK, rules, "buckets not changed for 15 minutes need a refresh")
    yield CaseSpec("insert_self", _table([_ins(far[0]), _ins(SELF)]), Reason.ROUTING_SELF, ("CAR-060",))
    yield CaseSpec("insert_short_id", _table([{"op": "insert", "id": "00" * 31, "now": NOW}]), Reason.CARRIER_ID_INVALID, ("CAR-061",))


@generator("carrier", "carrier.routing.lookup")
def routing_lookup() -> Iterator[CaseSpec]:
    target = _id("1111", "target")
    known = [_id("1", f"k{i}") for i in range(4)]
    closer = [_id("111", f"c{i}") for i in range(6)]
    closest = [_id("11110", f"z{i}") for i in range(3)]
    network = [[known[0].hex(), [c.hex() for c in closer[:3]]], [known[1].hex(), [c.hex() for c in closer[3:]]],
               [known[2].hex(), []], [closer[0].hex(), [z.hex() for z in closest]]]
    network += [[x.hex(), [SELF.hex()]] for x in closer[1:] + closest]
    rules = ("CAR-060", "CAR-061")
    base = {"self": SELF.hex(), "target": target.hex(), "known": [k.hex() for k in known]}
    yield CaseSpec("converges", {**base, "network": network}, OK, rules,
                   "alpha = 3 queries a round; known[3] fails; answers naming the own id are ignored")
    yield CaseSpec("everyone_fails", {**base, "network": []}, OK, rules, "a lookup whose every node fails ends empty")
    yield CaseSpec("known_self", {**base, "known": base["known"] + [SELF.hex()], "network": network}, Reason.ROUTING_SELF, ("CAR-060",))
    yield CaseSpec("answer_short_id", {**base, "network": [[known[0].hex(), ["00" * 31]]]}, Reason.CARRIER_ID_INVALID, ("CAR-061",))


def _store(to: str, sender: str, blob: bytes | int, now: int) -> dict[str, Any]:
    """A store step; an int is a blob of that many zero bytes (kept small in the case file)."""
    body = {"zeros": blob} if isinstance(blob, int) else {"blob": blob.hex()}
    return {"op": "store", "to": to, "from": sender, **body, "now": now}


@generator("carrier", "carrier.relay.run")
def relay_run() -> Iterator[CaseSpec]:
    blob = det_bytes("carrier/sealed", 100)
    rules = ("CAR-070", "CAR-071", "CAR-072")
    yield CaseSpec("store_pull_delete", {"steps": [
        _store(B, A, blob, NOW), _store(B, C, blob[:60], NOW + 1), {"op": "pull", "to": B, "after": 0, "now": NOW + 2},
        {"op": "delete", "to": B, "until": 1, "now": NOW + 3}, {"op": "pull", "to": B, "after": 0, "now": NOW + 4}]}, OK, rules,
        "the recipient deletes what it pulled, up to the last sequence number it has")
    yield CaseSpec("expiry", {"steps": [_store(B, A, blob, NOW), _store(B, A, blob, NOW + R.TTL - 1),
                                        {"op": "pull", "to": B, "after": 0, "now": NOW + R.TTL}]}, OK, rules,
                   "an item is dropped once it is 7 days old")
    yield CaseSpec("blob_bounds", {"steps": [_store(B, A, bytes(40), NOW), _store(B, A, 60000, NOW)]}, OK, rules)
    fill = [_store(B, A, blob, NOW) for _ in range(R.MAX_ITEMS)]
    yield CaseSpec("mailbox_256", {"steps": fill}, OK, rules)
    yield CaseSpec("mailbox_257", {"steps": fill + [_store(B, A, blob, NOW)]}, Reason.RELAY_MAILBOX_FULL, ("CAR-072",),
                   "a full relay refuses, and says so: the sender keeps the message")
    yield CaseSpec("other_mailbox_not_full", {"steps": fill + [_store(C, A, blob, NOW)]}, OK, rules)
    yield CaseSpec("full_mailbox_frees_on_expiry", {"steps": fill + [_store(B, A, blob, NOW + R.TTL)]}, OK, rules)
    big = [_store(B, A, 60000, NOW) for _ in range(R.MAX_BYTES // 60000)]
    yield CaseSpec("mailbox_bytes_full", {"steps": big + [_store(B, A, 60000, NOW)]}, Reason.RELAY_MAILBOX_FULL, ("CAR-072",))
    yield CaseSpec("blob_39", {"steps": [_store(B, A, bytes(39), NOW)]}, Reason.RELAY_NOT_SEALED, ("CAR-070",))
    yield CaseSpec("blob_60001", {"steps": [_store(B, A, 60001, NOW)]}, Reason.CARRIER_MSG_TOO_LARGE, ("CAR-071",))


def _packet(value: dict[str, Any]) -> str:
    return cbor_encode(value).hex()


def _store_packet(sid: Any, to: str, blob: bytes, **extra: Any) -> str:
    body = {"type": 64, "to": bytes.fromhex(to), "blob": blob, **extra}
    return _packet(body if sid is None else {**body, "id": sid})


@generator("carrier", "carrier.relay.answer")
def relay_answer() -> Iterator[CaseSpec]:
    blob = det_bytes("carrier/sealed", 100)
    yield CaseSpec("stored_then_receipts", {"from": A, "steps": [
        {"packet": _store_packet(7, B, blob), "now": NOW}, {"packet": _store_packet(8, B, blob[:40]), "now": NOW + 1}]},
        OK, ("CAR-074",), "each stored item is answered with a receipt of its sequence number")
    yield CaseSpec("full_mailbox_refused", {"from": A, "steps": [
        {"packet": _store_packet(7, B, bytes(40)), "now": NOW, "repeat": R.MAX_ITEMS},
        {"packet": _store_packet(9, B, blob), "now": NOW + 1},
        {"packet": _store_packet(10, C, blob), "now": NOW + 2}]}, OK, ("CAR-072", "CAR-074"),
        "the 257th store is answered with relay_refused naming store 9, RELAY_MAILBOX_FULL and CAR-072; the full "
        "mailbox keeps its 256 items, and another mailbox still takes a store")
    yield CaseSpec("short_blob_refused", {"from": A, "steps": [{"packet": _store_packet(7, B, bytes(39)), "now": NOW}]},
                   OK, ("CAR-032", "CAR-074"), "a store that does not decode but names its id is refused by that id")
    yield CaseSpec("extra_field_refused", {"from": A, "steps": [
        {"packet": _store_packet(7, B, blob, ext=1), "now": NOW}]}, OK, ("CAR-030", "CAR-074"))
    yield CaseSpec("store_without_id_unanswered", {"from": A, "steps": [
        {"packet": _store_packet(None, B, blob), "now": NOW}]}, Reason.CARRIER_MSG_MALFORMED, ("CAR-030", "CAR-074"),
        "no id to name: the relay cannot answer, and counts the refusal")
    yield CaseSpec("store_id_text_unanswered", {"from": A, "steps": [
        {"packet": _store_packet("7", B, blob), "now": NOW}]}, Reason.CARRIER_MSG_MALFORMED, ("CAR-030", "CAR-074"))
    yield CaseSpec("store_truncated_unanswered", {"from": A, "steps": [
        {"packet": _store_packet(7, B, blob)[:-2], "now": NOW}]}, Reason.TRUNCATED, ("ENC-001", "CAR-074"),
        "bytes that are not CBOR name no store")


def _outcome(sid: int, answer: dict[str, Any]) -> dict[str, Any]:
    return {"id": sid, "answer": _packet(answer)}


def _refusal(sid: int, reason: str, rule: str) -> dict[str, Any]:
    return {"type": 68, "id": sid, "reason": reason, "rule": rule}


@generator("carrier", "carrier.relay.outcome")
def relay_outcome() -> Iterator[CaseSpec]:
    yield CaseSpec("receipt", _outcome(7, {"type": 37, "id": 3}), OK, ("CAR-075",), "stored as item 3")
    yield CaseSpec("refusal_of_another_store", _outcome(8, _refusal(7, "RELAY_MAILBOX_FULL", "CAR-072")), OK,
                   ("CAR-075",), "a late refusal of store 7 does not answer store 8")
    yield CaseSpec("not_an_answer", _outcome(7, {"type": 67, "items": []}), OK, ("CAR-075",))
    for reason, rule in (("RELAY_MAILBOX_FULL", "CAR-072"), ("RELAY_NOT_SEALED", "CAR-070"),
                         ("CARRIER_MSG_TOO_LARGE", "CAR-071"), ("CARRIER_MSG_TOO_LARGE", "CAR-032"),
                         ("CARRIER_MSG_MALFORMED", "CAR-030")):
        yield CaseSpec(f"refused_{rule.lower().replace('-', '_')}", _outcome(7, _refusal(7, reason, rule)), Reason(reason),
                       (rule, "CAR-075"), f"the store's refusal, typed: {reason} [{rule}]")
    yield CaseSpec("refused_unknown_reason", _outcome(7, _refusal(7, "A_LATER_REASON", "CAR-999")),
                   Reason.RELAY_REFUSED, ("CAR-075",), "a reason this spec does not know")
    yield CaseSpec("refused_mismatched_pair", _outcome(7, _refusal(7, "RELAY_MAILBOX_FULL", "CAR-070")),
                   Reason.RELAY_REFUSED, ("CAR-075",), "CAR-070 is not a mailbox-full rule")
    yield CaseSpec("refusal_malformed", _outcome(7, _refusal(7, "relay mailbox full", "CAR-072")),
                   Reason.CARRIER_MSG_MALFORMED, ("CAR-073",))
