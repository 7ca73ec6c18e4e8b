"""Verifiable credentials: parse, the normalized and compact forms, genuineness and validity.

A credential is a statement about a subject (``credentialSubject.id``) signed by an issuer. Its
members, their order and their sanitization are those of a credential embedded in a document
(:mod:`spec.did.document`, which parses both): this module adds what a credential on its own
needs.

Members, in serialization order
-------------------------------

=====================  ==================================================================
member                 value
=====================  ==================================================================
``@context`` (v2.2)    array of strings, kept as given
``id``                 DID URL; a relative id gets the subject DID
``type``               array of strings, sorted (one string is read as a one-element array)
``issuer``             DID; defaults to the subject (a *self-proclaimed* credential)
``issuanceDate``       ``yyyy-MM-ddTHH:mm:ssZ``
``expirationDate``     ``yyyy-MM-ddTHH:mm:ssZ`` (required)
``credentialSubject``  ``id`` first, then the other members sorted by name, recursively
``proof``              ``{type, created? (v2), verificationMethod, signature}``
=====================  ==================================================================

A relative ``verificationMethod`` gets the **issuer** DID. The **normalized** form writes every
DID URL absolute, the issuer and the proof type; the **compact** form (context DID = the subject)
writes DID URLs of the subject relative, and leaves out the issuer when it is the subject and the
proof type when it is the default.

A credential is **genuine** when its id names the subject DID, the issuer's document (from the
resolver) is genuine, the proof type is ``ECDSAsecp256r1``, ``verificationMethod`` is an
authentication key of the issuer (for a customized issuer: also of one of its controllers) and the
signature verifies over the normalized form without ``proof``. It is **valid** at ``now`` when it
is genuine, not expired, and the issuer's document is valid. Revocation is chain state and is not
part of this check (see the ID-chain requests).

Upstream: Elastos.DID.Java.SDK ``VerifiableCredential.java`` (``sanitize``, ``isGenuine``,
``isExpired``, ``isValid``), ``DIDDocument.isAuthenticationKey``.
"""

from __future__ import annotations

from typing import Any, Final

from spec.did import document as D
from spec.did import jsontext
from spec.did.document import Credential, Document, PublicKey, Resolver
from spec.did.syntax import DIDURL
from spec.errors import DecodeError, Reason, rule

__all__ = [
    "parse_credential",
    "from_json",
    "to_json",
    "normalized",
    "compact",
    "signed_bytes",
    "authentication_key",
    "is_genuine",
    "is_expired",
    "is_valid",
]

R_SUBJECT: Final = rule(
    "VC-001", Reason.VC_MALFORMED,
    "A credential outside a document is an object that names its subject (credentialSubject.id); "
    "its other members follow DOC-001 and DOC-002.",
    suite="did", upstream="\"Missing credential subject id\" (VerifiableCredential.sanitize, "
    "MalformedCredentialException)",
)


def from_json(v: Any, where: str = "credential") -> Credential:
    """Sanitize a credential given as a parsed JSON value (a document's or a presentation's member)."""
    cs = v.get("credentialSubject") if isinstance(v, dict) else None
    # [VC-001] a credential is an object with credentialSubject.id
    if not isinstance(cs, dict) or cs.get("id") is None:
        raise DecodeError(Reason.VC_MALFORMED, "VC-001", f"{where}: Missing credential subject id")
    subject = D._did(cs["id"], where + ".credentialSubject.id")
    return D._credential(v, where, subject, embedded=False)


def parse_credential(text: str) -> Credential:
    """Parse and sanitize a credential from its JSON text (any form the SDK accepts)."""
    return from_json(jsontext.parse(text))


def to_json(vc: Credential, normalized: bool, *, with_proof: bool = True) -> dict[str, Any]:
    """The credential as an ordered JSON object (normalized, or compact against its subject)."""
    out = D._credential_json(vc, normalized)
    if not with_proof:
        del out["proof"]
    return out


def normalized(vc: Credential) -> str:
    """``toString(true)``: the normalized form."""
    return jsontext.serialize(to_json(vc, True))


def compact(vc: Credential) -> str:
    """``toString(false)``: the compact form."""
    return jsontext.serialize(to_json(vc, False))


def signed_bytes(vc: Credential) -> bytes:
    """What the proof signs: the normalized form without ``proof``, UTF-8."""
    return jsontext.serialize(to_json(vc, True, with_proof=False)).encode("utf-8")


def authentication_key(doc: Document, key_id: DIDURL, resolve: Resolver | None) -> PublicKey | None:
    """The key ``key_id`` if it authenticates for ``doc`` (``DIDDocument.isAuthenticationKey``).

    A key authenticates when it is in the document's ``authentication``; for a customized document
    also when it is in the ``authentication`` of one of its controllers' documents.
    """
    if key_id in doc.authentication:
        return doc.key(key_id)
    if doc.customized and key_id.did in doc.controllers and resolve is not None:
        cdoc = resolve(key_id.did)  # type: ignore[arg-type]
        if cdoc is not None and key_id in cdoc.authentication:
            return cdoc.key(key_id)
    return None


def is_genuine(vc: Credential, resolve: Resolver | None) -> bool:
    """``VerifiableCredential.isGenuine``: the issuer (from ``resolve``) signed exactly these members."""
    if vc.id.did != vc.subject_id or resolve is None:
        return False
    issuer_doc = resolve(vc.issuer)
    if issuer_doc is None or not D.is_genuine(issuer_doc, resolve):
        return False
    key = authentication_key(issuer_doc, vc.proof.verification_method, resolve)
    return key is not None and D.verify_proof(key, signed_bytes(vc), vc.proof.type, vc.proof.signature)


def is_expired(vc: Credential, now: int) -> bool:
    """``now`` is after ``expirationDate``."""
    return now > D.parse_date(vc.expiration_date)


def is_valid(vc: Credential, now: int | None, resolve: Resolver | None) -> bool:
    """Genuine and, when ``now`` is given, neither the credential nor the issuer's document is expired.

    Revocation and deactivation are chain state and are not part of this check.
    """
    if not is_genuine(vc, resolve):
        return False
    if now is None:
        return True
    issuer_doc = resolve(vc.issuer) if resolve is not None else None
    return not is_expired(vc, now) and issuer_doc is not None and D.is_valid(issuer_doc, now, resolve)
