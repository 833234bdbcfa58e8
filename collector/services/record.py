"""The site record as callers see it: files, floor plans and pins, the quote, visits — scoped like
the site, each write one audit entry, each read audited as a read of the site.

The rows live in ``collector.record`` (pure rules and ``*_db`` helpers) and the bytes in the blob
store (``collector.attachments``); this layer decides (``find_site`` with the action, scope in SQL),
audits, and turns record errors into API errors. A file leaves the store only after
``download`` found it on a site the caller may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.attachments.upload import AttachmentKind, StoredFile
from collector.auth import Action
from collector.db.models import Customer, Site
from collector.db.record_tables import DevicePin, FloorPlan, QuoteLine, ServiceVisit, SiteAttachment
from collector.errors import ApiError, not_found
from collector.record import attachments_db, placement_db, quote_db, visits
from collector.record.errors import Invalid, NotFound, RecordError, StaleEdit
from collector.record.placement_db import PinDraft
from collector.record.quote_import import QuoteFileError, QuoteImport, parse_quote
from collector.record.visits import VisitDraft
from collector.services import audit
from collector.services.context import Ctx
from collector.services.sites import find_site

Variant = Literal["file", "thumbnail", "preview", "view"]


def refused(exc: RecordError) -> ApiError:
    """A record error as the API answers it: 409 stale, 404 gone, 422 a value it cannot hold."""
    if isinstance(exc, StaleEdit):
        return ApiError(409, "stale_edit", str(exc))
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    field = exc.field if isinstance(exc, Invalid) else None
    return ApiError(422, "invalid_record", str(exc), field=field)


async def _audit(
    db: AsyncSession, ctx: Ctx, event: audit.Kind, site: Site, customer: Customer, what: str, **detail: object
) -> None:
    await audit.record(
        db, ctx, event, target=f"site {site.slug} {what}", customer_id=customer.id, site_id=site.id,
        detail=dict(detail),
    )  # fmt: skip


# ---------------------------------------------------------------- files


def attachment_kind(value: str | None) -> AttachmentKind:
    try:
        return AttachmentKind(value or AttachmentKind.OTHER.value)
    except ValueError:
        kinds = ", ".join(k.value for k in AttachmentKind)
        raise ApiError(422, "invalid_record", f"kind must be one of: {kinds}", field="kind") from None


def variant(value: str | None) -> Variant:
    if value in (None, "", "file"):
        return "file"
    if value in ("thumbnail", "preview", "view"):
        return value  # type: ignore[return-value]
    raise ApiError(422, "invalid_record", "variant must be file, thumbnail, preview or view", field="variant")


async def may_upload(db: AsyncSession, ctx: Ctx, slug: str) -> None:
    """Before a byte is stored: the caller may edit this site's record (403, or 404 out of scope)."""
    await find_site(db, ctx, slug, Action.EDIT_RECORD)


async def attachments(
    db: AsyncSession, ctx: Ctx, slug: str, *, kind: AttachmentKind | None = None, view: str = "files"
) -> tuple[Site, Customer, list[SiteAttachment]]:
    site, customer = await find_site(db, ctx, slug, view=view)
    assert site.id is not None
    return site, customer, await attachments_db.site_attachments(db, site.id, kind=kind)


async def add_upload(
    db: AsyncSession,
    ctx: Ctx,
    slug: str,
    stored: StoredFile,
    kind: AttachmentKind,
    *,
    caption: str | None = None,
    device_id: str | None = None,
) -> tuple[Site, SiteAttachment]:
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    assert site.id is not None
    try:
        row = await attachments_db.add_attachment(
            db, site_id=site.id, stored=stored, kind=kind, uploaded_by=ctx.identity.name,
            device_id=device_id, caption=caption, now=ctx.now,
        )  # fmt: skip
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.ATTACHMENT_UPLOAD, site, customer, f"file {row.original_name!r}",
                 attachment=row.id, kind=kind.value, sha256=row.sha256, size=row.size,
                 media_type=row.media_type, antivirus=row.antivirus)  # fmt: skip
    return site, row


@dataclass(frozen=True)
class Download:
    sha256: str
    media_type: str
    name: str
    inline: bool


async def download(
    db: AsyncSession, ctx: Ctx, slug: str, attachment_id: int, variant: Variant = "file"
) -> Download:
    """One stored file of a site the caller may read (else 404, like a file that does not exist)."""
    site, customer = await find_site(db, ctx, slug)
    row = await db.get(SiteAttachment, attachment_id)
    if row is None or row.site_id != site.id:
        raise not_found(f"file {attachment_id} of site {slug!r}")
    if variant == "thumbnail" and row.thumbnail_sha256:
        return Download(row.thumbnail_sha256, "image/jpeg", f"thumb-{row.original_name}.jpg", True)
    if variant == "preview" and row.preview_sha256:
        return Download(row.preview_sha256, "image/png", f"{row.original_name}.png", True)
    if variant == "view" and row.kind == AttachmentKind.FLOOR_PLAN.value:
        # A plan as the plans page shows it (an image plan itself, a PDF's rendered first page).
        if row.preview_sha256:
            return Download(row.preview_sha256, "image/png", f"{row.original_name}.png", True)
        if row.media_type.startswith("image/"):
            return Download(row.sha256, row.media_type, row.original_name, True)
    if variant != "file":
        raise not_found(f"a {variant} of file {attachment_id}")
    # The file itself is a download of the record: audited (thumbnails on a page are not).
    await _audit(db, ctx, audit.Kind.ATTACHMENT_DOWNLOAD, site, customer, f"file {row.original_name!r}",
                 attachment=row.id)  # fmt: skip
    inline = row.media_type.startswith("image/")
    return Download(row.sha256, row.media_type, row.original_name, inline)


# ---------------------------------------------------------------- floor plans and pins


@dataclass(frozen=True)
class Plans:
    site: Site
    customer: Customer
    plans: list[FloorPlan]
    files: dict[int, SiteAttachment]  # attachment id → its row (image size, preview)
    pins: list[DevicePin]


async def floor_plans(db: AsyncSession, ctx: Ctx, slug: str) -> Plans:
    site, customer, files = await attachments(db, ctx, slug, kind=AttachmentKind.FLOOR_PLAN, view="plans")
    assert site.id is not None
    plans = await placement_db.site_plans(db, site.id)
    pins = await placement_db.site_pins(db, site.id)
    return Plans(site, customer, plans, {f.id: f for f in files if f.id is not None}, pins)


async def add_plan(
    db: AsyncSession, ctx: Ctx, slug: str, attachment_id: int, name: str, level: str | None
) -> FloorPlan:
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    assert site.id is not None
    try:
        plan = await placement_db.add_floor_plan(
            db, site_id=site.id, attachment_id=attachment_id, name=name, level=level,
            user=ctx.identity.name, now=ctx.now,
        )  # fmt: skip
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.FLOOR_PLAN_CREATE, site, customer, f"plan {plan.name!r}",
                 plan=plan.id, attachment=attachment_id)  # fmt: skip
    return plan


async def place_pin(
    db: AsyncSession, ctx: Ctx, slug: str, plan_id: int, draft: PinDraft, expected_version: int | None
) -> DevicePin:
    """Place a device (``expected_version`` None) or move its pin; a stale edit is refused (409)."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    plan = await db.get(FloorPlan, plan_id)
    if plan is None or plan.site_id != site.id:
        raise not_found(f"floor plan {plan_id} of site {slug!r}")
    try:
        pin = await placement_db.save_pin(
            db, floor_plan_id=plan_id, draft=draft, user=ctx.identity.name,
            expected_version=expected_version, now=ctx.now,
        )  # fmt: skip
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.PIN_SAVE, site, customer, f"plan {plan.name!r} pin {draft.device_id}",
                 plan=plan_id, device=draft.device_id, x=round(pin.x, 4), y=round(pin.y, 4),
                 version=pin.version)  # fmt: skip
    return pin


async def repoint_pin(
    db: AsyncSession, ctx: Ctx, slug: str, pin_id: int, device_id: str, expected_version: int
) -> DevicePin:
    """Hand a pin to the unit that replaced the one it showed (the version as the page showed it)."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    pin = await db.get(DevicePin, pin_id)
    plan = await db.get(FloorPlan, pin.floor_plan_id) if pin is not None else None
    if pin is None or plan is None or plan.site_id != site.id:
        raise not_found(f"pin {pin_id} of site {slug!r}")
    before = pin.device_id
    try:
        pin = await placement_db.repoint_pin(
            db, pin_id=pin_id, device_id=device_id.strip(), user=ctx.identity.name,
            expected_version=expected_version, now=ctx.now,
        )  # fmt: skip
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.PIN_SAVE, site, customer, f"plan {plan.name!r} pin {pin.device_id}",
                 plan=plan.id, device={"from": before, "to": pin.device_id}, version=pin.version)  # fmt: skip
    return pin


async def remove_pin(db: AsyncSession, ctx: Ctx, slug: str, pin_id: int, expected_version: int) -> FloorPlan:
    """Take a pin off its plan (the version as the page showed it: a moved pin is not removed)."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    pin = await db.get(DevicePin, pin_id)
    plan = await db.get(FloorPlan, pin.floor_plan_id) if pin is not None else None
    if pin is None or plan is None or plan.site_id != site.id:
        raise not_found(f"pin {pin_id} of site {slug!r}")
    device_id = pin.device_id
    try:
        await placement_db.remove_pin(db, pin_id=pin_id, expected_version=expected_version)
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.PIN_REMOVE, site, customer, f"plan {plan.name!r} pin {device_id}",
                 plan=plan.id, device=device_id, version=expected_version)  # fmt: skip
    return plan


async def remove_file(
    db: AsyncSession, ctx: Ctx, slug: str, attachment_id: int, expected_version: int
) -> tuple[SiteAttachment, list[str]]:
    """Delete a file's row; returns it and the digests no other row needs (the caller deletes those
    blobs after the commit, so a rolled-back removal never loses bytes)."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    row = await db.get(SiteAttachment, attachment_id)
    if row is None or row.site_id != site.id:
        raise not_found(f"file {attachment_id} of site {slug!r}")
    try:
        unused = await attachments_db.remove_attachment(
            db, attachment_id=attachment_id, expected_version=expected_version
        )
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.ATTACHMENT_REMOVE, site, customer, f"file {row.original_name!r}",
                 attachment=attachment_id, kind=row.kind, sha256=row.sha256,
                 device=row.device_id)  # fmt: skip
    return row, unused


# ---------------------------------------------------------------- quote


async def quote(db: AsyncSession, ctx: Ctx, slug: str) -> tuple[Site, Customer, list[QuoteLine]]:
    site, customer = await find_site(db, ctx, slug, view="quote")
    assert site.id is not None
    return site, customer, await quote_db.site_quote(db, site.id)


@dataclass(frozen=True)
class QuoteResult:
    parsed: QuoteImport
    lines: list[QuoteLine]  # empty when the file had row errors (nothing was imported)


async def import_quote(db: AsyncSession, ctx: Ctx, slug: str, data: bytes, media_type: str) -> QuoteResult:
    """The file's lines become the site's quote, all or nothing: one bad row imports no row."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_RECORD)
    assert site.id is not None
    try:
        parsed = parse_quote(data, media_type)
    except QuoteFileError as exc:
        raise ApiError(422, "invalid_quote", str(exc), field="file") from None
    if parsed.errors or not parsed.items:
        return QuoteResult(parsed, [])
    try:
        lines = await quote_db.replace_quote(db, site_id=site.id, items=parsed.items, user=ctx.identity.name,
                                             now=ctx.now)  # fmt: skip
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.QUOTE_IMPORT, site, customer, "quote", lines=len(lines),
                 units=sum(line.quantity for line in lines))  # fmt: skip
    return QuoteResult(parsed, lines)


# ---------------------------------------------------------------- visits


async def site_visits(db: AsyncSession, ctx: Ctx, slug: str) -> tuple[Site, Customer, list[ServiceVisit]]:
    site, customer = await find_site(db, ctx, slug, view="visits")
    assert site.id is not None
    return site, customer, await visits.site_visits(db, site.id)


async def last_visit(db: AsyncSession, site: Site) -> ServiceVisit | None:
    """For a page that has already found the site (its read is audited there)."""
    assert site.id is not None
    return visits.last_visit(await visits.site_visits(db, site.id))


async def add_visit(db: AsyncSession, ctx: Ctx, slug: str, draft: VisitDraft) -> ServiceVisit:
    site, customer = await find_site(db, ctx, slug, Action.ADD_VISIT)
    assert site.id is not None
    try:
        visit = await visits.add_visit(db, site_id=site.id, draft=draft, user=ctx.identity.name, now=ctx.now)
    except RecordError as exc:
        raise refused(exc) from None
    await _audit(db, ctx, audit.Kind.VISIT_ADD, site, customer, f"visit {visit.visited_on:%Y-%m-%d}",
                 visit=visit.id, technician=visit.technician, reason=visit.reason)  # fmt: skip
    return visit


def visit_draft(visited_on: str, technician: str, reason: str, work_done: str | None) -> VisitDraft:
    """A visit from form or JSON text: the date must be a real ISO date (422 naming the field)."""
    try:
        day = date.fromisoformat(visited_on.strip())
    except ValueError:
        raise ApiError(
            422, "invalid_record", "the visit's date must be YYYY-MM-DD", field="visited_on"
        ) from None
    return VisitDraft(visited_on=day, technician=technician, reason=reason, work_done=work_done or None)
