"""Jobs on PostgreSQL through procrastinate, on the collector's own database.

Why procrastinate: it is a maintained PostgreSQL-only queue (``FOR UPDATE SKIP LOCKED`` to hand a job
to exactly one worker, LISTEN/NOTIFY to wake workers, retries with backoff, worker heartbeats), so
two collector processes on one database run each job once, and nothing else needs deploying. It
talks through psycopg 3; the collector's own queries keep asyncpg.

A worker that dies mid-job stops sending heartbeats; a periodic task in every collector puts the
jobs of stalled workers back in the queue, which is how a crash mid-job retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any

import procrastinate
from procrastinate import exceptions as pq_exceptions
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.config import CollectorConfig
from collector.jobs.tasks import REGISTRY, JobContext

log = logging.getLogger("asbuilt.jobs")


def libpq_conninfo(database_url: str) -> str:
    """postgresql+asyncpg://u@h:p/db?ssl=require → a libpq URL psycopg understands."""
    url = make_url(database_url).set(drivername="postgresql")
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return url.set(query=query).render_as_string(hide_password=False)


class PgJobQueue:
    def __init__(
        self,
        config: CollectorConfig,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.heartbeat_s = config.job_heartbeat_s
        self.stalled_after_s = config.job_stalled_after_s
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_conninfo(config.db_url), min_size=1, max_size=4
        )
        self.app = procrastinate.App(connector=connector)
        self._worker: asyncio.Task[None] | None = None
        for spec in REGISTRY.values():
            self._register(spec.name)
        self._register_stalled_sweeper()

    def _register(self, name: str) -> None:
        spec = REGISTRY[name]
        strategy = procrastinate.RetryStrategy(
            max_attempts=max(0, spec.max_attempts - 1),  # procrastinate counts retries after the first try
            wait=math.ceil(spec.base_delay_s),
            exponential_wait=2,
        )

        async def run(context: procrastinate.JobContext, **payload: Any) -> None:
            job = context.job
            assert job.id is not None
            await spec.run(JobContext(self.config, self.sessions, job.id, job.attempts + 1, self), payload)

        self.app.task(name=name, retry=strategy, pass_context=True)(run)

    def _register_stalled_sweeper(self) -> None:
        async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
            manager = context.app.job_manager
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after_s)
            for job in stalled:
                log.warning(
                    "job %s (%s) was cut off by a stopped worker: queued again", job.id, job.task_name
                )
                await manager.retry_job(job)

        self.app.periodic(cron="* * * * * */10", periodic_id="retry-stalled")(
            self.app.task(name="jobs.retry_stalled", pass_context=True, queueing_lock="retry-stalled")(
                retry_stalled
            )
        )

    async def defer(self, task: str, payload: dict[str, Any], *, key: str | None = None) -> int | None:
        if task not in REGISTRY:
            raise ValueError(f"unknown task {task!r}")
        deferrer = self.app.configure_task(task, queueing_lock=key)
        try:
            return await deferrer.defer_async(**payload)
        except pq_exceptions.AlreadyEnqueued:
            return None

    async def open(self) -> None:
        await self.app.open_async()  # the tables come with the migrations (collector/db/migrate.py)

    async def close(self) -> None:
        await self.app.close_async()

    async def start(self) -> None:
        await self.open()
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                install_signal_handlers=False,
                concurrency=2,
                wait=True,
                listen_notify=True,
                update_heartbeat_interval=self.heartbeat_s,
                stalled_worker_timeout=self.stalled_after_s,
            ),
            name="asbuilt-pg-jobs",
        )

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.close()


async def ensure_schema(connection: Any) -> None:
    """procrastinate's tables, created once; called by ``upgrade`` under its advisory lock.

    ``connection`` is SQLAlchemy's AsyncConnection in the migration's transaction: the schema file
    holds many statements, which asyncpg runs only unprepared, on its own connection object.
    """
    from sqlalchemy import text

    present = (
        await connection.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL"))
    ).scalar()
    if present:
        return
    raw = await connection.get_raw_connection()
    await raw.driver_connection.execute(SchemaManager.get_schema())
