"""The AuxPoW: the Bitcoin parent block that merge-mines an ELA block, and its check.

Upstream: ``Elastos.ELA/auxpow/auxpow.go`` (``AuxPow``, ``Check``, ``GetMerkleRoot``,
``GetExpectedIndex``), ``auxpow/btctx.go``, ``auxpow/btcheader.go``.

An ELA block commits to nothing about Bitcoin; instead a Bitcoin miner puts the ELA block hash
(or the root of a merkle tree of several aux chains' hashes) into the script of its coinbase
input, after the magic ``fabe6d6d``. The AuxPoW carries that coinbase, the merkle branch from it to
the Bitcoin header, the aux-chain branch, and the 80-byte Bitcoin header whose hash is the proof of
work (:func:`spec.chain.pow.check_proof_of_work`).

Wire layout
-----------

=====  ==========================  ==============================================================
order  field                       encoding
=====  ==========================  ==============================================================
1      ``par_coinbase_tx``         :class:`BtcTx` (Bitcoin's legacy layout, no segwit)
2      ``parent_hash``             32 bytes, carried and never checked
3      ``par_coinbase_branch``     VarUint count, then 32 bytes each
4      ``par_merkle_index``        u32
5      ``aux_merkle_branch``       VarUint count, then 32 bytes each
6      ``aux_merkle_index``        u32
7      ``par_block_header``        :class:`BtcHeader`, 80 bytes
=====  ==========================  ==============================================================

:class:`BtcTx` is ``i32 version | VarUint n | n inputs | VarUint m | m outputs | u32 lock_time``;
an input is ``previous_hash(32) | u32 previous_index | VarBytes script (<= 10000) | u32
sequence``; an output is ``i64 value | VarBytes pk_script (<= 10000)``. The counts of inputs,
outputs and branch hashes have no maximum of their own (upstream reads them with
``ReadVarUint(r, 0)``); they are bounded by the bytes present.

The zero AuxPoW (every field zero or empty, 132 bytes) is the genesis block's.

The check
---------

:func:`check_auxpow` is upstream's ``AuxPow.Check(hash, chainID)``, called with the ELA block hash
(stored order) and chain ID 1224:

1. ``merkle_branch_root(sha256d(par_coinbase_tx), par_coinbase_branch, par_merkle_index)`` is the
   parent header's merkle root ([AUX-001]).
2. ``root = merkle_branch_root(reverse(block_hash), aux_merkle_branch, aux_merkle_index)``; the
   **needle** is ``hex(reverse(root))``: with an empty branch, the block hash's stored-order hex.
3. ``script`` is the first input's script ([AUX-002]); ``text = script.hex()`` (lower case). Every
   search is a search in ``text``, so a match may start in the middle of a byte:

   * ``hi = text.find("fabe6d6d")`` ([AUX-003]) and ``ri = text.find(needle)`` ([AUX-004]);
   * the magic does not occur in ``text[hi + 2:]`` ([AUX-005]);
   * ``ri == hi + 8``: the first occurrence of the needle follows the magic ([AUX-006]);
   * ``ri += 64``; ``len(text) - ri >= 8`` ([AUX-007]);
   * ``size``, the LE u32 at ``script[ri // 2 : ri // 2 + 4]``, is ``uint32(1 << len(aux_merkle_branch))``
     ([AUX-008]);
   * the ``nonce`` is the LE u32 at ``script[ri // 2 + 4 : ri // 2 + 8]`` ([AUX-009]);
   * ``aux_merkle_index == expected_index(nonce, chain_id, len(aux_merkle_branch))`` ([AUX-010],
     [AUX-011]).

Quirk: ``ri // 2`` is Go's integer division; when the magic starts on an odd nibble, ``ri`` is odd
and the size field starts in the byte that holds the last nibble of the root.

Not checked, unlike Namecoin: the chain ID in the parent's version, that the magic lies in the
first 20 bytes, that the parent transaction is a real coinbase or at index 0 of its block, and the
parent header's own bits.

Constants
---------

=========================  ===================  ============================================
name                       value                meaning
=========================  ===================  ============================================
``AUXPOW_CHAIN_ID``        1224                 the chain ID of ELA (``AuxPowChainID``)
``MERGED_MINING_HEADER``   ``fa be 6d 6d``      magic before the aux root ("\\xfa\\xbe" "mm")
``MAX_SCRIPT_SIZE``        10 000               bytes of a script or pk_script (``MaxScriptSize``)
``BTC_HEADER_SIZE``        80                   bytes of a Bitcoin header
``ZERO_AUXPOW_SIZE``       132                  bytes of the zero AuxPoW
``LCG_MULTIPLIER``         1 103 515 245        of the expected-index generator
``LCG_INCREMENT``          12 345               of the expected-index generator
=========================  ===================  ============================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, Self

from pydantic import Field

from spec.chain.merkle import merkle_branch_root
from spec.crypto.hashes import sha256d
from spec.encoding.hashes import R_FIXED_SIZE  # noqa: F401  (ENC-006 is raised here too)
from spec.encoding.primitives import (
    U32_MAX,
    Reader,
    encode_int,
    encode_varbytes,
    encode_varuint,
    read_i32,
    read_i64,
    read_u32,
    read_varbytes,
    read_varuint,
)
from spec.errors import DecodeError, Reason, Reject, rule
from spec.model import SpecModel

__all__ = [
    "AUXPOW_CHAIN_ID",
    "MERGED_MINING_HEADER",
    "MAX_SCRIPT_SIZE",
    "BTC_HEADER_SIZE",
    "ZERO_AUXPOW_SIZE",
    "LCG_MULTIPLIER",
    "LCG_INCREMENT",
    "BtcTxIn",
    "BtcTxOut",
    "BtcTx",
    "BtcHeader",
    "AuxPow",
    "zero_auxpow",
    "expected_index",
    "aux_merkle_root",
    "check_auxpow",
    "build_parent_coinbase_script",
    "make_auxpow",
    "with_parent_nonce",
]

AUXPOW_CHAIN_ID: Final = 1224
MERGED_MINING_HEADER: Final = bytes.fromhex("fabe6d6d")
MAX_SCRIPT_SIZE: Final = 10_000
BTC_HEADER_SIZE: Final = 80
ZERO_AUXPOW_SIZE: Final = 132
LCG_MULTIPLIER: Final = 1_103_515_245
LCG_INCREMENT: Final = 12_345
HASH_SIZE: Final = 32

_MAGIC_HEX: Final = MERGED_MINING_HEADER.hex()
_ROOT_HEX_LEN: Final = 2 * HASH_SIZE

Hash32 = Annotated[bytes, Field(min_length=HASH_SIZE, max_length=HASH_SIZE)]
U32 = Annotated[int, Field(ge=0, le=U32_MAX)]
I32 = Annotated[int, Field(ge=-(1 << 31), le=(1 << 31) - 1)]
I64 = Annotated[int, Field(ge=-(1 << 63), le=(1 << 63) - 1)]
Script = Annotated[bytes, Field(max_length=MAX_SCRIPT_SIZE)]

_AUX = "AuxPow.Check returns false: \"block check aux pow failed\""

R_PARENT_MERKLE = rule(
    "AUX-001", Reason.AUXPOW_PARENT_MERKLE_MISMATCH,
    "The parent coinbase's hash folded with the coinbase branch at par_merkle_index is the parent "
    "header's merkle root.",
    suite="chain", upstream=_AUX,
    note="Quirk: par_merkle_index need not be 0, so the transaction need not be the parent's coinbase.",
)
R_NO_INPUT = rule(
    "AUX-002", Reason.AUXPOW_NO_COINBASE_INPUT,
    "The parent coinbase transaction has at least one input.",
    suite="chain", upstream="AuxPow.Check reads ParCoinbaseTx.TxIn[0]",
    note="Deviation: upstream indexes TxIn[0] unchecked and panics on a transaction without inputs; "
    "the spec rejects.",
)
R_MAGIC = rule(
    "AUX-003", Reason.AUXPOW_MAGIC_MISSING,
    "The hex of the first input's script contains the merged-mining magic fabe6d6d.",
    suite="chain", upstream=_AUX,
    note="Quirk: the search is on the hex text, so the magic may start on an odd nibble.",
)
R_ROOT = rule(
    "AUX-004", Reason.AUXPOW_ROOT_MISSING,
    "The hex of the first input's script contains the hex of the reversed aux merkle root.",
    suite="chain", upstream=_AUX,
    note="Quirk: the search is on the hex text, so the root may start on an odd nibble. When both "
    "the magic and the root are missing, the spec reports the magic (AUX-003).",
)
R_MAGIC_ONCE = rule(
    "AUX-005", Reason.AUXPOW_MAGIC_REPEATED,
    "The magic does not occur again in the script's hex after the first occurrence (the search "
    "resumes 2 hex digits after it).",
    suite="chain", upstream=_AUX,
)
R_ROOT_AFTER_MAGIC = rule(
    "AUX-006", Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC,
    "The first occurrence of the root's hex starts exactly 8 hex digits after the magic's.",
    suite="chain", upstream=_AUX,
    note="Quirk: only the first occurrence of the root counts; a copy of it earlier in the script "
    "fails the check even if another copy follows the magic.",
)
R_SIZE_PRESENT = rule(
    "AUX-007", Reason.AUXPOW_SCRIPT_TOO_SHORT,
    "At least 8 hex digits of the script follow the root.",
    suite="chain", upstream=_AUX,
)
R_SIZE = rule(
    "AUX-008", Reason.AUXPOW_MERKLE_SIZE_MISMATCH,
    "The little-endian u32 after the root is uint32(1 << len(aux_merkle_branch)).",
    suite="chain", upstream=_AUX,
    note="Quirk: when the root ends in the middle of a byte, the size is read from the byte that "
    "holds its last hex digit (Go's rootHashIndex/2 rounds down); for a branch of 32 or more "
    "hashes uint32(1 << n) is 0.",
)
R_NONCE_PRESENT = rule(
    "AUX-009", Reason.AUXPOW_SCRIPT_TOO_SHORT,
    "The script holds the 4-byte nonce after the merkle size.",
    suite="chain", upstream="AuxPow.Check slices script[ri/2+4 : ri/2+8]",
    note="Deviation: upstream checks only that the size field is present and then slices past the "
    "end of a script that ends inside the nonce, which panics; the spec rejects.",
)
R_INDEX = rule(
    "AUX-010", Reason.AUXPOW_INDEX_MISMATCH,
    "aux_merkle_index equals expected_index(nonce, chain_id, len(aux_merkle_branch)).",
    suite="chain", upstream=_AUX,
)
R_BRANCH_LENGTH = rule(
    "AUX-011", Reason.AUXPOW_BRANCH_TOO_LONG,
    "An expected index exists only for a branch length h with uint32(h) < 32.",
    suite="chain", upstream="GetExpectedIndex: rand % (1 << uint32(h))",
    note="Deviation: for h >= 32 the uint32 modulus is 0 and upstream panics (integer divide by "
    "zero); the spec rejects.",
)


def _check_hash(h: bytes, what: str) -> None:
    # [ENC-006] a hash is exactly 32 bytes
    if len(h) != HASH_SIZE:
        raise DecodeError(Reason.WRONG_LENGTH, "ENC-006", f"{what}: {len(h)} bytes, need {HASH_SIZE}")


def _read_hashes(r: Reader, what: str) -> tuple[bytes, ...]:
    count = read_varuint(r, f"{what} count")
    # each read is bounds-checked, so a huge count fails at the first missing hash
    return tuple(r.read(HASH_SIZE, what) for _ in range(count))


def _encode_hashes(hashes: Sequence[bytes]) -> bytes:
    return encode_varuint(len(hashes)) + b"".join(hashes)


# -- the Bitcoin parent -----------------------------------------------------------------------------


class BtcTxIn(SpecModel):
    """An input of a Bitcoin transaction (``BtcTxIn``)."""

    previous_hash: Hash32
    """Hash of the spent transaction (all zero in a coinbase)."""
    previous_index: U32
    """Output index spent (``0xffffffff`` in a coinbase)."""
    signature_script: Script
    """The script; in the parent coinbase it carries the merged-mining commitment."""
    sequence: U32
    """Sequence number."""

    def serialize(self) -> bytes:
        return (self.previous_hash + encode_int(self.previous_index, "u32")
                + encode_varbytes(self.signature_script) + encode_int(self.sequence, "u32"))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(
            previous_hash=r.read(HASH_SIZE, "btc input previous hash"),
            previous_index=read_u32(r, "btc input previous index"),
            signature_script=read_varbytes(r, MAX_SCRIPT_SIZE, "btc input signature script"),
            sequence=read_u32(r, "btc input sequence"),
        )


class BtcTxOut(SpecModel):
    """An output of a Bitcoin transaction (``BtcTxOut``)."""

    value: I64
    """Satoshis (signed, as upstream reads them)."""
    pk_script: Script
    """The output script."""

    def serialize(self) -> bytes:
        return encode_int(self.value, "i64") + encode_varbytes(self.pk_script)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(value=read_i64(r, "btc output value"),
                   pk_script=read_varbytes(r, MAX_SCRIPT_SIZE, "btc output pk script"))


class BtcTx(SpecModel):
    """A Bitcoin transaction in the legacy (pre-segwit) layout (``BtcTx``)."""

    version: I32
    """Transaction version."""
    tx_in: tuple[BtcTxIn, ...]
    """Inputs; the check reads the first one's script."""
    tx_out: tuple[BtcTxOut, ...]
    """Outputs; not looked at by the check."""
    lock_time: U32
    """Lock time."""

    def serialize(self) -> bytes:
        return (encode_int(self.version, "i32")
                + encode_varuint(len(self.tx_in)) + b"".join(i.serialize() for i in self.tx_in)
                + encode_varuint(len(self.tx_out)) + b"".join(o.serialize() for o in self.tx_out)
                + encode_int(self.lock_time, "u32"))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        version = read_i32(r, "btc tx version")
        tx_in = tuple(BtcTxIn.deserialize(r) for _ in range(read_varuint(r, "btc input count")))
        tx_out = tuple(BtcTxOut.deserialize(r) for _ in range(read_varuint(r, "btc output count")))
        return cls(version=version, tx_in=tx_in, tx_out=tx_out, lock_time=read_u32(r, "btc tx lock time"))

    def hash(self) -> bytes:
        """``sha256d`` of the serialization: the txid in stored order."""
        return sha256d(self.serialize())


class BtcHeader(SpecModel):
    """An 80-byte Bitcoin block header (``BtcHeader``)."""

    version: U32
    """Block version (u32 here; Bitcoin reads it as i32, the bytes are the same)."""
    previous: Hash32
    """Hash of the previous Bitcoin block."""
    merkle_root: Hash32
    """Merkle root of the Bitcoin block's transactions."""
    timestamp: U32
    """Unix seconds."""
    bits: U32
    """The Bitcoin target; never checked by ELA."""
    nonce: U32
    """What the miner grinds."""

    def serialize(self) -> bytes:
        return (encode_int(self.version, "u32") + self.previous + self.merkle_root
                + encode_int(self.timestamp, "u32") + encode_int(self.bits, "u32") + encode_int(self.nonce, "u32"))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(version=read_u32(r, "btc header version"), previous=r.read(HASH_SIZE, "btc header previous"),
                   merkle_root=r.read(HASH_SIZE, "btc header merkle root"),
                   timestamp=read_u32(r, "btc header timestamp"), bits=read_u32(r, "btc header bits"),
                   nonce=read_u32(r, "btc header nonce"))

    def hash(self) -> bytes:
        """``sha256d`` of the 80 bytes, stored order: the value the proof of work is about."""
        return sha256d(self.serialize())


class AuxPow(SpecModel):
    """The merged-mining proof of an ELA block (``auxpow.AuxPow``), in wire order."""

    par_coinbase_tx: BtcTx
    """The parent block's transaction whose first input carries the commitment."""
    parent_hash: Hash32
    """Serialized and carried, never checked (upstream's vectors hold the reversed parent hash)."""
    par_coinbase_branch: tuple[Hash32, ...]
    """Merkle branch from the coinbase to the parent header's merkle root (``ParCoinBaseMerkle``)."""
    par_merkle_index: U32
    """The coinbase's position for that branch (``ParMerkleIndex``)."""
    aux_merkle_branch: tuple[Hash32, ...]
    """Merkle branch from the reversed ELA block hash to the aux root (``AuxMerkleBranch``)."""
    aux_merkle_index: U32
    """The ELA block's slot in the aux tree (``AuxMerkleIndex``)."""
    par_block_header: BtcHeader
    """The Bitcoin header whose hash is the proof of work."""

    def serialize(self) -> bytes:
        return (self.par_coinbase_tx.serialize() + self.parent_hash
                + _encode_hashes(self.par_coinbase_branch) + encode_int(self.par_merkle_index, "u32")
                + _encode_hashes(self.aux_merkle_branch) + encode_int(self.aux_merkle_index, "u32")
                + self.par_block_header.serialize())

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        tx = BtcTx.deserialize(r)
        parent_hash = r.read(HASH_SIZE, "auxpow parent hash")
        par_branch = _read_hashes(r, "auxpow coinbase branch")
        par_index = read_u32(r, "auxpow coinbase index")
        aux_branch = _read_hashes(r, "auxpow aux branch")
        aux_index = read_u32(r, "auxpow aux index")
        header = BtcHeader.deserialize(r)
        return cls(par_coinbase_tx=tx, parent_hash=parent_hash, par_coinbase_branch=par_branch,
                   par_merkle_index=par_index, aux_merkle_branch=aux_branch, aux_merkle_index=aux_index,
                   par_block_header=header)


def zero_auxpow() -> AuxPow:
    """The zero AuxPoW of the genesis block: 132 bytes, every field zero or empty."""
    return AuxPow(
        par_coinbase_tx=BtcTx(version=0, tx_in=(), tx_out=(), lock_time=0), parent_hash=bytes(HASH_SIZE),
        par_coinbase_branch=(), par_merkle_index=0, aux_merkle_branch=(), aux_merkle_index=0,
        par_block_header=BtcHeader(version=0, previous=bytes(HASH_SIZE), merkle_root=bytes(HASH_SIZE),
                                   timestamp=0, bits=0, nonce=0),
    )


# -- the check -------------------------------------------------------------------------------------


def _pow2_u32(h: int) -> int:
    """Go's ``uint32(1 << uint32(h))``: 0 once the shift reaches 32."""
    shift = h & U32_MAX
    return 1 << shift if shift < 32 else 0


def expected_index(nonce: int, chain_id: int, h: int) -> int:
    """``GetExpectedIndex``: the aux-tree slot a chain must use for ``nonce`` and branch length ``h``.

    ``r = nonce * 1103515245 + 12345``; ``r += chain_id``; ``r = r * 1103515245 + 12345``, all
    modulo 2**32; the result is ``r % (1 << h)``.
    """
    modulus = _pow2_u32(h)
    # [AUX-011] an expected index exists only for a branch shorter than 32 hashes
    if modulus == 0:
        raise Reject(Reason.AUXPOW_BRANCH_TOO_LONG, "AUX-011", f"branch length {h}: uint32(1 << h) is 0")
    r = (nonce * LCG_MULTIPLIER + LCG_INCREMENT) & U32_MAX
    r = (r + chain_id) & U32_MAX
    r = (r * LCG_MULTIPLIER + LCG_INCREMENT) & U32_MAX
    return r % modulus


def aux_merkle_root(block_hash: bytes, branch: Sequence[bytes], index: int) -> bytes:
    """The aux root as ``Check`` computes it: ``GetMerkleRoot(reverse(block_hash), branch, index)``."""
    _check_hash(block_hash, "block hash")
    return merkle_branch_root(block_hash[::-1], branch, index)


def check_auxpow(auxpow: AuxPow, block_hash: bytes, chain_id: int) -> None:
    """``AuxPow.Check(block_hash, chain_id)``: raise :class:`~spec.errors.Reject` unless it holds.

    ``block_hash`` is the ELA block hash in stored order; ``chain_id`` is 1224 on the main chain
    (converted to u32 as upstream does).
    """
    _check_hash(block_hash, "block hash")
    parent_root = merkle_branch_root(auxpow.par_coinbase_tx.hash(), auxpow.par_coinbase_branch,
                                     auxpow.par_merkle_index)
    # [AUX-001] the coinbase branch leads to the parent header's merkle root
    if parent_root != auxpow.par_block_header.merkle_root:
        raise Reject(Reason.AUXPOW_PARENT_MERKLE_MISMATCH, "AUX-001",
                     f"branch gives {parent_root.hex()}, header has {auxpow.par_block_header.merkle_root.hex()}")
    needle = aux_merkle_root(block_hash, auxpow.aux_merkle_branch, auxpow.aux_merkle_index)[::-1].hex()
    # [AUX-002] the parent coinbase has an input (upstream would panic)
    if len(auxpow.par_coinbase_tx.tx_in) == 0:
        raise Reject(Reason.AUXPOW_NO_COINBASE_INPUT, "AUX-002", "parent coinbase has no input")
    script = auxpow.par_coinbase_tx.tx_in[0].signature_script
    text = script.hex()
    hi = text.find(_MAGIC_HEX)
    ri = text.find(needle)
    # [AUX-003] the magic occurs in the script's hex
    if hi == -1:
        raise Reject(Reason.AUXPOW_MAGIC_MISSING, "AUX-003", "no fabe6d6d in the coinbase script")
    # [AUX-004] the reversed aux root occurs in the script's hex
    if ri == -1:
        raise Reject(Reason.AUXPOW_ROOT_MISSING, "AUX-004", f"aux root {needle} not in the coinbase script")
    # [AUX-005] the magic does not occur again after the first occurrence
    if text.find(_MAGIC_HEX, hi + 2) != -1:
        raise Reject(Reason.AUXPOW_MAGIC_REPEATED, "AUX-005", f"second fabe6d6d after hex offset {hi}")
    # [AUX-006] the root's first occurrence follows the magic immediately
    if hi + len(_MAGIC_HEX) != ri:
        raise Reject(Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC, "AUX-006", f"magic at hex {hi}, root at hex {ri}")
    ri += _ROOT_HEX_LEN
    # [AUX-007] at least 8 hex digits follow the root
    if len(text) - ri < 8:
        raise Reject(Reason.AUXPOW_SCRIPT_TOO_SHORT, "AUX-007", f"{len(text) - ri} hex digits after the root")
    at = ri // 2
    size = int.from_bytes(script[at:at + 4], "little")
    height = len(auxpow.aux_merkle_branch)
    # [AUX-008] the merkle size is uint32(1 << branch length)
    if size != _pow2_u32(height):
        raise Reject(Reason.AUXPOW_MERKLE_SIZE_MISMATCH, "AUX-008", f"size {size}, branch length {height}")
    # [AUX-009] the nonce is present (upstream would slice past the end and panic)
    if at + 8 > len(script):
        raise Reject(Reason.AUXPOW_SCRIPT_TOO_SHORT, "AUX-009", f"script ends at byte {len(script)}, nonce needs {at + 8}")
    nonce = int.from_bytes(script[at + 4:at + 8], "little")
    expected = expected_index(nonce, chain_id & U32_MAX, height)
    # [AUX-010] the aux merkle index is the one nonce and chain ID select
    if auxpow.aux_merkle_index != expected:
        raise Reject(Reason.AUXPOW_INDEX_MISMATCH, "AUX-010",
                     f"aux index {auxpow.aux_merkle_index}, expected {expected} (nonce {nonce})")


# -- building an AuxPoW (for miners, sidechains and vectors) -------------------------------------


def build_parent_coinbase_script(aux_root: bytes, merkle_size: int, nonce: int,
                                 prefix: bytes = b"", extra: bytes = b"") -> bytes:
    """``prefix || fabe6d6d || reverse(aux_root) || u32 merkle_size || u32 nonce || extra``.

    ``aux_root`` is the root as :func:`aux_merkle_root` returns it; with an empty aux branch the
    bytes after the magic are the ELA block hash in stored order.
    """
    _check_hash(aux_root, "aux root")
    return (prefix + MERGED_MINING_HEADER + aux_root[::-1] + encode_int(merkle_size, "u32")
            + encode_int(nonce, "u32") + extra)


def make_auxpow(
    block_hash: bytes,
    chain_id: int = AUXPOW_CHAIN_ID,
    *,
    nonce: int = 0,
    aux_branch: Sequence[bytes] = (),
    script_prefix: bytes = b"",
    script_extra: bytes = b"",
    outputs: Sequence[BtcTxOut] = (),
    par_coinbase_branch: Sequence[bytes] = (),
    par_merkle_index: int = 0,
    parent_version: int = 0x20000000,
    parent_previous: bytes = bytes(HASH_SIZE),
    parent_timestamp: int = 0,
    parent_bits: int = 0,
    parent_nonce: int = 0,
) -> AuxPow:
    """An AuxPoW that passes :func:`check_auxpow` for ``block_hash`` and ``chain_id``.

    The ELA block sits at slot ``expected_index(nonce, chain_id, len(aux_branch))`` of the aux
    tree, whose branch for that slot is ``aux_branch`` (empty: ELA is the only aux chain). The
    parent coinbase has one input (previous output all zero / ``0xffffffff``) whose script is
    :func:`build_parent_coinbase_script`; the parent header's merkle root is computed from
    ``par_coinbase_branch`` and ``par_merkle_index``. Its ``parent_nonce`` still has to be ground
    until the header's hash meets the target (:func:`with_parent_nonce`); that search is the
    miner's, not the spec's.

    The result fails the check only if the free bytes spell the commitment again: a ``script_prefix``
    or ``script_extra`` holding ``fabe6d6d`` or the root, or a ``nonce`` whose bytes are the magic
    (``0x6d6dbefa``), which repeats it ([AUX-005]); a miner picks another nonce.
    """
    height = len(aux_branch)
    index = expected_index(nonce, chain_id & U32_MAX, height)
    root = aux_merkle_root(block_hash, aux_branch, index)
    script = build_parent_coinbase_script(root, _pow2_u32(height), nonce, script_prefix, script_extra)
    tx = BtcTx(version=1, tx_in=(BtcTxIn(previous_hash=bytes(HASH_SIZE), previous_index=U32_MAX,
                                         signature_script=script, sequence=U32_MAX),),
               tx_out=tuple(outputs), lock_time=0)
    header = BtcHeader(version=parent_version, previous=parent_previous,
                       merkle_root=merkle_branch_root(tx.hash(), par_coinbase_branch, par_merkle_index),
                       timestamp=parent_timestamp, bits=parent_bits, nonce=parent_nonce)
    return AuxPow(par_coinbase_tx=tx, parent_hash=header.hash()[::-1], par_coinbase_branch=tuple(par_coinbase_branch),
                  par_merkle_index=par_merkle_index, aux_merkle_branch=tuple(aux_branch), aux_merkle_index=index,
                  par_block_header=header)


def with_parent_nonce(auxpow: AuxPow, parent_nonce: int) -> AuxPow:
    """``auxpow`` with the parent header's nonce replaced (and ``parent_hash`` kept in step)."""
    h = auxpow.par_block_header
    header = BtcHeader(version=h.version, previous=h.previous, merkle_root=h.merkle_root, timestamp=h.timestamp,
                       bits=h.bits, nonce=parent_nonce)
    return AuxPow(par_coinbase_tx=auxpow.par_coinbase_tx, parent_hash=header.hash()[::-1],
                  par_coinbase_branch=auxpow.par_coinbase_branch, par_merkle_index=auxpow.par_merkle_index,
                  aux_merkle_branch=auxpow.aux_merkle_branch, aux_merkle_index=auxpow.aux_merkle_index,
                  par_block_header=header)
