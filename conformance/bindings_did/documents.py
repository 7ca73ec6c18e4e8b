"""Handlers of the ``did`` suite for DID documents: the normalized and compact forms, and proofs.

A document is its JSON text (a JSON string holding the text, so member order, duplicates and
escapes reach the spec as written). ``documents`` maps a DID string to the text of its document:
the controllers of a customized document. ``now`` is Unix seconds.
"""

from __future__ import annotations

from typing import Any

from spec.did import document
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler

Json = dict[str, Any]


def _documents(inp: Input) -> dict[str, str]:
    if not inp.has("documents"):
        return {}
    docs = inp.raw("documents")
    if not isinstance(docs, dict) or not all(isinstance(v, str) for v in docs.values()):
        raise Reject(Reason.MALFORMED_INPUT, None, "documents: expected an object of DID -> document text")
    return docs


@handler(
    "did", "did.document.normalize",
    "`document` (JSON text) -> `normalized`, `compact`: parse and sanitize, then toString(true) and toString(false)",
)
def _document_normalize(data: Any) -> Json:
    inp = Input(data, ("document",), ("documents",))
    doc = document.parse_document(inp.text("document"), document.resolver_from_texts(_documents(inp)))
    return {"normalized": document.normalized(doc), "compact": document.compact(doc)}


@handler(
    "did", "did.document.verify",
    "`document`, `documents` (DID -> controller document text), `now`? -> `did`, `genuine`, `valid`",
)
def _document_verify(data: Any) -> Json:
    inp = Input(data, ("document", "documents"), ("now",))
    resolve = document.resolver_from_texts(_documents(inp))
    doc = document.parse_document(inp.text("document"), resolve)
    now = inp.small_int("now", 0, 1 << 40) if inp.has("now") else None
    return {"did": str(doc.subject), "genuine": document.is_genuine(doc, resolve),
            "valid": document.is_valid(doc, now, resolve)}
