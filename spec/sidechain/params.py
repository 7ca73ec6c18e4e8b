"""Sidechain parameters: the ID sidechain's networks, its genesis block, and the sidechain X address.

A sidechain is known to the main chain by its **genesis hash**: deposits pay the sidechain's *X address*,
the program hash of the script ``0x20 ‖ genesis hash (stored order) ‖ 0xAF`` with prefix ``0x4B``
(``common.GetGenesisProgramHash``), and SideChainPow payloads carry the genesis hash.

The ID sidechain (``Elastos.ELA.SideChain.ID``) has one genesis block on every network: a header with
version 0, a zero previous hash, the ELA asset transaction (``RegisterAsset``, amount 0) as its only
transaction and merkle root, timestamp 2018-06-30T12:00:00Z (1530360000), bits ``0x1d03ffff``, nonce
3194347904 (``types.GenesisNonce``), height 0, and an empty SideAuxPow (a zero SideChainPow
transaction, no branch, a zero main-chain header). Its hash gives upstream's DID sidechain address
``XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ`` (``DIDSideChainAddress`` of the main chain).

=========  ========  ======  ==============================================================
network    magic     port    main-chain network it is merge-mined with
=========  ========  ======  ==============================================================
mainnet    2017002   20608   mainnet
testnet    2018102   21608   testnet
regnet     2018202   22608   regnet
instant    2018202   22608   instant (regnet with ``InstantBlock``: bits ``0x207fffff``)
=========  ========  ======  ==============================================================

Retarget and PowLimit are the main chain's (720 blocks, 24 h, factor 4, PowLimit 2^255 - 1, bits
``0x1f0008ff``); the exchange rate is 1 (another one: :func:`with_exchange_rate`); the minimum
cross-chain fee is 10,000 sela.

Upstream: ``Elastos.ELA.SideChain.ID/params/params.go``, ``Elastos.ELA.SideChain/types/block.go``,
``Elastos.ELA/common/common.go`` (``GetGenesisProgramHash``).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Final

from pydantic import Field

from spec.chain.auxpow import zero_auxpow
from spec.chain.block import Header
from spec.chain.params import ELA_ASSET_ID, ELA_ASSET_TX
from spec.chain.pow import NETWORK_RETARGET_PARAMS, RetargetParams
from spec.chain.tx import SideChainPowPayload, Transaction, TxType
from spec.crypto.scripts import OP_CROSSCHAIN, program_hash
from spec.encoding.address import PREFIX_CROSSCHAIN, Uint168, address_from_program_hash
from spec.model import SpecModel
from spec.sidechain.block import SideAuxPow, SideBlock, SideHeader
from spec.sidechain.tx import SideTransaction

__all__ = ["SidechainParams", "ID_NETWORKS", "id_network", "with_exchange_rate", "side_genesis_block", "genesis_program_hash",
           "x_address", "ID_GENESIS_TIMESTAMP", "ID_GENESIS_BITS", "ID_GENESIS_NONCE"]

ID_GENESIS_TIMESTAMP: Final = 1_530_360_000
"""2018-06-30T12:00:00Z."""
ID_GENESIS_BITS: Final = 0x1D03FFFF
ID_GENESIS_NONCE: Final = 3_194_347_904
"""``types.GenesisNonce`` of the sidechain framework."""

U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]


class SidechainParams(SpecModel):
    """Everything a sidechain node needs to know that is not a rule."""

    name: str
    """``mainnet``, ``testnet``, ``regnet`` or ``instant`` (of this sidechain)."""
    main_network: str
    """The main-chain network it is merge-mined with."""
    magic: U32
    default_port: Annotated[int, Field(ge=0, le=0xFFFF)]
    retarget: RetargetParams
    exchange_rate: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    """Sidechain units per main-chain unit (``ExchangeRate``, a float64 upstream): positive and finite. The ID
    sidechain's is 1 on every network; :func:`with_exchange_rate` gives a sidechain at another one."""
    min_cross_chain_tx_fee: int = 10_000
    coinbase_maturity: int = 100
    min_transaction_fee: int = 100


ID_NETWORKS: Final = {
    "mainnet": SidechainParams(name="mainnet", main_network="mainnet", magic=2017002, default_port=20608,
                               retarget=NETWORK_RETARGET_PARAMS["mainnet"]),
    "testnet": SidechainParams(name="testnet", main_network="testnet", magic=2018102, default_port=21608,
                               retarget=NETWORK_RETARGET_PARAMS["testnet"]),
    "regnet": SidechainParams(name="regnet", main_network="regnet", magic=2018202, default_port=22608,
                              retarget=NETWORK_RETARGET_PARAMS["regnet"]),
    "instant": SidechainParams(name="instant", main_network="instant", magic=2018202, default_port=22608,
                               retarget=NETWORK_RETARGET_PARAMS["instant"]),
}


def id_network(name: str) -> SidechainParams:
    if name not in ID_NETWORKS:
        raise ValueError(f"unknown ID sidechain network {name!r}; one of {sorted(ID_NETWORKS)}")
    return ID_NETWORKS[name]


def with_exchange_rate(params: SidechainParams, rate: float) -> SidechainParams:
    """``params`` at the exchange rate ``rate``; a ``ValueError`` unless it is a positive finite number.

    Upstream configures the rate on both sides of the bridge: the sidechain node (``ExchangeRate`` of its
    parameters) converts deposits with it and the arbiters (``ExchangeRate`` of each sidechain in their
    configuration) convert withdrawals with it, so the two must agree."""
    return SidechainParams.model_validate({**dict(params), "exchange_rate": float(rate)})


def _zero_main_header() -> Header:
    return Header(previous=bytes(32), merkle_root=bytes(32), timestamp=0, bits=0, height=0, auxpow=zero_auxpow())


@cache
def side_genesis_block() -> SideBlock:
    """The ID sidechain's genesis block (the same on every network)."""
    empty_pow = Transaction(tx_type=TxType.SIDECHAIN_POW, payload_version=0,
                            payload=SideChainPowPayload(side_block_hash=bytes(32), side_genesis_hash=bytes(32),
                                                        block_height=0, signature=b""))
    header = SideHeader(version=0, previous=bytes(32), merkle_root=ELA_ASSET_ID, timestamp=ID_GENESIS_TIMESTAMP,
                        bits=ID_GENESIS_BITS, nonce=ID_GENESIS_NONCE, height=0,
                        side_auxpow=SideAuxPow(side_aux_block_tx=empty_pow, main_block_header=_zero_main_header()))
    return SideBlock(header=header, transactions=(SideTransaction.decode(ELA_ASSET_TX.serialize()),))


def genesis_program_hash(genesis_hash: bytes) -> bytes:
    """``GetGenesisProgramHash``: prefix 0x4B and hash160 of ``0x20 ‖ genesis hash ‖ 0xAF``."""
    return _genesis_program(genesis_hash).data


def _genesis_program(genesis_hash: bytes) -> Uint168:
    if len(genesis_hash) != 32:
        raise ValueError("a genesis hash is 32 bytes")
    return program_hash(bytes((32,)) + genesis_hash + bytes((OP_CROSSCHAIN,)), PREFIX_CROSSCHAIN)


def x_address(genesis_hash: bytes) -> str:
    """The sidechain's X address (Base58Check of :func:`genesis_program_hash`)."""
    return address_from_program_hash(_genesis_program(genesis_hash))
