"""OnvifDriver against the lab's ONVIF simulator, over real HTTP on loopback (127.24.0.0/16).

One device per vendor personality plus both recorders, each compared with the site model it is
served from; then the faults a real installation has: a skewed clock, a wrong password, broken XML,
invalid UTF-8, a slow device and a device that is not there.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Credential, DeviceReport, DriverOptions, Ports
from drivers.errors import AuthError, DeviceTimeout, ProtocolError, Unreachable
from drivers.onvif import OnvifDriver
from drivers.onvif.collect import read_device
from drivers.onvif.replay import ReplaySession
from drivers.onvif.transport import LiveSession
from drivers.schema import ProblemKind, Role
from lab.changes import set_fault
from lab.host import PortPlan, SimHost
from lab.onvif import start_onvif
from lab.site import LabSite, OnvifDevice, load_site
from lab.state import LabState

PORTS = PortPlan.unprivileged()


def loopback_ip(device: OnvifDevice) -> str:
    return "127.24.0." + device.ip.rsplit(".", 1)[1]


def credential_for(device: OnvifDevice, password: str | None = None) -> Credential:
    return Credential(
        name=f"{device.vendor}-installer",
        username=device.credential.username,
        password=password if password is not None else device.credential.password,
    )


@asynccontextmanager
async def serving(site: LabSite, *names: str) -> AsyncIterator[LabState]:
    state = LabState(site)
    servers = []
    try:
        for name in names:
            device = site.device(name)
            servers.append(await start_onvif(state, name, SimHost(name, ip=loopback_ip(device), ports=PORTS)))
        yield state
    finally:
        for server in servers:
            await server.close()


async def collect(
    device: OnvifDevice, *, password: str | None = None, timeout_s: float = 5.0
) -> DeviceReport:
    options = DriverOptions(timeout_s=timeout_s, ports=Ports(http=PORTS.http))
    driver = OnvifDriver(loopback_ip(device), credential_for(device, password), options)
    try:
        return await driver.collect()
    finally:
        await driver.close()


def assert_matches_site(report: DeviceReport, device: OnvifDevice, site: LabSite) -> None:
    assert report.identity is not None and report.network is not None and report.onvif is not None
    ident = report.identity
    assert (ident.vendor, ident.model, ident.serial, ident.firmware) == (
        device.vendor,
        device.model,
        device.serial,
        device.firmware,
    )
    assert ident.mac == device.mac
    assert ident.location == (device.placement or None)
    assert report.network.prefix_length == device.prefix_length
    assert report.network.dhcp == device.dhcp
    assert report.onvif.endpoint_reference in (None, device.endpoint_uuid)
    assert {u.username for u in report.onvif.users} == {device.credential.username} | {
        n for n, _ in device.extra_users
    }
    served = {p.token: p for p in device.profiles}
    assert {p.token for p in report.onvif.profiles} == set(served)
    for profile in report.onvif.profiles:
        want = served[profile.token]
        enc = profile.video_encoder
        assert enc is not None
        assert (enc.encoding, enc.width, enc.height, enc.bitrate_kbps) == (
            want.encoding,
            want.width,
            want.height,
            want.bitrate_kbps,
        )
        assert profile.stream_uri and profile.stream_uri.startswith(f"rtsp://{device.ip}:554/")
        assert device.credential.password not in profile.stream_uri
    if device.role == "recorder":
        assert report.role is Role.RECORDER
        assert report.recorder is not None
        assert report.recorder.channel_count == device.channel_count
        by_channel = {c.channel: c for c in report.recorder.channels}
        for number, camera in enumerate(device.channels, start=1):
            assert by_channel[number].source_address == site.device(camera).ip
    else:
        assert report.role is Role.CAMERA
        assert report.recorder is None


# cam-parking: an Axis with an H.265 main profile
ONE_PER_PERSONALITY = [
    "cam-entrance",
    "cam-office",
    "cam-dock-1",
    "cam-server",
    "cam-parking",
    "nvr-main",
    "nvr-yard",
]


@pytest.mark.parametrize("name", ONE_PER_PERSONALITY)
async def test_collect_matches_site_model(name: str) -> None:
    site = load_site("small")
    device = site.device(name)
    async with serving(site, name):
        started = time.perf_counter()
        report = await collect(device)
        elapsed = time.perf_counter() - started
    print(f"\n{name} ({device.personality}): collected in {elapsed * 1000:.0f} ms, {len(report.notes)} notes")
    assert_matches_site(report, device, site)
    assert report.credential == f"{device.vendor}-installer"
    assert report.onvif is not None and report.onvif.clock_offset_s is not None
    assert abs(report.onvif.clock_offset_s) < 3


async def test_skewed_clock_is_measured_and_does_not_break_auth() -> None:
    site = load_site("small")
    device = site.device("cam-lobby")  # Axis, clock 2 h ahead: signs everything but GetSystemDateAndTime
    assert device.faults.clock_offset_s == 7200
    async with serving(site, device.name):
        report = await collect(device)
    assert report.onvif is not None and report.onvif.clock_offset_s is not None
    assert abs(report.onvif.clock_offset_s - 7200) < 3
    assert_matches_site(report, device, site)


async def expect_error(
    site: LabSite, name: str, call: Callable[[OnvifDevice], Awaitable[Any]]
) -> BaseException:
    async with serving(site, name):
        with pytest.raises(Exception) as info:
            await call(site.device(name))
    return info.value


@pytest.mark.parametrize("name", ["cam-entrance", "cam-office"])  # Axis answers 400, Hikvision 401
async def test_wrong_password_is_an_auth_error(name: str) -> None:
    error = await expect_error(load_site("small"), name, lambda d: collect(d, password="not-the-password"))
    assert isinstance(error, AuthError)
    assert error.kind is ProblemKind.AUTH
    assert "not-the-password" not in str(error)


async def test_rejected_credentials_are_an_auth_error() -> None:
    site = set_fault(load_site("small"), "cam-dock-1", "reject_credentials")
    error = await expect_error(site, "cam-dock-1", collect)
    assert isinstance(error, AuthError)


async def test_broken_xml_is_a_protocol_error() -> None:
    site = set_fault(load_site("small"), "cam-server", "invalid_xml")
    error = await expect_error(site, "cam-server", collect)
    assert isinstance(error, ProtocolError)
    assert error.kind is ProblemKind.PROTOCOL


async def test_invalid_utf8_device_information_becomes_a_note() -> None:
    site = set_fault(load_site("small"), "cam-office", "invalid_utf8")
    device = site.device("cam-office")
    async with serving(site, device.name):
        report = await collect(device)
    assert report.identity is not None
    assert report.identity.model is None
    assert report.identity.mac == device.mac
    assert [n.operation for n in report.notes if n.kind is ProblemKind.PROTOCOL] == ["GetDeviceInformation"]


async def test_slow_device_times_out_within_its_own_budget() -> None:
    site = set_fault(load_site("small"), "cam-stairs", "slow_reply_s", 3.0)
    device = site.device("cam-stairs")
    async with serving(site, device.name):
        started = time.perf_counter()
        with pytest.raises(DeviceTimeout):
            await collect(device, timeout_s=0.5)
        elapsed = time.perf_counter() - started
    print(f"\nslow device (3 s per reply) given up after {elapsed:.2f} s with a 0.5 s budget per call")


async def test_nobody_listening_is_unreachable() -> None:
    device = load_site("small").device("cam-parking")  # no server started for it
    with pytest.raises(Unreachable):
        await collect(device)


@pytest.mark.parametrize("name", ["cam-office", "nvr-yard"])
async def test_recorded_replies_replay_to_the_same_report(name: str, tmp_path: Path) -> None:
    """A live session can record the reply bodies; replaying that folder gives the same report, so
    fixture folders test exactly what the driver sees on the wire."""
    site = load_site("small")
    device = site.device(name)
    async with serving(site, name):
        live_session = LiveSession(
            loopback_ip(device),
            PORTS.http,
            device.credential.username,
            device.credential.password,
            5.0,
            tmp_path,
        )
        try:
            live = await read_device(live_session)
        finally:
            await live_session.close()
    (tmp_path / "meta.json").write_text(json.dumps({"ip": loopback_ip(device)}))
    replay_session = ReplaySession(tmp_path)
    try:
        replayed = await read_device(replay_session)
    finally:
        await replay_session.close()
    assert "GetDeviceInformation.xml" in recorded_files(tmp_path)
    assert without_clock(replayed) == without_clock(live)


def recorded_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def without_clock(report: DeviceReport) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    for volatile in ("clock_offset_s", "device_time"):
        data["onvif"].pop(volatile)
    return data
