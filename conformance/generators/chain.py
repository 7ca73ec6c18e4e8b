"""Generators of the ``chain`` suite for transactions, blocks, genesis, validation, state and fork choice.

Keys and bytes derive from case labels (:func:`det_bytes`); signatures use RFC 6979 nonces; blocks
that must be mined are on the ``instant`` network (about two parent nonces each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from spec.chain import builder as B
from spec.chain import params as P
from spec.chain.auxpow import make_auxpow
from spec.chain.block import Block
from spec.chain.tx import (
    Asset,
    Attribute,
    AttributeUsage,
    CrossChainEntry,
    CrossChainOutput,
    Input,
    OutPoint,
    Output,
    Program,
    RecordPayload,
    RegisterAssetPayload,
    ReturnDepositOutput,
    SideChainPowPayload,
    Transaction,
    TransferAssetPayload,
    TransferCrossChainAssetPayload,
    TxType,
    VoteCandidate,
    VoteContent,
    VoteOutput,
    WithdrawFromSideChainPayload,
    WithdrawOutput,
)
from spec.crypto.p256 import ecdsa_sign, public_key_from_private
from spec.crypto.scripts import PUSH_SIGNATURE, multisig_redeem_script, standard_redeem_script
from spec.encoding.hashes import Uint168
from spec.encoding.primitives import encode_varuint
from spec.errors import Reason

from conformance.generators.common import det_bytes, fact, interop, provenance
from conformance.vectors import CaseSpec, generator

OK = "ok"
NET = P.INSTANT
ELA = P.ELA_ASSET_ID
T0 = P.GENESIS_TIMESTAMP
NOW = T0 + 100_000
"""The adjusted time of every state and fork-choice case."""
TXE_ALL = tuple(f"TXE-{i:03d}" for i in range(1, 9))


def key(label: str) -> bytes:
    return det_bytes(f"chain/key/{label}", 32)


def pub(label: str) -> bytes:
    return public_key_from_private(key(label))


def ph(label: str, prefix: int = 0x21) -> bytes:
    return Uint168.from_code(prefix, standard_redeem_script(pub(label))).data


def h32(label: str) -> bytes:
    return det_bytes(f"chain/h/{label}", 32)


def out(owner: bytes, value: int, **kw: Any) -> Output:
    return Output(asset_id=ELA, value=value, output_lock=0, program_hash=owner, **kw)


def spend(label: str, n_in: int = 1, outputs: Sequence[Output] | None = None, version: int = 0x09,
          **kw: Any) -> Transaction:
    """An unsigned TransferAsset spending ``n_in`` outputs of ``label``'s utxos."""
    return Transaction(
        version=version, tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
        inputs=tuple(Input(previous=OutPoint(txid=h32(f"{label}/src"), index=i), sequence=0xFFFF_FFFF)
                     for i in range(n_in)),
        outputs=tuple(outputs if outputs is not None else (out(ph("bob"), 9 * P.SELA_PER_ELA),)), **kw)


def signed(tx: Transaction, *keys: str) -> Transaction:
    return B.sign_standard(tx, [key(k) for k in keys])


def hx(v: Transaction | Block) -> str:
    return v.serialize().hex()


# == transaction codec ============================================================================


def sample_transactions() -> list[tuple[str, Transaction, str]]:
    """One transaction of every type and payload version, and every output type."""
    a, b = ph("alice"), ph("bob")
    base = spend("codec")
    vote0 = VoteOutput(version=0, contents=(VoteContent(vote_type=0, candidates=(
        VoteCandidate(candidate=pub("p1")), VoteCandidate(candidate=pub("p2")))),))
    vote1 = VoteOutput(version=1, contents=(VoteContent(vote_type=1, candidates=(
        VoteCandidate(candidate=b"did-candidate", votes=12345),)),))
    outputs_v9 = (
        out(a, 1), out(b, 2, type=1, payload=vote0), out(b, 3, type=1, payload=vote1),
        out(b, 4, type=3, payload=CrossChainOutput(version=0, target_address=b"EXzmf...side", target_amount=3,
                                                   target_data=b"\x01\x02")),
        out(b, 5, type=4, payload=WithdrawOutput(version=0, genesis_block_address=b"XQd1DCi6H62NQdWZQhJCRnrPn7sF9CTjaU",
                                                 sidechain_tx_hash=h32("side"), target_data=b"")),
        out(b, 6, type=5, payload=ReturnDepositOutput(version=0, genesis_block_address=b"XQd1DCi6H62NQdWZQhJCRnrPn7sF9CTjaU",
                                                      deposit_tx_hash=h32("dep"))),
    )
    txs = [
        ("coinbase", B.coinbase(5, NET, a), "the miner template's coinbase (payload version 4)"),
        ("register_asset", P.ELA_ASSET_TX, "the genesis RegisterAsset: its txid is the ELA asset ID"),
        ("transfer_v0", signed(spend("codec", version=0), "alice"), "version 0: no version byte, no output types"),
        ("transfer_v9_output_types", signed(base.model_copy(update={"outputs": outputs_v9}), "alice"),
         "version 0x09 with outputs of every type of the profile (OTNone, OTVote v0 and v1, OTCrossChain, "
         "OTWithdrawFromSideChain, OTReturnSideChainDepositCoin)"),
        ("record", Transaction(tx_type=TxType.RECORD, payload=RecordPayload(type=b"note", content=b"hello"),
                               inputs=base.inputs, outputs=base.outputs), ""),
        ("sidechain_pow", Transaction(tx_type=TxType.SIDECHAIN_POW, payload=SideChainPowPayload(
            side_block_hash=h32("sb"), side_genesis_hash=h32("sg"), block_height=77, signature=det_bytes("sig", 64)),
            outputs=(out(a, 0),)), "new-style SideChainPow: no inputs, one output"),
        ("withdraw_v0", Transaction(tx_type=TxType.WITHDRAW_FROM_SIDECHAIN, payload=WithdrawFromSideChainPayload(
            block_height=9, genesis_block_address=b"XQd1DCi6H62NQdWZQhJCRnrPn7sF9CTjaU",
            sidechain_tx_hashes=(h32("w1"), h32("w2"))), inputs=base.inputs, outputs=base.outputs), ""),
        ("withdraw_v1", Transaction(tx_type=TxType.WITHDRAW_FROM_SIDECHAIN, payload_version=1,
                                    payload=WithdrawFromSideChainPayload(), inputs=base.inputs, outputs=base.outputs),
         "payload version 1 is empty"),
        ("cross_chain_v0", Transaction(tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET,
                                       payload=TransferCrossChainAssetPayload(entries=(CrossChainEntry(
                                           address=b"EKn3UGyEoQAgGYMzGHhd3ZGQnsBgXQd2Cn", output_index=0,
                                           amount=99),)), inputs=base.inputs, outputs=base.outputs), ""),
        ("cross_chain_v1", Transaction(version=9, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=1,
                                       payload=TransferCrossChainAssetPayload(), inputs=base.inputs,
                                       outputs=(out(b, 4, type=3, payload=outputs_v9[3].payload),)),
         "payload version 1 is empty; the deposit is in an OTCrossChain output"),
        ("all_attributes", base.model_copy(update={"attributes": tuple(
            Attribute(usage=u, data=det_bytes(f"attr/{u}", 8)) for u in AttributeUsage)}),
         "one attribute of every usage"),
        ("multisig_programs", B.sign_multisig(base, 2, [pub("m1"), pub("m2"), pub("m3")], [key("m1"), key("m3")]),
         "a 2-of-3 multisig program"),
    ]
    return txs


def _corrupt(tx_hex: str, offset: int, byte: int) -> str:
    raw = bytearray(bytes.fromhex(tx_hex))
    raw[offset] = byte
    return raw.hex()


@generator("chain", "ela.tx.decode")
def tx_decode_cases() -> Iterator[CaseSpec]:
    for name, tx, desc in sample_transactions():
        yield CaseSpec(name, {"tx": hx(tx)}, OK, TXE_ALL, desc, expect_ok={"txid": tx.txid().hex()})
    for item in interop("transactions.json"):
        yield CaseSpec(f"upstream_{item['name']}", {"tx": item["raw_hex"]}, OK, TXE_ALL, item["description"],
                       provenance=provenance("transactions.json", item["name"], item["source"]),
                       expect_ok={"txid": item["txid_stored"], "size": item["raw_size"]})
    f = fact("genesis_register_asset_unsigned")
    yield CaseSpec("upstream_genesis_register_asset", {"tx": f["value"]["hex"] + "00"}, OK, TXE_ALL,
                   "the genesis RegisterAsset's unsigned bytes and an empty program list; its txid is the ELA asset ID",
                   provenance=provenance("facts.json", f["id"], f.get("sources", [])),
                   expect_ok={"txid": f["value"]["sha256d_stored_hex"]})
    v0 = hx(signed(spend("codec", version=0), "alice"))
    v9 = hx(signed(spend("codec"), "alice"))
    for code, name in ((0x04, "deploy"), (0x06, "recharge_to_sidechain")):
        yield CaseSpec(f"forbidden_{name}", {"tx": _corrupt(v0, 0, code)}, Reason.TX_TYPE_FORBIDDEN, ("TXE-003",))
    for code in (0x09, 0x14, 0x21, 0x51, 0x62, 0x71):
        yield CaseSpec(f"later_profile_type_{code:02x}", {"tx": _corrupt(v9, 1, code)}, Reason.TX_TYPE_NOT_IN_PROFILE,
                       ("TXE-004",), "a DPoS, CR or later type")
    for code in (0x16, 0x30, 0x80, 0xFF):
        yield CaseSpec(f"unknown_type_{code:02x}", {"tx": _corrupt(v9, 1, code)}, Reason.TX_TYPE_UNKNOWN, ("TXE-002",))
    withdraw = dict((n, t) for n, t, _ in sample_transactions())
    for name, off in (("withdraw_v0", 1), ("cross_chain_v0", 1)):
        yield CaseSpec(f"{name.split('_v')[0]}_payload_version_2", {"tx": _corrupt(hx(withdraw[name]), off, 2)},
                       Reason.PAYLOAD_VERSION_UNKNOWN, ("TXE-005",))
    # version 9: [09 02 00] payload empty, then attribute count at offset 3
    with_attr = hx(signed(spend("codec", attributes=(Attribute(usage=0, data=b"n"),)), "alice"))
    for usage in (0x01, 0x21, 0x80, 0x93, 0xFF):
        yield CaseSpec(f"attribute_usage_{usage:02x}", {"tx": _corrupt(with_attr, 4, usage)},
                       Reason.ATTRIBUTE_USAGE_UNKNOWN, ("TXE-006",))
    # the output type byte: 4 header bytes, 1 input (38 + count), output count, 32+8+4+21
    type_at = 3 + 1 + 1 + 38 + 1 + 65
    for code in (2, 6, 7):
        yield CaseSpec(f"output_type_{code}", {"tx": _corrupt(v9, type_at, code)}, Reason.OUTPUT_TYPE_NOT_IN_PROFILE,
                       ("TXE-008",), "OTMapping, OTDposV2Vote, OTStake belong to later profiles")
    for code in (8, 0x80):
        yield CaseSpec(f"output_type_unknown_{code}", {"tx": _corrupt(v9, type_at, code)}, Reason.OUTPUT_TYPE_UNKNOWN,
                       ("TXE-007",))
    raw = bytes.fromhex(v9)
    for cut in (0, 1, 3, 20, 70, len(raw) - 1):
        yield CaseSpec(f"truncated_at_{cut}", {"tx": raw[:cut].hex()}, Reason.TRUNCATED)
    yield CaseSpec("trailing_byte", {"tx": v9 + "00"}, Reason.TRAILING_BYTES)
    big_code = Transaction(tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                           programs=(Program(parameter=b"", code=bytes(10_001)),))
    yield CaseSpec("program_code_10001", {"tx": hx(big_code)}, Reason.LENGTH_EXCEEDS_MAX, (),
                   "program code is at most 10000 bytes")
    ok_code = big_code.model_copy(update={"programs": (Program(parameter=bytes(20_000), code=bytes(10_000)),)})
    yield CaseSpec("program_at_limits", {"tx": hx(ok_code)}, OK, TXE_ALL, "parameter 20000 and code 10000 bytes")
    cb = bytes.fromhex(hx(B.coinbase(1, NET, ph("alice"))))
    over = cb[:2] + encode_varuint(P.SELA_PER_ELA)  # coinbase content length far beyond 1 MiB
    yield CaseSpec("coinbase_content_oversize", {"tx": over.hex()}, Reason.LENGTH_EXCEEDS_MAX, (),
                   "coinbase content is at most 1 MiB (the length alone decides)")


@generator("chain", "ela.tx.set_version")
def tx_set_version_cases() -> Iterator[CaseSpec]:
    v0 = hx(signed(spend("codec", version=0), "alice"))
    for v in (0, 9, 10, 255):
        yield CaseSpec(f"version_{v}", {"tx": v0, "version": v}, OK, ("TXE-001",))
    for v in (1, 8):
        yield CaseSpec(f"version_{v}", {"tx": v0, "version": v}, Reason.TX_VERSION_INVALID, ("TXE-001",),
                       "versions 1 to 8 have no wire form")


# == transaction sanity ===========================================================================

TX_RULES = tuple(f"TX-{i:03d}" for i in range(1, 18))


def good_transfer(version: int = 0x09, **kw: Any) -> Transaction:
    return signed(spend("sanity", version=version, **kw), "alice")


def san(tx: Transaction, height: int = 100_000, network: str = "mainnet", **extra: Any) -> dict[str, Any]:
    return {"tx": hx(tx), "height": height, "network": network, **extra}


@generator("chain", "ela.tx.sanity")
def tx_sanity_cases() -> Iterator[CaseSpec]:
    t = good_transfer()
    cb = B.coinbase(100_000, P.MAINNET, ph("miner"))
    yield CaseSpec("transfer", san(t), OK, TX_RULES)
    yield CaseSpec("transfer_v0", san(good_transfer(version=0)), OK, TX_RULES)
    yield CaseSpec("coinbase", san(cb), OK, TX_RULES)
    # TX-001
    yield CaseSpec("size_at_limit", san(t, limits={"max_block_context_size": t.size()}), OK, ("TX-001",),
                   "limits lowers MaxTransactionSize so the case stays small")
    yield CaseSpec("size_over_limit", san(t, limits={"max_block_context_size": t.size() - 1}), Reason.TX_SIZE, ("TX-001",))
    # inputs
    yield CaseSpec("no_inputs", san(signed(spend("sanity", n_in=0), "alice")), Reason.TX_NO_INPUTS, ("TX-002",))
    null_in = spend("sanity").model_copy(update={"inputs": (
        Input(previous=OutPoint(txid=bytes(32), index=0xFFFF), sequence=0),)})
    yield CaseSpec("spends_coinbase_outpoint", san(signed(null_in, "alice")), Reason.TX_INVALID_INPUT, ("TX-003",))
    zero_ok = spend("sanity").model_copy(update={"inputs": (
        Input(previous=OutPoint(txid=bytes(32), index=0), sequence=0),)})
    yield CaseSpec("zero_txid_index_0", san(signed(zero_ok, "alice")), OK, ("TX-003",),
                   "only index 0xFFFF with the zero txid is the coinbase outpoint")
    dup = spend("sanity", n_in=2)
    dup = dup.model_copy(update={"inputs": (dup.inputs[0], dup.inputs[0].model_copy(update={"sequence": 5}))})
    yield CaseSpec("duplicate_input", san(signed(dup, "alice")), Reason.TX_DUPLICATE_INPUT, ("TX-004",),
                   "same outpoint, different sequence")
    yield CaseSpec("two_inputs", san(signed(spend("sanity", n_in=2), "alice")), OK, ("TX-004",))
    cb_in = cb.inputs[0]
    for name, inputs in (("no_input", ()), ("two_inputs", (cb_in, cb_in)),
                         ("index_0", (cb_in.model_copy(update={"previous": OutPoint(txid=bytes(32), index=0)}),)),
                         ("sequence_0", (cb_in.model_copy(update={"sequence": 0}),))):
        yield CaseSpec(f"coinbase_{name}", san(cb.model_copy(update={"inputs": inputs})), Reason.COINBASE_BAD_INPUT,
                       ("TX-005",))
    # outputs
    yield CaseSpec("no_outputs", san(signed(spend("sanity", outputs=()), "alice")), Reason.TX_OUTPUT_COUNT, ("TX-006",))
    yield CaseSpec("coinbase_one_output", san(cb.model_copy(update={"outputs": cb.outputs[:1]})),
                   Reason.TX_OUTPUT_COUNT, ("TX-006",))
    wrong_asset = spend("sanity", outputs=(Output(asset_id=h32("asset"), value=1, output_lock=0,
                                                   program_hash=ph("bob")),))
    yield CaseSpec("output_wrong_asset", san(signed(wrong_asset, "alice")), Reason.TX_OUTPUT_ASSET, ("TX-007",))
    yield CaseSpec("output_negative", san(signed(spend("sanity", outputs=(out(ph("bob"), -1),)), "alice")),
                   Reason.TX_NEGATIVE_OUTPUT, ("TX-008",))
    yield CaseSpec("output_zero", san(signed(spend("sanity", outputs=(out(ph("bob"), 0),)), "alice")), OK,
                   ("TX-008",))
    bad_prefix = bytes((0x55,)) + ph("bob")[1:]
    t_bad = signed(spend("sanity", outputs=(out(bad_prefix, 1),)), "alice")
    yield CaseSpec("output_bad_prefix", san(t_bad), Reason.TX_OUTPUT_ADDRESS, ("TX-009",))
    yield CaseSpec("output_bad_prefix_before_check_height", san(t_bad, height=88_811), OK, ("TX-009",),
                   "CheckAddressHeight is 88812")
    yield CaseSpec("quirk_check_address_height_regnet", san(t_bad, height=88_812, network="regnet"),
                   Reason.TX_OUTPUT_ADDRESS, ("TX-009",),
                   "Quirk: upstream reads CheckAddressHeight from the mainnet defaults on every network")
    for name, owner in (("zero", bytes(21)), ("cr_assets", P.CR_ASSETS_ADDRESS), ("destroy", P.DESTROY_ADDRESS),
                        ("multisig", ph("bob", 0x12)), ("crosschain", ph("bob", 0x4B)), ("dposv2", ph("bob", 0x3F))):
        yield CaseSpec(f"output_to_{name}", san(signed(spend("sanity", outputs=(out(owner, 1),)), "alice")), OK,
                       ("TX-009",))
    cc = CrossChainOutput(version=0, target_address=b"side", target_amount=1, target_data=b"")
    vote = VoteOutput(version=0, contents=())
    yield CaseSpec("cross_chain_output_in_transfer",
                   san(signed(spend("sanity", outputs=(out(ph("bob"), 1, type=3, payload=cc),)), "alice")),
                   Reason.TX_OUTPUT_TYPE_MISMATCH, ("TX-010",))
    yield CaseSpec("vote_output_to_multisig",
                   san(signed(spend("sanity", outputs=(out(ph("bob", 0x12), 1, type=1, payload=vote),)), "alice")),
                   Reason.TX_OUTPUT_TYPE_MISMATCH, ("TX-010",))
    yield CaseSpec("vote_output_in_transfer",
                   san(signed(spend("sanity", outputs=(out(ph("bob"), 1, type=1, payload=vote),)), "alice")), OK,
                   ("TX-010",), "sanity allows it; the context check TXC-015 refuses votes in this profile")
    big = (1 << 63) - 1
    yield CaseSpec("output_sum_overflow",
                   san(signed(spend("sanity", outputs=(out(ph("bob"), big), out(ph("bob"), 1))), "alice")),
                   Reason.TX_OUTPUT_SUM_OVERFLOW, ("TX-011",))
    yield CaseSpec("output_sum_max",
                   san(signed(spend("sanity", outputs=(out(ph("bob"), big - 1), out(ph("bob"), 1))), "alice")),
                   OK, ("TX-011",))
    total = sum(o.value for o in cb.outputs)
    low = int(float(total) * 0.3) - 1
    low_cb = cb.model_copy(update={"outputs": (cb.outputs[0].model_copy(update={"value": low}),
                                               cb.outputs[1].model_copy(update={"value": total - low}))})
    yield CaseSpec("coinbase_foundation_below_30", san(low_cb), Reason.COINBASE_FOUNDATION_SHARE, ("TX-012",))
    yield CaseSpec("no_programs", san(spend("sanity")), Reason.TX_NO_PROGRAMS, ("TX-013",))
    short = spend("sanity").model_copy(update={"programs": (Program(parameter=b"", code=bytes(22)),)})
    yield CaseSpec("program_code_22", san(short), Reason.TX_PROGRAM_CODE, ("TX-014",))
    yield CaseSpec("program_code_23", san(short.model_copy(update={"programs": (Program(parameter=b"", code=bytes(23)),)})),
                   OK, ("TX-014",), "sanity checks only the size of the code")
    yield CaseSpec("coinbase_with_program", san(cb.model_copy(update={"programs": t.programs})),
                   Reason.COINBASE_HAS_PROGRAMS, ("TX-015",))

    def asset(precision: int, amount: int) -> Transaction:
        return signed(spend("sanity").model_copy(update={"tx_type": TxType.REGISTER_ASSET, "payload": RegisterAssetPayload(
            asset=Asset(name=b"T", description=b"", precision=precision, asset_type=0, record_type=0), amount=amount,
            controller=ph("alice"))}), "alice")
    yield CaseSpec("register_asset_precision_8", san(asset(8, 7)), OK, ("TX-016",))
    yield CaseSpec("register_asset_precision_2", san(asset(2, 3_000_000)), OK, ("TX-016",))
    yield CaseSpec("register_asset_precision_9", san(asset(9, 0)), Reason.TX_PAYLOAD_INVALID, ("TX-016",))
    yield CaseSpec("register_asset_amount_imprecise", san(asset(2, 3_000_001)), Reason.TX_PAYLOAD_INVALID, ("TX-016",))

    def withdraw(hashes: Sequence[bytes]) -> Transaction:
        return signed(spend("sanity").model_copy(update={
            "tx_type": TxType.WITHDRAW_FROM_SIDECHAIN, "payload": WithdrawFromSideChainPayload(
                block_height=1, genesis_block_address=b"X", sidechain_tx_hashes=tuple(hashes))}), "alice")
    yield CaseSpec("withdraw_distinct_hashes", san(withdraw([h32("s1"), h32("s2")])), OK, ("TX-017",))
    yield CaseSpec("withdraw_duplicate_hashes", san(withdraw([h32("s1"), h32("s1")])), Reason.TX_SIDECHAIN_DUPLICATE,
                   ("TX-017",))


# == signatures and context ==========================================================================


def ref(tx: Transaction, owner: bytes) -> list[dict[str, Any]]:
    return [{"txid": i.previous.txid.hex(), "index": i.previous.index, "program_hash": owner.hex()} for i in tx.inputs]


@generator("chain", "ela.tx.verify_signatures")
def verify_signatures_cases() -> Iterator[CaseSpec]:
    item = next(t for t in interop("transactions.json") if "signature" in t)
    sig = item["signature"]
    refs = [{"txid": i["prev_txid_stored"], "index": i["index"], "program_hash": sig["redeem_script_program_hash"]}
            for i in item["decoded"]["inputs"]]
    prov = provenance("transactions.json", item["name"], item["source"])
    yield CaseSpec("upstream_signed_transfer", {"tx": item["raw_hex"], "referenced_outputs": refs}, OK,
                   ("TXC-010", "TXC-011", "TXC-012"), "a real signed transfer; its input spends the key's standard "
                   "program hash", provenance=prov)
    other = [dict(r, program_hash=ph("bob").hex()) for r in refs]
    yield CaseSpec("upstream_signed_transfer_wrong_owner", {"tx": item["raw_hex"], "referenced_outputs": other},
                   Reason.TX_PROGRAM_HASH_MISMATCH, ("TXC-011",), provenance=prov)
    raw = bytearray(bytes.fromhex(item["raw_hex"]))
    raw[item["unsigned_size"] - 5] ^= 1  # a byte of the last output's program hash
    yield CaseSpec("upstream_signed_transfer_tampered", {"tx": raw.hex(), "referenced_outputs": refs},
                   Reason.SIGNATURE_INVALID, (), "one bit of an output changed after signing", provenance=prov)
    t = spend("sig", n_in=2)
    yield CaseSpec("standard", {"tx": hx(signed(t, "alice")), "referenced_outputs": ref(t, ph("alice"))}, OK,
                   ("TXC-010", "TXC-011", "TXC-012"))
    two = signed(t, "alice", "carol")
    refs2 = ref(t, ph("alice"))[:1] + ref(t, ph("carol"))[1:]
    yield CaseSpec("two_owners", {"tx": hx(two), "referenced_outputs": refs2}, OK, ("TXC-010",),
                   "programs are matched to program hashes after sorting both by code hash")
    yield CaseSpec("two_owners_one_program", {"tx": hx(signed(t, "alice")), "referenced_outputs": refs2},
                   Reason.TX_PROGRAM_COUNT, ("TXC-010",))
    yield CaseSpec("one_owner_two_programs", {"tx": hx(two), "referenced_outputs": ref(t, ph("alice"))},
                   Reason.TX_PROGRAM_COUNT, ("TXC-010",))
    keys = [pub("m1"), pub("m2"), pub("m3")]
    ms = multisig_redeem_script(2, keys)
    msph = Uint168.from_code(0x12, ms).data
    ok2 = B.sign_multisig(t, 2, keys, [key("m1"), key("m2")])
    yield CaseSpec("multisig_2_of_3", {"tx": hx(ok2), "referenced_outputs": ref(t, msph)}, OK, ("TXC-012",))
    yield CaseSpec("multisig_1_of_2_needed", {"tx": hx(B.sign_multisig(t, 2, keys, [key("m1")])),
                                              "referenced_outputs": ref(t, msph)}, Reason.NOT_ENOUGH_SIGNATURES)
    std_as_ms = Uint168.from_code(0x12, standard_redeem_script(pub("alice"))).data
    yield CaseSpec("standard_code_under_multisig_prefix", {"tx": hx(signed(t, "alice")),
                                                           "referenced_outputs": ref(t, std_as_ms)},
                   Reason.TX_SIGNATURE_TYPE, ("TXC-012",))
    did = Uint168.from_code(0x67, standard_redeem_script(pub("alice"))).data
    yield CaseSpec("did_prefix_cannot_sign", {"tx": hx(signed(t, "alice")), "referenced_outputs": ref(t, did)},
                   Reason.TX_SIGNATURE_TYPE, ("TXC-012",))
    dep = Uint168.from_code(0x1F, standard_redeem_script(pub("alice"))).data
    yield CaseSpec("deposit_prefix_standard_code", {"tx": hx(signed(t, "alice")), "referenced_outputs": ref(t, dep)},
                   OK, ("TXC-012",))
    script_attr = t.model_copy(update={"attributes": (Attribute(usage=AttributeUsage.SCRIPT, data=ph("carol")),)})
    yield CaseSpec("script_attribute_needs_program", {"tx": hx(signed(script_attr, "alice", "carol")),
                                                      "referenced_outputs": ref(t, ph("alice"))}, OK, ("TXC-010",))
    bad_attr = t.model_copy(update={"attributes": (Attribute(usage=AttributeUsage.SCRIPT, data=ph("carol")[:20]),)})
    yield CaseSpec("script_attribute_20_bytes", {"tx": hx(signed(bad_attr, "alice")),
                                                 "referenced_outputs": ref(t, ph("alice"))},
                   Reason.TX_PROGRAM_COUNT, ("TXC-010",))


def utxo(txid: bytes, index: int, owner: bytes, value: int, **kw: Any) -> dict[str, Any]:
    return {"txid": txid.hex(), "index": index, "value": str(value), "program_hash": owner.hex(), **kw}


def ctx(tx: Transaction, utxos: list[dict[str, Any]], height: int = 1000, chain_txs: dict[str, int] | None = None,
        network: str = "regnet") -> dict[str, Any]:
    counts = chain_txs if chain_txs is not None else {}
    for u in utxos:
        counts.setdefault(u["txid"], max(counts.get(u["txid"], 0), u["index"] + 1))
    return {"tx": hx(tx), "height": height, "network": network, "utxos": utxos, "chain_txs": counts}


TXC_RULES = tuple(f"TXC-{i:03d}" for i in range(1, 17))
COIN = P.SELA_PER_ELA


@generator("chain", "ela.tx.sanity")
def sidechain_pow_sanity_cases() -> Iterator[CaseSpec]:
    """A new-style SideChainPow (no inputs): one zero-value OTNone output, no attributes, no programs."""
    new = Transaction(version=0x09, tx_type=TxType.SIDECHAIN_POW, payload=SideChainPowPayload(
        side_block_hash=h32("scp/sb"), side_genesis_hash=h32("scp/sg"), block_height=77,
        signature=det_bytes("scp/sig", 64)), outputs=(out(ph("arbiter"), 0),))
    yield CaseSpec("sidechain_pow_new_style", san(new), OK, ("TX-002", "TX-013", "TX-018"),
                   "no inputs and no programs are allowed for a new-style SideChainPow")
    yield CaseSpec("sidechain_pow_new_style_value_1", san(new.model_copy(update={"outputs": (out(ph("arbiter"), 1),)})),
                   Reason.TX_SIDECHAIN_POW_SHAPE, ("TX-018",))
    yield CaseSpec("sidechain_pow_new_style_two_outputs",
                   san(new.model_copy(update={"outputs": (out(ph("arbiter"), 0), out(ph("arbiter"), 0))})),
                   Reason.TX_SIDECHAIN_POW_SHAPE, ("TX-018",))
    yield CaseSpec("sidechain_pow_new_style_with_attribute", san(new.model_copy(update={
        "attributes": (Attribute(usage=AttributeUsage.NONCE, data=b"n"),)})), Reason.TX_SIDECHAIN_POW_SHAPE, ("TX-018",))
    yield CaseSpec("sidechain_pow_new_style_with_program", san(signed(new, "arbiter")),
                   Reason.TX_SIDECHAIN_POW_SHAPE, ("TX-018",))
    cc = CrossChainOutput(version=0, target_address=b"x", target_amount=0, target_data=b"")
    yield CaseSpec("sidechain_pow_new_style_cross_chain_output",
                   san(new.model_copy(update={"outputs": (out(ph("arbiter"), 0, type=3, payload=cc),)})),
                   Reason.TX_OUTPUT_TYPE_MISMATCH, ("TX-010",), "the output type rule fires first")


@generator("chain", "ela.tx.context")
def sidechain_pow_context_cases() -> Iterator[CaseSpec]:
    new = Transaction(version=0x09, tx_type=TxType.SIDECHAIN_POW, payload=SideChainPowPayload(
        side_block_hash=h32("scp/sb"), side_genesis_hash=h32("scp/sg"), block_height=77,
        signature=det_bytes("scp/sig", 64)), outputs=(out(ph("arbiter"), 0),))
    yield CaseSpec("sidechain_pow_needs_on_duty_arbiter", ctx(new, []), Reason.TX_SIDECHAIN_POW_NO_ARBITER,
                   ("TXC-022",), "the network names no cross-chain arbiter, so nobody is on duty")
    keys = [det_bytes(f"scp/arbiter/{i}", 32) for i in range(3)]
    arbiters = [public_key_from_private(k).hex() for k in keys]

    def by(i: int, tx: Transaction = new) -> Transaction:
        assert isinstance(tx.payload, SideChainPowPayload)
        sig = ecdsa_sign(keys[i], tx.payload.unsigned())
        return tx.model_copy(update={"payload": tx.payload.model_copy(update={"signature": sig})})

    def with_arbiters(case: dict[str, Any]) -> dict[str, Any]:
        return {**case, "arbiters": arbiters}

    yield CaseSpec("sidechain_pow_signed_by_on_duty_arbiter", with_arbiters(ctx(by(0), [], height=1000)), OK,
                   ("TXC-022", "TXC-023"), "height 1000: arbiters[(1000 - 1) % 3] = arbiters[0] is on duty; a "
                   "new-style SideChainPow owes no fee", expect_ok={"fee": "0"})
    yield CaseSpec("sidechain_pow_duty_rotates", with_arbiters(ctx(by(1), [], height=1001)), OK, ("TXC-023",),
                   "height 1001: arbiters[1] is on duty")
    yield CaseSpec("sidechain_pow_signed_by_off_duty_arbiter", with_arbiters(ctx(by(1), [], height=1000)),
                   Reason.TX_SIDECHAIN_POW_SIGNATURE, ("TXC-023",), "an arbiter, but not the one on duty")
    bad = by(0)
    assert isinstance(bad.payload, SideChainPowPayload)
    flipped = bad.model_copy(update={"payload": bad.payload.model_copy(update={"block_height": 78})})
    yield CaseSpec("sidechain_pow_payload_changed_after_signing", with_arbiters(ctx(flipped, [], height=1000)),
                   Reason.TX_SIDECHAIN_POW_SIGNATURE, ("TXC-023",), "the height is among the 68 signed bytes")
    short = bad.model_copy(update={"payload": bad.payload.model_copy(update={"signature": bad.payload.signature[:63]})})
    yield CaseSpec("sidechain_pow_signature_truncated", with_arbiters(ctx(short, [], height=1000)),
                   Reason.TX_SIDECHAIN_POW_SIGNATURE, ("TXC-023",))
    src = h32("scp/src")
    old = Transaction(version=0x09, tx_type=TxType.SIDECHAIN_POW, payload=new.payload,
                      inputs=(Input(previous=OutPoint(txid=src, index=0), sequence=0xFFFF_FFFF),),
                      outputs=(out(ph("arbiter"), 10 * COIN - 50_000),))
    yield CaseSpec("sidechain_pow_old_style_unknown_reference", ctx(signed(old, "arbiter"), [],
                                                                     chain_txs={}),
                   Reason.TX_UNKNOWN_REFERENCE, ("TXC-002",), "references are checked before the arbiter")
    yield CaseSpec("sidechain_pow_old_style_needs_on_duty_arbiter",
                   ctx(signed(old, "arbiter"), [utxo(src, 0, ph("arbiter"), 10 * COIN)]),
                   Reason.TX_SIDECHAIN_POW_NO_ARBITER, ("TXC-022",))
    yield CaseSpec("sidechain_pow_old_style_pays_its_fee",
                   with_arbiters(ctx(signed(by(0, old), "arbiter"), [utxo(src, 0, ph("arbiter"), 10 * COIN)], height=1000)),
                   OK, ("TXC-023", "TXC-005"), "an old-style SideChainPow goes on to the ordinary checks and pays a fee",
                   expect_ok={"fee": "50000"})


DEPOSIT_RULES = ("TXC-017", "TXC-018", "TXC-019", "TXC-020")


@generator("chain", "ela.tx.context")
def deposit_cases() -> Iterator[CaseSpec]:
    """TransferCrossChainAsset: v0 up to NewCrossChainStartHeight (regnet 730000), v1 after it."""
    src = h32("dep/src")
    alice = ph("alice")
    side_x = Uint168.from_code(0x4B, b"\x20" + h32("dep/side-genesis") + b"\xaf").data
    fund = 10 * COIN
    u = [utxo(src, 0, alice, fund)]
    addr = b"EbaPmewJcXEuUW3Da8FJhPfeuJ8iVUueH1"
    v1_height = P.REGNET.new_cross_chain_start_height + 1

    def dep(outputs: Sequence[Output], entries: Sequence[CrossChainEntry] = (), payload_version: int = 0,
            version: int = 0x09) -> Transaction:
        t = Transaction(version=version, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=payload_version,
                        payload=TransferCrossChainAssetPayload(entries=tuple(entries)),
                        inputs=(Input(previous=OutPoint(txid=src, index=0), sequence=0xFFFF_FFFF),),
                        outputs=tuple(outputs))
        return signed(t, "alice")

    def v0(amount: int, value: int = fund - 10_000, entries: Sequence[CrossChainEntry] | None = None,
           outputs: Sequence[Output] | None = None) -> dict[str, Any]:
        outs = outputs if outputs is not None else (out(side_x, value),)
        ents = entries if entries is not None else (CrossChainEntry(address=addr, output_index=0, amount=amount),)
        return ctx(dep(outs, ents), u)

    yield CaseSpec("deposit_v0", v0(fund - 20_000), OK, DEPOSIT_RULES,
                   "amount = output value - MinCrossChainTxFee, fee = MinCrossChainTxFee", expect_ok={"fee": "10000"})
    yield CaseSpec("deposit_v0_amount_zero", v0(0), OK, ("TXC-019",))
    yield CaseSpec("deposit_v0_amount_above_limit", v0(fund - 20_000 + 1), Reason.TX_CROSS_CHAIN_AMOUNT, ("TXC-019",))
    yield CaseSpec("deposit_v0_amount_negative", v0(-1), Reason.TX_CROSS_CHAIN_AMOUNT, ("TXC-019",))
    yield CaseSpec("deposit_v0_fee_9999", v0(0, value=fund - 9_999), Reason.TX_CROSS_CHAIN_FEE, ("TXC-020",))
    yield CaseSpec("deposit_v0_no_entries", v0(0, entries=()), Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    two_outs = (out(side_x, fund // 2 - 10_000), out(side_x, fund // 2))
    yield CaseSpec("deposit_v0_two_entries", v0(0, entries=(
        CrossChainEntry(address=addr, output_index=0, amount=1),
        CrossChainEntry(address=b"EJuHg2CdT9a9bqdKUAtbrAn6DGwXtKA6uh", output_index=1, amount=1)), outputs=two_outs),
        OK, ("TXC-018",))
    yield CaseSpec("deposit_v0_duplicate_index", v0(0, entries=(
        CrossChainEntry(address=addr, output_index=0, amount=1),
        CrossChainEntry(address=b"EJuHg2CdT9a9bqdKUAtbrAn6DGwXtKA6uh", output_index=0, amount=1)), outputs=two_outs),
        Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v0_duplicate_address", v0(0, entries=(
        CrossChainEntry(address=addr, output_index=0, amount=1),
        CrossChainEntry(address=addr, output_index=1, amount=1)), outputs=two_outs),
        Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v0_index_out_of_range", v0(0, entries=(
        CrossChainEntry(address=addr, output_index=1, amount=0),)), Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v0_empty_address", v0(0, entries=(
        CrossChainEntry(address=b"", output_index=0, amount=0),)), Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v0_output_not_x", v0(0, outputs=(out(ph("bob"), fund - 10_000),)),
                   Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    v1_payload = CrossChainOutput(version=0, target_address=addr, target_amount=fund - 30_000, target_data=b"")

    def v1(outputs: Sequence[Output], version: int = 0x09, height: int = v1_height) -> dict[str, Any]:
        return ctx(dep(outputs, payload_version=1, version=version), u, height=height)

    xo = out(side_x, fund - 20_000, type=3, payload=v1_payload)
    yield CaseSpec("deposit_v1", v1((xo,)), OK, ("TXC-017", "TXC-018", "TXC-019", "TXC-021"),
                   "output value = MinCrossChainTxFee + target amount", expect_ok={"fee": "20000"})
    yield CaseSpec("deposit_v1_with_change", v1((xo.model_copy(update={"value": fund - 30_000}),
                                                  out(alice, 10_000))), Reason.TX_CROSS_CHAIN_AMOUNT, ("TXC-019",))
    yield CaseSpec("deposit_v1_change_output", v1((out(side_x, fund - 30_000, type=3, payload=v1_payload.model_copy(
        update={"target_amount": fund - 40_000})), out(alice, 10_000))), OK, ("TXC-018", "TXC-019"))
    yield CaseSpec("deposit_v1_no_cross_chain_output", v1((out(side_x, fund - 20_000),)),
                   Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v1_to_standard_address", v1((xo.model_copy(update={"program_hash": ph("bob")}),)),
                   Reason.TX_CROSS_CHAIN_PAYLOAD, ("TXC-018",))
    yield CaseSpec("deposit_v1_to_retired_did_chain",
                   v1((xo.model_copy(update={"program_hash": P.REGNET.did_sidechain_address}),)),
                   Reason.TX_CROSS_CHAIN_RETIRED_TARGET, ("TXC-021",),
                   "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ is refused from ProhibitTransferToDIDHeight")
    yield CaseSpec("deposit_v1_at_v0_height", v1((xo,), height=v1_height - 1), Reason.TX_HEIGHT_VERSION, ("TXC-017",))
    yield CaseSpec("deposit_v0_at_v1_height", {**v0(0), "height": v1_height}, Reason.TX_HEIGHT_VERSION, ("TXC-017",))


@generator("chain", "ela.tx.context")
def tx_context_cases() -> Iterator[CaseSpec]:
    src = h32("ctx/src")
    alice = ph("alice")

    def tx(outputs: Sequence[Output] = (), label: str = "alice", **kw: Any) -> Transaction:
        return signed(spend("ctx", outputs=outputs or (out(ph("bob"), 10 * COIN - 100),), **kw), label)

    base = tx()
    u = [utxo(src, 0, alice, 10 * COIN)]
    yield CaseSpec("fee_100", ctx(base, u), OK, TXC_RULES, "the smallest fee", expect_ok={"fee": "100"})
    yield CaseSpec("fee_99", ctx(tx((out(ph("bob"), 10 * COIN - 99),)), u), Reason.TX_FEE_TOO_LOW, ("TXC-005",))
    yield CaseSpec("duplicate_tx", ctx(base, u, chain_txs={base.txid().hex(): 1}), Reason.TX_DUPLICATE, ("TXC-001",))
    yield CaseSpec("unknown_network", {**ctx(base, u), "network": "simnet"}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define: its fees and heights are unknown")
    yield CaseSpec("unknown_tx", ctx(base, [], chain_txs={h32("other").hex(): 1}), Reason.TX_UNKNOWN_REFERENCE,
                   ("TXC-002",))
    yield CaseSpec("unknown_index", ctx(base, [], chain_txs={src.hex(): 0}), Reason.TX_UNKNOWN_REFERENCE, ("TXC-002",),
                   "the transaction is known but has no output 0")
    yield CaseSpec("spent_output", ctx(base, [], chain_txs={src.hex(): 1}), Reason.TX_DOUBLE_SPEND, ("TXC-003",))
    locked = [utxo(src, 0, alice, 10 * COIN, output_lock=500)]
    yield CaseSpec("locked_output_sequence_max", ctx(base, locked), Reason.TX_UTXO_LOCKED, ("TXC-004",))
    unlock = signed(spend("ctx", outputs=(out(ph("bob"), 10 * COIN - 100),)).model_copy(update={
        "inputs": (base.inputs[0].model_copy(update={"sequence": 0xFFFF_FFFE}),), "lock_time": 500}), "alice")
    yield CaseSpec("locked_output_unlocked", ctx(unlock, locked), OK, ("TXC-004",),
                   "sequence 0xFFFFFFFE and lock time = OutputLock")
    early = signed(unlock.model_copy(update={"lock_time": 499, "programs": ()}), "alice")
    yield CaseSpec("locked_output_lock_time_below", ctx(early, locked), Reason.TX_UTXO_LOCKED, ("TXC-004",))
    yield CaseSpec("spends_destroy_address", ctx(base, [utxo(src, 0, P.DESTROY_ADDRESS, 10 * COIN)]),
                   Reason.TX_SPENDS_DESTROY_ADDRESS, ("TXC-006",))
    yield CaseSpec("spends_deposit_output", ctx(base, [utxo(src, 0, ph("alice", 0x1F), 10 * COIN)]),
                   Reason.TX_DEPOSIT_UTXO, ("TXC-007",))
    yield CaseSpec("pays_deposit_address", ctx(tx((out(ph("bob", 0x1F), 10 * COIN - 100),)), u),
                   Reason.TX_DEPOSIT_OUTPUT, ("TXC-008",))
    # cross-chain: 0x4B outputs are spent only by WithdrawFromSideChain, signed by the arbiters' script
    arb = [pub(f"arb{i}") for i in range(4)]
    cc_code = multisig_redeem_script(3, arb, "crosschain")
    cc_ph = Uint168.from_code(0x4B, cc_code).data

    def cc_signed(t: Transaction) -> Transaction:
        msg = t.serialize_unsigned()
        param = b"".join(bytes((PUSH_SIGNATURE,)) + ecdsa_sign(key(f"arb{i}"), msg) for i in range(3))
        return t.model_copy(update={"programs": (Program(parameter=param, code=cc_code),)})

    w = spend("ctx", outputs=(out(ph("bob"), 10 * COIN - 100),)).model_copy(update={
        "tx_type": TxType.WITHDRAW_FROM_SIDECHAIN, "payload_version": 1, "payload": WithdrawFromSideChainPayload()})
    cu = [utxo(src, 0, cc_ph, 10 * COIN)]
    named = {**ctx(cc_signed(w), cu), "arbiters": [k.hex() for k in arb]}
    yield CaseSpec("withdraw_spends_cross_chain", named, OK, ("TXC-009", "TXC-011", "TXC-012", "TXC-016"),
                   "Quirk: for 0x4B the code is not compared with the program hash; the script is the named "
                   "arbiters' 3 of 4")
    yield CaseSpec("withdraw_without_named_arbiters", ctx(cc_signed(w), cu), Reason.TX_CROSS_CHAIN_ARBITERS,
                   ("TXC-016",), "the proof-of-work profile names no cross-chain arbiters")
    others = {**named, "arbiters": [k.hex() for k in arb[:3]] + [pub("outsider").hex()]}
    yield CaseSpec("withdraw_other_arbiters", others, Reason.TX_CROSS_CHAIN_ARBITERS, ("TXC-016",))
    beyond = {**named, "arbiters": [k.hex() for k in arb] + [pub("outsider").hex()]}
    yield CaseSpec("withdraw_arbiters_beyond_the_script", beyond, Reason.TX_CROSS_CHAIN_ARBITERS, ("TXC-016",),
                   "every key of the script is an arbiter, but the network names a fifth the script lacks")
    low_code = multisig_redeem_script(2, arb, "crosschain")

    def low_signed(t: Transaction) -> Transaction:
        msg = t.serialize_unsigned()
        param = b"".join(bytes((PUSH_SIGNATURE,)) + ecdsa_sign(key(f"arb{i}"), msg) for i in range(2))
        return t.model_copy(update={"programs": (Program(parameter=param, code=low_code),)})

    low_u = [utxo(src, 0, Uint168.from_code(0x4B, low_code).data, 10 * COIN)]
    yield CaseSpec("withdraw_threshold_too_low", {**ctx(low_signed(w), low_u), "arbiters": [k.hex() for k in arb]},
                   Reason.TX_CROSS_CHAIN_ARBITERS, ("TXC-016",), "2 of 4 is below floor(2*4/3) + 1 = 3")
    yield CaseSpec("transfer_spends_cross_chain", ctx(cc_signed(spend("ctx", outputs=w.outputs)), cu),
                   Reason.TX_CROSS_CHAIN_UTXO, ("TXC-009",))
    side_txs = [h32("side/w1"), h32("side/w2")]
    w0 = w.model_copy(update={"payload_version": 0, "payload": WithdrawFromSideChainPayload(
        block_height=7, genesis_block_address=b"XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ", sidechain_tx_hashes=tuple(side_txs))})
    named0 = {**ctx(cc_signed(w0), cu), "arbiters": [k.hex() for k in arb]}
    yield CaseSpec("withdraw_v0_new_sidechain_txs", {**named0, "withdrawn": [h32("side/w0").hex()]}, OK,
                   ("TXC-016", "TXC-024"), "neither sidechain transaction was withdrawn before")
    yield CaseSpec("withdraw_v0_paid_twice", {**named0, "withdrawn": [side_txs[1].hex()]},
                   Reason.TX_WITHDRAW_DUPLICATE, ("TXC-024",), "the second sidechain transaction was already withdrawn")
    yield CaseSpec("two_programs_one_owner", ctx(signed(spend("ctx", outputs=base.outputs), "alice", "bob"), u),
                   Reason.TX_PROGRAM_COUNT, ("TXC-010",))
    yield CaseSpec("signed_by_other_key", ctx(tx(label="bob"), u), Reason.TX_PROGRAM_HASH_MISMATCH, ("TXC-011",))
    yield CaseSpec("multisig_prefix_standard_code", ctx(base, [utxo(src, 0, ph("alice", 0x12), 10 * COIN)]),
                   Reason.TX_SIGNATURE_TYPE, ("TXC-012",))
    forged = base.model_copy(update={"programs": (base.programs[0].model_copy(update={
        "parameter": base.programs[0].parameter[:-1] + bytes((base.programs[0].parameter[-1] ^ 1,))}),)})
    yield CaseSpec("forged_signature", ctx(forged, u), Reason.SIGNATURE_INVALID)
    # coinbase maturity counts from the coinbase's lock time, with u32 wrap-around
    for name, lock, height, means in (("mature", 899, 1000, OK), ("immature", 900, 1000, Reason.COINBASE_IMMATURE),
                                      ("quirk_lock_time_wraps", 0xFFFF_FF00, 3, OK),
                                      ("quirk_lock_time_ahead", 5000, 1000, OK)):
        cu2 = [utxo(src, 0, alice, 10 * COIN, coinbase=True, tx_lock_time=lock, height=min(lock, height - 1))]
        desc = {"mature": "parent height 999 - lock time 899 = 100", "immature": "999 - 900 = 99 < 100",
                "quirk_lock_time_wraps": "Quirk: uint32(2 - 0xFFFFFF00) = 258 >= 100",
                "quirk_lock_time_ahead": "Quirk: uint32(999 - 5000) wraps to a huge number"}[name]
        yield CaseSpec(f"coinbase_{name}", ctx(base, cu2, height=height), means, ("TXC-013",), desc)
    yield CaseSpec("spends_new_sidechain_pow", ctx(base, [utxo(src, 0, alice, 10 * COIN, new_sidechain_pow=True)]),
                   Reason.TX_SPENDS_SIDECHAIN_POW, ("TXC-014",))
    vote = VoteOutput(version=0, contents=(VoteContent(vote_type=0, candidates=(VoteCandidate(candidate=pub("p")),)),))
    yield CaseSpec("vote_output", ctx(tx((out(alice, 10 * COIN - 100, type=1, payload=vote),)), u),
                   Reason.TX_VOTE_NOT_IN_PROFILE, ("TXC-015",))
    yield CaseSpec("v0_transfer", ctx(signed(spend("ctx", outputs=base.outputs, version=0), "alice"), u), OK,
                   ("TXC-015",))


# == blocks ========================================================================================

MINER = ph("miner")


def make_block(parent: bytes, height: int, txs: Sequence[Transaction] = (), *, ts: int | None = None,
               bits: int = P.INSTANT_POW_LIMIT_BITS, miner: bytes = MINER, fees: int = 0,
               coinbase: Transaction | None = None, cb_lock: int | None = None, merkle: bytes | None = None,
               net: P.NetworkParams = NET) -> Block:
    cb = coinbase if coinbase is not None else B.coinbase(height, net, miner, fees)
    if cb_lock is not None:
        cb = cb.model_copy(update={"lock_time": cb_lock})
    blk = B.block_template(parent, height, T0 + height if ts is None else ts, bits, [cb, *txs])
    if merkle is not None:
        blk = blk.model_copy(update={"header": blk.header.model_copy(update={"merkle_root": merkle})})
    return B.solve(blk)


GENESIS = P.genesis_block("instant").hash()
SPENDER = "spender"


@cache
def funded_chain() -> tuple[Block, ...]:
    """Block 1 pays the spender, with the coinbase lock-time quirk that makes its output spendable at once."""
    return (make_block(GENESIS, 1, miner=ph(SPENDER), cb_lock=0xFFFF_FF00),)


def pay(value: int, fee: int = 100, version: int = 0x09, **kw: Any) -> Transaction:
    """Spend output 1 (the miner's) of block 1's coinbase."""
    cb = funded_chain()[0].transactions[0]
    src = cb.outputs[1].value
    t = B.transfer([(cb.txid(), 1)], [(ph("bob"), value), (ph(SPENDER), src - value - fee)], version=version, **kw)
    return B.sign_standard(t, [key(SPENDER)])


def bs(block: Block, network: str = "instant", now: int = NOW, **extra: Any) -> dict[str, Any]:
    return {"block": hx(block), "network": network, "now": now, **extra}


BLK_RULES = tuple(f"BLK-{i:03d}" for i in range(1, 12))


@generator("chain", "ela.block.sanity")
def block_sanity_cases() -> Iterator[CaseSpec]:
    b1 = funded_chain()[0]
    t = pay(COIN)
    b2 = make_block(b1.hash(), 2, [t], fees=100)
    yield CaseSpec("coinbase_only", bs(b1), OK, BLK_RULES)
    yield CaseSpec("with_transfer", bs(b2), OK, BLK_RULES)
    yield CaseSpec("timestamp_at_limit", bs(b2, now=b2.header.timestamp - 7200), OK, ("BLK-001",))
    yield CaseSpec("timestamp_too_far", bs(b2, now=b2.header.timestamp - 7201), Reason.BLOCK_TIME_TOO_FAR, ("BLK-001",))
    empty = B.solve(b1.model_copy(update={"transactions": ()}))
    yield CaseSpec("no_transactions", bs(empty), Reason.BLOCK_NO_TRANSACTIONS, ("BLK-002",))
    yield CaseSpec("tx_count_at_limit", bs(b2, limits={"max_tx_per_block": 2}), OK, ("BLK-003",),
                   "limits lowers MaxTransactionPerBlock so the case stays small")
    yield CaseSpec("too_many_transactions", bs(b2, limits={"max_tx_per_block": 1}), Reason.BLOCK_TOO_MANY_TRANSACTIONS,
                   ("BLK-003",))
    hsize = len(b2.header.serialize())
    yield CaseSpec("header_at_limit", bs(b2, limits={"max_block_header_size": hsize}), OK, ("BLK-004",))
    yield CaseSpec("header_too_large", bs(b2, limits={"max_block_header_size": hsize - 1}), Reason.BLOCK_HEADER_TOO_LARGE,
                   ("BLK-004",))
    yield CaseSpec("block_at_limit", bs(b2, limits={"max_block_header_size": hsize, "max_block_context_size": b2.size() - hsize}), OK, ("BLK-005",))
    yield CaseSpec("block_too_large", bs(b2, limits={"max_block_header_size": hsize, "max_block_context_size": b2.size() - hsize - 1}), Reason.BLOCK_TOO_LARGE,
                   ("BLK-005",))
    yield CaseSpec("first_not_coinbase", bs(make_block(b1.hash(), 2, [], coinbase=t)), Reason.BLOCK_FIRST_NOT_COINBASE,
                   ("BLK-006",))
    cb2 = B.coinbase(2, NET, ph("other"))
    yield CaseSpec("second_coinbase", bs(make_block(b1.hash(), 2, [cb2])), Reason.BLOCK_SECOND_COINBASE, ("BLK-007",))
    yield CaseSpec("duplicate_transaction", bs(make_block(b1.hash(), 2, [t, t], fees=200)), Reason.BLOCK_DUPLICATE_TX,
                   ("BLK-008",))
    t2 = pay(2 * COIN)
    yield CaseSpec("duplicate_input", bs(make_block(b1.hash(), 2, [t, t2], fees=200)), Reason.BLOCK_DUPLICATE_INPUT,
                   ("BLK-009",), "two transactions spend one output")

    def wd(label: str, hashes: Sequence[bytes]) -> Transaction:
        w = spend(label, outputs=(out(ph("bob"), 1),)).model_copy(update={
            "tx_type": TxType.WITHDRAW_FROM_SIDECHAIN, "payload": WithdrawFromSideChainPayload(
                block_height=1, genesis_block_address=b"X", sidechain_tx_hashes=tuple(hashes))})
        return signed(w, "alice")
    w1, w2, w3 = wd("w1", [h32("s1")]), wd("w2", [h32("s1")]), wd("w3", [h32("s2")])
    yield CaseSpec("duplicate_sidechain_tx", bs(make_block(b1.hash(), 2, [w1, w2])), Reason.BLOCK_DUPLICATE_SIDECHAIN_TX,
                   ("BLK-010",))
    yield CaseSpec("distinct_sidechain_txs", bs(make_block(b1.hash(), 2, [w1, w3])), OK, ("BLK-010",),
                   "sanity needs no chain state (the inputs are unknown)")
    yield CaseSpec("bad_merkle_root", bs(make_block(b1.hash(), 2, [t], fees=100, merkle=h32("root"))),
                   Reason.BLOCK_BAD_MERKLE_ROOT, ("BLK-011",))
    bad_tx = make_block(b1.hash(), 2, [t.model_copy(update={"programs": ()})], fees=100)
    yield CaseSpec("transaction_fails_sanity", bs(bad_tx), Reason.TX_NO_PROGRAMS, ("TX-013",))
    unsolved = B.block_template(b1.hash(), 2, T0 + 2, P.INSTANT_POW_LIMIT_BITS, [B.coinbase(2, NET, MINER)])
    unsolved = unsolved.model_copy(update={"header": unsolved.header.model_copy(update={"auxpow": make_auxpow(h32("x"), 1224)})})
    yield CaseSpec("auxpow_commits_other_block", bs(unsolved), Reason.AUXPOW_ROOT_MISSING, ("AUX-004",),
                   "the AuxPoW commits another block hash")
    genesis = P.genesis_block("mainnet")
    yield CaseSpec("mainnet_genesis_zero_auxpow", bs(genesis, "mainnet", now=T0), Reason.AUXPOW_PARENT_MERKLE_MISMATCH, ("AUX-001",),
                   "the genesis block's empty AuxPoW proves nothing; no rule checks genesis")


@generator("chain", "ela.block.decode")
def block_decode_cases() -> Iterator[CaseSpec]:
    for net in ("mainnet", "testnet", "regnet", "instant"):
        g = P.genesis_block(net)
        yield CaseSpec(f"genesis_{net}", {"block": hx(g)}, OK, TXE_ALL,
                       expect_ok={"hash": g.hash().hex(), "txids": [t.hex() for t in g.txids()]})
    b1 = funded_chain()[0]
    b2 = make_block(b1.hash(), 2, [pay(COIN)], fees=100)
    yield CaseSpec("mined_block", {"block": hx(b2)}, OK, TXE_ALL)
    raw = b2.serialize()
    for cut in (0, 40, 84, 90, len(b2.header.serialize()) + 2, len(raw) - 1):
        yield CaseSpec(f"truncated_at_{cut}", {"block": raw[:cut].hex()}, Reason.TRUNCATED)
    yield CaseSpec("trailing_byte", {"block": (raw + b"\x00").hex()}, Reason.TRAILING_BYTES)
    hl = len(b2.header.serialize())
    yield CaseSpec("tx_count_too_high", {"block": (raw[:hl] + (3).to_bytes(4, "little") + raw[hl + 4:]).hex()},
                   Reason.TRUNCATED, (), "the u32 count promises a third transaction")
    trailer = bytearray(raw)
    trailer[hl - 1] = 0x07
    yield CaseSpec("quirk_trailer_any_byte", {"block": trailer.hex()}, OK, (),
                   "Quirk: the byte after the AuxPoW is read and ignored", expect_ok={"hash": b2.hash().hex()})
    bad_tx = bytearray(raw)
    bad_tx[hl + 4] = 0x06
    yield CaseSpec("forbidden_tx_type", {"block": bad_tx.hex()}, Reason.TX_TYPE_FORBIDDEN, ("TXE-003",))


@generator("chain", "ela.genesis")
def genesis_cases() -> Iterator[CaseSpec]:
    mainnet = "8d7014f2f941caa1972c8033b2f0a860ec8d4938b12bae2c62512852a558f405"
    testnet = "b3314f465ea5556d570bcc473d59a0855b4405a25b1ea0c957c81b2920be1864"
    for net, h in (("mainnet", mainnet), ("testnet", testnet), ("regnet", testnet)):
        yield CaseSpec(net, {"network": net}, OK, ("NET-001",),
                       f"upstream's {net} genesis hash (stored order), GenesisBlock(foundation) in "
                       "Elastos.ELA/core/manager.go, as recorded in shared/research/ela-mainchain.md section 8",
                       expect_ok={"hash": h})
    yield CaseSpec("unknown_network", {"network": "simnet"}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define")
    yield CaseSpec("instant", {"network": "instant"}, OK, ("NET-001",), "regnet's genesis: InstantBlock changes no genesis field",
                   expect_ok={"hash": testnet})


@generator("chain", "ela.reward")
def reward_cases() -> Iterator[CaseSpec]:
    f = fact("block_reward")
    prov = provenance("facts.json", "block_reward", f["sources"])
    for h, v in f["value"]["mainnet"]["examples"].items():
        yield CaseSpec(f"mainnet_{h}", {"network": "mainnet", "height": int(h)}, OK, (), "", provenance=prov,
                       expect_ok={"sela": str(v)})
    vals = f["value"]["values_sela"]
    for net in ("testnet", "regnet"):
        p = f["value"][net]
        for name, h, v in (("before_new_issuance", p["NewELAIssuanceHeight"] - 1, vals["before_new_issuance"]),
                           ("new_issuance", p["NewELAIssuanceHeight"], vals["new_issuance_factor_1"]),
                           ("first_halving", p["HalvingRewardHeight"], vals["factor_2"]),
                           ("second_halving", p["HalvingRewardHeight"] + p["HalvingRewardInterval"], vals["factor_3"])):
            yield CaseSpec(f"{net}_{name}", {"network": net, "height": h}, OK, (), "", provenance=prov,
                           expect_ok={"sela": str(v)})
    yield CaseSpec("mainnet_far_future", {"network": "mainnet", "height": 0xFFFF_FFFF}, OK, (),
                   "after about 4000 halvings the reward is 0 (upstream: float64 division by +Inf)")


@generator("chain", "ela.address.from_pubkey")
def address_cases() -> Iterator[CaseSpec]:
    item = next(t for t in interop("transactions.json") if "signature" in t)
    sig = item["signature"]
    yield CaseSpec("upstream_standard", {"pubkey": sig["public_key_hex"], "prefix": "standard"}, OK, (),
                   provenance=provenance("transactions.json", item["name"], item["source"]),
                   expect_ok={"address": sig["redeem_script_address"], "program_hash": sig["redeem_script_program_hash"]})
    for prefix in ("standard", "deposit", "did"):
        yield CaseSpec(f"derived_{prefix}", {"pubkey": pub("alice").hex(), "prefix": prefix}, OK)
    yield CaseSpec("pubkey_33_bytes_bad_tag", {"pubkey": "05" + pub("alice")[1:].hex(), "prefix": "standard"},
                   Reason.PUBKEY_ENCODING)


# == state transition and fork choice ===============================================================

BLC_RULES = tuple(f"BLC-{i:03d}" for i in range(1, 6))


def ap(pre: Sequence[Block], block: Block) -> dict[str, Any]:
    return {"network": "instant", "pre": [hx(b) for b in pre], "block": hx(block), "now": NOW}


@generator("chain", "ela.block.apply")
def block_apply_cases() -> Iterator[CaseSpec]:
    pre = list(funded_chain())
    b1 = pre[0]
    yield CaseSpec("first_block", ap([], b1), OK, ("ST-001", *BLC_RULES), "genesis + block 1")
    t = pay(COIN)
    b2 = make_block(b1.hash(), 2, [t], fees=100)
    yield CaseSpec("spend_and_fee", ap(pre, b2), OK, ("ST-001", *BLC_RULES, *TXC_RULES),
                   "the transfer spends block 1's coinbase (lock-time quirk) and pays a fee of 100 to the coinbase")
    yield CaseSpec("not_on_tip", ap(pre, make_block(GENESIS, 1, ts=T0 + 5)), Reason.BLOCK_UNKNOWN_PARENT, ("ST-001",))
    yield CaseSpec("unknown_network", {**ap([], b1), "network": "simnet"}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define: there is no genesis to start from")
    yield CaseSpec("wrong_height", ap(pre, make_block(b1.hash(), 3)), Reason.BLOCK_BAD_HEIGHT, ("BLC-001",))
    yield CaseSpec("wrong_bits", ap(pre, make_block(b1.hash(), 2, bits=0x207FFFFE)), Reason.BLOCK_BAD_BITS, ("BLC-002",),
                   "instant blocks carry PowLimitBits")
    yield CaseSpec("quirk_timestamp_equal_median", ap(pre, make_block(b1.hash(), 2, ts=b1.header.timestamp)),
                   OK, ("BLC-003",), "Quirk: the median of {genesis, block 1} (the upper middle of two) is block 1's "
                   "time; a timestamp equal to it is accepted")
    yield CaseSpec("timestamp_before_median", ap(pre, make_block(b1.hash(), 2, ts=b1.header.timestamp - 1)),
                   Reason.BLOCK_TIME_TOO_OLD, ("BLC-003",))
    nf = pay(COIN, lock_time=2, sequence=0xFFFF_FFFF)
    yield CaseSpec("not_final", ap(pre, make_block(b1.hash(), 2, [nf], fees=100)), Reason.TX_NOT_FINAL, ("BLC-004",),
                   "lock time 2 is not below the height 2")
    fin = pay(COIN, lock_time=2, sequence=0xFFFF)
    yield CaseSpec("quirk_final_by_sequence_ffff", ap(pre, make_block(b1.hash(), 2, [fin], fees=100)), OK, ("BLC-004",),
                   "Quirk: every input's sequence 0xFFFF makes a transaction final")
    below = pay(COIN, lock_time=1, sequence=0xFFFF_FFFF)
    yield CaseSpec("lock_time_below_height", ap(pre, make_block(b1.hash(), 2, [below], fees=100)), OK, ("BLC-004",))
    yield CaseSpec("reward_missing_fee", ap(pre, make_block(b1.hash(), 2, [t])), Reason.COINBASE_BAD_REWARD, ("BLC-005",))
    yield CaseSpec("reward_too_high", ap(pre, make_block(b1.hash(), 2, [t], fees=101)), Reason.COINBASE_BAD_REWARD,
                   ("BLC-005",))
    yield CaseSpec("spend_in_same_block", ap(pre, make_block(b1.hash(), 2, [t, B.sign_standard(
        B.transfer([(t.txid(), 0)], [(ph("carol"), COIN - 100)]), [key("bob")])], fees=200)),
        Reason.TX_UNKNOWN_REFERENCE, ("TXC-002",), "an output of the same block cannot be spent")
    b2b = make_block(b1.hash(), 2, [t], fees=100)
    chained = B.sign_standard(B.transfer([(t.txid(), 0)], [(ph("carol"), COIN - 100)]), [key("bob")])
    yield CaseSpec("spend_previous_block_output", ap(pre + [b2b], make_block(b2b.hash(), 3, [chained], fees=100)), OK,
                   ("ST-001",), "block 3 spends the transfer of block 2")
    yield CaseSpec("double_spend_across_blocks", ap(pre + [b2b], make_block(b2b.hash(), 3, [pay(2 * COIN)], fees=100)),
                   Reason.TX_DOUBLE_SPEND, ("TXC-003",))
    yield CaseSpec("immature_coinbase", ap(pre + [b2b], make_block(b2b.hash(), 3, [B.sign_standard(B.transfer(
        [(b2b.transactions[0].txid(), 1)], [(ph("carol"), 1)]), [key("miner")])], fees=b2b.transactions[0].outputs[1].value - 1)),
        Reason.COINBASE_IMMATURE, ("TXC-013",), "block 2's coinbase has lock time 2: 99 more blocks to wait")

    # a WithdrawFromSideChain (v0) that spends a standard output passes the context (its program is no
    # cross-chain script); the chain then remembers the sidechain hashes it names (TXC-024 across blocks)
    def withdrawal(source: tuple[bytes, int], value: int, owner: str, to: str, side: bytes) -> Transaction:
        t = B.transfer([source], [(ph(to), value - 100)]).model_copy(update={
            "tx_type": TxType.WITHDRAW_FROM_SIDECHAIN, "payload": WithdrawFromSideChainPayload(
                block_height=1, genesis_block_address=b"X", sidechain_tx_hashes=(side,))})
        return B.sign_standard(t, [key(owner)])

    cb1 = b1.transactions[0]
    w1 = withdrawal((cb1.txid(), 1), cb1.outputs[1].value, SPENDER, "bob", h32("apply/side"))
    bw = make_block(b1.hash(), 2, [w1], fees=100)
    yield CaseSpec("withdraw_v0_applied", ap(pre, bw), OK, ("TXC-024",),
                   "the block's WithdrawFromSideChain names a sidechain transaction not withdrawn before")
    again = withdrawal((w1.txid(), 0), w1.outputs[0].value, "bob", "carol", h32("apply/side"))
    yield CaseSpec("withdraw_v0_twice_across_blocks", ap(pre + [bw], make_block(bw.hash(), 3, [again], fees=100)),
                   Reason.TX_WITHDRAW_DUPLICATE, ("TXC-024",),
                   "block 2 withdrew the sidechain transaction already; the state remembers it")


def fc(blocks: Sequence[Block]) -> dict[str, Any]:
    return {"network": "instant", "blocks": [hx(b) for b in blocks], "now": NOW}


def branch(parent: Block | None, n: int, label: str, start: int = 1) -> list[Block]:
    """``n`` empty blocks on ``parent`` (genesis if None), mined to ``label``."""
    out_blocks: list[Block] = []
    prev = parent.hash() if parent is not None else GENESIS
    h = parent.header.height if parent is not None else 0
    for i in range(n):
        b = make_block(prev, h + 1, miner=ph(label), ts=T0 + h + 1 + start)
        out_blocks.append(b)
        prev, h = b.hash(), h + 1
    return out_blocks


@generator("chain", "ela.fork_choice")
def fork_choice_cases() -> Iterator[CaseSpec]:
    a = branch(None, 3, "a")
    b = branch(None, 4, "b", start=7)
    yield CaseSpec("linear", fc(a), OK, ("ST-001",), expect_ok={"tip": a[2].hash().hex(), "height": 3})
    yield CaseSpec("reorg_to_heavier", fc(a + b), OK, ("ST-001",), "4 blocks of branch b outweigh 3 of a",
                   expect_ok={"tip": b[3].hash().hex()})
    yield CaseSpec("heavier_first", fc(b + a), OK, ("ST-001",), expect_ok={"tip": b[3].hash().hex()})
    yield CaseSpec("tie_keeps_first", fc(a + b[:3]), OK, ("ST-001",), "equal work does not replace the tip",
                   expect_ok={"tip": a[2].hash().hex()})
    yield CaseSpec("tie_keeps_first_reversed", fc(b[:3] + a), OK, ("ST-001",), expect_ok={"tip": b[2].hash().hex()})
    yield CaseSpec("orphans_before_parents", fc([a[2], a[1], a[0]]), OK, ("ST-001",),
                   "blocks 3 and 2 wait as orphans until block 1 arrives", expect_ok={"tip": a[2].hash().hex()})
    yield CaseSpec("orphan_never_connected", fc([a[0], a[2]]), OK, ("ST-001",),
                   expect_ok={"tip": a[0].hash().hex(), "statuses": ["tip", "orphan"]})
    bad = make_block(b[1].hash(), 3, miner=ph("b"), ts=T0 + 10, bits=0x207FFFFE)
    after = branch(bad, 2, "b", start=11)
    yield CaseSpec("invalid_on_heavier_branch", fc(a + b[:2] + [bad] + after), OK, ("ST-001", "BLC-002"),
                   "branch b would be 5 blocks, but its third breaks BLC-002: it and its descendants are invalid",
                   expect_ok={"tip": a[2].hash().hex()})
    yield CaseSpec("duplicate_block", fc([a[0], a[0]]), OK, ("ST-001",),
                   expect_ok={"statuses": ["tip", "duplicate"]})
    yield from _mutated_cases()
    yield CaseSpec("empty", fc([]), OK, (), "the genesis block is the tip",
                   expect_ok={"tip": GENESIS.hex(), "height": 0})
    yield CaseSpec("undecodable_block", {**fc(a), "blocks": [hx(a[0])[:-2]]}, Reason.TRUNCATED)
    yield CaseSpec("unknown_network", {**fc(a), "network": "simnet"}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define: there is no genesis to start from")


def _with_txs(block: Block, txs: Sequence[Transaction]) -> Block:
    """``block``'s header (so its hash) over other transactions: what a relay can send under an honest hash."""
    return block.model_copy(update={"transactions": tuple(txs)})


def _bad_signature(tx: Transaction) -> Transaction:
    p = tx.programs[0]
    param = p.parameter[:-1] + bytes([p.parameter[-1] ^ 1])
    return tx.model_copy(update={"programs": (p.model_copy(update={"parameter": param}), *tx.programs[1:])})


def _forged_aux(block: Block) -> Block:
    """``block`` under the same hash with its AuxPoW's parent coinbase changed (AUX-001 breaks)."""
    aux = block.header.auxpow
    coinbase = aux.par_coinbase_tx.model_copy(update={"lock_time": aux.par_coinbase_tx.lock_time ^ 1})
    return block.model_copy(update={"header": block.header.model_copy(
        update={"auxpow": aux.model_copy(update={"par_coinbase_tx": coinbase})})})


def _mutated_cases() -> Iterator[CaseSpec]:
    """A block is remembered as invalid only for what its hash commits to (:func:`spec.chain.state.remembers_refusal`):
    a relay that corrupts the AuxPoW, a signature or the transactions under an honest header gets the block refused,
    and the honest block of the same hash is still taken."""
    b1 = funded_chain()[0]
    t2 = pay(1_000_000)
    b2 = make_block(b1.hash(), 2, [t2], fees=100)
    bad_aux = _forged_aux(b1)
    yield CaseSpec("mutated_auxpow_then_honest", fc([bad_aux, b1]), OK, ("ST-001", "AUX-001"),
                   "the first copy's parent coinbase is not the one the AuxPoW's merkle branch proves: refused, but "
                   "the hash does not commit to the AuxPoW, so the honest block of the same hash is taken",
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["refused", "tip"],
                              "reasons": [Reason.AUXPOW_PARENT_MERKLE_MISMATCH.value, None]})
    forged = _with_txs(b2, [b2.transactions[0], _bad_signature(t2)])
    yield CaseSpec("mutated_signature_then_honest", fc([b1, forged, b2]), OK, ("ST-001", "CRY-006"),
                   "a txid leaves out the programs: a corrupted signature does not change the block hash",
                   expect_ok={"tip": b2.hash().hex(), "statuses": ["valid", "refused", "tip"],
                              "reasons": [None, Reason.SIGNATURE_INVALID.value, None]})
    cb_program = b1.transactions[0].model_copy(update={"programs": (Program(parameter=b"", code=bytes(23)),)})
    yield CaseSpec("coinbase_program_then_honest", fc([_with_txs(b1, [cb_program]), b1]), OK, ("ST-001", "TX-015"),
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["refused", "tip"],
                              "reasons": [Reason.COINBASE_HAS_PROGRAMS.value, None]})
    swapped = _with_txs(b1, [b1.transactions[0].model_copy(update={"outputs": b1.transactions[0].outputs[:1]})])
    yield CaseSpec("swapped_body_then_honest", fc([swapped, b1]), OK, ("ST-001", "TX-006", "BLK-011"),
                   "the first copy's coinbase has one output (TX-006, a rule its hash would fix), but its "
                   "transactions are not the ones the header's merkle root commits to: refused, not remembered",
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["refused", "tip"],
                              "reasons": [Reason.TX_OUTPUT_COUNT.value, None]})
    # three transactions: [coinbase, a, b] has the merkle root of [coinbase, a, b, b] (CVE-2012-2459)
    ta = signed(B.transfer([(t2.txid(), 0)], [(ph("carol"), 999_000)]), "bob")
    tb = signed(B.transfer([(t2.txid(), 1)], [(ph("carol"), t2.outputs[1].value - 1_000)]), SPENDER)
    b3 = make_block(b2.hash(), 3, [ta, tb], fees=2_000)
    doubled = _with_txs(b3, [*b3.transactions, tb])
    yield CaseSpec("duplicate_last_then_honest", fc([b1, b2, doubled, b3]), OK, ("ST-001", "BLK-008"),
                   "the last transaction repeated keeps the merkle root (duplicate-last): refused, not remembered",
                   expect_ok={"tip": b3.hash().hex(), "statuses": ["valid", "valid", "refused", "tip"],
                              "reasons": [None, None, Reason.BLOCK_DUPLICATE_TX.value, None]})
    yield CaseSpec("refused_orphan_then_honest", fc([forged, b1, b2]), OK, ("ST-001", "CRY-006"),
                   "the forged copy waits as an orphan, is refused when block 1 arrives, and is forgotten",
                   expect_ok={"tip": b2.hash().hex(), "statuses": ["refused", "valid", "tip"],
                              "reasons": [Reason.SIGNATURE_INVALID.value, None, None]})
    yield CaseSpec("orphans_wait_past_a_refusal", fc([b3, forged, b1, b2]), OK, ("ST-001", "CRY-006"),
                   "block 3 waits for block 2's hash; the forged block 2 is refused and forgotten, so block 3 keeps "
                   "waiting and is connected after the honest block 2",
                   expect_ok={"tip": b3.hash().hex(), "statuses": ["tip", "refused", "valid", "valid"],
                              "reasons": [None, Reason.SIGNATURE_INVALID.value, None, None]})
    bad_aux_b2 = _forged_aux(b2)
    assert bad_aux_b2.hash() == b2.hash()
    yield CaseSpec("forged_orphan_refused_before_honest", fc([bad_aux_b2, b2, b1]), OK,
                   ("ST-001", "AUX-001"),
                   "block sanity runs before a block is kept as an orphan (as upstream's processBlock does): the "
                   "forged copy is refused at once, so the honest block 2 that comes next waits as an orphan, and "
                   "is connected when block 1 arrives",
                   expect_ok={"tip": b2.hash().hex(), "statuses": ["refused", "tip", "valid"],
                              "reasons": [Reason.AUXPOW_PARENT_MERKLE_MISMATCH.value, None, None]})
    one_output = B.coinbase(2, NET, MINER).model_copy(update={"outputs": B.coinbase(2, NET, MINER).outputs[:1]})
    unfit = make_block(b1.hash(), 2, coinbase=one_output)
    child = make_block(unfit.hash(), 3)
    yield CaseSpec("sanity_before_orphan", fc([unfit, child, b1]), OK, ("ST-001", "TX-006"),
                   "block 2's coinbase has one output (TX-006, which its hash fixes): it is invalid as soon as it "
                   "comes, though its parent is unknown, and the block on it descends from an invalid block",
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["invalid", "invalid", "tip"],
                              "reasons": [Reason.TX_OUTPUT_COUNT.value, "descends_from_invalid", None]})
    ahead = make_block(b1.hash(), 2, ts=NOW + 7201)
    yield CaseSpec("time_too_far_not_remembered", fc([b1, ahead, ahead]), OK, ("ST-001", "BLK-001"),
                   "a verdict of the node's clock, not of the block: each copy is checked again",
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["tip", "refused", "refused"],
                              "reasons": [None, Reason.BLOCK_TIME_TOO_FAR.value, Reason.BLOCK_TIME_TOO_FAR.value]})
    greedy = make_block(b1.hash(), 2, fees=1)
    yield CaseSpec("committed_refusal_remembered", fc([b1, greedy, greedy]), OK, ("ST-001", "BLC-005"),
                   "the coinbase claims a fee the block does not have: the hash commits to that, so the block is "
                   "invalid for good and its second copy a duplicate",
                   expect_ok={"tip": b1.hash().hex(), "statuses": ["tip", "invalid", "duplicate"],
                              "reasons": [None, Reason.COINBASE_BAD_REWARD.value, None]})
