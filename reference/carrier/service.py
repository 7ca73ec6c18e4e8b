"""``elastos carrier node`` and ``elastos carrier relay``: run a node from a data folder.

The data folder holds ``key.json`` (the node's Ed25519 seed, its nospam and the P-256 private key
of its DID; made on first start) and ``document.json``, the node's DID document with its
``CarrierAddress`` service, to be published on the ID chain or added to the DID file. DIDs are
resolved from ``--dids``, a JSON list of ``{"did", "status", "document"}`` read again whenever the
file changes (the same form the vectors use).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
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
                     relay=parse_peer(args.relay) if getattr(args, "relay", None) else None, name=args.name)
    resolver = FileResolver(Path(args.dids) if args.dids else None)
    return (RelayNode if relay else CarrierNode)(cfg, resolver), str(doc_path)


async def _serve(node: CarrierNode, doc_path: str) -> None:
    await node.start()
    print(json.dumps({"node_id": b58encode(node.node_id), "address": node.address, "did": node.cfg.did,
                      "document": doc_path, "udp_port": node.udp_port, "tcp_port": node.tcp_port}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            try:
                ev = await asyncio.wait_for(node.events.get(), 1.0)
            except asyncio.TimeoutError:
                continue
            print(json.dumps({k: (v.hex() if isinstance(v, bytes) else v) for k, v in ev.items()}), flush=True)
    finally:
        await node.stop()


def run(args: Any, relay: bool) -> int:
    node, doc_path = build(args, relay)
    asyncio.run(_serve(node, doc_path))
    return 0
