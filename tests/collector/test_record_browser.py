"""The site record in a real browser (Debian's Chromium via Playwright), at 390 px and 1366 px: a
technician uploads a photo through the phone form, uploads a floor plan and places a camera by
tapping the plan (static plan.js turns the tap into x/y fractions and posts the pin form).
Screenshots go to the test's temporary directory (ASBUILT_SHOTS=DIR keeps them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Browser, expect

from tests.collector.browser import BROWSER, SIZES, base_url, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api
from tests.collector.factory import depot, device
from tests.collector.test_vault_browser import seeded_site
from tests.record.files import jpeg_with_gps

pytestmark = BROWSER


def floor_plan(path: Path, size: tuple[int, int] = (1200, 800)) -> Path:
    """A small generated plan: outer walls, rooms, a door gap (no downloaded asset)."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, height - 20), outline="black", width=8)
    draw.line((width // 2, 20, width // 2, height // 2), fill="black", width=5)
    draw.line((20, height // 2, width - 20, height // 2), fill="black", width=5)
    draw.line((width // 2 - 60, height // 2, width // 2 + 60, height // 2), fill="white", width=7)
    draw.text((60, 60), "Office", fill="black")
    draw.text((width // 2 + 40, 60), "Server room", fill="black")
    draw.text((60, height // 2 + 40), "Warehouse", fill="black")
    image.save(path, "PNG")
    return path


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_photo_upload_and_pin_by_tap(
    browser_api: Api, browser: Browser, tmp_path: Path, size: str
) -> None:
    api = browser_api
    site, technician = await seeded_site(api)
    base = base_url(api.client)
    viewport = SIZES[size]
    phone = size == "phone"
    context, page = await signed_in(browser, base, size, technician, PASSWORD)

    # A photo from the phone's camera input (a JPEG with a GPS position, as phones write them).
    await page.goto(f"{base}/sites/{site}")
    await page.get_by_role("link", name="Photos & files").first.click()
    photo = tmp_path / "IMG_0042.JPG"
    photo.write_bytes(jpeg_with_gps((640, 480)))
    await page.set_input_files("#photo-file", str(photo))
    await page.fill("#photo-caption", "Rack, front door open")
    await page.get_by_role("button", name="Upload photo").click()
    await expect(page.locator(".flash").first).to_contain_text("uploaded")
    thumb = page.locator("ul.thumbs img").first
    await expect(thumb).to_be_visible()
    # The thumbnail loads (served through the permission-checked route): wait for it, then check.
    loaded = "() => [...document.querySelectorAll('ul.thumbs img')].every(i => i.complete)"
    await page.wait_for_function(loaded)
    assert await thumb.evaluate("img => img.naturalWidth") > 0
    await page.screenshot(path=tmp_path / f"record-photos-{viewport['width']}.png", full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # A floor plan, then the gate camera placed by tapping the plan.
    await page.get_by_role("link", name="Floor plans").click()
    await page.fill("#plan-name", "Ground floor")
    await page.set_input_files("#plan-file", str(floor_plan(tmp_path / "ground.png")))
    await page.get_by_role("button", name="Upload plan").click()
    await expect(page.locator(".flash").first).to_contain_text("plan Ground floor added")
    gate = device(depot(site_id=site), "cam-gate")
    await page.select_option("select[name=device_id]", gate.id)
    image = page.locator(".plan-stage img")
    box = await image.bounding_box()
    assert box is not None
    spot = {"x": box["width"] * 0.3, "y": box["height"] * 0.6}
    if phone:
        await image.tap(position=spot)
    else:
        await image.click(position=spot)
    placed = "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) placed"
    await expect(page.locator(".flash").first).to_contain_text(placed)
    circle = page.locator(f'g.pin[data-device="{gate.id}"] circle')
    await expect(circle).to_have_count(1)
    cx, cy = float(await circle.get_attribute("cx") or 0), float(await circle.get_attribute("cy") or 0)
    assert abs(cx / 1200 - 0.3) < 0.02 and abs(cy / 800 - 0.6) < 0.02, (cx, cy)
    option = page.locator(f'select[name=device_id] option[value="{gate.id}"]')
    assert await option.get_attribute("data-version") == "1"  # now a pin to move, at version 1
    await page.screenshot(path=tmp_path / f"record-plan-{viewport['width']}.png", full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # The quote, imported from a CSV and reconciled against the scan; then a visit, on the site page.
    await page.get_by_role("link", name="Quote").click()
    quote = tmp_path / "quote.csv"
    quote.write_text("Qty,Manufacturer,Model\n2,Hikvision,DS-2CD2T47G2-L\n3,AXIS,P3245-LVE\n")
    await page.set_input_files("#quote-file", str(quote))
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator(".flash").first).to_contain_text("quote imported: 2 lines")
    await expect(page.locator("table.quote tbody tr")).to_have_count(2)
    await page.screenshot(path=tmp_path / f"record-quote-{viewport['width']}.png", full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await page.get_by_role("link", name="Visits").click()
    await page.fill("#visit-reason", "Gate camera mounted")
    await page.fill("#visit-work", "Mounted and aimed the gate camera; pinned it on the plan.")
    await page.get_by_role("button", name="Save visit").click()
    await expect(page.locator(".visits li")).to_have_count(1)
    await page.screenshot(path=tmp_path / f"record-visits-{viewport['width']}.png", full_page=True)
    await page.goto(f"{base}/sites/{site}")
    await expect(page.locator("#last-visit")).to_contain_text("Gate camera mounted")
    await page.locator("#site-record").screenshot(path=tmp_path / f"record-site-nav-{viewport['width']}.png")
    await context.close()
    keep_shots(tmp_path, ["record-*.png"])
