"""The alert jobs (collector/jobs): make a digest and its deliveries, then try each delivery.

``alerts.deliver`` raises when a try fails, so the queue runs it again after a doubling wait
(2, 4, 8, 16, 32 s: six tries over about a minute); each try is written to the delivery log first,
with the error and the time of the next try. Nothing here is ever awaited by an ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web

from collector.alerts import fanout, mail, webhook
from collector.db.types import utcnow
from collector.jobs.tasks import REGISTRY, JobContext, retry_delay_s, task

log = logging.getLogger("asbuilt.alerts")

DELIVER = "alerts.deliver"
VERSION = "alerts.version"
OVERDUE = "alerts.overdue"


class DeliveryFailed(RuntimeError):
    pass


async def _queue_deliveries(ctx: JobContext, ids: list[int]) -> None:
    if ctx.queue is None:  # pragma: no cover - every queue passes itself
        raise RuntimeError("a job context without its queue cannot queue deliveries")
    for delivery_id in ids:
        await ctx.queue.defer(DELIVER, {"delivery_id": delivery_id}, key=f"{DELIVER}:{delivery_id}")


@task(VERSION, max_attempts=3, base_delay_s=2.0)
async def version_alert(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A new version arrived: its digest (if it differs from what it was compared with), fanned out."""
    async with ctx.sessions() as db, db.begin():
        ids = await fanout.changes_event(db, ctx.config, int(payload["site_id"]), int(payload["version"]))
    await _queue_deliveries(ctx, ids)


@task(OVERDUE, max_attempts=2, base_delay_s=5.0)
async def overdue_check(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.sessions() as db, db.begin():
        ids = await fanout.overdue_events(db, ctx.config, utcnow())
    await _queue_deliveries(ctx, ids)


@task(DELIVER, max_attempts=6, base_delay_s=2.0)
async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    delivery_id = int(payload["delivery_id"])
    async with ctx.sessions() as db, db.begin():
        plan = await fanout.plan_delivery(db, ctx.config, delivery_id)
    if plan is None:
        return
    error: str | None = None
    try:
        if plan.channel == "email":
            await mail.send(ctx.config, plan.target, plan.digest, delivery_id)
        else:
            assert plan.secret is not None
            body = webhook.body_of(plan.digest.payload, delivery_id)
            await webhook.post(plan.target, plan.secret, plan.digest.payload.get("event", plan.digest.kind),
                               body, delivery_id, ctx.config.webhook_timeout_s)  # fmt: skip
    except Exception as exc:  # every failure is logged on the delivery, then retried by the queue
        error = f"{type(exc).__name__}: {exc}"[:2000]
    now = utcnow()
    spec = REGISTRY[DELIVER]
    next_try = None
    if error is not None and ctx.attempt < spec.max_attempts:
        next_try = now + timedelta(seconds=retry_delay_s(spec, ctx.attempt))
    async with ctx.sessions() as db, db.begin():
        await fanout.record_attempt(db, delivery_id, ctx.attempt, error, now, next_try)
    if error is not None:
        raise DeliveryFailed(error)


async def overdue_ticker(app: web.Application) -> AsyncIterator[None]:
    """Queue the overdue check every ``alert_overdue_check_s`` (one waiting at a time, on any instance)."""
    from collector.jobs.queue import jobs_key
    from collector.keys import config_key

    every = app[config_key].alert_overdue_check_s

    async def tick() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await app[jobs_key].defer(OVERDUE, {}, key=OVERDUE)
            except Exception as exc:  # a busy database: the next tick tries again
                log.warning("could not queue the overdue check: %s", exc)

    runner = asyncio.create_task(tick(), name="asbuilt-overdue-ticker")
    try:
        yield
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def after_ingest(app: web.Application, site_id: int, version: int) -> None:
    """Called by the push view after its transaction committed: only queues a job, never sends."""
    from collector.jobs.queue import jobs_key

    try:
        await app[jobs_key].defer(VERSION, {"site_id": site_id, "version": version},
                                  key=f"{VERSION}:{site_id}:{version}")  # fmt: skip
    except Exception as exc:  # the version is stored; a lost alert must not fail the push
        log.warning("could not queue the alert of site %s v%s: %s", site_id, version, exc)
