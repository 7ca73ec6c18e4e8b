"""Scripts: how an owner lets other DIDs (or anyone) reach chosen parts of a partition.

The owner registers ``PUT /vault/scripting/<name>`` a script; anyone calls it with ``PATCH
/vault/scripting/<name>`` and ``{"context": {"target_did", "target_app_did"}, "params": {...}}``.
The call runs against the **target** partition (the owner's), never the caller's.

Definition (``HSCR-001``)
-------------------------

::

    script     = {"executable": executable, "condition"?: condition,
                  "allowAnonymousUser"?: bool, "allowAnonymousApp"?: bool}     (flags default false)
    condition  = {"name": str, "type": "queryHasResult", "body": {"collection": str, "filter": object}}
               | {"name": str, "type": "and" | "or", "body": [condition, ...]}  (non-empty, depth <= 8)
    executable = {"name": str, "type": T, "output"?: bool, "body": B}          (output defaults true)

====================  ===========================================================================
``type``              ``body``
====================  ===========================================================================
``find``              ``{collection, filter?, options?}`` (:mod:`spec.hive.database` subset)
``insert``            ``{collection, document, options?: {timestamp?: bool}}``
``update``            ``{collection, filter, update, options?: {upsert?: bool, timestamp?: bool}}``
``delete``            ``{collection, filter}``
``fileUpload``        ``{path}``
``fileDownload``      ``{path}``
``fileProperties``    ``{path}``
``fileHash``          ``{path}``
``aggregated``        ``[executable, ...]`` (non-empty, no nested ``aggregated``)
====================  ===========================================================================

Every ``name`` (of the script, a condition or an executable) is a non-empty string of Unicode scalar
values with no control character (C0, DEL or C1), and the whole definition is a value the vault can
store (the bounds of ``HDB-008``: nesting, no lone surrogate, 64-bit integers, finite numbers).

A call (``HSCR-002`` .. ``HSCR-004``, ``HACL-002``)
-----------------------------------------------------

1. The script exists in the target partition (``HSCR-002``).
2. No token: both anonymous flags must be true (``HACL-002``).
3. **Substitution** in the condition and the executable, on every JSON string value that is exactly
   ``"$caller_did"`` (the caller's user DID, ``null`` when anonymous), ``"$caller_app_did"`` (its app
   DID) or ``"$params.<name>"`` (the call's ``params[name]``; a missing name is ``HSCR-004``).
   Object keys are not substituted; a string that merely contains a ``$`` form is left as it is.
4. The condition holds (``HSCR-003``): ``queryHasResult`` when at least one document of the
   collection matches (a missing collection: it does not hold), ``and``/``or`` over the parts.
5. The executables run in order against the target partition; each one's output (when ``output``)
   is the call's result under its name. Any rejection rejects the whole call, with no change.

Outputs: ``find`` ``{"items": [...]}``; ``insert`` ``{"inserted_id"}``; ``update``
``{"matched_count", "modified_count", "upserted_id"}``; ``delete`` ``{"deleted_count"}``;
``fileUpload``/``fileDownload`` ``{"transaction": {"action", "path"}}`` (the body then moves on
``/vault/scripting/stream/<transaction_id>``; a download needs the file to exist);
``fileProperties`` ``{"path", "size", "sha256", "cid", "created", "modified"}``; ``fileHash``
``{"SHA256": hex}``.

Upstream: Elastos.Hive.Node ``src/modules/scripting/scripting.py``, ``executable.py``
(``populate_with_params_values``, ``$caller_did``), ``condition.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, Final, NoReturn

from pydantic import BaseModel, ConfigDict

from spec.errors import Reason, Reject, rule
from spec.hive import database as db
from spec.hive import files as fs
from spec.hive.access import check_anonymous
from spec.hive.auth import Caller

__all__ = [
    "CONDITION_TYPES",
    "EXECUTABLE_TYPES",
    "MAX_CONDITION_DEPTH",
    "Script",
    "PartitionData",
    "parse_script",
    "register",
    "substitute",
    "condition_holds",
    "run",
]

CONDITION_TYPES: Final = ("queryHasResult", "and", "or")
EXECUTABLE_TYPES: Final = ("find", "insert", "update", "delete", "fileUpload", "fileDownload", "fileProperties",
                           "fileHash", "aggregated")
MAX_CONDITION_DEPTH: Final = 8

R_SHAPE: Final = rule(
    "HSCR-001", Reason.HIVE_SCRIPT_MALFORMED,
    "A script is an object with an executable, optionally a condition and the two boolean anonymous flags; "
    "conditions and executables are of the specified types and bodies.",
    suite="hive", upstream="scripting.py validation: InvalidParameterException",
)
R_FOUND: Final = rule(
    "HSCR-002", Reason.HIVE_SCRIPT_NOT_FOUND,
    "A script call names a script the target partition registered.",
    suite="hive", upstream="scripting.py: ScriptNotFoundException (404)",
)
R_CONDITION: Final = rule(
    "HSCR-003", Reason.HIVE_SCRIPT_CONDITION,
    "A script's condition holds after substitution: queryHasResult finds a document; and/or combine.",
    suite="hive", upstream="scripting.py: \"Caller can't access the script\" (403)",
)
R_PARAMS: Final = rule(
    "HSCR-004", Reason.HIVE_SCRIPT_PARAMS,
    "Every \"$params.<name>\" in the condition and the executable names a member of the call's params "
    "(an object).",
    suite="hive", upstream="executable.py populate_with_params_values: InvalidParameterException",
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Script(_Model):
    name: str
    executable: dict[str, Any]
    condition: dict[str, Any] | None = None
    allow_anonymous_user: bool = False
    allow_anonymous_app: bool = False


class PartitionData(_Model):
    """What a script reaches: the target partition's database, files and scripts."""

    database: db.Database = db.Database()
    files: fs.Files = fs.Files()
    scripts: tuple[Script, ...] = ()

    def script(self, name: str) -> Script:
        for s in self.scripts:
            if s.name == name:
                return s
        # [HSCR-002] the script is registered
        raise Reject(Reason.HIVE_SCRIPT_NOT_FOUND, "HSCR-002", f"no script {name!r}")


def _bad(detail: str) -> NoReturn:
    # [HSCR-001] the script is of the specified shape
    raise Reject(Reason.HIVE_SCRIPT_MALFORMED, "HSCR-001", detail)


def _obj(v: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    # [HSCR-001] an object with exactly its members
    if not isinstance(v, dict) or any(k not in v for k in required) or any(
            k not in required and k not in optional for k in v):
        _bad(f"{where}: expected an object with {required} (+{optional})")
    return v


def _name(v: Any, where: str) -> None:
    # [HSCR-001] names are non-empty strings
    if not isinstance(v, str) or not v:
        _bad(f"{where}: expected a non-empty string")
    # [HSCR-001] of Unicode scalar values (no lone surrogate: a name has a UTF-8 form) and no control character
    if db.value_fault(v) is not None or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in v):
        _bad(f"{where}: {v!r} has a lone surrogate or a control character")


def _check_condition(c: Any, where: str, depth: int) -> None:
    # [HSCR-001] conditions nest at most MAX_CONDITION_DEPTH deep
    if depth > MAX_CONDITION_DEPTH:
        _bad(f"{where}: nested too deep")
    c = _obj(c, where, ("name", "type", "body"))
    _name(c["name"], where + ".name")
    # [HSCR-001] a known condition type
    if c["type"] not in CONDITION_TYPES:
        _bad(f"{where}.type: {c['type']!r}")
    if c["type"] == "queryHasResult":
        b = _obj(c["body"], where + ".body", ("collection", "filter"), ("options",))
        _name(b["collection"], where + ".body.collection")
        # [HSCR-001] the filter is an object
        if not isinstance(b["filter"], dict):
            _bad(f"{where}.body.filter: expected an object")
    else:
        # [HSCR-001] and/or take a non-empty array
        if not isinstance(c["body"], list) or not c["body"]:
            _bad(f"{where}.body: expected a non-empty array")
        for i, sub in enumerate(c["body"]):
            _check_condition(sub, f"{where}.body[{i}]", depth + 1)


_BODIES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "find": (("collection",), ("filter", "options")),
    "insert": (("collection", "document"), ("options",)),
    "update": (("collection", "filter", "update"), ("options",)),
    "delete": (("collection", "filter"), ()),
    "fileUpload": (("path",), ()),
    "fileDownload": (("path",), ()),
    "fileProperties": (("path",), ()),
    "fileHash": (("path",), ()),
}


def _check_executable(e: Any, where: str, nested: bool) -> None:
    e = _obj(e, where, ("name", "type", "body"), ("output",))
    _name(e["name"], where + ".name")
    # [HSCR-001] output is a boolean
    if not isinstance(e.get("output", True), bool):
        _bad(f"{where}.output: expected a boolean")
    t = e["type"]
    # [HSCR-001] a known executable type; aggregated only at the top
    if t not in EXECUTABLE_TYPES or (t == "aggregated" and nested):
        _bad(f"{where}.type: {t!r}")
    if t == "aggregated":
        # [HSCR-001] aggregated takes a non-empty array
        if not isinstance(e["body"], list) or not e["body"]:
            _bad(f"{where}.body: expected a non-empty array")
        for i, sub in enumerate(e["body"]):
            _check_executable(sub, f"{where}.body[{i}]", True)
        return
    required, optional = _BODIES[t]
    b = _obj(e["body"], where + ".body", required, optional)
    for k in ("collection", "path"):
        if k in b:
            _name(b[k], f"{where}.body.{k}")
    for k in ("filter", "document", "update", "options"):
        # [HSCR-001] filter, document, update and options are objects
        if k in b and not isinstance(b[k], dict):
            _bad(f"{where}.body.{k}: expected an object")


def parse_script(name: str, definition: Any) -> Script:
    """Check a script definition (HSCR-001)."""
    _name(name, "name")
    fault = db.value_fault(definition)
    # [HSCR-001] a definition is a value the vault can store (HDB-008's bounds)
    if fault is not None:
        _bad(f"script: {fault}")
    d = _obj(definition, "script", ("executable",), ("condition", "allowAnonymousUser", "allowAnonymousApp"))
    for flag in ("allowAnonymousUser", "allowAnonymousApp"):
        # [HSCR-001] the anonymous flags are booleans
        if not isinstance(d.get(flag, False), bool):
            _bad(f"{flag}: expected a boolean")
    _check_executable(d["executable"], "executable", False)
    if d.get("condition") is not None:
        _check_condition(d["condition"], "condition", 1)
    return Script(name=name, executable=d["executable"], condition=d.get("condition"),
                  allow_anonymous_user=d.get("allowAnonymousUser", False),
                  allow_anonymous_app=d.get("allowAnonymousApp", False))


def register(data: PartitionData, script: Script) -> PartitionData:
    """Register (or replace) a script in the owner's partition."""
    rest = [s for s in data.scripts if s.name != script.name]
    return data.model_copy(update={"scripts": tuple(sorted([*rest, script], key=lambda s: s.name))})


def substitute(value: Any, caller: Caller | None, params: Mapping[str, Any]) -> Any:
    """Replace ``$caller_did``, ``$caller_app_did`` and ``$params.<name>`` string values (HSCR-004)."""
    if isinstance(value, dict):
        return {k: substitute(v, caller, params) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, caller, params) for v in value]
    if value == "$caller_did":
        return caller.user_did if caller is not None else None
    if value == "$caller_app_did":
        return caller.app_did if caller is not None else None
    if isinstance(value, str) and value.startswith("$params."):
        key = value[len("$params."):]
        # [HSCR-004] the parameter is given
        if key not in params:
            raise Reject(Reason.HIVE_SCRIPT_PARAMS, "HSCR-004", f"missing parameter {key!r}")
        return params[key]
    return value


def condition_holds(data: PartitionData, c: dict[str, Any]) -> bool:
    """Evaluate a substituted condition against the target partition."""
    if c["type"] == "and":
        return all(condition_holds(data, s) for s in c["body"])
    if c["type"] == "or":
        return any(condition_holds(data, s) for s in c["body"])
    if not data.database.has(c["body"]["collection"]):
        return False
    return db.count(data.database, c["body"]["collection"], c["body"]["filter"]) > 0


def _run_one(data: PartitionData, e: dict[str, Any], ids: Iterator[str], now: int) -> tuple[PartitionData, Any]:
    t, b = e["type"], e["body"]
    base = data.database
    if t == "find":
        return data, {"items": db.find(base, b["collection"], b.get("filter", {}), b.get("options"))}
    if t == "insert":
        stamp = now if b.get("options", {}).get("timestamp") is True else None
        new_id = next(ids)
        new = db.insert(base, b["collection"], [b["document"]], [new_id], now=stamp)
        return data.model_copy(update={"database": new}), {"inserted_id": new_id}
    if t == "update":
        opts = b.get("options", {})
        upsert = opts.get("upsert") is True
        new, matched, modified, upserted = db.update(
            base, b["collection"], b["filter"], b["update"], many=False, upsert=upsert,
            upsert_id=next(ids) if upsert else None, now=now if opts.get("timestamp") is True else None)
        return data.model_copy(update={"database": new}), {
            "matched_count": matched, "modified_count": modified, "upserted_id": upserted}
    if t == "delete":
        new, deleted = db.delete(base, b["collection"], b["filter"], many=True)
        return data.model_copy(update={"database": new}), {"deleted_count": deleted}
    path = b["path"]
    if not isinstance(path, str):
        _bad(f"{e['name']}: path is not a string after substitution")
    if t == "fileUpload":
        fs.check_path(path)
        return data, {"transaction": {"action": "upload", "path": path}}
    entry = fs.get(data.files, path)
    if t == "fileDownload":
        return data, {"transaction": {"action": "download", "path": path}}
    if t == "fileProperties":
        return data, {"path": entry.path, "size": entry.size, "sha256": entry.sha256, "cid": entry.cid,
                      "created": entry.created, "modified": entry.modified}
    return data, {"SHA256": entry.sha256}


def run(data: PartitionData, name: str, caller: Caller | None, params: Any, *, id_prefix: str,
        now: int) -> tuple[PartitionData, dict[str, Any]]:
    """Call script ``name`` of the target partition: the new partition data and the call's result.

    Documents a call inserts get the ids ``<id_prefix>0``, ``<id_prefix>1``, ... in order (the vault
    draws a fresh prefix per call).
    """
    script = data.script(name)
    check_anonymous(caller, script.allow_anonymous_user, script.allow_anonymous_app)
    # [HSCR-004] params is an object
    if not isinstance(params, dict):
        raise Reject(Reason.HIVE_SCRIPT_PARAMS, "HSCR-004", "params: expected an object")
    if script.condition is not None:
        cond = substitute(script.condition, caller, params)
        # [HSCR-003] the condition holds
        if not condition_holds(data, cond):
            raise Reject(Reason.HIVE_SCRIPT_CONDITION, "HSCR-003", f"condition {cond['name']!r} does not hold")
    top = substitute(script.executable, caller, params)
    steps = top["body"] if top["type"] == "aggregated" else [top]
    id_iter = (f"{id_prefix}{n}" for n in itertools.count())
    out: dict[str, Any] = {}
    for e in steps:
        data, result = _run_one(data, e, id_iter, now)
        if e.get("output", True):
            out[e["name"]] = result
    return data, out
