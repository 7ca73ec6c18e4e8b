"""RechargeToSideChain v0: the SPV merkle proof (spec.sidechain.spv) by properties, and a real sidechain node
crediting a v0 deposit relayed by the arbiter while refusing forged proofs with their reasons."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.chain.block import decode_block
from spec.chain.merkle import merkle_root
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import standard_redeem_script
from spec.errors import Reason, Reject
from spec.sidechain import spv
from spec.sidechain.tx import RechargeToSideChainPayload, SideTransaction, SideTxType

from reference.node.rpc import RpcClient, RpcError
from reference.sidechain.devnet import FUNDING, SideDevnet

PROOF_REASONS = {Reason.DEPOSIT_PROOF_MALFORMED, Reason.DEPOSIT_PROOF_BLOCK, Reason.DEPOSIT_PROOF_TREE,
                 Reason.DEPOSIT_PROOF_ROOT, Reason.DEPOSIT_PROOF_TX}


def _txids(n: int, salt: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{salt}/{i}".encode()).digest() for i in range(n)]


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    n = draw(st.integers(1, 300))
    matched = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(n, 8))))
    return _txids(n, draw(st.integers(0, 1000))), matched


@settings(max_examples=150, deadline=None)
@given(trees())
def test_a_built_proof_rebuilds_the_root_and_matches_exactly_the_chosen_leaves(tree: tuple[list[bytes], list[int]]) -> None:
    txids, matched = tree
    proof = spv.MerkleProof.decode(spv.build_merkle_proof(txids, matched, b"\x07" * 32, 9).serialize())
    root, found = spv.extract_matches(proof)
    assert root == merkle_root(txids)
    assert found == [txids[i] for i in matched]


class _Header:
    """The header fields the proof check reads."""

    def __init__(self, block_hash: bytes, height: int, root: bytes) -> None:
        self._hash, self.height, self.merkle_root = block_hash, height, root

    def hash(self) -> bytes:
        return self._hash


@settings(max_examples=300, deadline=None)
@given(trees(), st.data())
def test_a_mutated_proof_never_proves_a_transaction_outside_the_block(tree: tuple[list[bytes], list[int]],
                                                                      data: st.DataObject) -> None:
    """Soundness: flip any byte of a valid proof; the result is refused with a proof reason, or what it
    proves is still a leaf of the block (some fields, like an unvisited part of the transaction count, are
    not bound by the traversal)."""
    txids, matched = tree
    header = _Header(b"\x07" * 32, 9, merkle_root(txids))
    raw = bytearray(spv.build_merkle_proof(txids, matched, header.hash(), 9).serialize())
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    try:
        proof = spv.MerkleProof.decode(bytes(raw))
        root, found = spv.extract_matches(proof)
        spv.check_merkle_proof(proof, header, found[0] if found else b"\x00" * 32)  # type: ignore[arg-type]
    except Reject as e:
        assert e.reason in PROOF_REASONS | {Reason.TRUNCATED, Reason.TRAILING_BYTES, Reason.LENGTH_EXCEEDS_MAX}
        return
    assert found and set(found) <= set(txids)


@settings(max_examples=100, deadline=None)
@given(trees(), st.binary(min_size=32, max_size=32))
def test_a_proof_never_vouches_for_a_transaction_it_does_not_match(tree: tuple[list[bytes], list[int]],
                                                                   other: bytes) -> None:
    txids, matched = tree
    header = _Header(b"\x07" * 32, 9, merkle_root(txids))
    proof = spv.build_merkle_proof(txids, matched, header.hash(), 9)
    if other in {txids[i] for i in matched}:
        return
    with pytest.raises(Reject) as e:
        spv.check_merkle_proof(proof, header, other)  # type: ignore[arg-type]
    assert e.value.reason == Reason.DEPOSIT_PROOF_TX and e.value.rule == "SPV-009"


def test_upstream_flag_layout_least_significant_bit_first() -> None:
    """Three transactions, the middle one matched: the traversal visits root(1), left(1), leaf 0 (0),
    leaf 1 (1), right(0): bits 1,1,0,1,0 -> 0b01011 = 0x0b, with hashes leaf 0, leaf 1, right."""
    t = _txids(3)
    proof = spv.build_merkle_proof(t, [1], bytes(32), 0)
    assert proof.flags == b"\x0b"
    assert proof.hashes[:2] == (t[0], t[1]) and len(proof.hashes) == 3
    raw = proof.serialize()
    assert raw[32:36] == bytes(4) and raw[36:40] == (3).to_bytes(4, "little")   # height, transactions
    assert raw[40:44] == (3).to_bytes(4, "little") and raw[-2:] == b"\x01\x0b"  # u32 hash count; varbytes flags


@pytest.fixture()
def net(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = SideDevnet(tmp_path)
    yield n
    n.close()


def test_the_node_credits_a_v0_deposit_and_refuses_forged_proofs(net: SideDevnet) -> None:
    miner = address_from_program_hash(Uint168(data=FUNDING))
    side = RpcClient(net.side_url)
    user_key = hashlib.sha256(b"v0 user").digest()
    user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
    user = address_from_program_hash(Uint168(data=user_ph))
    dep = net.deposit(user, 3 * 10**7)
    net.arbiter.merge_mine(miner)                          # the deposit is mined on the main chain
    main_block = decode_block(bytes.fromhex(RpcClient(net.main_url).call(
        "getblock", blockhash=RpcClient(net.main_url).call("getblockhash", height=net.main.height()), verbosity=0)))
    assert dep.txid() in main_block.txids()

    def recharge(proof: bytes, carried: bytes = dep.serialize()) -> SideTransaction:
        from spec.chain.params import ELA_ASSET_ID
        from spec.chain.tx import Output
        return SideTransaction(tx_type=SideTxType.RECHARGE_TO_SIDECHAIN, payload_version=0,
                               payload=RechargeToSideChainPayload(merkle_proof=proof, main_chain_transaction=carried),
                               outputs=(Output(asset_id=ELA_ASSET_ID, value=3 * 10**7, output_lock=0,
                                               program_hash=user_ph),))

    txids = main_block.txids()
    good = spv.build_merkle_proof(txids, [txids.index(dep.txid())], main_block.hash(), main_block.header.height)
    not_main = good.model_copy(update={"block_hash": b"\x42" * 32})
    wrong_tx = spv.build_merkle_proof(txids, [0], main_block.hash(), main_block.header.height)
    forged = good.model_copy(update={"hashes": (bytes(32),) + good.hashes[1:]})
    for bad, reason in ((not_main, "DEPOSIT_PROOF_BLOCK"), (wrong_tx, "DEPOSIT_PROOF_TX"),
                        (forged, "DEPOSIT_PROOF_ROOT"), (good.model_copy(update={"hashes": good.hashes[:-1]}),
                                                         "DEPOSIT_PROOF_TREE")):
        with pytest.raises(RpcError) as e:
            side.call("sendrawtransaction", data=recharge(bad.serialize()).serialize().hex())
        assert e.value.reason == reason
    with pytest.raises(RpcError) as e:
        side.call("sendrawtransaction", data=recharge(good.serialize() + b"\x00").serialize().hex())
    assert e.value.reason == "DEPOSIT_PROOF_MALFORMED"

    relayed = net.arbiter.relay_deposits(version=0)           # the arbiter relays it by proof (v0)
    assert len(relayed) == 1
    net.arbiter.merge_mine(miner)
    funds = side.call("listunspent", {"addresses": [user]})
    assert [f["sela"] for f in funds] == [str(3 * 10**7)]
    block = net.side.store.block_at(net.side.height())
    assert block is not None and [t.payload_version for t in block.transactions[1:]] == [0]
    # a replay by hash (v1) of the same deposit is refused: credited once, whichever version came first
    with pytest.raises(RpcError) as e:
        side.call("sendrawtransaction",
                  data=recharge(good.serialize()).model_copy(update={"payload_version": 1, "payload":
                      RechargeToSideChainPayload(main_chain_transaction_hash=dep.txid())}).serialize().hex())
    assert e.value.reason == "DEPOSIT_DUPLICATE"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=200))
def test_arbitrary_bytes_get_a_typed_rejection(proof: bytes, tx: bytes) -> None:
    """Bad input: whatever bytes a recharge v0 carries, the check raises a Reject with a proof reason, never
    another exception (no header store knows the block, so nothing random passes)."""
    with pytest.raises(Reject) as e:
        spv.check_recharge_proof(proof, tx, lambda h: None)
    assert e.value.reason in PROOF_REASONS
