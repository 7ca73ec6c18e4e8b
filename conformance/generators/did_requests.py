"""Generators of the ``did`` suite for transfer tickets and ID-chain requests.

Tickets: the SDKs' two test tickets (``baz.tt.json``, ``foobar.tt.json``, read in place from
``../shared/interop/did-sdk/v2``) are genuine; more tickets are signed here with the SDK's test keys.
Requests: the SDK test data holds no ID-chain request JSON, so every request is built here from the
SDK's documents, credentials, tickets and private keys (the ``.sk`` files), signed with RFC 6979
deterministic nonces. The transfers publish the SDK's ``*.new-id`` documents with the SDK's tickets.
Negative cases change one thing of a valid ticket or request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from spec.crypto import p256
from spec.did import builder as B
from spec.did import document as D
from spec.did import jsontext, keys
from spec.did import request as R
from spec.did import ticket as T
from spec.did.syntax import DIDURL, parse_did, parse_did_url
from spec.errors import Reason

from conformance.generators.did_keys import TEST_MNEMONIC, TEST_PASSPHRASE
from conformance.generators.did_documents import NOW_AFTER, NOW_BEFORE, controller_texts, provenance, text
from conformance.vectors import CaseSpec, generator

OK = "ok"
ISSUER = "did:elastos:imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj"
USER1 = "did:elastos:iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y"
USER2 = "did:elastos:idwuEMccSpsTH4ZqrhuHqg6y8XMVQAsY5g"
USER3 = "did:elastos:igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS"
USER4 = "did:elastos:igHbSCez6H3gTuVPzwNZRrdj92GCJ6hD5d"
SK_FILES = {f"{ISSUER}#primary": "issuer.id.primary.sk", f"{USER1}#primary": "user1.id.primary.sk",
            f"{USER1}#key2": "user1.id.key2.sk", f"{USER2}#primary": "user2.id.primary.sk",
            f"{USER3}#primary": "user3.id.primary.sk", f"{USER4}#primary": "user4.id.primary.sk",
            "did:elastos:foobar#key2": "foobar.id.key2.sk"}
CREATED = 1637402050
"""2021-11-20T09:54:10Z: the SDK test data's signing time, used for proofs made here."""


@cache
def private_key(vm: str) -> bytes:
    """The private key of a verification method, from the SDK's ``.sk`` file."""
    k = keys.parse_extended_key(text("v2", SK_FILES[vm]).strip()).private_key
    assert k is not None
    return k


def url(vm: str) -> DIDURL:
    return parse_did_url(vm)


def norm(doc: str) -> str:
    return text("v2", f"{doc}.normalized.json")


@cache
def documents() -> dict[str, str]:
    """The chain's view: every v2 test document before any transfer, by DID."""
    out = dict(controller_texts("v2"))
    for doc in ("examplecorp.id", "foo.id", "bar.id", "baz.id", "foobar.id"):
        out[json.loads(norm(doc))["id"]] = norm(doc)
    return out


def resign(doc_text: str, signers: list[str], change: Callable[[dict[str, Any]], Any] | None = None) -> str:
    """``doc_text`` (optionally changed) with new proofs by ``signers``."""
    d = json.loads(doc_text)
    if change is not None:
        change(d)
    d["proof"] = {"type": "ECDSAsecp256r1", "created": "2021-11-20T09:54:10Z", "creator": signers[0],
                  "signatureValue": "AA"}
    doc = D.parse_document(jsontext.serialize(d))
    message = D.signed_bytes(doc)
    proofs = [{"type": "ECDSAsecp256r1", "created": "2021-11-20T09:54:10Z", "creator": vm,
               "signatureValue": R.b64url_encode(p256.ecdsa_sign(
                   private_key(vm), message))} for vm in signers]
    d["proof"] = proofs[0] if len(proofs) == 1 else proofs
    return D.normalized(D.parse_document(jsontext.serialize(d)))


def ticket_text(did: str, signers: list[str], to: str = USER4, txid: str = "0123456789abcdef0123456789abcdef") -> str:
    return T.normalized(T.sign_ticket(parse_did(did), parse_did(to), txid,
                                      [(url(vm), private_key(vm), CREATED) for vm in signers]))


def _dumps(v: Any) -> str:
    return jsontext.serialize(v)


# -- tickets ---------------------------------------------------------------------------------------


@generator("did", "did.ticket.verify")
def ticket_cases() -> Iterator[CaseSpec]:
    docs = documents()
    for name in ("baz", "foobar"):
        file = f"{name}.tt.json"
        for label, now, valid in (("", None, True), ("_before_expiry", NOW_BEFORE, True),
                                  ("_after_expiry", NOW_AFTER, False)):
            inp: dict[str, Any] = {"ticket": text("v2", file), "documents": docs}
            if now is not None:
                inp["now"] = now
            yield CaseSpec(f"v2_{name}_tt{label}", inp, OK, rules=("TKT-001", "TKT-002"),
                           description=f"the SDK's {file} is genuine" + (f"; valid at {now}: {valid}" if now else ""),
                           provenance=provenance("v2", file),
                           expect_ok={"did": f"did:elastos:{name}", "genuine": True, "valid": valid})

    def verdict(name: str, tkt: str, genuine: bool, what: str, docs_: dict[str, str] = docs) -> CaseSpec:
        return CaseSpec(name, {"ticket": tkt, "documents": docs_, "now": NOW_BEFORE}, OK,
                        rules=("TKT-001", "TKT-002"), description=what,
                        expect_ok={"did": json.loads(tkt)["id"], "genuine": genuine, "valid": genuine})

    yield verdict("foo_2of2_signed_here", ticket_text("did:elastos:foo", [f"{USER1}#primary", f"{USER2}#primary"]),
                  True, "a 2:2 ticket signed here by both controllers")
    yield verdict("bar_3of3_signed_here", ticket_text("did:elastos:bar", [f"{USER1}#primary", f"{USER2}#primary",
                                                                          f"{USER3}#primary"]),
                  True, "a 3:3 ticket signed by all three controllers")
    yield verdict("examplecorp_single_controller", ticket_text("did:elastos:example", [f"{ISSUER}#primary"]),
                  True, "a single controller's ticket")
    d = json.loads(text("v2", "baz.tt.json"))
    sig = d["proof"]["signature"]
    d["proof"]["signature"] = ("B" if sig[10] == "A" else "A").join((sig[:10], sig[11:]))
    yield verdict("flipped_signature", _dumps(d), False, "one character of the signature changed")
    d = json.loads(text("v2", "baz.tt.json"))
    d["to"] = USER3
    yield verdict("changed_to", _dumps(d), False, "the new owner changed after signing")
    d = json.loads(text("v2", "foobar.tt.json"))
    d["proof"] = d["proof"][0]
    yield verdict("multisig_missing_proof", _dumps(d), False, "a 2:3 DID's ticket with one proof")
    yield verdict("foo_one_of_two", ticket_text("did:elastos:foo", [f"{USER1}#primary"]), False,
                  "a 2:2 DID's ticket with one proof")
    yield verdict("signer_not_controller", ticket_text("did:elastos:baz", [f"{USER4}#primary"]), False,
                  "signed by the new owner, who is not a controller of the DID yet")
    yield verdict("signer_not_default_key", ticket_text("did:elastos:baz", [f"{USER1}#key2"]), False,
                  "signed by a key that is not a controller's default key")
    yield verdict("primitive_did", ticket_text(USER1, [f"{USER1}#primary"]), False,
                  "a ticket for a primitive DID: only customized DIDs are transferred")
    yield verdict("did_unknown", text("v2", "baz.tt.json"), False, "the DID's document is not given", docs_={})
    d = json.loads(text("v2", "baz.tt.json"))
    d["proof"]["type"] = "Ed25519Signature2018"
    yield verdict("proof_type", _dumps(d), False, "a proof type other than ECDSAsecp256r1")
    d = dict(reversed(list(json.loads(text("v2", "foobar.tt.json")).items())))
    d["proof"] = list(reversed(d["proof"]))
    yield verdict("reordered", _dumps(d), True, "member and proof order do not change what is signed")

    baz = json.loads(text("v2", "baz.tt.json"))

    def changed(change: Callable[[dict[str, Any]], Any]) -> str:
        d = json.loads(json.dumps(baz))
        change(d)
        return _dumps(d)

    rejects: list[tuple[str, str, Reason, str]] = [
        ("not_an_object", "[]", Reason.TICKET_MALFORMED, "a ticket is an object"),
        ("missing_txid", changed(lambda d: d.pop("txid")), Reason.TICKET_MALFORMED, "no txid"),
        ("empty_txid", changed(lambda d: d.update(txid="")), Reason.TICKET_MALFORMED, "txid is empty"),
        ("to_not_string", changed(lambda d: d.update(to=7)), Reason.TICKET_MALFORMED, "to is a number"),
        ("proof_not_object", changed(lambda d: d.update(proof="x")), Reason.TICKET_MALFORMED, "proof is a string"),
        ("proof_missing_signature", changed(lambda d: d["proof"].pop("signature")), Reason.TICKET_MALFORMED,
         "a proof without signature"),
        ("proof_missing_created", changed(lambda d: d["proof"].pop("created")), Reason.TICKET_MALFORMED,
         "a proof without created"),
        ("proof_empty", changed(lambda d: d.update(proof=[])), Reason.TICKET_PROOF, "no proof"),
        ("proof_relative_method", changed(lambda d: d["proof"].update(verificationMethod="#primary")),
         Reason.TICKET_PROOF, "a relative verification method"),
        ("proof_twice_by_one_did", changed(lambda d: d.update(proof=[d["proof"], dict(d["proof"], created=
                                                                                          "2021-11-20T09:54:12Z")])),
         Reason.TICKET_PROOF, "two proofs by the same controller"),
        ("bad_id", changed(lambda d: d.update(id="did:other:baz")), Reason.DID_UNKNOWN_METHOD,
         "id is not a did:elastos"),
        ("bad_created", changed(lambda d: d["proof"].update(created="2021-13-20T09:54:11Z")),
         Reason.DOC_INVALID_DATE, "month 13"),
        ("json_duplicate_member", text("v2", "baz.tt.json").replace('{"id":', '{"id":"did:elastos:x","id":', 1),
         Reason.JSON_DUPLICATE_MEMBER, "the member id twice"),
    ]
    for name, tkt, reason, what in rejects:
        yield CaseSpec(name, {"ticket": tkt, "documents": docs}, reason, description=what)


# -- requests --------------------------------------------------------------------------------------


def req(op: Any, payload: str, vm: str, *, key: str | None = None, previous_txid: str | None = None,
        ticket: str | None = None) -> str:
    """A request signed with the key of ``key`` (default: ``vm``'s own key)."""
    return R.serialize(R.build_request(op, payload, url(vm), private_key(key or vm), previous_txid=previous_txid,
                                       ticket_text=ticket))


def _edit(request_text: str, change: Callable[[dict[str, Any]], Any]) -> str:
    d = json.loads(request_text)
    change(d)
    return _dumps(d)


PREV = "f9b2284b4525d5382ee8d0942c42442e"


@generator("did", "did.request.verify")
def request_cases() -> Iterator[CaseSpec]:
    docs = documents()
    twitter = text("v2", "user1.vc.twitter.normalized.json")
    email = text("v2", "foo.vc.email.normalized.json")
    valid: list[tuple[str, str, str, str, tuple[str, ...]]] = [
        ("create_issuer", req("create", norm("issuer.id"), f"{ISSUER}#primary"), "create", ISSUER, ()),
        ("create_user1", req("create", norm("user1.id"), f"{USER1}#primary"), "create", USER1, ()),
        ("create_user1_by_key2", req("create", norm("user1.id"), f"{USER1}#key2"), "create", USER1, ()),
        ("create_user2", req("create", norm("user2.id"), f"{USER2}#primary"), "create", USER2, ()),
        ("create_user3", req("create", norm("user3.id"), f"{USER3}#primary"), "create", USER3, ()),
        ("create_user4_from_raw_json", req("create", text("v2", "user4.id.json"), f"{USER4}#primary"), "create",
         USER4, ()),
        ("create_examplecorp", req("create", norm("examplecorp.id"), f"{ISSUER}#primary"), "create",
         "did:elastos:example", ()),
        ("create_foo_2of2", req("create", norm("foo.id"), f"{USER2}#primary"), "create", "did:elastos:foo", ()),
        ("create_bar_3of3", req("create", norm("bar.id"), f"{USER3}#primary"), "create", "did:elastos:bar", ()),
        ("create_baz_1of3", req("create", norm("baz.id"), f"{USER1}#primary"), "create", "did:elastos:baz", ()),
        ("create_foobar_by_own_key", req("create", norm("foobar.id"), "did:elastos:foobar#key2"), "create",
         "did:elastos:foobar", ()),
        ("update_user1", req("update", norm("user1.id"), f"{USER1}#primary", previous_txid=PREV), "update", USER1,
         ("REQ-004",)),
        ("update_foobar", req("update", norm("foobar.id"), f"{USER3}#primary", previous_txid=PREV), "update",
         "did:elastos:foobar", ("REQ-004",)),
        ("transfer_baz", req("transfer", norm("baz.new-id"), f"{USER4}#primary", ticket=text("v2", "baz.tt.json")),
         "transfer", "did:elastos:baz", ("REQ-004", "REQ-012", "TKT-003", "TKT-004", "TKT-005")),
        ("transfer_foobar", req("transfer", norm("foobar.new-id"), f"{USER4}#primary",
                                ticket=text("v2", "foobar.tt.json")),
         "transfer", "did:elastos:foobar", ("REQ-004", "REQ-012", "TKT-003", "TKT-004", "TKT-005")),
        ("deactivate_user1", req("deactivate", USER1, f"{USER1}#primary"), "deactivate", USER1, ("REQ-011",)),
        ("deactivate_foo_by_controller", req("deactivate", "did:elastos:foo", f"{USER1}#primary"), "deactivate",
         "did:elastos:foo", ("REQ-011",)),
        ("declare_user1_twitter", req("declare", twitter, f"{USER1}#primary"), "declare", USER1, ("REQ-006",)),
        ("declare_foo_email_by_controller", req("declare", email, f"{USER2}#primary"), "declare",
         "did:elastos:foo", ("REQ-006",)),
        ("revoke_by_owner", req("revoke", f"{USER1}#twitter", f"{USER1}#primary"), "revoke", USER1, ("REQ-006",)),
        ("revoke_by_issuer", req("revoke", f"{USER1}#twitter", f"{ISSUER}#primary"), "revoke", USER1,
         ("REQ-006",)),
    ]
    common = ("REQ-001", "REQ-002", "REQ-003", "REQ-005", "REQ-008", "REQ-009", "REQ-010", "REQ-011")
    for name, request_text, op, did, extra in valid:
        yield CaseSpec(name, {"request": request_text, "documents": docs}, OK, rules=tuple(sorted(set(common + extra))),
                       description=f"{op} of {did}, built here from the SDK test data and keys",
                       expect_ok={"operation": op, "did": did})
    relative = _edit(req("deactivate", USER3, f"{USER3}#primary"),
                     lambda d: d["proof"].update(verificationMethod="#primary"))
    yield CaseSpec("deactivate_relative_method", {"request": relative, "documents": docs}, OK, rules=("REQ-001",),
                   description="a relative verification method is qualified with the target DID",
                   expect_ok={"operation": "deactivate", "did": USER3})
    yield from _authorization_cases()
    yield from _request_rejects(docs, twitter)


def _authorization_cases() -> Iterator[CaseSpec]:
    """Deactivation by an authorization key (``DIDRequest.deactivate(target, targetSignKey, ...)``): the
    target lists a key controlled by another DID under ``authorization``; the request names that key of the
    target and is signed by the delegate's private key. Built with the spec's builder from HD keys of the
    SDK's test mnemonic (the SDK data has an authorization key but not its private key)."""
    now = 1_763_726_400
    target_key = keys.derive_did_key(TEST_MNEMONIC, TEST_PASSPHRASE, 10)
    delegate_key = keys.derive_did_key(TEST_MNEMONIC, TEST_PASSPHRASE, 11)
    target = str(keys.did_from_public_key(target_key.public_key))
    delegate = str(keys.did_from_public_key(delegate_key.public_key))
    draft = B.primitive_draft(target_key.public_key)
    draft["publicKey"].append({"id": f"{target}#recovery", "type": D.DEFAULT_KEY_TYPE, "controller": delegate,
                               "publicKeyBase58": keys.public_key_to_base58(delegate_key.public_key)})
    draft["authorization"] = [f"{target}#recovery"]
    target_doc = B.seal_document(draft, now=now, signer=url(f"{target}#primary"), private_key=target_key.private_key)
    delegate_doc = B.seal_document(B.primitive_draft(delegate_key.public_key), now=now,
                                   signer=url(f"{delegate}#primary"), private_key=delegate_key.private_key)
    docs = {target: D.normalized(target_doc), delegate: D.normalized(delegate_doc)}

    def deactivate(vm: str, private_key: bytes) -> str:
        return R.serialize(R.build_request("deactivate", target, url(vm), private_key))

    yield CaseSpec("deactivate_by_authorization_key", {"request": deactivate(f"{target}#recovery",
                                                                             delegate_key.private_key),
                                                       "documents": docs}, OK, rules=("REQ-008", "REQ-011"),
                   description="the target's authorization key #recovery, controlled by another DID, signs",
                   expect_ok={"operation": "deactivate", "did": target})
    yield CaseSpec("deactivate_by_authorization_key_wrong_private_key",
                   {"request": deactivate(f"{target}#recovery", target_key.private_key), "documents": docs},
                   Reason.REQUEST_SIGNATURE, rules=("REQ-009",),
                   description="the verification method is #recovery but the target's own key signed")
    yield CaseSpec("deactivate_by_delegate_own_key", {"request": deactivate(f"{delegate}#primary",
                                                                            delegate_key.private_key),
                                                      "documents": docs}, Reason.REQUEST_SIGNER, rules=("REQ-008",),
                   description="the delegate must name the target's authorization key, not its own default key")


def _request_rejects(docs: dict[str, str], twitter: str) -> Iterator[CaseSpec]:
    user1_create = req("create", norm("user1.id"), f"{USER1}#primary")
    user1_update = req("update", norm("user1.id"), f"{USER1}#primary", previous_txid=PREV)
    baz_transfer = req("transfer", norm("baz.new-id"), f"{USER4}#primary", ticket=text("v2", "baz.tt.json"))
    payload_of = json.loads(user1_create)["payload"]

    def sig_flip(d: dict[str, Any]) -> None:
        s = d["proof"]["signature"]
        d["proof"]["signature"] = ("B" if s[10] == "A" else "A").join((s[:10], s[11:]))

    foobar_one_proof = json.loads(norm("foobar.id"))
    foobar_one_proof["proof"] = foobar_one_proof["proof"][0]
    ticket_one_proof = json.loads(text("v2", "foobar.tt.json"))
    ticket_one_proof["proof"] = ticket_one_proof["proof"][0]
    ticket_bad_sig = json.loads(text("v2", "baz.tt.json"))
    ticket_bad_sig["proof"]["signature"] = ticket_bad_sig["proof"]["signature"][::-1]
    baz_by_user1 = resign(norm("baz.new-id"), [f"{USER1}#primary"])
    changed_expires = json.loads(norm("user4.id"))
    changed_expires["expires"] = "2026-11-21T09:54:09Z"

    def raw_payload(op: str, payload: str, vm: str, **kw: Any) -> str:
        """A request whose payload is written as given (not encoded), signed."""
        r = R.build_request(op, "x", url(vm), private_key(vm), **kw)  # type: ignore[arg-type]
        r = r.model_copy(update={"payload": payload, "signature": ""})
        sig = p256.ecdsa_sign(private_key(vm), R.signing_input(r))
        return R.serialize(r.model_copy(update={"signature": R.b64url_encode(sig)}))

    rejects: list[tuple[str, str, Reason, str, dict[str, str] | None]] = [
        ("not_an_object", "[]", Reason.REQUEST_MALFORMED, "a request is an object", None),
        ("header_not_object", _edit(user1_create, lambda d: d.update(header="x")), Reason.REQUEST_MALFORMED,
         "header is a string", None),
        ("missing_payload", _edit(user1_create, lambda d: d.pop("payload")), Reason.REQUEST_MALFORMED,
         "no payload", None),
        ("missing_signature", _edit(user1_create, lambda d: d["proof"].pop("signature")), Reason.REQUEST_MALFORMED,
         "a proof without signature", None),
        ("proof_type_not_string", _edit(user1_create, lambda d: d["proof"].update(type=1)), Reason.REQUEST_MALFORMED,
         "a proof type that is a number", None),
        ("method_without_fragment", _edit(user1_create, lambda d: d["proof"].update(verificationMethod=USER1)),
         Reason.REQUEST_MALFORMED, "a verification method without a fragment", None),
        ("wrong_specification", _edit(user1_create, lambda d: d["header"].update(specification="elastos/did/2.0")),
         Reason.REQUEST_SPECIFICATION, "an unknown specification string", None),
        ("unknown_operation", _edit(user1_create, lambda d: d["header"].update(operation="delete")),
         Reason.REQUEST_OPERATION, "an unknown operation", None),
        ("operation_upper_case", _edit(user1_create, lambda d: d["header"].update(operation="CREATE")),
         Reason.REQUEST_OPERATION, "operations are lower-case", None),
        ("credential_operation_in_did_spec", _edit(user1_create, lambda d: d["header"].update(operation="declare")),
         Reason.REQUEST_OPERATION, "declare is not a DID operation", None),
        ("update_without_previous_txid", _edit(user1_update, lambda d: d["header"].pop("previousTxid")),
         Reason.REQUEST_HEADER, "an update needs previousTxid", None),
        ("update_empty_previous_txid", _edit(user1_update, lambda d: d["header"].update(previousTxid="")),
         Reason.REQUEST_HEADER, "an empty previousTxid", None),
        ("create_with_previous_txid", _edit(user1_create, lambda d: d["header"].update(previousTxid=PREV)),
         Reason.REQUEST_HEADER, "previousTxid only in an update (EID would sign it, the SDK would not)", None),
        ("transfer_without_ticket", _edit(baz_transfer, lambda d: d["header"].pop("ticket")),
         Reason.REQUEST_HEADER, "a transfer needs its ticket", None),
        ("payload_padded", _edit(user1_create, lambda d: d.update(payload=payload_of + "=" * (-len(payload_of) % 4)
                                                                   if len(payload_of) % 4 else payload_of + "==")),
         Reason.REQUEST_BASE64, "base64url with padding", None),
        ("payload_standard_alphabet", _edit(user1_create, lambda d: d.update(payload="+" + payload_of[1:])),
         Reason.REQUEST_BASE64, "a '+' (standard base64) in the payload", None),
        ("payload_length_1_mod_4", _edit(user1_create, lambda d: d.update(payload="QUJDR")),
         Reason.REQUEST_BASE64, "five characters cannot be base64", None),
        ("payload_unused_bits", _edit(user1_create, lambda d: d.update(payload="QR")),
         Reason.REQUEST_BASE64, "non-zero unused bits ('QR' is 'A' with a stray bit)", None),
        ("ticket_bad_base64", _edit(baz_transfer, lambda d: d["header"].update(ticket="e/")),
         Reason.REQUEST_BASE64, "a ticket with a '/'", None),
        ("payload_not_utf8", raw_payload("create", R.b64url_encode(b"\xff\xfe{}"), f"{USER1}#primary"),
         Reason.REQUEST_PAYLOAD, "the decoded payload is not UTF-8", None),
        ("payload_not_a_document", raw_payload("create", R.b64url_encode(b"{}"), f"{USER1}#primary"),
         Reason.DOC_MALFORMED, "the payload is not a document", None),
        ("revoke_payload_not_credential_id", raw_payload("revoke", USER1, f"{USER1}#primary"),
         Reason.REQUEST_PAYLOAD, "a revoke payload without a fragment", None),
        ("declare_without_owner", req("declare", _dumps({**json.loads(twitter), "credentialSubject": {"a": 1}}),
                                      f"{USER1}#primary"),
         Reason.REQUEST_PAYLOAD, "a declared credential without credentialSubject.id", None),
        ("deactivate_unknown_did", req("deactivate", USER1, f"{USER1}#primary"), Reason.REQUEST_UNKNOWN_DID,
         "the target's document is not known", {}),
        ("declare_owner_unknown", req("declare", twitter, f"{USER1}#primary"), Reason.REQUEST_UNKNOWN_DID,
         "the owner's document is not known", {}),
        ("wrong_signer_create", req("create", norm("user1.id"), f"{USER2}#primary"), Reason.REQUEST_SIGNER,
         "a create signed by another DID's key", None),
        ("wrong_signer_customized", req("create", norm("foo.id"), f"{USER3}#primary"), Reason.REQUEST_SIGNER,
         "a customized create signed by a non-controller", None),
        ("deactivate_by_non_default_key", req("deactivate", USER1, f"{USER1}#key2"), Reason.REQUEST_SIGNER,
         "deactivate by an authentication key that is neither default nor authorization", None),
        ("deactivate_customized_by_non_controller", req("deactivate", "did:elastos:foo", f"{USER3}#primary"),
         Reason.REQUEST_SIGNER, "deactivate of a customized DID by a non-controller", None),
        ("transfer_signed_by_old_controller", req("transfer", norm("baz.new-id"), f"{USER1}#primary",
                                                  ticket=text("v2", "baz.tt.json")),
         Reason.REQUEST_SIGNER, "a transfer signed by a controller who is not the new owner", None),
        ("declare_by_issuer", req("declare", twitter, f"{ISSUER}#primary"), Reason.REQUEST_SIGNER,
         "only the owner (subject) declares a credential", None),
        ("revoke_by_unknown_key", req("revoke", f"{USER1}#twitter", f"{USER1}#key2", key=f"{USER1}#primary").replace(
            "#key2", "#nokey"), Reason.REQUEST_SIGNER, "a verification method naming no key", None),
        ("flipped_signature", _edit(user1_create, sig_flip), Reason.REQUEST_SIGNATURE,
         "one character of the signature changed", None),
        ("signed_by_other_key", req("create", norm("user1.id"), f"{USER1}#primary", key=f"{USER1}#key2"),
         Reason.REQUEST_SIGNATURE, "the signature is by another key than the verification method's", None),
        ("previous_txid_changed", _edit(user1_update, lambda d: d["header"].update(previousTxid="00" + PREV[2:])),
         Reason.REQUEST_SIGNATURE, "previousTxid changed after signing (it is signed in an update)", None),
        ("proof_type", _edit(user1_create, lambda d: d["proof"].update(type="Ed25519Signature2018")),
         Reason.REQUEST_SIGNATURE, "a proof type other than ECDSAsecp256r1", None),
        ("payload_multisig_missing_proof", req("create", _dumps(foobar_one_proof), f"{USER1}#primary"),
         Reason.REQUEST_NOT_GENUINE, "a 2:3 document with one proof", None),
        ("payload_changed_after_signing", req("create", _dumps(changed_expires), f"{USER4}#primary"),
         Reason.REQUEST_NOT_GENUINE, "a document changed after its proof", None),
        ("transfer_ticket_missing_proof", req("transfer", norm("foobar.new-id"), f"{USER4}#primary",
                                              ticket=_dumps(ticket_one_proof)),
         Reason.REQUEST_TICKET, "a 2:3 DID's ticket with one proof", None),
        ("transfer_ticket_bad_signature", req("transfer", norm("baz.new-id"), f"{USER4}#primary",
                                              ticket=_dumps(ticket_bad_sig)),
         Reason.REQUEST_TICKET, "a ticket whose signature does not verify", None),
        ("transfer_ticket_malformed", req("transfer", norm("baz.new-id"), f"{USER4}#primary", ticket="{}"),
         Reason.TICKET_MALFORMED, "a ticket without members", None),
        ("transfer_ticket_of_other_did", req("transfer", norm("foobar.new-id"), f"{USER4}#primary",
                                             ticket=text("v2", "baz.tt.json")),
         Reason.TICKET_MISMATCH, "the ticket transfers another DID", None),
        ("transfer_to_not_controller", req("transfer", norm("baz.id"), f"{USER4}#primary",
                                           ticket=text("v2", "baz.tt.json")),
         Reason.TICKET_MISMATCH, "the new document does not list the new owner as a controller", None),
        ("transfer_not_signed_by_to", req("transfer", baz_by_user1, f"{USER4}#primary",
                                          ticket=text("v2", "baz.tt.json")),
         Reason.TICKET_MISMATCH, "the new document has no proof by the new owner", None),
    ]
    for name, request_text, reason, what, docs_ in rejects:
        yield CaseSpec(name, {"request": request_text, "documents": docs if docs_ is None else docs_}, reason,
                       description=what)
