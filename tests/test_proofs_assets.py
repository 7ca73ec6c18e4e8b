"""Correspondence tests of the asset and deposit proofs (:mod:`proofs.assets`): the model functions on
constants against the spec functions on real requests and transactions."""

from __future__ import annotations

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs import assets as pa
from proofs.framework import concrete, get_proof, run_proof
from spec.errors import Reject
from spec.sidechain import crosschain as X

from conformance.generators.sidechain import X_PH, _deposit_v0, _recharge, _user


def _edition_model(numbers, signers, tos, refs, signed) -> list[bool]:  # type: ignore[no-untyped-def]
    iv = lambda xs: [z3.IntVal(x) for x in xs]  # noqa: E731
    return concrete(pa.edition_run(iv(numbers), iv(signers), iv(tos), iv(refs), [z3.BoolVal(g) for g in signed]))


_transfers = st.lists(st.tuples(st.integers(0, pa.N + 1), st.integers(0, pa.PEOPLE - 1), st.integers(0, pa.PEOPLE - 1),
                                st.integers(pa.MINT, pa.STEPS - 1), st.booleans()), min_size=1, max_size=pa.STEPS)


@settings(max_examples=25, deadline=None)
@given(_transfers, st.data())
def test_edition_model_matches_apply_edition(steps, data) -> None:  # type: ignore[no-untyped-def]
    if data.draw(st.booleans()):  # orderly: sell on from the last event, so long chains of sales occur
        steps = [(k, s, t, i - 1 if i else pa.MINT, True) for i, (k, s, t, _, _) in enumerate(steps)]
    cols = [list(c) for c in zip(*steps, strict=True)]
    assert _edition_model(*cols) == pa.spec_edition_outcomes(*cols)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, pa.DEPOSITS - 1), min_size=1, max_size=pa.STEPS),
       st.lists(st.integers(-5, 60_000), min_size=pa.DEPOSITS, max_size=pa.DEPOSITS),
       st.lists(st.integers(0, 70_000), min_size=pa.DEPOSITS, max_size=pa.DEPOSITS))
def test_deposit_model_matches_check_recharge(refs: list[int], amounts: list[int], values: list[int]) -> None:
    ph, addr = _user("a")
    mains = [_deposit_v0([(addr, amounts[d], values[d])]) for d in range(pa.DEPOSITS)]
    done: set[bytes] = set()
    spec_ok, minted = [], 0
    for d in refs:
        recharge = _recharge(mains[d], [(ph, amounts[d])] if amounts[d] >= 0 else [])
        try:
            minted += X.check_recharge(recharge, mains[d], X_PH, exchange_rate=1.0, min_cross_chain_fee=pa.FEE,
                                       credited=lambda h: h in done)
            done.add(mains[d].txid())
            spec_ok.append(True)
        except Reject:
            spec_ok.append(False)
    ok, m, _ = pa.deposit_run([z3.IntVal(r) for r in refs], [z3.IntVal(a) for a in amounts], [z3.IntVal(v) for v in values])
    assert concrete(ok) == spec_ok
    assert concrete(m) == minted


def test_the_asset_proofs_prove() -> None:
    for name in ("edition_never_exceeds_n", "edition_no_double_sale", "deposit_credited_once", "bridge_conservation"):
        assert run_proof(get_proof(name)).status == "proved", name


def test_threshold_model_matches_the_spec_and_txc_016() -> None:
    """The model's threshold is :func:`arbiter_threshold` for every n the proof covers, and the main chain's
    TXC-016 accepts a cross-chain script of the n arbiters with that m and refuses m - 1."""
    from spec.chain.params import INSTANT
    from spec.chain.tx import Program, Transaction, TxType, WithdrawFromSideChainPayload
    from spec.chain.validation import _check_arbiters
    from spec.crypto.p256 import public_key_from_private
    from spec.crypto.scripts import multisig_redeem_script
    from spec.errors import Reason
    from spec.sidechain.withdrawal import arbiter_threshold

    for n in range(2, pa.MAX_ARBITERS + 1):  # a multisig script has n >= 2 (CRY-020)
        t = arbiter_threshold(n)
        assert concrete(pa.threshold_model(z3.IntVal(n))) == t
        keys = [public_key_from_private((i + 1).to_bytes(32, "big")) for i in range(n)]
        params = INSTANT.model_copy(update={"cross_chain_arbiters": tuple(keys)})
        for m, ok in ((t, True), (t - 1, False)):
            if m < 1:
                continue
            tx = Transaction(version=0x09, tx_type=TxType.WITHDRAW_FROM_SIDECHAIN, payload=WithdrawFromSideChainPayload(),
                             programs=(Program(parameter=b"", code=multisig_redeem_script(m, keys, "crosschain")),))
            try:
                _check_arbiters(tx, params)
                accepted = True
            except Reject as e:
                assert e.reason == Reason.TX_CROSS_CHAIN_ARBITERS
                accepted = False
            assert accepted == ok, (n, m)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 5), st.data())
def test_payment_model_matches_verify_script(n: int, data) -> None:  # type: ignore[no-untyped-def]
    """The model's acceptance of a payment signed by some arbiters is the spec's signature check
    (:func:`verify_script` of the cross-chain script) on a real payment signed by those arbiters' keys."""
    from spec.crypto import p256
    from spec.crypto.scripts import PUSH_SIGNATURE, multisig_redeem_script, parse_redeem_script, verify_script
    from spec.sidechain.withdrawal import arbiter_threshold

    keys = [(i + 1).to_bytes(32, "big") for i in range(n)]
    pubs = [p256.public_key_from_private(k) for k in keys]
    t = arbiter_threshold(n)
    choice = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    model = concrete(pa.payments_accepted([z3.IntVal(c) for c in choice] + [z3.IntVal(0)] * (pa.MAX_ARBITERS - n),
                                          z3.IntVal(n)))
    script = parse_redeem_script(multisig_redeem_script(t, pubs, "crosschain"))
    for k in (1, 2):
        message = f"payment {k}".encode()
        signers = [keys[i] for i in range(n) if choice[i] == k]
        parameter = b"".join(bytes((PUSH_SIGNATURE,)) + p256.ecdsa_sign(s, message) for s in signers)
        try:
            verify_script(script, parameter, message)
            spec_ok = True
        except Reject:
            spec_ok = False
        assert spec_ok == model[k - 1], (n, choice, k)


def test_withdrawal_paid_once_is_proved() -> None:
    assert run_proof(get_proof("withdrawal_paid_once")).status == "proved"


# -- bridge_conservation --------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 80_000), st.integers(-5, 90_000))
def test_withdraw_model_matches_check_withdraw(burn: int, ask: int) -> None:
    """The model's acceptance of a one-entry withdrawal is the spec's, on a real sidechain transaction whose
    entry's output burns ``burn`` and whose inputs leave exactly MinCrossChainTxFee (XCH-015)."""
    from conformance.generators.sidechain import _out, _withdraw
    from spec.sidechain import params as SP

    assert pa.FEE == SP.id_network("mainnet").min_cross_chain_tx_fee == SP.id_network("instant").min_cross_chain_tx_fee
    tx = _withdraw([(_user("a")[1], 0, ask)], [_out(X.ZERO_PROGRAM_HASH, burn)])
    try:
        X.check_withdraw(tx, [burn + pa.FEE], min_cross_chain_fee=pa.FEE)
        spec_ok = True
    except Reject as e:
        assert e.rule == "XCH-014", e
        spec_ok = False
    assert concrete(pa.withdraw_accepted(z3.IntVal(burn), z3.IntVal(ask))) == spec_ok


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.integers(1, 10**9), min_size=1, max_size=6), st.data())
def test_payment_model_matches_withdrawal_payment(ask: int, xs: list[int], data) -> None:  # type: ignore[no-untyped-def]
    """At rate 1 the arbiters' payment pays the ask (``payout``) and takes exactly ask + WITHDRAWAL_FEE out of the
    X address (what leaves: the paid outputs and the fee; the rest returns as change), as the model subtracts;
    whenever the X address holds at least that, a payment exists (the model's coverage claim is the spec's)."""
    from spec.encoding.address import program_hash_from_address
    from spec.sidechain import params as SP
    from spec.sidechain import withdrawal as W

    assert pa.WITHDRAWAL_FEE == W.WITHDRAWAL_FEE
    x_addr = SP.x_address(SP.side_genesis_block().hash())
    w = W.PendingWithdrawal(side_txid=bytes(32), height=1, entries=((_user("a")[1], ask),))
    utxos = [(bytes([i + 1]) * 32, i, v) for i, v in enumerate(xs)]
    total = sum(xs)
    before = z3.IntVal(total)
    payment = concrete(z3.IntVal(ask) + pa.WITHDRAWAL_FEE)
    assert W.payout(ask, 1.0) == ask
    tx = W.withdrawal_payment(w, utxos, x_address=x_addr, exchange_rate=1.0)
    assert (tx is not None) == concrete(before >= payment)
    if tx is not None:
        spent = sum(v for t, i, v in utxos if any(inp.previous.txid == t and inp.previous.index == i for inp in tx.inputs))
        change = sum(o.value for o in tx.outputs[1:])
        assert tx.outputs[0].value == ask and total - spent + change == total - payment
        assert all(o.program_hash == program_hash_from_address(x_addr).data for o in tx.outputs[1:])
