"""The embedded queue: a job table in the collector's SQLite file and a runner in its process.

SQLite allows one writer, and asbuilt runs one collector process per SQLite file, so this runner is
the only one: at start it puts back to ``todo`` whatever a crash left ``doing`` (that is the retry
of a job that was cut off), then it takes due jobs one at a time, oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.config import CollectorConfig
from collector.db.job_tables import LocalJob
from collector.db.types import utcnow
from collector.jobs.tasks import REGISTRY, JobContext, retry_delay_s

log = logging.getLogger("asbuilt.jobs")

IDLE_POLL_S = 1.0


class LocalJobQueue:
    def __init__(self, config: CollectorConfig, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.config = config
        self.sessions = sessions
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False

    async def defer(self, task: str, payload: dict[str, Any], *, key: str | None = None) -> int | None:
        """Queue a job; with ``key``, not again while one with that key is still waiting."""
        if task not in REGISTRY:
            raise ValueError(f"unknown task {task!r}")
        async with self.sessions() as session, session.begin():
            if key is not None:
                pending = await session.exec(
                    select(LocalJob.id).where(LocalJob.dedupe_key == key, col(LocalJob.status) == "todo")
                )
                if pending.first() is not None:
                    return None
            job = LocalJob(task=task, payload=payload, dedupe_key=key)
            session.add(job)
            await session.flush()
            job_id = job.id
        self._wake.set()
        return job_id

    async def open(self) -> None:
        """Nothing to open: the queue is a table of the collector's database."""

    async def close(self) -> None:
        """Nothing to close."""

    async def start(self) -> None:
        async with self.sessions() as session, session.begin():
            await session.exec(update(LocalJob).where(col(LocalJob.status) == "doing").values(status="todo"))
        self._runner = asyncio.create_task(self._run(), name="asbuilt-local-jobs")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    async def _run(self) -> None:
        while not self._stopping:
            job = await self._claim(utcnow())
            if job is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_S)
                continue
            await self._execute(job)

    async def _claim(self, now: datetime) -> LocalJob | None:
        async with self.sessions() as session, session.begin():
            job = (
                await session.exec(
                    select(LocalJob)
                    .where(LocalJob.status == "todo", col(LocalJob.run_after) <= now)
                    .order_by(col(LocalJob.run_after), col(LocalJob.id))
                    .limit(1)
                )
            ).first()
            if job is None:
                return None
            job.status, job.attempts = "doing", job.attempts + 1
            session.add(job)
        return job

    async def _execute(self, job: LocalJob) -> None:
        assert job.id is not None
        spec = REGISTRY.get(job.task)
        error: str | None = None
        if spec is None:
            error = f"unknown task {job.task!r}"
        else:
            context = JobContext(self.config, self.sessions, job.id, job.attempts, self)
            try:
                await spec.run(context, dict(job.payload))
            except asyncio.CancelledError:
                raise  # shutting down: left 'doing', put back to 'todo' at the next start
            except Exception as exc:  # a job's failure is recorded, never takes the runner down
                error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("job %s (%s) attempt %d failed: %s", job.id, job.task, job.attempts, error)
        now = utcnow()
        async with self.sessions() as session, session.begin():
            row = await session.get(LocalJob, job.id)
            if row is None:
                return
            if error is None:
                row.status, row.finished_at, row.last_error = "done", now, None
            elif spec is None or row.attempts >= spec.max_attempts:
                row.status, row.finished_at, row.last_error = "failed", now, error
            else:
                row.status, row.last_error = "todo", error
                row.run_after = now + timedelta(seconds=retry_delay_s(spec, row.attempts))
            session.add(row)
