"""DHT datagrams and stored values.

Datagram
--------

::

    packet = sender_id[32] || nonce[24] || crypto_box_afternm(CBOR message, nonce, k)
    k      = crypto_box_beforenm(receiver_x25519_pk, sender_x25519_sk)     (X25519 + XSalsa20-Poly1305)

The CBOR message is a DHT message of :mod:`spec.carrier.messages`. A packet is at most 5120 bytes
(Carrier v2 ``RECEIVE_BUFFER_SIZE``).

**Deviation** from Carrier v2, which sends no nonce and uses the fixed
:func:`spec.carrier.identity.v2_pair_nonce` for every packet of a pair (one key and one nonce for
all of them: the XOR of any two plaintexts leaks, and Poly1305's one-time key is reused, which
allows forgeries): here every packet carries a **fresh 24-byte nonce** (a parameter of
:func:`seal_packet`; a node draws it at random), and a receiver refuses a nonce it has already
seen from the same sender (:class:`NonceCache`).

Values
------

An **immutable** value's id is ``SHA-256(data)``. A **mutable** value has an owner key ``k``
(Ed25519), a nonce ``n`` (24 bytes), a sequence number ``seq`` and a signature; its id is
``SHA-256(k || n)`` and the signature covers ``[rec ||] n || seq (u32 big-endian) || data``.
A store keeps, per id, the value with the highest sequence number: a new mutable value must
have a higher ``seq`` than the stored one, the same owner and recipient, and, when the request
carries ``cas``, the stored value's ``seq`` must equal it.

Peers
-----

A node announces **itself** as a peer: ``announce_peer`` names its own id as target ``t``, its
session (TCP) port ``p``, and carries its Ed25519 signature of ``node_id || port (u16 BE)``. A
receiver records the peer with the address the datagram came from.
"""

from __future__ import annotations

import hashlib
from typing import Final

from nacl import bindings as _sodium
from nacl.exceptions import CryptoError as _SodiumCryptoError
from pydantic import BaseModel, ConfigDict

from spec.carrier import identity, messages
from spec.crypto import curve25519
from spec.errors import Reason, Reject, rule

__all__ = [
    "NONCE_SIZE",
    "MAC_SIZE",
    "MAX_PACKET",
    "seal_packet",
    "open_packet",
    "NonceCache",
    "remember_nonce",
    "Value",
    "value_id",
    "value_signed_bytes",
    "sign_value",
    "check_value",
    "ValueStore",
    "store_value",
    "peer_signed_bytes",
    "sign_announce",
    "check_announce",
]

NONCE_SIZE: Final = 24
MAC_SIZE: Final = 16
MAX_PACKET: Final = 5 * 1024
NONCE_CACHE_SIZE: Final = 4096

R_PACKET = rule(
    "CAR-040", Reason.DHT_PACKET_MALFORMED,
    "A DHT packet is sender id (32), nonce (24) and a box of at least its 16-byte tag, 5120 bytes at most.",
    suite="carrier", upstream="Carrier v2 RECEIVE_BUFFER_SIZE 5 KiB; rpcserver.cc receive",
)
R_DECRYPT = rule(
    "CAR-041", Reason.DHT_PACKET_DECRYPT,
    "A DHT packet's box opens with the key of sender and receiver and the packet's nonce.",
    suite="carrier", upstream="CryptoBox::decrypt (crypto_box_open_easy_afternm)",
    note="Deviation: Carrier v2 sends no nonce and derives one fixed nonce per peer pair "
    "(CryptoContext); the spec carries a fresh nonce in every packet.",
)
R_NONCE = rule(
    "CAR-042", Reason.DHT_NONCE_REPLAY,
    "A receiver accepts a nonce from a sender once (among the last 4096 nonces it remembers).",
    suite="carrier",
    note="Deviation: Carrier v2 reuses one nonce for every packet between two peers.",
)
R_VALUE_ID = rule(
    "CAR-043", Reason.DHT_VALUE_ID,
    "A value found for a target has that target as its id: SHA-256(data) if immutable, SHA-256(k || n) if mutable.",
    suite="carrier", upstream="Carrier v2 Value::calculateId (value.cc)",
)
R_VALUE_SIG = rule(
    "CAR-044", Reason.DHT_VALUE_SIGNATURE,
    "A mutable value's signature is the owner's Ed25519 signature of [rec ||] n || seq (u32 BE) || data.",
    suite="carrier", upstream="Carrier v2 Value::isValid (value.cc), Java Value.java",
    note="Quirk: Carrier.Native writes seq in host (little-endian) order, Carrier.Java big-endian; the spec "
    "takes big-endian, as Java.",
)
R_SEQ = rule(
    "CAR-045", Reason.DHT_VALUE_SEQUENCE,
    "A mutable value replaces a stored one only with a higher seq (storing the identical value again is a no-op).",
    suite="carrier", upstream="Java kademlia/exceptions/SequenceNotMonotonic",
    note="Deviation: Carrier.Java accepts an equal seq with different data; the spec requires a rise.",
)
R_CAS = rule(
    "CAR-046", Reason.DHT_VALUE_CAS,
    "A store with cas succeeds only when a value is stored under the id and its seq equals cas.",
    suite="carrier", upstream="Java kademlia/exceptions/CasFail",
)
R_OWNER = rule(
    "CAR-047", Reason.DHT_VALUE_OWNER,
    "A mutable value replaces a stored one only with the same owner key and recipient.",
    suite="carrier", upstream="Java kademlia/exceptions/NotValueOwner",
)


R_ANNOUNCE = rule(
    "CAR-048", Reason.DHT_PEER_SIGNATURE,
    "An announce_peer names its sender as target and carries the sender's Ed25519 signature of "
    "node_id || port (u16 big-endian).",
    suite="carrier", upstream="Carrier v2 PeerInfo signature (peer_info.cc: nodeId || origin || port || url)",
    note="Deviation: Carrier v2 lets a node announce a peer for another origin and signs nodeId || origin "
    "|| port || alternative URL; the spec's node announces only itself (origin = node), without a URL.",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# -- packets --------------------------------------------------------------------------------------


def _shared(seed: bytes, peer_id: bytes) -> bytes:
    return _sodium.crypto_box_beforenm(identity.x25519_public_of(peer_id), identity.x25519_private_of(seed))


def seal_packet(sender_seed: bytes, receiver_id: bytes, nonce: bytes, message: bytes) -> bytes:
    """A DHT packet carrying an encoded DHT message; ``nonce`` must be fresh (a parameter)."""
    messages.decode_message("dht", message)
    # [CAR-040] a 24-byte nonce
    if len(nonce) != NONCE_SIZE:
        raise Reject(Reason.DHT_PACKET_MALFORMED, "CAR-040", f"nonce of {len(nonce)} bytes")
    box = _sodium.crypto_box_easy_afternm(message, nonce, _shared(sender_seed, receiver_id))
    packet = identity.node_id_of(sender_seed) + nonce + box
    # [CAR-040] at most 5120 bytes
    if len(packet) > MAX_PACKET:
        raise Reject(Reason.DHT_PACKET_MALFORMED, "CAR-040", f"{len(packet)} bytes")
    return packet


def open_packet(receiver_seed: bytes, packet: bytes) -> tuple[bytes, bytes, str, dict]:  # type: ignore[type-arg]
    """``(sender_id, nonce, kind, message)`` of a packet addressed to ``receiver_seed``'s node."""
    size_ok = identity.NODE_ID_SIZE + NONCE_SIZE + MAC_SIZE <= len(packet) <= MAX_PACKET
    # [CAR-040] sender id, nonce and at least a tag; at most 5120 bytes
    if not size_ok:
        raise Reject(Reason.DHT_PACKET_MALFORMED, "CAR-040", f"{len(packet)} bytes")
    sender = packet[:32]
    nonce = packet[32:32 + NONCE_SIZE]
    key = _shared(receiver_seed, sender)
    try:
        plain = _sodium.crypto_box_open_easy_afternm(packet[32 + NONCE_SIZE:], nonce, key)
    except _SodiumCryptoError:
        # [CAR-041] the box opens
        raise Reject(Reason.DHT_PACKET_DECRYPT, "CAR-041", "box does not open") from None
    kind, message = messages.decode_message("dht", plain)
    return sender, nonce, kind, message


class NonceCache(_Model):
    """The (sender, nonce) pairs a receiver has accepted, oldest first, at most ``capacity``."""

    seen: tuple[bytes, ...] = ()
    capacity: int = NONCE_CACHE_SIZE


def remember_nonce(cache: NonceCache, sender: bytes, nonce: bytes) -> NonceCache:
    """Accept a packet's nonce once; the oldest pairs are forgotten beyond the capacity."""
    key = sender + nonce
    # [CAR-042] a nonce from a sender is accepted once
    if key in cache.seen:
        raise Reject(Reason.DHT_NONCE_REPLAY, "CAR-042", f"nonce {nonce.hex()} seen before")
    seen = (cache.seen + (key,))[-cache.capacity:]
    return cache.model_copy(update={"seen": seen})


# -- values ---------------------------------------------------------------------------------------


class Value(_Model):
    """A DHT value; ``public_key``, ``nonce`` and ``signature`` are present exactly when mutable."""

    data: bytes
    public_key: bytes | None = None
    nonce: bytes | None = None
    seq: int = 0
    signature: bytes | None = None
    recipient: bytes | None = None

    @property
    def mutable(self) -> bool:
        return self.public_key is not None


def value_id(v: Value) -> bytes:
    if v.mutable:
        assert v.public_key is not None and v.nonce is not None
        return hashlib.sha256(v.public_key + v.nonce).digest()
    return hashlib.sha256(v.data).digest()


def value_signed_bytes(v: Value) -> bytes:
    assert v.nonce is not None
    return (v.recipient or b"") + v.nonce + v.seq.to_bytes(4, "big") + v.data


def sign_value(owner_seed: bytes, nonce: bytes, seq: int, data: bytes, recipient: bytes | None = None) -> Value:
    """A mutable value signed by its owner."""
    unsigned = Value(data=data, public_key=identity.node_id_of(owner_seed), nonce=nonce, seq=seq, recipient=recipient)
    return unsigned.model_copy(update={"signature": curve25519.ed25519_sign(owner_seed, value_signed_bytes(unsigned))})


def check_value(v: Value, target: bytes | None = None) -> bytes:
    """Verify a value (and that it is the one asked for, when ``target`` is given); returns its id."""
    vid = value_id(v)
    # [CAR-043] a value found for a target has that id
    if target is not None and vid != target:
        raise Reject(Reason.DHT_VALUE_ID, "CAR-043", f"id {vid.hex()}, asked for {target.hex()}")
    if v.mutable:
        assert v.public_key is not None and v.signature is not None
        try:
            curve25519.ed25519_verify(v.public_key, value_signed_bytes(v), v.signature)
        except Reject:
            # [CAR-044] the owner signed [rec ||] n || seq || data
            raise Reject(Reason.DHT_VALUE_SIGNATURE, "CAR-044", "value signature does not verify") from None
    return vid


class ValueStore(_Model):
    """The values a node stores, by id."""

    values: tuple[tuple[bytes, Value], ...] = ()

    def get(self, vid: bytes) -> Value | None:
        return next((v for k, v in self.values if k == vid), None)


def store_value(store: ValueStore, v: Value, cas: int | None = None) -> ValueStore:
    """``store_value``: the new store, or a rejection."""
    vid = check_value(v)
    old = store.get(vid)
    if v.mutable:
        # [CAR-046] cas names the stored seq
        if cas is not None and (old is None or old.seq != cas):
            raise Reject(Reason.DHT_VALUE_CAS, "CAR-046", f"cas {cas}, stored {None if old is None else old.seq}")
        if old is not None and old != v:
            # [CAR-047] the same owner and recipient
            if old.public_key != v.public_key or old.recipient != v.recipient:
                raise Reject(Reason.DHT_VALUE_OWNER, "CAR-047", "owner or recipient differs")
            # [CAR-045] seq rises
            if v.seq <= old.seq:
                raise Reject(Reason.DHT_VALUE_SEQUENCE, "CAR-045", f"seq {v.seq}, stored {old.seq}")
    if old == v:
        return store
    rest = tuple((k, x) for k, x in store.values if k != vid)
    return store.model_copy(update={"values": tuple(sorted(rest + ((vid, v),), key=lambda kv: kv[0]))})


# -- peers ----------------------------------------------------------------------------------------


def peer_signed_bytes(node_id: bytes, port: int) -> bytes:
    return node_id + port.to_bytes(2, "big")


def sign_announce(seed: bytes, port: int, token: int) -> dict[str, object]:
    """The body of a node's ``announce_peer`` request for itself."""
    node_id = identity.node_id_of(seed)
    return {"t": node_id, "p": port, "tok": token, "sig": curve25519.ed25519_sign(seed, peer_signed_bytes(node_id, port))}


def check_announce(sender: bytes, body: dict) -> None:  # type: ignore[type-arg]
    """Check the body of an ``announce_peer`` request received from ``sender``."""
    # [CAR-048] a node announces itself
    if body["t"] != sender:
        raise Reject(Reason.DHT_PEER_SIGNATURE, "CAR-048", "announce for another node")
    try:
        curve25519.ed25519_verify(sender, peer_signed_bytes(sender, body["p"]), body["sig"])
    except Reject:
        # [CAR-048] signed by the sender
        raise Reject(Reason.DHT_PEER_SIGNATURE, "CAR-048", "announce signature does not verify") from None
