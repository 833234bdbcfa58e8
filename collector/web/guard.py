"""Every page runs behind ``page``: the browser's signed-in identity, and the page's declared action
checked before the view looks anything up. Not signed in: to the sign-in form, and back after.
"""

from __future__ import annotations

import functools

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy
from yarl import URL

from collector.auth import ANONYMOUS, Action, Identity, ensure
from collector.errors import forbidden
from collector.http.caller import IDENTITY, client_of
from collector.services.context import Ctx
from collector.throttle import SlowDown
from collector.web import session as browser

# Sign-in attempts: per account (a few free tries, then a doubling wait up to 30 s) and per client
# address (more free tries: an office behind one NAT address shares it). Never a lockout for minutes.
login_account_throttle_key = web.AppKey("web_login_account_throttle", SlowDown)
login_client_throttle_key = web.AppKey("web_login_client_throttle", SlowDown)
_DEVICE = web.RequestKey("asbuilt_device_id", int)


def anonymous_ctx(request: web.Request) -> Ctx:
    return Ctx(ANONYMOUS, client_of(request))


def ctx(request: web.Request) -> Ctx:
    """The signed-in caller's context (after ``page``): identity, client address, registered device."""
    device = request.get(_DEVICE)
    return Ctx(request.get(IDENTITY, ANONYMOUS), client_of(request), device)


def login_url(request: web.Request, next_path: str) -> URL:
    return request.app.router["web-login"].url_for().with_query(next=next_path)


async def signed_in(request: web.Request) -> Identity | None:
    live = await browser.current(request, anonymous_ctx(request))
    if live is None:
        return None
    request[IDENTITY] = live.identity
    if live.session.device_id is not None:
        request[_DEVICE] = live.session.device_id
    return live.identity


def page(action: Action, handler: Handler) -> Handler:
    if action is Action.PUBLIC:
        return handler

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        identity = await signed_in(request)
        if identity is None:
            back = request.path_qs if request.method == "GET" else "/"
            raise web.HTTPSeeOther(login_url(request, back))
        ensure(identity, action)
        return await handler(request)

    return view


async def form_with_csrf(request: web.Request) -> dict[str, str]:
    """The POSTed form, after its CSRF token matched this browser's session (else 403)."""
    form = await post_with_csrf(request)
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def post_with_csrf(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The POSTed form with its file fields (small forms only: aiohttp buffers it), CSRF checked."""
    form = await request.post()
    submitted = form.get("csrf")
    if not await browser.csrf_ok(request, submitted if isinstance(submitted, str) else None):
        raise forbidden("the form is stale or was not sent from this site (CSRF check failed); reload, retry")
    return form
