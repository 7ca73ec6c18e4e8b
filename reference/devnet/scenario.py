"""``elastos devnet``: the network operating system on loopback, walked through step by step.

Every step does one thing to the running components and then checks its outcome from outside, through
the components' own interfaces (node and sidechain JSON-RPC, the vault's HTTP API, the Carrier nodes'
event streams, the runtime's decisions). The live log has one line per step naming what was checked; the
summary is a table of steps with their figures, and ``--json FILE`` writes the same as JSON.

What runs where
---------------

* **separate processes** (their own CLIs, each in its own process group, logs in the devnet folder):
  two main-chain nodes (``elastos node``; the second follows the first over P2P), two ID-sidechain nodes
  (``elastos sidechain``; the second follows the first over sidechain P2P), :data:`ARBITERS` arbiter
  processes (``elastos arbiter --serve``, one key of the m-of-n cross-chain set each: they merge-mine both
  chains in turn, relay the deposits and pay the withdrawals with m signatures collected over their
  JSON-RPC), the user's Hive vault (``elastos hive serve``, resolving DIDs from the ID sidechain) and one
  Carrier node per device (``elastos carrier node``, resolving DIDs from the ID sidechain);
* **in this process**: the wallets that build and sign transactions, and the devices' app runtimes
  (wasmtime sandboxes, :class:`reference.runtime.sandbox.Runtime`), each driving its device's Carrier
  node process over the node's command stream (:mod:`reference.devnet.carrier_proc`). Nothing of the
  arbiters runs here: a step submits its transactions and waits, polling the chains' RPC, until the
  arbiter processes have mined (and relayed, and paid) them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.assets import editions as E
from spec.chain.block import decode_block
from spec.chain.builder import block_template, coinbase, sign_standard, solve, standard_program_hash
from spec.chain.params import ELA_ASSET_ID, genesis_block
from spec.chain.tx import (CrossChainEntry, Input, OutPoint, Output, RecordPayload, SideChainPowPayload,
                           Transaction, TransferCrossChainAssetPayload, TxType, WithdrawFromSideChainPayload)
from spec.carrier import binding as carrier_binding
from spec.crypto import p256
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import PUSH_SIGNATURE, multisig_redeem_script
from spec.did import document as D
from spec.did import request as R
from spec.did.syntax import parse_did_url
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.errors import Reject
from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W
from spec.sidechain.tx import RegisterDIDPayload, SideTransaction, SideTxType
from spec.sidechain.validation import EDITION_RECORD_TYPE

from reference.devnet import procs
from reference.devnet.carrier_proc import ProcessCarrier, document_text, runtime_resolver, sidechain_resolver
from reference.node.rpc import RpcClient, RpcError, from_display
from reference.sidechain.devnet import FUNDING, FUNDING_KEY, SIDE_PARAMS, arbiter_keys, main_params

__all__ = ["CHECKED", "SCENARIOS", "STEP_TEXT", "Devnet", "Step", "install_app", "run", "summary_table",
           "vault_client"]

STATE_FILE = "devnet.json"
SIDE_FEE = 1000
"""Sela each sidechain transaction of the devnet leaves as its fee."""
WORK_CONTENT = b"Elastos devnet: a limited edition of one short text.\n"
ARBITERS = 4
"""Arbiter processes, one key of the cross-chain set each; a withdrawal needs m = floor(2n/3) + 1 = 3 of them."""
ARBITER_KEYS = arbiter_keys(ARBITERS)
MAIN_PARAMS = main_params(ARBITERS)
ARBITER_INTERVAL = 0.3
"""Seconds the arbiter on duty lets the main tip age before it merge-mines the next pair of blocks."""
WAIT = 60.0
"""How long a step waits for the arbiter processes to mine, relay or pay what it submitted."""


@dataclass
class Step:
    name: str
    ok: bool
    checked: str
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


STEP_TEXT = {
    "chain": "main chain: node processes on loopback, node2 following node1 over P2P",
    "mine": "merged mining of main-chain blocks with a simulated Bitcoin parent",
    "merge-mining": "arbiter processes merge-mine the main chain and the ID sidechain in turn",
    "deposit": "a deposit on the main chain credited on the ID sidechain by the arbiters",
    "dids": "DIDs of users, devices and apps registered and paid for on the ID sidechain",
    "carrier": "a Carrier node per device; devices become friends by DID (resolved on the ID sidechain)",
    "apps": "two sandboxed chat apps on two devices exchange messages over Carrier; a stranger is refused",
    "hive-sync": "the notes app's home folder syncs to the user's Hive vault and to a second device",
    "editions": "a limited edition minted, sold and resold; the runtime opens it only for the current owner",
    "withdraw": "a withdrawal from the ID sidechain paid once on the main chain by m of the n arbiters",
    "agree": "every main node agrees on the best block, and both sidechain nodes on theirs",
}

CHECKED = {
    "chain": "every node process answers getbestblockhash with the same block",
    "mine": "the blocks merge-mined on node1 are every node's tip; the miner's address is paid",
    "merge-mining": "each arbiter process signed a SideChainPow of the main chain; arbiter_info of each process",
    "deposit": "listunspent on the sidechain shows each credited address; the X address holds it on main",
    "dids": "did_resolveDID over the sidechain RPC: status valid, txid of its RegisterDID",
    "carrier": "each node lists the other as a friend, by the DID its session proved; address from the sidechain",
    "apps": "each chat app logged the other's message; send to the stranger refused by the runtime",
    "hive-sync": "the vault's sync manifest and downloads over HTTP equal the phone's files; laptop pulled",
    "editions": "edition_owner / edition_canopen over the sidechain RPC; the runtime's gate for bob and alice",
    "withdraw": "one main-chain payment with m signatures of distinct arbiter keys; arbiter_info; getwithdraws",
    "agree": "getbestblockhash of every main node is the same, and of both sidechain nodes",
}
"""What each step checks (the live log's text); the step raises :class:`StepFailed` if it does not hold."""

_BASE = ["chain", "merge-mining", "deposit"]
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "all": ("the whole network OS, every step below", [*_BASE, "dids", "carrier", "apps", "hive-sync", "editions",
                                                       "withdraw", "agree"]),
    "chain": ("main-chain nodes merge-mined and checked to agree (the former elastos devnet)",
              ["chain", "mine", "agree"]),
    "deposit-withdraw": ("the ID sidechain with a deposit and a withdrawal through the arbiters",
                         [*_BASE, "withdraw", "agree"]),
    "dids": ("DIDs registered on the ID sidechain and resolved over its RPC", [*_BASE, "dids"]),
    "carrier": ("Carrier nodes per device, friends by DID", [*_BASE, "dids", "carrier"]),
    "apps": ("sandboxed apps messaging over Carrier, a stranger refused", [*_BASE, "dids", "carrier", "apps"]),
    "hive-sync": ("a home folder synced through a Hive vault to a second device", [*_BASE, "dids", "hive-sync"]),
    "editions": ("an edition minted, sold, resold, opened only by its owner", [*_BASE, "dids", "editions"]),
}

# -- identities -----------------------------------------------------------------------------------------------

LABELS = ("alice", "bob", "stranger", "artist", "developer", "notes", "chat", "alice-phone", "alice-laptop",
          "bob-phone", "vault")
"""Every DID the devnet registers: users, the app developer, apps, devices and the vault's service DID."""
DEVICES = {"alice-phone": "alice", "alice-laptop": "alice", "bob-phone": "bob"}
"""Devices and their users: each device runs a Carrier node that speaks for its user's DID."""


def key_of(label: str) -> bytes:
    """The devnet's fixed, public test key of ``label`` (never use it for value)."""
    from reference.runtime.world import World

    return World(b"elastos-devnet").key(label)


def node_seed(label: str) -> tuple[bytes, bytes]:
    from reference.runtime.world import World

    return World(b"elastos-devnet").node_seed(label)


def did_of(label: str) -> str:
    from spec.hive.identity import did_of as _did

    return _did(key_of(label))


def address_of(label: str) -> tuple[str, bytes]:
    """``label``'s standard address and program hash (its key's, on either chain)."""
    ph = standard_program_hash(public_key_from_private(key_of(label)))
    return address_from_program_hash(Uint168(data=ph)), ph


def carrier_address(device: str) -> str:
    from spec.carrier import identity as I

    seed, nospam = node_seed(device)
    return I.make_address(I.node_id_of(seed), nospam)


def document_for(label: str, now: int) -> str:
    """The document ``label`` registers: users name their devices' Carrier addresses."""
    created, expires = now - 3600, now + 365 * 86400
    devices = tuple(carrier_address(d) for d, user in DEVICES.items() if user == label)
    if devices:
        return carrier_binding.carrier_document(key_of(label), devices, expires, created)
    from spec.runtime.identity import primitive_document

    return primitive_document(key_of(label), expires, created)


def vault_client(vault_url: str, side_url: str, device: str, app: str) -> Any:
    """The instance of ``app`` on ``device`` signed in to the vault with an AppIdCredential its user issues;
    the device's and the vault's DID documents are resolved from the ID sidechain (and checked there)."""
    from reference.did.client import ChainClient
    from reference.hive.client import HiveClient
    from spec.hive import identity

    chain = ChainClient(side_url)
    docs = {}
    for x in (device, "vault"):
        doc = chain.resolve(did_of(x)).document
        check(doc is not None, f"{x}'s DID resolves on the ID sidechain")
        assert doc is not None
        docs[did_of(x)] = document_text(doc)
    now = int(time.time())
    vc = identity.issue_credential(key_of(DEVICES[device]), did_of(device), "app-id-credential", ("AppIdCredential",),
                                   {"appDid": did_of(app)}, issued=now - 60, expires=now + 3600)
    client = HiveClient(vault_url)
    client.sign_in(key_of(device), vc, now=now, documents=docs)
    return client


def install_app(runtime: Any, user: str, app: str, perms: tuple[str, ...], grants: list[tuple[str, str]]) -> str:
    """Install the sample app ``app`` (``reference/runtime/apps/APP.wat``) in ``runtime``, its manifest
    signed by the developer and its grants by ``user``; the app's DID."""
    from reference.runtime.cli import APPS
    from reference.runtime.sandbox import compile_wat
    from reference.runtime.world import World

    w = World(b"elastos-devnet")
    code = compile_wat((APPS / f"{app}.wat").read_text())
    runtime.install(code, w.manifest(app, code, permissions=perms),
                    [[w.token(app, res, act, user=user)] for res, act in grants])
    return did_of(app)


# -- the devnet -------------------------------------------------------------------------------------------------


class StepFailed(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise StepFailed(what)


class Devnet:
    """The components of one devnet run under ``root`` and what the steps learned."""

    def __init__(self, root: Path, log: Callable[[str], None] = print, network: str = "instant", nodes: int = 2,
                 blocks: int = 3) -> None:
        self.root = root
        self.log = log
        self.network = network
        self.nodes = nodes
        self.blocks = blocks
        self.procs: dict[str, procs.Proc] = {}
        self.steps: list[Step] = []
        self.carriers: dict[str, ProcessCarrier] = {}
        self.runtimes: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.now = int(time.time())
        self.coins: dict[str, tuple[bytes, int, int]] = {}

    # -- processes and endpoints -------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], **kw: Any) -> procs.Proc:
        p = procs.start(name, args, self.root, **kw)
        self.procs[name] = p
        self.save_state()
        return p

    def spawn_many(self, named: dict[str, list[str]]) -> list[procs.Proc]:
        """Launch several processes at once (their start-up overlaps), then wait for each one's ready line.
        Each is named in the state file as soon as it is launched, so that a failed start leaves none behind."""
        launched = []
        for name, args in named.items():
            launched.append(procs.launch(name, args, self.root))
            self.procs[name] = launched[-1]
        self.save_state()
        for p in launched:
            procs.wait_ready(p)
        self.save_state()
        return launched

    def endpoints(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, p in self.procs.items():
            r = p.ready
            if not r:
                continue  # launched, not ready yet
            if name.startswith("node"):
                out[name] = {"kind": "main", "rpc": f"http://127.0.0.1:{r['rpc']}", "p2p": f"127.0.0.1:{r['p2p']}"}
            elif name.startswith("sidechain"):
                out[name] = {"kind": "side", "rpc": f"http://127.0.0.1:{r['rpc']}", "p2p": f"127.0.0.1:{r['p2p']}",
                             "x": r.get("x")}
            elif name.startswith("arbiter"):
                out[name] = {"kind": "arbiter", "rpc": f"http://127.0.0.1:{r['rpc']}", "pubkey": r["pubkey"],
                             "m": int(r["m"]), "n": int(r["n"])}
            elif name == "vault":
                out[name] = {"kind": "vault", "url": f"http://127.0.0.1:{r['port']}", "did": r.get("did")}
            elif name.startswith("carrier-"):
                out[name] = {"kind": "carrier", "address": r["address"], "did": r["did"],
                             "udp": f"127.0.0.1:{r['udp_port']}", "tcp": f"127.0.0.1:{r['tcp_port']}"}
        return out

    def save_state(self) -> None:
        data = {"dir": str(self.root), "pids": {n: p.pid for n, p in self.procs.items()},
                "logs": {n: str(p.log) for n, p in self.procs.items()}, "endpoints": self.endpoints()}
        tmp = self.root / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))  # in start order: stop goes the other way
        tmp.replace(self.root / STATE_FILE)

    def stop(self) -> list[str]:
        """Stop every process (newest first); the names that needed SIGKILL."""
        for c in self.carriers.values():
            c.close()
        names = list(self.procs)[::-1]
        killed = procs.stop_pids([self.procs[n].pid for n in names])
        for p in self.procs.values():
            try:
                p.popen.wait(timeout=5)
            except Exception:  # noqa: BLE001 - already reaped by stop_pids
                pass
            if p.popen.stdin is not None:
                p.popen.stdin.close()
        return [n for n in names if self.procs[n].pid in killed]

    def detach(self) -> None:
        """Leave the processes running (``--keep``): close our ends of their pipes."""
        for c in self.carriers.values():
            c.close()
        for p in self.procs.values():
            if p.popen.stdin is not None:
                p.popen.stdin.close()

    @property
    def main_rpcs(self) -> list[RpcClient]:
        return [RpcClient(f"http://127.0.0.1:{self.procs[f'node{i + 1}'].ready['rpc']}") for i in range(self.nodes)]

    @property
    def main(self) -> RpcClient:
        return self.main_rpcs[0]

    @property
    def side_url(self) -> str:
        return f"http://127.0.0.1:{self.procs['sidechain'].ready['rpc']}"

    @property
    def side(self) -> RpcClient:
        return RpcClient(self.side_url)

    def miner(self) -> str:
        return address_of("miner")[0]

    @property
    def arbiter_rpcs(self) -> list[RpcClient]:
        return [RpcClient(f"http://127.0.0.1:{self.procs[f'arbiter{i + 1}'].ready['rpc']}") for i in range(ARBITERS)]

    def wait(self, what: str, cond: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Poll ``cond`` until it is true (the arbiter processes mine every :data:`ARBITER_INTERVAL` s); its value.
        An RPC error or a refused connection counts as not yet."""
        end = time.monotonic() + timeout
        while True:
            try:
                v = cond()
            except (RpcError, OSError):
                v = None
            if v:
                return v
            if time.monotonic() > end:
                raise StepFailed(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.05)

    def main_block(self, height: int) -> Any:
        return decode_block(bytes.fromhex(self.main.call("getblock", blockhash=self.main.call("getblockhash",
                                                                                               height=height),
                                                         verbosity=0)))

    def wait_agree(self, timeout: float = 30.0) -> tuple[int, str]:
        rpcs = self.main_rpcs
        end = time.monotonic() + timeout
        while True:
            best = [r.call("getbestblockhash") for r in rpcs]
            if len(set(best)) == 1 or time.monotonic() > end:
                break
            time.sleep(0.05)
        check(len(set(best)) == 1, f"main nodes disagree: {best}")
        return rpcs[0].call("getblockcount") - 1, best[0]

    # -- the steps ------------------------------------------------------------------------------------------

    def step_chain(self) -> dict:
        """Prepare node1's store with 101 blocks paying the funding key (so coinbase outputs are mature),
        start the node processes with the devnet's cross-chain arbiters, node2 connecting to node1."""
        full = self.scenario != "chain"
        if full:
            self._prepare_funding(self.root / "node1", 101)
        arbiters = [a for k in ARBITER_KEYS for a in ("--arbiter", public_key_from_private(k).hex())]
        for i in range(self.nodes):
            connect = ["--connect", f"127.0.0.1:{self.procs['node1'].ready['p2p']}"] if i else []
            self.spawn(f"node{i + 1}", ["node", "--network", self.network if not full else "instant",
                                        "--datadir", str(self.root / f"node{i + 1}"), *connect,
                                        *(arbiters if full else [])])
        height, best = self.wait_agree(120)
        return {"nodes": self.nodes, "height": height, "best": best,
                "rpc": [e["rpc"] for n, e in self.endpoints().items() if n.startswith("node")]}

    def _prepare_funding(self, datadir: Path, blocks: int) -> None:
        from reference.node.node import Node

        node = Node(datadir, MAIN_PARAMS)
        try:
            prev = genesis_block("instant")
            for h in range(node.height() + 1, blocks + 1):
                cb = coinbase(h, MAIN_PARAMS, FUNDING, nonce=h.to_bytes(8, "little"))
                blk = solve(block_template(prev.hash(), h, prev.header.timestamp + 1, MAIN_PARAMS.pow_limit_bits,
                                           [cb]))
                node.submit_block(blk)
                prev = blk
        finally:
            node.close()

    def step_mine(self) -> dict:
        from reference.node.miner import mine_one

        mined = [mine_one(self.main, self.miner(), log=lambda s: self.log("        " + s.strip()))
                 for _ in range(self.blocks)]
        height, best = self.wait_agree(120)
        check(height == mined[-1]["height"] and best == mined[-1]["hash"], "the mined tip is every node's tip")
        from reference.node.wallet import balance

        bal = balance(self.main, self.miner())
        check(bal > 0, "the miner's address holds the block rewards")
        return {"height": height, "best": best, "miner_balance_sela": bal,
                "parent_nonces": sum(m["tries"] for m in mined)}

    def step_merge_mining(self) -> dict:
        """The ID sidechain node (and a second one following it over sidechain P2P), then the arbiter
        processes, one key each; they merge-mine in turn (the one on duty at a main height signs that
        block's SideChainPow, which the main node checks, TXC-023) until every arbiter has had its turn."""
        side = self.spawn("sidechain", ["sidechain", "--datadir", str(self.root / "side"), "--main-rpc",
                                        self.main.url, "--network", "instant", "--p2pport", "0"])
        start = self.main.call("getblockcount")
        pubkeys = [public_key_from_private(k).hex() for k in ARBITER_KEYS]
        named = {"sidechain2": ["sidechain", "--datadir", str(self.root / "side2"), "--main-rpc", self.main.url,
                                "--network", "instant", "--p2pport", "0", "--connect", f"127.0.0.1:{side.ready['p2p']}"]}
        for i, k in enumerate(ARBITER_KEYS):
            path = self.root / f"arbiter{i + 1}.key.json"
            path.write_text(json.dumps({"private_key": k.hex()}))
            named[f"arbiter{i + 1}"] = [
                "arbiter", "--serve", "--main-rpc", self.main.url, "--side-rpc", self.side_url, "--key", str(path),
                "--network", "instant", "--miner", self.miner(), "--datadir", str(self.root / f"arbiter{i + 1}"),
                "--peers", str(self.root / "arbiter-peers"), "--interval", str(ARBITER_INTERVAL),
                *(a for pk in pubkeys for a in ("--arbiter", pk))]
        for i, p in enumerate(self.spawn_many(named)[1:]):
            check(p.ready["pubkey"] == pubkeys[i], f"arbiter{i + 1} holds arbiter key {i + 1}")
        self.wait(f"{ARBITERS} merge-mined blocks", lambda: self.main.call("getblockcount") >= start + ARBITERS
                  and self.side.call("getblockcount") > ARBITERS)
        signers = []
        for h in range(start, start + ARBITERS):
            pows = [t.payload for t in self.main_block(h).transactions if t.tx_type == TxType.SIDECHAIN_POW]
            check(len(pows) == 1 and isinstance(pows[0], SideChainPowPayload), f"main block {h} has one SideChainPow")
            by = [pk for pk in pubkeys if _verifies(bytes.fromhex(pk), pows[0].unsigned(), pows[0].signature)]
            check(len(by) == 1, f"main block {h}'s SideChainPow is signed by one arbiter key")
            signers.append(pubkeys.index(by[0]) + 1)
        check(sorted(signers) == list(range(1, ARBITERS + 1)), f"every arbiter signed one of the blocks: {signers}")
        infos = [r.call("arbiter_info") for r in self.arbiter_rpcs]
        check([i["public_key"] for i in infos] == pubkeys, "each arbiter process reports its own key")
        check(all(i["scanned"] >= start for i in infos), f"each arbiter scanned the main chain: "
              f"{[i['scanned'] for i in infos]}")
        m = W.arbiter_threshold(ARBITERS)
        check(all((i["m"], i["n"]) == (m, ARBITERS) for i in infos), f"every arbiter works {m}-of-{ARBITERS}")
        return {"arbiters": ARBITERS, "m": m, "signers_by_height": signers,
                "main_height": self.main.call("getblockcount") - 1, "side_height": self.side.call("getblockcount") - 1,
                "x_address": self.procs["sidechain"].ready.get("x")}

    def step_deposit(self) -> dict:
        """One main-chain TransferCrossChainAsset to the sidechain's X address crediting three addresses."""
        cb = decode_block(bytes.fromhex(self.main.call("getblock", blockhash=self.main.call("getblockhash", height=1),
                                                       verbosity=0))).transactions[0]
        x_ph = SP.genesis_program_hash(SP.side_genesis_block().hash())
        mine = next(i for i, o in enumerate(cb.outputs) if o.program_hash == FUNDING)
        amounts = {"faucet": 50_000_000, "alice": 120_000_000, "bob": 120_000_000}
        entries = tuple(CrossChainEntry(address=address_of(label)[0].encode(), output_index=i, amount=a)
                        for i, (label, a) in enumerate(amounts.items()))
        total = sum(amounts.values())
        fee = SIDE_PARAMS.min_cross_chain_tx_fee
        to_x = tuple(Output(asset_id=ELA_ASSET_ID, value=a + fee, output_lock=0, program_hash=x_ph)
                     for a in amounts.values())
        tx = sign_standard(Transaction(
            version=0x09, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=0,
            payload=TransferCrossChainAssetPayload(entries=entries),
            inputs=(Input(previous=OutPoint(txid=cb.txid(), index=mine), sequence=0xFFFF_FFFF),),
            outputs=(*to_x, Output(asset_id=ELA_ASSET_ID, value=cb.outputs[mine].value - total - (len(entries) + 1) * fee,
                                   output_lock=0, program_hash=FUNDING))), [FUNDING_KEY])
        txid = self.main.call("sendrawtransaction", tx.serialize().hex())
        # the arbiters mine it on the main chain, each relays a recharge, the sidechain credits it once (XCH-001)
        balances = self.wait("the deposit credited on the sidechain", lambda: (
            b := {label: self.side_balance(label) for label in amounts}) == amounts and b)
        check(balances == amounts, f"sidechain balances {balances}")
        recharges = {u["txid"] for label in amounts for u in self.side_utxos(label)}
        check(len(recharges) == 1, f"one recharge credits the three addresses: {sorted(recharges)}")
        x_held = sum(int(float(u["amount"]) * 10**8 + 0.5) for u in
                     self.main.call("listunspent", addresses=[SP.x_address(SP.side_genesis_block().hash())]))
        return {"main_txid": txid, "recharge_txid": recharges.pop(), "credited_sela": balances, "x_address_sela": x_held}

    def side_utxos(self, label: str) -> list[dict]:
        return self.side.call("listunspent", {"addresses": [address_of(label)[0]]})

    def side_balance(self, label: str) -> int:
        return sum(int(u["sela"]) for u in self.side_utxos(label) if u["ela"])

    def spend(self, payer: str, tx_type: SideTxType, payload: Any, pay: tuple[Output, ...] = (),
              fee: int = SIDE_FEE) -> SideTransaction:
        """A sidechain transaction from ``payer``'s output: change first, then ``pay``, leaving ``fee``."""
        if payer not in self.coins:  # the payer's one output; later its change, which may still be pooled
            utxo = max(self.side_utxos(payer), key=lambda u: int(u["sela"]))
            self.coins[payer] = (from_display(utxo["txid"]), utxo["vout"], int(utxo["sela"]))
        txid, index, value = self.coins[payer]
        ph = address_of(payer)[1]
        change = value - fee - sum(o.value for o in pay)
        tx = sign_standard(SideTransaction(
            tx_type=tx_type, payload=payload,
            inputs=(Input(previous=OutPoint(txid=txid, index=index), sequence=0xFFFF_FFFF),),
            outputs=(Output(asset_id=ELA_ASSET_ID, value=change, output_lock=0, program_hash=ph), *pay)),
            [key_of(payer)])
        self.side.call("sendrawtransaction", {"data": tx.serialize().hex()})
        self.coins[payer] = (tx.txid(), 0, change)
        return tx

    def step_dids(self) -> dict:
        """Each DID's create request in a RegisterDID transaction paid by the faucet, chained in one block."""
        before = self.side_balance("faucet")
        txids = {}
        for label in LABELS:
            doc = D.parse_document(document_for(label, self.now))
            signer = parse_did_url(f"{did_of(label)}#primary")
            req = R.build_request("create", D.normalized(doc), signer, key_of(label))
            txids[label] = self.spend("faucet", SideTxType.REGISTER_DID, RegisterDIDPayload.from_request(req)).txid()
        self.wait("every RegisterDID in a sidechain block", lambda: all(
            self.side.call("did_resolveDID", {"did": did_of(label)})["status"] == 0 for label in LABELS))
        resolved = {}
        for label in LABELS:
            r = self.side.call("did_resolveDID", {"did": did_of(label), "all": True})
            check(r["status"] == 0 and r["transaction"][0]["txid"] == txids[label].hex(),
                  f"{label}'s DID resolves on the sidechain with its RegisterDID txid")
            resolved[label] = did_of(label)
        paid = self.wait("the faucet's change in a block", lambda: (before - self.side_balance("faucet")) or None)
        check(paid == SIDE_FEE * len(LABELS), f"{paid} sela paid for {len(LABELS)} registrations")
        self.state["dids"] = resolved
        return {"dids": len(resolved), "fees_sela": paid, "side_height": self.side.call("getblockcount") - 1,
                "alice": resolved["alice"], "bob": resolved["bob"]}

    def start_carriers(self) -> None:
        first: procs.Proc | None = None
        for device, user in DEVICES.items():
            folder = self.root / f"carrier-{device}"
            folder.mkdir(exist_ok=True)
            seed, nospam = node_seed(device)
            (folder / "key.json").write_text(json.dumps({"seed": seed.hex(), "nospam": nospam.hex(),
                                                         "did_private_key": key_of(user).hex()}))
            (folder / "document.json").write_text(document_for(user, self.now))
            boot = [] if first is None else [
                "--bootstrap", f"{first.ready['node_id']}@127.0.0.1:{first.ready['udp_port']}"]
            p = self.spawn(f"carrier-{device}", ["carrier", "node", "--datadir", str(folder), "--idchain",
                                                 self.side_url, "--name", device, *boot], stdin=True)
            first = first or p
            check(p.ready["address"] == carrier_address(device) and p.ready["did"] == did_of(user),
                  f"{device}'s node has the address its user's document names")
            self.carriers[device] = ProcessCarrier(p, did_of(user), sidechain_resolver(self.side_url))

    def step_carrier(self) -> dict:
        self.start_carriers()
        a, b = self.carriers["alice-phone"], self.carriers["bob-phone"]
        address = a.add_friend(did_of("bob"), "hello from alice's phone")
        check(address == carrier_address("bob-phone"), "bob's Carrier address was read from his DID on the sidechain")
        check(b.wait(lambda: did_of("alice") in b.requests()), "bob's node got alice's request, her DID proved")
        b.accept(did_of("alice"))
        check(a.wait(lambda: did_of("bob") in a.friend_dids()) and
              b.wait(lambda: did_of("alice") in b.friend_dids()), "both nodes report the friendship by DID")
        return {"nodes": len(self.carriers), "friends": [did_of("alice"), did_of("bob")],
                "addresses": {d: carrier_address(d) for d in DEVICES}}

    def runtime(self, device: str) -> Any:
        from reference.runtime.carrier import LoopbackCarrier
        from reference.runtime.sandbox import Runtime

        if device not in self.runtimes:
            carrier = self.carriers.get(device) or LoopbackCarrier()
            self.runtimes[device] = Runtime(did_of(DEVICES[device]), runtime_resolver(sidechain_resolver(self.side_url)),
                                            self.root / "devices" / device, carrier, now=self.now)
        return self.runtimes[device]

    def install(self, device: str, app: str, perms: tuple[str, ...], grants: list[tuple[str, str]]) -> str:
        return install_app(self.runtime(device), DEVICES[device], app, perms, grants)

    def step_apps(self) -> dict:
        chat = ""
        for device in ("alice-phone", "bob-phone"):
            chat = self.install(device, "chat", ("carrier.send", "carrier.receive"),
                                [("carrier:*", "send"), ("carrier:*", "receive")])
        counts = {}
        for src, dst, peer in (("alice-phone", "bob-phone", "bob"), ("bob-phone", "alice-phone", "alice")):
            rs, rd = self.runtime(src), self.runtime(dst)
            rs.write_input(chat, 4096, did_of(peer).encode())
            r = rs.run(chat, "send", len(did_of(peer)))
            check(r.ok and self.carriers[src].outcomes[-1] == (did_of(peer), "delivered"),
                  f"{src}'s chat message was delivered: {r.reason} {self.carriers[src].outcomes[-1:]}")
            check(self.carriers[dst].wait(lambda c=self.carriers[dst]: c.pending() > 0), f"{dst}'s node received it")
            check(rd.pump() == 1, f"{dst}'s runtime admitted the message from a friend")
            rd.run(chat, "poll")
            counts[dst] = len(rd.apps[chat].logs)
            check(counts[dst] == 1, f"{dst}'s chat app logged the message")
        alice = self.runtime("alice-phone")
        alice.write_input(chat, 4096, did_of("stranger").encode())
        refused = alice.run(chat, "send", len(did_of("stranger")))
        check(not refused.ok and refused.reason is not None and refused.reason.value == "NET_NOT_FRIEND",
              f"the runtime refused the stranger: {refused.reason} {refused.rule}")
        sent = [o for o in self.carriers["alice-phone"].outcomes if o[0] == did_of("stranger")]
        check(not sent, "nothing was handed to Carrier for the stranger")
        self.state["refusal"] = {"reason": refused.reason.value, "rule": refused.rule}
        return {"messages": 2, "delivered": sum(1 for c in self.carriers.values() for o in c.outcomes
                                                if o[1] == "delivered"),
                "logged": counts, "refused": f"{refused.reason.value} [{refused.rule}]",
                "stranger": did_of("stranger")}

    def start_vault(self) -> None:
        folder = self.root / "vault"
        folder.mkdir(exist_ok=True)
        (folder / "service.key").write_text(key_of("vault").hex())
        p = self.spawn("vault", ["hive", "serve", "--datadir", str(folder), "--idchain", self.side_url,
                                 "--quota", str(1 << 20)])
        check(p.ready["did"] == did_of("vault"), "the vault's service DID is the one registered on the sidechain")

    def vault_client(self, device: str, app: str) -> Any:
        return vault_client(f"http://127.0.0.1:{self.procs['vault'].ready['port']}", self.side_url, device, app)

    def step_hive_sync(self) -> dict:
        from reference.runtime.home_sync import HomeSync

        self.start_vault()
        grants = [("storage:notes/*", a) for a in ("read", "write", "list")]
        notes = self.install("alice-phone", "notes", ("storage.read", "storage.write"), grants)
        phone = self.runtime("alice-phone")
        r = phone.run(notes)
        check(r.ok, f"the notes app ran on alice's phone: {r.reason}")
        files = sorted(p.relative_to(phone.home(notes)).as_posix() for p in phone.home(notes).rglob("*") if p.is_file())
        pushed = HomeSync(phone, notes, self.vault_client("alice-phone", "notes")).sync()
        reader = self.vault_client("alice-laptop", "notes")
        remote = reader.manifest()
        check(sorted(remote) == files, f"the vault's partition lists {sorted(remote)}, the phone has {files}")
        for f in files:
            check(reader.download(f) == (phone.home(notes) / f).read_bytes(), f"the vault's {f} is the phone's")
        self.install("alice-laptop", "notes", ("storage.read", "storage.write"), grants)
        laptop = self.runtime("alice-laptop")
        pulled = HomeSync(laptop, notes, reader).sync()
        got = sorted(p.relative_to(laptop.home(notes)).as_posix() for p in laptop.home(notes).rglob("*") if p.is_file())
        check(got == files, f"the laptop's home folder has {got}")
        check(laptop.run(notes).ok, "the notes app runs on the laptop over the synced folder")
        return {"vault": f"http://127.0.0.1:{self.procs['vault'].ready['port']}", "vault_files": files,
                "pushed": len(pushed.actions), "pulled": len(pulled.actions), "bytes_up": pushed.bytes_up}

    def step_editions(self) -> dict:
        from reference.runtime.editions import EditionGate

        work = hashlib.sha256(WORK_CONTENT).digest()
        (self.root / "gallery").mkdir(exist_ok=True)
        (self.root / "gallery" / work.hex()).write_bytes(WORK_CONTENT)
        artist_ph = address_of("artist")[1]
        mint_body = E.Mint(work=work, title="Devnet edition", uri=f"gallery://{work.hex()}", copies=2, royalty=1000,
                           payout=artist_ph, issuer=did_of("artist"))

        def signed(op: str, body: Any, by: str) -> RecordPayload:
            return RecordPayload(type=EDITION_RECORD_TYPE, content=E.sign_edition_request(
                op, body, parse_did_url(f"{did_of(by)}#primary"), key_of(by)))

        mint = self.spend("faucet", SideTxType.RECORD, signed("mint", mint_body, "artist"))
        self.wait("the mint in a sidechain block; copy 1 the issuer's", lambda: self.side.call(
            "edition_owner", {"work": work.hex(), "number": 1}) == did_of("artist"))
        trail = [mint.txid().hex()]
        sales = []
        prev = mint.txid()
        for seller, buyer, price in (("artist", "alice", 50_000_000), ("alice", "bob", 60_000_000)):
            royalty = E.royalty_due(mint_body, price)
            pay = (Output(asset_id=ELA_ASSET_ID, value=price - royalty, output_lock=0, program_hash=address_of(seller)[1]),
                   Output(asset_id=ELA_ASSET_ID, value=royalty, output_lock=0, program_hash=artist_ph))
            sale = self.spend(buyer, SideTxType.RECORD, signed("transfer", E.Transfer(
                work=work, number=1, to=did_of(buyer), price=price, previous=prev), seller), pay)
            self.wait(f"the sale to {buyer} in a sidechain block", lambda b=buyer: self.side.call(
                "edition_owner", {"work": work.hex(), "number": 1}) == did_of(b))
            owner = self.side.call("edition_owner", {"work": work.hex(), "number": 1})
            check(owner == did_of(buyer), f"copy 1 is {buyer}'s after the sale, the sidechain says {owner}")
            sales.append({"sale": f"{seller}->{buyer}", "price": price, "royalty": royalty, "txid": sale.txid().hex()})
            trail.append(sale.txid().hex())
            prev = sale.txid()
        gate = EditionGate(lambda did, w: bool(self.side.call("edition_canopen", {"did": did, "work": w.hex()})),
                           self.root / "gallery")
        bob_rt, alice_rt = self.runtime("bob-phone"), self.runtime("alice-phone")
        got = gate.open(bob_rt, work)
        check(got == WORK_CONTENT, "the runtime opened the work for its owner bob")
        from spec.errors import Reject

        try:
            gate.open(alice_rt, work)
            refusal = None
        except Reject as e:
            refusal = e
        check(refusal is not None and refusal.reason.value == "EDITION_NOT_OWNER",
              f"the runtime refused the previous owner alice: {refusal}")
        assert refusal is not None
        balances = {x: self.side_balance(x) for x in ("artist", "alice", "bob")}
        return {"work": work.hex(), "copies": 2, "mint_txid": trail[0], "sales": sales, "owner": did_of("bob"),
                "opened_for": did_of("bob"), "refused": f"{refusal.reason.value} [{refusal.rule}]",
                "refused_for": did_of("alice"),
                "balances_sela": balances}

    def step_withdraw(self) -> dict:
        """Bob burns ELA on the sidechain for his main-chain address; the arbiter on duty proposes the payment,
        collects m signatures from the other arbiter processes over their JSON-RPC and submits it; every
        arbiter sees it paid and marks the withdrawal done on the sidechain. Then, from outside: exactly one
        payment in the main chain, signed by m distinct arbiter keys; a second submission refused; each
        arbiter's stored progress."""
        from spec.chain.tx import CrossChainEntry as Entry, TransferCrossChainAssetPayload as Payload

        target, _ = address_of("bob-main")
        amount = 40_000_000
        first = self.main.call("getblockcount")
        burn = self.spend("bob", SideTxType.TRANSFER_CROSS_CHAIN_ASSET,
                          Payload(entries=(Entry(address=target.encode(), output_index=1, amount=amount),)),
                          (Output(asset_id=ELA_ASSET_ID, value=amount + SIDE_PARAMS.min_cross_chain_tx_fee,
                                  output_lock=0, program_hash=bytes(21)),), fee=SIDE_PARAMS.min_cross_chain_tx_fee)
        side_txid = burn.txid().hex()
        self.wait("the payment on the main chain, the withdrawal recorded paid on the sidechain", lambda:
                  self.main.call("listunspent", addresses=[target]) and self.side.call("getwithdraws") == [])
        top = self.main.call("getblockcount")   # one more block: a payment sent twice would be mined by now
        self.wait("one more main block", lambda: self.main.call("getblockcount") > top)
        payments = [(h, tx) for h in range(first, self.main.call("getblockcount")) for tx in self.main_block(h).transactions
                    if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN and isinstance(tx.payload, WithdrawFromSideChainPayload)
                    and burn.txid() in tx.payload.sidechain_tx_hashes]
        check(len(payments) == 1, f"one main-chain payment of the withdrawal, found {len(payments)}")
        height, pay = payments[0]
        m, pubkeys = W.arbiter_threshold(ARBITERS), [public_key_from_private(k) for k in ARBITER_KEYS]
        program = pay.programs[0]
        check(len(pay.programs) == 1 and program.code == multisig_redeem_script(m, pubkeys, "crosschain"),
              f"the payment is locked to the {m}-of-{ARBITERS} script of the cross-chain arbiters")
        pushes = [program.parameter[i:i + 65] for i in range(0, len(program.parameter), 65)]
        signers = set()
        for push in pushes:
            check(push[0] == PUSH_SIGNATURE, "each signature is pushed")
            signers |= {k for k in pubkeys if _verifies(k, pay.serialize_unsigned(), push[1:])}
        check(len(pushes) == m and len(signers) == m, f"{len(pushes)} signatures by {len(signers)} distinct arbiter keys")
        try:
            self.main.call("sendrawtransaction", pay.serialize().hex())
            again = "accepted"
        except RpcError as e:
            again = str(e.reason)
        check(again in ("TX_DUPLICATE", "TX_WITHDRAW_DUPLICATE"), f"the main node refuses to pay it twice: {again}")
        main_txid = pay.txid()[::-1].hex()
        infos = self.wait("every arbiter process saw the payment", lambda: (
            i := [r.call("arbiter_info") for r in self.arbiter_rpcs]) and all(
            x["paid"].get(side_txid) == main_txid for x in i) and i)
        # the arbiter on duty proposed it and stored it sent; the one on duty at the next height may have
        # proposed a payment of its own while the first sat in the main pool, but no arbiter signs two payments
        # of one withdrawal (ARB-004), so that one never got m signatures and stays proposed
        proposals = {f"arbiter{n + 1}": x["proposals"][side_txid] for n, x in enumerate(infos)
                     if side_txid in x["proposals"]}
        leaders = [a for a, v in proposals.items() if v == {"state": "sent", "main_txid": main_txid}]
        check(len(leaders) == 1 and all(v == {"state": "proposed", "main_txid": None} for a, v in proposals.items()
                                        if a != leaders[0]), f"one arbiter's payment was sent, no other signed: "
              f"{proposals}")
        digest = W.payment_digest(pay).hex()
        signed_by = [n + 1 for n, x in enumerate(infos) if x["signed"].get(side_txid) == digest]
        check(len(signed_by) >= m and all(side_txid not in x["signed"] or x["signed"][side_txid] == digest
                                          for x in infos), f"arbiters {signed_by} signed this payment and no other")
        check({bytes.fromhex(infos[n - 1]["public_key"]) for n in signed_by} >= signers,
              "the payment's signers are arbiters that stored signing it")
        paid = [u["amount"] for u in self.main.call("listunspent", addresses=[target])]
        check(paid == ["0.40000000"], f"the main-chain address holds {paid}")
        self.wait_agree()
        node2 = self.main_rpcs[-1].call("listunspent", addresses=[target])
        check([u["amount"] for u in node2] == paid, "node2 sees the same payment")
        return {"side_txid": side_txid, "main_txid": main_txid, "main_height": height, "target": target,
                "paid_ela": paid[0], "signatures": f"{m} of {ARBITERS}", "leader": leaders[0],
                "proposals": {a: v["state"] for a, v in proposals.items()},
                "signed_by": [f"arbiter{n}" for n in signed_by], "paid_again": again}

    def step_agree(self) -> dict:
        height, best = self.wait_agree()
        out = {"main_height": height, "best": best}
        if "sidechain" in self.procs:
            side2 = RpcClient(f"http://127.0.0.1:{self.procs['sidechain2'].ready['rpc']}")
            best2 = self.wait("both sidechain nodes on one tip", lambda: (
                b := self.side.call("getbestblockhash")) == side2.call("getbestblockhash") and b)
            out["side_height"] = self.side.call("getblockcount") - 1
            out["side_best"] = best2
        return out

    # -- running ----------------------------------------------------------------------------------------------

    scenario = "all"

    def run(self, scenario: str) -> bool:
        self.scenario = scenario
        names = SCENARIOS[scenario][1]
        for i, name in enumerate(names, 1):
            t0 = time.perf_counter()
            fn = getattr(self, "step_" + name.replace("-", "_"))
            try:
                figures = fn()
                ok, checked = True, CHECKED[name]
            except (StepFailed, Exception) as e:  # noqa: BLE001 - a failed step is reported, then we stop
                ok, checked, figures = False, f"FAILED: {type(e).__name__}: {e}", {}
            step = Step(name, ok, checked, figures, time.perf_counter() - t0)
            self.steps.append(step)
            n = len(names)
            self.log(f"[{i:>{len(str(n))}}/{n}] {name:<13} {'ok  ' if ok else 'FAIL'} {step.seconds:5.1f}s  {checked}")
            if not ok:
                return False
        return True


def _verifies(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        p256.ecdsa_verify(public_key, message, signature)
    except Reject:
        return False
    return True


def _short(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={_short(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    s = str(v)
    if s.startswith("did:elastos:") and len(s) > 26:
        return s[:20] + "…"
    if len(s) > 24 and all(c in "0123456789abcdef" for c in s):
        return s[:12] + "…"
    return s


def summary_table(steps: list[Step]) -> str:
    """The summary: one row per step (outcome, seconds, figures), figures wrapped to the table's width."""
    import textwrap

    lines = [f"{'step':<13} {'outcome':<7} {'time':>6}  figures", f"{'-' * 13} {'-' * 7} {'-' * 6}  {'-' * 90}"]
    for s in steps:
        figs = "; ".join(f"{k}: {_short(v)}" for k, v in s.figures.items()) or s.checked
        wrapped = textwrap.wrap(figs, 90) or [""]
        lines.append(f"{s.name:<13} {'ok' if s.ok else 'FAILED':<7} {s.seconds:5.1f}s  {wrapped[0]}")
        lines += [f"{'':<29}{w}" for w in wrapped[1:]]
    return "\n".join(lines)


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(scenario: str = "all", *, folder: str | None = None, keep: bool = False, json_out: str | None = None,
        network: str = "instant", nodes: int = 2, blocks: int = 3, log: Callable[[str], None] = print) -> int:
    """``elastos devnet``: run ``scenario``; 0 when every step passed. With ``keep`` the processes stay up
    and ``devnet.json`` in the folder names them (``elastos devnet status`` / ``stop``)."""
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="elastos-devnet-"))
    root.mkdir(parents=True, exist_ok=True)
    if (root / STATE_FILE).exists():
        from reference.devnet.manage import running

        if running(root):
            log(f"devnet: a devnet is already running in {root} (elastos devnet stop --dir {root})")
            return 2
    log(f"devnet: scenario {scenario} ({SCENARIOS[scenario][0]})")
    log(f"devnet: folder {root} (logs, datadirs, {STATE_FILE})")
    net = Devnet(root, log, network, nodes, blocks)
    t0 = time.perf_counter()
    ok = False
    previous = None
    if threading.current_thread() is threading.main_thread():  # SIGTERM stops the devnet as Ctrl-C does
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        ok = net.run(scenario)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        seconds = time.perf_counter() - t0
        report = {"scenario": scenario, "ok": ok, "dir": str(root), "seconds": round(seconds, 1),
                  "steps": [{"step": s.name, "ok": s.ok, "checked": s.checked, "seconds": round(s.seconds, 2),
                             "figures": s.figures} for s in net.steps], "endpoints": net.endpoints(),
                  "pids": {n: p.pid for n, p in net.procs.items()}}
        if keep and ok:
            net.save_state()
            net.detach()
        else:
            killed = net.stop()
            if killed:
                log(f"devnet: needed SIGKILL: {', '.join(killed)}")
            (root / STATE_FILE).unlink(missing_ok=True)
        if json_out:
            Path(json_out).write_text(json.dumps(report, indent=1, sort_keys=True, default=str))
    log("")
    log(summary_table(net.steps))
    log("")
    log(f"devnet: {'all ' + str(len(net.steps)) + ' steps passed' if ok else 'FAILED'} in {seconds:.1f} s")
    if keep and ok:
        log("devnet: kept running; endpoints:")
        for name, e in net.endpoints().items():
            log(f"  {name:<20} " + "  ".join(f"{k}={v}" for k, v in e.items() if k != "kind"))
        log(f"devnet: state in {root / STATE_FILE}; elastos devnet status --dir {root}; elastos devnet stop --dir {root}")
    elif not folder and ok:
        shutil.rmtree(root, ignore_errors=True)
        log(f"devnet: removed {root} (give --dir to keep the logs and datadirs)")
    return 0 if ok else 1
