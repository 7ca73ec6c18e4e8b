"""``make bench-hive``: the reference vault's file throughput, sign-in round trip and incremental sync.

Measured in one run, on loopback, against a vault served in this process by
:class:`reference.hive.server.HiveServer` over a temporary data folder (real SQLite, real files):

* **throughput**: a ``--mib`` MiB file (default 100) uploaded with ``PUT /vault/files/<path>``
  (:meth:`~reference.hive.client.HiveClient.upload_file`, streamed from the file) and downloaded with
  ``GET`` into a file (:meth:`~reference.hive.client.HiveClient.download_to`), against a plain
  ``shutil.copyfile`` of the same file in the same folder; the ratios are the vault's throughput over
  the copy's (target: at least 0.5 each way). The download, like the copy, is not ``fsync``-ed (a
  sync's downloads are), and, like the copy, writes a new file (the last run's is removed before the
  timing). An upload is durable (hashed, written, ``fsync``-ed and
  renamed before it is acknowledged) while the copy stays in the page cache, so the upload is also
  reported against a copy followed by ``fsync``. Each is the best of ``--repeat`` runs (default 3),
  the copies and transfers interleaved, so a burst of load on a shared machine skews both sides alike;
* **a public upload**: the same file with ``?public=true``, whose CIDv0 leaves are hashed as well
  (on a thread of their own, beside the SHA-256);
* **the floors**, measured in the same runs, which bound what the vault can reach on this machine:

  - **SHA-256**, which every upload and every checked download computes over every byte, of the same
    bytes in the vault's piece size as they arrive: each piece is copied into a buffer and then hashed
    while it is in the cache, and only the hashing is timed. (The same hash over the bytes where they
    lie in memory, out of the cache, is reported beside it: it is slower, and it is what a hashing
    thread on the other core meets, since a piece another core received is not in this core's cache.)
  - **the durable write** (uploads): the same bytes written to a new file in the vault's piece size, with
    the vault's writeback and ``fsync``, no hashing: the disk's share of a durable upload.
  - **the HTTP stack alone**: the same client and server stack (the standard library's threading HTTP
    server, bodies read in the vault's piece size, files sent with ``sendfile``) with no vault behind
    it: the upload is received and dropped, the download sent from the page cache and received into a
    file without hashing.
  - **the CPU**: a transfer must do the work of its parts (the HTTP stack's, the hash's, and for an
    upload the durable write's), each measured alone above as CPU time of this process; on the
    machine's cores that work takes at least its sum over the cores.

  A transfer, however well it overlaps its parts, takes at least as long as each floor, so the
  **ceiling** of each ratio is the copy's time over that of the highest floor. The CPU time of each
  transfer itself (the vault and the client share this process and the machine's cores) is reported
  too;
* **sign-in**: the mean wall time of ``--signins`` complete sign-ins (challenge, check, presentation,
  response, token), client work included;
* **sync**: a home folder of ``--files`` small files (default 10 000) already in step with the vault
  (seeded directly into the store and the client's state file), of which ``--changed`` percent
  (default 1) are then rewritten; one :func:`reference.hive.client.sync_folder` must upload exactly
  the changed files and bodies, download nothing, and leave nothing to do (its only other action is
  to adopt the tombstones the throughput runs left when they deleted their files).

Prints a table and, with ``--json FILE``, JSON. Exit status is non-zero when the sync moves more than
the changes, or (unless ``--no-fail``) a throughput ratio misses its target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spec.hive import access, identity

THROUGHPUT_TARGET = 0.5
USER, INSTANCE = (0xB1).to_bytes(32, "big"), (0xB2).to_bytes(32, "big")
APP = identity.did_of((0xB3).to_bytes(32, "big"))


def _body(size: int) -> bytes:
    block = b"".join(hashlib.sha256(f"bench-{i}".encode()).digest() for i in range(2048))  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def _stack_alone() -> Any:
    """The vault's HTTP stack with nothing behind it: ``PUT`` reads the body in ``IO_CHUNK`` pieces and drops
    it, ``GET /<path>`` sends the file ``<path>`` with ``sendfile``. Started on an ephemeral port."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from reference.hive.server import IO_CHUNK

    class Bare(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        served: Path

        def log_message(self, *args: Any) -> None:
            pass

        def do_PUT(self) -> None:
            left = int(self.headers["Content-Length"])
            buf = bytearray(IO_CHUNK)
            while left:
                n = self.rfile.readinto(memoryview(buf)[:min(left, IO_CHUNK)])
                if not n:
                    return
                left -= n
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def do_GET(self) -> None:
            with open(self.served, "rb") as f:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
                self.end_headers()
                self.connection.sendfile(f)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, Bare


def _get_bare(port: int, target: Path) -> int:
    """``GET /served`` from the bare stack into ``target``, in the client's piece size, not hashed: the
    transfer floor of a download. The bytes received."""
    import http.client

    from reference.hive.client import IO_CHUNK

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=IO_CHUNK)
    try:
        conn.request("GET", "/served")
        r = conn.getresponse()
        buf = bytearray(IO_CHUNK)
        view = memoryview(buf)
        got = 0
        with open(target, "wb", buffering=0) as f:
            while n := r.readinto(buf):
                f.write(view[:n])
                got += n
        return got
    finally:
        conn.close()


def _sha256_alone(data: bytes) -> tuple[float, float]:
    """Seconds to SHA-256 ``data`` in the vault's piece size: as the pieces arrive (each copied into a
    buffer, then hashed in the cache; only the hashing counted), the hashing floor of a transfer; and
    where they lie in memory, out of the cache."""
    from reference.hive.server import IO_CHUNK

    view = memoryview(data)
    buf = bytearray(IO_CHUNK)
    piece = memoryview(buf)
    h, arriving = hashlib.sha256(), 0.0
    for i in range(0, len(data), IO_CHUNK):
        n = min(IO_CHUNK, len(data) - i)
        piece[:n] = view[i:i + n]
        t = time.perf_counter()
        h.update(piece[:n])
        arriving += time.perf_counter() - t
    t = time.perf_counter()
    h = hashlib.sha256()
    for i in range(0, len(data), IO_CHUNK):
        h.update(view[i:i + IO_CHUNK])
    h.digest()
    return arriving, time.perf_counter() - t


def _durable_write_alone(data: bytes, target: Path) -> tuple[float, float]:
    """Wall and CPU seconds to write ``data`` to the new file ``target`` as the vault stores an upload (in
    its piece size, its writeback started as it goes, ``fsync``-ed), without hashing: the disk's floor of a
    durable upload."""
    from reference.hive.server import IO_CHUNK, _writeback

    target.unlink(missing_ok=True)
    view = memoryview(data)
    t, c = time.perf_counter(), time.process_time()
    with open(target, "wb", buffering=0) as f:
        on_written = _writeback(f.fileno())
        for i in range(0, len(data), IO_CHUNK):
            f.write(view[i:i + IO_CHUNK])
            on_written(min(i + IO_CHUNK, len(data)))
        os.fsync(f.fileno())
    return time.perf_counter() - t, time.process_time() - c


def run(mib: int, files: int, changed_percent: float, signins: int, repeat: int = 3,
        progress: Any = None) -> dict[str, Any]:
    from reference.hive.client import HiveClient, file_sha256, sync_folder
    from reference.hive.server import HiveServer, Vault, load_service_key
    from reference.hive.store import HiveStore

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    load_before = os.getloadavg()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        now = int(time.time())
        docs = {identity.did_of(k): identity.primitive_document(k, created=now - 60, expires=now + 86400)
                for k in (USER, INSTANCE)}
        store = HiveStore(tmp / "vault")
        vault = Vault(store, load_service_key(tmp / "vault"), quota=1 << 40)
        for text in docs.values():
            vault.add_document(text)
        docs[vault.service.did] = store.documents()[vault.service.did]
        server = HiveServer(vault, 0).start()
        try:
            vc = identity.issue_credential(USER, identity.did_of(INSTANCE), "app-id-credential", ("AppIdCredential",),
                                           {"appDid": APP}, issued=now - 60, expires=now + 86400)
            client = HiveClient(f"http://127.0.0.1:{server.port}", timeout=600)
            t = time.perf_counter()
            for _ in range(signins):
                client.sign_in(INSTANCE, vc, now=int(time.time()), documents=docs)
            signin_ms = (time.perf_counter() - t) / signins * 1000

            size = mib << 20
            src = tmp / "src.bin"
            body = _body(size)
            src.write_bytes(body)
            want = file_sha256(src)
            httpd, bare = _stack_alone()
            bare.served = src
            stack = HiveClient(f"http://127.0.0.1:{httpd.server_address[1]}", timeout=600)
            times: dict[str, list[float]] = {k: [] for k in ("copy", "durable_copy", "up", "up_public", "down",
                                                             "stack_up", "stack_down", "sha256", "sha256_memory",
                                                             "write", "stack_up_cpu", "stack_down_cpu",
                                                             "write_cpu")}
            cpu: dict[str, list[float]] = {"up": [], "down": []}
            """CPU seconds of the whole process (the vault and the client, every thread) per transfer."""
            try:
                for i in range(repeat):
                    say(f"throughput: run {i + 1} of {repeat} ({mib} MiB each way)")
                    # every timed write goes to a new file, as the copy does: the last run's files go first
                    # (replacing a 100 MiB file frees its pages and extents, tens of ms here, in the timing)
                    for f in [*tmp.glob("copy*.bin"), tmp / "down.bin", tmp / "stack-down.bin"]:
                        f.unlink(missing_ok=True)
                    t = time.perf_counter()
                    shutil.copyfile(src, tmp / "copy.bin")
                    times["copy"].append(time.perf_counter() - t)
                    t, c = time.perf_counter(), time.process_time()
                    stack.request("PUT", "upload", raw=src)
                    times["stack_up"].append(time.perf_counter() - t)
                    times["stack_up_cpu"].append(time.process_time() - c)
                    t, c = time.perf_counter(), time.process_time()
                    client.upload_file("bench.bin", src)
                    times["up"].append(time.perf_counter() - t)
                    cpu["up"].append(time.process_time() - c)
                    t, c = time.perf_counter(), time.process_time()
                    if _get_bare(httpd.server_address[1], tmp / "stack-down.bin") != size:
                        raise RuntimeError("the bare stack sent a short body")
                    times["stack_down"].append(time.perf_counter() - t)
                    times["stack_down_cpu"].append(time.process_time() - c)
                    for key, seconds in zip(("sha256", "sha256_memory"), _sha256_alone(body)):
                        times[key].append(seconds)
                    for key, seconds in zip(("write", "write_cpu"), _durable_write_alone(body, tmp / "write.bin")):
                        times[key].append(seconds)
                    t, c = time.perf_counter(), time.process_time()
                    got = client.download_to("bench.bin", tmp / "down.bin", durable=False)
                    times["down"].append(time.perf_counter() - t)
                    cpu["down"].append(time.process_time() - c)
                    if got != want or file_sha256(tmp / "down.bin") != want:
                        raise RuntimeError("the downloaded body differs")
                    client.request("DELETE", "vault/files/bench.bin")
                    t = time.perf_counter()
                    client.upload_file("public.bin", src, public=True)
                    times["up_public"].append(time.perf_counter() - t)
                    client.request("DELETE", "vault/files/public.bin")
                    t = time.perf_counter()
                    shutil.copyfile(src, tmp / "copy2.bin")
                    with open(tmp / "copy2.bin", "rb+") as f:
                        os.fsync(f.fileno())
                    times["durable_copy"].append(time.perf_counter() - t)
            finally:
                httpd.shutdown()
                httpd.server_close()
            best = {k: min(v) for k, v in times.items()}
            copy_s, durable_copy_s, up_s, up_public_s, down_s, stack_up_s, stack_down_s, sha_s = (
                best[k] for k in ("copy", "durable_copy", "up", "up_public", "down", "stack_up", "stack_down",
                                  "sha256"))
            say("sync: seeding the home folder")

            home, state = tmp / "home", tmp / "state.json"
            home.mkdir()
            part = access.database_name(identity.did_of(USER), APP)
            rows, versions, bases = [], [], {}
            for i in range(files):
                path = f"d{i % 100:02d}/f{i:05d}.txt"
                data = f"file {i} of the home folder\n".encode()
                (home / path).parent.mkdir(exist_ok=True)
                (home / path).write_bytes(data)
                digest = store.put_blob(data)
                rows.append((part, path, len(data), digest, None, 0, now, now))
                versions.append((part, path, 1, digest, len(data)))
                bases[path] = {"base_version": 1, "base_sha256": digest}
            with store.transaction() as con:
                con.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                con.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?)", versions)
            state.write_text(json.dumps(bases))
            step = max(1, round(100 / changed_percent)) if changed_percent > 0 else files + 1
            changed = [r[1] for r in rows[::step]]
            changed_bytes = 0
            for path in changed:
                data = f"{path} changed\n".encode()
                (home / path).write_bytes(data)
                changed_bytes += len(data)
            say(f"sync: {len(changed)} of {files} files changed")
            t = time.perf_counter()
            report = sync_folder(client, home, state)
            sync_s = time.perf_counter() - t
            again = sync_folder(client, home, state)
        finally:
            server.stop()
            store.close()
    uploads = sorted(p for op, p in report.actions if op == "upload")
    # the work of a transfer's parts, each measured alone, spread over every core at best
    cpu_up_floor = (best["sha256"] + best["stack_up_cpu"] + best["write_cpu"]) / cores
    cpu_down_floor = (best["sha256"] + best["stack_down_cpu"]) / cores
    return {
        "load_average": [list(load_before), list(os.getloadavg())],
        "mib": mib, "copy_seconds": copy_s, "upload_seconds": up_s, "download_seconds": down_s,
        "copy_mib_per_s": mib / copy_s, "upload_mib_per_s": mib / up_s, "download_mib_per_s": mib / down_s,
        "upload_ratio": copy_s / up_s, "download_ratio": copy_s / down_s, "throughput_target": THROUGHPUT_TARGET,
        "durable_copy_seconds": durable_copy_s, "upload_ratio_to_durable_copy": durable_copy_s / up_s,
        "repeat": repeat, "runs_seconds": times,
        "stack_upload_seconds": stack_up_s, "stack_download_seconds": stack_down_s,
        "stack_upload_ratio": copy_s / stack_up_s, "stack_download_ratio": copy_s / stack_down_s,
        "public_upload_seconds": up_public_s, "public_upload_ratio": copy_s / up_public_s,
        "sha256_seconds": sha_s, "sha256_mib_per_s": mib / sha_s, "sha256_ratio": copy_s / sha_s,
        "cores": cores, "upload_cpu_seconds": min(cpu["up"]), "download_cpu_seconds": min(cpu["down"]),
        "sha256_memory_seconds": best["sha256_memory"], "sha256_memory_ratio": copy_s / best["sha256_memory"],
        "durable_write_seconds": best["write"], "durable_write_ratio": copy_s / best["write"],
        "stack_upload_cpu_seconds": best["stack_up_cpu"], "stack_download_cpu_seconds": best["stack_down_cpu"],
        "durable_write_cpu_seconds": best["write_cpu"],
        "upload_cpu_floor_seconds": cpu_up_floor, "download_cpu_floor_seconds": cpu_down_floor,
        "upload_cpu_floor_ratio": copy_s / cpu_up_floor, "download_cpu_floor_ratio": copy_s / cpu_down_floor,
        "upload_ceiling_ratio": copy_s / max(sha_s, best["write"], stack_up_s, cpu_up_floor),
        "download_ceiling_ratio": copy_s / max(sha_s, stack_down_s, cpu_down_floor),
        "signins": signins, "signin_ms": signin_ms,
        "files": files, "changed_files": len(changed), "changed_bytes": changed_bytes, "sync_seconds": sync_s,
        "sync_uploads": len(uploads), "sync_bytes_up": report.bytes_up, "sync_bytes_down": report.bytes_down,
        "sync_other_actions": [[op, p] for op, p in report.actions if op != "upload"], "sync_rounds": report.rounds,
        "sync_only_changes": uploads == sorted(changed) and report.bytes_up == changed_bytes
        and report.bytes_down == 0 and again.actions == []
        and all(op == "adopt" for op, _ in report.actions if op != "upload"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_hive", description=__doc__.split("\n")[0])
    p.add_argument("--mib", type=int, default=100)
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--changed", type=float, default=1.0, help="percent of the files rewritten before the sync")
    p.add_argument("--signins", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3, help="throughput runs; the best of each is reported")
    p.add_argument("--json", help="write the results as JSON here")
    p.add_argument("--no-fail", action="store_true", help="report a missed throughput target without failing")
    args = p.parse_args(argv)
    r = run(args.mib, args.files, args.changed, args.signins, args.repeat,
            progress=lambda text: print(f"  ... {text}", file=sys.stderr, flush=True))
    rows = [
        ("plain copy", f"{r['copy_mib_per_s']:.0f} MiB/s", ""),
        ("copy + fsync", f"{r['mib'] / r['durable_copy_seconds']:.0f} MiB/s", "the durable copy an upload is"),
        ("vault upload", f"{r['upload_mib_per_s']:.0f} MiB/s", f"ratio {r['upload_ratio']:.2f} (target >= 0.5); "
         f"{r['upload_ratio_to_durable_copy']:.2f} of copy + fsync"),
        ("vault download", f"{r['download_mib_per_s']:.0f} MiB/s", f"ratio {r['download_ratio']:.2f} (target >= 0.5)"),
        ("vault upload, public", f"{r['mib'] / r['public_upload_seconds']:.0f} MiB/s",
         f"ratio {r['public_upload_ratio']:.2f}: SHA-256 and CIDv0 leaves"),
        ("floor: SHA-256", f"{r['sha256_mib_per_s']:.0f} MiB/s",
         f"ratio {r['sha256_ratio']:.2f}: the same bytes hashed alone as they arrive, in the cache "
         f"({r['mib'] / r['sha256_memory_seconds']:.0f} MiB/s, {r['sha256_memory_ratio']:.2f}, from memory)"),
        ("floor: durable write", f"{r['mib'] / r['durable_write_seconds']:.0f} MiB/s",
         f"ratio {r['durable_write_ratio']:.2f}: the same bytes written, written back and fsync-ed, not hashed"),
        ("floor: HTTP upload", f"{r['mib'] / r['stack_upload_seconds']:.0f} MiB/s",
         f"ratio {r['stack_upload_ratio']:.2f}: the same stack, body dropped"),
        ("floor: HTTP download", f"{r['mib'] / r['stack_download_seconds']:.0f} MiB/s",
         f"ratio {r['stack_download_ratio']:.2f}: the same stack, from the page cache into a file, not hashed"),
        ("floor: CPU", "", f"upload {r['upload_cpu_floor_seconds'] * 1000:.0f} ms "
         f"({r['upload_cpu_floor_ratio']:.2f}), download {r['download_cpu_floor_seconds'] * 1000:.0f} ms "
         f"({r['download_cpu_floor_ratio']:.2f}): the parts' CPU time alone, over {r['cores']} cores"),
        ("ceiling", "", f"upload {r['upload_ceiling_ratio']:.2f}, download {r['download_ceiling_ratio']:.2f}: "
         "the copy over the highest floor"),
        ("CPU per transfer", "", f"upload {r['upload_cpu_seconds'] * 1000:.0f} ms, download "
         f"{r['download_cpu_seconds'] * 1000:.0f} ms (vault and client, every thread) on {r['cores']} cores"),
        ("sign-in round trip", f"{r['signin_ms']:.1f} ms", f"mean of {r['signins']}"),
        ("sync", f"{r['sync_seconds']:.2f} s", f"{r['changed_files']} of {r['files']} files changed: "
         f"{r['sync_uploads']} uploads, {r['sync_bytes_up']} bytes up, {r['sync_bytes_down']} down"),
    ]
    rows.append(("load average", "", "1/5/15 min before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *r["load_average"][0], *r["load_average"][1])))
    for name, value, note in rows:
        print(f"{name:22} {value:>14}  {note}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2, sort_keys=True))
    if not r["sync_only_changes"]:
        print("FAIL: the sync moved more than the changes", file=sys.stderr)
        return 1
    missed = [k for k in ("upload_ratio", "download_ratio") if r[k] < THROUGHPUT_TARGET]
    if missed and not args.no_fail:
        print(f"FAIL: {', '.join(missed)} below {THROUGHPUT_TARGET}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
