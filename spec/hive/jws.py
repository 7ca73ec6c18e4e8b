"""JWS compact serialization and ES256: the token format of every Hive sign-in step.

Hive's challenge, response and access tokens are JSON Web Tokens (RFC 7519) in the JWS compact
serialization (RFC 7515 §7.1), signed with ES256 (RFC 7518 §3.4): ECDSA on P-256 over SHA-256.

Encoding
--------

::

    token          = B64(header) "." B64(claims) "." B64(signature)
    signing input  = ASCII( B64(header) "." B64(claims) )
    signature      = r || s      (32 bytes each, big-endian: 64 bytes, not DER)
    B64(x)         = base64url of x without "=" padding (RFC 7515 §2)

``header`` and ``claims`` are UTF-8 JSON objects. The spec writes them compactly (no whitespace,
separators ``,`` and ``:``), members in the order the caller gives, non-ASCII as UTF-8; a verifier
accepts any JSON object text, because the signature covers the bytes as sent, not a canonical form.

Decoding checks, in order
-------------------------

=============  ==============================================================================
rule           check
=============  ==============================================================================
``HJWT-001``   three parts, each strict unpadded base64url (no ``=``, no other characters, the
               canonical encoding of its bytes); header and claims are UTF-8 JSON objects
``HJWT-002``   the header's ``alg`` is ``"ES256"`` (``none`` and every other value rejected)
``HJWT-003``   the signature is 64 bytes and verifies under the signer's P-256 key
=============  ==============================================================================

Which key is the signer's is the caller's business (:mod:`spec.hive.auth` takes it from the
issuer's DID document by ``kid``). Signing uses RFC 6979 deterministic nonces so vectors are
reproducible; verification accepts any valid signature, as upstream does.

Upstream: Elastos.DID.Java.SDK ``jwt/JwtBuilder.java`` (jjwt ``signWith`` a P-256 key, i.e. ES256),
Elastos.Hive.Node ``src/utils/did/eladid_wrapper.py`` (``JWTBuilder``/``JWTParser`` over the native
DID library, which validates the signature while parsing).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "ALGORITHM",
    "Jws",
    "b64url_encode",
    "b64url_decode",
    "encode_json",
    "sign",
    "parse",
    "verify",
]

ALGORITHM: Final = "ES256"
"""The only ``alg`` Hive tokens use."""

R_SHAPE: Final = rule(
    "HJWT-001", Reason.HIVE_JWT_MALFORMED,
    "A JWT is three '.'-separated parts, each strict unpadded base64url; the first two decode to UTF-8 "
    "JSON objects (header and claims).",
    suite="hive", upstream="jjwt MalformedJwtException; DefaultJWSParser_Parse failure",
)
R_ALG: Final = rule(
    "HJWT-002", Reason.HIVE_JWT_ALGORITHM,
    "The JWT header's alg is ES256; every other value, 'none' included, is rejected.",
    suite="hive", upstream="jjwt: ES256 key parses only ES256 tokens",
)
R_SIG: Final = rule(
    "HJWT-003", Reason.HIVE_JWT_SIGNATURE,
    "The JWS signature is 64 bytes (r || s) and verifies, ECDSA P-256 over SHA-256 of the signing input, "
    "under the signer's key.",
    suite="hive", upstream="jjwt SignatureException (\"JWT signature does not match\")",
)

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class Jws(BaseModel):
    """A parsed (not yet verified) JWS."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    header: dict[str, Any]
    """The protected header."""
    claims: dict[str, Any]
    """The payload, a JSON object."""
    signing_input: bytes
    """``B64(header) "." B64(claims)`` as ASCII: what the signature covers."""
    signature: bytes
    """The decoded third part."""


def b64url_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Strict unpadded base64url: only the alphabet, and the canonical encoding of the result."""
    # [HJWT-001] only base64url characters, no padding
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{what}: not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        # [HJWT-001] decodes as base64url
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{what}: not base64url") from None
    # [HJWT-001] the canonical encoding (no stray low bits in the last character)
    if b64url_encode(data) != text:
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{what}: not the canonical base64url")
    return data


def encode_json(value: dict[str, Any]) -> bytes:
    """Compact JSON, members in the given order, UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(header: dict[str, Any], claims: dict[str, Any], private_key: bytes) -> str:
    """The compact JWS of ``header`` (``alg`` is set to ES256 first if absent) and ``claims``."""
    h = header if "alg" in header else {"alg": ALGORITHM, **header}
    signing_input = b64url_encode(encode_json(h)) + "." + b64url_encode(encode_json(claims))
    signature = p256.ecdsa_sign(private_key, signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def _object(part: str, what: str) -> dict[str, Any]:
    raw = b64url_decode(part, what)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested past the parser's stack
        # [HJWT-001] UTF-8 JSON text
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{what}: not UTF-8 JSON") from None
    # [HJWT-001] header and claims are JSON objects
    if not isinstance(value, dict):
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{what}: not a JSON object")
    return value


def parse(token: str) -> Jws:
    """Split and decode a compact JWS; checks HJWT-001 and HJWT-002, not the signature."""
    parts = token.split(".")
    # [HJWT-001] exactly three parts
    if len(parts) != 3:
        raise DecodeError(Reason.HIVE_JWT_MALFORMED, "HJWT-001", f"{len(parts)} parts, expected 3")
    header = _object(parts[0], "header")
    claims = _object(parts[1], "claims")
    signature = b64url_decode(parts[2], "signature")
    # [HJWT-002] the algorithm is ES256
    if header.get("alg") != ALGORITHM:
        raise Reject(Reason.HIVE_JWT_ALGORITHM, "HJWT-002", f"alg {header.get('alg')!r}, expected ES256")
    return Jws(header=header, claims=claims, signing_input=(parts[0] + "." + parts[1]).encode("ascii"),
               signature=signature)


def verify(jws: Jws, public_key: bytes) -> None:
    """Check the ES256 signature of a parsed JWS under a 33-byte compressed P-256 key."""
    # [HJWT-003] the signature is r || s, 64 bytes
    if len(jws.signature) != p256.SIGNATURE_SIZE:
        raise Reject(Reason.HIVE_JWT_SIGNATURE, "HJWT-003", f"signature of {len(jws.signature)} bytes")
    try:
        p256.ecdsa_verify(public_key, jws.signing_input, jws.signature)
    except Reject:
        # [HJWT-003] the signature verifies under the signer's key
        raise Reject(Reason.HIVE_JWT_SIGNATURE, "HJWT-003", "JWT signature does not match") from None
