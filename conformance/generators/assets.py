"""Generators of the ``assets`` suite: scarce editions minted, sold, resold and refused.

DIDs are HD keys of the SDK's test mnemonic, their documents sealed with the spec's builder; event ids
derive from case labels. The story: an issuer mints 3 copies of a work with a 10% royalty, sells copy 1
to Alice, who resells it to Bob; every way to break that is refused with its rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from typing import Any

from spec.assets import editions as E
from spec.assets.registry import ISSUE_PLACEHOLDER
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import Asset, Input, OutPoint, Output, RegisterAssetPayload, TransferAssetPayload
from spec.did import builder as B
from spec.did import document as D
from spec.did import keys
from spec.did.syntax import parse_did_url
from spec.encoding.cbor import cbor_decode, cbor_encode
from spec.errors import Reason
from spec.sidechain.tx import SideTransaction, SideTxType

from conformance.generators.common import det_bytes
from conformance.generators.did_keys import TEST_MNEMONIC, TEST_PASSPHRASE
from conformance.vectors import CaseSpec, generator

OK = "ok"
NOW = 1_763_726_400
WORK = hashlib.sha256(b"The Elastos Manifesto, first edition").digest()
PAYOUT = bytes([0x21]) + det_bytes("assets/payout", 20)
ALL = tuple(f"EDN-{i:03d}" for i in range(1, 10))
"""The rules the mint-sell-resell story exercises (EDN-010, opening a work, has its own handler)."""


@cache
def _who(i: int) -> tuple[str, str, bytes, str]:
    """(DID, verification method, private key, document text) of HD index 20 + i."""
    k = keys.derive_did_key(TEST_MNEMONIC, TEST_PASSPHRASE, 20 + i)
    draft = B.primitive_draft(k.public_key)
    vm = f"{draft['id']}#primary"
    doc = B.seal_document(draft, now=NOW, signer=parse_did_url(vm), private_key=k.private_key)
    return draft["id"], vm, k.private_key, D.normalized(doc)


ISSUER, ALICE, BOB, EVE = 0, 1, 2, 3


def docs() -> dict[str, str]:
    return {_who(i)[0]: _who(i)[3] for i in range(4)}


def ev(label: str) -> bytes:
    return det_bytes(f"assets/event/{label}", 32)


def mint(who: int = ISSUER, *, issuer: int = ISSUER, work: bytes = WORK, copies: int = 3, royalty: int = 1000) -> bytes:
    body = E.Mint(work=work, title="The Elastos Manifesto", uri="hive://issuer/manifesto.pdf", copies=copies,
                  royalty=royalty, payout=PAYOUT, issuer=_who(issuer)[0])
    return E.sign_edition_request("mint", body, parse_did_url(_who(who)[1]), _who(who)[2])


def transfer(who: int, number: int, to: int, previous: bytes, price: int = 0, work: bytes = WORK) -> bytes:
    body = E.Transfer(work=work, number=number, to=_who(to)[0], price=price, previous=previous)
    return E.sign_edition_request("transfer", body, parse_did_url(_who(who)[1]), _who(who)[2])


def event(req: bytes, label: str, royalty_paid: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"request": req.hex(), "event": ev(label).hex()}
    if royalty_paid:
        out["outputs"] = [{"program_hash": PAYOUT.hex(), "value": str(royalty_paid)}]
    return out


def story() -> list[dict[str, Any]]:
    return [event(mint(), "mint"),
            event(transfer(ISSUER, 1, ALICE, ev("mint"), price=1000), "sale1", royalty_paid=100),
            event(transfer(ALICE, 1, BOB, ev("sale1"), price=5000), "resale", royalty_paid=500)]


SUBMITS: list[CaseSpec] = []


def case(name: str, events: list[dict[str, Any]], results: list[str], rules: tuple[str, ...], desc: str = "",
         access: list[list[str]] | None = None, expect: dict[str, Any] | None = None) -> CaseSpec:
    """An apply case; its last event also becomes a submit case (accepted or refused with its rule)."""
    last = results[-1]
    SUBMITS.append(CaseSpec(name, {"events": events[:-1], "event": events[-1], "documents": docs()},
                            OK if last == "ok" else Reason(last), rules, desc))
    inp: dict[str, Any] = {"events": events, "documents": docs()}
    if access is not None:
        inp["access"] = access
    return CaseSpec(name, inp, OK, rules, desc, expect_ok={"results": results, **(expect or {})})


@generator("assets", "assets.edition.apply")
def edition_cases() -> Iterator[CaseSpec]:
    s = story()
    w = WORK.hex()
    yield case("mint_sell_resell", s, ["ok", "ok", "ok"], ALL,
               "the issuer sells copy 1 to Alice (royalty 100 of 1,000), Alice resells it to Bob (royalty 500)",
               access=[[_who(BOB)[0], w], [_who(ALICE)[0], w], [_who(ISSUER)[0], w], [_who(EVE)[0], w]],
               expect={"owners": [[w, 1, _who(BOB)[0]], [w, 2, _who(ISSUER)[0]], [w, 3, _who(ISSUER)[0]]],
                       "access": [True, False, True, False]})
    yield case("double_sell_from_the_same_state", s + [event(transfer(ALICE, 1, EVE, ev("sale1")), "again")],
               ["ok", "ok", "ok", Reason.EDITION_NOT_OWNER.value], ("EDN-006",),
               "Alice no longer owns copy 1 after the resale")
    yield case("replayed_sale", s[:2] + [s[1]], ["ok", "ok", Reason.EDITION_NOT_OWNER.value], ("EDN-006",),
               "the issuer's sale replayed: the issuer no longer owns the copy")
    stale = transfer(ISSUER, 2, EVE, ev("sale1"))
    yield case("stale_previous", s[:2] + [event(stale, "stale")], ["ok", "ok", Reason.EDITION_STALE.value], ("EDN-007",),
               "copy 2's last event is the mint, not sale1")
    yield case("duplicate_mint", [event(mint(), "mint"), event(mint(), "mint2")], ["ok", Reason.EDITION_DUPLICATE.value],
               ("EDN-004",), "the same work cannot be minted twice, by anyone")
    yield case("mint_by_another_did", [event(mint(EVE, issuer=ISSUER), "mint")], [Reason.EDITION_NOT_ISSUER.value],
               ("EDN-003",), "Eve signs a mint naming the issuer")
    d = cbor_decode(mint())
    assert isinstance(d, dict)
    forged = cbor_encode({**d, "sig": bytes([d["sig"][0] ^ 1]) + d["sig"][1:]})
    yield case("forged_signature", [event(forged, "mint")], [Reason.EDITION_SIGNATURE.value], ("EDN-002",))
    other_key = cbor_encode({**d, "by": _who(EVE)[1]})
    yield case("signed_by_another_key", [event(other_key, "mint")], [Reason.EDITION_SIGNATURE.value], ("EDN-002",),
               "the issuer's signature under Eve's verification method")
    unknown = cbor_encode({**d, "by": "did:elastos:iUnknownDidThatNobodyPublished#primary"})
    yield case("signer_unknown", [event(unknown, "mint")], [Reason.EDITION_SIGNATURE.value], ("EDN-002",))
    yield case("copy_beyond_edition", [s[0], event(transfer(ISSUER, 4, ALICE, ev("mint")), "x")],
               ["ok", Reason.EDITION_UNKNOWN_COPY.value], ("EDN-005",), "N = 3")
    other = hashlib.sha256(b"another work").digest()
    yield case("unminted_work", [s[0], event(transfer(ISSUER, 1, ALICE, ev("mint"), work=other), "x")],
               ["ok", Reason.EDITION_UNKNOWN_COPY.value], ("EDN-005",))
    yield case("royalty_underpaid", [s[0], event(transfer(ISSUER, 1, ALICE, ev("mint"), price=1000), "sale1",
                                                 royalty_paid=99)],
               ["ok", Reason.EDITION_ROYALTY.value], ("EDN-008",), "10% of 1,000 is 100")
    yield case("gift_owes_no_royalty", [s[0], event(transfer(ISSUER, 2, ALICE, ev("mint")), "gift")], ["ok", "ok"],
               ("EDN-008",))
    yield case("royalty_rounds_down", [event(mint(royalty=333), "mint"),
                                       event(transfer(ISSUER, 1, ALICE, ev("mint"), price=1000), "s", royalty_paid=33)],
               ["ok", "ok"], ("EDN-008",), "3.33% of 1,000 is 33.3, rounded down")
    yield case("self_transfer", [s[0], event(transfer(ISSUER, 1, ISSUER, ev("mint")), "x")],
               ["ok", Reason.EDITION_SELF_TRANSFER.value], ("EDN-009",))
    yield case("one_copy_edition", [event(mint(copies=1), "mint"), event(transfer(ISSUER, 1, ALICE, ev("mint")), "s")],
               ["ok", "ok"], ("EDN-005",), access=[[_who(ISSUER)[0], w], [_who(ALICE)[0], w]],
               expect={"access": [False, True]})


@generator("assets", "assets.edition.submit")
def submit_cases() -> Iterator[CaseSpec]:
    SUBMITS.clear()
    list(edition_cases())
    yield from SUBMITS


@generator("assets", "assets.edition.open")
def open_cases() -> Iterator[CaseSpec]:
    """The Runtime's gate after the story (copy 1 sold to Alice, resold to Bob; copies 2 and 3 unsold)."""
    s, w = story(), WORK.hex()

    def opening(name: str, events: list[dict[str, Any]], who: int | str, want: Reason | str, desc: str,
                work: str = w) -> CaseSpec:
        did = _who(who)[0] if isinstance(who, int) else who
        return CaseSpec(name, {"events": events, "documents": docs(), "did": did, "work": work}, want, ("EDN-010",),
                        desc, expect_ok={"opened": True} if want == OK else None)

    yield opening("current_owner", s, BOB, OK, "Bob bought copy 1 in the resale")
    yield opening("issuer_with_unsold_copies", s, ISSUER, OK, "copies 2 and 3 are still the issuer's")
    yield opening("previous_owner", s, ALICE, Reason.EDITION_NOT_OWNER, "Alice sold copy 1 to Bob")
    yield opening("never_owner", s, EVE, Reason.EDITION_NOT_OWNER, "Eve never held a copy")
    yield opening("unminted_work", s, BOB, Reason.EDITION_NOT_OWNER, "nobody owns a copy of a work never minted",
                  work=hashlib.sha256(b"another work").hexdigest())
    yield opening("issuer_sold_out", [event(mint(copies=1), "mint"),
                                      event(transfer(ISSUER, 1, ALICE, ev("mint")), "s")],
                  ISSUER, Reason.EDITION_NOT_OWNER, "a one-copy edition given to Alice: the issuer holds none")


@generator("assets", "assets.edition.decode")
def decode_cases() -> Iterator[CaseSpec]:
    good = mint()
    yield CaseSpec("mint", {"request": good.hex()}, OK, ("EDN-001",), expect_ok={"op": "mint", "work": WORK.hex()})
    yield CaseSpec("transfer", {"request": transfer(ISSUER, 1, ALICE, ev("mint")).hex()}, OK, ("EDN-001",))
    d = cbor_decode(good)
    assert isinstance(d, dict)

    def variant(name: str, change: Any, reason: Reason = Reason.EDITION_MALFORMED, rules: tuple[str, ...] = ("EDN-001",),
                desc: str = "") -> CaseSpec:
        v = {**d, "body": dict(d["body"])}
        change(v)
        return CaseSpec(name, {"request": cbor_encode(v).hex()}, reason, rules, desc)

    yield variant("wrong_spec", lambda v: v.update(spec="elastos/edition/2.0"))
    yield variant("unknown_op", lambda v: v.update(op="burn"))
    yield variant("extra_member", lambda v: v.update(extra=1))
    yield variant("missing_body_member", lambda v: v["body"].pop("royalty"))
    yield variant("zero_copies", lambda v: v["body"].update(copies=0))
    yield variant("too_many_copies", lambda v: v["body"].update(copies=E.MAX_COPIES + 1))
    yield variant("royalty_above_half", lambda v: v["body"].update(royalty=5001))
    yield variant("work_31_bytes", lambda v: v["body"].update(work=WORK[:31]))
    yield variant("copies_as_text", lambda v: v["body"].update(copies="3"))
    yield variant("issuer_not_a_did", lambda v: v["body"].update(issuer="alice"))
    yield variant("signer_without_fragment", lambda v: v.update(by=_who(ISSUER)[0]))
    yield variant("short_signature", lambda v: v.update(sig=v["sig"][:63]))
    yield CaseSpec("not_cbor_map", {"request": cbor_encode([1, 2]).hex()}, Reason.EDITION_MALFORMED, ("EDN-001",))
    yield CaseSpec("non_canonical_cbor", {"request": "1800"},
                   Reason.CBOR_NON_SHORTEST, ("CBOR-001",), "the bytes are deterministic CBOR first")


# -- registered assets ---------------------------------------------------------------------------------------

def _register_tx(amount: int = 1_000_000 * 10**4, precision: int = 4, issued: list[tuple[bytes, int]] | None = None,
                 fee_outputs: tuple = ()) -> SideTransaction:
    payload = RegisterAssetPayload(asset=Asset(name=b"MANIFESTO", description=b"tokens of the manifesto",
                                               precision=precision, asset_type=0, record_type=0),
                                   amount=amount, controller=PAYOUT)
    outs = tuple(Output(asset_id=ISSUE_PLACEHOLDER, value=v, output_lock=0, program_hash=ph)
                 for ph, v in (issued if issued is not None else [(PAYOUT, amount)]))
    return SideTransaction(tx_type=SideTxType.REGISTER_ASSET, payload=payload,
                           inputs=(Input(previous=OutPoint(txid=det_bytes("assets/reg/in", 32), index=0),
                                         sequence=0xFFFF_FFFF),), outputs=outs + tuple(fee_outputs))


@generator("assets", "assets.register.check")
def register_cases() -> Iterator[CaseSpec]:
    good = _register_tx()
    yield CaseSpec("token_issued_to_controller", {"tx": good.serialize().hex()}, OK, ("AST-001", "AST-002", "AST-003"),
                   "1,000,000.0000 units at precision 4 to the controller",
                   expect_ok={"asset_id": good.txid().hex(), "issued": [[0, str(10**10)]]})
    split = _register_tx(issued=[(PAYOUT, 4 * 10**9), (PAYOUT, 6 * 10**9)])
    yield CaseSpec("issued_in_two_outputs", {"tx": split.serialize().hex()}, OK, ("AST-003",))
    yield CaseSpec("precision_zero_share", {"tx": _register_tx(amount=10**8 * 7, precision=0).serialize().hex()}, OK,
                   ("AST-001", "AST-002"), "7 indivisible shares are 7 * 10^8 base units")
    yield CaseSpec("precision_nine", {"tx": _register_tx(precision=9).serialize().hex()}, Reason.ASSET_PRECISION,
                   ("AST-001",))
    yield CaseSpec("amount_not_whole_units", {"tx": _register_tx(amount=10**10 + 1).serialize().hex()},
                   Reason.ASSET_AMOUNT, ("AST-002",), "precision 4: multiples of 10^4")
    yield CaseSpec("amount_zero", {"tx": _register_tx(amount=0, issued=[]).serialize().hex()}, Reason.ASSET_AMOUNT,
                   ("AST-002",))
    yield CaseSpec("issued_too_much", {"tx": _register_tx(issued=[(PAYOUT, 10**10 + 10**4)]).serialize().hex()},
                   Reason.ASSET_ISSUANCE, ("AST-003",))
    yield CaseSpec("issued_to_another", {"tx": _register_tx(issued=[(bytes([0x21]) + bytes(20), 10**10)]).serialize().hex()},
                   Reason.ASSET_ISSUANCE, ("AST-003",))


@generator("assets", "assets.balance.check")
def balance_cases() -> Iterator[CaseSpec]:
    token = det_bytes("assets/token", 32)
    ela = ELA_ASSET_ID

    def tx(outs: list[tuple[bytes, int]]) -> str:
        return SideTransaction(tx_type=SideTxType.TRANSFER_ASSET, payload=TransferAssetPayload(),
                               inputs=(Input(previous=OutPoint(txid=det_bytes("assets/b/in", 32), index=0),
                                             sequence=0xFFFF_FFFF),),
                               outputs=tuple(Output(asset_id=a, value=v, output_lock=0, program_hash=PAYOUT)
                                             for a, v in outs)).serialize().hex()

    def refs(pairs: list[tuple[bytes, int]]) -> list[dict[str, str]]:
        return [{"asset_id": a.hex(), "value": str(v)} for a, v in pairs]

    assets = {token.hex(): 4}
    yield CaseSpec("two_assets_each_pays_its_fee", {"tx": tx([(token, 50_000), (ela, 9_900)]),
                                                    "references": refs([(token, 60_000), (ela, 10_000)]),
                                                    "assets": assets}, OK,
                   ("AST-004", "AST-005", "AST-006"), "Quirk: the token owes 100 base units of itself as fee",
                   expect_ok={"fees": {ela.hex(): "100", token.hex(): "10000"}})
    yield CaseSpec("token_fee_below_minimum", {"tx": tx([(token, 60_000), (ela, 9_900)]),
                                               "references": refs([(token, 60_000), (ela, 10_000)]), "assets": assets},
                   Reason.ASSET_FEE, ("AST-006",), "the whole token input is passed on: no token fee is left")
    yield CaseSpec("unregistered_asset", {"tx": tx([(det_bytes("assets/other", 32), 10_000)]),
                                          "references": refs([(ela, 20_000)]), "assets": assets},
                   Reason.ASSET_UNKNOWN, ("AST-004",))
    yield CaseSpec("value_not_whole_units", {"tx": tx([(token, 50_001)]), "references": refs([(token, 60_000)]),
                                             "assets": assets}, Reason.ASSET_UNKNOWN, ("AST-004",),
                   "precision 4: multiples of 10^4")
    yield CaseSpec("negative_output", {"tx": tx([(ela, -100)]), "references": refs([(ela, 10_000)]), "assets": {}},
                   Reason.ASSET_NEGATIVE, ("AST-005",))
    yield CaseSpec("asset_created_from_nothing", {"tx": tx([(token, 10_000), (ela, 9_900)]),
                                                  "references": refs([(ela, 10_000)]), "assets": assets},
                   Reason.ASSET_FEE, ("AST-006",), "a token output without a token input has a negative fee")
