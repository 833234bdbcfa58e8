"""The alert and share pages in a real browser (Debian's Chromium via Playwright) at 390 and 1366 px:
subscribe, add a webhook endpoint (its secret shown once), read the delivery log, create a share link
and open it on a phone, password in, ZIP out. Nothing may scroll sideways. Screenshots go to the
test's temporary directory (ASBUILT_SHOTS to keep them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from collector.auth import cli_admin
from collector.db.alert_tables import AlertDelivery, AlertEvent
from collector.keys import sessions_key
from collector.services.context import Ctx
from collector.services.sites import find_site
from tests.collector.browser import BROWSER, base_url, context_options, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api, add_user
from tests.collector.test_vault_browser import seeded_site

pytestmark = BROWSER


async def no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_alert_and_share_pages(browser_api: Api, browser: Browser, tmp_path: Path, size: str) -> None:
    api = browser_api
    site, _ = await seeded_site(api)
    admin = await add_user(api.app, "admin")
    async with api.app[sessions_key]() as db, db.begin():  # a delivery that keeps failing, for the log
        found, customer = await find_site(db, Ctx(cli_admin("t")), site)
        assert found.id is not None and customer.id is not None
        event = AlertEvent(
            key=f"changes:{found.id}:1-shot",
            kind="changes",
            site_id=found.id,
            customer_id=customer.id,
            version=1,
            text="-",
            subject=f"[asbuilt] {customer.name} / {site}: 1 change: 1 swapped",
        )
        db.add(event)
        await db.flush()
        assert event.id is not None
        db.add(
            AlertDelivery(
                event_id=event.id,
                channel="webhook",
                target="https://tickets.example.test/hooks/asbuilt",
                status="retrying",
                attempts=3,
                last_error="WebhookFailed: HTTP 503: maintenance",
            )
        )
    base = base_url(api.client)
    context, page = await signed_in(browser, base, size, admin, PASSWORD, accept_downloads=True)

    await page.goto(f"{base}/alerts")
    await page.select_option("#sub-target", f"site:{site}")
    await page.fill("#sub-email", "tech@example.test")
    await page.get_by_role("button", name="Subscribe").click()
    await expect(page.get_by_text("to tech@example.test")).to_be_visible()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / f"alerts-subscriptions-{size}.png", full_page=True)

    await page.goto(f"{base}/admin/alerts")
    await page.fill("#hook-name", "ticketing")
    await page.fill("#hook-url", "https://tickets.example.test/hooks/asbuilt")
    await page.get_by_role("button", name="Add endpoint").click()
    await expect(page.get_by_text(re.compile("whsec_"))).to_be_visible()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / f"alerts-webhooks-{size}.png", full_page=True)

    await page.get_by_role("link", name="Delivery log").click()
    await expect(page.get_by_text("HTTP 503: maintenance")).to_be_visible()
    await expect(page.get_by_text("retrying", exact=True)).to_be_visible()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / f"alerts-deliveries-{size}.png", full_page=True)

    await page.goto(f"{base}/sites/{site}")
    await page.get_by_role("link", name="Share with the customer…").click()
    await page.fill("#share-to", "Ms Tanaka, facilities")
    await page.fill("#share-pw", "tell-by-phone-7")
    await page.uncheck("input[value=pdf]")  # the PDF is tested elsewhere; keep this test quick
    await page.get_by_role("button", name="Create link").click()
    link = await page.locator(".secret code").inner_text()
    assert "/share/" in link
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / f"share-create-{size}.png", full_page=True)

    stranger = await browser.new_context(**context_options(size, accept_downloads=True))
    recipient = await stranger.new_page()
    await recipient.goto(link)
    await recipient.fill("#share-password", "wrong password")
    await recipient.get_by_role("button", name="Download").click()
    await expect(recipient.get_by_role("alert")).to_contain_text("not right")
    await no_sideways_scroll(recipient)
    await recipient.screenshot(path=tmp_path / f"share-open-{size}.png", full_page=True)
    await recipient.fill("#share-password", "tell-by-phone-7")
    async with recipient.expect_download(timeout=60_000) as info:
        await recipient.get_by_role("button", name="Download").click()
    download = await info.value
    assert download.suggested_filename == f"{site}-handover.zip"
    await stranger.close()
    await context.close()
    keep_shots(tmp_path)
