"""Handlers of the ``did`` suite for the ID-chain state machine and resolve.

``requests`` is a list of ``{"request": <request JSON text>, "block_time": <Unix seconds>}`` applied in
order to an empty chain. A request's transaction id is **SHA256d of the request's UTF-8 bytes**
(:func:`spec.did.chain.request_txid`), written as lower-case hex (the txid an update's ``previousTxid`` and a ticket's ``txid`` name).

``did.chain.apply`` and ``did.chain.submit`` take an optional ``reserved``: a list of reserved customized
names (``IDC-018``), the state machine's ``reserved`` parameter; absent, it is empty (the PoW-era profile).
"""

from __future__ import annotations

from typing import Any

from spec.did import chain, document
from spec.did.syntax import parse_did
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler
from conformance.bindings_did.documents import _documents

Json = dict[str, Any]


def _requests(inp: Input, key: str = "requests") -> list[tuple[str, int]]:
    items = inp.raw(key)
    if not isinstance(items, list):
        raise Reject(Reason.MALFORMED_INPUT, None, f"{key}: expected a list")
    out = []
    for item in items:
        one = Input(item, ("request", "block_time"))
        out.append((one.text("request"), one.small_int("block_time", 0, 1 << 40)))
    return out


def _reserved(inp: Input) -> frozenset[str]:
    if not inp.has("reserved"):
        return frozenset()
    names = inp.raw("reserved")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise Reject(Reason.MALFORMED_INPUT, None, "reserved: expected a list of names")
    return frozenset(names)


def replay(requests: list[tuple[str, int]],
           reserved: frozenset[str] = frozenset()) -> tuple[chain.IdChainState, list[str]]:
    """Apply ``requests`` in order: the final state and each request's result (``"ok"`` or its reason)."""
    state, results = chain.EMPTY, []
    for text, t in requests:
        try:
            state = chain.apply_request(state, text, t, chain.request_txid(text), reserved)
            results.append("ok")
        except Reject as e:
            results.append(str(e.reason))
    return state, results


def _resolved(state: chain.IdChainState, did: str) -> Json:
    status, txs = chain.resolve_did(state, did, all=True)
    return {"status": status, "txids": [t.txid for t in txs]}


@handler(
    "did", "did.chain.apply",
    "`requests` (list of `request` JSON text, `block_time`) -> `results` (\"ok\" or the reason, per request), "
    "`resolve` (DID -> `status`, `txids` newest first, all transactions); txid = SHA256d(request bytes); "
    "`reserved`? (reserved customized names, IDC-018; default none)",
)
def _apply(data: Any) -> Json:
    inp = Input(data, ("requests",), ("reserved",))
    state, results = replay(_requests(inp), _reserved(inp))
    return {"results": results, "resolve": {did: _resolved(state, did) for did, _ in state.dids}}


@handler(
    "did", "did.chain.submit",
    "`requests` (as did.chain.apply, results ignored), then `request` at `block_time` -> `did`, `status`, "
    "`txids` (all, newest first) or the reason the last request is rejected; `reserved`? as did.chain.apply",
)
def _submit(data: Any) -> Json:
    inp = Input(data, ("requests", "request", "block_time"), ("reserved",))
    reserved = _reserved(inp)
    state, _ = replay(_requests(inp), reserved)
    text = inp.text("request")
    change = chain.check_request(state, text, inp.small_int("block_time", 0, 1 << 40), chain.request_txid(text),
                                 reserved)
    state = chain.apply_change(state, change)
    if isinstance(change, chain.DIDChange):
        return {"did": change.did, **_resolved(state, change.did)}
    status, txs = chain.resolve_credential(state, change.id)
    return {"did": change.id, "status": status, "txids": [t.txid for t in txs]}


@handler(
    "did", "did.chain.resolve",
    "`requests` (as did.chain.apply), `did`, `all` (bool), `now`? (Unix seconds; default the last accepted block "
    "time) -> `status` (0 valid, 1 expired, 2 deactivated, 3 not found), `txids` newest first (without `all`: the "
    "latest document's, after the deactivate of a deactivated DID)",
)
def _resolve(data: Any) -> Json:
    inp = Input(data, ("requests", "did", "all"), ("now",))
    state, _ = replay(_requests(inp))
    every = inp.raw("all")
    if not isinstance(every, bool):
        raise Reject(Reason.MALFORMED_INPUT, None, "all: expected true or false")
    now = inp.small_int("now", 0, 1 << 40) if inp.has("now") else None
    status, txs = chain.resolve_did(state, parse_did(inp.text("did")), all=every, now=now)
    return {"status": status, "txids": [t.txid for t in txs]}


@handler(
    "did", "did.chain.resolve_credential",
    "`requests` (as did.chain.apply), `id` (credential id), `issuer`? -> `status` (0 valid, 2 revoked, "
    "3 not found), `txids` newest first",
)
def _resolve_credential(data: Any) -> Json:
    inp = Input(data, ("requests", "id"), ("issuer",))
    state, _ = replay(_requests(inp))
    issuer = parse_did(inp.text("issuer")) if inp.has("issuer") else None
    status, txs = chain.resolve_credential(state, inp.text("id"), issuer)
    return {"status": status, "txids": [t.txid for t in txs]}


@handler(
    "did", "did.chain.check_history",
    "`did`, `transactions` (newest first: `txid`, `timestamp`, `operation`, `request`), `documents` (other DIDs) "
    "-> `transactions` (count): the client's check that a resolved history is a single verified chain",
)
def _check_history(data: Any) -> Json:
    inp = Input(data, ("did", "transactions", "documents"))
    items = inp.raw("transactions")
    if not isinstance(items, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "transactions: expected a list")
    txs = []
    for item in items:
        one = Input(item, ("txid", "timestamp", "operation", "request"))
        txs.append(chain.IdTransaction(txid=one.text("txid"), timestamp=one.small_int("timestamp", 0, 1 << 40),
                                     operation=one.text("operation"), request=one.text("request")))
    resolve = document.resolver_from_texts(_documents(inp))
    chain.check_history(parse_did(inp.text("did")), tuple(txs), resolve)
    return {"transactions": len(txs)}
