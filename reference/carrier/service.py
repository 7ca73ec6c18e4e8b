"""``elastos carrier node`` and ``elastos carrier relay``: run a node from a data folder.

The data folder holds ``key.json`` (the node's Ed25519 seed, its nospam and the P-256 private key
of its DID; made on first start), ``state.json`` (friends, and a relay's mailboxes) and ``document.json``, the node's DID document with its
``CarrierAddress`` service, to be published on the ID chain or added to the DID file. DIDs are
resolved from ``--dids``, a JSON list of ``{"did", "status", "document"}`` read again whenever the
file changes (the same form the vectors use), or with ``--idchain URL`` from the ID-chain service
(``elastos idchain``), whose histories the node checks itself.

The node prints one JSON line when it is up (ids, address, ports), then one per event, and takes
commands as JSON lines on stdin, answering each with ``{"ok": ...}`` or ``{"error": reason}``:

=======================================================  ==============================================
command                                                  does
=======================================================  ==============================================
``{"cmd": "add_friend", "address", "hello"}``            send a friend request
``{"cmd": "accept", "peer"}``                            accept a request (``peer``: base58 node id)
``{"cmd": "send", "peer", "text"}``                      send a message: ``delivered`` or ``relayed``
``{"cmd": "invite", "peer", "data"}``                    invite; answers with the reply
``{"cmd": "reply", "peer", "tid", "status", "data"}``    answer an invite
``{"cmd": "pull"}``                                      fetch offline messages from the relay
``{"cmd": "friends"}``                                   list the friendship states
=======================================================  ==============================================

The node runs until SIGINT or SIGTERM; closing stdin only ends the commands.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.crypto import p256
from spec.did import keys as did_keys
from spec.did.document import Document, parse_document
from spec.did.syntax import DID
from spec.encoding.base58 import b58encode
from spec.errors import Reject

from reference.carrier.node import CarrierNode, NodeConfig, RelayNode

DOCUMENT_LIFETIME = 5 * 365 * 86400


class FileResolver:
    """DIDs from a JSON file of ``[{"did", "status", "document"}]``, reloaded when it changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime = -1.0
        self._table: dict[str, tuple[int, Document | None]] = {}

    def __call__(self, did: DID) -> tuple[int, Document | None]:
        if self.path is not None and self.path.is_file() and self.path.stat().st_mtime != self._mtime:
            self._mtime = self.path.stat().st_mtime
            table = {}
            for item in json.loads(self.path.read_text()):
                table[item["did"]] = (int(item["status"]), parse_document(item["document"]) if item["document"] else None)
            self._table = table
        return self._table.get(str(did), (3, None))


class ChainResolver:
    """DIDs from an ID-chain service over JSON-RPC (``did_resolveDID`` with ``all``), each history
    checked on this side with :func:`spec.did.chain.check_history`; answers are kept ``ttl`` seconds."""

    def __init__(self, url: str, ttl: float = 30.0) -> None:
        from reference.node.rpc import RpcClient

        self.rpc = RpcClient(url, timeout=10.0)
        self.ttl = ttl
        self._cache: dict[str, tuple[float, tuple[int, Document | None]]] = {}

    def __call__(self, did: DID) -> tuple[int, Document | None]:
        key = str(did)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        answer = self._resolve(key)
        self._cache[key] = (time.monotonic(), answer)
        return answer

    def _resolve(self, did: str) -> tuple[int, Document | None]:
        from spec.did import chain
        from spec.did.document import parse_date

        try:
            result = self.rpc.call("did_resolveDID", {"did": did, "all": True})
        except (OSError, ValueError):
            return chain.STATUS_NOT_FOUND, None  # an unreachable chain resolves nothing: no session
        if result["status"] == chain.STATUS_NOT_FOUND:
            return chain.STATUS_NOT_FOUND, None
        txs = tuple(chain.IdTransaction(txid=t["txid"], timestamp=parse_date(t["timestamp"]),
                                        operation=t["operation"]["header"]["operation"],
                                        request=json.dumps(t["operation"])) for t in result["transaction"])
        try:
            doc = chain.check_history(did, txs, lambda d: self(d)[1])
        except Reject:
            return chain.STATUS_NOT_FOUND, None  # a history that does not verify is not trusted
        return int(result["status"]), doc


def load_or_create_keys(datadir: Path) -> dict[str, bytes]:
    path = datadir / "key.json"
    if path.is_file():
        raw = json.loads(path.read_text())
        return {k: bytes.fromhex(v) for k, v in raw.items()}
    while True:
        did_private = os.urandom(32)
        if 1 <= int.from_bytes(did_private, "big") < p256.N:
            break
    keys = {"seed": os.urandom(32), "nospam": os.urandom(4), "did_private_key": did_private}
    datadir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v.hex() for k, v in keys.items()}, indent=1))
    path.chmod(0o600)
    return keys


def parse_peer(text: str) -> tuple[bytes, str, int]:
    """``<node id>@<host>:<port>``."""
    node, _, where = text.partition("@")
    host, _, port = where.rpartition(":")
    if not node or not host or not port.isdigit():
        raise SystemExit(f"bad peer {text!r}: expected <node id>@<host>:<port>")
    return I.parse_node_id(node), host, int(port)


def build(args: Any, relay: bool) -> tuple[CarrierNode, str]:
    datadir = Path(args.datadir)
    k = load_or_create_keys(datadir)
    did = str(did_keys.did_from_public_key(p256.public_key_from_private(k["did_private_key"])))
    address = I.make_address(I.node_id_of(k["seed"]), k["nospam"])
    now = int(time.time())
    doc_path = datadir / "document.json"
    if not doc_path.is_file():
        doc_path.write_text(B.carrier_document(k["did_private_key"], (address,), now + DOCUMENT_LIFETIME, now))
    cfg = NodeConfig(seed=k["seed"], nospam=k["nospam"], did=did, did_private_key=k["did_private_key"], host=args.host,
                     udp_port=args.udp_port, tcp_port=args.tcp_port,
                     bootstrap=[parse_peer(b) for b in args.bootstrap or []],
                     relay=parse_peer(args.relay) if getattr(args, "relay", None) else None, name=args.name,
                     state_file=datadir / "state.json")
    resolver = ChainResolver(args.idchain) if args.idchain else FileResolver(Path(args.dids) if args.dids else None)
    return (RelayNode if relay else CarrierNode)(cfg, resolver), str(doc_path)


def _json(v: Any) -> Any:
    if isinstance(v, bytes):
        return b58encode(v) if len(v) == I.NODE_ID_SIZE else v.decode("utf-8", errors="replace")
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    return v


async def command(node: CarrierNode, c: dict[str, Any]) -> Any:
    """Run one stdin command."""
    cmd = c.get("cmd")
    if cmd == "add_friend":
        await node.add_friend(c["address"], c["hello"])
        return "requested"
    if cmd == "friends":
        return [[b58encode(p), s] for p, s in node.friends.peers]
    if cmd == "pull":
        return await node.pull_relay()
    peer = I.parse_node_id(c["peer"])
    if cmd == "accept":
        await node.accept_friend(peer)
        return "accepted"
    if cmd == "send":
        return await node.send_message(peer, c["text"].encode("utf-8"))
    if cmd == "invite":
        return _json(await node.invite(peer, c["data"].encode("utf-8")))
    if cmd == "reply":
        await node.reply_invite(peer, int(c["tid"]), int(c["status"]), c.get("data", "").encode("utf-8"))
        return "replied"
    raise ValueError(f"unknown command {cmd!r}")


def _emit(obj: Any) -> None:
    print(json.dumps(obj), flush=True)


async def _commands(node: CarrierNode) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        try:
            _emit({"ok": await command(node, json.loads(line))})
        except Reject as e:
            _emit({"error": e.reason.value, "detail": e.detail})
        except (ValueError, KeyError, TypeError, ConnectionError, OSError, asyncio.TimeoutError) as e:
            _emit({"error": type(e).__name__, "detail": str(e)})


async def _events(node: CarrierNode) -> None:
    while True:
        _emit(_json(await node.events.get()))


async def _serve(node: CarrierNode, doc_path: str) -> None:
    await node.start()
    _emit({"node_id": b58encode(node.node_id), "address": node.address, "did": node.cfg.did,
           "document": doc_path, "udp_port": node.udp_port, "tcp_port": node.tcp_port})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.ensure_future(_commands(node)), asyncio.ensure_future(_events(node))]
    try:
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        await node.stop()


def run(args: Any, relay: bool) -> int:
    node, doc_path = build(args, relay)
    asyncio.run(_serve(node, doc_path))
    return 0
