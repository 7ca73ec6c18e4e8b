"""The Noise Protocol Framework (revision 34) for the handshakes Carrier sessions use.

Implemented as the Noise specification §5 defines them, as values: every operation takes a state
and returns the new state (and its output). The spec makes no keys: static keys and the ephemeral
key a party will use are parameters of :func:`initialize`.

======================  ========================================================================
name                    choice
======================  ========================================================================
DH                      ``25519`` (X25519, ``DHLEN`` 32; an all-zero result is rejected [CRY-013])
cipher                  ``ChaChaPoly`` (ChaCha20-Poly1305 IETF, nonce = 4 zero bytes || n as u64 LE)
hash                    ``SHA256`` or ``BLAKE2s`` (``HASHLEN`` 32, ``BLOCKLEN`` 64)
patterns                ``XX`` and ``IK`` (§7.5)
======================  ========================================================================

Pattern tokens::

    XX:  -> e
         <- e, ee, s, es
         -> s, se

    IK:  <- s
         ...
         -> e, es, s, ss
         <- e, ee, se

Checked against the published vectors of ``mcginty/snow`` (``tests/data/noise/``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pydantic import BaseModel, ConfigDict

from spec.crypto import curve25519
from spec.errors import Reason, Reject, rule

__all__ = [
    "DHLEN",
    "HASHLEN",
    "TAGLEN",
    "MAX_MESSAGE",
    "PATTERNS",
    "CipherState",
    "SymmetricState",
    "HandshakeState",
    "encrypt_with_ad",
    "decrypt_with_ad",
    "rekey",
    "encrypt_at",
    "decrypt_at",
    "rekey_key",
    "initialize",
    "write_message",
    "read_message",
    "split",
    "is_finished",
    "protocol_name",
]

DHLEN: Final = 32
HASHLEN: Final = 32
TAGLEN: Final = 16
MAX_MESSAGE: Final = 65535
MAX_NONCE: Final = 2**64 - 1
"""Reserved (§5.1): a cipher state whose ``n`` reaches it can encrypt no more."""

PATTERNS: Final[dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]] = {
    # name: (responder pre-message tokens, message patterns)
    "XX": ((), (("e",), ("e", "ee", "s", "es"), ("s", "se"))),
    "IK": (("s",), (("e", "es", "s", "ss"), ("e", "ee", "se"))),
}
HASHES: Final = {"SHA256": hashlib.sha256, "BLAKE2s": hashlib.blake2s}

R_LENGTH = rule(
    "CAR-020", Reason.NOISE_MESSAGE_LENGTH,
    "A Noise message is at most 65535 bytes and holds every public key and tag its tokens need.",
    suite="carrier", upstream="Noise §3 (maximum message length), §5.3 ReadMessage",
)
R_DECRYPT = rule(
    "CAR-021", Reason.NOISE_DECRYPT_FAILED,
    "A Noise ciphertext's ChaCha20-Poly1305 tag verifies under the key, nonce and associated data (h).",
    suite="carrier", upstream="Noise §5.1 DecryptWithAd",
)
R_TURN = rule(
    "CAR-022", Reason.NOISE_OUT_OF_TURN,
    "Handshake messages alternate as the pattern says, starting with the initiator; none follows the last.",
    suite="carrier", upstream="Noise §5.3 WriteMessage/ReadMessage",
)
R_NONCE = rule(
    "CAR-023", Reason.NOISE_NONCE_EXHAUSTED,
    "A cipher state never uses the nonce 2^64-1.",
    suite="carrier", upstream="Noise §5.1 (nonce 2^64-1 is reserved)",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class CipherState(_Model):
    """``k`` (absent before the first ``MixKey``) and the nonce ``n``."""

    k: bytes | None = None
    n: int = 0


class SymmetricState(_Model):
    """The cipher state, the chaining key ``ck`` and the handshake hash ``h``."""

    cipher: CipherState
    ck: bytes
    h: bytes
    hash_name: str


class HandshakeState(_Model):
    """One party's handshake: its keys, the peer's keys learnt so far, and the next message index."""

    symmetric: SymmetricState
    pattern: str
    initiator: bool
    s: bytes | None
    """Own static private key."""
    e: bytes | None
    """The ephemeral private key this party writes (a parameter, fixed at :func:`initialize`)."""
    rs: bytes | None = None
    re: bytes | None = None
    index: int = 0
    """The next message pattern to write or read."""


# -- primitives -------------------------------------------------------------------------------------


def _hash(name: str, data: bytes) -> bytes:
    return HASHES[name](data).digest()


def _hmac(name: str, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, HASHES[name]).digest()


def _hkdf(name: str, ck: bytes, ikm: bytes, outputs: int) -> tuple[bytes, ...]:
    temp = _hmac(name, ck, ikm)
    out1 = _hmac(name, temp, b"\x01")
    out2 = _hmac(name, temp, out1 + b"\x02")
    if outputs == 2:
        return out1, out2
    return out1, out2, _hmac(name, temp, out2 + b"\x03")


def _nonce(n: int) -> bytes:
    return b"\x00" * 4 + n.to_bytes(8, "little")


def _dh(private: bytes, public: bytes) -> bytes:
    return curve25519.x25519_shared(private, public)


def _public(private: bytes) -> bytes:
    return curve25519.x25519_public_key(private)


# -- CipherState (§5.1) ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _aead(k: bytes) -> ChaCha20Poly1305:
    """The AEAD object of a key (a pure function of the key, kept while the key is in use)."""
    return ChaCha20Poly1305(k)


def _check_n(n: int) -> None:
    # [CAR-023] the nonce 2^64-1 is never used
    if n >= MAX_NONCE:
        raise Reject(Reason.NOISE_NONCE_EXHAUSTED, "CAR-023", "cipher state exhausted")


def encrypt_at(k: bytes, n: int, ad: bytes, plaintext: bytes) -> bytes:
    """``ENCRYPT(k, n, ad, plaintext)`` of a keyed cipher state at nonce ``n`` (checked, not advanced)."""
    _check_n(n)
    return _aead(k).encrypt(_nonce(n), plaintext, ad)


def decrypt_at(k: bytes, n: int, ad: bytes, ciphertext: bytes | memoryview) -> bytes:
    """``DECRYPT(k, n, ad, ciphertext)``; a bad tag is rejected."""
    _check_n(n)
    try:
        return _aead(k).decrypt(_nonce(n), ciphertext, ad)
    except InvalidTag:
        # [CAR-021] the ciphertext's tag verifies
        raise Reject(Reason.NOISE_DECRYPT_FAILED, "CAR-021", f"bad tag at nonce {n}") from None


def encrypt_with_ad(cs: CipherState, ad: bytes, plaintext: bytes) -> tuple[CipherState, bytes]:
    """``EncryptWithAd``: the plaintext unchanged while there is no key."""
    if cs.k is None:
        return cs, plaintext
    ct = encrypt_at(cs.k, cs.n, ad, plaintext)
    return cs.model_copy(update={"n": cs.n + 1}), ct


def decrypt_with_ad(cs: CipherState, ad: bytes, ciphertext: bytes) -> tuple[CipherState, bytes]:
    """``DecryptWithAd``: on a bad tag nothing changes and the message is rejected."""
    if cs.k is None:
        return cs, ciphertext
    pt = decrypt_at(cs.k, cs.n, ad, ciphertext)
    return cs.model_copy(update={"n": cs.n + 1}), pt


def rekey_key(k: bytes) -> bytes:
    """The key after ``Rekey`` (§4.2, §11.3): ``ENCRYPT(k, 2^64-1, "", zeros(32))[:32]``."""
    return _aead(k).encrypt(_nonce(MAX_NONCE), bytes(32), b"")[:32]


def rekey(cs: CipherState) -> CipherState:
    """``Rekey``: the key replaced by :func:`rekey_key`; ``n`` is kept."""
    assert cs.k is not None
    return cs.model_copy(update={"k": rekey_key(cs.k)})


# -- SymmetricState (§5.2) --------------------------------------------------------------------------


def protocol_name(pattern: str, hash_name: str) -> str:
    return f"Noise_{pattern}_25519_ChaChaPoly_{hash_name}"


def _init_symmetric(name: str, hash_name: str) -> SymmetricState:
    raw = name.encode("ascii")
    h = raw + bytes(HASHLEN - len(raw)) if len(raw) <= HASHLEN else _hash(hash_name, raw)
    return SymmetricState(cipher=CipherState(), ck=h, h=h, hash_name=hash_name)


def _mix_key(ss: SymmetricState, ikm: bytes) -> SymmetricState:
    ck, temp_k = _hkdf(ss.hash_name, ss.ck, ikm, 2)
    return ss.model_copy(update={"ck": ck, "cipher": CipherState(k=temp_k[:32], n=0)})


def _mix_hash(ss: SymmetricState, data: bytes) -> SymmetricState:
    return ss.model_copy(update={"h": _hash(ss.hash_name, ss.h + data)})


def _encrypt_and_hash(ss: SymmetricState, plaintext: bytes) -> tuple[SymmetricState, bytes]:
    cs, ct = encrypt_with_ad(ss.cipher, ss.h, plaintext)
    return _mix_hash(ss.model_copy(update={"cipher": cs}), ct), ct


def _decrypt_and_hash(ss: SymmetricState, ciphertext: bytes) -> tuple[SymmetricState, bytes]:
    cs, pt = decrypt_with_ad(ss.cipher, ss.h, ciphertext)
    return _mix_hash(ss.model_copy(update={"cipher": cs}), ciphertext), pt


def split(hs: HandshakeState) -> tuple[CipherState, CipherState]:
    """``Split``: (initiator-to-responder, responder-to-initiator) cipher states."""
    k1, k2 = _hkdf(hs.symmetric.hash_name, hs.symmetric.ck, b"", 2)
    return CipherState(k=k1[:32]), CipherState(k=k2[:32])


# -- HandshakeState (§5.3) -------------------------------------------------------------------------


def initialize(pattern: str, initiator: bool, prologue: bytes, *, s: bytes | None, e: bytes,
               rs: bytes | None = None, hash_name: str = "SHA256") -> HandshakeState:
    """``Initialize``: ``s`` own static private key, ``e`` the ephemeral private key to write,
    ``rs`` the responder's static public key (the initiator of IK knows it in advance)."""
    pre, _ = PATTERNS[pattern]
    ss = _mix_hash(_init_symmetric(protocol_name(pattern, hash_name), hash_name), prologue)
    if "s" in pre:
        responder_static = rs if initiator else (_public(s) if s is not None else None)
        if responder_static is None:
            raise ValueError(f"{pattern} needs the responder's static key before the handshake")
        ss = _mix_hash(ss, responder_static)
    return HandshakeState(symmetric=ss, pattern=pattern, initiator=initiator, s=s, e=e, rs=rs)


def _my_turn(hs: HandshakeState) -> bool:
    return (hs.index % 2 == 0) == hs.initiator


def _check_turn(hs: HandshakeState, writing: bool) -> None:
    _, messages = PATTERNS[hs.pattern]
    # [CAR-022] messages alternate as the pattern says; none follows the last
    if hs.index >= len(messages) or _my_turn(hs) != writing:
        raise Reject(Reason.NOISE_OUT_OF_TURN, "CAR-022",
                     f"{'write' if writing else 'read'} of message {hs.index} by the "
                     f"{'initiator' if hs.initiator else 'responder'}")


def _dh_token(hs: HandshakeState, token: str) -> bytes:
    """The DH of a token ``ee``, ``es``, ``se`` or ``ss``: first letter initiator's key, second responder's."""
    first, second = token[0], token[1]
    mine, theirs = (first, second) if hs.initiator else (second, first)
    priv = hs.e if mine == "e" else hs.s
    pub = hs.re if theirs == "e" else hs.rs
    assert priv is not None and pub is not None
    return _dh(priv, pub)


def is_finished(hs: HandshakeState) -> bool:
    return hs.index >= len(PATTERNS[hs.pattern][1])


def write_message(hs: HandshakeState, payload: bytes) -> tuple[HandshakeState, bytes]:
    """``WriteMessage``: the next message of this party, carrying ``payload``."""
    _check_turn(hs, writing=True)
    ss, out = hs.symmetric, b""
    for token in PATTERNS[hs.pattern][1][hs.index]:
        if token == "e":
            assert hs.e is not None
            pub = _public(hs.e)
            ss = _mix_hash(ss, pub)
            out += pub
        elif token == "s":
            assert hs.s is not None
            ss, ct = _encrypt_and_hash(ss, _public(hs.s))
            out += ct
        else:
            ss = _mix_key(ss, _dh_token(hs, token))
    ss, ct = _encrypt_and_hash(ss, payload)
    out += ct
    # [CAR-020] a message is at most 65535 bytes
    if len(out) > MAX_MESSAGE:
        raise Reject(Reason.NOISE_MESSAGE_LENGTH, "CAR-020", f"{len(out)} bytes")
    return hs.model_copy(update={"symmetric": ss, "index": hs.index + 1}), out


def read_message(hs: HandshakeState, message: bytes) -> tuple[HandshakeState, bytes]:
    """``ReadMessage``: the peer's next message; returns the new state and the payload."""
    _check_turn(hs, writing=False)
    # [CAR-020] a message is at most 65535 bytes
    if len(message) > MAX_MESSAGE:
        raise Reject(Reason.NOISE_MESSAGE_LENGTH, "CAR-020", f"{len(message)} bytes")
    ss, pos = hs.symmetric, 0
    new = {}
    for token in PATTERNS[hs.pattern][1][hs.index]:
        if token in ("e", "s"):
            size = DHLEN + (TAGLEN if token == "s" and ss.cipher.k is not None else 0)
            # [CAR-020] the message holds every key its tokens need
            if len(message) - pos < size:
                raise Reject(Reason.NOISE_MESSAGE_LENGTH, "CAR-020", f"message too short for token {token}")
            chunk, pos = message[pos:pos + size], pos + size
            if token == "e":
                ss = _mix_hash(ss, chunk)
                new["re"] = chunk
            else:
                ss, rs = _decrypt_and_hash(ss, chunk)
                new["rs"] = rs
        else:
            hs = hs.model_copy(update=new)
            ss = _mix_key(ss, _dh_token(hs, token))
    rest = message[pos:]
    # [CAR-020] an encrypted payload holds at least its tag
    if ss.cipher.k is not None and len(rest) < TAGLEN:
        raise Reject(Reason.NOISE_MESSAGE_LENGTH, "CAR-020", "payload shorter than its tag")
    ss, payload = _decrypt_and_hash(ss, rest)
    return hs.model_copy(update={**new, "symmetric": ss, "index": hs.index + 1}), payload
