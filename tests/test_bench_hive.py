"""The Hive benchmark (conformance/bench_hive.py) at a small size: it runs, reports, and the sync moves
only the changed files."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.bench_hive import main


def test_bench_hive_small(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_hive.json"
    assert main(["--mib", "2", "--files", "300", "--changed", "2", "--signins", "2", "--no-fail",
                 "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["changed_files"] == 6 and r["sync_uploads"] == 6 and r["sync_bytes_down"] == 0
    assert r["sync_only_changes"] and r["sync_other_actions"] == [["adopt", "bench.bin"]]
    assert r["upload_mib_per_s"] > 0 and r["download_mib_per_s"] > 0 and r["signin_ms"] > 0
    assert "sign-in round trip" in capsys.readouterr().out
