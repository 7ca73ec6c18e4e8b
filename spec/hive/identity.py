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
from spec.did import jsontext, keys
from spec.did import presentation as P
from spec.hive.jws import b64url_encode

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


def _sign(private_key: bytes, message: bytes) -> str:
    return b64url_encode(p256.ecdsa_sign(private_key, message))


def primitive_document(private_key: bytes, *, created: int, expires: int) -> str:
    """The normalized text of a primitive DID document with one key, self-signed at ``created``."""
    pub = p256.public_key_from_private(private_key)
    did = did_of(private_key)
    kid = key_id_of(private_key)
    d: dict[str, Any] = {
        "id": did,
        "publicKey": [{"id": kid, "type": D.DEFAULT_KEY_TYPE, "controller": did,
                       "publicKeyBase58": keys.public_key_to_base58(pub)}],
        "authentication": [kid],
        "expires": D.format_date(expires),
        "proof": {"type": D.DEFAULT_KEY_TYPE, "created": D.format_date(created), "creator": kid,
                  "signatureValue": ""},
    }
    message = D.signed_bytes(D.parse_document(jsontext.serialize(d)))
    d["proof"]["signatureValue"] = _sign(private_key, message)
    return D.normalized(D.parse_document(jsontext.serialize(d)))


def issue_credential(issuer_key: bytes, subject: str, fragment: str, types: tuple[str, ...],
                     members: Mapping[str, Any], *, issued: int, expires: int) -> str:
    """The normalized text of a credential ``<subject>#<fragment>`` issued by ``issuer_key``'s DID."""
    d: dict[str, Any] = {
        "id": f"{subject}#{fragment}",
        "type": list(types),
        "issuer": did_of(issuer_key),
        "issuanceDate": D.format_date(issued),
        "expirationDate": D.format_date(expires),
        "credentialSubject": {"id": subject, **members},
        "proof": {"type": D.DEFAULT_KEY_TYPE, "created": D.format_date(issued),
                  "verificationMethod": key_id_of(issuer_key), "signature": ""},
    }
    message = C.signed_bytes(C.parse_credential(jsontext.serialize(d)))
    d["proof"]["signature"] = _sign(issuer_key, message)
    return C.normalized(C.parse_credential(jsontext.serialize(d)))


def create_presentation(holder_key: bytes, credentials: tuple[str, ...], *, realm: str, nonce: str,
                        created: int) -> str:
    """The normalized text of a presentation by ``holder_key``'s DID for ``realm`` and ``nonce``."""
    d: dict[str, Any] = {
        "type": "VerifiablePresentation",
        "holder": did_of(holder_key),
        "created": D.format_date(created),
        "verifiableCredential": [jsontext.parse(t) for t in credentials],
        "proof": {"type": D.DEFAULT_KEY_TYPE, "verificationMethod": key_id_of(holder_key), "realm": realm,
                  "nonce": nonce, "signature": ""},
    }
    message = P.signed_bytes(P.parse_presentation(jsontext.serialize(d)))
    d["proof"]["signature"] = _sign(holder_key, message)
    return P.normalized(P.parse_presentation(jsontext.serialize(d)))
