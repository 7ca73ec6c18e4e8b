"""The merged miner: ``createauxblock``, grind a Bitcoin parent header, ``submitauxblock``.

The parent coinbase and header come from :func:`spec.chain.auxpow.make_auxpow` (the ELA block hash
committed after the ``fabe6d6d`` magic); the miner grinds the parent header's nonce in a tight
``hashlib`` loop against the ELA target of the template's bits, and checks the result with the
spec's :func:`~spec.chain.builder.meets_target` before submitting.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable

from spec.chain.auxpow import AUXPOW_CHAIN_ID, AuxPow, make_auxpow, with_parent_nonce
from spec.chain.builder import meets_target
from spec.chain.pow import compact_to_big
from reference.node.rpc import RpcClient


def grind(auxpow: AuxPow, bits: int, start: int = 0, limit: int = 1 << 32,
          progress: Callable[[int], None] | None = None, every: int = 1 << 20, also_bits: int | None = None) -> int | None:
    """The first parent nonce from ``start`` whose header hash meets ``bits``' target (and ``also_bits``'
    target: a sidechain merge-mined through the same parent header), or ``None``.

    ``progress`` (if given) is called with the number of nonces tried every ``every`` nonces.
    """
    target = compact_to_big(bits) if also_bits is None else min(compact_to_big(bits), compact_to_big(also_bits))
    prefix = auxpow.par_block_header.serialize()[:76]
    sha = hashlib.sha256
    pack = struct.Struct("<I").pack
    base = sha(prefix)
    for nonce in range(start, min(start + limit, 1 << 32)):
        h1 = base.copy()
        h1.update(pack(nonce))
        if int.from_bytes(sha(h1.digest()).digest(), "little") <= target:
            return nonce
        if progress is not None and (nonce - start + 1) % every == 0:
            progress(nonce - start + 1)
    return None


def mine_one(rpc: RpcClient, address: str, log: Callable[[str], None] = print,
             parent_timestamp: int | None = None, also_bits: int | None = None) -> dict:
    """Mine and submit one merged-mined block; returns a summary."""
    t0 = time.perf_counter()
    job = rpc.call("createauxblock", address)
    block_hash = bytes.fromhex(job["hash"])           # stored order, as upstream sends it
    bits = int(job["bits"], 16)
    auxpow = make_auxpow(block_hash, job.get("chainid", AUXPOW_CHAIN_ID),
                         parent_timestamp=parent_timestamp if parent_timestamp is not None else int(time.time()))
    t_grind = time.perf_counter()
    nonce = grind(auxpow, bits, progress=lambda n: log(
        f"  height {job['height'] + 1}: {n:,} parent nonces tried ({n / (time.perf_counter() - t_grind):,.0f}/s)"),
        also_bits=also_bits)
    if nonce is None:
        raise RuntimeError("no parent nonce meets the target")
    solved = with_parent_nonce(auxpow, nonce)
    assert meets_target(solved, bits) and (also_bits is None or meets_target(solved, also_bits))
    rpc.call("submitauxblock", job["hash"], solved.serialize().hex())
    dt = time.perf_counter() - t0
    summary = {"height": job["height"] + 1, "hash": block_hash[::-1].hex(), "bits": job["bits"],
               "tries": nonce + 1, "seconds": dt}
    log(f"mined height {summary['height']} hash {summary['hash']} bits {bits:#010x} "
        f"after {nonce + 1} parent nonces in {dt:.2f} s")
    return summary


def mine(url: str, address: str, blocks: int, log: Callable[[str], None] = print) -> list[dict]:
    rpc = RpcClient(url)
    return [mine_one(rpc, address, log) for _ in range(blocks)]


__all__ = ["grind", "mine", "mine_one"]
