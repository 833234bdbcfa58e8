"""Named queries over the tables. Each takes an open AsyncSession; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import storage
from collector.db.models import (
    Agent,
    Baseline,
    Customer,
    IngestRequest,
    Organization,
    Site,
    SnapshotVersion,
    SnapshotVersionBase,
)
from drivers.schema import Snapshot, check_site_id

DEFAULT_ORG_SLUG = "default"


async def default_organization(session: AsyncSession) -> Organization:
    org = (await session.exec(select(Organization).where(Organization.slug == DEFAULT_ORG_SLUG))).first()
    if org is None:
        org = Organization(slug=DEFAULT_ORG_SLUG, name="Default organization")
        session.add(org)
        await session.flush()
    return org


async def default_organization_id(session: AsyncSession) -> int | None:
    """For reads: the tenant's id, without creating it (an empty database has no sites anyway)."""
    return (await session.exec(select(Organization.id).where(Organization.slug == DEFAULT_ORG_SLUG))).first()


def default_organization_key() -> Any:
    """The tenant's id as a scalar subquery (NULL when there is none yet): a read filters by it in
    its own query instead of looking the id up first (one round trip less per page)."""
    return select(Organization.id).where(Organization.slug == DEFAULT_ORG_SLUG).scalar_subquery()


async def get_or_create_customer(session: AsyncSession, organization_id: int, name: str) -> Customer:
    query = select(Customer).where(Customer.organization_id == organization_id, Customer.name == name)
    customer = (await session.exec(query)).first()
    if customer is None:
        customer = Customer(organization_id=organization_id, name=name)
        session.add(customer)
        await session.flush()
    return customer


async def get_or_create_site(
    session: AsyncSession, organization_id: int, customer_id: int, slug: str, name: str | None = None
) -> Site:
    site = await site_by_slug(session, organization_id, slug)
    if site is None:
        check_site_id(slug)  # raises ValueError: ids with "/" or spaces would make unreachable URLs
        site = Site(organization_id=organization_id, customer_id=customer_id, slug=slug, name=name)
        session.add(site)
        await session.flush()
    return site


async def site_by_slug(session: AsyncSession, organization_id: int, slug: str) -> Site | None:
    query = select(Site).where(Site.organization_id == organization_id, Site.slug == slug)
    return (await session.exec(query)).first()


async def sites_with_customers(session: AsyncSession, organization_id: int) -> list[tuple[Site, Customer]]:
    query = (
        select(Site, Customer)
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(Site.organization_id == organization_id)
        .order_by(col(Customer.name), col(Site.slug))
    )
    return list((await session.exec(query)).all())


async def lock_site(session: AsyncSession, site_id: int, now: datetime) -> None:
    """Take the site's row lock (PostgreSQL) / the write lock (SQLite) before reading anything.

    Every ingest starts with this write, so concurrent ingests of one site run one after the other
    and each sees the versions the previous one committed.
    """
    await session.exec(update(Site).where(col(Site.id) == site_id).values(updated_at=now))


async def get_site(session: AsyncSession, site_id: int) -> Site:
    site = await session.get(Site, site_id, populate_existing=True)
    if site is None:
        raise LookupError(f"site {site_id} vanished")
    return site


async def agent_by_token_hash(session: AsyncSession, token_hash: str) -> Agent | None:
    return (await session.exec(select(Agent).where(Agent.token_hash == token_hash))).first()


async def version_meta(session: AsyncSession, site_id: int, version: int) -> SnapshotVersionBase | None:
    """A version's metadata without its (possibly large) snapshot document."""
    fields = [getattr(SnapshotVersion, name) for name in SnapshotVersionBase.model_fields]
    row = (
        await session.exec(
            select(*fields).where(SnapshotVersion.site_id == site_id, SnapshotVersion.version == version)
        )
    ).first()
    return None if row is None else SnapshotVersionBase.model_validate(dict(row._mapping))


async def list_versions(
    session: AsyncSession, site_id: int, *, limit: int, offset: int
) -> list[SnapshotVersionBase]:
    fields = [getattr(SnapshotVersion, name) for name in SnapshotVersionBase.model_fields]
    query = (
        select(*fields)
        .where(SnapshotVersion.site_id == site_id)
        .order_by(col(SnapshotVersion.version).desc())
        .limit(limit)
        .offset(offset)
    )
    return [SnapshotVersionBase.model_validate(dict(r._mapping)) for r in (await session.exec(query)).all()]


async def version_numbers(session: AsyncSession, site_id: int, *, limit: int) -> list[int]:
    """A site's version numbers, newest first (a version picker): numbers only, no row objects."""
    v = SnapshotVersion
    query = select(v.version).where(v.site_id == site_id).order_by(col(v.version).desc()).limit(limit)
    return list((await session.exec(query)).all())


@dataclass(frozen=True)
class VersionState:
    """What ingest needs of the latest version (and a diff of both its sides), without the document."""

    version: int
    content_hash: str
    seen_count: int
    absent_streaks: dict[str, Any]
    diff_summary: dict[str, Any] | None
    body_digest: str | None = None
    fingerprint: str | None = None


async def version_state(session: AsyncSession, site_id: int, version: int) -> VersionState | None:
    query = (
        select(SnapshotVersion)
        .options(defer(SnapshotVersion.document, raiseload=True))  # type: ignore[arg-type]
        .where(SnapshotVersion.site_id == site_id, SnapshotVersion.version == version)
    )
    row = (await session.exec(query)).first()
    if row is None:
        return None
    return VersionState(
        row.version,
        row.content_hash,
        row.seen_count,
        dict(row.absent_streaks),
        row.diff_summary,
        row.body_digest,
        row.fingerprint,
    )


async def mark_seen_again(
    session: AsyncSession,
    site_id: int,
    version: int,
    now: datetime,
    body_digest: str | None = None,
    fingerprint: str | None = None,
) -> None:
    v = SnapshotVersion
    values: dict[str, Any] = {"seen_count": col(v.seen_count) + 1, "seen_last_at": now}
    if body_digest is not None:
        values["body_digest"] = body_digest
    if fingerprint is not None:
        values["fingerprint"] = fingerprint
    await session.exec(update(v).where(col(v.site_id) == site_id, col(v.version) == version).values(**values))


async def latest_body_digest(session: AsyncSession, site_id: int) -> str | None:
    """The body digest of the site's latest version (no lock, no document)."""
    v = SnapshotVersion
    query = (
        select(v.body_digest)
        .join(Site, and_(col(Site.id) == col(v.site_id), col(Site.latest_version) == col(v.version)))
        .where(col(Site.id) == site_id)
    )
    return (await session.exec(query)).first()


async def _document_blob(session: AsyncSession, site_id: int, version: int) -> bytes | None:
    query = select(SnapshotVersion.document).where(
        SnapshotVersion.site_id == site_id, SnapshotVersion.version == version
    )
    return (await session.exec(query)).first()


async def version_document(session: AsyncSession, site_id: int, version: int) -> dict[str, Any] | None:
    """A version's snapshot as JSON data (decoded by collector/db/storage.py)."""
    blob = await _document_blob(session, site_id, version)
    return None if blob is None else storage.decode_document(blob)


async def version_snapshot(session: AsyncSession, site_id: int, version: int) -> Snapshot | None:
    """A version's snapshot, validated straight from the stored bytes (faster than via a dict)."""
    blob = await _document_blob(session, site_id, version)
    return None if blob is None else storage.decode_snapshot(blob)


async def version_states(
    session: AsyncSession, site_id: int, versions: tuple[int, ...]
) -> dict[int, VersionState]:
    """Several versions' state in one query, columns only (a version that does not exist is missing
    from the dict): both sides of a diff."""
    v = SnapshotVersion
    columns = (v.version, v.content_hash, v.seen_count, v.absent_streaks, v.diff_summary)
    query = sa_select(*map(col, columns)).where(col(v.site_id) == site_id, col(v.version).in_(versions))
    rows = (await session.execute(query)).all()
    return {
        n: VersionState(n, h, seen, dict(streaks or {}), summary) for n, h, seen, streaks, summary in rows
    }


async def version_snapshots(session: AsyncSession, site_id: int, versions: list[int]) -> dict[int, Snapshot]:
    """Several versions' snapshots in one query (collector/db/storage.py decodes each)."""
    v = SnapshotVersion
    query = select(v.version, v.document).where(v.site_id == site_id, col(v.version).in_(versions))
    return {n: storage.decode_snapshot(blob) for n, blob in (await session.exec(query)).all()}


async def ingest_request(session: AsyncSession, site_id: int, idempotency_key: str) -> IngestRequest | None:
    query = select(IngestRequest).where(
        IngestRequest.site_id == site_id, IngestRequest.idempotency_key == idempotency_key
    )
    return (await session.exec(query)).first()


async def approve_baseline(
    session: AsyncSession, site: Site, version: int, approved_by: str, note: str | None, now: datetime
) -> Baseline | None:
    """Make `version` the site's documented baseline, keeping the approval in its history.
    None when the site has no such version. Used by the API and the web UI alike."""
    assert site.id is not None
    if await version_meta(session, site.id, version) is None:
        return None
    approval = Baseline(site_id=site.id, version=version, approved_by=approved_by, approved_at=now, note=note)
    session.add(approval)
    site.baseline_version = version
    session.add(site)
    await session.flush()
    return approval


async def baseline_history(session: AsyncSession, site_id: int) -> list[Baseline]:
    query = select(Baseline).where(Baseline.site_id == site_id).order_by(col(Baseline.id).desc())
    return list((await session.exec(query)).all())
