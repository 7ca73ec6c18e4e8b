"""``elastos carrier node`` and ``elastos carrier relay`` as real processes on loopback: two users
become friends by DID through stdin commands, a message is delivered, a message to an offline
friend is acknowledged by the relay, survives a restart of the relay, and reaches the friend when
it comes back."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.encoding.base58 import b58encode

from conformance.generators.carrier import did_key, did_of, nospam, seed

REPO = Path(__file__).resolve().parents[1]


class Proc:
    def __init__(self, datadir: Path, role: str, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.p = subprocess.Popen([sys.executable, "-m", "reference.cli", "carrier", role, "--datadir", str(datadir),
                                   "--dids", str(datadir.parent / "dids.json"), *extra],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO,
                                  env=env, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.info = self.line()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line)

    def line(self, timeout: float = 30.0) -> dict[str, Any]:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"the node printed nothing for {timeout} s") from None

    def expect(self, key: str, value: Any) -> dict[str, Any]:
        for _ in range(50):
            d = self.line()
            if d.get(key) == value:
                return d
        raise AssertionError(f"no line with {key}={value!r}")

    def cmd(self, **c: Any) -> dict[str, Any]:
        assert self.p.stdin is not None
        self.p.stdin.write(json.dumps(c) + "\n")
        self.p.stdin.flush()
        for _ in range(50):
            d = self.line()
            if "ok" in d or "error" in d:
                return d
        raise AssertionError("no answer")

    def stop(self) -> None:
        self.p.terminate()
        self.p.wait(timeout=30)


def _prepare(root: Path, labels: tuple[str, ...]) -> None:
    dids = []
    for label in labels:
        d = root / label
        d.mkdir()
        (d / "key.json").write_text(json.dumps({"seed": seed(label).hex(), "nospam": nospam(label).hex(),
                                                "did_private_key": did_key(label).hex()}))
        address = I.make_address(I.node_id_of(seed(label)), nospam(label))
        now = int(time.time())
        dids.append({"did": did_of(label), "status": 0,
                     "document": B.carrier_document(did_key(label), (address,), now + 86400 * 30, now - 60)})
    (root / "dids.json").write_text(json.dumps(dids))


def test_cli_nodes(tmp_path: Path):
    _prepare(tmp_path, ("relay", "alice", "bob"))
    relay = Proc(tmp_path / "relay", "relay")
    procs = [relay]
    try:
        rid = relay.info["node_id"]
        boot = ["--bootstrap", f"{rid}@127.0.0.1:{relay.info['udp_port']}", "--relay", f"{rid}@127.0.0.1:{relay.info['tcp_port']}"]
        alice = Proc(tmp_path / "alice", "node", *boot, "--name", "alice")
        bob = Proc(tmp_path / "bob", "node", *boot, "--name", "bob")
        procs += [alice, bob]
        assert alice.info["did"] == did_of("alice") and bob.info["address"] == I.make_address(I.node_id_of(seed("bob")), nospam("bob"))
        assert alice.cmd(cmd="add_friend", address=bob.info["address"], hello="hi bob") == {"ok": "requested"}
        req = bob.expect("event", "friend_request")
        assert req["did"] == did_of("alice") and req["peer"] == alice.info["node_id"]
        assert bob.cmd(cmd="accept", peer=alice.info["node_id"]) == {"ok": "accepted"}
        assert alice.expect("event", "friend_added")["did"] == did_of("bob")
        assert alice.cmd(cmd="send", peer=bob.info["node_id"], text="hello") == {"ok": "delivered"}
        assert bob.expect("event", "message")["data"] == "hello"
        assert bob.cmd(cmd="send", peer=b58encode(I.node_id_of(seed("nobody"))), text="x")["error"] == "FRIEND_NOT_FRIEND"

        bob.stop()
        procs.remove(bob)
        assert alice.cmd(cmd="send", peer=bob.info["node_id"], text="while you were away") == {"ok": "relayed"}
        relay.stop()  # the relay acknowledged the message: it must survive a restart
        procs.remove(relay)
        relay = Proc(tmp_path / "relay", "relay", "--udp-port", str(relay.info["udp_port"]),
                     "--tcp-port", str(relay.info["tcp_port"]))
        procs.append(relay)
        bob = Proc(tmp_path / "bob", "node", *boot)
        procs.append(bob)
        assert bob.cmd(cmd="friends") == {"ok": [[alice.info["node_id"], "friend"]]}
        assert bob.cmd(cmd="pull") == {"ok": 1}
        got = bob.expect("event", "message")
        assert got["data"] == "while you were away" and got["offline"] is True
        assert bob.cmd(cmd="pull") == {"ok": 0}
    finally:
        for p in procs:
            p.stop()
