"""Coverage-guided fuzzing of the C core's decoders: libFuzzer with ASan and UBSan.

``python core/fuzz.py [--seconds S] [--target NAME ...] [--json FILE]``

Builds one libFuzzer binary per decoder (``core/fuzz/fuzz.c``, ``-DFUZZ_<NAME>``) into
``core/build-fuzz/``, seeds each corpus from the inputs of the vectors that exercise that decoder,
and runs each target for ``--seconds`` (``make fuzz``: 60 s each; ``make test``: a smoke run of a
few seconds). Any crash, sanitizer report, leak or timeout fails the run; the reproducer is left
in ``core/build-fuzz/`` by libFuzzer. libFuzzer needs clang: when it is missing and this runs as
root with apt-get (as CI does), the script installs ``clang`` and ``libclang-rt-*-dev``; otherwise
it says what to install and exits 1 (``--skip-without-clang``: exit 0 after saying so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent
ROOT = CORE.parent
OUT = CORE / "build-fuzz"
SOURCES = ["src/encoding.c", "src/sha256_shani.c", "src/sha256_avx512.c", "src/sha256_tables.c", "src/crypto.c", "src/cbor.c", "src/chain.c", "src/p2p.c", "src/state.c"]

# target -> the (handler, input field) pairs of the vectors whose inputs seed it
TARGETS: dict[str, list[tuple[str, str]]] = {
    "varuint": [("encoding/varuint_decode", "bytes"), ("encoding/varbytes_decode", "bytes"),
                ("encoding/varstring_decode", "bytes")],
    "base58": [("encoding/base58_decode", "text"), ("encoding/base58check_decode", "text"),
               ("encoding/address_decode", "address")],
    "cbor": [("encoding/cbor_decode", "bytes")],
    "script": [("crypto/redeem_script_parse", "code"), ("crypto/program_verify", "code")],
    "tx": [("chain/ela.tx.decode", "tx"), ("chain/ela.tx.sanity", "tx"), ("chain/ela.tx.context", "tx")],
    "block": [("chain/ela.block.decode", "block"), ("chain/ela.block.sanity", "block")],
    "auxpow": [("chain/ela.auxpow.decode", "auxpow"), ("chain/ela.auxpow.check", "auxpow")],
    "p2p": [("chain/ela.p2p.decode", "message"), ("chain/ela.p2p.read_header", "header")],
    "bits": [],  # compact bits, work and the retarget: no byte inputs in the vectors; libFuzzer starts empty
}


def find_clang() -> str | None:
    for name in ("clang", "clang-16", "clang-15", "clang-14"):
        path = shutil.which(name)
        if path:
            return path
    return None


def install_clang() -> str | None:
    """Install clang and its runtime (libFuzzer, sanitizers) with apt-get when running as root."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("fuzz: installing clang with apt-get (libFuzzer needs it)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "clang"], env=env, capture_output=True).returncode != 0:
        # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "clang"], env=env, capture_output=True)
    clang = find_clang()
    if clang:
        version = re.search(r"clang-(\d+)", os.path.realpath(clang))
        rt = f"libclang-rt-{version.group(1)}-dev" if version else "libclang-rt-dev"
        subprocess.run(["apt-get", "install", "-y", "-q", rt], env=env, check=False, capture_output=True)
    return clang


def build(clang: str, target: str) -> Path:
    OUT.mkdir(exist_ok=True)
    binary = OUT / f"fuzz_{target}"
    flags = ["-std=c11", "-D_GNU_SOURCE", "-g", "-O1", "-fno-omit-frame-pointer",
             "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined",
             f"-DFUZZ_{target.upper()}", "-Iinclude", "-Isrc"]
    subprocess.run([clang, *flags, "-o", str(binary), "fuzz/fuzz.c", *SOURCES, "-lcrypto", "-lpthread"],
                   cwd=CORE, check=True)
    return binary


def seed(target: str) -> Path:
    """The target's corpus directory, seeded with the vectors' inputs (kept between runs)."""
    sys.path.insert(0, str(ROOT))
    from conformance.vectors import default_vectors_dir, load_vectors

    corpus = OUT / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    wanted = dict(TARGETS[target])
    for case in load_vectors(default_vectors_dir()).cases:
        field = wanted.get(f"{case.suite}/{case.handler}")
        value = case.data["input"].get(field) if field else None
        if not isinstance(value, str):
            continue
        if target == "base58":
            data = value.encode("utf-8", "surrogatepass")
        else:
            try:
                data = bytes.fromhex(value)
            except ValueError:
                continue
        if target == "p2p":  # the first byte selects the network, in the generated table's (the spec's) order
            from spec.chain.p2p import NETWORKS

            network = case.data["input"].get("network")
            if network not in NETWORKS:
                continue  # a case about the network name itself (NET-001): the target's byte cannot say it
            data = bytes([list(NETWORKS).index(network)]) + data
        (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return corpus


def run(binary: Path, corpus: Path, seconds: int) -> dict[str, object]:
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    r = subprocess.run([str(binary), str(corpus), f"-max_total_time={seconds}", "-print_final_stats=1",
                        "-timeout=10", "-rss_limit_mb=2048", f"-artifact_prefix={OUT}/"],
                       capture_output=True, text=True, env=env, cwd=OUT)
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    cov = re.findall(r"cov: (\d+)", r.stderr)
    return {"exit": r.returncode, "executions": int(execs.group(1)) if execs else 0,
            "coverage_edges": int(cov[-1]) if cov else 0, "corpus": len(list(corpus.iterdir())),
            "tail": "" if r.returncode == 0 else r.stderr[-3000:]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fuzz the C core's decoders")
    ap.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    ap.add_argument("--target", action="append", choices=sorted(TARGETS), help="only this target (repeatable)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--skip-without-clang", action="store_true", help="exit 0 when clang cannot be had")
    args = ap.parse_args(argv)
    clang = find_clang() or install_clang()
    if not clang:
        print("fuzz: NOT RUN: libFuzzer needs clang (apt-get install clang libclang-rt-14-dev, as root)",
              file=sys.stderr)
        return 0 if args.skip_without_clang else 1
    results: dict[str, dict[str, object]] = {}
    failed = False
    for target in args.target or sorted(TARGETS):
        binary = build(clang, target)
        corpus = seed(target)
        res = run(binary, corpus, args.seconds)
        results[target] = res
        status = "ok" if res["exit"] == 0 else "FAILED"
        print(f"fuzz {target:<8} {res['executions']:>10,} executions  {res['coverage_edges']:>5} edges  "
              f"corpus {res['corpus']:>5}  {status}")
        if res["exit"] != 0:
            failed = True
            print(res["tail"], file=sys.stderr)
    total = sum(int(r["executions"]) for r in results.values())
    print(f"fuzz: {total:,} executions in {len(results)} targets, {args.seconds} s each, ASan + UBSan: "
          f"{'FAILED' if failed else 'no crash, leak or sanitizer report'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"seconds_per_target": args.seconds, "targets": results},
                                              indent=1, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
