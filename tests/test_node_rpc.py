"""JSON-RPC over real loopback HTTP, the merged miner, and the wallet helper (standard and multisig)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.node.miner import grind, mine
from reference.node.node import Node
from reference.node.rpc import RpcClient, RpcError, RpcServer, display
from reference.node import wallet
from spec.chain.auxpow import make_auxpow, with_parent_nonce
from spec.chain.block import decode_block
from spec.chain.params import INSTANT, genesis_block
from spec.chain.state import apply_block, genesis_state
from spec.chain.tx import decode_transaction


@pytest.fixture()
def served(tmp_path: Path):
    node = Node(tmp_path / "n", INSTANT)
    server = RpcServer(node).start()
    yield node, RpcClient(f"http://127.0.0.1:{server.port}")
    server.stop()
    node.close()


def test_chain_methods_and_merged_mining(served, tmp_path: Path) -> None:
    node, rpc = served
    g = genesis_block("instant")
    assert rpc.call("getblockcount") == 1
    assert rpc.call("getbestblockhash") == display(g.hash()) == rpc.call("getblockhash", 0)
    key = wallet.new_key(tmp_path / "k.json")
    addr = wallet.address_of_key(key)
    lines: list[str] = []
    mined = mine(rpc.url, addr, 3, log=lines.append)
    assert len(lines) == 3 and [m["height"] for m in mined] == [1, 2, 3]
    assert rpc.call("getblockcount") == 4
    best = rpc.call("getbestblockhash")
    assert best == mined[-1]["hash"] == rpc.call("getblockhash", 3)
    info = rpc.call("getblock", best)
    assert info["height"] == 3 and info["confirmations"] == 1 and len(info["tx"]) == 1
    raw = bytes.fromhex(rpc.call("getblock", best, 0))
    block = decode_block(raw)
    assert display(block.hash()) == best
    # the stored chain is what the spec's apply_block accepts
    state = genesis_state(INSTANT)
    for h in range(1, 4):
        state, _ = apply_block(state, decode_block(bytes.fromhex(rpc.call("getblock", rpc.call("getblockhash", h), 0))),
                               node.now())
    assert state.tip().hash == block.hash()
    cb_txid = info["tx"][0]
    assert decode_transaction(bytes.fromhex(rpc.call("getrawtransaction", cb_txid))).txid() == bytes.fromhex(cb_txid)[::-1]
    assert wallet.balance(rpc, addr) == sum(o.value for b in [block] for o in b.transactions[0].outputs[1:]) * 3


def test_errors_carry_codes_and_reasons(served) -> None:
    node, rpc = served
    with pytest.raises(RpcError) as e:
        rpc.call("getblock", "00" * 32)
    assert e.value.code == 44003
    with pytest.raises(RpcError) as e:
        rpc.call("nosuchmethod")
    assert e.value.code == -32601
    with pytest.raises(RpcError) as e:
        rpc.call("sendrawtransaction", "00ff")
    assert e.value.code == 43001 and e.value.reason
    # an AuxPoW that commits to another block is rejected with the spec's reason; nothing changes
    job = rpc.call("createauxblock", wallet.address_of_key((5).to_bytes(32, "big")))
    assert job["chainid"] == 1224 and job["height"] == 0 and job["previousblockhash"] == genesis_block("instant").hash().hex()
    bad = make_auxpow(bytes(32))
    with pytest.raises(RpcError) as e:
        rpc.call("submitauxblock", job["hash"], bad.serialize().hex())
    assert e.value.code == 45002 and e.value.reason and e.value.reason in e.value.message
    assert rpc.call("getblockcount") == 1
    # the job is not spoiled: the block hash does not cover the AuxPoW, so a good one for it is still taken
    auxpow = make_auxpow(bytes.fromhex(job["hash"]), job["chainid"])
    nonce = grind(auxpow, int(job["bits"], 16))
    assert nonce is not None
    rpc.call("submitauxblock", job["hash"], with_parent_nonce(auxpow, nonce).serialize().hex())
    assert rpc.call("getblockcount") == 2 and rpc.call("getbestblockhash") == display(bytes.fromhex(job["hash"]))


def test_wallet_send_standard_and_multisig_through_mempool(served, tmp_path: Path) -> None:
    node, rpc = served
    key = wallet.new_key(tmp_path / "a.json")
    addr = wallet.address_of_key(key)
    k2, k3 = (11).to_bytes(32, "big"), (12).to_bytes(32, "big")
    ms_addr = wallet.multisig_address(2, [k2, k3])
    mine(rpc.url, addr, 101, log=lambda s: None)
    txid = wallet.send(rpc, INSTANT, [key], ms_addr, 5_000_000, 10_000)
    assert txid in [display(t) for t in node.mempool.txs]
    # a conflicting spend of the same coin is refused by the pool
    with pytest.raises(RpcError) as e:
        wallet.send(rpc, INSTANT, [key], ms_addr, 5_000_000, 20_000)
    assert e.value.code == 43001 and e.value.reason == "TX_DOUBLE_SPEND"
    mine(rpc.url, addr, 1, log=lambda s: None)
    assert not node.mempool.txs
    assert rpc.call("getblock", rpc.call("getbestblockhash"))["tx"][1] == txid
    assert wallet.balance(rpc, ms_addr) == 5_000_000
    to = wallet.address_of_key((13).to_bytes(32, "big"))
    wallet.send(rpc, INSTANT, [k2, k3], to, 1_000_000, 10_000, m=2)
    mine(rpc.url, addr, 1, log=lambda s: None)
    assert wallet.balance(rpc, to) == 1_000_000
    assert wallet.balance(rpc, ms_addr) == 5_000_000 - 1_000_000 - 10_000


def test_cli_wallet_and_mine(served, tmp_path: Path, capsys) -> None:
    from reference.cli import main

    node, rpc = served
    kf, kf2 = tmp_path / "w.json", tmp_path / "w2.json"
    assert main(["wallet", "new", "--key", str(kf)]) == 0
    addr = capsys.readouterr().out.strip()
    assert main(["wallet", "address", "--key", str(kf)]) == 0
    assert capsys.readouterr().out.strip() == addr == wallet.address_of_key(wallet.load_key(kf))
    assert main(["wallet", "new", "--key", str(kf2)]) == 0
    addr2 = capsys.readouterr().out.strip()
    assert main(["mine", "--rpc", rpc.url, "--blocks", "101", "--address", addr]) == 0
    assert capsys.readouterr().out.count("mined height") == 101
    assert main(["wallet", "send", "--key", str(kf), "--to", addr2, "--amount", "1.5", "--fee", "0.0001",
                 "--rpc", rpc.url, "--network", "instant"]) == 0
    txid = capsys.readouterr().out.strip()
    assert main(["mine", "--rpc", rpc.url, "--address", addr]) == 0
    capsys.readouterr()
    assert rpc.call("getrawtransaction", txid)
    assert main(["wallet", "balance", "--key", str(kf2), "--rpc", rpc.url]) == 0
    assert capsys.readouterr().out.strip() == f"{addr2} 1.50000000 ELA"


def test_grind_finds_the_same_first_nonce_as_the_spec() -> None:
    from reference.node.miner import grind
    from spec.chain.builder import block_template, coinbase, solve

    bits = 0x2000FFFF   # about one nonce in 128 meets it
    blk = block_template(bytes(32), 1, 0, bits, [coinbase(1, INSTANT, bytes([0x21]) + bytes(20))])
    solved = solve(blk)
    nonce = grind(make_auxpow(blk.hash()), bits)
    assert nonce == solved.header.auxpow.par_block_header.nonce and nonce > 0
