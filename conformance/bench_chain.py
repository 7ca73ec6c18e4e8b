"""``make bench`` (chain part): signature checking of a block of 1,000 transfers, as ratios in one run.

==============================================  ==============================================  ========
measure                                         how                                             target
==============================================  ==============================================  ========
single core vs raw P-256                        ``check_signatures`` over the block's 1,000     >= 0.7
                                                transactions in this process (tx/s), against
                                                ``cryptography``'s ECDSA P-256 verify of the
                                                same 1,000 (compressed key, message, r || s)
                                                triples, each loaded and DER-encoded as any
                                                verifier of an ELA program must; the verify
                                                call alone (keys preloaded) is also reported
2 workers vs single core                        :class:`reference.parallel.ParallelChecker`     >= 1.6
                                                with 2 workers (this process and one worker
                                                started beforehand, as a node keeps it) against
                                                the single-core rate; :func:`~reference.parallel.
                                                check_forked` (one child forked for the block)
                                                is reported beside it
node import, ``--sig-workers 2`` vs 1           a fresh ``Node`` (SQLite store) at the prepared    reported
                                                state accepts the block (every check of the
                                                spec, store writes included), with 1 and with 2
                                                signature processes
==============================================  ==============================================  ========

The block is built with :mod:`spec.chain.builder` on ``instant``: a prepared chain matures a
coinbase and splits it into 1,000 outputs; each transfer spends one of them (a standard
single-signature program) and the block of those transfers is validated against that state
first (``apply_block``), so the measured transactions are ones the spec accepts. Each side is
measured ``--rounds`` times, alternating, and the best time is kept. Prints a table and, with
``--json FILE``, writes JSON. Exit status is non-zero when a target is missed (``--no-fail`` to
report only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from reference.parallel import ParallelChecker, check_forked, check_serial
from spec.chain import builder
from spec.chain.params import INSTANT
from spec.chain.state import apply_block, genesis_state
from spec.crypto import p256
from spec.crypto.p256 import public_key_from_private

SINGLE_TARGET = 0.7
PARALLEL_TARGET = 1.6
NOW = 2_000_000_000
FEE = 1000


def _block(state, txs, fees):
    h = state.height + 1
    cb = builder.coinbase(h, INSTANT, builder.standard_program_hash(public_key_from_private(_KEY)), fees=fees)
    return builder.solve(builder.block_template(state.tip().hash, h, state.tip().timestamp + 1,
                                                INSTANT.pow_limit_bits, [cb, *txs]))


_KEY = (0xB3C4).to_bytes(32, "big")


def _key(i: int) -> bytes:
    return (0xB3C4_0000 + i).to_bytes(32, "big")


def build_chain(count: int, key_offset: int = 0):
    """(blocks, state, txs): the blocks from genesis to a state that holds ``count`` outputs of ``count``
    keys (101 to mature a coinbase, then one that splits it), that state, and ``count`` signed transfers
    each spending one of those outputs to the miner's key."""
    ph = builder.standard_program_hash(public_key_from_private(_KEY))
    owners = [builder.standard_program_hash(public_key_from_private(_key(key_offset + i))) for i in range(count)]
    state = genesis_state(INSTANT)
    blocks = []
    for _ in range(101):
        b = _block(state, [], 0)
        state, _ = apply_block(state, b, NOW)
        blocks.append(b)
    (txid, index), entry = next((k, e) for k, e in state.utxos.items() if e.height == 1 and e.output.program_hash == ph)
    value = (entry.output.value - FEE) // count
    split = builder.sign_standard(builder.transfer([(txid, index)], [(o, value) for o in owners]), [_KEY])
    b = _block(state, [split], entry.output.value - value * count)
    state, _ = apply_block(state, b, NOW)
    blocks.append(b)
    txs = [builder.sign_standard(builder.transfer([(split.txid(), i)], [(ph, value - FEE)]), [_key(key_offset + i)])
           for i in range(count)]
    return blocks, state, txs


def build_block(count: int, key_offset: int = 0):
    """(state, block, items): a prepared state, a block of ``count`` transfers on it, (tx, refs) pairs.

    Every transfer spends an output of its own key, as in a real block, so that no key is looked at
    twice and caches of decoded keys cannot flatter the measurement.
    """
    _, state, txs = build_chain(count, key_offset)
    block = _block(state, txs, FEE * count)
    apply_block(state, block, NOW)  # the spec accepts the block
    items = [(tx, [state.utxo(i.previous.txid, i.previous.index).output for i in tx.inputs]) for tx in txs]
    return state, block, items


def time_node_import(prep, block, sig_workers: int, root: Path, warmup) -> float:
    """Seconds a fresh node (SQLite store under ``root``) takes to accept ``block`` after the ``prep``
    blocks, with ``sig_workers`` signature processes (its pool started, and warmed on ``warmup``, other
    keys' transfers, before the clock)."""
    from reference.node.node import Node

    node = Node(root, INSTANT, now=lambda: NOW, backend="python", sig_workers=sig_workers)
    try:
        for b in prep:
            node.submit_block(b)
        if node.sigpool is not None:
            node.sigpool.check(warmup)
        clear_key_caches()
        t0 = time.perf_counter()
        outcome = node.submit_block(block)
        seconds = time.perf_counter() - t0
        if outcome != {block.hash(): "valid"}:
            raise RuntimeError(f"the node refused the benchmark block: {outcome}")
        return seconds
    finally:
        node.close()


def clear_key_caches() -> None:
    """Forget decoded keys, so that every round starts cold."""
    p256.decompress_point.cache_clear()
    p256._public_key_object.cache_clear()


def raw_triples(items):
    """(compressed public key, message, r || s) of every transaction's one signature."""
    out = []
    for tx, _ in items:
        p = tx.programs[0]
        out.append((p.code[1:34], tx.serialize_unsigned(), p.parameter[1:65]))
    return out


def time_raw(triples, preloaded: bool = False) -> float:
    """The library's own rate for the same signatures.

    By default each check does what any verifier of an ELA program must do with this library:
    load the 33-byte compressed key, DER-encode ``r || s``, verify. ``preloaded=True`` measures the
    verify call alone, with keys loaded and signatures encoded beforehand (reported for reference).
    """
    curve, algo = ec.SECP256R1(), ec.ECDSA(hashes.SHA256())

    def der(sig: bytes) -> bytes:
        return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))

    if preloaded:
        ready = [(ec.EllipticCurvePublicKey.from_encoded_point(curve, pub), msg, der(sig))
                 for pub, msg, sig in triples]
        t0 = time.perf_counter()
        for key, msg, d in ready:
            key.verify(d, msg, algo)
        return time.perf_counter() - t0
    t0 = time.perf_counter()
    for pub, msg, sig in triples:
        ec.EllipticCurvePublicKey.from_encoded_point(curve, pub).verify(der(sig), msg, algo)
    return time.perf_counter() - t0


def time_call(fn, items) -> tuple[float, list]:
    t0 = time.perf_counter()
    verdicts = fn(items)
    return time.perf_counter() - t0, verdicts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.bench_chain")
    ap.add_argument("--txs", type=int, default=1000, help="transfers in the block (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="processes of the parallel checker (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="measure each side this many times, keep the best")
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = ap.parse_args(argv)
    print(f"bench-chain: building a block of {args.txs} transfers on instant ...", file=sys.stderr)
    prep, prep_state, txs = build_chain(args.txs)
    block = _block(prep_state, txs, FEE * args.txs)
    apply_block(prep_state, block, NOW)  # the spec accepts the block
    items = [(tx, [prep_state.utxo(i.previous.txid, i.previous.index).output for i in tx.inputs]) for tx in txs]
    _, _, warmup = build_block(max(2 * args.workers, 50), key_offset=1 << 20)
    triples = raw_triples(items)
    t_raw = t_pre = t_ser = t_par = t_fork = t_node1 = t_node2 = float("inf")
    scratch = tempfile.TemporaryDirectory(prefix="bench-chain-")
    for i in range(args.rounds):
        print(f"bench-chain: round {i + 1}/{args.rounds}", file=sys.stderr)
        t_raw = min(t_raw, time_raw(triples))
        t_pre = min(t_pre, time_raw(triples, preloaded=True))
        clear_key_caches()
        t, serial = time_call(check_serial, items)
        t_ser = min(t_ser, t)
        clear_key_caches()
        with ParallelChecker(args.workers) as pc:
            # Fresh workers, warmed up on an earlier block of other keys (as a node's pool is): their
            # libraries are initialised, but none of this block's keys is cached.
            pc.check(warmup)
            t, parallel = time_call(pc.check, items)
        t_par = min(t_par, t)
        shared = pc.last_by_workers
        clear_key_caches()
        t, forked = time_call(lambda its: check_forked(its, args.workers), items)
        t_fork = min(t_fork, t)
        t_node1 = min(t_node1, time_node_import(prep, block, 1, Path(scratch.name) / f"n1-{i}", warmup))
        t_node2 = min(t_node2, time_node_import(prep, block, args.workers, Path(scratch.name) / f"n2-{i}", warmup))
        if serial != parallel or serial != forked or any(v is not None for v in serial):
            print("bench-chain: verdicts differ or a transaction was rejected", file=sys.stderr)
            return 2
    scratch.cleanup()
    n = len(items)
    raw_rate, pre_rate, ser_rate, par_rate = n / t_raw, n / t_pre, n / t_ser, n / t_par
    fork_rate = n / t_fork
    single_ratio, par_ratio = ser_rate / raw_rate, par_rate / ser_rate
    results = {
        "transactions": n, "block_size": block.size(), "workers": args.workers, "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "raw_verify_per_s": round(raw_rate, 1), "raw_verify_preloaded_per_s": round(pre_rate, 1),
        "single_core_vs_preloaded": round(ser_rate / pre_rate, 3), "serial_tx_per_s": round(ser_rate, 1),
        "parallel_tx_per_s": round(par_rate, 1), "forked_tx_per_s": round(fork_rate, 1),
        "forked_vs_single": round(fork_rate / ser_rate, 3), "checked_by_worker_last_round": shared,
        "node_import_tx_per_s": round(n / t_node1, 1), "node_import_sig_workers_tx_per_s": round(n / t_node2, 1),
        "node_import_sig_workers_vs_one": round(t_node1 / t_node2, 3),
        "single_core_vs_raw": round(single_ratio, 3), "single_core_target": SINGLE_TARGET,
        "single_core_ok": single_ratio >= SINGLE_TARGET,
        "parallel_vs_single": round(par_ratio, 3), "parallel_target": PARALLEL_TARGET,
        "parallel_ok": par_ratio >= PARALLEL_TARGET,
    }
    rows = [
        ("raw P-256 verify (cryptography)", f"{raw_rate:,.0f} /s", "key load + verify", ""),
        ("  verify call alone", f"{pre_rate:,.0f} /s", f"1 core = {ser_rate / pre_rate:.3f} of it", ""),
        ("check_signatures, 1 core", f"{ser_rate:,.0f} tx/s", f"{single_ratio:.3f} of raw",
         f">= {SINGLE_TARGET}: {'ok' if results['single_core_ok'] else 'MISSED'}"),
        (f"ParallelChecker, {args.workers} workers", f"{par_rate:,.0f} tx/s", f"{par_ratio:.3f}x 1 core",
         f">= {PARALLEL_TARGET}: {'ok' if results['parallel_ok'] else 'MISSED'}"),
        (f"  check_forked, {args.workers} workers", f"{fork_rate:,.0f} tx/s", f"{fork_rate / ser_rate:.3f}x 1 core", ""),
        ("node accepts the block, 1 process", f"{n / t_node1:,.0f} tx/s", "SQLite store, all checks", ""),
        (f"  --sig-workers {args.workers}", f"{n / t_node2:,.0f} tx/s", f"{t_node1 / t_node2:.3f}x 1 process", ""),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"block of {n} transfers, {block.size():,} bytes, best of {args.rounds} rounds, {os.cpu_count()} cpus")
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    ok = results["single_core_ok"] and results["parallel_ok"]
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    raise SystemExit(main())
