"""``elastos node``, ``elastos sidechain`` and ``elastos arbiter`` as separate processes on loopback: the
arbiter merge-mines blocks of both chains, read back over the nodes' JSON-RPC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from spec.crypto.p256 import public_key_from_private

from reference.node.rpc import RpcClient
from reference.node.wallet import address_of_key


def _start(args: list[str], log: Path) -> tuple[subprocess.Popen, dict[str, str]]:  # type: ignore[type-arg]
    f = open(log, "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "reference.cli", *args], stdout=subprocess.PIPE, stderr=f, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), (line, log.read_text())
    return proc, dict(kv.split("=", 1) for kv in line.split()[1:])


def test_node_sidechain_and_arbiter_processes(tmp_path: Path) -> None:
    keys = []
    for i in range(2):
        k = bytes([i + 1]) * 32
        (tmp_path / f"arb{i}.json").write_text(json.dumps({"private_key": k.hex()}))
        keys.append(k)
    arbiter_args = [a for k in keys for a in ("--arbiter", public_key_from_private(k).hex())]
    main, mp = _start(["node", "--network", "instant", "--datadir", str(tmp_path / "main"), *arbiter_args],
                      tmp_path / "main.log")
    side = None
    try:
        side, sp = _start(["sidechain", "--datadir", str(tmp_path / "side"), "--main-rpc",
                           f"http://127.0.0.1:{mp['rpc']}", "--network", "instant"], tmp_path / "side.log")
        done = subprocess.run([sys.executable, "-m", "reference.cli", "arbiter", "--main-rpc", f"http://127.0.0.1:{mp['rpc']}",
                               "--side-rpc", f"http://127.0.0.1:{sp['rpc']}", "--key", str(tmp_path / "arb0.json"),
                               "--key", str(tmp_path / "arb1.json"), "--network", "instant",
                               "--miner", address_of_key(keys[0]), "--blocks", "3", "--state", str(tmp_path / "a.json")],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert RpcClient(f"http://127.0.0.1:{mp['rpc']}").call("getblockcount") == 4
        assert RpcClient(f"http://127.0.0.1:{sp['rpc']}").call("getblockcount") == 4
        assert sp["x"] == "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ"
    finally:
        for p in (side, main):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)
