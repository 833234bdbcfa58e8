"""The fleet reports as spreadsheet tables: one sheet per report (XLSX), or one report as CSV.

Same layout and cell safety as the site exports (``collector.documents.exports``): typed numbers,
frozen header, filters, widths, and text a spreadsheet would run as a formula kept as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from collector.documents.exports import FLOAT, INT, Column, csv_text, write_sheet
from collector.fleet.reports import TITLES, FleetSummary, Report

COLUMNS: dict[Report, tuple[Column, ...]] = {
    Report.FIRMWARE: (
        Column("Site", lambda r: r.site, width=18),
        Column("Device", lambda r: r.device, width=22),
        Column("Role", lambda r: r.role, width=10),
        Column("Vendor", lambda r: r.vendor, width=14),
        Column("Model", lambda r: r.model, width=22),
        Column("Serial", lambda r: r.serial, width=26),
        Column("IP", lambda r: r.ip, width=15),
        Column("Firmware", lambda r: r.firmware, width=24),
        Column("Newest seen", lambda r: r.newest, width=24),
        Column("Outdated", lambda r: r.outdated, width=10),
    ),
    Report.CLOCK: (
        Column("Site", lambda r: r.site, width=18),
        Column("Device", lambda r: r.device, width=22),
        Column("Role", lambda r: r.role, width=10),
        Column("Model", lambda r: r.model, width=22),
        Column("IP", lambda r: r.ip, width=15),
        Column("Offset (s)", lambda r: r.offset_s, FLOAT, width=11),
        Column("State", lambda r: r.state.value, width=10),
        Column("NTP servers", lambda r: r.ntp_text, width=30),
    ),
    Report.RECORDING: (
        Column("Site", lambda r: r.site, width=18),
        Column("Device", lambda r: r.device, width=22),
        Column("Kind", lambda r: r.kind.value, width=11),
        Column("What", lambda r: r.what, width=30),
        Column("Baseline", lambda r: r.baseline, width=18),
        Column("Now", lambda r: r.now, width=18),
    ),
    Report.POE: (
        Column("Site", lambda r: r.site, width=18),
        Column("Switch", lambda r: r.switch, width=22),
        Column("Model", lambda r: r.model, width=22),
        Column("Budget (W)", lambda r: r.budget_w, FLOAT, width=11),
        Column("Used (W)", lambda r: r.used_w, FLOAT, width=10),
        Column("Available (W)", lambda r: r.available_w, FLOAT, width=13),
        Column("Used (%)", lambda r: r.percent, FLOAT, width=10),
        Column("Powered ports", lambda r: r.ports_powered, INT, width=13),
        Column("State", lambda r: r.state.value, width=10),
    ),
}


def rows_of(summary: FleetSummary, report: Report) -> Sequence[Any]:
    return {
        Report.FIRMWARE: summary.firmware.rows,
        Report.CLOCK: summary.clock.rows,
        Report.RECORDING: summary.recording.rows,
        Report.POE: summary.poe.rows,
    }[report]


def fleet_xlsx(summary: FleetSummary, reports: Iterable[Report] = tuple(Report)) -> bytes:
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for report in reports:
        write_sheet(wb, report.value, COLUMNS[report], rows_of(summary, report))
    wb.properties.title = f"Fleet report: {summary.customer}"
    wb.properties.subject = ", ".join(TITLES[r] for r in reports)
    wb.properties.creator = "asbuilt"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fleet_csv(summary: FleetSummary, report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS[report]])
    for row in rows_of(summary, report):
        writer.writerow([csv_text(c.value(row)) for c in COLUMNS[report]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
