"""A customer's fleet reports over the API: all four, one, or a spreadsheet of them."""

from __future__ import annotations

import json

from aiohttp import web

from collector.api.guard import ctx_of
from collector.http.deliverables import fleet_export as export_fleet
from collector.keys import sessions_key, snapshot_cache_key
from collector.services import fleet as fleet_service


def _json(data: object) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), content_type="application/json")


async def fleet(request: web.Request) -> web.Response:
    customer_id = fleet_service.parse_customer_id(request.match_info["customer"])
    async with request.app[sessions_key]() as db, db.begin():
        summary = await fleet_service.fleet_summary(
            db, ctx_of(request), request.app[snapshot_cache_key], customer_id, view="all", via="api"
        )
    return _json(summary.model_dump(mode="json"))


async def fleet_report(request: web.Request) -> web.Response:
    customer_id = fleet_service.parse_customer_id(request.match_info["customer"])
    report = fleet_service.parse_report(request.match_info["report"])
    async with request.app[sessions_key]() as db, db.begin():
        summary = await fleet_service.fleet_summary(
            db, ctx_of(request), request.app[snapshot_cache_key], customer_id, view=report.value, via="api"
        )
    body = getattr(summary, report.value).model_dump(mode="json")
    return _json({"customer": summary.customer, "customer_id": summary.customer_id,
                  "generated_at": summary.generated_at.isoformat(), "sites": list(summary.sites),
                  "report": report.value, report.value: body})  # fmt: skip


async def fleet_export(request: web.Request) -> web.Response:
    return await export_fleet(request, ctx_of(request), "api")
