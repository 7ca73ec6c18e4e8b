"""Build the C core (``core/build/libelastos_core.so`` and ``core/build/elastos-core-adapter``).

``python core/build.py [--variant NAME] [--require] [--suite-args]``

1. Regenerates ``core/include/elastos_reasons.h`` from the spec's ``Reason`` enum.
2. Checks for a C compiler and the OpenSSL 3 headers. When either is missing it prints what to
   install and exits 0 (1 with ``--require``): the pure-Python reference still works, and the tests
   that need the core skip with that reason (``reference.core.unavailable_reason``).
3. Runs ``make -C core`` (variants: ``sanitize`` builds into ``core/build-sanitize`` with ASan and
   UBSan, ``coverage`` into ``core/build-coverage`` with gcov counters).
4. For the release build, also the merkle root's CPython extension (``core/python/merkle_ext.c``), when
   this interpreter's ``Python.h`` is installed; without it the binding takes its cffi path, says why in
   ``reference.core.ext_unavailable_reason``, and works the same, only slower.

``--suite-args`` prints ``--suite S`` for every suite the built adapter announces in its hello,
for the Makefile to pass to ``elastos conform``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

CORE = Path(__file__).resolve().parent
ROOT = CORE.parent
VARIANTS = {"release": ("build", {}), "sanitize": ("build-sanitize", {"SANITIZE": "1"}),
            "coverage": ("build-coverage", {"COVERAGE": "1"})}


def compiler() -> str | None:
    cc = os.environ.get("CC") or "cc"
    return shutil.which(cc) or shutil.which("gcc") or shutil.which("clang")


def missing_prerequisite() -> str | None:
    """Why the core cannot be built here, or None."""
    cc = compiler()
    if cc is None:
        return "no C compiler found (install gcc or clang, e.g. `apt-get install build-essential`)"
    probe = "#include <openssl/evp.h>\n#include <openssl/ec.h>\n" \
            "#if OPENSSL_VERSION_MAJOR < 3\n#error OpenSSL 3 needed\n#endif\nint main(void){return 0;}\n"
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "probe.c"
        src.write_text(probe)
        r = subprocess.run([cc, str(src), "-o", str(Path(d) / "probe"), "-lcrypto"], capture_output=True, text=True)
        if r.returncode != 0:
            return ("the OpenSSL 3 development headers or libcrypto are missing "
                    "(install them, e.g. `apt-get install libssl-dev`): " + r.stderr.strip().splitlines()[-1][:200]
                    if r.stderr.strip() else "the OpenSSL 3 headers are missing (apt-get install libssl-dev)")
    return None


def build(variant: str = "release") -> Path:
    out, env_vars = VARIANTS[variant]
    env = {**os.environ, "PYTHON": sys.executable, "CC": compiler() or "cc", **env_vars}
    subprocess.run(["make", "-s", "-C", str(CORE), f"OUT={out}"], check=True, env=env)
    return CORE / out


def python_headers() -> str | None:
    """The folder holding this interpreter's Python.h, or None when the headers are not installed."""
    include = sysconfig.get_paths()["include"]
    return include if (Path(include) / "Python.h").exists() else None


def build_extension(out: str = "build") -> Path | None:
    """The merkle root's CPython extension, or None (with the reason printed) when it cannot be built."""
    include = python_headers()
    if include is None:
        print("core: the merkle root's CPython extension is not built: no Python.h for this interpreter "
              "(install the python3-dev package of its version); the binding takes its cffi path",
              file=sys.stderr)
        return None
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    env = {**os.environ, "PYTHON": sys.executable, "CC": compiler() or "cc"}
    subprocess.run(["make", "-s", "-C", str(CORE), f"OUT={out}", f"PY_INCLUDE={include}", f"EXT_SUFFIX={suffix}",
                    "ext"], check=True, env=env)
    return CORE / out / f"_elastos_core_ext{suffix}"


def announced_suites(adapter: Path) -> list[str]:
    r = subprocess.run([str(adapter), "--handlers"], capture_output=True, text=True, check=True)
    handlers = json.loads(r.stdout)["hello"]["handlers"]
    return sorted({h.split("/", 1)[0] for h in handlers})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="build the C core")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="release")
    ap.add_argument("--require", action="store_true", help="fail when the core cannot be built")
    ap.add_argument("--suite-args", action="store_true", help="print --suite options for the announced suites")
    args = ap.parse_args(argv)
    if args.suite_args:
        adapter = CORE / "build" / "elastos-core-adapter"
        print(" ".join(f"--suite {s}" for s in announced_suites(adapter)) if adapter.exists() else "")
        return 0
    subprocess.run([sys.executable, str(CORE / "gen_reasons.py")], check=True)
    why = missing_prerequisite()
    if why:
        print(f"core: NOT BUILT: {why}; the pure-Python reference is used and the C-core tests are skipped",
              file=sys.stderr)
        return 1 if args.require else 0
    out = build(args.variant)
    ext = build_extension() if args.variant == "release" else None
    print(f"core: built {out.relative_to(ROOT)}/libelastos_core.so and elastos-core-adapter"
          + (f" and {ext.name}" if ext else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
