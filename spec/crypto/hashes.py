"""Hash functions of the protocol.

=============  =====================================  ===============================================
name           definition                             used for
=============  =====================================  ===============================================
``sha256``     SHA-256 (FIPS 180-4)                   the digest ECDSA signs (single SHA-256)
``sha256d``    ``sha256(sha256(x))``                  block, transaction and asset hashes; checksums
``ripemd160``  RIPEMD-160                             inside ``hash160``
``hash160``    ``ripemd160(sha256(x))``               code hashes of redeem scripts (``Uint160``)
=============  =====================================  ===============================================

Upstream: ``Elastos.ELA/common/common.go`` (``Sha256D``, ``ToCodeHash``). The hash functions are
the standard ones; the spec takes them from Python's ``hashlib`` (OpenSSL).
"""

from __future__ import annotations

import hashlib

__all__ = ["sha256", "sha256d", "ripemd160", "hash160"]


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).digest()


def sha256d(data: bytes) -> bytes:
    """SHA-256 applied twice: ELA's ``common.Hash``."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def ripemd160(data: bytes) -> bytes:
    """RIPEMD-160 of ``data``."""
    return hashlib.new("ripemd160", data).digest()


def hash160(data: bytes) -> bytes:
    """``RIPEMD160(SHA256(data))``: the 20-byte code hash of a redeem script."""
    return ripemd160(sha256(data))
