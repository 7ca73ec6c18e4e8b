"""Generators of the ``sidechain`` suite for fork choice: sequences of merge-mined sidechain blocks and the
tip and state the spec's :func:`spec.sidechain.state.add_side_block` chooses (SCF-001..003), a
reorganisation that takes a deposit, a DID and a withdrawal back off, a tie, orphans and invalid branches.

The blocks are built by :func:`fork_blocks` (the tests build theirs with it too): branch ``a`` credits a
main-chain deposit, registers a DID with it and burns part of it in a withdrawal; branch ``b`` is longer
and empty, so it wins and none of ``a``'s effects remain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from spec.chain.builder import sign_standard
from spec.assets import editions as E
from spec.chain.tx import Input, OutPoint, RecordPayload, Transaction
from spec.crypto.p256 import public_key_from_private
from spec.did import builder as DB
from spec.did import document as DD
from spec.did import request as DR
from spec.did.syntax import parse_did_url
from spec.errors import Reason
from spec.sidechain import block as SB
from spec.sidechain import params as SP
from spec.sidechain.crosschain import ZERO_PROGRAM_HASH
from spec.sidechain.tx import RegisterDIDPayload, SideTransaction, SideTxType
from spec.sidechain.validation import EDITION_RECORD_TYPE

from conformance.generators.common import det_bytes
from conformance.generators.sidechain import (
    USER_KEY,
    _coinbase,
    _deposit_v0,
    _out,
    _recharge,
    _side_block,
    _user,
    _withdraw,
)
from conformance.vectors import CaseSpec, generator

OK = "ok"
DID_KEY = det_bytes("side/fork/did", 32)


@dataclass(frozen=True)
class ForkBlocks:
    """The blocks of the fork-choice cases and what the main chain must hold for them."""

    a: tuple[SB.SideBlock, ...]
    """Branch a on genesis: a deposit credited, a DID registered, a withdrawal burned."""
    b: tuple[SB.SideBlock, ...]
    """Branch b on genesis: empty blocks, one more than a."""
    c: tuple[SB.SideBlock, ...]
    """Branch c on a's first block: a second block that credits nothing, then two more."""
    bad: SB.SideBlock
    """On b's second block: a coinbase paying more than the fees (SCV-008)."""
    after_bad: tuple[SB.SideBlock, ...]
    """Two blocks on ``bad``."""
    main_blocks: tuple[bytes, ...]
    """The main-chain blocks whose SideAuxPows prove the blocks above."""
    deposit: Transaction
    """The main-chain deposit branch a credits."""
    did: str
    """The DID branch a registers."""
    withdrawal: bytes
    """The txid of branch a's withdrawal."""
    mint: SideTransaction
    """An edition mint by the DID, spending what the withdrawal spends (the tests mine it instead)."""


def did_request(private_key: bytes, now: int) -> tuple[str, str]:
    """A create request of the primitive DID of ``private_key``, sealed at ``now``: (DID, request JSON)."""
    draft = DB.primitive_draft(public_key_from_private(private_key))
    signer = parse_did_url(f"{draft['id']}#primary")
    doc = DB.seal_document(draft, now=now, signer=signer, private_key=private_key)
    req = DR.build_request("create", DD.normalized(doc), signer, private_key)
    return draft["id"], DR.serialize(req)


def _chain(parent: SB.SideBlock, bodies: Sequence[list[SideTransaction]], mains: list[bytes],
           salt: int = 0) -> tuple[SB.SideBlock, ...]:
    out: list[SB.SideBlock] = []
    prev = parent
    for txs in bodies:
        h = prev.header.height + 1
        cb = txs[0] if txs and txs[0].tx_type == SideTxType.COINBASE else _coinbase(h + 1000 * salt)
        rest = txs[1:] if txs and txs[0].tx_type == SideTxType.COINBASE else txs
        blk, m = _side_block(prev, [cb, *rest])
        mains.append(m)
        out.append(blk)
        prev = blk
    return tuple(out)


@cache
def fork_blocks() -> ForkBlocks:
    g = SP.side_genesis_block()
    mains: list[bytes] = []
    a_ph, a = _user("a")
    deposit = _deposit_v0([(a, 50_000, 60_000)])
    recharge = _recharge(deposit, [(a_ph, 50_000)])
    did, req_json = did_request(DID_KEY, g.header.timestamp)
    reg = sign_standard(SideTransaction(
        tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(DR.parse_request(req_json)),
        inputs=(Input(previous=OutPoint(txid=recharge.txid(), index=0), sequence=0xFFFF_FFFF),),
        outputs=(_out(a_ph, 49_900),)), [USER_KEY])
    burn = sign_standard(_withdraw([(_user("b")[1], 0, 29_900)], [_out(ZERO_PROGRAM_HASH, 39_900), _out(a_ph, 0)])
                         .model_copy(update={"inputs": (Input(previous=OutPoint(txid=reg.txid(), index=0),
                                                              sequence=0xFFFF_FFFF),)}), [USER_KEY])
    a_blocks = _chain(g, [[recharge], [_coinbase(2, [(a_ph, 100)]), reg], [burn]], mains)
    b_blocks = _chain(g, [[], [], [], []], mains, salt=1)
    c_blocks = _chain(a_blocks[0], [[], [], []], mains, salt=2)
    bad, mb = _side_block(b_blocks[1], [_coinbase(3, [(a_ph, 1)])])
    mains.append(mb)
    after = _chain(bad, [[], []], mains, salt=3)
    signer = parse_did_url(f"{did}#primary")
    mint = E.sign_edition_request("mint", E.Mint(work=det_bytes("side/fork/work", 32), title="t", uri="u", copies=2,
                                                 royalty=0, payout=a_ph, issuer=did), signer, DID_KEY)
    record = sign_standard(SideTransaction(
        tx_type=SideTxType.RECORD, payload=RecordPayload(type=EDITION_RECORD_TYPE, content=mint),
        inputs=(Input(previous=OutPoint(txid=reg.txid(), index=0), sequence=0xFFFF_FFFF),),
        outputs=(_out(a_ph, 49_800),)), [USER_KEY])
    return ForkBlocks(a=a_blocks, b=b_blocks, c=c_blocks, bad=bad, after_bad=after, main_blocks=tuple(mains),
                      deposit=deposit, did=did, withdrawal=burn.txid(), mint=record)


def fork_input(blocks: Sequence[SB.SideBlock], f: ForkBlocks | None = None) -> dict[str, object]:
    f = f or fork_blocks()
    return {"network": "instant", "main_blocks": [m.hex() for m in f.main_blocks],
            "main_txs": [f.deposit.serialize().hex()], "blocks": [b.serialize().hex() for b in blocks]}


def _hex(b: SB.SideBlock) -> str:
    return b.hash().hex()


def forged_auxpow(block: SB.SideBlock) -> SB.SideBlock:
    """``block`` under the same hash with its SideAuxPow's merkle index changed (SAUX-002 breaks)."""
    aux = block.header.side_auxpow
    aux = aux.model_copy(update={"side_aux_merkle_index": aux.side_aux_merkle_index ^ 1})
    return block.model_copy(update={"header": block.header.model_copy(update={"side_auxpow": aux})})


def forged_signature(block: SB.SideBlock) -> SB.SideBlock:
    """``block`` under the same hash with its last transaction's first signature corrupted."""
    txs = list(block.transactions)
    p = txs[-1].programs[0]
    bad = p.model_copy(update={"parameter": p.parameter[:-1] + bytes([p.parameter[-1] ^ 1])})
    txs[-1] = txs[-1].model_copy(update={"programs": (bad, *txs[-1].programs[1:])})
    forged = block.model_copy(update={"transactions": tuple(txs)})
    assert forged.hash() == block.hash()
    return forged


@generator("sidechain", "sidechain.fork_choice")
def fork_choice() -> Iterator[CaseSpec]:
    f = fork_blocks()
    a, b, c = list(f.a), list(f.b), list(f.c)
    g = SP.side_genesis_block().hash().hex()
    yield CaseSpec("linear_with_effects", fork_input(a), OK, ("SCF-001",),
                   "branch a: a deposit credited, a DID registered with it, part of it burned in a withdrawal",
                   expect_ok={"tip": _hex(a[2]), "height": 3, "deposits": [f.deposit.txid().hex()], "dids": [f.did],
                              "withdrawals": [f.withdrawal.hex()]})
    yield CaseSpec("reorg_drops_deposit_did_withdrawal", fork_input(a + b), OK, ("SCF-001",),
                   "4 blocks of branch b outweigh 3 of a: the deposit, the DID and the withdrawal only a holds are gone",
                   expect_ok={"tip": _hex(b[3]), "height": 4, "deposits": [], "dids": [], "withdrawals": []})
    yield CaseSpec("heavier_first", fork_input(b + a), OK, ("SCF-001",), expect_ok={"tip": _hex(b[3])})
    yield CaseSpec("tie_keeps_first", fork_input(a + b[:3]), OK, ("SCF-001",), "equal work does not replace the tip",
                   expect_ok={"tip": _hex(a[2]), "dids": [f.did]})
    yield CaseSpec("tie_keeps_first_reversed", fork_input(b[:3] + a), OK, ("SCF-001",),
                   expect_ok={"tip": _hex(b[2]), "dids": []})
    yield CaseSpec("reorg_from_a_shared_block", fork_input(a + c), OK, ("SCF-001",),
                   "branch c forks after a's first block: the deposit a's first block credits stays, the DID goes",
                   expect_ok={"tip": _hex(c[2]), "deposits": [f.deposit.txid().hex()], "dids": []})
    yield CaseSpec("orphans_before_parents", fork_input([a[2], a[1], a[0]]), OK, ("SCF-002",),
                   "blocks 3 and 2 wait as orphans until block 1 arrives", expect_ok={"tip": _hex(a[2])})
    yield CaseSpec("orphan_never_connected", fork_input([a[0], a[2]]), OK, ("SCF-002",),
                   expect_ok={"tip": _hex(a[0]), "statuses": ["tip", "orphan"]})
    bad_branch = b[:2] + [f.bad, *f.after_bad]
    yield CaseSpec("invalid_on_heavier_branch", fork_input(a + bad_branch), OK, ("SCF-003", "SCV-008"),
                   "branch b would be 5 blocks, but its third breaks SCV-008: it and its descendants are invalid",
                   expect_ok={"tip": _hex(a[2]), "reasons": [None] * 5 + ["COINBASE_BAD_REWARD",
                                                                          "descends_from_invalid",
                                                                          "descends_from_invalid"]})
    yield CaseSpec("duplicate_block", fork_input([a[0], a[0]]), OK, ("SCF-001",),
                   expect_ok={"statuses": ["tip", "duplicate"]})
    yield CaseSpec("empty", fork_input([]), OK, (), "the genesis block is the tip", expect_ok={"tip": g, "height": 0})
    unproved = fork_input(a)
    unproved["main_blocks"] = []
    yield CaseSpec("main_chain_does_not_prove_the_blocks", unproved, OK, ("SCF-003", "SCV-001"),
                   "without their main blocks the blocks break SCV-001; the next two descend from an invalid block",
                   expect_ok={"tip": g, "reasons": ["SIDE_MAIN_BLOCK_UNKNOWN", "descends_from_invalid",
                                                    "descends_from_invalid"]})
    yield CaseSpec("forged_side_auxpow_then_honest", fork_input([forged_auxpow(a[0]), *a]), OK, ("SCF-003", "SAUX-002"),
                   "a copy of a's first block whose SideAuxPow names another merkle index: refused, but the block hash "
                   "does not cover the SideAuxPow, so the honest block of the same hash is taken",
                   expect_ok={"tip": _hex(a[2]), "statuses": ["refused", "valid", "valid", "tip"],
                              "reasons": ["SIDE_AUX_MERKLE", None, None, None]})
    yield CaseSpec("forged_orphan_refused_before_honest", fork_input([forged_auxpow(a[1]), a[1], a[0], a[2]]), OK,
                   ("SCF-002", "SAUX-002"),
                   "the header is checked before a block is kept as an orphan: the forged copy is refused at once, "
                   "so the honest second block waits as an orphan and is connected when the first arrives",
                   expect_ok={"tip": _hex(a[2]), "statuses": ["refused", "valid", "valid", "tip"],
                              "reasons": ["SIDE_AUX_MERKLE", None, None, None]})
    yield CaseSpec("forged_signature_then_honest", fork_input([a[0], forged_signature(a[1]), a[1], a[2]]), OK,
                   ("SCF-003", "CRY-006"), "a txid leaves out the programs: a corrupted signature keeps the hash",
                   expect_ok={"tip": _hex(a[2]), "statuses": ["valid", "refused", "valid", "tip"],
                              "reasons": [None, "SIGNATURE_INVALID", None, None], "dids": [f.did]})
    yield CaseSpec("undecodable_block", {**fork_input(a), "blocks": [a[0].serialize().hex()[:-2]]}, Reason.TRUNCATED)


@generator("sidechain", "sidechain.reorg")
def reorg() -> Iterator[CaseSpec]:
    f = fork_blocks()
    a, b, c = list(f.a), list(f.b), list(f.c)
    yield CaseSpec("longer_branch_becomes_tip", fork_input(a + b), OK, ("SCF-001",),
                   "the last block, b's fourth, is the tip: the state is b's alone",
                   expect_ok={"height": 4, "deposits": [], "dids": [], "withdrawals": []})
    yield CaseSpec("shorter_branch_stays_aside", fork_input(a + b[:2]), Reason.SIDE_FORK_LESS_WORK, ("SCF-001",),
                   "b's second block is valid but has less work than a's tip")
    yield CaseSpec("equal_branch_stays_aside", fork_input(a + b[:3]), Reason.SIDE_FORK_LESS_WORK, ("SCF-001",),
                   "equal work keeps the first tip")
    yield CaseSpec("orphans_connected_become_tip", fork_input([a[2], a[1], a[0], a[2]]), OK, ("SCF-002",),
                   "the last block repeats a's third, which its parent's arrival connected",
                   expect_ok={"height": 3, "dids": [f.did]})
    yield CaseSpec("orphan_stays_orphan", fork_input([a[0], a[2]]), Reason.BLOCK_UNKNOWN_PARENT, ("SCF-002",))
    yield CaseSpec("shared_block_keeps_its_deposit", fork_input(a + c), OK, ("SCF-001",),
                   expect_ok={"height": 4, "deposits": [f.deposit.txid().hex()], "dids": [], "withdrawals": []})
    bad_branch = b[:2] + [f.bad, *f.after_bad]
    yield CaseSpec("descends_from_invalid", fork_input(a + bad_branch), Reason.SIDE_FORK_DESCENDS_INVALID,
                   ("SCF-003",), "the last block builds on a block that breaks SCV-008")
    yield CaseSpec("valid_after_invalid_sibling", fork_input(bad_branch[:3] + b), OK, ("SCF-003",),
                   "an invalid block does not taint its siblings: b's own third and fourth blocks win",
                   expect_ok={"height": 4})
    yield CaseSpec("invalid_block_itself", fork_input(b[:2] + [f.bad]), Reason.COINBASE_BAD_REWARD, ("SCV-008",))
    yield CaseSpec("forged_block_refused", fork_input([a[0], forged_signature(a[1])]), Reason.SIGNATURE_INVALID,
                   ("CRY-006",), "the last block is refused (and, its hash not fixing signatures, not remembered)")
