"""``Fixed64``: amounts in sela, a signed 64-bit count of 10^-8 ELA.

On the wire an amount is a little-endian ``i64``. As text (RPC, configuration) it is a decimal with
at most 8 fractional digits. Upstream: ``Elastos.ELA/common/fixed64.go``.

============  =============  ==========================================
name          value          meaning
============  =============  ==========================================
``SELA``      1              the unit of ``Fixed64``
``ELA``       100 000 000    sela in one ELA (10^8)
============  =============  ==========================================
"""

from __future__ import annotations

import re
from typing import Final

from spec.encoding.primitives import I64_MAX, I64_MIN, Reader, encode_int, read_i64
from spec.errors import DecodeError, Reason, Reject, rule

SELA: Final = 1
ELA: Final = 100_000_000
DECIMALS: Final = 8

R_SYNTAX = rule(
    "ENC-008", Reason.FIXED64_SYNTAX,
    "An amount written as text matches -?[0-9]+(.[0-9]+)?.",
    suite="encoding",
    note="Deviation: upstream StringToFixed64 does not validate its input (the source leaves that as an open task) and "
    "lets strconv reject some malformed strings; the spec states the grammar.",
)
R_PRECISION = rule(
    "ENC-009", Reason.FIXED64_PRECISION,
    "An amount written as text has at most 8 fractional digits.",
    suite="encoding", upstream="StringToFixed64: \"unsupported precision\"",
)

_AMOUNT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def encode_fixed64(sela: int) -> bytes:
    """Eight bytes, little-endian, signed."""
    return encode_int(sela, "i64")


def read_fixed64(r: Reader, what: str = "Fixed64") -> int:
    return read_i64(r, what)


def fixed64_to_string(sela: int) -> str:
    """The text form upstream's ``Fixed64.String`` writes.

    The integer part, then, only when the fraction is non-zero, a point and all 8 fractional digits
    (trailing zeros are kept: 1.5 ELA is ``"1.50000000"``).
    """
    # [ENC-005] an integer is written only as a type whose range contains it
    if not I64_MIN <= sela <= I64_MAX:
        raise Reject(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"{sela} does not fit i64")
    sign = "-" if sela < 0 else ""
    whole, frac = divmod(abs(sela), ELA)
    return f"{sign}{whole}" + (f".{frac:08d}" if frac else "")


def fixed64_from_string(text: str) -> int:
    """Parse an amount; the inverse of :func:`fixed64_to_string` on its range."""
    m = _AMOUNT.fullmatch(text)
    # [ENC-008] an amount written as text matches -?[0-9]+(.[0-9]+)?
    if m is None:
        raise DecodeError(Reason.FIXED64_SYNTAX, "ENC-008", f"{text[:40]!r} is not a decimal amount")
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    # [ENC-009] an amount written as text has at most 8 fractional digits
    if len(frac) > DECIMALS:
        raise DecodeError(Reason.FIXED64_PRECISION, "ENC-009", f"{len(frac)} fractional digits")
    whole = whole.lstrip("0") or "0"
    # [ENC-005] (checked on the digit count first, so that no huge number is ever built)
    if len(whole) > 19:
        raise DecodeError(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"{text[:40]!r} does not fit i64 sela")
    value = int(whole) * ELA + int(frac.ljust(DECIMALS, "0"))
    value = -value if sign else value
    # [ENC-005] an integer is written only as a type whose range contains it
    if not I64_MIN <= value <= I64_MAX:
        raise DecodeError(Reason.VALUE_OUT_OF_RANGE, "ENC-005", f"{text[:40]!r} does not fit i64 sela")
    return value
