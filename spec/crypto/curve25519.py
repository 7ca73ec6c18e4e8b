"""Ed25519 signatures and X25519 key agreement, for the Carrier and Hive layers.

Both are used as RFC 8032 and RFC 7748 define them, through OpenSSL (``cryptography``).
Ed25519 verification is cofactorless and rejects ``S >= L`` and public keys or ``R`` values that
do not decode. In addition the spec rejects a public key or ``R`` of small order (the eight points
of the curve's torsion), as libsodium does and RFC 8032 does not: under such a key, signatures can
be made without any secret, so two parties could claim one node identity. The check looks at the
encoded ``y`` coordinate only (sign bit dropped, reduced modulo ``p``), exactly like libsodium's
blocklist. An X25519 exchange whose result is all zeros (the peer sent a low-order point) is
rejected, as RFC 7748 §6.1 allows and Noise requires.

Small-order ``y`` coordinates
-----------------------------

=================  ==============================================================
order              ``y`` (mod p)
=================  ==============================================================
1                  ``1``
2                  ``p - 1``
4                  ``0``
8                  ``Y8`` and ``p - Y8``, where ``Y8^2 = -x^2`` and ``x^2 = (1 + sqrt(1 + d)) / d``
=================  ==============================================================
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from spec.errors import Reason, Reject, rule

KEY_SIZE: Final = 32
ED25519_SIGNATURE_SIZE: Final = 64

ED25519_P: Final = 2**255 - 19
ED25519_D: Final = (-121665 * pow(121666, -1, ED25519_P)) % ED25519_P


def _sqrt_mod_p(a: int) -> int:
    """A square root modulo ``2^255 - 19`` (p = 5 mod 8), for a square ``a``."""
    p = ED25519_P
    r = pow(a, (p + 3) // 8, p)
    if r * r % p != a % p:
        r = r * pow(2, (p - 1) // 4, p) % p
    if r * r % p != a % p:
        raise ArithmeticError("not a square")
    return r


def _order8_y() -> int:
    p, d = ED25519_P, ED25519_D
    for root in (_sqrt_mod_p(1 + d), p - _sqrt_mod_p(1 + d)):
        x2 = (1 + root) * pow(d, -1, p) % p
        try:
            _sqrt_mod_p(x2)  # the point needs an x coordinate
            return _sqrt_mod_p(-x2 % p)
        except ArithmeticError:
            continue
    raise ArithmeticError("no point of order 8")  # pragma: no cover - a property of the curve


_Y8: Final = _order8_y()
SMALL_ORDER_Y: Final = frozenset({0, 1, ED25519_P - 1, _Y8, ED25519_P - _Y8})
"""The ``y`` coordinates of the eight small-order points."""

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
R_SMALL_ORDER = rule(
    "CRY-014", Reason.ED25519_SMALL_ORDER,
    "Neither an Ed25519 public key nor a signature's R is a point of small order.",
    suite="crypto", upstream="libsodium crypto_sign_verify_detached (ge25519_has_small_order)",
    note="Deviation: RFC 8032 and OpenSSL accept small-order keys and R values; the spec rejects "
    "them as libsodium (which Carrier v1 uses through Tox) does.",
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
    for what, point in (("public key", public_key), ("R", signature[:32])):
        y = (int.from_bytes(point, "little") & ((1 << 255) - 1)) % ED25519_P
        # [CRY-014] neither the public key nor R is of small order
        if y in SMALL_ORDER_Y:
            raise Reject(Reason.ED25519_SMALL_ORDER, "CRY-014", f"{what} is a small-order point")
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
