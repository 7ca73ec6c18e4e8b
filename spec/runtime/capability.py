"""Capability tokens: what a user lets one app do, signed, delegable only by narrowing.

A token is a deterministic CBOR map (:mod:`spec.encoding.cbor`) of exactly these text keys:

===============  ==============  ==================================================================
key              CBOR type       value
===============  ==============  ==================================================================
``v``            uint            1
``id``           bytes (16)      the token's id: what a revocation names
``app``          text            the holder: an app DID
``user``         text            the user DID the app acts for
``resource``     text            ``storage:*``, ``storage:<path>``, ``storage:<path>/*``,
                                 ``carrier:*``, ``carrier:<DID>``, ``intent:*`` or ``intent:<action>``
``action``       text            storage: ``read``, ``write``, ``list``, ``delete``;
                                 carrier: ``send``, ``receive``; intent: ``send``
``constraints``  map             ``{"delegatable": bool, "max_bytes": uint or null}``
``expiry``       uint            Unix seconds; valid while ``now < expiry``
``issuer``       text            the DID that grants it and signs it
``parent``       bytes (32)/nil  SHA-256 of the parent token's encoding; nil for a root token
``depth``        uint            0 for a root token, the parent's depth + 1 for a delegation
``sig``          bytes (64)      ECDSA P-256 ``r || s`` by the issuer's default key
===============  ==============  ==================================================================

The signature covers ``"elastos.capability/1" || 0x00 || CBOR(token without "sig")``.

A **grant** is a chain of tokens, root first: the root is issued by the user to an app; each
further token is issued by the holder of the one before (an app handing on part of what it holds).
:func:`verify_chain` checks each token in turn, in this order, and stops at the first failure:

1. decode: deterministic CBOR of exactly the fields (RT-020);
2. signature: the issuer DID is usable (RT-021) and the signature verifies under its default key (RT-022);
3. issuer authority: a root is issued by its user; a delegation names its parent's hash, has the
   parent's depth + 1 and is issued by the parent's holder (RT-023);
4. expiry: ``now < expiry`` (RT-024);
5. revocation: the token's id is not revoked (RT-025);
6. delegation: a delegation only narrows its parent (RT-026) and the chain is at most
   :data:`MAX_DELEGATION_DEPTH` deep (RT-027);

and last, that the final token is held by the app and user it is presented for (RT-028). The result
is a :class:`Capability`; :func:`spec.runtime.hostcalls.decide` re-checks expiry and revocation on
every call, so a revocation takes effect at the next host call.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason, Reject, rule
from spec.runtime import paths
from spec.runtime.identity import DidResolver, canonical_did, default_key, usable
from spec.runtime.manifest import check_action

__all__ = ["VERSION", "MAX_DELEGATION_DEPTH", "ACTIONS", "Token", "Capability", "encode_token", "decode_token",
           "signed_bytes", "sign_token", "token_hash", "check_resource", "covers", "narrows", "verify_chain",
           "capability_of"]

VERSION: Final = 1
DOMAIN: Final = b"elastos.capability/1\x00"
MAX_DELEGATION_DEPTH: Final = 2
"""A chain holds the root and at most two delegations."""
ACTIONS: Final = {"storage": ("read", "write", "list", "delete"), "carrier": ("send", "receive"),
                  "intent": ("send",)}
KEYS: Final = ("v", "id", "app", "user", "resource", "action", "constraints", "expiry", "issuer", "parent",
               "depth", "sig")
U64: Final = (1 << 64) - 1

R_DECODE = rule(
    "RT-020", Reason.CAP_MALFORMED,
    "A token is deterministic CBOR of a map of exactly the token's keys and types, version 1, with "
    "canonical DIDs, a well-formed resource and an action of the resource's kind.",
    suite="runtime",
)
R_ISSUER_KNOWN = rule(
    "RT-021", Reason.CAP_ISSUER_UNKNOWN,
    "The issuer DID resolves to a primitive document that is valid at now and not deactivated.",
    suite="runtime",
)
R_SIGNATURE = rule(
    "RT-022", Reason.CAP_SIGNATURE,
    "The token's signature verifies under the issuer's default key.",
    suite="runtime",
)
R_AUTHORITY = rule(
    "RT-023", Reason.CAP_ISSUER,
    "A root token (depth 0, no parent) is issued by its user; a delegated token names the SHA-256 of the token "
    "before it in the chain, has its depth + 1, and is issued by that token's holder app.",
    suite="runtime",
)
R_EXPIRY = rule("RT-024", Reason.CAP_EXPIRED, "A token is used only while now < expiry.", suite="runtime")
R_REVOKED = rule(
    "RT-025", Reason.CAP_REVOKED,
    "No token of the chain is revoked; a revocation holds from the next check on.",
    suite="runtime",
)
R_NARROW = rule(
    "RT-026", Reason.CAP_AMPLIFIED,
    "A delegation narrows its parent: the parent is delegatable, same user and action, a resource the parent "
    "covers, an expiry no later and a size bound no larger.",
    suite="runtime",
)
R_DEPTH = rule(
    "RT-027", Reason.CAP_TOO_DEEP,
    f"A chain has at most {MAX_DELEGATION_DEPTH} delegations after its root.",
    suite="runtime",
    note="Deviation: the Elacity runtime delegates one level deep; here two delegations may follow the root.",
)
R_HOLDER = rule(
    "RT-028", Reason.CAP_WRONG_HOLDER,
    "The last token of a chain names the app and the user it is presented for.",
    suite="runtime",
)


class Token(BaseModel):
    """A decoded capability token."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: bytes
    app: str
    user: str
    resource: str
    action: str
    delegatable: bool
    max_bytes: int | None
    expiry: int
    issuer: str
    parent: bytes | None
    depth: int
    sig: bytes


class Capability(BaseModel):
    """A verified grant: what its last token allows, and the ids of every token of its chain."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    app: str
    user: str
    resource: str
    action: str
    max_bytes: int | None
    expiry: int
    """The last token's expiry (no later than any ancestor's)."""
    chain_ids: tuple[bytes, ...]
    """Every token id of the chain, root first: revoking any of them revokes the capability."""
    delegatable: bool = False
    """The last token may be delegated further (RT-026)."""
    depth: int = 0
    """The last token's depth: 0 for a root token, the number of delegations after the root otherwise."""


def _fields(t: Token, with_sig: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"v": VERSION, "id": t.id, "app": t.app, "user": t.user, "resource": t.resource,
                         "action": t.action, "constraints": {"delegatable": t.delegatable, "max_bytes": t.max_bytes},
                         "expiry": t.expiry, "issuer": t.issuer, "parent": t.parent, "depth": t.depth}
    if with_sig:
        d["sig"] = t.sig
    return d


def encode_token(t: Token) -> bytes:
    """The token's bytes."""
    return cbor_encode(_fields(t, True))


def signed_bytes(t: Token) -> bytes:
    """What the issuer signs."""
    return DOMAIN + cbor_encode(_fields(t, False))


def sign_token(t: Token, private_key: bytes) -> Token:
    """``t`` with a signature by ``private_key`` (RFC 6979)."""
    return t.model_copy(update={"sig": p256.ecdsa_sign(private_key, signed_bytes(t))})


def token_hash(data: bytes) -> bytes:
    """What a delegation's ``parent`` names: SHA-256 of the parent's encoding."""
    return hashlib.sha256(data).digest()


def check_resource(resource: str, action: str) -> bool:
    """A well-formed resource, and an action of its kind."""
    kind, sep, rest = resource.partition(":")
    if not sep or kind not in ACTIONS or action not in ACTIONS[kind]:
        return False
    if kind == "storage":
        if rest == "*":
            return True
        body = rest[:-2] if rest.endswith("/*") else rest
        try:
            paths.check_path(body)
        except Reject:
            return False
        return True
    if kind == "carrier":
        return rest == "*" or canonical_did(rest) is not None
    return rest == "*" or check_action(rest)


def covers(pattern: str, resource: str) -> bool:
    """``pattern`` (a token's resource) covers ``resource`` (a concrete resource, or another pattern).

    ``kind:*`` covers everything of its kind; ``storage:p/*`` covers ``storage:p/...`` at any depth and
    the patterns below it; otherwise only an equal resource.
    """
    if pattern == resource:
        return True
    kind, _, rest = pattern.partition(":")
    if not resource.startswith(kind + ":"):
        return False
    if rest == "*":
        return True
    if kind == "storage" and rest.endswith("/*"):
        return resource.startswith(pattern[:-1]) and len(resource) > len(pattern) - 1
    return False


def narrows(child: Token | Capability, parent: Token | Capability) -> bool:
    """RT-026: ``child`` asks for no more than ``parent`` gives.

    Both may be tokens or verified capabilities (the fields compared are the same): the runtime's
    delegation host call checks a requested delegation against a capability the app holds with this
    same function (:func:`spec.runtime.hostcalls.decide`)."""
    bound_ok = parent.max_bytes is None or (child.max_bytes is not None and child.max_bytes <= parent.max_bytes)
    return (parent.delegatable and child.user == parent.user and child.action == parent.action
            and covers(parent.resource, child.resource) and child.expiry <= parent.expiry and bound_ok)


def decode_token(data: bytes) -> Token:
    """Decode a token (RT-020)."""
    try:
        d = cbor_decode(data)
    except Reject as e:
        # [RT-020] deterministic CBOR
        raise Reject(Reason.CAP_MALFORMED, "RT-020", f"not deterministic CBOR: {e.reason.value}") from None
    # [RT-020] a map of exactly the token's keys
    if not isinstance(d, dict) or set(d) != set(KEYS):
        raise Reject(Reason.CAP_MALFORMED, "RT-020", "not a map of exactly the token's keys")
    c = d["constraints"]
    types_ok = (
        type(d["v"]) is int and isinstance(d["id"], bytes) and len(d["id"]) == 16
        and all(isinstance(d[k], str) for k in ("app", "user", "resource", "action", "issuer"))
        and isinstance(c, dict) and set(c) == {"delegatable", "max_bytes"} and type(c["delegatable"]) is bool
        and (c["max_bytes"] is None or (type(c["max_bytes"]) is int and c["max_bytes"] >= 0))
        and type(d["expiry"]) is int and 0 <= d["expiry"] <= U64
        and (d["parent"] is None or (isinstance(d["parent"], bytes) and len(d["parent"]) == 32))
        and type(d["depth"]) is int and 0 <= d["depth"] <= 255
        and isinstance(d["sig"], bytes) and len(d["sig"]) == p256.SIGNATURE_SIZE
    )
    # [RT-020] each field of its type and size
    if not types_ok:
        raise Reject(Reason.CAP_MALFORMED, "RT-020", "a field of the wrong type or size")
    # [RT-020] version 1
    if d["v"] != VERSION:
        raise Reject(Reason.CAP_MALFORMED, "RT-020", f"version {d['v']}")
    # [RT-020] canonical DIDs, a well-formed resource with an action of its kind
    if any(canonical_did(d[k]) is None for k in ("app", "user", "issuer")) \
            or not check_resource(d["resource"], d["action"]):
        raise Reject(Reason.CAP_MALFORMED, "RT-020", "bad DID, resource or action")
    return Token(id=d["id"], app=d["app"], user=d["user"], resource=d["resource"], action=d["action"],
                 delegatable=c["delegatable"], max_bytes=c["max_bytes"], expiry=d["expiry"], issuer=d["issuer"],
                 parent=d["parent"], depth=d["depth"], sig=d["sig"])


def _check_signature(t: Token, now: int, resolve: DidResolver) -> None:
    issuer = canonical_did(t.issuer)
    resolved = resolve(issuer) if issuer is not None else None
    key = default_key(resolved) if resolved is not None else None
    # [RT-021] the issuer is a usable primitive DID
    if resolved is None or key is None or not usable(resolved, now, resolve):
        raise Reject(Reason.CAP_ISSUER_UNKNOWN, "RT-021", f"issuer {t.issuer} is not usable")
    try:
        p256.ecdsa_verify(key, signed_bytes(t), t.sig)
    except Reject:
        # [RT-022] the signature verifies under the issuer's default key
        raise Reject(Reason.CAP_SIGNATURE, "RT-022", "signature does not verify") from None


def verify_chain(chain: list[bytes] | tuple[bytes, ...], app: str, user: str, now: int,
                 revoked: frozenset[bytes], resolve: DidResolver) -> Capability:
    """Verify a grant (its tokens, root first) for ``app`` acting for ``user`` at ``now``."""
    # [RT-020] a grant has at least one token
    if not chain:
        raise Reject(Reason.CAP_MALFORMED, "RT-020", "empty chain")
    prev: Token | None = None
    prev_bytes = b""
    tokens: list[Token] = []
    for data in chain:
        t = decode_token(data)
        _check_signature(t, now, resolve)
        if prev is None:
            authority = t.depth == 0 and t.parent is None and t.issuer == t.user
        else:
            authority = t.parent == token_hash(prev_bytes) and t.depth == prev.depth + 1 and t.issuer == prev.app
        # [RT-023] the issuer may grant this token
        if not authority:
            raise Reject(Reason.CAP_ISSUER, "RT-023", f"{t.issuer} may not issue this token at depth {t.depth}")
        # [RT-024] not expired
        if not now < t.expiry:
            raise Reject(Reason.CAP_EXPIRED, "RT-024", f"expired at {t.expiry}, now {now}")
        # [RT-025] not revoked
        if t.id in revoked:
            raise Reject(Reason.CAP_REVOKED, "RT-025", f"token {t.id.hex()} revoked")
        if prev is not None:
            # [RT-026] a delegation only narrows
            if not narrows(t, prev):
                raise Reject(Reason.CAP_AMPLIFIED, "RT-026", f"{t.resource}/{t.action} is wider than its parent")
            # [RT-027] bounded depth
            if t.depth > MAX_DELEGATION_DEPTH:
                raise Reject(Reason.CAP_TOO_DEEP, "RT-027", f"depth {t.depth}")
        tokens.append(t)
        prev, prev_bytes = t, data
    last = tokens[-1]
    # [RT-028] held by the app and user it is presented for
    if last.app != app or last.user != user:
        raise Reject(Reason.CAP_WRONG_HOLDER, "RT-028", f"token is for {last.app} / {last.user}")
    return capability_of(tokens)


def capability_of(tokens: list[Token]) -> Capability:
    """The capability a verified chain gives."""
    last = tokens[-1]
    return Capability(app=last.app, user=last.user, resource=last.resource, action=last.action,
                      max_bytes=last.max_bytes, expiry=last.expiry, chain_ids=tuple(t.id for t in tokens),
                      delegatable=last.delegatable, depth=last.depth)
