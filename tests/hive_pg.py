"""A real PostgreSQL server for the Hive storage tests: ``ELASTOS_PG_DSN`` when set, otherwise a temporary
cluster started with the ``initdb`` and ``pg_ctl`` on PATH (as the ``postgres`` user when run as root),
listening only on a Unix socket in a temporary folder. Each test gets a fresh database."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A DSN of the maintenance database of a running server."""
    dsn = os.environ.get("ELASTOS_PG_DSN")
    if dsn:
        yield dsn
        return
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.fail("the Hive storage tests need PostgreSQL: put initdb and pg_ctl on PATH or set ELASTOS_PG_DSN")
    folder = Path(tempfile.mkdtemp(prefix="hive-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    port = 20000 + uuid.uuid4().int % 20000
    subprocess.run(_as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True,
                   capture_output=True)
    subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-o", f"-p {port} -k {folder} -c listen_addresses=''",
                                 "-l", str(folder / "log"), "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"host={folder} port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def postgres_dsn(postgres_server: str) -> str:
    """A DSN of a new, empty database on the server."""
    import psycopg

    name = f"hive_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return postgres_server.replace("dbname=postgres", f"dbname={name}")
