"""Partitions and direct access: whose data a call may touch.

Every datum in a vault belongs to a **partition**, the pair (user DID, app DID). Upstream keeps one
MongoDB database per pair, named ``"hive_user_db_" + md5(user_did + "_" + app_did)`` (hex), and
keys file metadata by the same pair.

A **direct** call (database, files, script registration, backup) acts on the partition named by the
caller's verified token: ``(props.userDid, props.appDid)``. A caller has no way to name another
partition on these routes (``HACL-001`` is what an implementation must guarantee when it routes a
call). Another DID reaches a partition only through a script the owner registered
(:mod:`spec.hive.scripts`); an anonymous caller only through a script that allows both anonymous
users and anonymous apps (``HACL-002``).

Upstream: Elastos.Hive.Node ``src/modules/database/mongodb_client.py`` (``get_user_database_name``),
``src/utils/auth_token.py`` (``g.usr_did``, ``g.app_did``), ``src/modules/scripting/scripting.py``
(``check_anonymous``).
"""

from __future__ import annotations

import hashlib
from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule
from spec.hive.auth import Caller

__all__ = ["DB_PREFIX", "Partition", "database_name", "partition_of", "check_direct", "check_anonymous"]

DB_PREFIX: Final = "hive_user_db_"

R_DIRECT: Final = rule(
    "HACL-001", Reason.HIVE_ACCESS_DENIED,
    "A direct call has a verified caller and acts only on the caller's own partition (userDid, appDid).",
    suite="hive", upstream="TokenParser sets g.usr_did/g.app_did; no route names another partition",
)
R_ANONYMOUS: Final = rule(
    "HACL-002", Reason.HIVE_ACCESS_DENIED,
    "A script call without a token runs only a script with allowAnonymousUser and allowAnonymousApp "
    "both true.",
    suite="hive", upstream="scripting.py: \"anonymous access is not allowed\" (401/403)",
)


class Partition(BaseModel):
    """The owner of a piece of data."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    user_did: str
    app_did: str


def database_name(user_did: str, app_did: str) -> str:
    """``get_user_database_name``: the partition's database name."""
    return DB_PREFIX + hashlib.md5(f"{user_did}_{app_did}".encode()).hexdigest()


def partition_of(caller: Caller) -> Partition:
    return Partition(user_did=caller.user_did, app_did=caller.app_did)


def check_direct(caller: Caller | None, target: Partition) -> Partition:
    """The partition a direct call may act on: ``target`` if it is the caller's own."""
    # [HACL-001] a direct call is authenticated and reaches only its own partition
    if caller is None or partition_of(caller) != target:
        raise Reject(Reason.HIVE_ACCESS_DENIED, "HACL-001", f"caller may not reach {target.user_did}/{target.app_did}")
    return target


def check_anonymous(caller: Caller | None, allow_anonymous_user: bool, allow_anonymous_app: bool) -> None:
    """HACL-002."""
    # [HACL-002] anonymous only when both flags allow it
    if caller is None and not (allow_anonymous_user and allow_anonymous_app):
        raise Reject(Reason.HIVE_ACCESS_DENIED, "HACL-002", "anonymous access is not allowed")
