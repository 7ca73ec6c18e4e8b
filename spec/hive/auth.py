"""Hive sign-in: the challenge, the response, the access token and the token check on every call.

Actors: the **user DID** owns the data and issues an ``AppIdCredential`` to the **app-instance
DID** (one per install; the app holds its key), naming the **app DID**. The vault has its own
**service DID**. Every token is an ES256 JWS (:mod:`spec.hive.jws`).

The flow
--------

1. ``POST /api/v2/did/signin {"id": <app-instance document>}``: the vault checks the document is
   valid (``HAUTH-001``), remembers ``(app-instance DID, nonce, now + 180 s)`` (one pending challenge
   per DID: a new sign-in replaces the old one), and answers 201 ``{"challenge": JWT}``:

   ========  =====================================================================
   header    ``{"alg":"ES256","typ":"JWT","version":"1.0","kid":<service key id>}``
   claims    ``{"iss":<service DID>,"sub":"DIDAuthChallenge","aud":<app-instance DID>,
             "iat":now,"nbf":now,"exp":now+180,"nonce":<nonce>}``
   ========  =====================================================================

2. The client checks the challenge (:func:`check_challenge`: signed by the service DID, ``aud`` is
   itself, not expired with 300 s of skew) and answers ``POST /api/v2/did/auth
   {"challenge_response": JWT}`` with claims ``{"iss":<app-instance DID>,"sub":"DIDAuthResponse",
   "aud":<service DID>,"iat","nbf","exp","presentation":<VP>}``; the VP is by the app-instance
   DID, ``realm`` = service DID, ``nonce`` = the challenge's, holding the ``AppIdCredential``.

3. The vault (:func:`authenticate`) checks, in this order: the JWS and its signer (``HJWT-*``,
   ``HAUTH-002``), ``sub``/``aud``/``exp`` (``HAUTH-003`` .. ``HAUTH-006``), the presentation
   (``HAUTH-007``), realm and nonce (``HAUTH-008``), that the nonce is pending and fresh
   (``HAUTH-009``, ``HAUTH-010``), the credential (``HAUTH-011``) and its subject (``HAUTH-012``).
   It answers 201 ``{"token": JWT}``, the **access token**:

   ========  =====================================================================
   claims    ``{"iss":<service DID>,"sub":"AccessToken","aud":<app-instance DID>,"iat":now,
             "exp":min(now + 7 days, credential expirationDate),
             "props":"{\\"userDid\\":…,\\"appDid\\":…,\\"nonce\\":…}"}``
   ========  =====================================================================

   ``userDid`` is the credential's issuer and ``appDid`` its ``credentialSubject.appDid``.

4. Every other call carries ``Authorization: token <JWT>`` and is checked by :func:`check_token`
   (``HJWT-*``, ``HAUTH-013`` .. ``HAUTH-015``, ``HAUTH-005``, ``HAUTH-006``).

Backup nodes: the vault signs in to a backup node with **its own service DID** document and presents
a ``HiveBackupCredential`` (formerly ``BackupCredential``) the user issued to it, subject
``{id: vault DID, sourceHiveNodeDID, targetHiveNodeDID, targetNodeURL}`` (``HAUTH-016``); the token
has ``sub: "BackupToken"`` and ``props {"userDid", "sourceDid", "nonce"}``.

Times are integer Unix seconds. A JWT is current at ``now`` when ``nbf <= now < exp`` (RFC 7519
§4.1.4-5); the vault applies no skew, the client 300 s (upstream's ``JwtParserBuilder`` skew).

Upstream: Elastos.Hive.Node ``src/modules/auth/auth.py`` (``sign_in``, ``auth``, ``backup_auth``),
``src/utils/auth_token.py`` (``TokenParser``), ``src/settings.py`` (``AUTH_CHALLENGE_EXPIRED``,
``ACCESS_TOKEN_EXPIRED``); Elastos.Hive.Java.SDK ``connection/auth/AuthController.java``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.did import credential as C
from spec.did import document as D
from spec.did import jsontext
from spec.did import presentation as P
from spec.did.document import Resolver
from spec.did.syntax import parse_did, parse_did_url
from spec.errors import Reason, Reject, rule
from spec.hive import jws

__all__ = [
    "CHALLENGE_LIFETIME",
    "ACCESS_TOKEN_LIFETIME",
    "CLIENT_SKEW",
    "SUB_CHALLENGE",
    "SUB_RESPONSE",
    "SUB_ACCESS",
    "SUB_BACKUP",
    "APP_ID_CREDENTIAL",
    "BACKUP_CREDENTIALS",
    "ServiceKey",
    "Challenge",
    "AuthState",
    "Grant",
    "Caller",
    "sign_in",
    "check_challenge",
    "make_response",
    "authenticate",
    "authenticate_backup",
    "check_token",
    "signer_key",
]

CHALLENGE_LIFETIME: Final = 180
"""Seconds a challenge stays answerable (``AUTH_CHALLENGE_EXPIRED = 3 * 60``)."""
ACCESS_TOKEN_LIFETIME: Final = 7 * 24 * 3600
"""Upper bound of an access token's lifetime (``ACCESS_TOKEN_EXPIRED``)."""
CLIENT_SKEW: Final = 300
"""Clock skew the client allows when it checks a challenge's ``exp``."""
SUB_CHALLENGE: Final = "DIDAuthChallenge"
SUB_RESPONSE: Final = "DIDAuthResponse"
SUB_ACCESS: Final = "AccessToken"
SUB_BACKUP: Final = "BackupToken"
APP_ID_CREDENTIAL: Final = "AppIdCredential"
BACKUP_CREDENTIALS: Final = ("HiveBackupCredential", "BackupCredential")
HEADER: Final = {"typ": "JWT", "version": "1.0"}
"""Header members after ``alg`` (``kid`` follows them)."""

R_DOCUMENT: Final = rule(
    "HAUTH-001", Reason.HIVE_SIGNIN_DOCUMENT,
    "The document sent to /did/signin parses and is valid at now (genuine, not expired).",
    suite="hive", upstream="auth.py sign_in: \"The did document is invalid\" (DIDDocument.is_valid)",
)
R_SIGNER: Final = rule(
    "HAUTH-002", Reason.HIVE_JWT_SIGNATURE,
    "A JWT's signer is its iss DID: the key named by the header's kid (a DID URL; relative to iss when "
    "relative) or, without kid, the default key, must be an authentication key of iss's valid document.",
    suite="hive", upstream="DefaultJWSParser_Parse (key lookup in the issuer's document)",
    note="Deviation: the native parser's key lookup is not documented; the spec requires an "
    "authentication key of a document that is valid at now.",
)
R_SUBJECT: Final = rule(
    "HAUTH-003", Reason.HIVE_TOKEN_SUBJECT,
    "A JWT's sub is the one its step requires: DIDAuthChallenge, DIDAuthResponse, AccessToken or BackupToken.",
    suite="hive", upstream="auth.py: \"The subject of the token is invalid\"; TokenParser sub check",
)
R_AUDIENCE: Final = rule(
    "HAUTH-004", Reason.HIVE_TOKEN_AUDIENCE,
    "A challenge's aud is the app-instance DID that checks it; a response's aud is the vault's service DID.",
    suite="hive", upstream="AuthController (client: aud is own DID); auth.py: \"The audience ... is invalid\"",
)
R_CLAIMS: Final = rule(
    "HAUTH-005", Reason.HIVE_TOKEN_CLAIMS,
    "iss, sub and aud are strings and exp an integer; iat and nbf, when present, are integers.",
    suite="hive", upstream="jjwt claim types",
)
R_TIME: Final = rule(
    "HAUTH-006", Reason.HIVE_TOKEN_EXPIRED,
    "A JWT is current at now when nbf <= now < exp (the client allows its skew on both sides).",
    suite="hive", upstream="jjwt ExpiredJwtException / PrematureJwtException; TokenParser \"token expired\"",
    note="Deviation: RFC 7519 semantics at the boundary (now == exp is expired); the vault applies no skew.",
)
R_PRESENTATION: Final = rule(
    "HAUTH-007", Reason.HIVE_PRESENTATION_INVALID,
    "The response's presentation claim is a JSON object that parses as a presentation, is valid at now, "
    "is held by the response's issuer and holds at least one credential.",
    suite="hive", upstream="auth.py __check_auth_response: \"The presentation is invalid\" / \"no credential\"",
    note="Deviation: the spec also requires holder == the response JWT's iss (upstream relies on the "
    "credential-subject check alone).",
)
R_REALM: Final = rule(
    "HAUTH-008", Reason.HIVE_PRESENTATION_REALM,
    "The presentation's realm is the vault's service DID and its nonce is a string the challenge named.",
    suite="hive", upstream="auth.py: \"The realm is invalid\"",
)
R_NONCE: Final = rule(
    "HAUTH-009", Reason.HIVE_CHALLENGE_UNKNOWN,
    "The presentation's nonce is a pending challenge of this vault; a challenge is answered at most once.",
    suite="hive", upstream="auth.py: get_auth_info_by_nonce \"The nonce is invalid\"",
    note="Deviation: upstream keeps the nonce until it expires, so a response can be replayed within "
    "180 s for a second token; the spec consumes the challenge on success.",
)
R_NONCE_TIME: Final = rule(
    "HAUTH-010", Reason.HIVE_CHALLENGE_EXPIRED,
    "The challenge is answered before its expiry (issued + 180 s).",
    suite="hive", upstream="auth.py: \"The nonce is expired\"",
)
R_CREDENTIAL: Final = rule(
    "HAUTH-011", Reason.HIVE_CREDENTIAL_INVALID,
    "The presentation's first credential (by id order) is valid at now and has the step's type: "
    "AppIdCredential for sign-in, HiveBackupCredential or BackupCredential for backup sign-in.",
    suite="hive", upstream="auth.py: \"The credential is invalid\"",
    note="Deviation: upstream reads credentialSubject.appDid without checking the type; the spec checks it.",
)
R_CRED_SUBJECT: Final = rule(
    "HAUTH-012", Reason.HIVE_CREDENTIAL_SUBJECT,
    "The credential's subject id is the DID that signed in with the challenge's nonce, and "
    "credentialSubject.appDid is a non-empty string.",
    suite="hive", upstream="auth.py: \"The app instance did of the credential does not match\"",
)
R_TOKEN_SUB: Final = rule(
    "HAUTH-013", Reason.HIVE_TOKEN_SUBJECT,
    "A token presented to a call has sub AccessToken (BackupToken on the backup node's internal routes).",
    suite="hive", upstream="TokenParser: \"Invalid token subject\"",
)
R_TOKEN_ISS: Final = rule(
    "HAUTH-014", Reason.HIVE_TOKEN_ISSUER,
    "A token presented to a call was issued by this vault: iss is its service DID and the signature is "
    "by its service key.",
    suite="hive", upstream="TokenParser: \"Invalid token issuer\"",
)
R_TOKEN_PROPS: Final = rule(
    "HAUTH-015", Reason.HIVE_TOKEN_CLAIMS,
    "An access token's props claim is a JSON object text with string userDid and appDid "
    "(a backup token: userDid and sourceDid).",
    suite="hive", upstream="TokenParser: \"Invalid token props\"",
)
R_BACKUP_SUBJECT: Final = rule(
    "HAUTH-016", Reason.HIVE_CREDENTIAL_SUBJECT,
    "A backup credential's subject id is the vault DID that signed in and its targetHiveNodeDID is the "
    "backup node's service DID; sourceHiveNodeDID and targetNodeURL are strings.",
    suite="hive", upstream="auth.py backup_auth (HiveBackupCredential subject)",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ServiceKey(_Model):
    """The vault's signing identity."""

    did: str
    """The service DID."""
    key_id: str
    """Absolute DID URL of its key (``kid``)."""
    private_key: bytes
    """32-byte P-256 private key."""
    public_key: bytes
    """33-byte compressed public key (the token check needs only this)."""


class Challenge(_Model):
    """A pending sign-in challenge."""

    did: str
    """The DID that signed in (app-instance DID, or the vault DID on a backup node)."""
    nonce: str
    expires: int
    """Issued + 180 s."""


class AuthState(_Model):
    """The vault's pending challenges, one per signed-in DID, sorted by DID."""

    challenges: tuple[Challenge, ...] = ()


class Grant(_Model):
    """What a successful response gives: the token and what it says."""

    token: str
    user_did: str
    app_did: str
    """The app DID (backup: the source vault DID)."""
    instance_did: str
    """The app-instance DID (backup: the vault DID): the token's ``aud``."""
    expires: int


class Caller(_Model):
    """Who a checked token says is calling (``g.usr_did``, ``g.app_did``, ``g.app_ins_did``)."""

    user_did: str
    app_did: str
    instance_did: str


def _header(key_id: str) -> dict[str, Any]:
    return {"alg": jws.ALGORITHM, **HEADER, "kid": key_id}


def sign_in(state: AuthState, document_text: str, service: ServiceKey, *, nonce: str, now: int,
            resolve: Resolver | None = None) -> tuple[AuthState, str]:
    """``/did/signin``: the new state and the challenge JWT."""
    try:
        doc = D.parse_document(document_text, resolve)
    except Reject as e:
        # [HAUTH-001] the document parses
        raise Reject(Reason.HIVE_SIGNIN_DOCUMENT, "HAUTH-001", f"The did document is invalid: {e}") from None
    # [HAUTH-001] the document is valid at now
    if not D.is_valid(doc, now, resolve):
        raise Reject(Reason.HIVE_SIGNIN_DOCUMENT, "HAUTH-001", "The did document is invalid")
    did = str(doc.subject)
    challenge = Challenge(did=did, nonce=nonce, expires=now + CHALLENGE_LIFETIME)
    kept = [c for c in state.challenges if c.did != did]
    new_state = AuthState(challenges=tuple(sorted([*kept, challenge], key=lambda c: c.did)))
    claims = {"iss": service.did, "sub": SUB_CHALLENGE, "aud": did, "iat": now, "nbf": now,
              "exp": now + CHALLENGE_LIFETIME, "nonce": nonce}
    return new_state, jws.sign(_header(service.key_id), claims, service.private_key)


# -- shared checks ---------------------------------------------------------------------------------


def signer_key(token: jws.Jws, now: int, resolve: Resolver | None) -> bytes:
    """The public key of a JWT's signer, by ``kid`` in the issuer's document (HAUTH-002)."""
    iss = token.claims.get("iss")
    # [HAUTH-005] iss is a string
    if not isinstance(iss, str):
        raise Reject(Reason.HIVE_TOKEN_CLAIMS, "HAUTH-005", "iss missing or not a string")
    try:
        did = parse_did(iss)
        kid = token.header.get("kid")
        key_id = parse_did_url(kid, did) if isinstance(kid, str) else None
    except Reject:
        key_id, did = None, None
    doc = resolve(did) if did is not None and resolve is not None else None
    # [HAUTH-002] the issuer's document is known and valid
    if doc is None or not D.is_valid(doc, now, resolve):
        raise Reject(Reason.HIVE_JWT_SIGNATURE, "HAUTH-002", f"no valid document for the issuer {iss}")
    key_id = key_id if key_id is not None else doc.default_key
    key = C.authentication_key(doc, key_id, resolve) if key_id is not None and key_id.did == did else None
    # [HAUTH-002] kid (or the default key) is an authentication key of the issuer
    if key is None:
        raise Reject(Reason.HIVE_JWT_SIGNATURE, "HAUTH-002", f"{key_id} is not an authentication key of {iss}")
    return key.public_key


def _claims(claims: dict[str, Any]) -> None:
    for k in ("iss", "sub", "aud"):
        # [HAUTH-005] iss, sub and aud are strings
        if not isinstance(claims.get(k), str):
            raise Reject(Reason.HIVE_TOKEN_CLAIMS, "HAUTH-005", f"{k} missing or not a string")
    for k in ("exp", "iat", "nbf"):
        v = claims.get(k)
        # [HAUTH-005] exp is an integer; iat and nbf integers when present
        if (k == "exp" or v is not None) and (not isinstance(v, int) or isinstance(v, bool)):
            raise Reject(Reason.HIVE_TOKEN_CLAIMS, "HAUTH-005", f"{k} missing or not an integer")


def _current(claims: dict[str, Any], now: int, skew: int = 0) -> None:
    # [HAUTH-006] not before nbf
    if "nbf" in claims and now + skew < claims["nbf"]:
        raise Reject(Reason.HIVE_TOKEN_EXPIRED, "HAUTH-006", f"used at {now}, before nbf {claims['nbf']}")
    # [HAUTH-006] before exp
    if now - skew >= claims["exp"]:
        raise Reject(Reason.HIVE_TOKEN_EXPIRED, "HAUTH-006", f"used at {now}, expired at {claims['exp']}")


def _subject(claims: dict[str, Any], want: str) -> None:
    # [HAUTH-003] the step's subject
    if claims["sub"] != want:
        raise Reject(Reason.HIVE_TOKEN_SUBJECT, "HAUTH-003", f"sub {claims['sub']!r}, expected {want!r}")


# -- the client's side ------------------------------------------------------------------------------


def check_challenge(challenge: str, instance_did: str, *, now: int, resolve: Resolver | None) -> tuple[str, str]:
    """The client's check of a challenge: ``(service DID, nonce)``."""
    token = jws.parse(challenge)
    jws.verify(token, signer_key(token, now, resolve))
    _claims(token.claims)
    _subject(token.claims, SUB_CHALLENGE)
    # [HAUTH-004] the challenge is for this app instance
    if token.claims["aud"] != instance_did:
        raise Reject(Reason.HIVE_TOKEN_AUDIENCE, "HAUTH-004", f"aud {token.claims['aud']}, expected {instance_did}")
    _current(token.claims, now, CLIENT_SKEW)
    nonce = token.claims.get("nonce")
    # [HAUTH-005] the challenge names a nonce
    if not isinstance(nonce, str):
        raise Reject(Reason.HIVE_TOKEN_CLAIMS, "HAUTH-005", "nonce missing or not a string")
    return token.claims["iss"], nonce


def make_response(presentation_text: str, *, instance_did: str, key_id: str, private_key: bytes,
                  service_did: str, now: int, lifetime: int = CHALLENGE_LIFETIME) -> str:
    """The response JWT (``AppDID.createToken``) wrapping a presentation."""
    claims = {"iss": instance_did, "sub": SUB_RESPONSE, "aud": service_did, "iat": now, "nbf": now,
              "exp": now + lifetime, "presentation": json.loads(presentation_text)}
    return jws.sign(_header(key_id), claims, private_key)


# -- the vault's side -------------------------------------------------------------------------------


def _response(state: AuthState, response: str, service: ServiceKey, now: int, resolve: Resolver | None,
              types: tuple[str, ...]) -> tuple[Challenge, C.Credential]:
    token = jws.parse(response)
    jws.verify(token, signer_key(token, now, resolve))
    claims = token.claims
    _claims(claims)
    _subject(claims, SUB_RESPONSE)
    # [HAUTH-004] the response is for this vault
    if claims["aud"] != service.did:
        raise Reject(Reason.HIVE_TOKEN_AUDIENCE, "HAUTH-004", f"aud {claims['aud']}, expected {service.did}")
    _current(claims, now)
    raw = claims.get("presentation")
    # [HAUTH-007] the presentation claim is an object
    if not isinstance(raw, dict):
        raise Reject(Reason.HIVE_PRESENTATION_INVALID, "HAUTH-007", "presentation missing or not an object")
    try:
        vp = P.parse_presentation(jsontext.serialize(raw))
    except Reject as e:
        # [HAUTH-007] the presentation parses
        raise Reject(Reason.HIVE_PRESENTATION_INVALID, "HAUTH-007", f"The presentation is invalid: {e}") from None
    # [HAUTH-007] valid, held by the response's issuer, with a credential
    if str(vp.holder_did) != claims["iss"] or not vp.credentials or not P.is_valid(vp, now, resolve):
        raise Reject(Reason.HIVE_PRESENTATION_INVALID, "HAUTH-007", "The presentation is invalid")
    # [HAUTH-008] realm is the vault's DID
    if vp.proof.realm != service.did:
        raise Reject(Reason.HIVE_PRESENTATION_REALM, "HAUTH-008", f"realm {vp.proof.realm}, expected {service.did}")
    pending = next((c for c in state.challenges if c.nonce == vp.proof.nonce), None)
    # [HAUTH-009] the nonce is a pending challenge
    if pending is None:
        raise Reject(Reason.HIVE_CHALLENGE_UNKNOWN, "HAUTH-009", "The nonce is invalid")
    # [HAUTH-010] the challenge has not expired
    if now >= pending.expires:
        raise Reject(Reason.HIVE_CHALLENGE_EXPIRED, "HAUTH-010", "The nonce is expired")
    vc = vp.credentials[0]
    # [HAUTH-011] the credential is valid and of the step's type
    if not C.is_valid(vc, now, resolve) or not any(t in vc.types for t in types):
        raise Reject(Reason.HIVE_CREDENTIAL_INVALID, "HAUTH-011", f"The credential is invalid ({'|'.join(types)})")
    # [HAUTH-012] the credential is about the DID that signed in
    if str(vc.subject_id) != pending.did:
        raise Reject(Reason.HIVE_CREDENTIAL_SUBJECT, "HAUTH-012", "credential subject is not the signed-in DID")
    return pending, vc


def _consume(state: AuthState, pending: Challenge) -> AuthState:
    return AuthState(challenges=tuple(c for c in state.challenges if c != pending))


def _token(service: ServiceKey, sub: str, aud: str, now: int, exp: int, props: dict[str, str]) -> str:
    claims = {"iss": service.did, "sub": sub, "aud": aud, "iat": now, "exp": exp,
              "props": json.dumps(props, separators=(",", ":"))}
    return jws.sign(_header(service.key_id), claims, service.private_key)


def authenticate(state: AuthState, response: str, service: ServiceKey, *, now: int,
                 resolve: Resolver | None) -> tuple[AuthState, Grant]:
    """``/did/auth``: check a response and issue the access token."""
    pending, vc = _response(state, response, service, now, resolve, (APP_ID_CREDENTIAL,))
    app_did = dict(vc.subject).get("appDid")
    # [HAUTH-012] the credential names the app DID
    if not isinstance(app_did, str) or not app_did:
        raise Reject(Reason.HIVE_CREDENTIAL_SUBJECT, "HAUTH-012", "credentialSubject.appDid missing")
    exp = min(now + ACCESS_TOKEN_LIFETIME, D.parse_date(vc.expiration_date))
    user_did = str(vc.issuer)
    token = _token(service, SUB_ACCESS, pending.did, now, exp,
                   {"userDid": user_did, "appDid": app_did, "nonce": pending.nonce})
    return _consume(state, pending), Grant(token=token, user_did=user_did, app_did=app_did,
                                           instance_did=pending.did, expires=exp)


def authenticate_backup(state: AuthState, response: str, service: ServiceKey, *, now: int,
                        resolve: Resolver | None) -> tuple[AuthState, Grant]:
    """``/did/backup_auth`` on the backup node: check a vault's response and issue a backup token."""
    pending, vc = _response(state, response, service, now, resolve, BACKUP_CREDENTIALS)
    subject = dict(vc.subject)
    ok = all(isinstance(subject.get(k), str) for k in ("sourceHiveNodeDID", "targetHiveNodeDID", "targetNodeURL"))
    # [HAUTH-016] the backup credential names this backup node
    if not ok or subject["targetHiveNodeDID"] != service.did:
        raise Reject(Reason.HIVE_CREDENTIAL_SUBJECT, "HAUTH-016", "backup credential is not for this node")
    exp = min(now + ACCESS_TOKEN_LIFETIME, D.parse_date(vc.expiration_date))
    user_did = str(vc.issuer)
    token = _token(service, SUB_BACKUP, pending.did, now, exp,
                   {"userDid": user_did, "sourceDid": pending.did, "nonce": pending.nonce})
    return _consume(state, pending), Grant(token=token, user_did=user_did, app_did=pending.did,
                                           instance_did=pending.did, expires=exp)


def check_token(token: str, *, service_did: str, service_public_key: bytes, now: int,
                backup: bool = False) -> Caller:
    """``TokenParser``: the check every authenticated call makes."""
    parsed = jws.parse(token)
    try:
        jws.verify(parsed, service_public_key)
    except Reject:
        # [HAUTH-014] signed by this vault's service key
        raise Reject(Reason.HIVE_TOKEN_ISSUER, "HAUTH-014", "not signed by this vault") from None
    claims = parsed.claims
    _claims(claims)
    want = SUB_BACKUP if backup else SUB_ACCESS
    # [HAUTH-013] the token's subject
    if claims["sub"] != want:
        raise Reject(Reason.HIVE_TOKEN_SUBJECT, "HAUTH-013", f"Invalid token subject {claims['sub']!r}")
    # [HAUTH-014] issued by this vault
    if claims["iss"] != service_did:
        raise Reject(Reason.HIVE_TOKEN_ISSUER, "HAUTH-014", f"Invalid token issuer {claims['iss']}")
    _current(claims, now)
    props_text = claims.get("props")
    props: Any = None
    if isinstance(props_text, str):
        try:
            props = json.loads(props_text)
        except ValueError:
            props = None
    second = "sourceDid" if backup else "appDid"
    ok = isinstance(props, dict) and isinstance(props.get("userDid"), str) and isinstance(props.get(second), str)
    # [HAUTH-015] props names the user and the app
    if not ok:
        raise Reject(Reason.HIVE_TOKEN_CLAIMS, "HAUTH-015", "Invalid token props")
    return Caller(user_did=props["userDid"], app_did=props[second], instance_did=claims["aud"])

