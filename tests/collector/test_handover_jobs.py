"""The handover PDF as a durable job (start → status → download, rendered once, picked up again
after a crash), and the branding page whose name, logo and colours the PDF and the pages carry."""

from __future__ import annotations

import asyncio
import io
import subprocess
import time
from datetime import date

import aiohttp
from PIL import Image

from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
from collector.auth import cli_admin
from collector.db.deliverable_tables import HandoverRender
from collector.db.job_tables import LocalJob
from collector.db.session import is_sqlite
from collector.jobs.local import LocalJobQueue
from collector.jobs.tasks import JobContext
from collector.keys import attachment_store_key, config_key, sessions_key
from collector.record.placement_db import PinDraft
from collector.record.visits import VisitDraft
from collector.services import branding as branding_service
from collector.services import handover, record
from collector.services.context import Ctx
from tests.collector.conftest import ADMIN_TOKEN, CSRF_FIELD, Api, add_user, sign_in, unique_site
from tests.collector.factory import device
from tests.collector.test_people import assert_audited, last_audit_id
from tests.collector.test_web_ui import site_v1
from tests.record.files import chunks_of, png

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pdf_text(body: bytes, *, layout: bool = True) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    done = subprocess.run(args, input=body, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


async def wait_done(api: Api, status_url: str, timeout_s: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with api.client.get(status_url, headers=ADMIN) as resp:
            state = await resp.json()
        if state["status"] in ("done", "failed"):
            return dict(state)
        await asyncio.sleep(0.3)
    raise AssertionError(f"the job did not finish in {timeout_s} s: {state}")


async def site_record(api: Api, site: str, device_id: str) -> None:
    """A floor plan with the gate camera pinned on it and a service visit."""
    stored = await store_upload(
        api.app[attachment_store_key], chunks_of(png((400, 200))), filename="yard.png",
        declared_type="image/png", kind=AttachmentKind.FLOOR_PLAN, policy=UploadPolicy(),
    )  # fmt: skip
    async with api.app[sessions_key]() as db, db.begin():
        ctx = Ctx(cli_admin("t"))
        _, row = await record.add_upload(db, ctx, site, stored, AttachmentKind.FLOOR_PLAN)
        assert row.id is not None
        plan = await record.add_plan(db, ctx, site, row.id, "Yard plan", "0")
        assert plan.id is not None
        await record.place_pin(db, ctx, site, plan.id, PinDraft(device_id, 0.3, 0.6, "pole 1, 4 m"), None)
        draft = VisitDraft(date(2026, 11, 30), "kenji", "Gate camera re-aimed", "tilted down 5°")
        await record.add_visit(db, ctx, site, draft)


async def test_handover_pdf_job_runs_once_then_downloads(api: Api) -> None:
    start = await last_audit_id(api.app)
    site = unique_site()
    _, token = await api.enrol(site)
    snapshot = site_v1(site)
    assert (await api.push(token, snapshot))[0] == 201
    await site_record(api, site, device(snapshot, "cam-gate").id)
    async with api.client.post(f"/api/v1/sites/{site}/handover-jobs", headers=ADMIN) as resp:
        assert resp.status == 202, await resp.text()
        started = await resp.json()
    assert started["status"] == "queued" and resp.headers["Location"] == started["status_url"]
    state = await wait_done(api, started["status_url"])
    assert state["status"] == "done" and state["attempts"] == 1, state
    async with api.client.get(str(state["file_url"]), headers=ADMIN) as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        body = await resp.read()
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{site}-v1-handover.pdf"'
    # A long serial wraps in its cell at a hyphen, which pdftotext joins back without the hyphen.
    text = "".join(pdf_text(body, layout=False).split()).replace("-", "")
    missing = [
        d.identity.serial
        for d in snapshot.devices
        if d.identity.serial and d.identity.serial.replace("-", "") not in text
    ]
    assert not missing, (missing, text[:3000])
    plain = pdf_text(body)
    assert "Yard plan (level 0)" in plain and "Gate camera re-aimed" in plain  # the site record's sections
    listing = await asyncio.to_thread(
        subprocess.run, ["pdfimages", "-list", "-"], input=body, capture_output=True
    )
    sizes = {tuple(line.split()[3:5]) for line in listing.stdout.decode().splitlines()[2:]}
    assert ("400", "200") in sizes, listing.stdout  # the plan image is in the pack
    config = api.app[config_key]
    path = handover.render_path(config.data_dir, int(started["id"]))
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_bytes() == body
    # Run once: the same job again (a retry after a crash that came after the work) renders nothing.
    mtime = path.stat().st_mtime_ns
    job = JobContext(config, api.app[sessions_key], job_id=0, attempt=2)
    await handover.handover_pdf_job(job, {"render": started["id"]})
    async with api.app[sessions_key]() as db:
        row = await db.get(HandoverRender, int(started["id"]))
        assert row is not None and row.attempts == 1 and row.status == "done"
    assert path.stat().st_mtime_ns == mtime
    # Not ready yet: 409, not an empty file; another site's render id: 404.
    async with api.app[sessions_key]() as db, db.begin():
        waiting = await handover.request_render(db, Ctx(cli_admin("t")), site, None)
    async with api.client.get(f"/api/v1/sites/{site}/handover-jobs/{waiting.id}/file", headers=ADMIN) as resp:
        assert resp.status == 409
    other = unique_site()
    await api.enrol(other)
    async with api.client.get(f"/api/v1/sites/{other}/handover-jobs/{started['id']}", headers=ADMIN) as resp:
        assert resp.status == 404
    if is_sqlite(config.db_url):
        # A collector killed mid-job: its job row is left 'doing'. The next start puts it back and runs it.
        async with api.app[sessions_key]() as db, db.begin():
            db.add(LocalJob(task=handover.TASK, payload={"render": waiting.id}, status="doing", attempts=1))
        queue = LocalJobQueue(config, api.app[sessions_key])
        await queue.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                async with api.app[sessions_key]() as db:
                    row = await db.get(HandoverRender, waiting.id)
                    assert row is not None
                if row.status == "done":
                    break
                await asyncio.sleep(0.3)
            assert row.status == "done" and handover.render_path(config.data_dir, row.id or 0).exists()
        finally:
            await queue.stop()
    await assert_audited(api.app, start, "test_handover_pdf_job_runs_once_then_downloads")


def logo_png() -> bytes:
    image = Image.new("RGB", (300, 120), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def post_branding(api: Api, csrf: str, fields: dict[str, str], logo: bytes | None) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    for key, value in fields.items():
        form.add_field(key, value)
    if logo is not None:
        form.add_field("logo", logo, filename="logo.png", content_type="image/png")
    async with api.client.post("/admin/branding", data=form, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def test_branding_page_sets_name_logo_and_colours_used_in_the_pdf(api: Api) -> None:
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "admin")
    csrf = await sign_in(api.client, name)
    page = await (await api.client.get("/admin/branding")).text()
    match = CSRF_FIELD.search(page)
    assert match and 'type="file"' in page
    fields = {"integrator_name": "Kansai Bōhan 関西防犯", "contact": "Osaka · 06-1234-5678",
              "primary_colour": "#0A5C36", "accent_colour": "#d4a017", "version": "0"}  # fmt: skip
    try:
        status, text = await post_branding(api, csrf, fields, b"<svg onload=alert(1)>")
        assert status == 415 and "PNG or JPEG" in text
        status, text = await post_branding(api, csrf, fields, b"\x89PNG\r\n\x1a\n" + b"x" * 600_000)
        assert status == 413
        status, text = await post_branding(api, csrf, fields, b"\x89PNG\r\n\x1a\nnot really")
        assert status == 422 and "could not be read" in text
        status, text = await post_branding(api, csrf, {**fields, "primary_colour": "red;}"}, None)
        assert status == 422 and "primary_colour" in text
        version = 0
        async with api.app[sessions_key]() as db:
            row = await branding_service.branding_row(db)
            version = row.version if row else 0  # the PostgreSQL database is shared by the tests
        status, _ = await post_branding(api, csrf, {**fields, "version": str(version)}, logo_png())
        assert status == 303
        home = await (await api.client.get("/")).text()
        assert "Kansai Bōhan 関西防犯" in home and 'class="brand-logo" src="data:image/png;base64,' in home
        async with api.app[sessions_key]() as db:
            stored = await branding_service.current_branding(db)
        assert stored.primary_colour == "#0a5c36" and stored.logo_data_uri
        logo = Image.open(io.BytesIO(__import__("base64").b64decode(stored.logo_data_uri.split(",", 1)[1])))
        assert logo.format == "PNG" and logo.size == (300, 120) and not logo.info.get("exif")
        site = unique_site()
        _, token = await api.enrol(site)
        assert (await api.push(token, site_v1(site)))[0] == 201
        async with api.client.get(f"/api/v1/sites/{site}/export.pdf", headers=ADMIN) as resp:
            body = await resp.read()
        assert "Kansai Bōhan 関西防犯" in pdf_text(body) and "Osaka" in pdf_text(body)
        path = api.app[config_key].data_dir / "branded.pdf"
        path.write_bytes(body)
        listing = await asyncio.to_thread(
            subprocess.run, ["pdfimages", "-list", str(path)], capture_output=True, check=True
        )
        sizes = {tuple(line.split()[3:5]) for line in listing.stdout.decode().splitlines()[2:]}
        assert ("300", "120") in sizes, listing.stdout.decode()  # the logo, at its own size
        await assert_audited(api.app, start, "test_branding_page_sets_name_logo_and_colours_used_in_the_pdf")
    finally:
        async with api.app[sessions_key]() as db, db.begin():
            await branding_service.save_branding(
                db, Ctx(cli_admin("t")), {"integrator_name": "asbuilt", "primary_colour": "#24415f",
                                          "accent_colour": "#c25e00"}, remove_logo=True)  # fmt: skip


async def test_sealed_pdf_from_the_site_page_is_audited_and_never_cached(api: Api) -> None:
    from sqlmodel import col, select

    from collector.db.models import AuditEvent
    from collector.keys import vault_keys_key
    from collector.services import vault
    from collector.vault.store import EntryDraft

    site = unique_site()
    _, token = await api.enrol(site)
    assert (await api.push(token, site_v1(site)))[0] == 201
    secret = "Sealed-" + site
    async with api.app[sessions_key]() as db, db.begin():
        draft = EntryDraft(label="NVR admin", kind="login", username="admin", secrets={"password": secret})
        await vault.save_entry(db, Ctx(cli_admin("t")), api.app[vault_keys_key], site, draft)
    start = await last_audit_id(api.app)
    csrf = await sign_in(api.client, await add_user(api.app, "technician"))
    page = await (await api.client.get(f"/sites/{site}")).text()
    assert "PDF with passwords (sealed, audited)" in page
    async with api.client.post(f"/sites/{site}/handover/sealed", data={"csrf": csrf, "version": "1"}) as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Content-Disposition"].endswith('-with-passwords.pdf"')
        body = await resp.read()
    text = pdf_text(body)
    assert "SEALED" in text and secret in text
    async with api.app[sessions_key]() as db:
        rows = (await db.exec(select(AuditEvent).where(col(AuditEvent.id) > start))).all()
    kinds = [r.kind for r in rows if r.target and site in r.target]
    assert kinds.count("vault.reveal") == 1 and kinds.count("export.download") == 1, kinds
    assert not any((api.app[config_key].data_dir / handover.FOLDER).glob("*"))  # nothing of it is kept
    customer_csrf = await sign_in(api.client, await add_user(api.app, "customer", customers=("Meridian",)))
    async with api.client.post(f"/sites/{site}/handover/sealed", data={"csrf": customer_csrf}) as resp:
        assert resp.status == 403  # a customer never gets the annex
