"""XLSX opened with openpyxl and read cell by cell; CSV and JSON read back; no secret in any export."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from collector.documents import AsBuiltRecord, devices_csv, export_json, record_xlsx, wiring_svg
from collector.documents.exports import DEVICE_COLUMNS, csv_row, record_xlsx_async
from collector.documents.pdf import handover_html
from drivers.schema import Snapshot
from tests.documents.conftest import CUSTOMER_JA, GENERATED_AT, Site, make_record

SHEETS = ["site", "devices", "ports", "recorders", "streams", "changes"]
PLANTED = "Planted-Pa55word-4417"


def sheet(data: bytes, name: str) -> Worksheet:
    ws = _workbook(data)[name]
    assert isinstance(ws, Worksheet)
    return ws


@functools.cache
def _workbook(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))  # read-only use in the tests: one parse per workbook


def rows(ws: Worksheet) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


@pytest.fixture(scope="module")
def large_xlsx(large: Site) -> bytes:
    return record_xlsx(large.record)


def test_one_sheet_per_topic_with_frozen_header_and_filter(large: Site, large_xlsx: bytes) -> None:
    wb = _workbook(large_xlsx)
    assert wb.sheetnames == SHEETS
    expected_rows = {
        "devices": len(large.record.devices),
        "ports": sum(len(s.ports) for s in large.record.switches),
        "recorders": sum(len(r.channels) for r in large.record.recorders),
        "streams": len(large.record.streams),
        "changes": len(large.diff.changes),
    }
    for name, count in expected_rows.items():
        ws = wb[name]
        assert ws.max_row == count + 1, f"{name}: {ws.max_row - 1} rows, expected {count}"
        assert ws.freeze_panes == "A2", f"{name}: header not frozen"
        assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=ws.max_column).column_letter}{count + 1}"
        assert all(cell.font.bold for cell in ws[1])
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])


def test_device_rows_cell_by_cell_with_their_types(large: Site, large_xlsx: bytes) -> None:
    ws = sheet(large_xlsx, "devices")
    assert [c.value for c in ws[1]] == [c.header for c in DEVICE_COLUMNS]
    read = rows(ws)
    assert [r["Device id"] for r in read] == [d.id for d in large.record.devices]
    for row, device in zip(read, large.record.devices, strict=True):
        assert (row["Serial"], row["MAC"], row["IP"], row["Firmware"]) == (
            device.serial,
            device.mac,
            device.ip,
            device.firmware,
        )
        assert row["VLAN"] == device.vlan and row["PoE (W)"] == device.poe_w
        assert row["Shared port"] is device.shares_port
    cam = next(r for r in read if r["Name"] == "cam-001")
    assert isinstance(cam["VLAN"], int) and isinstance(cam["PoE (W)"], float)
    vlan_col = [c.header for c in DEVICE_COLUMNS].index("VLAN") + 1
    assert ws.cell(row=2 + read.index(cam), column=vlan_col).number_format == "0"
    changed = {r["Name"]: r["Change since baseline"] for r in read if r["Change since baseline"]}
    assert (
        changed["cam-201"] == "added" and changed["cam-050"] == "replaced" and changed["cam-100"] == "moved"
    )


def test_numbers_are_numbers_and_times_are_dates(large: Site, large_xlsx: bytes) -> None:
    site = {r[0].value: r[1] for r in sheet(large_xlsx, "site").iter_rows()}
    assert site["Customer"].value == CUSTOMER_JA
    assert site["Record version"].value == 2 and site["Baseline version"].value == 1
    started = site["Scan started (UTC)"]
    assert isinstance(started.value, datetime) and started.is_date
    assert started.value == large.record.scan.started_at.replace(tzinfo=None).replace(
        microsecond=started.value.microsecond
    )
    assert site["Document generated (UTC)"].value == GENERATED_AT.replace(tzinfo=None)
    channels = rows(sheet(large_xlsx, "recorders"))
    first = next(c for c in channels if c["Recorder"] == "nvr-01" and c["Channel"] == 1)
    assert (first["Camera"], first["Retention (days)"]) == ("cam-001", 30)
    streams = rows(sheet(large_xlsx, "streams"))
    main = next(s for s in streams if s["Device"] == "cam-001" and s["Profile"] == "profile_1")
    assert (main["Width"], main["Height"], main["Bit rate (kbit/s)"], main["Frame rate (fps)"]) == (
        1920,
        1080,
        4096,
        25.0,
    )
    changes = rows(sheet(large_xlsx, "changes"))
    assert {c["Change"] for c in changes} == {"added", "missing", "replaced", "moved", "changed"}
    assert all(isinstance(c["Detected in scan of (UTC)"], datetime) for c in changes)
    ports = rows(sheet(large_xlsx, "ports"))
    uplink = next(p for p in ports if p["Switch"] == "sw-01" and p["Port"] == "GigabitEthernet1/0/47")
    assert (
        uplink["Uplink"] is True
        and uplink["LLDP neighbour"] == "sw-02 48"
        and uplink["Speed (Mbit/s)"] == 1000
    )


def test_csv_round_trip(small: Site) -> None:
    data = devices_csv(small.record)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets then read the Japanese names right
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read[0] == [c.header for c in DEVICE_COLUMNS]
    assert read[1:] == [csv_row(d) for d in small.record.devices]
    by_name = {r[0]: dict(zip(read[0], r, strict=True)) for r in read[1:]}
    assert by_name["cam-entrance"]["Serial"] == "ACCC8E5A0101" and by_name["cam-entrance"]["PoE (W)"] == "6.1"


def test_json_round_trip_to_the_record_and_the_snapshot(small: Site) -> None:
    data = json.loads(export_json(small.record, small.current))
    assert data["format"] == "asbuilt.export/1"
    assert AsBuiltRecord.model_validate(data["record"]) == small.record
    assert Snapshot.model_validate(data["snapshot"]).content_hash() == small.current.content_hash()


def test_formula_looking_names_stay_text(small: Site) -> None:
    cam = small.current.devices[0]
    evil = '=HYPERLINK("http://x.invalid","click")\x07'
    hostile = cam.model_copy(update={"identity": cam.identity.model_copy(update={"hostname": evil})})
    snapshot = small.current.model_copy(update={"devices": (hostile, *small.current.devices[1:])})
    record = make_record(snapshot, None)
    ws = sheet(record_xlsx(record), "devices")
    cell = next(c for (c,) in ws.iter_rows(min_row=2, max_col=1) if "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and str(cell.value).startswith("'=")
    assert "\x07" not in str(cell.value)
    csv_text = devices_csv(record).decode("utf-8-sig")
    assert "\n'=HYPERLINK" in csv_text.replace('"', "")


def _with_planted_secret(snapshot: Snapshot) -> Snapshot:
    """A bad agent put a password into a camera's stream and service URIs (the contract forbids it)."""
    devices = []
    for d in snapshot.devices:
        if d.onvif is not None and d.onvif.profiles:
            profiles = tuple(
                p.model_copy(update={"stream_uri": f"rtsp://admin:{PLANTED}@10.77.0.21:554/s1"})
                for p in d.onvif.profiles
            )
            services = tuple(
                s.model_copy(update={"xaddr": f"http://admin:{PLANTED}@10.77.0.21/onvif/device_service"})
                for s in d.onvif.services
            )
            d = d.model_copy(
                update={"onvif": d.onvif.model_copy(update={"profiles": profiles, "services": services})}
            )
        devices.append(d)
    return snapshot.model_copy(update={"devices": tuple(devices)})


async def test_no_export_holds_a_secret(small: Site) -> None:
    snapshot = _with_planted_secret(small.current)
    assert PLANTED in snapshot.canonical_json()  # the planted value is really there to leak
    record = make_record(snapshot, small.diff)
    secrets = {PLANTED, *small.lab_secrets()}
    xlsx = await record_xlsx_async(record)
    shared_strings = load_workbook(io.BytesIO(xlsx))
    cells = " ".join(str(c.value) for ws in shared_strings.worksheets for row in ws.iter_rows() for c in row)
    outputs = {
        "xlsx": cells,
        "csv": devices_csv(record).decode("utf-8-sig"),
        "json": export_json(record, snapshot).decode(),
        "svg": wiring_svg(record).decode(),
        "html": handover_html(record, diagrams=[]),
    }
    leaks = [f"{kind} holds {s!r}" for kind, text in outputs.items() for s in secrets if s in text]
    assert leaks == []
    assert "rtsp://10.77.0.21:554/s1" in outputs["json"]  # the URI stays, only the login went
