"""Attachment rows: what was stored (collector.attachments.upload.StoredFile) and what people said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.attachments.upload import AttachmentKind, StoredFile
from collector.db.record_tables import FloorPlan, ServiceVisitAttachment, SiteAttachment
from collector.db.types import utcnow
from collector.record.errors import Invalid, NotFound, StaleEdit

MAX_CAPTION = 2000


async def add_attachment(
    session: AsyncSession,
    *,
    site_id: int,
    stored: StoredFile,
    kind: AttachmentKind,
    uploaded_by: str,
    device_id: str | None = None,
    caption: str | None = None,
    now: datetime | None = None,
) -> SiteAttachment:
    row = SiteAttachment(
        site_id=site_id, device_id=device_id or None, kind=kind.value, sha256=stored.sha256, size=stored.size,
        media_type=stored.media_type, original_name=stored.original_name, caption=_caption(caption),
        width=stored.width, height=stored.height, thumbnail_sha256=stored.thumbnail_sha256,
        preview_sha256=stored.preview_sha256, antivirus=stored.antivirus, uploaded_by=uploaded_by,
        uploaded_at=now or utcnow(),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


def _caption(text: str | None) -> str | None:
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_CAPTION:
        raise Invalid("caption", f"a caption is limited to {MAX_CAPTION} characters")
    return text


async def site_attachments(
    session: AsyncSession, site_id: int, *, device_id: str | None = None, kind: AttachmentKind | None = None
) -> list[SiteAttachment]:
    """A site's attachments, newest first (one device's only, or one kind only, when given)."""
    query = select(SiteAttachment).where(SiteAttachment.site_id == site_id)
    if device_id is not None:
        query = query.where(SiteAttachment.device_id == device_id)
    if kind is not None:
        query = query.where(SiteAttachment.kind == kind.value)
    rows = await session.exec(
        query.order_by(col(SiteAttachment.uploaded_at).desc(), col(SiteAttachment.id).desc())
    )
    return list(rows.all())


async def remove_attachment(session: AsyncSession, *, attachment_id: int, expected_version: int) -> list[str]:
    """Delete the row; return the digests no other row needs (delete those blobs after commit)."""
    row = await session.get(SiteAttachment, attachment_id)
    if row is None:
        raise NotFound("attachment not found")
    if row.version != expected_version:
        raise StaleEdit("this file's details were changed after you opened it; reload and retry")
    plan = (
        await session.exec(select(FloorPlan.name).where(FloorPlan.attachment_id == attachment_id))
    ).first()
    if plan is not None:
        raise Invalid("attachment_id", f"this file is the floor plan {plan!r}: remove the plan first")
    links = await session.exec(
        select(ServiceVisitAttachment).where(ServiceVisitAttachment.attachment_id == attachment_id)
    )
    for link in links.all():
        await session.delete(link)
    digests = {d for d in (row.sha256, row.thumbnail_sha256, row.preview_sha256) if d}
    await session.delete(row)
    await session.flush()
    still_used = await session.exec(
        select(SiteAttachment.sha256, SiteAttachment.thumbnail_sha256, SiteAttachment.preview_sha256).where(
            or_(
                col(SiteAttachment.sha256).in_(digests),
                col(SiteAttachment.thumbnail_sha256).in_(digests),
                col(SiteAttachment.preview_sha256).in_(digests),
            )
        )
    )
    used = {d for r in still_used.all() for d in r if d}
    return sorted(digests - used)
