"""Alembic, driven from code: `upgrade head` at start or from `asbuilt collector migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Several app instances may start together on one PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK = 0x61736275  # "asbu"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def managed_by_alembic(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: the job queue's procrastinate_* objects are procrastinate's own."""
    return not (name or "").startswith("procrastinate_")


def head_revision() -> str:
    """The newest migration in this install (what `upgrade` brings a database to)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        await conn.run_sync(_upgrade_on, revision)
        if conn.dialect.name == "postgresql":
            from collector.jobs.pg import ensure_schema  # the job queue's own tables (procrastinate)

            await ensure_schema(conn)


def _upgrade_on(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        exists = await conn.run_sync(lambda c: c.dialect.has_table(c, "alembic_version"))
        if not exists:
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
