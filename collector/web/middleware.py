"""What every page response gets: security headers and HTML error pages.

API paths (/api/...) are left to the collector's own JSON error middleware.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from collector.errors import ApiError
from collector.web.render import error_page

log = logging.getLogger("asbuilt.collector.web")

API_PREFIX = "/api/"
STATIC_PREFIX = "/static/"

# No inline script or style anywhere: one stylesheet and one vendored script (htmx), both from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
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
        return await handler(request)
    except ApiError as exc:
        response = await error_page(request, exc.status, exc.message)
        if "Retry-After" in exc.headers:
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await error_page(request, exc.status, exc.reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return await error_page(request, 500, "Internal error; the details are in the collector's log.")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: also reaches responses that bypassed the middleware (redirects, static)."""
    if not is_page(request):
        return
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(STATIC_PREFIX):
        response.headers["Cache-Control"] = "no-store"  # records stay off shared browsers' disks
