"""The DID layer's fast paths give exactly what the full algorithms give, on any input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import jsontext, syntax
from spec.encoding import base58
from spec.errors import Reject


def _depth_reference(text: str) -> int:
    """The character-by-character scan the regex version replaced."""
    depth = best = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


JSONISH = st.text(alphabet=st.sampled_from('[]{}"\\ab:,1 \n'), max_size=80)


@settings(max_examples=400)
@given(JSONISH)
def test_depth_matches_the_reference_scan(text: str) -> None:
    assert jsontext._depth(text) == _depth_reference(text)


DIDISH = st.text(alphabet=st.sampled_from("did:elastos#abcXYZ019._-/?=&% \t"), max_size=40)


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        v = fn(*args)
    except Reject as e:
        return ("reject", e.reason, e.rule, e.detail)
    return ("ok", v.model_dump(), str(v))


@settings(max_examples=600)
@given(st.one_of(DIDISH, st.from_regex(r"(did:elastos:[A-Za-z0-9][A-Za-z0-9._-]{0,8})?#[A-Za-z0-9][A-Za-z0-9._-]{0,6}",
                                      fullmatch=True)),
       st.sampled_from([None, "did:elastos:ctx"]))
def test_did_url_fast_path_equals_the_full_parser(text: str, ctx: str | None) -> None:
    context = None if ctx is None else syntax.parse_did(ctx)
    assert _outcome(syntax.parse_did_url, text, context) == _outcome(syntax._parse_did_url_full, text, context)


@settings(max_examples=600)
@given(st.one_of(DIDISH, st.from_regex(r"did:elastos:[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True)))
def test_did_fast_path_equals_the_full_parser(text: str) -> None:
    assert _outcome(syntax.parse_did, text) == _outcome(lambda t: syntax._parse_did_range(t, 0, len(t)), text)


def test_did_url_memo_does_not_survive_a_copy() -> None:
    u = syntax.parse_did_url("did:elastos:abc#k")
    assert str(u) == "did:elastos:abc#k"
    assert str(u.model_copy(update={"fragment": "z"})) == "did:elastos:abc#z"


@given(st.binary(max_size=64))
def test_base58_chunked_encoding_round_trips_and_matches_the_library(data: bytes) -> None:
    import base58 as lib
    text = base58.b58encode(data)
    assert text == lib.b58encode(data).decode()
    assert base58.b58decode(text) == data


@pytest.mark.parametrize("s", ["plain", "with \"quote\"", "back\\slash", "tab\there", "\u2028", "caf\u00e9", "\x7f", ""])
def test_escape_fast_path_equals_the_escaper(s: str) -> None:
    assert jsontext.escape_string(s) == '"' + jsontext._NEEDS_ESCAPE.sub(jsontext._escape_char, s) + '"'


@given(st.text(max_size=30))
def test_escape_fast_path_equals_the_escaper_on_any_text(s: str) -> None:
    assert jsontext.escape_string(s) == '"' + jsontext._NEEDS_ESCAPE.sub(jsontext._escape_char, s) + '"'
