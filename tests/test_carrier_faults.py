"""Carrier's fault catalogue on loopback (issue 6, "Bad input and faults").

Each test puts a real node (``reference.carrier.node``) in front of one fault sent over real
sockets: a malformed or oversize packet, a wrong MAC, a replayed or reordered frame, a replayed DHT
datagram, a forged binding, a flood of friend requests, a full relay and a relay that drops what it
is sent. Each checks the reason the node counted, that nothing else changed, and that the node stays
up: afterwards a friend's message still arrives. The raw peer below speaks the session protocol
with the spec's own functions, so it can send what a correct node never would.

Killing a real process in the middle of a bulk transfer, and a relay killed right after it
acknowledged a store, are in ``test_carrier_kill.py``."""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any

import pytest

from spec.carrier import binding as B
from spec.carrier import dht as D
from spec.carrier import friends as F
from spec.carrier import identity as I
from spec.carrier import messages as M
from spec.carrier import noise as N
from spec.carrier import relay as R
from spec.carrier import session as S
from spec.encoding.cbor import cbor_encode
from spec.errors import Reason, Reject

from conformance.generators.carrier import did_key, did_of, nospam, seed
from reference.carrier import node as node_module
from reference.carrier.node import CarrierNode, RelayNode
from test_carrier_node import NOW, Dids, config, next_event, proxy


def binding_of(label: str, did_label: str | None = None, did_signer: str | None = None) -> B.Binding:
    """``label``'s binding; a forgery names another DID and may be signed by another DID key."""
    did = did_of(did_label or label)
    address = I.make_address(I.node_id_of(seed(label)), nospam(label))
    return B.sign_binding(did, address, f"{did}#primary", NOW - 60, NOW + 86400,
                          did_key(did_signer or did_label or label), seed(label))


class RawPeer:
    """One session to a node, driven by hand: frames are sealed with the spec and written as the
    node writes them (``length u32 BE || frame``), or written damaged."""

    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter, send: S.TransportState,
                 recv: S.TransportState) -> None:
        self.r, self.w, self.send, self.recv = r, w, send, recv

    @classmethod
    async def dial(cls, label: str, to: CarrierNode, binding: B.Binding | None = None) -> "RawPeer":
        r, w = await asyncio.open_connection("127.0.0.1", to.tcp_port)
        hs = S.start_handshake("IK", True, seed(label), os.urandom(32), to.node_id)
        hs, m1 = N.write_message(hs, S.binding_payload(binding or binding_of(label)))
        w.write(struct.pack(">I", len(m1)) + m1)
        await w.drain()
        (size,) = struct.unpack(">I", await asyncio.wait_for(r.readexactly(4), 10))
        hs, _ = N.read_message(hs, await r.readexactly(size))
        send, recv = S.transport_pair(hs)
        return cls(r, w, send, recv)

    def frame(self, plaintext: bytes) -> bytes:
        self.send, f = S.seal_frame(self.send, plaintext)
        return f

    async def write(self, frame: bytes) -> None:
        self.w.write(struct.pack(">I", len(frame)) + frame)
        await self.w.drain()

    async def packet(self, value: dict[str, Any]) -> None:
        await self.write(self.frame(cbor_encode(value)))

    async def closed(self) -> bool:
        """True when the node closed the connection (it reads nothing more from it)."""
        try:
            return await asyncio.wait_for(self.r.read(), 10) == b""
        except ConnectionError:
            return True


async def until(predicate, what: str, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not seen within {timeout} s: {what}")


def request(to: str, hello: str = "hi") -> dict[str, Any]:
    return {"type": 6, "name": "", "descr": "", "hello": hello, "nospam": nospam(to)}


class Pair:
    """bob (the node under test) and carol (his friend), both real nodes on loopback."""

    def __init__(self, *extra: str) -> None:
        self.dids = Dids()
        for label in ("bob", "carol", "alice", "mallory", *extra):
            self.dids.publish(label)

    async def __aenter__(self) -> "Pair":
        clock = lambda: NOW  # noqa: E731 - the documents and bindings are made for this time
        self.bob = CarrierNode(config("bob"), self.dids, clock)
        self.carol = CarrierNode(config("carol"), self.dids, clock)
        await self.bob.start()
        await self.carol.start()
        self.carol.peers[self.bob.node_id] = ("127.0.0.1", self.bob.tcp_port)
        self.bob.peers[self.carol.node_id] = ("127.0.0.1", self.carol.tcp_port)
        await self.carol.add_friend(self.bob.address, "hi bob")
        await next_event(self.bob, "friend_request")
        await self.bob.accept_friend(self.carol.node_id)
        await next_event(self.carol, "friend_added")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.carol.stop()
        await self.bob.stop()

    async def still_up(self, text: bytes = b"still there?") -> None:
        """bob still takes a friend's message and acknowledges it."""
        assert await self.carol.send_message(self.bob.node_id, text) == "delivered"
        assert (await next_event(self.bob, "message"))["data"] == text


def run(coro) -> None:
    asyncio.run(asyncio.wait_for(coro, 120))


# -- malformed and oversize ------------------------------------------------------------------------


def test_malformed_and_oversize_packets_in_a_session() -> None:
    """A packet that breaks a message rule is dropped with its reason; the session carries on."""
    async def go() -> None:
        async with Pair() as p:
            alice = await RawPeer.dial("alice", p.bob)
            await alice.write(alice.frame(b"\xff\x00 not CBOR"))
            await alice.write(alice.frame(cbor_encode({"type": 99})))  # no such packet type
            await alice.packet({"type": 6, "name": "", "descr": "", "nospam": nospam("bob")})  # hello missing
            await alice.packet(request("bob", "x" * 1017))  # longer than a friend request may be
            await until(lambda: sum(p.bob.rejected.values()) >= 4, "four rejects")
            assert p.bob.rejected["CBOR_MALFORMED"] + p.bob.rejected["CBOR_UNSUPPORTED"] == 1
            assert p.bob.rejected["CARRIER_MSG_UNKNOWN_TYPE"] == 1
            assert p.bob.rejected["CARRIER_MSG_MALFORMED"] == 1
            assert p.bob.rejected["CARRIER_MSG_TOO_LARGE"] == 1
            assert p.bob.friends.state(I.node_id_of(seed("alice"))) is None and p.bob.events.empty()
            await alice.packet(request("bob", "hello after the garbage"))  # the same session still works
            assert (await next_event(p.bob, "friend_request"))["hello"] == "hello after the garbage"
            await p.bob.accept_friend(I.node_id_of(seed("alice")))
            await alice.packet({"type": 33, "id": 1, "msg": bytes(M.MAX_MESSAGE + 1)})  # an oversize message
            await until(lambda: p.bob.rejected["CARRIER_MSG_TOO_LARGE"] == 2, "oversize message refused")
            assert p.bob.events.empty()
            await p.still_up()
    run(go())


def test_oversize_frame_announced() -> None:
    """A frame longer than a Noise message can be ends the session before a byte of it is read."""
    async def go() -> None:
        async with Pair() as p:
            alice = await RawPeer.dial("alice", p.bob)
            alice.w.write(struct.pack(">I", node_module.MAX_FRAME + 1) + bytes(64))
            assert await alice.closed()
            await until(lambda: p.bob.rejected["TRANSPORT_FRAME_MALFORMED"] == 1, "frame refused")
            short = await RawPeer.dial("alice", p.bob)  # a frame too short for its counter and tag
            await short.write(bytes(20))
            assert await short.closed()
            assert p.bob.rejected["TRANSPORT_FRAME_MALFORMED"] == 2
            await p.still_up()
    run(go())


def test_oversize_and_replayed_dht_datagrams() -> None:
    async def go() -> None:
        async with Pair() as p:
            loop = asyncio.get_running_loop()
            got: list[bytes] = []

            class Catch(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: Any) -> None:
                    got.append(data)

            udp, _ = await loop.create_datagram_endpoint(Catch, local_addr=("127.0.0.1", 0))
            try:
                alice = I.node_id_of(seed("alice"))
                udp.sendto(alice + bytes(24) + bytes(D.MAX_PACKET), ("127.0.0.1", p.bob.udp_port))
                ping = M.encode_message("dht", {"y": 0x21, "t": 7, "v": 1, "q": {}})
                packet = D.seal_packet(seed("alice"), p.bob.node_id, os.urandom(D.NONCE_SIZE), ping)
                udp.sendto(packet, ("127.0.0.1", p.bob.udp_port))
                await until(lambda: len(got) == 1, "the ping answered")
                udp.sendto(packet, ("127.0.0.1", p.bob.udp_port))  # the same datagram again
                await until(lambda: p.bob.rejected["DHT_NONCE_REPLAY"] == 1, "replay refused")
                await asyncio.sleep(0.1)
                assert len(got) == 1 and p.bob.rejected["DHT_PACKET_MALFORMED"] == 1
                _, _, kind, reply = D.open_packet(seed("alice"), got[0])
                assert kind == "dht.response.ping" and reply["t"] == 7
            finally:
                udp.close()
            await p.still_up()
    run(go())


# -- wrong MAC, replay, reordering -----------------------------------------------------------------


@pytest.mark.parametrize("fault, reason", [
    ("wrong_mac", "NOISE_DECRYPT_FAILED"),
    ("replay", "TRANSPORT_REPLAY"),
    ("reorder", "TRANSPORT_REORDER"),
])
def test_damaged_frames_end_the_session_only(fault: str, reason: str) -> None:
    """A frame that fails ends its session (its stream can no longer be trusted); what came before
    it was taken exactly once, and the node keeps serving everyone else."""
    async def go() -> None:
        async with Pair() as p:
            alice = await RawPeer.dial("alice", p.bob)
            first = alice.frame(cbor_encode(request("bob", "only once")))
            await alice.write(first)
            assert (await next_event(p.bob, "friend_request"))["hello"] == "only once"
            if fault == "wrong_mac":
                f = alice.frame(cbor_encode(request("bob")))
                await alice.write(f[:-1] + bytes([f[-1] ^ 0x01]))
            elif fault == "replay":
                await alice.write(first)
            else:
                alice.frame(cbor_encode(request("bob")))  # sealed, never sent: the next one skips it
                await alice.write(alice.frame(cbor_encode(request("bob"))))
            assert await alice.closed()
            await until(lambda: p.bob.rejected[reason] == 1, reason)
            assert p.bob.events.empty()  # the replayed request did not come through twice
            assert p.bob.friends.state(I.node_id_of(seed("alice"))) == F.PENDING
            await p.still_up()
            again = await RawPeer.dial("alice", p.bob)  # a new session is welcome
            await again.packet({"type": 7})
            assert (await next_event(p.bob, "friend_removed"))["peer"] == I.node_id_of(seed("alice"))
    run(go())


# -- forged bindings -------------------------------------------------------------------------------


@pytest.mark.parametrize("forgery, reason", [
    ("stolen", "SESSION_PEER_MISMATCH"),       # alice's genuine binding presented by mallory's key
    ("other_did", "BINDING_NO_SERVICE"),       # mallory's node claims alice's DID
    ("tampered", "BINDING_NODE_SIGNATURE"),    # mallory's binding with a changed expiry
    ("deactivated", "BINDING_DID_NOT_VALID"),  # mallory's own binding, DID deactivated
])
def test_forged_or_unbacked_bindings_get_no_session(forgery: str, reason: str) -> None:
    async def go() -> None:
        async with Pair() as p:
            if forgery == "stolen":
                b = binding_of("alice")
            elif forgery == "other_did":
                b = binding_of("mallory", did_label="alice", did_signer="mallory")
            elif forgery == "tampered":
                b = binding_of("mallory").model_copy(update={"expires": NOW + 10 * 86400})
            else:
                b = binding_of("mallory")
                p.dids.table[did_of("mallory")] = (2, p.dids.table[did_of("mallory")][1])
            with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
                await RawPeer.dial("mallory", p.bob, binding=b)
            await until(lambda: p.bob.rejected[reason] == 1, reason)
            assert I.node_id_of(seed("mallory")) not in p.bob.sessions
            assert I.node_id_of(seed("alice")) not in p.bob.sessions
            await p.still_up()
    run(go())


# -- a flood of friend requests --------------------------------------------------------------------


def test_flood_of_friend_requests() -> None:
    """70 strangers ask at once: 64 wait, the rest are refused with CAR-055; one stranger asking
    again and again holds one place; the node keeps serving its friend."""
    labels = [f"flood-{i}" for i in range(70)]

    async def go() -> None:
        async with Pair(*labels) as p:
            peers = await asyncio.gather(*(RawPeer.dial(x, p.bob) for x in labels))
            first = I.node_id_of(seed(labels[0]))
            await peers[0].packet(request("bob", f"from {labels[0]}"))
            await until(lambda: p.bob.friends.state(first) == F.PENDING, "the first request waiting")
            for peer, label in zip(peers[1:], labels[1:]):
                await peer.packet(request("bob", f"from {label}"))
            for _ in range(20):  # the first one floods alone
                await peers[0].packet(request("bob", "again"))
            await until(lambda: p.bob.rejected["FRIEND_REQUEST_LIMIT"] == 70 - F.MAX_PENDING, "limit reached")
            await asyncio.sleep(0.2)
            assert p.bob.rejected["FRIEND_REQUEST_LIMIT"] == 70 - F.MAX_PENDING  # the repeats cost nothing
            pending = [x for x, st in p.bob.friends.peers if st == F.PENDING]
            assert len(pending) == F.MAX_PENDING
            assert p.bob.events.qsize() == F.MAX_PENDING  # one event per stranger taken
            await p.still_up()
            await p.bob.accept_friend(first)  # a place is freed by accepting
            late = await RawPeer.dial("alice", p.bob)
            await late.packet(request("bob", "late"))
            await until(lambda: any(e.get("hello") == "late" for e in list(p.bob.events._queue)), "late request")
    run(go())


# -- the relay: full, or dropping what it is sent --------------------------------------------------


class DroppingRelay(RelayNode):
    """A relay that takes store requests and keeps (and acknowledges) nothing."""

    def _dispatch_relay(self, s, kind: str, p: dict[str, Any]) -> None:
        if kind != "relay_store":
            super()._dispatch_relay(s, kind, p)


@pytest.mark.parametrize("relay_kind", ["full", "dropping"])
def test_relay_full_or_dropping(relay_kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store the relay does not acknowledge is never reported as relayed: the sender gets an
    error and still has the message; what the relay acknowledged before stays; the relay stays up.
    A full relay says so at once (relay_refused, RELAY_MAILBOX_FULL [CAR-072]), well before the
    store's timeout; a relay that drops the store leaves the sender to time out."""
    monkeypatch.setattr(node_module, "RPC_TIMEOUT", 0.5)
    timeout = node_module.RPC_TIMEOUT * 3  # what an unanswered store waits

    async def go() -> None:
        dids = Dids()
        for label in ("relay", "alice", "bob", "filler"):
            dids.publish(label)
        clock = lambda: NOW  # noqa: E731
        relay = (RelayNode if relay_kind == "full" else DroppingRelay)(config("relay"), dids, clock)
        await relay.start()
        at = (relay.node_id, "127.0.0.1", relay.tcp_port)
        alice = CarrierNode(config("alice", relay=at), dids, clock)
        bob = CarrierNode(config("bob", relay=at), dids, clock)
        await alice.start()
        await bob.start()
        try:
            alice.peers[bob.node_id] = ("127.0.0.1", bob.tcp_port)
            await alice.add_friend(bob.address, "hi")
            await next_event(bob, "friend_request")
            await bob.accept_friend(alice.node_id)
            await next_event(alice, "friend_added")
            if relay_kind == "full":
                filler = I.node_id_of(seed("filler"))
                for _ in range(R.MAX_ITEMS):  # bob's mailbox is full before alice writes
                    relay.store, _ = R.store(relay.store, bob.node_id, filler, os.urandom(64), NOW)
            held = relay.store.mailbox(bob.node_id).items
            friends_of_bob = bob.friends
            await bob.stop()
            alice.sessions.pop(bob.node_id, None)
            alice.peers[bob.node_id] = ("127.0.0.1", 1)  # bob's port is closed now
            loop = asyncio.get_running_loop()
            started = loop.time()
            if relay_kind == "full":
                with pytest.raises(Reject) as refused:
                    await alice.send_message(bob.node_id, b"please keep this")
                took = loop.time() - started
                assert (refused.value.reason, refused.value.rule) == (Reason.RELAY_MAILBOX_FULL, "CAR-072")
                assert took < timeout / 2, f"the refusal took {took:.3f} s, the timeout is {timeout} s"
                assert relay.rejected["RELAY_MAILBOX_FULL"] == 1
            else:
                with pytest.raises(asyncio.TimeoutError):
                    await alice.send_message(bob.node_id, b"please keep this")
                assert loop.time() - started >= timeout * 0.9  # silence: only the timeout tells
            assert relay.store.mailbox(bob.node_id).items == held  # nothing lost, nothing half-stored
            # the relay stays up: bob comes back, pulls and deletes; the message is sent again, directly
            bob = CarrierNode(config("bob", relay=at), dids, clock)
            bob.friends = friends_of_bob
            await bob.start()
            assert await bob.pull_relay() == 0  # the filler's blobs do not open: not from a friend
            await until(lambda: relay.store.mailbox(bob.node_id).items == (), "mailbox emptied")
            alice.peers[bob.node_id] = ("127.0.0.1", bob.tcp_port)
            assert await alice.send_message(bob.node_id, b"please keep this") == "delivered"
            assert (await next_event(bob, "message"))["data"] == b"please keep this"
        finally:
            for n in (alice, bob, relay):
                await n.stop()
    run(go())


# -- no body in plaintext on the wire --------------------------------------------------------------


def test_no_plaintext_on_the_wire() -> None:
    """A recording proxy between two nodes sees every byte of the TCP stream, handshake included:
    no message body, friend request text, name, DID or binding appears in it."""
    async def go() -> None:
        async with Pair() as p:
            record: list[bytes] = []
            tap = await proxy(("127.0.0.1", p.bob.tcp_port), record)
            alice = CarrierNode(config("alice"), p.dids, lambda: NOW)
            await alice.start()
            try:
                alice.peers[p.bob.node_id] = ("127.0.0.1", tap.sockets[0].getsockname()[1])
                await alice.add_friend(p.bob.address, "a private hello")
                await next_event(p.bob, "friend_request")
                await p.bob.accept_friend(alice.node_id)
                await next_event(alice, "friend_added")
                body = b"a private message body"
                bulk = os.urandom(16) * 200
                assert await alice.send_message(p.bob.node_id, body) == "delivered"
                assert await alice.send_message(p.bob.node_id, bulk) == "delivered"
                await next_event(p.bob, "message")
                await next_event(p.bob, "message")
                wire = b"".join(record)
                assert len(wire) > len(bulk)
                secrets = [body, bulk[:32], b"a private hello", b"alice", did_of("alice").encode(), did_of("bob").encode(),
                           cbor_encode(B.binding_to_cbor(alice.binding))[:40], alice.binding.node_signature]
                for secret in secrets:
                    assert secret not in wire, secret
            finally:
                tap.close()
                await alice.stop()
    run(go())
