"""The conformance runner against the reference, the example adapter, and misbehaving adapters."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from argparse import Namespace
from pathlib import Path

import pytest

from conformance import runner
from conformance.vectors import ManifestError, default_vectors_dir, load_vectors

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = [sys.executable, str(ROOT / "conformance" / "examples" / "example_adapter.py")]
REFERENCE = [sys.executable, "-m", "reference.adapter"]


@pytest.fixture(scope="module")
def vectors():
    return load_vectors(default_vectors_dir())


def pick(vectors, *handlers, per_handler=None):
    out = []
    for h in handlers:
        cases = [c for c in vectors.cases if f"{c.suite}/{c.handler}" == h]
        out.extend(cases[:per_handler] if per_handler else cases)
    return out


def counts(report):
    total = {s: 0 for s in runner.STATUSES}
    for r in report.results:
        total[r.status] += 1
    return total


def test_reference_passes_everything_with_nothing_unsupported(vectors):
    report = runner.run(REFERENCE, vectors.cases, manifest_total=len(vectors.cases))
    assert report.fatal is None
    assert counts(report) == {"passed": len(vectors.cases), "failed": 0, "unsupported": 0, "crashed": 0}
    assert report.all_sent and report.ok
    assert report.sent == {c.id for c in vectors.cases}
    assert report.implementation["name"] == "elastos-reference"
    assert {f"{c.suite}/{c.handler}" for c in vectors.cases} <= set(report.implementation["handlers"])


def test_example_adapter_fails_exactly_its_deliberate_bug(vectors):
    report = runner.run(EXAMPLE, vectors.cases)
    failed = {r.id for r in report.results if r.status == "failed"}
    expected_failures = {
        c.id for c in vectors.cases
        if c.handler == "varuint_decode" and c.data["expect"].get("reject") == "NON_CANONICAL_VARUINT"
    }
    assert failed == expected_failures and len(failed) >= 8
    announced = set(report.implementation["handlers"])
    for r in report.results:
        if f"{r.suite}/{r.handler}" in announced:
            assert r.status in ("passed", "failed"), r
        else:
            assert r.status == "unsupported", r
    assert not report.ok and report.all_sent


@pytest.mark.parametrize("mode, status, marker", [
    ("crash", "crashed", "crashed"),
    ("garbage", "failed", "malformed"),
    ("wrong-id", "failed", "malformed"),
])
def test_misbehaviour_is_charged_to_the_case_that_causes_it(vectors, mode, status, marker):
    cases = pick(vectors, "encoding/varuint_encode", "encoding/base58_encode", "crypto/sha256d")
    report = runner.run(EXAMPLE + ["--misbehave", mode, "--on", "encoding/base58_encode"], cases, timeout=5)
    by = {r.id: r for r in report.results}
    for c in cases:
        r = by[c.id]
        if c.handler == "base58_encode":
            assert r.status == status and marker in r.detail, r
        else:
            assert r.status == "passed", r  # the other handlers are unaffected by the restarts
    assert report.restarts >= sum(1 for c in cases if c.handler == "base58_encode")
    assert report.all_sent and not report.ok


def test_hang_times_out_and_the_run_goes_on(vectors):
    cases = pick(vectors, "encoding/varuint_encode", per_handler=3) + pick(vectors, "encoding/base58_encode", per_handler=2) \
        + pick(vectors, "crypto/sha256d", per_handler=3)
    report = runner.run(EXAMPLE + ["--misbehave", "hang"], cases, timeout=0.5)
    hung = [r for r in report.results if r.handler == "base58_encode"]
    assert hung and all(r.status == "crashed" and "timeout" in r.detail for r in hung)
    assert all(r.status == "passed" for r in report.results if r.handler != "base58_encode")


@pytest.mark.parametrize("mode", ["bad-hello", "exit-at-start"])
def test_broken_start_is_fatal_and_every_case_is_crashed(vectors, mode):
    cases = pick(vectors, "crypto/sha256d")
    report = runner.run(EXAMPLE + ["--misbehave", mode], cases, timeout=2)
    assert report.fatal
    assert all(r.status == "crashed" for r in report.results) and len(report.results) == len(cases)
    assert not report.ok


def test_missing_command_is_fatal(vectors):
    report = runner.run(["/nonexistent/impl"], pick(vectors, "crypto/sha256d"))
    assert report.fatal and "cannot start" in report.fatal and not report.ok


def test_reports_json_and_junit(vectors, tmp_path):
    cases = pick(vectors, "encoding/varuint_decode", "crypto/sha256")
    report = runner.run(EXAMPLE, cases)
    doc = runner.report_json(report)
    assert doc["selected"] == len(cases) and doc["sent"] == len(cases) and doc["all_sent"] is True
    assert doc["suites"]["encoding"]["failed"] == sum(1 for r in report.results if r.status == "failed")
    assert doc["suites"]["crypto"]["unsupported"] == len(pick(vectors, "crypto/sha256"))
    json.dumps(doc)
    root = ET.fromstring(runner.report_junit(report))
    assert int(root.get("tests")) == len(cases)
    fails = root.findall(".//failure")
    skips = root.findall(".//skipped")
    assert len(fails) == doc["suites"]["encoding"]["failed"] and len(skips) == len(pick(vectors, "crypto/sha256"))
    table = runner.format_table(report)
    assert "encoding" in table and "total" in table


def _args(**kw):
    base = dict(impl=None, suite=None, case=None, vectors=None, junit=None, json=None, timeout=10.0, quiet=True)
    base.update(kw)
    return Namespace(**base)


def test_cli_main_exit_codes_and_files(tmp_path, capsys):
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    assert runner.main(_args(suite=["crypto"], json=str(j), junit=str(x))) == 0
    out = capsys.readouterr().out
    assert "crypto" in out and "all answered" in out
    assert json.loads(j.read_text())["ok"] is True
    ET.fromstring(x.read_bytes())
    assert runner.main(_args(impl=" ".join(EXAMPLE), suite=["encoding"])) == 1
    assert "replay one: elastos conform" in capsys.readouterr().out


def test_replay_one_case(capsys):
    assert runner.main(_args(case="encoding/varuint_decode/non_canonical_fd_zero")) == 0
    out = capsys.readouterr().out
    assert "verdict:  passed" in out and '"fd0000"' in out
    assert runner.main(_args(impl=" ".join(EXAMPLE), case="encoding/varuint_decode/non_canonical_fd_zero")) == 1
    assert "verdict:  failed" in capsys.readouterr().out
    assert runner.main(_args(case="encoding/nope/nope")) == 2


def test_manifest_protects_the_vectors(tmp_path):
    copy = tmp_path / "v"
    shutil.copytree(default_vectors_dir(), copy)
    load_vectors(copy)
    victim = copy / "encoding" / "varuint_decode" / "zero.json"
    original = victim.read_bytes()
    victim.write_bytes(original.replace(b'"00"', b'"01"'))
    with pytest.raises(ManifestError, match="SHA-256"):
        load_vectors(copy)
    victim.write_bytes(original)
    (copy / "encoding" / "varuint_decode" / "extra.json").write_text("{}")
    with pytest.raises(ManifestError, match="not in the manifest"):
        load_vectors(copy)
    (copy / "encoding" / "varuint_decode" / "extra.json").unlink()
    victim.unlink()
    with pytest.raises(ManifestError, match="does not exist"):
        load_vectors(copy)
    assert runner.main(_args(vectors=str(copy))) == 2
