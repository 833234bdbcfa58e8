"""Exports of the as-built record: XLSX (one sheet per topic), CSV (devices), JSON (record + snapshot).

Pure: a record (and for JSON the snapshot) in, bytes out. Why openpyxl: typed cells (numbers stay
numbers, timestamps are Excel dates), frozen panes, autofilter and column widths, pure Python.

Each sheet is a list of ``Column`` (header, how to read the value, Excel number format, width), so
the CSV and the XLSX device lists cannot drift apart. Cells a spreadsheet would run as a formula
(text starting with =, +, -, @) are kept as text: a device name is data, never a formula.
Nothing here can hold a secret: the record has none, and the snapshot's stream and service URIs
lose any user:password@ part.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from collector.documents.build import without_userinfo
from collector.documents.model import (
    AsBuiltRecord,
    ChannelEntry,
    DeviceEntry,
    PortEntry,
    RecorderEntry,
    SwitchEntry,
)
from drivers.schema import Device, Snapshot

EXPORT_FORMAT = "asbuilt.export/1"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INT, FLOAT, DATE = "0", "0.0", "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)

Cell = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Cell]
    number_format: str | None = None
    width: int = 14


def _excel_time(value: datetime | None) -> datetime | None:
    """Excel has no time zones: UTC wall time, said so in the header."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _names(record: AsBuiltRecord) -> dict[str, str]:
    return {d.id: d.name for d in record.devices}


# ---------------------------------------------------------------- the columns, one list per sheet

DEVICE_COLUMNS: tuple[Column, ...] = (
    Column("Name", lambda d: d.name, width=18),
    Column("Role", lambda d: d.role, width=10),
    Column("Vendor", lambda d: d.vendor, width=14),
    Column("Model", lambda d: d.model, width=22),
    Column("Serial", lambda d: d.serial, width=36),
    Column("Firmware", lambda d: d.firmware, width=20),
    Column("IP", lambda d: d.ip, width=15),
    Column("MAC", lambda d: d.mac, width=18),
    Column("Switch", lambda d: d.switch_name, width=12),
    Column("Port", lambda d: d.port, width=22),
    Column("VLAN", lambda d: d.vlan, INT, 7),
    Column("PoE status", lambda d: d.poe_status, width=11),
    Column("PoE class", lambda d: d.poe_class, INT, 9),
    Column("PoE (W)", lambda d: d.poe_w, FLOAT, 9),
    Column("Shared port", lambda d: d.shares_port, width=11),
    Column("Recorder channel", lambda d: d.channels_text, width=18),
    Column("Placement", lambda d: d.where, width=30),
    Column("Change since baseline", lambda d: d.highlight.value if d.highlight else None, width=12),
    Column("Device id", lambda d: d.id, width=30),
)

PORT_COLUMNS: tuple[Column, ...] = (
    Column("Switch", lambda sp: sp[0].name, width=12),
    Column("Port", lambda sp: sp[1].name, width=22),
    Column("Description", lambda sp: sp[1].alias, width=18),
    Column("Up", lambda sp: sp[1].up, width=6),
    Column("Speed (Mbit/s)", lambda sp: sp[1].speed_mbps, INT, 10),
    Column("VLAN", lambda sp: sp[1].vlan, INT, 7),
    Column("PoE status", lambda sp: sp[1].poe_status, width=11),
    Column("PoE class", lambda sp: sp[1].poe_class, INT, 9),
    Column("PoE (W)", lambda sp: sp[1].poe_w, FLOAT, 9),
    Column("Uplink", lambda sp: sp[1].uplink, width=8),
    Column("LLDP neighbour", lambda sp: sp[1].neighbour, width=22),
    Column("Devices", lambda sp: ", ".join(sp[2].get(i, i) for i in sp[1].device_ids) or None, width=28),
    Column("Unknown MACs", lambda sp: ", ".join(sp[1].unknown_macs) or None, width=20),
)

RECORDER_COLUMNS: tuple[Column, ...] = (
    Column("Recorder", lambda rc: rc[0].name, width=12),
    Column("Model", lambda rc: " ".join(p for p in (rc[0].vendor, rc[0].model) if p) or None, width=26),
    Column("Serial", lambda rc: rc[0].serial, width=30),
    Column("Channel", lambda rc: rc[1].channel, INT, 8),
    Column("Channel name", lambda rc: rc[1].name, width=16),
    Column("Camera", lambda rc: rc[1].camera_name, width=16),
    Column("Camera address", lambda rc: rc[1].source_address, width=15),
    Column("Retention (days)", lambda rc: rc[1].retention_days, INT, 10),
    Column("Recording mode", lambda rc: rc[1].recording_mode or "not reported", width=14),
    Column("Main stream", lambda rc: rc[1].streams[0].text if rc[1].streams else None, width=34),
    Column("Second stream", lambda rc: rc[1].streams[1].text if len(rc[1].streams) > 1 else None, width=34),
)

STREAM_COLUMNS: tuple[Column, ...] = (
    Column("Device", lambda s: s.device_name, width=16),
    Column("Profile", lambda s: s.token, width=12),
    Column("Name", lambda s: s.name, width=14),
    Column("Encoding", lambda s: s.encoding, width=9),
    Column("Width", lambda s: s.width, INT, 7),
    Column("Height", lambda s: s.height, INT, 7),
    Column("Frame rate (fps)", lambda s: s.frame_rate, FLOAT, 10),
    Column("Bit rate (kbit/s)", lambda s: s.bitrate_kbps, INT, 11),
    Column("GOV length", lambda s: s.gov_length, INT, 9),
    Column("Codec profile", lambda s: s.codec_profile, width=10),
    Column("Stream URI", lambda s: s.uri, width=44),
    Column("Device id", lambda s: s.device_id, width=30),
)


def _change_columns(record: AsBuiltRecord) -> tuple[Column, ...]:
    scanned = _excel_time(record.scan.finished_at)
    return (
        Column("Change", lambda c: c.kind, width=10),
        Column("Device", lambda c: c.label, width=40),
        Column("Role", lambda c: c.role, width=10),
        Column("Position", lambda c: c.position, width=26),
        Column("Was at", lambda c: c.old_position, width=26),
        Column("Missing state", lambda c: c.state, width=12),
        Column("Fields changed", lambda c: len(c.fields), INT, 9),
        Column("Summary", lambda c: c.summary, width=80),
        Column("Detected in scan of (UTC)", lambda c: scanned, DATE, 18),
        Column("Device id", lambda c: c.device_id, width=30),
        Column("Replaced device id", lambda c: c.old_device_id, width=30),
    )


def _site_rows(record: AsBuiltRecord) -> list[tuple[str, Cell, str | None]]:
    b = record.baseline
    return [
        ("Customer", record.customer, None),
        ("Site", record.title, None),
        ("Site id", record.site_id, None),
        ("Address", record.address, None),
        ("Record version", record.version, INT),
        ("Content hash", record.content_hash, None),
        ("Scan started (UTC)", _excel_time(record.scan.started_at), DATE),
        ("Scan finished (UTC)", _excel_time(record.scan.finished_at), DATE),
        ("Baseline version", b.version if b else None, INT),
        ("Baseline approved by", b.approved_by if b else None, None),
        ("Baseline approved at (UTC)", _excel_time(b.approved_at) if b else None, DATE),
        ("Document generated (UTC)", _excel_time(record.generated_at), DATE),
    ]


# ---------------------------------------------------------------- XLSX


def _safe_text(value: Cell) -> Cell:
    """Text a spreadsheet would evaluate as a formula gets a leading quote mark (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _xlsx_value(value: Cell) -> Cell:
    # XLSX cannot hold control characters (openpyxl refuses them): a hostile name loses them.
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return _safe_text(value)


def _sheet(wb: Workbook, title: str, columns: Sequence[Column], items: Iterable[Any]) -> None:
    ws = wb.create_sheet(title)
    ws.append([c.header for c in columns])
    rows = 1
    for item in items:
        ws.append([_xlsx_value(c.value(item)) for c in columns])
        rows += 1
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        if column.number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = column.number_format
    for cell in ws[1]:
        cell.font = HEADER_FONT
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows}"


def record_xlsx(record: AsBuiltRecord) -> bytes:
    """The record as a workbook: site, devices, ports, recorders, streams, changes."""
    wb = Workbook()
    site = wb.active
    assert site is not None  # a new workbook has one sheet
    site.title = "site"
    for label, value, number_format in _site_rows(record):
        site.append([label, _xlsx_value(value)])
        if number_format:
            site.cell(row=site.max_row, column=2).number_format = number_format
    site.column_dimensions["A"].width = 28
    site.column_dimensions["B"].width = 66
    names = _names(record)
    _sheet(wb, "devices", DEVICE_COLUMNS, record.devices)
    _sheet(wb, "ports", PORT_COLUMNS, _port_rows(record.switches, names))
    _sheet(wb, "recorders", RECORDER_COLUMNS, _channel_rows(record.recorders))
    _sheet(wb, "streams", STREAM_COLUMNS, record.streams)
    _sheet(wb, "changes", _change_columns(record), record.changes.entries if record.changes else ())
    wb.properties.title = f"As-built record: {record.title}"
    wb.properties.subject = record.customer
    wb.properties.creator = "asbuilt"
    wb.properties.created = _excel_time(record.generated_at)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _port_rows(
    switches: Iterable[SwitchEntry], names: dict[str, str]
) -> Iterable[tuple[SwitchEntry, PortEntry, dict[str, str]]]:
    return ((sw, port, names) for sw in switches for port in sw.ports)


def _channel_rows(recorders: Iterable[RecorderEntry]) -> Iterable[tuple[RecorderEntry, ChannelEntry]]:
    return ((rec, ch) for rec in recorders for ch in rec.channels)


# ---------------------------------------------------------------- CSV


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(_safe_text(value))


def write_devices_csv(record: AsBuiltRecord, out: IO[str]) -> None:
    """The device schedule as CSV (UTF-8, header row) into a text stream."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in DEVICE_COLUMNS])
    for d in record.devices:
        writer.writerow([_csv_text(c.value(d)) for c in DEVICE_COLUMNS])


def devices_csv(record: AsBuiltRecord) -> bytes:
    """The device schedule as CSV bytes, with a UTF-8 BOM so spreadsheets read non-Latin names right."""
    out = io.StringIO()
    write_devices_csv(record, out)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_row(device: DeviceEntry) -> list[str]:
    """One device as its CSV row (what ``devices_csv`` writes), for readers and tests."""
    return [_csv_text(c.value(device)) for c in DEVICE_COLUMNS]


# ---------------------------------------------------------------- JSON


def redacted_snapshot(snapshot: Snapshot) -> Snapshot:
    """The snapshot with any user:password@ taken out of stream and service URIs."""
    return snapshot.model_copy(update={"devices": tuple(_redacted_device(d) for d in snapshot.devices)})


def _redacted_device(d: Device) -> Device:
    if d.onvif is None:
        return d
    profiles = tuple(
        p.model_copy(update={"stream_uri": without_userinfo(p.stream_uri)}) for p in d.onvif.profiles
    )
    services = tuple(
        s.model_copy(update={"xaddr": without_userinfo(s.xaddr) or ""}) for s in d.onvif.services
    )
    return d.model_copy(
        update={"onvif": d.onvif.model_copy(update={"profiles": profiles, "services": services})}
    )


def export_json(record: AsBuiltRecord, snapshot: Snapshot | None = None) -> bytes:
    """The record (and the snapshot it was built from) as one JSON document."""
    data: dict[str, Any] = {"format": EXPORT_FORMAT, "record": record.model_dump(mode="json")}
    if snapshot is not None:
        data["snapshot"] = redacted_snapshot(snapshot).model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


async def record_xlsx_async(record: AsBuiltRecord) -> bytes:
    return await asyncio.to_thread(record_xlsx, record)


# For other tabular deliverables (the fleet reports): the same sheet layout and cell safety.
write_sheet = _sheet
csv_text = _csv_text
