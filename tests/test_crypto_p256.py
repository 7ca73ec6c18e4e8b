"""P-256 keys and ECDSA: point decompression against ``cryptography``, RFC 6979 vectors, and the
range, length and malleability rules."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.crypto import p256
from spec.crypto.p256 import A, B, N, P
from spec.errors import DecodeError, Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.one_of(st.integers(1, N - 1), st.sampled_from([1, 2, 3, N - 1, N - 2, N // 2]))

# RFC 6979 A.2.5 (NIST P-256)
RFC6979_X = bytes.fromhex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
RFC6979_UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
RFC6979_UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
RFC6979_SHA256 = {
    b"sample": (
        0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
        0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8,
    ),
    b"test": (
        0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
        0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083,
    ),
}




def priv(d: int) -> bytes:
    return d.to_bytes(32, "big")


def lib_pubkey(d: int) -> ec.EllipticCurvePublicKey:
    return ec.derive_private_key(d, ec.SECP256R1()).public_key()


def lib_compressed(d: int) -> bytes:
    return lib_pubkey(d).public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def sig_bytes(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def lib_verifies(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pubkey)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def no_point_x() -> int:
    """The smallest X for which X^3 - 3X + B is a quadratic non-residue (Euler's criterion)."""
    x = 0
    while pow((x**3 - 3 * x + B) % P, (P - 1) // 2, P) != P - 1:
        x += 1
    return x


def test_curve_constants():
    assert P == 2**256 - 2**224 + 2**192 + 2**96 - 1
    assert A == P - 3
    # the SEC 2 generator is on the curve and has order N
    gx = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
    gy = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
    assert (gy * gy - (gx**3 + A * gx + B)) % P == 0
    assert lib_compressed(1) == p256.compress_point(gx, gy)
    assert lib_pubkey(1).public_numbers().x == gx
    with pytest.raises(ValueError):
        ec.derive_private_key(N, ec.SECP256R1())  # N * G is the point at infinity


# == point decompression ================================================================================


@FAST
@given(SCALARS)
def test_decompress_matches_cryptography(d):
    compressed = lib_compressed(d)
    nums = lib_pubkey(d).public_numbers()
    assert p256.decompress_point(compressed) == (nums.x, nums.y)
    lib = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), compressed).public_numbers()
    assert (lib.x, lib.y) == (nums.x, nums.y)
    assert p256.compress_point(nums.x, nums.y) == compressed
    assert p256.public_key_from_private(priv(d)) == compressed


@FAST
@given(st.sampled_from([2, 3]), st.integers(0, P - 1))
@example(2, 0)
@example(3, 1)
@example(2, P - 1)
def test_decompress_agrees_with_cryptography_on_any_x(prefix, x):
    data = bytes([prefix]) + x.to_bytes(32, "big")
    try:
        lib = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data).public_numbers()
    except ValueError:
        lib = None
    try:
        ours = p256.decompress_point(data)
    except DecodeError as e:
        assert e.reason is Reason.PUBKEY_NOT_ON_CURVE and e.rule == "CRY-003"
        ours = None
    assert (ours is None) == (lib is None), f"decompression disagrees with OpenSSL for {data.hex()}"
    if ours is not None:
        assert ours == (lib.x, lib.y)
        x2, y2 = ours
        assert (y2 * y2 - (x2**3 + A * x2 + B)) % P == 0 and y2 & 1 == prefix & 1
        assert p256.compress_point(*ours) == data, "an accepted key re-encodes to itself"


@FAST
@given(st.sampled_from([2, 3]), st.integers(0, P - 1))
@example(2, 0)
@example(3, 3)
def test_decompress_agrees_with_the_square_root_formula(prefix, x):
    """The spec takes the root from OpenSSL; here it is checked against y = (x^3 - 3x + B)^((P+1)/4)."""
    y2 = (pow(x, 3, P) + A * x + B) % P
    y = pow(y2, (P + 1) // 4, P)
    data = bytes([prefix]) + x.to_bytes(32, "big")
    if y * y % P != y2:
        with pytest.raises(DecodeError) as info:
            p256.decompress_point(data)
        assert info.value.rule == "CRY-003"
        return
    if y & 1 != prefix & 1:
        y = P - y
    assert p256.decompress_point(data) == (x, y)


@FAST
@given(st.one_of(st.binary(max_size=70), st.binary(min_size=33, max_size=33),
                 st.binary(min_size=32, max_size=32).map(lambda b: b"\x02" + b)))
def test_decompress_any_bytes(data):
    try:
        x, y = p256.decompress_point(data)
    except DecodeError as e:
        assert e.rule in ("CRY-001", "CRY-002", "CRY-003")
    else:
        assert p256.compress_point(x, y) == data


@pytest.mark.parametrize("data", ["", "02", "02" + "00" * 31, "02" + "00" * 33, "04" + "00" * 32, "00" + "00" * 32,
                                  "05" + "00" * 32])
def test_pubkey_encoding(data):
    expect_reject(p256.decompress_point, bytes.fromhex(data), reason=Reason.PUBKEY_ENCODING, rule="CRY-001")


def test_pubkey_uncompressed_form_is_rejected_deviation():
    uncompressed = lib_pubkey(7).public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert len(uncompressed) == 65
    expect_reject(p256.decompress_point, uncompressed, reason=Reason.PUBKEY_ENCODING, rule="CRY-001")


@pytest.mark.parametrize("x", [P, P + 1, 2**256 - 1])
def test_pubkey_x_not_a_field_element(x):
    for prefix in (2, 3):
        expect_reject(p256.decompress_point, bytes([prefix]) + x.to_bytes(32, "big"),
                      reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-002")


def test_pubkey_x_reduced_alias_is_rejected():
    # X + P, when it fits in 32 bytes, would name the same point upstream; the spec accepts only X
    x = 5  # has a point
    p256.decompress_point(b"\x02" + x.to_bytes(32, "big"))
    expect_reject(p256.decompress_point, b"\x02" + (x + P).to_bytes(32, "big"),
                  reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-002")


def test_pubkey_x_without_point():
    x = no_point_x()
    assert x == 1
    for prefix in (2, 3):
        expect_reject(p256.decompress_point, bytes([prefix]) + x.to_bytes(32, "big"),
                      reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-003")


def test_compress_point_of_a_known_y_parity():
    x, y = p256.decompress_point(lib_compressed(3))
    assert p256.compress_point(x, P - y)[0] == (0x02 if (P - y) % 2 == 0 else 0x03)
    assert p256.decompress_point(p256.compress_point(x, P - y)) == (x, P - y)


# == private keys =======================================================================================


@pytest.mark.parametrize("key", [priv(0), N.to_bytes(32, "big"), b"\xff" * 32, b"\x01" * 31, b"\x01" * 33, b""])
def test_private_key_out_of_range(key):
    expect_reject(p256.public_key_from_private, key, reason=Reason.PRIVATE_KEY_OUT_OF_RANGE, rule="CRY-007")
    expect_reject(p256.ecdsa_sign, key, b"m", reason=Reason.PRIVATE_KEY_OUT_OF_RANGE, rule="CRY-007")


# == ECDSA ==============================================================================================


@pytest.mark.parametrize("message", sorted(RFC6979_SHA256))
def test_rfc6979_a25_p256_sha256(message):
    pub = p256.public_key_from_private(RFC6979_X)
    assert p256.decompress_point(pub) == (RFC6979_UX, RFC6979_UY)
    r, s = RFC6979_SHA256[message]
    sig = p256.ecdsa_sign(RFC6979_X, message)
    assert sig == sig_bytes(r, s), "ecdsa_sign must use the RFC 6979 nonce over SHA-256 of the message"
    p256.ecdsa_verify(pub, message, sig)
    assert lib_verifies(pub, message, sig)


@FAST
@given(SCALARS, st.binary(max_size=300))
def test_sign_verify_round_trip(d, message):
    pub = p256.public_key_from_private(priv(d))
    sig = p256.ecdsa_sign(priv(d), message)
    assert len(sig) == 64
    assert sig == p256.ecdsa_sign(priv(d), message), "signing is deterministic"
    p256.ecdsa_verify(pub, message, sig)
    assert lib_verifies(pub, message, sig)
    # the signature is over SHA-256(message), not over the message hashed twice
    other = p256.ecdsa_sign(priv(d), message + b"\x00")
    expect_reject(p256.ecdsa_verify, pub, message, other, reason=Reason.SIGNATURE_INVALID, rule="CRY-006")


@FAST
@given(SCALARS, st.binary(max_size=100))
def test_malleated_signature_is_accepted_quirk(d, message):
    # Quirk [CRY-006]: no low-S rule, as Go's ecdsa.Verify
    pub = p256.public_key_from_private(priv(d))
    sig = p256.ecdsa_sign(priv(d), message)
    mal = p256.malleate(sig)
    assert mal != sig and mal[:32] == sig[:32]
    assert int.from_bytes(mal[32:], "big") == N - int.from_bytes(sig[32:], "big")
    p256.ecdsa_verify(pub, message, mal)
    assert p256.malleate(mal) == sig


@FAST
@given(st.sampled_from([1, 2, 0xDEADBEEF, N - 1]), st.binary(max_size=40),
       st.binary(min_size=64, max_size=64) | st.binary(max_size=80))
def test_verify_any_signature_agrees_with_cryptography(d, message, signature):
    pub = p256.public_key_from_private(priv(d))
    try:
        p256.ecdsa_verify(pub, message, signature)
    except Reject as e:
        assert e.rule in ("CRY-004", "CRY-005", "CRY-006")
        if e.rule == "CRY-006":
            assert not lib_verifies(pub, message, signature)
    else:
        assert lib_verifies(pub, message, signature)


@FAST
@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=80))
def test_verify_any_inputs_value_or_reject(pubkey, message, signature):
    with pytest.raises(Reject) as info:
        p256.ecdsa_verify(pubkey if len(pubkey) != 33 else b"\x04" + pubkey[1:], message, signature)
    assert info.value.rule == "CRY-001"
    try:
        p256.ecdsa_verify(b"\x02" + pubkey[:32].rjust(32, b"\x00"), message, signature)
    except Reject as e:
        assert e.rule is not None
    else:
        pytest.fail("a random signature verified")


def test_signature_lengths():
    pub = p256.public_key_from_private(priv(5))
    sig = p256.ecdsa_sign(priv(5), b"msg")
    for bad in (sig[:63], sig + b"\x00", b"", sig[1:], b"\x30" + sig):
        expect_reject(p256.ecdsa_verify, pub, b"msg", bad, reason=Reason.SIGNATURE_LENGTH, rule="CRY-004")


@pytest.mark.parametrize(
    "r, s",
    [(0, 1), (1, 0), (0, 0), (N, 1), (1, N), (N + 1, 5), (2**256 - 1, 5), (5, 2**256 - 1)],
)
def test_signature_out_of_range(r, s):
    pub = p256.public_key_from_private(priv(5))
    expect_reject(p256.ecdsa_verify, pub, b"msg", sig_bytes(r, s), reason=Reason.SIGNATURE_OUT_OF_RANGE, rule="CRY-005")


def test_r_plus_n_alias_is_rejected():
    # r + N can fit in 32 bytes only when r < 2^256 - N; such an alias must not verify
    pub = p256.public_key_from_private(RFC6979_X)
    sig = p256.ecdsa_sign(RFC6979_X, b"sample")
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    alias_r = r + N if r + N < 2**256 else N + (r % (2**256 - N))
    expect_reject(p256.ecdsa_verify, pub, b"sample", sig_bytes(alias_r, s),
                  reason=Reason.SIGNATURE_OUT_OF_RANGE, rule="CRY-005")
    alias_s = s + N if s + N < 2**256 else N + (s % (2**256 - N))
    expect_reject(p256.ecdsa_verify, pub, b"sample", sig_bytes(r, alias_s),
                  reason=Reason.SIGNATURE_OUT_OF_RANGE, rule="CRY-005")


def test_wrong_message_and_wrong_key():
    sig = p256.ecdsa_sign(priv(5), b"msg")
    expect_reject(p256.ecdsa_verify, p256.public_key_from_private(priv(5)), b"msh", sig,
                  reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    expect_reject(p256.ecdsa_verify, p256.public_key_from_private(priv(6)), b"msg", sig,
                  reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    # the negated key (same X, other parity) does not verify either
    pub = p256.public_key_from_private(priv(5))
    negated = bytes([pub[0] ^ 1]) + pub[1:]
    expect_reject(p256.ecdsa_verify, negated, b"msg", sig, reason=Reason.SIGNATURE_INVALID, rule="CRY-006")


def test_verify_checks_the_key_first():
    sig = p256.ecdsa_sign(priv(5), b"msg")
    expect_reject(p256.ecdsa_verify, b"\x02" + (1).to_bytes(32, "big"), b"msg", sig,
                  reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-003")
    expect_reject(p256.ecdsa_verify, b"\x02" + P.to_bytes(32, "big"), b"msg", sig,
                  reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-002")
