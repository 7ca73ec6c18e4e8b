"""Transfer tickets: how the controllers of a customized DID hand it to a new owner.

A ticket names a customized DID (``id``), the DID it goes to (``to``) and the hash of the DID's
last ID-chain transaction (``txid``), and carries proofs by the DID's **current** controllers. The
transfer request (:mod:`spec.did.request`) carries it, base64url-encoded, next to the new document.

Members, in serialization order
-------------------------------

=========  ==========================================================================
member     value
=========  ==========================================================================
``id``     the customized DID being transferred
``to``     the new owner's DID
``txid``   the DID's last transaction id, as the chain reports it (``0x`` stripped)
``proof``  ``{type, created, verificationMethod, signature}``; one proof as an object,
           several as an array, sorted by (created, verificationMethod)
=========  ==========================================================================

The normalized form writes every proof member and an absolute ``verificationMethod``. The signed
bytes are the normalized ticket **without** ``proof``: ``{"id":…,"to":…,"txid":…}`` (UTF-8, then
ECDSA P-256 over SHA-256, signature base64url of ``r || s``).

Genuine (``TransferTicket.isGenuine``): the DID's current document (from the resolver) is
genuine and customized; the ticket has exactly ``m`` proofs for an ``m:n`` document (1 with a single
controller); each proof is of type ECDSAsecp256r1 by the **default key of a distinct controller**,
whose document is genuine, and verifies. Valid: genuine, and at ``now`` neither the DID's document
nor a controller document has expired. That ``txid`` is the DID's last transaction is chain state
(``checkTicketAvailable``: ``"invalid TransactionID of ticket"``) and is checked where the chain
applies a transfer.

Upstream: Elastos.DID.Java.SDK ``TransferTicket.java`` (``sanitize``, ``isGenuine``, ``isValid``),
``backend/SimulatedIDChain.java``; Elastos.ELA.SideChain.EID ``core/vm/didvalidator.go``
(``checkTicketAvailable``).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.did import document, jsontext
from spec.did.document import DEFAULT_KEY_TYPE, Document, Resolver
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "TicketProof",
    "TransferTicket",
    "parse_ticket",
    "to_json",
    "normalized",
    "signed_bytes",
    "sign_ticket",
    "is_genuine",
    "is_valid",
    "check_new_document",
]

R_SHAPE = rule(
    "TKT-001", Reason.TICKET_MALFORMED,
    "A ticket is an object with string id, to and txid (id and to valid DIDs, txid not empty) and a proof "
    "(an object or an array of objects) whose members verificationMethod, created and signature are strings.",
    suite="did", upstream="MalformedTransferTicketException (Jackson: missing required property)",
    note="Deviation: the SDK fills a missing proof type with the default and leaves created unchecked "
    "until it sorts proofs (a null created fails there); the spec requires created and a valid date.",
)
R_PROOFS = rule(
    "TKT-002", Reason.TICKET_PROOF,
    "A ticket has at least one proof; each verificationMethod is an absolute DID URL with a fragment; "
    "no two proofs are by the same DID.",
    suite="did", upstream="TransferTicket.sanitize: \"Missing ticket proof\" / \"Invalid verification method\" / "
    "\"Aleady exist proof from <did>\"",
)
R_SUBJECT = rule(
    "TKT-003", Reason.TICKET_MISMATCH,
    "The document a transfer publishes is the document of the ticket's DID.",
    suite="did", upstream="SimulatedIDChain: \"Ticket subject mismatched with target DID.\"; "
    "didvalidator.go checkTicketAvailable: \"invalid ID in ticket\"",
)
R_TO_CONTROLLER = rule(
    "TKT-004", Reason.TICKET_MISMATCH,
    "The ticket's new owner `to` is a controller of the new document.",
    suite="did", upstream="didvalidator.go checkTicketAvailable: \"'to' is not in controller\"",
)
R_TO_PROOF = rule(
    "TKT-005", Reason.TICKET_MISMATCH,
    "The new document has a proof by the ticket's new owner `to`.",
    suite="did", upstream="didvalidator.go checkTicketAvailable: \"'to' is not in proof\"; SimulatedIDChain: "
    "\"New document not include the ticket owner's signature.\"",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class TicketProof(_Model):
    """A ticket proof ``{type, created, verificationMethod, signature}``."""

    type: str
    """``ECDSAsecp256r1`` (the default when left out)."""
    created: str
    """``yyyy-MM-ddTHH:mm:ssZ``."""
    verification_method: DIDURL
    """Absolute: a controller's default key."""
    signature: str
    """Base64url of ``r || s``, as written."""


class TransferTicket(_Model):
    """A parsed transfer ticket, proofs sorted."""

    subject: DID
    """``id``: the customized DID being transferred."""
    to: DID
    """The new owner."""
    txid: str
    """The DID's last transaction id."""
    proofs: tuple[TicketProof, ...]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _string(d: dict[str, Any], k: str, where: str) -> str:
    v = d.get(k)
    # [TKT-001] a required string member
    if not isinstance(v, str):
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", f"{where}: {k!r} missing or not a string")
    return v


def _proof(v: Any, where: str) -> TicketProof:
    # [TKT-001] a proof is an object
    if not isinstance(v, dict):
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", f"{where}: expected an object")
    ptype = v.get("type")
    ptype = DEFAULT_KEY_TYPE if ptype is None else ptype
    # [TKT-001] the proof type is a string
    if not isinstance(ptype, str):
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", f"{where}.type: expected a string")
    vm = parse_did_url(_string(v, "verificationMethod", where))
    # [TKT-002] the verification method is absolute, with a fragment
    if vm.did is None or vm.fragment is None:
        raise DecodeError(Reason.TICKET_PROOF, "TKT-002", f"{where}: Invalid verification method")
    created = document.format_date(document.parse_date(_string(v, "created", where)))
    return TicketProof(type=ptype, created=created, verification_method=vm, signature=_string(v, "signature", where))


def parse_ticket(text: str) -> TransferTicket:
    """Parse a ticket from its JSON text; members the SDK does not know are ignored."""
    d = jsontext.parse(text)
    # [TKT-001] a ticket is an object
    if not isinstance(d, dict):
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", "expected an object")
    subject = parse_did(_string(d, "id", "ticket"))
    to = parse_did(_string(d, "to", "ticket"))
    txid = _string(d, "txid", "ticket")
    # [TKT-001] txid is not empty
    if not txid:
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", "empty txid")
    raw = d.get("proof")
    # [TKT-001] proof is an object or an array
    if not isinstance(raw, dict | list):
        raise DecodeError(Reason.TICKET_MALFORMED, "TKT-001", "proof: expected an object or an array")
    items = raw if isinstance(raw, list) else [raw]
    # [TKT-002] at least one proof
    if not items:
        raise DecodeError(Reason.TICKET_PROOF, "TKT-002", "Missing ticket proof")
    proofs: list[TicketProof] = []
    for i, x in enumerate(items):
        p = _proof(x, f"proof[{i}]")
        # [TKT-002] one proof per DID
        if any(q.verification_method.did == p.verification_method.did for q in proofs):
            raise DecodeError(Reason.TICKET_PROOF, "TKT-002", f"Aleady exist proof from {p.verification_method.did}")
        proofs.append(p)
    proofs.sort(key=lambda p: (document.parse_date(p.created), p.verification_method))
    return TransferTicket(subject=subject, to=to, txid=txid, proofs=tuple(proofs))


def to_json(ticket: TransferTicket, *, with_proof: bool = True) -> dict[str, Any]:
    """The normalized ticket as an ordered JSON object."""
    out: dict[str, Any] = {"id": str(ticket.subject), "to": str(ticket.to), "txid": ticket.txid}
    if with_proof:
        proofs = [{"type": p.type, "created": p.created, "verificationMethod": str(p.verification_method),
                   "signature": p.signature} for p in ticket.proofs]
        out["proof"] = proofs[0] if len(proofs) == 1 else proofs
    return out


def normalized(ticket: TransferTicket) -> str:
    """``TransferTicket.serialize(true)``."""
    return jsontext.serialize(to_json(ticket))


def signed_bytes(ticket: TransferTicket) -> bytes:
    """What every ticket proof signs: the normalized ticket without ``proof``, UTF-8."""
    return jsontext.serialize(to_json(ticket, with_proof=False)).encode("utf-8")


def sign_ticket(subject: DID, to: DID, txid: str, signers: Sequence[tuple[DIDURL, bytes, int]]) -> TransferTicket:
    """A ticket signed by each ``(verification method, private key, created unix time)`` (RFC 6979)."""
    bare = TransferTicket(subject=subject, to=to, txid=txid, proofs=())
    message = signed_bytes(bare)
    proofs = [TicketProof(type=DEFAULT_KEY_TYPE, created=document.format_date(t), verification_method=vm,
                          signature=_b64url(p256.ecdsa_sign(key, message)))
              for vm, key, t in signers]
    proofs.sort(key=lambda p: (document.parse_date(p.created), p.verification_method))
    return bare.model_copy(update={"proofs": tuple(proofs)})


def is_genuine(ticket: TransferTicket, resolve: Resolver | None) -> bool:
    """``TransferTicket.isGenuine``: see the module docstring."""
    doc = resolve(ticket.subject) if resolve is not None else None
    if doc is None or not doc.customized or not document.is_genuine(doc, resolve):
        return False
    need = doc.multisig[0] if doc.multisig is not None else 1
    if len(ticket.proofs) != need:
        return False
    message = signed_bytes(ticket)
    for p in ticket.proofs:
        signer = p.verification_method.did
        if signer is None or signer not in doc.controllers or resolve is None:
            return False
        cdoc = resolve(signer)
        if cdoc is None or cdoc.customized or p.verification_method != cdoc.default_key:
            return False
        if not document.is_genuine(cdoc, resolve):
            return False
        key = cdoc.key(p.verification_method)
        if key is None or not document.verify_proof(key, message, p.type, p.signature):
            return False
    return True


def is_valid(ticket: TransferTicket, now: int | None, resolve: Resolver | None) -> bool:
    """Genuine, and at ``now`` (when given) the DID's document and its controllers have not expired."""
    if not is_genuine(ticket, resolve):
        return False
    doc = resolve(ticket.subject) if resolve is not None else None
    return doc is not None and document.is_valid(doc, now, resolve)


def check_new_document(ticket: TransferTicket, doc: Document) -> None:
    """The document a transfer publishes fits its ticket: same DID, ``to`` a controller and a signer."""
    # [TKT-003] the new document is the ticket DID's document
    if doc.subject != ticket.subject:
        raise Reject(Reason.TICKET_MISMATCH, "TKT-003", "Ticket subject mismatched with target DID.")
    # [TKT-004] `to` is a controller of the new document
    if ticket.to not in doc.controllers:
        raise Reject(Reason.TICKET_MISMATCH, "TKT-004", "'to' is not in controller")
    # [TKT-005] the new document has a proof by `to`
    if not any(p.creator.did == ticket.to for p in doc.proofs):
        raise Reject(Reason.TICKET_MISMATCH, "TKT-005", "'to' is not in proof")
