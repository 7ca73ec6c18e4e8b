"""Generators of the ``chain`` suite for merkle roots, compact bits, work, proof of work, retarget and AuxPoW."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from spec.chain import pow as P
from spec.chain.auxpow import (
    AUXPOW_CHAIN_ID,
    MERGED_MINING_HEADER,
    AuxPow,
    BtcHeader,
    BtcTx,
    BtcTxIn,
    BtcTxOut,
    aux_merkle_root,
    expected_index,
    make_auxpow,
    with_parent_nonce,
    zero_auxpow,
)
from spec.chain.merkle import merkle_branch, merkle_branch_root, merkle_root
from spec.encoding.primitives import U32_MAX
from spec.errors import Reason

from conformance.generators.common import det_bytes, det_int, fact, interop, provenance
from conformance.vectors import CaseSpec, generator

OK = "ok"
AUX_RULES = tuple(f"AUX-{i:03d}" for i in range(1, 12))
"""Every check of ``check_auxpow``: an accepting case passes them all."""
POW_RULES = ("POW-001", "POW-002", "POW-003")


def h32(label: str) -> bytes:
    return det_bytes(f"chain_pow/{label}", 32)


def hashes(label: str, n: int) -> list[bytes]:
    return [h32(f"{label}/{i}") for i in range(n)]


def hexes(items: Sequence[bytes]) -> list[str]:
    return [x.hex() for x in items]


# == merkle =========================================================================================


def _level_pairs(n: int) -> list[int]:
    """The pairs hashed at each level of a merkle tree of ``n`` leaves."""
    out = []
    while n > 1:
        n = (n + 1) // 2
        out.append(n)
    return out


@generator("chain", "ela.merkle.root")
def merkle_root_cases() -> Iterator[CaseSpec]:
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33, 90, 100):
        note = "one leaf is its own root" if n == 1 else ("odd levels pair the last node with itself" if n % 2 else "")
        if n >= 90:  # an implementation hashing pairs in groups (SIMD lanes) meets full groups and every remainder
            note = (f"levels of {', '.join(map(str, _level_pairs(n)))} pairs: for an implementation that hashes "
                    "pairs in groups, several full groups and remainders of many sizes")
        yield CaseSpec(f"leaves_{n}", {"hashes": hexes(hashes(f"merkle/{n}", n))}, OK, ("MRK-001",), note)
    coinbase = bytes.fromhex("b07c062090c44682e29832f1993d4a0f47e49a148d8b0e07d739a32670ff3a95")
    asset = fact("ela_asset_id")["value"]["stored_hex"]
    yield CaseSpec("mainnet_genesis", {"hashes": [coinbase.hex(), asset]}, OK, ("MRK-001",),
                   "the main-net genesis block: coinbase txid, then the RegisterAsset txid (the ELA asset ID); root as "
                   "recomputed in the research notes (section 8) from upstream core/manager.go",
                   expect_ok={"root": "206cf70af49fa40e594189634da713872fe5ba6d0457ae235890e0438c853692"})
    a, b, c = hashes("merkle/malleable", 3)
    yield CaseSpec("quirk_duplicate_last_three", {"hashes": hexes([a, b, c])}, OK, ("MRK-001",),
                   "Quirk (CVE-2012-2459): [a, b, c] has the root of [a, b, c, c]")
    yield CaseSpec("quirk_duplicate_last_four", {"hashes": hexes([a, b, c, c])}, OK, ("MRK-001",),
                   "Quirk: the same root as [a, b, c]; block sanity rejects the repeated txid instead",
                   expect_ok={"root": merkle_root([a, b, c]).hex()})
    five = hashes("merkle/malleable5", 5)
    yield CaseSpec("quirk_duplicate_last_pair", {"hashes": hexes(five + five[4:])}, OK, ("MRK-001",),
                   "Quirk: [h0..h4, h4] has the root of [h0..h4]", expect_ok={"root": merkle_root(five).hex()})
    yield CaseSpec("all_equal_leaves", {"hashes": hexes([a] * 4)}, OK, ("MRK-001",))
    yield CaseSpec("empty", {"hashes": []}, Reason.MERKLE_EMPTY, ("MRK-001",), "upstream: NewMerkleTree input no item error")
    yield CaseSpec("hash_31_bytes", {"hashes": [a.hex(), b[:31].hex()]}, Reason.WRONG_LENGTH, ("ENC-006",))
    yield CaseSpec("hash_33_bytes", {"hashes": [(a + b"\x00").hex()]}, Reason.WRONG_LENGTH, ("ENC-006",),
                   "a single leaf is still length-checked")


@generator("chain", "ela.merkle.branch")
def merkle_branch_cases() -> Iterator[CaseSpec]:
    for n, indices in ((1, (0,)), (2, (0, 1)), (3, (0, 2)), (5, (0, 3, 4)), (8, (5, 7)), (13, (12,))):
        leaves = hexes(hashes(f"branch/{n}", n))
        for i in indices:
            yield CaseSpec(f"leaves_{n}_index_{i}", {"hashes": leaves, "index": i}, OK, ("MRK-002",),
                           "the odd last node's sibling is itself" if n % 2 and i == n - 1 and n > 1 else "")
    leaves = hexes(hashes("branch/5", 5))
    yield CaseSpec("index_equals_count", {"hashes": leaves, "index": 5}, Reason.MERKLE_INDEX_OUT_OF_RANGE, ("MRK-002",))
    yield CaseSpec("empty_tree", {"hashes": [], "index": 0}, Reason.MERKLE_INDEX_OUT_OF_RANGE, ("MRK-002",))


@generator("chain", "ela.merkle.branch_root")
def merkle_branch_root_cases() -> Iterator[CaseSpec]:
    leaves = hashes("branch_root/7", 7)
    root = merkle_root(leaves).hex()
    for i in range(7):
        yield CaseSpec(f"tree_7_index_{i}", {"leaf": leaves[i].hex(), "branch": hexes(merkle_branch(leaves, i)), "index": i},
                       OK, (), "folds back to the root of the 7-leaf tree", expect_ok={"root": root})
    yield CaseSpec("empty_branch", {"leaf": leaves[0].hex(), "branch": [], "index": 0}, OK, (), "the leaf is the root",
                   expect_ok={"root": leaves[0].hex()})
    yield CaseSpec("empty_branch_index_ignored", {"leaf": leaves[0].hex(), "branch": [], "index": 12345}, OK, (),
                   "bits of the index above the branch length are not read", expect_ok={"root": leaves[0].hex()})
    yield CaseSpec("high_index_bits_ignored", {"leaf": leaves[2].hex(), "branch": hexes(merkle_branch(leaves, 2)),
                                               "index": 2 + (1 << 20)}, OK, (), expect_ok={"root": root})
    yield CaseSpec("index_u32_max", {"leaf": leaves[0].hex(), "branch": hexes(hashes("branch_root/right", 3)),
                                     "index": U32_MAX}, OK, (), "every level takes the node as the right child")
    for case in interop("auxpow.json"):
        ap = AuxPow.decode(bytes.fromhex(case["auxpow_hex"]))
        yield CaseSpec(f"upstream_{case['name']}_coinbase_branch",
                       {"leaf": ap.par_coinbase_tx.hash().hex(), "branch": hexes(ap.par_coinbase_branch),
                        "index": ap.par_merkle_index}, OK, (),
                       "the parent coinbase txid folded with its branch is the parent header's merkle root",
                       provenance("auxpow.json", case["name"], case["source"]),
                       expect_ok={"root": ap.par_block_header.merkle_root.hex()})
    yield CaseSpec("leaf_31_bytes", {"leaf": leaves[0][:31].hex(), "branch": [], "index": 0}, Reason.WRONG_LENGTH, ("ENC-006",))
    yield CaseSpec("branch_entry_31_bytes", {"leaf": leaves[0].hex(), "branch": [leaves[1][:31].hex()], "index": 0},
                   Reason.WRONG_LENGTH, ("ENC-006",))


# == compact bits and work ===========================================================================

COMPACT = fact("compact_bits_constants")
_BITS_FACTS = ("PowLimitBits_main_test_reg", "genesis_bits", "InstantBlock_PowLimitBits")

BITS_EDGES: dict[str, tuple[int, str]] = {
    "zero": (0x00000000, "zero"),
    "exponent_0": (0x00123456, "exponent 0 shifts the whole mantissa away"),
    "exponent_1": (0x01123456, "exponent 1 keeps the top mantissa byte: 0x12"),
    "exponent_1_low_bytes_dropped": (0x01003456, "the top mantissa byte is 0, so the target is 0"),
    "exponent_2": (0x02123456, "0x1234"),
    "exponent_2_mantissa_0x8000": (0x02008000, "0x80, the canonical form of 128"),
    "exponent_3": (0x03123456, "the mantissa itself"),
    "exponent_4": (0x04123456, "mantissa << 8"),
    "quirk_negative": (0x04923456, "Quirk: the sign bit makes the target negative: -0x12345600"),
    "quirk_negative_zero": (0x00800000, "Quirk: sign bit with a zero mantissa is zero, and zero is not negative"),
    "negative_one": (0x01810000, "-1"),
    "mantissa_max": (0x037FFFFF, "0x7fffff"),
    "quirk_non_canonical_pow_limit_bits": (0x1F0008FF, "Quirk: compacts back to 0x1e08ff00"),
    "exponent_32_pow_limit_compact": (0x207FFFFF, "0x7fffff << 232, the largest target below 2^255"),
    "exponent_33": (0x21008000, "0x8000 << 240 = 2^255, one above PowLimit"),
    "exponent_34_above_256_bits": (0x22010000, "0x010000 << 248 = 2^264: wider than a hash"),
    "exponent_255": (0xFF7FFFFF, "0x7fffff << 2016: compact bits reach far beyond 256 bits"),
    "exponent_255_negative": (0xFFFFFFFF, "-(0x7fffff << 2016)"),
    "all_mantissa_zero_high_exponent": (0x20000000, "a zero mantissa is zero at any exponent"),
}


@generator("chain", "ela.bits.to_target")
def bits_to_target_cases() -> Iterator[CaseSpec]:
    for key in _BITS_FACTS:
        v = COMPACT["value"][key]
        yield CaseSpec(f"upstream_{key.lower()}", {"bits": v["bits_uint32"]}, OK, (),
                       f"{v['bits_hex']}: target {v['target_hex']}",
                       provenance("facts.json", "compact_bits_constants", COMPACT["sources"]),
                       expect_ok={"target": str(int(v["target_hex"], 16)),
                                  "canonical_bits": int(v["big_to_compact_of_target"], 16)})
    for name, (bits, desc) in BITS_EDGES.items():
        yield CaseSpec(name, {"bits": bits}, OK, (), desc)


@generator("chain", "ela.bits.from_target")
def bits_from_target_cases() -> Iterator[CaseSpec]:
    pl = COMPACT["value"]["PowLimit"]
    yield CaseSpec("upstream_pow_limit", {"target": str(P.POW_LIMIT)}, OK, (), "2^255 - 1 -> 0x207fffff (rounded down)",
                   provenance("facts.json", "compact_bits_constants", COMPACT["sources"]),
                   expect_ok={"bits": int(pl["big_to_compact"], 16)})
    for key in _BITS_FACTS:
        v = COMPACT["value"][key]
        yield CaseSpec(f"upstream_target_of_{key.lower()}", {"target": str(int(v["target_hex"], 16))}, OK, (),
                       f"BigToCompact(CompactToBig({v['bits_hex']}))",
                       provenance("facts.json", "compact_bits_constants", COMPACT["sources"]),
                       expect_ok={"bits": int(v["big_to_compact_of_target"], 16)})
    for name, n in {
        "zero": 0, "one": 1, "byte_0x7f": 0x7F, "byte_0x80_bumps_exponent": 0x80, "two_bytes": 0x1234,
        "three_bytes_max": 0x7FFFFF, "three_bytes_sign_bit_bumps_exponent": 0x800000, "four_bytes": 0x12345678,
        "rounds_down": 0x123456FF, "2_pow_255": 1 << 255, "2_pow_256_minus_1": (1 << 256) - 1, "2_pow_256": 1 << 256,
        "negative_one": -1, "negative_0x80": -0x80, "negative_large": -(0x123456 << 100),
        "80_digits": 10**79,
    }.items():
        yield CaseSpec(name, {"target": str(n)}, OK, ())


@generator("chain", "ela.work")
def work_cases() -> Iterator[CaseSpec]:
    for key in _BITS_FACTS:
        v = COMPACT["value"][key]
        yield CaseSpec(f"upstream_{key.lower()}", {"bits": v["bits_uint32"]}, OK, (), f"work of {v['bits_hex']}",
                       provenance("facts.json", "compact_bits_constants", COMPACT["sources"]),
                       expect_ok={"work": v["work_2^256_div_target_plus_1"]})
    for name in ("zero", "exponent_1", "exponent_1_low_bytes_dropped", "quirk_negative", "quirk_negative_zero",
                 "mantissa_max", "exponent_33", "exponent_34_above_256_bits", "exponent_255", "exponent_255_negative"):
        bits, desc = BITS_EDGES[name]
        yield CaseSpec(name, {"bits": bits}, OK, (), "a target <= 0 has zero work" if "negative" in name or "zero" in name
                       or name == "exponent_1_low_bytes_dropped" else desc)
    yield CaseSpec("target_one", {"bits": 0x01010000}, OK, (), "target 1: 2^255 work")


# == proof of work ===================================================================================

MINED_BLOCK_HASH = h32("mined/block_hash")
MINED_AUX_NONCE = 0x2A
MINED_PARENT_NONCE = 330865
"""Found once by grinding the parent header's nonce (not part of the spec); the generator re-checks it."""


def mined_auxpow() -> AuxPow:
    """An AuxPoW of ``MINED_BLOCK_HASH`` whose parent header meets ``0x1f0008ff``."""
    ap = make_auxpow(MINED_BLOCK_HASH, AUXPOW_CHAIN_ID, nonce=MINED_AUX_NONCE,
                     parent_previous=det_bytes("chain_pow/mined/btc_prev", 32), parent_timestamp=1513936800,
                     parent_bits=0x1D00FFFF, parent_version=0x20000000)
    return with_parent_nonce(ap, MINED_PARENT_NONCE)


@generator("chain", "ela.pow.check")
def pow_check_cases() -> Iterator[CaseSpec]:
    mined = mined_auxpow().par_block_header
    yield CaseSpec("mined_at_pow_limit_bits", {"parent_header": mined.encode().hex(), "bits": P.POW_LIMIT_BITS,
                                               "network": "mainnet"}, OK, POW_RULES,
                   "a parent header ground to meet 0x1f0008ff, the bits of block 1")
    yield CaseSpec("mined_by_hash", {"parent_header_hash": mined.hash().hex(), "bits": P.POW_LIMIT_BITS,
                                     "network": "testnet"}, OK, POW_RULES)
    yield CaseSpec("mined_one_step_harder", {"parent_header": mined.encode().hex(), "bits": 0x1E00FFFF,
                                             "network": "mainnet"}, Reason.POW_HASH_ABOVE_TARGET, ("POW-003",),
                   "the same header misses a target 0x08ff times smaller")
    for case in interop("auxpow.json"):
        ap = AuxPow.decode(bytes.fromhex(case["auxpow_hex"]))
        yield CaseSpec(f"upstream_{case['name']}_instant_bits",
                       {"parent_header": ap.par_block_header.encode().hex(), "bits": P.INSTANT_POW_LIMIT_BITS,
                        "network": "regnet"}, OK, POW_RULES,
                       "the regtest parent of the upstream vector meets the instant-mode target 0x207fffff",
                       provenance("auxpow.json", case["name"], case["source"]))
        yield CaseSpec(f"upstream_{case['name']}_pow_limit_bits",
                       {"parent_header": ap.par_block_header.encode().hex(), "bits": P.POW_LIMIT_BITS,
                        "network": "mainnet"}, Reason.POW_HASH_ABOVE_TARGET, ("POW-003",),
                       "the regtest parent does not meet the main-net bits",
                       provenance("auxpow.json", case["name"], case["source"]))
    for bits in (P.POW_LIMIT_BITS, 0x1D03FFFF, P.INSTANT_POW_LIMIT_BITS, 0x03000001):
        target = P.compact_to_big(bits)
        yield CaseSpec(f"hash_equals_target_{bits:08x}", {"parent_header_hash": target.to_bytes(32, "little").hex(),
                                                         "bits": bits, "network": "mainnet"}, OK, POW_RULES,
                       "a hash equal to the target meets it")
        yield CaseSpec(f"hash_target_plus_one_{bits:08x}", {"parent_header_hash": (target + 1).to_bytes(32, "little").hex(),
                                                           "bits": bits, "network": "mainnet"},
                       Reason.POW_HASH_ABOVE_TARGET, ("POW-003",), "one above the target")
    yield CaseSpec("hash_read_little_endian_last_byte", {"parent_header_hash": (bytes(31) + b"\x01").hex(),
                                                         "bits": P.POW_LIMIT_BITS, "network": "mainnet"},
                   Reason.POW_HASH_ABOVE_TARGET, ("POW-003",), "stored 00..0001 is 2^248, far above the target")
    yield CaseSpec("hash_read_little_endian_first_byte", {"parent_header_hash": (b"\x01" + bytes(31)).hex(),
                                                          "bits": P.POW_LIMIT_BITS, "network": "mainnet"}, OK, POW_RULES,
                   "stored 0100..00 is 1")
    zero_hash = {"parent_header_hash": "00" * 32, "network": "mainnet"}
    yield CaseSpec("zero_hash_any_positive_target", {**zero_hash, "bits": 0x03000001}, OK, POW_RULES)
    for name, bits, desc in (
        ("bits_zero", 0, "target 0"),
        ("exponent_shifts_mantissa_away", 0x01003456, "target 0"),
        ("negative_target", 0x04923456, "Quirk: the sign bit gives a negative target"),
        ("negative_zero", 0x20800000, "Quirk: sign bit, zero mantissa"),
    ):
        yield CaseSpec(name, {**zero_hash, "bits": bits}, Reason.POW_TARGET_NOT_POSITIVE, ("POW-001",), desc)
    yield CaseSpec("target_2_pow_255", {**zero_hash, "bits": 0x21008000}, Reason.POW_TARGET_ABOVE_LIMIT, ("POW-002",),
                   "2^255 is one above PowLimit")
    yield CaseSpec("target_exponent_255", {**zero_hash, "bits": 0xFF7FFFFF}, Reason.POW_TARGET_ABOVE_LIMIT, ("POW-002",))
    yield CaseSpec("instant_network_same_limit", {**zero_hash, "network": "instant", "bits": 0x21008000},
                   Reason.POW_TARGET_ABOVE_LIMIT, ("POW-002",), "instant mode keeps PowLimit 2^255 - 1")
    yield CaseSpec("target_below_limit_largest", {**zero_hash, "bits": 0x207FFFFF}, OK, POW_RULES,
                   "0x7fffff << 232, the largest compact target <= PowLimit")
    yield CaseSpec("parent_header_79_bytes", {"parent_header": mined.encode()[:79].hex(), "bits": P.POW_LIMIT_BITS,
                                              "network": "mainnet"}, Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("parent_header_81_bytes", {"parent_header": (mined.encode() + b"\x00").hex(), "bits": P.POW_LIMIT_BITS,
                                              "network": "mainnet"}, Reason.TRAILING_BYTES, ("ENC-002",))
    yield CaseSpec("parent_hash_31_bytes", {"parent_header_hash": "00" * 31, "bits": P.POW_LIMIT_BITS,
                                            "network": "mainnet"}, Reason.WRONG_LENGTH, ("ENC-006",))


# == retarget ========================================================================================

GENESIS_TS = 1513936800
WINDOW = P.BLOCKS_PER_RETARGET
NEXT_RULES = ("POW-004",)


def hdr(height: int, timestamp: int, bits: int) -> dict[str, int]:
    return {"height": height, "timestamp": timestamp & U32_MAX, "bits": bits}


def window(prev_height: int, first_ts: int, prev_ts: int, prev_bits: int, first_bits: int | None = None) -> list[dict[str, int]]:
    """The two headers a retarget reads: the window's first and the previous one."""
    first = prev_height - (WINDOW - 1)
    return [hdr(first, first_ts, prev_bits if first_bits is None else first_bits), hdr(prev_height, prev_ts, prev_bits)]


@generator("chain", "ela.bits.next")
def bits_next_cases() -> Iterator[CaseSpec]:
    main = "mainnet"
    genesis = hdr(0, GENESIS_TS, 0x1D03FFFF)
    yield CaseSpec("after_genesis", {"headers": [genesis], "network": main}, OK, NEXT_RULES,
                   "block 1 carries PowLimitBits 0x1f0008ff whatever genesis has", expect_ok={"bits": P.POW_LIMIT_BITS})
    for net in ("testnet", "regnet"):
        yield CaseSpec(f"after_genesis_{net}", {"headers": [genesis], "network": net}, OK, NEXT_RULES,
                       "test and reg nets share the main net's PowLimitBits", expect_ok={"bits": P.POW_LIMIT_BITS})
    yield CaseSpec("after_genesis_instant", {"headers": [genesis], "network": "instant"}, OK, NEXT_RULES,
                   expect_ok={"bits": P.INSTANT_POW_LIMIT_BITS})
    for h in (1, 2, 718, 720, 721, 1438, 1440, 100000):
        yield CaseSpec(f"not_retarget_prev_{h}", {"headers": [hdr(h, GENESIS_TS + 120 * h, P.POW_LIMIT_BITS)], "network": main},
                       OK, NEXT_RULES, "(prev + 1) % 720 != 0: the previous bits are copied, non-canonical form included",
                       expect_ok={"bits": P.POW_LIMIT_BITS})
    yield CaseSpec("not_retarget_copies_any_bits", {"headers": [hdr(5, GENESIS_TS, 0x04923456)], "network": main}, OK,
                   NEXT_RULES, "even a negative target is copied unchanged", expect_ok={"bits": 0x04923456})

    b = P.POW_LIMIT_BITS
    yield CaseSpec("quirk_first_retarget_exact_timespan",
                   {"headers": window(719, GENESIS_TS, GENESIS_TS + 86400, b, 0x1D03FFFF), "network": main}, OK, NEXT_RULES,
                   "Quirk: at prev height 719 (ancestor: genesis), an exact day keeps the target but rewrites "
                   "0x1f0008ff as its canonical 0x1e08ff00", expect_ok={"bits": 0x1E08FF00})
    for name, span, desc in (
        ("span_zero", 0, "clamps to 21600: the target shrinks 4x"),
        ("span_21599", 21599, "below the minimum: clamped"),
        ("span_21600", 21600, "the minimum exactly"),
        ("span_21601", 21601, "just above the minimum"),
        ("span_86399", 86399, "one second fast: rounded down"),
        ("span_86401", 86401, "one second slow"),
        ("span_345599", 345599, "just below the maximum"),
        ("span_345600", 345600, "the maximum exactly"),
        ("span_345601", 345601, "above the maximum: clamped"),
        ("span_u32_max", U32_MAX, "the largest span: clamped"),
        ("quirk_span_negative_wraps", -1, "Quirk: prev.ts - first.ts = -1 wraps as u32 to 2^32 - 1 and clamps "
                                          "to the maximum (the target grows 4x)"),
        ("quirk_span_negative_large", -86400, "Quirk: a first header a day later than the last still wraps to "
                                              "a huge span, clamped to the maximum"),
    ):
        prev_ts = (GENESIS_TS + 1_000_000 + span) & U32_MAX
        yield CaseSpec(f"retarget_{name}", {"headers": window(1439, GENESIS_TS + 1_000_000, prev_ts, 0x1D03FFFF), "network": main},
                       OK, NEXT_RULES, desc)
    yield CaseSpec("retarget_timestamps_wrap_u32", {"headers": window(2159, U32_MAX - 99, 86300, 0x1D03FFFF), "network": main},
                   OK, NEXT_RULES, "timestamps straddling 2^32: the u32 difference is exactly one day",
                   expect_ok={"bits": 0x1D03FFFF})
    yield CaseSpec("retarget_cap_at_pow_limit", {"headers": window(1439, 0, 345600, 0x207FFFFF), "network": main}, OK, NEXT_RULES,
                   "4 x 0x7fffff << 232 exceeds PowLimit: capped at 2^255 - 1, which compacts to 0x207fffff",
                   expect_ok={"bits": 0x207FFFFF})
    yield CaseSpec("retarget_cap_at_pow_limit_not_bits", {"headers": window(1439, 0, 172800, 0x20400000), "network": main}, OK,
                   NEXT_RULES, "2 x 0x400000 << 232 = 2^255 > PowLimit: the cap is PowLimit (0x207fffff), not PowLimitBits",
                   expect_ok={"bits": 0x207FFFFF})
    yield CaseSpec("retarget_just_below_cap", {"headers": window(1439, 0, 172799, 0x20400000), "network": main}, OK, NEXT_RULES,
                   "one second less and the target stays below PowLimit")
    yield CaseSpec("retarget_rounding", {"headers": window(1439, 0, 86401, 0x1B0404CB), "network": main}, OK, NEXT_RULES,
                   "old * 86401 // 86400, then BigToCompact rounds down to three bytes")
    yield CaseSpec("quirk_retarget_negative_target", {"headers": window(1439, 0, 172800, 0x1F8008FF), "network": main}, OK,
                   NEXT_RULES, "Quirk: a negative old target stays negative (floor division) and keeps its sign bit")
    yield CaseSpec("retarget_zero_target", {"headers": window(1439, 0, 86400, 0), "network": main}, OK, NEXT_RULES,
                   "target 0 stays 0", expect_ok={"bits": 0})
    yield CaseSpec("quirk_prev_height_u32_max", {"headers": window(U32_MAX, 0, 86400, 0x1D03FFFF), "network": main}, OK,
                   NEXT_RULES, "Quirk: prev + 1 wraps to 0 in u32, and 0 % 720 == 0, so 2^32 - 1 is a retarget height "
                   "(its window starts at 0xfffffd30)", expect_ok={"bits": 0x1D03FFFF})
    full = [hdr(h, GENESIS_TS + 100 * h, b) for h in range(720, 1440)]
    yield CaseSpec("retarget_full_window", {"headers": full, "network": main}, OK, NEXT_RULES,
                   "every header of the window 720..1439, 100 s apart: the span is 71900 s")
    yield CaseSpec("retarget_longer_chain", {"headers": [hdr(h, GENESIS_TS + 150 * h, b) for h in range(700, 1440)],
                                            "network": main}, OK, NEXT_RULES,
                   "headers before the window are not read")
    yield CaseSpec("retarget_testnet", {"headers": window(1439, 0, 43200, 0x1D03FFFF), "network": "testnet"}, OK, NEXT_RULES)
    yield CaseSpec("retarget_regnet_first_of_window", {"headers": window(1439, 1_000, 1_000 + 43200, 0x1D03FFFF), "network": "regnet"},
                   OK, NEXT_RULES, "regnet retargets as mainnet does: the window's first header (height 720) gives the "
                   "span, 43200 s, so the target halves (0x03ffff << 208 becomes 0x01ffff8 << 204, compacted to three bytes)",
                   expect_ok={"bits": 0x1D01FFFF})
    yield CaseSpec("retarget_regnet_first_is_genesis", {"headers": window(719, 1_000, 1_000 + 172800, P.POW_LIMIT_BITS),
                                                        "network": "regnet"},
                   OK, NEXT_RULES, "the first retarget on regnet: the window starts at the genesis header (height 0)")
    yield CaseSpec("unknown_network", {"headers": window(1439, 0, 86400, 0x1D03FFFF), "network": "simnet"},
                   Reason.UNKNOWN_NETWORK, ("NET-001",), "a network name the spec does not define")
    yield CaseSpec("instant_ignores_retarget_height", {"headers": [hdr(719, 0, 0x1D03FFFF)], "network": "instant"}, OK,
                   NEXT_RULES, "instant mode returns 0x207fffff at every height, with no ancestor needed",
                   expect_ok={"bits": P.INSTANT_POW_LIMIT_BITS})
    yield CaseSpec("instant_window_10", {"headers": [hdr(9, 0, 0x1D03FFFF)], "network": "instant"}, OK, NEXT_RULES,
                   expect_ok={"bits": P.INSTANT_POW_LIMIT_BITS})
    yield CaseSpec("ancestor_missing", {"headers": [hdr(1439, GENESIS_TS, b)], "network": main},
                   Reason.RETARGET_ANCESTOR_MISSING, ("POW-004",), "a retarget height without the header at 720")
    yield CaseSpec("ancestor_off_by_one", {"headers": [hdr(721, 0, b), hdr(1439, 86400, b)], "network": main},
                   Reason.RETARGET_ANCESTOR_MISSING, ("POW-004",), "the window starts at 720, not 721")
    yield CaseSpec("no_headers", {"headers": [], "network": main}, Reason.RETARGET_ANCESTOR_MISSING, ("POW-004",))


# == AuxPoW ==========================================================================================

BLOCK = h32("aux/block_hash")
PARENT_PREV = h32("aux/btc_prev")
OUTPUT = BtcTxOut(value=625_000_000, pk_script=bytes.fromhex("76a914") + det_bytes("chain_pow/aux/pkh", 20) + bytes.fromhex("88ac"))


def craft(script: bytes, aux_branch: Sequence[bytes] = (), aux_index: int = 0, *, inputs: int = 1,
          par_branch: Sequence[bytes] = (), par_index: int = 0) -> AuxPow:
    """An AuxPoW around an arbitrary coinbase script, with a consistent parent merkle root."""
    tx_in = tuple(BtcTxIn(previous_hash=bytes(32) if i == 0 else h32(f"aux/spent/{i}"), previous_index=U32_MAX if i == 0 else i,
                          signature_script=script if i == 0 else b"", sequence=U32_MAX)
                  for i in range(inputs))
    tx = BtcTx(version=1, tx_in=tx_in, tx_out=(OUTPUT,), lock_time=0)
    header = BtcHeader(version=0x20000000, previous=PARENT_PREV,
                       merkle_root=merkle_branch_root(tx.hash(), par_branch, par_index),
                       timestamp=1700000000, bits=0x1703A30C, nonce=7)
    return AuxPow(par_coinbase_tx=tx, parent_hash=header.hash()[::-1], par_coinbase_branch=tuple(par_branch),
                  par_merkle_index=par_index, aux_merkle_branch=tuple(aux_branch), aux_merkle_index=aux_index,
                  par_block_header=header)


def check_input(ap: AuxPow | bytes, block_hash: bytes = BLOCK, chain_id: int = AUXPOW_CHAIN_ID) -> dict[str, object]:
    raw = ap if isinstance(ap, bytes) else ap.encode()
    return {"auxpow": raw.hex(), "block_hash": block_hash.hex(), "chain_id": chain_id}


def le32(v: int) -> bytes:
    return v.to_bytes(4, "little")


def odd_nibble_block(label: str) -> bytes:
    """A block hash whose stored hex ends in ``0`` (so a root placed on an odd nibble can end a size field)."""
    i = 0
    while True:
        h = h32(f"{label}/{i}")
        if h[-1] & 0x0F == 0:
            return h
        i += 1


def odd_nibble_script(block_hash: bytes, size: int, nonce: int, tail: str = "") -> bytes:
    """``a`` + magic + needle + LE size (7 digits after the needle's last) + LE nonce + ``tail`` (even length).

    The root's hex starts at an odd position, so the size field read at ``ri // 2`` starts with the
    byte holding the root's last hex digit, which must be ``0`` (see :func:`odd_nibble_block`).
    """
    needle = block_hash.hex()
    size_hex = le32(size).hex()
    assert needle[-1] == size_hex[0]
    text = "a" + MERGED_MINING_HEADER.hex() + needle + size_hex[1:] + le32(nonce).hex() + tail
    return bytes.fromhex(text)


@generator("chain", "ela.auxpow.check")
def auxpow_check_cases() -> Iterator[CaseSpec]:
    for case in interop("auxpow.json"):
        prov = provenance("auxpow.json", case["name"], case["source"])
        raw = bytes.fromhex(case["auxpow_hex"])
        block = bytes.fromhex(case["block_hash_hex_as_in_source"])
        yield CaseSpec(f"upstream_{case['name']}_chain_6", check_input(raw, block, case["chain_id"]), OK, AUX_RULES,
                       f"upstream TestAuxPow_Check: {case['upstream_comment']}", prov)
        yield CaseSpec(f"upstream_{case['name']}_chain_1224", check_input(raw, block, AUXPOW_CHAIN_ID), OK, AUX_RULES,
                       "the same AuxPoW under ELA's chain ID: the expected index does not change", prov)
        yield CaseSpec(f"upstream_{case['name']}_display_order_hash", check_input(raw, block[::-1], case["chain_id"]),
                       Reason.AUXPOW_ROOT_MISSING, ("AUX-004",),
                       "the block hash must be given in stored order; its reversed (display) form is not found", prov)
        ap = AuxPow.decode(raw)
        if ap.aux_merkle_branch:
            yield CaseSpec(f"upstream_{case['name']}_chain_7", check_input(raw, block, 7), Reason.AUXPOW_INDEX_MISMATCH,
                           ("AUX-010",), "an odd chain ID selects the other slot of a 2-leaf aux tree", prov)

    # -- built, accepting
    yield CaseSpec("built_single_chain", check_input(make_auxpow(BLOCK, outputs=(OUTPUT,))), OK, AUX_RULES,
                   "ELA alone: empty aux branch, the script carries the block hash in stored order")
    for h in (1, 2, 3, 8):
        for nonce in (0, det_int(f"chain_pow/aux/nonce/{h}", 0, U32_MAX)):
            ap = make_auxpow(BLOCK, nonce=nonce, aux_branch=hashes(f"aux/branch/{h}", h), outputs=(OUTPUT,))
            yield CaseSpec(f"built_branch_{h}_nonce_{nonce}", check_input(ap), OK, AUX_RULES,
                           f"a {1 << h}-slot aux tree; ELA at slot {ap.aux_merkle_index}")
    ap = make_auxpow(BLOCK, script_prefix=bytes.fromhex("03a0bb0d") + b"/pool/", script_extra=b"\x00" * 8, outputs=(OUTPUT,),
                     par_coinbase_branch=hashes("aux/par_branch", 4), par_merkle_index=0)
    yield CaseSpec("built_with_height_prefix_and_parent_branch", check_input(ap), OK, AUX_RULES,
                   "a BIP34 height push before the magic, bytes after the nonce, a 16-tx parent block")
    ap = make_auxpow(BLOCK, outputs=(OUTPUT,), par_coinbase_branch=hashes("aux/par_branch", 3), par_merkle_index=5)
    yield CaseSpec("quirk_coinbase_not_first", check_input(ap), OK, AUX_RULES,
                   "Quirk: par_merkle_index 5: the 'coinbase' is the sixth transaction of the parent block")
    ap = craft(MERGED_MINING_HEADER + BLOCK + le32(1) + le32(0), inputs=3)
    yield CaseSpec("several_inputs_first_read", check_input(ap), OK, AUX_RULES,
                   "only the first input's script is read; the others are empty")
    for chain_id in (0, 6, U32_MAX):
        ap = make_auxpow(BLOCK, chain_id, nonce=99, aux_branch=hashes("aux/branch/cid", 4), outputs=(OUTPUT,))
        yield CaseSpec(f"chain_id_{chain_id}", check_input(ap, chain_id=chain_id), OK, AUX_RULES)
    yield CaseSpec("mined", check_input(mined_auxpow(), MINED_BLOCK_HASH), OK, AUX_RULES,
                   "the AuxPoW whose parent header meets 0x1f0008ff (see ela.pow.check mined_at_pow_limit_bits)")
    odd_block = odd_nibble_block("aux/odd")
    yield CaseSpec("quirk_odd_nibble_commitment", check_input(craft(odd_nibble_script(odd_block, 1, 0)), odd_block), OK,
                   AUX_RULES, "Quirk: magic and root start on odd hex digits; the size field starts in the byte that "
                   "holds the root's last digit (Go's rootHashIndex/2)")
    nonce = 0x01020304
    branch = hashes("aux/odd_branch", 1)
    index = expected_index(nonce, AUXPOW_CHAIN_ID, 1)
    odd_root_block = None
    i = 0
    while odd_root_block is None:  # a block whose aux root's reversed hex ends in 0
        candidate = h32(f"aux/odd_root/{i}")
        if aux_merkle_root(candidate, branch, index)[0] & 0x0F == 0:
            odd_root_block = candidate
        i += 1
    root_rev = aux_merkle_root(odd_root_block, branch, index)[::-1]
    ap = craft(odd_nibble_script(root_rev, 2, nonce, "ff"), branch, index)
    yield CaseSpec("quirk_odd_nibble_with_branch", check_input(ap, odd_root_block), OK, AUX_RULES,
                   "Quirk: odd-nibble commitment of a 2-slot aux root")

    # -- decoding
    good = make_auxpow(BLOCK, outputs=(OUTPUT,)).encode()
    yield CaseSpec("truncated", check_input(good[:-1]), Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("trailing_byte", check_input(good + b"\x01"), Reason.TRAILING_BYTES, ("ENC-002",),
                   "the block's 0x01 trailer is not part of the AuxPoW")
    yield CaseSpec("block_hash_31_bytes", check_input(good, BLOCK[:31]), Reason.WRONG_LENGTH, ("ENC-006",))
    yield CaseSpec("zero_auxpow", check_input(zero_auxpow()), Reason.AUXPOW_PARENT_MERKLE_MISMATCH, ("AUX-001",),
                   "genesis's zero AuxPoW: the empty transaction's hash is not the zero merkle root")

    # -- each check, rejecting
    ap = make_auxpow(BLOCK, outputs=(OUTPUT,), par_coinbase_branch=hashes("aux/par_branch", 3), par_merkle_index=5)
    moved = ap.model_copy(update={"par_merkle_index": 4})
    yield CaseSpec("parent_merkle_index_wrong", check_input(moved), Reason.AUXPOW_PARENT_MERKLE_MISMATCH, ("AUX-001",))
    tx = ap.par_coinbase_tx
    other = BtcTx(version=tx.version, tx_in=tx.tx_in, tx_out=(), lock_time=tx.lock_time)
    yield CaseSpec("parent_coinbase_changed", check_input(ap.model_copy(update={"par_coinbase_tx": other})),
                   Reason.AUXPOW_PARENT_MERKLE_MISMATCH, ("AUX-001",), "an output removed from the committed coinbase")
    no_input = craft(b"")
    empty_tx = BtcTx(version=1, tx_in=(), tx_out=(OUTPUT,), lock_time=0)
    header = no_input.par_block_header.model_copy(update={"merkle_root": empty_tx.hash()})
    yield CaseSpec("deviation_no_coinbase_input",
                   check_input(no_input.model_copy(update={"par_coinbase_tx": empty_tx, "par_block_header": header})),
                   Reason.AUXPOW_NO_COINBASE_INPUT, ("AUX-002",), "Deviation: upstream panics on TxIn[0]")
    yield CaseSpec("magic_missing", check_input(craft(BLOCK + le32(1) + le32(0))), Reason.AUXPOW_MAGIC_MISSING, ("AUX-003",))
    yield CaseSpec("magic_and_root_missing", check_input(craft(b"\x00" * 40)), Reason.AUXPOW_MAGIC_MISSING, ("AUX-003",),
                   "with both missing the magic is reported")
    yield CaseSpec("magic_broken_by_nibble", check_input(craft(bytes.fromhex("fabe6d6c") + BLOCK + le32(1) + le32(0))),
                   Reason.AUXPOW_MAGIC_MISSING, ("AUX-003",))
    yield CaseSpec("root_missing_other_block", check_input(make_auxpow(BLOCK, outputs=(OUTPUT,)), h32("aux/other_block")),
                   Reason.AUXPOW_ROOT_MISSING, ("AUX-004",), "the AuxPoW commits to another block")
    ap = make_auxpow(BLOCK, nonce=5, aux_branch=hashes("aux/branch/3", 3), outputs=(OUTPUT,))
    yield CaseSpec("root_missing_branch_changed",
                   check_input(ap.model_copy(update={"aux_merkle_branch": tuple(hashes("aux/branch/3x", 3))})),
                   Reason.AUXPOW_ROOT_MISSING, ("AUX-004",))
    yield CaseSpec("magic_repeated_after_nonce",
                   check_input(make_auxpow(BLOCK, script_extra=MERGED_MINING_HEADER, outputs=(OUTPUT,))),
                   Reason.AUXPOW_MAGIC_REPEATED, ("AUX-005",))
    yield CaseSpec("magic_repeated_before", check_input(make_auxpow(BLOCK, script_prefix=MERGED_MINING_HEADER, outputs=(OUTPUT,))),
                   Reason.AUXPOW_MAGIC_REPEATED, ("AUX-005",), "a magic before the commitment one")
    yield CaseSpec("magic_repeated_odd_nibble",
                   check_input(make_auxpow(BLOCK, script_extra=bytes.fromhex("0fabe6d6d0"), outputs=(OUTPUT,))),
                   Reason.AUXPOW_MAGIC_REPEATED, ("AUX-005",), "Quirk: the second magic straddles bytes")
    yield CaseSpec("root_not_after_magic_gap", check_input(craft(MERGED_MINING_HEADER + b"\x00" + BLOCK + le32(1) + le32(0))),
                   Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, ("AUX-006",))
    yield CaseSpec("quirk_root_also_before_magic",
                   check_input(make_auxpow(BLOCK, script_prefix=BLOCK, outputs=(OUTPUT,))),
                   Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, ("AUX-006",),
                   "Quirk: the first copy of the root counts, and it does not follow the magic")
    yield CaseSpec("root_before_magic_only", check_input(craft(BLOCK + MERGED_MINING_HEADER + le32(1) + le32(0))),
                   Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, ("AUX-006",))
    for n in (0, 3):
        yield CaseSpec(f"size_missing_{n}_bytes_after_root",
                       check_input(craft(MERGED_MINING_HEADER + BLOCK + le32(1)[:n])), Reason.AUXPOW_SCRIPT_TOO_SHORT, ("AUX-007",))
    yield CaseSpec("size_wrong", check_input(craft(MERGED_MINING_HEADER + BLOCK + le32(2) + le32(0))),
                   Reason.AUXPOW_MERKLE_SIZE_MISMATCH, ("AUX-008",), "an empty branch needs size 1")
    yield CaseSpec("size_zero", check_input(craft(MERGED_MINING_HEADER + BLOCK + le32(0) + le32(0))),
                   Reason.AUXPOW_MERKLE_SIZE_MISMATCH, ("AUX-008",))
    branch = hashes("aux/branch/2", 2)
    idx = expected_index(0, AUXPOW_CHAIN_ID, 2)
    root = aux_merkle_root(BLOCK, branch, idx)
    yield CaseSpec("size_of_other_height", check_input(craft(MERGED_MINING_HEADER + root[::-1] + le32(8) + le32(0), branch, idx)),
                   Reason.AUXPOW_MERKLE_SIZE_MISMATCH, ("AUX-008",), "a 2-hash branch needs size 4")
    for n in (0, 2):
        yield CaseSpec(f"deviation_nonce_missing_{n}_bytes",
                       check_input(craft(MERGED_MINING_HEADER + BLOCK + le32(1) + le32(0)[:n])),
                       Reason.AUXPOW_SCRIPT_TOO_SHORT, ("AUX-009",),
                       "Deviation: upstream checks for 4 bytes after the root, then reads 8 and panics")
    yield CaseSpec("deviation_nonce_missing_odd_nibble",
                   check_input(craft(odd_nibble_script(odd_block, 1, 0)[:-3]), odd_block),
                   Reason.AUXPOW_SCRIPT_TOO_SHORT, ("AUX-009",), "Deviation: the odd-nibble size fits, the nonce does not")
    ap = make_auxpow(BLOCK, nonce=1234, aux_branch=hashes("aux/branch/4", 4), outputs=(OUTPUT,))
    wrong = (ap.aux_merkle_index + 1) % 16
    yield CaseSpec("index_wrong", check_input(ap.model_copy(update={"aux_merkle_index": wrong})),
                   Reason.AUXPOW_ROOT_MISSING, ("AUX-004",), "a different index folds the branch into a different root")
    root = aux_merkle_root(BLOCK, ap.aux_merkle_branch, wrong)
    script = MERGED_MINING_HEADER + root[::-1] + le32(16) + le32(1234)
    yield CaseSpec("index_wrong_consistent_root", check_input(craft(script, ap.aux_merkle_branch, wrong)),
                   Reason.AUXPOW_INDEX_MISMATCH, ("AUX-010",), "the root matches the index, but the nonce selects another slot")
    yield CaseSpec("index_other_chain", check_input(ap, chain_id=6), Reason.AUXPOW_INDEX_MISMATCH, ("AUX-010",))
    long_branch = hashes("aux/branch/32", 32)
    root = aux_merkle_root(BLOCK, long_branch, 0)
    yield CaseSpec("deviation_branch_32", check_input(craft(MERGED_MINING_HEADER + root[::-1] + le32(0) + le32(0), long_branch, 0)),
                   Reason.AUXPOW_BRANCH_TOO_LONG, ("AUX-011",),
                   "Deviation: size uint32(1 << 32) = 0 passes, then upstream divides by zero")
    yield CaseSpec("branch_32_size_one", check_input(craft(MERGED_MINING_HEADER + root[::-1] + le32(1) + le32(0), long_branch, 0)),
                   Reason.AUXPOW_MERKLE_SIZE_MISMATCH, ("AUX-008",), "with a non-zero size upstream returns false")


@generator("chain", "ela.auxpow.decode")
def auxpow_decode_cases() -> Iterator[CaseSpec]:
    for case in interop("auxpow.json"):
        ap = AuxPow.decode(bytes.fromhex(case["auxpow_hex"]))
        yield CaseSpec(f"upstream_{case['name']}", {"auxpow": case["auxpow_hex"]}, OK, (),
                       "upstream TestAuxPow_Check data; parent_hash is the reversed parent header hash",
                       provenance("auxpow.json", case["name"], case["source"]),
                       expect_ok={"parent_hash": ap.par_block_header.hash()[::-1].hex()})
    zero = zero_auxpow().encode()
    yield CaseSpec("zero_auxpow", {"auxpow": zero.hex()}, OK, (), "the genesis AuxPoW: 132 zero bytes", expect_ok={"size": 132})
    good = make_auxpow(BLOCK, nonce=3, aux_branch=hashes("aux/decode_branch", 2), outputs=(OUTPUT,),
                       par_coinbase_branch=hashes("aux/decode_par", 2)).encode()
    yield CaseSpec("built", {"auxpow": good.hex()}, OK, ())
    for cut in (0, 1, 4, 5, 60, len(good) - 81, len(good) - 80, len(good) - 1):
        yield CaseSpec(f"truncated_at_{cut}", {"auxpow": good[:cut].hex()}, Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("trailing_byte", {"auxpow": (zero + b"\x00").hex()}, Reason.TRAILING_BYTES, ("ENC-002",))
    # version 0, one input: zero outpoint, a script of 10001 bytes
    oversize = bytes(4) + b"\x01" + bytes(36) + b"\xfd" + (10001).to_bytes(2, "little") + bytes(10001)
    yield CaseSpec("script_10001_bytes", {"auxpow": oversize.hex()}, Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",),
                   "MaxScriptSize is 10000")
    at_max = make_auxpow(BLOCK, script_extra=bytes(10_000 - 44), outputs=(OUTPUT,)).encode()
    yield CaseSpec("script_10000_bytes", {"auxpow": at_max.hex()}, OK, (), "a script of exactly MaxScriptSize")
    pk_over = bytes(4) + b"\x00" + b"\x01" + bytes(8) + b"\xfd" + (10001).to_bytes(2, "little")
    yield CaseSpec("pk_script_10001_bytes", {"auxpow": pk_over.hex()}, Reason.LENGTH_EXCEEDS_MAX, ("ENC-004",))
    yield CaseSpec("input_count_non_canonical", {"auxpow": (bytes(4) + b"\xfd\x00\x00").hex()},
                   Reason.NON_CANONICAL_VARUINT, ("ENC-003",))
    branch_huge = bytes(4) + b"\x00\x00" + bytes(4) + bytes(32) + b"\xff" + (U32_MAX + 1).to_bytes(8, "little")
    yield CaseSpec("branch_count_huge", {"auxpow": branch_huge.hex()}, Reason.TRUNCATED, ("ENC-001",),
                   "a count with no hashes behind it fails at the first missing hash")


@generator("chain", "ela.auxpow.expected_index")
def expected_index_cases() -> Iterator[CaseSpec]:
    aux = fact("auxpow_constants")
    for key, value in aux["value"]["expected_index_examples_chain_1224"].items():
        nonce_s, h_s = key.split(",")
        nonce = int(nonce_s.split("=")[1], 0)
        h = int(h_s.split("=")[1])
        yield CaseSpec(f"upstream_nonce_{nonce}_h_{h}", {"nonce": nonce, "chain_id": AUXPOW_CHAIN_ID, "height": h}, OK,
                       ("AUX-011",), "", provenance("facts.json", "auxpow_constants", aux["sources"]),
                       expect_ok={"index": value})
    for h in (0, 1, 2, 5, 16, 30, 31):
        nonce = det_int(f"chain_pow/expected/{h}", 0, U32_MAX)
        yield CaseSpec(f"height_{h}", {"nonce": nonce, "chain_id": AUXPOW_CHAIN_ID, "height": h}, OK, ("AUX-011",))
    yield CaseSpec("chain_id_u32_max_wraps", {"nonce": U32_MAX, "chain_id": U32_MAX, "height": 31}, OK, ("AUX-011",),
                   "every step wraps modulo 2^32")
    yield CaseSpec("chain_6", {"nonce": 0, "chain_id": 6, "height": 8}, OK, ("AUX-011",))
    for h in (32, 33, 1000):
        yield CaseSpec(f"deviation_height_{h}", {"nonce": 0, "chain_id": AUXPOW_CHAIN_ID, "height": h},
                       Reason.AUXPOW_BRANCH_TOO_LONG, ("AUX-011",), "Deviation: upstream divides by zero")
