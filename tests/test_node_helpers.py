"""Building blocks on the instant network for the node tests (spec builders only)."""

from __future__ import annotations

from spec.chain.block import Block
from spec.chain.builder import block_template, coinbase, sign_standard, solve, standard_program_hash, transfer
from spec.chain.params import GENESIS_TIMESTAMP, INSTANT, genesis_block
from spec.crypto.p256 import public_key_from_private

PARAMS = INSTANT
GENESIS = genesis_block("instant")
NOW = GENESIS.header.timestamp + 10_000_000
KEY = (7).to_bytes(32, "big")
MINER = standard_program_hash(public_key_from_private(KEY))


def make_block(parent: bytes, height: int, timestamp: int, tag: int = 0, variant: str = "ok",
               txs: tuple = (), fees: int = 0, miner: bytes = MINER) -> Block:
    """A solved block; ``variant`` ``bad_reward`` pays one sela too much, ``unknown_ref`` spends nothing known,
    ``double_spend`` spends one outpoint in two transactions."""
    extra = list(txs)
    if variant == "bad_reward":
        fees += 1
    elif variant in ("unknown_ref", "double_spend"):
        t1 = sign_standard(transfer([(bytes([tag % 256]) * 32, 0)], [(MINER, 1000)]), [KEY])
        extra.append(t1)
        if variant == "double_spend":
            extra.append(sign_standard(transfer([(bytes([tag % 256]) * 32, 0)], [(MINER, 999)]), [KEY]))
    cb = coinbase(height, PARAMS, miner, fees=fees, nonce=tag.to_bytes(8, "little"))
    return solve(block_template(parent, height, timestamp, PARAMS.pow_limit_bits, [cb, *extra]))


def chain(n: int, parent: Block = GENESIS, tag: int = 0, lock_time_zero: bool = False) -> list[Block]:
    out = []
    prev = parent
    for _ in range(n):
        b = make_block(prev.hash(), prev.header.height + 1, prev.header.timestamp + 1, tag)
        out.append(b)
        prev = b
    return out


__all__ = ["GENESIS", "GENESIS_TIMESTAMP", "KEY", "MINER", "NOW", "PARAMS", "chain", "make_block"]
