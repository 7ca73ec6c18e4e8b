"""Generators of the ``sidechain`` suite: the ID sidechain's genesis and X address, sidechain headers
merge-mined through a main block (built here with ``spec.sidechain.builder``), and every way the
SideAuxPow and the sidechain proof of work fail.

Upstream oracle: the genesis block's X address is the main chain's ``DIDSideChainAddress``
``XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ`` (``Elastos.ELA/common/config``), so the genesis hash the spec
builds is upstream's.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from spec.chain.auxpow import make_auxpow, with_parent_nonce
from spec.chain.builder import attach_auxpow, block_template, coinbase, meets_target, transfer
from spec.chain.merkle import merkle_branch, merkle_root
from spec.chain.params import genesis_block, network
from spec.chain.pow import INSTANT_POW_LIMIT_BITS
from spec.errors import Reason
from spec.sidechain import block as SB
from spec.sidechain import params as SP
from spec.sidechain.builder import side_pow_tx, solve_side

from conformance.vectors import CaseSpec, generator

OK = "ok"
ID_GENESIS_DISPLAY = "56be936978c261b2e649d58dbfaf3f23d4a868274f5522cd2adb4308a955c4a3"
ID_X_ADDRESS = "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ"
AUX_RULES = ("SAUX-001", "SAUX-002", "SAUX-003", "SBLK-001", "POW-001", "POW-002", "POW-003")


@generator("sidechain", "sidechain.genesis")
def genesis() -> Iterator[CaseSpec]:
    for name in SP.ID_NETWORKS:
        yield CaseSpec(name, {"network": name}, OK, (), "the ID sidechain's genesis (Elastos.ELA.SideChain.ID params.go)",
                       expect_ok={"hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex(), "x_address": ID_X_ADDRESS})


@generator("sidechain", "sidechain.x_address")
def x_addresses() -> Iterator[CaseSpec]:
    yield CaseSpec("id_sidechain", {"genesis_hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex()}, OK, (),
                   "DIDSideChainAddress of the main chain", expect_ok={"x_address": ID_X_ADDRESS})
    yield CaseSpec("main_chain_genesis", {"genesis_hash": genesis_block("mainnet").hash().hex()}, OK, (),
                   "any 32-byte genesis hash has an X address")


def _side_template(bits: int = INSTANT_POW_LIMIT_BITS, height: int = 1) -> SB.SideBlock:
    gen = SP.side_genesis_block()
    header = gen.header.model_copy(update={"previous": gen.hash(), "height": height,
                                           "timestamp": gen.header.timestamp + 120, "bits": bits})
    return gen.model_copy(update={"header": header})


def _main_template(extra: tuple = ()) -> object:
    p = network("instant")
    g = genesis_block("instant")
    return block_template(g.hash(), 1, g.header.timestamp + 1, INSTANT_POW_LIMIT_BITS,
                          [coinbase(1, p, bytes(21)), *extra])


@cache
def mined(bits: int = INSTANT_POW_LIMIT_BITS) -> SB.SideBlock:
    side = _side_template(bits)
    s, _ = solve_side(side, _main_template(), side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1))
    return s


def _hex(h: SB.SideHeader) -> str:
    return h.serialize().hex()


@generator("sidechain", "sidechain.header.decode")
def header_decode() -> Iterator[CaseSpec]:
    h = mined().header
    yield CaseSpec("mined", {"header": _hex(h)}, OK, (), expect_ok={"height": 1, "side_aux_merkle_index": 1})
    yield CaseSpec("genesis", {"header": _hex(SP.side_genesis_block().header)}, OK, (),
                   expect_ok={"hash": bytes.fromhex(ID_GENESIS_DISPLAY)[::-1].hex(), "branch_length": 0})
    raw = h.serialize()
    yield CaseSpec("truncated", {"header": raw[:-2].hex()}, Reason.TRUNCATED)
    yield CaseSpec("trailing_byte", {"header": (raw + b"\x00").hex()}, Reason.TRAILING_BYTES)
    tx_end = 84 + len(h.side_auxpow.side_aux_block_tx.serialize())
    huge_count = raw[:tx_end] + (0xFFFFFFFF).to_bytes(4, "little") + raw[tx_end + 4:]
    yield CaseSpec("branch_count_beyond_data", {"header": huge_count.hex()}, Reason.TRUNCATED, (),
                   "a u32 branch count of 2^32-1 with a few hashes behind it")


def _check(name: str, header: SB.SideHeader, means: str | Reason, rules: tuple[str, ...], desc: str = "",
           net: str = "instant") -> CaseSpec:
    return CaseSpec(name, {"header": _hex(header), "network": net}, means, rules, desc)


def _with_aux(h: SB.SideHeader, **change: object) -> SB.SideHeader:
    return h.model_copy(update={"side_auxpow": h.side_auxpow.model_copy(update=change)})


@generator("sidechain", "sidechain.header.check")
def header_check() -> Iterator[CaseSpec]:
    good = mined().header
    yield _check("mined_instant", good, OK, AUX_RULES, "one Bitcoin parent header proves the main and side blocks")
    harder = mined(0x1F7FFFFF).header
    yield _check("side_target_harder_than_main", harder, OK, ("POW-003",),
                 "the parent nonce is ground until it meets the sidechain's own (harder) target too")
    main_hdr = good.side_auxpow.main_block_header

    # the main header's AuxPoW must prove the main header: its hash changes with the timestamp
    other_main = main_hdr.model_copy(update={"timestamp": main_hdr.timestamp + 1})
    yield _check("main_auxpow_for_another_block", _with_aux(good, main_block_header=other_main),
                 Reason.AUXPOW_ROOT_MISSING, (), "AuxPow.Check of the main header fails first")

    # SAUX-001: a TransferAsset in place of the SideChainPow, committed in the main block all the same
    side = _side_template()
    fake = transfer([(bytes(32), 0)], [(bytes(21), 1)])
    s, _ = solve_side(side, _main_template(), fake)
    yield _check("aux_tx_not_sidechain_pow", s.header, Reason.SIDE_AUX_NOT_SIDECHAIN_POW, ("SAUX-001",))

    # SAUX-002: the branch or the index do not lead to the main merkle root
    yield _check("aux_index_wrong", _with_aux(good, side_aux_merkle_index=0), Reason.SIDE_AUX_MERKLE, ("SAUX-002",),
                 "index 0 folds the branch the other way round")
    branch = good.side_auxpow.side_aux_merkle_branch
    flipped = (bytes([branch[0][0] ^ 1]) + branch[0][1:],) + branch[1:]
    yield _check("aux_branch_changed", _with_aux(good, side_aux_merkle_branch=flipped), Reason.SIDE_AUX_MERKLE,
                 ("SAUX-002",))
    yield _check("aux_branch_missing", _with_aux(good, side_aux_merkle_branch=()), Reason.SIDE_AUX_MERKLE, ("SAUX-002",))

    # SAUX-003: the SideChainPow names another sidechain block (a sibling at the same height)
    sibling = _side_template().header.model_copy(update={"nonce": 7})
    s, _ = solve_side(_side_template(), _main_template(), side_pow_tx(sibling.hash(), SP.side_genesis_block().hash(), 1))
    yield _check("aux_names_another_block", s.header, Reason.SIDE_AUX_BLOCK_HASH, ("SAUX-003",))

    # the sidechain proof of work, with the side bits as the target
    yield _check("side_target_zero", _resolved(_side_template(0x01003456)), Reason.POW_TARGET_NOT_POSITIVE, ("POW-001",))
    yield _check("side_target_above_limit", _resolved(_side_template(0x2100FFFF)), Reason.POW_TARGET_ABOVE_LIMIT,
                 ("POW-002",))
    yield _check("parent_hash_above_side_target", _resolved(_side_template(0x03000001)),
                 Reason.POW_HASH_ABOVE_TARGET, ("POW-003",), "the main target is met, the sidechain's is not")

    # SBLK-001: a header over MaxBlockHeaderSize is refused before any other check
    n = SB.MAX_SIDE_HEADER_SIZE // 32
    yield _check("header_too_large", _with_aux(good, side_aux_merkle_branch=(bytes(32),) * n),
                 Reason.SIDE_HEADER_TOO_LARGE, ("SBLK-001",), f"a branch of {n} hashes")


def _resolved(side: SB.SideBlock) -> SB.SideHeader:
    """A SideAuxPow that is right in every part but whose parent header only meets the main target."""
    main = _main_template()
    pow_tx = side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1)
    txs = (main.transactions[0], pow_tx)
    main = main.model_copy(update={"transactions": txs,
                                   "header": main.header.model_copy(update={"merkle_root": merkle_root([t.txid() for t in txs])})})
    aux = make_auxpow(main.hash())
    nonce = next(n for n in range(1 << 16) if meets_target(with_parent_nonce(aux, n), main.header.bits)
                 and not meets_target(with_parent_nonce(aux, n), 0x03000001))
    mined_main = attach_auxpow(main, with_parent_nonce(aux, nonce))
    sa = SB.SideAuxPow(side_aux_block_tx=pow_tx, side_aux_merkle_branch=tuple(merkle_branch([t.txid() for t in txs], 1)),
                       side_aux_merkle_index=1, main_block_header=mined_main.header)
    return side.header.model_copy(update={"side_auxpow": sa})
