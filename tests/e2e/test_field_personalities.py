"""End to end: the field personalities of lab/sites/field.yaml ("devices we never met", issue #8 and
#14 item 6), scanned with `asbuilt scan` over real sockets on loopback and compared with the site's
ground truth. One test per class of field behaviour:

1. GetServices crashes          -> identity still read, the failure is one problem for that call;
2. vendor plain from OUI/scopes -> its own vendor's login is tried first, other vendors' never;
3. NAS recorder (Synology)      -> recorder with vendor, model, serial, firmware from mDNS TXT + SNMP;
4. short/numeric/common secrets -> never blank a serial, a user name or a driver name;
5. WS-Discovery replies dropped -> ten scans of the unchanged site, one content hash;
6. optional ONVIF calls missing -> a capability on the device, not a problem;
#14.6 cloned endpoint references / a routed camera whose IP changed -> identity by MAC / serial.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.diff import ChangeKind, diff_snapshots
from drivers.schema import ProblemKind, Role, Snapshot
from tests.agent.labproc import LabProcess
from tests.agent.truthcheck import compare

ASBUILT = Path(sys.executable).with_name("asbuilt")
UNIVIEW_OPTIONAL = {"GetDNS", "GetNTP", "GetNetworkProtocols", "GetNetworkDefaultGateway"}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabProcess]:
    with LabProcess("field", mode="loopback", lab_id="p", base=27) as running:
        yield running


def scan(
    lab: LabProcess, tmp_path: Path, creds: list[dict[str, Any]] | None = None, *extra: str
) -> tuple[int, Snapshot, str]:
    path = tmp_path / "creds.yaml"
    if creds is None:
        lab.write_credentials(path)
    else:
        path.write_text(yaml.safe_dump({"credentials": creds}, sort_keys=False))
        path.chmod(0o600)
    argv = [str(ASBUILT), "scan", lab.scope, "--site", "field", "--creds", str(path), "--json",
            "--ports", lab.ports_option, "--timeout", "5", "--wsd-window", "1", *extra]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.stdout, f"no snapshot on stdout; stderr:\n{done.stderr[-3000:]}"
    return done.returncode, Snapshot.model_validate(json.loads(done.stdout)), done.stderr


def ip_of(lab: LabProcess, name: str) -> str:
    return lab.address(lab.site.device(name).ip)


def device_at(snapshot: Snapshot, ip: str) -> Any:
    found = [d for d in snapshot.devices if d.network.ip == ip]
    assert len(found) == 1, f"{len(found)} devices at {ip}"
    return found[0]


def test_field_site_matches_the_ground_truth(lab: LabProcess, tmp_path: Path) -> None:
    """Classes 1, 3, 4 and 6 together, on one scan: every identity field right, no secret blanked."""
    _code, snapshot, stderr = scan(lab, tmp_path)
    result = compare(snapshot, lab.truth(), lab.address, no_endpoint={"cam-flaky"})
    print(result.summary())
    assert result.mismatches == [], "\n".join(result.mismatches)

    # 1. GetServices and GetCapabilities crash: identity read anyway, the failure is that call's problem.
    svcbug = device_at(snapshot, ip_of(lab, "cam-svcbug"))
    truth = lab.site.device("cam-svcbug")
    ident = svcbug.identity
    assert (ident.vendor, ident.model, ident.serial, ident.firmware) == (
        truth.vendor, truth.model, truth.serial, truth.firmware,
    )  # fmt: skip
    svc_problems = [p for p in snapshot.problems if p.target == ip_of(lab, "cam-svcbug")]
    assert svc_problems and all(p.kind is ProblemKind.PROTOCOL for p in svc_problems)
    assert all("GetServices" in p.message or "GetCapabilities" in p.message for p in svc_problems)

    # 3. The NAS recorder: a recorder, identified from mDNS TXT and SNMP (no ONVIF at all).
    nas = device_at(snapshot, ip_of(lab, "nas-ss"))
    assert nas.role is Role.RECORDER and nas.onvif is None and "snmp" in nas.drivers

    # 4. The serial "2150PDN123456" contains the camera password "12345"; user names "admin" equal
    # the password "admin"; "cli.cisco_ios" contains the enable secret "cisco": nothing is blanked,
    # nothing is flagged, and the distinctive secrets are nowhere.
    assert nas.identity.serial == "2150PDN123456"
    assert "admin" in {u.username for d in snapshot.devices if d.onvif for u in d.onvif.users}
    assert any("cli.cisco_ios" in d.drivers for d in snapshot.devices)
    assert not [p for p in snapshot.problems if p.stage.value == "snapshot"], snapshot.problems
    text = snapshot.canonical_json()
    assert not [s for s in lab.secrets() if len(s) >= 8 and s in text]
    for config in snapshot.configs:  # short secrets never stand alone in configuration text
        assert not {"12345", "admin", "cisco", "public"} & set(config.text.split()), config.text[:500]

    # 6. Optional calls the Uniview firmware leaves out: a capability fact, not a problem.
    unv = device_at(snapshot, ip_of(lab, "cam-unv-1"))
    assert unv.onvif is not None and set(unv.onvif.unsupported_operations) >= UNIVIEW_OPTIONAL
    assert not [p for p in snapshot.problems if p.kind is ProblemKind.UNSUPPORTED], snapshot.problems
    assert [p.target for p in snapshot.problems] == [ip_of(lab, "cam-svcbug")] * len(svc_problems), stderr[
        -2000:
    ]


def test_nas_recorder_identity_from_mdns_txt_alone(lab: LabProcess, tmp_path: Path) -> None:
    """3. With its SNMP agent silent, the NAS is still a Synology recorder with model, serial and DSM
    version: from its mDNS _http._tcp TXT record. (mDNS on a shared loopback is multicast: a scan that
    heard no announcement at all is repeated once.)"""
    lab.change("fault", name="nas-ss", fault="snmp_timeout", value=True)
    try:
        for _attempt in range(2):
            _code, snapshot, _stderr = scan(lab, tmp_path)
            nas = device_at(snapshot, ip_of(lab, "nas-ss"))
            if "mdns" in nas.discovered_by:
                break
    finally:
        lab.change("fault", name="nas-ss", fault="snmp_timeout", value=False)
    truth = lab.site.device("nas-ss")
    assert "mdns" in nas.discovered_by and "snmp" not in nas.drivers
    assert nas.role is Role.RECORDER
    ident = nas.identity
    assert (ident.vendor, ident.model, ident.serial, ident.firmware, ident.mac) == (
        "Synology", truth.model, truth.serial, truth.firmware, truth.mac,
    )  # fmt: skip


def test_vendor_hints_order_the_credentials(lab: LabProcess, tmp_path: Path) -> None:
    """2. Three other-vendor logins listed first would hit the lockout cap before the Uniview one: the
    OUI (48:ea:63, Zhejiang Uniview) and the name/Uniview scope must put the Uniview set first."""
    target = ip_of(lab, "cam-unv-1")
    creds = [c for c in lab.credentials() if target not in c.get("targets", [])]
    wrong = [("axis-0", "root", "AXIS"), ("axis-1", "root", "AXIS"), ("axis-2", "root", "AXIS")]
    wrong.append(("hik-default", "admin", "HIKVISION"))
    creds = [
        *(
            {"name": n, "username": u, "password": f"wrong-{n}", "vendors": [v], "drivers": ["onvif"]}
            for n, u, v in wrong
        ),
        {"name": "uniview-default", "username": "admin", "password": "12345", "vendors": ["Uniview"]},
        *creds,
    ]
    _code, snapshot, stderr = scan(lab, tmp_path, creds)
    unv = device_at(snapshot, target)
    assert unv.identity.serial == lab.site.device("cam-unv-1").serial, stderr[-2000:]
    assert not [p for p in snapshot.problems if p.target == target], snapshot.problems


def test_ten_rescans_of_the_unchanged_site_give_one_content_hash(lab: LabProcess, tmp_path: Path) -> None:
    """5. cam-flaky drops half of the WS-Discovery bursts and has no GetEndpointReference; the site
    does not change, so ten scans must give one content hash (and the collector's diff no change)."""
    hashes: list[str] = []
    heard: list[bool] = []
    snapshots: list[Snapshot] = []
    for _ in range(10):
        _code, snapshot, _stderr = scan(lab, tmp_path)
        hashes.append(snapshot.content_hash())
        flaky = device_at(snapshot, ip_of(lab, "cam-flaky"))
        heard.append("wsd" in flaky.discovered_by)
        snapshots.append(snapshot)
    print("heard by WS-Discovery:", heard)
    assert not all(heard), "the personality never dropped a reply: the test proves nothing"
    assert len(set(hashes)) == 1, _what_differs(snapshots)
    for old, new in itertools.pairwise(snapshots):
        assert diff_snapshots(old, new).empty


def _what_differs(snapshots: list[Snapshot]) -> str:
    """The first pair of scans whose significant content differs, line by line."""
    import difflib

    from drivers.schema import significant

    texts = [json.dumps(significant(s), indent=1, sort_keys=True).splitlines() for s in snapshots]
    for i, text in enumerate(texts[1:], start=1):
        if text != texts[0]:
            return f"scan 1 vs scan {i + 1}:\n" + "\n".join(
                list(difflib.unified_diff(texts[0], text, n=1))[:80]
            )
    return "no difference"


def test_cloned_endpoint_references_do_not_merge_devices(lab: LabProcess, tmp_path: Path) -> None:
    """#14.6: two cameras of one cloned image announce the same endpoint reference. Unreadable (their
    logins refused) and without a visible MAC, they must stay two devices, not one plus a problem."""
    for name in ("cam-clone-a", "cam-clone-b"):
        lab.change("fault", name=name, fault="reject_credentials", value=True)
        lab.change("fault", name=name, fault="hide_mac", value=True)
    try:
        _code, snapshot, _stderr = scan(lab, tmp_path)
    finally:
        for name in ("cam-clone-a", "cam-clone-b"):
            lab.change("fault", name=name, fault="reject_credentials", value=False)
            lab.change("fault", name=name, fault="hide_mac", value=False)
    a, b = device_at(snapshot, ip_of(lab, "cam-clone-a")), device_at(snapshot, ip_of(lab, "cam-clone-b"))
    assert a.id != b.id and not a.id.startswith("wsd:") and not b.id.startswith("wsd:")
    assert a.role is Role.CAMERA and b.role is Role.CAMERA


def test_routed_camera_keeps_its_identity_when_its_ip_changes(lab: LabProcess, tmp_path: Path) -> None:
    """#14.6 the other way round: no MAC visible (routed subnet), the camera's IP changes; its serial
    keeps its identity, so the collector's diff says "changed" (the IP), not missing + added."""
    _code, before, _ = scan(lab, tmp_path)
    lab.change("ip", name="cam-routed", ip="10.78.0.59")
    try:
        _code, after, _ = scan(lab, tmp_path)
    finally:
        lab.change("ip", name="cam-routed", ip="10.78.0.51")
    routed_id = lab.truth().device("cam-routed").device_id
    assert routed_id.startswith("serial:")
    diff = diff_snapshots(before, after)
    mine = [c for c in diff.changes if c.device_id == routed_id]
    assert [c.kind for c in mine] == [ChangeKind.CHANGED], diff.changes
    assert any(f.path.startswith("network.ip") for f in mine[0].fields)
    assert not diff.of_kind(ChangeKind.ADDED) and not diff.of_kind(ChangeKind.MISSING)
