"""Who is calling, from where, and when: what every service call and audit entry needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from collector.auth import Identity


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ctx:
    identity: Identity
    client: str | None = None  # the client address (from a trusted proxy's header when behind one)
    device_id: int | None = None  # the registered device of the browser, if any
    now: datetime = field(default_factory=utc_now)
