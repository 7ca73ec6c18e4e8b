"""The shortcuts of DID document parsing give exactly what the full algorithms give.

:func:`spec.did.document.parse_document` takes a shortcut for the normalized text of a one-key primitive
document (:func:`spec.did.document._parse_normalized_primitive`); the JSON reader detects duplicate
members with one ``dict`` call and skips the depth scan of texts with few brackets; DIDs compare by
method and id. Hypothesis builds such documents from random keys, fragments, dates and signatures,
then mutates them (characters, members, order, whitespace, duplicates, keys, dates), and checks that
the shortcut either declines or returns the document :func:`spec.did.document.parse_document_full`
returns, and that ``parse_document`` and the full algorithm always have the same outcome.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spec.crypto import p256
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did import request as R
from spec.did.syntax import DID, parse_did
from spec.errors import Reject

from conformance.bench_did import primitive_document

_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def outcome(fn: Any, text: str) -> Any:
    try:
        return ("ok", fn(text))
    except Reject as e:
        return ("reject", e.reason, e.rule)


def document_dict(sk: int, fragment: str, expires: str, created: str, sign: bool) -> dict[str, Any]:
    pub = p256.public_key_from_private(sk.to_bytes(32, "big"))
    did = f"did:elastos:{keys.did_address(pub)}"
    vm = f"{did}#{fragment}"
    d: dict[str, Any] = {"id": did, "publicKey": [{"id": vm, "type": "ECDSAsecp256r1", "controller": did,
                                                   "publicKeyBase58": keys.public_key_to_base58(pub)}],
                         "authentication": [vm], "expires": expires,
                         "proof": {"type": "ECDSAsecp256r1", "created": created, "creator": vm,
                                   "signatureValue": "AA"}}
    if sign:
        message = jsontext.serialize({k: v for k, v in d.items() if k != "proof"}).encode()
        d["proof"]["signatureValue"] = R.b64url_encode(p256.ecdsa_sign(sk.to_bytes(32, "big"), message))
    return d


_dates = st.builds(lambda y, mo, day, h, mi, s, ms: f"{y:04d}-{mo:02d}-{day:02d}T{h:02d}:{mi:02d}:{s:02d}{ms}Z",
                   st.integers(1990, 2099), st.integers(1, 12), st.integers(1, 31), st.integers(0, 24),
                   st.integers(0, 59), st.integers(0, 60), st.sampled_from(["", "", "", ".000", ".123"]))
_fragments = st.one_of(st.just("primary"), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}", fullmatch=True),
                       st.sampled_from(["", "-x", "a b", "k%41", "a#b"]))
_documents = st.builds(document_dict, st.integers(1, _N - 1), _fragments, _dates, _dates, st.booleans())


def _mutations(d: dict[str, Any], text: str) -> st.SearchStrategy[str]:
    other = document_dict(7, "primary", d["expires"], "2021-01-01T00:00:00Z", False)
    edits = [
        text,
        text.replace('","', '", "', 1),
        text.replace('"expires"', '"expires":"2030-01-01T00:00:00Z","expires"', 1),
        text.replace('"type":"ECDSAsecp256r1"', '"type":"ECDSAsecp256k1"', 1),
        text.replace(d["publicKey"][0]["publicKeyBase58"], other["publicKey"][0]["publicKeyBase58"]),
        text.replace('"authentication":["', '"authentication":["' + d["id"] + "#x", 1),
        text.replace("Z\",\"proof\"", ".000Z\",\"proof\"", 1),
        jsontext.serialize({**d, "authorization": []}),
        jsontext.serialize({k: d[k] for k in reversed(list(d))}),
        jsontext.serialize({**d, "proof": [d["proof"]]}),
        jsontext.serialize({**d, "publicKey": d["publicKey"] * 2}),
        jsontext.serialize({**d, "controller": "did:elastos:foo"}),
        json.dumps(d),
        text[:-1],
        text + " ",
        "[" + text + "]",
        '{"id":"did:elastos:' + "[" * 3000,
    ]
    point = st.integers(0, max(0, len(text) - 1))
    char = st.sampled_from(list('"\\{}[],:#.-_ aZ09\u00e9\ud800') + ["\\u0041", "\\ud800"])
    return st.one_of(
        st.sampled_from(edits),
        st.builds(lambda i, c: text[:i] + c + text[i + 1:], point, char),
        st.builds(lambda i, c: text[:i] + c + text[i:], point, char),
        st.builds(lambda i: text[:i] + text[i + 1:], point),
    )


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_shortcut_declines_or_agrees_with_the_full_parser(data: st.DataObject) -> None:
    d = data.draw(_documents)
    text = jsontext.serialize(d)
    mutated = data.draw(_mutations(d, text))
    fast = D._parse_normalized_primitive(mutated)
    full = outcome(D.parse_document_full, mutated)
    if fast is not None:
        assert full == ("ok", fast)
        assert D.normalized(fast) == mutated
        assert D.signed_bytes(fast) == D.signed_bytes_full(fast) == D.signed_bytes_full(full[1])
    assert outcome(D.parse_document, mutated) == full
    # the shortcut does not decline the form it is for
    if mutated == text and full[0] == "ok" and D.normalized(full[1]) == text:
        assert fast is not None


def test_shortcut_takes_the_bench_documents_and_their_results_verify() -> None:
    for i in range(20):
        _, _, text = primitive_document(5_000 + i)
        fast = D._parse_normalized_primitive(text)
        assert fast is not None and fast == D.parse_document_full(text)
        assert D.is_genuine(fast) and D.signed_bytes(fast) == D.signed_bytes(D.parse_document_full(text))


def test_signed_bytes_memo_is_not_copied_and_not_compared() -> None:
    _, _, text = primitive_document(11)
    doc = D.parse_document(text)
    later = doc.model_copy(update={"expires": "2040-01-01T00:00:00Z"})
    assert D.signed_bytes(later) == D.signed_bytes_full(later) != D.signed_bytes(doc)
    fresh = D.parse_document_full(text)
    assert fresh.__pydantic_private__["_signed"] is None and doc.__pydantic_private__["_signed"] is not None
    assert fresh == doc and hash(fresh) == hash(doc) and later != doc


def test_shortcut_declines_what_it_does_not_cover() -> None:
    _, _, text = primitive_document(9)
    d = json.loads(text)
    for changed in (json.dumps(d), text.replace("#primary", "#key2", 1),
                    jsontext.serialize({**d, "expires": "2035-01-01T00:00:00.000Z"})):
        assert D._parse_normalized_primitive(changed) is None


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.lists(st.tuples(st.sampled_from("abc"), inner), max_size=4), max_leaves=12))
def test_json_duplicate_detection_and_depth_shortcut(value: Any) -> None:
    """The reader's one-call duplicate check and its bracket-count shortcut of the depth scan agree with the
    member-by-member check and the scan: lists of pairs are written as objects (possibly repeating names)."""
    def write(v: Any) -> str:
        if isinstance(v, list) and v and all(isinstance(x, tuple) for x in v):
            return "{" + ",".join(json.dumps(k) + ":" + write(x) for k, x in v) + "}"
        if isinstance(v, list):
            return "[" + ",".join(write(x) for x in v) + "]"
        return json.dumps(v)

    def has_duplicate(v: Any) -> bool:
        if isinstance(v, list) and v and all(isinstance(x, tuple) for x in v):
            names = [k for k, _ in v]
            return len(set(names)) != len(names) or any(has_duplicate(x) for _, x in v)
        return isinstance(v, list) and any(has_duplicate(x) for x in v)

    text = write(value)
    got = outcome(jsontext.parse, text)
    if has_duplicate(value):
        assert got[0] == "reject" and got[2] == "JSON-002"
    else:
        assert got[0] == "ok"
    deep = "[" * (jsontext.MAX_DEPTH + 1) + text + "]" * (jsontext.MAX_DEPTH + 1)
    assert outcome(jsontext.parse, deep)[2] == "JSON-003"
    assert jsontext._depth(text) <= text.count("[") + text.count("{")


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True),
       st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True))
def test_did_equality_is_method_and_id(a: str, b: str) -> None:
    x, y = parse_did(f"did:elastos:{a}"), DID(id=b)
    assert (x == y) == (a == b) == (x.model_dump() == y.model_dump())
    if x == y:
        assert hash(x) == hash(y)
    assert x != f"did:elastos:{a}"
