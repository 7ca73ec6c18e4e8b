"""Generators of the ``did`` suite for DID documents: the SDKs' test documents and cases derived from them.

The upstream documents are read in place from ``../shared/interop/did-sdk/{v1,v2}`` (the Java SDK's
test data, identical in the C, JS and Swift SDKs). Every raw (``.json``), compact and normalized
document must normalize to its ``.normalized.json`` byte-exactly; v2 documents must also compact to
their ``.compact.json``; every document is genuine. Negative cases change one thing of a genuine
document: a signature byte, a signed member, the proofs, or the JSON text itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from spec.did import document as D
from spec.errors import Reason

from conformance.generators.common import InteropMissing
from conformance.vectors import CaseSpec, generator, shared_dir

OK = "ok"
JAVA_SDK = {"repo": "elastos/Elastos.DID.Java.SDK", "commit": "7cf79021379e89683e19a31ae88ab3885e7a34a1"}
DOCS: dict[str, tuple[str, ...]] = {
    "v1": ("issuer", "user1", "user2", "user3"),
    "v2": ("issuer", "user1", "user2", "user3", "user4", "examplecorp", "foo", "bar", "baz", "foobar",
           "baz.new-id", "foobar.new-id"),
}
NOW_BEFORE = 1700000000
"""2023-11-14: before every test document's expiry."""
NOW_AFTER = 1900000000
"""2030-03-17: after every test document's expiry."""


def _dir(ver: str) -> Path:
    return shared_dir() / "interop" / "did-sdk" / ver


@cache
def text(ver: str, name: str) -> str:
    """The text of ``<name>`` in ``did-sdk/<ver>``, read in place."""
    path = _dir(ver) / name
    if not path.is_file():
        raise InteropMissing(f"{path} not found: the did vectors need ../shared/interop/did-sdk")
    return path.read_text(encoding="utf-8")


def _stem(doc: str) -> str:
    return doc if doc.endswith(".new-id") else doc + ".id"


def provenance(ver: str, file: str) -> dict[str, Any]:
    return {"interop_file": f"shared/interop/did-sdk/{ver}/{file}", "item": file,
            "upstream": {**JAVA_SDK, "path": f"sdk/src/test/resources/{ver}/testdata/{file}"}}


def case_name(ver: str, file: str) -> str:
    return f"{ver}_" + file.removesuffix(".json").replace(".", "_")


def controller_texts(ver: str) -> dict[str, str]:
    """Normalized texts of the primitive documents of a version, by DID (the controllers)."""
    out = {}
    for doc in DOCS[ver]:
        t = text(ver, f"{_stem(doc)}.normalized.json")
        did = json.loads(t)["id"]
        if "controller" not in json.loads(t):
            out[did] = t
    return out


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


# -- normalize ------------------------------------------------------------------------------------


@generator("did", "did.document.normalize")
def normalize_cases() -> Iterator[CaseSpec]:
    for ver, docs in DOCS.items():
        for doc in docs:
            stem = _stem(doc)
            want: dict[str, Any] = {"normalized": text(ver, f"{stem}.normalized.json")}
            if ver != "v1":  # the SDK compares compact output from v2 on (v1 compact files predate it)
                want["compact"] = text(ver, f"{stem}.compact.json")
            for form in ("json", "compact.json", "normalized.json"):
                file = f"{stem}.{form}"
                yield CaseSpec(case_name(ver, file), {"document": text(ver, file)}, OK,
                               rules=("DOC-001", "DOC-003", "DOC-004", "DOC-005", "DOC-006", "DOC-007", "DOC-008", "DOC-012",
                                      "JSON-001", "JSON-002"),
                               description=f"{ver} {file} normalizes to {stem}.normalized.json",
                               provenance=provenance(ver, file), expect_ok=want)
    yield from _normalize_derived()


def _mutated(ver: str, doc: str, change: Any) -> str:
    d = json.loads(text(ver, f"{_stem(doc)}.json"))
    change(d)
    return json.dumps(d, ensure_ascii=False, indent=2)


def _normalize_derived() -> Iterator[CaseSpec]:
    user1 = text("v2", "user1.id.json")
    user3_norm = text("v2", "user3.id.normalized.json")
    foobar_norm = json.loads(text("v2", "foobar.id.normalized.json"))

    # accepted variants: member order, whitespace and escapes do not change the normalized form
    rev = dict(reversed(list(json.loads(user1).items())))
    yield CaseSpec("reordered_members", {"document": _dumps(rev)}, OK, rules=("DOC-001",),
                   description="members in reverse order normalize the same",
                   expect_ok={"normalized": text("v2", "user1.id.normalized.json")})
    escaped = user3_norm.replace('"id"', '"\\u0069d"', 1)
    user3 = json.loads(text("v2", "user3.id.json"))
    user3["extra"] = {"a": 1}
    user3["publicKey"][0]["comment"] = "ignored"
    user3["proof"]["nonce"] = 5
    yield CaseSpec("unknown_members_ignored", {"document": _dumps(user3)}, OK, rules=("DOC-001",),
                   description="members the SDK does not know are ignored and not written (Jackson "
                   "FAIL_ON_UNKNOWN_PROPERTIES is off)", expect_ok={"normalized": user3_norm})
    yield CaseSpec("key_type_kept", {"document": _mutated("v1", "user1", lambda d: d["publicKey"][1].update(
        type="Ed25519VerificationKey2018"))}, OK, description="a key type other than the default is kept as written")
    yield CaseSpec("authentication_key_of_other_did", {"document": _mutated("v1", "user1", lambda d: d[
        "authentication"].append("#recovery"))}, OK, rules=("DOC-008",),
        description="the SDK does not check who controls an authentication key")
    yield CaseSpec("authorization_reference_to_own_key", {"document": _mutated("v1", "user1", lambda d: d[
        "authorization"].append("#key2"))}, OK, rules=("DOC-008",),
        description="only embedded authorization keys have their controller checked")
    yield CaseSpec("escaped_member_name", {"document": escaped}, OK, rules=("JSON-001",),
                   description="an escaped member name is the same name", expect_ok={"normalized": user3_norm})
    d = json.loads(text("v2", "foobar.id.normalized.json"))
    d["service"][0]["nested"] = {"z": [1.5, 1e20, -0.0, 10, True, None, "\u00e9\n\u0001<&/"], "a": {"b": 1}}
    yield CaseSpec("service_extra_values", {"document": _dumps(d)}, OK, rules=("DOC-001", "JSON-006"),
                   description="extra service members: numbers as Java writes them, escapes, sorted keys")
    nfd = dict(foobar_norm)
    nfd["service"] = [dict(foobar_norm["service"][0], note="Cafe\u0301"), foobar_norm["service"][1]]
    yield CaseSpec("non_nfc_text_is_normalized", {"document": _dumps(nfd)}, OK, rules=("JSON-005",),
                   description="text is written in NFC (Normalizer.normalize on the whole string)")
    millis = user3_norm.replace('"expires":"2026-11-20T09:54:09Z"', '"expires":"2026-11-20T09:54:09.123Z"')
    yield CaseSpec("date_with_millis", {"document": millis}, OK, rules=("DOC-002",),
                   description="a date with milliseconds is accepted and cut to seconds",
                   expect_ok={"normalized": user3_norm})
    deep = json.loads(text("v2", "foobar.id.normalized.json"))
    nested: Any = []
    for _ in range(D.jsontext.MAX_DEPTH - 4):  # document, service list, service, then these arrays
        nested = [nested]
    deep["service"][0]["deep"] = nested
    yield CaseSpec("deep_but_allowed", {"document": _dumps(deep)}, OK, rules=("JSON-003", "JSON-004"),
                   description="nesting exactly at the limit")
    yield CaseSpec("single_controller_creator_from_resolver", {
        "document": _mutated("v2", "examplecorp", lambda d: d["proof"].pop("creator")),
        "documents": controller_texts("v2")}, OK, rules=("DOC-007", "DOC-010", "DOC-011", "DOC-009"),
        description="a customized document with one controller: a missing creator is that controller's default key",
        expect_ok={"normalized": text("v2", "examplecorp.id.normalized.json")})

    rejects: list[tuple[str, str, Reason, str]] = [
        ("json_syntax", user1[:-3], Reason.JSON_SYNTAX, "truncated text"),
        ("json_trailing", user1 + "{}", Reason.JSON_SYNTAX, "a second value after the document"),
        ("json_duplicate_member", user3_norm.replace('{"id":', '{"id":"did:elastos:x","id":', 1),
         Reason.JSON_DUPLICATE_MEMBER, "the member id twice"),
        ("json_duplicate_nested", user3_norm.replace('"type":"ECDSAsecp256r1",', '"type":"ECDSAsecp256r1","type":"x",', 1),
         Reason.JSON_DUPLICATE_MEMBER, "a key's type twice"),
        ("json_too_deep", _deep(D.jsontext.MAX_DEPTH + 1), Reason.JSON_TOO_DEEP, "nesting one past the limit"),
        ("json_too_large", '"' + "a" * D.jsontext.MAX_TEXT_LENGTH + '"', Reason.JSON_TOO_LARGE, "over 1 MiB"),
        ("json_lone_surrogate", user3_norm.replace('"id":"did', '"x":"\\ud800","id":"did', 1), Reason.JSON_SYNTAX,
         "an unpaired surrogate escape"),
        ("json_huge_number", user3_norm.replace('{"id":', '{"n":1e400,"id":', 1), Reason.JSON_SYNTAX,
         "a number beyond double range"),
        ("json_nan", user3_norm.replace('{"id":', '{"n":NaN,"id":', 1), Reason.JSON_SYNTAX, "NaN is not JSON"),
        ("not_an_object", "[]", Reason.DOC_MALFORMED, "a document is an object"),
        ("missing_expires", _mutated("v2", "user3", lambda d: d.pop("expires")), Reason.DOC_MALFORMED, "no expires"),
        ("missing_proof", _mutated("v2", "user3", lambda d: d.pop("proof")), Reason.DOC_MALFORMED, "no proof"),
        ("empty_proof_list", _mutated("v2", "user3", lambda d: d.update(proof=[])), Reason.DOC_MALFORMED, "proof []"),
        ("expires_wrong_type", _mutated("v2", "user3", lambda d: d.update(expires=1795168449)), Reason.DOC_MALFORMED,
         "expires is a number"),
        ("public_key_wrong_type", _mutated("v2", "user3", lambda d: d.update(publicKey={})), Reason.DOC_MALFORMED,
         "publicKey is an object"),
        ("key_reference_not_url", _mutated("v2", "user3", lambda d: d.update(authentication=[7])), Reason.DOC_MALFORMED,
         "an authentication reference is a number"),
        ("key_missing_base58", _mutated("v2", "user3", lambda d: d["publicKey"][0].pop("publicKeyBase58")),
         Reason.DOC_MALFORMED, "a key without publicKeyBase58"),
        ("bad_date", _mutated("v2", "user3", lambda d: d.update(expires="2026-13-20T09:54:09Z")),
         Reason.DOC_INVALID_DATE, "month 13"),
        ("bad_date_form", _mutated("v2", "user3", lambda d: d.update(expires="2026-11-20 09:54:09")),
         Reason.DOC_INVALID_DATE, "no T and Z"),
        ("foreign_key_id", _mutated("v1", "user1", lambda d: d["publicKey"][1].update(
            id="did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj#key2")), Reason.DOC_FOREIGN_ID, "a key id of another DID"),
        ("foreign_service_id", _mutated("v1", "user1", lambda d: d["service"][0].update(
            id="did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj#vcr")), Reason.DOC_FOREIGN_ID, "a service id of another DID"),
        ("duplicate_key_id", _mutated("v1", "user1", lambda d: d["publicKey"].append(dict(d["publicKey"][1]))),
         Reason.DOC_DUPLICATE_ID, "a key listed twice"),
        ("duplicate_service_id", _mutated("v1", "user1", lambda d: d["service"].append(dict(d["service"][0]))),
         Reason.DOC_DUPLICATE_ID, "a service listed twice"),
        ("unknown_key_reference", _mutated("v1", "user1", lambda d: d["authentication"].append("#nokey")),
         Reason.DOC_UNKNOWN_KEY, "authentication names no key"),
        ("bad_key_base58", _mutated("v1", "user1", lambda d: d["publicKey"][1].update(publicKeyBase58="0OIl")),
         Reason.DOC_KEY_ENCODING, "not base58"),
        ("bad_key_point", _mutated("v1", "user1", lambda d: d["publicKey"][1].update(publicKeyBase58="1111")),
         Reason.DOC_KEY_ENCODING, "not a point"),
        ("authorization_key_of_subject", _mutated("v1", "user1", lambda d: d["authorization"][0].update(
            controller=d["id"])), Reason.DOC_KEY_CONTROLLER, "an embedded authorization key controlled by the subject"),
        ("authorization_key_without_controller", _mutated("v1", "user1", lambda d: d["authorization"][0].pop(
            "controller")), Reason.DOC_KEY_CONTROLLER, "an embedded authorization key without controller"),
        ("relative_creator_several_controllers", _mutated("v2", "foo", lambda d: d["proof"][0].update(
            creator="#primary")), Reason.DOC_PROOF, "a relative creator with no default key and two controllers"),
        ("credential_without_type", _mutated("v1", "user1", lambda d: d["verifiableCredential"][0].update(type=[])),
         Reason.DOC_MALFORMED, "an embedded credential with an empty type list"),
        ("credential_without_expiration", _mutated("v1", "user1", lambda d: d["verifiableCredential"][0].pop(
            "expirationDate")), Reason.DOC_MALFORMED, "an embedded credential without expirationDate"),
        ("empty_key_base58", _mutated("v1", "user1", lambda d: d["publicKey"][1].update(publicKeyBase58="")),
         Reason.DOC_KEY_ENCODING, "an empty publicKeyBase58"),
        ("no_default_key", _mutated("v2", "user3", lambda d: d["publicKey"][0].update(
            publicKeyBase58=json.loads(text("v2", "user1.id.normalized.json"))["publicKey"][0]["publicKeyBase58"])),
         Reason.DOC_NO_DEFAULT_KEY, "no key's address is the DID"),
        ("multisig_missing", _mutated("v2", "foo", lambda d: d.pop("multisig")), Reason.DOC_MULTISIG, "2 controllers"),
        ("multisig_wrong_n", _mutated("v2", "foo", lambda d: d.update(multisig="2:3")), Reason.DOC_MULTISIG, "n != 2"),
        ("multisig_m_zero", _mutated("v2", "foo", lambda d: d.update(multisig="0:2")), Reason.DOC_MULTISIG, "m = 0"),
        ("multisig_single_controller", _mutated("v2", "examplecorp", lambda d: d.update(multisig="1:1")),
         Reason.DOC_MULTISIG, "multisig with one controller"),
        ("controller_twice", _mutated("v2", "foo", lambda d: d["controller"].append(d["controller"][0])),
         Reason.DOC_CONTROLLER, "a controller listed twice"),
        ("controller_is_subject", _mutated("v2", "examplecorp", lambda d: d.update(controller=d["id"])),
         Reason.DOC_CONTROLLER, "the subject as its own controller"),
        ("service_empty_type", _mutated("v1", "user1", lambda d: d["service"][0].update(type="")),
         Reason.DOC_EMPTY_SERVICE, "an empty service type"),
        ("service_empty_endpoint", _mutated("v1", "user1", lambda d: d["service"][0].update(serviceEndpoint="")),
         Reason.DOC_EMPTY_SERVICE, "an empty service endpoint"),
        ("proof_without_creator", _mutated("v2", "examplecorp", lambda d: d["proof"].pop("creator")),
         Reason.DOC_PROOF, "one controller, no creator and no controller document"),
        ("two_proofs_one_signer", _mutated("v2", "foo", lambda d: d.update(proof=[d["proof"][0], d["proof"][0]])),
         Reason.DOC_PROOF, "two proofs by the same controller"),
    ]
    for name, doc_text, reason, what in rejects:
        yield CaseSpec(name, {"document": doc_text}, reason, description=what)


def _deep(depth: int) -> str:
    return "[" * (depth - 1) + "{}" + "]" * (depth - 1)


# -- verify ---------------------------------------------------------------------------------------


@generator("did", "did.document.verify")
def verify_cases() -> Iterator[CaseSpec]:
    for ver, docs in DOCS.items():
        ctrl = controller_texts(ver)
        for doc in docs:
            file = f"{_stem(doc)}.normalized.json"
            doc_text = text(ver, file)
            did = json.loads(doc_text)["id"]
            for label, now, valid in (("", None, True), ("_before_expiry", NOW_BEFORE, True),
                                      ("_after_expiry", NOW_AFTER, False)):
                inp: dict[str, Any] = {"document": doc_text, "documents": ctrl}
                if now is not None:
                    inp["now"] = now
                yield CaseSpec(case_name(ver, file) + label, inp, OK, rules=("DOC-007",),
                               description=f"{ver} {file} is genuine" + (f"; valid at {now}: {valid}" if now else ""),
                               provenance=provenance(ver, file),
                               expect_ok={"did": did, "genuine": True, "valid": valid})
    yield from _verify_derived()


def _norm(ver: str, doc: str) -> dict[str, Any]:
    return json.loads(text(ver, f"{_stem(doc)}.normalized.json"))


def _flip(sig: str) -> str:
    return ("B" if sig[10] == "A" else "A").join((sig[:10], sig[11:]))


def _verify_derived() -> Iterator[CaseSpec]:
    ctrl = controller_texts("v2")

    def not_genuine(name: str, d: dict[str, Any], what: str, docs: dict[str, str] = ctrl) -> CaseSpec:
        return CaseSpec(name, {"document": _dumps(d), "documents": docs, "now": NOW_BEFORE}, OK,
                        description=what, expect_ok={"did": d["id"], "genuine": False, "valid": False})

    d = _norm("v2", "user4")
    d["proof"]["signatureValue"] = _flip(d["proof"]["signatureValue"])
    yield not_genuine("flipped_signature", d, "one character of the signature changed")
    d = _norm("v2", "user4")
    d["expires"] = "2026-11-21T09:54:09Z"
    yield not_genuine("changed_expires", d, "a signed member changed after signing")
    d = _norm("v2", "user1")
    d["service"][0]["serviceEndpoint"] = "carrier://changed"
    yield not_genuine("changed_service", d, "a service endpoint changed after signing")
    d = _norm("v2", "user1")
    d["proof"]["creator"] = d["publicKey"][0]["id"]
    yield not_genuine("non_default_creator", d, "a primitive document signed (claimed) by a non-default key")
    d = _norm("v2", "user4")
    d["proof"]["type"] = "Ed25519Signature2018"
    yield not_genuine("proof_type", d, "a proof type other than ECDSAsecp256r1")
    d = _norm("v2", "user4")
    d["proof"]["signatureValue"] = d["proof"]["signatureValue"][:-4]
    yield not_genuine("short_signature", d, "a signature that does not decode to 64 bytes")
    d = _norm("v2", "foobar")
    d["proof"] = d["proof"][:1]
    yield not_genuine("multisig_missing_proof", d, "a 2:3 document with one proof")
    yield not_genuine("controller_unknown", _norm("v2", "foo"), "controller documents not given", docs={})
    d = _norm("v2", "examplecorp")
    d["proof"]["signatureValue"] = _flip(d["proof"]["signatureValue"])
    yield not_genuine("customized_flipped_signature", d, "a controller's signature changed")

    rev = dict(reversed(list(_norm("v2", "foobar").items())))
    yield CaseSpec("reordered_members", {"document": _dumps(rev), "documents": ctrl, "now": NOW_BEFORE}, OK,
                   description="member order does not change what is signed",
                   expect_ok={"did": "did:elastos:foobar", "genuine": True, "valid": True})
    yield CaseSpec("malformed", {"document": "{}", "documents": {}}, Reason.DOC_MALFORMED,
                   description="a document without members")
