"""JSON-RPC over HTTP on loopback, with upstream's method names and shapes (``servers/interfaces.go``).

Request ``{"method", "params", "id"}`` (params positional or named, as upstream accepts both);
reply ``{"jsonrpc": "2.0", "result", "error", "id"}``; an error is ``{"code", "message", "id"}``
with upstream's code (42002 invalid params, 43001 invalid transaction, 44001 unknown transaction,
44003 unknown block, 45002 internal error) and, for a broken rule, the message starts with the
spec's reason code and rule ID (``coinbase_bad_reward [BLC-005]: ...``) and ``reason`` holds the code.

Hashes are shown as upstream's RPC shows them: block hashes and txids in *display* order (the
stored bytes reversed, ``common.ToReversedString``), except ``createauxblock``'s ``hash`` and
``previousblockhash`` and ``submitauxblock``'s ``blockhash``, which upstream writes and reads in
*stored* order (``Uint256.String`` / ``Uint256FromHexString``).

``listunspent`` follows upstream's shape (``{"addresses": [...]}`` -> UTXO infos); it is here for
the wallet helper.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from spec.chain.auxpow import AUXPOW_CHAIN_ID, AuxPow
from spec.chain.builder import attach_auxpow
from spec.encoding.address import address_from_program_hash, program_hash_from_address
from spec.encoding.hashes import Uint168
from spec.errors import DecodeError, Reject
from reference.node.node import Node

INVALID_METHOD = 42001
INVALID_PARAMS = 42002
INVALID_TRANSACTION = 43001
UNKNOWN_TRANSACTION = 44001
UNKNOWN_BLOCK = 44003
INTERNAL_ERROR = 45002
METHOD_NOT_FOUND = -32601


class RpcError(Exception):
    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason


def display(h: bytes) -> str:
    return h[::-1].hex()


def from_display(s: str) -> bytes:
    try:
        b = bytes.fromhex(s)[::-1]
    except (ValueError, TypeError):
        raise RpcError(INVALID_PARAMS, "invalid hash") from None
    if len(b) != 32:
        raise RpcError(INVALID_PARAMS, "invalid hash")
    return b


def fixed64(value: int) -> str:
    sign = "-" if value < 0 else ""
    v = abs(value)
    return f"{sign}{v // 100_000_000}.{v % 100_000_000:08d}"


def _address(ph: bytes) -> str:
    try:
        return address_from_program_hash(Uint168(data=ph))
    except (Reject, ValueError):
        return ph.hex()


def _reject(code: int, e: Reject) -> RpcError:
    return RpcError(code, str(e), e.reason.value)


class Api:
    """The methods, each taking named params."""

    PARAMS: dict[str, tuple[str, ...]] = {
        "getbestblockhash": (), "getblockcount": (), "getblockhash": ("height",),
        "getblock": ("blockhash", "verbosity"), "getrawtransaction": ("txid", "verbose"),
        "sendrawtransaction": ("data",), "createauxblock": ("paytoaddress",),
        "submitauxblock": ("blockhash", "auxpow"), "listunspent": ("addresses",),
    }

    def __init__(self, node: Node) -> None:
        self.node = node

    def call(self, method: str, params: Any) -> Any:
        names = self.PARAMS.get(method)
        if names is None:
            raise RpcError(METHOD_NOT_FOUND, f"JSON-RPC method {method} not found")
        if params is None:
            params = {}
        if isinstance(params, list):
            params = dict(zip(names, params))
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params format error, must be an array or a map")
        fn: Callable[[dict], Any] = getattr(self, method)
        return fn(params)

    def _str(self, p: dict, name: str) -> str:
        v = p.get(name)
        if not isinstance(v, str):
            raise RpcError(INVALID_PARAMS, f"parameter {name} not found")
        return v

    # -- chain ------------------------------------------------------------------------------------------------

    def getbestblockhash(self, p: dict) -> str:
        return display(self.node.best_hash())

    def getblockcount(self, p: dict) -> int:
        return self.node.height() + 1

    def getblockhash(self, p: dict) -> str:
        height = p.get("height")
        if not isinstance(height, int) or height < 0:
            raise RpcError(INVALID_PARAMS, "height parameter should be a positive integer")
        with self.node.lock:
            h = self.node.store.hash_at(height)
        if h is None:
            raise RpcError(INVALID_PARAMS, "Invalid Params")
        return display(h)

    def getblock(self, p: dict) -> Any:
        h = from_display(self._str(p, "blockhash"))
        verbosity = p.get("verbosity", 1)
        with self.node.lock:
            store = self.node.store
            block = store.block(h)
            if block is None:
                raise RpcError(UNKNOWN_BLOCK, "Unknown Block")
            if verbosity == 0:
                return block.serialize().hex()
            tip = store.tip().height
            hdr = block.header
            nxt = store.hash_at(hdr.height + 1) if store.on_best_chain(h) else None
            size = block.size()
            return {
                "hash": display(h), "confirmations": tip - hdr.height + 1 if store.on_best_chain(h) else 0,
                "strippedsize": size, "size": size, "weight": size * 4, "height": hdr.height,
                "version": hdr.version, "versionhex": hdr.version.to_bytes(4, "big").hex(),
                "merkleroot": display(hdr.merkle_root),
                "tx": [display(tx.txid()) for tx in block.transactions] if verbosity == 1
                else [self._tx_info(tx, block) for tx in block.transactions],
                "time": hdr.timestamp, "mediantime": hdr.timestamp, "nonce": hdr.nonce, "bits": hdr.bits,
                "previousblockhash": display(hdr.previous), "nextblockhash": display(nxt or bytes(32)),
                "auxpow": hdr.auxpow.serialize().hex(),
            }

    def _tx_info(self, tx: Any, block: Any) -> dict:
        return {"txid": display(tx.txid()), "hash": display(tx.txid()), "size": tx.size(), "version": tx.version,
                "type": int(tx.tx_type), "locktime": tx.lock_time,
                "vout": [{"value": fixed64(o.value), "n": i, "address": _address(o.program_hash),
                          "outputlock": o.output_lock} for i, o in enumerate(tx.outputs)],
                "blockhash": display(block.hash()) if block is not None else None}

    def getrawtransaction(self, p: dict) -> Any:
        txid = from_display(self._str(p, "txid"))
        with self.node.lock:
            bh = self.node.store.tx_block(txid)
            block = self.node.store.block(bh) if bh is not None else None
            tx = None
            if block is not None:
                tx = next(t for t in block.transactions if t.txid() == txid)
            elif txid in self.node.mempool.txs:
                tx = self.node.mempool.txs[txid][0]
        if tx is None:
            raise RpcError(UNKNOWN_TRANSACTION, "cannot find transaction in blockchain and transactionpool")
        if p.get("verbose"):
            return self._tx_info(tx, block)
        return tx.serialize().hex()

    def sendrawtransaction(self, p: dict) -> str:
        try:
            data = bytes.fromhex(self._str(p, "data"))
        except ValueError:
            raise RpcError(INVALID_PARAMS, "hex string to bytes error") from None
        try:
            txid = self.node.submit_tx(data)
        except Reject as e:
            raise _reject(INVALID_TRANSACTION, e) from None
        return display(txid)

    # -- mining -----------------------------------------------------------------------------------------------

    def createauxblock(self, p: dict) -> dict:
        addr = self._str(p, "paytoaddress")
        try:
            miner = program_hash_from_address(addr).data
        except (Reject, ValueError):
            raise RpcError(INVALID_PARAMS, "invalid paytoaddress") from None
        with self.node.lock:
            block = self.node.template(miner)
            return {
                "chainid": AUXPOW_CHAIN_ID,
                "height": self.node.store.tip().height,   # upstream: Chain.GetHeight(), the tip's height
                "coinbasevalue": block.transactions[0].outputs[1].value,
                "bits": f"{block.header.bits:x}",
                "hash": block.hash().hex(),                  # stored order, as upstream's Uint256.String
                "previousblockhash": block.header.previous.hex(),
            }

    def submitauxblock(self, p: dict) -> bool:
        try:
            h = bytes.fromhex(self._str(p, "blockhash"))
        except ValueError:
            raise RpcError(INVALID_PARAMS, "bad blockhash") from None
        try:
            aux = AuxPow.decode(bytes.fromhex(self._str(p, "auxpow")))
        except (DecodeError, ValueError):
            raise RpcError(INTERNAL_ERROR, "auxpow deserialization failed") from None
        with self.node.lock:
            template = self.node.templates.get(h)
        if template is None:
            raise RpcError(INTERNAL_ERROR, "adding block failed: block template not found")
        outcome = self.node.submit_block(attach_auxpow(template, aux))
        result = outcome.get(h, "")
        if result not in ("valid", "duplicate"):
            raise RpcError(INTERNAL_ERROR, f"adding block failed: {result}", result)
        return True

    # -- wallet -----------------------------------------------------------------------------------------------

    def listunspent(self, p: dict) -> list[dict]:
        addrs = p.get("addresses")
        if not isinstance(addrs, list):
            raise RpcError(INVALID_PARAMS, "need addresses in an array!")
        out = []
        with self.node.lock:
            tip = self.node.store.tip().height
            for a in addrs:
                try:
                    ph = program_hash_from_address(a).data
                except (Reject, ValueError):
                    raise RpcError(INVALID_PARAMS, "invalid address") from None
                for (txid, n), e in self.node.store.utxos_of(ph):
                    if e.output.value == 0:
                        continue
                    out.append({"txid": display(txid), "vout": n, "amount": fixed64(e.output.value),
                                "address": a, "outputlock": e.output.output_lock,
                                "confirmations": tip - e.height + 1, "coinbase": e.coinbase,
                                "locktime": e.tx_lock_time})
        return out


class _Handler(BaseHTTPRequestHandler):
    api: Api

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        rid = None
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                raise RpcError(-32600, "invalid request")
            rid = req.get("id")
            result = self.api.call(str(req.get("method", "")), req.get("params"))
            reply = {"jsonrpc": "2.0", "result": result, "error": None, "id": rid}
        except RpcError as e:
            err: dict[str, Any] = {"code": e.code, "message": e.message, "id": rid}
            if e.reason:
                err["reason"] = e.reason
            reply = {"jsonrpc": "2.0", "result": None, "error": err, "id": rid}
        except json.JSONDecodeError:
            reply = {"jsonrpc": "2.0", "result": None, "error": {"code": -32700, "message": "parse error", "id": None},
                     "id": None}
        except Exception as e:  # a bug must not kill the server; report it
            reply = {"jsonrpc": "2.0", "result": None,
                     "error": {"code": INTERNAL_ERROR, "message": f"{type(e).__name__}: {e}", "id": rid}, "id": rid}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ApiServer:
    """JSON-RPC over HTTP for any ``api`` object (its public methods are the RPC methods), in a daemon
    thread, bound to 127.0.0.1. The node and the ID-chain service both serve through it."""

    def __init__(self, api: object, port: int = 0, name: str = "rpc") -> None:
        handler = type("Handler", (_Handler,), {"api": api})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=name, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RpcServer(ApiServer):
    """The node's JSON-RPC server."""

    def __init__(self, node: Node, port: int = 0) -> None:
        super().__init__(Api(node), port, "rpc")


class RpcClient:
    """A minimal client: ``call(method, *params)`` returns the result or raises :class:`RpcError`."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url if url.startswith("http") else f"http://{url}"
        self.timeout = timeout
        self._id = 0

    def call(self, method: str, *params: Any, **named: Any) -> Any:
        self._id += 1
        body = json.dumps({"method": method, "params": named if named else list(params), "id": self._id}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as r:
            reply = json.loads(r.read())
        if reply.get("error"):
            e = reply["error"]
            raise RpcError(e.get("code", 0), e.get("message", ""), e.get("reason"))
        return reply["result"]


__all__ = ["Api", "RpcClient", "RpcError", "RpcServer", "display", "fixed64", "from_display"]
