"""Webhook signatures: HMAC-SHA256 over ``<timestamp>.<body>``, the timestamp in its own header.

A receiver recomputes the HMAC with its copy of the secret, compares in constant time, and refuses a
timestamp older than a few minutes (a replayed request). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Asbuilt-Timestamp"
SIGNATURE_HEADER = "X-Asbuilt-Signature"
EVENT_HEADER = "X-Asbuilt-Event"
DELIVERY_HEADER = "X-Asbuilt-Delivery"
SCHEME = "v1"
MAX_AGE_S = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: what the Signature header carries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(
    secret: str, timestamp_header: str | None, signature_header: str | None, body: bytes, now: int
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > MAX_AGE_S:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header.strip())
