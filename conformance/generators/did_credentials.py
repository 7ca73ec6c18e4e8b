"""Generators of the ``did`` suite for verifiable credentials and presentations.

The upstream credentials (``*.vc.*``) and presentations (``*.vp.*``) are read in place from
``../shared/interop/did-sdk/{v1,v2}`` with the documents of their issuers and holders. Every raw,
compact and normalized credential must normalize to its ``.normalized.json`` byte-exactly (v2: and
compact to its ``.compact.json``); every presentation must normalize to its ``.normalized.json``;
every credential and presentation is genuine. Negative cases change one thing of a genuine one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from spec.errors import Reason

from conformance.generators.did_documents import (
    DOCS, NOW_AFTER, NOW_BEFORE, OK, _dumps, _flip, _stem, case_name, provenance, text,
)
from conformance.vectors import CaseSpec, generator

CREDENTIALS: dict[str, tuple[str, ...]] = {
    "v1": ("user1.vc.json", "user1.vc.passport", "user1.vc.twitter"),
    "v2": ("foo.vc.email", "foobar.vc.license", "foobar.vc.services", "user1.vc.json", "user1.vc.passport",
           "user1.vc.twitter"),
}
PRESENTATIONS: dict[str, tuple[str, ...]] = {
    "v1": ("user1.vp.empty", "user1.vp.nonempty"),
    "v2": ("foobar.vp.empty", "foobar.vp.nonempty", "foobar.vp.optionalattrs", "user1.vp.empty",
           "user1.vp.nonempty", "user1.vp.optionalattrs"),
}
VC_RULES = ("VC-001", "DOC-001", "DOC-002", "JSON-001", "JSON-002")
VP_RULES = ("VP-001", "VP-002", "VC-001", "DOC-001", "DOC-002")


@cache
def documents(ver: str) -> dict[str, str]:
    """Normalized texts of every document of a version, by DID (issuers, holders, controllers)."""
    out = {}
    for doc in DOCS[ver]:
        if doc.endswith(".new-id"):
            continue
        t = text(ver, f"{_stem(doc)}.normalized.json")
        out[json.loads(t)["id"]] = t
    return out


def _load(ver: str, file: str) -> dict[str, Any]:
    return json.loads(text(ver, file))


def _changed(ver: str, file: str, change: Callable[[dict[str, Any]], Any]) -> str:
    d = _load(ver, file)
    change(d)
    return _dumps(d)


# -- credentials ----------------------------------------------------------------------------------


@generator("did", "did.credential.normalize")
def credential_normalize_cases() -> Iterator[CaseSpec]:
    for ver, stems in CREDENTIALS.items():
        for stem in stems:
            want: dict[str, Any] = {"normalized": text(ver, f"{stem}.normalized.json")}
            if ver != "v1":  # the SDK compares compact output from v2 on
                want["compact"] = text(ver, f"{stem}.compact.json")
            for form in ("json", "compact.json", "normalized.json"):
                file = f"{stem}.{form}"
                yield CaseSpec(case_name(ver, file), {"credential": text(ver, file)}, OK, rules=VC_RULES,
                               description=f"{ver} {file} normalizes to {stem}.normalized.json",
                               provenance=provenance(ver, file), expect_ok=want)
    norm = "user1.vc.twitter.normalized.json"
    want_norm = {"normalized": text("v2", norm)}
    rev = dict(reversed(list(_load("v2", norm).items())))
    yield CaseSpec("reordered_members", {"credential": _dumps(rev)}, OK, rules=("DOC-001",),
                   description="member order does not change the normalized form", expect_ok=want_norm)
    yield CaseSpec("single_type_string", {"credential": _changed("v2", "foo.vc.email.normalized.json",
                   lambda d: d.update(type="EmailCredential"))}, OK, rules=("DOC-001",),
                   description="one type given as a string is read as a one-element array")
    self_text = text("v2", "user1.vc.passport.normalized.json")
    yield CaseSpec("self_proclaimed_issuer_defaults", {"credential": _changed(
        "v2", "user1.vc.passport.normalized.json", lambda d: d.pop("issuer"))}, OK, rules=("VC-001",),
        description="a missing issuer is the subject (self-proclaimed)", expect_ok={"normalized": self_text})
    yield CaseSpec("relative_verification_method", {"credential": _changed(
        "v2", "user1.vc.twitter.normalized.json", lambda d: d["proof"].update(verificationMethod="#primary"))}, OK,
        rules=("DOC-001",), description="a relative verificationMethod gets the issuer DID", expect_ok=want_norm)
    yield CaseSpec("foreign_id_parses", {"credential": _changed(
        "v2", norm, lambda d: d.update(id="did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj#twitter"))}, OK,
        rules=("VC-001",), description="an id naming another DID than the subject parses (it is not genuine)")

    rejects: list[tuple[str, str, Reason, str]] = [
        ("json_syntax", text("v2", norm)[:-2], Reason.JSON_SYNTAX, "truncated text"),
        ("not_an_object", "[]", Reason.VC_MALFORMED, "a credential is an object"),
        ("missing_subject_id", _changed("v2", norm, lambda d: d["credentialSubject"].pop("id")),
         Reason.VC_MALFORMED, "credentialSubject without id"),
        ("subject_not_object", _changed("v2", norm, lambda d: d.update(credentialSubject="x")),
         Reason.VC_MALFORMED, "credentialSubject is a string"),
        ("missing_proof", _changed("v2", norm, lambda d: d.pop("proof")), Reason.DOC_MALFORMED, "no proof"),
        ("missing_expiration", _changed("v2", norm, lambda d: d.pop("expirationDate")), Reason.DOC_MALFORMED,
         "no expirationDate"),
        ("empty_type", _changed("v2", norm, lambda d: d.update(type=[])), Reason.DOC_MALFORMED, "type []"),
        ("type_number", _changed("v2", norm, lambda d: d.update(type=[7])), Reason.DOC_MALFORMED, "a type is a number"),
        ("signature_number", _changed("v2", norm, lambda d: d["proof"].update(signature=1)), Reason.DOC_MALFORMED,
         "the signature is a number"),
        ("bad_issuance_date", _changed("v2", norm, lambda d: d.update(issuanceDate="2021-02-30T00:00:00Z")),
         Reason.DOC_INVALID_DATE, "February 30"),
    ]
    for name, vc_text, reason, what in rejects:
        yield CaseSpec(name, {"credential": vc_text}, reason, description=what)


@generator("did", "did.credential.verify")
def credential_verify_cases() -> Iterator[CaseSpec]:
    for ver, stems in CREDENTIALS.items():
        docs = documents(ver)
        for stem in stems:
            file = f"{stem}.normalized.json"
            vc_text = text(ver, file)
            for label, now, valid in (("", None, True), ("_before_expiry", NOW_BEFORE, True),
                                      ("_after_expiry", NOW_AFTER, False)):
                inp: dict[str, Any] = {"credential": vc_text, "documents": docs}
                if now is not None:
                    inp["now"] = now
                yield CaseSpec(case_name(ver, file) + label, inp, OK, rules=VC_RULES,
                               description=f"{ver} {file} is genuine" + (f"; valid at {now}: {valid}" if now else ""),
                               provenance=provenance(ver, file),
                               expect_ok={"id": json.loads(vc_text)["id"], "genuine": True, "valid": valid})
    docs = documents("v2")

    def verdict(name: str, vc: str, genuine: bool, what: str, now: int = NOW_BEFORE,
                docs: dict[str, str] = docs, valid: bool | None = None) -> CaseSpec:
        return CaseSpec(name, {"credential": vc, "documents": docs, "now": now}, OK, description=what,
                        expect_ok={"genuine": genuine, "valid": genuine if valid is None else valid})

    base = "user1.vc.twitter.normalized.json"
    yield verdict("flipped_signature", _changed("v2", base, lambda d: d["proof"].update(
        signature=_flip(d["proof"]["signature"]))), False, "one character of the signature changed")
    yield verdict("changed_subject", _changed("v2", base, lambda d: d["credentialSubject"].update(twitter="@jane")),
                  False, "a subject member changed after signing")
    yield verdict("changed_expiration", _changed("v2", base, lambda d: d.update(
        expirationDate="2026-11-21T09:54:09Z")), False, "the expiration date changed after signing")
    yield verdict("added_type", _changed("v2", base, lambda d: d["type"].append("ExtraCredential")), False,
                  "a type added after signing")
    yield verdict("foreign_id", _changed("v2", base, lambda d: d.update(
        id="did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj#twitter")), False,
        "the id names another DID than the subject")
    yield verdict("unknown_key", _changed("v2", base, lambda d: d["proof"].update(
        verificationMethod="did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj#nokey")), False,
        "the verificationMethod is no key of the issuer")
    yield verdict("key_of_other_did", _changed("v2", base, lambda d: d["proof"].update(
        verificationMethod="did:elastos:iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y#primary")), False,
        "the verificationMethod is the subject's key, not the issuer's")
    yield verdict("proof_type", _changed("v2", base, lambda d: d["proof"].update(type="Ed25519Signature2018")), False,
                  "a proof type other than ECDSAsecp256r1")
    yield verdict("issuer_unknown", text("v2", base), False, "the issuer's document is not given", docs={})
    bad_issuer = dict(docs)
    issuer = json.loads(text("v2", base))["issuer"]
    d = json.loads(docs[issuer])
    d["proof"]["signatureValue"] = _flip(d["proof"]["signatureValue"])
    bad_issuer[issuer] = _dumps(d)
    yield verdict("issuer_not_genuine", text("v2", base), False, "the issuer's document is not genuine",
                  docs=bad_issuer)
    rev = dict(reversed(list(_load("v2", base).items())))
    yield verdict("reordered_members", _dumps(rev), True, "member order does not change what is signed")
    yield verdict("expired", text("v2", base), True, "genuine but expired", now=NOW_AFTER, valid=False)
    yield verdict("self_proclaimed_by_controller", text("v2", "foobar.vc.services.normalized.json"), True,
                  "a customized issuer's credential signed by a controller's authentication key")
    yield CaseSpec("malformed", {"credential": "{}", "documents": {}}, Reason.VC_MALFORMED,
                   description="a credential without members")


# -- presentations --------------------------------------------------------------------------------


@generator("did", "did.presentation.normalize")
def presentation_normalize_cases() -> Iterator[CaseSpec]:
    for ver, stems in PRESENTATIONS.items():
        for stem in stems:
            want = {"normalized": text(ver, f"{stem}.normalized.json")}
            rules = VP_RULES + (("VP-003",) if ver == "v1" else ())
            for form in ("json", "normalized.json"):
                file = f"{stem}.{form}"
                yield CaseSpec(case_name(ver, file), {"presentation": text(ver, file)}, OK, rules=rules,
                               description=f"{ver} {file} normalizes to {stem}.normalized.json",
                               provenance=provenance(ver, file), expect_ok=want)
    norm = "user1.vp.nonempty.normalized.json"
    want_norm = {"normalized": text("v2", norm)}
    rev = dict(reversed(list(_load("v2", norm).items())))
    yield CaseSpec("reordered_members", {"presentation": _dumps(rev)}, OK, rules=("VP-001",),
                   description="member order does not change the normalized form", expect_ok=want_norm)
    yield CaseSpec("single_type_array", {"presentation": _changed("v2", norm, lambda d: d.update(
        type=["VerifiablePresentation"]))}, OK, rules=("VP-001",),
        description="one type is written as a string", expect_ok=want_norm)
    yield CaseSpec("relative_verification_method", {"presentation": _changed("v2", norm, lambda d: d["proof"].update(
        verificationMethod="#primary"))}, OK, rules=("VP-003",),
        description="a relative verificationMethod gets the holder DID", expect_ok=want_norm)
    yield CaseSpec("credentials_absent", {"presentation": _changed("v2", "user1.vp.empty.normalized.json",
                   lambda d: d.pop("verifiableCredential"))}, OK, rules=("VP-001",),
                   description="no verifiableCredential member is an empty list",
                   expect_ok={"normalized": text("v2", "user1.vp.empty.normalized.json")})

    def created_in_proof(d: dict[str, Any]) -> None:
        d["proof"]["created"] = d.pop("created")

    yield CaseSpec("created_in_proof", {"presentation": _changed("v2", norm, created_in_proof)}, OK,
                   rules=("VP-001",), description="the created date may be in the proof instead")

    def dup(d: dict[str, Any]) -> None:
        d["verifiableCredential"].append(dict(d["verifiableCredential"][0]))

    rejects: list[tuple[str, str, Reason, str]] = [
        ("json_syntax", text("v2", norm)[:-2], Reason.JSON_SYNTAX, "truncated text"),
        ("not_an_object", "[]", Reason.VP_MALFORMED, "a presentation is an object"),
        ("missing_proof", _changed("v2", norm, lambda d: d.pop("proof")), Reason.VP_MALFORMED, "no proof"),
        ("missing_type", _changed("v2", norm, lambda d: d.pop("type")), Reason.VP_MALFORMED, "no type"),
        ("empty_type", _changed("v2", norm, lambda d: d.update(type=[])), Reason.VP_MALFORMED, "type []"),
        ("realm_number", _changed("v2", norm, lambda d: d["proof"].update(realm=42)), Reason.VP_MALFORMED,
         "realm is a number"),
        ("nonce_object", _changed("v2", norm, lambda d: d["proof"].update(nonce={"n": 1})), Reason.VP_MALFORMED,
         "nonce is an object"),
        ("missing_nonce", _changed("v2", norm, lambda d: d["proof"].pop("nonce")), Reason.VP_MALFORMED, "no nonce"),
        ("holder_number", _changed("v2", norm, lambda d: d.update(holder=1)), Reason.VP_MALFORMED,
         "holder is a number"),
        ("credentials_object", _changed("v2", norm, lambda d: d.update(verifiableCredential={})),
         Reason.VP_MALFORMED, "verifiableCredential is an object"),
        ("duplicate_credential", _changed("v2", norm, dup), Reason.VP_DUPLICATE_CREDENTIAL,
         "a credential listed twice"),
        ("no_holder_relative_method", _changed("v1", "user1.vp.empty.normalized.json", lambda d: d["proof"].update(
            verificationMethod="#primary")), Reason.VP_NO_HOLDER, "v1: no holder and a relative verificationMethod"),
        ("missing_created", _changed("v2", norm, lambda d: d.pop("created")), Reason.VP_MALFORMED,
         "no created date, neither at the top nor in the proof"),
        ("vm_without_fragment", _changed("v2", norm, lambda d: d["proof"].update(
            verificationMethod=d["holder"])), Reason.VP_MALFORMED, "a verificationMethod that names no key"),
        ("no_holder_relative_id", _changed("v1", "user1.vp.empty.normalized.json", lambda d: d.update(id="#vp")),
         Reason.VP_NO_HOLDER, "v1: no holder and a relative id"),
        ("credential_without_subject_id", _changed("v2", norm, lambda d: d["verifiableCredential"][0][
            "credentialSubject"].pop("id")), Reason.VC_MALFORMED, "a credential without credentialSubject.id"),
        ("bad_created", _changed("v2", norm, lambda d: d.update(created="yesterday")), Reason.DOC_INVALID_DATE,
         "created is not a date"),
    ]
    for name, vp_text, reason, what in rejects:
        yield CaseSpec(name, {"presentation": vp_text}, reason, description=what)


@generator("did", "did.presentation.verify")
def presentation_verify_cases() -> Iterator[CaseSpec]:
    for ver, stems in PRESENTATIONS.items():
        docs = documents(ver)
        for stem in stems:
            file = f"{stem}.normalized.json"
            vp_text = text(ver, file)
            vp = json.loads(vp_text)
            holder = vp.get("holder") or vp["proof"]["verificationMethod"].split("#")[0]
            # Quirk: the holder's document expiring does not make a presentation invalid (the SDK
            # checks only its credentials' validity), so an empty presentation stays valid
            for label, now, valid in (("", None, True), ("_before_expiry", NOW_BEFORE, True),
                                      ("_after_expiry", NOW_AFTER, not vp["verifiableCredential"])):
                inp: dict[str, Any] = {"presentation": vp_text, "documents": docs}
                if now is not None:
                    inp["now"] = now
                yield CaseSpec(case_name(ver, file) + label, inp, OK, rules=VP_RULES,
                               description=f"{ver} {file} is genuine" + (f"; valid at {now}: {valid}" if now else ""),
                               provenance=provenance(ver, file),
                               expect_ok={"holder": holder, "genuine": True, "valid": valid})
    docs = documents("v2")

    def verdict(name: str, vp: str, genuine: bool, what: str, now: int = NOW_BEFORE,
                docs: dict[str, str] = docs, valid: bool | None = None) -> CaseSpec:
        return CaseSpec(name, {"presentation": vp, "documents": docs, "now": now}, OK, description=what,
                        expect_ok={"genuine": genuine, "valid": genuine if valid is None else valid})

    base = "user1.vp.nonempty.normalized.json"
    yield verdict("flipped_signature", _changed("v2", base, lambda d: d["proof"].update(
        signature=_flip(d["proof"]["signature"]))), False, "one character of the signature changed")
    yield verdict("changed_realm", _changed("v2", base, lambda d: d["proof"].update(realm="https://evil.example/")),
                  False, "the realm changed after signing (it is signed after the body)")
    yield verdict("changed_nonce", _changed("v2", base, lambda d: d["proof"].update(nonce="00")), False,
                  "the nonce changed after signing")
    yield verdict("changed_created", _changed("v2", base, lambda d: d.update(created="2021-11-20T09:54:10Z")), False,
                  "created changed after signing")
    yield verdict("dropped_credential", _changed("v2", base, lambda d: d["verifiableCredential"].pop()), False,
                  "a credential removed after signing")
    yield verdict("credential_flipped_signature", _changed("v2", base, lambda d: d["verifiableCredential"][0][
        "proof"].update(signature=_flip(d["verifiableCredential"][0]["proof"]["signature"]))), False,
        "a contained credential is not genuine")
    foobar_vc = json.loads(text("v2", "foobar.vc.license.normalized.json"))
    yield verdict("credential_of_other_subject", _changed("v2", base, lambda d: d["verifiableCredential"].append(
        foobar_vc)), False, "a contained credential is about another DID than the holder")
    yield verdict("not_authentication_key", _changed("v2", base, lambda d: d["proof"].update(
        verificationMethod="did:elastos:iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y#nokey")), False,
        "the verificationMethod is no authentication key of the holder")
    yield verdict("proof_type", _changed("v2", base, lambda d: d["proof"].update(type="Ed25519Signature2018")), False,
                  "a proof type other than ECDSAsecp256r1")
    yield verdict("holder_unknown", text("v2", base), False, "the holder's document is not given", docs={})
    rev = dict(reversed(list(_load("v2", base).items())))
    yield verdict("reordered_members", _dumps(rev), True, "member order does not change what is signed")
    yield verdict("expired", text("v2", base), True, "genuine but expired", now=NOW_AFTER, valid=False)
    yield CaseSpec("malformed", {"presentation": "{}", "documents": {}}, Reason.VP_MALFORMED,
                   description="a presentation without members")
