"""Generators of the ``crypto`` suite."""

from __future__ import annotations

from collections.abc import Iterator

from spec.crypto import p256
from spec.crypto.curve25519 import ed25519_sign
from spec.crypto.scripts import multisig_redeem_script, standard_redeem_script
from spec.errors import Reason

from conformance.generators.common import det_bytes, det_int, fact, interop, provenance
from conformance.vectors import CaseSpec, generator

OK = "ok"
L_ED25519 = 2**252 + 27742317777372353535851937790883648493


def private_key(label: str) -> bytes:
    """A deterministic P-256 private key."""
    return det_int(f"p256/{label}", 1, p256.N - 1).to_bytes(32, "big")


def public_key(label: str) -> bytes:
    return p256.public_key_from_private(private_key(label))


def sign(label: str, message: bytes) -> bytes:
    return p256.ecdsa_sign(private_key(label), message)


def x_without_point() -> int:
    """The smallest X for which the curve has no point."""
    x = 0
    while True:
        y2 = (pow(x, 3, p256.P) + p256.A * x + p256.B) % p256.P
        if pow(y2, (p256.P - 1) // 2, p256.P) not in (0, 1):
            return x
        x += 1


# -- hashes -------------------------------------------------------------------------------------

HASH_INPUTS = {"empty": b"", "abc": b"abc", "one_block": b"a" * 64, "million_a_prefix": b"a" * 1000,
               "binary": det_bytes("hash/binary", 77)}


def _hash_cases() -> Iterator[CaseSpec]:
    for name, data in HASH_INPUTS.items():
        yield CaseSpec(name, {"data": data.hex()}, OK)


for _h in ("sha256", "ripemd160", "hash160"):
    generator("crypto", _h)(_hash_cases)


@generator("crypto", "sha256d")
def sha256d_cases() -> Iterator[CaseSpec]:
    yield from _hash_cases()
    f = fact("genesis_register_asset_unsigned")
    yield CaseSpec("upstream_ela_asset_id", {"data": f["value"]["hex"]}, OK, (),
                   "the ELA asset ID is sha256d of the genesis RegisterAsset transaction's unsigned bytes",
                   provenance("facts.json", "genesis_register_asset_unsigned", f["sources"]),
                   expect_ok={"digest": f["value"]["sha256d_stored_hex"]})
    for tx in interop("transactions.json"):
        yield CaseSpec(f"upstream_txid_{tx['name']}"[:96], {"data": tx["unsigned_hex"]}, OK, (),
                       f"txid (stored order) of {tx['name']}: {tx['txid_rule']}",
                       provenance("transactions.json", tx["name"], tx["source"]),
                       expect_ok={"digest": tx["txid_stored"]})


# -- P-256 keys -----------------------------------------------------------------------------------

@generator("crypto", "pubkey_decode")
def pubkey_decode() -> Iterator[CaseSpec]:
    g = p256.compress_point(0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
                            0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)
    yield CaseSpec("generator", {"pubkey": g.hex()}, OK, ("CRY-001", "CRY-002", "CRY-003"))
    for i in range(8):
        yield CaseSpec(f"key_{i}", {"pubkey": public_key(str(i)).hex()}, OK, ("CRY-001", "CRY-002", "CRY-003"))
    pk = public_key("0")
    uncompressed = b"\x04" + p256.decompress_point(pk)[0].to_bytes(32, "big") + p256.decompress_point(pk)[1].to_bytes(32, "big")
    yield CaseSpec("uncompressed_65_bytes", {"pubkey": uncompressed.hex()}, Reason.PUBKEY_ENCODING, ("CRY-001",),
                   "Deviation: upstream DecodePoint accepts uncompressed points without a curve check")
    yield CaseSpec("prefix_04_33_bytes", {"pubkey": ("04" + pk[1:].hex())}, Reason.PUBKEY_ENCODING, ("CRY-001",))
    yield CaseSpec("prefix_00", {"pubkey": ("00" + pk[1:].hex())}, Reason.PUBKEY_ENCODING, ("CRY-001",))
    yield CaseSpec("32_bytes", {"pubkey": pk[:32].hex()}, Reason.PUBKEY_ENCODING, ("CRY-001",))
    yield CaseSpec("34_bytes", {"pubkey": (pk + b"\x00").hex()}, Reason.PUBKEY_ENCODING, ("CRY-001",))
    yield CaseSpec("empty", {"pubkey": ""}, Reason.PUBKEY_ENCODING, ("CRY-001",))
    yield CaseSpec("x_equals_p", {"pubkey": "02" + p256.P.to_bytes(32, "big").hex()}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-002",))
    yield CaseSpec("x_all_ff", {"pubkey": "03" + "ff" * 32}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-002",),
                   "Deviation: upstream reduces X modulo P")
    x = x_without_point()
    for prefix in ("02", "03"):
        yield CaseSpec(f"x_{x}_no_point_{prefix}", {"pubkey": prefix + x.to_bytes(32, "big").hex()},
                       Reason.PUBKEY_NOT_ON_CURVE, ("CRY-003",), "X^3 - 3X + B is not a square mod P")


@generator("crypto", "pubkey_from_private")
def pubkey_from_private() -> Iterator[CaseSpec]:
    yield CaseSpec("one", {"private_key": (1).to_bytes(32, "big").hex()}, OK, ("CRY-007",), "the generator point")
    yield CaseSpec("n_minus_1", {"private_key": (p256.N - 1).to_bytes(32, "big").hex()}, OK, ("CRY-007",))
    for i in range(3):
        yield CaseSpec(f"key_{i}", {"private_key": private_key(str(i)).hex()}, OK, ("CRY-007",))
    yield CaseSpec("zero", {"private_key": "00" * 32}, Reason.PRIVATE_KEY_OUT_OF_RANGE, ("CRY-007",))
    yield CaseSpec("n", {"private_key": p256.N.to_bytes(32, "big").hex()}, Reason.PRIVATE_KEY_OUT_OF_RANGE, ("CRY-007",))
    yield CaseSpec("31_bytes", {"private_key": "01" * 31}, Reason.PRIVATE_KEY_OUT_OF_RANGE, ("CRY-007",))


# -- ECDSA ------------------------------------------------------------------------------------------

RFC6979_KEY = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")


@generator("crypto", "ecdsa_sign")
def ecdsa_sign() -> Iterator[CaseSpec]:
    for msg in ("sample", "test"):
        yield CaseSpec(f"rfc6979_a25_{msg}", {"private_key": RFC6979_KEY.hex(), "message": msg.encode().hex()}, OK,
                       ("CRY-007",), "RFC 6979 A.2.5, P-256 with SHA-256")
    for i in range(5):
        yield CaseSpec(f"key_{i}", {"private_key": private_key(str(i)).hex(), "message": det_bytes(f"msg/{i}", 40 * i).hex()},
                       OK, ("CRY-007",))
    yield CaseSpec("zero_key", {"private_key": "00" * 32, "message": ""}, Reason.PRIVATE_KEY_OUT_OF_RANGE, ("CRY-007",))


@generator("crypto", "ecdsa_verify")
def ecdsa_verify() -> Iterator[CaseSpec]:
    rules = ("CRY-004", "CRY-005", "CRY-006")
    for i in range(6):
        msg = det_bytes(f"verify/{i}", 16 * i)
        yield CaseSpec(f"valid_{i}", {"pubkey": public_key(str(i)).hex(), "message": msg.hex(), "signature": sign(str(i), msg).hex()}, OK, rules)
    msg = b"elastos"
    sig = sign("0", msg)
    pk = public_key("0")
    yield CaseSpec("quirk_malleated_high_s", {"pubkey": pk.hex(), "message": msg.hex(), "signature": p256.malleate(sig).hex()},
                   OK, rules, "Quirk: no low-S rule; (r, N-s) verifies too")
    tx = interop("transactions.json")[0]
    yield CaseSpec("upstream_restful_transfer_asset", {
        "pubkey": tx["signature"]["public_key_hex"], "message": tx["unsigned_hex"], "signature": tx["signature"]["signature_hex"],
    }, OK, rules, "the signed TransferAsset of the RESTful API docs: signature over the unsigned bytes",
        provenance("transactions.json", tx["name"], tx["source"]))
    yield CaseSpec("upstream_restful_over_txid", {
        "pubkey": tx["signature"]["public_key_hex"], "message": tx["txid_stored"], "signature": tx["signature"]["signature_hex"],
    }, Reason.SIGNATURE_INVALID, ("CRY-006",), "the same signature does not verify over the txid",
        provenance("transactions.json", tx["name"], tx["source"]))
    yield CaseSpec("wrong_message", {"pubkey": pk.hex(), "message": b"elastoz".hex(), "signature": sig.hex()}, Reason.SIGNATURE_INVALID, ("CRY-006",))
    yield CaseSpec("wrong_key", {"pubkey": public_key("1").hex(), "message": msg.hex(), "signature": sig.hex()}, Reason.SIGNATURE_INVALID, ("CRY-006",))
    flipped = bytearray(sig)
    flipped[10] ^= 0x01
    yield CaseSpec("bit_flipped_r", {"pubkey": pk.hex(), "message": msg.hex(), "signature": bytes(flipped).hex()}, Reason.SIGNATURE_INVALID, ("CRY-006",))
    yield CaseSpec("length_63", {"pubkey": pk.hex(), "message": msg.hex(), "signature": sig[:63].hex()}, Reason.SIGNATURE_LENGTH, ("CRY-004",))
    yield CaseSpec("length_65", {"pubkey": pk.hex(), "message": msg.hex(), "signature": (sig + b"\x00").hex()}, Reason.SIGNATURE_LENGTH, ("CRY-004",))
    yield CaseSpec("der_encoded", {"pubkey": pk.hex(), "message": msg.hex(), "signature": ("3044" + "0220" + sig[:32].hex() + "0220" + sig[32:].hex())},
                   Reason.SIGNATURE_LENGTH, ("CRY-004",), "DER is not the wire form")
    r, s = sig[:32], sig[32:]
    for name, bad in {"r_zero": bytes(32) + s, "s_zero": r + bytes(32), "r_equals_n": p256.N.to_bytes(32, "big") + s,
                      "s_equals_n": r + p256.N.to_bytes(32, "big"), "s_all_ff": r + b"\xff" * 32}.items():
        yield CaseSpec(name, {"pubkey": pk.hex(), "message": msg.hex(), "signature": bad.hex()}, Reason.SIGNATURE_OUT_OF_RANGE, ("CRY-005",))
    yield CaseSpec("invalid_pubkey", {"pubkey": "02" + x_without_point().to_bytes(32, "big").hex(), "message": msg.hex(),
                                      "signature": sig.hex()}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-003",))


# -- redeem scripts and programs --------------------------------------------------------------------


def keys(prefix: str, n: int) -> list[bytes]:
    return [public_key(f"{prefix}/{i}") for i in range(n)]


@generator("crypto", "redeem_script_standard")
def redeem_script_standard() -> Iterator[CaseSpec]:
    yield CaseSpec("upstream_contract_test", {"pubkey": "022c9652d3ad5cc065aa9147dc2ad022f80001e8ed233de20f352950d351d472b7"}, OK,
                   ("CRY-001",), "upstream: ENTogr92671PKrMmtWo3RLiYXfBTXUe13Z (core/contract/contract_test.go)",
                   expect_ok={"address": "ENTogr92671PKrMmtWo3RLiYXfBTXUe13Z"})
    tx = interop("transactions.json")[0]
    yield CaseSpec("upstream_restful_change_address", {"pubkey": tx["signature"]["public_key_hex"]}, OK, ("CRY-001",),
                   f"upstream change output pays {tx['signature']['redeem_script_address']}",
                   provenance("transactions.json", tx["name"], tx["source"]),
                   expect_ok={"address": tx["signature"]["redeem_script_address"],
                              "program_hash": tx["signature"]["redeem_script_program_hash"]})
    for i in range(3):
        yield CaseSpec(f"key_{i}", {"pubkey": public_key(f"std/{i}").hex()}, OK, ("CRY-001",))
    yield CaseSpec("invalid_key", {"pubkey": "02" + x_without_point().to_bytes(32, "big").hex()}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-003",))


@generator("crypto", "redeem_script_multisig")
def redeem_script_multisig() -> Iterator[CaseSpec]:
    for m, n in ((1, 2), (2, 3), (3, 3), (3, 5), (16, 16)):
        yield CaseSpec(f"m{m}_of_n{n}", {"m": m, "pubkeys": [k.hex() for k in keys(f"ms{n}", n)]}, OK, ("CRY-020",),
                       "keys are written sorted by X whatever the input order")
    yield CaseSpec("crosschain_m3_of_n4", {"m": 3, "pubkeys": [k.hex() for k in keys("xc", 4)], "kind": "crosschain"}, OK, ("CRY-020",),
                   "the arbiters' cross-chain script ends in 0xAF")
    yield CaseSpec("m0", {"m": 0, "pubkeys": [k.hex() for k in keys("ms3", 3)]}, Reason.MULTISIG_BAD_M_N, ("CRY-020",))
    yield CaseSpec("m_above_n", {"m": 4, "pubkeys": [k.hex() for k in keys("ms3", 3)]}, Reason.MULTISIG_BAD_M_N, ("CRY-020",))
    yield CaseSpec("n1", {"m": 1, "pubkeys": [public_key("ms1").hex()]}, Reason.MULTISIG_BAD_M_N, ("CRY-020",),
                   "Quirk: upstream builds it, but it is too short to ever verify")
    yield CaseSpec("n17", {"m": 2, "pubkeys": [k.hex() for k in keys("ms17", 17)]}, Reason.MULTISIG_BAD_M_N, ("CRY-020",))
    yield CaseSpec("invalid_key", {"m": 1, "pubkeys": [public_key("a").hex(), "03" + "ff" * 32]}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-002",))


@generator("crypto", "redeem_script_parse")
def redeem_script_parse() -> Iterator[CaseSpec]:
    std = standard_redeem_script(public_key("parse/std"))
    ms = multisig_redeem_script(2, keys("parse/ms", 3))
    xc = multisig_redeem_script(2, keys("parse/xc", 3), "crosschain")
    rules = ("CRY-020", "CRY-021")
    yield CaseSpec("standard", {"code": std.hex()}, OK, rules)
    yield CaseSpec("multisig_2_of_3", {"code": ms.hex()}, OK, rules)
    yield CaseSpec("crosschain_2_of_3", {"code": xc.hex()}, OK, rules)
    yield CaseSpec("empty", {"code": ""}, Reason.SCRIPT_MALFORMED, ("CRY-021",))
    yield CaseSpec("standard_wrong_op", {"code": (std[:-1] + b"\xad").hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",),
                   "0xAD (the DID script type) is not a redeem script here")
    yield CaseSpec("multisig_wrong_op", {"code": (ms[:-1] + b"\xac").hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",))
    yield CaseSpec("multisig_truncated_key", {"code": (ms[:-3] + ms[-2:]).hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",))
    bad_push = bytearray(ms)
    bad_push[1] = 0x20
    yield CaseSpec("multisig_bad_push_byte", {"code": bytes(bad_push).hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",),
                   "Deviation: upstream ignores the push byte of each key")
    n_mismatch = bytearray(ms)
    n_mismatch[-2] = 0x54
    yield CaseSpec("multisig_n_not_key_count", {"code": bytes(n_mismatch).hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",))
    m_above_n = bytearray(ms)
    m_above_n[0] = 0x54
    yield CaseSpec("multisig_m_above_n", {"code": bytes(m_above_n).hex()}, Reason.MULTISIG_BAD_M_N, ("CRY-020",))
    m_zero = bytearray(ms)
    m_zero[0] = 0x50
    yield CaseSpec("multisig_m_zero", {"code": bytes(m_zero).hex()}, Reason.MULTISIG_BAD_M_N, ("CRY-020",))
    bad_key = bytearray(ms)
    bad_key[2:35] = b"\x02" + x_without_point().to_bytes(32, "big")
    yield CaseSpec("multisig_key_off_curve", {"code": bytes(bad_key).hex()}, Reason.PUBKEY_NOT_ON_CURVE, ("CRY-003",))


@generator("crypto", "program_verify")
def program_verify() -> Iterator[CaseSpec]:
    msg = det_bytes("program/msg", 120)
    std_code = standard_redeem_script(public_key("prog/std"))
    good = sign("prog/std", msg)
    std_rules = ("CRY-021", "CRY-022", "CRY-006")
    yield CaseSpec("standard", {"code": std_code.hex(), "parameter": ("40" + good.hex()), "message": msg.hex()}, OK, std_rules)
    yield CaseSpec("quirk_standard_push_byte_ignored", {"code": std_code.hex(), "parameter": ("00" + good.hex()), "message": msg.hex()},
                   OK, std_rules, "Quirk: the first parameter byte is not checked")
    tx = interop("transactions.json")[0]
    prog = tx["decoded"]["programs"][0]
    yield CaseSpec("upstream_restful_transfer_asset", {"code": prog["code_hex"], "parameter": prog["parameter_hex"],
                                                        "message": tx["unsigned_hex"]}, OK, std_rules,
                   "the program of the RESTful API example transaction", provenance("transactions.json", tx["name"], tx["source"]))
    yield CaseSpec("standard_parameter_64", {"code": std_code.hex(), "parameter": good.hex(), "message": msg.hex()},
                   Reason.PARAMETER_LENGTH, ("CRY-022",))
    yield CaseSpec("standard_two_signatures", {"code": std_code.hex(), "parameter": ("40" + good.hex()) * 2, "message": msg.hex()},
                   Reason.PARAMETER_LENGTH, ("CRY-022",))
    yield CaseSpec("standard_wrong_signer", {"code": std_code.hex(), "parameter": "40" + sign("other", msg).hex(), "message": msg.hex()},
                   Reason.SIGNATURE_INVALID, ("CRY-006",))

    labels = [f"prog/ms/{i}" for i in range(3)]
    code = multisig_redeem_script(2, [public_key(x) for x in labels])
    sigs = {x: "40" + sign(x, msg).hex() for x in labels}
    garbage = "40" + sign("prog/outsider", msg).hex()
    ms_rules = ("CRY-021", "CRY-023", "CRY-024", "CRY-025", "CRY-026", "CRY-027")

    def case(name: str, param: str, means: object, rules: tuple[str, ...] = ms_rules, desc: str = "") -> CaseSpec:
        return CaseSpec(name, {"code": code.hex(), "parameter": param, "message": msg.hex()}, means, rules, desc)  # type: ignore[arg-type]

    yield case("multisig_2_of_3_keys_01", sigs[labels[0]] + sigs[labels[1]], OK)
    yield case("multisig_2_of_3_keys_21", sigs[labels[2]] + sigs[labels[1]], OK, desc="signature order does not matter")
    yield case("multisig_3_signatures", sigs[labels[0]] + sigs[labels[1]] + sigs[labels[2]], OK)
    yield case("quirk_multisig_unmatched_signature_skipped", sigs[labels[0]] + garbage + sigs[labels[2]], OK,
               desc="Quirk: a signature that matches no key is skipped when m others match")
    yield case("multisig_one_signature", sigs[labels[0]], Reason.NOT_ENOUGH_SIGNATURES, ("CRY-024",))
    yield case("multisig_four_signatures", sigs[labels[0]] + sigs[labels[1]] + sigs[labels[2]] + garbage, Reason.TOO_MANY_SIGNATURES, ("CRY-025",))
    yield case("multisig_duplicate", sigs[labels[0]] + sigs[labels[0]], Reason.DUPLICATE_SIGNATURE, ("CRY-026",))
    yield case("multisig_one_matches", sigs[labels[0]] + garbage, Reason.NOT_ENOUGH_SIGNATURES, ("CRY-027",))
    yield case("multisig_parameter_not_multiple_of_65", sigs[labels[0]] + sigs[labels[1]] + "00", Reason.PARAMETER_LENGTH, ("CRY-023",))
    yield case("multisig_empty_parameter", "", Reason.NOT_ENOUGH_SIGNATURES, ("CRY-024",))
    yield CaseSpec("malformed_code", {"code": "51ae", "parameter": "", "message": msg.hex()}, Reason.SCRIPT_MALFORMED, ("CRY-021",))


# -- Ed25519 / X25519 -------------------------------------------------------------------------------

RFC8032 = {
    "rfc8032_test1": ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", ""),
    "rfc8032_test2": ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "72"),
    "rfc8032_test3": ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "af82"),
}


@generator("crypto", "ed25519_public_key")
def ed25519_public_key_cases() -> Iterator[CaseSpec]:
    for name, (seed, _) in RFC8032.items():
        yield CaseSpec(name, {"seed": seed}, OK, ("CRY-010",), "RFC 8032 §7.1")
    yield CaseSpec("seed_31_bytes", {"seed": "00" * 31}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))


@generator("crypto", "ed25519_sign")
def ed25519_sign_cases() -> Iterator[CaseSpec]:
    for name, (seed, msg) in RFC8032.items():
        yield CaseSpec(name, {"seed": seed, "message": msg}, OK, ("CRY-010",), "RFC 8032 §7.1")
    yield CaseSpec("seed_33_bytes", {"seed": "00" * 33, "message": ""}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))


@generator("crypto", "ed25519_verify")
def ed25519_verify_cases() -> Iterator[CaseSpec]:
    from spec.crypto.curve25519 import ed25519_public_key

    rules = ("CRY-010", "CRY-011", "CRY-012", "CRY-014")
    for name, (seed, msg) in RFC8032.items():
        pub = ed25519_public_key(bytes.fromhex(seed))
        sig = ed25519_sign(bytes.fromhex(seed), bytes.fromhex(msg))
        yield CaseSpec(name, {"public_key": pub.hex(), "message": msg, "signature": sig.hex()}, OK, rules, "RFC 8032 §7.1")
    seed = bytes.fromhex(RFC8032["rfc8032_test2"][0])
    pub = ed25519_public_key(seed)
    sig = ed25519_sign(seed, b"\x72")
    yield CaseSpec("wrong_message", {"public_key": pub.hex(), "message": "73", "signature": sig.hex()}, Reason.SIGNATURE_INVALID, ("CRY-012",))
    s_plus_l = (int.from_bytes(sig[32:], "little") + L_ED25519).to_bytes(32, "little")
    yield CaseSpec("s_plus_l", {"public_key": pub.hex(), "message": "72", "signature": (sig[:32] + s_plus_l).hex()},
                   Reason.SIGNATURE_INVALID, ("CRY-012",), "a non-canonical S (S + L) is refused")
    yield CaseSpec("small_order_key_zero_signature", {"public_key": "00" * 32, "message": "09", "signature": "00" * 64},
                   Reason.ED25519_SMALL_ORDER, ("CRY-014",),
                   "Deviation: RFC 8032 accepts this forgery under a small-order key; libsodium and the spec do not")
    yield CaseSpec("small_order_key_identity", {"public_key": "01" + "00" * 31, "message": "72", "signature": sig.hex()},
                   Reason.ED25519_SMALL_ORDER, ("CRY-014",))
    yield CaseSpec("small_order_key_non_canonical_p_plus_1", {"public_key": "ee" + "ff" * 30 + "7f", "message": "72",
                                                             "signature": sig.hex()}, Reason.ED25519_SMALL_ORDER, ("CRY-014",))
    yield CaseSpec("small_order_r", {"public_key": pub.hex(), "message": "72",
                                     "signature": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05" + sig[32:].hex()},
                   Reason.ED25519_SMALL_ORDER, ("CRY-014",), "R of order 8")
    yield CaseSpec("signature_63_bytes", {"public_key": pub.hex(), "message": "72", "signature": sig[:63].hex()}, Reason.SIGNATURE_LENGTH, ("CRY-011",))
    yield CaseSpec("public_key_31_bytes", {"public_key": pub[:31].hex(), "message": "72", "signature": sig.hex()}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))


RFC7748_ALICE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
RFC7748_BOB = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"


@generator("crypto", "x25519_public_key")
def x25519_public_key_cases() -> Iterator[CaseSpec]:
    yield CaseSpec("rfc7748_alice", {"private_key": RFC7748_ALICE}, OK, ("CRY-010",), "RFC 7748 §6.1")
    yield CaseSpec("rfc7748_bob", {"private_key": RFC7748_BOB}, OK, ("CRY-010",), "RFC 7748 §6.1")
    yield CaseSpec("short_key", {"private_key": "01" * 16}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))


@generator("crypto", "x25519_shared")
def x25519_shared_cases() -> Iterator[CaseSpec]:
    from spec.crypto.curve25519 import x25519_public_key

    bob_pub = x25519_public_key(bytes.fromhex(RFC7748_BOB)).hex()
    alice_pub = x25519_public_key(bytes.fromhex(RFC7748_ALICE)).hex()
    yield CaseSpec("rfc7748_alice_bob", {"private_key": RFC7748_ALICE, "public_key": bob_pub}, OK, ("CRY-010", "CRY-013"), "RFC 7748 §6.1")
    yield CaseSpec("rfc7748_bob_alice", {"private_key": RFC7748_BOB, "public_key": alice_pub}, OK, ("CRY-010", "CRY-013"))
    yield CaseSpec("low_order_zero", {"private_key": RFC7748_ALICE, "public_key": "00" * 32}, Reason.X25519_LOW_ORDER, ("CRY-013",))
    yield CaseSpec("low_order_one", {"private_key": RFC7748_ALICE, "public_key": "01" + "00" * 31}, Reason.X25519_LOW_ORDER, ("CRY-013",))
    yield CaseSpec("public_key_33_bytes", {"private_key": RFC7748_ALICE, "public_key": "09" * 33}, Reason.ED25519_KEY_LENGTH, ("CRY-010",))
