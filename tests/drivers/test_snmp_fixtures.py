"""Every folder under tests/fixtures/snmp/ is a test: its recorded walk, replayed through the driver's
own walk logic, must give expected.json. A new folder is a new test.

A folder without expected.json gets one written on its first run (which fails once, so it is read by
eye); ASBUILT_UPDATE_GOLDEN=1 rewrites them all after a deliberate change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drivers.base import DeviceReport
from drivers.snmp import oids, read_switch
from drivers.snmp.transport import ReplayTransport

FIXTURES = Path(__file__).parents[1] / "fixtures" / "snmp"
FOLDERS = sorted(p for p in FIXTURES.iterdir() if (p / "device.snmprec").is_file())
UPDATE = os.environ.get("ASBUILT_UPDATE_GOLDEN") == "1"


def report_json(report: DeviceReport) -> dict[str, object]:
    return json.loads(report.model_dump_json())


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
async def test_fixture_folder_gives_expected_report(folder: Path) -> None:
    transport = ReplayTransport.from_folder(folder)
    report = await read_switch(transport, "192.0.2.1")
    got = report_json(report)
    expected_path = folder / "expected.json"
    if UPDATE or not expected_path.exists():
        missing = not expected_path.exists()
        expected_path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        if missing:
            pytest.fail(f"wrote {expected_path.name} for a new fixture folder: review it, then run again")
    assert got == json.loads(expected_path.read_text())
    # What every switch fixture has, so an expected.json full of empties cannot pass unnoticed:
    assert report.switch is not None and report.switch.ports
    assert report.identity is not None and report.identity.vendor and report.identity.serial
    assert report.fdb and report.lldp


def test_there_are_fixtures_of_both_dialects() -> None:
    names = [p.name for p in FOLDERS]
    assert any(n.startswith("cisco_") for n in names) and any(n.startswith("aruba_") for n in names)


async def test_cisco_fdb_is_read_per_vlan_through_community_indexing() -> None:
    transport = ReplayTransport.from_folder(FIXTURES / "cisco_ws-c2960x-24ps-l_15.2-7-e8_lab")
    report = await read_switch(transport, "192.0.2.1")
    walked = [oid for op, oid in transport.requests if op == "walk"]
    assert oids.DOT1Q_TP_FDB_PORT in walked  # Q-BRIDGE first: empty on this Cisco
    assert oids.DOT1D_TP_FDB_PORT not in walked  # not on the plain community: that is VLAN 1 again
    assert {e.vlan for e in report.fdb} == {20}
    assert all(e.source == "snmp:bridge" for e in report.fdb)


async def test_procurve_fdb_comes_from_q_bridge_without_the_switch_itself() -> None:
    transport = ReplayTransport.from_folder(FIXTURES / "aruba_j9773a_synthetic")
    report = await read_switch(transport, "192.0.2.1")
    assert all(e.source == "snmp:q-bridge" for e in report.fdb)
    own = report.identity.mac if report.identity else None
    assert own and own not in {e.mac for e in report.fdb}  # dot1qTpFdbStatus self(4) is skipped
    walked = [oid for op, oid in transport.requests if op == "walk"]
    assert oids.DOT1D_TP_FDB_PORT not in walked  # Q-BRIDGE answered: no second table


async def test_a_device_without_system_group_is_a_protocol_error() -> None:
    from drivers.errors import ProtocolError

    with pytest.raises(ProtocolError):
        await read_switch(ReplayTransport({"1.3.6.1.2.1.2.2.1.2.1": b"eth0"}), "192.0.2.1")


class _Silent:
    """A VLAN context the agent does not answer (no community indexing configured)."""

    def __init__(self, asked: list[int], vlan: int) -> None:
        asked.append(vlan)

    async def walk(self, base: str, *, max_rows: int) -> dict[str, object]:
        from drivers.errors import DeviceTimeout

        raise DeviceTimeout(f"walk {base}: no answer", operation="walk")

    async def get(self, oids: list[str]) -> dict[str, object]:
        from drivers.errors import DeviceTimeout

        raise DeviceTimeout(f"get {oids[0]}: no answer", operation="get")


async def test_per_vlan_instances_that_never_answer_are_given_up_after_two() -> None:
    asked: list[int] = []

    class WithoutIndexing(ReplayTransport):
        def for_vlan(self, vlan: int) -> _Silent:  # type: ignore[override]
            return _Silent(asked, vlan)

    transport = WithoutIndexing.from_folder(FIXTURES / "cisco_ws-c2960x-24ps-l_15.2-7-e8_lab")
    report = await read_switch(transport, "192.0.2.1")
    assert asked == [1, 20]  # VLAN 99 is not asked any more
    assert report.fdb == []
    assert [n.kind.value for n in report.notes] == ["timeout", "timeout", "unsupported"]
    assert report.switch is not None and len(report.switch.ports) == 24  # the rest of the report stands
