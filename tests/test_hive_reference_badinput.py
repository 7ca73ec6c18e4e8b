"""Hive's fault catalogue over real HTTP, on SQLite and on PostgreSQL: every bad token, sign-in, path, size and
filter is refused with its status, reason and rule, and leaves what the vault stores as it was.

Tokens: forged (another key), ``alg: none``, garbled, expired (the vault's clock moved past ``exp``), the
vault's own challenge JWT and a response JWT presented as access tokens (wrong subject). Sign-in: a replayed
response, a response to a superseded challenge, an expired challenge, a response addressed to another vault
(wrong audience), a presentation for another realm, a nonce answered by another instance. Paths: traversal and
aliasing forms on every route that names a path. Sizes: uploads over the quota (507) on the file routes, the
sync routes and a resumable session, refused before a byte is stored where the size is declared. Filters:
malformed filters on every database route, hand-picked and generated (Hypothesis).
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.did import document
from spec.hive import access, auth, identity, jws, sync

from reference.hive import client as hc
from reference.hive.client import HiveClient, HiveError
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

USER, PHONE, OTHER, OTHER_USER = (bytes(30) + bytes([12, i]) for i in range(1, 5))
APP = identity.did_of(bytes(30) + bytes([12, 9]))
QUOTA = 64 * 1024


class World:
    """A vault on loopback with a clock the test moves, and the DIDs that sign in to it."""

    def __init__(self, port: int, vault: Vault, docs: dict[str, str], now: int, tmp: Any) -> None:
        self.port, self.vault, self.docs, self.tmp = port, vault, docs, tmp
        self.clock = [now]

    def credential(self, instance: bytes, user: bytes = USER) -> str:
        now = self.clock[0]
        return identity.issue_credential(user, identity.did_of(instance), "app-id-credential", ("AppIdCredential",),
                                         {"appDid": APP}, issued=now - 60, expires=now + 30 * 86400)

    def client(self, instance: bytes = PHONE, user: bytes = USER) -> HiveClient:
        c = HiveClient(f"http://127.0.0.1:{self.port}")
        c.sign_in(instance, self.credential(instance, user), now=self.clock[0], documents=self.docs)
        return c

    def challenge(self, instance: bytes) -> tuple[str, str, str]:
        """``did/signin`` for ``instance``: the challenge JWT, the vault's DID and the nonce."""
        did = identity.did_of(instance)
        c = HiveClient(f"http://127.0.0.1:{self.port}")
        jwt = c.request("POST", "did/signin", {"id": json.loads(self.docs[did])}, auth_header=False)["challenge"]
        service, nonce = auth.check_challenge(jwt, did, now=self.clock[0], resolve=document.resolver_from_texts(self.docs))
        return jwt, service, nonce

    def response(self, instance: bytes, nonce: str, *, realm: str | None = None, audience: str | None = None,
                 credential: str | None = None) -> str:
        now = self.clock[0]
        service = self.vault.service.did
        vp = identity.create_presentation(instance, (credential or self.credential(instance),),
                                          realm=realm or service, nonce=nonce, created=now)
        return auth.make_response(vp, instance_did=identity.did_of(instance), key_id=identity.key_id_of(instance),
                                  private_key=instance, service_did=audience or service, now=now)

    def auth(self, response: str) -> Any:
        c = HiveClient(f"http://127.0.0.1:{self.port}")
        return c.request("POST", "did/auth", {"challenge_response": response}, auth_header=False)

    def stored(self) -> dict[str, Any]:
        """Everything the vault stores for the user's partition, read from the database and the disk."""
        store = self.vault.store
        part = access.database_name(identity.did_of(USER), APP)
        with store.transaction() as con:
            files = store.load_files(con, part)
            database = store.load_database(con, part)
            manifest = store.load_manifest(con, part)
        blobs = sorted(p.name for p in store.blobs.rglob("*") if p.is_file())
        return {"files": files, "database": database, "manifest": manifest, "blobs": blobs}


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path):
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
            for k in (USER, PHONE, OTHER, OTHER_USER)}
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    store = HiveStore(tmp_path / "vault", dsn)
    clock = [now]
    v = Vault(store, load_service_key(tmp_path / "vault"), quota=QUOTA, clock=lambda: clock[0])
    server = HiveServer(v, 0).start()
    w = World(server.port, v, docs, now, tmp_path)
    w.clock = clock
    for text in docs.values():
        v.add_document(text)
    docs[v.service.did] = store.documents()[v.service.did]
    yield w
    server.stop()
    store.close()


def refused(call: Any, *args: Any, **kw: Any) -> HiveError:
    with pytest.raises(HiveError) as info:
        call(*args, **kw)
    return info.value


def _seed(c: HiveClient) -> None:
    c.request("PUT", "vault/db/collections/notes")
    c.request("POST", "vault/db/collection/notes", {"document": [{"n": 1}, {"n": 2}]})
    c.request("PUT", "vault/files/docs/a.txt", raw=b"kept")


# -- tokens ------------------------------------------------------------------------------------------------


def _forged(w: World, token: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec
    claims = jws.parse(token).claims
    key = ec.derive_private_key(int.from_bytes(OTHER, "big"), ec.SECP256R1())
    return pyjwt.encode(claims, key, algorithm="ES256", headers={"kid": w.vault.service.key_id})


def _alg_none(token: str) -> str:
    head, body, _ = token.split(".")
    return jws.b64url_encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + body + "."


@pytest.mark.parametrize("kind, reason, rule", [
    ("forged", "HIVE_TOKEN_ISSUER", "HAUTH-014"),
    ("alg-none", "HIVE_JWT_ALGORITHM", "HJWT-002"),
    ("garbled", "HIVE_JWT_MALFORMED", "HJWT-001"),
    ("expired", "HIVE_TOKEN_EXPIRED", "HAUTH-006"),
    ("challenge-as-token", "HIVE_TOKEN_SUBJECT", "HAUTH-013"),
    ("response-as-token", "HIVE_TOKEN_ISSUER", "HAUTH-014"),
])
def test_bad_tokens_are_refused_and_change_nothing(world, kind, reason, rule):
    c = world.client()
    _seed(c)
    before = world.stored()
    good = c.token
    assert good is not None
    exp = jws.parse(good).claims["exp"]
    if kind == "forged":
        bad = _forged(world, good)
    elif kind == "alg-none":
        bad = _alg_none(good)
    elif kind == "garbled":
        bad = good.replace(".", "", 1)
    elif kind == "expired":
        world.clock[0] = exp  # RFC 7519: a token is expired at exp
        bad = good
    elif kind == "challenge-as-token":  # signed by the vault itself: only the subject stops it
        bad = world.challenge(PHONE)[0]
    else:
        _, _, nonce = world.challenge(PHONE)
        bad = world.response(PHONE, nonce)
    c.token = bad
    for method, path, body, raw in [("PUT", "vault/db/collections/evil", None, None),
                                    ("PUT", "vault/files/docs/a.txt", None, b"overwritten"),
                                    ("DELETE", "vault/files/docs/a.txt", None, None),
                                    ("GET", "vault/sync/manifest", None, None)]:
        e = refused(c.request, method, path, body, raw)
        assert (e.status, e.reason, e.rule) == (401, reason, rule), (method, path, e)
    world.clock[0] = exp - 1
    c.token = good
    assert world.stored() == before
    assert c.download("docs/a.txt") == b"kept"


def test_expired_token_is_refused_at_exp_and_accepted_a_second_before(world):
    c = world.client()
    exp = jws.parse(c.token or "").claims["exp"]
    world.clock[0] = exp - 1
    assert c.request("GET", "vault/db/collections") == {"collections": []}
    world.clock[0] = exp
    e = refused(c.request, "GET", "vault/db/collections")
    assert (e.status, e.reason, e.rule) == (401, "HIVE_TOKEN_EXPIRED", "HAUTH-006")


# -- sign-in -----------------------------------------------------------------------------------------------


def test_sign_in_faults(world):
    # a response used twice: the challenge is spent
    _, _, nonce = world.challenge(PHONE)
    response = world.response(PHONE, nonce)
    assert "token" in world.auth(response)
    e = refused(world.auth, response)
    assert (e.status, e.reason, e.rule) == (401, "HIVE_CHALLENGE_UNKNOWN", "HAUTH-009")
    # an answer to a challenge a newer sign-in replaced
    _, _, first = world.challenge(PHONE)
    world.challenge(PHONE)
    e = refused(world.auth, world.response(PHONE, first))
    assert (e.status, e.reason, e.rule) == (401, "HIVE_CHALLENGE_UNKNOWN", "HAUTH-009")
    # an answer after the challenge's 180 s
    _, _, nonce = world.challenge(PHONE)
    world.clock[0] += auth.CHALLENGE_LIFETIME
    e = refused(world.auth, world.response(PHONE, nonce))
    assert (e.status, e.reason, e.rule) == (401, "HIVE_CHALLENGE_EXPIRED", "HAUTH-010")
    # a response addressed to another vault (wrong audience), a presentation for another realm
    _, _, nonce = world.challenge(PHONE)
    elsewhere = identity.did_of(OTHER_USER)
    e = refused(world.auth, world.response(PHONE, nonce, audience=elsewhere))
    assert (e.status, e.reason, e.rule) == (401, "HIVE_TOKEN_AUDIENCE", "HAUTH-004")
    e = refused(world.auth, world.response(PHONE, nonce, realm=elsewhere))
    assert (e.status, e.reason, e.rule) == (401, "HIVE_PRESENTATION_REALM", "HAUTH-008")
    # another instance answers the nonce issued to PHONE with its own credential
    e = refused(world.auth, world.response(OTHER, nonce))
    assert (e.status, e.reason, e.rule) == (401, "HIVE_CREDENTIAL_SUBJECT", "HAUTH-012")
    # none of it granted anything; an honest sign-in still works
    assert world.client().request("GET", "vault/db/collections") == {"collections": []}


# -- paths ---------------------------------------------------------------------------------------------------

BAD_PATHS = ["../escape", "a/../../escape", "/etc/passwd", "a//b", "./a", "a/.", "a\\b", "a\x00b", "a/", "",
             "x" * 1025, "..", "a/\x7f"]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_path_traversal_is_refused_on_every_route(world, bad):
    c = world.client()
    _seed(c)
    before = world.stored()
    q = urllib.parse.quote(bad, safe="")
    calls: list[tuple[str, str, Any, bytes | None]] = [
        ("PUT", f"vault/files/{q}", None, b"x"),
        ("PUT", f"vault/files/docs/a.txt?dest={q}", None, None),
        ("PATCH", f"vault/files/docs/a.txt?to={q}", None, None),
        ("POST", "vault/sync/uploads", {"path": bad, "size": 1, "sha256": "0" * 64}, None),
    ]
    if bad:  # the empty path is the root folder (a listing, not a file); the sync routes need a path at all
        calls += [("GET", f"vault/files/{q}", None, None), ("DELETE", f"vault/files/{q}", None, None),
                  ("PUT", f"vault/sync/files/{q}?base=0", None, b"x"),
                  ("DELETE", f"vault/sync/files/{q}?base=0", None, None)]
    for method, path, body, raw in calls:
        e = refused(c.request, method, path, body, raw)
        assert (e.status, e.reason, e.rule) == (400, "HIVE_PATH_INVALID", "HFS-001"), (method, path, e)
    assert world.stored() == before
    assert not (world.tmp / "escape").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.lists(st.sampled_from(["a", "b", "/", ".", "..", "\\", "\x00", "\x1f", "é", " "]), max_size=8).map("".join))
def test_any_path_is_stored_where_named_or_refused_with_its_reason(world, path):
    c = HiveClient(f"http://127.0.0.1:{world.port}")
    c.token = world.__dict__.setdefault("_token", world.client().token)
    q = urllib.parse.quote(path, safe="")
    try:
        c.request("PUT", f"vault/files/{q}", raw=path.encode())
    except HiveError as e:
        assert e.status in (400, 455) and e.reason in ("HIVE_PATH_INVALID", "HIVE_FILE_EXISTS"), e
        if e.reason == "HIVE_PATH_INVALID":
            segs = path.split("/")
            assert (not path or any(s in ("", ".", "..") for s in segs) or "\\" in path
                    or any(ord(ch) < 0x20 for ch in path))
        return
    assert c.download(path) == path.encode()
    meta = c.request("GET", f"vault/files/{q}?comp=metadata")
    assert meta["name"] == path and meta["size"] == len(path.encode())


# -- sizes against the quota ------------------------------------------------------------------------------------


def _incoming(world: World) -> list[str]:
    return [p.name for p in world.vault.store.incoming.iterdir()]


def test_uploads_over_the_quota_are_refused_with_507_and_store_nothing(world):
    c = world.client()
    c.request("PUT", "vault/files/docs/a.txt", raw=b"kept")
    before = world.stored()
    over = bytes(QUOTA)  # with the 4 bytes kept, 4 bytes over
    for call in (lambda: c.request("PUT", "vault/files/big.bin", raw=over),
                 lambda: c.request("PUT", "vault/files/big.bin?public=true", raw=over),
                 lambda: c.write("big.bin", over, 0)):
        e = refused(call)
        assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004"), e
    assert world.stored() == before and _incoming(world) == []
    # a body far over the quota is refused on its declared size, before it is received
    huge = bytes(8 << 20)
    e = refused(c.request, "PUT", "vault/files/huge.bin", raw=huge)
    assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004")
    assert world.stored() == before and _incoming(world) == []
    # the connection carried on: the next call on a new connection works, and replacing a file counts it once
    c.request("PUT", "vault/files/docs/a.txt", raw=bytes(QUOTA))
    e = refused(c.request, "PUT", "vault/files/docs/one-more", raw=b"1")
    assert (e.status, e.reason) == (507, "HIVE_QUOTA_EXCEEDED")
    assert c.request("GET", "vault/files/docs/a.txt?comp=metadata")["size"] == QUOTA


def test_copy_over_the_quota_is_refused(world):
    c = world.client()
    c.request("PUT", "vault/files/half.bin", raw=bytes(QUOTA // 2 + 1))
    before = world.stored()
    e = refused(c.request, "PUT", "vault/files/half.bin?dest=copy.bin")
    assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004")
    assert world.stored() == before


def test_resumable_session_over_the_quota_is_refused_at_start_and_holds_nothing(world):
    c = world.client()
    body = bytes(range(256)) * (QUOTA // 256 + 1)
    before = world.stored()
    e = refused(c.request, "POST", "vault/sync/uploads", {"path": "big.bin", "size": len(body),
                                                          "sha256": hashlib.sha256(body).hexdigest()})
    assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004")  # its declared size is held
    assert world.stored() == before and "big.bin" not in c.manifest()
    half = body[:QUOTA // 2]
    uid = c.request("POST", "vault/sync/uploads", {"path": "half.bin", "size": len(half),
                                                   "sha256": hashlib.sha256(half).hexdigest()})["upload_id"]
    e = refused(c.request, "PUT", f"vault/sync/uploads/{uid}?offset=0", raw=half + b"!")  # longer than declared
    assert (e.status, e.reason, e.rule) == (409, "HIVE_UPLOAD_OFFSET", "HSYNC-003")
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=half)
    e = refused(c.request, "PUT", "vault/files/other.bin", raw=body[:QUOTA // 2 + 1])  # the session holds its half
    assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004")
    c.request("POST", f"vault/sync/uploads/{uid}?base=0")  # the room the session held is its file's
    assert c.download("half.bin") == half


def test_an_expired_session_is_refused_and_gives_back_its_room_and_its_bytes(world, tmp_path):
    c = world.client()
    body = bytes(range(256)) * (QUOTA * 3 // 5 // 256)
    digest = hashlib.sha256(body).hexdigest()
    uid = c.request("POST", "vault/sync/uploads", {"path": "big.bin", "size": len(body), "sha256": digest})["upload_id"]
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body[:1000])
    other = bytes(QUOTA // 2)
    e = refused(c.request, "PUT", "vault/files/other.bin", raw=other)  # the live session holds 3/5 of the quota
    assert (e.status, e.reason, e.rule) == (507, "HIVE_QUOTA_EXCEEDED", "HFS-004")
    partial = world.vault.store.upload_path(uid)
    world.clock[0] += sync.UPLOAD_LIFETIME - 1  # a second before the end: a chunk renews the lifetime
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=1000", raw=body[1000:2000])
    world.clock[0] += sync.UPLOAD_LIFETIME - 1
    assert c.request("GET", f"vault/sync/uploads/{uid}")["received"] == 2000
    e = refused(c.request, "PUT", "vault/files/other.bin", raw=other)
    assert e.reason == "HIVE_QUOTA_EXCEEDED"
    world.clock[0] += 1  # one lifetime after the last chunk: expired
    before = world.stored()
    for call in (("GET", f"vault/sync/uploads/{uid}"), ("POST", f"vault/sync/uploads/{uid}?base=0")):
        e = refused(c.request, *call)
        assert (e.status, e.reason, e.rule) == (410, "HIVE_UPLOAD_EXPIRED", "HSYNC-005")
    e = refused(c.request, "PUT", f"vault/sync/uploads/{uid}?offset=2000", raw=body[2000:3000])
    assert (e.status, e.reason, e.rule) == (410, "HIVE_UPLOAD_EXPIRED", "HSYNC-005")
    assert not partial.exists() and world.stored() == before  # its bytes are gone, nothing stored changed
    c.request("PUT", "vault/files/other.bin", raw=other)  # the room is free again
    c.request("DELETE", "vault/files/other.bin")

    # a session nobody touches again: the housekeeping drops its bytes, and forgets it a lifetime later
    uid2 = c.request("POST", "vault/sync/uploads", {"path": "b2.bin", "size": len(body), "sha256": digest})["upload_id"]
    c.request("PUT", f"vault/sync/uploads/{uid2}?offset=0", raw=body[:500])
    assert world.vault.housekeeping()["uploads"] == 0 and world.vault.store.upload_path(uid2).exists()
    world.clock[0] += sync.UPLOAD_LIFETIME
    assert world.vault.housekeeping()["uploads"] == 1 and not world.vault.store.upload_path(uid2).exists()
    assert refused(c.request, "GET", f"vault/sync/uploads/{uid2}").reason == "HIVE_UPLOAD_EXPIRED"
    world.clock[0] += sync.UPLOAD_LIFETIME
    world.vault.housekeeping()
    assert refused(c.request, "GET", f"vault/sync/uploads/{uid2}").status == 404

    # a sync whose remembered session expired starts a new one and sends the whole body
    source = tmp_path / "big.bin"
    source.write_bytes(body)
    state = {"big.bin": {"upload_id": uid, "upload_sha256": digest}}
    kept: list[str] = []
    version = hc._upload_session(c, state, lambda p, u, h: kept.append(u), "big.bin", source, len(body), digest, 0)
    assert version == 1 and kept and kept[0] != uid and c.download("big.bin") == body


def test_a_session_given_up_frees_its_room_and_its_bytes_at_once(world, tmp_path):
    c = world.client()
    body = bytes(range(256)) * (QUOTA * 3 // 5 // 256)
    old = hashlib.sha256(body).hexdigest()
    uid = c.request("POST", "vault/sync/uploads", {"path": "big.bin", "size": len(body), "sha256": old})["upload_id"]
    c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body[:1000])
    assert refused(c.request, "PUT", "vault/files/x.bin", raw=bytes(QUOTA // 2)).reason == "HIVE_QUOTA_EXCEEDED"
    other = world.client(instance=OTHER, user=OTHER_USER)  # another user's token: not its session
    assert refused(other.request, "DELETE", f"vault/sync/uploads/{uid}").status == 404
    assert world.vault.store.upload_path(uid).exists()

    # the file changed since the session began: the sync client gives the old session up and sends anew
    changed = body[::-1]
    source = tmp_path / "big.bin"
    source.write_bytes(changed)
    state = {"big.bin": {"upload_id": uid, "upload_sha256": old}}
    kept: list[str] = []
    digest = hashlib.sha256(changed).hexdigest()
    assert hc._upload_session(c, state, lambda p, u, h: kept.append(u), "big.bin", source, len(changed), digest, 0) == 1
    assert not world.vault.store.upload_path(uid).exists() and kept[0] != uid
    e = refused(c.request, "GET", f"vault/sync/uploads/{uid}")
    assert (e.status, e.reason) == (404, "HIVE_FILE_NOT_FOUND")
    assert c.cancel_upload(uid) is False  # given up already
    c.request("DELETE", "vault/files/big.bin")
    c.request("PUT", "vault/files/x.bin", raw=bytes(QUOTA // 2))  # no session holds room any more


def test_a_download_that_races_the_last_delete_is_404(world, monkeypatch):
    c = world.client()
    c.request("PUT", "vault/files/a.txt", raw=b"a body")
    download = Vault.download

    def racing(self, caller, path):  # the file is deleted, and its blob collected, between look-up and open
        out = download(self, caller, path)
        self.delete_file(caller, path)
        assert not out.exists()
        return out

    monkeypatch.setattr(Vault, "download", racing)
    e = refused(c.request, "GET", "vault/files/a.txt")
    assert (e.status, e.reason) == (404, "HIVE_FILE_NOT_FOUND")
    monkeypatch.undo()
    assert c.request("GET", "vault/sync/manifest")["manifest"][0]["sha256"] is None  # the delete is a tombstone


# -- filters ------------------------------------------------------------------------------------------------------

BAD_FILTERS: list[Any] = [{"$where": "1"}, {"n": {"$bogus": 1}}, {"$or": 1}, {"$and": []}, {"n": {"$in": 1}},
                          {"n": {"$regex": 5}}, [], "n == 1", 7, {"$or": [{"n": {"$gt": {"$x": 1}}}, 3]}]


@pytest.mark.parametrize("bad", BAD_FILTERS, ids=[json.dumps(b) for b in BAD_FILTERS])
def test_malformed_filters_are_refused_on_every_route(world, bad):
    c = world.client()
    _seed(c)
    before = world.stored()
    calls = [("POST", "vault/db/query", {"collection": "notes", "filter": bad}),
             ("POST", "vault/db/collection/notes?op=count", {"filter": bad}),
             ("PATCH", "vault/db/collection/notes?updateone=false", {"filter": bad, "update": {"$set": {"n": 0}}}),
             ("DELETE", "vault/db/collection/notes?deleteone=false", {"filter": bad}),
             ("GET", f"vault/db/notes?filter={urllib.parse.quote(json.dumps(bad))}", None)]
    for method, path, body in calls:
        e = refused(c.request, method, path, body)
        assert (e.status, e.reason, e.rule) == (400, "HIVE_FILTER_MALFORMED", "HDB-001"), (method, path, e)
    e = refused(c.request, "GET", "vault/db/notes?filter=%7Bnot%20json")
    assert (e.status, e.reason) == (400, "MALFORMED_REQUEST")
    assert world.stored() == before


_json = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["n", "$gt", "$in", "$or"]),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
                         st.sampled_from(["n", "m", "$gt", "$lt", "$in", "$or", "$and", "$not", "$exists", "$x"]),
                         kids, max_size=3), max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(f=_json)
def test_any_filter_is_answered_or_refused_and_a_refused_delete_deletes_nothing(world, f):
    c = HiveClient(f"http://127.0.0.1:{world.port}")
    if "_token" not in world.__dict__:
        seeded = world.client()
        _seed(seeded)
        world.__dict__["_token"] = seeded.token
    c.token = world.__dict__["_token"]
    count = c.request("POST", "vault/db/collection/notes?op=count", {"filter": {}})["count"]
    try:
        n = c.request("POST", "vault/db/collection/notes?op=count", {"filter": f})["count"]
    except HiveError as e:
        if f is None:  # no filter at all: the body is malformed, before any filter rule
            assert (e.status, e.reason) == (400, "MALFORMED_REQUEST"), e
            return
        assert (e.status, e.reason, e.rule) == (400, "HIVE_FILTER_MALFORMED", "HDB-001"), e
        e = refused(c.request, "DELETE", "vault/db/collection/notes?deleteone=false", {"filter": f})
        assert e.reason == "HIVE_FILTER_MALFORMED"
        assert c.request("POST", "vault/db/collection/notes?op=count", {"filter": {}})["count"] == count
        return
    assert 0 <= n <= count
