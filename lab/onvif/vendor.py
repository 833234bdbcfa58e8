"""Vendor personality: the details that tell an Axis from a Hikvision, a Dahua or a Hanwha on the wire.

What is imitated, per vendor (from their firmware's ONVIF answers):
- Scopes. Every device carries the ONVIF base set (type/video_encoder, Profile/Streaming,
  name/<device name>, hardware/<model>, location/<placement>). Axis adds type/audio_encoder and
  Profile/G/T; Hikvision adds the MAC scope (onvif://www.onvif.org/MAC/...); Dahua adds
  type/Network_Video_Transmitter and extension/unique_identifier; Hanwha adds
  type/Network_Video_Transmitter. Recorders add type/NetworkVideoStorage and Profile/G.
  Scope values are percent-encoded like real firmware ("location/Main%20entrance").
- RTSP paths: Axis `/onvif-media/media.amp?profile=...`, Hikvision `/Streaming/Channels/101`,
  Dahua `/cam/realmonitor?channel=1&subtype=0`, Hanwha `/profile2/media.smp`; snapshot CGI paths
  likewise (`/axis-cgi/jpg/image.cgi`, `/onvif-http/snapshot`, `/onvifsnapshot/...`, `/stw-cgi/...`).
- Access policy: Hikvision, Dahua and Hanwha follow the ONVIF default policy (GetSystemDateAndTime,
  GetServices, GetCapabilities, GetHostname, GetWsdlUrl, GetServiceCapabilities answer without a
  token); Axis authenticates everything except GetSystemDateAndTime.
- The HTTP status of a NotAuthorized fault: Hikvision and Dahua send 401, Axis and Hanwha 400.
- The `Server` header and the network interface name.
- GetEndpointReference: Axis and Hanwha answer it (the same urn:uuid as in WS-Discovery); Hikvision,
  Dahua and Uniview firmware answer ActionNotSupported, so their endpoint is only heard by discovery.
- Uniview (an OEM-style firmware): a second name scope carrying the maker ("name/Uniview", as many
  OEM images do), and none of the optional network calls (GetDNS, GetNTP, GetNetworkProtocols,
  GetNetworkDefaultGateway) implemented.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import quote

from lab.site import OnvifDevice, Personality, StreamProfile

ONVIF_SCOPE = "onvif://www.onvif.org/"

# Operations a conformant device answers without a token (ONVIF Core, default access policy PRE_AUTH).
PRE_AUTH_OPERATIONS = frozenset(
    {
        "GetSystemDateAndTime",
        "GetServices",
        "GetServiceCapabilities",
        "GetCapabilities",
        "GetHostname",
        "GetWsdlUrl",
        "GetEndpointReference",
    }
)


@dataclass(frozen=True)
class VendorStyle:
    server_header: str
    interface_name: str
    unauthorized_status: int
    time_zone: str
    pre_auth: frozenset[str]
    extra_scopes: tuple[str, ...]
    endpoint_reference: bool = False  # answers GetEndpointReference
    unsupported: frozenset[str] = frozenset()  # optional operations the firmware leaves out


_AXIS_PRE_AUTH = frozenset({"GetSystemDateAndTime"})

STYLES: dict[Personality, VendorStyle] = {
    Personality.AXIS: VendorStyle(
        "Apache",
        "eth0",
        400,
        "CET-1CEST,M3.5.0,M10.5.0/3",
        _AXIS_PRE_AUTH,
        ("type/audio_encoder", "Profile/G", "Profile/T"),
        endpoint_reference=True,
    ),
    Personality.HIKVISION: VendorStyle(
        "App-webs/", "eth0", 401, "CST-1:00:00", PRE_AUTH_OPERATIONS, ("Profile/T",)
    ),
    Personality.HIKVISION_NVR: VendorStyle(
        "App-webs/", "eth0", 401, "CST-1:00:00", PRE_AUTH_OPERATIONS, ("Profile/G", "Profile/T")
    ),
    Personality.DAHUA: VendorStyle(
        "Webs",
        "eth0",
        401,
        "GMT+01:00",
        PRE_AUTH_OPERATIONS,
        ("type/Network_Video_Transmitter", "extension/unique_identifier/1", "Profile/T"),
    ),
    Personality.DAHUA_NVR: VendorStyle(
        "Webs",
        "eth0",
        401,
        "GMT+01:00",
        PRE_AUTH_OPERATIONS,
        ("type/Network_Video_Transmitter", "extension/unique_identifier/1", "Profile/G"),
    ),
    Personality.HANWHA: VendorStyle(
        "httpd",
        "eth0",
        400,
        "CET-1CEST,M3.5.0,M10.5.0/3",
        PRE_AUTH_OPERATIONS,
        ("type/Network_Video_Transmitter", "Profile/T"),
        endpoint_reference=True,
    ),
    Personality.UNIVIEW: VendorStyle(
        "Http Server",
        "eth0",
        401,
        "CST-1:00:00",
        PRE_AUTH_OPERATIONS - {"GetEndpointReference"},
        ("type/Network_Video_Transmitter", "name/Uniview", "Profile/S"),
        unsupported=frozenset({"GetDNS", "GetNTP", "GetNetworkProtocols", "GetNetworkDefaultGateway"}),
    ),
}


def style(device: OnvifDevice) -> VendorStyle:
    return STYLES[device.personality]


def _scope_value(text: str) -> str:
    """Percent-encode a scope path segment the way firmware does (spaces become %20, '/' kept out)."""
    return quote(text, safe="-_.~")


def scopes(device: OnvifDevice) -> list[str]:
    """The device's ONVIF scopes, as GetScopes and WS-Discovery ProbeMatches carry them."""
    items = ["type/video_encoder", "Profile/Streaming"]
    if device.role == "recorder":
        items += ["type/NetworkVideoStorage"]
    items += list(style(device).extra_scopes)
    if device.personality in (Personality.HIKVISION, Personality.HIKVISION_NVR):
        items.append(f"MAC/{device.mac}")
    items += [
        f"name/{_scope_value(device.name)}",
        f"hardware/{_scope_value(device.model)}",
        f"location/{_scope_value(device.placement)}" if device.placement else "location/",
    ]
    return [ONVIF_SCOPE + item for item in dict.fromkeys(items)]


def stream_path(device: OnvifDevice, profile: StreamProfile, index: int) -> str:
    """The RTSP path (and query) this vendor's firmware gives for a profile (index is 0-based)."""
    pers = device.personality
    if pers is Personality.AXIS:
        codec = profile.encoding.lower()
        return f"/onvif-media/media.amp?profile={profile.token}_{codec}&sessiontimeout=60&streamtype=unicast"
    if pers in (Personality.HIKVISION, Personality.HIKVISION_NVR):
        return f"/Streaming/Channels/{100 + index + 1}?transportmode=unicast&profile={profile.token}"
    if pers in (Personality.DAHUA, Personality.DAHUA_NVR):
        return f"/cam/realmonitor?channel=1&subtype={index}&unicast=true&proto=Onvif"
    return f"/profile{index + 2}/media.smp"


def stream_uri(device: OnvifDevice, profile: StreamProfile, index: int) -> str:
    """rtsp://<device ip>:554/<vendor path>; never with credentials in it."""
    return f"rtsp://{device.ip}:554{stream_path(device, profile, index)}"


def snapshot_uri(device: OnvifDevice, profile: StreamProfile, index: int) -> str:
    """The JPEG snapshot URL per vendor (HTTP on port 80, no credentials)."""
    pers = device.personality
    if pers is Personality.AXIS:
        path = f"/axis-cgi/jpg/image.cgi?resolution={profile.width}x{profile.height}"
    elif pers in (Personality.HIKVISION, Personality.HIKVISION_NVR):
        path = f"/onvif-http/snapshot?Profile_{index + 1}"
    elif pers in (Personality.DAHUA, Personality.DAHUA_NVR):
        path = f"/onvifsnapshot/media_service/snapshot?channel=1&subtype={index}"
    else:
        path = f"/stw-cgi/video.cgi?msubmenu=snapshot&action=view&Profile={index + 1}"
    return f"http://{device.ip}{path}"


def gateway(device: OnvifDevice) -> str:
    """The site router: the first host address of the device's subnet."""
    net = ipaddress.ip_network(f"{device.ip}/{device.prefix_length}", strict=False)
    return str(next(net.hosts()))


def recording_token(device: OnvifDevice, channel: int) -> str:
    """Recording tokens as NVR firmware names them (channel is 1-based)."""
    if device.personality is Personality.HIKVISION_NVR:
        return f"{channel:02d}01"
    if device.personality is Personality.DAHUA_NVR:
        return f"Record_{channel}"
    return f"Recording_{channel}"
