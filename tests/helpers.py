"""Assertions shared by the test modules."""

from __future__ import annotations

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
