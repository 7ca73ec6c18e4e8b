"""Invariants of scarce editions (:mod:`spec.assets.editions`) and of the bridge between the main chain and
the sidechain (:mod:`spec.sidechain.crosschain`, :mod:`spec.sidechain.withdrawal`).

Neither :func:`spec.assets.editions.apply_edition` (CBOR, signatures, pydantic) nor
:func:`spec.sidechain.crosschain.check_recharge` (float64 conversion, address decoding) runs on Z3 terms,
so each proof is about a **model** of the guards; the correspondence tests in
``tests/test_proofs_assets.py`` evaluate the same model functions on constants and compare them with the
spec functions on real requests and transactions, with Hypothesis choosing the sequences.

===============================  ==========================================================================
proof                            statement
===============================  ==========================================================================
``edition_never_exceeds_n``      over every sequence of ``STEPS`` transfers of an edition of ``N`` copies:
                                 every accepted transfer names a copy 1..N, so at most N copies are ever
                                 owned, and each copy has exactly one owner (the model's state is a
                                 function from copy to owner)
``edition_no_double_sale``       no two accepted transfers of one copy name the same previous event, and
                                 each names the mint or an earlier accepted transfer of that copy
``deposit_credited_once``        over every sequence of ``STEPS`` recharges naming main-chain deposits: no
                                 deposit is credited twice, and (at exchange rate 1) the value credited
                                 on the sidechain never exceeds the value locked on the main chain minus
                                 the cross-chain fees
``withdrawal_paid_once``         for every arbiter set of 2..12 arbiters and every way they sign two
                                 different payments of one withdrawal, each arbiter signing at most one
                                 (ARB-004): the two payments never both carry m = floor(2n/3) + 1
                                 arbiter signatures, so the main chain accepts at most one
``bridge_conservation``          at exchange rate 1, over every sequence of ``STEPS`` recharges and
                                 withdrawals: the X address's balance equals the sidechain's supply plus
                                 the margins the fee rules leave (uncredited deposits, each credited
                                 deposit's value - amount; a withdrawal's payment takes exactly its
                                 burn), each margin is >= 0, and every accepted withdrawal's payment is
                                 covered
``bridge_conservation_rate_*``   at 2, 0.5, 1.1, 0.3 and 0.001, over every sequence of ``RATE_STEPS``
                                 recharges and withdrawals locking at most 2^52 sela, with the float64
                                 conversions taken from :func:`float_conversion`: X >= supply / r after
                                 each step, every payment covered, each step's own rounding error below
                                 1 sela
the two witnesses                ``payment_exceeds_burn_at_rate_0_001`` and
                                 ``credit_exceeds_amount_at_rate_0_3``: float64 cases, found in Z3's
                                 IEEE-754 theory, where a step's error is positive (so the bound of 1 sela
                                 is the tightest whole one)
===============================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import z3

from proofs.framework import ModelValues, NoVector, Query, proof

_TESTS = "tests/test_proofs_assets.py::"
STEPS = 6
N = 3
PEOPLE = 3
"""Owners are 0 (the issuer) .. PEOPLE - 1."""
MINT = -1
"""The ``previous`` index that names the mint."""


# -- editions ---------------------------------------------------------------------------------------------------


def edition_run(numbers: Sequence[Any], signers: Sequence[Any], tos: Sequence[Any], refs: Sequence[Any],
                signed: Sequence[Any]) -> list[Any]:
    """Model of :func:`spec.assets.editions.apply_edition` on a sequence of transfers of one minted work of
    N copies: EDN-005 (copy 1..N), EDN-006 (the owner signs), EDN-007 (previous is the copy's last event:
    the mint, ``-1``, or the index of the last accepted transfer of that copy), EDN-009 (the owner changes),
    EDN-002 (``signed``). Whether each transfer is accepted."""
    owner = [z3.IntVal(0) for _ in range(N + 1)]
    last = [z3.IntVal(MINT) for _ in range(N + 1)]
    out = []
    for i, (k, s, t, r, g) in enumerate(zip(numbers, signers, tos, refs, signed, strict=True)):
        cur_owner = z3.IntVal(0)
        cur_last = z3.IntVal(MINT)
        for c in range(1, N + 1):
            cur_owner = z3.If(k == c, owner[c], cur_owner)
            cur_last = z3.If(k == c, last[c], cur_last)
        ok = z3.And(g, 1 <= k, k <= N, s == cur_owner, r == cur_last, t != cur_owner)
        for c in range(1, N + 1):
            hit = z3.And(ok, k == c)
            owner[c] = z3.If(hit, t, owner[c])
            last[c] = z3.If(hit, z3.IntVal(i), last[c])
        out.append(ok)
    return out


def _edition_inputs() -> dict[str, list[Any]]:
    return {"numbers": [z3.Int(f"k{i}") for i in range(STEPS)], "signers": [z3.Int(f"s{i}") for i in range(STEPS)],
            "tos": [z3.Int(f"t{i}") for i in range(STEPS)], "refs": [z3.Int(f"r{i}") for i in range(STEPS)],
            "signed": [z3.Bool(f"g{i}") for i in range(STEPS)]}


def _edition_domain(v: dict[str, list[Any]]) -> tuple[Any, ...]:
    return tuple(z3.And(0 <= v["numbers"][i], v["numbers"][i] <= N + 1, 0 <= v["signers"][i],
                        v["signers"][i] < PEOPLE, 0 <= v["tos"][i], v["tos"][i] < PEOPLE, MINT <= v["refs"][i],
                        v["refs"][i] < STEPS) for i in range(STEPS))


def edition_replay(values: ModelValues) -> dict[str, Any]:
    """A model's sequence through :func:`spec.assets.editions.apply_edition` (see :func:`spec_edition_outcomes`)."""
    seq = list(zip(values["numbers"], values["signers"], values["tos"], values["refs"], values["signed"], strict=True))
    return {"sequence": seq, "spec_accepts": spec_edition_outcomes(*map(list, zip(*seq, strict=True)))}


def spec_edition_outcomes(numbers: Sequence[int], signers: Sequence[int], tos: Sequence[int], refs: Sequence[int],
                          signed: Sequence[bool]) -> list[bool]:
    """Apply the sequence with the spec: a work of N copies minted by person 0; transfer i of copy
    ``numbers[i]`` by ``signers[i]`` to ``tos[i]`` naming the event of transfer ``refs[i]`` (the mint for
    -1); ``signed`` false forges the signature. Event i's id is unique per position."""
    from conformance.generators import assets as G
    from spec.assets import editions as E
    from spec.did import document as D
    from spec.encoding.cbor import cbor_decode, cbor_encode
    from spec.errors import Reject

    resolve = D.resolver_from_texts(G.docs())
    state = E.apply_edition(E.EMPTY_EDITIONS, G.mint(copies=N, royalty=0), G.ev("proof/mint"), resolve)
    out = []
    for i, (k, s, t, r, g) in enumerate(zip(numbers, signers, tos, refs, signed, strict=True)):
        previous = G.ev("proof/mint") if r == MINT else G.ev(f"proof/{r}")
        req = G.transfer(s, max(k, 1), t, previous)
        if k < 1:  # the model's copy 0: a request naming copy 0 does not decode (EDN-001)
            d = cbor_decode(req)
            assert isinstance(d, dict)
            req = cbor_encode({**d, "body": {**d["body"], "number": 0}})
        if not g:
            d = cbor_decode(req)
            assert isinstance(d, dict)
            req = cbor_encode({**d, "sig": bytes([d["sig"][0] ^ 1]) + d["sig"][1:]})
        try:
            state = E.apply_edition(state, req, G.ev(f"proof/{i}"), resolve)
            out.append(True)
        except Reject:
            out.append(False)
    return out


def _no_vector(values: ModelValues) -> dict[str, Any]:
    raise NoVector("a model sequence is replayed through the spec; see the replay")


@proof(
    name="edition_never_exceeds_n",
    statement="An edition never has more than N owned copies, and each copy has exactly one owner",
    rules=("EDN-005", "EDN-006", "EDN-007"),
    about=("spec.assets.editions.apply_edition", "spec.assets.editions.owner_of"),
    correspondence=(_TESTS + "test_edition_model_matches_apply_edition",),
    replay=edition_replay, to_case=_no_vector, timeout_s=60,
)
def edition_never_exceeds_n() -> Query:
    """For every sequence of ``STEPS`` = 6 transfers (any copy number 0..N+1, signer, recipient, previous
    event and signature), every transfer :func:`edition_run` accepts names a copy 1..N. The owners are
    a function of the copy in the model, so each of the N copies has exactly one owner at every step."""
    v = _edition_inputs()
    ok = edition_run(v["numbers"], v["signers"], v["tos"], v["refs"], v["signed"])
    claim = z3.And(*[z3.Implies(ok[i], z3.And(1 <= v["numbers"][i], v["numbers"][i] <= N)) for i in range(STEPS)])
    return Query(claim=claim, inputs=v, assumptions=_edition_domain(v))


@proof(
    name="edition_no_double_sale",
    statement="No two accepted transfers of a copy name the same previous event (a copy is never sold twice "
    "from one state)",
    rules=("EDN-006", "EDN-007"),
    about=("spec.assets.editions.apply_edition",),
    correspondence=(_TESTS + "test_edition_model_matches_apply_edition",),
    replay=edition_replay, to_case=_no_vector, timeout_s=60,
)
def edition_no_double_sale() -> Query:
    """For every sequence of ``STEPS`` = 6 transfers, two accepted transfers i < j of the same copy name
    different previous events, and an accepted transfer's previous is the mint or an earlier accepted
    transfer of the same copy."""
    v = _edition_inputs()
    k, r = v["numbers"], v["refs"]
    ok = edition_run(v["numbers"], v["signers"], v["tos"], v["refs"], v["signed"])
    claims = []
    for j in range(STEPS):
        earlier = z3.Or(r[j] == MINT, *[z3.And(r[j] == i, ok[i], k[i] == k[j]) for i in range(j)])
        claims.append(z3.Implies(ok[j], earlier))
        for i in range(j):
            claims.append(z3.Implies(z3.And(ok[i], ok[j], k[i] == k[j]), r[i] != r[j]))
    return Query(claim=z3.And(*claims), inputs=v, assumptions=_edition_domain(v))


# -- deposits -----------------------------------------------------------------------------------------------------

DEPOSITS = 3
FEE = 10_000


def deposit_run(refs: Sequence[Any], amounts: Sequence[Any], values: Sequence[Any]) -> tuple[list[Any], Any, Any]:
    """Model of :func:`spec.sidechain.crosschain.check_recharge` at exchange rate 1 over ``STEPS`` recharges:
    recharge i credits main-chain deposit ``refs[i]`` (0..DEPOSITS-1), whose single entry asks for
    ``amounts[d]`` out of an X-address output of ``values[d]``; XCH-001 (not credited before), XCH-003
    (0 <= amount <= value - fee). Returns the acceptances, the value credited and the value locked on the
    main chain (each deposit's output, once)."""
    credited = [z3.BoolVal(False) for _ in range(DEPOSITS)]
    out = []
    minted = z3.IntVal(0)
    for ref in refs:
        amount = z3.IntVal(0)
        value = z3.IntVal(0)
        was = z3.BoolVal(False)
        for d in range(DEPOSITS):
            amount = z3.If(ref == d, amounts[d], amount)
            value = z3.If(ref == d, values[d], value)
            was = z3.If(ref == d, credited[d], was)
        ok = z3.And(z3.Not(was), 0 <= amount, amount <= value - FEE)
        for d in range(DEPOSITS):
            credited[d] = z3.Or(credited[d], z3.And(ok, ref == d))
        minted = minted + z3.If(ok, amount, 0)
        out.append(ok)
    locked = z3.Sum(*[z3.If(credited[d], values[d], 0) for d in range(DEPOSITS)])
    return out, minted, locked


@proof(
    name="deposit_credited_once",
    statement="No main-chain deposit is credited twice, and the value credited never exceeds the value locked "
    "minus the cross-chain fees (exchange rate 1)",
    rules=("XCH-001", "XCH-003"),
    about=("spec.sidechain.crosschain.check_recharge",),
    correspondence=(_TESTS + "test_deposit_model_matches_check_recharge",),
    replay=lambda values: {"refs": values["refs"], "amounts": values["amounts"], "values": values["values"]},
    to_case=_no_vector, timeout_s=60,
)
def deposit_credited_once() -> Query:
    """For every sequence of ``STEPS`` = 6 recharges naming any of ``DEPOSITS`` = 3 deposits with any
    amounts and output values, each deposit is accepted at most once and the sum credited is at most the
    sum of the credited deposits' locked values minus 10,000 sela each."""
    refs = [z3.Int(f"ref{i}") for i in range(STEPS)]
    amounts = [z3.Int(f"amount{d}") for d in range(DEPOSITS)]
    values = [z3.Int(f"value{d}") for d in range(DEPOSITS)]
    ok, minted, locked = deposit_run(refs, amounts, values)
    once = [z3.Not(z3.And(ok[i], ok[j], refs[i] == refs[j])) for j in range(STEPS) for i in range(j)]
    fees = z3.Sum(*[z3.If(z3.Or(*[z3.And(ok[i], refs[i] == d) for i in range(STEPS)]), FEE, 0)
                    for d in range(DEPOSITS)])
    domain = tuple(z3.And(0 <= r, r < DEPOSITS) for r in refs)
    return Query(claim=z3.And(*once, minted <= locked - fees),
                 inputs={"refs": refs, "amounts": amounts, "values": values}, assumptions=domain)


# -- withdrawals ----------------------------------------------------------------------------------------------

MAX_ARBITERS = 12


def threshold_model(n: Any) -> Any:
    """:func:`spec.sidechain.withdrawal.arbiter_threshold` on a Z3 integer (``/`` is integer division)."""
    return (2 * n) / 3 + 1


def payments_accepted(choice: Sequence[Any], n: Any) -> tuple[Any, Any]:
    """Model: arbiter ``i < n`` signed payment ``choice[i]`` (0: neither, 1 or 2; one at most, ARB-004); a
    payment passes the main chain's signature check (CRY-024, CRY-027) with at least ``threshold_model(n)``
    signatures of distinct arbiters. Whether payment 1 and payment 2 pass."""
    t = threshold_model(n)
    count = [z3.Sum(*[z3.If(z3.And(i < n, choice[i] == k), 1, 0) for i in range(MAX_ARBITERS)]) for k in (1, 2)]
    return count[0] >= t, count[1] >= t


@proof(
    name="withdrawal_paid_once",
    statement="Two different payments of one withdrawal never both collect m = floor(2n/3) + 1 arbiter signatures "
    "when every arbiter signs at most one of them",
    rules=("ARB-004", "TXC-016"),
    about=("spec.sidechain.withdrawal.arbiter_threshold", "spec.sidechain.withdrawal.check_withdrawal_payment",
           "spec.crypto.scripts.verify_script"),
    correspondence=(_TESTS + "test_threshold_model_matches_the_spec_and_txc_016",
                    _TESTS + "test_payment_model_matches_verify_script"),
    replay=lambda values: {"n": values["n"], "choice": values["choice"]},
    to_case=_no_vector, timeout_s=60,
)
def withdrawal_paid_once() -> Query:
    """For every n in 2..``MAX_ARBITERS`` (a multisig script has n >= 2, CRY-020) and every choice of each arbiter (neither payment, the first or the
    second), :func:`payments_accepted` does not accept both."""
    n = z3.Int("n")
    choice = [z3.Int(f"choice{i}") for i in range(MAX_ARBITERS)]
    ok1, ok2 = payments_accepted(choice, n)
    domain = (2 <= n, n <= MAX_ARBITERS, *[z3.And(0 <= c, c <= 2) for c in choice])
    return Query(claim=z3.Not(z3.And(ok1, ok2)), inputs={"n": n, "choice": choice}, assumptions=domain)


# -- conservation across the bridge ----------------------------------------------------------------------------

DEPOSIT, WITHDRAW = 0, 1


def withdraw_accepted(burn: Any, ask: Any) -> Any:
    """Model of :func:`spec.sidechain.crosschain.check_withdraw` for one entry whose output burns ``burn``
    and asks ``ask`` for the main chain (XCH-014: 0 <= ask <= burn - MinCrossChainTxFee; the other rules
    hold by the transaction's shape)."""
    return z3.And(0 <= ask, ask <= burn - FEE)


def payment_at_rate_1(burn: Any, ask: Any) -> tuple[Any, Any]:
    """Model of the arbiters' payment of one entry at exchange rate 1: what it pays the entry
    (:func:`spec.sidechain.withdrawal.payout` of the ask) and what it leaves as fee
    (:func:`spec.sidechain.withdrawal.withdrawal_fee`: the burn's margin, burn - ask). Both conversions are
    exact at rate 1 for values below 2^53."""
    return ask, burn - ask


def _bridge_step(kind: Any, ref: Any, burn: Any, ask: Any, amounts: Sequence[Any], values: Sequence[Any],
                 credited: list[Any], supply: Any) -> tuple[Any, Any, Any, Any]:
    """One step of the bridge models: the referenced deposit's amount and value, whether a deposit step is credited
    (XCH-001, XCH-003) and whether a withdrawal step is accepted (within the supply); ``credited`` is updated in
    place."""
    amount, value, was = z3.IntVal(0), z3.IntVal(0), z3.BoolVal(False)
    for d in range(DEPOSITS):
        amount = z3.If(ref == d, amounts[d], amount)
        value = z3.If(ref == d, values[d], value)
        was = z3.If(ref == d, credited[d], was)
    credit_ok = z3.And(kind == DEPOSIT, z3.Not(was), 0 <= amount, amount <= value - FEE)
    withdraw_ok = z3.And(kind == WITHDRAW, withdraw_accepted(burn, ask), burn <= supply)
    for d in range(DEPOSITS):
        credited[d] = z3.Or(credited[d], z3.And(credit_ok, ref == d))
    return amount, value, credit_ok, withdraw_ok


def bridge_run(kinds: Sequence[Any], refs: Sequence[Any], amounts: Sequence[Any], values: Sequence[Any],
               burns: Sequence[Any], asks: Sequence[Any]) -> list[dict[str, Any]]:
    """Model at exchange rate 1 of ``STEPS`` cross-chain events over ``DEPOSITS`` main-chain deposits made at
    the start (each locks ``values[d]`` in the X address and asks ``amounts[d]`` on the sidechain).

    Step i is the recharge of deposit ``refs[i]`` (``kinds[i] == DEPOSIT``: :func:`deposit_run`'s XCH-001 and
    XCH-003) or a withdrawal (``WITHDRAW``) burning ``burns[i]`` and asking ``asks[i]``: accepted by
    :func:`withdraw_accepted` when the sidechain holds that much (the sidechain mints nothing, so what it holds
    is what recharges credited minus what was burned), then paid by the arbiters from the X address:
    :func:`payment_at_rate_1` (the ask paid, the burn's margin left as fee).

    Per step: whether it was accepted, the X address's balance before and after, the sidechain's supply
    after, and the margins the rules leave (uncredited deposits' values, each credited deposit's value minus
    its amount, each withdrawal's burn minus what its payment takes out of the X address)."""
    credited = [z3.BoolVal(False) for _ in range(DEPOSITS)]
    x = z3.Sum(*values)
    supply = z3.IntVal(0)
    margin_out = z3.IntVal(0)
    steps = []
    for kind, ref, burn, ask in zip(kinds, refs, burns, asks, strict=True):
        amount, value, credit_ok, withdraw_ok = _bridge_step(kind, ref, burn, ask, amounts, values, credited, supply)
        paid, fee = payment_at_rate_1(burn, ask)
        before = x
        x = x - z3.If(withdraw_ok, paid + fee, 0)
        supply = supply + z3.If(credit_ok, amount, 0) - z3.If(withdraw_ok, burn, 0)
        margin_out = margin_out + z3.If(withdraw_ok, burn - paid - fee, 0)
        margins = z3.Sum(*[z3.If(credited[d], values[d] - amounts[d], values[d]) for d in range(DEPOSITS)]) + margin_out
        steps.append({"ok": z3.Or(credit_ok, withdraw_ok), "withdraw": withdraw_ok, "payment": paid + fee,
                      "x_before": before, "x": x, "supply": supply, "margins": margins,
                      "own_margin": z3.If(credit_ok, value - amount, z3.If(withdraw_ok, burn - paid - fee, 0))})
    return steps


def _bridge_inputs() -> dict[str, list[Any]]:
    return {"kinds": [z3.Int(f"kind{i}") for i in range(STEPS)], "refs": [z3.Int(f"ref{i}") for i in range(STEPS)],
            "amounts": [z3.Int(f"amount{d}") for d in range(DEPOSITS)],
            "values": [z3.Int(f"value{d}") for d in range(DEPOSITS)],
            "burns": [z3.Int(f"burn{i}") for i in range(STEPS)], "asks": [z3.Int(f"ask{i}") for i in range(STEPS)]}


@proof(
    name="bridge_conservation",
    statement="At exchange rate 1, after every sequence of recharges and withdrawals the spec accepts, the X "
    "address's main-chain balance equals the sidechain's supply plus the margins the fee rules leave, every "
    "margin is at least 0, and every accepted withdrawal's payment is covered by the X address",
    rules=("XCH-001", "XCH-003", "XCH-014", "ARB-003"),
    about=("spec.sidechain.crosschain.check_recharge", "spec.sidechain.crosschain.check_withdraw",
           "spec.sidechain.withdrawal.payout", "spec.sidechain.withdrawal.withdrawal_payment"),
    correspondence=(_TESTS + "test_deposit_model_matches_check_recharge",
                    _TESTS + "test_withdraw_model_matches_check_withdraw",
                    _TESTS + "test_payment_model_matches_withdrawal_payment"),
    replay=lambda values: dict(values),
    to_case=_no_vector, timeout_s=60,
)
def bridge_conservation() -> Query:
    """For every sequence of ``STEPS`` = 6 events over ``DEPOSITS`` = 3 deposits (any kinds, references,
    amounts, values, burns and asks; values at least 0): after each step, X balance = supply + margins,
    margins >= 0 and supply >= 0 (so the X address holds at least what the sidechain can burn), and an
    accepted withdrawal finds at least its payment (the ask paid plus the burn - ask fee: the burn) in the X
    address. "margins >= 0" is claimed of each step's own margin (a credited deposit's value - amount, a
    withdrawal's burn - what its payment takes, which is 0 at rate 1), not only of their sum."""
    v = _bridge_inputs()
    steps = bridge_run(v["kinds"], v["refs"], v["amounts"], v["values"], v["burns"], v["asks"])
    claims = []
    for s in steps:
        claims += [s["x"] == s["supply"] + s["margins"], s["own_margin"] >= 0, s["supply"] >= 0,
                   z3.Implies(s["withdraw"], s["x_before"] >= s["payment"])]
    domain = (*[z3.Or(k == DEPOSIT, k == WITHDRAW) for k in v["kinds"]],
              *[z3.And(0 <= r, r < DEPOSITS) for r in v["refs"]], *[val >= 0 for val in v["values"]],
              *[b >= 0 for b in v["burns"]])
    return Query(claim=z3.And(*claims), inputs=v, assumptions=domain)


# -- conservation at other exchange rates ----------------------------------------------------------------------

RATES: tuple[float, ...] = (1.0, 2.0, 0.5, 1.1, 0.3, 1e-3)
"""The family of exchange rates ``bridge_conservation_rates`` covers: each a float64, held as its exact
rational value. The dyadic ones divide exactly; 1.1, 0.3 and 0.001 round."""
ROUNDING = 2**53
"""``1 / u``: binary64 rounds to nearest with a relative error of at most u = 2^-53 (IEEE-754's standard
model: ``fl(x op y) = (x op y)(1 + d)``, ``|d| <= u``, for a result in the normal range)."""
EXACT_BELOW = 2**53
"""Integers up to 2^53 are float64 values: ``float(a)`` is exact for them."""
MAIN_SUPPLY = 2**52
"""Bound on the main-chain value locked in the X address over a run (2^52 sela is 45,035,996 ELA, more than
all the ELA there is)."""
ERROR_BOUND = 1
"""Sela: each step's own rounding error (below) is less than this."""


def float_conversion(out: Any, a: Any, num: int, den: int) -> Any:
    """Model of ``int(float(a) * (num / den))`` for an integer ``0 <= a <= 2^53`` whose exact product ``q``
    is 0 or at least 2^-1022 (the conversions below: ``a / rate`` and ``a * rate`` with a rate of the family
    and ``a >= 1`` are at least 0.001): ``out`` is the float64 nearest ``q`` truncated toward zero, so
    ``0 <= out <= q (1 + u)`` and ``out + 1 > q (1 - u)``. An over-approximation: every value the spec's
    :func:`spec.sidechain.withdrawal.payout` and :func:`spec.sidechain.crosschain.convert` compute satisfies
    it (``test_float_conversion_model_holds_for_the_spec``), and some others may; in integers, with
    ``U = 1 / u``."""
    return z3.And(0 <= out, out * den * ROUNDING <= a * num * (ROUNDING + 1),
                  (out + 1) * den * ROUNDING > a * num * (ROUNDING - 1))


def _rate_parts(rate: float) -> tuple[int, int]:
    from fractions import Fraction

    f = Fraction(rate)
    return f.numerator, f.denominator


def bridge_run_rates(kinds: Sequence[Any], refs: Sequence[Any], amounts: Sequence[Any], values: Sequence[Any],
                     burns: Sequence[Any], asks: Sequence[Any], credits: Sequence[Any], pays: Sequence[Any],
                     fees: Sequence[Any]) -> list[dict[str, Any]]:
    """:func:`bridge_run` at any rate: the recharge of deposit ``refs[i]`` credits ``credits[i]`` (the
    sidechain's :func:`spec.sidechain.crosschain.convert` of its amount) and a withdrawal's payment takes
    ``pays[i]`` (:func:`spec.sidechain.withdrawal.payout` of the ask) plus ``fees[i]``
    (:func:`spec.sidechain.withdrawal.withdrawal_fee`: the payout of burn - ask) out of the X address. What
    the conversions give is stated by :func:`conversion_constraints`; here they are free integers.

    Per step, as :func:`bridge_run`, plus the deposit's amount and the conversion inputs."""
    credited = [z3.BoolVal(False) for _ in range(DEPOSITS)]
    x = z3.Sum(*values)
    supply = z3.IntVal(0)
    steps = []
    for kind, ref, burn, ask, c, p, f in zip(kinds, refs, burns, asks, credits, pays, fees, strict=True):
        amount, value, credit_ok, withdraw_ok = _bridge_step(kind, ref, burn, ask, amounts, values, credited, supply)
        before, supply_before = x, supply
        x = x - z3.If(withdraw_ok, p + f, 0)
        supply = supply + z3.If(credit_ok, c, 0) - z3.If(withdraw_ok, burn, 0)
        steps.append({"credit": credit_ok, "withdraw": withdraw_ok, "amount": amount, "value": value,
                      "burn": burn, "ask": ask, "credited": c, "paid": p, "fee": f, "payment": p + f,
                      "x_before": before, "x": x, "supply_before": supply_before, "supply": supply})
    return steps


def conversion_constraints(steps: Sequence[dict[str, Any]], rate: float, *, fixed_fee: int | None = None) -> list[Any]:
    """What the float64 conversions give at ``rate`` (:func:`float_conversion`): a credit of ``amount *
    rate``, a payout of ``ask / rate``, a fee of ``(burn - ask) / rate``, each where its step is accepted.
    ``fixed_fee`` replaces the fee with the old fixed fee per payment (to show that it does not conserve)."""
    num, den = _rate_parts(rate)
    out = []
    for s in steps:
        out.append(z3.Implies(s["credit"], float_conversion(s["credited"], s["amount"], num, den)))
        out.append(z3.Implies(s["withdraw"], float_conversion(s["paid"], s["ask"], den, num)))
        fee = s["fee"] == fixed_fee if fixed_fee is not None else float_conversion(s["fee"], s["burn"] - s["ask"], den, num)
        out.append(z3.Implies(s["withdraw"], fee))
    return out


def conservation_claims(steps: Sequence[dict[str, Any]], rate: float, bound: int = ERROR_BOUND) -> list[Any]:
    """At ``rate`` = num / den, after every step: the X address holds at least the sidechain's supply over
    the rate (``x * num >= supply * den``); the supply is at least 0 and below 2^53 and so is every
    conversion's input (the float64 conversion of an integer is exact); an accepted withdrawal's payment is
    covered by the X address; and each step's **own rounding error** is below ``bound`` sela: a credited
    deposit's credit over the rate minus its amount, a withdrawal's payment minus its burn over the rate
    (``credited / rate < amount + bound``, ``payment < burn / rate + bound``)."""
    num, den = _rate_parts(rate)
    claims = []
    for s in steps:
        claims += [s["x"] * num >= s["supply"] * den, 0 <= s["supply"], s["supply"] <= EXACT_BELOW,
                   z3.Implies(s["withdraw"], z3.And(s["x_before"] >= s["payment"], s["burn"] <= EXACT_BELOW)),
                   z3.Implies(s["credit"], s["credited"] * den < (s["amount"] + bound) * num),
                   z3.Implies(s["withdraw"], s["payment"] * num < s["burn"] * den + bound * num)]
    return claims


RATE_STEPS = 4
"""Events per sequence of the proofs at rates other than 1 (6 take Z3 up to 30 s a rate; 4 take about 1 s)."""


def _rates_inputs(steps: int = RATE_STEPS) -> dict[str, Any]:
    return {"kinds": [z3.Int(f"kind{i}") for i in range(steps)], "refs": [z3.Int(f"ref{i}") for i in range(steps)],
            "amounts": [z3.Int(f"amount{d}") for d in range(DEPOSITS)],
            "values": [z3.Int(f"value{d}") for d in range(DEPOSITS)],
            "burns": [z3.Int(f"burn{i}") for i in range(steps)], "asks": [z3.Int(f"ask{i}") for i in range(steps)],
            "credits": [z3.Int(f"credit{i}") for i in range(steps)], "pays": [z3.Int(f"pay{i}") for i in range(steps)],
            "fees": [z3.Int(f"fee{i}") for i in range(steps)]}


def rates_query(rate: float, *, bound: int = ERROR_BOUND, fixed_fee: int | None = None,
                steps: int = RATE_STEPS) -> Query:
    """The query of ``bridge_conservation_rate_*`` at ``rate``; ``bound`` and ``fixed_fee`` change it for the
    tests that show it fails as it should (a bound one sela tighter, the old fixed fee)."""
    v = _rates_inputs(steps)
    run = bridge_run_rates(v["kinds"], v["refs"], v["amounts"], v["values"], v["burns"], v["asks"], v["credits"],
                           v["pays"], v["fees"])
    domain = (*[z3.Or(k == DEPOSIT, k == WITHDRAW) for k in v["kinds"]],
              *[z3.And(0 <= r, r < DEPOSITS) for r in v["refs"]], *[val >= 0 for val in v["values"]],
              z3.Sum(*v["values"]) <= MAIN_SUPPLY, *[b >= 0 for b in v["burns"]],
              *conversion_constraints(run, rate, fixed_fee=fixed_fee))
    return Query(claim=z3.And(*conservation_claims(run, rate, bound)), inputs=v, assumptions=domain)


def rates_replay(values: ModelValues, rate: float) -> dict[str, Any]:
    """A model's sequence at ``rate`` through the spec's conversions: what ``convert``, ``payout`` and
    ``withdrawal_fee`` give for each step (the model's own credits, payouts and fees may be any values
    :func:`float_conversion` allows)."""
    from spec.sidechain import crosschain as X
    from spec.sidechain import withdrawal as W

    out: list[dict[str, Any]] = []
    for kind, ref, burn, ask in zip(values["kinds"], values["refs"], values["burns"], values["asks"], strict=True):
        if kind == DEPOSIT:
            out.append({"deposit": ref, "credited": X.convert(values["amounts"][ref], rate)})
        elif 0 <= ask < burn:
            w = W.PendingWithdrawal(side_txid=bytes(32), height=0, entries=(("", ask, burn),))
            out.append({"burn": burn, "paid": W.payout(ask, rate), "fee": W.withdrawal_fee(w, rate)})
    return {"rate": rate, "steps": out}


def _slug(rate: float) -> str:
    return repr(rate).replace(".", "_").rstrip("0").rstrip("_")


def _rate_proof(rate: float) -> None:
    def build() -> Query:
        return rates_query(rate)

    build.__doc__ = f"""At rate {rate!r} (the float64 {_rate_parts(rate)[0]} / {_rate_parts(rate)[1]}), for every
    sequence of ``RATE_STEPS`` = 4 events over ``DEPOSITS`` = 3 deposits locking at most 2^52 sela in all
    (:data:`MAIN_SUPPLY`), with every credit, payout and fee any integer :func:`float_conversion` allows
    for the spec's float64 arithmetic: after each step ``X >= supply / r``, the supply stays in 0..2^53, an
    accepted withdrawal's payment is at most the X address's balance, a credited deposit credits less than
    ``(amount + 1) * r`` and a withdrawal's payment takes less than ``burn / r + 1`` out of the X address
    (:func:`conservation_claims`). So the rounding costs the X address less than 1 sela per step, against
    the 10,000 each credited deposit leaves (XCH-003)."""
    proof(
        name=f"bridge_conservation_rate_{_slug(rate)}",
        statement=f"At exchange rate {rate!r}, after every sequence of recharges and withdrawals the spec accepts, "
        "the X address holds at least the sidechain's supply over the rate, every accepted withdrawal's payment "
        "is covered, and each step's own rounding error is below 1 sela",
        rules=("XCH-001", "XCH-003", "XCH-005", "XCH-014", "ARB-003", "ARB-006"),
        about=("spec.sidechain.crosschain.convert", "spec.sidechain.crosschain.check_recharge",
               "spec.sidechain.crosschain.check_withdraw", "spec.sidechain.withdrawal.payout",
               "spec.sidechain.withdrawal.withdrawal_fee", "spec.sidechain.withdrawal.withdrawal_payment"),
        correspondence=(_TESTS + "test_float_conversion_model_holds_for_the_spec",
                        _TESTS + "test_rates_model_matches_withdrawal_payment",
                        _TESTS + "test_deposit_model_matches_check_recharge",
                        _TESTS + "test_withdraw_model_matches_check_withdraw"),
        replay=lambda values: rates_replay(values, rate), to_case=_no_vector, timeout_s=60,
    )(build)


for _rate in RATES[1:]:
    _rate_proof(_rate)


# -- the rounding bound is tight: float64 witnesses ------------------------------------------------------------

_BV = z3.BitVecSort(64)


def fp_payout(a: Any, rate: float) -> Any:
    """:func:`spec.sidechain.withdrawal.payout` on a 64-bit integer term, in Z3's IEEE-754 theory:
    ``float64(a)`` rounded to nearest, divided by the float64 ``rate`` rounded to nearest, truncated toward
    zero to a 64-bit integer."""
    q = z3.fpDiv(z3.RNE(), z3.fpSignedToFP(z3.RNE(), a, z3.Float64()), z3.FPVal(rate, z3.Float64()))
    return z3.fpToSBV(z3.RTZ(), q, _BV)


def fp_convert(a: Any, rate: float) -> Any:
    """:func:`spec.sidechain.crosschain.convert` likewise: ``Fixed64(float64(a) * rate)``."""
    q = z3.fpMul(z3.RNE(), z3.fpSignedToFP(z3.RNE(), a, z3.Float64()), z3.FPVal(rate, z3.Float64()))
    return z3.fpToSBV(z3.RTZ(), q, _BV)


_WIDE = 192


def _wide(t: Any) -> Any:
    return z3.ZeroExt(_WIDE - 64, t)


WITNESS_BELOW = 2**20
"""Witnesses are sought among values below 2^20 sela (the solver finds small ones quickly)."""


def _payment_witness(values: ModelValues, rate: float) -> dict[str, Any]:
    from fractions import Fraction

    from spec.sidechain import withdrawal as W

    burn, ask = values["burn"], values["ask"]
    w = W.PendingWithdrawal(side_txid=bytes(32), height=0, entries=(("", ask, burn),))
    taken = W.payout(ask, rate) + W.withdrawal_fee(w, rate)
    return {"burn": burn, "ask": ask, "taken": taken, "burn_over_rate": str(Fraction(burn) / Fraction(rate)),
            "taken_minus_worth": str(taken - Fraction(burn) / Fraction(rate))}


def _credit_witness(values: ModelValues, rate: float) -> dict[str, Any]:
    from fractions import Fraction

    from spec.sidechain import crosschain as X

    amount = values["amount"]
    credited = X.convert(amount, rate)
    return {"amount": amount, "credited": credited,
            "credited_over_rate_minus_amount": str(Fraction(credited) / Fraction(rate) - amount)}


@proof(
    name="payment_exceeds_burn_at_rate_0_001",
    statement="At exchange rate 0.001 some withdrawal's payment takes more than its burn over the rate out of "
    "the X address, so the per-step bound of 1 sela cannot be made 0",
    rules=("ARB-003",),
    about=("spec.sidechain.withdrawal.payout", "spec.sidechain.withdrawal.withdrawal_fee"),
    correspondence=(_TESTS + "test_fp_model_matches_payout_and_convert",),
    replay=lambda values: _payment_witness(values, 1e-3), to_case=_no_vector, timeout_s=60,
)
def payment_exceeds_burn_at_rate_0_001() -> Query:
    """Exists ``burn`` and ``ask`` below 2^20 with ``0 <= ask <= burn - 10,000`` (XCH-014) such that
    ``payout(ask) + payout(burn - ask)`` (:func:`fp_payout`, float64 exactly) times the exact rate is more
    than ``burn``: the payment takes more than ``burn / r``. The witness is replayed through the spec."""
    burn, ask = z3.BitVec("burn", 64), z3.BitVec("ask", 64)
    num, den = _rate_parts(1e-3)
    taken = fp_payout(ask, 1e-3) + fp_payout(burn - ask, 1e-3)
    domain = (z3.ULE(burn, WITNESS_BELOW), z3.ULE(ask + FEE, burn), z3.ULE(ask, burn))
    return Query(claim=_wide(taken) * num > _wide(burn) * den, inputs={"burn": burn, "ask": ask},
                 assumptions=domain, kind="exists")


@proof(
    name="credit_exceeds_amount_at_rate_0_3",
    statement="At exchange rate 0.3 some deposit is credited more than its amount times the rate, so the "
    "per-step bound of 1 sela cannot be made 0",
    rules=("XCH-005",),
    about=("spec.sidechain.crosschain.convert",),
    correspondence=(_TESTS + "test_fp_model_matches_payout_and_convert",),
    replay=lambda values: _credit_witness(values, 0.3), to_case=_no_vector, timeout_s=60,
)
def credit_exceeds_amount_at_rate_0_3() -> Query:
    """Exists ``amount`` below 2^20 whose credit ``convert(amount, 0.3)`` (:func:`fp_convert`, float64
    exactly) is more than ``amount`` times the exact float64 0.3 (which is a little less than 0.3): the
    sidechain gets more than the deposit is worth. The witness is replayed through the spec."""
    amount = z3.BitVec("amount", 64)
    num, den = _rate_parts(0.3)
    return Query(claim=_wide(fp_convert(amount, 0.3)) * den > _wide(amount) * num, inputs={"amount": amount},
                 assumptions=(z3.ULE(amount, WITNESS_BELOW),), kind="exists")
