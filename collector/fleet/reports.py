"""The four fleet reports, pure: from each site's latest snapshot (and approved baseline) to rows.

``FleetSite`` is what the service hands in; every function returns frozen models the API returns
as JSON, the page shows as tables and charts, and ``tables`` writes to XLSX/CSV.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from collector.documents.build import device_name
from collector.fleet import versions
from drivers.schema import Device, MediaProfile, RecorderChannel, Role, Snapshot

SKEW_WARN_S = 5.0  # a camera clock this far off already breaks footage timelines and digest auth
SKEW_BAD_S = 60.0
POE_HIGH_PERCENT = 80.0  # little headroom left for one more camera or a heater in winter


class Report(StrEnum):
    FIRMWARE = "firmware"
    CLOCK = "clock"
    RECORDING = "recording"
    POE = "poe"


TITLES = {
    Report.FIRMWARE: "Firmware currency",
    Report.CLOCK: "Clock skew",
    Report.RECORDING: "Recording drift",
    Report.POE: "PoE budget",
}


@dataclass(frozen=True)
class FleetSite:
    slug: str
    name: str | None
    version: int
    snapshot: Snapshot
    baseline_version: int | None = None
    baseline: Snapshot | None = None


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------- firmware currency


class FirmwareRow(Row):
    site: str
    device_id: str
    device: str
    role: str
    vendor: str
    model: str
    serial: str | None
    ip: str | None
    firmware: str
    newest: str
    outdated: bool


class FirmwareModel(Row):
    vendor: str
    model: str
    newest: str
    devices: int
    outdated: int
    versions: dict[str, int]  # firmware → how many, oldest first


class FirmwareReport(Row):
    models: tuple[FirmwareModel, ...]
    rows: tuple[FirmwareRow, ...]  # outdated first, then by model and site

    @property
    def outdated(self) -> int:
        return sum(m.outdated for m in self.models)


def _model_key(device: Device) -> tuple[str, str] | None:
    ident = device.identity
    if not ident.model or not ident.firmware:
        return None
    return ((ident.vendor or "unknown").strip(), ident.model.strip())


def firmware_currency(sites: Sequence[FleetSite]) -> FirmwareReport:
    """Per model (vendor + model, as reported), the newest firmware seen anywhere in the fleet and
    every device that runs an older one. Switches count too: they are firmware to keep current."""
    seen: dict[tuple[str, str], list[tuple[FleetSite, Device]]] = defaultdict(list)
    for site in sites:
        for device in site.snapshot.devices:
            key = _model_key(device)
            if key is not None:
                seen[(key[0].lower(), key[1].lower())].append((site, device))
    models: list[FirmwareModel] = []
    rows: list[FirmwareRow] = []
    for members in seen.values():
        vendor, model = _model_key(members[0][1]) or ("", "")
        fws = [d.identity.firmware or "" for _, d in members]
        top = versions.newest(fws) or ""
        counts: dict[str, int] = defaultdict(int)
        for fw in fws:
            counts[fw] += 1
        ordered = dict(sorted(counts.items(), key=lambda kv: versions.sort_key(kv[0])))
        outdated = 0
        for site, device in members:
            fw = device.identity.firmware or ""
            old = versions.compare(fw, top) < 0
            outdated += old
            rows.append(
                FirmwareRow(
                    site=site.slug, device_id=device.id, device=device_name(device), role=device.role.value,
                    vendor=vendor, model=model, serial=device.identity.serial, ip=device.network.ip,
                    firmware=fw, newest=top, outdated=old,
                )
            )  # fmt: skip
        models.append(FirmwareModel(vendor=vendor, model=model, newest=top, devices=len(members),
                                    outdated=outdated, versions=ordered))  # fmt: skip
    models.sort(key=lambda m: (-m.outdated, m.vendor.lower(), m.model.lower()))
    rows.sort(key=lambda r: (not r.outdated, r.vendor.lower(), r.model.lower(), r.site, r.device))
    return FirmwareReport(models=tuple(models), rows=tuple(rows))


# ---------------------------------------------------------------- clock skew


class ClockState(StrEnum):
    OK = "ok"
    SKEWED = "skewed"  # more than SKEW_WARN_S off
    BAD = "bad"  # more than SKEW_BAD_S off
    UNKNOWN = "unknown"  # the scan could not read the clock


class ClockRow(Row):
    site: str
    device_id: str
    device: str
    role: str
    model: str | None
    ip: str | None
    offset_s: float | None
    state: ClockState
    ntp: tuple[str, ...]

    @property
    def ntp_text(self) -> str:
        return ", ".join(self.ntp) if self.ntp else "none configured"


class ClockReport(Row):
    rows: tuple[ClockRow, ...]  # worst first
    ntp_servers: dict[str, int]  # server → devices using it ("" = none configured)

    @property
    def skewed(self) -> int:
        return sum(r.state in (ClockState.SKEWED, ClockState.BAD) for r in self.rows)


def clock_state(offset_s: float | None) -> ClockState:
    if offset_s is None:
        return ClockState.UNKNOWN
    if abs(offset_s) > SKEW_BAD_S:
        return ClockState.BAD
    return ClockState.SKEWED if abs(offset_s) > SKEW_WARN_S else ClockState.OK


def clock_skew(sites: Sequence[FleetSite]) -> ClockReport:
    """Every ONVIF device's clock offset as the scan read it (device minus agent), with its NTP servers."""
    rows: list[ClockRow] = []
    servers: dict[str, int] = defaultdict(int)
    for site in sites:
        for device in site.snapshot.devices:
            if device.onvif is None:
                continue
            offset = device.onvif.clock_offset_s
            ntp = tuple(device.network.ntp)
            for server in ntp or ("",):
                servers[server] += 1
            rows.append(
                ClockRow(
                    site=site.slug, device_id=device.id, device=device_name(device), role=device.role.value,
                    model=device.identity.model, ip=device.network.ip,
                    offset_s=None if offset is None else round(offset, 1), state=clock_state(offset), ntp=ntp,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.offset_s is None, -abs(r.offset_s or 0.0), r.site, r.device))
    return ClockReport(rows=tuple(rows), ntp_servers=dict(sorted(servers.items())))


# ---------------------------------------------------------------- recording-integrity drift


class DriftKind(StrEnum):
    RETENTION = "retention"
    RECORDING = "recording"  # a channel's recording set up / gone
    STREAM = "stream"
    MISSING = "missing"  # a recorder or camera of the baseline not in the latest scan


class DriftRow(Row):
    site: str
    device_id: str
    device: str
    kind: DriftKind
    what: str
    baseline: str
    now: str


class RecordingReport(Row):
    rows: tuple[DriftRow, ...]
    compared: tuple[str, ...]  # sites compared against their baseline
    without_baseline: tuple[str, ...]  # sites that have no approved baseline yet


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


STREAM_FIELDS = (
    ("encoding", "encoding", ""),
    ("resolution", None, ""),
    ("frame_rate", "frame rate", " fps"),
    ("bitrate_kbps", "bit rate", " kbit/s"),
    ("gov_length", "GOP length", ""),
    ("profile", "codec profile", ""),
)


def _stream_changes(old: MediaProfile, new: MediaProfile) -> Iterable[tuple[str, str, str]]:
    a, b = old.video_encoder, new.video_encoder
    if a is None or b is None:
        return
    label = old.name or old.token
    for field, words, unit in STREAM_FIELDS:
        if field == "resolution":
            before = f"{a.width}×{a.height}" if a.width and a.height else None
            after = f"{b.width}×{b.height}" if b.width and b.height else None
            words = "resolution"
        else:
            before, after = getattr(a, field), getattr(b, field)
        if before != after:
            yield (f"{label}: {words}", _text(before) + (unit if before is not None else ""),
                   _text(after) + (unit if after is not None else ""))  # fmt: skip


def _channel_changes(
    old: RecorderChannel | None, new: RecorderChannel | None, number: int
) -> Iterable[tuple[DriftKind, str, str, str]]:
    if new is None:
        yield (DriftKind.RECORDING, f"channel {number}", "recorded", "no longer configured")
        return
    if old is None:
        yield (DriftKind.RECORDING, f"channel {number}", "not configured", "added")
        return
    if old.recording_days != new.recording_days:
        yield (DriftKind.RETENTION, f"channel {number} retention",
               _text(old.recording_days) + (" days" if old.recording_days is not None else ""),
               _text(new.recording_days) + (" days" if new.recording_days is not None else ""))  # fmt: skip
    if (old.recording_token is None) != (new.recording_token is None):
        yield (DriftKind.RECORDING, f"channel {number} recording",
               "on" if old.recording_token else "off", "on" if new.recording_token else "off")  # fmt: skip


def recording_drift(sites: Sequence[FleetSite]) -> RecordingReport:
    """Retention, channel recording and stream settings of the latest scan against the baseline."""
    rows: list[DriftRow] = []
    compared: list[str] = []
    without: list[str] = []
    for site in sites:
        if site.baseline is None:
            without.append(site.slug)
            continue
        compared.append(site.slug)
        now = {d.id: d for d in site.snapshot.devices}
        for old in site.baseline.devices:
            if old.role not in (Role.CAMERA, Role.RECORDER):
                continue
            new = now.get(old.id)

            def add(
                kind: DriftKind,
                what: str,
                before: str,
                after: str,
                device: Device = old,
                slug: str = site.slug,
            ) -> None:
                rows.append(DriftRow(site=slug, device_id=device.id, device=device_name(device),
                                     kind=kind, what=what, baseline=before, now=after))  # fmt: skip

            if new is None:
                add(DriftKind.MISSING, old.role.value, "present", "not in the latest scan")
                continue
            if old.recorder is not None:
                before = {c.channel: c for c in old.recorder.channels}
                after = {c.channel: c for c in new.recorder.channels} if new.recorder else {}
                for number in sorted(before.keys() | after.keys()):
                    for kind, what, b, a in _channel_changes(before.get(number), after.get(number), number):
                        add(kind, what, b, a, new)
            if old.onvif is not None and new.onvif is not None:
                profiles = {p.token: p for p in new.onvif.profiles}
                for profile in old.onvif.profiles:
                    current = profiles.get(profile.token)
                    if current is None:
                        add(
                            DriftKind.STREAM,
                            f"stream {profile.name or profile.token}",
                            "present",
                            "gone",
                            new,
                        )
                        continue
                    for what, b, a in _stream_changes(profile, current):
                        add(DriftKind.STREAM, what, b, a, new)
    rows.sort(key=lambda r: (r.site, r.device, r.kind.value, r.what))
    return RecordingReport(rows=tuple(rows), compared=tuple(compared), without_baseline=tuple(without))


# ---------------------------------------------------------------- PoE budget


class PoeState(StrEnum):
    OK = "ok"
    HIGH = "high"  # ≥ POE_HIGH_PERCENT of the budget
    OVER = "over"  # more drawn than the budget
    UNKNOWN = "unknown"  # the switch reports no budget


class PoeRow(Row):
    site: str
    device_id: str
    switch: str
    model: str | None
    budget_w: float | None
    used_w: float
    available_w: float | None
    percent: float | None
    ports_powered: int
    state: PoeState


class PoeReport(Row):
    rows: tuple[PoeRow, ...]  # fullest first


def poe_budget(sites: Sequence[FleetSite]) -> PoeReport:
    """Per PoE switch: drawn now (the switch's own total, else the sum of its ports) vs its budget."""
    rows: list[PoeRow] = []
    for site in sites:
        for device in site.snapshot.devices:
            sw = device.switch
            if sw is None:
                continue
            powered = [p.poe for p in sw.ports if p.poe is not None and (p.poe.power_w or 0) > 0]
            if sw.poe_budget_w is None and not powered and sw.poe_consumption_w is None:
                continue  # not a PoE switch
            used = sw.poe_consumption_w
            if used is None:
                used = sum(p.power_w or 0.0 for p in powered)
            budget = sw.poe_budget_w
            percent = round(100.0 * used / budget, 1) if budget else None
            if percent is None:
                state = PoeState.UNKNOWN
            elif percent > 100.0:
                state = PoeState.OVER
            else:
                state = PoeState.HIGH if percent >= POE_HIGH_PERCENT else PoeState.OK
            rows.append(
                PoeRow(
                    site=site.slug, device_id=device.id, switch=device_name(device),
                    model=device.identity.model,
                    budget_w=budget, used_w=round(used, 1),
                    available_w=None if budget is None else round(budget - used, 1),
                    percent=percent, ports_powered=len(powered), state=state,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.percent is None, -(r.percent or 0.0), r.site, r.switch))
    return PoeReport(rows=tuple(rows))


# ---------------------------------------------------------------- all four


class FleetSummary(Row):
    customer: str
    customer_id: int
    generated_at: datetime
    sites: tuple[str, ...]
    firmware: FirmwareReport
    clock: ClockReport
    recording: RecordingReport
    poe: PoeReport


def build_fleet(customer: str, customer_id: int, sites: Sequence[FleetSite], now: datetime) -> FleetSummary:
    return FleetSummary(
        customer=customer, customer_id=customer_id, generated_at=now, sites=tuple(s.slug for s in sites),
        firmware=firmware_currency(sites), clock=clock_skew(sites), recording=recording_drift(sites),
        poe=poe_budget(sites),
    )  # fmt: skip
