"""Handlers of the ``chain`` suite for the peer-to-peer messages, the session rules and getblocks.

``network`` is ``mainnet``, ``testnet``, ``regnet`` or ``instant`` (:data:`spec.chain.p2p.NETWORKS`;
another name is refused with ``UNKNOWN_NETWORK``, NET-001). A
message payload is written as a JSON object of its fields:

==============================  ===========================================================================
command                         payload fields
==============================  ===========================================================================
``version``                     ``version`` (number), ``services`` (decimal), ``timestamp`` (number),
                                ``port`` (number), ``nonce`` (decimal), ``height`` (decimal), ``relay``
                                (bool), ``node_version`` (hex, or null below protocol version 80000)
``verack getaddr mempool``      none: ``{}``
``addr``                        ``addresses``: list of ``{timestamp (decimal i64), services (decimal),
                                ip (16-byte hex), port (number)}``
``ping pong``                   ``nonce`` (decimal)
``getblocks``                   ``locator`` (list of hashes), ``hash_stop`` (hash)
``inv getdata notfound``        ``inventory``: list of ``{type (number), hash}``
``block tx``                    ``data`` (hex): the raw serialized block or transaction
``reject``                      ``rejected_command`` (hex), ``code`` (number), ``reason`` (hex), ``hash``
==============================  ===========================================================================

Hashes are stored-order hex. An integer outside its wire type is ``VALUE_OUT_OF_RANGE``; a hash
that is not 32 bytes is ``WRONG_LENGTH``.
"""

from __future__ import annotations

from typing import Any

from spec.chain import p2p
from spec.chain import params as P
from spec.encoding.hashes import Uint256
from spec.encoding.primitives import encode_int
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]


def _malformed(detail: str) -> Reject:
    return Reject(Reason.MALFORMED_INPUT, None, detail)


def _network(inp: Input) -> p2p.Network:
    return p2p.NETWORKS[P.network(inp.text("network")).name]  # NET-001


def _num(inp: Input, key: str, type_name: str) -> int:
    """A JSON-number integer field, range-checked against its wire type (``ENC-005``)."""
    v = inp.raw(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise _malformed(f"{key}: expected an integer")
    encode_int(v, type_name)
    return v


def _dec(inp: Input, key: str, type_name: str) -> int:
    """A decimal-string integer field, range-checked against its wire type (``ENC-005``)."""
    v = inp.big_int(key)
    encode_int(v, type_name)
    return v


def _bool(inp: Input, key: str) -> bool:
    v = inp.raw(key)
    if not isinstance(v, bool):
        raise _malformed(f"{key}: expected true or false")
    return v


def _hash(inp: Input, key: str) -> bytes:
    return Uint256.from_bytes(inp.hex(key)).data


def _hashes(inp: Input, key: str) -> tuple[bytes, ...]:
    return tuple(Uint256.from_bytes(h).data for h in inp.hex_list(key))


def _objects(inp: Input, key: str) -> list[Any]:
    v = inp.raw(key)
    if not isinstance(v, list):
        raise _malformed(f"{key}: expected a list")
    return v


# -- payloads <-> JSON ------------------------------------------------------------------------------


def payload_from_json(command: str, data: Any) -> p2p.Message:
    """The message of ``command`` from its JSON fields (``UNKNOWN_COMMAND`` for a command outside the profile)."""
    cls = p2p.message_type(command)
    if cls is p2p.MsgVersion:
        inp = Input(data, ("version", "services", "timestamp", "port", "nonce", "height", "relay", "node_version"))
        nv = inp.raw("node_version")
        return p2p.MsgVersion(
            version=_num(inp, "version", "u32"), services=_dec(inp, "services", "u64"),
            timestamp=_num(inp, "timestamp", "u32"), port=_num(inp, "port", "u16"), nonce=_dec(inp, "nonce", "u64"),
            height=_dec(inp, "height", "u64"), relay=_bool(inp, "relay"),
            node_version=None if nv is None else inp.hex("node_version"),
        )
    if cls in (p2p.MsgVerAck, p2p.MsgGetAddr, p2p.MsgMemPool):
        Input(data, ())
        return cls()
    if cls is p2p.MsgAddr:
        addresses = []
        for item in _objects(Input(data, ("addresses",)), "addresses"):
            a = Input(item, ("timestamp", "services", "ip", "port"))
            ip = a.hex("ip")
            if len(ip) != p2p.IP_SIZE:
                raise _malformed("ip: expected 16 bytes")
            addresses.append(p2p.NetAddress(
                timestamp=_dec(a, "timestamp", "i64"), services=_dec(a, "services", "u64"), ip=ip,
                port=_num(a, "port", "u16"),
            ))
        return p2p.MsgAddr(addresses=tuple(addresses))
    if issubclass(cls, p2p.MsgPing):
        return cls(nonce=_dec(Input(data, ("nonce",)), "nonce", "u64"))
    if cls is p2p.MsgGetBlocks:
        inp = Input(data, ("locator", "hash_stop"))
        return p2p.MsgGetBlocks(locator=_hashes(inp, "locator"), hash_stop=_hash(inp, "hash_stop"))
    if issubclass(cls, p2p.MsgInv):
        inventory = []
        for item in _objects(Input(data, ("inventory",)), "inventory"):
            v = Input(item, ("type", "hash"))
            inventory.append(p2p.InvVect(type=_num(v, "type", "u32"), hash=_hash(v, "hash")))
        return cls(inventory=tuple(inventory))
    if cls in (p2p.MsgBlock, p2p.MsgTx):
        return cls(data=Input(data, ("data",)).hex("data"))
    assert cls is p2p.MsgReject
    inp = Input(data, ("rejected_command", "code", "reason", "hash"))
    return p2p.MsgReject(rejected_command=inp.hex("rejected_command"), code=_num(inp, "code", "u8"),
                         reason=inp.hex("reason"), hash=_hash(inp, "hash"))


def payload_to_json(m: p2p.Message) -> Json:
    """The JSON fields of a message."""
    if isinstance(m, p2p.MsgVersion):
        return {
            "version": m.version, "services": str(m.services), "timestamp": m.timestamp, "port": m.port,
            "nonce": str(m.nonce), "height": str(m.height), "relay": m.relay,
            "node_version": None if m.node_version is None else m.node_version.hex(),
        }
    if isinstance(m, p2p.MsgAddr):
        return {"addresses": [
            {"timestamp": str(a.timestamp), "services": str(a.services), "ip": a.ip.hex(), "port": a.port}
            for a in m.addresses
        ]}
    if isinstance(m, p2p.MsgPing):
        return {"nonce": str(m.nonce)}
    if isinstance(m, p2p.MsgGetBlocks):
        return {"locator": [h.hex() for h in m.locator], "hash_stop": m.hash_stop.hex()}
    if isinstance(m, p2p.MsgInv):
        return {"inventory": [{"type": v.type, "hash": v.hash.hex()} for v in m.inventory]}
    if isinstance(m, (p2p.MsgBlock, p2p.MsgTx)):
        return {"data": m.data.hex()}
    if isinstance(m, p2p.MsgReject):
        return {"rejected_command": m.rejected_command.hex(), "code": m.code, "reason": m.reason.hex(),
                "hash": m.hash.hex()}
    return {}


def _message(item: Any) -> p2p.Message:
    inp = Input(item, ("command", "payload"))
    return payload_from_json(inp.text("command"), inp.raw("payload"))


# -- handlers ---------------------------------------------------------------------------------------


@handler(
    "chain", "ela.p2p.decode",
    "`network`, `message` (header and payload) -> `command`, `payload` (its fields): one whole message",
)
def _decode(data: Any) -> Json:
    inp = Input(data, ("network", "message"))
    m = p2p.decode_message(inp.hex("message"), _network(inp))
    return {"command": m.command, "payload": payload_to_json(m)}


@handler("chain", "ela.p2p.encode", "`network`, `command`, `payload` (its fields) -> `message`: header and payload")
def _encode(data: Any) -> Json:
    inp = Input(data, ("network", "command", "payload"))
    network = _network(inp)
    m = payload_from_json(inp.text("command"), inp.raw("payload"))
    return {"message": p2p.encode_message(network, m).hex()}


@handler(
    "chain", "ela.p2p.read_header",
    "`network`, `header` (24 bytes) -> `command`, `length`, `checksum`: the checks made before the payload is read",
)
def _read_header(data: Any) -> Json:
    inp = Input(data, ("network", "header"))
    h = p2p.read_message_header(inp.hex("header"), _network(inp))
    return {"command": h.name, "length": h.length, "checksum": h.checksum.hex()}


def _session_json(s: p2p.PeerSession) -> Json:
    return {
        "version_received": s.version_received, "verack_received": s.verack_received,
        "protocol_version": s.protocol_version, "services": str(s.services), "relay": s.relay, "height": s.height,
        "node_version": None if s.node_version is None else s.node_version.hex(), "sent_addrs": s.sent_addrs,
    }


@handler(
    "chain", "ela.p2p.handshake",
    "`inbound`, `messages` (each `command`, `payload`) [, `local_version`, `local_services`, `local_nonces`] -> "
    "`replies` (per message), `state`: the session rules applied to a peer's messages in order",
)
def _handshake(data: Any) -> Json:
    inp = Input(data, ("inbound", "messages"), ("local_version", "local_services", "local_nonces"))
    local_nonces: list[int] = []
    if inp.has("local_nonces"):
        for item in _objects(inp, "local_nonces"):
            local_nonces.append(_dec(Input({"nonce": item}, ("nonce",)), "nonce", "u64"))
    state = p2p.PeerSession(
        inbound=_bool(inp, "inbound"),
        local_version=_num(inp, "local_version", "u32") if inp.has("local_version") else p2p.PROTOCOL_VERSION,
        local_services=_dec(inp, "local_services", "u64") if inp.has("local_services")
        else int(p2p.ServiceFlag.NODE_NETWORK),
        local_nonces=tuple(local_nonces),
    )
    messages = [_message(item) for item in _objects(inp, "messages")]
    state, replies = p2p.run_session(state, messages)
    return {"replies": [list(r) for r in replies], "state": _session_json(state)}


def _chain(inp: Input) -> tuple[bytes, ...]:
    chain = _hashes(inp, "chain")
    if not chain:
        raise _malformed("chain: at least the genesis hash")
    return chain


@handler(
    "chain", "ela.p2p.block_locator",
    "`chain` (main-chain hashes by height) [, `height`] -> `locator`: the locator of the block at `height` (the tip)",
)
def _block_locator(data: Any) -> Json:
    inp = Input(data, ("chain",), ("height",))
    chain = _chain(inp)
    height = inp.small_int("height", 0, len(chain) - 1) if inp.has("height") else None
    return {"locator": [h.hex() for h in p2p.block_locator(chain, height)]}


@handler(
    "chain", "ela.p2p.locate_blocks",
    "`chain`, `locator`, `hash_stop` [, `max` (500)] -> `hashes`: the blocks a getblocks is answered with",
)
def _locate_blocks(data: Any) -> Json:
    inp = Input(data, ("chain", "locator", "hash_stop"), ("max",))
    limit = inp.small_int("max", 0, p2p.MAX_BLOCKS_PER_MSG) if inp.has("max") else p2p.MAX_BLOCKS_PER_MSG
    hashes = p2p.locate_blocks(_chain(inp), _hashes(inp, "locator"), _hash(inp, "hash_stop"), limit)
    return {"hashes": [h.hex() for h in hashes]}
