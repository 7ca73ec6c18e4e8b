"""Carrier sessions: a Noise handshake that carries DID bindings, then counted transport frames.

Handshake
---------

``Noise_XX_25519_ChaChaPoly_SHA256`` by default; ``Noise_IK_25519_ChaChaPoly_SHA256`` when the
initiator dials an address, whose node id gives the responder's static key in advance. Prologue
``elastos-carrier/1``. Static keys are the X25519 forms of the node keys
(:func:`spec.carrier.identity.x25519_private_of`); ephemeral keys are parameters.

==========  ==========================  ==========================================================
pattern     message                     payload
==========  ==========================  ==========================================================
XX          1  -> e                     empty (nothing is encrypted yet)
XX          2  <- e, ee, s, es          the responder's binding (CBOR, :mod:`spec.carrier.binding`)
XX          3  -> s, se                 the initiator's binding
IK          1  -> e, es, s, ss          the initiator's binding
IK          2  <- e, ee, se             the responder's binding
==========  ==========================  ==========================================================

A party accepts its peer (:func:`accept_peer`) only when the binding verifies at ``now`` against
the resolver **and** the peer's Noise static key is the X25519 form of the bound node id (and,
when the caller dialled a node, that node). A session that has not accepted its peer carries
nothing.

Transport
---------

After ``Split`` each direction has a cipher state. A frame is ``counter (u64 big-endian) ||
ChaChaPoly(k, counter, "", plaintext)``: the counter is the Noise nonce, sent explicitly so that
the receiver can say *why* a frame is refused. Sessions run over a reliable stream, so the
receiver accepts exactly the next counter: a lower one is a replay, a higher one a reordering or
a loss. Both directions **rekey** (Noise ``Rekey``) before the frames whose counter is a positive
multiple of ``rekey_interval``; the counter keeps running.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Final

from spec.carrier import binding as B
from spec.carrier import identity, noise
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason, Reject, rule

__all__ = [
    "PROLOGUE",
    "DEFAULT_REKEY_INTERVAL",
    "COUNTER_SIZE",
    "MAX_FRAME_PLAINTEXT",
    "binding_payload",
    "start_handshake",
    "accept_peer",
    "TransportState",
    "transport_pair",
    "seal_frame",
    "open_frame",
    "seal_frames",
    "open_frames",
]

PROLOGUE: Final = b"elastos-carrier/1"
DEFAULT_REKEY_INTERVAL: Final = 1 << 20
COUNTER_SIZE: Final = 8
KEY_SIZE: Final = 32
"""A cipher key (ChaChaPoly's, as Noise's Split and Rekey make them)."""
MAX_FRAME_PLAINTEXT: Final = noise.MAX_MESSAGE - noise.TAGLEN

R_PEER = rule(
    "CAR-016", Reason.SESSION_PEER_MISMATCH,
    "A session peer's Noise static key is the X25519 form of the node id its binding names, and that node "
    "is the one dialled (when one was).",
    suite="carrier",
    note="Deviation: upstream Carrier authenticates Tox keys only and binds no DID to them.",
)
R_FRAME = rule(
    "CAR-017", Reason.TRANSPORT_FRAME_MALFORMED,
    "A transport frame is an 8-byte counter and a ciphertext of 16 to 65535 bytes.",
    suite="carrier",
)
R_REPLAY = rule(
    "CAR-018", Reason.TRANSPORT_REPLAY,
    "A transport frame's counter is not below the receiver's next counter.",
    suite="carrier",
)
R_REORDER = rule(
    "CAR-019", Reason.TRANSPORT_REORDER,
    "A transport frame's counter is not above the receiver's next counter.",
    suite="carrier",
)


def binding_payload(b: B.Binding) -> bytes:
    """The handshake payload that carries a binding."""
    return cbor_encode(B.binding_to_cbor(b))


def start_handshake(pattern: str, initiator: bool, node_seed: bytes, ephemeral: bytes,
                    remote_node: bytes | None = None) -> noise.HandshakeState:
    """A Carrier handshake state; ``remote_node`` is the responder's node id (needed for IK)."""
    rs = identity.x25519_public_of(remote_node) if remote_node is not None else None
    return noise.initialize(pattern, initiator, PROLOGUE, s=identity.x25519_private_of(node_seed),
                            e=ephemeral, rs=rs if initiator else None)


def accept_peer(hs: noise.HandshakeState, payload: bytes, resolve: B.CarrierResolver, now: int,
                expected_node: bytes | None = None) -> B.Binding:
    """Verify the peer's binding read from a handshake payload; returns it."""
    b = B.binding_from_cbor(cbor_decode(payload))
    node_id = B.verify_binding(b, resolve, now)
    static_ok = hs.rs is not None and hs.rs == identity.x25519_public_of(node_id)
    # [CAR-016] the peer's static key is its bound node's, and the node is the one dialled
    if not static_ok or (expected_node is not None and node_id != expected_node):
        raise Reject(Reason.SESSION_PEER_MISMATCH, "CAR-016", "peer key is not the bound (or dialled) node's")
    return b


class TransportState(tuple[bytes, int, int]):
    """One direction of a session: its key ``k``, the next counter ``n`` and the rekey interval.

    An immutable value, the tuple ``(k, n, rekey_interval)``: every frame sealed or opened makes a
    new state, and a tuple is made in a tenth of the time a validated model takes (the Carrier
    benchmark's 1 KiB messages make four per message and receipt). The constructor checks every
    field; :func:`seal_frames` and :func:`open_frames` make the next state from the key and counter
    they computed (:func:`_transport`), which cannot be out of range."""

    __slots__ = ()

    def __new__(cls, cipher: noise.CipherState, rekey_interval: int = DEFAULT_REKEY_INTERVAL) -> TransportState:
        k, n = cipher.k, cipher.n
        if type(k) is not bytes or len(k) != KEY_SIZE:
            raise ValueError(f"a transport state's key is {KEY_SIZE} bytes")
        if type(n) is not int or not 0 <= n <= noise.MAX_NONCE:
            raise ValueError("a transport state's counter is a u64")
        if type(rekey_interval) is not int or rekey_interval < 1:
            raise ValueError("a transport state's rekey interval is a positive integer")
        return tuple.__new__(cls, (k, n, rekey_interval))

    k = property(itemgetter(0), doc="The key of the last counter used (rekeyed as the counter runs).")
    n = property(itemgetter(1), doc="The next counter: the Noise nonce of the next frame.")
    rekey_interval = property(itemgetter(2), doc="Both ends rekey before every counter that is a positive "
                                                 "multiple of this.")

    @property
    def cipher(self) -> noise.CipherState:
        """The Noise cipher state ``(k, n)``."""
        return noise.CipherState(k=self[0], n=self[1])

    def __repr__(self) -> str:
        return f"TransportState(k={self[0].hex()}, n={self[1]}, rekey_interval={self[2]})"


def _transport(k: bytes, n: int, interval: int) -> TransportState:
    """The state after frames were sealed or opened: ``k`` and ``n`` are computed from a checked
    state (a key the cipher made, a counter one above a usable nonce), so they are not checked again."""
    return _tuple_new(TransportState, (k, n, interval))


_tuple_new = tuple.__new__


def transport_pair(hs: noise.HandshakeState, rekey_interval: int = DEFAULT_REKEY_INTERVAL) -> tuple[TransportState, TransportState]:
    """``(send, receive)`` transport states of a party whose handshake is finished."""
    c1, c2 = noise.split(hs)
    send, recv = (c1, c2) if hs.initiator else (c2, c1)
    return TransportState(send, rekey_interval), TransportState(recv, rekey_interval)


def _key_for(k: bytes, n: int, interval: int) -> bytes:
    """The key of counter ``n`` given the key of counter ``n - 1`` (a rekey at every positive multiple)."""
    return noise.rekey_key(k) if n > 0 and n % interval == 0 else k


def seal_frames(ts: TransportState, plaintexts: list[bytes]) -> tuple[TransportState, list[bytes]]:
    """The next frames of a direction, one per plaintext (as many :func:`seal_frame` calls)."""
    k, n, interval = ts
    frames = []
    for plaintext in plaintexts:
        # [CAR-020] a transport message is at most 65535 bytes
        if len(plaintext) > MAX_FRAME_PLAINTEXT:
            raise Reject(Reason.NOISE_MESSAGE_LENGTH, "CAR-020", f"{len(plaintext)} bytes of plaintext")
        k = _key_for(k, n, interval)
        frames.append(n.to_bytes(COUNTER_SIZE, "big") + noise.encrypt_at(k, n, b"", plaintext))
        n += 1
    return _transport(k, n, interval), frames


def seal_frame(ts: TransportState, plaintext: bytes) -> tuple[TransportState, bytes]:
    """The next frame of a direction."""
    ts, (frame,) = seal_frames(ts, [plaintext])
    return ts, frame


def _open_one(k: bytes, n: int, interval: int, frame: bytes | memoryview) -> tuple[bytes, bytes]:
    """The key after the frame of counter ``n`` and its plaintext."""
    # [CAR-017] counter and a ciphertext of 16 to 65535 bytes
    if not COUNTER_SIZE + noise.TAGLEN <= len(frame) <= COUNTER_SIZE + noise.MAX_MESSAGE:
        raise Reject(Reason.TRANSPORT_FRAME_MALFORMED, "CAR-017", f"{len(frame)} bytes")
    counter = int.from_bytes(frame[:COUNTER_SIZE], "big")
    # [CAR-018] not below the next counter (a replay)
    if counter < n:
        raise Reject(Reason.TRANSPORT_REPLAY, "CAR-018", f"counter {counter}, expected {n}")
    # [CAR-019] not above the next counter (reordered or lost frames)
    if counter > n:
        raise Reject(Reason.TRANSPORT_REORDER, "CAR-019", f"counter {counter}, expected {n}")
    k = _key_for(k, n, interval)
    return k, noise.decrypt_at(k, n, b"", frame[COUNTER_SIZE:])


def open_frames(ts: TransportState, frames: Sequence[bytes | memoryview]) -> tuple[TransportState, list[bytes], Reject | None]:
    """Accept frames in order, as many :func:`open_frame` calls, up to the first refused one:
    ``(state after the accepted frames, their plaintexts, the refusal or None)``. A frame may be a
    view of a larger buffer (a socket read holding many); it is read, not kept."""
    k, n, interval = ts
    out: list[bytes] = []
    error = None
    for frame in frames:
        try:
            k, pt = _open_one(k, n, interval, frame)
        except Reject as e:
            error = e
            break
        out.append(pt)
        n += 1
    if not out:
        return ts, out, error
    return _transport(k, n, interval), out, error


def open_frame(ts: TransportState, frame: bytes) -> tuple[TransportState, bytes]:
    """Accept the next frame of a direction; a refused frame changes nothing."""
    ts, out, error = open_frames(ts, [frame])
    if error is not None:
        raise error
    return ts, out[0]
