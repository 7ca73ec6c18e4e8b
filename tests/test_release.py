"""The conformance release: byte-identical bundles, conform from a bundle, and clear refusals of a foreign
vector-format major version or adapter protocol."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
from argparse import Namespace
from pathlib import Path

import pytest

from conformance import release, runner
from conformance.vectors import FORMAT_VERSION, ManifestError, default_vectors_dir, load_vectors


def test_two_builds_give_the_same_bytes_and_a_matching_checksum(tmp_path: Path) -> None:
    a, da = release.write_release(tmp_path / "a")
    b, db = release.write_release(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes() and da == db
    assert (tmp_path / "a" / "SHA256SUMS").read_text() == f"{hashlib.sha256(a.read_bytes()).hexdigest()}  {a.name}\n"
    with tarfile.open(a) as tar:
        members = tar.getmembers()
    assert [m.name for m in members if m.isfile()] == sorted(m.name for m in members if m.isfile())
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", release.EPOCH)}
    names = {m.name.split("/", 1)[1] for m in members if m.isfile()}
    assert {"CHANGELOG.md", "FORMAT", "README.md", "vectors/MANIFEST.json"} <= names
    assert len([n for n in names if n.startswith("vectors/")]) == load_vectors(default_vectors_dir()).manifest["total"] + 1


def test_conform_runs_from_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle, _ = release.write_release(tmp_path)
    args = Namespace(vectors=str(bundle), impl=None, suite=["encoding"], case=None, timeout=10, quiet=True,
                     json=str(tmp_path / "r.json"), junit=None)
    assert runner.main(args) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and report["all_sent"] and report["vectors"].endswith("/vectors")
    assert report["suites"]["encoding"]["passed"] == report["suites"]["encoding"]["cases"] > 0


def test_a_foreign_format_major_version_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "v"
    shutil.copytree(default_vectors_dir(), root)
    m = json.loads((root / "MANIFEST.json").read_text())
    major = int(FORMAT_VERSION.split(".")[0])
    m["format_version"] = f"{major + 1}.0"
    (root / "MANIFEST.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError, match=rf"vector format {major + 1}\.0; this runner reads format {major}\.x"):
        load_vectors(root)


def test_a_foreign_adapter_protocol_is_refused_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "adapter.py"
    fake.write_text("import json, sys\nsys.stdin.readline()\n"
                    "print(json.dumps({'hello': {'protocol': 2, 'name': 'x', 'version': '1', 'handlers': []}}), flush=True)\n"
                    "sys.stdin.read()\n")
    impl = runner.Impl([sys.executable, str(fake)])
    try:
        with pytest.raises(runner.ImplDied, match="speaks adapter protocol 2; this runner speaks 1"):
            runner.hello(impl, 10)
    finally:
        impl.close()
