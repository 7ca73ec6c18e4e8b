"""The proof framework: declare a Z3 proof next to what ties it to the spec, run it, replay its models.

A proof is a function decorated with :func:`proof`. It builds a :class:`Query` (a claim over named
Z3 inputs) and returns it; the framework asks Z3 for a model of the claim's negation under a
per-proof timeout and turns the answer into a :class:`ProofResult`:

==================  ===============================================================================
status              meaning
==================  ===============================================================================
``proved``          ``forall`` claim: its negation is unsat. ``exists`` claim: Z3 found a witness.
``counterexample``  the statement is false. ``forall``: the model is an input that breaks it.
                    ``exists``: the claim is unsat, so there is no witness and no model.
``unknown``         Z3 gave up (timeout, incompleteness) or the query could not be built.
==================  ===============================================================================

Every model the solver produces (a counterexample or a witness) is read back as plain Python values
(``int``, ``bool``, lists of them) and handed to the proof's ``replay`` function, which runs the
values through the **real** spec functions and says what the spec did, and to its ``to_case``
function, which renders a vector case (see :func:`vector_case`) that ``elastos prove
--emit-vectors`` writes out.

DESIGN §6: a proof counts only when it is tied to the spec. A proof declares how
(``method``): ``"spec-terms"`` when it evaluates the spec's own functions on Z3 terms, ``"model"``
when it proves a model of a spec function; a ``"model"`` proof names the correspondence tests that
check the model against the spec function with Hypothesis (``correspondence``). :func:`concrete`
evaluates a model on constants, so that those tests run the very same model code as the proof.

Proof modules are listed once, in :data:`PROOF_MODULES`; :func:`all_proofs` imports them all.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import z3

from spec import SPEC_VERSION

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "PROOF_MODULES",
    "PROOFS",
    "Proof",
    "ProofResult",
    "Query",
    "Summary",
    "all_proofs",
    "concrete",
    "get_proof",
    "model_values",
    "proof",
    "run_proof",
    "run_proofs",
    "vector_case",
]

DEFAULT_TIMEOUT_S: float = 60.0
"""Z3 ``timeout`` of one proof unless it declares another."""

PROOF_MODULES: tuple[str, ...] = (
    "proofs.encoding",
    "proofs.chain_state",
    "proofs.chain_pow",
    "proofs.did_chain",
    "proofs.assets",
    "proofs.isolation",
    "proofs.hive",
)
"""Every module that declares proofs; :func:`all_proofs` imports these and nothing else."""

Status = Literal["proved", "counterexample", "unknown"]
Kind = Literal["forall", "exists"]
Method = Literal["spec-terms", "model"]
ModelValues = dict[str, Any]
"""Input name -> concrete value (``int``, ``bool`` or a list of them) read from a Z3 model."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CASE_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,95}")


class NoVector(Exception):
    """Raised by a proof's ``to_case`` when its witness is a model sequence replayed through the spec (the
    replay is the evidence) rather than one input a vector could hold; the message says why."""


@dataclass(frozen=True)
class Query:
    """What a proof function returns: a claim over named Z3 inputs.

    ``kind="forall"``: the claim holds for every input satisfying ``assumptions``.
    ``kind="exists"``: some input satisfying ``assumptions`` makes the claim true.
    ``inputs`` names the free terms whose values make up a counterexample or witness; a value is
    one term or a sequence of terms (for example the bytes of a buffer).
    """

    claim: z3.BoolRef
    inputs: Mapping[str, z3.ExprRef | Sequence[z3.ExprRef]]
    assumptions: tuple[z3.BoolRef, ...] = ()
    kind: Kind = "forall"


@dataclass(frozen=True)
class Proof:
    """One declared proof: what it states, which spec rules and functions it is about, how to run it."""

    name: str
    statement: str
    rules: tuple[str, ...]
    about: tuple[str, ...]
    """Dotted names of the spec functions the proof is about."""
    build: Callable[[], Query]
    replay: Callable[[ModelValues], dict[str, Any]]
    to_case: Callable[[ModelValues], dict[str, Any]]
    method: Method
    correspondence: tuple[str, ...]
    """``tests/<file>.py::<test>`` ids of the tests tying a ``"model"`` proof to the spec."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    module: str = ""

    @property
    def doc(self) -> str:
        """The proof function's docstring: precisely what it proves and how it is tied to the spec."""
        return (self.build.__doc__ or "").strip()


@dataclass(frozen=True)
class ProofResult:
    """The outcome of running one proof."""

    name: str
    statement: str
    rules: tuple[str, ...]
    about: tuple[str, ...]
    status: Status
    seconds: float
    """Wall time of building the query and solving it (replay not included)."""
    counterexample: dict[str, Any] | None
    """Model values of a falsified ``forall`` claim."""
    replay: str | None
    """JSON of what the spec did with the counterexample or witness."""
    witness: dict[str, Any] | None = None
    """Model values of a proved ``exists`` claim."""
    case: dict[str, Any] | None = None
    """The vector case rendered from the counterexample or witness."""
    detail: str = ""
    """Why the result is ``unknown``, or what refuted an ``exists`` claim."""

    @property
    def ok(self) -> bool:
        return self.status == "proved"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rules"] = list(self.rules)
        out["about"] = list(self.about)
        return out


PROOFS: list[Proof] = []
"""Every registered proof, in declaration order (filled as proof modules are imported)."""


def proof(
    *,
    name: str,
    statement: str,
    replay: Callable[[ModelValues], dict[str, Any]],
    to_case: Callable[[ModelValues], dict[str, Any]],
    rules: tuple[str, ...] = (),
    about: tuple[str, ...] = (),
    method: Method = "model",
    correspondence: tuple[str, ...] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    registry: list[Proof] | None = PROOFS,
) -> Callable[[Callable[[], Query]], Proof]:
    """Declare a proof; the decorated function builds its :class:`Query`.

    ``registry=None`` declares a proof without registering it (used by tests of the framework).
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"bad proof name {name!r}")
    if method == "model" and not correspondence:
        raise ValueError(f"proof {name}: a model proof must name its correspondence tests")
    if timeout_s <= 0:
        raise ValueError(f"proof {name}: timeout must be positive")

    def register(fn: Callable[[], Query]) -> Proof:
        if not (fn.__doc__ or "").strip():
            raise ValueError(f"proof {name}: the proof function needs a docstring")
        p = Proof(
            name=name, statement=statement, rules=tuple(rules), about=tuple(about), build=fn,
            replay=replay, to_case=to_case, method=method, correspondence=tuple(correspondence),
            timeout_s=timeout_s, module=fn.__module__,
        )
        if registry is not None:
            if any(q.name == name for q in registry):
                raise ValueError(f"proof {name} declared twice")
            registry.append(p)
        return p

    return register


def all_proofs() -> list[Proof]:
    """Import every module of :data:`PROOF_MODULES` and return every registered proof."""
    for module in PROOF_MODULES:
        importlib.import_module(module)
    return list(PROOFS)


def get_proof(name: str) -> Proof:
    """The registered proof called ``name`` (after importing every proof module)."""
    for p in all_proofs():
        if p.name == name:
            return p
    raise KeyError(name)


# -- reading Z3 values back ------------------------------------------------------------------------


def _value(term: z3.ExprRef) -> int | bool | str:
    if z3.is_string_value(term):
        return term.as_string()
    if z3.is_true(term):
        return True
    if z3.is_false(term):
        return False
    if z3.is_bv_value(term) or z3.is_int_value(term):
        return term.as_long()
    raise ValueError(f"not a constant: {term}")


def concrete(term: Any) -> Any:
    """Evaluate a ground Z3 term (or a tuple/list of them) to Python values.

    This is how a model is run on concrete inputs: build its terms from ``BitVecVal`` constants and
    evaluate them here, so that a correspondence test executes the same model code as the proof.
    """
    if isinstance(term, (tuple, list)):
        return type(term)(concrete(t) for t in term)
    return _value(z3.simplify(term))


def model_values(model: z3.ModelRef, inputs: Mapping[str, Any]) -> ModelValues:
    """The concrete value of every named input in ``model`` (unconstrained inputs read as 0)."""
    def read(t: Any) -> Any:
        if isinstance(t, (tuple, list)):
            return [read(x) for x in t]
        if t.ctx != model.ctx:  # a query solved in its own context (_solve)
            t = t.translate(model.ctx)
        return _value(model.eval(t, model_completion=True))

    return {k: read(v) for k, v in inputs.items()}


# -- vector cases ---------------------------------------------------------------------------------


def vector_case(qualified_handler: str, case: str, data: dict[str, Any], rules: Sequence[str], description: str) -> dict[str, Any]:
    """A vector case in the layout of :mod:`conformance.vectors`, ``expect`` computed by the spec.

    The rule that fired (for a rejecting case) is added to ``rules``, as the vector framework does.
    """
    from conformance.vectors import expected_result

    if not _CASE_NAME.fullmatch(case):
        raise ValueError(f"bad case name {case!r}")
    suite, handler = qualified_handler.split("/")
    expect, fired = expected_result(qualified_handler, data)
    all_rules = set(rules) | ({fired} if fired else set())
    return {
        "suite": suite,
        "handler": handler,
        "case": case,
        "spec_version": SPEC_VERSION,
        "rules": sorted(all_rules),
        "description": description,
        "input": data,
        "expect": expect,
    }


# -- running --------------------------------------------------------------------------------------


def _solve(q: Query, timeout_s: float) -> tuple[z3.CheckSatResult, z3.Solver]:
    """Check ``q`` in a Z3 context of its own. The query's terms are copied into it, so Z3 numbers them
    in the order of the query alone. In the process's shared context, their numbers depend on every
    term built before. One query took 10 s run by itself and over 600 s late in a test session, with
    Z3's linear-arithmetic search going another way."""
    ctx = z3.Context()
    s = z3.Solver(ctx=ctx)
    s.set("timeout", max(1, int(timeout_s * 1000)))
    s.add(*(a.translate(ctx) for a in q.assumptions))
    s.add((z3.Not(q.claim) if q.kind == "forall" else q.claim).translate(ctx))
    return s.check(), s


def _replayed(p: Proof, values: ModelValues) -> tuple[str, dict[str, Any] | None, str]:
    """Replay a model through the spec and render its case; failures are reported, not raised."""
    notes = []
    try:
        replay = json.dumps(p.replay(values), sort_keys=True, default=str)
    except Exception as e:  # noqa: BLE001 - a broken replay is reported with the result
        replay = json.dumps({"replay_error": f"{type(e).__name__}: {e}"})
    try:
        case = p.to_case(values)
    except NoVector as e:
        case = None
        notes.append(f"no vector: {e}")
    except Exception as e:  # noqa: BLE001
        case = None
        notes.append(f"to_case failed: {type(e).__name__}: {e}")
    return replay, case, "; ".join(notes)


def run_proof(p: Proof, timeout_s: float | None = None) -> ProofResult:
    """Run one proof under its timeout (or ``timeout_s``), replaying any model through the spec."""
    limit = p.timeout_s if timeout_s is None else timeout_s
    base = dict(name=p.name, statement=p.statement, rules=p.rules, about=p.about)
    start = time.perf_counter()
    try:
        q = p.build()
        answer, solver = _solve(q, limit)
    except Exception as e:  # noqa: BLE001 - a query that cannot be built proves nothing
        return ProofResult(**base, status="unknown", seconds=time.perf_counter() - start,
                           counterexample=None, replay=None, detail=f"query failed: {type(e).__name__}: {e}")
    seconds = time.perf_counter() - start
    if answer == z3.unknown:
        return ProofResult(**base, status="unknown", seconds=seconds, counterexample=None, replay=None,
                           detail=f"solver: {solver.reason_unknown()}")
    if answer == z3.unsat:
        if q.kind == "forall":
            return ProofResult(**base, status="proved", seconds=seconds, counterexample=None, replay=None)
        return ProofResult(**base, status="counterexample", seconds=seconds, counterexample=None, replay=None,
                           detail="no input satisfies the claim")
    values = model_values(solver.model(), q.inputs)
    replay, case, notes = _replayed(p, values)
    if q.kind == "forall":
        return ProofResult(**base, status="counterexample", seconds=seconds, counterexample=values,
                           replay=replay, case=case, detail=notes)
    return ProofResult(**base, status="proved", seconds=seconds, counterexample=None, replay=replay,
                       witness=values, case=case, detail=notes)


def run_proofs(proofs: Sequence[Proof], timeout_s: float | None = None,
               on_start: Callable[[int, Proof], None] | None = None) -> Iterator[ProofResult]:
    """Run proofs in order, calling ``on_start(index, proof)`` before each."""
    for i, p in enumerate(proofs):
        if on_start is not None:
            on_start(i, p)
        yield run_proof(p, timeout_s)


@dataclass
class Summary:
    """Counts of a run, for the runner's total line and JSON report."""

    results: list[ProofResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {"proved": 0, "counterexample": 0, "unknown": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)
