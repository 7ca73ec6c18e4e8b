"""The ID-chain service: the spec's state machine (:mod:`spec.did.chain`) over the SQLite store.

The store is the spec's view (:class:`~spec.did.chain.IdChainView`): :meth:`IdChainService.submit`
checks a request with :func:`spec.did.chain.check_request` against it and writes the change the spec
returns, in one SQLite transaction per block. A rejection raises the spec's :class:`~spec.errors.Reject`
and stores nothing; a failed write rolls the whole block back. Resolution runs the spec's
:func:`~spec.did.chain.resolve_did` and :func:`~spec.did.chain.resolve_credential` on the store, so it
reads the rows of the one DID or credential asked about. Nothing is replayed on start and no DID is held
in memory.

The transaction id is the spec's :func:`spec.did.chain.request_txid`: SHA256d of the request's UTF-8 bytes.

``reserved`` is the spec's set of reserved customized names (``IDC-018``): empty by default, as in the
PoW-era profile; a service started with names refuses customized DIDs of those names, whatever their case.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from spec.did import chain
from spec.errors import Reason, Reject

from reference.idchain.store import Block, Store


class IdChainService:
    def __init__(self, datadir: str | Path, reserved: frozenset[str] = frozenset()) -> None:
        self.store = Store(datadir)
        self.reserved = frozenset(reserved)
        """The reserved customized names (IDC-018), the spec's ``reserved`` parameter."""
        self.lock = threading.Lock()
        """Serializes every use of the store's connection (the RPC server calls from several threads)."""

    def close(self) -> None:
        with self.lock:
            self.store.close()

    def submit(self, request_json: str, block_time: int) -> str:
        """Check and store one request in a new block at ``block_time``; its txid (hex)."""
        return self.publish(request_json, block_time)[0]

    def publish(self, request_json: str, block_time: int) -> tuple[str, int]:
        """:meth:`submit`, also giving the new block's height."""
        height, (result,) = self.submit_block(block_time, [request_json])
        if isinstance(result, Reject):
            raise result
        return result.hex(), height

    def submit_block(self, block_time: int, requests: Sequence[str], *, height: int | None = None,
                     txids: Sequence[bytes] | None = None, strict: bool = False,
                     dry_run: bool = False) -> tuple[int, list[bytes | Reject]]:
        """Check each request in order against the store (seeing the block's earlier ones) and store the
        accepted ones as one block at ``block_time``, in one SQLite transaction: the block's height and, per
        request, its txid or the spec's rejection. A block with no accepted request stores nothing.

        A sidechain node passes its block's ``height`` and its transactions' ids as ``txids``; ``strict``
        raises the first rejection (storing nothing), and ``dry_run`` checks without storing."""
        for text in requests:
            if not isinstance(text, str):
                raise Reject(Reason.MALFORMED_INPUT, None, "request: expected JSON text")
        if txids is not None and len(txids) != len(requests):
            raise ValueError("one txid per request")
        results: list[bytes | Reject] = []
        with self.lock, self.store.block(block_time, height, commit=not dry_run) as blk:
            for i, text in enumerate(requests):
                txid = chain.request_txid(text) if txids is None else txids[i]
                try:
                    change = chain.check_request(self.store, text, block_time, txid, self.reserved)
                except Reject as e:
                    if strict:
                        raise
                    results.append(e)
                    continue
                blk.write(change)
                results.append(txid)
        return blk.height, results

    @contextmanager
    def branch(self, fork_height: int, *, commit: bool) -> Iterator[Callable[[int, int, Sequence[str], Sequence[bytes]], None]]:
        """A sidechain reorganisation of the DID state in one SQLite transaction: the store rewinds to
        ``fork_height``, then the function yielded applies one branch block's requests ``(height, block
        time, requests, txids)``, raising the first rejection. Committed on leaving if ``commit``, else
        rolled back (the node's trial of a branch). Holds the service's lock throughout."""
        def apply(height: int, block_time: int, requests: Sequence[str], txids: Sequence[bytes]) -> None:
            blk = Block(self.store, height, block_time)
            for text, txid in zip(requests, txids, strict=True):
                blk.write(chain.check_request(self.store, text, block_time, txid, self.reserved))

        with self.lock, self.store.rewrite(commit):
            self.store.rewind(fork_height, self.reserved)
            yield apply

    def resolve_did(self, did: str, all: bool = False) -> tuple[int, tuple[chain.IdTransaction, ...]]:  # noqa: A002
        with self.lock:
            return chain.resolve_did(self.store, did, all=all)

    def resolve_credential(self, vc_id: str, issuer: str | None = None) -> tuple[int, tuple[chain.IdTransaction, ...]]:
        with self.lock:
            return chain.resolve_credential(self.store, vc_id, issuer)

    def credentials_of(self, did: str) -> list[str]:
        """The declared credentials owned by ``did``, newest first (a customized DID's in any case)."""
        with self.lock:
            return self.store.credentials_of(did)

    def tip(self) -> tuple[int, int]:
        """The last block's (height, block time); (-1, 0) for an empty chain."""
        with self.lock:
            return self.store.height(), self.store.block_time


__all__ = ["IdChainService"]
