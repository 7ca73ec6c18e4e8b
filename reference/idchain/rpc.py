"""JSON-RPC on loopback for the ID-chain service, with EID's method names and result shapes
(``internal/ethapi/didapi.go``; research ``elastos-did.md`` §5.3).

==========================  =============================================  ==================================================
method                      params                                         result
==========================  =============================================  ==================================================
``did_resolveDID``          ``{"did", "all"}``                             ``{"did", "status", "transaction": [tx, ...]}``
``did_resolveCredential``   ``{"id", "issuer"?}``                          ``{"id", "status", "transaction": [tx, ...]}``
``did_listCredentials``     ``{"did", "skip", "limit"}``                   ``{"did", "credentials": [id, ...]}``
``did_publishRequest``      ``{"request": <JSON text>, "block_time"?}``    ``{"txid", "height"}``
==========================  =============================================  ==================================================

``tx`` is ``{"txid", "timestamp": "RFC3339Z", "operation": <the request JSON object>}``, newest first; a status of
3 (not found) has no ``transaction``. A found DID's ``did`` is the id its last listed document writes, as
EID answers it (``foo`` or ``did:elastos:FOO`` asked, ``did:elastos:foo`` answered); a DID not found echoes
the parameter. ``all`` must be a boolean when given (EID reads anything else as false; the service refuses
it with invalid params). Statuses are the spec's (:func:`spec.did.chain.resolve_did`,
:func:`spec.did.chain.resolve_credential`). Params are a map or a one-element list holding the map.

EID has no JSON-RPC submission method (requests are published by calling the DID contract's
``publishDidTransaction(string)``), so the service names its own: ``did_publishRequest``. ``block_time``
defaults to the wall clock, never before the last block's. A rejected request is an error with code 43001
(upstream's invalid transaction), ``reason`` the spec's reason code, and the message ``reason [RULE]: detail``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from spec.did import chain
from spec.did.document import format_date
from spec.did.request import b64url_decode, parse_request
from spec.errors import Reject

from reference.idchain.service import IdChainService
from reference.node.rpc import (INVALID_PARAMS, ApiServer, INVALID_TRANSACTION, METHOD_NOT_FOUND, RpcClient, RpcError)


def _tx(t: chain.IdTransaction) -> dict[str, Any]:
    return {"txid": t.txid, "timestamp": format_date(t.timestamp), "operation": json.loads(t.request)}


def _document_id(t: chain.IdTransaction) -> str:
    """The id written in the document a create, update or transfer published (the chain accepted it, so
    its payload decodes and names one)."""
    return json.loads(b64url_decode(parse_request(t.request).payload))["id"]


class Api:
    METHODS = ("did_resolveDID", "did_resolveCredential", "did_listCredentials", "did_publishRequest")

    def __init__(self, service: IdChainService) -> None:
        self.service = service

    def call(self, method: str, params: Any) -> Any:
        if method not in self.METHODS:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if isinstance(params, list) and len(params) == 1:
            params = params[0]
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params: expected a map or a list of one map")
        try:
            return getattr(self, method)(params)
        except Reject as e:
            raise RpcError(INVALID_TRANSACTION if method == "did_publishRequest" else INVALID_PARAMS,
                           str(e), e.reason.value) from None

    @staticmethod
    def _get(p: dict, name: str, typ: type, default: Any = ...) -> Any:
        v = p.get(name, default)
        if v is ... or not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
            raise RpcError(INVALID_PARAMS, f"parameter {name}: expected {typ.__name__}")
        return v

    def did_resolveDID(self, p: dict) -> dict:
        did = self._get(p, "did", str)
        # EID (didapi.go ResolveDID) takes a bare method-specific id too: "foo" is did:elastos:foo
        full = did if did.startswith("did:elastos:") else "did:elastos:" + did
        status, txs = self.service.resolve_did(full, all=self._get(p, "all", bool, False))
        if status == chain.STATUS_NOT_FOUND:
            return {"did": did, "status": status}
        # As EID: "did" is the id written in the last document transaction listed (the one resolved without
        # "all"; with "all", the oldest), so a customized DID asked for in another case, or a bare id,
        # answers the DID as its document writes it. A not-found answer echoes the parameter.
        documents = [t for t in txs if t.operation != "deactivate"]
        return {"did": _document_id(documents[-1]), "status": status, "transaction": [_tx(t) for t in txs]}

    def did_resolveCredential(self, p: dict) -> dict:
        vc_id = self._get(p, "id", str)
        issuer = p.get("issuer") or None
        if issuer is not None and not isinstance(issuer, str):
            raise RpcError(INVALID_PARAMS, "parameter issuer: expected str")
        status, txs = self.service.resolve_credential(vc_id, issuer)
        out: dict[str, Any] = {"id": vc_id, "status": status}
        if status != chain.STATUS_NOT_FOUND:
            out["transaction"] = [_tx(t) for t in txs]
        return out

    def did_listCredentials(self, p: dict) -> dict:
        did = self._get(p, "did", str)
        skip = self._get(p, "skip", int, 0)
        limit = self._get(p, "limit", int, 128)
        if skip < 0 or limit < 0:
            raise RpcError(INVALID_PARAMS, "skip and limit are not negative")
        ids = self.service.credentials_of(did)[skip:skip + limit]
        return {"did": did, "credentials": ids}

    def did_publishRequest(self, p: dict) -> dict:
        text = self._get(p, "request", str)
        t = self._get(p, "block_time", int, max(int(time.time()), self.service.tip()[1]))
        txid, height = self.service.publish(text, t)
        return {"txid": txid, "height": height}


class RpcServer(ApiServer):
    """The ID-chain service's JSON-RPC server (the node's HTTP layer, another API)."""

    def __init__(self, service: IdChainService, port: int = 0) -> None:
        super().__init__(Api(service), port, "idchain-rpc")


def run(datadir: str, rpcport: int, reserved: frozenset[str] = frozenset()) -> int:
    """``elastos idchain``: serve until SIGTERM or SIGINT (``reserved``: reserved customized names, IDC-018)."""
    from reference.signals import StopFlag

    service = IdChainService(datadir, reserved)
    rpc = RpcServer(service, rpcport).start()
    print(f"ready rpc={rpc.port}", flush=True)
    stop = StopFlag()  # SIGTERM or SIGINT (reference.signals: no lock in the handler)
    while not stop.wait(0.2):
        pass
    rpc.stop()
    service.close()
    return 0


__all__ = ["Api", "RpcClient", "RpcError", "RpcServer", "run"]
