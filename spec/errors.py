"""Rejection reasons, the two exception types, and the registry of rule IDs.

Every validity rule of the spec has a stable **rule ID** (``ENC-003``), a one-line statement, the
:class:`Reason` an implementation must report when the rule is broken, and, where upstream Elastos
has one, the name or message of the upstream check. The guard that enforces a rule is preceded in
the source by a comment carrying its ID::

    # [ENC-003] a VarUint must use its shortest form
    if value < 0xFD:
        raise DecodeError(Reason.NON_CANONICAL_VARUINT, "ENC-003", "...")

A :class:`Reason` is what crosses the adapter boundary: vectors say ``{"reject": "NON_CANONICAL_VARUINT"}``
and every implementation must reject for that reason, not merely reject. Reasons are shared by
several rules where the failure is the same kind (``TRUNCATED`` is reported by every decoder).

Reason codes and rule IDs are append-only: a code is never renamed or reused for another meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

__all__ = [
    "Reason",
    "Rule",
    "Reject",
    "DecodeError",
    "RULES",
    "register_rule",
    "rule",
]


@unique
class Reason(StrEnum):
    """Stable rejection codes shared by the spec, the vectors and every adapter."""

    # -- generic decoding ---------------------------------------------------------------------
    TRUNCATED = "TRUNCATED"
    """The input ended before a field was complete."""
    TRAILING_BYTES = "TRAILING_BYTES"
    """Bytes remain after a complete top-level object."""
    NON_CANONICAL_VARUINT = "NON_CANONICAL_VARUINT"
    """A VarUint was not written in its shortest form."""
    LENGTH_EXCEEDS_MAX = "LENGTH_EXCEEDS_MAX"
    """A length prefix is larger than the field allows."""
    VALUE_OUT_OF_RANGE = "VALUE_OUT_OF_RANGE"
    """An integer does not fit the type it is to be written as."""
    WRONG_LENGTH = "WRONG_LENGTH"
    """A fixed-size value does not have its size."""
    INVALID_HEX = "INVALID_HEX"
    """A hexadecimal string is not valid hex."""
    FIXED64_SYNTAX = "FIXED64_SYNTAX"
    """A decimal amount string is not of the form ``-?digits(.digits)?``."""
    FIXED64_PRECISION = "FIXED64_PRECISION"
    """A decimal amount has more than 8 fractional digits."""

    # -- base58 and addresses ---------------------------------------------------------------
    INVALID_BASE58_CHARACTER = "INVALID_BASE58_CHARACTER"
    """A character outside the Bitcoin base58 alphabet."""
    BAD_CHECKSUM = "BAD_CHECKSUM"
    """A 4-byte SHA256d checksum does not match."""
    ADDRESS_LENGTH = "ADDRESS_LENGTH"
    """An address is not exactly 34 characters."""
    ADDRESS_NOT_CANONICAL = "ADDRESS_NOT_CANONICAL"
    """An address is not the canonical base58 form of a 25-byte payload."""
    ADDRESS_UNKNOWN_PREFIX = "ADDRESS_UNKNOWN_PREFIX"
    """A program hash or address carries a prefix byte the spec does not define."""

    # -- deterministic CBOR -------------------------------------------------------------------
    CBOR_NON_SHORTEST = "CBOR_NON_SHORTEST"
    """A CBOR integer or length was not written in its shortest form."""
    CBOR_INDEFINITE_LENGTH = "CBOR_INDEFINITE_LENGTH"
    """An indefinite-length CBOR item."""
    CBOR_UNSORTED_MAP = "CBOR_UNSORTED_MAP"
    """CBOR map keys are not in bytewise lexicographic order of their encodings."""
    CBOR_DUPLICATE_KEY = "CBOR_DUPLICATE_KEY"
    """A CBOR map has the same key twice."""
    CBOR_UNSUPPORTED = "CBOR_UNSUPPORTED"
    """A CBOR item outside the profile (tags, floats, undefined, other simple values)."""
    CBOR_INVALID_UTF8 = "CBOR_INVALID_UTF8"
    """A CBOR text string is not valid UTF-8."""
    CBOR_MALFORMED = "CBOR_MALFORMED"
    """A reserved CBOR additional-information value (28, 29 or 30)."""
    CBOR_TOO_DEEP = "CBOR_TOO_DEEP"
    """CBOR arrays and maps nest deeper than the profile allows."""

    # -- keys and signatures ------------------------------------------------------------------
    PUBKEY_ENCODING = "PUBKEY_ENCODING"
    """A P-256 public key is not a 33-byte SEC1 compressed point."""
    PUBKEY_NOT_ON_CURVE = "PUBKEY_NOT_ON_CURVE"
    """A P-256 public key names no point of the curve."""
    PRIVATE_KEY_OUT_OF_RANGE = "PRIVATE_KEY_OUT_OF_RANGE"
    """A private scalar is not in [1, n-1] or not 32 bytes."""
    SIGNATURE_LENGTH = "SIGNATURE_LENGTH"
    """A signature does not have its fixed length."""
    SIGNATURE_OUT_OF_RANGE = "SIGNATURE_OUT_OF_RANGE"
    """An ECDSA r or s is not in [1, n-1]."""
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    """A well-formed signature does not verify."""
    ED25519_KEY_LENGTH = "ED25519_KEY_LENGTH"
    """An Ed25519 or X25519 key is not 32 bytes."""
    ED25519_SMALL_ORDER = "ED25519_SMALL_ORDER"
    """An Ed25519 public key or signature R is a point of small order."""
    X25519_LOW_ORDER = "X25519_LOW_ORDER"
    """An X25519 exchange produced the all-zero shared secret (a low-order peer key)."""

    # -- redeem scripts and programs ------------------------------------------------------------
    MULTISIG_BAD_M_N = "MULTISIG_BAD_M_N"
    """A multisig script needs 1 <= m <= n <= 16."""
    SCRIPT_MALFORMED = "SCRIPT_MALFORMED"
    """A redeem script is neither a standard nor a well-formed multisig script."""
    PARAMETER_LENGTH = "PARAMETER_LENGTH"
    """A program parameter is not a whole number of 65-byte signature pushes."""
    NOT_ENOUGH_SIGNATURES = "NOT_ENOUGH_SIGNATURES"
    """Fewer signatures (or fewer matching keys) than the script's m."""
    TOO_MANY_SIGNATURES = "TOO_MANY_SIGNATURES"
    """More signatures than the script's n."""
    DUPLICATE_SIGNATURE = "DUPLICATE_SIGNATURE"
    """Two signatures of one program match the same key."""

    # -- chain transactions and blocks: codecs --------------------------------------------------
    TX_VERSION_INVALID = "TX_VERSION_INVALID"
    """A transaction version between 1 and 8, which has no wire form."""
    TX_TYPE_UNKNOWN = "TX_TYPE_UNKNOWN"
    """A transaction type code that upstream's table does not define."""
    TX_TYPE_FORBIDDEN = "TX_TYPE_FORBIDDEN"
    """A transaction type that does not exist on the main chain (Deploy, RechargeToSideChain)."""
    TX_TYPE_NOT_IN_PROFILE = "TX_TYPE_NOT_IN_PROFILE"
    """A transaction type of a later profile (DPoS, CR, votes, NFTs)."""
    PAYLOAD_VERSION_UNKNOWN = "PAYLOAD_VERSION_UNKNOWN"
    """A payload version the transaction type does not define."""
    ATTRIBUTE_USAGE_UNKNOWN = "ATTRIBUTE_USAGE_UNKNOWN"
    """An attribute usage code outside the six the main chain accepts."""
    OUTPUT_TYPE_UNKNOWN = "OUTPUT_TYPE_UNKNOWN"
    """An output type code that upstream's table does not define."""
    OUTPUT_TYPE_NOT_IN_PROFILE = "OUTPUT_TYPE_NOT_IN_PROFILE"
    """An output type of a later profile (OTMapping, OTDposV2Vote, OTStake)."""

    # -- proof of work and merged mining ---------------------------------------------------------
    MERKLE_EMPTY = "MERKLE_EMPTY"
    """A merkle root was asked of an empty list of hashes."""
    MERKLE_INDEX_OUT_OF_RANGE = "MERKLE_INDEX_OUT_OF_RANGE"
    """A merkle branch was asked for a leaf position the tree does not have."""
    POW_TARGET_NOT_POSITIVE = "POW_TARGET_NOT_POSITIVE"
    """The compact bits denote a target of zero or a negative target."""
    POW_TARGET_ABOVE_LIMIT = "POW_TARGET_ABOVE_LIMIT"
    """The compact bits denote a target above the network's PowLimit."""
    POW_HASH_ABOVE_TARGET = "POW_HASH_ABOVE_TARGET"
    """The parent (Bitcoin) header's hash, read as a little-endian integer, is above the target."""
    RETARGET_ANCESTOR_MISSING = "RETARGET_ANCESTOR_MISSING"
    """A difficulty retarget needs a header (the previous one, or the first of its window) that was not given."""
    AUXPOW_PARENT_MERKLE_MISMATCH = "AUXPOW_PARENT_MERKLE_MISMATCH"
    """The parent coinbase and its branch do not lead to the parent header's merkle root."""
    AUXPOW_NO_COINBASE_INPUT = "AUXPOW_NO_COINBASE_INPUT"
    """The parent coinbase transaction has no input, so it has no script to carry the commitment."""
    AUXPOW_MAGIC_MISSING = "AUXPOW_MAGIC_MISSING"
    """The merged-mining magic ``fabe6d6d`` does not occur in the parent coinbase script."""
    AUXPOW_ROOT_MISSING = "AUXPOW_ROOT_MISSING"
    """The aux merkle root (of the block hash) does not occur in the parent coinbase script."""
    AUXPOW_MAGIC_REPEATED = "AUXPOW_MAGIC_REPEATED"
    """The merged-mining magic occurs more than once in the parent coinbase script."""
    AUXPOW_ROOT_NOT_AFTER_MAGIC = "AUXPOW_ROOT_NOT_AFTER_MAGIC"
    """The first occurrence of the aux merkle root does not immediately follow the magic."""
    AUXPOW_SCRIPT_TOO_SHORT = "AUXPOW_SCRIPT_TOO_SHORT"
    """The parent coinbase script ends before the merkle size or the nonce after the aux root."""
    AUXPOW_MERKLE_SIZE_MISMATCH = "AUXPOW_MERKLE_SIZE_MISMATCH"
    """The merkle size after the aux root is not 2 to the power of the aux branch length."""
    AUXPOW_INDEX_MISMATCH = "AUXPOW_INDEX_MISMATCH"
    """The aux merkle index is not the one the nonce and the chain ID select."""
    AUXPOW_BRANCH_TOO_LONG = "AUXPOW_BRANCH_TOO_LONG"
    """The aux merkle branch has 32 or more hashes, so no index can be selected (upstream divides by zero)."""

    # -- adapter protocol (not spec rules: errors in how a case was asked) ----------------------
    MALFORMED_INPUT = "MALFORMED_INPUT"
    """A handler's input object lacks a field or has one of the wrong JSON type."""
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    """An adapter request line is not a JSON object of the protocol's shape."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One validity rule of the spec."""

    id: str
    """Stable identifier, ``<AREA>-<NNN>``."""
    statement: str
    """One line saying what must hold."""
    reason: Reason
    """The reason reported when the rule is broken."""
    suite: str
    """The vector suite whose cases exercise the rule."""
    upstream: str | None = None
    """The upstream check's name, error message or code, where one exists."""
    note: str | None = None
    """A ``Quirk:`` or ``Deviation:`` remark where the rule differs from the obvious reading."""


RULES: dict[str, Rule] = {}
"""Every registered rule, by ID. Filled as the spec modules are imported (see :mod:`spec.rules`)."""


def register_rule(r: Rule) -> Rule:
    """Add a rule to the registry; an ID may be registered once only."""
    if r.id in RULES and RULES[r.id] != r:
        raise ValueError(f"rule {r.id} registered twice with different contents")
    RULES[r.id] = r
    return r


def rule(
    rule_id: str,
    reason: Reason,
    statement: str,
    *,
    suite: str,
    upstream: str | None = None,
    note: str | None = None,
) -> Rule:
    """Declare a rule next to the code that enforces it."""
    return register_rule(Rule(rule_id, statement, reason, suite, upstream, note))


class Reject(Exception):
    """An input broke a rule of the spec.

    ``reason`` is the stable code; ``rule`` the rule ID that was broken (``None`` only for
    adapter-protocol errors, which are not spec rules); ``detail`` a human-readable explanation
    that is never compared by the conformance runner.
    """

    def __init__(self, reason: Reason, rule: str | None = None, detail: str = "") -> None:
        if rule is not None:
            registered = RULES.get(rule)
            if registered is None:
                raise ValueError(f"unregistered rule {rule!r} raised")
            if registered.reason is not reason:
                raise ValueError(
                    f"rule {rule} is registered with {registered.reason}, raised with {reason}"
                )
        self.reason = reason
        self.rule = rule
        self.detail = detail
        super().__init__(f"{reason.value}" + (f" [{rule}]" if rule else "") + (f": {detail}" if detail else ""))


class DecodeError(Reject):
    """Bytes (or text) that do not decode to a value of the expected type."""
