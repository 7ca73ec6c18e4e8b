"""``elastos app``: run an app in the reference runtime, or a demo of the sample apps and some attacks.

``elastos app run APP.wasm --manifest M.json --user DID [--dids D.json | --idchain URL] [--grants G.json]
[--friend DID]... [--now T] [--data DIR] [--export NAME] [--arg N]... [--input TEXT]`` installs the module (a
``.wat`` file is compiled first) with its manifest and grants and calls one export. ``--dids`` maps DID strings to
``{"document": text, "deactivated": bool}`` (the form the ``runtime`` vectors use); ``--idchain URL``
resolves them instead through a running ID-chain service's JSON-RPC (``did_resolveDID``, served by
``elastos idchain``; :class:`reference.runtime.idchain.IdChainResolver`): a DID the service cannot be
asked about, or answers malformed data for, resolves to nothing (a Carrier call to it is denied
``NET_PEER_UNRESOLVED``, RT-071, and the run goes on), and each such failure is listed, typed, under
``idchain.errors`` in the output. ``--grants`` is a list of token chains, each a list of hex tokens,
root first. It prints one JSON object: the result,
the app's log lines and every host call's decision. Exit status: 0 when the call returned, 1 when
the app was stopped or trapped, 2 when the app was refused at install (or a network option could not
be used), 3 when the call returned but, with ``--vault``, the last push of the home folder to the vault
failed (``vault.error`` in the output and a line on stderr say why; the files stay in the folder and the
next run pushes them).

By default Carrier is an in-process loopback carrier and the home folder stays on this device. Two
groups of options join the real pieces (:ref:`runtime-integration`):

* ``--carrier-datadir DIR`` runs the user's Carrier node (:class:`reference.runtime.carrier_node.NodeCarrier`)
  from the data folder ``elastos carrier node --datadir DIR`` keeps (``key.json``, whose DID must be
  ``--user``, and ``state.json`` with its friends), with ``--carrier-bootstrap ID@HOST:PORT`` and
  ``--carrier-relay ID@HOST:PORT``. DIDs are resolved from ``--dids`` (or ``--idchain``) for the node too. Before the
  call the node fetches relayed messages and waits up to ``--carrier-listen`` seconds for a message;
  what arrived is admitted (RT-070..RT-074) into the app's queue. After the call it sends what the
  app sent and reports each outcome. ``--carrier-friend DID`` sends a friend request and
  ``--carrier-accept DID`` accepts one (both wait up to ``--carrier-wait`` seconds for the DHT and
  the answer).
* ``--vault URL --vault-token TOKEN`` syncs the app's home folder with the user's vault partition
  (:class:`reference.runtime.home_sync.HomeSync`): pulled before the call, pushed after it. The token
  comes from ``elastos hive signin`` with the user's ``AppIdCredential`` for this app, and must name
  ``--user`` and the app. With ``--sync-interval SECONDS`` a
  :class:`reference.runtime.home_sync.HomeWatcher` keeps the folder in sync while the app runs (a
  local change once the folder is quiet, the vault at least every interval) and pushes a last time when
  the app returns; the output's ``vault`` lists every action and counts the syncs.

``elastos app demo [--network]`` runs the sample apps (notes, chat between two users, share to viewer, a delegation)
and a few hostile apps in one process, with generated identities, and prints what happened to each.
With ``--network`` the chat goes through two real Carrier nodes on loopback
(:mod:`reference.runtime.carrier_node`) and the notes app's home folder is synced through a reference
Hive vault on loopback to a second device of the user (:mod:`reference.runtime.home_sync`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spec.errors import Reject
from spec.runtime.identity import DidResolver

from reference.hive.client import HiveClient, HiveError, SyncIncomplete
from reference.runtime.carrier import Carrier, LoopbackCarrier
from reference.runtime.idchain import IdChainResolver
from reference.runtime.sandbox import Runtime, compile_wat
from reference.runtime.world import World

__all__ = ["add_parser", "run_app", "demo"]

APPS = Path(__file__).resolve().parent / "apps"
EXIT_PUSH_FAILED = 3
"""Exit status of ``elastos app run --vault`` when the call returned but the last push of the home folder to the
vault failed (the files stay in the folder; the next run pushes them)."""


def _module(path: Path) -> bytes:
    return compile_wat(path.read_text()) if path.suffix == ".wat" else path.read_bytes()


def _dids(path: Path | None) -> DidResolver:
    from spec.did import document
    from spec.did.syntax import DID
    from spec.runtime.identity import ResolvedDid

    data: dict[str, Any] = json.loads(path.read_text()) if path else {}
    texts = document.resolver_from_texts({k: v["document"] for k, v in data.items()})

    def resolve(did: DID) -> ResolvedDid | None:
        doc = texts(did)
        return None if doc is None else ResolvedDid(document=doc, deactivated=bool(data[str(did)]["deactivated"]))

    return resolve


def _carrier_resolver(path: Path | None) -> Callable[[Any], tuple[int, Any]]:
    """The ``--dids`` file in the form a Carrier node resolves with: (ID-chain status, document)."""
    from spec.did import chain
    from spec.did.document import parse_document

    data: dict[str, Any] = json.loads(path.read_text()) if path else {}
    docs = {k: parse_document(v["document"]) for k, v in data.items()}

    def resolve(did: Any) -> tuple[int, Any]:
        key = str(did)
        if key not in docs:
            return chain.STATUS_NOT_FOUND, None
        return (chain.STATUS_DEACTIVATED if data[key]["deactivated"] else chain.STATUS_VALID), docs[key]

    return resolve


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _node_carrier(args: argparse.Namespace, stack: contextlib.ExitStack) -> Any:
    """The user's Carrier node from ``--carrier-datadir`` (raises ``ValueError`` when it cannot be used)."""
    from reference.carrier.node import NodeConfig
    from reference.carrier.service import parse_peer
    from reference.runtime.carrier_node import NodeCarrier
    from spec.crypto import p256
    from spec.did import keys as did_keys

    datadir = Path(args.carrier_datadir)
    key_file = datadir / "key.json"
    if not key_file.is_file():
        raise ValueError(f"{key_file} does not exist: start `elastos carrier node --datadir {datadir}` once")
    k = {n: bytes.fromhex(v) for n, v in json.loads(key_file.read_text()).items()}
    did = str(did_keys.did_from_public_key(p256.public_key_from_private(k["did_private_key"])))
    if did != args.user:
        raise ValueError(f"the node in {datadir} speaks for {did}, not for the user {args.user}")
    cfg = NodeConfig(seed=k["seed"], nospam=k["nospam"], did=did, did_private_key=k["did_private_key"],
                     bootstrap=[parse_peer(b) for b in args.carrier_bootstrap],
                     relay=parse_peer(args.carrier_relay) if args.carrier_relay else None, name="elastos app run",
                     state_file=datadir / "state.json")
    if args.idchain:
        from reference.carrier.service import ChainResolver

        node_resolve: Callable[[Any], tuple[int, Any]] = ChainResolver(args.idchain, ttl=0)
    else:
        node_resolve = _carrier_resolver(Path(args.dids) if args.dids else None)
    carrier = stack.enter_context(NodeCarrier(cfg, node_resolve))
    if args.carrier_bootstrap:
        carrier.announce()
    for friend in args.carrier_friend:
        deadline = time.monotonic() + args.carrier_wait
        while True:  # the friend's node may not have announced itself in the DHT yet
            try:
                carrier.add_friend(friend, "friend request from elastos app run")
                break
            except ConnectionError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
    for friend in args.carrier_accept:
        if not _wait_for(lambda: friend in carrier.requests(), args.carrier_wait):
            raise ValueError(f"no friend request from {friend} within {args.carrier_wait} s")
        carrier.accept(friend)
    for friend in args.carrier_friend + args.carrier_accept:
        _wait_for(lambda: friend in carrier.friend_dids(), args.carrier_wait)
    return carrier


def run_app(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        return _run_app(args, stack)


def _run_app(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    module = _module(Path(args.app))
    grants = [[bytes.fromhex(t) for t in chain] for chain in json.loads(Path(args.grants).read_text())] \
        if args.grants else []
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="elastos-app-"))
    carrier: Any = LoopbackCarrier()
    if args.carrier_datadir:
        try:
            carrier = _node_carrier(args, stack)
        except (ValueError, LookupError, OSError) as e:
            print(json.dumps({"installed": False, "error": f"carrier: {e}"}))
            return 2
    chain = IdChainResolver(args.idchain) if args.idchain else None
    resolve = chain if chain is not None else _dids(Path(args.dids) if args.dids else None)
    rt = Runtime(args.user, resolve, data, carrier, now=args.now, friends=args.friend)

    def chain_report() -> dict[str, Any]:
        return {} if chain is None else {"idchain": {"url": chain.url, "errors": [e.to_json() for e in chain.errors]}}

    try:
        app = rt.install(module, Path(args.manifest).read_text(), grants)
    except Reject as e:
        print(json.dumps({"installed": False, "reason": e.reason.value, "rule": e.rule, "detail": e.detail,
                          **chain_report()}))
        return 2
    out: dict[str, Any] = {}
    sync = None
    watcher = None
    if args.sync_interval is not None and (not args.vault or args.sync_interval <= 0):
        print(json.dumps({"installed": True, "error": "vault: --sync-interval needs --vault and a positive number"}))
        return 2
    if args.vault:
        from reference.runtime.home_sync import HomeSync

        try:
            sync = HomeSync(rt, app.did, HiveClient(args.vault, args.vault_token))
            out["vault"] = {"pulled": [list(a) for a in sync.sync().actions]}
        except (ValueError, OSError, HiveError) as e:
            print(json.dumps({"installed": True, "error": f"vault: {e}"}))
            return 2
        if args.sync_interval is not None:
            from reference.runtime.home_sync import HomeWatcher

            watcher = HomeWatcher(sync, args.sync_interval).start()
            stack.callback(watcher.stop, flush=False)  # an error on the way out still ends the thread
    if args.carrier_datadir:
        if args.carrier_relay:
            carrier.pull_relay()
        _wait_for(lambda: rt.pump() > 0, args.carrier_listen)
        rt.pump()
    if args.input is not None:
        rt.write_input(app.did, args.input_offset, args.input.encode())
    r = rt.run(app.did, args.export, *args.arg)
    if args.carrier_datadir:
        carrier.flush()
        out["carrier"] = {"friends": sorted(carrier.friend_dids()), "outcomes": [list(o) for o in carrier.outcomes],
                          "refused": [[d, reason.value] for d, reason in rt.inbound_refused]}
    push_failed: Exception | None = None
    if watcher is not None:
        try:
            last = watcher.stop()  # a sync under way finishes, then the last one pushes what the app wrote
            if last is not None and not last.complete:
                raise SyncIncomplete(last)
        except (ValueError, OSError, HiveError) as e:  # the folder keeps the files; reported below
            watcher.errors.append(e)
            push_failed = e
        out["vault"]["pushed"] = [list(a) for r in watcher.reports for a in r.actions]
        out["vault"]["syncs"] = len(watcher.reports)
        out["vault"]["errors"] = [str(e) for e in watcher.errors]
    elif sync is not None:
        try:
            report = sync.sync()
            out["vault"]["pushed"] = [list(a) for a in report.actions]
            if not report.complete:
                raise SyncIncomplete(report)
        except (ValueError, OSError, HiveError) as e:  # the folder keeps the files; reported below
            out["vault"].setdefault("pushed", [])
            out["vault"]["errors"] = [str(e)]
            push_failed = e
    if push_failed is not None:
        out["vault"]["error"] = f"the last push to the vault failed: {push_failed}"
    print(json.dumps({"installed": True, "ok": r.ok, "value": r.value, "reason": r.reason.value if r.reason else None,
                      "rule": r.rule, "detail": r.detail, "fuel_used": r.fuel_used, "logs": app.logs,
                      "audit": [list(a) for a in app.audit], "data": str(data), **out, **chain_report()}, indent=1))
    if push_failed is not None:
        print(f"elastos app run: the app's files were not pushed to the vault ({push_failed}); they are kept in "
              f"{rt.home(app.did)} and the next run with --vault pushes them", file=sys.stderr)
        return 1 if not r.ok else EXIT_PUSH_FAILED
    return 0 if r.ok else 1


def demo(args: argparse.Namespace) -> int:
    network = bool(getattr(args, "network", False))
    if args.data:
        return _demo(Path(args.data), network)
    with tempfile.TemporaryDirectory(prefix="elastos-demo-") as tmp:
        return _demo(Path(tmp), network)


def _nodes(w: World, stack: contextlib.ExitStack) -> tuple[Carrier, Carrier]:
    """Two Carrier nodes on loopback (the user's and the friend's), friends by DID."""
    from reference.carrier.node import NodeConfig
    from reference.runtime.carrier_node import NodeCarrier

    out: list[NodeCarrier] = []
    for label in ("user", "friend"):
        w.publish_carrier(label)
        seed, nospam = w.node_seed(label)
        boot = [(out[0].node.node_id, "127.0.0.1", out[0].node.udp_port)] if out else []
        cfg = NodeConfig(seed=seed, nospam=nospam, did=w.did(label), did_private_key=w.key(label), name=label,
                         bootstrap=boot)
        out.append(stack.enter_context(NodeCarrier(cfg, w.carrier_resolve)))
    user, friend = out
    user.announce()
    user.add_friend(w.did("friend"), "hello from the demo")
    deadline = time.monotonic() + 10
    while w.did("user") not in friend.requests() and time.monotonic() < deadline:
        time.sleep(0.01)
    friend.accept(w.did("user"))
    while w.did("friend") not in user.friend_dids() and time.monotonic() < deadline:
        time.sleep(0.01)
    return user, friend


def _vault(w: World, root: Path, stack: contextlib.ExitStack) -> Callable[[str, str], HiveClient]:
    """A reference vault on loopback; returns how an app instance on a device signs in to it."""
    from reference.hive.server import HiveServer, Vault, load_service_key
    from reference.hive.store import HiveStore
    from spec.hive import identity

    real_now = int(time.time())
    docs = {identity.did_of(w.key(x)): identity.primitive_document(w.key(x), created=real_now - 3600,
                                                                     expires=real_now + 86400)
            for x in ("user", "phone", "laptop")}
    store = HiveStore(root / "vault")
    stack.callback(store.close)
    vault = Vault(store, load_service_key(root / "vault"), quota=1 << 20)
    for text in docs.values():
        vault.add_document(text)
    docs[vault.service.did] = store.documents()[vault.service.did]
    server = HiveServer(vault, 0).start()
    stack.callback(server.stop)

    def sign_in(device: str, app: str) -> HiveClient:
        client = HiveClient(f"http://127.0.0.1:{server.port}")
        vc = identity.issue_credential(w.key("user"), identity.did_of(w.key(device)), "app-id-credential",
                                       ("AppIdCredential",), {"appDid": w.did(app)}, issued=real_now - 60,
                                       expires=real_now + 3600)
        client.sign_in(w.key(device), vc, now=real_now, documents=docs)
        return client

    return sign_in


def _demo(root: Path, network: bool = False) -> int:
    with contextlib.ExitStack() as stack:
        return _demo_in(root, network, stack)


def _demo_in(root: Path, network: bool, stack: contextlib.ExitStack) -> int:
    now = 1_750_000_000
    w = World()
    for label in ("user", "friend", "stranger"):
        w.did(label)
    if network:
        carrier_a, carrier_b = _nodes(w, stack)
        alice = Runtime(w.did("user"), w.resolve, root / "user", carrier_a, now=now)
        bob = Runtime(w.did("friend"), w.resolve, root / "friend", carrier_b, now=now)
    else:
        carrier = LoopbackCarrier()
        alice = Runtime(w.did("user"), w.resolve, root / "user", carrier, now=now, friends=[w.did("friend")])
        bob = Runtime(w.did("friend"), w.resolve, root / "friend", carrier, now=now, friends=[w.did("user")])
    rows: list[tuple[str, str]] = []

    def install(rt: Runtime, label: str, wat: str, perms: tuple[str, ...], grants: list[tuple[str, str]],
                user: str = "user", **kw: Any) -> str:
        code = compile_wat((APPS / wat).read_text())
        rt.install(code, w.manifest(label, code, permissions=perms, **kw),
                   [[w.token(label, res, act, user=user)] for res, act in grants])
        return w.did(label)

    notes = install(alice, "notes", "notes.wat", ("storage.read", "storage.write"),
                    [("storage:notes/*", a) for a in ("read", "write", "list")])
    r = alice.run(notes)
    rows.append(("notes writes, reads and lists its home", f"ok, logged {alice.apps[notes].logs}" if r.ok else str(r)))
    if network:
        from reference.runtime.home_sync import HomeSync

        sign_in = _vault(w, root, stack)
        laptop = Runtime(w.did("user"), w.resolve, root / "user-laptop", LoopbackCarrier(), now=now)
        install(laptop, "notes", "notes.wat", ("storage.read", "storage.write"),
                [("storage:notes/*", a) for a in ("read", "write", "list")])
        pushed = HomeSync(alice, notes, sign_in("phone", "notes")).sync()
        pulled = HomeSync(laptop, notes, sign_in("laptop", "notes")).sync()
        got = sorted(p.relative_to(laptop.home(notes)).as_posix() for p in laptop.home(notes).rglob("*") if p.is_file())
        rows.append(("notes home synced to the vault, pulled by a 2nd device",
                     f"pushed {pushed.actions}, laptop pulled {pulled.actions}: {got}"))
    for rt, user in ((alice, "user"), (bob, "friend")):
        chat = install(rt, "chat", "chat.wat", ("carrier.send", "carrier.receive"),
                       [("carrier:*", "send"), ("carrier:*", "receive")], user=user)
    alice.write_input(chat, 4096, w.did("friend").encode())
    alice.run(chat, "send", len(w.did("friend")))
    flush = getattr(alice.carrier, "flush", None)
    if callable(flush):  # a real node: wait for the friend's receipt, then for the message to surface
        flush()
        deadline = time.monotonic() + 10
        while not bob.pump() and time.monotonic() < deadline:
            time.sleep(0.01)
    else:
        bob.pump()
    bob.run(chat, "poll")
    via = "two Carrier nodes on loopback" if network else "the loopback carrier"
    rows.append((f"chat sends to a friend through {via}", f"friend's chat logged {bob.apps[chat].logs}"))
    share = install(alice, "share", "share.wat", ("storage.read", "storage.write", "intent.send"),
                    [("storage:docs/*", "read"), ("storage:docs/*", "write"), ("intent:share.document", "send")],
                    intents=("share.document",))
    viewer = install(alice, "viewer", "viewer.wat", ("storage.write",), [("storage:inbox/*", "write")],
                     intent_filters=("share.document",))
    alice.write_input(share, 4096, share.encode())
    alice.run(share, "run", len(share))
    alice.run(viewer)
    rows.append(("share hands a document to viewer by intent", f"viewer logged {alice.apps[viewer].logs}"))
    relay = install(alice, "relay", "delegator.wat", ("storage.read",), [])
    alice.grant(relay, [w.token("relay", "storage:notes/*", "read", delegatable=True, max_bytes=4096,
                                expiry=now + 3600)])
    alice.app_keys[relay] = w.key("relay")  # the device holds the app's key: the runtime signs for it
    alice.write_input(relay, 4096, share.encode())
    r = alice.run(relay, "run", len(share))
    got = alice.apps[share].grants[-1] if r.ok and r.value == 0 else None
    rows.append(("delegator hands read of notes/ on to share",
                 f"share holds {got.resource} {got.action}, {got.max_bytes} bytes, depth {got.depth}" if got
                 else f"FAILED: {r}"))
    for wat, label, perms, grants in (
        ("attacks/traversal_dotdot.wat", "evil1", ("storage.read",), [("storage:*", "read")]),
        ("attacks/infinite_loop.wat", "evil2", (), []),
        ("attacks/network_peer.wat", "evil3", ("carrier.send",), [("carrier:*", "send")]),
        ("attacks/delegate_widen.wat", "evil4", ("storage.read",), []),
    ):
        did = install(alice, label, wat, perms, grants)
        if label == "evil4":  # holds a delegatable grant of notes/ and hands on all of storage to share
            alice.grant(did, [w.token(label, "storage:notes/*", "read", delegatable=True, max_bytes=4096,
                                      expiry=now + 3600)])
            alice.write_input(did, 4096, share.encode())
            r = alice.run(did, "run", len(share))
        else:
            alice.write_input(did, 4096, w.did("stranger").encode())
            r = alice.run(did)
        rows.append((f"hostile {wat.split('/')[-1]}", f"stopped: {r.reason.value if r.reason else r.detail} [{r.rule}]"))
    rows.append(("notes after the attacks", "ok" if alice.run(notes).ok else "FAILED"))
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    return 0 if rows[-1][1] == "ok" else 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser("app", help="run apps in the reference runtime (wasmtime, no WASI)")
    asub = p.add_subparsers(dest="app_command", required=True)
    r = asub.add_parser("run", help="install an app and call one of its exports")
    r.add_argument("app", help="the module (.wasm, or .wat compiled first)")
    r.add_argument("--manifest", required=True, help="the signed manifest (JSON)")
    r.add_argument("--user", required=True, help="the user DID the app runs for")
    resolution = r.add_mutually_exclusive_group()
    resolution.add_argument("--dids", help="JSON: DID -> {document, deactivated}")
    resolution.add_argument("--idchain", metavar="URL",
                            help="resolve DIDs through this ID-chain service's JSON-RPC (elastos idchain)")
    r.add_argument("--grants", help="JSON: list of token chains (hex tokens, root first)")
    r.add_argument("--friend", action="append", default=[], help="a Carrier friend of the user (repeatable)")
    r.add_argument("--now", type=int, default=1_750_000_000, help="the virtual clock's start (Unix seconds)")
    r.add_argument("--data", help="the storage folder (default: a new temporary folder)")
    r.add_argument("--export", default="run", help="the exported function to call")
    r.add_argument("--arg", type=int, action="append", default=[], help="an integer argument (repeatable)")
    r.add_argument("--input", metavar="TEXT",
                   help="UTF-8 text written into the app's memory before the call (what a UI does with what the "
                        "user typed; the sample apps read a peer DID at 4096)")
    r.add_argument("--input-offset", type=int, default=4096, help="where --input is written (default 4096)")
    r.add_argument("--carrier-datadir", metavar="DIR",
                   help="use the user's real Carrier node from this data folder (elastos carrier node --datadir)")
    r.add_argument("--carrier-bootstrap", action="append", default=[], metavar="ID@HOST:PORT",
                   help="a DHT node for the Carrier node to start from (repeatable)")
    r.add_argument("--carrier-relay", metavar="ID@HOST:TCPPORT", help="the Carrier node's offline relay")
    r.add_argument("--carrier-friend", action="append", default=[], metavar="DID",
                   help="send a Carrier friend request to this DID before the call (repeatable)")
    r.add_argument("--carrier-accept", action="append", default=[], metavar="DID",
                   help="accept the Carrier friend request of this DID before the call (repeatable)")
    r.add_argument("--carrier-wait", type=float, default=10.0, metavar="SECONDS",
                   help="how long to wait for the DHT and friend answers (default 10)")
    r.add_argument("--carrier-listen", type=float, default=0.0, metavar="SECONDS",
                   help="how long to wait for an inbound message before the call (default 0)")
    r.add_argument("--vault", metavar="URL", help="sync the app's home folder with this Hive vault")
    r.add_argument("--vault-token", metavar="TOKEN", help="the access token (elastos hive signin) for --vault")
    r.add_argument("--sync-interval", type=float, metavar="SECONDS",
                   help="with --vault: keep the home folder in sync while the app runs, the vault polled at least "
                        "every SECONDS")
    r.set_defaults(fn=run_app)
    d = asub.add_parser("demo", help="run the sample apps and some hostile apps")
    d.add_argument("--data", help="the storage folder (default: a new temporary folder)")
    d.add_argument("--network", action="store_true",
                   help="chat through two real Carrier nodes on loopback, and sync the notes app's home folder "
                        "through a reference Hive vault to a second device")
    d.set_defaults(fn=demo)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(demo(argparse.Namespace(data=None, network=False)))
