"""Rule coverage: for every rule ID, the vectors that accept and reject through it, and its proofs.

A case *exercises* a rule when the rule is in its ``rules`` list: an accepting case lists the rules
whose checks it passes, a rejecting case the rule that rejected it (the framework records that one
itself). Every rule must have at least one accepting and one rejecting case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spec.rules import all_rules

from conformance.vectors import VectorSet, load_vectors


@dataclass
class RuleCoverage:
    rule: str
    reason: str
    suite: str
    statement: str
    accepting: list[str] = field(default_factory=list)
    rejecting: list[str] = field(default_factory=list)
    proofs: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.accepting) and bool(self.rejecting)


def proof_rules() -> dict[str, list[str]]:
    """Rule ID -> names of the proofs that are about it."""
    from proofs.framework import all_proofs

    out: dict[str, list[str]] = {}
    for p in all_proofs():
        for r in p.rules:
            out.setdefault(r, []).append(p.name)
    return out


def compute(vectors: VectorSet | None = None, root: Path | None = None) -> list[RuleCoverage]:
    """Coverage of every registered rule by the vectors under ``root`` and by the proofs."""
    if vectors is None:
        from conformance.vectors import default_vectors_dir

        vectors = load_vectors(root or default_vectors_dir())
    table = {r.id: RuleCoverage(r.id, r.reason.value, r.suite, r.statement) for r in all_rules()}
    for case in vectors.cases:
        accepted = "ok" in case.data["expect"]
        for rid in case.data.get("rules", []):
            if rid not in table:
                raise KeyError(f"{case.id} names unknown rule {rid}")
            (table[rid].accepting if accepted else table[rid].rejecting).append(case.id)
    for rid, names in proof_rules().items():
        if rid in table:
            table[rid].proofs.extend(sorted(names))
    return [table[k] for k in sorted(table)]
