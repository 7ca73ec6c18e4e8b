"""Stopping on a signal (reference/signals.py). A handler that sets a ``threading.Event`` can hang for good
when the signal arrives while the main thread holds the Event's lock; :class:`StopFlag`'s handler takes no
lock, so a process stops wherever the signal finds it. The serving commands use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reference.signals import StopFlag

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, timeout: float) -> subprocess.CompletedProcess[str] | None:
    """``code`` in a fresh Python; None if it did not end within ``timeout`` seconds (then it is killed)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_an_event_set_by_a_signal_handler_can_hang_where_a_stop_flag_cannot() -> None:
    """The hazard, made certain: the signal arrives while the main thread holds the lock that ``Event.wait`` holds
    around its wait. The Event's handler then waits on that lock for good; the flag's handler just stores."""
    event = ("import os, signal, threading\n"
             "stop = threading.Event()\n"
             "signal.signal(signal.SIGTERM, lambda *a: stop.set())\n"
             "with stop._cond:\n"
             "    os.kill(os.getpid(), signal.SIGTERM)\n"
             "    x = 1\n"
             "print('stopped' if stop.is_set() else 'not stopped')\n")
    assert _run(event, timeout=3) is None  # hung: killed after 3 s
    flag = ("import os, signal, threading\n"
            "from reference.signals import StopFlag\n"
            "stop = StopFlag()\n"
            "held = threading.Lock()\n"
            "with held:\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    x = 1\n"
            "print('stopped' if stop.wait(5) else 'not stopped')\n")
    done = _run(flag, timeout=30)
    assert done is not None and done.returncode == 0 and done.stdout.strip() == "stopped", done


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_waiting_loop_stops_on_the_signal(sig: int) -> None:
    """A serving loop (``while not stop.wait(0.2)``) ends soon after the signal, with exit status 0."""
    code = ("import sys\n"
            "from reference.signals import StopFlag\n"
            "stop = StopFlag()\n"
            "print('ready', flush=True)\n"
            "while not stop.wait(0.2):\n"
            "    pass\n"
            "print('stopping', flush=True)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
        p.send_signal(sig)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0 and out == "stopping\n"


def test_wait_times_out_unset_and_wakes_when_set_from_another_thread() -> None:
    stop = StopFlag(signals=())
    t = time.monotonic()
    assert stop.wait(0.1) is False and not stop.is_set()
    assert time.monotonic() - t >= 0.1
    threading.Timer(0.1, stop.set).start()
    t = time.monotonic()
    assert stop.wait(10) is True and stop.is_set()
    assert time.monotonic() - t < 5  # woken by the set, long before the timeout
    assert stop.wait(0) is True and stop.wait() is True  # once set, every wait answers at once
