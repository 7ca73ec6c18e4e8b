"""Base58, Base58Check and addresses: properties, cross-checks with the ``base58`` package, edge
cases, and the upstream address facts."""

from __future__ import annotations

import base58 as b58lib
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spec.crypto.hashes import sha256d
from spec.crypto.scripts import program_hash, standard_redeem_script
from spec.encoding.address import (
    ADDRESS_LENGTH,
    PREFIX_BY_BYTE,
    PREFIXES,
    address_from_program_hash,
    program_hash_from_address,
)
from spec.encoding.base58 import ALPHABET, b58check_decode, b58check_encode, b58decode, b58encode
from spec.encoding.hashes import Uint168, Uint256
from spec.errors import DecodeError, Reason, Reject
from functools import partial

from helpers import expect_reject as _expect_reject

FAST = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

BYTES = st.one_of(
    st.binary(max_size=80),
    st.binary(max_size=8).map(lambda b: b"\x00" * 3 + b),  # leading zero bytes
    st.binary(min_size=200, max_size=600),
)
B58_TEXT = st.text(alphabet=ALPHABET, max_size=120)
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    B58_TEXT,
    st.text(alphabet=ALPHABET + "0OIl+/= \n\u00e9", max_size=60),
    st.text(alphabet=ALPHABET, min_size=1000, max_size=3000),
)
KNOWN_PREFIXES = sorted(PREFIX_BY_BYTE)


expect_reject = partial(_expect_reject, decode=True)


# == base58 =============================================================================================


def test_alphabet_is_bitcoins():
    assert ALPHABET == b58lib.BITCOIN_ALPHABET.decode()
    assert len(ALPHABET) == 58 and not set("0OIl") & set(ALPHABET)


@FAST
@given(BYTES)
@example(b"")
@example(b"\x00")
@example(b"\x00\x00\x01")
def test_b58_encode_matches_library_and_round_trips(data):
    text = b58encode(data)
    assert text == b58lib.b58encode(data).decode("ascii")
    assert b58decode(text) == data


@FAST
@given(B58_TEXT)
@example("")
@example("1")
@example("111z")
def test_b58_decode_matches_library_and_is_canonical(text):
    data = b58decode(text)
    assert data == b58lib.b58decode(text)
    assert b58encode(data) == text, "base58 is a bijection: every alphabet string re-encodes to itself"


@FAST
@given(ANY_TEXT)
def test_b58_decode_any_text(text):
    try:
        data = b58decode(text)
    except DecodeError as e:
        assert e.reason is Reason.INVALID_BASE58_CHARACTER and e.rule == "B58-001"
        assert any(c not in ALPHABET for c in text)
    else:
        assert all(c in ALPHABET for c in text)
        assert b58encode(data) == text


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", " ", "1 ", "\u00e9", "Z0"])
def test_b58_invalid_characters(bad):
    expect_reject(b58decode, bad, reason=Reason.INVALID_BASE58_CHARACTER, rule="B58-001")


def test_b58_known_vectors():
    # Bitcoin Core src/test/data/base58_encode_decode.json (a selection)
    vectors = [
        ("", ""), ("61", "2g"), ("626262", "a3gV"), ("636363", "aPEr"),
        ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        ("516b6fcd0f", "ABnLTmg"), ("bf4f89001e670274dd", "3SEo3LWLoPntC"), ("572e4794", "3EFU7m"),
        ("ecac89cad93923c02321", "EJDM8drfXA6uyA"), ("10c8511e", "Rt5zm"), ("00000000000000000000", "1111111111"),
    ]
    for hexdata, text in vectors:
        assert b58encode(bytes.fromhex(hexdata)) == text
        assert b58decode(text) == bytes.fromhex(hexdata)


# == base58check ========================================================================================


@FAST
@given(BYTES)
def test_b58check_matches_library_and_round_trips(payload):
    text = b58check_encode(payload)
    assert text == b58lib.b58encode_check(payload).decode("ascii")
    assert b58check_decode(text) == payload
    assert b58lib.b58decode_check(text) == payload


@FAST
@given(ANY_TEXT)
def test_b58check_decode_any_text(text):
    try:
        payload = b58check_decode(text)
    except DecodeError as e:
        assert e.reason in (Reason.INVALID_BASE58_CHARACTER, Reason.TRUNCATED, Reason.BAD_CHECKSUM)
        assert e.rule in ("B58-001", "B58-002", "B58-003")
    else:
        assert b58check_encode(payload) == text
        assert b58lib.b58decode_check(text) == payload


def test_b58check_short_and_bad_checksum():
    for short in ("", "1", "111", "2g", b58encode(b"\x01\x02\x03")):
        expect_reject(b58check_decode, short, reason=Reason.TRUNCATED, rule="B58-002")
    good = b58check_encode(b"hello")
    raw = b58decode(good)
    bad = b58encode(raw[:-1] + bytes([raw[-1] ^ 1]))
    expect_reject(b58check_decode, bad, reason=Reason.BAD_CHECKSUM, rule="B58-003")
    # the empty payload has a checksum too
    assert b58check_decode(b58check_encode(b"")) == b""


# == addresses ==========================================================================================


@st.composite
def program_hashes(draw, prefixes=KNOWN_PREFIXES):
    prefix = draw(st.sampled_from(prefixes))
    return Uint168.from_bytes(bytes([prefix]) + draw(st.binary(min_size=20, max_size=20)))


@FAST
@given(program_hashes())
def test_address_round_trip(ph):
    address = address_from_program_hash(ph)
    assert len(address) == ADDRESS_LENGTH
    assert address[0] == PREFIX_BY_BYTE[ph.prefix].letter, "each prefix gives its documented first letter"
    assert address == b58lib.b58encode_check(ph.data).decode()
    assert program_hash_from_address(address) == ph


@FAST
@given(ANY_TEXT | st.text(alphabet=ALPHABET, min_size=34, max_size=34))
def test_address_decode_any_text(text):
    try:
        ph = program_hash_from_address(text)
    except DecodeError as e:
        assert e.rule is not None and e.rule.split("-")[0] in ("ADDR", "B58")
    else:
        assert address_from_program_hash(ph) == text, "an accepted address must be canonical"


@FAST
@given(program_hashes(), st.integers(1, 33), st.sampled_from(ALPHABET))
def test_address_any_one_character_change_is_rejected(ph, pos, c):
    address = address_from_program_hash(ph)
    if address[pos] == c:
        return
    changed = address[:pos] + c + address[pos + 1:]
    with pytest.raises(DecodeError) as info:
        program_hash_from_address(changed)
    assert info.value.reason in (Reason.BAD_CHECKSUM, Reason.ADDRESS_NOT_CANONICAL), info.value


def test_address_length_33_and_35():
    addr = address_from_program_hash(Uint168.from_bytes(b"\x21" + bytes(range(20))))
    expect_reject(program_hash_from_address, addr[:-1], reason=Reason.ADDRESS_LENGTH, rule="ADDR-001")
    expect_reject(program_hash_from_address, addr + "1", reason=Reason.ADDRESS_LENGTH, rule="ADDR-001")
    expect_reject(program_hash_from_address, "", reason=Reason.ADDRESS_LENGTH, rule="ADDR-001")


def test_address_leading_one_is_not_canonical():
    # a leading '1' is a zero byte in Bitcoin base58, which ELA's big-integer decoding does not have
    addr = address_from_program_hash(Uint168.from_bytes(b"\x21" + bytes(range(20))))
    expect_reject(program_hash_from_address, "1" + addr[1:], reason=Reason.ADDRESS_NOT_CANONICAL, rule="ADDR-002")
    # a correctly checksummed 25-byte payload whose first byte is zero: 34 characters with a leading '1'
    ph = b"\x00" + b"\xff" * 20
    text = b58encode(ph + sha256d(ph)[:4])
    assert len(text) == 34 and text[0] == "1"
    expect_reject(program_hash_from_address, text, reason=Reason.ADDRESS_NOT_CANONICAL, rule="ADDR-002")


def test_address_of_wrong_payload_size():
    # every 34-character string without a leading '1' decodes to exactly 25 bytes (58^33 > 256^24 and
    # 58^34 < 256^25); with a leading '1' it may decode to 26
    assert len(b58decode("2" + "1" * 33)) == len(b58decode("z" * 34)) == 25
    text = "1" + "z" * 33
    assert len(b58decode(text)) == 26
    expect_reject(program_hash_from_address, text, reason=Reason.ADDRESS_NOT_CANONICAL, rule="ADDR-002")


def test_address_one_character_changed_is_bad_checksum():
    addr = address_from_program_hash(Uint168.from_bytes(b"\x21" + bytes(range(20))))
    pos = 17
    replacement = "2" if addr[pos] != "2" else "3"
    changed = addr[:pos] + replacement + addr[pos + 1:]
    expect_reject(program_hash_from_address, changed, reason=Reason.BAD_CHECKSUM, rule="ADDR-003")


def test_address_invalid_character():
    addr = address_from_program_hash(Uint168.from_bytes(b"\x21" + bytes(20)))
    expect_reject(program_hash_from_address, addr[:10] + "0" + addr[11:],
                  reason=Reason.INVALID_BASE58_CHARACTER, rule="B58-001")


@pytest.mark.parametrize("prefix", [0x22, 0x13, 0x20, 0x50, 0x68])
def test_address_unknown_prefix(prefix):
    assert prefix not in PREFIX_BY_BYTE
    ph = bytes([prefix]) + bytes(range(20))
    text = b58encode(ph + sha256d(ph)[:4])
    assert len(text) == 34
    expect_reject(program_hash_from_address, text, reason=Reason.ADDRESS_UNKNOWN_PREFIX, rule="ADDR-004")
    expect_reject(address_from_program_hash, Uint168.from_bytes(ph), reason=Reason.ADDRESS_UNKNOWN_PREFIX,
                  rule="ADDR-004", decode=False)


def test_prefix_table():
    assert [p.byte for p in PREFIXES] == [0x21, 0x12, 0x4B, 0x1F, 0x67, 0x3F, 0x1C]
    for p in PREFIXES:
        ph = Uint168.from_bytes(bytes([p.byte]) + b"\x00" * 20)
        assert address_from_program_hash(ph)[0] == p.letter
        ph = Uint168.from_bytes(bytes([p.byte]) + b"\xff" * 20)
        assert address_from_program_hash(ph)[0] == p.letter


# == upstream facts =====================================================================================


@pytest.mark.interop
def test_interop_address_program_hash_pairs(ela_facts):
    pairs = ela_facts["address_program_hash_pairs"]["value"]
    assert len(pairs) >= 10
    for pair in pairs:
        ph = Uint168.from_bytes(bytes.fromhex(pair["program_hash_hex"]))
        assert ph.prefix == int(pair["prefix"], 16)
        assert address_from_program_hash(ph) == pair["address"], pair
        assert program_hash_from_address(pair["address"]) == ph, pair


@pytest.mark.interop
def test_interop_prefix_constants(ela_facts):
    upstream = {name: int(v, 16) for name, v in ela_facts["program_hash_prefixes"]["value"].items()}
    ours = {p.upstream: p.byte for p in PREFIXES if p.upstream}
    assert ours == upstream


@pytest.mark.interop
def test_interop_ela_asset_id(ela_facts):
    genesis = ela_facts["genesis_register_asset_unsigned"]["value"]
    unsigned = bytes.fromhex(genesis["hex"])
    assert len(unsigned) == genesis["length"]
    asset = ela_facts["ela_asset_id"]["value"]
    asset_id = Uint256.from_bytes(sha256d(unsigned))
    assert asset_id.data.hex() == asset["stored_hex"] == genesis["sha256d_stored_hex"]
    assert asset_id.display() == asset["display_hex"]
    assert asset["display_hex"] == bytes.fromhex(asset["stored_hex"])[::-1].hex()
    assert Uint256.from_display(asset["display_hex"]) == asset_id


@pytest.mark.interop
def test_interop_pubkey_to_address():
    # Elastos documentation's example key and its standard address
    pubkey = bytes.fromhex("022c9652d3ad5cc065aa9147dc2ad022f80001e8ed233de20f352950d351d472b7")
    code = standard_redeem_script(pubkey)
    assert code == b"\x21" + pubkey + b"\xac"
    ph = program_hash(code)
    assert ph.prefix == 0x21
    assert address_from_program_hash(ph) == "ENTogr92671PKrMmtWo3RLiYXfBTXUe13Z"
    assert program_hash_from_address("ENTogr92671PKrMmtWo3RLiYXfBTXUe13Z") == ph
