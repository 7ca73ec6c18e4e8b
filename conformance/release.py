"""The conformance release: a versioned, reproducible bundle of the vectors.

``make release`` (``elastos release``) writes into ``dist/``:

=====================================  ===========================================================
file                                   contents
=====================================  ===========================================================
``elastos-vectors-<spec>.tar.gz``      ``elastos-vectors-<spec>/`` holding ``vectors/`` (every case
                                       and ``MANIFEST.json``), ``CHANGELOG.md`` (format changes),
                                       ``FORMAT`` (the vector-format and adapter-protocol versions)
                                       and ``README.md`` (how to run it)
``SHA256SUMS``                         the bundle's SHA-256, as ``sha256sum`` writes it
=====================================  ===========================================================

The archive is the same bytes on every build: members in sorted order, owner and group 0 with empty
names, every mtime :data:`EPOCH`, modes 0644 / 0755, and gzip with no file name and mtime 0.
``elastos conform --vectors BUNDLE.tar.gz`` runs straight from a bundle (it is unpacked to a temporary
folder, its manifest checked as for any vector tree).

Versions: the vector format is :data:`conformance.vectors.FORMAT_VERSION` (``major.minor``; the
manifest carries it) and the adapter protocol :data:`conformance.protocol.PROTOCOL_VERSION`. A runner
reads any bundle of its own format major version and refuses another major with a clear message; a
minor version only adds (new optional fields, new handlers).
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from spec import SPEC_VERSION

from conformance.protocol import PROTOCOL_VERSION
from conformance.vectors import FORMAT_VERSION, MANIFEST, default_vectors_dir, load_vectors

__all__ = ["EPOCH", "CHANGELOG", "build_bundle", "write_release", "unpack_bundle"]

EPOCH = 1_700_000_000
"""The mtime of every member (2023-11-14T22:13:20Z): a fixed date, so builds are byte-identical."""

CHANGELOG = """# Changelog of the vector format and the adapter protocol

Versions are `major.minor`. A runner reads every bundle of its own format major version; a new minor
version only adds (optional fields, handlers, suites). The adapter protocol's version is an integer
sent in the hello; a runner refuses an implementation that speaks another one.

## Vector format 1.0, adapter protocol 1
- Cases are `vectors/<suite>/<handler>/<case>.json` with `suite`, `handler`, `case`, `spec_version`,
  `rules`, `description`, `input`, `expect` (`{"ok": ...}` or `{"reject": "REASON"}`) and, for cases
  from upstream data, `provenance`.
- `vectors/MANIFEST.json` lists every case file with its SHA-256, the counts per suite and handler,
  `spec_version`, `generator_version` and `format_version`.
- The adapter protocol: `{"hello": {"protocol": 1}}` answered by name, version and handlers; then one
  `{"id", "handler", "input"}` per case answered by `ok`, `reject`, `unsupported` or `error`.
"""

_README = """# Elastos protocol reference: conformance vectors {spec}

Vector format {fmt}, adapter protocol {proto}. `vectors/MANIFEST.json` lists every case and its
SHA-256. Run an implementation against this bundle with

    elastos conform --vectors elastos-vectors-{spec}.tar.gz --impl "your-adapter-command"

The adapter protocol and the case format are documented in the reference's published spec
(chapters "The adapter protocol" and "The vector format"); CHANGELOG.md lists format changes.
"""


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = EPOCH
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mtime = EPOCH
    info.mode = 0o755
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info)


def build_bundle(vectors: Path | None = None) -> tuple[str, bytes]:
    """The bundle's file name and bytes, from a vector tree (checked against its manifest first)."""
    root = vectors or default_vectors_dir()
    load_vectors(root)  # every listed file present with its hash, nothing unlisted
    manifest = json.loads((root / MANIFEST).read_bytes())
    spec = manifest["spec_version"]
    top = f"elastos-vectors-{spec}"
    files: dict[str, bytes] = {f"{top}/vectors/{MANIFEST}": (root / MANIFEST).read_bytes()}
    for rel in manifest["files"]:
        files[f"{top}/vectors/{rel}"] = (root / rel).read_bytes()
    files[f"{top}/CHANGELOG.md"] = CHANGELOG.encode()
    files[f"{top}/FORMAT"] = json.dumps({"format_version": manifest["format_version"],
                                         "adapter_protocol": PROTOCOL_VERSION}, indent=1).encode() + b"\n"
    files[f"{top}/README.md"] = _README.format(spec=spec, fmt=manifest["format_version"],
                                               proto=PROTOCOL_VERSION).encode()
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            _add_dir(tar, d)
        for name in sorted(files):
            _add(tar, name, files[name])
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return f"{top}.tar.gz", out.getvalue()


def write_release(out_dir: Path, vectors: Path | None = None) -> tuple[Path, str]:
    """Write the bundle and ``SHA256SUMS`` into ``out_dir``; the bundle's path and checksum."""
    name, data = build_bundle(vectors)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (out_dir / "SHA256SUMS").write_text(f"{digest}  {name}\n")
    return path, digest


def unpack_bundle(bundle: Path) -> Path:
    """Unpack a bundle into a new temporary folder; its ``vectors/`` folder."""
    dest = Path(tempfile.mkdtemp(prefix="elastos-vectors-"))
    atexit.register(shutil.rmtree, dest, True)
    with tarfile.open(bundle, "r:gz") as tar:
        for m in tar.getmembers():
            if m.issym() or m.islnk() or m.name.startswith("/") or ".." in m.name.split("/"):
                raise ValueError(f"{bundle}: refusing member {m.name!r}")
        tar.extractall(dest, filter="data")
    tops = [p for p in dest.iterdir() if p.is_dir()]
    if len(tops) != 1 or not (tops[0] / "vectors" / MANIFEST).is_file():
        raise ValueError(f"{bundle}: not a vectors bundle (no <name>/vectors/{MANIFEST})")
    return tops[0] / "vectors"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="elastos release", description="write the reproducible vectors bundle")
    ap.add_argument("--out", default="dist", help="output folder (default dist/)")
    ap.add_argument("--vectors", help="vector tree (default: vectors/ of this checkout)")
    a = ap.parse_args(argv)
    path, digest = write_release(Path(a.out), Path(a.vectors) if a.vectors else None)
    print(f"release: {path} ({path.stat().st_size:,} bytes) sha256 {digest} (spec {SPEC_VERSION})")
    return 0
