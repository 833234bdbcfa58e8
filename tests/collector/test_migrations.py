"""Migrations: `upgrade head` builds exactly the tables the models describe, on both backends."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

import collector.db.tables  # noqa: F401  registers every table
from collector.cli import collector_app
from collector.db import queries
from collector.db.migrate import alembic_config, current_revision, head_revision, managed_by_alembic, upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.enrolment import issue_code
from collector.ingest import SnapshotCache, ingest
from tests.collector.conftest import PG_HOST, PG_PORT, _pg_admin, unique_site
from tests.collector.factory import T0, depot, large_site


async def test_upgrade_head_matches_the_models(db_url: str):
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # idempotent: a second instance starting up changes nothing
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_name": managed_by_alembic}
                    ),
                    SQLModel.metadata,
                )
            )
        assert differences == []
    finally:
        await engine.dispose()


def test_cli_migrate_and_enrol_code(db_url: str, tmp_path):
    runner = CliRunner()
    where = ["--data-dir", str(tmp_path), "--database-url", db_url]
    result = runner.invoke(collector_app, ["migrate", *where])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    result = runner.invoke(
        collector_app, ["enrol-code", "--customer", "Meridian", "--site", unique_site(), *where]
    )
    assert result.exit_code == 0, result.output
    code = result.stdout.strip().splitlines()[0]
    assert len(code) == 19 and code.count("-") == 3


@pytest.fixture(params=["sqlite", "postgresql"])
def own_db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database of this test's own: it migrates down and up again, which a shared one must not."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
        return
    name = f"asb_test_mig_{secrets.token_hex(5)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://root@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _to(connection: Connection, revision: str, down: bool) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(cfg, revision)


async def test_0010_converts_stored_documents_down_and_up(own_db_url: str):
    """0010 compresses every existing document and back: the same snapshot comes out each way."""
    engine = make_engine(own_db_url)
    sessions = make_sessionmaker(engine)
    snapshots = [depot(site_id="mig"), large_site(30, site_id="mig")]
    try:
        await upgrade(engine)
        async with sessions() as session, session.begin():
            _, site = await issue_code(
                session, customer="Meridian", site_slug="mig", now=T0, ttl=timedelta(hours=1)
            )
            assert site.id is not None
        for n, snap in enumerate(snapshots):
            async with sessions() as session, session.begin():
                await ingest(
                    session, site_id=site.id, agent_id=None, snapshot=snap, body_digest=f"{n:064x}",
                    idempotency_key=None, now=T0 + timedelta(hours=n), removed_after=3, cache=SnapshotCache(),
                )  # fmt: skip

        async with engine.begin() as conn:
            await conn.run_sync(_to, "0006", True)
            query = text("SELECT snapshot FROM snapshot_version ORDER BY version")
            stored = (await conn.execute(query)).all()
        documents = [json.loads(doc) if isinstance(doc, str) else doc for (doc,) in stored]
        assert documents == [s.model_dump(mode="json") for s in snapshots]

        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        async with sessions() as session:
            for n, snap in enumerate(snapshots, start=1):
                back = await queries.version_snapshot(session, site.id, n)
                assert back == snap
                assert back is not None and back.content_hash() == snap.content_hash()
    finally:
        await engine.dispose()
