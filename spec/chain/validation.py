"""Block and transaction validation of the proof-of-work profile.

Four checks, as upstream names them (``Elastos.ELA/blockchain/blockvalidator.go``,
``core/transaction/transactionchecker.go``, ``core/transaction/coinbasetransaction.go``,
``blockchain/validation.go``):

========================  ================================================================  =======
check                     needs                                                             rules
========================  ================================================================  =======
``check_tx_sanity``       the transaction, its block height, the parameters                 TX-
``check_block_sanity``    the block, the parameters, the node's adjusted time               BLK-
``check_tx_context``      the transaction and a :class:`ChainView` of the chain it extends   TXC-
``check_block_context``   the block and a :class:`ChainView` of its parent's chain           BLC-
========================  ================================================================  =======

Every non-coinbase transaction of a block is checked against the state **before** the block:
a transaction cannot spend an output created in the same block (upstream looks references up in
the chain's UTXO cache, which holds no output of the block being checked), and two transactions
of one block cannot spend one output (BLK-011).

Heights: ``height`` is the height of the block that contains the transaction; the chain view's
tip is the block's parent, at ``height - 1``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Final, Protocol, TypeVar

from spec.chain.auxpow import AUXPOW_CHAIN_ID, check_auxpow
from spec.chain.block import Block
from spec.chain.merkle import merkle_root
from spec.chain.params import CR_ASSETS_ADDRESS, CR_EXPENSES_ADDRESS, DESTROY_ADDRESS, ELA_ASSET_ID, MAINNET, NetworkParams, block_reward
from spec.chain.pow import check_proof_of_work, next_required_bits
from spec.chain.tx import (
    AttributeUsage,
    CrossChainOutput,
    TransferCrossChainAssetPayload,
    Output,
    OutputType,
    RegisterAssetPayload,
    SideChainPowPayload,
    Transaction,
    TxType,
    WithdrawFromSideChainPayload,
)
from spec.crypto import p256
from spec.crypto.hashes import hash160
from spec.crypto.scripts import MIN_MULTISIG_SCRIPT_SIZE, RedeemScript, parse_redeem_script, verify_script
from spec.encoding.address import (
    PREFIX_CROSSCHAIN,
    PREFIX_DEPOSIT,
    PREFIX_DPOSV2,
    PREFIX_MULTISIG,
    PREFIX_STANDARD,
    address_from_program_hash,
    program_hash_from_address,
)
from spec.encoding.hashes import Uint168, compare_le
from spec.encoding.primitives import I64_MAX
from spec.errors import Reject, Reason, rule
from spec.model import SpecModel

T = TypeVar("T")

NULL_OUTPOINT_INDEX: Final = 0xFFFF
"""The index a coinbase input references (with the all-zero txid)."""
COINBASE_SEQUENCE: Final = 0xFFFF_FFFF
UNLOCK_SEQUENCE: Final = 0xFFFF_FFFE
"""The sequence an input must carry to spend a time-locked output."""
FINAL_SEQUENCE: Final = 0xFFFF
"""Quirk: upstream's ``IsFinalizedTransaction`` compares with ``math.MaxUint16``, not the u32 maximum."""
MIN_PROGRAM_CODE_SIZE: Final = 23
MAX_OUTPUTS: Final = 0xFFFF
FOUNDATION_SHARE: Final = 0.3
"""The foundation's minimum share of a coinbase, compared in float64 as upstream does."""
OUTPUT_PREFIXES: Final = (PREFIX_STANDARD, PREFIX_MULTISIG, PREFIX_CROSSCHAIN, PREFIX_DEPOSIT, PREFIX_DPOSV2)
SIGNABLE_PREFIXES: Final = (PREFIX_STANDARD, PREFIX_DEPOSIT, PREFIX_MULTISIG, PREFIX_CROSSCHAIN)

# -- rules: transaction sanity ---------------------------------------------------------------------

_S = "chain"
rule("TX-001", Reason.TX_SIZE,
     "A transaction's full serialized size is at most MaxBlockContextSize (2,000,000 bytes on mainnet and "
     "regnet, 8,000,000 on testnet).", suite=_S, upstream="CheckTransactionSize: ErrTxSize (-22008)")
rule("TX-002", Reason.TX_NO_INPUTS,
     "A non-coinbase transaction has at least one input, except a new-style SideChainPow (which has none).", suite=_S,
     upstream="CheckTransactionInput: \"transaction has no inputs\", ErrTxInvalidInput (-22001)")
rule("TX-003", Reason.TX_INVALID_INPUT,
     "No input of a non-coinbase transaction references the coinbase outpoint (zero txid, index 0xFFFF).",
     suite=_S, upstream="CheckTransactionInput: \"invalid transaction input\", ErrTxInvalidInput (-22001)")
rule("TX-004", Reason.TX_DUPLICATE_INPUT, "No two inputs of a transaction reference the same outpoint.",
     suite=_S, upstream="CheckTransactionInput: \"duplicated transaction inputs\", ErrTxInvalidInput (-22001)")
rule("TX-005", Reason.COINBASE_BAD_INPUT,
     "A coinbase has exactly one input: zero txid, index 0xFFFF, sequence 0xFFFFFFFF.", suite=_S,
     upstream="CoinBaseTransaction.CheckTransactionInput, ErrTxInvalidInput (-22001)")
rule("TX-006", Reason.TX_OUTPUT_COUNT,
     "A transaction has 1 to 65535 outputs; a coinbase at least 2.", suite=_S,
     upstream="CheckTransactionOutput: \"transaction has no outputs\" / \"coinbase output is not enough\", "
     "ErrTxInvalidOutput (-22002)")
rule("TX-007", Reason.TX_OUTPUT_ASSET, "Every output carries the ELA asset ID.", suite=_S,
     upstream="CheckTransactionOutput: \"asset ID in output is invalid\", ErrTxInvalidOutput (-22002)")
rule("TX-008", Reason.TX_NEGATIVE_OUTPUT, "No output value is negative.", suite=_S,
     upstream="CheckTransactionOutput: \"invalid transaction UTXO output\", ErrTxInvalidOutput (-22002)")
rule("TX-009", Reason.TX_OUTPUT_ADDRESS,
     "From CheckAddressHeight an output's program hash is zero, the CR assets or CR expenses hash, or has "
     "prefix 0x21, 0x12, 0x4B, 0x1F or 0x3F and round-trips through an address.", suite=_S,
     upstream="checkOutputProgramHash: \"invalid program hash prefix\", ErrTxInvalidOutput (-22002)",
     note="Quirk: upstream reads CheckAddressHeight from the mainnet defaults (88812) on every network.")
rule("TX-010", Reason.TX_OUTPUT_TYPE_MISMATCH,
     "In a version >= 0x09 transaction every output is OTNone, except OTVote outputs to a standard address "
     "in TransferAsset transactions and OTCrossChain outputs in TransferCrossChainAsset transactions.", suite=_S,
     upstream="checkOutputPayload / checkTransferAssetOutputPayload: \"transaction type dose not match the "
     "output payload type\", ErrTxInvalidOutput (-22002)")
rule("TX-011", Reason.TX_OUTPUT_SUM_OVERFLOW,
     "The sum of a transaction's output values is at most 2^63 - 1.", suite=_S,
     note="Deviation: upstream sums Fixed64 values with int64 wrap-around and has no such check; a wrapped "
     "sum could pass the fee check while creating value.")
rule("TX-012", Reason.COINBASE_FOUNDATION_SHARE,
     "The first output of a coinbase is at least int64(float64(sum of its outputs) * 0.3).", suite=_S,
     upstream="CoinBaseTransaction.CheckTransactionOutput: \"reward to foundation in coinbase < 30%\", "
     "ErrTxInvalidOutput (-22002)")
rule("TX-013", Reason.TX_NO_PROGRAMS,
     "A non-coinbase transaction other than a new-style SideChainPow has at least one program.", suite=_S,
     upstream="CheckAttributeProgram: \"no programs found in transaction\", ErrTxAttributeProgram (-22004)")
rule("TX-014", Reason.TX_PROGRAM_CODE, "Every program's code is at least 23 bytes.", suite=_S,
     upstream="CheckAttributeProgram: \"invalid program code size\", ErrTxAttributeProgram (-22004)")
rule("TX-015", Reason.COINBASE_HAS_PROGRAMS, "A coinbase has no programs.", suite=_S,
     upstream="CoinBaseTransaction.CheckAttributeProgram: \"transaction should have no programs\", "
     "ErrTxAttributeProgram (-22004)")
rule("TX-016", Reason.TX_PAYLOAD_INVALID,
     "A RegisterAsset payload has precision 0..8 and an amount that is a multiple of 10^(8 - precision).",
     suite=_S, upstream="RegisterAssetTransaction.CheckTransactionPayload, ErrTxPayload (-22006)")
rule("TX-018", Reason.TX_SIDECHAIN_POW_SHAPE,
     "A new-style SideChainPow (no inputs) has exactly one output, of value 0 and type OTNone, and no "
     "attributes or programs.", suite=_S,
     upstream="SideChainPOWTransaction.CheckTransactionOutput / CheckAttributeProgram, ErrTxInvalidOutput (-22002) / "
     "ErrTxAttributeProgram (-22004)")
rule("TX-017", Reason.TX_SIDECHAIN_DUPLICATE,
     "The sidechain transaction hashes of a WithdrawFromSideChain v0 payload are distinct.", suite=_S,
     upstream="CheckDuplicateSidechainTx: \"Duplicate sidechain tx detected in a transaction\", "
     "ErrTxSidechainDuplicate (-23001)")

# -- rules: transaction context ----------------------------------------------------------------------

rule("TXC-001", Reason.TX_DUPLICATE, "A transaction's txid is not already in the chain.", suite=_S,
     upstream="IsTxHashDuplicate, ErrTxDuplicate (-22011)")
rule("TXC-002", Reason.TX_UNKNOWN_REFERENCE,
     "Every input references an output of a transaction in the chain (not of the same block).", suite=_S,
     upstream="GetTxReference, ErrTxUnknownReferredTx (-22009)")
rule("TXC-003", Reason.TX_DOUBLE_SPEND, "No input spends an output that is already spent.", suite=_S,
     upstream="IsDoubleSpend, ErrTxDoubleSpend (-22007)")
rule("TXC-004", Reason.TX_UTXO_LOCKED,
     "An input that spends an output with a non-zero OutputLock has sequence 0xFFFFFFFE and the "
     "transaction's lock time is at least the OutputLock.", suite=_S,
     upstream="CheckTransactionUTXOLock: \"Invalid input sequence\" / \"UTXO output locked\", ErrTxUTXOLocked (-22010)")
rule("TXC-005", Reason.TX_FEE_TOO_LOW,
     "Inputs minus outputs (the fee) is at least MinTransactionFee (100 sela).", suite=_S,
     upstream="CheckTransactionFee: \"transaction fee not enough\", ErrTxBalance (-22003)")
rule("TXC-006", Reason.TX_SPENDS_DESTROY_ADDRESS, "No input spends an output of the destroy address.",
     suite=_S, upstream="checkDestructionAddress, ErrTxInvalidInput (-22001)")
rule("TXC-007", Reason.TX_DEPOSIT_UTXO,
     "No input spends a deposit (0x1F) output: only ReturnDepositCoin may, a type of the DPoS profile.",
     suite=_S, upstream="checkTransactionDepositUTXO, ErrTxInvalidInput (-22001)")
rule("TXC-008", Reason.TX_DEPOSIT_OUTPUT,
     "No output pays a deposit (0x1F) address: only a registered producer's or CR candidate's may be paid, "
     "and the proof-of-work profile has none.", suite=_S,
     upstream="checkTransactionDepositOutputs, ErrTxInvalidInput (-22001)")
rule("TXC-009", Reason.TX_CROSS_CHAIN_UTXO,
     "Only a WithdrawFromSideChain transaction spends a cross-chain (0x4B) output.", suite=_S,
     upstream="checkTransactionCrossChainUTXO, ErrTxInvalidInput (-22001)",
     note="Deviation: upstream enforces this only from CrossChainUTXOFreezeHeight (mainnet 2256110), after "
     "X-address outputs were spent with self-made cross-chain scripts; the spec enforces it at every height.")
rule("TXC-010", Reason.TX_PROGRAM_COUNT,
     "A transaction has exactly one program per distinct program hash of its referenced outputs and Script "
     "attributes (each a 21-byte program hash).", suite=_S,
     upstream="RunPrograms: \"the number of data hashes is different with number of programs\", ErrTxSignature (-22005)")
rule("TXC-011", Reason.TX_PROGRAM_HASH_MISMATCH,
     "After sorting both by code hash, the i-th program's code hashes to the i-th program hash (not checked "
     "for cross-chain hashes).", suite=_S,
     upstream="RunPrograms: \"the data hashes is different with corresponding program code\", ErrTxSignature (-22005)",
     note="Quirk: for prefix 0x4B upstream skips the comparison and checks the signatures against the "
     "supplied script alone.")
rule("TXC-012", Reason.TX_SIGNATURE_TYPE,
     "A program hash's prefix is 0x21, 0x1F, 0x12 or 0x4B, and its code is a script that prefix can run.",
     suite=_S, upstream="RunPrograms: \"unknown signature type\", ErrTxSignature (-22005)",
     note="Deviation: for 0x21 and 0x1F upstream runs no check at all when the code is neither standard, "
     "multisig nor Schnorr (so a hash of custom code is spendable by anyone who shows the code); the spec "
     "rejects such a program.")
rule("TXC-013", Reason.COINBASE_IMMATURE,
     "A coinbase output is spent only when uint32(parent height - coinbase lock time) >= 100.", suite=_S,
     upstream="checkInvalidUTXO: \"the utxo of coinbase is locking\", ErrBlockIneffectiveCoinbase (-12001)",
     note="Quirk: maturity counts from the coinbase's LockTime (the miner writes the height there, nothing "
     "checks it) with u32 wrap-around.")
rule("TXC-014", Reason.TX_SPENDS_SIDECHAIN_POW,
     "No input spends the output of a new-style SideChainPow transaction (no inputs, one output).", suite=_S,
     upstream="checkInvalidUTXO: \"cannot spend the utxo from t new sideChainPow tx\", ErrBlockIneffectiveCoinbase (-12001)")
rule("TXC-015", Reason.TX_VOTE_NOT_IN_PROFILE,
     "A transaction has no OTVote output: votes name producers and CR candidates, which the proof-of-work "
     "profile does not have.", suite=_S,
     upstream="checkVoteOutputs, ErrTxInvalidOutput (-22002)",
     note="Deviation: upstream checks the candidates against the DPoS and CR state; that state is the DPoS "
     "profile's.")

rule("TXC-016", Reason.TX_CROSS_CHAIN_ARBITERS,
     "Every cross-chain program of a WithdrawFromSideChain transaction has exactly the network's cross-chain "
     "arbiters as its keys and m >= floor(2n/3) + 1; a network that names no arbiters accepts no such program.",
     suite=_S, upstream="checkWithdrawFromSideChainTransaction: \"invalid multi sign script code\" / "
     "\"invalid cross chain arbiters\", ErrTxPayload (-22006)",
     note="Deviation: upstream checks the arbiters in the transaction type's own context check; the spec "
     "checks them with the signatures, so that an X-address output can never be spent with a self-made "
     "cross-chain script.")

rule("TXC-017", Reason.TX_HEIGHT_VERSION,
     "A TransferCrossChainAsset has payload version 0 up to NewCrossChainStartHeight (inclusive) and 1 above it.",
     suite=_S, upstream="TransferCrossChainAssetTransaction.HeightVersionCheck, ErrTxHeightVersion (-22012)")
rule("TXC-018", Reason.TX_CROSS_CHAIN_PAYLOAD,
     "A TransferCrossChainAsset v0 payload has 1 to len(outputs) entries with distinct output indexes in range, "
     "distinct non-empty addresses, and X-prefixed outputs at those indexes; a v1 one is in a version >= 0x09 "
     "transaction whose outputs are OTNone or X-prefixed OTCrossChain, at least one of them OTCrossChain.",
     suite=_S, upstream="checkTransferCrossChainAssetTransactionV0/V1, ErrTxPayload (-22006)")
rule("TXC-019", Reason.TX_CROSS_CHAIN_AMOUNT,
     "A deposit's amount is in [0, output value - MinCrossChainTxFee] (v0), or its output value is at least "
     "MinCrossChainTxFee + target amount (v1).", suite=_S,
     upstream="\"Invalid transaction cross chain amount\" / \"invalid cross chain output amount\", ErrTxPayload (-22006)")
rule("TXC-020", Reason.TX_CROSS_CHAIN_FEE,
     "A TransferCrossChainAsset v0's fee (inputs minus outputs) is at least MinCrossChainTxFee (10000 sela).",
     suite=_S, upstream="checkTransferCrossChainAssetTransactionV0: \"Invalid transaction fee\", ErrTxPayload (-22006)")
rule("TXC-021", Reason.TX_CROSS_CHAIN_RETIRED_TARGET,
     "From ProhibitTransferToDIDHeight no OTCrossChain output pays the retired DID sidechain address "
     "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ.", suite=_S,
     upstream="checkTransferCrossChainAssetTransactionV1: \"no more DIDSideChain tx \", ErrTxPayload (-22006)",
     note="Quirk: upstream checks this for v1 payloads only; v0 cannot occur after the same height anyway.")

rule("TXC-024", Reason.TX_WITHDRAW_DUPLICATE,
     "A WithdrawFromSideChain (v0) names no sidechain transaction that an earlier one of the chain names: each "
     "withdrawal is paid once.", suite=_S,
     upstream="checkWithdrawFromSideChainTransactionV0: IsSideChainTxHashDuplicate -> \"Duplicate side chain "
     "transaction hash in paylod\"")
rule("TXC-022", Reason.TX_SIDECHAIN_POW_NO_ARBITER,
     "A SideChainPow needs an on-duty cross-chain arbiter: the network names at least one (OriginArbiters).", suite=_S,
     upstream="SideChainPOWTransaction.SpecialContextCheck: \"there is no arbiter on duty\", ErrTxPayload (-22006)")
rule("TXC-023", Reason.TX_SIDECHAIN_POW_SIGNATURE,
     "A SideChainPow's payload signature is the on-duty cross-chain arbiter's over the payload's first 68 bytes "
     "(side block hash, side genesis hash, height); for a block at height H the arbiter on duty is "
     "cross_chain_arbiters[(H - 1) mod n].", suite=_S,
     upstream="SpecialContextCheck: \"Arbitrator is not matched.\" (GetOnDutyCrossChainArbitrator -> "
     "getNextOnDutyArbitratorV0(bestHeight + 1, 0))",
     note="Quirk: before CRCOnlyDPOSHeight the duty rotates over the configured OriginArbiters in their configured "
     "order, one per block, whatever the arbiters do; the DPoS and CR profiles change who is on duty.")

# -- rules: block sanity -----------------------------------------------------------------------------------

rule("BLK-001", Reason.BLOCK_TIME_TOO_FAR,
     "A block's timestamp is at most the node's adjusted time plus 7200 s.", suite=_S,
     upstream="CheckBlockSanity: \"block timestamp of %v is too far in the future\"")
rule("BLK-002", Reason.BLOCK_NO_TRANSACTIONS, "A block has at least one transaction.", suite=_S,
     upstream="CheckBlockSanity: \"block does not contain any transactions\"")
rule("BLK-003", Reason.BLOCK_TOO_MANY_TRANSACTIONS, "A block has at most 10000 transactions.", suite=_S,
     upstream="CheckBlockSanity: \"block contains too many transactions\"")
rule("BLK-004", Reason.BLOCK_HEADER_TOO_LARGE, "A serialized header (AuxPoW included) is at most 1,000,000 bytes.",
     suite=_S, upstream="CheckBlockSanity: \"serialized block header is too big\"")
rule("BLK-005", Reason.BLOCK_TOO_LARGE,
     "A serialized block is at most MaxBlockContextSize + MaxBlockHeaderSize bytes (3,000,000 on mainnet "
     "and regnet, 9,000,000 on testnet).", suite=_S, upstream="CheckBlockSanity: \"serialized block is too big\"")
rule("BLK-006", Reason.BLOCK_FIRST_NOT_COINBASE, "A block's first transaction is a coinbase.", suite=_S,
     upstream="CheckBlockSanity: \"first transaction in block is not a coinbase\"")
rule("BLK-007", Reason.BLOCK_SECOND_COINBASE, "Only a block's first transaction is a coinbase.", suite=_S,
     upstream="CheckBlockSanity: \"block contains second coinbase\"")
rule("BLK-008", Reason.BLOCK_DUPLICATE_TX,
     "No two transactions of a block have the same txid (which also closes the duplicate-last merkle "
     "malleability, where two transaction lists with one root differ by a repeated txid).", suite=_S,
     upstream="CheckBlockSanity: \"block contains duplicate transaction\"")
rule("BLK-009", Reason.BLOCK_DUPLICATE_INPUT, "No two inputs of a block's transactions spend the same outpoint.",
     suite=_S, upstream="CheckBlockSanity: \"block contains duplicate UTXO\"")
rule("BLK-010", Reason.BLOCK_DUPLICATE_SIDECHAIN_TX,
     "No sidechain transaction hash appears in two WithdrawFromSideChain v0 payloads of a block.", suite=_S,
     upstream="CheckDuplicateTx: \"block contains duplicate sidechain Tx\"")
rule("BLK-011", Reason.BLOCK_BAD_MERKLE_ROOT, "The header's merkle root is the merkle root of the txids.",
     suite=_S, upstream="CheckBlockSanity: \"block merkle root is invalid\"")

# -- rules: block context ------------------------------------------------------------------------------------

rule("BLC-001", Reason.BLOCK_BAD_HEIGHT, "A block's height is its parent's height plus one.", suite=_S,
     upstream="maybeAcceptBlock: \"wrong block height!\"")
rule("BLC-002", Reason.BLOCK_BAD_BITS, "A block's bits are the ones the retarget rule requires.", suite=_S,
     upstream="CheckBlockContext: \"block difficulty is not the expected\"")
rule("BLC-003", Reason.BLOCK_TIME_TOO_OLD,
     "A block's timestamp is not before the median of its parent's last 11 timestamps.", suite=_S,
     upstream="CheckBlockContext: \"block timestamp is not after expected\"",
     note="Quirk: upstream compares time.Unix(ts, 1ns).After(median), so a timestamp equal to the median "
     "is accepted (the sidechains use 0 ns and require strictly after).")
rule("BLC-004", Reason.TX_NOT_FINAL,
     "Every non-coinbase transaction of a block is final: lock time 0, lock time below the block's height, "
     "or every input's sequence 0xFFFF.", suite=_S,
     upstream="CheckBlockContext: \"block contains unfinalized transaction\"",
     note="Quirk: the sequence that finalizes is math.MaxUint16 (0xFFFF), not the u32 maximum.")
rule("BLC-005", Reason.COINBASE_BAD_REWARD,
     "The coinbase's outputs sum to exactly the block reward plus the fees of the block's transactions.",
     suite=_S, upstream="checkCoinbaseTransactionContext: \"Reward amount in coinbase not correct\"")


# -- what the context checks read ------------------------------------------------------------------------------


class UtxoEntry(SpecModel):
    """An unspent output and what the checks need to know about the transaction that made it."""

    output: Output
    height: int
    """Height of the block that contains the creating transaction."""
    coinbase: bool = False
    """Whether the creating transaction is a coinbase."""
    tx_lock_time: int = 0
    """The creating transaction's lock time (a coinbase's maturity counts from it)."""
    new_sidechain_pow: bool = False
    """Whether the creating transaction is a new-style SideChainPow (its output is unspendable)."""


class HeaderInfo(SpecModel):
    """The fields of a header the context checks read."""

    hash: bytes
    height: int
    timestamp: int
    bits: int


class ChainView(Protocol):
    """A read-only view of one chain, ending at the parent of the block being checked.

    The spec's :class:`~spec.chain.state.ChainState` implements it in memory; a node implements it
    over its store. Every context check reads the chain through these four methods only.
    """

    def tip(self) -> HeaderInfo:
        """The last block of the chain."""
        ...

    def header_at(self, height: int) -> HeaderInfo | None:
        """The chain's block at ``height`` (``None`` above the tip)."""
        ...

    def utxo(self, txid: bytes, index: int) -> UtxoEntry | None:
        """The unspent output ``(txid, index)``, or ``None``."""
        ...

    def output_count(self, txid: bytes) -> int | None:
        """The number of outputs of transaction ``txid`` if the chain contains it, else ``None``."""
        ...

    def sidechain_tx_withdrawn(self, txhash: bytes) -> bool:
        """Whether a WithdrawFromSideChain (v0) of the chain already names sidechain transaction ``txhash``."""
        ...


# -- transaction sanity -------------------------------------------------------------------------------------------


def _check_output_address(ph: bytes, height: int) -> None:
    if height < MAINNET.check_address_height:
        return
    if ph == bytes(21) or ph in (CR_ASSETS_ADDRESS, CR_EXPENSES_ADDRESS):
        return
    # [TX-009] a known prefix that round-trips through an address
    if ph[0] not in OUTPUT_PREFIXES or program_hash_from_address(
            address_from_program_hash(Uint168(data=ph))).data != ph:
        raise Reject(Reason.TX_OUTPUT_ADDRESS, "TX-009", f"program hash {ph.hex()}")


def _check_outputs(tx: Transaction, height: int) -> None:
    minimum = 2 if tx.is_coinbase() else 1
    # [TX-006] 1..65535 outputs, at least 2 in a coinbase
    if not minimum <= len(tx.outputs) <= MAX_OUTPUTS:
        raise Reject(Reason.TX_OUTPUT_COUNT, "TX-006", f"{len(tx.outputs)} outputs")
    total = 0
    for i, out in enumerate(tx.outputs):
        # [TX-007] every output carries the ELA asset ID
        if out.asset_id != ELA_ASSET_ID:
            raise Reject(Reason.TX_OUTPUT_ASSET, "TX-007", f"output {i}")
        # [TX-008] no output value is negative
        if out.value < 0:
            raise Reject(Reason.TX_NEGATIVE_OUTPUT, "TX-008", f"output {i}: {out.value}")
        if not tx.is_coinbase():
            _check_output_address(out.program_hash, height)
        if tx.version >= 0x09 and out.type != OutputType.NONE:
            allowed = ((tx.tx_type == TxType.TRANSFER_ASSET and out.type == OutputType.VOTE
                        and out.program_hash[0] == PREFIX_STANDARD)
                       or (tx.tx_type == TxType.TRANSFER_CROSS_CHAIN_ASSET and out.type == OutputType.CROSS_CHAIN))
            # [TX-010] only OTNone, OTVote to a standard address in TransferAsset, OTCrossChain in a deposit
            if not allowed:
                raise Reject(Reason.TX_OUTPUT_TYPE_MISMATCH, "TX-010",
                             f"output {i} type {out.type} in a type {tx.tx_type:#04x} transaction")
        total += out.value
        # [TX-011] the sum of the output values fits an i64
        if total > I64_MAX:
            raise Reject(Reason.TX_OUTPUT_SUM_OVERFLOW, "TX-011", f"after output {i}")
    if tx.is_coinbase():
        # [TX-012] the foundation's output is at least 30 % of the coinbase
        if tx.outputs[0].value < int(float(total) * FOUNDATION_SHARE):
            raise Reject(Reason.COINBASE_FOUNDATION_SHARE, "TX-012", f"{tx.outputs[0].value} of {total}")


def _check_inputs(tx: Transaction) -> None:
    if tx.is_coinbase():
        inp = tx.inputs[0] if len(tx.inputs) == 1 else None
        # [TX-005] one input: zero txid, index 0xFFFF, sequence 0xFFFFFFFF
        if inp is None or (inp.previous.txid, inp.previous.index, inp.sequence) != (
                bytes(32), NULL_OUTPOINT_INDEX, COINBASE_SEQUENCE):
            raise Reject(Reason.COINBASE_BAD_INPUT, "TX-005", f"{len(tx.inputs)} inputs")
        return
    if is_new_sidechain_pow(tx):
        return
    # [TX-002] at least one input
    if not tx.inputs:
        raise Reject(Reason.TX_NO_INPUTS, "TX-002")
    seen: set[tuple[bytes, int]] = set()
    for i, inp in enumerate(tx.inputs):
        key = (inp.previous.txid, inp.previous.index)
        # [TX-003] no input references the coinbase outpoint
        if key == (bytes(32), NULL_OUTPOINT_INDEX):
            raise Reject(Reason.TX_INVALID_INPUT, "TX-003", f"input {i}")
        # [TX-004] no two inputs reference the same outpoint
        if key in seen:
            raise Reject(Reason.TX_DUPLICATE_INPUT, "TX-004", f"input {i}")
        seen.add(key)


def _check_programs(tx: Transaction) -> None:
    if tx.is_coinbase():
        # [TX-015] a coinbase has no programs
        if tx.programs:
            raise Reject(Reason.COINBASE_HAS_PROGRAMS, "TX-015", f"{len(tx.programs)} programs")
        return
    if is_new_sidechain_pow(tx):
        only = tx.outputs[0] if len(tx.outputs) == 1 else None
        # [TX-018] one zero-value OTNone output, no attributes, no programs
        if only is None or only.value != 0 or only.type != OutputType.NONE or tx.attributes or tx.programs:
            raise Reject(Reason.TX_SIDECHAIN_POW_SHAPE, "TX-018", f"{len(tx.outputs)} outputs")
        return
    # [TX-013] at least one program
    if not tx.programs:
        raise Reject(Reason.TX_NO_PROGRAMS, "TX-013")
    for i, p in enumerate(tx.programs):
        # [TX-014] program code of at least 23 bytes
        if len(p.code) < MIN_PROGRAM_CODE_SIZE:
            raise Reject(Reason.TX_PROGRAM_CODE, "TX-014", f"program {i}: {len(p.code)} bytes")


def _check_payload(tx: Transaction) -> None:
    p = tx.payload
    if isinstance(p, RegisterAssetPayload):
        precision = p.asset.precision
        # [TX-016] precision 0..8 and an amount precise to it
        if precision > 8 or p.amount % 10 ** (8 - precision) != 0:
            raise Reject(Reason.TX_PAYLOAD_INVALID, "TX-016", f"precision {precision}, amount {p.amount}")
    if isinstance(p, WithdrawFromSideChainPayload) and tx.payload_version == 0:
        # [TX-017] distinct sidechain transaction hashes
        if len(set(p.sidechain_tx_hashes)) != len(p.sidechain_tx_hashes):
            raise Reject(Reason.TX_SIDECHAIN_DUPLICATE, "TX-017")


def check_tx_sanity(tx: Transaction, height: int, params: NetworkParams) -> None:
    """``CheckTransactionSanity``: the checks that need no chain state, in upstream's order."""
    # [TX-001] at most MaxBlockContextSize bytes
    if tx.size() > params.max_block_context_size:
        raise Reject(Reason.TX_SIZE, "TX-001", f"{tx.size()} bytes")
    _check_inputs(tx)
    _check_outputs(tx, height)
    _check_programs(tx)
    _check_payload(tx)


# -- transaction context -------------------------------------------------------------------------------------------


def tx_program_hashes(tx: Transaction, references: Sequence[Output]) -> list[bytes]:
    """The distinct program hashes that need a program, sorted by code hash (``GetTxProgramHashes``).

    Two hashes with one code hash and different prefixes tie; upstream leaves their order to Go's map
    iteration and an unstable sort, the spec orders them by their full bytes (prefix first), so that
    the result never depends on a hash seed.
    """
    hashes = {o.program_hash for o in references}
    for a in tx.attributes:
        if a.usage == AttributeUsage.SCRIPT:
            # [TXC-010] a Script attribute holds a 21-byte program hash
            if len(a.data) != 21:
                raise Reject(Reason.TX_PROGRAM_COUNT, "TXC-010", f"Script attribute of {len(a.data)} bytes")
            hashes.add(a.data)
    return _sorted_by_code_hash(sorted(hashes), key=lambda ph: ph[1:])


def _sorted_by_code_hash(items: list[T], key: Callable[[T], bytes]) -> list[T]:
    """Sort by a 20-byte code hash compared as a little-endian number (``Uint160.Compare``)."""
    if len(items) < 2:
        return items
    return sorted(items, key=functools.cmp_to_key(lambda a, b: compare_le(key(a), key(b))))


def check_signatures(tx: Transaction, references: Sequence[Output], unsigned: bytes | None = None) -> None:
    """``checkTransactionSignature`` → ``RunPrograms`` for the proof-of-work profile.

    ``unsigned`` may pass the transaction's unsigned bytes when the caller has them already.
    """
    message = tx.serialize_unsigned() if unsigned is None else unsigned
    check_programs(message, tx_program_hashes(tx, references), tx.programs)


class SignedProgram(Protocol):
    """What :func:`check_programs` reads of a program (a :class:`~spec.chain.tx.Program` is one)."""

    @property
    def parameter(self) -> bytes: ...

    @property
    def code(self) -> bytes: ...


def check_programs(message: bytes, hashes: Sequence[bytes], tx_programs: Sequence[SignedProgram]) -> None:
    """``RunPrograms``: the programs of a transaction against its program hashes and unsigned bytes.

    ``message`` is the transaction's unsigned serialization, ``hashes`` its program hashes
    (:func:`tx_program_hashes`) and ``tx_programs`` its programs in wire order. This is all of
    :func:`check_signatures` after those two are known, and the costly part (every signature check),
    so a checker may run it elsewhere on just these three values.
    """
    programs = _sorted_by_code_hash([(hash160(p.code), p) for p in tx_programs], key=lambda cp: cp[0])
    # [TXC-010] one program per distinct program hash
    if len(hashes) != len(programs):
        raise Reject(Reason.TX_PROGRAM_COUNT, "TXC-010", f"{len(hashes)} hashes, {len(programs)} programs")
    for ph, (code_hash, program) in zip(hashes, programs):
        prefix = ph[0]
        if prefix != PREFIX_CROSSCHAIN:
            # [TXC-011] the i-th code hashes to the i-th program hash
            if code_hash != ph[1:]:
                raise Reject(Reason.TX_PROGRAM_HASH_MISMATCH, "TXC-011", f"program hash {ph.hex()}")
        script = _runnable(prefix, program.code)
        # [TXC-012] a prefix that signs, with a script it can run
        if script is None:
            raise Reject(Reason.TX_SIGNATURE_TYPE, "TXC-012", f"prefix {prefix:#04x}")
        verify_script(script, program.parameter, message)


def _runnable(prefix: int, code: bytes) -> RedeemScript | None:
    """The parsed script if a program hash with ``prefix`` may be unlocked by ``code``, else ``None``."""
    if prefix not in SIGNABLE_PREFIXES:
        return None
    try:
        script = parse_redeem_script(code)
    except Reject:
        return None
    if prefix in (PREFIX_STANDARD, PREFIX_DEPOSIT):
        ok = script.kind in ("standard", "multisig")
    elif prefix == PREFIX_MULTISIG:
        ok = script.kind == "multisig"
    else:
        ok = script.kind == "crosschain" and len(code) >= MIN_MULTISIG_SCRIPT_SIZE
    return script if ok else None


def check_tx_context(tx: Transaction, height: int, view: ChainView, params: NetworkParams) -> int:
    """``CheckTransactionContext`` for a non-coinbase transaction at ``height``; returns its fee."""
    # [TXC-001] the txid is not already in the chain
    if view.output_count(tx.txid()) is not None:
        raise Reject(Reason.TX_DUPLICATE, "TXC-001", tx.txid()[::-1].hex())
    entries: list[UtxoEntry] = []
    for i, inp in enumerate(tx.inputs):
        txid, index = inp.previous.txid, inp.previous.index
        entry = view.utxo(txid, index)
        if entry is None:
            count = view.output_count(txid)
            # [TXC-002] the referenced output exists in the chain
            if count is None or index >= count:
                raise Reject(Reason.TX_UNKNOWN_REFERENCE, "TXC-002", f"input {i}")
            # [TXC-003] the referenced output is not spent
            raise Reject(Reason.TX_DOUBLE_SPEND, "TXC-003", f"input {i}")
        entries.append(entry)
    for i, (inp, entry) in enumerate(zip(tx.inputs, entries)):
        lock = entry.output.output_lock
        # [TXC-004] a locked output needs sequence 0xFFFFFFFE and a lock time past the lock
        if lock != 0 and (inp.sequence != UNLOCK_SEQUENCE or tx.lock_time < lock):
            raise Reject(Reason.TX_UTXO_LOCKED, "TXC-004", f"input {i}: lock {lock}")
    if tx.tx_type == TxType.SIDECHAIN_POW:
        _check_sidechain_pow(tx, height, params)
        if is_new_sidechain_pow(tx):  # upstream's SpecialContextCheck ends the check here: no fee is due
            return 0
    references = [e.output for e in entries]
    fee = sum(o.value for o in references) - sum(o.value for o in tx.outputs)
    if tx.tx_type == TxType.TRANSFER_CROSS_CHAIN_ASSET:
        _check_deposit(tx, height, fee, params)
    # [TXC-005] the fee is at least MinTransactionFee
    if fee < params.min_transaction_fee:
        raise Reject(Reason.TX_FEE_TOO_LOW, "TXC-005", f"fee {fee}")
    for i, o in enumerate(references):
        # [TXC-006] nothing is spent from the destroy address
        if o.program_hash == DESTROY_ADDRESS:
            raise Reject(Reason.TX_SPENDS_DESTROY_ADDRESS, "TXC-006", f"input {i}")
        # [TXC-007] no deposit output is spent
        if o.program_hash[0] == PREFIX_DEPOSIT:
            raise Reject(Reason.TX_DEPOSIT_UTXO, "TXC-007", f"input {i}")
        # [TXC-009] only WithdrawFromSideChain spends a cross-chain output
        if o.program_hash[0] == PREFIX_CROSSCHAIN and tx.tx_type != TxType.WITHDRAW_FROM_SIDECHAIN:
            raise Reject(Reason.TX_CROSS_CHAIN_UTXO, "TXC-009", f"input {i}")
    for i, o in enumerate(tx.outputs):
        # [TXC-008] no output pays a deposit address
        if o.program_hash[0] == PREFIX_DEPOSIT:
            raise Reject(Reason.TX_DEPOSIT_OUTPUT, "TXC-008", f"output {i}")
    check_signatures(tx, references)
    if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN:
        if isinstance(tx.payload, WithdrawFromSideChainPayload) and tx.payload_version == 0:
            for h in tx.payload.sidechain_tx_hashes:
                # [TXC-024] a sidechain transaction is withdrawn once
                if view.sidechain_tx_withdrawn(h):
                    raise Reject(Reason.TX_WITHDRAW_DUPLICATE, "TXC-024", f"sidechain tx {h[::-1].hex()}")
        _check_arbiters(tx, params)
    parent_height = height - 1
    for i, entry in enumerate(entries):
        # [TXC-013] a coinbase output is mature
        if entry.coinbase and (parent_height - entry.tx_lock_time) & 0xFFFF_FFFF < params.coinbase_maturity:
            raise Reject(Reason.COINBASE_IMMATURE, "TXC-013", f"input {i}")
        # [TXC-014] no new-style SideChainPow output is spent
        if entry.new_sidechain_pow:
            raise Reject(Reason.TX_SPENDS_SIDECHAIN_POW, "TXC-014", f"input {i}")
    for i, o in enumerate(tx.outputs):
        # [TXC-015] no vote outputs in this profile
        if tx.version >= 0x09 and o.type == OutputType.VOTE:
            raise Reject(Reason.TX_VOTE_NOT_IN_PROFILE, "TXC-015", f"output {i}")
    return fee


def _check_deposit(tx: Transaction, height: int, fee: int, params: NetworkParams) -> None:
    """The TransferCrossChainAsset checks (upstream's ``HeightVersionCheck`` and ``SpecialContextCheck``)."""
    v1 = height > params.new_cross_chain_start_height
    # [TXC-017] payload version 0 up to NewCrossChainStartHeight, 1 above it
    if tx.payload_version != (1 if v1 else 0):
        raise Reject(Reason.TX_HEIGHT_VERSION, "TXC-017", f"payload version {tx.payload_version} at height {height}")
    minimum = params.min_cross_chain_tx_fee
    if v1:
        deposits = [o for o in tx.outputs if o.type == OutputType.CROSS_CHAIN]
        well_formed = (tx.version >= 0x09 and bool(deposits)
                       and all(o.type in (OutputType.NONE, OutputType.CROSS_CHAIN) for o in tx.outputs)
                       and all(o.program_hash[0] == PREFIX_CROSSCHAIN for o in deposits))
        # [TXC-018] v1: a version >= 0x09 transaction with X-prefixed OTCrossChain outputs
        if not well_formed:
            raise Reject(Reason.TX_CROSS_CHAIN_PAYLOAD, "TXC-018", "v1 outputs")
        for i, o in enumerate(deposits):
            # [TXC-021] no deposit to the retired DID sidechain
            if height >= params.prohibit_transfer_to_did_height and o.program_hash == params.did_sidechain_address:
                raise Reject(Reason.TX_CROSS_CHAIN_RETIRED_TARGET, "TXC-021", f"deposit {i}")
            assert isinstance(o.payload, CrossChainOutput)
            # [TXC-019] v1: the output covers the fee and the target amount
            if o.value < minimum + o.payload.target_amount:
                raise Reject(Reason.TX_CROSS_CHAIN_AMOUNT, "TXC-019", f"deposit {i}")
        return
    assert isinstance(tx.payload, TransferCrossChainAssetPayload)
    entries = tx.payload.entries
    indexes = [e.output_index for e in entries]
    addresses = [e.address for e in entries]
    well_formed = (0 < len(entries) <= len(tx.outputs) and len(set(indexes)) == len(indexes)
                   and all(i < len(tx.outputs) for i in indexes) and len(set(addresses)) == len(addresses)
                   and all(a != b"" for a in addresses)
                   and all(tx.outputs[i].program_hash[0] == PREFIX_CROSSCHAIN for i in indexes))
    # [TXC-018] v0: distinct in-range indexes, distinct non-empty addresses, X-prefixed outputs
    if not well_formed:
        raise Reject(Reason.TX_CROSS_CHAIN_PAYLOAD, "TXC-018", f"{len(entries)} entries")
    for e in entries:
        # [TXC-019] v0: 0 <= amount <= output value - MinCrossChainTxFee
        if not 0 <= e.amount <= tx.outputs[e.output_index].value - minimum:
            raise Reject(Reason.TX_CROSS_CHAIN_AMOUNT, "TXC-019", f"amount {e.amount}")
    # [TXC-020] v0: the fee is at least MinCrossChainTxFee
    if fee < minimum:
        raise Reject(Reason.TX_CROSS_CHAIN_FEE, "TXC-020", f"fee {fee}")


def _check_arbiters(tx: Transaction, params: NetworkParams) -> None:
    arbiters = set(params.cross_chain_arbiters)
    threshold = len(arbiters) * 2 // 3 + 1
    for i, p in enumerate(tx.programs):
        try:
            script = parse_redeem_script(p.code)
        except Reject:
            continue
        if script.kind != "crosschain":
            continue
        # [TXC-016] the arbiters' keys, with m >= floor(2n/3) + 1
        if not arbiters or set(script.public_keys) != arbiters or script.m < threshold:
            raise Reject(Reason.TX_CROSS_CHAIN_ARBITERS, "TXC-016",
                         f"program {i}: {script.m} of {script.n}; the network names {len(arbiters)} arbiters")


def on_duty_cross_chain_arbiter(height: int, params: NetworkParams) -> bytes | None:
    """The arbiter who signs SideChainPow transactions in a block at ``height``
    (``getNextOnDutyArbitratorV0(bestHeight + 1, 0)`` with ``bestHeight = height - 1``), or ``None``."""
    arbiters = params.cross_chain_arbiters
    return arbiters[(height - 1) % len(arbiters)] if arbiters else None


def _check_sidechain_pow(tx: Transaction, height: int, params: NetworkParams) -> None:
    arbiter = on_duty_cross_chain_arbiter(height, params)
    # [TXC-022] somebody is on duty
    if arbiter is None:
        raise Reject(Reason.TX_SIDECHAIN_POW_NO_ARBITER, "TXC-022", "there is no arbiter on duty")
    payload = tx.payload
    assert isinstance(payload, SideChainPowPayload)
    try:
        p256.ecdsa_verify(arbiter, payload.unsigned(), payload.signature)
    except Reject as e:
        # [TXC-023] the on-duty arbiter signed the payload's first 68 bytes
        raise Reject(Reason.TX_SIDECHAIN_POW_SIGNATURE, "TXC-023", f"Arbitrator is not matched. {e.reason.value}") from None


def is_new_sidechain_pow(tx: Transaction) -> bool:
    """``IsNewSideChainPowTx``: a SideChainPow with no inputs."""
    return tx.tx_type == TxType.SIDECHAIN_POW and not tx.inputs


# -- block sanity ---------------------------------------------------------------------------------------------------------


def check_block_sanity(block: Block, params: NetworkParams, now: int) -> None:
    """``CheckBlockSanity``: AuxPoW, proof of work, and every check that needs no chain state.

    ``now`` is the node's adjusted time (Unix seconds): a parameter, never read from a clock.
    """
    header = block.header
    check_auxpow(header.auxpow, header.hash(), AUXPOW_CHAIN_ID)
    check_proof_of_work(header.auxpow.par_block_header.hash(), header.bits, params.pow_limit)
    # [BLK-001] the timestamp is at most two hours ahead
    if header.timestamp > now + params.max_time_offset:
        raise Reject(Reason.BLOCK_TIME_TOO_FAR, "BLK-001", f"{header.timestamp} > {now} + {params.max_time_offset}")
    # [BLK-002] at least one transaction
    if not block.transactions:
        raise Reject(Reason.BLOCK_NO_TRANSACTIONS, "BLK-002")
    # [BLK-003] at most 10000 transactions
    if len(block.transactions) > params.max_tx_per_block:
        raise Reject(Reason.BLOCK_TOO_MANY_TRANSACTIONS, "BLK-003", f"{len(block.transactions)}")
    # [BLK-004] the header is at most 1,000,000 bytes
    if len(header.serialize()) > params.max_block_header_size:
        raise Reject(Reason.BLOCK_HEADER_TOO_LARGE, "BLK-004")
    # [BLK-005] the block is at most MaxBlockContextSize + MaxBlockHeaderSize bytes
    if block.size() > params.max_block_context_size + params.max_block_header_size:
        raise Reject(Reason.BLOCK_TOO_LARGE, "BLK-005", f"{block.size()} bytes")
    for i, tx in enumerate(block.transactions):
        # [BLK-006] the first transaction is a coinbase
        if i == 0 and not tx.is_coinbase():
            raise Reject(Reason.BLOCK_FIRST_NOT_COINBASE, "BLK-006")
        # [BLK-007] no other transaction is a coinbase
        if i > 0 and tx.is_coinbase():
            raise Reject(Reason.BLOCK_SECOND_COINBASE, "BLK-007", f"transaction {i}")
    txids = block.txids()
    # [BLK-008] no duplicate txid
    if len(set(txids)) != len(txids):
        raise Reject(Reason.BLOCK_DUPLICATE_TX, "BLK-008")
    spent: set[tuple[bytes, int]] = set()
    sidechain: set[bytes] = set()
    for i, tx in enumerate(block.transactions):
        check_tx_sanity(tx, header.height, params)
        if tx.is_coinbase():
            continue
        for inp in tx.inputs:
            key = (inp.previous.txid, inp.previous.index)
            # [BLK-009] no outpoint is spent twice in the block
            if key in spent:
                raise Reject(Reason.BLOCK_DUPLICATE_INPUT, "BLK-009", f"transaction {i}")
            spent.add(key)
        if isinstance(tx.payload, WithdrawFromSideChainPayload) and tx.payload_version == 0:
            for h in tx.payload.sidechain_tx_hashes:
                # [BLK-010] no sidechain hash in two withdrawals
                if h in sidechain:
                    raise Reject(Reason.BLOCK_DUPLICATE_SIDECHAIN_TX, "BLK-010", h[::-1].hex())
                sidechain.add(h)
    # [BLK-011] the merkle root matches
    if merkle_root(txids) != header.merkle_root:
        raise Reject(Reason.BLOCK_BAD_MERKLE_ROOT, "BLK-011")


# -- block context ------------------------------------------------------------------------------------------------------------


def median_time_past(view: ChainView, span: int) -> int:
    """``CalcPastMedianTime``: the median of the tip's and its ancestors' timestamps (at most ``span``)."""
    tip = view.tip()
    stamps = []
    for h in range(tip.height, max(-1, tip.height - span), -1):
        info = view.header_at(h)
        assert info is not None
        stamps.append(info.timestamp)
    stamps.sort()
    return stamps[len(stamps) // 2]


def expected_bits(view: ChainView, params: NetworkParams) -> int:
    """The bits the block after the view's tip must carry."""
    tip = view.tip()
    r = params.retarget
    first = None
    if tip.height != 0 and not r.instant and (tip.height + 1) % r.blocks_per_retarget == 0:
        info = view.header_at(tip.height - (r.blocks_per_retarget - 1))
        first = info.timestamp if info is not None else None
    return next_required_bits(tip.height, tip.bits, tip.timestamp, first, r)


def is_final(tx: Transaction, height: int) -> bool:
    """``IsFinalizedTransaction``."""
    return (tx.lock_time == 0 or tx.lock_time < height
            or all(i.sequence == FINAL_SEQUENCE for i in tx.inputs))


def check_block_context(block: Block, view: ChainView, params: NetworkParams) -> int:
    """``CheckBlockContext`` (with the height check of ``maybeAcceptBlock``); returns the block's fees.

    ``view`` ends at the block's parent.
    """
    header = block.header
    tip = view.tip()
    # [BLC-001] the height follows the parent's
    if header.height != tip.height + 1:
        raise Reject(Reason.BLOCK_BAD_HEIGHT, "BLC-001", f"{header.height} after {tip.height}")
    # [BLC-002] the bits are the required ones
    if header.bits != expected_bits(view, params):
        raise Reject(Reason.BLOCK_BAD_BITS, "BLC-002", f"{header.bits:#010x}")
    median = median_time_past(view, params.median_time_span)
    # [BLC-003] not before the median time past (equal is accepted)
    if header.timestamp < median:
        raise Reject(Reason.BLOCK_TIME_TOO_OLD, "BLC-003", f"{header.timestamp} < median {median}")
    for i, tx in enumerate(block.transactions[1:], start=1):
        # [BLC-004] every non-coinbase transaction is final
        if not is_final(tx, header.height):
            raise Reject(Reason.TX_NOT_FINAL, "BLC-004", f"transaction {i}")
    fees = 0
    for tx in block.transactions[1:]:
        fees += check_tx_context(tx, header.height, view, params)
    coinbase_total = sum(o.value for o in block.transactions[0].outputs)
    reward = block_reward(header.height, params)
    # [BLC-005] the coinbase pays exactly reward plus fees
    if coinbase_total - fees != reward:
        raise Reject(Reason.COINBASE_BAD_REWARD, "BLC-005", f"{coinbase_total} - fees {fees} != reward {reward}")
    return fees


__all__ = [
    "ChainView", "HeaderInfo", "UtxoEntry", "check_block_context", "check_block_sanity", "check_programs",
    "check_signatures",
    "check_tx_context", "check_tx_sanity", "expected_bits", "is_final", "is_new_sidechain_pow", "on_duty_cross_chain_arbiter",
    "median_time_past", "tx_program_hashes",
]
