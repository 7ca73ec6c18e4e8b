"""Line and branch coverage of the C core under the full vector set (gcov), and valgrind.

``python core/coverage.py [--json FILE]`` builds the ``coverage`` variant (``core/build-coverage``,
gcc ``--coverage``), runs the adapter over every case of the suites it announces (through the
conformance runner) and the library over the chain vectors of the handlers it implements
(``core/replay.py``, through cffi), then prints gcov's line and branch figures per source file.

``python core/coverage.py --valgrind`` runs the release adapter under valgrind (memcheck, leak
check, errors fail) over every case of the suites it announces; ``--sanitize`` runs the adapter
built with ASan and UBSan over them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent
ROOT = CORE.parent
OUT = CORE / "build-coverage"
SOURCES = ["src/encoding.c", "src/sha256_shani.c", "src/sha256_avx512.c", "src/sha256_tables.c", "src/crypto.c", "src/cbor.c", "src/chain.c", "src/p2p.c", "src/state.c", "adapter/adapter.c",
           "adapter/json.c", "adapter/handlers_encoding.c", "adapter/handlers_crypto.c", "adapter/handlers_chain.c",
           "adapter/handlers_p2p.c", "adapter/handlers_state.c"]


def _conform(argv: list[str], timeout: float) -> tuple[int, int]:
    sys.path.insert(0, str(ROOT))
    from conformance.runner import run
    from conformance.vectors import default_vectors_dir, load_vectors

    hello = json.loads(subprocess.run([argv[-1], "--handlers"], capture_output=True, text=True, check=True).stdout)
    # the announced suites (encoding, crypto and chain)
    suites = {h.split("/", 1)[0] for h in hello["hello"]["handlers"]}
    cases = [c for c in load_vectors(default_vectors_dir()).cases if c.suite in suites]
    report = run(argv, cases, timeout=timeout)
    answered = [r for r in report.results if r.status != "unsupported"]
    return sum(r.status == "passed" for r in answered), len(answered)


def gcov_summary() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for gcda in sorted(OUT.glob("*.gcda")):
        r = subprocess.run(["gcov", "-b", "-n", gcda.name], cwd=OUT, capture_output=True, text=True)
        for block in r.stdout.split("\n\n"):
            name = re.search(r"File '([^']+)'", block)
            if not name or not name.group(1).endswith(".c") or name.group(1).startswith("/"):
                continue
            src = name.group(1)
            def pct(label: str) -> tuple[float, int]:
                m = re.search(label + r":([\d.]+)% of (\d+)", block)
                return (float(m.group(1)), int(m.group(2))) if m else (0.0, 0)
            lines, nl = pct("Lines executed")
            taken, nb = pct("Taken at least once")
            out[src] = {"lines_pct": lines, "lines": nl, "branches_taken_pct": taken, "branches": nb}
    return out


def uncovered_lines() -> dict[str, list[int]]:
    """Line numbers gcov reports as executable and never executed, per source file."""
    out: dict[str, list[int]] = {}
    for gcda in sorted(OUT.glob("*.gcda")):
        # run from core/ so that gcov finds the sources; -t writes the annotated source to stdout
        r = subprocess.run(["gcov", "-t", str(gcda.relative_to(CORE))], cwd=CORE, capture_output=True, text=True)
        for part in re.split(r"(?m)^\s*-:\s*0:Source:", r.stdout)[1:]:
            src = part.split("\n", 1)[0].strip()
            if src.startswith("/"):
                continue
            lines = [int(m.group(1)) for m in re.finditer(r"^\s*#####:\s*(\d+):", part, re.M)]
            if lines:
                out[src] = lines
    return out


def coverage(json_path: str | None) -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["make", "-s", "-C", str(CORE), "OUT=build-coverage", "COVERAGE=1"], check=True, env=env)
    passed, total = _conform([str(OUT / "elastos-core-adapter")], 30.0)
    print(f"coverage: adapter passed {passed}/{total} cases", file=sys.stderr)
    code = ("import sys; sys.path.insert(0, 'core'); import replay; from reference import core; "
            "r = replay.replay(core); print(sum(x['passed'] for x in r.values()), sum(len(x['failed']) for x in r.values()))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "ELASTOS_CORE_LIB": str(OUT / "libelastos_core.so")})
    print(f"coverage: library over the chain vectors (passed, failed): {r.stdout.strip()} {r.stderr[-300:]}",
          file=sys.stderr)
    summary = gcov_summary()
    tl = sum(v["lines"] for v in summary.values())
    tb = sum(v["branches"] for v in summary.values())
    lines = sum(v["lines"] * v["lines_pct"] / 100 for v in summary.values())
    branches = sum(v["branches"] * v["branches_taken_pct"] / 100 for v in summary.values())
    print(f"{'file':<32} {'lines':>14} {'branches taken':>16}")
    for src, v in sorted(summary.items()):
        print(f"{src:<32} {v['lines_pct']:>6.1f}% of {v['lines']:<5} {v['branches_taken_pct']:>6.1f}% of {v['branches']:<5}")
    print(f"{'total':<32} {100 * lines / tl:>6.1f}% of {tl:<5} {100 * branches / tb:>6.1f}% of {tb:<5}")
    missing = uncovered_lines()
    if json_path:
        Path(json_path).write_text(json.dumps({"files": summary, "lines_pct": round(100 * lines / tl, 2),
                                               "branches_taken_pct": round(100 * branches / tb, 2),
                                               "adapter_cases": [passed, total], "uncovered_lines": missing},
                                              indent=1, sort_keys=True) + "\n")
    return 0 if passed == total else 1


def valgrind() -> int:
    if not shutil.which("valgrind"):
        print("valgrind: NOT RUN: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    adapter = CORE / "build" / "elastos-core-adapter"
    logs = CORE / "build" / "valgrind"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    argv = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", f"--log-file={logs}/%p.log", str(adapter)]
    passed, total = _conform(argv, 120.0)
    # every process the runner started wrote a log; each must end with no error and no leak
    bad = []
    reports = sorted(logs.glob("*.log"))
    for log in reports:
        text = log.read_text()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        # definite and indirect leaks count as errors (--errors-for-leak-kinds)
        if not m or m.group(1) != "0":
            bad.append(log.name)
    print(f"valgrind: {passed}/{total} cases passed under memcheck; {len(reports)} process log(s), "
          f"{'errors in ' + ', '.join(bad) if bad else 'no error and no leak'}")
    return 0 if passed == total and reports and not bad else 1


def sanitized() -> int:
    """The adapter built with ASan and UBSan (core/build-sanitize) over every case of its suites."""
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["make", "-s", "-C", str(CORE), "OUT=build-sanitize", "SANITIZE=1"], check=True, env=env)
    logs = CORE / "build-sanitize" / "reports"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    # a report mid-run aborts the process (its case fails); a leak is reported at exit, into the logs
    os.environ["ASAN_OPTIONS"] = f"detect_leaks=1:abort_on_error=1:log_path={logs}/asan"
    os.environ["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={logs}/ubsan"
    passed, total = _conform([str(CORE / "build-sanitize" / "elastos-core-adapter")], 60.0)
    reports = sorted(p.name for p in logs.iterdir())
    print(f"sanitizers: {passed}/{total} cases passed by the ASan + UBSan adapter; "
          f"{'reports: ' + ', '.join(reports) if reports else 'no sanitizer or leak report'}")
    return 0 if passed == total and not reports else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the coverage figures here")
    ap.add_argument("--valgrind", action="store_true", help="run the adapter under valgrind instead")
    ap.add_argument("--sanitize", action="store_true", help="run the ASan + UBSan adapter over the vectors instead")
    args = ap.parse_args(argv)
    if args.sanitize:
        return sanitized()
    return valgrind() if args.valgrind else coverage(args.json)


if __name__ == "__main__":
    raise SystemExit(main())
