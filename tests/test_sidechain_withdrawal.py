"""What an arbiter signs (spec.sidechain.withdrawal) by properties: the built payment passes the signer's
check; any change to an output, an input or the payload is either refused with an ARB reason or leaves
every payee paid exactly its due; a second, different payment of a signed withdrawal is refused; the
X address gives up what the burns are worth on the main chain, within the float64 rounding, at any rate."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import standard_redeem_script
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.errors import Reason, Reject
from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W

X = SP.x_address(SP.side_genesis_block().hash())
ARB_REASONS = {Reason.ARBITER_UNKNOWN_WITHDRAWAL, Reason.ARBITER_PAYMENT_MISMATCH, Reason.ARBITER_ALREADY_SIGNED}


def _address(i: int) -> str:
    key = hashlib.sha256(f"payee {i}".encode()).digest()
    return address_from_program_hash(Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(key))))


RATES = st.sampled_from([1.0, 0.5, 2.0, 0.1, 0.3, 1e-3, 3.0]) | st.floats(1e-3, 1e3)
"""Rates the tests draw: the vectors' and any float64 in [0.001, 1000]."""


@st.composite
def cases(draw: st.DrawFn) -> tuple[W.PendingWithdrawal, list[tuple[bytes, int, int]], float]:
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        amount = draw(st.integers(0, 10**9))
        entries.append((_address(draw(st.integers(0, 5))), amount, amount + draw(st.integers(1, 10**6))))
    w = W.PendingWithdrawal(side_txid=draw(st.binary(min_size=32, max_size=32)), height=draw(st.integers(0, 10**6)),
                            entries=tuple(entries))
    rate = draw(RATES)
    need = sum(W.payout(v, rate) for _, v, _ in entries) + W.withdrawal_fee(w, rate)
    values = draw(st.lists(st.integers(1, 2 * need + 1), min_size=1, max_size=5))
    values.append(max(need, 1))  # always coverable
    utxos = [(hashlib.sha256(bytes([i])).digest(), i, v) for i, v in enumerate(values)]
    return w, utxos, rate


def _check(tx, w, utxos, rate, before=None, side_height=None, confirmations=W.WITHDRAWAL_CONFIRMATIONS):  # type: ignore[no-untyped-def]
    index = {(t, i): v for t, i, v in utxos}
    best = w.height + confirmations - 1 if side_height is None else side_height  # deep enough unless given
    return W.check_withdrawal_payment(tx, {w.side_txid: w}.get, lambda t, i: index.get((t, i)), x_address=X,
                                      exchange_rate=rate, signed_before=before, side_height=best,
                                      confirmations=confirmations)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_the_built_payment_is_signable_and_pays_exactly_the_entries(case) -> None:  # type: ignore[no-untyped-def]
    w, utxos, rate = case
    tx = W.withdrawal_payment(w, utxos, x_address=X, exchange_rate=rate)
    assert tx is not None
    assert _check(tx, w, utxos, rate) == w
    assert _check(tx, w, utxos, rate, before=W.payment_digest(tx)) == w     # re-signing the same payment
    paid = [o.value for o in tx.outputs[:len(w.entries)]]
    assert paid == [W.payout(v, rate) for _, v, _ in w.entries]
    spent = sum(v for t, i, v in utxos if any(x.previous.txid == t and x.previous.index == i for x in tx.inputs))
    assert spent - sum(o.value for o in tx.outputs) == W.withdrawal_fee(w, rate)
    # what leaves the X address (payments and fee) is what the burns are worth at the rate, each of the two
    # conversions per entry truncated (at most a sela under) and rounded to float64 (here far under a sela over)
    gone = spent - sum(o.value for o in tx.outputs[len(w.entries):])
    worth = sum(Fraction(b) for _, _, b in w.entries) / Fraction(rate)
    assert worth - 2 * len(w.entries) < gone < worth + 1
    if rate == 1.0:
        assert gone == sum(b for _, _, b in w.entries)


@settings(max_examples=150, deadline=None)
@given(cases(), st.data())
def test_an_entry_that_does_not_burn_more_than_it_asks_is_not_paid(case, data) -> None:  # type: ignore[no-untyped-def]
    """ARB-006: an entry asking its whole burn, more, or a negative amount: no payment is built, and a payment
    of the withdrawal as it would be with a valid entry is refused for ARB-006 whatever else it does."""
    w, utxos, rate = case
    tx = W.withdrawal_payment(w, utxos, x_address=X, exchange_rate=rate)
    assert tx is not None
    i = data.draw(st.integers(0, len(w.entries) - 1))
    a, amount, burned = w.entries[i]
    bad_entry = data.draw(st.sampled_from([(a, burned, burned), (a, burned + data.draw(st.integers(1, 10**6)), burned),
                                           (a, -data.draw(st.integers(1, 10**6)), burned)]))
    bad = W.PendingWithdrawal(side_txid=w.side_txid, height=w.height,
                              entries=w.entries[:i] + (bad_entry,) + w.entries[i + 1:])
    assert W.withdrawal_payment(bad, utxos, x_address=X, exchange_rate=rate) is None
    with pytest.raises(Reject) as e:
        _check(tx, bad, utxos, rate)
    assert (e.value.reason, e.value.rule) == (Reason.ARBITER_UNKNOWN_WITHDRAWAL, "ARB-006")


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_a_changed_payment_is_refused_or_still_pays_exactly(case, data) -> None:  # type: ignore[no-untyped-def]
    w, utxos, rate = case
    tx = W.withdrawal_payment(w, utxos, x_address=X, exchange_rate=rate)
    assert tx is not None
    kind = data.draw(st.sampled_from(["value", "payee", "drop_input", "drop_output", "height", "hash"]))
    if kind == "value":
        i = data.draw(st.integers(0, len(tx.outputs) - 1))
        o = tx.outputs[i]
        tx2 = tx.model_copy(update={"outputs": tx.outputs[:i] + (o.model_copy(update={
            "value": o.value + data.draw(st.integers(-5, 5).filter(lambda d: d != 0))}),) + tx.outputs[i + 1:]})
    elif kind == "payee":
        i = data.draw(st.integers(0, len(tx.outputs) - 1))
        ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(b"\x03" * 32))).data
        tx2 = tx.model_copy(update={"outputs": tx.outputs[:i] + (tx.outputs[i].model_copy(update={"program_hash": ph}),)
                                    + tx.outputs[i + 1:]})
    elif kind == "drop_input":
        tx2 = tx.model_copy(update={"inputs": tx.inputs[:-1]})
    elif kind == "drop_output":
        tx2 = tx.model_copy(update={"outputs": tx.outputs[:-1]})
    elif kind == "height":
        tx2 = tx.model_copy(update={"payload": tx.payload.model_copy(update={"block_height": w.height + 1})})  # type: ignore[union-attr]
    else:
        tx2 = tx.model_copy(update={"payload": tx.payload.model_copy(update={"sidechain_tx_hashes": (bytes(32),)})})  # type: ignore[union-attr]
    try:
        _check(tx2, w, utxos, rate)
    except Reject as e:
        assert e.reason in ARB_REASONS and e.rule in ("ARB-001", "ARB-002", "ARB-003")
        assert _check(tx, w, utxos, rate) == w  # the refusal lost nothing: the original is still signable
        return
    # accepted: only possible when the change did nothing to what the payees get (e.g. a payee equal to itself)
    assert [(o.program_hash, o.value) for o in tx2.outputs[:len(w.entries)]] == \
        [(o.program_hash, o.value) for o in tx.outputs[:len(w.entries)]]


def test_a_second_payment_of_a_signed_withdrawal_is_refused() -> None:
    w = W.PendingWithdrawal(side_txid=b"\x05" * 32, height=3, entries=((_address(0), 50_000, 60_000),))
    utxos = [(b"\x01" * 32, 0, 70_000), (b"\x02" * 32, 0, 90_000)]
    first = W.withdrawal_payment(w, utxos, x_address=X, exchange_rate=1.0)
    second = W.withdrawal_payment(w, utxos[::-1], x_address=X, exchange_rate=1.0)
    assert first is not None and second is not None and first != second
    assert _check(second, w, utxos, 1.0) == w
    with pytest.raises(Reject) as e:
        _check(second, w, utxos, 1.0, before=W.payment_digest(first))
    assert (e.value.reason, e.value.rule) == (Reason.ARBITER_ALREADY_SIGNED, "ARB-004")


def test_an_uncoverable_withdrawal_has_no_payment() -> None:
    """At rate 1 the payment takes exactly the burned value (60,000: 50,000 paid, 10,000 fee); at rate 2, half of
    it (25,000 + 5,000); at 0.3, 166,666 + 33,333 = 199,999 (50,000 / 0.3 and 10,000 / 0.3 truncated)."""
    w = W.PendingWithdrawal(side_txid=b"\x05" * 32, height=3, entries=((_address(0), 50_000, 60_000),))
    for rate, need in ((1.0, 60_000), (2.0, 30_000), (0.3, 199_999)):
        assert W.withdrawal_payment(w, [(b"\x01" * 32, 0, need - 1)], x_address=X, exchange_rate=rate) is None
        tx = W.withdrawal_payment(w, [(b"\x01" * 32, 0, need)], x_address=X, exchange_rate=rate)
        assert tx is not None and len(tx.outputs) == 1 and _check(tx, w, [(b"\x01" * 32, 0, need)], rate) == w


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 0xFFFF_FFFF), st.integers(1, 1000))
def test_a_burn_is_paid_only_with_enough_blocks_on_it(case, side_height, confirmations) -> None:  # type: ignore[no-untyped-def]
    """ARB-005: an otherwise signable payment is refused exactly while the best sidechain block is fewer than
    ``confirmations - 1`` blocks above the burn's, and the refusal names the rule; nothing else changes."""
    w, utxos, rate = case
    tx = W.withdrawal_payment(w, utxos, x_address=X, exchange_rate=rate)
    assert tx is not None
    deep = side_height - w.height + 1 >= confirmations
    assert W.confirmations_of(w, side_height) == max(0, side_height - w.height + 1)
    if deep:
        assert _check(tx, w, utxos, rate, side_height=side_height, confirmations=confirmations) == w
    else:
        with pytest.raises(Reject) as e:
            _check(tx, w, utxos, rate, side_height=side_height, confirmations=confirmations)
        assert (e.value.reason, e.value.rule) == (Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, "ARB-005")
