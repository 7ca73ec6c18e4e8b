"""DID documents: the SDKs' test documents byte-exactly, derived negatives, and JSON-layer properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import document as D
from spec.did import jsontext
from spec.errors import DecodeError, Reason, Reject

DID_SDK = Path(__file__).resolve().parents[1] / ".." / "shared" / "interop" / "did-sdk"
DOCS = {
    "v1": ("issuer.id", "user1.id", "user2.id", "user3.id"),
    "v2": ("issuer.id", "user1.id", "user2.id", "user3.id", "user4.id", "examplecorp.id", "foo.id", "bar.id",
           "baz.id", "foobar.id", "baz.new-id", "foobar.new-id"),
}
CASES = [(ver, stem, form) for ver, stems in DOCS.items() for stem in stems
         for form in ("json", "compact.json", "normalized.json")]


def read(ver: str, name: str) -> str:
    path = DID_SDK / ver / name
    if not path.is_file():
        pytest.fail(f"interop data {path} is missing: the DID tests need ../shared/interop/did-sdk")
    return path.read_text(encoding="utf-8")


def resolver(ver: str) -> D.Resolver:
    texts = {}
    for stem in DOCS[ver]:
        t = read(ver, f"{stem}.normalized.json")
        if "controller" not in json.loads(t):
            texts[json.loads(t)["id"]] = t
    return D.resolver_from_texts(texts)


@pytest.mark.parametrize(("ver", "stem", "form"), CASES, ids=lambda x: x)
def test_sdk_document_normalizes_byte_exactly(ver: str, stem: str, form: str):
    doc = D.parse_document(read(ver, f"{stem}.{form}"))
    assert D.normalized(doc) == read(ver, f"{stem}.normalized.json")


@pytest.mark.parametrize(("ver", "stem"), [(v, s) for v, ss in DOCS.items() for s in ss if v != "v1"])
def test_sdk_normalized_document_compacts_byte_exactly(ver: str, stem: str):
    doc = D.parse_document(read(ver, f"{stem}.normalized.json"))
    assert D.compact(doc) == read(ver, f"{stem}.compact.json")


@pytest.mark.parametrize(("ver", "stem"), [(v, s) for v, ss in DOCS.items() for s in ss])
def test_sdk_document_is_genuine_and_expires(ver: str, stem: str):
    res = resolver(ver)
    doc = D.parse_document(read(ver, f"{stem}.normalized.json"), res)
    assert D.is_genuine(doc, res)
    assert D.is_valid(doc, 1700000000, res)
    assert not D.is_valid(doc, 1900000000, res)
    assert D.is_expired(doc, D.parse_date(doc.expires) + 1) and not D.is_expired(doc, D.parse_date(doc.expires))


def test_primitive_and_customized():
    user1 = D.parse_document(read("v2", "user1.id.json"))
    assert not user1.customized and str(user1.default_key).endswith("#primary")
    foobar = D.parse_document(read("v2", "foobar.id.json"))
    assert foobar.customized and foobar.multisig == (2, 3) and len(foobar.proofs) == 2


def test_signature_change_is_not_genuine():
    d = json.loads(read("v2", "user4.id.normalized.json"))
    sig = d["proof"]["signatureValue"]
    d["proof"]["signatureValue"] = ("A" if sig[5] != "A" else "B").join((sig[:5], sig[6:]))
    assert not D.is_genuine(D.parse_document(json.dumps(d)))


def test_customized_document_needs_its_controllers():
    doc = D.parse_document(read("v2", "foo.id.normalized.json"))
    assert not D.is_genuine(doc, None)
    assert D.is_genuine(doc, resolver("v2"))


def test_missing_multisig_proof_is_not_genuine():
    d = json.loads(read("v2", "foobar.id.normalized.json"))
    d["proof"] = d["proof"][:1]
    assert not D.is_genuine(D.parse_document(json.dumps(d)), resolver("v2"))


@pytest.mark.parametrize(("text", "reason"), [
    ('{"a":1,"a":1}', Reason.JSON_DUPLICATE_MEMBER),
    ("[1e999]", Reason.JSON_SYNTAX),
    ('"\\udc00"', Reason.JSON_SYNTAX),
    ("[" * 65 + "]" * 65, Reason.JSON_TOO_DEEP),
    ("{", Reason.JSON_SYNTAX),
    ("Infinity", Reason.JSON_SYNTAX),
])
def test_strict_json(text: str, reason: Reason):
    with pytest.raises(DecodeError) as e:
        jsontext.parse(text)
    assert e.value.reason is reason


@pytest.mark.parametrize(("value", "text"), [
    (9.5, "9.5"), (1e20, "1.0E20"), (1e-5, "1.0E-5"), (0.001, "0.001"), (1234567.0, "1234567.0"),
    (1e7, "1.0E7"), (100.0, "100.0"), (-0.0, "-0.0"), (123456.789, "123456.789"), (1.5e-10, "1.5E-10"),
])
def test_java_double(value: float, text: str):
    assert jsontext.java_double(value) == text


def test_escapes_as_jackson():
    assert jsontext.serialize("a\"\\/\n\t\b\f\r\x01\x1f\x7f<&>é中") == '"a\\"\\\\/\\n\\t\\b\\f\\r\\u0001\\u001F\x7f<&>é中"'
    assert jsontext.serialize("Cafe\u0301") == '"Caf\u00e9"'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_parse_serialize_round_trip(v):
    text = jsontext.serialize(v)
    back = jsontext.parse(text)
    assert jsontext.serialize(back) == text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_arbitrary_text_only_rejects(text):
    try:
        doc = D.parse_document(text)
    except Reject:
        return
    D.normalized(doc)
    D.compact(doc)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_document_only_rejects(data):
    d = json.loads(read("v2", "foobar.id.json"))
    key = data.draw(st.sampled_from(sorted(d)))
    d[key] = data.draw(json_values)
    try:
        doc = D.parse_document(json.dumps(d))
    except Reject:
        return
    assert D.parse_document(D.normalized(doc)) == doc
