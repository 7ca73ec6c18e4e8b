"""Network parameters of mainnet, testnet and regnet, frozen, and the genesis blocks the spec builds.

Upstream: ``Elastos.ELA/common/config/config.go`` (``GetDefaultParams``, ``TestNet``, ``RegNet``,
``InstantBlock``, ``GetBlockReward``), ``core/manager.go`` (``GenesisBlock``, ``ELAAssetID``),
``elanet/pact/protocol.go``.

The proof-of-work profile applies the rules of the heights below ``PublicDPOSHeight`` (H2) at every
height: a network that never activates DPoS (regnet in this project's devnet) is fully described by
it, and mainnet and testnet blocks from H2 on are the business of the DPoS profile.

Parameters
----------

=============================  ======================  ======================  ======================
parameter                      mainnet                 testnet                 regnet
=============================  ======================  ======================  ======================
p2p magic                      2017001                 2018101                 2018201
default p2p port               20338                   21338                   22338
foundation address             8VYXVxKKSAxkmRrfmGpQR2  8ZNizBf4KhhPjeJRGpox6r  8ZNizBf4KhhPjeJRGpox6r
                               Kc66XhG6m3ta            PcHE5Np6tFx3            PcHE5Np6tFx3
PowLimit                       2^255 - 1               2^255 - 1               2^255 - 1
PowLimitBits                   ``0x1f0008ff``          ``0x1f0008ff``          ``0x1f0008ff``
NewELAIssuanceHeight           919800                  774920                  691740
HalvingRewardHeight            1051200                 877880                  801240
HalvingRewardInterval          1051200                 1051200                 1051200
CheckAddressHeight             88812                   0                       0
PublicDPOSHeight (H2)          402680                  300000                  231500
=============================  ======================  ======================  ======================

Common to all three: target timespan 86400 s, target time per block 120 s, adjustment factor 4,
coinbase maturity 100, MinTransactionFee 100 sela, at most 10000 transactions per block, a
header of at most 1000000 bytes, timestamps at most 7200 s ahead of the adjusted time, the median
of 11 past timestamps. ``MaxBlockContextSize`` (the largest transaction; a block may be that plus
the header limit) is 2000000 bytes on mainnet and regnet and 8000000 on testnet: upstream's
``settings.go`` lowers the ``pact`` default of 8000000 unless the configuration sets
``MaxBlockSize`` or the network is testnet.
``instant`` is regnet with ``InstantBlock()`` applied: PowLimitBits ``0x207fffff``, a 10 s
timespan and 1 s per block (the reward stays the 2-minute one, as upstream computes it before).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Final, Literal

from pydantic import Field

from spec.chain.auxpow import zero_auxpow
from spec.chain.block import Block, Header
from spec.chain.merkle import merkle_root
from spec.chain.pow import INSTANT_POW_LIMIT_BITS, NETWORK_RETARGET_PARAMS, RetargetParams
from spec.chain.tx import (
    Asset,
    Attribute,
    AttributeUsage,
    CoinBasePayload,
    Input,
    OutPoint,
    Output,
    RegisterAssetPayload,
    Transaction,
    TxType,
)
from spec.errors import Reason, Reject, rule
from spec.model import SpecModel

NetworkName = Literal["mainnet", "testnet", "regnet", "instant"]
NETWORKS: Final[tuple[NetworkName, ...]] = ("mainnet", "testnet", "regnet", "instant")

SELA_PER_ELA: Final = 100_000_000
ELA_PRECISION: Final = 8
ORIGIN_ISSUANCE: Final = 3300 * 10_000 * SELA_PER_ELA
"""``OriginIssuanceAmount``: the genesis coinbase pays this to the foundation."""
AFTER_BURN_ISSUANCE: Final = 2000 * 10_000 * SELA_PER_ELA
"""``AfterBurnIssuanceAmount`` (CR proposal #1631)."""
INFLATION_PER_YEAR: Final = ORIGIN_ISSUANCE * 4 // 100
NEW_INFLATION_PER_YEAR: Final = AFTER_BURN_ISSUANCE * 4 // 100
REWARD_BLOCK_INTERVAL: Final = 120
"""Upstream computes both rewards with a 2-minute block interval, on every network."""
BLOCKS_PER_YEAR: Final = 365 * 24 * 60 * 60 // REWARD_BLOCK_INTERVAL

GENESIS_TIMESTAMP: Final = 1513936800
"""2017-12-22T10:00:00Z."""
GENESIS_BITS: Final = 0x1D03FFFF
GENESIS_NONCE: Final = 2083236893
GENESIS_COINBASE_NONCE: Final = bytes((77, 101, 130, 33, 7, 252, 253, 82))
"""The genesis coinbase's Nonce attribute (``attrNonce``)."""

MAINNET_FOUNDATION: Final = bytes.fromhex("129e9cf1c5f336fcf3a6c954444ed482c5d916e506")
"""``8VYXVxKKSAxkmRrfmGpQR2Kc66XhG6m3ta``."""
TESTNET_FOUNDATION: Final = bytes.fromhex("12c8a2e0677227144df822b7d9246c58df68eb11ce")
"""``8ZNizBf4KhhPjeJRGpox6rPcHE5Np6tFx3`` (testnet and regnet)."""
DESTROY_ADDRESS: Final = bytes.fromhex("2120fee5d7eb3e5c7d3197fecf6c0de30f889acef7")
"""``ELANULLXXXXXXXXXXXXXXXXXXXXXYvs3rr``, whose coins nobody can spend."""
CR_ASSETS_ADDRESS: Final = bytes.fromhex("1c5f6c3e9f0c9a7110b8eb6e3702630f71274df1c0")
"""``CRASSETSXXXXXXXXXXXXXXXXXXXX2qDX5J``."""
CR_EXPENSES_ADDRESS: Final = bytes.fromhex("1c603209ff5d86542d261a8d227fe0f5ee2c4ed2d3")
"""``CREXPENSESXXXXXXXXXXXXXXXXXX4UdT6b``."""

U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]

DID_SIDECHAIN_ADDRESS: Final = bytes.fromhex("4b5929cbd09401eb2ce4134cb5ee117a01152c387e")
"""``XKUh4GLhFJiqAMTF6HyWQrV9pK9HcGUdfJ`` (``DIDSideChainAddress``): the old DID sidechain's X address."""


class NetworkParams(SpecModel):
    """Everything a node of one network needs to know that is not a rule."""

    name: str
    """``mainnet``, ``testnet``, ``regnet`` or ``instant``."""
    magic: U32
    """P2P message magic."""
    default_port: Annotated[int, Field(ge=0, le=0xFFFF)]
    """Default P2P port."""
    foundation: Annotated[bytes, Field(min_length=21, max_length=21)]
    """Program hash the genesis coinbase pays."""
    pow_limit: int
    """The easiest target allowed."""
    pow_limit_bits: U32
    """The compact form of the target new chains start with; ``0x207fffff`` means instant mode."""
    target_timespan: int = 86_400
    """Seconds a retarget window should last."""
    target_time_per_block: int = 120
    """Seconds per block the retarget aims at."""
    adjustment_factor: int = 4
    """A retarget changes the target by at most this factor either way."""
    coinbase_maturity: int = 100
    """Blocks before a coinbase output may be spent."""
    min_transaction_fee: int = 100
    """Smallest fee (sela) of a non-coinbase transaction."""
    max_tx_per_block: int = 10_000
    max_block_context_size: int = 2_000_000
    """``pact.MaxBlockContextSize`` as the node's settings leave it without a ``MaxBlockSize`` entry:
    2,000,000 on mainnet and regnet, 8,000,000 (the ``pact`` default) on testnet. The largest
    transaction; a block may be this plus ``max_block_header_size``."""
    max_block_header_size: int = 1_000_000
    max_time_offset: int = 7_200
    """Seconds a block's timestamp may be ahead of the node's adjusted time."""
    median_time_span: int = 11
    """Number of past timestamps whose median a new block must not be before."""
    new_ela_issuance_height: U32
    halving_reward_height: U32
    halving_reward_interval: U32
    check_address_height: U32
    """From this height an output's program hash must round-trip through an address."""
    public_dpos_height: U32
    """H2: the DPoS profile's rules start here; recorded, never used by this profile."""
    min_cross_chain_tx_fee: int = 10_000
    """``MinCrossChainTxFee``: sela a deposit to a sidechain leaves for the arbiters."""
    new_cross_chain_start_height: U32
    """Up to this height TransferCrossChainAsset uses payload version 0, after it version 1."""
    prohibit_transfer_to_did_height: U32
    """From this height no deposit may go to the retired DID sidechain address."""
    did_sidechain_address: Annotated[bytes, Field(min_length=21, max_length=21)]
    """Program hash of the retired DID sidechain's X address (``DIDSideChainAddress``)."""
    cross_chain_arbiters: tuple[Annotated[bytes, Field(min_length=33, max_length=33)], ...] = ()
    """Public keys of the arbiters whose cross-chain script may spend X-address outputs
    (WithdrawFromSideChain). None in this profile: the sidechain profile names them."""

    @property
    def blocks_per_retarget(self) -> int:
        return self.target_timespan // self.target_time_per_block

    @property
    def min_retarget_timespan(self) -> int:
        return self.target_timespan // self.adjustment_factor

    @property
    def max_retarget_timespan(self) -> int:
        return self.target_timespan * self.adjustment_factor

    @property
    def instant(self) -> bool:
        return self.pow_limit_bits == INSTANT_POW_LIMIT_BITS

    @property
    def retarget(self) -> RetargetParams:
        """The proof-of-work part, as :mod:`spec.chain.pow` takes it."""
        return RetargetParams(pow_limit=self.pow_limit, pow_limit_bits=self.pow_limit_bits,
                              target_timespan=self.target_timespan,
                              target_time_per_block=self.target_time_per_block,
                              adjustment_factor=self.adjustment_factor)



def _pow_fields(name: str) -> dict[str, int]:
    """The proof-of-work fields of a network, from :data:`spec.chain.pow.NETWORK_RETARGET_PARAMS` (their one source)."""
    return NETWORK_RETARGET_PARAMS[name].model_dump()


MAINNET: Final = NetworkParams(
    name="mainnet", magic=2017001, default_port=20338, foundation=MAINNET_FOUNDATION, **_pow_fields("mainnet"),
    new_ela_issuance_height=919_800, halving_reward_height=1_051_200, halving_reward_interval=1_051_200,
    check_address_height=88_812, public_dpos_height=402_680,
    new_cross_chain_start_height=1_032_840, prohibit_transfer_to_did_height=1_032_840,
    did_sidechain_address=DID_SIDECHAIN_ADDRESS,
)
TESTNET: Final = NetworkParams(
    name="testnet", magic=2018101, default_port=21338, foundation=TESTNET_FOUNDATION, **_pow_fields("testnet"),
    new_ela_issuance_height=774_920, halving_reward_height=877_880, halving_reward_interval=1_051_200,
    check_address_height=0, public_dpos_height=300_000, max_block_context_size=8_000_000,
    new_cross_chain_start_height=807_000, prohibit_transfer_to_did_height=807_000,
    did_sidechain_address=DID_SIDECHAIN_ADDRESS,
)
REGNET: Final = NetworkParams(
    name="regnet", magic=2018201, default_port=22338, foundation=TESTNET_FOUNDATION, **_pow_fields("regnet"),
    new_ela_issuance_height=691_740, halving_reward_height=801_240, halving_reward_interval=1_051_200,
    check_address_height=0, public_dpos_height=231_500,
    new_cross_chain_start_height=730_000, prohibit_transfer_to_did_height=730_000,
    did_sidechain_address=DID_SIDECHAIN_ADDRESS,
)
INSTANT: Final = REGNET.model_copy(update={"name": "instant", **_pow_fields("instant")})
"""Regnet with ``InstantBlock()``: every block takes PowLimitBits (no retarget)."""

PARAMS: Final[dict[str, NetworkParams]] = {p.name: p for p in (MAINNET, TESTNET, REGNET, INSTANT)}


R_NETWORK = rule(
    "NET-001", Reason.UNKNOWN_NETWORK,
    "A network is named by one of the names the spec defines: mainnet, testnet, regnet or instant (exactly, "
    "lower case).",
    suite="chain",
)


def network(name: str) -> NetworkParams:
    """The parameters of a network by name."""
    # [NET-001] the network is one the spec defines
    if name not in PARAMS:
        raise Reject(Reason.UNKNOWN_NETWORK, "NET-001", repr(name))
    return PARAMS[name]


# -- rewards -------------------------------------------------------------------------------------------


def block_reward(height: int, params: NetworkParams) -> int:
    """``GetBlockReward``: sela the coinbase may create at ``height`` (before fees).

    Upstream computes in float64 and truncates toward zero; the spec does the same with Python
    floats (IEEE 754 binary64). Dividing by ``2^(factor-1)`` is exact scaling, so it is written as
    ``ldexp``, which also gives 0 where upstream's ``math.Pow`` overflows to +Inf.
    """
    if height < params.new_ela_issuance_height:
        return int(float(INFLATION_PER_YEAR) / float(BLOCKS_PER_YEAR))
    factor = 1
    if height >= params.halving_reward_height:
        factor = 2 + (height - params.halving_reward_height) // params.halving_reward_interval
    return int(math.ldexp(float(NEW_INFLATION_PER_YEAR) / float(BLOCKS_PER_YEAR), -(factor - 1)))


# -- genesis -----------------------------------------------------------------------------------------------

ELA_ASSET_TX: Final = Transaction(
    tx_type=TxType.REGISTER_ASSET,
    payload=RegisterAssetPayload(
        asset=Asset(name=b"ELA", description=b"", precision=ELA_PRECISION, asset_type=0, record_type=0),
        amount=0, controller=bytes(21),
    ),
)
"""The genesis RegisterAsset transaction; its txid is the ELA asset ID."""
ELA_ASSET_ID: Final = ELA_ASSET_TX.txid()
"""``b037db96…d0a3`` stored (display ``a3d0eaa4…37b0``)."""


def genesis_coinbase(foundation: bytes) -> Transaction:
    """The genesis coinbase: 33 million ELA to the foundation."""
    return Transaction(
        tx_type=TxType.COINBASE, payload_version=4, payload=CoinBasePayload(content=b""),
        attributes=(Attribute(usage=AttributeUsage.NONCE, data=GENESIS_COINBASE_NONCE),),
        inputs=(Input(previous=OutPoint(txid=bytes(32), index=0), sequence=0),),
        outputs=(Output(asset_id=ELA_ASSET_ID, value=ORIGIN_ISSUANCE, output_lock=0, program_hash=foundation),),
    )


@cache
def genesis_block(name: str) -> Block:
    """The genesis block of a network (``GenesisBlock(foundation)``), built from the parameters."""
    params = network(name)
    coinbase = genesis_coinbase(params.foundation)
    header = Header(
        version=0, previous=bytes(32), merkle_root=merkle_root([coinbase.txid(), ELA_ASSET_ID]),
        timestamp=GENESIS_TIMESTAMP, bits=GENESIS_BITS, nonce=GENESIS_NONCE, height=0, auxpow=zero_auxpow(),
    )
    return Block(header=header, transactions=(coinbase, ELA_ASSET_TX))
