"""The vector framework: determinism, meanings checked against the spec, coverage of every rule."""

from __future__ import annotations

from pathlib import Path

import json

import pytest

from conformance import coverage
from conformance.vectors import (
    CaseSpec, GenerationError, Generator, build_case, default_vectors_dir, diff_vectors, generate_all,
    load_vectors, write_vectors,
)
from spec.errors import Reason
from spec.rules import all_rules


@pytest.fixture(scope="module")
def generated():
    return generate_all()


def test_committed_vectors_regenerate_byte_identically(generated):
    assert diff_vectors(default_vectors_dir(), generated) == []


def test_generation_is_deterministic(generated):
    assert generate_all() == generated


def test_write_then_diff_is_clean_and_removes_stale_files(generated, tmp_path):
    (tmp_path / "encoding" / "old").mkdir(parents=True)
    (tmp_path / "encoding" / "old" / "stale.json").write_text("{}")
    write_vectors(tmp_path, generated)
    assert diff_vectors(tmp_path, generated) == []
    assert not (tmp_path / "encoding" / "old").exists()


def test_manifest_counts_and_sizes(generated):
    manifest = json.loads(generated["MANIFEST.json"])
    assert manifest["total"] == len(generated) - 1 == len(manifest["files"])
    assert sum(s["total"] for s in manifest["suites"].values()) == manifest["total"]
    assert manifest["suites"]["encoding"]["total"] + manifest["suites"]["crypto"]["total"] >= 300


def test_every_case_has_the_documented_shape():
    vs = load_vectors(default_vectors_dir())
    for c in vs.cases:
        d = c.data
        assert set(d) <= {"suite", "handler", "case", "spec_version", "rules", "description", "input", "expect", "provenance"}
        assert list(d["expect"]) in (["ok"], ["reject"]), c.id
        if "reject" in d["expect"]:
            Reason(d["expect"]["reject"])
            assert d["rules"], f"{c.id}: a rejecting case names the rule that rejects it"


def test_every_rule_has_accepting_and_rejecting_vectors():
    table = coverage.compute()
    assert {r.rule for r in table} == {r.id for r in all_rules()}
    missing = [(r.rule, len(r.accepting), len(r.rejecting)) for r in table if not r.complete]
    assert missing == []


REPO = Path(__file__).resolve().parents[1]


def test_interop_cases_carry_provenance():
    vs = load_vectors(default_vectors_dir())
    upstream = [c for c in vs.cases if "provenance" in c.data]
    assert len(upstream) >= 20
    for c in upstream:
        p = c.data["provenance"]
        assert p["upstream"], c.id
        if "data_file" in p:  # a copy kept in this repository, with its own provenance note
            assert p["data_file"].startswith("tests/data/") and (REPO / p["data_file"]).is_file(), c.id
        elif "research" in p:  # a fact quoted in a research note (repository, commit and path in upstream)
            assert p["research"].startswith("shared/research/") and p["upstream"].get("repo"), c.id
        else:
            assert p["interop_file"].startswith("shared/interop/"), c.id


def _gen():
    return Generator("encoding", "varuint_decode", lambda: iter(()))


def test_a_generator_whose_meaning_disagrees_with_the_spec_fails():
    with pytest.raises(GenerationError, match="meant ok"):
        build_case(_gen(), CaseSpec("x", {"bytes": "fd0000"}, "ok"))
    with pytest.raises(GenerationError, match="meant TRUNCATED"):
        build_case(_gen(), CaseSpec("x", {"bytes": "fd0000"}, Reason.TRUNCATED))
    with pytest.raises(GenerationError, match="fired"):
        build_case(_gen(), CaseSpec("x", {"bytes": "fd0000"}, Reason.NON_CANONICAL_VARUINT, ("ENC-001",)))
    with pytest.raises(GenerationError, match="bad case name"):
        build_case(_gen(), CaseSpec("Bad Name", {"bytes": "00"}, "ok"))


def test_rejecting_case_records_the_rule_that_fired():
    case = build_case(_gen(), CaseSpec("x", {"bytes": "fd0000"}, Reason.NON_CANONICAL_VARUINT))
    assert case["rules"] == ["ENC-003"] and case["expect"] == {"reject": "NON_CANONICAL_VARUINT"}


def test_an_upstream_value_the_spec_does_not_reproduce_fails_generation():
    gen = Generator("crypto", "sha256d", lambda: iter(()))
    with pytest.raises(GenerationError, match="upstream says"):
        build_case(gen, CaseSpec("x", {"data": ""}, "ok", expect_ok={"digest": "00" * 32}))
    ok = build_case(gen, CaseSpec("x", {"data": ""}, "ok",
                                  expect_ok={"digest": "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"}))
    assert "expect_ok" not in ok and ok["expect"]["ok"]["digest"].startswith("5df6e0e2")
