"""Transactions of the ID sidechain.

A sidechain transaction has the layout the main chain writes below ``TxVersion09`` and **no version
byte ever**: type, payload version, payload, attributes, inputs, outputs (asset id, value, output lock,
program hash), lock time, programs. Attributes, inputs, outputs and programs are the main chain's
(:mod:`spec.chain.tx`); the type table is the sidechain's.

Types (``Elastos.ELA.SideChain/types/transaction.go``, ``Elastos.ELA.SideChain.ID/types``)
------------------------------------------------------------------------------------------

========  ========================  ==========================================================
code      type                      payload
========  ========================  ==========================================================
``0x00``  CoinBase                  varbytes content
``0x01``  RegisterAsset             as the main chain's
``0x02``  TransferAsset             empty
``0x03``  Record                    varstring type, varbytes content
``0x06``  RechargeToSideChain       v0: varbytes merkle proof, varbytes main-chain transaction;
                                    v1: the main-chain transaction's hash (32 bytes)
``0x08``  TransferCrossChainAsset   varuint n, n * (varstring address, varuint output index,
                                    i64 amount): a withdrawal to the main chain
``0x0A``  RegisterDID               an ID-chain request (:class:`RegisterDIDPayload`)
========  ========================  ==========================================================

``0x04`` Deploy, ``0x05`` SideChainPow, ``0x07`` WithdrawFromSideChain, ``0x09``
RegisterIdentification and ``0xF0`` Invoke exist in upstream's tables but not on the ID sidechain
(STX-002); any other code is unknown (STX-001).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, ClassVar, Final, Self, Union

from pydantic import Field

from spec.chain.tx import (
    MAX_PAYLOAD_DATA,
    CoinBasePayload,
    RecordPayload,
    RegisterAssetPayload,
    Transaction,
    TransferAssetPayload,
    TransferCrossChainAssetPayload,
)
from spec.did import jsontext
from spec.did import request as R
from spec.encoding.primitives import Reader, encode_varbytes, encode_varstring, read_varbytes, read_varstring
from spec.errors import DecodeError, Reason, rule
from spec.model import SpecModel

__all__ = ["SideTxType", "RechargeToSideChainPayload", "RegisterDIDPayload", "SideTransaction",
           "SIDE_PAYLOAD_TYPES", "NOT_ON_ID_SIDECHAIN"]


class SideTxType(IntEnum):
    COINBASE = 0x00
    REGISTER_ASSET = 0x01
    TRANSFER_ASSET = 0x02
    RECORD = 0x03
    RECHARGE_TO_SIDECHAIN = 0x06
    TRANSFER_CROSS_CHAIN_ASSET = 0x08
    REGISTER_DID = 0x0A


NOT_ON_ID_SIDECHAIN: Final = {0x04: "Deploy", 0x05: "SideChainPow", 0x07: "WithdrawFromSideChain",
                              0x09: "RegisterIdentification", 0xF0: "Invoke"}

R_TYPE = rule(
    "STX-001", Reason.TX_TYPE_UNKNOWN,
    "A sidechain transaction's type is a code of the ID sidechain's table.",
    suite="sidechain", upstream="GetPayloadByTxType: \"[Transaction], invalid transaction type.\"",
)
R_TYPE_ELSEWHERE = rule(
    "STX-002", Reason.TX_TYPE_FORBIDDEN,
    "Deploy, SideChainPow, WithdrawFromSideChain, RegisterIdentification and Invoke are not ID-sidechain "
    "transactions.",
    suite="sidechain", upstream="GetPayloadByTxType (the ID sidechain registers none of them)",
    note="Deviation: the old ID sidechain still decoded RegisterIdentification (0x09); DID requests replaced it.",
)
R_RECHARGE_VERSION = rule(
    "STX-003", Reason.PAYLOAD_VERSION_UNKNOWN,
    "A RechargeToSideChain payload has version 0 (merkle proof and transaction) or 1 (transaction hash).",
    suite="sidechain", upstream="PayloadRechargeToSideChain.Deserialize: \"invalid payload version\"",
)


R_UTF8 = rule(
    "STX-004", Reason.REQUEST_PAYLOAD,
    "The strings of a RegisterDID payload are UTF-8.",
    suite="sidechain", note="Deviation: Go strings hold any bytes; a request is JSON, which is UTF-8.",
)


class RechargeToSideChainPayload(SpecModel):
    """``PayloadRechargeToSideChain``: the deposit a sidechain credits."""

    merkle_proof: bytes = b""
    """v0: the SPV merkle proof of the main-chain transaction (``bloom.MerkleProof`` bytes)."""
    main_chain_transaction: bytes = b""
    """v0: the main-chain transaction, serialized."""
    main_chain_transaction_hash: Annotated[bytes, Field(max_length=32)] = b""
    """v1: the main-chain transaction's hash (the arbiters vouch for it)."""

    def serialize_for(self, version: int) -> bytes:
        if version == 1:
            return self.main_chain_transaction_hash
        return encode_varbytes(self.merkle_proof) + encode_varbytes(self.main_chain_transaction)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        if version == 1:
            return cls(main_chain_transaction_hash=r.read(32, "main-chain transaction hash"))
        return cls(merkle_proof=read_varbytes(r, MAX_PAYLOAD_DATA, "merkle proof"),
                   main_chain_transaction=read_varbytes(r, MAX_PAYLOAD_DATA, "main-chain transaction"))


class RegisterDIDPayload(SpecModel):
    """An ID-chain request as a sidechain payload.

    Layout: varstring specification, varstring operation, varstring previousTxid (update only),
    varstring ticket (transfer only), varstring payload, then the proof: varstring type, varstring
    verificationMethod, varstring signature. Strings are UTF-8.

    Deviation: upstream's old ID sidechain (``Operation.Serialize``) knows create, update and deactivate
    only and has no ticket; the ticket's place (after where previousTxid would be) is the spec's, so that
    a transfer and the credential operations travel in the same transaction type.
    """

    specification: str
    operation: str
    previous_txid: str | None = None
    ticket: str | None = None
    payload: str
    proof_type: str
    verification_method: str
    signature: str

    def serialize_for(self, version: int) -> bytes:
        def s(text: str) -> bytes:
            return encode_varstring(text.encode("utf-8"))
        out = s(self.specification) + s(self.operation)
        if self.operation == "update":
            out += s(self.previous_txid or "")
        if self.operation == "transfer":
            out += s(self.ticket or "")
        return out + s(self.payload) + s(self.proof_type) + s(self.verification_method) + s(self.signature)

    @classmethod
    def deserialize_for(cls, r: Reader, version: int) -> Self:
        def s(what: str) -> str:
            raw = read_varstring(r, MAX_PAYLOAD_DATA, what=what)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                # [STX-004] the strings of a request are UTF-8
                raise DecodeError(Reason.REQUEST_PAYLOAD, "STX-004", f"{what} is not UTF-8") from None
        spec, op = s("specification"), s("operation")
        prev = s("previousTxid") if op == "update" else None
        ticket = s("ticket") if op == "transfer" else None
        return cls(specification=spec, operation=op, previous_txid=prev, ticket=ticket, payload=s("payload"),
                   proof_type=s("proof type"), verification_method=s("verification method"), signature=s("signature"))

    def request_json(self) -> str:
        """The request as the ID chain's JSON text (:func:`spec.did.request.serialize`)."""
        header: dict[str, Any] = {"specification": self.specification, "operation": self.operation}
        if self.previous_txid is not None:
            header["previousTxid"] = self.previous_txid
        if self.ticket is not None:
            header["ticket"] = self.ticket
        return jsontext.serialize({"header": header, "payload": self.payload,
                                   "proof": {"type": self.proof_type, "verificationMethod": self.verification_method,
                                             "signature": self.signature}})

    @classmethod
    def from_request(cls, req: R.Request) -> Self:
        return cls(specification=req.specification, operation=req.operation, previous_txid=req.previous_txid,
                   ticket=req.ticket, payload=req.payload, proof_type=req.proof_type,
                   verification_method=req.verification_method, signature=req.signature)


SIDE_PAYLOAD_TYPES: Final[dict[SideTxType, Any]] = {
    SideTxType.COINBASE: CoinBasePayload,
    SideTxType.REGISTER_ASSET: RegisterAssetPayload,
    SideTxType.TRANSFER_ASSET: TransferAssetPayload,
    SideTxType.RECORD: RecordPayload,
    SideTxType.RECHARGE_TO_SIDECHAIN: RechargeToSideChainPayload,
    SideTxType.TRANSFER_CROSS_CHAIN_ASSET: TransferCrossChainAssetPayload,
    SideTxType.REGISTER_DID: RegisterDIDPayload,
}


SidePayload = Union[CoinBasePayload, RegisterAssetPayload, TransferAssetPayload, RecordPayload,
                    RechargeToSideChainPayload, TransferCrossChainAssetPayload, RegisterDIDPayload]


class SideTransaction(Transaction):
    """A transaction of the ID sidechain (no version byte; the sidechain's type table)."""

    VERSION_BYTE: ClassVar[bool] = False
    payload: SidePayload  # type: ignore[assignment]

    @classmethod
    def type_of(cls, code: int) -> int:
        # [STX-002] types of other chains are not ID-sidechain transactions
        if code in NOT_ON_ID_SIDECHAIN:
            raise DecodeError(Reason.TX_TYPE_FORBIDDEN, "STX-002", f"{NOT_ON_ID_SIDECHAIN[code]} ({code:#04x})")
        # [STX-001] the type is a code of the ID sidechain's table
        if code not in SideTxType._value2member_map_:
            raise DecodeError(Reason.TX_TYPE_UNKNOWN, "STX-001", f"type {code:#04x}")
        return SideTxType(code)

    @classmethod
    def payload_class(cls, tx_type: int) -> Any:
        return SIDE_PAYLOAD_TYPES[SideTxType(tx_type)]

    @classmethod
    def check_payload_version_of(cls, tx_type: int, version: int) -> None:
        # [STX-003] RechargeToSideChain payloads are version 0 or 1
        if tx_type == SideTxType.RECHARGE_TO_SIDECHAIN and version not in (0, 1):
            raise DecodeError(Reason.PAYLOAD_VERSION_UNKNOWN, "STX-003", f"RechargeToSideChain payload version {version}")

    @property
    def side_type(self) -> SideTxType:
        return SideTxType(self.tx_type)
