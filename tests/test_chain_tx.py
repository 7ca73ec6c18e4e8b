"""Main-chain transactions: codec round trips, malformed bytes, txids of upstream transactions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.chain import params as P
from spec.chain.tx import (
    LATER_PROFILE_OUTPUT_TYPES,
    LATER_PROFILE_TYPES,
    Attribute,
    AttributeUsage,
    CrossChainOutput,
    Input,
    OutPoint,
    Output,
    Program,
    ReturnDepositOutput,
    Transaction,
    TransferAssetPayload,
    TxType,
    VoteCandidate,
    VoteContent,
    VoteOutput,
    WithdrawOutput,
    decode_transaction,
)
from spec.crypto.hashes import sha256d
from spec.encoding.primitives import Reader
from spec.errors import DecodeError, Reason, Reject
from conformance.generators.chain import sample_transactions
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = sample_transactions()

b32 = st.binary(min_size=32, max_size=32)
b21 = st.binary(min_size=21, max_size=21)
i64 = st.integers(-(1 << 63), (1 << 63) - 1)
u32 = st.integers(0, 0xFFFF_FFFF)
small = st.binary(max_size=40)


@st.composite
def output_payloads(draw: st.DrawFn) -> tuple[int, object]:
    kind = draw(st.sampled_from([0, 1, 3, 4, 5]))
    if kind == 0:
        return 0, None
    if kind == 1:
        version = draw(st.integers(0, 2))
        contents = tuple(
            VoteContent(vote_type=draw(st.integers(0, 255)), candidates=tuple(
                VoteCandidate(candidate=draw(small), votes=draw(i64) if version >= 1 else None)
                for _ in range(draw(st.integers(0, 3)))))
            for _ in range(draw(st.integers(0, 2))))
        return 1, VoteOutput(version=version, contents=contents)
    if kind == 3:
        return 3, CrossChainOutput(version=draw(st.integers(0, 255)), target_address=draw(small),
                                   target_amount=draw(i64), target_data=draw(small))
    if kind == 4:
        return 4, WithdrawOutput(version=0, genesis_block_address=draw(small), sidechain_tx_hash=draw(b32),
                                 target_data=draw(small))
    return 5, ReturnDepositOutput(version=1, genesis_block_address=draw(small), deposit_tx_hash=draw(b32))


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    version = draw(st.sampled_from([0, 9, 10, 255]))
    outputs = []
    for _ in range(draw(st.integers(0, 4))):
        kind, payload = draw(output_payloads()) if version >= 9 else (0, None)
        outputs.append(Output(asset_id=draw(b32), value=draw(i64), output_lock=draw(u32), program_hash=draw(b21),
                              type=kind, payload=payload))
    return Transaction(
        version=version, tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
        attributes=tuple(Attribute(usage=draw(st.sampled_from(list(AttributeUsage))), data=draw(small))
                         for _ in range(draw(st.integers(0, 3)))),
        inputs=tuple(Input(previous=OutPoint(txid=draw(b32), index=draw(st.integers(0, 0xFFFF))), sequence=draw(u32))
                     for _ in range(draw(st.integers(0, 3)))),
        outputs=tuple(outputs), lock_time=draw(u32),
        programs=tuple(Program(parameter=draw(small), code=draw(small)) for _ in range(draw(st.integers(0, 2)))),
    )


@pytest.mark.parametrize("name,tx,desc", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_every_sample_round_trips(name, tx, desc):
    raw = tx.serialize()
    back = decode_transaction(raw)
    assert back == tx and back.serialize() == raw
    assert back.txid() == sha256d(tx.serialize_unsigned())


@FAST
@given(transactions())
def test_decode_encode_round_trip(tx):
    raw = tx.serialize()
    assert decode_transaction(raw) == tx
    assert tx.txid() == sha256d(raw[: len(tx.serialize_unsigned())])


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_decode_error(raw):
    try:
        decode_transaction(raw)
    except DecodeError:
        pass


@FAST
@given(st.sampled_from([s[1] for s in SAMPLES]), st.integers(0, 10_000), st.integers(0, 255))
def test_mutated_bytes_raise_only_decode_error(tx, pos, byte):
    raw = bytearray(tx.serialize())
    raw[pos % len(raw)] = byte
    try:
        back = decode_transaction(bytes(raw))
    except DecodeError:
        return
    assert back.serialize() == bytes(raw)


@FAST
@given(st.sampled_from([s[1] for s in SAMPLES]), st.integers(0, 10_000))
def test_truncations_are_truncated(tx, cut):
    raw = tx.serialize()
    cut %= len(raw)
    with pytest.raises(DecodeError) as info:
        decode_transaction(raw[:cut])
    assert info.value.reason in (Reason.TRUNCATED, Reason.LENGTH_EXCEEDS_MAX)


def test_type_codes():
    tx = SAMPLES[2][1]  # version 0 transfer: first byte is the type
    raw = bytearray(tx.serialize())
    for code in (0x04, 0x06):
        raw[0] = code
        expect_reject(decode_transaction, bytes(raw), reason=Reason.TX_TYPE_FORBIDDEN, rule="TXE-003", decode=True)
    raw9 = bytearray(SAMPLES[3][1].serialize())
    raw9[1] = 0x30  # a first byte >= 0x09 is the version; the type follows
    expect_reject(decode_transaction, bytes(raw9), reason=Reason.TX_TYPE_UNKNOWN, rule="TXE-002", decode=True)
    for code in LATER_PROFILE_TYPES:
        if code < 9:
            continue
        raw9 = bytearray(SAMPLES[3][1].serialize())
        raw9[1] = code
        expect_reject(decode_transaction, bytes(raw9), reason=Reason.TX_TYPE_NOT_IN_PROFILE, rule="TXE-004", decode=True)


def test_version_1_to_8_cannot_be_built():
    tx = SAMPLES[2][1]
    for v in range(1, 9):
        expect_reject(tx.model_copy(update={"version": v}).serialize, reason=Reason.TX_VERSION_INVALID, rule="TXE-001")


def test_later_profile_output_types_refused():
    tx = SAMPLES[3][1]
    for code in LATER_PROFILE_OUTPUT_TYPES:
        bad = tx.model_copy(update={"outputs": (tx.outputs[0].model_copy(update={"type": code}),)})
        expect_reject(bad.serialize, reason=Reason.OUTPUT_TYPE_NOT_IN_PROFILE, rule="TXE-008", decode=True)


def test_attribute_usage_refused():
    expect_reject(Attribute(usage=0x01, data=b"").serialize, reason=Reason.ATTRIBUTE_USAGE_UNKNOWN, rule="TXE-006",
                  decode=True)


def test_ela_asset_id(ela_facts):
    assert P.ELA_ASSET_ID.hex() == ela_facts["ela_asset_id"]["value"]["stored_hex"]
    f = ela_facts["genesis_register_asset_unsigned"]["value"]
    assert P.ELA_ASSET_TX.serialize_unsigned().hex() == f["hex"]


def test_upstream_transactions_decode(ela_transactions):
    for item in ela_transactions.values():
        raw = bytes.fromhex(item["raw_hex"])
        tx, unsigned = Transaction.deserialize_with_unsigned(Reader(raw))
        assert tx.txid().hex() == item["txid_stored"]
        assert len(unsigned) == item["unsigned_size"] and tx.size() == item["raw_size"]
        assert tx.serialize() == raw
        d = item["decoded"]
        assert (tx.version, tx.tx_type, tx.payload_version) == (d["tx_version"], d["tx_type"], d["payload_version"])
        assert [o.program_hash.hex() for o in tx.outputs] == [o["program_hash"] for o in d["outputs"]]


def test_reject_is_the_only_exception_of_serialize():
    with pytest.raises(Reject):
        SAMPLES[2][1].model_copy(update={"tx_type": 0x04}).serialize()


def test_upstream_output_txversion09_vote_round_trips(ela_facts):
    """F14 (``output_test.go`` OUTPUTHEX): a TxVersion09 output with an OTVote v0 payload."""
    from spec.chain.tx import Output, OutputType, VoteOutput
    from spec.encoding.address import address_from_program_hash
    from spec.encoding.hashes import Uint168
    from spec.encoding.primitives import Reader

    fact = ela_facts["output_serialization_txversion09_vote"]["value"]
    raw = bytes.fromhex(fact["hex"])
    r = Reader(raw)
    out = Output.deserialize_for(r, 0x09)
    r.finish("output")
    assert out.value == fact["value_sela"] and out.output_lock == fact["output_lock"]
    assert out.type == OutputType.VOTE == fact["type"]
    assert address_from_program_hash(Uint168(data=out.program_hash)) == fact["recipient"]
    assert isinstance(out.payload, VoteOutput) and out.payload.version == fact["payload_version"]
    (content,) = out.payload.contents
    assert content.vote_type == 0 and [c.candidate.hex() for c in content.candidates] == [fact["candidate_hex"]]
    assert out.serialize_for(0x09) == raw
    # A version-0 transaction writes neither the type nor the payload: only the first 65 bytes.
    assert out.serialize_for(0) == raw[:32 + 8 + 4 + 21]


def test_did_sidechain_address_constant():
    from spec.chain.params import DID_SIDECHAIN_ADDRESS
    from spec.encoding.address import program_hash_from_address

    assert program_hash_from_address("XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ").data == DID_SIDECHAIN_ADDRESS
