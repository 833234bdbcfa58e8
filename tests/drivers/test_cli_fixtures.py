"""Every folder under tests/fixtures/cli/<platform>/ is a test: its recorded command outputs, replayed
through the driver's own session logic, must give expected.json, and no line of its secrets.txt may
appear anywhere in the report. A new folder is a new test.

A folder without expected.json gets one written on its first run (which fails once, so it is read by
eye); ASBUILT_UPDATE_GOLDEN=1 rewrites them all after a deliberate change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drivers import get_driver
from drivers.cli.base import CONFIG_KIND, CliDriver, run_commands
from drivers.cli.transport import ReplaySession

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cli"
FOLDERS = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())
UPDATE = os.environ.get("ASBUILT_UPDATE_GOLDEN") == "1"


def driver_for(folder: Path) -> type[CliDriver]:
    driver = get_driver(f"cli.{folder.parent.name}")
    assert issubclass(driver, CliDriver)
    return driver


async def replay(folder: Path) -> tuple[type[CliDriver], ReplaySession, dict[str, str]]:
    driver = driver_for(folder)
    session = ReplaySession(folder)
    outputs = await run_commands(session, driver)
    return driver, session, outputs


@pytest.mark.parametrize("folder", FOLDERS, ids=[f"{p.parent.name}/{p.name}" for p in FOLDERS])
async def test_fixture_folder_gives_expected_report(folder: Path) -> None:
    driver, _session, outputs = await replay(folder)
    report = driver.build_report("192.0.2.1", outputs)
    got = json.loads(report.model_dump_json())
    expected_path = folder / "expected.json"
    if UPDATE or not expected_path.exists():
        missing = not expected_path.exists()
        expected_path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        if missing:
            pytest.fail(f"wrote {expected_path.name} for a new fixture folder: review it, then run again")
    assert got == json.loads(expected_path.read_text())
    assert report.identity is not None and report.switch is not None and report.switch.ports
    assert report.configs.get(CONFIG_KIND), "every fixture folder carries a running-config"
    assert not report.notes, [n.message for n in report.notes]


@pytest.mark.parametrize("folder", FOLDERS, ids=[f"{p.parent.name}/{p.name}" for p in FOLDERS])
async def test_planted_secrets_never_reach_the_report(folder: Path) -> None:
    driver, _session, outputs = await replay(folder)
    secrets = [line for line in (folder / "secrets.txt").read_text().splitlines() if line.strip()]
    assert secrets, "a fixture folder lists the secrets planted in its configuration"
    raw_config = "".join(outputs.values())
    assert all(s in raw_config for s in secrets), "secrets.txt lists only strings that are in the outputs"
    dumped = driver.build_report("192.0.2.1", outputs).model_dump_json()
    leaked = [s for s in secrets if s in dumped or json.dumps(s)[1:-1] in dumped]
    assert not leaked


def test_both_platforms_have_fixture_folders() -> None:
    assert {p.parent.name for p in FOLDERS} >= {"cisco_ios", "hp_procurve"}


async def test_procurve_asks_lldp_detail_for_the_ports_the_summary_lists() -> None:
    folder = FIXTURES / "hp_procurve" / "ntc-templates_samples"
    _driver, session, _outputs = await replay(folder)
    assert session.sent[-1] == "show lldp info remote-device 1,3,7,25,29,36,37,42"


async def test_a_refused_command_becomes_a_note_and_the_rest_is_read(tmp_path: Path) -> None:
    source = FIXTURES / "cisco_ios" / "ws-c2960x-24ps-l_15.2-7-e8_lab"
    for path in source.glob("show_*.txt"):
        if path.name != "show_power_inline.txt":  # a switch without PoE refuses the command
            (tmp_path / path.name).write_text(path.read_text())
    driver = get_driver("cli.cisco_ios")
    assert issubclass(driver, CliDriver)
    outputs = await run_commands(ReplaySession(tmp_path), driver)
    report = driver.build_report("192.0.2.1", outputs)
    assert [n.operation for n in report.notes] == ["show power inline"]
    assert report.switch is not None and report.switch.ports and report.fdb
    assert all(p.poe is None for p in report.switch.ports)


async def test_unparseable_output_is_a_parse_note_not_a_crash(tmp_path: Path) -> None:
    source = FIXTURES / "cisco_ios" / "ws-c2960x-24ps-l_15.2-7-e8_lab"
    for path in source.glob("show_*.txt"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "show_version.txt").write_text("garbage that is no show version\n")
    driver = get_driver("cli.cisco_ios")
    assert issubclass(driver, CliDriver)
    report = driver.build_report("192.0.2.1", await run_commands(ReplaySession(tmp_path), driver))
    assert report.identity is None
    assert [n.kind.value for n in report.notes] == ["parse"]
    assert report.switch is not None and len(report.switch.ports) >= 24
