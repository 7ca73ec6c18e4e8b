"""Building blocks and transactions: what a miner's template and a wallet produce.

These functions make values that pass the rules; they are not rules themselves. The spec uses them
to generate vectors, the reference miner and wallet use them, and tests use them to build chains.
Everything is deterministic: keys, nonces and times are parameters, and ECDSA signatures use
RFC 6979 nonces.

The coinbase follows upstream's miner template (``Elastos.ELA/pow/service.go``
``CreateCoinbaseTx``): payload version 4, a Nonce attribute, the null input, output 0 to the
foundation with 30 % of reward plus fees (``int64(float64(total) * 0.3)``), output 1 to the miner
with the rest, and ``LockTime`` = the height.
"""

from __future__ import annotations

from collections.abc import Sequence

from spec.chain.auxpow import AUXPOW_CHAIN_ID, AuxPow, make_auxpow, with_parent_nonce
from spec.chain.block import Block, Header
from spec.chain.merkle import merkle_root
from spec.chain.params import ELA_ASSET_ID, NetworkParams, block_reward
from spec.chain.pow import compact_to_big, hash_to_big
from spec.chain.tx import (
    Attribute,
    AttributeUsage,
    CoinBasePayload,
    Input,
    OutPoint,
    Output,
    Program,
    Transaction,
    TransferAssetPayload,
    TxType,
)
from spec.chain.validation import COINBASE_SEQUENCE, FOUNDATION_SHARE, NULL_OUTPOINT_INDEX
from spec.crypto.p256 import ecdsa_sign, public_key_from_private
from spec.crypto.scripts import PUSH_SIGNATURE, ScriptKind, multisig_redeem_script, standard_redeem_script
from spec.encoding.hashes import Uint168


def coinbase(height: int, params: NetworkParams, miner: bytes, fees: int = 0, nonce: bytes = b"",
             foundation: bytes | None = None) -> Transaction:
    """The miner template's coinbase for ``height`` paying ``miner`` (a program hash)."""
    total = block_reward(height, params) + fees
    to_foundation = int(float(total) * FOUNDATION_SHARE)
    return Transaction(
        tx_type=TxType.COINBASE, payload_version=4, payload=CoinBasePayload(content=b""),
        attributes=(Attribute(usage=AttributeUsage.NONCE, data=nonce or height.to_bytes(8, "little")),),
        inputs=(Input(previous=OutPoint(txid=bytes(32), index=NULL_OUTPOINT_INDEX), sequence=COINBASE_SEQUENCE),),
        outputs=(
            Output(asset_id=ELA_ASSET_ID, value=to_foundation, output_lock=0,
                   program_hash=foundation if foundation is not None else params.foundation),
            Output(asset_id=ELA_ASSET_ID, value=total - to_foundation, output_lock=0, program_hash=miner),
        ),
        lock_time=height,
    )


def block_template(previous: bytes, height: int, timestamp: int, bits: int,
                   transactions: Sequence[Transaction]) -> Block:
    """A block with the zero-work placeholder AuxPoW (a miner replaces it, see :func:`attach_auxpow`)."""
    header = Header(previous=previous, merkle_root=merkle_root([tx.txid() for tx in transactions]),
                    timestamp=timestamp, bits=bits, height=height,
                    auxpow=make_auxpow(bytes(32), AUXPOW_CHAIN_ID))
    return Block(header=header, transactions=tuple(transactions))


def attach_auxpow(block: Block, auxpow: AuxPow) -> Block:
    """The block with ``auxpow`` in its header (the block hash does not change)."""
    return Block(header=block.header.model_copy(update={"auxpow": auxpow}), transactions=block.transactions)


def meets_target(auxpow: AuxPow, bits: int) -> bool:
    """Whether the parent header's hash is at or below the target of ``bits``."""
    return hash_to_big(auxpow.par_block_header.hash()) <= compact_to_big(bits)


def solve(block: Block, start_nonce: int = 0, max_tries: int = 1 << 32) -> Block:
    """Merge-mine ``block``: commit its hash in a parent coinbase and try parent nonces in order.

    Deterministic: the first nonce from ``start_nonce`` that meets the target wins. Practical for
    ``instant`` bits (about two tries) and for tests; a real miner grinds in its own loop.
    """
    auxpow = make_auxpow(block.hash(), AUXPOW_CHAIN_ID)
    for nonce in range(start_nonce, min(start_nonce + max_tries, 1 << 32)):
        candidate = with_parent_nonce(auxpow, nonce)
        if meets_target(candidate, block.header.bits):
            return attach_auxpow(block, candidate)
    raise ValueError("no parent nonce in range meets the target")


# -- wallet ------------------------------------------------------------------------------------------------------------


def standard_program_hash(public_key: bytes) -> bytes:
    """The 0x21 program hash of a key's standard script."""
    return Uint168.from_code(0x21, standard_redeem_script(public_key)).data


def transfer(inputs: Sequence[tuple[bytes, int]], outputs: Sequence[tuple[bytes, int]], *, lock_time: int = 0,
             sequence: int = 0xFFFF_FFFF, version: int = 0x09, nonce: bytes = b"") -> Transaction:
    """An unsigned TransferAsset spending ``(txid, index)`` inputs to ``(program_hash, value)`` outputs."""
    attributes = (Attribute(usage=AttributeUsage.NONCE, data=nonce),) if nonce else ()
    return Transaction(
        version=version, tx_type=TxType.TRANSFER_ASSET, payload=TransferAssetPayload(), attributes=attributes,
        inputs=tuple(Input(previous=OutPoint(txid=t, index=i), sequence=sequence) for t, i in inputs),
        outputs=tuple(Output(asset_id=ELA_ASSET_ID, value=v, output_lock=0, program_hash=ph) for ph, v in outputs),
        lock_time=lock_time,
    )


def sign_standard(tx: Transaction, private_keys: Sequence[bytes]) -> Transaction:
    """Add one standard program per key (RFC 6979 signatures over the unsigned bytes)."""
    message = tx.serialize_unsigned()
    programs = []
    for key in private_keys:
        code = standard_redeem_script(public_key_from_private(key))
        programs.append(Program(parameter=bytes((PUSH_SIGNATURE,)) + ecdsa_sign(key, message), code=code))
    return tx.model_copy(update={"programs": tuple(programs)})


def sign_multisig(tx: Transaction, m: int, public_keys: Sequence[bytes], signers: Sequence[bytes],
                  kind: ScriptKind = "multisig") -> Transaction:
    """Add one m-of-n multisig program (``kind`` ``crosschain``: the arbiters' script) signed by ``signers``
    (private keys), in the order given."""
    message = tx.serialize_unsigned()
    code = multisig_redeem_script(m, list(public_keys), kind)
    parameter = b"".join(bytes((PUSH_SIGNATURE,)) + ecdsa_sign(k, message) for k in signers)
    return tx.model_copy(update={"programs": tx.programs + (Program(parameter=parameter, code=code),)})
