"""The Carrier benchmark (conformance/bench_carrier.py) runs on a small load and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.bench_carrier import dht_lookups, main


def test_bench_carrier_reports(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_carrier.json"
    assert main(["--messages", "20", "--rounds", "1", "--dht-nodes", "30", "--lookups", "20", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for key in ("messages_1kib", "bulk_5mib"):
        assert r[key]["ratio"] > 0 and r["met"][key] == (r[key]["ratio"] >= r["target_ratio"])
    assert r["messages_1kib"]["carrier_median_ms"] > 0 and r["bulk_5mib"]["carrier_mib_s"] > 0
    assert r["dht"]["found"] == 20 and r["dht"]["median_rounds"] >= 1
    assert "DHT" in capsys.readouterr().out


def test_dht_lookups_find_every_target() -> None:
    d = dht_lookups(100, 50)
    assert d["found"] == 50 and d["max_rounds"] <= 10
