"""The sidechain benchmark runs at a tiny size and reports what it says it does (not timings)."""

from __future__ import annotations

from conformance import bench_sidechain as B


def test_block_comparison_reports_both_sides() -> None:
    r = B.bench_blocks(5, 1)
    assert r["transactions"] == 5 and r["side_ms"] > 0 and r["main_ms"] > 0
    # the ratio is of the unrounded times: it lies within what the 0.01 ms rounding of each time allows
    lo = (r["side_ms"] - 0.005) / (r["main_ms"] + 0.005) - 0.0005
    hi = (r["side_ms"] + 0.005) / (r["main_ms"] - 0.005) + 0.0005
    assert lo <= r["side_over_main"] <= hi


def test_deposit_latency_is_two_blocks() -> None:
    """Mined in one main block, relayed, credited by the sidechain block the next main block proves."""
    assert B.bench_latency()["blocks"] == 2
