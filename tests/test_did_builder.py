"""The DID builders: defaults, signing, and that everything built verifies (or is refused with its rule)."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import builder as B
from spec.did import credential as C
from spec.did import document as D
from spec.did import keys
from spec.did import presentation as P
from spec.did.syntax import DIDURL, parse_did_url
from spec.errors import Reason, Reject

MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
NOW = calendar.timegm((2026, 11, 21, 12, 0, 0))


def ident(i: int) -> tuple[D.Document, DIDURL, bytes]:
    k = keys.derive_did_key(MNEMONIC, "secret", i)
    draft = B.primitive_draft(k.public_key)
    signer = parse_did_url(f"{draft['id']}#primary")
    return B.seal_document(draft, now=NOW, signer=signer, private_key=k.private_key), signer, k.private_key


def resolver(*docs: D.Document) -> D.Resolver:
    table = {d.subject: d for d in docs}
    return lambda did: table.get(did)


def test_add_years_is_java_calendar() -> None:
    leap = calendar.timegm((2024, 2, 29, 1, 2, 3))
    assert B.add_years(leap, 5) == calendar.timegm((2029, 2, 28, 1, 2, 3))
    assert B.add_years(leap, 4) == calendar.timegm((2028, 2, 29, 1, 2, 3))
    assert B.max_expires(NOW) == calendar.timegm((2031, 11, 21, 12, 0, 0))


def test_primitive_document_defaults_and_genuine() -> None:
    doc, signer, _ = ident(0)
    assert str(doc.subject) == "did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj"  # the SDK's first test DID
    assert doc.default_key == signer and doc.authentication == (signer,)
    assert doc.expires == "2031-11-21T12:00:00Z"
    assert D.is_genuine(doc) and D.is_valid(doc, NOW)
    # the text forms re-parse to the same document (builder output is sanitized)
    assert D.parse_document(D.compact(doc)) == doc == D.parse_document(D.normalized(doc))
    # deterministic (RFC 6979)
    assert ident(0)[0] == doc


def test_expires_out_of_range_is_refused() -> None:
    k = keys.derive_did_key(MNEMONIC, "secret", 0)
    draft = B.primitive_draft(k.public_key)
    signer = parse_did_url(f"{draft['id']}#primary")
    ok = {**draft, "expires": D.format_date(B.max_expires(NOW))}
    assert D.is_genuine(B.seal_document(ok, now=NOW, signer=signer, private_key=k.private_key))
    for bad in (B.max_expires(NOW) + 1, NOW, NOW - 86400):
        with pytest.raises(Reject) as e:
            B.seal_document({**draft, "expires": D.format_date(bad)}, now=NOW, signer=signer, private_key=k.private_key)
        assert e.value.reason is Reason.BUILDER_EXPIRES and e.value.rule == "BLD-001"


def test_wrong_signer_or_key_is_refused() -> None:
    k0 = keys.derive_did_key(MNEMONIC, "secret", 0)
    k1 = keys.derive_did_key(MNEMONIC, "secret", 1)
    draft = B.primitive_draft(k0.public_key)
    signer = parse_did_url(f"{draft['id']}#primary")
    with pytest.raises(Reject) as e:
        B.seal_document(draft, now=NOW, signer=signer, private_key=k1.private_key)
    assert e.value.rule == "BLD-002"
    with pytest.raises(Reject) as e:
        B.seal_document(draft, now=NOW, signer=parse_did_url(f"{draft['id']}#other"), private_key=k0.private_key)
    assert e.value.rule == "BLD-002"


def test_customized_multisig_document() -> None:
    (a, sa, ka), (b, sb, kb), (c, sc, kc) = ident(0), ident(1), ident(2)
    res = resolver(a, b, c)
    draft = B.customized_draft("did:elastos:examplegroup", [a.subject, b.subject, c.subject], multisig=2)
    one = B.seal_document(draft, now=NOW, signer=sb, private_key=kb, resolve=res)
    assert one.customized and one.multisig == (2, 3) and not D.is_genuine(one, res)
    two = B.cosign_document(one, now=NOW, signer=sa, private_key=ka, resolve=res)
    assert D.is_genuine(two, res) and len(two.proofs) == 2
    with pytest.raises(Reject) as e:  # sealed: all m proofs present
        B.cosign_document(two, now=NOW, signer=sc, private_key=kc, resolve=res)
    assert e.value.rule == "BLD-003"
    with pytest.raises(Reject) as e:  # the same controller twice
        B.cosign_document(one, now=NOW, signer=sb, private_key=kb, resolve=res)
    assert e.value.rule == "BLD-003"
    with pytest.raises(Reject) as e:  # not a controller
        other, so, ko = ident(3)
        B.cosign_document(one, now=NOW, signer=so, private_key=ko, resolve=resolver(a, b, c, other))
    assert e.value.rule == "BLD-002"


def test_edit_and_reseal_keeps_genuine() -> None:
    doc, signer, key = ident(0)
    draft = B.edit_draft(doc)
    draft["service"] = [{"id": "#carrier", "type": "CarrierAddress", "serviceEndpoint": "carrier://abc"}]
    draft.pop("expires")
    new = B.seal_document(draft, now=NOW + 10, signer=signer, private_key=key)
    assert D.is_genuine(new) and [s.type for s in new.services] == ["CarrierAddress"]


def test_credential_defaults_clip_and_verify() -> None:
    issuer, isigner, ikey = ident(0)
    user, usigner, ukey = ident(1)
    res = resolver(issuer, user)
    vc_id = parse_did_url(f"{user.subject}#profile")
    vc = B.issue_credential(vc_id, user.subject, ["ProfileCredential"], {"name": "Ann", "age": 30},
                            issuer_doc=issuer, signer=isigner, private_key=ikey, now=NOW,
                            expiration=B.max_expires(NOW) + 999_999, resolve=res)
    assert vc.types == ("ProfileCredential", "VerifiableCredential")
    assert vc.issuance_date == D.format_date(NOW) and vc.expiration_date == D.format_date(B.max_expires(NOW))
    assert C.is_genuine(vc, res) and C.is_valid(vc, NOW, res)
    assert C.parse_credential(C.compact(vc)) == vc
    with pytest.raises(Reject) as e:
        B.issue_credential(vc_id, user.subject, [], {}, issuer_doc=issuer, signer=isigner, private_key=ukey,
                           now=NOW, resolve=res)
    assert e.value.rule == "BLD-002"
    # self-proclaimed: the subject issues about itself
    own = B.issue_credential(parse_did_url(f"{user.subject}#email"), user.subject, ["EmailCredential"],
                             {"email": "a@b.c"}, issuer_doc=user, signer=usigner, private_key=ukey, now=NOW, resolve=res)
    assert own.issuer == user.subject and C.is_genuine(own, res)

    vp = B.create_presentation(user, [vc, own], realm="https://vault.example/", nonce="n-1", signer=usigner,
                               private_key=ukey, now=NOW, resolve=res)
    assert P.is_genuine(vp, res) and P.is_valid(vp, NOW, res)
    assert P.parse_presentation(P.normalized(vp)) == vp
    tampered = vp.model_copy(update={"proof": vp.proof.model_copy(update={"nonce": "n-2"})})
    assert not P.is_genuine(tampered, res)
    with pytest.raises(Reject) as e:  # a credential about somebody else
        B.create_presentation(issuer, [vc], realm="r", nonce="n", signer=isigner, private_key=ikey, now=NOW, resolve=res)
    assert e.value.rule == "BLD-002"


@settings(max_examples=25, deadline=None)
@given(props=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda s: s != "id"),
                             st.one_of(st.text(max_size=20), st.integers(-2**53, 2**53), st.booleans()),
                             max_size=4),
       offset=st.integers(0, 10 * 365 * 86400))
def test_any_credential_built_verifies(props: dict, offset: int) -> None:
    issuer, isigner, ikey = DOCS[0]
    user = DOCS[1][0]
    res = resolver(issuer, user)
    vc = B.issue_credential(parse_did_url(f"{user.subject}#c"), user.subject, ["T"], props, issuer_doc=issuer,
                            signer=isigner, private_key=ikey, now=NOW, expiration=NOW + offset + 1, resolve=res)
    assert C.is_genuine(vc, res)
    assert D.parse_date(vc.expiration_date) == min(NOW + offset + 1, B.max_expires(NOW))
    assert C.parse_credential(C.normalized(vc)) == vc


DOCS = [ident(0), ident(1)]

