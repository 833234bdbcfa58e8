"""A customer's fleet reports on a page: one report at a time (tabs), its chart and its table, and
the spreadsheet downloads (the same service, bytes and audit as the API's)."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from collector.fleet import charts
from collector.fleet.reports import TITLES, Report
from collector.http.deliverables import fleet_export as export_fleet
from collector.keys import sessions_key, snapshot_cache_key
from collector.services import fleet as fleet_service
from collector.web.guard import ctx
from collector.web.render import render

CHARTS = {
    Report.FIRMWARE: lambda s: charts.firmware_chart(s.firmware),
    Report.CLOCK: lambda s: charts.clock_chart(s.clock),
    Report.RECORDING: lambda s: charts.recording_chart(s.recording),
    Report.POE: lambda s: charts.poe_chart(s.poe),
}


async def fleet_page(request: web.Request) -> web.Response:
    customer_id = fleet_service.parse_customer_id(request.match_info["customer"])
    report = fleet_service.parse_report(request.query.get("report"), default=Report.FIRMWARE)
    async with request.app[sessions_key]() as db, db.begin():
        summary = await fleet_service.fleet_summary(
            db, ctx(request), request.app[snapshot_cache_key], customer_id, view=report.value, via="web"
        )
    # The chart is our own SVG: every label in it went through html.escape.
    chart = Markup(CHARTS[report](summary))
    return await render(
        request, "pages/fleet/fleet.html", area="customers", summary=summary, report=report,
        reports=list(Report), titles=TITLES, chart=chart, customer_id=str(customer_id),
    )  # fmt: skip


async def fleet_export(request: web.Request) -> web.Response:
    return await export_fleet(request, ctx(request), "web")
