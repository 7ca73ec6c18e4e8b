"""Handlers of the ``carrier`` suite for Noise handshakes, Carrier sessions and transport frames.

A handshake is run by both parties in one handler: each step is written by its sender and read by
the other party, so one case gives the whole transcript. ``tamper`` (a byte offset whose byte is
XORed with 0x01) and ``truncate`` (a length) change a message between writer and reader.
"""

from __future__ import annotations

from typing import Any

from spec.carrier import identity as I
from spec.carrier import noise as N
from spec.carrier import session as S
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler
from conformance.bindings_carrier.identity import resolver_from_input

Json = dict[str, Any]
ROLES = ("initiator", "responder")


def _mangle(step: Input, msg: bytes) -> bytes:
    if step.has("tamper"):
        at = step.small_int("tamper", 0, len(msg) - 1) if msg else -1
        if at < 0:
            raise Reject(Reason.MALFORMED_INPUT, None, "tamper: empty message")
        msg = msg[:at] + bytes((msg[at] ^ 1,)) + msg[at + 1:]
    if step.has("truncate"):
        msg = msg[:step.small_int("truncate", 0, len(msg))]
    return msg


def _protocol(name: str) -> tuple[str, str]:
    parts = name.split("_")
    ok = len(parts) == 5 and parts[0] == "Noise" and parts[1] in N.PATTERNS and parts[2] == "25519" \
        and parts[3] == "ChaChaPoly" and parts[4] in N.HASHES
    if not ok:
        raise Reject(Reason.MALFORMED_INPUT, None, f"unsupported protocol {name!r}")
    return parts[1], parts[4]


@handler(
    "carrier", "carrier.noise.run",
    "`protocol` (Noise_{XX,IK}_25519_ChaChaPoly_{SHA256,BLAKE2s}), `prologue`, `initiator` {`s`, `e`, `rs`?}, "
    "`responder` {`s`, `e`}, `steps` [{`from`, `payload`, `tamper`?, `truncate`?}] -> `messages`, `payloads` "
    "(as read), `handshake_hash`: handshake messages, then transport messages (nonce = count per direction)",
)
def _noise_run(data: Any) -> Json:
    inp = Input(data, ("protocol", "prologue", "initiator", "responder", "steps"))
    pattern, hash_name = _protocol(inp.text("protocol"))
    prologue = inp.hex("prologue")
    ini = Input(inp.raw("initiator"), ("s", "e"), ("rs",))
    res = Input(inp.raw("responder"), ("s", "e"))
    states = {
        "initiator": N.initialize(pattern, True, prologue, s=ini.hex("s"), e=ini.hex("e"),
                                  rs=ini.hex("rs") if ini.has("rs") else None, hash_name=hash_name),
        "responder": N.initialize(pattern, False, prologue, s=res.hex("s"), e=res.hex("e"), hash_name=hash_name),
    }
    steps = inp.raw("steps")
    if not isinstance(steps, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "steps: expected a list")
    ciphers: dict[str, N.CipherState] = {}
    messages, payloads = [], []
    for raw in steps:
        step = Input(raw, ("from", "payload"), ("tamper", "truncate"))
        sender = step.choice("from", ROLES)
        receiver = ROLES[1 - ROLES.index(sender)]
        if not ciphers:
            states[sender], msg = N.write_message(states[sender], step.hex("payload"))
            sent = _mangle(step, msg)
            states[receiver], pt = N.read_message(states[receiver], sent)
            if N.is_finished(states["initiator"]) and N.is_finished(states["responder"]):
                c1, c2 = N.split(states["initiator"])
                ciphers = {"initiator": c1, "responder": c2}
        else:
            ciphers[sender], msg = N.encrypt_with_ad(ciphers[sender], b"", step.hex("payload"))
            sent = _mangle(step, msg)
            receiving = N.CipherState(k=ciphers[sender].k, n=ciphers[sender].n - 1)
            _, pt = N.decrypt_with_ad(receiving, b"", sent)
        messages.append(msg.hex())
        payloads.append(pt.hex())
    return {"messages": messages, "payloads": payloads,
            "handshake_hash": states["initiator"].symmetric.h.hex() if ciphers else None}


@handler(
    "carrier", "carrier.session.handshake",
    "`pattern` (XX | IK), `initiator`/`responder` {`seed`, `ephemeral`, `binding` (CBOR)}, `dial` (bool: the "
    "initiator dials the responder's node id), `dids`, `now`, `tamper`? {`message`, `offset`} -> `messages`, "
    "`handshake_hash`, `initiator_peer`, `responder_peer` (the DIDs each side accepted)",
)
def _session_handshake(data: Any) -> Json:
    inp = Input(data, ("pattern", "initiator", "responder", "dial", "dids", "now"), ("tamper",))
    pattern = inp.choice("pattern", tuple(N.PATTERNS))
    ini = Input(inp.raw("initiator"), ("seed", "ephemeral", "binding"))
    res = Input(inp.raw("responder"), ("seed", "ephemeral", "binding"))
    dial = inp.raw("dial")
    if not isinstance(dial, bool):
        raise Reject(Reason.MALFORMED_INPUT, None, "dial: expected a boolean")
    resolve = resolver_from_input(inp.raw("dids"))
    now = inp.small_int("now", 0, 2**53)
    tamper = Input(inp.raw("tamper"), ("message", "offset")) if inp.has("tamper") else None
    target = I.node_id_of(res.hex("seed"))
    expected = target if dial or pattern == "IK" else None
    hs = {"initiator": S.start_handshake(pattern, True, ini.hex("seed"), ini.hex("ephemeral"),
                                         target if pattern == "IK" else None),
          "responder": S.start_handshake(pattern, False, res.hex("seed"), res.hex("ephemeral"))}
    payloads = {"initiator": ini.hex("binding"), "responder": res.hex("binding")}
    # which message carries whose binding: XX 2 (responder) and 3 (initiator); IK 1 and 2
    carries = {"XX": (None, "responder", "initiator"), "IK": ("initiator", "responder")}[pattern]
    messages: list[str] = []
    peers: dict[str, str] = {}
    for index, owner in enumerate(carries):
        sender = ROLES[index % 2]
        receiver = ROLES[1 - index % 2]
        hs[sender], msg = N.write_message(hs[sender], payloads[owner] if owner else b"")
        if tamper is not None and tamper.small_int("message", 0, 2) == index:
            at = tamper.small_int("offset", 0, max(0, len(msg) - 1))
            msg = msg[:at] + bytes((msg[at] ^ 1,)) + msg[at + 1:]
        messages.append(msg.hex())
        hs[receiver], pt = N.read_message(hs[receiver], msg)
        if owner is not None:
            b = S.accept_peer(hs[receiver], pt, resolve, now, expected if receiver == "initiator" else None)
            peers[receiver] = b.did
    return {"messages": messages, "handshake_hash": hs["initiator"].symmetric.h.hex(),
            "initiator_peer": peers["initiator"], "responder_peer": peers["responder"]}


@handler(
    "carrier", "carrier.transport.run",
    "`key`, `rekey_interval`, `start`? (decimal counter), `steps` [{`send`: plaintext} | {`deliver`: index of a "
    "sent frame} | {`inject`: frame}] -> `frames` (sent), `received` (plaintexts): one direction of a session",
)
def _transport_run(data: Any) -> Json:
    inp = Input(data, ("key", "rekey_interval", "steps"), ("start",))
    key = inp.hex("key")
    if len(key) != 32:
        raise Reject(Reason.MALFORMED_INPUT, None, "key: 32 bytes")
    start = inp.big_int("start") if inp.has("start") else 0
    if not 0 <= start <= N.MAX_NONCE:
        raise Reject(Reason.MALFORMED_INPUT, None, "start: a u64")
    interval = inp.small_int("rekey_interval", 1, 2**32)
    sender = S.TransportState(cipher=N.CipherState(k=key, n=start), rekey_interval=interval)
    receiver = sender
    steps = inp.raw("steps")
    if not isinstance(steps, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "steps: expected a list")
    frames: list[bytes] = []
    received = []
    for raw in steps:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise Reject(Reason.MALFORMED_INPUT, None, "a step is one of send, deliver, inject")
        (op,) = raw
        step = Input(raw, (op,))
        if op == "send":
            sender, frame = S.seal_frame(sender, step.hex("send"))
            frames.append(frame)
            continue
        if op == "deliver":
            frame = frames[step.small_int("deliver", 0, max(0, len(frames) - 1))] if frames else b""
        elif op == "inject":
            frame = step.hex("inject")
        else:
            raise Reject(Reason.MALFORMED_INPUT, None, f"unknown step {op!r}")
        receiver, pt = S.open_frame(receiver, frame)
        received.append(pt.hex())
    return {"frames": [f.hex() for f in frames], "received": received}
