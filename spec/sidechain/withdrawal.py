"""What an arbiter signs: the main-chain payment of a sidechain withdrawal.

A withdrawal burns ELA on the sidechain (:func:`spec.sidechain.crosschain.check_withdraw`) and names
main-chain addresses and amounts. The arbiters pay it on the main chain with a ``WithdrawFromSideChain``
(payload v0) that spends the X address's outputs under their m-of-n cross-chain script; the main chain
checks the script and the signatures (TXC-016, CRY-024..027) and pays each sidechain transaction once
(TXC-024). Before an arbiter adds its signature it holds the proposed payment to what it sees on both
chains (upstream: ``checkWithdrawTransaction`` in ``Elastos.ELA.Arbiter/arbitration/cs``), and it signs
at most one payment per withdrawal:

* ARB-001 the payment is a WithdrawFromSideChain v0 for this sidechain naming exactly one sidechain
  transaction, a withdrawal the sidechain holds unpaid, at its height;
* ARB-002 every input is a distinct unspent output of the X address;
* ARB-006 every entry of the withdrawal asks ``0 <= amount < burned`` (it burns more than it asks);
* ARB-003 its first outputs pay each entry's address ``Fixed64(float64(amount) / ExchangeRate)`` in the
  entries' order, then at most one output returns change to the X address, and the inputs exceed the
  outputs by exactly the withdrawal's fee, ``sum(Fixed64(float64(burned - amount) / ExchangeRate))``
  over its entries (:func:`withdrawal_fee`);
* ARB-004 the arbiter has signed no other payment of this withdrawal (re-signing the same one is fine);
* ARB-005 the burn has at least ``confirmations`` sidechain blocks on it, its own counted
  (:func:`confirmations_of`), so a sidechain reorganisation that takes the burn back
  (``SCF-001``) cannot leave it paid: the main chain cannot take a payment back.

ARB-004 is what makes a payment exactly-once among arbiters: m = floor(2n/3) + 1 > n/2, so two different
payments of one withdrawal can never both collect m signatures of arbiters that keep their word, even if
the proposer crashes and proposes again. An arbiter persists what it signed before the signature leaves.

:func:`withdrawal_payment` builds the payment deterministically (the X outputs in the order given, the
fewest from the front that cover the payments and the fee, and at least one), so a proposer that
restarts proposes the same transaction again.

The fee is upstream's: each entry's burned value minus its cross-chain amount, over the exchange rate,
converted with the same float64 arithmetic as the payment. So the X address gives up, per entry, what the
burn is worth on the main chain up to the rounding of two float64 conversions (at rate 1, exactly the
burned value), and the sidechain's supply stays covered (the proofs ``bridge_conservation`` at rate 1 and
``bridge_conservation_rate_*`` at other rates, :mod:`proofs.assets`). A fixed fee per payment does not:
at rate r > 1 the burn's XCH-014 margin of 10,000 sidechain sela is worth only 10,000 / r main-chain sela.

Example: at rate 2, burning 20,000 to ask 9,999 pays ``Fixed64(9999 / 2)`` = 4,999 and leaves
``Fixed64(10001 / 2)`` = 5,000 as fee; the X address gives up 9,999, a sela less than the burn is worth.
Upstream's proposer would take ``Fixed64(20000 / 2)`` = 10,000: its change is a sela short of what its
checker wants.

Quirk: upstream's proposer (``CreateWithdrawTransaction``) takes ``Fixed64(float64(burned) / rate)`` per
entry out of the X address, its checker (``checkWithdrawTransaction``) wants the fee above; at rates other
than 1 the two can differ by a sela per entry (the example above), and upstream's arbiters then refuse
their own proposal. The spec follows the checker, and :func:`withdrawal_payment` builds what the checker
accepts.

Deviation: upstream's checker sums the outputs per payee address and compares them with
``Fixed64(float64(sum of the amounts) / rate)``; the spec pays each entry its own output, in order, so that
two entries to one address cannot be paid as one conversion of their sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Input, OutPoint, Output, Transaction, TxType, WithdrawFromSideChainPayload
from spec.crypto.hashes import sha256
from spec.encoding.address import program_hash_from_address
from spec.errors import Reason, Reject, rule

__all__ = ["WITHDRAWAL_CONFIRMATIONS", "arbiter_threshold", "PendingWithdrawal", "payout", "withdrawal_fee",
           "confirmations_of", "withdrawal_payment", "payment_digest", "check_withdrawal_payment"]

WITHDRAWAL_CONFIRMATIONS: Final = 2
"""Sidechain blocks a burn needs, its own counted, before the reference arbiters pay it (``ARB-005``;
``elastos arbiter --confirmations``). Two means one block on top of the burn's: enough for the devnet's
short forks, not a security level for a public network, where an operator chooses a deeper one."""

_S = "sidechain"
_UP = "checkWithdrawTransaction (Elastos.ELA.Arbiter arbitration/cs/txdistributedcontent.go)"
rule("ARB-001", Reason.ARBITER_UNKNOWN_WITHDRAWAL, "An arbiter signs a WithdrawFromSideChain v0 for its sidechain "
     "that names exactly one sidechain transaction, an unpaid withdrawal of the sidechain, at its height.", suite=_S,
     upstream=f"{_UP}: \"unknown side chain transactions\"")
rule("ARB-002", Reason.ARBITER_PAYMENT_MISMATCH, "Every input of a withdrawal's payment is a distinct unspent output "
     "of the X address.", suite=_S, upstream=f"{_UP}: \"get spender's UTXOs failed\"")
rule("ARB-003", Reason.ARBITER_PAYMENT_MISMATCH, "A withdrawal's payment pays each entry's address "
     "Fixed64(float64(amount) / rate), in order, then at most one change output to the X address, and leaves as fee "
     "exactly the sum over the entries of Fixed64(float64(burned - amount) / rate).", suite=_S,
     upstream=f"{_UP}: \"addr %s amount is invalid\" / \"input amount not equal output amount\"",
     note="Deviation: upstream sums the outputs per payee address; the spec pays each entry its own output, in "
     "order.")
rule("ARB-004", Reason.ARBITER_ALREADY_SIGNED, "An arbiter signs at most one payment of a withdrawal.", suite=_S,
     upstream="MergeSignToTransaction: \"signer already signed\"",
     note="Deviation: upstream refuses a second signature on the same transaction; the spec also refuses to sign "
     "a different payment of a withdrawal it signed a payment of.")


rule("ARB-006", Reason.ARBITER_UNKNOWN_WITHDRAWAL, "Every entry of a withdrawal an arbiter pays asks "
     "0 <= amount < its burned value: it burns more than it asks (a sidechain that enforces XCH-014 lists no "
     "other withdrawal; the arbiter checks it all the same).", suite=_S,
     upstream=f"{_UP}: \"cross chain amount less than 0\"")
rule("ARB-005", Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, "An arbiter pays a withdrawal only once its burn has at "
     "least the required number of sidechain blocks on it, its own block counted (best sidechain height - burn "
     "height + 1), so that no sidechain reorganisation can take back a burn already paid on the main chain.",
     suite=_S)


def arbiter_threshold(n: int) -> int:
    """m of the arbiters' m-of-n cross-chain script: ``floor(2n/3) + 1`` (the main chain's TXC-016 minimum)."""
    return n * 2 // 3 + 1


@dataclass(frozen=True)
class PendingWithdrawal:
    """A sidechain withdrawal the main chain has not paid (the sidechain's ``getwithdraws``)."""

    side_txid: bytes
    """The sidechain transaction's hash, stored order."""
    height: int
    """The sidechain height it was mined at."""
    entries: tuple[tuple[str, int, int], ...]
    """``(main-chain address, amount, burned)`` per payload entry, in sidechain sela: the cross-chain amount
    the entry asks for and the value of the burn output it names (upstream's ``CrossChainAmount`` and
    ``OutputAmount``)."""


def confirmations_of(w: PendingWithdrawal, side_height: int) -> int:
    """Sidechain blocks on ``w``'s burn when the best sidechain block is at ``side_height``, the burn's own
    block counted; 0 if the best block is below it."""
    return max(0, side_height - w.height + 1)


def payout(amount: int, exchange_rate: float) -> int:
    """``Fixed64(float64(amount) / ExchangeRate)``: main-chain sela for ``amount`` sidechain sela.

    Upstream's arithmetic exactly: the integer is rounded to the nearest float64 (ties to even; exact up to
    2^53), divided by the rate rounded to nearest (IEEE-754), and truncated toward zero. So ``1001 / 2``
    pays 500 and ``1 / 0.3`` pays 3 (3.3333333333333335), but ``1 / 0.001`` pays 1000 though 0.001 as a
    float64 is slightly more than 0.001: the exact quotient, 999.99999999999997..., rounds to 1000.0.
    ``2^53 + 1`` at rate 1 pays ``2^53``. The rate is positive and finite (the sidechain's parameters); a quotient of 2^63 or more has no Fixed64, and no
    payment carries it (:func:`withdrawal_payment` returns ``None``, ARB-003 refuses)."""
    return int(float(amount) / exchange_rate)


def withdrawal_fee(w: PendingWithdrawal, exchange_rate: float) -> int:
    """What the payment of ``w`` leaves as its main-chain fee: each entry's burned value minus its amount,
    over the rate, converted as :func:`payout` converts and summed (upstream's ``totalFee``). Each entry's
    part is converted on its own, so two entries can leave a sela less than one conversion of their sum."""
    return sum(payout(burned - amount, exchange_rate) for _, amount, burned in w.entries)


def _entries_valid(w: PendingWithdrawal) -> bool:
    return all(0 <= amount < burned for _, amount, burned in w.entries)


def withdrawal_payment(w: PendingWithdrawal, x_utxos: Sequence[tuple[bytes, int, int]], *, x_address: str,
                       exchange_rate: float) -> Transaction | None:
    """The unsigned payment of ``w`` from the X outputs ``(txid, index, value)``, or ``None`` if they do not
    cover it, or ``w`` is not payable (an entry asking ``amount >= burned`` or ``amount < 0``, ARB-006, or a
    converted value of 2^63 or more).

    The entries' outputs, then the change to X; it leaves :func:`withdrawal_fee`, so
    :func:`check_withdrawal_payment` accepts it."""
    pays = [(program_hash_from_address(a).data, payout(v, exchange_rate)) for a, v, _ in w.entries]
    fee = withdrawal_fee(w, exchange_rate)
    need = sum(v for _, v in pays) + fee
    if not _entries_valid(w) or need >= 1 << 63:
        return None
    chosen: list[tuple[bytes, int, int]] = []
    total = 0
    for u in x_utxos:
        if chosen and total >= need:
            break
        chosen.append(u)
        total += u[2]
    if not chosen or total < need:  # at least one input (ARB-002), even for a payment of 0
        return None
    outputs = [Output(asset_id=ELA_ASSET_ID, value=v, output_lock=0, program_hash=ph) for ph, v in pays]
    if total > need:
        outputs.append(Output(asset_id=ELA_ASSET_ID, value=total - need, output_lock=0,
                              program_hash=program_hash_from_address(x_address).data))
    return Transaction(version=0x09, tx_type=TxType.WITHDRAW_FROM_SIDECHAIN, payload=WithdrawFromSideChainPayload(
        block_height=w.height, genesis_block_address=x_address.encode(), sidechain_tx_hashes=(w.side_txid,)),
        inputs=tuple(Input(previous=OutPoint(txid=t, index=i), sequence=0xFFFF_FFFF) for t, i, _ in chosen),
        outputs=tuple(outputs))


def payment_digest(tx: Transaction) -> bytes:
    """What an arbiter records of a payment it signed: SHA-256 of the unsigned transaction."""
    return sha256(tx.serialize_unsigned())


def check_withdrawal_payment(tx: Transaction, pending: Callable[[bytes], PendingWithdrawal | None],
                             x_utxo: Callable[[bytes, int], int | None], *, x_address: str, exchange_rate: float,
                             signed_before: bytes | None, side_height: int, confirmations: int) -> PendingWithdrawal:
    """Whether an arbiter may sign ``tx``; the withdrawal it pays.

    ``pending(side_txid)`` is an unpaid withdrawal of the sidechain or ``None``; ``x_utxo(txid, index)`` the
    value of an unspent X-address output or ``None``; ``signed_before`` the :func:`payment_digest` of the
    payment of this withdrawal the arbiter signed before, or ``None``; ``side_height`` the best sidechain
    block's height and ``confirmations`` the blocks a burn needs (``ARB-005``)."""
    p = tx.payload
    hashes = p.sidechain_tx_hashes if isinstance(p, WithdrawFromSideChainPayload) else ()
    w = pending(hashes[0]) if len(hashes) == 1 else None
    # [ARB-001] a v0 payment of this sidechain naming one unpaid withdrawal, at its height
    if tx.tx_type != TxType.WITHDRAW_FROM_SIDECHAIN or tx.payload_version != 0 or w is None or \
            p.genesis_block_address != x_address.encode() or p.block_height != w.height:  # type: ignore[union-attr]
        raise Reject(Reason.ARBITER_UNKNOWN_WITHDRAWAL, "ARB-001", f"{len(hashes)} sidechain transactions named")
    # [ARB-006] every entry burns more than it asks
    if not _entries_valid(w):
        raise Reject(Reason.ARBITER_UNKNOWN_WITHDRAWAL, "ARB-006", f"entries {[(a, b) for _, a, b in w.entries]}")
    # [ARB-005] the burn is buried deep enough on the sidechain
    if confirmations_of(w, side_height) < confirmations:
        raise Reject(Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, "ARB-005", f"burn at height {w.height}, best "
                     f"{side_height}: {confirmations_of(w, side_height)} of {confirmations} confirmations")
    keys = [(i.previous.txid, i.previous.index) for i in tx.inputs]
    values = [x_utxo(*k) for k in keys]
    # [ARB-002] distinct unspent X-address inputs
    if not keys or len(set(keys)) != len(keys) or any(v is None for v in values):
        raise Reject(Reason.ARBITER_PAYMENT_MISMATCH, "ARB-002", "an input is not an unspent output of the X address")
    want = [(program_hash_from_address(a).data, payout(v, exchange_rate)) for a, v, _ in w.entries]
    fee = withdrawal_fee(w, exchange_rate)
    got = [(o.program_hash, o.value) for o in tx.outputs]
    x_ph = program_hash_from_address(x_address).data
    change = got[len(want):]
    paid_in = sum(v for v in values if v is not None)
    exact = got[:len(want)] == want and len(change) <= 1 and all(ph == x_ph and v > 0 for ph, v in change) and \
        all(o.asset_id == ELA_ASSET_ID and o.output_lock == 0 for o in tx.outputs)
    # [ARB-003] the entries paid in order, at most one change output to X, exactly the entries' fee left
    if not exact or paid_in - sum(v for _, v in got) != fee:
        raise Reject(Reason.ARBITER_PAYMENT_MISMATCH, "ARB-003", f"outputs {got}, inputs {paid_in}")
    # [ARB-004] no other payment of this withdrawal signed before
    if signed_before is not None and signed_before != payment_digest(tx):
        raise Reject(Reason.ARBITER_ALREADY_SIGNED, "ARB-004", w.side_txid.hex())
    return w
