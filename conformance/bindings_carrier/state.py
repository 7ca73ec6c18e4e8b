"""Handlers of the ``carrier`` suite for the state machines: friendship, bulk reassembly, invites,
the routing table, lookups and the relay."""

from __future__ import annotations

import hashlib
from typing import Any

from spec.carrier import friends as F
from spec.carrier import messages as M
from spec.carrier import relay as R
from spec.carrier import routing as T
from spec.errors import DecodeError, Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]
TIME = 2**53


def _steps(data: Any, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> tuple[Input, list[Any]]:
    inp = Input(data, required + ("steps",), optional)
    steps = inp.raw("steps")
    if not isinstance(steps, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "steps: expected a list")
    return inp, steps


FRIEND_OPS = ("send_request", "receive_request", "accept", "receive_accept", "remove", "message")


@handler("carrier", "carrier.friends.run",
         "`self`, `nospam`, `steps` [{`op`, `peer`, `nospam`?}] -> `peers` [[peer, state] ...]: the friendship "
         "state machine (op: send_request, receive_request, accept, receive_accept, remove, message)")
def _friends_run(data: Any) -> Json:
    inp, steps = _steps(data, ("self", "nospam"))
    f = F.Friends(self_id=inp.hex("self"), nospam=inp.hex("nospam"))
    for raw in steps:
        step = Input(raw, ("op", "peer"), ("nospam",))
        op, peer = step.choice("op", FRIEND_OPS), step.hex("peer")
        if op == "receive_request":
            f = F.receive_request(f, peer, step.hex("nospam"))
        elif op == "message":
            F.require_friend(f, peer)
        else:
            f = {"send_request": F.send_request, "accept": F.accept, "receive_accept": F.receive_accept,
                 "remove": F.remove}[op](f, peer)
    return {"peers": [[p.hex(), s] for p, s in f.peers]}


@handler("carrier", "carrier.bulk.run",
         "`steps` [{`peer`, `tid`, `total`, `data`, `now`}] -> `completed` [{`peer`, `tid`, `size`, `sha256`}], "
         "`pending` [{`peer`, `tid`, `received`}]: bulk reassembly")
def _bulk_run(data: Any) -> Json:
    _, steps = _steps(data)
    b = F.Bulk()
    done = []
    for raw in steps:
        s = Input(raw, ("peer", "tid", "total", "data", "now"))
        peer, tid = s.hex("peer"), s.small_int("tid", 0, TIME)
        b, whole = F.bulk_chunk(b, peer, tid, s.small_int("total", 0, 2**32), s.hex("data"), s.small_int("now", 0, TIME))
        if whole is not None:
            done.append({"peer": peer.hex(), "tid": tid, "size": len(whole), "sha256": hashlib.sha256(whole).hexdigest()})
    return {"completed": done,
            "pending": [{"peer": t.peer.hex(), "tid": t.tid, "received": t.received} for t in b.transfers]}


@handler("carrier", "carrier.invite.run",
         "`steps` [{`op` (send | response), `peer`, `tid`}] -> `outstanding` [[peer, tid] ...]: invite matching")
def _invite_run(data: Any) -> Json:
    _, steps = _steps(data)
    inv = F.Invites()
    for raw in steps:
        s = Input(raw, ("op", "peer", "tid"))
        op, peer, tid = s.choice("op", ("send", "response")), s.hex("peer"), s.small_int("tid", 0, TIME)
        inv = F.send_invite(inv, peer, tid) if op == "send" else F.receive_invite_response(inv, peer, tid)
    return {"outstanding": [[p.hex(), t] for p, t in inv.outstanding]}


@handler("carrier", "carrier.routing.distance", "`a`, `b` (32-byte ids) -> `distance` (hex), `common_prefix`")
def _routing_distance(data: Any) -> Json:
    inp = Input(data, ("a", "b"))
    a, b = inp.hex("a"), inp.hex("b")
    return {"distance": T.distance(a, b).to_bytes(32, "big").hex(), "common_prefix": T.common_prefix(a, b)}


@handler("carrier", "carrier.routing.run",
         "`self`, `now`, `steps` [{`op` (insert | failed), `id`, `now`}], `target`?, `refresh_at`? -> `outcomes`, "
         "`buckets` [{`entries`, `replacements`}], `closest` (k ids nearest `target`), `refresh` (bucket indices)")
def _routing_run(data: Any) -> Json:
    inp, steps = _steps(data, ("self", "now"), ("target", "refresh_at"))
    t = T.new_table(inp.hex("self"), inp.small_int("now", 0, TIME))
    outcomes = []
    for raw in steps:
        s = Input(raw, ("op", "id", "now"))
        op, node, now = s.choice("op", ("insert", "failed")), s.hex("id"), s.small_int("now", 0, TIME)
        if op == "insert":
            t, outcome = T.insert(t, node, now)
        else:
            t, outcome = T.node_failed(t, node, now), "removed"
        outcomes.append(outcome)
    return {
        "outcomes": outcomes,
        "buckets": [{"entries": [e.id.hex() for e in b.entries], "replacements": [e.id.hex() for e in b.replacements]}
                    for b in t.buckets],
        "closest": [x.hex() for x in T.closest(t, inp.hex("target"))] if inp.has("target") else [],
        "refresh": list(T.buckets_to_refresh(t, inp.small_int("refresh_at", 0, TIME))) if inp.has("refresh_at") else [],
    }


@handler("carrier", "carrier.routing.lookup",
         "`self`, `target`, `known` (ids in the table), `network` [[id, [ids it answers]] ...] (ids not listed "
         "fail) -> `rounds` (the ids asked per round), `result` (the k closest that answered)")
def _routing_lookup(data: Any) -> Json:
    inp = Input(data, ("self", "target", "known", "network"))
    t = T.new_table(inp.hex("self"), 0)
    for x in inp.hex_list("known"):
        t, _ = T.insert(t, x, 0)
    net_raw = inp.raw("network")
    if not isinstance(net_raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "network: expected a list")
    network: dict[bytes, tuple[bytes, ...]] = {}
    for entry in net_raw:
        if not isinstance(entry, list) or len(entry) != 2:
            raise Reject(Reason.MALFORMED_INPUT, None, "network: [id, [ids]] pairs")
        row = Input({"id": entry[0], "ids": entry[1]}, ("id", "ids"))
        network[row.hex("id")] = tuple(row.hex_list("ids"))
    lk = T.start_lookup(t, inp.hex("target"))
    rounds = []
    while not T.lookup_done(lk):
        lk, ask = T.next_queries(lk)
        if not ask:
            break
        rounds.append([x.hex() for x in ask])
        for x in ask:
            lk = T.lookup_response(lk, x, network[x]) if x in network else T.lookup_failed(lk, x)
    return {"rounds": rounds, "result": [x.hex() for x in T.lookup_result(lk)]}


@handler("carrier", "carrier.relay.run",
         "`steps` [{`op`: store {`to`, `from`, `blob` | `zeros` (a blob of that many zero bytes)} | pull {`to`, `after`} | "
         "delete {`to`, `until`}, `now`}] -> `results`: the seq of each store, the items [seq, from, stored, sha256] of "
         "each pull, null for a delete")
def _relay_run(data: Any) -> Json:
    _, steps = _steps(data)
    r = R.Relay()
    results: list[Any] = []
    for raw in steps:
        if not isinstance(raw, dict) or raw.get("op") not in ("store", "pull", "delete"):
            raise Reject(Reason.MALFORMED_INPUT, None, "op: store, pull or delete")
        op = raw["op"]
        fields = {"store": ("to", "from"), "pull": ("to", "after"), "delete": ("to", "until")}[op]
        s = Input(raw, ("op", "now") + fields, ("blob", "zeros") if op == "store" else ())
        now = s.small_int("now", 0, TIME)
        if op == "store":
            if s.has("blob") == s.has("zeros"):
                raise Reject(Reason.MALFORMED_INPUT, None, "store: one of blob and zeros")
            blob = s.hex("blob") if s.has("blob") else bytes(s.small_int("zeros", 0, 1 << 24))
            r, seq = R.store(r, s.hex("to"), s.hex("from"), blob, now)
            results.append(seq)
        elif op == "pull":
            items = R.pull(r, s.hex("to"), s.small_int("after", 0, TIME), now)
            results.append([[i.seq, i.sender.hex(), i.stored, hashlib.sha256(i.blob).hexdigest()] for i in items])
        else:
            r = R.delete(r, s.hex("to"), s.small_int("until", 0, TIME), now)
            results.append(None)
    return {"results": results}


@handler("carrier", "carrier.relay.answer",
         "`from`, `steps` [{`packet` (a relay_store as session packet bytes), `now`, `repeat`? (times, default 1)}] "
         "-> `answers`: the relay's answer to each step's last packet (encoded session packet), and `mailboxes` "
         "[[to, [seq ...]] ...] after the last step")
def _relay_answer(data: Any) -> Json:
    inp, steps = _steps(data, ("from",))
    sender = inp.hex("from")
    r = R.Relay()
    answers: list[str] = []
    for raw in steps:
        s = Input(raw, ("packet", "now"), ("repeat",))
        packet, now = s.hex("packet"), s.small_int("now", 0, TIME)
        answer: dict[str, Any] = {}
        for _ in range(s.small_int("repeat", 1, 1024) if s.has("repeat") else 1):
            try:
                kind, p = M.decode_message("session", packet)
            except DecodeError as e:
                answer = R.answer_undecodable(packet, e)
                continue
            if kind != "session.relay_store":
                raise Reject(Reason.MALFORMED_INPUT, None, f"packet: a relay_store, not {kind}")
            r, answer = R.answer_store(r, sender, p, now)
        answers.append(M.encode_message("session", answer).hex())
    return {"answers": answers, "mailboxes": [[to.hex(), [i.seq for i in m.items]] for to, m in r.mailboxes]}


@handler("carrier", "carrier.relay.outcome",
         "`id` (the store's request id), `answer` (session packet bytes) -> `seq`: the item's sequence number for a "
         "receipt, null for a packet that does not answer the store; a relay_refused naming the store is refused "
         "with the reason it carries (RELAY_REFUSED for a reason and rule the spec does not know as a pair)")
def _relay_outcome(data: Any) -> Json:
    inp = Input(data, ("id", "answer"))
    kind, packet = M.decode_message("session", inp.hex("answer"))
    return {"seq": R.store_result(inp.small_int("id", 0, TIME), kind[len("session."):], packet)}
