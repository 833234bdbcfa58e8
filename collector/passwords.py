"""Human secrets: argon2id password hashes and TOTP second factors (pyotp).

Hashing is deliberately slow (tens of milliseconds of CPU): callers run it in a thread so the event
loop keeps serving. An unknown user name is checked against a dummy hash, so the answer takes as
long as for a real user and the timing does not tell which names exist.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1000
TOTP_ISSUER = "asbuilt"

_HASHER = PasswordHasher()  # argon2id, the RFC 9106 "low memory" parameters


class PasswordRejected(ValueError):
    """A new password that does not meet the rules (the message says which)."""


def check_new_password(password: str, name: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRejected(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRejected(f"a password may have at most {MAX_PASSWORD_CHARS} characters")
    if password.strip().lower() == name.strip().lower():
        raise PasswordRejected("the password may not be the user name")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a real password; equalises timing")


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password_async(stored: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    return await asyncio.to_thread(verify_password, stored, password)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30 s step whose 6-digit code this is — now's, or the one before or after (phone clocks
    drift) — or None. Callers refuse a step not newer than the last one used: a code works once."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
