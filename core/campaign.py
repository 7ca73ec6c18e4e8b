"""Differential fuzzing campaigns that share one Hypothesis example database through Redis.

A campaign that outgrows one machine runs the differential tests
(``tests/test_core_differential.py`` and ``tests/test_core_differential_chain.py``) on several
machines with one Redis server as Hypothesis's example database
(``hypothesis.extra.redis.RedisExampleDatabase``): a disagreement one worker finds is saved there
and replayed first by every other worker (and by the next run of any of them).

``python core/campaign.py --redis redis://HOST:PORT/0 [--examples N] [--worker NAME]``
    one worker: the differential tests with ``N`` examples per property, against the shared database.

``python core/campaign.py --demo``
    starts a Redis server on a free loopback port (``redis-server`` must be installed; as root the
    script installs it with apt-get) and two workers, and shows the sharing on a candidate with a
    planted bug (a VarUint reader without the shortest-form check, the classic CompactSize bug):
    worker A generates examples and finds the bug; worker B runs with generation switched off
    (``phases=[Phase.reuse]``), so it can only fail by replaying what A saved in Redis. Then both
    workers run the real differential tests against the same server. Exit status 0 when all of
    that happened.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CORE = Path(__file__).resolve().parent
ROOT = CORE.parent


def _db(url: str):  # type: ignore[no-untyped-def]
    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    return RedisExampleDatabase(redis.Redis.from_url(url), expire_after=timedelta(days=30), key_prefix=b"elastos-core:")


# -- the planted-bug property (the demo's candidate) ----------------------------------------------


def buggy_read_varuint(data: bytes) -> int:
    """A VarUint reader without the shortest-form check (what ENC-003 forbids)."""
    if not data:
        raise ValueError("TRUNCATED")
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(data[0], 0)
    if len(data) != 1 + size:
        raise ValueError("TRUNCATED" if len(data) < 1 + size else "TRAILING_BYTES")
    return data[0] if size == 0 else int.from_bytes(data[1:], "little")


def planted(url: str, reuse_only: bool, examples: int) -> dict[str, object]:
    """Run the planted-bug differential property against the shared database."""
    from hypothesis import Phase, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(ROOT))
    from spec.encoding import primitives
    from spec.errors import Reject

    def spec(data: bytes) -> object:
        r = primitives.Reader(data)
        try:
            v = primitives.read_varuint(r)
            r.finish()
            return v
        except Reject as e:
            return e.reason.value

    def candidate(data: bytes) -> object:
        try:
            return buggy_read_varuint(data)
        except ValueError as e:
            return str(e)

    phases = [Phase.reuse] if reuse_only else [Phase.reuse, Phase.generate, Phase.shrink]

    marked = st.builds(lambda m, v: bytes((m,)) + (v % (1 << (8 << (m - 0xFC)))).to_bytes(1 << (m - 0xFC), "little"),
                       st.sampled_from([0xFD, 0xFE, 0xFF]), st.integers(0, 2**64 - 1))

    @settings(database=_db(url), phases=phases, max_examples=examples, deadline=None, derandomize=False)
    @given(st.one_of(st.binary(max_size=9), marked))
    def varuint_agrees(data: bytes) -> None:
        assert spec(data) == candidate(data), f"spec {spec(data)!r}, candidate {candidate(data)!r} on {data.hex()}"

    import unittest

    try:
        varuint_agrees()
    except AssertionError as e:
        return {"failed": True, "message": str(e).splitlines()[0]}
    except unittest.SkipTest:  # reuse only, and nothing saved to reuse
        return {"failed": False, "message": "no saved example"}
    return {"failed": False, "message": ""}


# -- workers ------------------------------------------------------------------------------------------


def worker(url: str, examples: int, name: str, wait: bool = True) -> Any:
    """The real differential tests against the shared database (the process when ``wait`` is false)."""
    env = {**os.environ, "HYPOTHESIS_REDIS_URL": url, "HYPOTHESIS_CAMPAIGN_EXAMPLES": str(examples),
           "HYPOTHESIS_PROFILE": "campaign"}
    print(f"campaign worker {name}: differential tests, {examples} examples per property, database {url}",
          file=sys.stderr)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(ROOT / "tests" / "test_core_differential.py"),
                             str(ROOT / "tests" / "test_core_differential_chain.py")], cwd=ROOT, env=env)
    return proc.wait() if wait else proc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server() -> str | None:
    path = shutil.which("redis-server")
    if path or os.geteuid() != 0 or not shutil.which("apt-get"):
        return path
    print("campaign: installing redis-server with apt-get", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], capture_output=True, env=env).returncode:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)  # no package lists yet
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], capture_output=True, env=env)
    return shutil.which("redis-server")


def demo(examples: int) -> int:
    server = redis_server()
    if not server:
        print("campaign: NOT RUN: redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 1
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        me = [sys.executable, str(Path(__file__))]
        a = subprocess.run([*me, "--redis", url, "--planted", "--examples", "2000"], capture_output=True, text=True)
        b = subprocess.run([*me, "--redis", url, "--planted", "--reuse-only"], capture_output=True, text=True)
        ra, rb = json.loads(a.stdout), json.loads(b.stdout)
        keys = len(client.keys(b"elastos-core:*"))
        print(f"campaign: worker A (generating) found the planted bug: {ra['failed']} ({ra['message']})")
        print(f"campaign: worker B (reuse only, no generation) replayed it from Redis: {rb['failed']} "
              f"({rb['message']})")
        print(f"campaign: {keys} key(s) in the shared database")
        shared = ra["failed"] and rb["failed"] and keys > 0
        workers = [worker(url, examples, n, wait=False) for n in ("A", "B")]  # concurrently, one database
        codes = [w.wait() for w in workers]
        print(f"campaign: real differential tests, two concurrent workers on one database: exit statuses {codes}")
        return 0 if shared and codes == [0, 0] else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="differential fuzzing campaigns over a shared Redis database")
    ap.add_argument("--redis", help="redis://HOST:PORT/DB of the shared example database")
    ap.add_argument("--examples", type=int, default=500, help="examples per property (default 500)")
    ap.add_argument("--worker", default="1", help="a name for this worker's log lines")
    ap.add_argument("--demo", action="store_true", help="start Redis and two workers on this machine")
    ap.add_argument("--planted", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reuse-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.demo:
        return demo(args.examples)
    if not args.redis:
        ap.error("--redis URL or --demo")
    if args.planted:
        print(json.dumps(planted(args.redis, args.reuse_only, args.examples)))
        return 0
    return worker(args.redis, args.examples, args.worker)


if __name__ == "__main__":
    raise SystemExit(main())
