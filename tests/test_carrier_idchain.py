"""Carrier nodes that resolve DIDs from the reference ID-chain service over JSON-RPC: friends by
DIDs published on the chain; once a DID is deactivated on the chain, its node gets no new session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spec.carrier import binding as B
from spec.carrier import identity as I
from spec.did import request as R
from spec.did.syntax import parse_did_url

from conformance.generators.carrier import did_key, did_of, nospam, seed
from reference.carrier.node import CarrierNode, NodeConfig
from reference.carrier.service import ChainResolver
from reference.idchain.rpc import RpcServer
from reference.idchain.service import IdChainService
from reference.node.rpc import RpcClient

NOW = 1_800_000_000


def _publish(rpc: RpcClient, op: str, label: str, block_time: int) -> None:
    address = I.make_address(I.node_id_of(seed(label)), nospam(label))
    payload = (B.carrier_document(did_key(label), (address,), NOW + 365 * 86400, NOW - 86400) if op == "create"
               else did_of(label))
    req = R.build_request(op, payload, parse_did_url(f"{did_of(label)}#primary"), did_key(label))
    rpc.call("did_publishRequest", {"request": R.serialize(req), "block_time": block_time})


async def scenario(url: str, rpc: RpcClient) -> None:
    nodes = []
    for label in ("alice", "bob"):
        n = CarrierNode(NodeConfig(seed=seed(label), nospam=nospam(label), did=did_of(label),
                                   did_private_key=did_key(label)), ChainResolver(url, ttl=0), lambda: NOW)
        await n.start()
        nodes.append(n)
    alice, bob = nodes
    alice.peers[bob.node_id] = ("127.0.0.1", bob.tcp_port)
    try:
        await alice.add_friend(bob.address, "hi")
        ev = await asyncio.wait_for(bob.events.get(), 10)
        assert ev["event"] == "friend_request" and ev["did"] == did_of("alice")
        await bob.accept_friend(alice.node_id)
        assert (await asyncio.wait_for(alice.events.get(), 10))["did"] == did_of("bob")
        assert await alice.send_message(bob.node_id, b"over the chain's DIDs") == "delivered"

        _publish(rpc, "deactivate", "bob", NOW - 50)
        for s in list(alice.sessions.values()):
            s.transport.close()
        alice.sessions.clear()
        with pytest.raises(ConnectionError):
            await alice.connect(bob.node_id)
        assert alice.rejected["BINDING_DID_NOT_VALID"] == 1
    finally:
        for n in nodes:
            await n.stop()


def test_nodes_resolve_dids_on_the_id_chain(tmp_path: Path):
    service = IdChainService(tmp_path / "idc")
    server = RpcServer(service).start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        rpc = RpcClient(url)
        _publish(rpc, "create", "alice", NOW - 100)
        _publish(rpc, "create", "bob", NOW - 99)
        assert rpc.call("did_resolveDID", {"did": did_of("bob"), "all": False})["status"] == 0
        asyncio.run(asyncio.wait_for(scenario(url, rpc), 60))
    finally:
        server.stop()
        service.close()
