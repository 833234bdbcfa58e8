"""The demo's site record: a generated floor plan with the scanned cameras pinned on it, a photo of
the cabinet, a quote that matches (almost) what was scanned, and the commissioning visit.

Everything goes through ``collector.services.record`` as a person's edits would (audited, scoped);
the images are drawn with Pillow here, no downloaded asset.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from PIL import Image, ImageDraw

PLAN_SIZE = (1200, 800)
# Where the demo's cameras hang, as fractions of the plan (corners, the gate, the door).
SPOTS = ((0.08, 0.1), (0.92, 0.1), (0.5, 0.52), (0.08, 0.9), (0.92, 0.9), (0.3, 0.3), (0.7, 0.7))


def plan_png(size: tuple[int, int] = PLAN_SIZE) -> bytes:
    """Outer walls, three rooms and a door gap, labelled."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, width - 20, height - 20), outline="black", width=8)
    draw.line((width // 2, 20, width // 2, height // 2), fill="black", width=5)
    draw.line((20, height // 2, width - 20, height // 2), fill="black", width=5)
    draw.line((width // 2 - 60, height // 2, width // 2 + 60, height // 2), fill="white", width=7)
    for xy, text in (((60, 60), "Office"), ((width // 2 + 40, 60), "Server room"),
                     ((60, height // 2 + 40), "Warehouse")):  # fmt: skip
        draw.text(xy, text, fill="black")
    return _encoded(image, "PNG")


def cabinet_jpeg() -> bytes:
    """A 'photo' of the network cabinet: a rack with two switches and a recorder."""
    image = Image.new("RGB", (800, 600), (70, 74, 80))
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 40, 600, 560), fill=(30, 32, 36), outline=(150, 150, 150), width=6)
    for n, color in enumerate(((40, 90, 160), (40, 90, 160), (20, 20, 20))):
        top = 90 + n * 90
        draw.rectangle((220, top, 580, top + 60), fill=color)
        for port in range(12):
            draw.rectangle((240 + port * 26, top + 20, 256 + port * 26, top + 36), fill=(0, 200, 90))
    return _encoded(image, "JPEG")


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def quote_csv(devices: list[Any]) -> bytes:
    """The quote as the installer sent it: each scanned model, and one camera more than was fitted."""
    models = Counter((d.identity.vendor or "", d.identity.model or "") for d in devices if d.identity.model)
    lines = ["Qty,Manufacturer,Model,Unit price"]
    for n, ((vendor, model), count) in enumerate(sorted(models.items())):
        lines.append(f"{count + (1 if n == 0 else 0)},{vendor},{model},{190 + 10 * n}.00")
    return ("\n".join(lines) + "\n").encode()


async def seed_record(config: Any, site_id: str) -> str:
    """Plan, pins, photo, quote and a visit for ``site_id``; returns a one-line summary."""
    from collector.attachments.storage import FilesystemStore
    from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
    from collector.auth import cli_admin
    from collector.db import queries
    from collector.db.session import make_engine, make_sessionmaker
    from collector.ingest import SnapshotCache, load_snapshot
    from collector.record.placement import devices_to_place
    from collector.record.placement_db import PinDraft
    from collector.services import record
    from collector.services.context import Ctx
    from collector.services.sites import find_site
    from drivers.schema import Role

    ctx = Ctx(cli_admin("demo"))
    store, policy = FilesystemStore.in_data_dir(config.data_dir), UploadPolicy()
    plan_file = await store_upload(
        store,
        _chunks(plan_png()),
        filename="ground-floor.png",
        declared_type="image/png",
        kind=AttachmentKind.FLOOR_PLAN,
        policy=policy,
    )
    photo = await store_upload(
        store, _chunks(cabinet_jpeg()), filename="cabinet.jpg", declared_type="image/jpeg",
        kind=AttachmentKind.PHOTO, policy=policy,
    )  # fmt: skip
    engine = make_engine(config.db_url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            site, _ = await find_site(db, ctx, site_id)
            assert site.id is not None and site.latest_version
            meta = await queries.version_meta(db, site.id, site.latest_version)
            assert meta is not None
            latest = await load_snapshot(db, SnapshotCache(), site.id, meta.version, meta.content_hash)
            _, plan_row = await record.add_upload(db, ctx, site_id, plan_file, AttachmentKind.FLOOR_PLAN)
            assert plan_row.id is not None
            plan = await record.add_plan(db, ctx, site_id, plan_row.id, "Ground floor", "0")
            assert plan.id is not None
            cameras = [t for t in devices_to_place(latest, []) if t.label.startswith("Camera")]
            for spot, camera in zip(SPOTS, cameras, strict=False):
                draft = PinDraft(camera.device_id, *spot, mounting_notes="wall bracket, 3 m")
                await record.place_pin(db, ctx, site_id, plan.id, draft, None)
            await record.add_upload(db, ctx, site_id, photo, AttachmentKind.PHOTO, caption="Network cabinet")
            placeable = [d for d in latest.devices if d.role in (Role.CAMERA, Role.RECORDER)]
            quote = await record.import_quote(db, ctx, site_id, quote_csv(placeable), "text/csv")
            today = datetime.now(UTC).date().isoformat()
            work = "Cameras mounted, recorder set up, first scan approved."
            draft_visit = record.visit_draft(today, "tom", "commissioning", work)
            await record.add_visit(db, ctx, site_id, draft_visit)
    finally:
        await engine.dispose()
    pinned = min(len(SPOTS), len(cameras))
    return (
        f"floor plan with {pinned} cameras pinned, a cabinet photo, a {len(quote.lines)}-line quote, a visit"
    )
