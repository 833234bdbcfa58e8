"""Browser sessions: aiohttp-session's encrypted cookie carries a random session id and the CSRF token;
the ``UserSession`` row (collector.services.accounts) decides whether the id still counts.

So logout, a password change, disabling a user or revoking a device end the session at once, on
every collector instance, although the cookie itself cannot be recalled. The cookie is HttpOnly,
SameSite=Strict, Secure over HTTPS, encrypted and authenticated (Fernet), and expires with the
absolute session age; idle and absolute timeouts are checked against the row.

A second, long-lived cookie identifies a registered device (a random secret; its hash is stored).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from collector.keys import config_key, sessions_key
from collector.services.accounts import LiveSession, live_session
from collector.services.context import Ctx

COOKIE_NAME = "asbuilt_session"
DEVICE_COOKIE = "asbuilt_device"
DEVICE_COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest browsers keep a cookie
PENDING_TTL_S = 300  # between a right password and the second factor

_LIVE: web.RequestKey[LiveSession | None] = web.RequestKey("asbuilt_live_session")


class CookieStorage(EncryptedCookieStorage):
    """The library's storage, with Secure set per request (HTTPS directly or via the trusted proxy)."""

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        self._cookie_params["secure"] = request.secure
        await super().save_session(request, response, session)


def session_layer(key: bytes, max_age_s: int) -> Any:
    storage = CookieStorage(key, cookie_name=COOKIE_NAME, max_age=max_age_s, httponly=True, samesite="Strict")
    return session_middleware(storage)


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


async def csrf_ok(request: web.Request, submitted: str | None) -> bool:
    session = await get_session(request)
    token = session.get("csrf")
    return isinstance(token, str) and bool(submitted) and hmac.compare_digest(token, submitted or "")


async def session_id(request: web.Request) -> str | None:
    sid = (await get_session(request)).get("sid")
    return sid if isinstance(sid, str) else None


async def current(request: web.Request, ctx: Ctx) -> LiveSession | None:
    """The signed-in session of this browser (looked up once per request), or None."""
    if _LIVE in request:
        return request[_LIVE]
    sid = await session_id(request)
    live = None
    if sid is not None:
        config = request.app[config_key]
        async with request.app[sessions_key]() as db, db.begin():
            live = await live_session(
                db, ctx, sid, idle_s=config.session_idle_timeout_s, max_age_s=config.session_max_age_s
            )
    request[_LIVE] = live
    return live


async def begin(request: web.Request, sid: str) -> None:
    """A fresh cookie session (new CSRF token: no fixation) for a signed-in user."""
    session = await new_session(request)
    session["sid"] = sid
    session["csrf"] = secrets.token_urlsafe(24)


async def end(request: web.Request) -> None:
    """Forget the signed-in state in this browser; a new anonymous session carries the next form's CSRF."""
    session = await new_session(request)
    session["csrf"] = secrets.token_urlsafe(24)
    request[_LIVE] = None


async def set_pending(request: web.Request, user_id: int, now: float, target: str) -> None:
    """Password right, a second step to go: remembered in the (encrypted) cookie for a few minutes."""
    session = await new_session(request)
    session["csrf"] = secrets.token_urlsafe(24)
    session["pending"] = {"uid": user_id, "at": now, "next": target}


async def pending(request: web.Request, now: float) -> dict[str, Any] | None:
    value = (await get_session(request)).get("pending")
    if not isinstance(value, dict) or not isinstance(value.get("uid"), int):
        return None
    if now - float(value.get("at", 0)) > PENDING_TTL_S:
        return None
    return value


def device_token(request: web.Request) -> str | None:
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and len(value) < 200 else None


def set_device_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_MAX_AGE_S, path="/", httponly=True, samesite="Strict",
        secure=request.secure,
    )  # fmt: skip
