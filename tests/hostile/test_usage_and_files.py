"""Issue #14, classes 7 and 8: usage mistakes are found before the scan (exit 2, one line), and the
files the agent and the collector create are owner-only whatever the umask."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from asbuilt.cli import app
from tests.e2e.collectorproc import CollectorProcess, free_port
from tests.hostile.agentproc import ASBUILT, run_measured

runner = CliRunner()
# an address nothing listens on: the scan itself is quick, but a late check would only come after it
SCOPE = "127.66.9.1/32"


def _scan(*args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    result = runner.invoke(app, ["scan", SCOPE, "--methods", "tcp", "--wsd-window", "0.1", *args])
    return result.exit_code, " ".join(result.output.split()), time.monotonic() - started


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.token"
    path.write_text("asb_agent_x\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--push", "http://127.0.0.1:1"], "--push needs --token-file"),
        (["--push", "not a url", "--token-file", "{token}"], "is not a collector URL"),
        (["--push", "ftp://collector", "--token-file", "{token}"], "is not a collector URL"),
        (["--push", "http://collector:99999", "--token-file", "{token}"], "is not a collector URL"),
        (["--push", "http://127.0.0.1:1", "--token-file", "{missing}"], "run `asbuilt agent enrol` first"),
        (["--push", "http://127.0.0.1:1", "--token-file", "{dir}"], "is not a file"),
        (["--creds", "{dir}"], "is a directory, not a file"),
        (["--creds", "{missing}"], "does not exist"),
        (["--site", "two words"], "no '/' or spaces"),
        (["--site", "a/b"], "no '/' or spaces"),
    ],
    ids=[
        "push-without-token", "malformed-url", "ftp-url", "bad-port", "missing-token-file",
        "token-path-is-a-dir", "creds-is-a-dir", "creds-missing", "site-with-space", "site-with-slash",
    ],
)  # fmt: skip
def test_usage_mistakes_are_exit_2_with_one_line_before_the_scan(
    args: list[str], message: str, tmp_path: Path, token_file: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("ASBUILT_AGENT_TOKEN", raising=False)
    monkeypatch.delenv("ASBUILT_AGENT_TOKEN_FILE", raising=False)
    (tmp_path / "adir").mkdir()
    filled = [a.format(token=token_file, missing=tmp_path / "nope", dir=tmp_path / "adir") for a in args]
    code, output, _ = _scan(*filled, "--spool", str(tmp_path / "spool"))
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output
    assert "devices" not in output  # refused before scanning, not after
    assert not (tmp_path / "spool").exists() or not any((tmp_path / "spool").rglob("*.json.gz"))


def test_a_credential_file_readable_by_others_is_warned_about(tmp_path: Path):
    creds = tmp_path / "creds.yaml"
    creds.write_text(
        yaml.safe_dump({"credentials": [{"name": "a", "username": "u", "password": "p4ss-word"}]})
    )
    creds.chmod(0o644)
    code, output, _ = _scan("--creds", str(creds))
    assert "readable by other users" in output and "chmod 600" in output
    assert "p4ss-word" not in output
    assert code in (0, 3, 4)  # a warning, the scan still runs
    creds.chmod(0o600)
    _, output, _ = _scan("--creds", str(creds))
    assert "readable by other users" not in output


def test_a_collector_that_is_down_is_said_in_plain_words(tmp_path: Path, token_file: Path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, output, _ = _scan("--push", url, "--token-file", str(token_file), "--spool", str(tmp_path / "sp"))
    assert code in (4, 5), output
    if code == 5:  # something was found and spooled; the push names the reason plainly
        assert f"the collector at {url} is not reachable" in output
        assert "ClientConnectorError" not in output and "Errno" not in output


def test_the_service_config_is_checked_up_front(tmp_path: Path):
    config = tmp_path / "agent.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "site": "depot",
                "collector_url": "collector.example",  # no scheme
                "state_dir": str(tmp_path / "state"),
                "schedule": {"interval_minutes": 60},
                "scan": {"scopes": [SCOPE]},
            }
        )
    )
    result = runner.invoke(app, ["agent", "push", "--config", str(config)])
    assert result.exit_code == 2 and "collector_url" in result.output


# ---------------------------------------------------------------- class 8: file permissions


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o000)  # the worst case: everything would be created world-writable
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_agent_files_are_owner_only_whatever_the_umask(tmp_path: Path, loose_umask: None):
    from agent.credentials import CredentialBook
    from agent.service import StatusFile, write_token
    from agent.spool import Spool
    from tests.agent.test_push import snapshot

    spool = Spool(tmp_path / "spool")
    item = spool.put(snapshot(1))
    spool.note_failure(item)
    status = StatusFile(tmp_path / "status.json")
    status.update(last_scan={"ok": True})
    write_token(tmp_path / "agent.token", "asb_agent_x")
    book = CredentialBook([], cache_path=tmp_path / "cred-cache.json")
    book.record_success("onvif", "installer", ip="10.0.0.5")
    book.save_cache()
    for path in (item.path, status.path, tmp_path / "agent.token", tmp_path / "cred-cache.json"):
        assert _mode(path) == 0o600, (path, oct(_mode(path)))
    for directory in (spool.root, spool.pending_dir, spool.rejected_dir):
        assert _mode(directory) == 0o700, directory


def test_the_collector_database_is_owner_only_whatever_the_umask(tmp_path: Path):
    data_dir = tmp_path / "collector"
    db_dir = tmp_path / "db"  # not there yet: the collector creates it
    old = os.umask(0o000)
    try:
        with CollectorProcess(data_dir, f"sqlite+aiosqlite:///{db_dir}/collector.db") as collector:
            collector.enrol_code("depot")  # a write, so the WAL files exist
    finally:
        os.umask(old)
    assert _mode(db_dir) == 0o700
    for name in ("collector.db", "collector.db-wal", "collector.db-shm"):
        if (db_dir / name).exists():
            assert _mode(db_dir / name) == 0o600, name
    # `asbuilt collector migrate` under a loose umask creates the data dir and the file owner-only
    other = tmp_path / "other"
    run = run_measured(
        ["sh", "-c", f"umask 000; exec {ASBUILT} collector migrate --data-dir {other}"], 60, tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert _mode(other / "collector.db") == 0o600 and _mode(other) == 0o700
