"""The pages: thin handlers that check who is asking, read through the collector's queries, render.

Every page needs a logged-in identity (``current_identity``) and the collector's permission for
the action (``collector.auth.ensure``); a browser without a session is sent to /login.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession
from yarl import URL

from collector import refusals
from collector.api.common import int_param, now, site_from_path, text_param
from collector.auth import Action, Identity, ensure, permits
from collector.db import queries
from collector.db.models import Customer, Site
from collector.errors import forbidden, not_found
from collector.ingest import load_snapshot
from collector.keys import sessions_key, snapshot_cache_key
from collector.web import lookups
from collector.web.changes import compare, open_changes, reference_comparison
from collector.web.record import build_record
from collector.web.session import (
    admin_identity_for_token,
    csrf_ok,
    current_identity,
    ensure_session,
    login_throttle_key,
    new_session,
    read_session,
    set_cookie,
)
from drivers.schema import canonical_dumps

jinja_key = web.AppKey("web_jinja", jinja2.Environment)
SITES_PER_PAGE = 100
VERSIONS_PER_PAGE = 50
MAX_NOTE_CHARS = 4000


# ---------------------------------------------------------------- helpers


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    session = read_session(request)
    context.setdefault("identity", current_identity(request))
    context.setdefault("csrf", session.csrf if session else "")
    return aiohttp_jinja2.render_template(template, request, context, app_key=jinja_key, status=status)


def redirect(location: str | URL) -> web.Response:
    """303 See Other: after a POST the browser GETs the target (no re-submit on reload)."""
    return web.Response(status=303, headers={"Location": str(location)})


def login_url(request: web.Request, next_path: str) -> URL:
    return request.app.router["web-login"].url_for().with_query(next=next_path)


def require_login(request: web.Request) -> Identity:
    """The logged-in identity, or a redirect to the login form that comes back here."""
    identity = current_identity(request)
    if identity is None:
        back = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(login_url(request, back))
    return identity


def safe_next(value: str | None) -> str:
    """Only a path on this server: no scheme, no host, no '//' (an open redirect otherwise)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return "/"
    if any(ch in value for ch in "\r\n\\"):
        return "/"
    return value


async def require_csrf(request: web.Request) -> dict[str, str]:
    form = await request.post()
    submitted = form.get("csrf")
    if not csrf_ok(request, submitted if isinstance(submitted, str) else None):
        raise forbidden(
            "the form is stale or was not sent from this site (CSRF check failed); reload and retry"
        )
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _site(request: web.Request, session: AsyncSession, identity: Identity) -> Site:
    site = await site_from_path(request, session)
    ensure(identity, Action.READ_SITE, site.id)
    return site


# ---------------------------------------------------------------- login / logout


async def login_form(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if current_identity(request) is not None:
        raise web.HTTPSeeOther(target)
    ensure_session(request)  # the anonymous session carries the form's CSRF token
    return render(request, "login.html", next=target, error=None)


async def login_submit(request: web.Request) -> web.Response:
    form = await require_csrf(request)
    target = safe_next(form.get("next"))
    client = request.remote or "unknown"
    throttle = request.app[login_throttle_key]
    if throttle.blocked(client, time.monotonic()):
        return render(request, "login.html", status=429, next=target,
                      error="Too many failed attempts from this address; wait a few minutes.")  # fmt: skip
    identity = admin_identity_for_token(request, form.get("token", "").strip())
    if identity is None:
        throttle.failed(client, time.monotonic())
        return render(request, "login.html", status=401, next=target, error="That token is not valid.")
    throttle.succeeded(client)
    response = redirect(target)
    set_cookie(response, request, new_session(identity, request))  # a new CSRF token at login
    return response


async def logout(request: web.Request) -> web.Response:
    await require_csrf(request)
    response = redirect(request.app.router["web-login"].url_for())
    set_cookie(response, request, new_session(None, request))
    return response


# ---------------------------------------------------------------- sites


async def sites_page(request: web.Request) -> web.Response:
    identity = require_login(request)
    ensure(identity, Action.READ_SITE)
    term = text_param(request.query.get("q", "")[:200], "q")
    page = int_param(request.query.get("page"), "page", default=1)
    rows = []
    async with request.app[sessions_key]() as session:
        org_id = await queries.default_organization_id(session)
        overview = (
            []
            if org_id is None  # an empty database: no tenant yet, so no sites
            else await lookups.site_overview(
                session, org_id, term=term, limit=SITES_PER_PAGE + 1, offset=(page - 1) * SITES_PER_PAGE
            )
        )
        more = not term and len(overview) > SITES_PER_PAGE
        for item in overview[:SITES_PER_PAGE]:
            if not permits(identity, Action.READ_SITE, item.site.id):
                continue
            hits = []
            if item.device_hit and item.latest is not None:
                hits = await lookups.matching_devices(
                    session, request.app[snapshot_cache_key], item.latest, term
                )
                if not hits:
                    continue  # the term was only in text we do not search (a config, a stream URI)
            rows.append(
                {
                    "site": item.site,
                    "customer": item.customer,
                    "latest": item.latest,
                    "open_changes": await open_changes(request, session, item.site, item.latest),
                    "hits": hits,
                }
            )
    return render(request, "sites.html", rows=rows, term=term, page=page, more=more)


async def _record_context(
    request: web.Request, session: AsyncSession, site: Site, identity: Identity, number: int
) -> dict[str, Any]:
    """What the record layout shows of one version: header, changes, devices, ports, recorders, problems."""
    assert site.id is not None
    meta = await queries.version_meta(session, site.id, number)
    if meta is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    customer = await session.get(Customer, site.customer_id)
    history = await queries.baseline_history(session, site.id)
    snapshot = await load_snapshot(
        session, request.app[snapshot_cache_key], site.id, number, meta.content_hash
    )
    return {
        "site": site,
        "customer": customer,
        "meta": meta,
        "baseline": history[0] if history else None,
        "snapshot": snapshot,
        "record": build_record(snapshot),
        "comparison": await reference_comparison(request, session, site, number),
        "can_approve": permits(identity, Action.APPROVE_BASELINE, site.id)
        and site.baseline_version != number,
        "refused": await refusals.recent(session, site.id),
    }


async def site_page(request: web.Request) -> web.Response:
    identity = require_login(request)
    async with request.app[sessions_key]() as session:
        site = await _site(request, session, identity)
        if not site.latest_version:
            customer = await session.get(Customer, site.customer_id)
            refused = await refusals.recent(session, site.id or 0)
            return render(request, "empty_site.html", site=site, customer=customer, refused=refused)
        context = await _record_context(request, session, site, identity, site.latest_version)
    return render(request, "record.html", current=True, **context)


async def version_page(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    identity = require_login(request)
    async with request.app[sessions_key]() as session:
        site = await _site(request, session, identity)
        context = await _record_context(request, session, site, identity, number)
    return render(request, "record.html", current=number == site.latest_version, **context)


async def versions_page(request: web.Request) -> web.Response:
    page = int_param(request.query.get("page"), "page", default=1)
    identity = require_login(request)
    async with request.app[sessions_key]() as session:
        site = await _site(request, session, identity)
        assert site.id is not None
        customer = await session.get(Customer, site.customer_id)
        versions = await queries.list_versions(
            session, site.id, limit=VERSIONS_PER_PAGE + 1, offset=(page - 1) * VERSIONS_PER_PAGE
        )
    return render(
        request,
        "versions.html",
        site=site,
        customer=customer,
        versions=versions[:VERSIONS_PER_PAGE],
        page=page,
        more=len(versions) > VERSIONS_PER_PAGE,
    )


async def download_snapshot(request: web.Request) -> web.Response:
    """The stored snapshot as canonical JSON, like the API's snapshot.json but for a browser session."""
    number = int_param(request.match_info["version"], "version")
    identity = require_login(request)
    async with request.app[sessions_key]() as session:
        site = await _site(request, session, identity)
        assert site.id is not None
        document = await queries.version_document(session, site.id, number)
    if document is None:
        raise not_found(f"version {number} of site {site.slug!r}")
    return web.Response(
        text=canonical_dumps(document),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{site.slug}-v{number}.json"'},
    )


async def diff_page(request: web.Request) -> web.Response:
    identity = require_login(request)
    async with request.app[sessions_key]() as session:
        site = await _site(request, session, identity)
        assert site.id is not None
        customer = await session.get(Customer, site.customer_id)
        latest = site.latest_version
        default_from = site.baseline_version if site.baseline_version not in (None, latest) else latest - 1
        new = int_param(request.query.get("to"), "to", default=max(latest, 1))
        old = int_param(request.query.get("from"), "from", default=max(default_from or 1, 1))
        numbers = [v.version for v in await queries.list_versions(session, site.id, limit=500, offset=0)]
        comparison = None
        if latest and old != new:
            comparison = await compare(request, session, site, old, new, "versions")
    return render(
        request,
        "diff.html",
        site=site,
        customer=customer,
        comparison=comparison,
        old=old,
        new=new,
        numbers=numbers,
    )


# ---------------------------------------------------------------- baseline approval


async def approve_version(request: web.Request) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    identity = require_login(request)
    form = await require_csrf(request)
    note = form.get("note", "").strip()[:MAX_NOTE_CHARS] or None
    async with request.app[sessions_key]() as session, session.begin():
        site = await site_from_path(request, session)
        ensure(identity, Action.APPROVE_BASELINE, site.id)
        if await queries.approve_baseline(session, site, number, identity.name, note, now()) is None:
            raise not_found(f"version {number} of site {site.slug!r}")
    return redirect(request.app.router["web-version"].url_for(site=site.slug, version=str(number)))


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", status=status, status_code=status, message=message)
