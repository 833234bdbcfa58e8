"""`asbuilt collector jobs …`: see the queue, and prove it runs (selftest)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

jobs_app = typer.Typer(
    no_args_is_help=True, help="Background jobs: run a worker, queue a retention pass or a selftest."
)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (SQLite file)")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql+asyncpg://user@host/db (default: SQLite)")
]


def _defer(config: Any, task: str, payload: dict[str, Any], key: str | None = None) -> int | None:
    from collector.db.session import make_engine, make_sessionmaker
    from collector.jobs.queue import open_queue

    async def run() -> int | None:
        engine = make_engine(config.db_url)
        try:
            queue = open_queue(config, make_sessionmaker(engine))
            await queue.open()
            try:
                return await queue.defer(task, payload, key=key)
            finally:
                await queue.close()
        finally:
            await engine.dispose()

    return asyncio.run(run())


@jobs_app.command("worker")
def worker(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Run queued jobs until stopped (SIGTERM or Ctrl-C), for instances served with ASBUILT_RUN_JOBS=false.

    Any number of workers may share one PostgreSQL database: each job runs once."""
    from collector.config import CollectorConfig
    from collector.db.migrate import upgrade
    from collector.db.session import make_engine, make_sessionmaker
    from collector.jobs.queue import open_queue

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        engine = make_engine(config.db_url)
        try:
            if config.migrate_on_start:
                await upgrade(engine)
            queue = open_queue(config, make_sessionmaker(engine))
            await queue.start()
            typer.echo("job worker running; Ctrl-C stops it", err=True)
            try:
                await stop.wait()
            finally:
                await queue.stop()
        finally:
            await engine.dispose()

    asyncio.run(run())


@jobs_app.command("retention")
def retention(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Queue one retention pass (prints the job id; nothing when one is already waiting).

    Policy: ASBUILT_RETENTION_IDENTICAL_AFTER_DAYS, ASBUILT_RETENTION_REQUESTS_AFTER_DAYS."""
    from collector.config import CollectorConfig

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)
    job_id = _defer(config, "retention.prune", {}, key="retention.prune")
    typer.echo("a retention pass is already waiting" if job_id is None else job_id)


@jobs_app.command("selftest")
def selftest(
    name: Annotated[str, typer.Option(help="Names the file the job appends to (jobs-selftest/NAME.log)")],
    hold_s: Annotated[float, typer.Option(help="Keep the first attempt running this long")] = 0.0,
    fail_until: Annotated[int, typer.Option(help="Fail the first N attempts")] = 0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue one selftest job; a running collector picks it up (prints the job id)."""
    from collector.config import CollectorConfig

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)
    payload: dict[str, Any] = {"name": name, "hold_s": hold_s, "fail_until": fail_until}

    typer.echo(_defer(config, "jobs.selftest", payload))
