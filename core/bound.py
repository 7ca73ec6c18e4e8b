"""How close the AVX-512 merkle code runs to this CPU's vector throughput.

``python core/bound.py [--json FILE]`` builds ``core/bench/vector_bound.c`` with the library's
release flags, counts in that executable's own code, with objdump, the vector instructions of one
group's hashing (``sha256d64_words``: sixteen pairs, three compressions each) and how many of them
are rotations and shifts, then runs it. It measures the clock, the rate at which the core starts
512-bit additions and 512-bit rotations, and the time of a group between levels
(``ec_sha256d64_avx512_level``) and on the first level (``ec_sha256d64_avx512_level0``). A group cannot
take less than its instructions at the additions' rate, nor less than its rotations and shifts at
theirs: that is the bound, and the report gives each time as a share of it.

Not counted: register-to-register copies (``vmovdqa32 %zmm, %zmm``, which vpternlogd's overwritten
operand makes necessary and the renamer can eliminate) and loads and stores, which run on other ports;
the report lists them. On a CPU or compiler without the AVX-512 code it says so and exits 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CORE = Path(__file__).resolve().parent
SOURCES = ["bench/vector_bound.c", "src/sha256_avx512.c", "src/sha256_tables.c"]
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2", "-g"]
PORT0 = re.compile(r"^vp(ro[rl]|s[rl]l|sra)[dq]$")
"""rotations and shifts by an immediate: the 512-bit forms run on one port only"""


def count_instructions(disassembly: str, function: str = "sha256d64_words") -> collections.Counter[str]:
    """The instructions of ``function`` in objdump's output, by kind: ``vector`` (executed on the vector
    ports), ``port0`` (the rotations and shifts among them), ``copies`` (register to register), ``memory``
    (loads, stores and broadcasts from memory) and ``other`` (scalar)."""
    lines = disassembly.split(f"<{function}>:\n", 1)
    if len(lines) < 2:
        raise SystemExit(f"bound: no function {function} in the disassembly")
    kinds: collections.Counter[str] = collections.Counter()
    for line in lines[1].split("\n\n", 1)[0].splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        insn = parts[-1].strip()
        mnemonic, _, operands = insn.partition(" ")
        operands = operands.strip()
        if not mnemonic.startswith("v"):
            kinds["other"] += 1
        elif mnemonic.startswith("vmov"):
            kinds["memory" if "(" in operands else "copies"] += 1
        elif "(" in operands and mnemonic.startswith("vpbroadcast"):
            kinds["memory"] += 1
        else:
            kinds["vector"] += 1
            if PORT0.match(mnemonic):
                kinds["port0"] += 1
    return kinds


def run() -> dict[str, object]:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None or shutil.which("objdump") is None:
        return {"available": False, "why": f"needs {cc} and objdump"}
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "vector_bound"
        subprocess.run([cc, *CFLAGS, "-Iinclude", "-Isrc", *SOURCES, "-o", str(exe), "-lpthread"], cwd=CORE,
                       check=True)
        kinds = count_instructions(subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(exe)],
                                                  capture_output=True, text=True, check=True).stdout)
        out = json.loads(subprocess.run([str(exe), str(kinds["vector"]), str(kinds["port0"])],
                                        capture_output=True, text=True, check=True).stdout)
    out["instructions"] = dict(kinds)
    if out.get("available"):
        out["level_share_of_bound"] = out["bound_ns"] / out["level_ns"]
        out["level0_share_of_bound"] = out["bound_ns"] / out["level0_ns"]
    else:
        out["why"] = "no AVX-512 F and BW, or no AVX-512 code in this build"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python core/bound.py", description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)
    print("bound: building core/bench/vector_bound.c and measuring (a few seconds) ...", file=sys.stderr, flush=True)
    r = run()
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2, sort_keys=True) + "\n")
    if not r.get("available"):
        print(f"bound: not measured: {r['why']}")
        return 0
    k = r["instructions"]
    rows = [
        ("clock", f"{r['ghz']:.2f} GHz", "dependent scalar additions, one a cycle"),
        ("512-bit additions", f"{r['adds_per_cycle']:.2f} a cycle", "eight independent chains"),
        ("512-bit rotations", f"{r['rotations_per_cycle']:.2f} a cycle", "eight independent chains"),
        ("a group's hashing", f"{k['vector']:,} vector", f"{k['port0']:,} of them rotations and shifts; not "
         f"counted: {k['copies']:,} register copies, {k['memory']:,} loads and stores, {k['other']:,} scalar"),
        ("bound", f"{r['bound_ns']:.0f} ns a group", f"{r['bound_ns'] / 16:.1f} ns a pair"),
        ("between levels", f"{r['level_ns']:.0f} ns a group", f"{r['level_share_of_bound']:.0%} of the bound"),
        ("first level", f"{r['level0_ns']:.0f} ns a group", f"{r['level0_share_of_bound']:.0%} of the bound "
         "(its words loaded from the hashes' bytes and transposed)"),
    ]
    for name, value, note in rows:
        print(f"  {name:18} {value:>22}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
