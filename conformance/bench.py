"""``elastos bench`` (``make bench``): throughput and wall-time targets, measured as ratios in one run.

==================================  =========================================================  ========
measure                             how                                                        target
==================================  =========================================================  ========
adapter round trip                  encoding cases through the reference adapter (pipelined,   <= 3x
                                    start-up excluded) against the same handler calls made
                                    in-process, both judged against ``expect``
full vector regeneration            ``generate_all()`` wall time                               < 60 s
full conformance run                every case against the reference adapter, start-up         < 60 s
                                    included
==================================  =========================================================  ========

Both sides of the ratio run in the same process, on the same cases, alternating over three rounds
(the best time of each side is kept), so the machine's speed and bursts of other load cancel out. The result is printed as a table and, with ``--json FILE``, written
as JSON. The exit status is non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from conformance import runner
from conformance.bindings import HANDLERS
from conformance.vectors import default_vectors_dir, generate_all, load_vectors
from spec.errors import Reject

ROUND_TRIP_TARGET = 3.0
WALL_TARGET_S = 60.0


def in_process(cases: list) -> tuple[float, int]:
    """Call every case's handler in-process and judge it: (seconds, passed)."""
    passed = 0
    t0 = time.perf_counter()
    for c in cases:
        try:
            got = {"ok": HANDLERS[f"{c.suite}/{c.handler}"].fn(c.data["input"])}
        except Reject as e:
            got = {"reject": e.reason.value}
        passed += got == c.data["expect"]
    return time.perf_counter() - t0, passed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="elastos bench")
    ap.add_argument("--repeat", type=int, default=20, help="times the encoding cases are replayed (default 20)")
    ap.add_argument("--rounds", type=int, default=3, help="measure each side this many times and keep the best (default 3)")
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)
    vs = load_vectors(default_vectors_dir())
    encoding = [c for c in vs.cases if c.suite == "encoding"] * args.repeat
    adapter = [sys.executable, "-m", "reference.adapter"]

    # Best of ``--rounds`` for each side, alternating, so that a burst of load elsewhere on the
    # machine does not decide the ratio.
    t_in = t_ad = float("inf")
    passed_in = passed_ad = 0
    for i in range(args.rounds):
        print(f"bench: round {i + 1}/{args.rounds}: {len(encoding)} encoding cases in-process, then through the adapter",
              file=sys.stderr)
        t, passed_in = in_process(encoding)
        t_in = min(t_in, t)
        rep = runner.run(adapter, encoding)
        passed_ad = sum(r.status == "passed" for r in rep.results)
        t_ad = min(t_ad, rep.serve_seconds)
    ratio = t_ad / t_in
    print("bench: full vector regeneration ...", file=sys.stderr)
    t0 = time.perf_counter()
    generate_all()
    t_gen = time.perf_counter() - t0
    print("bench: full conformance run ...", file=sys.stderr)
    full = runner.run(adapter, vs.cases)
    results = {
        "cases_per_run": len(encoding),
        "in_process_seconds": round(t_in, 4),
        "in_process_cases_per_s": round(len(encoding) / t_in),
        "adapter_seconds": round(t_ad, 4),
        "adapter_cases_per_s": round(len(encoding) / t_ad),
        "rounds": args.rounds,
        "round_trip_ratio": round(ratio, 2),
        "round_trip_target": ROUND_TRIP_TARGET,
        "regeneration_seconds": round(t_gen, 3),
        "conformance_seconds": round(full.seconds, 3),
        "conformance_cases": len(vs.cases),
        "wall_target_seconds": WALL_TARGET_S,
        "all_passed": passed_in == len(encoding) and passed_ad == len(encoding) and full.ok,
    }
    checks = [
        ("adapter round trip / in-process", f"{ratio:.2f}x", f"<= {ROUND_TRIP_TARGET:g}x", ratio <= ROUND_TRIP_TARGET),
        ("full vector regeneration", f"{t_gen:.2f} s", f"< {WALL_TARGET_S:g} s", t_gen < WALL_TARGET_S),
        ("full conformance run", f"{full.seconds:.2f} s", f"< {WALL_TARGET_S:g} s", full.seconds < WALL_TARGET_S),
        ("every case passed on both paths", "yes" if results["all_passed"] else "NO", "yes", results["all_passed"]),
    ]
    print(f"in-process: {results['in_process_cases_per_s']:>8} cases/s   adapter: {results['adapter_cases_per_s']:>8} cases/s"
          f"   ({len(encoding)} encoding cases each)")
    print(f"{'measure':<36}{'result':>12}{'target':>12}  status")
    print("-" * 68)
    for name, value, target, ok in checks:
        print(f"{name:<36}{value:>12}{target:>12}  {'ok' if ok else 'MISSED'}")
    results["targets_met"] = all(ok for *_, ok in checks)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0 if results["targets_met"] else 1
