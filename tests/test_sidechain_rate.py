"""A sidechain at another exchange rate: ``elastos sidechain --exchange-rate`` and ``elastos arbiter
--exchange-rate``. The option takes exactly the positive finite numbers; a node keeps the rate its store was
written at and reports it (``getexchangerate``); an arbiter whose node reports another rate refuses to start,
relay, pay or sign; and end to end at rate 2, with a sidechain node process and three arbiter processes, a
deposit is credited ``Fixed64(float64(amount) * 2)``, a withdrawal is paid ``Fixed64(float64(ask) / 2)``
and the X address keeps covering the sidechain's supply over the rate within the proved bound."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import sqlite3
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.assets import ERROR_BOUND
from spec.chain.params import ELA_ASSET_ID
from spec.chain.tx import TxType
from spec.crypto.p256 import public_key_from_private
from spec.crypto.scripts import standard_redeem_script
from spec.encoding.address import address_from_program_hash
from spec.encoding.hashes import Uint168
from spec.sidechain import crosschain as X
from spec.sidechain import params as SP
from spec.sidechain import withdrawal as W

from reference.node.rpc import RpcClient, RpcError, from_display
from reference.sidechain.arbiter import Arbiter, ExchangeRateMismatch, _sela
from reference.sidechain.arbiterd import ArbiterDaemon
from reference.sidechain.devnet import FUNDING, SIDE_PARAMS, SideDevnet
from reference.sidechain.node import RpcMainView, SideNode
from reference.sidechain.store import SideStoreError
from helpers import side_burn, wait_for

MINER = address_from_program_hash(Uint168(data=FUNDING))
FEE = SIDE_PARAMS.min_cross_chain_tx_fee
X_PH = SP.genesis_program_hash(SP.side_genesis_block().hash())
X_ADDRESS = SP.x_address(SP.side_genesis_block().hash())


def _addr(seed: bytes) -> tuple[bytes, bytes, str]:
    key = hashlib.sha256(seed).digest()
    ph = Uint168.from_code(0x21, standard_redeem_script(public_key_from_private(key))).data
    return key, ph, address_from_program_hash(Uint168(data=ph))


# -- the option -------------------------------------------------------------------------------------------

_COMMANDS = {"sidechain": ["sidechain", "--datadir", "d", "--main-rpc", "http://127.0.0.1:1"],
             "arbiter": ["arbiter", "--main-rpc", "m", "--side-rpc", "s", "--key", "k", "--miner", "a"]}


@pytest.mark.parametrize("command", sorted(_COMMANDS))
@pytest.mark.parametrize("bad", ["0", "-2", "nan", "inf", "-inf", "two"])
def test_the_exchange_rate_option_refuses_what_is_not_positive_and_finite(command: str, bad: str,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from reference.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*_COMMANDS[command], "--exchange-rate", bad])
    assert info.value.code == 2 and "--exchange-rate" in capsys.readouterr().err
    assert build_parser().parse_args([*_COMMANDS[command], "--exchange-rate", "0.5"]).exchange_rate == 0.5
    assert build_parser().parse_args(_COMMANDS[command]).exchange_rate is None      # the network's


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                       st.text(max_size=8)))
def test_the_exchange_rate_is_exactly_the_positive_finite_numbers(value: object) -> None:
    """Generated values, for both commands and for the spec's :func:`spec.sidechain.params.with_exchange_rate`:
    a positive finite number is taken as that float64, anything else refused (a usage error, exit 2; a
    ``ValueError``)."""
    from reference.cli import build_parser

    text = str(value)
    try:
        number: float | None = float(text)
    except ValueError:
        number = None
    ok = number is not None and math.isfinite(number) and number > 0
    for command in _COMMANDS.values():
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                args = build_parser().parse_args([*command, "--exchange-rate", text])
            except SystemExit as e:
                assert not ok and e.code == 2, text
                continue
        assert ok and args.exchange_rate == number, text
    if number is not None:
        try:
            params = SP.with_exchange_rate(SIDE_PARAMS, number)
        except ValueError:
            assert not ok, text
        else:
            assert ok and params.exchange_rate == number and params.model_copy(update={"exchange_rate": 1.0}) == \
                SIDE_PARAMS, text


# -- node and arbiter agree -------------------------------------------------------------------------------

def test_a_node_keeps_its_rate_and_an_arbiter_at_another_one_does_nothing(tmp_path: Path) -> None:
    """A node at rate 2 answers ``getexchangerate`` with 2.0; reopened at 1 its store refuses (its credits were
    made at 2), and stays usable at 2. An arbiter at rate 1 neither relays the deposit nor pays anything,
    raising :class:`ExchangeRateMismatch`, and an arbiter process's round and signature likewise; the arbiter at
    rate 2 relays it."""
    rate = 2.0
    net = SideDevnet(tmp_path, side_params=SP.with_exchange_rate(SIDE_PARAMS, rate))
    try:
        side = RpcClient(net.side_url)
        assert side.call("getexchangerate") == rate
        net.stop_side()
        with pytest.raises(SideStoreError, match="exchange rate 2.0, not 1.0"):
            SideNode(net.root / "side", RpcMainView(net.main_url), SIDE_PARAMS)
        net.start_side()
        side = RpcClient(net.side_url)
        _, _, user = _addr(b"rate mismatch user")
        net.deposit(user, 10**8)
        net.arbiter.merge_mine(MINER)
        wrong = Arbiter(net.main_url, net.side_url, net.arbiter_keys, net.main_params, SIDE_PARAMS,
                        tmp_path / "wrong.json")
        for step in (wrong.relay_deposits, wrong.relay_withdrawals):
            with pytest.raises(ExchangeRateMismatch, match="2.0.*1.0"):
                step()
        assert not (tmp_path / "wrong.json").exists()            # it stored nothing, not even a height
        daemon = ArbiterDaemon(net.arbiter_keys[0], net.main_url, net.side_url, net.main_params, SIDE_PARAMS,
                               tmp_path / "wrong-daemon", tmp_path / "peers", MINER)
        try:                                                     # an arbiter process: no round, no signature
            payment = W.withdrawal_payment(W.PendingWithdrawal(side_txid=bytes(32), height=1, entries=(
                (user, 1000, 1000 + FEE),)), [(bytes(32), 0, 10**8)], x_address=X_ADDRESS, exchange_rate=1.0)
            assert payment is not None
            with pytest.raises(ExchangeRateMismatch):
                daemon.step()
            with pytest.raises(ExchangeRateMismatch):
                daemon.sign(payment)
            assert daemon.store.progress() == {"scanned": -1, "paid": {}, "signed": {}, "proposals": {}}
        finally:
            daemon.close()
        net.arbiter.merge_mine(MINER)
        assert side.call("listunspent", {"addresses": [user]}) == []
        assert net.arbiter.relay_deposits()                      # the arbiter at the node's rate relays it
        net.arbiter.merge_mine(MINER)
        assert [int(u["sela"]) for u in side.call("listunspent", {"addresses": [user]})] == [X.convert(10**8, rate)]
    finally:
        net.close()


# -- end to end with processes ------------------------------------------------------------------------------

def _start(args: list[str], log: Path) -> tuple[subprocess.Popen, dict[str, str]]:  # type: ignore[type-arg]
    f = open(log, "a")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "reference.cli", *args], stdout=subprocess.PIPE, stderr=f,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), (line, log.read_text())
    return proc, dict(kv.split("=", 1) for kv in line.split()[1:])


_wait = functools.partial(wait_for, timeout=120.0, interval=0.2, tolerate=(RpcError, OSError))


def _supply(side_db: Path) -> int:
    """The sidechain's ELA supply, read from the node process's store (read-only, WAL)."""
    with contextlib.closing(sqlite3.connect(f"file:{side_db}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COALESCE(SUM(value), 0) FROM utxo WHERE asset=? AND ph!=?",
                              (ELA_ASSET_ID, bytes(21))).fetchone()[0])


def test_processes_at_rate_2_credit_pay_and_keep_x_covering_the_supply(tmp_path: Path) -> None:
    rate = 2.0
    net = SideDevnet(tmp_path / "net", in_process_side=False)
    procs: list[subprocess.Popen] = []  # type: ignore[type-arg]
    try:
        side_proc, sp = _start(["sidechain", "--datadir", str(tmp_path / "side"), "--main-rpc", net.main_url,
                                "--network", "instant", "--exchange-rate", "2"], tmp_path / "side.log")
        procs.append(side_proc)
        assert sp["rate"] == "2.0"
        side_url = f"http://127.0.0.1:{sp['rpc']}"
        side = RpcClient(side_url)
        assert side.call("getexchangerate") == rate
        pubkeys = [public_key_from_private(k).hex() for k in net.arbiter_keys]
        for i, k in enumerate(net.arbiter_keys):
            (tmp_path / f"arb{i}.json").write_text(json.dumps({"private_key": k.hex()}))

        def arbiter_args(i: int) -> list[str]:
            return ["arbiter", "--serve", "--main-rpc", net.main_url, "--side-rpc", side_url, "--key",
                    str(tmp_path / f"arb{i}.json"), "--network", "instant", "--miner", MINER, "--datadir",
                    str(tmp_path / f"a{i}"), "--peers", str(tmp_path / "peers"), "--interval", "0.4",
                    *[a for pk in pubkeys for a in ("--arbiter", pk)]]

        # an arbiter at the network's rate (1) against this node: it refuses to start, having done nothing
        wrong = subprocess.run([sys.executable, "-m", "reference.cli", *arbiter_args(0)], capture_output=True,
                               text=True, timeout=120)
        assert wrong.returncode == 2 and "exchange rate is 2.0, this arbiter's 1.0" in wrong.stderr, wrong.stderr
        assert not wrong.stdout and net.main.height() == 101
        one = subprocess.run([sys.executable, "-m", "reference.cli", "arbiter", "--main-rpc", net.main_url,
                              "--side-rpc", side_url, "--key", str(tmp_path / "arb0.json"), "--network", "instant",
                              "--miner", MINER, "--state", str(tmp_path / "one.json"), "--exchange-rate", "0.5"],
                             capture_output=True, text=True, timeout=120)
        assert one.returncode == 2 and "this arbiter's 0.5" in one.stderr and net.main.height() == 101

        for i in range(len(net.arbiter_keys)):
            p, info = _start([*arbiter_args(i), "--exchange-rate", "2"], tmp_path / f"a{i}.log")
            procs.append(p)
            assert info["m"] == "3" and info["n"] == "3"

        # a deposit: credited Fixed64(float64(amount) * rate)
        user_key, user_ph, user = _addr(b"rate process user")
        _, _, target = _addr(b"rate process target")
        amount = 123_456_789
        dep = net.deposit(user, amount)
        fund = _wait("the deposit credited", lambda: side.call("listunspent", {"addresses": [user]}))
        credited = int(float(amount) * rate)
        assert [int(f["sela"]) for f in fund] == [credited] == [X.convert(amount, rate)]

        # a withdrawal of an odd amount: paid Fixed64(float64(ask) / rate), its margin over the rate as fee
        ask, burned = 77_777_777, 77_777_777 + FEE + 3
        burn = side_burn((from_display(fund[0]["txid"]), fund[0]["vout"]), target, ask, burned,
                         credited - burned - FEE, user_ph, user_key)
        side.call("sendrawtransaction", {"data": burn.serialize().hex()})
        main = RpcClient(net.main_url)
        _wait("the withdrawal paid and marked", lambda: side.call("getwithdraws") == []
              and main.call("listunspent", addresses=[target]), timeout=180)
        paid = [_sela(u["amount"]) for u in main.call("listunspent", addresses=[target])]
        assert paid == [int(float(ask) / rate)] == [W.payout(ask, rate)]
        payments = [tx for h in range(net.main.height() + 1)
                    for tx in net.main.store.block(net.main.store.hash_at(h)).transactions  # type: ignore[union-attr, arg-type]
                    if tx.tx_type == TxType.WITHDRAW_FROM_SIDECHAIN]
        assert len(payments) == 1 and payments[0].payload.sidechain_tx_hashes == (burn.txid(),)  # type: ignore[union-attr]

        # the X address: what the burn is worth was taken (within the rounding), the supply over the rate covered
        x_total = sum(_sela(u["amount"]) for u in main.call("listunspent", addresses=[X_ADDRESS]))
        deposit_value = sum(o.value for o in dep.outputs if o.program_hash == X_PH)
        w = W.PendingWithdrawal(side_txid=burn.txid(), height=0, entries=((target, ask, burned),))
        taken = deposit_value - x_total
        assert taken == W.payout(ask, rate) + W.withdrawal_fee(w, rate)
        worth = Fraction(burned) / Fraction(rate)
        assert worth - 2 < taken < worth + ERROR_BOUND           # two truncations; the proved bound above
        supply = _supply(tmp_path / "side" / "side.sqlite")
        assert supply == credited - burned - FEE
        assert Fraction(x_total) >= Fraction(supply) / Fraction(rate)
        slack = x_total - (deposit_value - amount) - Fraction(supply + FEE) / Fraction(rate)
        assert slack > -2 * ERROR_BOUND                        # one credit and one payment, each within the bound
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        net.close()

    # the node's data folder keeps its rate: started at another one, the process refuses (exit 2)
    again = subprocess.run([sys.executable, "-m", "reference.cli", "sidechain", "--datadir", str(tmp_path / "side"),
                            "--main-rpc", "http://127.0.0.1:1", "--exchange-rate", "0.5"], capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 2 and "exchange rate 2.0, not 0.5" in again.stderr, again.stderr
