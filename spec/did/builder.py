"""Building and signing DID documents, credentials and presentations, with the SDK builders' defaults.

The SDK builds objects with ``DIDDocument.Builder``, ``VerifiableCredential.Builder`` and
``VerifiablePresentation.Builder`` and signs them at ``seal``. The spec builds them the same way,
with "now" and the private keys as parameters, and always through the parser: a draft is written as
JSON, parsed and sanitized by :func:`spec.did.document.parse_document` (or the credential and
presentation parsers), and only then signed, so that what is signed is exactly the normalized form a
verifier computes, and the result verifies with :func:`~spec.did.document.is_genuine`.

Defaults (``Constants.MAX_VALID_YEARS`` = 5)
--------------------------------------------

=========================  ==========================================================================
object                     default
=========================  ==========================================================================
document ``expires``       now + 5 calendar years (``Calendar.add(YEAR, 5)``: 29 February becomes 28)
document ``expires`` set   later than now + 5 years is refused: BLD-001
primitive key              ``#primary``, type ``ECDSAsecp256r1``, controller the subject
credential dates           ``issuanceDate`` = now; ``expirationDate`` = issuance + 5 years, and a later
                           one is **clipped** to that (Quirk, ``Builder.expirationDate``)
credential ``type``        always contains ``VerifiableCredential``; sorted
presentation               ``type`` ``VerifiablePresentation``, ``holder`` and ``created`` = now
proof ``created``          now
=========================  ==========================================================================

Signing a customized document takes ``m`` proofs, each by a controller's default key, added one at
a time (``DIDDocument.sign``); a document holding its ``m`` proofs is sealed.

Upstream: Elastos.DID.Java.SDK ``DIDDocument.Builder`` (``getMaxExpires``, ``setExpires``,
``sanitize``, ``seal``), ``DIDDocument.sign``, ``VerifiableCredential.Builder``,
``VerifiablePresentation.Builder``, ``RootIdentity.newDid``.
"""

from __future__ import annotations

import base64
import calendar
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from spec.crypto import p256
from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did import presentation as P
from spec.did.syntax import DID, DIDURL
from spec.errors import Reason, Reject, rule

__all__ = [
    "MAX_VALID_YEARS",
    "PRIMARY",
    "add_years",
    "max_expires",
    "primitive_draft",
    "customized_draft",
    "seal_document",
    "sign_draft",
    "cosign_document",
    "edit_draft",
    "issue_credential",
    "create_presentation",
]

MAX_VALID_YEARS: Final = 5
"""``Constants.MAX_VALID_YEARS``: how far ahead a new document or credential may expire."""
PRIMARY: Final = "primary"
"""The fragment of the HD-derived default key (``RootIdentity.newDid``)."""

R_EXPIRES = rule(
    "BLD-001", Reason.BUILDER_EXPIRES,
    "A document being built expires at most MAX_VALID_YEARS calendar years after now, and after now.",
    suite="did", upstream="DIDDocument.Builder.setExpires: \"Invalid expires, out of range.\"",
)
R_SIGNER = rule(
    "BLD-002", Reason.BUILDER_SIGNER,
    "A primitive document is signed by its own default key; a customized document by the default key "
    "of one of its controllers; a credential by an authentication key of its issuer; a presentation by "
    "an authentication key of its holder, who is the subject of every credential it holds.",
    suite="did", upstream="NotControllerException / InvalidKeyException (\"Not authentication key\")",
)
R_SIGNED = rule(
    "BLD-003", Reason.BUILDER_ALREADY_SIGNED,
    "A controller signs a customized document once, and a document that holds its m proofs takes no more.",
    suite="did", upstream="AlreadySignedException / AlreadySealedException",
)


# -- dates -----------------------------------------------------------------------------------------


def add_years(t: int, years: int) -> int:
    """``t`` plus ``years`` calendar years in UTC, as ``java.util.Calendar.add(YEAR, n)``: 29 February
    becomes 28 February in a year that is not a leap year."""
    g = time.gmtime(t)
    y = g.tm_year + years
    day = min(g.tm_mday, calendar.monthrange(y, g.tm_mon)[1])
    return calendar.timegm((y, g.tm_mon, day, g.tm_hour, g.tm_min, g.tm_sec, 0, 0, 0))


def max_expires(now: int) -> int:
    """The latest expiry a builder allows at ``now`` (and the default)."""
    return add_years(now, MAX_VALID_YEARS)


# -- document drafts --------------------------------------------------------------------------------


def primitive_draft(public_key: bytes) -> dict[str, Any]:
    """The document ``RootIdentity.newDid`` starts from: the DID of ``public_key`` with it as
    ``#primary``, the default key (authentication is filled in by the sanitizer)."""
    did = keys.did_from_public_key(public_key)
    return {"id": str(did), "publicKey": [{"id": f"{did}#{PRIMARY}", "type": D.DEFAULT_KEY_TYPE,
                                           "controller": str(did),
                                           "publicKeyBase58": keys.public_key_to_base58(public_key)}]}


def customized_draft(did: DID | str, controllers: Sequence[DID | str], multisig: int | None = None) -> dict[str, Any]:
    """A customized document (``DIDDocument.newCustomizedDid``): ``multisig`` is ``m`` of an
    ``m:n`` document and must be given when there are two or more controllers."""
    out: dict[str, Any] = {"id": str(did), "controller": [str(c) for c in controllers]}
    if multisig is not None:
        out["multisig"] = f"{multisig}:{len(controllers)}"
    return out


def edit_draft(doc: D.Document) -> dict[str, Any]:
    """A published document as a draft to edit (``DIDDocument.edit``): normalized, without proofs."""
    return D.to_json(doc, True, with_proof=False)


def _sanitized(draft: Mapping[str, Any], creator: DIDURL, created: int, resolve: D.Resolver | None) -> D.Document:
    """The draft through the parser, with a placeholder proof by ``creator`` (signatures are not read)."""
    body = {k: v for k, v in draft.items() if k != "proof"}
    body["proof"] = {"created": D.format_date(created), "creator": str(creator), "signatureValue": ""}
    return D.parse_document(jsontext.serialize(body), resolve)


def _signer_key(doc: D.Document, signer: DIDURL, private_key: bytes, resolve: D.Resolver | None) -> None:
    """``signer`` may sign ``doc`` and ``private_key`` is that key's."""
    if doc.customized:
        cdoc = resolve(signer.did) if resolve is not None and signer.did is not None else None
        ok = signer.did in doc.controllers and cdoc is not None and cdoc.default_key == signer
        key = cdoc.key(signer) if ok and cdoc is not None else None
    else:
        ok = signer == doc.default_key
        key = doc.key(signer) if ok else None
    # [BLD-002] the signer is the document's default key, or a controller's default key
    if not ok or key is None:
        raise Reject(Reason.BUILDER_SIGNER, "BLD-002", f"{signer} may not sign {doc.subject}")
    # [BLD-002] the private key is the signer's
    if p256.public_key_from_private(private_key) != key.public_key:
        raise Reject(Reason.BUILDER_SIGNER, "BLD-002", f"the private key is not {signer}'s")


def sign_draft(draft: Mapping[str, Any], *, created: int, signer: DIDURL, private_key: bytes,
               resolve: D.Resolver | None = None) -> D.Document:
    """Sanitize and sign a draft as it is, with no builder policy: ``expires`` must be in the draft and is
    not checked against ``created`` (BLD-001 is the builder's, not a document rule). For documents made
    outside the SDK's builder: test fixtures (an expired document, a long-lived one) and imports."""
    doc = _sanitized(draft, signer, created, resolve)
    _signer_key(doc, signer, private_key, resolve)
    return _with_proof(doc, (), signer, private_key, created, resolve)


def seal_document(draft: Mapping[str, Any], *, now: int, signer: DIDURL, private_key: bytes,
                  resolve: D.Resolver | None = None) -> D.Document:
    """``DIDDocument.Builder.seal``: fill in the defaults, sanitize, and sign by ``signer``.

    A draft without ``expires`` gets :func:`max_expires`; one with ``expires`` is checked against it.
    ``resolve`` gives controller documents (customized documents only)."""
    body = dict(draft)
    if body.get("expires") is None:
        body["expires"] = D.format_date(max_expires(now))
    else:
        exp = D.parse_date(body["expires"]) if isinstance(body["expires"], str) else None
        # [BLD-001] expires is after now and at most MAX_VALID_YEARS ahead
        if exp is None or exp > max_expires(now) or exp <= now:
            raise Reject(Reason.BUILDER_EXPIRES, "BLD-001", "Invalid expires, out of range.")
    doc = _sanitized(body, signer, now, resolve)
    _signer_key(doc, signer, private_key, resolve)
    return _with_proof(doc, (), signer, private_key, now, resolve)


def _with_proof(doc: D.Document, proofs: tuple[D.Proof, ...], signer: DIDURL, private_key: bytes, created: int,
                resolve: D.Resolver | None) -> D.Document:
    signature = p256.ecdsa_sign(private_key, D.signed_bytes(doc))
    proof = D.Proof(type=D.DEFAULT_KEY_TYPE, created=D.format_date(created), creator=signer,
                    signature=_b64url(signature))
    signed = doc.model_copy(update={"proofs": proofs + (proof,)})
    # the parser orders the proofs (created, creator) and checks one proof per signer
    return D.parse_document(D.normalized(signed), resolve)


def cosign_document(doc: D.Document, *, now: int, signer: DIDURL, private_key: bytes,
                    resolve: D.Resolver) -> D.Document:
    """``DIDDocument.sign``: another controller's proof on a customized multisig document."""
    _signer_key(doc, signer, private_key, resolve)
    need = doc.multisig[0] if doc.multisig is not None else 1
    # [BLD-003] a controller signs once
    if any(p.creator.did == signer.did for p in doc.proofs):
        raise Reject(Reason.BUILDER_ALREADY_SIGNED, "BLD-003", f"already signed by {signer.did}")
    # [BLD-003] a sealed document takes no more proofs
    if len(doc.proofs) >= need:
        raise Reject(Reason.BUILDER_ALREADY_SIGNED, "BLD-003", f"{doc.subject} already holds its {need} proofs")
    return _with_proof(doc, doc.proofs, signer, private_key, now, resolve)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# -- credentials ------------------------------------------------------------------------------------


def issue_credential(vc_id: DIDURL, subject: DID, types: Sequence[str], properties: Mapping[str, Any], *,
                     issuer_doc: D.Document, signer: DIDURL, private_key: bytes, now: int,
                     expiration: int | None = None, resolve: D.Resolver | None = None) -> C.Credential:
    """``Issuer.issueFor(subject).id(..).type(..).properties(..).seal()``: a signed credential.

    ``issuanceDate`` and the proof's ``created`` are ``now``; ``expirationDate`` defaults to now + 5
    years and a later value is clipped to it (Quirk: the SDK clips rather than refuses)."""
    limit = max_expires(now)
    exp = limit if expiration is None or expiration > limit else expiration
    body: dict[str, Any] = {
        "id": str(vc_id),
        "type": sorted(set(types) | {"VerifiableCredential"}, key=D._java_key),
        "issuer": str(issuer_doc.subject),
        "issuanceDate": D.format_date(now),
        "expirationDate": D.format_date(exp),
        "credentialSubject": {"id": str(subject), **{k: v for k, v in properties.items() if k != "id"}},
        "proof": {"type": D.DEFAULT_KEY_TYPE, "created": D.format_date(now), "verificationMethod": str(signer),
                  "signature": ""},
    }
    draft = C.from_json(jsontext.parse(jsontext.serialize(body)))
    key = C.authentication_key(issuer_doc, signer, resolve)
    # [BLD-002] a credential is signed by an authentication key of its issuer
    if key is None or p256.public_key_from_private(private_key) != key.public_key:
        raise Reject(Reason.BUILDER_SIGNER, "BLD-002", f"{signer} is not an authentication key of {issuer_doc.subject}")
    proof = draft.proof.model_copy(update={"signature": _b64url(p256.ecdsa_sign(private_key, C.signed_bytes(draft)))})
    return C.parse_credential(C.normalized(draft.model_copy(update={"proof": proof})))


# -- presentations ----------------------------------------------------------------------------------


def create_presentation(holder_doc: D.Document, credentials: Sequence[C.Credential], *, realm: str, nonce: str,
                        signer: DIDURL, private_key: bytes, now: int, vp_id: DIDURL | None = None,
                        types: Sequence[str] = ("VerifiablePresentation",),
                        resolve: D.Resolver | None = None) -> P.Presentation:
    """``VerifiablePresentation.createFor(holder).credentials(..).realm(..).nonce(..).seal()``."""
    holder = holder_doc.subject
    for vc in credentials:
        # [BLD-002] a presentation holds only credentials about its holder
        if vc.subject_id != holder:
            raise Reject(Reason.BUILDER_SIGNER, "BLD-002", f"{vc.id} is not about the holder {holder}")
    key = C.authentication_key(holder_doc, signer, resolve)
    # [BLD-002] a presentation is signed by an authentication key of its holder
    if key is None or p256.public_key_from_private(private_key) != key.public_key:
        raise Reject(Reason.BUILDER_SIGNER, "BLD-002", f"{signer} is not an authentication key of {holder}")
    body: dict[str, Any] = {}
    if vp_id is not None:
        body["id"] = str(vp_id)
    body.update({
        "type": list(types), "holder": str(holder), "created": D.format_date(now),
        "verifiableCredential": [C.to_json(vc, True) for vc in credentials],
        "proof": {"type": D.DEFAULT_KEY_TYPE, "verificationMethod": str(signer), "realm": realm, "nonce": nonce,
                  "signature": ""},
    })
    draft = P.parse_presentation(jsontext.serialize(body))
    proof = draft.proof.model_copy(update={"signature": _b64url(p256.ecdsa_sign(private_key, P.signed_bytes(draft)))})
    return P.parse_presentation(P.normalized(draft.model_copy(update={"proof": proof})))
