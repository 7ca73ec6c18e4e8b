"""The C core (``core/``): its generated reason header, its adapter against the vectors, the build's
behaviour without a compiler, and the node's C backend giving the same results as the spec."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.runner import run
from conformance.vectors import default_vectors_dir, load_vectors
from spec.chain import builder
from spec.chain.block import Block
from spec.chain.tx import Program, Transaction
from spec.crypto.p256 import N
from spec.errors import Reason
from tests.helpers import require_core

ROOT = Path(__file__).resolve().parents[1]
ADAPTER = ROOT / "core" / "build" / "elastos-core-adapter"


def test_reason_header_is_current() -> None:
    """The committed header is exactly what the generator makes from the spec's Reason enum."""
    r = subprocess.run([sys.executable, str(ROOT / "core" / "gen_reasons.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (ROOT / "core" / "include" / "elastos_reasons.h").read_text()
    for i, reason in enumerate(Reason, start=1):
        assert f"    EC_{reason.value} = {i}," in text


def test_reason_header_check_detects_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "elastos_reasons.h"
    stale.write_text((ROOT / "core" / "include" / "elastos_reasons.h").read_text().replace("TRUNCATED", "TRUNC"))
    r = subprocess.run([sys.executable, str(ROOT / "core" / "gen_reasons.py"), "--check", "--out", str(stale)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "stale" in r.stderr


def test_library_reason_table_matches_the_spec() -> None:
    core = require_core()
    assert core.lib.ec_reason_count() == len(Reason) + 1
    for i, reason in enumerate(Reason, start=1):
        assert core.reason(i) is reason


def test_adapter_passes_every_case_of_the_suites_it_announces() -> None:
    require_core()
    hello = json.loads(subprocess.run([str(ADAPTER), "--handlers"], capture_output=True, text=True, check=True).stdout)
    handlers = set(hello["hello"]["handlers"])
    suites = {h.split("/", 1)[0] for h in handlers}
    assert {"encoding", "crypto", "chain"} <= suites  # issue 9: "encoding, crypto, chain at least"
    vs = load_vectors(default_vectors_dir())
    cases = [c for c in vs.cases if c.suite in suites]
    # every handler of an announced suite is announced: zero unsupported inside those suites
    assert {f"{c.suite}/{c.handler}" for c in cases} <= handlers
    report = run([str(ADAPTER)], cases, timeout=30.0)
    bad = [(r.id, r.status, r.got) for r in report.results if r.status != "passed"]
    assert not bad, bad[:10]
    assert report.all_sent and len(report.results) == len(cases)


def test_adapter_announces_the_whole_chain_suite() -> None:
    """Every handler the chain vectors use is announced (none answers unsupported) and every chain
    case passes: p2p messages and sessions, genesis, context, apply_block and fork choice included."""
    require_core()
    hello = json.loads(subprocess.run([str(ADAPTER), "--handlers"], capture_output=True, text=True, check=True).stdout)
    announced = {h for h in hello["hello"]["handlers"] if h.startswith("chain/")}
    cases = [c for c in load_vectors(default_vectors_dir()).cases if c.suite == "chain"]
    assert {f"chain/{c.handler}" for c in cases} == announced
    for h in ("ela.p2p.decode", "ela.p2p.encode", "ela.p2p.read_header", "ela.p2p.handshake", "ela.block.apply",
              "ela.fork_choice", "ela.tx.context", "ela.genesis"):
        assert f"chain/{h}" in announced
    report = run([str(ADAPTER)], cases, timeout=30.0)
    bad = [(r.id, r.status, r.got) for r in report.results if r.status != "passed"]
    assert not bad, bad[:10]
    assert len(report.results) == len(cases) >= 741


def test_adapter_survives_malformed_lines() -> None:
    require_core()
    lines = [b'{"hello": {"protocol": 1}}', b"not json", b"[1, 2]", b'{"id": 1}', b'{"id": -1, "handler": "x", "input": {}}',
             b'\xff\xfe', b'{"id": 2, "handler": "encoding/varuint_decode", "input": {"bytes": "zz"}}',
             b'{"id": 3, "handler": "encoding/varuint_decode", "input": {"bytes": "fd1000"}}',
             b'{"id": 4, "handler": "nope/nothing", "input": {}}',
             b'{"id": 5, "handler": "encoding/cbor_decode", "input": {"bytes": "' + b"81" * 70 + b'00"}}']
    out = subprocess.run([str(ADAPTER)], input=b"\n".join(lines) + b"\n", capture_output=True, check=True).stdout
    replies = [json.loads(x) for x in out.splitlines()]
    assert len(replies) == len(lines)
    assert replies[0]["hello"]["name"] == "elastos-core"
    assert [r.get("error") for r in replies[1:6]] == ["MALFORMED_REQUEST"] * 5
    assert replies[3]["id"] == 1
    assert replies[6] == {"id": 2, "reject": "MALFORMED_INPUT"}
    assert replies[7] == {"id": 3, "reject": "NON_CANONICAL_VARUINT"}
    assert replies[8] == {"id": 4, "unsupported": True}
    assert replies[9] == {"id": 5, "reject": "CBOR_TOO_DEEP"}


def test_build_without_a_compiler_says_why_and_python_still_works(tmp_path: Path) -> None:
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc"), "PATH": str(tmp_path)}
    r = subprocess.run([sys.executable, str(ROOT / "core" / "build.py")], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "NOT BUILT: no C compiler found" in r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "core" / "build.py"), "--require"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 1
    code = ("import reference.core as c; from reference.node.node import Node; from spec.chain.params import INSTANT; "
            "import tempfile; assert not c.available(); print(c.unavailable_reason); "
            "n = Node(tempfile.mkdtemp(), INSTANT, backend='auto'); print(n.backend)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "ELASTOS_CORE_LIB": str(tmp_path / "missing.so")})
    assert r.returncode == 0, r.stderr
    assert "is not built" in r.stdout and r.stdout.strip().endswith("python")


# -- the node with and without the C backend -------------------------------------------------------------------------


def _tamper(block: Block, tx_index: int, parameter: bytes | None = None, value: int | None = None) -> Block:
    """``block`` with one transaction's program parameter or first output value replaced, re-rooted and re-solved."""
    txs = list(block.transactions)
    tx: Transaction = txs[tx_index]
    prog = tx.programs[0]
    if parameter is not None:
        txs[tx_index] = tx.model_copy(update={"programs": (Program(code=prog.code, parameter=parameter),)})
    if value is not None:
        outputs = (tx.outputs[0].model_copy(update={"value": value}), *tx.outputs[1:])
        txs[tx_index] = tx.model_copy(update={"outputs": outputs})
    h = block.header
    return builder.solve(builder.block_template(h.previous, h.height, h.timestamp, h.bits, txs))


def _replace(block: Block, tx_index: int, tx: Transaction) -> Block:
    """``block`` with transaction ``tx_index`` replaced by ``tx``, re-rooted and re-solved."""
    txs = list(block.transactions)
    txs[tx_index] = tx
    h = block.header
    return builder.solve(builder.block_template(h.previous, h.height, h.timestamp, h.bits, txs))


def _spend(txid: bytes, index: int, value: int, fee: int, key: bytes | None = None, nonce: bytes = b"") -> Transaction:
    """A transfer of output ``(txid, index)`` (worth ``value``) to the benchmark's miner, signed with ``key``."""
    from conformance.bench_node import FEE, KEY, MINER

    del FEE
    return builder.sign_standard(builder.transfer([(txid, index)], [(MINER, value - fee)], nonce=nonce), [key or KEY])


def _good() -> list[Block]:
    from conformance.bench_node import build_blocks

    return list(build_blocks(116))


def _sequences() -> list[tuple[str, list[Block], set[str]]]:
    """(what, blocks, the outcomes the import must show): the benchmark chain, copies with a signature or
    sanity fault, and copies with a transaction-context fault (TXC rules)."""
    from conformance.bench_node import FEE

    good = _good()
    signed = [i for i, b in enumerate(good) if len(b.transactions) > 1]
    assert len(signed) >= 3
    i, j = signed[0], signed[1]
    sig = good[i].transactions[1].programs[0].parameter
    flipped = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    zero_r = sig[:1] + bytes(32) + sig[33:]
    high_s = sig[:33] + N.to_bytes(32, "big")
    malleated = sig[:33] + (N - int.from_bytes(sig[33:], "big")).to_bytes(32, "big")  # valid: no low-S rule
    out: list[tuple[str, list[Block], set[str]]] = [("good", good, {"valid"})]
    for what, param, reason in (("flipped", flipped, "SIGNATURE_INVALID"), ("zero_r", zero_r, "SIGNATURE_OUT_OF_RANGE"),
                                ("high_s", high_s, "SIGNATURE_OUT_OF_RANGE"), ("short", sig[:64], "PARAMETER_LENGTH"),
                                ("malleated", malleated, None)):
        bad = _tamper(good[i], 1, param)
        out.append((what, good[:i] + [bad] + good[i + 1:], _after(good[i], bad, reason) if reason else {"valid"}))
    bad = _tamper(good[i], 1, value=-1)
    out.append(("negative", good[:i] + [bad] + good[i + 1:], _after(good[i], bad, "TX_NEGATIVE_OUTPUT")))
    # transaction-context faults, each in one block (the blocks after it descend from an invalid block)
    spent = good[i].transactions[1]
    first = spent.inputs[0].previous
    cb_value = next(b.transactions[0].outputs[1].value for b in good if b.transactions[0].txid() == first.txid)
    immature = good[j - 1].transactions[0]
    low_fee = spent.outputs[0].value + FEE - 99  # the fee becomes 99 sela, below MinTransactionFee
    context = (
        ("fee_too_low", i, _tamper(good[i], 1, value=low_fee), "TX_FEE_TOO_LOW"),
        ("unknown_reference", i, _replace(good[i], 1, _spend(bytes(32), 0, 10**8, FEE)), "TX_UNKNOWN_REFERENCE"),
        ("double_spend", j, _replace(good[j], 1, _spend(first.txid, first.index, cb_value, FEE, nonce=b"x")),
         "TX_DOUBLE_SPEND"),
        ("duplicate", j, _replace(good[j], 1, spent), "TX_DUPLICATE"),
        ("immature", j, _replace(good[j], 1, _spend(immature.txid(), 1, immature.outputs[1].value, FEE)),
         "COINBASE_IMMATURE"),
    )
    for what, k, bad, reason in context:
        out.append((what, good[:k] + [bad] + good[k + 1:], _after(good[k], bad, reason)))
    return out


def _after(original: Block, bad: Block, reason: str) -> set[str]:
    """The outcomes of a chain with ``original`` replaced by ``bad``: the blocks after it descend from an invalid
    block when the refusal is remembered under the hash they name; otherwise (another hash, or the same hash
    refused for what it does not cover, such as a program) they wait as orphans."""
    from spec.chain.state import remembers_refusal
    from spec.errors import Reason, Reject

    remembered = bad.hash() == original.hash() and remembers_refusal(bad, Reject(Reason(reason)))
    return {"valid", reason, "descends" if remembered else "orphan"}


def _import(blocks: list[Block], backend: str, tmp: Path) -> list[object]:
    from reference.node.node import Node

    node = Node(tmp, builder_params(), now=lambda: blocks[-1].header.timestamp + 1, backend=backend)
    trace: list[object] = [sorted((k.hex(), v) for k, v in node.submit_block(b.serialize()).items()) for b in blocks]
    trace.append(node.best_hash().hex())
    trace.append([node.status(b.hash()) for b in blocks])
    node.close()
    return trace


def builder_params():  # the benchmark chain's network
    from conformance.bench_node import PARAMS

    return PARAMS


def test_node_behaves_identically_with_the_c_backend(tmp_path: Path) -> None:
    """The same block sequences through a node with each backend: identical outcomes (reasons included),
    tips and statuses, with signature, sanity and transaction-context rejections."""
    core = require_core()
    before = len(core.DISAGREEMENTS)
    accepts, rejects = core.STATS["c_accepts"], core.STATS["c_rejects"]
    for k, (what, blocks, expected) in enumerate(_sequences()):
        py = _import(blocks, "python", tmp_path / f"py{k}")
        c = _import(blocks, "c", tmp_path / f"c{k}")
        assert py == c, what
        outcomes = {"descends" if v.startswith("descends") else v for step in py[:len(blocks)] for _, v in step}
        assert outcomes == expected, (what, outcomes)
    assert core.STATS["c_accepts"] > accepts, "the C backend was never used"
    assert core.STATS["c_rejects"] > rejects, "the C backend never rejected"
    assert len(core.DISAGREEMENTS) == before


def _pool_trace(blocks: list[Block], txs: list[Transaction], backend: str, tmp: Path) -> list[object]:
    from reference.node.node import Node
    from spec.errors import Reject

    node = Node(tmp, builder_params(), now=lambda: blocks[-1].header.timestamp + 1, backend=backend)
    for b in blocks:
        node.submit_block(b)
    trace: list[object] = []
    for tx in txs:
        try:
            trace.append(node.submit_tx(tx.serialize()).hex())
        except Reject as e:
            trace.append((e.reason.value, e.rule, e.detail))
    trace.append(sorted(t.hex() for t in node.mempool.txs))
    trace.append([(tx.txid().hex(), fee) for tx, fee in node.mempool.txs.values()])
    node.close()
    return trace


def test_node_pool_behaves_identically_with_the_c_backend(tmp_path: Path) -> None:
    """``sendrawtransaction`` on the benchmark chain's tip with each backend: the same transactions taken, the
    same fees, and the same rejections (reason, rule ID and detail) for every TXC fault the pool sees."""
    from conformance.bench_node import FEE

    core = require_core()
    before = len(core.DISAGREEMENTS)
    accepts, rejects = core.STATS["c_accepts"], core.STATS["c_rejects"]
    good = _good()
    cb = [b.transactions[0] for b in good]  # cb[c - 1] is the coinbase at height c; 1..3 are mature and unspent
    chain_tx = good[-1].transactions[1]
    spent = good[-1].transactions[1].inputs[0].previous
    txs = [
        _spend(cb[0].txid(), 1, cb[0].outputs[1].value, FEE),                            # taken
        _spend(cb[0].txid(), 1, cb[0].outputs[1].value, FEE, nonce=b"again"),            # conflicts with the pool
        _spend(cb[1].txid(), 1, cb[1].outputs[1].value, 99),                             # TXC-005
        _spend(cb[30].txid(), 1, cb[30].outputs[1].value, FEE),                          # TXC-013
        _spend(bytes(32), 0, 10**8, FEE),                                                # TXC-002
        _spend(cb[1].txid(), 2, 10**8, FEE),                                             # TXC-002, index beyond
        chain_tx,                                                                        # TXC-001
        _spend(cb[2].txid(), 1, cb[2].outputs[1].value, FEE, key=(7).to_bytes(32, "big")),  # TXC-010: not the owner
        _spend(spent.txid, spent.index, 10**8, FEE),                                     # TXC-003
        _spend(chain_tx.txid(), 0, chain_tx.outputs[0].value, FEE),                      # taken
        _spend(cb[2].txid(), 1, cb[2].outputs[1].value, FEE),                            # taken
    ]
    bad_sig = txs[-1].programs[0].parameter
    txs.append(txs[-1].model_copy(update={"programs": (Program(code=txs[-1].programs[0].code,
                                                               parameter=bad_sig[:10] + bytes([bad_sig[10] ^ 1]) + bad_sig[11:]),)}))
    py = _pool_trace(good, txs, "python", tmp_path / "py")
    c = _pool_trace(good, txs, "c", tmp_path / "c")
    assert py == c
    reasons = [t[0] if isinstance(t, tuple) else "taken" for t in py[:len(txs)]]
    assert reasons == ["taken", "TX_DOUBLE_SPEND", "TX_FEE_TOO_LOW", "COINBASE_IMMATURE", "TX_UNKNOWN_REFERENCE",
                       "TX_UNKNOWN_REFERENCE", "TX_DUPLICATE", "TX_PROGRAM_HASH_MISMATCH", "TX_DOUBLE_SPEND", "taken",
                       "taken", "TX_DUPLICATE"], reasons
    assert core.STATS["c_accepts"] > accepts and core.STATS["c_rejects"] > rejects
    assert len(core.DISAGREEMENTS) == before


def test_library_passes_the_chain_vectors_of_the_handlers_it_implements() -> None:
    """The chain decoders and checks of the library, through cffi, against the chain vectors."""
    core = require_core()
    sys.path.insert(0, str(ROOT / "core"))
    try:
        import replay
    finally:
        sys.path.pop(0)
    report = replay.replay(core)
    failed = {h: row["failed"][:3] for h, row in report.items() if row["failed"]}
    assert not failed, failed
    assert sum(row["passed"] for row in report.values()) >= 280
    assert all(row["passed"] > 0 for row in report.values())


def test_campaign_workers_share_examples_through_redis() -> None:
    """Two workers and a Redis server started here: a failure one finds, the other replays from Redis."""
    require_core()
    sys.path.insert(0, str(ROOT / "core"))
    try:
        import campaign
    finally:
        sys.path.pop(0)
    if campaign.redis_server() is None:
        pytest.skip("redis-server is not installed and cannot be (not root): apt-get install redis-server")
    r = subprocess.run([sys.executable, str(ROOT / "core" / "campaign.py"), "--demo", "--examples", "10"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert "worker A (generating) found the planted bug: True" in r.stdout
    assert "replayed it from Redis: True" in r.stdout
    assert "exit statuses [0, 0]" in r.stdout


def test_sanitized_adapter_passes_every_case_and_the_malformed_lines() -> None:
    """The adapter built with ASan + UBSan: every case of its suites, then hostile lines, no report."""
    require_core()
    r = subprocess.run([sys.executable, str(ROOT / "core" / "coverage.py"), "--sanitize"], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    m = re.search(r"sanitizers: (\d+)/(\d+) cases passed", r.stdout)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) > 500, r.stdout
    hostile = b"\n".join([b"{" * 3000, b'{"id": 1, "handler": "encoding/cbor_encode", "input": {"value": '
                          + b'{"array": [' * 150 + b'{"int": "1"}' + b"]}" * 150 + b"}}",
                          b'{"id": 2, "handler": "encoding/base58_decode", "input": {"text": "\\ud800\\udc00\\ud800"}}',
                          b'{"id": 3, "handler": "encoding/varbytes_decode", "input": {"bytes": "ffffffffffffffff7f", "max": 4294967295}}',
                          b'{"id": 4, "handler": "crypto/program_verify", "input": {"code": "' + b"ae" * 40
                          + b'", "parameter": "", "message": ""}}', b"\xc3\x28",
                          b'{"id": -0, "handler": "encoding/cbor_encode", "input": {"value": {"int": "1", "int": "2"}}}',
                          b'{"id": 5, "handler": "encoding/varuint_decode", "input": {"bytes": "00", "bytes": "fd1000"}}']
                         ) + b"\n"
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1", "UBSAN_OPTIONS": "halt_on_error=1"}
    out = subprocess.run([str(ROOT / "core" / "build-sanitize" / "elastos-core-adapter")], input=hostile,
                         capture_output=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    replies = [json.loads(x) for x in out.stdout.splitlines()]
    got = [r.get("error") or r.get("reject") for r in replies]
    assert got == ["MALFORMED_REQUEST", "CBOR_TOO_DEEP", "INVALID_BASE58_CHARACTER", "LENGTH_EXCEEDS_MAX",
                   "SCRIPT_MALFORMED", "MALFORMED_REQUEST", None, "NON_CANONICAL_VARUINT"]
    # the reference adapter answers the same lines alike (details are free text and not compared)
    from conformance.protocol import handle_line
    from reference.adapter import handler_table

    ref = [json.loads(handle_line(line, handler_table(), {})) for line in hostile.splitlines()]
    strip = lambda r: {k: v for k, v in r.items() if k != "detail"}  # noqa: E731
    assert [strip(r) for r in replies] == [strip(r) for r in ref]


def test_adapter_loads_large_state_inputs_like_the_reference() -> None:
    """A ``tx.context`` view of 20,000 unspent outputs (with repeated entries, of which the later wins, as
    in the binding's dict) and an object of 20,000 ``chain_txs`` keys: the adapter loads them by sorting
    (the JSON reader finds repeated keys the same way) and answers as the reference does."""
    require_core()
    import random

    from conformance.protocol import handle_line
    from reference.adapter import handler_table

    case = json.loads((ROOT / "vectors" / "chain" / "ela.tx.context" / "fee_100.json").read_text())
    rng = random.Random(9)
    extra = [{"txid": rng.randbytes(32).hex(), "index": i % 5, "value": "1", "program_hash": "21" + "00" * 20}
             for i in range(20_000)]
    lines = []
    for more in (1000, 0):
        inp = dict(case["input"])
        real = inp["utxos"]
        # the real outputs again at the end: with 1000 sela more the fee grows by 1000, since the later entry wins
        again = [{**u, "value": str(int(u["value"]) + more)} for u in real]
        inp["utxos"] = real + extra + again
        inp["chain_txs"] = {**inp["chain_txs"], **{u["txid"]: 5 for u in extra}}
        lines.append(json.dumps({"id": len(lines), "handler": "chain/ela.tx.context", "input": inp}).encode())
    out = subprocess.run([str(ADAPTER)], input=b"\n".join(lines) + b"\n", capture_output=True, check=True, timeout=300)
    replies = [json.loads(x) for x in out.stdout.splitlines()]
    ref = [json.loads(handle_line(line, handler_table(), {})) for line in lines]
    assert replies == ref
    assert replies[1]["ok"] == case["expect"]["ok"]
    assert int(replies[0]["ok"]["fee"]) == int(case["expect"]["ok"]["fee"]) + 1000 * len(case["input"]["utxos"])


def test_block_sanity_hook_decides_in_c_and_hands_rejections_to_the_spec() -> None:
    """Under the C backend, ``validation.check_block_sanity`` (the node's call) accepts in C and keeps C's decodings
    of the transactions for the transaction hooks; a block C refuses gets the spec's own Reject, reason included."""
    core = require_core()
    from conformance.bench_chain import NOW, build_block
    from spec.chain import validation
    from spec.chain.params import INSTANT
    from spec.errors import Reject

    state, block, _ = build_block(20)
    accepts, rejects = core.STATS["c_accepts"], core.STATS["c_rejects"]
    with core.use_backend("c"):
        validation.check_block_sanity(block, INSTANT, NOW)
        cache = core._decoded.get()
        assert cache is not None and all(cache[id(tx)][0] is tx and cache[id(tx)][1] == 0 for tx in block.transactions)
        validation.check_block_context(block, state, INSTANT)  # the transaction hooks use those decodings
    assert core.STATS["c_accepts"] > accepts
    bad_root = block.model_copy(update={"header": block.header.model_copy(update={"merkle_root": bytes(32)})})
    late = block.header.timestamp - 7201  # the block is then more than two hours ahead of "now" (BLK-001)
    for bad, now in ((bad_root, NOW), (block, late)):
        try:
            validation._spec_functions[3](bad, INSTANT, now)
            raise AssertionError("the spec accepted a bad block")
        except Reject as e:
            expected = (e.reason, e.rule)
        with core.use_backend("c"):
            try:
                validation.check_block_sanity(bad, INSTANT, now)
                raise AssertionError("the hook accepted a bad block")
            except Reject as e:
                assert (e.reason, e.rule) == expected
    assert core.STATS["c_rejects"] >= rejects + 2
