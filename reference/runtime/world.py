"""Identities for a local runtime: DIDs with documents, a resolver, signed manifests and grants.

The runtime demo and the tests need a developer, users, apps and Carrier peers with real DID
documents. :class:`World` derives a P-256 key from each label (SHA-256 of a seed and the label),
writes each DID's primitive document with :func:`spec.runtime.identity.primitive_document`, and
resolves them; it signs manifests as a developer and grants as a user or an app. Nothing here
decides anything: the runtime checks all of it through the spec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from spec.carrier import binding as carrier_binding
from spec.carrier import identity as carrier_identity
from spec.crypto import p256
from spec.did import chain as did_chain
from spec.did import document, keys
from spec.did.document import Document
from spec.did.syntax import DID
from spec.runtime import capability, manifest
from spec.runtime.identity import ResolvedDid, primitive_document

__all__ = ["World"]


class World:
    """A set of labelled identities valid from ``created`` to ``expires`` (Unix seconds)."""

    def __init__(self, seed: bytes = b"elastos-runtime-world", *, created: int = 1_700_000_000,
                 expires: int = 2_000_000_000) -> None:
        self.seed, self.created, self.expires = seed, created, expires
        self._docs: dict[str, ResolvedDid] = {}
        self._labels: dict[str, str] = {}
        self.deactivated: set[str] = set()

    def key(self, label: str) -> bytes:
        d = int.from_bytes(hashlib.sha256(self.seed + b"/" + label.encode()).digest(), "big") % (p256.N - 1) + 1
        return d.to_bytes(32, "big")

    def did(self, label: str, *, expires: int | None = None) -> str:
        """The DID of ``label`` (its document is created on first use)."""
        did = str(keys.did_from_public_key(p256.public_key_from_private(self.key(label))))
        if did not in self._docs:
            text = primitive_document(self.key(label), self.expires if expires is None else expires, self.created)
            self._docs[did] = ResolvedDid(document=document.parse_document(text))
            self._labels[did] = label
        return did

    def deactivate(self, label: str) -> None:
        did = self.did(label)
        self._docs[did] = self._docs[did].model_copy(update={"deactivated": True})

    def forget(self, label: str) -> None:
        """Make a DID unresolvable."""
        self._docs.pop(self.did(label), None)

    def resolve(self, did: DID) -> ResolvedDid | None:
        return self._docs.get(str(did))

    def node_seed(self, label: str) -> tuple[bytes, bytes]:
        """The Carrier node seed and nospam of ``label``'s device."""
        digest = hashlib.sha256(self.seed + b"/carrier/" + label.encode()).digest()
        return digest, hashlib.sha256(digest).digest()[:4]

    def carrier_address(self, label: str) -> str:
        seed, nospam = self.node_seed(label)
        return carrier_identity.make_address(carrier_identity.node_id_of(seed), nospam)

    def publish_carrier(self, label: str) -> str:
        """Give ``label``'s DID a document naming its node's Carrier address (a ``CarrierAddress``
        service), as a user publishes it on the ID chain; returns the DID."""
        did = self.did(label)
        text = carrier_binding.carrier_document(self.key(label), (self.carrier_address(label),), self.expires,
                                                self.created)
        self._docs[did] = ResolvedDid(document=document.parse_document(text),
                                      deactivated=self._docs[did].deactivated)
        return did

    def carrier_resolve(self, did: DID) -> tuple[int, Document | None]:
        """The same DIDs as :meth:`resolve`, in the form a Carrier node takes (status, document)."""
        r = self._docs.get(str(did))
        if r is None:
            return did_chain.STATUS_NOT_FOUND, None
        return (did_chain.STATUS_DEACTIVATED if r.deactivated else did_chain.STATUS_VALID), r.document

    def manifest(self, app: str, module: bytes, *, permissions: Sequence[str] = (), intents: Sequence[str] = (),
                 intent_filters: Sequence[str] = (), fuel: int = 2_000_000, memory_pages: int = 4,
                 calls_per_window: int = 1000, developer: str = "developer") -> str:
        """A manifest for ``module`` signed by ``developer``."""
        m = manifest.Manifest(
            app=self.did(app), developer=self.did(developer), name=app.capitalize(), version="1.0.0",
            entrypoint=manifest.module_hash(module), permissions=tuple(permissions), intents=tuple(intents),
            intent_filters=tuple(intent_filters),
            limits=manifest.AppLimits(fuel=fuel, memory_pages=memory_pages, calls_per_window=calls_per_window),
            verification_method=f"{self.did(developer)}#primary", signature="")
        return manifest.manifest_json(manifest.sign_manifest(m, self.key(developer)))

    def token(self, app: str, resource: str, action: str, *, user: str = "user", issuer: str | None = None,
              expiry: int | None = None, delegatable: bool = False, max_bytes: int | None = None,
              parent: bytes | None = None, depth: int = 0, signer: str | None = None, nonce: str = "") -> bytes:
        """A token granting ``app`` (for ``user``) ``action`` on ``resource``, signed by the issuer."""
        issuer = user if issuer is None else issuer
        t = capability.Token(
            id=hashlib.sha256(f"{app}/{resource}/{action}/{issuer}/{nonce}".encode()).digest()[:16],
            app=self.did(app), user=self.did(user), resource=resource, action=action, delegatable=delegatable,
            max_bytes=max_bytes, expiry=self.expires if expiry is None else expiry, issuer=self.did(issuer),
            parent=None if parent is None else capability.token_hash(parent), depth=depth, sig=bytes(64))
        return capability.encode_token(capability.sign_token(t, self.key(signer or issuer)))
