"""Assertions shared by the test modules."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from spec.errors import DecodeError, Reason, Reject


def expect_reject(fn: Callable[..., Any], *args: Any, reason: Reason, rule: str, decode: bool = False) -> Reject:
    """``fn(*args)`` must raise a Reject with exactly this reason and rule (a DecodeError if ``decode``)."""
    with pytest.raises(Reject) as info:
        fn(*args)
    assert info.value.reason is reason, f"expected {reason}, got {info.value}"
    assert info.value.rule == rule, f"expected {rule}, got {info.value}"
    if decode:
        assert isinstance(info.value, DecodeError), f"expected a DecodeError, got {type(info.value).__name__}"
    return info.value


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05,
             tolerate: tuple[type[BaseException], ...] = ()) -> Any:
    """Poll ``cond`` until it returns something true (returned), treating the ``tolerate`` exceptions as not
    yet; an AssertionError naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = cond()
        except tolerate:
            v = None
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def require_core() -> object:
    """The C core's bindings (:mod:`reference.core`), building the core first when it is not built.

    Skips only when this machine cannot build it (no C compiler or no OpenSSL 3 headers), with that
    reason; a core that can be built but fails to load is a test failure.
    """
    import importlib
    import subprocess
    import sys
    from pathlib import Path

    import reference.core as core

    if core.available():
        return core
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "core"))
    try:
        import build as core_build  # core/build.py
    finally:
        sys.path.pop(0)
    why = core_build.missing_prerequisite()
    if why:
        pytest.skip(f"the C core cannot be built here: {why}")
    subprocess.run([sys.executable, str(root / "core" / "build.py"), "--require"], check=True)
    core = importlib.reload(core)
    assert core.available(), f"the C core was built but does not load: {core.unavailable_reason}"
    return core


FORGERIES = ("auxpow", "program", "signature", "repeat", "body")
"""The ways :func:`forged_copy` can change a block without changing its hash."""


def forged_copy(block: Any, how: str) -> Any:
    """A copy of ``block`` (main chain) under the same hash, as a relay could send it: ``auxpow`` changes the
    AuxPoW's parent coinbase, ``program`` adds a program to the coinbase, ``signature`` corrupts the last
    transaction's first signature, ``repeat`` repeats the last transaction (the same merkle root for an odd
    count, CVE-2012-2459), ``body`` cuts the coinbase's outputs (another merkle root). ``signature`` and
    ``repeat`` fall back to ``body`` when the block has no transaction they apply to."""
    from spec.chain.tx import Program

    assert how in FORGERIES, how
    txs = list(block.transactions)
    if how == "auxpow":
        aux = block.header.auxpow
        cb = aux.par_coinbase_tx.model_copy(update={"lock_time": aux.par_coinbase_tx.lock_time ^ 1})
        return block.model_copy(update={"header": block.header.model_copy(
            update={"auxpow": aux.model_copy(update={"par_coinbase_tx": cb})})})
    if how == "program":
        txs[0] = txs[0].model_copy(update={"programs": (Program(parameter=b"", code=bytes(23)),)})
    elif how == "signature" and len(txs) > 1 and txs[-1].programs:
        p = txs[-1].programs[0]
        bad = p.model_copy(update={"parameter": p.parameter[:-1] + bytes([p.parameter[-1] ^ 1])})
        txs[-1] = txs[-1].model_copy(update={"programs": (bad, *txs[-1].programs[1:])})
    elif how == "repeat" and len(txs) % 2 == 1 and len(txs) > 1:
        txs.append(txs[-1])
    else:
        txs[0] = txs[0].model_copy(update={"outputs": txs[0].outputs[:1]})
    forged = block.model_copy(update={"transactions": tuple(txs)})
    assert forged.hash() == block.hash()
    return forged


def side_burn(previous: tuple[bytes, int], target: str, ask: int, burned: int, change: int, change_ph: bytes,
              key: bytes) -> Any:
    """A signed sidechain withdrawal (TransferCrossChainAsset): spends ``previous`` (txid, index), burns
    ``burned`` sela (zero program hash) asking ``ask`` for the main-chain address ``target``, and returns
    ``change`` to ``change_ph``."""
    from spec.chain.builder import sign_standard
    from spec.chain.params import ELA_ASSET_ID
    from spec.chain.tx import CrossChainEntry, Input, OutPoint, Output, TransferCrossChainAssetPayload
    from spec.sidechain.tx import SideTransaction, SideTxType

    return sign_standard(SideTransaction(
        tx_type=SideTxType.TRANSFER_CROSS_CHAIN_ASSET,
        payload=TransferCrossChainAssetPayload(entries=(CrossChainEntry(address=target.encode(), output_index=0,
                                                                        amount=ask),)),
        inputs=(Input(previous=OutPoint(txid=previous[0], index=previous[1]), sequence=0xFFFF_FFFF),),
        outputs=(Output(asset_id=ELA_ASSET_ID, value=burned, output_lock=0, program_hash=bytes(21)),
                 Output(asset_id=ELA_ASSET_ID, value=change, output_lock=0, program_hash=change_ph))), [key])
