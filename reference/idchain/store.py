"""The ID-chain service's store: SQLite (WAL), one atomic transaction per submitted block.

=============  ===================================================================================
table          holds
=============  ===================================================================================
``blocks``     numbered blocks: height -> block time (one block per submission for now)
``requests``   accepted requests in chain order: seq, height, txid, DID, operation, request text
``did_index``  (DID, seq) for every request about a DID (create, update, transfer, deactivate)
``vc_index``   (credential id, owner DID, seq) for every declare and revoke
=============  ===================================================================================

The store keeps only requests the spec accepted; replaying them in ``seq`` order through
:func:`spec.did.chain.apply_request` rebuilds the state. Grouping requests into numbered blocks with a
block time is what a merge-mined sidechain's block store needs later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, block_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),
    txid TEXT NOT NULL, did TEXT NOT NULL, operation TEXT NOT NULL, request TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS requests_txid ON requests(txid);
CREATE TABLE IF NOT EXISTS did_index (did TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (did, seq));
CREATE TABLE IF NOT EXISTS vc_index (vc_id TEXT NOT NULL, owner TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (vc_id, seq));
CREATE INDEX IF NOT EXISTS vc_owner ON vc_index(owner);
"""


class Store:
    """The SQLite store under ``datadir``."""

    def __init__(self, datadir: str | Path) -> None:
        path = Path(datadir)
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "idchain.sqlite", check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def height(self) -> int:
        """The last block's height, -1 when there is none."""
        row = self.db.execute("SELECT MAX(height) FROM blocks").fetchone()
        return -1 if row[0] is None else int(row[0])

    def add_block(self, block_time: int,
                  requests: list[tuple[str, str, str, str, str | None]]) -> int:
        """Append one block of accepted requests ``(txid, did, operation, request, vc_id)`` atomically; its height."""
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            height = self.height() + 1
            cur.execute("INSERT INTO blocks VALUES (?, ?)", (height, block_time))
            for txid, did, op, text, vc_id in requests:
                cur.execute("INSERT INTO requests (height, txid, did, operation, request) VALUES (?, ?, ?, ?, ?)",
                            (height, txid, did, op, text))
                seq = cur.lastrowid
                if vc_id is None:
                    cur.execute("INSERT INTO did_index VALUES (?, ?)", (did, seq))
                else:
                    cur.execute("INSERT INTO vc_index VALUES (?, ?, ?)", (vc_id, did, seq))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return height

    def replay(self) -> Iterator[tuple[str, int, bytes]]:
        """Every stored request in chain order: (request text, block time, txid)."""
        rows = self.db.execute("SELECT r.request, b.block_time, r.txid FROM requests r JOIN blocks b "
                               "ON r.height = b.height ORDER BY r.seq").fetchall()
        for text, t, txid in rows:
            yield text, int(t), bytes.fromhex(txid)

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    def dump(self) -> list[tuple]:  # type: ignore[type-arg]
        """Every row of every table (tests compare it before and after a rejection)."""
        return [row for t in ("blocks", "requests", "did_index", "vc_index")
                for row in self.db.execute(f"SELECT '{t}', * FROM {t} ORDER BY 2, 3")]

    def credentials_of(self, did: str) -> list[str]:
        """Credential ids with a declare or revoke owned by ``did``, newest first."""
        rows = self.db.execute("SELECT vc_id, MAX(seq) FROM vc_index WHERE owner = ? GROUP BY vc_id "
                               "ORDER BY MAX(seq) DESC", (did,)).fetchall()
        return [r[0] for r in rows]


__all__ = ["Store"]
