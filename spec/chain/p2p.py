"""The peer-to-peer messages of ELA's network layer that a proof-of-work node needs, and the
session rules of a connection: the handshake, and what a node refuses from a peer.

Upstream: ``Elastos.ELA/p2p/message.go``, ``p2p/header.go``, ``p2p/netaddress.go``,
``p2p/msg/*.go``, ``p2p/peer/peer.go``, ``p2p/server/server.go``, ``elanet/pact/protocol.go``,
``elanet/peer/peer.go``, ``elanet/server.go``, ``elanet/netsync/manager.go`` and
``blockchain/blockchain.go`` (block locators).

Framing
-------

Every message is a 24-byte header followed by the payload. All integers are little-endian.

.. code-block:: text

    magic     u32        the network's magic (mainnet 2017001, testnet 2018101, regnet 2018201)
    command   12 bytes   ASCII name, then NUL bytes to 12; at least one NUL (names are <= 11 bytes)
    length    u32        payload length in bytes
    checksum  4 bytes    the first 4 bytes of sha256d(payload)
    payload   length bytes

A receiver checks, in upstream's order: the command field's padding ([P2P-001]), the magic
([P2P-002]), that the command is one it knows ([P2P-003]), the declared length against the
command's maximum ([P2P-004]) -- all before reading the payload -- then the checksum ([P2P-005]),
then decodes the payload, which must be consumed exactly ([ENC-002]).

Messages
--------

===============  ==========================================================================  ===========
command          payload                                                                     max bytes
===============  ==========================================================================  ===========
``version``      version u32, services u64, timestamp u32, port u16, nonce u64, height u64,  82
                 relay bool, [node_version VarString iff version >= 80000]
``verack``       empty                                                                       0
``getaddr``      empty                                                                       0
``addr``         count **u64** (<= 1000), count * NetAddress                                 42 008
``ping``         nonce u64 (the sender's best height)                                        8
``pong``         nonce u64 (the sender's best height)                                        8
``getblocks``    count **u32** (<= 500), count * hash(32), hash_stop(32)                     16 036
``inv``          count **u32** (<= 50 000), count * (type u32, hash(32))                     1 800 004
``getdata``      as ``inv``                                                                  1 800 004
``notfound``     as ``inv``                                                                  1 800 004
``block``        a serialized ``DposBlock`` (block, has-confirm bool, [confirm])             per network
``tx``           a serialized transaction                                                    per network
``reject``       command VarString, code u8, reason VarString, hash(32)                      524 288
``mempool``      empty                                                                       0
===============  ==========================================================================  ===========

A ``NetAddress`` is 34 bytes: timestamp **i64**, services u64, ip 16 bytes (IPv4 as
``::ffff:a.b.c.d``), port u16 **little-endian**. Counts are fixed-width integers, not VarUints.
``block`` and ``tx`` payloads are kept as raw bytes here; :mod:`spec.chain.block` and
:mod:`spec.chain.tx` decode them.

Left out (a node of this profile does not offer them, and refuses them as unknown commands):
``filterload``, ``filteradd``, ``filterclear``, ``txfilter`` and ``merkleblock`` (SPV filtering,
served only by a node that advertises ``SFTxFiltering``/``SFNodeBloom``) and ``daddr`` (DPoS).

Constants
---------

==============================  =============  ==================================================
name                            value          upstream
==============================  =============  ==================================================
``HEADER_SIZE``                 24             ``p2p.HeaderSize``
``COMMAND_SIZE``                12             ``p2p.CMDSize``
``MAX_MESSAGE_PAYLOAD``         33 554 432     ``p2p.MaxMessagePayload`` (32 MiB)
``MAX_INV_PER_MSG``             50 000         ``msg.MaxInvPerMsg``
``MAX_ADDR_PER_MSG``            1 000          ``msg.MaxAddrPerMsg``
``MAX_BLOCK_LOCATORS_PER_MSG``  500            ``msg.MaxBlockLocatorsPerMsg``
``MAX_BLOCKS_PER_MSG``          500            ``pact.MaxBlocksPerMsg``: hashes one getblocks returns
``EBIP001_VERSION``             10 001         ``pact.EBIP001Version`` (SPV)
``DPOS_START_VERSION``          20 000         ``pact.DPOSStartVersion``: a full node's minimum
``CR_PROPOSAL_VERSION``         80 000         ``pact.CRProposalVersion``: version carries node_version
==============================  =============  ==================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum, IntFlag
from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import Field

from spec.crypto.hashes import sha256d
from spec.encoding.primitives import (
    MAX_VAR_STRING_LENGTH,
    Reader,
    encode_bool,
    encode_int,
    encode_varstring,
    read_bool,
    read_i64,
    read_u8,
    read_u16,
    read_u32,
    read_u64,
    read_varstring,
)
from spec.errors import DecodeError, Reason, Reject, rule
from spec.chain import params as _params
from spec.model import SpecModel

# -- constants ------------------------------------------------------------------------------------

HEADER_SIZE: Final = 24
COMMAND_SIZE: Final = 12
CHECKSUM_SIZE: Final = 4
MAX_COMMAND_LENGTH: Final = COMMAND_SIZE - 1
"""A name leaves room for at least one NUL in the 12-byte field."""
MAX_MESSAGE_PAYLOAD: Final = 32 * 1024 * 1024
MAX_INV_PER_MSG: Final = 50_000
MAX_ADDR_PER_MSG: Final = 1_000
MAX_BLOCK_LOCATORS_PER_MSG: Final = 500
MAX_BLOCKS_PER_MSG: Final = 500
MAX_LOCATOR_SIZE: Final = 500
"""``blockchain.maxBlockLocators``: a locator this node builds has at most this many hashes."""
MAX_REJECT_MESSAGE_SIZE: Final = 512 * 1024
VERSION_MAX_PAYLOAD: Final = 82
NET_ADDRESS_SIZE: Final = 34
INV_VECT_SIZE: Final = 36
HASH_SIZE: Final = 32
IP_SIZE: Final = 16

EBIP001_VERSION: Final = 10_001
DPOS_START_VERSION: Final = 20_000
CR_PROPOSAL_VERSION: Final = 80_000
PROTOCOL_VERSION: Final = DPOS_START_VERSION
"""``pact.ProtocolVersion``: what a node of this profile advertises (80 000 once the network's
``NewP2PProtocolVersionHeight`` is reached, which the node decides, not the codec)."""

ZERO_HASH: Final = bytes(HASH_SIZE)

Hash32 = Annotated[bytes, Field(min_length=HASH_SIZE, max_length=HASH_SIZE)]
U8 = Annotated[int, Field(ge=0, le=0xFF)]
U16 = Annotated[int, Field(ge=0, le=0xFFFF)]
U32 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF)]
U64 = Annotated[int, Field(ge=0, le=0xFFFF_FFFF_FFFF_FFFF)]
I64 = Annotated[int, Field(ge=-(1 << 63), le=(1 << 63) - 1)]


class ServiceFlag(IntFlag):
    """``pact.ServiceFlag``: the services a node advertises in its version message."""

    NODE_NETWORK = 1
    """``SFNodeNetwork``: a full node."""
    TX_FILTERING = 2
    """``SFTxFiltering``: serves transaction filters (and ``mempool``)."""
    NODE_BLOOM = 4
    """``SFNodeBloom``: serves bloom filters."""


class InvType(IntEnum):
    """``msg.InvType``: what an inventory vector names.

    Quirk: the type is a u32 and a decoder accepts any value; a node ignores the ones it does
    not know (``handleInvMsg`` skips them, ``OnGetData`` logs them).
    """

    ERROR = 0
    TX = 1
    BLOCK = 2
    FILTERED_BLOCK = 3
    CONFIRMED_BLOCK = 4
    """A block together with its DPoS confirmation; ``getblocks`` answers with this type."""
    ADDRESS = 5


class RejectCode(IntEnum):
    """``msg.RejectCode``: the codes of a ``reject`` message (any u8 decodes)."""

    MALFORMED = 0x01
    INVALID = 0x10
    OBSOLETE = 0x11
    DUPLICATE = 0x12
    NONSTANDARD = 0x40
    DUST = 0x41
    INSUFFICIENT_FEE = 0x42
    CHECKPOINT = 0x43


class Network(SpecModel):
    """What the network layer needs to know of a network: its magic, port and size limits."""

    name: str
    magic: U32
    """The first four bytes of every message (``Configuration.Magic``)."""
    default_port: U16
    """``NodePort``."""
    max_block_context_size: U32
    """``pact.MaxBlockContextSize`` as the node sets it when the configuration file says nothing:
    2 000 000 on mainnet and regnet, 8 000 000 (the package default) on testnet."""
    max_block_header_size: U32 = 1_000_000
    """``pact.MaxBlockHeaderSize``."""


def _from_params(p: _params.NetworkParams) -> Network:
    return Network(name=p.name, magic=p.magic, default_port=p.default_port,
                   max_block_context_size=p.max_block_context_size, max_block_header_size=p.max_block_header_size)


MAINNET: Final = _from_params(_params.MAINNET)
TESTNET: Final = _from_params(_params.TESTNET)
REGNET: Final = _from_params(_params.REGNET)
INSTANT: Final = _from_params(_params.INSTANT)
NETWORKS: Final = {n.name: n for n in (MAINNET, TESTNET, REGNET, INSTANT)}
"""The networks by name, taken from :mod:`spec.chain.params` (``instant`` is regnet's network layer
under its own name). Upstream: ``common/config/config.go`` and ``common/config/settings/settings.go``."""

# -- rules ------------------------------------------------------------------------------------------

R_COMMAND_FIELD = rule(
    "P2P-001", Reason.COMMAND_FIELD_MALFORMED,
    "A header's 12-byte command field is a name of at most 11 bytes followed by NUL bytes only.",
    suite="chain", upstream="Header.Deserialize: \"unexpected length of CMD\"",
    note="Quirk: upstream only requires one NUL and trims trailing NULs, so a non-NUL byte after the first "
    "NUL leaves a name that matches no command (\"unhandled command\"); the spec names the fault itself.",
)
R_MAGIC = rule(
    "P2P-002", Reason.WRONG_NETWORK_MAGIC,
    "A header's magic is the network's magic.",
    suite="chain", upstream="ReadMessage: ErrUnmatchedMagic",
)
R_COMMAND_KNOWN = rule(
    "P2P-003", Reason.UNKNOWN_COMMAND,
    "A message's command is one of the commands of this profile.",
    suite="chain", upstream="createMessage: \"unhandled command\"",
    note="Deviation: upstream also decodes filterload, filteradd, filterclear, txfilter, merkleblock and "
    "daddr; a node of this profile offers neither SPV filtering nor DPoS and refuses them.",
)
R_PAYLOAD_SIZE = rule(
    "P2P-004", Reason.PAYLOAD_TOO_LARGE,
    "A message's payload length is at most its command's maximum (and at most 32 MiB).",
    suite="chain", upstream="CheckAndCreateMessage: ErrMsgSizeExceeded (hdr.Length > message.MaxLength())",
)
R_CHECKSUM = rule(
    "P2P-005", Reason.BAD_CHECKSUM,
    "A header's checksum is the first 4 bytes of sha256d of the payload.",
    suite="chain", upstream="Header.Verify: \"unmatched body checksum\" (ErrInvalidPayload)",
)
R_NODE_VERSION = rule(
    "P2P-006", Reason.NODE_VERSION_FIELD,
    "A version message carries a node version string exactly when its protocol version is at least "
    "80000 (CRProposalVersion).",
    suite="chain", upstream="Version.Serialize / Deserialize: \"if msg.Version >= pact.CRProposalVersion\"",
    note="Quirk: the field's presence is decided by the version number, so a decoder cannot see a mismatch; "
    "the spec refuses to build one (upstream would silently drop the string).",
)
R_INV_COUNT = rule(
    "P2P-007", Reason.TOO_MANY_ITEMS,
    "An inv, getdata or notfound message lists at most 50000 inventory vectors.",
    suite="chain", upstream="Inv.Deserialize: \"too many invvect in message\"",
)
R_ADDR_COUNT = rule(
    "P2P-008", Reason.TOO_MANY_ITEMS,
    "An addr message lists at most 1000 addresses.",
    suite="chain", upstream="Addr.Deserialize: \"too many addresses for message\"",
)
R_LOCATOR_COUNT = rule(
    "P2P-009", Reason.TOO_MANY_ITEMS,
    "A getblocks message carries at most 500 locator hashes.",
    suite="chain", upstream="GetBlocks.Deserialize: \"too many block locator hashes for message\"",
)
R_VERSION_FIRST = rule(
    "P2P-010", Reason.VERSION_NOT_FIRST,
    "The first message a peer sends is version.",
    suite="chain", upstream="readRemoteVersionMsg: \"A version message must precede all others\"",
    note="Deviation: upstream sends a reject but returns the write's nil error, so the connection carries on "
    "with no version known; the spec ends the session.",
)
R_DUPLICATE_VERSION = rule(
    "P2P-011", Reason.DUPLICATE_VERSION,
    "A peer sends version once.",
    suite="chain", upstream="inHandler: \"duplicate version message\" (ErrP2pRejectDuplicate)",
)
R_DUPLICATE_VERACK = rule(
    "P2P-012", Reason.DUPLICATE_VERACK,
    "A peer sends verack at most once.",
    suite="chain", upstream="inHandler: \"Already received 'verack' from peer\"",
)
R_SELF_CONNECTION = rule(
    "P2P-013", Reason.SELF_CONNECTION,
    "A peer's version nonce is not the nonce of a version message this node sent.",
    suite="chain", upstream="handleRemoteVersionMsg: \"disconnecting peer connected to self\"",
    note="Deviation: upstream compares with a set of sent nonces that its own version messages never add "
    "to (localVersionMsg draws a fresh random nonce), so its check never fires; the spec checks the nonces "
    "the node actually sent.",
)
R_MIN_VERSION = rule(
    "P2P-014", Reason.PROTOCOL_VERSION_TOO_OLD,
    "A peer that advertises SFNodeNetwork negotiates protocol version 20000 (DPOSStartVersion) or higher.",
    suite="chain", upstream="ServerPeer.OnVersion: \"Disconnect full node peers that do not support DPOS protocol\"",
    note="Quirk: peers without SFNodeNetwork (SPV wallets) may be older; upstream only limits how many of "
    "them it keeps.",
)
R_EMPTY_ADDR = rule(
    "P2P-015", Reason.EMPTY_ADDR,
    "An addr message lists at least one address.",
    suite="chain", upstream="serverPeer.OnAddr: \"does not contain any addresses\"",
)
R_NOTFOUND_TX_ONLY = rule(
    "P2P-016", Reason.NOTFOUND_NON_TX,
    "A notfound message lists transactions only.",
    suite="chain", upstream="ServerPeer.OnNotFound: ban score 100 and disconnect",
    note="Quirk: upstream's own OnGetData answers a missing block with notfound, and a peer receiving it "
    "bans the sender; a node should not send notfound for blocks.",
)
R_MEMPOOL_SERVICE = rule(
    "P2P-017", Reason.SERVICE_NOT_OFFERED,
    "A peer sends mempool only to a node that advertises SFTxFiltering.",
    suite="chain", upstream="ServerPeer.OnMemPool: \"sent mempool request with bloom filtering disabled\"",
)

# -- checks -----------------------------------------------------------------------------------------


def _check_inv_count(count: int) -> None:
    # [P2P-007] at most 50000 inventory vectors
    if count > MAX_INV_PER_MSG:
        raise DecodeError(Reason.TOO_MANY_ITEMS, "P2P-007", f"{count} inventory vectors, at most {MAX_INV_PER_MSG}")


def _check_addr_count(count: int) -> None:
    # [P2P-008] at most 1000 addresses
    if count > MAX_ADDR_PER_MSG:
        raise DecodeError(Reason.TOO_MANY_ITEMS, "P2P-008", f"{count} addresses, at most {MAX_ADDR_PER_MSG}")


def _check_locator_count(count: int) -> None:
    # [P2P-009] at most 500 locator hashes
    if count > MAX_BLOCK_LOCATORS_PER_MSG:
        raise DecodeError(
            Reason.TOO_MANY_ITEMS, "P2P-009", f"{count} locator hashes, at most {MAX_BLOCK_LOCATORS_PER_MSG}"
        )


# -- parts ------------------------------------------------------------------------------------------


class NetAddress(SpecModel):
    """``p2p.NetAddress``: 34 bytes, every integer little-endian.

    Quirk: unlike Bitcoin's, the timestamp is an ``i64`` (Unix seconds) and the port is
    little-endian.
    """

    timestamp: I64
    """When the address was last seen, Unix seconds."""
    services: U64
    """The node's :class:`ServiceFlag` bits."""
    ip: Annotated[bytes, Field(min_length=IP_SIZE, max_length=IP_SIZE)]
    """16 bytes; an IPv4 address is ``::ffff:a.b.c.d``."""
    port: U16

    def serialize(self) -> bytes:
        return (encode_int(self.timestamp, "i64") + encode_int(self.services, "u64") + self.ip
                + encode_int(self.port, "u16"))

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(
            timestamp=read_i64(r, "address timestamp"), services=read_u64(r, "address services"),
            ip=r.read(IP_SIZE, "address ip"), port=read_u16(r, "address port"),
        )


class InvVect(SpecModel):
    """``msg.InvVect``: an inventory vector, 36 bytes."""

    type: U32
    """An :class:`InvType` (any u32 decodes)."""
    hash: Hash32
    """The transaction or block hash, stored order."""

    def serialize(self) -> bytes:
        return encode_int(self.type, "u32") + self.hash

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(type=read_u32(r, "inventory type"), hash=r.read(HASH_SIZE, "inventory hash"))


# -- messages ---------------------------------------------------------------------------------------


class Message(SpecModel):
    """A message payload. ``command`` names it in the header; ``encode()`` is the payload."""

    command: ClassVar[str] = ""

    @classmethod
    def max_payload(cls, network: Network) -> int:
        """``MaxLength()``: the largest payload a receiver reads for this command."""
        return 0


class _Empty(Message):
    """A message without payload."""

    def serialize(self) -> bytes:
        return b""

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls()


class MsgVersion(Message):
    """``version``: the first message of each side of a connection."""

    command: ClassVar[str] = "version"

    version: U32
    """The sender's protocol version."""
    services: U64
    """The sender's :class:`ServiceFlag` bits."""
    timestamp: U32
    """The sender's clock, Unix seconds (a u32 here, unlike the i64 of ``NetAddress``)."""
    port: U16
    """The port the sender listens on."""
    nonce: U64
    """Random; detects a connection to oneself ([P2P-013])."""
    height: U64
    """The sender's best height."""
    relay: bool
    """Whether the sender wants transactions relayed (any non-zero byte reads as true)."""
    node_version: bytes | None = None
    """The sender's software version, present exactly when ``version >= 80000`` ([P2P-006])."""

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return VERSION_MAX_PAYLOAD

    def serialize(self) -> bytes:
        # [P2P-006] a node version string exactly when version >= CRProposalVersion
        if (self.node_version is not None) != (self.version >= CR_PROPOSAL_VERSION):
            raise Reject(
                Reason.NODE_VERSION_FIELD, "P2P-006",
                f"protocol version {self.version} with node_version {'present' if self.node_version is not None else 'absent'}",
            )
        out = (encode_int(self.version, "u32") + encode_int(self.services, "u64") + encode_int(self.timestamp, "u32")
               + encode_int(self.port, "u16") + encode_int(self.nonce, "u64") + encode_int(self.height, "u64")
               + encode_bool(self.relay))
        return out + (encode_varstring(self.node_version) if self.node_version is not None else b"")

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        version = read_u32(r, "version")
        services = read_u64(r, "services")
        timestamp = read_u32(r, "timestamp")
        port = read_u16(r, "port")
        nonce = read_u64(r, "nonce")
        height = read_u64(r, "height")
        relay = read_bool(r, "relay")
        node_version = read_varstring(r, MAX_VAR_STRING_LENGTH, "node version") if version >= CR_PROPOSAL_VERSION else None
        return cls(version=version, services=services, timestamp=timestamp, port=port, nonce=nonce, height=height,
                   relay=relay, node_version=node_version)


class MsgVerAck(_Empty):
    """``verack``: acknowledges the peer's version."""

    command: ClassVar[str] = "verack"


class MsgGetAddr(_Empty):
    """``getaddr``: asks for known addresses."""

    command: ClassVar[str] = "getaddr"


class MsgMemPool(_Empty):
    """``mempool``: asks for the transactions of the peer's memory pool (answered by ``inv``)."""

    command: ClassVar[str] = "mempool"


class MsgAddr(Message):
    """``addr``: known addresses.

    Quirk: the count is a ``u64``, not a VarUint.
    """

    command: ClassVar[str] = "addr"

    addresses: tuple[NetAddress, ...]

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return 8 + MAX_ADDR_PER_MSG * 42  # upstream's bound, reckoned with 42-byte addresses

    def serialize(self) -> bytes:
        _check_addr_count(len(self.addresses))
        return encode_int(len(self.addresses), "u64") + b"".join(a.serialize() for a in self.addresses)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        count = read_u64(r, "address count")
        _check_addr_count(count)
        return cls(addresses=tuple(NetAddress.deserialize(r) for _ in range(count)))


class MsgPing(Message):
    """``ping``.

    Quirk: the nonce is the sender's best height, and a receiver takes it as the peer's height
    (truncated to 32 bits).
    """

    command: ClassVar[str] = "ping"

    nonce: U64

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return 8

    def serialize(self) -> bytes:
        return encode_int(self.nonce, "u64")

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(nonce=read_u64(r, "nonce"))


class MsgPong(MsgPing):
    """``pong``: the answer to a ping.

    Quirk: the nonce is the responder's best height, not an echo of the ping's nonce.
    """

    command: ClassVar[str] = "pong"


class MsgGetBlocks(Message):
    """``getblocks``: asks for the hashes of the blocks after the first locator hash the peer knows,
    up to ``hash_stop`` (all zero: no stop) or :data:`MAX_BLOCKS_PER_MSG` blocks; answered by ``inv``.

    Quirk: the count is a ``u32``, not a VarUint.
    """

    command: ClassVar[str] = "getblocks"

    locator: tuple[Hash32, ...]
    """Block hashes, newest first (see :func:`block_locator`)."""
    hash_stop: Hash32
    """The last block wanted, or all zero."""

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return 4 + MAX_BLOCK_LOCATORS_PER_MSG * HASH_SIZE + HASH_SIZE

    def serialize(self) -> bytes:
        _check_locator_count(len(self.locator))
        return encode_int(len(self.locator), "u32") + b"".join(self.locator) + self.hash_stop

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        count = read_u32(r, "locator count")
        _check_locator_count(count)
        locator = tuple(r.read(HASH_SIZE, "locator hash") for _ in range(count))
        return cls(locator=locator, hash_stop=r.read(HASH_SIZE, "hash stop"))


class MsgInv(Message):
    """``inv``: announces inventory.

    Quirk: the count is a ``u32``, not a VarUint.
    """

    command: ClassVar[str] = "inv"

    inventory: tuple[InvVect, ...]

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return 4 + MAX_INV_PER_MSG * INV_VECT_SIZE

    def serialize(self) -> bytes:
        _check_inv_count(len(self.inventory))
        return encode_int(len(self.inventory), "u32") + b"".join(v.serialize() for v in self.inventory)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        count = read_u32(r, "inventory count")
        _check_inv_count(count)
        return cls(inventory=tuple(InvVect.deserialize(r) for _ in range(count)))


class MsgGetData(MsgInv):
    """``getdata``: asks for the listed inventory (answered by ``block``, ``tx`` or ``notfound``)."""

    command: ClassVar[str] = "getdata"


class MsgNotFound(MsgInv):
    """``notfound``: the requested inventory the sender does not have (transactions only, [P2P-016])."""

    command: ClassVar[str] = "notfound"


class MsgBlock(Message):
    """``block``: a serialized ``DposBlock`` -- the block, a has-confirm bool, and the confirm when
    it is true -- kept as raw bytes; :mod:`spec.chain.block` decodes it."""

    command: ClassVar[str] = "block"

    data: bytes

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return (network.max_block_context_size + network.max_block_header_size) * 2

    def serialize(self) -> bytes:
        return self.data

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(data=r.read(r.remaining, "block"))


class MsgTx(Message):
    """``tx``: a serialized transaction, kept as raw bytes; :mod:`spec.chain.tx` decodes it."""

    command: ClassVar[str] = "tx"

    data: bytes

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return network.max_block_context_size

    def serialize(self) -> bytes:
        return self.data

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(data=r.read(r.remaining, "tx"))


class MsgReject(Message):
    """``reject``: why a message was refused.

    Quirk: the hash is always written (all zero unless the rejected command was ``block`` or
    ``tx``), unlike Bitcoin's, which has it only for those two.
    """

    command: ClassVar[str] = "reject"

    rejected_command: bytes
    """The command of the refused message (``"malformed"`` for bytes that did not decode)."""
    code: U8
    """A :class:`RejectCode` (any u8 decodes)."""
    reason: bytes
    """Human-readable text (upstream sends its JSON error form)."""
    hash: Hash32
    """The refused block or transaction, or all zero."""

    @classmethod
    def max_payload(cls, network: Network) -> int:
        return MAX_REJECT_MESSAGE_SIZE

    def serialize(self) -> bytes:
        return (encode_varstring(self.rejected_command) + encode_int(self.code, "u8")
                + encode_varstring(self.reason) + self.hash)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        return cls(
            rejected_command=read_varstring(r, MAX_VAR_STRING_LENGTH, "reject command"),
            code=read_u8(r, "reject code"),
            reason=read_varstring(r, MAX_VAR_STRING_LENGTH, "reject reason"),
            hash=r.read(HASH_SIZE, "reject hash"),
        )


MessageClass = type[Message]
"""A message class (a subclass of :class:`Message`)."""

MESSAGE_TYPES: Final[dict[str, MessageClass]] = {
    m.command: m for m in (
        MsgVersion, MsgVerAck, MsgGetAddr, MsgAddr, MsgPing, MsgPong, MsgGetBlocks, MsgInv, MsgGetData,
        MsgNotFound, MsgBlock, MsgTx, MsgReject, MsgMemPool,
    )
}
"""Command -> payload type: every command of this profile."""

LEFT_OUT_COMMANDS: Final = ("filterload", "filteradd", "filterclear", "txfilter", "merkleblock", "daddr")
"""Upstream commands this profile does not define ([P2P-003])."""


def message_type(command: str) -> MessageClass:
    """The payload type of ``command``."""
    cls = MESSAGE_TYPES.get(command)
    # [P2P-003] a command of this profile
    if cls is None:
        raise DecodeError(Reason.UNKNOWN_COMMAND, "P2P-003", f"command {command!r}")
    return cls


def max_payload(command: str, network: Network) -> int:
    """The largest payload a receiver reads for ``command`` on ``network`` (never above 32 MiB)."""
    return min(message_type(command).max_payload(network), MAX_MESSAGE_PAYLOAD)


# -- framing ---------------------------------------------------------------------------------------


def checksum(payload: bytes) -> bytes:
    """The first four bytes of sha256d(payload)."""
    return sha256d(payload)[:CHECKSUM_SIZE]


class MessageHeader(SpecModel):
    """The 24-byte header in front of every payload."""

    magic: U32
    command: Annotated[bytes, Field(max_length=MAX_COMMAND_LENGTH)]
    """The name, without its NUL padding."""
    length: U32
    """Payload length."""
    checksum: Annotated[bytes, Field(min_length=CHECKSUM_SIZE, max_length=CHECKSUM_SIZE)]

    @property
    def name(self) -> str:
        """The command as text (bytes outside ASCII become U+FFFD and match no command)."""
        return self.command.decode("ascii", errors="replace")

    def serialize(self) -> bytes:
        # [P2P-001] a name of at most 11 bytes with no NUL in it
        if b"\x00" in self.command:
            raise DecodeError(Reason.COMMAND_FIELD_MALFORMED, "P2P-001", "command name holds a NUL byte")
        return (encode_int(self.magic, "u32") + self.command.ljust(COMMAND_SIZE, b"\x00")
                + encode_int(self.length, "u32") + self.checksum)

    @classmethod
    def deserialize(cls, r: Reader) -> Self:
        magic = read_u32(r, "magic")
        field = r.read(COMMAND_SIZE, "command")
        end = field.find(b"\x00")
        # [P2P-001] at least one NUL, and only NULs after the first
        if end < 0 or field[end:].strip(b"\x00"):
            raise DecodeError(
                Reason.COMMAND_FIELD_MALFORMED, "P2P-001",
                f"command field {field.hex()}: " + ("no NUL terminator" if end < 0 else "non-NUL byte after the first NUL"),
            )
        return cls(magic=magic, command=field[:end], length=read_u32(r, "length"),
                   checksum=r.read(CHECKSUM_SIZE, "checksum"))


def read_message_header(data: bytes, network: Network) -> MessageHeader:
    """Check the 24 header bytes of a message; ``length`` says how many payload bytes follow.

    Everything that can be checked before the payload is read is checked here: a node reads the
    header, calls this, then reads ``length`` bytes and calls :func:`decode_payload`.
    """
    header = MessageHeader.decode(data)
    # [P2P-002] the network's magic
    if header.magic != network.magic:
        raise DecodeError(
            Reason.WRONG_NETWORK_MAGIC, "P2P-002", f"magic {header.magic}, {network.name} is {network.magic}"
        )
    limit = max_payload(header.name, network)
    # [P2P-004] the declared length is at most the command's maximum
    if header.length > limit:
        raise DecodeError(
            Reason.PAYLOAD_TOO_LARGE, "P2P-004", f"{header.name}: {header.length} bytes, at most {limit}"
        )
    return header


def decode_payload(header: MessageHeader, payload: bytes) -> Message:
    """Check the payload against its (already checked) header and decode it."""
    r = Reader(payload)
    r.read(header.length, f"{header.name} payload")
    r.finish(f"{header.name} message")
    # [P2P-005] the checksum is the first 4 bytes of sha256d(payload)
    if checksum(payload) != header.checksum:
        raise DecodeError(
            Reason.BAD_CHECKSUM, "P2P-005", f"{header.name}: checksum {header.checksum.hex()}, payload gives "
            f"{checksum(payload).hex()}",
        )
    return message_type(header.name).decode(payload)


def decode_message(data: bytes, network: Network) -> Message:
    """Decode one whole message (header and payload, nothing more) received on ``network``."""
    r = Reader(data)
    header = read_message_header(r.read(HEADER_SIZE, "message header"), network)
    return decode_payload(header, data[HEADER_SIZE:])


def frame(network: Network, command: str, payload: bytes) -> bytes:
    """Header and payload: ``WriteMessage`` for an already serialized payload."""
    limit = max_payload(command, network)
    # [P2P-004] the payload is at most the command's maximum
    if len(payload) > limit:
        raise DecodeError(Reason.PAYLOAD_TOO_LARGE, "P2P-004", f"{command}: {len(payload)} bytes, at most {limit}")
    header = MessageHeader(magic=network.magic, command=command.encode("ascii"), length=len(payload),
                           checksum=checksum(payload))
    return header.serialize() + payload


def encode_message(network: Network, message: Message) -> bytes:
    """The whole message: header and payload."""
    return frame(network, message.command, message.serialize())


# -- the session: handshake and what a node refuses from a peer --------------------------------------


class PeerSession(SpecModel):
    """What a node knows of one connection, as the peer's messages arrive.

    :func:`session_step` takes the session and one message from the peer and returns the new
    session, whose ``replies`` are the commands the session layer answers that message with.
    The answers that depend on the chain (``inv`` for ``getblocks`` and ``mempool``, ``block``,
    ``tx`` or ``notfound`` for ``getdata``, ``getdata`` for ``inv``) belong to the sync layer and are
    not listed.

    Order of a handshake: an outbound node sends its version first; an inbound node waits for the
    peer's version, then sends its own. Each side sends verack after it has accepted the other's
    version. Upstream does not wait for the peer's verack before handling other messages, and
    neither does the spec; a node that sent version expects verack within 30 seconds (a timer,
    outside the pure spec).
    """

    inbound: bool
    """The peer connected to this node."""
    local_version: U32 = PROTOCOL_VERSION
    """The protocol version this node advertises."""
    local_services: U64 = int(ServiceFlag.NODE_NETWORK)
    """The services this node advertises."""
    local_nonces: tuple[U64, ...] = ()
    """Nonces of the version messages this node has sent ([P2P-013])."""
    version_received: bool = False
    verack_received: bool = False
    protocol_version: U32 = 0
    """The negotiated version: ``min(local_version, peer's version)`` once version is received."""
    services: U64 = 0
    """The peer's services."""
    relay: bool = True
    """Whether the peer wants transactions relayed (its version's ``relay``)."""
    height: U32 = 0
    """The peer's height: its version's height, then each ping or pong nonce (truncated to 32 bits)."""
    node_version: bytes | None = None
    """The peer's software version, if its protocol version carries one."""
    sent_addrs: bool = False
    """This node has answered a getaddr on this connection (it answers one, from an inbound peer)."""
    replies: tuple[str, ...] = ()
    """The commands the session layer sends in answer to the last message."""


def session_step(state: PeerSession, message: Message) -> PeerSession:
    """The session after ``message`` from the peer, or a :class:`~spec.errors.Reject`: the node
    then sends ``reject`` where upstream does (P2P-010, P2P-011) and disconnects."""
    if not state.version_received:
        # [P2P-010] the first message from a peer is version
        if not isinstance(message, MsgVersion):
            raise Reject(Reason.VERSION_NOT_FIRST, "P2P-010", f"first message is {message.command}")
        # [P2P-013] not one of this node's own nonces
        if message.nonce in state.local_nonces:
            raise Reject(Reason.SELF_CONNECTION, "P2P-013", f"nonce {message.nonce} is this node's own")
        negotiated = min(state.local_version, message.version)
        full_node = message.services & ServiceFlag.NODE_NETWORK == ServiceFlag.NODE_NETWORK
        # [P2P-014] a full-node peer speaks DPOSStartVersion or later
        if full_node and negotiated < DPOS_START_VERSION:
            raise Reject(
                Reason.PROTOCOL_VERSION_TOO_OLD, "P2P-014",
                f"full node with negotiated version {negotiated} < {DPOS_START_VERSION}",
            )
        return state.model_copy(update={
            "version_received": True, "protocol_version": negotiated, "services": message.services,
            "relay": message.relay, "height": message.height & 0xFFFF_FFFF, "node_version": message.node_version,
            "replies": ("version", "verack") if state.inbound else ("verack",),
        })
    # [P2P-011] one version per connection
    if isinstance(message, MsgVersion):
        raise Reject(Reason.DUPLICATE_VERSION, "P2P-011", "second version message")
    update: dict[str, object] = {"replies": ()}
    if isinstance(message, MsgVerAck):
        # [P2P-012] at most one verack
        if state.verack_received:
            raise Reject(Reason.DUPLICATE_VERACK, "P2P-012", "second verack")
        update["verack_received"] = True
    elif isinstance(message, MsgPing):  # MsgPong too
        update["height"] = message.nonce & 0xFFFF_FFFF
        if not isinstance(message, MsgPong):
            update["replies"] = ("pong",)
    elif isinstance(message, MsgAddr):
        # [P2P-015] an addr message lists at least one address
        if not message.addresses:
            raise Reject(Reason.EMPTY_ADDR, "P2P-015", "addr with no addresses")
    elif isinstance(message, MsgGetAddr):
        if state.inbound and not state.sent_addrs:
            update.update(sent_addrs=True, replies=("addr",))
    elif isinstance(message, MsgNotFound):
        for v in message.inventory:
            # [P2P-016] notfound lists transactions only
            if v.type != InvType.TX:
                raise Reject(Reason.NOTFOUND_NON_TX, "P2P-016", f"notfound lists inventory type {v.type}")
    elif isinstance(message, MsgMemPool):
        # [P2P-017] mempool only to a node that offers SFTxFiltering
        if state.local_services & ServiceFlag.TX_FILTERING != ServiceFlag.TX_FILTERING:
            raise Reject(Reason.SERVICE_NOT_OFFERED, "P2P-017", "mempool, but this node has no SFTxFiltering")
    return state.model_copy(update=update)


def run_session(state: PeerSession, messages: Sequence[Message]) -> tuple[PeerSession, list[tuple[str, ...]]]:
    """Apply :func:`session_step` to each message; the final session and the replies to each."""
    replies = []
    for m in messages:
        state = session_step(state, m)
        replies.append(state.replies)
    return state, replies


# -- block locators and getblocks -----------------------------------------------------------------


def block_locator(chain: Sequence[bytes], height: int | None = None) -> tuple[bytes, ...]:
    """``BlockLocatorFromHash`` for the main-chain block at ``height`` (the tip by default).

    ``chain[h]`` is the hash of the main-chain block at height ``h``; ``chain[0]`` is the genesis.
    The locator is the block's hash, then the ten blocks below it one by one, then steps that
    double (2, 4, 8, ...) while the height stays at least 1, then the genesis hash; at most
    :data:`MAX_LOCATOR_SIZE` hashes. The locator of the genesis is the genesis alone.
    """
    h = len(chain) - 1 if height is None else height
    if not 0 <= h < len(chain):
        raise ValueError(f"height {h} is not on a chain of {len(chain)} blocks")
    locator = [chain[h]]
    if h == 0:
        return tuple(locator)
    step = 1
    while len(locator) < MAX_LOCATOR_SIZE - 1:
        if len(locator) > 10:
            step *= 2
        h -= step
        if h < 1:
            break
        locator.append(chain[h])
    locator.append(chain[0])
    return tuple(locator)


def locate_blocks(
    chain: Sequence[bytes], locator: Sequence[bytes], hash_stop: bytes, max_hashes: int = MAX_BLOCKS_PER_MSG,
) -> tuple[bytes, ...]:
    """``LocateBlocks``: the hashes a node answers a ``getblocks`` with (in an ``inv`` of
    :attr:`InvType.CONFIRMED_BLOCK` vectors, or of :attr:`InvType.BLOCK` to a peer with a filter).

    ``chain[h]`` is the main-chain hash at height ``h``. The start is the first locator hash on
    the chain (height 0 when none is); the answer is the blocks after the start, up to and
    including ``hash_stop`` if it is non-zero, else up to the tip, at most ``max_hashes`` of them.
    An unknown non-zero ``hash_stop``, or one below the start, gives nothing.

    Quirk: upstream's comment promises that an empty locator asks for the stop block alone; the
    code treats it like a locator of unknown hashes and returns the chain from height 1 up to the
    stop block (at most ``max_hashes``).

    Deviation: upstream finds locator hashes in its block database, which may also hold blocks of
    side branches; the spec knows only the main chain, and a hash off it counts as unknown.
    """
    heights: dict[bytes, int] = {}
    for i, h in enumerate(chain):
        heights.setdefault(bytes(h), i)
    start = next((heights[h] for h in locator if h in heights), None)
    start_height = start if start is not None else 0
    tip = len(chain) - 1
    if hash_stop == ZERO_HASH:
        count = tip - start_height
    else:
        stop = heights.get(hash_stop)
        if stop is None or stop < start_height:
            return ()
        count = stop - start_height
    count = max(0, min(count, max_hashes))
    return tuple(chain[start_height + 1: start_height + 1 + count])
