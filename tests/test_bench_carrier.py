"""The Carrier benchmark (conformance/bench_carrier.py) runs on a small load and reports every figure;
its exit status says whether the targets were met."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.bench_carrier import dht_lookups, main, spec_bulk, spec_messages


def test_bench_carrier_reports(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_carrier.json"
    status = main(["--messages", "20", "--rounds", "1", "--dht-nodes", "30", "--lookups", "20", "--json", str(out)])
    r = json.loads(out.read_text())
    for key in ("messages_1kib", "bulk_5mib"):
        assert r[key]["ratio"] > 0 and r["met"][key] == (r[key]["ratio"] >= r["target_ratio"])
        assert r[key]["spec_only_ratio"] > 0 and r[key]["cpu_ratio"] > 0
    assert 0 < r["messages_1kib"]["median_latency_ratio"]
    assert status == (0 if all(r["met"].values()) else 1)  # a missed target fails the run
    assert r["messages_1kib"]["carrier_median_ms"] > 0 and r["bulk_5mib"]["carrier_mib_s"] > 0
    assert r["dht"]["found"] == 20 and r["dht"]["median_rounds"] >= 1
    text = capsys.readouterr().out
    assert "DHT" in text and "spec work alone" in text
    assert ("missed" in text) == (status == 1)


def test_no_fail_exits_zero(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    assert main(["--messages", "5", "--rounds", "1", "--dht-nodes", "20", "--lookups", "5", "--no-fail",
                 "--json", str(out)]) == 0
    assert set(json.loads(out.read_text())["met"]) == {"messages_1kib", "bulk_5mib"}


def test_spec_pipelines_run() -> None:
    assert spec_messages(10) > 0 and spec_bulk() > 0  # spec_bulk checks the reassembled message itself


def test_dht_lookups_find_every_target() -> None:
    d = dht_lookups(100, 50)
    assert d["found"] == 50 and d["max_rounds"] <= 10
