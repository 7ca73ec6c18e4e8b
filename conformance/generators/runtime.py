"""Generators of the ``runtime`` suite: manifests, capability tokens, storage paths, imports, decisions, limits.

Every identity is a primitive DID whose key is derived from its label (``det_int``); its document is
written by :func:`spec.runtime.identity.primitive_document`, valid from ``CREATED`` to ``EXPIRES``
(``stale`` expired before ``NOW``). Modules are byte strings standing for WebAssembly modules (the
manifest rules read only their hash). Signatures use RFC 6979 nonces, so every case is reproducible.
Negative cases change one thing of a valid input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from spec.crypto import p256
from spec.did import keys
from spec.errors import Reason
from spec.runtime import capability as C
from spec.runtime import hostcalls as H
from spec.runtime import manifest as M
from spec.runtime.identity import DidResolver, primitive_document

from conformance.generators.common import det_bytes, det_int
from conformance.vectors import CaseSpec, generator

OK = "ok"
NOW = 1_750_000_000
CREATED = 1_700_000_000
EXPIRES = 2_000_000_000
HOUR = 3600
LABELS = ("developer", "user", "user2", "notes", "chat", "viewer", "editor", "friend", "stranger", "gone", "stale")
DEACTIVATED = ("gone",)
LIMITS = (1_000_000, 16, 100)


def private_key(label: str) -> bytes:
    return det_int(f"runtime/key/{label}", 1, p256.N - 1).to_bytes(32, "big")


@cache
def did(label: str) -> str:
    return str(keys.did_from_public_key(p256.public_key_from_private(private_key(label))))


@cache
def doc(label: str) -> str:
    return primitive_document(private_key(label), NOW - 1000 if label == "stale" else EXPIRES, CREATED)


def dids(*without: str) -> dict[str, Any]:
    """Every identity's resolution (minus ``without``)."""
    return {did(x): {"document": doc(x), "deactivated": x in DEACTIVATED} for x in LABELS if x not in without}


@cache
def resolver() -> DidResolver:
    """The spec resolver of :func:`dids` (for tests)."""
    from conformance.bindings_runtime.sandbox import resolver as from_json
    return from_json(dids())


def module(app: str) -> bytes:
    return b"\x00asm\x01\x00\x00\x00" + det_bytes(f"runtime/module/{app}", 24)


APPS: dict[str, dict[str, Any]] = {
    "notes": {"permissions": ("storage.read", "storage.write", "intent.send"), "intents": ("share.document",),
              "intent_filters": ()},
    "chat": {"permissions": ("carrier.send", "carrier.receive"), "intents": (), "intent_filters": ("chat.open",)},
    "viewer": {"permissions": ("storage.read",), "intents": (), "intent_filters": ("share.document",)},
    "editor": {"permissions": ("storage.read", "storage.write"), "intents": (), "intent_filters": ("share.document",)},
}


def manifest_model(app: str, developer: str = "developer", **change: Any) -> M.Manifest:
    spec = {**APPS[app], **change}
    fuel, pages, calls = spec.pop("limits", LIMITS)
    m = M.Manifest(app=did(app), developer=did(developer), name=app.capitalize(), version="1.0.0",
                   entrypoint=M.module_hash(module(app)), permissions=tuple(spec["permissions"]),
                   intents=tuple(spec["intents"]), intent_filters=tuple(spec["intent_filters"]),
                   limits=M.AppLimits(fuel=fuel, memory_pages=pages, calls_per_window=calls),
                   verification_method=f"{did(developer)}#primary", signature="")
    return M.sign_manifest(m, private_key(developer))


def manifest_text(app: str, developer: str = "developer", **change: Any) -> str:
    return M.manifest_json(manifest_model(app, developer, **change))


def tampered(text: str, change: Any) -> str:
    d = json.loads(text)
    change(d)
    return json.dumps(d, separators=(",", ":"))


def token(app: str, resource: str, action: str, *, issuer: str = "user", user: str = "user", signer: str | None = None,
          expiry: int = NOW + HOUR, delegatable: bool = False, max_bytes: int | None = None,
          parent: bytes | None = None, depth: int = 0, label: str = "") -> bytes:
    """A signed token (by ``signer``, default the issuer); ``parent`` is the parent token's bytes."""
    t = C.Token(id=det_bytes(f"runtime/token/{app}/{resource}/{action}/{label}", 16), app=did(app), user=did(user),
                resource=resource, action=action, delegatable=delegatable, max_bytes=max_bytes, expiry=expiry,
                issuer=did(issuer), parent=None if parent is None else C.token_hash(parent), depth=depth,
                sig=bytes(64))
    return C.encode_token(C.sign_token(t, private_key(signer or issuer)))


def token_id(data: bytes) -> str:
    return C.decode_token(data).id.hex()


# -- manifests ---------------------------------------------------------------------------------------


def _mv(text: str, app: str = "notes", mod: bytes | None = None, now: int = NOW, ids: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    return {"manifest": text, "module": (module(app) if mod is None else mod).hex(),
            "dids": dids() if ids is None else ids, "now": now}


@generator("runtime", "runtime.manifest.verify")
def manifest_verify() -> Iterator[CaseSpec]:
    rules = ("RT-001", "RT-002", "RT-003", "RT-004", "RT-005", "RT-006", "RT-007", "RT-008")
    for app in APPS:
        yield CaseSpec(f"{app}_ok", _mv(manifest_text(app), app), OK, rules, f"the {app} app's signed manifest")
    good = manifest_text("notes")
    yield CaseSpec("members_reordered_ok", _mv(json.dumps(dict(reversed(list(json.loads(good).items()))))), OK,
                   ("RT-007",), "the signature covers CBOR of the members, so JSON member order does not matter")
    shape = [
        ("not_an_object", "[]"),
        ("missing_member", tampered(good, lambda d: d.pop("intents"))),
        ("unknown_member", tampered(good, lambda d: d.update(network=True))),
        ("permissions_not_strings", tampered(good, lambda d: d.update(permissions=[1]))),
        ("fuel_is_boolean", tampered(good, lambda d: d["limits"].update(fuel=True))),
        ("fuel_is_fraction", tampered(good, lambda d: d["limits"].update(fuel=1.5))),
        ("limits_extra_member", tampered(good, lambda d: d["limits"].update(cpu=1))),
        ("proof_missing_signature", tampered(good, lambda d: d["proof"].pop("signature"))),
    ]
    for name, text in shape:
        yield CaseSpec(name, _mv(text), Reason.MANIFEST_MALFORMED, ("RT-001",))
    yield CaseSpec("json_duplicate_member", _mv(good[:-1] + ',"name":"x"}'), Reason.JSON_DUPLICATE_MEMBER)
    yield CaseSpec("schema_v2", _mv(tampered(good, lambda d: d.update(schema="elastos.app/2"))), Reason.MANIFEST_SCHEMA,
                   ("RT-002",))
    values = [
        ("app_not_canonical", lambda d: d.update(app=" " + d["app"])),
        ("app_other_method", lambda d: d.update(app="did:example:123")),
        ("entrypoint_upper_case", lambda d: d.update(entrypoint=d["entrypoint"].upper())),
        ("entrypoint_short", lambda d: d.update(entrypoint=d["entrypoint"][:62])),
        ("action_upper_case", lambda d: d.update(intents=["Share.Document"])),
        ("action_too_long", lambda d: d.update(intent_filters=["a" * 65])),
        ("version_with_space", lambda d: d.update(version="1.0 beta")),
        ("name_empty", lambda d: d.update(name="")),
        ("name_control_character", lambda d: d.update(name="No\ntes")),
        ("verification_method_without_fragment", lambda d: d["proof"].update(verificationMethod=d["developer"])),
    ]
    for name, change in values:
        yield CaseSpec(name, _mv(tampered(good, change)), Reason.MANIFEST_MALFORMED, ("RT-003",))
    yield CaseSpec("action_max_length_ok", _mv(manifest_text("notes", intents=("a" * 64,))), OK, ("RT-003",))
    yield CaseSpec("unknown_permission", _mv(manifest_text("notes", permissions=("storage.read", "network.socket"))),
                   Reason.MANIFEST_PERMISSION, ("RT-004",), "no permission opens a socket")
    yield CaseSpec("duplicate_permission", _mv(manifest_text("notes", permissions=("storage.read", "storage.read"))),
                   Reason.MANIFEST_PERMISSION, ("RT-004",))
    yield CaseSpec("duplicate_filter", _mv(manifest_text("viewer", intent_filters=("a.b", "a.b")), "viewer"),
                   Reason.MANIFEST_PERMISSION, ("RT-004",))
    lim = M.DEFAULT_RUNTIME_LIMITS
    yield CaseSpec("limits_at_maximum_ok", _mv(manifest_text("notes", limits=(lim.fuel, lim.memory_pages,
                                                                             lim.calls_per_window))), OK, ("RT-005",))
    for name, value in (("fuel_zero", (0, 16, 100)), ("memory_over", (1000, lim.memory_pages + 1, 100)),
                        ("rate_over", (1000, 16, lim.calls_per_window + 1)), ("fuel_over", (lim.fuel + 1, 16, 100))):
        yield CaseSpec(name, _mv(manifest_text("notes", limits=value)), Reason.MANIFEST_LIMITS, ("RT-005",))
    yield CaseSpec("developer_unknown", _mv(good, ids=dids("developer")), Reason.MANIFEST_DEVELOPER, ("RT-006",))
    yield CaseSpec("developer_deactivated", _mv(manifest_text("notes", "gone")), Reason.MANIFEST_DEVELOPER, ("RT-006",))
    yield CaseSpec("developer_expired", _mv(manifest_text("notes", "stale")), Reason.MANIFEST_DEVELOPER, ("RT-006",))
    yield CaseSpec("developer_expired_but_checked_before_ok", _mv(manifest_text("notes", "stale"), now=CREATED + 1), OK,
                   ("RT-006",), "validity is judged at the now given")
    yield CaseSpec("key_of_another_did", _mv(tampered(good, lambda d: d["proof"].update(
        verificationMethod=f"{did('user')}#primary"))), Reason.MANIFEST_DEVELOPER, ("RT-006",))
    yield CaseSpec("key_not_in_document", _mv(tampered(good, lambda d: d["proof"].update(
        verificationMethod=f"{did('developer')}#other"))), Reason.MANIFEST_DEVELOPER, ("RT-006",))
    yield CaseSpec("permission_added_after_signing", _mv(tampered(good, lambda d: d["permissions"].append(
        "carrier.send"))), Reason.MANIFEST_SIGNATURE, ("RT-007",), "manifest tampering: a permission added")
    yield CaseSpec("entrypoint_swapped_after_signing", _mv(tampered(good, lambda d: d.update(
        entrypoint=M.module_hash(module("chat")))), mod=module("chat")), Reason.MANIFEST_SIGNATURE, ("RT-007",),
        "manifest tampering: the entrypoint hash changed to another module's")
    yield CaseSpec("signature_not_base64url", _mv(tampered(good, lambda d: d["proof"].update(signature="!!"))),
                   Reason.MANIFEST_SIGNATURE, ("RT-007",))
    other = M.manifest_json(M.sign_manifest(manifest_model("notes"), private_key("user")))
    yield CaseSpec("signed_by_another_key", _mv(other), Reason.MANIFEST_SIGNATURE, ("RT-007",))
    flipped = bytearray(module("notes"))
    flipped[-1] ^= 1
    yield CaseSpec("module_changed", _mv(good, mod=bytes(flipped)), Reason.MANIFEST_ENTRYPOINT, ("RT-008",),
                   "the module is not the one the developer signed")


# -- capability tokens --------------------------------------------------------------------------------


@generator("runtime", "runtime.capability.decode")
def capability_decode() -> Iterator[CaseSpec]:
    root = token("notes", "storage:notes/*", "read")
    yield CaseSpec("root_ok", {"token": root.hex()}, OK, ("RT-020",))
    yield CaseSpec("bounded_ok", {"token": token("chat", "carrier:*", "send", max_bytes=1024).hex()}, OK, ("RT-020",))
    yield CaseSpec("intent_any_ok", {"token": token("notes", "intent:*", "send").hex()}, OK, ("RT-020",))
    yield CaseSpec("carrier_peer_ok", {"token": token("chat", f"carrier:{did('friend')}", "send").hex()}, OK,
                   ("RT-020",))
    from spec.encoding.cbor import cbor_decode, cbor_encode

    def changed(**kv: Any) -> str:
        d = cbor_decode(root)
        assert isinstance(d, dict)
        for k, v in kv.items():
            if v is ...:
                d.pop(k)
            else:
                d[k] = v
        return cbor_encode(d).hex()

    bad = [
        ("not_cbor", "ff"),
        ("non_shortest_integer", "1800"),
        ("not_a_map", "80"),
        ("missing_key", changed(depth=...)),
        ("extra_key", changed(scope="all")),
        ("version_2", changed(v=2)),
        ("id_short", changed(id=bytes(15))),
        ("sig_short", changed(sig=bytes(63))),
        ("expiry_negative", changed(expiry=-1)),
        ("depth_text", changed(depth="0")),
        ("app_not_canonical", changed(app=did("notes") + " ")),
        ("resource_traversal", changed(resource="storage:../other/*")),
        ("resource_unknown_kind", changed(resource="socket:*")),
        ("action_of_other_kind", changed(action="send")),
        ("constraints_extra", changed(constraints={"delegatable": False, "max_bytes": None, "uses": 1})),
        ("trailing_byte", root.hex() + "00"),
    ]
    for name, data in bad:
        yield CaseSpec(name, {"token": data}, Reason.CAP_MALFORMED, ("RT-020",))


def _cv(chain: list[bytes], app: str = "notes", user: str = "user", now: int = NOW, revoked: tuple[bytes, ...] = (),
        ids: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"chain": [t.hex() for t in chain], "app": did(app), "user": did(user), "now": now,
            "revoked": [token_id(t) for t in revoked], "dids": dids() if ids is None else ids}


@generator("runtime", "runtime.capability.verify")
def capability_verify() -> Iterator[CaseSpec]:
    all_rules = ("RT-020", "RT-021", "RT-022", "RT-023", "RT-024", "RT-025", "RT-028")
    root = token("notes", "storage:docs/*", "read", delegatable=True, max_bytes=4096)
    d1 = token("viewer", "storage:docs/a.txt", "read", issuer="notes", parent=root, depth=1, delegatable=True,
               max_bytes=1024, expiry=NOW + 60)
    d2 = token("editor", "storage:docs/a.txt", "read", issuer="viewer", parent=d1, depth=2, delegatable=True,
               max_bytes=512, expiry=NOW + 30)
    d3 = token("chat", "storage:docs/a.txt", "read", issuer="editor", parent=d2, depth=3, max_bytes=512,
               expiry=NOW + 30)
    yield CaseSpec("root_ok", _cv([root]), OK, all_rules)
    yield CaseSpec("carrier_root_ok", _cv([token("chat", "carrier:*", "send")], "chat"), OK, all_rules)
    yield CaseSpec("delegated_once_ok", _cv([root, d1], "viewer"), OK, all_rules + ("RT-026", "RT-027"))
    yield CaseSpec("delegated_twice_ok", _cv([root, d1, d2], "editor"), OK, all_rules + ("RT-026", "RT-027"),
                   "a chain of MAX_DELEGATION_DEPTH delegations")
    yield CaseSpec("expiry_one_second_left_ok", _cv([root], now=NOW + HOUR - 1), OK, ("RT-024",))
    yield CaseSpec("empty_chain", _cv([]), Reason.CAP_MALFORMED, ("RT-020",))
    yield CaseSpec("garbage_token", {**_cv([root]), "chain": ["a0"]}, Reason.CAP_MALFORMED, ("RT-020",))
    yield CaseSpec("issuer_unknown", _cv([root], ids=dids("user")), Reason.CAP_ISSUER_UNKNOWN, ("RT-021",))
    yield CaseSpec("issuer_deactivated", _cv([token("notes", "storage:*", "read", issuer="gone", user="gone")],
                                            user="gone"), Reason.CAP_ISSUER_UNKNOWN, ("RT-021",))
    yield CaseSpec("issuer_expired", _cv([token("notes", "storage:*", "read", issuer="stale", user="stale")],
                                        user="stale"), Reason.CAP_ISSUER_UNKNOWN, ("RT-021",))
    forged = bytearray(root)
    forged[-1] ^= 1
    yield CaseSpec("signature_flipped", _cv([bytes(forged)]), Reason.CAP_SIGNATURE, ("RT-022",), "a forged token")
    yield CaseSpec("signed_by_the_app_not_the_user", _cv([token("notes", "storage:*", "read", signer="notes")]),
                   Reason.CAP_SIGNATURE, ("RT-022",), "an app forging its user's grant")
    yield CaseSpec("app_grants_itself", _cv([token("notes", "storage:*", "read", issuer="notes")]), Reason.CAP_ISSUER,
                   ("RT-023",), "a root token must come from the user")
    yield CaseSpec("delegation_without_parent", _cv([d1], "viewer"), Reason.CAP_ISSUER, ("RT-023",))
    wrong_parent = token("viewer", "storage:docs/a.txt", "read", issuer="notes", parent=d2, depth=1)
    yield CaseSpec("delegation_wrong_parent_hash", _cv([root, wrong_parent], "viewer"), Reason.CAP_ISSUER, ("RT-023",))
    wrong_issuer = token("viewer", "storage:docs/a.txt", "read", issuer="chat", parent=root, depth=1)
    yield CaseSpec("delegation_by_non_holder", _cv([root, wrong_issuer], "viewer"), Reason.CAP_ISSUER, ("RT-023",))
    wrong_depth = token("viewer", "storage:docs/a.txt", "read", issuer="notes", parent=root, depth=2)
    yield CaseSpec("delegation_wrong_depth", _cv([root, wrong_depth], "viewer"), Reason.CAP_ISSUER, ("RT-023",))
    yield CaseSpec("expired_at_expiry", _cv([root], now=NOW + HOUR), Reason.CAP_EXPIRED, ("RT-024",),
                   "valid while now < expiry")
    yield CaseSpec("delegation_expired", _cv([root, d1], "viewer", now=NOW + 60), Reason.CAP_EXPIRED, ("RT-024",))
    yield CaseSpec("root_revoked", _cv([root], revoked=(root,)), Reason.CAP_REVOKED, ("RT-025",))
    yield CaseSpec("parent_revoked", _cv([root, d1], "viewer", revoked=(root,)), Reason.CAP_REVOKED, ("RT-025",),
                   "revoking a token revokes what was delegated from it")
    widen = [
        ("wider_resource", dict(resource="storage:*")),
        ("sibling_resource", dict(resource="storage:docsx/a.txt")),
        ("other_action", dict(action="write")),
        ("later_expiry", dict(expiry=NOW + 2 * HOUR)),
        ("larger_bound", dict(max_bytes=8192)),
        ("unbounded", dict(max_bytes=None)),
        ("other_user", dict(user="user2")),
    ]
    for name, kv in widen:
        args: dict[str, Any] = dict(resource="storage:docs/a.txt", action="read", max_bytes=1024, user="user")
        args.update(kv)
        child = token("viewer", args.pop("resource"), args.pop("action"), issuer="notes", parent=root, depth=1,
                      label=name, **args)
        yield CaseSpec(f"amplify_{name}", _cv([root, child], "viewer", user=kv.get("user", "user")),
                       Reason.CAP_AMPLIFIED, ("RT-026",), "over-delegation: a delegation may only narrow")
    plain = token("notes", "storage:docs/*", "read", label="plain")
    child = token("viewer", "storage:docs/a.txt", "read", issuer="notes", parent=plain, depth=1)
    yield CaseSpec("parent_not_delegatable", _cv([plain, child], "viewer"), Reason.CAP_AMPLIFIED, ("RT-026",))
    yield CaseSpec("three_delegations", _cv([root, d1, d2, d3], "chat"), Reason.CAP_TOO_DEEP, ("RT-027",))
    yield CaseSpec("replayed_by_another_app", _cv([root], "chat"), Reason.CAP_WRONG_HOLDER, ("RT-028",),
                   "a token captured from notes and presented by chat")
    yield CaseSpec("presented_for_another_user", _cv([root], user="user2"), Reason.CAP_WRONG_HOLDER, ("RT-028",))


# -- paths -------------------------------------------------------------------------------------------


PATH_OK = [
    ("file", "notes.txt", False), ("nested", "docs/2026/a.txt", False), ("hidden_file", ".hidden", False),
    ("percent_literal", "100%.txt", False), ("percent_other", "a%41b", False), ("nfc_accent", "caf\u00e9", False),
    ("cjk", "\u7b14\u8bb0/\u4eca\u5929.txt", False), ("name_255_bytes", "n" * 255, False),
    ("path_1024_bytes", "/".join(["p" * 255] * 3 + ["p" * 254]) + "/q", False), ("depth_32", "/".join(["d"] * 32), False),
    ("dotdot_inside_name", "a..b", False), ("con_inside_name", "icon.txt", False),
    ("home_dir", "", True), ("sub_dir", "docs", True),
]
PATH_BAD = [
    ("empty", "", Reason.PATH_EMPTY), ("absolute", "/etc/passwd", Reason.PATH_ABSOLUTE),
    ("absolute_backslash", "\\\\server\\share", Reason.PATH_ABSOLUTE), ("drive_letter", "C:x", Reason.PATH_ABSOLUTE),
    ("nul", "a\x00b", Reason.PATH_BAD_CHARACTER), ("control", "a\x01b", Reason.PATH_BAD_CHARACTER),
    ("del", "a\x7fb", Reason.PATH_BAD_CHARACTER), ("backslash", "a\\..\\b", Reason.PATH_BAD_CHARACTER),
    ("colon_stream", "file.txt:stream", Reason.PATH_BAD_CHARACTER), ("lone_surrogate", "a\udc80", Reason.PATH_BAD_CHARACTER),
    ("encoded_dots", "%2e%2e/x", Reason.PATH_ENCODED_SEPARATOR), ("encoded_slash", "a%2Fb", Reason.PATH_ENCODED_SEPARATOR),
    ("encoded_backslash", "a%5cb", Reason.PATH_ENCODED_SEPARATOR), ("encoded_nul", "a%00", Reason.PATH_ENCODED_SEPARATOR),
    ("nfd_accent", "cafe\u0301", Reason.PATH_NOT_NFC), ("angstrom_sign", "\u212b", Reason.PATH_NOT_NFC),
    ("path_1025_bytes", "/".join(["p" * 255] * 3 + ["p" * 254]) + "/qq", Reason.PATH_TOO_LONG),
    ("name_256_bytes", "n" * 256, Reason.PATH_TOO_LONG), ("name_256_utf8_bytes", "\u00e9" * 128, Reason.PATH_TOO_LONG),
    ("depth_33", "/".join(["d"] * 33), Reason.PATH_TOO_LONG),
    ("double_slash", "a//b", Reason.PATH_EMPTY_COMPONENT), ("trailing_slash", "a/", Reason.PATH_EMPTY_COMPONENT),
    ("dotdot", "..", Reason.PATH_TRAVERSAL), ("dotdot_inside", "a/../../b", Reason.PATH_TRAVERSAL),
    ("dot", "./a", Reason.PATH_TRAVERSAL), ("con", "CON", Reason.PATH_RESERVED_NAME),
    ("con_lower_extension", "docs/con.txt", Reason.PATH_RESERVED_NAME), ("lpt9", "lpt9", Reason.PATH_RESERVED_NAME),
    ("trailing_dot", "a.", Reason.PATH_RESERVED_NAME), ("trailing_space", "a ", Reason.PATH_RESERVED_NAME),
    ("runtime_metadata", ".elastos", Reason.PATH_RESERVED_NAME),
    ("runtime_metadata_prefix", ".elastos-sync/state", Reason.PATH_RESERVED_NAME),
]


@generator("runtime", "runtime.path.resolve")
def path_resolve() -> Iterator[CaseSpec]:
    all_rules = tuple(f"RT-0{n}" for n in range(40, 49))
    for name, path, is_dir in PATH_OK:
        yield CaseSpec(name, {"user": did("user"), "app": did("notes"), "path": path, "dir": is_dir}, OK, all_rules)
    for name, path, reason in PATH_BAD:
        yield CaseSpec(name, {"user": did("user"), "app": did("notes"), "path": path, "dir": False}, reason)


# -- imports -----------------------------------------------------------------------------------------


def _sig(e: H.HostCallEntry) -> str:
    return f"func({','.join(e.params)})->({','.join(e.results)})"


@generator("runtime", "runtime.module.imports")
def module_imports() -> Iterator[CaseSpec]:
    yield CaseSpec("none_ok", {"imports": []}, OK, ("RT-080", "RT-081"), "a module with no effects at all")
    yield CaseSpec("whole_table_ok", {"imports": [["elastos", e.name, _sig(e)] for e in H.TABLE.values()]}, OK,
                   ("RT-080", "RT-081"))
    bad = [
        ("wasi_fd_write", ["wasi_snapshot_preview1", "fd_write", "func(i32,i32,i32,i32)->(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("wasi_sock_open", ["wasi_snapshot_preview1", "sock_open", "func(i32,i32,i32)->(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("env_module", ["env", "log", "func(i32,i32)->(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("undeclared_function", ["elastos", "socket_open", "func(i32,i32)->(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("process_spawn", ["elastos", "spawn", "func(i32,i32)->(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("imported_memory", ["elastos", "memory", "memory"], Reason.HOSTCALL_UNKNOWN),
        ("table_name_as_global", ["elastos", "log", "global(i32)"], Reason.HOSTCALL_UNKNOWN),
        ("log_wrong_params", ["elastos", "log", "func(i32)->(i32)"], Reason.HOSTCALL_MALFORMED),
        ("clock_wrong_result", ["elastos", "clock_now", "func()->(i32)"], Reason.HOSTCALL_MALFORMED),
    ]
    for name, imp, reason in bad:
        yield CaseSpec(name, {"imports": [["elastos", "log", _sig(H.TABLE["log"])], imp]}, reason)


# -- decide ------------------------------------------------------------------------------------------


def _state(**kv: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"user": did("user"), "now": NOW, "window_start": NOW, "calls_in_window": 0,
                         "stored_bytes": 0, "quota": H.DEFAULT_QUOTA, "friends": [did("friend"), did("gone"),
                                                                                 did("stale")],
                         "revoked": [], "installed": [manifest_text(a) for a in ("notes", "chat", "viewer")]}
    s.update(kv)
    return s


def _d(app: str, grants: list[list[bytes]], call: dict[str, Any], **state: Any) -> dict[str, Any]:
    return {"manifest": manifest_text(app), "grants": [[t.hex() for t in c] for c in grants], "granted_at": NOW,
            "state": _state(**state), "call": {"size": 0, **call}, "dids": dids()}


NOTES_READ = token("notes", "storage:notes/*", "read")
NOTES_WRITE = token("notes", "storage:notes/*", "write", max_bytes=4096)
NOTES_ALL = [token("notes", "storage:*", a) for a in ("read", "write", "list", "delete")]
SHARE = token("notes", "intent:share.document", "send")
CHAT_SEND = token("chat", "carrier:*", "send")
CHAT_RECV = token("chat", "carrier:*", "receive")


@generator("runtime", "runtime.decide")
def decide_cases() -> Iterator[CaseSpec]:
    notes = [[NOTES_READ], [NOTES_WRITE], [SHARE]] + [[t] for t in NOTES_ALL]
    base = ("RT-082", "RT-083", "RT-084", "RT-090", "RT-091")
    storage = base + tuple(f"RT-0{n}" for n in range(40, 49)) + ("RT-024", "RT-025", "RT-029", "RT-030")
    ok = [
        ("storage_read_ok", "notes", [[NOTES_READ]], {"name": "storage_read", "path": "notes/today.txt",
                                                      "size": 4096}, storage),
        ("storage_write_ok", "notes", [[NOTES_WRITE]], {"name": "storage_write", "path": "notes/today.txt",
                                                        "size": 4096}, storage + ("RT-092",)),
        ("storage_list_home_ok", "notes", notes, {"name": "storage_list", "path": "", "size": 1024}, storage),
        ("storage_list_dir_ok", "notes", [[token("notes", "storage:notes/*", "list")]],
         {"name": "storage_list", "path": "notes", "size": 1024}, storage),
        ("storage_delete_ok", "notes", notes, {"name": "storage_delete", "path": "notes/old.txt"}, storage),
        ("log_ok", "notes", [], {"name": "log", "size": 1024}, base),
        ("clock_ok", "chat", [], {"name": "clock_now"}, base),
        ("random_ok", "chat", [], {"name": "random_bytes", "size": 256}, base),
        ("intent_receive_ok", "viewer", [], {"name": "intent_receive", "size": 4096}, base),
        ("carrier_send_friend_ok", "chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": did("friend"),
                                                           "size": 100},
         base + ("RT-070", "RT-071", "RT-072", "RT-073", "RT-074", "RT-029")),
        ("carrier_send_one_peer_grant_ok", "chat", [[token("chat", f"carrier:{did('friend')}", "send")]],
         {"name": "carrier_send", "peer": did("friend"), "size": 100}, ("RT-029",)),
        ("carrier_receive_ok", "chat", [[CHAT_RECV]], {"name": "carrier_receive", "size": 4096}, base + ("RT-029",)),
        ("intent_send_to_target_ok", "notes", notes, {"name": "intent_send", "sender": did("notes"),
                                                      "target": did("viewer"), "action": "share.document",
                                                      "size": 100},
         base + ("RT-060", "RT-061", "RT-062", "RT-063", "RT-064", "RT-029")),
        ("intent_send_sole_receiver_ok", "notes", notes, {"name": "intent_send", "sender": did("notes"), "target": "",
                                                          "action": "share.document", "size": 100},
         ("RT-063", "RT-064")),
    ]
    for name, app, grants, call, rules in ok:
        yield CaseSpec(name, _d(app, grants, call), OK, rules)
    yield CaseSpec("rate_new_window_ok", _d("notes", notes, {"name": "log", "size": 1}, window_start=NOW - 1,
                                            calls_in_window=LIMITS[2]), OK, ("RT-091",),
                   "a new virtual-time window starts the count again")
    yield CaseSpec("quota_exact_ok", _d("notes", [[NOTES_WRITE]], {"name": "storage_write", "path": "notes/a",
                                                                   "size": 4096}, stored_bytes=H.DEFAULT_QUOTA - 4096),
                   OK, ("RT-092",))
    read = {"name": "storage_read", "path": "notes/today.txt", "size": 10}
    bad: list[tuple[str, dict[str, Any], Reason, str]] = [
        ("unknown_call", _d("notes", notes, {"name": "socket_open"}), Reason.HOSTCALL_UNKNOWN, "no socket call exists"),
        ("spawn_process", _d("notes", notes, {"name": "spawn", "path": "/bin/sh"}), Reason.HOSTCALL_UNKNOWN,
         "no process call exists"),
        ("missing_path", _d("notes", notes, {"name": "storage_read"}), Reason.HOSTCALL_MALFORMED, ""),
        ("extra_argument", _d("notes", notes, {"name": "log", "peer": did("friend")}), Reason.HOSTCALL_MALFORMED, ""),
        ("log_too_large", _d("notes", notes, {"name": "log", "size": 1025}), Reason.ARGUMENT_TOO_LARGE, "huge argument"),
        ("write_too_large", _d("notes", notes, {"name": "storage_write", "path": "notes/a", "size": 65537}),
         Reason.ARGUMENT_TOO_LARGE, ""),
        ("path_argument_too_large", _d("notes", notes, {"name": "storage_read", "path": "a/" * 2049}),
         Reason.ARGUMENT_TOO_LARGE, ""),
        ("random_too_many", _d("chat", [], {"name": "random_bytes", "size": 257}), Reason.ARGUMENT_TOO_LARGE, ""),
        ("rate_exceeded", _d("notes", notes, {"name": "log", "size": 1}, calls_in_window=LIMITS[2]),
         Reason.RATE_LIMITED, "a host-call flood"),
        ("chat_reads_storage", _d("chat", [[CHAT_SEND]], {**read}), Reason.PERMISSION_NOT_REQUESTED, ""),
        ("notes_sends_carrier", _d("notes", notes, {"name": "carrier_send", "peer": did("friend"), "size": 1}),
         Reason.PERMISSION_NOT_REQUESTED, "notes has no network permission"),
        ("path_traversal", _d("notes", notes, {**read, "path": "../../user2/chat/secret"}),
         Reason.PATH_TRAVERSAL, "reading another app's home"),
        ("path_names_a_did", _d("notes", notes, {**read, "path": did("chat") + "/secret"}),
         Reason.PATH_BAD_CHARACTER, "a DID has ':', which no path may hold"),
        ("path_absolute", _d("notes", notes, {**read, "path": "/home/" + did("user")}), Reason.PATH_ABSOLUTE, ""),
        ("path_encoded", _d("notes", notes, {**read, "path": "notes%2f..%2f..%2fx"}), Reason.PATH_ENCODED_SEPARATOR, ""),
        ("path_nul", _d("notes", notes, {**read, "path": "notes/a\x00.txt"}), Reason.PATH_BAD_CHARACTER, ""),
        ("path_not_nfc", _d("notes", notes, {**read, "path": "notes/cafe\u0301"}), Reason.PATH_NOT_NFC, ""),
        ("path_empty", _d("notes", notes, {**read, "path": ""}), Reason.PATH_EMPTY,
         "an empty path names no file (only storage_list takes \"\" for the home)"),
        ("path_empty_component", _d("notes", notes, {**read, "path": "notes//today.txt"}),
         Reason.PATH_EMPTY_COMPONENT, ""),
        ("path_reserved_name", _d("notes", notes, {**read, "path": "notes/CON"}), Reason.PATH_RESERVED_NAME,
         "a Windows device name"),
        ("path_name_too_long", _d("notes", notes, {**read, "path": "notes/" + "a" * 300}), Reason.PATH_TOO_LONG,
         "a 300-byte name, within the 4096-byte argument bound"),
        ("peer_not_a_did", _d("chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": "127.0.0.1:80", "size": 1}),
         Reason.NET_PEER_MALFORMED, "an IP address is not a peer"),
        ("peer_unknown", _d("chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": "did:elastos:"
                                                     "iQ3Dmq6AyWfDHcTqu5N3ENNbVHSLUaWYcT", "size": 1}),
         Reason.NET_PEER_UNRESOLVED, ""),
        ("peer_deactivated", _d("chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": did("gone"), "size": 1}),
         Reason.NET_PEER_DEACTIVATED, "a friend whose DID was deactivated"),
        ("peer_expired", _d("chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": did("stale"), "size": 1}),
         Reason.NET_PEER_INVALID, ""),
        ("peer_not_friend", _d("chat", [[CHAT_SEND]], {"name": "carrier_send", "peer": did("stranger"), "size": 1}),
         Reason.NET_NOT_FRIEND, "a valid DID that is not the user's friend"),
        ("intent_bad_action", _d("notes", notes, {"name": "intent_send", "sender": did("notes"), "target": "",
                                                  "action": "Share Document"}), Reason.INTENT_MALFORMED, ""),
        ("intent_spoofed_sender", _d("notes", notes, {"name": "intent_send", "sender": did("chat"), "target": "",
                                                      "action": "share.document"}), Reason.INTENT_SPOOFED_SENDER, ""),
        ("intent_undeclared", _d("notes", notes, {"name": "intent_send", "sender": did("notes"), "target": "",
                                                  "action": "share.photo"}), Reason.INTENT_NOT_DECLARED, ""),
        ("intent_target_without_filter", _d("notes", notes, {"name": "intent_send", "sender": did("notes"),
                                                             "target": did("chat"), "action": "share.document"}),
         Reason.INTENT_NO_RECEIVER, "chat declares no filter for share.document"),
        ("intent_ambiguous", _d("notes", notes, {"name": "intent_send", "sender": did("notes"), "target": "",
                                                 "action": "share.document"},
                                installed=[manifest_text(a) for a in ("notes", "viewer", "editor")]),
         Reason.INTENT_AMBIGUOUS, ""),
        ("not_granted_other_folder", _d("notes", [[NOTES_READ]], {**read, "path": "secret/x"}), Reason.CAP_NOT_GRANTED,
         ""),
        ("not_granted_other_action", _d("notes", [[NOTES_READ]], {"name": "storage_write", "path": "notes/a",
                                                                 "size": 1}), Reason.CAP_NOT_GRANTED, ""),
        ("intent_not_granted", _d("notes", [[NOTES_READ]], {"name": "intent_send", "sender": did("notes"),
                                                            "target": "", "action": "share.document"}),
         Reason.CAP_NOT_GRANTED, ""),
        ("carrier_one_peer_grant_other_peer", _d("chat", [[token("chat", f"carrier:{did('friend')}", "send")]],
                                                 {"name": "carrier_send", "peer": did("user2"), "size": 1},
                                                 friends=[did("friend"), did("user2")]), Reason.CAP_NOT_GRANTED, ""),
        ("grant_revoked", _d("notes", [[NOTES_READ]], read, revoked=[token_id(NOTES_READ)]), Reason.CAP_REVOKED,
         "revocation takes effect at the next call"),
        ("grant_expired", _d("notes", [[NOTES_READ]], read, now=NOW + HOUR, window_start=NOW + HOUR),
         Reason.CAP_EXPIRED, "an expired grant"),
        ("grant_bound", _d("notes", [[NOTES_WRITE]], {"name": "storage_write", "path": "notes/a", "size": 4097}),
         Reason.CAP_CONSTRAINT, ""),
        ("quota_exceeded", _d("notes", [[NOTES_WRITE]], {"name": "storage_write", "path": "notes/a", "size": 4096},
                              stored_bytes=H.DEFAULT_QUOTA - 4095), Reason.STORAGE_QUOTA, ""),
    ]
    for name, inp, reason, description in bad:
        yield CaseSpec(name, inp, reason, (), description)
    yield from delegate_cases()


# -- delegation (cap_delegate) -----------------------------------------------------------------------

SHARED = token("notes", "storage:notes/*", "read", delegatable=True, max_bytes=4096, label="delegatable")
"""A delegatable root grant of notes: read its notes folder, 4096 bytes a call, for an hour."""
HELD_FIXED = token("notes", "storage:notes/*", "read", max_bytes=4096, label="fixed")
"""The same, not delegatable."""
_D1_ROOT = token("chat", "storage:notes/*", "read", delegatable=True, label="d1")
_D1 = token("notes", "storage:notes/*", "read", issuer="chat", delegatable=True, parent=_D1_ROOT, depth=1,
            label="d1")
DEPTH1 = [_D1_ROOT, _D1]
"""A chain user -> chat -> notes: notes holds a depth-1 delegatable token."""
_D2_ROOT = token("chat", "storage:notes/*", "read", delegatable=True, label="d2")
_D2_MID = token("viewer", "storage:notes/*", "read", issuer="chat", delegatable=True, parent=_D2_ROOT, depth=1,
                label="d2")
_D2 = token("notes", "storage:notes/*", "read", issuer="viewer", delegatable=True, parent=_D2_MID, depth=2,
            label="d2")
DEPTH2 = [_D2_ROOT, _D2_MID, _D2]
"""A chain user -> chat -> viewer -> notes: notes holds a token at the deepest depth."""


def _delegate(recipient: str = "viewer", resource: str = "storage:notes/shared/*", action: str = "read",
              expiry: int = NOW + 60, max_bytes: int | None = 1024, delegatable: bool = False) -> dict[str, Any]:
    return {"name": "cap_delegate", "target": did(recipient) if recipient in LABELS else recipient,
            "resource": resource, "action": action, "expiry": expiry, "max_bytes": max_bytes,
            "delegatable": delegatable}


def delegate_cases() -> Iterator[CaseSpec]:
    """``cap_delegate``: accepted delegations, and one rejection for each of its reasons."""
    rules = ("RT-082", "RT-083", "RT-090", "RT-091", "RT-095", "RT-096", "RT-029", "RT-025", "RT-024", "RT-026",
             "RT-027")
    ok = [
        ("delegate_narrower_ok", [[SHARED]], _delegate(), "a folder inside the grant, shorter, a smaller bound"),
        ("delegate_equal_ok", [[SHARED]], _delegate(resource="storage:notes/*", expiry=NOW + HOUR, max_bytes=4096,
                                                    delegatable=True),
         "exactly the parent's resource, expiry and bound (narrowing is not strict)"),
        ("delegate_one_file_ok", [[SHARED]], _delegate(resource="storage:notes/today.txt"), ""),
        ("delegate_skips_fixed_grant_ok", [[HELD_FIXED], [SHARED]], _delegate(),
         "the first grant covers but is not delegatable; the second is the parent"),
        ("delegate_from_depth1_ok", [DEPTH1], _delegate(max_bytes=None),
         "a depth-1 token delegated once more (depth 2, the bound)"),
    ]
    for name, grants, call, description in ok:
        yield CaseSpec(name, _d("notes", grants, call), OK, rules, description)
    bad: list[tuple[str, dict[str, Any], Reason, str]] = [
        ("delegate_missing_expiry", _d("notes", [[SHARED]], {k: v for k, v in _delegate().items() if k != "expiry"}),
         Reason.HOSTCALL_MALFORMED, ""),
        ("delegate_numbers_on_other_call", _d("notes", [[SHARED]], {"name": "log", "size": 1, "expiry": NOW + 1}),
         Reason.HOSTCALL_MALFORMED, "only cap_delegate takes an expiry"),
        ("delegate_resource_too_large", _d("notes", [[SHARED]], _delegate(resource="storage:" + "a/" * 2048 + "*")),
         Reason.ARGUMENT_TOO_LARGE, ""),
        ("delegate_bad_resource", _d("notes", [[SHARED]], _delegate(resource="storage:../x")), Reason.CAP_MALFORMED,
         ""),
        ("delegate_unknown_kind", _d("notes", [[SHARED]], _delegate(resource="socket:*")), Reason.CAP_MALFORMED, ""),
        ("delegate_action_of_other_kind", _d("notes", [[SHARED]], _delegate(action="send")), Reason.CAP_MALFORMED,
         ""),
        ("delegate_expired_at_birth", _d("notes", [[SHARED]], _delegate(expiry=NOW)), Reason.CAP_MALFORMED,
         "a token valid for no instant"),
        ("delegate_to_app_without_permission", _d("notes", [[SHARED]], _delegate(recipient="chat")),
         Reason.CAP_RECIPIENT, "chat's manifest does not request storage.read"),
        ("delegate_to_itself", _d("notes", [[SHARED]], _delegate(recipient="notes")), Reason.CAP_RECIPIENT, ""),
        ("delegate_to_app_not_installed", _d("notes", [[SHARED]], _delegate(recipient="editor")),
         Reason.CAP_RECIPIENT, "editor requests storage.read but is not installed for the user"),
        ("delegate_to_a_user", _d("notes", [[SHARED]], _delegate(recipient="user2")), Reason.CAP_RECIPIENT, ""),
        ("delegate_to_not_a_did", _d("notes", [[SHARED]], _delegate(recipient="127.0.0.1")), Reason.CAP_RECIPIENT,
         ""),
        ("delegate_not_held", _d("notes", [[SHARED]], _delegate(resource="storage:secret/*")),
         Reason.CAP_NOT_GRANTED, "a folder outside every grant"),
        ("delegate_other_action", _d("notes", [[SHARED]], _delegate(action="list")), Reason.CAP_NOT_GRANTED, ""),
        ("delegate_revoked_parent", _d("notes", [[SHARED]], _delegate(), revoked=[token_id(SHARED)]),
         Reason.CAP_REVOKED, "the parent was revoked"),
        ("delegate_revoked_root", _d("notes", [DEPTH1], _delegate(max_bytes=None), revoked=[token_id(_D1_ROOT)]),
         Reason.CAP_REVOKED, "a token above the parent was revoked"),
        ("delegate_expired_parent", _d("notes", [[SHARED]], _delegate(expiry=NOW + HOUR + 10), now=NOW + HOUR,
                                       window_start=NOW + HOUR), Reason.CAP_EXPIRED, ""),
        ("delegate_widens_resource", _d("notes", [[SHARED]], _delegate(resource="storage:*")), Reason.CAP_AMPLIFIED,
         "storage:* is wider than the grant storage:notes/*"),
        ("delegate_widens_file_to_folder", _d("notes", [[token("notes", "storage:notes/today.txt", "read",
                                                               delegatable=True)]], _delegate(resource="storage:notes/*")),
         Reason.CAP_AMPLIFIED, "a grant of one file handed on as its whole folder"),
        ("delegate_extends_expiry", _d("notes", [[SHARED]], _delegate(expiry=NOW + HOUR + 1)), Reason.CAP_AMPLIFIED,
         "one second past the parent's expiry"),
        ("delegate_raises_bound", _d("notes", [[SHARED]], _delegate(max_bytes=4097)), Reason.CAP_AMPLIFIED, ""),
        ("delegate_drops_bound", _d("notes", [[SHARED]], _delegate(max_bytes=None)), Reason.CAP_AMPLIFIED,
         "no bound is wider than 4096"),
        ("delegate_not_delegatable", _d("notes", [[HELD_FIXED]], _delegate()), Reason.CAP_AMPLIFIED,
         "the user did not let the grant be handed on"),
        ("delegate_too_deep", _d("notes", [DEPTH2], _delegate(max_bytes=None)), Reason.CAP_TOO_DEEP,
         "the parent is already at the deepest depth"),
    ]
    for name, inp, reason, description in bad:
        yield CaseSpec(name, inp, reason, (), description)


# -- limits ------------------------------------------------------------------------------------------


@generator("runtime", "runtime.limits.check")
def limits_check() -> Iterator[CaseSpec]:
    yield CaseSpec("within_ok", {"memory_pages": 16, "pages": 1, "fuel": 5000, "cost": 1000}, OK, ("RT-093", "RT-094"))
    yield CaseSpec("exact_ok", {"memory_pages": 16, "pages": 16, "fuel": 1000, "cost": 1000}, OK, ("RT-093", "RT-094"))
    yield CaseSpec("memory_over", {"memory_pages": 16, "pages": 17, "fuel": 5000, "cost": 1}, Reason.MEMORY_LIMIT)
    yield CaseSpec("fuel_short", {"memory_pages": 16, "pages": 1, "fuel": 999, "cost": 1000}, Reason.FUEL_EXHAUSTED)
    for e in H.TABLE.values():
        yield CaseSpec(f"max_cost_{e.name}", {"memory_pages": 1, "pages": 1, "fuel": H.max_cost(e),
                                               "cost": H.max_cost(e)}, OK, ("RT-093",),
                       f"the most an allowed {e.name} costs")


def _wasm(*sections: tuple[int, bytes]) -> str:
    """A WebAssembly binary of the given (id, body) sections, as hex."""
    out = bytearray(H.WASM_HEADER)
    for sid, body in sections:
        out += bytes([sid]) + _uleb(len(body)) + body
    return out.hex()


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _memories(*limits: bytes) -> tuple[int, bytes]:
    return (5, _uleb(len(limits)) + b"".join(limits))


@generator("runtime", "runtime.module.memory")
def module_memory() -> Iterator[CaseSpec]:
    """Memories a module defines, read from its bytes: header, section sizes, memory limits (RT-086, RT-094)."""
    custom = (0, b"\x04name\x00")
    typ = (1, b"\x01\x60\x00\x00")  # one type: () -> ()
    ok = [
        ("no_memory_ok", _wasm(), "a module with no sections"),
        ("one_page_ok", _wasm(typ, _memories(b"\x00\x01")), ""),
        ("at_the_limit_ok", _wasm(_memories(b"\x00\x10")), "16 pages, the limit"),
        ("declared_max_above_limit_ok", _wasm(_memories(b"\x01\x01\x80\x80\x04")),
         "a maximum of 65536 pages is allowed: growth is bounded by the runtime (memory.grow returns -1)"),
        ("custom_section_skipped_ok", _wasm(custom, _memories(b"\x00\x02"), custom), ""),
        ("memory64_ok", _wasm(_memories(b"\x04\x01")), "a 64-bit memory within the limit"),
    ]
    for name, module, description in ok:
        yield CaseSpec(name, {"module": module, "memory_pages": 16}, OK, ("RT-086", "RT-094"), description)
    bad = [
        ("not_wasm", b"\x7fELF\x02\x01\x01\x00".hex(), Reason.MODULE_MALFORMED, "an ELF header"),
        ("version_2", (b"\x00asm\x02\x00\x00\x00").hex(), Reason.MODULE_MALFORMED, ""),
        ("empty", "", Reason.MODULE_MALFORMED, ""),
        ("section_past_end", (H.WASM_HEADER + b"\x05\x03\x01\x00").hex(), Reason.MODULE_MALFORMED, ""),
        ("unknown_section_id", _wasm((14, b"")), Reason.MODULE_MALFORMED, ""),
        ("size_leb_too_long", (H.WASM_HEADER + b"\x00\x80\x80\x80\x80\x80\x00").hex(), Reason.MODULE_MALFORMED,
         "a six-byte LEB128 for a 32-bit size"),
        ("limits_flags_unknown", _wasm(_memories(b"\x08\x01")), Reason.MODULE_MALFORMED, ""),
        ("memory_section_trailing_byte", _wasm((5, b"\x01\x00\x01\x00")), Reason.MODULE_MALFORMED, ""),
        ("memory_entry_missing", _wasm((5, b"\x02\x00\x01")), Reason.MODULE_MALFORMED, ""),
        ("initial_over_limit", _wasm(_memories(b"\x00\x11")), Reason.MEMORY_LIMIT, "17 pages with a limit of 16"),
        ("memory64_over_limit", _wasm(_memories(b"\x04\x80\x80\x80\x80\x10")), Reason.MEMORY_LIMIT,
         "2^32 pages of a 64-bit memory"),
        ("two_memories", _wasm(_memories(b"\x00\x01", b"\x00\x01")), Reason.MEMORY_LIMIT,
         "two memories of one page each, in one memory section"),
        ("unexported_memory_over_limit", _wasm(typ, _memories(b"\x00\x20")), Reason.MEMORY_LIMIT,
         "a memory the module does not export counts too"),
        ("shared_memory", _wasm(_memories(b"\x03\x01\x02")), Reason.MEMORY_LIMIT, "a memory shared between threads"),
    ]
    for name, module, reason, description in bad:
        yield CaseSpec(name, {"module": module, "memory_pages": 16}, reason, (), description)
    yield from _section_order()


FULL_MODULE: tuple[tuple[int, bytes], ...] = tuple((sid, bytes.fromhex(body)) for sid, body in (
    (1, "0260027f7f017f600000"),  # types: (i32 i32) -> i32, () -> ()
    (2, "0107656c6173746f73036c6f670000"),  # import elastos.log
    (3, "0101"),  # one function of type 1
    (4, "01700001"),  # a table of one funcref
    (5, "010001"),  # a memory of one page
    (13, "010001"),  # a tag of type 1
    (6, "017f0041000b"),  # a global i32 = 0
    (7, "010372756e0001"),  # export "run"
    (8, "01"),  # start: function 1
    (9, "010041000b0101"),  # an active element segment
    (12, "01"),  # data count: 1
    (10, "010f00410041004100fc080000fc09000b"),  # memory.init 0, data.drop 0
    (11, "0101026869"),  # a passive data segment "hi"
))
"""A module with every non-custom section once, in order (the bytes wat2wasm gives for a module with
an import, a tag, memory.init and data.drop, so that the data count section is needed)."""


def _section_order() -> Iterator[CaseSpec]:
    """The order and uniqueness of sections (RT-097); an unknown id between known ones (RT-086)."""
    note = (0, b"\x0delastos.notes" + b"\x00" * 3)  # a custom section named elastos.notes
    typ, mem, glob = FULL_MODULE[0], FULL_MODULE[4], FULL_MODULE[6]
    by_id = dict(FULL_MODULE)
    ok = [
        ("all_sections_in_order_ok", _wasm(*FULL_MODULE),
         "every non-custom section once: type, import, function, table, memory, tag, global, export, start, "
         "element, data count, code, data"),
        ("custom_sections_between_known_ok",
         _wasm(note, *[x for sec in FULL_MODULE for x in (sec, note)]), "a custom section before and after each"),
        ("tag_after_memory_ok", _wasm(typ, mem, (13, by_id[13]), glob), ""),
    ]
    for name, module, description in ok:
        yield CaseSpec(name, {"module": module, "memory_pages": 16}, OK, ("RT-086", "RT-097", "RT-094"), description)
    one_page = _memories(b"\x00\x01")
    swapped = list(FULL_MODULE)
    swapped[10], swapped[11] = swapped[11], swapped[10]
    bad = [
        ("two_memory_sections", _wasm(one_page, one_page), "two memory sections of one memory each"),
        ("two_memory_sections_apart", _wasm(typ, one_page, glob, one_page), "a second memory section after a global"),
        ("two_type_sections", _wasm(typ, typ), ""),
        ("two_type_sections_around_custom", _wasm(typ, note, typ), "a custom section does not reset the order"),
        ("second_data_section", _wasm(*FULL_MODULE, FULL_MODULE[-1]), "the data section repeated at the end"),
        ("memory_before_type", _wasm(mem, typ), ""),
        ("global_before_memory", _wasm(typ, glob, mem), ""),
        ("tag_before_memory", _wasm(typ, (13, by_id[13]), mem), "the tag section stands after the memory section"),
        ("data_count_after_code", _wasm(*swapped), "the data count section stands before the code section"),
    ]
    for name, module, description in bad:
        yield CaseSpec(name, {"module": module, "memory_pages": 16}, Reason.MODULE_MALFORMED, ("RT-097",), description)
    for name, sid in (("unknown_section_id_between_known", 14), ("section_id_255", 255)):
        yield CaseSpec(name, {"module": _wasm(typ, (sid, b"\x00"), mem), "memory_pages": 16},
                       Reason.MODULE_MALFORMED, ("RT-086",),
                       f"a section of id {sid} between a type and a memory section")


@generator("runtime", "runtime.memory.span")
def memory_span() -> Iterator[CaseSpec]:
    page = 65536
    for name, ptr, n in (("inside", 0, 16), ("ends_at_end", page - 16, 16), ("empty_at_end", page, 0)):
        yield CaseSpec(name + "_ok", {"memory_bytes": page, "ptr": ptr, "len": n}, OK, ("RT-085",))
    for name, ptr, n in (("one_past_end", page - 15, 16), ("pointer_past_end", page + 1, 0),
                         ("wraps_32_bits", 0xFFFFFFF0, 0x20), ("huge_length", 0, 0xFFFFFFFF)):
        yield CaseSpec(name, {"memory_bytes": page, "ptr": ptr, "len": n}, Reason.HOSTCALL_MALFORMED, ("RT-085",))
