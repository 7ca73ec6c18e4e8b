"""The vector framework: generators state inputs and what they mean; the spec fills in the result.

A generator is a function registered with :func:`generator` for one ``(suite, handler)``; it yields
:class:`CaseSpec` objects. For each, the framework runs the handler binding
(:mod:`conformance.bindings`) and writes ``vectors/<suite>/<handler>/<case>.json``:

.. code-block:: json

    {"suite": "encoding", "handler": "varuint_decode", "case": "u16_min",
     "spec_version": "0.1.0", "rules": ["ENC-003"], "description": "...",
     "input": {"bytes": "fdfd00"}, "expect": {"ok": {"value": "253"}}}

A generator also says what it *means*: ``means="ok"`` or ``means=Reason.X``. If the spec's answer
disagrees, generation fails: a vector is never a silent record of whatever the spec did. For a
rejecting case the rule that fired is recorded in ``rules`` (and must be among the ones the
generator listed, if it listed any).

Everything is deterministic: no clock, no randomness except what a generator derives from its
case name, sorted keys, one fixed JSON layout. ``vectors/MANIFEST.json`` lists every case file with
its SHA-256, the counts per suite and handler, the spec version and the generator version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec import SPEC_VERSION
from spec.errors import Reason, Reject

from conformance.bindings import HANDLERS

GENERATOR_VERSION = "1"
FORMAT_VERSION = "1.0"
"""The vector format's version, ``major.minor`` (the manifest carries it; see :mod:`conformance.release`).
A runner reads every manifest of its major version and refuses another major."""
"""Bumped when the layout of case files changes (not when cases are added)."""

MANIFEST = "MANIFEST.json"
_CASE_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,95}")


@dataclass(frozen=True)
class CaseSpec:
    """One case as a generator states it."""

    name: str
    input: dict[str, Any]
    means: str | Reason
    """``"ok"`` or the :class:`Reason` the case must be rejected with."""
    rules: tuple[str, ...] = ()
    description: str = ""
    provenance: dict[str, Any] | None = None
    """For cases taken from upstream data: where they come from."""
    expect_ok: dict[str, Any] | None = None
    """Where a generator knows the answer independently (an upstream value), the fields the spec's
    ``ok`` result must have; generation fails if the spec disagrees."""


@dataclass
class Generator:
    suite: str
    handler: str
    fn: Callable[[], Iterator[CaseSpec]]


GENERATORS: list[Generator] = []


def generator(suite: str, handler: str) -> Callable[[Callable[[], Iterator[CaseSpec]]], Callable[[], Iterator[CaseSpec]]]:
    """Register a generator of cases for ``suite/handler``."""
    if f"{suite}/{handler}" not in HANDLERS:
        raise ValueError(f"no handler binding {suite}/{handler}")

    def register(fn: Callable[[], Iterator[CaseSpec]]) -> Callable[[], Iterator[CaseSpec]]:
        GENERATORS.append(Generator(suite, handler, fn))
        return fn

    return register


class GenerationError(Exception):
    """A generator's stated meaning disagrees with the spec, or a case is malformed."""


def expected_result(qualified: str, data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Run the binding: ``({"ok": ...} or {"reject": ...}, rule that fired)``."""
    try:
        return {"ok": HANDLERS[qualified].fn(data)}, None
    except Reject as e:
        return {"reject": e.reason.value}, e.rule


def build_case(gen: Generator, cs: CaseSpec) -> dict[str, Any]:
    """The JSON object of one case, checked against what the generator means."""
    qualified = f"{gen.suite}/{gen.handler}"
    if not _CASE_NAME.fullmatch(cs.name):
        raise GenerationError(f"{qualified}: bad case name {cs.name!r}")
    expect, fired = expected_result(qualified, cs.input)
    rules = list(cs.rules)
    if cs.means == "ok":
        if "ok" not in expect:
            raise GenerationError(f"{qualified}/{cs.name}: meant ok, spec says {expect} ({fired})")
        if cs.expect_ok is not None:
            wrong = {k: v for k, v in cs.expect_ok.items() if expect["ok"].get(k) != v}
            if wrong:
                raise GenerationError(f"{qualified}/{cs.name}: spec gives {expect['ok']}, upstream says {wrong}")
    else:
        if expect.get("reject") != Reason(cs.means).value:
            raise GenerationError(f"{qualified}/{cs.name}: meant {cs.means}, spec says {expect} ({fired})")
        if fired is not None:
            if rules and fired not in rules:
                raise GenerationError(f"{qualified}/{cs.name}: rule {fired} fired, case lists {rules}")
            if fired not in rules:
                rules.append(fired)
    case: dict[str, Any] = {
        "suite": gen.suite,
        "handler": gen.handler,
        "case": cs.name,
        "spec_version": SPEC_VERSION,
        "rules": sorted(set(rules)),
        "description": cs.description,
        "input": cs.input,
        "expect": expect,
    }
    if cs.provenance is not None:
        case["provenance"] = cs.provenance
    return case


def dumps(obj: Any) -> bytes:
    """The one JSON layout of vector files: sorted keys, 1-space indent, ASCII, trailing newline."""
    return (json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode("ascii")


def generate_all(progress: Callable[[str, int], None] | None = None) -> dict[str, bytes]:
    """Every vector file and the manifest, as ``{relative path: bytes}``."""
    import conformance.generators  # noqa: F401  (registers every generator)

    files: dict[str, bytes] = {}
    counts: dict[str, dict[str, int]] = {}
    ordered = sorted(GENERATORS, key=lambda g: (g.suite, g.handler))
    for i, gen in enumerate(ordered):
        n = 0
        for cs in gen.fn():
            path = f"{gen.suite}/{gen.handler}/{cs.name}.json"
            if path in files:
                raise GenerationError(f"duplicate case {path}")
            files[path] = dumps(build_case(gen, cs))
            n += 1
        counts.setdefault(gen.suite, {})[gen.handler] = counts.get(gen.suite, {}).get(gen.handler, 0) + n
        last_of_handler = i + 1 == len(ordered) or (ordered[i + 1].suite, ordered[i + 1].handler) != (gen.suite, gen.handler)
        if progress and last_of_handler:  # a handler may have several generators: report it once
            progress(f"{gen.suite}/{gen.handler}", counts[gen.suite][gen.handler])
    manifest = {
        "spec_version": SPEC_VERSION,
        "generator_version": GENERATOR_VERSION,
        "format_version": FORMAT_VERSION,
        "total": len(files),
        "suites": {s: {"total": sum(h.values()), "handlers": dict(sorted(h.items()))} for s, h in sorted(counts.items())},
        "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())},
    }
    files[MANIFEST] = dumps(manifest)
    return files


def write_vectors(out_dir: Path, files: dict[str, bytes]) -> None:
    """Replace the vector tree under ``out_dir`` with ``files`` (stale case files are removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for existing in sorted(out_dir.rglob("*.json")):
        rel = existing.relative_to(out_dir).as_posix()
        if rel not in files:
            existing.unlink()
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
    for d in sorted((p for p in out_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def diff_vectors(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Paths that differ between ``out_dir`` and a fresh generation (empty = byte-identical)."""
    problems = []
    on_disk = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.json")} if out_dir.exists() else set()
    for rel in sorted(on_disk - set(files)):
        problems.append(f"stale: {rel}")
    for rel, data in sorted(files.items()):
        path = out_dir / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_bytes() != data:
            problems.append(f"differs: {rel}")
    return problems


# -- reading vectors (used by the runner and the coverage report) --------------------------------


@dataclass
class LoadedCase:
    id: str
    """``suite/handler/case``."""
    suite: str
    handler: str
    data: dict[str, Any]


class ManifestError(Exception):
    """The vector tree does not match its manifest."""


@dataclass
class VectorSet:
    root: Path
    manifest: dict[str, Any]
    cases: list[LoadedCase] = field(default_factory=list)


def load_vectors(root: Path) -> VectorSet:
    """Load and verify every case the manifest lists (hash, location, and nothing unlisted)."""
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise ManifestError(f"{mpath} not found")
    try:
        manifest = json.loads(mpath.read_bytes())
        listed: dict[str, str] = manifest["files"]
    except (ValueError, KeyError, TypeError) as e:
        raise ManifestError(f"{mpath}: unreadable manifest ({e})") from None
    fmt = str(manifest.get("format_version", "1.0"))
    if fmt.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise ManifestError(f"{mpath}: vector format {fmt}; this runner reads format {FORMAT_VERSION.split('.')[0]}.x "
                            f"(use a runner of that major version)")
    vs = VectorSet(root, manifest)
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.json")} - {MANIFEST}
    unlisted = sorted(on_disk - set(listed))
    if unlisted:
        raise ManifestError(f"{len(unlisted)} case files not in the manifest, e.g. {unlisted[0]}")
    for rel, digest in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            raise ManifestError(f"manifest lists {rel}, which does not exist")
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != digest:
            raise ManifestError(f"{rel}: SHA-256 differs from the manifest")
        data = json.loads(raw)
        suite, handler, name = rel[:-5].split("/")
        if (data.get("suite"), data.get("handler"), data.get("case")) != (suite, handler, name):
            raise ManifestError(f"{rel}: suite/handler/case fields do not match its path")
        vs.cases.append(LoadedCase(f"{suite}/{handler}/{name}", suite, handler, data))
    return vs


def default_vectors_dir() -> Path:
    """``vectors/`` of this checkout (or ``$ELASTOS_VECTORS``)."""
    env = os.environ.get("ELASTOS_VECTORS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "vectors"


def shared_dir() -> Path:
    """``../shared`` beside the checkout (or ``$ELASTOS_SHARED``): upstream interop data."""
    env = os.environ.get("ELASTOS_SHARED")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared"
