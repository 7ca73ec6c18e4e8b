"""Transfer tickets and ID-chain requests: the SDK's tickets and new-id documents, requests built from
the SDK's documents and keys, derived negatives, and Hypothesis properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import document as D
from spec.did import keys
from spec.did import request as R
from spec.did import ticket as T
from spec.did.syntax import parse_did_url
from spec.errors import DecodeError, Reason, Reject

V2 = Path(__file__).resolve().parents[1] / ".." / "shared" / "interop" / "did-sdk" / "v2"
USER1 = "did:elastos:iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y"
USER4 = "did:elastos:igHbSCez6H3gTuVPzwNZRrdj92GCJ6hD5d"


def read(name: str) -> str:
    path = V2 / name
    if not path.is_file():
        pytest.fail(f"interop data {path} is missing: the DID tests need ../shared/interop/did-sdk")
    return path.read_text(encoding="utf-8")


def chain_view() -> D.Resolver:
    """Every v2 document before any transfer, by DID."""
    texts = {}
    for path in sorted(V2.glob("*.id.normalized.json")):
        t = path.read_text(encoding="utf-8")
        texts[json.loads(t)["id"]] = t
    return D.resolver_from_texts(texts)


def key(file: str) -> bytes:
    k = keys.parse_extended_key(read(file).strip()).private_key
    assert k is not None
    return k


@pytest.mark.parametrize("name", ["baz", "foobar"])
def test_sdk_ticket_is_genuine_and_normalizes_byte_exactly(name: str):
    text = read(f"{name}.tt.json")
    tkt = T.parse_ticket(text)
    assert T.normalized(tkt) == text
    assert T.signed_bytes(tkt) == text[: text.index(',"proof":')].encode() + b"}"
    res = chain_view()
    assert T.is_genuine(tkt, res)
    assert T.is_valid(tkt, 1700000000, res) and not T.is_valid(tkt, 1900000000, res)


@pytest.mark.parametrize("name", ["baz", "foobar"])
def test_sdk_new_id_document_checks_against_its_ticket(name: str):
    res = chain_view()
    tkt = T.parse_ticket(read(f"{name}.tt.json"))
    new = D.parse_document(read(f"{name}.new-id.normalized.json"), res)
    T.check_new_document(tkt, new)
    assert D.is_genuine(new, res) and tkt.to == new.proofs[0].creator.did
    old = D.parse_document(read(f"{name}.id.normalized.json"), res)
    with pytest.raises(Reject) as e:
        T.check_new_document(tkt, old)
    assert e.value.rule == "TKT-004"


@pytest.mark.parametrize("name", ["baz", "foobar"])
def test_sdk_transfer_request_verifies(name: str):
    res = chain_view()
    r = R.build_request("transfer", read(f"{name}.new-id.normalized.json"), parse_did_url(f"{USER4}#primary"),
                        key("user4.id.primary.sk"), ticket_text=read(f"{name}.tt.json"))
    text = R.serialize(r)
    assert R.parse_request(text) == r
    v = R.verify_request(R.parse_request(text), res)
    assert (v.request.operation, str(v.did)) == ("transfer", f"did:elastos:{name}")
    assert v.ticket is not None and v.ticket.txid == json.loads(read(f"{name}.tt.json"))["txid"]


def test_signing_input_is_the_sdk_concatenation():
    r = R.build_request("update", read("user1.id.normalized.json"), parse_did_url(f"{USER1}#primary"),
                        key("user1.id.primary.sk"), previous_txid="abc")
    assert R.signing_input(r) == ("elastos/did/1.0" + "update" + "abc" + r.payload).encode()
    d = R.build_request("deactivate", USER1, parse_did_url(f"{USER1}#primary"), key("user1.id.primary.sk"))
    assert d.payload == USER1 and R.signing_input(d) == f"elastos/did/1.0deactivate{USER1}".encode()
    assert R.serialize(r).startswith('{"header":{"specification":"elastos/did/1.0","operation":"update",'
                                     '"previousTxid":"abc"},"payload":')


@pytest.mark.parametrize("text", ["a", "QR", "QQ==", "QQ=", "+/", "Q Q", "QUJD\n"])
def test_strict_base64url_rejects(text: str):
    with pytest.raises(DecodeError) as e:
        R.b64url_decode(text)
    assert e.value.reason is Reason.REQUEST_BASE64


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_base64url_round_trip(data: bytes):
    assert R.b64url_decode(R.b64url_encode(data)) == data


def _user1_create() -> str:
    return R.serialize(R.build_request("create", read("user1.id.normalized.json"), parse_did_url(f"{USER1}#primary"),
                                       key("user1.id.primary.sk")))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_request_rejects(data):
    """Changing any signed or structural member of a valid request makes it reject."""
    base = json.loads(_user1_create())
    where = data.draw(st.sampled_from([("header", "specification"), ("header", "operation"), ("payload",),
                                       ("proof", "verificationMethod"), ("proof", "signature")]))
    value = data.draw(json_values)
    d = json.loads(json.dumps(base))
    if len(where) == 1:
        if value == d[where[0]]:
            return
        d[where[0]] = value
    else:
        if value == d[where[0]][where[1]]:
            return
        if where[1] == "verificationMethod" and isinstance(value, str):
            try:  # a relative form of the same key ("#primary") is the same verification method
                if parse_did_url(value, parse_did_url(USER1).did) == parse_did_url(f"{USER1}#primary"):
                    return
            except Reject:
                pass
        d[where[0]][where[1]] = value
    with pytest.raises(Reject):
        R.verify_request(R.parse_request(json.dumps(d)), chain_view())


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 63), st.sampled_from("ABCDEFGHabcdefgh0123456789-_"))
def test_changed_signature_character_rejects(i: int, c: str):
    d = json.loads(_user1_create())
    sig = d["proof"]["signature"]
    if i >= len(sig) or sig[i] == c:
        return
    d["proof"]["signature"] = sig[:i] + c + sig[i + 1:]
    with pytest.raises(Reject):
        R.verify_request(R.parse_request(json.dumps(d)), chain_view())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps),
                 st.fixed_dictionaries({"header": json_values, "payload": json_values, "proof": json_values}).map(
                     json.dumps)))
def test_arbitrary_request_text_only_rejects(text: str):
    res = chain_view()
    try:
        R.verify_request(R.parse_request(text), res)
    except Reject:
        return


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps),
                 st.fixed_dictionaries({"id": json_values, "to": json_values, "txid": json_values,
                                        "proof": json_values}).map(json.dumps)))
def test_arbitrary_ticket_text_only_rejects(text: str):
    try:
        tkt = T.parse_ticket(text)
    except Reject:
        return
    assert T.parse_ticket(T.normalized(tkt)) == tkt
    T.is_valid(tkt, 0, chain_view())


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_ticket_is_not_genuine_or_rejects(data):
    d = json.loads(read("foobar.tt.json"))
    member = data.draw(st.sampled_from(["id", "to", "txid"]))
    value = data.draw(st.text(min_size=1, max_size=20))
    if value == d[member]:
        return
    d[member] = value if member == "txid" else f"did:elastos:{value}"
    try:
        tkt = T.parse_ticket(json.dumps(d))
    except Reject:
        return
    assert not T.is_genuine(tkt, chain_view())
