"""The sidechain header and SideAuxPow: codecs, the ID sidechain genesis against upstream's X address,
and the triple merge-mining check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain.params import DID_SIDECHAIN_ADDRESS, genesis_block
from spec.chain.pow import INSTANT_POW_LIMIT_BITS, POW_LIMIT
from spec.errors import DecodeError, Reason, Reject
from spec.sidechain import block as SB
from spec.sidechain import params as SP
from spec.sidechain.builder import side_pow_tx, solve_side

from conformance.generators.sidechain import _main_template, _side_template, mined


def test_id_genesis_matches_upstream_did_sidechain_address() -> None:
    g = SP.side_genesis_block()
    assert g.hash()[::-1].hex() == "56be936978c261b2e649d58dbfaf3f23d4a868274f5522cd2adb4308a955c4a3"
    # the main chain's DIDSideChainAddress (an upstream constant, kept apart from the sidechain spec)
    assert SP.genesis_program_hash(g.hash()) == DID_SIDECHAIN_ADDRESS
    assert SP.x_address(g.hash()) == "XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ"
    assert g.header.merkle_root == genesis_block("mainnet").transactions[1].txid()  # the ELA asset
    assert SB.SideBlock.decode(g.serialize()) == g


def test_mined_header_passes_and_round_trips() -> None:
    h = mined().header
    SB.check_side_header(h, POW_LIMIT)
    assert SB.SideHeader.decode(h.serialize()) == h
    assert h.side_auxpow.side_aux_block_tx.payload.side_block_hash == h.hash()


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_rejected_or_changes_nothing_checked(data: st.DataObject) -> None:
    """Flip one byte of a good header: it no longer decodes, or decodes and fails with a typed reason, or
    (bytes nothing checks, such as the trailer or the parent hash field) still passes."""
    raw = bytearray(mined().header.serialize())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    try:
        h = SB.SideHeader.decode(bytes(raw))
    except DecodeError:
        return
    try:
        SB.check_side_header(h, POW_LIMIT)
    except Reject as e:
        assert isinstance(e.reason, Reason)
    else:
        # a change the checks cannot see leaves the hash and the proof intact
        assert h.hash() == mined().header.hash() or i < 84


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_decode_or_reject(raw: bytes) -> None:
    try:
        SB.SideHeader.decode(raw)
    except DecodeError as e:
        assert isinstance(e.reason, Reason)


def test_the_pow_transaction_must_be_in_the_main_block() -> None:
    side = _side_template()
    pow_tx = side_pow_tx(side.hash(), SP.side_genesis_block().hash(), 1)
    s, main = solve_side(side, _main_template(), pow_tx)
    # a SideAuxPow whose main header is a different (merge-mined) main block: the branch misses its root
    other_side, other_main = solve_side(_side_template(height=2), _main_template(), side_pow_tx(
        _side_template(height=2).hash(), SP.side_genesis_block().hash(), 1))
    swapped = s.header.model_copy(update={"side_auxpow": s.header.side_auxpow.model_copy(
        update={"main_block_header": other_main.header})})
    with pytest.raises(Reject) as e:
        SB.check_side_header(swapped, POW_LIMIT)
    assert e.value.rule == "SAUX-002"
    assert main.transactions[1] == pow_tx


def test_side_hash_ignores_the_auxpow() -> None:
    t = _side_template(INSTANT_POW_LIMIT_BITS)
    assert mined().hash() == t.hash()
