"""DID keys: the DID of a public key, BIP39, BIP32 on P-256, checked on the SDK's own test data
(read in place from ../shared/interop/did-sdk)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from spec.crypto import p256
from spec.did import keys
from spec.errors import DecodeError, Reason, Reject

DID_SDK = Path(__file__).resolve().parents[1] / ".." / "shared" / "interop" / "did-sdk"
TEST_MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
TEST_DIDS = ["imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj", "iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y",
             "idwuEMccSpsTH4ZqrhuHqg6y8XMVQAsY5g", "igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS",
             "igHbSCez6H3gTuVPzwNZRrdj92GCJ6hD5d"]


def _sk_files():
    if not DID_SDK.is_dir():
        pytest.fail(f"interop data {DID_SDK} is missing")
    return sorted(DID_SDK.glob("v*/*.sk"))


def test_research_address_example():
    pk = bytes.fromhex("03d0ec8209543bdbf5a07d58ecab5a315c9b789259cfb4bada0c9c1ba2ae7b03be")
    assert keys.did_address(pk) == "igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS"


@pytest.mark.interop
@pytest.mark.parametrize("path", _sk_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sdk_private_keys_derive_their_documents(path):
    """Each .sk is a depth-5 xprv; its key is in its document, and a #primary key names the DID."""
    k = keys.parse_extended_key(path.read_text(encoding="utf-8").strip())
    assert k.depth == 5 and k.private_key is not None
    assert p256.public_key_from_private(k.private_key) == k.public_key
    doc_path = path.with_name(re.sub(r"\.(primary|key\d)\.sk$", ".json", path.name))
    doc_text = doc_path.read_text(encoding="utf-8")
    assert keys.public_key_to_base58(k.public_key) in doc_text
    if path.name.endswith(".primary.sk"):
        assert str(keys.did_from_public_key(k.public_key)) == json.loads(doc_text)["id"]
        # the primary keys are the SDK's test root identity's DIDs m/44'/0'/0'/0/i
        derived = keys.derive_did_key(TEST_MNEMONIC, "secret", k.child_number)
        assert derived.private_key == k.private_key
        assert keys.extended_key_to_base58(derived) == path.read_text(encoding="utf-8").strip()


@pytest.mark.interop
def test_every_primitive_document_is_the_address_of_a_key():
    docs = [p for p in DID_SDK.glob("v*/*.id.json")]
    assert docs
    for p in docs:
        doc = json.loads(p.read_text(encoding="utf-8"))
        method_id = doc["id"].removeprefix("did:elastos:")
        if not method_id.startswith("i"):
            continue  # customized DID
        keys.check_did_address(method_id)
        # keys are declared in publicKey, or embedded in authentication (v1 user3 has only that)
        pks = [k["publicKeyBase58"] for member in ("publicKey", "authentication", "authorization")
               for k in doc.get(member, []) if isinstance(k, dict)]
        assert any(keys.did_address(keys.public_key_from_base58(b)) == method_id for b in pks), p.name


def test_test_root_identity():
    for i, d in enumerate(TEST_DIDS):
        assert keys.did_address(keys.derive_did_key(TEST_MNEMONIC, "secret", i).public_key) == d
    pre = keys.pre_derived_key(TEST_MNEMONIC, "secret")
    assert keys.root_identity_id(pre) == "d2f3c0f07eda4e5130cbdc59962426b1"
    # the xpub lists the DIDs without the seed: m/44'/0'/0' + 0/i
    for i, d in enumerate(TEST_DIDS):
        assert keys.did_address(keys.derive_path(pre, f"m/0/{i}").public_key) == d


def test_sdk_hdkey_vectors():
    m = "pact reject sick voyage foster fence warm luggage cabbage any subject carbon"
    seed = keys.mnemonic_to_seed(m, "helloworld")
    assert seed.hex().startswith("25453b52f4d9") and seed.hex().endswith("ddb998")
    assert keys.extended_key_to_base58(keys.master_key(seed)) == (
        "xprv9s21ZrQH143K4biiQbUq8369meTb1R8KnstYFAKtfwk3vF8uvFd1EC2s49bMQsbdbmdJxUWRkuC48CXPutFfynYFVGnoeq8LJZhfd9QjvUt")
    assert keys.did_address(keys.derive_did_key(m, "helloworld", 0).public_key) == "iYbPqEA98rwvDyA5YT6a3mu8UZy87DLEMR"
    assert keys.did_address(keys.derive_did_key(
        "cloth always junk crash fun exist stumble shift over benefit fun toe", "", 0).public_key) == "iY4Ghz9tCuWvB5rNwvn4ngWvthZMNzEA7U"


def test_extended_key_round_trip():
    k = keys.derive_did_key(TEST_MNEMONIC, "secret", 3)
    for key in (k, keys.neuter(k)):
        assert keys.parse_extended_key(keys.extended_key_to_base58(key)) == key


def test_address_rules():
    with pytest.raises(DecodeError) as e:
        keys.check_did_address("foobar")
    assert e.value.reason is Reason.DID_ADDRESS_LENGTH
    with pytest.raises(DecodeError) as e:
        keys.check_did_address("EJMzC16Eorq9CuFCGtyMrq4Jmgw9jYCHQR")  # an ELA address (prefix 0x21)
    assert e.value.reason is Reason.DID_ADDRESS_PREFIX


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([16, 20, 24, 28, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_bip39_agrees_with_trezor(entropy):
    m = keys.entropy_to_mnemonic(entropy)
    assert m == Mnemonic("english").to_mnemonic(entropy)
    assert keys.mnemonic_to_entropy(m) == entropy
    assert keys.mnemonic_to_seed(m, "TREZOR") == Mnemonic.to_seed(m, "TREZOR")


@settings(max_examples=50)
@given(st.lists(st.sampled_from(keys.english_wordlist()), min_size=12, max_size=12))
def test_random_mnemonics_check_as_trezor_does(words):
    m = " ".join(words)
    try:
        keys.mnemonic_to_entropy(m)
        ok = True
    except DecodeError as e:
        assert e.reason is Reason.MNEMONIC_CHECKSUM
        ok = False
    assert ok == Mnemonic("english").check(m)


@given(st.text(max_size=60))
def test_arbitrary_mnemonic_text_only_rejects(text):
    try:
        keys.mnemonic_to_entropy(text)
    except DecodeError:
        pass


@given(st.text(alphabet=st.sampled_from("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0O"), max_size=120))
def test_arbitrary_base58_only_rejects(text):
    for fn in (keys.check_did_address, keys.parse_extended_key, keys.public_key_from_base58):
        try:
            fn(text)
        except Reject:
            pass


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_public_derivation_matches_private(index):
    pre_priv = keys.derive_path(keys.master_key(keys.mnemonic_to_seed(TEST_MNEMONIC, "secret")), "m/44'/0'/0'")
    assert keys.derive_child(keys.neuter(pre_priv), index).public_key == keys.derive_child(pre_priv, index).public_key


# -- the nine word lists and app-scoped DIDs -----------------------------------------------------------



@settings(max_examples=40, deadline=None)
@given(lang=st.sampled_from(keys.LANGUAGES), entropy=st.sampled_from((16, 20, 24, 28, 32)).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)))
def test_word_lists_agree_with_trezor_mnemonic(lang: str, entropy: bytes) -> None:
    lib = Mnemonic(lang)
    written = lib.to_mnemonic(entropy)
    assert keys.entropy_to_mnemonic(entropy, lang) == written
    assert keys.mnemonic_to_entropy(written) == entropy
    found = keys.mnemonic_language(written)
    # detection answers the first list (in the SDK's order) that holds every word and passes the checksum
    assert keys.LANGUAGES.index(found) <= keys.LANGUAGES.index(lang)
    assert keys.mnemonic_to_entropy(written, found) == entropy
    assert keys.mnemonic_to_seed(written, "pw") == Mnemonic.to_seed(written, "pw")


@settings(max_examples=15, deadline=None)
@given(ident=st.text(max_size=40), code=st.integers(-(1 << 31), (1 << 31) - 1))
def test_app_scoped_key_public_equals_private_derivation(ident: str, code: int) -> None:
    master = keys.master_key(keys.mnemonic_to_seed(MNEMONIC_APP, ""))
    account = keys.derive_path(master, keys.PRE_DERIVED_PATH)
    private = keys.derive_app_key(account, ident, code)
    public = keys.derive_app_key(keys.neuter(account), ident, code)
    assert private.private_key is not None and public.private_key is None
    assert private.public_key == public.public_key
    assert p256.public_key_from_private(private.private_key) == private.public_key
    path = keys.app_derive_path(ident, code)
    assert len(path) == 9 and all(0 <= i < keys.HARDENED for i in path)
    assert path[-1] == code & 0x7FFFFFFF
    digest = hashlib.sha256(ident.encode("utf-8")).digest()
    assert path[0] == int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


MNEMONIC_APP = "amateur file dignity extend cabin jaguar early electric ask video happy access"


def test_security_code_outside_java_int_is_refused() -> None:
    for code in (1 << 31, -(1 << 31) - 1):
        with pytest.raises(Reject) as e:
            keys.app_derive_path("x", code)
        assert e.value.rule == "KEY-006"
