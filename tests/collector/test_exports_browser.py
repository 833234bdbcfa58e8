"""The documents in a real browser (Debian's Chromium via Playwright), at phone and desktop sizes:
from the site page to the wiring diagram, zoomed with the buttons, and the handover PDF downloaded
with one tap. Screenshots go to the test's temporary directory (ASBUILT_SHOTS to keep them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.collector.browser import BROWSER, SIZES, base_url, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api
from tests.collector.test_vault_browser import seeded_site

pytestmark = BROWSER


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_diagram_page_and_pdf_download(
    browser_api: Api, browser: Browser, tmp_path: Path, size: str
) -> None:
    api = browser_api
    site, technician = await seeded_site(api)
    base = base_url(api.client)
    viewport = SIZES[size]
    context, page = await signed_in(browser, base, size, technician, PASSWORD, accept_downloads=True)
    await page.goto(f"{base}/sites/{site}")
    await expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    await page.locator("#documents").scroll_into_view_if_needed()
    await page.screenshot(path=tmp_path / f"documents-{size}.png")

    await page.get_by_role("link", name="Wiring diagram").click()
    image = page.locator("img#diagram")
    await expect(image).to_be_visible()
    await page.wait_for_function("document.getElementById('diagram').naturalWidth > 0")
    shown = await image.evaluate("img => img.getBoundingClientRect().width")
    natural = await image.evaluate("img => img.naturalWidth")
    frame = await page.locator("#diagram-frame").evaluate("f => f.clientWidth")
    # Fitted on a wide screen; on a phone, where fitting would make it unreadable, natural size.
    assert abs(shown - (natural if frame < natural * 0.6 else frame)) <= 2, (shown, natural, frame)
    await page.screenshot(path=tmp_path / f"diagram-{size}.png", full_page=True)
    await page.get_by_role("button", name="Fit").click()
    fitted = await image.evaluate("img => img.getBoundingClientRect().width")
    assert abs(fitted - frame) <= 2, (fitted, frame)
    await page.get_by_role("button", name="Zoom in").click()
    zoomed = await image.evaluate("img => img.getBoundingClientRect().width")
    assert zoomed > fitted * 1.4, (zoomed, fitted)
    scroll = await page.locator("#diagram-frame").evaluate("f => f.scrollWidth > f.clientWidth")
    assert scroll  # the frame scrolls, the page does not
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
    await page.screenshot(path=tmp_path / f"diagram-{size}-zoomed.png", full_page=True)
    await page.get_by_role("button", name="Fit").click()  # back
    assert abs(await image.evaluate("img => img.getBoundingClientRect().width") - fitted) <= 2

    async with page.expect_download(timeout=60_000) as info:
        await page.get_by_role("link", name="Handover pack (PDF)").click()
    download = await info.value
    assert download.suggested_filename == f"{site}-v1-handover.pdf"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    await context.close()
    keep_shots(tmp_path)
