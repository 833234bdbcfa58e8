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
    assert "depot: 8 devices" in text and "P3245-LVE" in text and "1 problem" in text
    assert text.index("switch") < text.index("camera")  # switches first


def test_table_fits_80_and_200_columns_real_problems_first() -> None:
    snap = snapshot(problem(ProblemKind.UNSUPPORTED), problem(ProblemKind.AUTH))
    for width in (80, 200):
        console = Console(width=width, record=True)
        render(snap, console)
        lines = console.export_text().splitlines()
        table_lines = [ln for ln in lines if ln.startswith(("│", "┃", "┏", "└", "┡", "┗"))]
        assert all(len(ln) <= width for ln in lines), [ln for ln in lines if len(ln) > width]
        assert table_lines and "name" in lines[2]
        text = "\n".join(lines)
        # No MAC (or other value) broken over lines: every cell is one line, cut with an ellipsis.
        macs = {d.identity.mac for d in snap.devices if d.identity.mac}
        if width >= 150:
            assert all(m in text for m in macs)
        else:
            assert not any(m[:8] in text for m in macs)  # left to --json/--out at 80 columns
        assert text.index(" auth: ") < text.index(" unsupported: ")  # real problems first
        assert "1 problem (and 1 unsupported)" in text


def test_scan_help_lists_every_exit_code() -> None:
    done = runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "80"})
    assert done.exit_code == 0
    for code in ("0", "2", "3", "4", "5"):
        assert f"{code}  " in done.output or f" {code} " in done.output, done.output
    assert "spool" in done.output
