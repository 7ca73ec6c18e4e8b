"""Hive sign-in: the JWS/ES256 encoding against PyJWT, the full transcript, and every token check."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.crypto import p256
from spec.did import document
from spec.errors import Reason, Reject
from spec.hive import auth, identity, jws

from tests.helpers import expect_reject

T0 = 1_700_000_000
SVC, INST, USER, OTHER = (bytes(31) + bytes([i]) for i in (3, 1, 2, 4))
APP_DID = "did:elastos:iAppDidForTests1111111111111111111"


def _pub_obj(priv: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256.public_key_from_private(priv))


def _priv_obj(priv: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(priv, "big"), ec.SECP256R1())


@pytest.fixture(scope="module")
def world():
    docs = {identity.did_of(k): identity.primitive_document(k, created=T0 - 10, expires=T0 + 10**8)
            for k in (SVC, INST, USER, OTHER)}
    svc = auth.ServiceKey(did=identity.did_of(SVC), key_id=identity.key_id_of(SVC), private_key=SVC,
                          public_key=p256.public_key_from_private(SVC))
    return docs, document.resolver_from_texts(docs), svc


# -- JWS against PyJWT ----------------------------------------------------------------------------------------


def test_our_token_verifies_in_pyjwt():
    token = jws.sign({"typ": "JWT", "kid": "k"}, {"sub": "x", "n": [1, "ü"]}, SVC)
    assert pyjwt.get_unverified_header(token) == {"alg": "ES256", "typ": "JWT", "kid": "k"}
    assert pyjwt.decode(token, _pub_obj(SVC), algorithms=["ES256"]) == {"sub": "x", "n": [1, "ü"]}


def test_pyjwt_token_verifies_in_spec():
    token = pyjwt.encode({"sub": "y", "exp": T0}, _priv_obj(SVC), algorithm="ES256", headers={"kid": "k"})
    parsed = jws.parse(token)
    jws.verify(parsed, p256.public_key_from_private(SVC))
    assert parsed.claims == {"sub": "y", "exp": T0}
    assert parsed.header["alg"] == "ES256" and parsed.header["kid"] == "k"


def test_signature_is_raw_r_s_and_deterministic():
    a = jws.sign({}, {"a": 1}, SVC)
    b = jws.sign({}, {"a": 1}, SVC)
    assert a == b
    sig = jws.b64url_decode(a.split(".")[2], "sig")
    assert len(sig) == 64
    # The signing input is exactly the first two parts, ASCII.
    p256.ecdsa_verify(p256.public_key_from_private(SVC), ".".join(a.split(".")[:2]).encode(), sig)


@settings(max_examples=60, deadline=None)
@given(claims=st.dictionaries(st.text(max_size=8), st.one_of(st.integers(-10**6, 10**6), st.text(max_size=12),
                                                              st.booleans(), st.none()), max_size=5))
def test_round_trip_matches_pyjwt(claims):
    token = jws.sign({"typ": "JWT"}, claims, USER)
    assert pyjwt.decode(token, _pub_obj(USER), algorithms=["ES256"], options={"verify_exp": False,
                                                                           "verify_nbf": False,
                                                                           "verify_iat": False,
                                                                           "verify_aud": False,
                                                                           "verify_iss": False,
                                                                           "verify_sub": False,
                                                                           "verify_jti": False}) == claims
    parsed = jws.parse(token)
    jws.verify(parsed, p256.public_key_from_private(USER))
    assert parsed.claims == claims


@settings(max_examples=150, deadline=None)
@given(part=st.integers(0, 2), pos=st.integers(0, 10**6), bit=st.integers(0, 5))
def test_tampering_any_character_is_rejected(part, pos, bit):
    token = jws.sign({"typ": "JWT"}, {"sub": "AccessToken", "props": "{}"}, SVC)
    parts = token.split(".")
    text = parts[part]
    i = pos % len(text)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    new = alphabet[(alphabet.index(text[i]) + (1 << bit)) % 64]
    parts[part] = text[:i] + new + text[i + 1:]
    tampered = ".".join(parts)
    with pytest.raises(Reject) as info:
        jws.verify(jws.parse(tampered), p256.public_key_from_private(SVC))
    assert info.value.reason in (Reason.HIVE_JWT_MALFORMED, Reason.HIVE_JWT_ALGORITHM, Reason.HIVE_JWT_SIGNATURE)
    # PyJWT agrees that the tampered token is not valid.
    with pytest.raises(pyjwt.PyJWTError):
        pyjwt.decode(tampered, _pub_obj(SVC), algorithms=["ES256"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text):
    try:
        jws.verify(jws.parse(text), p256.public_key_from_private(SVC))
    except Reject as e:
        assert e.reason in (Reason.HIVE_JWT_MALFORMED, Reason.HIVE_JWT_ALGORITHM, Reason.HIVE_JWT_SIGNATURE)


def test_alg_none_is_rejected_even_with_valid_parts():
    token = pyjwt.encode({"sub": "x"}, None, algorithm="none")
    expect_reject(jws.parse, token, reason=Reason.HIVE_JWT_ALGORITHM, rule="HJWT-002")


def test_padding_and_noncanonical_base64_are_rejected():
    expect_reject(jws.b64url_decode, "YQ==", "x", reason=Reason.HIVE_JWT_MALFORMED, rule="HJWT-001", decode=True)
    expect_reject(jws.b64url_decode, "YR", "x", reason=Reason.HIVE_JWT_MALFORMED, rule="HJWT-001", decode=True)
    expect_reject(jws.b64url_decode, "Y", "x", reason=Reason.HIVE_JWT_MALFORMED, rule="HJWT-001", decode=True)
    assert jws.b64url_decode("YQ", "x") == b"a"


# -- the sign-in transcript -------------------------------------------------------------------------------------


def _credential(expires=T0 + 86400 * 30, subject=INST, types=("AppIdCredential",)):
    return identity.issue_credential(USER, identity.did_of(subject), "app-id-credential", types,
                                     {"appDid": APP_DID}, issued=T0 - 5, expires=expires)


def _sign_in(world, now=T0, nonce="n-1"):
    docs, resolve, svc = world
    return auth.sign_in(auth.AuthState(), docs[identity.did_of(INST)], svc, nonce=nonce, now=now, resolve=resolve)


def _answer(world, challenge, now=T0 + 1, credential=None, holder=INST):
    _, resolve, _ = world
    service_did, nonce = auth.check_challenge(challenge, identity.did_of(holder), now=now, resolve=resolve)
    vp = identity.create_presentation(holder, (credential or _credential(subject=holder),), realm=service_did,
                                      nonce=nonce, created=now)
    return auth.make_response(vp, instance_did=identity.did_of(holder), key_id=identity.key_id_of(holder),
                              private_key=holder, service_did=service_did, now=now)


def test_challenge_claims_and_lifetime(world):
    _, _, svc = world
    state, challenge = _sign_in(world)
    claims = pyjwt.decode(challenge, _pub_obj(SVC), algorithms=["ES256"], audience=identity.did_of(INST),
                          options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
    assert claims == {"iss": svc.did, "sub": "DIDAuthChallenge", "aud": identity.did_of(INST), "iat": T0,
                      "nbf": T0, "exp": T0 + 180, "nonce": "n-1"}
    assert pyjwt.get_unverified_header(challenge) == {"alg": "ES256", "typ": "JWT", "version": "1.0",
                                                      "kid": svc.key_id}
    assert state.challenges == (auth.Challenge(did=identity.did_of(INST), nonce="n-1", expires=T0 + 180),)


def test_full_sign_in_gives_a_seven_day_token(world):
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    state2, grant = auth.authenticate(state, _answer(world, challenge), svc, now=T0 + 2, resolve=resolve)
    assert grant.expires == T0 + 2 + 7 * 86400
    assert grant.user_did == identity.did_of(USER) and grant.app_did == APP_DID
    assert state2.challenges == ()
    caller = auth.check_token(grant.token, service_did=svc.did, service_public_key=svc.public_key, now=T0 + 3)
    assert caller == auth.Caller(user_did=identity.did_of(USER), app_did=APP_DID, instance_did=identity.did_of(INST))
    claims = pyjwt.decode(grant.token, _pub_obj(SVC), algorithms=["ES256"], audience=identity.did_of(INST),
                          options={"verify_exp": False, "verify_iat": False})
    assert json.loads(claims["props"]) == {"userDid": identity.did_of(USER), "appDid": APP_DID, "nonce": "n-1"}


def test_token_never_outlives_the_credential(world):
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    response = _answer(world, challenge, credential=_credential(expires=T0 + 3600))
    _, grant = auth.authenticate(state, response, svc, now=T0 + 2, resolve=resolve)
    assert grant.expires == T0 + 3600


def test_replayed_response_is_rejected(world):
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    response = _answer(world, challenge)
    state2, _ = auth.authenticate(state, response, svc, now=T0 + 2, resolve=resolve)
    with pytest.raises(Reject) as info:
        auth.authenticate(state2, response, svc, now=T0 + 3, resolve=resolve)
    assert (info.value.reason, info.value.rule) == (Reason.HIVE_CHALLENGE_UNKNOWN, "HAUTH-009")


def test_new_sign_in_replaces_the_pending_challenge(world):
    _, resolve, svc = world
    docs, _, _ = world
    state, first = _sign_in(world, nonce="first")
    state, _ = auth.sign_in(state, docs[identity.did_of(INST)], svc, nonce="second", now=T0 + 1, resolve=resolve)
    with pytest.raises(Reject) as info:
        auth.authenticate(state, _answer(world, first), svc, now=T0 + 2, resolve=resolve)
    assert info.value.rule == "HAUTH-009"


def test_expired_challenge(world):
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    vp = identity.create_presentation(INST, (_credential(),), realm=svc.did, nonce="n-1", created=T0 + 1)
    response = auth.make_response(vp, instance_did=identity.did_of(INST), key_id=identity.key_id_of(INST),
                                  private_key=INST, service_did=svc.did, now=T0 + 1, lifetime=1000)
    with pytest.raises(Reject) as info:
        auth.authenticate(state, response, svc, now=T0 + 180, resolve=resolve)
    assert (info.value.reason, info.value.rule) == (Reason.HIVE_CHALLENGE_EXPIRED, "HAUTH-010")
    auth.authenticate(state, response, svc, now=T0 + 179, resolve=resolve)


def test_stolen_nonce(world):
    """Another instance (with its own valid credential) answers the nonce issued to INST."""
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    vp = identity.create_presentation(OTHER, (_credential(subject=OTHER),), realm=svc.did, nonce="n-1",
                                      created=T0 + 1)
    response = auth.make_response(vp, instance_did=identity.did_of(OTHER), key_id=identity.key_id_of(OTHER),
                                  private_key=OTHER, service_did=svc.did, now=T0 + 1)
    with pytest.raises(Reject) as info:
        auth.authenticate(state, response, svc, now=T0 + 2, resolve=resolve)
    assert (info.value.reason, info.value.rule) == (Reason.HIVE_CREDENTIAL_SUBJECT, "HAUTH-012")


def test_backup_sign_in(world):
    docs, resolve, _ = world
    backup = auth.ServiceKey(did=identity.did_of(OTHER), key_id=identity.key_id_of(OTHER), private_key=OTHER,
                             public_key=p256.public_key_from_private(OTHER))
    state, challenge = auth.sign_in(auth.AuthState(), docs[identity.did_of(SVC)], backup, nonce="b", now=T0,
                                    resolve=resolve)
    vc = identity.issue_credential(USER, identity.did_of(SVC), "backup", ("HiveBackupCredential",),
                                   {"sourceHiveNodeDID": identity.did_of(SVC), "targetHiveNodeDID": backup.did,
                                    "targetNodeURL": "http://x"}, issued=T0 - 5, expires=T0 + 10**6)
    service_did, nonce = auth.check_challenge(challenge, identity.did_of(SVC), now=T0, resolve=resolve)
    vp = identity.create_presentation(SVC, (vc,), realm=service_did, nonce=nonce, created=T0)
    response = auth.make_response(vp, instance_did=identity.did_of(SVC), key_id=identity.key_id_of(SVC),
                                  private_key=SVC, service_did=service_did, now=T0)
    _, grant = auth.authenticate_backup(state, response, backup, now=T0 + 1, resolve=resolve)
    caller = auth.check_token(grant.token, service_did=backup.did, service_public_key=backup.public_key, now=T0 + 2,
                              backup=True)
    assert caller.user_did == identity.did_of(USER) and caller.app_did == identity.did_of(SVC)
    # A backup token is no access token, and an access-token check refuses it.
    with pytest.raises(Reject) as info:
        auth.check_token(grant.token, service_did=backup.did, service_public_key=backup.public_key, now=T0 + 2)
    assert info.value.rule == "HAUTH-013"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["iss", "sub", "aud", "exp", "props"]), st.one_of(st.none(), st.integers(), st.text(max_size=5)))
def test_any_claim_change_by_a_forger_is_rejected(world, claim, value):
    """A token re-signed by anyone but the vault, or with a changed claim, never passes."""
    _, resolve, svc = world
    state, challenge = _sign_in(world)
    _, grant = auth.authenticate(state, _answer(world, challenge), svc, now=T0 + 2, resolve=resolve)
    claims = pyjwt.decode(grant.token, options={"verify_signature": False})
    claims[claim] = value
    forged = jws.sign({"typ": "JWT", "version": "1.0", "kid": svc.key_id}, claims, USER)
    with pytest.raises(Reject) as info:
        auth.check_token(forged, service_did=svc.did, service_public_key=svc.public_key, now=T0 + 3)
    assert info.value.rule == "HAUTH-014"
    resigned = jws.sign({"typ": "JWT", "version": "1.0", "kid": svc.key_id}, claims, SVC)
    try:
        caller = auth.check_token(resigned, service_did=svc.did, service_public_key=svc.public_key, now=T0 + 3)
    except Reject as e:
        assert e.rule in ("HAUTH-005", "HAUTH-006", "HAUTH-013", "HAUTH-014", "HAUTH-015")
    else:
        # Only a change that keeps every check's input valid can pass, and then it says what it says.
        assert claim in ("aud", "exp") and caller.user_did == identity.did_of(USER)
