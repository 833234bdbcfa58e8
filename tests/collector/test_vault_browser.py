"""The vault page in a real browser (Debian's Chromium via Playwright), at phone and desktop sizes:
a technician on a ladder taps Show, sees the value, taps Copy and has it on the clipboard; the reveal
is in the audit log. Screenshots go to the test's temporary directory (ASBUILT_SHOTS to keep them)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from collector.auth import cli_admin
from collector.db.models import AuditEvent
from collector.keys import sessions_key, vault_keys_key
from collector.services import people, vault
from collector.services.context import Ctx
from collector.vault.store import EntryDraft
from tests.collector.browser import BROWSER, SIZES, base_url, keep_shots, signed_in
from tests.collector.conftest import PASSWORD, Api, add_user, unique_name, unique_site
from tests.collector.factory import depot, device

pytestmark = BROWSER
SECRET = "Nvr!" + secrets.token_hex(5)


async def seeded_site(api: Api) -> tuple[str, str]:
    site, customer = unique_site(), unique_name("Harbour Logistics")
    async with api.app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("test")), customer, unique_name("North"))
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "agent"})
    token = (await resp.json())["token"]
    status, answer = await api.push(token, depot(site_id=site))
    assert status == 201, answer
    async with api.app[sessions_key]() as db, db.begin():
        ctx, keys = Ctx(cli_admin("test")), api.app[vault_keys_key]
        gate = device(depot(site_id=site), "cam-gate")
        for draft in (
            EntryDraft(label="NVR admin", kind="login", username="admin", secrets={"password": SECRET}),
            EntryDraft(label="Switch enable", kind="enable", secrets={"enable_secret": "en-" + SECRET}),
            EntryDraft(
                label="Camera login",
                kind="login",
                username="service",
                device_id=gate.id,
                settings={"drivers": ["onvif"], "vendors": ["HIKVISION"]},
                secrets={"password": "cam-" + SECRET},
            ),
        ):
            await vault.save_entry(db, ctx, keys, site, draft)
    technician = await add_user(api.app, "technician", customers=(customer,))
    return site, technician


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_show_and_copy_a_password(
    browser_api: Api, browser: Browser, tmp_path: Path, size: str
) -> None:
    api = browser_api
    site, technician = await seeded_site(api)
    base = base_url(api.client)
    viewport = SIZES[size]
    context, page = await signed_in(browser, base, size, technician, PASSWORD)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    await page.goto(f"{base}/sites/{site}")
    await page.get_by_role("link", name="Passwords").click()
    await expect(page.get_by_role("heading", name="NVR admin")).to_be_visible()
    assert SECRET not in await page.content()  # masked until asked for
    await page.screenshot(path=tmp_path / f"vault-{size}.png", full_page=True)

    nvr = page.locator("section.vault-entry", has=page.get_by_role("heading", name="NVR admin"))
    show = nvr.get_by_role("button", name="Show")
    box = await show.bounding_box()
    assert box is not None and box["height"] >= 40 and box["width"] >= 60  # a thumb can hit it
    await show.click()
    await expect(nvr.locator("code.revealed")).to_have_text(SECRET)
    await nvr.get_by_role("button", name="Copy").last.click()
    await expect(nvr.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == SECRET
    await page.screenshot(path=tmp_path / f"vault-{size}-revealed.png", full_page=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
    await context.close()

    async with api.app[sessions_key]() as db:
        rows = (await db.exec(select(AuditEvent).where(AuditEvent.kind == "vault.reveal"))).all()
    mine = [r for r in rows if r.actor == technician]
    assert len(mine) == 1 and mine[0].detail["field"] == "password" and SECRET not in str(mine[0].detail)
    keep_shots(tmp_path, ["vault-*.png"])
