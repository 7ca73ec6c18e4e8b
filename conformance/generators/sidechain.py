"""Generators of the ``sidechain`` suite: the ID sidechain's genesis and X address, sidechain headers
merge-mined through a main block (built here with ``spec.sidechain.builder``), and every way the
SideAuxPow and the sidechain proof of work fail.

Upstream oracle: the genesis block's X address is the main chain's ``DIDSideChainAddress``
``XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ`` (``Elastos.ELA/common/config``), so the genesis hash the spec
builds is upstream's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

from spec.chain.auxpow import make_auxpow, with_parent_nonce
from spec.chain.builder import attach_auxpow, block_template, coinbase, meets_target, transfer
from spec.chain.merkle import merkle_branch, merkle_root
from spec.chain.params import genesis_block, network
from spec.chain.pow import INSTANT_POW_LIMIT_BITS
from spec.errors import Reason
from spec.sidechain import block as SB
from spec.sidechain import params as SP
from spec.sidechain import spv as SPV
from spec.sidechain import withdrawal as WD
from spec.sidechain.builder import side_pow_tx, solve_side
from spec.chain.builder import sign_standard
from spec.chain.tx import CoinBasePayload, RecordPayload
from spec.sidechain.validation import EDITION_RECORD_TYPE
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import (
    CrossChainEntry,
    CrossChainOutput,
    Input,
    OutPoint,
    Output,
    Transaction,
    TransferAssetPayload,
    TransferCrossChainAssetPayload,
    TxType,
)
from spec.crypto.scripts import standard_redeem_script
from spec.crypto.p256 import public_key_from_private
from spec.did import request as DR
from spec.did.syntax import parse_did_url
from spec.sidechain.crosschain import ZERO_PROGRAM_HASH
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain.tx import RechargeToSideChainPayload, RegisterDIDPayload, SideTransaction, SideTxType

from conformance.generators.common import det_bytes
from conformance.vectors import CaseSpec, generator

OK = "ok"
ID_GENESIS_DISPLAY = "56be936978c261b2e649d58dbfaf3f23d4a868274f5522cd2adb4308a955c4a3"
ID_X_ADDRESS = "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ"
AUX_RULES = ("SAUX-001", "SAUX-002", "SAUX-003", "SBLK-001", "POW-001", "POW-002", "POW-003")


@generator("sidechain", "sidechain.genesis")
def genesis() -> Iterator[CaseSpec]:
    for name in SP.ID_NETWORKS:
        yield CaseSpec(name, {"network": name}, OK, (), "the ID sidechain's genesis (Elastos.ELA.SideChain.ID params.go)",
                       expect_ok={"hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex(), "x_address": ID_X_ADDRESS})


@generator("sidechain", "sidechain.x_address")
def x_addresses() -> Iterator[CaseSpec]:
    yield CaseSpec("id_sidechain", {"genesis_hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex()}, OK, (),
                   "DIDSideChainAddress of the main chain", expect_ok={"x_address": ID_X_ADDRESS})
    yield CaseSpec("main_chain_genesis", {"genesis_hash": genesis_block("mainnet").hash().hex()}, OK, (),
                   "any 32-byte genesis hash has an X address")


def _side_template(bits: int = INSTANT_POW_LIMIT_BITS, height: int = 1) -> SB.SideBlock:
    gen = SP.side_genesis_block()
    header = gen.header.model_copy(update={"previous": gen.hash(), "height": height,
                                           "timestamp": gen.header.timestamp + 120, "bits": bits})
    return gen.model_copy(update={"header": header})


def _main_template(extra: tuple = ()) -> object:
    p = network("instant")
    g = genesis_block("instant")
    return block_template(g.hash(), 1, g.header.timestamp + 1, INSTANT_POW_LIMIT_BITS,
                          [coinbase(1, p, bytes(21)), *extra])


@cache
def mined(bits: int = INSTANT_POW_LIMIT_BITS) -> SB.SideBlock:
    side = _side_template(bits)
    s, _ = solve_side(side, _main_template(), side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1))
    return s


def _hex(h: SB.SideHeader) -> str:
    return h.serialize().hex()


@generator("sidechain", "sidechain.header.decode")
def header_decode() -> Iterator[CaseSpec]:
    h = mined().header
    yield CaseSpec("mined", {"header": _hex(h)}, OK, (), expect_ok={"height": 1, "side_aux_merkle_index": 1})
    yield CaseSpec("genesis", {"header": _hex(SP.side_genesis_block().header)}, OK, (),
                   expect_ok={"hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex(), "branch_length": 0})
    raw = h.serialize()
    yield CaseSpec("truncated", {"header": raw[:-2].hex()}, Reason.TRUNCATED)
    yield CaseSpec("trailing_byte", {"header": (raw + b"\x00").hex()}, Reason.TRAILING_BYTES)
    tx_end = 84 + len(h.side_auxpow.side_aux_block_tx.serialize())
    huge_count = raw[:tx_end] + (0xFFFFFFFF).to_bytes(4, "little") + raw[tx_end + 4:]
    yield CaseSpec("branch_count_beyond_data", {"header": huge_count.hex()}, Reason.TRUNCATED, (),
                   "a u32 branch count of 2^32-1 with a few hashes behind it")


def _check(name: str, header: SB.SideHeader, means: str | Reason, rules: tuple[str, ...], desc: str = "",
           net: str = "instant") -> CaseSpec:
    return CaseSpec(name, {"header": _hex(header), "network": net}, means, rules, desc)


def _with_aux(h: SB.SideHeader, **change: object) -> SB.SideHeader:
    return h.model_copy(update={"side_auxpow": h.side_auxpow.model_copy(update=change)})


@generator("sidechain", "sidechain.header.check")
def header_check() -> Iterator[CaseSpec]:
    good = mined().header
    yield _check("mined_instant", good, OK, AUX_RULES, "one Bitcoin parent header proves the main and side blocks")
    harder = mined(0x1F7FFFFF).header
    yield _check("side_target_harder_than_main", harder, OK, ("POW-003",),
                 "the parent nonce is ground until it meets the sidechain's own (harder) target too")
    main_hdr = good.side_auxpow.main_block_header

    # the main header's AuxPoW must prove the main header: its hash changes with the timestamp
    other_main = main_hdr.model_copy(update={"timestamp": main_hdr.timestamp + 1})
    yield _check("main_auxpow_for_another_block", _with_aux(good, main_block_header=other_main),
                 Reason.AUXPOW_ROOT_MISSING, (), "AuxPow.Check of the main header fails first")

    # SAUX-001: a TransferAsset in place of the SideChainPow, committed in the main block all the same
    side = _side_template()
    fake = transfer([(bytes(32), 0)], [(bytes(21), 1)])
    s, _ = solve_side(side, _main_template(), fake)
    yield _check("aux_tx_not_sidechain_pow", s.header, Reason.SIDE_AUX_NOT_SIDECHAIN_POW, ("SAUX-001",))

    # SAUX-002: the branch or the index do not lead to the main merkle root
    yield _check("aux_index_wrong", _with_aux(good, side_aux_merkle_index=0), Reason.SIDE_AUX_MERKLE, ("SAUX-002",),
                 "index 0 folds the branch the other way round")
    branch = good.side_auxpow.side_aux_merkle_branch
    flipped = (bytes([branch[0][0] ^ 1]) + branch[0][1:],) + branch[1:]
    yield _check("aux_branch_changed", _with_aux(good, side_aux_merkle_branch=flipped), Reason.SIDE_AUX_MERKLE,
                 ("SAUX-002",))
    yield _check("aux_branch_missing", _with_aux(good, side_aux_merkle_branch=()), Reason.SIDE_AUX_MERKLE, ("SAUX-002",))

    # SAUX-003: the SideChainPow names another sidechain block (a sibling at the same height)
    sibling = _side_template().header.model_copy(update={"nonce": 7})
    s, _ = solve_side(_side_template(), _main_template(), side_pow_tx(sibling.hash(), SP.side_genesis_block().hash(), 1))
    yield _check("aux_names_another_block", s.header, Reason.SIDE_AUX_BLOCK_HASH, ("SAUX-003",))

    # the sidechain proof of work, with the side bits as the target
    yield _check("side_target_zero", _resolved(_side_template(0x01003456)), Reason.POW_TARGET_NOT_POSITIVE, ("POW-001",))
    yield _check("side_target_above_limit", _resolved(_side_template(0x2100FFFF)), Reason.POW_TARGET_ABOVE_LIMIT,
                 ("POW-002",))
    yield _check("parent_hash_above_side_target", _resolved(_side_template(0x03000001)),
                 Reason.POW_HASH_ABOVE_TARGET, ("POW-003",), "the main target is met, the sidechain's is not")

    # SBLK-001: a header over MaxBlockHeaderSize is refused before any other check
    n = SB.MAX_SIDE_HEADER_SIZE // 32
    yield _check("header_too_large", _with_aux(good, side_aux_merkle_branch=(bytes(32),) * n),
                 Reason.SIDE_HEADER_TOO_LARGE, ("SBLK-001",), f"a branch of {n} hashes")


def _resolved(side: SB.SideBlock) -> SB.SideHeader:
    """A SideAuxPow that is right in every part but whose parent header only meets the main target."""
    main = _main_template()
    pow_tx = side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1)
    txs = (main.transactions[0], pow_tx)
    main = main.model_copy(update={"transactions": txs,
                                   "header": main.header.model_copy(update={"merkle_root": merkle_root([t.txid() for t in txs])})})
    aux = make_auxpow(main.hash())
    nonce = next(n for n in range(1 << 16) if meets_target(with_parent_nonce(aux, n), main.header.bits)
                 and not meets_target(with_parent_nonce(aux, n), 0x03000001))
    mined_main = attach_auxpow(main, with_parent_nonce(aux, nonce))
    sa = SB.SideAuxPow(side_aux_block_tx=pow_tx, side_aux_merkle_branch=tuple(merkle_branch([t.txid() for t in txs], 1)),
                       side_aux_merkle_index=1, main_block_header=mined_main.header)
    return side.header.model_copy(update={"side_auxpow": sa})


# -- sidechain transactions, deposits and withdrawals -----------------------------------------------------------

X_PH = SP.genesis_program_hash(SP.side_genesis_block().hash())


def _user(label: str) -> tuple[bytes, str]:
    ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(det_bytes(f"side/user/{label}", 32)))).data
    return ph, address_from_program_hash(Uint168(data=ph))


def _out(ph: bytes, value: int, **kw: object) -> Output:
    return Output(asset_id=ELA_ASSET_ID, value=value, output_lock=0, program_hash=ph, **kw)


def _inp(label: str) -> Input:
    return Input(previous=OutPoint(txid=det_bytes(f"side/in/{label}", 32), index=0), sequence=0xFFFF_FFFF)


def _deposit_v0(entries: list[tuple[str, int, int]], version: int = 0, extra_outputs: tuple = ()) -> Transaction:
    """A main-chain v0 deposit: output i of value v to the X address, entry (address, amount)."""
    outs = tuple(_out(X_PH, v) for _, _, v in entries) + tuple(extra_outputs)
    payload = TransferCrossChainAssetPayload(entries=tuple(
        CrossChainEntry(address=a.encode(), output_index=i, amount=amt) for i, (a, amt, _) in enumerate(entries)))
    return Transaction(version=version, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload=payload,
                       inputs=(_inp("dep"),), outputs=outs)


def _deposit_v1(targets: list[tuple[str, int, int]]) -> Transaction:
    outs = tuple(_out(X_PH, v, type=3, payload=CrossChainOutput(version=0, target_address=a.encode(), target_amount=amt,
                                                                 target_data=b"")) for a, amt, v in targets)
    return Transaction(version=0x09, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=1,
                       payload=TransferCrossChainAssetPayload(), inputs=(_inp("dep1"),), outputs=outs)


def _recharge(main: Transaction, pays: list[tuple[bytes, int]], version: int = 1) -> SideTransaction:
    payload = (RechargeToSideChainPayload(main_chain_transaction_hash=main.txid()) if version == 1 else
               RechargeToSideChainPayload(merkle_proof=b"", main_chain_transaction=main.serialize()))
    return SideTransaction(tx_type=SideTxType.RECHARGE_TO_SIDECHAIN, payload_version=version, payload=payload,
                           outputs=tuple(_out(ph, v) for ph, v in pays))


def _rc(name: str, main: Transaction, recharge: SideTransaction, means: str | Reason, rules: tuple[str, ...],
        desc: str = "", expect: dict | None = None, **extra: object) -> CaseSpec:
    inp: dict[str, object] = {"recharge": recharge.serialize().hex(), "main_tx": main.serialize().hex(), "credited": []}
    inp.update(extra)
    return CaseSpec(name, inp, means, rules, desc, expect_ok=expect)


DEPOSIT_RULES = ("XCH-001", "XCH-002", "XCH-003", "XCH-004", "XCH-005", "XCH-006")


@generator("sidechain", "sidechain.recharge.check")
def recharge_check() -> Iterator[CaseSpec]:
    (a_ph, a), (b_ph, b) = _user("a"), _user("b")
    main = _deposit_v0([(a, 5 * 10**8, 5 * 10**8 + 10_000), (b, 123_456, 200_000)])
    yield _rc("v0_two_entries", main, _recharge(main, [(a_ph, 5 * 10**8), (b_ph, 123_456)]), OK, DEPOSIT_RULES,
              "each entry credited exactly, at rate 1", {"total": str(5 * 10**8 + 123_456)})
    yield _rc("v0_carried_whole", main, _recharge(main, [(a_ph, 5 * 10**8), (b_ph, 123_456)], version=0), OK,
              DEPOSIT_RULES, "payload v0 carries the main-chain transaction")
    other = _out(_user("c")[0], 7)
    mixed = _deposit_v0([(a, 1000, 20_000)], extra_outputs=(other,))
    yield _rc("entries_not_paying_x_are_ignored", mixed, _recharge(mixed, [(a_ph, 1000)]), OK, ("XCH-005", "XCH-006"))
    v1 = _deposit_v1([(a, 70_000, 80_000)])
    yield _rc("v1_cross_chain_outputs", v1, _recharge(v1, [(a_ph, 70_000)]), OK, DEPOSIT_RULES,
              "Deviation: a v1 deposit's OTCrossChain outputs name address and amount", {"total": "70000"})
    half = _deposit_v0([(a, 1001, 20_000)])
    yield _rc("rate_half_truncates", half, _recharge(half, [(a_ph, 500)]), OK, ("XCH-005",),
              "float64(1001) * 0.5 = 500.5, truncated to 500", {"total": "500"}, exchange_rate=0.5)
    big = 2**53 + 1
    huge = _deposit_v0([(a, big, big + 10_000)])
    yield _rc("rate_one_above_2_53_rounds", huge, _recharge(huge, [(a_ph, 2**53)]), OK, ("XCH-005",),
              "float64(2^53 + 1) is 2^53: upstream's conversion rounds above 2^53", {"total": str(2**53)})
    yield _rc("rate_tenth", half, _recharge(half, [(a_ph, 100)]), OK, ("XCH-005",),
              "float64(1001) * 0.1 = 100.10000000000001, truncated to 100", {"total": "100"}, exchange_rate=0.1)

    yield _rc("already_credited", main, _recharge(main, [(a_ph, 5 * 10**8), (b_ph, 123_456)]),
              Reason.DEPOSIT_DUPLICATE, ("XCH-001",), credited=[main.txid().hex()])
    plain = Transaction(version=0x09, tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                        inputs=(_inp("plain"),), outputs=(_out(X_PH, 50_000),))
    yield _rc("main_tx_not_a_deposit", plain, _recharge(plain, []), Reason.DEPOSIT_NOT_CROSS_CHAIN, ("XCH-002",))
    greedy = _deposit_v0([(a, 10_001, 20_000)])
    yield _rc("amount_above_value_minus_fee", greedy, _recharge(greedy, [(a_ph, 10_001)]), Reason.DEPOSIT_AMOUNT,
              ("XCH-003",), "20,000 - 10,000 leaves at most 10,000")
    neg = _deposit_v0([(a, -1, 20_000)])
    yield _rc("negative_amount", neg, _recharge(neg, []), Reason.DEPOSIT_AMOUNT, ("XCH-003",))
    bad_addr = _deposit_v0([(a[:-1] + ("1" if a[-1] != "1" else "2"), 1000, 20_000)])
    yield _rc("bad_address", bad_addr, _recharge(bad_addr, [(a_ph, 1000)]), Reason.DEPOSIT_ADDRESS, ("XCH-004",),
              "the address checksum fails")
    yield _rc("output_missing", main, _recharge(main, [(a_ph, 5 * 10**8)]), Reason.DEPOSIT_OUTPUT_MISSING, ("XCH-005",))
    yield _rc("output_to_another_address", main, _recharge(main, [(a_ph, 5 * 10**8), (a_ph, 123_456)]),
              Reason.DEPOSIT_OUTPUT_MISSING, ("XCH-005",))
    yield _rc("extra_output", main, _recharge(main, [(a_ph, 5 * 10**8), (b_ph, 123_456), (b_ph, 1)]),
              Reason.DEPOSIT_TOTAL, ("XCH-006",), "a third output mints what was not deposited")
    yield _rc("rate_not_applied", half, _recharge(half, [(a_ph, 1001)]), Reason.DEPOSIT_OUTPUT_MISSING, ("XCH-005",),
              exchange_rate=0.5)


# -- recharge v0: the SPV merkle proof ---------------------------------------------------------------------


def _main_block(txs: Sequence[Transaction], height: int = 7, label: str = "spv") -> object:
    """A main block at ``height`` holding a coinbase and ``txs`` (its header is what the SPV store keeps)."""
    p = network("instant")
    cb = coinbase(height, p, bytes(21), nonce=det_bytes(f"{label}/cb", 8))
    return block_template(det_bytes(f"{label}/prev", 32), height, 1_600_000_000 + height, INSTANT_POW_LIMIT_BITS,
                          [cb, *txs])


def _fillers(label: str, count: int) -> list[Transaction]:
    """Other main-chain transactions that share the deposit's block."""
    return [Transaction(version=0x09, tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                        inputs=(_inp(f"{label}/{i}"),), outputs=(_out(_user(f"filler{i}")[0], 1000 + i),))
            for i in range(count)]


def _pc(name: str, proof: bytes | SPV.MerkleProof, main_tx: Transaction | bytes, headers: Sequence[object],
        means: str | Reason, rules: tuple[str, ...], desc: str = "", expect: dict | None = None) -> CaseSpec:
    raw = proof.serialize() if isinstance(proof, SPV.MerkleProof) else proof
    tx = main_tx.serialize() if isinstance(main_tx, Transaction) else main_tx
    return CaseSpec(name, {"merkle_proof": raw.hex(), "main_tx": tx.hex(),
                           "main_headers": [h.serialize().hex() for h in headers]},  # type: ignore[attr-defined]
                    means, rules, desc, expect_ok=expect)


SPV_RULES = tuple(f"SPV-{i:03d}" for i in range(1, 10))


@generator("sidechain", "sidechain.recharge.proof")
def recharge_proof() -> Iterator[CaseSpec]:
    a = _user("a")[1]
    deposit = _deposit_v0([(a, 50_000, 60_000)])
    block = _main_block([*_fillers("five", 2), deposit, *_fillers("five-b", 1)])
    txids = block.txids()  # type: ignore[attr-defined]
    hdr = block.header  # type: ignore[attr-defined]
    at = txids.index(deposit.txid())

    def proof(matched: Sequence[int] = (at,), b: object = block) -> SPV.MerkleProof:
        return SPV.build_merkle_proof(b.txids(), matched, b.hash(), b.header.height)  # type: ignore[attr-defined]

    good = proof()
    ok = {"txid": deposit.txid().hex(), "block_hash": hdr.hash().hex(), "height": hdr.height}
    yield _pc("deposit_in_five_tx_block", good, deposit, [hdr], OK, SPV_RULES,
              "the deposit is leaf 3 of 5 (NewMerkleBlock's traversal)", ok)
    last = _main_block([*_fillers("last", 3), deposit], label="last")
    yield _pc("deposit_is_the_odd_last_leaf", proof((4,), last), deposit, [last.header], OK,  # type: ignore[attr-defined]
              ("SPV-005", "SPV-006", "SPV-007", "SPV-008", "SPV-009"),
              "leaf 4 of 5 has no sibling: its parents pair it with itself")
    alone = block_template(det_bytes("alone/prev", 32), 3, 1_600_000_003, INSTANT_POW_LIMIT_BITS, [deposit])
    yield _pc("single_transaction_block", proof((0,), alone), deposit, [alone.header], OK, ("SPV-005", "SPV-009"),
              "one leaf is its own root")
    yield _pc("two_matched_leaves", proof((1, at)), deposit, [hdr], OK, ("SPV-009",),
              "a proof may match more transactions than the one carried")
    big = _main_block([*_fillers("big", 20), deposit, *_fillers("big-b", 16)], label="big")
    yield _pc("thirty_eight_transactions", proof((21,), big), deposit, [big.header], OK,  # type: ignore[attr-defined]
              ("SPV-006", "SPV-008"), "a deeper tree with odd levels")
    other_hdr = _main_block(_fillers("other", 2), height=8, label="other").header  # type: ignore[attr-defined]
    yield _pc("among_other_headers", good, deposit, [other_hdr, hdr], OK, ("SPV-003",))

    raw = good.serialize()
    yield _pc("proof_trailing_byte", raw + b"\x00", deposit, [hdr], Reason.DEPOSIT_PROOF_MALFORMED, ("SPV-001",),
              "Deviation: upstream ignores what follows the proof")
    yield _pc("proof_truncated", raw[:-1], deposit, [hdr], Reason.DEPOSIT_PROOF_MALFORMED, ("SPV-001",))
    too_many = raw[:40] + (10_001).to_bytes(4, "little") + raw[44:]
    yield _pc("proof_too_many_hashes", too_many, deposit, [hdr], Reason.DEPOSIT_PROOF_MALFORMED, ("SPV-001",),
              "more than MaxTxPerBlock hashes")
    yield _pc("proof_too_many_flag_bytes", raw[:44 + 32 * len(good.hashes)] + b"\xfd\xe3\x04" + bytes(1251), deposit,
              [hdr], Reason.DEPOSIT_PROOF_MALFORMED, ("SPV-001",), "more than MaxTxPerBlock / 8 flag bytes")
    yield _pc("main_tx_garbage", good, deposit.serialize()[:-3], [hdr], Reason.DEPOSIT_PROOF_MALFORMED, ("SPV-002",))
    yield _pc("block_not_on_main_chain", good, deposit, [other_hdr], Reason.DEPOSIT_PROOF_BLOCK, ("SPV-003",),
              "the SPV store has no such block")
    yield _pc("no_headers", good, deposit, [], Reason.DEPOSIT_PROOF_BLOCK, ("SPV-003",))
    yield _pc("height_wrong", good.model_copy(update={"height": hdr.height + 1}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_BLOCK, ("SPV-004",), "Deviation: upstream does not check the height")
    other_block = good.model_copy(update={"block_hash": other_hdr.hash(), "height": other_hdr.height})
    yield _pc("points_at_another_main_block", other_block, deposit, [hdr, other_hdr], Reason.DEPOSIT_PROOF_ROOT,
              ("SPV-008",), "a main-chain block that does not hold the deposit")
    yield _pc("zero_transactions", good.model_copy(update={"transactions": 0}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_TREE, ("SPV-005",), "upstream: No transactions in merkleblock")
    yield _pc("no_flag_bits", good.model_copy(update={"flags": b""}), deposit, [hdr], Reason.DEPOSIT_PROOF_TREE,
              ("SPV-005",), "upstream: No flag bits")
    full = SPV.MerkleProof(block_hash=hdr.hash(), height=hdr.height, transactions=len(txids),
                           hashes=tuple(txids) + (txids[0],), flags=b"\xff\xff")
    yield _pc("more_hashes_than_transactions", full, deposit, [hdr], Reason.DEPOSIT_PROOF_TREE, ("SPV-005",))
    yield _pc("extra_hash", good.model_copy(update={"hashes": good.hashes + (bytes(32),)}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_TREE, ("SPV-006",), "Deviation: upstream ignores a hash left over")
    yield _pc("missing_hash", good.model_copy(update={"hashes": good.hashes[:-1]}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_TREE, ("SPV-006",), "upstream: Ran out of hashes")
    yield _pc("flags_run_out", good.model_copy(update={"flags": b"\xff"}), deposit, [hdr], Reason.DEPOSIT_PROOF_TREE,
              ("SPV-006",), "every node descends: the 8 bits end before the leaves do")
    yield _pc("extra_flag_byte", good.model_copy(update={"flags": good.flags + b"\x00"}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_TREE, ("SPV-006",), "Deviation: upstream ignores flag bytes left over")
    yield _pc("padding_bit_set", good.model_copy(update={"flags": good.flags[:-1] + bytes((good.flags[-1] | 0x80,))}),
              deposit, [hdr], Reason.DEPOSIT_PROOF_TREE, ("SPV-006",), "a bit after the last one used is set")
    yield _pc("flags_root_not_descended", good.model_copy(update={"flags": bytes((good.flags[0] & 0xFE,))
                                                                   + good.flags[1:]}),
              deposit, [hdr], Reason.DEPOSIT_PROOF_TREE, ("SPV-006",),
              "flag 0 at the root takes the first hash as the root and leaves the others")
    # the CVE-2012-2459 shape: a 3-transaction block claimed as 4, its last leaf repeated
    three = _main_block([_fillers("cve", 1)[0], deposit], label="cve")
    t3 = three.txids()  # type: ignore[attr-defined]
    dup = SPV.build_merkle_proof([*t3, t3[2]], [3], three.hash(), three.header.height)  # type: ignore[attr-defined]
    yield _pc("duplicated_last_leaf", dup, deposit, [three.header], Reason.DEPOSIT_PROOF_TREE,  # type: ignore[attr-defined]
              ("SPV-007",), "[a, b, c, c] has the root of [a, b, c] (CVE-2012-2459); upstream: DUP HASH CRASH")
    forged = good.model_copy(update={"hashes": (bytes(32),) + good.hashes[1:]})
    yield _pc("sibling_hash_forged", forged, deposit, [hdr], Reason.DEPOSIT_PROOF_ROOT, ("SPV-008",))
    wrong_count = SPV.build_merkle_proof(txids[:4], [at], hdr.hash(), hdr.height)
    yield _pc("transaction_count_wrong", wrong_count, deposit, [hdr], Reason.DEPOSIT_PROOF_ROOT, ("SPV-008",),
              "a tree of the block's first 4 transactions")
    yield _pc("proof_for_another_transaction", proof((1,)), deposit, [hdr], Reason.DEPOSIT_PROOF_TX, ("SPV-009",))
    cleared = SPV.build_merkle_proof(txids, [at], hdr.hash(), hdr.height)
    bits = [(cleared.flags[i // 8] >> (i % 8)) & 1 for i in range(len(cleared.flags) * 8)]
    leaf_bit = max(i for i, b in enumerate(bits) if b)  # the deposit's leaf is the last bit set
    flags = bytearray(cleared.flags)
    flags[leaf_bit // 8] &= ~(1 << (leaf_bit % 8)) & 0xFF
    yield _pc("flags_match_cleared", cleared.model_copy(update={"flags": bytes(flags)}), deposit, [hdr],
              Reason.DEPOSIT_PROOF_TX, ("SPV-009",), "the deposit's leaf is present but not marked: no transaction matched")
    other_dep = _deposit_v0([(a, 40_000, 60_000)])
    yield _pc("carried_transaction_swapped", good, other_dep, [hdr], Reason.DEPOSIT_PROOF_TX, ("SPV-009",),
              "a valid proof of one deposit carrying another")


def _withdraw(entries: list[tuple[str, int, int]], outputs: list[Output]) -> SideTransaction:
    payload = TransferCrossChainAssetPayload(entries=tuple(
        CrossChainEntry(address=a.encode(), output_index=i, amount=amt) for a, i, amt in entries))
    return SideTransaction(tx_type=SideTxType.TRANSFER_CROSS_CHAIN_ASSET, payload=payload, inputs=(_inp("w"),),
                           outputs=tuple(outputs))


WITHDRAW_RULES = ("XCH-010", "XCH-011", "XCH-012", "XCH-013", "XCH-014", "XCH-015")


@generator("sidechain", "sidechain.withdraw.check")
def withdraw_check() -> Iterator[CaseSpec]:
    a, (c_ph, _) = _user("a")[1], _user("change")
    burn = ZERO_PROGRAM_HASH
    good = _withdraw([(a, 0, 90_000)], [_out(burn, 100_000), _out(c_ph, 5_000)])

    def case(name: str, tx: SideTransaction, means: str | Reason, rules: tuple[str, ...], inputs: int = 115_000,
             desc: str = "") -> CaseSpec:
        return CaseSpec(name, {"tx": tx.serialize().hex(), "input_values": [str(inputs)]}, means, rules, desc)

    yield case("one_entry", good, OK, WITHDRAW_RULES, desc="burn 100,000, 90,000 for the main chain, fee 10,000")
    ms = address_from_program_hash(Uint168(data=bytes([0x12]) + bytes(20)))
    yield case("multisig_address", _withdraw([(ms, 0, 0)], [_out(burn, 10_000)]), OK, ("XCH-013", "XCH-014"),
               inputs=20_000)
    yield case("no_entries", _withdraw([], [_out(burn, 100_000)]), Reason.WITHDRAW_PAYLOAD, ("XCH-010",))
    yield case("index_out_of_range", _withdraw([(a, 1, 1)], [_out(burn, 100_000)]), Reason.WITHDRAW_PAYLOAD, ("XCH-011",))
    yield case("index_twice", _withdraw([(a, 0, 1), (a, 0, 1)], [_out(burn, 50_000), _out(burn, 50_000)]),
               Reason.WITHDRAW_PAYLOAD, ("XCH-011",))
    yield case("burn_count_mismatch", _withdraw([(a, 0, 1)], [_out(burn, 50_000), _out(burn, 50_000)]),
               Reason.WITHDRAW_PAYLOAD, ("XCH-012",))
    xaddr = SP.x_address(SP.side_genesis_block().hash())
    yield case("address_not_standard_or_multisig", _withdraw([(xaddr, 0, 1)], [_out(burn, 100_000)]),
               Reason.WITHDRAW_ADDRESS, ("XCH-013",), desc="an X address is not a withdrawal target")
    yield case("address_garbage", _withdraw([("not-an-address", 0, 1)], [_out(burn, 100_000)]),
               Reason.WITHDRAW_ADDRESS, ("XCH-013",))
    yield case("entry_output_not_burned", _withdraw([(a, 1, 1)], [_out(burn, 100_000), _out(c_ph, 5_000)]),
               Reason.WITHDRAW_AMOUNT, ("XCH-014",))
    yield case("amount_above_value_minus_fee", _withdraw([(a, 0, 90_001)], [_out(burn, 100_000)]),
               Reason.WITHDRAW_AMOUNT, ("XCH-014",))
    yield case("fee_too_low", good, Reason.WITHDRAW_FEE, ("XCH-015",), inputs=114_999)


# -- what an arbiter signs ---------------------------------------------------------------------------------

X_ADDR = SP.x_address(SP.side_genesis_block().hash())


def _wp(name: str, tx: Transaction, pending: Sequence[WD.PendingWithdrawal], utxos: Sequence[tuple[bytes, int, int]],
        means: str | Reason, rules: tuple[str, ...], desc: str = "", *, before: bytes | None = None,
        expect: dict | None = None, **extra: object) -> CaseSpec:
    inp: dict[str, object] = {
        "tx": tx.serialize().hex(),
        "pending": [{"txid": w.side_txid.hex(), "height": w.height,
                     "entries": [[a, str(v), str(b)] for a, v, b in w.entries]} for w in pending],
        "x_utxos": [{"txid": t.hex(), "index": i, "value": str(v)} for t, i, v in utxos],
        "signed_before": None if before is None else before.hex(),
        "side_height": 13, "confirmations": WD.WITHDRAWAL_CONFIRMATIONS}
    inp.update(extra)
    return CaseSpec(name, inp, means, rules, desc, expect_ok=expect)


ARB_RULES = ("ARB-001", "ARB-002", "ARB-003", "ARB-004", "ARB-005", "ARB-006")


@generator("sidechain", "sidechain.withdrawal.payment")
def withdrawal_payment() -> Iterator[CaseSpec]:
    (a_ph, a), b = _user("a"), _user("b")[1]
    w = WD.PendingWithdrawal(side_txid=det_bytes("wd/side", 32), height=12,
                             entries=((a, 40_000_000, 40_010_000), (b, 5_000, 15_000)))
    utxos = [(det_bytes(f"wd/x{i}", 32), i, v) for i, v in enumerate((30_000_000, 20_000_000, 7_000_000, 50_000_000))]
    good = WD.withdrawal_payment(w, utxos, x_address=X_ADDR, exchange_rate=1.0)
    assert good is not None
    digest = WD.payment_digest(good)
    ok = {"side_txid": w.side_txid.hex(), "digest": digest.hex()}
    yield _wp("pays_two_entries_with_change", good, [w], utxos, OK, ARB_RULES,
              "two X outputs cover 40,005,000 + the burns' margins (10,000 each) as fee; the rest returns to X",
              expect=ok)
    yield _wp("signed_this_one_before", good, [w], utxos, OK, ("ARB-004",), "re-signing the same payment is fine",
              before=digest, expect=ok)
    exact = WD.withdrawal_payment(w, [(det_bytes("wd/exact", 32), 0, 40_025_000)], x_address=X_ADDR, exchange_rate=1.0)
    assert exact is not None and len(exact.outputs) == 2
    yield _wp("no_change", exact, [w], [(det_bytes("wd/exact", 32), 0, 40_025_000)], OK, ("ARB-003",),
              "at rate 1 the X address gives up exactly the burned 40,025,000")
    half = WD.withdrawal_payment(w, utxos, x_address=X_ADDR, exchange_rate=0.5)
    assert half is not None
    yield _wp("rate_half_doubles", half, [w], utxos, OK, ("ARB-003",),
              "float64(amount) / 0.5 paid, float64(burned - amount) / 0.5 (20,000 each) left as fee", exchange_rate=0.5)
    yield from _withdrawal_rates(a, b)

    def edit(**change: object) -> Transaction:
        return good.model_copy(update=change)

    yield _wp("burn_with_one_block_on_it_waits", good, [w], utxos, Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, ("ARB-005",),
              "the burn's block (12) is the best sidechain block: 1 of 2 confirmations", side_height=12)
    yield _wp("burn_above_the_best_block", good, [w], utxos, Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, ("ARB-005",),
              "the arbiter's sidechain is behind the burn (best 11): 0 confirmations", side_height=11)
    yield _wp("burn_deep_enough_for_six", good, [w], utxos, OK, ("ARB-005",),
              "an operator's deeper requirement: best 17, burn at 12, 6 of 6", side_height=17, confirmations=6,
              expect=ok)
    yield _wp("burn_one_short_of_six", good, [w], utxos, Reason.ARBITER_UNCONFIRMED_WITHDRAWAL, ("ARB-005",),
              "best 16, burn at 12: 5 of 6", side_height=16, confirmations=6)
    yield _wp("one_confirmation_pays_a_fresh_burn", good, [w], utxos, OK, ("ARB-005",),
              "a requirement of 1 pays as soon as the burn is mined", side_height=12, confirmations=1, expect=ok)
    yield _wp("withdrawal_unknown", good, [], utxos, Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-001",),
              "the sidechain holds no such unpaid withdrawal (or it is paid)")
    p = good.payload
    yield _wp("names_two_withdrawals", edit(payload=p.model_copy(update={"sidechain_tx_hashes": (  # type: ignore[union-attr]
        w.side_txid, det_bytes("wd/other", 32))})), [w], utxos, Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-001",))
    yield _wp("wrong_height", edit(payload=p.model_copy(update={"block_height": 13})), [w], utxos,  # type: ignore[union-attr]
              Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-001",))
    yield _wp("another_sidechain", edit(payload=p.model_copy(update={"genesis_block_address": b"XQd1DCi6H62NQdWZQhJCRnrPn7sF9CTjaU"})),  # type: ignore[union-attr]
              [w], utxos, Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-001",))
    yield _wp("not_a_withdraw_transaction", edit(tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload()), [w],
              utxos, Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-001",))
    yield _wp("input_not_an_x_output", good, [w], utxos[1:], Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-002",),
              "the first input is spent or is not the X address's")
    yield _wp("input_twice", edit(inputs=(good.inputs[0], good.inputs[0])), [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH,
              ("ARB-002",))
    yield _wp("no_inputs", edit(inputs=()), [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-002",))
    outs = good.outputs
    yield _wp("pays_less", edit(outputs=(outs[0].model_copy(update={"value": 39_999_999}),) + outs[1:]), [w], utxos,
              Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",))
    yield _wp("pays_another_address", edit(outputs=(outs[0].model_copy(update={"program_hash": _user("c")[0]}),)
                                           + outs[1:]), [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",))
    yield _wp("entries_swapped", edit(outputs=(outs[1], outs[0], outs[2])), [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH,
              ("ARB-003",))
    yield _wp("change_elsewhere", edit(outputs=outs[:2] + (outs[2].model_copy(update={"program_hash": a_ph}),)), [w],
              utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",), "the change goes to a payee instead of X")
    yield _wp("extra_output", edit(outputs=outs + (outs[2].model_copy(update={"value": 1}),)), [w], utxos,
              Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",))
    yield _wp("fee_too_high", edit(outputs=outs[:2] + (outs[2].model_copy(update={"value": outs[2].value - 1}),)),
              [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",), "one sela more than the withdrawal fee")
    yield _wp("fee_too_low", edit(outputs=outs[:2] + (outs[2].model_copy(update={"value": outs[2].value + 1}),)),
              [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",), "one sela less than the withdrawal fee")
    fixed = edit(outputs=outs[:2] + (outs[2].model_copy(update={"value": outs[2].value + 10_000}),))
    yield _wp("fee_fixed_per_payment", fixed, [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",),
              "a fixed 10,000 fee per payment instead of each entry's burned - amount")
    for name, entries, desc in (
            ("entry_asks_all_it_burns", ((a, 40_000_000, 40_000_000), (b, 5_000, 15_000)), "amount == burned"),
            ("entry_asks_more_than_it_burns", ((a, 40_000_000, 39_999_999), (b, 5_000, 15_000)), "amount > burned"),
            ("entry_asks_a_negative_amount", ((a, 40_000_000, 40_010_000), (b, -1, 15_000)), "amount < 0")):
        bad = WD.PendingWithdrawal(side_txid=w.side_txid, height=w.height, entries=entries)
        yield _wp(name, good, [bad], utxos, Reason.ARBITER_UNKNOWN_WITHDRAWAL, ("ARB-006",), desc)
    yield _wp("rate_not_applied", good, [w], utxos, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",), exchange_rate=0.5)
    other = WD.withdrawal_payment(w, list(reversed(utxos)), x_address=X_ADDR, exchange_rate=1.0)
    assert other is not None
    yield _wp("signed_another_payment_before", good, [w], utxos, Reason.ARBITER_ALREADY_SIGNED, ("ARB-004",),
              "the arbiter signed a payment of this withdrawal from other X outputs", before=WD.payment_digest(other))


def _withdrawal_rates(a: str, b: str) -> Iterator[CaseSpec]:
    """Payments at rates other than 1: what each entry pays and leaves is its own float64 conversion."""
    x = [(det_bytes(f"wd/rate{i}", 32), i, v) for i, v in enumerate((10**11, 10**11))]
    ok = lambda w, tx: {"side_txid": w.side_txid.hex(), "digest": WD.payment_digest(tx).hex()}  # noqa: E731

    def pay(name: str, entries: tuple[tuple[str, int, int], ...], rate: float) -> tuple[WD.PendingWithdrawal, Transaction]:
        w = WD.PendingWithdrawal(side_txid=det_bytes(f"wd/{name}", 32), height=12, entries=entries)
        tx = WD.withdrawal_payment(w, x, x_address=X_ADDR, exchange_rate=rate)
        assert tx is not None
        return w, tx

    def change(tx: Transaction, by: int) -> Transaction:
        outs = tx.outputs
        return tx.model_copy(update={"outputs": outs[:-1] + (outs[-1].model_copy(update={"value": outs[-1].value + by}),)})

    w2, two = pay("rate2", ((a, 40_000_001, 40_010_000), (b, 5_001, 15_002)), 2.0)
    assert [o.value for o in two.outputs[:2]] == [20_000_000, 2_500] and WD.withdrawal_fee(w2, 2.0) == 4_999 + 5_000
    yield _wp("rate_two_truncates_each_part", two, [w2], x, OK, ("ARB-003",),
              "40,000,001 / 2 pays 20,000,000 and 9,999 / 2 leaves 4,999; 5,001 / 2 pays 2,500 and 10,001 / 2 leaves "
              "5,000: the X address gives up 20,012,499, two sela less than the burns' 40,025,002 / 2",
              expect=ok(w2, two), exchange_rate=2)
    yield _wp("rate_two_fee_of_upstreams_proposer", change(two, -2), [w2], x, Reason.ARBITER_PAYMENT_MISMATCH,
              ("ARB-003",), "Fixed64(burned / 2) - Fixed64(amount / 2) taken per entry (20,005,000 - 20,000,000 + "
              "7,501 - 2,500 = 10,001): two sela more fee than the checker's 9,999", exchange_rate=2)
    yield _wp("rate_two_fixed_fee", change(two, 4_999 + 5_000 - 10_000), [w2], x, Reason.ARBITER_PAYMENT_MISMATCH,
              ("ARB-003",), "the old fixed 10,000 per payment: more than the burns' margins are worth at rate 2",
              exchange_rate=2)
    w3, milli = pay("rate_milli", ((a, 1, 10_001),), 1e-3)
    assert [o.value for o in milli.outputs[:1]] == [1_000] and WD.withdrawal_fee(w3, 1e-3) == 10_000_000
    yield _wp("rate_milli_rounds_up", milli, [w3], x, OK, ("ARB-003",),
              "1 / 0.001: the float64 0.001 is a little more than 0.001, the exact quotient 999.99999999999997... "
              "rounds to 1000.0, which pays 1,000; 10,000 / 0.001 leaves 10,000,000", expect=ok(w3, milli),
              exchange_rate=0.001)
    floor = milli.model_copy(update={"outputs": (milli.outputs[0].model_copy(update={"value": 999}),
                                                 milli.outputs[1].model_copy(update={"value": milli.outputs[1].value + 1}))})
    yield _wp("rate_milli_exact_quotient_floor", floor, [w3], x, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",),
              "paying floor(1 / the float64 0.001) = 999, not the float64 quotient's 1,000", exchange_rate=0.001)
    w4, third = pay("rate_point3", ((a, 40_000_000, 40_010_001),), 0.3)
    assert [o.value for o in third.outputs[:1]] == [133_333_333] and WD.withdrawal_fee(w4, 0.3) == 33_336
    yield _wp("rate_point3", third, [w4], x, OK, ("ARB-003",),
              "40,000,000 / 0.3 = 133333333.33333334 pays 133,333,333; 10,001 / 0.3 = 33336.66666666667 leaves 33,336",
              expect=ok(w4, third), exchange_rate=0.3)
    yield _wp("rate_point3_fee_of_the_burn", change(third, -1), [w4], x, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",),
              "Fixed64(40,010,001 / 0.3) - 133,333,333 = 33,337 taken: a sela more than the checker's fee",
              exchange_rate=0.3)
    yield _wp("rate_point3_checked_at_rate_1", third, [w4], x, Reason.ARBITER_PAYMENT_MISMATCH, ("ARB-003",),
              "the same payment held to rate 1")


@generator("sidechain", "sidechain.tx.decode")
def side_tx_decode() -> Iterator[CaseSpec]:
    (a_ph, _) = _user("a")
    main = _deposit_v0([(_user("a")[1], 1000, 20_000)])
    r1 = _recharge(main, [(a_ph, 1000)])
    yield CaseSpec("recharge_v1", {"tx": r1.serialize().hex()}, OK, ("STX-001", "STX-002", "STX-003"),
                   expect_ok={"type": 6, "payload_version": 1, "request": None})
    r0 = _recharge(main, [(a_ph, 1000)], version=0)
    yield CaseSpec("recharge_v0", {"tx": r0.serialize().hex()}, OK, ("STX-003",))
    genesis_asset = SP.side_genesis_block().transactions[0]
    yield CaseSpec("ela_asset", {"tx": genesis_asset.serialize().hex()}, OK, ("STX-001",),
                   "the genesis asset transaction: the same bytes as the main chain's")
    req = DR.build_request("create", '{"id":"did:elastos:x"}', parse_did_url("did:elastos:x#primary"),
                           det_bytes("side/did", 32))
    did_tx = SideTransaction(tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(req))
    yield CaseSpec("register_did", {"tx": did_tx.serialize().hex()}, OK, ("STX-001", "STX-004"),
                   "type 0x0A is a type here, not a version byte", expect_ok={"type": 10, "request": DR.serialize(req)})
    ticket_req = req.model_copy(update={"operation": "transfer", "ticket": "dGlja2V0"})
    t_tx = SideTransaction(tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(ticket_req))
    yield CaseSpec("register_did_transfer_carries_ticket", {"tx": t_tx.serialize().hex()}, OK, ("STX-004",),
                   "Deviation: the ticket travels after the header's operation")
    raw = bytearray(r1.serialize())
    for code, reason, rid in ((0x05, Reason.TX_TYPE_FORBIDDEN, "STX-002"), (0x07, Reason.TX_TYPE_FORBIDDEN, "STX-002"),
                              (0x09, Reason.TX_TYPE_FORBIDDEN, "STX-002"), (0x0B, Reason.TX_TYPE_UNKNOWN, "STX-001"),
                              (0x51, Reason.TX_TYPE_UNKNOWN, "STX-001")):
        raw[0] = code
        yield CaseSpec(f"type_{code:#04x}", {"tx": bytes(raw).hex()}, reason, (rid,))
    raw = bytearray(r1.serialize())
    raw[1] = 2
    yield CaseSpec("recharge_payload_version_2", {"tx": bytes(raw).hex()}, Reason.PAYLOAD_VERSION_UNKNOWN, ("STX-003",))
    bad = bytearray(did_tx.serialize())
    i = bad.index(b"create") if b"create" in bad else 3
    bad[i] = 0xFF
    yield CaseSpec("register_did_not_utf8", {"tx": bytes(bad).hex()}, Reason.REQUEST_PAYLOAD, ("STX-004",))


# -- sidechain blocks ------------------------------------------------------------------------------------------

USER_KEY = det_bytes("side/user/a", 32)


def _coinbase(height: int, pays: Sequence[tuple[bytes, int]] = ()) -> SideTransaction:
    return SideTransaction(tx_type=SideTxType.COINBASE, payload=CoinBasePayload(content=height.to_bytes(4, "little")),
                           outputs=tuple(_out(ph, v) for ph, v in pays))


def _side_block(prev: SB.SideBlock, txs: list[SideTransaction], *, merkle: bytes | None = None,
                height: int | None = None) -> tuple[SB.SideBlock, bytes]:
    """A merge-mined sidechain block on ``prev``; also the hash of the main block that proves it."""
    h = prev.header.height + 1 if height is None else height
    header = prev.header.model_copy(update={
        "previous": prev.hash(), "height": h, "timestamp": prev.header.timestamp + 1,
        "bits": INSTANT_POW_LIMIT_BITS, "merkle_root": merkle if merkle is not None else merkle_root([t.txid() for t in txs])})
    side = SB.SideBlock(header=header, transactions=tuple(txs))
    mined, main = solve_side(side, _main_template(), side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1))
    return mined, main.hash()


def _utxo(txid: bytes, index: int, o: Output) -> dict[str, object]:
    return {"txid": txid.hex(), "index": index, "asset_id": o.asset_id.hex(), "value": str(o.value),
            "program_hash": o.program_hash.hex()}


def _bc(name: str, block: SB.SideBlock, main_hash: bytes | None, means: str | Reason, rules: tuple[str, ...],
        desc: str = "", *, prev: SB.SideBlock | None = None, utxos: Sequence[dict[str, object]] = (),
        main_txs: Sequence[Transaction] = (), credited: Sequence[bytes] = (), expect: dict | None = None,
        main_headers: Sequence[object] = ()) -> CaseSpec:
    prev = prev or SP.side_genesis_block()
    inp: dict[str, object] = {
        "block": block.serialize().hex(), "tip_hash": prev.hash().hex(), "tip_height": prev.header.height,
        "network": "instant", "utxos": list(utxos), "assets": {}, "credited": [c.hex() for c in credited],
        "main_blocks": [] if main_hash is None else [main_hash.hex()], "main_txs": [t.serialize().hex() for t in main_txs]}
    if main_headers:
        inp["main_headers"] = [h.serialize().hex() for h in main_headers]  # type: ignore[attr-defined]
    return CaseSpec(name, inp, means, rules, desc, expect_ok=expect)


SCV = tuple(f"SCV-{i:03d}" for i in range(1, 9))


@generator("sidechain", "sidechain.block.check")
def block_check() -> Iterator[CaseSpec]:
    a_ph, a = _user("a")
    deposit = _deposit_v0([(a, 50_000, 60_000)])
    recharge = _recharge(deposit, [(a_ph, 50_000)])
    b1, m1 = _side_block(SP.side_genesis_block(), [_coinbase(1), recharge])
    yield _bc("deposit_credited", b1, m1, OK, ("SCV-001", "SCV-002", "SCV-003", "SCV-004", "SCV-006", "SCV-008",
                                               "SCV-009"),
              "a merge-mined block crediting a main-chain deposit", main_txs=[deposit],
              expect={"credited": [deposit.txid().hex()], "fees": "0"})
    yield _bc("main_block_unknown", b1, None, Reason.SIDE_MAIN_BLOCK_UNKNOWN, ("SCV-001",), main_txs=[deposit])
    yield _bc("deposit_not_in_main_chain", b1, m1, Reason.DEPOSIT_NOT_IN_MAIN_CHAIN, ("SCV-006",))
    yield _bc("deposit_credited_before", b1, m1, Reason.DEPOSIT_DUPLICATE, ("XCH-001",), main_txs=[deposit],
              credited=[deposit.txid()])
    wrong_height, mw = _side_block(SP.side_genesis_block(), [_coinbase(2), recharge], height=2)
    yield _bc("height_skips", wrong_height, mw, Reason.SIDE_BLOCK_PLACE, ("SCV-002",), main_txs=[deposit])
    bad_root, mr = _side_block(SP.side_genesis_block(), [_coinbase(1), recharge], merkle=bytes(32))
    yield _bc("merkle_root_wrong", bad_root, mr, Reason.BLOCK_BAD_MERKLE_ROOT, ("SCV-003",), main_txs=[deposit])
    repeated, mrep = _side_block(SP.side_genesis_block(), [_coinbase(1), recharge, recharge])
    yield _bc("transaction_repeated", repeated, mrep, Reason.BLOCK_DUPLICATE_TX, ("SCV-009",),
              "the recharge twice: refused as a repeat before the deposit could be credited twice", main_txs=[deposit])
    no_cb, mn = _side_block(SP.side_genesis_block(), [recharge])
    yield _bc("no_coinbase", no_cb, mn, Reason.SIDE_COINBASE, ("SCV-004",), main_txs=[deposit])
    two_cb, mt = _side_block(SP.side_genesis_block(), [_coinbase(1), _coinbase(9)])
    yield _bc("two_coinbases", two_cb, mt, Reason.SIDE_COINBASE, ("SCV-004",))

    # a recharge v0: the deposit travels with its SPV merkle proof; the sidechain needs only the main header
    dep_block = _main_block([*_fillers("v0", 2), deposit], label="v0")
    v0_proof = SPV.build_merkle_proof(dep_block.txids(), [3], dep_block.hash(), dep_block.header.height)  # type: ignore[attr-defined]
    recharge_v0 = SideTransaction(tx_type=SideTxType.RECHARGE_TO_SIDECHAIN, payload_version=0,
                                  payload=RechargeToSideChainPayload(merkle_proof=v0_proof.serialize(),
                                                                     main_chain_transaction=deposit.serialize()),
                                  outputs=(_out(a_ph, 50_000),))
    bv0, mv0 = _side_block(SP.side_genesis_block(), [_coinbase(1), recharge_v0])
    yield _bc("deposit_v0_with_merkle_proof", bv0, mv0, OK, ("SPV-003", "SPV-008", "SPV-009", "XCH-005"),
              "the main header of the deposit's block suffices; the main-chain view need not hold the transaction",
              main_headers=[dep_block.header], expect={"credited": [deposit.txid().hex()]})  # type: ignore[attr-defined]
    yield _bc("deposit_v0_block_not_on_main_chain", bv0, mv0, Reason.DEPOSIT_PROOF_BLOCK, ("SPV-003",))
    yield _bc("deposit_v0_credited_before", bv0, mv0, Reason.DEPOSIT_DUPLICATE, ("XCH-001",),
              main_headers=[dep_block.header], credited=[deposit.txid()])  # type: ignore[attr-defined]
    both, mboth = _side_block(SP.side_genesis_block(), [_coinbase(1), recharge, recharge_v0])
    yield _bc("deposit_by_hash_and_by_proof_in_one_block", both, mboth, Reason.DEPOSIT_DUPLICATE, ("XCH-001",),
              "v1 and v0 recharges of one deposit: the second is a replay", main_txs=[deposit],
              main_headers=[dep_block.header])  # type: ignore[attr-defined]

    # block 2: spend the deposit (fee 100 to the miner), register a DID, record an edition, withdraw
    state = [_utxo(recharge.txid(), 0, recharge.outputs[0])]
    pay = sign_standard(SideTransaction(tx_type=SideTxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                                        inputs=(Input(previous=OutPoint(txid=recharge.txid(), index=0),
                                                      sequence=0xFFFF_FFFF),),
                                        outputs=(_out(a_ph, 49_900),)), [USER_KEY])
    b2, m2 = _side_block(b1, [_coinbase(2, [(a_ph, 100)]), pay])
    yield _bc("spend_and_fee", b2, m2, OK, ("SCV-005", "SCV-008", "AST-006"), prev=b1, utxos=state,
              expect={"fees": "100", "spent": 1, "created": 2})
    greedy, mg = _side_block(b1, [_coinbase(2, [(a_ph, 101)]), pay])
    yield _bc("coinbase_above_fees", greedy, mg, Reason.COINBASE_BAD_REWARD, ("SCV-008",), prev=b1, utxos=state)
    yield _bc("input_unknown", b2, m2, Reason.TX_UNKNOWN_REFERENCE, ("SCV-005",), prev=b1, utxos=[])
    again = sign_standard(pay.model_copy(update={"outputs": (_out(a_ph, 49_800),)}), [USER_KEY])
    dbl, md = _side_block(b1, [_coinbase(2), pay, again])
    yield _bc("double_spend_in_block", dbl, md, Reason.TX_UNKNOWN_REFERENCE, ("SCV-005",), prev=b1, utxos=state)
    forged = pay.model_copy(update={"outputs": (_out(a_ph, 49_000),)})  # the old signature no longer fits
    bf, mf = _side_block(b1, [_coinbase(2), forged])
    yield _bc("signature_does_not_fit", bf, mf, Reason.SIGNATURE_INVALID, ("CRY-006",), prev=b1, utxos=state)

    req = DR.build_request("create", '{"id":"did:elastos:x"}', parse_did_url("did:elastos:x#primary"),
                           det_bytes("side/did", 32))
    did_tx = sign_standard(SideTransaction(tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(req),
                                           inputs=(Input(previous=OutPoint(txid=recharge.txid(), index=0),
                                                         sequence=0xFFFF_FFFF),), outputs=(_out(a_ph, 49_900),)),
                           [USER_KEY])
    bd, mdid = _side_block(b1, [_coinbase(2), did_tx])
    yield _bc("did_request_paid", bd, mdid, OK, ("SCV-007",), "the ID chain checks the request itself",
              prev=b1, utxos=state, expect={"did_requests": [DR.serialize(req)]})
    free = sign_standard(did_tx.model_copy(update={"outputs": (_out(a_ph, 50_000),)}), [USER_KEY])
    bfree, mfree = _side_block(b1, [_coinbase(2), free])
    yield _bc("did_request_without_fee", bfree, mfree, Reason.ASSET_FEE, ("AST-006",), prev=b1, utxos=state)
    token = Output(asset_id=det_bytes("assets/token", 32), value=0, output_lock=0, program_hash=a_ph)
    gift = sign_standard(did_tx.model_copy(update={"outputs": (_out(a_ph, 49_900), token)}), [USER_KEY])
    bg, mg2 = _side_block(b1, [_coinbase(2), gift])
    yield _bc("did_request_moving_another_asset", bg, mg2, Reason.ASSET_UNKNOWN, ("AST-004",), prev=b1, utxos=state)
    tok = det_bytes("assets/token", 32)
    token_in = Output(asset_id=tok, value=10_000, output_lock=0, program_hash=a_ph)
    token_txid = det_bytes("side/token/utxo", 32)
    mixed = sign_standard(did_tx.model_copy(update={
        "inputs": did_tx.inputs + (Input(previous=OutPoint(txid=token_txid, index=0), sequence=0xFFFF_FFFF),),
        "outputs": (_out(a_ph, 49_900), Output(asset_id=tok, value=9_000, output_lock=0, program_hash=a_ph))}),
        [USER_KEY])
    bm, mm = _side_block(b1, [_coinbase(2), mixed])
    case = _bc("did_request_moving_a_token", bm, mm, Reason.REQUEST_PAYLOAD, ("SCV-007",),
               "both assets pay their fee, but a DID request moves ELA only", prev=b1,
               utxos=state + [_utxo(token_txid, 0, token_in)])
    case.input["assets"] = {tok.hex(): 8}
    yield case
    edition = sign_standard(SideTransaction(tx_type=SideTxType.RECORD,
                                            payload=RecordPayload(type=EDITION_RECORD_TYPE, content=b"\xa0"),
                                            inputs=(Input(previous=OutPoint(txid=recharge.txid(), index=0),
                                                          sequence=0xFFFF_FFFF),), outputs=(_out(a_ph, 49_900),)),
                            [USER_KEY])
    be, me = _side_block(b1, [_coinbase(2), edition])
    yield _bc("edition_record", be, me, OK, (), "a Record of type elastos/edition/1.0 carries an edition request",
              prev=b1, utxos=state, expect={"editions": ["a0"]})
    burn = sign_standard(_withdraw([(_user("b")[1], 0, 30_000)], [_out(ZERO_PROGRAM_HASH, 40_000), _out(a_ph, 0)])
                         .model_copy(update={"inputs": (Input(previous=OutPoint(txid=recharge.txid(), index=0),
                                                              sequence=0xFFFF_FFFF),)}), [USER_KEY])
    bw, mw2 = _side_block(b1, [_coinbase(2), burn])
    yield _bc("withdrawal", bw, mw2, OK, ("XCH-015",), prev=b1, utxos=state, expect={"withdrawals": 1})
