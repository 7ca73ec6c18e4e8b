"""Handlers of the ``did`` suite for verifiable credentials and presentations.

A credential or presentation is its JSON text (a JSON string holding the text). ``documents`` maps
a DID string to the text of its document: the issuers, the holder and their controllers. ``now``
is Unix seconds.
"""

from __future__ import annotations

from typing import Any

from spec.did import credential, document, presentation

from conformance.bindings import Input, handler
from conformance.bindings_did.documents import _documents

Json = dict[str, Any]


def _now(inp: Input) -> int | None:
    return inp.small_int("now", 0, 1 << 40) if inp.has("now") else None


@handler(
    "did", "did.credential.normalize",
    "`credential` (JSON text) -> `normalized`, `compact`: parse and sanitize, then toString(true) and toString(false)",
)
def _credential_normalize(data: Any) -> Json:
    inp = Input(data, ("credential",))
    vc = credential.parse_credential(inp.text("credential"))
    return {"normalized": credential.normalized(vc), "compact": credential.compact(vc)}


@handler(
    "did", "did.credential.verify",
    "`credential`, `documents` (DID -> document text), `now`? -> `id`, `genuine`, `valid`",
)
def _credential_verify(data: Any) -> Json:
    inp = Input(data, ("credential", "documents"), ("now",))
    resolve = document.resolver_from_texts(_documents(inp))
    vc = credential.parse_credential(inp.text("credential"))
    return {"id": str(vc.id), "genuine": credential.is_genuine(vc, resolve),
            "valid": credential.is_valid(vc, _now(inp), resolve)}


@handler(
    "did", "did.presentation.normalize",
    "`presentation` (JSON text) -> `normalized`: parse and sanitize, then toString(true) (no compact form is specified)",
)
def _presentation_normalize(data: Any) -> Json:
    inp = Input(data, ("presentation",))
    return {"normalized": presentation.normalized(presentation.parse_presentation(inp.text("presentation")))}


@handler(
    "did", "did.presentation.verify",
    "`presentation`, `documents` (DID -> document text), `now`? -> `holder`, `genuine`, `valid`",
)
def _presentation_verify(data: Any) -> Json:
    inp = Input(data, ("presentation", "documents"), ("now",))
    resolve = document.resolver_from_texts(_documents(inp))
    vp = presentation.parse_presentation(inp.text("presentation"))
    return {"holder": str(vp.holder_did), "genuine": presentation.is_genuine(vp, resolve),
            "valid": presentation.is_valid(vp, _now(inp), resolve)}
