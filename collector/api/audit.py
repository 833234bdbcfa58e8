"""GET /api/v1/audit: the audit log, newest first, filtered; there is no route that changes it."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import respond
from collector.api.guard import ctx_of
from collector.api.schemas import AuditList, AuditPublic
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import audit

MAX_PAGE = 500


async def list_audit(request: web.Request) -> web.Response:
    limit = min(int_param(request.query.get("limit"), "limit", default=100), MAX_PAGE)
    offset = int_param(request.query.get("offset"), "offset", default=0, minimum=0)
    flt = audit.parse_filter(request.query)
    async with request.app[sessions_key]() as db:
        rows, total = await audit.entries(db, ctx_of(request), flt, limit=limit, offset=offset)
    return respond(AuditList(total=total, entries=[AuditPublic.model_validate(r.model_dump()) for r in rows]))
