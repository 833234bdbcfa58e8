"""What the site record adds to a handover pack: floor plans with their pins and the visit log.

Read inside the export's transaction (the scope was checked by the caller); a plan's image comes
from the blob store as a data: URI (a PDF plan's rendered first page), so the renderer, which
fetches nothing, can draw it. Images larger than ``MAX_PLAN_BYTES`` are left out (the pins are
still listed) rather than making a PDF of hundreds of megabytes.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.attachments.storage import BlobStore
from collector.db.record_tables import SiteAttachment
from collector.documents.model import FloorPlan, FloorPlanPin, ServiceVisit, SiteRecordExtras
from collector.record import placement_db, visits

MAX_PLAN_BYTES = 8 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")


async def _plan_image(db: AsyncSession, store: BlobStore, attachment_id: int) -> str | None:
    row = await db.get(SiteAttachment, attachment_id)
    if row is None:
        return None
    digest, media = (row.preview_sha256, "image/png") if row.preview_sha256 else (row.sha256, row.media_type)
    if media not in IMAGE_TYPES:
        return None
    body = bytearray()
    async for chunk in store.chunks(digest):
        body += chunk
        if len(body) > MAX_PLAN_BYTES:
            return None
    return f"data:{media};base64,{base64.b64encode(bytes(body)).decode()}"


async def site_extras(db: AsyncSession, store: BlobStore | None, site_id: int) -> SiteRecordExtras:
    plans = await placement_db.site_plans(db, site_id)
    pins = await placement_db.site_pins(db, site_id)
    drawn = []
    for plan in plans:
        image = await _plan_image(db, store, plan.attachment_id) if store is not None else None
        on_plan = tuple(
            FloorPlanPin(
                device_id=p.device_id,
                label=(p.mounting_notes or None) and p.mounting_notes[:200],
                x=min(max(p.x, 0.0), 1.0),
                y=min(max(p.y, 0.0), 1.0),
            )
            for p in pins
            if p.floor_plan_id == plan.id
        )
        title = plan.name if not plan.level else f"{plan.name} (level {plan.level})"
        drawn.append(FloorPlan(title=title[:200], image_url=image, pins=on_plan))
    log = tuple(
        ServiceVisit(
            date=datetime.combine(v.visited_on, time(), tzinfo=UTC),
            technician=v.technician,
            summary=(v.reason + (f" — {v.work_done}" if v.work_done else ""))[:4000],
        )
        for v in await visits.site_visits(db, site_id)
    )
    return SiteRecordExtras(floor_plans=tuple(drawn), visits=log)
