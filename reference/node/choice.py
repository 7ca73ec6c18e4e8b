"""The decisions of :func:`spec.chain.state.choose`, step by step over a node's store.

The main-chain node and the sidechain node keep their block trees in SQLite stores, not in the spec's
in-memory :class:`~spec.chain.state.Choice`, but they decide about a block exactly as ``choose`` does, in
the same order, so that they end on the same tip in every case: a block whose parent is invalid is
invalid (and says which ancestor was), a block whose parent is unknown waits as an orphan, any other
block is validated on its parent's chain, and then the orphans waiting for it are decided in turn. This
loop is written once, here; a node supplies its store and what differs between the chains:

* :meth:`_precheck` runs the checks that need no parent on a new block, before it is kept as an orphan
  (the ``precheck`` of ``choose``);
* :meth:`_connect_or_side` validates a block on its parent's chain and stores it (tip or side branch),
  raising the spec's :class:`~spec.errors.Reject`; ``prechecked`` says the block passed
  :meth:`_precheck` in this call, so that what it checked need not be checked again;
* :meth:`_is_known` says whether a block hash is already decided (a duplicate);
* :meth:`_parent_ready` says whether a parent is a stored, valid block one can build on;
* :meth:`_remembers` says whether a rejection makes the block invalid for good: by default
  :func:`spec.chain.state.remembers_refusal` (not for what the block hash does not commit to, so that a
  relay cannot make the node refuse an honest block by sending a corrupted copy first); the sidechain
  also forgets rejections that depend only on today's main-chain view;
* :meth:`_rejected` is told of every rejection.

A decided orphan leaves the orphan table in the transaction that stores it (valid) or just after
(invalid): a kill in between leaves it waiting, never lost.
"""

from __future__ import annotations

from typing import Any

from spec.chain.state import remembers_refusal
from spec.errors import Reject


class StoreChoice:
    """The fork-choice loop of a node over its store (``self.store``, ``self.invalid``)."""

    store: Any
    invalid: dict[bytes, str]

    def _is_known(self, block_hash: bytes) -> bool:
        return bool(self.store.has_block(block_hash) or self.store.has_orphan(block_hash)
                    or block_hash in self.invalid)

    def _parent_ready(self, parent: bytes) -> bool:
        return bool(self.store.has_block(parent))

    def _remembers(self, block: Any, e: Reject) -> bool:
        return remembers_refusal(block, e)

    def _rejected(self, block_hash: bytes, e: Reject, submitted: bool) -> None:
        """Called for each rejection; ``submitted`` when the block is the one given to :meth:`_add`."""

    def _precheck(self, block: Any) -> None:  # pragma: no cover - every node defines it
        raise TypeError(f"{type(self).__name__} must define _precheck")

    def _connect_or_side(self, b: Any, prechecked: bool) -> None:  # pragma: no cover - every node defines it
        raise TypeError(f"{type(self).__name__} must define _connect_or_side")

    def _add(self, block: Any, recovering: bool = False) -> dict[bytes, str]:
        """Add one block and every orphan it lets through; returns each decided block's outcome
        (``valid``, ``orphan``, ``duplicate``, or the reason it was refused)."""
        store = self.store
        h = block.hash()
        if not recovering and self._is_known(h):
            return {h: "duplicate"}
        outcome: dict[bytes, str] = {}
        pending = [block]
        while pending:
            b = pending.pop()
            bh = b.hash()
            parent = b.header.previous
            refusal = None
            if b is block and not recovering:   # an orphan connected below passed it when it came
                try:
                    self._precheck(b)
                except Reject as e:
                    refusal = e
            if refusal is not None:
                if not self._refuse(b, refusal, outcome, bh == h):
                    continue
            elif parent in self.invalid:
                reason = self.invalid[parent]
                self._mark_invalid(bh, reason if reason.startswith("descends")
                                   else f"descends from invalid {parent[::-1].hex()}")
                outcome[bh] = self.invalid[bh]
            elif not self._parent_ready(parent):
                with store.transaction():
                    store.put_orphan(b)
                outcome[bh] = "orphan"
                continue
            else:
                try:
                    self._connect_or_side(b, b is block and not recovering)
                except Reject as e:
                    if not self._refuse(b, e, outcome, bh == h):
                        continue
                else:
                    outcome[bh] = "valid"
            if outcome[bh] != "valid":
                self._drop_orphan(bh)
            pending.extend(store.orphans_of(bh))
        return outcome

    def _refuse(self, b: Any, e: Reject, outcome: dict[bytes, str], submitted: bool) -> bool:
        """Record the refusal of ``b``; True when it is remembered (the orphans waiting for it are decided
        next), False when it is forgotten (they keep waiting)."""
        bh = b.hash()
        remembered = self._remembers(b, e)
        if remembered:
            self._mark_invalid(bh, e.reason.value)
        outcome[bh] = e.reason.value
        self._rejected(bh, e, submitted)
        if not remembered:
            self._drop_orphan(bh)
        return remembered

    def _drop_orphan(self, block_hash: bytes) -> None:
        if self.store.has_orphan(block_hash):
            with self.store.transaction():
                self.store.delete_orphan(block_hash)

    def _mark_invalid(self, block_hash: bytes, reason: str) -> None:
        self.invalid[block_hash] = reason
        with self.store.transaction():
            self.store.put_invalid(block_hash, reason)


__all__ = ["StoreChoice"]
