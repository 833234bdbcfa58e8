"""ONVIF parsing over recorded replies: one folder per device/firmware, a new folder is a new test.

Each folder under tests/fixtures/onvif/ holds the HTTP bodies a device sent (<Operation>.xml,
<Operation>.<ProfileToken>.xml), meta.json (the address we reached it at, the agent's clock during
the recording, planted secrets) and expected.json (the DeviceReport). The bodies go through the same
reply guard and zeep deserialisation as live replies (drivers/onvif/replay.py).

Regenerate an expected.json after reading the diff by eye:
    ASBUILT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/drivers/test_onvif_fixtures.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from drivers.onvif.collect import read_device
from drivers.onvif.replay import ReplaySession
from drivers.schema import Role

FIXTURES = Path(__file__).parent.parent / "fixtures" / "onvif"
FOLDERS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


async def replay(folder: Path) -> dict:
    session = ReplaySession(folder)
    agent_time = dt.datetime.fromisoformat(session.meta["agent_time"])
    try:
        report = await read_device(session, now=lambda: agent_time)
    finally:
        await session.close()
    return report.model_dump(mode="json")


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
async def test_fixture_folder_gives_expected_report(folder: Path) -> None:
    got = await replay(folder)
    expected_path = folder / "expected.json"
    if os.environ.get("ASBUILT_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(expected_path.read_text())


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
async def test_planted_secrets_never_reach_the_report(folder: Path) -> None:
    secrets = json.loads((folder / "meta.json").read_text()).get("secrets", [])
    text = json.dumps(await replay(folder))
    for secret in secrets:
        assert secret not in text


async def test_recorder_lists_channels_with_their_cameras() -> None:
    got = await replay(FIXTURES / "dahua_nvr4108hs-8p-4ks2_4.001.0000000.3.r")
    assert got["role"] == Role.RECORDER
    assert got["recorder"]["channel_count"] == 4
    assert [c["source_address"] for c in got["recorder"]["channels"]] == [
        "192.0.2.61",
        "192.0.2.62",
        "192.0.2.63",
        "192.0.2.71",
    ]
    assert got["onvif"]["clock_offset_s"] == 7200.0


async def test_invalid_utf8_device_information_is_a_note_not_a_guess() -> None:
    got = await replay(FIXTURES / "hikvision_ds-2cd2143g2-i_v5.7.3_invalid-utf8")
    assert got["identity"]["model"] is None  # refused, not half-decoded
    assert got["identity"]["mac"] == "c0:56:e3:44:10:01"  # the rest of the device still reads
    assert {"kind": "protocol", "operation": "GetDeviceInformation"}.items() <= got["notes"][0].items()


async def test_device_without_get_services_falls_back_to_capabilities() -> None:
    got = await replay(FIXTURES / "oem_ipc-xm530_v5.00.r02_capabilities-only")
    assert {s["namespace"] for s in got["onvif"]["services"]} >= {"http://www.onvif.org/ver10/media/wsdl"}
    assert (
        got["onvif"]["profiles"][0]["stream_uri"] == "rtsp://10.0.0.90:554/channel=1&stream=0.sdp?real_stream"
    )
