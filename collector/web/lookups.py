"""Read-only queries the pages need beyond collector.db.queries: the site overview and search.

Each takes an open AsyncSession. Snapshot documents are never selected here (they are stored
compressed, collector/db/storage.py). Search matches site id, site name and customer name in SQL;
searching devices (serial, MAC, IP, host name) needs the per-device projection table of issue #11.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import Customer, Site, SnapshotVersion
from collector.ingest import SnapshotCache, load_snapshot
from drivers.normalize import canonical_mac
from drivers.schema import Device

MAX_SEARCH_SITES = 100
MAX_DEVICE_HITS = 20


@dataclass(frozen=True)
class SiteOverview:
    site: Site
    customer: Customer
    latest: SnapshotVersion | None  # without its snapshot document
    device_hit: bool = False


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_pattern(term: str) -> str:
    """What to look for: a full MAC in any notation becomes its canonical form."""
    term = term.strip()
    try:
        return canonical_mac(term)
    except ValueError:
        return term


async def site_overview(
    session: AsyncSession,
    organization_id: int,
    visible: ColumnElement[bool],
    *,
    term: str = "",
    limit: int = 200,
    offset: int = 0,
) -> list[SiteOverview]:
    """Sites with their customer and latest version, by customer then site; optionally searched.
    ``visible`` is the caller's scope (collector.auth.scope_clause), applied before LIMIT/OFFSET."""
    # The page of sites is chosen first (site and customer rows only), then only its sites are
    # joined to their latest version: joining all 10,000 before LIMIT took 180 ms on PostgreSQL.
    order = (col(Customer.name), col(Site.slug))
    chosen: Select[Any] = (
        select(col(Site.id).label("id"))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(Site.organization_id == organization_id, visible)
        .order_by(*order)
    )
    if term.strip():
        pattern = f"%{_escape_like(search_pattern(term))}%"
        chosen = chosen.where(
            or_(
                col(Site.slug).ilike(pattern, escape="\\"),
                col(Site.name).ilike(pattern, escape="\\"),
                col(Customer.name).ilike(pattern, escape="\\"),
            )
        ).limit(MAX_SEARCH_SITES)
    else:
        chosen = chosen.limit(limit).offset(offset)
    page = chosen.subquery()
    latest_join = and_(
        col(SnapshotVersion.site_id) == col(Site.id), col(SnapshotVersion.version) == col(Site.latest_version)
    )
    query = (
        select(Site, Customer, SnapshotVersion)
        .join(page, page.c.id == col(Site.id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .outerjoin(SnapshotVersion, latest_join)
        .options(defer(SnapshotVersion.document, raiseload=True))  # type: ignore[arg-type]
        .order_by(*order)
    )
    rows = (await session.exec(query)).all()
    return [SiteOverview(s, c, v) for s, c, v in rows]


def device_matches(device: Device, term: str) -> bool:
    """Serial, MAC, IP or host name contains the term (case-insensitive)."""
    needle = search_pattern(term).lower()
    if not needle:
        return False
    values = (device.identity.serial, device.identity.mac, device.network.ip, device.identity.hostname)
    return any(needle in v.lower() for v in values if v)


async def matching_devices(
    session: AsyncSession, cache: SnapshotCache, latest: SnapshotVersion, term: str
) -> list[Device]:
    """The devices of a site's latest version that the search term names."""
    snapshot = await load_snapshot(session, cache, latest.site_id, latest.version, latest.content_hash)
    return [d for d in snapshot.devices if device_matches(d, term)][:MAX_DEVICE_HITS]
