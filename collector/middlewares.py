"""Every response carries a request id; every error is JSON with a stable code."""

from __future__ import annotations

import logging
import re
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from collector.errors import ApiError

log = logging.getLogger("asbuilt.collector")
REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _request_id(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        response = web.json_response(exc.body(request_id), status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:  # aiohttp's own: 404 no route, 405, 413 ...
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        kept = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
        error = ApiError(exc.status, code, exc.text or exc.reason, headers=kept)  # keeps Allow on 405
        response = web.json_response(error.body(request_id), status=exc.status, headers=error.headers)
    except ConnectionResetError:  # the client went away mid-request (aiohttp: "Connection lost")
        # Nobody is left to answer and nothing was stored: one quiet line, not an ERROR traceback.
        log.info("client disconnected during %s %s (request %s)", request.method, request.path, request_id)
        error = ApiError(400, "client_disconnected", "the client closed the connection mid-request")
        response = web.json_response(error.body(request_id), status=400)
    except Exception:
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, request_id)
        error = ApiError(500, "internal_error", f"internal error; quote request id {request_id}")
        response = web.json_response(error.body(request_id), status=500)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
