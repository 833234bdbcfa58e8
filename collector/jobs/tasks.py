"""The task registry: what a job may run, how often it may be tried, and what it is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.config import CollectorConfig


@dataclass(frozen=True)
class JobContext:
    """What a running job is given: the database and the settings, never a request."""

    config: CollectorConfig
    sessions: async_sessionmaker[AsyncSession]
    job_id: int
    attempt: int
    # The queue this job runs in, so a job may queue follow-up jobs (collector.jobs.queue.JobQueue).
    queue: Any = None


TaskFn = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Task:
    name: str
    run: TaskFn
    max_attempts: int = 5
    base_delay_s: float = 2.0  # then 4, 8, 16 ... between attempts


REGISTRY: dict[str, Task] = {}


def task(name: str, *, max_attempts: int = 5, base_delay_s: float = 2.0) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        if name in REGISTRY and REGISTRY[name].run is not fn:
            raise ValueError(f"task {name!r} is registered twice")
        REGISTRY[name] = Task(name, fn, max_attempts, base_delay_s)
        return fn

    return register


def retry_delay_s(spec: Task, attempt: int) -> float:
    return spec.base_delay_s * (2 ** max(0, attempt - 1))


SELFTEST_DIR = "jobs-selftest"


@task("jobs.selftest", max_attempts=3, base_delay_s=0.5)
async def selftest(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Appends one line to a file in the data directory: proves jobs run, once, after restarts.

    ``hold_s`` keeps the job running on its first ``hold_attempts`` attempts (to test a crash
    mid-job; the ``.started`` file names the job and the process); ``fail_until`` fails the first
    attempts (to test retries). The file name is sanitised so a payload cannot write elsewhere.
    """
    import asyncio
    import os

    name = "".join(ch for ch in str(payload.get("name", "probe")) if ch.isalnum() or ch in "-_")[:64]
    folder = Path(ctx.config.data_dir) / SELFTEST_DIR
    if ctx.attempt <= int(payload.get("fail_until", 0)):
        raise RuntimeError(f"selftest {name}: planned failure on attempt {ctx.attempt}")
    hold = float(payload.get("hold_s", 0))
    if hold and ctx.attempt <= int(payload.get("hold_attempts", 1)):
        await asyncio.to_thread(_write, folder / f"{name}.started", f"{ctx.job_id} {os.getpid()}", "w")
        await asyncio.sleep(min(hold, 600.0))
    await asyncio.to_thread(_write, folder / f"{name}.log", f"{ctx.job_id} attempt {ctx.attempt}\n", "a")


def _write(path: Path, text: str, mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as fh:
        fh.write(text)
