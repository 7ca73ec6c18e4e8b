"""``elastos node`` (one node process) and :func:`devnet` (several on loopback, mined and checked; the
``chain`` scenario of ``elastos devnet``, :mod:`reference.devnet.scenario`, does the same from the CLI).

A node process prints one line ``ready p2p=PORT rpc=PORT`` on stdout once it listens, then a log;
it stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from spec.chain.params import network
from reference.node.miner import mine_one
from reference.node.rpc import RpcClient, RpcServer
from reference.node.wallet import address_of_key
from reference.signals import StopFlag

REPO = Path(__file__).resolve().parents[2]
DEVNET_MINER_KEY = (0xE1A5).to_bytes(32, "big")
"""The devnet's miner key (a fixed, public test key: never use it for value)."""


def run_node(net: str, datadir: str, port: int, rpcport: int, connect: list[str],
             arbiters: list[str] | None = None, sig_workers: int = 1) -> int:
    from reference.node.node import Node
    from reference.node.peer import P2P

    def log(s: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {s}", flush=True)

    params = network(net)
    if arbiters:  # the cross-chain arbiters (public keys, hex) a devnet's sidechain uses
        params = params.model_copy(update={"cross_chain_arbiters": tuple(bytes.fromhex(a) for a in arbiters)})
    if sig_workers < 1:
        print("elastos node: --sig-workers must be at least 1", file=sys.stderr)
        return 2
    node = Node(datadir, params, sig_workers=sig_workers)
    rpc = RpcServer(node, rpcport).start()
    p2p = P2P(node, port, log=log).start()
    node.listeners.append(lambda kind, h, src: log(f"new tip {h[::-1].hex()} height {node.height()}")
                          if kind == "block" else log(f"pool took tx {h[::-1].hex()}"))
    print(f"ready p2p={p2p.port} rpc={rpc.port}", flush=True)
    log(f"node {net} datadir {datadir} height {node.height()} tip {node.best_hash()[::-1].hex()}"
        + (f" signature workers {sig_workers}" if node.sigpool is not None else ""))
    for target in connect:
        host, _, p = target.rpartition(":")
        for _ in range(50):
            try:
                p2p.connect(host or "127.0.0.1", int(p))
                break
            except OSError:
                time.sleep(0.1)
        else:
            log(f"could not connect to {target}")
    stop = StopFlag()  # SIGTERM or SIGINT (reference.signals: no lock in the handler)
    while not stop.wait(0.2):
        pass
    log("stopping")
    p2p.stop()
    rpc.stop()
    node.close()
    return 0


def _start(net: str, datadir: Path, connect: list[str], logfile: Path) -> tuple[subprocess.Popen, int, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, "-m", "reference.cli", "node", "--network", net, "--datadir", str(datadir),
            "--port", "0", "--rpcport", "0"]
    for c in connect:
        args += ["--connect", c]
    out = open(logfile, "w")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=out, env=env, cwd=REPO, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        proc.kill()
        raise RuntimeError(f"node did not start: {line!r}; see {logfile}")
    fields = dict(kv.split("=") for kv in line.split()[1:])

    def pump() -> None:
        assert proc.stdout is not None
        for ln in proc.stdout:
            out.write(ln)
            out.flush()

    threading.Thread(target=pump, daemon=True).start()
    return proc, int(fields["p2p"]), int(fields["rpc"])


def devnet(nodes: int, blocks: int, net: str, timeout: float = 60.0, keep: bool = False,
           inspect: Callable[[list[RpcClient]], None] | None = None) -> dict:
    """Start ``nodes`` node processes, mine ``blocks`` on the first, wait for all to agree; a summary."""
    root = Path(tempfile.mkdtemp(prefix="elastos-devnet-"))
    procs: list[subprocess.Popen] = []
    print(f"devnet: {nodes} nodes on {net}, datadirs under {root}")
    try:
        ports = []
        for i in range(nodes):
            connect = [f"127.0.0.1:{ports[0][0]}"] if ports else []
            proc, p2p, rpc = _start(net, root / f"node{i + 1}", connect, root / f"node{i + 1}.log")
            procs.append(proc)
            ports.append((p2p, rpc))
            print(f"  node{i + 1}: p2p 127.0.0.1:{p2p}  rpc http://127.0.0.1:{rpc}" + ("  -> node1" if connect else ""))
        clients = [RpcClient(f"http://127.0.0.1:{r}") for _, r in ports]
        address = address_of_key(DEVNET_MINER_KEY)
        print(f"mining {blocks} merged-mined blocks on node1 to {address}")
        for _ in range(blocks):
            mine_one(clients[0], address, log=lambda s: print("  " + s))
        want = clients[0].call("getbestblockhash")
        end = time.time() + timeout
        while time.time() < end and any(c.call("getbestblockhash") != want for c in clients[1:]):
            time.sleep(0.1)
        rows = [(f"node{i + 1}", c.call("getblockcount") - 1, c.call("getbestblockhash")) for i, c in enumerate(clients)]
        print()
        print(f"{'node':<8} {'height':>6}  best block hash")
        for name, h, bh in rows:
            print(f"{name:<8} {h:>6}  {bh}")
        agreed = all(bh == want for _, _, bh in rows)
        print(f"\n{'all nodes agree' if agreed else 'NODES DISAGREE'} on height {rows[0][1]}")
        if inspect is not None:
            inspect(clients)
        return {"agreed": agreed, "rows": rows, "root": str(root)}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


__all__ = ["devnet", "run_node"]
