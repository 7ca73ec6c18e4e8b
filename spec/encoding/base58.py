"""Base58 (Bitcoin alphabet) and Base58Check.

Base58 writes a byte string as a big-endian number in base 58 over the alphabet
``123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz``; each leading zero byte becomes a
leading ``1``. Base58Check appends ``sha256d(payload)[0:4]`` before encoding.

Quirk: ELA encodes addresses through a decimal big integer and so has no leading-``1`` rule
(``Elastos.ELA/common/uint168.go``). Address payloads never start with a zero byte, so for
addresses the two agree; :mod:`spec.encoding.address` rejects a leading ``1``.
"""

from __future__ import annotations

import functools

from typing import Final

from spec.crypto.hashes import sha256d
from spec.errors import DecodeError, Reason, rule

ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CHECKSUM_SIZE: Final = 4
_INDEX: Final = {c: i for i, c in enumerate(ALPHABET)}

R_CHARACTER = rule(
    "B58-001", Reason.INVALID_BASE58_CHARACTER,
    "Base58 text uses only the 58 characters of the Bitcoin alphabet.",
    suite="encoding", upstream="base58: \"invalid base58 digit\"",
)
R_CHECK_SHORT = rule(
    "B58-002", Reason.TRUNCATED,
    "A Base58Check string decodes to at least the 4 checksum bytes.",
    suite="encoding",
)
R_CHECKSUM = rule(
    "B58-003", Reason.BAD_CHECKSUM,
    "The last 4 bytes of a Base58Check payload are sha256d of the rest, first 4 bytes.",
    suite="encoding", upstream="base58.CheckDecode: ErrChecksum",
)


_CHUNK_DIGITS: Final = 10
_CHUNK: Final = 58 ** _CHUNK_DIGITS
_PAIRS: Final = tuple(a + b for a in ALPHABET for b in ALPHABET)
"""The two-digit strings of 0..58^2-1, most significant digit first."""


def b58encode(data: bytes) -> str:
    """Base58 of ``data`` with one ``1`` per leading zero byte."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    n = int.from_bytes(data, "big")
    digits = []
    while n:
        n, chunk = divmod(n, _CHUNK)  # ten digits at a time on big numbers, two at a time within
        for _ in range(_CHUNK_DIGITS // 2):
            chunk, rem = divmod(chunk, 58 * 58)
            digits.append(_PAIRS[rem])
    text = "".join(reversed(digits)).lstrip(ALPHABET[0])  # the last chunk's padding is not a digit
    return "1" * zeros + text


@functools.lru_cache(maxsize=4096)
def b58decode(text: str) -> bytes:
    """The bytes of Base58 ``text``; the inverse of :func:`b58encode`.

    Memoized (a pure function of ``text``): a document decodes each of its keys several times."""
    n = 0
    for pos, c in enumerate(text):
        digit = _INDEX.get(c)
        # [B58-001] base58 text uses only the Bitcoin alphabet
        if digit is None:
            raise DecodeError(Reason.INVALID_BASE58_CHARACTER, "B58-001", f"{c!r} at position {pos}")
        n = n * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def b58check_encode(payload: bytes) -> str:
    """Base58 of ``payload || sha256d(payload)[0:4]``."""
    return b58encode(payload + sha256d(payload)[:CHECKSUM_SIZE])


def b58check_decode(text: str) -> bytes:
    """The payload of a Base58Check string, after its checksum is verified."""
    raw = b58decode(text)
    # [B58-002] a Base58Check string decodes to at least the 4 checksum bytes
    if len(raw) < CHECKSUM_SIZE:
        raise DecodeError(Reason.TRUNCATED, "B58-002", f"{len(raw)} bytes, need at least {CHECKSUM_SIZE}")
    payload, check = raw[:-CHECKSUM_SIZE], raw[-CHECKSUM_SIZE:]
    # [B58-003] the last 4 bytes are sha256d of the rest, first 4 bytes
    if sha256d(payload)[:CHECKSUM_SIZE] != check:
        raise DecodeError(Reason.BAD_CHECKSUM, "B58-003", "base58check checksum mismatch")
    return payload
