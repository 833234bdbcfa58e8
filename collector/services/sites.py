"""Sites and their record, as one caller may see them: scope in the query, reads and writes audited.

A site out of the caller's scope is looked up with the scope in the WHERE clause, so it is
"not found" exactly like a site that does not exist (same status, same message).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, Resource, ensure, scope_clause
from collector.db import queries
from collector.db.models import Agent, Baseline, Customer, Site, SnapshotVersionBase
from collector.errors import ApiError, not_found
from collector.services import audit
from collector.services.context import Ctx
from drivers.schema import check_site_id


def resource_of(site: Site, customer: Customer) -> Resource:
    return Resource(customer_id=customer.id, region_id=customer.region_id, site_id=site.id)


def site_etag(site: Site) -> str:
    """The revision an edit must be made from, as an HTTP entity tag."""
    return f'"r{site.revision}"'


def visible_sites(ctx: Ctx) -> Any:
    """Sites joined to their customer, filtered by the caller's scope (to add WHERE / LIMIT to)."""
    return (
        select(Site, Customer)
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(scope_clause(ctx.identity))
    )


async def find_site(
    db: AsyncSession, ctx: Ctx, slug: str, action: Action = Action.READ_SITE, *, view: str | None = None
) -> tuple[Site, Customer]:
    """The site ``slug`` if the caller may ``action`` it, else 404 (403 first if the role never may)."""
    ensure(ctx.identity, action)
    try:
        check_site_id(slug)  # a NUL or a space no database row can hold: not found, like any other
    except ValueError:
        raise not_found(f"site {slug[:200]!r}") from None
    query = visible_sites(ctx).where(
        Site.organization_id == queries.default_organization_key(), Site.slug == slug
    )
    row = (await db.exec(query)).first()
    if row is None:
        raise not_found(f"site {slug!r}")
    site, customer = row
    if view is not None:
        await audit.record(
            db, ctx, audit.Kind.SITE_READ, target=f"site {site.slug}", customer_id=customer.id,
            site_id=site.id, detail={"view": view},
        )  # fmt: skip
    return site, customer


async def list_sites(
    db: AsyncSession, ctx: Ctx, *, limit: int = 1000, offset: int = 0
) -> list[tuple[Site, Customer]]:
    ensure(ctx.identity, Action.READ_SITE)
    org_id = await queries.default_organization_id(db)
    if org_id is None:
        return []
    query = (
        visible_sites(ctx)
        .where(Site.organization_id == org_id)
        .order_by(col(Customer.name), col(Site.slug))
        .limit(limit)
        .offset(offset)
    )
    return list((await db.exec(query)).all())


@dataclass(frozen=True)
class SiteRecord:
    site: Site
    customer: Customer
    latest: SnapshotVersionBase | None
    history: list[Baseline]
    agents: list[Agent]


async def site_record(db: AsyncSession, ctx: Ctx, slug: str, *, view: str) -> SiteRecord:
    site, customer = await find_site(db, ctx, slug, view=view)
    assert site.id is not None
    latest = await queries.version_meta(db, site.id, site.latest_version) if site.latest_version else None
    history = await queries.baseline_history(db, site.id)
    agents = (await db.exec(select(Agent).where(Agent.site_id == site.id).order_by(col(Agent.id)))).all()
    return SiteRecord(site, customer, latest, history, list(agents))


async def snapshot_document(
    db: AsyncSession, ctx: Ctx, slug: str, number: int, *, via: str
) -> tuple[Site, dict[str, Any]]:
    """A version's snapshot for download: an export, so it is audited as one."""
    site, customer = await find_site(db, ctx, slug, Action.EXPORT_SITE)
    assert site.id is not None
    document = await queries.version_document(db, site.id, number)
    if document is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    await audit.record(
        db, ctx, audit.Kind.EXPORT, target=f"site {site.slug} v{number} snapshot.json",
        customer_id=customer.id, site_id=site.id, detail={"format": "json", "version": number, "via": via},
    )  # fmt: skip
    return site, document


def stale(site: Site, base_revision: int, latest: Baseline | None) -> ApiError:
    who = ""
    if latest is not None:
        who = (
            f": v{latest.version} was approved as the baseline by {latest.approved_by} at "
            f"{latest.approved_at:%Y-%m-%d %H:%M} UTC"
        )
    return ApiError(
        409,
        "stale_revision",
        f"This site's record changed after you loaded it (revision {base_revision}, "
        f"now {site.revision}){who}. "
        "Reload to see the current state, then approve again if you still mean to.",
        field="base_revision",
    )


async def approve_baseline(
    db: AsyncSession,
    ctx: Ctx,
    slug: str,
    version: int,
    note: str | None,
    *,
    base_revision: int | None,
) -> tuple[Site, Baseline]:
    """Approve ``version`` as the baseline. ``base_revision``: the site revision the caller saw;
    when it is no longer current the approval is refused (409) instead of overwriting a newer one."""
    site, customer = await find_site(db, ctx, slug, Action.APPROVE_BASELINE)
    assert site.id is not None
    site_id = site.id
    await queries.lock_site(db, site_id, ctx.now)  # serialise concurrent approvals of one site
    site = await queries.get_site(db, site_id)
    if base_revision is not None and base_revision != site.revision:
        history = await queries.baseline_history(db, site_id)
        raise stale(site, base_revision, history[0] if history else None)
    before = site.baseline_version
    approved = await queries.approve_baseline(db, site, version, ctx.identity.name, note, ctx.now)
    if approved is None:
        raise not_found(f"version {version} of site {site.slug!r}")
    site.revision += 1
    db.add(site)
    await audit.record(
        db, ctx, audit.Kind.BASELINE_APPROVE, target=f"site {site.slug}", customer_id=customer.id,
        site_id=site.id, detail={"baseline": {"from": before, "to": version}, "note": note,
                                 "revision": site.revision},
    )  # fmt: skip
    await db.flush()
    return site, approved


async def revoke_agent(db: AsyncSession, ctx: Ctx, agent_id: int) -> tuple[Agent, Site]:
    ensure(ctx.identity, Action.MANAGE_AGENTS)
    query = (
        select(Agent, Site, Customer)
        .join(Site, col(Site.id) == col(Agent.site_id))
        .join(Customer, col(Customer.id) == col(Site.customer_id))
        .where(Agent.id == agent_id, scope_clause(ctx.identity))
    )
    row = (await db.exec(query)).first()
    if row is None:
        raise not_found(f"agent {agent_id}")
    agent, site, customer = row
    if agent.revoked_at is None:  # revoking twice keeps the first time
        agent.revoked_at = ctx.now
        db.add(agent)
        await audit.record(
            db, ctx, audit.Kind.AGENT_REVOKE, target=f"agent {agent.name} ({agent_id})",
            customer_id=customer.id, site_id=site.id,
            detail={"revoked_at": {"from": None, "to": ctx.now.isoformat()}},
        )  # fmt: skip
    return agent, site
