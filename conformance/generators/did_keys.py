"""Generators of the ``did`` suite: DID syntax, DID URLs, keys, BIP39 and HD derivation.

Upstream cases:

* the DID and DID URL error messages of the Java SDK's ``DIDTest.java`` / ``DIDURLTest.java``
  (research note ``elastos-did.md`` §1.1, §10 of its facts);
* every ``.sk`` file of ``../shared/interop/did-sdk/{v1,v2}`` (a depth-5 xprv of the SDK's test
  root identity) with the DID of its document;
* the SDK's HD tests (``HDKeyTest.java``, ``RootIdentityTest.java``): mnemonic, passphrase, index
  -> DID, and the test root identity's xpub id;
* BIP39 English vectors with passphrase ``TREZOR`` from trezor/python-mnemonic ``vectors.json``
  @ f5a975ab10c035596d65d854d21164266ffed284 (entropy, mnemonic, seed, BIP32 master xprv).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

from mnemonic import Mnemonic

from spec.crypto import p256
from spec.did import keys
from spec.errors import Reason
from spec.encoding.base58 import b58check_encode, b58encode

from conformance.generators.common import det_bytes, det_int
from conformance.vectors import CaseSpec, generator, shared_dir

OK = "ok"
JAVA_SDK = {"repo": "elastos/Elastos.DID.Java.SDK", "commit": "7cf79021379e89683e19a31ae88ab3885e7a34a1"}
TREZOR = "trezor/python-mnemonic vectors.json @ f5a975ab10c035596d65d854d21164266ffed284 (passphrase TREZOR)"
PRIMARY_ID = "iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y"
DID_RULES = ("DID-001", "DID-002", "DID-003", "DID-004", "DID-005", "DID-006")
URL_RULES = ("DID-007", "DID-009", "DID-010", "DID-011")
TEST_MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
TEST_PASSPHRASE = "secret"
TEST_DIDS = ("imUUPBfrZ1yZx6nWXe6LNN59VeX2E6PPKj", "iXcRhYB38gMt1phi5JXJMjeXL2TL8cg58y",
             "idwuEMccSpsTH4ZqrhuHqg6y8XMVQAsY5g", "igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS",
             "igHbSCez6H3gTuVPzwNZRrdj92GCJ6hD5d")
MNEMONIC_RULES = ("KEY-003", "KEY-004", "KEY-005")

TREZOR_VECTORS = [
    ("00000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
     "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04",
     "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF"),
    ("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank yellow",
     "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607",
     "xprv9s21ZrQH143K2gA81bYFHqU68xz1cX2APaSq5tt6MFSLeXnCKV1RVUJt9FWNTbrrryem4ZckN8k4Ls1H6nwdvDTvnV7zEXs2HgPezuVccsq"),
    ("ffffffffffffffffffffffffffffffff",
     "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
     "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069",
     "xprv9s21ZrQH143K2V4oox4M8Zmhi2Fjx5XK4Lf7GKRvPSgydU3mjZuKGCTg7UPiBUD7ydVPvSLtg9hjp7MQTYsW67rZHAXeccqYqrsx8LcXnyd"),
    ("808080808080808080808080808080808080808080808080",
     "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter always",
     "107d7c02a5aa6f38c58083ff74f04c607c2d2c0ecc55501dadd72d025b751bc27fe913ffb796f841c49b1d33b610cf0e91d3aa239027f5e99fe4ce9e5088cd65",
     "xprv9s21ZrQH143K3VPCbxbUtpkh9pRG371UCLDz3BjceqP1jz7XZsQ5EnNkYAEkfeZp62cDNj13ZTEVG1TEro9sZ9grfRmcYWLBhCocViKEJae"),
    ("0000000000000000000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
     "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8",
     "xprv9s21ZrQH143K32qBagUJAMU2LsHg3ka7jqMcV98Y7gVeVyNStwYS3U7yVVoDZ4btbRNf4h6ibWpY22iRmXq35qgLs79f312g2kj5539ebPM"),
    ("9e885d952ad362caeb4efe34a8e91bd2",
     "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
     "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028",
     "xprv9s21ZrQH143K2oZ9stBYpoaZ2ktHj7jLz7iMqpgg1En8kKFTXJHsjxry1JbKH19YrDTicVwKPehFKTbmaxgVEc5TpHdS1aYhB2s9aFJBeJH"),
    ("f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
     "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group space point ten exist slush involve unfold",
     "01f5bced59dec48e362f2c45b5de68b9fd6c92c6634f44d6d40aab69056506f0e35524a518034ddc1192e1dacd32c1ed3eaa3c3b131c88ed8e7e54c49a5d0998",
     "xprv9s21ZrQH143K39rnQJknpH1WEPFJrzmAqqasiDcVrNuk926oizzJDDQkdiTvNPr2FYDYzWgiMiC63YmfPAa2oPyNB23r2g7d1yiK6WpqaQS"),
]


def sdk_provenance(version: str, name: str) -> dict[str, Any]:
    """Provenance of a case built from one file of ``../shared/interop/did-sdk``."""
    return {"interop_file": f"shared/interop/did-sdk/{version}/{name}", "item": name,
            "upstream": {**JAVA_SDK, "path": f"sdk/src/test/resources/{version}/testdata/{name}"}}


def sk_files() -> list[tuple[str, str]]:
    """``(version, file name)`` of every ``.sk`` file of the SDK test data, sorted."""
    root = shared_dir() / "interop" / "did-sdk"
    return sorted((p.parent.name, p.name) for p in root.glob("v*/*.sk"))


def read_sdk(version: str, name: str) -> str:
    return (shared_dir() / "interop" / "did-sdk" / version / name).read_text(encoding="utf-8")


# -- did.parse ------------------------------------------------------------------------------------

DID_ACCEPT = {
    "primitive": f"did:elastos:{PRIMARY_ID}",
    "sdk_valid_example": "did:elastos:ic-J4_z2D.ULrHEzYSvjKNJpKyhqFDxvYV7pN",
    "customized": "did:elastos:foobar",
    "trimmed": f"  \t did:elastos:{PRIMARY_ID} \n",
    "one_char_id": "did:elastos:x",
    "digits_first": "did:elastos:0abc",
}
DID_REJECT = [
    ("sdk_leading_dash", "did:elastos:-icJ4z2DULrHEzYSvjKNJpKyhqFDxvYV7pN", Reason.DID_INVALID_CHAR, "Invalid char at: 12"),
    ("sdk_unknown_method", "did:bar:x", Reason.DID_UNKNOWN_METHOD, "Unknown DID method: 'bar', at: 4"),
    ("sdk_missing_id", "did:elastos:", Reason.DID_MISSING_ID, "Missing id string at: 12"),
    ("sdk_colon_in_id", "did:elastos:abc:", Reason.DID_INVALID_CHAR, "Invalid char at: 15"),
    ("sdk_bad_schema", "foo:elastos:x", Reason.DID_BAD_SCHEMA, "Invalid DID schema: 'foo', at: 0"),
    ("no_colon_after_method", "did:elastos", Reason.DID_MISSING_ID, "Missing id string at: 11"),
    ("scheme_only", "did", Reason.DID_MISSING_METHOD, "Missing method and id string at: 3"),
    ("scheme_colon_only", "did:", Reason.DID_MISSING_METHOD, ""),
    ("empty", "", Reason.DID_EMPTY, ""),
    ("blank", " \t\n", Reason.DID_EMPTY, ""),
    ("method_upper_case", "did:Elastos:x", Reason.DID_UNKNOWN_METHOD, ""),
    ("schema_upper_case", "DID:elastos:x", Reason.DID_BAD_SCHEMA, ""),
    ("id_with_space", "did:elastos:ab c", Reason.DID_INVALID_CHAR, ""),
    ("id_with_fragment", "did:elastos:abc#primary", Reason.DID_INVALID_CHAR, ""),
    ("id_percent", "did:elastos:a%20b", Reason.DID_INVALID_CHAR, ""),
    ("id_non_ascii", "did:elastos:caf\u00e9", Reason.DID_INVALID_CHAR, ""),
    ("empty_method", "did::x", Reason.DID_UNKNOWN_METHOD, "Unknown DID method: '', at: 4"),
]


@generator("did", "did.parse")
def did_parse() -> Iterator[CaseSpec]:
    for name, text in DID_ACCEPT.items():
        yield CaseSpec(name, {"did": text}, OK, DID_RULES)
    for name, text, reason, msg in DID_REJECT:
        yield CaseSpec(name, {"did": text}, reason, (),
                       f"Java SDK DIDTest: \"{msg}\"" if msg else "")


# -- did.url.parse --------------------------------------------------------------------------------

URL_ACCEPT: list[tuple[str, str, str | None]] = [
    ("full", f"did:elastos:{PRIMARY_ID}/path/to/resource?qkey=qvalue&qkey2&qkey3=v3#testfragment", None),
    ("did_only", f"did:elastos:{PRIMARY_ID}", None),
    ("fragment_absolute", f"did:elastos:{PRIMARY_ID}#primary", None),
    ("relative_fragment", "#primary", f"did:elastos:{PRIMARY_ID}"),
    ("relative_fragment_no_base", "#primary", None),
    ("v1_bare_fragment", "primary", f"did:elastos:{PRIMARY_ID}"),
    ("v1_bare_fragment_no_base", "key-2.x_y", None),
    ("relative_path_query", "/path?a=1#f", "did:elastos:foo"),
    ("absolute_overrides_base", "did:elastos:bar#key", "did:elastos:foo"),
    ("same_did_as_base", "did:elastos:foo#key", "did:elastos:foo"),
    ("percent_escapes", "did:elastos:foo/p%20q%2F?n%41me=v%c3%a9#fr%23ag", None),
    ("query_repeated_name", "did:elastos:foo?a=1&b&a=2", None),
    ("query_value_with_equals", "did:elastos:foo?a=b=c", None),
    ("query_trailing_ampersand", "did:elastos:foo?a&", None),
    ("trailing_slash", "did:elastos:foo/a/", None),
    ("empty_query_and_fragment", "did:elastos:foo?#", None),
    ("only_hash", "#", "did:elastos:foo"),
    ("trimmed", "  did:elastos:foo#k \r\n", None),
]
URL_REJECT: list[tuple[str, str, Reason, str]] = [
    ("sdk_double_slash", "did:elastos:foobar/path/to//resource?qkey=qvalue#testfragment",
     Reason.DIDURL_INVALID_CHAR, "Invalid char at: 27"),
    ("empty", "", Reason.DIDURL_EMPTY, ""),
    ("blank", "   ", Reason.DIDURL_EMPTY, ""),
    ("bad_method", "did:bar:x#k", Reason.DIDURL_INVALID_DID, "Invalid did at: 0"),
    ("missing_id", "did:elastos:#k", Reason.DIDURL_INVALID_DID, ""),
    ("id_leading_dash", "did:elastos:-x#k", Reason.DIDURL_INVALID_CHAR, ""),
    ("double_ampersand", "did:elastos:foo?a=1&&b", Reason.DIDURL_INVALID_CHAR, ""),
    ("double_equals", "did:elastos:foo?a==b", Reason.DIDURL_INVALID_CHAR, ""),
    ("query_starts_with_equals", "did:elastos:foo?=b", Reason.DIDURL_INVALID_CHAR, ""),
    ("fragment_with_hash", "did:elastos:foo#a#b", Reason.DIDURL_INVALID_CHAR, ""),
    ("fragment_with_slash", "#a/b", Reason.DIDURL_INVALID_CHAR, ""),
    ("fragment_leading_dot", "#.a", Reason.DIDURL_INVALID_CHAR, ""),
    ("bare_fragment_with_equals", "a=b", Reason.DIDURL_INVALID_CHAR, ""),
    ("space_in_path", "did:elastos:foo/a b", Reason.DIDURL_INVALID_CHAR, ""),
    ("bad_hex_first", "did:elastos:foo#%G0ab", Reason.DIDURL_INVALID_HEX, ""),
    ("bad_hex_second", "did:elastos:foo#%0Gab", Reason.DIDURL_INVALID_HEX, ""),
    ("percent_at_end", "did:elastos:foo#ab%", Reason.DIDURL_INVALID_CHAR, ""),
    ("percent_one_digit_at_end", "did:elastos:foo#ab%2", Reason.DIDURL_INVALID_CHAR, ""),
]


@generator("did", "did.url.parse")
def did_url_parse() -> Iterator[CaseSpec]:
    for name, url, base in URL_ACCEPT:
        inp: dict[str, Any] = {"url": url}
        if base is not None:
            inp["base"] = base
        rules = URL_RULES + (("DID-008",) if url.strip().startswith("did:") else ())
        yield CaseSpec(name, inp, OK, rules)
    for name, url, reason, msg in URL_REJECT:
        yield CaseSpec(name, {"url": url}, reason, (), f"Java SDK: \"{msg}\"" if msg else "")
    yield CaseSpec("bad_base", {"url": "#k", "base": "did:foo:x"}, Reason.DID_UNKNOWN_METHOD, (),
                   "the base DID is itself parsed as a DID")


# -- did.chain.check ------------------------------------------------------------------------------


@generator("did", "did.chain.check")
def did_chain_check() -> Iterator[CaseSpec]:
    yield CaseSpec("primitive", {"did": f"did:elastos:{PRIMARY_ID}"}, OK, ("DID-012",))
    yield CaseSpec("customized_lower_cased", {"did": "did:elastos:ExampleCorp"}, OK, ("DID-012",),
                   "customized ids are stored lower-cased on chain", expect_ok={"key": "examplecorp"})
    for name, text in (("dash", "did:elastos:ic-J4z2D"), ("dot", "did:elastos:a.b"), ("underscore", "did:elastos:a_b")):
        yield CaseSpec(name, {"did": text}, Reason.DID_CHAIN_ID_CHARSET, (),
                       "accepted by the SDK, refused by the ID chain")


# -- keys -----------------------------------------------------------------------------------------


def _pubkey(label: str) -> bytes:
    return p256.public_key_from_private(det_int(f"did/p256/{label}", 1, p256.N - 1).to_bytes(32, "big"))


@generator("did", "did.from_pubkey")
def did_from_pubkey() -> Iterator[CaseSpec]:
    yield CaseSpec("research_example", {"pubkey": "03d0ec8209543bdbf5a07d58ecab5a315c9b789259cfb4bada0c9c1ba2ae7b03be"},
                   OK, ("CRY-001", "CRY-002", "CRY-003"), "research note elastos-did.md §1.2 (user3's #primary key)",
                   expect_ok={"did": "did:elastos:igXiyCJEUjGJV1DMsMa4EbWunQqVg97GcS"})
    for version, name in sk_files():
        if not name.endswith(".primary.sk"):
            continue
        k = keys.parse_extended_key(read_sdk(version, name).strip())
        doc = name.removesuffix(".primary.sk") + ".json"
        did = json.loads(read_sdk(version, doc))["id"]
        yield CaseSpec(f"sdk_{version}_{name.replace('.', '_')}", {"pubkey": k.public_key.hex()}, OK, (),
                       f"the public key of {version}/{name} is the #primary key of {doc}",
                       sdk_provenance(version, name), expect_ok={"did": did})
    for i in range(4):
        yield CaseSpec(f"generated_{i}", {"pubkey": _pubkey(str(i)).hex()}, OK, ("CRY-001",))
    yield CaseSpec("uncompressed", {"pubkey": "04" + "00" * 64}, Reason.PUBKEY_ENCODING)
    yield CaseSpec("short", {"pubkey": _pubkey("0")[:32].hex()}, Reason.PUBKEY_ENCODING)
    yield CaseSpec("x_not_on_curve", {"pubkey": "02" + "00" * 31 + "02"}, Reason.PUBKEY_NOT_ON_CURVE)


@generator("did", "did.address.check")
def did_address_check() -> Iterator[CaseSpec]:
    for i, d in enumerate(TEST_DIDS):
        yield CaseSpec(f"sdk_test_did_{i}", {"id": d}, OK, ("KEY-001", "KEY-002", "B58-003"))
    body = bytes([keys.IDENTITY_PREFIX]) + det_bytes("did/addr", 20)
    yield CaseSpec("customized_name", {"id": "foobar"}, Reason.DID_ADDRESS_LENGTH)
    yield CaseSpec("too_long", {"id": b58check_encode(body + b"\x00")}, Reason.DID_ADDRESS_LENGTH)
    yield CaseSpec("ela_address_prefix", {"id": b58check_encode(b"\x21" + body[1:])}, Reason.DID_ADDRESS_PREFIX,
                   (), "an ELA standard address (prefix 0x21) is not a DID")
    yield CaseSpec("bad_checksum", {"id": b58encode(body + bytes(4))}, Reason.BAD_CHECKSUM)
    yield CaseSpec("not_base58", {"id": TEST_DIDS[0][:-1] + "0"}, Reason.INVALID_BASE58_CHARACTER)


@generator("did", "did.key.from_base58")
def key_from_base58() -> Iterator[CaseSpec]:
    yield CaseSpec("sdk_user1_primary", {"base58": "vMYSz32qbWsNeDJpKsuuMaFsiApuZMz9XVy9DmEwysWg"}, OK,
                   ("B58-001", "CRY-001"), "v2/user1.id.json #primary publicKeyBase58")
    for i in range(3):
        yield CaseSpec(f"generated_{i}", {"base58": b58encode(_pubkey(str(i)))}, OK, ("CRY-001",))
    yield CaseSpec("not_base58", {"base58": "0OIl"}, Reason.INVALID_BASE58_CHARACTER)
    yield CaseSpec("too_short", {"base58": b58encode(_pubkey("0")[:20])}, Reason.PUBKEY_ENCODING)


# -- BIP39 ----------------------------------------------------------------------------------------


def _mnemonic_variants() -> Iterator[tuple[str, str, Reason]]:
    words = TREZOR_VECTORS[1][1].split()
    yield "eleven_words", " ".join(words[:11]), Reason.MNEMONIC_WORD_COUNT
    yield "thirteen_words", " ".join(words + ["abandon"]), Reason.MNEMONIC_WORD_COUNT
    yield "empty", "", Reason.MNEMONIC_WORD_COUNT
    yield "unknown_word", " ".join(words[:11] + ["elastos"]), Reason.MNEMONIC_UNKNOWN_WORD
    yield "upper_case_word", " ".join(["Legal"] + words[1:]), Reason.MNEMONIC_UNKNOWN_WORD
    yield "bad_checksum_12", " ".join(words[:11] + ["year"]), Reason.MNEMONIC_CHECKSUM
    yield "bad_checksum_24", "abandon " * 23 + "abandon", Reason.MNEMONIC_CHECKSUM
    yield "swapped_words", " ".join([words[1], words[0]] + words[2:]), Reason.MNEMONIC_CHECKSUM


@generator("did", "did.mnemonic.check")
def mnemonic_check() -> Iterator[CaseSpec]:
    for i, (entropy, mnemonic, _, _) in enumerate(TREZOR_VECTORS):
        yield CaseSpec(f"trezor_{i}", {"mnemonic": mnemonic}, OK, MNEMONIC_RULES, TREZOR, expect_ok={"entropy": entropy})
    for name, m in (("sdk_test_root", TEST_MNEMONIC),
                    ("sdk_hdkey_test", "pact reject sick voyage foster fence warm luggage cabbage any subject carbon")):
        yield CaseSpec(name, {"mnemonic": m}, OK, MNEMONIC_RULES)
    yield CaseSpec("extra_whitespace", {"mnemonic": "  " + TREZOR_VECTORS[0][1].replace(" ", "  \t") + "\n"},
                   Reason.MNEMONIC_WORD_COUNT, ("KEY-003",),
                   "Quirk: the SDK splits the NFKD text on single ASCII spaces (split(\" \")): other spacing leaves "
                   "empty words")
    yield CaseSpec("ideographic_space_english", {"mnemonic": TREZOR_VECTORS[0][1].replace(" ", "\u3000")}, OK,
                   MNEMONIC_RULES, "NFKD turns U+3000 into an ASCII space, in any language",
                   expect_ok={"entropy": TREZOR_VECTORS[0][0], "language": "english"})
    for lang in keys.LANGUAGES[1:]:
        e = det_bytes(f"did/entropy/{lang}", 16)
        m = Mnemonic(lang).to_mnemonic(e)  # the library, not the spec, writes the words
        expect = {"entropy": e.hex()}
        if lang != "chinese_traditional":
            expect["language"] = lang
        yield CaseSpec(f"language_{lang}", {"mnemonic": m}, OK, MNEMONIC_RULES,
                       "12 words written by trezor's mnemonic package", expect_ok=expect)
    shared = Mnemonic("chinese_traditional").to_mnemonic(bytes(16))
    yield CaseSpec("chinese_words_in_both_lists", {"mnemonic": shared}, OK, MNEMONIC_RULES,
                   "every word is in the simplified and the traditional list: getLanguage answers the first tried",
                   expect_ok={"language": "chinese_simplified"})
    yield CaseSpec("spanish_composed_accents", {"mnemonic": unicodedata.normalize("NFC", Mnemonic("spanish").to_mnemonic(
        bytes(range(16))))}, OK, MNEMONIC_RULES, "NFC text: NFKD matches the list", expect_ok={"language": "spanish"})
    bad_fr = Mnemonic("french").to_mnemonic(bytes(16)).split(" ")
    bad_fr[-1] = bad_fr[0]
    yield CaseSpec("french_bad_checksum", {"mnemonic": " ".join(bad_fr)}, Reason.MNEMONIC_CHECKSUM, ("KEY-005",))
    mixed = Mnemonic("french").to_mnemonic(bytes(16)).split(" ")[:6] + Mnemonic("korean").to_mnemonic(bytes(16)).split(" ")[6:]
    yield CaseSpec("two_languages_mixed", {"mnemonic": " ".join(mixed)}, Reason.MNEMONIC_UNKNOWN_WORD, ("KEY-004",),
                   "the words of one mnemonic come from one list")
    for n in (15, 18, 21):
        e = det_bytes(f"did/entropy/{n}", n * 11 // 33 * 4)
        yield CaseSpec(f"generated_{n}_words", {"mnemonic": keys.entropy_to_mnemonic(e)}, OK, MNEMONIC_RULES,
                       expect_ok={"entropy": e.hex()})
    for name, m, reason in _mnemonic_variants():
        yield CaseSpec(name, {"mnemonic": m}, reason)


@generator("did", "did.mnemonic.seed")
def mnemonic_seed() -> Iterator[CaseSpec]:
    for i, (_, mnemonic, seed, xprv) in enumerate(TREZOR_VECTORS):
        yield CaseSpec(f"trezor_{i}", {"mnemonic": mnemonic, "passphrase": "TREZOR"}, OK, MNEMONIC_RULES, TREZOR,
                       expect_ok={"seed": seed, "master_xprv": xprv})
    yield CaseSpec("sdk_hdkey_test", {"mnemonic": "pact reject sick voyage foster fence warm luggage cabbage any subject carbon",
                                      "passphrase": "helloworld"}, OK, MNEMONIC_RULES,
                   "Java SDK HDKeyTest.java (the seed in the test's comment is stale; the xprv is the oracle)",
                   expect_ok={"master_xprv": "xprv9s21ZrQH143K4biiQbUq8369meTb1R8KnstYFAKtfwk3vF8uvFd1EC2s49bMQsbdbmdJxUWRkuC48CXPutFfynYFVGnoeq8LJZhfd9QjvUt"})
    yield CaseSpec("nfkd_passphrase", {"mnemonic": TREZOR_VECTORS[0][1], "passphrase": "caf\u00e9"}, OK, MNEMONIC_RULES,
                   "the passphrase is NFKD-normalized: U+00E9 gives the same seed as e + U+0301")
    yield CaseSpec("bad_checksum", {"mnemonic": " ".join(TREZOR_VECTORS[1][1].split()[:11] + ["year"]), "passphrase": ""},
                   Reason.MNEMONIC_CHECKSUM)


# -- HD derivation --------------------------------------------------------------------------------


@generator("did", "did.hd.derive")
def hd_derive() -> Iterator[CaseSpec]:
    for i, d in enumerate(TEST_DIDS):
        yield CaseSpec(f"sdk_test_root_index_{i}", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE, "index": i},
                       OK, MNEMONIC_RULES + ("KEY-006",), "the SDK's test root identity (issuer, user1..user4)",
                       expect_ok={"did": f"did:elastos:{d}"})
    sdk = [("cloth always junk crash fun exist stumble shift over benefit fun toe", "", "iY4Ghz9tCuWvB5rNwvn4ngWvthZMNzEA7U"),
           ("service illegal blossom voice three eagle grace agent service average knock round", "", "iW3HU8fTmwkENeVT9UCEvvg3ddUD5oCxYA"),
           ("pact reject sick voyage foster fence warm luggage cabbage any subject carbon", "helloworld", "iYbPqEA98rwvDyA5YT6a3mu8UZy87DLEMR")]
    for j, (m, p, d) in enumerate(sdk):
        yield CaseSpec(f"sdk_hdkey_test_{j}", {"mnemonic": m, "passphrase": p, "index": 0}, OK, MNEMONIC_RULES,
                       "Java SDK HDKeyTest.java / RootIdentityTest.java", expect_ok={"did": f"did:elastos:{d}"})
    yield CaseSpec("max_index", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE, "index": 2**31 - 1}, OK, ("KEY-006",))
    yield CaseSpec("trezor_mnemonic", {"mnemonic": TREZOR_VECTORS[0][1], "passphrase": "TREZOR", "index": 7}, OK, ())
    yield CaseSpec("hardened_index", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE, "index": 2**31},
                   Reason.HD_INDEX_OUT_OF_RANGE)
    yield CaseSpec("negative_index", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE, "index": -1},
                   Reason.HD_INDEX_OUT_OF_RANGE)
    yield CaseSpec("bad_mnemonic", {"mnemonic": "abandon " * 11 + "abandon", "passphrase": "", "index": 0},
                   Reason.MNEMONIC_CHECKSUM)
    for lang in ("japanese", "korean", "czech"):
        m = Mnemonic(lang).to_mnemonic(det_bytes(f"did/hd/{lang}", 16))
        yield CaseSpec(f"mnemonic_{lang}", {"mnemonic": m, "passphrase": "\u5bc6\u7801", "index": 3}, OK, MNEMONIC_RULES,
                       "a non-English mnemonic and a non-ASCII passphrase")


APP_IDS = ("org.elastos.trinity.dapp.wallet", "com.example.notes", "tech.tuum.academy", "\u4f60\u597d.app", "")


@generator("did", "did.hd.derive_app")
def hd_derive_app() -> Iterator[CaseSpec]:
    pre = keys.extended_key_to_base58(keys.pre_derived_key(TEST_MNEMONIC, TEST_PASSPHRASE))
    for i, ident in enumerate(APP_IDS):
        code = det_int(f"did/app/{i}", -(1 << 31), (1 << 31) - 1)
        yield CaseSpec(f"app_{i}", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE, "identifier": ident,
                                    "security_code": code}, OK, ("KEY-006",),
                       "RootIdentity.newDid(identifier, securityCode): nine non-hardened steps below m/44'/0'/0'")
        yield CaseSpec(f"app_{i}_from_xpub", {"xpub": pre, "identifier": ident, "security_code": code}, OK,
                       ("KEY-006",), "RootIdentity.getDid(identifier, securityCode) from the pre-derived xpub alone")
    for code in (0, -1, (1 << 31) - 1, -(1 << 31)):
        yield CaseSpec(f"security_code_{code}".replace("-", "minus_"),
                       {"xpub": pre, "identifier": "com.example.notes", "security_code": code}, OK, ("KEY-006",),
                       "securityCode & 0x7FFFFFFF: a negative Java int wraps")
    for code in (1 << 31, -(1 << 31) - 1):
        yield CaseSpec(f"security_code_out_of_int32_{'high' if code > 0 else 'low'}",
                       {"xpub": pre, "identifier": "com.example.notes", "security_code": code},
                       Reason.HD_INDEX_OUT_OF_RANGE, ("KEY-006",), "a security code is a Java int")
    yield CaseSpec("bad_mnemonic", {"mnemonic": "abandon " * 11 + "abandon", "passphrase": "", "identifier": "x",
                                    "security_code": 1}, Reason.MNEMONIC_CHECKSUM, ("KEY-005",))


@generator("did", "did.hd.xpub")
def hd_xpub() -> Iterator[CaseSpec]:
    yield CaseSpec("sdk_test_root", {"mnemonic": TEST_MNEMONIC, "passphrase": TEST_PASSPHRASE}, OK, MNEMONIC_RULES,
                   "the SDK's test root identity: its store folder is named by this id (teststore/data/roots/<id>)",
                   expect_ok={"root_id": "d2f3c0f07eda4e5130cbdc59962426b1"})
    yield CaseSpec("trezor_0", {"mnemonic": TREZOR_VECTORS[0][1], "passphrase": "TREZOR"}, OK, MNEMONIC_RULES)
    yield CaseSpec("unknown_word", {"mnemonic": "abandon " * 11 + "elastos", "passphrase": ""}, Reason.MNEMONIC_UNKNOWN_WORD)


@generator("did", "did.hd.extkey.parse")
def extkey_parse() -> Iterator[CaseSpec]:
    for version, name in sk_files():
        text = read_sdk(version, name).strip()
        k = keys.parse_extended_key(text)
        expect: dict[str, Any] = {"depth": 5}
        if name.endswith(".primary.sk"):
                expect["did"] = json.loads(read_sdk(version, name.removesuffix(".primary.sk") + ".json"))["id"]
        yield CaseSpec(f"sdk_{version}_{name.replace('.', '_')}", {"key": text}, OK, ("KEY-007", "KEY-008"),
                       f"{version}/{name}: a depth-5 xprv of the SDK's test keys (child {k.child_number})",
                       sdk_provenance(version, name), expect_ok=expect)
    pre = keys.pre_derived_key(TEST_MNEMONIC, TEST_PASSPHRASE)
    xpub = keys.extended_key_to_base58(pre)
    yield CaseSpec("sdk_test_root_xpub", {"key": xpub}, OK, ("KEY-007", "KEY-008"),
                   "the pre-derived xpub (m/44'/0'/0') of the SDK's test root identity")
    raw = keys.serialize_extended_key(pre)[:78]
    yield CaseSpec("short", {"key": b58check_encode(raw[:77])}, Reason.EXTENDED_KEY_LENGTH)
    yield CaseSpec("testnet_version", {"key": b58check_encode(bytes.fromhex("043587cf") + raw[4:])},
                   Reason.EXTENDED_KEY_VERSION, (), "tpub versions are not used by the SDK")
    yield CaseSpec("xprv_version_with_public_key", {"key": b58check_encode(bytes.fromhex("0488ade4") + raw[4:])},
                   Reason.EXTENDED_KEY_VERSION)
    yield CaseSpec("xpub_bad_point", {"key": b58check_encode(raw[:45] + b"\x05" + raw[46:])}, Reason.PUBKEY_ENCODING)
    yield CaseSpec("bad_checksum", {"key": xpub[:-1] + ("1" if xpub[-1] != "1" else "2")}, Reason.BAD_CHECKSUM)

