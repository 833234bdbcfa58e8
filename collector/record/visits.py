"""Service visits: the log per site, "last visit", and the scans taken during a visit.

Pure helpers on rows (record_tables.ServiceVisit or anything with the same fields) and the few
queries a site list needs, in SQL (a sort by last visit over 10k sites must not load every visit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.record_tables import ServiceVisit, ServiceVisitAttachment, SiteAttachment
from collector.db.types import utcnow
from collector.record.errors import Invalid, NotFound


class VisitLike(Protocol):
    @property
    def visited_on(self) -> date: ...
    @property
    def created_at(self) -> datetime: ...


V = TypeVar("V", bound=VisitLike)
K = TypeVar("K")


def last_visit(visits: Iterable[V]) -> V | None:
    """The latest visit: by its date, then by when it was written down."""
    return max(visits, key=lambda v: (v.visited_on, v.created_at), default=None)


def sort_by_last_visit(keys: Sequence[K], last: dict[K, date], *, newest_first: bool = True) -> list[K]:
    """Sites in last-visit order; never-visited sites always last, in their given order."""
    visited = sorted((k for k in keys if k in last), key=lambda k: last[k], reverse=newest_first)
    return visited + [k for k in keys if k not in last]


@dataclass(frozen=True)
class ScanTaken:
    version: int
    started_at: datetime


def scans_during(visit_day: date, scans: Iterable[ScanTaken], tz: str = "UTC") -> list[int]:
    """Version numbers of the scans started on the visit's day (in the site's time zone)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(visit_day, datetime.min.time(), zone)
    end = start + timedelta(days=1)
    return sorted(s.version for s in scans if start <= s.started_at.astimezone(UTC) < end.astimezone(UTC))


@dataclass(frozen=True)
class VisitDraft:
    visited_on: date
    technician: str
    reason: str
    work_done: str | None = None
    version_numbers: tuple[int, ...] = ()
    attachment_ids: tuple[int, ...] = ()

    def checked(self) -> VisitDraft:
        for name, value, limit in (("technician", self.technician, 200), ("reason", self.reason, 500)):
            if not value.strip() or len(value) > limit:
                raise Invalid(name, f"the visit needs a {name} (at most {limit} characters)")
        if self.work_done is not None and len(self.work_done) > 5000:
            raise Invalid("work_done", "'what was done' is limited to 5000 characters")
        if any(v < 1 for v in self.version_numbers):
            raise Invalid("version_numbers", "version numbers start at 1")
        return self


async def add_visit(
    session: AsyncSession, *, site_id: int, draft: VisitDraft, user: str, now: datetime | None = None
) -> ServiceVisit:
    draft = draft.checked()
    if draft.attachment_ids:
        found = await session.exec(
            select(SiteAttachment.id).where(
                col(SiteAttachment.id).in_(draft.attachment_ids), SiteAttachment.site_id == site_id
            )
        )
        missing = set(draft.attachment_ids) - set(found.all())
        if missing:
            raise NotFound(f"attachments {sorted(missing)} are not files of this site")
    visit = ServiceVisit(
        site_id=site_id, visited_on=draft.visited_on, technician=draft.technician.strip(),
        reason=draft.reason.strip(), work_done=(draft.work_done or "").strip() or None,
        version_numbers=sorted(set(draft.version_numbers)), created_by=user, created_at=now or utcnow(),
    )  # fmt: skip
    session.add(visit)
    await session.flush()
    assert visit.id is not None
    session.add_all(
        ServiceVisitAttachment(visit_id=visit.id, attachment_id=a) for a in set(draft.attachment_ids)
    )
    await session.flush()
    return visit


async def site_visits(session: AsyncSession, site_id: int) -> list[ServiceVisit]:
    """A site's visits, newest first."""
    rows = await session.exec(
        select(ServiceVisit)
        .where(ServiceVisit.site_id == site_id)
        .order_by(col(ServiceVisit.visited_on).desc(), col(ServiceVisit.created_at).desc())
    )
    return list(rows.all())


async def visit_attachment_ids(session: AsyncSession, visit_id: int) -> list[int]:
    rows = await session.exec(
        select(ServiceVisitAttachment.attachment_id).where(ServiceVisitAttachment.visit_id == visit_id)
    )
    return sorted(rows.all())


async def last_visit_dates(session: AsyncSession, site_ids: Sequence[int]) -> dict[int, date]:
    """Per site, the date of its last visit (sites never visited are absent) — one GROUP BY."""
    if not site_ids:
        return {}
    rows = await session.exec(
        select(ServiceVisit.site_id, func.max(ServiceVisit.visited_on))
        .where(col(ServiceVisit.site_id).in_(site_ids))
        .group_by(col(ServiceVisit.site_id))
    )
    return {site: day for site, day in rows.all() if day is not None}
