"""The sidechain node's SQLite store: the best chain's blocks, the multi-asset UTXO set, registered assets,
credited deposits, withdrawals waiting for the arbiters, and edition events -- the spec's
:class:`spec.sidechain.validation.SideView` of the tip -- plus every valid block seen (``known``, side
branches included, with its cumulative work), the orphans, the invalid blocks, and per best-chain block
the undo data :meth:`SideStore.disconnect_tip` needs (the rows of the outputs it spent).

Every row a block adds carries the block's height, so taking the tip block off deletes the rows at its
height and puts its spent outputs back. One block, or one whole reorganisation (disconnect to the fork,
connect the branch), is one SQLite transaction (WAL), so a kill never leaves half of either. The ID chain's
DID state lives in its own store (:mod:`reference.idchain.store`), numbered with the same heights; a
reorganisation writes in the same transaction the height the DID store must rewind to (``meta``
``did_rewind``), and :class:`reference.sidechain.node.SideNode` brings the DID store level from it, after
the commit or on the next start.
"""

from __future__ import annotations

import sqlite3
import struct
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
CREATE TABLE IF NOT EXISTS known (hash BLOB PRIMARY KEY, previous BLOB NOT NULL, height INTEGER NOT NULL,
    work TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo (height INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS orphans (hash BLOB PRIMARY KEY, previous BLOB NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS orphans_previous ON orphans(previous);
CREATE TABLE IF NOT EXISTS invalid (hash BLOB PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_ROW = "txid, n, asset, value, lock, ph, height"


def _encode_rows(rows: Sequence[tuple[bytes, int, bytes, int, int, bytes, int]]) -> bytes:
    out = [encode_int(len(rows), "u32")]
    for txid, n, asset, value, lock, ph, height in rows:
        out += [bytes(txid), encode_int(n, "u32"), bytes(asset), encode_int(value, "i64"), encode_int(lock, "u32"),
                bytes(ph), encode_int(height, "u32")]
    return b"".join(out)


def _decode_rows(data: bytes) -> list[tuple[bytes, int, bytes, int, int, bytes, int]]:
    r = Reader(data)
    return [(r.read(32, "txid"), read_u32(r, "n"), r.read(32, "asset"), read_i64(r, "value"), read_u32(r, "lock"),
             r.read(21, "program hash"), read_u32(r, "height")) for _ in range(read_u32(r, "count"))]


def encode_outputs(outputs: Sequence[tuple[bytes, int]]) -> bytes:
    return encode_int(len(outputs), "u32") + b"".join(ph + encode_int(v, "i64") for ph, v in outputs)


def decode_outputs(data: bytes) -> list[tuple[bytes, int]]:
    r = Reader(data)
    return [(r.read(21, "program hash"), read_i64(r, "value")) for _ in range(read_u32(r, "count"))]


SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of the store. Version 1 keeps side branches, orphans and per-block undo data;
a store written before (no version, tables present) cannot be reorganised below its old blocks, so it is
refused at open rather than failing in the middle of a reorganisation."""


class SideStoreError(Exception):
    """The data directory holds a sidechain store this code does not read."""


class SideStore:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        tables = self.db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if version != SCHEMA_VERSION and (version != 0 or tables):  # checked before anything is written
            self.db.close()
            raise SideStoreError(f"{path}: sidechain store version {version}, this node reads version "
                                 f"{SCHEMA_VERSION} (start it over a new data folder)")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def bind_exchange_rate(self, rate: float) -> None:
        """Keep the exchange rate the store's deposits are credited at (``meta.exchange_rate``, the float64's
        bits); a ``SideStoreError`` if the store was written at another one, whose credits this rate would
        not reproduce."""
        bits = struct.unpack("<q", struct.pack("<d", rate))[0]
        row = self.db.execute("SELECT value FROM meta WHERE key='exchange_rate'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('exchange_rate', ?)", (bits,))
        elif int(row[0]) != bits:
            stored = struct.unpack("<d", struct.pack("<q", int(row[0])))[0]
            raise SideStoreError(f"this sidechain store credits deposits at exchange rate {stored!r}, not {rate!r} "
                                 "(start it over a new data folder for another rate)")

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
        """A valid block's bytes by its hash (best chain or side branch)."""
        row = self.db.execute("SELECT data FROM known WHERE hash=?", (block_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def has_block(self, block_hash: bytes) -> bool:
        """Whether the block was seen: valid (best chain or side branch), an orphan or invalid."""
        return any(self.db.execute(f"SELECT 1 FROM {t} WHERE hash=?", (block_hash,)).fetchone() is not None  # noqa: S608
                   for t in ("known", "orphans", "invalid"))

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
        spent_rows = []
        for tx, fx in zip(block.transactions, effects, strict=True):
            txid = tx.txid()
            for t, n in fx.spent:
                row = self.db.execute(f"SELECT {_ROW} FROM utxo WHERE txid=? AND n=?", (t, n)).fetchone()  # noqa: S608
                if row is not None and row[6] < h:        # an output of an earlier block: the undo puts it back
                    spent_rows.append(row)
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
        self.db.execute("INSERT INTO undo VALUES (?, ?)", (h, _encode_rows(spent_rows)))

    def disconnect_tip(self) -> SideBlock:
        """Inside a transaction: take the tip block off the best chain (it stays in ``known``); the block.
        Everything the block added is at its height: those rows go, and its spent outputs come back."""
        h = self.height()
        block = self.block_at(h)
        if block is None or h <= 0:
            raise ValueError("disconnect_tip: no block above genesis")
        row = self.db.execute("SELECT data FROM undo WHERE height=?", (h,)).fetchone()
        if row is None:
            raise ValueError(f"disconnect_tip: no undo data for height {h}")
        for table in ("utxo", "assets", "credited", "withdrawals", "editions", "undo", "blocks"):
            self.db.execute(f"DELETE FROM {table} WHERE height=?", (h,))  # noqa: S608
        self.db.executemany("INSERT INTO utxo VALUES (?, ?, ?, ?, ?, ?, ?)", _decode_rows(bytes(row[0])))
        return block

    # -- every block seen -------------------------------------------------------------------------------------

    def put_known(self, block: SideBlock, work: int) -> None:
        """Inside a transaction: a valid block (on the best chain or a side branch) and its chain's work."""
        self.db.execute("INSERT OR IGNORE INTO known VALUES (?, ?, ?, ?, ?)",
                        (block.hash(), block.header.previous, block.header.height, str(work), block.serialize()))

    def is_known(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM known WHERE hash=?", (block_hash,)).fetchone() is not None

    def known_block(self, block_hash: bytes) -> SideBlock | None:
        row = self.db.execute("SELECT data FROM known WHERE hash=?", (block_hash,)).fetchone()
        return None if row is None else SideBlock.decode(bytes(row[0]))

    def known_previous(self, block_hash: bytes) -> bytes | None:
        row = self.db.execute("SELECT previous FROM known WHERE hash=?", (block_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def work(self, block_hash: bytes) -> int:
        """The cumulative work of a known block's chain."""
        row = self.db.execute("SELECT work FROM known WHERE hash=?", (block_hash,)).fetchone()
        if row is None:
            raise KeyError(block_hash.hex())
        return int(row[0])

    def on_best_chain(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM blocks WHERE hash=?", (block_hash,)).fetchone() is not None

    def put_orphan(self, block: SideBlock) -> None:
        self.db.execute("INSERT OR IGNORE INTO orphans VALUES (?, ?, ?)",
                        (block.hash(), block.header.previous, block.serialize()))

    def has_orphan(self, block_hash: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM orphans WHERE hash=?", (block_hash,)).fetchone() is not None

    def orphans_of(self, parent: bytes) -> list[SideBlock]:
        """The orphans waiting for ``parent``, in arrival order (the rowid), as the spec's tree keeps them: the
        order in which siblings connect decides a tie between them (SCF-001)."""
        return [SideBlock.decode(bytes(d)) for (d,) in
                self.db.execute("SELECT data FROM orphans WHERE previous=? ORDER BY rowid", (parent,))]

    def delete_orphan(self, block_hash: bytes) -> None:
        self.db.execute("DELETE FROM orphans WHERE hash=?", (block_hash,))

    def ready_orphans(self) -> list[SideBlock]:
        """Orphans whose parent is known or invalid (a kill came between storing a parent and its orphans)."""
        return [SideBlock.decode(bytes(d)) for (d,) in self.db.execute(
            "SELECT data FROM orphans WHERE previous IN (SELECT hash FROM known) "
            "OR previous IN (SELECT hash FROM invalid) ORDER BY rowid")]

    def put_invalid(self, block_hash: bytes, reason: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO invalid VALUES (?, ?)", (block_hash, reason))

    def invalid_blocks(self) -> dict[bytes, str]:
        return {bytes(h): r for h, r in self.db.execute("SELECT hash, reason FROM invalid")}

    def did_rewind(self) -> int | None:
        """The height the DID store must rewind to after a reorganisation, if it has not yet."""
        row = self.db.execute("SELECT value FROM meta WHERE key='did_rewind'").fetchone()
        return None if row is None else int(row[0])

    def set_did_rewind(self, height: int | None) -> None:
        """Inside a transaction: record (the lowest) or clear the DID store's rewind height."""
        if height is None:
            self.db.execute("DELETE FROM meta WHERE key='did_rewind'")
            return
        old = self.did_rewind()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('did_rewind', ?)",
                        (height if old is None else min(old, height),))

    # -- queries ----------------------------------------------------------------------------------------------

    def utxos_of(self, program_hash: bytes) -> list[tuple[bytes, int, Output]]:
        rows = self.db.execute("SELECT txid, n, asset, value, lock FROM utxo WHERE ph=? ORDER BY height, txid, n",
                               (program_hash,)).fetchall()
        return [(bytes(t), n, Output(asset_id=bytes(a), value=v, output_lock=lk, program_hash=program_hash))
                for t, n, a, v, lk in rows]

    def edition_events(self) -> list[tuple[bytes, bytes, bytes]]:
        return [(bytes(e), bytes(r), bytes(o)) for e, r, o in
                self.db.execute("SELECT event, request, outputs FROM editions ORDER BY seq")]

    def edition_events_by_height(self) -> list[tuple[int, bytes, bytes, bytes]]:
        return [(h, bytes(e), bytes(r), bytes(o)) for h, e, r, o in
                self.db.execute("SELECT height, event, request, outputs FROM editions ORDER BY seq")]

    def pending_withdrawals(self) -> list[tuple[bytes, bytes]]:
        return [(bytes(t), bytes(d)) for t, d in self.db.execute("SELECT txid, data FROM withdrawals WHERE done=0 "
                                                                 "ORDER BY height, txid")]

    def mark_withdrawn(self, txid: bytes) -> None:
        self.db.execute("UPDATE withdrawals SET done=1 WHERE txid=?", (txid,))

    def withdrawal_height(self, txid: bytes) -> int:
        row = self.db.execute("SELECT height FROM withdrawals WHERE txid=?", (txid,)).fetchone()
        return -1 if row is None else int(row[0])
