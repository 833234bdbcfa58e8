"""Sites and their versions: list, detail, version metadata, snapshot download."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import col, select

from collector.api.common import int_param, respond, site_from_path
from collector.api.schemas import (
    AgentPublic,
    BaselinePublic,
    SiteDetail,
    SiteList,
    SitePublic,
    VersionList,
    VersionPublic,
)
from collector.auth import Action, authenticate, ensure
from collector.db import queries
from collector.db.models import Agent, Customer, Site
from collector.errors import not_found
from collector.keys import sessions_key
from drivers.schema import canonical_dumps

MAX_PAGE = 500


def site_public(site: Site, customer: Customer) -> SitePublic:
    return SitePublic(
        site_id=site.slug,
        name=site.name,
        customer=customer.name,
        latest_version=site.latest_version,
        baseline_version=site.baseline_version,
    )


async def list_sites(request: web.Request) -> web.Response:
    ensure(await authenticate(request), Action.READ_SITE)
    async with request.app[sessions_key]() as session:
        org_id = await queries.default_organization_id(session)
        rows = [] if org_id is None else await queries.sites_with_customers(session, org_id)
    return respond(SiteList(sites=[site_public(s, c) for s, c in rows]))


async def site_detail(request: web.Request) -> web.Response:
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        customer = await session.get(Customer, site.customer_id)
        assert customer is not None and site.id is not None
        latest = (
            await queries.version_meta(session, site.id, site.latest_version) if site.latest_version else None
        )
        history = await queries.baseline_history(session, site.id)
        agents = (
            await session.exec(select(Agent).where(Agent.site_id == site.id).order_by(col(Agent.id)))
        ).all()
    detail = SiteDetail(
        **site_public(site, customer).model_dump(),
        latest=VersionPublic.model_validate(latest.model_dump()) if latest else None,
        baseline=BaselinePublic.model_validate(history[0].model_dump()) if history else None,
        agents=[
            AgentPublic(
                agent_id=a.id or 0,
                name=a.name,
                site_id=site.slug,
                created_at=a.created_at,
                revoked_at=a.revoked_at,
                last_seen_at=a.last_seen_at,
            )
            for a in agents
        ],
    )
    return respond(detail)


async def list_versions(request: web.Request) -> web.Response:
    limit = min(int_param(request.query.get("limit"), "limit", default=100), MAX_PAGE)
    offset = int_param(request.query.get("offset"), "offset", default=0, minimum=0)
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        assert site.id is not None
        versions = await queries.list_versions(session, site.id, limit=limit, offset=offset)
    return respond(
        VersionList(
            site_id=site.slug, versions=[VersionPublic.model_validate(v.model_dump()) for v in versions]
        )
    )


async def version_detail(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        assert site.id is not None
        meta = await queries.version_meta(session, site.id, number)
    if meta is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    return respond(VersionPublic.model_validate(meta.model_dump()))


async def download_snapshot(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session:
        site = await site_from_path(request, session)
        ensure(identity, Action.READ_SITE, site.id)
        assert site.id is not None
        document = await queries.version_document(session, site.id, number)
    if document is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    return web.Response(
        text=canonical_dumps(document),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{site.slug}-v{number}.json"'},
    )
