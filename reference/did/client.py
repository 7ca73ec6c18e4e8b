"""The ID chain seen from a client: resolve over JSON-RPC, check the history, publish requests.

Resolution asks ``did_resolveDID`` with ``all`` true and runs the spec's client-side history check
(:func:`spec.did.chain.check_history`) before it trusts a document, as the SDK's ``DIDBackend`` does;
controller and issuer documents are resolved the same way, recursively, and cached for one client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spec.did import chain, document, jsontext, request
from spec.did.syntax import DID, parse_did

from reference.node.rpc import RpcClient


@dataclass(frozen=True)
class Resolved:
    did: DID
    status: int
    """0 valid, 1 expired, 2 deactivated, 3 not found (upstream's codes)."""
    document: document.Document | None
    transactions: tuple[chain.IdTransaction, ...]
    """Newest first."""

    @property
    def last_txid(self) -> str | None:
        return self.transactions[0].txid if self.transactions else None


def _transaction(tx: dict[str, Any]) -> chain.IdTransaction:
    op = tx["operation"]
    return chain.IdTransaction(txid=tx["txid"], timestamp=document.parse_date(tx["timestamp"]),
                               operation=op["header"]["operation"], request=jsontext.serialize(op))


class ChainClient:
    """One client of an ID-chain JSON-RPC endpoint."""

    def __init__(self, url: str) -> None:
        self.rpc = RpcClient(url)
        self._cache: dict[DID, Resolved] = {}

    def resolve(self, did: DID | str) -> Resolved:
        target = parse_did(did) if isinstance(did, str) else did
        if target in self._cache:
            return self._cache[target]
        self._cache[target] = Resolved(target, chain.STATUS_NOT_FOUND, None, ())  # cuts resolution cycles
        r = self.rpc.call("did_resolveDID", {"did": str(target), "all": True})
        txs = tuple(_transaction(t) for t in r.get("transaction", []))
        doc = chain.check_history(target, txs, self.resolver()) if txs else None
        out = Resolved(target, int(r["status"]), doc, txs)
        self._cache[target] = out
        return out

    def resolver(self) -> document.Resolver:
        def resolve(did: DID) -> document.Document | None:
            return self.resolve(did).document
        return resolve

    def forget(self) -> None:
        self._cache.clear()

    def publish(self, req: request.Request) -> str:
        txid: str = self.rpc.call("did_publishRequest", {"request": request.serialize(req)})["txid"]
        self.forget()
        return txid

    def credential_status(self, vc_id: str, issuer: str | None = None) -> int:
        params = {"id": vc_id} if issuer is None else {"id": vc_id, "issuer": issuer}
        return int(self.rpc.call("did_resolveCredential", params)["status"])


__all__ = ["ChainClient", "Resolved"]
