"""Handlers of the ``did`` suite for transfer tickets and ID-chain requests.

A ticket and a request are their JSON text (a JSON string holding the text). ``documents`` maps a
DID string to the text of its document: the chain's current view (for a transfer, the DID's
document before the transfer, its controllers and the new owner). ``now`` is Unix seconds.
"""

from __future__ import annotations

from typing import Any

from spec.did import document, request, ticket

from conformance.bindings import Input, handler
from conformance.bindings_did.documents import _documents

Json = dict[str, Any]


@handler(
    "did", "did.ticket.verify",
    "`ticket` (JSON text), `documents` (DID -> document text), `now`? -> `did`, `genuine`, `valid`",
)
def _ticket_verify(data: Any) -> Json:
    inp = Input(data, ("ticket", "documents"), ("now",))
    resolve = document.resolver_from_texts(_documents(inp))
    tkt = ticket.parse_ticket(inp.text("ticket"))
    now = inp.small_int("now", 0, 1 << 40) if inp.has("now") else None
    return {"did": str(tkt.subject), "genuine": ticket.is_genuine(tkt, resolve),
            "valid": ticket.is_valid(tkt, now, resolve)}


@handler(
    "did", "did.request.verify",
    "`request` (JSON text), `documents` (DID -> document text) -> `operation`, `did`: parse and verify an "
    "ID-chain request",
)
def _request_verify(data: Any) -> Json:
    inp = Input(data, ("request", "documents"))
    resolve = document.resolver_from_texts(_documents(inp))
    verified = request.verify_request(request.parse_request(inp.text("request")), resolve)
    return {"operation": verified.request.operation, "did": str(verified.did)}
