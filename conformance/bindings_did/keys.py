"""Handlers of the ``did`` suite for DID syntax, DID URLs, keys, BIP39 mnemonics and HD derivation.

A DID URL's parts are ``null`` where absent; ``query`` is a list of ``[name, value]`` pairs in
first-seen order, ``value`` ``null`` for a name without ``=value``. Mnemonics and passphrases are
JSON strings (any Unicode; NFKD is applied by the spec). A DID key index is a JSON number.
"""

from __future__ import annotations

from typing import Any

from spec.did import keys, syntax
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]


def _url_json(url: syntax.DIDURL, base: syntax.DID | None) -> Json:
    return {
        "did": None if url.did is None else str(url.did),
        "path": url.path,
        "query": [[k, v] for k, v in url.query],
        "fragment": url.fragment,
        "string": str(url),
        "relative": url.to_string(base),
    }


@handler("did", "did.parse", "`did` -> `method`, `id`, `string`: parse a DID as the SDK's DID.Parser does")
def _did_parse(data: Any) -> Json:
    did = syntax.parse_did(Input(data, ("did",)).text("did"))
    return {"method": did.method, "id": did.id, "string": str(did)}


@handler(
    "did", "did.url.parse",
    "`url`, `base`? (a DID) -> `did`, `path`, `query`, `fragment`, `string`, `relative` (string without `base`)",
)
def _did_url_parse(data: Any) -> Json:
    inp = Input(data, ("url",), ("base",))
    base = syntax.parse_did(inp.text("base")) if inp.has("base") else None
    return _url_json(syntax.parse_did_url(inp.text("url"), base), base)


@handler("did", "did.chain.check", "`did` -> `key`: the ID chain's id rule, and the lower-cased storage key")
def _did_chain_check(data: Any) -> Json:
    did = syntax.parse_did(Input(data, ("did",)).text("did"))
    syntax.check_chain_id(did)
    return {"key": syntax.chain_key(did)}


@handler("did", "did.from_pubkey", "`pubkey` (33-byte compressed P-256) -> `did`: the primitive DID of the key")
def _did_from_pubkey(data: Any) -> Json:
    return {"did": str(keys.did_from_public_key(Input(data, ("pubkey",)).hex("pubkey")))}


@handler("did", "did.address.check", "`id` -> `program` (21 bytes): HDKey.isAddressValid on a primitive id")
def _did_address_check(data: Any) -> Json:
    return {"program": keys.check_did_address(Input(data, ("id",)).text("id")).hex()}


@handler("did", "did.key.from_base58", "`base58` -> `pubkey`: a publicKeyBase58 value as a compressed key")
def _key_from_base58(data: Any) -> Json:
    return {"pubkey": keys.public_key_from_base58(Input(data, ("base58",)).text("base58")).hex()}


@handler(
    "did", "did.mnemonic.check",
    "`mnemonic` -> `entropy`, `language`: validate a BIP39 mnemonic in the first of the SDK's nine word lists "
    "that holds it (Mnemonic.getLanguage order)",
)
def _mnemonic_check(data: Any) -> Json:
    mnemonic = Input(data, ("mnemonic",)).text("mnemonic")
    language = keys.mnemonic_language(mnemonic)
    return {"entropy": keys.mnemonic_to_entropy(mnemonic, language).hex(), "language": language}


@handler(
    "did", "did.mnemonic.seed",
    "`mnemonic`, `passphrase` -> `seed`, `master_xprv`: BIP39 seed of a valid mnemonic and its BIP32 master key",
)
def _mnemonic_seed(data: Any) -> Json:
    inp = Input(data, ("mnemonic", "passphrase"))
    mnemonic = inp.text("mnemonic")
    keys.mnemonic_to_entropy(mnemonic)
    seed = keys.mnemonic_to_seed(mnemonic, inp.text("passphrase"))
    return {"seed": seed.hex(), "master_xprv": keys.extended_key_to_base58(keys.master_key(seed))}


@handler(
    "did", "did.hd.derive",
    "`mnemonic`, `passphrase`, `index` -> `did`, `pubkey`: the DID key at m/44'/0'/0'/0/index",
)
def _hd_derive(data: Any) -> Json:
    inp = Input(data, ("mnemonic", "passphrase", "index"))
    key = keys.derive_did_key(inp.text("mnemonic"), inp.text("passphrase"), inp.small_int("index", -(1 << 32), 1 << 32))
    return {"did": str(keys.did_from_public_key(key.public_key)), "pubkey": key.public_key.hex()}


@handler(
    "did", "did.hd.xpub",
    "`mnemonic`, `passphrase` -> `xpub`, `root_id`: the pre-derived xpub (m/44'/0'/0') and RootIdentity.getId",
)
def _hd_xpub(data: Any) -> Json:
    inp = Input(data, ("mnemonic", "passphrase"))
    pre = keys.pre_derived_key(inp.text("mnemonic"), inp.text("passphrase"))
    return {"xpub": keys.extended_key_to_base58(pre), "root_id": keys.root_identity_id(pre)}


@handler(
    "did", "did.hd.extkey.parse",
    "`key` (xprv/xpub) -> `depth`, `parent_fingerprint`, `child_number`, `chain_code`, `private_key`, `public_key`, `did`",
)
def _extkey_parse(data: Any) -> Json:
    k = keys.parse_extended_key(Input(data, ("key",)).text("key"))
    return {
        "depth": k.depth,
        "parent_fingerprint": k.parent_fingerprint.hex(),
        "child_number": k.child_number,
        "chain_code": k.chain_code.hex(),
        "private_key": None if k.private_key is None else k.private_key.hex(),
        "public_key": k.public_key.hex(),
        "did": str(keys.did_from_public_key(k.public_key)),
    }


@handler(
    "did", "did.hd.derive_app",
    "(`mnemonic`, `passphrase`) or `xpub` (the pre-derived key), `identifier`, `security_code` -> `did`, `pubkey`, "
    "`path`: the app-scoped DID of RootIdentity.getDid(identifier, securityCode)",
)
def _hd_derive_app(data: Any) -> Json:
    inp = Input(data, ("identifier", "security_code"), ("mnemonic", "passphrase", "xpub"))
    if inp.has("xpub") == inp.has("mnemonic") or inp.has("mnemonic") != inp.has("passphrase"):
        raise Reject(Reason.MALFORMED_INPUT, None, "give either mnemonic and passphrase, or xpub")
    if inp.has("xpub"):
        pre = keys.parse_extended_key(inp.text("xpub"))
    else:
        pre = keys.pre_derived_key(inp.text("mnemonic"), inp.text("passphrase"))
    code = inp.small_int("security_code", -(1 << 40), 1 << 40)
    key = keys.derive_app_key(pre, inp.text("identifier"), code)
    path = "/".join(str(i) for i in keys.app_derive_path(inp.text("identifier"), code))
    return {"did": str(keys.did_from_public_key(key.public_key)), "pubkey": key.public_key.hex(),
            "path": f"{keys.PRE_DERIVED_PATH}/{path}"}
