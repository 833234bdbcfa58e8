"""Deliver spooled snapshots to the collector, exactly once as far as the collector is concerned.

Each push sends the spooled gzip bytes (a `bytes` body, so a retry re-sends the whole body: aiohttp
re-sends an async-generator body empty) with the sha256 of those bytes as Idempotency-Key: one key
per body, so a push whose answer was lost is harmless when repeated (the collector refuses a key
reused with another body). Outcomes:
- 200/201: confirmed → removed from the spool;
- 401 (token unknown or revoked): everything stays in the spool and the agent reports it (re-enrol);
  the service does not try that token again until it changes;
- other 4xx (malformed, too large, another site's snapshot): the collector will never take it → held
  aside in rejected/ with the reason, where a human can look at it; nothing is deleted;
- 500-class answers for one snapshot (502/503/504 excepted): counted per snapshot; after
  spool.HOLD_AFTER failed deliveries it is held aside too, so the snapshots behind it are delivered;
- 502/503/504, 408, 429, timeouts, connection errors: transient → retried with exponential backoff
  and jitter, order kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from dataclasses import dataclass, field
from enum import StrEnum

import aiohttp

from agent.spool import HOLD_AFTER, Spool, SpoolItem

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
    held: list[PushResult] = field(default_factory=list)  # failed HOLD_AFTER times: moved aside
    last_error: str | None = None
    unauthorized: bool = False
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
        }
        try:
            body = item.body()
        except OSError as exc:
            return PushResult(Outcome.REJECTED, None, f"the spooled file cannot be read: {exc}")
        headers["Idempotency-Key"] = hashlib.sha256(body).hexdigest()
        try:
            async with self._session.post(self.base + SNAPSHOTS_PATH, data=body, headers=headers) as resp:
                text = (await resp.content.read(64 * 1024)).decode("utf-8", "replace")
                return _classify(resp.status, text, _version_of(resp, text))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return PushResult(Outcome.TRANSIENT, None, plain_words(exc, self.base, self._timeout.total))


def plain_words(exc: BaseException, base: str, timeout_s: float | None) -> str:
    """What went wrong reaching the collector, for a technician rather than a library's author."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"the collector at {base} did not answer within {timeout_s or 0:g} s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return f"the collector at {base} has a TLS certificate this machine does not trust"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the collector's host name in {base} does not resolve (DNS)"
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return f"the collector at {base} is not reachable (down, or a firewall in between)"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | ConnectionResetError):
        return f"the collector at {base} closed the connection before answering"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"{base} is not a usable collector URL"
    return f"the collector at {base} could not be reached ({type(exc).__name__})"


def _version_of(resp: aiohttp.ClientResponse, text: str) -> int | None:
    if resp.content_type != "application/json":
        return None
    try:
        value = json.loads(text).get("version")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def poisoned(result: PushResult) -> bool:
    """The collector answered, with a server error about this snapshot (not about being busy or away)."""
    return result.status is not None and result.status >= 500 and result.status not in (502, 503, 504)


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
    hold_after: int = HOLD_AFTER,
) -> DrainReport:
    """Push every pending snapshot, oldest first; stop at the first one that cannot be delivered now
    (so order is kept), after `attempts` tries with exponential backoff and jitter. A snapshot the
    collector keeps failing with a server error is held aside after `hold_after` such deliveries."""
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
        if result.outcome is Outcome.UNAUTHORIZED:
            report.unauthorized = True
            report.last_error = "the collector refused this agent's token (HTTP 401): enrol the agent again"
            break
        if poisoned(result) and spool.note_failure(item) >= hold_after:
            spool.reject(
                item, f"held after {hold_after} failed deliveries: HTTP {result.status}: {result.detail}"
            )
            report.held.append(result)
            log.error("snapshot %s held aside after %d failed deliveries", item.content_hash[:12], hold_after)
            continue
        status = f"HTTP {result.status}: " if result.status is not None else ""
        report.last_error = f"{status}{result.detail}".strip()
        break
    report.remaining = spool.depth()
    return report
