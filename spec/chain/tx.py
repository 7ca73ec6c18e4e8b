"""Transactions of the ELA main chain in its proof-of-work profile: layout, payloads, txid.

Upstream: ``Elastos.ELA/core/transaction/transaction.go`` (``SerializeUnsigned``, ``Deserialize``),
``core/transaction/common.go`` (``GetTransactionByBytes``), ``core/types/common/*.go`` (attributes,
inputs, outputs), ``core/types/outputpayload/*.go``, ``core/types/payload/*.go``,
``core/contract/program/program.go``.

Layout
------

.. code-block:: text

    [version u8]       present iff version >= 0x09; a first byte < 0x09 is the type and version is 0
    type u8
    payload_version u8
    payload            type- and version-specific (table below)
    varuint n, n * attribute      usage u8, varbytes data (<= 16 MiB)
    varuint n, n * input          txid(32), index u16, sequence u32
    varuint n, n * output         asset_id(32), value i64, output_lock u32, program_hash(21)
                                  [type u8, output payload   iff version >= 0x09]
    lock_time u32
    ---- end of the unsigned part: txid = sha256d(unsigned part) ----
    varuint n, n * program        varbytes parameter (<= 20000), varbytes code (<= 10000)

Transaction types of the profile
--------------------------------

========  ===========================  ================  =========================================
code      name                         payload versions  payload
========  ===========================  ================  =========================================
``0x00``  CoinBase                     any               varbytes content (<= 1 MiB)
``0x01``  RegisterAsset                any               asset, amount i64, controller Uint168
``0x02``  TransferAsset                any               empty
``0x03``  Record                       any               varstring type, varbytes content (<= 1 MiB)
``0x05``  SideChainPow                 any               side block hash, side genesis hash, height
                                                         u32, varbytes signature (<= 1 MiB)
``0x07``  WithdrawFromSideChain        0, 1              v0: height u32, varstring genesis
                                                         address, varuint n, n * Uint256; v1: empty
``0x08``  TransferCrossChainAsset      0, 1              v0: varuint n, n * (varstring address,
                                                         varuint output index, i64 amount); v1: empty
========  ===========================  ================  =========================================

``0x04`` Deploy and ``0x06`` RechargeToSideChain are refused on the main chain; the other codes of
upstream's table (producers, CR, DPoS evidence, votes, NFTs) belong to later profiles and are
refused by this one with their own reason; any other code is unknown.

Output types (only when the transaction version is >= 0x09)
-----------------------------------------------------------

====  =============================  ==============================================================
code  name                           payload
====  =============================  ==============================================================
0     OTNone                         empty
1     OTVote                         version u8, varuint n, n * (vote type u8, varuint m, m *
                                     (varbytes candidate (<= 34003) [, votes i64 iff version >= 1]))
3     OTCrossChain                   version u8, varstring target address, target amount i64,
                                     varbytes target data (<= 1024)
4     OTWithdrawFromSideChain        version u8, varstring genesis address, side tx hash Uint256,
                                     varbytes target data (<= 1024)
5     OTReturnSideChainDepositCoin   version u8, varstring genesis address, deposit tx hash Uint256
====  =============================  ==============================================================

Types 2 (OTMapping), 6 (OTDposV2Vote) and 7 (OTStake) belong to later profiles.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar, Annotated, Any, Final, Self, Union

from pydantic import Field, PrivateAttr

from spec.crypto.hashes import sha256d
from spec.encoding.hashes import Uint168
from spec.encoding.primitives import (
    Reader,
    encode_int,
    encode_varbytes,
    encode_varuint,
    read_i64,
    read_u8,
    read_u16,
    read_u32,
    read_varbytes,
    read_varstring,
    read_varuint,
    MAX_VAR_STRING_LENGTH,
)
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

# -- constants ------------------------------------------------------------------------------------

TX_VERSION_DEFAULT: Final = 0x00
TX_VERSION_09: Final = 0x09
"""``TxVersion09``: the first version that is written as a byte of its own and carries output types."""

MAX_ATTRIBUTE_DATA: Final = MAX_VAR_STRING_LENGTH
MAX_PAYLOAD_DATA: Final = 1024 * 1024
"""``payload.MaxPayloadDataSize``: coinbase content, record content, SideChainPow signature."""
MAX_PROGRAM_CODE: Final = 10_000
"""``program.MaxProgramCodeSize``."""
MAX_PROGRAM_PARAMETER: Final = 2 * MAX_PROGRAM_CODE
"""``program.MaxProgramParamSize``."""
MAX_TARGET_DATA: Final = 1024
"""``outputpayload.MaxTargetDataSize``."""
MAX_VOTE_CANDIDATE: Final = 34_003
"""``crypto.MaxMultiSignCodeLength``: the largest candidate of a vote output."""
MAX_ASSET_PRECISION: Final = 8
COINBASE_PAYLOAD_VERSION: Final = 0x04
"""``payload.CoinBaseVersion``: what the miner template writes (not checked)."""


class TxType(IntEnum):
    """Transaction type codes of upstream's table that this profile decodes."""

    COINBASE = 0x00
    REGISTER_ASSET = 0x01
    TRANSFER_ASSET = 0x02
    RECORD = 0x03
    SIDECHAIN_POW = 0x05
    WITHDRAW_FROM_SIDECHAIN = 0x07
    TRANSFER_CROSS_CHAIN_ASSET = 0x08


FORBIDDEN_ON_MAIN_CHAIN: Final = {0x04: "Deploy", 0x06: "RechargeToSideChain"}
"""Codes ``GetTransaction`` refuses on the main chain ("invalid transaction type")."""

LATER_PROFILE_TYPES: Final = {
    0x09: "RegisterProducer", 0x0A: "CancelProducer", 0x0B: "UpdateProducer", 0x0C: "ReturnDepositCoin",
    0x0D: "ActivateProducer", 0x0E: "IllegalProposalEvidence", 0x0F: "IllegalVoteEvidence",
    0x10: "IllegalBlockEvidence", 0x11: "IllegalSidechainEvidence", 0x12: "InactiveArbitrators",
    0x13: "UpdateVersion", 0x14: "NextTurnDPOSInfo", 0x15: "ProposalResult", 0x21: "RegisterCR",
    0x22: "UnregisterCR", 0x23: "UpdateCR", 0x24: "ReturnCRDepositCoin", 0x25: "CRCProposal",
    0x26: "CRCProposalReview", 0x27: "CRCProposalTracking", 0x28: "CRCAppropriation",
    0x29: "CRCProposalWithdraw", 0x2A: "CRCProposalRealWithdraw", 0x2B: "CRAssetsRectify",
    0x31: "CRCouncilMemberClaimNode", 0x41: "RevertToPOW", 0x42: "RevertToDPOS",
    0x51: "ReturnSideChainDepositCoin", 0x60: "DposV2ClaimReward", 0x61: "DposV2ClaimRewardRealWithdraw",
    0x62: "ExchangeVotes", 0x63: "Voting", 0x64: "ReturnVotes", 0x65: "VotesRealWithdraw",
    0x66: "RecordSponsor", 0x71: "CreateNFT", 0x72: "NFTDestroyFromSideChain",
}
"""Upstream codes that belong to the DPoS, CR and later profiles."""

TX_TYPE_NAMES: Final = {
    **{t.value: n for t, n in zip(TxType, (
        "CoinBase", "RegisterAsset", "TransferAsset", "Record", "SideChainPow",
        "WithdrawFromSideChain", "TransferCrossChainAsset"))},
}


class AttributeUsage(IntEnum):
    """``common.AttributeUsage``: every usage code the main chain accepts."""

    NONCE = 0x00
    SCRIPT = 0x20
    MEMO = 0x81
    DESCRIPTION = 0x90
    DESCRIPTION_URL = 0x91
    CONFIRMATIONS = 0x92


class OutputType(IntEnum):
    """Output types of the profile (only in version >= 0x09 transactions)."""

    NONE = 0
    VOTE = 1
    CROSS_CHAIN = 3
    WITHDRAW_FROM_SIDECHAIN = 4
    RETURN_SIDECHAIN_DEPOSIT_COIN = 5


LATER_PROFILE_OUTPUT_TYPES: Final = {2: "OTMapping", 6: "OTDposV2Vote", 7: "OTStake"}

# -- rules ------------------------------------------------------------------------------------------

R_TX_VERSION = rule(
    "TXE-001", Reason.TX_VERSION_INVALID,
    "A transaction's version is 0 or at least 0x09: versions 1 to 8 have no wire form.",
    suite="chain",
    note="Quirk: upstream writes no version byte below 0x09, so a version 1..8 transaction would read back "
    "as version 0 with another txid; the spec refuses to build one.",
)
R_TX_TYPE_UNKNOWN = rule(
    "TXE-002", Reason.TX_TYPE_UNKNOWN,
    "A transaction's type is a code of upstream's type table.",
    suite="chain", upstream="GetTransaction: \"invalid transaction type\"",
)
R_TX_TYPE_FORBIDDEN = rule(
    "TXE-003", Reason.TX_TYPE_FORBIDDEN,
    "Deploy (0x04) and RechargeToSideChain (0x06) transactions do not exist on the main chain.",
    suite="chain", upstream="GetTransaction: \"invalid transaction type\"",
)
R_TX_TYPE_PROFILE = rule(
    "TXE-004", Reason.TX_TYPE_NOT_IN_PROFILE,
    "A transaction's type belongs to the proof-of-work profile (CoinBase, RegisterAsset, TransferAsset, "
    "Record, SideChainPow, WithdrawFromSideChain, TransferCrossChainAsset).",
    suite="chain",
    note="Deviation: upstream decodes the DPoS, CR and later types too; they are specified by later profiles.",
)
R_PAYLOAD_VERSION = rule(
    "TXE-005", Reason.PAYLOAD_VERSION_UNKNOWN,
    "WithdrawFromSideChain has payload version 0 or 1; TransferCrossChainAsset payload version 0 or 1.",
    suite="chain",
    note="Deviation: upstream reads an empty payload for any other version (and the Schnorr version 2 of "
    "WithdrawFromSideChain belongs to a later profile).",
)
R_ATTR_USAGE = rule(
    "TXE-006", Reason.ATTRIBUTE_USAGE_UNKNOWN,
    "An attribute's usage is Nonce 0x00, Script 0x20, Memo 0x81, Description 0x90, DescriptionUrl 0x91 "
    "or Confirmations 0x92.",
    suite="chain", upstream="Attribute.Deserialize: \"Unsupported attribute Description.\"",
)
R_OUTPUT_TYPE_UNKNOWN = rule(
    "TXE-007", Reason.OUTPUT_TYPE_UNKNOWN,
    "An output's type (version >= 0x09) is a code of upstream's output type table (0..7).",
    suite="chain", upstream="getOutputPayload: \"invalid output type\"",
)
R_OUTPUT_TYPE_PROFILE = rule(
    "TXE-008", Reason.OUTPUT_TYPE_NOT_IN_PROFILE,
    "An output's type belongs to the proof-of-work profile: OTNone, OTVote, OTCrossChain, "
    "OTWithdrawFromSideChain or OTReturnSideChainDepositCoin.",
    suite="chain",
    note="Deviation: OTMapping, OTDposV2Vote and OTStake are specified by later profiles.",
)

# -- attributes, inputs, outputs, programs ------------------------------------------------------------

Hash32 = Annotated[bytes, Field(min_length=32, max_length=32)]
U8 = Annotated[int, Field(ge=0, le=0xFF)]
U16 = Annotated[int, Field(ge=0, le=0xFFFF)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]
I64 = Annotated[int, Field(ge=-(1 << 63), le=(1 << 63) - 1)]


def _check_usage(usage: int) -> None:
    # [TXE-006] an attribute's usage is one of the six codes
    if usage not in AttributeUsage._value2member_map_:
        raise DecodeError(Reason.ATTRIBUTE_USAGE_UNKNOWN, "TXE-006", f"usage {usage:#04x}")


class Attribute(SpecModel):
    """A transaction attribute."""

    usage: U8
    """One of :class:`AttributeUsage`."""
    data: bytes
    """Arbitrary data (at most 16 MiB)."""

    def serialize(self) -> bytes:
        _check_usage(self.usage)
        return bytes((self.usage,)) + encode_varbytes(self.data)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        usage = read_u8(r, "attribute usage")
        _check_usage(usage)
        return cls(usage=usage, data=read_varbytes(r, MAX_ATTRIBUTE_DATA, "attribute data"))


class OutPoint(SpecModel):
    """A reference to an output: the transaction's id and the output's index."""

    txid: Hash32
    """The referenced transaction's id, stored order."""
    index: U16
    """The output's position (a u16 on the wire)."""


class Input(SpecModel):
    """A transaction input: 38 bytes."""

    previous: OutPoint
    """The output it spends."""
    sequence: U32
    """``0xFFFFFFFE`` unlocks a time-locked output; ``0xFFFF`` on every input makes a transaction final."""

    def serialize(self) -> bytes:
        return self.previous.txid + encode_int(self.previous.index, "u16") + encode_int(self.sequence, "u32")

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        txid = r.read(32, "input txid")
        index = read_u16(r, "input index")
        return cls(previous=OutPoint(txid=txid, index=index), sequence=read_u32(r, "input sequence"))


class VoteCandidate(SpecModel):
    """One candidate of a vote content."""

    candidate: bytes
    """The candidate's key or id (at most 34003 bytes)."""
    votes: I64 | None = None
    """Votes for this candidate; present iff the vote output's version >= 1."""


class VoteContent(SpecModel):
    """The votes of one type."""

    vote_type: U8
    candidates: tuple[VoteCandidate, ...]


class VoteOutput(SpecModel):
    """Payload of an ``OTVote`` output."""

    version: U8
    contents: tuple[VoteContent, ...]

    def serialize(self) -> bytes:
        out = bytes((self.version,)) + encode_varuint(len(self.contents))
        for c in self.contents:
            out += bytes((c.vote_type,)) + encode_varuint(len(c.candidates))
            for cand in c.candidates:
                out += encode_varbytes(cand.candidate)
                if self.version >= 1:
                    out += encode_int(cand.votes or 0, "i64")
        return out

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        version = read_u8(r, "vote version")
        contents = []
        for _ in range(read_varuint(r, "vote contents count")):
            vote_type = read_u8(r, "vote type")
            cands = []
            for _ in range(read_varuint(r, "candidates count")):
                cand = read_varbytes(r, MAX_VOTE_CANDIDATE, "candidate")
                votes = read_i64(r, "candidate votes") if version >= 1 else None
                cands.append(VoteCandidate(candidate=cand, votes=votes))
            contents.append(VoteContent(vote_type=vote_type, candidates=tuple(cands)))
        return cls(version=version, contents=tuple(contents))


class CrossChainOutput(SpecModel):
    """Payload of an ``OTCrossChain`` output: a deposit to a sidechain address."""

    version: U8
    target_address: bytes
    """The sidechain address, as text bytes (a VarString)."""
    target_amount: I64
    """The amount the sidechain credits, in sela."""
    target_data: bytes
    """At most 1024 bytes."""

    def serialize(self) -> bytes:
        return (bytes((self.version,)) + encode_varbytes(self.target_address)
                + encode_int(self.target_amount, "i64") + encode_varbytes(self.target_data))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(version=read_u8(r, "cross-chain version"), target_address=read_varstring(r, what="target address"),
                   target_amount=read_i64(r, "target amount"),
                   target_data=read_varbytes(r, MAX_TARGET_DATA, "target data"))


class WithdrawOutput(SpecModel):
    """Payload of an ``OTWithdrawFromSideChain`` output."""

    version: U8
    genesis_block_address: bytes
    sidechain_tx_hash: Hash32
    target_data: bytes

    def serialize(self) -> bytes:
        return (bytes((self.version,)) + encode_varbytes(self.genesis_block_address) + self.sidechain_tx_hash
                + encode_varbytes(self.target_data))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(version=read_u8(r, "withdraw version"),
                   genesis_block_address=read_varstring(r, what="genesis block address"),
                   sidechain_tx_hash=r.read(32, "sidechain tx hash"),
                   target_data=read_varbytes(r, MAX_TARGET_DATA, "target data"))


class ReturnDepositOutput(SpecModel):
    """Payload of an ``OTReturnSideChainDepositCoin`` output."""

    version: U8
    genesis_block_address: bytes
    deposit_tx_hash: Hash32

    def serialize(self) -> bytes:
        return bytes((self.version,)) + encode_varbytes(self.genesis_block_address) + self.deposit_tx_hash

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(version=read_u8(r, "return deposit version"),
                   genesis_block_address=read_varstring(r, what="genesis block address"),
                   deposit_tx_hash=r.read(32, "deposit tx hash"))


OutputPayload = Union[VoteOutput, CrossChainOutput, WithdrawOutput, ReturnDepositOutput, None]
OUTPUT_PAYLOAD_TYPES: Final = {
    OutputType.VOTE: VoteOutput,
    OutputType.CROSS_CHAIN: CrossChainOutput,
    OutputType.WITHDRAW_FROM_SIDECHAIN: WithdrawOutput,
    OutputType.RETURN_SIDECHAIN_DEPOSIT_COIN: ReturnDepositOutput,
}


def _check_output_type(code: int) -> None:
    if code in OutputType._value2member_map_:
        return
    # [TXE-008] the output type belongs to the proof-of-work profile
    if code in LATER_PROFILE_OUTPUT_TYPES:
        raise DecodeError(Reason.OUTPUT_TYPE_NOT_IN_PROFILE, "TXE-008",
                          f"{LATER_PROFILE_OUTPUT_TYPES[code]} ({code}) belongs to a later profile")
    # [TXE-007] the output type is a code of upstream's table
    raise DecodeError(Reason.OUTPUT_TYPE_UNKNOWN, "TXE-007", f"output type {code}")


class Output(SpecModel):
    """A transaction output."""

    asset_id: Hash32
    """The asset, stored order (the ELA asset ID on the main chain)."""
    value: I64
    """Amount in sela."""
    output_lock: U32
    """0, or the height before which the output cannot be spent."""
    program_hash: Annotated[bytes, Field(min_length=21, max_length=21)]
    """The 21-byte program hash of the owner."""
    type: U8 = 0
    """Output type (:class:`OutputType`); written only by version >= 0x09 transactions."""
    payload: OutputPayload = None
    """The output payload of ``type`` (``None`` for OTNone)."""

    def serialize_for(self, tx_version: int) -> bytes:
        out = (self.asset_id + encode_int(self.value, "i64") + encode_int(self.output_lock, "u32")
               + self.program_hash)
        if tx_version >= TX_VERSION_09:
            _check_output_type(self.type)
            out += bytes((self.type,)) + (self.payload.serialize() if self.payload is not None else b"")
        return out

    @classmethod
    def deserialize_for(cls, r: Reader, tx_version: int) -> Self:
        asset_id = r.read(32, "output asset id")
        value = read_i64(r, "output value")
        lock = read_u32(r, "output lock")
        ph = r.read(21, "output program hash")
        if tx_version < TX_VERSION_09:
            return cls(asset_id=asset_id, value=value, output_lock=lock, program_hash=ph)
        code = read_u8(r, "output type")
        _check_output_type(code)
        kind = OUTPUT_PAYLOAD_TYPES.get(OutputType(code))
        payload = kind.deserialize(r) if kind is not None else None
        return cls(asset_id=asset_id, value=value, output_lock=lock, program_hash=ph, type=code, payload=payload)

    @property
    def owner(self) -> Uint168:
        return Uint168(data=self.program_hash)


class Program(SpecModel):
    """A program: the signatures (parameter) and the redeem script (code), in that order on the wire."""

    parameter: bytes
    """Signature pushes (at most 20000 bytes)."""
    code: bytes
    """The redeem script (at most 10000 bytes)."""

    def serialize(self) -> bytes:
        return encode_varbytes(self.parameter) + encode_varbytes(self.code)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        parameter = read_varbytes(r, MAX_PROGRAM_PARAMETER, "program parameter")
        return cls(parameter=parameter, code=read_varbytes(r, MAX_PROGRAM_CODE, "program code"))


# -- payloads ---------------------------------------------------------------------------------------------


class CoinBasePayload(SpecModel):
    """``payload.CoinBase``."""

    content: bytes

    def serialize_for(self, version: int) -> bytes:
        return encode_varbytes(self.content)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        return cls(content=read_varbytes(r, MAX_PAYLOAD_DATA, "coinbase content"))


class Asset(SpecModel):
    """``payload.Asset``."""

    name: bytes
    description: bytes
    precision: U8
    asset_type: U8
    """0 Token, 1 Share."""
    record_type: U8
    """0 Unspent, 1 Balance."""


class RegisterAssetPayload(SpecModel):
    """``payload.RegisterAsset``."""

    asset: Asset
    amount: I64
    controller: Annotated[bytes, Field(min_length=21, max_length=21)]

    def serialize_for(self, version: int) -> bytes:
        a = self.asset
        return (encode_varbytes(a.name) + encode_varbytes(a.description)
                + bytes((a.precision, a.asset_type, a.record_type))
                + encode_int(self.amount, "i64") + self.controller)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        name = read_varstring(r, what="asset name")
        description = read_varstring(r, what="asset description")
        precision, asset_type, record_type = r.read(3, "asset precision, type, record type")
        asset = Asset(name=name, description=description, precision=precision, asset_type=asset_type,
                      record_type=record_type)
        return cls(asset=asset, amount=read_i64(r, "asset amount"), controller=r.read(21, "asset controller"))


class TransferAssetPayload(SpecModel):
    """``payload.TransferAsset``: empty."""

    def serialize_for(self, version: int) -> bytes:
        return b""

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        return cls()


class RecordPayload(SpecModel):
    """``payload.Record``."""

    type: bytes
    """The record type, as text bytes."""
    content: bytes

    def serialize_for(self, version: int) -> bytes:
        return encode_varbytes(self.type) + encode_varbytes(self.content)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        t = read_varstring(r, what="record type")
        return cls(type=t, content=read_varbytes(r, MAX_PAYLOAD_DATA, "record content"))


class SideChainPowPayload(SpecModel):
    """``payload.SideChainPow``: the on-duty arbiter signs the first 68 bytes."""

    side_block_hash: Hash32
    side_genesis_hash: Hash32
    block_height: U32
    signature: bytes

    def unsigned(self) -> bytes:
        """The 68 signed bytes."""
        return self.side_block_hash + self.side_genesis_hash + encode_int(self.block_height, "u32")

    def serialize_for(self, version: int) -> bytes:
        return self.unsigned() + encode_varbytes(self.signature)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        return cls(side_block_hash=r.read(32, "side block hash"), side_genesis_hash=r.read(32, "side genesis hash"),
                   block_height=read_u32(r, "block height"),
                   signature=read_varbytes(r, MAX_PAYLOAD_DATA, "sidechain pow signature"))


class WithdrawFromSideChainPayload(SpecModel):
    """``payload.WithdrawFromSideChain`` versions 0 and 1 (version 1 is empty)."""

    block_height: U32 = 0
    genesis_block_address: bytes = b""
    sidechain_tx_hashes: tuple[Hash32, ...] = ()

    def serialize_for(self, version: int) -> bytes:
        if version == 1:
            return b""
        out = encode_int(self.block_height, "u32") + encode_varbytes(self.genesis_block_address)
        return out + encode_varuint(len(self.sidechain_tx_hashes)) + b"".join(self.sidechain_tx_hashes)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        if version == 1:
            return cls()
        height = read_u32(r, "withdraw block height")
        address = read_varstring(r, what="genesis block address")
        hashes = tuple(r.read(32, "sidechain tx hash") for _ in range(read_varuint(r, "sidechain tx count")))
        return cls(block_height=height, genesis_block_address=address, sidechain_tx_hashes=hashes)


class CrossChainEntry(SpecModel):
    """One entry of a TransferCrossChainAsset v0 payload."""

    address: bytes
    """The sidechain address, as text bytes."""
    output_index: Annotated[int, Field(ge=0, le=(1 << 64) - 1)]
    amount: I64


class TransferCrossChainAssetPayload(SpecModel):
    """``payload.TransferCrossChainAsset`` versions 0 and 1 (version 1 is empty)."""

    entries: tuple[CrossChainEntry, ...] = ()

    def serialize_for(self, version: int) -> bytes:
        if version == 1:
            return b""
        out = encode_varuint(len(self.entries))
        for e in self.entries:
            out += encode_varbytes(e.address) + encode_varuint(e.output_index) + encode_int(e.amount, "i64")
        return out

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        if version == 1:
            return cls()
        entries = []
        for _ in range(read_varuint(r, "cross-chain entry count")):
            address = read_varstring(r, what="cross-chain address")
            index = read_varuint(r, "cross-chain output index")
            entries.append(CrossChainEntry(address=address, output_index=index, amount=read_i64(r, "cross-chain amount")))
        return cls(entries=tuple(entries))


Payload = Union[
    CoinBasePayload, RegisterAssetPayload, TransferAssetPayload, RecordPayload, SideChainPowPayload,
    WithdrawFromSideChainPayload, TransferCrossChainAssetPayload,
]
PAYLOAD_TYPES: Final[dict[TxType, Any]] = {
    TxType.COINBASE: CoinBasePayload,
    TxType.REGISTER_ASSET: RegisterAssetPayload,
    TxType.TRANSFER_ASSET: TransferAssetPayload,
    TxType.RECORD: RecordPayload,
    TxType.SIDECHAIN_POW: SideChainPowPayload,
    TxType.WITHDRAW_FROM_SIDECHAIN: WithdrawFromSideChainPayload,
    TxType.TRANSFER_CROSS_CHAIN_ASSET: TransferCrossChainAssetPayload,
}
VERSIONED_PAYLOADS: Final = {TxType.WITHDRAW_FROM_SIDECHAIN: (0, 1), TxType.TRANSFER_CROSS_CHAIN_ASSET: (0, 1)}


def check_tx_type(code: int) -> TxType:
    """The :class:`TxType` of a code, or the reason it is refused."""
    # [TXE-003] Deploy and RechargeToSideChain do not exist on the main chain
    if code in FORBIDDEN_ON_MAIN_CHAIN:
        raise DecodeError(Reason.TX_TYPE_FORBIDDEN, "TXE-003", f"{FORBIDDEN_ON_MAIN_CHAIN[code]} ({code:#04x})")
    # [TXE-004] the type belongs to the proof-of-work profile
    if code in LATER_PROFILE_TYPES:
        raise DecodeError(Reason.TX_TYPE_NOT_IN_PROFILE, "TXE-004", f"{LATER_PROFILE_TYPES[code]} ({code:#04x})")
    # [TXE-002] the type is a code of upstream's table
    if code not in TxType._value2member_map_:
        raise DecodeError(Reason.TX_TYPE_UNKNOWN, "TXE-002", f"type {code:#04x}")
    return TxType(code)


def check_payload_version(tx_type: TxType, version: int) -> None:
    allowed = VERSIONED_PAYLOADS.get(tx_type)
    # [TXE-005] versioned payloads have a known version
    if allowed is not None and version not in allowed:
        raise DecodeError(Reason.PAYLOAD_VERSION_UNKNOWN, "TXE-005",
                          f"{TX_TYPE_NAMES[tx_type]} payload version {version}")


# -- the transaction --------------------------------------------------------------------------------------


class Transaction(SpecModel):
    """A main-chain transaction of the proof-of-work profile."""

    version: U8 = TX_VERSION_DEFAULT
    """0, or >= 0x09 (written as a byte of its own)."""
    tx_type: U8
    """The type code (:class:`TxType`)."""
    payload_version: U8 = 0
    payload: Payload
    """The payload model of ``tx_type``."""
    attributes: tuple[Attribute, ...] = ()
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    lock_time: U32 = 0
    programs: tuple[Program, ...] = ()

    _unsigned: bytes | None = PrivateAttr(default=None)
    """Memo of :meth:`serialize_unsigned` (the model is frozen, so the bytes cannot go stale)."""
    _serialized: bytes | None = PrivateAttr(default=None)
    """Memo of :meth:`serialize`, likewise (computed by :meth:`serialize` only, never taken from the wire)."""

    def model_copy(self, *, update: dict[str, object] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied; the memos of the bytes are not carried over."""
        copy = super().model_copy(update=update, deep=deep)
        copy._unsigned = None
        copy._serialized = None
        return copy

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal (the memo is not part of the value)."""
        if not isinstance(other, Transaction):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = SpecModel.__hash__

    # -- the type table: a sidechain's transaction class overrides these four ---------------------------

    VERSION_BYTE: ClassVar[bool] = True
    """Whether a first byte >= 0x09 is a version (the main chain's TxVersion09); sidechains have none."""

    @classmethod
    def type_of(cls, code: int) -> int:
        """The type of ``code``, or the reason it is refused (:func:`check_tx_type`)."""
        return check_tx_type(code)

    @classmethod
    def payload_class(cls, tx_type: int) -> Any:
        return PAYLOAD_TYPES[TxType(tx_type)]

    @classmethod
    def check_payload_version_of(cls, tx_type: int, version: int) -> None:
        check_payload_version(TxType(tx_type), version)

    def _check(self) -> int:
        # [TXE-001] the version is 0 or at least 0x09
        if 0 < self.version < TX_VERSION_09 or (self.version and not self.VERSION_BYTE):
            raise Reject(Reason.TX_VERSION_INVALID, "TXE-001", f"version {self.version}")
        t = self.type_of(self.tx_type)
        self.check_payload_version_of(t, self.payload_version)
        if not isinstance(self.payload, self.payload_class(t)):
            raise Reject(Reason.MALFORMED_INPUT, None, f"payload {type(self.payload).__name__} for type {t:#04x}")
        return t

    def serialize_unsigned(self) -> bytes:
        """The bytes the txid hashes and the programs sign."""
        memo = self.__pydantic_private__["_unsigned"]  # direct: attribute access to a private is slow
        if memo is not None:
            return memo
        self._check()
        out = bytes((self.version,)) if self.version >= TX_VERSION_09 else b""
        out += bytes((self.tx_type, self.payload_version)) + self.payload.serialize_for(self.payload_version)
        out += encode_varuint(len(self.attributes)) + b"".join(a.serialize() for a in self.attributes)
        out += encode_varuint(len(self.inputs)) + b"".join(i.serialize() for i in self.inputs)
        out += encode_varuint(len(self.outputs)) + b"".join(o.serialize_for(self.version) for o in self.outputs)
        memo = out + encode_int(self.lock_time, "u32")
        self.__pydantic_private__["_unsigned"] = memo
        return memo

    def serialize(self) -> bytes:
        memo = self.__pydantic_private__["_serialized"]
        if memo is None:
            memo = (self.serialize_unsigned() + encode_varuint(len(self.programs))
                    + b"".join(p.serialize() for p in self.programs))
            self.__pydantic_private__["_serialized"] = memo
        return memo

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        tx, _ = cls.deserialize_with_unsigned(r)
        return tx

    @classmethod
    def deserialize_with_unsigned(cls, r: Reader) -> tuple[Self, bytes]:
        """Read a transaction; also return its unsigned bytes exactly as they were on the wire."""
        start = r.position
        first = read_u8(r, "transaction version or type")
        if first >= TX_VERSION_09 and cls.VERSION_BYTE:
            version, code = first, read_u8(r, "transaction type")
        else:
            version, code = TX_VERSION_DEFAULT, first
        t = cls.type_of(code)
        payload_version = read_u8(r, "payload version")
        cls.check_payload_version_of(t, payload_version)
        payload = cls.payload_class(t).deserialize_for(r, payload_version)
        attributes = tuple(Attribute.deserialize(r) for _ in range(read_varuint(r, "attribute count")))
        inputs = tuple(Input.deserialize(r) for _ in range(read_varuint(r, "input count")))
        outputs = tuple(Output.deserialize_for(r, version) for _ in range(read_varuint(r, "output count")))
        lock_time = read_u32(r, "lock time")
        unsigned = r.since(start)
        programs = tuple(Program.deserialize(r) for _ in range(read_varuint(r, "program count")))
        tx = cls(version=version, tx_type=code, payload_version=payload_version, payload=payload,
                 attributes=attributes, inputs=inputs, outputs=outputs, lock_time=lock_time, programs=programs)
        tx._unsigned = unsigned
        return tx, unsigned

    def txid(self) -> bytes:
        """``sha256d`` of the unsigned bytes, stored order."""
        return sha256d(self.serialize_unsigned())

    def size(self) -> int:
        """The full serialized size, programs included (``GetSize``)."""
        return len(self.serialize())

    @property
    def type(self) -> TxType:
        return TxType(self.tx_type)

    def is_coinbase(self) -> bool:
        return self.tx_type == TxType.COINBASE


def decode_transaction(data: bytes) -> Transaction:
    """A complete transaction (no trailing bytes)."""
    return Transaction.decode(data)


__all__ = [
    "Attribute", "AttributeUsage", "CoinBasePayload", "CrossChainEntry", "CrossChainOutput", "Input", "OutPoint",
    "Output", "OutputType", "Program", "RecordPayload", "RegisterAssetPayload", "Asset", "ReturnDepositOutput",
    "SideChainPowPayload", "Transaction", "TransferAssetPayload", "TransferCrossChainAssetPayload", "TxType",
    "VoteOutput", "VoteContent", "VoteCandidate", "WithdrawFromSideChainPayload", "WithdrawOutput",
    "decode_transaction",
]
