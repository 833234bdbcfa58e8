"""What the browser tests share: Debian's Chromium driven by Playwright, one per test session.

- `launch_chromium`, behind the `browser` fixture (tests/collector/conftest.py): one headless
  Chromium for the whole session (one per xdist worker), on the session's event loop. A test that
  uses it runs on that loop too: its module sets `pytestmark = BROWSER`, and it takes `browser_api`
  (the `api` fixture's in-process collector, served on the same loop) instead of `api`. Each test
  still opens its own browser context: no cookie or storage crosses tests.
- `PHONE` (390 px) and `DESKTOP` (1366 px), and `context_options(size)` for a context at that size.
- `sign_in`: through the real login form, as a person does; `signed_in`: a new context's page, so.
- `watch_console`: the browser's complaints (a CSP violation or a script error shows up there).
- `keep_shots`: with ASBUILT_SHOTS=DIR, a test's screenshots are copied there to be looked at.

Needs: apt-get install chromium (scripts/system-deps.sh) and the playwright pip package (dev extra);
`playwright install` is never run: the browser is the system's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

if TYPE_CHECKING:
    from aiohttp.test_utils import TestClient

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
# The browser tests' marks: the browser marker, and the session's event loop (the browser's).
BROWSER = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def chromium_path() -> str:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/system-deps.sh)"
    return str(CHROMIUM)


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for as long as the caller holds it (the `browser` fixture)."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def base_url(client: TestClient) -> str:
    """Where an in-process collector (the `api` fixtures' client) answers, without a trailing /."""
    return str(client.make_url("")).rstrip("/")


def context_options(size: str, **extra: Any) -> dict[str, Any]:
    """A context at a phone's or a desktop's size; a phone is a mobile with a touch screen."""
    phone = size == "phone"
    return {"viewport": SIZES[size], "is_mobile": phone, "has_touch": phone, **extra}


async def submit_login(page: Page, base: str, name: str, password: str) -> None:
    """Fill in and send the login form, as a person does; where it lands is the caller's to check."""
    await page.goto(f"{base}/login")
    await page.get_by_label("User name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def sign_in(page: Page, base: str, name: str, password: str) -> None:
    """Sign in through the login form; it brings the person to the sites list."""
    await submit_login(page, base, name, password)
    await expect(page).to_have_url(f"{base}/")


async def signed_in(
    browser: Browser, base: str, size: str, name: str, password: str, **options: Any
) -> tuple[BrowserContext, Page]:
    """A new context at `size` (`context_options`: more options as keywords), its page signed in."""
    context = await browser.new_context(**context_options(size, **options))
    page = await context.new_page()
    await sign_in(page, base, name, password)
    return context, page


def watch_console(page: Page, allowed: tuple[str, ...] = ()) -> list[str]:
    """Collect the browser's errors (console and uncaught); `allowed` are endings of expected ones."""
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and not m.text.endswith(allowed) else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def keep_shots(folder: Path, patterns: Iterable[str] = ("*.png",)) -> None:
    """With ASBUILT_SHOTS=DIR, the screenshots in `folder` are copied there to be looked at."""
    keep = os.environ.get("ASBUILT_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for pattern in patterns:
            for shot in folder.glob(pattern):
                shutil.copy(shot, Path(keep) / shot.name)
