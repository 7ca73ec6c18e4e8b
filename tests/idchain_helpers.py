"""Comparisons of the ID-chain service with the spec's state, shared by the service tests."""

from __future__ import annotations

import json

from reference.idchain.service import IdChainService
from spec.did import chain
from spec.did.document import format_date


def expected_did(state: chain.IdChainState, did: str, all: bool) -> dict:  # noqa: A002
    status, txs = chain.resolve_did(state, did, all=all)
    out: dict = {"did": did, "status": status}
    if status != chain.STATUS_NOT_FOUND:
        out["transaction"] = [{"txid": t.txid, "timestamp": format_date(t.timestamp),
                               "operation": json.loads(t.request)} for t in txs]
    return out


def assert_store_is(service: IdChainService, state: chain.IdChainState) -> None:
    """The store, read as the spec's view, holds exactly the state's records (and nothing else)."""
    store = service.store
    with service.lock:
        for did, rec in state.dids:
            assert store.did(did) == rec
        for vc, crec in state.credentials:
            assert store.credential(vc) == crec
        assert store.block_time == state.block_time
        assert store.count() == sum(len(r.transactions) for _, r in state.dids) + sum(
            (c.declare is not None) + len(c.revokes) for _, c in state.credentials)
        assert [d for (d,) in store.db.execute("SELECT did FROM dids ORDER BY did")] == [k for k, _ in state.dids]
        assert [c for (c,) in store.db.execute("SELECT id FROM credentials ORDER BY id")] == \
            [k for k, _ in state.credentials]
