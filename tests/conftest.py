"""Shared fixtures of the test suite.

Upstream interop data is read where it lives, ``../shared/interop`` next to the repository; it is
never copied into the project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import os

import pytest
from hypothesis import settings

# CI runs derandomized (the same examples every run, so a landing never hangs on luck);
# local runs explore new examples each time. Select with HYPOTHESIS_PROFILE=ci|dev.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
if os.environ.get("HYPOTHESIS_REDIS_URL"):
    # a fuzzing campaign across machines (core/campaign.py): one example database in Redis
    from datetime import timedelta

    import redis
    from hypothesis.extra.redis import RedisExampleDatabase

    settings.register_profile("campaign", print_blob=True, database=RedisExampleDatabase(
        redis.Redis.from_url(os.environ["HYPOTHESIS_REDIS_URL"]), expire_after=timedelta(days=30), key_prefix=b"elastos-core:"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
ELA_INTEROP = SHARED / "interop" / "ela"


def _load(name: str) -> Any:
    path = ELA_INTEROP / name
    if not path.is_file():
        pytest.fail(f"interop data {path} is missing: the interop tests need ../shared/interop/ela")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ela_facts() -> dict[str, Any]:
    """``facts.json`` as a dict keyed by fact id."""
    return {f["id"]: f for f in _load("facts.json")}


@pytest.fixture(scope="session")
def ela_transactions() -> dict[str, Any]:
    """``transactions.json`` as a dict keyed by transaction name."""
    return {t["name"]: t for t in _load("transactions.json")}
