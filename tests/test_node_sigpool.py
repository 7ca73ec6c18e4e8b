"""A node with a signature pool (``Node(sig_workers=2)``, ``elastos node --sig-workers 2``) decides every block
exactly as one without: the same outcomes, reasons, tips and unspent outputs, while the signatures it takes
come from the pool's processes."""

from __future__ import annotations

import pytest

from conformance.bench_chain import FEE, NOW, _block, _key, _KEY, build_chain
from reference import core
from reference.node.node import Node
from spec.chain import builder
from spec.chain.params import INSTANT
from spec.chain.state import apply_block
from spec.chain.tx import Program
from spec.crypto.p256 import public_key_from_private
from spec.errors import Reason

N = 40


def _chain():  # type: ignore[no-untyped-def]
    """(blocks to a state holding N outputs of N keys, that state, N transfers spending them)."""
    return build_chain(N)


def _corrupt(tx):  # type: ignore[no-untyped-def]
    p = tx.programs[0]
    sig = bytearray(p.parameter)
    sig[20] ^= 1
    return tx.model_copy(update={"programs": (Program(parameter=bytes(sig), code=p.code),)})


@pytest.fixture(scope="module")
def chain():  # type: ignore[no-untyped-def]
    return _chain()


def _nodes(tmp_path, blocks):  # type: ignore[no-untyped-def]
    plain = Node(tmp_path / "plain", INSTANT, now=lambda: NOW, backend="python")
    pooled = Node(tmp_path / "pooled", INSTANT, now=lambda: NOW, backend="python", sig_workers=2)
    assert plain.sigpool is None and pooled.sigpool is not None and len(pooled.sigpool.pids) == 1
    for b in blocks:
        assert plain.submit_block(b) == pooled.submit_block(b)
    return plain, pooled


def _same(plain: Node, pooled: Node) -> None:
    assert plain.best_hash() == pooled.best_hash()
    assert plain.invalid == pooled.invalid
    assert plain.store.all_utxos() == pooled.store.all_utxos()


def test_pooled_node_takes_the_pools_verdicts_and_decides_as_the_plain_one(tmp_path, chain) -> None:  # type: ignore[no-untyped-def]
    blocks, state, txs = chain
    plain, pooled = _nodes(tmp_path, blocks)
    try:
        # a block with one bad signature: both refuse it for the spec's reason, and keep their tip
        bad = list(txs)
        bad[17] = _corrupt(bad[17])
        bad_block = _block(state, bad, FEE * N)
        good = _block(state, txs, FEE * N)
        assert bad_block.hash() == good.hash()  # a txid leaves the programs out
        before = core.STATS["presigned"]
        assert plain.submit_block(bad_block) == pooled.submit_block(bad_block) == {bad_block.hash(): "SIGNATURE_INVALID"}
        taken = core.STATS["presigned"] - before
        assert taken == 18  # the pool's verdicts were taken in block order, up to the refused transaction
        _same(plain, pooled)
        assert plain.height() == pooled.height() == 102
        assert plain.status(good.hash()) is None  # refused, not remembered: the hash does not fix signatures
        # the good block of the same transfers and hash: both connect it, every signature from the pool
        before = core.STATS["presigned"]
        assert plain.submit_block(good) == pooled.submit_block(good) == {good.hash(): "valid"}
        assert core.STATS["presigned"] - before == N
        _same(plain, pooled)
        assert pooled.height() == 103
    finally:
        plain.close()
        pooled.close()


def test_pooled_node_on_a_reorganisation_and_a_missing_reference(tmp_path, chain) -> None:  # type: ignore[no-untyped-def]
    """A block on a side branch is checked after the store moved to its parent's chain, so the pool reads its
    references there; a transaction spending nothing the chain has is left to the spec (TXC-002)."""
    blocks, state, txs = chain
    plain, pooled = _nodes(tmp_path, blocks)
    try:
        # the tip moves on with a block of half the transfers
        s1, _ = apply_block(state, a1 := _block(state, txs[: N // 2], FEE * (N // 2)), NOW)
        for n in (plain, pooled):
            assert n.submit_block(a1) == {a1.hash(): "valid"}
        # a competing branch from the same parent, spending the other half then all of the first half:
        # it overtakes at its second block, which the pool checks on the branch's own chain
        b1 = _block(state, txs[N // 2:], FEE * (N - N // 2))
        sb, _ = apply_block(state, b1, NOW)
        b2 = _block(sb, txs[: N // 2], FEE * (N // 2))
        before = core.STATS["presigned"]
        for b in (b1, b2):
            assert plain.submit_block(b) == pooled.submit_block(b)
        assert core.STATS["presigned"] - before == N
        assert pooled.best_hash() == b2.hash()
        _same(plain, pooled)
        # a transfer spending an output that is spent on this chain (by txs[0], in b2), beside 19 that spend
        # nothing the chain has: the pool gets nothing to check, and the spec refuses it (TXC-003)
        split = blocks[-1].transactions[1]
        ph = builder.standard_program_hash(public_key_from_private(_KEY))
        respend = builder.sign_standard(builder.transfer([(split.txid(), 0)], [(ph, split.outputs[0].value - 2 * FEE)]),
                                        [_key(0)])
        again = _block(apply_block(sb, b2, NOW)[0], [respend, *txs[1:20]], FEE * 20)
        before = core.STATS["presigned"]
        assert plain.submit_block(again) == pooled.submit_block(again)
        assert pooled.invalid[again.hash()] == Reason.TX_DOUBLE_SPEND.value
        assert core.STATS["presigned"] == before
        _same(plain, pooled)
    finally:
        plain.close()
        pooled.close()


def test_node_command_starts_its_signature_workers_and_refuses_zero(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(repo))
    base = [sys.executable, "-m", "reference.cli", "node", "--network", "instant", "--datadir", str(tmp_path / "n")]
    bad = subprocess.run([*base, "--sig-workers", "0"], capture_output=True, text=True, env=env, cwd=repo, timeout=60)
    assert bad.returncode == 2 and "--sig-workers must be at least 1" in bad.stderr
    proc = subprocess.Popen([*base, "--sig-workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=repo)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready p2p=")
        assert "signature workers 2" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopping" in out
