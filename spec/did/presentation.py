"""Verifiable presentations: parse, the normalized form, genuineness and validity.

A presentation is a holder's signed bundle of credentials about the holder, bound to a verifier's
``realm`` and ``nonce`` so it cannot be replayed elsewhere.

Members, in serialization order
-------------------------------

========================  ===============================================================
member                    value
========================  ===============================================================
``@context`` (v2.2)       array of strings, kept as given
``id`` (v2)               DID URL, relative ids get the holder DID
``type``                  sorted; written as a string when there is one, else as an array
``holder`` (v2)           DID; absent in v1, where the holder is the verificationMethod's DID
``created``               ``yyyy-MM-ddTHH:mm:ssZ`` (here or in the proof)
``verifiableCredential``  normalized credentials (:mod:`spec.did.credential`), sorted by id;
                          always written, maybe ``[]``
``proof``                 ``{type, created?, verificationMethod, realm, nonce, signature}``
========================  ===============================================================

The proof signs the **normalized presentation without** ``proof``, followed by the UTF-8 bytes
of ``realm`` and then of ``nonce`` (plain concatenation). ``verificationMethod`` is always written
absolute.

A presentation is **genuine** when the holder's document (from the resolver) is genuine, the proof
type is ``ECDSAsecp256r1``, ``verificationMethod`` is an authentication key of the holder (for a
customized holder: also of one of its controllers), every credential's subject is the holder and
every credential is genuine, and the signature verifies. It is **valid** at ``now`` when it is
genuine and every credential is valid (the holder's document may have expired: a quirk of the SDK).

Only the normalized form is defined: the SDK's compact output of a presentation (written with
context DID ``null``) is lossy and not tested upstream, so the spec does not specify it.

Upstream: Elastos.DID.Java.SDK ``VerifiablePresentation.java`` (``sanitize``, ``isGenuine``,
``isValid``).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext
from spec.did.document import Credential, Resolver
from spec.did.syntax import DID, DIDURL, parse_did, parse_did_url
from spec.errors import DecodeError, Reason, rule

__all__ = [
    "PresentationProof",
    "Presentation",
    "parse_presentation",
    "to_json",
    "normalized",
    "signed_bytes",
    "is_genuine",
    "is_valid",
]

R_SHAPE: Final = rule(
    "VP-001", Reason.VP_MALFORMED,
    "A presentation is an object with a non-empty type (strings), verifiableCredential (an array, "
    "maybe absent) and a proof object whose verificationMethod, realm, nonce and signature are strings; "
    "id, holder, created and proof.type and proof.created, when present, are of their JSON type.",
    suite="did", upstream="MalformedPresentationException (\"Missing presentation type\", "
    "\"Missing presentation proof\", Jackson type errors)",
    note="Quirk: unknown members are ignored and dropped, as for documents (DOC-001); either created or "
    "proof.created must be present (\"Missing presentation create timestamp\"). Deviation: Jackson would "
    "coerce a number or boolean into a string member (realm 42 reads as \"42\"); the spec rejects it.",
)
R_DUPLICATE: Final = rule(
    "VP-002", Reason.VP_DUPLICATE_CREDENTIAL,
    "The credentials of a presentation have distinct ids.",
    suite="did", upstream="VerifiablePresentation.sanitize (credentials are a map by id)",
)
R_HOLDER: Final = rule(
    "VP-003", Reason.VP_NO_HOLDER,
    "A presentation without holder has an absolute verificationMethod (its DID is the holder) and, "
    "if it has an id, an absolute id.",
    suite="did", upstream="VerifiablePresentation.sanitize (\"Invalid verification method\", "
    "\"Invalid presentation id\")",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class PresentationProof(_Model):
    """A presentation proof ``{type, created?, verificationMethod, realm, nonce, signature}``."""

    type: str
    created: str | None
    verification_method: DIDURL
    """Absolute."""
    realm: str
    """The verifier's domain the presentation is for."""
    nonce: str
    """The verifier's challenge."""
    signature: str


class Presentation(_Model):
    """A sanitized presentation."""

    context: tuple[str, ...] | None = None
    id: DIDURL | None = None
    types: tuple[str, ...]
    """Sorted."""
    holder: DID | None
    """As written (``None`` in v1); :attr:`holder_did` is the effective holder."""
    created: str | None
    credentials: tuple[Credential, ...]
    """Sorted by id."""
    proof: PresentationProof

    @property
    def holder_did(self) -> DID:
        """The holder, or (v1) the verificationMethod's DID."""
        if self.holder is not None:
            return self.holder
        return self.proof.verification_method.did  # type: ignore[return-value]


def _str(v: Any, where: str) -> str:
    # [VP-001] a string member
    if not isinstance(v, str):
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", f"{where}: expected a string")
    return v


def _date(v: Any, where: str) -> str:
    return D.format_date(D.parse_date(_str(v, where)))


def parse_presentation(text: str) -> Presentation:
    """Parse and sanitize a presentation from its JSON text (any form the SDK accepts)."""
    d = jsontext.parse(text)
    # [VP-001] a presentation is an object with type and proof
    if not isinstance(d, dict) or d.get("type") is None or d.get("proof") is None:
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", "expected an object with type and proof")
    raw_types = d["type"] if isinstance(d["type"], list) else [d["type"]]
    types = tuple(sorted((_str(t, "type") for t in raw_types), key=D._java_key))
    # [VP-001] at least one type
    if not types:
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", "Missing presentation type")
    context = None
    if d.get("@context") is not None:
        raw = d["@context"] if isinstance(d["@context"], list) else [d["@context"]]
        context = tuple(_str(x, "@context") for x in raw)
    holder = parse_did(_str(d["holder"], "holder")) if d.get("holder") is not None else None
    created = _date(d["created"], "created") if d.get("created") is not None else None

    p = d["proof"]
    # [VP-001] the proof is an object with verificationMethod, realm, nonce and signature
    if not isinstance(p, dict) or any(p.get(k) is None for k in ("verificationMethod", "realm", "nonce", "signature")):
        raise DecodeError(Reason.VP_MALFORMED, "VP-001",
                          "proof: expected an object with verificationMethod, realm, nonce and signature")
    vm = parse_did_url(_str(p["verificationMethod"], "proof.verificationMethod"), holder)
    # [VP-003] the verificationMethod names a DID (the holder's when relative)
    if vm.did is None:
        raise DecodeError(Reason.VP_NO_HOLDER, "VP-003", f"Invalid verification method {vm}: no holder")
    # [VP-001] the verificationMethod names a key (a fragment)
    if vm.fragment is None:
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", f"Invalid verification method {vm}: not a key")
    proof = PresentationProof(
        type=_str(p["type"], "proof.type") if p.get("type") is not None else D.DEFAULT_KEY_TYPE,
        created=_date(p["created"], "proof.created") if p.get("created") is not None else None,
        verification_method=vm, realm=_str(p["realm"], "proof.realm"), nonce=_str(p["nonce"], "proof.nonce"),
        signature=_str(p["signature"], "proof.signature"))
    # [VP-001] a presentation has a created date, at the top or in its proof
    if created is None and proof.created is None:
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", "Missing presentation create timestamp")

    vp_id = None
    if d.get("id") is not None:
        vp_id = parse_did_url(_str(d["id"], "id"), holder)
        # [VP-003] without a holder, the id is absolute
        if vp_id.did is None:
            raise DecodeError(Reason.VP_NO_HOLDER, "VP-003", f"Invalid presentation id {vp_id}: no holder")
    items = d.get("verifiableCredential")
    items = [] if items is None else items
    # [VP-001] verifiableCredential is an array
    if not isinstance(items, list):
        raise DecodeError(Reason.VP_MALFORMED, "VP-001", "verifiableCredential: expected an array")
    credentials: dict[DIDURL, Credential] = {}
    for i, v in enumerate(items):
        vc = C.from_json(v, f"verifiableCredential[{i}]")
        # [VP-002] credential ids are distinct
        if vc.id in credentials:
            raise DecodeError(Reason.VP_DUPLICATE_CREDENTIAL, "VP-002", f"Duplicated credential id: {vc.id}")
        credentials[vc.id] = vc
    return Presentation(context=context, id=vp_id, types=types, holder=holder, created=created,
                        credentials=tuple(credentials[k] for k in sorted(credentials)), proof=proof)


def to_json(vp: Presentation, *, with_proof: bool = True) -> dict[str, Any]:
    """The presentation as an ordered JSON object, in the normalized form."""
    out: dict[str, Any] = {}
    if vp.context is not None:
        out["@context"] = list(vp.context)
    if vp.id is not None:
        out["id"] = str(vp.id)
    out["type"] = vp.types[0] if len(vp.types) == 1 else list(vp.types)
    if vp.holder is not None:
        out["holder"] = str(vp.holder)
    if vp.created is not None:
        out["created"] = vp.created
    out["verifiableCredential"] = [C.to_json(vc, True) for vc in vp.credentials]
    if with_proof:
        proof: dict[str, Any] = {"type": vp.proof.type}
        if vp.proof.created is not None:
            proof["created"] = vp.proof.created
        proof.update(verificationMethod=str(vp.proof.verification_method), realm=vp.proof.realm,
                     nonce=vp.proof.nonce, signature=vp.proof.signature)
        out["proof"] = proof
    return out


def normalized(vp: Presentation) -> str:
    """``toString(true)``: the normalized form."""
    return jsontext.serialize(to_json(vp))


def signed_bytes(vp: Presentation) -> bytes:
    """What the proof signs: normalized form without ``proof``, then ``realm``, then ``nonce`` (UTF-8)."""
    body = jsontext.serialize(to_json(vp, with_proof=False))
    return (body + vp.proof.realm + vp.proof.nonce).encode("utf-8")


def is_genuine(vp: Presentation, resolve: Resolver | None) -> bool:
    """``VerifiablePresentation.isGenuine``: the holder signed it and holds only genuine credentials about itself."""
    if resolve is None:
        return False
    holder = vp.holder_did
    holder_doc = resolve(holder)
    if holder_doc is None or not D.is_genuine(holder_doc, resolve):
        return False
    key = C.authentication_key(holder_doc, vp.proof.verification_method, resolve)
    if key is None:
        return False
    for vc in vp.credentials:
        if vc.subject_id != holder or not C.is_genuine(vc, resolve):
            return False
    return D.verify_proof(key, signed_bytes(vp), vp.proof.type, vp.proof.signature)


def is_valid(vp: Presentation, now: int | None, resolve: Resolver | None) -> bool:
    """Genuine, and at ``now`` every credential is valid.

    Quirk: the SDK's ``VerifiablePresentation.isValid`` checks that the holder's document is not
    deactivated and is genuine, but not that it has not expired; the spec follows it. Deactivation is
    chain state and is not part of this check.
    """
    if not is_genuine(vp, resolve):
        return False
    if now is None:
        return True
    return all(C.is_valid(vc, now, resolve) for vc in vp.credentials)
