"""End to end in namespace mode (root): the small site on a real L2 segment, standard ports, and
`asbuilt scan` run inside the scanner's namespace — real ARP (scapy), WS-Discovery multicast and
mDNS — compared with the ground truth. Namespaces are named asb-f-* and removed afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.schema import ProblemKind, Snapshot
from tests.agent.labproc import LabProcess
from tests.agent.truthcheck import compare

ASBUILT = Path(sys.executable).with_name("asbuilt")

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="namespace mode needs root (the loopback e2e test runs instead)"
    ),
]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabProcess]:
    with LabProcess("small", mode="netns", lab_id="f", unprivileged=False) as running:
        yield running


def test_scan_from_the_scanner_namespace_matches_the_ground_truth(lab: LabProcess, tmp_path: Path) -> None:
    assert lab.scanner_netns == "asb-f-scan"
    creds = lab.write_credentials(tmp_path / "creds.yaml")
    argv = ["ip", "netns", "exec", lab.scanner_netns, str(ASBUILT), "scan", lab.scope, "--site", "small",
            "--creds", str(creds), "--json", "--timeout", "10"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.stdout, done.stderr[-3000:]
    snapshot = Snapshot.model_validate(json.loads(done.stdout))
    truth = lab.truth()
    result = compare(snapshot, truth, no_endpoint={"cam-corridor"})
    print(result.summary())
    assert result.mismatches == [], "\n".join(result.mismatches)
    significant = [p for p in snapshot.problems if p.kind is not ProblemKind.UNSUPPORTED]
    assert significant == [] and done.returncode == 0, done.stderr[-3000:]
    # Real discovery ran: ARP by raw frames saw every host, WS-Discovery by multicast every camera
    # but the one with WS-Discovery off, and mDNS the Axis cameras.
    assert any(m.startswith("arp:scapy") for m in snapshot.scan.methods), snapshot.scan.methods
    seen = {d.network.ip: set(d.discovered_by) for d in snapshot.devices}
    assert all("arp" in seen[d.ip] for d in truth.devices)
    assert all("wsd" in seen[d.ip] for d in truth.devices if d.name != "cam-corridor")
    assert "wsd" not in seen[truth.device("cam-corridor").ip]
    axis = [d for d in truth.devices if d.vendor == "AXIS"]
    assert axis and all("mdns" in seen[d.ip] for d in axis)
    # Nothing but the site: 14 ONVIF devices and 2 switches (the scanner itself is not listed).
    assert len(snapshot.devices) == len(truth.devices) + len(truth.switches)


def test_scan_without_raw_socket_privilege_degrades_arp_and_says_so(lab: LabProcess) -> None:
    # Without CAP_NET_RAW the ARP sweep falls back to the kernel neighbour table: the scan must still
    # find the site and say, on stderr, that it degraded. The capability is dropped from the bounding
    # and inheritable sets (still root otherwise), so the test does not depend on where the checkout
    # lives: a clone under /root or in a 0700 directory works as well as one in /tmp.
    creds = Path(tempfile.mkdtemp(prefix="asb-f-creds-"))
    try:
        path = lab.write_credentials(creds / "creds.yaml")
        argv = ["ip", "netns", "exec", str(lab.scanner_netns), "setpriv", "--bounding-set=-net_raw",
                "--inh-caps=-net_raw", str(ASBUILT), "scan", lab.scope, "--site", "small", "--creds",
                str(path), "--json", "--timeout", "10"]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd="/")
    finally:
        shutil.rmtree(creds, ignore_errors=True)
    assert done.stdout, done.stderr[-3000:]
    assert "CAP_NET_RAW" in done.stderr
    snapshot = Snapshot.model_validate(json.loads(done.stdout))
    assert any(m.startswith("arp:neigh") for m in snapshot.scan.methods), snapshot.scan.methods
    result = compare(snapshot, lab.truth(), no_endpoint={"cam-corridor"})
    print(result.summary())
    assert result.mismatches == [], "\n".join(result.mismatches)
