"""Sidechain state, a block's effects and their undo, and fork choice for sidechain blocks.

A :class:`SideState` is one sidechain from its genesis block to a tip: the multi-asset UTXO set, the
registered assets, the main-chain deposits credited, the withdrawals burned (what the arbiters pay), the
ID chain's DID state (:class:`spec.did.chain.IdChainState`) and the edition state
(:class:`spec.assets.editions.EditionState`), and the chain's cumulative work. It is a value:
:func:`apply_side_block` and :func:`undo_side_block` return new states.

Applying a block (:func:`apply_side_block`) is what a sidechain node does with it:

1. :func:`spec.sidechain.validation.check_side_block` on the state (SAUX, SBLK, SCV rules) gives each
   transaction's :class:`~spec.sidechain.validation.SideEffects`;
2. the block's DID requests, in order, go through the ID chain's state machine
   (:func:`spec.did.chain.apply_request`) at the block's timestamp, each with its sidechain transaction
   id as its txid; any rejection rejects the block;
3. its edition records go through :func:`spec.assets.editions.apply_edition`, resolving DIDs against the
   DID state *before* the block (as the reference node does); any rejection rejects the block;
4. the effects are applied: inputs spent, outputs created, assets registered, deposits credited,
   withdrawals burned; the work grows by ``calc_work(bits)`` of the block's own (sidechain) bits.

:func:`undo_side_block` takes the tip block back off with its :class:`SideUndo`, and restores exactly
the state before it: the spent outputs come back, the created ones, the assets it registered, the
deposits it credited and the withdrawals it burned go, and the DID and edition states are the ones
before the block.

Fork choice (:func:`add_side_block`) is the main chain's, :func:`spec.chain.state.choose`, with the
sidechain's work: SCF-001 the tip is the valid block with the most cumulative work, a block of equal
work not replacing the tip seen first; SCF-002 a block whose parent is unknown waits as an orphan and
is connected when its parent arrives; SCF-003 a block that breaks a rule is invalid and so is every
block that builds on it. The state of the other branch after a reorganisation is the state its own
blocks imply: a deposit credited, a DID registered or a withdrawal burned only on the losing branch is
not in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from spec.assets import editions as E
from spec.chain.params import ELA_ASSET_ID
from spec.chain.pow import calc_work
from spec.chain.state import Choice, choose, remembers_refusal
from spec.chain.tx import Output
from spec.did import chain as DC
from spec.errors import Reason, Reject, rule
from spec.sidechain.block import SideBlock, check_side_header
from spec.sidechain.params import SidechainParams, genesis_program_hash, side_genesis_block
from spec.sidechain.validation import MainView, SideEffects, check_side_block

__all__ = ["SideState", "SideUndo", "SideTree", "side_genesis_state", "apply_side_block", "undo_side_block",
           "new_side_tree", "add_side_block", "require_side_tip", "side_fork_choice", "ela_outputs"]

OutPointKey = tuple[bytes, int]

_S = "sidechain"
rule("SCF-001", Reason.SIDE_FORK_LESS_WORK,
     "The sidechain's tip is the valid block with the most cumulative work (the sum of calc_work of the sidechain "
     "blocks' own bits); a block whose chain has no more work than the tip does not replace it, so of equal-work "
     "tips the first seen stays.", suite=_S,
     upstream="Elastos.ELA.SideChain blockchain.go connectBestChain / isBestChain (most work; equal work keeps the "
     "current tip)")
rule("SCF-002", Reason.BLOCK_UNKNOWN_PARENT,
     "A sidechain block whose parent is unknown waits as an orphan and is connected when its parent arrives.",
     suite=_S, upstream="Elastos.ELA.SideChain blockchain ProcessBlock: orphan blocks")
rule("SCF-003", Reason.SIDE_FORK_DESCENDS_INVALID,
     "A sidechain block that breaks a rule is invalid, and so is every block that builds on it.", suite=_S,
     upstream="Elastos.ELA.SideChain blockchain: a block building on a rejected block is rejected")


@dataclass(frozen=True)
class SideState:
    """One sidechain from genesis to its tip; implements :class:`~spec.sidechain.validation.SideView`."""

    params: SidechainParams
    hashes: tuple[bytes, ...]
    """The chain's block hashes; ``hashes[h]`` is at height ``h``."""
    timestamp: int
    """The tip's timestamp."""
    utxos: Mapping[OutPointKey, Output]
    """Unspent outputs by ``(txid, index)``."""
    assets: Mapping[bytes, int]
    """Registered assets' precision by asset id (ELA is not in it: its precision is 8)."""
    deposits: frozenset[bytes]
    """The main-chain transactions whose deposits the chain credited."""
    withdrawals: tuple[bytes, ...]
    """The sidechain txids of the chain's withdrawals (TransferCrossChainAsset), in chain order."""
    did: DC.IdChainState
    """The ID chain's DID and credential state."""
    editions: E.EditionState
    """Works and copies of scarce editions."""
    work: int
    """Cumulative work of the chain (genesis included)."""

    @property
    def height(self) -> int:
        return len(self.hashes) - 1

    @property
    def tip_hash(self) -> bytes:
        return self.hashes[-1]

    def utxo(self, txid: bytes, index: int) -> Output | None:
        return self.utxos.get((txid, index))

    def asset_precision(self, asset_id: bytes) -> int | None:
        return 8 if asset_id == ELA_ASSET_ID else self.assets.get(asset_id)

    def credited(self, main_txid: bytes) -> bool:
        return main_txid in self.deposits


@dataclass(frozen=True)
class SideUndo:
    """What :func:`undo_side_block` needs to take a block back off."""

    effects: tuple[SideEffects, ...]
    """What each of the block's transactions did (the coinbase's first)."""
    spent: tuple[tuple[OutPointKey, Output], ...]
    """The outputs the block spent, as they were."""
    did: DC.IdChainState
    """The DID state before the block."""
    editions: E.EditionState
    """The edition state before the block."""


def side_genesis_state(params: SidechainParams) -> SideState:
    """The state after the sidechain's genesis block (which no rule checks; its coinbase pays nothing)."""
    g = side_genesis_block()
    created = {(tx.txid(), i): o for tx in g.transactions for i, o in enumerate(tx.outputs)}
    return SideState(params=params, hashes=(g.hash(),), timestamp=g.header.timestamp,
                     utxos=MappingProxyType(created), assets=MappingProxyType({}), deposits=frozenset(),
                     withdrawals=(), did=DC.EMPTY, editions=E.EMPTY_EDITIONS, work=calc_work(g.header.bits))


def ela_outputs(outputs: Iterable[Output]) -> list[tuple[bytes, int]]:
    """The ELA outputs as ``(program hash, value)``: what pays an edition's royalty."""
    return [(o.program_hash, o.value) for o in outputs if o.asset_id == ELA_ASSET_ID]


def apply_side_block(state: SideState, block: SideBlock, main: MainView,
                     reserved: frozenset[str] = frozenset()) -> tuple[SideState, SideUndo]:
    """Validate ``block`` on top of ``state`` and apply it (see the module docstring); the new state
    and the undo record. Raises :class:`~spec.errors.Reject` and leaves ``state`` as it was otherwise.
    ``reserved`` is the ID chain's set of reserved customized names (IDC-018)."""
    x_ph = genesis_program_hash(state.hashes[0])
    effects = check_side_block(block, state.tip_hash, state.height, state, main, state.params, x_ph)
    t = block.header.timestamp
    did = state.did
    for tx, fx in zip(block.transactions, effects, strict=True):
        if fx.did_request is not None:
            did = DC.apply_request(did, fx.did_request, t, tx.txid(), reserved)
    editions = state.editions
    resolve = state.did.resolver()
    for tx, fx in zip(block.transactions, effects, strict=True):
        if fx.edition is not None:
            editions = E.apply_edition(editions, fx.edition, tx.txid(), resolve, ela_outputs(tx.outputs))
    utxos = dict(state.utxos)
    assets = dict(state.assets)
    deposits = set(state.deposits)
    withdrawals = list(state.withdrawals)
    spent = []
    for tx, fx in zip(block.transactions, effects, strict=True):
        txid = tx.txid()
        for key in fx.spent:
            spent.append((key, utxos.pop(key)))
        for i, o in enumerate(fx.created):
            utxos[(txid, i)] = o
        if fx.new_asset is not None:
            assets[fx.new_asset[0]] = fx.new_asset[1]
        if fx.credited is not None:
            deposits.add(fx.credited)
        if fx.withdrawal:
            withdrawals.append(txid)
    new = SideState(params=state.params, hashes=state.hashes + (block.hash(),), timestamp=t,
                    utxos=MappingProxyType(utxos), assets=MappingProxyType(assets), deposits=frozenset(deposits),
                    withdrawals=tuple(withdrawals), did=did, editions=editions,
                    work=state.work + calc_work(block.header.bits))
    return new, SideUndo(effects=tuple(effects), spent=tuple(spent), did=state.did, editions=state.editions)


def undo_side_block(state: SideState, block: SideBlock, undo: SideUndo, previous_timestamp: int) -> SideState:
    """Take the tip block back off; ``previous_timestamp`` is its parent's timestamp."""
    if block.hash() != state.tip_hash:
        raise ValueError("undo_side_block: the block is not the state's tip")
    utxos = dict(state.utxos)
    assets = dict(state.assets)
    deposits = set(state.deposits)
    burned: set[bytes] = set()
    for tx, fx in zip(block.transactions, undo.effects, strict=True):
        txid = tx.txid()
        for i in range(len(fx.created)):
            utxos.pop((txid, i), None)
        if fx.new_asset is not None:
            assets.pop(fx.new_asset[0], None)
        if fx.credited is not None:
            deposits.discard(fx.credited)
        if fx.withdrawal:
            burned.add(txid)
    utxos.update(dict(undo.spent))
    return SideState(params=state.params, hashes=state.hashes[:-1], timestamp=previous_timestamp,
                     utxos=MappingProxyType(utxos), assets=MappingProxyType(assets), deposits=frozenset(deposits),
                     withdrawals=tuple(w for w in state.withdrawals if w not in burned), did=undo.did,
                     editions=undo.editions, work=state.work - calc_work(block.header.bits))


# -- fork choice --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideTree:
    """Every sidechain block seen, with the state after each valid one, and the current best tip."""

    params: SidechainParams
    states: Mapping[bytes, SideState]
    """State after each valid block, by block hash (genesis included)."""
    orphans: Mapping[bytes, SideBlock] = field(default_factory=dict)
    """Blocks waiting for their parent, by their own hash."""
    invalid: Mapping[bytes, str] = field(default_factory=dict)
    """Blocks that broke a rule (or build on one that did): hash -> reason."""
    best: bytes = b""
    """Hash of the current tip."""

    @property
    def tip_state(self) -> SideState:
        return self.states[self.best]


def new_side_tree(params: SidechainParams) -> SideTree:
    g = side_genesis_state(params)
    return SideTree(params=params, states=MappingProxyType({g.tip_hash: g}), best=g.tip_hash)


def add_side_block(tree: SideTree, block: SideBlock, main: MainView,
                   reserved: frozenset[str] = frozenset()) -> tuple[SideTree, dict[bytes, str]]:
    """Add one sidechain block and choose the tip (SCF-001..003, :func:`spec.chain.state.choose`, with
    the header's checks, :func:`spec.sidechain.block.check_side_header`, before orphan handling and
    :func:`spec.chain.state.remembers_refusal` for what a refusal remembers); the new tree and every
    decided block's outcome (``"valid"``, ``"orphan"``, ``"duplicate"`` or the rejection reason)."""
    choice: Choice[SideState, SideBlock] = Choice(states=tree.states, orphans=tree.orphans, invalid=tree.invalid,
                                                  best=tree.best)
    # [SCF-001] most work wins, equal work keeps the first seen; [SCF-002] orphans wait; [SCF-003] invalid descends
    new, outcome = choose(choice, block, block_hash=lambda b: b.hash(), previous=lambda b: b.header.previous,
                          connect=lambda s, b: apply_side_block(s, b, main, reserved)[0], work=lambda s: s.work,
                          remembers=remembers_refusal,
                          precheck=lambda b: check_side_header(b.header, tree.params.retarget.pow_limit))
    if new is choice:
        return tree, outcome
    return SideTree(params=tree.params, states=new.states, orphans=new.orphans, invalid=new.invalid,
                    best=new.best), outcome


def require_side_tip(tree: SideTree, block_hash: bytes) -> SideState:
    """The state at ``block_hash`` if fork choice made it the tip; else the rejection that says why not."""
    if block_hash == tree.best:
        return tree.states[block_hash]
    # [SCF-001] a valid branch without more work than the tip stays a side branch
    if block_hash in tree.states:
        raise Reject(Reason.SIDE_FORK_LESS_WORK, "SCF-001", f"work {tree.states[block_hash].work} "
                     f"<= tip's {tree.tip_state.work}")
    # [SCF-002] a block whose parent is unknown waits as an orphan
    if block_hash in tree.orphans:
        raise Reject(Reason.BLOCK_UNKNOWN_PARENT, "SCF-002", "the block's parent is unknown")
    why = tree.invalid.get(block_hash)
    # [SCF-003] a block on an invalid block is invalid
    if why is not None and why.startswith("descends"):
        raise Reject(Reason.SIDE_FORK_DESCENDS_INVALID, "SCF-003", why)
    if why is not None:
        raise Reject(Reason(why), None, "the block broke a rule")
    raise ValueError("require_side_tip: the tree has not seen the block")


def side_fork_choice(params: SidechainParams, blocks: Sequence[SideBlock], main: MainView,
                     reserved: frozenset[str] = frozenset()) -> tuple[SideTree, list[dict[bytes, str]]]:
    """Feed ``blocks`` in order to a fresh tree; the tree (its ``best`` is the chosen tip) and each
    block's outcomes."""
    tree = new_side_tree(params)
    outcomes = []
    for b in blocks:
        tree, out = add_side_block(tree, b, main, reserved)
        outcomes.append(out)
    return tree, outcomes
