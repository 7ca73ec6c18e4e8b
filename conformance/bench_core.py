"""``make bench`` (C core part): the C core against the Python spec, as ratios in one run.

==========================================  ==================================================  ==========
measure                                     how                                                 target
==========================================  ==================================================  ==========
block decode                                ``spec.chain.block.decode_block`` against           >= 20x
                                            ``ec_block_decode`` (through cffi) of the same
                                            1,001-transaction block (1,000 signed transfers)
merkle root                                 ``spec.chain.merkle.merkle_root`` of the block's    >= 20x
                                            txids against ``reference.core.merkle_root``: the
                                            C core's root (its default code: AVX-512 where the
                                            CPU has it, else SHA-NI) through the CPython
                                            extension where it is built, else through cffi
merkle root, floor                          the same number of SHA-256 compressions (three per  reported
                                            pair of the tree) as one ``hashlib`` call over a
                                            buffer of that many blocks: what OpenSSL's
                                            compression costs with no per-pair work; the spec's
                                            time over it is the ceiling of any speed-up built
                                            on OpenSSL's compression. Beside it, the C core's
                                            merkle root on each other code the CPU can run
                                            (``ec_sha256d64_select``: 0 OpenSSL's compression,
                                            1 SHA-NI), its default code's hashing alone
                                            (``ec_sha256d64_many`` over as many pairs in one
                                            call, no tree and no binding), its root alone
                                            (``ec_merkle_root`` on the hashes joined beforehand,
                                            one cffi call), and the root through cffi alone (the
                                            hashes' lengths checked and joined in Python)
AuxPoW check                                ``check_auxpow`` of the decoded AuxPoW against      reported
                                            ``ec_auxpow_check`` (decoded beforehand on both
                                            sides)
block sanity                                ``check_block_sanity`` of the decoded block         reported
                                            against ``ec_block_sanity`` (transaction sanity,
                                            addresses, duplicates, merkle root, AuxPoW, PoW)
node block validation, C backend            the node's validation of the block (the functions   >= 0.9
                                            ``Node`` calls: ``check_block_sanity`` and
                                            ``check_block_context`` over the spec's chain
                                            state) with ``use_backend("c")``, transactions per
                                            second, against the raw ``cryptography`` P-256
                                            verify rate of the same 1,000 signatures (key
                                            load + verify, as ``bench_chain`` defines it)
==========================================  ==================================================  ==========

The block is :func:`conformance.bench_chain.build_block`'s. Each side is measured ``--rounds``
times, alternating, and the best time is kept; fast operations are repeated to last at least
``--min-seconds``. The spec's key caches are cleared before every validation round, so neither
side starts with decoded keys. Prints a table and, with ``--json FILE``, JSON; exit status is
non-zero when a target is missed (``--no-fail`` to report only) or when the C core is not built.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable

from conformance.bench_chain import NOW, build_block, clear_key_caches, raw_triples, time_raw
from spec.chain.auxpow import AUXPOW_CHAIN_ID, check_auxpow
from spec.chain.block import decode_block
from spec.chain.merkle import merkle_root
from spec.chain.params import INSTANT
from spec.chain import validation
from spec.chain.validation import check_block_sanity

DECODE_TARGET = 20.0
HASH_TARGET = 20.0
NODE_TARGET = 0.9
CODES = {0: "openssl", 1: "sha-ni", 2: "avx-512"}
"""The C core's codes for SHA256d of 64-byte inputs, by their ``ec_sha256d64_select`` number."""
DESCRIBED = {0: "OpenSSL's compression", 1: "SHA-NI, two pairs at a time", 2: "AVX-512, sixteen pairs at a time"}


def merkle_pairs(n: int) -> int:
    """How many pairs a merkle tree of ``n`` leaves hashes (an odd level repeats its last node)."""
    pairs = 0
    while n > 1:
        n += n % 2
        pairs += n // 2
        n //= 2
    return pairs


def timed(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds per call of ``fn``, repeating it until ``min_seconds`` have passed."""
    n, total = 0, 0.0
    while n == 0 or total < min_seconds:
        t0 = time.perf_counter()
        fn()
        total += time.perf_counter() - t0
        n += 1
    return total / n


def vector_bound() -> dict[str, object]:
    """core/bound.py's measurement: the AVX-512 code's group time against this CPU's vector throughput."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    try:
        import bound  # core/bound.py
    finally:
        sys.path.pop(0)
    return bound.run()


def main(argv: list[str] | None = None) -> int:
    from reference import core

    ap = argparse.ArgumentParser(prog="python -m conformance.bench_core")
    ap.add_argument("--txs", type=int, default=1000, help="transfers in the block (default 1000)")
    ap.add_argument("--rounds", type=int, default=5, help="measure each side this many times, keep the best")
    ap.add_argument("--min-seconds", type=float, default=0.3, help="repeat fast operations at least this long")
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = ap.parse_args(argv)
    if not core.available():
        print(f"bench-core: the C core is not available: {core.unavailable_reason}", file=sys.stderr)
        return 1
    print(f"bench-core: building a block of {args.txs} transfers on instant ...", file=sys.stderr)
    state, block, items = build_block(args.txs)
    data = block.serialize()
    params = core.chain_params(INSTANT)
    decoded = decode_block(data)
    cblock = core.decode_block(data)
    txids = decoded.txids()
    assert cblock.txids() == txids and cblock.hash() == decoded.hash()
    assert core.merkle_root(txids) == merkle_root(txids)
    header = decoded.header
    ap_c = core.ffi.addressof(cblock.ptr.header, "auxpow")
    triples = raw_triples(items)
    # three compressions per pair: one buffer of that many 64-byte blocks, hashed by one hashlib call
    blocks = b"".join(txids)[:64] * (3 * merkle_pairs(len(txids)))
    default_code = int(core.lib.ec_sha256d64_selected())
    other_codes = [c for c in range(default_code) if core.lib.ec_sha256d64_select(c) == c]
    core.lib.ec_sha256d64_select(default_code)
    pair_in = core.ffi.new("uint8_t[]", blocks[: 64 * merkle_pairs(len(txids))])
    pair_out = core.ffi.new("uint8_t[]", 32 * merkle_pairs(len(txids)))
    joined, root_out = core.joined_hashes(txids), core.ffi.new("uint8_t[32]")
    binding = "the CPython extension" if core.ext is not None else f"cffi ({core.ext_unavailable_reason})"

    def merkle_c_on(code: int) -> Callable[[], None]:
        def run() -> None:
            core.lib.ec_sha256d64_select(code)
            try:
                core.merkle_root(txids)
            finally:
                core.lib.ec_sha256d64_select(default_code)
        return run


    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    def validate(backend: str) -> None:
        clear_key_caches()
        with core.use_backend(backend):  # as the node calls them: through the module, where the hooks are
            validation.check_block_sanity(decoded, INSTANT, NOW)
            validation.check_block_context(decoded, state, INSTANT)

    for i in range(args.rounds):
        print(f"bench-core: round {i + 1}/{args.rounds}", file=sys.stderr)
        keep("decode_py", timed(lambda: decode_block(data), args.min_seconds))
        keep("decode_c", timed(lambda: core.decode_block(data), args.min_seconds))
        keep("merkle_py", timed(lambda: merkle_root(txids), args.min_seconds))
        keep("merkle_c", timed(lambda: core.merkle_root(txids), args.min_seconds))
        keep("merkle_floor", timed(lambda: hashlib.sha256(blocks).digest(), args.min_seconds))
        for code in other_codes:
            keep(f"merkle_c_code{code}", timed(merkle_c_on(code), args.min_seconds))
        keep("merkle_c_root_alone", timed(lambda: core.lib.ec_merkle_root(joined, len(txids), root_out),
                                          args.min_seconds))
        keep("merkle_c_cffi", timed(lambda: core.merkle_root_cffi(txids), args.min_seconds))
        keep("merkle_c_pairs", timed(lambda: core.lib.ec_sha256d64_many(pair_in, pair_out, merkle_pairs(len(txids))),
                                     args.min_seconds))
        keep("auxpow_py", timed(lambda: check_auxpow(header.auxpow, header.hash(), AUXPOW_CHAIN_ID), args.min_seconds))
        keep("auxpow_c", timed(lambda: core.lib.ec_auxpow_check(ap_c, cblock.ptr.header.hash, AUXPOW_CHAIN_ID),
                               args.min_seconds))
        keep("sanity_py", timed(lambda: check_block_sanity(decoded, INSTANT, NOW), args.min_seconds))
        keep("sanity_c", timed(lambda: cblock.sanity_code(params, NOW), args.min_seconds))
        keep("raw_verify", time_raw(triples))
        keep("validate_python", timed(lambda: validate("python"), 0))
        keep("validate_c", timed(lambda: validate("c"), 0))
    assert cblock.sanity_code(params, NOW) == 0
    print("bench-core: the AVX-512 code against the CPU's vector throughput (core/bound.py)", file=sys.stderr)
    bound = vector_bound() if CODES[default_code] == "avx-512" else {"available": False}
    n = len(items)
    raw_rate = n / best["raw_verify"]
    node_c_rate = n / best["validate_c"]
    node_py_rate = n / best["validate_python"]
    ratios = {
        "block_decode": best["decode_py"] / best["decode_c"],
        "merkle_root": best["merkle_py"] / best["merkle_c"],
        "auxpow_check": best["auxpow_py"] / best["auxpow_c"],
        "block_sanity": best["sanity_py"] / best["sanity_c"],
    }
    node_ratio = node_c_rate / raw_rate
    results = {
        "transactions": n + 1, "block_size": len(data), "rounds": args.rounds,
        "seconds": {k: round(v, 7) for k, v in best.items()},
        "c_speedup": {k: round(v, 2) for k, v in ratios.items()},
        "merkle_pairs": merkle_pairs(len(txids)), "merkle_code": CODES[default_code],
        "merkle_ceiling_over_openssl_compressions": round(best["merkle_py"] / best["merkle_floor"], 2),
        "merkle_c_speedup_on": {CODES[c]: round(best["merkle_py"] / best[f"merkle_c_code{c}"], 2) for c in other_codes},
        "merkle_ceiling_over_c_pairs": round(best["merkle_py"] / best["merkle_c_pairs"], 2),
        "merkle_c_root_alone_speedup": round(best["merkle_py"] / best["merkle_c_root_alone"], 2),
        "merkle_binding": "c-api" if core.ext is not None else "cffi",
        "merkle_c_cffi_speedup": round(best["merkle_py"] / best["merkle_c_cffi"], 2),
        "decode_target": DECODE_TARGET, "hash_target": HASH_TARGET,
        "decode_ok": ratios["block_decode"] >= DECODE_TARGET, "hash_ok": ratios["merkle_root"] >= HASH_TARGET,
        "raw_verify_per_s": round(raw_rate, 1),
        "node_validation_c_tx_per_s": round(node_c_rate, 1),
        "node_validation_python_tx_per_s": round(node_py_rate, 1),
        "node_c_vs_raw_verify": round(node_ratio, 3), "node_target": NODE_TARGET,
        "node_ok": node_ratio >= NODE_TARGET,
        "vector_bound": bound,
    }
    if bound.get("available"):
        # every pair at its share of a full group at the bound: no code of these instructions does better
        results["merkle_ceiling_at_vector_bound"] = round(
            best["merkle_py"] / (results["merkle_pairs"] / 16 * float(bound["bound_ns"]) * 1e-9), 2)
    rows = [
        ("block decode", best["decode_py"], best["decode_c"], ratios["block_decode"], f">= {DECODE_TARGET:g}x",
         results["decode_ok"]),
        ("merkle root", best["merkle_py"], best["merkle_c"], ratios["merkle_root"], f">= {HASH_TARGET:g}x",
         results["hash_ok"]),
        ("AuxPoW check", best["auxpow_py"], best["auxpow_c"], ratios["auxpow_check"], "", True),
        ("block sanity", best["sanity_py"], best["sanity_c"], ratios["block_sanity"], "", True),
    ]
    print(f"block of {n + 1} transactions, {len(data):,} bytes, best of {args.rounds} rounds")
    print(f"  {'measure':<14} {'Python spec':>12} {'C core':>12} {'speed-up':>9}  target")
    for name, py, c, ratio, target, ok in rows:
        verdict = "" if not target else (" ok" if ok else " MISSED")
        print(f"  {name:<14} {py * 1e3:>9.3f} ms {c * 1e3:>9.4f} ms {ratio:>8.1f}x  {target}{verdict}")
    pairs = results["merkle_pairs"]
    print(f"  merkle root: {pairs:,} pairs, {3 * pairs:,} compressions; the C core's default code: "
          f"{DESCRIBED[default_code]}")
    print(f"    floor, the compressions alone (one hashlib call over {3 * pairs:,} blocks): "
          f"{best['merkle_floor'] * 1e3:.4f} ms = {best['merkle_floor'] / (3 * pairs) * 1e9:.1f} ns each; "
          f"ceiling on OpenSSL's compression: {results['merkle_ceiling_over_openssl_compressions']:.1f}x")
    for c in other_codes:
        print(f"    C core on {DESCRIBED[c]}: {best[f'merkle_c_code{c}'] * 1e3:.4f} ms = "
              f"{results['merkle_c_speedup_on'][CODES[c]]:.1f}x")
    print(f"    the C core's hashing alone ({pairs:,} pairs in one ec_sha256d64_many call): "
          f"{best['merkle_c_pairs'] * 1e3:.4f} ms = {best['merkle_c_pairs'] / (3 * pairs) * 1e9:.1f} ns per "
          f"compression; ceiling of its code: {results['merkle_ceiling_over_c_pairs']:.1f}x")
    print(f"    the C core's root alone (ec_merkle_root on the hashes joined beforehand): "
          f"{best['merkle_c_root_alone'] * 1e3:.4f} ms = {results['merkle_c_root_alone_speedup']:.1f}x")
    print(f"    the binding measured above: {binding}; through cffi alone (lengths checked and hashes joined "
          f"in Python): {best['merkle_c_cffi'] * 1e3:.4f} ms = {results['merkle_c_cffi_speedup']:.1f}x")
    if bound.get("available"):
        print(f"    the CPU's bound for the AVX-512 code: {bound['bound_ns']:.0f} ns a group of sixteen pairs "
              f"({bound['instructions']['vector']:,} vector instructions at {bound['adds_per_cycle']:.2f} a cycle, "
              f"{bound['ghz']:.2f} GHz); measured {bound['level_ns']:.0f} ns between levels "
              f"({bound['level_share_of_bound']:.0%} of the bound), {bound['level0_ns']:.0f} on the first level "
              f"({bound['level0_share_of_bound']:.0%}); every pair at the bound: "
              f"{results['merkle_ceiling_at_vector_bound']:.1f}x")
    print(f"  raw P-256 verify (cryptography, key load + verify): {raw_rate:,.0f} /s")
    print(f"  node block validation, C backend:      {node_c_rate:,.0f} tx/s = {node_ratio:.3f} of raw verify "
          f"(target >= {NODE_TARGET}: {'ok' if results['node_ok'] else 'MISSED'})")
    print(f"  node block validation, Python backend: {node_py_rate:,.0f} tx/s = {node_py_rate / raw_rate:.3f} of raw")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
            f.write("\n")
    ok = results["decode_ok"] and results["hash_ok"] and results["node_ok"]
    return 0 if ok or args.no_fail else 1


if __name__ == "__main__":
    raise SystemExit(main())
