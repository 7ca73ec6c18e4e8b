"""The Runtime on a real Carrier node: two users on two devices, each runtime with its own
:class:`reference.carrier.node.CarrierNode` on loopback (UDP DHT, Noise IK sessions with DID
bindings), become friends by DID; the sandboxed chat app (``reference/runtime/apps/chat.wat``) on
one sends a message that the chat app on the other receives. An app that tries to reach a DID
that is not a verified friend is stopped by the runtime (RT-074) and nothing reaches the network."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spec.errors import Reason

from reference.carrier.node import NodeConfig
from reference.runtime.carrier_node import NodeCarrier
from reference.runtime.sandbox import Runtime, compile_wat
from reference.runtime.world import World

APPS = Path(__file__).resolve().parents[1] / "reference" / "runtime" / "apps"
NOW = 1_750_000_000
PERMS = ("carrier.send", "carrier.receive")


def wait_for(check: Callable[[], object], timeout: float = 10.0) -> object:
    end = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)
    return value


@pytest.fixture(scope="module")
def world() -> World:
    w = World(b"integration-carrier")
    for label in ("alice", "bob", "stranger", "relay"):
        w.publish_carrier(label)
    w.did("developer"), w.did("chat")
    return w


def node(world: World, label: str, bootstrap: NodeCarrier | None = None, *, relay: NodeCarrier | None = None,
         state: Path | None = None, is_relay: bool = False) -> NodeCarrier:
    seed, nospam = world.node_seed(label)
    boot = [] if bootstrap is None else [(bootstrap.node.node_id, "127.0.0.1", bootstrap.node.udp_port)]
    cfg = NodeConfig(seed=seed, nospam=nospam, did=world.did(label), did_private_key=world.key(label), name=label,
                     bootstrap=boot, state_file=state,
                     relay=None if relay is None else (relay.node.node_id, "127.0.0.1", relay.node.tcp_port))
    return NodeCarrier(cfg, world.carrier_resolve, relay=is_relay).start()


def befriend(world: World, a: NodeCarrier, b: NodeCarrier, a_label: str, b_label: str) -> None:
    a.add_friend(world.did(b_label), f"hi {b_label}")
    wait_for(lambda: world.did(a_label) in b.requests())
    b.accept(world.did(a_label))
    wait_for(lambda: world.did(b_label) in a.friend_dids())


@pytest.fixture
def nodes(world: World) -> Iterator[dict[str, NodeCarrier]]:
    alice = node(world, "alice")
    bob = node(world, "bob", alice)
    stranger = node(world, "stranger", alice)
    out = {"alice": alice, "bob": bob, "stranger": stranger}
    try:
        for n in out.values():
            n.announce()
        yield out
    finally:
        for n in out.values():
            n.stop()


def runtime(world: World, label: str, carrier: NodeCarrier, root: Path) -> Runtime:
    rt = Runtime(world.did(label), world.resolve, root / label, carrier, now=NOW)
    code = compile_wat((APPS / "chat.wat").read_text())
    rt.install(code, world.manifest("chat", code, permissions=PERMS),
               [[world.token("chat", "carrier:*", a, user=label)] for a in ("send", "receive")])
    return rt


def test_chat_through_real_carrier_nodes(world: World, nodes: dict[str, NodeCarrier], tmp_path: Path) -> None:
    alice, bob, stranger = nodes["alice"], nodes["bob"], nodes["stranger"]
    a_did, b_did, s_did, chat = (world.did(x) for x in ("alice", "bob", "stranger", "chat"))
    rt_a, rt_b = runtime(world, "alice", alice, tmp_path), runtime(world, "bob", bob, tmp_path)

    # before the nodes are friends, the runtime refuses: bob is no friend of alice
    assert rt_a.friends == frozenset()

    # friends by DID: alice's node asks the node bob's DID document names; bob accepts alice's DID
    alice.add_friend(b_did, "hi bob")
    assert wait_for(bob.requests) == [a_did]
    bob.accept(a_did)
    wait_for(lambda: b_did in alice.friend_dids())
    assert rt_a.friends == {b_did} and rt_b.friends == {a_did}

    # alice's chat app sends; bob's chat app receives, with alice's DID as the sender
    rt_a.write_input(chat, 4096, b_did.encode())
    r = rt_a.run(chat, "send", len(b_did))
    assert r.ok and r.value == 0
    alice.flush()
    assert alice.outcomes == [(b_did, "delivered")]
    assert alice.node.sessions[bob.node.node_id].did == b_did  # a Noise IK session bound to bob's DID
    wait_for(lambda: rt_b.pump())
    got = rt_b.run(chat, "poll")
    assert got.ok and got.value == len(a_did) + 1 + 15
    assert rt_b.apps[chat].logs == [f"{a_did}\nhello from chat"]
    assert rt_b.run(chat, "poll").value == -1
    assert rt_a.apps[chat].audit == [("carrier_send", "allow")]

    # bob answers through the same session, the other way
    rt_b.write_input(chat, 4096, a_did.encode())
    assert rt_b.run(chat, "send", len(a_did)).value == 0
    bob.flush()
    wait_for(lambda: rt_a.pump())
    assert rt_a.run(chat, "poll").ok and rt_a.apps[chat].logs == [f"{b_did}\nhello from chat"]

    # a DID that resolves valid and has a live node, but is no friend: refused by the runtime, nothing sent
    before = list(alice.outcomes)
    rt_a.write_input(chat, 4096, s_did.encode())
    refused = rt_a.run(chat, "send", len(s_did))
    assert not refused.ok and (refused.reason, refused.rule) == (Reason.NET_NOT_FRIEND, "RT-074")
    assert rt_a.apps[chat].stopped is refused and rt_a.run(chat, "poll") is refused
    alice.flush()
    assert alice.outcomes == before
    assert stranger.node.node_id not in alice.node.sessions
    assert stranger.node.sessions == {} and stranger.events == [] and stranger.receive(s_did) == []
    assert not stranger.node.rejected  # not even a handshake was tried

    # bob's app is untouched and still talks
    rt_b.write_input(chat, 4096, a_did.encode())
    assert rt_b.run(chat, "send", len(a_did)).value == 0
    bob.flush()
    assert bob.outcomes == [(a_did, "delivered"), (a_did, "delivered")]


def test_runtime_refuses_a_node_friend_whose_did_is_deactivated(nodes: dict[str, NodeCarrier], tmp_path: Path) -> None:
    """The runtime's own DID check stays in force when the node calls the peer a friend."""
    w = World(b"integration-carrier")
    for label in ("alice", "bob", "stranger"):
        w.publish_carrier(label)
    alice, bob = nodes["alice"], nodes["bob"]
    a_did, b_did, chat = w.did("alice"), w.did("bob"), w.did("chat")
    alice.add_friend(b_did)
    wait_for(bob.requests)
    bob.accept(a_did)
    wait_for(lambda: b_did in alice.friend_dids())
    rt_a = runtime(w, "alice", alice, tmp_path)
    w.deactivate("bob")  # on the runtime's resolver; the nodes' session stays up
    rt_a.write_input(chat, 4096, b_did.encode())
    r = rt_a.run(chat, "send", len(b_did))
    assert not r.ok and (r.reason, r.rule) == (Reason.NET_PEER_DEACTIVATED, "RT-072")
    alice.flush()
    assert alice.outcomes == []


def test_node_carrier_speaks_only_for_its_own_did(world: World, nodes: dict[str, NodeCarrier]) -> None:
    alice = nodes["alice"]
    with pytest.raises(ValueError):
        alice.send(world.did("bob"), world.did("alice"), b"forged sender")
    assert alice.receive(world.did("bob")) == []
    alice.send(world.did("alice"), world.did("bob"), b"not a friend yet")
    assert alice.outcomes == [(world.did("bob"), "no friend node")]


def test_cli_app_demo_network(capsys: pytest.CaptureFixture[str]) -> None:
    """``elastos app demo --network``: the chat goes through two Carrier nodes, the notes sync through a vault."""
    from reference.cli import main

    assert main(["app", "demo", "--network"]) == 0
    out = capsys.readouterr().out
    assert "through two Carrier nodes on loopback  friend's chat logged ['did:elastos:" in out
    assert "hello from chat" in out
    assert "laptop pulled [('download', 'notes/today.txt')]: ['notes/today.txt']" in out
    assert "NET_NOT_FRIEND [RT-074]" in out


def test_message_to_an_offline_friend_goes_through_the_relay(world: World, tmp_path: Path) -> None:
    """Bob's node is down when alice's chat app sends: the node seals the message for bob and leaves it on
    the relay; bob's node comes back (friends and peer DIDs restored from its state), pulls it, and
    bob's runtime hands it to the chat app with alice's DID as the sender."""
    a_did, b_did, chat = world.did("alice"), world.did("bob"), world.did("chat")
    relay = node(world, "relay", is_relay=True)
    alice = node(world, "alice", relay, relay=relay, state=tmp_path / "alice-state.json")
    bob = node(world, "bob", relay, relay=relay, state=tmp_path / "bob-state.json")
    bob_again = None
    try:
        for n in (alice, bob):
            n.announce()
        befriend(world, alice, bob, "alice", "bob")
        bob.stop()
        wait_for(lambda: bob.node.node_id not in alice.node.sessions)
        rt_a = runtime(world, "alice", alice, tmp_path)
        rt_a.write_input(chat, 4096, b_did.encode())
        assert rt_a.run(chat, "send", len(b_did)).value == 0
        alice.flush()
        assert alice.outcomes == [(b_did, "relayed")]

        bob_again = node(world, "bob", relay, relay=relay, state=tmp_path / "bob-state.json")
        assert bob_again.friend_dids() == {a_did}  # restored: the friendship and the DID alice's session proved
        rt_b = runtime(world, "bob", bob_again, tmp_path)
        assert bob_again.pull_relay() == 1
        wait_for(lambda: rt_b.pump())
        assert rt_b.run(chat, "poll").ok and rt_b.apps[chat].logs == [f"{a_did}\nhello from chat"]
    finally:
        for n in (alice, bob_again, relay):
            if n is not None:
                n.stop()


def test_node_carrier_that_cannot_start_leaves_no_thread(world: World, tmp_path: Path) -> None:
    import threading

    before = threading.active_count()
    state = tmp_path / "state.json"
    state.write_text("{not json")
    seed, nospam = world.node_seed("alice")
    cfg = NodeConfig(seed=seed, nospam=nospam, did=world.did("alice"), did_private_key=world.key("alice"),
                     state_file=state)
    with pytest.raises(ValueError):
        NodeCarrier(cfg, world.carrier_resolve)
    assert threading.active_count() == before


def test_inbound_through_the_node_is_admitted_by_the_runtime(nodes: dict[str, NodeCarrier], tmp_path: Path) -> None:
    """A message the node accepted from a friend still passes the runtime's own inbound check: once the
    runtime's resolver marks the sender deactivated, the runtime refuses what the node delivers. A long
    message (a Carrier bulk transfer) arrives whole."""
    w = World(b"integration-carrier")
    for label in ("alice", "bob", "stranger"):
        w.publish_carrier(label)
    alice, bob = nodes["alice"], nodes["bob"]
    a_did, b_did, chat = w.did("alice"), w.did("bob"), w.did("chat")
    befriend(w, alice, bob, "alice", "bob")
    rt_b = runtime(w, "bob", bob, tmp_path)
    long = bytes(range(256)) * 40  # 10240 bytes: a bulk message on the wire
    alice.send(a_did, b_did, chat.encode() + b"\n" + long)
    alice.flush()
    assert alice.outcomes == [(b_did, "delivered")]
    wait_for(lambda: rt_b.pump())
    assert list(rt_b.apps[chat].messages) == [(a_did, long)]

    w.deactivate("alice")
    alice.send(a_did, b_did, chat.encode() + b"\nafter deactivation")
    alice.flush()
    assert alice.outcomes[-1] == (b_did, "delivered")  # the node knows nothing of the runtime's resolver
    wait_for(lambda: rt_b.pump() == 0 and rt_b.inbound_refused)
    assert rt_b.inbound_refused == [(a_did, Reason.NET_PEER_DEACTIVATED)]
    assert list(rt_b.apps[chat].messages) == [(a_did, long)]
