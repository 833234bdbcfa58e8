"""GET /api/v1/audit: the audit log, newest first, filtered; there is no route that changes it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiohttp import web

from collector.api.common import int_param, respond
from collector.api.guard import ctx_of
from collector.api.schemas import AuditList, AuditPublic
from collector.errors import ApiError
from collector.keys import sessions_key
from collector.services import audit

MAX_PAGE = 500


def time_param(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"{name} must be an ISO 8601 time", field=name) from None
    if parsed.tzinfo is None:
        raise ApiError(422, "invalid_parameter", f"{name} needs a time zone (e.g. Z)", field=name)
    return parsed


def audit_filter(query: Mapping[str, str]) -> audit.AuditFilter:
    get = query.get
    customer = get("customer_id")
    site = get("site_id")
    return audit.AuditFilter(
        kind=(get("kind") or "").strip()[:50] or None,
        actor=(get("actor") or "").strip()[:100] or None,
        customer_id=int_param(customer, "customer_id") if customer else None,
        site_id=int_param(site, "site_id") if site else None,
        since=time_param(get("since"), "since"),
        until=time_param(get("until"), "until"),
    )


async def list_audit(request: web.Request) -> web.Response:
    limit = min(int_param(request.query.get("limit"), "limit", default=100), MAX_PAGE)
    offset = int_param(request.query.get("offset"), "offset", default=0, minimum=0)
    flt = audit_filter(request.query)
    async with request.app[sessions_key]() as db:
        rows, total = await audit.entries(db, ctx_of(request), flt, limit=limit, offset=offset)
    return respond(AuditList(total=total, entries=[AuditPublic.model_validate(r.model_dump()) for r in rows]))
