"""`asbuilt record` against a live simulated camera (real HTTP on loopback): the folder it writes is
anonymised (no address, MAC, serial, name or password of the device left), replays to the same
identity, and carries its expected.json, so it is a fixture folder as it stands."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from drivers.onvif.anonymise import Anonymiser
from tests.agent.labproc import LabProcess

ASBUILT = Path(sys.executable).with_name("asbuilt")


@pytest.fixture(scope="module")
def lab() -> Iterator[LabProcess]:
    with LabProcess("field", mode="loopback", lab_id="r", base=28) as running:
        yield running


def test_record_writes_an_anonymised_fixture_folder(lab: LabProcess, tmp_path: Path) -> None:
    device = lab.site.device("cam-unv-1")
    creds = tmp_path / "creds.yaml"
    creds.write_text(yaml.safe_dump({"credentials": [
        {"name": "unv", "username": device.credential.username, "password": device.credential.password}
    ]}))  # fmt: skip
    creds.chmod(0o600)
    out = tmp_path / "uniview_recorded"
    port = lab.ports_option.split(",")[0].split("=")[1]
    argv = [
        str(ASBUILT),
        "record",
        lab.address(device.ip),
        "--out",
        str(out),
        "--creds",
        str(creds),
        "--port",
        port,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    files = {p.name: p.read_text() for p in out.iterdir()}
    assert {"GetDeviceInformation.xml", "GetScopes.xml", "meta.json", "expected.json"} <= set(files)
    everything = "\n".join(files.values())
    mac_hex = device.mac.replace(":", "").upper()
    for secret in (device.serial, device.mac, mac_hex, lab.address(device.ip), device.ip, device.name,
                   device.placement, device.credential.password):  # fmt: skip
        assert secret not in everything, secret
    expected = json.loads(files["expected.json"])
    ident = expected["identity"]
    assert (ident["vendor"], ident["model"], ident["firmware"]) == (
        device.vendor,
        device.model,
        device.firmware,
    )
    assert ident["serial"] and ident["serial"] != device.serial and len(ident["serial"]) == len(device.serial)
    assert ident["mac"].startswith("02:00:5e:")
    assert set(expected["onvif"]["unsupported_operations"]) >= {"GetDNS", "GetNTP"}


def test_refused_login_and_existing_folder_are_clear_errors(lab: LabProcess, tmp_path: Path) -> None:
    device = lab.site.device("cam-unv-1")
    creds = tmp_path / "creds.yaml"
    creds.write_text(
        yaml.safe_dump({"credentials": [{"name": "wrong", "username": "admin", "password": "nope"}]})
    )
    creds.chmod(0o600)
    port = lab.ports_option.split(",")[0].split("=")[1]
    base = [str(ASBUILT), "record", lab.address(device.ip), "--creds", str(creds), "--port", port]
    refused = subprocess.run(
        [*base, "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 4 and "login refused with 'wrong'" in refused.stderr
    assert "nope" not in refused.stderr and not (tmp_path / "x").exists()
    (tmp_path / "y").mkdir()
    exists = subprocess.run([*base, "--out", str(tmp_path / "y")], capture_output=True, text=True, timeout=60)
    assert exists.returncode == 2 and "exists" in exists.stderr


def test_anonymiser_keeps_one_device_coherent() -> None:
    a = Anonymiser("10.1.2.3")
    body = (
        "<tt:IPv4Address>10.1.2.3</tt:IPv4Address><tt:HwAddress>AC:CC:8E:5A:01:01</tt:HwAddress>"
        "<tds:SerialNumber>ACCC8E5A0101</tds:SerialNumber><tt:Uri>rtsp://root:pw@10.1.2.3:554/x</tt:Uri>"
        "<Address>urn:uuid:4d454930-0000-1000-8000-accc8e5a0101</Address><tt:Gw>10.1.2.1</tt:Gw>"
    )
    out = a.text(body, {"ACCC8E5A0101"}, set())
    assert "10.1.2" not in out and "root:pw@" not in out and "ACCC8E" not in out.upper().replace("02005E", "")
    assert "192.0.2.10" in out and "192.0.2.20" in out and "02:00:5E:00:00:01" in out
    assert a.text(body, {"ACCC8E5A0101"}, set()) == out  # stable mapping
