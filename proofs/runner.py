"""``elastos prove``: run the Z3 proofs and print a table of property, status, time and rules.

Options: ``--only NAME`` (repeatable) runs the named proofs only; ``--timeout S`` overrides every
proof's Z3 timeout; ``--json FILE`` and ``--junit FILE`` write machine-readable results;
``--emit-vectors DIR`` writes every counterexample or witness as a vector case
``DIR/<suite>/<handler>/<case>.json``; ``--list`` prints the proofs without running them.

Progress goes to stderr as each proof starts. The exit status is 0 only if every proof that ran is
``proved``; 1 otherwise; 2 for a usage error (an unknown proof name).
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from spec import SPEC_VERSION

from proofs.framework import Proof, ProofResult, Summary, all_proofs, run_proofs


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="elastos prove", description="Run the Z3 proofs of the spec.")
    p.add_argument("--only", action="append", metavar="NAME", default=[], help="run only this proof (repeatable)")
    p.add_argument("--timeout", type=float, metavar="S", help="Z3 timeout of every proof, in seconds")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write the results as JUnit XML")
    p.add_argument("--emit-vectors", type=Path, metavar="DIR", help="write counterexample/witness cases under DIR")
    p.add_argument("--list", action="store_true", help="list the proofs and exit")
    return p


def select(proofs: Sequence[Proof], only: Sequence[str]) -> list[Proof]:
    """The proofs named in ``only`` (all if empty), in registry order; unknown names raise KeyError."""
    names = {p.name for p in proofs}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [p for p in proofs if not only or p.name in only]


def format_table(results: Sequence[ProofResult]) -> str:
    """The readable table: one row per proof, then a total line."""
    rows = [("property", "status", "time (s)", "rules")]
    rows += [(r.name, r.status, f"{r.seconds:.3f}", ", ".join(r.rules) or "-") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}"
        for a, b, c, d in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    summary = Summary(list(results))
    counts = summary.counts
    lines.append(
        f"total: {len(results)} proofs, {counts['proved']} proved, {counts['counterexample']} counterexample, "
        f"{counts['unknown']} unknown in {summary.seconds:.3f} s"
    )
    return "\n".join(lines)


def format_details(results: Sequence[ProofResult]) -> str:
    """For every proof that did not prove, or that produced a model: what and why."""
    out = []
    for r in results:
        if r.ok and r.witness is None:
            continue
        out.append(f"{r.name}: {r.status}{' - ' + r.detail if r.detail else ''}")
        if r.counterexample is not None:
            out.append(f"  counterexample: {json.dumps(r.counterexample, sort_keys=True)}")
        if r.witness is not None:
            out.append(f"  witness: {json.dumps(r.witness, sort_keys=True)}")
        if r.replay is not None:
            out.append(f"  spec replay: {r.replay}")
        if r.case is not None:
            out.append(f"  vector: {r.case['suite']}/{r.case['handler']}/{r.case['case']} expects "
                       f"{json.dumps(r.case['expect'], sort_keys=True)}")
    return "\n".join(out)


def to_json(results: Sequence[ProofResult]) -> dict:
    """The machine-readable report."""
    summary = Summary(list(results))
    return {
        "spec_version": SPEC_VERSION,
        "ok": summary.ok,
        "total": len(results),
        "counts": summary.counts,
        "seconds": summary.seconds,
        "results": [r.to_json() for r in results],
    }


def to_junit(results: Sequence[ProofResult], modules: dict[str, str]) -> bytes:
    """JUnit XML: one testcase per proof; a counterexample is a failure, unknown an error."""
    counts = Summary(list(results)).counts
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites, "testsuite", name="proofs", tests=str(len(results)), failures=str(counts["counterexample"]),
        errors=str(counts["unknown"]), skipped="0", time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=modules.get(r.name, "proofs"), name=r.name,
                             time=f"{r.seconds:.3f}")
        if r.status == "counterexample":
            failure = ET.SubElement(case, "failure", message=r.detail or "counterexample", type="counterexample")
            failure.text = json.dumps({"counterexample": r.counterexample, "replay": r.replay}, sort_keys=True)
        elif r.status == "unknown":
            ET.SubElement(case, "error", message=r.detail or "unknown", type="unknown")
        ET.SubElement(case, "system-out").text = r.statement
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def emit_vectors(results: Sequence[ProofResult], out_dir: Path) -> list[Path]:
    """Write each result's case as ``out_dir/<suite>/<handler>/<case>.json``; returns the paths."""
    from conformance.vectors import dumps

    written = []
    for r in results:
        if r.case is None:
            continue
        path = out_dir / r.case["suite"] / r.case["handler"] / f"{r.case['case']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dumps(r.case))
        written.append(path)
    return written


def _progress(stream: TextIO, total: int):
    def on_start(i: int, p: Proof) -> None:
        print(f"[{i + 1}/{total}] {p.name} ...", file=stream, flush=True)
    return on_start


def main(argv: list[str] | None = None) -> int:
    """Run the selected proofs, print the table, write the requested reports; 0 iff all proved."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # ``elastos prove -- --json FILE`` passes the separator through
        argv = argv[1:]
    args = _parser().parse_args(argv)
    if args.timeout is not None and args.timeout <= 0:
        print("elastos prove: --timeout must be positive", file=sys.stderr)
        return 2
    proofs = all_proofs()
    try:
        chosen = select(proofs, args.only)
    except KeyError as e:
        print(f"elastos prove: no proof named {e.args[0]} (see --list)", file=sys.stderr)
        return 2
    if args.list:
        for p in chosen:
            print(f"{p.name}: {p.statement}")
        return 0
    results = list(run_proofs(chosen, args.timeout, _progress(sys.stderr, len(chosen))))
    print(format_table(results))
    details = format_details(results)
    if details:
        print(details)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.junit:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        args.junit.write_bytes(to_junit(results, {p.name: p.module for p in chosen}))
    if args.emit_vectors:
        for path in emit_vectors(results, args.emit_vectors):
            print(f"wrote {path}", file=sys.stderr)
    return 0 if Summary(results).ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
