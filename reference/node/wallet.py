"""A wallet helper: key files, addresses, balance and TransferAsset over RPC.

Transactions are built and signed with :mod:`spec.chain.builder` (``transfer``, ``sign_standard``,
``sign_multisig``). A key file is JSON ``{"private_key": hex}``. Coins are found with
``listunspent``; coinbase outputs are spent only once mature under the spec's rule (TXC-013:
``tip height - coinbase lock time >= coinbase_maturity``).
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from pathlib import Path

from spec.chain.builder import sign_multisig, sign_standard, standard_program_hash, transfer
from spec.chain.params import NetworkParams
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import multisig_redeem_script
from spec.encoding.address import PREFIX_MULTISIG, address_from_program_hash, program_hash_from_address
from spec.encoding.hashes import Uint168
from reference.node.rpc import RpcClient, from_display

# the order of the P-256 group: a private key is in [1, N-1]
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def new_key(path: str | Path) -> bytes:
    while True:
        k = secrets.token_bytes(32)
        if 0 < int.from_bytes(k, "big") < _N:
            break
    Path(path).write_text(json.dumps({"private_key": k.hex()}) + "\n")
    return k


def load_key(path: str | Path) -> bytes:
    return bytes.fromhex(json.loads(Path(path).read_text())["private_key"])


def address_of_key(key: bytes) -> str:
    return address_from_program_hash(Uint168(data=standard_program_hash(public_key_from_private(key))))


def multisig_program_hash(m: int, public_keys: list[bytes]) -> bytes:
    return Uint168.from_code(PREFIX_MULTISIG, multisig_redeem_script(m, list(public_keys))).data


def multisig_address(m: int, keys: list[bytes]) -> str:
    return address_from_program_hash(Uint168(data=multisig_program_hash(m, [public_key_from_private(k) for k in keys])))


def to_sela(amount: str) -> int:
    return int(Decimal(amount) * 100_000_000)


def spendable(rpc: RpcClient, address: str, params: NetworkParams) -> list[tuple[bytes, int, int]]:
    """``(txid, index, value)`` of the address's outputs that can be spent in the next block."""
    tip = rpc.call("getblockcount") - 1
    out = []
    for u in rpc.call("listunspent", [address]):
        if u["outputlock"] > tip + 1:
            continue
        if u["coinbase"] and (tip - u["locktime"]) & 0xFFFF_FFFF < params.coinbase_maturity:
            continue
        out.append((from_display(u["txid"]), u["vout"], to_sela(u["amount"])))
    return out


def balance(rpc: RpcClient, address: str) -> int:
    return sum(to_sela(u["amount"]) for u in rpc.call("listunspent", [address]))


def send(rpc: RpcClient, params: NetworkParams, keys: list[bytes], to: str, amount: int, fee: int,
         m: int | None = None) -> str:
    """Pay ``amount`` sela to ``to`` from the keys' standard address (or their m-of-n multisig), change back."""
    if m is None:
        if len(keys) != 1:
            raise ValueError("a standard payment takes exactly one key")
        source = address_of_key(keys[0])
    else:
        source = multisig_address(m, keys)
    coins = spendable(rpc, source, params)
    chosen, total = [], 0
    for txid, n, value in coins:
        chosen.append((txid, n))
        total += value
        if total >= amount + fee:
            break
    if total < amount + fee:
        raise ValueError(f"insufficient spendable funds at {source}: {total} < {amount + fee} sela")
    outputs = [(program_hash_from_address(to).data, amount)]
    if total - amount - fee:
        outputs.append((program_hash_from_address(source).data, total - amount - fee))
    tx = transfer(chosen, outputs, nonce=secrets.token_bytes(8))
    if m is None:
        tx = sign_standard(tx, keys)
    else:
        tx = sign_multisig(tx, m, [public_key_from_private(k) for k in keys], keys[:m])
    return rpc.call("sendrawtransaction", tx.serialize().hex())


__all__ = ["address_of_key", "balance", "load_key", "multisig_address", "new_key", "send", "spendable", "to_sela"]
