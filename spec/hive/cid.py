"""CIDv0 of file bytes, byte-exact with ``ipfs add`` defaults (what the Hive node's IPFS computes).

Hive adds a public file's body to IPFS with kubo's defaults and records the returned CID. Those
defaults are: fixed-size chunks of 256 KiB, every chunk a dag-pb node holding a UnixFS ``File``
(no raw leaves), a **balanced** tree with at most 174 links per node, sha2-256, CID version 0.

Encodings (protobuf: a field is ``varint(field << 3 | wire type)`` then its value; wire type 0 is a
varint, 2 is ``varint(length) || bytes``)
-----------------------------------------------------------------------------------------------

================  ==============================================================================
UnixFS ``Data``   ``Type`` (1, varint) = 2 (File); ``Data`` (2, bytes) = the chunk, written only
                  in a leaf with at least one byte; ``filesize`` (3, varint) = bytes below this
                  node; ``blocksizes`` (4, varint, repeated) = each child's ``filesize``
PBLink            ``Hash`` (1, bytes) = child multihash; ``Name`` (2, string) = ``""``, written;
                  ``Tsize`` (3, varint) = child's serialized node size plus its children's Tsizes
PBNode            ``Links`` (2, repeated PBLink) **first**, then ``Data`` (1, bytes) = UnixFS
multihash         ``0x12 0x20 || SHA-256(PBNode bytes)``
CIDv0             base58btc of the multihash (``Qm…``, 46 characters)
================  ==============================================================================

The tree
--------

An empty input is one leaf of zero bytes. Otherwise the input is cut into chunks of 262 144 bytes
(the last one shorter). A single chunk is the root. Otherwise leaves are filled into parents of up
to 174 children, parents into grandparents of up to 174, until one root remains (go-unixfs
``balanced.Layout``: a node is filled completely before its next sibling starts, so the tree's depth
is the least ``d`` with ``174^d >= chunks``).

Upstream: Elastos.Hive.Node ``src/modules/files/ipfs_client.py`` (kubo ``/api/v0/add``); go-unixfs
``importer/balanced/builder.go``, ``importer/helpers/helpers.go`` (``DefaultLinksPerBlock = 174``),
``pb/unixfs.proto``; go-merkledag ``pb/merkledag.proto``.
"""

from __future__ import annotations

import hashlib
from typing import Final

from spec.encoding.base58 import b58encode

__all__ = ["CHUNK_SIZE", "LINKS_PER_NODE", "CidV0Builder", "cid_v0", "leaf_frame", "leaf_node", "parent_node",
           "varint"]

CHUNK_SIZE: Final = 256 * 1024
LINKS_PER_NODE: Final = 174
UNIXFS_FILE: Final = 2
SHA2_256: Final = 0x12


def varint(n: int) -> bytes:
    """Unsigned LEB128 (protobuf varint)."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def _unixfs(data: bytes, filesize: int, blocksizes: tuple[int, ...]) -> bytes:
    out = _uint(1, UNIXFS_FILE)
    if data:
        out += _field(2, data)
    out += _uint(3, filesize)
    for b in blocksizes:
        out += _uint(4, b)
    return out


def leaf_node(chunk: bytes) -> bytes:
    """The dag-pb bytes of a leaf holding ``chunk``."""
    return _field(1, _unixfs(chunk, len(chunk), ()))


def leaf_frame(size: int) -> tuple[bytes, bytes]:
    """The bytes of a leaf before and after a chunk of ``size`` bytes: ``leaf_node(chunk)`` is
    ``head + chunk + tail``, so a leaf is hashed without copying its chunk (the two are tested equal)."""
    data = varint(2 << 3 | 2) + varint(size) if size else b""
    tail = _uint(3, size)
    unixfs = _uint(1, UNIXFS_FILE) + data
    return varint(1 << 3 | 2) + varint(len(unixfs) + size + len(tail)) + unixfs, tail


class _Node:
    __slots__ = ("multihash", "filesize", "tsize")

    def __init__(self, digest: bytes, filesize: int, tsize: int) -> None:
        self.multihash = bytes([SHA2_256, 32]) + digest
        self.filesize = filesize
        self.tsize = tsize


def parent_node(children: list[tuple[bytes, int, int]]) -> bytes:
    """The dag-pb bytes of an inner node over ``(multihash, filesize, tsize)`` children."""
    links = b"".join(_field(2, _field(1, mh) + _field(2, b"") + _uint(3, ts)) for mh, _, ts in children)
    return links + _field(1, _unixfs(b"", sum(fs for _, fs, _ in children), tuple(fs for _, fs, _ in children)))


def _root(level: list[_Node]) -> str:
    """Fill the leaves into parents of up to 174 children, level by level, and name the root."""
    while len(level) > 1:
        up: list[_Node] = []
        for i in range(0, len(level), LINKS_PER_NODE):
            group = level[i:i + LINKS_PER_NODE]
            enc = parent_node([(n.multihash, n.filesize, n.tsize) for n in group])
            up.append(_Node(hashlib.sha256(enc).digest(), sum(n.filesize for n in group),
                            len(enc) + sum(n.tsize for n in group)))
        level = up
    return b58encode(level[0].multihash)


def _leaf(chunk: bytes | bytearray | memoryview) -> _Node:
    """The node of :func:`leaf_node` of ``chunk``, hashed in three pieces (:func:`leaf_frame`), no copy."""
    head, tail = leaf_frame(len(chunk))
    h = hashlib.sha256(head)
    h.update(chunk)
    h.update(tail)
    return _Node(h.digest(), len(chunk), len(head) + len(chunk) + len(tail))


def cid_v0(data: bytes) -> str:
    """The CIDv0 ``ipfs add`` prints for ``data``."""
    view = memoryview(data)
    chunks = [view[i:i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [view]
    return _root([_leaf(c) for c in chunks])


class CidV0Builder:
    """:func:`cid_v0` of a body that arrives in pieces of any size: ``update`` as the bytes come,
    ``cid()`` at the end. Only the leaves' ``(multihash, filesize, tsize)`` and one partial chunk
    are kept, so a body is never held whole; the result is :func:`cid_v0` of the concatenation."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._leaves: list[_Node] = []

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        if self._pending:
            take = min(CHUNK_SIZE - len(self._pending), len(view))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < CHUNK_SIZE:
                return
            self._leaves.append(_leaf(self._pending))
            self._pending = bytearray()
        while len(view) >= CHUNK_SIZE:
            self._leaves.append(_leaf(view[:CHUNK_SIZE]))
            view = view[CHUNK_SIZE:]
        self._pending += view

    def cid(self) -> str:
        """The CIDv0 of every byte given so far."""
        leaves = list(self._leaves)
        if self._pending or not leaves:
            leaves.append(_leaf(self._pending))
        return _root(leaves)
