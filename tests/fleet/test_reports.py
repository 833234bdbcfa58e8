"""The fleet reports computed from crafted snapshots: firmware currency across sites and vendor
version strings, clock skew with NTP servers, recording drift against the baseline, PoE budget;
the charts escape what devices say; the XLSX and CSV opened and read cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from collector.fleet import charts, versions
from collector.fleet.reports import (
    ClockState,
    DriftKind,
    FleetSite,
    PoeState,
    Report,
    build_fleet,
    clock_skew,
    firmware_currency,
    poe_budget,
    recording_drift,
)
from collector.fleet.tables import fleet_csv, fleet_xlsx
from drivers.schema import RecorderChannel, RecorderInfo
from tests.collector.factory import SW_CORE, camera, depot, device, edit, with_devices

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("10.11.87", "10.12.182"),
        ("10.12.9", "10.12.182"),  # numbers, not text ("9" > "182" as text)
        ("V5.7.3 build 220112", "V5.7.10 build 220819"),
        ("V5.7.3 build 220112", "V5.7.3 build 230101"),
        ("2.800.0000000.16.R", "2.800.0000000.18.R"),
        ("2.21.02_20230420", "2.21.03_20230901"),
        ("1.2.0rc1", "1.2.0"),  # PEP 440 where both parse
        ("15.2(7)E7", "15.2(7)E8"),
    ],
)
def test_firmware_versions_compare_sensibly(older: str, newer: str) -> None:
    assert versions.compare(older, newer) == -1
    assert versions.compare(newer, older) == 1
    assert versions.compare(newer, newer) == 0
    assert versions.newest([older, newer, older]) == newer


def two_sites() -> list[FleetSite]:
    """The depot and a second site of the same customer; the same model runs three firmwares."""
    a = depot(site_id="depot-a")
    gate = device(a, "cam-gate")
    yard = camera("cam-yard-east", "c0:56:e3:44:20:02", "10.77.0.62", port=2, firmware="V5.7.3 build 220112")
    a = with_devices(a, yard)
    b = depot(site_id="depot-b")
    newer = edit(device(b, "cam-gate"), identity__firmware="V5.8.0 build 230101")
    skewed = edit(
        device(b, "cam-entrance"), onvif=edit(device(b, "cam-entrance").onvif, clock_offset_s=7200.0)
    )
    ntp = edit(device(b, "cam-parking"), network__ntp=("10.77.0.1",))
    b = with_devices(b, newer, skewed, ntp)
    assert gate.identity.firmware == "V5.7.10 build 220819"
    return [FleetSite("depot-a", "A", 1, a), FleetSite("depot-b", "B", 3, b)]


def test_firmware_currency_names_every_camera_older_than_the_newest_of_its_model() -> None:
    report = firmware_currency(two_sites())
    model = next(m for m in report.models if m.model == "DS-2CD2T47G2-L")
    assert model.newest == "V5.8.0 build 230101"
    assert list(model.versions) == ["V5.7.3 build 220112", "V5.7.10 build 220819", "V5.8.0 build 230101"]
    old = [(r.site, r.device, r.firmware) for r in report.rows if r.outdated and r.model == "DS-2CD2T47G2-L"]
    current = [(r.site, r.device) for r in report.rows if not r.outdated and r.model == "DS-2CD2T47G2-L"]
    assert current == [("depot-b", "cam-gate")]
    assert ("depot-a", "cam-yard-east", "V5.7.3 build 220112") in old
    assert ("depot-a", "cam-gate", "V5.7.10 build 220819") in old
    assert model.outdated == len(old) == model.devices - 1
    assert report.rows[0].outdated  # outdated first
    assert report.models[0].outdated >= report.models[-1].outdated


def test_clock_skew_worst_first_with_ntp_servers() -> None:
    report = clock_skew(two_sites())
    worst = report.rows[0]
    assert (worst.site, worst.device, worst.offset_s, worst.state) == ("depot-b", "cam-entrance", 7200.0,
                                                                       ClockState.BAD)  # fmt: skip
    assert report.skewed == 1
    assert {r.state for r in report.rows[1:]} == {ClockState.OK}
    parking = next(r for r in report.rows if r.device == "cam-parking" and r.site == "depot-b")
    assert parking.ntp == ("10.77.0.1",) and worst.ntp_text == "none configured"
    assert report.ntp_servers["10.77.0.1"] == 1 and report.ntp_servers[""] == len(report.rows) - 1


def test_recording_drift_against_the_baseline() -> None:
    base = depot(site_id="depot-a")
    nvr = device(base, "nvr-main")
    channels = (
        RecorderChannel(channel=1, recording_days=30, recording_token="rec1"),
        RecorderChannel(channel=2, recording_days=30, recording_token="rec2"),
        RecorderChannel(channel=3, recording_days=14, recording_token="rec3"),
    )
    base = with_devices(base, edit(nvr, recorder=RecorderInfo(channel_count=16, channels=channels)))
    now_channels = (
        RecorderChannel(channel=1, recording_days=7, recording_token="rec1"),  # retention cut
        RecorderChannel(channel=2, recording_days=30),  # recording off
    )  # channel 3 gone
    entrance = device(base, "cam-entrance")
    assert entrance.onvif is not None
    profile = entrance.onvif.profiles[0]
    assert profile.video_encoder is not None
    slower = edit(profile, video_encoder=edit(profile.video_encoder, frame_rate=10, bitrate_kbps=1024))
    latest = with_devices(
        base,
        edit(nvr, recorder=RecorderInfo(channel_count=16, channels=now_channels)),
        edit(entrance, onvif=edit(entrance.onvif, profiles=(slower,))),
        drop=[device(base, "cam-parking").id],
    )
    sites = [
        FleetSite("depot-a", None, 2, latest, 1, base),
        FleetSite("depot-b", None, 1, depot(site_id="depot-b")),
    ]
    report = recording_drift(sites)
    got = {(r.device, r.kind, r.what, r.baseline, r.now) for r in report.rows}
    assert got == {
        ("nvr-main", DriftKind.RETENTION, "channel 1 retention", "30 days", "7 days"),
        ("nvr-main", DriftKind.RECORDING, "channel 2 recording", "on", "off"),
        ("nvr-main", DriftKind.RECORDING, "channel 3", "recorded", "no longer configured"),
        ("cam-entrance", DriftKind.STREAM, "Main: frame rate", "25 fps", "10 fps"),
        ("cam-entrance", DriftKind.STREAM, "Main: bit rate", "4096 kbit/s", "1024 kbit/s"),
        ("cam-parking", DriftKind.MISSING, "camera", "present", "not in the latest scan"),
    }
    assert report.compared == ("depot-a",) and report.without_baseline == ("depot-b",)


def test_poe_budget_used_against_available() -> None:
    snap = depot(site_id="depot-a")
    core = device(snap, "sw-core")
    assert core.switch is not None
    drawn = sum((p.poe.power_w or 0) for p in core.switch.ports if p.poe)
    full = edit(core, switch=edit(core.switch, poe_budget_w=drawn * 1.1))
    snap = with_devices(snap, full)
    report = poe_budget([FleetSite("depot-a", None, 1, snap)])
    top = report.rows[0]
    assert (top.device_id, top.state) == (SW_CORE, PoeState.HIGH)
    assert top.used_w == round(drawn, 1) and top.available_w == round(drawn * 1.1 - drawn, 1)
    assert top.percent == round(100 / 1.1, 1)
    over = edit(full, switch=edit(full.switch, poe_consumption_w=drawn * 2))
    again = poe_budget([FleetSite("depot-a", None, 1, with_devices(snap, over))]).rows[0]
    assert again.state is PoeState.OVER and again.used_w == round(drawn * 2, 1)


def test_charts_escape_device_text() -> None:
    snap = depot(site_id="depot-a")
    evil = camera("<script>alert(1)</script>", "c0:56:e3:44:99:99", "10.77.0.99", model='X"><svg onload=1>')
    sites = [
        FleetSite(
            "depot-a", None, 1, with_devices(snap, edit(evil, onvif=edit(evil.onvif, clock_offset_s=99)))
        )
    ]
    summary = build_fleet("C", 1, sites, NOW)
    for svg in (charts.firmware_chart(summary.firmware), charts.clock_chart(summary.clock),
                charts.poe_chart(summary.poe), charts.recording_chart(summary.recording)):  # fmt: skip
        assert svg.startswith("<svg") and "<script" not in svg and "<svg onload" not in svg
    assert "&lt;script&gt;" in charts.clock_chart(summary.clock)


def test_xlsx_and_csv_cell_by_cell() -> None:
    summary = build_fleet("Meridian", 7, two_sites(), NOW)
    wb = openpyxl.load_workbook(io.BytesIO(fleet_xlsx(summary)))
    assert wb.sheetnames == ["firmware", "clock", "recording", "poe"]
    fw = wb["firmware"]
    headers = [
        "Site",
        "Device",
        "Role",
        "Vendor",
        "Model",
        "Serial",
        "IP",
        "Firmware",
        "Newest seen",
        "Outdated",
    ]
    assert [c.value for c in fw[1]] == headers
    assert fw.freeze_panes == "A2" and fw.auto_filter.ref == f"A1:J{len(summary.firmware.rows) + 1}"
    first = summary.firmware.rows[0]
    want = [first.site, first.device, first.role, first.vendor, first.model, first.serial, first.ip,
            first.firmware, first.newest, True]  # fmt: skip
    assert [c.value for c in fw[2]] == want
    clock = wb["clock"]
    assert clock["F2"].value == 7200.0 and clock["F2"].number_format == "0.0"
    assert clock["G2"].value == "bad" and clock["H2"].value == "none configured"
    poe = wb["poe"]
    row = summary.poe.rows[0]
    assert [c.value for c in poe[2]][3:8] == [row.budget_w, row.used_w, row.available_w, row.percent,
                                             row.ports_powered]  # fmt: skip
    assert poe["D2"].data_type == "n" and poe["H2"].data_type == "n" and poe["B2"].data_type == "s"
    assert wb["recording"].max_row == 1  # no baseline in these sites: the header only
    body = fleet_csv(summary, Report.CLOCK)
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0][:6] == ["Site", "Device", "Role", "Model", "IP", "Offset (s)"]
    assert lines[1][:2] == ["depot-b", "cam-entrance"] and lines[1][5] == "7200.0" and lines[1][6] == "bad"
    assert len(lines) == len(summary.clock.rows) + 1
