"""A site's as-built record as a document: the one view model every deliverable is rendered from.

The handover PDF, the wiring diagram, the XLSX/CSV sheets and the JSON export all read this model and
nothing else, so they cannot disagree. It is built from a snapshot by ``build.build_record``; it holds
no secret (the credentials annex is passed to the PDF renderer separately and never stored here).

Slots the site-record work fills later (floor plans with pins, photos, the quote reconciliation,
service visits) are typed here already and empty until then; documents show "none recorded".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_FORMAT: Literal["asbuilt.record/1"] = "asbuilt.record/1"


class DocModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Highlight(StrEnum):
    """How a device differs from the approved baseline, strongest first (one colour per kind)."""

    REPLACED = "replaced"
    ADDED = "added"
    MOVED = "moved"
    CHANGED = "changed"


# ---------------------------------------------------------------- what the caller knows about the site


class SiteInfo(DocModel):
    """What the collector knows about the site besides the snapshot."""

    customer: str = Field(min_length=1, max_length=200)
    site_id: str = Field(min_length=1, max_length=200)
    site_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    version: int | None = Field(default=None, ge=1, description="Collector version number of the snapshot")
    received_at: datetime | None = None


class BaselineInfo(DocModel):
    version: int = Field(ge=1)
    approved_by: str = Field(max_length=200)
    approved_at: datetime
    note: str | None = Field(default=None, max_length=4000)


# ---------------------------------------------------------------- devices


class ChannelRef(DocModel):
    """A recorder channel that records a camera."""

    recorder_id: str
    recorder_name: str
    channel: int


class Identified(DocModel):
    """What every device entry (schedule row, switch, recorder) starts with."""

    id: str
    name: str
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    ip: str | None = None


class DeviceEntry(Identified):
    """One row of the device schedule."""

    role: str
    mac: str | None = None
    hostname: str | None = None
    switch_id: str | None = None
    switch_name: str | None = None
    port: str | None = None
    vlan: int | None = None
    poe_status: str | None = None
    poe_class: int | None = None
    poe_w: float | None = Field(default=None, description="Power the edge port delivered at scan time")
    shares_port: bool = Field(default=False, description="Behind an unmanaged switch (port shared)")
    recorded_by: tuple[ChannelRef, ...] = ()
    location: str | None = Field(default=None, description="Location text the device reports")
    placement: str | None = Field(default=None, description="Placement from the site record (later)")
    highlight: Highlight | None = None
    change_summary: str | None = None

    @property
    def where(self) -> str | None:
        """Placement from the record, else what the device says about itself."""
        return self.placement or self.location

    @property
    def switch_port(self) -> str | None:
        return f"{self.switch_name} {self.port}" if self.switch_name and self.port else None

    @property
    def channels_text(self) -> str | None:
        return ", ".join(f"{c.recorder_name} ch {c.channel}" for c in self.recorded_by) or None


# ---------------------------------------------------------------- switches and ports


class PortEntry(DocModel):
    name: str
    alias: str | None = None
    up: bool | None = None
    speed_mbps: int | None = None
    vlan: int | None = None
    poe_status: str | None = None
    poe_class: int | None = None
    poe_w: float | None = None
    uplink: bool = False
    neighbour: str | None = Field(default=None, description="LLDP: remote system and port")
    neighbour_switch_id: str | None = Field(default=None, description="Device.id when it is a scanned switch")
    neighbour_port: str | None = None
    device_ids: tuple[str, ...] = ()
    unknown_macs: tuple[str, ...] = Field(default=(), description="MACs on the port with no known device")

    @property
    def unmanaged(self) -> bool:
        """Several devices on one edge port: an unmanaged switch sits between (inferred)."""
        return not self.uplink and len(self.device_ids) + len(self.unknown_macs) > 1


class SwitchEntry(Identified):
    location: str | None = None
    poe_budget_w: float | None = None
    poe_used_w: float | None = Field(default=None, description="Sum of the ports' PoE draw at scan time")
    ports: tuple[PortEntry, ...] = ()
    highlight: Highlight | None = None

    @property
    def used_ports(self) -> tuple[PortEntry, ...]:
        """Ports with something on them (a device, an unknown MAC or a neighbour)."""
        return tuple(p for p in self.ports if p.device_ids or p.unknown_macs or p.uplink or p.neighbour)


class SwitchLink(DocModel):
    """An inter-switch cable seen by LLDP (one entry per cable, both ends when both reported it)."""

    a_id: str
    a_port: str
    b_id: str | None = Field(description="Device.id of the far switch, None when it was not scanned")
    b_name: str
    b_port: str | None = None


# ---------------------------------------------------------------- recorders and streams


class StreamEntry(DocModel):
    device_id: str
    device_name: str
    token: str
    name: str | None = None
    encoding: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bitrate_kbps: int | None = None
    gov_length: int | None = None
    codec_profile: str | None = None
    uri: str | None = Field(default=None, description="Stream URI as the device reports it (no credentials)")

    @property
    def text(self) -> str:
        size = f"{self.width}×{self.height}" if self.width and self.height else None
        fps = f"{self.frame_rate:g}\u00a0fps" if self.frame_rate else None
        rate = f"{self.bitrate_kbps}\u00a0kbit/s" if self.bitrate_kbps else None
        return " · ".join(p for p in (self.encoding, size, fps, rate) if p) or "—"


class ChannelEntry(DocModel):
    channel: int
    name: str | None = None
    camera_id: str | None = None
    camera_name: str | None = None
    source_address: str | None = None
    retention_days: int | None = None
    recording_mode: str | None = Field(default=None, description="Not in snapshot v1: None = not reported")
    streams: tuple[StreamEntry, ...] = Field(default=(), description="The recorded camera's streams")


class RecorderEntry(Identified):
    channel_count: int | None = None
    channels: tuple[ChannelEntry, ...] = ()
    highlight: Highlight | None = None

    @property
    def used_channels(self) -> int:
        return sum(1 for c in self.channels if c.camera_id or c.source_address)


# ---------------------------------------------------------------- changes against the baseline


class FieldChangeEntry(DocModel):
    path: str
    old: str | None = None
    new: str | None = None
    text: str = Field(description="The change in words")


class ChangeEntry(DocModel):
    kind: str = Field(description="replaced | missing | added | moved | changed")
    device_id: str
    old_device_id: str | None = None
    role: str
    label: str
    position: str | None = None
    old_position: str | None = None
    summary: str
    state: str | None = Field(default=None, description="Missing devices: unreachable | removed")
    fields: tuple[FieldChangeEntry, ...] = ()


class ChangeSet(DocModel):
    against_version: int | None = Field(description="The baseline version compared with")
    counts: dict[str, int]
    entries: tuple[ChangeEntry, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.entries

    def of_kind(self, kind: str) -> tuple[ChangeEntry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)


# ---------------------------------------------------------------- scan notes


class ScanNote(DocModel):
    """What the scan could not read (a Problem), for the reader to follow up."""

    target: str
    driver: str
    stage: str
    kind: str
    message: str


class ScanSummary(DocModel):
    started_at: datetime
    finished_at: datetime
    agent_version: str
    agent_host: str | None = None
    scopes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()


# ---------------------------------------------------------------- slots for the site record (later)


class FloorPlanPin(DocModel):
    device_id: str
    label: str | None = None
    x: float = Field(ge=0, le=1, description="Fraction of the plan's width")
    y: float = Field(ge=0, le=1, description="Fraction of the plan's height")


class FloorPlan(DocModel):
    title: str = Field(max_length=200)
    image_url: str | None = Field(default=None, description="data: URI of the plan image")
    pins: tuple[FloorPlanPin, ...] = ()


class Photo(DocModel):
    device_id: str | None = None
    caption: str | None = Field(default=None, max_length=500)
    taken_at: datetime | None = None
    image_url: str | None = Field(default=None, description="data: URI of the image")


class QuoteLine(DocModel):
    item: str = Field(max_length=300)
    model: str | None = None
    quoted: int = Field(ge=0)
    installed: int = Field(ge=0)


class QuoteReconciliation(DocModel):
    reference: str | None = None
    lines: tuple[QuoteLine, ...] = ()


class ServiceVisit(DocModel):
    date: datetime
    technician: str | None = None
    summary: str = Field(max_length=4000)


class SiteRecordExtras(DocModel):
    """What the site record adds to a scan: placements, plans, photos, quote, visits."""

    placements: dict[str, str] = Field(default_factory=dict, description="Device.id → placement text")
    floor_plans: tuple[FloorPlan, ...] = ()
    photos: tuple[Photo, ...] = ()
    quote: QuoteReconciliation | None = None
    visits: tuple[ServiceVisit, ...] = ()


# ---------------------------------------------------------------- the record


class AsBuiltRecord(DocModel):
    """Everything the deliverables show about one version of one site."""

    format: Literal["asbuilt.record/1"] = RECORD_FORMAT
    customer: str
    site_id: str
    site_name: str | None = None
    address: str | None = None
    version: int | None = None
    content_hash: str
    generated_at: datetime
    scan: ScanSummary
    baseline: BaselineInfo | None = None
    devices: tuple[DeviceEntry, ...] = ()
    switches: tuple[SwitchEntry, ...] = ()
    links: tuple[SwitchLink, ...] = ()
    recorders: tuple[RecorderEntry, ...] = ()
    streams: tuple[StreamEntry, ...] = ()
    changes: ChangeSet | None = Field(default=None, description="Against the baseline, when there is one")
    notes: tuple[ScanNote, ...] = ()
    floor_plans: tuple[FloorPlan, ...] = ()
    photos: tuple[Photo, ...] = ()
    quote: QuoteReconciliation | None = None
    visits: tuple[ServiceVisit, ...] = ()

    @property
    def title(self) -> str:
        return self.site_name or self.site_id

    def role_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.devices:
            counts[d.role] = counts.get(d.role, 0) + 1
        return counts

    def device(self, device_id: str) -> DeviceEntry | None:
        return next((d for d in self.devices if d.id == device_id), None)


# ---------------------------------------------------------------- the sealed annex (never in the record)


class SealedCredential(DocModel):
    """One device login for the credentials annex. Passed to the PDF renderer only, by a caller that
    checked the reader may see it; never part of ``AsBuiltRecord`` or any export."""

    device_id: str
    device_name: str
    username: str | None = None
    secret: str = Field(repr=False)
    note: str | None = None
