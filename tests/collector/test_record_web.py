"""The site record over real HTTP (aiohttp test server on 127.0.0.1), on SQLite and PostgreSQL: photos
and files (type/size refused, GPS gone, never served without the site's scope check), floor plans
and pins (stale edits refused, a replaced camera flagged), the quote and its reconciliation, visits.

Versions are pushed through the real API by an enrolled agent; pages are used as a browser would,
with the session cookie and CSRF token from the sign-in form.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from PIL.ExifTags import IFD

from collector.app import create_app
from collector.config import CollectorConfig
from collector.keys import attachment_store_key
from tests.collector.conftest import ADMIN_TOKEN, Api, add_user, sign_in, unique_site
from tests.collector.factory import camera, depot, device, with_devices
from tests.collector.test_people import assert_audited, last_audit_id
from tests.collector.world import sign_in_web, web_session
from tests.record.files import jpeg_with_gps, png

CUSTOMER = "Meridian"  # the customer Api.issue_code files a new site under
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HREF = re.compile(r'href="(/sites/[^"]+/files/(\d+))"')


async def depot_site(api: Api) -> tuple[str, str]:
    """A site with one version (the depot); returns (slug, agent token)."""
    site = unique_site()
    _, token = await api.enrol(site)
    status, body = await api.push(token, depot(site_id=site))
    assert status == 201, body
    return site, token


async def technician(api: Api, customer: str = CUSTOMER) -> tuple[str, str]:
    """A technician scoped to ``customer``, signed in on the test client; returns (name, csrf)."""
    name = await add_user(api.app, "technician", customers=(customer,))
    return name, await sign_in(api.client, name)


def upload(csrf: str | None, filename: str, data: bytes, media_type: str, **fields: str) -> aiohttp.FormData:
    """The form as the page sends it: the CSRF token and the kind before the file."""
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("file", data, filename=filename, content_type=media_type)
    return form


def stored_files(api: Api) -> list[Path]:
    root = api.app[attachment_store_key].root
    return [p for p in Path(root).rglob("*") if p.is_file() and ".staging" not in p.parts]


# ---------------------------------------------------------------- photos and files


async def test_photo_upload_strips_gps_and_is_served_only_after_the_scope_check(api: Api) -> None:
    start = await last_audit_id(api.app)
    site, _ = await depot_site(api)
    _, csrf = await technician(api)
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(IFD.GPSInfo)  # the phone wrote a location
    form = upload(csrf, "IMG_0001.JPG", original, "image/jpeg", kind="photo", caption="cabinet door")
    resp = await api.client.post(f"/sites/{site}/files", data=form, allow_redirects=False)
    assert resp.status == 303, (await resp.text())[:1000]
    page = await (await api.client.get(f"/sites/{site}/files")).text()
    assert "cabinet door" in page and 'capture="environment"' in page and 'accept="image/*"' in page
    match = HREF.search(page)
    assert match, page[:2000]
    file_url, attachment_id = match.group(1), match.group(2)
    assert f"{file_url}?variant=thumbnail" in page  # the thumbnail, through the same checked route
    resp = await api.client.get(file_url)
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(await resp.read())) as stored:
        assert not stored.getexif().get_ifd(IFD.GPSInfo) and not stored.getexif()
    thumb = await api.client.get(f"{file_url}?variant=thumbnail")
    assert thumb.status == 200 and thumb.content_type == "image/jpeg"

    # Over the API, the same file is listed and downloadable by whoever may read the site ...
    listed = await (await api.client.get(f"/api/v1/sites/{site}/attachments", headers=ADMIN)).json()
    assert [a["attachment_id"] for a in listed["attachments"]] == [int(attachment_id)]
    # ... and not at all by a technician of another customer: 404, exactly like a file that does not exist.
    elsewhere = f"Elsewhere {site}"
    await api.issue_code(unique_site(), customer=elsewhere)  # another customer, with a site of its own
    other = await add_user(api.app, "technician", customers=(elsewhere,))
    async with await web_session(str(api.client.make_url(""))) as http:
        await sign_in_web(http, other)
        async with http.get(file_url, allow_redirects=False) as denied:
            assert denied.status == 404
            denied_text = await denied.text()
        async with http.get(f"/sites/{site}/files/987654321", allow_redirects=False) as missing:
            assert missing.status == 404
        async with http.get(f"{file_url}?variant=thumbnail", allow_redirects=False) as denied_thumb:
            assert denied_thumb.status == 404
    assert "cabinet door" not in denied_text and "IMG_0001" not in denied_text
    # No static path reaches the store: the blob's own name under /static is nothing.
    for blob in stored_files(api):
        resp = await api.client.get(f"/static/{blob.name}")
        assert resp.status in (403, 404)
    await assert_audited(
        api.app, start, "test_photo_upload_strips_gps_and_is_served_only_after_the_scope_check"
    )


@pytest.fixture
async def small_limit(config: CollectorConfig, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    """A collector whose uploads are limited to 20 KiB (ASBUILT_ATTACHMENT_MAX_BYTES)."""
    monkeypatch.setenv("ASBUILT_ATTACHMENT_MAX_BYTES", str(20 * 1024))
    async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as client:
        yield Api(client)


async def test_uploads_refused_by_size_and_type_leave_nothing(small_limit: Api) -> None:
    api = small_limit
    site, _ = await depot_site(api)
    url = f"/api/v1/sites/{site}/attachments"
    cases = [
        ("page.html", b"<!doctype html><script>alert(1)</script>", "text/html", "photo", 415),
        ("photo.jpg", png(), "image/jpeg", "photo", 415),  # a PNG named and declared as a JPEG
        ("notes.txt", b"just text", "text/plain", "photo", 415),  # a photo must be an image
        ("big.png", png((400, 400), noisy=True), "image/png", "photo", 413),
    ]
    for name, content, media_type, kind, status in cases:
        resp = await api.client.post(
            url, data=upload(None, name, content, media_type, kind=kind), headers=ADMIN
        )
        body = await resp.json()
        assert resp.status == status, (name, body)
        assert body["error"]["message"], body
    assert stored_files(api) == []
    # The page says why, and keeps the form.
    _, csrf = await technician(api)
    big = upload(csrf, "big.png", png((400, 400), noisy=True), "image/png", kind="photo")
    resp = await api.client.post(f"/sites/{site}/files", data=big, allow_redirects=False)
    assert resp.status == 413 and "larger than the limit of 20 KiB" in await resp.text()
    ok = await api.client.post(
        url, data=upload(None, "ok.png", png(), "image/png", kind="photo"), headers=ADMIN
    )
    assert ok.status == 201 and (await ok.json())["media_type"] == "image/png"
    # A support user may read the site but not add to its record.
    support = await add_user(api.app, "support", customers=(CUSTOMER,))
    async with await web_session(str(api.client.make_url(""))) as http:
        support_csrf = await sign_in_web(http, support)
        form = upload(support_csrf, "ok.png", png(), "image/png", kind="photo")
        async with http.post(f"/sites/{site}/files", data=form, allow_redirects=False) as resp:
            assert resp.status == 403


# ---------------------------------------------------------------- floor plans and pins


def pin_versions(page: str) -> dict[str, str]:
    return dict(re.findall(r'<option value="([^"]+)" data-version="(\d+)">', page))


async def test_pin_placed_stale_edit_refused_and_a_replaced_camera_flagged(api: Api) -> None:
    start = await last_audit_id(api.app)
    site, token = await depot_site(api)
    _, csrf = await technician(api)
    plan = upload(csrf, "ground.png", png((300, 200)), "image/png", kind="floor_plan", name="Ground floor")
    resp = await api.client.post(f"/sites/{site}/plans", data=plan, allow_redirects=False)
    assert resp.status == 303, (await resp.text())[:1000]
    page = await (await api.client.get(f"/sites/{site}/plans")).text()
    plan_id = re.search(r'action="/sites/[^"]+/plans/(\d+)/pins"', page)
    assert plan_id and "Ground floor" in page and 'id="to-place"' in page
    gate = device(depot(site_id=site), "cam-gate")
    assert f'<option value="{gate.id}" data-version="">' in page  # to place: scanned, no pin yet
    pins = f"/sites/{site}/plans/{plan_id.group(1)}/pins"

    placed = await api.client.post(pins, data={"csrf": csrf, "device_id": gate.id, "x": "0.25", "y": "0.5",
                                               "version": ""}, allow_redirects=False)  # fmt: skip
    assert placed.status == 303
    page = await (await api.client.get(f"/sites/{site}/plans")).text()
    assert pin_versions(page)[gate.id] == "1"
    assert 'cx="75.0" cy="100.0"' in page  # 0.25 × 300, 0.5 × 200: where it was tapped
    assert f'<option value="{gate.id}" data-version="">' not in page  # no longer "to place"
    # A colleague moves it (from version 1) ...
    moved = await api.client.post(pins, data={"csrf": csrf, "device_id": gate.id, "x": "0.5", "y": "0.5",
                                              "version": "1"}, allow_redirects=False)  # fmt: skip
    assert moved.status == 303
    # ... and a second edit made from the page that still showed version 1 is refused, saying why.
    stale = await api.client.post(pins, data={"csrf": csrf, "device_id": gate.id, "x": "0.9", "y": "0.9",
                                              "version": "1"}, allow_redirects=False)  # fmt: skip
    text = await stale.text()
    assert stale.status == 409
    assert "Not saved" in text and "was changed by" in text and "reload" in text
    assert 'cx="150.0" cy="100.0"' in text and 'cx="270.0"' not in text  # the colleague's pin stands
    # Placing again without a version (a page opened before it was placed) is refused too.
    again = await api.client.post(pins, data={"csrf": csrf, "device_id": gate.id, "x": "0.1", "y": "0.1",
                                              "version": ""}, allow_redirects=False)  # fmt: skip
    assert again.status == 409 and "after you opened the plan" in await again.text()

    # The camera is swapped on the same port: the plan flags its pin and names the new unit.
    old = depot(site_id=site)
    swap = camera("cam-gate-2", "c0:56:e3:44:20:77", "10.77.0.88", port=1, serial="DS-2CD2T47G2-L20240101NEW")
    status, body = await api.push(token, with_devices(old, swap, drop=[gate.id]))
    assert status == 201, body
    page = await (await api.client.get(f"/sites/{site}/plans")).text()
    assert 'id="attention"' in page and "replaced by another unit" in page and "move the pin" in page
    assert 'class="pin s-replaced"' in page
    # One tap hands the pin to the new unit: the flag goes, the pin stays where it was.
    repoint = re.search(r'action="(/sites/[^"]+/pins/\d+/repoint)"', page)
    assert repoint and f'name="device_id" value="{swap.id}"' in page
    resp = await api.client.post(repoint.group(1), data={"csrf": csrf, "device_id": swap.id, "version": "2"},
                                 allow_redirects=False)  # fmt: skip
    assert resp.status == 303
    page = await (await api.client.get(f"/sites/{site}/plans")).text()
    assert 'class="pin s-replaced"' not in page and 'class="pin s-ok"' in page and 'cx="150.0"' in page
    stale = await api.client.post(repoint.group(1), data={"csrf": csrf, "device_id": gate.id, "version": "2"},
                                  allow_redirects=False)  # fmt: skip
    assert stale.status == 409 and "Not saved" in await stale.text()
    await assert_audited(api.app, start, "test_pin_placed_stale_edit_refused_and_a_replaced_camera_flagged")


# ---------------------------------------------------------------- quote


async def test_quote_import_row_errors_then_reconciliation(api: Api) -> None:
    start = await last_audit_id(api.app)
    site, _ = await depot_site(api)
    _, csrf = await technician(api)
    bad = b"Qty,Manufacturer,Model\n2,Hikvision,DS-2CD2T47G2-L\nmany,AXIS,P3245-LVE\n"
    resp = await api.client.post(f"/sites/{site}/quote", data=upload(csrf, "quote.csv", bad, "text/csv"),
                                 allow_redirects=False)  # fmt: skip
    text = await resp.text()
    assert resp.status == 422 and "Nothing was imported" in text and "row 3" in text
    assert "No quote imported yet" in text
    good = (b"Qty,Manufacturer,Model,Serial\n3,Hikvision,DS-2CD2T47G2-L,\n"
            b"2,AXIS,P3245-LVE,\n1,Hikvision,DS-7616NI-K2,\n")  # fmt: skip
    resp = await api.client.post(f"/sites/{site}/quote", data=upload(csrf, "quote.csv", good, "text/csv"),
                                 allow_redirects=False)  # fmt: skip
    assert resp.status == 303, (await resp.text())[:1500]
    page = await (await api.client.get(f"/sites/{site}/quote")).text()
    assert 'id="reconciliation"' in page and "Quoted against installed" in page
    cells = (
        r'<td data-label="Quoted" class="num">(\d+)</td>\s*<td data-label="Installed" class="num">(\d+)</td>'
    )
    rows = re.findall(cells, page)
    # One of the three quoted Hikvision cameras and one of the two AXIS P3245 are on the network.
    assert rows == [("3", "1"), ("2", "1"), ("1", "0")], rows
    assert "2 missing" in page and "1 missing" in page
    assert "Installed but not on the quote" in page or "complete" in page
    await assert_audited(api.app, start, "test_quote_import_row_errors_then_reconciliation")


# ---------------------------------------------------------------- visits


async def test_visit_added_and_shown_as_last_visit(api: Api) -> None:
    start = await last_audit_id(api.app)
    site, _ = await depot_site(api)
    support = await add_user(api.app, "support", customers=(CUSTOMER,))
    csrf = await sign_in(api.client, support)  # support may note a visit (DESIGN.md roles table)
    form = {"csrf": csrf, "visited_on": "30.11.2026", "technician": "kim", "reason": "camera offline"}
    bad = await api.client.post(f"/sites/{site}/visits", data=form, allow_redirects=False)
    assert bad.status == 422 and "YYYY-MM-DD" in await bad.text()
    for day, reason in (("2026-10-02", "yearly maintenance"), ("2026-11-30", "camera offline at the gate")):
        resp = await api.client.post(f"/sites/{site}/visits", allow_redirects=False, data={
            "csrf": csrf, "visited_on": day, "technician": "kim", "reason": reason,
            "work_done": "replaced the PoE injector"})  # fmt: skip
        assert resp.status == 303
    page = await (await api.client.get(f"/sites/{site}")).text()
    last = re.search(r'<p class="small" id="last-visit">(.*?)</p>', page, re.S)
    assert last and "2026-11-30" in last.group(1) and "camera offline at the gate" in last.group(1)
    visits = await (await api.client.get(f"/sites/{site}/visits")).text()
    assert visits.index("2026-11-30") < visits.index("2026-10-02") and "replaced the PoE injector" in visits
    body = await (await api.client.get(f"/api/v1/sites/{site}/visits", headers=ADMIN)).json()
    assert body["last_visit"] == "2026-11-30" and len(body["visits"]) == 2
    added = await api.client.post(f"/api/v1/sites/{site}/visits", headers=ADMIN, json={
        "visited_on": "2026-12-01", "technician": "lee", "reason": "handover"})  # fmt: skip
    assert added.status == 201 and (await added.json())["technician"] == "lee"
    await assert_audited(api.app, start, "test_visit_added_and_shown_as_last_visit")
