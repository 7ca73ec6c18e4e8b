"""ID-chain requests: the JSON a client publishes to create, update, transfer or deactivate a DID,
and to declare or revoke a credential.

Form (published normalized, so ``verificationMethod`` is absolute)::

    {"header":{"specification":…,"operation":…,"previousTxid":…,"ticket":…},
     "payload":…,
     "proof":{"type":"ECDSAsecp256r1","verificationMethod":…,"signature":…}}

Specifications and operations
-----------------------------

==========================  ============  =====================================  =========================
specification               operation     payload                                header extras
==========================  ============  =====================================  =========================
``elastos/did/1.0``         create        base64url(normalized document)         none
``elastos/did/1.0``         update        base64url(normalized document)         ``previousTxid``
``elastos/did/1.0``         transfer      base64url(normalized document)         ``ticket`` (base64url)
``elastos/did/1.0``         deactivate    the DID string itself                  none
``elastos/credential/1.0``  declare       base64url(normalized credential)       none
``elastos/credential/1.0``  revoke        the credential id string itself        none
==========================  ============  =====================================  =========================

Base64url is RFC 4648 §5 without padding; the spec decodes it strictly ([REQ-005]).

Signed bytes (``IDChainRequest.getSigningInputs``): the UTF-8 concatenation
``specification ‖ operation ‖ previousTxid (update only) ‖ ticket (transfer only) ‖ payload``,
then ECDSA P-256 over SHA-256; the signature is base64url of ``r || s``.

Who may sign ([REQ-008]):

==============  =========================================================================================
operation       verification method
==============  =========================================================================================
create, update  an authentication key of the payload document; for a customized document also an
                authentication key of one of its controllers (``getAuthenticationKey``)
transfer        an authentication key of the ticket's new owner ``to``
deactivate      primitive DID: its default key or one of its ``authorization`` keys (a delegate signs
                with the key the target lists); customized DID: a controller's default key
declare         an authentication key of the credential's owner (``credentialSubject.id``), as for create
revoke          an authentication key of the signer's own document: whether the signer is the owner, the
                issuer or a controller decides what the revocation means, which is chain state
==============  =========================================================================================

A request is **verified** when, besides, the document it publishes is genuine ([REQ-010]), a
transfer's ticket is genuine and fits the new document ([REQ-012], [TKT-003..005]), and the
signature verifies ([REQ-009]). Chain-state checks (``previousTxid`` is the last txid, the ticket's
``txid``, create on a new DID, deactivated DIDs, unchanged controllers on update) belong to the
ID-chain state machine, which takes a :class:`Verified` request.

Upstream: Elastos.DID.Java.SDK ``backend/IDChainRequest.java``, ``DIDRequest.java``
(``sanitize``, ``isValid``), ``CredentialRequest.java``; Elastos.ELA.SideChain.EID
``core/vm/did/payload.go`` (``GetData``), ``core/vm/didvalidator.go``.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.did import document, jsontext
from spec.did import ticket as tt
from spec.did.document import DEFAULT_KEY_TYPE, Credential, Document, PublicKey, Resolver
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "DID_SPECIFICATION",
    "CREDENTIAL_SPECIFICATION",
    "OPERATIONS",
    "Request",
    "Verified",
    "b64url_encode",
    "b64url_decode",
    "parse_request",
    "to_json",
    "serialize",
    "signing_input",
    "build_request",
    "verify_request",
]

DID_SPECIFICATION: Final = "elastos/did/1.0"
CREDENTIAL_SPECIFICATION: Final = "elastos/credential/1.0"
OPERATIONS: Final = {
    DID_SPECIFICATION: ("create", "update", "transfer", "deactivate"),
    CREDENTIAL_SPECIFICATION: ("declare", "revoke"),
}
"""The operations of each specification, lower-case as written."""
_DOCUMENT_OPS: Final = ("create", "update", "transfer")

Operation = Literal["create", "update", "transfer", "deactivate", "declare", "revoke"]

R_SHAPE = rule(
    "REQ-001", Reason.REQUEST_MALFORMED,
    "A request is an object with a header object (string specification and operation), a string payload "
    "and a proof object (string verificationMethod, a DID URL with a fragment once made absolute, and signature).",
    suite="did", upstream="DIDRequest.sanitize: \"Missing header\" / \"Missing payload\" / \"Missing proof\"",
)
R_SPEC = rule(
    "REQ-002", Reason.REQUEST_SPECIFICATION,
    "The specification is \"elastos/did/1.0\" or \"elastos/credential/1.0\".",
    suite="did", upstream="DIDRequest.sanitize / CredentialRequest.sanitize: \"Unsupported specification\"",
)
R_OPERATION = rule(
    "REQ-003", Reason.REQUEST_OPERATION,
    "The operation is one of its specification's: create, update, transfer, deactivate; or declare, revoke "
    "(lower-case, as the SDK writes them).",
    suite="did", upstream="DIDRequest.sanitize: \"Invalid operation\"",
)
R_HEADER = rule(
    "REQ-004", Reason.REQUEST_HEADER,
    "previousTxid is present (non-empty) exactly in an update and ticket exactly in a transfer.",
    suite="did",
    note="Deviation: the SDK signs previousTxid only for update, while EID's DIDPayload.GetData signs it for "
    "every DID operation; a request carrying it elsewhere would verify differently, so the spec rejects it.",
)
R_BASE64 = rule(
    "REQ-005", Reason.REQUEST_BASE64,
    "A base64url payload or ticket uses only A-Z a-z 0-9 - _, has no padding, no length of 1 mod 4 and "
    "no non-zero unused bits.",
    suite="did", upstream="DIDRequest.sanitize: \"Invalid payload\"",
    note="Deviation: the SDK's decoder is lenient (padding, ignored bits); the spec accepts only the one "
    "encoding the SDK writes.",
)
R_PAYLOAD = rule(
    "REQ-006", Reason.REQUEST_PAYLOAD,
    "A decoded payload is UTF-8 text; a revoke payload is a credential id (DID URL with a DID and a fragment).",
    suite="did", upstream="DIDRequest.sanitize / CredentialRequest.sanitize: \"Invalid payload\"",
)
R_UNKNOWN = rule(
    "REQ-011", Reason.REQUEST_UNKNOWN_DID,
    "The documents a check needs (a deactivate's target, a declare's owner, a revoke's signer, the controller "
    "or new owner whose key signs) are known.",
    suite="did", upstream="DIDRequest.isValid (resolve returns null)",
)
R_SIGNER = rule(
    "REQ-008", Reason.REQUEST_SIGNER,
    "The verification method is a key allowed to sign the operation (see the signer table).",
    suite="did", upstream="didvalidator.go: \"[ID checkVerificationMethodV1] wrong public key by VerificationMethod \" "
    "/ \"Not find proper publicKeyBase58\" / \"checkDeactivePayloadVM verificationMethod is not belong to controller\"",
)
R_SIGNATURE = rule(
    "REQ-009", Reason.REQUEST_SIGNATURE,
    "The proof type is ECDSAsecp256r1 and the signature over the signing input verifies with the key.",
    suite="did", upstream="didvalidator.go: \"checkDIDTransaction [VM]  Check Sig FALSE\" / "
    "\"checkDeactivateDID Check Sig FALSE\"",
)
R_GENUINE = rule(
    "REQ-010", Reason.REQUEST_NOT_GENUINE,
    "The document a create, update or transfer publishes is genuine.",
    suite="did", upstream="didvalidator.go: \"checkDIDInnerProof [VM] Check Sig FALSE\" / "
    "\"checkCustomIDInnerProof Check Sig FALSE verifyOkCount < M\"",
)
R_TICKET = rule(
    "REQ-012", Reason.REQUEST_TICKET,
    "A transfer's ticket is genuine against the DID's current document.",
    suite="did", upstream="didvalidator.go checkTicketAvailable: \"invalid proof of ticket\"",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Request(_Model):
    """A parsed request; ``verification_method`` as written (it may be relative)."""

    specification: str
    operation: Operation
    previous_txid: str | None = None
    """Update only."""
    ticket: str | None = None
    """Transfer only: base64url of the normalized ticket, as written."""
    payload: str
    proof_type: str
    verification_method: str
    signature: str


class Verified(_Model):
    """A request that passed :func:`verify_request`, with what the chain needs to apply it."""

    request: Request
    did: DID
    """The DID the operation is about (for a credential operation, the credential id's DID)."""
    signer: DIDURL
    """The absolute verification method."""
    document: Document | None = None
    """create, update, transfer: the published document."""
    ticket: tt.TransferTicket | None = None
    """transfer: the ticket."""
    credential: Credential | None = None
    """declare: the credential."""
    credential_id: DIDURL | None = None
    """declare and revoke: the credential id."""


# -- base64url -----------------------------------------------------------------------------------

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "payload") -> bytes:
    """Strict base64url: the alphabet only, no padding, and the one canonical encoding of the bytes."""
    # [REQ-005] only the base64url alphabet, no padding, no length 1 mod 4
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DecodeError(Reason.REQUEST_BASE64, "REQ-005", f"{what}: not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # [REQ-005] unused trailing bits are zero
    if b64url_encode(data) != text:
        raise DecodeError(Reason.REQUEST_BASE64, "REQ-005", f"{what}: non-zero unused bits")
    return data


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # [REQ-006] a decoded payload is UTF-8
        raise DecodeError(Reason.REQUEST_PAYLOAD, "REQ-006", f"{what}: not UTF-8") from None


# -- parse and write ----------------------------------------------------------------------------


def _member(d: dict[str, Any], k: str, where: str) -> str:
    v = d.get(k)
    # [REQ-001] a required string member
    if not isinstance(v, str):
        raise DecodeError(Reason.REQUEST_MALFORMED, "REQ-001", f"{where}: {k!r} missing or not a string")
    return v


def _object(v: Any, where: str) -> dict[str, Any]:
    # [REQ-001] an object member
    if not isinstance(v, dict):
        raise DecodeError(Reason.REQUEST_MALFORMED, "REQ-001", f"{where}: expected an object")
    return v


def parse_request(text: str) -> Request:
    """Parse a request's JSON text: shape, specification, operation and header members.

    Members the SDK does not know are ignored, except in the header, where ``previousTxid`` and
    ``ticket`` are checked against the operation ([REQ-004]).
    """
    d = _object(jsontext.parse(text), "request")
    header = _object(d.get("header"), "header")
    spec = _member(header, "specification", "header")
    # [REQ-002] a known specification
    if spec not in OPERATIONS:
        raise DecodeError(Reason.REQUEST_SPECIFICATION, "REQ-002", f"Unsupported specification {spec!r}")
    op = _member(header, "operation", "header")
    # [REQ-003] an operation of that specification
    if op not in OPERATIONS[spec]:
        raise DecodeError(Reason.REQUEST_OPERATION, "REQ-003", f"Invalid operation {op!r}")
    prev, tkt = header.get("previousTxid"), header.get("ticket")
    for name, value, wanted in (("previousTxid", prev, op == "update"), ("ticket", tkt, op == "transfer")):
        # [REQ-004] previousTxid exactly in update, ticket exactly in transfer
        if (value is not None) != wanted:
            where = "missing in" if wanted else "not allowed in"
            raise DecodeError(Reason.REQUEST_HEADER, "REQ-004", f"{name} {where} {op}")
        # [REQ-004] a non-empty string
        if wanted and (not isinstance(value, str) or not value):
            raise DecodeError(Reason.REQUEST_HEADER, "REQ-004", f"{name}: expected a non-empty string")
    payload = _member(d, "payload", "request")
    proof = _object(d.get("proof"), "proof")
    ptype = proof.get("type")
    ptype = DEFAULT_KEY_TYPE if ptype is None else ptype
    # [REQ-001] the proof type is a string
    if not isinstance(ptype, str):
        raise DecodeError(Reason.REQUEST_MALFORMED, "REQ-001", "proof.type: expected a string")
    return Request(specification=spec, operation=op,  # type: ignore[arg-type]
                   previous_txid=prev, ticket=tkt, payload=payload,
                   proof_type=ptype, verification_method=_member(proof, "verificationMethod", "proof"),
                   signature=_member(proof, "signature", "proof"))


def to_json(req: Request) -> dict[str, Any]:
    """The request as an ordered JSON object (header members in SDK order)."""
    header: dict[str, Any] = {"specification": req.specification, "operation": req.operation}
    if req.previous_txid is not None:
        header["previousTxid"] = req.previous_txid
    if req.ticket is not None:
        header["ticket"] = req.ticket
    return {"header": header, "payload": req.payload,
            "proof": {"type": req.proof_type, "verificationMethod": req.verification_method,
                      "signature": req.signature}}


def serialize(req: Request) -> str:
    """The request's JSON text, as the SDK writes it."""
    return jsontext.serialize(to_json(req))


def signing_input(req: Request) -> bytes:
    """``getSigningInputs``: specification, operation, previousTxid (update), ticket (transfer), payload."""
    parts = [req.specification, req.operation,
             req.previous_txid if req.operation == "update" and req.previous_txid else "",
             req.ticket if req.operation == "transfer" and req.ticket else "", req.payload]
    return "".join(parts).encode("utf-8")


def build_request(operation: Operation, payload_text: str, signer: DIDURL, private_key: bytes, *,
                  previous_txid: str | None = None, ticket_text: str | None = None) -> Request:
    """A request signed with ``private_key`` (RFC 6979). ``payload_text`` is the document or credential
    JSON (encoded here), or the DID / credential id for deactivate and revoke."""
    spec = CREDENTIAL_SPECIFICATION if operation in OPERATIONS[CREDENTIAL_SPECIFICATION] else DID_SPECIFICATION
    raw = operation in ("deactivate", "revoke")
    unsigned = Request(specification=spec, operation=operation, previous_txid=previous_txid,
                       ticket=None if ticket_text is None else b64url_encode(ticket_text.encode("utf-8")),
                       payload=payload_text if raw else b64url_encode(payload_text.encode("utf-8")),
                       proof_type=DEFAULT_KEY_TYPE, verification_method=str(signer), signature="")
    sig = p256.ecdsa_sign(private_key, signing_input(unsigned))
    return unsigned.model_copy(update={"signature": b64url_encode(sig)})


# -- verification -------------------------------------------------------------------------------


def _need(resolve: Resolver, did: DID, what: str) -> Document:
    doc = resolve(did)
    # [REQ-011] a document the check needs is known
    if doc is None:
        raise Reject(Reason.REQUEST_UNKNOWN_DID, "REQ-011", f"{what} {did} is not known")
    return doc


def _auth_key(doc: Document, vm: DIDURL, resolve: Resolver) -> PublicKey | None:
    """``getAuthenticationKey``: the document's own authentication keys, and for a customized
    document its controllers' authentication keys."""
    if vm in doc.authentication:
        return doc.key(vm)
    if doc.customized and vm.did in doc.controllers:
        cdoc = _need(resolve, vm.did, "controller")  # type: ignore[arg-type]
        if vm in cdoc.authentication:
            return cdoc.key(vm)
    return None


def _deactivate_key(doc: Document, vm: DIDURL, resolve: Resolver) -> PublicKey | None:
    if not doc.customized:
        return doc.key(vm) if vm == doc.default_key or vm in doc.authorization else None
    if vm.did not in doc.controllers:
        return None
    cdoc = _need(resolve, vm.did, "controller")  # type: ignore[arg-type]
    return cdoc.key(vm) if vm == cdoc.default_key else None


def _payload_text(req: Request) -> str:
    return _utf8(b64url_decode(req.payload, "payload"), "payload")


def verify_request(req: Request, resolve: Resolver) -> Verified:
    """Check a parsed request against the documents ``resolve`` gives (the chain's current view).

    For a transfer, ``resolve`` gives the DID's current (pre-transfer) document, which the ticket is
    checked against, and the new owner's document.
    """
    doc: Document | None = None
    tkt: tt.TransferTicket | None = None
    vc: Credential | None = None
    vc_id: DIDURL | None = None
    if req.operation in _DOCUMENT_OPS:
        doc = document.parse_document(_payload_text(req), resolve)
        target = doc.subject
    elif req.operation == "deactivate":
        target = parse_did(req.payload)
    elif req.operation == "declare":
        raw = jsontext.parse(_payload_text(req))
        subject = raw.get("credentialSubject") if isinstance(raw, dict) else None
        owner = subject.get("id") if isinstance(subject, dict) else None
        # [REQ-006] a declared credential names its owner
        if not isinstance(owner, str):
            raise DecodeError(Reason.REQUEST_PAYLOAD, "REQ-006", "credentialSubject.id missing")
        vc = document._credential(raw, "payload", parse_did(owner), embedded=False)
        vc_id, target = vc.id, vc.subject_id
    else:
        vc_id = parse_did_url(req.payload)
        # [REQ-006] a revoke payload is a credential id
        if vc_id.did is None or vc_id.fragment is None:
            raise DecodeError(Reason.REQUEST_PAYLOAD, "REQ-006", "revoke payload is not a credential id")
        target = vc_id.did

    vm = parse_did_url(req.verification_method, target)
    # [REQ-001] the verification method names a DID and a fragment
    if vm.did is None or vm.fragment is None:
        raise DecodeError(Reason.REQUEST_MALFORMED, "REQ-001", "proof.verificationMethod: expected a key id")

    key: PublicKey | None
    if req.operation in ("create", "update"):
        assert doc is not None
        key = _auth_key(doc, vm, resolve)
    elif req.operation == "transfer":
        assert doc is not None and req.ticket is not None
        tkt = tt.parse_ticket(_utf8(b64url_decode(req.ticket, "ticket"), "ticket"))
        tt.check_new_document(tkt, doc)
        # [REQ-012] the ticket is genuine against the DID's current document
        if not tt.is_genuine(tkt, resolve):
            raise Reject(Reason.REQUEST_TICKET, "REQ-012", "invalid proof of ticket")
        key = _auth_key(_need(resolve, tkt.to, "new owner"), vm, resolve) if vm.did == tkt.to else None
    elif req.operation == "deactivate":
        key = _deactivate_key(_need(resolve, target, "target"), vm, resolve)
    elif req.operation == "declare":
        key = _auth_key(_need(resolve, target, "owner"), vm, resolve)
    else:
        key = _auth_key(_need(resolve, vm.did, "signer"), vm, resolve)  # type: ignore[arg-type]
    # [REQ-008] the verification method may sign this operation
    if key is None:
        raise Reject(Reason.REQUEST_SIGNER, "REQ-008", f"wrong public key by VerificationMethod {vm}")
    # [REQ-009] the signature verifies
    if not document.verify_proof(key, signing_input(req), req.proof_type, req.signature):
        raise Reject(Reason.REQUEST_SIGNATURE, "REQ-009", f"[{vm}] Check Sig FALSE")
    # [REQ-010] the published document is genuine
    if doc is not None and not document.is_genuine(doc, resolve):
        raise Reject(Reason.REQUEST_NOT_GENUINE, "REQ-010", "the payload document is not genuine")
    return Verified(request=req, did=target, signer=vm, document=doc, ticket=tkt, credential=vc, credential_id=vc_id)
