"""``elastos node``, ``elastos sidechain`` and ``elastos arbiter`` as separate processes on loopback: the
arbiter merge-mines blocks of both chains, read back over the nodes' JSON-RPC."""

from __future__ import annotations

import json
import subprocess
import sys
import time
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


def test_two_sidechain_processes_agree_over_p2p(tmp_path: Path) -> None:
    """``elastos sidechain --p2pport 0`` twice, the second ``--connect``ed to the first: the arbiter merge-mines
    on the first, and the second reaches the same tip over P2P."""
    k = bytes([1]) * 32
    (tmp_path / "arb.json").write_text(json.dumps({"private_key": k.hex()}))
    main, mp = _start(["node", "--network", "instant", "--datadir", str(tmp_path / "main"),
                       "--arbiter", public_key_from_private(k).hex()], tmp_path / "main.log")
    procs = [main]
    try:
        main_url = f"http://127.0.0.1:{mp['rpc']}"
        s1, p1 = _start(["sidechain", "--datadir", str(tmp_path / "s1"), "--main-rpc", main_url, "--p2pport", "0"],
                        tmp_path / "s1.log")
        procs.append(s1)
        s2, p2 = _start(["sidechain", "--datadir", str(tmp_path / "s2"), "--main-rpc", main_url,
                         "--connect", f"127.0.0.1:{p1['p2p']}"], tmp_path / "s2.log")
        procs.append(s2)
        done = subprocess.run([sys.executable, "-m", "reference.cli", "arbiter", "--main-rpc", main_url,
                               "--side-rpc", f"http://127.0.0.1:{p1['rpc']}", "--key", str(tmp_path / "arb.json"),
                               "--network", "instant", "--miner", address_of_key(k), "--blocks", "2",
                               "--state", str(tmp_path / "a.json")], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        one, two = RpcClient(f"http://127.0.0.1:{p1['rpc']}"), RpcClient(f"http://127.0.0.1:{p2['rpc']}")
        end = time.monotonic() + 60
        while time.monotonic() < end and two.call("getblockcount") < 3:
            time.sleep(0.1)
        assert one.call("getblockcount") == two.call("getblockcount") == 3
        assert one.call("getbestblockhash") == two.call("getbestblockhash")
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
