"""Read-only queries the pages need beyond collector.db.queries: the site overview.

Search is not here any more: collector.search answers it from the device projection (no JSON cast
to text). Snapshot documents are never selected here (they can be large).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import Customer, Site, SnapshotVersion
from collector.db.record_tables import ServiceVisit

SortKey = Literal["name", "scan", "visit"]
SORTS: tuple[SortKey, ...] = ("name", "scan", "visit")


@dataclass(frozen=True)
class SiteOverview:
    site: Site
    customer: Customer
    latest: SnapshotVersion | None  # without its snapshot document
    last_visit: object | None = None  # a date


async def site_overview(
    session: AsyncSession,
    organization_id: int,
    visible: ColumnElement[bool],
    *,
    sort: SortKey = "name",
    limit: int = 200,
    offset: int = 0,
) -> list[SiteOverview]:
    """Sites with their customer, latest version and last visit; by customer then site, or the
    most recently scanned / visited first. ``visible`` is the caller's scope
    (collector.auth.scope_clause), applied before LIMIT/OFFSET."""
    latest_join = and_(
        col(SnapshotVersion.site_id) == col(Site.id), col(SnapshotVersion.version) == col(Site.latest_version)
    )
    visits = (
        select(ServiceVisit.site_id, func.max(ServiceVisit.visited_on).label("last_visit"))
        .group_by(col(ServiceVisit.site_id))
        .subquery()
    )
    query = (
        select(Site, Customer, SnapshotVersion, visits.c.last_visit)
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .outerjoin(SnapshotVersion, latest_join)
        .outerjoin(visits, visits.c.site_id == col(Site.id))
        .options(defer(SnapshotVersion.document, raiseload=True))  # type: ignore[arg-type]
        .where(Site.organization_id == organization_id, visible)
    )
    if sort == "name":
        # The page of sites is chosen first (site and customer rows only), then only its sites are
        # joined to their latest version and visits: joining all 10,000 before LIMIT took 180 ms.
        chosen = (
            select(col(Site.id).label("id"))
            .join(Customer, col(Customer.id) == col(Site.customer_id))
            .where(Site.organization_id == organization_id, visible)
            .order_by(col(Customer.name), col(Site.slug))
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        query = query.join(chosen, chosen.c.id == col(Site.id)).order_by(col(Customer.name), col(Site.slug))
        rows = (await session.exec(query)).all()
        return [SiteOverview(s, c, v, lv) for s, c, v, lv in rows]
    if sort == "scan":
        query = query.order_by(col(SnapshotVersion.seen_last_at).desc().nulls_last())
    elif sort == "visit":
        query = query.order_by(visits.c.last_visit.desc().nulls_last())
    query = query.order_by(col(Customer.name), col(Site.slug))
    rows = (await session.exec(query.limit(limit).offset(offset))).all()
    return [SiteOverview(s, c, v, lv) for s, c, v, lv in rows]
