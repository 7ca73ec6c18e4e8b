"""The adapter protocol: how the runner talks to any implementation (JSON lines over stdio).

1. The runner writes ``{"hello": {"protocol": 1}}``. The implementation answers
   ``{"hello": {"protocol": 1, "name": "...", "version": "...", "handlers": ["encoding/varuint_decode", ...]}}``.
2. For each case the runner writes ``{"id": N, "handler": "suite/name", "input": {...}}`` (``N`` an
   integer in [0, 2^53)) and the
   implementation answers, with the same ``id``, exactly one of
   ``{"id": N, "ok": {...}}``, ``{"id": N, "reject": "REASON"}`` or ``{"id": N, "unsupported": true}``.
   A reply may add ``"detail": "..."`` (never compared).
3. Replies come in request order, one line each, UTF-8 JSON. The runner may send several requests
   before reading replies (up to 256), so an implementation must not wait for a reply to be read.
4. A line the implementation cannot read gets ``{"id": null, "error": "MALFORMED_REQUEST", "detail": ...}``
   and the implementation goes on with the next line. End of input ends the session.

:func:`serve` is this loop for a Python implementation: give it a table of handlers.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from spec.errors import Reason, Reject

PROTOCOL_VERSION = 1
MAX_ID = 2**53 - 1
"""Request ids are integers in [0, 2^53): every JSON parser (a C double, JavaScript) reads them exactly."""
MAX_LINE = 64 * 1024 * 1024
"""A request line longer than this is refused (and skipped) without being parsed."""

HandlerFn = Callable[[Any], dict[str, Any]]


import orjson

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def loads(line: bytes) -> Any:
    """Parse one JSON line: orjson for speed, the standard library for what orjson refuses (escaped lone
    surrogates) and for any line with a run of 19 or more digits, since orjson reads an integer outside
    64 bits as a float (a vector's ``2**64`` would arrive as ``1.8446744073709552e19``); every integer of
    at most 18 digits is inside 64 bits. Raises ``ValueError`` or ``UnicodeDecodeError`` for anything that
    is not UTF-8 JSON."""
    if _LONG_DIGITS.search(line):
        return json.loads(line.decode("utf-8"))
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line.decode("utf-8"))


def dumps_line(obj: Any) -> bytes:
    """One compact UTF-8 JSON line (orjson, or the standard library where orjson refuses)."""
    try:
        return orjson.dumps(obj) + b"\n"
    except TypeError:
        return _ENCODE(obj).encode("ascii") + b"\n"


def _reply(obj: dict[str, Any]) -> bytes:
    return dumps_line(obj)


def handle_line(line: bytes, handlers: Mapping[str, HandlerFn], hello: dict[str, Any]) -> bytes:
    """The reply to one request line (never raises for any input bytes)."""
    try:
        msg = loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _reply({"id": None, "error": Reason.MALFORMED_REQUEST.value, "detail": "not a UTF-8 JSON line"})
    if not isinstance(msg, dict):
        return _reply({"id": None, "error": Reason.MALFORMED_REQUEST.value, "detail": "not a JSON object"})
    if "hello" in msg:
        return _reply({"hello": hello})
    rid = msg.get("id")
    name = msg.get("handler")
    id_ok = isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid <= MAX_ID
    if not id_ok or not isinstance(name, str) or "input" not in msg:
        return _reply({"id": rid if id_ok else None, "error": Reason.MALFORMED_REQUEST.value,
                       "detail": "need an integer id in [0, 2^53), a handler name and an input"})
    fn = handlers.get(name)
    if fn is None:
        return _reply({"id": rid, "unsupported": True})
    try:
        return _reply({"id": rid, "ok": fn(msg["input"])})
    except Reject as e:
        return _reply({"id": rid, "reject": e.reason.value, "detail": e.detail[:500]})
    except RecursionError:
        return _reply({"id": rid, "reject": Reason.MALFORMED_INPUT.value, "detail": "input nests too deep"})
    except Exception as e:  # a bug in the implementation: report it as a reply, keep serving
        return _reply({"id": rid, "error": "INTERNAL_ERROR", "detail": f"{type(e).__name__}: {e}"[:500]})


def serve(
    handlers: Mapping[str, HandlerFn],
    name: str,
    version: str,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> int:
    """Serve requests until end of input. Replies to all complete lines of a read are flushed together."""
    fin = stdin if stdin is not None else sys.stdin.buffer
    fout = stdout if stdout is not None else sys.stdout.buffer
    hello = {"protocol": PROTOCOL_VERSION, "name": name, "version": version, "handlers": sorted(handlers)}
    try:
        fd: int | None = fin.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None  # an in-memory stream: read it with read1
    parts: list[bytes] = []  # the start of a line that has not ended yet
    size = 0
    skipping = False  # inside an over-long line, until its newline
    while True:
        chunk = os.read(fd, 1 << 16) if fd is not None else fin.read1(1 << 16)  # type: ignore[attr-defined]
        if not chunk:
            break
        if b"\n" not in chunk:
            if not skipping:
                parts.append(chunk)
                size += len(chunk)
                if size > MAX_LINE:
                    fout.write(_reply({"id": None, "error": Reason.MALFORMED_REQUEST.value, "detail": "line too long"}))
                    fout.flush()
                    parts, size, skipping = [], 0, True
            continue
        lines = (b"".join(parts) + chunk).split(b"\n")
        tail = lines.pop()
        parts, size = ([tail], len(tail)) if tail else ([], 0)
        out = []
        for line in lines:
            if skipping:
                skipping = False
                continue
            if line.strip():
                out.append(handle_line(line, handlers, hello))
        if out:
            fout.write(b"".join(out))
            fout.flush()
    pending = b"".join(parts)
    if pending.strip() and not skipping:
        fout.write(handle_line(pending, handlers, hello))
        fout.flush()
    return 0
