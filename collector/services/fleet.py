"""A customer's fleet reports for one caller: the customer and its sites found with the scope in SQL
(out of scope is 404, exactly like a customer that does not exist), each site's latest version and
approved baseline read through the snapshot cache, the pure reports of ``collector.fleet`` built,
and one audit entry written (``fleet.read`` for a view, ``export.download`` for a file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, ensure, scope_clause
from collector.db import queries
from collector.db.models import Customer, Site
from collector.errors import ApiError, not_found
from collector.fleet.reports import FleetSite, FleetSummary, Report, build_fleet
from collector.fleet.tables import fleet_csv, fleet_xlsx
from collector.ingest import SnapshotCache, load_snapshot
from collector.services import audit
from collector.services.context import Ctx


class FleetFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


MEDIA_TYPES = {
    FleetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FleetFormat.CSV: "text/csv",
}


def parse_report(text: str | None, *, default: Report | None = None) -> Report:
    if text in (None, "") and default is not None:
        return default
    found = next((r for r in Report if r.value == text), None)
    if found is None:
        choices = ", ".join(r.value for r in Report)
        raise ApiError(422, "invalid_report", f"report: one of {choices}", field="report")
    return found


def parse_fleet_format(text: str) -> FleetFormat:
    found = next((f for f in FleetFormat if f.value == text.lower()), None)
    if found is None:
        raise ApiError(422, "invalid_format", "format: xlsx or csv", field="format")
    return found


def parse_customer_id(text: str) -> int:
    """A customer id from a path: anything but a plain number is "not found", like a missing one."""
    if not text.isdigit() or len(text) > 12:
        raise not_found(f"customer {text[:40]!r}")
    return int(text)


async def find_customer(db: AsyncSession, ctx: Ctx, customer_id: int, action: Action) -> Customer:
    ensure(ctx.identity, action)
    org_id = await queries.default_organization_id(db)
    query = select(Customer).where(
        Customer.id == customer_id, Customer.organization_id == org_id, scope_clause(ctx.identity)
    )
    customer = (await db.exec(query)).first()
    if customer is None:
        raise not_found(f"customer {customer_id}")
    return customer


async def fleet_sites(db: AsyncSession, cache: SnapshotCache, customer: Customer) -> list[FleetSite]:
    """Every site of the customer that has a version: its latest snapshot and approved baseline."""
    query = (
        select(Site)
        .where(Site.customer_id == customer.id, col(Site.latest_version) > 0)
        .order_by(col(Site.slug))
    )
    out: list[FleetSite] = []
    for site in (await db.exec(query)).all():
        assert site.id is not None
        meta = await queries.version_meta(db, site.id, site.latest_version)
        if meta is None:
            continue
        snapshot = await load_snapshot(db, cache, site.id, meta.version, meta.content_hash)
        baseline = None
        if site.baseline_version is not None:
            bmeta = await queries.version_meta(db, site.id, site.baseline_version)
            if bmeta is not None:
                baseline = await load_snapshot(db, cache, site.id, bmeta.version, bmeta.content_hash)
        out.append(FleetSite(site.slug, site.name, meta.version, snapshot, site.baseline_version, baseline))
    return out


async def fleet_summary(
    db: AsyncSession, ctx: Ctx, cache: SnapshotCache, customer_id: int, *, view: str, via: str
) -> FleetSummary:
    """The four reports of one customer; the read is audited with the view shown."""
    customer = await find_customer(db, ctx, customer_id, Action.READ_SITE)
    assert customer.id is not None
    summary = build_fleet(customer.name, customer.id, await fleet_sites(db, cache, customer), ctx.now)
    await audit.record(
        db, ctx, audit.Kind.FLEET_READ, target=f"customer {customer.name} fleet {view}",
        customer_id=customer.id, detail={"view": view, "via": via, "sites": len(summary.sites)},
    )  # fmt: skip
    return summary


@dataclass(frozen=True)
class FleetExport:
    body: bytes
    media_type: str
    filename: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Disposition": f'attachment; filename="{self.filename}"',
            "Cache-Control": "private, no-cache",
        }


async def export_fleet(
    sessions: Callable[[], Any],
    ctx: Ctx,
    cache: SnapshotCache,
    customer_id: int,
    fmt: FleetFormat,
    report: Report | None,
    *,
    via: str,
) -> FleetExport:
    """XLSX (every report, one sheet each, or the one asked for) or CSV (one report); audited."""
    if fmt is FleetFormat.CSV and report is None:
        raise ApiError(422, "missing_parameter", "a CSV holds one report: add report=…", field="report")
    async with sessions() as db, db.begin():
        customer = await find_customer(db, ctx, customer_id, Action.EXPORT_SITE)
        assert customer.id is not None
        summary = build_fleet(customer.name, customer.id, await fleet_sites(db, cache, customer), ctx.now)
        what = report.value if report else "all"
        await audit.record(
            db, ctx, audit.Kind.EXPORT, target=f"customer {customer.name} fleet {what}.{fmt.value}",
            customer_id=customer.id, detail={"format": fmt.value, "report": what, "via": via},
        )  # fmt: skip
    if fmt is FleetFormat.XLSX:
        body = fleet_xlsx(summary, (report,) if report else tuple(Report))
    else:
        assert report is not None
        body = fleet_csv(summary, report)
    stamp = ctx.now.strftime("%Y%m%d")
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in customer.name)[:80]
    return FleetExport(body, MEDIA_TYPES[fmt], f"fleet-{name}-{what}-{stamp}.{fmt.value}")
