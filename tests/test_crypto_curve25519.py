"""Ed25519 (RFC 8032) and X25519 (RFC 7748): published vectors, cross-checks with libsodium
(PyNaCl), and the length, malleability and low-order rules."""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.crypto import curve25519 as C
from spec.errors import Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
KEY = st.binary(min_size=32, max_size=32)
L = 2**252 + 27742317777372353535851937790883648493
P25519 = 2**255 - 19

# RFC 8032 §7.1 TEST 1, 2, 3: (secret key, public key, message, signature)
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

# RFC 7748 §5.2: (scalar, u-coordinate, output)
RFC7748_52 = [
    (
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ),
    (
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    ),
]

# RFC 7748 §6.1
ALICE_PRIV = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_PRIV = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PUB = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SHARED_K = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

# u-coordinates of points of order 1, 2, 4 or 8 (libsodium's blocklist): every clamped scalar sends
# them to the all-zero output
LOW_ORDER_U = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    (P25519 - 1).to_bytes(32, "little"),
    P25519.to_bytes(32, "little"),
    (P25519 + 1).to_bytes(32, "little"),
]




# == Ed25519 ============================================================================================


@pytest.mark.parametrize("seed, pub, msg, sig", RFC8032, ids=["TEST1", "TEST2", "TEST3"])
def test_rfc8032_vectors(seed, pub, msg, sig):
    seed_b, pub_b, msg_b, sig_b = (bytes.fromhex(x) for x in (seed, pub, msg, sig))
    assert C.ed25519_public_key(seed_b) == pub_b
    assert C.ed25519_sign(seed_b, msg_b) == sig_b
    C.ed25519_verify(pub_b, msg_b, sig_b)
    expect_reject(C.ed25519_verify, pub_b, msg_b + b"\x00", sig_b, reason=Reason.SIGNATURE_INVALID, rule="CRY-012")
    flipped = bytearray(sig_b)
    flipped[0] ^= 1
    expect_reject(C.ed25519_verify, pub_b, msg_b, bytes(flipped), reason=Reason.SIGNATURE_INVALID, rule="CRY-012")


@FAST
@given(KEY, st.binary(max_size=300))
def test_ed25519_matches_libsodium(seed, message):
    sk = nacl.signing.SigningKey(seed)
    pub = bytes(sk.verify_key)
    assert C.ed25519_public_key(seed) == pub
    sig = C.ed25519_sign(seed, message)
    assert sig == sk.sign(message).signature, "Ed25519 is deterministic: both libraries must agree"
    C.ed25519_verify(pub, message, sig)
    assert sk.verify_key.verify(message, sig) == message


@FAST
@given(KEY, st.binary(max_size=40), st.binary(min_size=64, max_size=64))
def test_ed25519_verify_any_input_agrees_with_libsodium(pub, message, sig):
    try:
        C.ed25519_verify(pub, message, sig)
        ours = True
    except Reject as e:
        assert (e.reason, e.rule) in ((Reason.SIGNATURE_INVALID, "CRY-012"), (Reason.ED25519_SMALL_ORDER, "CRY-014"))
        ours = False
    try:
        nacl.signing.VerifyKey(pub).verify(message, sig)
        theirs = True
    except (nacl.exceptions.BadSignatureError, ValueError, nacl.exceptions.RuntimeError):
        theirs = False
    assert ours is theirs is False, "a random signature verified"


SMALL_ORDER_ENCODINGS = [
    bytes(32),                                   # y = 0, order 4
    b"\x01" + bytes(31),                         # y = 1, the identity
    bytes.fromhex("ec" + "ff" * 30 + "7f"),      # y = p - 1, order 2
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),  # order 8
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),  # order 8
    bytes.fromhex("ed" + "ff" * 30 + "7f"),      # y = p (non-canonical 0)
    bytes.fromhex("ee" + "ff" * 30 + "7f"),      # y = p + 1 (non-canonical 1)
]
"""libsodium's blocklist (ge25519_has_small_order), written out independently of the spec."""


def test_small_order_y_set_is_libsodiums_blocklist():
    ys = {(int.from_bytes(e, "little") & ((1 << 255) - 1)) % C.ED25519_P for e in SMALL_ORDER_ENCODINGS}
    assert ys == set(C.SMALL_ORDER_Y)


@pytest.mark.parametrize("enc", SMALL_ORDER_ENCODINGS)
@pytest.mark.parametrize("sign_bit", [0, 0x80])
def test_small_order_key_and_r_are_rejected_like_libsodium(enc, sign_bit):
    point = enc[:31] + bytes((enc[31] | sign_bit,))
    seed, pub, msg, sig = (bytes.fromhex(x) for x in RFC8032[1])
    expect_reject(C.ed25519_verify, point, msg, sig, reason=Reason.ED25519_SMALL_ORDER, rule="CRY-014")
    expect_reject(C.ed25519_verify, pub, msg, point + sig[32:], reason=Reason.ED25519_SMALL_ORDER, rule="CRY-014")
    for key, s in ((point, sig), (pub, point + sig[32:])):
        with pytest.raises((nacl.exceptions.BadSignatureError, nacl.exceptions.RuntimeError, ValueError)):
            nacl.signing.VerifyKey(key).verify(msg, s)


@pytest.mark.parametrize("message", [bytes([i]) for i in range(40)])
def test_cofactorless_forgery_under_small_order_key_is_rejected(message):
    """A = R = the order-4 point (32 zero bytes), S = 0: RFC 8032's cofactorless equation holds for
    about one message in four, so OpenSSL alone would accept these; the spec (CRY-014) and libsodium
    reject all of them."""
    a = r = bytes(32)
    expect_reject(C.ed25519_verify, a, message, r + bytes(32), reason=Reason.ED25519_SMALL_ORDER, rule="CRY-014")


def test_ed25519_s_not_reduced_is_rejected():
    seed, pub, msg, sig = (bytes.fromhex(x) for x in RFC8032[1])
    s = int.from_bytes(sig[32:], "little")
    assert s < L
    malleated = sig[:32] + (s + L).to_bytes(32, "little")
    expect_reject(C.ed25519_verify, pub, msg, malleated, reason=Reason.SIGNATURE_INVALID, rule="CRY-012")


def test_ed25519_lengths():
    seed, pub, msg, sig = (bytes.fromhex(x) for x in RFC8032[0])
    for bad in (sig[:63], sig + b"\x00", b""):
        expect_reject(C.ed25519_verify, pub, msg, bad, reason=Reason.SIGNATURE_LENGTH, rule="CRY-011")
    for bad_key in (pub[:31], pub + b"\x00", b""):
        expect_reject(C.ed25519_verify, bad_key, msg, sig, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")
        expect_reject(C.ed25519_public_key, bad_key, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")
        expect_reject(C.ed25519_sign, bad_key, msg, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")


def test_ed25519_undecodable_public_key():
    seed, pub, msg, sig = (bytes.fromhex(x) for x in RFC8032[0])
    # y = 2 is not the y of any point of edwards25519
    not_a_point = (2).to_bytes(32, "little")
    expect_reject(C.ed25519_verify, not_a_point, msg, sig, reason=Reason.SIGNATURE_INVALID, rule="CRY-012")


@FAST
@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=80))
def test_ed25519_verify_any_bytes_value_or_reject(pub, message, sig):
    with pytest.raises(Reject) as info:
        C.ed25519_verify(pub, message, sig)
    assert info.value.rule in ("CRY-010", "CRY-011", "CRY-012")


# == X25519 =============================================================================================


@pytest.mark.parametrize("scalar, u, out", RFC7748_52, ids=["vector1", "vector2"])
def test_rfc7748_5_2(scalar, u, out):
    assert C.x25519_shared(bytes.fromhex(scalar), bytes.fromhex(u)).hex() == out


def test_rfc7748_6_1_diffie_hellman():
    assert C.x25519_public_key(ALICE_PRIV) == ALICE_PUB
    assert C.x25519_public_key(BOB_PRIV) == BOB_PUB
    assert C.x25519_shared(ALICE_PRIV, BOB_PUB) == SHARED_K
    assert C.x25519_shared(BOB_PRIV, ALICE_PUB) == SHARED_K


@FAST
@given(KEY, KEY)
def test_x25519_agreement_and_libsodium(a, b):
    pa, pb = C.x25519_public_key(a), C.x25519_public_key(b)
    assert pa == nacl.bindings.crypto_scalarmult_base(a)
    k = C.x25519_shared(a, pb)
    assert k == C.x25519_shared(b, pa)
    assert k == nacl.bindings.crypto_scalarmult(a, pb)
    assert C.x25519_shared(a, (9).to_bytes(32, "little")) == pa, "the base point is u = 9"


@FAST
@given(KEY, KEY)
def test_x25519_any_keys_value_or_reject(k, u):
    try:
        shared = C.x25519_shared(k, u)
    except Reject as e:
        assert e.reason is Reason.X25519_LOW_ORDER and e.rule == "CRY-013"
    else:
        assert len(shared) == 32 and shared != bytes(32)


@FAST
@given(KEY, KEY)
def test_x25519_masks_the_top_bit_and_accepts_non_canonical_u(k, u):
    # RFC 7748 §5: the most significant bit of u is ignored; u >= p is reduced modulo p
    high = u[:31] + bytes([u[31] | 0x80])
    low = u[:31] + bytes([u[31] & 0x7F])
    try:
        expected = C.x25519_shared(k, low)
    except Reject:
        expect_reject(C.x25519_shared, k, high, reason=Reason.X25519_LOW_ORDER, rule="CRY-013")
        return
    assert C.x25519_shared(k, high) == expected


def test_x25519_non_canonical_base_point():
    k = ALICE_PRIV
    assert C.x25519_shared(k, (P25519 + 9).to_bytes(32, "little")) == ALICE_PUB


@pytest.mark.parametrize("u", LOW_ORDER_U, ids=[u.hex()[:8] for u in LOW_ORDER_U])
def test_x25519_low_order_points_rejected(u):
    for k in (ALICE_PRIV, BOB_PRIV, bytes(32), b"\xff" * 32):
        expect_reject(C.x25519_shared, k, u, reason=Reason.X25519_LOW_ORDER, rule="CRY-013")
        high = u[:31] + bytes([u[31] | 0x80])
        expect_reject(C.x25519_shared, k, high, reason=Reason.X25519_LOW_ORDER, rule="CRY-013")


def test_x25519_lengths():
    for bad in (b"", b"\x09" * 31, b"\x09" * 33):
        expect_reject(C.x25519_shared, ALICE_PRIV, bad, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")
        expect_reject(C.x25519_shared, bad, BOB_PUB, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")
        expect_reject(C.x25519_public_key, bad, reason=Reason.ED25519_KEY_LENGTH, rule="CRY-010")


def test_x25519_private_key_is_clamped():
    # the three low bits and bit 255 of the scalar are cleared, bit 254 set: these scalars are equal
    k = bytearray(ALICE_PRIV)
    k2 = bytearray(k)
    k2[0] ^= 0x07
    k2[31] ^= 0x80
    assert C.x25519_public_key(bytes(k)) == C.x25519_public_key(bytes(k2))
    assert C.x25519_shared(bytes(k2), BOB_PUB) == SHARED_K
