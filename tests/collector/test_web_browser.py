"""The pages in a real browser: Debian's Chromium (headless) driven by Playwright.

The real collector runs as `asbuilt collector serve` on 127.0.0.1 with SQLite in a temporary
directory; an agent enrolled with a one-time code pushes two versions through the API.
People are made through the service the admin CLI calls (collector.services.people, in this process
on the same database; the CLI itself, `user add … --password-stdin`, is tested in test_people and
tests/e2e). Then a person's path: sign in, open the site, go through history to a diff, approve a
baseline; the admin's pages (users, regions, customers, devices, audit, account, second factor,
password) at 1366 px and on a 390 px phone, with screenshots in the test's temporary directory
(ASBUILT_SHOTS=DIR keeps them); and two browsers approving the same site.

A test that changes the collector (a baseline, a policy) gets its own; the two that only read share
one for the module.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from collector.auth import cli_admin
from collector.db.session import make_engine, make_sessionmaker, sqlite_url
from collector.enrolment import issue_code
from collector.services import people
from collector.services.context import Ctx
from tests.collector.browser import (
    BROWSER,
    PHONE,
    SIZES,
    context_options,
    keep_shots,
    sign_in,
    submit_login,
    watch_console,
)
from tests.collector.conftest import PASSWORD
from tests.collector.test_web_ui import DOCK_SERIAL, site_v1, site_v2

pytestmark = BROWSER

ASBUILT = Path(sys.executable).with_name("asbuilt")
SITE = "depot-web"
START_TIMEOUT_S = 30
ADMIN, TECH = "ada", "tom"
REFUSED = ("401 (Unauthorized)", "409 (Conflict)")  # the deliberate wrong password, the stale approval


@dataclass
class Collector:
    url: str
    token: str
    data_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(data_dir: Path) -> str:
    """What `asbuilt collector enrol-code` and two `asbuilt collector user add … --password-stdin` do,
    in this process through the same services (the serving collector shares the SQLite file).
    Returns the enrolment code."""
    engine = make_engine(sqlite_url(data_dir))
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            code, _ = await issue_code(db, customer="Meridian", site_slug=SITE, site_name="Depot Nord",
                                       now=datetime.now(UTC), ttl=timedelta(hours=1))  # fmt: skip
            ctx = Ctx(cli_admin("browser-test"), client="cli")
            for name, role in ((ADMIN, "admin"), (TECH, "technician")):
                scope = people.ScopeRequest(people.parse_role(role), [], [])
                await people.create_user(db, ctx, name, scope, password=PASSWORD)
        return code
    finally:
        await engine.dispose()


async def wait_until_up(url: str, proc: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:
            assert proc.returncode is None, "the collector exited during start-up"
            try:
                async with http.get(f"{url}/login", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the collector did not answer on {url} within {START_TIMEOUT_S} s")


@asynccontextmanager
async def serve(folder: Path) -> AsyncIterator[Collector]:
    """`asbuilt collector serve` on a free port, with the site's two versions pushed and two people."""
    token = "browser-test-" + secrets.token_hex(12)
    data_dir = folder / "collector"
    env = {**os.environ, "ASBUILT_ADMIN_TOKEN": token, "ASBUILT_DATA_DIR": str(data_dir)}
    env.pop("ASBUILT_DATABASE_URL", None)  # SQLite in data_dir
    port = free_port()
    log = (folder / "collector.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(ASBUILT), "collector", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(url, proc)
        code = await seed(data_dir)
        async with aiohttp.ClientSession(base_url=url) as http:
            async with http.post("/api/v1/enrol", json={"code": code, "agent_name": "agent-web"}) as resp:
                assert resp.status == 201, await resp.text()
                agent_token = (await resp.json())["token"]
            for snap in (site_v1(SITE), site_v2(SITE)):
                headers = {"Authorization": f"Bearer {agent_token}", "Content-Type": "application/json"}
                async with http.post(
                    "/api/v1/snapshots", data=snap.canonical_json(), headers=headers
                ) as resp:
                    assert resp.status == 201, await resp.text()
        yield Collector(url, token, data_dir)
    finally:
        proc.send_signal(signal.SIGINT)  # aiohttp shuts down cleanly on SIGINT
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()


@pytest_asyncio.fixture(loop_scope="session")
async def collector(tmp_path: Path) -> AsyncIterator[Collector]:
    """A collector of the test's own: for a test that approves a baseline or sets a policy."""
    async with serve(tmp_path) as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def reading_collector(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Collector]:
    """One collector for the module's tests that only sign in and read (they change nothing the
    others look at)."""
    async with serve(tmp_path_factory.mktemp("reading")) as served:
        yield served


async def test_technician_walks_through_the_site(collector: Collector, browser: Browser, tmp_path: Path):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    complaints = watch_console(page, REFUSED)

    # Not logged in: the site list sends us to the login form, which brings us back.
    await page.goto(f"{collector.url}/")
    await expect(page).to_have_url(f"{collector.url}/login?next=/")
    await page.get_by_label("User name").fill(TECH)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("do not match")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{collector.url}/")

    row = page.locator("table.sites tbody tr", has_text="Depot Nord")
    await expect(row).to_contain_text("Meridian")
    await expect(row).to_contain_text("v2")
    await expect(row.locator("td").nth(6)).to_have_text("none")
    await page.screenshot(path=tmp_path / "sites-desktop.png", full_page=True)

    # The site's current record.
    await row.get_by_role("link", name="Depot Nord").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Depot Nord")
    changes = page.locator("#changes")
    await expect(changes).to_contain_text("Changes since v1")
    await expect(changes).to_contain_text("identity.firmware V5.7.10 build 220819 → V5.8.0 build 230101")
    await expect(page.locator("#devices tr", has_text="cam-dock")).to_contain_text(DOCK_SERIAL)
    await expect(page.locator("#ports tr", has_text="GigabitEthernet1/0/24")).to_contain_text("uplink")
    await expect(page.locator("#recorders tr", has_text="Entrance")).to_contain_text("cam-entrance")
    await page.screenshot(path=tmp_path / "site-desktop.png", full_page=True)

    # History, then the diff of v2 against v1.
    await page.get_by_role("link", name="History").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("History of Depot Nord")
    await page.screenshot(path=tmp_path / "history-desktop.png", full_page=True)
    await page.get_by_role("link", name="diff vs v1").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("v1 → v2")
    firmware = page.locator("table.fields tr", has_text="identity.firmware")
    await expect(firmware).to_contain_text("V5.8.0 build 230101")
    await page.screenshot(path=tmp_path / "diff-desktop.png", full_page=True)

    # Approve v2 as the baseline from its page; the header and the site list show it.
    await page.goto(f"{collector.url}/sites/{SITE}/versions/2")
    await page.get_by_label("Note").fill("commissioning walk-through")
    await page.get_by_role("button", name="Approve v2 as baseline").click()
    await expect(page).to_have_url(f"{collector.url}/sites/{SITE}/versions/2")
    await expect(page.locator(".flash")).to_have_text("v2 approved as the baseline")
    head = page.locator("section.head")
    await expect(head).to_contain_text(f"approved by {TECH}")
    await expect(head).to_contain_text("commissioning walk-through")
    await expect(page.get_by_role("button", name="Approve v2 as baseline")).to_have_count(0)
    await page.goto(f"{collector.url}/")
    await expect(
        page.locator("table.sites tbody tr", has_text="Depot Nord").locator("td").nth(6)
    ).to_have_text("v2")
    assert complaints == []
    await context.close()

    # The same pages on a phone: nothing wider than the screen; the device table is one card per
    # device with serial, IP and MAC in view.
    phone = await browser.new_context(**context_options("phone", device_scale_factor=2))
    page = await phone.new_page()
    complaints = watch_console(page, REFUSED)
    await sign_in(page, collector.url, TECH, PASSWORD)
    for name, path in (
        ("sites", "/"),
        ("site", f"/sites/{SITE}/versions/2"),
        ("diff", f"/sites/{SITE}/diff"),
    ):
        await page.goto(collector.url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
        await page.screenshot(path=tmp_path / f"{name}-phone.png", full_page=name != "site")
    await page.goto(f"{collector.url}/sites/{SITE}")
    card = page.locator("#devices tr", has_text="cam-dock")
    for text in (DOCK_SERIAL, "10.77.0.74", "ac:cc:8e:5a:02:09"):
        cell = card.locator("td", has_text=text)
        box = await cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, text
    await card.screenshot(path=tmp_path / "device-card-phone.png")
    assert complaints == []
    await phone.close()
    keep_shots(tmp_path)


ADMIN_PAGES = (
    ("users", "/admin/users", "Users"),
    ("regions", "/admin/regions", "Regions"),
    ("customers", "/customers", "Customers"),
    ("devices", "/admin/devices", "Registered devices"),
    ("audit", "/audit", "Audit log"),
    ("account", "/account", ADMIN),
    ("totp", "/account/totp", "Second factor"),
    ("password", "/account/password", "Change password"),
    ("sites", "/", "Sites"),
    ("record", f"/sites/{SITE}", "Depot Nord"),
)


async def test_admin_pages_at_desktop_and_phone_sizes(
    reading_collector: Collector, browser: Browser, tmp_path: Path
):
    collector = reading_collector
    for size in ("desktop", "phone"):
        width = SIZES[size]["width"]
        context = await browser.new_context(**context_options(size, has_touch=False))
        page = await context.new_page()
        complaints = watch_console(page, REFUSED)
        await page.goto(f"{collector.url}/login")
        await page.screenshot(path=tmp_path / f"signin-{width}.png", full_page=True)
        await sign_in(page, collector.url, ADMIN, PASSWORD)
        nav = page.get_by_role("navigation", name="Main")
        for label in ("Sites", "Customers", "Users", "Regions", "Devices", "Audit", "Account"):
            await expect(nav.get_by_role("link", name=label)).to_be_visible()
        for name, path, heading in ADMIN_PAGES:
            await page.goto(collector.url + path)
            await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{path} is {scroll} px wide at {width} px"
            await page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=True)
        assert complaints == [], complaints
        await context.close()
    keep_shots(tmp_path)


async def test_technician_navigation_and_search_as_you_type(reading_collector: Collector, browser: Browser):
    collector = reading_collector
    context = await browser.new_context(**context_options("phone", has_touch=False))
    page = await context.new_page()
    complaints = watch_console(page, REFUSED)
    await sign_in(page, collector.url, TECH, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Sites")).to_be_visible()
    for hidden in ("Users", "Regions", "Devices", "Audit"):
        await expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    # htmx: typing filters the list in place (no page load), and the address follows.
    await page.get_by_role("searchbox").type(DOCK_SERIAL, delay=20)
    await expect(page.locator("#site-results")).to_contain_text("cam-dock")
    await expect(page).to_have_url(re.compile(r"\?q=SER-DOCK-0077$"))
    await page.get_by_role("searchbox").fill("no-such-thing-anywhere")
    await page.get_by_role("searchbox").press("Enter")
    await expect(page.locator("#site-results")).to_contain_text("Nothing matches")
    assert complaints == [], complaints
    await context.close()


async def test_two_browsers_approving_the_same_site(collector: Collector, browser: Browser, tmp_path: Path):
    """Two people open v1's page; the technician approves it on a phone; the admin, still on the page
    loaded before, approves too: refused, and told in words who approved what."""
    first = await browser.new_context(**context_options("desktop"))
    second = await browser.new_context(**context_options("phone", has_touch=False))
    one, two = await first.new_page(), await second.new_page()
    await sign_in(one, collector.url, ADMIN, PASSWORD)
    await sign_in(two, collector.url, TECH, PASSWORD)
    for page in (one, two):
        await page.goto(f"{collector.url}/sites/{SITE}/versions/1")
    await two.get_by_role("button", name="Approve v1 as baseline").click()
    await expect(two.locator(".flash")).to_have_text("v1 approved as the baseline")
    await one.get_by_label("Note").fill("from a page opened earlier")
    await one.get_by_role("button", name="Approve v1 as baseline").click()
    message = one.get_by_text("changed after you loaded it")
    await expect(message).to_be_visible()
    await expect(one.locator("main")).to_contain_text(f"approved as the baseline by {TECH}")
    await one.screenshot(path=tmp_path / "stale-approval-1366.png", full_page=True)
    await first.close()
    await second.close()
    keep_shots(tmp_path)


def cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [str(ASBUILT), "collector", *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
        timeout=60, check=False, env={k: v for k, v in os.environ.items() if k != "ASBUILT_DATABASE_URL"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_registered_device_approved_inline(collector: Collector, browser: Browser, tmp_path: Path):
    """Technicians may sign in only from approved devices: the phone registers itself and waits; the
    admin approves it in the list (htmx swaps the row in place); then the phone signs in."""
    cli(collector.data_dir, "policy", "set", "technician", "--require-device")
    phone = await browser.new_context(**context_options("phone", has_touch=False))
    tech = await phone.new_page()
    await submit_login(tech, collector.url, TECH, PASSWORD)
    await expect(tech.get_by_role("heading", level=1)).to_have_text("This device is not approved")
    await tech.screenshot(path=tmp_path / "device-pending-390.png", full_page=True)

    office = await browser.new_context(**context_options("desktop"))
    admin = await office.new_page()
    complaints = watch_console(admin, REFUSED)
    await sign_in(admin, collector.url, ADMIN, PASSWORD)
    await admin.goto(f"{collector.url}/admin/devices?status=pending")
    row = admin.locator("tr", has_text=TECH)
    await expect(row).to_contain_text("pending")
    await admin.screenshot(path=tmp_path / "devices-pending-1366.png", full_page=True)
    await row.get_by_role("button", name="Approve").click()
    await expect(row).to_contain_text("approved")
    await expect(row).to_contain_text(f"by {ADMIN}")
    assert admin.url == f"{collector.url}/admin/devices?status=pending"  # swapped in place, no reload
    assert complaints == [], complaints

    await sign_in(tech, collector.url, TECH, PASSWORD)
    await phone.close()
    await office.close()
    keep_shots(tmp_path)
