"""DIDs as the runtime sees them: canonical DID strings, resolution with status, primitive documents.

Apps, users, developers and Carrier peers are ``did:elastos`` DIDs. The runtime takes a DID only in
its canonical string form (``str(parse_did(s)) == s``): no surrounding blanks, so that one DID has
one spelling in a home path, a token and a friend list.

A :data:`DidResolver` gives a DID's document with its chain status (the ID chain's
``resolve_did``: a deactivated DID still resolves, marked deactivated). A DID is **usable** at
``now`` when it resolves, its document is valid (genuine, not expired, controllers valid) and it is
not deactivated.

:func:`primitive_document` writes the smallest valid primitive document for a key; the generators,
the tests and the reference runtime use it to make app, user and developer identities.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from spec.crypto import p256
from spec.did import builder, document
from spec.did.document import Document
from spec.did.syntax import DID, parse_did, parse_did_url
from spec.errors import Reject

__all__ = ["ResolvedDid", "DidResolver", "canonical_did", "document_resolver", "usable", "default_key",
           "primitive_document", "b64url"]


class ResolvedDid(BaseModel):
    """A DID's current document and whether the chain marks it deactivated."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    document: Document
    deactivated: bool = False


DidResolver = Callable[[DID], "ResolvedDid | None"]
"""Gives a DID's resolution, or ``None`` when the DID is not known."""


def canonical_did(text: str) -> DID | None:
    """The DID of ``text`` when ``text`` is a DID in canonical form; otherwise ``None``."""
    try:
        did = parse_did(text)
    except Reject:
        return None
    return did if str(did) == text else None


def document_resolver(resolve: DidResolver) -> document.Resolver:
    """The plain document resolver (for controllers) of a status resolver."""
    def plain(did: DID) -> Document | None:
        r = resolve(did)
        return None if r is None else r.document
    return plain


def usable(resolved: ResolvedDid, now: int, resolve: DidResolver) -> bool:
    """Valid at ``now`` (genuine, not expired, controllers valid) and not deactivated."""
    return not resolved.deactivated and document.is_valid(resolved.document, now, document_resolver(resolve))


def default_key(resolved: ResolvedDid) -> bytes | None:
    """The compressed public key of a primitive document's default key (``None`` for a customized DID)."""
    doc = resolved.document
    if doc.default_key is None:
        return None
    key = doc.key(doc.default_key)
    return None if key is None else key.public_key


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def primitive_document(private_key: bytes, expires: int, created: int) -> str:
    """The normalized text of a primitive document with one key, ``#primary``, signed by it at ``created``
    (:func:`spec.did.builder.sign_draft`: fixtures may be expired or long-lived)."""
    pub = p256.public_key_from_private(private_key)
    draft = {**builder.primitive_draft(pub), "expires": document.format_date(expires)}
    signer = parse_did_url(f"{draft['id']}#{builder.PRIMARY}")
    return document.normalized(builder.sign_draft(draft, created=created, signer=signer, private_key=private_key))
