"""ONVIF driver pieces that need no device: URI hygiene, channel numbering, scopes, the reply guard,
error translation, NAT-safe addresses, scoring, and the import side effect we undo."""

from __future__ import annotations

import subprocess
import sys

import pytest
from zeep.exceptions import Fault, TransportError

from drivers.base import Candidate
from drivers.errors import AuthError, DeviceTimeout, NotSupported, ProtocolError, Unreachable
from drivers.onvif import OnvifDriver
from drivers.onvif.collect import decide_role
from drivers.onvif.parse import channel_number, location_from_scopes, scope_values, strip_credentials
from drivers.onvif.transport import check_reply, reachable_xaddr, translate
from drivers.schema import Role


@pytest.mark.parametrize(
    ("uri", "clean"),
    [
        (
            "rtsp://admin:Secret1@10.0.0.5:554/Streaming/Channels/101",
            "rtsp://10.0.0.5:554/Streaming/Channels/101",
        ),
        ("rtsp://10.0.0.5/live?user=admin&password=Secret1&ch=1", "rtsp://10.0.0.5/live?ch=1"),
        (
            "rtsp://10.0.0.5:554/user=admin&password=Secret1&channel=1&stream=0.sdp",
            "rtsp://10.0.0.5:554/channel=1&stream=0.sdp",
        ),
        ("rtsp://[fe80::1]:554/s?PWD=Secret1", "rtsp://[fe80::1]:554/s"),
        (
            "rtsp://10.0.0.5/onvif-media/media.amp?profile=p1&streamtype=unicast",
            "rtsp://10.0.0.5/onvif-media/media.amp?profile=p1&streamtype=unicast",
        ),
    ],
)
def test_stream_uri_loses_every_credential(uri: str, clean: str) -> None:
    assert strip_credentials(uri) == clean
    assert "Secret1" not in strip_credentials(uri)


@pytest.mark.parametrize(
    ("token", "position", "channel"),
    [
        ("Record_3", 1, 3),
        ("Recording12", 1, 12),
        ("0101", 1, 1),
        ("1601", 2, 16),
        ("101", 5, 1),
        ("abc", 7, 7),
        (None, 2, 2),
    ],
)
def test_channel_number_from_vendor_tokens(token: str | None, position: int, channel: int) -> None:
    assert channel_number(token, position) == channel


def test_location_scope_is_decoded_and_factory_defaults_ignored() -> None:
    scopes = (
        "onvif://www.onvif.org/location/country/china",
        "onvif://www.onvif.org/location/Yard%20east%20fence%2C%20pole%203",
        "onvif://www.onvif.org/type/video_encoder",
    )
    assert location_from_scopes(scopes) == "Yard east fence, pole 3"
    assert location_from_scopes(scopes[:1]) is None
    assert scope_values(scopes, "type") == ["video_encoder"]


def test_reply_guard() -> None:
    check_reply(200, b'<?xml version="1.0" encoding="UTF-8"?><a>ok</a>')
    check_reply(500, b"")
    with pytest.raises(AuthError):
        check_reply(401, b"<html>401 Unauthorized</html>")
    with pytest.raises(ProtocolError, match="invalid XML"):
        check_reply(200, b"<a><b>cut off")
    with pytest.raises(ProtocolError, match="invalid XML"):
        check_reply(200, b'<?xml version="1.0" encoding="UTF-8"?><a>\xc3\x28\xff</a>')
    with pytest.raises(ProtocolError, match="DOCTYPE"):
        check_reply(200, b'<!DOCTYPE a [<!ENTITY x "xx">]><a>&x;</a>')
    with pytest.raises(ProtocolError, match="limit"):
        check_reply(200, b"<a>" + b" " * (5 * 1024 * 1024) + b"</a>")


def test_library_errors_map_to_driver_errors() -> None:
    assert isinstance(translate(Fault("Sender not authorized"), "GetUsers"), AuthError)
    assert isinstance(translate(Fault("Optional Action Not Implemented"), "GetNTP"), NotSupported)
    assert isinstance(translate(Fault("Internal error"), "GetProfiles"), ProtocolError)
    assert isinstance(translate(TransportError("x", status_code=401), "GetServices"), AuthError)
    assert isinstance(translate(TimeoutError(), "GetScopes"), DeviceTimeout)
    assert isinstance(translate(ConnectionRefusedError(), "GetScopes"), Unreachable)
    assert translate(TimeoutError(), "GetScopes").operation == "GetScopes"


def test_services_are_called_where_we_reached_the_device() -> None:
    # NAT: the camera names its LAN address; we keep path and scheme, use our host and port
    assert (
        reachable_xaddr("http://10.0.0.90:8899/onvif/media", "192.0.2.90", 80)
        == "http://192.0.2.90:80/onvif/media"
    )
    # a service on its own port of the address we reached stays as advertised
    assert (
        reachable_xaddr("http://192.0.2.90:8999/onvif/events", "192.0.2.90", 80)
        == "http://192.0.2.90:8999/onvif/events"
    )


def test_score_from_discovery_hints() -> None:
    assert OnvifDriver.score(Candidate(ip="192.0.2.1", wsd_types=["dn:NetworkVideoTransmitter"])) == 90
    assert OnvifDriver.score(Candidate(ip="192.0.2.1", wsd_scopes=["onvif://www.onvif.org/name/x"])) == 80
    assert OnvifDriver.score(Candidate(ip="192.0.2.1", open_ports={80})) == 10
    assert OnvifDriver.score(Candidate(ip="192.0.2.1", open_ports={22, 80, 161})) == 0
    assert OnvifDriver.score(Candidate(ip="192.0.2.1")) == 0


def test_role_edge_storage_camera_is_not_a_recorder() -> None:
    camera_scopes = ("onvif://www.onvif.org/type/video_encoder",)
    assert decide_role(camera_scopes, (), None) is Role.CAMERA
    assert decide_role(camera_scopes, (), 1) is Role.CAMERA  # Profile G camera with an SD card
    assert decide_role(camera_scopes, (), 4) is Role.RECORDER
    assert decide_role(("onvif://www.onvif.org/type/NetworkVideoStorage",), (), None) is Role.RECORDER


def test_importing_the_driver_leaves_the_root_logger_alone() -> None:
    code = "import logging, drivers.onvif; r = logging.getLogger(); print(len(r.handlers), r.level)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["0", str(30)]
