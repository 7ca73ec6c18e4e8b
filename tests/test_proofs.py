"""Tests of the proofs: correspondence of each model with the spec, and the proof framework itself.

The correspondence tests are what tie the model proofs of :mod:`proofs.encoding` to the spec
(DESIGN §6): they evaluate the very model functions the proofs reason about on constants and
compare them with the spec functions, on random inputs and on every boundary of the format.
"""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import z3
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conformance.vectors import CaseSpec, Generator, build_case, dumps
from proofs import encoding, framework, runner
from proofs.framework import Query, proof, run_proof
from spec.encoding.hashes import Uint256, compare_le
from spec.encoding.primitives import Reader, encode_varuint, read_varuint, varuint_size
from spec.errors import DecodeError, Reason
from spec.rules import RULES

U64 = (1 << 64) - 1
BOUNDARIES = (0, 0xFC, 0xFD, 0xFFFF, 0x10000, 0xFFFF_FFFF, 1 << 32, U64)
NEIGHBOURS = sorted({v + d for v in BOUNDARIES for d in (-1, 0, 1) if 0 <= v + d <= U64})

fast = settings(max_examples=200, deadline=None)


# -- correspondence: encode_model == encode_varuint ---------------------------------------------------


def _check_encode(x: int) -> None:
    length, data = encoding.evaluate_encode(x)
    spec = encode_varuint(x)
    assert data[:length] == spec
    assert length == len(spec) == varuint_size(x)
    assert data[length:] == bytes(encoding.VARUINT_MAX_SIZE - length)


@fast
@given(st.integers(0, U64) | st.sampled_from(NEIGHBOURS))
def test_encode_model_matches_spec(x: int) -> None:
    _check_encode(x)


@pytest.mark.parametrize("x", NEIGHBOURS, ids=hex)
def test_encode_model_boundaries(x: int) -> None:
    _check_encode(x)


# -- correspondence: decode_model == read_varuint -------------------------------------------------------


def _check_decode(buf: bytes) -> None:
    accepted, value, consumed = encoding.evaluate_decode(buf)
    r = Reader(buf)
    try:
        spec_value = read_varuint(r)
    except DecodeError as e:
        assert (e.reason, e.rule) == (Reason.NON_CANONICAL_VARUINT, "ENC-003")
        assert not accepted
        assert value == int.from_bytes(buf[1:consumed], "little")
    else:
        assert accepted
        assert value == spec_value
    assert consumed == r.position


_payloads = st.binary(min_size=8, max_size=8) | st.integers(0, (1 << 33) - 1).map(lambda v: v.to_bytes(8, "little"))
_markers = st.integers(0, 255) | st.sampled_from([0xFC, 0xFD, 0xFE, 0xFF])


@fast
@given(_markers, _payloads)
@example(0xFD, bytes(8))
@example(0xFF, (1 << 32).to_bytes(8, "little"))
def test_decode_model_matches_spec(marker: int, payload: bytes) -> None:
    _check_decode(bytes([marker]) + payload)


# the forms as rule ENC-003 states them, written out independently of the model's table
ENC_003_FORMS = ((0xFD, 2, 0xFD), (0xFE, 4, 0x1_0000), (0xFF, 8, 0x1_0000_0000))


def _form_boundaries() -> list[bytes]:
    bufs = [bytes([m]) + bytes(8) for m in (0x00, 0x01, 0xFC)]
    for marker, size, minimum in ENC_003_FORMS:
        for v in (0, minimum - 1, minimum, minimum + 1, (1 << (8 * size)) - 1):
            bufs.append(bytes([marker]) + v.to_bytes(size, "little") + bytes(8 - size))
            bufs.append(bytes([marker]) + v.to_bytes(size, "little") + b"\xff" * (8 - size))
    return bufs


@pytest.mark.parametrize("buf", _form_boundaries(), ids=bytes.hex)
def test_decode_model_boundaries(buf: bytes) -> None:
    _check_decode(buf)


# -- correspondence: compare_model == compare_le ----------------------------------------------------------


def _check_compare(a: bytes, b: bytes) -> None:
    expected = compare_le(a, b)
    assert encoding.evaluate_compare(a, b) == expected
    assert Uint256.from_bytes(a).compare(Uint256.from_bytes(b)) == expected


@fast
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32), st.integers(0, 31),
       st.integers(0, 255), st.booleans())
def test_compare_model_matches_spec(a: bytes, other: bytes, i: int, byte: int, one_byte: bool) -> None:
    b = a[:i] + bytes([byte]) + a[i + 1:] if one_byte else other
    _check_compare(a, b)
    _check_compare(b, a)


def _edge_pairs() -> list[tuple[bytes, bytes]]:
    zero, ones = bytes(32), b"\xff" * 32
    pairs = [(zero, zero), (zero, ones), (ones, ones)]
    for i in (0, 1, 15, 30, 31):
        hi = bytearray(zero)
        hi[i] = 1
        pairs.append((bytes(hi), zero))
        lo = bytearray(ones)
        lo[i] = 0xFE
        pairs.append((bytes(lo), ones))
    pairs.append((b"\xff" + bytes(31), bytes(31) + b"\x01"))  # a larger low byte loses to a larger top byte
    return pairs


@pytest.mark.parametrize("a,b", _edge_pairs())
def test_compare_model_edges(a: bytes, b: bytes) -> None:
    _check_compare(a, b)
    _check_compare(b, a)


# -- the declarations ---------------------------------------------------------------------------------------


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_declarations_are_tied_to_the_spec() -> None:
    proofs = framework.all_proofs()
    assert {p.name for p in proofs} >= {"varuint_roundtrip", "varuint_shortest", "varuint_unique", "uint256_order"}
    assert len({p.name for p in proofs}) == len(proofs)
    root = Path(__file__).resolve().parent.parent
    for p in proofs:
        assert p.statement and p.doc, p.name
        assert all(r in RULES for r in p.rules), p.name
        assert p.about and all(callable(_resolve(a)) and a.startswith("spec.") for a in p.about), p.name
        assert p.module in framework.PROOF_MODULES
        if p.method == "model":
            for test_id in p.correspondence:
                path, name = test_id.split("::")
                assert f"def {name}(" in (root / path).read_text(encoding="utf-8"), test_id


def test_decorator_rejects_bad_declarations() -> None:
    def build() -> Query:
        """A claim."""
        return Query(z3.BoolVal(True), {})

    registry: list[framework.Proof] = []
    kw = dict(statement="s", replay=dict, to_case=dict, correspondence=("t",), registry=registry)
    proof(name="once", **kw)(build)
    with pytest.raises(ValueError, match="twice"):
        proof(name="once", **kw)(build)
    with pytest.raises(ValueError, match="correspondence"):
        proof(name="untied", statement="s", replay=dict, to_case=dict, registry=None)(build)
    with pytest.raises(ValueError, match="name"):
        proof(name="Bad-Name", **kw)(build)


# -- a deliberately wrong model: the framework finds, replays and renders its counterexample ------------------


def _lax_unique() -> Query:
    """Uniqueness of accepted VarUints, with a decoder model that lacks the ENC-003 check (wrong)."""
    return encoding.unique_query(canonical=False)


LAX = proof(
    name="varuint_unique_lax", statement="(wrong model) every accepted VarUint is canonical",
    rules=("ENC-003",), about=encoding._VARUINT_ABOUT, correspondence=("tests/test_proofs.py::test_decode_model_matches_spec",),  # which it would fail
    replay=encoding.replay_buffer, to_case=encoding.case_buffer("varuint_unique_lax"), registry=None,
)(_lax_unique)


def test_wrong_model_gives_a_counterexample_the_spec_rejects() -> None:
    assert LAX not in framework.all_proofs()
    result = run_proof(LAX)
    assert result.status == "counterexample"
    buf = bytes(result.counterexample["buf"])
    # the wrong model accepts the input, the real spec rejects it as non-canonical
    accepted, value, consumed = encoding.evaluate_decode(buf, canonical=False)
    assert accepted and buf[0] >= 0xFD and encode_varuint(value) != buf[:consumed]
    replay = json.loads(result.replay)
    assert replay == {"accepted": False, "bytes": buf[:consumed].hex(), "reject": "NON_CANONICAL_VARUINT", "rule": "ENC-003"}
    case = result.case
    assert case == LAX.to_case(result.counterexample)
    assert case["expect"] == {"reject": "NON_CANONICAL_VARUINT"}
    # the case is exactly what the vector framework builds for the same input and meaning
    gen = Generator(case["suite"], case["handler"], lambda: iter(()))
    spec_case = CaseSpec(case["case"], case["input"], Reason.NON_CANONICAL_VARUINT, tuple(case["rules"]), case["description"])
    assert build_case(gen, spec_case) == case


def test_runner_reports_and_emits_the_counterexample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(framework, "PROOFS", [*framework.all_proofs(), LAX])
    junit, out = tmp_path / "proofs.xml", tmp_path / "vectors"
    assert runner.main(["--only", "varuint_unique_lax", "--junit", str(junit), "--emit-vectors", str(out)]) == 1
    stdout = capsys.readouterr().out
    assert "varuint_unique_lax" in stdout and "counterexample" in stdout and "NON_CANONICAL_VARUINT" in stdout
    files = sorted(out.rglob("*.json"))
    assert len(files) == 1 and files[0].parent == out / "encoding" / "varuint_decode"
    case = json.loads(files[0].read_bytes())
    assert files[0].read_bytes() == dumps(case) and case["expect"] == {"reject": "NON_CANONICAL_VARUINT"}
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


# -- exists claims, unknown results ----------------------------------------------------------------------------


def _declare(name: str, build, **kw) -> framework.Proof:
    return proof(name=name, statement=name, replay=encoding.replay_buffer,
                 to_case=encoding.case_buffer(name), correspondence=("t",), registry=None, **kw)(build)


def test_exists_claim_yields_a_witness_replayed_through_the_spec() -> None:
    def build() -> Query:
        """Some buffer with marker 0xFE is rejected."""
        buf = tuple(z3.BitVec(f"buf_{i}", 8) for i in range(9))
        return Query(z3.Not(encoding.decode_model(buf).accepted), {"buf": buf}, (buf[0] == 0xFE,), kind="exists")

    result = run_proof(_declare("witness", build))
    assert result.status == "proved" and result.counterexample is None
    assert result.witness["buf"][0] == 0xFE
    assert json.loads(result.replay)["reject"] == "NON_CANONICAL_VARUINT"
    assert result.case["expect"] == {"reject": "NON_CANONICAL_VARUINT"}


def test_exists_claim_without_witness_is_refuted() -> None:
    def build() -> Query:
        """No single-byte form is rejected."""
        buf = tuple(z3.BitVec(f"buf_{i}", 8) for i in range(9))
        return Query(z3.Not(encoding.decode_model(buf).accepted), {"buf": buf}, (z3.ULT(buf[0], 0xFD),), kind="exists")

    result = run_proof(_declare("no_witness", build))
    assert result.status == "counterexample" and result.counterexample is None and result.witness is None


def test_timeout_and_broken_query_are_unknown() -> None:
    def hard() -> Query:
        """Factor a 124-bit semiprime (not meant to finish)."""
        p, q = (1 << 61) - 1, (1 << 62) - 57  # both prime
        x, y = z3.BitVec("x", 128), z3.BitVec("y", 128)
        bounds = (z3.ULT(x, 1 << 64), z3.ULT(y, 1 << 64), z3.UGT(x, 1), z3.UGT(y, 1))
        return Query(x * y != p * q, {"x": x, "y": y}, bounds)

    def broken() -> Query:
        """Builds nothing."""
        raise ValueError("no query")

    timed_out = run_proof(_declare("hard", hard), timeout_s=0.2)
    assert timed_out.status == "unknown" and "solver" in timed_out.detail
    failed = run_proof(_declare("broken", broken))
    assert failed.status == "unknown" and "no query" in failed.detail


# -- the runner ------------------------------------------------------------------------------------------------


def test_main_proves_everything_and_writes_json(tmp_path: Path, capsys) -> None:
    report, junit = tmp_path / "proofs.json", tmp_path / "proofs.xml"
    assert runner.main(["--json", str(report), "--junit", str(junit)]) == 0
    captured = capsys.readouterr()
    data = json.loads(report.read_text(encoding="utf-8"))
    names = [p.name for p in framework.all_proofs()]
    assert data["ok"] and data["total"] == len(names) and data["counts"]["proved"] == len(names)
    assert [r["name"] for r in data["results"]] == names
    assert all(r["status"] == "proved" and r["seconds"] >= 0 for r in data["results"])
    assert ET.parse(junit).getroot().find("testsuite").get("tests") == str(len(names))
    assert "total: " in captured.out and all(f"] {n} ..." in captured.err for n in names)


def test_main_only_and_unknown_name(capsys) -> None:
    assert runner.main(["--only", "uint256_order"]) == 0
    assert "uint256_order" in capsys.readouterr().out
    assert runner.main(["--only", "no_such_proof"]) == 2
    assert "no_such_proof" in capsys.readouterr().err
