"""What the devnet relies on from its arbiter processes, in isolation: ``arbiter_info`` reports exactly what
an arbiter stored (and still does after a restart, the store being SQLite), and the devnet's parallel start
of processes leaves none running when one of them fails to start."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W

from reference.devnet import procs
from reference.devnet import scenario as S
from reference.sidechain.arbiterd import ArbiterStore


def _payment(side_txid: bytes, amount: int) -> bytes:
    """A real unsigned WithdrawFromSideChain paying ``amount`` to bob's main address from one X output."""
    w = W.PendingWithdrawal(side_txid=side_txid, height=3,
                            entries=((S.address_of("bob-main")[0], amount, amount + 10_000),))
    x = SP.x_address(SP.side_genesis_block().hash())
    tx = W.withdrawal_payment(w, [(b"\x11" * 32, 0, 10**9)], x_address=x, exchange_rate=1.0)
    assert tx is not None
    return tx.serialize()


def test_progress_reports_what_is_stored_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "arbiter.sqlite"
    store = ArbiterStore(path)
    assert store.progress() == {"scanned": -1, "paid": {}, "signed": {}, "proposals": {}}
    a, b = b"\xaa" * 32, b"\xbb" * 32
    raw_a, raw_b = _payment(a, 40_000_000), _payment(b, 1_000)
    store.scan_block(101, [])
    store.record_signed(a, b"\x01" * 32)
    store.put_proposal(a, raw_a, raw_a, "sent")
    store.put_proposal(b, raw_b, None, "proposed")
    store.scan_block(102, [(a, b"\x02" * 32)])
    store.close()

    from spec.chain.tx import Transaction

    again = ArbiterStore(path)                                   # what a restarted process would report
    got = again.progress()
    again.close()
    assert got == {"scanned": 102, "paid": {a.hex(): (b"\x02" * 32)[::-1].hex()}, "signed": {a.hex(): "01" * 32},
                   "proposals": {a.hex(): {"state": "sent", "main_txid": Transaction.decode(raw_a).txid()[::-1].hex()},
                                 b.hex(): {"state": "proposed", "main_txid": None}}}


@settings(max_examples=25, deadline=None)
@given(rows=st.dictionaries(st.binary(min_size=32, max_size=32), st.sampled_from(["proposed", "signed", "sent"]),
                            max_size=5))
def test_progress_lists_every_proposal_with_its_state(tmp_path_factory: pytest.TempPathFactory,
                                                      rows: dict[bytes, str]) -> None:
    store = ArbiterStore(tmp_path_factory.mktemp("arb") / "arbiter.sqlite")
    try:
        for side_txid, state in rows.items():
            raw = _payment(side_txid, 5_000)
            store.put_proposal(side_txid, raw, None if state == "proposed" else raw, state)
        got = store.progress()["proposals"]
        assert {k: v["state"] for k, v in got.items()} == {k.hex(): v for k, v in rows.items()}
        assert all((v["main_txid"] is None) == (v["state"] == "proposed") for v in got.values())
    finally:
        store.close()


def test_a_failed_start_among_several_leaves_no_process(tmp_path: Path) -> None:
    net = S.Devnet(tmp_path, log=lambda s: None)
    with pytest.raises(RuntimeError, match="bad-arbiter did not start"):
        # an ID-chain service that starts, and an arbiter process missing its --datadir and --peers
        net.spawn_many({"idchain": ["idchain", "--datadir", str(tmp_path / "idchain")],
                        "bad-arbiter": ["arbiter", "--serve", "--main-rpc", "http://127.0.0.1:9", "--side-rpc",
                                        "http://127.0.0.1:9", "--key", str(tmp_path / "none.json"), "--miner", "x"]})
    pids = {n: p.pid for n, p in net.procs.items()}
    assert set(pids) == {"idchain", "bad-arbiter"}               # both named, so both stopped
    assert net.procs["idchain"].ready.get("rpc")
    assert (tmp_path / S.STATE_FILE).exists() and "bad-arbiter" in (tmp_path / S.STATE_FILE).read_text()
    net.stop()
    assert [n for n, pid in pids.items() if procs.alive(pid)] == []
