"""``elastos app run`` joined to the real pieces: the user's Carrier node and a Hive vault.

Carrier: the user's node runs inside ``elastos app run`` from the data folder ``elastos carrier node``
keeps (``key.json``, ``state.json``); the friend's node is a real :class:`NodeCarrier` on loopback in
the test. The first run makes the friendship by DID (``--carrier-friend``) and the chat app sends to
the friend, whose node receives it from the user's DID; a second run (a new process in real use: the
node restarts from its state) still knows the friend, refuses a stranger (RT-074) without touching
the network, and delivers a message the friend sends while it listens (``--carrier-listen``) into the
app's queue.

Hive: a reference vault on loopback; ``--vault``/``--vault-token`` pull the user's partition into the
home folder before the call (the notes app lists what another device wrote) and push what the app
wrote after it; a token for another app is refused before anything syncs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spec.did import document
from spec.did.syntax import parse_did
from spec.encoding.base58 import b58encode
from spec.hive import identity

from reference.carrier.node import NodeConfig
from reference.cli import main
from reference.hive.client import HiveClient
from reference.hive.server import HiveServer, Vault, load_service_key
from reference.hive.store import HiveStore
from reference.runtime.carrier_node import NodeCarrier
from reference.runtime.sandbox import compile_wat
from reference.runtime.world import World

APPS = Path(__file__).resolve().parents[1] / "reference" / "runtime" / "apps"


def wait_for(check: Callable[[], object], timeout: float = 15.0) -> object:
    end = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return value


def write_dids(w: World, labels: tuple[str, ...], path: Path) -> None:
    out = {}
    for x in labels:
        r = w.resolve(parse_did(w.did(x)))
        assert r is not None
        out[w.did(x)] = {"document": document.normalized(r.document), "deactivated": r.deactivated}
    path.write_text(json.dumps(out))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


# -- Carrier ---------------------------------------------------------------------------------------------------


@pytest.fixture
def carrier_world(tmp_path: Path) -> Iterator[tuple[World, NodeCarrier, list[str]]]:
    w = World(b"app-run-network")
    for label in ("alice", "bob", "stranger"):
        w.publish_carrier(label)
    w.did("developer"), w.did("chat")
    seed, nospam = w.node_seed("alice")
    datadir = tmp_path / "alice-node"
    datadir.mkdir()
    (datadir / "key.json").write_text(json.dumps({"seed": seed.hex(), "nospam": nospam.hex(),
                                                  "did_private_key": w.key("alice").hex()}))
    write_dids(w, ("alice", "bob", "stranger", "developer", "chat"), tmp_path / "dids.json")
    code = compile_wat((APPS / "chat.wat").read_text())
    (tmp_path / "chat.json").write_text(w.manifest("chat", code, permissions=("carrier.send", "carrier.receive")))
    (tmp_path / "grants.json").write_text(json.dumps(
        [[w.token("chat", "carrier:*", a, user="alice").hex()] for a in ("send", "receive")]))
    bseed, bnospam = w.node_seed("bob")
    bob = NodeCarrier(NodeConfig(seed=bseed, nospam=bnospam, did=w.did("bob"), did_private_key=w.key("bob"),
                                 name="bob"), w.carrier_resolve).start()
    try:
        base = ["app", "run", str(APPS / "chat.wat"), "--manifest", str(tmp_path / "chat.json"),
                "--user", w.did("alice"), "--dids", str(tmp_path / "dids.json"),
                "--grants", str(tmp_path / "grants.json"), "--data", str(tmp_path / "data"),
                "--carrier-datadir", str(datadir),
                "--carrier-bootstrap", f"{b58encode(bob.node.node_id)}@127.0.0.1:{bob.node.udp_port}"]
        yield w, bob, base
    finally:
        bob.stop()


def test_app_run_on_a_real_carrier_node(carrier_world: tuple[World, NodeCarrier, list[str]],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    w, bob, base = carrier_world
    alice_did, bob_did = w.did("alice"), w.did("bob")

    def bob_accepts() -> None:
        def announced_and_asked() -> bool:
            bob.announce()  # once alice's node has joined through bob, this puts bob's address in the DHT
            return alice_did in bob.requests()

        wait_for(announced_and_asked)
        bob.accept(alice_did)

    helper = threading.Thread(target=bob_accepts, daemon=True)
    helper.start()
    code, out = run_cli(base + ["--carrier-friend", bob_did, "--carrier-wait", "15", "--export", "send",
                                "--input", bob_did, "--arg", str(len(bob_did))], capsys)
    helper.join(20)
    assert code == 0 and out["ok"] and out["value"] == 0, out
    carrier = out["carrier"]
    assert isinstance(carrier, dict)
    assert carrier["friends"] == [bob_did] and carrier["outcomes"] == [[bob_did, "delivered"]]
    got = wait_for(lambda: bob.receive(bob_did))
    assert got == [(alice_did, w.did("chat").encode() + b"\nhello from chat")]

    # a second run: the node restarts from its state and still knows its friend; a stranger is refused by
    # the runtime (RT-074) and nothing is handed to the node
    stranger = w.did("stranger")
    code, out = run_cli(base + ["--export", "send", "--input", stranger, "--arg", str(len(stranger))], capsys)
    assert code == 1 and (out["reason"], out["rule"]) == ("NET_NOT_FRIEND", "RT-074")
    assert out["carrier"] == {"friends": [bob_did], "outcomes": [], "refused": []}

    # a third run waits for a message from the friend and polls it into the chat app
    sent: list[str] = []

    def bob_sends() -> None:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            bob.send(bob_did, alice_did, w.did("chat").encode() + b"\nhi alice")
            bob.flush()
            if bob.outcomes[-1][1] == "delivered":
                sent.append("delivered")
                return
            time.sleep(0.2)

    helper = threading.Thread(target=bob_sends, daemon=True)
    helper.start()
    code, out = run_cli(base + ["--carrier-listen", "20", "--export", "poll"], capsys)
    helper.join(25)
    assert sent == ["delivered"]
    assert code == 0 and out["logs"] == [f"{bob_did}\nhi alice"], out


def test_app_run_carrier_node_of_another_did_is_refused(carrier_world: tuple[World, NodeCarrier, list[str]],
                                                        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    w, _, base = carrier_world
    i = base.index("--user")
    wrong = base[:i + 1] + [w.did("stranger")] + base[i + 2:]
    code, out = run_cli(wrong + ["--export", "poll"], capsys)
    assert code == 2 and "speaks for" in str(out["error"])
    i = base.index("--carrier-datadir")
    missing = base[:i + 1] + [str(tmp_path / "nowhere")] + base[i + 2:]
    code, out = run_cli(missing + ["--export", "poll"], capsys)
    assert code == 2 and "key.json" in str(out["error"])


# -- Hive ------------------------------------------------------------------------------------------------------


@pytest.fixture
def vault_world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[World, Callable[[str, str],
                                                                                                   HiveClient],
                                                                                  list[str]]]:
    """A vault on loopback (its quota ``request.param`` bytes when parametrized indirectly, else 1 MiB)."""
    w = World(b"app-run-vault")
    now = int(time.time())
    docs = {identity.did_of(w.key(x)): identity.primitive_document(w.key(x), created=now - 3600,
                                                                     expires=now + 86400)
            for x in ("user", "phone", "laptop")}
    store = HiveStore(tmp_path / "vault")
    vault = Vault(store, load_service_key(tmp_path / "vault"), quota=getattr(request, "param", 1 << 20))
    for text in docs.values():
        vault.add_document(text)
    docs[vault.service.did] = store.documents()[vault.service.did]
    server = HiveServer(vault, 0).start()

    def sign_in(device: str, app: str) -> HiveClient:
        client = HiveClient(f"http://127.0.0.1:{server.port}")
        vc = identity.issue_credential(w.key("user"), identity.did_of(w.key(device)), "app-id-credential",
                                       ("AppIdCredential",), {"appDid": w.did(app)}, issued=now - 60,
                                       expires=now + 3600)
        client.sign_in(w.key(device), vc, now=now, documents=docs)
        return client

    w.did("developer"), w.did("notes"), w.did("chat")
    write_dids(w, ("user", "developer", "notes"), tmp_path / "dids.json")
    code = compile_wat((APPS / "notes.wat").read_text())
    (tmp_path / "notes.json").write_text(w.manifest("notes", code, permissions=("storage.read", "storage.write")))
    (tmp_path / "grants.json").write_text(json.dumps(
        [[w.token("notes", "storage:notes/*", a).hex()] for a in ("read", "write", "list")]))
    base = ["app", "run", str(APPS / "notes.wat"), "--manifest", str(tmp_path / "notes.json"),
            "--user", w.did("user"), "--dids", str(tmp_path / "dids.json"),
            "--grants", str(tmp_path / "grants.json"), "--data", str(tmp_path / "phone"),
            "--vault", f"http://127.0.0.1:{server.port}"]
    try:
        yield w, sign_in, base
    finally:
        server.stop()
        store.close()


def test_app_run_syncs_the_home_folder_with_a_vault(vault_world: tuple[World, Callable[[str, str], HiveClient],
                                                                       list[str]],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    w, sign_in, base = vault_world
    laptop = sign_in("laptop", "notes")
    laptop.write("notes/from-laptop.txt", b"written on the laptop", 0)  # another device of the user
    phone = sign_in("phone", "notes")
    assert phone.token is not None
    code, out = run_cli(base + ["--vault-token", phone.token], capsys)
    assert code == 0 and out["ok"], out
    # the file from the laptop was in the home folder before the call: the app's listing shows it
    assert out["logs"] == ["buy milk", "from-laptop.txt\ntoday.txt"]
    vault = out["vault"]
    assert isinstance(vault, dict)
    assert [p for _, p in vault["pulled"]] == ["notes/from-laptop.txt"]
    assert [p for _, p in vault["pushed"]] == ["notes/today.txt"]
    assert sorted(laptop.manifest()) == ["notes/from-laptop.txt", "notes/today.txt"]
    home = Path(str(out["data"])) / "home" / w.did("user") / w.did("notes")
    assert (home / "notes" / "from-laptop.txt").read_bytes() == b"written on the laptop"


def test_app_run_refuses_a_vault_token_for_another_app(vault_world: tuple[World, Callable[[str, str], HiveClient],
                                                                          list[str]],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    w, sign_in, base = vault_world
    other = sign_in("phone", "chat")
    assert other.token is not None
    code, out = run_cli(base + ["--vault-token", other.token], capsys)
    assert code == 2 and "access token is for" in str(out["error"])
    assert sign_in("laptop", "notes").manifest() == {}, "nothing was synced"
    code, out = run_cli(base, capsys)  # --vault without a token
    assert code == 2 and "not signed in" in str(out["error"])


def test_app_run_with_a_sync_interval_keeps_the_folder_in_sync(vault_world: tuple[World, Callable[[str, str],
                                                                                                   HiveClient],
                                                                                  list[str]],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    w, sign_in, base = vault_world
    laptop = sign_in("laptop", "notes")
    laptop.write("notes/from-laptop.txt", b"written on the laptop", 0)
    phone = sign_in("phone", "notes")
    assert phone.token is not None
    code, out = run_cli(base + ["--vault-token", phone.token, "--sync-interval", "0.2"], capsys)
    assert code == 0 and out["ok"], out
    vault = out["vault"]
    assert isinstance(vault, dict) and vault["errors"] == [] and vault["syncs"] >= 1
    assert [p for _, p in vault["pulled"]] == ["notes/from-laptop.txt"]
    assert [p for _, p in vault["pushed"]] == ["notes/today.txt"]
    assert sorted(laptop.manifest()) == ["notes/from-laptop.txt", "notes/today.txt"]
    for bad in (["--sync-interval", "0"], ["--sync-interval", "-1"]):
        code, out = run_cli(base + ["--vault-token", phone.token, *bad], capsys)
        assert code == 2 and "--sync-interval" in str(out["error"])
    i = base.index("--vault")
    code, out = run_cli(base[:i] + base[i + 2:] + ["--sync-interval", "1"], capsys)  # no vault to sync with
    assert code == 2 and "--sync-interval needs --vault" in str(out["error"])


@pytest.mark.parametrize("vault_world", [25], indirect=True)  # the laptop's 21 bytes fit, the app's 8 more do not
@pytest.mark.parametrize("watch", [[], ["--sync-interval", "0.2"]], ids=["one-push", "watcher"])
def test_app_run_fails_when_the_last_push_fails(vault_world: tuple[World, Callable[[str, str], HiveClient],
                                                                   list[str]],
                                                watch: list[str], capfd: pytest.CaptureFixture[str]) -> None:
    """The call returns, but the vault refuses the push of what the app wrote (its quota is full): the exit
    status is 3, the output says why under ``vault.error`` and stderr says where the files are; the home folder
    keeps the app's file, and a run after room was made pushes it."""
    w, sign_in, base = vault_world
    laptop = sign_in("laptop", "notes")
    laptop.write("notes/from-laptop.txt", b"written on the laptop", 0)
    phone = sign_in("phone", "notes")
    assert phone.token is not None
    code = main(base + ["--vault-token", phone.token, *watch])
    captured = capfd.readouterr()
    out = json.loads(captured.out)
    assert code == 3 and out["ok"], out
    vault = out["vault"]
    assert isinstance(vault, dict) and "HIVE_QUOTA_EXCEEDED" in str(vault["error"])
    assert any("HIVE_QUOTA_EXCEEDED" in e for e in vault["errors"])
    assert "were not pushed to the vault" in captured.err and "HIVE_QUOTA_EXCEEDED" in captured.err
    home = Path(str(out["data"])) / "home" / w.did("user") / w.did("notes")
    assert (home / "notes" / "today.txt").read_bytes() == b"buy milk"  # kept in the folder
    assert sorted(laptop.manifest()) == ["notes/from-laptop.txt"]  # nothing half-pushed

    laptop.write("notes/from-laptop.txt", None, laptop.manifest()["notes/from-laptop.txt"].version)  # room again
    code = main(base + ["--vault-token", phone.token, *watch])
    out = json.loads(capfd.readouterr().out)
    assert code == 0 and "error" not in out["vault"], out
    assert laptop.download("notes/today.txt") == b"buy milk"


class _CorruptingProxy:
    """A loopback HTTP proxy in front of the vault that flips the last byte of every file body it passes on
    (``GET /api/v2/vault/files/...``): a vault whose bodies never match its manifest."""

    def __init__(self, target_port: int) -> None:
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                conn.request(self.command, self.path, body=body,
                             headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                r = conn.getresponse()
                data = r.read()
                if self.command == "GET" and self.path.startswith("/api/v2/vault/files/") and r.status == 200 and data:
                    data = data[:-1] + bytes([data[-1] ^ 1])
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.port = self.httpd.server_address[1]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_app_run_fails_when_the_last_push_does_not_converge(vault_world: tuple[World, Callable[[str, str],
                                                                                                HiveClient], list[str]],
                                                           capfd: pytest.CaptureFixture[str]) -> None:
    """The vault's bodies never match its manifest (a proxy corrupts them), so the last sync runs out of rounds
    with the laptop's file still to fetch: the run exits 3 and says the folder is not in step (before: 0, as if
    the push had completed), and the home folder keeps the app's file."""
    w, sign_in, base = vault_world
    laptop = sign_in("laptop", "notes")
    laptop.write("notes/from-laptop.txt", b"written on the laptop", 0)
    phone = sign_in("phone", "notes")
    assert phone.token is not None
    i = base.index("--vault")
    vault_port = int(base[i + 1].rsplit(":", 1)[1])
    proxy = _CorruptingProxy(vault_port)
    try:
        code = main(base[:i] + ["--vault", f"http://127.0.0.1:{proxy.port}"] + base[i + 2:]
                    + ["--vault-token", phone.token])
    finally:
        proxy.stop()
    captured = capfd.readouterr()
    out = json.loads(captured.out)
    assert code == 3 and out["ok"], out
    assert "HIVE_SYNC_INCOMPLETE" in str(out["vault"]["error"]) and "not in step" in captured.err
    home = Path(str(out["data"])) / "home" / w.did("user") / w.did("notes")
    assert (home / "notes" / "today.txt").read_bytes() == b"buy milk"
    assert not (home / "notes" / "from-laptop.txt").exists()  # never taken with the wrong bytes
