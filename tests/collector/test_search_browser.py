"""Search and the device page in a real browser (Debian's Chromium via Playwright) at 390 and 1366 px:
typing a MAC in Cisco spelling into the top bar's box on a site page finds a camera that left the
site, with where and when it was last seen; its result opens the device page; a camera still there
has its switch port, streams and its password behind Show. Screenshots go to the test's temporary
directory (ASBUILT_SHOTS=DIR keeps them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.collector.browser import BROWSER, SIZES, base_url, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api
from tests.collector.factory import device
from tests.collector.test_vault_browser import SECRET, seeded_site
from tests.collector.test_web_ui import DOCK_SERIAL, site_v1, site_v2

pytestmark = BROWSER


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_search_as_you_type_and_the_device_page(
    browser_api: Api, browser: Browser, tmp_path: Path, size: str
) -> None:
    api = browser_api
    site, technician = await seeded_site(api)  # v1: the depot, with a password for cam-gate
    code = await api.issue_code(site, customer=(await api.get(f"/api/v1/sites/{site}"))[1]["customer"])
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "agent-2"})
    status, body = await api.push((await resp.json())["token"], site_v2(site))  # cam-lobby left
    assert status == 201, body
    lobby_mac = device(site_v1(site), "cam-lobby").identity.mac
    assert lobby_mac is not None
    cisco = lobby_mac.replace(":", "")
    cisco = f"{cisco[:4]}.{cisco[4:8]}.{cisco[8:]}".upper()  # AABB.CCDD.EEFF

    base = base_url(api.client)
    viewport = SIZES[size]
    context, page = await signed_in(browser, base, size, technician, PASSWORD)

    # On a site's page, the top bar's box fills a panel as you type (htmx, no page load).
    await page.goto(f"{base}/sites/{site}")
    await page.get_by_role("searchbox").type(cisco, delay=15)
    panel = page.locator("#search-panel")
    await expect(panel).to_contain_text("left the site")
    await expect(panel).to_contain_text("Last seen in v1")
    assert page.url == f"{base}/sites/{site}"  # still on the site page
    await page.screenshot(path=tmp_path / f"search-panel-{viewport['width']}.png", full_page=False)
    await panel.get_by_role("link", name="cam-lobby").first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("cam-lobby")
    await expect(page.locator(".departed-note")).to_contain_text("Last seen in")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await page.screenshot(path=tmp_path / f"device-departed-{viewport['width']}.png", full_page=True)

    # The sites list: results replace the list, and the address follows.
    await page.goto(f"{base}/")
    await page.get_by_role("searchbox").type(DOCK_SERIAL, delay=15)
    await expect(page.locator("#site-results")).to_contain_text("cam-dock")
    await page.screenshot(path=tmp_path / f"search-results-{viewport['width']}.png", full_page=True)

    # A camera that is still there: switch port, streams, and its password behind Show.
    await page.goto(f"{base}/sites/{site}")
    await page.locator("#devices").get_by_role("link", name="cam-gate").click()
    await expect(page.locator("#port")).to_contain_text("GigabitEthernet")
    await expect(page.locator("#vault")).to_contain_text("Camera login")
    assert SECRET not in await page.content()
    await page.locator("#vault").get_by_role("button", name="Show").first.click()
    await expect(page.locator("#vault")).to_contain_text("cam-" + SECRET)
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await page.screenshot(path=tmp_path / f"device-{viewport['width']}.png", full_page=True)
    await context.close()
    keep_shots(tmp_path)
