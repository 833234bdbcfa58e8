"""Which queue a collector uses, chosen by its database, and how the app starts and stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.config import CollectorConfig
from collector.db.session import is_sqlite


class JobQueue(Protocol):
    """``open``/``close`` to defer only (the CLI); ``start``/``stop`` also run this process's worker.

    ``key``: no second job with that key while one is still waiting (procrastinate's queueing lock).
    """

    async def defer(self, task: str, payload: dict[str, Any], *, key: str | None = None) -> int | None: ...
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def open_queue(config: CollectorConfig, sessions: async_sessionmaker[AsyncSession]) -> JobQueue:
    # Task modules register themselves (alerts.*, retention.prune) before a queue reads REGISTRY.
    import collector.alerts.tasks
    import collector.retention  # noqa: F401

    if is_sqlite(config.db_url):
        from collector.jobs.local import LocalJobQueue

        return LocalJobQueue(config, sessions)
    from collector.jobs.pg import PgJobQueue

    return PgJobQueue(config, sessions)


jobs_key = web.AppKey("jobs", JobQueue)


async def jobs_context(app: web.Application) -> AsyncIterator[None]:
    """After the database context: start this instance's worker, stop it on shutdown.

    With ``run_jobs`` off the instance only queues: a `jobs worker` process runs what it queues."""
    from collector.keys import config_key, sessions_key

    queue = open_queue(app[config_key], app[sessions_key])
    runs = app[config_key].run_jobs
    await (queue.start() if runs else queue.open())
    app[jobs_key] = queue
    try:
        yield
    finally:
        await (queue.stop() if runs else queue.close())
