"""The arbiter: the process that links the ID sidechain to the main chain.

It holds the cross-chain arbiters' keys (several, as a devnet's arbiters) and does two jobs:

* **merged mining** (:meth:`Arbiter.merge_mine`): takes the sidechain's block template, has the on-duty
  arbiter (:func:`spec.chain.validation.on_duty_cross_chain_arbiter`) sign a SideChainPow naming it,
  puts that transaction into the main chain's pool, merge-mines the next main block with a Bitcoin parent
  header that meets both the main and the sidechain target (:func:`reference.node.miner.mine_one`), and
  hands the sidechain its SideAuxPow (the transaction, its branch in the main block, the main header);
* **deposits** (:meth:`Arbiter.relay_deposits`): scans main blocks for TransferCrossChainAsset
  transactions paying the sidechain's X address and submits a RechargeToSideChain (v1 by hash, or v0 with
  the deposit and its SPV merkle proof) crediting each entry, converted at the sidechain's exchange rate
  (:func:`spec.sidechain.crosschain.convert`).

* **withdrawals** (:meth:`Arbiter.relay_withdrawals`): learns from the main chain's blocks which withdrawals
  are paid (:func:`payments_in`, the WithdrawFromSideChain transactions naming their sidechain transaction,
  as the separate arbiter processes of :mod:`reference.sidechain.arbiterd` do), tells the sidechain, and
  pays the others from the X address with the m-of-n cross-chain script.

Its state, kept in a JSON file: the height up to which it has relayed the main chain's deposits (written
after each block's deposits are submitted; deposits are idempotent on the sidechain, XCH-001 refuses a
second credit, so a restart that rescans a block changes nothing), and the height up to which it has read
the main chain's payments with the withdrawals they paid (written once per call, so a restart reads the
unwritten blocks again, which changes nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from spec.chain.block import Block, decode_block
from spec.chain.merkle import merkle_branch
from spec.chain.params import ELA_ASSET_ID, NetworkParams
from spec.chain.builder import sign_multisig
from spec.chain.tx import Output, Transaction, TxType, WithdrawFromSideChainPayload
from spec.chain.validation import on_duty_cross_chain_arbiter
from spec.crypto import p256
from spec.encoding.address import program_hash_from_address
from spec.errors import Reject
from spec.sidechain import crosschain as X
from spec.sidechain import params as SP
from spec.sidechain.block import SideAuxPow
from spec.sidechain.builder import side_pow_tx
from spec.sidechain.spv import build_merkle_proof
from spec.sidechain import withdrawal as W
from spec.sidechain.tx import RechargeToSideChainPayload, SideTransaction, SideTxType

from reference.node.miner import mine_one
from reference.node.rpc import RpcClient, RpcError, display, from_display


class ExchangeRateMismatch(RuntimeError):
    """The sidechain node and the arbiter were started with different exchange rates."""


class Arbiter:
    def __init__(self, main_url: str, side_url: str, keys: Sequence[bytes], main_params: NetworkParams,
                 side_params: SP.SidechainParams, state_file: str | Path,
                 log: Callable[[str], None] = lambda s: None, *,
                 confirmations: int = W.WITHDRAWAL_CONFIRMATIONS) -> None:
        self.confirmations = confirmations
        """Sidechain blocks a burn needs, its own counted, before it is paid (ARB-005)."""
        self.main = RpcClient(main_url)
        self.side = RpcClient(side_url)
        self.keys = {p256.public_key_from_private(k): k for k in keys}
        self.main_params = main_params
        self.side_params = side_params
        self.state_file = Path(state_file)
        self.log = log
        genesis = SP.side_genesis_block()
        self.genesis_hash = genesis.hash()
        self.x_program_hash = SP.genesis_program_hash(self.genesis_hash)

    def check_exchange_rate(self) -> None:
        """Raise :class:`ExchangeRateMismatch` unless the sidechain node credits deposits at this arbiter's
        exchange rate (its ``getexchangerate``): an arbiter that paid withdrawals at another rate than the
        sidechain credited deposits at would give the X address away, or keep it, by the ratio of the two."""
        theirs = self.side.call("getexchangerate")
        ours = self.side_params.exchange_rate
        if not isinstance(theirs, (int, float)) or isinstance(theirs, bool) or float(theirs) != ours:
            raise ExchangeRateMismatch(f"the sidechain node's exchange rate is {theirs!r}, this arbiter's {ours!r}: "
                                       "start both with the same --exchange-rate")

    # -- merged mining -----------------------------------------------------------------------------------------

    def merge_mine(self, miner_address: str) -> dict:
        """Mine one main block that also proves one sidechain block; a summary."""
        job, aux, mined = self.prove(miner_address)
        side_hash = bytes.fromhex(job["hash"])
        self.side.call("submitsideauxblock", blockhash=side_hash.hex(), sideauxpow=aux.serialize().hex())
        self.log(f"merge-mined main height {mined['height']} and side height {job['height'] + 1}")
        return {"main_height": mined["height"], "side_height": job["height"] + 1, "side_hash": side_hash[::-1].hex()}

    def prove(self, miner_address: str) -> tuple[dict, SideAuxPow, dict]:
        """The first half of :meth:`merge_mine`: a sidechain template (``createauxblock``), its SideChainPow
        signed by the arbiter on duty and mined into one main block. The template, the SideAuxPow that
        proves it, and the mined main block's summary; the template is not submitted yet."""
        job = self.side.call("createauxblock", paytoaddress=miner_address)
        side_hash = bytes.fromhex(job["hash"])
        height = int(self.main.call("getblockcount"))  # the next main block's height
        arbiter = on_duty_cross_chain_arbiter(height, self.main_params)
        if arbiter is None or arbiter not in self.keys:
            raise RuntimeError(f"the arbiter on duty at main height {height} is not one of this process's keys")
        tx = side_pow_tx(side_hash, self.genesis_hash, height)
        signed = tx.model_copy(update={"payload": tx.payload.model_copy(update={  # type: ignore[union-attr]
            "signature": p256.ecdsa_sign(self.keys[arbiter], tx.payload.unsigned())})})  # type: ignore[union-attr]
        self.main.call("sendrawtransaction", signed.serialize().hex())
        mined = mine_one(self.main, miner_address, log=self.log, also_bits=int(job["bits"], 16))
        block = decode_block(bytes.fromhex(self.main.call("getblock", blockhash=mined["hash"], verbosity=0)))
        txids = block.txids()
        index = txids.index(signed.txid())
        aux = SideAuxPow(side_aux_block_tx=signed, side_aux_merkle_branch=tuple(merkle_branch(txids, index)),
                         side_aux_merkle_index=index, main_block_header=block.header)
        return job, aux, mined

    def proven_side_hash(self, block: Block) -> bytes | None:
        """The hash of the block of this sidechain that the main block ``block`` merge-mined (its SideChainPow
        for this sidechain's genesis), or ``None``."""
        for tx in block.transactions:
            if tx.tx_type == TxType.SIDECHAIN_POW and tx.payload.side_genesis_hash == self.genesis_hash:  # type: ignore[union-attr]
                return tx.payload.side_block_hash  # type: ignore[union-attr]
        return None

    # -- deposits ----------------------------------------------------------------------------------------------

    def _state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def _write_state(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True))
        tmp.replace(self.state_file)

    def _scanned(self) -> int:
        return int(self._state().get("scanned", -1))

    def _save(self, height: int) -> None:
        self._write_state({**self._state(), "scanned": height})

    def main_block(self, height: int) -> Block:
        """The main chain's block at ``height`` (its best chain), from the main node's JSON-RPC."""
        return decode_block(bytes.fromhex(self.main.call(
            "getblock", blockhash=self.main.call("getblockhash", height=height), verbosity=0)))

    def recharge_for(self, tx: Transaction, block: Block, height: int, version: int = 1) -> SideTransaction | None:
        """The RechargeToSideChain crediting ``tx`` of the main block ``block`` at ``height`` (v1 by hash, v0 with
        its SPV merkle proof), or ``None`` if it is no deposit to the X address the sidechain would credit."""
        if tx.tx_type != TxType.TRANSFER_CROSS_CHAIN_ASSET:
            return None
        outputs = []
        for address, amount, _ in X.deposit_entries(tx, self.x_program_hash):
            try:
                ph = program_hash_from_address(address.decode("ascii")).data
            except (Reject, UnicodeDecodeError):
                continue  # the sidechain would refuse it (XCH-004): nothing to relay
            outputs.append(Output(asset_id=ELA_ASSET_ID, value=X.convert(amount, self.side_params.exchange_rate),
                                  output_lock=0, program_hash=ph))
        if not outputs:
            return None
        if version == 0:
            txids = block.txids()
            proof = build_merkle_proof(txids, [txids.index(tx.txid())], block.hash(), height)
            payload = RechargeToSideChainPayload(merkle_proof=proof.serialize(), main_chain_transaction=tx.serialize())
        else:
            payload = RechargeToSideChainPayload(main_chain_transaction_hash=tx.txid())
        return SideTransaction(tx_type=SideTxType.RECHARGE_TO_SIDECHAIN, payload_version=version, payload=payload,
                               outputs=tuple(outputs))

    def relay_deposits(self, version: int = 1) -> list[str]:
        """Submit a recharge for every deposit to the X address in main blocks not yet scanned; their txids.

        ``version`` 1 names the deposit by hash (the sidechain asks its main-chain view); 0 carries the
        deposit with its SPV merkle proof into the main block (:func:`spec.sidechain.spv.build_merkle_proof`)."""
        self.check_exchange_rate()
        done = []
        top = int(self.main.call("getblockcount")) - 1
        for h in range(self._scanned() + 1, top + 1):
            block = self.main_block(h)
            for tx in block.transactions:
                recharge = self.recharge_for(tx, block, h, version)
                if recharge is None:
                    continue
                try:
                    done.append(self.side.call("sendrawtransaction", data=recharge.serialize().hex()))
                    self.log(f"deposit {display(tx.txid())} relayed to the sidechain")
                except RpcError as e:
                    self.log(f"deposit {display(tx.txid())} not relayed: {e.reason or e}")
            self._save(h)
        return done

    # -- withdrawals ---------------------------------------------------------------------------------------

    def learn_payments(self) -> dict[bytes, bytes]:
        """Every withdrawal the main chain has paid: sidechain txid -> the main txid that paid it.

        Reads the main blocks not read before (:func:`payments_in`) and keeps what it found with the height
        read in the state file."""
        state = self._state()
        paid = {bytes.fromhex(s): bytes.fromhex(m) for s, m in state.get("paid", {}).items()}
        top = int(self.main.call("getblockcount")) - 1
        start = int(state.get("payments_scanned", -1)) + 1
        for h in range(start, top + 1):
            for side_txid, main_txid in payments_in(self.main_block(h)):
                paid.setdefault(side_txid, main_txid)
        if top >= start:
            self._write_state({**self._state(), "payments_scanned": top,
                               "paid": {s.hex(): m.hex() for s, m in sorted(paid.items())}})
        return paid

    def relay_withdrawals(self) -> list[str]:
        """Pay every pending sidechain withdrawal on the main chain; the main txids submitted.

        First it learns from the main chain's blocks which withdrawals are paid (:meth:`learn_payments`) and
        marks those the sidechain still lists as withdrawn (``setwithdrawn``). It pays each other one with a
        WithdrawFromSideChain (v0) that spends the X address's outputs under the arbiters' m-of-n
        cross-chain script (m = floor(2n/3) + 1): :func:`spec.sidechain.withdrawal.withdrawal_payment` pays
        each entry its amount over the exchange rate, leaves the burns' margins over the rate as fee, returns
        the change to the X address and names the sidechain transaction. Built deterministically from the
        main chain's UTXO set, so a retry while it waits in the pool is the same transaction (the pool answers
        ``TX_DUPLICATE``); the main chain never pays a sidechain transaction twice (TXC-024). The X outputs a
        payment of this call spends, sent now or waiting in the pool, are not offered to the next one; a
        withdrawal the rest does not cover waits for the next call, when that payment's change or new
        deposits may cover it."""
        self.check_exchange_rate()
        sent = []
        x_address = SP.x_address(self.genesis_hash)
        arbiters = list(self.main_params.cross_chain_arbiters)
        m = W.arbiter_threshold(len(arbiters))
        signers = [self.keys[pk] for pk in arbiters if pk in self.keys][:m]
        if len(signers) < m:
            raise RuntimeError(f"a withdrawal needs {m} arbiter signatures; this process holds {len(signers)}")
        paid = self.learn_payments()
        side_height = int(self.side.call("getblockcount")) - 1
        taken: set[tuple[bytes, int]] = set()   # X outputs spent by this call's payments
        for w in self.side.call("getwithdraws"):
            if bytes.fromhex(w["txid"]) in paid:
                self.side.call("setwithdrawn", txid=w["txid"])
                self.log(f"withdrawal {w['txid']} was paid by main-chain transaction "
                         f"{display(paid[bytes.fromhex(w['txid'])])}")
                continue
            buried = W.confirmations_of(pending_withdrawal(w), side_height)
            if buried < self.confirmations:  # [ARB-005] not paid while a reorganisation could take the burn back
                continue
            utxos = [u for u in sorted((from_display(u["txid"]), int(u["vout"]), _sela(u["amount"]))
                                       for u in self.main.call("listunspent", addresses=[x_address]))
                     if (u[0], u[1]) not in taken]
            tx = W.withdrawal_payment(pending_withdrawal(w), utxos, x_address=x_address,
                                      exchange_rate=self.side_params.exchange_rate)
            if tx is None:
                self.log(f"withdrawal {w['txid']}: the X address ({sum(v for _, _, v in utxos)} sela free) does "
                         "not cover it yet")
                continue
            tx = sign_multisig(tx, m, arbiters, signers, kind="crosschain")
            try:
                sent.append(self.main.call("sendrawtransaction", tx.serialize().hex()))
                self.log(f"withdrawal {w['txid']} paid by main-chain transaction {sent[-1]}")
            except RpcError as e:
                if e.reason != "TX_DUPLICATE":          # TX_DUPLICATE: still waiting in the pool
                    self.log(f"withdrawal {w['txid']} not paid: {e.reason or e}")
                    continue
            taken |= {(i.previous.txid, i.previous.index) for i in tx.inputs}
        return sent


def payments_in(block: Block) -> list[tuple[bytes, bytes]]:
    """``(sidechain txid, main txid)`` for each sidechain transaction a WithdrawFromSideChain of the main block
    ``block`` pays: how an arbiter learns that a withdrawal is paid."""
    return [(side_txid, tx.txid()) for tx in block.transactions
            if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN and isinstance(tx.payload, WithdrawFromSideChainPayload)
            for side_txid in tx.payload.sidechain_tx_hashes]


def pending_withdrawal(w: dict) -> W.PendingWithdrawal:
    """One withdrawal of the sidechain node's ``getwithdraws`` as the spec's :class:`PendingWithdrawal`."""
    return W.PendingWithdrawal(side_txid=bytes.fromhex(w["txid"]), height=int(w["height"]),
                               entries=tuple((a, int(v), int(b)) for a, v, b in w["entries"]))


__all__ = ["Arbiter", "ExchangeRateMismatch", "payments_in", "pending_withdrawal", "side_params_for"]


def _sela(amount: str) -> int:
    """``1.00010000`` (the node's fixed64 text) as sela."""
    whole, _, frac = amount.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100_000_000 + int((frac + "00000000")[:8]))


def side_params_for(network: str, exchange_rate: float | None) -> SP.SidechainParams:
    """The ID sidechain's parameters on ``network``, at ``exchange_rate`` if one is given."""
    params = SP.id_network(network)
    return params if exchange_rate is None else SP.with_exchange_rate(params, exchange_rate)


def run(main_rpc: str, side_rpc: str, key_files: Sequence[str], network: str, miner: str, blocks: int,
        state: str, log: Callable[[str], None] = print, *, exchange_rate: float | None = None) -> int:
    """``elastos arbiter``: merge-mine ``blocks`` main and sidechain blocks, relaying deposits before each.

    The main node must name the same arbiters (``elastos node --arbiters``) for its SideChainPow check, and
    the sidechain node must run at the same exchange rate (else it exits 2 before doing anything)."""
    import sys

    from spec.chain.params import network as main_network
    from reference.node.wallet import load_key

    keys = [load_key(f) for f in key_files]
    params = main_network(network).model_copy(update={"cross_chain_arbiters": tuple(
        p256.public_key_from_private(k) for k in keys)})
    arb = Arbiter(main_rpc, side_rpc, keys, params, side_params_for(network, exchange_rate), state, log)
    try:
        arb.check_exchange_rate()
    except ExchangeRateMismatch as e:
        print(f"elastos arbiter: {e}", file=sys.stderr, flush=True)
        return 2
    for _ in range(blocks):
        arb.relay_deposits()
        arb.merge_mine(miner)
    return 0
