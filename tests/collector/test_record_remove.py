"""Removing a file and a pin from the pages: permitted roles only, the version as shown, audited."""

from __future__ import annotations

from sqlmodel import select

from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
from collector.auth import cli_admin
from collector.db.models import AuditEvent
from collector.db.record_tables import DevicePin, SiteAttachment
from collector.keys import attachment_store_key, sessions_key
from collector.record.placement_db import PinDraft
from collector.services import record
from collector.services.context import Ctx
from tests.collector.conftest import Api, add_user, sign_in
from tests.collector.test_vault_browser import seeded_site
from tests.record.files import chunks_of, png


async def _photo_and_pin(api: Api, site: str) -> tuple[int, int]:
    ctx = Ctx(cli_admin("test"))
    store = api.app[attachment_store_key]
    photo = await store_upload(store, chunks_of(png((90, 60))), filename="rack.png",
                               declared_type="image/png",
                               kind=AttachmentKind.PHOTO, policy=UploadPolicy())  # fmt: skip
    plan_file = await store_upload(store, chunks_of(png((300, 200))), filename="plan.png",
                                   declared_type="image/png", kind=AttachmentKind.FLOOR_PLAN,
                                   policy=UploadPolicy())  # fmt: skip
    async with api.app[sessions_key]() as db, db.begin():
        _, row = await record.add_upload(db, ctx, site, photo, AttachmentKind.PHOTO)
        _, plan_row = await record.add_upload(db, ctx, site, plan_file, AttachmentKind.FLOOR_PLAN)
        assert plan_row.id is not None
        plan = await record.add_plan(db, ctx, site, plan_row.id, "Ground floor", None)
        assert plan.id is not None
        pin = await record.place_pin(
            db, ctx, site, plan.id, PinDraft("mac:c0:56:e3:44:20:01", 0.3, 0.4), None
        )
    assert row.id is not None and pin.id is not None
    return row.id, pin.id


async def test_remove_a_photo_and_a_pin(api: Api):
    site, technician = await seeded_site(api)
    photo, pin = await _photo_and_pin(api, site)
    client = api.client

    # Support may note visits but not edit the record: refused before anything is looked up.
    support = await add_user(api.app, "support")
    csrf = await sign_in(client, support)
    resp = await client.post(f"/sites/{site}/pins/{pin}/remove", data={"csrf": csrf, "version": "1"},
                             allow_redirects=False)  # fmt: skip
    assert resp.status == 403

    csrf = await sign_in(client, technician)
    # A stale version (the pin moved since the page was loaded) is refused and the pin stays.
    resp = await client.post(f"/sites/{site}/pins/{pin}/remove", data={"csrf": csrf, "version": "7"},
                             allow_redirects=False)  # fmt: skip
    assert resp.status == 409 and "Not removed" in await resp.text()
    for path in (f"/sites/{site}/pins/{pin}/remove", f"/sites/{site}/files/{photo}/remove"):
        resp = await client.post(path, data={"csrf": csrf, "version": "1"}, allow_redirects=False)
        assert resp.status == 303, await resp.text()
    async with api.app[sessions_key]() as db:
        assert await db.get(DevicePin, pin) is None and await db.get(SiteAttachment, photo) is None
        kinds = (await db.exec(select(AuditEvent.kind).where(AuditEvent.actor == technician))).all()
    assert {"record.pin_remove", "record.attachment_remove"} <= set(kinds)
    assert (await client.get(f"/sites/{site}/files/{photo}", allow_redirects=False)).status == 404
