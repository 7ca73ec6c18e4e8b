"""Handlers of the ``hive`` suite for JWS/ES256 and the sign-in steps.

Pending challenges cross the boundary as ``[{"did", "nonce", "expires"}]``. ``documents`` maps a
DID string to its document text: the resolver the vault consults (the app-instance document it
cached at sign-in, the user's document, its own).
"""

from __future__ import annotations

from typing import Any

from spec.did import document
from spec.hive import auth, jws

from conformance.bindings import Input, handler
from conformance.bindings_hive.common import Json, array, documents, malformed, now, obj, service


def _state(v: list[Any]) -> auth.AuthState:
    out = []
    for item in v:
        c = Input(item, ("did", "nonce", "expires"))
        out.append(auth.Challenge(did=c.text("did"), nonce=c.text("nonce"), expires=c.small_int("expires", 0, 1 << 40)))
    if [c.did for c in out] != sorted({c.did for c in out}):
        raise malformed("challenges: one per DID, sorted by DID")
    return auth.AuthState(challenges=tuple(out))


def _challenges(state: auth.AuthState) -> list[Json]:
    return [{"did": c.did, "nonce": c.nonce, "expires": c.expires} for c in state.challenges]


@handler("hive", "hive.jws.sign",
         "`header`, `claims` (objects), `private_key` -> `token`: ES256 compact JWS with an RFC 6979 nonce")
def _jws_sign(data: Any) -> Json:
    inp = Input(data, ("header", "claims", "private_key"))
    return {"token": jws.sign(obj(inp, "header"), obj(inp, "claims"), inp.hex("private_key"))}


@handler("hive", "hive.jws.verify",
         "`token`, `public_key` (33-byte compressed) -> `header`, `claims`: decode and check the ES256 signature")
def _jws_verify(data: Any) -> Json:
    inp = Input(data, ("token", "public_key"))
    token = jws.parse(inp.text("token"))
    jws.verify(token, inp.hex("public_key"))
    return {"header": token.header, "claims": token.claims}


@handler("hive", "hive.auth.signin",
         "`challenges`, `document` (text), `service`, `nonce`, `now`, `documents`? -> `challenge` (JWT), "
         "`challenges`: POST /did/signin")
def _signin(data: Any) -> Json:
    inp = Input(data, ("challenges", "document", "service", "nonce", "now"), ("documents",))
    state, token = auth.sign_in(_state(array(inp, "challenges")), inp.text("document"), service(inp),
                                nonce=inp.text("nonce"), now=now(inp),
                                resolve=document.resolver_from_texts(documents(inp)))
    return {"challenge": token, "challenges": _challenges(state)}


@handler("hive", "hive.auth.check_challenge",
         "`challenge`, `instance_did`, `now`, `documents` -> `service_did`, `nonce`: the client's check")
def _check_challenge(data: Any) -> Json:
    inp = Input(data, ("challenge", "instance_did", "now", "documents"))
    did, nonce = auth.check_challenge(inp.text("challenge"), inp.text("instance_did"), now=now(inp),
                                      resolve=document.resolver_from_texts(documents(inp)))
    return {"service_did": did, "nonce": nonce}


def _grant(state: auth.AuthState, g: auth.Grant) -> Json:
    return {"token": g.token, "user_did": g.user_did, "app_did": g.app_did, "instance_did": g.instance_did,
            "expires": g.expires, "challenges": _challenges(state)}


@handler("hive", "hive.auth.authenticate",
         "`challenges`, `response` (JWT), `service`, `now`, `documents` -> `token`, `user_did`, `app_did`, "
         "`instance_did`, `expires`, `challenges`: POST /did/auth")
def _authenticate(data: Any) -> Json:
    inp = Input(data, ("challenges", "response", "service", "now", "documents"))
    state, g = auth.authenticate(_state(array(inp, "challenges")), inp.text("response"), service(inp), now=now(inp),
                                 resolve=document.resolver_from_texts(documents(inp)))
    return _grant(state, g)


@handler("hive", "hive.auth.backup_authenticate",
         "`challenges`, `response`, `service` (the backup node), `now`, `documents` -> as hive.auth.authenticate "
         "(`app_did` is the source vault DID): POST /did/backup_auth")
def _backup_authenticate(data: Any) -> Json:
    inp = Input(data, ("challenges", "response", "service", "now", "documents"))
    state, g = auth.authenticate_backup(_state(array(inp, "challenges")), inp.text("response"), service(inp),
                                        now=now(inp), resolve=document.resolver_from_texts(documents(inp)))
    return _grant(state, g)


@handler("hive", "hive.auth.check_token",
         "`token`, `service_did`, `service_public_key`, `now`, `backup`? -> `user_did`, `app_did`, `instance_did`")
def _check_token(data: Any) -> Json:
    inp = Input(data, ("token", "service_did", "service_public_key", "now"), ("backup",))
    backup = inp.raw("backup") if inp.has("backup") else False
    if not isinstance(backup, bool):
        raise malformed("backup: expected a boolean")
    c = auth.check_token(inp.text("token"), service_did=inp.text("service_did"),
                         service_public_key=inp.hex("service_public_key"), now=now(inp), backup=backup)
    return {"user_did": c.user_did, "app_did": c.app_did, "instance_did": c.instance_did}
