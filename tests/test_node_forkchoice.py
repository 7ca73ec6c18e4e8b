"""The node's tip, UTXO set and block statuses equal the spec's fork choice after every step."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import pytest

from reference.node.node import Node
from spec.errors import DecodeError
from spec.chain.state import add_block, new_tree
from helpers import FORGERIES, forged_copy
from test_node_helpers import GENESIS, NOW, PARAMS, make_block


class NodeVsSpec(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="node-fc-")
        self.node = Node(self.dir, PARAMS, now=lambda: NOW)
        self.tree = new_tree(PARAMS)
        self.made = [GENESIS]          # every block built (delivered or not)
        self.undelivered: list = []
        self.delivered: list = []
        self.tag = 0

    def teardown(self) -> None:
        self.node.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(parent=st.integers(min_value=0), variant=st.sampled_from(["ok"] * 6 + ["bad_reward", "unknown_ref", "double_spend"]),
          deliver_now=st.booleans())
    def mine(self, parent: int, variant: str, deliver_now: bool) -> None:
        p = self.made[parent % len(self.made)]
        self.tag += 1
        b = make_block(p.hash(), p.header.height + 1, p.header.timestamp + 1, self.tag, variant)
        self.made.append(b)
        if deliver_now:
            self._deliver(b)
        else:
            self.undelivered.append(b)

    @precondition(lambda self: self.undelivered)
    @rule(i=st.integers(min_value=0))
    def deliver(self, i: int) -> None:
        self._deliver(self.undelivered.pop(i % len(self.undelivered)))

    @precondition(lambda self: self.delivered)
    @rule(i=st.integers(min_value=0))
    def redeliver(self, i: int) -> None:
        b = self.delivered[i % len(self.delivered)]
        self.tree, expected = add_block(self.tree, b, NOW)
        # a duplicate, unless the tree held a forged copy of it as an orphan and has since refused it
        assert expected == {b.hash(): "duplicate"} or self.tree.status(b.hash()) is not None
        assert self.node.submit_block(b.serialize()) == expected

    @precondition(lambda self: len(self.made) > 1)
    @rule(i=st.integers(min_value=0), how=st.sampled_from(FORGERIES))
    def forge(self, i: int, how: str) -> None:
        """A copy of a built block under its hash, corrupted where the hash does not reach: the node decides
        as the spec does, so the honest block is still taken when it comes (a refusal is not remembered)."""
        forged = forged_copy(self.made[1 + i % (len(self.made) - 1)], how)
        self.tree, expected = add_block(self.tree, forged, NOW)
        assert self.node.submit_block(forged.serialize()) == expected

    @precondition(lambda self: len(self.made) > 1)
    @rule(i=st.integers(min_value=0), cut=st.integers(min_value=1, max_value=400))
    def garbage(self, i: int, cut: int) -> None:
        raw = self.made[1 + i % (len(self.made) - 1)].serialize()
        with pytest.raises(DecodeError):
            self.node.submit_block(raw[:-cut] if cut < len(raw) else b"")

    def _deliver(self, b) -> None:
        self.tree, expected = add_block(self.tree, b, NOW)
        got = self.node.submit_block(b.serialize())
        self.delivered.append(b)
        assert got == expected

    @invariant()
    def same_as_spec(self) -> None:
        assert self.node.best_hash() == self.tree.best
        assert self.node.store.all_utxos() == dict(self.tree.tip_state.utxos)
        assert self.node.store.best_chain() == [h.hash for h in self.tree.tip_state.headers]
        for b in self.delivered:
            assert self.node.status(b.hash()) == self.tree.status(b.hash())


NodeVsSpec.TestCase.settings = settings(max_examples=30, stateful_step_count=30, deadline=None,
                                        suppress_health_check=list(HealthCheck))
TestNodeVsSpec = NodeVsSpec.TestCase
