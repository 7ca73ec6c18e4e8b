"""The conformance runner: drives any implementation through the adapter protocol.

``elastos conform [--impl "COMMAND"] [--suite S] [--vectors DIR] [--junit FILE] [--json FILE] [--case ID]``

The runner

1. loads ``vectors/MANIFEST.json`` and checks every case file against its SHA-256 (a tampered,
   missing or unlisted file stops the run);
2. starts the implementation, sends the hello and reads its name, version and handlers;
3. sends every selected case, up to 256 in flight, and judges each reply against ``expect``;
4. survives an implementation that crashes (the process is restarted), hangs (per-reply timeout,
   then the process is killed and restarted) or prints garbage (the case fails and the process is
   restarted so that the stream is in step again). After any such fault the cases that were in
   flight are sent again one at a time, so the fault is charged to the case that causes it;
5. proves that every selected manifest case was sent and answered, prints a per-suite table and
   writes JSON and JUnit XML reports on request. The exit status is non-zero when any case failed
   or crashed.

Statuses: ``passed``; ``failed`` (wrong answer, wrong reason, an error reply, a malformed reply, or
``unsupported`` for a handler the hello announced); ``unsupported`` (the handler is not announced and
the reply says so); ``crashed`` (the process died or did not answer in time).
"""

from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.protocol import PROTOCOL_VERSION, dumps_line, loads
from conformance.vectors import LoadedCase, ManifestError, default_vectors_dir, load_vectors

WINDOW = 256
HELLO_TIMEOUT = 30.0
STATUSES = ("passed", "failed", "unsupported", "crashed")


@dataclass
class CaseResult:
    id: str
    suite: str
    handler: str
    status: str
    expected: Any
    got: Any = None
    detail: str = ""


@dataclass
class Report:
    implementation: dict[str, Any]
    command: list[str]
    vectors: str
    manifest_total: int
    selected: int
    results: list[CaseResult] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    restarts: int = 0
    seconds: float = 0.0
    serve_seconds: float = 0.0
    """Time from the first successful hello to the last reply (process start-up excluded)."""
    fatal: str | None = None

    def by_suite(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = table.setdefault(r.suite, {"cases": 0, **{s: 0 for s in STATUSES}})
            row["cases"] += 1
            row[r.status] += 1
        return dict(sorted(table.items()))

    @property
    def all_sent(self) -> bool:
        return len(self.results) == self.selected and all(r.id in self.sent for r in self.results)

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.all_sent and not any(r.status in ("failed", "crashed") for r in self.results)


class ImplDied(Exception):
    pass


class ImplTimeout(Exception):
    pass


class Impl:
    """One running implementation process.

    Requests are buffered and written without blocking while replies are read, in one ``select``
    loop, so that neither side can fill a pipe and wait forever for the other (a large request and
    a large reply may be in the pipes at the same time); every read can time out.
    """

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.in_fd = self.proc.stdin.fileno()
        self.out_fd = self.proc.stdout.fileno()
        os.set_blocking(self.in_fd, False)
        self.wbuf = bytearray()
        self.partial = b""
        self.lines: deque[bytes] = deque()
        self.eof = False

    def send(self, obj: dict[str, Any]) -> None:
        """Queue one request line; it is written while :meth:`recv` waits."""
        self.wbuf += dumps_line(obj)

    def _flush_some(self) -> None:
        try:
            n = os.write(self.in_fd, self.wbuf[:1 << 16])
        except BlockingIOError:
            return
        except OSError:
            raise ImplDied("stdin closed") from None
        del self.wbuf[:n]

    def recv(self, timeout: float) -> bytes:
        """The next reply line; raises ``ImplTimeout`` or ``ImplDied``."""
        deadline = time.monotonic() + timeout
        while not self.lines:
            if self.eof:
                raise ImplDied(f"exited with status {self.proc.wait()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ImplTimeout(f"no reply within {timeout:g} s")
            readable, writable, _ = select.select([self.out_fd], [self.in_fd] if self.wbuf else [], [], remaining)
            if writable:
                self._flush_some()
            if readable:
                chunk = os.read(self.out_fd, 1 << 16)
                if not chunk:
                    self.eof = True
                    if self.partial:
                        self.lines.append(self.partial)
                        self.partial = b""
                    continue
                parts = (self.partial + chunk).split(b"\n")
                self.partial = parts.pop()
                self.lines.extend(parts)
        return self.lines.popleft()

    def stderr_tail(self, n: int = 400) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - n))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        self.stderr.close()


def hello(impl: Impl, timeout: float) -> dict[str, Any]:
    """Send the hello and validate the answer; raises ``ImplDied`` with a reason on any fault."""
    impl.send({"hello": {"protocol": PROTOCOL_VERSION}})
    try:
        line = impl.recv(max(timeout, HELLO_TIMEOUT))
    except ImplTimeout as e:
        raise ImplDied(f"no hello: {e}") from None
    try:
        msg = json.loads(line)
        h = msg["hello"]
        proto = h.get("protocol") if isinstance(h, dict) else None
        if isinstance(proto, int) and proto != PROTOCOL_VERSION:
            raise ImplDied(f"the implementation speaks adapter protocol {proto}; this runner speaks "
                           f"{PROTOCOL_VERSION} (use a runner of that protocol version)")
        ok = (
            isinstance(h, dict) and h.get("protocol") == PROTOCOL_VERSION and isinstance(h.get("name"), str)
            and isinstance(h.get("version"), str) and isinstance(h.get("handlers"), list)
            and all(isinstance(x, str) for x in h["handlers"])
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ImplDied(f"bad hello reply: {line[:200]!r}")
    return h


def judge(case: LoadedCase, reply: dict[str, Any], announced: set[str]) -> CaseResult:
    """Compare one reply with the case's ``expect``."""
    expect = case.data["expect"]
    res = CaseResult(case.id, case.suite, case.handler, "failed", expect)
    if reply.get("unsupported") is True:
        res.got = {"unsupported": True}
        if f"{case.suite}/{case.handler}" in announced:
            res.detail = "the hello announced this handler, but the reply is unsupported"
        else:
            res.status = "unsupported"
        return res
    if "ok" in reply:
        res.got = {"ok": reply["ok"]}
    elif "reject" in reply:
        res.got = {"reject": reply["reject"]}
    elif "error" in reply:
        res.got = {"error": reply["error"]}
        res.detail = f"error reply: {str(reply.get('detail', ''))[:300]}"
        return res
    else:
        res.got = reply
        res.detail = "reply has none of ok, reject, unsupported"
        return res
    if res.got == expect:
        res.status = "passed"
    else:
        res.detail = str(reply.get("detail", ""))[:300]
    return res


def run(
    argv: list[str],
    cases: list[LoadedCase],
    *,
    timeout: float = 10.0,
    progress: Any = None,
    manifest_total: int | None = None,
    vectors: str = "",
) -> Report:
    """Run ``cases`` against the implementation started by ``argv``."""
    t0 = time.perf_counter()
    report = Report({}, argv, vectors, manifest_total if manifest_total is not None else len(cases), len(cases))
    results: dict[str, CaseResult] = {}
    todo: deque[LoadedCase] = deque(cases)
    careful: deque[LoadedCase] = deque()
    inflight: dict[int, LoadedCase] = {}
    order: deque[int] = deque()
    next_id = 0
    impl: Impl | None = None
    announced: set[str] = set()

    def start() -> bool:
        nonlocal impl, announced
        try:
            impl = Impl(argv)
        except OSError as e:
            report.fatal = f"cannot start {argv!r}: {e}"
            return False
        try:
            h = hello(impl, timeout)
        except ImplDied as e:
            report.fatal = f"{e}; stderr: {impl.stderr_tail()}"
            impl.kill()
            impl = None
            return False
        if not report.implementation:
            report.implementation = h
        announced = set(h["handlers"])
        return True

    def fault(kind: str, detail: str) -> None:
        """The process crashed, hung or lost step: blame a case sent alone, else resend carefully."""
        nonlocal impl
        assert impl is not None
        tail = impl.stderr_tail()
        impl.kill()
        impl = None
        report.restarts += 1
        pending = [inflight[i] for i in order]
        inflight.clear()
        order.clear()
        if len(pending) == 1:
            c = pending[0]
            status = "failed" if kind == "malformed" else "crashed"
            results[c.id] = CaseResult(c.id, c.suite, c.handler, status, c.data["expect"], None,
                                       f"{kind}: {detail}" + (f"; stderr: {tail}" if tail else ""))
            if progress:
                progress(results[c.id])
        else:
            careful.extendleft(reversed(pending))

    started = start()
    t_served = time.perf_counter()
    if not started:
        for c in cases:
            results[c.id] = CaseResult(c.id, c.suite, c.handler, "crashed", c.data["expect"], None, report.fatal or "")
        report.results = [results[c.id] for c in cases]
        report.seconds = time.perf_counter() - t0
        return report

    while todo or careful or inflight:
        if impl is None and not start():
            break
        assert impl is not None
        source, window = (careful, 1) if careful else (todo, WINDOW)
        try:
            while source and len(inflight) < window:
                c = source.popleft()
                next_id += 1
                inflight[next_id] = c
                order.append(next_id)
                report.sent.add(c.id)
                impl.send({"id": next_id, "handler": f"{c.suite}/{c.handler}", "input": c.data["input"]})
            line = impl.recv(timeout)
        except ImplTimeout as e:
            fault("timeout", str(e))
            continue
        except ImplDied as e:
            fault("crashed", str(e))
            continue
        try:
            reply = loads(line)
            rid = reply["id"] if isinstance(reply, dict) else None
        except (ValueError, KeyError):
            rid = None
        if not isinstance(rid, int) or isinstance(rid, bool) or rid not in inflight:
            fault("malformed", f"reply not matching an outstanding request: {line[:200]!r}")
            continue
        c = inflight.pop(rid)
        order.remove(rid)
        results[c.id] = judge(c, reply, announced)
        if progress:
            progress(results[c.id])

    if impl is not None:
        impl.close()
    for c in cases:  # anything left unanswered after a fatal restart failure
        if c.id not in results:
            results[c.id] = CaseResult(c.id, c.suite, c.handler, "crashed", c.data["expect"], None, report.fatal or "not answered")
    report.results = [results[c.id] for c in cases]
    report.seconds = time.perf_counter() - t0
    report.serve_seconds = time.perf_counter() - t_served
    return report


# -- reports -------------------------------------------------------------------------------------


def format_table(report: Report) -> str:
    rows = report.by_suite()
    head = f"{'suite':<14}{'cases':>8}{'passed':>9}{'failed':>9}{'unsupported':>13}{'crashed':>9}"
    lines = [head, "-" * len(head)]
    total = {"cases": 0, **{s: 0 for s in STATUSES}}
    for suite, row in rows.items():
        lines.append(f"{suite:<14}{row['cases']:>8}{row['passed']:>9}{row['failed']:>9}{row['unsupported']:>13}{row['crashed']:>9}")
        for k in total:
            total[k] += row[k]
    lines.append("-" * len(head))
    lines.append(f"{'total':<14}{total['cases']:>8}{total['passed']:>9}{total['failed']:>9}{total['unsupported']:>13}{total['crashed']:>9}")
    return "\n".join(lines)


def report_json(report: Report) -> dict[str, Any]:
    return {
        "implementation": report.implementation,
        "command": report.command,
        "vectors": report.vectors,
        "manifest_total": report.manifest_total,
        "selected": report.selected,
        "sent": len(report.sent),
        "all_sent": report.all_sent,
        "restarts": report.restarts,
        "seconds": round(report.seconds, 3),
        "fatal": report.fatal,
        "ok": report.ok,
        "suites": report.by_suite(),
        "cases": [asdict(r) for r in report.results],
    }


def report_junit(report: Report) -> bytes:
    root = ET.Element("testsuites", name="elastos-conformance", tests=str(len(report.results)))
    for suite, row in report.by_suite().items():
        ts = ET.SubElement(root, "testsuite", name=suite, tests=str(row["cases"]),
                           failures=str(row["failed"]), errors=str(row["crashed"]), skipped=str(row["unsupported"]))
        for r in (r for r in report.results if r.suite == suite):
            tc = ET.SubElement(ts, "testcase", classname=f"{r.suite}.{r.handler}", name=r.id.split("/")[-1])
            msg = f"expected {json.dumps(r.expected)}, got {json.dumps(r.got)}"
            if r.status == "failed":
                ET.SubElement(tc, "failure", message=msg).text = r.detail
            elif r.status == "crashed":
                ET.SubElement(tc, "error", message=r.detail[:200]).text = r.detail
            elif r.status == "unsupported":
                ET.SubElement(tc, "skipped", message="unsupported handler")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# -- command line ----------------------------------------------------------------------------------


def _impl_argv(impl: str | None) -> list[str]:
    if not impl:
        return [sys.executable, "-m", "reference.adapter"]
    return shlex.split(impl)


def main(args: Any) -> int:
    """``elastos conform``: ``args`` is the argparse namespace built in :mod:`reference.cli`."""
    root = Path(args.vectors) if args.vectors else default_vectors_dir()
    if root.is_file() and root.name.endswith(".tar.gz"):  # a release bundle (conformance.release)
        from conformance.release import unpack_bundle
        try:
            root = unpack_bundle(root)
        except (ValueError, OSError) as e:
            print(f"conform: {e}", file=sys.stderr)
            return 2
    try:
        vs = load_vectors(root)
    except ManifestError as e:
        print(f"conform: {e}", file=sys.stderr)
        return 2
    argv = _impl_argv(args.impl)
    cases = vs.cases
    if args.suite:
        cases = [c for c in cases if c.suite in set(args.suite)]
    if args.case:
        cases = [c for c in vs.cases if c.id == args.case]
        if not cases:
            print(f"conform: no case {args.case!r} in {root}", file=sys.stderr)
            return 2
        return _replay(argv, cases[0], args.timeout)
    if not cases:
        print("conform: no cases selected", file=sys.stderr)
        return 2

    tty = sys.stderr.isatty() and not args.quiet
    done = {"n": 0}
    per_suite_total: dict[str, int] = {}
    for c in cases:
        per_suite_total[c.suite] = per_suite_total.get(c.suite, 0) + 1
    per_suite_done: dict[str, int] = {}

    def progress(r: CaseResult) -> None:
        done["n"] += 1
        per_suite_done[r.suite] = per_suite_done.get(r.suite, 0) + 1
        if tty:
            print(f"\r  [{done['n']}/{len(cases)}] {r.id[:60]:<60}", end="", file=sys.stderr, flush=True)
        if per_suite_done[r.suite] == per_suite_total[r.suite] and not args.quiet:
            if tty:
                print("\r" + " " * 72 + "\r", end="", file=sys.stderr)
            print(f"  suite {r.suite}: {per_suite_total[r.suite]} cases answered", file=sys.stderr)

    report = run(argv, cases, timeout=args.timeout, progress=progress, manifest_total=len(vs.cases), vectors=str(root))
    impl = report.implementation
    print(f"implementation: {impl.get('name', '?')} {impl.get('version', '?')}  ({' '.join(argv)})")
    print(format_table(report))
    if report.fatal:
        print(f"FATAL: {report.fatal}")
    print(
        f"manifest: {report.manifest_total} cases, {report.selected} selected, {len(report.sent)} sent, "
        f"{'all answered' if report.all_sent else 'NOT ALL ANSWERED'}; {report.restarts} restarts; {report.seconds:.2f} s"
    )
    bad = [r for r in report.results if r.status in ("failed", "crashed")]
    for r in bad[:20]:
        print(f"  {r.status.upper():8} {r.id}: expected {json.dumps(r.expected)}, got {json.dumps(r.got)} {r.detail[:160]}")
    if len(bad) > 20:
        print(f"  ... and {len(bad) - 20} more (see --json)")
    if bad:
        impl_arg = f' --impl {shlex.quote(args.impl)}' if args.impl else ""
        print(f"replay one: elastos conform{impl_arg} --case {bad[0].id}")
    if args.json:
        Path(args.json).write_text(json.dumps(report_json(report), indent=1, sort_keys=True) + "\n")
    if args.junit:
        Path(args.junit).write_bytes(report_junit(report))
    return 0 if report.ok else 1


def _replay(argv: list[str], case: LoadedCase, timeout: float) -> int:
    """Send one case alone and show the request, the reply and the verdict."""
    request = {"id": 1, "handler": f"{case.suite}/{case.handler}", "input": case.data["input"]}
    print(f"case:     {case.id}")
    print(f"rules:    {', '.join(case.data.get('rules', [])) or '-'}")
    print(f"request:  {json.dumps(request)}")
    print(f"expected: {json.dumps(case.data['expect'])}")
    report = run(argv, [case], timeout=timeout)
    r = report.results[0]
    print(f"got:      {json.dumps(r.got)}")
    print(f"verdict:  {r.status}{(' - ' + r.detail) if r.detail else ''}")
    return 0 if r.status == "passed" else 1
