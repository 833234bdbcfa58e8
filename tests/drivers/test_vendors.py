"""Vendor declarations (drivers/vendors): hints from every discovery source, SNMP recognition, mDNS
identity, and every quirk tied to a fixture that exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers import vendors
from drivers.base import Candidate
from lab.site import load_site

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("mac", "vendor"),
    [
        ("c0:56:e3:44:10:01", "HIKVISION"),
        ("c4:2f:90:11:00:01", "HIKVISION"),  # an OUI no hand-kept table of ours ever listed
        ("ac:cc:8e:5a:01:01", "AXIS"),
        ("3c:ef:8c:9b:30:01", "Dahua"),
        ("00:09:18:6c:40:01", "Hanwha Vision"),  # registered as Samsung Techwin
        ("48:ea:63:22:00:01", "Uniview"),
        ("00:11:32:ab:12:34", "Synology"),
        ("24:5e:be:00:00:01", "QNAP"),
        ("02:00:00:00:00:01", None),  # locally administered: no registrant
    ],
)
def test_oui_hint_from_the_ieee_registry(mac: str, vendor: str | None) -> None:
    assert vendors.vendor_hint(Candidate(ip="192.0.2.1", mac=mac)) == vendor


def test_scope_txt_and_server_header_hints() -> None:
    scopes = ["onvif://www.onvif.org/name/Uniview", "onvif://www.onvif.org/hardware/IPC2124"]
    assert vendors.vendor_hint(Candidate(ip="192.0.2.1", wsd_scopes=scopes)) == "Uniview"
    assert vendors.vendor_hint(Candidate(ip="192.0.2.1", mdns_txt={"vendor": "Synology"})) == "Synology"
    assert vendors.vendor_hint(Candidate(ip="192.0.2.1", http_server="App-webs/")) == "HIKVISION"
    assert vendors.vendor_hint(Candidate(ip="192.0.2.1", mdns_services=["_axis-video._tcp"])) == "AXIS"
    # The vendor's own scope outweighs an OEM board's OUI.
    mixed = Candidate(ip="192.0.2.1", mac="c0:56:e3:00:00:01", wsd_scopes=scopes)
    assert vendors.vendor_hint(mixed) == "Uniview"


def test_snmp_recognition_and_recorder_identity() -> None:
    descr = "Linux nas-ss 4.4.302+ #64570 SMP x86_64 GNU/Linux synology_geminilake_ds920p"
    syno = vendors.snmp_profile("1.3.6.1.4.1.8072.3.2.10", descr)
    assert syno is not None and syno.name == "Synology" and syno.is_recorder_host
    rows = {syno.snmp_identity_oids["model"]: b"DS920+", syno.snmp_identity_oids["serial"]: b"2150PDN123456"}
    ident = vendors.identity_from_snmp(syno, rows, descr, "nas-ss")
    assert (ident.vendor, ident.model, ident.serial, ident.hostname) == (
        "Synology",
        "DS920+",
        "2150PDN123456",
        "nas-ss",
    )
    hik = vendors.snmp_profile(None, "Hikvision DS-7616NI-I2/16P V4.62.210 build 220617")
    assert hik is not None
    got = vendors.identity_from_snmp(hik, {}, "Hikvision DS-7616NI-I2/16P V4.62.210 build 220617", None)
    assert (got.model, got.firmware) == ("DS-7616NI-I2/16P", "V4.62.210 build 220617")
    qnap = vendors.snmp_profile("1.3.6.1.4.1.24681.1", "QNAP Systems, Inc. TS-453D 5.1.2.2533")
    assert qnap is not None
    got = vendors.identity_from_snmp(qnap, {}, "QNAP Systems, Inc. TS-453D 5.1.2.2533", None)
    assert (got.vendor, got.model, got.firmware) == ("QNAP", "TS-453D", "5.1.2.2533")
    dahua = vendors.snmp_profile(None, "Dahua NVR4108HS-8P-4KS2 4.001.0000000.3.R")
    assert (
        dahua is not None
        and vendors.identity_from_snmp(dahua, {}, "Dahua NVR4108HS-8P-4KS2 4.001.0000000.3.R", None).model
        == "NVR4108HS-8P-4KS2"
    )
    assert vendors.dialect_for("1.3.6.1.4.1.9.1.1208", "", {"cli.cisco_ios"}) == "cli.cisco_ios"
    assert vendors.dialect_for(None, "Aruba J9773A", {"cli.hp_procurve"}) == "cli.hp_procurve"


def test_mdns_txt_identity() -> None:
    txt = {"vendor": "Synology", "model": "DS920+", "serial": "2150PDN123456", "version_major": "7",
           "version_minor": "2", "version_build": "64570", "mac_address": "00:11:32:ab:12:34"}  # fmt: skip
    ident = vendors.identity_from_mdns(Candidate(ip="192.0.2.1", mdns_txt=txt))
    assert ident is not None
    assert (ident.model, ident.serial, ident.firmware, ident.mac) == (
        "DS920+",
        "2150PDN123456",
        "DSM 7.2-64570",
        "00:11:32:ab:12:34",
    )
    assert vendors.identity_from_mdns(Candidate(ip="192.0.2.1", mdns_txt={"macaddress": "X"})) is None


def test_every_quirk_is_tied_to_a_fixture_that_exists() -> None:
    for profile in vendors.profiles():
        for name, quirk in profile.quirks.items():
            if quirk.fixture.startswith("lab:"):
                site, device = quirk.fixture.removeprefix("lab:").split("/")
                assert any(d.name == device for d in load_site(site).devices), (profile.name, name)
            else:
                assert (FIXTURES / quirk.fixture).is_dir(), (profile.name, name, quirk.fixture)
