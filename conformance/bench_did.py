"""``make bench`` (DID part): document verification against raw P-256, and resolution against chain size.

==============================================  ==============================================  ========
measure                                         how                                             target
==============================================  ==============================================  ========
documents vs raw P-256                          :func:`spec.did.document.parse_document` then   >= 0.6
                                                :func:`~spec.did.document.is_genuine` of 1,000
                                                primitive documents (each its own key) per
                                                second, against ``cryptography``'s ECDSA P-256
                                                verify of the same 1,000 (compressed key,
                                                signed bytes, r || s) triples, each key loaded
                                                and the signature DER-encoded, in the same run
resolve vs DIDs stored                          the reference service
                                                (:class:`reference.idchain.service.IdChainService`,
                                                SQLite) resolves one DID with 1,000 updates,
                                                latest (``all`` false) and full history, with
                                                10,000 and then 100,000 other DIDs stored; the
                                                ratio of the times at the largest and the
                                                smallest size                                   <= 1.5
==============================================  ==============================================  ========

Every document, create and update is built here with keys derived from its index and RFC 6979
signatures, so runs are deterministic. The stored DIDs are real: their create requests are signed
beforehand (in bulk, timed as "sign") and then published through the service in blocks of
``--block`` requests, each checked by the spec's :func:`~spec.did.chain.check_request` and written in
one SQLite transaction ("apply"). Resolve times are the median of ``--samples`` calls. Prints a table
and, with ``--json FILE``, writes JSON. Exit status is non-zero when a target is missed (``--no-fail``
to report only).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from reference.idchain.service import IdChainService
from spec.crypto import p256
from spec.did import chain, jsontext, keys
from spec.did import document as D
from spec.did import request as R
from spec.did.syntax import parse_did_url
from spec.errors import Reject

DOCUMENT_TARGET = 0.6
RESOLVE_TARGET = 1.5
T0 = 1_700_000_000
EXPIRES = "2035-01-01T00:00:00Z"
CREATED = "2023-11-14T22:13:20Z"
_BASE = 0xD1D0_0000_0000


def _key(i: int) -> bytes:
    return (_BASE + i).to_bytes(32, "big")


def primitive_document(i: int) -> tuple[str, bytes, str]:
    """(DID, private key, normalized document text) of the ``i``-th bench identity: one key, self-signed."""
    sk = _key(i)
    pub = p256.public_key_from_private(sk)
    did = str(keys.did_from_public_key(pub))
    vm = f"{did}#primary"
    d: dict[str, Any] = {
        "id": did, "authentication": [vm], "expires": EXPIRES,
        "publicKey": [{"id": vm, "type": "ECDSAsecp256r1", "controller": did,
                       "publicKeyBase58": keys.public_key_to_base58(pub)}],
        "proof": {"type": "ECDSAsecp256r1", "created": CREATED, "creator": vm, "signatureValue": "AA"}}
    message = D.signed_bytes(D.parse_document(jsontext.serialize(d)))
    d["proof"]["signatureValue"] = R.b64url_encode(p256.ecdsa_sign(sk, message))
    return did, sk, D.normalized(D.parse_document(jsontext.serialize(d)))


def request(op: str, did: str, sk: bytes, payload: str, previous_txid: str | None = None) -> str:
    return R.serialize(R.build_request(op, payload, parse_did_url(f"{did}#primary"), sk,  # type: ignore[arg-type]
                                       previous_txid=previous_txid))


_CURVE, _DETERMINISTIC = ec.SECP256R1(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def _sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    r, s = decode_dss_signature(key.sign(message, _DETERMINISTIC))
    return R.b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def fast_create(i: int) -> str:
    """``request("create", *primitive_document(i))`` built without the spec's parser: the document's
    normalized members written in order and each key derived once (the bulk of the stored DIDs). The
    smoke test checks it gives the same text; the service checks every one it stores."""
    key = ec.derive_private_key(_BASE + i, _CURVE)
    pub = key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    did = f"did:elastos:{keys.did_address(pub)}"
    vm = f"{did}#primary"
    d: dict[str, Any] = {"id": did, "publicKey": [{"id": vm, "type": "ECDSAsecp256r1", "controller": did,
                                                   "publicKeyBase58": keys.public_key_to_base58(pub)}],
                         "authentication": [vm], "expires": EXPIRES}
    signature = _sign(key, jsontext.serialize(d).encode("utf-8"))
    d["proof"] = {"type": "ECDSAsecp256r1", "created": CREATED, "creator": vm, "signatureValue": signature}
    payload = R.b64url_encode(jsontext.serialize(d).encode("utf-8"))
    req = {"header": {"specification": R.DID_SPECIFICATION, "operation": "create"}, "payload": payload,
           "proof": {"type": D.DEFAULT_KEY_TYPE, "verificationMethod": vm, "signature": ""}}
    req["proof"]["signature"] = _sign(key, f"{R.DID_SPECIFICATION}create{payload}".encode("utf-8"))
    return jsontext.serialize(req)


def clear_key_caches() -> None:
    """Forget decoded keys, so that every round starts cold."""
    p256.decompress_point.cache_clear()
    p256._public_key_object.cache_clear()


# -- (a) documents ------------------------------------------------------------------------------------------------


def raw_triples(texts: list[str]) -> list[tuple[bytes, bytes, bytes]]:
    """(compressed public key, signed bytes, r || s) of each document's one proof."""
    out = []
    for text in texts:
        doc = D.parse_document(text)
        pub = keys.public_key_from_base58(doc.public_keys[0].public_key_base58)
        out.append((pub, D.signed_bytes(doc), R.b64url_decode(doc.proofs[0].signature, "signature")))
    return out


def time_raw(triples: list[tuple[bytes, bytes, bytes]]) -> float:
    curve, algo = ec.SECP256R1(), ec.ECDSA(hashes.SHA256())
    t0 = time.perf_counter()
    for pub, msg, sig in triples:
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        ec.EllipticCurvePublicKey.from_encoded_point(curve, pub).verify(der, msg, algo)
    return time.perf_counter() - t0


def time_documents(texts: list[str]) -> float:
    t0 = time.perf_counter()
    for text in texts:
        if not D.is_genuine(D.parse_document(text)):
            raise AssertionError("a bench document is not genuine")
    return time.perf_counter() - t0


def time_parse(texts: list[str]) -> tuple[float, list[D.Document]]:
    t0 = time.perf_counter()
    docs = [D.parse_document(text) for text in texts]
    return time.perf_counter() - t0, docs


def time_genuine(docs: list[D.Document]) -> float:
    t0 = time.perf_counter()
    if not all(D.is_genuine(doc) for doc in docs):
        raise AssertionError("a bench document is not genuine")
    return time.perf_counter() - t0


def bench_documents(count: int, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    log(f"documents: signing {count} primitive documents")
    texts = [primitive_document(1_000_000 + i)[2] for i in range(count)]
    triples = raw_triples(texts)
    t_raw = t_doc = t_parse = t_genuine = float("inf")
    for r in range(rounds):
        log(f"documents: round {r + 1}/{rounds}")
        clear_key_caches()
        t_raw = min(t_raw, time_raw(triples))
        clear_key_caches()
        t_doc = min(t_doc, time_documents(texts))
        clear_key_caches()
        t, docs = time_parse(texts)
        t_parse = min(t_parse, t)
        clear_key_caches()  # is_genuine alone: keys loaded again, as parse_document had loaded them
        t_genuine = min(t_genuine, time_genuine(docs))
    raw_rate, doc_rate = count / t_raw, count / t_doc
    ratio = round(doc_rate / raw_rate, 3)  # the verdict is on the ratio as reported, not on float noise beyond it
    return {"documents": count, "rounds": rounds, "raw_verify_per_s": round(raw_rate, 1),
            "documents_per_s": round(doc_rate, 1), "ratio": ratio,
            "parse_only_per_s": round(count / t_parse, 1), "is_genuine_only_per_s": round(count / t_genuine, 1),
            "target": DOCUMENT_TARGET, "ok": ratio >= DOCUMENT_TARGET,
            "mean_document_bytes": round(sum(map(len, texts)) / count)}


# -- (b) resolution -----------------------------------------------------------------------------------------------


class Chain:
    """A service in a temporary directory and the block time of its next block."""

    def __init__(self, datadir: str, block: int) -> None:
        self.service = IdChainService(datadir)
        self.block = block
        self.t = T0

    def publish(self, requests: list[str]) -> None:
        for i in range(0, len(requests), self.block):
            _, results = self.service.submit_block(self.t, requests[i:i + self.block])
            self.t += 1
            bad = [r for r in results if isinstance(r, Reject)]
            if bad:
                raise AssertionError(f"the spec rejected a bench request: {bad[0]}")


def _median_ms(fn: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 3)


def bench_resolve(sizes: list[int], updates: int, samples: int, block: int,
                  log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-did-") as tmp:
        c = Chain(str(Path(tmp) / "idc"), block)
        try:
            return _bench_resolve(c, sizes, updates, samples, log)
        finally:
            c.service.close()


def _bench_resolve(c: Chain, sizes: list[int], updates: int, samples: int,
                   log: Callable[[str], None]) -> dict[str, Any]:
    target, sk, doc = primitive_document(0)
    log(f"resolve: the target DID and its {updates} updates")
    t0 = time.perf_counter()
    texts = [request("create", target, sk, doc)]
    for _ in range(updates):
        texts.append(request("update", target, sk, doc, chain.request_txid(texts[-1]).hex()))
    t_sign = time.perf_counter() - t0
    t0 = time.perf_counter()
    c.publish(texts)
    target_build = {"sign_s": round(t_sign, 2), "apply_s": round(time.perf_counter() - t0, 2)}
    status, txs = c.service.resolve_did(target, all=True)
    if status != chain.STATUS_VALID or len(txs) != updates + 1:
        raise AssertionError(f"the target resolves {status} with {len(txs)} transactions")
    rows: list[dict[str, Any]] = []
    stored = 0
    for size in sizes:
        t_sign = t_apply = 0.0
        step = max(1, min(5000, size // 10))
        while stored < size:
            n = min(step, size - stored)
            t0 = time.perf_counter()
            batch = [fast_create(i) for i in range(stored + 1, stored + 1 + n)]
            t1 = time.perf_counter()
            c.publish(batch)
            t2 = time.perf_counter()
            t_sign, t_apply, stored = t_sign + t1 - t0, t_apply + t2 - t1, stored + n
            log(f"resolve: {stored:,}/{size:,} other DIDs stored "
                f"(sign {t_sign:.1f} s, apply {t_apply:.1f} s, {n / (t2 - t1):,.0f} creates/s)")
        other = primitive_document(size // 2 + 1)[0]
        latest = _median_ms(lambda: c.service.resolve_did(target, all=False), samples)
        full = _median_ms(lambda: c.service.resolve_did(target, all=True), samples)
        one = _median_ms(lambda: c.service.resolve_did(other, all=True), samples)
        missing = _median_ms(lambda: c.service.resolve_did("did:elastos:nobody", all=True), samples)
        row = {"other_dids": size, "stored_requests": c.service.store.count(),
               "sign_s": round(t_sign, 2), "apply_s": round(t_apply, 2),
               "resolve_latest_ms": latest, "resolve_all_ms": full, "resolve_other_ms": one,
               "resolve_missing_ms": missing}
        rows.append(row)
        log(f"resolve: {size:,} other DIDs: latest {latest} ms, all {full} ms")
    ratio_latest = rows[-1]["resolve_latest_ms"] / rows[0]["resolve_latest_ms"]
    ratio_all = rows[-1]["resolve_all_ms"] / rows[0]["resolve_all_ms"]
    # the verdict is on the ratios as reported: times of 0.086 and 0.129 ms are a ratio of 1.500, not the
    # 1.5000000000000002 of their float quotient
    ratio_latest, ratio_all = round(ratio_latest, 3), round(ratio_all, 3)
    return {"updates": updates, "samples": samples, "block": c.block, "target_build": target_build, "sizes": rows,
            "ratio_latest": ratio_latest, "ratio_all": ratio_all,
            "target": RESOLVE_TARGET, "ok": max(ratio_latest, ratio_all) <= RESOLVE_TARGET}


# -- report -------------------------------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    d, r = report["documents"], report["resolve"]
    rows = [("measure", "value", "ratio", "target"),
            ("raw P-256 verify (cryptography)", f"{d['raw_verify_per_s']:,.0f} /s", "key load + verify", ""),
            (f"parse + is_genuine, {d['documents']} documents", f"{d['documents_per_s']:,.0f} /s",
             f"{d['ratio']:.3f} of raw", f">= {d['target']}: {'ok' if d['ok'] else 'MISSED'}"),
            ("  parse_document alone", f"{d['parse_only_per_s']:,.0f} /s", "", ""),
            ("  is_genuine alone (keys loaded)", f"{d['is_genuine_only_per_s']:,.0f} /s", "", "")]
    for row in r["sizes"]:
        rows.append((f"resolve, {r['updates']} updates, {row['other_dids']:,} other DIDs",
                     f"{row['resolve_latest_ms']} ms / {row['resolve_all_ms']} ms all", "", ""))
        rows.append((f"  build {row['other_dids']:,} DIDs (cumulative)",
                     f"sign {row['sign_s']} s, apply {row['apply_s']} s", "", ""))
    first, last = r["sizes"][0]["other_dids"], r["sizes"][-1]["other_dids"]
    rows.append((f"resolve at {last:,} vs {first:,} DIDs", "", f"{r['ratio_latest']:.3f} / {r['ratio_all']:.3f} all",
                 f"<= {r['target']}: {'ok' if r['ok'] else 'MISSED'}"))
    w = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w[i]) for i, c in enumerate(row)).rstrip() for row in rows)


def run(docs: int = 1000, rounds: int = 3, updates: int = 1000, sizes: tuple[int, ...] = (10_000, 100_000),
        samples: int = 25, block: int = 1000, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Both measurements; the report (what ``--json`` writes)."""
    say = log or (lambda m: print(f"bench-did: {m}", file=sys.stderr, flush=True))
    report = {"cpus": os.cpu_count(), "documents": bench_documents(docs, rounds, say),
              "resolve": bench_resolve(list(sizes), updates, samples, block, say)}
    report["ok"] = report["documents"]["ok"] and report["resolve"]["ok"]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m conformance.bench_did")
    ap.add_argument("--docs", type=int, default=1000, help="primitive documents to verify (default 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="measure the documents this many times, keep the best")
    ap.add_argument("--updates", type=int, default=1000, help="updates of the resolved DID (default 1000)")
    ap.add_argument("--sizes", default="10000,100000", help="numbers of other DIDs stored (default 10000,100000)")
    ap.add_argument("--samples", type=int, default=25, help="resolve calls per measure, median kept (default 25)")
    ap.add_argument("--block", type=int, default=1000, help="requests per block when building (default 1000)")
    ap.add_argument("--json", help="write the report here as JSON")
    ap.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    args = ap.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if len(sizes) < 2 or list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
        ap.error("--sizes: at least two increasing positive numbers")
    report = run(args.docs, args.rounds, args.updates, sizes, args.samples, args.block)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0 if report["ok"] or args.no_fail else 1


if __name__ == "__main__":
    raise SystemExit(main())
