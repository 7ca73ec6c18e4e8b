"""The C core benchmark (conformance/bench_core.py) at a small size: it runs, measures the merkle root on every
SHA-256 code the CPU can run with the floors beside it, and a missed target fails the run unless --no-fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import bench_core
from conformance.bench_core import CODES, main, merkle_pairs
from tests.helpers import require_core

core = require_core()
SMALL = ["--txs", "20", "--rounds", "1", "--min-seconds", "0"]


def test_merkle_pairs_counts_each_level() -> None:
    assert [merkle_pairs(n) for n in (1, 2, 3, 4, 5, 1001)] == [0, 1, 3, 3, 6, 1004]


def test_bench_core_small(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_core.json"
    assert main([*SMALL, "--no-fail", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["transactions"] == 21 and r["merkle_pairs"] == merkle_pairs(21)
    default = int(core.lib.ec_sha256d64_selected())
    assert r["merkle_code"] == CODES[default]
    # every code below the default that this CPU runs is measured beside it
    lower = [CODES[c] for c in range(default) if core.lib.ec_sha256d64_select(c) == c]
    core.lib.ec_sha256d64_select(default)
    assert sorted(r["merkle_c_speedup_on"]) == sorted(lower)
    assert (CODES[0] in r["merkle_c_speedup_on"]) == (default > 0)  # OpenSSL's compression always runs
    assert all(v > 0 for v in r["merkle_c_speedup_on"].values())
    # the ceiling (the spec's time over the C hashing alone), the root alone and through cffi alone
    s = r["seconds"]
    # (the ratio is rounded to two decimals and the seconds to seven: a small run's ratio can be 0.3)
    assert r["merkle_ceiling_over_c_pairs"] == pytest.approx(s["merkle_py"] / s["merkle_c_pairs"], rel=0.02, abs=0.006)
    assert r["merkle_c_cffi_speedup"] == pytest.approx(s["merkle_py"] / s["merkle_c_cffi"], rel=0.02, abs=0.006)
    assert r["merkle_c_root_alone_speedup"] > 0
    assert r["merkle_binding"] == ("c-api" if core.ext is not None else "cffi")
    assert r["c_speedup"]["block_decode"] > 0 and r["node_c_vs_raw_verify"] > 0
    printed = capsys.readouterr().out
    assert "merkle root" in printed and "through cffi alone" in printed
    assert ("the binding measured above: the CPython extension" in printed) == (core.ext is not None)
    assert ("C core on OpenSSL's compression" in printed) == (default > 0)
    # where the AVX-512 code is the default, the CPU's bound for it is measured in the same run
    assert r["vector_bound"]["available"] == (r["merkle_code"] == "avx-512")
    if r["vector_bound"]["available"]:
        b = r["vector_bound"]
        assert r["merkle_ceiling_at_vector_bound"] == pytest.approx(
            s["merkle_py"] / (r["merkle_pairs"] / 16 * b["bound_ns"] * 1e-9), rel=0.01)
        assert f"the CPU's bound for the AVX-512 code: {b['bound_ns']:.0f} ns a group" in printed


def test_a_missed_target_fails_unless_no_fail(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(bench_core, "DECODE_TARGET", 1e9)  # no machine reaches this
    monkeypatch.setattr(bench_core, "vector_bound", lambda: {"available": False})  # measured in the test above
    assert main(SMALL) == 1
    assert main([*SMALL, "--no-fail"]) == 0
