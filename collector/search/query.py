"""Answering a search: devices (across history), sites, and what people wrote — scope in the SQL.

Each function takes the caller's scope as a SQL condition (collector.auth.scope_clause) and applies
it in the same query as the match, before LIMIT, so a result out of scope is never fetched at all.
Device lookups are prefix ranges on ``search_term.term`` walked in index order, so a common prefix
("axis") stops after LIMIT rows instead of sorting every match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import Customer, Region, Site, SnapshotVersion
from collector.db.record_tables import DevicePin, FloorPlan, ServiceVisit
from collector.db.search_tables import SearchDevice, SearchTerm
from collector.search.terms import Query, prefix_bounds

MAX_DEVICES = 50
MAX_SITES = 20
MAX_NOTES = 20


@dataclass(frozen=True)
class DeviceHit:
    device: SearchDevice
    site: Site
    customer: Customer
    field: str  # what matched: mac, serial, ip, hostname, model, vendor, firmware, location, word
    term: str
    last_scan_at: datetime | None  # when the newest version that has the device was last seen

    @property
    def departed(self) -> bool:
        return not self.device.present

    @property
    def earlier_value(self) -> bool:
        """The match is a value the device had in an earlier version, not its current one."""
        current = {
            "serial": self.device.serial, "ip": self.device.ip, "hostname": self.device.hostname,
            "model": self.device.model, "vendor": self.device.vendor, "firmware": self.device.firmware,
        }  # fmt: skip
        value = current.get(self.field)
        return self.field in current and (value or "").lower() != self.term


@dataclass(frozen=True)
class SiteHit:
    site: Site
    customer: Customer
    region: str | None


@dataclass(frozen=True)
class NoteHit:
    site: Site
    customer: Customer
    what: str  # "mounting note" | "visit"
    text: str
    device_id: str | None = None
    on: date | None = None


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_devices(
    db: AsyncSession,
    organization_id: int,
    visible: ColumnElement[bool],
    q: Query,
    *,
    limit: int = MAX_DEVICES,
) -> list[DeviceHit]:
    if q.empty:
        return []
    ranges: list[ColumnElement[bool]] = [_range(q.text)]
    if q.mac and q.mac != q.text:
        ranges.append(and_(col(SearchTerm.field) == "mac", _range(q.mac)))
    found: dict[int, tuple[str, str]] = {}
    for condition in ranges:
        query = (
            select(SearchTerm.device_ref, SearchTerm.field, SearchTerm.term)
            .join(Site, col(Site.id) == col(SearchTerm.site_id))
            .join(Customer, col(Customer.id) == col(Site.customer_id))
            .where(condition, Site.organization_id == organization_id, visible)
            .order_by(col(SearchTerm.term))
            .limit(limit * 4)  # one device can match by several terms (model and its words)
        )
        for ref, field, term in (await db.exec(query)).all():
            found.setdefault(ref, (field, term))
    if not found:
        return []
    refs = list(found)[: limit * 2]
    last = and_(
        col(SnapshotVersion.site_id) == col(SearchDevice.site_id),
        col(SnapshotVersion.version) == col(SearchDevice.last_seen_version),
    )
    devices = (
        select(SearchDevice, Site, Customer, SnapshotVersion.seen_last_at)
        .join(Site, col(Site.id) == col(SearchDevice.site_id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .outerjoin(SnapshotVersion, last)
        .where(col(SearchDevice.id).in_(refs), visible)
    )
    hits = [DeviceHit(d, s, c, *found[d.id or 0], seen) for d, s, c, seen in (await db.exec(devices)).all()]
    # Exact values first, then devices still installed, then by customer and site.
    hits.sort(
        key=lambda h: (
            h.term != q.text and h.term != q.mac,
            h.departed,
            h.customer.name,
            h.site.slug,
            h.device.device_id,
        )
    )
    return hits[:limit]


def _range(prefix: str) -> ColumnElement[bool]:
    low, high = prefix_bounds(prefix)
    return and_(col(SearchTerm.term) >= low, col(SearchTerm.term) < high)


async def search_sites(
    db: AsyncSession, organization_id: int, visible: ColumnElement[bool], q: Query, *, limit: int = MAX_SITES
) -> list[SiteHit]:
    if q.empty:
        return []
    pattern = f"%{_escape_like(q.text)}%"
    query = (
        select(Site, Customer, Region.name)
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .outerjoin(Region, col(Region.id) == col(Customer.region_id))
        .where(
            Site.organization_id == organization_id,
            visible,
            or_(
                col(Site.slug).ilike(pattern, escape="\\"),
                col(Site.name).ilike(pattern, escape="\\"),
                col(Customer.name).ilike(pattern, escape="\\"),
                col(Region.name).ilike(pattern, escape="\\"),
            ),
        )
        .order_by(col(Customer.name), col(Site.slug))
        .limit(limit)
    )
    return [SiteHit(s, c, r) for s, c, r in (await db.exec(query)).all()]


async def search_notes(
    db: AsyncSession, organization_id: int, visible: ColumnElement[bool], q: Query, *, limit: int = MAX_NOTES
) -> list[NoteHit]:
    """What people wrote: pins' mounting notes and service visits (reason, work done)."""
    if len(q.text) < 3:
        return []
    pattern = f"%{_escape_like(q.text)}%"
    pins = (
        select(DevicePin.device_id, DevicePin.mounting_notes, Site, Customer)
        .join(FloorPlan, col(FloorPlan.id) == col(DevicePin.floor_plan_id))
        .join(Site, col(Site.id) == col(FloorPlan.site_id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(Site.organization_id == organization_id, visible,
               col(DevicePin.mounting_notes).ilike(pattern, escape="\\"))
        .limit(limit)
    )  # fmt: skip
    visits = (
        select(ServiceVisit, Site, Customer)
        .join(Site, col(Site.id) == col(ServiceVisit.site_id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(Site.organization_id == organization_id, visible,
               or_(col(ServiceVisit.reason).ilike(pattern, escape="\\"),
                   col(ServiceVisit.work_done).ilike(pattern, escape="\\")))
        .order_by(col(ServiceVisit.visited_on).desc())
        .limit(limit)
    )  # fmt: skip
    out = [NoteHit(s, c, "mounting note", n or "", device_id=d) for d, n, s, c in (await db.exec(pins)).all()]
    out += [
        NoteHit(s, c, "visit", " — ".join(t for t in (v.reason, v.work_done) if t), on=v.visited_on)
        for v, s, c in (await db.exec(visits)).all()
    ]
    return out[:limit]


async def site_devices(db: AsyncSession, site_id: int) -> list[SearchDevice]:
    """Every device a site ever had, installed ones first."""
    query = (
        select(SearchDevice)
        .where(SearchDevice.site_id == site_id)
        .order_by(
            col(SearchDevice.present).desc(),
            col(SearchDevice.last_seen_version).desc(),
            col(SearchDevice.device_id),
        )
    )
    return list((await db.exec(query)).all())


async def device_row(db: AsyncSession, site_id: int, device_id: str) -> SearchDevice | None:
    query = select(SearchDevice).where(SearchDevice.site_id == site_id, SearchDevice.device_id == device_id)
    return (await db.exec(query)).first()


async def device_elsewhere(
    db: AsyncSession, organization_id: int, visible: ColumnElement[bool], device_id: str, site_id: int
) -> list[tuple[SearchDevice, Site]]:
    """The same device identity at other sites the caller may see (a camera moved between sites)."""
    query = (
        select(SearchDevice, Site)
        .join(Site, col(Site.id) == col(SearchDevice.site_id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(SearchDevice.device_id == device_id, col(SearchDevice.site_id) != site_id,
               Site.organization_id == organization_id, visible)
        .limit(20)
    )  # fmt: skip
    return list((await db.exec(query)).all())
