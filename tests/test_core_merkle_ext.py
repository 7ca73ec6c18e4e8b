"""The merkle root's CPython extension (core/python/merkle_ext.c): it answers the plain case, a non-empty list
or tuple of 32-byte ``bytes``, with the spec's root, hands every other input back to the cffi path, which
decides it as before, and never changes an outcome of ``reference.core.merkle_root``."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain.merkle import merkle_root as spec_merkle_root
from spec.errors import DecodeError, Reject
from tests.helpers import require_core

core = require_core()

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
try:
    import build as core_build  # core/build.py
finally:
    sys.path.pop(0)

if core.ext is None:
    if core_build.python_headers() is None:
        pytest.skip("no Python.h for this interpreter: the extension is not built, the cffi path is tested "
                    "elsewhere", allow_module_level=True)
    raise AssertionError(f"Python.h is installed but the extension is not loaded: {core.ext_unavailable_reason}")

HASH = st.binary(min_size=32, max_size=32)


class Hash(bytes):
    """A subclass of bytes: a plain hash as far as the extension is concerned."""


def outcome(fn: Any, hashes: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn(hashes))
    except (DecodeError, Reject) as e:
        return (type(e).__name__, e.reason)
    except Exception as e:  # the same Python error either way (a str among the hashes, say)
        return ("error", type(e).__name__)


def _paths() -> list[int]:
    return [code for code in (0, 1, 2) if core.lib.ec_sha256d64_select(code) == code]


@settings(deadline=None, max_examples=150)
@given(st.lists(HASH, min_size=1, max_size=300), st.booleans())
def test_the_extension_answers_plain_hashes_with_the_spec_root(hashes: list[bytes], as_tuple: bool) -> None:
    """Lists (and tuples) of up to 300 hashes: trees small enough for the SHA-NI code alone and trees whose larger
    levels run in the AVX-512 code's lane layout, on each code the CPU can run (OpenSSL's, SHA-NI, AVX-512)."""
    given_hashes = tuple(hashes) if as_tuple else hashes
    want = spec_merkle_root(hashes)
    try:
        for code in _paths():
            core.lib.ec_sha256d64_select(code)
            assert core.ext.merkle_root(given_hashes) == want, code
            assert core.merkle_root(given_hashes) == want == core.merkle_root_cffi(hashes), code
    finally:
        core.lib.ec_sha256d64_select(2)


def test_the_sizes_where_the_lane_layout_changes_course() -> None:
    """Trees of 61 to 66 hashes (31 and 32 pairs at the first level: the lane layout starts at 32), odd levels
    inside the layout (65: 33 and 17 hashes; 119: 15), first levels with a partial last group, and the level
    of eight pairs where the layout ends: the root is the spec's at each size."""
    for n in (61, 62, 63, 64, 65, 66, 119, 120, 127, 128, 129, 1001):
        hashes = [bytes([n % 251, i % 256, i // 256]) * 10 + b"xy" for i in range(n)]
        assert core.merkle_root(hashes) == spec_merkle_root(hashes), n


EDGE_SIZES = st.one_of(
    st.sampled_from([1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 66, 127, 128, 129, 255, 256, 257, 511, 512, 513]),
    st.integers(1000, 4100))


@settings(deadline=None, max_examples=25)
@given(EDGE_SIZES, st.binary(min_size=1, max_size=8))
def test_every_path_at_the_sizes_where_levels_change_course(n: int, seed: bytes) -> None:
    """Trees whose first levels are 1 to 257 pairs (the SHA-NI code's pairs of two, the AVX-512 code's sixteen,
    the lane layout from 32 pairs with odd levels and a partial last group) and a few thousand hashes: the
    extension, the cffi path and the spec give the same root on each SHA-256 code the CPU runs."""
    import hashlib

    hashes = [hashlib.sha256(seed + i.to_bytes(4, "little")).digest() for i in range(n)]
    want = spec_merkle_root(hashes)
    try:
        for code in _paths():
            core.lib.ec_sha256d64_select(code)
            assert core.ext.merkle_root(hashes) == want, (code, n)
            assert core.merkle_root_cffi(hashes) == want, (code, n)
    finally:
        core.lib.ec_sha256d64_select(2)


ODD_ITEMS = st.one_of(
    HASH.map(bytearray), HASH.map(memoryview), HASH.map(Hash), st.binary(max_size=40),
    st.text(max_size=3), st.integers(0, 3), st.none())


@settings(deadline=None, max_examples=300)
@given(st.lists(st.one_of(HASH, ODD_ITEMS), max_size=12), st.sampled_from(["list", "tuple", "iter", "gen"]))
def test_any_other_input_goes_to_the_cffi_path_unchanged(items: list[Any], kind: str) -> None:
    """Empty lists, other iterables, hashes of other lengths, bytes-likes and things that are not bytes at all:
    ``core.merkle_root`` decides each exactly as the cffi path does (the same root or the same refusal), and the
    extension answers only a non-empty list or tuple of 32-byte bytes (a subclass of bytes counts)."""
    make = {"list": list, "tuple": tuple, "iter": lambda xs: iter(list(xs)), "gen": lambda xs: (x for x in xs)}[kind]
    plain = kind in ("list", "tuple") and bool(items) and all(isinstance(x, bytes) and len(x) == 32 for x in items)
    answer = core.ext.merkle_root(make(items))
    assert (answer is not None) == plain
    if plain:
        assert answer == spec_merkle_root(items)
    assert outcome(core.merkle_root, make(items)) == outcome(core.merkle_root_cffi, make(items))


def test_refusals_keep_the_spec_reasons() -> None:
    """The extension refuses nothing itself: an empty list is MERKLE_EMPTY and a short hash WRONG_LENGTH, each
    raised by the cffi path with the spec's reason."""
    with pytest.raises(Reject) as empty:
        core.merkle_root([])
    assert empty.value.reason.value == "MERKLE_EMPTY"
    with pytest.raises(DecodeError) as short:
        core.merkle_root([b"\x00" * 32, b"\x00" * 31])
    assert short.value.reason.value == "WRONG_LENGTH"


def test_the_extension_is_bound_to_the_library_cffi_loaded() -> None:
    """One copy of the C core in the process: the code selected through cffi is the code the extension's calls
    run (shown by selecting each and checking the root), and a null address is refused without unbinding."""
    with pytest.raises(ValueError):
        core.ext.bind(0)
    with pytest.raises(OverflowError):
        core.ext.bind(-1)
    hashes = [bytes([i]) * 32 for i in range(40)]
    assert core.ext.merkle_root(hashes) == spec_merkle_root(hashes)
    assert core.lib.ec_sha256d64_selected() == max(_paths())


def test_the_gil_is_released_while_the_tree_is_hashed() -> None:
    """Threads computing roots at once all get the spec's root (the extension copies the hashes while it holds
    the GIL and hashes its own buffer without it)."""
    hashes = [bytes([i % 256, i // 256]) * 16 for i in range(2000)]
    want = spec_merkle_root(hashes)
    results: list[bytes] = []

    def work() -> None:
        for _ in range(50):
            results.append(core.merkle_root(hashes))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 200


def test_without_the_extension_the_cffi_path_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without Python.h has no extension: the loader says why and ``merkle_root`` takes the cffi
    path for everything, with the same results."""
    monkeypatch.setattr(core, "EXT_DIR", tmp_path)
    monkeypatch.setattr(core, "ext", None)
    monkeypatch.setattr(core, "ext_unavailable_reason", None)
    core._load_ext()
    assert core.ext is None and "is not built" in core.ext_unavailable_reason
    hashes = [bytes([i]) * 32 for i in range(33)]
    assert core.merkle_root(hashes) == spec_merkle_root(hashes)


def test_the_build_reports_missing_python_headers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    """Without Python.h the build skips the extension with a message naming the package to install."""
    monkeypatch.setattr(core_build.sysconfig, "get_paths", lambda: {"include": str(tmp_path)})
    assert core_build.python_headers() is None
    assert core_build.build_extension() is None
    assert "no Python.h" in capsys.readouterr().err


def test_a_broken_extension_file_falls_back_to_the_cffi_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file under the extension's name that does not load (a stale or foreign build) does not break the
    bindings: the loader says why, and ``merkle_root`` answers through cffi."""
    import importlib.machinery

    (tmp_path / ("_elastos_core_ext" + importlib.machinery.EXTENSION_SUFFIXES[0])).write_bytes(b"not an ELF file")
    monkeypatch.setattr(core, "EXT_DIR", tmp_path)
    monkeypatch.setattr(core, "ext", None)
    monkeypatch.setattr(core, "ext_unavailable_reason", None)
    core._load_ext()
    assert core.ext is None and core.ext_unavailable_reason.startswith("cannot load")
    hashes = [bytes([i]) * 32 for i in range(40)]
    assert core.merkle_root(hashes) == spec_merkle_root(hashes)
