"""The PostgreSQL pool pings a connection only after it sat idle, and replaces one that died meanwhile
(collector/db/session.py): a dead pooled connection never reaches a request after idling."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from collector.db import session as db_session
from collector.db.session import make_engine

pytestmark = pytest.mark.postgres


async def _backend_pid(engine: object) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first  # reused at once, no ping needed
        async with make_engine(pg_url).connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(db_session, "IDLE_PING_S", 0.0)  # as if it had sat idle
        replaced = await _backend_pid(engine)
        assert replaced != first
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_busy_connection_is_not_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = 0
    original = AsyncAdapt_asyncpg_connection.ping

    def counting(self: AsyncAdapt_asyncpg_connection) -> None:
        nonlocal pings
        pings += 1
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    engine = make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        for _ in range(5):
            await _backend_pid(engine)
        assert pings == 0  # used a moment ago: no round trips before the query
        monkeypatch.setattr(db_session, "IDLE_PING_S", 0.0)
        await _backend_pid(engine)
        assert pings == 1
    finally:
        await engine.dispose()
