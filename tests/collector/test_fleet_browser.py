"""The fleet page and the background handover PDF in a real browser (Debian's Chromium via
Playwright) at phone (390 px) and desktop (1366 px) widths: from the Customers page to the fleet
reports, the tabs, the chart, no sideways scroll; the site page's "Prepare the PDF in the
background", its status page updated by htmx until the download appears. Screenshots go to the
test's temporary directory (ASBUILT_SHOTS to keep them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect

from collector.auth import cli_admin
from collector.keys import sessions_key
from collector.services import people
from collector.services.context import Ctx
from tests.collector.browser import BROWSER, SIZES, base_url, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api, add_user, unique_name, unique_site
from tests.collector.factory import depot, device, edit, with_devices

pytestmark = BROWSER


async def fleet_customer(api: Api) -> tuple[str, str]:
    """A customer with two sites: the second's gate camera runs an older firmware, a clock is off."""
    customer = unique_name("Harbour Logistics")
    async with api.app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("test")), customer, unique_name("North"))
    first = unique_site()
    for n, site in enumerate((first, unique_site())):
        code = await api.issue_code(site, customer=customer)
        resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": f"agent-{n}"})
        token = (await resp.json())["token"]
        snap = depot(site_id=site)
        if n:
            gate = edit(device(snap, "cam-gate"), identity__firmware="V5.6.0 build 210101")
            lobby = device(snap, "cam-lobby")
            assert lobby.onvif is not None
            snap = with_devices(snap, gate, edit(lobby, onvif=edit(lobby.onvif, clock_offset_s=7200.0)))
        assert (await api.push(token, snap))[0] == 201
    technician = await add_user(api.app, "technician", customers=(customer,))
    return first, technician


async def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways: {scroll} px"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_fleet_page_and_background_pdf(
    browser_api: Api, browser: Browser, tmp_path: Path, size: str
) -> None:
    api = browser_api
    site, technician = await fleet_customer(api)
    base = base_url(api.client)
    viewport = SIZES[size]
    context, page = await signed_in(browser, base, size, technician, PASSWORD, accept_downloads=True)
    await page.goto(f"{base}/customers")
    await page.get_by_role("link", name="Fleet reports").click()
    await expect(page.get_by_role("heading", name="Fleet reports")).to_be_visible()
    await expect(page.locator("svg.chart")).to_be_visible()
    await expect(page.get_by_text("1 older firmware")).to_be_visible()
    chart = await page.locator("svg.chart").bounding_box()
    assert chart is not None and chart["width"] <= viewport["width"]
    tab = await page.get_by_role("link", name="Clock skew").bounding_box()
    assert tab is not None and tab["height"] >= 40, tab  # a thumb's target
    await no_sideways_scroll(page, viewport["width"])
    await page.screenshot(path=tmp_path / f"fleet-firmware-{size}.png", full_page=True)
    await page.get_by_role("link", name="Clock skew").click()
    await expect(page.get_by_role("cell", name="+7200.0 s")).to_be_visible()
    await no_sideways_scroll(page, viewport["width"])
    await page.screenshot(path=tmp_path / f"fleet-clock-{size}.png", full_page=True)
    await page.get_by_role("link", name="PoE budget").click()
    await no_sideways_scroll(page, viewport["width"])
    await page.screenshot(path=tmp_path / f"fleet-poe-{size}.png", full_page=True)
    async with page.expect_download() as info:
        await page.get_by_role("link", name="All four reports (XLSX)").click()
    assert (await info.value).suggested_filename.endswith(".xlsx")

    await page.goto(f"{base}/sites/{site}")
    await page.get_by_role("button", name="Prepare the PDF in the background").click()
    await expect(page.get_by_role("heading", name="Handover pack, v1")).to_be_visible()
    await page.screenshot(path=tmp_path / f"handover-waiting-{size}.png")
    link = page.get_by_role("link", name="Download the PDF")
    await expect(link).to_be_visible(timeout=60_000)  # htmx polls the status until it is done
    await no_sideways_scroll(page, viewport["width"])
    await page.screenshot(path=tmp_path / f"handover-ready-{size}.png")
    async with page.expect_download() as info:
        await link.click()
    saved = tmp_path / "handover.pdf"
    await (await info.value).save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    await context.close()
    keep_shots(tmp_path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_branding_page_at_phone_and_desktop(browser_api: Api, browser: Browser, tmp_path: Path) -> None:
    api = browser_api
    admin = await add_user(api.app, "admin")
    base = base_url(api.client)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 80), (10, 92, 54)).save(logo)
    for size, viewport in SIZES.items():
        context, page = await signed_in(browser, base, size, admin, PASSWORD, has_touch=False)
        await page.get_by_role("link", name="Branding").click()
        await page.fill("input[name=integrator_name]", "Kansai Bōhan 関西防犯株式会社")
        await page.set_input_files("input[name=logo]", str(logo))
        await page.get_by_role("button", name="Save branding").click()
        await expect(page.get_by_text("Branding saved")).to_be_visible()
        await expect(page.locator("img.brand-logo")).to_be_visible()
        await no_sideways_scroll(page, viewport["width"])
        await page.screenshot(path=tmp_path / f"branding-{size}.png", full_page=True)
        await context.close()
    keep_shots(tmp_path)
