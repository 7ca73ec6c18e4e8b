"""Building merge-mined sidechain blocks: the SideChainPow transaction and the SideAuxPow.

A miner that merge-mines a sidechain puts a SideChainPow transaction naming the sidechain block into the
main block it builds, merge-mines that main block with Bitcoin, and attaches to the sidechain header the
transaction, its merkle branch in the main block, and the main header. One Bitcoin parent header then
proves all three chains when its hash meets both targets (:func:`solve_side`).
"""

from __future__ import annotations

from spec.chain.auxpow import AUXPOW_CHAIN_ID, make_auxpow, with_parent_nonce
from spec.chain.block import Block
from spec.chain.builder import attach_auxpow, meets_target
from spec.chain.merkle import merkle_branch, merkle_root
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Output, SideChainPowPayload, Transaction, TxType
from spec.sidechain.block import SideAuxPow, SideBlock, SideHeader

__all__ = ["side_pow_tx", "solve_side"]


def side_pow_tx(side_hash: bytes, genesis_hash: bytes, main_height: int, signature: bytes = b"") -> Transaction:
    """A new-style SideChainPow naming ``side_hash``: version 0x09, no inputs, attributes or programs, and one
    zero-value OTNone output (TX-018), to the zero program hash."""
    return Transaction(version=0x09, tx_type=TxType.SIDECHAIN_POW, payload_version=0,
                       payload=SideChainPowPayload(side_block_hash=side_hash, side_genesis_hash=genesis_hash,
                                                   block_height=main_height, signature=signature),
                       outputs=(Output(asset_id=ELA_ASSET_ID, value=0, output_lock=0, program_hash=bytes(21)),))


def solve_side(side: SideBlock, main: Block, pow_tx: Transaction, *, start_nonce: int = 0,
               max_tries: int = 1 << 32) -> tuple[SideBlock, Block]:
    """Merge-mine ``side`` with ``main``: insert ``pow_tx`` after the main coinbase, merge-mine the main
    block, and give the sidechain header its SideAuxPow. Deterministic: the first parent nonce from
    ``start_nonce`` whose hash meets both the main and the sidechain target wins."""
    txs = (main.transactions[0], pow_tx, *main.transactions[1:])
    root = merkle_root([tx.txid() for tx in txs])
    main = main.model_copy(update={"transactions": txs, "header": main.header.model_copy(update={"merkle_root": root})})
    auxpow = make_auxpow(main.hash(), AUXPOW_CHAIN_ID)
    for nonce in range(start_nonce, min(start_nonce + max_tries, 1 << 32)):
        candidate = with_parent_nonce(auxpow, nonce)
        if meets_target(candidate, main.header.bits) and meets_target(candidate, side.header.bits):
            mined = attach_auxpow(main, candidate)
            aux = SideAuxPow(side_aux_block_tx=pow_tx, side_aux_merkle_branch=tuple(merkle_branch([tx.txid() for tx in txs], 1)),
                             side_aux_merkle_index=1, main_block_header=mined.header)
            header: SideHeader = side.header.model_copy(update={"side_auxpow": aux})
            return side.model_copy(update={"header": header}), mined
    raise ValueError("no parent nonce in range meets both targets")
