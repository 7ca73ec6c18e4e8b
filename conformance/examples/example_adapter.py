#!/usr/bin/env python3
"""A minimal adapter: a second implementation of a few encoding handlers, in the standard library only.

It shows what an implementation in any language has to write: read JSON lines, answer the hello
with the handlers it supports, answer every case with ``ok``, ``reject`` or ``unsupported``.

It is *deliberately wrong* in one place: ``encoding/varuint_decode`` accepts non-canonical
VarUints (the classic bug of reading CompactSize without the shortest-form check), so a
conformance run shows failures for exactly those cases. Run it with::

    elastos conform --impl "python3 conformance/examples/example_adapter.py" --suite encoding

The ``--misbehave`` option makes it crash, hang, print garbage or botch the hello on a chosen
handler; the runner's own tests use it.
"""

import argparse
import hashlib
import json
import os
import sys
import time

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class Rejected(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def varuint_decode(inp):
    data = bytes.fromhex(inp["bytes"])
    if not data:
        raise Rejected("TRUNCATED")
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(data[0], 0)
    if len(data) < 1 + size:
        raise Rejected("TRUNCATED")
    if len(data) > 1 + size:
        raise Rejected("TRAILING_BYTES")
    value = data[0] if size == 0 else int.from_bytes(data[1:1 + size], "little")
    # BUG (deliberate): no shortest-form check, so "fd0100" reads as 1 instead of being rejected.
    return {"value": str(value)}


def varuint_encode(inp):
    v = int(inp["value"])
    if not 0 <= v < 2**64:
        raise Rejected("VALUE_OUT_OF_RANGE")
    if v < 0xFD:
        out = bytes([v])
    elif v <= 0xFFFF:
        out = b"\xfd" + v.to_bytes(2, "little")
    elif v <= 0xFFFFFFFF:
        out = b"\xfe" + v.to_bytes(4, "little")
    else:
        out = b"\xff" + v.to_bytes(8, "little")
    return {"bytes": out.hex()}


def base58_encode(inp):
    data = bytes.fromhex(inp["bytes"])
    n = int.from_bytes(data, "big")
    text = ""
    while n:
        n, r = divmod(n, 58)
        text = ALPHABET[r] + text
    return {"text": "1" * (len(data) - len(data.lstrip(b"\0"))) + text}


def base58_decode(inp):
    n = 0
    for c in inp["text"]:
        if c not in ALPHABET:
            raise Rejected("INVALID_BASE58_CHARACTER")
        n = n * 58 + ALPHABET.index(c)
    zeros = len(inp["text"]) - len(inp["text"].lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return {"bytes": (b"\0" * zeros + body).hex()}


def sha256d(inp):
    data = bytes.fromhex(inp["data"])
    return {"digest": hashlib.sha256(hashlib.sha256(data).digest()).hexdigest()}


HANDLERS = {
    "encoding/varuint_decode": varuint_decode,
    "encoding/varuint_encode": varuint_encode,
    "encoding/base58_encode": base58_encode,
    "encoding/base58_decode": base58_decode,
    "crypto/sha256d": sha256d,
}


def answer(msg):
    fn = HANDLERS.get(msg["handler"])
    if fn is None:
        return {"id": msg["id"], "unsupported": True}
    try:
        return {"id": msg["id"], "ok": fn(msg["input"])}
    except Rejected as e:
        return {"id": msg["id"], "reject": e.reason}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--misbehave", choices=["crash", "hang", "garbage", "bad-hello", "exit-at-start", "wrong-id"])
    ap.add_argument("--on", default="encoding/base58_encode", help="the handler that triggers --misbehave")
    args = ap.parse_args()
    if args.misbehave == "exit-at-start":
        sys.exit(3)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            print(json.dumps({"id": None, "error": "MALFORMED_REQUEST"}), flush=True)
            continue
        if "hello" in msg:
            if args.misbehave == "bad-hello":
                print("hello yourself", flush=True)
                continue
            hello = {"protocol": 1, "name": "example-adapter", "version": "0.1", "handlers": sorted(HANDLERS)}
            print(json.dumps({"hello": hello}), flush=True)
            continue
        if args.misbehave and msg.get("handler") == args.on:
            if args.misbehave == "crash":
                os._exit(7)
            if args.misbehave == "hang":
                time.sleep(3600)
            if args.misbehave == "garbage":
                print("Traceback (most recent call last): not JSON", flush=True)
                continue
            if args.misbehave == "wrong-id":
                reply = answer(msg)
                reply["id"] = msg["id"] + 1000
                print(json.dumps(reply), flush=True)
                continue
        print(json.dumps(answer(msg)), flush=True)


if __name__ == "__main__":
    main()
