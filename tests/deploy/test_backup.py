"""deploy/backup: back up a live collector, restore it elsewhere, and find the same records there.

Each flow builds a collector the way an install does (`asbuilt collector migrate` and `enrol-code`
from the command line), serves it over real HTTP on 127.0.0.1 to enrol an agent and store a snapshot,
runs backup.sh while it is serving, restores into an empty place, and then asks the restored
collector through its API: the same admin token opens it, the version and its snapshot are there, the
used enrolment code stays used and the unused one still works. PostgreSQL runs on 127.0.0.1:5432
(trust auth, as for the collector tests); the test creates and drops its own asb_deploy_* databases.
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import create_app
from collector.config import CollectorConfig
from collector.enrolment import issue_code
from collector.keys import sessions_key
from drivers.schema import Snapshot
from tests.collector.factory import depot
from tests.deploy.tools import DEPLOY, asbuilt, run

BACKUP = DEPLOY / "backup" / "backup.sh"
RESTORE = DEPLOY / "backup" / "restore.sh"
PG = "postgresql://root@127.0.0.1:5432"
SITE = "acme-hq"


@dataclass
class Before:
    """What the original collector held when it was backed up."""

    admin_token: str
    session_key: bytes
    used_code: str
    unused_code: str
    content_hash: str


def psql(sql: str, database: str = "postgres") -> str:
    done = run(["psql", "--no-psqlrc", "-XtA", "-v", "ON_ERROR_STOP=1", "-d", f"{PG}/{database}", "-c", sql])
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database of our own; dropped at the end whatever happened."""
    name = f"asb_deploy_{secrets.token_hex(6)}"
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def serving(data_dir: Path, database_url: str | None) -> AsyncIterator[TestClient]:
    config = CollectorConfig(data_dir=data_dir, database_url=database_url)
    async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as client:
        yield client


def cli_db(data_dir: Path, database_url: str | None) -> list[str]:
    args = ["--data-dir", str(data_dir)]
    return [*args, "--database-url", database_url] if database_url else args


async def make_collector(data_dir: Path, database_url: str | None) -> Before:
    """A collector with a customer, site, agent, one stored version and one unused enrolment code."""
    assert "revision 0002" in asbuilt("collector", "migrate", *cli_db(data_dir, database_url))
    enrol = ["collector", "enrol-code", "--customer", "ACME", "--site", SITE, *cli_db(data_dir, database_url)]
    used_code = asbuilt(*enrol).strip()
    snapshot = depot(site_id=SITE)
    async with serving(data_dir, database_url) as client:
        async with cast(TestServer, client.server).app[sessions_key]() as session, session.begin():
            unused_code, _ = await issue_code(
                session, customer="ACME", site_slug=SITE, now=datetime.now(UTC), ttl=timedelta(days=1)
            )
        resp = await client.post("/api/v1/enrol", json={"code": used_code, "agent_name": "site-box"})
        assert resp.status == 201, await resp.text()
        token = (await resp.json())["token"]
        resp = await client.post(
            "/api/v1/snapshots",
            data=snapshot.canonical_json().encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": snapshot.content_hash(),
            },
        )
        assert resp.status in (200, 201), await resp.text()
    return Before(
        admin_token=(data_dir / "admin-token").read_text().strip(),
        session_key=(data_dir / "web-session-key").read_bytes(),
        used_code=used_code,
        unused_code=unused_code,
        content_hash=snapshot.content_hash(),
    )


async def assert_restored(data_dir: Path, database_url: str | None, before: Before) -> None:
    assert (data_dir / "admin-token").read_text().strip() == before.admin_token
    assert (data_dir / "web-session-key").read_bytes() == before.session_key
    async with serving(data_dir, database_url) as client:
        auth = {"Authorization": f"Bearer {before.admin_token}"}
        resp = await client.get("/api/v1/sites", headers=auth)
        assert resp.status == 200, await resp.text()
        assert SITE in await resp.text()
        resp = await client.get(f"/api/v1/sites/{SITE}/versions", headers=auth)
        versions = (await resp.json())["versions"]
        assert len(versions) == 1, versions
        number = versions[0]["version"]
        resp = await client.get(f"/api/v1/sites/{SITE}/versions/{number}/snapshot.json", headers=auth)
        assert resp.status == 200
        assert Snapshot.model_validate_json(await resp.text()).content_hash() == before.content_hash
        assert versions[0]["content_hash"] == before.content_hash
        used = await client.post("/api/v1/enrol", json={"code": before.used_code, "agent_name": "again"})
        assert used.status == 403, "a used enrolment code came back usable"
        unused = await client.post("/api/v1/enrol", json={"code": before.unused_code, "agent_name": "box2"})
        assert unused.status == 201, await unused.text()


def refuses(argv: list[str | Path]) -> subprocess.CompletedProcess[str]:
    done = run(argv)
    assert done.returncode != 0, f"{argv} overwrote without --force: {done.stdout}"
    assert "--force" in done.stderr
    return done


async def test_sqlite_backup_while_serving_and_restore(tmp_path: Path) -> None:
    original, restored, archive = tmp_path / "original", tmp_path / "restored", tmp_path / "b.tar.gz"
    before = await make_collector(original, None)

    async with serving(original, None):  # online: the service holds the database open while it is copied
        done = run([BACKUP, "--data-dir", original, archive])
    assert done.returncode == 0, done.stderr
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds the admin token: owner-only"
    listing = run(["tar", "-tzf", archive]).stdout.split()
    assert "asbuilt-backup/collector.db" in listing
    assert "asbuilt-backup/data/admin-token" in listing
    assert not any(name.endswith(("-wal", "-shm")) for name in listing)

    size = archive.stat().st_size
    refuses([BACKUP, "--data-dir", original, archive])
    assert archive.stat().st_size == size
    assert run([BACKUP, "--data-dir", original, "--force", archive]).returncode == 0

    # The data directory comes from an environment file, as it does on a server.
    env = tmp_path / "collector.env"
    env.write_text(f'# as /etc/asbuilt/collector.env\nASBUILT_DATA_DIR="{restored}"\n')
    done = run([RESTORE, "--env-file", env, archive])
    assert done.returncode == 0, done.stderr
    await assert_restored(restored, None, before)

    token = (restored / "admin-token").read_text()
    refuses([RESTORE, "--env-file", env, archive])
    assert (restored / "admin-token").read_text() == token
    (restored / "admin-token").write_text("changed\n")
    done = run([RESTORE, "--env-file", env, "--force", archive])
    assert done.returncode == 0, done.stderr
    assert (restored / "admin-token").read_text() == token


async def test_postgresql_backup_drop_and_restore(tmp_path: Path, pg_database: str) -> None:
    url = f"postgresql+asyncpg://root@127.0.0.1:5432/{pg_database}"
    # The same database through the Unix socket, as deploy/config/collector.env.example reaches it.
    socket_url = f"postgresql+asyncpg://root@/{pg_database}?host=/run/postgresql"
    data_dir, archive = tmp_path / "data", tmp_path / "pg.tar.gz"
    before = await make_collector(data_dir, url)

    async with serving(data_dir, url):
        done = run([BACKUP, "--data-dir", data_dir, "--database-url", url, archive])
    assert done.returncode == 0, done.stderr
    listing = run(["tar", "-tzf", archive]).stdout.split()
    assert "asbuilt-backup/database.pgdump" in listing

    # Lose everything: the database and the data directory.
    psql(f'DROP DATABASE "{pg_database}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{pg_database}"')
    for path in data_dir.iterdir():
        path.unlink()
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    assert psql(tables, pg_database) == "0"

    done = run([RESTORE, "--data-dir", data_dir, "--database-url", socket_url, archive])
    assert done.returncode == 0, done.stderr
    assert psql("SELECT count(*) FROM snapshot_version", pg_database) == "1"
    await assert_restored(data_dir, url, before)

    # Now the database has tables: a second restore must be asked for.
    refuses([RESTORE, "--data-dir", data_dir, "--database-url", url, archive])
    assert psql("SELECT count(*) FROM agent", pg_database) == "2"  # the one re-enrolled above is still there
    done = run([RESTORE, "--data-dir", data_dir, "--database-url", url, "--force", archive])
    assert done.returncode == 0, done.stderr
    assert psql("SELECT count(*) FROM agent", pg_database) == "1"


def small_sqlite_collector(data_dir: Path) -> None:
    """Just what the scripts look at: a SQLite file with a schema revision."""
    data_dir.mkdir()
    with sqlite3.connect(data_dir / "collector.db") as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('0001')")


def test_admin_token_file_outside_the_data_dir_is_saved_and_put_back(tmp_path: Path) -> None:
    data_dir, archive = tmp_path / "data", tmp_path / "b.tar.gz"
    small_sqlite_collector(data_dir)
    token = tmp_path / "etc" / "admin-token"
    token.parent.mkdir()
    token.write_text("asb_admin_kept\n")
    done = run([BACKUP, "--data-dir", data_dir, archive], env={"ASBUILT_ADMIN_TOKEN_FILE": str(token)})
    assert done.returncode == 0, done.stderr
    assert "asbuilt-backup/admin-token-file" in run(["tar", "-tzf", archive]).stdout.split()

    elsewhere = tmp_path / "new"
    done = run([RESTORE, "--data-dir", elsewhere / "data", archive])
    assert done.returncode != 0 and "set ASBUILT_ADMIN_TOKEN_FILE" in done.stderr
    assert not (elsewhere / "data").exists(), "a refused restore must change nothing"
    new_token = elsewhere / "admin-token"
    env = {"ASBUILT_ADMIN_TOKEN_FILE": str(new_token)}
    done = run([RESTORE, "--data-dir", elsewhere / "data", archive], env=env)
    assert done.returncode == 0, done.stderr
    assert new_token.read_text() == "asb_admin_kept\n"


def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    small_sqlite_collector(data_dir)
    archive = tmp_path / "sqlite.tar.gz"
    assert run([BACKUP, "--data-dir", data_dir, archive]).returncode == 0
    done = run([RESTORE, "--data-dir", tmp_path / "x", "--database-url", f"{PG}/nowhere", archive])
    assert done.returncode != 0
    assert "holds a sqlite database" in done.stderr


@pytest.mark.parametrize(
    ("url", "libpq"),
    [
        ("postgresql+asyncpg://u:p@db:5432/asbuilt", "postgresql://u:p@db:5432/asbuilt"),
        (
            "postgresql+asyncpg://asbuilt@/asbuilt?host=/run/postgresql",
            "postgresql://asbuilt@/asbuilt?host=/run/postgresql",
        ),
        ("postgresql+asyncpg://u@h/d?ssl=require", "postgresql://u@h/d?sslmode=require"),
        (
            "postgresql+asyncpg://u@h/d?host=/s&ssl=verify-full",
            "postgresql://u@h/d?host=/s&sslmode=verify-full",
        ),
    ],
)
def test_collector_urls_become_libpq_urls(url: str, libpq: str) -> None:
    done = run(["bash", "-c", f'source "{DEPLOY}/backup/lib.sh" && libpq_url "$1"', "_", url])
    assert done.stdout.strip() == libpq


def test_usage_errors_are_explained() -> None:
    for script in (BACKUP, RESTORE):
        done = run([script])
        assert done.returncode != 0
        assert "Usage:" in done.stderr
        assert run([script, "--help"]).returncode == 0
        assert run(["bash", "-n", script]).returncode == 0
