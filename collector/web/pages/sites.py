"""Sites: the list and search, a site's record, its versions, diffs, the snapshot download, approval."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector import refusals
from collector.auth import Action, permits, scope_clause
from collector.db import queries
from collector.db.models import Customer, Site
from collector.errors import not_found
from collector.exports import snapshot_attachment
from collector.http.params import int_param, text_param
from collector.ingest import load_snapshot
from collector.keys import sessions_key, snapshot_cache_key
from collector.services import record as record_service
from collector.services import search as search_service
from collector.services import sites as site_service
from collector.services.context import Ctx
from collector.services.exports import may_include_credentials
from collector.web import lookups
from collector.web.changes import compare, open_changes, reference_comparison, stored_open_changes
from collector.web.guard import ctx, form_with_csrf
from collector.web.record import build_record
from collector.web.render import done, render, url

SITES_PER_PAGE = 100
VERSIONS_PER_PAGE = 50
MAX_NOTE_CHARS = 4000


MAX_SORTED_BY_CHANGES = 2000


def _or(count: int | None) -> int:
    return -1 if count is None else count


async def sites_page(request: web.Request) -> web.Response:
    c = ctx(request)
    term = text_param(request.query.get("q", "")[:200], "q")
    page = int_param(request.query.get("page"), "page", default=1)
    sort = request.query.get("sort", "name")
    if sort not in (*lookups.SORTS, "changes"):
        sort = "name"
    rows: list[dict[str, Any]] = []
    results = None
    more = False
    async with request.app[sessions_key]() as db:
        if term:
            results = await search_service.search(db, c, term)
        else:
            by_changes = sort == "changes"
            overview = await lookups.site_overview(
                db, queries.default_organization_key(), scope_clause(c.identity),
                sort="name" if by_changes else sort,  # type: ignore[arg-type]
                limit=MAX_SORTED_BY_CHANGES if by_changes else SITES_PER_PAGE + 1,
                offset=0 if by_changes else (page - 1) * SITES_PER_PAGE,
            )  # fmt: skip
            if by_changes:  # by the stored counts (-1: not stored against the current baseline)
                overview.sort(key=lambda o: -_or(stored_open_changes(o.site.baseline_version, o.latest)))
                overview = overview[(page - 1) * SITES_PER_PAGE : page * SITES_PER_PAGE + 1]
            more = len(overview) > SITES_PER_PAGE
            for item in overview[:SITES_PER_PAGE]:
                changes = await open_changes(request, db, item.site, item.site.baseline_version, item.latest)
                rows.append(
                    {
                        "site": item.site,
                        "customer": item.customer,
                        "latest": item.latest,
                        "last_visit": item.last_visit,
                        "open_changes": changes,
                    }
                )
    args: dict[str, Any] = {
        "rows": rows,
        "term": term,
        "page": page,
        "more": more,
        "sort": sort,
        "results": results,
    }
    target = request.headers.get("HX-Target") if request.headers.get("HX-Request") == "true" else None
    if target == "search-panel":  # the top bar's box on any other page
        if results is None:
            return web.Response(text="", content_type="text/html")
        return await render(request, "pages/search/_panel.html", **args)
    if target == "site-results":
        return await render(request, "pages/sites/_results.html", **args)
    return await render(request, "pages/sites/list.html", area="sites", list_page=True, **args)


async def _record_context(
    request: web.Request, db: AsyncSession, c: Ctx, site: Site, customer: Customer, number: int
) -> dict[str, Any]:
    """What the record layout shows of one version: header, changes, devices, ports, recorders, problems."""
    assert site.id is not None
    meta = await queries.version_meta(db, site.id, number)
    if meta is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    history = await queries.baseline_history(db, site.id)
    snapshot = await load_snapshot(db, request.app[snapshot_cache_key], site.id, number, meta.content_hash)
    comparison = await reference_comparison(request, db, site, number, snapshot)  # not decoded again
    return {
        "site": site,
        "customer": customer,
        "meta": meta,
        "baseline": history[0] if history else None,
        "snapshot": snapshot,
        "record": build_record(snapshot),
        "comparison": comparison,
        "can_approve": permits(c.identity, Action.APPROVE_BASELINE, site_service.resource_of(site, customer))
        and site.baseline_version != number,
        "can_vault": permits(c.identity, Action.READ_VAULT, site_service.resource_of(site, customer)),
        "can_share": permits(c.identity, Action.SHARE_SITE, site_service.resource_of(site, customer)),
        "can_sealed": may_include_credentials(c, site, customer),
        "refused": await refusals.recent(db, site.id),
        "last_visit": await record_service.last_visit(db, site),
    }


async def site_page(request: web.Request) -> web.Response:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer = await site_service.find_site(db, c, request.match_info["site"], view="record")
        if not site.latest_version:
            refused = await refusals.recent(db, site.id or 0)
            return await render(
                request, "pages/sites/empty.html", area="sites", site=site, customer=customer, refused=refused
            )
        context = await _record_context(request, db, c, site, customer, site.latest_version)
    return await render(request, "pages/sites/record.html", area="sites", current=True, **context)


async def version_page(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer = await site_service.find_site(
            db, c, request.match_info["site"], view=f"record v{number}"
        )
        context = await _record_context(request, db, c, site, customer, number)
    return await render(
        request, "pages/sites/record.html", area="sites", current=number == site.latest_version, **context
    )


async def versions_page(request: web.Request) -> web.Response:
    page = int_param(request.query.get("page"), "page", default=1)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer = await site_service.find_site(
            db, ctx(request), request.match_info["site"], view="history"
        )
        assert site.id is not None
        versions = await queries.list_versions(
            db, site.id, limit=VERSIONS_PER_PAGE + 1, offset=(page - 1) * VERSIONS_PER_PAGE
        )
    return await render(
        request, "pages/sites/versions.html", area="sites", site=site, customer=customer,
        versions=versions[:VERSIONS_PER_PAGE], page=page, more=len(versions) > VERSIONS_PER_PAGE,
    )  # fmt: skip


async def download_snapshot(request: web.Request) -> web.Response:
    """The stored snapshot as canonical JSON: the same bytes, and the same audit entry, as the API's."""
    number = int_param(request.match_info["version"], "version")
    async with request.app[sessions_key]() as db, db.begin():
        site, document = await site_service.snapshot_document(
            db, ctx(request), request.match_info["site"], number, via="web"
        )
    return snapshot_attachment(site.slug, number, document)


async def diff_page(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, customer = await site_service.find_site(
            db, ctx(request), request.match_info["site"], view="diff"
        )
        assert site.id is not None
        latest = site.latest_version
        default_from = site.baseline_version if site.baseline_version not in (None, latest) else latest - 1
        new = int_param(request.query.get("to"), "to", default=max(latest, 1))
        old = int_param(request.query.get("from"), "from", default=max(default_from or 1, 1))
        numbers = await queries.version_numbers(db, site.id, limit=500)
        comparison = None
        if latest and old != new:
            comparison = await compare(request, db, site, old, new, "versions")
    return await render(
        request, "pages/sites/diff.html", area="sites", site=site, customer=customer, comparison=comparison,
        old=old, new=new, numbers=numbers,
    )  # fmt: skip


async def approve_version(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    form = await form_with_csrf(request)
    note = form.get("note", "").strip()[:MAX_NOTE_CHARS] or None
    # The form carries the revision the page showed: a colleague's newer approval is not overwritten.
    base = int_param(form.get("base_revision"), "base_revision", minimum=0)
    async with request.app[sessions_key]() as db, db.begin():
        site, _ = await site_service.approve_baseline(
            db, ctx(request), request.match_info["site"], number, note, base_revision=base
        )
    target = url(request, "web-version", site=site.slug, version=str(number))
    return await done(request, target, f"v{number} approved as the baseline")
