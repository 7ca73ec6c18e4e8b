"""The two portability hazards the spec documents as Deviations: Go's HTML escaping on the ID chain and
JavaScript's enumeration of integer-like member names. Each test shows the hazard is real (the other
writer's bytes do not verify) and that the spec's own form does."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from spec.crypto import p256
from spec.did import builder as B
from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did.syntax import parse_did_url
from spec.errors import Reject

MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
NOW = 1_763_726_400


def _identity(i: int) -> tuple[D.Document, bytes]:
    k = keys.derive_did_key(MNEMONIC, "secret", i)
    draft = B.primitive_draft(k.public_key)
    return B.seal_document(draft, now=NOW, signer=parse_did_url(f"{draft['id']}#primary"),
                           private_key=k.private_key), k.private_key


def _verifies(pubkey: bytes, message: bytes, signature_b64: str) -> bool:
    sig = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    try:
        p256.ecdsa_verify(pubkey, message, sig)
    except Reject:
        return False
    return True


def test_go_html_escaping_breaks_chain_verification_but_not_the_spec() -> None:
    issuer, key = _identity(0)
    res = {issuer.subject: issuer}.get
    vc = B.issue_credential(parse_did_url(f"{issuer.subject}#profile"), issuer.subject, ["ProfileCredential"],
                            {"description": "Crypto & NFT enthusiast <3", "line": "a\u2028b"}, issuer_doc=issuer,
                            signer=parse_did_url(f"{issuer.subject}#primary"), private_key=key, now=NOW, resolve=res)
    assert C.is_genuine(vc, res)
    sdk_bytes = C.signed_bytes(vc)
    go_bytes = jsontext.go_marshal_escape(sdk_bytes.decode()).encode()
    assert b"\\u0026" in go_bytes and go_bytes != sdk_bytes
    pub = issuer.public_keys[0].public_key
    assert _verifies(pub, sdk_bytes, vc.proof.signature)
    assert not _verifies(pub, go_bytes, vc.proof.signature)  # what EID's inner-proof check sees
    # the escaped text still parses to the same credential: the hazard is only in the re-serialized bytes
    assert C.parse_credential(jsontext.go_marshal_escape(C.normalized(vc))) == vc


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_go_escaping_is_identity_without_the_five_characters(s: str) -> None:
    text = jsontext.serialize({"v": s})
    changed = jsontext.go_marshal_escape(text) != text
    assert changed == any(c in s for c in "&<>\u2028\u2029")
    assert jsontext.parse(jsontext.go_marshal_escape(text)) == jsontext.parse(text)


def test_js_integer_like_keys_order_differs_and_breaks_signatures() -> None:
    names = ["a", "10", "2", "b", "01", "4294967295", "4294967294"]
    assert sorted(names, key=lambda k: k.encode("utf-16-be")) == ["01", "10", "2", "4294967294", "4294967295", "a", "b"]
    # array indexes first in numeric order; "01" and 2^32 - 1 are not array indexes
    assert jsontext.js_key_order(names) == ["2", "10", "4294967294", "01", "4294967295", "a", "b"]

    issuer, key = _identity(0)
    res = {issuer.subject: issuer}.get
    vc = B.issue_credential(parse_did_url(f"{issuer.subject}#scores"), issuer.subject, ["ScoreCredential"],
                            {"10": "ten", "2": "two", "name": "x"}, issuer_doc=issuer,
                            signer=parse_did_url(f"{issuer.subject}#primary"), private_key=key, now=NOW, resolve=res)
    assert C.is_genuine(vc, res)
    body = C.to_json(vc, True, with_proof=False)
    subject = body["credentialSubject"]
    assert list(subject) == ["id", "10", "2", "name"]  # Java / spec order (id first, then UTF-16)
    js_subject = {"id": subject["id"], **{k: subject[k] for k in jsontext.js_key_order([k for k in subject if k != "id"])}}
    assert list(js_subject) == ["id", "2", "10", "name"]
    js_bytes = jsontext.serialize({**body, "credentialSubject": js_subject}).encode()
    sig_by_js = base64.urlsafe_b64encode(p256.ecdsa_sign(key, js_bytes)).decode().rstrip("=")
    forged = vc.model_copy(update={"proof": vc.proof.model_copy(update={"signature": sig_by_js})})
    assert not C.is_genuine(forged, res)  # a JS-signed credential with such names does not verify in the spec


@given(st.lists(st.one_of(st.integers(0, 5000).map(str), st.text(max_size=4)), unique=True, max_size=8))
def test_js_order_is_a_permutation_equal_to_java_without_index_names(names: list[str]) -> None:
    order = jsontext.js_key_order(names)
    assert sorted(order) == sorted(names)
    java = sorted(names, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
    if not any(k == "0" or (k.isascii() and k.isdigit() and k[0] != "0") for k in names):
        assert order == java
