"""The adapter protocol: ``handle_line`` on any bytes, the request/reply shapes, ``serve`` on pipes and
file-like objects, the handler input checks, and the real reference adapter as a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conformance import protocol
from conformance.bindings import HANDLERS
from conformance.protocol import PROTOCOL_VERSION, handle_line, serve
from reference.adapter import NAME, handler_table
from spec import SPEC_VERSION

FAST = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
REPO = Path(__file__).resolve().parents[1]
TABLE = handler_table()
HELLO = {"protocol": PROTOCOL_VERSION, "name": NAME, "version": SPEC_VERSION, "handlers": sorted(TABLE)}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=15,
)


def ask(obj, handlers=TABLE) -> dict:
    """One request object -> the decoded reply (and the reply is one ASCII JSON line)."""
    line = handle_line(json.dumps(obj).encode(), handlers, HELLO)
    return parse_reply(line)


def parse_reply(line: bytes) -> dict:
    assert line.endswith(b"\n") and line.count(b"\n") == 1, f"a reply is exactly one line: {line!r}"
    reply = json.loads(line.decode("utf-8"))  # replies are UTF-8 JSON
    assert isinstance(reply, dict)
    return reply


def check_reply_shape(reply: dict) -> None:
    if "hello" in reply:
        assert reply == {"hello": HELLO}
        return
    assert "id" in reply
    kinds = [k for k in ("ok", "reject", "unsupported", "error") if k in reply]
    assert len(kinds) == 1, f"exactly one of ok/reject/unsupported/error: {reply}"
    assert set(reply) <= {"id", "ok", "reject", "unsupported", "error", "detail"}, reply
    if "error" in reply:
        assert reply["error"] in ("MALFORMED_REQUEST", "INTERNAL_ERROR")


# == handle_line ========================================================================================


@FAST
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xff\xfe")
@example(b"[" * 100_000)
@example(b'{"id": 1, "handler": "encoding/varuint_decode", "input": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
@example(b"1" * 5000)
@example(b'{"id": 1e400, "handler": "x", "input": {}}')
@example(b'{"id": NaN, "handler": "x", "input": {}}')
def test_handle_line_never_raises_on_any_bytes(line):
    reply = parse_reply(handle_line(line, TABLE, HELLO))
    check_reply_shape(reply)
    assert reply.get("error") != "INTERNAL_ERROR", reply


@FAST
@given(st.integers(0, 2**53 - 1), st.sampled_from(sorted(TABLE)), JSON)
def test_handle_line_any_input_never_internal_error(rid, name, data):
    reply = ask({"id": rid, "handler": name, "input": data})
    check_reply_shape(reply)
    assert reply["id"] == rid
    assert "error" not in reply, f"handler {name} crashed on {data!r}: {reply}"


@pytest.mark.parametrize(
    "line",
    [b"not json", b"\xff\xfe\xfd", b"{\"id\": 1", b"[1, 2]", b"42", b"\"text\"", b"null", b"true",
     b"{\"id\": 1, \"handler\": \"encoding/varuint_decode\", \"input\": {}}\xff"],
)
def test_unreadable_lines_are_malformed_request(line):
    reply = parse_reply(handle_line(line, TABLE, HELLO))
    assert reply["error"] == "MALFORMED_REQUEST" and reply["id"] is None, reply


@pytest.mark.parametrize(
    "request_obj, reply_id",
    [
        ({"handler": "encoding/varuint_decode", "input": {"bytes": "00"}}, None),
        ({"id": None, "handler": "encoding/varuint_decode", "input": {"bytes": "00"}}, None),
        ({"id": "1", "handler": "encoding/varuint_decode", "input": {"bytes": "00"}}, None),
        ({"id": True, "handler": "encoding/varuint_decode", "input": {"bytes": "00"}}, None),
        ({"id": 1.0, "handler": "encoding/varuint_decode", "input": {"bytes": "00"}}, None),
        ({"id": 7, "input": {"bytes": "00"}}, 7),
        ({"id": 7, "handler": 5, "input": {"bytes": "00"}}, 7),
        ({"id": 7, "handler": "encoding/varuint_decode"}, 7),
        ({}, None),
    ],
)
def test_request_shape_errors(request_obj, reply_id):
    reply = ask(request_obj)
    assert reply["error"] == "MALFORMED_REQUEST", reply
    assert reply["id"] == reply_id and not isinstance(reply["id"], bool)


@pytest.mark.parametrize("rid", [0, 1, 2**31, 2**53 - 1])
def test_request_ids_in_range_are_echoed(rid):
    """A request id is an integer in [0, 2^53): every JSON parser reads it exactly."""
    reply = ask({"id": rid, "handler": "encoding/varuint_decode", "input": {"bytes": "00"}})
    assert reply == {"id": rid, "ok": {"value": "0"}}


@pytest.mark.parametrize("rid", [-1, 2**53, 2**63 - 1, 2**64, -(2**63) - 1, 10**30])
def test_request_ids_out_of_range_are_malformed(rid):
    reply = ask({"id": rid, "handler": "encoding/varuint_decode", "input": {"bytes": "00"}})
    assert reply["error"] == "MALFORMED_REQUEST" and reply["id"] is None, reply


def test_hello():
    reply = ask({"hello": {"protocol": 1}})
    assert reply == {"hello": HELLO}
    assert "encoding/varuint_decode" in reply["hello"]["handlers"]
    assert reply["hello"]["handlers"] == sorted(HANDLERS)


def test_unknown_handler_is_unsupported():
    assert ask({"id": 3, "handler": "nope/nothing", "input": {}}) == {"id": 3, "unsupported": True}
    assert ask({"id": 4, "handler": "", "input": None}) == {"id": 4, "unsupported": True}


def test_ok_and_reject_replies():
    assert ask({"id": 1, "handler": "encoding/varuint_decode", "input": {"bytes": "fdfd00"}}) == {
        "id": 1, "ok": {"value": "253"}}
    reply = ask({"id": 2, "handler": "encoding/varuint_decode", "input": {"bytes": "fdfc00"}})
    assert reply["id"] == 2 and reply["reject"] == "NON_CANONICAL_VARUINT"
    reply = ask({"id": 3, "handler": "encoding/cbor_decode", "input": {"bytes": "9b" + "ff" * 8}})
    assert reply["reject"] == "TRUNCATED"


@pytest.mark.parametrize(
    "name, data",
    [
        ("encoding/varuint_decode", {"bytes": "00", "extra": 1}),
        ("encoding/varuint_decode", {}),
        ("encoding/varuint_decode", {"byte": "00"}),
        ("encoding/varuint_decode", ["00"]),
        ("encoding/varuint_decode", "00"),
        ("encoding/varuint_decode", None),
        ("encoding/varuint_decode", {"bytes": 0}),
        ("encoding/int_decode", {"type": "u128", "bytes": "00"}),
        ("encoding/int_decode", {"bytes": "00"}),
        ("encoding/varbytes_decode", {"bytes": "00", "max": -1}),
        ("encoding/varbytes_decode", {"bytes": "00", "max": True}),
        ("encoding/varbytes_decode", {"bytes": "00", "max": "5"}),
        ("encoding/varuint_encode", {"value": 5}),
        ("encoding/varuint_encode", {"value": "5.0"}),
        ("encoding/varuint_encode", {"value": "1" * 81}),
        ("encoding/cbor_encode", {"value": {"float": "1.5"}}),
        ("encoding/cbor_encode", {"value": {"int": "1", "text": "a"}}),
        ("encoding/cbor_encode", {"value": {"map": [[{"int": "1"}]]}}),
        ("crypto/ecdsa_verify", {"pubkey": "02" * 33, "message": ""}),
        ("crypto/redeem_script_multisig", {"m": 1, "pubkeys": "02"}),
        ("crypto/redeem_script_multisig", {"m": 1, "pubkeys": ["zz"]}),
        ("crypto/redeem_script_multisig", {"m": 1, "pubkeys": [], "kind": "standard"}),
    ],
)
def test_handler_input_shape_errors_are_malformed_input(name, data):
    reply = ask({"id": 9, "handler": name, "input": data})
    assert reply.get("reject") == "MALFORMED_INPUT", reply


@pytest.mark.parametrize("bad", ["0", "abc", "zz", "0x00", "00 ", "\u00e900", "０１"])
def test_bad_hex_is_malformed_input(bad):
    for name, field in [("encoding/varuint_decode", "bytes"), ("crypto/sha256", "data"),
                        ("encoding/uint256_decode", "bytes")]:
        reply = ask({"id": 1, "handler": name, "input": {field: bad}})
        assert reply.get("reject") == "MALFORMED_INPUT", (name, bad, reply)


def test_uppercase_hex_is_accepted():
    assert ask({"id": 1, "handler": "crypto/sha256", "input": {"data": "ABCDEF"}})["ok"] == {
        "digest": "995da3cf545787d65f9ced52674e92ee8171c87c7a4008aa4349ec47d21609a7"}


def test_too_deep_input_is_malformed_input():
    value: dict = {"int": "1"}
    for _ in range(300):
        value = {"array": [value]}
    reply = ask({"id": 1, "handler": "encoding/cbor_encode", "input": {"value": value}})
    assert reply.get("reject") == "MALFORMED_INPUT", reply


def test_handler_bug_is_reported_not_raised():
    def broken(_):
        raise KeyError("boom")

    reply = parse_reply(handle_line(b'{"id": 5, "handler": "x/y", "input": {}}', {"x/y": broken}, HELLO))
    assert reply["id"] == 5 and reply["error"] == "INTERNAL_ERROR" and "KeyError" in reply["detail"]


def test_cbor_encode_handler_output_is_decodable():
    """Whatever the cbor_encode handler accepts, the cbor_decode handler must read back."""
    value: dict = {"int": "0"}
    for _ in range(65):
        value = {"map": [[{"int": "0"}, value]]}
    enc = ask({"id": 1, "handler": "encoding/cbor_encode", "input": {"value": value}})
    if "ok" in enc:
        dec = ask({"id": 2, "handler": "encoding/cbor_decode", "input": {"bytes": enc["ok"]["bytes"]}})
        assert "ok" in dec, (
            "SPEC BUG: encoding/cbor_encode wrote 65-deep nested maps that encoding/cbor_decode rejects with "
            f"{dec.get('reject')} (cbor_encode's [CBOR-008] guard misses CborMap)"
        )
    else:
        assert enc["reject"] == "CBOR_TOO_DEEP", enc


# == serve ==============================================================================================

REQUESTS = [
    b'{"hello": {"protocol": 1}}',
    b'{"id": 1, "handler": "encoding/varuint_decode", "input": {"bytes": "fc"}}',
    b"this is not json \xff",
    b"",
    b"   ",
    b'{"id": 2, "handler": "encoding/varuint_decode", "input": {"bytes": "fdfc00"}}',
    b'{"id": 3, "handler": "no/such", "input": {}}',
    b'{"id": 4, "handler": "crypto/sha256", "input": {"data": ""}}',
]


def check_transcript(out: bytes, last_without_newline: bool = False) -> list[dict]:
    replies = [json.loads(line) for line in out.splitlines()]
    assert len(replies) == 6, replies
    assert replies[0] == {"hello": HELLO}
    assert replies[1] == {"id": 1, "ok": {"value": "252"}}
    assert replies[2]["error"] == "MALFORMED_REQUEST" and replies[2]["id"] is None
    assert replies[3]["id"] == 2 and replies[3]["reject"] == "NON_CANONICAL_VARUINT"
    assert replies[4] == {"id": 3, "unsupported": True}
    assert replies[5] == {"id": 4, "ok": {"digest": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
    return replies


class ChunkedReader:
    """A file-like object without ``fileno`` that returns at most ``size`` bytes per ``read1``."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size, self._pos = data, size, 0

    def read1(self, n: int = -1) -> bytes:
        take = self._size if n < 0 else min(n, self._size)
        chunk = self._data[self._pos:self._pos + take]
        self._pos += len(chunk)
        return chunk


def test_serve_over_a_pipe():
    r, w = os.pipe()
    payload = b"\n".join(REQUESTS) + b"\n"

    def writer():
        with os.fdopen(w, "wb") as f:
            for i in range(0, len(payload), 7):  # trickle the bytes to split lines across reads
                f.write(payload[i:i + 7])
                f.flush()

    t = threading.Thread(target=writer)
    t.start()
    out = io.BytesIO()
    with os.fdopen(r, "rb") as fin:
        assert serve(TABLE, NAME, SPEC_VERSION, stdin=fin, stdout=out) == 0
    t.join()
    check_transcript(out.getvalue())


@pytest.mark.parametrize("size", [1, 3, 64, 1 << 16])
def test_serve_fileno_less_reader_any_chunking(size):
    payload = b"\n".join(REQUESTS)  # the last line has no newline: it is still answered
    out = io.BytesIO()
    assert serve(TABLE, NAME, SPEC_VERSION, stdin=ChunkedReader(payload, size), stdout=out) == 0
    check_transcript(out.getvalue())


def test_serve_accepts_a_plain_bytesio():
    """``serve`` is typed ``stdin: BinaryIO``; io.BytesIO is one, but its fileno() raises."""
    out = io.BytesIO()
    try:
        serve(TABLE, NAME, SPEC_VERSION, stdin=io.BytesIO(b"\n".join(REQUESTS) + b"\n"), stdout=out)
    except io.UnsupportedOperation as e:
        pytest.fail(
            "CONFORMANCE BUG: serve(stdin=io.BytesIO(...)) raises io.UnsupportedOperation "
            f"({e}): protocol.serve calls fin.fileno() whenever the attribute exists; it should fall "
            "back to read1 when fileno() raises io.UnsupportedOperation/OSError"
        )
    check_transcript(out.getvalue())


def test_serve_empty_input():
    out = io.BytesIO()
    assert serve(TABLE, NAME, SPEC_VERSION, stdin=ChunkedReader(b"", 10), stdout=out) == 0
    assert out.getvalue() == b""


def test_serve_skips_an_overlong_line_with_exactly_one_error(monkeypatch):
    """A line longer than MAX_LINE gets one MALFORMED_REQUEST reply, and the next line is served."""
    monkeypatch.setattr(protocol, "MAX_LINE", 120)
    long_line = b'{"id": 1, "handler": "x", "input": "' + b"a" * 1000 + b'"}'
    assert len(REQUESTS[1]) < 120
    payload = long_line + b"\n" + REQUESTS[1] + b"\n"
    out = io.BytesIO()
    serve(TABLE, NAME, SPEC_VERSION, stdin=ChunkedReader(payload, 5), stdout=out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert replies[-1] == {"id": 1, "ok": {"value": "252"}}, "the line after an overlong one must be served"
    errors = [r for r in replies if r.get("error") == "MALFORMED_REQUEST"]
    assert len(errors) == 1, (
        f"CONFORMANCE BUG: one overlong request line produced {len(errors)} MALFORMED_REQUEST replies: "
        "replies no longer pair with request lines"
    )
    assert len(replies) == 2


def test_serve_overlong_line_in_a_single_read(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_LINE", 120)
    long_line = b"x" * 400
    payload = long_line + b"\n" + REQUESTS[1] + b"\n"
    out = io.BytesIO()
    serve(TABLE, NAME, SPEC_VERSION, stdin=ChunkedReader(payload, 1 << 16), stdout=out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    # the whole long line arrived in one read: it is a complete line and is parsed (and refused)
    assert replies[0]["error"] == "MALFORMED_REQUEST"
    assert replies[1] == {"id": 1, "ok": {"value": "252"}}


# == the real reference adapter =========================================================================


def test_reference_adapter_subprocess():
    lines = [
        b'{"hello": {"protocol": 1}}',
        b'{"id": 1, "handler": "encoding/address_decode", "input": {"address": "EJbTbWd8a9rdutUfvBxhcrvEeNy21tW1Ee"}}',
        b"\x00\xff garbage",
        b'{"id": 2, "handler": "encoding/varuint_decode", "input": {"bytes": "feffff0000"}}',
        b'{"id": 3, "handler": "crypto/ecdsa_sign", "input": {"private_key": '
        b'"c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721", "message": "73616d706c65"}}',
        b'{"id": 4, "handler": "nope/x", "input": {}}',
        b'{"id": 5, "handler": "encoding/varuint_decode", "input": {"bytes": "00", "x": 1}}',
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "reference.adapter"],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(replies) == len(lines)
    hello = replies[0]["hello"]
    assert hello["protocol"] == 1 and hello["name"] == NAME and hello["version"] == SPEC_VERSION
    assert set(hello["handlers"]) == set(HANDLERS)
    assert replies[1] == {"id": 1, "ok": {"program_hash": "210fcd528848be05f8cffe5d99896c44bdeec70502",
                                          "prefix": 0x21, "kind": "standard"}}
    assert replies[2]["error"] == "MALFORMED_REQUEST"
    assert replies[3]["id"] == 2 and replies[3]["reject"] == "NON_CANONICAL_VARUINT"
    assert replies[4] == {"id": 3, "ok": {"signature": (
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
        "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")}}
    assert replies[5] == {"id": 4, "unsupported": True}
    assert replies[6]["id"] == 5 and replies[6]["reject"] == "MALFORMED_INPUT"


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"))
    # one lone surrogate among scalar values (JSON reads a high one escaped before a low one as their pair)
    | st.builds(lambda a, s, b: a + s + b, st.text(st.characters(codec="utf-8"), max_size=3),
                st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.text(st.characters(codec="utf-8"), max_size=3)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=12)


def _typed(v):
    """A value with every number tagged by its type, so that ``1`` and ``1.0`` differ."""
    if isinstance(v, dict):
        return {k: _typed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_typed(x) for x in v]
    return (type(v).__name__, v)


@given(_JSON_VALUES)
@example(1 << 64)
@example(-(1 << 63) - 1)
@example({"n": [10**30, 2**63 - 1, -(2**63)]})
def test_a_line_reads_back_as_the_same_value_of_the_same_types(value):
    """The protocol is lossless for every JSON value: an integer outside 64 bits stays an integer (orjson alone
    would read it as a float), a lone surrogate survives its escape."""
    assert _typed(protocol.loads(protocol.dumps_line(value))) == _typed(value)
