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
* ARB-003 its first outputs pay each entry's address ``Fixed64(float64(amount) / ExchangeRate)`` in the
  entries' order, then at most one output returns change to the X address, and the inputs exceed the
  outputs by exactly the withdrawal fee;
* ARB-004 the arbiter has signed no other payment of this withdrawal (re-signing the same one is fine);
* ARB-005 the burn has at least ``confirmations`` sidechain blocks on it, its own counted
  (:func:`confirmations_of`), so a sidechain reorganisation that takes the burn back
  (``SCF-001``) cannot leave it paid: the main chain cannot take a payment back.

ARB-004 is what makes a payment exactly-once among arbiters: m = floor(2n/3) + 1 > n/2, so two different
payments of one withdrawal can never both collect m signatures of arbiters that keep their word, even if
the proposer crashes and proposes again. An arbiter persists what it signed before the signature leaves.

:func:`withdrawal_payment` builds the payment deterministically (the X outputs in the order given, the
fewest from the front that cover the payments and the fee), so a proposer that restarts proposes the
same transaction again.

Deviation: upstream's arbiter takes as fee each entry's burned value minus its cross-chain amount (over
the exchange rate); the reference takes a fixed fee (``MinCrossChainTxFee``) per payment, which the burn's
XCH-014 margin covers.
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

__all__ = ["WITHDRAWAL_FEE", "WITHDRAWAL_CONFIRMATIONS", "arbiter_threshold", "PendingWithdrawal", "payout",
           "confirmations_of", "withdrawal_payment", "payment_digest", "check_withdrawal_payment"]

WITHDRAWAL_FEE: Final = 10_000
"""Sela a withdrawal's main-chain payment leaves as its fee (``MinCrossChainTxFee``)."""

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
rule("ARB-003", Reason.ARBITER_PAYMENT_MISMATCH, "A withdrawal's payment pays each entry's address its amount over "
     "the exchange rate, in order, then at most one change output to the X address, and leaves exactly the "
     "withdrawal fee.", suite=_S, upstream=f"{_UP}: \"addr %s amount is invalid\" / \"input amount not equal output "
     "amount\"", note="Deviation: upstream's fee is each entry's burned value minus its amount; the reference's is "
     "MinCrossChainTxFee per payment.")
rule("ARB-004", Reason.ARBITER_ALREADY_SIGNED, "An arbiter signs at most one payment of a withdrawal.", suite=_S,
     upstream="MergeSignToTransaction: \"signer already signed\"",
     note="Deviation: upstream refuses a second signature on the same transaction; the spec also refuses to sign "
     "a different payment of a withdrawal it signed a payment of.")


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
    entries: tuple[tuple[str, int], ...]
    """``(main-chain address, amount in sidechain sela)`` per payload entry."""


def confirmations_of(w: PendingWithdrawal, side_height: int) -> int:
    """Sidechain blocks on ``w``'s burn when the best sidechain block is at ``side_height``, the burn's own
    block counted; 0 if the best block is below it."""
    return max(0, side_height - w.height + 1)


def payout(amount: int, exchange_rate: float) -> int:
    """``Fixed64(float64(amount) / ExchangeRate)``: what the main chain pays for ``amount`` burned."""
    return int(float(amount) / exchange_rate)


def withdrawal_payment(w: PendingWithdrawal, x_utxos: Sequence[tuple[bytes, int, int]], *, x_address: str,
                       exchange_rate: float, fee: int = WITHDRAWAL_FEE) -> Transaction | None:
    """The unsigned payment of ``w`` from the X outputs ``(txid, index, value)``, or ``None`` if they do not
    cover it."""
    pays = [(program_hash_from_address(a).data, payout(v, exchange_rate)) for a, v in w.entries]
    need = sum(v for _, v in pays) + fee
    chosen: list[tuple[bytes, int, int]] = []
    total = 0
    for u in x_utxos:
        if total >= need:
            break
        chosen.append(u)
        total += u[2]
    if total < need:
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
                             signed_before: bytes | None, side_height: int, confirmations: int,
                             fee: int = WITHDRAWAL_FEE) -> PendingWithdrawal:
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
    # [ARB-005] the burn is buried deep enough on the sidechain
    if confirmations_of(w, side_height) < confirmations:
        raise Reject(Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, "ARB-005", f"burn at height {w.height}, best "
                     f"{side_height}: {confirmations_of(w, side_height)} of {confirmations} confirmations")
    keys = [(i.previous.txid, i.previous.index) for i in tx.inputs]
    values = [x_utxo(*k) for k in keys]
    # [ARB-002] distinct unspent X-address inputs
    if not keys or len(set(keys)) != len(keys) or any(v is None for v in values):
        raise Reject(Reason.ARBITER_PAYMENT_MISMATCH, "ARB-002", "an input is not an unspent output of the X address")
    want = [(program_hash_from_address(a).data, payout(v, exchange_rate)) for a, v in w.entries]
    got = [(o.program_hash, o.value) for o in tx.outputs]
    x_ph = program_hash_from_address(x_address).data
    change = got[len(want):]
    paid_in = sum(v for v in values if v is not None)
    exact = got[:len(want)] == want and len(change) <= 1 and all(ph == x_ph and v > 0 for ph, v in change) and \
        all(o.asset_id == ELA_ASSET_ID and o.output_lock == 0 for o in tx.outputs)
    # [ARB-003] the entries paid in order, at most one change output to X, exactly the fee left
    if not exact or paid_in - sum(v for _, v in got) != fee:
        raise Reject(Reason.ARBITER_PAYMENT_MISMATCH, "ARB-003", f"outputs {got}, inputs {paid_in}")
    # [ARB-004] no other payment of this withdrawal signed before
    if signed_before is not None and signed_before != payment_digest(tx):
        raise Reject(Reason.ARBITER_ALREADY_SIGNED, "ARB-004", w.side_txid.hex())
    return w
