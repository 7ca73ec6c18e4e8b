"""Handlers of the ``carrier`` suite for node keys, ids, addresses and DID bindings."""

from __future__ import annotations

from typing import Any

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did.document import Document, parse_document
from spec.did.syntax import DID
from spec.encoding.base58 import b58encode
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]
CODECS = ("safe", "v1")


def resolver_from_input(raw: Any) -> B.CarrierResolver:
    """A resolver from a ``dids`` list: ``[{"did", "status", "document"}]``."""
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "dids: expected a list")
    table: dict[str, tuple[int, str | None]] = {}
    for item in raw:
        inp = Input(item, ("did", "status", "document"))
        doc = item["document"]
        if doc is not None and not isinstance(doc, str):
            raise Reject(Reason.MALFORMED_INPUT, None, "document: expected a string or null")
        table[inp.text("did")] = (inp.small_int("status", 0, 3), doc)
    cache: dict[str, Document | None] = {}

    def resolve(did: DID) -> tuple[int, Document | None]:
        status, text = table.get(str(did), (3, None))
        if str(did) not in cache:
            cache[str(did)] = None
            if text is not None:
                try:
                    cache[str(did)] = parse_document(text, lambda d: resolve(d)[1])
                except Reject:
                    cache[str(did)] = None
        return status, cache[str(did)]

    return resolve


@handler("carrier", "carrier.node.keys",
         "`seed` (32-byte Ed25519 seed) -> `node_id`, `id` (base58), `x25519_private`, `x25519_public`")
def _node_keys(data: Any) -> Json:
    seed = Input(data, ("seed",)).hex("seed")
    node_id = I.node_id_of(seed)
    return {"node_id": node_id.hex(), "id": b58encode(node_id),
            "x25519_private": I.x25519_private_of(seed).hex(), "x25519_public": I.x25519_public_of(node_id).hex()}


@handler("carrier", "carrier.id.parse",
         "`id` (base58), `codec` (`safe` | `v1`) -> `node_id`: a node id (safe) or a Carrier v1 user id")
def _id_parse(data: Any) -> Json:
    inp = Input(data, ("id", "codec"))
    codec = inp.choice("codec", CODECS)
    raw = I.parse_node_id(inp.text("id")) if codec == "safe" else I.parse_v1_user_id(inp.text("id"))
    return {"node_id": raw.hex()}


@handler("carrier", "carrier.address.parse",
         "`address`, `codec` (`safe` | `v1`) -> `node_id`, `id` (base58), `nospam`: parse and check an address")
def _address_parse(data: Any) -> Json:
    inp = Input(data, ("address", "codec"))
    codec = inp.choice("codec", CODECS)
    text = inp.text("address")
    node_id, nospam = I.parse_address(text) if codec == "safe" else I.parse_v1_address(text)
    return {"node_id": node_id.hex(), "id": b58encode(node_id), "nospam": nospam.hex()}


@handler("carrier", "carrier.address.make", "`node_id`, `nospam` -> `address`")
def _address_make(data: Any) -> Json:
    inp = Input(data, ("node_id", "nospam"))
    return {"address": I.make_address(inp.hex("node_id"), inp.hex("nospam"))}


@handler("carrier", "carrier.v2.pair_nonce",
         "`a`, `b` (base58 node ids) -> `nonce`: Carrier v2's fixed per-pair nonce (compatibility only)")
def _pair_nonce(data: Any) -> Json:
    inp = Input(data, ("a", "b"))
    return {"nonce": I.v2_pair_nonce(I.parse_node_id(inp.text("a")), I.parse_node_id(inp.text("b"))).hex()}


@handler("carrier", "carrier.binding.sign",
         "`did`, `address`, `key`, `issued`, `expires`, `did_private_key`, `node_seed` -> `binding` (CBOR), "
         "`signed` (the signed bytes)")
def _binding_sign(data: Any) -> Json:
    inp = Input(data, ("did", "address", "key", "issued", "expires", "did_private_key", "node_seed"))
    args = (inp.text("did"), inp.text("address"), inp.text("key"), inp.small_int("issued", 0, 2**53),
            inp.small_int("expires", 0, 2**53))
    b = B.sign_binding(*args, inp.hex("did_private_key"), inp.hex("node_seed"))
    B.binding_from_cbor(cbor_decode(cbor_encode(B.binding_to_cbor(b))))
    return {"binding": cbor_encode(B.binding_to_cbor(b)).hex(), "signed": B.signed_bytes(*args).hex()}


@handler("carrier", "carrier.binding.verify",
         "`binding` (CBOR bytes), `dids`, `now` -> `did`, `node_id`: decode and verify a DID binding")
def _binding_verify(data: Any) -> Json:
    inp = Input(data, ("binding", "dids", "now"))
    b = B.binding_from_cbor(cbor_decode(inp.hex("binding")))
    node_id = B.verify_binding(b, resolver_from_input(inp.raw("dids")), inp.small_int("now", 0, 2**53))
    return {"did": b.did, "node_id": node_id.hex()}
