"""Compact bits, work, the proof-of-work check and the difficulty retarget of the main chain.

Upstream: ``Elastos.ELA/blockchain/difficulty.go`` (``CompactToBig``, ``BigToCompact``,
``HashToBig``, ``CalcNextRequiredDifficulty``), ``blockchain/blockvalidator.go``
(``CheckProofOfWork``), ``blockchain/blockchain.go`` (``CalcWork``), ``common/config/config.go``
(``PowConfiguration``). Compact bits are btcd's format.

Compact bits
------------

A u32 ``c`` denotes the signed integer ``N``:

* ``mantissa = c & 0x007fffff``, ``negative = c & 0x00800000 != 0``, ``exponent = c >> 24``;
* ``N = mantissa >> 8*(3 - exponent)`` if ``exponent <= 3``, else ``mantissa << 8*(exponent - 3)``;
* ``N`` is negated when the sign bit is set (a negative zero is zero).

:func:`big_to_compact` is the inverse that keeps the top three significant bytes (it rounds the
magnitude down) and never sets bit 23 of the mantissa: when it would be set, the mantissa is
shifted right by a byte and the exponent incremented. Many bits values denote the same target;
only the output of :func:`big_to_compact` is canonical.

Quirk: ``PowLimitBits = 0x1f0008ff`` is not canonical: its target ``0x08ff << 224`` compacts to
``0x1e08ff00``. A retarget returns canonical bits; the other branches of the retarget copy bits
unchanged, so a chain carries ``0x1f0008ff`` literally.

Proof of work
-------------

The target is ``compact_to_big(header.bits)`` of the **ELA** header; the hash compared with it
is ``sha256d`` of the **Bitcoin parent header** in the AuxPoW, read as a little-endian integer
(:func:`hash_to_big`). The work of a block is ``2**256 // (target + 1)`` (0 for a target <= 0).

Retarget
--------

Every ``blocks_per_retarget = target_timespan // target_time_per_block`` blocks (720) the target
is scaled by the time the last window took, clamped to ``[timespan // 4, timespan * 4]``; see
:func:`next_required_bits`.

Constants
---------

===========================  ========================  ==================================================
name                         value                     meaning
===========================  ========================  ==================================================
``POW_LIMIT``                ``2**255 - 1``            highest target of every network (``powLimit``)
``POW_LIMIT_BITS``           ``0x1f0008ff``            bits after genesis on main, test and reg nets
``INSTANT_POW_LIMIT_BITS``   ``0x207fffff``            ``InstantBlock()``: also switches retargets off
``TARGET_TIMESPAN``          86 400 s (24 h)           time one retarget window should take
``TARGET_TIME_PER_BLOCK``    120 s (2 min)             time one block should take
``ADJUSTMENT_FACTOR``        4                         at most x4 easier or /4 harder per retarget
``BLOCKS_PER_RETARGET``      720                       ``TARGET_TIMESPAN // TARGET_TIME_PER_BLOCK``
``MIN_RETARGET_TIMESPAN``    21 600 s                  ``TARGET_TIMESPAN // ADJUSTMENT_FACTOR``
``MAX_RETARGET_TIMESPAN``    345 600 s                 ``TARGET_TIMESPAN * ADJUSTMENT_FACTOR``
``COMPACT_MANTISSA_MASK``    ``0x007fffff``            mantissa bits of a compact value
``COMPACT_SIGN_BIT``         ``0x00800000``            sign bit of a compact value
===========================  ========================  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import Field

from spec.encoding.hashes import R_FIXED_SIZE  # noqa: F401  (ENC-006 is raised here too)
from spec.encoding.primitives import U32_MAX
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

__all__ = [
    "POW_LIMIT",
    "POW_LIMIT_BITS",
    "INSTANT_POW_LIMIT_BITS",
    "TARGET_TIMESPAN",
    "TARGET_TIME_PER_BLOCK",
    "ADJUSTMENT_FACTOR",
    "BLOCKS_PER_RETARGET",
    "MIN_RETARGET_TIMESPAN",
    "MAX_RETARGET_TIMESPAN",
    "COMPACT_MANTISSA_MASK",
    "COMPACT_SIGN_BIT",
    "RetargetParams",
    "NETWORK_RETARGET_PARAMS",
    "compact_to_big",
    "big_to_compact",
    "calc_work",
    "hash_to_big",
    "check_proof_of_work",
    "blocks_per_retarget",
    "retarget_ancestor_height",
    "is_retarget_height",
    "retarget_target",
    "next_required_bits",
    "next_bits_from_headers",
]

POW_LIMIT: Final = (1 << 255) - 1
POW_LIMIT_BITS: Final = 0x1F0008FF
INSTANT_POW_LIMIT_BITS: Final = 0x207FFFFF
TARGET_TIMESPAN: Final = 24 * 60 * 60
TARGET_TIME_PER_BLOCK: Final = 2 * 60
ADJUSTMENT_FACTOR: Final = 4
BLOCKS_PER_RETARGET: Final = TARGET_TIMESPAN // TARGET_TIME_PER_BLOCK
MIN_RETARGET_TIMESPAN: Final = TARGET_TIMESPAN // ADJUSTMENT_FACTOR
MAX_RETARGET_TIMESPAN: Final = TARGET_TIMESPAN * ADJUSTMENT_FACTOR
COMPACT_MANTISSA_MASK: Final = 0x007FFFFF
COMPACT_SIGN_BIT: Final = 0x00800000
HASH_SIZE: Final = 32

R_TARGET_POSITIVE = rule(
    "POW-001", Reason.POW_TARGET_NOT_POSITIVE,
    "The target that the header's bits denote is greater than zero.",
    suite="chain", upstream="CheckProofOfWork: \"block target difficulty is too low.\"",
    note="Quirk: bits with the sign bit set denote a negative target, and a zero mantissa (or an "
    "exponent that shifts it away) denotes zero; both are rejected here, not at decoding.",
)
R_TARGET_LIMIT = rule(
    "POW-002", Reason.POW_TARGET_ABOVE_LIMIT,
    "The target is at most the network's PowLimit.",
    suite="chain", upstream="CheckProofOfWork: \"block target difficulty is higher than max of limit.\"",
)
R_HASH_TARGET = rule(
    "POW-003", Reason.POW_HASH_ABOVE_TARGET,
    "sha256d of the AuxPoW's Bitcoin parent header, read as a little-endian integer, is at most the target.",
    suite="chain", upstream="CheckProofOfWork: \"block target difficulty is higher than expected difficulty.\"",
    note="Quirk: the hash compared is the parent header's, against the ELA header's target; the "
    "parent header's own bits are never looked at.",
)
R_ANCESTOR = rule(
    "POW-004", Reason.RETARGET_ANCESTOR_MISSING,
    "The next bits are computed from the previous header and, at a retarget height, from its "
    "ancestor at height prev.height - (blocks_per_retarget - 1).",
    suite="chain", upstream="CalcNextRequiredDifficulty: \"unable to obtain previous retarget block\"",
    note="Deviation: where the ancestor is missing upstream walks off the end of the parent chain "
    "and dereferences nil; the spec rejects.",
)

U32 = Annotated[int, Field(ge=0, le=U32_MAX)]


def _check_u32(value: int, what: str) -> None:
    # [ENC-005] compact bits, heights and timestamps are u32 values
    if not 0 <= value <= U32_MAX:
        raise Reject(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"{what} {value} is not a u32")


# -- compact bits ---------------------------------------------------------------------------------


def compact_to_big(bits: int) -> int:
    """The signed target that the compact u32 ``bits`` denotes (``CompactToBig``)."""
    _check_u32(bits, "bits")
    mantissa = bits & COMPACT_MANTISSA_MASK
    negative = bits & COMPACT_SIGN_BIT != 0
    exponent = bits >> 24
    if exponent <= 3:
        n = mantissa >> (8 * (3 - exponent))
    else:
        n = mantissa << (8 * (exponent - 3))
    return -n if negative else n


def big_to_compact(n: int) -> int:
    """The compact u32 of the integer ``n`` (``BigToCompact``): its top three bytes, rounded down.

    Defined for every integer, as upstream's: a negative ``n`` sets the sign bit, and the exponent
    is the byte length of ``|n|`` (plus one when the mantissa's bit 23 would be set), truncated
    to 8 bits by the final ``uint32(exponent << 24)`` (only for ``|n| >= 2**2040``).
    """
    if n == 0:
        return 0
    magnitude = -n if n < 0 else n
    exponent = (magnitude.bit_length() + 7) // 8
    if exponent <= 3:
        mantissa = magnitude << (8 * (3 - exponent))
    else:
        mantissa = magnitude >> (8 * (exponent - 3))
    if mantissa & COMPACT_SIGN_BIT:
        mantissa >>= 8
        exponent += 1
    compact = ((exponent << 24) & U32_MAX) | mantissa
    if n < 0:
        compact |= COMPACT_SIGN_BIT
    return compact


def calc_work(bits: int) -> int:
    """``2**256 // (target + 1)``, or 0 when the target is not positive (``CalcWork``)."""
    target = compact_to_big(bits)
    if target <= 0:
        return 0
    return (1 << 256) // (target + 1)


def hash_to_big(h: bytes) -> int:
    """A 32-byte hash in stored order as an integer: little-endian (``HashToBig``)."""
    # [ENC-006] a hash is exactly 32 bytes
    if len(h) != HASH_SIZE:
        raise DecodeError(Reason.WRONG_LENGTH, "ENC-006", f"hash: {len(h)} bytes, need {HASH_SIZE}")
    return int.from_bytes(h, "little")


def check_proof_of_work(parent_header_hash: bytes, bits: int, pow_limit: int) -> None:
    """``CheckProofOfWork``: the target of ``bits`` is in ``(0, pow_limit]`` and the parent hash meets it.

    ``parent_header_hash`` is ``sha256d`` of the AuxPoW's 80-byte Bitcoin header, stored order.
    """
    target = compact_to_big(bits)
    # [POW-001] the target is greater than zero
    if target <= 0:
        raise Reject(Reason.POW_TARGET_NOT_POSITIVE, "POW-001", f"bits {bits:#010x} give target {target}")
    # [POW-002] the target is at most PowLimit
    if target > pow_limit:
        raise Reject(Reason.POW_TARGET_ABOVE_LIMIT, "POW-002", f"bits {bits:#010x} give a target above PowLimit")
    value = hash_to_big(parent_header_hash)
    # [POW-003] the parent header's hash is at most the target
    if value > target:
        raise Reject(Reason.POW_HASH_ABOVE_TARGET, "POW-003",
                     f"parent hash {value:#066x} > target {target:#066x}")


# -- retarget ---------------------------------------------------------------------------------------


class RetargetParams(SpecModel):
    """The proof-of-work parameters of one network (upstream's ``PowConfiguration``)."""

    pow_limit: Annotated[int, Field(gt=0)]
    """The highest target a block may have; also the cap of a retarget."""
    pow_limit_bits: U32
    """Bits of the block after genesis; ``0x207fffff`` switches retargets off (instant mode)."""
    target_timespan: Annotated[int, Field(gt=0)] = TARGET_TIMESPAN
    """Seconds one retarget window should take."""
    target_time_per_block: Annotated[int, Field(gt=0)] = TARGET_TIME_PER_BLOCK
    """Seconds one block should take."""
    adjustment_factor: Annotated[int, Field(gt=0)] = ADJUSTMENT_FACTOR
    """A retarget scales the target by at most this factor either way."""

    @property
    def instant(self) -> bool:
        """Upstream's test ``PowLimitBits == 0x207fffff``: every block gets ``pow_limit_bits``."""
        return self.pow_limit_bits == INSTANT_POW_LIMIT_BITS

    @property
    def blocks_per_retarget(self) -> int:
        """``uint32(target_timespan / target_time_per_block)``."""
        return (self.target_timespan // self.target_time_per_block) & U32_MAX

    @property
    def min_retarget_timespan(self) -> int:
        """``target_timespan / adjustment_factor`` (integer division)."""
        return self.target_timespan // self.adjustment_factor

    @property
    def max_retarget_timespan(self) -> int:
        """``target_timespan * adjustment_factor``."""
        return self.target_timespan * self.adjustment_factor


NETWORK_RETARGET_PARAMS: Final[Mapping[str, RetargetParams]] = MappingProxyType({
    "mainnet": RetargetParams(pow_limit=POW_LIMIT, pow_limit_bits=POW_LIMIT_BITS),
    "testnet": RetargetParams(pow_limit=POW_LIMIT, pow_limit_bits=POW_LIMIT_BITS),
    "regnet": RetargetParams(pow_limit=POW_LIMIT, pow_limit_bits=POW_LIMIT_BITS),
    "instant": RetargetParams(pow_limit=POW_LIMIT, pow_limit_bits=INSTANT_POW_LIMIT_BITS,
                              target_timespan=10, target_time_per_block=1),
})
"""The retarget parameters of each network. Main, test and reg nets share them (``TestNet()`` and
``RegNet()`` do not override ``PowConfiguration``); ``instant`` is ``InstantBlock()`` applied to
any of them (10 s timespan, 1 s per block, bits ``0x207fffff``, which also switches retargets off)."""


def blocks_per_retarget(params: RetargetParams) -> int:
    """Blocks in one retarget window: 720 on every network but ``instant``."""
    return params.blocks_per_retarget


def retarget_ancestor_height(prev_height: int, params: RetargetParams) -> int:
    """Height of the first block of the window that ends at ``prev_height`` (u32 arithmetic)."""
    return (prev_height - params.blocks_per_retarget + 1) & U32_MAX


def is_retarget_height(prev_height: int, params: RetargetParams) -> bool:
    """Whether the block after ``prev_height`` gets new bits: ``uint32(prev + 1) % blocks == 0``."""
    return ((prev_height + 1) & U32_MAX) % params.blocks_per_retarget == 0


def retarget_target(prev_bits: int, actual_timespan: int, params: RetargetParams) -> int:
    """The new target before compaction: ``old * clamp(actual) // timespan``, capped at PowLimit.

    ``actual_timespan`` is the window's duration as upstream reads it, ``uint32(prev.ts -
    first.ts)``. Integer division rounds toward minus infinity, as Go's ``big.Int.Div`` does for a
    positive divisor.
    """
    adjusted = min(max(actual_timespan, params.min_retarget_timespan), params.max_retarget_timespan)
    new = compact_to_big(prev_bits) * adjusted // params.target_timespan
    return min(new, params.pow_limit)


def next_required_bits(prev_height: int, prev_bits: int, prev_timestamp: int,
                       first_timestamp: int | None, params: RetargetParams) -> int:
    """The bits the block after ``prev`` must carry (``CalcNextRequiredDifficulty``).

    1. ``prev_height == 0`` or instant mode: ``params.pow_limit_bits``.
    2. ``uint32(prev_height + 1) % blocks_per_retarget != 0``: ``prev_bits`` unchanged.
    3. Otherwise ``first_timestamp`` is the timestamp of the ancestor at ``prev_height -
       (blocks_per_retarget - 1)``; ``actual = uint32(prev_timestamp - first_timestamp)`` (a
       first timestamp later than the last wraps to a huge value and clamps to the maximum),
       and the result is ``big_to_compact(retarget_target(prev_bits, actual, params))``.

    ``first_timestamp`` is only read in case 3; there it must be given ([POW-004]).
    """
    for value, what in ((prev_height, "prev height"), (prev_bits, "prev bits"), (prev_timestamp, "prev timestamp")):
        _check_u32(value, what)
    if prev_height == 0 or params.instant:
        return params.pow_limit_bits
    if not is_retarget_height(prev_height, params):
        return prev_bits
    # [POW-004] a retarget needs the first header of the window
    if first_timestamp is None:
        raise Reject(Reason.RETARGET_ANCESTOR_MISSING, "POW-004",
                     f"ancestor at height {retarget_ancestor_height(prev_height, params)} not given")
    _check_u32(first_timestamp, "first timestamp")
    actual = (prev_timestamp - first_timestamp) & U32_MAX
    return big_to_compact(retarget_target(prev_bits, actual, params))


def next_bits_from_headers(headers: Sequence[tuple[int, int, int]], params: RetargetParams) -> int:
    """:func:`next_required_bits` for the chain ``headers`` of ``(height, timestamp, bits)``, oldest first.

    The last entry is ``prev``. The window's first header is found as upstream finds it, by
    walking back from ``prev`` to the first entry whose height is ``prev.height -
    (blocks_per_retarget - 1)``; only the entries actually needed are read.
    """
    # [POW-004] the previous header must be given
    if len(headers) == 0:
        raise Reject(Reason.RETARGET_ANCESTOR_MISSING, "POW-004", "no previous header")
    prev_height, prev_timestamp, prev_bits = headers[-1]
    first_timestamp = None
    _check_u32(prev_height, "prev height")
    if prev_height != 0 and not params.instant and is_retarget_height(prev_height, params):
        wanted = retarget_ancestor_height(prev_height, params)
        for height, timestamp, _ in reversed(headers):
            if height == wanted:
                first_timestamp = timestamp
                break
    return next_required_bits(prev_height, prev_bits, prev_timestamp, first_timestamp, params)
