"""The ID-chain service's store: SQLite (WAL) in numbered blocks, and the spec's read-only view of the chain.

:class:`Store` implements :class:`spec.did.chain.IdChainView` from indexed tables, so the spec's
:func:`~spec.did.chain.check_request` and resolve functions read it directly: a lookup reads the rows of
the one DID or credential it names (primary-key and index searches), never the whole chain, and
nothing is held in memory between calls. An accepted request's :data:`~spec.did.chain.Change` is
written by :meth:`Block.write`; every write of a block happens in one SQLite transaction.

=================  ===================================================================================
table              holds
=================  ===================================================================================
``blocks``         numbered blocks: height -> block time
``transactions``   accepted requests in chain order: seq, height, txid, operation, request text, and
                   the DID (create, update, transfer, deactivate) or credential id (declare, revoke)
                   it changed; indexed by (did, seq) and (credential, seq)
``dids``           per DID: the latest published document's text, the deactivated flag, the last seq
``credentials``    per credential id: owner, declared issuer, the declare's seq, the last seq; indexed by
                   owner and by lower-cased owner (a customized DID's credentials in any case)
``revocations``    per credential id: each revoke's seq and signer DID
=================  ===================================================================================

``dids``, ``credentials`` and ``revocations`` are projections of ``transactions``: they hold what the
spec's records hold (:class:`~spec.did.chain.DIDRecord`, :class:`~spec.did.chain.CredentialRecord`),
copied from the change, never recomputed here. Replaying ``transactions`` through
:func:`spec.did.chain.apply_request` rebuilds the same records (the tests check it). Blocks with heights
and block times are what a merge-mined sidechain's block store needs later: a sidechain block's
requests become one :meth:`Store.block`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spec.did import chain, document
from spec.did.syntax import DID, DIDURL, parse_did
from spec.errors import Reject

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, block_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (seq INTEGER PRIMARY KEY, height INTEGER NOT NULL REFERENCES blocks(height),
    txid TEXT NOT NULL, operation TEXT NOT NULL, request TEXT NOT NULL, did TEXT, credential TEXT,
    CHECK ((did IS NULL) <> (credential IS NULL)));
CREATE INDEX IF NOT EXISTS transactions_did ON transactions(did, seq) WHERE did IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_credential ON transactions(credential, seq) WHERE credential IS NOT NULL;
CREATE TABLE IF NOT EXISTS dids (did TEXT PRIMARY KEY, document TEXT NOT NULL, deactivated INTEGER NOT NULL,
    last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credentials (id TEXT PRIMARY KEY, owner TEXT NOT NULL, issuer TEXT, declare_seq INTEGER,
    last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS credentials_owner ON credentials(owner, last_seq);
CREATE INDEX IF NOT EXISTS credentials_owner_lower ON credentials(lower(owner), last_seq);
CREATE TABLE IF NOT EXISTS revocations (id TEXT NOT NULL, seq INTEGER NOT NULL, signer TEXT NOT NULL,
    PRIMARY KEY (id, seq)) WITHOUT ROWID;
"""

_TABLES = ("blocks", "transactions", "dids", "credentials", "revocations")


class StoreError(Exception):
    """The data directory holds a store this code does not read."""


class Store:
    """The SQLite store under ``datadir``; an :class:`~spec.did.chain.IdChainView` of its last block.

    One connection, used by one thread at a time (the service serializes calls). Reads inside an open
    :meth:`block` see that block's writes so far, as the spec's checks of a block's later requests must.
    """

    def __init__(self, datadir: str | Path) -> None:
        path = Path(datadir)
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "idchain.sqlite", check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        tables = self.db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if version != SCHEMA_VERSION and (version != 0 or tables):
            self.db.close()
            raise StoreError(f"{path}: store version {version}, this service reads version {SCHEMA_VERSION}")
        self.db.executescript(_SCHEMA)
        self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # -- blocks ------------------------------------------------------------------------------------------------

    def height(self) -> int:
        """The last block's height, -1 when there is none."""
        row = self.db.execute("SELECT MAX(height) FROM blocks").fetchone()
        return -1 if row[0] is None else int(row[0])

    @property
    def block_time(self) -> int:
        """The last block's time (every stored block holds an accepted request), 0 when there is none."""
        row = self.db.execute("SELECT block_time FROM blocks WHERE height = (SELECT MAX(height) FROM blocks)").fetchone()
        return 0 if row is None else int(row[0])

    @contextmanager
    def block(self, block_time: int, height: int | None = None, *, commit: bool = True) -> Iterator[Block]:
        """One new block at ``block_time`` in one SQLite transaction: committed on leaving if a change was
        written (and ``commit``), else rolled back (a block of rejected requests stores nothing); rolled back
        on any error. ``height`` (above the last block's) numbers the block as a sidechain block does; by
        default it follows the last block."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            last = self.height()
            if height is not None and height <= last:
                raise ValueError(f"block height {height} is not above {last}")
            blk = Block(self, last + 1 if height is None else height, block_time)
            yield blk
            self.db.execute("COMMIT" if blk.changes and commit else "ROLLBACK")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def rewrite(self, commit: bool) -> Iterator[None]:
        """One SQLite transaction for a sidechain reorganisation (:meth:`rewind`, then new blocks written
        with :class:`Block` directly): committed on leaving if ``commit``, else rolled back (a trial)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def rewind(self, height: int, reserved: frozenset[str] = frozenset()) -> None:
        """Inside :meth:`rewrite`: forget the blocks above ``height``. The projections are rebuilt by
        replaying the remaining requests through the spec's :func:`~spec.did.chain.check_request` in chain
        order (they were accepted in that order, so each is accepted again and makes the same change)."""
        if self.height() <= height:
            return
        kept = self.db.execute("SELECT t.height, b.block_time, t.txid, t.request FROM transactions t "
                               "JOIN blocks b ON b.height = t.height WHERE t.height <= ? ORDER BY t.seq",
                               (height,)).fetchall()
        for table in _TABLES:
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608
        blk: Block | None = None
        for h, block_time, txid, text in kept:
            if blk is None or blk.height != h:
                blk = Block(self, h, block_time)
            blk.write(chain.check_request(self, text, block_time, bytes.fromhex(txid), reserved))

    # -- the view ----------------------------------------------------------------------------------------------

    def _transactions(self, column: str, key: str) -> list[tuple[int, chain.IdTransaction]]:
        rows = self.db.execute(
            f"SELECT t.seq, t.txid, b.block_time, t.operation, t.request FROM transactions t "  # noqa: S608
            f"JOIN blocks b ON b.height = t.height WHERE t.{column} = ? ORDER BY t.seq", (key,)).fetchall()
        return [(seq, chain.IdTransaction(txid=txid, timestamp=t, operation=op, request=text))
                for seq, txid, t, op, text in rows]

    def did(self, did: DID | str) -> chain.DIDRecord | None:
        key = str(did)
        row = self.db.execute("SELECT document, deactivated FROM dids WHERE did = ?", (key,)).fetchone()
        if row is None:
            return None
        doc = document.parse_document(row[0], chain.resolver(self))
        txs = tuple(t for _, t in self._transactions("did", key))
        return chain.DIDRecord(transactions=txs, document=doc, deactivated=bool(row[1]))

    def credential(self, vc_id: DIDURL | str) -> chain.CredentialRecord | None:
        key = str(vc_id)
        row = self.db.execute("SELECT owner, issuer, declare_seq FROM credentials WHERE id = ?", (key,)).fetchone()
        if row is None:
            return None
        owner, issuer, declare_seq = row
        txs = dict(self._transactions("credential", key))
        signers = self.db.execute("SELECT seq, signer FROM revocations WHERE id = ? ORDER BY seq", (key,)).fetchall()
        return chain.CredentialRecord(
            declare=None if declare_seq is None else txs[declare_seq], owner=parse_did(owner),
            issuer=None if issuer is None else parse_did(issuer),
            revokes=tuple((parse_did(signer), txs[seq]) for seq, signer in signers))

    # -- other queries -----------------------------------------------------------------------------------------

    def credentials_of(self, did: str) -> list[str]:
        """The declared credential ids owned by ``did``, the most recently changed first.

        A customized DID is one DID in any case (``DID-012``, :func:`spec.did.chain.lookup`): its credentials
        are those whose owner, lower-cased, is its key (an owner written exactly as another stored DID
        excepted); any other DID's are those whose owner is written exactly as asked."""
        try:
            found = chain.lookup(self, parse_did(did))
        except Reject:
            found = None
        if found is None or not found[1].document.customized:
            rows = self.db.execute("SELECT id FROM credentials WHERE owner = ? AND declare_seq IS NOT NULL "
                                   "ORDER BY last_seq DESC", (did,)).fetchall()
        else:
            key = found[0]
            rows = self.db.execute(
                "SELECT id FROM credentials c WHERE lower(c.owner) = ? AND c.declare_seq IS NOT NULL AND "
                "(c.owner = ? OR NOT EXISTS (SELECT 1 FROM dids d WHERE d.did = c.owner)) ORDER BY c.last_seq DESC",
                (key, key)).fetchall()
        return [r[0] for r in rows]

    def requests(self) -> Iterator[tuple[str, int, bytes]]:
        """Every stored request in chain order: (request text, block time, txid)."""
        rows = self.db.execute("SELECT t.request, b.block_time, t.txid FROM transactions t JOIN blocks b "
                               "ON t.height = b.height ORDER BY t.seq")
        for text, t, txid in rows:
            yield text, int(t), bytes.fromhex(txid)

    def count(self) -> int:
        """The number of stored (accepted) requests."""
        return int(self.db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])

    def dump(self) -> list[tuple]:  # type: ignore[type-arg]
        """Every row of every table (tests compare it before and after a rejection)."""
        return [row for t in _TABLES for row in self.db.execute(f"SELECT '{t}', * FROM {t} ORDER BY 2, 3")]  # noqa: S608


class Block:
    """A block being written (:meth:`Store.block`)."""

    def __init__(self, store: Store, height: int, block_time: int) -> None:
        self.store, self.height, self.block_time = store, height, block_time
        self.changes = 0

    def write(self, change: chain.Change) -> None:
        """Store an accepted request's change: its transaction and the one record it changed."""
        db, tx = self.store.db, change.transaction
        if tx.timestamp != self.block_time:
            raise ValueError(f"a change at {tx.timestamp} in a block at {self.block_time}")
        if not self.changes:
            db.execute("INSERT INTO blocks VALUES (?, ?)", (self.height, self.block_time))
        if isinstance(change, chain.DIDChange):
            seq = db.execute("INSERT INTO transactions (height, txid, operation, request, did) VALUES (?, ?, ?, ?, ?)",
                             (self.height, tx.txid, tx.operation, tx.request, change.did)).lastrowid
            deactivated = int(change.record.deactivated)
            if tx.operation == "deactivate":
                db.execute("UPDATE dids SET deactivated = ?, last_seq = ? WHERE did = ?", (deactivated, seq, change.did))
            else:
                db.execute("INSERT INTO dids VALUES (?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET "
                           "document = excluded.document, deactivated = excluded.deactivated, "
                           "last_seq = excluded.last_seq",
                           (change.did, chain.published_document(tx), deactivated, seq))
        else:
            rec = change.record
            seq = db.execute("INSERT INTO transactions (height, txid, operation, request, credential) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (self.height, tx.txid, tx.operation, tx.request, change.id)).lastrowid
            declare_seq = seq if tx.operation == "declare" else None
            db.execute("INSERT INTO credentials VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                       "owner = excluded.owner, issuer = excluded.issuer, "
                       "declare_seq = COALESCE(excluded.declare_seq, declare_seq), last_seq = excluded.last_seq",
                       (change.id, str(rec.owner), None if rec.issuer is None else str(rec.issuer), declare_seq, seq))
            if tx.operation == "revoke":
                db.execute("INSERT INTO revocations VALUES (?, ?, ?)", (change.id, seq, str(rec.revokes[-1][0])))
        self.changes += 1


__all__ = ["Block", "SCHEMA_VERSION", "Store", "StoreError"]
