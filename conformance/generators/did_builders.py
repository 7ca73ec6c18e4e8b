"""Generators of the ``did`` suite for the builders (``spec.did.builder``): documents sealed and
co-signed, credentials issued, presentations created, and each builder rule refused.

Keys are HD keys of the SDK's test mnemonic (``RootIdentityTest``: index 0 is
``did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj``); "now" is a fixed time. Signatures are RFC 6979.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from spec.did import builder as B
from spec.did import credential as C
from spec.did import document as D
from spec.did import keys
from spec.did.syntax import parse_did_url
from spec.errors import Reason

from conformance.generators.did_keys import TEST_MNEMONIC, TEST_PASSPHRASE
from conformance.vectors import CaseSpec, generator

OK = "ok"
NOW = 1_763_726_400  # 2025-11-21T12:00:00Z
SDK_DID0 = "did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj"


@cache
def _key(i: int) -> keys.ExtendedKey:
    return keys.derive_did_key(TEST_MNEMONIC, TEST_PASSPHRASE, i)


def _did(i: int) -> str:
    return str(keys.did_from_public_key(_key(i).public_key))


def _signer(i: int) -> dict[str, str]:
    return {"key": f"{_did(i)}#primary", "private_key": _key(i).private_key.hex()}


@cache
def _doc(i: int) -> D.Document:
    return B.seal_document(B.primitive_draft(_key(i).public_key), now=NOW, signer=parse_did_url(f"{_did(i)}#primary"),
                           private_key=_key(i).private_key)


def _docs(*idx: int) -> dict[str, str]:
    return {_did(i): D.normalized(_doc(i)) for i in idx}


def _text(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


@generator("did", "did.document.seal")
def document_seal() -> Iterator[CaseSpec]:
    prim = B.primitive_draft(_key(0).public_key)
    yield CaseSpec("primitive_defaults", {"draft": _text(prim), "now": NOW, "signers": [_signer(0)]}, OK,
                   ("BLD-001", "BLD-002"), "RootIdentity.newDid: #primary, expires now + 5 years",
                   expect_ok={"did": SDK_DID0})
    at_max = {**prim, "expires": D.format_date(B.max_expires(NOW))}
    yield CaseSpec("expires_at_the_limit", {"draft": _text(at_max), "now": NOW, "signers": [_signer(0)]}, OK,
                   ("BLD-001",), "expires exactly now + 5 calendar years is allowed")
    leap = 1_709_208_000  # 2024-02-29T12:00:00Z
    yield CaseSpec("leap_day_default", {"draft": _text(prim), "now": leap, "signers": [_signer(0)]}, OK,
                   ("BLD-001",), "29 February + 5 years expires on 28 February (Calendar.add)")
    rich = {**prim, "publicKey": prim["publicKey"] + [{"id": "#key2", "publicKeyBase58":
                                                       keys.public_key_to_base58(_key(5).public_key)}],
            "authentication": ["#key2"],
            "service": [{"id": "#vault", "type": "HiveVault", "serviceEndpoint": "https://hive.example/"}]}
    yield CaseSpec("keys_and_service", {"draft": _text(rich), "now": NOW, "signers": [_signer(0)]}, OK,
                   ("BLD-002",), "a compact draft with a second key and a service is sanitized before signing")
    single = B.customized_draft("did:elastos:example", [_did(1)])
    yield CaseSpec("customized_one_controller",
                   {"draft": _text(single), "now": NOW, "signers": [_signer(1)], "documents": _docs(1)}, OK,
                   ("BLD-002",), "signed by the controller's default key")
    group = B.customized_draft("did:elastos:examplegroup", [_did(1), _did(2), _did(3)], multisig=2)
    yield CaseSpec("multisig_2_of_3", {"draft": _text(group), "now": NOW, "signers": [_signer(3), _signer(1)],
                                       "documents": _docs(1, 2, 3)}, OK,
                   ("BLD-002", "BLD-003"), "seal by one controller, DIDDocument.sign by a second")

    too_late = {**prim, "expires": D.format_date(B.max_expires(NOW) + 1)}
    yield CaseSpec("expires_after_the_limit", {"draft": _text(too_late), "now": NOW, "signers": [_signer(0)]},
                   Reason.BUILDER_EXPIRES, ("BLD-001",), "Invalid expires, out of range.")
    past = {**prim, "expires": D.format_date(NOW)}
    yield CaseSpec("expires_now", {"draft": _text(past), "now": NOW, "signers": [_signer(0)]},
                   Reason.BUILDER_EXPIRES, ("BLD-001",), "a document must expire after now")
    wrong_key = {"key": f"{_did(0)}#primary", "private_key": _key(1).private_key.hex()}
    yield CaseSpec("private_key_of_another_key", {"draft": _text(prim), "now": NOW, "signers": [wrong_key]},
                   Reason.BUILDER_SIGNER, ("BLD-002",))
    second = {"key": f"{_did(0)}#key2", "private_key": _key(5).private_key.hex()}
    yield CaseSpec("primitive_signed_by_non_default_key", {"draft": _text(rich), "now": NOW, "signers": [second]},
                   Reason.BUILDER_SIGNER, ("BLD-002",), "a primitive document is signed by its default key only")
    yield CaseSpec("cosigner_not_a_controller", {"draft": _text(group), "now": NOW, "signers": [_signer(1), _signer(4)],
                                                 "documents": _docs(1, 2, 3, 4)},
                   Reason.BUILDER_SIGNER, ("BLD-002",))
    yield CaseSpec("cosign_twice", {"draft": _text(group), "now": NOW, "signers": [_signer(1), _signer(1)],
                                    "documents": _docs(1, 2, 3)},
                   Reason.BUILDER_ALREADY_SIGNED, ("BLD-003",), "AlreadySignedException")
    yield CaseSpec("cosign_sealed", {"draft": _text(group), "now": NOW, "signers": [_signer(1), _signer(2), _signer(3)],
                                     "documents": _docs(1, 2, 3)},
                   Reason.BUILDER_ALREADY_SIGNED, ("BLD-003",), "a 2:3 document with 2 proofs is sealed")


def _issue(name: str, means: str | Reason, rules: tuple[str, ...], desc: str = "", **over: Any) -> CaseSpec:
    inp: dict[str, Any] = {"id": f"{_did(1)}#profile", "subject": _did(1), "types": ["ProfileCredential"],
                           "properties": _text({"name": "Ann", "languages": ["en", "fr"], "age": 30}),
                           "issuer": _did(0), "signer": f"{_did(0)}#primary", "private_key": _key(0).private_key.hex(),
                           "now": NOW, "documents": _docs(0, 1)}
    inp.update(over)
    return CaseSpec(name, inp, means, rules, desc)


@generator("did", "did.credential.issue")
def credential_issue() -> Iterator[CaseSpec]:
    yield _issue("defaults", OK, ("BLD-002",), "issuanceDate now, expirationDate now + 5 years, VerifiableCredential added")
    yield _issue("expiration_clipped", OK, ("BLD-002",), "Quirk: a later expirationDate is clipped to now + 5 years",
                 expiration=B.max_expires(NOW) + 86400)
    yield _issue("expiration_given", OK, ("BLD-002",), expiration=NOW + 86400)
    yield _issue("self_proclaimed", OK, ("BLD-002",), "the subject issues about itself", issuer=_did(1),
                 signer=f"{_did(1)}#primary", private_key=_key(1).private_key.hex())
    yield _issue("wrong_private_key", Reason.BUILDER_SIGNER, ("BLD-002",), private_key=_key(1).private_key.hex())
    yield _issue("signer_not_issuer_key", Reason.BUILDER_SIGNER, ("BLD-002",),
                 "the verification method must be an authentication key of the issuer",
                 signer=f"{_did(1)}#primary", private_key=_key(1).private_key.hex())


@cache
def _vc(i: int, frag: str) -> str:
    vc = B.issue_credential(parse_did_url(f"{_did(1)}#{frag}"), _doc(1).subject, ["ProfileCredential"], {"n": i},
                            issuer_doc=_doc(i), signer=parse_did_url(f"{_did(i)}#primary"),
                            private_key=_key(i).private_key, now=NOW,
                            resolve=D.resolver_from_texts(_docs(0, 1)))
    return C.normalized(vc)


@generator("did", "did.presentation.create")
def presentation_create() -> Iterator[CaseSpec]:
    base: dict[str, Any] = {"holder": _did(1), "credentials": [_vc(0, "a"), _vc(1, "b")], "realm": "https://vault.example/",
                            "nonce": "4f1c2d", "signer": f"{_did(1)}#primary", "private_key": _key(1).private_key.hex(),
                            "now": NOW, "documents": _docs(0, 1)}
    yield CaseSpec("two_credentials", base, OK, ("BLD-002",), "credentials sorted by id; realm and nonce signed")
    yield CaseSpec("empty_with_id", {**base, "credentials": [], "id": "#vp1"}, OK, ("BLD-002",))
    foreign = B.issue_credential(parse_did_url(f"{_did(0)}#x"), _doc(0).subject, [], {}, issuer_doc=_doc(0),
                                 signer=parse_did_url(f"{_did(0)}#primary"), private_key=_key(0).private_key, now=NOW)
    yield CaseSpec("credential_about_another_did", {**base, "credentials": [C.normalized(foreign)]},
                   Reason.BUILDER_SIGNER, ("BLD-002",), "a presentation holds only credentials about its holder")
    yield CaseSpec("wrong_private_key", {**base, "private_key": _key(0).private_key.hex()},
                   Reason.BUILDER_SIGNER, ("BLD-002",))
