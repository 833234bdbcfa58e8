"""The ONVIF media service (trt): profiles with their source and encoder configurations, stream URIs.

As on real cameras, each profile embeds its VideoSourceConfiguration and VideoEncoderConfiguration
(all profiles share one video source); encoder configuration tokens follow the vendor habit of
deriving them from the profile ("profile_1" -> "encoder_profile_1"). Stream URIs use the vendor's
RTSP path on port 554 and never carry credentials; snapshot URIs use the vendor's CGI path (the lab
serves no images: a scanner records the URI, it does not fetch it).
"""

from __future__ import annotations

from lab.onvif import vendor
from lab.onvif.context import Ctx, Handler
from lab.onvif.soap import NO_CONFIG, NO_PROFILE, SoapFault, SoapRequest, esc
from lab.site import StreamProfile

SOURCE_TOKEN = "VideoSource_1"
SOURCE_CONFIG_TOKEN = "VideoSourceConfig_1"


def encoder_token(profile: StreamProfile) -> str:
    return f"encoder_{profile.token}"


def _source_configuration(ctx: Ctx, tag: str) -> str:
    main = ctx.device.profiles[0] if ctx.device.profiles else StreamProfile(token="profile_1", name="main")
    return (
        f'<{tag} token="{SOURCE_CONFIG_TOKEN}"><tt:Name>VideoSourceConfig</tt:Name>'
        f"<tt:UseCount>{len(ctx.device.profiles)}</tt:UseCount><tt:SourceToken>{SOURCE_TOKEN}</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{main.width}" height="{main.height}"/></{tag}>'
    )


def _encoder_configuration(profile: StreamProfile, tag: str) -> str:
    # ONVIF media 1 only knows JPEG, MPEG4 and H264, yet Hikvision and Dahua firmware put "H265" in
    # this field for an H.265 stream; we do the same, so clients must not assume the enumeration.
    encoding = profile.encoding
    interval = 1
    h264 = ""
    if encoding == "H264":
        h264 = (
            f"<tt:H264><tt:GovLength>{profile.gov_length}</tt:GovLength>"
            f"<tt:H264Profile>{esc(profile.profile or 'Main')}</tt:H264Profile></tt:H264>"
        )
    return (
        f'<{tag} token="{encoder_token(profile)}"><tt:Name>{esc(profile.name)}</tt:Name>'
        f"<tt:UseCount>1</tt:UseCount><tt:Encoding>{encoding}</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{profile.width}</tt:Width><tt:Height>{profile.height}</tt:Height>"
        f"</tt:Resolution><tt:Quality>{profile.quality:g}</tt:Quality>"
        f"<tt:RateControl><tt:FrameRateLimit>{round(profile.frame_rate)}</tt:FrameRateLimit>"
        f"<tt:EncodingInterval>{interval}</tt:EncodingInterval>"
        f"<tt:BitrateLimit>{profile.bitrate_kbps}</tt:BitrateLimit></tt:RateControl>{h264}"
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>"
        "</tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
        f"<tt:SessionTimeout>PT60S</tt:SessionTimeout></{tag}>"
    )


def _profile(ctx: Ctx, profile: StreamProfile, tag: str) -> str:
    return (
        f'<{tag} token="{esc(profile.token)}" fixed="true"><tt:Name>{esc(profile.name)}</tt:Name>'
        f"{_source_configuration(ctx, 'tt:VideoSourceConfiguration')}"
        f"{_encoder_configuration(profile, 'tt:VideoEncoderConfiguration')}</{tag}>"
    )


def _find(ctx: Ctx, token: str | None) -> tuple[int, StreamProfile] | None:
    return next(((i, p) for i, p in enumerate(ctx.device.profiles) if p.token == token), None)


def get_profiles(ctx: Ctx, req: SoapRequest) -> str:
    items = "".join(_profile(ctx, p, "trt:Profiles") for p in ctx.device.profiles)
    return f"<trt:GetProfilesResponse>{items}</trt:GetProfilesResponse>"


def get_profile(ctx: Ctx, req: SoapRequest) -> str | SoapFault:
    found = _find(ctx, req.text("ProfileToken"))
    if found is None:
        return NO_PROFILE
    return f"<trt:GetProfileResponse>{_profile(ctx, found[1], 'trt:Profile')}</trt:GetProfileResponse>"


def get_video_encoder_configurations(ctx: Ctx, req: SoapRequest) -> str:
    items = "".join(_encoder_configuration(p, "trt:Configurations") for p in ctx.device.profiles)
    return f"<trt:GetVideoEncoderConfigurationsResponse>{items}</trt:GetVideoEncoderConfigurationsResponse>"


def get_video_encoder_configuration(ctx: Ctx, req: SoapRequest) -> str | SoapFault:
    token = req.text("ConfigurationToken")
    profile = next((p for p in ctx.device.profiles if encoder_token(p) == token), None)
    if profile is None:
        return NO_CONFIG
    return (
        "<trt:GetVideoEncoderConfigurationResponse>"
        f"{_encoder_configuration(profile, 'trt:Configuration')}</trt:GetVideoEncoderConfigurationResponse>"
    )


def get_video_source_configurations(ctx: Ctx, req: SoapRequest) -> str:
    return (
        "<trt:GetVideoSourceConfigurationsResponse>"
        f"{_source_configuration(ctx, 'trt:Configurations')}</trt:GetVideoSourceConfigurationsResponse>"
    )


def get_stream_uri(ctx: Ctx, req: SoapRequest) -> str | SoapFault:
    found = _find(ctx, req.text("ProfileToken"))
    if found is None:
        return NO_PROFILE
    uri = vendor.stream_uri(ctx.device, found[1], found[0])
    return (
        f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{esc(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout>"
        "</trt:MediaUri></trt:GetStreamUriResponse>"
    )


def get_snapshot_uri(ctx: Ctx, req: SoapRequest) -> str | SoapFault:
    found = _find(ctx, req.text("ProfileToken"))
    if found is None:
        return NO_PROFILE
    uri = vendor.snapshot_uri(ctx.device, found[1], found[0])
    return (
        f"<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>{esc(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
        "</trt:MediaUri></trt:GetSnapshotUriResponse>"
    )


OPERATIONS: dict[str, Handler] = {
    "GetProfiles": get_profiles,
    "GetProfile": get_profile,
    "GetVideoEncoderConfigurations": get_video_encoder_configurations,
    "GetVideoEncoderConfiguration": get_video_encoder_configuration,
    "GetVideoSourceConfigurations": get_video_source_configurations,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
}
