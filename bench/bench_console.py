"""Console benchmark: the web app's bundle size and first-load times in a real Chromium.

Run: ``.venv/bin/python bench/bench_console.py [--runs 10]`` (``make bench`` runs it after
``make web``).

Printed:

- **Bundle.** Every file of ``services/console/web/dist``, raw and gzip-compressed (level 6,
  what a server's gzip sends): the *initial* part (index.html and the script and stylesheet
  it references, what a first visit downloads) and each page's lazily loaded chunk.
- **First load, cold.** ``--runs`` times, a new browser context with an empty cache opens the
  console and waits until the sign-in form is on screen: the time from navigation start to
  that moment (the browser's own clock, ``performance.now()``), and the navigation timing's
  DOMContentLoaded and load events.
- **Signed in, cold.** The same with a session cookie in a fresh context (empty cache): the
  time until the inbox shows its first case, the demo brand's data behind it.

The stack (broker, database, five services) starts on free ports as ``make run`` starts it,
and the demo brand is seeded through the real APIs. The browser is Debian's Chromium
(``make browser``), over loopback: the figures are the app's own cost (parse, run, fetch
through the console's proxy), not a network's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.demo import DEMO_BRAND, seed, seed_responder
from smm_shared.localstack import free_port
from smm_shared.stack import DEFAULT_PORTS, FIRST_ADMIN_EMAIL, Stack, StackConfig
from smm_shared.testing import wait_until
from smm_shared.testing.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "services" / "console" / "web" / "dist"


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def bundle() -> None:
    index = (DIST / "index.html").read_text()
    initial = {
        "index.html",
        *(m.lstrip("/") for m in re.findall(r'(?:src|href)="(/assets/[^"]+)"', index)),
    }
    rows = []
    for path in sorted(DIST.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            name = str(path.relative_to(DIST))
            rows.append((name, len(data), len(gzip.compress(data, 6)), name in initial))
    print("\n== bundle (services/console/web/dist)")
    for name, raw, gz, first in rows:
        print(f"  {'initial' if first else 'lazy   '}  {name:<48} {kb(raw):>10} {kb(gz):>10} gzip")
    first_raw = sum(r for _, r, _, f in rows if f)
    first_gz = sum(g for _, _, g, f in rows if f)
    print(f"  initial download: {kb(first_raw)} ({kb(first_gz)} gzip)")
    print(
        f"  everything: {kb(sum(r for _, r, _, _ in rows))}"
        f" ({kb(sum(g for _, _, g, _ in rows))} gzip)"
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, values: list[float]) -> None:
    print(
        f"  {name:<34} p50 {statistics.median(values):7.1f} ms   p95 {pct(values, 0.95):7.1f} ms"
        f"   max {max(values):7.1f} ms   (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        print("the console app is not built: run `make web`", file=sys.stderr)
        return 1
    bundle()
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            ports={n: free_port() for n in DEFAULT_PORTS},
            persistent_mongo=False,
        )
        stack = Stack(config)
        started = time.monotonic()
        stack.start()
        try:
            print(f"\n(stack up in {time.monotonic() - started:.1f} s)")
            token = issue_token(
                key=load_signing_key(config.keys_dir),
                subject="bench",
                roles=[Role.SMM_MANAGER],
                brands=[DEMO_BRAND],
                ttl=timedelta(minutes=10),
                issuer="smm-local",
                audience="smm-platform",
            )
            seed_responder(config.url("responder"), token)
            seed(config.url("ingest"), token)
            password = (config.keys_dir / "console-admin").read_text().strip()
            url = config.url("console")
            with httpx.Client(
                base_url=config.url("responder"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ) as responder:
                wait_until(
                    lambda: responder.get("/v1/cases", params={"brand_id": DEMO_BRAND}).json()[
                        "items"
                    ],
                    timeout_s=60,
                    what="the demo brand's first cases",
                )
            measure(url, password, args.runs)
        finally:
            stack.stop()
    return 0


def measure(url: str, password: str, runs: int) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        visible, dcl, load = [], [], []
        for _ in range(runs + 1):  # the first run warms the server, not the browser
            context = browser.new_context()
            page = context.new_page()
            page.goto(url + "/")
            page.get_by_role("button", name="Sign in").wait_for()
            at = page.evaluate("performance.now()")
            nav = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
            context.close()
            timing = json.loads(nav)
            visible.append(at)
            dcl.append(timing["domContentLoadedEventEnd"])
            load.append(timing["loadEventEnd"])
        print("\n== first load, empty cache, to the sign-in form")
        report("sign-in form on screen", visible[1:])
        report("DOMContentLoaded", dcl[1:])
        report("load event", load[1:])

        signed = browser.new_context()
        page = signed.new_page()
        page.goto(url + "/")
        page.get_by_label("Email").fill(FIRST_ADMIN_EMAIL)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("case-row").first.wait_for(timeout=30_000)
        state = signed.storage_state()
        signed.close()
        inbox = []
        for _ in range(runs + 1):
            context = browser.new_context(storage_state=state)
            page = context.new_page()
            page.goto(url + "/inbox")
            page.get_by_test_id("case-row").first.wait_for(timeout=30_000)
            inbox.append(page.evaluate("performance.now()"))
            context.close()
        print("\n== signed in, empty cache, to the inbox's first case")
        report("first case on screen", inbox[1:])
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
