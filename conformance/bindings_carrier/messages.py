"""Handlers of the ``carrier`` suite for CBOR messages, DHT packets and DHT values.

A message value is typed CBOR JSON (see :mod:`conformance.bindings`). A DHT value is
``{"data", "k"?, "n"?, "seq"?, "sig"?, "rec"?}`` (hex, ``seq`` a number): ``k``, ``n`` and ``sig``
present make it mutable.
"""

from __future__ import annotations

from typing import Any

from spec.carrier import dht as D
from spec.carrier import messages as M
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason, Reject

from conformance.bindings import Input, cbor_from_json, cbor_to_json, handler

Json = dict[str, Any]
FAMILIES = ("dht", "session")


@handler("carrier", "carrier.message.decode",
         "`family` (dht | session), `bytes` -> `kind`, `value` (typed CBOR JSON): decode and validate a message")
def _message_decode(data: Any) -> Json:
    inp = Input(data, ("family", "bytes"))
    kind, value = M.decode_message(inp.choice("family", FAMILIES), inp.hex("bytes"))
    return {"kind": kind, "value": cbor_to_json(value)}


@handler("carrier", "carrier.message.encode",
         "`family`, `value` (typed CBOR JSON) -> `kind`, `bytes`: validate and encode a message")
def _message_encode(data: Any) -> Json:
    inp = Input(data, ("family", "value"))
    family = inp.choice("family", FAMILIES)
    value = cbor_decode(cbor_encode(cbor_from_json(inp.raw("value"))))
    return {"kind": M.message_kind(family, value), "bytes": M.encode_message(family, value).hex()}


@handler("carrier", "carrier.dht.packet.seal",
         "`sender_seed`, `receiver_id`, `nonce`, `message` (encoded DHT message) -> `packet`")
def _packet_seal(data: Any) -> Json:
    inp = Input(data, ("sender_seed", "receiver_id", "nonce", "message"))
    return {"packet": D.seal_packet(inp.hex("sender_seed"), inp.hex("receiver_id"), inp.hex("nonce"),
                                    inp.hex("message")).hex()}


@handler("carrier", "carrier.dht.packet.open",
         "`receiver_seed`, `packets` (in arrival order) -> `opened` [{`sender`, `nonce`, `kind`, `message`}]: "
         "open each packet and remember its nonce")
def _packet_open(data: Any) -> Json:
    inp = Input(data, ("receiver_seed", "packets"))
    seed = inp.hex("receiver_seed")
    cache = D.NonceCache()
    opened = []
    for packet in inp.hex_list("packets"):
        sender, nonce, kind, message = D.open_packet(seed, packet)
        cache = D.remember_nonce(cache, sender, nonce)
        opened.append({"sender": sender.hex(), "nonce": nonce.hex(), "kind": kind,
                       "message": cbor_encode(message).hex()})
    return {"opened": opened}


def value_from_json(raw: Any) -> D.Value:
    inp = Input(raw, ("data",), ("k", "n", "seq", "sig", "rec"))
    mutable = [inp.has(x) for x in ("k", "n", "sig")]
    if any(mutable) and not all(mutable):
        raise Reject(Reason.MALFORMED_INPUT, None, "a mutable value has k, n and sig")
    if all(mutable):
        k, n, sig = inp.hex("k"), inp.hex("n"), inp.hex("sig")
        if (len(k), len(n), len(sig)) != (32, 24, 64):
            raise Reject(Reason.MALFORMED_INPUT, None, "k 32, n 24, sig 64 bytes")
        rec = inp.hex("rec") if inp.has("rec") else None
        if rec is not None and len(rec) != 32:
            raise Reject(Reason.MALFORMED_INPUT, None, "rec: 32 bytes")
        return D.Value(data=inp.hex("data"), public_key=k, nonce=n, seq=inp.small_int("seq", 0, M.U32) if
                       inp.has("seq") else 0, signature=sig, recipient=rec)
    if inp.has("seq") or inp.has("rec"):
        raise Reject(Reason.MALFORMED_INPUT, None, "seq and rec only with a mutable value")
    return D.Value(data=inp.hex("data"))


@handler("carrier", "carrier.dht.value.check",
         "`value`, `target`? -> `id`, `mutable`: a value's id and signature (and that it is the target's)")
def _value_check(data: Any) -> Json:
    inp = Input(data, ("value",), ("target",))
    v = value_from_json(inp.raw("value"))
    vid = D.check_value(v, inp.hex("target") if inp.has("target") else None)
    return {"id": vid.hex(), "mutable": v.mutable}


@handler("carrier", "carrier.dht.value.store",
         "`steps` [{`value`, `cas`?}] -> `stored` [[id, seq] ...] after every step: a node's value store")
def _value_store(data: Any) -> Json:
    steps = Input(data, ("steps",)).raw("steps")
    if not isinstance(steps, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "steps: expected a list")
    store = D.ValueStore()
    for raw in steps:
        step = Input(raw, ("value",), ("cas",))
        store = D.store_value(store, value_from_json(step.raw("value")),
                              step.small_int("cas", 0, M.U32) if step.has("cas") else None)
    return {"stored": [[k.hex(), v.seq] for k, v in store.values]}


@handler("carrier", "carrier.dht.announce.check",
         "`sender` (node id), `message` (an encoded announce_peer request) -> `peer`, `port`: check a peer announcement")
def _announce_check(data: Any) -> Json:
    inp = Input(data, ("sender", "message"))
    kind, msg = M.decode_message("dht", inp.hex("message"))
    if kind != "dht.request.announce_peer":
        raise Reject(Reason.MALFORMED_INPUT, None, f"not an announce_peer request: {kind}")
    D.check_announce(inp.hex("sender"), msg["q"])
    return {"peer": msg["q"]["t"].hex(), "port": msg["q"]["p"]}
