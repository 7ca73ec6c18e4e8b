"""The DID binding: a node proves which DID it speaks for, and the DID proves which node is its.

Upstream Carrier checks no DIDs. What exists in practice is the DID-document side: a service of
type ``CarrierAddress`` whose ``serviceEndpoint`` is ``carrier://<address>``
(``Elastos.Hive.Node`` test data). The spec adds the other side and ties the two together:

* the DID document (resolved through a **resolver parameter**, status 0 "valid" only) lists a
  ``CarrierAddress`` service naming the node's address;
* a **binding** statement, signed by an authentication key of the DID (ECDSA P-256, as every
  Elastos DID key) **and** by the node key (Ed25519), so that neither a node nor a DID holder can
  claim the pair alone;
* the binding has a validity window ``[issued, expires]`` checked against ``now`` (a parameter).

Binding, as a deterministic CBOR map (:mod:`spec.encoding.cbor`)
-----------------------------------------------------------------

============  ==========  ==================================================================
key           type        value
============  ==========  ==================================================================
``address``   text        the node's Carrier address (safe codec, :mod:`spec.carrier.identity`)
``did``       text        the DID, ``did:elastos:...``
``dsig``      bytes(64)   P-256 ``r || s`` by ``key`` over the signed bytes
``expires``   uint        Unix seconds, last second the binding is valid
``issued``    uint        Unix seconds, first second the binding is valid
``key``       text        absolute DID URL of the signing authentication key
``nsig``      bytes(64)   Ed25519 by the node key over the signed bytes
============  ==========  ==================================================================

The signed bytes are the CBOR map of ``address``, ``ctx`` = ``"elastos-carrier-binding/1"``,
``did``, ``expires``, ``issued`` and ``key``.

Order of checks (:func:`verify_binding`): window, address, node signature, DID resolution, service,
DID signature. The node signature is checked before the resolver is asked, so a forged binding
costs no resolution.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.crypto import curve25519, p256
from spec.did import chain as did_chain
from spec.did import jsontext, keys
from spec.did import document as did_document
from spec.did.document import Document
from spec.did.syntax import DID, parse_did, parse_did_url
from spec.carrier import identity
from spec.encoding.cbor import CborValue, cbor_encode
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "SERVICE_TYPE",
    "SCHEME",
    "CONTEXT",
    "Binding",
    "CarrierResolver",
    "signed_bytes",
    "sign_binding",
    "binding_to_cbor",
    "binding_from_cbor",
    "verify_binding",
    "chain_resolver",
    "carrier_document",
]

SERVICE_TYPE: Final = "CarrierAddress"
SCHEME: Final = "carrier://"
CONTEXT: Final = "elastos-carrier-binding/1"

CarrierResolver = Callable[[DID], tuple[int, "Document | None"]]
"""Gives a DID's resolve status (:data:`spec.did.chain.STATUS_VALID` ...) and its latest document."""

R_SHAPE = rule(
    "CAR-010", Reason.BINDING_MALFORMED,
    "A binding is a CBOR map of exactly address, did, dsig, expires, issued, key and nsig with their "
    "types; did is a DID and key a DID URL of it; issued <= expires.",
    suite="carrier",
    note="Deviation: upstream Carrier has no binding; the spec defines it.",
)
R_WINDOW = rule(
    "CAR-011", Reason.BINDING_EXPIRED,
    "A binding is used only at a time now with issued <= now <= expires.",
    suite="carrier",
)
R_DID_VALID = rule(
    "CAR-012", Reason.BINDING_DID_NOT_VALID,
    "The bound DID resolves with status valid (0) to a document that is genuine and not expired at now.",
    suite="carrier", upstream="did_resolveDID statuses (valid 0, expired 1, deactivated 2, not found 3)",
    note="Deviation: upstream Carrier checks no DIDs (its README lists authentication of peer nodes through "
    "the Elastos DID sidechain as planned, not done).",
)
R_SERVICE = rule(
    "CAR-013", Reason.BINDING_NO_SERVICE,
    "The DID document has a service of type CarrierAddress whose endpoint is carrier://<the bound address>.",
    suite="carrier", upstream="Elastos.Hive.Node test document.json service #carrier (type CarrierAddress)",
)
R_DID_SIG = rule(
    "CAR-014", Reason.BINDING_DID_SIGNATURE,
    "The binding's key is an authentication key of the document and dsig is its P-256 signature of the "
    "signed bytes.",
    suite="carrier",
)
R_NODE_SIG = rule(
    "CAR-015", Reason.BINDING_NODE_SIGNATURE,
    "nsig is the node key's Ed25519 signature of the signed bytes.",
    suite="carrier",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Binding(_Model):
    """A signed DID binding."""

    did: str
    address: str
    key: str
    """Absolute DID URL of the signing key."""
    issued: int
    expires: int
    did_signature: bytes
    node_signature: bytes


def signed_bytes(did: str, address: str, key: str, issued: int, expires: int) -> bytes:
    """What both signatures of a binding sign."""
    return cbor_encode({"address": address, "ctx": CONTEXT, "did": did, "expires": expires,
                        "issued": issued, "key": key})


def sign_binding(did: str, address: str, key: str, issued: int, expires: int,
                 did_private_key: bytes, node_seed: bytes) -> Binding:
    """A binding signed by the DID key (RFC 6979) and the node key (Ed25519)."""
    msg = signed_bytes(did, address, key, issued, expires)
    return Binding(did=did, address=address, key=key, issued=issued, expires=expires,
                   did_signature=p256.ecdsa_sign(did_private_key, msg),
                   node_signature=curve25519.ed25519_sign(node_seed, msg))


def binding_to_cbor(b: Binding) -> dict[str, CborValue]:
    return {"address": b.address, "did": b.did, "dsig": b.did_signature, "expires": b.expires,
            "issued": b.issued, "key": b.key, "nsig": b.node_signature}


_FIELDS: Final = {"address": str, "did": str, "dsig": bytes, "expires": int, "issued": int, "key": str, "nsig": bytes}


def binding_from_cbor(value: CborValue) -> Binding:
    """A binding from its CBOR map (already decoded); every fault is BINDING_MALFORMED."""
    ok = isinstance(value, dict) and set(value) == set(_FIELDS) and all(
        isinstance(value[k], t) and not isinstance(value[k], bool) for k, t in _FIELDS.items())
    # [CAR-010] exactly the binding's fields, with their types
    if not ok:
        raise DecodeError(Reason.BINDING_MALFORMED, "CAR-010", "not a map of the binding's fields")
    assert isinstance(value, dict)
    sizes_ok = len(value["dsig"]) == p256.SIGNATURE_SIZE and len(value["nsig"]) == curve25519.ED25519_SIGNATURE_SIZE
    window_ok = 0 <= value["issued"] <= value["expires"] < 2**64
    # [CAR-010] 64-byte signatures, issued <= expires
    if not (sizes_ok and window_ok):
        raise DecodeError(Reason.BINDING_MALFORMED, "CAR-010", "signature sizes or window")
    try:
        did = parse_did(value["did"])
        key = parse_did_url(value["key"])
    except Reject:
        key = did = None
    # [CAR-010] did is a DID and key an absolute DID URL of it with a fragment
    if did is None or key is None or key.did != did or not key.fragment:
        raise DecodeError(Reason.BINDING_MALFORMED, "CAR-010", "did or key")
    return Binding(did=value["did"], address=value["address"], key=value["key"], issued=value["issued"],
                   expires=value["expires"], did_signature=value["dsig"], node_signature=value["nsig"])


def _has_service(doc: Document, address: str) -> bool:
    return any(s.type == SERVICE_TYPE and s.endpoint == SCHEME + address for s in doc.services)


def verify_binding(b: Binding, resolve: CarrierResolver, now: int) -> bytes:
    """Check a binding at ``now``; returns the bound node id."""
    # [CAR-011] issued <= now <= expires
    if not b.issued <= now <= b.expires:
        raise Reject(Reason.BINDING_EXPIRED, "CAR-011", f"now {now} outside [{b.issued}, {b.expires}]")
    node_id, _ = identity.parse_address(b.address)
    msg = signed_bytes(b.did, b.address, b.key, b.issued, b.expires)
    try:
        curve25519.ed25519_verify(node_id, msg, b.node_signature)
    except Reject:
        # [CAR-015] nsig is the node key's signature
        raise Reject(Reason.BINDING_NODE_SIGNATURE, "CAR-015", "node signature does not verify") from None
    did = parse_did(b.did)
    status, doc = resolve(did)
    valid = (status == did_chain.STATUS_VALID and doc is not None
             and did_document.is_valid(doc, now, lambda d: resolve(d)[1]))
    # [CAR-012] the DID resolves valid to a genuine, unexpired document
    if not valid:
        raise Reject(Reason.BINDING_DID_NOT_VALID, "CAR-012", f"{b.did}: status {status}")
    assert doc is not None
    # [CAR-013] the document names the address in a CarrierAddress service
    if not _has_service(doc, b.address):
        raise Reject(Reason.BINDING_NO_SERVICE, "CAR-013", f"no {SERVICE_TYPE} service {SCHEME}{b.address}")
    key_url = parse_did_url(b.key)
    key = doc.key(key_url) if key_url in doc.authentication else None
    try:
        signed = key is not None and p256.ecdsa_verify(key.public_key, msg, b.did_signature) is None
    except Reject:
        signed = False
    # [CAR-014] dsig is by an authentication key of the document
    if not signed:
        raise Reject(Reason.BINDING_DID_SIGNATURE, "CAR-014", f"{b.key} did not sign the binding")
    return node_id


def chain_resolver(state: did_chain.IdChainState, now: int | None = None) -> CarrierResolver:
    """A resolver over an ID-chain state (:func:`spec.did.chain.resolve_did`)."""

    def resolve(did: DID) -> tuple[int, Document | None]:
        status, _ = did_chain.resolve_did(state, did, now=now)
        rec = state.did(did)
        return status, (rec.document if rec is not None else None)

    return resolve


def carrier_document(did_private_key: bytes, addresses: tuple[str, ...], expires: int, created: int) -> str:
    """The normalized text of a primitive DID document for a P-256 key, with one ``CarrierAddress``
    service per address (``#carrier``, ``#carrier-2``, ...) and its proof by ``#primary``."""
    pub = p256.public_key_from_private(did_private_key)
    did = str(keys.did_from_public_key(pub))
    services = [{"id": f"{did}#carrier" + ("" if i == 0 else f"-{i + 1}"), "type": SERVICE_TYPE,
                 "serviceEndpoint": SCHEME + a} for i, a in enumerate(addresses)]
    body = {"id": did,
            "publicKey": [{"id": f"{did}#primary", "type": did_document.DEFAULT_KEY_TYPE, "controller": did,
                           "publicKeyBase58": keys.public_key_to_base58(pub)}],
            "authentication": [f"{did}#primary"],
            **({"service": services} if services else {}),
            "expires": did_document.format_date(expires)}
    proof = {"type": did_document.DEFAULT_KEY_TYPE, "created": did_document.format_date(created),
             "creator": f"{did}#primary", "signatureValue": "AA"}
    unsigned = did_document.parse_document(jsontext.serialize({**body, "proof": proof}))
    signature = p256.ecdsa_sign(did_private_key, did_document.signed_bytes(unsigned))
    proof["signatureValue"] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    return did_document.normalized(did_document.parse_document(jsontext.serialize({**body, "proof": proof})))
