"""The implementers page's example adapters are real: the C one (and the Rust one, where rustc exists) is
compiled and run by the conformance runner, passing every varuint_encode case and answering unsupported
to the rest of its suite."""

from __future__ import annotations

import json
import shutil
import subprocess
from argparse import Namespace
from pathlib import Path

import pytest

from conformance import runner

EXAMPLES = Path(__file__).resolve().parents[1] / "conformance" / "examples"


def _run(adapter: Path, tmp: Path) -> dict:
    args = Namespace(vectors=None, impl=str(adapter), suite=["encoding"], case=None, timeout=10, quiet=True,
                     json=str(tmp / "r.json"), junit=None)
    runner.main(args)
    return json.loads((tmp / "r.json").read_text())


def _check(report: dict) -> None:
    cases = report["cases"]
    varuint = [c for c in cases if c["handler"] == "varuint_encode"]
    assert varuint and all(c["status"] == "passed" for c in varuint)
    assert all(c["status"] == "unsupported" for c in cases if c["handler"] != "varuint_encode")


def test_c_example_adapter(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc is not None, "a C compiler is part of this machine's set-up"
    exe = tmp_path / "adapter"
    subprocess.run([cc, "-O2", "-Wall", "-Werror", "-o", str(exe), str(EXAMPLES / "c" / "adapter.c")], check=True)
    _check(_run(exe, tmp_path))


@pytest.mark.skipif(shutil.which("rustc") is None, reason="no Rust toolchain on this machine")
def test_rust_example_adapter(tmp_path: Path) -> None:
    exe = tmp_path / "adapter"
    subprocess.run(["rustc", "-O", "-o", str(exe), str(EXAMPLES / "rust" / "main.rs")], check=True,
                   capture_output=True, timeout=300)
    _check(_run(exe, tmp_path))
