"""NIST P-256 (secp256r1) keys and ECDSA with SHA-256, as ELA uses them.

* A public key is the 33-byte SEC1 compressed point ``02|03 || X``. Decoding checks that ``X`` is
  a field element and that the curve has a point with that ``X``.
* A signature is ``r || s``, each 32 bytes big-endian. The signed digest is **one** SHA-256 of the
  message (ELA signs the unsigned transaction bytes, not the txid).
* Verification accepts any valid signature; there is no low-S rule (Quirk: upstream uses Go's
  ``ecdsa.Verify``, which accepts ``s`` and ``n - s`` alike, so a signature is malleable).
* Signing, which the spec needs only to build vectors, uses RFC 6979 deterministic nonces, so
  every generated vector is reproducible. Upstream signs with random nonces; verification cannot
  tell the difference.

The curve arithmetic of verification and signing is OpenSSL's (through ``cryptography``); the spec
shows point decompression because its checks are rules of the protocol.

Upstream: ``Elastos.ELA/crypto/crypto.go`` (``Sign``, ``Verify``), ``crypto/encode.go``
(``DecodePoint``).

Curve constants
---------------

=====  ==================================================================
name   value
=====  ==================================================================
``P``  ``2^256 - 2^224 + 2^192 + 2^96 - 1`` (the field prime)
``A``  ``-3``
``B``  ``0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b``
``N``  ``0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551`` (group order)
=====  ==================================================================
"""

from __future__ import annotations

import functools

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from spec.errors import DecodeError, Reason, Reject, rule

P: Final = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A: Final = P - 3
B: Final = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

PUBLIC_KEY_SIZE: Final = 33
PRIVATE_KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64

R_PUBKEY_ENCODING = rule(
    "CRY-001", Reason.PUBKEY_ENCODING,
    "A P-256 public key is 33 bytes: 0x02 or 0x03, then the 32-byte X coordinate.",
    suite="crypto", upstream="DecodePoint: \"the encodeData format is error\"",
    note="Deviation: upstream DecodePoint also takes 65-byte uncompressed points (0x04, 0x06, 0x07) "
    "without checking that they lie on the curve; no script or payload of the PoW era carries one, "
    "and the spec rejects them.",
)
R_PUBKEY_FIELD = rule(
    "CRY-002", Reason.PUBKEY_NOT_ON_CURVE,
    "The X coordinate of a public key is less than the field prime P.",
    suite="crypto",
    note="Deviation: upstream reduces X modulo P silently, so two encodings name one key; the spec "
    "accepts only the reduced one.",
)
R_PUBKEY_CURVE = rule(
    "CRY-003", Reason.PUBKEY_NOT_ON_CURVE,
    "X^3 - 3X + B is a square modulo P, so the curve has a point with that X.",
    suite="crypto", upstream="DecodePoint: \"invalid point compression\"",
)
R_SIG_LENGTH = rule(
    "CRY-004", Reason.SIGNATURE_LENGTH,
    "An ECDSA signature is 64 bytes: r then s, 32 bytes each, big-endian.",
    suite="crypto", upstream="Verify: \"Unknown signature length\"",
)
R_SIG_RANGE = rule(
    "CRY-005", Reason.SIGNATURE_OUT_OF_RANGE,
    "Both r and s lie in [1, N-1].",
    suite="crypto", upstream="Verify: \"[Validation], Verify failed.\" (ecdsa.Verify returns false)",
)
R_SIG_VALID = rule(
    "CRY-006", Reason.SIGNATURE_INVALID,
    "The signature verifies under the key for SHA-256 of the message.",
    suite="crypto", upstream="Verify: \"[Validation], Verify failed.\"",
    note="Quirk: there is no low-S rule; (r, N - s) verifies whenever (r, s) does.",
)
R_PRIVATE = rule(
    "CRY-007", Reason.PRIVATE_KEY_OUT_OF_RANGE,
    "A private key is 32 bytes, big-endian, in [1, N-1].",
    suite="crypto",
)


@functools.lru_cache(maxsize=1 << 16)
def _public_key_object(pubkey: bytes) -> ec.EllipticCurvePublicKey:
    """Load a compressed public key, with every check of :func:`decompress_point` (cached)."""
    # [CRY-001] a public key is 33 bytes: 0x02 or 0x03, then X
    if len(pubkey) != PUBLIC_KEY_SIZE or pubkey[0] not in (0x02, 0x03):
        raise DecodeError(
            Reason.PUBKEY_ENCODING, "CRY-001",
            f"{len(pubkey)} bytes starting {pubkey[:1].hex() or 'nothing'}; need 33 starting 02 or 03",
        )
    # [CRY-002] X is less than the field prime
    if int.from_bytes(pubkey[1:], "big") >= P:
        raise DecodeError(Reason.PUBKEY_NOT_ON_CURVE, "CRY-002", "X is not a field element")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(pubkey))
    except ValueError:
        pass
    # [CRY-003] X^3 - 3X + B is a square modulo P
    raise DecodeError(Reason.PUBKEY_NOT_ON_CURVE, "CRY-003", "no curve point has this X")


def check_public_key(data: bytes) -> None:
    """Return if ``data`` is a valid compressed P-256 public key (CRY-001..003); otherwise raise."""
    _public_key_object(data)


@functools.lru_cache(maxsize=1 << 16)
def decompress_point(data: bytes) -> tuple[int, int]:
    """Decode a compressed public key to its affine coordinates ``(x, y)``.

    ``y`` is the square root of ``x^3 - 3x + B`` modulo ``P`` (``P = 3 mod 4``, so the root is
    ``(x^3 - 3x + B)^((P+1)/4)``) whose parity is the prefix's low bit. The root is computed by
    OpenSSL (``EllipticCurvePublicKey.from_encoded_point``); ``tests/test_crypto_p256.py`` checks
    it against the formula. Results are cached: the function is pure.
    """
    numbers = _public_key_object(data).public_numbers()
    return numbers.x, numbers.y


def compress_point(x: int, y: int) -> bytes:
    """SEC1 compressed form of an affine point."""
    return bytes((0x02 | (y & 1),)) + x.to_bytes(32, "big")


def _private_scalar(private_key: bytes) -> int:
    d = int.from_bytes(private_key, "big")
    # [CRY-007] a private key is 32 bytes in [1, N-1]
    if len(private_key) != PRIVATE_KEY_SIZE or not 1 <= d < N:
        raise Reject(Reason.PRIVATE_KEY_OUT_OF_RANGE, "CRY-007", "private key must be 32 bytes in [1, N-1]")
    return d


def public_key_from_private(private_key: bytes) -> bytes:
    """The compressed public key of a private key."""
    pub = ec.derive_private_key(_private_scalar(private_key), ec.SECP256R1()).public_key().public_numbers()
    return compress_point(pub.x, pub.y)


_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


def ecdsa_verify(pubkey: bytes, message: bytes, signature: bytes) -> None:
    """Return if ``signature`` is valid for ``message`` under ``pubkey``; otherwise raise."""
    key = _public_key_object(pubkey)
    # [CRY-004] a signature is 64 bytes
    if len(signature) != SIGNATURE_SIZE:
        raise Reject(Reason.SIGNATURE_LENGTH, "CRY-004", f"{len(signature)} bytes")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    # [CRY-005] r and s lie in [1, N-1]
    if not (1 <= r < N and 1 <= s < N):
        raise Reject(Reason.SIGNATURE_OUT_OF_RANGE, "CRY-005", "r or s outside [1, N-1]")
    try:
        key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
    except InvalidSignature:
        # [CRY-006] the signature verifies for SHA-256 of the message
        raise Reject(Reason.SIGNATURE_INVALID, "CRY-006", "ECDSA verification failed") from None


def ecdsa_sign(private_key: bytes, message: bytes) -> bytes:
    """Sign SHA-256 of ``message`` with an RFC 6979 deterministic nonce; returns ``r || s``."""
    key = ec.derive_private_key(_private_scalar(private_key), ec.SECP256R1())
    der = key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def malleate(signature: bytes) -> bytes:
    """``(r, N - s)``: the other valid signature for the same key and message."""
    s = int.from_bytes(signature[32:], "big")
    return signature[:32] + (N - s).to_bytes(32, "big")
