"""The sidechain node's SQLite store: blocks, the multi-asset UTXO set, registered assets, credited
deposits, withdrawals waiting for the arbiters, and edition events. It is the spec's
:class:`spec.sidechain.validation.SideView`; one block is one SQLite transaction (WAL), so a kill never
leaves half a block. The ID chain's DID state lives in its own store (:mod:`reference.idchain.store`),
numbered with the same heights; :class:`reference.sidechain.node.SideNode` brings it level on start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Output
from spec.encoding.primitives import Reader, encode_int, read_i64, read_u32
from spec.sidechain.block import SideBlock
from spec.sidechain.validation import SideEffects

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB UNIQUE NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS utxo (txid BLOB NOT NULL, n INTEGER NOT NULL, asset BLOB NOT NULL, value INTEGER NOT NULL,
    lock INTEGER NOT NULL, ph BLOB NOT NULL, height INTEGER NOT NULL, PRIMARY KEY (txid, n));
CREATE INDEX IF NOT EXISTS utxo_ph ON utxo(ph);
CREATE TABLE IF NOT EXISTS assets (asset BLOB PRIMARY KEY, precision INTEGER NOT NULL, height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credited (main_txid BLOB PRIMARY KEY, height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS withdrawals (txid BLOB PRIMARY KEY, height INTEGER NOT NULL, data BLOB NOT NULL,
    done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS editions (seq INTEGER PRIMARY KEY, height INTEGER NOT NULL, event BLOB NOT NULL,
    request BLOB NOT NULL, outputs BLOB NOT NULL);
"""


def encode_outputs(outputs: Sequence[tuple[bytes, int]]) -> bytes:
    return encode_int(len(outputs), "u32") + b"".join(ph + encode_int(v, "i64") for ph, v in outputs)


def decode_outputs(data: bytes) -> list[tuple[bytes, int]]:
    r = Reader(data)
    return [(r.read(21, "program hash"), read_i64(r, "value")) for _ in range(read_u32(r, "count"))]


class SideStore:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # -- the view -------------------------------------------------------------------------------------------

    def utxo(self, txid: bytes, index: int) -> Output | None:
        row = self.db.execute("SELECT asset, value, lock, ph FROM utxo WHERE txid=? AND n=?", (txid, index)).fetchone()
        if row is None:
            return None
        return Output(asset_id=bytes(row[0]), value=row[1], output_lock=row[2], program_hash=bytes(row[3]))

    def asset_precision(self, asset_id: bytes) -> int | None:
        if asset_id == ELA_ASSET_ID:
            return 8
        row = self.db.execute("SELECT precision FROM assets WHERE asset=?", (asset_id,)).fetchone()
        return None if row is None else int(row[0])

    def credited(self, main_txid: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM credited WHERE main_txid=?", (main_txid,)).fetchone() is not None

    # -- blocks ---------------------------------------------------------------------------------------------

    def height(self) -> int:
        row = self.db.execute("SELECT MAX(height) FROM blocks").fetchone()
        return -1 if row[0] is None else int(row[0])

    def block_at(self, height: int) -> SideBlock | None:
        row = self.db.execute("SELECT data FROM blocks WHERE height=?", (height,)).fetchone()
        return None if row is None else SideBlock.decode(bytes(row[0]))

    def block_bytes(self, block_hash: bytes) -> bytes | None:
        """A stored block's bytes by its hash."""
        row = self.db.execute("SELECT data FROM blocks WHERE hash=?", (block_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def has_block(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM blocks WHERE hash=?", (block_hash,)).fetchone() is not None

    def best_chain(self) -> list[bytes]:
        """The stored blocks' hashes from genesis to the tip."""
        return [bytes(h) for (h,) in self.db.execute("SELECT hash FROM blocks ORDER BY height")]

    def hash_at(self, height: int) -> bytes | None:
        row = self.db.execute("SELECT hash FROM blocks WHERE height=?", (height,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_block(self, block: SideBlock, effects: Sequence[SideEffects], editions: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        """Inside a transaction: the block and what its transactions do. ``editions`` are the accepted
        edition events ``(event id, request, outputs)``."""
        h = block.header.height
        self.db.execute("INSERT INTO blocks VALUES (?, ?, ?)", (h, block.hash(), block.serialize()))
        for tx, fx in zip(block.transactions, effects, strict=True):
            txid = tx.txid()
            for t, n in fx.spent:
                self.db.execute("DELETE FROM utxo WHERE txid=? AND n=?", (t, n))
            for n, o in enumerate(fx.created):
                self.db.execute("INSERT INTO utxo VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (txid, n, o.asset_id, o.value, o.output_lock, o.program_hash, h))
            if fx.new_asset is not None:
                self.db.execute("INSERT INTO assets VALUES (?, ?, ?)", (fx.new_asset[0], fx.new_asset[1], h))
            if fx.credited is not None:
                self.db.execute("INSERT INTO credited VALUES (?, ?)", (fx.credited, h))
            if fx.withdrawal:
                self.db.execute("INSERT INTO withdrawals (txid, height, data) VALUES (?, ?, ?)", (txid, h, tx.serialize()))
        for event, request, outputs in editions:
            self.db.execute("INSERT INTO editions (height, event, request, outputs) VALUES (?, ?, ?, ?)",
                            (h, event, request, outputs))

    # -- queries ----------------------------------------------------------------------------------------------

    def utxos_of(self, program_hash: bytes) -> list[tuple[bytes, int, Output]]:
        rows = self.db.execute("SELECT txid, n, asset, value, lock FROM utxo WHERE ph=? ORDER BY height, txid, n",
                               (program_hash,)).fetchall()
        return [(bytes(t), n, Output(asset_id=bytes(a), value=v, output_lock=lk, program_hash=program_hash))
                for t, n, a, v, lk in rows]

    def edition_events(self) -> list[tuple[bytes, bytes, bytes]]:
        return [(bytes(e), bytes(r), bytes(o)) for e, r, o in
                self.db.execute("SELECT event, request, outputs FROM editions ORDER BY seq")]

    def pending_withdrawals(self) -> list[tuple[bytes, bytes]]:
        return [(bytes(t), bytes(d)) for t, d in self.db.execute("SELECT txid, data FROM withdrawals WHERE done=0 "
                                                                 "ORDER BY height, txid")]

    def mark_withdrawn(self, txid: bytes) -> None:
        self.db.execute("UPDATE withdrawals SET done=1 WHERE txid=?", (txid,))

    def withdrawal_height(self, txid: bytes) -> int:
        row = self.db.execute("SELECT height FROM withdrawals WHERE txid=?", (txid,)).fetchone()
        return -1 if row is None else int(row[0])
