"""A main node, an ID-sidechain node and an arbiter on loopback, in one process: the harness the sidechain
tests, the benchmark and the devnet share.

The main node runs ``instant`` with 101 blocks already mined to a test key (so coinbase outputs are
spendable) and three cross-chain arbiters; the sidechain node asks the main node's JSON-RPC about the
main chain; the arbiter holds the three arbiters' keys.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from spec.chain.builder import block_template, coinbase, sign_standard, solve, standard_program_hash
from spec.chain.params import ELA_ASSET_ID, INSTANT, NetworkParams, genesis_block
from spec.chain.tx import (CrossChainEntry, Input, OutPoint, Output, Transaction, TransferCrossChainAssetPayload,
                           TxType)
from spec.crypto.p256 import public_key_from_private
from spec.sidechain import params as SP

from reference.node.node import Node
from reference.node.rpc import RpcServer
from reference.sidechain.arbiter import Arbiter
from reference.sidechain.node import RpcMainView, SideNode
from reference.sidechain.rpc import SideRpcServer

def arbiter_keys(n: int = 3) -> tuple[bytes, ...]:
    """The devnet's ``n`` cross-chain arbiter keys (the first three are :data:`ARBITER_KEYS`)."""
    return tuple(hashlib.sha256(f"arbiter-{i}".encode()).digest() for i in range(n))


def main_params(n: int = 3) -> NetworkParams:
    """The devnet main chain's parameters with ``n`` cross-chain arbiters (3: :data:`MAIN_PARAMS`)."""
    return INSTANT.model_copy(update={"cross_chain_arbiters": tuple(public_key_from_private(k)
                                                                    for k in arbiter_keys(n))})


ARBITER_KEYS = arbiter_keys(3)
MAIN_PARAMS = main_params(3)
SIDE_PARAMS = SP.id_network("instant")
FUNDING_KEY = (7).to_bytes(32, "big")
"""The key the first 101 main blocks pay."""
FUNDING = standard_program_hash(public_key_from_private(FUNDING_KEY))
NOW = genesis_block("instant").header.timestamp + 10_000_000


class SideDevnet:
    """Start with :meth:`start`; :meth:`close` stops everything. Data lives under ``root``."""

    def __init__(self, root: str | Path, prepared_blocks: int = 101, arbiters: int = 3,
                 side_params: SP.SidechainParams = SIDE_PARAMS, *, in_process_side: bool = True) -> None:
        """``in_process_side=False`` starts only the main node (a test then runs ``elastos sidechain`` and
        arbiter processes against :attr:`main_url`)."""
        self.root = Path(root)
        self.side_params = side_params
        self.arbiter_keys = arbiter_keys(arbiters)
        self.main_params = main_params(arbiters)
        self.main = Node(self.root / "main", self.main_params, now=lambda: NOW)
        prev = genesis_block("instant")
        for h in range(self.main.height() + 1, prepared_blocks + 1):
            cb = coinbase(h, self.main_params, FUNDING, nonce=h.to_bytes(8, "little"))
            blk = solve(block_template(prev.hash(), h, prev.header.timestamp + 1, self.main_params.pow_limit_bits, [cb]))
            self.main.submit_block(blk)
            prev = blk
        self.main_rpc = RpcServer(self.main).start()
        self.main_url = f"http://127.0.0.1:{self.main_rpc.port}"
        self.side_running = False
        if in_process_side:
            self.start_side()

    def start_side(self) -> None:
        self.side = SideNode(self.root / "side", RpcMainView(self.main_url), self.side_params, now=lambda: NOW)
        self.side_rpc = SideRpcServer(self.side).start()
        self.side_url = f"http://127.0.0.1:{self.side_rpc.port}"
        self.arbiter = Arbiter(self.main_url, self.side_url, self.arbiter_keys, self.main_params, self.side_params,
                               self.root / "arbiter.json")
        self.side_running = True

    def deposit(self, address: str, amount: int, coinbase_height: int = 1) -> Transaction:
        """Submit to the main node a deposit of ``amount`` sela for ``address`` on the sidechain (payload v0),
        paid from the funding key's coinbase at ``coinbase_height``; the transaction."""
        cb = self.main.store.block(self.main.store.hash_at(coinbase_height)).transactions[0]  # type: ignore[union-attr, arg-type]
        x_ph = SP.genesis_program_hash(SP.side_genesis_block().hash())
        mine = next(i for i, o in enumerate(cb.outputs) if o.program_hash == FUNDING)
        tx = sign_standard(Transaction(
            version=0x09, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=0,
            payload=TransferCrossChainAssetPayload(entries=(CrossChainEntry(address=address.encode(), output_index=0,
                                                                            amount=amount),)),
            inputs=(Input(previous=OutPoint(txid=cb.txid(), index=mine), sequence=0xFFFF_FFFF),),
            outputs=(Output(asset_id=ELA_ASSET_ID, value=amount + SIDE_PARAMS.min_cross_chain_tx_fee, output_lock=0,
                            program_hash=x_ph),
                     Output(asset_id=ELA_ASSET_ID,
                            value=cb.outputs[mine].value - amount - 2 * SIDE_PARAMS.min_cross_chain_tx_fee,
                            output_lock=0, program_hash=FUNDING))), [FUNDING_KEY])
        self.main.submit_tx(tx)
        return tx

    def stop_side(self) -> None:
        self.side_rpc.stop()
        self.side.close()
        self.side_running = False

    def close(self) -> None:
        if self.side_running:
            self.stop_side()
        self.main_rpc.stop()
        self.main.close()


__all__ = ["arbiter_keys", "main_params", "ARBITER_KEYS", "FUNDING", "FUNDING_KEY", "MAIN_PARAMS", "NOW", "SIDE_PARAMS", "SideDevnet"]
