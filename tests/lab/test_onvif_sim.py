"""The simulated ONVIF devices, read back through an independent client (onvif-zeep-async).

Every operation a scan uses is compared with the site model; faults are checked for the
behaviour a real client meets. Traffic stays on 127.20.x.y (this suite's loopback range).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import logging
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import onvif.settings
import pytest
import zeep.exceptions
from lxml import etree
from onvif import ONVIFCamera

from lab.host import PortPlan, SimHost
from lab.onvif import start_onvif, vendor
from lab.onvif.media_service import encoder_token
from lab.site import Faults, LabSite, OnvifDevice, load_site
from lab.state import LabState

logging.getLogger().setLevel(logging.WARNING)  # onvif-zeep-async calls basicConfig(INFO) at import

HTTP_PORT = 8080
CALL_TIMEOUT_S = 10.0
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
_ip_counter = iter(range(1, 250))


def next_ip() -> str:
    """A fresh loopback address per server: 127.20.<pid-derived>.<n>, so parallel runs never collide."""
    return f"127.20.{os.getpid() % 250 + 1}.{next(_ip_counter)}"


@pytest.fixture
def state() -> LabState:
    return LabState(load_site("small"))


def set_faults(state: LabState, name: str, **faults: Any) -> None:
    replace_device(state, name, faults=Faults(**faults))


def replace_device(state: LabState, name: str, **changes: Any) -> None:
    site = state.site
    devices = [d.model_copy(update=changes) if d.name == name else d for d in site.devices]
    state.replace(site.model_copy(update={"devices": devices}))


@contextlib.asynccontextmanager
async def serving(state: LabState, name: str) -> AsyncIterator[SimHost]:
    host = SimHost(name, next_ip(), ports=PortPlan(http=HTTP_PORT))
    server = await start_onvif(state, name, host)
    try:
        yield host
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def client(
    host: SimHost, device: OnvifDevice, password: str | None = None, adjust_time: bool = True
) -> AsyncIterator[ONVIFCamera]:
    cam = ONVIFCamera(
        host.ip,
        host.ports.http,
        device.credential.username,
        device.credential.password if password is None else password,
        adjust_time=adjust_time,
    )
    try:
        yield cam
    finally:
        await cam.close()


@pytest.fixture
def strict_client() -> Iterator[None]:
    """onvif-zeep-async parses with lxml recover=True by default; strict mode turns broken XML into errors."""
    settings = onvif.settings.DEFAULT_SETTINGS
    before = settings.strict
    settings.strict = True
    try:
        yield
    finally:
        settings.strict = before


async def raw_post(host: SimHost, path: str, body: bytes) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.post(f"http://{host.ip}:{host.ports.http}{path}", data=body) as resp,
    ):
        return resp.status, await resp.read()


def soap(body: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>' + body + "</s:Body></s:Envelope>"
    ).encode()


# ---------------------------------------------------------------- read back against the site model

ONE_PER_VENDOR = [
    "cam-entrance",
    "cam-office",
    "cam-dock-1",
    "cam-server",
    "cam-parking",
    "nvr-main",
    "nvr-yard",
]
VENDOR_PATH_MARK = {
    "axis": "/onvif-media/media.amp?profile=",
    "hikvision": "/Streaming/Channels/10",
    "hikvision-nvr": "/Streaming/Channels/10",
    "dahua": "/cam/realmonitor?channel=1&subtype=",
    "dahua-nvr": "/cam/realmonitor?channel=1&subtype=",
    "hanwha": "/media.smp",
}
SNAPSHOT_MARK = {
    "axis": "/axis-cgi/jpg/image.cgi",
    "hikvision": "/onvif-http/snapshot",
    "hikvision-nvr": "/onvif-http/snapshot",
    "dahua": "/onvifsnapshot/",
    "dahua-nvr": "/onvifsnapshot/",
    "hanwha": "/stw-cgi/video.cgi",
}


@pytest.mark.parametrize("name", ONE_PER_VENDOR)
async def test_device_service_reads_back_the_site(state: LabState, name: str, strict_client: None) -> None:
    device = state.device(name)
    assert device is not None
    async with serving(state, name) as host, client(host, device) as cam, asyncio.timeout(CALL_TIMEOUT_S):
        await cam.update_xaddrs()
        dm = await cam.create_devicemgmt_service()

        info = await dm.GetDeviceInformation()
        assert (info.Manufacturer, info.Model, info.FirmwareVersion, info.SerialNumber, info.HardwareId) == (
            device.vendor,
            device.model,
            device.firmware,
            device.serial,
            device.hardware_id,
        )

        (nic,) = await dm.GetNetworkInterfaces()
        assert nic.Info.HwAddress == device.mac
        assert nic.IPv4.Config.DHCP is device.dhcp
        (addr,) = nic.IPv4.Config.Manual
        assert (addr.Address, addr.PrefixLength) == (device.ip, device.prefix_length)

        assert (await dm.GetHostname()).Name == device.name
        assert (await dm.GetSystemDateAndTime()).DateTimeType == "NTP"
        assert await dm.GetDiscoveryMode() == "Discoverable"
        assert (await dm.GetServiceCapabilities()).Security.UsernameToken is True
        gateway = vendor.gateway(device)
        assert gateway == "10.77.0.1"
        assert [d.IPv4Address for d in (await dm.GetDNS()).DNSManual] == [gateway]
        assert [n.IPv4Address for n in (await dm.GetNTP()).NTPManual] == [gateway]
        assert (await dm.GetNetworkDefaultGateway()).IPv4Address == [gateway]
        protocols = {p.Name: (p.Enabled, p.Port) for p in await dm.GetNetworkProtocols()}
        assert protocols == {"HTTP": (True, [HTTP_PORT]), "HTTPS": (False, [443]), "RTSP": (True, [554])}

        scopes = [s.ScopeItem for s in await dm.GetScopes()]
        assert scopes == vendor.scopes(device)
        for must in ("type/video_encoder", "Profile/Streaming", f"name/{device.name}", "hardware/"):
            assert any(s.startswith("onvif://www.onvif.org/" + must) for s in scopes), must
        assert any(s.startswith("onvif://www.onvif.org/location/") and "%20" in s for s in scopes)

        users = await dm.GetUsers()
        assert [(u.Username, u.UserLevel) for u in users] == [
            (device.credential.username, "Administrator"),
            *device.extra_users,
        ]
        assert all(u.Password is None for u in users)

        expected = {
            "http://www.onvif.org/ver10/device/wsdl": "device_service",
            "http://www.onvif.org/ver10/media/wsdl": "media_service",
        }
        if device.role == "recorder":
            expected["http://www.onvif.org/ver10/recording/wsdl"] = "recording_service"
            expected["http://www.onvif.org/ver10/search/wsdl"] = "search_service"
        base = f"http://{host.ip}:{HTTP_PORT}/onvif/"
        assert cam.xaddrs == {ns: base + path for ns, path in expected.items()}
        with_caps = await dm.GetServices({"IncludeCapability": True})
        assert [s.XAddr for s in with_caps] == list(cam.xaddrs.values())
        assert all(s.Capabilities is not None for s in with_caps)

        caps = await dm.GetCapabilities({"Category": "All"})
        assert caps.Device.XAddr == base + "device_service"
        assert caps.Media.XAddr == base + "media_service"
        if device.role == "recorder":
            # zeep's greedy xs:any swallows tt:Recording / tt:Search as raw elements (a client quirk)
            raw = {etree.QName(el).localname: el for el in caps.Extension._value_1}
            ns = {"tt": "http://www.onvif.org/ver10/schema"}
            assert raw["Recording"].findtext("tt:XAddr", namespaces=ns) == base + "recording_service"
            assert raw["Search"].findtext("tt:XAddr", namespaces=ns) == base + "search_service"
        else:
            assert caps.Extension is None


@pytest.mark.parametrize("name", ONE_PER_VENDOR)
async def test_media_service_reads_back_the_site(state: LabState, name: str, strict_client: None) -> None:
    device = state.device(name)
    assert device is not None
    async with serving(state, name) as host, client(host, device) as cam, asyncio.timeout(CALL_TIMEOUT_S):
        await cam.update_xaddrs()
        media = await cam.create_media_service()
        profiles = await media.GetProfiles()
        assert [p.token for p in profiles] == [p.token for p in device.profiles]
        for got, want in zip(profiles, device.profiles, strict=True):
            assert got.Name == want.name
            assert got.VideoSourceConfiguration.SourceToken == "VideoSource_1"
            enc = got.VideoEncoderConfiguration
            assert enc.token == encoder_token(want)
            assert enc.Encoding == want.encoding
            assert (enc.Resolution.Width, enc.Resolution.Height) == (want.width, want.height)
            assert enc.RateControl.FrameRateLimit == round(want.frame_rate)
            assert enc.RateControl.BitrateLimit == want.bitrate_kbps
            if want.encoding == "H264":
                assert enc.H264.GovLength == want.gov_length

            uri = (await media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": want.token})).Uri
            assert uri.startswith(f"rtsp://{device.ip}:554/")
            assert VENDOR_PATH_MARK[device.personality] in uri
            assert "@" not in uri and device.credential.password not in uri
            snap = (await media.GetSnapshotUri({"ProfileToken": want.token})).Uri
            assert snap.startswith(f"http://{device.ip}/") and SNAPSHOT_MARK[device.personality] in snap

        configs = await media.GetVideoEncoderConfigurations()
        assert [(c.token, c.Resolution.Width) for c in configs] == [
            (encoder_token(p), p.width) for p in device.profiles
        ]
        uris = {
            (await media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": p.token})).Uri
            for p in device.profiles
        }
        assert len(uris) == len(device.profiles)  # main and sub stream are different streams


def _camera(site: LabSite, name: str) -> OnvifDevice:
    return next(d for d in site.devices if d.name == name)


@pytest.mark.parametrize("name", ["nvr-main", "nvr-yard"])
async def test_recorder_lists_one_recording_per_channel(
    state: LabState, name: str, strict_client: None
) -> None:
    device = state.device(name)
    assert device is not None
    async with serving(state, name) as host, client(host, device) as cam, asyncio.timeout(CALL_TIMEOUT_S):
        await cam.update_xaddrs()
        recordings = await (await cam.create_recording_service()).GetRecordings()
        summary = await (await cam.create_search_service()).GetRecordingSummary()

    assert len(recordings) == device.channel_count > len(device.channels)
    assert len({r.RecordingToken for r in recordings}) == device.channel_count
    for index, rec in enumerate(recordings):
        source = rec.Configuration.Source
        if index < len(device.channels):
            cam_model = _camera(state.site, device.channels[index])
            assert (source.Name, source.Address, source.Location) == (
                cam_model.name,
                cam_model.ip,
                cam_model.placement,
            )
            assert source.Description == f"{cam_model.vendor} {cam_model.model}"
            assert source.SourceId == f"http://{cam_model.ip}/onvif/device_service"
        else:
            assert not source.Address  # a channel nobody connected yet
    assert summary.NumberRecordings == device.channel_count
    assert summary.DataUntil - summary.DataFrom == dt.timedelta(days=device.recording_days)


async def test_cameras_do_not_offer_recorder_services(state: LabState) -> None:
    async with serving(state, "cam-office") as host:
        status, body = await raw_post(
            host,
            "/onvif/recording_service",
            soap('<trc:GetRecordings xmlns:trc="http://www.onvif.org/ver10/recording/wsdl"/>'),
        )
    # protected operation without a token: refused before anything else, like firmware does
    assert status == 401 and b"ter:NotAuthorized" in body


async def test_discovery_mode_tells_that_ws_discovery_is_off(state: LabState) -> None:
    device = state.device("cam-corridor")
    assert device is not None and device.faults.wsd_disabled
    async with serving(state, "cam-corridor") as host, client(host, device) as cam:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            await cam.update_xaddrs()
            dm = await cam.create_devicemgmt_service()
            assert await dm.GetDiscoveryMode() == "NonDiscoverable"


# ---------------------------------------------------------------- live changes and disappearing devices


async def test_changes_to_the_site_apply_live(state: LabState) -> None:
    device = state.device("cam-dock-2")
    assert device is not None
    async with (
        serving(state, "cam-dock-2") as host,
        client(host, device) as cam,
        asyncio.timeout(CALL_TIMEOUT_S),
    ):
        await cam.update_xaddrs()
        dm = await cam.create_devicemgmt_service()
        assert (await dm.GetDeviceInformation()).FirmwareVersion == device.firmware
        replace_device(state, "cam-dock-2", firmware="2.800.0000000.99.R")
        assert (await dm.GetDeviceInformation()).FirmwareVersion == "2.800.0000000.99.R"


@pytest.mark.parametrize("how", ["state.gone", "gone_after_discovery", "removed"])
async def test_gone_device_does_not_answer(state: LabState, how: str) -> None:
    device = state.device("cam-stairs")
    assert device is not None
    async with serving(state, "cam-stairs") as host, client(host, device) as cam:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            await cam.update_xaddrs()  # alive first
        if how == "state.gone":
            state.gone.add("cam-stairs")
        elif how == "gone_after_discovery":
            set_faults(state, "cam-stairs", gone_after_discovery=True)
        else:
            state.replace(
                state.site.model_copy(update={"devices": [d for d in state.site.devices if d is not device]})
            )
        dm = await cam.create_devicemgmt_service()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await dm.GetSystemDateAndTime()


# ---------------------------------------------------------------- authentication and clock skew


async def test_get_system_date_and_time_is_pre_auth(state: LabState) -> None:
    async with serving(state, "cam-entrance") as host:
        status, body = await raw_post(host, "/onvif/device_service", soap("<tds:GetSystemDateAndTime/>"))
        assert status == 200 and b"UTCDateTime" in body
        status, body = await raw_post(host, "/onvif/device_service", soap("<tds:GetDeviceInformation/>"))
        assert status == 400 and b"ter:NotAuthorized" in body and b"Sender not authorized" in body
        assert b"ACCC8E" not in body


async def test_http_date_header_comes_from_the_device_clock(state: LabState) -> None:
    async with serving(state, "cam-lobby") as host, aiohttp.ClientSession() as http:
        url = f"http://{host.ip}:{HTTP_PORT}/onvif/device_service"
        async with http.post(url, data=soap("<tds:GetSystemDateAndTime/>")) as resp:
            assert resp.status == 200
            assert resp.headers["Server"] == "Apache"  # Axis firmware's web server
            date = email.utils.parsedate_to_datetime(resp.headers["Date"])
    assert abs((date - dt.datetime.now(dt.UTC)).total_seconds() - 7200) < 5


@pytest.mark.parametrize("name", ["cam-lobby"])  # the small site's camera whose clock is 2 h ahead
async def test_clock_skew_needs_adjust_time(state: LabState, name: str) -> None:
    device = state.device(name)
    assert device is not None and device.faults.clock_offset_s == 7200
    async with serving(state, name) as host:
        async with client(host, device, adjust_time=True) as cam, asyncio.timeout(CALL_TIMEOUT_S):
            await cam.update_xaddrs()
            assert cam.dt_diff is not None
            assert abs(cam.dt_diff.total_seconds() - 7200) < 5
            dm = await cam.create_devicemgmt_service()
            assert (await dm.GetDeviceInformation()).SerialNumber == device.serial
            utc = (await dm.GetSystemDateAndTime()).UTCDateTime
            reported = dt.datetime(
                utc.Date.Year,
                utc.Date.Month,
                utc.Date.Day,
                utc.Time.Hour,
                utc.Time.Minute,
                utc.Time.Second,
                tzinfo=dt.UTC,
            )
            assert abs((reported - dt.datetime.now(dt.UTC)).total_seconds() - 7200) < 5
            assert (await dm.GetSystemDateAndTime()).DateTimeType == "Manual"  # nobody syncs this clock

        async with client(host, device, adjust_time=False) as cam, asyncio.timeout(CALL_TIMEOUT_S):
            # Axis authenticates GetServices, so the skewed token is refused right at update_xaddrs
            with pytest.raises(zeep.exceptions.Fault, match="Sender not authorized"):
                await cam.update_xaddrs()


@pytest.mark.parametrize(("name", "refused_at"), [("cam-entrance", "update_xaddrs"), ("cam-office", "call")])
async def test_wrong_password_is_a_fault(state: LabState, name: str, refused_at: str) -> None:
    device = state.device(name)
    assert device is not None
    async with serving(state, name) as host, client(host, device, password="wrong") as cam:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            if refused_at == "update_xaddrs":  # Axis: GetServices needs a valid token
                with pytest.raises(zeep.exceptions.Fault, match="Sender not authorized") as caught:
                    await cam.update_xaddrs()
            else:  # Hikvision: GetServices is pre-auth; the first protected call is refused
                await cam.update_xaddrs()
                dm = await cam.create_devicemgmt_service()
                with pytest.raises(zeep.exceptions.Fault, match="Sender not authorized") as caught:
                    await dm.GetDeviceInformation()
    assert caught.value.subcodes is not None
    assert [q.localname for q in caught.value.subcodes] == ["NotAuthorized"]


async def test_reject_credentials_refuses_the_right_password(state: LabState) -> None:
    set_faults(state, "cam-dock-1", reject_credentials=True)
    device = state.device("cam-dock-1")
    assert device is not None
    async with (
        serving(state, "cam-dock-1") as host,
        client(host, device) as cam,
        asyncio.timeout(CALL_TIMEOUT_S),
    ):
        await cam.update_xaddrs()  # Dahua answers GetServices before auth
        dm = await cam.create_devicemgmt_service()
        with pytest.raises(zeep.exceptions.Fault, match="Sender not authorized"):
            await dm.GetDeviceInformation()
        assert (await dm.GetSystemDateAndTime()).UTCDateTime is not None  # pre-auth still answers


# ---------------------------------------------------------------- broken firmware


@pytest.mark.parametrize("fault", ["invalid_xml", "invalid_utf8"])
async def test_broken_replies_raise_in_a_strict_client(
    state: LabState, fault: str, strict_client: None
) -> None:
    set_faults(state, "cam-office", **{fault: True})
    device = state.device("cam-office")
    assert device is not None
    async with (
        serving(state, "cam-office") as host,
        client(host, device) as cam,
        asyncio.timeout(CALL_TIMEOUT_S),
    ):
        await cam.update_xaddrs()  # pre-auth answers are intact
        dm = await cam.create_devicemgmt_service()
        with pytest.raises(zeep.exceptions.TransportError, match="invalid XML"):
            await dm.GetDeviceInformation()


@pytest.mark.parametrize("fault", ["invalid_xml", "invalid_utf8"])
async def test_broken_replies_pass_silently_in_the_default_client(state: LabState, fault: str) -> None:
    """The trap for the driver: with its default recover=True parsing the library does not raise."""
    set_faults(state, "cam-office", **{fault: True})
    device = state.device("cam-office")
    assert device is not None
    async with (
        serving(state, "cam-office") as host,
        client(host, device) as cam,
        asyncio.timeout(CALL_TIMEOUT_S),
    ):
        await cam.update_xaddrs()
        dm = await cam.create_devicemgmt_service()
        info = await dm.GetDeviceInformation()
    if fault == "invalid_xml":
        assert info.Manufacturer == device.vendor and info.SerialNumber is None  # cut off half-way
    else:
        assert info.Model == device.model + "\ufffd(\ufffd"  # bytes replaced, no error


async def test_slow_reply_honours_the_delay(state: LabState) -> None:
    set_faults(state, "cam-server", slow_reply_s=0.6)
    device = state.device("cam-server")
    assert device is not None
    async with serving(state, "cam-server") as host, client(host, device) as cam:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            await cam.update_xaddrs()
        dm = await cam.create_devicemgmt_service()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await dm.GetDeviceInformation()
        async with asyncio.timeout(CALL_TIMEOUT_S):
            assert (await dm.GetDeviceInformation()).Model == device.model


# ---------------------------------------------------------------- hostile and unknown requests


async def test_unknown_operation_is_action_not_supported(state: LabState) -> None:
    device = state.device("cam-office")
    assert device is not None
    async with (
        serving(state, "cam-office") as host,
        client(host, device) as cam,
        asyncio.timeout(CALL_TIMEOUT_S),
    ):
        await cam.update_xaddrs()
        dm = await cam.create_devicemgmt_service()
        with pytest.raises(zeep.exceptions.Fault) as caught:
            await dm.GetRemoteUser()
    assert [q.localname for q in caught.value.subcodes] == ["ActionNotSupported"]


async def test_hostile_requests_are_refused(state: LabState) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        + soap("<tds:GetSystemDateAndTime>&b;</tds:GetSystemDateAndTime>")
    )
    async with serving(state, "cam-office") as host:
        status, body = await raw_post(host, "/onvif/device_service", bomb)
        assert status == 400 and b"ter:WellFormed" in body
        status, body = await raw_post(host, "/onvif/device_service", b"<not-xml")
        assert status == 400 and b"ter:WellFormed" in body
        status, _ = await raw_post(
            host, "/onvif/device_service", soap("<tds:GetSystemDateAndTime/>" + " " * 70_000)
        )
        assert status == 413
