"""Bad input to the DID spec: huge and deep texts, bad Base58 and off-curve keys, non-NFC strings. Each is a
typed rejection (or, for text the SDK accepts, a defined result), never a crash."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.crypto import p256
from spec.did import builder as B
from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did.syntax import parse_did, parse_did_url
from spec.encoding import base58
from spec.errors import Reason, Reject

MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
NOW = 1_763_726_400
KEY = keys.derive_did_key(MNEMONIC, "secret", 0)
DRAFT = B.primitive_draft(KEY.public_key)
SIGNER = parse_did_url(f"{DRAFT['id']}#primary")
DOC = B.seal_document(DRAFT, now=NOW, signer=SIGNER, private_key=KEY.private_key)


def _with_key(b58: str) -> str:
    d = jsontext.parse(D.normalized(DOC))
    d["publicKey"].append({"id": f"{DOC.subject}#k2", "type": D.DEFAULT_KEY_TYPE, "controller": str(DOC.subject),
                           "publicKeyBase58": b58})
    return jsontext.serialize(d)


def test_huge_document_is_refused_before_parsing() -> None:
    d = jsontext.parse(D.normalized(DOC))
    d["service"] = [{"id": "#s", "type": "T", "serviceEndpoint": "x" * (jsontext.MAX_TEXT_LENGTH + 1)}]
    with pytest.raises(Reject) as e:
        D.parse_document(jsontext.serialize(d))
    assert e.value.reason is Reason.JSON_TOO_LARGE and e.value.rule == "JSON-004"


def test_deep_document_is_refused() -> None:
    d = jsontext.parse(D.normalized(DOC))
    nested: object = "leaf"
    for _ in range(jsontext.MAX_DEPTH + 1):
        nested = [nested]
    d["service"] = [{"id": "#s", "type": "T", "serviceEndpoint": "x", "deep": nested}]
    with pytest.raises(Reject) as e:
        D.parse_document(jsontext.serialize(d))
    assert e.value.reason is Reason.JSON_TOO_DEEP


def _off_curve_x() -> bytes:
    x = 5
    while True:
        rhs = (pow(x, 3, p256.P) + p256.A * x + p256.B) % p256.P
        if pow(rhs, (p256.P - 1) // 2, p256.P) != 1:  # not a square: no point with this x
            return b"\x02" + x.to_bytes(32, "big")
        x += 1


@pytest.mark.parametrize("b58", [
    base58.b58encode(_off_curve_x()),                      # x with no point on the curve
    base58.b58encode(b"\x04" + KEY.public_key[1:]),        # bad prefix
    base58.b58encode(KEY.public_key[:-1]),                 # 32 bytes
    "0OIl" + keys.public_key_to_base58(KEY.public_key)[4:],  # not Base58
    "",
])
def test_bad_public_keys_are_doc_006(b58: str) -> None:
    with pytest.raises(Reject) as e:
        D.parse_document(_with_key(b58))
    assert e.value.reason is Reason.DOC_KEY_ENCODING and e.value.rule == "DOC-006"


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=33, max_size=33))
def test_any_33_bytes_is_a_key_or_doc_006(raw: bytes) -> None:
    try:
        doc = D.parse_document(_with_key(base58.b58encode(raw)))
    except Reject as e:
        assert e.reason is Reason.DOC_KEY_ENCODING
    else:
        assert any(k.public_key == raw for k in doc.public_keys)
        p256.check_public_key(raw)


def test_non_nfc_text_is_the_same_object_as_its_nfc_form() -> None:
    """The SDK normalizes its text to NFC before signing (``toString``); so does the spec: a credential whose
    strings are not NFC has the same signed bytes as the NFC one, and a signature over the non-NFC bytes
    does not verify."""
    res = {DOC.subject: DOC}.get
    decomposed = "Cafe\u0301 Zu\u0308rich"
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    vc = B.issue_credential(parse_did_url(f"{DOC.subject}#place"), DOC.subject, ["PlaceCredential"],
                            {"place": decomposed}, issuer_doc=DOC, signer=SIGNER, private_key=KEY.private_key,
                            now=NOW, resolve=res)
    assert C.is_genuine(vc, res)
    assert unicodedata.normalize("NFC", decomposed).encode() in C.signed_bytes(vc)
    assert decomposed.encode() not in C.signed_bytes(vc)
    raw = jsontext.parse(C.normalized(vc))
    raw["credentialSubject"]["place"] = decomposed  # as another writer might send it
    sent = jsontext._write(raw)  # no NFC step
    received = C.parse_credential(sent)
    assert C.signed_bytes(received) == C.signed_bytes(vc) and C.is_genuine(received, res)
    # a signature made over the non-NFC bytes is not genuine
    body = jsontext.parse(C.normalized(vc))
    del body["proof"]
    body["credentialSubject"]["place"] = decomposed
    bad_sig = B._b64url(p256.ecdsa_sign(KEY.private_key, jsontext._write(body).encode()))
    forged = vc.model_copy(update={"proof": vc.proof.model_copy(update={"signature": bad_sig})})
    assert not C.is_genuine(forged, res)


@given(st.text(max_size=12))
def test_non_ascii_did_ids_are_refused(s: str) -> None:
    text = "did:elastos:" + unicodedata.normalize("NFD", "é") + s
    with pytest.raises(Reject) as e:
        parse_did(text)
    assert e.value.reason in (Reason.DID_INVALID_CHAR,)
