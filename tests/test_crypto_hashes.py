"""Hash functions against hashlib and published test vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.crypto.hashes import hash160, ripemd160, sha256, sha256d

FAST = settings(deadline=None, max_examples=200)


@FAST
@given(st.binary(max_size=2000))
def test_against_hashlib(data):
    once = hashlib.sha256(data).digest()
    assert sha256(data) == once
    assert sha256d(data) == hashlib.sha256(once).digest()
    assert ripemd160(data) == hashlib.new("ripemd160", data).digest()
    assert hash160(data) == hashlib.new("ripemd160", once).digest()
    assert (len(sha256(data)), len(sha256d(data)), len(ripemd160(data)), len(hash160(data))) == (32, 32, 20, 20)


@pytest.mark.parametrize(
    "message, digest",
    [
        # FIPS 180-2 / NIST examples
        (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ],
)
def test_sha256_vectors(message, digest):
    assert sha256(message).hex() == digest


@pytest.mark.parametrize(
    "message, digest",
    [
        # the RIPEMD-160 authors' test vectors (Dobbertin, Bosselaers, Preneel)
        (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
        (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
        (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
        (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    ],
)
def test_ripemd160_vectors(message, digest):
    assert ripemd160(message).hex() == digest


def test_sha256d_vectors():
    assert sha256d(b"").hex() == "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
    # Bitcoin's genesis block header hashes to the famous 000000000019d6... (display order is reversed)
    header = bytes.fromhex(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e"
        "67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    )
    assert sha256d(header)[::-1].hex() == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def test_hash160_vector():
    # Bitcoin: hash160 of the compressed public key of private key 1 (secp256k1 generator)
    pub = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert hash160(pub).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
