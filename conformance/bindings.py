"""Handler bindings: what each vector handler means, as a call of the spec.

A *handler* is named ``<suite>/<name>``. Its input is a JSON object and its result either a JSON
object (``ok``) or a :class:`~spec.errors.Reject` whose reason is the expected ``reject``. This
module is the normative definition of every handler: the vector generators fill ``expect`` by
running it, and the docs print its table. An implementation under test answers the same question
with its own code.

JSON conventions (also in ``docs/vectors.md``):

* byte strings are lower-case hex strings (input may use either case);
* integers that may exceed 2^53 (u64, i64, amounts, CBOR integers) are **decimal strings**;
  small counts and sizes (``max``, ``m``) are JSON numbers;
* a deterministic CBOR value is written in *typed JSON*: ``{"int": "-5"}``, ``{"bytes": "00ff"}``,
  ``{"text": "a"}``, ``{"array": [...]}``, ``{"map": [[key, value], ...]}``, ``{"bool": true}``,
  ``{"null": true}``.

Input that is not of the handler's shape (a missing or extra field, a wrong JSON type, bad hex
in a byte field) is rejected with ``MALFORMED_INPUT``: that is a fault in how the case was asked,
not a rule of the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spec.crypto import curve25519, hashes, p256, scripts
from spec.encoding import address, base58, cbor, fixed64, primitives
from spec.encoding.hashes import Uint168, Uint256
from spec.errors import Reason, Reject

Json = dict[str, Any]

__all__ = ["Handler", "HANDLERS", "Input", "run_handler", "cbor_to_json", "cbor_from_json"]


class Input:
    """Typed access to a handler's input object; every fault is ``MALFORMED_INPUT``."""

    __slots__ = ("_d",)

    def __init__(self, data: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        if not isinstance(data, dict):
            raise Reject(Reason.MALFORMED_INPUT, None, "input must be a JSON object")
        missing = [k for k in required if k not in data]
        extra = [k for k in data if k not in required and k not in optional]
        if missing or extra:
            raise Reject(Reason.MALFORMED_INPUT, None, f"missing {missing}, unexpected {extra}")
        self._d = data

    def has(self, key: str) -> bool:
        return key in self._d

    def hex(self, key: str) -> bytes:
        v = self._d[key]
        if not isinstance(v, str):
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a hex string")
        try:
            raw = bytes.fromhex(v)
        except ValueError:
            return _bad_hex(key)
        if 2 * len(raw) != len(v):  # fromhex skips whitespace; the wire form has none
            return _bad_hex(key)
        return raw

    def text(self, key: str) -> str:
        v = self._d[key]
        if not isinstance(v, str):
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a string")
        return v

    def small_int(self, key: str, lo: int = 0, hi: int = 1 << 32) -> int:
        v = self._d[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected an integer in [{lo}, {hi}]")
        return v

    def big_int(self, key: str) -> int:
        """A decimal-string integer (any size the spec may then range-check)."""
        v = self._d[key]
        if not isinstance(v, str) or not _is_decimal(v):
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a decimal string")
        return int(v)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        v = self._d[key]
        if v not in options:
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected one of {options}")
        return v

    def hex_list(self, key: str) -> list[bytes]:
        v = self._d[key]
        if not isinstance(v, list):
            raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a list of hex strings")
        return [Input({"x": item}, ("x",)).hex("x") for item in v]

    def raw(self, key: str) -> Any:
        return self._d[key]


def _bad_hex(key: str) -> bytes:
    raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: not an even-length hex string")


def _is_decimal(v: str) -> bool:
    body = v[1:] if v.startswith("-") else v
    return 0 < len(body) <= 80 and body.isascii() and body.isdigit()


@dataclass(frozen=True)
class Handler:
    """One handler: its qualified name, the spec call it stands for, and what it returns."""

    suite: str
    name: str
    fn: Callable[[Any], Json]
    summary: str

    @property
    def qualified(self) -> str:
        return f"{self.suite}/{self.name}"


HANDLERS: dict[str, Handler] = {}


def handler(suite: str, name: str, summary: str) -> Callable[[Callable[[Any], Json]], Callable[[Any], Json]]:
    def register(fn: Callable[[Any], Json]) -> Callable[[Any], Json]:
        h = Handler(suite, name, fn, summary)
        if h.qualified in HANDLERS:
            raise ValueError(f"handler {h.qualified} defined twice")
        HANDLERS[h.qualified] = h
        return fn
    return register


def run_handler(qualified: str, data: Any) -> Json:
    """Run one handler; returns the ``ok`` object or raises :class:`Reject`."""
    return HANDLERS[qualified].fn(data)


# == encoding suite =================================================================================


@handler("encoding", "varuint_decode", "`bytes` -> `value`: read one VarUint that is the whole input")
def _varuint_decode(data: Any) -> Json:
    raw = Input(data, ("bytes",)).hex("bytes")
    r = primitives.Reader(raw)
    value = primitives.read_varuint(r)
    r.finish("VarUint")
    return {"value": str(value)}


@handler("encoding", "varuint_encode", "`value` -> `bytes`: the shortest VarUint")
def _varuint_encode(data: Any) -> Json:
    return {"bytes": primitives.encode_varuint(Input(data, ("value",)).big_int("value")).hex()}


_INT_TYPES = tuple(primitives.FIXED_INT_TYPES)


@handler("encoding", "int_decode", "`type`, `bytes` -> `value`: a fixed-width little-endian integer")
def _int_decode(data: Any) -> Json:
    inp = Input(data, ("type", "bytes"))
    r = primitives.Reader(inp.hex("bytes"))
    value = primitives.read_int(r, inp.choice("type", _INT_TYPES))
    r.finish("integer")
    return {"value": str(value)}


@handler("encoding", "int_encode", "`type`, `value` -> `bytes`: a fixed-width little-endian integer")
def _int_encode(data: Any) -> Json:
    inp = Input(data, ("type", "value"))
    return {"bytes": primitives.encode_int(inp.big_int("value"), inp.choice("type", _INT_TYPES)).hex()}


@handler("encoding", "bool_decode", "`bytes` -> `value`: a one-byte boolean (any non-zero byte is true)")
def _bool_decode(data: Any) -> Json:
    r = primitives.Reader(Input(data, ("bytes",)).hex("bytes"))
    value = primitives.read_bool(r)
    r.finish("bool")
    return {"value": value}


@handler("encoding", "varbytes_decode", "`bytes`, `max` -> `data`: a VarBytes of at most `max` bytes")
def _varbytes_decode(data: Any) -> Json:
    inp = Input(data, ("bytes", "max"))
    r = primitives.Reader(inp.hex("bytes"))
    value = primitives.read_varbytes(r, inp.small_int("max", 0, primitives.U32_MAX))
    r.finish("VarBytes")
    return {"data": value.hex()}


@handler("encoding", "varbytes_encode", "`data` -> `bytes`: VarUint length then the data")
def _varbytes_encode(data: Any) -> Json:
    return {"bytes": primitives.encode_varbytes(Input(data, ("data",)).hex("data")).hex()}


@handler(
    "encoding", "varstring_decode",
    "`bytes` [, `max`] -> `data`, `text`: a VarString (16 MiB unless `max`); `text` is null when "
    "the bytes are not UTF-8",
)
def _varstring_decode(data: Any) -> Json:
    inp = Input(data, ("bytes",), ("max",))
    limit = inp.small_int("max", 0, primitives.U32_MAX) if inp.has("max") else primitives.MAX_VAR_STRING_LENGTH
    r = primitives.Reader(inp.hex("bytes"))
    value = primitives.read_varstring(r, limit)
    r.finish("VarString")
    try:
        text: str | None = value.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"data": value.hex(), "text": text}


@handler("encoding", "fixed64_decode", "`bytes` -> `sela`, `text`: an 8-byte amount and its text form")
def _fixed64_decode(data: Any) -> Json:
    r = primitives.Reader(Input(data, ("bytes",)).hex("bytes"))
    sela = fixed64.read_fixed64(r)
    r.finish("Fixed64")
    return {"sela": str(sela), "text": fixed64.fixed64_to_string(sela)}


@handler("encoding", "fixed64_from_string", "`text` -> `sela`, `bytes`: parse an amount")
def _fixed64_from_string(data: Any) -> Json:
    sela = fixed64.fixed64_from_string(Input(data, ("text",)).text("text"))
    return {"sela": str(sela), "bytes": fixed64.encode_fixed64(sela).hex()}


@handler("encoding", "uint256_decode", "`bytes` -> `stored`, `display`: a 32-byte hash")
def _uint256_decode(data: Any) -> Json:
    h = Uint256.from_bytes(Input(data, ("bytes",)).hex("bytes"))
    return {"stored": h.data.hex(), "display": h.display()}


@handler("encoding", "uint256_from_display", "`display` -> `stored`: parse the reversed-hex display form")
def _uint256_from_display(data: Any) -> Json:
    return {"stored": Uint256.from_display(Input(data, ("display",)).text("display")).data.hex()}


@handler("encoding", "uint256_compare", "`a`, `b` -> `cmp` (-1, 0, 1): little-endian integer order")
def _uint256_compare(data: Any) -> Json:
    inp = Input(data, ("a", "b"))
    return {"cmp": Uint256.from_bytes(inp.hex("a")).compare(Uint256.from_bytes(inp.hex("b")))}


@handler("encoding", "uint168_decode", "`bytes` -> `prefix`, `code_hash`: a 21-byte program hash")
def _uint168_decode(data: Any) -> Json:
    h = Uint168.from_bytes(Input(data, ("bytes",)).hex("bytes"))
    return {"prefix": h.prefix, "code_hash": h.code_hash.hex()}


@handler("encoding", "base58_encode", "`bytes` -> `text`")
def _base58_encode(data: Any) -> Json:
    return {"text": base58.b58encode(Input(data, ("bytes",)).hex("bytes"))}


@handler("encoding", "base58_decode", "`text` -> `bytes`")
def _base58_decode(data: Any) -> Json:
    return {"bytes": base58.b58decode(Input(data, ("text",)).text("text")).hex()}


@handler("encoding", "base58check_encode", "`payload` -> `text`")
def _base58check_encode(data: Any) -> Json:
    return {"text": base58.b58check_encode(Input(data, ("payload",)).hex("payload"))}


@handler("encoding", "base58check_decode", "`text` -> `payload`")
def _base58check_decode(data: Any) -> Json:
    return {"payload": base58.b58check_decode(Input(data, ("text",)).text("text")).hex()}


def _prefix_json(ph: Uint168) -> Json:
    p = address.PREFIX_BY_BYTE[ph.prefix]
    return {"prefix": ph.prefix, "kind": p.name}


@handler("encoding", "address_encode", "`program_hash` -> `address`")
def _address_encode(data: Any) -> Json:
    ph = Uint168.from_bytes(Input(data, ("program_hash",)).hex("program_hash"))
    return {"address": address.address_from_program_hash(ph)}


@handler("encoding", "address_decode", "`address` -> `program_hash`, `prefix`, `kind`")
def _address_decode(data: Any) -> Json:
    ph = address.program_hash_from_address(Input(data, ("address",)).text("address"))
    return {"program_hash": ph.data.hex(), **_prefix_json(ph)}


def cbor_from_json(v: Any, depth: int = 0) -> cbor.CborValue:
    """Typed JSON -> a CBOR data-model value (maps become :class:`~spec.encoding.cbor.CborMap`)."""
    if depth > 200 or not isinstance(v, dict) or len(v) != 1:
        raise Reject(Reason.MALFORMED_INPUT, None, "typed CBOR JSON: one-key object expected")
    (tag, body), = v.items()
    if tag == "int":
        return Input({"int": body}, ("int",)).big_int("int")
    if tag == "bytes":
        return Input({"bytes": body}, ("bytes",)).hex("bytes")
    if tag == "text" and isinstance(body, str):
        return body
    if tag == "bool" and isinstance(body, bool):
        return body
    if tag == "null" and body is True:
        return None
    if tag == "array" and isinstance(body, list):
        return [cbor_from_json(x, depth + 1) for x in body]
    if tag == "map" and isinstance(body, list) and all(isinstance(p, list) and len(p) == 2 for p in body):
        return cbor.CborMap(tuple((cbor_from_json(k, depth + 1), cbor_from_json(x, depth + 1)) for k, x in body))
    raise Reject(Reason.MALFORMED_INPUT, None, f"typed CBOR JSON: bad {tag!r} item")


def cbor_to_json(v: cbor.CborValue) -> Any:
    """A decoded CBOR value -> typed JSON (map pairs in their encoded order)."""
    if v is None:
        return {"null": True}
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, str):
        return {"text": v}
    if isinstance(v, list):
        return {"array": [cbor_to_json(x) for x in v]}
    assert isinstance(v, dict)
    return {"map": [[cbor_to_json(k), cbor_to_json(x)] for k, x in v.items()]}


@handler("encoding", "cbor_encode", "`value` (typed JSON) -> `bytes`: deterministic CBOR")
def _cbor_encode(data: Any) -> Json:
    return {"bytes": cbor.cbor_encode(cbor_from_json(Input(data, ("value",)).raw("value"))).hex()}


@handler("encoding", "cbor_decode", "`bytes` -> `value` (typed JSON): deterministic CBOR only")
def _cbor_decode(data: Any) -> Json:
    return {"value": cbor_to_json(cbor.cbor_decode(Input(data, ("bytes",)).hex("bytes")))}


# == crypto suite ===================================================================================


@handler("crypto", "sha256", "`data` -> `digest`")
def _sha256(data: Any) -> Json:
    return {"digest": hashes.sha256(Input(data, ("data",)).hex("data")).hex()}


@handler("crypto", "sha256d", "`data` -> `digest`: SHA-256 twice")
def _sha256d(data: Any) -> Json:
    return {"digest": hashes.sha256d(Input(data, ("data",)).hex("data")).hex()}


@handler("crypto", "ripemd160", "`data` -> `digest`")
def _ripemd160(data: Any) -> Json:
    return {"digest": hashes.ripemd160(Input(data, ("data",)).hex("data")).hex()}


@handler("crypto", "hash160", "`data` -> `digest`: RIPEMD-160 of SHA-256")
def _hash160(data: Any) -> Json:
    return {"digest": hashes.hash160(Input(data, ("data",)).hex("data")).hex()}


@handler("crypto", "pubkey_decode", "`pubkey` -> `x`, `y`: decompress a P-256 key")
def _pubkey_decode(data: Any) -> Json:
    x, y = p256.decompress_point(Input(data, ("pubkey",)).hex("pubkey"))
    return {"x": x.to_bytes(32, "big").hex(), "y": y.to_bytes(32, "big").hex()}


@handler("crypto", "pubkey_from_private", "`private_key` -> `pubkey` (compressed)")
def _pubkey_from_private(data: Any) -> Json:
    return {"pubkey": p256.public_key_from_private(Input(data, ("private_key",)).hex("private_key")).hex()}


@handler("crypto", "ecdsa_sign", "`private_key`, `message` -> `signature`: RFC 6979, r || s")
def _ecdsa_sign(data: Any) -> Json:
    inp = Input(data, ("private_key", "message"))
    return {"signature": p256.ecdsa_sign(inp.hex("private_key"), inp.hex("message")).hex()}


@handler("crypto", "ecdsa_verify", "`pubkey`, `message`, `signature` -> `{}`: SHA-256 ECDSA P-256")
def _ecdsa_verify(data: Any) -> Json:
    inp = Input(data, ("pubkey", "message", "signature"))
    p256.ecdsa_verify(inp.hex("pubkey"), inp.hex("message"), inp.hex("signature"))
    return {}


def _script_json(code: bytes) -> Json:
    s = scripts.parse_redeem_script(code)
    ph = scripts.program_hash(code)
    return {
        "code": code.hex(),
        "kind": s.kind,
        "m": s.m,
        "n": s.n,
        "pubkeys": [k.hex() for k in s.public_keys],
        "program_hash": ph.data.hex(),
        "address": address.address_from_program_hash(ph),
    }


@handler("crypto", "redeem_script_standard", "`pubkey` -> the script, its program hash and address")
def _redeem_script_standard(data: Any) -> Json:
    return _script_json(scripts.standard_redeem_script(Input(data, ("pubkey",)).hex("pubkey")))


@handler(
    "crypto", "redeem_script_multisig",
    "`m`, `pubkeys` [, `kind`: multisig | crosschain] -> the script, its program hash and address",
)
def _redeem_script_multisig(data: Any) -> Json:
    inp = Input(data, ("m", "pubkeys"), ("kind",))
    kind = inp.choice("kind", ("multisig", "crosschain")) if inp.has("kind") else "multisig"
    return _script_json(scripts.multisig_redeem_script(inp.small_int("m", 0, 255), inp.hex_list("pubkeys"), kind))


@handler("crypto", "redeem_script_parse", "`code` -> kind, m, n, keys, program hash, address")
def _redeem_script_parse(data: Any) -> Json:
    return _script_json(Input(data, ("code",)).hex("code"))


@handler("crypto", "program_verify", "`code`, `parameter`, `message` -> `kind`, `m`, `n`: check a program's signatures")
def _program_verify(data: Any) -> Json:
    inp = Input(data, ("code", "parameter", "message"))
    s = scripts.verify_program(inp.hex("code"), inp.hex("parameter"), inp.hex("message"))
    return {"kind": s.kind, "m": s.m, "n": s.n}


@handler("crypto", "ed25519_public_key", "`seed` -> `public_key`")
def _ed25519_public_key(data: Any) -> Json:
    return {"public_key": curve25519.ed25519_public_key(Input(data, ("seed",)).hex("seed")).hex()}


@handler("crypto", "ed25519_sign", "`seed`, `message` -> `signature`")
def _ed25519_sign(data: Any) -> Json:
    inp = Input(data, ("seed", "message"))
    return {"signature": curve25519.ed25519_sign(inp.hex("seed"), inp.hex("message")).hex()}


@handler("crypto", "ed25519_verify", "`public_key`, `message`, `signature` -> `{}`")
def _ed25519_verify(data: Any) -> Json:
    inp = Input(data, ("public_key", "message", "signature"))
    curve25519.ed25519_verify(inp.hex("public_key"), inp.hex("message"), inp.hex("signature"))
    return {}


@handler("crypto", "x25519_public_key", "`private_key` -> `public_key`")
def _x25519_public_key(data: Any) -> Json:
    return {"public_key": curve25519.x25519_public_key(Input(data, ("private_key",)).hex("private_key")).hex()}


@handler("crypto", "x25519_shared", "`private_key`, `public_key` -> `shared`")
def _x25519_shared(data: Any) -> Json:
    inp = Input(data, ("private_key", "public_key"))
    return {"shared": curve25519.x25519_shared(inp.hex("private_key"), inp.hex("public_key")).hex()}


# == chain suite (registered by its own package) ====================================================

import conformance.bindings_chain  # noqa: E402,F401  (its modules import Input and handler from here)
import conformance.bindings_did  # noqa: E402,F401  (likewise for the did suite)
import conformance.bindings_sidechain  # noqa: E402,F401  (the sidechain suite)
import conformance.bindings_assets  # noqa: E402,F401  (the assets suite)
import conformance.bindings_runtime  # noqa: E402,F401  (likewise for the runtime suite)
import conformance.bindings_carrier  # noqa: E402,F401  (likewise for the carrier suite)
import conformance.bindings_hive  # noqa: E402,F401  (likewise for the hive suite)
