"""Tests of the Runtime sandbox spec (:mod:`spec.runtime`): hand cases and Hypothesis properties."""

from __future__ import annotations

from functools import cache

import wasmtime
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conformance.generators import runtime as W
from reference.runtime.sandbox import new_engine
from spec.errors import Reason, Reject
from spec.runtime import capability as C
from spec.runtime import hostcalls as H
from spec.runtime import manifest as M
from spec.runtime import paths
from spec.runtime.identity import canonical_did, primitive_document
from tests.helpers import expect_reject

USER, NOTES, CHAT = W.did("user"), W.did("notes"), W.did("chat")


# -- paths -------------------------------------------------------------------------------------------------------


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="./\\%2e:aA\x00 ", max_size=30)))
def test_path_confinement_for_any_string(p: str) -> None:
    """Whatever the string: it is refused with a path reason, or it resolves strictly inside the home,
    with no '.', '..' or empty name, and no other (user, app) home contains it."""
    try:
        loc = paths.resolve_path(USER, NOTES, p)
    except Reject as e:
        assert e.reason.name.startswith("PATH_") and e.rule is not None and e.rule.startswith("RT-04")
        return
    home = paths.home(USER, NOTES)
    assert loc.startswith(home) and len(loc) > len(home)
    rest = loc[len(home):].split("/")
    assert all(n not in ("", ".", "..") for n in rest)
    assert not loc.startswith(paths.home(USER, CHAT)) and not loc.startswith(paths.home(W.did("user2"), NOTES))
    assert loc.encode("utf-8")  # encodable: no lone surrogate
    import posixpath
    assert posixpath.normpath(loc) == loc


def test_path_rules_in_order() -> None:
    expect_reject(paths.check_path, "", reason=Reason.PATH_EMPTY, rule="RT-040")
    expect_reject(paths.check_path, "/a/../b", reason=Reason.PATH_ABSOLUTE, rule="RT-041")
    expect_reject(paths.check_path, "a/..\x00", reason=Reason.PATH_BAD_CHARACTER, rule="RT-042")
    expect_reject(paths.check_path, "..%2f", reason=Reason.PATH_ENCODED_SEPARATOR, rule="RT-043")
    expect_reject(paths.check_path, "../e\u0301", reason=Reason.PATH_NOT_NFC, rule="RT-044")
    expect_reject(paths.check_path, "a/" + "b" * 300, reason=Reason.PATH_TOO_LONG, rule="RT-045")
    expect_reject(paths.check_path, "a//..", reason=Reason.PATH_EMPTY_COMPONENT, rule="RT-046")
    expect_reject(paths.check_path, "../con", reason=Reason.PATH_TRAVERSAL, rule="RT-047")
    expect_reject(paths.check_path, "nul.txt", reason=Reason.PATH_RESERVED_NAME, rule="RT-048")
    assert paths.resolve_dir(USER, NOTES, "") == paths.home(USER, NOTES)


def test_nfc_collision_cannot_happen() -> None:
    """Two spellings of one name: only the NFC one is accepted, so no two accepted names collide."""
    assert paths.resolve_path(USER, NOTES, "caf\u00e9")
    expect_reject(paths.check_path, "cafe\u0301", reason=Reason.PATH_NOT_NFC, rule="RT-044")


# -- manifests ---------------------------------------------------------------------------------------------------


def test_manifest_roundtrip_and_verify() -> None:
    m = W.manifest_model("notes")
    text = M.manifest_json(m)
    assert M.parse_manifest(text) == m
    assert M.verify_manifest(text, W.module("notes"), W.resolver(), W.NOW) == m


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["name", "version", "permissions", "intents", "limits"]), st.integers(0, 5))
def test_manifest_tampering_is_caught(field: str, k: int) -> None:
    m = W.manifest_model("notes")
    changed = {"name": m.name + "x" * (k + 1), "version": f"9.{k}", "permissions": m.permissions[:-1],
               "intents": m.intents + (f"extra.a{k}",),
               "limits": m.limits.model_copy(update={"fuel": m.limits.fuel + k + 1})}[field]
    text = M.manifest_json(m.model_copy(update={field: changed}))
    expect_reject(M.verify_manifest, text, W.module("notes"), W.resolver(), W.NOW,
                  reason=Reason.MANIFEST_SIGNATURE, rule="RT-007")


# -- tokens ------------------------------------------------------------------------------------------------------


ROOT = W.token("notes", "storage:docs/*", "read", delegatable=True, max_bytes=4096)


def _verify(chain: list[bytes], app: str = NOTES) -> C.Capability:
    return C.verify_chain(chain, app, USER, W.NOW, frozenset(), W.resolver())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(ROOT) - 1), st.integers(1, 255))
def test_token_tampering_never_verifies(i: int, delta: int) -> None:
    """Changing any byte of a valid token makes it fail with a token reason; never an unexpected error."""
    data = bytearray(ROOT)
    data[i] = (data[i] + delta) % 256
    try:
        cap = _verify([bytes(data)])
    except Reject as e:
        assert e.reason.name.startswith("CAP_"), e
        return
    raise AssertionError(f"tampered token verified: {cap}")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_token_decode_total(data: bytes) -> None:
    try:
        C.decode_token(data)
    except Reject as e:
        assert e.reason is Reason.CAP_MALFORMED and e.rule == "RT-020"


def test_token_roundtrip() -> None:
    t = C.decode_token(ROOT)
    assert C.encode_token(t) == ROOT
    assert _verify([ROOT]).resource == "storage:docs/*"


def test_revocation_takes_effect_at_next_call() -> None:
    m = W.manifest_model("notes")
    cap = _verify([W.NOTES_READ])
    call = H.HostCall(name="storage_read", path="notes/a", size=1)
    state = H.SandboxState(user=USER, now=W.NOW)
    assert isinstance(H.decide(m, [cap], state, call, W.resolver()), H.Allow)
    revoked = state.model_copy(update={"revoked": frozenset(cap.chain_ids)})
    d = H.decide(m, [cap], revoked, call, W.resolver())
    assert isinstance(d, H.Deny) and d.reason is Reason.CAP_REVOKED and d.rule == "RT-025"


def test_primitive_document_identity() -> None:
    text = primitive_document(W.private_key("user"), W.EXPIRES, W.CREATED)
    assert USER in text and canonical_did(USER) is not None


# -- decide ------------------------------------------------------------------------------------------------------


OPT_TEXT = st.one_of(st.none(), st.text(max_size=50), st.sampled_from([NOTES, CHAT, W.did("friend"), "notes/a"]))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(H.TABLE) + ["", "spawn", "storage_Read"]), OPT_TEXT, OPT_TEXT, OPT_TEXT, OPT_TEXT,
       OPT_TEXT, st.integers(-5, 1 << 20), st.integers(0, 20_000), st.sampled_from(["notes", "chat", "viewer"]))
def test_decide_is_total(name, path, peer, sender, target, action, size, calls_in, app) -> None:  # type: ignore[no-untyped-def]
    """For any call, decide returns Allow with a bounded cost or Deny with a registered rule; never raises."""
    m = W.manifest_model(app)
    grants = [_verify([t], NOTES) for t in (W.NOTES_READ, W.NOTES_WRITE, W.SHARE)] if app == "notes" else []
    state = H.SandboxState(user=USER, now=W.NOW, window_start=W.NOW, calls_in_window=calls_in,
                           friends=frozenset([W.did("friend")]), installed=(W.manifest_model("viewer"),))
    call = H.HostCall(name=name, path=path, peer=peer, sender=sender, target=target, action=action, size=size)
    d = H.decide(m, grants, state, call, W.resolver())
    if isinstance(d, H.Allow):
        e = H.TABLE[name]
        assert 1 <= d.cost <= H.max_cost(e)
        assert not e.network or name == "carrier_receive" or peer == W.did("friend")
    else:
        from spec.errors import RULES
        assert d.rule in RULES and RULES[d.rule].reason is d.reason


def test_record_call_windows() -> None:
    s = H.SandboxState(user=USER, now=W.NOW)
    s1 = H.record_call(s)
    assert (s1.window_start, s1.calls_in_window) == (W.NOW, 1)
    assert H.record_call(s1).calls_in_window == 2
    later = H.record_call(s1.model_copy(update={"now": W.NOW + H.WINDOW}))
    assert (later.window_start, later.calls_in_window) == (W.NOW + H.WINDOW, 1)


def test_imports_check() -> None:
    H.check_imports([("elastos", "log", "func(i32,i32)->(i32)")])
    expect_reject(H.check_imports, [("wasi_snapshot_preview1", "fd_write", "func(i32,i32,i32,i32)->(i32)")],
                  reason=Reason.HOSTCALL_UNKNOWN, rule="RT-080")
    expect_reject(H.check_imports, [("elastos", "log", "func(i64,i32)->(i32)")],
                  reason=Reason.HOSTCALL_MALFORMED, rule="RT-081")


def test_docs_decision_table_costs() -> None:
    """The decision table of docs/runtime.md shows each host call's max_cost."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "runtime.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[-2].strip().replace(" ", "")
            for line in text.splitlines() if line.startswith("| `") and line.count("|") == 7}
    assert set(rows) == set(H.TABLE)
    assert {n: int(c) for n, c in rows.items()} == {n: H.max_cost(e) for n, e in H.TABLE.items()}


# -- stateful: grants, revocations, time and calls ----------------------------------------------------------------

RESOURCES = ["storage:*", "storage:notes/*", "storage:notes/a.txt", "storage:docs/*"]
PATHS = ["notes/a.txt", "notes/b.txt", "docs/x", "other/y"]


class SandboxMachine(RuleBasedStateMachine):
    """The notes app under a changing set of grants, revocations and virtual time.

    Oracle: a storage read is allowed exactly when some held grant covers the path and is neither
    revoked nor expired, and the app is within its rate; a revocation or an expiry takes effect at the
    very next call.
    """

    def __init__(self) -> None:
        super().__init__()
        self.m = W.manifest_model("notes", limits=(1000, 4, 5))
        self.state = H.SandboxState(user=USER, now=W.NOW, window_start=W.NOW)
        self.grants: list[C.Capability] = []
        self.issued = 0
        self.allowed: dict[int, int] = {}
        """Allowed calls per window start."""

    @rule(resource=st.sampled_from(RESOURCES), life=st.integers(1, 30))
    def grant(self, resource: str, life: int) -> None:
        self.issued += 1
        t = W.token("notes", resource, "read", expiry=self.state.now + life, label=f"sm{self.issued}")
        self.grants.append(C.verify_chain([t], NOTES, USER, self.state.now, self.state.revoked, W.resolver()))

    @precondition(lambda self: self.grants)
    @rule(i=st.integers(0, 50))
    def revoke(self, i: int) -> None:
        g = self.grants[i % len(self.grants)]
        self.state = self.state.model_copy(update={"revoked": self.state.revoked | {g.chain_ids[0]}})

    @rule(dt=st.integers(0, 7))
    def tick(self, dt: int) -> None:
        self.state = self.state.model_copy(update={"now": self.state.now + dt})

    @rule(path=st.sampled_from(PATHS))
    def read(self, path: str) -> None:
        s = self.state
        d = H.decide(self.m, self.grants, s, H.HostCall(name="storage_read", path=path, size=10), W.resolver())
        in_window = s.now < s.window_start + H.WINDOW
        rate_ok = not (in_window and s.calls_in_window >= self.m.limits.calls_per_window)
        live = [g for g in self.grants if C.covers(g.resource, f"storage:{path}")
                and not s.revoked.intersection(g.chain_ids) and s.now < g.expiry]
        assert isinstance(d, H.Allow) == (rate_ok and bool(live)), (d, path, s)
        if isinstance(d, H.Deny) and rate_ok:
            assert d.reason in (Reason.CAP_NOT_GRANTED, Reason.CAP_REVOKED, Reason.CAP_EXPIRED)
        self.state = H.record_call(s)
        if isinstance(d, H.Allow):
            self.allowed[self.state.window_start] = self.allowed.get(self.state.window_start, 0) + 1

    @invariant()
    def rate_holds(self) -> None:
        """No window ever has more allowed calls than the manifest's calls_per_window."""
        assert all(n <= self.m.limits.calls_per_window for n in self.allowed.values()), self.allowed


TestSandboxMachine = SandboxMachine.TestCase
TestSandboxMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


# -- module memories (RT-086, RT-094) ------------------------------------------------------------------------------

MEMORY = st.tuples(st.integers(0, 70000), st.one_of(st.none(), st.integers(0, 70000)), st.booleans(), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(MEMORY, max_size=3), st.booleans())
def test_module_memories_match_what_was_compiled(memories: list[tuple[int, int | None, bool, bool]],
                                                 with_code: bool) -> None:
    """The memories the spec reads from a binary are those its WAT declared (wasmtime compiles the WAT),
    and check_module_memory accepts exactly one unshared memory within the bound (or none)."""
    import wasmtime

    decls = []
    for i, (lo, hi, exported, is64) in enumerate(memories):
        hi = None if hi is None else max(hi, lo)
        export = f'(export "m{i}")' if exported else ""
        decls.append(f"(memory {export} {'i64 ' if is64 else ''}{lo}{'' if hi is None else f' {hi}'})")
    code = '(func (export "run") (result i32) (i32.const 7))' if with_code else ""
    module = bytes(wasmtime.wat2wasm(f"(module {' '.join(decls)} {code})"))
    got = H.module_memories(module)
    assert [(m.minimum, m.maximum, m.shared, m.index64) for m in got] == [
        (lo, None if hi is None else max(hi, lo), False, is64) for lo, hi, _, is64 in memories]
    limits = M.AppLimits(fuel=1, memory_pages=16, calls_per_window=1)
    fits = len(memories) <= 1 and all(lo <= 16 for lo, _, _, _ in memories)
    try:
        H.check_module_memory(limits, module)
        assert fits
    except Reject as e:
        assert not fits and (e.reason, e.rule) == (Reason.MEMORY_LIMIT, "RT-094")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 60), st.binary(min_size=1, max_size=4))
def test_module_memories_total_on_damaged_bytes(tail: bytes, at: int, junk: bytes) -> None:
    """Any bytes: a result or a typed rejection (RT-086), never another exception; and a module wasmtime
    validates is never called malformed."""
    import wasmtime

    base = bytearray(bytes.fromhex(W._wasm((1, b"\x01\x60\x00\x00"), W._memories(b"\x01\x01\x02"))) + tail)
    base[min(at, len(base)):min(at, len(base)) + len(junk)] = junk
    data = bytes(base)
    try:
        H.module_memories(data)
    except Reject as e:
        assert e.reason == Reason.MODULE_MALFORMED and e.rule in ("RT-086", "RT-097")
        try:
            wasmtime.Module.validate(wasmtime.Engine(), data)
        except wasmtime.WasmtimeError:
            return
        raise AssertionError(f"the spec refuses a module wasmtime validates: {data.hex()}") from None


# -- section order (RT-097) and the runtime's validator -----------------------------------------------------------


@cache
def _engine() -> wasmtime.Engine:
    """The engine the reference runtime validates and compiles apps with."""
    return new_engine()


def _wasmtime_accepts(module: bytes) -> bool:
    """The runtime's wasmtime engine compiles the module."""
    try:
        wasmtime.Module(_engine(), module)
    except wasmtime.WasmtimeError:
        return False
    return True


def test_module_memory_vectors_agree_with_wasmtime() -> None:
    """Every runtime.module.memory case the spec calls malformed (RT-086, RT-097) is refused by the runtime's
    wasmtime engine too, and every accepted case compiles there. (MEMORY_LIMIT cases are valid WebAssembly
    that the manifest's bound refuses, so wasmtime may accept them.)"""
    seen: dict[object, int] = {}
    for case in W.module_memory():
        module = bytes.fromhex(case.input["module"])
        if case.means == W.OK:
            assert _wasmtime_accepts(module), case.name
        elif case.means == Reason.MODULE_MALFORMED:
            assert not _wasmtime_accepts(module), case.name
        seen[case.means] = seen.get(case.means, 0) + 1
    assert seen[W.OK] >= 9 and seen[Reason.MODULE_MALFORMED] >= 20


def test_section_order_vectors_fire_rt097() -> None:
    """Duplicate and out-of-order sections are refused by RT-097; the tag and data count sections have their
    places; a section of unknown id is RT-086 wherever it stands."""
    order = {case.name: case for case in W._section_order()}
    for name in ("two_memory_sections", "two_memory_sections_apart", "two_type_sections",
                 "two_type_sections_around_custom", "second_data_section", "memory_before_type",
                 "global_before_memory", "tag_before_memory", "data_count_after_code"):
        expect_reject(H.module_memories, bytes.fromhex(order[name].input["module"]),
                      reason=Reason.MODULE_MALFORMED, rule="RT-097")
    for name in ("unknown_section_id_between_known", "section_id_255"):
        expect_reject(H.module_memories, bytes.fromhex(order[name].input["module"]),
                      reason=Reason.MODULE_MALFORMED, rule="RT-086")
    for name in ("all_sections_in_order_ok", "custom_sections_between_known_ok", "tag_after_memory_ok"):
        got = H.module_memories(bytes.fromhex(order[name].input["module"]))
        assert [(m.minimum, m.maximum) for m in got] == [(1, None)], name


CUSTOM = (0, b"\x04note\x01\x02")
"""A custom section named ``note`` holding two bytes."""


def _swapped(i: int) -> list[int]:
    """The sections in order but for the i-th and the next, swapped."""
    out = list(range(len(W.FULL_MODULE)))
    out[i], out[i + 1] = out[i + 1], out[i]
    return out


SECTION_ORDERS = st.one_of(st.just(list(range(len(W.FULL_MODULE)))),
                           st.integers(0, len(W.FULL_MODULE) - 2).map(_swapped),
                           st.permutations(range(len(W.FULL_MODULE))))
"""In order, in order but for two neighbours, or any order."""


@settings(max_examples=250, deadline=None)
@given(SECTION_ORDERS,
       st.lists(st.tuples(st.integers(0, len(W.FULL_MODULE) - 1), st.integers(0, 30)), max_size=3),
       st.lists(st.integers(0, 30), max_size=3))
def test_shuffled_and_repeated_sections_agree_with_wasmtime(order: list[int], repeats: list[tuple[int, int]],
                                                            customs: list[int]) -> None:
    """Every section of a valid module, shuffled, some repeated, custom sections put anywhere: the spec's reader
    accepts exactly when wasmtime does, and refuses with RT-097 otherwise."""
    sections = [W.FULL_MODULE[i] for i in order]
    for index, at in repeats:
        sections.insert(min(at, len(sections)), W.FULL_MODULE[index])
    for at in customs:
        sections.insert(min(at, len(sections)), CUSTOM)
    module = bytes.fromhex(W._wasm(*sections))
    ids = [sid for sid, _ in sections if sid]
    in_order = ids == list(H.SECTION_ORDER)
    try:
        H.module_memories(module)
        spec_accepts = True
    except Reject as e:
        assert (e.reason, e.rule) == (Reason.MODULE_MALFORMED, "RT-097")
        spec_accepts = False
    assert spec_accepts == in_order
    assert _wasmtime_accepts(module) == spec_accepts, module.hex()
    event("accepted" if spec_accepts else "refused")
