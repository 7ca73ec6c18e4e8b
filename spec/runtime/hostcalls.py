"""The host-call table and the decision function: every effect an app can have, and when it may.

An app is a WebAssembly module whose only imports are functions of module ``elastos`` listed in
:data:`TABLE`, each with exactly its signature (RT-080, RT-081): no WASI, no memory, table or global
import. A module that imports anything else is not instantiated. So the set of effects is finite:

===================  ================================================  ===================  =========================  =======
host call            wasm parameters                                   permission           capability                 network
===================  ================================================  ===================  =========================  =======
``storage_read``     path, len, out, cap                               ``storage.read``     ``storage:<path>`` read    no
``storage_write``    path, len, data, len                              ``storage.write``    ``storage:<path>`` write   no
``storage_list``     dir, len, out, cap                                ``storage.read``     ``storage:<dir>/*`` list   no
``storage_delete``   path, len                                         ``storage.write``    ``storage:<path>`` delete  no
``carrier_send``     peer, len, data, len                              ``carrier.send``     ``carrier:<peer>`` send    yes
``carrier_receive``  out, cap                                          ``carrier.receive``  ``carrier:*`` receive      yes
``intent_send``      sender, len, target, len, action, len, data, len  ``intent.send``      ``intent:<action>`` send   no
``intent_receive``   out, cap                                          none                 none                       no
``log``              ptr, len                                          none                 none                       no
``clock_now``        (none; returns i64)                               none                 none                       no
``random_bytes``     out, len                                          none                 none                       no
``cap_delegate``     target, len, resource, len, action, len,          none                 a delegatable grant        no
                     expiry (i64), max_bytes (i64), delegatable                             that the request narrows
===================  ================================================  ===================  =========================  =======

Every parameter is an ``i32`` except ``cap_delegate``'s ``expiry`` and ``max_bytes`` (``i64``; a
negative ``max_bytes`` means no size bound, and ``expiry`` is read as unsigned), and every call
returns an ``i32`` except ``clock_now``.

``cap_delegate`` is how an app hands part of a capability it holds to another app of the same user:
the app names the recipient app DID (``target``), a resource, a capability action (``action``), an
expiry, a size bound and whether the new token may be delegated again; the runtime issues the new
token (signed for the delegating app, :mod:`spec.runtime.capability`) and grants its whole chain to
the recipient. It needs no permission of its own: the user's consent is the ``delegatable`` flag of
the grant it extends.

``decide(manifest, grants, state, call, resolve)`` is total: for any call it returns
:class:`Allow` (with the call's cost and its resolved target) or :class:`Deny` (reason, rule). Its
checks run in this order and the first failure decides:

1. the call is in the table (RT-082) with exactly its arguments (RT-083);
2. argument sizes are within the call's bounds (RT-090);
3. the app is within its host-call rate for the current virtual-time window (RT-091);
4. the manifest requests the call's permission (RT-084);
5. the call's own rules: a storage path is canonical (RT-040..RT-048); a Carrier peer is a
   canonical DID that resolves, is not deactivated, is valid at ``now`` and is a friend of the
   user (RT-070..RT-074); an intent is routed (RT-060..RT-064);
6. a capability the user granted covers the call's resource and action (RT-029), none of its tokens
   is revoked (RT-025), it has not expired (RT-024), and its size bound admits the call (RT-030);
7. a write keeps the home folder within its quota (RT-092).

``cap_delegate`` has its own rules in place of 5 to 7: the request is a well-formed resource with an
action of its kind, a size bound of at least 0 or none, and an expiry after ``now`` (RT-095); the
recipient is another app installed for the user whose manifest requests the permission the
capability's action needs (RT-096); then, among the app's grants, one is for the requested action
and covers the requested resource or is covered by it (RT-029; a request wider than a grant it
relates to is refused by RT-026, not here), is not revoked (RT-025) and not expired (RT-024), is
one the request only narrows (:func:`spec.runtime.capability.narrows`: delegatable, same user and
action, no later expiry, no larger bound; RT-026), and is shallow enough that the new token stays
within :data:`spec.runtime.capability.MAX_DELEGATION_DEPTH` (RT-027). The first such grant, in the order
the grants are held, is the parent (:attr:`Allow.parent`).

Inbound Carrier messages are admitted to an app's queue only from peers that pass the same
RT-070..RT-074 checks (:func:`admit_inbound`). The cost of a call is
``base + BYTE_COST * (size + string bytes)``; every allowed call's cost is at most
:func:`max_cost` of its entry and charged to the app's fuel (RT-093). Linear memory is bounded by
the manifest's page limit (RT-094); before a module is compiled its bytes are read far enough to
check its header, its sections' ids, sizes and order (RT-086, RT-097) and its memories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule
from spec.runtime import paths
from spec.runtime.capability import MAX_DELEGATION_DEPTH, U64, Capability, check_resource, covers, narrows
from spec.runtime.identity import DidResolver, canonical_did, usable
from spec.runtime.intents import route_intent
from spec.runtime.manifest import AppLimits, Manifest

__all__ = ["IMPORT_MODULE", "HostCallEntry", "TABLE", "HostCall", "SandboxState", "Allow", "Deny", "Decision",
           "check_imports", "check_span", "decide", "record_call", "check_peer", "admit_inbound", "call_cost", "max_cost",
           "charge_fuel", "check_memory", "module_memories", "check_module_memory", "MemoryLimits", "string_bytes",
           "SECTION_ORDER", "WINDOW", "MAX_STRING_ARG", "BYTE_COST", "DEFAULT_QUOTA", "STRING_ARGS", "DELEGATE", "permission_for"]

IMPORT_MODULE: Final = "elastos"
WINDOW: Final = 1
"""A rate window is this many units of virtual time."""
MAX_STRING_ARG: Final = 4096
"""A string argument (path, DID, action) is at most this many UTF-8 bytes."""
BYTE_COST: Final = 1
"""Fuel per argument byte."""
DEFAULT_QUOTA: Final = 16 << 20
"""Bytes an app may keep in its home folder unless the runtime says otherwise."""
STRING_ARGS: Final = ("path", "peer", "sender", "target", "action", "resource")
DELEGATE: Final = "cap_delegate"


class HostCallEntry(BaseModel):
    """One row of the host-call table."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    args: tuple[str, ...]
    """The string arguments the call carries (a subset of :data:`STRING_ARGS`)."""
    permission: str | None
    kind: str | None
    """Capability kind (``storage``, ``carrier``, ``intent``) or ``None`` when no capability is needed."""
    action: str | None
    network: bool
    """The call has an effect beyond this machine (Carrier)."""
    max_size: int
    """Bound on the call's size argument (data length, output capacity or byte count)."""
    base_cost: int


def _e(name: str, n: int, args: tuple[str, ...], perm: str | None, kind: str | None, action: str | None,
       network: bool, max_size: int, base: int, result: str = "i32") -> HostCallEntry:
    return HostCallEntry(name=name, params=("i32",) * n, results=(result,), args=args, permission=perm, kind=kind,
                         action=action, network=network, max_size=max_size, base_cost=base)


TABLE: Final[dict[str, HostCallEntry]] = {e.name: e for e in (
    _e("storage_read", 4, ("path",), "storage.read", "storage", "read", False, 65536, 1000),
    _e("storage_write", 4, ("path",), "storage.write", "storage", "write", False, 65536, 1000),
    _e("storage_list", 4, ("path",), "storage.read", "storage", "list", False, 65536, 1000),
    _e("storage_delete", 2, ("path",), "storage.write", "storage", "delete", False, 0, 1000),
    _e("carrier_send", 4, ("peer",), "carrier.send", "carrier", "send", True, 16384, 2000),
    _e("carrier_receive", 2, (), "carrier.receive", "carrier", "receive", True, 65536, 500),
    _e("intent_send", 8, ("sender", "target", "action"), "intent.send", "intent", "send", False, 16384, 2000),
    _e("intent_receive", 2, (), None, None, None, False, 65536, 500),
    _e("log", 2, (), None, None, None, False, 1024, 100),
    _e("clock_now", 0, (), None, None, None, False, 0, 10, "i64"),
    _e("random_bytes", 2, (), None, None, None, False, 256, 100),
    HostCallEntry(name=DELEGATE, params=("i32",) * 6 + ("i64", "i64", "i32"), results=("i32",),
                  args=("target", "action", "resource"), permission=None, kind=None, action=None, network=False,
                  max_size=0, base_cost=2000),
)}
"""Every host call. Nothing else is importable."""

R_IMPORT = rule(
    "RT-080", Reason.HOSTCALL_UNKNOWN,
    "A module imports only functions of module 'elastos' named in the host-call table (no WASI, no memory, "
    "table or global import).",
    suite="runtime",
)
R_IMPORT_TYPE = rule(
    "RT-081", Reason.HOSTCALL_MALFORMED,
    "Each imported host function has exactly the table's signature.",
    suite="runtime",
)
R_CALL = rule("RT-082", Reason.HOSTCALL_UNKNOWN, "A host call is named in the host-call table.", suite="runtime")
R_ARGS = rule(
    "RT-083", Reason.HOSTCALL_MALFORMED,
    "A host call carries exactly the string arguments its entry names and a size of at least 0.",
    suite="runtime",
)
R_SPAN = rule(
    "RT-085", Reason.HOSTCALL_MALFORMED,
    "Every (pointer, length) argument of a host call lies inside the app's linear memory.",
    suite="runtime",
)
R_MODULE = rule(
    "RT-086", Reason.MODULE_MALFORMED,
    "An app's module starts with the WebAssembly magic and version 1, its sections decode (an id of at most 13 "
    "and a size within the module) and its memory section is a vector of well-formed limits; what lies inside "
    "the other sections (types, function bodies) is for the runtime's WebAssembly validator to accept.",
    suite="runtime",
)
R_SECTION_ORDER = rule(
    "RT-097", Reason.MODULE_MALFORMED,
    "An app's module holds each non-custom section at most once, in the order the WebAssembly binary format "
    "prescribes (type 1, import 2, function 3, table 4, memory 5, tag 13, global 6, export 7, start 8, element 9, "
    "data count 12, code 10, data 11); custom sections (id 0) may stand anywhere.",
    suite="runtime",
    upstream="WebAssembly core specification, binary format: Modules (data count from 2.0, tag from 3.0)",
)
R_PERMISSION = rule(
    "RT-084", Reason.PERMISSION_NOT_REQUESTED,
    "A host call that needs a permission is allowed only if the app's manifest requests it.",
    suite="runtime",
)
R_GRANTED = rule(
    "RT-029", Reason.CAP_NOT_GRANTED,
    "A host call that needs a capability is allowed only if a grant held by the app for its user covers the "
    "call's resource and action.",
    suite="runtime",
)
R_CONSTRAINT = rule(
    "RT-030", Reason.CAP_CONSTRAINT,
    "The covering grant's size bound (max_bytes) admits the call's size.",
    suite="runtime",
)
R_PEER_DID = rule(
    "RT-070", Reason.NET_PEER_MALFORMED, "A network peer is named by a canonical DID string.", suite="runtime",
)
R_PEER_KNOWN = rule(
    "RT-071", Reason.NET_PEER_UNRESOLVED, "A network peer's DID resolves.", suite="runtime",
    upstream="Elastos.RT: remote CAR calls need the caller's Carrier identity",
)
R_PEER_ACTIVE = rule(
    "RT-072", Reason.NET_PEER_DEACTIVATED, "A network peer's DID is not deactivated.", suite="runtime",
)
R_PEER_VALID = rule(
    "RT-073", Reason.NET_PEER_INVALID,
    "A network peer's document is valid at now (genuine, not expired, controllers valid).",
    suite="runtime",
)
R_FRIEND = rule(
    "RT-074", Reason.NET_NOT_FRIEND, "A network peer is a Carrier friend of the app's user.", suite="runtime",
    upstream="Carrier v1: messages go to friends only; Elastos.RT: both nodes must be mutual Carrier friends",
)
R_SIZE = rule(
    "RT-090", Reason.ARGUMENT_TOO_LARGE,
    f"A host call's size is at most its entry's bound and each string argument at most {MAX_STRING_ARG} UTF-8 "
    "bytes.",
    suite="runtime",
)
R_RATE = rule(
    "RT-091", Reason.RATE_LIMITED,
    f"An app makes at most its manifest's calls_per_window host calls in a window of {WINDOW} unit of virtual time.",
    suite="runtime",
)
R_QUOTA = rule(
    "RT-092", Reason.STORAGE_QUOTA,
    "A write is allowed only if the bytes stored plus the bytes written stay within the home folder's quota.",
    suite="runtime", note="Deviation: an overwrite is counted as if the old file were kept (a safe bound).",
)
R_FUEL = rule(
    "RT-093", Reason.FUEL_EXHAUSTED,
    "An app runs only while it has fuel; each instruction and each allowed host call's cost is charged.",
    suite="runtime",
)
R_MEMORY = rule(
    "RT-094", Reason.MEMORY_LIMIT,
    "An app's linear memory never exceeds its manifest's memory_pages: the module defines at most one memory, "
    "not shared, whose initial size is within the bound, and a memory.grow past the bound fails.",
    suite="runtime",
    note="Deviation: the Elacity capsule manifest bounds memory in MiB (resources.memory_mb, default 64); here "
    "the bound is in 64 KiB pages (memory_pages), and a memory.grow past it returns -1 (WebAssembly's own "
    "failure value) rather than stopping the app.",
)
R_DELEGATE_REQUEST = rule(
    "RT-095", Reason.CAP_MALFORMED,
    "A delegation names a well-formed resource with an action of its kind, a size bound of at least 0 or none, "
    "and an expiry after now and below 2^64.",
    suite="runtime",
)
R_DELEGATE_RECIPIENT = rule(
    "RT-096", Reason.CAP_RECIPIENT,
    "A delegation's recipient is another app installed for the same user whose manifest requests the permission "
    "the capability's action needs.",
    suite="runtime",
)


class HostCall(BaseModel):
    """One host call as the runtime read it from the app (strings decoded, sizes as given)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    path: str | None = None
    peer: str | None = None
    sender: str | None = None
    target: str | None = None
    action: str | None = None
    """An intent action (``intent_send``), or a capability action (``cap_delegate``)."""
    resource: str | None = None
    """The resource a delegation names (``cap_delegate``)."""
    size: int = 0
    """The data length, output capacity or byte count the call names (0 where it names none)."""
    expiry: int | None = None
    """The expiry a delegation asks for (``cap_delegate`` only)."""
    max_bytes: int | None = None
    """The size bound a delegation asks for, ``None`` for none (``cap_delegate`` only)."""
    delegatable: bool | None = None
    """Whether the delegated token may be delegated again (``cap_delegate`` only)."""


class SandboxState(BaseModel):
    """What ``decide`` needs to know beyond the manifest and the grants."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    user: str
    """The user DID the app runs for."""
    now: int
    """Virtual time (Unix seconds)."""
    window_start: int = 0
    calls_in_window: int = 0
    stored_bytes: int = 0
    quota: int = DEFAULT_QUOTA
    friends: frozenset[str] = frozenset()
    """The user's Carrier friends (DID strings)."""
    revoked: frozenset[bytes] = frozenset()
    """Revoked token ids."""
    installed: tuple[Manifest, ...] = ()
    """The apps installed for the user (intent routing)."""


class Allow(BaseModel):
    """The call may run; ``cost`` is charged to the app's fuel, ``target`` is what it acts on."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    cost: int
    target: str
    """The resolved storage location, the peer DID, the receiving app, or ``""``."""
    parent: bytes | None = None
    """For ``cap_delegate``: the id of the last token of the grant the new token extends."""


class Deny(BaseModel):
    """The call may not run."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    reason: Reason
    rule: str | None
    detail: str = ""


Decision = Allow | Deny


def check_imports(imports: Sequence[tuple[str, str, str]]) -> None:
    """``(module, name, type)`` of every import, type as ``func(i32,i32)->(i32)``; raise on the first bad one."""
    for module, name, kind in imports:
        entry = TABLE.get(name) if module == IMPORT_MODULE else None
        # [RT-080] only host functions of the table
        if entry is None or not kind.startswith("func("):
            raise Reject(Reason.HOSTCALL_UNKNOWN, "RT-080", f"import {module}.{name} ({kind})")
        # [RT-081] with exactly the table's signature
        if kind != f"func({','.join(entry.params)})->({','.join(entry.results)})":
            raise Reject(Reason.HOSTCALL_MALFORMED, "RT-081", f"import {module}.{name}: {kind}")


def check_span(memory_bytes: int, ptr: int, length: int) -> None:
    """A (pointer, length) argument, both read as unsigned 32-bit, lies inside ``memory_bytes`` of memory."""
    # [RT-085] the span lies inside linear memory
    if not (0 <= ptr and 0 <= length and ptr + length <= memory_bytes):
        raise Reject(Reason.HOSTCALL_MALFORMED, "RT-085", f"[{ptr}, {ptr}+{length}) outside {memory_bytes} bytes")


def string_bytes(call: HostCall) -> int:
    """UTF-8 bytes of the call's string arguments (an unpaired surrogate counts 3)."""
    return sum(len(s.encode("utf-8", "surrogatepass")) for s in
               (call.path, call.peer, call.sender, call.target, call.action, call.resource) if s is not None)


def call_cost(entry: HostCallEntry, size: int, strings: int) -> int:
    """The fuel a call costs (arithmetic only: :mod:`proofs.isolation` evaluates it on Z3 terms)."""
    return entry.base_cost + BYTE_COST * (size + strings)


def max_cost(entry: HostCallEntry) -> int:
    """The most any allowed call of ``entry`` costs."""
    return call_cost(entry, entry.max_size, MAX_STRING_ARG * len(entry.args))


def record_call(state: SandboxState) -> SandboxState:
    """The state after one more host call at ``state.now``."""
    if state.now >= state.window_start + WINDOW:
        return state.model_copy(update={"window_start": state.now, "calls_in_window": 1})
    return state.model_copy(update={"calls_in_window": state.calls_in_window + 1})


def check_peer(peer: str, state: SandboxState, resolve: DidResolver) -> str:
    """A Carrier peer the app's user may reach at ``state.now`` (RT-070..RT-074)."""
    did = canonical_did(peer)
    # [RT-070] a canonical DID
    if did is None:
        raise Reject(Reason.NET_PEER_MALFORMED, "RT-070", f"peer {peer[:70]!r}")
    resolved = resolve(did)
    # [RT-071] the DID resolves
    if resolved is None:
        raise Reject(Reason.NET_PEER_UNRESOLVED, "RT-071", f"{peer} does not resolve")
    # [RT-072] not deactivated
    if resolved.deactivated:
        raise Reject(Reason.NET_PEER_DEACTIVATED, "RT-072", f"{peer} is deactivated")
    # [RT-073] valid at now
    if not usable(resolved, state.now, resolve):
        raise Reject(Reason.NET_PEER_INVALID, "RT-073", f"{peer}'s document is not valid at {state.now}")
    # [RT-074] a friend of the user
    if peer not in state.friends:
        raise Reject(Reason.NET_NOT_FRIEND, "RT-074", f"{peer} is not a friend of {state.user}")
    return peer


def admit_inbound(sender: str, state: SandboxState, resolve: DidResolver) -> str:
    """A message from ``sender`` may enter the app's Carrier queue (the same checks as a send)."""
    return check_peer(sender, state, resolve)


def charge_fuel(remaining: int, cost: int) -> int:
    """Fuel left after charging ``cost``."""
    # [RT-093] an app cannot spend fuel it does not have
    if cost > remaining:
        raise Reject(Reason.FUEL_EXHAUSTED, "RT-093", f"cost {cost} > remaining {remaining}")
    return remaining - cost


WASM_HEADER: Final = b"\x00asm\x01\x00\x00\x00"
MEMORY_SECTION: Final = 5
MAX_SECTION_ID: Final = 13
SECTION_ORDER: Final = (1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11)
"""The non-custom section ids in the order a module must hold them (RT-097); custom sections (id 0)
are not ordered."""
_SECTION_RANK: Final = {sid: rank for rank, sid in enumerate(SECTION_ORDER, start=1)}


class MemoryLimits(BaseModel):
    """One memory a module defines (its memory section's limits)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    minimum: int
    """Initial size in 64 KiB pages."""
    maximum: int | None
    shared: bool
    index64: bool
    """A 64-bit memory (memory64)."""


def _leb(data: bytes, at: int, bits: int) -> tuple[int, int]:
    """An unsigned LEB128 of at most ``bits`` bits at ``at``: (value, next offset)."""
    value = shift = 0
    while True:
        # [RT-086] an unsigned LEB128 within the module and its width
        if at >= len(data) or shift >= bits:
            raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"bad LEB128 at {at}")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    # [RT-086] the value fits its width
    if value >> bits:
        raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"LEB128 wider than {bits} bits before {at}")
    return value, at


def module_memories(module: bytes) -> tuple[MemoryLimits, ...]:
    """The memories a WebAssembly binary defines, read from its memory section (other sections are
    skipped by their sizes, after their ids are checked for order and repetition; function bodies are
    left to the runtime's validator)."""
    # [RT-086] the WebAssembly magic and version 1
    if module[:8] != WASM_HEADER:
        raise Reject(Reason.MODULE_MALFORMED, "RT-086", "not a WebAssembly 1 binary")
    at, out, seen = 8, [], [0]
    while at < len(module):
        sid = module[at]
        size, body = _leb(module, at + 1, 32)
        # [RT-086] a known section id and a size within the module
        if sid > MAX_SECTION_ID or body + size > len(module):
            raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"section {sid} of {size} bytes at {at}")
        rank = _SECTION_RANK.get(sid, 0)
        # [RT-097] a non-custom section comes after every non-custom section before it, so at most once
        if rank and rank <= seen[-1]:
            what = "a second" if rank in seen else "out of order:"
            raise Reject(Reason.MODULE_MALFORMED, "RT-097", f"{what} section {sid} at {at}")
        if rank:
            seen.append(rank)
        if sid == MEMORY_SECTION:
            end = body + size
            count, p = _leb(module[:end], body, 32)
            for _ in range(count):
                flags = module[p] if p < end else 0xFF
                # [RT-086] limits flags: has-max, shared, 64-bit
                if flags > 7:
                    raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"memory limits flags {flags:#x} at {p}")
                width = 64 if flags & 4 else 32
                minimum, p = _leb(module[:end], p + 1, width)
                maximum = None
                if flags & 1:
                    maximum, p = _leb(module[:end], p, width)
                out.append(MemoryLimits(minimum=minimum, maximum=maximum, shared=bool(flags & 2),
                                        index64=bool(flags & 4)))
            # [RT-086] the memory section holds exactly its entries
            if p != end:
                raise Reject(Reason.MODULE_MALFORMED, "RT-086", f"memory section ends at {p}, not {end}")
        at = body + size
    return tuple(out)


def check_module_memory(limits: AppLimits, module: bytes) -> tuple[MemoryLimits, ...]:
    """The module's memories, checked against the app's limit before the module runs (RT-086, RT-094)."""
    memories = module_memories(module)
    # [RT-094] at most one memory, and not shared between threads
    if len(memories) > 1 or any(m.shared for m in memories):
        raise Reject(Reason.MEMORY_LIMIT, "RT-094", f"{len(memories)} memories, shared: "
                     f"{[m.shared for m in memories]}")
    for m in memories:
        check_memory(limits, m.minimum)
    return memories


def check_memory(limits: AppLimits, pages: int) -> None:
    """Linear memory of ``pages`` pages is within the app's limit."""
    # [RT-094] memory within the page limit
    if pages > limits.memory_pages:
        raise Reject(Reason.MEMORY_LIMIT, "RT-094", f"{pages} pages > {limits.memory_pages}")


def _resource(entry: HostCallEntry, call: HostCall, manifest: Manifest, state: SandboxState,
              resolve: DidResolver) -> tuple[str, str]:
    """The call's own rules: (capability resource, resolved target)."""
    if entry.kind == "storage":
        assert call.path is not None
        if entry.name == "storage_list":
            target = paths.resolve_dir(state.user, manifest.app, call.path)
            return ("storage:*" if call.path == "" else f"storage:{call.path}/*"), target
        return f"storage:{call.path}", paths.resolve_path(state.user, manifest.app, call.path)
    if entry.name == "carrier_send":
        assert call.peer is not None
        return f"carrier:{call.peer}", check_peer(call.peer, state, resolve)
    if entry.name == "carrier_receive":
        return "carrier:*", ""
    if entry.name == "intent_send":
        assert call.sender is not None and call.target is not None and call.action is not None
        receiver = route_intent(manifest, call.sender, call.target, call.action, state.installed)
        return f"intent:{call.action}", receiver
    return "", ""


def permission_for(kind: str, action: str) -> str | None:
    """The permission a host call using a capability of ``kind`` and ``action`` needs (from :data:`TABLE`)."""
    return next((e.permission for e in TABLE.values() if e.kind == kind and e.action == action), None)


def _live_grants(action: str | None, resource: str, manifest: Manifest, grants: Sequence[Capability],
                 state: SandboxState, overlap: bool = False) -> list[Capability]:
    """The grants for ``action`` that cover ``resource`` (with ``overlap``: or that ``resource`` covers, so
    that a delegation asking for more than a grant it relates to is told it amplifies), neither revoked
    nor expired."""
    found = [g for g in grants if g.app == manifest.app and g.user == state.user and g.action == action
             and (covers(g.resource, resource) or (overlap and covers(resource, g.resource)))]
    # [RT-029] some grant covers the resource and action
    if not found:
        raise Reject(Reason.CAP_NOT_GRANTED, "RT-029", f"no grant for {resource} {action}")
    found = [g for g in found if not state.revoked.intersection(g.chain_ids)]
    # [RT-025] revoked grants no longer count
    if not found:
        raise Reject(Reason.CAP_REVOKED, "RT-025", f"every grant for {resource} is revoked")
    found = [g for g in found if state.now < g.expiry]
    # [RT-024] expired grants no longer count
    if not found:
        raise Reject(Reason.CAP_EXPIRED, "RT-024", f"every grant for {resource} has expired")
    return found


def _check_grant(entry: HostCallEntry, resource: str, manifest: Manifest, grants: Sequence[Capability],
                 state: SandboxState, size: int) -> None:
    found = _live_grants(entry.action, resource, manifest, grants, state)
    # [RT-030] the grant's size bound admits the call
    if not any(g.max_bytes is None or size <= g.max_bytes for g in found):
        raise Reject(Reason.CAP_CONSTRAINT, "RT-030", f"{size} bytes exceed every grant's bound")


def _decide(manifest: Manifest, grants: Sequence[Capability], state: SandboxState, call: HostCall,
            resolve: DidResolver) -> Allow:
    entry = TABLE.get(call.name)
    # [RT-082] a call of the table
    if entry is None:
        raise Reject(Reason.HOSTCALL_UNKNOWN, "RT-082", f"no host call {call.name[:70]!r}")
    given = tuple(k for k in STRING_ARGS if getattr(call, k) is not None)
    numbers = (call.expiry, call.max_bytes, call.delegatable)
    numbers_ok = (call.expiry is not None and call.delegatable is not None) if entry.name == DELEGATE \
        else numbers == (None, None, None)
    # [RT-083] exactly the entry's arguments
    if given != tuple(k for k in STRING_ARGS if k in entry.args) or call.size < 0 or not numbers_ok:
        raise Reject(Reason.HOSTCALL_MALFORMED, "RT-083", f"{call.name} takes {entry.args}, got {given}")
    longest = max((len(getattr(call, k).encode("utf-8", "surrogatepass")) for k in entry.args), default=0)
    # [RT-090] bounded arguments
    if call.size > entry.max_size or longest > MAX_STRING_ARG:
        raise Reject(Reason.ARGUMENT_TOO_LARGE, "RT-090", f"size {call.size}, string of {longest} bytes")
    in_window = state.now < state.window_start + WINDOW
    # [RT-091] within the host-call rate
    if in_window and state.calls_in_window >= manifest.limits.calls_per_window:
        raise Reject(Reason.RATE_LIMITED, "RT-091", f"{state.calls_in_window} calls in this window")
    # [RT-084] the manifest requests the permission
    if entry.permission is not None and entry.permission not in manifest.permissions:
        raise Reject(Reason.PERMISSION_NOT_REQUESTED, "RT-084", f"{call.name} needs {entry.permission}")
    if entry.name == DELEGATE:
        return _delegate(entry, manifest, grants, state, call)
    resource, target = _resource(entry, call, manifest, state, resolve)
    if entry.kind is not None:
        _check_grant(entry, resource, manifest, grants, state, call.size)
    # [RT-092] a write stays within the quota
    if entry.name == "storage_write" and state.stored_bytes + call.size > state.quota:
        raise Reject(Reason.STORAGE_QUOTA, "RT-092", f"{state.stored_bytes} + {call.size} > {state.quota}")
    return Allow(cost=call_cost(entry, call.size, string_bytes(call)), target=target)


def _delegate(entry: HostCallEntry, manifest: Manifest, grants: Sequence[Capability], state: SandboxState,
              call: HostCall) -> Allow:
    """``cap_delegate``'s own rules (RT-095, RT-096) and its parent grant (RT-029, RT-025, RT-024, RT-026,
    RT-027)."""
    assert call.target is not None and call.action is not None and call.resource is not None
    assert call.expiry is not None and call.delegatable is not None
    well_formed = (check_resource(call.resource, call.action) and (call.max_bytes is None or call.max_bytes >= 0)
                   and state.now < call.expiry <= U64)
    # [RT-095] a well-formed request
    if not well_formed:
        raise Reject(Reason.CAP_MALFORMED, "RT-095", f"delegation of {call.resource[:70]!r} {call.action[:20]!r} "
                     f"until {call.expiry}, bound {call.max_bytes}")
    kind = call.resource.partition(":")[0]
    needed = permission_for(kind, call.action)
    recipient = next((m for m in state.installed if m.app == call.target), None)
    # [RT-096] another installed app of the user whose manifest requests the permission
    if recipient is None or call.target == manifest.app or needed not in recipient.permissions:
        raise Reject(Reason.CAP_RECIPIENT, "RT-096", f"{call.target[:70]!r} may not receive {call.resource[:70]!r} "
                     f"{call.action}")
    live = _live_grants(call.action, call.resource, manifest, grants, state, overlap=True)
    child = Capability(app=call.target, user=state.user, resource=call.resource, action=call.action,
                       max_bytes=call.max_bytes, expiry=call.expiry, chain_ids=(), delegatable=call.delegatable)
    narrowed = [g for g in live if narrows(child, g)]
    # [RT-026] the delegation only narrows a grant the app holds
    if not narrowed:
        raise Reject(Reason.CAP_AMPLIFIED, "RT-026", f"{call.resource} {call.action} until {call.expiry} is wider "
                     "than every grant held")
    shallow = [g for g in narrowed if g.depth < MAX_DELEGATION_DEPTH]
    # [RT-027] the new token stays within the depth bound
    if not shallow:
        raise Reject(Reason.CAP_TOO_DEEP, "RT-027", f"depth {narrowed[0].depth + 1}")
    return Allow(cost=call_cost(entry, call.size, string_bytes(call)), target=call.target,
                 parent=shallow[0].chain_ids[-1])


def decide(manifest: Manifest, grants: Sequence[Capability], state: SandboxState, call: HostCall,
           resolve: DidResolver) -> Decision:
    """Allow or deny one host call (total: never raises for any call)."""
    try:
        return _decide(manifest, grants, state, call, resolve)
    except Reject as e:
        return Deny(reason=e.reason, rule=e.rule, detail=e.detail)
