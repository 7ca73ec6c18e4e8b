"""Chain state: the UTXO set, ``apply_block`` and its undo, and fork choice by most cumulative work.

A :class:`ChainState` is one chain from genesis to a tip: the headers of the chain, the unspent
outputs, the output count of every transaction the chain holds (for the duplicate-transaction
and unknown-reference checks), and the cumulative work. It is a value: :func:`apply_block` and
:func:`undo_block` return new states and never change their argument.

Fork choice (``connectBestChain`` in ``Elastos.ELA/blockchain/blockchain.go``): of all blocks whose
whole chain is valid, the tip is the one with the most cumulative work ``sum(calc_work(bits))``;
a block with equal work does not replace the current tip (the first seen stays). A block whose
parent is unknown waits as an orphan and is connected when the parent arrives. A block that
breaks a rule is invalid, and so is every block that builds on it.

A refused block is remembered as invalid by its hash, so that it is never checked again, only when the
hash commits to everything the refusal read (:func:`remembers_refusal`). The block hash covers the
84-byte header base alone, and a txid leaves out the transaction's programs: a relay can corrupt the
AuxPoW or a signature of an honest block without changing its hash. Such a block is refused but not
remembered, and the honest block of the same hash is taken when it comes (Bitcoin Core treats a
mutated block the same way). Upstream keeps no record of refused blocks at all (``processBlock`` returns
the error and drops the block), so it checks a refused block again each time it comes; remembering the
refusals a hash does fix is this spec's, and changes no verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, Literal, Protocol, TypeVar

from spec.chain.block import Block
from spec.chain.merkle import merkle_root
from spec.chain.params import NetworkParams, genesis_block
from spec.chain.pow import calc_work
from spec.chain.tx import TxType, WithdrawFromSideChainPayload
from spec.chain.validation import (
    HeaderInfo,
    UtxoEntry,
    check_block_context,
    check_block_sanity,
    is_new_sidechain_pow,
)
from spec.errors import Reason, Reject, rule

OutPointKey = tuple[bytes, int]

R_PARENT = rule(
    "ST-001", Reason.BLOCK_UNKNOWN_PARENT,
    "A block is applied only on top of its parent: its previous hash is the hash of the state's tip.",
    suite="chain", upstream="ProcessBlock: the block is kept as an orphan until its parent is known",
)


@dataclass(frozen=True)
class ChainState:
    """One chain from genesis to its tip; implements :class:`~spec.chain.validation.ChainView`."""

    params: NetworkParams
    headers: tuple[HeaderInfo, ...]
    """The chain's headers; ``headers[h]`` is at height ``h``."""
    utxos: Mapping[OutPointKey, UtxoEntry]
    """Unspent outputs by ``(txid, index)``."""
    tx_outputs: Mapping[bytes, int]
    """Output count of every transaction in the chain, by txid."""
    work: int
    """Cumulative work of the chain (genesis included)."""
    withdrawn: frozenset[bytes] = frozenset()
    """Sidechain transaction hashes named by the chain's WithdrawFromSideChain (v0) transactions."""

    def tip(self) -> HeaderInfo:
        return self.headers[-1]

    def header_at(self, height: int) -> HeaderInfo | None:
        return self.headers[height] if 0 <= height < len(self.headers) else None

    def utxo(self, txid: bytes, index: int) -> UtxoEntry | None:
        return self.utxos.get((txid, index))

    def output_count(self, txid: bytes) -> int | None:
        return self.tx_outputs.get(txid)

    def sidechain_tx_withdrawn(self, txhash: bytes) -> bool:
        return txhash in self.withdrawn

    @property
    def height(self) -> int:
        return len(self.headers) - 1


@dataclass(frozen=True)
class BlockUndo:
    """What :func:`undo_block` needs to take a block back off: the entries its inputs spent."""

    spent: tuple[tuple[OutPointKey, UtxoEntry], ...]


def header_info(block: Block) -> HeaderInfo:
    h = block.header
    return HeaderInfo(hash=h.hash(), height=h.height, timestamp=h.timestamp, bits=h.bits)


def created_entries(block: Block) -> dict[OutPointKey, UtxoEntry]:
    """The unspent outputs a block adds: every output of every transaction."""
    created: dict[OutPointKey, UtxoEntry] = {}
    for tx in block.transactions:
        txid = tx.txid()
        new_pow = is_new_sidechain_pow(tx)
        for i, out in enumerate(tx.outputs):
            created[(txid, i)] = UtxoEntry(output=out, height=block.header.height, coinbase=tx.is_coinbase(),
                                           tx_lock_time=tx.lock_time, new_sidechain_pow=new_pow)
    return created


def withdrawn_hashes(block: Block) -> set[bytes]:
    """The sidechain transaction hashes a block's WithdrawFromSideChain (v0) transactions name."""
    return {h for tx in block.transactions if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN
            and tx.payload_version == 0 and isinstance(tx.payload, WithdrawFromSideChainPayload)
            for h in tx.payload.sidechain_tx_hashes}


def spent_outpoints(block: Block) -> list[OutPointKey]:
    """The outpoints a block's non-coinbase transactions spend."""
    return [(i.previous.txid, i.previous.index) for tx in block.transactions[1:] for i in tx.inputs]


def genesis_state(params: NetworkParams) -> ChainState:
    """The state after the network's genesis block (which no rule checks)."""
    g = genesis_block(params.name)
    return ChainState(
        params=params, headers=(header_info(g),),
        utxos=MappingProxyType(created_entries(g)),
        tx_outputs=MappingProxyType({tx.txid(): len(tx.outputs) for tx in g.transactions}),
        work=calc_work(g.header.bits),
    )


def connect_block(state: ChainState, block: Block) -> tuple[ChainState, BlockUndo]:
    """Apply an already validated block: spend its inputs, add its outputs. No checks."""
    utxos = dict(state.utxos)
    spent = []
    for key in spent_outpoints(block):
        spent.append((key, utxos.pop(key)))
    utxos.update(created_entries(block))
    tx_outputs = dict(state.tx_outputs)
    tx_outputs.update({tx.txid(): len(tx.outputs) for tx in block.transactions})
    new = ChainState(params=state.params, headers=state.headers + (header_info(block),),
                     utxos=MappingProxyType(utxos), tx_outputs=MappingProxyType(tx_outputs),
                     work=state.work + calc_work(block.header.bits),
                     withdrawn=state.withdrawn | withdrawn_hashes(block))
    return new, BlockUndo(spent=tuple(spent))


def apply_block(state: ChainState, block: Block, now: int) -> tuple[ChainState, BlockUndo]:
    """Validate ``block`` on top of ``state`` (sanity, then context) and apply it.

    ``now`` is the node's adjusted time for the future-timestamp rule. Returns the new state and
    the undo record; raises :class:`~spec.errors.Reject` and leaves ``state`` as it was otherwise.
    """
    # [ST-001] the block extends the state's tip
    if block.header.previous != state.tip().hash:
        raise Reject(Reason.BLOCK_UNKNOWN_PARENT, "ST-001", block.header.previous[::-1].hex())
    check_block_sanity(block, state.params, now)
    check_block_context(block, state, state.params)
    return connect_block(state, block)


def undo_block(state: ChainState, block: Block, undo: BlockUndo) -> ChainState:
    """Take the tip block back off: remove its outputs and transactions, restore what it spent."""
    if block.hash() != state.tip().hash:
        raise ValueError("undo_block: the block is not the state's tip")
    utxos = dict(state.utxos)
    for key in created_entries(block):
        utxos.pop(key, None)
    utxos.update(dict(undo.spent))
    tx_outputs = dict(state.tx_outputs)
    for tx in block.transactions:
        tx_outputs.pop(tx.txid(), None)
    return ChainState(params=state.params, headers=state.headers[:-1], utxos=MappingProxyType(utxos),
                      tx_outputs=MappingProxyType(tx_outputs), work=state.work - calc_work(block.header.bits),
                      withdrawn=state.withdrawn - withdrawn_hashes(block))


def reorganize(state: ChainState, detach: Sequence[tuple[Block, BlockUndo]], attach: Sequence[Block],
               now: int) -> tuple[ChainState, list[BlockUndo]]:
    """Undo ``detach`` (tip first) and apply ``attach`` (oldest first), validating each attached block."""
    for block, undo in detach:
        state = undo_block(state, block, undo)
    undos = []
    for block in attach:
        state, undo = apply_block(state, block, now)
        undos.append(undo)
    return state, undos


# -- fork choice --------------------------------------------------------------------------------------------------

Status = Literal["tip", "valid", "orphan", "invalid"]


@dataclass(frozen=True)
class BlockTree:
    """Every block seen, with the state after each valid one, and the current best tip."""

    params: NetworkParams
    states: Mapping[bytes, ChainState]
    """State after each valid block, by block hash (genesis included)."""
    orphans: Mapping[bytes, Block] = field(default_factory=dict)
    """Blocks waiting for their parent, by their own hash."""
    invalid: Mapping[bytes, str] = field(default_factory=dict)
    """Blocks that broke a rule (or build on one that did): hash -> reason."""
    best: bytes = b""
    """Hash of the current tip."""

    @property
    def tip_state(self) -> ChainState:
        return self.states[self.best]

    def status(self, block_hash: bytes) -> Status | None:
        if block_hash == self.best:
            return "tip"
        if block_hash in self.states:
            return "valid"
        if block_hash in self.orphans:
            return "orphan"
        if block_hash in self.invalid:
            return "invalid"
        return None


def new_tree(params: NetworkParams) -> BlockTree:
    g = genesis_state(params)
    return BlockTree(params=params, states=MappingProxyType({g.tip().hash: g}), best=g.tip().hash)


S = TypeVar("S")
B = TypeVar("B")


UNCOMMITTED_REASONS: frozenset[Reason] = frozenset({
    # the AuxPoW and the parent's proof of work (AUX-*, POW-003; the sidechain's SAUX-*)
    Reason.AUXPOW_PARENT_MERKLE_MISMATCH, Reason.AUXPOW_NO_COINBASE_INPUT, Reason.AUXPOW_MAGIC_MISSING,
    Reason.AUXPOW_ROOT_MISSING, Reason.AUXPOW_MAGIC_REPEATED, Reason.AUXPOW_ROOT_NOT_AFTER_MAGIC,
    Reason.AUXPOW_SCRIPT_TOO_SHORT, Reason.AUXPOW_MERKLE_SIZE_MISMATCH, Reason.AUXPOW_INDEX_MISMATCH,
    Reason.AUXPOW_BRANCH_TOO_LONG, Reason.POW_HASH_ABOVE_TARGET,
    Reason.SIDE_AUX_NOT_SIDECHAIN_POW, Reason.SIDE_AUX_MERKLE, Reason.SIDE_AUX_BLOCK_HASH,
    # sizes that count the AuxPoW or the programs (BLK-004, BLK-005, TX-001; the sidechain's SBLK-001)
    Reason.BLOCK_HEADER_TOO_LARGE, Reason.BLOCK_TOO_LARGE, Reason.TX_SIZE, Reason.SIDE_HEADER_TOO_LARGE,
    # the programs and their signatures (TX-013..015, TX-018, TXC-010..012, TXC-016, CRY-0xx)
    Reason.TX_NO_PROGRAMS, Reason.TX_PROGRAM_CODE, Reason.COINBASE_HAS_PROGRAMS, Reason.TX_SIDECHAIN_POW_SHAPE,
    Reason.TX_PROGRAM_COUNT, Reason.TX_PROGRAM_HASH_MISMATCH, Reason.TX_SIGNATURE_TYPE,
    Reason.TX_CROSS_CHAIN_ARBITERS, Reason.PUBKEY_ENCODING, Reason.PUBKEY_NOT_ON_CURVE, Reason.SIGNATURE_LENGTH,
    Reason.SIGNATURE_OUT_OF_RANGE, Reason.SIGNATURE_INVALID, Reason.MULTISIG_BAD_M_N, Reason.SCRIPT_MALFORMED,
    Reason.PARAMETER_LENGTH, Reason.NOT_ENOUGH_SIGNATURES, Reason.TOO_MANY_SIGNATURES,
    Reason.DUPLICATE_SIGNATURE,
    # the node's clock, not the block (BLK-001): the block may be valid two hours later
    Reason.BLOCK_TIME_TOO_FAR,
})
"""Reasons whose verdict the block hash does not fix: each reads the AuxPoW, the programs, a size that
counts them, or the clock. A block refused for one of them is not remembered as invalid. A reason shared
with a rule that reads only committed bytes (TXC-010 also counts a Script attribute's hashes) is listed
whole: forgetting a refusal costs a second check, remembering a wrong one loses the chain."""


class _Committed(Protocol):
    """A block with a header merkle root and transactions with txids (main chain or sidechain)."""

    @property
    def header(self) -> Any: ...

    @property
    def transactions(self) -> Sequence[Any]: ...


def body_committed(block: _Committed) -> bool:
    """Whether ``block``'s transactions are the ones its hash commits to: at least one, no txid twice (the
    duplicate-last merkle mutation, CVE-2012-2459, repeats the last ones under the same root), and the
    merkle root of the txids is the header's."""
    txids = [tx.txid() for tx in block.transactions]
    return bool(txids) and len(set(txids)) == len(txids) and merkle_root(txids) == block.header.merkle_root


def remembers_refusal(block: _Committed, refusal: Reject) -> bool:
    """Whether refusing ``block`` for ``refusal`` makes its hash invalid for good: the refusal's reason is
    not one of :data:`UNCOMMITTED_REASONS`, and the block's transactions are the ones its hash commits to
    (:func:`body_committed`; a rule checked before the merkle root may have read transactions a relay
    swapped in). Any other refusal leaves the hash unknown, so that the same hash may come again."""
    return refusal.reason not in UNCOMMITTED_REASONS and body_committed(block)


@dataclass(frozen=True)
class Choice(Generic[S, B]):
    """The fork-choice bookkeeping of any chain: the state after each valid block, the orphans, the
    invalid blocks and the best tip (the main chain's :class:`BlockTree` and the sidechain's
    :class:`spec.sidechain.state.SideTree` are both made of one)."""

    states: Mapping[bytes, S]
    orphans: Mapping[bytes, B]
    invalid: Mapping[bytes, str]
    best: bytes


def choose(tree: Choice[S, B], block: B, *, block_hash: Callable[[B], bytes], previous: Callable[[B], bytes],
           connect: Callable[[S, B], S], work: Callable[[S], int],
           remembers: Callable[[B, Reject], bool], precheck: Callable[[B], None]) -> tuple[Choice[S, B], dict[bytes, str]]:
    """Add one block to ``tree``; connect it and any orphans waiting for it; choose the tip.

    ``precheck(block)`` runs the checks that need no parent (upstream's ``CheckBlockSanity``, which
    ``processBlock`` runs before it keeps an orphan) and raises :class:`~spec.errors.Reject`;
    ``connect(parent_state, block)`` validates the block on its parent's state and returns the state
    after it, or raises; ``work(state)`` is a state's cumulative work; ``remembers(block, refusal)``
    says whether a refusal makes the block's hash invalid for good. The rules, the same for every
    chain: a new block that fails ``precheck`` is refused at once, whatever its parent; a block whose
    parent is unknown waits as an orphan; a block whose parent is invalid is invalid; a refused block
    is invalid when ``remembers`` says so, and otherwise forgotten (the orphans waiting for its hash
    keep waiting); the tip is the valid block with strictly the most work (equal work keeps the tip
    seen first). Returns the new tree and, for every block this call decided about, its outcome:
    ``"valid"``, ``"orphan"``, ``"duplicate"`` or the rejection reason.
    """
    outcome: dict[bytes, str] = {}
    h = block_hash(block)
    if h in tree.states or h in tree.orphans or h in tree.invalid:
        return tree, {h: "duplicate"}
    states = dict(tree.states)
    orphans = dict(tree.orphans)
    invalid = dict(tree.invalid)
    best = tree.best
    pending = [block]
    while pending:
        b = pending.pop()
        bh = block_hash(b)
        parent = previous(b)
        refusal = None
        if b is block:   # an orphan connected below passed its precheck when it came
            try:
                precheck(b)
            except Reject as e:
                refusal = e
        if refusal is not None:
            outcome[bh] = refusal.reason.value
            if not remembers(b, refusal):
                continue  # refused, not remembered: the hash stays unknown
            invalid[bh] = refusal.reason.value
        elif parent in invalid:
            invalid[bh] = invalid[parent] if invalid[parent].startswith("descends") else f"descends from invalid {parent[::-1].hex()}"
            outcome[bh] = invalid[bh]
        elif parent not in states:
            orphans[bh] = b
            outcome[bh] = "orphan"
            continue
        else:
            try:
                new_state = connect(states[parent], b)
            except Reject as e:
                outcome[bh] = e.reason.value
                if not remembers(b, e):
                    continue  # refused, not remembered: the hash stays unknown
                invalid[bh] = e.reason.value
            else:
                states[bh] = new_state
                outcome[bh] = "valid"
                # fork choice: strictly more work replaces the tip; equal work keeps it
                if work(new_state) > work(states[best]):
                    best = bh
        children = [o for o in orphans.values() if previous(o) == bh]
        for child in children:
            del orphans[block_hash(child)]
            pending.append(child)
    return Choice(states=MappingProxyType(states), orphans=MappingProxyType(orphans),
                  invalid=MappingProxyType(invalid), best=best), outcome


def add_block(tree: BlockTree, block: Block, now: int) -> tuple[BlockTree, dict[bytes, str]]:
    """Add one block; connect it and any orphans waiting for it; choose the tip (:func:`choose`).

    Returns the new tree and, for every block this call decided about, its outcome: ``"valid"``,
    ``"orphan"``, ``"duplicate"`` or the rejection reason.
    """
    choice: Choice[ChainState, Block] = Choice(states=tree.states, orphans=tree.orphans, invalid=tree.invalid,
                                              best=tree.best)
    new, outcome = choose(choice, block, block_hash=lambda b: b.hash(), previous=lambda b: b.header.previous,
                          connect=lambda s, b: apply_block(s, b, now)[0], work=lambda s: s.work,
                          remembers=remembers_refusal, precheck=lambda b: check_block_sanity(b, tree.params, now))
    if new is choice:
        return tree, outcome
    return BlockTree(params=tree.params, states=new.states, orphans=new.orphans, invalid=new.invalid,
                     best=new.best), outcome


def fork_choice(params: NetworkParams, blocks: Iterable[Block], now: int) -> BlockTree:
    """Feed ``blocks`` in order to a fresh tree; the result's ``best`` is the chosen tip."""
    tree = new_tree(params)
    for b in blocks:
        tree, _ = add_block(tree, b, now)
    return tree


__all__ = [
    "UNCOMMITTED_REASONS", "BlockTree", "BlockUndo", "ChainState", "Choice", "add_block", "body_committed", "choose",
    "apply_block", "connect_block", "created_entries", "fork_choice", "genesis_state", "header_info", "new_tree",
    "remembers_refusal", "reorganize", "spent_outpoints", "undo_block",
]
