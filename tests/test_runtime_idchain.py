"""``elastos app run --idchain URL``: the runtime resolves DIDs through a real ``elastos idchain`` service
on loopback (a subprocess, its SQLite store in a temporary folder), over ``did_resolveDID``.

The user, the developer, the app and the Carrier peers are published on the chain. A send to a friend
is allowed; to a DID deactivated on the chain it is refused (RT-072), also when the DID is deactivated
between two calls of one runtime; to a DID the chain does not know it is refused (RT-071). A fault
proxy on loopback forwards to the same service and, for chosen DIDs, cuts the connection or answers
malformed data: the lookup raises a typed error, the call is denied ``NET_PEER_UNRESOLVED`` (RT-071),
the CLI lists the error, and the runtime and its other apps keep running. A chain nobody listens on
refuses the install with the errors listed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spec.did import document
from spec.did import request as R
from spec.did.syntax import parse_did, parse_did_url
from spec.errors import Reason

from reference.cli import main
from reference.node.rpc import RpcClient
from reference.runtime.carrier import LoopbackCarrier
from reference.runtime.idchain import IdChainMalformed, IdChainResolver, IdChainUnreachable
from reference.runtime.sandbox import Runtime, compile_wat
from reference.runtime.world import World

APPS = Path(__file__).resolve().parents[1] / "reference" / "runtime" / "apps"
NOW = 1_750_000_000
PUBLISHED = ("alice", "bob", "gone", "later", "developer", "chat", "notes", "mangled", "cut")
"""On the chain; ``gone`` is deactivated before the runs, ``later`` between two calls."""


def _publish(rpc: RpcClient, w: World, op: str, label: str, block_time: int) -> None:
    did = w.did(label)
    resolved = w.resolve(parse_did(did))
    assert resolved is not None
    payload = document.normalized(resolved.document) if op == "create" else did
    req = R.build_request(op, payload, parse_did_url(f"{did}#primary"), w.key(label))
    rpc.call("did_publishRequest", {"request": R.serialize(req), "block_time": block_time})


@pytest.fixture(scope="module")
def world() -> World:
    w = World(b"app-run-idchain")
    for label in PUBLISHED + ("nobody",):
        w.did(label)
    return w


@pytest.fixture(scope="module")
def idchain(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[str]:
    """``elastos idchain`` in a subprocess, with the DIDs published; yields its URL."""
    datadir = tmp_path_factory.mktemp("idchain")
    p = subprocess.Popen([sys.executable, "-m", "reference.cli", "idchain", "--datadir", str(datadir)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("ready rpc="), line
        url = f"http://127.0.0.1:{int(line.split('=')[1])}"
        rpc = RpcClient(url)
        for i, label in enumerate(PUBLISHED):
            _publish(rpc, world, "create", label, NOW - 1000 + i)
        _publish(rpc, world, "deactivate", "gone", NOW - 500)
        yield url
    finally:
        p.terminate()
        p.wait(10)


class FaultProxy:
    """A JSON-RPC proxy on loopback in front of the ID chain: ``faults`` maps a DID to what it does when
    ``did_resolveDID`` asks about it (``cut``: close without answering; ``raw``: answer these bytes;
    ``result``: answer this JSON-RPC result; ``as``: answer the chain's resolution of another DID)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = RpcClient(upstream)
        self.faults: dict[str, tuple[str, Any]] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                params = body["params"][0] if isinstance(body["params"], list) else body["params"]
                fault = proxy.faults.get(params.get("did", ""))
                if fault is not None and fault[0] == "cut":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None and fault[0] == "raw":
                    self._answer(fault[1])
                    return
                if fault is not None and fault[0] == "as":
                    result = proxy.upstream.call(body["method"], {**params, "did": fault[1]})
                elif fault is not None and fault[0] == "result":
                    result = fault[1]
                else:
                    result = proxy.upstream.call(body["method"], params)
                self._answer(json.dumps({"id": body["id"], "result": result, "error": None}).encode())

            def _answer(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(idchain: str, world: World) -> Iterator[FaultProxy]:
    p = FaultProxy(idchain)
    p.faults = {world.did("cut"): ("cut", None), world.did("mangled"): ("as", world.did("bob"))}
    yield p
    p.close()


@pytest.fixture()
def chat_args(world: World, tmp_path: Path) -> Callable[[str, str], list[str]]:
    """The arguments of ``elastos app run`` for the chat app of alice sending to ``peer``, DIDs from ``url``."""
    code = compile_wat((APPS / "chat.wat").read_text())
    (tmp_path / "chat.json").write_text(world.manifest("chat", code, permissions=("carrier.send", "carrier.receive")))
    (tmp_path / "grants.json").write_text(json.dumps(
        [[world.token("chat", "carrier:*", a, user="alice").hex()] for a in ("send", "receive")]))
    friends = [x for label in ("bob", "gone", "nobody", "mangled", "cut") for x in ("--friend", world.did(label))]

    def args(url: str, peer: str) -> list[str]:
        return ["app", "run", str(APPS / "chat.wat"), "--manifest", str(tmp_path / "chat.json"),
                "--user", world.did("alice"), "--idchain", url, "--grants", str(tmp_path / "grants.json"),
                "--data", str(tmp_path / "data"), "--now", str(NOW), "--export", "send", "--input", world.did(peer),
                "--arg", str(len(world.did(peer))), *friends]

    return args


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


# -- through the CLI ---------------------------------------------------------------------------------------------


def test_app_run_resolves_on_the_id_chain(idchain: str, world: World, chat_args: Callable[[str, str], list[str]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A friend published on the chain is reached; a deactivated one is refused (RT-072); one the chain does
    not know does not resolve (RT-071, not an error of the chain)."""
    for peer, decision in (("bob", "allow"), ("gone", Reason.NET_PEER_DEACTIVATED.value),
                           ("nobody", Reason.NET_PEER_UNRESOLVED.value)):
        code, out = run_cli(chat_args(idchain, peer), capsys)
        assert out["installed"] and out["audit"] == [["carrier_send", decision]], (peer, out)
        if decision == "allow":
            assert code == 0 and out["ok"] and out["value"] == 0, out
        else:  # a denied call stops the app's run with its reason
            assert code == 1 and not out["ok"] and out["reason"] == decision, out
        assert out["idchain"] == {"url": idchain, "errors": []}, out


def test_app_run_with_a_faulty_chain_denies_the_call_and_says_why(
        proxy: FaultProxy, world: World, chat_args: Callable[[str, str], list[str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    """Through the fault proxy: the app installs (its DIDs resolve), the call to a peer whose lookup fails is
    denied NET_PEER_UNRESOLVED (RT-071), which stops that run; the output names the failure, typed."""
    for peer, kind in (("cut", "unreachable"), ("mangled", "malformed")):
        code, out = run_cli(chat_args(proxy.url, peer), capsys)
        assert code == 1 and out["installed"] and not out["ok"], out
        assert (out["reason"], out["rule"]) == (Reason.NET_PEER_UNRESOLVED.value, "RT-071"), out
        assert out["audit"] == [["carrier_send", Reason.NET_PEER_UNRESOLVED.value]], out
        errors = out["idchain"]["errors"]
        assert [(e["did"], e["error"]) for e in errors] == [(world.did(peer), kind)], out
    assert "IDCHAIN_HISTORY" in errors[0]["detail"]  # bob's history offered for mangled's DID does not verify
    code, out = run_cli(chat_args(proxy.url, "bob"), capsys)
    assert code == 0 and out["audit"] == [["carrier_send", "allow"]] and out["idchain"]["errors"] == [], out


def test_app_run_with_no_chain_listening_refuses_the_install(world: World,
                                                             chat_args: Callable[[str, str], list[str]],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = run_cli(chat_args(f"http://127.0.0.1:{port}", "bob"), capsys)
    assert code == 2 and not out["installed"] and out["reason"].startswith("MANIFEST_"), out
    assert out["idchain"]["errors"] and {e["error"] for e in out["idchain"]["errors"]} == {"unreachable"}, out


def test_dids_and_idchain_are_exclusive(idchain: str, chat_args: Callable[[str, str], list[str]],
                                        tmp_path: Path) -> None:
    (tmp_path / "dids.json").write_text("{}")
    with pytest.raises(SystemExit) as info:
        main(chat_args(idchain, "bob") + ["--dids", str(tmp_path / "dids.json")])
    assert info.value.code == 2


# -- one runtime, the chain changing and failing under it ----------------------------------------------------------


def test_runtime_keeps_running_while_the_chain_fails_or_changes(proxy: FaultProxy, idchain: str, world: World,
                                                                tmp_path: Path) -> None:
    """One runtime resolving through the fault proxy: a failed lookup stops only the chat instance whose
    call it denied; the notes app keeps working, the chat app started again reaches a friend, and a DID
    deactivated on the chain between two calls is refused at the next one."""
    resolver = IdChainResolver(proxy.url)
    rt = Runtime(world.did("alice"), resolver, tmp_path, LoopbackCarrier(), now=NOW,
                 friends=[world.did(x) for x in ("bob", "later", "cut", "mangled")])
    notes = compile_wat((APPS / "notes.wat").read_text())
    rt.install(notes, world.manifest("notes", notes, permissions=("storage.read", "storage.write")),
               [[world.token("notes", "storage:notes/*", a, user="alice")] for a in ("read", "write", "list")])
    chat = compile_wat((APPS / "chat.wat").read_text())
    chat_manifest = world.manifest("chat", chat, permissions=("carrier.send", "carrier.receive"))

    def send(label: str) -> str:
        """The decision on a send to ``label`` by a chat instance started for it (a denial stops the run)."""
        rt.install(chat, chat_manifest, [[world.token("chat", "carrier:*", "send", user="alice")]])
        peer = world.did(label)
        rt.write_input(world.did("chat"), 4096, peer.encode())
        r = rt.run(world.did("chat"), "send", len(peer))
        audit = rt.apps[world.did("chat")].audit
        assert len(audit) == 1 and audit[0][0] == "carrier_send", audit
        assert r.ok == (audit[0][1] == "allow") and (r.reason is None or r.reason.value == audit[0][1]), r
        assert rt.run(world.did("notes")).ok  # the other app is untouched
        return audit[0][1]

    assert send("later") == "allow"
    assert send("cut") == Reason.NET_PEER_UNRESOLVED.value
    assert isinstance(resolver.errors[-1], IdChainUnreachable) and resolver.errors[-1].did == world.did("cut")
    assert send("mangled") == Reason.NET_PEER_UNRESOLVED.value
    assert isinstance(resolver.errors[-1], IdChainMalformed) and resolver.errors[-1].did == world.did("mangled")
    _publish(RpcClient(idchain), world, "deactivate", "later", NOW - 400)
    assert send("later") == Reason.NET_PEER_DEACTIVATED.value  # nothing cached: refused from the next call
    assert send("bob") == "allow" and len(resolver.errors) == 2


# -- any answer: a resolution, None, or a typed error ------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 10) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12)
ANSWER = st.one_of(
    JSON.map(lambda r: ("result", r)),
    st.fixed_dictionaries({"did": st.text(max_size=5), "status": JSON, "transaction": JSON})
    .map(lambda r: ("result", r)),
    st.integers(0, 3).map(lambda s: ("result", {"status": s, "transaction": []})),
    st.binary(max_size=40).map(lambda b: ("raw", b)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ANSWER)
def test_any_answer_is_a_resolution_nothing_or_a_typed_error(proxy: FaultProxy, world: World,
                                                             answer: tuple[str, Any]) -> None:
    """Whatever the chain answers for a DID, the lookup gives nothing (status 3) or raises IdChainMalformed,
    never another exception; as a resolver it gives None and the spec denies the call RT-071."""
    did = world.did("nobody")
    proxy.faults[did] = answer
    try:
        resolver = IdChainResolver(proxy.url)
        try:
            got = resolver.lookup(did)
            assert got is None and answer[0] == "result" and answer[1]["status"] == 3
            event("not found")
        except IdChainMalformed as e:
            assert e.did == did and e.kind == "malformed"
            event("malformed")
        assert resolver(parse_did(did)) is None
    finally:
        del proxy.faults[did]
