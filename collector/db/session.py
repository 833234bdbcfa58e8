"""The async engine: SQLite (aiosqlite, WAL) in a data directory by default, PostgreSQL (asyncpg) by URL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_S = 30  # concurrent writers wait for the lock instead of failing


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'collector.db').resolve()}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def owner_only_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does, whatever the umask; SQLite gives
    its -wal and -shm files the same permissions. An existing file is tightened too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        owner_only_sqlite_file(url)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine.sync_engine.pool, "connect", _mark_used)
        event.listen(engine.sync_engine.pool, "checkin", _mark_used)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# A PostgreSQL connection is pinged before use only after it sat idle in the pool (a server restart
# or a proxy's idle timeout then costs no request). SQLAlchemy's pool_pre_ping pinged on every
# checkout: three round trips (BEGIN, ";", ROLLBACK), twice per page (session check, then the
# page): 7% of the collector's CPU samples under 20 users. A connection that breaks within this
# window fails its one request, and the pool then replaces all connections older than the failure.
IDLE_PING_S = 10.0
_USED_AT = "asbuilt_used_at"


def _mark_used(_dbapi_connection: Any, record: Any) -> None:
    record.info[_USED_AT] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    used = record.info.get(_USED_AT)
    if used is not None and time.monotonic() - used < IDLE_PING_S:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:  # any failure: this connection is not to be used; the pool retries
        raise DisconnectionError("the connection did not answer a ping after sitting idle") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
