"""The DID benchmark (conformance/bench_did.py) at tiny sizes: it runs, reports every measure with sane
values, builds requests the spec accepts, and its fast request builder writes what the spec's does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import bench_did as B
from spec.did import chain
from spec.did import document as D


def test_fast_create_is_the_spec_built_request() -> None:
    for i in (1, 2, 999):
        did, sk, text = B.primitive_document(i)
        assert B.fast_create(i) == B.request("create", did, sk, text)
        doc = D.parse_document(text)
        assert str(doc.subject) == did and D.is_genuine(doc) and D.normalized(doc) == text
    assert len({B.primitive_document(i)[0] for i in range(5)}) == 5


def test_bench_did_tiny(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench_did.json"
    code = B.main(["--docs", "12", "--rounds", "1", "--updates", "6", "--sizes", "10,30", "--samples", "3",
                   "--block", "7", "--json", str(out), "--no-fail"])
    assert code == 0
    report = json.loads(out.read_text())
    d, r = report["documents"], report["resolve"]
    assert d["documents"] == 12 and d["rounds"] == 1 and d["target"] == B.DOCUMENT_TARGET
    for k in ("raw_verify_per_s", "documents_per_s", "parse_only_per_s", "is_genuine_only_per_s"):
        assert d[k] > 0
    # the report's rates are rounded, its ratio is of the unrounded rates: equal within that rounding
    assert d["ratio"] == pytest.approx(d["documents_per_s"] / d["raw_verify_per_s"], rel=0.01, abs=0.0015)
    assert d["ok"] == (d["ratio"] >= 0.6)
    assert r["updates"] == 6 and [s["other_dids"] for s in r["sizes"]] == [10, 30]
    # every request was accepted and stored: the target's create and updates, then the other DIDs
    assert [s["stored_requests"] for s in r["sizes"]] == [1 + 6 + 10, 1 + 6 + 30]
    for s in r["sizes"]:
        assert all(s[k] > 0 for k in ("resolve_latest_ms", "resolve_all_ms", "resolve_other_ms", "resolve_missing_ms"))
        assert s["sign_s"] >= 0 and s["apply_s"] >= 0
    assert r["ratio_latest"] == pytest.approx(r["sizes"][-1]["resolve_latest_ms"] / r["sizes"][0]["resolve_latest_ms"],
                                              rel=0.01, abs=0.0015)
    assert r["ok"] == (max(r["ratio_latest"], r["ratio_all"]) <= B.RESOLVE_TARGET)
    assert report["ok"] == (d["ok"] and r["ok"])
    text = capsys.readouterr().out
    assert "parse + is_genuine, 12 documents" in text and "resolve at 30 vs 10 DIDs" in text


def test_bench_did_rejects_bad_sizes(capsys) -> None:
    import pytest

    for sizes in ("100", "100,10", "0,10"):
        with pytest.raises(SystemExit):
            B.main(["--sizes", sizes])
    assert "--sizes" in capsys.readouterr().err


def test_bench_chain_resolves_the_target(tmp_path: Path) -> None:
    c = B.Chain(str(tmp_path / "idc"), block=3)
    try:
        report = B._bench_resolve(c, [4, 8], updates=5, samples=1, log=lambda m: None)
        status, txs = c.service.resolve_did(B.primitive_document(0)[0], all=True)
        assert status == chain.STATUS_VALID and len(txs) == 6 and txs[-1].operation == "create"
        assert all(t.operation == "update" for t in txs[:-1])
        assert c.service.resolve_did(B.primitive_document(8)[0])[0] == chain.STATUS_VALID
        assert c.service.resolve_did(B.primitive_document(9)[0])[0] == chain.STATUS_NOT_FOUND
        assert report["target_build"]["apply_s"] >= 0
    finally:
        c.service.close()
