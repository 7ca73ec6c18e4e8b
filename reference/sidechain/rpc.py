"""JSON-RPC on loopback for the ID-sidechain node.

==========================  ============================================  ==================================================
method                      params                                        result
==========================  ============================================  ==================================================
``getblockcount``           none                                          tip height + 1
``getbestblockhash``        none                                          the tip's hash (display order)
``createauxblock``          ``paytoaddress``                              ``{hash, bits, height, genesishash}``: a template
                                                                          to merge-mine (``hash`` in stored order)
``submitsideauxblock``      ``blockhash``, ``sideauxpow`` (hex)           ``true``, or the spec's reason
``sendrawtransaction``      ``data`` (hex)                                the txid (display order)
``listunspent``             ``addresses``                                 ``[{txid, vout, assetid, amount, address}]``
``getmainchainx``           none                                          the sidechain's X address
``getexchangerate``         none                                          the exchange rate its deposits are credited
                                                                          at (a JSON number: the float64 exactly)
``getwithdraws``            none                                          withdrawals not yet paid on the main chain
``setwithdrawn``            ``txid``                                      the arbiter found it paid
``edition_owner``           ``work`` (hex), ``number``                    the owning DID, or null
``edition_canopen``         ``did``, ``work`` (hex)                       ``true`` or ``false``
``did_resolveDID``,         as the ID-chain service                       as the ID-chain service
``did_resolveCredential``,
``did_listCredentials``
==========================  ============================================  ==================================================

A rejection is an error with code 43001 (45002 for blocks), ``reason`` the spec's reason code. DIDs are
published on the sidechain as RegisterDID transactions (``sendrawtransaction``), which pay a fee; the
ID-chain service's free ``did_publishRequest`` is not offered here.
"""

from __future__ import annotations

from typing import Any

from spec.assets.editions import may_access, owner_of
from spec.chain.params import ELA_ASSET_ID
from spec.encoding.address import address_from_program_hash, program_hash_from_address
from spec.encoding.hashes import Uint168
from spec.errors import DecodeError, Reject
from spec.sidechain import params as SP
from spec.sidechain.block import SideAuxPow
from spec.sidechain.tx import SideTransaction

from reference.idchain.rpc import Api as DidApi
from reference.node.rpc import (INTERNAL_ERROR, INVALID_PARAMS, INVALID_TRANSACTION, METHOD_NOT_FOUND, ApiServer,
                                RpcError, display, fixed64)
from reference.sidechain.node import SideNode


class SideApi:
    METHODS = ("getblockcount", "getbestblockhash", "createauxblock", "submitsideauxblock", "sendrawtransaction",
               "listunspent", "getmainchainx", "getexchangerate", "edition_owner", "edition_canopen", "getwithdraws",
               "setwithdrawn")

    def __init__(self, node: SideNode) -> None:
        self.node = node
        self.did = DidApi(node.did)

    def call(self, method: str, params: Any) -> Any:
        if method in ("did_resolveDID", "did_resolveCredential", "did_listCredentials"):
            return self.did.call(method, params)
        if method not in self.METHODS:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
            params = params[0]
        if params is None or params == []:
            params = {}
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params: a map")
        return getattr(self, method)(params)

    @staticmethod
    def _str(p: dict, name: str) -> str:
        v = p.get(name)
        if not isinstance(v, str):
            raise RpcError(INVALID_PARAMS, f"parameter {name}: expected a string")
        return v

    @staticmethod
    def _hex(p: dict, name: str) -> bytes:
        try:
            return bytes.fromhex(SideApi._str(p, name))
        except ValueError:
            raise RpcError(INVALID_PARAMS, f"parameter {name}: not hex") from None

    def getblockcount(self, p: dict) -> int:
        return self.node.height() + 1

    def getbestblockhash(self, p: dict) -> str:
        return display(self.node.tip_hash())

    def getmainchainx(self, p: dict) -> str:
        return SP.x_address(self.node.genesis.hash())

    def getexchangerate(self, p: dict) -> float:
        """Sidechain sela per main-chain sela; its JSON text (Python's shortest repr) reads back as the same
        float64, so an arbiter can compare it with its own exactly."""
        return self.node.params.exchange_rate

    def createauxblock(self, p: dict) -> dict:
        try:
            miner = program_hash_from_address(self._str(p, "paytoaddress")).data
        except Reject:
            raise RpcError(INVALID_PARAMS, "invalid paytoaddress") from None
        block = self.node.template(miner)
        return {"hash": block.hash().hex(), "bits": f"{block.header.bits:x}", "height": block.header.height - 1,
                "genesishash": self.node.genesis.hash().hex()}

    def submitsideauxblock(self, p: dict) -> bool:
        try:
            aux = SideAuxPow.decode(self._hex(p, "sideauxpow"))
        except DecodeError as e:
            raise RpcError(INTERNAL_ERROR, f"sideauxpow deserialization failed: {e}", e.reason.value) from None
        try:
            self.node.submit_auxpow(self._hex(p, "blockhash"), aux)
        except Reject as e:
            raise RpcError(INTERNAL_ERROR, f"adding block failed: {e}", e.reason.value) from None
        return True

    def sendrawtransaction(self, p: dict) -> str:
        try:
            return display(self.node.submit_tx(self._hex(p, "data")))
        except Reject as e:
            raise RpcError(INVALID_TRANSACTION, str(e), e.reason.value) from None

    def listunspent(self, p: dict) -> list[dict]:
        addrs = p.get("addresses")
        if not isinstance(addrs, list) or not all(isinstance(a, str) for a in addrs):
            raise RpcError(INVALID_PARAMS, "addresses: a list of addresses")
        out = []
        with self.node.lock:
            for a in addrs:
                try:
                    ph = program_hash_from_address(a).data
                except Reject:
                    raise RpcError(INVALID_PARAMS, f"invalid address {a}") from None
                for txid, n, o in self.node.store.utxos_of(ph):
                    out.append({"txid": display(txid), "vout": n, "assetid": display(o.asset_id),
                                "amount": fixed64(o.value), "sela": str(o.value),
                                "address": address_from_program_hash(Uint168(data=ph)),
                                "ela": o.asset_id == ELA_ASSET_ID})
        return out

    def getwithdraws(self, p: dict) -> list[dict]:
        """Withdrawals not yet paid on the main chain: ``{txid (stored order), height, entries: [[address,
        amount, burned]]}`` (sela as decimal strings; ``burned`` is the value of the burn output the entry
        names: upstream's ``CrossChainAmount`` and ``OutputAmount``), oldest first."""
        out = []
        with self.node.lock:
            for txid, data in self.node.store.pending_withdrawals():
                tx = SideTransaction.decode(data)
                height = self.node.store.withdrawal_height(txid)
                out.append({"txid": txid.hex(), "height": height,
                            "entries": [[e.address.decode("ascii", "replace"), str(e.amount),
                                         str(tx.outputs[e.output_index].value)]
                                        for e in tx.payload.entries]})  # type: ignore[union-attr]
        return out

    def setwithdrawn(self, p: dict) -> bool:
        """The arbiter found the withdrawal ``txid`` paid on the main chain (TXC-024 refused it again)."""
        with self.node.lock:
            self.node.store.mark_withdrawn(self._hex(p, "txid"))
        return True

    def edition_owner(self, p: dict) -> str | None:
        number = p.get("number")
        if not isinstance(number, int):
            raise RpcError(INVALID_PARAMS, "number: an integer")
        with self.node.lock:
            return owner_of(self.node.editions, self._hex(p, "work"), number)

    def edition_canopen(self, p: dict) -> bool:
        with self.node.lock:
            return may_access(self.node.editions, self._str(p, "did"), self._hex(p, "work"))


class SideRpcServer(ApiServer):
    def __init__(self, node: SideNode, port: int = 0) -> None:
        super().__init__(SideApi(node), port, "side-rpc")


__all__ = ["SideApi", "SideRpcServer"]


def run(datadir: str, main_rpc: str, network: str, rpcport: int, p2pport: int | None = None,
        connect: list[str] | None = None, exchange_rate: float | None = None) -> int:
    """``elastos sidechain``: serve until SIGTERM or SIGINT; with ``p2pport`` (0: any free port) also the
    sidechain P2P (:mod:`reference.sidechain.peer`), connecting to each ``host:port`` of ``connect``;
    ``exchange_rate`` replaces the network's (1), and the data folder must have been written at it."""
    import sys

    from reference.sidechain.node import RpcMainView
    from reference.signals import StopFlag
    from reference.sidechain.peer import SideP2P

    from reference.sidechain.store import SideStoreError

    try:
        params = SP.id_network(network)
        if exchange_rate is not None:
            params = SP.with_exchange_rate(params, exchange_rate)
        node = SideNode(datadir, RpcMainView(main_rpc), params)
    except SideStoreError as e:
        print(f"elastos sidechain: {e}", file=sys.stderr, flush=True)
        return 2
    rpc = SideRpcServer(node, rpcport).start()
    p2p = None
    if p2pport is not None or connect:
        p2p = SideP2P(node, p2pport or 0, log=lambda s: print(s, file=sys.stderr, flush=True)).start()
    extra = f" p2p={p2p.port}" if p2p is not None else ""
    print(f"ready rpc={rpc.port}{extra} height={node.height()} x={SP.x_address(node.genesis.hash())} "
          f"rate={node.params.exchange_rate!r}", flush=True)
    for target in connect or []:   # after the ready line, which is the first line a launcher reads
        host, _, port = target.rpartition(":")
        assert p2p is not None
        p2p.connect(host or "127.0.0.1", int(port))
    stop = StopFlag()  # SIGTERM or SIGINT (reference.signals: no lock in the handler)
    while not stop.wait(0.2):
        pass
    if p2p is not None:
        p2p.stop()
    rpc.stop()
    node.close()
    return 0
