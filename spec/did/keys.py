"""DID keys: P-256 keys in Base58, the DID of a public key, BIP39 mnemonics, BIP32 on P-256.

Keys and their text forms
-------------------------

==================  ======================================================================
value               form
==================  ======================================================================
public key          33-byte SEC1 compressed P-256 point (:mod:`spec.crypto.p256`), written
                    in a document as ``publicKeyBase58``: Base58 without checksum
private key         32 bytes big-endian in [1, N-1]; Base58 without checksum where text
primitive DID id    ``Base58Check(0x67 || hash160(0x21 || pk || 0xAD))``: 34 characters, ``i...``
extended key        BIP32 serialization, 78 bytes + 4-byte sha256d checksum, Base58
                    (versions xprv ``0x0488ADE4`` / xpub ``0x0488B21E``, Bitcoin mainnet)
==================  ======================================================================

``0xAD`` is Elastos's "DID" program type; the chain builds the standard redeem script
``0x21 || pk || 0xAC`` and swaps its last byte, which gives the same 35 bytes. ``0x67`` is the
identity prefix, which makes every primitive id start with ``i``.

HD derivation (the SDK's ``HDKey``, ``Mnemonic``, ``RootIdentity``)
-------------------------------------------------------------------

* BIP39: ``seed = PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + NFKD(passphrase), 2048, 64)``.
  The mnemonic must be valid (word count, words of the list, checksum) before it is used
  (``RootIdentity.create`` calls ``Mnemonic.checkIsValid``). The SDK's nine word lists (English,
  Spanish, French, Czech, Italian, simplified and traditional Chinese, Japanese, Korean; read from the
  ``mnemonic`` package, trezor's reference implementation, NFKD) are tried in that order
  (``Mnemonic.getLanguage``); words are split on single ASCII spaces after NFKD.
* App-scoped DIDs: nine non-hardened steps below the pre-derived key from SHA-256 of the app's
  identifier and a security code (:func:`app_derive_path`), so an xpub alone lists them.
* BIP32 on P-256: master ``I = HMAC-SHA512("Bitcoin seed", seed)``; children as in BIP32 with
  ``n`` the P-256 group order (hardened ``0x00 || k || i``, normal ``serP(K) || i``).
* A DID's key is at ``m/44'/0'/0'/0/index``. The *pre-derived* public key is ``m/44'/0'/0'``; its
  xpub lets a wallet list DIDs without the seed. The root identity id is the lower-case hex MD5 of
  the 82 raw bytes of that xpub (``RootIdentity.getId``).

Upstream: Elastos.DID.Java.SDK ``crypto/HDKey.java``, ``crypto/Base58.java``, ``Mnemonic.java``,
``RootIdentity.java``; Elastos.DID.Native.SDK ``hdkey/HDkey.c``; Elastos.ELA.SideChain.EID
``core/vm/did/common.go`` (``GetDIDAddress``); BIP32, BIP39.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import unicodedata
from typing import Final

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.crypto.hashes import hash160, sha256
from spec.did.syntax import DID, METHOD
from spec.encoding.base58 import b58check_decode, b58check_encode, b58decode, b58encode
from spec.errors import DecodeError, Reason, Reject, rule

__all__ = [
    "IDENTITY_PREFIX", "DID_PROGRAM_TYPE", "XPRV_VERSION", "XPUB_VERSION", "HARDENED",
    "public_key_to_base58", "public_key_from_base58", "private_key_from_base58",
    "did_address", "did_from_public_key", "check_did_address",
    "english_wordlist", "mnemonic_to_entropy", "entropy_to_mnemonic", "mnemonic_to_seed",
    "ExtendedKey", "master_key", "derive_child", "derive_path", "parse_path", "neuter",
    "serialize_extended_key", "extended_key_to_base58", "parse_extended_key",
    "pre_derived_key", "root_identity_id", "derive_did_key", "app_derive_path", "derive_app_key",
    "LANGUAGES", "wordlist", "mnemonic_language",
]

IDENTITY_PREFIX: Final = 0x67
"""``PADDING_IDENTITY``: the first byte of a primitive DID's 21-byte program hash."""
DID_PROGRAM_TYPE: Final = 0xAD
"""The last byte of the 35-byte script whose hash160 is a DID's."""
ADDRESS_SIZE: Final = 25
XPRV_VERSION: Final = 0x0488ADE4
XPUB_VERSION: Final = 0x0488B21E
EXTENDED_KEY_SIZE: Final = 78
HARDENED: Final = 0x80000000
PBKDF2_ROUNDS: Final = 2048
MASTER_HMAC_KEY: Final = b"Bitcoin seed"
PRE_DERIVED_PATH: Final = "m/44'/0'/0'"
"""The pre-derived (account) key: ``RootIdentity``'s ``preDerivedPublicKey``."""
DID_DERIVE_PATH_PREFIX: Final = "m/44'/0'/0'/0/"
"""``HDKey.DERIVE_PATH_PREFIX`` (``44H/0H/0H/0/``): a DID's key is at this prefix plus its index."""
MNEMONIC_WORD_COUNTS: Final = (12, 15, 18, 21, 24)

R_ADDRESS_LENGTH = rule(
    "KEY-001", Reason.DID_ADDRESS_LENGTH,
    "A primitive DID's id decodes (Base58) to 25 bytes.",
    suite="did", upstream="HDKey.isAddressValid",
)
R_ADDRESS_PREFIX = rule(
    "KEY-002", Reason.DID_ADDRESS_PREFIX,
    "The first byte of a primitive DID's decoded id is 0x67.",
    suite="did", upstream="HDKey.isAddressValid",
)
R_WORD_COUNT = rule(
    "KEY-003", Reason.MNEMONIC_WORD_COUNT,
    "A mnemonic has 12, 15, 18, 21 or 24 words.",
    suite="did", upstream="Mnemonic.checkIsValid (bitcoinj MnemonicCode.check: MnemonicLengthException)",
)
R_WORD = rule(
    "KEY-004", Reason.MNEMONIC_UNKNOWN_WORD,
    "Every mnemonic word is in the word list.",
    suite="did", upstream="Mnemonic.checkIsValid (MnemonicWordException)",
)
R_MNEMONIC_CHECKSUM = rule(
    "KEY-005", Reason.MNEMONIC_CHECKSUM,
    "A mnemonic's last ENT/32 bits are the first bits of SHA-256 of its entropy.",
    suite="did", upstream="Mnemonic.checkIsValid (MnemonicChecksumException)",
)
R_INDEX = rule(
    "KEY-006", Reason.HD_INDEX_OUT_OF_RANGE,
    "A DID key index is in [0, 2^31 - 1] (a non-hardened child number).",
    suite="did", upstream="RootIdentity.getDid / HDKey.derive: checkArgument(index >= 0)",
)
R_EXT_LENGTH = rule(
    "KEY-007", Reason.EXTENDED_KEY_LENGTH,
    "A serialized extended key is 78 bytes plus its 4-byte checksum.",
    suite="did", upstream="HDKey.deserialize: \"Invalid extended key\"",
)
R_EXT_VERSION = rule(
    "KEY-008", Reason.EXTENDED_KEY_VERSION,
    "A serialized extended key's version is xprv 0x0488ADE4 (then 0x00 and a private key) or xpub 0x0488B21E.",
    suite="did", upstream="HDKey.deserialize",
)


# -- keys in Base58 -------------------------------------------------------------------------------


def public_key_to_base58(pubkey: bytes) -> str:
    """``publicKeyBase58``: Base58 (no checksum) of a 33-byte compressed key."""
    p256.check_public_key(pubkey)
    return b58encode(pubkey)


def public_key_from_base58(text: str) -> bytes:
    """The compressed P-256 key a ``publicKeyBase58`` names ([B58-001], [CRY-001..003])."""
    pubkey = b58decode(text)
    p256.check_public_key(pubkey)
    return pubkey


def private_key_from_base58(text: str) -> bytes:
    """A 32-byte private key from Base58 text ([B58-001], [CRY-007])."""
    key = b58decode(text)
    p256.public_key_from_private(key)
    return key


# -- the DID of a public key ----------------------------------------------------------------------


def did_address(pubkey: bytes) -> str:
    """The method-specific id of the primitive DID of ``pubkey`` (``HDKey.getAddress``)."""
    p256.check_public_key(pubkey)
    program = bytes([IDENTITY_PREFIX]) + hash160(bytes([0x21]) + pubkey + bytes([DID_PROGRAM_TYPE]))
    return b58check_encode(program)


def did_from_public_key(pubkey: bytes) -> DID:
    """The primitive DID of ``pubkey``."""
    return DID(method=METHOD, id=did_address(pubkey))


def check_did_address(method_specific_id: str) -> bytes:
    """``HDKey.isAddressValid``: return the 21-byte program of a primitive DID's id, or raise."""
    raw = b58decode(method_specific_id)
    # [KEY-001] a primitive DID's id decodes to 25 bytes
    if len(raw) != ADDRESS_SIZE:
        raise DecodeError(Reason.DID_ADDRESS_LENGTH, "KEY-001", f"{len(raw)} bytes, need {ADDRESS_SIZE}")
    # [KEY-002] the first byte is the identity prefix 0x67
    if raw[0] != IDENTITY_PREFIX:
        raise DecodeError(Reason.DID_ADDRESS_PREFIX, "KEY-002", f"prefix 0x{raw[0]:02x}, need 0x67")
    return b58check_decode(method_specific_id)


# -- BIP39 ----------------------------------------------------------------------------------------


LANGUAGES: Final = ("english", "spanish", "french", "czech", "italian", "chinese_simplified",
                    "chinese_traditional", "japanese", "korean")
"""The SDK's word lists (``Mnemonic``), in the order ``Mnemonic.getLanguage`` tries them."""
IDEOGRAPHIC_SPACE: Final = "\u3000"
"""The separator of Japanese mnemonics as written (BIP39); NFKD turns it into an ASCII space."""


@functools.cache
def wordlist(language: str = "english") -> tuple[str, ...]:
    """A BIP39 word list (2048 words, NFKD), from trezor's ``mnemonic`` package."""
    from mnemonic import Mnemonic

    if language not in LANGUAGES:
        raise ValueError(f"unknown mnemonic language {language!r}; one of {LANGUAGES}")
    words = tuple(unicodedata.normalize("NFKD", w) for w in Mnemonic(language).wordlist)
    assert len(words) == 2048 and len(set(words)) == 2048
    return words


def english_wordlist() -> tuple[str, ...]:
    """The BIP39 English word list."""
    return wordlist("english")


@functools.cache
def _word_index(language: str) -> dict[str, int]:
    return {w: i for i, w in enumerate(wordlist(language))}


def _mnemonic_words(mnemonic: str) -> list[str]:
    """``Normalizer.normalize(mnemonic, NFKD).split(" ")``: one ASCII space between words (an ideographic
    space becomes one under NFKD); any other spacing leaves an empty or unknown word."""
    return unicodedata.normalize("NFKD", mnemonic).split(" ")


def _entropy(words: list[str], language: str) -> bytes | None:
    """The entropy if every word is in ``language``'s list and the checksum holds; ``None`` if a word is
    not in the list; raises KEY-005 for a bad checksum."""
    index = _word_index(language)
    bits = 0
    for w in words:
        i = index.get(w)
        if i is None:
            return None
        bits = (bits << 11) | i
    total = 11 * len(words)
    cs_len = total // 33
    entropy = (bits >> cs_len).to_bytes((total - cs_len) // 8, "big")
    # [KEY-005] the checksum bits are the first bits of SHA-256 of the entropy
    if sha256(entropy)[0] >> (8 - cs_len) != bits & ((1 << cs_len) - 1):
        raise DecodeError(Reason.MNEMONIC_CHECKSUM, "KEY-005", f"mnemonic checksum mismatch ({language})")
    return entropy


def mnemonic_language(mnemonic: str) -> str:
    """``Mnemonic.getLanguage``: the first language of :data:`LANGUAGES` in which ``mnemonic`` is valid.

    Raises KEY-003 for a bad word count, KEY-004 when no list holds every word, KEY-005 when the lists
    that hold every word all fail the checksum."""
    words = _mnemonic_words(mnemonic)
    # [KEY-003] a mnemonic has 12, 15, 18, 21 or 24 words
    if len(words) not in MNEMONIC_WORD_COUNTS:
        raise DecodeError(Reason.MNEMONIC_WORD_COUNT, "KEY-003", f"{len(words)} words")
    checksum_error: DecodeError | None = None
    for language in LANGUAGES:
        try:
            if _entropy(words, language) is not None:
                return language
        except DecodeError as e:
            checksum_error = checksum_error or e
    if checksum_error is not None:
        raise checksum_error
    unknown = next((pos, w) for pos, w in enumerate(words) if w not in _word_index("english"))
    # [KEY-004] every word is in the word list (of one language)
    raise DecodeError(Reason.MNEMONIC_UNKNOWN_WORD, "KEY-004", f"word {unknown[0]}: {unknown[1]!r} is in no word list")


def mnemonic_to_entropy(mnemonic: str, language: str | None = None) -> bytes:
    """The entropy of a valid mnemonic (of ``language``, or of the language :func:`mnemonic_language`
    finds); raises for a bad count, word or checksum."""
    lang = mnemonic_language(mnemonic) if language is None else language
    words = _mnemonic_words(mnemonic)
    # [KEY-003] a mnemonic has 12, 15, 18, 21 or 24 words
    if len(words) not in MNEMONIC_WORD_COUNTS:
        raise DecodeError(Reason.MNEMONIC_WORD_COUNT, "KEY-003", f"{len(words)} words")
    entropy = _entropy(words, lang)
    # [KEY-004] every word is in the word list
    if entropy is None:
        raise DecodeError(Reason.MNEMONIC_UNKNOWN_WORD, "KEY-004", f"a word is not in the {lang} list")
    return entropy


def entropy_to_mnemonic(entropy: bytes, language: str = "english") -> str:
    """The mnemonic of 16, 20, 24, 28 or 32 bytes of entropy in ``language`` (``Mnemonic.generate``);
    Japanese words are joined with an ideographic space, the others with an ASCII space."""
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise ValueError("entropy must be 16, 20, 24, 28 or 32 bytes")
    cs_len = len(entropy) * 8 // 32
    bits = (int.from_bytes(entropy, "big") << cs_len) | (sha256(entropy)[0] >> (8 - cs_len))
    n = (len(entropy) * 8 + cs_len) // 11
    words = wordlist(language)
    sep = IDEOGRAPHIC_SPACE if language == "japanese" else " "
    return sep.join(words[(bits >> (11 * (n - 1 - k))) & 0x7FF] for k in range(n))


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP39 seed (no validity check: see :func:`mnemonic_to_entropy`)."""
    m = unicodedata.normalize("NFKD", mnemonic).encode("utf-8")
    salt = ("mnemonic" + unicodedata.normalize("NFKD", passphrase)).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", m, salt, PBKDF2_ROUNDS, 64)


# -- BIP32 on P-256 -------------------------------------------------------------------------------


class ExtendedKey(BaseModel):
    """A BIP32 extended key on P-256."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    depth: int
    """Derivation depth: 0 for the master key."""
    parent_fingerprint: bytes
    """``hash160(parent public key)[0:4]``; zero bytes for the master key."""
    child_number: int
    """The index this key was derived with (>= 2^31 when hardened); 0 for the master key."""
    chain_code: bytes
    """32 bytes."""
    private_key: bytes | None
    """32 bytes, or ``None`` for a public-only (neutered) key."""
    public_key: bytes
    """33-byte compressed point."""


def _point_add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """Affine addition on P-256 (``None`` is the point at infinity)."""
    if a is None:
        return b
    if b is None:
        return a
    P = p256.P
    if a[0] == b[0]:
        if (a[1] + b[1]) % P == 0:
            return None
        lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return x, (lam * (a[0] - x) - a[1]) % P


def _scalar_point(k: int) -> tuple[int, int]:
    x, y = p256.decompress_point(p256.public_key_from_private(k.to_bytes(32, "big")))
    return x, y


def _key_from_scalar(k: int) -> bytes:
    if not 1 <= k < p256.N:
        # A BIP32 step gave an unusable scalar (probability below 2^-127; no vector reaches it).
        raise Reject(Reason.HD_KEY_INVALID, None, "derived key is zero or not below the group order")
    return k.to_bytes(32, "big")


def master_key(seed: bytes) -> ExtendedKey:
    """``HDKey.fromSeed``: the master key of a BIP39 seed."""
    i = hmac.new(MASTER_HMAC_KEY, seed, hashlib.sha512).digest()
    priv = _key_from_scalar(int.from_bytes(i[:32], "big"))
    return ExtendedKey(depth=0, parent_fingerprint=bytes(4), child_number=0, chain_code=i[32:],
                       private_key=priv, public_key=p256.public_key_from_private(priv))


def derive_child(key: ExtendedKey, index: int) -> ExtendedKey:
    """BIP32 CKDpriv (or CKDpub for a public-only key and a normal index) on P-256."""
    if not 0 <= index < 1 << 32:
        raise ValueError("child number must fit 32 bits")
    if index >= HARDENED:
        if key.private_key is None:
            raise ValueError("a hardened child needs the private key")
        data = b"\x00" + key.private_key + index.to_bytes(4, "big")
    else:
        data = key.public_key + index.to_bytes(4, "big")
    i = hmac.new(key.chain_code, data, hashlib.sha512).digest()
    il = int.from_bytes(i[:32], "big")
    if il >= p256.N:
        raise Reject(Reason.HD_KEY_INVALID, None, "IL is not below the group order")
    fingerprint = hash160(key.public_key)[:4]
    if key.private_key is not None:
        priv = _key_from_scalar((il + int.from_bytes(key.private_key, "big")) % p256.N)
        pub = p256.public_key_from_private(priv)
    else:
        priv = None
        point = _point_add(_scalar_point(il), p256.decompress_point(key.public_key))
        if point is None:
            raise Reject(Reason.HD_KEY_INVALID, None, "derived point is at infinity")
        pub = p256.compress_point(*point)
    return ExtendedKey(depth=key.depth + 1, parent_fingerprint=fingerprint, child_number=index,
                       chain_code=i[32:], private_key=priv, public_key=pub)


def parse_path(path: str) -> list[int]:
    """``"m/44'/0'/0'/0/3"`` (``'`` or ``H`` for hardened) as child numbers."""
    parts = path.split("/")
    if parts[0] != "m":
        raise ValueError("a path starts with m")
    out = []
    for p in parts[1:]:
        hard = p.endswith(("'", "H", "h"))
        n = int(p[:-1] if hard else p)
        if not 0 <= n < HARDENED:
            raise ValueError("path index out of range")
        out.append(n + HARDENED if hard else n)
    return out


def derive_path(key: ExtendedKey, path: str) -> ExtendedKey:
    """Derive along ``path`` from ``key`` (taken as ``m``)."""
    for index in parse_path(path):
        key = derive_child(key, index)
    return key


def neuter(key: ExtendedKey) -> ExtendedKey:
    """The public-only form of an extended key."""
    return key.model_copy(update={"private_key": None})


def serialize_extended_key(key: ExtendedKey) -> bytes:
    """The 82 raw bytes of a serialized extended key (78 + 4-byte sha256d checksum)."""
    if key.private_key is not None:
        version, body = XPRV_VERSION, b"\x00" + key.private_key
    else:
        version, body = XPUB_VERSION, key.public_key
    raw = (version.to_bytes(4, "big") + bytes([key.depth]) + key.parent_fingerprint
           + key.child_number.to_bytes(4, "big") + key.chain_code + body)
    return b58decode(b58check_encode(raw))


def extended_key_to_base58(key: ExtendedKey) -> str:
    """``xprv...`` or ``xpub...``."""
    return b58encode(serialize_extended_key(key))


def parse_extended_key(text: str) -> ExtendedKey:
    """An ``xprv...`` or ``xpub...`` string ([B58-001..003], [KEY-007], [KEY-008], [CRY-001..003, 007])."""
    raw = b58check_decode(text)
    # [KEY-007] an extended key is 78 bytes plus its checksum
    if len(raw) != EXTENDED_KEY_SIZE:
        raise DecodeError(Reason.EXTENDED_KEY_LENGTH, "KEY-007", f"{len(raw)} bytes, need {EXTENDED_KEY_SIZE}")
    version = int.from_bytes(raw[:4], "big")
    body = raw[45:]
    # [KEY-008] the version is xprv (with 0x00 and a private key) or xpub
    if not (version == XPUB_VERSION or (version == XPRV_VERSION and body[0] == 0)):
        raise DecodeError(Reason.EXTENDED_KEY_VERSION, "KEY-008", f"version 0x{version:08x}")
    if version == XPRV_VERSION:
        priv: bytes | None = body[1:]
        pub = p256.public_key_from_private(body[1:])
    else:
        priv = None
        p256.check_public_key(body)
        pub = body
    return ExtendedKey(depth=raw[4], parent_fingerprint=raw[5:9], child_number=int.from_bytes(raw[9:13], "big"),
                       chain_code=raw[13:45], private_key=priv, public_key=pub)


# -- root identity and DID keys -------------------------------------------------------------------


def pre_derived_key(mnemonic: str, passphrase: str = "") -> ExtendedKey:
    """The public-only key at ``m/44'/0'/0'`` of a valid mnemonic ([KEY-003..005])."""
    mnemonic_to_entropy(mnemonic)
    return neuter(derive_path(master_key(mnemonic_to_seed(mnemonic, passphrase)), PRE_DERIVED_PATH))


def root_identity_id(pre_derived: ExtendedKey) -> str:
    """``RootIdentity.getId``: lower-case hex MD5 of the 82 raw bytes of the pre-derived xpub."""
    return hashlib.md5(serialize_extended_key(neuter(pre_derived))).hexdigest()


def derive_did_key(mnemonic: str, passphrase: str, index: int) -> ExtendedKey:
    """The key of DID number ``index`` (``m/44'/0'/0'/0/index``) of a valid mnemonic."""
    # [KEY-006] a DID key index is in [0, 2^31 - 1]
    if not 0 <= index < HARDENED:
        raise Reject(Reason.HD_INDEX_OUT_OF_RANGE, "KEY-006", f"index {index}")
    mnemonic_to_entropy(mnemonic)
    return derive_path(master_key(mnemonic_to_seed(mnemonic, passphrase)), f"{DID_DERIVE_PATH_PREFIX}{index}")


def app_derive_path(identifier: str, security_code: int) -> list[int]:
    """``RootIdentity.mapToDerivePath``: the nine non-hardened child numbers, below the pre-derived key, of
    the app-scoped DID for ``identifier`` (an app's package or bundle name) and a user's security code.

    ``d = SHA-256(UTF-8 identifier)``; the path is the eight big-endian 32-bit words of ``d``, each
    ``& 0x7FFFFFFF``, then ``security_code & 0x7FFFFFFF`` (a Java ``int``: negative codes wrap).
    Quirk: the SDK encodes ``identifier`` with the platform's default charset; the spec fixes UTF-8."""
    # [KEY-006] the security code is a 32-bit signed integer (a Java int)
    if not -(1 << 31) <= security_code < 1 << 31:
        raise Reject(Reason.HD_INDEX_OUT_OF_RANGE, "KEY-006", f"security code {security_code} is not a 32-bit int")
    d = sha256(identifier.encode("utf-8"))
    words = [int.from_bytes(d[i:i + 4], "big") & 0x7FFFFFFF for i in range(0, 32, 4)]
    return words + [security_code & 0x7FFFFFFF]


def derive_app_key(pre_derived: ExtendedKey, identifier: str, security_code: int) -> ExtendedKey:
    """``RootIdentity.getDid(identifier, securityCode)``: the app-scoped key below the pre-derived key
    (``m/44'/0'/0'``). A public-only pre-derived key gives the public key and the DID (all steps are
    non-hardened); a private one gives the private key too (``newDid(identifier, securityCode)``)."""
    key = pre_derived
    for index in app_derive_path(identifier, security_code):
        key = derive_child(key, index)
    return key
