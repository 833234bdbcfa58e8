"""Migrations: `upgrade head` builds exactly the tables the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel
from typer.testing import CliRunner

import collector.db.models  # noqa: F401  registers the tables
from collector.cli import collector_app
from collector.db.migrate import current_revision, upgrade
from collector.db.session import make_engine
from tests.collector.conftest import unique_site


async def test_upgrade_head_matches_the_models(db_url: str):
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # idempotent: a second instance starting up changes nothing
        assert await current_revision(engine) == "0003"
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), SQLModel.metadata
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
    assert "revision 0003" in result.output
    result = runner.invoke(
        collector_app, ["enrol-code", "--customer", "Meridian", "--site", unique_site(), *where]
    )
    assert result.exit_code == 0, result.output
    code = result.stdout.strip().splitlines()[0]
    assert len(code) == 19 and code.count("-") == 3
