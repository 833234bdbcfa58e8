"""The site record over the API: a site's files (upload, list, permission-checked download), visits."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import read_model, respond
from collector.api.guard import ctx_of
from collector.api.record_schemas import (
    AttachmentList,
    AttachmentPublic,
    VisitList,
    VisitPublic,
    VisitRequest,
)
from collector.attachments.http import blob_response
from collector.db.record_tables import ServiceVisit, SiteAttachment
from collector.http.params import int_param
from collector.http.uploads import receive_upload
from collector.keys import attachment_store_key, sessions_key
from collector.record.visits import VisitDraft, last_visit
from collector.services import record as record_service

API = "/api/v1"


def attachment_public(slug: str, row: SiteAttachment) -> AttachmentPublic:
    base = f"{API}/sites/{slug}/attachments/{row.id}"
    return AttachmentPublic(
        attachment_id=row.id or 0, kind=row.kind, device_id=row.device_id, name=row.original_name,
        media_type=row.media_type, size=row.size, width=row.width, height=row.height, caption=row.caption,
        antivirus=row.antivirus, uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at, download=base,
        thumbnail=f"{base}?variant=thumbnail" if row.thumbnail_sha256 else None,
    )  # fmt: skip


def visit_public(visit: ServiceVisit) -> VisitPublic:
    return VisitPublic(
        visit_id=visit.id or 0, visited_on=visit.visited_on, technician=visit.technician,
        reason=visit.reason, work_done=visit.work_done, versions=list(visit.version_numbers),
        created_by=visit.created_by, created_at=visit.created_at,
    )  # fmt: skip


async def list_attachments(request: web.Request) -> web.Response:
    slug = request.match_info["site"]
    kind = request.query.get("kind")
    async with request.app[sessions_key]() as db, db.begin():
        site, _, rows = await record_service.attachments(
            db, ctx_of(request), slug, kind=record_service.attachment_kind(kind) if kind else None
        )
    return respond(
        AttachmentList(site_id=site.slug, attachments=[attachment_public(site.slug, r) for r in rows])
    )


async def upload_attachment(request: web.Request) -> web.Response:
    """multipart/form-data: ``kind`` (photo, floor_plan, …), ``caption``, ``device_id`` before ``file``."""
    c, slug = ctx_of(request), request.match_info["site"]
    form = await receive_upload(request, c, slug)
    async with request.app[sessions_key]() as db, db.begin():
        site, row = await record_service.add_upload(
            db, c, slug, form.stored, record_service.attachment_kind(form.fields.get("kind")),
            caption=form.fields.get("caption"), device_id=form.fields.get("device_id"),
        )  # fmt: skip
    return respond(attachment_public(site.slug, row), 201)


async def download_attachment(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["site"]
    attachment_id = int_param(request.match_info["attachment"], "attachment")
    variant = record_service.variant(request.query.get("variant"))
    async with request.app[sessions_key]() as db, db.begin():
        found = await record_service.download(db, ctx_of(request), slug, attachment_id, variant)
    return blob_response(request.app[attachment_store_key], found.sha256, media_type=found.media_type,
                         original_name=found.name, inline=found.inline)  # fmt: skip


async def list_visits(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, _, rows = await record_service.site_visits(db, ctx_of(request), request.match_info["site"])
    last = last_visit(rows)
    return respond(VisitList(site_id=site.slug, visits=[visit_public(v) for v in rows],
                             last_visit=last.visited_on if last else None))  # fmt: skip


async def add_visit(request: web.Request) -> web.Response:
    body = await read_model(request, VisitRequest)
    draft = VisitDraft(visited_on=body.visited_on, technician=body.technician, reason=body.reason,
                       work_done=body.work_done)  # fmt: skip
    async with request.app[sessions_key]() as db, db.begin():
        visit = await record_service.add_visit(db, ctx_of(request), request.match_info["site"], draft)
    return respond(visit_public(visit), 201)
