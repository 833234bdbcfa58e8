"""Slowing down guessers without locking the right person out, and where a request comes from.

``SlowDown``: after ``free`` failures for a key (an account, a client address) each further
attempt must wait a delay that doubles up to ``max_s`` (seconds, never minutes); a request that
comes too early is answered 429 with Retry-After, one that waits is checked as usual, so the right
password still works after a short wait. Failures older than ``window_s`` are forgotten.

``RateLimit``: a token bucket per caller for the API.

``client_address``: the socket peer, or, when that peer is a configured trusted proxy, the
right-most X-Forwarded-For hop that is not itself a trusted proxy. Nobody else can set it.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_FORWARDED_HOPS = 20


@dataclass
class SlowDown:
    free: int = 5
    base_s: float = 1.0
    max_s: float = 30.0
    window_s: float = 900.0
    max_keys: int = 50_000
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        state = self._failures.get(key)
        if state is None:
            return 0.0
        count, last = state
        now = self.clock()
        if now - last > self.window_s:
            del self._failures[key]
            return 0.0
        if count < self.free:
            return 0.0
        delay = min(self.base_s * 2 ** (count - self.free), self.max_s)
        return max(0.0, last + delay - now)

    def failure(self, key: str) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest key
        count, _ = self._failures.get(key, (0, 0.0))
        self._failures[key] = (count + 1, self.clock())

    def success(self, key: str) -> None:
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, (0, 0.0))[0]


@dataclass
class RateLimit:
    rate_per_s: float = 20.0
    burst: float = 200.0
    max_keys: int = 50_000
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """Spend one request; returns 0, or the seconds to wait when the bucket is empty."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate_per_s)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate_per_s
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = (tokens - 1, now)
        return 0.0


def parse_networks(text: str) -> tuple[Network, ...]:
    """'127.0.0.1, 10.0.0.0/8' → networks; a bad entry is a clear error at start-up."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, trusted: Iterable[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in trusted)


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    peer = request.remote or "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in request.headers.getall("X-Forwarded-For", []) for h in value.split(",")]
    hops = [h for h in hops if h][-_MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        if _ip(hop) is None:
            return peer  # a garbled header: trust nothing in it
        if not _trusted(hop, trusted):
            return str(_ip(hop))
    return peer
