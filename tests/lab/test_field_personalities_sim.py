"""The field personalities' simulator pieces, without a network: what the NAS serves over SNMP and
mDNS, which vendors answer GetEndpointReference, and how WS-Discovery loss is decided per burst."""

from __future__ import annotations

from lab.mdns import announces_mdns, synology_txt
from lab.onvif import vendor
from lab.site import load_site
from lab.snmp import nas
from lab.state import LabState
from lab.wsd import _Responder


def test_nas_serves_its_identity_in_the_synology_mib_and_mdns_txt() -> None:
    device = load_site("field").device("nas-ss")
    rows = dict(nas.nas_rows(device))
    assert rows[nas.SYNO_SERIAL] == ("str", b"2150PDN123456")
    assert rows[nas.SYNO_MODEL] == ("str", b"DS920+")
    assert b"synology_" in rows[nas.mib.SYS_DESCR][1] and b"#64570" in rows[nas.mib.SYS_DESCR][1]
    txt = synology_txt(device)
    assert (txt["vendor"], txt["model"], txt["serial"], txt["version_build"]) == (
        "Synology", "DS920+", "2150PDN123456", "64570",
    )  # fmt: skip
    assert announces_mdns(device)


def test_endpoint_reference_and_optional_calls_per_vendor() -> None:
    site = load_site("field")
    assert vendor.style(site.device("cam-routed")).endpoint_reference  # Axis answers it
    assert not vendor.style(site.device("cam-flaky")).endpoint_reference  # Dahua does not
    assert {"GetDNS", "GetNTP"} <= vendor.style(site.device("cam-unv-1")).unsupported
    clones = {site.device("cam-clone-a").endpoint_uuid, site.device("cam-clone-b").endpoint_uuid}
    assert len(clones) == 1
    assert not announces_mdns(site.device("cam-routed"))  # hide_mac: out of mDNS's reach


def test_wsd_loss_is_decided_once_per_burst() -> None:
    site = load_site("field")
    responder = _Responder(LabState(site), "cam-flaky", None, None)  # type: ignore[arg-type]
    scanner = ("127.0.0.1", 40000)
    decisions = [responder._dropped(scanner, 0.5) for _ in range(4)]  # one scanner's repeated probes
    assert len(set(decisions)) == 1
    assert not responder._dropped(("127.0.0.1", 40001), 0.0)
    lost = sum(responder._dropped(("127.0.0.1", 41000 + n), 0.5) for n in range(400))
    assert 120 < lost < 280  # about half of the scans hear nothing
