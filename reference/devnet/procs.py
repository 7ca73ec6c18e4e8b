"""The devnet's child processes: started from the project's own CLIs, each in its own process group,
with stdout and stderr going to a log file in the devnet folder (never to a pipe, so a process kept
running after ``elastos devnet --keep`` exits never writes into a closed pipe).

A process is up when its first stdout line (its ``ready`` line, or a Carrier node's JSON line) is in its
log; :func:`start` waits for it and returns it parsed. :func:`stop_pids` ends processes by their ids:
SIGTERM to each process group, then SIGKILL to what is left after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Proc:
    """One child process: its name, the command, the log file and what its first line said."""

    name: str
    popen: subprocess.Popen  # type: ignore[type-arg]
    log: Path
    ready: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                PYTHONUNBUFFERED="1")


def parse_ready(line: str) -> dict[str, Any]:
    """``ready k=v k=v`` (nodes, sidechain, vault) or one JSON object (a Carrier node)."""
    line = line.strip()
    if line.startswith("{"):
        out: dict[str, Any] = json.loads(line)
        return out
    if not line.startswith("ready"):
        raise ValueError(f"not a ready line: {line!r}")
    return dict(kv.split("=", 1) for kv in line.split()[1:])


def launch(name: str, args: list[str], folder: Path, *, stdin: bool = False) -> Proc:
    """Run ``python -m reference.cli ARGS`` with its output in ``folder/NAME.log``, without waiting for it."""
    log = folder / f"{name}.log"
    out = open(log, "wb")  # noqa: SIM115 - the child owns it from here
    popen = subprocess.Popen([sys.executable, "-m", "reference.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, env=_env(), cwd=REPO,
                             start_new_session=True)
    out.close()
    return Proc(name, popen, log)


def wait_ready(proc: Proc, timeout: float = 60.0) -> Proc:
    """Wait for the first line of a launched process and parse it into ``proc.ready``; a process that exits or
    prints something else first is stopped and reported."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(proc.log, "rb") as f:
            first = f.readline()
        if first.endswith(b"\n"):
            try:
                proc.ready = parse_ready(first.decode())
                return proc
            except ValueError:
                break
        if proc.popen.poll() is not None:
            break
        time.sleep(0.02)
    stop_pids([proc.pid])
    raise RuntimeError(f"{proc.name} did not start (see {proc.log}): {proc.log.read_text()[-2000:]}")


def start(name: str, args: list[str], folder: Path, *, stdin: bool = False, timeout: float = 60.0) -> Proc:
    """:func:`launch`, then :func:`wait_ready`."""
    return wait_ready(launch(name, args, folder, stdin=stdin), timeout)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_pids(pids: list[int], grace: float = 10.0) -> list[int]:
    """SIGTERM each process's group (each child leads its own), wait up to ``grace`` seconds, SIGKILL the
    rest; the ids that needed SIGKILL."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    end = time.monotonic() + grace
    left = list(pids)
    while left and time.monotonic() < end:
        for pid in left:
            _reap(pid)
        left = [p for p in left if alive(p)]
        if left:
            time.sleep(0.05)
    for pid in left:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid in left:
        for _ in range(100):
            _reap(pid)
            if not alive(pid):
                break
            time.sleep(0.02)
    return left


__all__ = ["Proc", "alive", "launch", "parse_ready", "run_cli", "start", "stop_pids", "wait_ready"]


def run_cli(args: list[str], log: Path, timeout: float = 300.0) -> int:
    """Run ``python -m reference.cli ARGS`` to completion in its own process group (killed with the group
    on timeout); its exit status, its output in ``log``."""
    with open(log, "wb") as out:
        popen = subprocess.Popen([sys.executable, "-m", "reference.cli", *args], stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=_env(), cwd=REPO, start_new_session=True)
        try:
            return popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_pids([popen.pid], grace=2)
            popen.wait()
            raise
        except BaseException:
            stop_pids([popen.pid], grace=2)
            popen.wait()
            raise
