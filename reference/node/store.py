"""The node's store: SQLite (WAL), one atomic transaction per connected or disconnected block.

Tables
======

=============  ===================================================================================
table          holds
=============  ===================================================================================
``meta``       ``best`` (hash of the tip) and ``network``
``blocks``     block bytes by hash (every valid block, best chain and side branches)
``idx``        the block index: hash, parent, height, timestamp, bits, cumulative work (text)
``best``       the best chain: height -> hash
``utxo``       the unspent outputs of the best chain: (txid, index) -> entry bytes
``txindex``    txid -> output count and block hash, for the best chain
``undo``       the spent entries of every connected block (its undo data)
``orphans``    blocks whose parent is unknown, in arrival order
=============  ===================================================================================

The rules are the spec's: this module only stores what :mod:`spec.chain.state` computes
(:func:`~spec.chain.state.created_entries`, :func:`~spec.chain.state.spent_outpoints`) and serves
the best chain as a :class:`~spec.chain.validation.ChainView`.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spec.chain.block import Block, decode_block
from spec.chain.params import NetworkParams, genesis_block
from spec.chain.pow import calc_work
from spec.chain.state import OutPointKey, created_entries, spent_outpoints, withdrawn_hashes
from spec.chain.tx import Output
from spec.chain.validation import HeaderInfo, UtxoEntry
from spec.encoding.primitives import Reader

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS idx (hash BLOB PRIMARY KEY, parent BLOB NOT NULL, height INTEGER NOT NULL,
    timestamp INTEGER NOT NULL, bits INTEGER NOT NULL, work TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_parent ON idx(parent);
CREATE TABLE IF NOT EXISTS best (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS utxo (txid BLOB NOT NULL, n INTEGER NOT NULL, entry BLOB NOT NULL,
    PRIMARY KEY (txid, n));
CREATE TABLE IF NOT EXISTS txindex (txid BLOB PRIMARY KEY, outputs INTEGER NOT NULL, block BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS orphans (seq INTEGER PRIMARY KEY AUTOINCREMENT, hash BLOB UNIQUE NOT NULL,
    parent BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS invalid (hash BLOB PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS withdrawn (side_txhash BLOB PRIMARY KEY, block BLOB NOT NULL);
"""

_ENTRY_TX_VERSION = 0x09
"""Entries are stored with the output serialized as a version-0x09 transaction writes it (type and payload)."""


def encode_entry(e: UtxoEntry) -> bytes:
    return (struct.pack("<IBIB", e.height, int(e.coinbase), e.tx_lock_time, int(e.new_sidechain_pow))
            + e.output.serialize_for(_ENTRY_TX_VERSION))


def decode_entry(data: bytes) -> UtxoEntry:
    height, cb, lock, nsp = struct.unpack_from("<IBIB", data)
    r = Reader(data[10:])
    out = Output.deserialize_for(r, _ENTRY_TX_VERSION)
    r.finish("utxo entry")
    return UtxoEntry(output=out, height=height, coinbase=bool(cb), tx_lock_time=lock, new_sidechain_pow=bool(nsp))


def encode_undo(spent: list[tuple[OutPointKey, UtxoEntry]]) -> bytes:
    parts = []
    for (txid, n), e in spent:
        eb = encode_entry(e)
        parts.append(txid + struct.pack("<II", n, len(eb)) + eb)
    return b"".join(parts)


def decode_undo(data: bytes) -> list[tuple[OutPointKey, UtxoEntry]]:
    out, pos = [], 0
    while pos < len(data):
        txid = data[pos:pos + 32]
        n, ln = struct.unpack_from("<II", data, pos + 32)
        pos += 40
        out.append(((txid, n), decode_entry(data[pos:pos + ln])))
        pos += ln
    return out


class StoreError(Exception):
    """The store does not belong to this network or is not consistent."""


class Store:
    """One node's SQLite database. Not thread-safe by itself: the node serializes access with a lock."""

    def __init__(self, path: str | Path, params: NetworkParams) -> None:
        self.params = params
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        row = self.db.execute("SELECT value FROM meta WHERE key='network'").fetchone()
        if row is None:
            self._init_genesis()
        elif bytes(row[0]).decode() != params.name:
            raise StoreError(f"store {self.path} belongs to network {bytes(row[0]).decode()}, not {params.name}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _init_genesis(self) -> None:
        g = genesis_block(self.params.name)
        with self.transaction():
            self.db.execute("INSERT INTO meta VALUES ('network', ?)", (self.params.name.encode(),))
            self.put_block(g, calc_work(g.header.bits))
            self.connect(g)

    # -- block index ------------------------------------------------------------------------------------------

    def put_block(self, block: Block, work: int) -> None:
        h = block.header
        self.db.execute("INSERT OR IGNORE INTO blocks VALUES (?, ?)", (block.hash(), block.serialize()))
        self.db.execute("INSERT OR IGNORE INTO idx VALUES (?, ?, ?, ?, ?, ?, 'valid')",
                        (block.hash(), h.previous, h.height, h.timestamp, h.bits, str(work)))

    def has_block(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM idx WHERE hash=?", (block_hash,)).fetchone() is not None

    def block_bytes(self, block_hash: bytes) -> bytes | None:
        row = self.db.execute("SELECT data FROM blocks WHERE hash=?", (block_hash,)).fetchone()
        return bytes(row[0]) if row else None

    def block(self, block_hash: bytes) -> Block | None:
        data = self.block_bytes(block_hash)
        return decode_block(data) if data is not None else None

    def index_entry(self, block_hash: bytes) -> tuple[bytes, int, int] | None:
        """(parent, height, cumulative work) of a valid block."""
        row = self.db.execute("SELECT parent, height, work FROM idx WHERE hash=?", (block_hash,)).fetchone()
        return (bytes(row[0]), row[1], int(row[2])) if row else None

    def work(self, block_hash: bytes) -> int:
        entry = self.index_entry(block_hash)
        if entry is None:
            raise KeyError(block_hash.hex())
        return entry[2]

    # -- best chain -----------------------------------------------------------------------------------------

    def best_hash(self) -> bytes:
        row = self.db.execute("SELECT value FROM meta WHERE key='best'").fetchone()
        return bytes(row[0])

    def best_height(self) -> int:
        return int(self.db.execute("SELECT MAX(height) FROM best").fetchone()[0])

    def hash_at(self, height: int) -> bytes | None:
        row = self.db.execute("SELECT hash FROM best WHERE height=?", (height,)).fetchone()
        return bytes(row[0]) if row else None

    def best_chain(self) -> list[bytes]:
        return [bytes(r[0]) for r in self.db.execute("SELECT hash FROM best ORDER BY height")]

    def on_best_chain(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM best WHERE hash=?", (block_hash,)).fetchone() is not None

    # ChainView over the best chain ------------------------------------------------------------------------

    def _info(self, block_hash: bytes) -> HeaderInfo:
        row = self.db.execute("SELECT height, timestamp, bits FROM idx WHERE hash=?", (block_hash,)).fetchone()
        return HeaderInfo(hash=block_hash, height=row[0], timestamp=row[1], bits=row[2])

    def tip(self) -> HeaderInfo:
        return self._info(self.best_hash())

    def header_at(self, height: int) -> HeaderInfo | None:
        h = self.hash_at(height)
        return self._info(h) if h is not None else None

    def utxo(self, txid: bytes, index: int) -> UtxoEntry | None:
        row = self.db.execute("SELECT entry FROM utxo WHERE txid=? AND n=?", (txid, index)).fetchone()
        return decode_entry(bytes(row[0])) if row else None

    def output_count(self, txid: bytes) -> int | None:
        row = self.db.execute("SELECT outputs FROM txindex WHERE txid=?", (txid,)).fetchone()
        return row[0] if row else None

    def sidechain_tx_withdrawn(self, txhash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM withdrawn WHERE side_txhash=?", (txhash,)).fetchone() is not None

    def tx_block(self, txid: bytes) -> bytes | None:
        row = self.db.execute("SELECT block FROM txindex WHERE txid=?", (txid,)).fetchone()
        return bytes(row[0]) if row else None

    def all_utxos(self) -> dict[OutPointKey, UtxoEntry]:
        return {(bytes(t), n): decode_entry(bytes(e)) for t, n, e in self.db.execute("SELECT txid, n, entry FROM utxo")}

    def utxos_of(self, program_hash: bytes) -> list[tuple[OutPointKey, UtxoEntry]]:
        out = []
        for (key, e) in self.all_utxos().items():
            if e.output.program_hash == program_hash:
                out.append((key, e))
        return sorted(out, key=lambda kv: (kv[1].height, kv[0]))

    # -- connect / disconnect (call inside transaction()) ------------------------------------------------------

    def connect(self, block: Block) -> None:
        """Put ``block`` on top of the best chain (already validated). Writes its undo data."""
        bh = block.hash()
        spent = []
        for txid, n in spent_outpoints(block):
            row = self.db.execute("SELECT entry FROM utxo WHERE txid=? AND n=?", (txid, n)).fetchone()
            if row is None:
                raise StoreError(f"connect: missing utxo {txid[::-1].hex()}:{n}")
            spent.append(((txid, n), decode_entry(bytes(row[0]))))
            self.db.execute("DELETE FROM utxo WHERE txid=? AND n=?", (txid, n))
        self.db.executemany("INSERT OR REPLACE INTO utxo VALUES (?, ?, ?)",
                            [(t, n, encode_entry(e)) for (t, n), e in created_entries(block).items()])
        self.db.executemany("INSERT OR REPLACE INTO txindex VALUES (?, ?, ?)",
                            [(tx.txid(), len(tx.outputs), bh) for tx in block.transactions])
        self.db.executemany("INSERT OR REPLACE INTO withdrawn VALUES (?, ?)", [(h, bh) for h in withdrawn_hashes(block)])
        self.db.execute("INSERT OR REPLACE INTO undo VALUES (?, ?)", (bh, encode_undo(spent)))
        self.db.execute("INSERT OR REPLACE INTO best VALUES (?, ?)", (block.header.height, bh))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('best', ?)", (bh,))

    def disconnect_tip(self) -> Block:
        """Take the tip block off the best chain using its undo data; returns it."""
        bh = self.best_hash()
        block = self.block(bh)
        assert block is not None
        row = self.db.execute("SELECT data FROM undo WHERE hash=?", (bh,)).fetchone()
        spent = decode_undo(bytes(row[0]))
        self.db.executemany("DELETE FROM utxo WHERE txid=? AND n=?", list(created_entries(block)))
        self.db.executemany("INSERT OR REPLACE INTO utxo VALUES (?, ?, ?)",
                            [(t, n, encode_entry(e)) for (t, n), e in spent])
        self.db.executemany("DELETE FROM txindex WHERE txid=?", [(tx.txid(),) for tx in block.transactions])
        self.db.execute("DELETE FROM withdrawn WHERE block=?", (bh,))
        self.db.execute("DELETE FROM best WHERE height=?", (block.header.height,))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('best', ?)", (block.header.previous,))
        return block

    # -- orphans --------------------------------------------------------------------------------------------

    def has_orphan(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM orphans WHERE hash=?", (block_hash,)).fetchone() is not None

    def put_orphan(self, block: Block) -> None:
        self.db.execute("INSERT OR IGNORE INTO orphans (hash, parent, data) VALUES (?, ?, ?)",
                        (block.hash(), block.header.previous, block.serialize()))

    def orphans_of(self, parent: bytes) -> list[Block]:
        """The orphans whose parent is ``parent``, in arrival order (they stay stored until decided)."""
        rows = self.db.execute("SELECT data FROM orphans WHERE parent=? ORDER BY seq", (parent,)).fetchall()
        return [decode_block(bytes(r[0])) for r in rows]

    def delete_orphan(self, block_hash: bytes) -> None:
        self.db.execute("DELETE FROM orphans WHERE hash=?", (block_hash,))

    def ready_orphans(self) -> list[Block]:
        """Stored orphans whose parent is a stored block (left over by a kill mid-connection)."""
        rows = self.db.execute("SELECT o.data FROM orphans o JOIN idx i ON i.hash = o.parent ORDER BY o.seq").fetchall()
        return [decode_block(bytes(r[0])) for r in rows]

    def orphan_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM orphans").fetchone()[0])

    # -- invalid blocks -------------------------------------------------------------------------------------

    def put_invalid(self, block_hash: bytes, reason: str) -> None:
        """Remember a block that failed validation (or descends from one) and why."""
        self.db.execute("INSERT OR REPLACE INTO invalid (hash, reason) VALUES (?, ?)", (block_hash, reason))

    def invalid_blocks(self) -> dict[bytes, str]:
        return {bytes(h): r for h, r in self.db.execute("SELECT hash, reason FROM invalid")}


__all__ = ["Store", "StoreError", "decode_entry", "encode_entry"]
