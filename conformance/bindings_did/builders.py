"""Handlers of the ``did`` suite for the builders: seal (and co-sign) a document, issue a credential,
create a presentation.

Signatures are ECDSA P-256 over SHA-256 with RFC 6979 deterministic nonces, so the output text is
exact; an implementation that signs with random nonces can still check its own output with the
``*.verify`` handlers, but must use RFC 6979 to match these vectors byte for byte. ``now`` is Unix
seconds; private keys are lower-case hex of the 32-byte scalar; ``documents`` maps a DID string to the
text of its document (controllers, issuers, holders).
"""

from __future__ import annotations

from typing import Any

from spec.did import builder, credential, document, jsontext, presentation
from spec.did.syntax import parse_did, parse_did_url
from spec.errors import Reason, Reject

from conformance.bindings import Input, handler
from conformance.bindings_did.documents import _documents

Json = dict[str, Any]
NOW_MAX = 1 << 40


def _object(text: str, what: str) -> dict[str, Any]:
    v = jsontext.parse(text)
    if not isinstance(v, dict):
        raise Reject(Reason.MALFORMED_INPUT, None, f"{what}: expected a JSON object text")
    return v


def _signers(inp: Input) -> list[tuple[str, bytes]]:
    raw = inp.raw("signers")
    if not isinstance(raw, list) or not raw:
        raise Reject(Reason.MALFORMED_INPUT, None, "signers: expected a non-empty list of {key, private_key}")
    out = []
    for item in raw:
        s = Input(item, ("key", "private_key"))
        out.append((s.text("key"), s.hex("private_key")))
    return out


@handler(
    "did", "did.document.seal",
    "`draft` (JSON text, no proof), `now`, `signers` [{`key`, `private_key`}], `documents`? -> `did`, `normalized`: "
    "DIDDocument.Builder.seal by the first signer, then DIDDocument.sign by each further signer",
)
def _document_seal(data: Any) -> Json:
    inp = Input(data, ("draft", "now", "signers"), ("documents",))
    resolve = document.resolver_from_texts(_documents(inp))
    now = inp.small_int("now", 0, NOW_MAX)
    signers = _signers(inp)
    draft = _object(inp.text("draft"), "draft")
    key, priv = signers[0]
    doc = builder.seal_document(draft, now=now, signer=parse_did_url(key), private_key=priv, resolve=resolve)
    for key, priv in signers[1:]:
        doc = builder.cosign_document(doc, now=now, signer=parse_did_url(key), private_key=priv, resolve=resolve)
    return {"did": str(doc.subject), "normalized": document.normalized(doc)}


@handler(
    "did", "did.credential.issue",
    "`id`, `subject`, `types`, `properties` (JSON object text), `issuer` (DID), `signer`, `private_key`, `now`, "
    "`expiration`?, `documents` -> `normalized`",
)
def _credential_issue(data: Any) -> Json:
    inp = Input(data, ("id", "subject", "types", "properties", "issuer", "signer", "private_key", "now", "documents"),
                ("expiration",))
    resolve = document.resolver_from_texts(_documents(inp))
    types = inp.raw("types")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise Reject(Reason.MALFORMED_INPUT, None, "types: expected a list of strings")
    issuer_doc = resolve(parse_did(inp.text("issuer")))
    if issuer_doc is None:
        raise Reject(Reason.MALFORMED_INPUT, None, "issuer: its document is not in documents")
    vc = builder.issue_credential(
        parse_did_url(inp.text("id")), parse_did(inp.text("subject")), types, _object(inp.text("properties"), "properties"),
        issuer_doc=issuer_doc, signer=parse_did_url(inp.text("signer")), private_key=inp.hex("private_key"),
        now=inp.small_int("now", 0, NOW_MAX),
        expiration=inp.small_int("expiration", 0, NOW_MAX) if inp.has("expiration") else None, resolve=resolve)
    return {"normalized": credential.normalized(vc)}


@handler(
    "did", "did.presentation.create",
    "`holder` (DID), `credentials` [JSON text], `realm`, `nonce`, `signer`, `private_key`, `now`, `id`?, "
    "`documents` -> `normalized`",
)
def _presentation_create(data: Any) -> Json:
    inp = Input(data, ("holder", "credentials", "realm", "nonce", "signer", "private_key", "now", "documents"), ("id",))
    resolve = document.resolver_from_texts(_documents(inp))
    holder_doc = resolve(parse_did(inp.text("holder")))
    if holder_doc is None:
        raise Reject(Reason.MALFORMED_INPUT, None, "holder: its document is not in documents")
    texts = inp.raw("credentials")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise Reject(Reason.MALFORMED_INPUT, None, "credentials: expected a list of credential texts")
    vp = builder.create_presentation(
        holder_doc, [credential.parse_credential(t) for t in texts], realm=inp.text("realm"), nonce=inp.text("nonce"),
        signer=parse_did_url(inp.text("signer")), private_key=inp.hex("private_key"), now=inp.small_int("now", 0, NOW_MAX),
        vp_id=parse_did_url(inp.text("id")) if inp.has("id") else None, resolve=resolve)
    return {"normalized": presentation.normalized(vp)}
