"""``make bench-node``: how fast the reference node imports a chain into its SQLite store.

The chain is built in memory, deterministically, with :mod:`spec.chain.builder`: ``--blocks``
blocks (default 5000) on top of the ``instant`` genesis, each with the miner template's coinbase;
from height 105 on, every :data:`TRANSFER_EVERY` th block also carries :data:`TRANSFERS_PER_BLOCK`
signed transfers, each spending a mature coinbase output (a standard single-signature program), so
the import checks real ECDSA P-256 signatures and moves real UTXOs.

Network: regnet's own bits (``0x1f0008ff``) need about 2 million sha256d per block to mine, so
the benchmark's blocks use ``instant``, regnet with upstream's ``InstantBlock()`` (bits
``0x207fffff``, about two tries per block); every other rule is regnet's.

The import is timed alone: the built blocks are written (serialized) to a temporary file, and a
child process that does nothing else reads them one at a time and passes the bytes to
:meth:`reference.node.node.Node.submit_block` of a fresh node with a temporary datadir (a real
SQLite file). Decoding each block is part of the import. Peak memory is the child's
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak RSS of the whole process, interpreter and
imported modules included), also reported just before the first block for reference; target: peak
RSS under 300 MB. Prints progress every 500 blocks, a table and, with ``--json FILE``, JSON. Exit
status is non-zero when the import fails or the target is missed (``--no-fail`` to report only).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from spec.chain import builder
from spec.chain.block import Block
from spec.chain.params import INSTANT, genesis_block
from spec.chain.pow import POW_LIMIT_BITS
from spec.crypto.p256 import public_key_from_private

PARAMS = INSTANT
KEY = (0xB3C5).to_bytes(32, "big")
MINER = builder.standard_program_hash(public_key_from_private(KEY))
FEE = 1000
TRANSFER_EVERY = 4
TRANSFERS_PER_BLOCK = 4
PROGRESS_EVERY = 500
RSS_TARGET_MB = 300.0
ROOT = Path(__file__).resolve().parents[1]


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_blocks(n: int, progress: bool = False) -> Iterator[Block]:
    """The benchmark's ``n`` blocks, in order (deterministic: same keys, nonces and times every run)."""
    genesis = genesis_block(PARAMS.name)
    prev_hash, prev_time = genesis.hash(), genesis.header.timestamp
    coinbases: dict[int, tuple[bytes, int]] = {}   # height -> (txid, miner output value), until spent
    maturity = PARAMS.coinbase_maturity
    for h in range(1, n + 1):
        txs = []
        # a coinbase at height c is spendable in a block at height h when (h - 1) - c >= maturity
        if h % TRANSFER_EVERY == 0 and h - 1 - maturity - TRANSFERS_PER_BLOCK + 1 >= 1:
            for c in range(h - 1 - maturity - TRANSFERS_PER_BLOCK + 1, h - maturity):
                txid, value = coinbases.pop(c)
                half = (value - FEE) // 2
                tx = builder.transfer([(txid, 1)], [(MINER, half), (MINER, value - FEE - half)])
                txs.append(builder.sign_standard(tx, [KEY]))
        cb = builder.coinbase(h, PARAMS, MINER, fees=FEE * len(txs))
        coinbases[h] = (cb.txid(), cb.outputs[1].value)
        for old in [k for k in coinbases if k < h - maturity - 2 * TRANSFER_EVERY]:
            del coinbases[old]
        block = builder.solve(builder.block_template(prev_hash, h, prev_time + 1, PARAMS.pow_limit_bits, [cb, *txs]))
        prev_hash, prev_time = block.hash(), block.header.timestamp
        if progress and (h % PROGRESS_EVERY == 0 or h == n):
            _say(f"bench-node: built {h}/{n} blocks")
        yield block


# -- the child: the import alone -------------------------------------------------------------------------------------


def _read_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while True:
            head = f.read(4)
            if not head:
                return
            (length,) = struct.unpack("<I", head)
            yield f.read(length)


def _child(blocks_file: str, datadir: str, out: str, now: int) -> int:
    import resource

    from reference.node.node import Node

    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    node = Node(datadir, PARAMS, now=lambda: now)
    count = 0
    failed = None
    t0 = time.perf_counter()
    for data in _read_blocks(Path(blocks_file)):
        outcome = node.submit_block(data)
        count += 1
        if any(v not in ("valid", "tip") for v in outcome.values()):
            failed = f"block {count}: {outcome}"
            break
        if count % PROGRESS_EVERY == 0:
            _say(f"bench-node: imported {count} blocks ({count / (time.perf_counter() - t0):.0f} blocks/s)")
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"imported_blocks": count, "import_seconds": seconds, "tip_hash": node.best_hash().hex(),
              "tip_height": node.height(), "baseline_rss_kib": baseline_kib, "peak_rss_kib": peak_kib,
              "error": failed}
    node.close()
    Path(out).write_text(json.dumps(result))
    return 0 if failed is None else 1


# -- the benchmark ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_import"]:
        return _child(argv[1], argv[2], argv[3], int(argv[4]))
    p = argparse.ArgumentParser(prog="elastos bench node", description="import benchmark of the reference node")
    p.add_argument("--blocks", type=int, default=5000, help="blocks to build and import (default 5000)")
    p.add_argument("--json", help="write the results as JSON to this file")
    p.add_argument("--no-fail", action="store_true", help="exit 0 even when the memory target is missed")
    args = p.parse_args(argv)
    n = args.blocks
    if n < 1:
        p.error("--blocks must be at least 1")
    _say(f"bench-node: network instant (regnet's bits 0x{POW_LIMIT_BITS:08x} need ~2M sha256d per block to mine; "
         "these blocks use the instant profile of regnet, bits 0x207fffff; every other rule is the same)")
    with tempfile.TemporaryDirectory(prefix="bench-node-") as tmp:
        blocks_file = Path(tmp) / "blocks.bin"
        total_txs = transfers = 0
        last = None
        t0 = time.perf_counter()
        with blocks_file.open("wb") as f:
            for block in build_blocks(n, progress=True):
                data = block.serialize()
                f.write(struct.pack("<I", len(data)) + data)
                total_txs += len(block.transactions)
                transfers += len(block.transactions) - 1
                last = block
        build_seconds = time.perf_counter() - t0
        assert last is not None
        out = Path(tmp) / "result.json"
        now = last.header.timestamp + 1
        _say(f"bench-node: importing {n} blocks into a fresh node (child process, SQLite under {tmp})")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        proc = subprocess.run([sys.executable, "-m", "conformance.bench_node", "_import", str(blocks_file),
                               str(Path(tmp) / "datadir"), str(out), str(now)], cwd=ROOT, env=env)
        if not out.exists():
            _say(f"bench-node: the import process failed (exit status {proc.returncode})")
            return 1
        child = json.loads(out.read_text())
    secs = child["import_seconds"]
    peak_mb = child["peak_rss_kib"] / 1024   # Linux: ru_maxrss is in KiB
    base_mb = child["baseline_rss_kib"] / 1024
    results = {
        "network": PARAMS.name,
        "note": f"regnet's bits 0x{POW_LIMIT_BITS:08x} need ~2M sha256d per block to mine; the blocks use the "
                "instant profile of regnet (bits 0x207fffff), every other rule is the same",
        "blocks": n,
        "transactions": total_txs,
        "signed_transfers": transfers,
        "build_seconds": round(build_seconds, 3),
        "import_seconds": round(secs, 3),
        "blocks_per_s": round(child["imported_blocks"] / secs, 1),
        "tx_per_s": round(total_txs / secs, 1),
        "transfers_per_s": round(transfers / secs, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "baseline_rss_mb": round(base_mb, 1),
        "memory_method": "resource.getrusage(RUSAGE_SELF).ru_maxrss of a child process that only imports",
        "rss_target_mb": RSS_TARGET_MB,
        "imported_blocks": child["imported_blocks"],
        "tip_height": child["tip_height"],
        "tip_hash": child["tip_hash"],
        "last_block_hash": last.hash().hex(),
        "error": child["error"],
    }
    ok_import = child["error"] is None and child["tip_hash"] == results["last_block_hash"]
    ok_mem = peak_mb < RSS_TARGET_MB
    results["targets_met"] = ok_import and ok_mem
    rows = [
        ("blocks imported", f"{child['imported_blocks']}", f"{n}", child["imported_blocks"] == n),
        ("import time", f"{secs:.2f} s", "", True),
        ("blocks/s", f"{results['blocks_per_s']:.1f}", "", True),
        ("tx/s (coinbases included)", f"{results['tx_per_s']:.1f}", "", True),
        ("signed transfers/s", f"{results['transfers_per_s']:.1f}", "", True),
        ("peak RSS of the import (MB)", f"{peak_mb:.1f}", f"< {RSS_TARGET_MB:g}", ok_mem),
        ("tip = last built block", "yes" if ok_import else "NO", "yes", ok_import),
    ]
    print(f"node import: {n} blocks, {total_txs} transactions ({transfers} signed transfers), network instant")
    print(f"  note: {results['note']}")
    print(f"  memory: ru_maxrss of the import-only child process (RSS before the first block: {base_mb:.1f} MB)")
    print(f"{'measure':<32}{'result':>14}{'target':>12}  status")
    print("-" * 66)
    for name, value, target, ok in rows:
        print(f"{name:<32}{value:>14}{target:>12}  {'ok' if ok else 'MISSED'}")
    if child["error"]:
        print(f"import stopped: {child['error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if not ok_import:
        return 1
    return 0 if ok_mem or args.no_fail else 1


if __name__ == "__main__":
    raise SystemExit(main())
