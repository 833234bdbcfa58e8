"""The site record pages: photos and files, floor plans with device pins, the quote, service visits.

Phone first: one column, big targets, a camera input for photos. Every file is served by ``file_download``
after the site's scope check, never from a static path. Refused edits (a stale pin, a bad quote row,
a file of the wrong type) re-render the page with the reason and keep nothing half-done.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.attachments.http import blob_response
from collector.attachments.upload import AttachmentKind
from collector.auth import Action, permits
from collector.db import queries
from collector.db.models import Customer, Site
from collector.db.record_tables import FloorPlan
from collector.diff import device_label
from collector.errors import ApiError, forbidden
from collector.http.params import int_param
from collector.http.uploads import receive_upload
from collector.ingest import load_snapshot
from collector.keys import attachment_store_key, sessions_key, snapshot_cache_key
from collector.record.placement import attention, devices_to_place, pin_flags
from collector.record.placement_db import PinDraft
from collector.record.reconcile import reconcile
from collector.services import record as record_service
from collector.services.sites import resource_of
from collector.web import session as browser
from collector.web.changes import reference_comparison
from collector.web.guard import ctx, form_with_csrf
from collector.web.render import done as flash_redirect
from collector.web.render import render, url
from drivers.schema import Snapshot

REFUSALS = (409, 413, 415, 422)  # shown on the page with the reason; anything else is an error page
MAX_QUOTE_BYTES = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _may(c: Any, action: Action, site: Site, customer: Customer) -> bool:
    return permits(c.identity, action, resource_of(site, customer))


async def _latest(request: web.Request, db: AsyncSession, site: Site) -> Snapshot | None:
    if site.id is None or not site.latest_version:
        return None
    meta = await queries.version_meta(db, site.id, site.latest_version)
    if meta is None:
        return None
    return await load_snapshot(db, request.app[snapshot_cache_key], site.id, meta.version, meta.content_hash)


async def _upload_form(request: web.Request, slug: str) -> Any:
    """The multipart form with its file stored; the CSRF token is checked before the file is read."""
    c = ctx(request)
    if not request.content_type.startswith("multipart/form-data"):
        await form_with_csrf(request)  # a form without its token is refused first, like every POST
        raise ApiError(422, "no_file", "choose a file to upload", field="file")

    async def csrf_first(fields: dict[str, str]) -> None:
        if not await browser.csrf_ok(request, fields.get("csrf")):
            raise forbidden("the form is stale or was not sent from this site (CSRF check failed); reload")

    return await receive_upload(request, c, slug, before_file=csrf_first)


# ---------------------------------------------------------------- photos and files


async def files_page(request: web.Request) -> web.StreamResponse:
    return await _files(request, status=200)


async def _files(request: web.Request, *, status: int, error: str | None = None) -> web.StreamResponse:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer, rows = await record_service.attachments(db, c, request.match_info["site"])
        latest = await _latest(request, db, site)
    names = {d.id: device_label(d) for d in latest.devices} if latest else {}
    return await render(
        request, "pages/record/files.html", status=status, area="sites", site=site, customer=customer,
        photos=[r for r in rows if r.kind == AttachmentKind.PHOTO.value],
        others=[r for r in rows if r.kind != AttachmentKind.PHOTO.value], names=names,
        kinds=[k.value for k in AttachmentKind if k is not AttachmentKind.FLOOR_PLAN],
        can_edit=_may(c, Action.EDIT_RECORD, site, customer), error=error,
    )  # fmt: skip


async def upload_submit(request: web.Request) -> web.StreamResponse:
    c, slug = ctx(request), request.match_info["site"]
    try:
        form = await _upload_form(request, slug)
        async with request.app[sessions_key]() as db, db.begin():
            _, row = await record_service.add_upload(
                db, c, slug, form.stored, record_service.attachment_kind(form.fields.get("kind")),
                caption=form.fields.get("caption"), device_id=form.fields.get("device_id"),
            )  # fmt: skip
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _files(request, status=exc.status, error=exc.message)
    return await flash_redirect(
        request, url(request, "web-record-files", site=slug), f"{row.original_name} uploaded"
    )


async def file_remove_submit(request: web.Request) -> web.StreamResponse:
    """Delete a file (the version the page showed); its bytes leave the store after the commit."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    attachment_id = int_param(request.match_info["attachment"], "attachment")
    try:
        version = int_param(form.get("version"), "version")
        async with request.app[sessions_key]() as db, db.begin():
            row, unused = await record_service.remove_file(db, c, slug, attachment_id, version)
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _files(request, status=exc.status, error=f"Not removed: {exc.message}")
    store = request.app[attachment_store_key]
    for digest in unused:
        await store.delete(digest)
    return await flash_redirect(
        request, url(request, "web-record-files", site=slug), f"{row.original_name} removed"
    )


async def file_download(request: web.Request) -> web.StreamResponse:
    """A stored file (or its thumbnail/preview) after the site's scope check; audited for the file."""
    slug = request.match_info["site"]
    attachment_id = int_param(request.match_info["attachment"], "attachment")
    variant = record_service.variant(request.query.get("variant"))
    async with request.app[sessions_key]() as db, db.begin():
        found = await record_service.download(db, ctx(request), slug, attachment_id, variant)
    response = blob_response(request.app[attachment_store_key], found.sha256, media_type=found.media_type,
                             original_name=found.name, inline=found.inline)  # fmt: skip
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- floor plans and pins


async def plans_page(request: web.Request) -> web.StreamResponse:
    return await _plans(request, status=200)


async def _plans(request: web.Request, *, status: int, error: str | None = None) -> web.StreamResponse:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        found = await record_service.floor_plans(db, c, request.match_info["site"])
        site = found.site
        latest = await _latest(request, db, site)
        comparison = (
            await reference_comparison(request, db, site, site.latest_version)
            if site.latest_version
            else None
        )
    names = {d.id: device_label(d) for d in latest.devices} if latest else {}
    flags = pin_flags(found.pins, latest, comparison.diff if comparison else None) if latest else {}
    plans = [
        {
            "plan": plan,
            "file": found.files.get(plan.attachment_id),
            "pins": [p for p in found.pins if p.floor_plan_id == plan.id],
        }
        for plan in found.plans
    ]
    return await render(
        request, "pages/record/plans.html", status=status, area="sites", site=site, customer=found.customer,
        plans=plans, names=names, flags=flags, attention=attention(flags),
        to_place=devices_to_place(latest, found.pins) if latest else [],
        placed={p.device_id: p for p in found.pins},
        can_edit=_may(c, Action.EDIT_RECORD, site, found.customer), error=error,
    )  # fmt: skip


async def plan_submit(request: web.Request) -> web.StreamResponse:
    """Upload a plan (PNG, JPEG or PDF: its first page is rendered) and name it, in one step."""
    c, slug = ctx(request), request.match_info["site"]
    try:
        form = await _upload_form(request, slug)
        if form.stored.media_type not in ("image/png", "image/jpeg", "application/pdf"):
            raise ApiError(415, "plan_type", "a floor plan is a PNG, JPEG or PDF file", field="file")
        name = form.fields.get("name", "").strip() or form.stored.original_name.rsplit(".", 1)[0]
        async with request.app[sessions_key]() as db, db.begin():
            _, row = await record_service.add_upload(db, c, slug, form.stored, AttachmentKind.FLOOR_PLAN)
            assert row.id is not None
            plan = await record_service.add_plan(db, c, slug, row.id, name, form.fields.get("level"))
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _plans(request, status=exc.status, error=exc.message)
    return await flash_redirect(
        request, url(request, "web-record-plans", site=slug), f"plan {plan.name} added"
    )


def _float(form: dict[str, str], name: str, *, optional: bool = False) -> float | None:
    text = form.get(name, "").strip()
    if not text and optional:
        return None
    try:
        return float(text)
    except ValueError:
        raise ApiError(422, "invalid_record", f"{name} must be a number", field=name) from None


async def pin_submit(request: web.Request) -> web.StreamResponse:
    """Place a device where the plan was tapped, or move its pin; ``version`` is the pin as shown."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    plan_id = int_param(request.match_info["plan"], "plan")
    version_text = form.get("version", "").strip()
    try:
        x, y = _float(form, "x"), _float(form, "y")
        assert x is not None and y is not None
        draft = PinDraft(
            device_id=form.get("device_id", "").strip(), x=x, y=y,
            mounting_notes=form.get("mounting_notes") or None,
            height_m=_float(form, "height_m", optional=True),
        )  # fmt: skip
        version = int_param(version_text, "version") if version_text else None
        async with request.app[sessions_key]() as db, db.begin():
            pin = await record_service.place_pin(db, c, slug, plan_id, draft, version)
            plan = await db.get(FloorPlan, plan_id)
            site = await db.get(Site, plan.site_id) if plan else None
            latest = await _latest(request, db, site) if site else None
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        message = exc.message
        if exc.status == 409:
            message = f"Not saved: {exc.message}. The plan below shows the current pins."
        return await _plans(request, status=exc.status, error=message)
    names = {d.id: device_label(d) for d in latest.devices} if latest else {}
    done = f"{names.get(pin.device_id, pin.device_id)} placed (pin version {pin.version})"
    return await flash_redirect(
        request, url(request, "web-record-plans", site=slug).with_fragment(f"plan-{plan_id}"), done
    )


async def pin_remove_submit(request: web.Request) -> web.StreamResponse:
    """Take a pin off its plan (the version as shown: a pin a colleague moved meanwhile stays)."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    pin_id = int_param(request.match_info["pin"], "pin")
    try:
        version = int_param(form.get("version"), "version")
        async with request.app[sessions_key]() as db, db.begin():
            plan = await record_service.remove_pin(db, c, slug, pin_id, version)
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _plans(request, status=exc.status, error=f"Not removed: {exc.message}")
    target = url(request, "web-record-plans", site=slug)
    return await flash_redirect(request, target.with_fragment(f"plan-{plan.id}"), "pin removed")


async def repoint_submit(request: web.Request) -> web.StreamResponse:
    """The pin of a swapped camera handed to the new unit, in one tap ("move the pin to the new unit")."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    pin_id = int_param(request.match_info["pin"], "pin")
    try:
        version = int_param(form.get("version"), "version")
        async with request.app[sessions_key]() as db, db.begin():
            pin = await record_service.repoint_pin(db, c, slug, pin_id, form.get("device_id", ""), version)
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _plans(request, status=exc.status, error=f"Not saved: {exc.message}")
    target = url(request, "web-record-plans", site=slug)
    return await flash_redirect(
        request, target.with_fragment(f"plan-{pin.floor_plan_id}"), "pin moved to the new unit"
    )


# ---------------------------------------------------------------- quote


async def quote_page(request: web.Request) -> web.StreamResponse:
    return await _quote(request, status=200)


async def _quote(
    request: web.Request, *, status: int, error: str | None = None, row_errors: list[str] | None = None
) -> web.StreamResponse:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer, lines = await record_service.quote(db, c, request.match_info["site"])
        latest = await _latest(request, db, site)
    names = {d.id: device_label(d) for d in latest.devices} if latest else {}
    result = reconcile(lines, latest.devices) if latest and lines else None
    rows = []
    if result is not None:
        for status_row in result.lines:
            line = lines[status_row.index]
            rows.append({"line": line, "status": status_row})
    return await render(
        request, "pages/record/quote.html", status=status, area="sites", site=site, customer=customer,
        lines=lines, rows=rows, result=result, names=names, has_scan=latest is not None,
        can_edit=_may(c, Action.EDIT_RECORD, site, customer), error=error, row_errors=row_errors or [],
    )  # fmt: skip


async def quote_submit(request: web.Request) -> web.StreamResponse:
    """A CSV or XLSX quote: all rows or none; each bad row named with its spreadsheet row number."""
    form = await form_with_csrf(request)
    del form
    c, slug = ctx(request), request.match_info["site"]
    posted = await request.post()
    upload = posted.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return await _quote(request, status=422, error="choose the quote file (CSV or XLSX)")
    data = upload.file.read(MAX_QUOTE_BYTES + 1)
    media_type = XLSX if upload.filename.lower().endswith((".xlsx", ".xlsm")) else "text/csv"
    try:
        async with request.app[sessions_key]() as db, db.begin():
            result = await record_service.import_quote(db, c, slug, data, media_type)
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _quote(request, status=exc.status, error=exc.message)
    if not result.lines:
        errors = [str(e) for e in result.parsed.errors] or ["the file has no quote lines"]
        message = "Nothing was imported: fix these rows and import again."
        return await _quote(request, status=422, error=message, row_errors=errors)
    done = f"quote imported: {len(result.lines)} lines"
    return await flash_redirect(request, url(request, "web-record-quote", site=slug), done)


# ---------------------------------------------------------------- visits


async def visits_page(request: web.Request) -> web.StreamResponse:
    return await _visits(request, status=200)


async def _visits(request: web.Request, *, status: int, error: str | None = None) -> web.StreamResponse:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer, rows = await record_service.site_visits(db, c, request.match_info["site"])
    return await render(
        request, "pages/record/visits.html", status=status, area="sites", site=site, customer=customer,
        visits=rows, can_add=_may(c, Action.ADD_VISIT, site, customer), error=error, me=c.identity.name,
        today=c.now.date().isoformat(),
    )  # fmt: skip


async def visit_submit(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    try:
        draft = record_service.visit_draft(
            form.get("visited_on", ""),
            form.get("technician", ""),
            form.get("reason", ""),
            form.get("work_done"),
        )
        async with request.app[sessions_key]() as db, db.begin():
            visit = await record_service.add_visit(db, c, slug, draft)
    except ApiError as exc:
        if exc.status not in REFUSALS:
            raise
        return await _visits(request, status=exc.status, error=exc.message)
    done = f"visit of {visit.visited_on:%Y-%m-%d} noted"
    return await flash_redirect(request, url(request, "web-record-visits", site=slug), done)
