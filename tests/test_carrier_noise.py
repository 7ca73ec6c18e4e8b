"""The Noise state machines against snow's published vectors, and their rules (length, tags, turns,
nonce exhaustion, rekey), with Hypothesis for round-trips and tampering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import noise as N
from spec.crypto.curve25519 import x25519_public_key
from spec.errors import Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
DATA = json.loads((Path(__file__).parent / "data" / "noise" / "snow_subset.json").read_text())
H = bytes.fromhex


def _parties(v: dict[str, Any]) -> tuple[str, N.HandshakeState, N.HandshakeState]:
    _, pattern, _, _, hash_name = v["protocol_name"].split("_")
    i = N.initialize(pattern, True, H(v["init_prologue"]), s=H(v["init_static"]), e=H(v["init_ephemeral"]),
                     rs=H(v["init_remote_static"]) if "init_remote_static" in v else None, hash_name=hash_name)
    r = N.initialize(pattern, False, H(v["resp_prologue"]), s=H(v["resp_static"]), e=H(v["resp_ephemeral"]),
                     hash_name=hash_name)
    return pattern, i, r


def test_provenance_note_names_the_source():
    p = DATA["provenance"]
    assert p["repository"] == "mcginty/snow" and len(p["commit"]) == 40 and "MIT" in p["license"]
    assert {v["protocol_name"] for v in DATA["vectors"]} == {
        f"Noise_{p}_25519_ChaChaPoly_{h}" for p in ("XX", "IK") for h in ("SHA256", "BLAKE2s")}


@pytest.mark.parametrize("v", DATA["vectors"], ids=lambda v: v["protocol_name"])
def test_snow_vector(v: dict[str, Any]):
    pattern, i, r = _parties(v)
    count = len(N.PATTERNS[pattern][1])
    send: dict[bool, N.CipherState] = {}
    for index, m in enumerate(v["messages"]):
        from_initiator = index % 2 == 0
        if index < count:
            w, rd = (i, r) if from_initiator else (r, i)
            w, ct = N.write_message(w, H(m["payload"]))
            rd, pt = N.read_message(rd, ct)
            i, r = (w, rd) if from_initiator else (rd, w)
            assert ct == H(m["ciphertext"]) and pt == H(m["payload"])
            if index == count - 1:
                assert N.is_finished(i) and N.is_finished(r) and i.symmetric.h == r.symmetric.h
                c1, c2 = N.split(i)
                assert (c1, c2) == N.split(r)
                send = {True: c1, False: c2}
        else:
            send[from_initiator], ct = N.encrypt_with_ad(send[from_initiator], b"", H(m["payload"]))
            assert ct == H(m["ciphertext"])


def _xx() -> tuple[N.HandshakeState, N.HandshakeState]:
    k = [bytes([n]) * 32 for n in range(1, 5)]
    return (N.initialize("XX", True, b"p", s=k[0], e=k[1]), N.initialize("XX", False, b"p", s=k[2], e=k[3]))


def _finish_xx() -> tuple[N.HandshakeState, N.HandshakeState]:
    i, r = _xx()
    i, m = N.write_message(i, b"")
    r, _ = N.read_message(r, m)
    r, m = N.write_message(r, b"")
    i, _ = N.read_message(i, m)
    i, m = N.write_message(i, b"")
    r, _ = N.read_message(r, m)
    return i, r


def test_ik_initiator_learns_nothing_new_and_responder_learns_static():
    k = [bytes([n]) * 32 for n in range(5, 9)]
    rs = x25519_public_key(k[2])
    i = N.initialize("IK", True, b"", s=k[0], e=k[1], rs=rs)
    r = N.initialize("IK", False, b"", s=k[2], e=k[3])
    i, m = N.write_message(i, b"hello")
    r, pt = N.read_message(r, m)
    assert pt == b"hello" and r.rs == x25519_public_key(k[0])
    with pytest.raises(ValueError):
        N.initialize("IK", True, b"", s=k[0], e=k[1])


def test_out_of_turn_and_after_the_end():
    i, r = _xx()
    expect_reject(N.write_message, r, b"", reason=Reason.NOISE_OUT_OF_TURN, rule="CAR-022")
    expect_reject(N.read_message, i, b"\x00" * 32, reason=Reason.NOISE_OUT_OF_TURN, rule="CAR-022")
    i, r = _finish_xx()
    expect_reject(N.write_message, i, b"", reason=Reason.NOISE_OUT_OF_TURN, rule="CAR-022")
    expect_reject(N.read_message, r, b"", reason=Reason.NOISE_OUT_OF_TURN, rule="CAR-022")


def test_message_length_limits():
    i, r = _xx()
    expect_reject(N.write_message, i, bytes(N.MAX_MESSAGE - 31), reason=Reason.NOISE_MESSAGE_LENGTH, rule="CAR-020")
    expect_reject(N.read_message, r, bytes(N.MAX_MESSAGE + 1), reason=Reason.NOISE_MESSAGE_LENGTH, rule="CAR-020")
    expect_reject(N.read_message, r, bytes(31), reason=Reason.NOISE_MESSAGE_LENGTH, rule="CAR-020")
    i2, m = N.write_message(i, bytes(N.MAX_MESSAGE - 32))
    assert len(m) == N.MAX_MESSAGE


def test_nonce_exhaustion_and_rekey():
    cs = N.CipherState(k=bytes(32), n=N.MAX_NONCE - 1)
    cs, ct = N.encrypt_with_ad(cs, b"", b"x")
    expect_reject(N.encrypt_with_ad, cs, b"", b"x", reason=Reason.NOISE_NONCE_EXHAUSTED, rule="CAR-023")
    expect_reject(N.decrypt_with_ad, cs, b"", ct, reason=Reason.NOISE_NONCE_EXHAUSTED, rule="CAR-023")
    a = N.CipherState(k=bytes(range(32)), n=5)
    b = N.rekey(a)
    assert b.n == 5 and b.k != a.k and N.rekey(b).k != b.k


def test_a_cipher_state_without_key_passes_plaintext():
    cs = N.CipherState()
    assert N.encrypt_with_ad(cs, b"ad", b"pt") == (cs, b"pt")
    assert N.decrypt_with_ad(cs, b"ad", b"pt") == (cs, b"pt")


@FAST
@given(st.lists(st.binary(max_size=300), min_size=3, max_size=3), st.sampled_from(["SHA256", "BLAKE2s"]))
def test_xx_round_trip(payloads: list[bytes], hash_name: str):
    k = [bytes([n]) * 32 for n in range(11, 15)]
    i = N.initialize("XX", True, b"x", s=k[0], e=k[1], hash_name=hash_name)
    r = N.initialize("XX", False, b"x", s=k[2], e=k[3], hash_name=hash_name)
    for index, p in enumerate(payloads):
        if index % 2 == 0:
            i, m = N.write_message(i, p)
            r, out = N.read_message(r, m)
        else:
            r, m = N.write_message(r, p)
            i, out = N.read_message(i, m)
        assert out == p
    assert i.rs == x25519_public_key(k[2]) and r.rs == x25519_public_key(k[0])
    assert N.split(i) == N.split(r)


@FAST
@given(st.data())
def test_any_flipped_bit_of_an_encrypted_handshake_message_is_refused(data: st.DataObject):
    i, r = _xx()
    i, m1 = N.write_message(i, b"")
    r, _ = N.read_message(r, m1)
    r, m2 = N.write_message(r, b"payload")
    at = data.draw(st.integers(0, len(m2) - 1))
    bit = data.draw(st.integers(0, 7))
    bad = m2[:at] + bytes((m2[at] ^ (1 << bit),)) + m2[at + 1:]
    with pytest.raises(Reject) as info:
        N.read_message(i, bad)
    assert info.value.reason in (Reason.NOISE_DECRYPT_FAILED, Reason.X25519_LOW_ORDER)
