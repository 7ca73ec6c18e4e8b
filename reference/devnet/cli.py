"""``elastos devnet [status|stop] ...``: the argument parsing of the devnet commands."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from reference.devnet.scenario import SCENARIOS, STATE_FILE, STEP_TEXT


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="elastos devnet",
        description="Start the Elastos network OS on loopback and walk through it (default: the whole scenario). "
                    "'elastos devnet status' and 'elastos devnet stop' look after a devnet kept with --keep.")
    p.add_argument("action", nargs="?", choices=("run", "status", "stop"), default="run")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="all", help="run one part (see --list)")
    p.add_argument("--list", action="store_true", help="list the scenarios and their steps")
    p.add_argument("--dir", help="the devnet folder (default: a new temporary folder, printed; for status and "
                                 "stop: the newest kept devnet in the temporary folder)")
    p.add_argument("--keep", action="store_true", help="leave everything running; endpoints in DIR/" + STATE_FILE)
    p.add_argument("--json", metavar="FILE", help="also write the summary (or the status) as JSON here")
    p.add_argument("--nodes", type=int, default=2, help="main-chain node processes (default 2)")
    p.add_argument("--blocks", type=int, default=3, help="blocks to mine in the chain scenario (default 3)")
    p.add_argument("--network", choices=["regnet", "instant", "testnet", "mainnet"], default="instant",
                   help="the chain scenario's network (default instant; the other scenarios always use instant)")
    return p


def _kept_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    kept = sorted(Path(tempfile.gettempdir()).glob(f"elastos-devnet-*/{STATE_FILE}"), key=lambda f: f.stat().st_mtime)
    if not kept:
        raise SystemExit(f"no kept devnet found in {tempfile.gettempdir()}; give --dir")
    return kept[-1].parent


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.blocks < 1:
        parser.error("--nodes and --blocks: at least 1")
    if args.list:
        for name, (text, steps) in SCENARIOS.items():
            print(f"{name:<17} {text}")
            for s in steps:
                print(f"{'':<19}{s:<13} {STEP_TEXT[s]}")
        return 0
    if args.action == "status":
        from reference.devnet.manage import status, status_table

        root = _kept_dir(args.dir)
        try:
            rows = status(root)
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            return 1
        print(f"devnet {root}")
        print(status_table(rows))
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1, sort_keys=True))
        return 0 if all(r["ok"] for r in rows) else 1
    if args.action == "stop":
        from reference.devnet.manage import stop

        root = _kept_dir(args.dir)
        try:
            names, killed = stop(root)
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            return 1
        print(f"devnet {root}: stopped {', '.join(names)}" + (f" (SIGKILL: {', '.join(killed)})" if killed else ""))
        return 0
    from reference.devnet.scenario import run

    return run(args.scenario, folder=args.dir, keep=args.keep, json_out=args.json, network=args.network,
               nodes=args.nodes, blocks=args.blocks)
