"""``elastos devnet``: two node processes on loopback, merged mining on node 1, node 2 follows over P2P."""

from __future__ import annotations

from reference.node.devnet import devnet
from reference.node.rpc import RpcClient


def test_devnet_two_nodes_agree(capsys) -> None:
    seen: dict = {}

    def inspect(clients: list[RpcClient]) -> None:
        seen["best"] = [c.call("getbestblockhash") for c in clients]
        seen["count"] = [c.call("getblockcount") for c in clients]
        seen["block"] = [c.call("getblock", seen["best"][0]) for c in clients]

    result = devnet(2, 4, "instant", timeout=90, inspect=inspect)  # returns as soon as node2 has the tip
    assert result["agreed"]
    assert seen["best"][0] == seen["best"][1]
    assert seen["count"] == [5, 5]
    assert seen["block"][0] == seen["block"][1] and seen["block"][0]["height"] == 4
    out = capsys.readouterr().out
    assert "all nodes agree on height 4" in out and out.count("mined height") == 4


def test_devnet_regnet_merged_mining(capsys) -> None:
    """Regnet difficulty: the merged miner grinds real work (about 2 million parent nonces per block)."""
    seen: dict = {}

    def inspect(clients: list[RpcClient]) -> None:
        seen["best"] = [c.call("getbestblockhash") for c in clients]
        seen["block"] = [c.call("getblock", seen["best"][0]) for c in clients]

    result = devnet(2, 1, "regnet", timeout=240, inspect=inspect)
    assert result["agreed"]
    assert seen["best"][0] == seen["best"][1]
    assert seen["block"][0] == seen["block"][1] and seen["block"][0]["height"] == 1
    assert seen["block"][0]["bits"] == 0x1F0008FF  # regnet's PowLimitBits, not instant's 0x207fffff
