"""Real ``elastos carrier`` processes killed with SIGKILL (issue 6: "a node killed
mid-bulk-transfer ... nothing that was acknowledged is lost").

* A node killed in the middle of receiving a 5 MiB bulk message: the sender's receipt never comes,
  so the sender learns at once (its session ends) that the message was not delivered; what the
  node had acknowledged (the friendship, a message) survives; started again on the same port, it
  receives the whole message when the sender sends it again.
* A relay killed right after it acknowledged a store: the relay writes the blob to its state file
  before the receipt, so after a restart the friend pulls the message.

The sender and the friend run in this process (real nodes on loopback); the killed node is a
separate process that reads the same DID file."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from spec.carrier import identity as I
from spec.encoding.base58 import b58encode

from conformance.generators.carrier import did_key, did_of, nospam, seed
from reference.carrier.node import CarrierNode, NodeConfig
from reference.carrier.service import FileResolver
from test_carrier_cli import Proc, _prepare
from test_carrier_node import next_event


def local(label: str, dids: Path, **kw) -> CarrierNode:
    cfg = NodeConfig(seed=seed(label), nospam=nospam(label), did=did_of(label), did_private_key=did_key(label),
                     name=label, **kw)
    return CarrierNode(cfg, FileResolver(dids))


async def befriend(alice: CarrierNode, bob: Proc) -> None:
    await alice.add_friend(bob.info["address"], "hi")
    await asyncio.to_thread(bob.expect, "event", "friend_request")
    assert await asyncio.to_thread(bob.cmd, cmd="accept", peer=b58encode(alice.node_id)) == {"ok": "accepted"}
    await next_event(alice, "friend_added")


def test_node_process_killed_mid_bulk(tmp_path: Path) -> None:
    _prepare(tmp_path, ("alice", "bob"))
    bob = Proc(tmp_path / "bob", "node")
    procs = [bob]

    async def go() -> None:
        nonlocal bob
        alice = local("alice", tmp_path / "dids.json")
        await alice.start()
        bob_id = I.parse_node_id(bob.info["node_id"])
        port = bob.info["tcp_port"]
        alice.peers[bob_id] = ("127.0.0.1", port)
        try:
            await befriend(alice, bob)
            assert await alice.send_message(bob_id, b"acknowledged before the kill") == "delivered"
            assert (await asyncio.to_thread(bob.expect, "event", "message"))["data"] == "acknowledged before the kill"

            big = b"0123456789abcdef" * (5 * 1024 * 1024 // 16)  # 5 MiB: 82 chunks
            os.kill(bob.p.pid, signal.SIGSTOP)  # bob stops reading: the transfer cannot finish
            sending = asyncio.ensure_future(alice.send_message(bob_id, big, timeout=60))
            await asyncio.sleep(0.5)
            os.kill(bob.p.pid, signal.SIGCONT)  # bob takes some of the chunks ...
            await asyncio.sleep(0.002)  # (82 chunks of 63 KiB: a few ms of work, so a short while)
            assert not sending.done()  # ... and is killed before the last one
            os.kill(bob.p.pid, signal.SIGKILL)
            bob.p.wait(timeout=30)
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(sending, 30)  # at once, not at the timeout: the session ended
            assert bob_id not in alice.sessions
            assert all(not line.startswith('{"event": "message"') for line in list(bob.lines.queue))

            procs.remove(bob)
            bob = Proc(tmp_path / "bob", "node", "--tcp-port", str(port))
            procs.append(bob)
            assert await asyncio.to_thread(bob.cmd, cmd="friends") == {"ok": [[b58encode(alice.node_id), "friend"]]}
            assert await alice.send_message(bob_id, big, timeout=120) == "delivered"
            got = await asyncio.to_thread(bob.expect, "event", "message")
            assert got["data"].encode() == big and got["peer"] == b58encode(alice.node_id)
        finally:
            await alice.stop()

    try:
        asyncio.run(asyncio.wait_for(go(), 240))
    finally:
        for p in procs:
            p.stop()


def test_relay_process_killed_after_acknowledging(tmp_path: Path) -> None:
    _prepare(tmp_path, ("relay", "alice", "bob"))
    relay = Proc(tmp_path / "relay", "relay")
    procs = [relay]

    async def go() -> None:
        nonlocal relay
        at = (I.parse_node_id(relay.info["node_id"]), "127.0.0.1", relay.info["tcp_port"])
        dids = tmp_path / "dids.json"
        alice, bob = local("alice", dids, relay=at), local("bob", dids, relay=at)
        await alice.start()
        await bob.start()
        nodes = [alice, bob]
        try:
            alice.peers[bob.node_id] = ("127.0.0.1", bob.tcp_port)
            await alice.add_friend(bob.address, "hi")
            await next_event(bob, "friend_request")
            await bob.accept_friend(alice.node_id)
            await next_event(alice, "friend_added")
            friends_of_bob, bob_port = bob.friends, bob.tcp_port
            await bob.stop()
            alice.peers[bob.node_id] = ("127.0.0.1", bob_port)  # closed now
            for _ in range(500):  # alice sees bob's session end
                if bob.node_id not in alice.sessions:
                    break
                await asyncio.sleep(0.01)
            assert await alice.send_message(bob.node_id, b"kept through a kill -9") == "relayed"
            os.kill(relay.p.pid, signal.SIGKILL)  # right after the receipt
            relay.p.wait(timeout=30)
            procs.remove(relay)
            relay = Proc(tmp_path / "relay", "relay", "--udp-port", str(relay.info["udp_port"]),
                         "--tcp-port", str(relay.info["tcp_port"]))
            procs.append(relay)
            bob = local("bob", dids, relay=at)
            bob.friends = friends_of_bob
            await bob.start()
            nodes.append(bob)
            assert await bob.pull_relay() == 1
            got = await next_event(bob, "message")
            assert got["data"] == b"kept through a kill -9" and got["offline"] is True
            assert await bob.pull_relay() == 0  # deleted once taken
        finally:
            for n in nodes:
                await n.stop()

    try:
        asyncio.run(asyncio.wait_for(go(), 240))
    finally:
        for p in procs:
            p.stop()
