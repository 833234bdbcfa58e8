"""A site's deliverables (handover PDF, XLSX, CSV, JSON, wiring diagram) for one caller, audited.

Two steps, so no database transaction stays open while a PDF is laid out (7–18 s on a large site):
``prepare`` checks the right (``find_site`` with the scope in SQL: out of scope is 404), loads the
snapshot and its diff against the approved baseline, builds the record, reveals the credentials
annex when asked and allowed, and writes the audit entries; ``render`` turns that into bytes in a
worker thread. ``export_site`` does both for a view or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from collector import documents
from collector.attachments.storage import BlobStore
from collector.auth import Action, Role, permits
from collector.db import queries
from collector.db.models import Customer, Site
from collector.documents import AsBuiltRecord, BaselineInfo, Branding, SealedCredential, SiteInfo
from collector.errors import ApiError, not_found
from collector.ingest import SnapshotCache, load_snapshot
from collector.services import audit
from collector.services import branding as branding_service
from collector.services import vault as vault_service
from collector.services.context import Ctx
from collector.services.diffs import stored_diff
from collector.services.record_extras import site_extras
from collector.services.sites import find_site, resource_of
from collector.vault.store import VaultKeys
from drivers.schema import Snapshot


class Format(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"
    JSON = "json"
    SVG = "svg"  # the wiring diagram


MEDIA_TYPES = {
    Format.PDF: "application/pdf",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.CSV: "text/csv",
    Format.JSON: "application/json",
    Format.SVG: "image/svg+xml",
}
# What the file name says it is: "<site>-v<N>-<kind>.<ext>".
KINDS = {
    Format.PDF: "handover",
    Format.XLSX: "record",
    Format.CSV: "devices",
    Format.JSON: "record",
    Format.SVG: "wiring",
}


DOWNLOADS = (Format.PDF, Format.XLSX, Format.CSV, Format.JSON)  # export.<ext>; the diagram has its own


def parse_format(text: str) -> Format:
    fmt = next((f for f in DOWNLOADS if f.value == text.lower()), None)
    if fmt is None:
        choices = ", ".join(f.value for f in DOWNLOADS)
        raise ApiError(422, "invalid_format", f"format: one of {choices}", field="format")
    return fmt


@dataclass(frozen=True)
class Sources:
    """What an export reads besides the database: the app's snapshot cache, rules and vault keys."""

    cache: SnapshotCache
    removed_after: int
    keys: VaultKeys | None = None  # only the credentials annex needs them
    branding: Branding | None = None
    store: BlobStore | None = None  # the site record's files (floor plan images)


@dataclass(frozen=True)
class Prepared:
    site: Site
    fmt: Format
    record: AsBuiltRecord
    snapshot: Snapshot
    credentials: tuple[SealedCredential, ...] | None
    branding: Branding | None


@dataclass(frozen=True)
class Export:
    body: bytes
    media_type: str
    filename: str
    secret: bool  # holds clear passwords: never cached, never kept

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Disposition": f'attachment; filename="{self.filename}"'}
        headers["Cache-Control"] = "no-store" if self.secret else "private, no-cache"
        return headers


def may_include_credentials(ctx: Ctx, site: Site, customer: Customer) -> bool:
    """Staff allowed to reveal this site's passwords; a customer never gets them in a document."""
    role = ctx.identity.role
    return (
        role is not None
        and role is not Role.CUSTOMER
        and permits(ctx.identity, Action.REVEAL_SECRET, resource_of(site, customer))
    )


async def prepare(
    db: AsyncSession,
    ctx: Ctx,
    sources: Sources,
    slug: str,
    fmt: Format,
    *,
    version: int | None = None,
    credentials: bool = False,
    via: str,
) -> Prepared:
    site, customer = await find_site(db, ctx, slug, Action.EXPORT_SITE)
    assert site.id is not None
    if credentials and fmt is not Format.PDF:
        raise ApiError(422, "invalid_request", "only the handover PDF carries a credentials annex",
                       field="credentials")  # fmt: skip
    if credentials and not may_include_credentials(ctx, site, customer):
        raise ApiError(403, "forbidden", "you may not receive this site's passwords", field="credentials")
    number = version if version is not None else site.latest_version
    record, snapshot = await assemble(db, sources, site, customer, number, ctx.now)
    annex = None
    if credentials:
        assert sources.keys is not None, "the credentials annex needs the vault keys"
        revealed = await vault_service.reveal_site(
            db, ctx, sources.keys, site, customer, purpose=f"handover pdf v{number}"
        )
        annex = tuple(_sealed(record, r) for r in revealed)
    await audit.record(
        db, ctx, audit.Kind.EXPORT, target=f"site {site.slug} v{number} {KINDS[fmt]}.{fmt.value}",
        customer_id=customer.id, site_id=site.id,
        detail={"format": fmt.value, "version": number, "via": via, "credentials": annex is not None},
    )  # fmt: skip
    branding = sources.branding or await branding_service.current_branding(db)
    return Prepared(site, fmt, record, snapshot, annex, branding)


async def assemble(
    db: AsyncSession, sources: Sources, site: Site, customer: Customer, number: int, now: datetime
) -> tuple[AsBuiltRecord, Snapshot]:
    """The record of version ``number`` diffed against the baseline approved now (no scope check:
    the caller has made it, for a request or when the job was asked for)."""
    assert site.id is not None
    meta = await queries.version_meta(db, site.id, number) if number else None
    if meta is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    snapshot = await load_snapshot(db, sources.cache, site.id, number, meta.content_hash)
    baseline, diff = None, None
    if site.baseline_version is not None:
        approved = next(
            (b for b in await queries.baseline_history(db, site.id) if b.version == site.baseline_version),
            None,
        )
        if approved is not None:
            baseline = BaselineInfo(version=approved.version, approved_by=approved.approved_by,
                                    approved_at=approved.approved_at, note=approved.note)  # fmt: skip
        if site.baseline_version != number:
            compared = await stored_diff(
                db, sources.cache, sources.removed_after, site, site.baseline_version, number, "baseline"
            )
            diff = compared.diff
    extras = await site_extras(db, sources.store, site.id)
    record = documents.build_record(
        snapshot,
        SiteInfo(customer=customer.name, site_id=site.slug, site_name=site.name, version=number,
                 received_at=meta.received_at),
        generated_at=now,
        baseline=baseline,
        diff=diff,
        extras=extras,
        content_hash=meta.content_hash,
    )  # fmt: skip
    return record, snapshot


def _sealed(record: AsBuiltRecord, revealed: vault_service.RevealedValue) -> SealedCredential:
    entry = revealed.entry
    device = record.device(entry.device_id) if entry.device_id else None
    return SealedCredential(
        device_id=entry.device_id or "site",
        device_name=device.name if device else (entry.device_id or "whole site"),
        username=entry.username,
        secret=revealed.value,
        note=f"{entry.label} ({revealed.field.replace('_', ' ')})",
    )


async def render(prepared: Prepared) -> Export:
    """The bytes of a prepared export; blocking renderers run in a worker thread."""
    fmt, record = prepared.fmt, prepared.record
    if fmt is Format.PDF:
        body = await documents.handover_pdf_async(
            record, branding=prepared.branding, credentials=prepared.credentials
        )
    elif fmt is Format.XLSX:
        body = await documents.record_xlsx_async(record)
    elif fmt is Format.CSV:
        body = documents.devices_csv(record)
    elif fmt is Format.JSON:
        body = documents.export_json(record, prepared.snapshot)
    else:
        body = await documents.wiring_svg_async(record)
    name = f"{prepared.site.slug}-v{record.version}-{KINDS[fmt]}"
    if prepared.credentials is not None:
        name += "-with-passwords"
    return Export(body, MEDIA_TYPES[fmt], f"{safe_name(name)}.{fmt.value}", prepared.credentials is not None)


def safe_name(name: str) -> str:
    """A file name a browser and a shell accept as is: site ids are free text."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:150]


async def export_site(
    sessions: Callable[[], Any],
    ctx: Ctx,
    sources: Sources,
    slug: str,
    fmt: Format,
    *,
    version: int | None = None,
    credentials: bool = False,
    via: str,
) -> Export:
    """Prepare in one transaction (audit committed), then render with the database released."""
    async with sessions() as db, db.begin():
        prepared = await prepare(
            db, ctx, sources, slug, fmt, version=version, credentials=credentials, via=via
        )
    return await render(prepared)
