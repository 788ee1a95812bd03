"""The console in a real browser: Debian's Chromium driven by Playwright against ``smm dev``.

The module starts exactly what ``make run`` starts (broker, database, the five services, the
fake networks, the demo seed and the network simulator) on free ports, then walks the SMM
team's day through the web app: sign in, watch a complaint arrive live with its SLA
countdown, reply and see the reply delivered by the fake network, resolve, create, approve
and schedule a post and see it published, read charts drawn from the data, and check that a
user of another brand sees none of it. Each page is saved as a screenshot under
``test-results/console/``.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from tests.e2e.dev_support import READY, start_dev, wait_for

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.events import new_ulid
from smm_shared.localstack import free_port
from smm_shared.simulator.cli import local_seed
from smm_shared.simulator.client import CONNECTOR_NAMES, derive_secrets
from smm_shared.simulator.payloads import Accounts, ConnectorKind, delivery
from smm_shared.simulator.scenario import Action, Author, Intent, SimEvent, Surface
from smm_shared.simulator.scenario import Network as SimNetwork
from smm_shared.stack import DEFAULT_PORTS, FIRST_ADMIN_EMAIL
from smm_shared.testing import wait_until
from smm_shared.testing.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-results" / "console"
DIST = ROOT / "services" / "console" / "web" / "dist" / "index.html"
#: axe-core, the accessibility engine (a dev dependency of the web app, installed by make web).
AXE = ROOT / "services" / "console" / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ADMIN = FIRST_ADMIN_EMAIL  # what make run prints
#: The browser's time zone: the app shows and takes times in it.
TIME_ZONE = "Europe/Berlin"
LIVE_S = 30_000  # ms Playwright waits for something the live stream brings
#: What one step of the walk leaves for the next (the tests run in file order).
WALK: dict[str, str] = {}


@dataclass
class Dev:
    """The running ``smm dev``: where things are and how to act as the demo brand."""

    ports: dict[str, int]
    data_dir: Path
    password: str

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def token(self, *, brands: tuple[str, ...] = ("demo",)) -> str:
        return issue_token(
            key=load_signing_key(self.data_dir / "keys"),
            subject="browser-test",
            roles=[Role.SMM_MANAGER],
            brands=list(brands),
            ttl=timedelta(minutes=30),
            issuer="smm-local",
            audience="smm-platform",
        )

    def api(self, name: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url(name),
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=10,
        )


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """``smm dev`` (``make run``) on free ports with its demo data and simulator."""
    assert DIST.is_file(), "the console app is not built: run `make web` (make test does)"
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run `make browser`"
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "accessibility.json").unlink(missing_ok=True)
    ports = {name: free_port() for name in DEFAULT_PORTS}
    data_dir = tmp_path_factory.mktemp("console-browser") / "data"
    log = data_dir.parent / "dev.log"
    proc = start_dev(data_dir, ports, log, SMM_SIMULATE_RATE="0.3")
    try:
        wait_for(log, READY, proc, timeout_s=150)
        password = (data_dir / "keys" / "console-admin").read_text().strip()
        yield Dev(ports, data_dir, password)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield chromium
        chromium.close()


def new_context(browser: Browser, *, audited: bool = True) -> BrowserContext:
    # Injecting axe needs the page's CSP relaxed; the unaudited context keeps it and checks it.
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        timezone_id=TIME_ZONE,
        locale="en-GB",
        bypass_csp=audited,
    )
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, dev: Dev, email: str, password: str) -> None:
    page.goto(dev.url("console") + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()


def shot(page: Page, name: str) -> Path:
    """Save the page as a screenshot and check it with axe (WCAG 2.1 A and AA rules)."""
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks blank"
    if name not in UNAUDITED:
        audit(page, name)
    return path


#: Pages shown in a context that keeps the CSP (axe cannot be injected there).
UNAUDITED = {"01-login-refused"}


def audit(page: Page, name: str) -> None:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: tags})).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""",
        AXE_TAGS,
    )
    report = SHOTS / "accessibility.json"
    results = json.loads(report.read_text()) if report.exists() else {}
    results[name] = violations
    report.write_text(json.dumps(results, indent=1))
    assert violations == [], f"{name}: accessibility violations {violations}"


@pytest.fixture(scope="module")
def admin(browser: Browser, dev: Dev) -> Iterator[Page]:
    """The demo's first admin, signed in, in the demo brand (one tab for the whole walk)."""
    context = new_context(browser)
    page = context.new_page()
    page.goto(dev.url("console") + "/")
    expect(page.get_by_label("Email")).to_be_visible()
    shot(page, "00-sign-in")
    sign_in(page, dev, ADMIN, dev.password)
    yield page
    context.close()


def post_complaint(dev: Dev, text: str) -> str:
    """A complaint on X as the network simulator's webhooks would bring it; its thread id."""
    thread = f"browser-{new_ulid()}"
    with dev.api("ingest") as ingest:
        created = ingest.post(
            "/v1/mentions",
            json={
                "brand_id": "demo",
                "network": "x",
                "kind": "reply",
                "native_id": new_ulid(),
                "thread_id": thread,
                "author": {"id": "x-angry", "handle": "angry_customer", "followers": 830},
                "text": text,
                "language": "en",
                "created_at": datetime.now(UTC).isoformat(),
            },
        )
    assert created.status_code == 201, created.text
    return thread


USER_PASSWORD = "Browser test pass 42"


def create_user(admin: Page, email: str, *, roles: list[str], brands: list[str]) -> int:
    """Add a console user as the signed-in admin's page would (session cookie and CSRF)."""
    status: int = admin.evaluate(
        """async ([email, roles, brands, password]) => {
            const csrf = document.cookie.split('; ').find(c => c.startsWith('smm_csrf=')).slice(9);
            const r = await fetch('/api/users', {method: 'POST', headers: {
                'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
                body: JSON.stringify({email, name: email.split('@')[0], password, roles, brands})});
            return r.status;
        }""",
        [email, roles, brands, USER_PASSWORD],
    )
    return status


def post_simulated_complaint(dev: Dev, text: str) -> None:
    """A VK comment as the network simulator plays it: its payload, signed with its secret,
    to the webhook of the VK connector it set up for the demo brand."""
    with dev.api("ingest") as ingest:

        def vk_webhook() -> str | None:
            listed = ingest.get("/v1/connectors", params={"brand_id": "demo"}).json()
            name = CONNECTOR_NAMES[ConnectorKind.VK]
            return next((c["webhook_path"] for c in listed if c["name"] == name), None)

        path = wait_until(vk_webhook, timeout_s=60, what="the simulator's VK connector")
        uid = 9_000_000_000 + time.time_ns() % 1_000_000_000
        author = Author(
            network=SimNetwork.VK,
            user_id=uid % 900_000_000,
            first_name="Irina",
            last_name="Volkova",
            handle=f"irina{uid % 100_000}",
            language="en",
            followers=830,
        )
        event = SimEvent(
            seq=1,
            uid=uid,
            at=0.0,
            network=SimNetwork.VK,
            action=Action.NEW,
            surface=Surface.COMMENT,
            conversation=uid,
            position=0,
            message_id=uid,
            post_id=uid,  # a post of its own: a new conversation, so a new case
            reply_to=None,
            author=author,
            intent=Intent.COMPLAINT,
            text=text,
            created_at=0.0,
        )
        secrets = derive_secrets(local_seed(dev.data_dir / "keys"), "demo")
        call = delivery(event, accounts=Accounts(), secrets=secrets, epoch=time.time())
        sent = ingest.post(path, content=call.body, headers=dict(call.headers))
    assert sent.status_code == 200, sent.text
    assert sent.text == "ok"


# --- the walk ----------------------------------------------------------------------------------


def test_a_wrong_password_is_refused_in_words(browser: Browser, dev: Dev) -> None:
    context = new_context(browser, audited=False)
    page = context.new_page()
    page.goto(dev.url("console") + "/inbox")
    expect(page.get_by_role("heading", name="Sign in to the SMM console")).to_be_visible()
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("The email or password is wrong")
    shot(page, "01-login-refused")
    # The page's Content-Security-Policy refuses scripts injected into it.
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    cookies = {c["name"]: c for c in context.cookies()}
    assert "smm_session" not in cookies
    context.close()


def test_the_admin_signs_in_with_the_printed_credentials(admin: Page, dev: Dev) -> None:
    expect(admin).to_have_url(re.compile(r"/inbox$"))
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Inbox")
    cookies = {c["name"]: c for c in admin.context.cookies()}
    assert cookies["smm_session"]["httpOnly"] is True
    assert cookies["smm_session"]["sameSite"] == "Strict"
    # No token is readable by scripts: only the CSRF cookie is.
    readable = admin.evaluate("document.cookie")
    assert "smm_session" not in readable
    assert "smm_csrf" in readable
    stored = admin.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
    assert "eyJ" not in stored  # no JWT in web storage
    # The demo data is there.
    expect(admin.get_by_test_id("case-row").first).to_be_visible(timeout=LIVE_S)
    shot(admin, "02-inbox")


def test_a_complaint_appears_live_with_its_sla_countdown(admin: Page, dev: Dev) -> None:
    admin.goto(dev.url("console") + "/inbox")
    expect(admin.get_by_test_id("case-row").first).to_be_visible(timeout=LIVE_S)
    marker = f"card blocked {new_ulid()[-8:]}"
    admin.evaluate("window.__noReload = true")  # gone if the page reloads

    post_simulated_complaint(dev, f"My {marker} at the airport, nobody answers, a disgrace!")

    row = admin.get_by_test_id("case-row").filter(has_text=marker)
    expect(row).to_be_visible(timeout=LIVE_S)
    assert admin.evaluate("window.__noReload") is True
    sla = row.get_by_test_id("sla")
    expect(sla).to_contain_text(re.compile(r"due in \d+ min"))
    first = sla.inner_text()
    admin.wait_for_timeout(2_100)
    assert sla.inner_text() != first, "the SLA countdown does not tick"
    shot(admin, "03-inbox-live-complaint")
    WALK["marker"] = marker


def test_a_reply_is_delivered_by_the_fake_network_and_the_case_resolved(
    admin: Page, dev: Dev
) -> None:
    marker = WALK["marker"]
    row = admin.get_by_test_id("case-row").filter(has_text=marker)
    case_id = row.get_attribute("data-case-id")
    assert case_id
    row.get_by_role("cell").nth(3).click()  # the text: focuses the row, as j/k would
    expect(row).to_have_attribute("aria-selected", "true")
    admin.keyboard.press("Enter")  # keyboard triage opens the focused case
    expect(admin).to_have_url(re.compile(rf"/cases/{case_id}$"))
    reply_text = f"We are sorry! A colleague unblocks your card now ({marker})."

    admin.get_by_label("Reply").fill(reply_text)
    admin.get_by_role("button", name="Send reply").click()

    timeline = admin.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text(reply_text)
    expect(timeline).to_contain_text("Delivered", timeout=LIVE_S)
    with httpx.Client(base_url=dev.url("networks"), timeout=10) as fake:
        posted = json.dumps(fake.get("/_fake/posts").json())
    assert reply_text in posted
    shot(admin, "04-case-replied")

    admin.get_by_role("button", name="Resolve").click()
    expect(admin.get_by_text(re.compile(r"\bResolved\b")).first).to_be_visible(timeout=LIVE_S)
    with dev.api("responder") as responder:
        case = responder.get(f"/v1/cases/{case_id}").json()
    assert case["status"] == "resolved"
    shot(admin, "05-case-resolved")


def test_a_post_is_created_approved_scheduled_and_published(
    browser: Browser, admin: Page, dev: Dev
) -> None:
    title = f"Browser post {new_ulid()[-6:]}"
    admin.goto(dev.url("console") + "/publishing")
    admin.get_by_role("button", name="New post").click()
    admin.get_by_label("Title").fill(title)
    admin.get_by_label("Text", exact=True).fill(f"Our new card controls are live! {title}")
    admin.get_by_label("Labels").fill("promo")  # the demo's "Promo review" workflow applies
    admin.get_by_role("checkbox", name=re.compile(r"\(X\)$")).check()
    expect(admin.get_by_text(re.compile(r"Approval: workflow .Promo review"))).to_be_visible()
    admin.get_by_role("button", name="Submit for approval").click()
    expect(admin).to_have_url(re.compile(r"/publishing/[0-9A-Z]{26}$"))
    content_id = admin.url.rsplit("/", 1)[-1]
    expect(admin.get_by_text(re.compile(r"^Waiting for approval: Step 1"))).to_be_visible(
        timeout=LIVE_S
    )
    shot(admin, "06-publishing-composer")

    # The workflow's step is the SMM manager's: Maria approves in her own browser.
    maria = new_context(browser)
    manager = maria.new_page()
    email = f"maria-{new_ulid()[-6:].lower()}@demo.example"
    assert create_user(admin, email, roles=["smm_manager"], brands=["demo"]) == 201
    sign_in(manager, dev, email, USER_PASSWORD)
    manager.get_by_role("link", name="Publishing").click()
    manager.get_by_role("link", name="Approvals").first.click()
    item = manager.locator(f'[data-testid="approval-item"][data-content-id="{content_id}"]')
    expect(item).to_contain_text(title, timeout=LIVE_S)
    shot(manager, "07-publishing-approvals")
    item.get_by_role("button", name="Approve").click()
    expect(item).to_have_count(0, timeout=LIVE_S)
    maria.close()

    admin.goto(dev.url("console") + f"/publishing/{content_id}")
    at = datetime.now(UTC) + timedelta(seconds=75)
    admin.get_by_label("Schedule at").fill(
        at.astimezone(ZoneInfo(TIME_ZONE)).strftime("%Y-%m-%dT%H:%M")
    )
    admin.get_by_role("button", name="Schedule", exact=True).click()
    expect(admin.get_by_role("status").filter(has_text="Scheduled")).to_contain_text(title)

    admin.goto(dev.url("console") + "/publishing")
    chip = admin.locator(f'[data-testid="calendar-item"][data-content-id="{content_id}"]')
    expect(chip).to_contain_text("Scheduled", timeout=LIVE_S)
    shot(admin, "08-publishing-calendar-scheduled")
    # Published by the publisher's timer on the fake network; the chip changes live.
    expect(chip).to_contain_text("Published", timeout=150_000)
    shot(admin, "09-publishing-calendar-published")
    with httpx.Client(base_url=dev.url("networks"), timeout=10) as fake:
        assert title in json.dumps(fake.get("/_fake/posts").json())


def test_analytics_draws_charts_from_the_data(admin: Page, dev: Dev) -> None:
    admin.goto(dev.url("console") + "/analytics")
    volume = admin.locator('[data-testid="chart"][data-chart="volume"]')
    expect(volume.locator("svg[role=img]")).to_be_visible(timeout=LIVE_S)
    expect(volume.locator(".mark").first).to_be_attached()
    label = volume.locator("svg[role=img]").get_attribute("aria-label") or ""
    assert re.search(r"\d", label), label
    shot(admin, "10-analytics-overview")
    for tab, name in (("Care", "11-analytics-care"), ("Content", "12-analytics-content")):
        admin.get_by_role("link", name=tab, exact=True).click()
        expect(admin.locator('[data-testid="chart"]').first).to_be_visible(timeout=LIVE_S)
        shot(admin, name)


def test_the_other_pages_render(admin: Page, dev: Dev) -> None:
    for path, heading, name in (
        ("/contests", "Contests", "13-contests"),
        ("/settings", "Settings", "14-settings"),
        ("/settings/users", "Settings", "15-settings-users"),
    ):
        admin.goto(dev.url("console") + path)
        expect(admin.get_by_role("heading", level=1)).to_contain_text(heading)
        shot(admin, name)


#: Record every live message a tab receives, as a second EventSource would.
LISTEN = """() => { window.__live = []; const s = new EventSource('/api/live');
    for (const k of ['case', 'sla', 'alert', 'post'])
        s.addEventListener(k, e => window.__live.push(JSON.parse(e.data))); }"""


def test_a_user_of_another_brand_sees_none_of_it(browser: Browser, admin: Page, dev: Dev) -> None:
    marker = WALK["marker"]
    email = f"olga-{new_ulid()[-6:].lower()}@other.example"
    assert create_user(admin, email, roles=["smm_manager"], brands=["other"]) == 201
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, dev, email, USER_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inbox")
    expect(page.get_by_test_id("live-status")).to_contain_text("Live", timeout=LIVE_S)
    for tab in (page, admin):  # the admin's stream proves the event was there to see
        tab.evaluate(LISTEN)

    thread = post_complaint(dev, f"Another complaint for demo only {marker}")

    admin.wait_for_function(
        "t => window.__live.some(e => e.data.conversation_key === 'x:' + t)",
        arg=thread,
        timeout=LIVE_S,
    )
    assert page.get_by_test_id("case-row").count() == 0
    expect(page.get_by_text(marker)).to_have_count(0)
    live = page.evaluate("window.__live")
    assert all(m["brand_id"] == "other" for m in live), live
    status = page.evaluate(
        "async () => (await fetch('/api/responder/v1/cases?brand_id=demo')).status"
    )
    assert status == 403
    shot(page, "16-other-brand-inbox")
    context.close()
