"""The ID-chain service: the spec's state machine (:mod:`spec.did.chain`) over the SQLite store.

:meth:`IdChainService.submit` applies a request with :func:`spec.did.chain.apply_request` to the in-memory
state; only if the spec accepts it is it written to the store, as one new block, in one transaction.
A rejection raises the spec's :class:`~spec.errors.Reject` and changes neither the store nor the state.
On start the stored requests are replayed through the same function.

The transaction id is the spec's :func:`spec.did.chain.request_txid`: SHA256d of the request's UTF-8 bytes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from spec.did import chain
from spec.errors import Reason, Reject
from reference.idchain.store import Store


class IdChainService:
    def __init__(self, datadir: str | Path) -> None:
        self.store = Store(datadir)
        self.lock = threading.Lock()
        state = chain.EMPTY
        for text, t, txid in self.store.replay():
            state = chain.apply_request(state, text, t, txid)
        self.state: chain.IdChainState = state

    def close(self) -> None:
        self.store.close()

    def submit(self, request_json: str, block_time: int) -> str:
        """Apply and store one request in a new block at ``block_time``; its txid (hex)."""
        if not isinstance(request_json, str):
            raise Reject(Reason.MALFORMED_INPUT, None, "request: expected JSON text")
        txid = chain.request_txid(request_json)
        with self.lock:
            new = chain.apply_request(self.state, request_json, block_time, txid)
            did, op, vc_id = _changed(self.state, new, txid.hex())
            self.store.add_block(block_time, [(txid.hex(), did, op, request_json, vc_id)])
            self.state = new
        return txid.hex()

    def credentials_of(self, did: str) -> list[str]:
        """The declared credentials owned by ``did``, newest first."""
        with self.lock:
            state = self.state
            ids = self.store.credentials_of(did)
        return [i for i in ids if (rec := state.credential(i)) is not None and rec.declare is not None]


def _changed(old: chain.IdChainState, new: chain.IdChainState, txid: str) -> tuple[str, str, str | None]:
    """(DID, operation, credential id or None) of the request ``txid`` that turned ``old`` into ``new``."""
    for k, r in new.dids:
        if r.transactions[-1].txid == txid:
            return k, r.transactions[-1].operation, None
    for k, c in new.credentials:
        for tx in ([c.declare] if c.declare else []) + [t for _, t in c.revokes]:
            if tx.txid == txid:
                return str(c.owner), tx.operation, k
    raise AssertionError("an accepted request changes a DID or a credential")


__all__ = ["IdChainService"]
