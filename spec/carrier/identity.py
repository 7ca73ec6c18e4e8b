"""Carrier identities and addresses: node ids, their X25519 forms, and Tox-style addresses.

A node has one Ed25519 key (a 32-byte seed is the parameter; the spec makes no keys). Its
**node id** is the 32-byte Ed25519 public key, written in base58 (Bitcoin alphabet). Its X25519
keys, used by Noise and by the DHT boxes, are the birationally mapped forms of the Ed25519 keys
(libsodium ``crypto_sign_ed25519_{pk,sk}_to_curve25519``), as Carrier v2 derives them.

An **address** is what a user hands out to be befriended::

    address = base58(node_id[32] || nospam[4] || checksum[2])      (38 bytes, at most 52 characters)
    checksum[i % 2] ^= byte[i]  for i in 0..35                     (Tox's XOR checksum)

=========================  ===========  ======================================================
constant                   value        source
=========================  ===========  ======================================================
``NODE_ID_SIZE``           32           ``DHT_PUBLIC_KEY_SIZE`` (Carrier v1), ``Id.BYTES`` (v2)
``NOSPAM_SIZE``            4            Tox ``TOX_NOSPAM_SIZE``
``ADDRESS_SIZE``           38           ``DHT_ADDRESS_SIZE`` / ``TOX_ADDRESS_SIZE``
``MAX_ID_TEXT``            45           ``CARRIER_MAX_ID_LEN``
``MAX_ADDRESS_TEXT``       52           ``CARRIER_MAX_ADDRESS_LEN``
=========================  ===========  ======================================================

Two codecs
----------

* The **safe** codec (:func:`parse_node_id`, :func:`parse_address`) is the spec's own: the id must
  be a usable Ed25519 public key: it decodes to a point of the prime-order subgroup, as libsodium's
  ``crypto_sign_ed25519_pk_to_curve25519`` requires (small-order and mixed-order points are refused).
* The **compatibility** codec (:func:`parse_v1_user_id`, :func:`parse_v1_address`) accepts
  exactly what Carrier v1 accepts (``carrier_id_is_valid``, ``is_valid_address``): base58 that
  decodes to 32 (or 38) bytes with a valid checksum. A v1 user id is a Curve25519 key, not an
  Ed25519 key, so the safe codec would refuse some real v1 ids; the two are kept apart.

Carrier v2 (compatibility only): :func:`v2_pair_nonce` is the nonce v2 uses for **every**
packet between two nodes. The spec never uses it (see :mod:`spec.carrier.dht`).
"""

from __future__ import annotations

from typing import Final

from nacl import bindings as _sodium
from nacl.exceptions import RuntimeError as _SodiumError

from spec.crypto import curve25519
from spec.encoding.base58 import b58decode, b58encode
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "NODE_ID_SIZE",
    "NOSPAM_SIZE",
    "CHECKSUM_SIZE",
    "ADDRESS_SIZE",
    "MAX_ID_TEXT",
    "MAX_ADDRESS_TEXT",
    "node_id_of",
    "x25519_private_of",
    "x25519_public_of",
    "address_checksum",
    "make_address",
    "parse_node_id",
    "parse_address",
    "parse_v1_user_id",
    "parse_v1_address",
    "v2_pair_nonce",
]

NODE_ID_SIZE: Final = 32
NOSPAM_SIZE: Final = 4
CHECKSUM_SIZE: Final = 2
ADDRESS_SIZE: Final = NODE_ID_SIZE + NOSPAM_SIZE + CHECKSUM_SIZE
MAX_ID_TEXT: Final = 45
MAX_ADDRESS_TEXT: Final = 52

R_ID = rule(
    "CAR-001", Reason.CARRIER_ID_INVALID,
    "A node id (or v1 user id) is base58 text of at most 45 characters that decodes to exactly 32 bytes.",
    suite="carrier", upstream="carrier_id_is_valid (src/carrier/carrier.c); CARRIER_MAX_ID_LEN 45",
)
R_ED25519 = rule(
    "CAR-002", Reason.CARRIER_ID_NOT_ED25519,
    "A node id is an Ed25519 public key that decodes to a point of the curve in its prime-order subgroup "
    "(neither of small nor of mixed order), and so has an X25519 form.",
    suite="carrier", upstream="crypto_sign_ed25519_pk_to_curve25519 (Carrier v2 Node::Node)",
    note="Deviation: Carrier v1 user ids are Curve25519 keys and are not checked as points; the "
    "compatibility codec (parse_v1_user_id) does not apply this rule.",
)
R_ADDRESS = rule(
    "CAR-003", Reason.CARRIER_ADDRESS_INVALID,
    "An address is base58 text of at most 52 characters that decodes to exactly 38 bytes.",
    suite="carrier", upstream="is_valid_address / CARRIER_MAX_ADDRESS_LEN 52 (src/carrier/carrier.c)",
)
R_CHECKSUM = rule(
    "CAR-004", Reason.CARRIER_ADDRESS_CHECKSUM,
    "An address's last 2 bytes are the XOR checksum of its first 36: checksum[i % 2] ^= byte[i].",
    suite="carrier", upstream="address_checksum / is_valid_address (Carrier v1), Tox address format",
)


def node_id_of(seed: bytes) -> bytes:
    """The node id (Ed25519 public key) of a 32-byte Ed25519 seed."""
    return curve25519.ed25519_public_key(seed)


def x25519_private_of(seed: bytes) -> bytes:
    """The X25519 private key of a node (``crypto_sign_ed25519_sk_to_curve25519``)."""
    return _sodium.crypto_sign_ed25519_sk_to_curve25519(seed + node_id_of(seed))


def x25519_public_of(node_id: bytes) -> bytes:
    """The X25519 public key of a node id; rejects an id that is not a usable Ed25519 key."""
    # [CAR-001] a node id is 32 bytes
    if len(node_id) != NODE_ID_SIZE:
        raise Reject(Reason.CARRIER_ID_INVALID, "CAR-001", f"{len(node_id)} bytes")
    y = (int.from_bytes(node_id, "little") & ((1 << 255) - 1)) % curve25519.ED25519_P
    try:
        converted = None if y in curve25519.SMALL_ORDER_Y else _sodium.crypto_sign_ed25519_pk_to_curve25519(node_id)
    except _SodiumError:
        converted = None
    # [CAR-002] the id decodes to an Ed25519 point of the prime-order subgroup
    if converted is None:
        raise Reject(Reason.CARRIER_ID_NOT_ED25519, "CAR-002", "not a usable Ed25519 public key")
    return converted


def address_checksum(body: bytes) -> bytes:
    """Tox's 2-byte XOR checksum of the 36 bytes ``node_id || nospam``."""
    check = bytearray(CHECKSUM_SIZE)
    for i, b in enumerate(body):
        check[i % CHECKSUM_SIZE] ^= b
    return bytes(check)


def make_address(node_id: bytes, nospam: bytes) -> str:
    """The base58 address of a node id and a 4-byte nospam."""
    # [CAR-001] a node id is 32 bytes
    if len(node_id) != NODE_ID_SIZE:
        raise Reject(Reason.CARRIER_ID_INVALID, "CAR-001", f"{len(node_id)} bytes")
    # [CAR-003] an address holds a 4-byte nospam
    if len(nospam) != NOSPAM_SIZE:
        raise Reject(Reason.CARRIER_ADDRESS_INVALID, "CAR-003", f"nospam of {len(nospam)} bytes")
    body = node_id + nospam
    return b58encode(body + address_checksum(body))


def _decode_id(text: str) -> bytes:
    # [CAR-001] at most 45 characters
    if len(text) > MAX_ID_TEXT:
        raise DecodeError(Reason.CARRIER_ID_INVALID, "CAR-001", f"{len(text)} characters")
    raw = b58decode(text)
    # [CAR-001] the text decodes to exactly 32 bytes
    if len(raw) != NODE_ID_SIZE:
        raise DecodeError(Reason.CARRIER_ID_INVALID, "CAR-001", f"decodes to {len(raw)} bytes")
    return raw


def _decode_address(text: str) -> tuple[bytes, bytes]:
    # [CAR-003] at most 52 characters
    if len(text) > MAX_ADDRESS_TEXT:
        raise DecodeError(Reason.CARRIER_ADDRESS_INVALID, "CAR-003", f"{len(text)} characters")
    raw = b58decode(text)
    # [CAR-003] the text decodes to exactly 38 bytes
    if len(raw) != ADDRESS_SIZE:
        raise DecodeError(Reason.CARRIER_ADDRESS_INVALID, "CAR-003", f"decodes to {len(raw)} bytes")
    body, check = raw[:-CHECKSUM_SIZE], raw[-CHECKSUM_SIZE:]
    # [CAR-004] the last 2 bytes are the XOR checksum of the first 36
    if address_checksum(body) != check:
        raise DecodeError(Reason.CARRIER_ADDRESS_CHECKSUM, "CAR-004",
                          f"checksum {check.hex()}, computed {address_checksum(body).hex()}")
    return body[:NODE_ID_SIZE], body[NODE_ID_SIZE:]


def parse_v1_user_id(text: str) -> bytes:
    """Compatibility codec: a Carrier v1 user id (any 32-byte base58 value, as ``carrier_id_is_valid``)."""
    return _decode_id(text)


def parse_v1_address(text: str) -> tuple[bytes, bytes]:
    """Compatibility codec: ``(user_id, nospam)`` of a Carrier v1 address (``is_valid_address``)."""
    return _decode_address(text)


def parse_node_id(text: str) -> bytes:
    """Safe codec: a node id that is a usable Ed25519 public key."""
    node_id = _decode_id(text)
    x25519_public_of(node_id)
    return node_id


def parse_address(text: str) -> tuple[bytes, bytes]:
    """Safe codec: ``(node_id, nospam)`` of an address whose node id is a usable Ed25519 key."""
    node_id, nospam = _decode_address(text)
    x25519_public_of(node_id)
    return node_id, nospam


def v2_pair_nonce(node_a: bytes, node_b: bytes) -> bytes:
    """Compatibility only: Carrier v2's fixed nonce for every packet between two nodes.

    The first 24 bytes of ``x25519(a) XOR x25519(b)`` (``CryptoContext`` in Carrier.Native and
    Carrier.Java). It is symmetric in ``a`` and ``b`` and never changes, so one key and one nonce
    encrypt every packet of a pair: the spec's DHT uses a fresh nonce per packet instead.
    """
    xa, xb = x25519_public_of(node_a), x25519_public_of(node_b)
    return bytes(p ^ q for p, q in zip(xa, xb))[:24]
