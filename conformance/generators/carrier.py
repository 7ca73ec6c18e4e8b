"""Generators of the ``carrier`` suite: node keys, ids and addresses, DID bindings, CBOR messages,
DHT packets and values.

Upstream facts (research note ``carrier-runtime-hive.md`` §E):

* Carrier v1 ``apps/pfd/client.conf`` (elastos/Elastos.CarrierClassic.Native @ bd828ffb): the
  address ``2Y7Evx1p...`` of user id ``hYQJcuHH...`` (43 characters), nospam ``24aee97f``;
* ``Elastos.Hive.Node tests_v1/etc/did/resources/testdata/document.json`` (@ e2621af9): the
  ``CarrierAddress`` service ``carrier://X2tDd1ZT...``, user id ``EfWQq7VC...``, nospam ``3edcb2da``;
* Carrier v1 ``tests/apitests/api/carrier/check_id_test.c``: a valid id and the same id with an ``l``;
* Carrier v2 ``apps/launcher/default.conf`` (elastos/Elastos.Carrier.Native @ 87501df6): bootstrap ids,
  which are Ed25519 keys, and the per-pair nonce that v2's ``CryptoContext`` derives for two of them.

Keys, nonces and DIDs are derived from the case names (:func:`conformance.generators.common.det_bytes`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from spec.carrier import binding as B
from spec.carrier import dht as D
from spec.carrier import identity as I
from spec.carrier import messages as M
from spec.crypto import p256
from spec.did import keys as did_keys
from spec.encoding.base58 import b58encode
from spec.encoding.cbor import cbor_encode
from spec.errors import Reason

from conformance.bindings import cbor_to_json
from conformance.generators.common import det_bytes, det_int
from conformance.vectors import CaseSpec, generator

OK = "ok"
V1 = {"repo": "elastos/Elastos.CarrierClassic.Native", "commit": "bd828ffb"}
V2 = {"repo": "elastos/Elastos.Carrier.Native", "commit": "87501df6"}
HIVE = {"repo": "elastos/Elastos.Hive.Node", "commit": "e2621af9"}
NOTE = "research note carrier-runtime-hive.md §E"
RESEARCH = "shared/research/carrier-runtime-hive.md"
NOW = 1_800_000_000
"""2027-01-15: the time bindings are checked at."""


def fact(source: dict[str, str], path: str, item: str) -> dict[str, Any]:
    """The provenance of a case built from an upstream fact quoted in the research note."""
    return {"research": f"{RESEARCH} §{item}", "item": item, "upstream": {**source, "path": path}}


def seed(label: str) -> bytes:
    return det_bytes(f"carrier/seed/{label}", 32)


def node(label: str) -> bytes:
    return I.node_id_of(seed(label))


def nospam(label: str) -> bytes:
    return det_bytes(f"carrier/nospam/{label}", 4)


def address(label: str) -> str:
    return I.make_address(node(label), nospam(label))


def did_key(label: str) -> bytes:
    return det_int(f"carrier/did/{label}", 1, p256.N - 1).to_bytes(32, "big")


def did_of(label: str) -> str:
    return str(did_keys.did_from_public_key(p256.public_key_from_private(did_key(label))))


@cache
def document(label: str, addresses: tuple[str, ...] | None = None, expires: int = NOW + 365 * 86400) -> str:
    return B.carrier_document(did_key(label), (address(label),) if addresses is None else addresses,
                              expires, NOW - 30 * 86400)


def dids(*labels: str, status: int = 0, **docs: str | None) -> list[dict[str, Any]]:
    """A resolver table: each label's DID with its document (``docs`` overrides by label)."""
    out = []
    for label in labels:
        out.append({"did": did_of(label), "status": status,
                    "document": docs[label] if label in docs else document(label)})
    return out


def binding(label: str, *, issued: int = NOW - 60, expires: int = NOW + 86400, node_label: str | None = None,
            did_label: str | None = None, key_fragment: str = "primary") -> B.Binding:
    """``label``'s binding; ``node_label``/``did_label`` sign with another node or DID key (forgeries)."""
    d = did_of(label)
    return B.sign_binding(d, address(label), f"{d}#{key_fragment}", issued, expires,
                          did_key(did_label or label), seed(node_label or label))


def binding_hex(b: B.Binding) -> str:
    return cbor_encode(B.binding_to_cbor(b)).hex()


# -- keys, ids and addresses ----------------------------------------------------------------------


@generator("carrier", "carrier.node.keys")
def node_keys() -> Iterator[CaseSpec]:
    for label in ("alice", "bob", "relay"):
        yield CaseSpec(label, {"seed": seed(label).hex()}, OK, ("CAR-001", "CAR-002"))
    yield CaseSpec("rfc8032_test1", {"seed": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"}, OK,
                   ("CAR-002",), "RFC 8032 §7.1 TEST 1 secret key: its public key is the node id",
                   expect_ok={"node_id": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"})
    yield CaseSpec("short_seed", {"seed": "00" * 31}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))


V1_ADDRESS = "2Y7Evx1pxdBaebzecH1nSiwv4M6UgaNJ8T1BJTLmiYX5S8GRjptF"
HIVE_ADDRESS = "X2tDd1ZTErwnHNot8pTdhp7C7Y9FxMPGD8ppiasUT4UsHH2BpF1d"
V2_IDS = ("HZXXs9LTfNQjrDKvvexRhuMk8TTJhYCfrHwaj3jUzuhZ", "6o6LkHgLyD5sYyW9iN5LNRYnUoX29jiYauQ5cDjhCpWQ")
SMALL_ORDER_ID = b58encode(bytes(32))  # y = 0: a point of order 4
NOT_A_POINT = b58encode(bytes.fromhex("02" + "00" * 31))  # y = 2 has no x on the curve


def _mixed_order_id() -> str:
    """alice's node id plus a point of order 8: on the curve, not in the prime-order subgroup."""
    from spec.crypto.curve25519 import ED25519_D as d, ED25519_P as p, _Y8, _sqrt_mod_p

    def inv(x: int) -> int:
        return pow(x, p - 2, p)

    def decode(b: bytes) -> tuple[int, int]:
        y = int.from_bytes(b, "little") & ((1 << 255) - 1)
        x = _sqrt_mod_p((y * y - 1) * inv(d * y * y + 1) % p)
        return (p - x if (x & 1) != b[31] >> 7 else x), y

    (x1, y1), y2 = decode(I.node_id_of(seed("alice"))), _Y8
    x2 = _sqrt_mod_p((y2 * y2 - 1) * inv(d * y2 * y2 + 1) % p)
    t = d * x1 * x2 * y1 * y2
    x3, y3 = (x1 * y2 + x2 * y1) * inv(1 + t) % p, (y1 * y2 + x1 * x2) * inv(1 - t) % p
    return b58encode((y3 | (x3 & 1) << 255).to_bytes(32, "little"))


def _with_checksum(body: bytes) -> str:
    return b58encode(body + I.address_checksum(body))


@generator("carrier", "carrier.id.parse")
def id_parse() -> Iterator[CaseSpec]:
    yield CaseSpec("v1_check_id_valid", {"id": "3KygiXesrAACKrF9cnWQrcWW5KqSRY9rKzVqkKUsEoWL", "codec": "v1"}, OK,
                   ("CAR-001",), "Carrier v1 check_id_test.c: a valid id", fact(V1, "tests/apitests/api/carrier/check_id_test.c", "E.3"))
    yield CaseSpec("v1_check_id_l", {"id": "lKygiXesrAACKrF9cnWQrcWW5KqSRY9rKzVqkKUsEoWL", "codec": "v1"},
                   Reason.INVALID_BASE58_CHARACTER, ("B58-001",), "Carrier v1 check_id_test.c: 'l' is not base58",
                   fact(V1, "tests/apitests/api/carrier/check_id_test.c", "E.3"))
    yield CaseSpec("v1_user_id_43_chars", {"id": "hYQJcuHHuEXUcUdwio8bN6LktifD7niwaKggvXFga1a", "codec": "v1"}, OK,
                   ("CAR-001",), "Carrier v1 apps/pfd/client.conf server id (43 characters)", fact(V1, "apps/pfd/client.conf", "E.1"))
    for i, text in enumerate(V2_IDS):
        yield CaseSpec(f"v2_bootstrap_{i}", {"id": text, "codec": "safe"}, OK, ("CAR-001", "CAR-002"),
                       f"Carrier v2 bootstrap id ({NOTE} 6)", fact(V2, "apps/launcher/default.conf", "E.6"))
    yield CaseSpec("safe_generated", {"id": b58encode(node("alice")), "codec": "safe"}, OK, ("CAR-001", "CAR-002"))
    yield CaseSpec("v1_accepts_small_order", {"id": SMALL_ORDER_ID, "codec": "v1"}, OK, ("CAR-001",),
                   "the v1 codec checks length only (a v1 id is a Curve25519 key)")
    yield CaseSpec("safe_small_order", {"id": SMALL_ORDER_ID, "codec": "safe"}, Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))
    yield CaseSpec("safe_not_a_point", {"id": NOT_A_POINT, "codec": "safe"}, Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))
    yield CaseSpec("safe_mixed_order", {"id": _mixed_order_id(), "codec": "safe"}, Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",),
                   "a valid key plus a point of order 8: on the curve, outside the prime-order subgroup")
    yield CaseSpec("v1_mixed_order", {"id": _mixed_order_id(), "codec": "v1"}, OK, ("CAR-001",))
    yield CaseSpec("31_bytes", {"id": b58encode(b"\x01" * 31), "codec": "v1"}, Reason.CARRIER_ID_INVALID, ("CAR-001",))
    yield CaseSpec("33_bytes", {"id": b58encode(b"\x01" * 33), "codec": "safe"}, Reason.CARRIER_ID_INVALID, ("CAR-001",))
    yield CaseSpec("too_long_text", {"id": "1" * 46, "codec": "v1"}, Reason.CARRIER_ID_INVALID, ("CAR-001",),
                   "longer than CARRIER_MAX_ID_LEN 45")
    yield CaseSpec("empty", {"id": "", "codec": "v1"}, Reason.CARRIER_ID_INVALID, ("CAR-001",))


@generator("carrier", "carrier.address.parse")
def address_parse() -> Iterator[CaseSpec]:
    yield CaseSpec("v1_pfd_client", {"address": V1_ADDRESS, "codec": "v1"}, OK, ("CAR-003", "CAR-004"),
                   f"{NOTE} 1", fact(V1, "apps/pfd/client.conf", "E.1"),
                   expect_ok={"id": "hYQJcuHHuEXUcUdwio8bN6LktifD7niwaKggvXFga1a", "nospam": "24aee97f"})
    yield CaseSpec("hive_did_document", {"address": HIVE_ADDRESS, "codec": "v1"}, OK, ("CAR-003", "CAR-004"),
                   f"{NOTE} 2", fact(HIVE, "tests_v1/etc/did/resources/testdata/document.json", "E.2"),
                   expect_ok={"id": "EfWQq7VCbAA64B9nTMXXLTsCESTFoVugzYJTkumKt9Tt", "nospam": "3edcb2da"})
    for label in ("alice", "bob"):
        yield CaseSpec(f"safe_{label}", {"address": address(label), "codec": "safe"}, OK,
                       ("CAR-002", "CAR-003", "CAR-004"),
                       expect_ok={"node_id": node(label).hex(), "nospam": nospam(label).hex()})
    raw = bytearray(I.make_address(node("alice"), nospam("alice")).encode())
    body = node("alice") + nospam("alice")
    bad = body + bytes((I.address_checksum(body)[0] ^ 0x80, I.address_checksum(body)[1]))
    yield CaseSpec("checksum_flipped", {"address": b58encode(bad), "codec": "safe"}, Reason.CARRIER_ADDRESS_CHECKSUM, ("CAR-004",))
    yield CaseSpec("v1_checksum_flipped", {"address": b58encode(bad), "codec": "v1"}, Reason.CARRIER_ADDRESS_CHECKSUM, ("CAR-004",))
    yield CaseSpec("nospam_changed", {"address": b58encode(node("alice") + b"\x00\x00\x00\x00" + I.address_checksum(body)),
                                      "codec": "v1"}, Reason.CARRIER_ADDRESS_CHECKSUM, ("CAR-004",),
                   "the checksum binds the nospam")
    yield CaseSpec("id_only", {"address": b58encode(node("alice")), "codec": "v1"}, Reason.CARRIER_ADDRESS_INVALID, ("CAR-003",))
    yield CaseSpec("39_bytes", {"address": b58encode(b"\x05" * 39), "codec": "v1"}, Reason.CARRIER_ADDRESS_INVALID, ("CAR-003",))
    yield CaseSpec("too_long_text", {"address": "1" * 53, "codec": "v1"}, Reason.CARRIER_ADDRESS_INVALID, ("CAR-003",))
    yield CaseSpec("bad_character", {"address": raw.decode()[:-1] + "0", "codec": "v1"}, Reason.INVALID_BASE58_CHARACTER, ("B58-001",))
    yield CaseSpec("safe_small_order_id", {"address": _with_checksum(bytes(32) + b"\x01\x02\x03\x04"), "codec": "safe"},
                   Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))
    yield CaseSpec("v1_small_order_id", {"address": _with_checksum(bytes(32) + b"\x01\x02\x03\x04"), "codec": "v1"}, OK,
                   ("CAR-003", "CAR-004"), "the v1 codec does not check the key")


@generator("carrier", "carrier.address.make")
def address_make() -> Iterator[CaseSpec]:
    yield CaseSpec("v1_pfd_client_roundtrip", {"node_id": b58decode_hex("hYQJcuHHuEXUcUdwio8bN6LktifD7niwaKggvXFga1a"),
                                               "nospam": "24aee97f"}, OK, ("CAR-001", "CAR-003"),
                   f"{NOTE} 1: rebuilds the upstream address", fact(V1, "apps/pfd/client.conf", "E.1"),
                   expect_ok={"address": V1_ADDRESS})
    yield CaseSpec("alice", {"node_id": node("alice").hex(), "nospam": nospam("alice").hex()}, OK, ("CAR-001", "CAR-003"))
    yield CaseSpec("short_nospam", {"node_id": node("alice").hex(), "nospam": "0102"}, Reason.CARRIER_ADDRESS_INVALID, ("CAR-003",))
    yield CaseSpec("short_id", {"node_id": node("alice").hex()[:-2], "nospam": "01020304"}, Reason.CARRIER_ID_INVALID, ("CAR-001",))


def b58decode_hex(text: str) -> str:
    from spec.encoding.base58 import b58decode
    return b58decode(text).hex()


@generator("carrier", "carrier.v2.pair_nonce")
def pair_nonce() -> Iterator[CaseSpec]:
    yield CaseSpec("v2_bootstraps", {"a": V2_IDS[0], "b": V2_IDS[1]}, OK, ("CAR-001", "CAR-002"),
                   f"{NOTE} 7: CryptoContext's nonce for two bootstrap ids (compatibility only; the spec never uses it)",
                   fact(V2, "apps/launcher/default.conf, src/core/crypto_context.cc", "E.7"),
                   expect_ok={"nonce": "d63fba46cb80a5a5665777493a685c50598c21b0b2a4fa89"})
    yield CaseSpec("v2_symmetric", {"a": V2_IDS[1], "b": V2_IDS[0]}, OK, ("CAR-002",), "the nonce does not depend on direction",
                   expect_ok={"nonce": "d63fba46cb80a5a5665777493a685c50598c21b0b2a4fa89"})
    yield CaseSpec("small_order", {"a": V2_IDS[0], "b": SMALL_ORDER_ID}, Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))


# -- DID bindings ----------------------------------------------------------------------------------


@generator("carrier", "carrier.binding.sign")
def binding_sign() -> Iterator[CaseSpec]:
    for label in ("alice", "bob"):
        d = did_of(label)
        yield CaseSpec(label, {"did": d, "address": address(label), "key": f"{d}#primary", "issued": NOW - 60,
                               "expires": NOW + 86400, "did_private_key": did_key(label).hex(),
                               "node_seed": seed(label).hex()}, OK, ("CAR-010",),
                       "RFC 6979 and Ed25519 signatures are deterministic: the binding bytes are fixed")
    d = did_of("alice")
    yield CaseSpec("issued_after_expires", {"did": d, "address": address("alice"), "key": f"{d}#primary", "issued": NOW,
                                            "expires": NOW - 1, "did_private_key": did_key("alice").hex(),
                                            "node_seed": seed("alice").hex()}, Reason.BINDING_MALFORMED, ("CAR-010",))


def _verify(name: str, b: B.Binding | bytes, table: list[dict[str, Any]], means: str | Reason, rules: tuple[str, ...],
            desc: str = "", now: int = NOW) -> CaseSpec:
    raw = b.hex() if isinstance(b, bytes) else binding_hex(b)
    return CaseSpec(name, {"binding": raw, "dids": table, "now": now}, means, rules, desc)


ALL_BINDING = ("CAR-010", "CAR-011", "CAR-012", "CAR-013", "CAR-014", "CAR-015", "CAR-003", "CAR-004")


@generator("carrier", "carrier.binding.verify")
def binding_verify() -> Iterator[CaseSpec]:
    good = binding("alice")
    yield _verify("valid", good, dids("alice"), OK, ALL_BINDING)
    yield _verify("valid_at_issued", good, dids("alice"), OK, ALL_BINDING, now=NOW - 60)
    yield _verify("valid_at_expires", good, dids("alice"), OK, ALL_BINDING, now=NOW + 86400)
    two = document("alice", (address("bob"), address("alice")))
    yield _verify("second_service", good, dids("alice", alice=two), OK, ALL_BINDING,
                  "the document lists two CarrierAddress services; the second names the node")
    # malformed
    m = B.binding_to_cbor(good)
    yield _verify("not_a_map", cbor_encode([1, 2]), dids("alice"), Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("missing_nsig", cbor_encode({k: v for k, v in m.items() if k != "nsig"}), dids("alice"),
                  Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("extra_field", cbor_encode({**m, "x": 1}), dids("alice"), Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("issued_as_text", cbor_encode({**m, "issued": "1"}), dids("alice"), Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("short_dsig", cbor_encode({**m, "dsig": bytes(63)}), dids("alice"), Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("key_of_other_did", cbor_encode({**m, "key": f"{did_of('bob')}#primary"}), dids("alice"),
                  Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("did_not_a_did", cbor_encode({**m, "did": "did:foo:x"}), dids("alice"), Reason.BINDING_MALFORMED, ("CAR-010",))
    yield _verify("bad_cbor", cbor_encode(m)[:-1], dids("alice"), Reason.TRUNCATED, ())
    # window
    yield _verify("expired", good, dids("alice"), Reason.BINDING_EXPIRED, ("CAR-011",), now=NOW + 86401)
    yield _verify("not_yet_valid", good, dids("alice"), Reason.BINDING_EXPIRED, ("CAR-011",), now=NOW - 61)
    # address
    yield _verify("address_bad_checksum", cbor_encode({**m, "address": address("alice")[:-1] + "2"}), dids("alice"),
                  Reason.CARRIER_ADDRESS_CHECKSUM, ())
    # forged node signature: signed by another node key
    yield _verify("node_signature_by_other_node", binding("alice", node_label="mallory"), dids("alice"),
                  Reason.BINDING_NODE_SIGNATURE, ("CAR-015",), "mallory's node claims alice's DID and address")
    yield _verify("node_signature_flipped", cbor_encode({**m, "nsig": bytes([m["nsig"][0] ^ 1]) + m["nsig"][1:]}),  # type: ignore[index]
                  dids("alice"), Reason.BINDING_NODE_SIGNATURE, ("CAR-015",))
    # DID resolution
    yield _verify("did_not_found", good, [], Reason.BINDING_DID_NOT_VALID, ("CAR-012",))
    yield _verify("did_deactivated", good, dids("alice", status=2), Reason.BINDING_DID_NOT_VALID, ("CAR-012",),
                  "resolve status 2: deactivated")
    yield _verify("did_expired_status", good, dids("alice", status=1), Reason.BINDING_DID_NOT_VALID, ("CAR-012",))
    yield _verify("document_expired", good, dids("alice", alice=document("alice", None, NOW - 1)),
                  Reason.BINDING_DID_NOT_VALID, ("CAR-012",), "status valid but the document expired before now")
    forged_doc = document("alice").replace(address("alice"), address("mallory"))
    yield _verify("document_not_genuine", good, dids("alice", alice=forged_doc), Reason.BINDING_DID_NOT_VALID, ("CAR-012",),
                  "the document's service was changed after it was signed")
    # service
    yield _verify("no_service", good, dids("alice", alice=document("alice", ())), Reason.BINDING_NO_SERVICE, ("CAR-013",))
    yield _verify("service_names_other_node", good, dids("alice", alice=document("alice", (address("bob"),))),
                  Reason.BINDING_NO_SERVICE, ("CAR-013",), "the DID names bob's node: alice's node cannot claim it")
    # DID signature
    yield _verify("did_signature_by_other_did", binding("alice", did_label="mallory"), dids("alice"),
                  Reason.BINDING_DID_SIGNATURE, ("CAR-014",), "alice's node claims alice's DID without alice's DID key")
    yield _verify("key_not_in_document", binding("alice", key_fragment="other"), dids("alice"),
                  Reason.BINDING_DID_SIGNATURE, ("CAR-014",))


# -- CBOR messages ---------------------------------------------------------------------------------


def _dht(y: int, body: dict[str, Any], t: int = 1, key: str | None = None) -> dict[str, Any]:
    k = key or {0x00: "e", 0x20: "q", 0x40: "r"}[y & 0xE0]
    return {"y": y, "t": t, "v": 1, k: body}


ID_A, ID_B = node("alice"), node("bob")
MUT = {"k": ID_A, "n": det_bytes("carrier/mutable-nonce", 24), "seq": 3, "sig": bytes(64)}
NODES = [[ID_A, bytes([127, 0, 0, 1]), 39001], [ID_B, bytes([127, 0, 0, 2]), 39002]]
DHT_OK: list[tuple[str, dict[str, Any]]] = [
    ("ping_request", _dht(0x21, {})),
    ("ping_response", _dht(0x41, {})),
    ("find_node_request", _dht(0x22, {"t": ID_B, "w": 1})),
    ("find_node_response", _dht(0x42, {"n4": NODES, "tok": 77})),
    ("find_node_response_v6", _dht(0x42, {"n6": [[ID_A, bytes(15) + b"\x01", 39001]]})),
    ("announce_peer_request", _dht(0x23, {"t": ID_B, "p": 39001, "tok": 77, "sig": bytes(64)})),
    ("announce_peer_response", _dht(0x43, {})),
    ("find_peer_request", _dht(0x24, {"t": ID_B, "w": 5})),
    ("find_peer_response", _dht(0x44, {"p": [[ID_A, bytes([127, 0, 0, 1]), 39002]], "n4": NODES})),
    ("store_value_immutable", _dht(0x25, {"tok": 1, "v": b"hello"})),
    ("store_value_mutable_cas", _dht(0x25, {"tok": 1, "v": b"hello", **MUT, "cas": 2, "rec": ID_B})),
    ("store_value_response", _dht(0x45, {})),
    ("find_value_request", _dht(0x26, {"t": ID_B, "w": 1, "seq": 2})),
    ("find_value_response_value", _dht(0x46, {"v": b"hello", **MUT})),
    ("find_value_response_nodes", _dht(0x46, {"n4": NODES})),
    ("error", _dht(0x02, {"c": 203, "m": "Protocol Error"})),
    ("max_txid", _dht(0x21, {}, t=M.U32)),
    ("value_max", _dht(0x25, {"tok": 1, "v": bytes(M.MAX_VALUE)})),
    ("nodes_k", _dht(0x42, {"n4": [[node(f"n{i}"), bytes(4), i] for i in range(8)]})),
]
DHT_BAD: list[tuple[str, Any, Reason]] = [
    ("not_a_map", [1], Reason.CARRIER_MSG_MALFORMED),
    ("no_body", {"y": 0x21, "t": 1, "v": 1}, Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("two_bodies", {"y": 0x21, "t": 1, "v": 1, "q": {}, "r": {}}, Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("body_key_mismatch", _dht(0x21, {}, key="r"), Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("unknown_method", _dht(0x27, {}), Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("unknown_type", _dht(0x61, {}, key="q"), Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("method_zero", _dht(0x20, {}), Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("missing_txid", {"y": 0x21, "v": 1, "q": {}}, Reason.CARRIER_MSG_MALFORMED),
    ("txid_too_large", _dht(0x21, {}, t=M.U32 + 1), Reason.CARRIER_MSG_TOO_LARGE),
    ("txid_negative", _dht(0x21, {}, t=-1), Reason.CARRIER_MSG_TOO_LARGE),
    ("unknown_envelope_field", {**_dht(0x21, {}), "x": 1}, Reason.CARRIER_MSG_MALFORMED),
    ("ping_with_field", _dht(0x21, {"t": ID_B}), Reason.CARRIER_MSG_MALFORMED),
    ("find_node_short_target", _dht(0x22, {"t": ID_B[:31], "w": 1}), Reason.CARRIER_MSG_TOO_LARGE),
    ("find_node_target_text", _dht(0x22, {"t": "abc", "w": 1}), Reason.CARRIER_MSG_MALFORMED),
    ("find_node_missing_want", _dht(0x22, {"t": ID_B}), Reason.CARRIER_MSG_MALFORMED),
    ("find_node_want_8", _dht(0x22, {"t": ID_B, "w": 8}), Reason.CARRIER_MSG_TOO_LARGE),
    ("nodes_nine", _dht(0x42, {"n4": [[node(f"n{i}"), bytes(4), i] for i in range(9)]}), Reason.CARRIER_MSG_TOO_LARGE),
    ("nodes_entry_short", _dht(0x42, {"n4": [[ID_A, bytes(4)]]}), Reason.CARRIER_MSG_MALFORMED),
    ("nodes_v4_in_n6", _dht(0x42, {"n6": [[ID_A, bytes(4), 1]]}), Reason.CARRIER_MSG_TOO_LARGE),
    ("peer_without_ip", _dht(0x44, {"p": [[ID_A, 39001]]}), Reason.CARRIER_MSG_MALFORMED),
    ("nodes_port_too_large", _dht(0x42, {"n4": [[ID_A, bytes(4), 65536]]}), Reason.CARRIER_MSG_TOO_LARGE),
    ("announce_short_sig", _dht(0x23, {"t": ID_B, "p": 1, "tok": 1, "sig": bytes(63)}), Reason.CARRIER_MSG_TOO_LARGE),
    ("value_empty", _dht(0x25, {"tok": 1, "v": b""}), Reason.CARRIER_MSG_TOO_LARGE),
    ("value_too_large", _dht(0x25, {"tok": 1, "v": bytes(M.MAX_VALUE + 1)}), Reason.CARRIER_MSG_TOO_LARGE),
    ("mutable_partial", _dht(0x25, {"tok": 1, "v": b"x", "k": ID_A, "seq": 1}), Reason.CARRIER_MSG_MALFORMED),
    ("cas_without_mutable", _dht(0x25, {"tok": 1, "v": b"x", "cas": 1}), Reason.CARRIER_MSG_MALFORMED),
    ("error_without_message", _dht(0x02, {"c": 1}), Reason.CARRIER_MSG_MALFORMED),
    ("error_message_too_long", _dht(0x02, {"c": 1, "m": "x" * 256}), Reason.CARRIER_MSG_TOO_LARGE),
    ("integer_key", {**_dht(0x21, {}), 1: 1}, Reason.CARRIER_MSG_MALFORMED),
    ("bool_as_port", _dht(0x23, {"t": ID_B, "p": True, "tok": 1, "sig": bytes(64)}), Reason.CARRIER_MSG_MALFORMED),
]

NOSPAM = b"\x01\x02\x03\x04"


def _friend_request(hello_size: int) -> dict[str, Any]:
    return {"type": 6, "name": "n" * 63, "descr": "d" * 127, "hello": "h" * hello_size, "nospam": NOSPAM}


# the longest hello that keeps the whole request within Tox's 1016 bytes, with name and descr at their maximum
HELLO_MAX = next(n for n in range(1016, 0, -1) if len(cbor_encode(_friend_request(n))) <= M.MAX_FRIEND_REQUEST)
SESSION_OK: list[tuple[str, dict[str, Any]]] = [
    ("friend_request", {"type": 6, "name": "alice", "descr": "hi", "hello": "let's be friends", "nospam": NOSPAM}),
    ("friend_request_limits", _friend_request(HELLO_MAX)),
    ("friend_request_empty_name", {"type": 6, "name": "", "descr": "", "hello": "h", "nospam": NOSPAM}),
    ("friend_accept", {"type": 8}),
    ("friend_remove", {"type": 7}),
    ("message", {"type": 33, "id": 1, "msg": b"hello"}),
    ("message_1024", {"type": 33, "id": M.U64, "msg": bytes(1024)}),
    ("invite_request", {"type": 34, "tid": 9, "bundle": "b", "data": bytes(8192)}),
    ("invite_request_no_bundle", {"type": 34, "tid": 9, "data": b""}),
    ("invite_response_ok", {"type": 35, "tid": 9, "status": 0, "data": b"sdp"}),
    ("invite_response_refused", {"type": 35, "tid": 9, "status": 1, "reason": "r" * 255}),
    ("bulk_chunk", {"type": 36, "tid": 5, "total": 3000, "data": bytes(1024)}),
    ("bulk_max_total", {"type": 36, "tid": 5, "total": M.MAX_BULK, "data": b"x"}),
    ("bulk_chunk_1025", {"type": 36, "tid": 5, "total": 5000, "data": bytes(1025)}),
    ("bulk_chunk_max", {"type": 36, "tid": M.U64, "total": M.MAX_BULK, "data": bytes(M.MAX_BULK_CHUNK)}),
    ("receipt", {"type": 37, "id": 1}),
    ("relay_store", {"type": 64, "id": 7, "to": ID_B, "blob": bytes(40)}),
    ("relay_pull", {"type": 65, "after": 0}),
    ("relay_delete", {"type": 66, "until": 12}),
    ("relay_items", {"type": 67, "items": [[1, ID_A, NOW, bytes(40)]]}),
    ("relay_refused", {"type": 68, "id": 7, "reason": "RELAY_MAILBOX_FULL", "rule": "CAR-072"}),
    ("relay_refused_longest", {"type": 68, "id": M.U64, "reason": "R" * M.MAX_CODE, "rule": "C" * M.MAX_RULE_ID}),
    ("relay_refused_unknown_code", {"type": 68, "id": 0, "reason": "A_LATER_REASON", "rule": "CAR-999"}),
]
SESSION_BAD: list[tuple[str, Any, Reason]] = [
    ("no_type", {"msg": b"x"}, Reason.CARRIER_MSG_MALFORMED),
    ("type_text", {"type": "message"}, Reason.CARRIER_MSG_MALFORMED),
    ("unknown_type", {"type": 99}, Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("v1_userinfo_type", {"type": 3}, Reason.CARRIER_MSG_UNKNOWN_TYPE),
    ("message_empty", {"type": 33, "id": 1, "msg": b""}, Reason.CARRIER_MSG_TOO_LARGE),
    ("message_1025", {"type": 33, "id": 1, "msg": bytes(1025)}, Reason.CARRIER_MSG_TOO_LARGE),
    ("message_text_body", {"type": 33, "id": 1, "msg": "hello"}, Reason.CARRIER_MSG_MALFORMED),
    ("message_id_negative", {"type": 33, "id": -1, "msg": b"x"}, Reason.CARRIER_MSG_TOO_LARGE),
    ("message_extra_field", {"type": 33, "id": 1, "msg": b"x", "ext": "session"}, Reason.CARRIER_MSG_MALFORMED),
    ("friend_request_name_64", {"type": 6, "name": "n" * 64, "descr": "", "hello": "h", "nospam": NOSPAM}, Reason.CARRIER_MSG_TOO_LARGE),
    ("friend_request_descr_128", {"type": 6, "name": "", "descr": "d" * 128, "hello": "h", "nospam": NOSPAM}, Reason.CARRIER_MSG_TOO_LARGE),
    ("friend_request_empty_hello", {"type": 6, "name": "", "descr": "", "hello": "", "nospam": NOSPAM}, Reason.CARRIER_MSG_TOO_LARGE),
    ("friend_request_multibyte_name", {"type": 6, "name": "\u00e9" * 32, "descr": "", "hello": "h", "nospam": NOSPAM},
     Reason.CARRIER_MSG_TOO_LARGE),
    ("friend_request_1017_bytes", _friend_request(HELLO_MAX + 1), Reason.CARRIER_MSG_TOO_LARGE),
    ("friend_request_short_nospam", {"type": 6, "name": "", "descr": "", "hello": "h", "nospam": b"\x01"}, Reason.CARRIER_MSG_TOO_LARGE),
    ("invite_data_8193", {"type": 34, "tid": 1, "data": bytes(8193)}, Reason.CARRIER_MSG_TOO_LARGE),
    ("invite_bundle_512", {"type": 34, "tid": 1, "bundle": "b" * 512, "data": b""}, Reason.CARRIER_MSG_TOO_LARGE),
    ("invite_reason_256", {"type": 35, "tid": 1, "status": 1, "reason": "r" * 256}, Reason.CARRIER_MSG_TOO_LARGE),
    ("invite_response_no_status", {"type": 35, "tid": 1}, Reason.CARRIER_MSG_MALFORMED),
    ("bulk_total_over_5mib", {"type": 36, "tid": 1, "total": M.MAX_BULK + 1, "data": b"x"}, Reason.CARRIER_MSG_TOO_LARGE),
    ("bulk_total_zero", {"type": 36, "tid": 1, "total": 0, "data": b"x"}, Reason.CARRIER_MSG_TOO_LARGE),
    ("bulk_chunk_over_max", {"type": 36, "tid": 1, "total": 70000, "data": bytes(M.MAX_BULK_CHUNK + 1)},
     Reason.CARRIER_MSG_TOO_LARGE),
    ("bulk_chunk_empty", {"type": 36, "tid": 1, "total": 5000, "data": b""}, Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_blob_39", {"type": 64, "id": 7, "to": ID_B, "blob": bytes(39)}, Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_blob_too_large", {"type": 64, "id": 7, "to": ID_B, "blob": bytes(M.RELAY_MAX_BLOB + 1)},
     Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_store_no_id", {"type": 64, "to": ID_B, "blob": bytes(40)}, Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_no_id", {"type": 68, "reason": "RELAY_MAILBOX_FULL", "rule": "CAR-072"}, Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_no_rule", {"type": 68, "id": 7, "reason": "RELAY_MAILBOX_FULL"}, Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_reason_empty", {"type": 68, "id": 7, "reason": "", "rule": "CAR-072"}, Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_refused_reason_65", {"type": 68, "id": 7, "reason": "R" * (M.MAX_CODE + 1), "rule": "CAR-072"},
     Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_refused_rule_17", {"type": 68, "id": 7, "reason": "RELAY_MAILBOX_FULL", "rule": "C" * (M.MAX_RULE_ID + 1)},
     Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_refused_reason_lower_case", {"type": 68, "id": 7, "reason": "relay_mailbox_full", "rule": "CAR-072"},
     Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_reason_space", {"type": 68, "id": 7, "reason": "MAILBOX FULL", "rule": "CAR-072"},
     Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_rule_not_ascii", {"type": 68, "id": 7, "reason": "RELAY_MAILBOX_FULL", "rule": "CAR\u2010072"},
     Reason.CARRIER_MSG_MALFORMED),
    ("relay_refused_reason_bytes", {"type": 68, "id": 7, "reason": b"RELAY_MAILBOX_FULL", "rule": "CAR-072"},
     Reason.CARRIER_MSG_MALFORMED),
    ("relay_items_65", {"type": 67, "items": [[i, ID_A, NOW, bytes(40)] for i in range(65)]}, Reason.CARRIER_MSG_TOO_LARGE),
    ("relay_items_not_arrays", {"type": 67, "items": [1]}, Reason.CARRIER_MSG_MALFORMED),
]
def _raw_map(pairs: list[tuple[str, bytes]], indefinite: bool = False) -> bytes:
    """A map written by hand, to break the deterministic encoding on purpose."""
    body = b"".join(cbor_encode(k) + v for k, v in pairs)
    return (b"\xbf" + body + b"\xff") if indefinite else bytes((0xA0 | len(pairs),)) + body


_PING = [("q", cbor_encode({})), ("t", cbor_encode(1)), ("v", cbor_encode(1)), ("y", cbor_encode(0x21))]
CBOR_BAD: list[tuple[str, bytes, Reason]] = [
    ("unsorted_map", _raw_map(_PING[::-1]), Reason.CBOR_UNSORTED_MAP),
    ("duplicate_key", _raw_map(_PING[:1] + _PING), Reason.CBOR_DUPLICATE_KEY),
    ("indefinite_map", _raw_map(_PING, indefinite=True), Reason.CBOR_INDEFINITE_LENGTH),
    ("trailing_byte", cbor_encode(_dht(0x21, {})) + b"\x00", Reason.TRAILING_BYTES),
    ("non_shortest_int", _raw_map([_PING[0], ("t", b"\x18\x01"), *_PING[2:]]), Reason.CBOR_NON_SHORTEST),
    ("float_txid", _raw_map([_PING[0], ("t", b"\xf9\x3c\x00"), *_PING[2:]]), Reason.CBOR_UNSUPPORTED),
    ("truncated", cbor_encode(_dht(0x21, {}))[:-1], Reason.TRUNCATED),
]


@generator("carrier", "carrier.message.decode")
def message_decode() -> Iterator[CaseSpec]:
    for family, ok, bad in (("dht", DHT_OK, DHT_BAD), ("session", SESSION_OK, SESSION_BAD)):
        rules = ("CAR-030", "CAR-031", "CAR-032") + (("CAR-033",) if family == "session" else ())
        for name, value in ok:
            yield CaseSpec(f"{family}_{name}", {"family": family, "bytes": cbor_encode(value).hex()}, OK,
                           rules if name.startswith("friend_request") or family == "dht" else
                           rules[:3] + (("CAR-073",) if name.startswith("relay_refused") else ()))
        for name, value, reason in bad:
            yield CaseSpec(f"{family}_{name}", {"family": family, "bytes": cbor_encode(value).hex()}, reason)
    for name, raw, reason in CBOR_BAD:
        yield CaseSpec(f"cbor_{name}", {"family": "dht", "bytes": raw.hex()}, reason)


@generator("carrier", "carrier.message.encode")
def message_encode() -> Iterator[CaseSpec]:
    for name, value in DHT_OK[:6] + [SESSION_OK[0], SESSION_OK[5], SESSION_OK[11]]:
        family = "session" if "type" in value else "dht"
        yield CaseSpec(f"{family}_{name}", {"family": family, "value": cbor_to_json(value)}, OK, ("CAR-030", "CAR-031", "CAR-032"))
    for name, value, reason in [DHT_BAD[4], DHT_BAD[8], SESSION_BAD[2], SESSION_BAD[5], SESSION_BAD[13]]:
        family = "session" if isinstance(value, dict) and "type" in value else "dht"
        yield CaseSpec(f"{family}_{name}", {"family": family, "value": cbor_to_json(value)}, reason)
    refused = dict(SESSION_OK)["relay_refused"]
    yield CaseSpec("session_relay_refused", {"family": "session", "value": cbor_to_json(refused)}, OK,
                   ("CAR-030", "CAR-031", "CAR-032", "CAR-073"), "a relay's refusal of store 7: mailbox full")
    for name, value, reason in SESSION_BAD:
        if name in ("relay_refused_reason_lower_case", "relay_refused_reason_65"):
            yield CaseSpec(f"session_{name}", {"family": "session", "value": cbor_to_json(value)}, reason,
                           description="an encoder refuses what a decoder refuses")


# -- DHT packets and values ------------------------------------------------------------------------


def ping(t: int = 1) -> bytes:
    return cbor_encode(_dht(0x21, {}, t=t))


def packet(sender: str, receiver: str, nonce_label: str, message: bytes | None = None) -> bytes:
    return D.seal_packet(seed(sender), node(receiver), det_bytes(f"carrier/nonce/{nonce_label}", 24),
                         ping() if message is None else message)


@generator("carrier", "carrier.dht.packet.seal")
def packet_seal() -> Iterator[CaseSpec]:
    def inp(nonce: bytes, message: bytes, receiver: bytes | None = None) -> dict[str, Any]:
        return {"sender_seed": seed("alice").hex(), "receiver_id": (receiver or node("bob")).hex(),
                "nonce": nonce.hex(), "message": message.hex()}
    n = det_bytes("carrier/nonce/seal", 24)
    yield CaseSpec("ping", inp(n, ping()), OK, ("CAR-040",))
    yield CaseSpec("find_node_response", inp(n, cbor_encode(DHT_OK[3][1])), OK, ("CAR-040",))
    yield CaseSpec("short_nonce", inp(n[:23], ping()), Reason.DHT_PACKET_MALFORMED, ("CAR-040",))
    yield CaseSpec("receiver_small_order", inp(n, ping(), bytes(32)), Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))
    yield CaseSpec("not_a_dht_message", inp(n, cbor_encode({"type": 33})), Reason.CARRIER_MSG_MALFORMED, ("CAR-030",))
    big = cbor_encode(_dht(0x42, {"n6": [[node(f"n{i}"), bytes(16), i] for i in range(8)],
                                  "n4": [[node(f"m{i}"), bytes(4), i] for i in range(8)]}))
    yield CaseSpec("max_message", inp(n, big), OK, ("CAR-040",), f"{len(big)} bytes of CBOR")


@generator("carrier", "carrier.dht.packet.open")
def packet_open() -> Iterator[CaseSpec]:
    p1, p2 = packet("alice", "bob", "1"), packet("alice", "bob", "2")
    p3 = packet("carol", "bob", "1")
    rules = ("CAR-040", "CAR-041", "CAR-042")

    def inp(*packets: bytes) -> dict[str, Any]:
        return {"receiver_seed": seed("bob").hex(), "packets": [p.hex() for p in packets]}
    yield CaseSpec("one", inp(p1), OK, rules)
    yield CaseSpec("fresh_nonces", inp(p1, p2, p3), OK, rules,
                   "two packets from alice with different nonces, and carol's with the nonce alice used first")
    yield CaseSpec("replayed_packet", inp(p1, p2, p1), Reason.DHT_NONCE_REPLAY, ("CAR-042",))
    same_nonce = packet("alice", "bob", "1", ping(t=2))
    yield CaseSpec("reused_nonce_other_message", inp(p1, same_nonce), Reason.DHT_NONCE_REPLAY, ("CAR-042",),
                   "Carrier v2 does exactly this for every packet; the spec refuses it")
    yield CaseSpec("wrong_receiver", {"receiver_seed": seed("carol").hex(), "packets": [p1.hex()]},
                   Reason.DHT_PACKET_DECRYPT, ("CAR-041",))
    flipped = p1[:-1] + bytes((p1[-1] ^ 1,))
    yield CaseSpec("flipped_ciphertext", inp(flipped), Reason.DHT_PACKET_DECRYPT, ("CAR-041",))
    spoofed = node("carol") + p1[32:]
    yield CaseSpec("spoofed_sender", inp(spoofed), Reason.DHT_PACKET_DECRYPT, ("CAR-041",),
                   "the sender id is replaced: the box does not open under carol's key")
    yield CaseSpec("too_short", inp(p1[:71]), Reason.DHT_PACKET_MALFORMED, ("CAR-040",))
    yield CaseSpec("too_long", inp(p1 + bytes(D.MAX_PACKET)), Reason.DHT_PACKET_MALFORMED, ("CAR-040",))
    yield CaseSpec("sender_small_order", inp(bytes(32) + p1[32:]), Reason.CARRIER_ID_NOT_ED25519, ("CAR-002",))
    bad_msg = D.seal_packet(seed("alice"), node("bob"), det_bytes("carrier/nonce/x", 24), ping())
    # a box around bytes that are not a DHT message (built with the raw primitive, as a broken peer would)
    from nacl import bindings as sodium
    k = sodium.crypto_box_beforenm(I.x25519_public_of(node("bob")), I.x25519_private_of(seed("alice")))
    nonce = det_bytes("carrier/nonce/junk", 24)
    junk = node("alice") + nonce + sodium.crypto_box_easy_afternm(cbor_encode({"type": 33}), nonce, k)
    yield CaseSpec("box_holds_session_packet", inp(bad_msg, junk), Reason.CARRIER_MSG_MALFORMED, ("CAR-030",))


def _value_json(v: D.Value) -> dict[str, Any]:
    out: dict[str, Any] = {"data": v.data.hex()}
    if v.mutable:
        assert v.public_key and v.nonce and v.signature
        out.update({"k": v.public_key.hex(), "n": v.nonce.hex(), "seq": v.seq, "sig": v.signature.hex()})
        if v.recipient is not None:
            out["rec"] = v.recipient.hex()
    return out


MNONCE = det_bytes("carrier/value-nonce", 24)


def mutable(seq: int, data: bytes = b"v", owner: str = "alice", recipient: bytes | None = None) -> D.Value:
    return D.sign_value(seed(owner), MNONCE, seq, data, recipient)


@generator("carrier", "carrier.dht.value.check")
def value_check() -> Iterator[CaseSpec]:
    imm = D.Value(data=b"hello world\n")
    yield CaseSpec("immutable", {"value": _value_json(imm)}, OK, ("CAR-043",),
                   expect_ok={"id": "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"})
    yield CaseSpec("immutable_target", {"value": _value_json(imm), "target": hashlib.sha256(imm.data).hexdigest()}, OK, ("CAR-043",))
    yield CaseSpec("immutable_wrong_target", {"value": _value_json(imm), "target": "00" * 32}, Reason.DHT_VALUE_ID, ("CAR-043",))
    m = mutable(1)
    mid = hashlib.sha256(node("alice") + MNONCE).hexdigest()
    yield CaseSpec("mutable", {"value": _value_json(m), "target": mid}, OK, ("CAR-043", "CAR-044"))
    enc = mutable(2, recipient=node("bob"))
    yield CaseSpec("mutable_with_recipient", {"value": _value_json(enc), "target": mid}, OK, ("CAR-043", "CAR-044"),
                   "the recipient is signed but not part of the id")
    yield CaseSpec("mutable_target_is_data_hash", {"value": _value_json(m), "target": hashlib.sha256(b"v").hexdigest()},
                   Reason.DHT_VALUE_ID, ("CAR-043",))
    changed = _value_json(m) | {"data": b"w".hex()}
    yield CaseSpec("mutable_data_changed", {"value": changed}, Reason.DHT_VALUE_SIGNATURE, ("CAR-044",))
    yield CaseSpec("mutable_seq_changed", {"value": _value_json(m) | {"seq": 2}}, Reason.DHT_VALUE_SIGNATURE, ("CAR-044",))
    yield CaseSpec("mutable_recipient_dropped", {"value": {k: v for k, v in _value_json(enc).items() if k != "rec"}},
                   Reason.DHT_VALUE_SIGNATURE, ("CAR-044",))
    le = D.Value(data=b"v", public_key=node("alice"), nonce=MNONCE, seq=1)
    from spec.crypto import curve25519
    le_sig = curve25519.ed25519_sign(seed("alice"), MNONCE + (1).to_bytes(4, "little") + b"v")
    yield CaseSpec("mutable_seq_little_endian", {"value": _value_json(le.model_copy(update={"signature": le_sig}))},
                   Reason.DHT_VALUE_SIGNATURE, ("CAR-044",), "signed as Carrier.Native does (seq little-endian)")


@generator("carrier", "carrier.dht.value.store")
def value_store() -> Iterator[CaseSpec]:
    def steps(*items: tuple[D.Value, int | None]) -> dict[str, Any]:
        return {"steps": [{"value": _value_json(v), **({} if c is None else {"cas": c})} for v, c in items]}
    rules = ("CAR-044", "CAR-045", "CAR-046", "CAR-047")
    yield CaseSpec("immutable_twice", steps((D.Value(data=b"a"), None), (D.Value(data=b"a"), None)), OK, ("CAR-043",))
    yield CaseSpec("rising_seq", steps((mutable(1), None), (mutable(2, b"w"), None), (mutable(5, b"x"), None)), OK, rules)
    yield CaseSpec("cas_matches", steps((mutable(1), None), (mutable(2, b"w"), 1)), OK, rules)
    yield CaseSpec("same_value_again", steps((mutable(3), None), (mutable(3), None)), OK, rules,
                   "storing the identical value again changes nothing")
    yield CaseSpec("seq_equal_other_data", steps((mutable(3), None), (mutable(3, b"w"), None)),
                   Reason.DHT_VALUE_SEQUENCE, ("CAR-045",))
    yield CaseSpec("seq_falls", steps((mutable(3), None), (mutable(2, b"w"), None)), Reason.DHT_VALUE_SEQUENCE, ("CAR-045",))
    yield CaseSpec("cas_stale", steps((mutable(1), None), (mutable(2, b"w"), None), (mutable(3, b"x"), 1)),
                   Reason.DHT_VALUE_CAS, ("CAR-046",))
    yield CaseSpec("cas_nothing_stored", steps((mutable(1), 0),), Reason.DHT_VALUE_CAS, ("CAR-046",))
    yield CaseSpec("recipient_changed", steps((mutable(1, recipient=node("bob")), None), (mutable(2, recipient=node("carol")), None)),
                   Reason.DHT_VALUE_OWNER, ("CAR-047",))
    forged = _value_json(mutable(2)) | {"sig": mutable(2, owner="mallory").signature.hex()}  # type: ignore[union-attr]
    yield CaseSpec("forged_update", {"steps": [{"value": _value_json(mutable(1))}, {"value": forged}]},
                   Reason.DHT_VALUE_SIGNATURE, ("CAR-044",))


@generator("carrier", "carrier.dht.announce.check")
def announce_check() -> Iterator[CaseSpec]:
    def inp(sender: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"sender": node(sender).hex(), "message": cbor_encode(_dht(0x23, body)).hex()}
    good = D.sign_announce(seed("alice"), 39002, 7)
    yield CaseSpec("self_announce", inp("alice", good), OK, ("CAR-048",), expect_ok={"peer": node("alice").hex(), "port": 39002})
    yield CaseSpec("other_port", inp("bob", D.sign_announce(seed("bob"), 1, 0)), OK, ("CAR-048",))
    yield CaseSpec("relayed_by_other_node", inp("bob", good), Reason.DHT_PEER_SIGNATURE, ("CAR-048",),
                   "bob forwards alice's announcement: a node announces only itself")
    yield CaseSpec("port_changed", inp("alice", {**good, "p": 39003}), Reason.DHT_PEER_SIGNATURE, ("CAR-048",))
    yield CaseSpec("signed_by_other", inp("alice", {**good, "sig": D.sign_announce(seed("bob"), 39002, 7)["sig"]}),
                   Reason.DHT_PEER_SIGNATURE, ("CAR-048",))
