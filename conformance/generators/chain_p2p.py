"""Generators of the ``chain`` suite for the peer-to-peer messages, the session rules and getblocks.

Message bytes are built here by hand (``struct`` and ``hashlib``), not by the spec's encoder, so
that malformed headers and payloads can be stated directly; the network magics come from the
upstream facts in ``shared/interop``.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from typing import Any

from spec.errors import Reason

from conformance.generators.common import det_bytes, fact, provenance
from conformance.vectors import CaseSpec, generator

OK = "ok"
FRAME_RULES = ("P2P-001", "P2P-002", "P2P-003", "P2P-004", "P2P-005")

CR_PROPOSAL_VERSION = 80000
TX_FILTERING = 2
U64_MAX = 2**64 - 1


def _magics() -> dict[str, int]:
    return {net: v["magic"] for net, v in fact("network_magics")["value"].items()}


def _magic_provenance() -> dict[str, Any]:
    return provenance("facts.json", "network_magics", fact("network_magics")["sources"])


def _sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def _varuint(n: int) -> bytes:
    if n < 0xFD:
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    return b"\xfe" + n.to_bytes(4, "little")


def _frame(magic: int, command: bytes, payload: bytes, *, length: int | None = None, check: bytes | None = None) -> bytes:
    """A message; ``command`` is a name (NUL-padded here) or an exact 12-byte field."""
    field = command if len(command) == 12 else command.ljust(12, b"\x00")
    n = len(payload) if length is None else length
    return struct.pack("<I", magic) + field + struct.pack("<I", n) + (check or _sha256d(payload)[:4]) + payload


def _hash(label: str) -> bytes:
    return det_bytes(f"p2p/hash/{label}", 32)


def _ipv4(a: int, b: int, c: int, d: int) -> bytes:
    return bytes(10) + b"\xff\xff" + bytes((a, b, c, d))


# -- payloads, by hand -----------------------------------------------------------------------------


def _version(version: int = 20000, services: int = 1, timestamp: int = 1_700_000_000, port: int = 20338,
             nonce: int = 0x0123456789ABCDEF, height: int = 1_500_000, relay: int = 1,
             node_version: bytes | None = None) -> bytes:
    out = struct.pack("<IQIHQQB", version, services, timestamp, port, nonce, height, relay)
    return out + (_varuint(len(node_version)) + node_version if node_version is not None else b"")


def _netaddr(timestamp: int, services: int, ip: bytes, port: int) -> bytes:
    return struct.pack("<qQ16sH", timestamp, services, ip, port)


def _addr(addresses: list[bytes], count: int | None = None) -> bytes:
    return struct.pack("<Q", len(addresses) if count is None else count) + b"".join(addresses)


def _inv(vectors: list[tuple[int, bytes]], count: int | None = None) -> bytes:
    return struct.pack("<I", len(vectors) if count is None else count) + b"".join(
        struct.pack("<I", t) + h for t, h in vectors)


def _getblocks(locator: list[bytes], stop: bytes, count: int | None = None) -> bytes:
    return struct.pack("<I", len(locator) if count is None else count) + b"".join(locator) + stop


def _reject(command: bytes, code: int, reason: bytes, h: bytes) -> bytes:
    return _varuint(len(command)) + command + bytes((code,)) + _varuint(len(reason)) + reason + h


ADDRESSES = [
    _netaddr(1_700_000_000, 1, _ipv4(10, 0, 0, 1), 20338),
    _netaddr(1_700_000_100, 7, _ipv4(192, 168, 1, 20), 20866),
    _netaddr(1_700_000_200, 3, bytes.fromhex("20010db8000000000000000000000001"), 21338),
]
INVENTORY = [(1, _hash("tx1")), (2, _hash("block1")), (4, _hash("confirmed1")), (3, _hash("filtered1"))]


def _decodable() -> Iterator[tuple[str, str, bytes, tuple[str, ...], str]]:
    """``(case, command, payload, extra rules, description)`` of well-formed messages."""
    yield "version_20000", "version", _version(), ("P2P-006",), "DPOSStartVersion: no node version string"
    yield ("version_80000", "version", _version(80000, node_version=b"v0.9.9"), ("P2P-006",),
           "CRProposalVersion: a node version string follows relay")
    yield ("version_80000_empty_node_version", "version", _version(80000, node_version=b""), ("P2P-006",),
           "an empty node version string is one 0x00 byte")
    yield ("version_80000_max_payload", "version", _version(80000, node_version=b"x" * 46), ("P2P-004", "P2P-006"),
           "35 fixed bytes + 1 + 46 = 82, the version message's maximum")
    yield ("version_spv_10001_no_relay", "version", _version(10001, services=0, relay=0, height=0), ("P2P-006",),
           "an SPV wallet's version; relay false")
    yield ("version_quirk_relay_byte_2", "version", _version(relay=2), ("P2P-006",),
           "Quirk: any non-zero relay byte reads as true")
    yield ("version_max_fields", "version", _version(0xFFFFFFFF, U64_MAX, 0xFFFFFFFF, 0xFFFF, U64_MAX, U64_MAX, 1,
                                                     b"ELA"), ("P2P-006",), "every integer at its maximum")
    for name in ("verack", "getaddr", "mempool"):
        yield name, name, b"", (), "an empty payload; the checksum is that of no bytes (5df6e0e2)"
    yield "ping", "ping", struct.pack("<Q", 1_234_567), (), "the nonce is the sender's height"
    yield "pong", "pong", struct.pack("<Q", U64_MAX), (), "u64 nonce at its maximum"
    yield "addr_one", "addr", _addr(ADDRESSES[:1]), ("P2P-008",), "one IPv4-mapped address; the count is a u64"
    yield "addr_three", "addr", _addr(ADDRESSES), ("P2P-008",), "IPv4 and IPv6 addresses"
    yield ("addr_quirk_negative_timestamp", "addr", _addr([_netaddr(-1, 0, bytes(16), 0)]), ("P2P-008",),
           "Quirk: the address timestamp is an i64")
    yield ("addr_empty_decodes", "addr", _addr([]), ("P2P-008",),
           "zero addresses decode; the session refuses them (P2P-015)")
    yield ("getblocks_empty_locator", "getblocks", _getblocks([], _hash("stop")), ("P2P-009",),
           "no locator hashes, a stop hash")
    yield ("getblocks_three", "getblocks", _getblocks([_hash("l1"), _hash("l2"), _hash("genesis")], bytes(32)),
           ("P2P-009",), "three locator hashes, no stop")
    yield "inv_empty", "inv", _inv([]), ("P2P-007",), "zero vectors"
    yield "inv_mixed", "inv", _inv(INVENTORY), ("P2P-007",), "tx, block, confirmed block, filtered block"
    yield ("inv_quirk_unknown_type", "inv", _inv([(0xDEADBEEF, _hash("odd"))]), ("P2P-007",),
           "Quirk: any u32 inventory type decodes")
    yield "getdata", "getdata", _inv(INVENTORY[:2]), ("P2P-007",), "the layout of inv"
    yield "notfound", "notfound", _inv(INVENTORY[:1]), ("P2P-007",), "the layout of inv"
    yield ("block_raw", "block", det_bytes("p2p/block", 300), (),
           "the payload is kept as raw bytes; the block module decodes it")
    yield "tx_raw", "tx", det_bytes("p2p/tx", 120), (), "the payload is kept as raw bytes"
    yield ("reject_tx_duplicate", "reject", _reject(b"tx", 0x12, b"transaction already exists", _hash("rejected")),
           (), "REJECT_DUPLICATE of a transaction")
    yield ("reject_malformed_zero_hash", "reject", _reject(b"malformed", 0x01, b"Can't read message", bytes(32)),
           (), "Quirk: the hash is always present, all zero when not a block or tx")
    yield ("reject_quirk_unknown_code_binary_reason", "reject", _reject(b"block", 0xEE, b"\xff\x00\xc3", bytes(32)),
           (), "Quirk: any code and any reason bytes decode")


@generator("chain", "ela.p2p.decode")
def p2p_decode() -> Iterator[CaseSpec]:
    magic = _magics()
    for name, command, payload, extra, desc in _decodable():
        yield CaseSpec(name, {"network": "mainnet", "message": _frame(magic["mainnet"], command.encode(), payload).hex()},
                       OK, FRAME_RULES + extra + ("ENC-002",), desc, expect_ok={"command": command})
    for net in ("testnet", "regnet"):
        yield CaseSpec(f"version_{net}", {"network": net, "message": _frame(magic[net], b"version", _version()).hex()},
                       OK, ("P2P-002",), f"the {net} magic", _magic_provenance(), expect_ok={"command": "version"})

    # -- the header
    ping = struct.pack("<Q", 7)
    good = _frame(magic["mainnet"], b"ping", ping)
    for name, data in {"empty": b"", "header_23_bytes": good[:23], "header_only": good[:24],
                       "payload_7_of_8": good[:-1]}.items():
        yield CaseSpec(f"truncated_{name}", {"network": "mainnet", "message": data.hex()}, Reason.TRUNCATED,
                       ("ENC-001",), "the input ends before the declared payload does")
    yield CaseSpec("trailing_byte_after_payload", {"network": "mainnet", "message": (good + b"\x00").hex()},
                   Reason.TRAILING_BYTES, ("ENC-002",), "one byte more than the header declares")
    yield CaseSpec("two_messages", {"network": "mainnet", "message": (good + good).hex()}, Reason.TRAILING_BYTES,
                   ("ENC-002",), "a message is decoded alone")
    yield CaseSpec("unknown_network", {"network": "simnet", "message": good.hex()}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define (names are case-sensitive: see mainnet_capitalized)")
    yield CaseSpec("mainnet_capitalized", {"network": "Mainnet", "message": good.hex()}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "network names are matched exactly")
    yield CaseSpec("magic_of_testnet_on_mainnet",
                   {"network": "mainnet", "message": _frame(magic["testnet"], b"ping", ping).hex()},
                   Reason.WRONG_NETWORK_MAGIC, ("P2P-002",), "a testnet message on mainnet", _magic_provenance())
    yield CaseSpec("magic_big_endian",
                   {"network": "mainnet", "message": (struct.pack(">I", magic["mainnet"]) + good[4:]).hex()},
                   Reason.WRONG_NETWORK_MAGIC, ("P2P-002",), "the magic is little-endian")
    yield CaseSpec("magic_of_regnet_on_testnet",
                   {"network": "testnet", "message": _frame(magic["regnet"], b"ping", ping).hex()},
                   Reason.WRONG_NETWORK_MAGIC, ("P2P-002",))
    yield CaseSpec("command_no_nul", {"network": "mainnet",
                                      "message": _frame(magic["mainnet"], b"versionxxxxx", _version()).hex()},
                   Reason.COMMAND_FIELD_MALFORMED, ("P2P-001",), "12 name bytes leave no NUL")
    yield CaseSpec("command_byte_after_nul", {"network": "mainnet",
                                              "message": _frame(magic["mainnet"], b"ping\x00\x00\x00\x00\x00\x00\x00x",
                                                                ping).hex()},
                   Reason.COMMAND_FIELD_MALFORMED, ("P2P-001",), "a non-NUL byte after the first NUL")
    yield CaseSpec("command_nul_inside_name", {"network": "mainnet",
                                               "message": _frame(magic["mainnet"], b"pi\x00ng", ping).hex()},
                   Reason.COMMAND_FIELD_MALFORMED, ("P2P-001",), "the name stops at the first NUL")
    yield CaseSpec("command_checked_before_magic",
                   {"network": "mainnet", "message": _frame(magic["testnet"], b"ABCDEFGHIJKL", ping).hex()},
                   Reason.COMMAND_FIELD_MALFORMED, ("P2P-001",), "upstream checks the command field first")
    for cmd in (b"filterload", b"filteradd", b"filterclear", b"txfilter", b"merkleblock", b"daddr", b"VERSION",
                b"", b"getheaders", b"\xffping"):
        label = cmd.decode("ascii", "replace").lower().replace("\ufffd", "x") or "empty"
        yield CaseSpec(f"unknown_command_{label}" if cmd != b"VERSION" else "unknown_command_upper_case",
                       {"network": "mainnet", "message": _frame(magic["mainnet"], cmd, b"").hex()},
                       Reason.UNKNOWN_COMMAND, ("P2P-003",), "not a command of this profile")
    yield CaseSpec("magic_checked_before_command",
                   {"network": "mainnet", "message": _frame(magic["testnet"], b"filterload", b"").hex()},
                   Reason.WRONG_NETWORK_MAGIC, ("P2P-002",), "upstream checks the magic before the command")
    oversize = {
        "verack_one_byte": (b"verack", b"\x00", None), "ping_nine_bytes": (b"ping", ping + b"\x00", None),
        "version_83_bytes": (b"version", _version(80000, node_version=b"x" * 47), None),
        "tx_declared_2000001": (b"tx", b"", 2_000_001), "block_declared_6000001": (b"block", b"", 6_000_001),
        "reject_declared_524289": (b"reject", b"", 524_289), "inv_declared_max_u32": (b"inv", b"", 0xFFFFFFFF),
        "addr_declared_42009": (b"addr", b"", 42_009), "getblocks_declared_16037": (b"getblocks", b"", 16_037),
    }
    for name, (cmd, payload, length) in oversize.items():
        yield CaseSpec(f"oversize_{name}", {"network": "mainnet",
                                            "message": _frame(magic["mainnet"], cmd, payload, length=length).hex()},
                       Reason.PAYLOAD_TOO_LARGE, ("P2P-004",),
                       "the declared length exceeds the command's maximum; checked before the payload is read")
    yield CaseSpec("oversize_tx_testnet_8000001", {"network": "testnet",
                                                   "message": _frame(magic["testnet"], b"tx", b"", length=8_000_001).hex()},
                   Reason.PAYLOAD_TOO_LARGE, ("P2P-004",), "testnet keeps the 8 MB block context size")
    yield CaseSpec("checksum_flipped_bit", {"network": "mainnet",
                                            "message": _frame(magic["mainnet"], b"ping", ping,
                                                              check=bytes((_sha256d(ping)[0] ^ 1,)) + _sha256d(ping)[1:4]).hex()},
                   Reason.BAD_CHECKSUM, ("P2P-005",))
    yield CaseSpec("checksum_zero_on_empty_payload",
                   {"network": "mainnet", "message": _frame(magic["mainnet"], b"verack", b"", check=bytes(4)).hex()},
                   Reason.BAD_CHECKSUM, ("P2P-005",), "the checksum of no bytes is 5df6e0e2, not zero")
    yield CaseSpec("checksum_sha256_single", {"network": "mainnet",
                                              "message": _frame(magic["mainnet"], b"ping", ping,
                                                                check=hashlib.sha256(ping).digest()[:4]).hex()},
                   Reason.BAD_CHECKSUM, ("P2P-005",), "the checksum is of sha256d, not sha256")

    # -- payloads
    def msg(cmd: bytes, payload: bytes) -> dict[str, str]:
        return {"network": "mainnet", "message": _frame(magic["mainnet"], cmd, payload).hex()}

    yield CaseSpec("inv_50001_vectors", msg(b"inv", _inv([], count=50_001)), Reason.TOO_MANY_ITEMS, ("P2P-007",),
                   "the count is refused before any vector is read")
    yield CaseSpec("getdata_50001_vectors", msg(b"getdata", _inv([], count=50_001)), Reason.TOO_MANY_ITEMS,
                   ("P2P-007",))
    yield CaseSpec("notfound_max_u32_vectors", msg(b"notfound", _inv([], count=0xFFFFFFFF)), Reason.TOO_MANY_ITEMS,
                   ("P2P-007",))
    yield CaseSpec("inv_50000_vectors_truncated", msg(b"inv", _inv([], count=50_000)), Reason.TRUNCATED,
                   ("ENC-001",), "50000 is allowed; the vectors are missing")
    yield CaseSpec("addr_1001", msg(b"addr", _addr([], count=1001)), Reason.TOO_MANY_ITEMS, ("P2P-008",))
    yield CaseSpec("addr_max_u64", msg(b"addr", _addr([], count=U64_MAX)), Reason.TOO_MANY_ITEMS, ("P2P-008",),
                   "the count is a u64")
    yield CaseSpec("addr_count_as_varuint", msg(b"addr", b"\x01" + ADDRESSES[0]), Reason.TOO_MANY_ITEMS, ("P2P-008",),
                   "a one-byte VarUint count is read as a u64 that swallows the timestamp: a huge count")
    yield CaseSpec("getblocks_501_locators", msg(b"getblocks", _getblocks([], bytes(32), count=501)),
                   Reason.TOO_MANY_ITEMS, ("P2P-009",))
    yield CaseSpec("getblocks_no_hash_stop", msg(b"getblocks", struct.pack("<I", 1) + _hash("l1")), Reason.TRUNCATED,
                   ("ENC-001",), "the stop hash is missing")
    yield CaseSpec("inv_count_two_one_vector", msg(b"inv", _inv(INVENTORY[:1], count=2)), Reason.TRUNCATED,
                   ("ENC-001",))
    yield CaseSpec("inv_trailing_byte", msg(b"inv", _inv(INVENTORY[:1]) + b"\x00"), Reason.TRAILING_BYTES,
                   ("ENC-002",), "Deviation (ENC-002): upstream ignores payload bytes after the message")
    yield CaseSpec("ping_seven_bytes", msg(b"ping", ping[:7]), Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("version_34_bytes", msg(b"version", _version()[:34]), Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("version_80000_without_node_version", msg(b"version", _version(80000)), Reason.TRUNCATED,
                   ("ENC-001",), "version 80000 must carry the string")
    yield CaseSpec("version_20000_with_node_version", msg(b"version", _version(20000) + b"\x03abc"),
                   Reason.TRAILING_BYTES, ("ENC-002",),
                   "below 80000 no string is read; the spec refuses the leftover bytes")
    yield CaseSpec("version_node_version_non_canonical_length",
                   msg(b"version", _version(80000) + b"\xfd\x03\x00abc"), Reason.NON_CANONICAL_VARUINT, ("ENC-003",))
    yield CaseSpec("reject_command_non_canonical_length", msg(b"reject", b"\xfd\x02\x00tx" + b"\x12\x00" + bytes(32)),
                   Reason.NON_CANONICAL_VARUINT, ("ENC-003",))
    yield CaseSpec("reject_hash_truncated", msg(b"reject", _reject(b"tx", 0x10, b"", bytes(32))[:-1]),
                   Reason.TRUNCATED, ("ENC-001",))
    yield CaseSpec("addr_truncated_address", msg(b"addr", _addr([ADDRESSES[0][:33]], count=1)), Reason.TRUNCATED,
                   ("ENC-001",), "33 of the 34 bytes of a NetAddress")


# -- encode ----------------------------------------------------------------------------------------


def version_json(version: int = 20000, services: int = 1, nonce: int = 0x0123456789ABCDEF, height: int = 1_500_000,
                 relay: bool = True, node_version: bytes | None = None, timestamp: int = 1_700_000_000,
                 port: int = 20338) -> dict[str, Any]:
    return {"version": version, "services": str(services), "timestamp": timestamp, "port": port,
            "nonce": str(nonce), "height": str(height), "relay": relay,
            "node_version": None if node_version is None else node_version.hex()}


def inv_json(vectors: list[tuple[int, bytes]]) -> dict[str, Any]:
    return {"inventory": [{"type": t, "hash": h.hex()} for t, h in vectors]}


def addr_json(n: int) -> dict[str, Any]:
    return {"addresses": [{"timestamp": str(1_700_000_000 + i), "services": "1",
                           "ip": _ipv4(10, 1, 0, i).hex(), "port": 20338} for i in range(n)]}


def _encodable() -> Iterator[tuple[str, str, dict[str, Any], tuple[str, ...]]]:
    yield "version_20000", "version", version_json(), ("P2P-006",)
    yield "version_80000", "version", version_json(80000, node_version=b"v0.9.9"), ("P2P-006",)
    yield "version_80000_46_byte_node_version", "version", version_json(80000, node_version=b"n" * 46), ("P2P-004", "P2P-006")
    for name in ("verack", "getaddr", "mempool"):
        yield name, name, {}, ()
    yield "ping", "ping", {"nonce": "1500000"}, ()
    yield "pong_max", "pong", {"nonce": str(U64_MAX)}, ()
    yield "addr_two", "addr", addr_json(2), ("P2P-008",)
    yield "getblocks", "getblocks", {"locator": [_hash("e1").hex(), _hash("e0").hex()], "hash_stop": "00" * 32}, ("P2P-009",)
    yield "inv", "inv", inv_json(INVENTORY), ("P2P-007",)
    yield "getdata", "getdata", inv_json(INVENTORY[1:3]), ("P2P-007",)
    yield "notfound", "notfound", inv_json(INVENTORY[:1]), ("P2P-007",)
    yield "block", "block", {"data": det_bytes("p2p/encode/block", 180).hex()}, ()
    yield "tx", "tx", {"data": det_bytes("p2p/encode/tx", 90).hex()}, ()
    yield "reject", "reject", {"rejected_command": b"block".hex(), "code": 0x10, "reason": b"bad merkle root".hex(),
                               "hash": _hash("bad").hex()}, ()


@generator("chain", "ela.p2p.encode")
def p2p_encode() -> Iterator[CaseSpec]:
    for name, command, payload, extra in _encodable():
        yield CaseSpec(name, {"network": "mainnet", "command": command, "payload": payload}, OK,
                       ("P2P-003", "P2P-004") + extra)
    yield CaseSpec("version_regnet", {"network": "regnet", "command": "version", "payload": version_json(port=22338)},
                   OK, ("P2P-006",), "the regnet magic and port", _magic_provenance())
    yield CaseSpec("unknown_network", {"network": "simnet", "command": "ping", "payload": {"nonce": 7}},
                   Reason.UNKNOWN_NETWORK, ("NET-001",), "a network name the spec does not define")
    yield CaseSpec("version_20000_with_node_version", {"network": "mainnet", "command": "version",
                                                       "payload": version_json(20000, node_version=b"v0.9.9")},
                   Reason.NODE_VERSION_FIELD, ("P2P-006",), "the string would be silently dropped")
    yield CaseSpec("version_80000_without_node_version", {"network": "mainnet", "command": "version",
                                                          "payload": version_json(80000)},
                   Reason.NODE_VERSION_FIELD, ("P2P-006",), "version 80000 must carry a string (it may be empty)")
    yield CaseSpec("version_79999_with_empty_node_version", {"network": "mainnet", "command": "version",
                                                             "payload": version_json(79999, node_version=b"")},
                   Reason.NODE_VERSION_FIELD, ("P2P-006",), "even an empty string needs version >= 80000")
    yield CaseSpec("version_47_byte_node_version", {"network": "mainnet", "command": "version",
                                                    "payload": version_json(80000, node_version=b"n" * 47)},
                   Reason.PAYLOAD_TOO_LARGE, ("P2P-004",), "83 bytes: a receiver would refuse it")
    for cmd in ("filterload", "daddr", "getheaders"):
        yield CaseSpec(f"unknown_command_{cmd}", {"network": "mainnet", "command": cmd, "payload": {}},
                       Reason.UNKNOWN_COMMAND, ("P2P-003",))
    yield CaseSpec("port_out_of_range", {"network": "mainnet", "command": "version",
                                         "payload": version_json(port=65536)}, Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("nonce_out_of_range", {"network": "mainnet", "command": "ping", "payload": {"nonce": str(2**64)}},
                   Reason.VALUE_OUT_OF_RANGE, ("ENC-005",))
    yield CaseSpec("inventory_hash_31_bytes", {"network": "mainnet", "command": "inv",
                                               "payload": {"inventory": [{"type": 1, "hash": "11" * 31}]}},
                   Reason.WRONG_LENGTH, ("ENC-006",))


# -- read_header -------------------------------------------------------------------------------------


@generator("chain", "ela.p2p.read_header")
def p2p_read_header() -> Iterator[CaseSpec]:
    magic = _magics()
    checksum = det_bytes("p2p/header/checksum", 4)

    def hdr(cmd: bytes, length: int, net: str = "mainnet", m: int | None = None) -> str:
        return _frame(magic[net] if m is None else m, cmd, b"", length=length, check=checksum)[:24].hex()

    lengths = {"version": 82, "verack": 0, "getaddr": 0, "addr": 42_008, "ping": 8, "pong": 8, "getblocks": 16_036,
               "inv": 1_800_004, "getdata": 1_800_004, "notfound": 1_800_004, "block": 6_000_000, "tx": 2_000_000,
               "reject": 524_288, "mempool": 0}
    yield CaseSpec("unknown_network", {"network": "simnet", "header": hdr(b"ping", 8)}, Reason.UNKNOWN_NETWORK, ("NET-001",),
                   "a network name the spec does not define: refused before the header is read")
    for cmd, n in lengths.items():
        yield CaseSpec(f"{cmd}_at_max", {"network": "mainnet", "header": hdr(cmd.encode(), n)}, OK, FRAME_RULES[:4],
                       "the largest length a receiver reads for this command on mainnet",
                       expect_ok={"command": cmd, "length": n})
    for cmd in ("verack", "ping", "version", "tx", "block"):
        n = lengths[cmd] + 1
        yield CaseSpec(f"{cmd}_over_max", {"network": "mainnet", "header": hdr(cmd.encode(), n)},
                       Reason.PAYLOAD_TOO_LARGE, ("P2P-004",))
    testnet = {"block": 18_000_000, "tx": 8_000_000}
    for cmd, n in testnet.items():
        yield CaseSpec(f"{cmd}_at_testnet_max", {"network": "testnet", "header": hdr(cmd.encode(), n, "testnet")}, OK,
                       ("P2P-004",), "testnet: (8 000 000 + 1 000 000) * 2 for a block, 8 000 000 for a tx",
                       _magic_provenance())
        yield CaseSpec(f"{cmd}_over_testnet_max", {"network": "testnet", "header": hdr(cmd.encode(), n + 1, "testnet")},
                       Reason.PAYLOAD_TOO_LARGE, ("P2P-004",))
    yield CaseSpec("regnet_tx_at_max", {"network": "regnet", "header": hdr(b"tx", 2_000_000, "regnet")}, OK,
                   ("P2P-002", "P2P-004"), "regnet: 2 000 000", _magic_provenance())
    yield CaseSpec("command_eleven_bytes_unknown", {"network": "mainnet", "header": hdr(b"abcdefghijk", 0)},
                   Reason.UNKNOWN_COMMAND, ("P2P-003",), "eleven bytes and one NUL: well-formed, unknown")
    yield CaseSpec("command_twelve_bytes", {"network": "mainnet", "header": hdr(b"abcdefghijkl", 0)},
                   Reason.COMMAND_FIELD_MALFORMED, ("P2P-001",))
    yield CaseSpec("command_all_nul", {"network": "mainnet", "header": hdr(bytes(12), 0)}, Reason.UNKNOWN_COMMAND,
                   ("P2P-003",), "an empty name")
    yield CaseSpec("magic_zero", {"network": "mainnet", "header": hdr(b"ping", 8, m=0)}, Reason.WRONG_NETWORK_MAGIC,
                   ("P2P-002",))
    yield CaseSpec("magic_dpos_network", {"network": "mainnet", "header": hdr(b"ping", 8, m=2019000)},
                   Reason.WRONG_NETWORK_MAGIC, ("P2P-002",), "the DPoS network's magic is not the node network's",
                   _magic_provenance())
    yield CaseSpec("header_23_bytes", {"network": "mainnet", "header": hdr(b"ping", 8)[:46]}, Reason.TRUNCATED,
                   ("ENC-001",))
    yield CaseSpec("header_25_bytes", {"network": "mainnet", "header": hdr(b"ping", 8) + "00"}, Reason.TRAILING_BYTES,
                   ("ENC-002",))


# -- the session ------------------------------------------------------------------------------------


def m(command: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"command": command, "payload": payload or {}}


V = m("version", version_json())
VERACK = m("verack")


def _session_cases() -> Iterator[CaseSpec]:
    def case(name: str, messages: list[dict[str, Any]], means: str | Reason, rules: tuple[str, ...], desc: str = "",
             inbound: bool = True, **local: Any) -> CaseSpec:
        inp: dict[str, Any] = {"inbound": inbound, "messages": messages}
        for k, v in local.items():
            inp[k] = v
        return CaseSpec(name, inp, means, rules, desc)

    hs = ("P2P-010", "P2P-011", "P2P-012", "P2P-013", "P2P-014")
    yield case("inbound_version_verack", [V, VERACK], OK, hs, "an inbound node answers version with version and verack")
    yield case("outbound_version_verack", [V, VERACK], OK, hs, "an outbound node sent its version first", inbound=False)
    yield case("version_only", [V], OK, ("P2P-010",), "verack not yet received")
    yield case("verack_not_awaited", [V, m("inv", inv_json(INVENTORY[:1])), VERACK], OK, ("P2P-010", "P2P-012"),
               "messages between version and verack are handled, as upstream does")
    yield case("ping_pong_heights", [V, VERACK, m("ping", {"nonce": "1500007"}), m("pong", {"nonce": "1500009"})], OK,
               ("P2P-011",), "Quirk: a ping or pong nonce is the peer's height; a ping is answered with pong")
    yield case("quirk_height_truncated", [m("version", version_json(height=2**32 + 5)),
                                          m("ping", {"nonce": str(2**33 + 7)})], OK, ("P2P-010",),
               "Quirk: heights are kept as u32")
    yield case("spv_peer_old_version", [m("version", version_json(10001, services=0, relay=False)), VERACK], OK,
               ("P2P-014",), "a peer without SFNodeNetwork may speak EBIP001Version")
    yield case("full_node_at_dpos_version", [m("version", version_json(20000, services=7)), VERACK], OK, ("P2P-014",))
    yield case("negotiated_min", [m("version", version_json(80000, node_version=b"v0.9.9"))], OK, ("P2P-014",),
               "local 20000, peer 80000: negotiated 20000")
    yield case("both_80000", [m("version", version_json(80000, node_version=b"v0.9.9"))], OK, ("P2P-014",),
               "negotiated 80000", local_version=80000)
    yield case("own_nonces_differ", [V, VERACK], OK, ("P2P-013",), "the peer's nonce is not one of ours",
               local_nonces=["1", str(U64_MAX)], inbound=False)
    yield case("getaddr_inbound_once", [V, m("getaddr"), m("getaddr")], OK, (),
               "one getaddr per connection is answered; the second is ignored")
    yield case("getaddr_outbound_ignored", [V, m("getaddr")], OK, (), "getaddr from an outbound peer is ignored",
               inbound=False)
    yield case("addr_one", [V, m("addr", addr_json(1))], OK, ("P2P-015",))
    yield case("notfound_tx", [V, m("notfound", inv_json([(1, _hash("t1")), (1, _hash("t2"))]))], OK, ("P2P-016",))
    yield case("mempool_with_tx_filtering", [V, m("mempool")], OK, ("P2P-017",), "this node advertises SFTxFiltering",
               local_services=str(1 | TX_FILTERING))

    for name, first in {"verack": VERACK, "ping": m("ping", {"nonce": "1"}), "inv": m("inv", inv_json(INVENTORY)),
                        "getblocks": m("getblocks", {"locator": [], "hash_stop": "00" * 32})}.items():
        yield case(f"first_is_{name}", [first, V], Reason.VERSION_NOT_FIRST, ("P2P-010",))
    yield case("version_twice", [V, V], Reason.DUPLICATE_VERSION, ("P2P-011",))
    yield case("version_after_verack", [V, VERACK, V], Reason.DUPLICATE_VERSION, ("P2P-011",))
    yield case("verack_twice", [V, VERACK, VERACK], Reason.DUPLICATE_VERACK, ("P2P-012",))
    yield case("self_connection", [m("version", version_json(nonce=0x0123456789ABCDEF))], Reason.SELF_CONNECTION,
               ("P2P-013",), "this node sent this nonce", local_nonces=["5", str(0x0123456789ABCDEF)], inbound=False)
    yield case("full_node_19999", [m("version", version_json(19999, services=1))], Reason.PROTOCOL_VERSION_TOO_OLD,
               ("P2P-014",))
    yield case("full_node_ebip001", [m("version", version_json(10001, services=5))], Reason.PROTOCOL_VERSION_TOO_OLD,
               ("P2P-014",), "SFNodeNetwork with other bits")
    yield case("negotiated_below_dpos", [V], Reason.PROTOCOL_VERSION_TOO_OLD, ("P2P-014",),
               "the negotiated version is the lower of the two", local_version=10001)
    yield case("addr_empty", [V, m("addr", {"addresses": []})], Reason.EMPTY_ADDR, ("P2P-015",))
    yield case("notfound_block", [V, m("notfound", inv_json([(2, _hash("b"))]))], Reason.NOTFOUND_NON_TX, ("P2P-016",))
    yield case("notfound_tx_then_confirmed_block",
               [V, m("notfound", inv_json([(1, _hash("t")), (4, _hash("cb"))]))], Reason.NOTFOUND_NON_TX, ("P2P-016",))
    yield case("mempool_without_tx_filtering", [V, VERACK, m("mempool")], Reason.SERVICE_NOT_OFFERED, ("P2P-017",),
               "the default services are SFNodeNetwork only")


@generator("chain", "ela.p2p.handshake")
def p2p_handshake() -> Iterator[CaseSpec]:
    yield from _session_cases()


# -- block locators and getblocks ---------------------------------------------------------------------


def chain_hashes(label: str, n: int, prefix: list[bytes] | None = None) -> list[bytes]:
    """``n`` main-chain hashes; a fork shares ``prefix``."""
    base = list(prefix or [])
    return base + [det_bytes(f"p2p/chain/{label}/{i}", 32) for i in range(len(base), n)]


def _hex(hs: list[bytes]) -> list[str]:
    return [h.hex() for h in hs]


@generator("chain", "ela.p2p.block_locator")
def p2p_block_locator() -> Iterator[CaseSpec]:
    for n in (1, 2, 12, 13, 14, 40, 130):
        yield CaseSpec(f"tip_of_{n}_blocks", {"chain": _hex(chain_hashes("main", n))}, OK, (),
                       "the tip, ten blocks below one by one, then steps of 2, 4, 8, ..., then the genesis")
    c = chain_hashes("main", 130)
    for h in (0, 1, 64):
        yield CaseSpec(f"height_{h}_of_130", {"chain": _hex(c), "height": h}, OK, (), "the locator of a block below the tip")


@generator("chain", "ela.p2p.locate_blocks")
def p2p_locate_blocks() -> Iterator[CaseSpec]:
    c = chain_hashes("main", 30)
    zero = "00" * 32
    unknown = [det_bytes("p2p/unknown/a", 32), det_bytes("p2p/unknown/b", 32)]

    def case(name: str, locator: list[bytes], stop: bytes | None, desc: str, chain: list[bytes] = c,
             **extra: Any) -> CaseSpec:
        inp: dict[str, Any] = {"chain": _hex(chain), "locator": _hex(locator),
                               "hash_stop": zero if stop is None else stop.hex(), **extra}
        return CaseSpec(name, inp, OK, (), desc)

    yield case("from_known_to_tip", [c[20], c[19], c[0]], None, "heights 21..29")
    yield case("first_known_wins", [unknown[0], c[12], c[25]], None, "the first locator hash on the chain is the start")
    yield case("all_unknown", unknown, None, "no locator hash is known: from height 1")
    yield case("empty_locator_no_stop", [], None, "from height 1 to the tip")
    yield case("quirk_empty_locator_with_stop", [], c[5],
               "Quirk: an empty locator does not ask for the stop block alone: heights 1..5")
    yield case("stop_above_start", [c[10]], c[14], "heights 11..14: the stop block is included")
    yield case("stop_equals_start", [c[10]], c[10], "nothing")
    yield case("stop_below_start", [c[10]], c[4], "nothing (upstream: \"do not have header to send\")")
    yield case("stop_unknown", [c[10]], unknown[1], "an unknown stop hash gives nothing")
    yield case("start_at_tip", [c[29]], None, "the peer is up to date: nothing")
    yield case("genesis_locator", [c[0]], None, "same as unknown: from height 1")
    yield case("max_5", [c[3]], None, "at most max hashes: heights 4..8", max=5)
    yield case("max_0", [c[3]], None, "max 0: nothing", max=0)
    fork = chain_hashes("fork", 26, c[:15])
    yield case("locator_of_a_fork", [bytes.fromhex(h) for h in _locator_hex(fork)], None,
               "a fork sharing heights 0..14: its locator's first hash on this chain is height 13, "
               "so the answer starts at 14")
    long_chain = chain_hashes("long", 520)
    yield case("capped_at_500", [long_chain[0]], None, "MaxBlocksPerMsg: heights 1..500 of 519", chain=long_chain)
    yield case("stop_beyond_cap", [long_chain[2]], long_chain[510], "heights 3..502: the cap wins", chain=long_chain)


def _locator_hex(chain: list[bytes]) -> list[str]:
    from conformance.bindings import run_handler

    return run_handler("chain/ela.p2p.block_locator", {"chain": _hex(chain)})["locator"]

