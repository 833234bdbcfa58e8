"""The handover PDF as a durable job: asked for (scope checked, audited), rendered by whichever
collector's worker takes it (``collector/jobs``), kept as a file in the data directory, fetched by
anyone who may export the site.

- ``request_render`` checks ``site:export`` with the scope in SQL, writes the ``deliverable_render``
  row (queued) and an ``export.handover_job`` audit entry; the view defers the job after the commit
  (a job must never see a row that is not there yet).
- The task ``deliverables.handover_pdf`` is idempotent: a row already ``done`` with its file is left
  alone, so a job put back after a crash (the local queue at start, procrastinate's stalled-worker
  sweep) or run twice renders at most once more, never twice into a half-written file (the file is
  written to a temporary name, fsynced and renamed).
- ``render_file`` hands the bytes over with an ``export.download`` entry (``via: job``).
- The sealed credentials annex is never a job: it is rendered for its one request and never stored
  (``collector.services.exports``, ``credentials=True``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector import documents
from collector.attachments.storage import FilesystemStore
from collector.auth import Action
from collector.db import queries
from collector.db.deliverable_tables import HandoverRender
from collector.db.models import Customer, Site
from collector.db.types import utcnow
from collector.errors import ApiError, not_found
from collector.ingest import SnapshotCache
from collector.jobs.tasks import REGISTRY, JobContext, task
from collector.services import audit
from collector.services import branding as branding_service
from collector.services.context import Ctx
from collector.services.exports import MEDIA_TYPES, Export, Format, Sources, assemble, safe_name
from collector.services.sites import find_site

TASK = "deliverables.handover_pdf"
FOLDER = "handover"


def render_path(data_dir: Path, render_id: int) -> Path:
    return Path(data_dir) / FOLDER / f"{render_id}.pdf"


async def request_render(db: AsyncSession, ctx: Ctx, slug: str, version: int | None) -> HandoverRender:
    site, customer = await find_site(db, ctx, slug, Action.EXPORT_SITE)
    assert site.id is not None
    number = version if version is not None else site.latest_version
    if not number or await queries.version_meta(db, site.id, number) is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    row = HandoverRender(site_id=site.id, version=number, requested_by=ctx.identity.name,
                         requested_user_id=ctx.identity.user_id, created_at=ctx.now)  # fmt: skip
    db.add(row)
    await db.flush()
    await audit.record(
        db, ctx, audit.Kind.HANDOVER_JOB, target=f"site {site.slug} v{number} handover.pdf",
        customer_id=customer.id, site_id=site.id, detail={"render": row.id, "version": number},
    )  # fmt: skip
    return row


async def find_render(db: AsyncSession, ctx: Ctx, slug: str, render_id: int) -> tuple[Site, HandoverRender]:
    """The render of the site, for a caller who may export it (else 404, like a missing one)."""
    site, _ = await find_site(db, ctx, slug, Action.EXPORT_SITE)
    row = (
        await db.exec(
            select(HandoverRender).where(
                HandoverRender.id == render_id, col(HandoverRender.site_id) == site.id
            )
        )
    ).first()
    if row is None:
        raise not_found(f"handover render {render_id}")
    return site, row


async def render_file(db: AsyncSession, ctx: Ctx, data_dir: Path, slug: str, render_id: int) -> Export:
    site, row = await find_render(db, ctx, slug, render_id)
    if row.status != "done":
        raise ApiError(409, "not_ready", f"the handover PDF is {row.status}, not ready yet", field="render")
    path = render_path(data_dir, render_id)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise not_found(f"handover render {render_id}") from None
    await audit.record(
        db, ctx, audit.Kind.EXPORT, target=f"site {site.slug} v{row.version} handover.pdf",
        customer_id=site.customer_id, site_id=site.id,
        detail={"format": "pdf", "version": row.version, "via": "job", "render": render_id,
                "credentials": False},
    )  # fmt: skip
    name = safe_name(f"{site.slug}-v{row.version}-handover")
    return Export(body, MEDIA_TYPES[Format.PDF], f"{name}.pdf", secret=False)


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@task(TASK, max_attempts=3, base_delay_s=5.0)
async def handover_pdf_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    render_id = int(payload["render"])
    path = render_path(ctx.config.data_dir, render_id)
    async with ctx.sessions() as db, db.begin():
        row = await db.get(HandoverRender, render_id)
        if row is None:
            return  # nothing to render (removed)
        if row.status == "done" and path.exists():
            return  # already rendered: a retry after a crash does not render twice
        row.status, row.started_at, row.attempts = "running", utcnow(), row.attempts + 1
        db.add(row)
    try:
        async with ctx.sessions() as db, db.begin():
            site = await db.get(Site, row.site_id)
            customer = await db.get(Customer, site.customer_id) if site is not None else None
            if site is None or customer is None:
                raise LookupError(f"site {row.site_id} is gone")
            store = FilesystemStore.in_data_dir(ctx.config.data_dir)
            sources = Sources(SnapshotCache(2), ctx.config.removed_after_scans, store=store)
            record, _ = await assemble(db, sources, site, customer, row.version, utcnow())
            branding = await branding_service.current_branding(db)
        body = await documents.handover_pdf_async(record, branding=branding)
        _write_atomically(path, body)
    except Exception as exc:
        final = ctx.attempt >= REGISTRY[TASK].max_attempts
        async with ctx.sessions() as db, db.begin():
            failed = await db.get(HandoverRender, render_id)
            if failed is not None:
                failed.status = "failed" if final else "queued"
                failed.error = f"{type(exc).__name__}: {exc}"[:2000]
                db.add(failed)
        raise
    async with ctx.sessions() as db, db.begin():
        done = await db.get(HandoverRender, render_id)
        if done is not None:
            done.status, done.finished_at, done.error = "done", utcnow(), None
            done.size_bytes, done.sha256 = len(body), hashlib.sha256(body).hexdigest()
            db.add(done)
