"""The reference vault over real HTTP on loopback: sign-in with real JWTs, database, files, scripts from
another DID, anonymous script downloads, status codes, persistence across restarts, and `elastos hive serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.did import document
from spec.hive import auth, identity

from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

ALICE, ALICE_APP, BOB, BOB_APP, EVE, EVE_APP = (bytes(30) + bytes([7, i]) for i in range(1, 7))
CHAT_APP = identity.did_of(bytes(30) + bytes([8, 1]))


def _ec_private(key: bytes):
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.derive_private_key(int.from_bytes(key, "big"), ec.SECP256R1())


class Client:
    """A minimal Hive client: the sign-in dance and JSON calls, over urllib."""

    def __init__(self, port: int, documents: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v2/"
        self.documents = documents
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
             token: str | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        tok = token if token is not None else self.token
        if tok:
            req.add_header("Authorization", f"token {tok}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                payload = r.read()
                status = r.status
                ctype = r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            payload, status, ctype = e.read(), e.code, e.headers.get("Content-Type")
        if ctype == "application/json" and payload:
            return status, json.loads(payload)
        return status, payload

    def sign_in(self, instance_key: bytes, user_key: bytes, now: int) -> str:
        inst = identity.did_of(instance_key)
        status, body = self.call("POST", "did/signin", {"id": json.loads(self.documents[inst])})
        assert status == 201, body
        resolve = document.resolver_from_texts(self.documents)
        service_did, nonce = auth.check_challenge(body["challenge"], inst, now=now, resolve=resolve)
        vc = identity.issue_credential(user_key, inst, "app-id-credential", ("AppIdCredential",),
                                       {"appDid": CHAT_APP}, issued=now - 60, expires=now + 30 * 86400)
        vp = identity.create_presentation(instance_key, (vc,), realm=service_did, nonce=nonce, created=now)
        response = auth.make_response(vp, instance_did=inst, key_id=identity.key_id_of(instance_key),
                                      private_key=instance_key, service_did=service_did, now=now)
        status, body = self.call("POST", "did/auth", {"challenge_response": response})
        assert status == 201, body
        self.token = body["token"]
        self.last_response = response
        return self.token


@pytest.fixture(params=["sqlite", "postgres"])
def vault(request, tmp_path):
    """A vault on loopback, its store on SQLite or on a real PostgreSQL server (the same statements)."""
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
            for k in (ALICE, ALICE_APP, BOB, BOB_APP, EVE, EVE_APP)}
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    store = HiveStore(tmp_path / "vault", dsn)
    v = Vault(store, load_service_key(tmp_path / "vault"), quota=10_000)
    for text in docs.values():
        v.add_document(text)
    docs[v.service.did] = store.documents()[v.service.did]
    server = HiveServer(v, 0).start()
    yield server, v, docs, tmp_path, dsn
    server.stop()
    store.close()


def test_sign_in_issues_a_real_access_token(vault):
    server, v, docs, _, _ = vault
    c = Client(server.port, docs)
    token = c.sign_in(ALICE_APP, ALICE, int(time.time()))
    from cryptography.hazmat.primitives.asymmetric import ec
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), v.service.public_key)
    claims = pyjwt.decode(token, pub, algorithms=["ES256"], audience=identity.did_of(ALICE_APP))
    assert claims["sub"] == "AccessToken" and claims["iss"] == v.service.did
    assert json.loads(claims["props"])["userDid"] == identity.did_of(ALICE)
    # the response cannot be replayed
    status, body = c.call("POST", "did/auth", {"challenge_response": c.last_response})
    assert status == 401 and body["error"]["reason"] == "HIVE_CHALLENGE_UNKNOWN"
    # no token, a garbled one, a forged one
    assert c.call("GET", "vault/db/collections", token="")[0] == 401
    status, body = c.call("GET", "vault/db/collections", token=token[:-4] + "AAAA")
    assert status == 401 and body["error"]["reason"] in ("HIVE_TOKEN_ISSUER", "HIVE_JWT_MALFORMED")
    claims_forged = dict(claims, props=claims["props"].replace(identity.did_of(ALICE), identity.did_of(BOB)))
    forged = pyjwt.encode(claims_forged, _ec_private(ALICE), algorithm="ES256", headers={"kid": v.service.key_id})
    status, body = c.call("GET", "vault/db/collections", token=forged)
    assert status == 401 and body["error"]["reason"] == "HIVE_TOKEN_ISSUER"
    status, body = c.call("GET", "vault/db/collections")
    assert status == 200 and body == {"collections": []}


def test_database_calls(vault):
    server, _, docs, _, dsn = vault
    c = Client(server.port, docs)
    c.sign_in(ALICE_APP, ALICE, int(time.time()))
    assert c.call("PUT", "vault/db/collections/notes")[0] == 200
    assert c.call("PUT", "vault/db/collections/notes")[0] == 455
    status, body = c.call("POST", "vault/db/collection/notes",
                          {"document": [{"t": "a", "n": 1}, {"t": "b", "n": 2}, {"t": "c", "n": 3}],
                           "options": {"timestamp": True}})
    assert status == 201 and len(body["inserted_ids"]) == 3
    f = urllib.parse.quote(json.dumps({"n": {"$gte": 2}}))
    status, body = c.call("GET", f"vault/db/notes?filter={f}&limit=1")
    assert status == 200 and [d["t"] for d in body["items"]] == ["b"] and "created" in body["items"][0]
    status, body = c.call("PATCH", "vault/db/collection/notes?updateone=true",
                          {"filter": {"t": "a"}, "update": {"$set": {"t": "A"}}})
    assert status == 200 and body["modified_count"] == 1
    assert c.call("POST", "vault/db/collection/notes?op=count", {"filter": {"t": "A"}})[1] == {"count": 1}
    status, body = c.call("DELETE", "vault/db/collection/notes?deleteone=false", {"filter": {"n": {"$lt": 3}}})
    assert status == 200 and body == {"deleted_count": 2}
    status, body = c.call("POST", "vault/db/query", {"collection": "notes", "filter": {"$where": "1"}})
    assert status == 400 and body["error"]["reason"] == "HIVE_FILTER_MALFORMED" and body["error"]["rule"] == "HDB-001"
    assert c.call("GET", "vault/db/nothing")[0] == 404
    # another app of the same user sees its own, empty partition
    other = Client(server.port, docs)
    other.sign_in(BOB_APP, BOB, int(time.time()))
    assert other.call("GET", "vault/db/collections")[1] == {"collections": []}
    if dsn is not None:  # the documents really live in PostgreSQL, as JSONB
        import psycopg
        with psycopg.connect(dsn) as con:
            assert con.execute("SELECT DISTINCT pg_typeof(body)::text FROM documents").fetchall() == [("jsonb",)]
            assert con.execute("SELECT count(*) FROM documents").fetchone() == (1,)


def test_file_calls(vault):
    server, _, docs, _, _ = vault
    c = Client(server.port, docs)
    c.sign_in(ALICE_APP, ALICE, int(time.time()))
    status, body = c.call("PUT", "vault/files/docs/hello.txt?public=true", raw=b"hello world\n")
    assert status == 200 and body == {"name": "docs/hello.txt", "cid": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"}
    assert c.call("GET", "vault/files/docs/hello.txt") == (200, b"hello world\n")
    assert c.call("GET", "vault/files/docs/hello.txt?comp=hash")[1]["hash"] == \
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
    assert c.call("PUT", "vault/files/docs/hello.txt?dest=copy.txt")[0] == 201
    assert c.call("PUT", "vault/files/docs/hello.txt?dest=copy.txt")[0] == 455
    assert c.call("PATCH", "vault/files/copy.txt?to=moved/copy.txt")[0] == 200
    status, body = c.call("GET", "vault/files/?comp=children")
    assert status == 200 and [x["name"] for x in body["value"]] == ["docs", "moved"]
    assert c.call("DELETE", "vault/files/moved/copy.txt")[0] == 204
    assert c.call("GET", "vault/files/moved/copy.txt")[0] == 404
    status, body = c.call("PUT", "vault/files/..%2Fescape", raw=b"x")
    assert status == 400 and body["error"]["reason"] == "HIVE_PATH_INVALID"
    status, body = c.call("PUT", "vault/files/big.bin", raw=bytes(10_000))
    assert status == 507 and body["error"]["reason"] == "HIVE_QUOTA_EXCEEDED"
    # a refused upload leaves the vault as it was
    assert c.call("GET", "vault/files/big.bin")[0] == 404


def test_script_called_by_another_did_and_anonymously(vault):
    server, _, docs, _, _ = vault
    alice = Client(server.port, docs)
    alice.sign_in(ALICE_APP, ALICE, int(time.time()))
    alice.call("PUT", "vault/db/collections/friends")
    alice.call("PUT", "vault/db/collections/wall")
    alice.call("POST", "vault/db/collection/friends", {"document": [{"did": identity.did_of(BOB)}]})
    alice.call("POST", "vault/db/collection/wall", {"document": [{"text": "welcome"}]})
    status, _ = alice.call("PUT", "vault/scripting/read_wall", {
        "condition": {"name": "friend", "type": "queryHasResult",
                      "body": {"collection": "friends", "filter": {"did": "$caller_did"}}},
        "executable": {"name": "wall", "type": "aggregated", "body": [
            {"name": "sign", "type": "insert", "output": False,
             "body": {"collection": "wall", "document": {"text": "$params.text", "by": "$caller_did"}}},
            {"name": "wall", "type": "find", "body": {"collection": "wall", "filter": {}}}]}})
    assert status == 200
    alice.call("PUT", "vault/files/public/avatar.png?public=true", raw=b"\x89PNG-avatar")
    assert alice.call("PUT", "vault/scripting/avatar", {
        "allowAnonymousUser": True, "allowAnonymousApp": True,
        "executable": {"name": "avatar", "type": "fileDownload", "body": {"path": "public/avatar.png"}}})[0] == 200
    assert alice.call("PUT", "vault/scripting/bad", {"executable": {"name": "x", "type": "exec", "body": {}}})[0] == 400

    ctx = {"target_did": identity.did_of(ALICE), "target_app_did": CHAT_APP}
    bob = Client(server.port, docs)
    bob.sign_in(BOB_APP, BOB, int(time.time()))
    status, body = bob.call("PATCH", "vault/scripting/read_wall", {"context": ctx, "params": {"text": "hi alice"}})
    assert status == 200, body
    assert [(d["text"], d.get("by")) for d in body["wall"]["items"]] == [("welcome", None),
                                                                        ("hi alice", identity.did_of(BOB))]
    eve = Client(server.port, docs)
    eve.sign_in(EVE_APP, EVE, int(time.time()))
    status, body = eve.call("PATCH", "vault/scripting/read_wall", {"context": ctx, "params": {"text": "x"}})
    assert status == 403 and body["error"]["reason"] == "HIVE_SCRIPT_CONDITION"
    anon = Client(server.port, docs)
    status, body = anon.call("PATCH", "vault/scripting/read_wall", {"context": ctx, "params": {"text": "x"}})
    assert status == 403 and body["error"]["rule"] == "HACL-002"
    status, body = anon.call("PATCH", "vault/scripting/avatar", {"context": ctx, "params": {}})
    assert status == 200
    tid = body["avatar"]["transaction_id"]
    assert anon.call("GET", f"vault/scripting/stream/{tid}") == (200, b"\x89PNG-avatar")
    assert anon.call("GET", f"vault/scripting/stream/{tid}")[0] == 404  # a transaction is used once
    # Bob's own partition was never touched
    assert bob.call("GET", "vault/db/collections")[1] == {"collections": []}


def test_data_survives_a_restart(vault):
    server, v, docs, tmp, dsn = vault
    c = Client(server.port, docs)
    c.sign_in(ALICE_APP, ALICE, int(time.time()))
    c.call("PUT", "vault/db/collections/keep")
    c.call("POST", "vault/db/collection/keep", {"document": [{"k": 1}]})
    c.call("PUT", "vault/files/a.txt", raw=b"persist")
    server.stop()
    v.store.close()
    store = HiveStore(tmp / "vault", dsn)
    v2 = Vault(store, load_service_key(tmp / "vault"), quota=10_000)
    assert v2.service.did == v.service.did
    s2 = HiveServer(v2, 0).start()
    try:
        c2 = Client(s2.port, docs)
        c2.token = c.token  # the token is still valid: same service key
        assert c2.call("GET", "vault/files/a.txt") == (200, b"persist")
        assert [d["k"] for d in c2.call("GET", "vault/db/keep")[1]["items"]] == [1]
    finally:
        s2.stop()
        store.close()


@pytest.mark.slow
def test_elastos_hive_serve(tmp_path):
    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
            for k in (ALICE, ALICE_APP)}
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(docs.values()):
        (folder / f"{i}.json").write_text(text)
    proc, fields = _serve(tmp_path / "vault", "--documents", str(folder))
    try:
        store = HiveStore(tmp_path / "vault")
        docs[fields["did"]] = store.documents()[fields["did"]]
        store.close()
        c = Client(int(fields["port"]), docs)
        assert c.call("GET", "node/version")[0] == 200
        c.sign_in(ALICE_APP, ALICE, now)
        assert c.call("PUT", "vault/db/collections/x")[0] == 200
        assert c.call("GET", "vault/db/collections")[1] == {"collections": [{"name": "x"}]}
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def _serve(datadir: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``elastos hive serve --datadir DATADIR ARGS`` as a process, once it has said it is ready: the process
    and the fields of its ready line (``port``, ``did``, ...)."""
    proc = subprocess.Popen([sys.executable, "-m", "reference.cli", "hive", "serve", "--datadir", str(datadir), *args],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready port="):
        proc.kill()
        raise AssertionError(f"the vault did not start: {line!r}")
    return proc, dict(kv.split("=", 1) for kv in line.split()[1:])


@pytest.mark.slow
def test_elastos_hive_serve_housekeeping_interval(tmp_path):
    """``--housekeeping-interval S``: a serving vault sweeps every S seconds. A stray blob (what a vault killed
    between a commit and its unlink leaves) put in place after the start-up sweep is gone within a few rounds;
    with the default interval (600 s) it would stay for ten minutes."""
    import hashlib

    proc, _ = _serve(tmp_path / "vault", "--housekeeping-interval", "0.2")
    try:
        digest = hashlib.sha256(b"a stray body").hexdigest()
        stray = tmp_path / "vault" / "blobs" / digest[:2] / digest
        stray.parent.mkdir(exist_ok=True)
        stray.write_bytes(b"a stray body")
        end = time.monotonic() + 20
        while stray.exists():
            assert time.monotonic() < end, "the housekeeping never ran"
            time.sleep(0.05)
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "soon"])
def test_elastos_hive_serve_refuses_a_housekeeping_interval_that_is_not_positive(bad, tmp_path, capsys):
    from reference.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["hive", "serve", "--datadir", str(tmp_path), "--housekeeping-interval", bad])
    assert info.value.code == 2 and "--housekeeping-interval" in capsys.readouterr().err
    args = build_parser().parse_args(["hive", "serve", "--datadir", str(tmp_path), "--housekeeping-interval", "2.5"])
    assert args.housekeeping_interval == 2.5


@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                       st.text(max_size=8)))
def test_the_housekeeping_interval_is_exactly_the_positive_finite_numbers(value):
    """Generated values: the parser takes a positive finite number of seconds as that number and refuses
    anything else (zero, negative, NaN, infinite, not a number) with a usage error (exit 2)."""
    import contextlib
    import io
    import math

    from reference.cli import build_parser

    text = str(value)
    try:
        number = float(text)
    except ValueError:
        number = None
    ok = number is not None and math.isfinite(number) and number > 0
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            args = build_parser().parse_args(["hive", "serve", "--datadir", "d", "--housekeeping-interval", text])
        except SystemExit as e:
            assert not ok and e.code == 2, text
            return
    assert ok and args.housekeeping_interval == number, text


def test_sign_in_resolves_the_user_on_the_id_chain(tmp_path):
    """The vault holds no document of the user: it resolves the credential's issuer on a reference
    ID-chain service, where the user's DID was published; without the chain, sign-in is refused."""
    from spec.did import request as R
    from spec.did.syntax import parse_did_url

    from reference.idchain.rpc import RpcServer
    from reference.idchain.service import IdChainService
    from reference.node.rpc import RpcClient

    now = int(time.time())
    docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
            for k in (ALICE, ALICE_APP)}
    chain_service = IdChainService(tmp_path / "idchain")
    rpc = RpcServer(chain_service, 0).start()
    url = f"http://127.0.0.1:{rpc.port}"
    create = R.build_request("create", docs[identity.did_of(ALICE)], parse_did_url(identity.key_id_of(ALICE)), ALICE)
    RpcClient(url).call("did_publishRequest", request=R.serialize(create))
    servers = []
    try:
        for name, chain_url in (("with", url), ("without", None)):
            store = HiveStore(tmp_path / name)
            v = Vault(store, load_service_key(tmp_path / name), quota=10_000, idchain=chain_url)
            server = HiveServer(v, 0).start()
            servers.append((server, store))
            c = Client(server.port, {**docs, v.service.did: store.documents()[v.service.did]})
            if chain_url is not None:
                c.sign_in(ALICE_APP, ALICE, now)
                assert c.call("GET", "vault/db/collections")[0] == 200
            else:
                with pytest.raises(AssertionError) as info:
                    c.sign_in(ALICE_APP, ALICE, now)
                assert "HIVE_PRESENTATION_INVALID" in str(info.value)
    finally:
        for server, store in servers:
            server.stop()
            store.close()
        rpc.stop()
        chain_service.close()
