"""The reference Runtime (:mod:`reference.runtime`): sample apps and the attack catalogue, in wasmtime.

Every module is WAT from ``reference/runtime/apps`` compiled here. Each attack test checks that the
hostile app is stopped (or refused at install) with the right reason and rule, and that the host
and the other apps are unaffected: a well-behaved notes app installed beside it still runs, its
files are intact, and nothing was written outside the runtime's storage folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference.runtime.carrier import LoopbackCarrier
from reference.runtime.sandbox import Runtime, compile_wat
from reference.runtime.world import World
from spec.errors import Reason, Reject
from spec.runtime import capability as C

APPS = Path(__file__).resolve().parents[1] / "reference" / "runtime" / "apps"
NOW = 1_750_000_000
NOTES_PERMS = ("storage.read", "storage.write")


def wasm(name: str) -> bytes:
    path = APPS / f"{name}.wat"
    return compile_wat((path if path.exists() else APPS / "attacks" / f"{name}.wat").read_text())


@pytest.fixture(scope="module")
def world() -> World:
    w = World()
    for label in ("user", "friend", "stranger", "gone", "developer", "notes", "chat", "share", "viewer", "evil"):
        w.did(label)
    w.did("stale", expires=NOW - 10)
    w.deactivate("gone")
    return w


class Env:
    """A runtime for ``user`` with the notes app installed as the bystander."""

    def __init__(self, world: World, root: Path, carrier: LoopbackCarrier | None = None, user: str = "user",
                 **kw: object) -> None:
        self.world = world
        self.root = root
        self.carrier = carrier or LoopbackCarrier()
        friends = [world.did(x) for x in ("friend", "gone", "stale", "user") if x != user]
        self.rt = Runtime(world.did(user), world.resolve, root, self.carrier, now=NOW, friends=friends, **kw)  # type: ignore[arg-type]
        self.user = user

    def install(self, label: str, module: str, perms: tuple[str, ...] = (), grants: list[list[bytes]] | None = None,
                **kw: object) -> str:
        code = wasm(module)
        self.rt.install(code, self.world.manifest(label, code, permissions=perms, **kw), grants or [])  # type: ignore[arg-type]
        return self.world.did(label)

    def notes_grants(self, label: str = "notes") -> list[list[bytes]]:
        return [[self.world.token(label, "storage:notes/*", a, user=self.user)] for a in ("read", "write", "list")]

    def install_notes(self) -> str:
        return self.install("notes", "notes", NOTES_PERMS, self.notes_grants())


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


# -- sample apps ----------------------------------------------------------------------------------------------


def test_notes_app_uses_its_home(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    r = env.rt.run(notes)
    assert r.ok and r.value == len("today.txt") and r.fuel_used > 0
    app = env.rt.apps[notes]
    assert app.logs == ["buy milk", "today.txt"]
    assert files_under(tmp_path) == {f"home/{world.did('user')}/{notes}/notes/today.txt"}
    assert app.audit == [(n, "allow") for n in ("storage_write", "storage_read", "log", "storage_list", "log")]


def test_chat_apps_talk_through_carrier(world: World, tmp_path: Path) -> None:
    carrier = LoopbackCarrier()
    alice = Env(world, tmp_path / "alice", carrier)
    bob = Env(world, tmp_path / "bob", carrier, user="friend")
    chat = "chat"
    perms = ("carrier.send", "carrier.receive")
    for env in (alice, bob):
        env.install(chat, "chat", perms, [[world.token(chat, "carrier:*", a, user=env.user)] for a in ("send", "receive")])
    chat_did = world.did(chat)
    alice.rt.write_input(chat_did, 4096, world.did("friend").encode())
    assert alice.rt.run(chat_did, "send", 46).value == 0
    assert bob.rt.pump() == 1
    r = bob.rt.run(chat_did, "poll")
    assert r.ok and bob.rt.apps[chat_did].logs == [f"{world.did('user')}\nhello from chat"]
    assert bob.rt.run(chat_did, "poll").value == -1  # queue empty


def test_inbound_from_non_friend_is_refused(world: World, tmp_path: Path) -> None:
    carrier = LoopbackCarrier()
    bob = Env(world, tmp_path, carrier, user="friend")
    chat = world.did("chat")
    bob.install("chat", "chat", ("carrier.receive",), [[world.token("chat", "carrier:*", "receive", user="friend")]])
    carrier.send(world.did("stranger"), world.did("friend"), chat.encode() + b"\nspam")
    carrier.send(world.did("gone"), world.did("friend"), chat.encode() + b"\nghost")
    assert bob.rt.pump() == 0
    assert [r for _, r in bob.rt.inbound_refused] == [Reason.NET_NOT_FRIEND, Reason.NET_PEER_DEACTIVATED]
    assert bob.rt.run(chat, "poll").value == -1


def test_share_hands_a_document_to_the_viewer(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    share = env.install("share", "share", ("storage.read", "storage.write", "intent.send"),
                        [[world.token("share", "storage:docs/*", a)] for a in ("read", "write")]
                        + [[world.token("share", "intent:share.document", "send")]], intents=("share.document",))
    viewer = env.install("viewer", "viewer", ("storage.write",), [[world.token("viewer", "storage:inbox/*", "write")]],
                         intent_filters=("share.document",))
    env.rt.write_input(share, 4096, share.encode())
    assert env.rt.run(share, "run", len(share)).value == 0
    r = env.rt.run(viewer)
    doc = f"{share}\nshare.document\nQuarterly report: all good"
    assert r.ok and env.rt.apps[viewer].logs == [doc]
    copy = tmp_path / "home" / world.did("user") / viewer / "inbox" / "doc.txt"
    assert copy.read_text() == doc


def test_apps_run_side_by_side_in_their_own_stores(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    viewer = env.install("viewer", "viewer", ("storage.write",), intent_filters=("share.document",))
    assert env.rt.apps[notes].store is not env.rt.apps[viewer].store
    assert env.rt.run(viewer).value == -1  # nothing shared yet
    assert env.rt.run(notes).ok


def test_warm_module_cache(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    env.install_notes()
    assert len(env.rt.modules) == 1
    other = Runtime(world.did("friend"), world.resolve, tmp_path / "b", env.carrier, now=NOW, engine=env.rt.engine,
                    module_cache=env.rt.modules)
    code = wasm("notes")
    other.install(code, world.manifest("notes", code, permissions=NOTES_PERMS))
    assert len(other.modules) == 1


# -- the attack catalogue -------------------------------------------------------------------------------------

Attack = tuple[str, str, tuple[str, ...], str, Reason, str]


def _bystander_ok(env: Env, notes: str) -> None:
    before = files_under(env.root)
    r = env.rt.run(notes)
    assert r.ok and env.rt.apps[notes].logs[-2:] == ["buy milk", "today.txt"], r
    assert files_under(env.root) >= before
    assert all(f.startswith("home/") for f in files_under(env.root))


def _stopped(env: Env, label: str, reason: Reason, rule: str, export: str = "run", *args: int) -> None:
    did = env.world.did(label)
    r = env.rt.run(did, export, *args)
    assert not r.ok and r.reason is reason and r.rule == rule, r
    again = env.rt.run(did, export, *args)
    assert again is env.rt.apps[did].stopped, "a stopped app does not run again"


INSTALL_REFUSED = [
    ("wasi_import", (), Reason.HOSTCALL_UNKNOWN, "RT-080"),
    ("undeclared_import", (), Reason.HOSTCALL_UNKNOWN, "RT-080"),
    ("wrong_signature", (), Reason.HOSTCALL_MALFORMED, "RT-081"),
    ("memory_initial", (), Reason.MEMORY_LIMIT, "RT-094"),
    ("memory_hidden", (), Reason.MEMORY_LIMIT, "RT-094"),
    ("memory_two", (), Reason.MEMORY_LIMIT, "RT-094"),
    ("memory_shared", (), Reason.MEMORY_LIMIT, "RT-094"),
    ("start_reentry", ("storage.read",), Reason.PATH_TRAVERSAL, "RT-047"),
]


@pytest.mark.parametrize("module,perms,reason,rule", INSTALL_REFUSED, ids=[a[0] for a in INSTALL_REFUSED])
def test_attack_refused_at_install(world: World, tmp_path: Path, module: str, perms: tuple[str, ...], reason: Reason,
                                   rule: str) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    code = wasm(module)
    with pytest.raises(Reject) as info:
        env.rt.install(code, world.manifest("evil", code, permissions=perms), [[world.token("evil", "storage:*", "read")]])
    assert info.value.reason is reason and info.value.rule == rule
    assert world.did("evil") not in env.rt.apps
    _bystander_ok(env, notes)


STOPPED = [
    ("traversal_dotdot", Reason.PATH_TRAVERSAL, "RT-047"),
    ("absolute_path", Reason.PATH_ABSOLUTE, "RT-041"),
    ("encoded_separator", Reason.PATH_ENCODED_SEPARATOR, "RT-043"),
    ("nul_in_path", Reason.PATH_BAD_CHARACTER, "RT-042"),
    ("nfc_collision", Reason.PATH_NOT_NFC, "RT-044"),
    ("other_app_home", Reason.PATH_BAD_CHARACTER, "RT-042"),
    ("reserved_name", Reason.PATH_RESERVED_NAME, "RT-048"),
    ("long_name", Reason.PATH_TOO_LONG, "RT-045"),
    ("huge_argument", Reason.ARGUMENT_TOO_LARGE, "RT-090"),
    ("pointer_out_of_bounds", Reason.HOSTCALL_MALFORMED, "RT-085"),
    ("call_flood", Reason.RATE_LIMITED, "RT-091"),
    ("infinite_loop", Reason.FUEL_EXHAUSTED, "RT-093"),
    ("quota_fill", Reason.STORAGE_QUOTA, "RT-092"),
]


@pytest.mark.parametrize("module,reason,rule", STOPPED, ids=[a[0] for a in STOPPED])
def test_attack_stopped_at_run(world: World, tmp_path: Path, module: str, reason: Reason, rule: str) -> None:
    env = Env(world, tmp_path, quota=200_000)
    notes = env.install_notes()
    grants = [[world.token("evil", "storage:*", a)] for a in ("read", "write")]
    env.install("evil", module, NOTES_PERMS, grants, calls_per_window=50, memory_pages=4)
    _stopped(env, "evil", reason, rule)
    _bystander_ok(env, notes)
    if module == "quota_fill":
        assert env.rt.apps[world.did("evil")].state.stored_bytes <= 200_000


def test_attack_memory_growth(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    evil = env.install("evil", "memory_grow", memory_pages=4)
    r = env.rt.run(evil)
    assert r.ok and r.value == -1, "memory.grow past the limit fails"
    assert env.rt.memory_pages(evil) == 1
    _bystander_ok(env, notes)


def test_attack_memory_growth_stops_at_the_limit(world: World, tmp_path: Path) -> None:
    """memory.grow succeeds up to the manifest's bound exactly and fails (-1) past it, inside the app; the app
    keeps running, and its memory (not the host's) is what stopped growing."""
    env = Env(world, tmp_path)
    notes = env.install_notes()
    evil = env.install("evil", "memory_grow_steps", memory_pages=4)
    r = env.rt.run(evil)
    assert r.ok and r.value == 4 and env.rt.memory_pages(evil) == 4
    assert env.rt.run(evil).value == 4, "it runs again, still at the bound"
    _bystander_ok(env, notes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 8), st.lists(st.integers(0, 70000), max_size=4))
def test_memory_grow_never_passes_the_bound(world: World, tmp_path_factory: pytest.TempPathFactory, limit: int,
                                            steps: list[int]) -> None:
    """Any sequence of memory.grow calls leaves the app's memory within its bound; a grow fails exactly when
    it would pass it (WebAssembly's -1), and returns the old size otherwise."""
    wat = "(module (memory (export \"memory\") 1) (func (export \"grow\") (param i32) (result i32) " \
          "(memory.grow (local.get 0))))"
    code = compile_wat(wat)
    rt = Runtime(world.did("user"), world.resolve, tmp_path_factory.mktemp("grow"), LoopbackCarrier(), now=NOW)
    rt.install(code, world.manifest("evil", code, memory_pages=limit))
    pages = 1
    for n in steps:
        r = rt.run(world.did("evil"), "grow", n)
        assert r.ok
        if pages + n <= limit:
            assert r.value == pages
            pages += n
        else:
            assert r.value == -1
        assert rt.memory_pages(world.did("evil")) == pages <= limit


def test_module_that_is_not_wasm_is_refused(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    for code, why in ((b"\x7fELF\x02\x01\x01\x00", "not wasm"), (b"\x00asm\x01\x00\x00\x00\x05\x03\x01\x00", "cut"),
                      (b"\x00asm\x01\x00\x00\x00" b"\x01\x05\x01\x60\x00\x01\x7f" b"\x03\x02\x01\x00"
                       b"\x0a\x04\x01\x02\x00\x0b", "a function of type () -> i32 whose body returns nothing")):
        with pytest.raises(Reject) as info:
            env.rt.install(code, world.manifest("evil", code))
        assert (info.value.reason, info.value.rule) == (Reason.MODULE_MALFORMED, "RT-086"), why
    assert world.did("evil") not in env.rt.apps
    _bystander_ok(env, notes)


def test_module_with_repeated_or_misplaced_sections_is_refused(world: World, tmp_path: Path) -> None:
    """Two memory sections (each a memory within the limit) are a malformed module (RT-097), not two memories
    (RT-094); so are sections out of order. Nothing is installed and the bystander keeps working."""
    env = Env(world, tmp_path)
    notes = env.install_notes()
    memory = b"\x05\x03\x01\x00\x01"
    types = b"\x01\x04\x01\x60\x00\x00"
    for code, why in ((b"\x00asm\x01\x00\x00\x00" + memory + memory, "two memory sections"),
                      (b"\x00asm\x01\x00\x00\x00" + memory + types, "memory before type")):
        with pytest.raises(Reject) as info:
            env.rt.install(code, world.manifest("evil", code))
        assert (info.value.reason, info.value.rule) == (Reason.MODULE_MALFORMED, "RT-097"), why
    assert world.did("evil") not in env.rt.apps
    _bystander_ok(env, notes)


def test_attack_deep_recursion(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    evil = env.install("evil", "deep_recursion")
    r = env.rt.run(evil)
    assert not r.ok and r.reason is None and "stack" in r.detail.lower()
    _bystander_ok(env, notes)


@pytest.mark.parametrize("peer,reason,rule", [
    ("stranger", Reason.NET_NOT_FRIEND, "RT-074"),
    ("gone", Reason.NET_PEER_DEACTIVATED, "RT-072"),
    ("stale", Reason.NET_PEER_INVALID, "RT-073"),
])
def test_attack_network_to_unfit_peer(world: World, tmp_path: Path, peer: str, reason: Reason, rule: str) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    env.install("evil", "network_peer", ("carrier.send",), [[world.token("evil", "carrier:*", "send")]])
    env.rt.write_input(world.did("evil"), 4096, world.did(peer).encode())
    _stopped(env, "evil", reason, rule)
    assert env.carrier.receive(world.did(peer)) == []
    _bystander_ok(env, notes)


def test_attack_network_to_unknown_did(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    env.install("evil", "network_peer", ("carrier.send",), [[world.token("evil", "carrier:*", "send")]])
    unknown = World(b"elsewhere").did("nobody")
    env.rt.write_input(world.did("evil"), 4096, unknown.encode())
    _stopped(env, "evil", Reason.NET_PEER_UNRESOLVED, "RT-071")
    _bystander_ok(env, notes)


def test_attack_network_raw_address(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    env.install("evil", "network_raw", ("carrier.send",), [[world.token("evil", "carrier:*", "send")]])
    _stopped(env, "evil", Reason.NET_PEER_MALFORMED, "RT-070")
    _bystander_ok(env, notes)


def test_attack_network_without_permission(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    env.install("evil", "network_peer", (), [])
    env.rt.write_input(world.did("evil"), 4096, world.did("friend").encode())
    _stopped(env, "evil", Reason.PERMISSION_NOT_REQUESTED, "RT-084")
    _bystander_ok(env, notes)


@pytest.mark.parametrize("module,claimed,reason,rule", [
    ("intent_undeclared", "evil", Reason.INTENT_NOT_DECLARED, "RT-062"),
    ("intent_spoof", "notes", Reason.INTENT_SPOOFED_SENDER, "RT-061"),
    ("intent_self", "evil", Reason.INTENT_NO_RECEIVER, "RT-063"),
])
def test_attack_intents(world: World, tmp_path: Path, module: str, claimed: str, reason: Reason, rule: str) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    viewer = env.install("viewer", "viewer", ("storage.write",), intent_filters=("share.document",))
    env.install("evil", module, ("intent.send",), [[world.token("evil", "intent:*", "send")]],
                intents=("share.document", "ping.pong"), intent_filters=("ping.pong",))
    env.rt.write_input(world.did("evil"), 4096, world.did(claimed).encode())
    _stopped(env, "evil", reason, rule)
    assert not env.rt.apps[viewer].intents and not env.rt.apps[world.did("evil")].intents
    _bystander_ok(env, notes)


# -- capability tokens ----------------------------------------------------------------------------------------


def _reader(env: Env, grants: list[list[bytes]]) -> None:
    code = wasm("storage_reader")
    env.rt.install(code, env.world.manifest("evil", code, permissions=("storage.read",)), grants)


def test_attack_forged_token(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    forged = world.token("evil", "storage:*", "read", signer="evil")  # the app signs "its user's" grant
    with pytest.raises(Reject) as info:
        _reader(env, [[forged]])
    assert (info.value.reason, info.value.rule) == (Reason.CAP_SIGNATURE, "RT-022")
    _bystander_ok(env, notes)


def test_attack_self_granted_token(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    with pytest.raises(Reject) as info:
        _reader(env, [[world.token("evil", "storage:*", "read", issuer="evil")]])
    assert (info.value.reason, info.value.rule) == (Reason.CAP_ISSUER, "RT-023")


def test_attack_expired_token(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    with pytest.raises(Reject) as info:
        _reader(env, [[world.token("evil", "storage:*", "read", expiry=NOW - 1)]])
    assert (info.value.reason, info.value.rule) == (Reason.CAP_EXPIRED, "RT-024")


def test_attack_token_expires_while_running(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    _reader(env, [[world.token("evil", "storage:notes/*", "read", expiry=NOW + 5)]])
    assert env.rt.run(world.did("evil")).ok
    env.rt.tick(5)
    _stopped(env, "evil", Reason.CAP_EXPIRED, "RT-024")
    _bystander_ok(env, notes)


def test_attack_replayed_token(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes_read = env.notes_grants()[0]
    with pytest.raises(Reject) as info:
        _reader(env, [notes_read])  # a grant captured from notes, presented by evil
    assert (info.value.reason, info.value.rule) == (Reason.CAP_WRONG_HOLDER, "RT-028")


def test_attack_over_delegated_token(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    root = world.token("notes", "storage:notes/*", "read", delegatable=True)
    wider = world.token("evil", "storage:*", "read", issuer="notes", parent=root, depth=1)
    with pytest.raises(Reject) as info:
        _reader(env, [[root, wider]])
    assert (info.value.reason, info.value.rule) == (Reason.CAP_AMPLIFIED, "RT-026")
    narrower = world.token("evil", "storage:notes/today.txt", "read", issuer="notes", parent=root, depth=1)
    _reader(env, [[root, narrower]])
    assert env.rt.run(world.did("evil")).ok


def test_attack_revoked_while_running(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    grant = world.token("evil", "storage:notes/*", "read")
    _reader(env, [[grant]])
    assert env.rt.run(world.did("evil")).ok
    env.rt.revoke(C.decode_token(grant).id)
    _stopped(env, "evil", Reason.CAP_REVOKED, "RT-025")
    _bystander_ok(env, notes)


def test_attack_not_granted(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    _reader(env, [[world.token("evil", "storage:other/*", "read")]])
    _stopped(env, "evil", Reason.CAP_NOT_GRANTED, "RT-029")
    _bystander_ok(env, notes)


# -- manifests ------------------------------------------------------------------------------------------------


def test_attack_manifest_entrypoint(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    benign, hostile = wasm("notes"), wasm("traversal_dotdot")
    with pytest.raises(Reject) as info:
        env.rt.install(hostile, world.manifest("evil", benign, permissions=NOTES_PERMS))
    assert (info.value.reason, info.value.rule) == (Reason.MANIFEST_ENTRYPOINT, "RT-008")


def test_attack_manifest_permission_added(world: World, tmp_path: Path) -> None:
    import json
    env = Env(world, tmp_path)
    code = wasm("network_peer")
    d = json.loads(world.manifest("evil", code))
    d["permissions"].append("carrier.send")
    with pytest.raises(Reject) as info:
        env.rt.install(code, json.dumps(d))
    assert (info.value.reason, info.value.rule) == (Reason.MANIFEST_SIGNATURE, "RT-007")


# -- the CLI --------------------------------------------------------------------------------------------------


def test_cli_app_run(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from reference.cli import main
    from spec.did import document
    from spec.did.syntax import parse_did

    code = wasm("notes")
    (tmp_path / "m.json").write_text(world.manifest("notes", code, permissions=NOTES_PERMS))
    resolved = {x: world.resolve(parse_did(world.did(x))) for x in ("developer", "user")}
    dids = {world.did(x): {"document": document.normalized(r.document), "deactivated": False}
            for x, r in resolved.items() if r is not None}
    (tmp_path / "dids.json").write_text(json.dumps(dids))
    grants = [[world.token("notes", "storage:notes/*", a).hex()] for a in ("read", "write", "list")]
    (tmp_path / "grants.json").write_text(json.dumps(grants))
    base = ["app", "run", str(APPS / "notes.wat"), "--manifest", str(tmp_path / "m.json"), "--user", world.did("user"),
            "--dids", str(tmp_path / "dids.json"), "--data", str(tmp_path / "data")]
    assert main(base + ["--grants", str(tmp_path / "grants.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["logs"] == ["buy milk", "today.txt"]
    assert main(base) == 1  # no grants: the first host call is denied
    out = json.loads(capsys.readouterr().out)
    assert out["reason"] == "CAP_NOT_GRANTED" and out["rule"] == "RT-029"
    (tmp_path / "dids.json").write_text("{}")
    assert main(base) == 2  # the developer's DID does not resolve
    assert json.loads(capsys.readouterr().out)["reason"] == "MANIFEST_DEVELOPER"


def test_cli_app_demo(capsys: pytest.CaptureFixture[str]) -> None:
    from reference.cli import main

    assert main(["app", "demo"]) == 0
    out = capsys.readouterr().out
    assert "PATH_TRAVERSAL [RT-047]" in out and "FUEL_EXHAUSTED [RT-093]" in out and "NET_NOT_FRIEND [RT-074]" in out
    assert "share holds storage:notes/* read, 1024 bytes, depth 1" in out and "CAP_AMPLIFIED [RT-026]" in out


def test_bench_runtime_runs(tmp_path: Path) -> None:
    import json

    from conformance import bench_runtime

    out = tmp_path / "bench.json"
    assert bench_runtime.main(["--starts", "2", "--calls", "200", "--rounds", "1", "--apps", "3", "--no-fail",
                               "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["decided_call_us"] > 0 and r["bare_call_us"] > 0 and r["apps_per_gib"] > 0 and r["app_start_warm_ms"] > 0


STORAGE_WAT = """(module
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "elastos" "storage_delete" (func $delete (param i32 i32) (result i32)))
  (import "elastos" "storage_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "a/b")
  (func (export "write") (param $n i32) (result i32)
    (call $write (i32.const 0) (i32.const 3) (i32.const 1024) (local.get $n)))
  (func (export "write_parent") (result i32)
    (call $write (i32.const 0) (i32.const 1) (i32.const 1024) (i32.const 1)))
  (func (export "read_small") (result i32)
    (call $read (i32.const 0) (i32.const 3) (i32.const 1024) (i32.const 10)))
  (func (export "delete") (result i32)
    (call $delete (i32.const 0) (i32.const 3))))
"""


def test_storage_accounting_and_return_codes(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    code = compile_wat(STORAGE_WAT)
    app = env.rt.install(code, world.manifest("store", code, permissions=NOTES_PERMS),
                         [[world.token("store", "storage:*", a)] for a in ("read", "write", "delete")])
    rt = env.rt
    assert rt.run(app.did, "write", 100).value == 0 and app.state.stored_bytes == 100
    assert rt.run(app.did, "write", 50).value == 0 and app.state.stored_bytes == 50
    assert rt.run(app.did, "read_small").value == -2  # 50 bytes do not fit in 10
    assert rt.run(app.did, "write_parent").value == -3  # "a" is a folder
    assert rt.run(app.did, "delete").value == 0 and app.state.stored_bytes == 0
    assert rt.run(app.did, "delete").value == -1
    assert files_under(tmp_path) == set() and app.stopped is None


def test_grant_after_install(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    assert env.rt.run(notes).ok
    _reader(env, [])
    env.rt.grant(world.did("evil"), [world.token("evil", "storage:notes/*", "read")])
    r = env.rt.run(world.did("evil"))
    assert r.ok and r.value == -1  # granted, but evil's own home has no notes/today.txt


def test_fuel_is_per_call_into_the_app(world: World, tmp_path: Path) -> None:
    env = Env(world, tmp_path)
    notes = env.install_notes()
    used = [env.rt.run(notes).fuel_used for _ in range(3)]
    assert all(u > 0 for u in used) and max(used) <= env.rt.apps[notes].manifest.limits.fuel


# -- confinement through the real runtime and file system -----------------------------------------------------

PROBE_WAT = """(module
  (import "elastos" "storage_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x")
  ;; write(len): one byte to the path the test put at 4096
  (func (export "write") (param $n i32) (result i32)
    (call $write (i32.const 4096) (local.get $n) (i32.const 0) (i32.const 1))))
"""


@pytest.fixture(scope="module")
def probe(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str, list[list[bytes]], Path]:
    code = compile_wat(PROBE_WAT)
    return (code, world.manifest("probe", code, permissions=("storage.write",)),
            [[world.token("probe", "storage:*", "write")]], tmp_path_factory.mktemp("probe"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(
    [b"a", b"/", b"..", b".", b"%2f", b"\\", b"\x00", b":", b"\xc3\xa9", b"e\xcc\x81", b"\xff", b"con", b" "]),
    max_size=12).map(b"".join)))
def test_any_path_bytes_stay_in_the_home(world: World, probe: tuple[bytes, str, list[list[bytes]], Path],
                                         path: bytes) -> None:
    """Whatever bytes an app passes as a path, the real runtime either stops it with a path (or size)
    reason and writes nothing, or writes exactly one file, inside the app's home."""
    import tempfile

    code, text, grants, base = probe
    # a fresh folder per example: in a shared one an earlier example's file "a" makes "a/b" fail with -3
    root = Path(tempfile.mkdtemp(dir=base))
    rt = Runtime(world.did("user"), world.resolve, root, LoopbackCarrier(), now=NOW)
    app = rt.install(code, text, grants)
    before = files_under(root)
    rt.write_input(app.did, 4096, path)
    r = rt.run(app.did, "write", len(path))
    after = files_under(root)
    if r.ok:
        assert r.value == 0
        home = f"home/{world.did('user')}/{app.did}/"
        assert all(f.startswith(home) for f in after)
        assert after - before <= {home + path.decode("utf-8")}
    else:
        assert r.reason is not None and (r.reason.name.startswith("PATH_") or r.reason.name == "ARGUMENT_TOO_LARGE"), r
        assert after == before


def test_attack_same_relative_path_reaches_only_its_own_home(world: World, tmp_path: Path) -> None:
    """Two apps granted the same folder name see two different folders: evil, granted storage:notes/*,
    asks for the very path notes writes and finds nothing."""
    env = Env(world, tmp_path)
    notes = env.install_notes()
    assert env.rt.run(notes).ok
    _reader(env, [[world.token("evil", "storage:notes/*", "read")]])
    r = env.rt.run(world.did("evil"))
    assert r.ok and r.value == -1
    assert files_under(tmp_path) == {f"home/{world.did('user')}/{notes}/notes/today.txt"}


# -- delegation by an app (cap_delegate) ----------------------------------------------------------------------

RELAYS = ("relay1", "relay2", "relay3")


def _delegation_env(world: World, root: Path, **kw: object) -> tuple[Env, str]:
    """notes as the bystander, relay1 (the delegator app) holding a delegatable read grant on notes/
    (bound 4096, one hour), and viewer (a storage reader whose manifest requests storage.read and
    storage.write) holding nothing."""
    keys = {world.did(x): world.key(x) for x in RELAYS + ("evil",)}
    env = Env(world, root, app_keys=keys, **kw)
    notes = env.install_notes()
    root_grant = world.token("relay1", "storage:notes/*", "read", delegatable=True, max_bytes=4096,
                             expiry=NOW + 3600)
    env.install("relay1", "delegator", ("storage.read",), [[root_grant]])
    env.install("viewer", "storage_reader", NOTES_PERMS)
    return env, notes


def _delegate(env: Env, label: str, to: str) -> object:
    env.rt.write_input(env.world.did(label), 4096, env.world.did(to).encode())
    return env.rt.run(env.world.did(label), "run", len(env.world.did(to)))


def test_delegation_hands_on_a_narrower_grant(world: World, tmp_path: Path) -> None:
    env, notes = _delegation_env(world, tmp_path)
    viewer = world.did("viewer")
    assert env.rt.apps[viewer].grants == []
    r = _delegate(env, "relay1", "viewer")
    assert r.ok and r.value == 0, r  # type: ignore[attr-defined]
    assert env.rt.apps[world.did("relay1")].audit == [("clock_now", "allow"), ("cap_delegate", "allow")]
    (cap,) = env.rt.apps[viewer].grants
    assert (cap.app, cap.user, cap.resource, cap.action) == (viewer, world.did("user"), "storage:notes/*", "read")
    assert (cap.max_bytes, cap.expiry, cap.depth, cap.delegatable) == (1024, NOW + 60, 1, True)
    chain = env.rt.apps[viewer].chains[cap.chain_ids[-1]]
    # the chain verifies on its own: root by the user, then the delegation signed with relay1's key
    again = C.verify_chain(list(chain), viewer, world.did("user"), NOW, frozenset(), world.resolve)
    assert again == cap and C.decode_token(chain[-1]).issuer == world.did("relay1")
    assert env.rt.run(viewer).ok  # the recipient uses what it was given
    _bystander_ok(env, notes)
    # revoking the user's root grant reaches the recipient at its next host call
    env.rt.revoke(cap.chain_ids[0])
    _stopped(env, "viewer", Reason.CAP_REVOKED, "RT-025")
    _bystander_ok(env, notes)


DELEGATION_ATTACKS = [
    ("delegate_widen", Reason.CAP_AMPLIFIED, "RT-026"),
    ("delegate_extend", Reason.CAP_AMPLIFIED, "RT-026"),
    ("delegate_unbounded", Reason.CAP_AMPLIFIED, "RT-026"),
    ("delegate_write", Reason.CAP_NOT_GRANTED, "RT-029"),
]


@pytest.mark.parametrize("module,reason,rule", DELEGATION_ATTACKS, ids=[a[0] for a in DELEGATION_ATTACKS])
def test_attack_delegation_amplifies(world: World, tmp_path: Path, module: str, reason: Reason, rule: str) -> None:
    env, notes = _delegation_env(world, tmp_path)
    root_grant = world.token("evil", "storage:notes/*", "read", delegatable=True, max_bytes=4096, expiry=NOW + 3600)
    env.install("evil", module, ("storage.read",), [[root_grant]])
    env.rt.write_input(world.did("evil"), 4096, world.did("viewer").encode())
    _stopped(env, "evil", reason, rule, "run", len(world.did("viewer")))
    assert env.rt.apps[world.did("viewer")].grants == [], "nothing was issued"
    _bystander_ok(env, notes)
    assert _delegate(env, "relay1", "viewer").value == 0  # a sibling delegator still works  # type: ignore[attr-defined]


def test_attack_delegation_too_deep(world: World, tmp_path: Path) -> None:
    """relay1 -> relay2 -> relay3 reaches the depth bound; relay3 handing it on once more is refused."""
    env, notes = _delegation_env(world, tmp_path)
    for label in ("relay2", "relay3"):
        env.install(label, "delegator", ("storage.read",))
    assert _delegate(env, "relay1", "relay2").value == 0  # type: ignore[attr-defined]
    assert _delegate(env, "relay2", "relay3").value == 0  # type: ignore[attr-defined]
    assert env.rt.apps[world.did("relay3")].grants[0].depth == C.MAX_DELEGATION_DEPTH
    env.rt.write_input(world.did("relay3"), 4096, world.did("viewer").encode())
    _stopped(env, "relay3", Reason.CAP_TOO_DEEP, "RT-027", "run", len(world.did("viewer")))
    assert env.rt.apps[world.did("viewer")].grants == []
    _bystander_ok(env, notes)
    assert env.rt.run(world.did("relay2"), "run", len(world.did("viewer"))).ok  # the siblings keep working


@pytest.mark.parametrize("to,perms", [("chat", ("carrier.send",)), ("stranger", None), ("relay1", None)],
                         ids=["recipient_without_permission", "recipient_not_installed", "recipient_itself"])
def test_attack_delegation_to_unfit_recipient(world: World, tmp_path: Path, to: str,
                                               perms: tuple[str, ...] | None) -> None:
    env, notes = _delegation_env(world, tmp_path)
    if perms is not None:
        env.install(to, "network_peer", perms)
    env.rt.write_input(world.did("relay1"), 4096, world.did(to).encode())
    _stopped(env, "relay1", Reason.CAP_RECIPIENT, "RT-096", "run", len(world.did(to)))
    assert all(not a.grants for d, a in env.rt.apps.items() if d not in (world.did("notes"), world.did("relay1")))
    _bystander_ok(env, notes)
    assert env.rt.run(world.did("viewer")).reason is Reason.CAP_NOT_GRANTED  # it was given nothing


def test_attack_delegation_of_a_revoked_or_expired_parent(world: World, tmp_path: Path) -> None:
    env, notes = _delegation_env(world, tmp_path)
    env.rt.revoke(env.rt.apps[world.did("relay1")].grants[0].chain_ids[0])
    r = _delegate(env, "relay1", "viewer")
    assert (r.reason, r.rule) == (Reason.CAP_REVOKED, "RT-025")  # type: ignore[attr-defined]
    _bystander_ok(env, notes)
    env2, notes2 = _delegation_env(world, tmp_path / "later")
    env2.rt.tick(3600)
    r = _delegate(env2, "relay1", "viewer")
    assert (r.reason, r.rule) == (Reason.CAP_EXPIRED, "RT-024")  # type: ignore[attr-defined]
    assert env2.rt.apps[world.did("viewer")].grants == []
    _bystander_ok(env2, notes2)


def test_delegation_without_the_app_key_issues_nothing(world: World, tmp_path: Path) -> None:
    env, notes = _delegation_env(world, tmp_path)
    env.rt.app_keys.clear()
    r = _delegate(env, "relay1", "viewer")
    assert r.ok and r.value == -4  # type: ignore[attr-defined]
    assert env.rt.apps[world.did("viewer")].grants == []
    _bystander_ok(env, notes)


def test_delegation_signed_with_a_wrong_key_is_refused(world: World, tmp_path: Path) -> None:
    """The runtime verifies the chain it built before granting it: a wrong key for the app is caught (RT-022)."""
    env, notes = _delegation_env(world, tmp_path)
    env.rt.app_keys[world.did("relay1")] = world.key("evil")
    r = _delegate(env, "relay1", "viewer")
    assert (r.reason, r.rule) == (Reason.CAP_SIGNATURE, "RT-022")  # type: ignore[attr-defined]
    assert env.rt.apps[world.did("viewer")].grants == []
    _bystander_ok(env, notes)


PROBE_DELEGATE_WAT = """(module
  (import "elastos" "cap_delegate" (func $d (param i32 i32 i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param $tn i32) (param $rn i32) (param $an i32) (param $exp i64) (param $max i64)
                       (param $flag i32) (result i32)
    (call $d (i32.const 4096) (local.get $tn) (i32.const 8192) (local.get $rn) (i32.const 12288) (local.get $an)
      (local.get $exp) (local.get $max) (local.get $flag))))
"""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["storage:notes/*", "storage:notes/a/*", "storage:notes/x.txt", "storage:*", "storage:docs/*",
                        "storage:notes", "carrier:*", "storage:../x"]),
       st.sampled_from(["read", "write", "list", "send"]), st.integers(-5, 4000), st.sampled_from([-1, 0, 1024, 4096, 4097]),
       st.booleans(), st.sampled_from(["viewer", "chat", "relay1", "stranger"]), st.booleans())
def test_delegation_never_amplifies_in_the_runtime(world: World, tmp_path_factory: pytest.TempPathFactory,
                                                   resource: str, action: str, ttl: int, max_bytes: int,
                                                   delegatable: bool, to: str, plausible: bool) -> None:
    """Whatever an app asks to hand on, a grant reaches the recipient only when decide allowed it, and what the
    recipient holds is covered by the user's root grant: same action, no later expiry, no larger bound.
    (``plausible`` keeps half the requests near the grant, so that both outcomes are exercised.)"""
    if plausible:
        to, action = "viewer", "read"
        resource = resource if resource.startswith("storage:notes/") else "storage:notes/*"
    env, notes = _delegation_env(world, tmp_path_factory.mktemp("delegate"))
    env.install("chat", "network_peer", ("carrier.send",))
    code = compile_wat(PROBE_DELEGATE_WAT)
    root = world.token("evil", "storage:notes/*", "read", delegatable=True, max_bytes=4096, expiry=NOW + 3600)
    env.rt.install(code, world.manifest("evil", code, permissions=("storage.read",)), [[root]])
    evil = world.did("evil")
    for offset, text in ((4096, world.did(to)), (8192, resource), (12288, action)):
        env.rt.write_input(evil, offset, text.encode())
    r = env.rt.run(evil, "run", len(world.did(to)), len(resource), len(action), NOW + ttl, max_bytes, int(delegatable))
    given_to = [(d, g) for d, a in env.rt.apps.items() if d != evil for g in a.grants
                if len(g.chain_ids) > 1 and g.chain_ids[0] == C.decode_token(root).id]
    if r.ok:
        assert r.value == 0 and len(given_to) == 1
        holder, cap = given_to[0]
        assert holder == world.did(to) != evil and cap.action == "read" and C.covers("storage:notes/*", cap.resource)
        assert cap.expiry <= NOW + 3600 and cap.max_bytes is not None and cap.max_bytes <= 4096
    else:
        assert r.reason is not None and r.rule is not None and given_to == []
    _bystander_ok(env, notes)


def test_delegation_flood_is_bounded(world: World, tmp_path: Path) -> None:
    """An app delegating over and over cannot grow the recipient's grants past MAX_GRANTS."""
    from reference.runtime import sandbox

    env, notes = _delegation_env(world, tmp_path)
    viewer = world.did("viewer")
    values = []
    for _ in range(sandbox.MAX_GRANTS + 3):
        env.rt.tick()  # a new rate window each time
        values.append(_delegate(env, "relay1", "viewer").value)  # type: ignore[attr-defined]
    assert values[:sandbox.MAX_GRANTS] == [0] * sandbox.MAX_GRANTS and values[sandbox.MAX_GRANTS:] == [-2] * 3
    assert len(env.rt.apps[viewer].grants) == sandbox.MAX_GRANTS
    _bystander_ok(env, notes)


def test_every_hostile_module_is_catalogued_and_tested() -> None:
    """Each WAT module in apps/attacks has a row in the docs' attack catalogue and is installed by a test here."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "runtime.md").read_text()
    catalogue = docs[docs.index("## Attack catalogue"):docs.index("## Proofs")]
    source = Path(__file__).read_text()
    modules = sorted(p.stem for p in (APPS / "attacks").glob("*.wat"))
    assert len(modules) >= 20
    for name in modules:
        assert f"`{name}`" in catalogue, f"{name} is not in the attack catalogue"
        assert f'"{name}"' in source, f"no test installs {name}"
