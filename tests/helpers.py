"""Assertions shared by the test modules."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from spec.errors import DecodeError, Reason, Reject


def expect_reject(fn: Callable[..., Any], *args: Any, reason: Reason, rule: str, decode: bool = False) -> Reject:
    """``fn(*args)`` must raise a Reject with exactly this reason and rule (a DecodeError if ``decode``)."""
    with pytest.raises(Reject) as info:
        fn(*args)
    assert info.value.reason is reason, f"expected {reason}, got {info.value}"
    assert info.value.rule == rule, f"expected {rule}, got {info.value}"
    if decode:
        assert isinstance(info.value, DecodeError), f"expected a DecodeError, got {type(info.value).__name__}"
    return info.value


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05,
             tolerate: tuple[type[BaseException], ...] = ()) -> Any:
    """Poll ``cond`` until it returns something true (returned), treating the ``tolerate`` exceptions as not
    yet; an AssertionError naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = cond()
        except tolerate:
            v = None
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def require_core() -> object:
    """The C core's bindings (:mod:`reference.core`), building the core first when it is not built.

    Skips only when this machine cannot build it (no C compiler or no OpenSSL 3 headers), with that
    reason; a core that can be built but fails to load is a test failure.
    """
    import importlib
    import subprocess
    import sys
    from pathlib import Path

    import reference.core as core

    if core.available():
        return core
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "core"))
    try:
        import build as core_build  # core/build.py
    finally:
        sys.path.pop(0)
    why = core_build.missing_prerequisite()
    if why:
        pytest.skip(f"the C core cannot be built here: {why}")
    subprocess.run([sys.executable, str(root / "core" / "build.py"), "--require"], check=True)
    core = importlib.reload(core)
    assert core.available(), f"the C core was built but does not load: {core.unavailable_reason}"
    return core
