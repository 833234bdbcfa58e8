"""The `asbuilt scan` command's edges that need no network: usage errors, exit codes, the table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from agent.scan_cli import EXIT_NOTHING, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, exit_code, render
from agent.snapshot import SnapshotParts, build_snapshot, scan_info
from asbuilt.cli import app
from drivers.schema import Problem, ProblemKind, SiteRef, Snapshot, Stage
from tests.agent.synth import SmallSite

runner = CliRunner()


def test_scope_larger_than_slash_16_is_a_usage_error() -> None:
    result = runner.invoke(app, ["scan", "10.0.0.0/8"])
    assert result.exit_code == EXIT_USAGE
    assert "largest allowed is" in " ".join(result.output.split())


def test_bad_ports_and_bad_credential_file_are_usage_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, ["scan", "127.26.9.0/30", "--ports", "http=x"]).exit_code == EXIT_USAGE
    bad = tmp_path / "creds.yaml"
    bad.write_text("credentials: [{name: a, pasword: hunter22}]\n")
    result = runner.invoke(app, ["scan", "127.26.9.0/30", "--creds", str(bad)])
    assert result.exit_code == EXIT_USAGE and "hunter22" not in result.output


def snapshot(*problems: Problem) -> Snapshot:
    site = SmallSite()
    now = datetime(2026, 11, 23, tzinfo=UTC)
    parts = SnapshotParts(devices=site.devices, problems=problems)
    return build_snapshot(SiteRef(site_id="depot"), scan_info(now, now, ["10.77.0.0/24"], []), parts)


def problem(kind: ProblemKind) -> Problem:
    return Problem(target="10.77.0.21", driver="onvif", stage=Stage.COLLECT, kind=kind, message="x")


def test_exit_codes() -> None:
    assert exit_code(snapshot()) == EXIT_OK
    assert exit_code(snapshot(problem(ProblemKind.UNSUPPORTED))) == EXIT_OK  # an optional feature missing
    assert exit_code(snapshot(problem(ProblemKind.AUTH))) == EXIT_PROBLEMS
    empty = build_snapshot(
        SiteRef(site_id="x"),
        scan_info(datetime.now(UTC), datetime.now(UTC), [], []),
        SnapshotParts(devices=()),
    )
    assert exit_code(empty) == EXIT_NOTHING


def test_table_lists_devices_and_problems() -> None:
    console = Console(width=220, record=True)
    render(snapshot(problem(ProblemKind.AUTH)), console)
    text = console.export_text()
    assert "depot: 8 devices" in text and "P3245-LVE" in text and "1 problems" in text
    assert text.index("switch") < text.index("camera")  # switches first
