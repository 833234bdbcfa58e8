"""End to end: `asbuilt scan` against the simulated small site on loopback addresses (127.26.x.y),
compared field by field with the site's ground truth; then fault personalities, which must become
problem records while everything else is still read correctly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.schema import ProblemKind, Snapshot
from tests.agent.labproc import LabProcess
from tests.agent.truthcheck import compare

ASBUILT = Path(sys.executable).with_name("asbuilt")
EXIT_OK, EXIT_PROBLEMS = 0, 3
FAULTS_OFF = (
    ("cam-stairs", "reject_credentials", False),
    ("cam-office", "invalid_xml", False),
    ("cam-dock-1", "slow_reply_s", 0.0),
    ("sw-yard", "snmp_timeout", False),
    ("cam-lobby", "clock_offset_s", 7200.0),  # its site-file value
)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabProcess]:
    with LabProcess("small", mode="loopback", lab_id="f", base=26) as running:
        yield running


def scan(lab: LabProcess, tmp_path: Path, *extra: str, timeout: str = "10") -> tuple[int, Snapshot, str]:
    creds = lab.write_credentials(tmp_path / "creds.yaml")
    argv = [str(ASBUILT), "scan", lab.scope, "--site", "small", "--creds", str(creds), "--json",
            "--ports", lab.ports_option, "--timeout", timeout, "--wsd-window", "1", *extra]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.stdout, f"no snapshot on stdout; stderr:\n{done.stderr[-3000:]}"
    return done.returncode, Snapshot.model_validate(json.loads(done.stdout)), done.stderr


def test_clean_site_matches_the_ground_truth(lab: LabProcess, tmp_path: Path) -> None:
    code, snapshot, stderr = scan(lab, tmp_path)
    result = compare(snapshot, lab.truth(), lab.address, no_endpoint={"cam-corridor"})
    print(result.summary())
    assert result.mismatches == [], "\n".join(result.mismatches)
    significant = [p for p in snapshot.problems if p.kind is not ProblemKind.UNSUPPORTED]
    assert significant == [] and code == EXIT_OK, stderr[-3000:]
    # The camera with WS-Discovery turned off was still found (TCP + speculative ONVIF) and read.
    corridor = snapshot.device(lab.truth().device("cam-corridor").device_id)
    assert corridor is not None and "wsd" not in corridor.discovered_by and corridor.drivers == ("onvif",)
    # Uplinks by LLDP/switch MAC, cameras behind the unmanaged cabinet switch share the yard port.
    assert {
        (b.switch_id, b.port) for b in snapshot.port_bindings if b.ip and b.ip.endswith((".62", ".63"))
    } == {(lab.truth().switch("sw-yard").device_id, "10")}
    # Switch configurations are there, and no secret of the site is anywhere in the snapshot.
    assert len([c for c in snapshot.configs if c.kind == "running-config"]) == 2
    text = snapshot.canonical_json()
    assert not [s for s in lab.secrets() if s in text]


def test_fault_personalities_become_problems_not_crashes(lab: LabProcess, tmp_path: Path) -> None:
    truth_before = lab.truth()
    lab.change("fault", name="cam-stairs", fault="reject_credentials", value=True)
    lab.change("fault", name="cam-office", fault="invalid_xml", value=True)
    lab.change("fault", name="cam-dock-1", fault="slow_reply_s", value=30.0)
    lab.change("fault", name="sw-yard", fault="snmp_timeout", value=True)
    lab.change("fault", name="cam-lobby", fault="clock_offset_s", value=86400.0)
    try:
        code, snapshot, stderr = scan(lab, tmp_path, "--retries", "0", timeout="8")
    finally:
        for name, fault, off in FAULTS_OFF:
            lab.change("fault", name=name, fault=fault, value=off)
    assert code == EXIT_PROBLEMS, stderr[-3000:]
    by_target = {(p.target, p.driver): p for p in snapshot.problems}
    print("\n".join(f"{p.target} {p.driver} {p.kind.value}: {p.message[:150]}" for p in snapshot.problems))

    def problem(device: str, driver: str) -> ProblemKind | None:
        ip = lab.address(lab.site.device(device).ip) if device.startswith(("cam", "nvr")) else None
        ip = ip or lab.address(lab.site.switch(device).ip)
        found = by_target.get((ip, driver))
        return found.kind if found else None

    assert problem("cam-stairs", "onvif") is ProblemKind.AUTH
    assert problem("cam-office", "onvif") is ProblemKind.PROTOCOL
    assert problem("cam-dock-1", "onvif") is ProblemKind.TIMEOUT
    assert problem("sw-yard", "snmp") is ProblemKind.TIMEOUT
    auth = by_target[(lab.address(lab.site.device("cam-stairs").ip), "onvif")]
    assert (
        "'lab-cam-stairs'" in auth.message
        and lab.site.device("cam-stairs").credential.password not in auth.message
    )
    # Everything else still read and placed: the faulty ones are excluded from the comparison, the
    # yard switch is still identified (by CLI) and its cameras still placed from its CLI tables.
    faulty = {"cam-stairs", "cam-office", "cam-dock-1"}
    result = compare(snapshot, truth_before, lab.address, skip=faulty, no_endpoint={"cam-corridor"})
    print(result.summary())
    assert result.mismatches == [], "\n".join(result.mismatches)
    # An unreadable camera found by WS-Discovery is still listed, as a camera, with what discovery knew.
    stairs = next(
        d for d in snapshot.devices if d.network.ip == lab.address(lab.site.device("cam-stairs").ip)
    )
    assert stairs.role.value == "camera" and stairs.onvif is None
