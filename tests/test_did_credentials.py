"""Verifiable credentials and presentations: the SDKs' test files byte-exactly, genuineness, and
properties of mutated and arbitrary input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import credential as C
from spec.did import document as D
from spec.did import presentation as P
from spec.errors import Reason, Reject

DID_SDK = Path(__file__).resolve().parents[1] / ".." / "shared" / "interop" / "did-sdk"
VCS = {
    "v1": ("user1.vc.json", "user1.vc.passport", "user1.vc.twitter"),
    "v2": ("foo.vc.email", "foobar.vc.license", "foobar.vc.services", "user1.vc.json", "user1.vc.passport",
           "user1.vc.twitter"),
}
VPS = {
    "v1": ("user1.vp.empty", "user1.vp.nonempty"),
    "v2": ("foobar.vp.empty", "foobar.vp.nonempty", "foobar.vp.optionalattrs", "user1.vp.empty",
           "user1.vp.nonempty", "user1.vp.optionalattrs"),
}
BEFORE, AFTER = 1700000000, 1900000000


def read(ver: str, name: str) -> str:
    path = DID_SDK / ver / name
    if not path.is_file():
        pytest.fail(f"interop data {path} is missing: the DID tests need ../shared/interop/did-sdk")
    return path.read_text(encoding="utf-8")


def resolver(ver: str) -> D.Resolver:
    """Every document of the version (issuers, holders, controllers), from its normalized file."""
    texts = {}
    for path in sorted((DID_SDK / ver).glob("*.id.normalized.json")):
        t = path.read_text(encoding="utf-8")
        texts[json.loads(t)["id"]] = t
    return D.resolver_from_texts(texts)


VC_CASES = [(v, s, f) for v, ss in VCS.items() for s in ss for f in ("json", "compact.json", "normalized.json")]
VP_CASES = [(v, s, f) for v, ss in VPS.items() for s in ss for f in ("json", "normalized.json")]


@pytest.mark.parametrize(("ver", "stem", "form"), VC_CASES, ids=lambda x: x)
def test_sdk_credential_normalizes_byte_exactly(ver: str, stem: str, form: str):
    vc = C.parse_credential(read(ver, f"{stem}.{form}"))
    assert C.normalized(vc) == read(ver, f"{stem}.normalized.json")
    if ver != "v1":
        assert C.compact(vc) == read(ver, f"{stem}.compact.json")


@pytest.mark.parametrize(("ver", "stem"), [(v, s) for v, ss in VCS.items() for s in ss])
def test_sdk_credential_is_genuine_and_expires(ver: str, stem: str):
    res = resolver(ver)
    vc = C.parse_credential(read(ver, f"{stem}.json"))
    assert C.is_genuine(vc, res)
    assert C.is_valid(vc, BEFORE, res) and not C.is_valid(vc, AFTER, res)
    assert not C.is_genuine(vc, None)


@pytest.mark.parametrize(("ver", "stem", "form"), VP_CASES, ids=lambda x: x)
def test_sdk_presentation_normalizes_byte_exactly(ver: str, stem: str, form: str):
    vp = P.parse_presentation(read(ver, f"{stem}.{form}"))
    assert P.normalized(vp) == read(ver, f"{stem}.normalized.json")


@pytest.mark.parametrize(("ver", "stem"), [(v, s) for v, ss in VPS.items() for s in ss])
def test_sdk_presentation_is_genuine_and_expires(ver: str, stem: str):
    res = resolver(ver)
    vp = P.parse_presentation(read(ver, f"{stem}.json"))
    assert P.is_genuine(vp, res)
    assert P.is_valid(vp, BEFORE, res)
    # Quirk (SDK): only the credentials' validity counts, not the holder document's expiry
    assert P.is_valid(vp, AFTER, res) is (not vp.credentials)


@pytest.mark.parametrize("ver", ["v1", "v2"])
def test_embedded_credentials_of_sdk_documents_are_genuine(ver: str):
    res = resolver(ver)
    seen = 0
    for path in sorted((DID_SDK / ver).glob("*.id.normalized.json")):
        doc = D.parse_document(path.read_text(encoding="utf-8"), res)
        for vc in doc.credentials:
            assert C.is_genuine(vc, res), vc.id
            seen += 1
    assert seen > 0


def test_presentation_signs_realm_and_nonce():
    vp = P.parse_presentation(read("v2", "user1.vp.nonempty.normalized.json"))
    assert P.signed_bytes(vp).endswith(b"https://example.com/873172f58701a9ee686f0630204fee59")
    other = vp.model_copy(update={"proof": vp.proof.model_copy(update={"nonce": "x"})})
    assert not P.is_genuine(other, resolver("v2"))


def test_credential_of_another_subject_spoils_a_presentation():
    d = json.loads(read("v2", "user1.vp.nonempty.normalized.json"))
    d["verifiableCredential"].append(json.loads(read("v2", "foobar.vc.license.normalized.json")))
    assert not P.is_genuine(P.parse_presentation(json.dumps(d)), resolver("v2"))


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["proof"].update(realm=1), Reason.VP_MALFORMED),
    (lambda d: d["proof"].update(nonce=None), Reason.VP_MALFORMED),
    (lambda d: d.update(type=[]), Reason.VP_MALFORMED),
    (lambda d: d["verifiableCredential"].append(d["verifiableCredential"][0]), Reason.VP_DUPLICATE_CREDENTIAL),
])
def test_presentation_rejects(change, reason: Reason):
    d = json.loads(read("v2", "user1.vp.nonempty.normalized.json"))
    change(d)
    with pytest.raises(Reject) as e:
        P.parse_presentation(json.dumps(d))
    assert e.value.reason is reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=12,
)
MEMBERS_VC = ["id", "type", "issuer", "issuanceDate", "expirationDate", "credentialSubject", "proof"]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_credential_rejects_or_reverifies_consistently(data):
    res = resolver("v2")
    d = json.loads(read("v2", "user1.vc.twitter.normalized.json"))
    key = data.draw(st.sampled_from(MEMBERS_VC))
    target = d if data.draw(st.booleans()) or key != "proof" else d["proof"]
    name = key if target is d else data.draw(st.sampled_from(sorted(d["proof"])))
    target[name] = data.draw(json_values)
    try:
        vc = C.parse_credential(json.dumps(d))
    except Reject:
        return
    again = C.parse_credential(C.normalized(vc))
    assert again == vc
    assert C.is_genuine(again, res) == C.is_genuine(vc, res)
    assert C.is_genuine(C.parse_credential(C.compact(vc)), res) == C.is_genuine(vc, res)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_presentation_rejects_or_reverifies_consistently(data):
    res = resolver("v2")
    d = json.loads(read("v2", "foobar.vp.optionalattrs.normalized.json"))
    key = data.draw(st.sampled_from(sorted(d) + ["proof.realm", "proof.nonce", "proof.verificationMethod"]))
    value = data.draw(json_values)
    if key.startswith("proof."):
        d["proof"][key[6:]] = value
    else:
        d[key] = value
    try:
        vp = P.parse_presentation(json.dumps(d))
    except Reject:
        return
    again = P.parse_presentation(P.normalized(vp))
    assert again == vp
    assert P.is_genuine(again, res) == P.is_genuine(vp, res)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_arbitrary_text_only_rejects(text):
    for parse, write in ((C.parse_credential, C.normalized), (P.parse_presentation, P.normalized)):
        try:
            obj = parse(text)
        except Reject:
            continue
        write(obj)
