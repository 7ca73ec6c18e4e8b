"""Handlers of the ``assets`` suite for scarce editions.

``events`` is a list of ``{request (hex of the CBOR request), event (hex, 32 bytes: the carrying
transaction's id), outputs ([{program_hash (hex), value (decimal string)}], the carrying transaction's
outputs)}`` applied in order to an empty state; ``documents`` maps a DID to its document text.
"""

from __future__ import annotations

from typing import Any

from spec.assets import editions as E
from spec.did import document
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler
from conformance.bindings_did.documents import _documents

Json = dict[str, Any]


def _events(inp: Input) -> list[tuple[bytes, bytes, list[tuple[bytes, int]]]]:
    raw = inp.raw("events")
    if not isinstance(raw, list):
        raise Reject(Reason.MALFORMED_INPUT, None, "events: a list")
    out = []
    for item in raw:
        e = Input(item, ("request", "event"), ("outputs",))
        outs = []
        for o in (e.raw("outputs") if e.has("outputs") else []):
            oi = Input(o, ("program_hash", "value"))
            outs.append((oi.hex("program_hash"), oi.big_int("value")))
        out.append((e.hex("request"), e.hex("event"), outs))
    return out


@handler("assets", "assets.edition.apply",
         "`events`, `documents`, `access`? ([did, work hex] pairs) -> `results` (\"ok\" or the reason, per event), "
         "`owners` ([work, number, owner] of every copy), `access` (may_access per pair)")
def _apply(data: Any) -> Json:
    inp = Input(data, ("events", "documents"), ("access",))
    resolve = document.resolver_from_texts(_documents(inp))
    state = E.EMPTY_EDITIONS
    results: list[str] = []
    for req, ev, outs in _events(inp):
        try:
            state = E.apply_edition(state, req, ev, resolve, outs)
            results.append("ok")
        except Reject as e:
            results.append(e.reason.value)
    owners = [[w.hex(), n, E.owner_of(state, w, n)] for w, rec in state.works for n in range(1, rec.mint.copies + 1)]
    access = []
    for pair in (inp.raw("access") if inp.has("access") else []):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise Reject(Reason.MALFORMED_INPUT, None, "access: [did, work hex] pairs")
        access.append(E.may_access(state, pair[0], bytes.fromhex(pair[1])))
    return {"results": results, "owners": owners, "access": access}


@handler("assets", "assets.edition.decode",
         "`request` (hex) -> `op`, `by`, `work` (hex): decode and shape-check one edition request")
def _decode(data: Any) -> Json:
    r = E.decode_edition_request(Input(data, ("request",)).hex("request"))
    return {"op": r.op, "by": r.by, "work": r.body.work.hex()}


@handler("assets", "assets.edition.submit",
         "`events` (as assets.edition.apply, their results ignored), then `event` -> `owners` or the reason the last "
         "event is refused")
def _submit(data: Any) -> Json:
    inp = Input(data, ("events", "event", "documents"))
    resolve = document.resolver_from_texts(_documents(inp))
    state = E.EMPTY_EDITIONS
    for req, ev, outs in _events(inp):
        try:
            state = E.apply_edition(state, req, ev, resolve, outs)
        except Reject:
            pass
    [(req, ev, outs)] = _events(Input({"events": [inp.raw("event")]}, ("events",)))
    state = E.apply_edition(state, req, ev, resolve, outs)
    return {"owners": [[w.hex(), n, E.owner_of(state, w, n)] for w, rec in state.works
                       for n in range(1, rec.mint.copies + 1)]}


@handler("assets", "assets.edition.open",
         "`events` (as assets.edition.apply, their results ignored), `documents`, `did`, `work` (hex) -> `opened` "
         "true, or the reason the Runtime refuses to open the work for the DID")
def _open(data: Any) -> Json:
    inp = Input(data, ("events", "documents", "did", "work"))
    resolve = document.resolver_from_texts(_documents(inp))
    state = E.EMPTY_EDITIONS
    for req, ev, outs in _events(inp):
        try:
            state = E.apply_edition(state, req, ev, resolve, outs)
        except Reject:
            pass
    did = inp.raw("did")
    if not isinstance(did, str):
        raise Reject(Reason.MALFORMED_INPUT, None, "did: a string")
    E.check_access(state, did, inp.hex("work"))
    return {"opened": True}
