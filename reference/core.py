"""Python bindings of the C core (``core/``), through cffi in ABI mode.

The C core is an optional accelerated backend: the spec stays the one normative source. The
bindings load ``core/build/libelastos_core.so`` (or the file named by ``ELASTOS_CORE_LIB``) with
``cffi.FFI().dlopen``; the declarations are read from the ``CFFI-BEGIN``/``CFFI-END`` section of
``core/include/elastos_core.h``, so the ABI is written down once. ABI mode was chosen over API
mode because the library is built by the project's own ``make`` (``core/build.py``); API mode
would compile a second extension module at install time, tying ``pip install`` to a C toolchain,
while the cost ABI mode adds per call (about a microsecond) is small next to what the calls do
(an ECDSA verification takes a few hundred microseconds on the development machine). When the
library is missing or was built from a different ``Reason`` enum, :data:`unavailable_reason` says
why and every caller uses the spec.

One binding is the exception: :func:`merkle_root` goes through a small CPython extension,
``core/build/_elastos_core_ext*.so`` (``core/python/merkle_ext.c``), when it is built. Through cffi the
hashes had to be checked and joined in Python first, which cost 25 microseconds for a 1,000-transaction
block against about 40 for the C hashing; the extension walks the list in C. It is handed the address of
``ec_merkle_root_in_place`` from the library loaded here, so the process holds one copy of the core. It
answers only the plain case (a non-empty list or tuple of 32-byte ``bytes``) and returns ``None`` for
any other, which the cffi path then decides, raising the spec's reason. Without ``Python.h`` the
extension is not built, :data:`ext_unavailable_reason` says so, and the cffi path does all the work.

The node's hook is :func:`use_backend`: inside ``with use_backend("c")`` the calls made through
``spec.chain.validation`` to ``check_tx_sanity``, ``check_signatures`` and ``check_tx_context``
run in C (``ec_tx_sanity``; ``ec_check_signatures``: program hashes, script parsing and every
ECDSA verification; ``ec_tx_context`` on a view of what the transaction names, see
:func:`tx_context_code`), each transaction decoded in C once. The C result is used
only when it **accepts**; on any rejection the spec's own function runs and raises the normative
:class:`~spec.errors.Reject` (reason, rule ID and detail), so the node behaves identically with
and without the core. A case where C rejects and the spec accepts is counted in
:data:`DISAGREEMENTS` and the spec's answer is used.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from spec.crypto import scripts as spec_scripts
from spec.errors import DecodeError, Reason, Reject

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "core" / "include" / "elastos_core.h"
DEFAULT_LIB = ROOT / "core" / "build" / "libelastos_core.so"
EXT_DIR = ROOT / "core" / "build"

ffi: Any = None
lib: Any = None
unavailable_reason: str | None = None
"""Why the C core cannot be used here (``None`` when it can)."""
ext: Any = None
"""The merkle root's CPython extension, bound to :data:`lib` (``None`` when it is not built)."""
ext_unavailable_reason: str | None = None
"""Why :data:`ext` is ``None``."""

STATS = {"c_accepts": 0, "c_rejects": 0, "spec_only": 0, "presigned": 0}
"""How often the backend hook's C check accepted, how often it handed a rejection to the spec, and how
often the spec alone decided (a transaction context under parameters the core was not built with)."""

DISAGREEMENTS: list[tuple[str, str]] = []
"""(what, detail) for every call where the C core rejected and the spec accepted."""

_KIND = ("standard", "multisig", "crosschain")
_KIND_CODE = {k: i for i, k in enumerate(_KIND)}


def _cdef_text() -> str:
    text = HEADER.read_text()
    body = text.split("/* CFFI-BEGIN */", 1)[1].split("/* CFFI-END */", 1)[0]
    return body


def _reasons_fingerprint() -> str:
    import hashlib

    return hashlib.sha256("\n".join(r.value for r in Reason).encode()).hexdigest()[:16]


def _load() -> None:
    global ffi, lib, unavailable_reason
    path = Path(os.environ.get("ELASTOS_CORE_LIB", DEFAULT_LIB))
    try:
        import cffi
    except ImportError:  # pragma: no cover - cffi is a dependency
        unavailable_reason = "cffi is not installed"
        return
    if not path.exists():
        unavailable_reason = f"{path} is not built (run `make core`; it needs a C compiler and libssl-dev)"
        return
    f = cffi.FFI()
    f.cdef(_cdef_text())
    try:
        handle = f.dlopen(str(path))
    except OSError as e:
        unavailable_reason = f"cannot load {path}: {e}"
        return
    built = f.string(handle.ec_reasons_fingerprint()).decode()
    if built != _reasons_fingerprint():
        unavailable_reason = f"{path} was built from another Reason enum (rebuild with `make core`)"
        return
    ffi, lib = f, handle
    _load_ext()


def _load_ext() -> None:
    global ext, ext_unavailable_reason
    import importlib.machinery
    import importlib.util

    name = "_elastos_core_ext"
    path = EXT_DIR / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    if not path.exists():
        ext_unavailable_reason = f"{path} is not built (run `make core`; it needs this Python's Python.h)"
        return
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.bind(int(ffi.cast("uintptr_t", lib.ec_merkle_root_in_place)))
    except (ImportError, OSError, AttributeError, ValueError) as e:  # a stale or foreign build: cffi path
        ext_unavailable_reason = f"cannot load {path}: {e} (rebuild with `make core`)"
        return
    ext = module

_load()


def available() -> bool:
    return lib is not None


def _need() -> None:
    if lib is None:
        raise RuntimeError(f"the C core is not available: {unavailable_reason}")


def reason(code: int) -> Reason:
    """The spec's :class:`Reason` for a C reason code."""
    name = ffi.string(lib.ec_reason_name(code)).decode()
    if name == "INTERNAL_ERROR":
        raise RuntimeError("the C core reported an internal error")
    return Reason(name)


def _check(code: int, what: str, decode: bool = False) -> None:
    if code:
        r = reason(code)
        raise (DecodeError(r, None, f"{what} (C core)") if decode else Reject(r, None, f"{what} (C core)"))


# -- primitives ----------------------------------------------------------------------------------------


def sha256d(data: bytes) -> bytes:
    _need()
    out = ffi.new("uint8_t[32]")
    lib.ec_sha256d(data, len(data), out)
    return bytes(out)


def hash160(data: bytes) -> bytes:
    _need()
    out = ffi.new("uint8_t[20]")
    _check(lib.ec_hash160(data, len(data), out), "hash160")
    return bytes(out)


def read_varuint(data: bytes) -> int:
    """Decode one VarUint that is the whole of ``data``."""
    _need()
    keep = ffi.from_buffer(data)
    r = ffi.new("ec_reader *", {"data": keep, "len": len(keep), "pos": 0})  # len of the buffer: its bytes
    v = ffi.new("uint64_t *")
    _check(lib.ec_read_varuint(r, v), "VarUint", True)
    _check(lib.ec_finish(r), "VarUint", True)
    return int(v[0])


def read_varbytes(data: bytes, maximum: int) -> bytes:
    """Decode one VarBytes of at most ``maximum`` bytes that is the whole of ``data``."""
    _need()
    keep = ffi.from_buffer(data)
    r = ffi.new("ec_reader *", {"data": keep, "len": len(keep), "pos": 0})
    p = ffi.new("uint8_t **")
    n = ffi.new("size_t *")
    _check(lib.ec_read_varbytes(r, maximum, p, n), "VarBytes", True)
    _check(lib.ec_finish(r), "VarBytes", True)
    return bytes(ffi.buffer(p[0], n[0]))


def b58decode(text: str) -> bytes:
    _need()
    raw = text.encode("utf-8", "surrogatepass")
    out = ffi.new("uint8_t[]", len(raw) + 1)
    n = ffi.new("size_t *")
    _check(lib.ec_b58_decode(raw, len(raw), out, len(raw), n), "base58", True)
    return bytes(out[0:n[0]])


def b58encode(data: bytes) -> str:
    _need()
    cap = 2 * len(data) + 16
    out = ffi.new("char[]", cap)
    n = ffi.new("size_t *")
    _check(lib.ec_b58_encode(data, len(data), out, cap, n), "base58")
    return ffi.string(out, n[0]).decode()


def program_hash_from_address(address: str) -> bytes:
    _need()
    raw = address.encode("utf-8", "surrogatepass")
    out = ffi.new("uint8_t[21]")
    _check(lib.ec_address_decode(raw, len(raw), out), "address", True)
    return bytes(out)


def cbor_decode_json(data: bytes) -> str:
    """The typed-JSON text of a deterministic CBOR item (as :func:`conformance.bindings.cbor_to_json`)."""
    _need()
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    _check(lib.ec_cbor_decode_json(data, len(data), out, n), "CBOR", True)
    try:
        return ffi.string(out[0], n[0]).decode()
    finally:
        lib.ec_free(out[0])


def ecdsa_verify(pubkey: bytes, message: bytes, signature: bytes) -> None:
    _need()
    _check(lib.ec_ecdsa_verify(pubkey, len(pubkey), message, len(message), signature, len(signature)), "ECDSA")


def parse_redeem_script(code: bytes) -> tuple[str, int, tuple[bytes, ...]]:
    """(kind, m, keys) of a redeem script, as :func:`spec.crypto.scripts.parse_redeem_script`."""
    _need()
    s = ffi.new("ec_script *")
    _check(lib.ec_script_parse(code, len(code), s), "redeem script", True)
    return _KIND[s.kind], s.m, tuple(bytes(s.keys[i]) for i in range(s.n))


def program_verify_code(code: bytes, parameter: bytes, message: bytes) -> int:
    """The raw reason code of ``ec_program_verify`` (0 when the program is satisfied)."""
    _need()
    s = ffi.new("ec_script *")
    return int(lib.ec_program_verify(code, len(code), parameter, len(parameter), message, len(message), s))


def script_verify_code(script: spec_scripts.RedeemScript, parameter: bytes, message: bytes) -> int:
    """The raw reason code of ``ec_script_verify`` for a script the spec has parsed."""
    s = ffi.new("ec_script *")
    s.kind = _KIND_CODE[script.kind]
    s.m = script.m
    s.n = len(script.public_keys)
    for i, k in enumerate(script.public_keys[:16]):
        ffi.memmove(s.keys[i], k, 33)
    return int(lib.ec_script_verify(s, parameter, len(parameter), message, len(message)))


# -- chain ---------------------------------------------------------------------------------------------


def chain_params(params: Any) -> Any:
    """The ``ec_chain_params`` of a :class:`spec.chain.params.NetworkParams` (kept alive by the caller)."""
    from spec.chain.params import CR_ASSETS_ADDRESS, CR_EXPENSES_ADDRESS, ELA_ASSET_ID, MAINNET

    _need()
    p = ffi.new("ec_chain_params *")
    ffi.memmove(p.pow_limit, params.pow_limit.to_bytes(32, "big"), 32)
    p.max_tx_per_block = params.max_tx_per_block
    p.max_block_context_size = params.max_block_context_size
    p.max_block_header_size = params.max_block_header_size
    p.max_time_offset = params.max_time_offset
    p.check_address_height = MAINNET.check_address_height
    ffi.memmove(p.ela_asset_id, ELA_ASSET_ID, 32)
    ffi.memmove(p.cr_assets_address, CR_ASSETS_ADDRESS, 21)
    ffi.memmove(p.cr_expenses_address, CR_EXPENSES_ADDRESS, 21)
    return p


def joined_hashes(hashes: list[bytes]) -> bytes:
    """The 32-byte ``hashes`` as one buffer, as the C core takes them; a hash of another length is
    WRONG_LENGTH (checked before the C core reads anything). This is the cffi path's own work in Python
    (:func:`merkle_root_cffi`), which the CPython extension does in C."""
    if set(map(len, hashes)) - {32}:  # one pass in C rather than a Python loop over the hashes
        raise DecodeError(Reason.WRONG_LENGTH, None, "hash: not 32 bytes (C core)")
    joined = b"".join(hashes)
    # len() counts items: a memoryview of wider items (format "I", say) has 32 of them in more than 32 bytes,
    # and each item has at least one byte, so the join is 32 bytes a hash exactly when every hash is
    if len(joined) != 32 * len(hashes):
        raise DecodeError(Reason.WRONG_LENGTH, None, "hash: not 32 bytes (C core)")
    return joined


def merkle_root(hashes: list[bytes]) -> bytes:
    """:func:`spec.chain.merkle.merkle_root` of 32-byte hashes: through the CPython extension when it is
    built and the hashes are a plain list of ``bytes``, else through cffi (:func:`merkle_root_cffi`)."""
    _need()
    if ext is not None:
        root = ext.merkle_root(hashes)
        if root is not None:
            return root
    return merkle_root_cffi(hashes)


def merkle_root_cffi(hashes: list[bytes]) -> bytes:
    """:func:`merkle_root` through cffi alone: the hashes checked and joined in Python, then hashed in C."""
    _need()
    joined = joined_hashes(hashes)
    out = ffi.new("uint8_t[32]")
    _check(lib.ec_merkle_root(joined, len(hashes), out), "merkle root")
    return bytes(out)


class CoreBlock:
    """A block decoded by the C core (the bytes are kept alive with it)."""

    __slots__ = ("data", "_buf", "ptr")

    def __init__(self, data: bytes) -> None:
        _need()
        self.data = data
        self._buf = ffi.from_buffer(data)
        self.ptr = ffi.gc(ffi.new("ec_block *"), lib.ec_block_free)
        _check(lib.ec_block_decode(self._buf, len(self._buf), self.ptr), "block", True)

    def hash(self) -> bytes:
        return bytes(self.ptr.header.hash)

    def txids(self) -> list[bytes]:
        return [bytes(self.ptr.txs[i].txid) for i in range(self.ptr.n_txs)]

    def sanity_code(self, params: Any, now: int) -> int:
        """The raw reason code of ``ec_block_sanity`` (``params`` from :func:`chain_params`)."""
        return int(lib.ec_block_sanity(self.ptr, params, now))

    def check_sanity(self, params: Any, now: int) -> None:
        _check(self.sanity_code(params, now), "block sanity")


def decode_block(data: bytes) -> CoreBlock:
    return CoreBlock(data)


def tx_decode_code(data: bytes) -> tuple[int, bytes | None]:
    """(reason code, txid or None) of ``ec_tx_decode``."""
    _need()
    tx = ffi.gc(ffi.new("ec_tx *"), lib.ec_tx_free)
    code = int(lib.ec_tx_decode(data, len(data), tx))
    return code, (bytes(tx.txid) if code == 0 else None)


def tx_sanity_code(data: bytes, height: int, params: Any) -> int:
    """The reason code of decoding ``data`` as a transaction and then ``ec_tx_sanity``."""
    _need()
    tx = ffi.gc(ffi.new("ec_tx *"), lib.ec_tx_free)
    code = int(lib.ec_tx_decode(data, len(data), tx))
    return code or int(lib.ec_tx_sanity(tx, height, params))


def auxpow_check_code(auxpow: bytes, block_hash: bytes, chain_id: int) -> int:
    """The reason code of decoding an AuxPoW and checking it for ``block_hash`` (32 bytes)."""
    _need()
    keep = ffi.from_buffer(auxpow)
    a = ffi.new("ec_auxpow *")
    code = int(lib.ec_auxpow_decode(keep, len(keep), a))
    return code or int(lib.ec_auxpow_check(a, block_hash, chain_id & 0xFFFF_FFFF))


def pow_check_code(parent_hash: bytes, bits: int, pow_limit: int) -> int:
    _need()
    return int(lib.ec_check_proof_of_work(parent_hash, bits, pow_limit.to_bytes(32, "big")))


# -- p2p messages and sessions ---------------------------------------------------------------------------
# Network indexes follow the generated tables, whose order is the spec's (spec.chain.p2p.NETWORKS and
# spec.chain.params.NETWORKS); command indexes follow spec.chain.p2p.MESSAGE_TYPES.


def p2p_network_index(name: str) -> int:
    from spec.chain import p2p

    return list(p2p.NETWORKS).index(name)


def _command_name(index: int) -> str:
    from spec.chain import p2p

    return list(p2p.MESSAGE_TYPES)[index]


def _c_message(m: Any) -> tuple[Any, list[Any]]:
    """An ``ec_p2p_message`` with the fields of a spec message (and what keeps its buffers alive)."""
    from spec.chain import p2p

    _need()
    c = ffi.new("ec_p2p_message *")
    keep: list[Any] = [c]
    c.command = list(p2p.MESSAGE_TYPES).index(m.command)

    def buf(data: bytes) -> Any:
        b = ffi.new("uint8_t[]", max(1, len(data)))
        ffi.memmove(b, data, len(data))
        keep.append(b)
        return b

    if isinstance(m, p2p.MsgVersion):
        c.version, c.services, c.timestamp, c.port = m.version, m.services, m.timestamp, m.port
        c.nonce, c.height, c.relay = m.nonce, m.height, int(m.relay)
        if m.node_version is not None:
            c.has_node_version, c.node_version, c.node_version_len = 1, buf(m.node_version), len(m.node_version)
    elif isinstance(m, p2p.MsgAddr):
        arr = ffi.new("ec_net_address[]", max(1, len(m.addresses)))
        keep.append(arr)
        for i, a in enumerate(m.addresses):
            arr[i].timestamp, arr[i].services, arr[i].port = a.timestamp, a.services, a.port
            ffi.memmove(arr[i].ip, a.ip, 16)
        c.addresses, c.n_addresses = arr, len(m.addresses)
    elif isinstance(m, p2p.MsgPing):
        c.nonce = m.nonce
    elif isinstance(m, p2p.MsgGetBlocks):
        c.locator, c.n_locator, c.hash_stop = buf(b"".join(m.locator)), len(m.locator), buf(m.hash_stop)
    elif isinstance(m, p2p.MsgInv):
        arr = ffi.new("ec_inv_vect[]", max(1, len(m.inventory)))
        keep.append(arr)
        for i, v in enumerate(m.inventory):
            arr[i].type = v.type
            ffi.memmove(arr[i].hash, v.hash, 32)
        c.inventory, c.n_inventory = arr, len(m.inventory)
    elif isinstance(m, (p2p.MsgBlock, p2p.MsgTx)):
        c.data, c.data_len = buf(m.data), len(m.data)
    elif isinstance(m, p2p.MsgReject):
        c.rejected_command, c.rejected_command_len = buf(m.rejected_command), len(m.rejected_command)
        c.code, c.reason, c.reason_len, c.hash = m.code, buf(m.reason), len(m.reason), buf(m.hash)
    return c, keep


def p2p_encode(network: str, message: Any) -> tuple[int, bytes | None]:
    """(reason code, whole message) of ``ec_p2p_serialize`` and ``ec_p2p_frame`` for a spec message."""
    c, keep = _c_message(message)
    n = ffi.new("size_t *")
    code = int(lib.ec_p2p_serialize(c, ffi.NULL, 0, n))
    if code:
        return code, None
    out = ffi.new("uint8_t[]", 24 + n[0] + 1)
    code = int(lib.ec_p2p_serialize(c, out + 24, n[0], n)) or int(
        lib.ec_p2p_frame(p2p_network_index(network), c.command, out + 24, n[0], out))
    del keep
    return code, (bytes(ffi.buffer(out, 24 + n[0])) if code == 0 else None)


def p2p_decode(data: bytes, network: str) -> tuple[int, str | None, bytes | None]:
    """(reason code, command, the payload the C core re-serializes from what it decoded)."""
    _need()
    m = ffi.new("ec_p2p_message *")
    code = int(lib.ec_p2p_decode(data, len(data), p2p_network_index(network), m))
    if code:
        return code, None, None
    try:
        n = ffi.new("size_t *")
        lib.ec_p2p_serialize(m, ffi.NULL, 0, n)
        out = ffi.new("uint8_t[]", n[0] + 1)
        code = int(lib.ec_p2p_serialize(m, out, n[0], n))
        return code, _command_name(m.command), bytes(ffi.buffer(out, n[0]))
    finally:
        lib.ec_p2p_message_free(m)


def p2p_read_header(data: bytes, network: str) -> tuple[int, tuple[str, int, bytes] | None]:
    _need()
    h = ffi.new("ec_p2p_header *")
    code = int(lib.ec_p2p_read_header(data, len(data), p2p_network_index(network), h))
    return code, ((_command_name(h.command), h.length, bytes(h.checksum)) if code == 0 else None)


def run_session(inbound: bool, local_version: int, local_services: int, local_nonces: Any,
                messages: Any) -> tuple[int, list[tuple[str, ...]], dict[str, Any]]:
    """``ec_session_step`` over ``messages`` (spec messages): (code, replies so far, final session)."""
    _need()
    nonces = ffi.new("uint64_t[]", max(1, len(local_nonces)))
    for i, x in enumerate(local_nonces):
        nonces[i] = x
    s = ffi.new("ec_peer_session *")
    lib.ec_session_init(s, int(inbound), local_version, local_services, nonces, len(local_nonces))
    replies: list[tuple[str, ...]] = []
    keep = []
    for m in messages:
        c, k = _c_message(m)
        keep.append(k)
        code = int(lib.ec_session_step(s, c))
        if code:
            return code, replies, {}
        replies.append(tuple(_command_name(s.replies[i]) for i in range(s.n_replies)))
    state = {"version_received": bool(s.version_received), "verack_received": bool(s.verack_received),
             "protocol_version": s.protocol_version, "services": s.services, "relay": bool(s.relay),
             "height": s.height, "sent_addrs": bool(s.sent_addrs),
             "node_version": bytes(ffi.buffer(s.node_version, s.node_version_len)) if s.has_node_version else None}
    return 0, replies, state


# -- chain state and fork choice ----------------------------------------------------------------------------


def state_network_index(name: str) -> int:
    from spec.chain import params

    return list(params.NETWORKS).index(name)


class CoreState:
    """A chain state of the C core (``ec_chain_state``): genesis, then blocks applied in C."""

    __slots__ = ("ptr",)

    def __init__(self, network: str, _copy_of: "CoreState | None" = None) -> None:
        _need()
        self.ptr = ffi.gc(ffi.new("ec_chain_state *"), lib.ec_state_free)
        if _copy_of is None:
            _check(lib.ec_state_genesis(state_network_index(network), self.ptr), "genesis state")
        else:
            _check(lib.ec_state_copy(_copy_of.ptr, self.ptr), "state copy")

    def copy(self) -> "CoreState":
        return CoreState("", self)

    def apply_code(self, block: bytes, now: int) -> int:
        """The reason code of decoding ``block`` and ``ec_state_apply_block`` (the state is unchanged on a refusal)."""
        b = ffi.gc(ffi.new("ec_block *"), lib.ec_block_free)
        code = int(lib.ec_block_decode(block, len(block), b))
        return code or int(lib.ec_state_apply_block(self.ptr, b, now))

    @property
    def ops(self) -> int:
        """The state's container work so far (``ec_chain_state.ops``: index probes, entries moved or rehashed)."""
        return int(self.ptr.ops)

    def summary(self) -> tuple[bytes, int, int, list[tuple[bytes, int, int, bytes]]]:
        """(tip hash, height, cumulative work, UTXOs sorted by (txid, index) as (txid, index, value, program hash))."""
        s = self.ptr
        lib.ec_state_sort_utxos(s)
        tip = s.headers[s.n_headers - 1]
        utxos = [(bytes(u.txid), u.index, u.value, bytes(u.program_hash)) for u in (s.utxos[i] for i in range(s.n_utxos))]
        return bytes(tip.hash), tip.height, int.from_bytes(bytes(s.work), "big"), utxos


def fork_choice(network: str, blocks: list[bytes], now: int, with_utxos: bool = False,
                steps: list[int] | None = None, state_ops: list[int] | None = None) -> tuple[int, Any]:
    """(code, (tip, height, work, statuses, reasons)) of a C block tree fed ``blocks`` in order, reported as
    the ``ela.fork_choice`` binding does (statuses tip, valid, orphan, invalid, refused or duplicate; reasons:
    Reason values or ``descends_from_invalid``; the tree's ``refused`` log after each block names the blocks it
    refused without remembering them); with
    ``with_utxos``, the best tip's unspent outputs follow as in :meth:`CoreState.summary`. ``steps``, when
    given, receives the tree's step count after each block (``ec_block_tree.steps``), and ``state_ops`` the
    working state's container work (``ec_chain_state.ops``: index probes, entries moved or rehashed), then that
    count once more after the move to the best tip."""
    _need()
    decoded = []
    for data in blocks:
        b = ffi.gc(ffi.new("ec_block *"), lib.ec_block_free)
        code = int(lib.ec_block_decode(data, len(data), b))
        if code:
            return code, None
        decoded.append(b)
    t = ffi.new("ec_block_tree *")
    _check(lib.ec_tree_init(t, state_network_index(network)), "block tree")
    try:
        index = {int(ffi.cast("uintptr_t", b)): i for i, b in enumerate(decoded)}
        refused: dict[int, str] = {}   # input -> the reason it was refused without being remembered
        duplicate: set[int] = set()    # inputs whose hash an earlier input made known (the genesis is known first)
        genesis = bytes(t.nodes[0].hash)
        for i, b in enumerate(decoded):
            r = int(lib.ec_tree_add(t, b, now))
            if r < 0:
                raise RuntimeError("the C core reported an internal error")
            if r == 1 and bytes(b.header.hash) != genesis:
                duplicate.add(i)
            for k in range(t.n_refused):
                refused[index[int(ffi.cast("uintptr_t", t.refused[k].block))]] = reason(t.refused[k].reason).value
            if steps is not None:
                steps.append(int(t.steps))
            if state_ops is not None:
                state_ops.append(int(t.state.ops))
        best = t.nodes[t.best]
        s = lib.ec_tree_best_state(t)
        if s == ffi.NULL:
            raise RuntimeError("the C core reported an internal error")
        if state_ops is not None:
            state_ops.append(int(s.ops))
        tip = s.headers[s.n_headers - 1]
        statuses, reasons = [], []
        for i, b in enumerate(decoded):
            if i in duplicate:
                st = "duplicate"
            elif i in refused:
                st = "refused"
            else:
                node = lib.ec_tree_find(t, b.header.hash)
                st = "tip" if bytes(b.header.hash) == bytes(best.hash) else \
                    {1: "valid", 2: "orphan", 3: "invalid"}[node.status]
            statuses.append(st)
            reasons.append(refused[i] if st == "refused" else None if st != "invalid" else
                           "descends_from_invalid" if node.reason == -2 else reason(node.reason).value)
        out = (bytes(tip.hash), tip.height, int.from_bytes(bytes(s.work), "big"), statuses, reasons)
        if with_utxos:  # sorted by (txid, index) for the answer: the state's own order is its hash index's
            lib.ec_state_sort_utxos(s)
            out += ([(bytes(u.txid), u.index, u.value, bytes(u.program_hash)) for u in (s.utxos[i] for i in range(s.n_utxos))],)
        return 0, out
    finally:
        lib.ec_tree_free(t)


# -- the node's backend hook ----------------------------------------------------------------------------

BACKENDS = ("python", "c")
_backend: contextvars.ContextVar[str] = contextvars.ContextVar("elastos_backend", default="python")
_decoded: contextvars.ContextVar[dict[int, Any] | None] = contextvars.ContextVar("elastos_decoded", default=None)
"""Within one ``use_backend("c")`` block: id(tx) -> (tx, its C decoding), so that sanity and signatures
decode a transaction once (the transaction is held, so its id cannot be reused meanwhile)."""
_presigned: contextvars.ContextVar[dict[int, tuple[Any, tuple[bytes, ...], Any]] | None] = contextvars.ContextVar(
    "elastos_presigned", default=None)
"""Within one :func:`use_verdicts` block: id(tx) -> (tx, the program hashes of its referenced outputs, its
verdict from :mod:`reference.parallel`)."""
_install_lock = threading.Lock()
_installed = False
_spec_check_signatures: Any = None
_spec_check_tx_sanity: Any = None
_spec_check_tx_context: Any = None
_spec_check_block_sanity: Any = None


def _c_tx(tx: Any) -> tuple[int, Any]:
    """(reason code, ``ec_tx *``) of decoding a spec transaction's bytes in C (freed when collected)."""
    cache = _decoded.get()
    hit = cache.get(id(tx)) if cache is not None else None
    if hit is not None:
        return hit[1], hit[2]
    data = tx.serialize()
    c_tx = ffi.gc(ffi.new("ec_tx *"), lib.ec_tx_free)
    buf = ffi.from_buffer(data)
    code = int(lib.ec_tx_decode(buf, len(data), c_tx))
    if cache is not None:
        cache[id(tx)] = (tx, code, c_tx, buf, data)  # the decoding points into data: keep it alive with it
    else:
        _keep[c_tx] = buf
    return code, c_tx


_keep: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""The buffer a C decoding points into, alive as long as the decoding (outside a cache)."""


def signatures_code(tx: Any, references: Any) -> int:
    """The raw reason code of ``ec_check_signatures`` for a spec transaction and its referenced outputs."""
    code, c_tx = _c_tx(tx)
    if code:
        return code
    refs = b"".join(o.program_hash for o in references)
    return int(lib.ec_check_signatures(c_tx, refs, len(references)))


_params_cache: dict[int, tuple[Any, Any]] = {}


def _c_params(params: Any) -> Any:
    hit = _params_cache.get(id(params))
    if hit is None or hit[0] is not params:
        hit = (params, chain_params(params))
        _params_cache[id(params)] = hit
    return hit[1]


T = TypeVar("T")


def _c_rejected(name: str, spec_check: Callable[[], T], what: str) -> T:
    """The C core refused: the spec's own function (``spec_check``) raises the normative Reject. Should it
    accept, its result stands and the disagreement is recorded in :data:`DISAGREEMENTS`."""
    STATS["c_rejects"] += 1
    result = spec_check()
    DISAGREEMENTS.append((name, f"C rejected, spec accepted: {what}"))
    return result


def check_signatures(tx: Any, references: Any, unsigned: bytes | None = None) -> None:
    """:func:`spec.chain.validation.check_signatures` with its accepting path in C when the backend is ``c``.

    A rejection (or a transaction the C decoder refuses) is handed to the spec's own function,
    which raises the normative :class:`~spec.errors.Reject`.
    """
    presigned = _presigned.get()
    if presigned is not None:
        hit = presigned.get(id(tx))
        # the verdict is the spec's on this very transaction with outputs of these program hashes (all the
        # signature rules read of them); anything else is checked here
        if hit is not None and hit[0] is tx and hit[1] == tuple(o.program_hash for o in references):
            STATS["presigned"] += 1
            if hit[2] is None:
                return None
            from reference.parallel import reject_of

            raise reject_of(hit[2])
    if _backend.get() == "c" and lib is not None:
        if signatures_code(tx, references) == 0:
            STATS["c_accepts"] += 1
            return None
        return _c_rejected("check_signatures", lambda: _spec_check_signatures(tx, references, unsigned),
                           f"txid {tx.txid()[::-1].hex()}")
    return _spec_check_signatures(tx, references, unsigned)


def check_tx_sanity(tx: Any, height: int, params: Any) -> None:
    """:func:`spec.chain.validation.check_tx_sanity` with its accepting path in C when the backend is ``c``."""
    if _backend.get() == "c" and lib is not None:
        code, c_tx = _c_tx(tx)
        if code == 0 and lib.ec_tx_sanity(c_tx, height, _c_params(params)) == 0:
            STATS["c_accepts"] += 1
            return None
        return _c_rejected("check_tx_sanity", lambda: _spec_check_tx_sanity(tx, height, params),
                           f"txid {tx.txid()[::-1].hex()}")
    return _spec_check_tx_sanity(tx, height, params)


def check_block_sanity(block: Any, params: Any, now: int) -> None:
    """:func:`spec.chain.validation.check_block_sanity` with its accepting path in C when the backend is ``c``.

    The block's bytes are decoded and checked by ``ec_block_sanity`` (every rule of the spec's function);
    when C accepts, its decodings of the transactions are kept for the transaction hooks of the same
    ``use_backend`` block, so that none is serialised and decoded again. A rejection, or bytes the C decoder
    refuses, is handed to the spec's own function, which raises the normative :class:`~spec.errors.Reject`.
    """
    if _backend.get() == "c" and lib is not None:
        data = block.serialize()
        buf = ffi.from_buffer(data)
        c_block = ffi.gc(ffi.new("ec_block *"), lib.ec_block_free)
        if int(lib.ec_block_decode(buf, len(data), c_block)) == 0 \
                and int(lib.ec_block_sanity(c_block, _c_params(params), now)) == 0:
            STATS["c_accepts"] += 1
            cache = _decoded.get()
            if cache is not None:
                keep = (c_block, buf, data)
                for i, tx in enumerate(block.transactions):
                    cache[id(tx)] = (tx, 0, c_block.txs + i, keep, None)
            return None
        return _c_rejected("check_block_sanity", lambda: _spec_check_block_sanity(block, params, now),
                           f"block {block.hash()[::-1].hex()}")
    return _spec_check_block_sanity(block, params, now)


_network_cache: dict[int, tuple[Any, int | None]] = {}


def c_network(params: Any) -> int | None:
    """The index of the generated network whose parameters are ``params`` (its cross-chain arbiters aside,
    which a C view carries itself), or ``None`` when ``params`` is no network the core was built with."""
    hit = _network_cache.get(id(params))
    if hit is None or hit[0] is not params:
        from spec.chain import params as P

        plain = params.model_copy(update={"cross_chain_arbiters": ()})
        index = None
        if params.name in P.NETWORKS and plain == P.network(params.name).model_copy(update={"cross_chain_arbiters": ()}):
            index = state_network_index(params.name)
        hit = (params, index)
        _network_cache[id(params)] = hit
    return hit[1]


def tx_context_code(tx: Any, height: int, view: Any, params: Any) -> tuple[int, int] | None:
    """(reason code, fee) of ``ec_tx_context`` for a spec transaction against a spec
    :class:`~spec.chain.validation.ChainView`, or ``None`` when ``params`` is no network of the core.

    The C view is loaded with what the transaction names and nothing else: the entries of its
    inputs (``view.utxo``), the output counts of its own txid and of every referenced txid
    (``view.output_count``), the sidechain hashes a WithdrawFromSideChain (v0) names that
    ``view.sidechain_tx_withdrawn`` reports, and the network's cross-chain arbiters. Every decision
    on them is the C core's.
    """
    from spec.chain.tx import TxType, WithdrawFromSideChainPayload

    network = c_network(params)
    if network is None:
        return None
    code, c_tx = _c_tx(tx)
    if code:
        return code, 0
    scratch = _scratch()
    s, u, fee = scratch.state, scratch.utxo, scratch.fee
    lib.ec_state_init(s, network)
    try:
        s.arbiters, s.n_arbiters = _c_arbiters(params)
        rc = 0
        counted = set()
        txid = tx.txid()
        n = view.output_count(txid)
        if n is not None:
            rc = int(lib.ec_state_add_tx_count(s, txid, n))
        counted.add(txid)
        for inp in tx.inputs:
            prev = inp.previous
            t, i = prev.txid, prev.index
            e = view.utxo(t, i)
            if e is not None:
                o = e.output
                u.txid, u.program_hash = t, o.program_hash
                u.index, u.value, u.output_lock, u.height = i, o.value, o.output_lock, e.height
                u.coinbase, u.tx_lock_time, u.new_sidechain_pow = e.coinbase, e.tx_lock_time, e.new_sidechain_pow
                rc = rc or int(lib.ec_state_add_utxo(s, u))
            if t not in counted:
                counted.add(t)
                n = view.output_count(t)
                if n is not None:
                    rc = rc or int(lib.ec_state_add_tx_count(s, t, n))
        if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN and tx.payload_version == 0 \
                and isinstance(tx.payload, WithdrawFromSideChainPayload):
            for h in tx.payload.sidechain_tx_hashes:
                if view.sidechain_tx_withdrawn(h):
                    rc = rc or int(lib.ec_state_add_withdrawn(s, h))
        if rc:
            raise RuntimeError("the C core reported an internal error while loading a view")
        code = int(lib.ec_tx_context(c_tx, height, s, fee))
        return code, int(fee[0])
    finally:
        s.arbiters, s.n_arbiters = ffi.NULL, 0
        lib.ec_state_free(s)


class _Scratch(threading.local):
    """Per thread: the C state a transaction's view is loaded into (emptied after each use), an output
    record and a fee cell, so that checking a transaction allocates none of them."""

    def __init__(self) -> None:
        self.state = ffi.new("ec_chain_state *")
        self.utxo = ffi.new("ec_utxo *")
        self.fee = ffi.new("int64_t *")


_scratch_local: _Scratch | None = None


def _scratch() -> _Scratch:
    global _scratch_local
    if _scratch_local is None:
        _scratch_local = _Scratch()
    return _scratch_local


_arbiters_cache: dict[int, tuple[Any, Any, Any, int]] = {}


def _c_arbiters(params: Any) -> tuple[Any, int]:
    """The network's cross-chain arbiters as a C array (kept with the buffers it points into)."""
    hit = _arbiters_cache.get(id(params))
    if hit is None or hit[0] is not params:
        arbiters = params.cross_chain_arbiters
        keys = [ffi.from_buffer(k) for k in arbiters]
        arr = ffi.new("ec_arbiter[]", max(1, len(arbiters)))
        for i, k in enumerate(arbiters):
            arr[i].key, arr[i].len = keys[i], len(k)
        hit = (params, keys, arr, len(arbiters))
        _arbiters_cache[id(params)] = hit
    return hit[2], hit[3]


def check_tx_context(tx: Any, height: int, view: Any, params: Any) -> int:
    """:func:`spec.chain.validation.check_tx_context` with its accepting path in C when the backend is ``c``.

    The C core decides on a view of what the transaction names (:func:`tx_context_code`); when it
    accepts, its fee is the answer. A rejection is handed to the spec's own function, which raises
    the normative :class:`~spec.errors.Reject`. Parameters that are no network the core was built
    with (another fee, maturity or height) are the spec's alone (counted in ``STATS["spec_only"]``).
    """
    if _backend.get() == "c" and lib is not None:
        got = tx_context_code(tx, height, view, params)
        if got is None:
            STATS["spec_only"] += 1
            return _spec_check_tx_context(tx, height, view, params)
        if got[0] == 0:
            STATS["c_accepts"] += 1
            return got[1]
        return _c_rejected("check_tx_context", lambda: _spec_check_tx_context(tx, height, view, params),
                           f"txid {tx.txid()[::-1].hex()}")
    return _spec_check_tx_context(tx, height, view, params)


def _install() -> None:
    """Route ``spec.chain.validation``'s ``check_block_sanity``, ``check_signatures``, ``check_tx_sanity`` and
    ``check_tx_context`` through :func:`check_block_sanity`, :func:`check_signatures`, :func:`check_tx_sanity`
    and :func:`check_tx_context` (once)."""
    global _installed, _spec_check_signatures, _spec_check_tx_sanity, _spec_check_tx_context, _spec_check_block_sanity
    with _install_lock:
        if _installed:
            return
        import spec.chain.validation as validation

        # the spec's own functions, kept on the module the first time, so that a reload of this module (as
        # the tests do after building the core) never takes its own earlier hooks for the spec's functions
        originals = validation.__dict__.setdefault(
            "_spec_functions", (validation.check_signatures, validation.check_tx_sanity, validation.check_tx_context,
                                validation.check_block_sanity))
        _spec_check_signatures, _spec_check_tx_sanity, _spec_check_tx_context, _spec_check_block_sanity = originals
        validation.check_block_sanity = check_block_sanity  # type: ignore[assignment]
        validation.check_signatures = check_signatures  # type: ignore[assignment]
        validation.check_tx_sanity = check_tx_sanity  # type: ignore[assignment]
        validation.check_tx_context = check_tx_context  # type: ignore[assignment]
        _installed = True


@contextlib.contextmanager
def use_verdicts(verdicts: dict[int, tuple[Any, tuple[bytes, ...], Any]]) -> Iterator[None]:
    """Within the block (this thread or task only), the spec's signature checks take the verdicts computed
    beforehand (by :class:`reference.parallel.ParallelChecker`) for the transactions they name, keyed by
    ``id(tx)``: ``(tx, the program hashes of its referenced outputs, verdict)``. A transaction not named,
    or checked against outputs of other program hashes, is checked as usual."""
    _install()
    token = _presigned.set(verdicts)
    try:
        yield
    finally:
        _presigned.reset(token)


def resolve_backend(name: str | None) -> str:
    """``python``, ``c`` or ``auto`` (C when available); ``None`` reads ``ELASTOS_BACKEND`` (default python)."""
    name = name or os.environ.get("ELASTOS_BACKEND", "python")
    if name == "auto":
        return "c" if available() else "python"
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or auto, not {name!r}")
    if name == "c" and not available():
        raise RuntimeError(f"the C backend is not available: {unavailable_reason}")
    return name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Within the block (this thread or task only), the spec's signature checks use ``name``."""
    if name == "c":
        _need()
        _install()
    token = _backend.set(name)
    cache = _decoded.set({} if name == "c" else None)
    try:
        yield
    finally:
        _decoded.reset(cache)
        _backend.reset(token)


__all__ = [
    "BACKENDS", "CoreBlock", "CoreState", "fork_choice", "p2p_decode", "p2p_encode", "p2p_read_header",
    "run_session", "DISAGREEMENTS", "STATS", "auxpow_check_code", "available", "b58decode",
    "b58encode", "c_network", "cbor_decode_json", "chain_params", "check_block_sanity", "check_signatures", "check_tx_context", "decode_block", "ecdsa_verify",
    "hash160", "joined_hashes", "merkle_root", "merkle_root_cffi", "parse_redeem_script", "pow_check_code", "program_hash_from_address",
    "program_verify_code", "read_varbytes", "read_varuint", "reason", "resolve_backend", "script_verify_code",
    "sha256d", "signatures_code", "tx_context_code", "tx_decode_code", "tx_sanity_code", "unavailable_reason", "use_backend", "use_verdicts",
]
