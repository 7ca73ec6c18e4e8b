"""Open the built spec site in headless Chromium, follow every internal link, take a screenshot.

    python scripts/site_check.py docs/_build/html --screenshot reports/site-front.png [--json reports/site.json]

The site is served on 127.0.0.1 by a local HTTP server. Every page reachable from ``index.html`` is
loaded in Chromium (``--headless --dump-dom``: the DOM after the page's scripts ran); each internal link
of each page is followed: its page must load (HTTP 200) and, when it names a fragment, the target
page's DOM must have an element with that id. External links are listed, not fetched (no network).
Prints a table and exits non-zero on any broken link.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("site_check: no Chromium found (scripts/system-deps.sh installs Debian's chromium)")


def dump_dom(browser: str, url: str) -> str:
    out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"chromium failed on {url}: {out.stderr[-300:]}")
    return out.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="site_check")
    ap.add_argument("site", help="the built HTML folder (docs/_build/html)")
    ap.add_argument("--screenshot", required=True, help="where to write the front page's PNG")
    ap.add_argument("--json", help="write the results here as JSON")
    a = ap.parse_args(argv)
    site = Path(a.site).resolve()
    browser = chromium()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None  # type: ignore[method-assign]
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
            # the browser closes connections it no longer needs (a favicon it asked for, a page it left):
            # not a fault of the site, and not worth a traceback in the report
            if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                return
            super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    t0 = time.perf_counter()
    pages: dict[str, _Links] = {}
    broken: list[tuple[str, str, str]] = []
    external: set[str] = set()
    followed = 0
    host = urlparse(base).netloc

    def load(url: str) -> tuple[str, _Links]:
        parsed = _Links()
        parsed.feed(dump_dom(browser, url))
        return url, parsed

    try:
        frontier = {urljoin(base, "index.html")}
        with ThreadPoolExecutor(max_workers=4) as pool:  # Chromium processes, a few at a time
            while frontier:
                for url, parsed in pool.map(load, sorted(frontier)):
                    pages[url] = parsed
                    print(f"  [{len(pages)}] {url[len(base):]}: {len(parsed.links)} links", file=sys.stderr)
                nxt = set()
                for url in frontier:
                    for href in pages[url].links:
                        target = urldefrag(urljoin(url, href))[0]
                        if urlparse(target).netloc == host and target.endswith(".html") and target not in pages:
                            nxt.add(target)
                frontier = nxt
        status: dict[str, bool] = {}
        for url, parsed in pages.items():
            for href in parsed.links:
                target = urljoin(url, href)
                if urlparse(target).netloc != host:
                    external.add(target)
                    continue
                page, frag = urldefrag(target)
                followed += 1
                if page not in status:
                    try:
                        with urllib.request.urlopen(page, timeout=10) as r:
                            status[page] = r.status == 200
                    except urllib.error.URLError:
                        status[page] = False
                if not status[page]:
                    broken.append((url, href, "page does not load"))
                elif frag and (page not in pages or frag not in pages[page].ids):
                    broken.append((url, href, f"no element with id {frag!r}"))
        shot = Path(a.screenshot)
        shot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1280,900", f"--screenshot={shot.resolve()}", urljoin(base, "index.html")],
                       capture_output=True, timeout=60, check=True)
    finally:
        server.shutdown()
    seconds = time.perf_counter() - t0
    rows = [("pages opened", str(len(pages))), ("internal links followed", str(followed)),
            ("broken links", str(len(broken))), ("external links (not fetched)", str(len(external))),
            ("screenshot", str(Path(a.screenshot))), ("seconds", f"{seconds:.1f}")]
    for k, v in rows:
        print(f"{k:<30} {v}")
    for page, href, why in broken[:50]:
        print(f"BROKEN {page[len(base):]} -> {href}: {why}")
    if a.json:
        Path(a.json).write_text(json.dumps({"pages": len(pages), "links_followed": followed,
                                            "broken": [list(b) for b in broken], "external": sorted(external),
                                            "screenshot": str(a.screenshot), "seconds": round(seconds, 1)}, indent=1))
    return 1 if broken or not Path(a.screenshot).is_file() else 0


if __name__ == "__main__":
    raise SystemExit(main())
