"""Building the DID objects a Hive sign-in carries: documents, credentials and presentations.

The vault *verifies* these objects with :mod:`spec.did`; this module *makes* them, from keys and
times given as parameters, as the app (``AppDID.createToken``), the user (``UserDID.issueDiplomaFor``
style ``AppIdCredential`` issuance) and the vault (its service DID document) do in upstream's test
code. Every builder returns the normalized text that :mod:`spec.did` parses back to the same object;
every signature is ES256-style ECDSA P-256 with an RFC 6979 nonce (``r || s``, base64url).

========================  ==============================================================
object                    members written
========================  ==============================================================
primitive document        ``id``, ``publicKey [#primary]``, ``authentication``,
                          ``expires``, ``proof {type, created, creator, signatureValue}``
credential                ``id``, ``type``, ``issuer``, ``issuanceDate``, ``expirationDate``,
                          ``credentialSubject {id, ...}``, ``proof``
presentation              ``type VerifiablePresentation``, ``holder``, ``created``,
                          ``verifiableCredential``, ``proof {…, realm, nonce}``
========================  ==============================================================

Upstream: Elastos.Hive.Java.SDK ``src/test/java/org/elastos/hive/did/{AppDID,UserDID}.java``;
Elastos.DID.Java.SDK ``VerifiableCredential.Builder``, ``VerifiablePresentation.Builder``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from spec.crypto import p256
from spec.did import credential as C
from spec.did import document as D
from spec.did import builder as B
from spec.did import keys
from spec.did import presentation as P
from spec.did.syntax import parse_did, parse_did_url

__all__ = [
    "KEY_FRAGMENT",
    "did_of",
    "key_id_of",
    "primitive_document",
    "issue_credential",
    "create_presentation",
]

KEY_FRAGMENT: Final = "primary"
"""The fragment of the one key of a document built here (the SDK's default key name)."""


def did_of(private_key: bytes) -> str:
    """The primitive DID of a P-256 private key."""
    return str(keys.did_from_public_key(p256.public_key_from_private(private_key)))


def key_id_of(private_key: bytes) -> str:
    """``<did>#primary``: the key id a document built here gives the key."""
    return f"{did_of(private_key)}#{KEY_FRAGMENT}"


def _doc(private_key: bytes, created: int, expires: int) -> D.Document:
    draft = {**B.primitive_draft(p256.public_key_from_private(private_key)), "expires": D.format_date(expires)}
    return B.sign_draft(draft, created=created, signer=parse_did_url(key_id_of(private_key)), private_key=private_key)


def primitive_document(private_key: bytes, *, created: int, expires: int) -> str:
    """The normalized text of a primitive DID document with one key, self-signed at ``created``
    (:func:`spec.did.builder.sign_draft`)."""
    return D.normalized(_doc(private_key, created, expires))


def issue_credential(issuer_key: bytes, subject: str, fragment: str, types: tuple[str, ...],
                     members: Mapping[str, Any], *, issued: int, expires: int) -> str:
    """The normalized text of a credential ``<subject>#<fragment>`` issued by ``issuer_key``'s DID at ``issued``
    (:func:`spec.did.builder.issue_credential`: ``VerifiableCredential`` is among its types, and an expiry
    more than five years after ``issued`` is clipped)."""
    issuer_doc = _doc(issuer_key, issued, issued + 1)
    vc = B.issue_credential(parse_did_url(f"{subject}#{fragment}"), parse_did(subject), types, members,
                            issuer_doc=issuer_doc, signer=parse_did_url(key_id_of(issuer_key)), private_key=issuer_key,
                            now=issued, expiration=expires)
    return C.normalized(vc)


def create_presentation(holder_key: bytes, credentials: tuple[str, ...], *, realm: str, nonce: str,
                        created: int) -> str:
    """The normalized text of a presentation by ``holder_key``'s DID for ``realm`` and ``nonce``
    (:func:`spec.did.builder.create_presentation`)."""
    vp = B.create_presentation(_doc(holder_key, created, created + 1), [C.parse_credential(t) for t in credentials],
                               realm=realm, nonce=nonce, signer=parse_did_url(key_id_of(holder_key)),
                               private_key=holder_key, now=created)
    return P.normalized(vp)
