"""Carrier node ids and addresses (safe and v1 compatibility codecs, upstream facts) and DID bindings."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did.document import parse_document
from spec.encoding.base58 import b58decode, b58encode
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason, Reject
from helpers import expect_reject

from conformance.generators.carrier import NOW, address, binding, did_key, did_of, document, node, seed

FAST = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


def test_v1_facts():
    uid, ns = I.parse_v1_address("2Y7Evx1pxdBaebzecH1nSiwv4M6UgaNJ8T1BJTLmiYX5S8GRjptF")
    assert b58encode(uid) == "hYQJcuHHuEXUcUdwio8bN6LktifD7niwaKggvXFga1a" and ns.hex() == "24aee97f"
    assert I.make_address(uid, ns) == "2Y7Evx1pxdBaebzecH1nSiwv4M6UgaNJ8T1BJTLmiYX5S8GRjptF"
    uid, ns = I.parse_v1_address("X2tDd1ZTErwnHNot8pTdhp7C7Y9FxMPGD8ppiasUT4UsHH2BpF1d")
    assert b58encode(uid) == "EfWQq7VCbAA64B9nTMXXLTsCESTFoVugzYJTkumKt9Tt" and ns.hex() == "3edcb2da"
    assert len(I.parse_v1_user_id("3KygiXesrAACKrF9cnWQrcWW5KqSRY9rKzVqkKUsEoWL")) == 32
    expect_reject(I.parse_v1_user_id, "lKygiXesrAACKrF9cnWQrcWW5KqSRY9rKzVqkKUsEoWL",
                  reason=Reason.INVALID_BASE58_CHARACTER, rule="B58-001")


def test_v2_facts():
    a = I.parse_node_id("HZXXs9LTfNQjrDKvvexRhuMk8TTJhYCfrHwaj3jUzuhZ")
    b = I.parse_node_id("6o6LkHgLyD5sYyW9iN5LNRYnUoX29jiYauQ5cDjhCpWQ")
    assert I.v2_pair_nonce(a, b).hex() == "d63fba46cb80a5a5665777493a685c50598c21b0b2a4fa89" == I.v2_pair_nonce(b, a).hex()


def test_x25519_forms_agree_with_libsodium_key_exchange():
    from spec.crypto.curve25519 import x25519_public_key, x25519_shared
    sa, sb = seed("alice"), seed("bob")
    assert x25519_public_key(I.x25519_private_of(sa)) == I.x25519_public_of(node("alice"))
    assert x25519_shared(I.x25519_private_of(sa), I.x25519_public_of(node("bob"))) == \
        x25519_shared(I.x25519_private_of(sb), I.x25519_public_of(node("alice")))


def test_safe_codec_refuses_what_v1_accepts():
    small = b58encode(bytes(32))
    assert I.parse_v1_user_id(small) == bytes(32)
    expect_reject(I.parse_node_id, small, reason=Reason.CARRIER_ID_NOT_ED25519, rule="CAR-002")
    expect_reject(I.parse_node_id, "1" * 46, reason=Reason.CARRIER_ID_INVALID, rule="CAR-001")
    expect_reject(I.parse_address, "1" * 53, reason=Reason.CARRIER_ADDRESS_INVALID, rule="CAR-003")


@FAST
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=4, max_size=4))
def test_address_round_trip(node_id: bytes, nospam: bytes):
    text = I.make_address(node_id, nospam)
    assert len(text) <= I.MAX_ADDRESS_TEXT
    assert I.parse_v1_address(text) == (node_id, nospam)


@FAST
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=4, max_size=4), st.integers(0, 37), st.integers(1, 255))
def test_any_changed_byte_breaks_the_checksum(node_id: bytes, nospam: bytes, at: int, delta: int):
    raw = bytearray(b58decode(I.make_address(node_id, nospam)))
    raw[at] ^= delta
    expect_reject(I.parse_v1_address, b58encode(bytes(raw)), reason=Reason.CARRIER_ADDRESS_CHECKSUM, rule="CAR-004")


@FAST
@given(st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl+/", max_size=60))
def test_address_parse_only_rejects_with_reasons(text: str):
    try:
        node_id, nospam = I.parse_v1_address(text)
    except Reject as e:
        assert e.reason in (Reason.CARRIER_ADDRESS_INVALID, Reason.CARRIER_ADDRESS_CHECKSUM, Reason.INVALID_BASE58_CHARACTER)
    else:
        assert I.make_address(node_id, nospam) == text


def _resolver(**docs: tuple[int, str | None]) -> B.CarrierResolver:
    table = {did_of(k): (s, parse_document(t) if t else None) for k, (s, t) in docs.items()}
    return lambda d: table.get(str(d), (3, None))


def test_binding_verifies_and_both_keys_are_needed():
    ok = _resolver(alice=(0, document("alice")))
    assert B.verify_binding(binding("alice"), ok, NOW) == node("alice")
    expect_reject(B.verify_binding, binding("alice", node_label="mallory"), ok, NOW,
                  reason=Reason.BINDING_NODE_SIGNATURE, rule="CAR-015")
    expect_reject(B.verify_binding, binding("alice", did_label="mallory"), ok, NOW,
                  reason=Reason.BINDING_DID_SIGNATURE, rule="CAR-014")


@pytest.mark.parametrize("status", [1, 2, 3])
def test_binding_needs_a_valid_did(status: int):
    expect_reject(B.verify_binding, binding("alice"), _resolver(alice=(status, document("alice"))), NOW,
                  reason=Reason.BINDING_DID_NOT_VALID, rule="CAR-012")


def test_binding_needs_the_service_and_the_window():
    expect_reject(B.verify_binding, binding("alice"), _resolver(alice=(0, document("alice", (address("bob"),)))), NOW,
                  reason=Reason.BINDING_NO_SERVICE, rule="CAR-013")
    ok = _resolver(alice=(0, document("alice")))
    expect_reject(B.verify_binding, binding("alice"), ok, NOW + 86401, reason=Reason.BINDING_EXPIRED, rule="CAR-011")


def test_binding_cbor_round_trip_and_malformed():
    b = binding("bob")
    assert B.binding_from_cbor(cbor_decode(cbor_encode(B.binding_to_cbor(b)))) == b
    m = B.binding_to_cbor(b)
    for bad in ({**m, "issued": True}, {**m, "nsig": b"x"}, {k: v for k, v in m.items() if k != "did"}, [m], None):
        expect_reject(B.binding_from_cbor, bad, reason=Reason.BINDING_MALFORMED, rule="CAR-010")


def test_binding_through_the_id_chain_state():
    """The resolver parameter backed by the ID-chain state machine: create a DID, then deactivate it."""
    from spec.did import chain as C
    from spec.did import request as R
    from spec.did.syntax import parse_did_url
    from conformance.bindings_did.chain import replay
    did = did_of("alice")
    vm = parse_did_url(f"{did}#primary")
    create = R.serialize(R.build_request("create", document("alice"), vm, did_key("alice")))
    state, results = replay([(create, NOW - 100)])
    assert results == ["ok"]
    assert B.verify_binding(binding("alice"), B.chain_resolver(state, NOW), NOW) == node("alice")
    deactivate = R.serialize(R.build_request("deactivate", did, vm, did_key("alice")))
    state2, results = replay([(create, NOW - 100), (deactivate, NOW - 50)])
    assert results == ["ok", "ok"]
    assert C.resolve_did(state2, did)[0] == C.STATUS_DEACTIVATED
    expect_reject(B.verify_binding, binding("alice"), B.chain_resolver(state2, NOW), NOW,
                  reason=Reason.BINDING_DID_NOT_VALID, rule="CAR-012")


def test_mixed_order_id_is_refused_by_the_safe_codec():
    from conformance.generators.carrier import _mixed_order_id
    text = _mixed_order_id()
    assert len(I.parse_v1_user_id(text)) == 32
    expect_reject(I.parse_node_id, text, reason=Reason.CARRIER_ID_NOT_ED25519, rule="CAR-002")
