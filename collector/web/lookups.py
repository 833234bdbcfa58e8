"""Read-only queries the pages need beyond collector.db.queries: the site overview.

Search is not here any more: collector.search answers it from the device projection (no JSON cast
to text). Snapshot documents are never selected here (they can be large).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import Customer, Site, SnapshotVersion
from collector.db.record_tables import ServiceVisit

SortKey = Literal["name", "scan", "visit"]
SORTS: tuple[SortKey, ...] = ("name", "scan", "visit")


@dataclass(frozen=True, slots=True)
class SiteRow:
    """The columns of a site the list shows (plain values: 100 rows per page, no ORM objects)."""

    id: int
    slug: str
    name: str | None
    baseline_version: int | None
    latest_version: int


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class LatestRow:
    """The latest version's columns the list shows and counts open changes from (no document)."""

    version: int
    seen_last_at: datetime
    device_count: int
    problem_count: int
    diff_against_kind: str | None
    diff_against_version: int | None
    diff_summary: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class SiteOverview:
    site: SiteRow
    customer: CustomerRow
    latest: LatestRow | None
    last_visit: object | None = None  # a date


_SITE: tuple[Any, ...] = (Site.id, Site.slug, Site.name, Site.baseline_version, Site.latest_version)
_CUSTOMER: tuple[Any, ...] = (Customer.id, Customer.name)
_LATEST: tuple[Any, ...] = (
    SnapshotVersion.version, SnapshotVersion.seen_last_at, SnapshotVersion.device_count,
    SnapshotVersion.problem_count, SnapshotVersion.diff_against_kind, SnapshotVersion.diff_against_version,
    SnapshotVersion.diff_summary,
)  # fmt: skip


def _overview(row: Any) -> SiteOverview:
    site = SiteRow(*row[:5])
    customer = CustomerRow(*row[5:7])
    latest = None if row[7] is None else LatestRow(*row[7:14])
    return SiteOverview(site, customer, latest, row[14])


async def site_overview(
    session: AsyncSession,
    organization_id: Any,
    visible: ColumnElement[bool],
    *,
    sort: SortKey = "name",
    limit: int = 200,
    offset: int = 0,
) -> list[SiteOverview]:
    """Sites with their customer, latest version and last visit; by customer then site, or the
    most recently scanned / visited first. ``visible`` is the caller's scope
    (collector.auth.scope_clause), applied before LIMIT/OFFSET; ``organization_id`` an id or
    queries.default_organization_key(). Only the listed columns are selected, as plain rows."""
    latest_join = and_(
        col(SnapshotVersion.site_id) == col(Site.id), col(SnapshotVersion.version) == col(Site.latest_version)
    )
    visits = (
        select(ServiceVisit.site_id, func.max(ServiceVisit.visited_on).label("last_visit"))
        .group_by(col(ServiceVisit.site_id))
        .subquery()
    )
    query = (
        sa_select(*_SITE, *_CUSTOMER, *_LATEST, visits.c.last_visit)
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .outerjoin(SnapshotVersion, latest_join)
        .outerjoin(visits, visits.c.site_id == col(Site.id))
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
        return [_overview(r) for r in (await session.execute(query)).all()]
    if sort == "scan":
        query = query.order_by(col(SnapshotVersion.seen_last_at).desc().nulls_last())
    elif sort == "visit":
        query = query.order_by(visits.c.last_visit.desc().nulls_last())
    query = query.order_by(col(Customer.name), col(Site.slug))
    return [_overview(r) for r in (await session.execute(query.limit(limit).offset(offset))).all()]
