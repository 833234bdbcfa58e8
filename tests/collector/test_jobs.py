"""Durable jobs: run once, retried after a failure, retried after a crash mid-job, on both databases."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from collector.config import CollectorConfig
from collector.db.job_tables import LocalJob
from collector.db.migrate import upgrade
from collector.db.session import is_sqlite, make_engine, make_sessionmaker
from collector.jobs.queue import JobQueue, open_queue
from collector.jobs.tasks import SELFTEST_DIR
from tests.e2e.collectorproc import ASBUILT, CollectorProcess, clean_env, postgres_database

WAIT_S = 60.0


async def _queue(config: CollectorConfig, *, run: bool) -> AsyncIterator[JobQueue]:
    if is_sqlite(config.db_url):
        config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.db_url)
    await upgrade(engine)
    jobs = open_queue(config, make_sessionmaker(engine))
    await (jobs.start() if run else jobs.open())
    try:
        yield jobs
    finally:
        await (jobs.stop() if run else jobs.close())
        await engine.dispose()


@pytest.fixture
async def queue(config: CollectorConfig) -> AsyncIterator[JobQueue]:
    """With this process's worker running."""
    async for jobs in _queue(config, run=True):
        yield jobs


@pytest.fixture
async def idle_queue(config: CollectorConfig) -> AsyncIterator[JobQueue]:
    """Open to defer, no worker: what is queued stays waiting."""
    async for jobs in _queue(config, run=False):
        yield jobs


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def wait_for_lines(path: Path, count: int, timeout_s: float = WAIT_S) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(lines := lines_of(path)) >= count:
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path.name}: {count} line(s) not written within {timeout_s:.0f} s")


async def test_a_job_runs_once_and_a_failing_one_is_retried(queue: JobQueue, config: CollectorConfig) -> None:
    folder = config.data_dir / SELFTEST_DIR
    name = f"once-{os.getpid()}-{time.monotonic_ns()}"
    job_id = await queue.defer("jobs.selftest", {"name": name})
    assert job_id is not None
    assert await wait_for_lines(folder / f"{name}.log", 1) == [f"{job_id} attempt 1"]
    flaky = name + "-flaky"
    await queue.defer("jobs.selftest", {"name": flaky, "fail_until": 1})
    lines = await wait_for_lines(folder / f"{flaky}.log", 1)
    assert lines[0].endswith("attempt 2")  # the first attempt failed, the retry ran it
    await asyncio.sleep(0.5)
    assert len(lines_of(folder / f"{name}.log")) == 1  # still once


async def test_a_key_keeps_one_job_waiting(idle_queue: JobQueue) -> None:
    name = f"keyed-{time.monotonic_ns()}"
    first = await idle_queue.defer("jobs.selftest", {"name": name}, key=name)
    second = await idle_queue.defer("jobs.selftest", {"name": name}, key=name)
    other = await idle_queue.defer("jobs.selftest", {"name": name}, key=name + "-other")
    assert first is not None and second is None and other is not None
    with pytest.raises(ValueError, match="unknown task"):
        await idle_queue.defer("no.such.task", {})


def defer_cli(data_dir: Path, database_url: str | None, **options: object) -> int:
    args = [str(ASBUILT), "collector", "jobs", "selftest", "--data-dir", str(data_dir)]
    if database_url:
        args += ["--database-url", database_url]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(args, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def wait_for_file(path: Path, timeout_s: float = WAIT_S) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} did not appear within {timeout_s:.0f} s")


def test_sqlite_a_job_cut_off_by_a_crash_runs_again_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "collector"
    folder = data_dir / SELFTEST_DIR
    with CollectorProcess(data_dir) as first:
        job_id = defer_cli(data_dir, None, name="crash", hold_s=120)
        started = wait_for_file(folder / "crash.started")
        assert first.proc is not None and started.split() == [str(job_id), str(first.proc.pid)]
        first.proc.send_signal(signal.SIGKILL)  # mid-job, no shutdown of any kind
        first.proc.wait(timeout=10)
    assert not (folder / "crash.log").exists()

    async def row() -> LocalJob | None:
        engine = make_engine(CollectorConfig(data_dir=data_dir).db_url)
        async with make_sessionmaker(engine)() as session:
            found = await session.get(LocalJob, job_id)
        await engine.dispose()
        return found

    async def settled() -> LocalJob | None:
        # The task writes its log line before the runner marks the job done: wait on the row, not on time.
        deadline = time.monotonic() + WAIT_S
        found = await row()
        while (found is None or found.status != "done") and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            found = await row()
        return found

    with CollectorProcess(data_dir):
        lines = asyncio.run(wait_for_lines(folder / "crash.log", 1))
        stored = asyncio.run(settled())
    assert lines == [f"{job_id} attempt 2"]
    assert stored is not None and stored.status == "done" and stored.attempts == 2


def test_a_web_only_collector_queues_and_a_worker_process_runs_the_job(tmp_path: Path) -> None:
    data_dir = tmp_path / "collector"
    folder = data_dir / SELFTEST_DIR
    with CollectorProcess(data_dir, env={"ASBUILT_RUN_JOBS": "false"}) as web_only:
        job_id = defer_cli(data_dir, None, name="handed", hold_s=0.2)
        worker = subprocess.Popen(
            [str(ASBUILT), "collector", "jobs", "worker", "--data-dir", str(data_dir)],
            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            started = wait_for_file(folder / "handed.started").split()
            lines = asyncio.run(wait_for_lines(folder / "handed.log", 1))
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=20)
        assert web_only.proc is not None and web_only.proc.poll() is None
    assert started == [str(job_id), str(worker.pid)], "the job ran in the worker, not the web-only instance"
    assert lines == [f"{job_id} attempt 1"]
    assert worker.returncode == 0, stderr.decode()


def test_postgresql_two_collectors_run_each_job_once_and_take_over_a_dead_ones_job(tmp_path: Path) -> None:
    fast = {"ASBUILT_JOB_HEARTBEAT_S": "1", "ASBUILT_JOB_STALLED_AFTER_S": "3"}
    with postgres_database("asb_jobs") as url:
        # Both instances share one data directory, as a shared volume would; the jobs write there.
        data_dir = tmp_path / "shared"
        folder = data_dir / SELFTEST_DIR
        with (
            CollectorProcess(data_dir, url, env=fast) as one,
            CollectorProcess(data_dir, url, env=fast) as two,
        ):
            holder_id = defer_cli(data_dir, url, name="held", hold_s=300)
            ids = [defer_cli(data_dir, url, name=f"job{n}") for n in range(12)]
            started = wait_for_file(folder / "held.started").split()
            assert started[0] == str(holder_id)
            holder = one if one.proc is not None and str(one.proc.pid) == started[1] else two
            assert holder.proc is not None and str(holder.proc.pid) == started[1]
            holder.proc.send_signal(signal.SIGKILL)
            holder.proc.wait(timeout=10)
            lines = asyncio.run(wait_for_lines(folder / "held.log", 1, timeout_s=90))
            for n, job_id in enumerate(ids):
                assert (folder / f"job{n}.log").read_text().splitlines() == [f"{job_id} attempt 1"]
        assert lines == [f"{holder_id} attempt 2"]
