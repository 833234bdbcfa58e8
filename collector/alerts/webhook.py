"""One signed webhook POST: the digest's JSON, HMAC-signed, with a bounded timeout.

Anything but a 2xx reply is a failure (the job retries it with backoff); the reply body is read
only up to a few KiB, for the delivery log.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from collector.alerts import signing

MAX_REPLY_BYTES = 4096


class WebhookFailed(RuntimeError):
    pass


def body_of(payload: dict[str, Any], delivery_id: int) -> bytes:
    return json.dumps({**payload, "delivery_id": delivery_id}, sort_keys=True, separators=(",", ":")).encode()


async def post(url: str, secret: str, event: str, body: bytes, delivery_id: int, timeout_s: float) -> int:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "asbuilt-alerts/1",
        signing.EVENT_HEADER: event,
        signing.DELIVERY_HEADER: str(delivery_id),
        **signing.headers(secret, timestamp, body),
    }
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(5.0, timeout_s))
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            reply = await resp.content.read(MAX_REPLY_BYTES)
            if not 200 <= resp.status < 300:
                text = reply.decode("utf-8", "replace").strip()[:200]
                raise WebhookFailed(f"HTTP {resp.status}" + (f": {text}" if text else ""))
            return resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WebhookFailed(f"{type(exc).__name__}: {exc}"[:500]) from None
