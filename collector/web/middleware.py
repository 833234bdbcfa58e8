"""What every page response gets: security headers, HTML error pages, the new-session cookie.

API paths (/api/...) are left to the collector's own JSON error middleware.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from collector.errors import ApiError
from collector.web.session import persist_new_session
from collector.web.views import error_page

log = logging.getLogger("asbuilt.collector.web")

API_PREFIX = "/api/"
STATIC_PREFIX = "/static/"

# No inline script or style anywhere: the pages use one stylesheet and no JavaScript at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def is_page(request: web.Request) -> bool:
    return not request.path.startswith(API_PREFIX)


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_page(request):
        return await handler(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        response = error_page(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_page(request, exc.status, exc.reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        response = error_page(request, 500, "Internal error; the details are in the collector's log.")
    persist_new_session(request, response)
    return response


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: also reaches responses that bypassed the middleware (redirects, static)."""
    if not is_page(request):
        return
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(STATIC_PREFIX):
        response.headers["Cache-Control"] = "no-store"  # records stay off shared browsers' disks
