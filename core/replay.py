"""Replay chain-suite vectors through the C core's library (cffi), in-process.

The adapter runs the whole chain suite through JSON; this module checks the library's own entry
points as the Python bindings call them. It runs the chain vectors of the handlers it covers
through :mod:`reference.core` and compares each answer with the
vector's ``expect`` (result fields the library computes, or the reject reason). Cases whose
expectation is ``MALFORMED_INPUT`` are questions about the JSON binding, not the library, and are
left out. Used by ``tests/test_core.py`` and by ``core/coverage.py`` (coverage of ``chain.c``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.vectors import default_vectors_dir, load_vectors
from spec.chain import params as P
from spec.crypto.hashes import sha256d

Answer = tuple[str, Any]


def _network(inp: dict[str, Any]) -> Any:
    net = P.network(inp["network"])
    limits = inp.get("limits") or {}
    return net.model_copy(update=dict(limits)) if limits else net


def replay(core: Any) -> dict[str, dict[str, Any]]:
    """{handler: {"passed": n, "failed": [(case id, expected, got)], "left_out": n}} for the chain handlers."""

    def answer(code: int, ok: Any) -> Answer:
        return ("ok", ok) if code == 0 else ("reject", core.reason(code).value)

    def tx_decode(inp: dict[str, Any], expect: Any) -> Answer:
        code, txid = core.tx_decode_code(bytes.fromhex(inp["tx"]))
        return answer(code, {"txid": txid.hex()} if txid else None)

    def tx_sanity(inp: dict[str, Any], expect: Any) -> Answer:
        code = core.tx_sanity_code(bytes.fromhex(inp["tx"]), inp["height"], core.chain_params(_network(inp)))
        return answer(code, {})

    def block_decode(inp: dict[str, Any], expect: Any) -> Answer:
        try:
            b = core.decode_block(bytes.fromhex(inp["block"]))
        except Exception as e:  # a Reject from the C decoder
            return ("reject", e.reason.value)  # type: ignore[attr-defined]
        return ("ok", {"hash": b.hash().hex(), "txids": [t.hex() for t in b.txids()], "size": b.ptr.size})

    def block_sanity(inp: dict[str, Any], expect: Any) -> Answer:
        try:
            b = core.decode_block(bytes.fromhex(inp["block"]))
        except Exception as e:
            return ("reject", e.reason.value)  # type: ignore[attr-defined]
        return answer(b.sanity_code(core.chain_params(_network(inp)), inp["now"]), {})

    def auxpow_check(inp: dict[str, Any], expect: Any) -> Answer:
        block_hash = bytes.fromhex(inp["block_hash"])
        if len(block_hash) != 32:
            return ("reject", "WRONG_LENGTH")
        return answer(core.auxpow_check_code(bytes.fromhex(inp["auxpow"]), block_hash, inp["chain_id"]), {})

    def auxpow_decode(inp: dict[str, Any], expect: Any) -> Answer:
        raw = bytes.fromhex(inp["auxpow"])
        a = core.ffi.new("ec_auxpow *")
        code = int(core.lib.ec_auxpow_decode(raw, len(raw), a))
        return answer(code, {"size": int(a.size)} if code == 0 else None)

    def merkle_root(inp: dict[str, Any], expect: Any) -> Answer:
        """On every SHA-256 code the CPU can run (OpenSSL's compression, and the SHA-NI and AVX-512 codes
        where the CPU has them): they must give one answer."""
        answers = []
        try:
            for path in (0, 1, 2):
                if core.lib.ec_sha256d64_select(path) != path:
                    continue
                try:
                    answers.append(("ok", {"root": core.merkle_root([bytes.fromhex(h) for h in inp["hashes"]]).hex()}))
                except Exception as e:
                    answers.append(("reject", e.reason.value))  # type: ignore[attr-defined]
        finally:
            core.lib.ec_sha256d64_select(2)
        return answers[0] if all(a == answers[0] for a in answers) else ("disagree", answers)

    def pow_check(inp: dict[str, Any], expect: Any) -> Answer:
        if "parent_header" in inp:
            raw = bytes.fromhex(inp["parent_header"])
            if len(raw) != 80:
                return ("reject", "TRUNCATED" if len(raw) < 80 else "TRAILING_BYTES")
            h = sha256d(raw)
        else:
            h = bytes.fromhex(inp["parent_header_hash"])
            if len(h) != 32:
                return ("reject", "WRONG_LENGTH")
        return answer(core.pow_check_code(h, inp["bits"], _network(inp).pow_limit), {})

    def expected_index(inp: dict[str, Any], expect: Any) -> Answer:
        out = core.ffi.new("uint32_t *")
        code = int(core.lib.ec_expected_index(inp["nonce"], inp["chain_id"], inp["height"], out))
        return answer(code, {"index": int(out[0])})

    def verify_signatures(inp: dict[str, Any], expect: Any) -> Answer:
        raw = bytes.fromhex(inp["tx"])
        tx = core.ffi.new("ec_tx *")
        try:
            code = int(core.lib.ec_tx_decode(raw, len(raw), tx))
            if code == 0:
                refs = b"".join(bytes.fromhex(r["program_hash"]) for r in inp["referenced_outputs"])
                code = int(core.lib.ec_check_signatures(tx, refs, len(inp["referenced_outputs"])))
        finally:
            core.lib.ec_tx_free(tx)
        return answer(code, {})

    handlers: dict[str, tuple[Callable[[dict[str, Any], Any], Answer], tuple[str, ...]]] = {
        # handler: (replay, the result fields compared)
        "ela.tx.decode": (tx_decode, ("txid",)),
        "ela.tx.sanity": (tx_sanity, ()),
        "ela.block.decode": (block_decode, ("hash", "txids", "size")),
        "ela.block.sanity": (block_sanity, ()),
        "ela.auxpow.check": (auxpow_check, ()),
        "ela.auxpow.decode": (auxpow_decode, ("size",)),
        "ela.merkle.root": (merkle_root, ("root",)),
        "ela.pow.check": (pow_check, ()),
        "ela.auxpow.expected_index": (expected_index, ("index",)),
        "ela.tx.verify_signatures": (verify_signatures, ()),
    }
    report: dict[str, dict[str, Any]] = {h: {"passed": 0, "failed": [], "left_out": 0} for h in handlers}
    for case in load_vectors(default_vectors_dir()).cases:
        if case.suite != "chain" or case.handler not in handlers:
            continue
        row = report[case.handler]
        expect = case.data["expect"]
        if expect.get("reject") == "MALFORMED_INPUT":
            row["left_out"] += 1
            continue
        fn, fields = handlers[case.handler]
        kind, value = fn(case.data["input"], expect)
        if "reject" in expect:
            ok = kind == "reject" and value == expect["reject"]
        else:
            ok = kind == "ok" and all(value.get(f) == expect["ok"].get(f) for f in fields)
        if ok:
            row["passed"] += 1
        else:
            row["failed"].append((case.id, expect, {kind: value}))
    return report
