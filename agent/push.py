"""Deliver spooled snapshots to the collector, exactly once as far as the collector is concerned.

Each push sends the spooled gzip bytes (a `bytes` body, so a retry re-sends the whole body: aiohttp
re-sends an async-generator body empty) with the content hash as Idempotency-Key, so a push whose
answer was lost is harmless when repeated. Outcomes:
- 200/201: confirmed → removed from the spool;
- 401 (token unknown or revoked): everything stays in the spool and the agent reports it (re-enrol);
- other 4xx (malformed, too large, another site's snapshot): the collector will never take it → moved to
  rejected/ with the reason, where a human can look at it; nothing is deleted;
- 5xx, 408, 429, timeouts, connection errors: transient → retried with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp

from agent.spool import Spool, SpoolItem

log = logging.getLogger(__name__)

SNAPSHOTS_PATH = "/api/v1/snapshots"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # try again later
    UNAUTHORIZED = "unauthorized"  # keep; needs a human (re-enrol)
    REJECTED = "rejected"  # the collector will never accept this snapshot


@dataclass(frozen=True)
class PushResult:
    outcome: Outcome
    status: int | None
    detail: str
    version: int | None = None


@dataclass
class DrainReport:
    delivered: list[PushResult] = field(default_factory=list)
    rejected: list[PushResult] = field(default_factory=list)
    last_error: str | None = None
    remaining: int = 0


class PushClient:
    """Sends one spooled snapshot per call. Safe to call again for the same snapshot."""

    def __init__(self, collector_url: str, token: str, *, timeout_s: float = 30.0) -> None:
        self.base = collector_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(10.0, timeout_s))
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PushClient:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def push(self, item: SpoolItem) -> PushResult:
        assert self._session is not None, "use `async with PushClient(...)`"
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Idempotency-Key": item.content_hash,
        }
        try:
            async with self._session.post(
                self.base + SNAPSHOTS_PATH, data=item.body(), headers=headers
            ) as resp:
                text = (await resp.content.read(64 * 1024)).decode("utf-8", "replace")
                return _classify(resp.status, text, _version_of(resp, text))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return PushResult(Outcome.TRANSIENT, None, f"{type(exc).__name__}: {exc}".strip())


def _version_of(resp: aiohttp.ClientResponse, text: str) -> int | None:
    if resp.content_type != "application/json":
        return None
    try:
        value = json.loads(text).get("version")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _classify(status: int, text: str, version: int | None) -> PushResult:
    detail = text.strip()[:500]
    if status in (200, 201):
        return PushResult(Outcome.DELIVERED, status, "ok", version)
    if status == 401:
        return PushResult(Outcome.UNAUTHORIZED, status, detail)
    if status in (408, 425, 429) or status >= 500:
        return PushResult(Outcome.TRANSIENT, status, detail)
    return PushResult(Outcome.REJECTED, status, detail)


async def drain(
    spool: Spool,
    client: PushClient,
    *,
    attempts: int = 5,
    base_delay_s: float = 1.0,
    max_delay_s: float = 60.0,
) -> DrainReport:
    """Push every pending snapshot, oldest first; stop at the first one that cannot be delivered now
    (so order is kept), after `attempts` tries with exponential backoff and jitter."""
    report = DrainReport()
    for item in spool.pending():
        delay = base_delay_s
        for attempt in range(1, attempts + 1):
            result = await client.push(item)
            if result.outcome is not Outcome.TRANSIENT or attempt == attempts:
                break
            log.info(
                "push of %s failed (%s), retry %d in %.1fs",
                item.content_hash[:12],
                result.detail,
                attempt,
                delay,
            )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, max_delay_s)
        if result.outcome is Outcome.DELIVERED:
            spool.ack(item)
            report.delivered.append(result)
            continue
        if result.outcome is Outcome.REJECTED:
            spool.reject(item, f"HTTP {result.status}: {result.detail}")
            report.rejected.append(result)
            log.error(
                "collector rejected snapshot %s: HTTP %s %s",
                item.content_hash[:12],
                result.status,
                result.detail,
            )
            continue
        report.last_error = f"{result.outcome}: HTTP {result.status} {result.detail}".strip()
        break
    report.remaining = spool.depth()
    return report
