"""App manifests: what an app is, what it may ask for, and who vouches for its code.

A manifest is a JSON object of exactly these members (JSON text as :mod:`spec.did.jsontext` parses
it: no duplicate member, no unknown member):

==================  ==========================================================================
member              value
==================  ==========================================================================
``schema``          ``"elastos.app/1"``
``app``             the app's DID (canonical ``did:elastos`` string)
``developer``       the developer's DID: the signer
``name``            1 to 64 characters, no control character
``version``         1 to 32 characters of ``[0-9A-Za-z.+-]``
``entrypoint``      SHA-256 of the WebAssembly module, 64 lower-case hex digits
``permissions``     permissions requested (:data:`PERMISSIONS`), each at most once
``intents``         intent actions the app may send, each at most once
``intent_filters``  intent actions the app receives, each at most once
``limits``          ``{"fuel", "memory_pages", "calls_per_window"}``: positive integers, at most
                    the runtime's :class:`RuntimeLimits`
``proof``           ``{"verificationMethod", "signature"}``: a key of the developer's
                    ``authentication`` and base64url of the ECDSA P-256 ``r || s``
==================  ==========================================================================

The signature covers ``"elastos.app.manifest/1" || 0x00 || CBOR(m)``, where ``m`` is the
manifest without ``proof`` as a deterministic CBOR map (:mod:`spec.encoding.cbor`; text keys,
arrays in the order written, integers as integers). Member order in the JSON text therefore does
not matter; list order does.

Verification (:func:`verify_manifest`) parses (RT-001..RT-005), then checks that the developer DID
is usable at ``now`` and the verification method is one of its authentication keys (RT-006), that
the signature verifies (RT-007), and that the module's hash is the entrypoint (RT-008).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.did import jsontext
from spec.did.syntax import parse_did_url
from spec.encoding.cbor import cbor_encode
from spec.errors import Reason, Reject, rule
from spec.runtime.identity import DidResolver, canonical_did, usable

__all__ = ["SCHEMA", "PERMISSIONS", "RuntimeLimits", "DEFAULT_RUNTIME_LIMITS", "AppLimits", "Manifest",
           "parse_manifest", "manifest_json", "signed_bytes", "sign_manifest", "verify_manifest",
           "check_action", "module_hash"]

SCHEMA: Final = "elastos.app/1"
DOMAIN: Final = b"elastos.app.manifest/1\x00"
PERMISSIONS: Final = ("storage.read", "storage.write", "carrier.send", "carrier.receive", "intent.send")
"""Every permission a manifest may request (``log``, ``clock_now``, ``random_bytes`` and
``intent_receive`` need none)."""
MAX_ACTION: Final = 64
_ACTION: Final = re.compile(r"[a-z0-9]+(\.[a-z0-9-]+)*")
_VERSION: Final = re.compile(r"[0-9A-Za-z.+-]{1,32}")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
MEMBERS: Final = ("schema", "app", "developer", "name", "version", "entrypoint", "permissions", "intents",
                  "intent_filters", "limits", "proof")
LIMIT_MEMBERS: Final = ("fuel", "memory_pages", "calls_per_window")


class RuntimeLimits(BaseModel):
    """The most the runtime gives any one app (a runtime parameter, not part of a manifest)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    fuel: int = 50_000_000
    """WebAssembly fuel per run (one unit per instruction, plus each host call's cost)."""
    memory_pages: int = 256
    """64 KiB pages of linear memory (256 = 16 MiB)."""
    calls_per_window: int = 10_000
    """Host calls per virtual-time window."""


DEFAULT_RUNTIME_LIMITS: Final = RuntimeLimits()

R_SHAPE = rule(
    "RT-001", Reason.MANIFEST_MALFORMED,
    "A manifest is a JSON object of exactly the manifest's members, each of its JSON type.",
    suite="runtime",
)
R_SCHEMA = rule("RT-002", Reason.MANIFEST_SCHEMA, f"A manifest's schema is {SCHEMA!r}.", suite="runtime")
R_VALUES = rule(
    "RT-003", Reason.MANIFEST_MALFORMED,
    "app and developer are canonical DIDs, name and version are well formed, entrypoint is 64 lower-case hex "
    "digits, intent actions are dotted lower-case names, the proof's verification method is a DID URL.",
    suite="runtime",
)
R_PERMISSIONS = rule(
    "RT-004", Reason.MANIFEST_PERMISSION,
    "Every requested permission is one of the runtime's; no permission or intent action is listed twice.",
    suite="runtime",
)
R_LIMITS = rule(
    "RT-005", Reason.MANIFEST_LIMITS,
    "Each requested limit is a positive integer at most the runtime's limit.",
    suite="runtime",
)
R_DEVELOPER = rule(
    "RT-006", Reason.MANIFEST_DEVELOPER,
    "The developer DID resolves, is valid at now and not deactivated, and the proof's verification method is "
    "one of its authentication keys.",
    suite="runtime",
)
R_SIGNATURE = rule(
    "RT-007", Reason.MANIFEST_SIGNATURE,
    "The manifest's signature verifies under the verification method's key.",
    suite="runtime",
)
R_ENTRYPOINT = rule(
    "RT-008", Reason.MANIFEST_ENTRYPOINT,
    "SHA-256 of the module is the manifest's entrypoint.",
    suite="runtime",
)


class AppLimits(BaseModel):
    """The limits an app asks for."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    fuel: int
    memory_pages: int
    calls_per_window: int


class Manifest(BaseModel):
    """A parsed app manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    app: str
    """The app's DID."""
    developer: str
    """The signer's DID."""
    name: str
    version: str
    entrypoint: str
    """SHA-256 of the module, lower-case hex."""
    permissions: tuple[str, ...]
    intents: tuple[str, ...]
    intent_filters: tuple[str, ...]
    limits: AppLimits
    verification_method: str
    signature: str
    """Base64url of ``r || s``, as written."""


def check_action(action: Any) -> bool:
    """An intent action: a dotted lower-case name of at most 64 characters."""
    return isinstance(action, str) and len(action) <= MAX_ACTION and _ACTION.fullmatch(action) is not None


def module_hash(module: bytes) -> str:
    """The entrypoint hash of a module."""
    return hashlib.sha256(module).hexdigest()


def _typed(d: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    v = d[key]
    # [RT-001] each member has its JSON type (a boolean is not an integer)
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is int):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-001", f"{key}: wrong JSON type")
    return v


def _exact(v: Any, members: tuple[str, ...], where: str) -> dict[str, Any]:
    # [RT-001] an object of exactly the members
    if not isinstance(v, dict) or set(v) != set(members):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-001", f"{where}: not an object of exactly {members}")
    return v


def _strings(d: dict[str, Any], key: str) -> tuple[str, ...]:
    items = _typed(d, key, list)
    # [RT-001] a list of strings
    if not all(isinstance(x, str) for x in items):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-001", f"{key}: not a list of strings")
    return tuple(items)


def parse_manifest(text: str, limits: RuntimeLimits = DEFAULT_RUNTIME_LIMITS) -> Manifest:
    """Parse a manifest's JSON text (RT-001..RT-005); no signature or resolution."""
    d = _exact(jsontext.parse(text), MEMBERS, "manifest")
    # [RT-002] the schema
    if d["schema"] != SCHEMA:
        raise Reject(Reason.MANIFEST_SCHEMA, "RT-002", f"schema {d['schema']!r}")
    app, developer, name, version, entry = (_typed(d, k, str) for k in ("app", "developer", "name", "version",
                                                                          "entrypoint"))
    permissions, intents, filters = (_strings(d, k) for k in ("permissions", "intents", "intent_filters"))
    lim = _exact(d["limits"], LIMIT_MEMBERS, "limits")
    fuel, pages, calls = (_typed(lim, k, int) for k in LIMIT_MEMBERS)
    proof = _exact(d["proof"], ("verificationMethod", "signature"), "proof")
    vm, sig = _typed(proof, "verificationMethod", str), _typed(proof, "signature", str)
    # [RT-003] app and developer are canonical DIDs
    if canonical_did(app) is None or canonical_did(developer) is None:
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-003", "app or developer is not a canonical DID")
    # [RT-003] name: 1..64 characters without control characters; version: [0-9A-Za-z.+-]{1,32}
    if not 1 <= len(name) <= 64 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name) \
            or not _VERSION.fullmatch(version):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-003", "bad name or version")
    # [RT-003] entrypoint: 64 lower-case hex digits
    if not _HEX64.fullmatch(entry):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-003", "entrypoint is not 64 lower-case hex digits")
    # [RT-003] intent actions are dotted lower-case names
    if not all(check_action(a) for a in intents + filters):
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-003", "bad intent action")
    try:
        url = parse_did_url(vm)
    except Reject:
        url = None
    # [RT-003] the verification method is an absolute DID URL with a fragment
    if url is None or url.did is None or url.fragment is None:
        raise Reject(Reason.MANIFEST_MALFORMED, "RT-003", "verificationMethod is not an absolute key id")
    unknown = [p for p in permissions if p not in PERMISSIONS]
    # [RT-004] known permissions only
    if unknown:
        raise Reject(Reason.MANIFEST_PERMISSION, "RT-004", f"unknown permission {unknown[0]!r}")
    # [RT-004] no permission or action twice
    if any(len(set(x)) != len(x) for x in (permissions, intents, filters)):
        raise Reject(Reason.MANIFEST_PERMISSION, "RT-004", "a permission or action listed twice")
    # [RT-005] each limit positive and within the runtime's
    if not (1 <= fuel <= limits.fuel and 1 <= pages <= limits.memory_pages and 1 <= calls <= limits.calls_per_window):
        raise Reject(Reason.MANIFEST_LIMITS, "RT-005", f"limits {fuel}, {pages}, {calls} exceed {limits}")
    return Manifest(app=app, developer=developer, name=name, version=version, entrypoint=entry,
                    permissions=permissions, intents=intents, intent_filters=filters,
                    limits=AppLimits(fuel=fuel, memory_pages=pages, calls_per_window=calls),
                    verification_method=vm, signature=sig)


def _body(m: Manifest) -> dict[str, Any]:
    return {"schema": SCHEMA, "app": m.app, "developer": m.developer, "name": m.name, "version": m.version,
            "entrypoint": m.entrypoint, "permissions": list(m.permissions), "intents": list(m.intents),
            "intent_filters": list(m.intent_filters),
            "limits": {"fuel": m.limits.fuel, "memory_pages": m.limits.memory_pages,
                       "calls_per_window": m.limits.calls_per_window}}


def signed_bytes(m: Manifest) -> bytes:
    """What the developer signs: the domain tag, then deterministic CBOR of the manifest without ``proof``."""
    return DOMAIN + cbor_encode(_body(m))


def manifest_json(m: Manifest) -> str:
    """The manifest's JSON text (members in table order)."""
    return jsontext.serialize({**_body(m), "proof": {"verificationMethod": m.verification_method,
                                                     "signature": m.signature}})


def sign_manifest(m: Manifest, private_key: bytes) -> Manifest:
    """``m`` with a fresh signature by ``private_key`` (RFC 6979)."""
    sig = base64.urlsafe_b64encode(p256.ecdsa_sign(private_key, signed_bytes(m))).rstrip(b"=").decode("ascii")
    return m.model_copy(update={"signature": sig})


def _b64url(text: str) -> bytes | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def verify_manifest(text: str, module: bytes, resolve: DidResolver, now: int,
                    limits: RuntimeLimits = DEFAULT_RUNTIME_LIMITS) -> Manifest:
    """Parse and verify a manifest for ``module`` at ``now``; returns it, or raises the first broken rule."""
    m = parse_manifest(text, limits)
    developer = canonical_did(m.developer)
    url = parse_did_url(m.verification_method)
    resolved = resolve(developer) if developer is not None else None
    key = resolved.document.key(url) if resolved is not None else None
    # [RT-006] the developer is usable and signs with one of its authentication keys
    if resolved is None or url.did != developer or key is None or url not in resolved.document.authentication \
            or not usable(resolved, now, resolve):
        raise Reject(Reason.MANIFEST_DEVELOPER, "RT-006", f"{m.developer} cannot sign with {m.verification_method}")
    sig = _b64url(m.signature)
    try:
        ok = sig is not None and (p256.ecdsa_verify(key.public_key, signed_bytes(m), sig) is None)
    except Reject:
        ok = False
    # [RT-007] the signature verifies
    if not ok:
        raise Reject(Reason.MANIFEST_SIGNATURE, "RT-007", "signature does not verify")
    # [RT-008] the module is the one the developer signed
    if module_hash(module) != m.entrypoint:
        raise Reject(Reason.MANIFEST_ENTRYPOINT, "RT-008", f"module hash {module_hash(module)} != entrypoint")
    return m
