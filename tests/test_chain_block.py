"""Blocks and headers: codec round trips, malformed bytes, genesis blocks and rewards against upstream."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec.chain import builder as B
from spec.chain import params as P
from spec.chain.block import HEADER_BASE_SIZE, Block, Header, decode_block
from spec.crypto.hashes import sha256d
from spec.errors import DecodeError
from conformance.generators.chain import GENESIS, funded_chain, make_block, pay
from test_chain_tx import transactions

FAST = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
MAINNET_GENESIS = "8d7014f2f941caa1972c8033b2f0a860ec8d4938b12bae2c62512852a558f405"
TESTNET_GENESIS = "b3314f465ea5556d570bcc473d59a0855b4405a25b1ea0c957c81b2920be1864"


def sample_blocks() -> list[Block]:
    b1 = funded_chain()[0]
    return [P.genesis_block("mainnet"), b1, make_block(b1.hash(), 2, [pay(10**8)], fees=100)]


@pytest.mark.parametrize("net,expected", [("mainnet", MAINNET_GENESIS), ("testnet", TESTNET_GENESIS),
                                          ("regnet", TESTNET_GENESIS), ("instant", TESTNET_GENESIS)])
def test_genesis_hash_matches_upstream(net, expected):
    g = P.genesis_block(net)
    assert g.hash().hex() == expected
    assert decode_block(g.serialize()) == g


def test_genesis_pays_the_foundation(ela_facts):
    pairs = {p["upstream_name"]: p["program_hash_hex"] for p in ela_facts["address_program_hash_pairs"]["value"]}
    assert P.genesis_block("mainnet").transactions[0].outputs[0].program_hash.hex() == pairs["mainNetFoundation"]
    assert P.genesis_block("testnet").transactions[0].outputs[0].program_hash.hex() == pairs["testNetFoundation"]
    assert P.genesis_block("mainnet").transactions[1].txid().hex() == ela_facts["ela_asset_id"]["value"]["stored_hex"]


def test_rewards_match_upstream(ela_facts):
    f = ela_facts["block_reward"]["value"]
    for h, v in f["mainnet"]["examples"].items():
        assert P.block_reward(int(h), P.MAINNET) == v
    for name in ("testnet", "regnet"):
        p, params = f[name], P.network(name)
        assert P.block_reward(p["NewELAIssuanceHeight"] - 1, params) == f["values_sela"]["before_new_issuance"]
        assert P.block_reward(p["HalvingRewardHeight"], params) == f["values_sela"]["factor_2"]
    assert P.block_reward(0xFFFF_FFFF, P.MAINNET) == 0


def test_block_hash_covers_84_bytes_only():
    b = sample_blocks()[2]
    assert len(b.header.serialize_base()) == HEADER_BASE_SIZE
    assert b.hash() == sha256d(b.serialize()[:HEADER_BASE_SIZE])
    other = b.header.model_copy(update={"trailer": 7})
    assert other.hash() == b.hash()
    assert Header.decode(other.serialize()) == other


@pytest.mark.parametrize("i", range(3))
def test_sample_blocks_round_trip(i):
    b = sample_blocks()[i]
    assert decode_block(b.serialize()) == b


@FAST
@given(st.lists(transactions(), max_size=4), st.integers(0, 0xFFFF_FFFF), st.integers(0, 0xFFFF_FFFF))
def test_block_round_trip(txs, ts, bits):
    b = B.block_template(GENESIS, 1, ts, bits, txs) if txs else sample_blocks()[1]
    assert decode_block(b.serialize()) == b


@FAST
@given(st.sampled_from(range(3)), st.integers(0, 10**6), st.integers(0, 255))
def test_mutated_blocks_raise_only_decode_error(i, pos, byte):
    raw = bytearray(sample_blocks()[i].serialize())
    raw[pos % len(raw)] = byte
    try:
        back = decode_block(bytes(raw))
    except DecodeError:
        return
    assert back.serialize() == bytes(raw)


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_decode_error(raw):
    try:
        decode_block(raw)
    except DecodeError:
        pass


@FAST
@given(st.sampled_from(range(3)), st.integers(0, 10**6))
def test_truncated_blocks_raise_decode_error(i, cut):
    raw = sample_blocks()[i].serialize()
    with pytest.raises(DecodeError):
        decode_block(raw[: cut % len(raw)])
