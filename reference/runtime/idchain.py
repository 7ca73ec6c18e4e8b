"""DIDs for the runtime from a running ID-chain service (``elastos idchain``) over JSON-RPC.

``IdChainResolver`` is a ``spec.runtime.identity.DidResolver``, the interface the runtime
already resolves through: it asks ``did_resolveDID`` with ``all`` true and trusts a document only
after the spec's client-side history check (``reference.did.client.ChainClient``, which
resolves controllers the same way). Status 2 (deactivated), or a history whose newest transaction is
a deactivate, gives a deactivated DID; status 3 gives ``None``; an expired document is returned as it
is, for :func:`spec.runtime.identity.usable` to refuse.

When the service cannot be reached, or answers what is not a well-formed, verifying resolution, the
lookup raises a typed :class:`IdChainError` (:class:`IdChainUnreachable` or
:class:`IdChainMalformed`). As a resolver the class records that error in :attr:`IdChainResolver.errors`
and resolves nothing, so the spec decides as for a DID that does not resolve: a Carrier call to the
peer is denied ``NET_PEER_UNRESOLVED`` (RT-071), an install whose manifest names such a DID is
refused by the manifest's rules, and the runtime and its other apps keep running. Nothing is cached
between lookups: a DID deactivated on the chain is refused from the next call on.
"""

from __future__ import annotations

import http.client
import json
from typing import Any, ClassVar

from spec.did import chain
from spec.did.syntax import DID
from spec.errors import Reject
from spec.runtime.identity import ResolvedDid

from reference.did.client import ChainClient
from reference.node.rpc import RpcClient, RpcError

__all__ = ["IdChainError", "IdChainUnreachable", "IdChainMalformed", "IdChainResolver"]


class IdChainError(Exception):
    """The ID chain gave no usable answer about ``did``."""

    kind: ClassVar[str] = "error"

    def __init__(self, did: str, detail: str) -> None:
        super().__init__(did, detail)
        self.did = did
        self.detail = detail

    def __str__(self) -> str:
        return f"ID chain {self.kind} for {self.did}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        return {"did": self.did, "error": self.kind, "detail": self.detail}


class IdChainUnreachable(IdChainError):
    """No answer: the connection was refused, cut or timed out."""

    kind: ClassVar[str] = "unreachable"


class IdChainMalformed(IdChainError):
    """An answer that is not a resolution: not JSON-RPC, an error answer, missing or mistyped fields, an
    unknown status, a status without a history, or a history that does not verify."""

    kind: ClassVar[str] = "malformed"


class _ResolutionRpc(RpcClient):
    """A JSON-RPC client that takes a ``did_resolveDID`` answer only in its documented shape: an object with
    an integer ``status`` and, when present, a list ``transaction`` (no ``"3"`` for 3, no ``true`` for 1)."""

    def call(self, method: str, *params: Any, **named: Any) -> Any:
        result = super().call(method, *params, **named)
        if method == "did_resolveDID":
            status = result.get("status") if isinstance(result, dict) else None
            if type(status) is not int or not isinstance(result.get("transaction", []), list):
                raise ValueError(f"not a resolution: {json.dumps(result)[:120]}")
        return result


class IdChainResolver:
    """Resolves DIDs through the ID-chain service at ``url``; see the module's description."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self.errors: list[IdChainError] = []
        """Every lookup that failed, oldest first."""

    def lookup(self, did: DID | str) -> ResolvedDid | None:
        """The DID's resolution; raises :class:`IdChainError` when the chain gives no usable answer."""
        key = str(did)
        client = ChainClient(self.url)
        client.rpc = _ResolutionRpc(self.url, timeout=self.timeout)
        try:
            r = client.resolve(key)
        except (OSError, http.client.HTTPException) as e:
            raise IdChainUnreachable(key, f"{self.url}: {type(e).__name__}: {e}") from None
        except RpcError as e:
            raise IdChainMalformed(key, f"error answer {e}") from None
        except Reject as e:
            raise IdChainMalformed(key, f"history refused: {e.reason.value} [{e.rule}] {e.detail}") from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise IdChainMalformed(key, f"{type(e).__name__}: {e}") from None
        if r.status == chain.STATUS_NOT_FOUND:
            return None
        if r.status not in (chain.STATUS_VALID, chain.STATUS_EXPIRED, chain.STATUS_DEACTIVATED):
            raise IdChainMalformed(key, f"unknown status {r.status}")
        if r.document is None:
            raise IdChainMalformed(key, f"status {r.status} without a history")
        deactivated = r.status == chain.STATUS_DEACTIVATED or r.transactions[0].operation == "deactivate"
        return ResolvedDid(document=r.document, deactivated=deactivated)

    def __call__(self, did: DID) -> ResolvedDid | None:
        try:
            return self.lookup(did)
        except IdChainError as e:
            self.errors.append(e)
            return None
