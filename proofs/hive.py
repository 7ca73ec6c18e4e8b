"""Invariants of Hive: home-folder sync never loses a write; no call reaches another partition except
through a script whose condition held.

:func:`spec.hive.sync.plan` and :func:`spec.hive.scripts.run` work on manifests, JSON and pydantic
models, so they cannot run on Z3 terms. Each proof is about a **model** of one path (sync) or one call
(access); ``tests/test_proofs_hive.py`` evaluates the same model functions on constants
(:func:`proofs.framework.concrete`) and compares them with the spec functions, with Hypothesis
choosing the inputs.

=============================  ===========================================================================
proof                          statement
=============================  ===========================================================================
``hive_sync_no_lost_write``    two devices edit (write, delete or keep) one path concurrently from a
                               common base and sync in turn A, B, A: every body either wrote ends in the
                               vault, at the path or as a conflict copy; all three copies of the path
                               agree; a delete of a body the other device kept takes effect
``hive_access_partitions``     a call that reaches a partition other than its caller's (or is anonymous)
                               is a script call to a registered script whose condition held, and, if
                               anonymous, whose two anonymous flags are set
=============================  ===========================================================================

Bodies are integers: ``0`` is *absent*, any other value one body (distinct bodies get distinct
conflict names: the name carries 16 hex digits of the body's SHA-256, and the full 64 when those are
taken by other content).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import z3

from proofs.framework import ModelValues, Query, proof, vector_case

_TESTS = "tests/test_proofs_hive.py::"


class Device(NamedTuple):
    """A device's view of one path: its body and its base (the remote version and body it last agreed with)."""

    body: z3.ArithRef
    base_version: z3.ArithRef
    base_body: z3.ArithRef


class Remote(NamedTuple):
    version: z3.ArithRef
    """0: the path has never existed."""
    body: z3.ArithRef
    """0: absent or a tombstone."""


def sync_model(d: Device, r: Remote) -> tuple[Device, Remote, z3.ArithRef]:
    """Model of :func:`spec.hive.sync.plan` followed by :func:`spec.hive.sync.execute` for one path:
    the device and vault after the sync, and the body uploaded as a conflict copy (0: none).

    The rows of the plan table: unchanged: nothing; local write: upload (version + 1); local delete:
    tombstone if the vault has a body; remote change: download / remove; both, same body: adopt;
    local delete vs remote write: download; local write vs remote delete: upload; both wrote: the local
    body goes to the conflict copy and the remote body is downloaded."""
    lc = d.body != d.base_body
    rc = r.version != d.base_version
    one = z3.IntVal(1)
    upload = (Device(d.body, r.version + one, d.body), Remote(r.version + one, d.body))
    tombstone = (Device(d.body, r.version + one, d.body), Remote(r.version + one, z3.IntVal(0)))
    take = (Device(r.body, r.version, r.body), r)
    adopt = (Device(d.body, r.version, r.body), r)
    zero = z3.IntVal(0)

    def pick(cond: z3.BoolRef, a: tuple[Device, Remote], b: tuple[Device, Remote]) -> tuple[Device, Remote]:
        return (Device(*[z3.If(cond, x, y) for x, y in zip(a[0], b[0], strict=True)]),
                Remote(*[z3.If(cond, x, y) for x, y in zip(a[1], b[1], strict=True)]))

    local_only = pick(d.body != 0, upload, pick(r.body != 0, tombstone, adopt))
    both = pick(d.body == r.body, adopt, pick(d.body == 0, take, pick(r.body == 0, upload, take)))
    out = pick(z3.And(z3.Not(lc), z3.Not(rc)), (d, r),
               pick(z3.And(lc, z3.Not(rc)), local_only, pick(z3.Not(lc), take, both)))
    conflict = z3.And(lc, rc, d.body != r.body, d.body != 0, r.body != 0)
    return out[0], out[1], z3.If(conflict, d.body, zero)


def _ints(*names: str) -> list[z3.ArithRef]:
    return [z3.Int(n) for n in names]


def _sync_replay(values: ModelValues) -> dict[str, Any]:
    base, a, b = (max(0, values[k]) for k in ("base", "a", "b"))
    final, copies = spec_two_devices(base, a, b)
    return {"base": base, "a": a, "b": b, "spec_final_body": final, "spec_conflict_copies": sorted(copies)}


def spec_two_devices(base: int, a: int, b: int) -> tuple[int, set[int]]:
    """Devices A and B change ``f.txt`` from ``base`` to ``a`` and ``b`` and sync A, B, A through
    :func:`spec.hive.sync.plan` and :func:`spec.hive.sync.execute`: the vault's body at the path and the
    bodies of the conflict copies (as the integers they encode)."""
    from spec.hive import sync
    v0 = 1 if base else 0
    la, remote = sync_manifests(base, a, v0, base, v0)
    lb, _ = sync_manifests(base, b, v0, base, v0)
    for_device = {"a": la, "b": lb}
    for who in ("a", "b", "a"):
        lo = for_device[who]
        lo, remote = sync.execute(lo, remote, sync.plan(lo, remote))
        for_device[who] = lo
    live = sync.live(remote)
    decode = {body_sha(n): n for n in {base, a, b} if n}
    return decode.get(live.get("f.txt"), 0), {decode[s] for p, s in live.items() if p != "f.txt"}


def body_sha(body: int) -> str | None:
    import hashlib
    return hashlib.sha256(f"body-{body}".encode()).hexdigest() if body else None


def sync_manifests(base_body: int, local: int, remote_version: int, remote_body: int,
                   base_version: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifests of one path ``f.txt`` in the spec's types."""
    from spec.hive import sync
    lo = {"f.txt": sync.LocalEntry(path="f.txt", sha256=body_sha(local), size=1 if local else 0,
                                   base_version=base_version, base_sha256=body_sha(base_body))}
    re_ = {} if remote_version == 0 else {"f.txt": sync.RemoteEntry(
        path="f.txt", version=remote_version, sha256=body_sha(remote_body), size=1 if remote_body else 0)}
    return lo, re_


def _sync_case(values: ModelValues) -> dict[str, Any]:
    base, a = values["base"], values["a"]
    lo, re_ = sync_manifests(base, a, 1 if base else 0, base, 1 if base else 0)
    return vector_case("hive/hive.sync.plan", "proof_sync_model", {
        "local": [{"path": e.path, "sha256": e.sha256, "size": e.size, "base_version": e.base_version,
                   "base_sha256": e.base_sha256} for e in lo.values()],
        "remote": [{"path": e.path, "version": e.version, "sha256": e.sha256, "size": e.size} for e in re_.values()]},
        ("HSYNC-001", "HSYNC-002"), "device A's first sync of the proof's model values")


@proof(
    name="hive_sync_no_lost_write",
    statement="Two devices that change one path concurrently and sync in turn (A, B, A) lose no write, "
    "converge, and keep a delete of a body the other device left alone",
    rules=("HSYNC-002",),
    about=("spec.hive.sync.plan", "spec.hive.sync.execute", "spec.hive.sync.apply_write"),
    correspondence=(_TESTS + "test_sync_model_matches_the_spec", _TESTS + "test_two_device_model_matches_the_spec"),
    replay=_sync_replay, to_case=_sync_case, timeout_s=60,
)
def hive_sync_no_lost_write() -> Query:
    """For every base body ``base`` (0: the path does not exist yet, else version 1 in the vault and
    on both devices) and every body ``a`` of device A and ``b`` of device B (0: deleted; equal to
    ``base``: unchanged), after :func:`sync_model` runs A, then B, then A: if ``a`` is a new body it is
    the vault's body at the path or one of the conflict copies, and likewise ``b``; A's body, B's body
    and the vault's body at the path are equal; and if one device deleted the base body while the
    other kept it, the path is absent."""
    base, a, b = _ints("base", "a", "b")
    v0 = z3.If(base != 0, z3.IntVal(1), z3.IntVal(0))
    remote = Remote(v0, base)
    da, db_ = Device(a, v0, base), Device(b, v0, base)
    da, remote, c1 = sync_model(da, remote)
    db_, remote, c2 = sync_model(db_, remote)
    da, remote, c3 = sync_model(da, remote)
    kept = [remote.body, c1, c2, c3]
    claims = [
        z3.Implies(z3.And(a != base, a != 0), z3.Or(*[k == a for k in kept])),
        z3.Implies(z3.And(b != base, b != 0), z3.Or(*[k == b for k in kept])),
        da.body == remote.body, db_.body == remote.body,
        z3.Implies(z3.And(base != 0, a == 0, b == base), remote.body == 0),
        z3.Implies(z3.And(base != 0, b == 0, a == base), remote.body == 0),
    ]
    return Query(claim=z3.And(*claims), inputs={"base": base, "a": a, "b": b},
                 assumptions=(base >= 0, a >= 0, b >= 0))


# -- access ---------------------------------------------------------------------------------------------------


class Call(NamedTuple):
    script: z3.BoolRef
    """A script call (else a direct call)."""
    anonymous: z3.BoolRef
    own: z3.BoolRef
    """The target partition is the caller's (user DID and app DID equal)."""
    registered: z3.BoolRef
    has_condition: z3.BoolRef
    condition_holds: z3.BoolRef
    anonymous_user: z3.BoolRef
    anonymous_app: z3.BoolRef


def reaches_model(c: Call) -> z3.BoolRef:
    """Model of the guards between a call and the target partition: a direct call passes
    :func:`spec.hive.access.check_direct` (HACL-001: authenticated, own partition); a script call
    passes :func:`spec.hive.scripts.run`'s HSCR-002 (registered), HACL-002 (anonymous only with both
    flags) and HSCR-003 (the condition, when there is one, holds)."""
    direct = z3.And(z3.Not(c.anonymous), c.own)
    scripted = z3.And(c.registered, z3.Implies(c.anonymous, z3.And(c.anonymous_user, c.anonymous_app)),
                      z3.Implies(c.has_condition, c.condition_holds))
    return z3.If(c.script, scripted, direct)


_CALL_FIELDS = Call._fields


def _call_inputs() -> Call:
    return Call(*[z3.Bool(n) for n in _CALL_FIELDS])


def _access_replay(values: ModelValues) -> dict[str, Any]:
    return {"spec_reaches": spec_reaches(**{k: bool(values[k]) for k in _CALL_FIELDS})}


def spec_reaches(*, script: bool, anonymous: bool, own: bool, registered: bool, has_condition: bool,
                 condition_holds: bool, anonymous_user: bool, anonymous_app: bool) -> bool:
    """The same call through the spec: :func:`spec.hive.access.check_direct` or :func:`spec.hive.scripts.run`
    against a partition of did:elastos:owner / did:elastos:app."""
    from spec.errors import Reject
    from spec.hive import access, scripts
    from spec.hive import database as db
    from spec.hive.auth import Caller

    caller = None if anonymous else Caller(user_did="did:elastos:owner" if own else "did:elastos:other",
                                           app_did="did:elastos:app", instance_did="did:elastos:i")
    target = access.Partition(user_did="did:elastos:owner", app_did="did:elastos:app")
    try:
        if not script:
            access.check_direct(caller, target)
            return True
        data = scripts.PartitionData(database=db.insert(db.create_collection(db.Database(), "c"), "c",
                                                        [{"ok": condition_holds}], ["1"]))
        if registered:
            definition: dict[str, Any] = {
                "executable": {"name": "f", "type": "find", "body": {"collection": "c", "filter": {}}},
                "allowAnonymousUser": anonymous_user, "allowAnonymousApp": anonymous_app}
            if has_condition:
                definition["condition"] = {"name": "c", "type": "queryHasResult",
                                           "body": {"collection": "c", "filter": {"ok": True}}}
            data = scripts.register(data, scripts.parse_script("s", definition))
        scripts.run(data, "s", caller, {}, id_prefix="x", now=0)
        return True
    except Reject:
        return False


def _access_case(values: ModelValues) -> dict[str, Any]:
    caller = None if values["anonymous"] else {"user_did": "did:elastos:owner" if values["own"] else
                                                "did:elastos:other", "app_did": "did:elastos:app"}
    return vector_case("hive/hive.access.direct", "proof_access_model",
                       {"caller": caller, "target": {"user_did": "did:elastos:owner", "app_did": "did:elastos:app"}},
                       ("HACL-001",), "a direct call of the proof's model values")


@proof(
    name="hive_access_partitions",
    statement="A call reaches a partition that is not its caller's (or is anonymous) only through a "
    "registered script whose condition held (and whose anonymous flags are both set, for an anonymous call)",
    rules=("HACL-001", "HACL-002", "HSCR-002", "HSCR-003"),
    about=("spec.hive.access.check_direct", "spec.hive.scripts.run"),
    correspondence=(_TESTS + "test_access_model_matches_the_spec",),
    replay=_access_replay, to_case=_access_case, timeout_s=30,
)
def hive_access_partitions() -> Query:
    """For every call (direct or script; anonymous or not; to its own partition or another; to a
    registered script or not; with or without a condition that holds or not; any anonymous flags), if
    :func:`reaches_model` lets it reach the target and the target is not the caller's own partition
    (or the caller is anonymous), then it is a script call, the script is registered, any condition
    held, and an anonymous caller met both flags."""
    c = _call_inputs()
    foreign = z3.Or(c.anonymous, z3.Not(c.own))
    claim = z3.Implies(z3.And(reaches_model(c), foreign),
                       z3.And(c.script, c.registered, z3.Implies(c.has_condition, c.condition_holds),
                              z3.Implies(c.anonymous, z3.And(c.anonymous_user, c.anonymous_app))))
    return Query(claim=claim, inputs={k: getattr(c, k) for k in _CALL_FIELDS})
