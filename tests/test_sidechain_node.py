"""The ID sidechain for real: a main node and a sidechain node on loopback JSON-RPC, an arbiter merge-mining
both and relaying a deposit, a DID registered and an edition minted with the deposited ELA, and a restart
that keeps everything. Outcomes are read back through the nodes' RPC."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from spec.assets import editions as E
from spec.chain.builder import sign_standard
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import CrossChainEntry, Input, OutPoint, Output, RecordPayload, Transaction, TransferCrossChainAssetPayload, TxType
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import standard_redeem_script
from spec.did import builder as B
from spec.did import document as D
from spec.did import keys as K
from spec.did import request as R
from spec.did.syntax import parse_did_url
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain import params as SP
from spec.sidechain.tx import RegisterDIDPayload, SideTransaction, SideTxType
from spec.sidechain.validation import EDITION_RECORD_TYPE

from reference.node.rpc import RpcClient, RpcError, from_display
from reference.sidechain.devnet import FUNDING, FUNDING_KEY, NOW, SideDevnet

MNEMONIC = "amateur file dignity extend cabin jaguar early electric ask video happy access"
MINER = FUNDING
KEY = FUNDING_KEY
Net = SideDevnet


@pytest.fixture()
def net(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = Net(tmp_path)
    yield n
    n.close()


def test_deposit_did_and_edition_on_a_merge_mined_sidechain(net: Net) -> None:
    miner = address_from_program_hash(Uint168(data=MINER))
    side = RpcClient(net.side_url)

    # merged mining: one Bitcoin parent header proves a main block and a sidechain block
    r = net.arbiter.merge_mine(miner)
    assert r["side_height"] == 1 and side.call("getblockcount") == 2

    # a deposit on the main chain (payload v0 at this height) to the sidechain's X address
    x_ph = SP.genesis_program_hash(SP.side_genesis_block().hash())
    user_key = hashlib.sha256(b"side user").digest()
    user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
    user_addr = address_from_program_hash(Uint168(data=user_ph))
    cb = net.main.store.block(net.main.store.hash_at(1)).transactions[0]
    dep = Transaction(version=0x09, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=0,
                      payload=TransferCrossChainAssetPayload(entries=(CrossChainEntry(
                          address=user_addr.encode(), output_index=0, amount=10**8),)),
                      inputs=(Input(previous=OutPoint(txid=cb.txid(), index=1), sequence=0xFFFF_FFFF),),
                      outputs=(Output(asset_id=ELA_ASSET_ID, value=10**8 + 10_000, output_lock=0, program_hash=x_ph),
                               Output(asset_id=ELA_ASSET_ID, value=cb.outputs[1].value - 10**8 - 20_000,
                                      output_lock=0, program_hash=MINER)))
    dep = sign_standard(dep, [KEY])
    RpcClient(net.main_url).call("sendrawtransaction", dep.serialize().hex())
    net.arbiter.merge_mine(miner)                       # the deposit is mined on the main chain
    assert net.arbiter.relay_deposits()                  # the arbiter submits the recharge
    assert net.arbiter.relay_deposits() == []            # scanning again relays nothing twice
    net.arbiter.merge_mine(miner)                       # ... which the next sidechain block credits
    funds = side.call("listunspent", {"addresses": [user_addr]})
    assert [(f["sela"], f["ela"]) for f in funds] == [(str(10**8), True)]

    # a DID registered on the sidechain, paid for with the deposited ELA
    k = K.derive_did_key(MNEMONIC, "secret", 0)
    draft = B.primitive_draft(k.public_key)
    signer = parse_did_url(f"{draft['id']}#primary")
    doc = B.seal_document(draft, now=NOW, signer=signer, private_key=k.private_key)
    req = R.build_request("create", D.normalized(doc), signer, k.private_key)
    funding = from_display(funds[0]["txid"])
    reg = SideTransaction(tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(req),
                          inputs=(Input(previous=OutPoint(txid=funding, index=funds[0]["vout"]), sequence=0xFFFF_FFFF),),
                          outputs=(Output(asset_id=ELA_ASSET_ID, value=10**8 - 1000, output_lock=0,
                                          program_hash=user_ph),))
    reg = sign_standard(reg, [user_key])
    side.call("sendrawtransaction", {"data": reg.serialize().hex()})
    net.arbiter.merge_mine(miner)
    resolved = side.call("did_resolveDID", {"did": draft["id"], "all": True})
    assert resolved["status"] == 0 and resolved["transaction"][0]["txid"] == reg.txid().hex()

    # an edition minted by that DID, carried in a Record transaction
    work = hashlib.sha256(b"a work").digest()
    mint = E.sign_edition_request("mint", E.Mint(work=work, title="t", uri="u", copies=2, royalty=0,
                                                 payout=user_ph, issuer=draft["id"]), signer, k.private_key)
    rec = SideTransaction(tx_type=SideTxType.RECORD, payload=RecordPayload(type=EDITION_RECORD_TYPE, content=mint),
                          inputs=(Input(previous=OutPoint(txid=reg.txid(), index=0), sequence=0xFFFF_FFFF),),
                          outputs=(Output(asset_id=ELA_ASSET_ID, value=10**8 - 2000, output_lock=0,
                                          program_hash=user_ph),))
    side.call("sendrawtransaction", {"data": sign_standard(rec, [user_key]).serialize().hex()})
    net.arbiter.merge_mine(miner)
    assert side.call("edition_owner", {"work": work.hex(), "number": 2}) == draft["id"]
    assert side.call("edition_canopen", {"did": draft["id"], "work": work.hex()}) is True

    # a double spend of the spent deposit output is refused with its reason; nothing changes
    with pytest.raises(RpcError) as e:
        side.call("sendrawtransaction", {"data": sign_standard(reg.model_copy(update={"outputs": (
            Output(asset_id=ELA_ASSET_ID, value=1, output_lock=0, program_hash=user_ph),)}), [user_key]).serialize().hex()})
    assert e.value.reason == "TX_UNKNOWN_REFERENCE"

    # a restart keeps blocks, UTXOs, the DID and the edition
    height = side.call("getblockcount")
    net.stop_side()
    net.start_side()
    side = RpcClient(net.side_url)
    assert side.call("getblockcount") == height
    assert side.call("did_resolveDID", {"did": draft["id"]})["status"] == 0
    assert side.call("edition_canopen", {"did": draft["id"], "work": work.hex()}) is True
    assert side.call("listunspent", {"addresses": [user_addr]})[0]["sela"] == str(10**8 - 2000)


def test_a_kill_between_the_two_stores_is_caught_up_on_start(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sidechain store commits a block, then the process dies before the DID store does: the next start
    replays that block's DID requests, exactly once."""
    miner = address_from_program_hash(Uint168(data=MINER))
    side = RpcClient(net.side_url)
    x_ph = SP.genesis_program_hash(SP.side_genesis_block().hash())
    user_key = hashlib.sha256(b"kill user").digest()
    user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
    user_addr = address_from_program_hash(Uint168(data=user_ph))
    cb = net.main.store.block(net.main.store.hash_at(1)).transactions[0]
    dep = sign_standard(Transaction(
        version=0x09, tx_type=TxType.TRANSFER_CROSS_CHAIN_ASSET, payload_version=0,
        payload=TransferCrossChainAssetPayload(entries=(CrossChainEntry(address=user_addr.encode(), output_index=0,
                                                                        amount=10**8),)),
        inputs=(Input(previous=OutPoint(txid=cb.txid(), index=1), sequence=0xFFFF_FFFF),),
        outputs=(Output(asset_id=ELA_ASSET_ID, value=10**8 + 10_000, output_lock=0, program_hash=x_ph),
                 Output(asset_id=ELA_ASSET_ID, value=cb.outputs[1].value - 10**8 - 20_000, output_lock=0,
                        program_hash=MINER))), [KEY])
    RpcClient(net.main_url).call("sendrawtransaction", dep.serialize().hex())
    net.arbiter.merge_mine(miner)
    net.arbiter.relay_deposits()
    net.arbiter.merge_mine(miner)
    fund = side.call("listunspent", {"addresses": [user_addr]})[0]
    k = K.derive_did_key(MNEMONIC, "secret", 3)
    draft = B.primitive_draft(k.public_key)
    signer = parse_did_url(f"{draft['id']}#primary")
    req = R.build_request("create", D.normalized(B.seal_document(draft, now=NOW, signer=signer, private_key=k.private_key)),
                          signer, k.private_key)
    reg = sign_standard(SideTransaction(
        tx_type=SideTxType.REGISTER_DID, payload=RegisterDIDPayload.from_request(req),
        inputs=(Input(previous=OutPoint(txid=from_display(fund["txid"]), index=fund["vout"]), sequence=0xFFFF_FFFF),),
        outputs=(Output(asset_id=ELA_ASSET_ID, value=10**8 - 1000, output_lock=0, program_hash=user_ph),)), [user_key])
    side.call("sendrawtransaction", {"data": reg.serialize().hex()})

    real = net.side.did.submit_block

    def dies_after_the_side_store(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("dry_run"):
            return real(*args, **kwargs)
        raise OSError("the process died between the two stores")

    monkeypatch.setattr(net.side.did, "submit_block", dies_after_the_side_store)
    with pytest.raises(RpcError):
        net.arbiter.merge_mine(miner)
    monkeypatch.undo()
    height = net.side.height()
    assert net.side.did.tip()[0] < height                     # the DID store is behind
    net.stop_side()
    net.start_side()                                          # catch-up on start
    side = RpcClient(net.side_url)
    resolved = side.call("did_resolveDID", {"did": draft["id"], "all": True})
    assert resolved["status"] == 0 and [t["txid"] for t in resolved["transaction"]] == [reg.txid().hex()]
    net.stop_side()
    net.start_side()                                          # and a second start replays nothing twice
    assert RpcClient(net.side_url).call("did_resolveDID", {"did": draft["id"], "all": True})["transaction"][0]["txid"] \
        == reg.txid().hex()


def test_withdrawal_back_to_the_main_chain_is_paid_once(net: Net) -> None:
    """A sidechain withdrawal burns ELA; the arbiters pay it on the main chain from the X address with their
    2-of-3 cross-chain script; the main chain refuses to pay it a second time (TXC-024)."""
    from spec.chain.tx import CrossChainEntry as Entry, TransferCrossChainAssetPayload as Payload
    miner = address_from_program_hash(Uint168(data=MINER))
    side = RpcClient(net.side_url)
    main = RpcClient(net.main_url)
    user_key = hashlib.sha256(b"withdraw user").digest()
    user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
    user_addr = address_from_program_hash(Uint168(data=user_ph))
    target_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(b"\x05" * 32))).data
    target = address_from_program_hash(Uint168(data=target_ph))
    net.deposit(user_addr, 10**8)
    for _ in range(2):
        net.arbiter.relay_deposits()
        net.arbiter.merge_mine(miner)
    fund = side.call("listunspent", {"addresses": [user_addr]})[0]
    burn = sign_standard(SideTransaction(
        tx_type=SideTxType.TRANSFER_CROSS_CHAIN_ASSET,
        payload=Payload(entries=(Entry(address=target.encode(), output_index=0, amount=40_000_000),)),
        inputs=(Input(previous=OutPoint(txid=from_display(fund["txid"]), index=fund["vout"]), sequence=0xFFFF_FFFF),),
        outputs=(Output(asset_id=ELA_ASSET_ID, value=40_010_000, output_lock=0, program_hash=bytes(21)),
                 Output(asset_id=ELA_ASSET_ID, value=10**8 - 40_020_000, output_lock=0, program_hash=user_ph))),
        [user_key])
    side.call("sendrawtransaction", {"data": burn.serialize().hex()})
    net.arbiter.merge_mine(miner)                       # the burn is in a sidechain block
    assert [w["txid"] for w in side.call("getwithdraws")] == [burn.txid().hex()]
    assert net.arbiter.relay_withdrawals() == []         # ARB-005: 1 of 2 confirmations, not paid yet
    net.arbiter.merge_mine(miner)                       # a block on top of the burn's
    assert len(net.arbiter.relay_withdrawals()) == 1    # the arbiters' transaction enters the main pool
    assert net.arbiter.relay_withdrawals() == []         # the same transaction again: still waiting
    net.arbiter.merge_mine(miner)                       # ... and is mined
    paid = main.call("listunspent", addresses=[target])
    assert [p["amount"] for p in paid] == ["0.40000000"]
    assert net.arbiter.relay_withdrawals() == []         # TXC-024: the main chain refuses to pay it twice
    assert side.call("getwithdraws") == []               # ... and the sidechain records it paid
    net.arbiter.merge_mine(miner)
    assert [p["amount"] for p in main.call("listunspent", addresses=[target])] == ["0.40000000"]


@pytest.mark.parametrize("rate", [2.0, 0.3])
def test_a_withdrawal_at_another_rate_takes_what_its_burn_is_worth(tmp_path: Path, rate: float) -> None:
    """At exchange rate 2 or 0.3 (a main node, a sidechain node with that rate and the arbiter, on loopback): a
    deposit is credited at the rate; a burn is paid with the spec's payout and fee (ARB-003); the X address
    then holds the deposit minus what the burn is worth on the main chain within a sela, and at least the
    sidechain's supply over the rate."""
    from fractions import Fraction

    from spec.sidechain import crosschain as X
    from spec.sidechain import withdrawal as W
    from spec.chain.tx import CrossChainEntry as Entry, TransferCrossChainAssetPayload as Payload
    from reference.sidechain.arbiter import _sela
    from reference.sidechain.devnet import SIDE_PARAMS

    n = Net(tmp_path, side_params=SIDE_PARAMS.model_copy(update={"exchange_rate": rate}))
    try:
        miner = address_from_program_hash(Uint168(data=MINER))
        side, main = RpcClient(n.side_url), RpcClient(n.main_url)
        user_key = hashlib.sha256(b"rate user").digest()
        user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
        user_addr = address_from_program_hash(Uint168(data=user_ph))
        target = address_from_program_hash(Uint168.from_code(0x21, standard_redeem_script(
            public_key_from_private(b"\x06" * 32))))
        deposit = 10**8
        n.deposit(user_addr, deposit)
        for _ in range(2):
            n.arbiter.relay_deposits()
            n.arbiter.merge_mine(miner)
        credited = X.convert(deposit, rate)
        fund = side.call("listunspent", {"addresses": [user_addr]})
        assert [int(f["sela"]) for f in fund] == [credited]
        ask, burned = credited // 2 + 1, credited // 2 + 29_999       # odd amounts: each conversion truncates
        burn = sign_standard(SideTransaction(
            tx_type=SideTxType.TRANSFER_CROSS_CHAIN_ASSET,
            payload=Payload(entries=(Entry(address=target.encode(), output_index=0, amount=ask),)),
            inputs=(Input(previous=OutPoint(txid=from_display(fund[0]["txid"]), index=fund[0]["vout"]),
                          sequence=0xFFFF_FFFF),),
            outputs=(Output(asset_id=ELA_ASSET_ID, value=burned, output_lock=0, program_hash=bytes(21)),
                     Output(asset_id=ELA_ASSET_ID, value=credited - burned - 10_000, output_lock=0,
                            program_hash=user_ph))), [user_key])
        side.call("sendrawtransaction", {"data": burn.serialize().hex()})
        for _ in range(2):
            n.arbiter.merge_mine(miner)
        assert side.call("getwithdraws")[0]["entries"] == [[target, str(ask), str(burned)]]
        assert len(n.arbiter.relay_withdrawals()) == 1
        n.arbiter.merge_mine(miner)
        assert n.arbiter.relay_withdrawals() == []           # not paid twice: the arbiter read the payment's block
        assert side.call("getwithdraws") == []                 # ... and marked it withdrawn on the sidechain
        n.arbiter.merge_mine(miner)
        w = W.PendingWithdrawal(side_txid=burn.txid(), height=0, entries=((target, ask, burned),))
        paid = [_sela(p["amount"]) for p in main.call("listunspent", addresses=[target])]
        x = SP.x_address(SP.side_genesis_block().hash())
        x_total = sum(_sela(u["amount"]) for u in main.call("listunspent", addresses=[x]))
        assert paid == [W.payout(ask, rate)]
        taken = deposit + n.side_params.min_cross_chain_tx_fee - x_total
        assert taken == W.payout(ask, rate) + W.withdrawal_fee(w, rate)
        worth = Fraction(burned) / Fraction(rate)
        assert worth - 2 < taken < worth + 1
        assert x_total >= Fraction(credited - burned) / Fraction(rate)   # X covers the sidechain's supply
    finally:
        n.close()


def test_an_edition_minted_sold_and_resold_through_the_node(net: Net) -> None:
    """Three DIDs registered on the sidechain; the issuer mints 2 copies with a 10% royalty, sells copy 1 to a
    buyer, who resells it; the royalty outputs pay the issuer; a second sale from the same state is refused."""
    miner = address_from_program_hash(Uint168(data=MINER))
    side = RpcClient(net.side_url)
    user_key = hashlib.sha256(b"edition funds").digest()
    user_ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(user_key))).data
    user_addr = address_from_program_hash(Uint168(data=user_ph))
    payout = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(b"\x09" * 32))).data
    net.deposit(user_addr, 10**8)
    for _ in range(2):
        net.arbiter.relay_deposits()
        net.arbiter.merge_mine(miner)
    fund = side.call("listunspent", {"addresses": [user_addr]})[0]
    prev = [(from_display(fund["txid"]), fund["vout"], int(fund["sela"]))]

    def spend(tx_type: SideTxType, payload: object, extra: tuple[Output, ...] = ()) -> SideTransaction:
        txid, n, value = prev[0]
        paid = sum(o.value for o in extra)
        tx = sign_standard(SideTransaction(
            tx_type=tx_type, payload=payload, inputs=(Input(previous=OutPoint(txid=txid, index=n), sequence=0xFFFF_FFFF),),
            outputs=(Output(asset_id=ELA_ASSET_ID, value=value - 1000 - paid, output_lock=0, program_hash=user_ph),
                     *extra)), [user_key])
        prev[0] = (tx.txid(), 0, value - 1000 - paid)
        side.call("sendrawtransaction", {"data": tx.serialize().hex()})
        return tx

    people = []
    for i in (10, 11, 12):
        k = K.derive_did_key(MNEMONIC, "secret", i)
        draft = B.primitive_draft(k.public_key)
        signer = parse_did_url(f"{draft['id']}#primary")
        doc = B.seal_document(draft, now=NOW, signer=signer, private_key=k.private_key)
        spend(SideTxType.REGISTER_DID, RegisterDIDPayload.from_request(
            R.build_request("create", D.normalized(doc), signer, k.private_key)))
        people.append((draft["id"], signer, k.private_key))
    net.arbiter.merge_mine(miner)
    (issuer, isig, ikey), (buyer, bsig, bkey), (third, _, _) = people

    work = hashlib.sha256(b"limited edition").digest()
    mint = spend(SideTxType.RECORD, RecordPayload(type=EDITION_RECORD_TYPE, content=E.sign_edition_request(
        "mint", E.Mint(work=work, title="t", uri="hive://issuer/t", copies=2, royalty=1000, payout=payout,
                       issuer=issuer), isig, ikey)))
    net.arbiter.merge_mine(miner)
    royalty = (Output(asset_id=ELA_ASSET_ID, value=100, output_lock=0, program_hash=payout),)
    sale = spend(SideTxType.RECORD, RecordPayload(type=EDITION_RECORD_TYPE, content=E.sign_edition_request(
        "transfer", E.Transfer(work=work, number=1, to=buyer, price=1000, previous=mint.txid()), isig, ikey)), royalty)
    net.arbiter.merge_mine(miner)
    assert side.call("edition_owner", {"work": work.hex(), "number": 1}) == buyer
    resale_royalty = (Output(asset_id=ELA_ASSET_ID, value=500, output_lock=0, program_hash=payout),)
    spend(SideTxType.RECORD, RecordPayload(type=EDITION_RECORD_TYPE, content=E.sign_edition_request(
        "transfer", E.Transfer(work=work, number=1, to=third, price=5000, previous=sale.txid()), bsig, bkey)),
        resale_royalty)
    net.arbiter.merge_mine(miner)
    assert side.call("edition_owner", {"work": work.hex(), "number": 1}) == third
    assert side.call("edition_canopen", {"did": third, "work": work.hex()}) is True
    assert side.call("edition_canopen", {"did": buyer, "work": work.hex()}) is False
    with pytest.raises(RpcError) as e:  # the buyer sells the copy again from the state before the resale
        spend(SideTxType.RECORD, RecordPayload(type=EDITION_RECORD_TYPE, content=E.sign_edition_request(
            "transfer", E.Transfer(work=work, number=1, to=issuer, price=0, previous=sale.txid()), bsig, bkey)))
    assert e.value.reason == "EDITION_NOT_OWNER"
    payouts = side.call("listunspent", {"addresses": [address_from_program_hash(Uint168(data=payout))]})
    assert sorted(int(p["sela"]) for p in payouts) == [100, 500]
