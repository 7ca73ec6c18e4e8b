"""An adversarial audit of the reference vault over raw HTTP on loopback: malformed framing, bodies and
parameters a hostile client or a faulty network can send. Every request gets a typed answer (never a 500,
never a dropped connection without a reply), and nothing already stored changes."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.hive import access, identity

from reference.hive.client import HiveClient
from reference.hive.server import MAX_JSON_DEPTH, HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

USER, PHONE = (bytes(30) + bytes([12, i]) for i in (1, 2))
APP = identity.did_of(bytes(30) + bytes([12, 9]))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Vaulted:
    """A vault on loopback with one signed-in client and something stored."""

    def __init__(self, folder: Path, quota: int = 1 << 24, dsn: str | None = None) -> None:
        now = int(time.time())
        docs = {identity.did_of(k): identity.primitive_document(k, created=now - 3600, expires=now + 86400 * 365)
                for k in (USER, PHONE)}
        self.store = HiveStore(folder, dsn)
        self.vault = Vault(self.store, load_service_key(folder), quota=quota)
        for text in docs.values():
            self.vault.add_document(text)
        docs[self.vault.service.did] = self.store.documents()[self.vault.service.did]
        self.server = HiveServer(self.vault, 0).start()
        self.port = self.server.port
        self.client = HiveClient(f"http://127.0.0.1:{self.port}")
        cred = identity.issue_credential(USER, identity.did_of(PHONE), "app-id-credential", ("AppIdCredential",),
                                         {"appDid": APP}, issued=now - 60, expires=now + 30 * 86400)
        self.client.sign_in(PHONE, cred, now=now, documents=docs)
        self.client.request("PUT", "vault/db/collections/notes")
        self.client.request("POST", "vault/db/collection/notes", {"document": [{"n": 1}, {"n": 2}]})
        self.client.request("PUT", "vault/files/docs/a.txt", raw=b"kept")

    def stored(self) -> Any:
        part = access.database_name(identity.did_of(USER), APP)
        with self.store.transaction() as con:
            return (self.store.load_files(con, part), self.store.load_database(con, part),
                    self.store.load_manifest(con, part))

    def raw(self, method: str, path: str, headers: list[bytes] = (), body: bytes = b"", *,
            length: bool = True, as_json: bool = True) -> tuple[int, Any]:
        """One request on its own connection (``Connection: close``): the status and the decoded answer.
        A connection closed without a status line is a failure of the test."""
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Authorization: token {self.client.token}\r\n").encode()
        if length:
            head += f"Content-Length: {len(body)}\r\n".encode()
        head += b"".join(h + b"\r\n" for h in headers)
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(head + b"\r\n" + body)
            data = b""
            while chunk := s.recv(1 << 16):
                data += chunk
        assert data.startswith(b"HTTP/1."), f"no reply: {data[:100]!r}"
        status_line, _, rest = data.partition(b"\r\n")
        _, _, payload = rest.partition(b"\r\n\r\n")
        try:
            return int(status_line.split()[1]), json.loads(payload) if as_json else payload
        except ValueError:
            return int(status_line.split()[1]), payload

    def close(self) -> None:
        self.server.stop()
        self.store.close()


@pytest.fixture
def vaulted(tmp_path):
    v = Vaulted(tmp_path / "vault")
    yield v
    v.close()


@pytest.fixture(params=["sqlite", "postgres"])
def vaulted_both(request, tmp_path):
    """The vault on SQLite and on PostgreSQL (documents as JSONB there)."""
    dsn = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    v = Vaulted(tmp_path / "vault", dsn=dsn)
    yield v
    v.close()


def _refused(status: int, answer: Any, want_status: int, reason: str) -> None:
    assert status == want_status, answer
    assert isinstance(answer, dict) and answer["error"]["reason"] == reason, answer


# -- framing ---------------------------------------------------------------------------------------------------


@SETTINGS
@given(value=st.text(st.characters(codec="latin-1"), min_size=1, max_size=8).filter(
    lambda s: not (s.isascii() and s.strip().isdigit()) and s == s.strip() and "\r" not in s and "\n" not in s))
@example(value="\u00b2")  # superscript two: str.isdigit() holds, int() refuses it
@example(value="-1")
def test_a_content_length_that_is_not_ascii_digits_is_400_with_a_reply(vaulted, value):
    before = vaulted.stored()
    status, answer = vaulted.raw("PUT", "/api/v2/vault/files/docs/a.txt", [b"Content-Length: " + value.encode("latin-1")],
                                 length=False)
    _refused(status, answer, 400, "MALFORMED_REQUEST")
    assert vaulted.stored() == before


@SETTINGS
@given(key=st.sampled_from(["skip", "limit"]), value=st.text(min_size=1, max_size=4).filter(
    lambda s: not (s.isascii() and s.isdigit())))
@example(key="skip", value="\u00b2")
@example(key="limit", value="\u0663")  # ARABIC-INDIC DIGIT THREE: int() reads it as 3
def test_a_numeric_query_parameter_that_is_not_ascii_digits_is_400(vaulted, key, value):
    from urllib.parse import quote
    for path in (f"/api/v2/vault/db/notes?{key}={quote(value)}",
                 f"/api/v2/vault/sync/files/docs/a.txt?base={quote(value)}",
                 f"/api/v2/vault/sync/uploads/00?offset={quote(value)}"):
        status, answer = vaulted.raw("PUT" if "sync" in path else "GET", path)
        _refused(status, answer, 400, "MALFORMED_REQUEST")


def test_two_different_content_lengths_are_refused(vaulted):
    before = vaulted.stored()
    status, answer = vaulted.raw("PUT", "/api/v2/vault/files/docs/a.txt", [b"Content-Length: 3", b"Content-Length: 5"],
                                 b"abcde", length=False)
    _refused(status, answer, 400, "MALFORMED_REQUEST")
    assert vaulted.stored() == before
    assert vaulted.client.download("docs/a.txt") == b"kept"


@pytest.mark.parametrize("coding", [b"chunked", b"gzip, chunked", b"identity"])
def test_a_transfer_coded_body_is_refused_not_stored_empty(vaulted, coding):
    before = vaulted.stored()
    status, answer = vaulted.raw("PUT", "/api/v2/vault/files/docs/a.txt", [b"Transfer-Encoding: " + coding],
                                 b"5\r\nhello\r\n0\r\n\r\n", length=False)
    _refused(status, answer, 411, "MALFORMED_REQUEST")
    assert vaulted.stored() == before
    assert vaulted.client.download("docs/a.txt") == b"kept"


# -- JSON bodies -----------------------------------------------------------------------------------------------

_BODY_ROUTES = [("POST", "/api/v2/vault/db/collection/notes", "document"),
                ("POST", "/api/v2/vault/db/collection/notes?op=count", "filter"),
                ("PATCH", "/api/v2/vault/db/collection/notes", "filter"),
                ("DELETE", "/api/v2/vault/db/collection/notes?deleteone=false", "filter"),
                ("POST", "/api/v2/vault/db/query", "filter"),
                ("PUT", "/api/v2/vault/scripting/s", "executable"),
                ("POST", "/api/v2/did/signin", "id"),
                ("POST", "/api/v2/did/auth", "challenge_response"),
                ("POST", "/api/v2/vault/sync/uploads", "path")]


@SETTINGS
@given(route=st.sampled_from(_BODY_ROUTES), depth=st.integers(MAX_JSON_DEPTH, 5000), bracket=st.sampled_from(["[]", "{}"]))
def test_a_json_body_nested_too_deep_is_400(vaulted, route, depth, bracket):
    method, path, member = route
    before = vaulted.stored()
    inner = ('{"a":' * depth + "1" + "}" * depth) if bracket == "{}" else ("[" * depth + "]" * depth)
    status, answer = vaulted.raw(method, path, body=f'{{"{member}": {inner}, "collection": "notes"}}'.encode())
    _refused(status, answer, 400, "MALFORMED_REQUEST")
    status, answer = vaulted.raw("GET", "/api/v2/vault/db/notes?filter=" + "%5B" * (depth + 1) + "%5D" * (depth + 1))
    _refused(status, answer, 400, "MALFORMED_REQUEST")
    assert vaulted.stored() == before


@SETTINGS
@given(route=st.sampled_from(_BODY_ROUTES), token=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]))
def test_a_json_body_with_a_number_json_cannot_carry_is_400(vaulted_both, route, token):
    method, path, member = route
    v = vaulted_both
    before = v.stored()
    body = {"document": f'[{{"x": {token}}}]', "filter": f'{{"n": {token}}}'}.get(member, token)
    status, answer = v.raw(method, path, body=f'{{"{member}": {body}, "collection": "notes"}}'.encode())
    _refused(status, answer, 400, "MALFORMED_REQUEST")
    assert v.stored() == before


def test_documents_nested_up_to_the_bound_are_stored_and_found(vaulted_both):
    v = vaulted_both
    deep: Any = 1
    for _ in range(99):  # the document is level 1, "d" and 98 more objects: 100 levels
        deep = {"k": deep}
    v.client.request("POST", "vault/db/collection/notes", {"document": [{"d": deep}]})
    items = v.client.request("POST", "vault/db/query", {"collection": "notes", "filter": {"d": deep}})["items"]
    assert [i["d"] for i in items] == [deep]


def _typed(v: Any) -> Any:
    """``v`` with every scalar tagged by its type (``1`` and ``1.0`` differ); object member order ignored."""
    if isinstance(v, dict):
        return {k: _typed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_typed(x) for x in v]
    return type(v).__name__, v


_STORED = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 0),
    st.sampled_from([1e16, 1e22, -1e300, 1.7976931348623157e308, 5e-324, 2.5e-05, 123.0, 2**63 - 1, -(2**63)]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=4))  # U+0000: HDB-008


@SETTINGS
@given(values=st.lists(_STORED, min_size=1, max_size=6))
@example(values=[1e16, 1e308, 12345678901234567890.0])
def test_a_stored_number_reads_back_as_itself_on_both_stores(vaulted_both, values):
    """JSONB writes a number as an exact decimal, an integral one without a point: a float such as 1e+308 had
    read back from PostgreSQL as the integer 10**308, another number of another type."""
    v = vaulted_both
    doc = {f"v{i}": x for i, x in enumerate(values)}
    v.client.request("POST", "vault/db/collection/notes", {"document": [doc]})
    found = v.client.request("POST", "vault/db/query", {"collection": "notes", "filter": {"v0": values[0]}})["items"]
    assert [_typed({k: d[k] for k in doc}) for d in found] == [_typed(doc)]
    v.client.request("DELETE", "vault/db/collection/notes?deleteone=false", {"filter": {"v0": values[0]}})


_UNSTORABLE = [('{"n": 9223372036854775808}', "integer"), ('{"n": -9223372036854775809}', "integer"),
               ('{"s": "a\\udcff"}', "lone surrogate"), ('{"\\ud800": 1}', "lone surrogate"),
               ('{"s": "a\\u0000"}', "U+0000"), ('{"k\\u0000": 1}', "U+0000"),
               ('{"d": ' + '{"k": ' * 100 + "1" + "}" * 100 + "}", "nested deeper")]


@pytest.mark.parametrize("document,fault", _UNSTORABLE)
def test_a_document_no_store_can_hold_is_refused_alike_on_both(vaulted_both, document, fault):
    """A value outside HDB-008 was stored on SQLite and failed with a 500 on PostgreSQL (a lone surrogate), or
    was stored on both (a 30-digit integer): now both refuse it, and keep what they had."""
    v = vaulted_both
    before = v.stored()
    status, answer = v.raw("POST", "/api/v2/vault/db/collection/notes", body=f'{{"document": [{document}]}}'.encode())
    assert (status, answer["error"]["rule"]) == (400, "HDB-008") and fault in answer["error"]["message"], answer
    assert v.stored() == before


@pytest.mark.parametrize("update,fault", [({"$inc": {"n": 2**63 - 1}}, "64-bit"), ({"$set": {"n": 1e308}}, None)])
def test_an_update_past_the_bounds_is_refused_and_changes_nothing(vaulted_both, update, fault):
    v = vaulted_both
    if fault is None:  # 1e308, then 1e308 more: infinity
        v.client.request("PATCH", "vault/db/collection/notes", {"filter": {"n": 1}, "update": update})
        update, fault = {"$inc": {"n": 1e308}}, "not finite"
    before = v.stored()
    status, answer = v.raw("PATCH", "/api/v2/vault/db/collection/notes",
                           body=json.dumps({"filter": {}, "update": update}).encode())
    assert (status, answer["error"]["rule"]) == (400, "HDB-008") and fault in answer["error"]["message"], answer
    assert v.stored() == before


@pytest.mark.parametrize("levels,status", [(100, 200), (101, 400)])
def test_a_filter_past_100_levels_is_refused_by_the_spec_rule(vaulted, levels, status):
    f: Any = 1
    for _ in range(levels):  # the filter object is level 1
        f = {"k": f}
    got, answer = vaulted.raw("POST", "/api/v2/vault/db/query", body=json.dumps({"collection": "notes",
                                                                                  "filter": f}).encode())
    assert got == status, answer
    if status == 400:
        assert (answer["error"]["reason"], answer["error"]["rule"]) == ("HIVE_FILTER_MALFORMED", "HDB-001"), answer


def test_script_names_of_different_bytes_are_different_or_refused(vaulted):
    """``%ff`` and ``%fe`` had both decoded to U+FFFD: two URLs named one script. Bytes that are not UTF-8
    are now refused (HSCR-001); a name of real non-ASCII characters is kept as itself."""
    definition = json.dumps({"executable": {"name": "f", "type": "find", "body": {"collection": "notes"}}}).encode()
    for name in ("a%ff", "a%fe", "a%ef%bf%bd%ff"):
        status, answer = vaulted.raw("PUT", f"/api/v2/vault/scripting/{name}", body=definition)
        assert (status, answer["error"]["rule"]) == (400, "HSCR-001"), answer
    assert vaulted.raw("PUT", "/api/v2/vault/scripting/a%ef%bf%bd", body=definition)[0] == 200  # U+FFFD itself
    status, answer = vaulted.raw("PATCH", "/api/v2/vault/scripting/a%ff",
                                 body=b'{"context": {"target_did": "x", "target_app_did": "y"}, "params": {}}')
    assert status in (400, 404) and answer["error"]["reason"] != "INTERNAL_ERROR", answer


_ANY_KEY = st.sampled_from(["a", "n", "_id", "$set", "$inc", "$gt", "$in", "$or", "a.b", "", "\udcff", "k\x00"])
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
    | st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**40, 1e308, -0.0, "\udcff", "$caller_did", "$params.p"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ANY_KEY, inner, max_size=3), max_leaves=8)


def _requests(x: Any) -> list[tuple[str, str, Any]]:
    """Requests of every JSON route with ``x`` where a member, a filter, an update, a document or a parameter
    goes."""
    exe = {"name": "f", "type": "insert", "body": {"collection": "notes", "document": {"v": "$params.p"}}}
    return [("POST", "/api/v2/vault/db/collection/notes", {"document": [x]}),
            ("POST", "/api/v2/vault/db/collection/notes", {"document": x}),
            ("PATCH", "/api/v2/vault/db/collection/notes", {"filter": {}, "update": {"$set": {"v": x}}}),
            ("PATCH", "/api/v2/vault/db/collection/notes", {"filter": {}, "update": {"$inc": {"n": x}}}),
            ("PATCH", "/api/v2/vault/db/collection/notes", {"filter": x, "update": x, "options": x}),
            ("POST", "/api/v2/vault/db/query", {"collection": "notes", "filter": x, "options": x}),
            ("POST", "/api/v2/vault/db/collection/notes?op=count", {"filter": x}),
            ("DELETE", "/api/v2/vault/db/collection/notes?deleteone=true", {"filter": x}),
            ("PUT", "/api/v2/vault/scripting/s", {"executable": x}),
            ("PUT", "/api/v2/vault/scripting/s", {"executable": exe, "condition": x}),
            ("PATCH", "/api/v2/vault/scripting/ins", {"context": {"target_did": identity.did_of(USER),
                                                                  "target_app_did": APP}, "params": {"p": x}}),
            ("PATCH", "/api/v2/vault/scripting/ins", {"context": x, "params": x}),
            ("POST", "/api/v2/vault/sync/uploads", {"path": x, "size": x, "sha256": x}),
            ("POST", "/api/v2/vault/sync/uploads", x)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=_ANY_JSON)
@example(x=10**40)
@example(x="\udcff")
@example(x={"\udcff": 1})
@example(x={"k\x00": None})  # JSONB cannot hold U+0000: this was a 500 on PostgreSQL
def test_any_json_anywhere_gets_a_typed_answer_and_a_refusal_changes_nothing(vaulted_both, x):
    """Every JSON route, on both stores, with any JSON value where a member, filter, update, document or
    script parameter goes: never a 500 (a store that refuses what the other took was one), and a refused
    request leaves everything as it was."""
    v = vaulted_both
    exe = {"name": "f", "type": "insert", "body": {"collection": "notes", "document": {"v": "$params.p"}}}
    v.client.request("PUT", "vault/scripting/ins", {"executable": exe, "allowAnonymousUser": True,
                                                     "allowAnonymousApp": True})
    for method, path, body in _requests(x):
        before = v.stored()
        status, answer = v.raw(method, path, body=json.dumps(body).encode())
        assert status < 500, (method, path, body, answer)
        if status >= 400:
            assert isinstance(answer, dict) and answer["error"]["reason"], answer
            assert v.stored() == before, (method, path, body)


# -- tokens ----------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@SETTINGS
@given(part=st.sampled_from([0, 1]), depth=st.integers(5000, 19000), bracket=st.sampled_from(["[]", '{"a":}']))
def test_a_jwt_whose_json_is_nested_too_deep_is_malformed(vaulted, part, depth, bracket):
    before = vaulted.stored()
    opening, closing = (bracket[:-1], bracket[-1]) if bracket != "[]" else ("[", "]")
    deep = (opening * depth + ("1" if bracket != "[]" else "") + closing * depth).encode()
    parts = [_b64(b'{"alg":"ES256"}'), _b64(b"{}"), _b64(bytes(64))]
    parts[part] = _b64(deep)
    token = ".".join(parts)
    status, answer = vaulted.raw("POST", "/api/v2/did/auth", body=json.dumps({"challenge_response": token}).encode())
    _refused(status, answer, 401, "HIVE_JWT_MALFORMED")
    if len(token) < 60000:  # the header line's limit
        good, vaulted.client.token = vaulted.client.token, token
        status, answer = vaulted.raw("GET", "/api/v2/vault/db/collections")
        vaulted.client.token = good
        _refused(status, answer, 401, "HIVE_JWT_MALFORMED")
    assert vaulted.stored() == before


# -- paths -----------------------------------------------------------------------------------------------------


@SETTINGS
@given(name=st.binary(min_size=1, max_size=12))
@example(name=b"/")
@example(name=b"a/b")
@example(name=b"\xff")
def test_a_path_of_any_bytes_is_stored_under_exactly_those_bytes_or_refused(vaulted, name):
    """A path is UTF-8 (HFS-001): bytes that are not (``%ff``, an encoded surrogate) are refused, not replaced
    by U+FFFD, which made ``a%ff`` and ``a%fe`` one file."""
    from urllib.parse import quote_from_bytes
    before = vaulted.stored()
    url = "/api/v2/vault/files/new/" + quote_from_bytes(name, safe="")
    status, answer = vaulted.raw("PUT", url, body=name)
    try:
        text = name.decode("utf-8")
        valid = (all(0x20 <= ord(c) != 0x7F for c in text) and "\\" not in text
                 and all(seg not in ("", ".", "..") for seg in text.split("/")))
    except UnicodeDecodeError:
        valid = False
    if not valid:
        _refused(status, answer, 400, "HIVE_PATH_INVALID")
        assert vaulted.stored() == before
        return
    assert status == 200, answer
    assert vaulted.raw("GET", url, as_json=False) == (200, name)
    status, answer = vaulted.raw("DELETE", url)
    assert status == 204
    assert vaulted.stored()[0] == before[0]


@pytest.mark.parametrize("bad", ["\ud800", "a/\udfff", "\udc80x"])
def test_a_path_with_a_lone_surrogate_is_refused_on_every_route(vaulted, bad):
    before = vaulted.stored()
    status, answer = vaulted.raw("POST", "/api/v2/vault/sync/uploads",
                                 body=json.dumps({"path": bad, "size": 1, "sha256": "00" * 32}).encode())
    _refused(status, answer, 400, "HIVE_PATH_INVALID")
    for query in ("dest", "to"):  # an encoded surrogate (ED A0 80) in a destination
        status, answer = vaulted.raw("PUT" if query == "dest" else "PATCH",
                                     f"/api/v2/vault/files/docs/a.txt?{query}=x%ED%A0%80")
        _refused(status, answer, 400, "HIVE_PATH_INVALID")
    vaulted.client.request("PUT", "vault/scripting/up", {
        "executable": {"name": "e", "type": "fileUpload", "body": {"path": "$params.p"}},
        "allowAnonymousUser": True, "allowAnonymousApp": True})
    status, answer = vaulted.raw("PATCH", "/api/v2/vault/scripting/up", body=json.dumps(
        {"context": {"target_did": identity.did_of(USER), "target_app_did": APP}, "params": {"p": bad}}).encode())
    _refused(status, answer, 400, "HIVE_PATH_INVALID")
    assert vaulted.stored() == before


def test_a_raw_non_ascii_request_target_is_400_not_read_as_latin_1(vaulted):
    """Sent raw, the byte E9 was read as U+00E9 (the request line is Latin-1), the same file as ``%C3%A9``."""
    before = vaulted.stored()
    with socket.create_connection(("127.0.0.1", vaulted.port), timeout=10) as s:
        s.sendall(b"PUT /api/v2/vault/files/\xe9 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"Authorization: token " + (vaulted.client.token or "").encode() + b"\r\nContent-Length: 1\r\n\r\nx")
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400"), data[:200]
    assert json.loads(data.partition(b"\r\n\r\n")[2])["error"]["reason"] == "MALFORMED_REQUEST"
    assert vaulted.stored() == before


# -- resumable sessions ----------------------------------------------------------------------------------------


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(senders=st.integers(2, 4), size=st.sampled_from([1 << 16, 1 << 20]))
@example(senders=4, size=1 << 20)
def test_concurrent_chunks_at_one_offset_land_once(vaulted, senders, size):
    """A client that sends a chunk again (its first try timed out, but is still arriving) must not get it
    appended twice: the session then held more than its declared size, and could never be finished."""
    import hashlib
    import threading

    from reference.hive.client import HiveError

    body = bytes(range(256)) * (size // 256)
    digest = hashlib.sha256(body).hexdigest()
    uid = vaulted.client.request("POST", "vault/sync/uploads", {"path": f"big-{os.urandom(8).hex()}", "size": size,
                                                                "sha256": digest})["upload_id"]
    answers: list[Any] = []
    gate = threading.Barrier(senders)

    def send() -> None:
        c = HiveClient(f"http://127.0.0.1:{vaulted.port}")
        c.token = vaulted.client.token
        gate.wait()
        try:
            answers.append(c.request("PUT", f"vault/sync/uploads/{uid}?offset=0", raw=body)["received"])
        except HiveError as e:
            answers.append((e.status, e.reason))

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each copy either lands on the same bytes or is refused for its offset; never appended twice
    assert size in answers and all(a in (size, (409, "HIVE_UPLOAD_OFFSET")) for a in answers), answers
    assert vaulted.client.request("GET", f"vault/sync/uploads/{uid}")["received"] == size
    assert vaulted.client.request("POST", f"vault/sync/uploads/{uid}?base=0")["sha256"] == digest


# -- backup ----------------------------------------------------------------------------------------------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=6)


@SETTINGS
@given(credential=st.one_of(st.text(max_size=20), _JSON.map(json.dumps),
                            _JSON.map(lambda s: json.dumps({"credentialSubject": s})),
                            _JSON.map(lambda u: json.dumps({"credentialSubject": {"targetNodeURL": u}}))))
@example(credential="not json")
@example(credential="[1]")
@example(credential='{"credentialSubject": 5}')
def test_a_backup_credential_that_names_no_loopback_vault_is_400(vaulted, credential):
    before = vaulted.stored()
    for q in ("to", "from"):
        status, answer = vaulted.raw("POST", f"/api/v2/vault/content?{q}=hive_node",
                                     body=json.dumps({"credential": credential}).encode())
        _refused(status, answer, 400, "MALFORMED_REQUEST")
    assert vaulted.stored() == before


# -- idle connections ------------------------------------------------------------------------------------------

@pytest.fixture
def quick_timeout(vaulted):
    """A second server over the same vault whose connections time out after 1.5 s of silence."""
    server = HiveServer(vaulted.vault, 0, idle_timeout=1.5).start()
    yield server
    server.stop()


def _closed_within(s: socket.socket, seconds: float) -> bytes:
    """What the server sends before it closes ``s``; fails if it is still open after ``seconds``."""
    s.settimeout(seconds)
    data = b""
    try:
        while chunk := s.recv(1 << 16):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the connection was still open after {seconds} s")
    return data


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/api/v2/vault/files/docs/a.txt", "/api/v2/vault/files/docs/new.bin",
                              "/api/v2/vault/files/pub.bin?public=true"]),
       sent=st.integers(0, 4096))
def test_a_body_that_stalls_is_cut_and_nothing_of_it_is_stored(vaulted, quick_timeout, route, sent):
    """A client that announces a body and then sends nothing more: the vault closes the connection after its
    idle timeout, the handler thread ends, and neither the new file nor a change to the old one appears."""
    before = vaulted.stored()
    head = (f"PUT {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {vaulted.client.token}\r\n"
            f"Content-Length: {sent + 1000}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", quick_timeout.port), timeout=10) as s:
        s.sendall(head + b"x" * sent)
        assert _closed_within(s, 10) == b""  # no answer: nobody is listening for one
    assert vaulted.stored() == before
    assert vaulted.client.download("docs/a.txt") == b"kept"
    _wait_for(lambda: not any(vaulted.store.incoming.iterdir()))  # the temporary body is removed


def _wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "still not so after 10 s"
        time.sleep(0.02)


def _handlers(port: int) -> int:
    """The handler threads serving connections to ``port`` (socketserver's ``process_request_thread``s)."""
    import threading

    def serves(t: threading.Thread) -> bool:
        try:
            return t.name.endswith("(process_request_thread)") and t._args[0].getsockname()[1] == port  # type: ignore[attr-defined]
        except (AttributeError, IndexError, OSError):  # finished, or its socket closed
            return False
    return sum(serves(t) for t in threading.enumerate())


def test_idle_connections_do_not_pile_up(vaulted, quick_timeout):
    """Silent connections, before a request line and in the middle of a body, are all closed: the handler
    threads they held end."""
    port = quick_timeout.port
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(8)]
    for i, s in enumerate(socks):
        if i % 2:
            s.sendall(f"PUT /api/v2/vault/files/idle{i} HTTP/1.1\r\nHost: x\r\nAuthorization: token "
                      f"{vaulted.client.token}\r\nContent-Length: 10\r\n\r\nab".encode())
    _wait_for(lambda: _handlers(port) == 8)  # one handler thread each while they are open
    for s in socks:
        assert _closed_within(s, 10) == b""  # closed without an answer, the request unread or unfinished
        s.close()
    _wait_for(lambda: _handlers(port) == 0)
    assert vaulted.client.download("docs/a.txt") == b"kept"
