"""The node import benchmark (conformance/bench_node.py) on a short chain: it runs, reports, and imports it all."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.bench_node import build_blocks, main

FIELDS = {"blocks", "transactions", "signed_transfers", "import_seconds", "blocks_per_s", "tx_per_s",
          "peak_rss_mb", "memory_method", "rss_target_mb", "tip_hash", "tip_height", "last_block_hash", "note"}


def test_bench_node_small_chain(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_node.json"
    assert main(["--blocks", "30", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert FIELDS <= report.keys()
    assert report["blocks"] == report["imported_blocks"] == report["tip_height"] == 30
    assert report["blocks_per_s"] > 0 and report["tx_per_s"] > 0 and 0 < report["peak_rss_mb"] < 300
    # the imported node's tip is the last block built (and the build is deterministic)
    last = list(build_blocks(30))[-1]
    assert report["tip_hash"] == report["last_block_hash"] == last.hash().hex()
    assert "blocks/s" in capsys.readouterr().out


def test_bench_node_blocks_carry_signed_transfers() -> None:
    blocks = list(build_blocks(112))
    transfers = [tx for b in blocks for tx in b.transactions[1:]]
    assert transfers and all(tx.programs for tx in transfers)
