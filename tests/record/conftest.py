"""Record fixtures: every database test runs on SQLite and on the PostgreSQL server (as the collector's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.config import CollectorConfig
from collector.db.migrate import upgrade
from collector.db.models import Site
from collector.db.session import is_sqlite, make_engine, make_sessionmaker
from collector.enrolment import issue_code
from tests.collector.conftest import config, db_url, pg_url, pg_vault_key_file, unique_site

__all__ = ["config", "db_url", "pg_url", "pg_vault_key_file"]

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(config: CollectorConfig) -> AsyncIterator[Sessions]:
    if is_sqlite(config.db_url):
        config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.db_url)
    await upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def site_id(sessions: Sessions) -> int:
    """A fresh site of its own (tests share one PostgreSQL database)."""
    slug = unique_site()
    async with sessions() as session, session.begin():
        await issue_code(
            session,
            customer="Meridian " + slug,
            site_slug=slug,
            now=datetime.now(UTC),
            ttl=timedelta(hours=1),
        )
    async with sessions() as session:
        site = (await session.exec(select(Site).where(Site.slug == slug))).one()
    assert site.id is not None
    return site.id
