"""The reference vault's resumable sessions against the spec's (HSYNC-003/004/005), on SQLite and PostgreSQL:
for generated timings of chunks and of the finish, the vault accepts and refuses exactly as
:func:`spec.hive.sync.append_chunk` and :func:`spec.hive.sync.finish_upload` do on the same clock, holds the
session's declared size against the quota exactly while the spec's session is alive, and never shows a file
that the spec would not have finished."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject
from spec.hive import access, sync
from spec.hive.auth import Caller

from reference.hive.server import Body, HttpError, Vault, load_service_key
from reference.hive.store import HiveStore

from tests.hive_pg import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

ALICE = Caller(user_did="did:elastos:alice", app_did="did:elastos:notes", instance_did="did:elastos:a1")
PART = access.database_name(ALICE.user_did, ALICE.app_did)
LIFE = sync.UPLOAD_LIFETIME
BODY = bytes(range(256)) * 4


def _outcome(call) -> tuple[str, object]:
    try:
        return "ok", call()
    except Reject as e:
        return "reject", e.reason
    except HttpError as e:
        return "http", e.reason


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None


STEPS = st.lists(st.tuples(st.sampled_from([0, 1, LIFE - 1, LIFE, LIFE + 1, 3 * LIFE]), st.integers(0, 400)),
                 min_size=1, max_size=5)


def test_the_vault_keeps_sessions_as_the_spec_does(backend):
    @settings(max_examples=40 if backend is None else 15, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(steps=STEPS, finish_gap=st.sampled_from([0, LIFE - 1, LIFE]))
    def check(steps: list[tuple[int, int]], finish_gap: int) -> None:
        with tempfile.TemporaryDirectory(prefix="hive-exp-") as tmp:
            clock = [1_750_000_000]
            v = Vault(HiveStore(Path(tmp), backend), load_service_key(Path(tmp)), quota=1 << 20,
                      clock=lambda: clock[0])
            with v.store.transaction() as con:  # one PostgreSQL database for every example
                con.execute("DELETE FROM uploads")
                con.execute("DELETE FROM files")
                con.execute("DELETE FROM versions")
            digest = hashlib.sha256(BODY).hexdigest()
            uid = v.upload_start(ALICE, {"path": "f.bin", "size": len(BODY), "sha256": digest})["upload_id"]
            model = sync.start_upload("f.bin", len(BODY), digest, now=clock[0])
            for gap, n in steps:
                clock[0] += gap
                at = len(model.received)
                chunk = BODY[at:at + n]
                want = _outcome(lambda: sync.append_chunk(model, at, chunk, now=clock[0]))
                got = _outcome(lambda: v.upload_chunk(ALICE, uid, at, Body(io.BytesIO(chunk), len(chunk))))
                assert got[0] == want[0] == "ok" or (got[0] == "reject" and got[1] == want[1]), (got, want)
                if want[0] == "ok":
                    model = want[1]
                    assert got[1]["received"] == len(model.received)
                with v.store.transaction() as con:
                    held = v.store.reserved_bytes(con, PART, clock[0])
                assert held == (len(BODY) if clock[0] < model.expires else 0)  # the quota follows the lifetime
                if want[0] != "ok":
                    break
            clock[0] += finish_gap
            want = _outcome(lambda: sync.finish_upload(model, now=clock[0]))
            got = _outcome(lambda: v.upload_finish(ALICE, uid, 0))
            assert got[0] == want[0] == "ok" or (got[0] == "reject" and got[1] == want[1]), (got, want)
            assert (v.download(ALICE, "f.bin").read_bytes() == BODY) if want[0] == "ok" else \
                _outcome(lambda: v.download(ALICE, "f.bin")) == ("reject", Reason.HIVE_FILE_NOT_FOUND)
            if want == ("reject", Reason.HIVE_UPLOAD_EXPIRED):
                assert not v.store.upload_path(uid).exists()  # an expired session's bytes are gone
            v.store.close()

    check()
