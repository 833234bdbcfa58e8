"""Record the documents tests' input: real scans of the simulated site, before and after changes.

    .venv/bin/python -m tests.documents.record_fixtures            # small and large (200 cameras)
    .venv/bin/python -m tests.documents.record_fixtures --sites small

For each site the lab runs in a child process on loopback (127.44.x.y, unprivileged ports), is
scanned once as installed (the baseline), then changes the way a real site does between visits (a
camera added, one removed, one swapped on its port, one moved, a firmware update, a stream setting)
and is scanned again. Both snapshots are written gzipped to tests/documents/fixtures/ — the tests
and benchmarks/handover.py read them instead of scanning on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.config import ScanConfig, parse_ports
from agent.credentials import parse_credentials
from agent.pipeline import run_scan
from drivers.schema import Snapshot
from tests.agent.labproc import LabProcess
from tests.documents.snapshots import FIXTURES, fixture_path

LAB_ID, LAB_BASE = "d", 44  # loopback 127.44.x.y: no other test or benchmark uses it

# Per site: (kind, arguments) applied between the two scans; ports are free on each site.
CHANGES: dict[str, list[tuple[str, dict[str, str | int]]]] = {
    "small": [
        ("add", {"like": "cam-office", "name": "cam-new", "port": "sw-core:11"}),
        ("remove", {"name": "cam-dock-2"}),
        ("swap", {"name": "cam-gate"}),
        ("move", {"name": "cam-office", "to": "sw-core:12"}),
        ("firmware", {"name": "cam-lobby", "version": "10.12.200"}),
        ("setting", {"name": "cam-parking", "profile": "profile_1", "bitrate_kbps": 8192}),
    ],
    "large": [
        ("add", {"like": "cam-002", "name": "cam-201", "port": "sw-02:40"}),
        ("remove", {"name": "cam-017"}),
        ("swap", {"name": "cam-050"}),
        ("move", {"name": "cam-100", "to": "sw-04:40"}),
        ("firmware", {"name": "cam-009", "version": "10.12.200"}),
        ("setting", {"name": "cam-033", "profile": "profile_1", "bitrate_kbps": 8192}),
    ],
}


def _scan(lab: LabProcess, site: str) -> Snapshot:
    config = ScanConfig(
        site=site, scopes=(lab.scope,), ports=parse_ports(lab.ports_option), timeout_s=5.0, wsd_window_s=1.0
    )
    result = asyncio.run(run_scan(config, parse_credentials(lab.credentials())))
    return result.snapshot


def scan_site(site: str) -> tuple[Snapshot, Snapshot]:
    """Scan the simulated site as installed, change it, scan it again: (baseline, current)."""
    with LabProcess(site, mode="loopback", lab_id=LAB_ID, base=LAB_BASE) as lab:
        baseline = _scan(lab, site)
        for kind, args in CHANGES[site]:
            lab.change(kind, **args)
        return baseline, _scan(lab, site)


def record(site: str) -> None:
    for when, snapshot in zip(("baseline", "current"), scan_site(site), strict=True):
        data = gzip.compress(snapshot.canonical_json().encode(), compresslevel=9, mtime=0)
        fixture_path(site, when).write_bytes(data)
        print(f"{site} {when}: {len(snapshot.devices)} devices, {len(snapshot.problems)} problems, "
              f"{len(data) / 1024:.0f} KiB gzipped")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", default="small,large")
    args = parser.parse_args()
    FIXTURES.mkdir(exist_ok=True)
    for site in args.sites.split(","):
        record(site.strip())


if __name__ == "__main__":
    main()
