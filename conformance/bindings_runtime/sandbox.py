"""Handlers of the ``runtime`` suite: manifests, capability tokens, storage paths, host-call decisions, limits."""

from __future__ import annotations

from typing import Any

from spec.did import document
from spec.did.syntax import DID
from spec.errors import Reason, Reject
from spec.runtime import capability, hostcalls, manifest, paths
from spec.runtime.identity import DidResolver, ResolvedDid

from conformance.bindings import Input, handler

Json = dict[str, Any]
MAX_TIME = 1 << 40


def resolver(dids: Any) -> DidResolver:
    """The status resolver of a ``dids`` input object."""
    if not isinstance(dids, dict) or not all(
        isinstance(v, dict) and set(v) == {"document", "deactivated"} and isinstance(v["document"], str)
        and isinstance(v["deactivated"], bool) for v in dids.values()
    ):
        raise Reject(Reason.MALFORMED_INPUT, None, "dids: expected DID -> {document, deactivated}")
    texts = document.resolver_from_texts({k: v["document"] for k, v in dids.items()})

    def resolve(did: DID) -> ResolvedDid | None:
        doc = texts(did)
        if doc is None:
            return None
        return ResolvedDid(document=doc, deactivated=dids[str(did)]["deactivated"])

    return resolve


def _strings(inp: Input, key: str) -> list[str]:
    v = inp.raw(key)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a list of strings")
    return v


def _manifest_json(m: manifest.Manifest) -> Json:
    return {"app": m.app, "developer": m.developer, "name": m.name, "version": m.version,
            "entrypoint": m.entrypoint, "permissions": list(m.permissions), "intents": list(m.intents),
            "intent_filters": list(m.intent_filters),
            "limits": {"fuel": m.limits.fuel, "memory_pages": m.limits.memory_pages,
                       "calls_per_window": m.limits.calls_per_window}}


@handler(
    "runtime", "runtime.manifest.verify",
    "`manifest` (JSON text), `module` (hex), `dids`, `now` -> the manifest's fields: parse and verify (RT-001..008)",
)
def _manifest_verify(data: Any) -> Json:
    inp = Input(data, ("manifest", "module", "dids", "now"))
    m = manifest.verify_manifest(inp.text("manifest"), inp.hex("module"), resolver(inp.raw("dids")),
                                 inp.small_int("now", 0, MAX_TIME))
    return _manifest_json(m)


def _token_json(t: capability.Token) -> Json:
    return {"id": t.id.hex(), "app": t.app, "user": t.user, "resource": t.resource, "action": t.action,
            "delegatable": t.delegatable, "max_bytes": t.max_bytes, "expiry": t.expiry, "issuer": t.issuer,
            "parent": None if t.parent is None else t.parent.hex(), "depth": t.depth, "sig": t.sig.hex()}


@handler("runtime", "runtime.capability.decode", "`token` (hex) -> its fields (RT-020)")
def _capability_decode(data: Any) -> Json:
    t = capability.decode_token(Input(data, ("token",)).hex("token"))
    return _token_json(t)


def _capability(inp: Input, chain_key: str, now: int) -> capability.Capability:
    return capability.verify_chain(inp.hex_list(chain_key), inp.text("app"), inp.text("user"), now,
                                   frozenset(inp.hex_list("revoked")), resolver(inp.raw("dids")))


@handler(
    "runtime", "runtime.capability.verify",
    "`chain` (token hex, root first), `app`, `user`, `now`, `revoked` (token ids), `dids` -> `resource`, "
    "`action`, `max_bytes`, `expiry`, `chain_ids`: the ordered checks RT-020..028",
)
def _capability_verify(data: Any) -> Json:
    inp = Input(data, ("chain", "app", "user", "now", "revoked", "dids"))
    cap = _capability(inp, "chain", inp.small_int("now", 0, MAX_TIME))
    return {"resource": cap.resource, "action": cap.action, "max_bytes": cap.max_bytes, "expiry": cap.expiry,
            "chain_ids": [i.hex() for i in cap.chain_ids]}


@handler(
    "runtime", "runtime.path.resolve",
    "`user`, `app`, `path`, `dir` (bool) -> `location`: the path inside home/<user>/<app>/ (RT-040..048)",
)
def _path_resolve(data: Any) -> Json:
    inp = Input(data, ("user", "app", "path", "dir"))
    is_dir = inp.raw("dir")
    if not isinstance(is_dir, bool):
        raise Reject(Reason.MALFORMED_INPUT, None, "dir: expected a boolean")
    fn = paths.resolve_dir if is_dir else paths.resolve_path
    return {"location": fn(inp.text("user"), inp.text("app"), inp.text("path"))}


@handler(
    "runtime", "runtime.module.imports",
    "`imports` (list of [module, name, type], type as `func(i32,i32)->(i32)`) -> {}: RT-080, RT-081",
)
def _module_imports(data: Any) -> Json:
    v = Input(data, ("imports",)).raw("imports")
    if not isinstance(v, list) or not all(isinstance(x, list) and len(x) == 3 and all(isinstance(s, str) for s in x)
                                          for x in v):
        raise Reject(Reason.MALFORMED_INPUT, None, "imports: expected a list of [module, name, type]")
    hostcalls.check_imports([(a, b, c) for a, b, c in v])
    return {}


_DELEGATION_KEYS = ("expiry", "max_bytes", "delegatable")
_CALL_KEYS = ("name",) + hostcalls.STRING_ARGS + ("size",) + _DELEGATION_KEYS
_STATE_KEYS = ("user", "now", "window_start", "calls_in_window", "stored_bytes", "quota", "friends", "revoked",
               "installed")


def _call(v: Any) -> hostcalls.HostCall:
    inp = Input(v, ("name", "size"), hostcalls.STRING_ARGS + _DELEGATION_KEYS)
    args: dict[str, Any] = {k: inp.text(k) for k in hostcalls.STRING_ARGS if inp.has(k)}
    if inp.has("expiry"):
        args["expiry"] = inp.small_int("expiry", 0, 1 << 64)
    if inp.has("max_bytes") and inp.raw("max_bytes") is not None:
        args["max_bytes"] = inp.small_int("max_bytes", 0, 1 << 64)
    if inp.has("delegatable"):
        flag = inp.raw("delegatable")
        if not isinstance(flag, bool):
            raise Reject(Reason.MALFORMED_INPUT, None, "delegatable: expected a boolean")
        args["delegatable"] = flag
    return hostcalls.HostCall(name=inp.text("name"), size=inp.small_int("size", 0, 1 << 32), **args)


def _state(v: Any) -> hostcalls.SandboxState:
    inp = Input(v, _STATE_KEYS)
    return hostcalls.SandboxState(
        user=inp.text("user"), now=inp.small_int("now", 0, MAX_TIME),
        window_start=inp.small_int("window_start", 0, MAX_TIME),
        calls_in_window=inp.small_int("calls_in_window", 0, 1 << 32),
        stored_bytes=inp.small_int("stored_bytes", 0, 1 << 48), quota=inp.small_int("quota", 0, 1 << 48),
        friends=frozenset(_strings(inp, "friends")), revoked=frozenset(inp.hex_list("revoked")),
        installed=tuple(manifest.parse_manifest(t) for t in _strings(inp, "installed")),
    )


@handler(
    "runtime", "runtime.decide",
    "`manifest` (JSON text), `grants` (list of token chains), `granted_at`, `state`, `call`, `dids` -> "
    "`cost`, `target` (and `parent`, the hex id of the extended grant's last token, for `cap_delegate`) when "
    "allowed; a denial is the reject reason. Grants are verified at `granted_at` (RT-020..028), then the call is "
    "decided at `state.now`",
)
def _decide(data: Any) -> Json:
    inp = Input(data, ("manifest", "grants", "granted_at", "state", "call", "dids"))
    m = manifest.parse_manifest(inp.text("manifest"))
    resolve = resolver(inp.raw("dids"))
    state = _state(inp.raw("state"))
    granted_at = inp.small_int("granted_at", 0, MAX_TIME)
    chains = inp.raw("grants")
    if not isinstance(chains, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "grants: expected a list of chains")
    grants = [capability.verify_chain(Input({"c": c}, ("c",)).hex_list("c"), m.app, state.user, granted_at,
                                      frozenset(), resolve) for c in chains]
    decision = hostcalls.decide(m, grants, state, _call(inp.raw("call")), resolve)
    if isinstance(decision, hostcalls.Deny):
        raise Reject(decision.reason, decision.rule, decision.detail)
    out: Json = {"cost": decision.cost, "target": decision.target}
    if decision.parent is not None:
        out["parent"] = decision.parent.hex()
    return out


@handler(
    "runtime", "runtime.limits.check",
    "`memory_pages` (the app's limit), `pages`, `fuel`, `cost` -> `fuel`: memory within the limit (RT-094), then "
    "the cost charged to the fuel left (RT-093)",
)
def _limits_check(data: Any) -> Json:
    inp = Input(data, ("memory_pages", "pages", "fuel", "cost"))
    limit = inp.small_int("memory_pages", 1, 65536)
    hostcalls.check_memory(manifest.AppLimits(fuel=1, memory_pages=limit, calls_per_window=1),
                           inp.small_int("pages", 0, 65536))
    return {"fuel": hostcalls.charge_fuel(inp.small_int("fuel", 0, 1 << 53), inp.small_int("cost", 0, 1 << 53))}


@handler(
    "runtime", "runtime.module.memory",
    "`module` (hex), `memory_pages` (the app's limit) -> `memories` (each `minimum`, `maximum`, `shared`, "
    "`index64`): the module's header and sections decode (RT-086), and it defines at most one unshared memory "
    "within the limit (RT-094)",
)
def _module_memory(data: Any) -> Json:
    inp = Input(data, ("module", "memory_pages"))
    limits = manifest.AppLimits(fuel=1, memory_pages=inp.small_int("memory_pages", 1, 65536), calls_per_window=1)
    found = hostcalls.check_module_memory(limits, inp.hex("module"))
    return {"memories": [{"minimum": m.minimum, "maximum": m.maximum, "shared": m.shared, "index64": m.index64}
                         for m in found]}


@handler(
    "runtime", "runtime.memory.span",
    "`memory_bytes`, `ptr`, `len` (unsigned 32-bit) -> {}: a host-call argument lies inside linear memory (RT-085)",
)
def _memory_span(data: Any) -> Json:
    inp = Input(data, ("memory_bytes", "ptr", "len"))
    hostcalls.check_span(inp.small_int("memory_bytes", 0, 1 << 32), inp.small_int("ptr", 0, (1 << 32) - 1),
                         inp.small_int("len", 0, (1 << 32) - 1))
    return {}
