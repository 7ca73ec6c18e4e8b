"""DID and DID URL syntax, parsed exactly as the Elastos DID SDKs parse them.

A **DID** is ``did:elastos:<method-specific-id>``. A **DID URL** is
``[did] ["/" path] ["?" query] ["#" fragment]``; without a DID it is relative and is resolved
against a context DID (the document subject, a credential's subject or issuer, a presentation's
holder). Quirk (v1 compatibility): a string that starts with neither ``did:``, ``/``, ``?`` nor
``#`` is a **bare fragment**: ``"primary"`` means ``"#primary"``.

Token rule (every part: scheme, method, id, path segment, query name and value, fragment)
-----------------------------------------------------------------------------------------

=============  ==============================================================
position       characters
=============  ==============================================================
first          ``A-Z a-z 0-9`` (in a DID URL also a ``%HH`` escape)
later          ``A-Z a-z 0-9 . _ -`` (in a DID URL also a ``%HH`` escape)
=============  ==============================================================

Characters at or below U+0020 at both ends of the string are trimmed first. The SDK's error
messages carry a position (``Invalid char at: 12``); every rejection here carries the same message,
with the position counted in UTF-16 code units as Java counts it. The method-specific id may not
hold ``:`` although the written method specification's ABNF allows ``idstring *(":" idstring)``.

Equality and order: two DIDs are equal when method and id are equal; they are ordered by method,
then id, with Java's ``String.compareTo`` (UTF-16 code unit order: for ASCII, byte order with
upper case before lower case). DID URLs are compared by their full string form.

The ID chain is stricter than the SDK ([DID-012]): an id is letters and digits only, and a
customized id is stored and looked up lower-cased, so on chain ``did:elastos:Foo`` and
``did:elastos:foo`` are one DID.

Upstream: Elastos.DID.Java.SDK ``DID.java`` and ``DIDURL.java`` (class ``Parser``), ``DIDTest.java``,
``DIDURLTest.java``; Elastos.ELA.SideChain.EID ``core/vm/didvalidator.go`` (``IsLetterOrNumber``,
``strings.ToLower``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "SCHEME", "METHOD", "DID", "DIDURL", "parse_did", "parse_did_url", "check_chain_id", "chain_key",
]

SCHEME: Final = "did"
METHOD: Final = "elastos"

R_EMPTY = rule(
    "DID-001", Reason.DID_EMPTY,
    "A DID is not empty once the characters at or below U+0020 at both ends are trimmed.",
    suite="did", upstream="DID.Parser: \"empty DID string\"",
)
R_CHAR = rule(
    "DID-002", Reason.DID_INVALID_CHAR,
    "Each part of a DID starts with a letter or digit and goes on with letters, digits, '.', '_' or '-'.",
    suite="did", upstream="DID.Parser.scanNextPart: \"Invalid char at: <pos>\"",
    note="Deviation from the written ABNF: the SDK allows no ':' inside the method-specific id.",
)
R_SCHEMA = rule(
    "DID-003", Reason.DID_BAD_SCHEMA,
    "A DID starts with the scheme 'did'.",
    suite="did", upstream="DID.Parser: \"Invalid DID schema: '<schema>', at: <pos>\"",
)
R_METHOD_MISSING = rule(
    "DID-004", Reason.DID_MISSING_METHOD,
    "The scheme is followed by ':' and at least one more character.",
    suite="did", upstream="DID.Parser: \"Missing method and id string at: <pos>\"",
)
R_METHOD = rule(
    "DID-005", Reason.DID_UNKNOWN_METHOD,
    "The method is exactly 'elastos'.",
    suite="did", upstream="DID.Parser: \"Unknown DID method: '<method>', at: <pos>\"",
)
R_ID_MISSING = rule(
    "DID-006", Reason.DID_MISSING_ID,
    "The method is followed by ':' and a non-empty method-specific id.",
    suite="did", upstream="DID.Parser: \"Missing id string at: <pos>\"",
)
R_URL_EMPTY = rule(
    "DID-007", Reason.DIDURL_EMPTY,
    "A DID URL is not empty once trimmed.",
    suite="did", upstream="DIDURL.Parser: \"empty DIDURL string\"",
)
R_URL_DID = rule(
    "DID-008", Reason.DIDURL_INVALID_DID,
    "A DID URL that starts with 'did:' starts with a valid DID, up to the first '/', '?' or '#'.",
    suite="did", upstream="DIDURL.Parser: \"Invalid did at: <pos>\"",
)
R_URL_CHAR = rule(
    "DID-009", Reason.DIDURL_INVALID_CHAR,
    "Path segments, query names and values and the fragment follow the token rule; "
    "no segment, name or value is empty where a separator follows it.",
    suite="did", upstream="DIDURL.Parser.scanNextPart: \"Invalid char at: <pos>\"",
    note="Quirk: an empty trailing path segment ('did:elastos:x/a/'), a trailing '&' and "
    "'name=value=more' (which then has no value) are accepted, as the SDK accepts them.",
)
R_URL_HEX = rule(
    "DID-010", Reason.DIDURL_INVALID_HEX,
    "A '%' in a DID URL is followed by two hexadecimal digits.",
    suite="did", upstream="DIDURL.Parser.scanNextPart: \"Invalid hex char at: <pos>\"",
)
R_URL_ESCAPE_SHORT = rule(
    "DID-011", Reason.DIDURL_INVALID_CHAR,
    "A '%' in a DID URL has at least two more characters after it before the (trimmed) end.",
    suite="did", upstream="DIDURL.Parser.scanNextPart: \"Invalid char at: <pos>\"",
)
R_CHAIN_ID = rule(
    "DID-012", Reason.DID_CHAIN_ID_CHARSET,
    "On the ID chain a method-specific id is letters and digits only.",
    suite="did", upstream="didvalidator.go: \"invalid  DID: only letter and number is allowed\" / "
    "\"invalid custom ID: only letter and number is allowed\"",
)

_ALNUM: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LATER: Final = _ALNUM | frozenset("._-")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_CHAIN_ID: Final = re.compile(r"[A-Za-z0-9]+")


def _utf16_pos(text: str, i: int) -> int:
    """The Java (UTF-16 code unit) index of code point index ``i`` of ``text``."""
    return i + sum(1 for c in text[:i] if ord(c) > 0xFFFF)


def _utf16_key(text: str) -> bytes:
    """A sort key ordering strings as Java's ``String.compareTo`` does."""
    return text.encode("utf-16-be", "surrogatepass")


def _is_token_char(c: str, start: bool) -> bool:
    return c in _ALNUM or (not start and c in "._-")


def _trim(text: str) -> tuple[int, int]:
    """The bounds of ``text`` without the characters at or below U+0020 at both ends."""
    start, limit = 0, len(text)
    while limit > start and text[limit - 1] <= " ":
        limit -= 1
    while start < limit and text[start] <= " ":
        start += 1
    return start, limit


@functools.total_ordering
class DID(BaseModel):
    """A ``did:elastos`` identifier."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    method: Literal["elastos"] = METHOD
    """The DID method: always ``elastos``."""
    id: str
    """The method-specific id: a base58 address for a primitive DID, a name for a customized one."""

    def __str__(self) -> str:
        return f"{SCHEME}:{self.method}:{self.id}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DID):
            return self.id == other.id and self.method == other.method
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.method, self.id))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DID):
            return NotImplemented
        return (_utf16_key(self.method), _utf16_key(self.id)) < (_utf16_key(other.method), _utf16_key(other.id))

    @classmethod
    def parse(cls, text: str) -> DID:
        """Parse a DID string: see :func:`parse_did`."""
        return parse_did(text)


def _scan_did_part(text: str, start: int, limit: int, delimiter: str | None) -> int:
    """``DID.Parser.scanNextPart``: the index of ``delimiter`` (or ``limit``), checking tokens."""
    token_start = True
    for i in range(start, limit):
        c = text[i]
        if delimiter is not None and c == delimiter:
            return i
        if _is_token_char(c, token_start):
            token_start = False
            continue
        # [DID-002] each part starts with a letter or digit, then letters, digits, '.', '_', '-'
        raise DecodeError(Reason.DID_INVALID_CHAR, "DID-002", f"Invalid char at: {_utf16_pos(text, i)}")
    return limit


def _parse_did_range(text: str, start: int, limit: int) -> DID:
    """``DID.Parser.parse(did, start, limit)``."""
    while limit > start and text[limit - 1] <= " ":
        limit -= 1
    while start < limit and text[start] <= " ":
        start += 1
    # [DID-001] a DID is not empty once trimmed
    if start == limit:
        raise DecodeError(Reason.DID_EMPTY, "DID-001", "empty DID string")
    pos = start
    nxt = _scan_did_part(text, pos, limit, ":")
    schema = text[pos:nxt]
    # [DID-003] a DID starts with the scheme 'did'
    if schema != SCHEME:
        raise DecodeError(Reason.DID_BAD_SCHEMA, "DID-003",
                          f"Invalid DID schema: '{schema}', at: {_utf16_pos(text, pos)}")
    pos = nxt
    # [DID-004] the scheme is followed by ':' and more
    if pos + 1 >= limit or text[pos] != ":":
        raise DecodeError(Reason.DID_MISSING_METHOD, "DID-004",
                          f"Missing method and id string at: {_utf16_pos(text, pos)}")
    pos += 1
    nxt = _scan_did_part(text, pos, limit, ":")
    method = text[pos:nxt]
    # [DID-005] the method is exactly 'elastos'
    if method != METHOD:
        raise DecodeError(Reason.DID_UNKNOWN_METHOD, "DID-005",
                          f"Unknown DID method: '{method}', at: {_utf16_pos(text, pos)}")
    pos = nxt
    # [DID-006] the method is followed by ':' and a non-empty id
    if pos + 1 >= limit or text[pos] != ":":
        at = pos if pos + 1 > limit else pos + 1
        raise DecodeError(Reason.DID_MISSING_ID, "DID-006", f"Missing id string at: {_utf16_pos(text, at)}")
    pos += 1
    nxt = _scan_did_part(text, pos, limit, None)
    return DID(method=METHOD, id=text[pos:nxt])


_FAST_DID: Final = re.compile(r"did:elastos:([A-Za-z0-9][A-Za-z0-9._-]*)")
"""The common form of a DID, which :func:`_parse_did_range` accepts unchanged (a fast path; a test checks
the two agree on every string)."""
_FAST_URL: Final = re.compile(r"(?:did:elastos:([A-Za-z0-9][A-Za-z0-9._-]*))?#([A-Za-z0-9][A-Za-z0-9._-]*)")
"""The common forms of a DID URL: ``did:elastos:id#fragment`` and ``#fragment``."""


def parse_did(text: str) -> DID:
    """Parse a DID string as ``new DID(text)`` does (after trimming both ends)."""
    m = _FAST_DID.fullmatch(text)
    if m is not None:
        return DID(method=METHOD, id=m.group(1))
    return _parse_did_range(text, 0, len(text))


def _scan_url_part(text: str, start: int, limit: int, part_seps: str, token_seps: str) -> int:
    """``DIDURL.Parser.scanNextPart``: the index of the first part separator (or ``limit``)."""
    token_start = True
    i = start
    while i < limit:
        c = text[i]
        if c in part_seps:
            return i
        if c in token_seps:
            # [DID-009] no empty token before a token separator
            if token_start:
                raise DecodeError(Reason.DIDURL_INVALID_CHAR, "DID-009", f"Invalid char at: {_utf16_pos(text, i)}")
            token_start = True
            i += 1
            continue
        if _is_token_char(c, token_start):
            token_start = False
            i += 1
            continue
        if c == "%":
            # [DID-011] a '%' has at least two characters after it
            if i + 2 >= limit:
                raise DecodeError(Reason.DIDURL_INVALID_CHAR, "DID-011", f"Invalid char at: {_utf16_pos(text, i)}")
            for j in (i + 1, i + 2):
                # [DID-010] a '%' is followed by two hexadecimal digits
                if text[j] not in _HEX:
                    raise DecodeError(Reason.DIDURL_INVALID_HEX, "DID-010",
                                      f"Invalid hex char at: {_utf16_pos(text, j)}")
            token_start = False
            i += 3
            continue
        # [DID-009] path, query and fragment characters follow the token rule
        raise DecodeError(Reason.DIDURL_INVALID_CHAR, "DID-009", f"Invalid char at: {_utf16_pos(text, i)}")
    return limit


def _java_split(text: str, sep: str) -> list[str]:
    """Java ``String.split`` with a one-character literal: trailing empty strings are dropped."""
    parts = text.split(sep)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return [] if parts == [""] and text else parts


class DIDURL(BaseModel):
    """A DID URL: a DID (or none, when relative and no context was given), path, query and fragment."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    did: DID | None = None
    """The DID; from the context when the string was relative; ``None`` when relative without one."""
    path: str | None = None
    """The path including its leading ``/``, undecoded."""
    query: tuple[tuple[str, str | None], ...] = ()
    """Query parameters in first-seen order; a later repeat of a name replaces the value only."""
    fragment: str | None = None
    """The fragment without its ``#``."""

    _str: str | None = PrivateAttr(default=None)
    """Memo of ``str(self)`` (equality, hashing and ordering all use it)."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> DIDURL:
        """A copy with ``update`` applied; the memo of the text is not carried over."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__pydantic_private__["_str"] = None
        return copy

    def to_string(self, context: DID | None = None) -> str:
        """``DIDURL.toString(context)``: the DID is left out when it equals ``context``."""
        out = []
        if self.did is not None and (context is None or self.did != context):
            out.append(str(self.did))
        if self.path:
            out.append(self.path)
        if self.query:
            out.append("?" + "&".join(k if v is None else f"{k}={v}" for k, v in self.query))
        if self.fragment:
            out.append("#" + self.fragment)
        return "".join(out)

    def __str__(self) -> str:
        memo = self.__pydantic_private__["_str"]  # the model is frozen: the text cannot go stale
        if memo is None:
            memo = self.__pydantic_private__["_str"] = self.to_string(None)
        return memo

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DIDURL):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DIDURL):
            return NotImplemented
        return _utf16_key(str(self)) < _utf16_key(str(other))

    def __le__(self, other: object) -> bool:
        if not isinstance(other, DIDURL):
            return NotImplemented
        return _utf16_key(str(self)) <= _utf16_key(str(other))

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, DIDURL):
            return NotImplemented
        return _utf16_key(str(self)) > _utf16_key(str(other))

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, DIDURL):
            return NotImplemented
        return _utf16_key(str(self)) >= _utf16_key(str(other))

    @property
    def qualified(self) -> bool:
        """``isQualified``: it has a DID and a fragment."""
        return self.did is not None and self.fragment is not None

    @classmethod
    def parse(cls, text: str, context: DID | None = None) -> DIDURL:
        """Parse a DID URL: see :func:`parse_did_url`."""
        return parse_did_url(text, context)


def parse_did_url(text: str, context: DID | None = None) -> DIDURL:
    """Parse a DID URL as ``new DIDURL(context, text)`` does."""
    m = _FAST_URL.fullmatch(text)
    if m is not None:
        did = context if m.group(1) is None else DID(method=METHOD, id=m.group(1))
        return DIDURL(did=did, fragment=m.group(2))
    return _parse_did_url_full(text, context)


def _parse_did_url_full(text: str, context: DID | None = None) -> DIDURL:
    """``DIDURL.Parser``, character by character (every form, every error position)."""
    did = context
    path: str | None = None
    query: dict[str, str | None] = {}
    fragment: str | None = None
    start, limit = _trim(text)
    # [DID-007] a DID URL is not empty once trimmed
    if start == limit:
        raise DecodeError(Reason.DIDURL_EMPTY, "DID-007", "empty DIDURL string")
    pos = start
    if text.startswith("did:", pos):
        nxt = _scan_url_part(text, pos, limit, "/?#", ":")
        try:
            did = _parse_did_range(text, pos, nxt)
        except Reject as e:
            # [DID-008] the DID part of a DID URL is a valid DID
            raise DecodeError(Reason.DIDURL_INVALID_DID, "DID-008",
                              f"Invalid did at: {_utf16_pos(text, pos)} ({e.detail})") from e
        pos = nxt
    if pos < limit and text[pos] == "/":
        nxt = _scan_url_part(text, pos + 1, limit, "?#", "/")
        path = text[pos:nxt]
        pos = nxt
    if pos < limit and text[pos] == "?":
        nxt = _scan_url_part(text, pos + 1, limit, "#", "&=")
        query_string = text[pos + 1:nxt]
        pos = nxt
        if query_string:
            for pair in _java_split(query_string, "&"):
                parts = _java_split(pair, "=")
                if parts and parts[0]:
                    query[parts[0]] = parts[1] if len(parts) == 2 else None
    if (pos < limit and text[pos] == "#") or pos == start:
        if text[pos] == "#":
            pos += 1
        nxt = _scan_url_part(text, pos, limit, "", "")
        if nxt > pos:
            fragment = text[pos:nxt]
    return DIDURL(did=did, path=path, query=tuple(query.items()), fragment=fragment)


def check_chain_id(did: DID) -> None:
    """The ID chain's id rule, stricter than the SDK's."""
    # [DID-012] on chain an id is letters and digits only
    if not _CHAIN_ID.fullmatch(did.id):
        raise Reject(Reason.DID_CHAIN_ID_CHARSET, "DID-012", "invalid  DID: only letter and number is allowed")


def chain_key(did: DID) -> str:
    """The key under which the ID chain stores and looks up a customized DID: its id, lower-cased
    (``strings.ToLower`` in ``checkCustomizedDID``), so customized ids are case-insensitive on chain."""
    return did.id.lower()
