"""DID and DID URL syntax: the SDK's error oracles, round trips, ordering and robustness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec.did.syntax import DID, DIDURL, chain_key, check_chain_id, parse_did, parse_did_url
from spec.errors import DecodeError, Reason, Reject

# Java SDK DIDTest.java / DIDURLTest.java: input -> (reason, message)
SDK_DID_ERRORS = [
    ("did:elastos:-icJ4z2DULrHEzYSvjKNJpKyhqFDxvYV7pN", Reason.DID_INVALID_CHAR, "Invalid char at: 12"),
    ("did:bar:x", Reason.DID_UNKNOWN_METHOD, "Unknown DID method: 'bar', at: 4"),
    ("did:elastos:", Reason.DID_MISSING_ID, "Missing id string at: 12"),
    ("did:elastos:abc:", Reason.DID_INVALID_CHAR, "Invalid char at: 15"),
    ("foo:elastos:x", Reason.DID_BAD_SCHEMA, "Invalid DID schema: 'foo', at: 0"),
]


@pytest.mark.parametrize(("text", "reason", "message"), SDK_DID_ERRORS)
def test_did_errors_match_the_sdk(text, reason, message):
    with pytest.raises(DecodeError) as e:
        parse_did(text)
    assert e.value.reason is reason and e.value.detail == message


def test_sdk_valid_example():
    d = parse_did("did:elastos:ic-J4_z2D.ULrHEzYSvjKNJpKyhqFDxvYV7pN")
    assert (d.method, d.id) == ("elastos", "ic-J4_z2D.ULrHEzYSvjKNJpKyhqFDxvYV7pN")


def test_didurl_error_matches_the_sdk():
    with pytest.raises(DecodeError) as e:
        parse_did_url("did:elastos:foobar/path/to//resource?qkey=qvalue#testfragment")
    assert e.value.reason is Reason.DIDURL_INVALID_CHAR and e.value.detail == "Invalid char at: 27"


def test_didurl_parts_and_strings():
    base = parse_did("did:elastos:foo")
    u = parse_did_url("did:elastos:foo/path/to?a=1&b&a=2#frag", base)
    assert u.path == "/path/to" and u.query == (("a", "2"), ("b", None)) and u.fragment == "frag"
    assert str(u) == "did:elastos:foo/path/to?a=2&b#frag"
    assert u.to_string(base) == "/path/to?a=2&b#frag"
    assert parse_did_url("#primary", base) == parse_did_url("primary", base)
    assert str(parse_did_url("primary", base)) == "did:elastos:foo#primary"
    assert parse_did_url("#primary").did is None and str(parse_did_url("#primary")) == "#primary"
    assert parse_did_url("did:elastos:bar#k", base).did == parse_did("did:elastos:bar")
    assert parse_did_url("did:elastos:foo#k").qualified and not parse_did_url("#k").qualified


def test_didurl_invalid_did_part():
    with pytest.raises(DecodeError) as e:
        parse_did_url("did:bar:x#k")
    assert e.value.reason is Reason.DIDURL_INVALID_DID and e.value.detail.startswith("Invalid did at: 0")


def test_ordering_is_java_string_order():
    # research facts §9: iXcR < idwu < igXi (upper case before lower case)
    ids = ["igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS", "idwuEMccSpsTH4ZqrhuHqg6y8XMVQAsY5g", "iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y"]
    assert [d.id for d in sorted(DID(id=i) for i in ids)] == sorted(ids)
    assert sorted(ids)[0].startswith("iXcR")
    # UTF-16 code-unit order differs from code-point order above the BMP
    a, b = DIDURL(fragment="\U00010000"), DIDURL(fragment="\uffff")
    assert a < b


def test_chain_rule():
    check_chain_id(parse_did("did:elastos:Foo123"))
    assert chain_key(parse_did("did:elastos:ExampleCorp")) == "examplecorp"
    with pytest.raises(Reject) as e:
        check_chain_id(parse_did("did:elastos:a-b"))
    assert e.value.reason is Reason.DID_CHAIN_ID_CHARSET


TOKEN_START = st.sampled_from("ABCXYZabcxyz0189")
TOKEN_LATER = st.sampled_from("ABCxyz019._-")
token = st.builds(lambda a, b: a + "".join(b), TOKEN_START, st.lists(TOKEN_LATER, max_size=12))


@given(token)
def test_did_round_trip(i):
    d = parse_did(f"did:elastos:{i}")
    assert d.id == i and parse_did(str(d)) == d


@given(token, st.lists(token, max_size=3), st.lists(st.tuples(token, st.none() | token), max_size=3),
       st.none() | token)
def test_didurl_round_trip(i, segments, query, fragment):
    text = f"did:elastos:{i}" + "".join("/" + s for s in segments)
    if query:
        text += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in query)
    if fragment:
        text += "#" + fragment
    u = parse_did_url(text)
    assert parse_did_url(str(u)) == u
    relative = u.to_string(u.did)
    if relative:  # a bare DID has an empty relative form, which does not parse (DID-007)
        assert parse_did_url(relative, u.did) == u


@given(st.text(max_size=40))
def test_arbitrary_did_strings_only_reject(text):
    try:
        d = parse_did(text)
    except DecodeError:
        return
    assert parse_did(str(d)) == d


@given(st.text(alphabet=st.sampled_from("did:elastos/?#=&%aZ09.-_ \t\u00e9\U00010000"), max_size=40),
       st.none() | st.just(DID(id="ctx")))
def test_arbitrary_url_strings_only_reject(text, base):
    try:
        u = parse_did_url(text, base)
    except DecodeError:
        return
    if str(u):
        assert parse_did_url(str(u), base) == u
