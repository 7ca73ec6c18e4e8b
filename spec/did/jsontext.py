"""The JSON text layer of DID documents: a strict parser and the Java SDK's exact serializer.

Elastos DID signatures are over JSON *text* (the normalized form of a document or credential), so
the bytes a serializer writes are part of the protocol. The reference SDK (Java, Jackson 2.11 with
no pretty printer, ``DIDEntity.getObjectMapper``) writes:

* no whitespace: ``,`` and ``:`` with nothing around them;
* strings raw in UTF-8: no ``\\u`` escape for non-ASCII, ``/``, ``&``, ``<`` or ``>``;
* escapes for ``"`` and ``\\``, the short forms ``\\b \\t \\n \\f \\r``, and ``\\u00XX`` (upper-case
  hex) for every other character below U+0020;
* integers plainly, and doubles with Java ``Double.toString`` (``9.5``, ``1.0E20``, ``1.0E-5``);
* the whole text normalized to Unicode NFC (``Normalizer.normalize(json, NFC)`` in ``toString``).

Parsing is strict where it matters for signatures: an object with a member name twice is
rejected (two readers could keep different values), as are lone surrogate escapes (they have no
UTF-8 form), non-finite numbers, nesting deeper than :data:`MAX_DEPTH` and texts longer than
:data:`MAX_TEXT_LENGTH`. Member order is kept, because a document's member order does not change
its normalized form but a test of that needs the order as read.

Values are plain Python: ``dict`` (in member order), ``list``, ``str``, ``int``, ``float``,
``bool`` and ``None``.

Upstream: ``Elastos.DID.Java.SDK`` ``DIDEntity.java`` (``getObjectMapper``, ``serialize``),
Jackson ``WriterBasedJsonGenerator`` / ``CharTypes`` (escape table).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from typing import Any, Final

from spec.errors import DecodeError, Reason, rule

__all__ = ["MAX_DEPTH", "MAX_TEXT_LENGTH", "parse", "serialize", "java_double", "escape_string", "go_marshal_escape",
           "js_key_order"]

MAX_DEPTH: Final = 64
"""Deepest nesting of arrays and objects the spec accepts (the document itself is depth 1)."""
MAX_TEXT_LENGTH: Final = 1 << 20
"""Longest JSON text, in characters, the spec accepts (1 MiB)."""

R_SYNTAX = rule(
    "JSON-001", Reason.JSON_SYNTAX,
    "The text is one JSON value (RFC 8259) with nothing after it but whitespace.",
    suite="did", upstream="Jackson JsonParseException -> MalformedDocumentException",
)
R_DUPLICATE = rule(
    "JSON-002", Reason.JSON_DUPLICATE_MEMBER,
    "No JSON object has two members with the same name.",
    suite="did",
    note="Deviation: Jackson's default keeps the last value; the spec rejects, since two readers may "
    "keep different values of a signed member.",
)
R_DEPTH = rule(
    "JSON-003", Reason.JSON_TOO_DEEP,
    f"Arrays and objects are nested at most {MAX_DEPTH} deep.",
    suite="did", note="Deviation: a resource bound the SDK does not state (Jackson 2.11 has none).",
)
R_LENGTH = rule(
    "JSON-004", Reason.JSON_TOO_LARGE,
    f"A JSON text is at most {MAX_TEXT_LENGTH} characters long.",
    suite="did", note="Deviation: a resource bound the SDK does not state.",
)
R_SURROGATE = rule(
    "JSON-005", Reason.JSON_SYNTAX,
    "A string has no unpaired surrogate (\\ud800-\\udfff escape without its pair): it must have a UTF-8 form.",
    suite="did",
)
R_NUMBER = rule(
    "JSON-006", Reason.JSON_SYNTAX,
    "A number is finite as a double (no 1e400), and NaN/Infinity are not JSON.",
    suite="did",
)

_SHORT_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NEEDS_ESCAPE: Final = re.compile(r'["\\\x00-\x1f]')
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _escape_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return _SHORT_ESCAPES.get(c) or f"\\u{ord(c):04X}"


def escape_string(s: str) -> str:
    """A JSON string literal as Jackson writes it (quotes included)."""
    if s.isprintable() and '"' not in s and "\\" not in s:  # nothing to escape (a fast path)
        return '"' + s + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, s) + '"'


def java_double(x: float) -> str:
    """Java ``Double.toString`` of a finite double (shortest round-trip digits).

    ``1e-3 <= |x| < 1e7`` is written in plain decimal with at least one fractional digit;
    anything else in computerized scientific notation ``d.dddE±n`` (``1.0E20``, ``1.0E-5``).
    """
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    ax = abs(x)
    digits, exp = _shortest_digits(ax)  # ax = 0.d1d2... * 10^exp
    if 1e-3 <= ax < 1e7:
        if exp <= 0:
            return f"{sign}0.{'0' * -exp}{digits}"
        if len(digits) <= exp:
            return f"{sign}{digits}{'0' * (exp - len(digits))}.0"
        return f"{sign}{digits[:exp]}.{digits[exp:]}"
    frac = digits[1:] or "0"
    return f"{sign}{digits[0]}.{frac}E{exp - 1}"


def _shortest_digits(ax: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``ax > 0`` and exponent ``e`` with ``ax = 0.DIGITS * 10^e``."""
    mantissa, _, e = repr(ax).partition("e")
    exp10 = int(e) if e else 0
    whole, _, frac = mantissa.partition(".")
    raw = (whole + frac).lstrip("0")
    lead_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    point = len(whole) - lead_zeros + exp10
    return raw.rstrip("0") or "0", point


def serialize(value: Any) -> str:
    """The exact JSON text Jackson writes for ``value``, NFC-normalized."""
    return unicodedata.normalize("NFC", _write(value))


def _write(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return escape_string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return java_double(v)
    if isinstance(v, dict):
        return "{" + ",".join(escape_string(k) + ":" + _write(x) for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ",".join(_write(x) for x in v) + "]"
    raise TypeError(f"not a JSON value: {type(v).__name__}")


_STRING: Final = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_MAYBE_SURROGATE: Final = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")


def _depth(text: str) -> int:
    """The deepest bracket nesting of ``text``, skipping string contents.

    Complete strings are cut out; an unterminated string (a ``"`` left over) runs to the end of the
    text, so everything after it is cut too. Then the nesting is the running sum of +1 for ``[ {`` and
    -1 for ``] }``."""
    outside = _STRING.sub("", text)
    quote = outside.find('"')
    if quote >= 0:
        outside = outside[:quote]
    brackets = _NOT_BRACKET.sub("", outside)
    return max(0, max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0))


class _Dup(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # members in first-seen order; fewer entries than pairs exactly when a name repeats
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Dup(k)
            seen.add(k)
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise OverflowError(text)
    return x


def parse(text: str) -> Any:
    """Parse one JSON text strictly, keeping member order."""
    # [JSON-004] the text is at most MAX_TEXT_LENGTH characters
    if len(text) > MAX_TEXT_LENGTH:
        raise DecodeError(Reason.JSON_TOO_LARGE, "JSON-004", f"{len(text)} characters")
    # [JSON-003] nesting at most MAX_DEPTH deep (a text with at most MAX_DEPTH opening brackets cannot be deeper)
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise DecodeError(Reason.JSON_TOO_DEEP, "JSON-003", f"deeper than {MAX_DEPTH}")
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
    except _Dup as e:
        # [JSON-002] no object has a member name twice
        raise DecodeError(Reason.JSON_DUPLICATE_MEMBER, "JSON-002", f"member {e.name!r} twice") from None
    except OverflowError as e:
        # [JSON-006] numbers are finite doubles
        raise DecodeError(Reason.JSON_SYNTAX, "JSON-006", f"number out of range: {e}") from None
    except (ValueError, RecursionError) as e:
        # [JSON-001] the text is one JSON value
        raise DecodeError(Reason.JSON_SYNTAX, "JSON-001", str(e)[:200]) from None
    if _MAYBE_SURROGATE.search(text):  # otherwise no string can hold a lone surrogate
        _check_strings(value)
    return value


def _check_strings(v: Any) -> None:
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            strings = [x]
        elif isinstance(x, dict):
            strings = list(x)
            stack.extend(x.values())
        elif isinstance(x, list):
            strings = []
            stack.extend(x)
        else:
            continue
        for s in strings:
            # [JSON-005] no unpaired surrogates
            if _SURROGATE.search(s):
                raise DecodeError(Reason.JSON_SYNTAX, "JSON-005", "unpaired surrogate in a string")


# -- portability hazards (models of other writers; never used to verify) ------------------------------


def go_marshal_escape(text: str) -> str:
    """What the ID chain's Go ``json.Marshal`` writes where the SDK writes ``text``: ``&``, ``<`` and ``>``
    become ``\\u0026``, ``\\u003c`` and ``\\u003e`` (its default ``SetEscapeHTML(true)``), and U+2028 and
    U+2029 become ``\\u2028`` and ``\\u2029``.

    Deviation (hazard): EID re-serializes a published document or credential with Go before it checks
    the inner proofs (``core/vm/did/mashal.go``), so any object whose strings hold one of these
    characters fails on the real chain although its SDK signature is good. The spec verifies the SDK's
    bytes (``serialize``) and accepts such objects; a client that publishes to the real chain must keep
    these characters out of signed strings. Applying this to a whole normalized text is exact because
    the five characters cannot appear in it outside strings."""
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _array_index(key: str) -> int | None:
    """The value of ``key`` if JavaScript treats it as an array index (canonical decimal below 2^32 - 1)."""
    if key == "0" or (key.isascii() and key.isdigit() and key[0] != "0"):
        n = int(key)
        return n if n < (1 << 32) - 1 else None
    return None


def js_key_order(keys: list[str]) -> list[str]:
    """The order in which a JavaScript object enumerates member names: array-index names first, in
    numeric order, then the others in insertion order.

    Deviation (hazard): the JS SDK's ``sortJSONObject`` inserts members in sorted order, but an object
    built that way enumerates integer-like names (``"2"`` before ``"10"``) ahead of the rest, where the
    Java SDK and the spec sort all names as UTF-16 strings (``"10"`` before ``"2"`` before ``"a"``). A
    credential whose subject has integer-like member names is signed over different bytes by the two
    SDKs; the spec follows Java. Keep integer-like names out of signed objects."""
    java = sorted(keys, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
    index = sorted((k for k in java if _array_index(k) is not None), key=lambda k: _array_index(k) or 0)
    return index + [k for k in java if _array_index(k) is None]
