"""The site agent as a long-running service: scheduled scans, spooled, pushed to the collector.

`AgentServiceConfig` is the agent's YAML file. `AgentService` runs an APScheduler AsyncIOScheduler
with the scan job (cron or interval) and a delivery job that drains the spool every `retry_every_s`,
so snapshots taken while the collector was down arrive once it is back. The last scan and the last
push are recorded in `status.json` in the state directory for `asbuilt agent status`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.push import DrainReport, PushClient, drain
from agent.spool import Spool
from drivers.schema import Snapshot

log = logging.getLogger(__name__)

ScanFn = Callable[[], Awaitable[Snapshot]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(Strict):
    """When to scan: a crontab line, or an interval. Exactly one of them."""

    cron: str | None = Field(default=None, description="crontab, e.g. '15 2 * * *' (daily at 02:15)")
    interval_minutes: float | None = Field(default=None, gt=0)
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.cron is None) == (self.interval_minutes is None):
            raise ValueError("schedule needs exactly one of `cron` or `interval_minutes`")
        return self


class PushSettings(Strict):
    attempts: int = Field(default=5, ge=1, le=20, description="Tries per snapshot per delivery run")
    base_delay_s: float = Field(default=2.0, gt=0)
    max_delay_s: float = Field(default=120.0, gt=0)
    retry_every_s: float = Field(default=300.0, gt=0, description="How often undelivered snapshots retry")
    timeout_s: float = Field(default=60.0, gt=0)


class AgentServiceConfig(Strict):
    site: str = Field(min_length=1, description="Site id; must match the site the agent enrolled for")
    collector_url: str
    state_dir: Path = Field(description="Spool, token and status live here")
    token_file: Path | None = Field(default=None, description="Default: <state_dir>/agent.token")
    creds_file: Path | None = Field(default=None, description="Device credentials (YAML), for offline sites")
    credentials_from_collector: bool = Field(
        default=False,
        description="Fetch the site's logins from the collector's vault at each scan (memory only)",
    )
    schedule: Schedule
    scan: dict[str, Any] = Field(description="Scan settings: scopes, ports, timeouts (see ScanConfig)")
    push: PushSettings = Field(default_factory=PushSettings)

    @property
    def token_path(self) -> Path:
        return self.token_file or self.state_dir / "agent.token"

    @property
    def spool_dir(self) -> Path:
        return self.state_dir / "spool"

    @property
    def status_path(self) -> Path:
        return self.state_dir / "status.json"

    @classmethod
    def load(cls, path: Path) -> AgentServiceConfig:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.model_validate(data)


def read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        raise FileNotFoundError(f"no agent token at {path}: run `asbuilt agent enrol` first") from None
    if not token:
        raise ValueError(f"the agent token file {path} is empty: enrol again")
    return token


def write_token(path: Path, token: str) -> None:
    """The token is a secret: owner-only file, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class StatusFile:
    """Last scan / last push, for `asbuilt agent status` (no secrets in here)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, **fields: Any) -> None:
        data = {**self.read(), **fields}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner only, whatever the umask
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.path)


class AgentService:
    """Scan → spool → push, on a schedule. One scan at a time; delivery never blocks scanning."""

    def __init__(self, config: AgentServiceConfig, scan: ScanFn) -> None:
        self.config = config
        self._scan = scan
        self.spool = Spool(config.spool_dir)
        self.status = StatusFile(config.status_path)
        self._push_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()

    async def scan_once(self) -> Snapshot | None:
        """Take one scan and spool it; then try to deliver. A failed scan is recorded, not raised."""
        if self._scan_lock.locked():
            log.warning("a scan is still running; skipping this one")
            return None
        async with self._scan_lock:
            started = time.time()
            try:
                snapshot = await self._scan()
            except Exception as exc:  # the service must outlive any one failed scan
                log.exception("scan failed")
                self.status.update(
                    last_scan={"at": started, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
                )
                return None
            item = self.spool.put(snapshot)
            self.status.update(
                last_scan={
                    "at": started,
                    "ok": True,
                    "duration_s": round(time.time() - started, 2),
                    "content_hash": item.content_hash,
                    "devices": len(snapshot.devices),
                    "problems": len(snapshot.problems),
                }
            )
        await self.deliver()
        return snapshot

    async def deliver(self) -> DrainReport | None:
        """Push what the spool holds. Safe to call at any time; concurrent calls wait their turn."""
        if self.spool.depth() == 0:
            return None
        async with self._push_lock:
            try:
                token = read_token(self.config.token_path)
            except (FileNotFoundError, ValueError, OSError) as exc:
                self.status.update(last_push={"at": time.time(), "ok": False, "error": str(exc)})
                return None
            fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
            if self.status.read().get("refused_token") == fingerprint:
                # The collector said 401 to this very token: asking again changes nothing until
                # the agent is enrolled again (which writes a new token).
                self.status.update(
                    last_push={
                        "at": time.time(),
                        "ok": False,
                        "error": "not tried: the collector refused this agent's token; enrol again",
                        "remaining": self.spool.depth(),
                    }
                )
                return None
            p = self.config.push
            async with PushClient(self.config.collector_url, token, timeout_s=p.timeout_s) as client:
                report = await drain(
                    self.spool,
                    client,
                    attempts=p.attempts,
                    base_delay_s=p.base_delay_s,
                    max_delay_s=p.max_delay_s,
                )
            self.status.update(
                last_push={
                    "at": time.time(),
                    "ok": report.last_error is None,
                    "delivered": len(report.delivered),
                    "rejected": len(report.rejected),
                    "held": len(report.held),
                    "error": report.last_error,
                    "remaining": report.remaining,
                },
                refused_token=fingerprint if report.unauthorized else None,
            )
            return report

    async def run_forever(self, *, scan_at_start: bool = True, stop: asyncio.Event | None = None) -> None:
        """Run the schedule until `stop` is set (or forever)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        sched = self.config.schedule
        trigger: CronTrigger | IntervalTrigger
        if sched.cron is not None:
            trigger = CronTrigger.from_crontab(sched.cron, timezone=sched.timezone)
        else:
            assert sched.interval_minutes is not None
            trigger = IntervalTrigger(minutes=sched.interval_minutes, timezone=sched.timezone)
        scheduler = AsyncIOScheduler(
            timezone=sched.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        scheduler.add_job(self.scan_once, trigger, id="scan", replace_existing=True)
        scheduler.add_job(
            self.deliver,
            IntervalTrigger(seconds=self.config.push.retry_every_s),
            id="deliver",
            replace_existing=True,
        )
        scheduler.start()
        try:
            if scan_at_start:
                await self.scan_once()
            else:
                await self.deliver()
            await (stop or asyncio.Event()).wait()
        finally:
            scheduler.shutdown(wait=False)
