"""Sites and their versions: list, detail, version metadata, snapshot download (via services.sites)."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import respond
from collector.api.guard import ctx_of
from collector.api.schemas import (
    AgentPublic,
    BaselinePublic,
    SiteDetail,
    SiteList,
    SitePublic,
    VersionList,
    VersionPublic,
)
from collector.db import queries
from collector.db.models import Customer, Site
from collector.errors import not_found
from collector.exports import snapshot_attachment
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import sites as site_service

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
    async with request.app[sessions_key]() as db:
        rows = await site_service.list_sites(db, ctx_of(request))
    return respond(SiteList(sites=[site_public(s, c) for s, c in rows]))


async def site_detail(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        rec = await site_service.site_record(db, ctx_of(request), request.match_info["site"], view="api:site")
    site = rec.site
    detail = SiteDetail(
        **site_public(site, rec.customer).model_dump(),
        latest=VersionPublic.model_validate(rec.latest.model_dump()) if rec.latest else None,
        baseline=BaselinePublic.model_validate(rec.history[0].model_dump()) if rec.history else None,
        agents=[
            AgentPublic(
                agent_id=a.id or 0,
                name=a.name,
                site_id=site.slug,
                created_at=a.created_at,
                revoked_at=a.revoked_at,
                last_seen_at=a.last_seen_at,
            )
            for a in rec.agents
        ],
    )
    response = respond(detail)
    response.headers["ETag"] = site_service.site_etag(site)
    return response


async def list_versions(request: web.Request) -> web.Response:
    limit = min(int_param(request.query.get("limit"), "limit", default=100), MAX_PAGE)
    offset = int_param(request.query.get("offset"), "offset", default=0, minimum=0)
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.find_site(
            db, ctx_of(request), request.match_info["site"], view="api:versions"
        )
        assert site.id is not None
        versions = await queries.list_versions(db, site.id, limit=limit, offset=offset)
    return respond(
        VersionList(
            site_id=site.slug, versions=[VersionPublic.model_validate(v.model_dump()) for v in versions]
        )
    )


async def version_detail(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.find_site(
            db, ctx_of(request), request.match_info["site"], view="api:version"
        )
        assert site.id is not None
        meta = await queries.version_meta(db, site.id, number)
    if meta is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    return respond(VersionPublic.model_validate(meta.model_dump()))


async def download_snapshot(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    async with request.app[sessions_key]() as db, db.begin():
        site, document = await site_service.snapshot_document(
            db, ctx_of(request), request.match_info["site"], number, via="api"
        )
    return snapshot_attachment(site.slug, number, document)
