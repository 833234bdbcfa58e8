"""The pages in a real browser: Debian's Chromium (headless) driven by Playwright.

The real collector runs as `asbuilt collector serve` on 127.0.0.1 with SQLite in a temporary
directory; an agent enrolled with a one-time code pushes two versions through the API.
Then a person's path: log in, open the site, go through history to a diff, approve a baseline.
Screenshots (desktop and a 375 px phone) are written to the test's temporary directory.

Needs: apt-get install chromium (scripts/system-deps.sh) and the playwright pip package (dev extra);
`playwright install` is never run: the browser is the system's.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from collector.db.session import make_engine, make_sessionmaker, sqlite_url
from collector.enrolment import issue_code
from tests.collector.test_web_ui import DOCK_SERIAL, site_v1, site_v2

CHROMIUM = Path(os.environ.get("ASBUILT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASBUILT = Path(sys.executable).with_name("asbuilt")
SITE = "depot-web"
START_TIMEOUT_S = 30
PHONE_WIDTH = 375


@dataclass
class Collector:
    url: str
    token: str
    data_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def issue_enrolment_code(data_dir: Path) -> str:
    """What `asbuilt collector enrol-code` does, in this process (the serving collector shares the file)."""
    engine = make_engine(sqlite_url(data_dir))
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            code, _ = await issue_code(session, customer="Meridian", site_slug=SITE, site_name="Depot Nord",
                                       now=datetime.now(UTC), ttl=timedelta(hours=1))  # fmt: skip
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


@pytest.fixture
async def collector(tmp_path: Path) -> AsyncIterator[Collector]:
    token = "browser-test-" + secrets.token_hex(12)
    data_dir = tmp_path / "collector"
    env = {**os.environ, "ASBUILT_ADMIN_TOKEN": token, "ASBUILT_DATA_DIR": str(data_dir)}
    env.pop("ASBUILT_DATABASE_URL", None)  # SQLite in data_dir
    port = free_port()
    log = (tmp_path / "collector.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(ASBUILT), "collector", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(url, proc)
        code = await issue_enrolment_code(data_dir)
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


def chromium_path() -> str:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/system-deps.sh)"
    return str(CHROMIUM)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


REFUSED_LOGIN = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"


def watch_console(page: Page) -> list[str]:
    """Collect the browser's complaints: a CSP violation or a script error shows up here.

    The one expected error is the 401 of the deliberately wrong login.
    """
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and m.text != REFUSED_LOGIN else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def test_technician_walks_through_the_site(collector: Collector, browser: Browser, tmp_path: Path):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    complaints = watch_console(page)

    # Not logged in: the site list sends us to the login form, which brings us back.
    await page.goto(f"{collector.url}/")
    await expect(page).to_have_url(f"{collector.url}/login?next=/")
    await page.get_by_label("Admin token").fill("not the token")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("That token is not valid.")
    await page.get_by_label("Admin token").fill(collector.token)
    await page.get_by_role("button", name="Log in").click()
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
    head = page.locator("section.head")
    await expect(head).to_contain_text("approved by admin")
    await expect(head).to_contain_text("commissioning walk-through")
    await expect(page.get_by_role("button", name="Approve v2 as baseline")).to_have_count(0)
    await page.goto(f"{collector.url}/")
    await expect(
        page.locator("table.sites tbody tr", has_text="Depot Nord").locator("td").nth(6)
    ).to_have_text("v2")
    assert complaints == []
    await context.close()

    # The same pages on a phone: nothing wider than the screen, tables scroll inside their box.
    phone = await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 812}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = await phone.new_page()
    complaints = watch_console(page)
    await page.goto(f"{collector.url}/login")
    await page.get_by_label("Admin token").fill(collector.token)
    await page.get_by_role("button", name="Log in").click()
    for name, path in (
        ("sites", "/"),
        ("site", f"/sites/{SITE}/versions/2"),
        ("diff", f"/sites/{SITE}/diff"),
    ):
        await page.goto(collector.url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{path} is {width} px wide on a {PHONE_WIDTH} px phone"
        await page.screenshot(path=tmp_path / f"{name}-phone.png", full_page=name != "site")

    # Swiped sideways, the device table keeps its name column in view.
    await page.goto(f"{collector.url}/sites/{SITE}")
    box = page.locator("#devices .scroll")
    await box.evaluate("e => { e.scrollLeft = 400; }")
    assert await box.evaluate("e => e.scrollLeft") > 0
    name_cell = page.locator("#devices tr", has_text="cam-dock").locator("th")
    cell, frame = await name_cell.bounding_box(), await box.bounding_box()
    assert cell is not None and frame is not None and abs(cell["x"] - frame["x"]) < 2
    await page.locator("#devices").screenshot(path=tmp_path / "devices-phone-swiped.png")
    assert complaints == []
    await phone.close()
