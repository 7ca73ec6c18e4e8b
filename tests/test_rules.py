"""The rule registry and its ties to the source: every rule is declared once, enforced by a guard
whose comment carries its ID, and raised only with its registered reason."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import spec
from spec.errors import RULES, DecodeError, Reason, Reject, Rule, register_rule
from spec.rules import all_rules

SPEC_DIR = Path(spec.__file__).resolve().parent
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*-\d{3}$")
COMMENT = re.compile(r"#\s*\[([A-Z][A-Z0-9]*-\d{3})\]")
WINDOW = 3
"""A guard's comment is at most this many lines above its ``raise`` (or above the ``if`` holding it)."""


@dataclass(frozen=True)
class RaiseSite:
    path: Path
    line: int
    rule_id: str
    reason: str | None
    commented: bool
    """A ``# [ID]`` comment is within WINDOW lines above the guard (the raise or its ``if``)."""
    commented_at_raise: bool
    """A ``# [ID]`` comment is within WINDOW lines above the ``raise`` line itself."""

    def __str__(self) -> str:
        return f"{self.path.relative_to(SPEC_DIR.parent)}:{self.line} ({self.rule_id})"


def _sources() -> list[tuple[Path, str, ast.Module]]:
    out = []
    for path in sorted(SPEC_DIR.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        out.append((path, text, ast.parse(text, filename=str(path))))
    return out


SOURCES = _sources()


def _declarations() -> list[tuple[Path, int, str]]:
    found = []
    for path, _, tree in SOURCES:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "rule"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((path, node.lineno, node.args[0].value))
    return found


def _raise_sites() -> list[RaiseSite]:
    sites = []
    for path, text, tree in SOURCES:
        lines = text.splitlines()
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
                continue
            # the guard starts at the raise, or at the `if` whose body holds it (a condition may span lines)
            anchors = [node.lineno]
            parent = parents.get(node)
            if isinstance(parent, ast.If) and node in parent.body:
                anchors.append(parent.lineno)
            ids = [a.value for a in node.exc.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                   and RULE_ID.match(a.value)]
            reasons = [a.attr for a in node.exc.args if isinstance(a, ast.Attribute)
                       and isinstance(a.value, ast.Name) and a.value.id == "Reason"]
            for rule_id in ids:
                def has_comment(anchor: int, rule_id: str = rule_id) -> bool:
                    return any(rule_id in COMMENT.findall(line) for line in lines[max(0, anchor - 1 - WINDOW): anchor - 1])

                sites.append(RaiseSite(
                    path, node.lineno, rule_id, reasons[0] if reasons else None,
                    commented=any(has_comment(a) for a in anchors),
                    commented_at_raise=has_comment(node.lineno),
                ))
    return sites


DECLARATIONS = _declarations()
RAISES = _raise_sites()


def test_source_scan_found_the_spine():
    assert len(DECLARATIONS) >= 40 and len(RAISES) >= 40, "the AST scan of spec/ found too little"


@pytest.mark.parametrize("r", all_rules(), ids=lambda r: r.id)
def test_every_rule_has_a_commented_guard(r: Rule):
    sites = [s for s in RAISES if s.rule_id == r.id and s.commented_at_raise]
    assert sites, (
        f"rule {r.id} has no `# [{r.id}]` comment within {WINDOW} lines above a raise carrying {r.id!r} in spec/"
    )


def test_every_raise_carrying_a_rule_id_is_preceded_by_its_comment():
    """House style (DESIGN.md §3): every guard is preceded by a comment that carries its rule ID."""
    missing = [str(s) for s in RAISES if not s.commented]
    assert not missing, (
        f"SPEC STYLE BUG: raise sites without a `# [ID]` comment within {WINDOW} lines above: {missing}"
    )


def test_every_raised_rule_id_is_registered_with_that_reason():
    for site in RAISES:
        assert site.rule_id in RULES, f"{site}: raises an unregistered rule"
        if site.reason is not None:
            assert RULES[site.rule_id].reason.name == site.reason, (
                f"{site}: raised with Reason.{site.reason}, registered with {RULES[site.rule_id].reason}"
            )


def test_every_comment_names_a_registered_rule():
    for path, text, _ in SOURCES:
        for n, line in enumerate(text.splitlines(), 1):
            for rule_id in COMMENT.findall(line):
                assert rule_id in RULES, f"{path.name}:{n}: comment names unknown rule {rule_id}"


def test_every_rule_declared_exactly_once():
    ids = [rule_id for _, _, rule_id in DECLARATIONS]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"rule IDs declared more than once: {duplicates}"
    assert set(ids) == set(RULES), (
        f"declared but not registered: {sorted(set(ids) - set(RULES))}; "
        f"registered without a rule() declaration: {sorted(set(RULES) - set(ids))}"
    )


def test_all_rules_is_sorted_and_complete():
    rules = all_rules()
    assert [r.id for r in rules] == sorted(RULES)
    assert all(RULES[r.id] is r for r in rules)


@pytest.mark.parametrize("r", all_rules(), ids=lambda r: r.id)
def test_rule_fields(r: Rule):
    assert RULE_ID.match(r.id), r.id
    assert isinstance(r.reason, Reason)
    assert r.statement.strip() and r.statement.rstrip().endswith("."), f"{r.id}: statement should be a sentence"
    assert r.suite in ("encoding", "crypto") or r.suite.isidentifier(), r.suite
    assert r.reason not in (Reason.MALFORMED_INPUT, Reason.MALFORMED_REQUEST), (
        f"{r.id}: adapter-protocol reasons are not spec rules"
    )


def test_reason_values_equal_names():
    for member in Reason:
        assert member.value == member.name, member
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", member.value), member
    assert len({m.value for m in Reason}) == len(Reason)


def test_every_rule_reason_is_a_reason():
    used = {r.reason for r in all_rules()}
    assert used <= set(Reason)


def test_reject_refuses_a_rule_raised_with_the_wrong_reason():
    with pytest.raises(ValueError, match="ENC-003"):
        Reject(Reason.TRUNCATED, "ENC-003")
    with pytest.raises(ValueError, match="ENC-003"):
        DecodeError(Reason.TRUNCATED, "ENC-003", "detail")
    for r in all_rules():
        wrong = next(m for m in Reason if m is not r.reason)
        with pytest.raises(ValueError):
            Reject(wrong, r.id)


def test_reject_refuses_an_unregistered_rule():
    with pytest.raises(ValueError, match="unregistered"):
        Reject(Reason.TRUNCATED, "XYZ-999")


def test_reject_fields_and_message():
    e = DecodeError(Reason.NON_CANONICAL_VARUINT, "ENC-003", "fd fc00")
    assert (e.reason, e.rule, e.detail) == (Reason.NON_CANONICAL_VARUINT, "ENC-003", "fd fc00")
    assert str(e) == "NON_CANONICAL_VARUINT [ENC-003]: fd fc00"
    assert isinstance(e, Reject)
    plain = Reject(Reason.MALFORMED_INPUT)
    assert plain.rule is None and str(plain) == "MALFORMED_INPUT"


def test_register_rule_is_idempotent_and_refuses_a_different_rule():
    existing = RULES["ENC-001"]
    assert register_rule(existing) is existing
    changed = Rule(existing.id, existing.statement + " (changed)", existing.reason, existing.suite)
    with pytest.raises(ValueError, match="twice"):
        register_rule(changed)
    assert RULES["ENC-001"] is existing


@pytest.mark.parametrize("r", [r for r in all_rules() if r.note], ids=lambda r: r.id)
def test_rule_notes_are_quirks_or_deviations(r: Rule):
    # Rule.note is documented as "a ``Quirk:`` or ``Deviation:`` remark"
    assert re.match(r"(Quirk|Deviation)\b", r.note), f"{r.id}: note must start with Quirk or Deviation: {r.note!r}"


def test_the_registry_imports_every_module_that_declares_rules() -> None:
    """``spec.rules`` lists its imports by hand; a module that declares a rule (a call of ``rule`` or
    ``register_rule`` anywhere in it) and is missing there leaves its rules out of the registry
    whenever nothing else happened to import it first (ARB-* were, from spec.sidechain.withdrawal)."""
    root = Path(spec.__file__).parent
    imported = {a.name for node in ast.walk(ast.parse((root / "rules.py").read_text()))
                if isinstance(node, ast.Import) for a in node.names}
    declaring = set()
    for path in sorted(root.rglob("*.py")):
        if path.name in ("errors.py", "rules.py"):
            continue
        calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in ("rule", "register_rule")]
        if calls:
            declaring.add(".".join(("spec",) + path.relative_to(root).with_suffix("").parts))
    assert declaring, "no declaring module found: the scan is broken"
    assert declaring - imported == set()
