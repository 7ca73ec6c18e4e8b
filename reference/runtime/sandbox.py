"""The reference Runtime: several apps side by side in wasmtime, each in its own Store, no WASI.

An app is installed from its module and signed manifest (:func:`spec.runtime.manifest.verify_manifest`),
its imports are checked against the host-call table (:func:`spec.runtime.hostcalls.check_imports`)
and the user's grants are verified (:func:`spec.runtime.capability.verify_chain`). Each app gets its
own ``wasmtime.Store`` with fuel (the manifest's ``limits.fuel``) and a memory limit (its
``memory_pages``); the only functions linked into it are the host calls, each of which reads its
arguments from the app's memory (:func:`spec.runtime.hostcalls.check_span`), asks
:func:`spec.runtime.hostcalls.decide`, charges the call's cost to the app's fuel, and only then acts.

A denied host call **stops the app instance**: the call raises :class:`Denied`, which unwinds out of
the guest; :meth:`Runtime.run` reports the reason and rule, and the app refuses to run again. Nothing
is written for a denied call, and no other app's store, files or queues are touched.

Return codes of host calls to the guest: ``>= 0`` success (bytes written, or 0), ``-1`` nothing there
(no such file, no message), ``-2`` the output buffer is too small (nothing consumed), ``-3`` the file
system refused (a name used both as a file and as a folder), ``-4`` the runtime holds no key for the
app's DID, so it cannot sign a delegation (``cap_delegate``; nothing is issued). A delegation to an
app already holding :data:`MAX_GRANTS` grants returns ``-2`` (the recipient is full; nothing is issued).

``cap_delegate`` is allowed by ``decide`` against the grants the app holds; the runtime then signs the
new token with the app's key (``app_keys``: the keys of the app DIDs this device holds), verifies the
whole chain for the recipient with :func:`spec.runtime.capability.verify_chain`, and grants it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime

from spec.errors import Reason, Reject
from spec.runtime import capability, hostcalls, manifest, paths
from spec.runtime.hostcalls import TABLE, Allow, HostCall, SandboxState
from spec.runtime.identity import DidResolver
from spec.runtime.manifest import Manifest, RuntimeLimits

from reference.runtime.carrier import Carrier

__all__ = ["Denied", "RunResult", "App", "Runtime", "import_signature", "compile_wat"]

PAGE = 65536
MAX_LOG_LINES = 1000
MAX_QUEUE = 256
MAX_GRANTS = 256
"""Grants one app may hold; a delegation to an app that holds this many returns -2 and issues nothing."""


class Denied(Exception):
    """A host call was denied, or the app broke a limit: the app instance stops."""

    def __init__(self, reason: Reason, rule: str | None, detail: str = "") -> None:
        super().__init__(f"{reason.value} [{rule}]: {detail}")
        self.reason, self.rule, self.detail = reason, rule, detail


@dataclass
class RunResult:
    """What one call into an app ended with."""

    ok: bool
    value: Any = None
    reason: Reason | None = None
    rule: str | None = None
    detail: str = ""
    fuel_used: int = 0


@dataclass
class App:
    """One installed app instance."""

    manifest: Manifest
    store: wasmtime.Store
    instance: wasmtime.Instance | None
    grants: list[capability.Capability]
    state: SandboxState
    chains: dict[bytes, tuple[bytes, ...]] = field(default_factory=dict)
    """The tokens of each grant, by the id of its last token (what a delegation extends)."""
    logs: list[str] = field(default_factory=list)
    audit: list[tuple[str, str]] = field(default_factory=list)
    """``(call name, "allow" or the denial reason)`` of every host call, in order."""
    intents: deque[tuple[str, str, bytes]] = field(default_factory=deque)
    messages: deque[tuple[str, bytes]] = field(default_factory=deque)
    random_counter: int = 0
    delegations: int = 0
    stopped: RunResult | None = None

    @property
    def did(self) -> str:
        return self.manifest.app


def import_signature(t: Any) -> str:
    """An import's type in the form :func:`spec.runtime.hostcalls.check_imports` takes."""
    if isinstance(t, wasmtime.FuncType):
        return f"func({','.join(str(p) for p in t.params)})->({','.join(str(r) for r in t.results)})"
    if isinstance(t, wasmtime.MemoryType):
        return "memory"
    if isinstance(t, wasmtime.TableType):
        return "table"
    return "global"


def compile_wat(text: str) -> bytes:
    """A WAT module's binary form."""
    return bytes(wasmtime.wat2wasm(text))


def new_engine(limits: RuntimeLimits = manifest.DEFAULT_RUNTIME_LIMITS) -> wasmtime.Engine:
    """The engine a runtime compiles and runs apps with: fuel metering on, WebAssembly features as wasmtime
    enables them by default (its validator is the one RT-086 defers to)."""
    config = wasmtime.Config()
    config.consume_fuel = True
    # Reserve address space for the largest memory any app may have, not wasmtime's default 4 GiB
    # per memory: bounds are then checked explicitly, and one process holds far more apps.
    config.memory_reservation = limits.memory_pages * PAGE
    config.memory_guard_size = PAGE
    config.memory_reservation_for_growth = 0
    return wasmtime.Engine(config)


def _valtype(name: str) -> wasmtime.ValType:
    return {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}[name]


class Runtime:
    """One user's runtime: installed apps, their storage under ``root``, a Carrier, a virtual clock."""

    def __init__(self, user: str, resolve: DidResolver, root: Path, carrier: Carrier, *, now: int,
                 friends: Sequence[str] = (), limits: RuntimeLimits = manifest.DEFAULT_RUNTIME_LIMITS,
                 seed: bytes = b"", quota: int = hostcalls.DEFAULT_QUOTA, engine: wasmtime.Engine | None = None,
                 module_cache: dict[str, wasmtime.Module] | None = None,
                 app_keys: Mapping[str, bytes] | None = None) -> None:
        self.user = user
        self.resolve = resolve
        self.root = Path(root)
        self.carrier = carrier
        self.now = now
        self.static_friends = frozenset(friends)
        self.limits = limits
        self.seed = seed
        self.quota = quota
        self.revoked: frozenset[bytes] = frozenset()
        self.apps: dict[str, App] = {}
        self.storage_lock = threading.RLock()
        """Held while a home folder's byte count changes: a storage call of the app and a rescan after a sync
        (which a :class:`~reference.runtime.home_sync.HomeWatcher` runs on its own thread) take turns."""
        self.inbound_refused: list[tuple[str, Reason]] = []
        self.app_keys: dict[str, bytes] = dict(app_keys or {})
        """Private keys of app DIDs this device holds: what signs an app's delegations."""
        self.engine = new_engine(limits) if engine is None else engine
        self.modules: dict[str, wasmtime.Module] = {} if module_cache is None else module_cache

    @property
    def friends(self) -> frozenset[str]:
        """The user's Carrier friends: those given at construction, and the verified friends of the
        Carrier node when the carrier has one (:meth:`reference.runtime.carrier_node.NodeCarrier.friend_dids`)."""
        source = getattr(self.carrier, "friend_dids", None)
        return self.static_friends | source() if callable(source) else self.static_friends

    @friends.setter
    def friends(self, value: Sequence[str] | frozenset[str]) -> None:
        self.static_friends = frozenset(value)

    def home(self, app_did: str) -> Path:
        """The app's home folder on disk: ``<root>/home/<user DID>/<app DID>/``."""
        return self._file(paths.home(self.user, app_did).rstrip("/"))

    def home_bytes(self, app_did: str) -> int:
        """The bytes the files of the app's home folder hold on disk."""
        folder = self.home(app_did)
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0

    def rescan(self, app_did: str) -> None:
        """Count the home folder's bytes again (after a sync brought files in or took them away)."""
        with self.storage_lock:
            app = self.apps[app_did]
            app.state = app.state.model_copy(update={"stored_bytes": self.home_bytes(app_did)})

    # -- installing -------------------------------------------------------------------------------------

    def compile(self, module: bytes) -> wasmtime.Module:
        """The compiled module, from the cache when this module (by hash) was compiled before."""
        key = manifest.module_hash(module)
        if key not in self.modules:
            self.modules[key] = wasmtime.Module(self.engine, module)
        return self.modules[key]

    def install(self, module: bytes, manifest_text: str, grants: Sequence[Sequence[bytes]] = ()) -> App:
        """Verify and instantiate an app; raises :class:`~spec.errors.Reject` with the first broken rule."""
        m = manifest.verify_manifest(manifest_text, module, self.resolve, self.now, self.limits)
        hostcalls.check_module_memory(m.limits, module)
        try:
            compiled = self.compile(module)
        except wasmtime.WasmtimeError as e:  # the header and sections decode, a function body does not validate
            first = str(e).splitlines()[0] if str(e) else "invalid module"
            raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"the validator refused it: {first}") from None
        hostcalls.check_imports([(i.module, i.name or "", import_signature(i.type)) for i in compiled.imports])
        chains = [tuple(c) for c in grants]
        caps = [capability.verify_chain(list(c), m.app, self.user, self.now, self.revoked, self.resolve)
                for c in chains]
        store = wasmtime.Store(self.engine)
        store.set_fuel(m.limits.fuel)
        store.set_limits(memory_size=m.limits.memory_pages * PAGE, table_elements=10_000, instances=1, tables=1,
                         memories=1)
        state = SandboxState(user=self.user, now=self.now, quota=self.quota, friends=self.friends,
                             revoked=self.revoked, stored_bytes=self.home_bytes(m.app))
        app = App(manifest=m, store=store, instance=None, grants=caps, state=state,
                  chains={cap.chain_ids[-1]: c for cap, c in zip(caps, chains, strict=True)})
        self.apps[m.app] = app
        linker = wasmtime.Linker(self.engine)
        for name, entry in TABLE.items():
            ftype = wasmtime.FuncType([_valtype(p) for p in entry.params], [_valtype(r) for r in entry.results])
            linker.define_func(hostcalls.IMPORT_MODULE, name, ftype, self._host(app, name), access_caller=True)
        try:
            app.instance = linker.instantiate(store, compiled)
        except (wasmtime.Trap, wasmtime.WasmtimeError, Denied) as e:
            del self.apps[m.app]
            result = self._failure(app, e)
            raise Reject(result.reason or Reason.HOSTCALL_MALFORMED, result.rule, f"start: {result.detail}") from None
        return app

    def grant(self, app_did: str, chain: Sequence[bytes]) -> capability.Capability:
        """Verify a grant (its tokens, root first) for an installed app and give it to the app."""
        app = self.apps[app_did]
        cap = capability.verify_chain(list(chain), app_did, self.user, self.now, self.revoked, self.resolve)
        app.grants.append(cap)
        app.chains[cap.chain_ids[-1]] = tuple(chain)
        return cap

    def revoke(self, token_id: bytes) -> None:
        """Revoke a token: from the next host call on, no grant through it counts."""
        self.revoked = self.revoked | {token_id}

    def write_input(self, app_did: str, offset: int, data: bytes) -> None:
        """Put input into an app's memory before calling it (what a UI does with what the user typed)."""
        app = self.apps[app_did]
        assert app.instance is not None
        mem = app.instance.exports(app.store).get("memory")
        if not isinstance(mem, wasmtime.Memory):
            raise ValueError(f"{app_did} exports no memory")
        mem.write(app.store, data, offset)

    def memory_pages(self, app_did: str) -> int:
        app = self.apps[app_did]
        assert app.instance is not None
        mem = app.instance.exports(app.store).get("memory")
        return mem.size(app.store) if isinstance(mem, wasmtime.Memory) else 0

    def tick(self, seconds: int = 1) -> None:
        """Advance the virtual clock."""
        self.now += seconds

    # -- running ----------------------------------------------------------------------------------------

    def run(self, app_did: str, export: str = "run", *args: int) -> RunResult:
        """Call an exported function of an app; a stopped app is not run again."""
        app = self.apps[app_did]
        if app.stopped is not None:
            return app.stopped
        assert app.instance is not None
        fn = app.instance.exports(app.store).get(export)
        if not isinstance(fn, wasmtime.Func):
            return RunResult(ok=False, detail=f"no exported function {export!r}")
        app.store.set_fuel(app.manifest.limits.fuel)  # each call into the app has the manifest's fuel
        before = app.store.get_fuel()
        try:
            value = fn(app.store, *args)
        except (wasmtime.Trap, wasmtime.WasmtimeError, Denied) as e:
            result = self._failure(app, e)
            result.fuel_used = before - app.store.get_fuel()
            if result.reason is not None:
                app.stopped = result
            return result
        return RunResult(ok=True, value=value, fuel_used=before - app.store.get_fuel())

    def _failure(self, app: App, e: BaseException) -> RunResult:
        denied = e if isinstance(e, Denied) else getattr(e, "__cause__", None) or getattr(e, "__context__", None)
        if isinstance(denied, Denied):
            return RunResult(ok=False, reason=denied.reason, rule=denied.rule, detail=denied.detail)
        if isinstance(e, wasmtime.Trap) and e.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
            # wasmtime's fuel counter is how the reference enforces RT-093 on instructions
            return RunResult(ok=False, reason=Reason.FUEL_EXHAUSTED, rule="RT-093", detail="out of fuel")
        if isinstance(e, wasmtime.Trap) and e.trap_code is not None:
            return RunResult(ok=False, detail=f"trap {e.trap_code.name}")
        return RunResult(ok=False, detail=str(e).splitlines()[0] if str(e) else type(e).__name__)

    def pump(self) -> int:
        """Take this user's Carrier messages, admit those from usable friends, queue them for their app."""
        delivered = 0
        state = SandboxState(user=self.user, now=self.now, friends=self.friends)
        for sender, data in self.carrier.receive(self.user):
            app_did, sep, payload = data.partition(b"\n")
            try:
                hostcalls.admit_inbound(sender, state, self.resolve)
            except Reject as e:
                self.inbound_refused.append((sender, e.reason))
                continue
            app = self.apps.get(app_did.decode("utf-8", "replace")) if sep else None
            if app is None or "carrier.receive" not in app.manifest.permissions or len(app.messages) >= MAX_QUEUE:
                continue
            app.messages.append((sender, payload))
            delivered += 1
        return delivered

    # -- host calls -------------------------------------------------------------------------------------

    def _host(self, app: App, name: str) -> Callable[..., int]:
        handler = getattr(self, f"_call_{name}")

        def host(caller: wasmtime.Caller, *args: int) -> int:
            return handler(app, caller, *args)

        return host

    @staticmethod
    def _memory(caller: wasmtime.Caller) -> tuple[Any, int]:
        mem = caller.get("memory")
        if not isinstance(mem, wasmtime.Memory):
            return None, 0
        return mem, mem.data_len(caller)

    def _span(self, caller: wasmtime.Caller, ptr: int, length: int) -> tuple[int, int]:
        ptr, length = ptr & 0xFFFFFFFF, length & 0xFFFFFFFF
        _, size = self._memory(caller)
        try:
            hostcalls.check_span(size, ptr, length)
        except Reject as e:
            raise Denied(e.reason, e.rule, e.detail) from None
        return ptr, length

    def _text(self, caller: wasmtime.Caller, ptr: int, length: int) -> str:
        ptr, length = self._span(caller, ptr, length)
        mem, _ = self._memory(caller)
        raw = bytes(mem.read(caller, ptr, ptr + min(length, hostcalls.MAX_STRING_ARG + 1)))
        return raw.decode("utf-8", "surrogateescape")

    def _bytes(self, caller: wasmtime.Caller, ptr: int, length: int) -> bytes:
        mem, _ = self._memory(caller)
        return bytes(mem.read(caller, ptr, ptr + length))

    def _write(self, caller: wasmtime.Caller, ptr: int, data: bytes) -> None:
        mem, _ = self._memory(caller)
        mem.write(caller, data, ptr)

    def _decide(self, app: App, call: HostCall) -> Allow:
        state = app.state.model_copy(update={"now": self.now, "friends": self.friends, "revoked": self.revoked,
                                             "installed": tuple(a.manifest for a in self.apps.values())})
        decision = hostcalls.decide(app.manifest, app.grants, state, call, self.resolve)
        app.state = hostcalls.record_call(state)
        if not isinstance(decision, Allow):
            app.audit.append((call.name, decision.reason.value))
            raise Denied(decision.reason, decision.rule, decision.detail)
        try:
            app.store.set_fuel(hostcalls.charge_fuel(app.store.get_fuel(), decision.cost))
        except Reject as e:
            app.audit.append((call.name, e.reason.value))
            raise Denied(e.reason, e.rule, e.detail) from None
        app.audit.append((call.name, "allow"))
        return decision

    def _file(self, location: str) -> Path:
        path = self.root / location
        if os.path.commonpath([self.root, path]) != str(self.root):  # defence in depth: the spec confines
            raise RuntimeError(f"location {location!r} outside the storage root")
        return path

    def _out(self, caller: wasmtime.Caller, out: int, cap: int, data: bytes) -> int:
        if len(data) > cap:
            return -2
        self._write(caller, out, data)
        return len(data)

    def _call_storage_read(self, app: App, caller: wasmtime.Caller, p: int, n: int, out: int, cap: int) -> int:
        path = self._text(caller, p, n)
        out, cap = self._span(caller, out, cap)
        allow = self._decide(app, HostCall(name="storage_read", path=path, size=cap))
        f = self._file(allow.target)
        if not f.is_file():
            return -1
        return self._out(caller, out, cap, f.read_bytes())

    def _call_storage_write(self, app: App, caller: wasmtime.Caller, p: int, n: int, d: int, dn: int) -> int:
        path = self._text(caller, p, n)
        d, dn = self._span(caller, d, dn)
        allow = self._decide(app, HostCall(name="storage_write", path=path, size=dn))
        data = self._bytes(caller, d, dn)
        f = self._file(allow.target)
        tmp = self.root / "tmp" / hashlib.sha256(allow.target.encode("utf-8", "surrogatepass")).hexdigest()
        with self.storage_lock:
            old = f.stat().st_size if f.is_file() else 0
            try:
                f.parent.mkdir(parents=True, exist_ok=True)
                tmp.parent.mkdir(exist_ok=True)
                tmp.write_bytes(data)
                os.replace(tmp, f)
            except OSError:
                tmp.unlink(missing_ok=True)
                return -3
            app.state = app.state.model_copy(update={"stored_bytes": app.state.stored_bytes + dn - old})
        return 0

    def _call_storage_list(self, app: App, caller: wasmtime.Caller, p: int, n: int, out: int, cap: int) -> int:
        path = self._text(caller, p, n)
        out, cap = self._span(caller, out, cap)
        allow = self._decide(app, HostCall(name="storage_list", path=path, size=cap))
        d = self._file(allow.target)
        names = sorted(x.name for x in d.iterdir()) if d.is_dir() else []
        return self._out(caller, out, cap, "\n".join(names).encode("utf-8", "surrogateescape"))

    def _call_storage_delete(self, app: App, caller: wasmtime.Caller, p: int, n: int) -> int:
        allow = self._decide(app, HostCall(name="storage_delete", path=self._text(caller, p, n)))
        f = self._file(allow.target)
        with self.storage_lock:
            if not f.is_file():
                return -1
            size = f.stat().st_size
            try:
                f.unlink()
            except FileNotFoundError:  # a sync of the home folder removed it meanwhile
                return -1
            app.state = app.state.model_copy(update={"stored_bytes": max(0, app.state.stored_bytes - size)})
        return 0

    def _call_carrier_send(self, app: App, caller: wasmtime.Caller, p: int, n: int, d: int, dn: int) -> int:
        peer = self._text(caller, p, n)
        d, dn = self._span(caller, d, dn)
        allow = self._decide(app, HostCall(name="carrier_send", peer=peer, size=dn))
        self.carrier.send(self.user, allow.target, app.did.encode() + b"\n" + self._bytes(caller, d, dn))
        return 0

    def _call_carrier_receive(self, app: App, caller: wasmtime.Caller, out: int, cap: int) -> int:
        out, cap = self._span(caller, out, cap)
        self._decide(app, HostCall(name="carrier_receive", size=cap))
        if not app.messages:
            return -1
        sender, data = app.messages[0]
        n = self._out(caller, out, cap, sender.encode() + b"\n" + data)
        if n >= 0:
            app.messages.popleft()
        return n

    def _call_intent_send(self, app: App, caller: wasmtime.Caller, sp: int, sn: int, tp: int, tn: int, ap: int,
                          an: int, d: int, dn: int) -> int:
        sender, target, action = self._text(caller, sp, sn), self._text(caller, tp, tn), self._text(caller, ap, an)
        d, dn = self._span(caller, d, dn)
        allow = self._decide(app, HostCall(name="intent_send", sender=sender, target=target, action=action, size=dn))
        receiver = self.apps[allow.target]
        if len(receiver.intents) >= MAX_QUEUE:
            return -2
        receiver.intents.append((app.did, action, self._bytes(caller, d, dn)))
        return 0

    def _call_intent_receive(self, app: App, caller: wasmtime.Caller, out: int, cap: int) -> int:
        out, cap = self._span(caller, out, cap)
        self._decide(app, HostCall(name="intent_receive", size=cap))
        if not app.intents:
            return -1
        sender, action, data = app.intents[0]
        n = self._out(caller, out, cap, f"{sender}\n{action}\n".encode() + data)
        if n >= 0:
            app.intents.popleft()
        return n

    def _call_log(self, app: App, caller: wasmtime.Caller, p: int, n: int) -> int:
        p, n = self._span(caller, p, n)
        self._decide(app, HostCall(name="log", size=n))
        if len(app.logs) < MAX_LOG_LINES:
            app.logs.append(self._bytes(caller, p, n).decode("utf-8", "replace"))
        return 0

    def _call_clock_now(self, app: App, caller: wasmtime.Caller) -> int:
        self._decide(app, HostCall(name="clock_now"))
        return self.now

    def _call_random_bytes(self, app: App, caller: wasmtime.Caller, out: int, n: int) -> int:
        out, n = self._span(caller, out, n)
        self._decide(app, HostCall(name="random_bytes", size=n))
        app.random_counter += 1
        stream = b""
        block = 0
        while len(stream) < n:
            stream += hashlib.sha256(self.seed + app.did.encode() + app.random_counter.to_bytes(8, "big")
                                     + block.to_bytes(4, "big")).digest()
            block += 1
        self._write(caller, out, stream[:n])
        return n

    def _call_cap_delegate(self, app: App, caller: wasmtime.Caller, tp: int, tn: int, rp: int, rn: int, ap: int,
                           an: int, expiry: int, max_bytes: int, delegatable: int) -> int:
        target, resource, action = self._text(caller, tp, tn), self._text(caller, rp, rn), self._text(caller, ap, an)
        call = HostCall(name="cap_delegate", target=target, resource=resource, action=action,
                        expiry=expiry & 0xFFFFFFFFFFFFFFFF, max_bytes=None if max_bytes < 0 else max_bytes,
                        delegatable=delegatable != 0)
        allow = self._decide(app, call)
        key = self.app_keys.get(app.did)
        if key is None:
            return -4
        if len(self.apps[allow.target].grants) >= MAX_GRANTS:  # a flood of delegations cannot grow a recipient
            return -2
        assert allow.parent is not None and call.expiry is not None
        parent_chain = app.chains[allow.parent]
        parent = capability.decode_token(parent_chain[-1])
        app.delegations += 1  # the new token's id: unique per app and call, reproducible from the seed
        token_id = hashlib.sha256(b"elastos.delegation" + self.seed + app.did.encode() + parent.id
                                  + app.delegations.to_bytes(8, "big")).digest()[:16]
        child = capability.Token(id=token_id, app=target, user=self.user, resource=resource, action=action,
                                 delegatable=delegatable != 0, max_bytes=call.max_bytes, expiry=call.expiry,
                                 issuer=app.did, parent=capability.token_hash(parent_chain[-1]),
                                 depth=parent.depth + 1, sig=bytes(64))
        chain = parent_chain + (capability.encode_token(capability.sign_token(child, key)),)
        try:
            self.grant(allow.target, chain)
        except Reject as e:  # e.g. the app's own DID is no longer usable (RT-021)
            app.audit.append(("cap_delegate", e.reason.value))
            raise Denied(e.reason, e.rule, e.detail) from None
        return 0
