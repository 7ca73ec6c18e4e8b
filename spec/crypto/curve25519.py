"""Ed25519 signatures and X25519 key agreement, for the Carrier and Hive layers.

Both are used exactly as RFC 8032 and RFC 7748 define them, through OpenSSL (``cryptography``).
Ed25519 verification is OpenSSL's: cofactorless, and it rejects ``S >= L`` and public keys or
``R`` values that do not decode. An X25519 exchange whose result is all zeros (the peer sent a
low-order point) is rejected, as RFC 7748 §6.1 allows and Noise requires.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from spec.errors import Reason, Reject, rule

KEY_SIZE: Final = 32
ED25519_SIGNATURE_SIZE: Final = 64

R_KEY_LENGTH = rule(
    "CRY-010", Reason.ED25519_KEY_LENGTH,
    "An Ed25519 or X25519 key (public, private or seed) is 32 bytes.",
    suite="crypto", upstream="RFC 8032 §5.1.5, RFC 7748 §5",
)
R_ED_SIG_LENGTH = rule(
    "CRY-011", Reason.SIGNATURE_LENGTH,
    "An Ed25519 signature is 64 bytes.",
    suite="crypto", upstream="RFC 8032 §5.1.6",
)
R_ED_SIG_VALID = rule(
    "CRY-012", Reason.SIGNATURE_INVALID,
    "An Ed25519 signature verifies under the public key (RFC 8032 §5.1.7, cofactorless, S < L).",
    suite="crypto", upstream="RFC 8032 §5.1.7",
)
R_X25519_ZERO = rule(
    "CRY-013", Reason.X25519_LOW_ORDER,
    "An X25519 shared secret is not all zeros.",
    suite="crypto", upstream="RFC 7748 §6.1",
)


def _check_key(key: bytes, what: str) -> None:
    # [CRY-010] an Ed25519 or X25519 key is 32 bytes
    if len(key) != KEY_SIZE:
        raise Reject(Reason.ED25519_KEY_LENGTH, "CRY-010", f"{what}: {len(key)} bytes")


def ed25519_public_key(seed: bytes) -> bytes:
    """The public key of a 32-byte Ed25519 seed (the RFC 8032 private key)."""
    _check_key(seed, "Ed25519 seed")
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def ed25519_sign(seed: bytes, message: bytes) -> bytes:
    """RFC 8032 Ed25519 signature (deterministic by construction)."""
    _check_key(seed, "Ed25519 seed")
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Return if the signature verifies; otherwise raise."""
    _check_key(public_key, "Ed25519 public key")
    # [CRY-011] an Ed25519 signature is 64 bytes
    if len(signature) != ED25519_SIGNATURE_SIZE:
        raise Reject(Reason.SIGNATURE_LENGTH, "CRY-011", f"{len(signature)} bytes")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        # [CRY-012] the signature verifies under the public key
        raise Reject(Reason.SIGNATURE_INVALID, "CRY-012", "Ed25519 verification failed") from None


def x25519_public_key(private_key: bytes) -> bytes:
    """The X25519 public key of a 32-byte private key (clamped as RFC 7748 says)."""
    _check_key(private_key, "X25519 private key")
    return x25519.X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def x25519_shared(private_key: bytes, peer_public_key: bytes) -> bytes:
    """The X25519 shared secret; the all-zero result is rejected."""
    _check_key(private_key, "X25519 private key")
    _check_key(peer_public_key, "X25519 public key")
    try:
        shared = x25519.X25519PrivateKey.from_private_bytes(private_key).exchange(
            x25519.X25519PublicKey.from_public_bytes(peer_public_key)
        )
    except ValueError:
        shared = bytes(KEY_SIZE)  # OpenSSL refuses to return the all-zero secret
    # [CRY-013] an X25519 shared secret is not all zeros
    if shared == bytes(KEY_SIZE):
        raise Reject(Reason.X25519_LOW_ORDER, "CRY-013", "peer key has low order")
    return shared
