"""The C core's hashing from several threads at once, under ThreadSanitizer.

Python threads reach the C core concurrently: cffi releases the GIL around every call, and the merkle root's
CPython extension releases it while it hashes. So the hashing code the first calls initialise (the OpenSSL
path's initial SHA-256 state, RIPEMD-160's digest method, the CPU probes and tables) must be thread-safe from
the very first call. A small driver is built with the library's sources and -fsanitize=thread and
starts four threads that call the merkle root, the 64-byte double SHA-256 and HASH160 on each SHA-256 code
the CPU runs; ThreadSanitizer must report nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import require_core

require_core()

CORE = Path(__file__).resolve().parents[1] / "core"
sys.path.insert(0, str(CORE))
try:
    import build as core_build  # core/build.py
finally:
    sys.path.pop(0)

DRIVER = r"""
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "elastos_core.h"

static uint8_t in[4][64 * 40];
static uint8_t roots[4][32];

static void *work(void *arg) {
    uint8_t *buf = arg, out[32 * 40], h[20];
    ec_sha256d64_many(buf, out, 3);          /* the first calls: each initialises what it uses */
    ec_sha256d64(buf, out);
    ec_hash160(buf, 64, h);
    ec_merkle_root(buf, 80, roots[(buf - in[0]) / sizeof in[0]]);
    return NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    ec_sha256d64_select(atoi(argv[1]));
    pthread_t t[4];
    for (int i = 0; i < 4; i++) memset(in[i], 7, sizeof in[i]);
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, work, in[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 1; i < 4; i++)
        if (memcmp(roots[0], roots[i], 32)) return 3;
    puts("done");
    return 0;
}
"""


def test_first_calls_from_several_threads_are_race_free(tmp_path: Path) -> None:
    src = tmp_path / "threads.c"
    src.write_text("#include <stdlib.h>\n" + DRIVER)
    exe = tmp_path / "threads"
    sources = sorted(str(f) for f in (CORE / "src").glob("*.c"))
    subprocess.run([core_build.compiler() or "cc", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g", "-fsanitize=thread",
                    f"-I{CORE / 'include'}", f"-I{CORE / 'src'}", "-o", str(exe), str(src), *sources,
                    "-lcrypto", "-lpthread", "-lm"], check=True, capture_output=True, text=True)
    env = {**os.environ, "TSAN_OPTIONS": "halt_on_error=0 exitcode=66"}
    env.pop("LD_PRELOAD", None)
    for code in (0, 1, 2):  # a fresh process each: the first calls are the ones that initialise
        r = subprocess.run([str(exe), str(code)], capture_output=True, text=True, env=env, timeout=60)
        assert "ThreadSanitizer" not in r.stderr, (code, r.stderr[:3000])
        assert r.returncode == 0 and r.stdout.strip() == "done", (code, r.returncode, r.stderr[:2000])
