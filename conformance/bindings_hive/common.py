"""Typed input helpers shared by the ``hive`` handlers (every fault is ``MALFORMED_INPUT``)."""

from __future__ import annotations

from typing import Any

from spec.crypto import p256
from spec.errors import Reason, Reject
from spec.hive.auth import Caller, ServiceKey

from conformance.bindings import Input

Json = dict[str, Any]

TIME_MAX = 1 << 40


def malformed(detail: str) -> Reject:
    return Reject(Reason.MALFORMED_INPUT, None, detail)


def obj(inp: Input, key: str) -> dict[str, Any]:
    v = inp.raw(key)
    if not isinstance(v, dict):
        raise malformed(f"{key}: expected an object")
    return v


def array(inp: Input, key: str) -> list[Any]:
    v = inp.raw(key)
    if not isinstance(v, list):
        raise malformed(f"{key}: expected an array")
    return v


def now(inp: Input) -> int:
    return inp.small_int("now", 0, TIME_MAX)


def service(inp: Input) -> ServiceKey:
    s = Input(inp.raw("service"), ("did", "key_id", "private_key"))
    key = s.hex("private_key")
    return ServiceKey(did=s.text("did"), key_id=s.text("key_id"), private_key=key,
                      public_key=p256.public_key_from_private(key))


def caller(v: Any) -> Caller | None:
    """``null`` (anonymous) or ``{"user_did", "app_did", "instance_did"?}``."""
    if v is None:
        return None
    c = Input(v, ("user_did", "app_did"), ("instance_did",))
    return Caller(user_did=c.text("user_did"), app_did=c.text("app_did"),
                  instance_did=c.text("instance_did") if c.has("instance_did") else c.text("user_did"))


def documents(inp: Input) -> dict[str, str]:
    if not inp.has("documents"):
        return {}
    docs = inp.raw("documents")
    if not isinstance(docs, dict) or not all(isinstance(v, str) for v in docs.values()):
        raise malformed("documents: expected an object of DID -> document text")
    return docs
