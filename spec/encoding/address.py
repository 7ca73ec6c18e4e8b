"""Addresses: the Base58Check text of a 21-byte program hash.

``address = base58(ph || sha256d(ph)[0:4])`` where ``ph`` is a :class:`~spec.encoding.hashes.Uint168`.
An address is exactly 34 characters. Upstream: ``Uint168.ToAddress`` and ``Uint168FromAddress``
(``Elastos.ELA/common/uint168.go``); prefixes from ``Elastos.ELA/core/contract/contract.go``.

Prefixes
--------

==========  ========  ======================  ======================================================
byte        letter    upstream name           owner
==========  ========  ======================  ======================================================
``0x21``    ``E``     ``PrefixStandard``      a standard (single-key) redeem script
``0x12``    ``8``     ``PrefixMultiSig``      an m-of-n multisig redeem script
``0x4B``    ``X``     ``PrefixCrossChain``    a sidechain's cross-chain (genesis) script
``0x1F``    ``D``     ``PrefixDeposit``       a producer or CR deposit (standard script)
``0x67``    ``i``     ``PrefixCRDID``         a DID derived from a standard script
``0x3F``    ``S``     ``PrefixDPoSV2``        a DPoS v2 stake address (standard script)
``0x1C``    ``C``     (no constant)           the CR assets and expenses addresses (fixed values)
==========  ========  ======================  ======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spec.crypto.hashes import sha256d
from spec.encoding.base58 import b58decode, b58encode
from spec.encoding.hashes import UINT168_SIZE, Uint168
from spec.errors import DecodeError, Reason, Reject, rule

ADDRESS_LENGTH: Final = 34
CHECKSUM_SIZE: Final = 4


@dataclass(frozen=True)
class Prefix:
    """One program-hash prefix."""

    byte: int
    letter: str
    name: str
    upstream: str | None


PREFIXES: Final = (
    Prefix(0x21, "E", "standard", "PrefixStandard"),
    Prefix(0x12, "8", "multisig", "PrefixMultiSig"),
    Prefix(0x4B, "X", "crosschain", "PrefixCrossChain"),
    Prefix(0x1F, "D", "deposit", "PrefixDeposit"),
    Prefix(0x67, "i", "did", "PrefixCRDID"),
    Prefix(0x3F, "S", "dposv2", "PrefixDPoSV2"),
    Prefix(0x1C, "C", "cr", None),
)
"""The prefixes the spec defines, in the order of the table above."""

PREFIX_BY_BYTE: Final = {p.byte: p for p in PREFIXES}
PREFIX_STANDARD: Final = 0x21
PREFIX_MULTISIG: Final = 0x12
PREFIX_CROSSCHAIN: Final = 0x4B
PREFIX_DEPOSIT: Final = 0x1F
PREFIX_DID: Final = 0x67
PREFIX_DPOSV2: Final = 0x3F
PREFIX_CR: Final = 0x1C

R_LENGTH = rule(
    "ADDR-001", Reason.ADDRESS_LENGTH,
    "An address is exactly 34 characters.",
    suite="encoding", upstream="Uint168FromAddress: \"len != 34\"",
)
R_CANONICAL = rule(
    "ADDR-002", Reason.ADDRESS_NOT_CANONICAL,
    "An address decodes to exactly 25 bytes whose first byte is non-zero (so it has no leading '1').",
    suite="encoding", upstream="Uint168FromAddress: \"decode address verify failed\"",
)
R_CHECKSUM = rule(
    "ADDR-003", Reason.BAD_CHECKSUM,
    "The last 4 bytes of an address payload are sha256d of the 21-byte program hash, first 4 bytes.",
    suite="encoding", upstream="Uint168FromAddress: \"decode address verify failed\"",
)
R_PREFIX = rule(
    "ADDR-004", Reason.ADDRESS_UNKNOWN_PREFIX,
    "A program hash written as an address has one of the prefixes of the prefix table.",
    suite="encoding",
    note="Deviation: upstream Uint168FromAddress accepts any prefix byte; the spec accepts only the "
    "prefixes it defines, so a typing error cannot produce an address nobody can spend from.",
)


def _check_prefix(prefix: int) -> Prefix:
    # [ADDR-004] a program hash written as an address has a known prefix
    known = PREFIX_BY_BYTE.get(prefix)
    if known is None:
        raise Reject(Reason.ADDRESS_UNKNOWN_PREFIX, "ADDR-004", f"prefix {prefix:#04x}")
    return known


def address_from_program_hash(ph: Uint168) -> str:
    """The address of a program hash (``Uint168.ToAddress``)."""
    _check_prefix(ph.prefix)
    return b58encode(ph.data + sha256d(ph.data)[:CHECKSUM_SIZE])


def program_hash_from_address(address: str) -> Uint168:
    """The program hash an address names (``Uint168FromAddress``), with every check."""
    # [ADDR-001] an address is exactly 34 characters
    if len(address) != ADDRESS_LENGTH:
        raise DecodeError(Reason.ADDRESS_LENGTH, "ADDR-001", f"{len(address)} characters")
    raw = b58decode(address)
    # [ADDR-002] an address decodes to exactly 25 bytes with a non-zero first byte
    if len(raw) != UINT168_SIZE + CHECKSUM_SIZE or raw[0] == 0:
        raise DecodeError(Reason.ADDRESS_NOT_CANONICAL, "ADDR-002", "not the base58 of a 25-byte payload")
    ph, check = raw[:UINT168_SIZE], raw[UINT168_SIZE:]
    # [ADDR-003] the checksum is sha256d(ph)[0:4]
    if sha256d(ph)[:CHECKSUM_SIZE] != check:
        raise DecodeError(Reason.BAD_CHECKSUM, "ADDR-003", "address checksum mismatch")
    try:
        _check_prefix(ph[0])
    except Reject as e:
        raise DecodeError(e.reason, e.rule, e.detail) from None
    return Uint168(data=ph)
