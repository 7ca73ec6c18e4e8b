"""``elastos devnet``: the whole scenario as a separate process, every step's outcome checked from outside
(node and sidechain JSON-RPC, the arbiter processes' JSON-RPC, the withdrawal's signatures in the main
chain, DID resolution, the vault's HTTP API, the Carrier nodes' persisted friendships, the runtime's edition
gate against the live sidechain), never by reading the log; one-part scenarios; ``--keep`` with ``status``
and ``stop``; and no process left behind, even when a step fails.

The arbiter processes keep merge-mining while a kept devnet runs, so the chains grow under the test: a
comparison of two live figures is made with :func:`_eventually` (it holds at some moment), never once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec.errors import Reason, Reject

from reference.devnet import procs
from reference.devnet import scenario as S
from reference.node.rpc import RpcClient


def _devnet(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reference.cli", "devnet", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=procs.REPO, env=procs._env())


@pytest.fixture()
def folder(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The devnet folder; whatever its state file still names is stopped at teardown, whatever happened
    (a timed-out ``elastos devnet`` leaves its children, each in its own process group, running)."""
    from reference.devnet.manage import stop

    path = tmp_path / "net"
    yield path
    if (path / S.STATE_FILE).exists():
        stop(path)


def _alive(pids: dict[str, int]) -> list[str]:
    return [n for n, pid in pids.items() if procs.alive(pid)]


def _eventually(what: str, cond: Callable[[], Any], timeout: float = 30.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, f"never held within {timeout} s: {what}"
        time.sleep(0.02)


ARBITERS = [f"arbiter{i + 1}" for i in range(S.ARBITERS)]
SIDE = ["sidechain", "sidechain2", *ARBITERS]


def test_the_whole_scenario_checked_from_outside(tmp_path: Path, folder: Path) -> None:
    report_file = tmp_path / "report.json"
    done = _devnet("--keep", "--dir", str(folder), "--json", str(report_file))
    report = json.loads(report_file.read_text())
    pids = report["pids"]
    try:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert report["ok"] and [s["step"] for s in report["steps"]] == S.SCENARIOS["all"][1]
        assert all(s["ok"] for s in report["steps"])
        figures = {s["step"]: s["figures"] for s in report["steps"]}
        state = json.loads((folder / S.STATE_FILE).read_text())
        ep = state["endpoints"]
        assert sorted(ep) == sorted(["node1", "node2", *SIDE, "vault", "carrier-alice-phone",
                                     "carrier-alice-laptop", "carrier-bob-phone"])
        assert set(state["pids"]) == set(pids) and sorted(_alive(pids)) == sorted(pids)
        main1, main2 = RpcClient(ep["node1"]["rpc"]), RpcClient(ep["node2"]["rpc"])
        side = RpcClient(ep["sidechain"]["rpc"])

        # the main chain: both node processes on the same tip, above the 101 funding blocks; the miner paid
        _eventually("both main nodes on one tip", lambda: main1.call("getbestblockhash") == main2.call("getbestblockhash"))
        height = main1.call("getblockcount") - 1
        assert height >= figures["agree"]["main_height"] > figures["withdraw"]["main_height"] > 101
        miner = main1.call("listunspent", addresses=[S.address_of("miner")[0]])
        assert miner and all(float(u["amount"]) > 0 for u in miner)

        # the sidechain was merge-mined with it: one side block per merge-mined main block after the first 102,
        # and the second sidechain node follows the first over sidechain P2P
        side2 = RpcClient(ep["sidechain2"]["rpc"])
        _eventually("a side block per merge-mined main block",
                    lambda: side.call("getblockcount") - 1 == main1.call("getblockcount") - 1 - 101)
        _eventually("both sidechain nodes on one tip",
                    lambda: side.call("getbestblockhash") == side2.call("getbestblockhash"))
        assert figures["agree"]["side_height"] == figures["agree"]["main_height"] - 101

        # every main block after the funding ones was merge-mined by the arbiter on duty at its height: its
        # SideChainPow verifies with that arbiter's key (and not another's); all four took turns
        from spec.chain.block import decode_block
        from spec.chain.tx import TxType
        from spec.chain.validation import on_duty_cross_chain_arbiter
        from spec.crypto import p256

        def block(h: int) -> Any:
            return decode_block(bytes.fromhex(main1.call("getblock", blockhash=main1.call("getblockhash", height=h),
                                                         verbosity=0)))

        pubkeys = [p256.public_key_from_private(k) for k in S.ARBITER_KEYS]
        signers = []
        for h in range(102, height + 1):
            (pow_,) = [t.payload for t in block(h).transactions if t.tx_type == TxType.SIDECHAIN_POW]
            by = [k for k in pubkeys if S._verifies(k, pow_.unsigned(), pow_.signature)]  # type: ignore[union-attr]
            assert by == [on_duty_cross_chain_arbiter(h, S.MAIN_PARAMS)]
            signers.append(by[0])
        assert set(signers) == set(pubkeys)

        # the withdrawal's payment, read from the main chain: the 3-of-4 script of the arbiters, three signatures
        # each verifying with a different arbiter key; the arbiter processes report it paid, one proposed it
        from spec.chain.tx import WithdrawFromSideChainPayload
        from spec.crypto.scripts import multisig_redeem_script

        w = figures["withdraw"]
        (pay,) = [t for t in block(w["main_height"]).transactions if isinstance(t.payload, WithdrawFromSideChainPayload)]
        assert pay.txid()[::-1].hex() == w["main_txid"]
        assert pay.payload.sidechain_tx_hashes == (bytes.fromhex(w["side_txid"]),)  # type: ignore[union-attr]
        assert pay.programs[0].code == multisig_redeem_script(3, pubkeys, "crosschain")
        sigs = [pay.programs[0].parameter[i + 1:i + 65] for i in range(0, len(pay.programs[0].parameter), 65)]
        by_sig = [[k for k in pubkeys if S._verifies(k, pay.serialize_unsigned(), sig)] for sig in sigs]
        assert len(sigs) == 3 and all(len(b) == 1 for b in by_sig) and len({b[0] for b in by_sig}) == 3
        infos = [RpcClient(ep[a]["rpc"]).call("arbiter_info") for a in ARBITERS]
        assert [bytes.fromhex(i["public_key"]) for i in infos] == pubkeys
        assert all(i["paid"] == {w["side_txid"]: w["main_txid"]} for i in infos)
        sent = [i["proposals"] for i in infos if i["proposals"].get(w["side_txid"], {}).get("state") == "sent"]
        assert sent == [{w["side_txid"]: {"state": "sent", "main_txid": w["main_txid"]}}]
        assert all(v["state"] in ("sent", "proposed") for i in infos for v in i["proposals"].values())
        assert w["leader"] in ARBITERS and w["proposals"][w["leader"]] == "sent"
        assert {bytes.fromhex(i["public_key"]) for i in infos if i["signed"]} >= {b[0] for b in by_sig}

        # the deposit: credited on the sidechain, held by the X address on the main chain
        x = ep["sidechain"]["x"]
        assert sum(round(float(u["amount"]) * 10**8) for u in main1.call("listunspent", addresses=[x])) > 0
        assert figures["deposit"]["credited_sela"] == {"faucet": 50_000_000, "alice": 120_000_000, "bob": 120_000_000}

        # every DID resolves on the sidechain, from a RegisterDID transaction
        for label in S.LABELS:
            r = side.call("did_resolveDID", {"did": S.did_of(label), "all": True})
            assert r["status"] == 0 and len(r["transaction"]) == 1, label
        # ... and bob's names his phone's Carrier address (the one his phone's node runs with)
        from reference.did.client import ChainClient

        bob_doc = ChainClient(ep["sidechain"]["rpc"]).resolve(S.did_of("bob")).document
        assert bob_doc is not None
        assert [s.endpoint.split("//")[-1] for s in bob_doc.services] == [ep["carrier-bob-phone"]["address"]]

        # Carrier: the two phones' nodes are friends (their persisted friend lists); every node is reachable
        from spec.carrier import identity as I

        from reference.devnet.carrier_proc import carrier_addresses, runtime_resolver, sidechain_resolver
        from reference.devnet.manage import status

        def node_hex(address: str) -> str:
            return I.parse_address(address)[0].hex()

        bob_friends = json.loads((folder / "carrier-bob-phone" / "state.json").read_text())["friends"]
        alice_friends = json.loads((folder / "carrier-alice-phone" / "state.json").read_text())["friends"]
        assert [node_hex(ep["carrier-alice-phone"]["address"]), "friend"] in bob_friends
        assert [node_hex(ep["carrier-bob-phone"]["address"]), "friend"] in alice_friends
        rows = {r["component"]: r for r in status(folder)}
        assert all(rows[n]["ok"] for n in ep if n.startswith("carrier-"))
        assert figures["apps"]["messages"] == 2 and figures["apps"]["delivered"] == 2

        # the runtime's decision, again from the live state: Alice's friends are the users whose documents
        # on the sidechain name a node her phone's node is friends with; her chat may reach Bob, not the stranger
        resolve = sidechain_resolver(ep["sidechain"]["rpc"])
        friend_nodes = {p for p, st in alice_friends if st == "friend"}
        friends = [S.did_of(u) for u in ("bob", "stranger", "artist")
                   if any(node_hex(a) in friend_nodes for a in carrier_addresses(resolve, S.did_of(u)))]
        assert friends == [S.did_of("bob")]
        import time

        from reference.runtime.carrier import LoopbackCarrier
        from reference.runtime.sandbox import Runtime

        loop = LoopbackCarrier()
        rt = Runtime(S.did_of("alice"), runtime_resolver(resolve), tmp_path / "alice-rt", loop, now=int(time.time()),
                     friends=friends)
        chat = S.install_app(rt, "alice", "chat", ("carrier.send",), [("carrier:*", "send")])
        rt.write_input(chat, 4096, S.did_of("bob").encode())
        assert rt.run(chat, "send", len(S.did_of("bob"))).ok
        rt.write_input(chat, 4096, S.did_of("stranger").encode())
        refused = rt.run(chat, "send", len(S.did_of("stranger")))
        assert (refused.ok, refused.reason, refused.rule) == (False, Reason.NET_NOT_FRIEND, "RT-074")
        assert (len(loop.receive(S.did_of("bob"))), len(loop.receive(S.did_of("stranger")))) == (1, 0)
        assert figures["apps"]["refused"] == "NET_NOT_FRIEND [RT-074]"

        # the vault: its HTTP API lists the notes app's file in alice's partition, with the laptop's bytes
        client = S.vault_client(ep["vault"]["url"], ep["sidechain"]["rpc"], "alice-laptop", "notes")
        manifest = client.manifest()
        assert sorted(manifest) == figures["hive-sync"]["vault_files"] == ["notes/today.txt"]
        laptop_home = folder / "devices" / "alice-laptop" / "home" / S.did_of("alice") / S.did_of("notes")
        assert client.download("notes/today.txt") == (laptop_home / "notes" / "today.txt").read_bytes()

        # the edition: bob owns copy 1 after the resale; the royalties reached the artist
        work = figures["editions"]["work"]
        assert side.call("edition_owner", {"work": work, "number": 1}) == S.did_of("bob")
        assert side.call("edition_canopen", {"did": S.did_of("bob"), "work": work}) is True
        assert side.call("edition_canopen", {"did": S.did_of("alice"), "work": work}) is False
        artist = side.call("listunspent", {"addresses": [S.address_of("artist")[0]]})
        assert sorted(int(u["sela"]) for u in artist) == sorted([45_000_000, 5_000_000, 6_000_000])

        # the runtime's gate, against the live sidechain: the owner reads the work, the previous owner is refused
        from reference.runtime.editions import EditionGate

        gate = EditionGate(lambda did, w: bool(side.call("edition_canopen", {"did": did, "work": w.hex()})),
                           folder / "gallery")

        class User:
            def __init__(self, label: str) -> None:
                self.user = S.did_of(label)

        assert gate.open(User("bob"), bytes.fromhex(work)) == S.WORK_CONTENT
        with pytest.raises(Reject) as e:
            gate.open(User("alice"), bytes.fromhex(work))
        assert e.value.reason is Reason.EDITION_NOT_OWNER

        # the withdrawal: paid once on the main chain, seen by both nodes; nothing pending on the sidechain
        target = S.address_of("bob-main")[0]
        for m in (main1, main2):
            assert [u["amount"] for u in m.call("listunspent", addresses=[target])] == ["0.40000000"]
        assert side.call("getwithdraws") == []
    finally:
        stopped = _devnet("stop", "--dir", str(folder), timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert not _alive(pids) and not (folder / S.STATE_FILE).exists()


@pytest.mark.parametrize("name", ["chain", "editions"])
def test_one_scenario_sets_up_only_its_part(tmp_path: Path, folder: Path, name: str) -> None:
    report_file = tmp_path / "report.json"
    done = _devnet("--scenario", name, "--dir", str(folder), "--json", str(report_file))
    report = json.loads(report_file.read_text())
    assert done.returncode == 0, done.stdout[-3000:]
    assert [s["step"] for s in report["steps"]] == S.SCENARIOS[name][1] and all(s["ok"] for s in report["steps"])
    started = set(report["pids"])
    if name == "chain":
        assert started == {"node1", "node2"}
        assert report["steps"][1]["figures"]["height"] == 3
    else:
        assert started == {"node1", "node2", *SIDE}   # no Carrier node, no vault
        assert report["steps"][-1]["figures"]["owner"] == S.did_of("bob")
    assert not _alive(report["pids"]) and not (folder / S.STATE_FILE).exists()


def test_keep_status_and_stop(tmp_path: Path, folder: Path) -> None:
    done = _devnet("--scenario", "dids", "--keep", "--dir", str(folder))
    state = json.loads((folder / S.STATE_FILE).read_text())
    try:
        assert done.returncode == 0, done.stdout[-3000:]
        assert f"elastos devnet stop --dir {folder}" in done.stdout
        again = _devnet("--scenario", "chain", "--dir", str(folder))  # refused: one is running there
        assert again.returncode == 2 and "already running" in again.stdout
        status = _devnet("status", "--dir", str(folder), "--json", str(tmp_path / "status.json"))
        assert status.returncode == 0, status.stdout
        rows = {r["component"]: r for r in json.loads((tmp_path / "status.json").read_text())}
        assert set(rows) == {"node1", "node2", *SIDE} and all(r["ok"] for r in rows.values())
        assert rows["node1"]["peers"] == rows["node2"]["peers"] == 1
        live = RpcClient(state["endpoints"]["sidechain"]["rpc"]).call("getblockcount") - 1
        assert 0 < rows["sidechain"]["height"] <= live   # the arbiters keep mining
        for a in ARBITERS:   # each arbiter process reports its key and its progress
            assert rows[a]["pubkey"] == state["endpoints"][a]["pubkey"] and rows[a]["scanned"] > 101
            assert (rows[a]["paid"], rows[a]["proposals"]) == (0, {})   # this scenario withdraws nothing
        assert "scanned" in status.stdout and "arbiter4" in status.stdout
        # an arbiter process that died shows as down, and status says so with its exit status
        os.kill(state["pids"]["arbiter4"], signal.SIGKILL)
        _eventually("arbiter4 gone", lambda: not procs.alive(state["pids"]["arbiter4"]))
        down = _devnet("status", "--dir", str(folder), "--json", str(tmp_path / "status2.json"))
        assert down.returncode == 1, down.stdout
        rows = {r["component"]: r for r in json.loads((tmp_path / "status2.json").read_text())}
        assert [n for n, r in rows.items() if not r["ok"]] == ["arbiter4"] and rows["arbiter4"]["alive"] is False
    finally:
        stopped = _devnet("stop", "--dir", str(folder), timeout=60)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not _alive(state["pids"])
    after = _devnet("status", "--dir", str(folder))
    assert after.returncode == 1 and "no devnet kept" in after.stderr


def test_a_failed_step_leaves_no_process(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, int] = {}
    real_spawn = S.Devnet.spawn

    def spawn(self: S.Devnet, name: str, args: list[str], **kw: object) -> procs.Proc:
        p = real_spawn(self, name, args, **kw)
        started[name] = p.pid
        return p

    def broken(self: S.Devnet) -> dict:
        raise RuntimeError("a step that breaks")

    monkeypatch.setattr(S.Devnet, "spawn", spawn)
    monkeypatch.setattr(S.Devnet, "step_mine", broken)
    lines: list[str] = []
    rc = S.run("chain", folder=str(folder), keep=True, json_out=str(tmp_path / "r.json"), log=lines.append)
    assert rc == 1 and set(started) == {"node1", "node2"}
    assert not _alive(started)                                   # --keep keeps nothing when a step failed
    report = json.loads((tmp_path / "r.json").read_text())
    assert [(s["step"], s["ok"]) for s in report["steps"]] == [("chain", True), ("mine", False)]
    assert "RuntimeError: a step that breaks" in report["steps"][1]["checked"]


def test_unknown_scenario_and_missing_state_are_refused(tmp_path: Path) -> None:
    bad = _devnet("--scenario", "nonsense")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    missing = _devnet("stop", "--dir", str(tmp_path))
    assert missing.returncode == 1 and "no devnet kept" in missing.stderr
    zero = _devnet("--nodes", "0")
    assert zero.returncode == 2 and "at least 1" in zero.stderr
    listed = _devnet("--list")
    assert listed.returncode == 0 and all(name in listed.stdout for name in S.SCENARIOS)


def test_summary_table_rows_and_wrapping() -> None:
    steps = [S.Step("chain", True, "x", {"height": 101, "best": "ab" * 32}, 1.25),
             S.Step("dids", False, "FAILED: StepFailed: no", {}, 0.5)]
    lines = S.summary_table(steps).splitlines()
    assert lines[0].split() == ["step", "outcome", "time", "figures"]
    assert lines[2].startswith("chain         ok        1.2s  height: 101; best: abababababab…")
    assert lines[3].startswith("dids          FAILED    0.5s  FAILED: StepFailed: no")


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=64), owner=st.booleans(), tamper=st.booleans())
def test_edition_gate_opens_only_for_an_owner_and_only_the_minted_bytes(tmp_path_factory: pytest.TempPathFactory,
                                                                        content: bytes, owner: bool,
                                                                        tamper: bool) -> None:
    import hashlib

    from reference.runtime.editions import EditionGate

    store = tmp_path_factory.mktemp("gallery")
    work = hashlib.sha256(content).digest()
    (store / work.hex()).write_bytes(content + (b"!" if tamper else b""))
    asked: list[tuple[str, bytes]] = []

    def owns(did: str, w: bytes) -> bool:
        asked.append((did, w))
        return owner

    class User:
        user = "did:elastos:iTestUser"

    gate = EditionGate(owns, store)
    if owner and not tamper:
        assert gate.open(User(), work) == content
        assert gate.opened[-1][2] == "opened"
    else:
        with pytest.raises(Reject) as e:
            gate.open(User(), work)
        want = Reason.EDITION_NOT_OWNER if not owner else Reason.EDITION_UNKNOWN_COPY
        assert e.value.reason is want and gate.opened[-1][2] == want.value
    assert asked == [("did:elastos:iTestUser", work)]
    assert (store / work.hex()).read_bytes().startswith(content)   # nothing stored is changed
