"""Scarce editions: a Hypothesis state machine sells copies at random among DIDs (with stale, foreign and
replayed transfers mixed in) and checks the spec against a plain model: every copy has exactly one owner,
an edition never has more than N owned copies, and may_access agrees with ownership."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spec.assets import editions as E
from spec.did import document as D
from spec.errors import Reject

from conformance.generators.assets import ALICE, BOB, EVE, ISSUER, WORK, _who, docs, ev, mint, transfer

PEOPLE = (ISSUER, ALICE, BOB, EVE)
COPIES = 3


class Editions(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.resolve = D.resolver_from_texts(docs())
        self.state = E.apply_edition(E.EMPTY_EDITIONS, mint(copies=COPIES, royalty=0), ev("m"), self.resolve)
        self.model_owner = {n: ISSUER for n in range(1, COPIES + 1)}
        self.model_last = {n: ev("m") for n in range(1, COPIES + 1)}
        self.count = 0

    @rule(number=st.integers(1, COPIES), seller=st.sampled_from(PEOPLE), buyer=st.sampled_from(PEOPLE),
          stale=st.booleans())
    def sell(self, number: int, seller: int, buyer: int, stale: bool) -> None:
        self.count += 1
        label = f"sm/{self.count}"
        previous = ev("m") if stale else self.model_last[number]
        req = transfer(seller, number, buyer, previous)
        ok = seller == self.model_owner[number] and previous == self.model_last[number] and buyer != seller
        try:
            self.state = E.apply_edition(self.state, req, ev(label), self.resolve)
        except Reject:
            assert not ok
            return
        assert ok
        self.model_owner[number] = buyer
        self.model_last[number] = ev(label)

    @rule(who=st.sampled_from(PEOPLE))
    def mint_again(self, who: int) -> None:
        try:
            E.apply_edition(self.state, mint(who, issuer=who), ev("again"), self.resolve)
        except Reject as e:
            assert e.rule in ("EDN-004",)
        else:
            raise AssertionError("a work was minted twice")

    @invariant()
    def owners_match(self) -> None:
        if not hasattr(self, "state"):
            return
        owners = [E.owner_of(self.state, WORK, n) for n in range(1, COPIES + 1)]
        assert owners == [_who(self.model_owner[n])[0] for n in range(1, COPIES + 1)]
        assert E.owner_of(self.state, WORK, COPIES + 1) is None  # never more than N copies
        for p in PEOPLE:
            did = _who(p)[0]
            held = E.copies_of(self.state, WORK, did)
            assert held == [n for n in range(1, COPIES + 1) if self.model_owner[n] == p]
            assert E.may_access(self.state, did, WORK) == bool(held)
        assert sum(len(E.copies_of(self.state, WORK, _who(p)[0])) for p in PEOPLE) == COPIES


TestEditions = Editions.TestCase
TestEditions.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)
