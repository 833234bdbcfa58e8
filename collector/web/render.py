"""Rendering a page: the template, the caller, its CSRF token and the navigation its role may use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from collector.auth import Action, Identity, permits
from collector.documents.branding import Branding
from collector.http.caller import IDENTITY
from collector.keys import sessions_key
from collector.services import branding as branding_service
from collector.web.session import csrf_token

jinja_key = web.AppKey("web_jinja", jinja2.Environment)
BRANDING_TTL_S = 30.0  # another instance's change shows within this long; this one's at once


@dataclass
class BrandingCache:
    """The branding for the page header, read at most every BRANDING_TTL_S per process."""

    value: Branding | None = None
    fetched: float = 0.0


branding_cache_key = web.AppKey("web_branding", BrandingCache)


async def page_branding(request: web.Request) -> Branding:
    cache = request.app[branding_cache_key]
    now = time.monotonic()
    if cache.value is None or now - cache.fetched > BRANDING_TTL_S:
        async with request.app[sessions_key]() as db:
            cache.value = await branding_service.current_branding(db)
        cache.fetched = now
    return cache.value


def forget_branding(app: web.Application) -> None:
    app[branding_cache_key].value = None


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    action: Action
    area: str  # which pages light it up


# The navigation, by what each entry needs: a role sees only what it may open.
NAV: tuple[NavItem, ...] = (
    NavItem("Sites", "web-sites", Action.READ_SITE, "sites"),
    NavItem("Customers", "web-customers", Action.READ_CUSTOMERS, "customers"),
    NavItem("Users", "web-users", Action.MANAGE_PEOPLE, "users"),
    NavItem("Regions", "web-regions", Action.MANAGE_PEOPLE, "regions"),
    NavItem("Devices", "web-devices", Action.MANAGE_DEVICES, "devices"),
    NavItem("Alerts", "web-alerts", Action.SUBSCRIBE_ALERTS, "alerts"),
    NavItem("Webhooks", "web-alert-admin", Action.MANAGE_ALERTS, "alert-admin"),
    NavItem("Audit", "web-audit", Action.READ_AUDIT, "audit"),
    NavItem("Branding", "web-branding", Action.MANAGE_SETTINGS, "settings"),
    NavItem("Account", "web-account", Action.OWN_ACCOUNT, "account"),
)


def nav_for(identity: Identity | None) -> list[NavItem]:
    return [] if identity is None else [n for n in NAV if permits(identity, n.action)]


async def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    identity = request.get(IDENTITY)
    context.setdefault("identity", identity)
    context.setdefault("nav", nav_for(identity))
    context.setdefault("area", "")
    context.setdefault("flash", await take_flash(request))
    context["csrf"] = await csrf_token(request)
    context.setdefault("branding", await page_branding(request) if identity is not None else None)
    return aiohttp_jinja2.render_template(template, request, context, app_key=jinja_key, status=status)


STATIC_ROUTE = "web-static"


def cached_static_url(url_for: Any) -> Any:
    """aiohttp_jinja2's ``url`` global, with the static files' versioned URLs remembered: aiohttp
    reads and hashes the file on every call (htmx: 50 KB per page). Files do not change while the
    process runs (templates are not reloaded either)."""
    static: dict[str, Any] = {}

    @jinja2.pass_context
    def url(context: Any, name: str, query_: dict[str, str] | None = None, **parts: str | int) -> Any:
        if name != STATIC_ROUTE or query_ or set(parts) != {"filename"}:
            return url_for(context, name, query_, **parts)
        key = str(parts["filename"])
        if key not in static:
            static[key] = url_for(context, name, **parts)
        return static[key]

    return url


def redirect(location: str | URL) -> web.Response:
    """303 See Other: after a POST the browser GETs the target (no re-submit on reload)."""
    return web.Response(status=303, headers={"Location": str(location)})


async def done(request: web.Request, location: str | URL, message: str) -> web.Response:
    """Redirect after a change, with a one-line confirmation for the next page (kept in the session,
    not the URL, so nobody can put words on our pages with a crafted link)."""
    (await get_session(request))["flash"] = message[:300]
    return redirect(location)


async def take_flash(request: web.Request) -> str:
    session = await get_session(request)
    message = session.pop("flash", "") if "flash" in session else ""
    return message if isinstance(message, str) else ""


def url(request: web.Request, name: str, query: dict[str, str] | None = None, **parts: str) -> URL:
    target = request.app.router[name].url_for(**parts)
    return target.with_query(query) if query else target


ERROR_TITLES = {
    400: "That request was not understood",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Changed in the meantime",
    413: "Too large",
    422: "Please check what was entered",
    428: "Reload first",
    429: "Too many attempts",
}


def back_path(request: web.Request) -> str | None:
    """Where the person came from on this site (Referer, same origin only), to go back and reload."""
    referer = URL(request.headers.get("Referer", ""))
    if not referer.is_absolute() or referer.origin() != request.url.origin():
        return None
    path = referer.raw_path_qs
    return path if path.startswith("/") and not path.startswith("//") else None


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return await render(
        request, "pages/error.html", status=status, status_code=status, message=message,
        title=ERROR_TITLES.get(status, "Something went wrong"), back=back_path(request),
    )  # fmt: skip
