"""Redeem scripts, program hashes and program verification (standard and multisig), including the
upstream signed TransferAsset."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.crypto import p256, scripts
from spec.crypto.hashes import hash160, sha256d
from spec.crypto.p256 import N
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.errors import DecodeError, Reason, Reject
from helpers import expect_reject

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])

PRIVS = [(0x1000 + i * 7919).to_bytes(32, "big") for i in range(20)]
PUBS = [p256.public_key_from_private(k) for k in PRIVS]
KEYPAIRS = list(zip(PRIVS, PUBS))
MSG = b"unsigned transaction bytes"




def push(sig: bytes) -> bytes:
    return b"\x40" + sig


def sign(i: int, message: bytes = MSG) -> bytes:
    return p256.ecdsa_sign(PRIVS[i], message)


def x_of(pk: bytes) -> int:
    return int.from_bytes(pk[1:], "big")


def manual_multisig(m: int, keys: list[bytes], n: int | None = None, op: int = 0xAE, push_byte: int = 0x21) -> bytes:
    """A multisig script written byte by byte, without the builder's checks."""
    n = len(keys) if n is None else n
    return bytes([0x50 + m]) + b"".join(bytes([push_byte]) + k for k in keys) + bytes([0x50 + n, op])


# == building and parsing ===============================================================================


def test_standard_script_layout_and_hash():
    code = scripts.standard_redeem_script(PUBS[0])
    assert code == b"\x21" + PUBS[0] + b"\xac" and len(code) == scripts.STANDARD_SCRIPT_SIZE
    parsed = scripts.parse_redeem_script(code)
    assert (parsed.kind, parsed.m, parsed.n, parsed.public_keys) == ("standard", 1, 1, (PUBS[0],))
    ph = scripts.program_hash(code)
    assert ph.data == b"\x21" + hash160(code)
    assert address_from_program_hash(ph)[0] == "E"


def test_multisig_script_layout_sorted_by_x():
    keys = PUBS[:3]
    code = scripts.multisig_redeem_script(2, list(reversed(keys)))
    ordered = sorted(keys, key=x_of)
    assert code == manual_multisig(2, ordered)
    assert len(code) == 1 + 34 * 3 + 2
    parsed = scripts.parse_redeem_script(code)
    assert (parsed.kind, parsed.m, parsed.n) == ("multisig", 2, 3)
    assert list(parsed.public_keys) == ordered
    ph = scripts.program_hash(code)
    assert ph.data == b"\x12" + hash160(code)
    assert address_from_program_hash(ph)[0] == "8"


def test_crosschain_script():
    code = scripts.multisig_redeem_script(3, PUBS[:4], kind="crosschain")
    assert code[-1] == 0xAF
    parsed = scripts.parse_redeem_script(code)
    assert (parsed.kind, parsed.m, parsed.n) == ("crosschain", 3, 4)
    ph = scripts.program_hash(code)
    assert ph.prefix == 0x4B and address_from_program_hash(ph)[0] == "X"


def test_program_hash_explicit_prefix():
    code = scripts.standard_redeem_script(PUBS[1])
    assert scripts.program_hash(code, 0x1F).data == b"\x1f" + hash160(code)
    assert address_from_program_hash(scripts.program_hash(code, 0x67))[0] == "i"


def test_sort_ties_between_a_point_and_its_negation():
    d = int.from_bytes(PRIVS[0], "big")
    a = p256.public_key_from_private(d.to_bytes(32, "big"))
    b = p256.public_key_from_private((N - d).to_bytes(32, "big"))
    assert a[1:] == b[1:] and a[0] != b[0]
    assert scripts.sort_public_keys([b, a]) == scripts.sort_public_keys([a, b]) == sorted([a, b])
    assert scripts.sort_public_keys([b, a])[0][0] == 0x02


def test_sort_is_by_x_as_integer_not_by_bytes():
    keys = PUBS[:12]
    by_x = sorted(keys, key=x_of)
    assert scripts.sort_public_keys(keys) == by_x
    # the prefix byte is ignored: 03-keys and 02-keys are interleaved by X
    assert {k[0] for k in keys} == {2, 3}
    assert by_x != sorted(keys), "the fixture must contain keys whose byte order differs from X order"


@FAST
@given(st.data())
def test_multisig_build_parse_round_trip(data):
    n = data.draw(st.integers(2, 16))
    m = data.draw(st.integers(1, n))
    idx = data.draw(st.permutations(range(20)))[:n]
    keys = [PUBS[i] for i in idx]
    code = scripts.multisig_redeem_script(m, keys)
    assert code == scripts.multisig_redeem_script(m, list(reversed(keys))), "the key order given must not matter"
    parsed = scripts.parse_redeem_script(code)
    assert (parsed.m, parsed.n, parsed.kind) == (m, n, "multisig")
    assert scripts.multisig_redeem_script(parsed.m, list(parsed.public_keys)) == code


@pytest.mark.parametrize("m, n", [(3, 2), (0, 2), (1, 1), (2, 1), (1, 17), (17, 17), (5, 4)])
def test_builder_bad_m_n(m, n):
    expect_reject(scripts.multisig_redeem_script, m, PUBS[:n], reason=Reason.MULTISIG_BAD_M_N, rule="CRY-020")


def test_builder_checks_keys():
    bad = b"\x02" + (1).to_bytes(32, "big")
    expect_reject(scripts.multisig_redeem_script, 1, [PUBS[0], bad], reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-003")
    expect_reject(scripts.standard_redeem_script, b"\x04" + PUBS[0][1:], reason=Reason.PUBKEY_ENCODING, rule="CRY-001")


@pytest.mark.parametrize(
    "m, n_byte, count",
    [(3, 2, 2), (0, 2, 2), (2, 17, 2), (1, 17, 17), (1, 0, 2), (-1, 2, 2)],
)
def test_parse_bad_m_n(m, n_byte, count):
    code = manual_multisig(m, PUBS[:count], n=n_byte)
    err = expect_reject(scripts.parse_redeem_script, code, reason=Reason.MULTISIG_BAD_M_N, rule="CRY-020")
    assert isinstance(err, DecodeError)


def test_parse_n_equal_1_is_too_short():
    # upstream's builder makes 1-of-1 multisig scripts, but they are shorter than MinMultiSignCodeLength
    code = manual_multisig(1, PUBS[:1])
    assert len(code) < scripts.MIN_MULTISIG_SCRIPT_SIZE
    expect_reject(scripts.parse_redeem_script, code, reason=Reason.SCRIPT_MALFORMED, rule="CRY-021")


@pytest.mark.parametrize(
    "code",
    [
        b"",
        b"\xac",
        b"\x21" + b"\x02" * 33 + b"\xad",  # standard layout with the wrong opcode
        manual_multisig(1, PUBS[:2], n=3),  # n byte says 3, two keys present
        manual_multisig(2, PUBS[:3], n=2),
        manual_multisig(1, PUBS[:2], push_byte=0x22),
        manual_multisig(1, PUBS[:2], op=0xAC),
        manual_multisig(1, PUBS[:2]) + b"\xae",
        manual_multisig(1, PUBS[:2])[:-3] + manual_multisig(1, PUBS[:2])[-2:],
    ],
)
def test_parse_malformed(code):
    err = expect_reject(scripts.parse_redeem_script, code, reason=Reason.SCRIPT_MALFORMED, rule="CRY-021")
    assert isinstance(err, DecodeError)


def test_parse_checks_every_key():
    bad = b"\x03" + (1).to_bytes(32, "big")
    expect_reject(scripts.parse_redeem_script, b"\x21" + bad + b"\xac", reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-003")
    expect_reject(scripts.parse_redeem_script, manual_multisig(1, [PUBS[0], bad]),
                  reason=Reason.PUBKEY_NOT_ON_CURVE, rule="CRY-003")
    expect_reject(scripts.parse_redeem_script, b"\x21\x05" + PUBS[0][1:] + b"\xac",
                  reason=Reason.PUBKEY_ENCODING, rule="CRY-001")


ANY_CODE = st.one_of(
    st.binary(max_size=120),
    st.builds(lambda k, tail: b"\x21" + k + tail, st.binary(min_size=33, max_size=33), st.sampled_from([b"\xac", b"\xae"])),
    st.builds(
        lambda m, n, keys, op: manual_multisig(m, keys, n=n, op=op),
        st.integers(-0x50, 0xAF), st.integers(-0x50, 0xAF),
        st.lists(st.sampled_from(PUBS) | st.binary(min_size=33, max_size=33), min_size=0, max_size=5),
        st.sampled_from([0xAE, 0xAF, 0xAC]),
    ),
)


@settings(FAST, max_examples=300)
@given(ANY_CODE)
def test_parse_any_bytes_value_or_decode_error(code):
    try:
        s = scripts.parse_redeem_script(code)
    except DecodeError as e:
        assert e.rule is not None
        return
    if s.kind == "standard":
        assert code == scripts.standard_redeem_script(s.public_keys[0])
    else:
        assert 1 <= s.m <= s.n <= 16 and s.n >= 2
        op = 0xAF if s.kind == "crosschain" else 0xAE
        assert code == manual_multisig(s.m, list(s.public_keys), op=op)


@settings(FAST, max_examples=150)
@given(st.integers(0, 3 * 34 + 2), st.integers(1, 255))
def test_one_byte_mutation_of_a_multisig_script(pos, xor):
    code = bytearray(scripts.multisig_redeem_script(2, PUBS[:3]))
    code[pos] ^= xor
    try:
        s = scripts.parse_redeem_script(bytes(code))
    except DecodeError:
        return
    # the only mutations that still parse change m within range, or replace a key by another valid key
    assert s.kind in ("multisig", "crosschain") and 1 <= s.m <= s.n == 3


# == verify_program: standard ===========================================================================


def test_standard_program_accepts_its_signature():
    code = scripts.standard_redeem_script(PUBS[0])
    s = scripts.verify_program(code, push(sign(0)), MSG)
    assert s.kind == "standard"


def test_standard_program_push_byte_is_not_checked_quirk():
    code = scripts.standard_redeem_script(PUBS[0])
    scripts.verify_program(code, b"\x00" + sign(0), MSG)


@pytest.mark.parametrize("length", [0, 1, 64, 66, 130])
def test_standard_program_parameter_length(length):
    code = scripts.standard_redeem_script(PUBS[0])
    param = (push(sign(0)) * 3)[:length]
    expect_reject(scripts.verify_program, code, param, MSG, reason=Reason.PARAMETER_LENGTH, rule="CRY-022")


def test_standard_program_wrong_message_or_key():
    code = scripts.standard_redeem_script(PUBS[0])
    expect_reject(scripts.verify_program, code, push(sign(0)), MSG + b"!", reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    expect_reject(scripts.verify_program, code, push(sign(1)), MSG, reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    expect_reject(scripts.verify_program, code, push(bytes(64)), MSG, reason=Reason.SIGNATURE_OUT_OF_RANGE,
                  rule="CRY-005")


def test_standard_program_malleated_signature_accepted_quirk():
    code = scripts.standard_redeem_script(PUBS[0])
    scripts.verify_program(code, push(p256.malleate(sign(0))), MSG)


# == verify_program: multisig ===========================================================================


@pytest.fixture(scope="module")
def two_of_three():
    keys = sorted(range(3), key=lambda i: x_of(PUBS[i]))
    code = scripts.multisig_redeem_script(2, [PUBS[i] for i in keys])
    return code, keys


def test_2_of_3_with_two_valid_signatures(two_of_three):
    code, keys = two_of_three
    for a, b in [(0, 1), (1, 0), (0, 2), (2, 1)]:
        s = scripts.verify_program(code, push(sign(keys[a])) + push(sign(keys[b])), MSG)
        assert (s.kind, s.m, s.n) == ("multisig", 2, 3)


def test_2_of_3_with_three_valid_signatures(two_of_three):
    code, keys = two_of_three
    scripts.verify_program(code, b"".join(push(sign(i)) for i in keys), MSG)


def test_2_of_3_repeated_signature_is_duplicate(two_of_three):
    code, keys = two_of_three
    sig = push(sign(keys[0]))
    expect_reject(scripts.verify_program, code, sig + sig, MSG, reason=Reason.DUPLICATE_SIGNATURE, rule="CRY-026")


def test_2_of_3_malleated_copy_is_duplicate(two_of_three):
    # (r, s) and (r, N - s) are two distinct valid signatures of one key: they match the same key
    code, keys = two_of_three
    sig = sign(keys[0])
    expect_reject(scripts.verify_program, code, push(sig) + push(p256.malleate(sig)), MSG,
                  reason=Reason.DUPLICATE_SIGNATURE, rule="CRY-026")


def test_2_of_3_garbage_plus_two_valid_is_accepted_quirk(two_of_three):
    # Quirk [CRY-027]: a signature that matches no key is skipped while m others match
    code, keys = two_of_three
    garbage = push(b"\x01" * 64)
    for param in (garbage + push(sign(keys[0])) + push(sign(keys[1])),
                  push(sign(keys[2])) + garbage + push(sign(keys[0])),
                  push(sign(keys[1])) + push(sign(keys[2])) + push(bytes(64))):
        scripts.verify_program(code, param, MSG)


def test_2_of_3_one_valid_signature(two_of_three):
    code, keys = two_of_three
    expect_reject(scripts.verify_program, code, push(sign(keys[0])), MSG,
                  reason=Reason.NOT_ENOUGH_SIGNATURES, rule="CRY-024")
    expect_reject(scripts.verify_program, code, b"", MSG, reason=Reason.NOT_ENOUGH_SIGNATURES, rule="CRY-024")
    # two signatures of which only one matches a key of the script
    expect_reject(scripts.verify_program, code, push(sign(keys[0])) + push(sign(7)), MSG,
                  reason=Reason.NOT_ENOUGH_SIGNATURES, rule="CRY-027")
    expect_reject(scripts.verify_program, code, push(sign(keys[0])) + push(sign(keys[1], MSG + b"x")), MSG,
                  reason=Reason.NOT_ENOUGH_SIGNATURES, rule="CRY-027")


def test_2_of_3_four_signatures(two_of_three):
    code, keys = two_of_three
    param = b"".join(push(sign(i)) for i in keys) + push(sign(keys[0]))
    expect_reject(scripts.verify_program, code, param, MSG, reason=Reason.TOO_MANY_SIGNATURES, rule="CRY-025")


@pytest.mark.parametrize("length", [64, 66, 129, 131])
def test_multisig_parameter_length(two_of_three, length):
    code, keys = two_of_three
    param = (push(sign(keys[0])) + push(sign(keys[1])) + push(sign(keys[2])))[:length]
    expect_reject(scripts.verify_program, code, param, MSG, reason=Reason.PARAMETER_LENGTH, rule="CRY-023")


@FAST
@given(st.data())
def test_multisig_any_m_distinct_signers_in_any_order_accepted(data):
    n = data.draw(st.integers(2, 6))
    m = data.draw(st.integers(1, n))
    members = data.draw(st.permutations(range(20)))[:n]
    code = scripts.multisig_redeem_script(m, [PUBS[i] for i in members])
    signers = data.draw(st.permutations(members))[: data.draw(st.integers(0, n))]
    param = b"".join(push(sign(i)) for i in signers)
    try:
        scripts.verify_program(code, param, MSG)
    except Reject as e:
        assert len(signers) < m, f"{len(signers)} distinct signers of {m}-of-{n} must be accepted, got {e}"
        assert e.reason is Reason.NOT_ENOUGH_SIGNATURES
    else:
        assert len(signers) >= m


@settings(FAST, max_examples=200)
@given(st.binary(max_size=300), st.binary(max_size=40))
def test_verify_program_any_parameter_value_or_reject(parameter, message):
    for code in (scripts.standard_redeem_script(PUBS[0]), scripts.multisig_redeem_script(1, PUBS[:2])):
        with pytest.raises(Reject) as info:
            scripts.verify_program(code, parameter, message)
        assert info.value.rule is not None


@settings(FAST, max_examples=200)
@given(ANY_CODE, st.binary(max_size=200))
def test_verify_program_any_code_value_or_reject(code, parameter):
    try:
        scripts.verify_program(code, parameter, MSG)
    except Reject as e:
        assert e.rule is not None
    else:
        pytest.fail("random parameters satisfied a program")


# == upstream transaction ===============================================================================


@pytest.mark.interop
def test_interop_signed_transfer_asset(ela_transactions):
    tx = ela_transactions["restful_api_sendrawtransaction_transfer_asset"]
    raw = bytes.fromhex(tx["raw_hex"])
    unsigned = bytes.fromhex(tx["unsigned_hex"])
    assert len(raw) == tx["raw_size"] and len(unsigned) == tx["unsigned_size"]
    assert raw[: len(unsigned)] == unsigned
    txid = sha256d(unsigned)
    assert txid.hex() == tx["txid_stored"] and txid[::-1].hex() == tx["txid_display"]

    (program,) = tx["decoded"]["programs"]
    code = bytes.fromhex(program["code_hex"])
    parameter = bytes.fromhex(program["parameter_hex"])
    assert parameter[0] == 0x40 and len(parameter) == 65
    sig_info = tx["signature"]
    assert code.hex() == sig_info["redeem_script_hex"]
    assert parameter[1:].hex() == sig_info["signature_hex"]

    script = scripts.verify_program(code, parameter, unsigned)
    assert script.kind == "standard" and script.public_keys[0].hex() == sig_info["public_key_hex"]
    assert sig_info["expect_valid"] is True

    # the signature is over the unsigned bytes (single SHA-256 inside ECDSA), not over the txid
    expect_reject(scripts.verify_program, code, parameter, txid, reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    expect_reject(scripts.verify_program, code, parameter, txid[::-1], reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    # and every one-bit change of the unsigned bytes breaks it
    for i in (0, len(unsigned) // 2, len(unsigned) - 1):
        tampered = bytearray(unsigned)
        tampered[i] ^= 1
        expect_reject(scripts.verify_program, code, parameter, bytes(tampered),
                      reason=Reason.SIGNATURE_INVALID, rule="CRY-006")
    # the malleated signature verifies too (no low-S rule upstream)
    scripts.verify_program(code, push(p256.malleate(parameter[1:])), unsigned)

    # the redeem script's program hash and address are the change output's
    ph = scripts.program_hash(code)
    assert ph.data.hex() == sig_info["redeem_script_program_hash"]
    assert address_from_program_hash(ph) == sig_info["redeem_script_address"]
    outputs = {o["program_hash"]: o["address"] for o in tx["decoded"]["outputs"]}
    for ph_hex, address in outputs.items():
        assert address_from_program_hash(Uint168.from_bytes(bytes.fromhex(ph_hex))) == address


@pytest.mark.interop
def test_interop_unsigned_cross_chain_program(ela_transactions):
    tx = ela_transactions["arbiter_deposit_example_transfer_cross_chain_asset_v0"]
    (program,) = tx["decoded"]["programs"]
    code = bytes.fromhex(program["code_hex"])
    assert scripts.parse_redeem_script(code).kind == "standard"
    # an empty parameter is not a signature
    expect_reject(scripts.verify_program, code, bytes.fromhex(program["parameter_hex"]),
                  bytes.fromhex(tx["unsigned_hex"]), reason=Reason.PARAMETER_LENGTH, rule="CRY-022")
