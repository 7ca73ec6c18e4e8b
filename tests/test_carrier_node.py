"""Real Carrier nodes on loopback: a bootstrap node, a relay and three users find each other through
the DHT, become friends by DID, exchange messages, bulk messages and invites, refuse strangers and
deactivated DIDs, and deliver a message to an offline friend through the relay. A TCP proxy records
the session bytes between two nodes: no message body crosses the wire in plaintext."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did.document import Document, parse_document
from spec.did.syntax import DID

from conformance.generators.carrier import did_key, did_of, nospam, seed
from reference.carrier.node import CarrierNode, NodeConfig, RelayNode

NOW = 1_800_000_000


class Dids:
    """A shared resolver: DID -> (status, document), as the ID chain would answer."""

    def __init__(self) -> None:
        self.table: dict[str, tuple[int, Document]] = {}

    def publish(self, label: str) -> None:
        address = I.make_address(I.node_id_of(seed(label)), nospam(label))
        text = B.carrier_document(did_key(label), (address,), NOW + 365 * 86400, NOW - 86400)
        self.table[did_of(label)] = (0, parse_document(text))

    def __call__(self, did: DID) -> tuple[int, Document | None]:
        return self.table.get(str(did), (3, None))


def config(label: str, **kw: Any) -> NodeConfig:
    return NodeConfig(seed=seed(label), nospam=nospam(label), did=did_of(label), did_private_key=did_key(label),
                      name=label, **kw)


async def next_event(node: CarrierNode, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        ev = await asyncio.wait_for(node.events.get(), timeout)
        if ev["event"] == kind:
            return ev


async def befriend(alice: CarrierNode, bob: CarrierNode) -> None:
    """Two started nodes learn each other's session address; alice asks, bob accepts, both see it."""
    alice.peers[bob.node_id] = ("127.0.0.1", bob.tcp_port)
    bob.peers[alice.node_id] = ("127.0.0.1", alice.tcp_port)
    await alice.add_friend(bob.address, "hi")
    await next_event(bob, "friend_request")
    await bob.accept_friend(alice.node_id)
    await next_event(alice, "friend_added")


async def started_friends(bob_class: type[CarrierNode] = CarrierNode) -> tuple[Dids, CarrierNode, CarrierNode]:
    """alice and bob (a ``bob_class``), their DIDs published in one resolver, started and made friends; the
    caller stops them."""
    dids = Dids()
    for label in ("alice", "bob"):
        dids.publish(label)
    alice = CarrierNode(config("alice"), dids, lambda: NOW)
    bob = bob_class(config("bob"), dids, lambda: NOW)
    try:
        await alice.start()
        await bob.start()
        await befriend(alice, bob)
    except BaseException:
        await alice.stop()
        await bob.stop()
        raise
    return dids, alice, bob


async def proxy(target: tuple[str, int], record: list[bytes]) -> asyncio.base_events.Server:
    async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                record.append(data)
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        r2, w2 = await asyncio.open_connection(*target)
        await asyncio.gather(pipe(r, w2), pipe(r2, w))

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def scenario() -> None:
    dids = Dids()
    for label in ("boot", "relay", "alice", "bob", "carol", "mallory"):
        dids.publish(label)
    clock = lambda: NOW  # noqa: E731 - the bindings and DID documents are made for this time
    boot = CarrierNode(config("boot"), dids, clock)
    await boot.start()
    seed_list = [(boot.node_id, "127.0.0.1", boot.udp_port)]
    relay = RelayNode(config("relay", bootstrap=seed_list), dids, clock)
    await relay.start()
    relay_at = (relay.node_id, "127.0.0.1", relay.tcp_port)
    nodes = {}
    for label in ("alice", "bob", "carol"):
        nodes[label] = CarrierNode(config(label, bootstrap=seed_list, relay=relay_at), dids, clock)
        await nodes[label].start()
    alice, bob, carol = nodes["alice"], nodes["bob"], nodes["carol"]
    try:
        for n in nodes.values():  # announce again now that every node is up
            await n.announce()
        assert await alice.find_peer(bob.node_id) == ("127.0.0.1", bob.tcp_port)

        # friends by DID
        await alice.add_friend(bob.address, "hello bob, it's alice")
        req = await next_event(bob, "friend_request")
        assert req["did"] == did_of("alice") and req["peer"] == alice.node_id and req["hello"] == "hello bob, it's alice"
        await bob.accept_friend(alice.node_id)
        added = await next_event(alice, "friend_added")
        assert added["did"] == did_of("bob")

        # messages, bulk, invites; the session bytes go through a recording proxy
        record: list[bytes] = []
        tap = await proxy(("127.0.0.1", bob.tcp_port), record)
        alice.sessions.pop(bob.node_id)
        alice.peers[bob.node_id] = ("127.0.0.1", tap.sockets[0].getsockname()[1])
        body = b"the secret body " * 8
        assert await alice.send_message(bob.node_id, body) == "delivered"
        got = await next_event(bob, "message")
        assert got["data"] == body and got["did"] == did_of("alice") and not got["offline"]
        big = hashlib.sha256(b"bulk").digest() * 6000  # 192000 bytes: 3 bulk chunks
        assert await alice.send_message(bob.node_id, big) == "delivered"
        assert (await next_event(bob, "message"))["data"] == big
        wire = b"".join(record)
        assert len(wire) > len(big) and body not in wire and big[:64] not in wire
        tap.close()

        reply_task = asyncio.ensure_future(alice.invite(bob.node_id, b"offer-sdp", bundle="session"))
        inv = await next_event(bob, "invite")
        assert inv["data"] == b"offer-sdp" and inv["bundle"] == "session"
        await bob.reply_invite(alice.node_id, inv["tid"], 0, b"answer-sdp")
        answer = await asyncio.wait_for(reply_task, 10)
        assert answer["status"] == 0 and answer["data"] == b"answer-sdp"

        # garbage on both sockets is dropped with its reason; the node keeps working
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=("127.0.0.1", bob.udp_port))
        udp.sendto(b"\x00" * 10)  # too short
        udp.sendto(alice.node_id + bytes(24) + bytes(40))  # a box that does not open
        udp.close()
        r, w = await asyncio.open_connection("127.0.0.1", bob.tcp_port)
        w.write(b"\x00\x00\x00\x20" + bytes(32))  # not a handshake message of any peer
        await w.drain()
        assert await r.read() == b""  # bob closes the connection
        w.close()
        await asyncio.sleep(0.1)
        assert bob.rejected["DHT_PACKET_MALFORMED"] == 1 and bob.rejected["DHT_PACKET_DECRYPT"] == 1
        assert await alice.send_message(bob.node_id, b"still there?") == "delivered"
        assert (await next_event(bob, "message"))["data"] == b"still there?"

        # a stranger's message is refused by the receiver, which stays up
        s = await carol.connect(bob.node_id)
        await carol.send_packet(s, {"type": 33, "id": 1, "msg": b"spam"})
        for _ in range(50):
            if bob.rejected["FRIEND_NOT_FRIEND"]:
                break
            await asyncio.sleep(0.05)
        assert bob.rejected["FRIEND_NOT_FRIEND"] == 1 and bob.events.empty()

        # a node whose DID is deactivated gets no session
        mallory = CarrierNode(config("mallory", bootstrap=seed_list), dids, clock)
        await mallory.start()
        dids.table[did_of("mallory")] = (2, dids.table[did_of("mallory")][1])
        with pytest.raises(ConnectionError):
            await mallory.connect(bob.node_id, ("127.0.0.1", bob.tcp_port))
        assert bob.rejected["BINDING_DID_NOT_VALID"] == 1
        await mallory.stop()

        # bob goes offline; alice's message waits on the relay, sealed; bob comes back and pulls it
        friends_of_bob = bob.friends
        await bob.stop()
        alice.sessions.pop(bob.node_id, None)
        alice.peers.pop(bob.node_id, None)
        for n in (boot, relay, carol):
            n.peers.pop(bob.node_id, None)
        assert await alice.send_message(bob.node_id, b"while you were away") == "relayed"
        stored = relay.store.mailbox(bob.node_id).items
        assert len(stored) == 1 and b"while you were away" not in stored[0].blob
        bob = CarrierNode(config("bob", bootstrap=seed_list, relay=relay_at), dids, clock)
        bob.friends = friends_of_bob
        await bob.start()
        nodes["bob"] = bob
        assert await bob.pull_relay() == 1
        offline = await next_event(bob, "message")
        assert offline == {"event": "message", "peer": alice.node_id, "data": b"while you were away", "offline": True}
        await asyncio.sleep(0.2)
        assert relay.store.mailbox(bob.node_id).items == ()
    finally:
        for n in list(nodes.values()) + [relay, boot]:
            await n.stop()


def test_nodes_on_loopback():
    asyncio.run(asyncio.wait_for(scenario(), 120))


async def ten_nodes() -> None:
    dids = Dids()
    labels = [f"n{i}" for i in range(10)]
    for label in labels:
        dids.publish(label)
    nodes = [CarrierNode(config(labels[0]), dids, lambda: NOW)]
    await nodes[0].start()
    seed_list = [(nodes[0].node_id, "127.0.0.1", nodes[0].udp_port)]
    try:
        for label in labels[1:]:
            n = CarrierNode(config(label, bootstrap=seed_list), dids, lambda: NOW)
            await n.start()
            nodes.append(n)
        for n in nodes:
            await n.announce()
        for a in nodes:  # every node finds every other node's session port through the DHT
            for b in nodes:
                if a is not b:
                    a.peers.pop(b.node_id, None)
                    assert await a.find_peer(b.node_id) == ("127.0.0.1", b.tcp_port)
        # values: immutable by content hash, mutable by owner with rising sequence numbers
        from spec.carrier import dht as D
        imm = D.Value(data=b"a value anyone can check")
        assert await nodes[3].put_value(imm) >= 1
        assert await nodes[7].get_value(D.value_id(imm)) == imm
        v1 = D.sign_value(seed(labels[2]), bytes(24), 1, b"version 1")
        v2 = D.sign_value(seed(labels[2]), bytes(24), 2, b"version 2")
        assert await nodes[2].put_value(v1) >= 1
        assert await nodes[2].put_value(v2, cas=1) >= 1
        assert await nodes[2].put_value(v1) == 0  # every holder refuses the older sequence number
        assert (await nodes[9].get_value(D.value_id(v2))) == v2
        first, last = nodes[0], nodes[-1]
        await first.add_friend(last.address, "hi")
        await next_event(last, "friend_request")
        await last.accept_friend(first.node_id)
        await next_event(first, "friend_added")
        assert await first.send_message(last.node_id, b"across the devnet") == "delivered"
        assert (await next_event(last, "message"))["did"] == did_of(labels[0])
    finally:
        for n in nodes:
            await n.stop()


def test_ten_nodes_find_each_other():
    asyncio.run(asyncio.wait_for(ten_nodes(), 180))


class StallingNode(CarrierNode):
    """A node that stops reading a session once a bulk transfer on it is under way, so that a test
    can stop it in the middle of the transfer however fast the transfer is."""

    def _bulk(self, s, packets) -> None:
        super()._bulk(s, packets)
        if self.bulk.transfers:
            s.transport.pause_reading()


async def killed_mid_bulk() -> None:
    dids, alice, bob = await started_friends(StallingNode)
    try:
        big = hashlib.sha256(b"big").digest() * (4 * 1024 * 1024 // 32)
        sending = asyncio.ensure_future(alice.send_message(bob.node_id, big, timeout=20))
        while not bob.bulk.transfers:  # bob has some of the chunks (and stopped reading)
            await asyncio.sleep(0.01)
        assert 0 < bob.bulk.transfers[0].received < len(big)
        friends_of_bob = bob.friends
        await bob.stop()  # killed in the middle of the transfer
        with pytest.raises((ConnectionError, OSError, asyncio.TimeoutError)):
            await sending  # never acknowledged: the sender knows it was not delivered
        bob = CarrierNode(config("bob", tcp_port=alice.peers[bob.node_id][1]), dids, lambda: NOW)
        bob.friends = friends_of_bob
        await bob.start()
        assert bob.bulk.transfers == ()
        alice.sessions.pop(bob.node_id, None)
        assert await alice.send_message(bob.node_id, big, timeout=60) == "delivered"
        assert (await next_event(bob, "message", 60))["data"] == big
    finally:
        await alice.stop()
        await bob.stop()


def test_node_killed_mid_bulk_transfer():
    asyncio.run(asyncio.wait_for(killed_mid_bulk(), 180))
