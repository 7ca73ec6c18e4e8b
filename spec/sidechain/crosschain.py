"""Cross-chain transfers seen from the sidechain: deposits credited (RechargeToSideChain) and
withdrawals burned (TransferCrossChainAsset).

Deposit (main chain -> sidechain)
---------------------------------

A user pays the sidechain's X address on the main chain with a ``TransferCrossChainAsset``; the
arbiters then submit a ``RechargeToSideChain`` on the sidechain that names the main-chain transaction
(v0: carries it with its merkle proof; v1: by hash, the sidechain looks it up through its main-chain
view). :func:`deposit_entries` reads what the main-chain transaction asks for, and
:func:`check_recharge` holds the recharge to it (``checkRechargeToSideChainTransaction``):

* XCH-001 the main-chain transaction is credited once;
* XCH-002 it is a TransferCrossChainAsset;
* XCH-003 each entry paying the X address asks for 0 <= amount <= output value - MinCrossChainTxFee;
* XCH-004 each such entry names a valid address;
* XCH-005 the recharge has an output to that address of exactly the converted amount;
* XCH-006 the recharge's outputs are non-negative and add up to the converted total.

Conversion is upstream's float64 arithmetic: ``Fixed64(float64(amount) * ExchangeRate)``, truncated
toward zero (:func:`convert`). With rate 1 it is exact for every amount below 2^53 sela (90 million
ELA, more than the supply); above 2^53 the float64 rounds, as upstream does.

A v1 main-chain deposit (``TransferCrossChainAsset`` payload version 1, tx version >= 0x09) has no
payload entries: its ``OTCrossChain`` outputs to the X address carry the target address and amount.
Deviation: upstream's sidechain framework of 2022 reads only v0 entries; the spec reads both.

Withdrawal (sidechain -> main chain)
------------------------------------

``checkTransferCrossChainAssetTransaction`` (:func:`check_withdraw`):

* XCH-010 the payload has 1..len(outputs) entries;
* XCH-011 output indexes are distinct and in range;
* XCH-012 as many outputs pay the zero program hash (the burn) as there are entries;
* XCH-013 each entry's address is a standard (0x21) or multisig (0x12) main-chain address;
* XCH-014 each entry's output pays the zero program hash, and 0 <= amount <= its value - MinCrossChainTxFee;
* XCH-015 inputs minus outputs is at least MinCrossChainTxFee.

Upstream also refuses withdrawals while the main chain runs in proof-of-work *revert* mode (a DPoS
event); that belongs to the DPoS profile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from spec.chain.tx import CrossChainOutput, OutputType, Transaction, TransferCrossChainAssetPayload, TxType
from spec.encoding.address import PREFIX_MULTISIG, PREFIX_STANDARD, program_hash_from_address
from spec.errors import Reason, Reject, rule
from spec.sidechain.tx import SideTransaction, SideTxType

__all__ = ["convert", "deposit_entries", "check_recharge", "check_withdraw", "ZERO_PROGRAM_HASH"]

ZERO_PROGRAM_HASH: Final = bytes(21)
"""Where a sidechain withdrawal burns its value."""

_S = "sidechain"
_UP = "checkRechargeToSideChainTransaction"
_WUP = "checkTransferCrossChainAssetTransaction"
rule("XCH-001", Reason.DEPOSIT_DUPLICATE, "A main-chain deposit transaction is credited on the sidechain once.",
     suite=_S, upstream=f"{_UP}: \"Duplicate mainchain transaction hash in paylod\"")
rule("XCH-002", Reason.DEPOSIT_NOT_CROSS_CHAIN, "The deposit's main-chain transaction is a TransferCrossChainAsset.",
     suite=_S, upstream=f"{_UP}: \"Invalid PayloadTransferCrossChainAsset\"")
rule("XCH-003", Reason.DEPOSIT_AMOUNT, "Each deposit entry paying the X address asks for 0 <= amount <= the output's "
     "value - MinCrossChainTxFee.", suite=_S, upstream=f"{_UP}: \"Invalid transaction cross chain amount\"")
rule("XCH-004", Reason.DEPOSIT_ADDRESS, "Each deposit entry paying the X address names a valid address.",
     suite=_S, upstream=f"{_UP}: \"Invalid transaction payload cross chain address\"")
rule("XCH-005", Reason.DEPOSIT_OUTPUT_MISSING, "The recharge pays each entry's address exactly the converted amount.",
     suite=_S, upstream=f"{_UP}: \"Invalid transaction outputs\"")
rule("XCH-006", Reason.DEPOSIT_TOTAL, "The recharge's outputs are non-negative and total the converted amounts.",
     suite=_S, upstream=f"{_UP}: \"Invalid transaction output value\" / \"Output and fee verify failed\"")
rule("XCH-010", Reason.WITHDRAW_PAYLOAD, "A withdrawal names 1 to len(outputs) entries.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction payload content\"")
rule("XCH-011", Reason.WITHDRAW_PAYLOAD, "A withdrawal's output indexes are distinct and name outputs.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction payload cross chain index\"")
rule("XCH-012", Reason.WITHDRAW_PAYLOAD, "A withdrawal has one burn output (zero program hash) per entry.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction cross chain counts\"")
rule("XCH-013", Reason.WITHDRAW_ADDRESS, "A withdrawal's addresses are standard (0x21) or multisig (0x12) addresses.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction cross chain address\"")
rule("XCH-014", Reason.WITHDRAW_AMOUNT, "Each withdrawal entry's output burns (zero program hash) and "
     "0 <= amount <= the output's value - MinCrossChainTxFee.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction output program hash\" / \"Invalid transaction outputs\"")
rule("XCH-015", Reason.WITHDRAW_FEE, "A withdrawal's inputs exceed its outputs by at least MinCrossChainTxFee.",
     suite=_S, upstream=f"{_WUP}: \"Invalid transaction fee\"")


def convert(amount: int, exchange_rate: float) -> int:
    """``common.Fixed64(float64(amount) * ExchangeRate)``: float64 product, truncated toward zero."""
    return int(float(amount) * exchange_rate)


def deposit_entries(main_tx: Transaction, x_program_hash: bytes) -> list[tuple[bytes, int, int]]:
    """The entries of a main-chain deposit that pay ``x_program_hash``: ``(address, amount, output value)``.

    v0: the payload's entries whose output pays the X address; v1: the ``OTCrossChain`` outputs to the
    X address, with the address and amount of their payloads."""
    payload = main_tx.payload
    assert isinstance(payload, TransferCrossChainAssetPayload)
    out: list[tuple[bytes, int, int]] = []
    if main_tx.payload_version == 0:
        for e in payload.entries:
            if e.output_index < len(main_tx.outputs) and main_tx.outputs[e.output_index].program_hash == x_program_hash:
                out.append((e.address, e.amount, main_tx.outputs[e.output_index].value))
    else:
        for o in main_tx.outputs:
            if o.type == OutputType.CROSS_CHAIN and o.program_hash == x_program_hash:
                assert isinstance(o.payload, CrossChainOutput)
                out.append((o.payload.target_address, o.payload.target_amount, o.value))
    return out


def check_recharge(recharge: SideTransaction, main_tx: Transaction, x_program_hash: bytes, *, exchange_rate: float,
                   min_cross_chain_fee: int, credited: Callable[[bytes], bool]) -> int:
    """Hold a RechargeToSideChain to the main-chain transaction it credits; the converted total.

    ``credited(main_txid)`` tells whether the sidechain already credited that main-chain transaction.
    The caller has established that ``main_tx`` is in the main chain (v0: its merkle proof; v1: the
    sidechain's main-chain view)."""
    assert recharge.tx_type == SideTxType.RECHARGE_TO_SIDECHAIN
    # [XCH-001] a main-chain deposit is credited once
    if credited(main_tx.txid()):
        raise Reject(Reason.DEPOSIT_DUPLICATE, "XCH-001", main_tx.txid()[::-1].hex())
    # [XCH-002] the main-chain transaction is a TransferCrossChainAsset
    if main_tx.tx_type != TxType.TRANSFER_CROSS_CHAIN_ASSET:
        raise Reject(Reason.DEPOSIT_NOT_CROSS_CHAIN, "XCH-002", f"type {main_tx.tx_type:#04x}")
    total = 0
    for address, amount, value in deposit_entries(main_tx, x_program_hash):
        # [XCH-003] 0 <= amount <= value - MinCrossChainTxFee
        if not 0 <= amount <= value - min_cross_chain_fee:
            raise Reject(Reason.DEPOSIT_AMOUNT, "XCH-003", f"amount {amount} of an output of {value}")
        converted = convert(amount, exchange_rate)
        total += converted
        try:
            ph = program_hash_from_address(address.decode("ascii"))
        except (Reject, UnicodeDecodeError):
            # [XCH-004] the entry names a valid address
            raise Reject(Reason.DEPOSIT_ADDRESS, "XCH-004", repr(address)) from None
        # [XCH-005] the recharge pays the address exactly the converted amount
        if not any(o.program_hash == ph.data and o.value == converted for o in recharge.outputs):
            raise Reject(Reason.DEPOSIT_OUTPUT_MISSING, "XCH-005", f"{converted} to {address!r}")
    values = [o.value for o in recharge.outputs]
    # [XCH-006] outputs are non-negative and total the converted amounts
    if any(v < 0 for v in values) or sum(values) != total:
        raise Reject(Reason.DEPOSIT_TOTAL, "XCH-006", f"outputs {sum(values)} != {total}")
    return total


def check_withdraw(tx: SideTransaction, input_values: Sequence[int], *, min_cross_chain_fee: int) -> None:
    """A sidechain TransferCrossChainAsset (a withdrawal); ``input_values`` are its inputs' values."""
    assert tx.tx_type == SideTxType.TRANSFER_CROSS_CHAIN_ASSET
    payload = tx.payload
    assert isinstance(payload, TransferCrossChainAssetPayload)
    entries = payload.entries
    # [XCH-010] 1 to len(outputs) entries
    if not 0 < len(entries) <= len(tx.outputs):
        raise Reject(Reason.WITHDRAW_PAYLOAD, "XCH-010", f"{len(entries)} entries, {len(tx.outputs)} outputs")
    indexes = [e.output_index for e in entries]
    # [XCH-011] distinct indexes naming outputs
    if len(set(indexes)) != len(indexes) or any(i >= len(tx.outputs) for i in indexes):
        raise Reject(Reason.WITHDRAW_PAYLOAD, "XCH-011", f"indexes {indexes}")
    burns = sum(1 for o in tx.outputs if o.program_hash == ZERO_PROGRAM_HASH)
    # [XCH-012] one burn output per entry
    if burns != len(entries):
        raise Reject(Reason.WITHDRAW_PAYLOAD, "XCH-012", f"{burns} burn outputs for {len(entries)} entries")
    for e in entries:
        try:
            prefix = program_hash_from_address(e.address.decode("ascii")).data[0]
        except (Reject, UnicodeDecodeError):
            prefix = -1
        # [XCH-013] a standard or multisig main-chain address
        if prefix not in (PREFIX_STANDARD, PREFIX_MULTISIG):
            raise Reject(Reason.WITHDRAW_ADDRESS, "XCH-013", repr(e.address))
    for e in entries:
        o = tx.outputs[e.output_index]
        # [XCH-014] the output burns, and 0 <= amount <= value - MinCrossChainTxFee
        if o.program_hash != ZERO_PROGRAM_HASH or o.value < 0 or not 0 <= e.amount <= o.value - min_cross_chain_fee:
            raise Reject(Reason.WITHDRAW_AMOUNT, "XCH-014", f"entry for output {e.output_index}")
    fee = sum(input_values) - sum(o.value for o in tx.outputs)
    # [XCH-015] the fee is at least MinCrossChainTxFee
    if fee < min_cross_chain_fee:
        raise Reject(Reason.WITHDRAW_FEE, "XCH-015", f"fee {fee}")
