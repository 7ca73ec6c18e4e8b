"""Generators of the ``carrier`` suite for Noise handshakes, Carrier sessions and transport frames.

The Noise cases start with the published vectors of the Rust Noise library *snow*
(``tests/data/noise/snow_subset.json``: mcginty/snow @ 8ac60f51cfe3e010c84f0a454cc575ad9204fa12,
``tests/vectors/snow.txt``, Apache-2.0 OR MIT): the expected ciphertexts are theirs, not the spec's.
Carrier's own handshakes use keys and ephemerals derived from the case names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from spec.carrier import noise as N
from spec.errors import Reason

from conformance.generators.carrier import NOW, binding, binding_hex, dids, seed
from conformance.generators.common import det_bytes
from conformance.vectors import CaseSpec, generator

OK = "ok"
SNOW_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "noise" / "snow_subset.json"
SNOW = {"repo": "mcginty/snow", "commit": "8ac60f51cfe3e010c84f0a454cc575ad9204fa12", "path": "tests/vectors/snow.txt",
        "license": "Apache-2.0 OR MIT"}
NOISE_RULES = ("CAR-020", "CAR-021", "CAR-022", "CAR-023")


@cache
def snow_vectors() -> list[dict[str, Any]]:
    return json.loads(SNOW_FILE.read_text())["vectors"]


def _snow_input(v: dict[str, Any]) -> dict[str, Any]:
    ini = {"s": v["init_static"], "e": v["init_ephemeral"]}
    if "init_remote_static" in v:
        ini["rs"] = v["init_remote_static"]
    return {"protocol": v["protocol_name"], "prologue": v["init_prologue"], "initiator": ini,
            "responder": {"s": v["resp_static"], "e": v["resp_ephemeral"]},
            "steps": [{"from": "initiator" if i % 2 == 0 else "responder", "payload": m["payload"]}
                      for i, m in enumerate(v["messages"])]}


def _key(label: str) -> str:
    return det_bytes(f"carrier/noise/{label}", 32).hex()


def _own(pattern: str, steps: list[dict[str, Any]], hash_name: str = "SHA256") -> dict[str, Any]:
    from spec.crypto.curve25519 import x25519_public_key
    ini: dict[str, Any] = {"s": _key("is"), "e": _key("ie")}
    if pattern == "IK":
        ini["rs"] = x25519_public_key(bytes.fromhex(_key("rs"))).hex()
    return {"protocol": N.protocol_name(pattern, hash_name), "prologue": b"carrier".hex(), "initiator": ini,
            "responder": {"s": _key("rs"), "e": _key("re")}, "steps": steps}


def _steps(n: int, **change: Any) -> list[dict[str, Any]]:
    out = [{"from": "initiator" if i % 2 == 0 else "responder", "payload": det_bytes(f"p{i}", 8).hex()} for i in range(n)]
    for index, fields in change.items():
        out[int(index.removeprefix("m"))].update(fields)
    return out


@generator("carrier", "carrier.noise.run")
def noise_run() -> Iterator[CaseSpec]:
    for v in snow_vectors():
        name = v["protocol_name"].lower()
        yield CaseSpec(f"snow_{name}", _snow_input(v), OK, NOISE_RULES,
                       "published vector: the expected ciphertexts are snow's",
                       {"data_file": "tests/data/noise/snow_subset.json", "item": v["protocol_name"], "upstream": SNOW},
                       expect_ok={"messages": [m["ciphertext"] for m in v["messages"]],
                                  "payloads": [m["payload"] for m in v["messages"]]})
    yield CaseSpec("xx_empty_payloads", _own("XX", [{"from": "initiator" if i % 2 == 0 else "responder", "payload": ""}
                                                     for i in range(3)]), OK, NOISE_RULES)
    yield CaseSpec("ik_blake2s", _own("IK", _steps(4), "BLAKE2s"), OK, NOISE_RULES)
    max_first = N.MAX_MESSAGE - N.DHLEN
    yield CaseSpec("xx_first_message_65535", _own("XX", [{"from": "initiator", "payload": "00" * max_first}]), OK,
                   ("CAR-020",), "the largest first message: e and a plaintext payload")
    yield CaseSpec("xx_first_message_65536", _own("XX", [{"from": "initiator", "payload": "00" * (max_first + 1)}]),
                   Reason.NOISE_MESSAGE_LENGTH, ("CAR-020",))
    yield CaseSpec("xx_tampered_second", _own("XX", _steps(3, m1={"tamper": 40})), Reason.NOISE_DECRYPT_FAILED, ("CAR-021",),
                   "a byte of the responder's encrypted static key is flipped")
    yield CaseSpec("xx_tampered_payload", _own("XX", _steps(3, m2={"tamper": 60})), Reason.NOISE_DECRYPT_FAILED, ("CAR-021",))
    yield CaseSpec("ik_tampered_ephemeral", _own("IK", _steps(2, m0={"tamper": 3})), Reason.NOISE_DECRYPT_FAILED, ("CAR-021",),
                   "a changed ephemeral key changes every key after it")
    yield CaseSpec("xx_transport_tampered", _own("XX", _steps(5, m4={"tamper": 0})), Reason.NOISE_DECRYPT_FAILED, ("CAR-021",))
    yield CaseSpec("xx_first_truncated", _own("XX", _steps(1, m0={"truncate": 31})), Reason.NOISE_MESSAGE_LENGTH, ("CAR-020",))
    yield CaseSpec("xx_second_no_tag", _own("XX", [{"from": "initiator", "payload": ""},
                                                   {"from": "responder", "payload": "", "truncate": 32 + 48 + 15}]),
                   Reason.NOISE_MESSAGE_LENGTH, ("CAR-020",), "e, the encrypted s, and 15 bytes: no room for the payload tag")
    yield CaseSpec("ik_first_truncated_static", _own("IK", _steps(1, m0={"truncate": 32 + 47})), Reason.NOISE_MESSAGE_LENGTH,
                   ("CAR-020",))
    yield CaseSpec("responder_writes_first", _own("XX", [{"from": "responder", "payload": ""}]), Reason.NOISE_OUT_OF_TURN,
                   ("CAR-022",))
    yield CaseSpec("initiator_writes_twice", _own("XX", [{"from": "initiator", "payload": ""}, {"from": "initiator", "payload": ""}]),
                   Reason.NOISE_OUT_OF_TURN, ("CAR-022",))


def _party(label: str, eph: str, **binding_args: Any) -> dict[str, Any]:
    b = binding_args.pop("raw", None)
    return {"seed": seed(label).hex(), "ephemeral": det_bytes(f"carrier/eph/{eph}", 32).hex(),
            "binding": b if b is not None else binding_hex(binding(binding_args.pop("bound", label), **binding_args))}


def _hs(pattern: str, ini: dict[str, Any], res: dict[str, Any], table: list[dict[str, Any]], dial: bool = True,
        now: int = NOW, **extra: Any) -> dict[str, Any]:
    return {"pattern": pattern, "initiator": ini, "responder": res, "dial": dial, "dids": table, "now": now, **extra}


SESSION_RULES = ("CAR-010", "CAR-011", "CAR-012", "CAR-013", "CAR-014", "CAR-015", "CAR-016", "CAR-020", "CAR-021", "CAR-022")


@generator("carrier", "carrier.session.handshake")
def session_handshake() -> Iterator[CaseSpec]:
    table = dids("alice", "bob", "carol")
    a, b = _party("alice", "a"), _party("bob", "b")
    yield CaseSpec("xx_dial", _hs("XX", a, b, table), OK, SESSION_RULES)
    yield CaseSpec("xx_incoming", _hs("XX", a, b, table, dial=False), OK, SESSION_RULES,
                   "the initiator accepts whichever node answers, if its binding verifies")
    yield CaseSpec("ik", _hs("IK", a, b, table), OK, SESSION_RULES)
    yield CaseSpec("ik_other_ephemerals", _hs("IK", _party("alice", "a2"), _party("bob", "b2"), table), OK, SESSION_RULES)
    # peer mismatch: a node carries another node's valid binding
    yield CaseSpec("xx_initiator_replays_bobs_binding", _hs("XX", _party("alice", "a", bound="bob"), b, table),
                   Reason.SESSION_PEER_MISMATCH, ("CAR-016",), "alice's node presents bob's (valid) binding")
    yield CaseSpec("xx_responder_replays_bobs_binding", _hs("XX", a, _party("carol", "c", bound="bob"), table, dial=False),
                   Reason.SESSION_PEER_MISMATCH, ("CAR-016",), "carol's node answers with bob's binding")
    yield CaseSpec("ik_responder_replays_alices_binding", _hs("IK", a, _party("bob", "b", bound="alice"), table),
                   Reason.SESSION_PEER_MISMATCH, ("CAR-016",))
    # DIDs and bindings
    yield CaseSpec("xx_responder_deactivated", _hs("XX", a, b, dids("alice", "carol") + dids("bob", status=2)),
                   Reason.BINDING_DID_NOT_VALID, ("CAR-012",), "bob's DID is deactivated: the initiator refuses the session")
    yield CaseSpec("ik_initiator_unknown_did", _hs("IK", a, b, dids("bob")), Reason.BINDING_DID_NOT_VALID, ("CAR-012",))
    yield CaseSpec("xx_forged_node_signature", _hs("XX", _party("alice", "a", node_label="mallory"), b, table),
                   Reason.BINDING_NODE_SIGNATURE, ("CAR-015",))
    yield CaseSpec("ik_forged_did_signature", _hs("IK", _party("alice", "a", did_label="mallory"), b, table),
                   Reason.BINDING_DID_SIGNATURE, ("CAR-014",))
    yield CaseSpec("xx_binding_expired", _hs("XX", a, b, table, now=NOW + 86401), Reason.BINDING_EXPIRED, ("CAR-011",))
    yield CaseSpec("xx_payload_not_a_binding", _hs("XX", a, _party("bob", "b", raw="00"), table),
                   Reason.BINDING_MALFORMED, ("CAR-010",))
    yield CaseSpec("xx_tampered", _hs("XX", a, b, table, tamper={"message": 1, "offset": 70}),
                   Reason.NOISE_DECRYPT_FAILED, ("CAR-021",))
    yield CaseSpec("ik_tampered", _hs("IK", a, b, table, tamper={"message": 0, "offset": 100}),
                   Reason.NOISE_DECRYPT_FAILED, ("CAR-021",))


TRANSPORT_RULES = ("CAR-017", "CAR-018", "CAR-019", "CAR-020", "CAR-021", "CAR-023")
KEY = det_bytes("carrier/transport-key", 32).hex()


def _tr(steps: list[dict[str, Any]], interval: int = 1 << 20, start: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": KEY, "rekey_interval": interval, "steps": steps}
    if start is not None:
        out["start"] = str(start)
    return out


def _send(n: int) -> list[dict[str, Any]]:
    return [{"send": det_bytes(f"carrier/frame/{i}", 16 + i).hex()} for i in range(n)]


def _deliver(*indices: int) -> list[dict[str, Any]]:
    return [{"deliver": i} for i in indices]


def _frames(n: int, interval: int = 1 << 20) -> list[bytes]:
    from spec.carrier import session as S
    ts = S.TransportState(cipher=N.CipherState(k=bytes.fromhex(KEY)), rekey_interval=interval)
    out = []
    for step in _send(n):
        ts, f = S.seal_frame(ts, bytes.fromhex(step["send"]))
        out.append(f)
    return out


@generator("carrier", "carrier.transport.run")
def transport_run() -> Iterator[CaseSpec]:
    yield CaseSpec("in_order", _tr(_send(5) + _deliver(0, 1, 2, 3, 4)), OK, TRANSPORT_RULES)
    yield CaseSpec("interleaved", _tr(_send(1) + _deliver(0) + _send(2)[1:] + _deliver(1)), OK, TRANSPORT_RULES)
    yield CaseSpec("rekey_every_2", _tr(_send(7) + _deliver(*range(7)), interval=2), OK, TRANSPORT_RULES,
                   "both ends rekey before counters 2, 4 and 6")
    yield CaseSpec("rekey_every_1", _tr(_send(3) + _deliver(0, 1, 2), interval=1), OK, TRANSPORT_RULES)
    yield CaseSpec("last_counter", _tr(_send(1) + _deliver(0), start=2**64 - 2), OK, TRANSPORT_RULES,
                   "the counter 2^64-2 is the last one usable")
    yield CaseSpec("empty_plaintext", _tr([{"send": ""}] + _deliver(0)), OK, TRANSPORT_RULES)
    yield CaseSpec("max_plaintext", _tr([{"send": "00" * 65519}] + _deliver(0)), OK, ("CAR-017", "CAR-020"))
    yield CaseSpec("replay", _tr(_send(2) + _deliver(0, 1, 1)), Reason.TRANSPORT_REPLAY, ("CAR-018",))
    yield CaseSpec("replay_first", _tr(_send(3) + _deliver(0, 1, 2, 0)), Reason.TRANSPORT_REPLAY, ("CAR-018",))
    yield CaseSpec("reorder", _tr(_send(2) + _deliver(1, 0)), Reason.TRANSPORT_REORDER, ("CAR-019",))
    yield CaseSpec("lost_frame_after_rekey", _tr(_send(4) + _deliver(0, 1, 3), interval=2), Reason.TRANSPORT_REORDER, ("CAR-019",))
    f = _frames(2)
    yield CaseSpec("tampered_tag", _tr(_send(1) + [{"inject": (f[0][:-1] + bytes((f[0][-1] ^ 1,))).hex()}]),
                   Reason.NOISE_DECRYPT_FAILED, ("CAR-021",))
    yield CaseSpec("counter_rewritten", _tr([{"inject": (bytes(8) + f[1][8:]).hex()}]), Reason.NOISE_DECRYPT_FAILED, ("CAR-021",),
                   "frame 1 relabelled as frame 0: the nonce is the counter, so the tag fails")
    g = _frames(3, interval=2)
    yield CaseSpec("rekey_skipped_by_sender", _tr(_send(2) + _deliver(0, 1) + [{"inject": _frames(3)[2].hex()}], interval=2),
                   Reason.NOISE_DECRYPT_FAILED, ("CAR-021",), "frame 2 sealed without the rekey the receiver applies")
    yield CaseSpec("rekeyed_frames", _tr([{"inject": g[0].hex()}, {"inject": g[1].hex()}, {"inject": g[2].hex()}], interval=2),
                   OK, TRANSPORT_RULES, "frames injected as the sender made them")
    yield CaseSpec("short_frame", _tr([{"inject": "00" * 23}]), Reason.TRANSPORT_FRAME_MALFORMED, ("CAR-017",))
    yield CaseSpec("oversize_frame", _tr([{"inject": "00" * (8 + 65536)}]), Reason.TRANSPORT_FRAME_MALFORMED, ("CAR-017",))
    yield CaseSpec("plaintext_too_large", _tr([{"send": "00" * 65520}]), Reason.NOISE_MESSAGE_LENGTH, ("CAR-020",))
    yield CaseSpec("nonce_exhausted", _tr(_send(1), start=2**64 - 1), Reason.NOISE_NONCE_EXHAUSTED, ("CAR-023",))
