"""Generators of the ``hive`` suite: tokens, sign-in, access, scripts, filters, files, CIDs, backup, sync.

Every key is derived from a label (``det_bytes``), every signature is RFC 6979, every time is fixed:
the sign-in transcripts are reproducible byte for byte. Upstream facts:

* the partition database name of ``did:elastos:iWFAUYhTa35c1fPe3iCJvihZHx6quumnym`` / ``appId``
  (research note ``carrier-runtime-hive.md`` §E.11, from Elastos.Hive.Node ``mongodb_client.py``);
* CIDv0 values of ``ipfs add`` defaults published in ethereum/solidity ``test/libsolutil/IpfsHash.cpp``
  (empty, ``x``, zero runs up to a two-level tree) and the widely published ``hello world\\n``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from spec.crypto import p256
from spec.errors import Reason
from spec.did import document, jsontext
from spec.encoding.base58 import b58encode
from spec.hive import auth, backup, identity, jws, sync

from conformance.bindings import run_handler
from conformance.generators.common import det_bytes
from conformance.vectors import CaseSpec, generator

OK = "ok"
T0 = 1_700_000_000
"""2023-11-14T22:13:20Z: the time of every sign-in transcript."""
YEAR = 365 * 86400
SOLIDITY = "; value from ethereum/solidity test/libsolutil/IpfsHash.cpp @ 6bb50a05b8aabe4c132672dc12465c7a279077c3"
HIVE_NOTE = ("; value from Elastos.Hive.Node mongodb_client.py get_user_database_name, as quoted in "
             "../shared/research/carrier-runtime-hive.md §E.11")

JWT_RULES = ("HJWT-001", "HJWT-002", "HJWT-003")
TIME_RULES = ("HAUTH-005", "HAUTH-006")
SIGNIN_RULES = ("HAUTH-001",)
AUTH_RULES = (*JWT_RULES, "HAUTH-002", "HAUTH-003", "HAUTH-004", *TIME_RULES, "HAUTH-007", "HAUTH-008",
              "HAUTH-009", "HAUTH-010", "HAUTH-011", "HAUTH-012")
TOKEN_RULES = (*JWT_RULES, "HAUTH-013", "HAUTH-014", "HAUTH-015", *TIME_RULES)


def key(label: str) -> bytes:
    return det_bytes(f"hive/key/{label}", 32)


class World:
    """The fixed identities of the transcripts: vault, app instance, user, app, a backup node, a stranger."""

    def __init__(self) -> None:
        self.svc, self.inst, self.user = key("service"), key("instance"), key("user")
        self.other, self.backup_node, self.stranger = key("other-instance"), key("backup-node"), key("stranger")
        self.app_did = identity.did_of(key("app"))
        self.docs = {identity.did_of(k): identity.primitive_document(k, created=T0 - 86400, expires=T0 + 5 * YEAR)
                     for k in (self.svc, self.inst, self.user, self.other, self.backup_node)}

    def did(self, k: bytes) -> str:
        return identity.did_of(k)

    def service(self, k: bytes | None = None) -> dict[str, str]:
        k = self.svc if k is None else k
        return {"did": identity.did_of(k), "key_id": identity.key_id_of(k), "private_key": k.hex()}

    def service_key(self, k: bytes | None = None) -> auth.ServiceKey:
        k = self.svc if k is None else k
        return auth.ServiceKey(did=identity.did_of(k), key_id=identity.key_id_of(k), private_key=k,
                               public_key=p256.public_key_from_private(k))

    def app_credential(self, *, subject: bytes | None = None, expires: int = T0 + YEAR,
                       types: tuple[str, ...] = ("AppIdCredential",), app: bool = True) -> str:
        members = {"appDid": self.app_did} if app else {"appName": "x"}
        return identity.issue_credential(self.user, self.did(subject or self.inst), "app-id-credential", types,
                                         members, issued=T0 - 3600, expires=expires)

    def backup_credential(self, target: str | None = None, types: tuple[str, ...] = ("HiveBackupCredential",)) -> str:
        return identity.issue_credential(
            self.user, self.did(self.svc), "backup-credential", types,
            {"sourceHiveNodeDID": self.did(self.svc), "targetHiveNodeDID": target or self.did(self.backup_node),
             "targetNodeURL": "http://127.0.0.1:5005"}, issued=T0 - 3600, expires=T0 + YEAR)

    def presentation(self, holder: bytes, credentials: tuple[str, ...], *, realm: str | None = None,
                     nonce: str = "nonce-1") -> str:
        return identity.create_presentation(holder, credentials, realm=realm or self.did(self.svc), nonce=nonce,
                                            created=T0 + 1)

    def response(self, holder: bytes, vp: str | None = None, *, aud: str | None = None, now: int = T0 + 1,
                 lifetime: int = 180, signer: bytes | None = None, **claims: Any) -> str:
        vp = vp if vp is not None else self.presentation(holder, (self.app_credential(),))
        if not claims:
            return auth.make_response(vp, instance_did=self.did(holder), key_id=identity.key_id_of(holder),
                                      private_key=signer or holder, service_did=aud or self.did(self.svc), now=now,
                                      lifetime=lifetime)
        body: dict[str, Any] = {"iss": self.did(holder), "sub": auth.SUB_RESPONSE, "aud": aud or self.did(self.svc),
                                "iat": now, "nbf": now, "exp": now + lifetime, "presentation": _json(vp)}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not _DROP}
        return jws.sign({"typ": "JWT", "version": "1.0", "kid": identity.key_id_of(holder)}, body,
                        signer or holder)

    def challenges(self, did_key: bytes | None = None, nonce: str = "nonce-1",
                   expires: int = T0 + 180) -> list[dict[str, Any]]:
        return [{"did": self.did(did_key or self.inst), "nonce": nonce, "expires": expires}]


_DROP = object()


def _json(text: str) -> Any:
    return json.loads(text)


@cache
def world() -> World:
    return World()


# -- JWS ------------------------------------------------------------------------------------------------


def _b64(b: bytes) -> str:
    return jws.b64url_encode(b)


@generator("hive", "hive.jws.sign")
def jws_sign_cases() -> Iterator[CaseSpec]:
    k = key("jws")
    # Vector files store objects with sorted members, and member order is part of the signed bytes:
    # every object here is already sorted.
    yield CaseSpec("es256_minimal", {"header": {"typ": "JWT"}, "claims": {"n": 1, "sub": "x"}, "private_key": k.hex()},
                   OK, description="alg ES256 is put first; compact JSON; RFC 6979 signature")
    yield CaseSpec("es256_unicode", {"header": {"alg": "ES256", "kid": "did:elastos:x#primary"},
                                     "claims": {"list": [1, 2.5, None, True], "name": "Zoë ✓"},
                                     "private_key": k.hex()}, OK, description="non-ASCII claims are UTF-8")


@generator("hive", "hive.jws.verify")
def jws_verify_cases() -> Iterator[CaseSpec]:
    k = key("jws")
    pub = p256.public_key_from_private(k).hex()
    good = jws.sign({"typ": "JWT"}, {"sub": "x", "exp": T0}, k)
    h, c, s = good.split(".")
    yield CaseSpec("valid", {"token": good, "public_key": pub}, OK, rules=JWT_RULES, description="a signed token")
    sig = jws.b64url_decode(s, "s")
    alt = _b64(p256.malleate(sig))
    yield CaseSpec("valid_high_s", {"token": f"{h}.{c}.{alt}", "public_key": pub}, OK, rules=JWT_RULES,
                   description="(r, n - s) verifies too: no low-S rule, as upstream")

    def bad(name: str, token: str, reason: Reason, what: str, public: str = pub) -> CaseSpec:
        return CaseSpec(name, {"token": token, "public_key": public}, reason, description=what)

    yield bad("two_parts", f"{h}.{c}", Reason.HIVE_JWT_MALFORMED, "two parts")
    yield bad("four_parts", f"{good}.x", Reason.HIVE_JWT_MALFORMED, "four parts")
    yield bad("padded", f"{h}.{c}.{s}==", Reason.HIVE_JWT_MALFORMED, "= padding on the signature")
    yield bad("std_alphabet", f"{h}.{c}.+{s[1:]}", Reason.HIVE_JWT_MALFORMED,
              "a character of the standard base64 alphabet")
    yield bad("non_canonical", f"{_b64(b'{}')[:-1]}N.{c}.{s}", Reason.HIVE_JWT_MALFORMED,
              "the header's last character carries stray low bits")
    yield bad("header_not_json", f"{_b64(b'{x')}.{c}.{s}", Reason.HIVE_JWT_MALFORMED, "the header is not JSON")
    yield bad("header_array", f"{_b64(b'[1]')}.{c}.{s}", Reason.HIVE_JWT_MALFORMED, "the header is an array")
    yield bad("claims_not_utf8", f"{h}.{_b64(bytes([0xff, 0xfe]))}.{s}", Reason.HIVE_JWT_MALFORMED,
              "the claims are not UTF-8")
    none = _b64(b'{"alg":"none","typ":"JWT"}')
    yield bad("alg_none", f"{none}.{c}.", Reason.HIVE_JWT_ALGORITHM, "alg none (an empty signature)")
    hs = _b64(b'{"alg":"HS256"}')
    yield bad("alg_hs256", f"{hs}.{c}.{s}", Reason.HIVE_JWT_ALGORITHM, "alg HS256")
    yield bad("alg_missing", f"{_b64(b'{}')}.{c}.{s}", Reason.HIVE_JWT_ALGORITHM, "no alg")
    yield bad("short_signature", f"{h}.{c}.{_b64(sig[:63])}", Reason.HIVE_JWT_SIGNATURE, "63 signature bytes")
    yield bad("der_signature", f"{h}.{c}.{_b64(bytes(70))}", Reason.HIVE_JWT_SIGNATURE, "a 70-byte (DER-sized) signature")
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    yield bad("flipped_signature", f"{h}.{c}.{_b64(flipped)}", Reason.HIVE_JWT_SIGNATURE, "one bit of r flipped")
    changed = _b64(b'{"sub":"y","exp":1700000000}')
    yield bad("changed_claims", f"{h}.{changed}.{s}", Reason.HIVE_JWT_SIGNATURE, "claims changed after signing")
    yield bad("other_key", good, Reason.HIVE_JWT_SIGNATURE, "verified under another key",
              p256.public_key_from_private(key("jws-other")).hex())


# -- sign-in -----------------------------------------------------------------------------------------------


@generator("hive", "hive.auth.signin")
def signin_cases() -> Iterator[CaseSpec]:
    w = world()
    doc = w.docs[w.did(w.inst)]
    base = {"challenges": [], "document": doc, "service": w.service(), "nonce": "nonce-1", "now": T0}
    yield CaseSpec("fresh", base, OK, rules=SIGNIN_RULES,
                   description="a valid app-instance document: a challenge, exp = now + 180")
    yield CaseSpec("replaces_pending", {**base, "challenges": w.challenges(nonce="old", expires=T0 + 10)}, OK,
                   rules=SIGNIN_RULES, description="a second sign-in of the same DID replaces its pending challenge")
    other = w.challenges(w.other, nonce="theirs")
    yield CaseSpec("keeps_others", {**base, "challenges": other}, OK, rules=SIGNIN_RULES,
                   description="other DIDs' challenges stay pending, sorted by DID")
    yield CaseSpec("expired_document", {**base, "now": T0 + 6 * YEAR}, Reason.HIVE_SIGNIN_DOCUMENT,
                   description="the document has expired")
    d = _json(doc)
    d["expires"] = "2035-01-01T00:00:00Z"
    yield CaseSpec("tampered_document", {**base, "document": jsontext.serialize(d)},
                   Reason.HIVE_SIGNIN_DOCUMENT, description="expires changed after signing")
    yield CaseSpec("not_json", {**base, "document": doc[:-1]}, Reason.HIVE_SIGNIN_DOCUMENT,
                   description="truncated document text")


@generator("hive", "hive.auth.check_challenge")
def check_challenge_cases() -> Iterator[CaseSpec]:
    w = world()
    svc = w.service_key()
    _, ch = auth.sign_in(auth.AuthState(), w.docs[w.did(w.inst)], svc, nonce="nonce-1", now=T0)
    base = {"challenge": ch, "instance_did": w.did(w.inst), "now": T0 + 1, "documents": w.docs}
    yield CaseSpec("fresh", base, OK, rules=(*JWT_RULES, "HAUTH-002", "HAUTH-003", "HAUTH-004", *TIME_RULES),
                   description="the client accepts the vault's challenge")
    yield CaseSpec("within_skew", {**base, "now": T0 + 180 + 299}, OK, rules=TIME_RULES,
                   description="299 s after exp: within the client's 300 s skew")
    yield CaseSpec("beyond_skew", {**base, "now": T0 + 180 + 300}, Reason.HIVE_TOKEN_EXPIRED,
                   description="300 s after exp: expired even with skew")
    yield CaseSpec("wrong_audience", {**base, "instance_did": w.did(w.other)}, Reason.HIVE_TOKEN_AUDIENCE,
                   description="a challenge for another app instance")

    def custom(claims: dict[str, Any], signer: bytes | None = None, kid: str | None = None) -> str:
        body = {"iss": w.did(w.svc), "sub": auth.SUB_CHALLENGE, "aud": w.did(w.inst), "iat": T0, "nbf": T0,
                "exp": T0 + 180, "nonce": "nonce-1"}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not _DROP}
        return jws.sign({"typ": "JWT", "version": "1.0", "kid": kid or identity.key_id_of(w.svc)}, body,
                        signer or w.svc)

    yield CaseSpec("wrong_subject", {**base, "challenge": custom({"sub": "AccessToken"})}, Reason.HIVE_TOKEN_SUBJECT,
                   description="sub AccessToken")
    yield CaseSpec("no_nonce", {**base, "challenge": custom({"nonce": _DROP})}, Reason.HIVE_TOKEN_CLAIMS,
                   description="no nonce claim")
    yield CaseSpec("exp_string", {**base, "challenge": custom({"exp": "soon"})}, Reason.HIVE_TOKEN_CLAIMS,
                   description="exp is a string")
    yield CaseSpec("exp_missing", {**base, "challenge": custom({"exp": _DROP})}, Reason.HIVE_TOKEN_CLAIMS,
                   description="no exp")
    yield CaseSpec("iss_missing", {**base, "challenge": custom({"iss": _DROP})}, Reason.HIVE_TOKEN_CLAIMS,
                   description="no iss")
    yield CaseSpec("not_yet_valid", {**base, "challenge": custom({"nbf": T0 + 1000})}, Reason.HIVE_TOKEN_EXPIRED,
                   description="nbf 999 s in the future (beyond skew)")
    yield CaseSpec("unknown_issuer", {**base, "challenge": custom({"iss": w.did(w.stranger)}, w.stranger,
                                                                   identity.key_id_of(w.stranger))},
                   Reason.HIVE_JWT_SIGNATURE, description="the issuer has no known document")
    yield CaseSpec("kid_of_other_did", {**base, "challenge": custom({}, w.user, identity.key_id_of(w.user))},
                   Reason.HIVE_JWT_SIGNATURE, description="kid names a key of another DID than iss")
    yield CaseSpec("forged_by_other_key", {**base, "challenge": custom({}, w.stranger)}, Reason.HIVE_JWT_SIGNATURE,
                   description="kid is the vault's key, the signature is another key's")


@generator("hive", "hive.auth.authenticate")
def authenticate_cases() -> Iterator[CaseSpec]:
    w = world()
    base = {"challenges": w.challenges(), "response": w.response(w.inst), "service": w.service(), "now": T0 + 2,
            "documents": w.docs}
    yield CaseSpec("full_transcript", base, OK, rules=AUTH_RULES,
                   description="the app instance answers with its AppIdCredential: a 7-day access token")
    short = w.presentation(w.inst, (w.app_credential(expires=T0 + 86400),))
    yield CaseSpec("token_capped_by_credential", {**base, "response": w.response(w.inst, short)}, OK,
                   rules=AUTH_RULES, description="the credential expires in a day: so does the token",
                   expect_ok={"expires": T0 + 86400})
    yield CaseSpec("last_second", {**base, "now": T0 + 179}, OK, rules=AUTH_RULES,
                   description="answered 1 s before the challenge expires")

    def bad(name: str, reason: Reason, what: str, **change: Any) -> CaseSpec:
        return CaseSpec(name, {**base, **change}, reason, description=what)

    yield bad("replayed", Reason.HIVE_CHALLENGE_UNKNOWN, "the challenge was already used (no pending challenge)",
              challenges=[])
    yield bad("unknown_nonce", Reason.HIVE_CHALLENGE_UNKNOWN, "the nonce was never issued",
              challenges=w.challenges(nonce="nonce-2"))
    yield bad("challenge_expired", Reason.HIVE_CHALLENGE_EXPIRED, "answered at the challenge's expiry",
              now=T0 + 180, response=w.response(w.inst, lifetime=600))
    yield bad("response_expired", Reason.HIVE_TOKEN_EXPIRED, "the response JWT has expired",
              response=w.response(w.inst, lifetime=1))
    yield bad("response_not_yet", Reason.HIVE_TOKEN_EXPIRED, "the response's nbf is in the future",
              response=w.response(w.inst, nbf=T0 + 100))
    yield bad("response_wrong_subject", Reason.HIVE_TOKEN_SUBJECT, "sub DIDAuthChallenge",
              response=w.response(w.inst, sub=auth.SUB_CHALLENGE))
    yield bad("response_wrong_audience", Reason.HIVE_TOKEN_AUDIENCE, "aud is another vault",
              response=w.response(w.inst, aud=w.did(w.backup_node)))
    yield bad("response_no_exp", Reason.HIVE_TOKEN_CLAIMS, "no exp claim", response=w.response(w.inst, exp=_DROP))
    yield bad("response_forged", Reason.HIVE_JWT_SIGNATURE, "signed with another key than the kid's",
              response=w.response(w.inst, signer=w.stranger))
    yield bad("response_unknown_issuer", Reason.HIVE_JWT_SIGNATURE, "the issuer's document is not known",
              documents={k: v for k, v in w.docs.items() if k != w.did(w.inst)})
    yield bad("no_presentation", Reason.HIVE_PRESENTATION_INVALID, "no presentation claim",
              response=w.response(w.inst, presentation=_DROP))
    yield bad("presentation_string", Reason.HIVE_PRESENTATION_INVALID, "presentation is a string",
              response=w.response(w.inst, presentation="vp"))
    yield bad("presentation_malformed", Reason.HIVE_PRESENTATION_INVALID, "presentation without proof",
              response=w.response(w.inst, presentation={"type": "VerifiablePresentation"}))
    yield bad("presentation_empty", Reason.HIVE_PRESENTATION_INVALID, "a presentation with no credential",
              response=w.response(w.inst, w.presentation(w.inst, ())))
    tampered = _json(w.presentation(w.inst, (w.app_credential(),)))
    tampered["created"] = "2023-11-14T22:13:22Z"
    yield bad("presentation_tampered", Reason.HIVE_PRESENTATION_INVALID, "created changed after signing",
              response=w.response(w.inst, presentation=tampered))
    yield bad("credential_expired", Reason.HIVE_PRESENTATION_INVALID,
              "the credential expired (the presentation is then not valid)",
              response=w.response(w.inst, w.presentation(w.inst, (w.app_credential(expires=T0 + 1),))))
    yield bad("holder_not_issuer", Reason.HIVE_PRESENTATION_INVALID,
              "the presentation is the other instance's, the response the instance's",
              response=w.response(w.inst, w.presentation(w.other, (w.app_credential(subject=w.other),))))
    yield bad("wrong_realm", Reason.HIVE_PRESENTATION_REALM, "the presentation is for another vault",
              response=w.response(w.inst, w.presentation(w.inst, (w.app_credential(),), realm=w.did(w.backup_node))))
    yield bad("wrong_type", Reason.HIVE_CREDENTIAL_INVALID, "the credential is not an AppIdCredential",
              response=w.response(w.inst, w.presentation(w.inst, (w.app_credential(types=("AppCredential",)),))))
    yield bad("nonce_of_other_instance", Reason.HIVE_CREDENTIAL_SUBJECT,
              "the other instance answers with the nonce the vault issued to this instance",
              response=w.response(w.other, w.presentation(w.other, (w.app_credential(subject=w.other),))))
    yield bad("no_app_did", Reason.HIVE_CREDENTIAL_SUBJECT, "the credential has no appDid",
              response=w.response(w.inst, w.presentation(w.inst, (w.app_credential(app=False),))))


@generator("hive", "hive.auth.backup_authenticate")
def backup_authenticate_cases() -> Iterator[CaseSpec]:
    w = world()
    base = {"challenges": w.challenges(w.svc), "service": w.service(w.backup_node), "now": T0 + 2,
            "documents": w.docs,
            "response": w.response(w.svc, w.presentation(w.svc, (w.backup_credential(),),
                                                         realm=w.did(w.backup_node)), aud=w.did(w.backup_node))}
    yield CaseSpec("vault_to_backup_node", base, OK, rules=(*AUTH_RULES, "HAUTH-016"),
                   description="the vault presents the user's HiveBackupCredential: a BackupToken")
    legacy = w.response(w.svc, w.presentation(w.svc, (w.backup_credential(types=("BackupCredential",)),),
                                              realm=w.did(w.backup_node)), aud=w.did(w.backup_node))
    yield CaseSpec("legacy_type", {**base, "response": legacy}, OK, rules=("HAUTH-011", "HAUTH-016"),
                   description="the former type name BackupCredential is accepted")
    other = w.response(w.svc, w.presentation(w.svc, (w.backup_credential(target=w.did(w.other)),),
                                             realm=w.did(w.backup_node)), aud=w.did(w.backup_node))
    yield CaseSpec("other_target", {**base, "response": other}, Reason.HIVE_CREDENTIAL_SUBJECT,
                   description="the credential names another backup node")
    app = w.response(w.svc, w.presentation(w.svc, (w.app_credential(subject=w.svc),), realm=w.did(w.backup_node)),
                     aud=w.did(w.backup_node))
    yield CaseSpec("app_credential", {**base, "response": app}, Reason.HIVE_CREDENTIAL_INVALID,
                   description="an AppIdCredential does not open a backup node")


@generator("hive", "hive.auth.check_token")
def check_token_cases() -> Iterator[CaseSpec]:
    w = world()
    svc = w.service_key()
    resp = w.response(w.inst)
    state = auth.AuthState(challenges=(auth.Challenge(did=w.did(w.inst), nonce="nonce-1", expires=T0 + 180),))
    _, grant = auth.authenticate(state, resp, svc, now=T0 + 2, resolve=_resolver(w))
    pub = svc.public_key.hex()
    base = {"token": grant.token, "service_did": svc.did, "service_public_key": pub, "now": T0 + 3}
    yield CaseSpec("access_token", base, OK, rules=TOKEN_RULES, description="the token the transcript issued",
                   expect_ok={"user_did": w.did(w.user), "app_did": w.app_did, "instance_did": w.did(w.inst)})
    yield CaseSpec("last_second", {**base, "now": grant.expires - 1}, OK, rules=TIME_RULES,
                   description="1 s before exp")

    def tok(claims: dict[str, Any], signer: bytes | None = None) -> str:
        body = {"iss": svc.did, "sub": auth.SUB_ACCESS, "aud": w.did(w.inst), "iat": T0, "exp": T0 + 3600,
                "props": '{"userDid":"%s","appDid":"%s","nonce":"n"}' % (w.did(w.user), w.app_did)}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not _DROP}
        return jws.sign({"typ": "JWT", "version": "1.0", "kid": svc.key_id}, body, signer or svc.private_key)

    backup_props = '{"userDid":"%s","sourceDid":"%s","nonce":"n"}' % (w.did(w.user), w.did(w.other))
    yield CaseSpec("backup_token", {**base, "token": tok({"sub": auth.SUB_BACKUP, "props": backup_props}),
                                    "backup": True}, OK, rules=TOKEN_RULES,
                   description="a BackupToken on the backup node's internal routes")

    def bad(name: str, token: str, reason: Reason, what: str, **more: Any) -> CaseSpec:
        return CaseSpec(name, {**base, "token": token, **more}, reason, description=what)

    yield bad("expired", grant.token, Reason.HIVE_TOKEN_EXPIRED, "used at exp", now=grant.expires)
    yield bad("forged", tok({}, w.stranger), Reason.HIVE_TOKEN_ISSUER, "signed by another key")
    h, c, s = grant.token.split(".")
    claims = _json(jws.b64url_decode(c, "c").decode())
    claims["props"] = claims["props"].replace(w.did(w.user), w.did(w.stranger))
    yield bad("tampered_user", f"{h}.{_b64(jws.encode_json(claims))}.{s}", Reason.HIVE_TOKEN_ISSUER,
              "props.userDid changed after signing")
    yield bad("other_issuer", tok({"iss": w.did(w.backup_node)}), Reason.HIVE_TOKEN_ISSUER,
              "signed with the vault's key but naming another issuer")
    yield bad("challenge_as_token", tok({"sub": auth.SUB_CHALLENGE}), Reason.HIVE_TOKEN_SUBJECT, "sub DIDAuthChallenge")
    yield bad("access_on_backup_route", grant.token, Reason.HIVE_TOKEN_SUBJECT, "an AccessToken where a BackupToken "
              "is required", backup=True)
    yield bad("no_props", tok({"props": _DROP}), Reason.HIVE_TOKEN_CLAIMS, "no props")
    yield bad("props_not_json", tok({"props": "{userDid"}), Reason.HIVE_TOKEN_CLAIMS, "props is not JSON")
    yield bad("props_object", tok({"props": {"userDid": "a", "appDid": "b"}}), Reason.HIVE_TOKEN_CLAIMS,
              "props is an object, not its JSON text")
    yield bad("props_no_app", tok({"props": '{"userDid":"a"}'}), Reason.HIVE_TOKEN_CLAIMS, "props lacks appDid")
    yield bad("no_aud", tok({"aud": _DROP}), Reason.HIVE_TOKEN_CLAIMS, "no aud")
    yield bad("malformed", "abc", Reason.HIVE_JWT_MALFORMED, "not a JWT")
    none = _b64(b'{"alg":"none"}')
    yield bad("alg_none", f"{none}.{c}.", Reason.HIVE_JWT_ALGORITHM, "alg none")


def _resolver(w: World) -> Any:
    return document.resolver_from_texts(w.docs)


# -- partitions and access ---------------------------------------------------------------------------------


@generator("hive", "hive.partition.name")
def partition_name_cases() -> Iterator[CaseSpec]:
    yield CaseSpec("upstream_fact", {"user_did": "did:elastos:iWFAUYhTa35c1fPe3iCJvihZHx6quumnym",
                                     "app_did": "appId"}, OK, description="the name upstream derives" + HIVE_NOTE, expect_ok={"database": "hive_user_db_b3a0321407410b176f570508741eeef7"})
    w = world()
    yield CaseSpec("transcript_pair", {"user_did": w.did(w.user), "app_did": w.app_did}, OK,
                   description="the partition of the sign-in transcripts")


@generator("hive", "hive.access.direct")
def access_direct_cases() -> Iterator[CaseSpec]:
    me = {"user_did": "did:elastos:user", "app_did": "did:elastos:app", "instance_did": "did:elastos:inst"}
    own = {"user_did": "did:elastos:user", "app_did": "did:elastos:app"}
    yield CaseSpec("own_partition", {"caller": me, "target": own}, OK, rules=("HACL-001",),
                   description="the caller's own (user, app) partition")
    yield CaseSpec("other_user", {"caller": me, "target": {**own, "user_did": "did:elastos:other"}},
                   Reason.HIVE_ACCESS_DENIED, description="another user's partition of the same app")
    yield CaseSpec("other_app", {"caller": me, "target": {**own, "app_did": "did:elastos:other"}},
                   Reason.HIVE_ACCESS_DENIED, description="the same user's partition of another app")
    yield CaseSpec("anonymous", {"caller": None, "target": own}, Reason.HIVE_ACCESS_DENIED,
                   description="no token: no direct access")


# -- database ------------------------------------------------------------------------------------------------

DOC = {"_id": "d1", "name": "alice", "age": 31, "score": 7.5, "tags": ["a", "b"], "addr": {"city": "Oslo", "zip": "0150"},
       "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 5}], "nothing": None, "flag": True}

MATCHES: list[tuple[str, Any, bool]] = [
    ("empty", {}, True),
    ("eq_implicit", {"name": "alice"}, True),
    ("eq_implicit_false", {"name": "bob"}, False),
    ("eq_int_float", {"age": 31.0}, True),
    ("eq_bool_not_number", {"flag": 1}, False),
    ("eq_array_element", {"tags": "b"}, True),
    ("eq_whole_array", {"tags": ["a", "b"]}, True),
    ("eq_array_order", {"tags": ["b", "a"]}, False),
    ("eq_object_any_order", {"addr": {"zip": "0150", "city": "Oslo"}}, True),
    ("dotted_path", {"addr.city": "Oslo"}, True),
    ("path_through_array", {"items.sku": "y"}, True),
    ("array_index", {"items.1.qty": 5}, True),
    ("null_matches_missing", {"missing": None}, True),
    ("null_matches_null", {"nothing": None}, True),
    ("null_not_value", {"name": None}, False),
    ("ne", {"name": {"$ne": "bob"}}, True),
    ("ne_missing", {"missing": {"$ne": 1}}, True),
    ("gt", {"age": {"$gt": 30}}, True),
    ("gte_equal", {"age": {"$gte": 31}}, True),
    ("lt_false", {"age": {"$lt": 31}}, False),
    ("lte_float", {"score": {"$lte": 7.5}}, True),
    ("gt_string", {"name": {"$gt": "al"}}, True),
    ("gt_type_mismatch", {"name": {"$gt": 1}}, False),
    ("range", {"age": {"$gt": 18, "$lt": 65}}, True),
    ("gt_array_element", {"items.qty": {"$gt": 4}}, True),
    ("in", {"name": {"$in": ["bob", "alice"]}}, True),
    ("in_array_field", {"tags": {"$in": ["z", "a"]}}, True),
    ("in_empty", {"name": {"$in": []}}, False),
    ("nin", {"name": {"$nin": ["bob"]}}, True),
    ("exists_true", {"addr.zip": {"$exists": True}}, True),
    ("exists_false", {"addr.street": {"$exists": False}}, True),
    ("exists_null_member", {"nothing": {"$exists": True}}, True),
    ("not", {"age": {"$not": {"$gt": 40}}}, True),
    ("and", {"$and": [{"name": "alice"}, {"age": 31}]}, True),
    ("or", {"$or": [{"name": "bob"}, {"age": 31}]}, True),
    ("or_false", {"$or": [{"name": "bob"}, {"age": 1}]}, False),
    ("nor", {"$nor": [{"name": "bob"}, {"age": 1}]}, True),
    ("nested_logic", {"$and": [{"$or": [{"tags": "z"}, {"addr.city": "Oslo"}]}, {"flag": True}]}, True),
    ("eq_operator", {"score": {"$eq": 7.5}}, True),
]
BAD_FILTERS: list[tuple[str, Any, str]] = [
    ("filter_array", [{"a": 1}], "a filter is an object"),
    ("unknown_operator", {"age": {"$regex": "a"}}, "$regex is not in the subset"),
    ("unknown_top_operator", {"$where": "1"}, "$where"),
    ("in_not_array", {"age": {"$in": 31}}, "$in of a number"),
    ("exists_not_bool", {"age": {"$exists": 1}}, "$exists 1"),
    ("and_empty", {"$and": []}, "an empty $and"),
    ("or_not_array", {"$or": {"a": 1}}, "$or of an object"),
    ("not_plain", {"age": {"$not": 5}}, "$not of a value"),
    ("mixed_operators", {"age": {"$gt": 1, "x": 2}}, "operators mixed with members"),
    ("nested_bad", {"$or": [{"a": {"$size": 1}}]}, "an unknown operator inside $or"),
]


@generator("hive", "hive.db.match")
def db_match_cases() -> Iterator[CaseSpec]:
    for name, f, want in MATCHES:
        yield CaseSpec(name, {"document": DOC, "filter": f}, OK, rules=("HDB-001",),
                       description=f"filter {f}", expect_ok={"matches": want})
    for name, f, what in BAD_FILTERS:
        yield CaseSpec(name, {"document": DOC, "filter": f}, Reason.HIVE_FILTER_MALFORMED, description=what)
    # a filter of MAX_DEPTH levels: the filter object, then {"$not": {"$eq": <nested value>}}
    yield CaseSpec("depth_100", {"document": DOC, "filter": {"addr": {"$not": {"$eq": _nested(97)}}}}, OK,
                   rules=("HDB-001",), description="a filter nested 100 levels: the limit",
                   expect_ok={"matches": True})
    yield CaseSpec("depth_101", {"document": DOC, "filter": {"addr": {"$not": {"$eq": _nested(98)}}}},
                   Reason.HIVE_FILTER_MALFORMED, description="a filter nested 101 levels (the limit is 100)")


def _nested(levels: int, leaf: Any = 1) -> Any:
    """``levels`` objects, one inside the next, around ``leaf``."""
    for _ in range(levels):
        leaf = {"k": leaf}
    return leaf


PEOPLE = [{"name": "ann", "age": 30, "city": "Oslo"}, {"name": "bob", "age": 25, "city": "Rome"},
          {"name": "cy", "age": 35, "city": "Oslo"}, {"name": "di", "city": "Rome"}]


def _people() -> dict[str, Any]:
    return {"op": "insert", "collection": "people", "documents": PEOPLE, "ids": ["p1", "p2", "p3", "p4"]}


@generator("hive", "hive.db.ops")
def db_ops_cases() -> Iterator[CaseSpec]:
    create = {"op": "create", "collection": "people"}
    db_rules = ("HDB-004", "HDB-005", "HDB-006", "HDB-007")

    def ok(name: str, ops: list[Any], what: str, rules: tuple[str, ...] = db_rules, **more: Any) -> CaseSpec:
        return CaseSpec(name, {"collections": {}, "ops": [create, _people(), *ops], **more}, OK, rules=rules,
                        description=what)

    yield ok("insert_find_all", [{"op": "find", "collection": "people", "filter": {}}], "insert four, find all",
             rules=(*db_rules, "HDB-001", "HDB-003"))
    yield ok("find_sorted_paged", [{"op": "find", "collection": "people", "filter": {"city": "Oslo"},
                                    "options": {"sort": [["age", -1]], "skip": 0, "limit": 1}}],
             "the oldest in Oslo", rules=("HDB-001", "HDB-003"))
    yield ok("sort_missing_first", [{"op": "find", "collection": "people", "filter": {},
                                     "options": {"sort": [["age", 1]]}}], "a missing member sorts as null, first",
             rules=("HDB-003",))
    yield ok("sort_two_keys", [{"op": "find", "collection": "people", "filter": {},
                                "options": {"sort": [["city", 1], ["age", -1]], "skip": 1}}],
             "by city, then age descending, skipping one", rules=("HDB-003",))
    yield ok("count", [{"op": "count", "collection": "people", "filter": {"age": {"$gte": 30}}}], "two aged 30+",
             rules=("HDB-001",))
    yield ok("update_one", [{"op": "update", "collection": "people", "filter": {"city": "Rome"},
                             "update": {"$set": {"city": "Milan"}, "$inc": {"age": 1}}, "many": False}],
             "the first Roman moves and ages", rules=("HDB-002",))
    yield ok("update_many_unset", [{"op": "update", "collection": "people", "filter": {"city": "Oslo"},
                                    "update": {"$unset": {"age": ""}, "$set": {"meta.moved": True}}, "many": True}],
             "every Oslo resident loses age, gains meta.moved", rules=("HDB-002",))
    yield ok("inc_missing_sets", [{"op": "update", "collection": "people", "filter": {"name": "di"},
                                   "update": {"$inc": {"age": 40}}, "many": False}], "$inc of a missing member sets it",
             rules=("HDB-002",))
    yield ok("upsert", [{"op": "update", "collection": "people", "filter": {"name": "ed", "age": {"$gt": 1}},
                         "update": {"$set": {"city": "Bern"}}, "many": False, "upsert": True, "upsert_id": "p5"}],
             "no match: insert the filter's equalities and the update", rules=("HDB-002",))
    yield ok("upsert_named_id", [{"op": "update", "collection": "people", "filter": {"_id": "p9"},
                                  "update": {"$set": {"name": "new"}}, "many": False, "upsert": True,
                                  "upsert_id": "drawn"}],
             "no match: the filter's string _id is the new document's id", rules=("HDB-002",))
    yield ok("timestamps", [{"op": "insert", "collection": "people", "documents": [{"name": "ts"}], "ids": ["t1"],
                             "timestamp": True},
                            {"op": "update", "collection": "people", "filter": {"name": "ts"},
                             "update": {"$set": {"x": 1}}, "many": False, "timestamp": True}],
             "created/modified from now", now=T0, rules=("HDB-002", "HDB-007"))
    yield ok("delete_one_many", [{"op": "delete", "collection": "people", "filter": {"city": "Rome"}, "many": False},
                                 {"op": "delete", "collection": "people", "filter": {"city": "Oslo"}, "many": True},
                                 {"op": "count", "collection": "people", "filter": {}}], "delete one, then many")
    yield ok("drop", [{"op": "drop", "collection": "people"}, {"op": "create", "collection": "people"}],
             "drop and create again")

    int64_max, int64_min = (1 << 63) - 1, -(1 << 63)
    bounds = {"top": int64_max, "bottom": int64_min, "big": 1.7976931348623157e308, "deep": _nested(99),
              "text": "\u00fcber \U0001f600"}
    yield ok("values_at_bounds", [{"op": "insert", "collection": "people", "documents": [bounds], "ids": ["b1"]},
                                  {"op": "find", "collection": "people", "filter": {"top": int64_max}}],
             "64-bit integer extremes, the largest double, 100 levels and non-BMP text are stored",
             rules=("HDB-008",))
    yield ok("inc_to_int64_max", [{"op": "update", "collection": "people", "filter": {"name": "ann"},
                                   "update": {"$inc": {"age": int64_max - 30}}, "many": False}],
             "$inc up to the largest 64-bit integer", rules=("HDB-002", "HDB-008"))

    def bad(name: str, ops: list[Any], reason: Reason, what: str) -> CaseSpec:
        return CaseSpec(name, {"collections": {}, "ops": [create, _people(), *ops]}, reason, description=what)

    yield bad("create_twice", [create], Reason.HIVE_COLLECTION_EXISTS, "create an existing collection")
    yield bad("missing_collection", [{"op": "find", "collection": "nope", "filter": {}}],
              Reason.HIVE_COLLECTION_NOT_FOUND, "find in a missing collection")
    yield bad("drop_missing", [{"op": "drop", "collection": "nope"}], Reason.HIVE_COLLECTION_NOT_FOUND,
              "drop a missing collection")
    yield bad("bad_name", [{"op": "create", "collection": "system.users"}], Reason.HIVE_FILTER_MALFORMED,
              "a reserved collection name")
    yield bad("name_with_slash", [{"op": "create", "collection": "a/b"}], Reason.HIVE_FILTER_MALFORMED,
              "a '/' in a collection name")
    yield bad("insert_with_id", [{"op": "insert", "collection": "people", "documents": [{"_id": "x"}], "ids": ["q"]}],
              Reason.HIVE_FILTER_MALFORMED, "a document that brings its own _id")
    yield bad("insert_dollar_key", [{"op": "insert", "collection": "people", "documents": [{"$set": 1}],
                                     "ids": ["q"]}], Reason.HIVE_FILTER_MALFORMED, "a member named $set")
    yield bad("duplicate_id", [{"op": "insert", "collection": "people", "documents": [{"a": 1}], "ids": ["p1"]}],
              Reason.HIVE_FILTER_MALFORMED, "an id already in the collection")
    yield bad("update_unknown_op", [{"op": "update", "collection": "people", "filter": {},
                                     "update": {"$rename": {"a": "b"}}, "many": False}],
              Reason.HIVE_FILTER_MALFORMED, "$rename is not in the subset")
    yield bad("update_replacement", [{"op": "update", "collection": "people", "filter": {},
                                      "update": {"name": "x"}, "many": False}], Reason.HIVE_FILTER_MALFORMED,
              "a replacement document, not operators")
    yield bad("update_id", [{"op": "update", "collection": "people", "filter": {},
                             "update": {"$set": {"_id": "z"}}, "many": False}], Reason.HIVE_FILTER_MALFORMED,
              "_id cannot change")
    yield bad("inc_string", [{"op": "update", "collection": "people", "filter": {"name": "ann"},
                              "update": {"$inc": {"name": 1}}, "many": False}], Reason.HIVE_FILTER_MALFORMED,
              "$inc of a string member")
    yield bad("bad_options", [{"op": "find", "collection": "people", "filter": {}, "options": {"projection": {}}}],
              Reason.HIVE_FILTER_MALFORMED, "projection is not a supported option")
    yield bad("negative_limit", [{"op": "find", "collection": "people", "filter": {}, "options": {"limit": -1}}],
              Reason.HIVE_FILTER_MALFORMED, "limit -1")
    yield bad("bad_sort", [{"op": "find", "collection": "people", "filter": {}, "options": {"sort": [["age", 2]]}}],
              Reason.HIVE_FILTER_MALFORMED, "sort direction 2")
    yield bad("bad_filter", [{"op": "count", "collection": "people", "filter": {"age": {"$foo": 1}}}],
              Reason.HIVE_FILTER_MALFORMED, "count with an unknown operator")
    for label, doc, what in [("int_past_64_bits", {"n": 1 << 63}, "an integer one past the 64-bit range"),
                             ("int_below_64_bits", {"n": -(1 << 63) - 1}, "an integer one below the 64-bit range"),
                             ("lone_surrogate", {"s": "a\udcff"}, "a string with a lone surrogate"),
                             ("lone_surrogate_key", {"\ud800": 1}, "a member name with a lone surrogate"),
                             ("nul_string", {"s": "a\x00b"}, "a string with U+0000"),
                             ("nul_key", {"k\x00": 1}, "a member name with U+0000"),
                             ("deep", {"d": _nested(100)}, "a document nested 101 levels (the limit is 100)")]:
        yield bad(f"insert_{label}", [{"op": "insert", "collection": "people", "documents": [doc], "ids": ["q"]}],
                  Reason.HIVE_FILTER_MALFORMED, what)
    yield bad("inc_past_int64", [{"op": "update", "collection": "people", "filter": {"name": "ann"},
                                  "update": {"$inc": {"age": int64_max - 29}}, "many": False}],
              Reason.HIVE_FILTER_MALFORMED, "$inc one past the largest 64-bit integer")
    yield bad("inc_to_infinity", [{"op": "update", "collection": "people", "filter": {"name": "ann"},
                                   "update": {"$set": {"x": 1e308}}, "many": False},
                                  {"op": "update", "collection": "people", "filter": {"name": "ann"},
                                   "update": {"$inc": {"x": 1e308}}, "many": False}],
              Reason.HIVE_FILTER_MALFORMED, "a float $inc whose sum is infinite")
    yield bad("set_too_deep", [{"op": "update", "collection": "people", "filter": {"name": "ann"},
                                "update": {"$set": {"d": _nested(100)}}, "many": False}],
              Reason.HIVE_FILTER_MALFORMED, "$set leaves the document nested 101 levels")
    yield bad("upsert_lone_surrogate", [{"op": "update", "collection": "people", "filter": {"name": "\udcff"},
                                         "update": {"$set": {"x": 1}}, "many": False, "upsert": True,
                                         "upsert_id": "u1"}],
              Reason.HIVE_FILTER_MALFORMED, "an upsert would store the filter's lone surrogate")
    yield bad("count_too_deep", [{"op": "count", "collection": "people", "filter": {"a": _nested(100)}}],
              Reason.HIVE_FILTER_MALFORMED, "a filter nested 101 levels")


# -- files ---------------------------------------------------------------------------------------------------


def _put(path: str, body: bytes, public: bool = False) -> dict[str, Any]:
    return {"op": "put", "path": path, "body": body.hex(), "public": public}


@generator("hive", "hive.files.ops")
def files_ops_cases() -> Iterator[CaseSpec]:
    hw = b"hello world\n"
    setup = [_put("docs/a.txt", hw, True), _put("docs/sub/b.bin", det_bytes("hive/file/b", 300)),
             _put("top", b"")]
    fs_rules = ("HFS-001", "HFS-002", "HFS-003", "HFS-004")

    def ok(name: str, ops: list[Any], what: str, quota: int = 1 << 20, rules: tuple[str, ...] = fs_rules) -> CaseSpec:
        return CaseSpec(name, {"ops": [*setup, *ops], "now": T0, "quota": quota}, OK, rules=rules, description=what)

    yield ok("put_get_hash_list", [{"op": "get", "path": "docs/a.txt"}, {"op": "hash", "path": "docs/a.txt"},
                                   {"op": "list", "folder": ""}, {"op": "list", "folder": "docs"}],
             "a public file has its CIDv0; folders are implicit")
    yield ok("copy_move_delete", [{"op": "copy", "src": "docs/a.txt", "dst": "c.txt"},
                                  {"op": "move", "src": "docs/sub/b.bin", "dst": "moved/b.bin"},
                                  {"op": "delete", "path": "top"}, {"op": "list", "folder": ""}],
             "copy, move (the old folder disappears), delete")
    yield ok("overwrite", [_put("docs/a.txt", b"v2")], "put over a file replaces it, keeps created")
    yield ok("exact_quota", [], "the quota is exactly the bytes stored", quota=312, rules=("HFS-004",))
    yield ok("unicode_path", [_put("données/ü.txt", b"x"), {"op": "get", "path": "données/ü.txt"}],
             "non-ASCII segments are plain names", rules=("HFS-001",))
    yield ok("segment_255_bytes", [_put("d/" + "é" * 127 + "x", b"x")], "a segment of 255 UTF-8 bytes (NAME_MAX)",
             rules=("HFS-001",))

    def bad(name: str, ops: list[Any], reason: Reason, what: str, quota: int = 1 << 20) -> CaseSpec:
        return CaseSpec(name, {"ops": [*setup, *ops], "now": T0, "quota": quota}, reason, description=what)

    for pname, path in (("dotdot", "../etc/passwd"), ("inner_dotdot", "docs/../../x"), ("absolute", "/etc/x"),
                        ("empty_segment", "a//b"), ("trailing_slash", "a/"), ("dot", "./a"),
                        ("backslash", "a\\..\\b"), ("nul", "a\u0000b"), ("newline", "a\nb"), ("empty", ""),
                        ("too_long", "x" * 1025), ("lone_surrogate", "a\ud800b"),
                        ("segment_256_bytes", "d/" + "é" * 128)):
        yield bad(f"path_{pname}", [_put(path, b"x")], Reason.HIVE_PATH_INVALID, f"path {path[:40]!r}")
    yield bad("get_missing", [{"op": "get", "path": "nope"}], Reason.HIVE_FILE_NOT_FOUND, "no such file")
    yield bad("list_missing", [{"op": "list", "folder": "nope"}], Reason.HIVE_FILE_NOT_FOUND, "no such folder")
    yield bad("get_folder", [{"op": "get", "path": "docs"}], Reason.HIVE_FILE_NOT_FOUND, "a folder is not a file")
    yield bad("delete_missing", [{"op": "delete", "path": "nope"}], Reason.HIVE_FILE_NOT_FOUND, "delete nothing")
    yield bad("copy_onto_file", [{"op": "copy", "src": "top", "dst": "docs/a.txt"}], Reason.HIVE_FILE_EXISTS,
              "copy onto an existing file")
    yield bad("move_onto_folder", [{"op": "move", "src": "top", "dst": "docs"}], Reason.HIVE_FILE_EXISTS,
              "move onto a folder")
    yield bad("put_below_file", [_put("top/x", b"1")], Reason.HIVE_FILE_EXISTS, "put below a file")
    yield bad("put_on_folder", [_put("docs/sub", b"1")], Reason.HIVE_FILE_EXISTS, "put where a folder is")
    yield bad("quota_put", [_put("big", bytes(1))], Reason.HIVE_QUOTA_EXCEEDED, "one byte over the quota (507)",
              quota=312)
    yield bad("quota_copy", [{"op": "copy", "src": "docs/sub/b.bin", "dst": "b2"}], Reason.HIVE_QUOTA_EXCEEDED,
              "a copy counts again", quota=400)


# -- CIDv0 ----------------------------------------------------------------------------------------------------


@generator("hive", "hive.cid")
def cid_cases() -> Iterator[CaseSpec]:
    hw = b"hello world\n"
    yield CaseSpec("hello_world", {"data": hw.hex()}, OK, description="the widely published value (research note §E.12)",
                   expect_ok={"cid": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
                              "sha256": hashlib.sha256(hw).hexdigest()})
    yield CaseSpec("empty", {"data": ""}, OK, description="the empty file" + SOLIDITY,
                   expect_ok={"cid": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"})
    yield CaseSpec("x", {"data": b"x".hex()}, OK, description="one byte" + SOLIDITY,
                   expect_ok={"cid": "QmULKig5Fxrs2sC4qt9nNduucXfb92AFYQ6Hi3YRqDmrYC"})
    yield CaseSpec("solidity_newline", {"data": b"Solidity\n".hex()}, OK, description="Solidity\\n" + SOLIDITY,
                   expect_ok={"cid": "QmSsm9M7PQRBnyiz1smizk8hZw3URfk8fSeHzeTo3oZidS"})
    for length, want, what in (
            (200, "QmSXR1N23uWzsANi8wpxMPw5dmmhqBVUAb4hUrHVLpNaMr", "200 zero bytes"),
            (131071, "QmSxYSToKHsPqqRdRnsM9gmr3EYS6dakhVaHgbFdgYQWi6", "131071 zero bytes"),
            (262143, "QmbNDspMkzkMFKyS3eCJGedG7GWRQHSCzJCZLjxP7wyVAx", "the largest single chunk"),
            (262145, "QmbVuw4C4vcmVKqxoWtgDVobvcHrSn51qsmQmyxjk4sB2Q", "the smallest two-chunk file"),
            (1310710, "QmNg7BJo8gEMDK8yGQbHEwPtycesnE6FUULX5iVd5TAL9f", "five chunks"),
            (45613056, "QmY4HSz1oVGdUzb8poVYPLsoqBZjH6LZrtgnme9wWn2Qko", "174 chunks: the fullest one-level tree"),
            (45613057, "QmehMASWcBsX7VcEQqs6rpR5AHoBfKyBVEgmkJHjpPg8jq", "175 chunks: the smallest two-level tree"),
            (46661632, "QmaTb1sT9hrSXJLmf8bxJ9NuwndiHuMLsgNLgkS2eXu3Xj", "178 chunks in two levels")):
        yield CaseSpec(f"zeros_{length}", {"fill": {"byte": "00", "length": length}}, OK, description=what + SOLIDITY,
                       expect_ok={"cid": want, "size": length})
    yield CaseSpec("random_262144", {"data": det_bytes("hive/cid/exact", 262144).hex()}, OK,
                   description="exactly one full chunk of pseudo-random bytes")


# -- scripts ---------------------------------------------------------------------------------------------------

ALICE = {"user_did": "did:elastos:alice", "app_did": "did:elastos:chat", "instance_did": "did:elastos:alice-phone"}
BOB = {"user_did": "did:elastos:bob", "app_did": "did:elastos:chat", "instance_did": "did:elastos:bob-phone"}

GROUP_CONDITION = {"name": "in_group", "type": "queryHasResult",
                   "body": {"collection": "groups", "filter": {"members": "$caller_did"}}}
SCRIPTS = {
    "get_messages": {"condition": GROUP_CONDITION,
                     "executable": {"name": "messages", "type": "find",
                                    "body": {"collection": "messages", "filter": {"group": "$params.group"},
                                             "options": {"sort": [["at", 1]]}}}},
    "post_message": {"condition": {"name": "both", "type": "and", "body": [
        GROUP_CONDITION, {"name": "open", "type": "queryHasResult",
                          "body": {"collection": "groups", "filter": {"open": True}}}]},
        "executable": {"name": "post", "type": "aggregated", "body": [
            {"name": "insert", "type": "insert", "output": True,
             "body": {"collection": "messages", "document": {"group": "$params.group", "from": "$caller_did",
                                                              "app": "$caller_app_did", "text": "$params.text"},
                      "options": {"timestamp": True}}},
            {"name": "count", "type": "find", "output": False, "body": {"collection": "messages", "filter": {}}}]}},
    "public_avatar": {"allowAnonymousUser": True, "allowAnonymousApp": True,
                      "executable": {"name": "avatar", "type": "fileDownload", "body": {"path": "public/avatar.png"}}},
    "half_anonymous": {"allowAnonymousUser": True, "allowAnonymousApp": False,
                       "executable": {"name": "avatar", "type": "fileHash", "body": {"path": "public/avatar.png"}}},
    "file_info": {"executable": {"name": "info", "type": "aggregated", "body": [
        {"name": "props", "type": "fileProperties", "body": {"path": "$params.path"}},
        {"name": "hash", "type": "fileHash", "body": {"path": "$params.path"}}]}},
    "drop_box": {"executable": {"name": "upload", "type": "fileUpload", "body": {"path": "$params.path"}}},
    "moderate": {"condition": {"name": "either", "type": "or", "body": [
        {"name": "admin", "type": "queryHasResult", "body": {"collection": "admins", "filter": {"did": "$caller_did"}}},
        GROUP_CONDITION]},
        "executable": {"name": "hide", "type": "update",
                       "body": {"collection": "messages", "filter": {"_id": "$params.id"},
                                "update": {"$set": {"hidden": True}}}}},
    "purge": {"executable": {"name": "purge", "type": "delete",
                             "body": {"collection": "messages", "filter": {"from": "$caller_did"}}}},
}


def _partition() -> dict[str, Any]:
    return {"collections": {"groups": [{"_id": "g1", "name": "friends", "members": [ALICE["user_did"],
                                                                                    BOB["user_did"]], "open": True}],
                            "messages": [{"_id": "m1", "group": "friends", "from": ALICE["user_did"], "text": "hi",
                                          "at": 2},
                                         {"_id": "m0", "group": "friends", "from": BOB["user_did"], "text": "yo",
                                          "at": 1},
                                         {"_id": "m2", "group": "work", "from": ALICE["user_did"], "text": "x",
                                          "at": 3}]},
            "files": [{"path": "public/avatar.png", "body": det_bytes("hive/avatar", 100).hex(), "public": True},
                      {"path": "notes.txt", "body": b"private".hex()}],
            "scripts": SCRIPTS}


@generator("hive", "hive.script.register")
def script_register_cases() -> Iterator[CaseSpec]:
    for name, d in sorted(SCRIPTS.items()):
        yield CaseSpec(name, {"name": name, "definition": d}, OK, rules=("HSCR-001",),
                       description="a script of the chat example")
    deep: dict[str, Any] = GROUP_CONDITION
    for i in range(7):
        deep = {"name": f"l{i}", "type": "and", "body": [deep]}
    exe = SCRIPTS["purge"]["executable"]
    bads: list[tuple[str, Any, str]] = [
        ("not_object", [exe], "a definition is an object"),
        ("no_executable", {"condition": GROUP_CONDITION}, "no executable"),
        ("unknown_member", {"executable": exe, "owner": "x"}, "an unknown member"),
        ("flag_not_bool", {"executable": exe, "allowAnonymousUser": "yes"}, "a flag is a string"),
        ("executable_type", {"executable": {**exe, "type": "aggregate"}}, "an unknown executable type"),
        ("executable_no_name", {"executable": {"type": "find", "body": {"collection": "c"}}}, "no name"),
        ("find_no_collection", {"executable": {"name": "f", "type": "find", "body": {}}}, "find without collection"),
        ("filter_not_object", {"executable": {"name": "f", "type": "find", "body": {"collection": "c", "filter": 1}}},
         "a filter is a number"),
        ("file_body_extra", {"executable": {"name": "f", "type": "fileHash", "body": {"path": "a", "x": 1}}},
         "a file body with an extra member"),
        ("output_not_bool", {"executable": {**exe, "output": 1}}, "output 1"),
        ("nested_aggregated", {"executable": {"name": "a", "type": "aggregated", "body": [
            {"name": "b", "type": "aggregated", "body": [exe]}]}}, "aggregated inside aggregated"),
        ("empty_aggregated", {"executable": {"name": "a", "type": "aggregated", "body": []}}, "an empty aggregated"),
        ("condition_type", {"executable": exe, "condition": {**GROUP_CONDITION, "type": "not"}},
         "an unknown condition type"),
        ("condition_empty_and", {"executable": exe, "condition": {"name": "c", "type": "and", "body": []}},
         "an empty and"),
        ("condition_too_deep", {"executable": exe, "condition": {"name": "top", "type": "or", "body": [deep]}},
         "conditions nested 9 deep (the limit is 8)"),
    ]
    for name, d, what in bads:
        yield CaseSpec(name, {"name": "s", "definition": d}, Reason.HIVE_SCRIPT_MALFORMED, description=what)
    yield CaseSpec("empty_name", {"name": "", "definition": {"executable": exe}}, Reason.HIVE_SCRIPT_MALFORMED,
                   description="an empty script name")
    for label, name, what in [("name_lone_surrogate", "a\udcff", "a script name with a lone surrogate (%ff in a URL)"),
                              ("name_control", "a\nb", "a script name with a line feed"),
                              ("name_c1_control", "a\x85", "a script name with a C1 control character")]:
        yield CaseSpec(label, {"name": name, "definition": {"executable": exe}}, Reason.HIVE_SCRIPT_MALFORMED,
                       description=what)
    yield CaseSpec("executable_name_surrogate", {"name": "s", "definition": {"executable": {**exe, "name": "\ud800"}}},
                   Reason.HIVE_SCRIPT_MALFORMED, description="an executable name with a lone surrogate")
    yield CaseSpec("definition_big_int", {"name": "s", "definition": {"executable": {
        "name": "f", "type": "find", "body": {"collection": "c", "filter": {"n": 1 << 64}}}}},
        Reason.HIVE_SCRIPT_MALFORMED, description="a definition with an integer past 64 bits")
    yield CaseSpec("name_unicode", {"name": "\u00fcbung-\U0001f600", "definition": {"executable": exe}}, OK,
                   rules=("HSCR-001",), description="a script name of non-ASCII scalar values")
    yield CaseSpec("depth_eight", {"name": "s", "definition": {"executable": exe, "condition": deep}}, OK,
                   rules=("HSCR-001",), description="conditions nested 8 deep: the limit")


@generator("hive", "hive.script.run")
def script_run_cases() -> Iterator[CaseSpec]:
    def case(name: str, script: str, caller: Any, params: Any, means: str | Reason, what: str,
             rules: tuple[str, ...] = ()) -> CaseSpec:
        return CaseSpec(name, {"partition": _partition(), "script": script, "caller": caller, "params": params,
                               "now": T0, "id_prefix": "doc-"}, means, rules=rules, description=what)

    yield case("member_reads", "get_messages", BOB, {"group": "friends"}, OK,
               "a group member reads the group's messages, sorted", ("HSCR-002", "HSCR-003", "HSCR-004", "HACL-002"))
    yield case("member_posts", "post_message", BOB, {"group": "friends", "text": "hello"}, OK,
               "and-condition; aggregated insert with $caller_did/$caller_app_did; find with output false",
               ("HSCR-003", "HSCR-004"))
    yield case("or_condition", "moderate", ALICE, {"id": "m0"}, OK, "or: not an admin but a member", ("HSCR-003",))
    yield case("caller_scoped_delete", "purge", BOB, {}, OK, "deletes only the caller's messages", ("HACL-002",))
    yield case("anonymous_download", "public_avatar", None, {}, OK, "both anonymous flags: no token needed",
               ("HACL-002",))
    yield case("file_properties", "file_info", ALICE, {"path": "public/avatar.png"}, OK,
               "fileProperties and fileHash of a public file", ("HFS-002", "HSCR-004"))
    yield case("upload_transaction", "drop_box", BOB, {"path": "inbox/from-bob.txt"}, OK,
               "fileUpload names the path the stream will write", ("HFS-001",))
    stranger = {"user_did": "did:elastos:eve", "app_did": "did:elastos:chat"}
    yield case("not_found", "nope", BOB, {}, Reason.HIVE_SCRIPT_NOT_FOUND, "no such script")
    yield case("not_a_member", "get_messages", stranger, {"group": "friends"}, Reason.HIVE_SCRIPT_CONDITION,
               "the caller is in no group")
    yield case("and_fails", "post_message", stranger, {"group": "friends", "text": "x"}, Reason.HIVE_SCRIPT_CONDITION,
               "one side of and fails")
    yield case("anonymous_refused", "get_messages", None, {"group": "friends"}, Reason.HIVE_ACCESS_DENIED,
               "no token, flags false")
    yield case("half_anonymous", "half_anonymous", None, {}, Reason.HIVE_ACCESS_DENIED,
               "allowAnonymousUser alone is not enough")
    yield case("missing_param", "get_messages", BOB, {}, Reason.HIVE_SCRIPT_PARAMS, "$params.group not given")
    yield case("params_not_object", "get_messages", BOB, ["friends"], Reason.HIVE_SCRIPT_PARAMS,
               "params is an array")
    yield case("download_missing", "file_info", ALICE, {"path": "nope.txt"}, Reason.HIVE_FILE_NOT_FOUND,
               "fileProperties of a missing file")
    yield case("upload_traversal", "drop_box", BOB, {"path": "../owner/secret"}, Reason.HIVE_PATH_INVALID,
               "a parameter may not lead a path out of the partition")
    yield case("param_filter_injection", "get_messages", BOB, {"group": {"$where": "1"}}, Reason.HIVE_FILTER_MALFORMED,
               "a parameter substituted into a filter is still checked")


# -- backup ------------------------------------------------------------------------------------------------------

BACKUP_KEY = det_bytes("hive/backup/key", 32)
BACKUP_NONCE = det_bytes("hive/backup/nonce", 24)


def _seal_input() -> dict[str, Any]:
    return {"user_did": "did:elastos:alice",
            "databases": {"hive_user_db_0001": {"notes": [{"_id": "n1", "text": "ünïcode"}]},
                          "hive_user_db_0002": {}},
            "files": {"hive_user_db_0001": [
                {"path": "a/hello.txt", "size": 12, "sha256": hashlib.sha256(b"hello world\n").hexdigest(),
                 "cid": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "public": True, "created": T0, "modified": T0},
                {"path": "b/copy.txt", "size": 12, "sha256": hashlib.sha256(b"hello world\n").hexdigest(),
                 "cid": None, "public": False, "created": T0, "modified": T0}]},
            "bodies": [b"hello world\n".hex(), b"hello world\n".hex(), det_bytes("hive/backup/body", 1000).hex()],
            "key": BACKUP_KEY.hex(), "nonce": BACKUP_NONCE.hex(), "create_time": T0}


@cache
def _sealed() -> dict[str, Any]:
    return run_handler("hive/hive.backup.seal", _seal_input())


@generator("hive", "hive.backup.seal")
def backup_seal_cases() -> Iterator[CaseSpec]:
    yield CaseSpec("two_databases", _seal_input(), OK, description="two dumps, one body referenced twice")


@generator("hive", "hive.backup.restore")
def backup_restore_cases() -> Iterator[CaseSpec]:
    sealed = _sealed()
    meta, blobs = sealed["metadata"], sealed["blobs"]
    yield CaseSpec("round_trip", {"metadata": meta, "blobs": blobs}, OK, rules=("HBAK-001", "HBAK-002", "HBAK-003"),
                   description="restore what seal produced",
                   expect_ok={"databases": _seal_input()["databases"],
                              "files": {"hive_user_db_0001": _seal_input()["files"]["hive_user_db_0001"],
                                        "hive_user_db_0002": []}})
    first = meta["databases"][0]["sha256"]

    def changed(path: list[Any], value: Any) -> dict[str, Any]:
        m = copy.deepcopy(meta)
        cur = m
        for p in path[:-1]:
            cur = cur[p]
        cur[path[-1]] = value
        return m

    tampered = bytearray(bytes.fromhex(blobs[first]))
    tampered[20] ^= 1
    yield CaseSpec("tampered_blob", {"metadata": meta, "blobs": {**blobs, first: tampered.hex()}},
                   Reason.HIVE_BACKUP_MALFORMED, description="a dump changed in transit: its sha256 differs")
    yield CaseSpec("missing_blob", {"metadata": meta, "blobs": {k: v for k, v in blobs.items() if k != first}},
                   Reason.HIVE_BACKUP_MALFORMED, description="a dump is missing")
    yield CaseSpec("wrong_key", {"metadata": changed(["encryption", "secret_key"], b58encode(bytes(32))),
                                 "blobs": blobs}, Reason.HIVE_BACKUP_DECRYPT, description="another key")
    yield CaseSpec("wrong_nonce", {"metadata": changed(["encryption", "nonce"], b58encode(bytes(24))),
                                   "blobs": blobs}, Reason.HIVE_BACKUP_DECRYPT, description="another nonce")
    yield CaseSpec("renamed_database", {"metadata": changed(["databases", 0, "name"], "hive_user_db_9999"),
                                        "blobs": blobs}, Reason.HIVE_BACKUP_MALFORMED,
                   description="the dump is of another database than the metadata names")
    bad_dump = json.dumps({"name": "hive_user_db_0003", "collections": {}, "files": [
        {"path": "../escape", "size": 1, "sha256": "00" * 32, "cid": None, "public": False, "created": 0,
         "modified": 0}]}, sort_keys=True, separators=(",", ":")).encode()
    bad_meta, bad_blobs = backup.build_metadata("did:elastos:alice", {"hive_user_db_0003": bad_dump}, {},
                                                key=BACKUP_KEY, nonce=BACKUP_NONCE, create_time=T0)
    yield CaseSpec("dump_bad_file_entry", {"metadata": bad_meta, "blobs": {h: b.hex() for h, b in bad_blobs.items()}},
                   Reason.HIVE_BACKUP_MALFORMED, description="a dump whose file metadata names a path out of the "
                   "partition")
    def sealed_dump(text: bytes) -> dict[str, Any]:
        m, b = backup.build_metadata("did:elastos:alice", {"hive_user_db_0003": text}, {}, key=BACKUP_KEY,
                                     nonce=BACKUP_NONCE, create_time=T0)
        return {"metadata": m, "blobs": {h: x.hex() for h, x in b.items()}}

    def dump_of(collections: dict[str, Any]) -> bytes:
        return json.dumps({"name": "hive_user_db_0003", "collections": collections, "files": []}, sort_keys=True,
                          separators=(",", ":")).encode()

    yield CaseSpec("dump_at_bounds", sealed_dump(dump_of({"notes": [
        {"_id": "a", "top": (1 << 63) - 1, "bottom": -(1 << 63), "deep": _nested(99), "text": "\U0001f600"}]})),
        OK, rules=("HBAK-002",), description="a dump whose documents hold values at HDB-008's bounds")
    for label, collections, what in [
            ("dump_bad_collection_name", {"system.users": []}, "a collection name HDB-004 refuses"),
            ("dump_dollar_member", {"notes": [{"_id": "a", "$set": 1}]}, "a document member named $set"),
            ("dump_duplicate_ids", {"notes": [{"_id": "a"}, {"_id": "a"}]}, "two documents with one _id"),
            ("dump_id_not_string", {"notes": [{"_id": 1}]}, "an _id that is not a string"),
            ("dump_int_past_64_bits", {"notes": [{"_id": "a", "n": 1 << 63}]}, "an integer past 64 bits"),
            ("dump_lone_surrogate", {"notes": [{"_id": "a", "s": "\udcff"}]}, "a string with a lone surrogate"),
            ("dump_too_deep", {"notes": [{"_id": "a", "d": _nested(100)}]}, "a document nested 101 levels")]:
        yield CaseSpec(label, sealed_dump(dump_of(collections)), Reason.HIVE_BACKUP_MALFORMED,
                       description=f"a dump no vault could have made: {what}")
    yield CaseSpec("dump_nan", sealed_dump(b'{"collections":{"notes":[{"_id":"a","n":NaN}]},"files":[],'
                                           b'"name":"hive_user_db_0003"}'), Reason.HIVE_BACKUP_MALFORMED,
                   description="a dump with NaN, which is not JSON")
    yield CaseSpec("bad_version", {"metadata": changed(["version"], "2.0"), "blobs": blobs},
                   Reason.HIVE_BACKUP_MALFORMED, description="version 2.0")
    yield CaseSpec("short_key", {"metadata": changed(["encryption", "secret_key"], b58encode(bytes(31))),
                                 "blobs": blobs}, Reason.HIVE_BACKUP_MALFORMED, description="a 31-byte key")
    yield CaseSpec("size_string", {"metadata": changed(["vault_size"], "1"), "blobs": blobs},
                   Reason.HIVE_BACKUP_MALFORMED, description="vault_size is a string")


@generator("hive", "hive.backup.promote")
def backup_promote_cases() -> Iterator[CaseSpec]:
    meta = _sealed()["metadata"]
    yield CaseSpec("promote", {"backup": meta, "active_vault": False}, OK, rules=("HBAK-004", "HBAK-001"),
                   description="the backup becomes the node's vault")
    yield CaseSpec("no_backup", {"backup": None, "active_vault": False}, Reason.HIVE_BACKUP_STATE,
                   description="nothing to promote")
    yield CaseSpec("vault_exists", {"backup": meta, "active_vault": True}, Reason.HIVE_BACKUP_STATE,
                   description="the node already serves the user's vault")


# -- sync ----------------------------------------------------------------------------------------------------------


def h(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def remote(path: str, version: int, label: str | None, size: int = 10) -> dict[str, Any]:
    return {"path": path, "version": version, "sha256": h(label) if label else None, "size": size if label else 0}


def local(path: str, label: str | None, base_version: int, base: str | None, size: int = 10) -> dict[str, Any]:
    return {"path": path, "sha256": h(label) if label else None, "size": size if label else 0,
            "base_version": base_version, "base_sha256": h(base) if base else None}


@generator("hive", "hive.sync.plan")
def sync_plan_cases() -> Iterator[CaseSpec]:
    rows: list[tuple[str, list[Any], list[Any], str]] = [
        ("in_sync", [local("a", "v1", 1, "v1")], [remote("a", 1, "v1")], "nothing changed"),
        ("local_new", [local("a", "v1", 0, None)], [], "a new local file is uploaded with base 0"),
        ("local_edit", [local("a", "v2", 1, "v1")], [remote("a", 1, "v1")], "a local edit is uploaded over version 1"),
        ("local_delete", [local("a", None, 1, "v1")], [remote("a", 1, "v1")], "a local delete writes a tombstone"),
        ("remote_new", [], [remote("a", 1, "v1")], "a new remote file is downloaded"),
        ("remote_edit", [local("a", "v1", 1, "v1")], [remote("a", 2, "v2")], "a remote edit is downloaded"),
        ("remote_delete", [local("a", "v1", 1, "v1")], [remote("a", 2, None)], "a tombstone removes the local file"),
        ("remote_tombstone_unknown", [], [remote("a", 2, None)], "a tombstone of a file never seen is adopted"),
        ("same_edit", [local("a", "v2", 1, "v1")], [remote("a", 2, "v2")], "both made the same edit: adopt"),
        ("delete_vs_edit", [local("a", None, 1, "v1")], [remote("a", 2, "v2")], "the remote edit wins over a delete"),
        ("edit_vs_delete", [local("a", "v2", 1, "v1")], [remote("a", 2, None)], "the local edit wins over a delete"),
        ("conflict", [local("notes/todo.txt", "mine", 1, "v1")], [remote("notes/todo.txt", 2, "theirs")],
         "both edited: the local body is kept as a conflict copy, the remote one at the path"),
        ("conflict_no_extension", [local("README", "mine", 1, "v1")], [remote("README", 2, "theirs")],
         "a conflict copy of a name without extension"),
        ("conflict_dotfile", [local(".env", "mine", 1, "v1")], [remote(".env", 2, "theirs")],
         "a leading dot is not an extension"),
        ("conflict_copy_exists_same", [local("a.txt", "mine", 1, "v1")],
         [remote("a.txt", 2, "theirs"), remote(f"a.conflict-{h('mine')[:16]}.txt", 1, "mine")],
         "the same conflict copy is already in the vault: only the download remains"),
        ("conflict_copy_name_taken", [local("a.txt", "mine", 1, "v1")],
         [remote("a.txt", 2, "theirs"), remote(f"a.conflict-{h('mine')[:16]}.txt", 1, "other")],
         "the short conflict name holds other content: the full digest is used"),
        ("both_new_same_path", [local("a", "mine", 0, None)], [remote("a", 1, "theirs")],
         "a file created on both sides is a conflict too"),
        ("local_delete_of_tombstone", [local("a", None, 1, "v1")], [remote("a", 2, None)],
         "both deleted: adopt the tombstone"),
        ("conflict_long_name", [local("n" * 250 + ".txt", "mine", 1, "v1")], [remote("n" * 250 + ".txt", 2, "theirs")],
         "a conflict copy of a 254-byte name: the stem is cut so the copy's name is 255 bytes (HFS-001)"),
        ("tombstone_above_file", [], [remote("a", 2, None), remote("a/b", 1, "x")],
         "a deleted file's path is a folder now"),
        ("many", [local("a", "a2", 1, "a1"), local("b", "b1", 1, "b1"), local("c", None, 3, "c1"),
                  local("d", "d1", 0, None)],
         [remote("a", 1, "a1"), remote("b", 2, "b2"), remote("c", 3, "c1"), remote("e", 4, "e1")],
         "upload, download, delete, upload, download in one plan, by path"),
    ]
    for name, lo, re_, what in rows:
        yield CaseSpec(name, {"local": lo, "remote": re_}, OK, rules=("HSYNC-001", "HSYNC-002"), description=what)
    bads: list[tuple[str, list[Any], list[Any], str]] = [
        ("duplicate_path", [local("a", "x", 0, None), local("a", "y", 0, None)], [], "a path twice"),
        ("bad_digest", [], [{**remote("a", 1, "x"), "sha256": "ABC"}], "a digest of 3 characters"),
        ("upper_digest", [], [{**remote("a", 1, "x"), "sha256": h("x").upper()}], "upper-case hex"),
        ("version_zero", [], [remote("a", 0, "x")], "a remote version 0"),
        ("tombstone_size", [], [{**remote("a", 1, None), "size": 5}], "a tombstone with a size"),
        ("absent_with_size", [{**local("a", None, 1, "x"), "size": 3}], [], "an absent local file with a size"),
        ("traversal", [local("../a", "x", 0, None)], [], "a path out of the home folder"),
        ("missing_member", [{"path": "a", "sha256": None}], [], "a local entry without base"),
        ("negative_base", [local("a", "x", -1, None)], [], "base version -1"),
        ("file_above_file", [], [remote("a", 1, "x"), remote("a/b/c", 1, "y")],
         "a file at a folder of another file: no folder holds both"),
        ("local_file_above_file", [local("a", "x", 0, None), local("a/b", "y", 0, None)], [],
         "a local file at a folder of another"),
        ("segment_too_long", [], [remote("x" * 256, 1, "x")], "a segment of 256 bytes (NAME_MAX is 255)"),
    ]
    for name, lo, re_, what in bads:
        yield CaseSpec(name, {"local": lo, "remote": re_}, Reason.HIVE_SYNC_MALFORMED, description=what)


@generator("hive", "hive.sync.write")
def sync_write_cases() -> Iterator[CaseSpec]:
    base = [remote("a", 3, "v3"), remote("gone", 2, None)]
    yield CaseSpec("update", {"remote": base, "path": "a", "sha256": h("v4"), "size": 7, "base_version": 3}, OK,
                   rules=("HSYNC-002",), description="version 3 -> 4")
    yield CaseSpec("create", {"remote": base, "path": "new", "sha256": h("n"), "size": 1, "base_version": 0}, OK,
                   rules=("HSYNC-002",), description="a new path starts at version 1")
    yield CaseSpec("delete", {"remote": base, "path": "a", "sha256": None, "size": 0, "base_version": 3}, OK,
                   rules=("HSYNC-002",), description="a tombstone at version 4")
    yield CaseSpec("resurrect", {"remote": base, "path": "gone", "sha256": h("back"), "size": 4, "base_version": 2},
                   OK, rules=("HSYNC-002",), description="a write over a tombstone")
    yield CaseSpec("stale", {"remote": base, "path": "a", "sha256": h("v4"), "size": 7, "base_version": 2},
                   Reason.HIVE_SYNC_STALE, description="another client wrote version 3 meanwhile")
    yield CaseSpec("stale_create", {"remote": base, "path": "a", "sha256": h("v4"), "size": 7, "base_version": 0},
                   Reason.HIVE_SYNC_STALE, description="a 'new' file that already exists")
    yield CaseSpec("bad_path", {"remote": base, "path": "a/../b", "sha256": h("v"), "size": 1, "base_version": 0},
                   Reason.HIVE_PATH_INVALID, description="path traversal")


@generator("hive", "hive.sync.upload")
def sync_upload_cases() -> Iterator[CaseSpec]:
    body = det_bytes("hive/upload", 1000)
    digest = hashlib.sha256(body).hexdigest()

    def chunks(*cuts: tuple[int, int]) -> list[dict[str, Any]]:
        return [{"offset": a, "data": body[a:b].hex()} for a, b in cuts]

    base = {"path": "big.bin", "size": 1000, "sha256": digest}
    yield CaseSpec("one_chunk", {**base, "chunks": chunks((0, 1000))}, OK, rules=("HSYNC-003", "HSYNC-004"),
                   description="all bytes at once")
    yield CaseSpec("resumed", {**base, "chunks": chunks((0, 400), (400, 999), (999, 1000))}, OK,
                   rules=("HSYNC-003", "HSYNC-004"), description="three chunks, as after two interruptions")
    yield CaseSpec("partial_open", {**base, "chunks": chunks((0, 400)), "finish": False}, OK, rules=("HSYNC-003",),
                   description="an unfinished session reports how much it holds; nothing is visible yet")
    yield CaseSpec("gap", {**base, "chunks": chunks((0, 400), (500, 1000))}, Reason.HIVE_UPLOAD_OFFSET,
                   description="a chunk skips 100 bytes")
    yield CaseSpec("overlap", {**base, "chunks": chunks((0, 400), (300, 1000))}, Reason.HIVE_UPLOAD_OFFSET,
                   description="a chunk re-sends bytes")
    yield CaseSpec("overrun", {**base, "size": 999, "chunks": chunks((0, 1000))}, Reason.HIVE_UPLOAD_OFFSET,
                   description="more bytes than declared")
    yield CaseSpec("incomplete", {**base, "chunks": chunks((0, 999))}, Reason.HIVE_UPLOAD_DIGEST,
                   description="finished one byte short")
    yield CaseSpec("wrong_digest", {**base, "sha256": h("other"), "chunks": chunks((0, 1000))},
                   Reason.HIVE_UPLOAD_DIGEST, description="the bytes do not have the declared digest")
    life = sync.UPLOAD_LIFETIME

    def timed(*cuts: tuple[int, int, int]) -> list[dict[str, Any]]:
        return [{"offset": a, "data": body[a:b].hex(), "at": t} for a, b, t in cuts]

    start = 1_750_000_000
    yield CaseSpec("kept_alive", {**base, "start": start, "chunks": timed((0, 400, start + life - 1),
                                                                         (400, 1000, start + 2 * life - 2)),
                                  "finish_at": start + 3 * life - 3}, OK, rules=("HSYNC-003", "HSYNC-004", "HSYNC-005"),
                   description="each chunk and the finish a second before the lifetime since the last chunk ends")
    yield CaseSpec("expired_chunk", {**base, "start": start, "chunks": timed((0, 400, start + 60),
                                                                            (400, 1000, start + 60 + life))},
                   Reason.HIVE_UPLOAD_EXPIRED, description="the second chunk comes exactly one lifetime after the first")
    yield CaseSpec("expired_first_chunk", {**base, "start": start, "chunks": timed((0, 1000, start + life))},
                   Reason.HIVE_UPLOAD_EXPIRED, description="a session never given a chunk expires a lifetime after its start")
    yield CaseSpec("expired_finish", {**base, "start": start, "chunks": timed((0, 1000, start)),
                                      "finish_at": start + life}, Reason.HIVE_UPLOAD_EXPIRED,
                   description="all bytes arrived, but the finish comes a lifetime after the last chunk")
