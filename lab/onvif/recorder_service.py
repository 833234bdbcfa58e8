"""ONVIF recording (trc) and search (tse) services of a recorder (NVR).

An NVR lists one recording per channel it has (channel_count). A channel with a camera carries that
camera as its Source: SourceId (the camera's device service URL), Name, Location (its placement),
Description (vendor and model) and Address (the camera's IP, in site terms). An unused channel has
a recording with an empty Source, as NVR firmware shows channels nobody has connected yet.
GetRecordingSummary counts those recordings and spans the retention period.
"""

from __future__ import annotations

import datetime as dt

from lab.onvif import vendor
from lab.onvif.context import Ctx, Handler
from lab.onvif.soap import SoapRequest, esc
from lab.site import OnvifDevice


def _camera(ctx: Ctx, name: str) -> OnvifDevice | None:
    return next((d for d in ctx.site.devices if d.name == name and d.role == "camera"), None)


def _source(ctx: Ctx, channel: int) -> tuple[str, str, str, str, str]:
    """(SourceId, Name, Location, Description, Address) of a 1-based channel."""
    names = ctx.device.channels
    cam = _camera(ctx, names[channel - 1]) if channel <= len(names) else None
    if cam is None:
        return "", f"Channel {channel}", "", "", ""
    source_id = f"http://{cam.ip}/onvif/device_service"
    return source_id, cam.name, cam.placement, f"{cam.vendor} {cam.model}", cam.ip


def _recording(ctx: Ctx, channel: int) -> str:
    source_id, name, location, description, address = _source(ctx, channel)
    days = ctx.device.recording_days
    tracks = "".join(
        f"<tt:Track><tt:TrackToken>{token}</tt:TrackToken><tt:Configuration><tt:TrackType>{kind}</tt:TrackType>"
        f"<tt:Description>{kind} track</tt:Description></tt:Configuration></tt:Track>"
        for token, kind in (("VideoTrack_1", "Video"), ("MetadataTrack_1", "Metadata"))
    )
    return (
        "<trc:RecordingItem>"
        f"<tt:RecordingToken>{esc(vendor.recording_token(ctx.device, channel))}</tt:RecordingToken>"
        "<tt:Configuration><tt:Source>"
        f"<tt:SourceId>{esc(source_id)}</tt:SourceId><tt:Name>{esc(name)}</tt:Name>"
        f"<tt:Location>{esc(location)}</tt:Location><tt:Description>{esc(description)}</tt:Description>"
        f"<tt:Address>{esc(address)}</tt:Address></tt:Source>"
        f"<tt:Content>{'Continuous recording' if address else ''}</tt:Content>"
        f"<tt:MaximumRetentionTime>P{days}D</tt:MaximumRetentionTime></tt:Configuration>"
        f"<tt:Tracks>{tracks}</tt:Tracks></trc:RecordingItem>"
    )


def get_recordings(ctx: Ctx, req: SoapRequest) -> str:
    items = "".join(_recording(ctx, ch) for ch in range(1, ctx.device.channel_count + 1))
    return f"<trc:GetRecordingsResponse>{items}</trc:GetRecordingsResponse>"


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_recording_summary(ctx: Ctx, req: SoapRequest) -> str:
    until = ctx.now.replace(microsecond=0)
    since = until - dt.timedelta(days=ctx.device.recording_days)
    return (
        "<tse:GetRecordingSummaryResponse><tse:Summary>"
        f"<tt:DataFrom>{_iso(since)}</tt:DataFrom><tt:DataUntil>{_iso(until)}</tt:DataUntil>"
        f"<tt:NumberRecordings>{ctx.device.channel_count}</tt:NumberRecordings>"
        "</tse:Summary></tse:GetRecordingSummaryResponse>"
    )


RECORDING_OPERATIONS: dict[str, Handler] = {"GetRecordings": get_recordings}
SEARCH_OPERATIONS: dict[str, Handler] = {"GetRecordingSummary": get_recording_summary}
