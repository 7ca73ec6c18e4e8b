"""The Hive benchmark (conformance/bench_hive.py) at a small size: it runs, reports the vault and the bare HTTP
stack, the sync moves only the changed files, and a missed throughput target fails the run unless --no-fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import bench_hive
from conformance.bench_hive import main

SMALL = ["--mib", "2", "--files", "300", "--changed", "2", "--signins", "2", "--repeat", "1"]


def test_bench_hive_small(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_hive.json"
    assert main([*SMALL, "--no-fail", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["changed_files"] == 6 and r["sync_uploads"] == 6 and r["sync_bytes_down"] == 0
    assert r["sync_only_changes"] and r["sync_other_actions"] == [["adopt", "bench.bin"], ["adopt", "public.bin"]]
    assert r["upload_mib_per_s"] > 0 and r["download_mib_per_s"] > 0 and r["signin_ms"] > 0
    assert r["stack_upload_ratio"] > 0 and r["stack_download_ratio"] > 0
    assert r["public_upload_seconds"] > 0 and r["sha256_seconds"] > 0
    # the ceiling is the copy over the highest floor, never above any floor's own ratio
    assert r["upload_ceiling_ratio"] == min(r["sha256_ratio"], r["durable_write_ratio"], r["stack_upload_ratio"],
                                            r["upload_cpu_floor_ratio"])
    assert r["download_ceiling_ratio"] == min(r["sha256_ratio"], r["stack_download_ratio"],
                                              r["download_cpu_floor_ratio"])
    # the CPU floor is the parts' CPU time over the cores
    assert r["upload_cpu_floor_seconds"] == pytest.approx(
        (r["sha256_seconds"] + r["stack_upload_cpu_seconds"] + r["durable_write_cpu_seconds"]) / r["cores"])
    assert r["download_cpu_floor_seconds"] == pytest.approx(
        (r["sha256_seconds"] + r["stack_download_cpu_seconds"]) / r["cores"])
    assert r["sha256_memory_seconds"] > 0 and r["durable_write_seconds"] > 0
    assert len(r["load_average"]) == 2 and len(r["load_average"][0]) == 3
    assert r["upload_cpu_seconds"] > 0 and r["download_cpu_seconds"] > 0 and r["cores"] >= 1
    assert len(r["runs_seconds"]["up"]) == 1
    printed = capsys.readouterr()
    assert "sign-in round trip" in printed.out and "floor: HTTP upload" in printed.out
    assert "floor: SHA-256" in printed.out and "ceiling" in printed.out
    assert "floor: durable write" in printed.out and "floor: CPU" in printed.out
    assert "throughput: run 1 of 1" in printed.err


def test_a_missed_target_fails_unless_no_fail(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(bench_hive, "THROUGHPUT_TARGET", 1e9)  # no machine reaches this
    assert main([*SMALL, "--files", "100", "--json", str(tmp_path / "r.json")]) == 1
    assert "below" in capsys.readouterr().err
    assert main([*SMALL, "--files", "100", "--no-fail"]) == 0
