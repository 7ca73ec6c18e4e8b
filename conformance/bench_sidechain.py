"""``make bench`` (sidechain part): a sidechain block with its SideAuxPow against a main-chain block of the
same size, in one run, and the deposit latency in blocks on an in-process devnet.

=============================================  ===============================================================
measure                                        how
=============================================  ===============================================================
side block vs main block                       :func:`spec.sidechain.validation.check_side_block` of a
                                               merge-mined sidechain block of ``--txs`` single-signature
                                               transfers (triple merge-mining check, proof of work, the
                                               transactions against an in-memory UTXO view) against
                                               ``check_block_sanity`` + ``check_block_context`` of a main
                                               block of the same number of transfers
                                               (:func:`conformance.bench_chain.build_block`); best of
                                               ``--rounds``, keys decoded cold each round
deposit latency                                a main node, a sidechain node and an arbiter on loopback
                                               (as ``tests/test_sidechain_node.py``): main blocks from the
                                               deposit's submission to its credit on the sidechain
=============================================  ===============================================================

No target is set by the issue for the first ratio (it is reported); the latency is reported in blocks
(the arbiter relays deposits once per merge-mined block).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from spec.chain.builder import sign_standard, standard_program_hash
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Input, OutPoint, Output, TransferAssetPayload
from spec.chain.validation import check_block_context, check_block_sanity
from spec.crypto.p256 import public_key_from_private
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain import params as SP
from spec.sidechain.tx import SideTransaction, SideTxType
from spec.sidechain.validation import check_side_block

from conformance import bench_chain as BC


class _View:
    def __init__(self, utxos: dict[tuple[bytes, int], Output]) -> None:
        self.utxos = utxos

    def utxo(self, txid: bytes, index: int) -> Output | None:
        return self.utxos.get((txid, index))

    def asset_precision(self, asset_id: bytes) -> int | None:
        return 8 if asset_id == ELA_ASSET_ID else None

    def credited(self, main_txid: bytes) -> bool:
        return False


class _Main:
    def __init__(self, blocks: set[bytes]) -> None:
        self.blocks = blocks

    def has_block(self, block_hash: bytes) -> bool:
        return block_hash in self.blocks

    def transaction(self, txid: bytes) -> Any:
        return None

    def header(self, block_hash: bytes) -> Any:
        return None


def side_block(count: int):  # type: ignore[no-untyped-def]
    """(block, view, main view): a merge-mined sidechain block of ``count`` transfers, each by its own key."""
    from conformance.generators.sidechain import _coinbase, _side_block

    keys = [BC._key(10_000 + i) for i in range(count)]
    utxos = {}
    txs = []
    for i, k in enumerate(keys):
        ph = standard_program_hash(public_key_from_private(k))
        src = i.to_bytes(32, "big")
        utxos[(src, 0)] = Output(asset_id=ELA_ASSET_ID, value=100_000, output_lock=0, program_hash=ph)
        txs.append(sign_standard(SideTransaction(tx_type=SideTxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                                                 inputs=(Input(previous=OutPoint(txid=src, index=0), sequence=0xFFFF_FFFF),),
                                                 outputs=(Output(asset_id=ELA_ASSET_ID, value=99_000, output_lock=0,
                                                                 program_hash=ph),)), [k]))
    block, main_hash = _side_block(SP.side_genesis_block(), [_coinbase(1), *txs])
    return block, _View(utxos), _Main({main_hash})


def bench_blocks(count: int, rounds: int) -> dict[str, Any]:
    side, view, main = side_block(count)
    state, block, _ = BC.build_block(count)
    params = SP.id_network("instant")
    xph = SP.genesis_program_hash(SP.side_genesis_block().hash())
    genesis = SP.side_genesis_block()
    t_side = t_main = float("inf")
    for _ in range(rounds):
        BC.clear_key_caches()
        t = time.perf_counter()
        check_side_block(side, genesis.hash(), 0, view, main, params, xph)
        t_side = min(t_side, time.perf_counter() - t)
        BC.clear_key_caches()
        t = time.perf_counter()
        check_block_sanity(block, state.params, BC.NOW)
        check_block_context(block, state, state.params)
        t_main = min(t_main, time.perf_counter() - t)
    return {"transactions": count, "side_ms": round(t_side * 1000, 2), "main_ms": round(t_main * 1000, 2),
            "side_over_main": round(t_side / t_main, 3)}


def bench_latency() -> dict[str, Any]:
    """Main blocks from a deposit's submission to its credit, on the in-process devnet."""
    from reference.node.rpc import RpcClient
    from reference.sidechain.devnet import FUNDING, SideDevnet

    with tempfile.TemporaryDirectory() as d:
        net = SideDevnet(d)
        try:
            miner = address_from_program_hash(Uint168(data=FUNDING))
            user = address_from_program_hash(Uint168(data=standard_program_hash(public_key_from_private(b"\x01" * 32))))
            side = RpcClient(net.side_url)
            net.deposit(user, 10**8)
            start = net.main.height()
            t0 = time.perf_counter()
            while not side.call("listunspent", {"addresses": [user]}):
                net.arbiter.relay_deposits()
                net.arbiter.merge_mine(miner)
                if net.main.height() - start > 10:
                    raise RuntimeError("the deposit was not credited within 10 blocks")
            return {"blocks": net.main.height() - start, "seconds": round(time.perf_counter() - t0, 2)}
        finally:
            net.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.bench_sidechain")
    ap.add_argument("--txs", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="write the results here as JSON")
    a = ap.parse_args(argv)
    blocks = bench_blocks(a.txs, a.rounds)
    latency = bench_latency()
    rows = [("measure", "value"),
            (f"sidechain block, {blocks['transactions']} transfers", f"{blocks['side_ms']} ms"),
            (f"main block, {blocks['transactions']} transfers", f"{blocks['main_ms']} ms"),
            ("side / main", f"{blocks['side_over_main']}"),
            ("deposit latency", f"{latency['blocks']} main blocks ({latency['seconds']} s)")]
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"{r[0]:<{width}}  {r[1]}")
    if a.json:
        Path(a.json).write_text(json.dumps({"blocks": blocks, "deposit_latency": latency}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
