"""Correspondence tests of the Hive proofs (:mod:`proofs.hive`): the models, evaluated on constants,
against :mod:`spec.hive.sync` and :mod:`spec.hive.scripts` / :mod:`spec.hive.access`."""

from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import hive as ph
from proofs.framework import concrete, get_proof, run_proof
from spec.hive import sync

bodies = st.integers(0, 3)


def _model_sync(body: int, base_version: int, base_body: int, r_version: int, r_body: int):
    d = ph.Device(z3.IntVal(body), z3.IntVal(base_version), z3.IntVal(base_body))
    r = ph.Remote(z3.IntVal(r_version), z3.IntVal(r_body))
    d2, r2, copy = ph.sync_model(d, r)
    return concrete(tuple(d2)), concrete(tuple(r2)), concrete(copy)


@settings(max_examples=300, deadline=None)
@given(body=bodies, base_body=bodies, base_version=st.integers(0, 3), r_version=st.integers(0, 4), r_body=bodies)
def test_sync_model_matches_the_spec(body, base_body, base_version, r_version, r_body):
    """One path, any local body, base and remote state the manifests allow: the model's outcome is
    the spec's plan carried out."""
    if r_version == 0:
        r_body = 0  # a path the vault has never had
    if base_version == 0:
        base_body = 0  # never agreed: no base body
    if base_version > r_version:
        base_version = r_version  # a base is a version the vault has had
    lo, re_ = ph.sync_manifests(base_body, body, r_version, r_body, base_version)
    lo2, re2 = sync.execute(lo, re_, sync.plan(lo, re_))
    (mb, mbv, mbb), (mrv, mrb), copy = _model_sync(body, base_version, base_body, r_version, r_body)
    f_local, f_remote = lo2["f.txt"], re2.get("f.txt")
    assert f_local.sha256 == ph.body_sha(mb) and f_local.base_version == mbv and f_local.base_sha256 == ph.body_sha(mbb)
    assert (f_remote.version if f_remote else 0) == mrv
    assert (f_remote.sha256 if f_remote else None) == ph.body_sha(mrb)
    copies = {e.sha256 for p, e in re2.items() if p != "f.txt"}
    assert copies == ({ph.body_sha(copy)} if copy else set())


@settings(max_examples=200, deadline=None)
@given(base=bodies, a=bodies, b=bodies)
def test_two_device_model_matches_the_spec(base, a, b):
    v0 = z3.IntVal(1 if base else 0)
    remote = ph.Remote(v0, z3.IntVal(base))
    da = ph.Device(z3.IntVal(a), v0, z3.IntVal(base))
    db = ph.Device(z3.IntVal(b), v0, z3.IntVal(base))
    da, remote, c1 = ph.sync_model(da, remote)
    db, remote, c2 = ph.sync_model(db, remote)
    da, remote, c3 = ph.sync_model(da, remote)
    final, copies = ph.spec_two_devices(base, a, b)
    assert concrete(remote.body) == final
    assert {c for c in concrete((c1, c2, c3)) if c} == copies


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({k: st.booleans() for k in ph.Call._fields}))
def test_access_model_matches_the_spec(call):
    model = concrete(ph.reaches_model(ph.Call(*[z3.BoolVal(call[k]) for k in ph.Call._fields])))
    assert model == ph.spec_reaches(**call)


def test_proofs_hold():
    for name in ("hive_sync_no_lost_write", "hive_access_partitions"):
        result = run_proof(get_proof(name))
        assert result.status == "proved", result
