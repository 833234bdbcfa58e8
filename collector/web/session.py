"""Browser sessions: a signed cookie that says who is logged in, and the CSRF token of its forms.

The cookie holds a small JSON payload and an HMAC-SHA256 of it, keyed by a secret kept in the data
directory. It is HttpOnly (no script reads it), SameSite=Strict (no other site sends it) and Secure
when the request came over HTTPS. Every session, logged in or not, carries a random CSRF token that
POST forms must echo back.

``current_identity`` is the one place that turns a request into an ``Identity``: when real users
and roles arrive, it looks the user up instead of trusting the admin-token fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from collector.auth import Identity, IdentityKind
from collector.keys import admin_token_key

COOKIE_NAME = "asbuilt_session"
SESSION_TTL_S = 12 * 3600  # a working day: a technician logs in once per visit
KEY_FILENAME = "web-session-key"
MAX_COOKIE_CHARS = 4096


@dataclass(frozen=True)
class Session:
    csrf: str
    issued_at: int
    kind: str | None = None  # None: not logged in
    name: str | None = None
    credential: str | None = None  # fingerprint of the secret used to log in


def load_or_create_key(data_dir: Path) -> bytes:
    """The signing key: 32 random bytes in data_dir, created once (mode 0600)."""
    path = data_dir / KEY_FILENAME
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) >= 32:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(session: Session, key: bytes) -> str:
    payload = _b64(json.dumps(session.__dict__, separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def decode(cookie: str, key: bytes, now: float) -> Session | None:
    """The session in a cookie, or None when it is forged, malformed or expired."""
    if len(cookie) > MAX_COOKIE_CHARS or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        data: dict[str, Any] = json.loads(_unb64(payload))
        session = Session(**data)
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(session.issued_at, int) or now - session.issued_at > SESSION_TTL_S:
        return None
    return session


def fingerprint(secret: str) -> str:
    """Changes when the admin token is rotated, which ends every session made with the old one."""
    return hashlib.sha256(b"asbuilt-web-session\0" + secret.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- request helpers

session_key_key = web.AppKey("web_session_key", bytes)
_REQUEST_SESSION: web.RequestKey[Session | None] = web.RequestKey("asbuilt_web_session")  # parsed once
_NEW_SESSION = web.RequestKey("asbuilt_web_new_session", bool)  # started now: send its cookie


def read_session(request: web.Request) -> Session | None:
    if _REQUEST_SESSION in request:
        return request[_REQUEST_SESSION]
    cookie = request.cookies.get(COOKIE_NAME)
    session = None if cookie is None else decode(cookie, request.app[session_key_key], time.time())
    request[_REQUEST_SESSION] = session
    return session


def current_identity(request: web.Request) -> Identity | None:
    """Who is logged in on this browser, or None. The single place to plug real users in later."""
    session = read_session(request)
    if session is None or session.kind != IdentityKind.ADMIN.value or session.credential is None:
        return None
    if not hmac.compare_digest(session.credential, fingerprint(request.app[admin_token_key])):
        return None
    return Identity(IdentityKind.ADMIN, session.name or "admin")


def admin_identity_for_token(request: web.Request, token: str) -> Identity | None:
    """The identity a login form's token proves, or None."""
    if token and hmac.compare_digest(token.encode(), request.app[admin_token_key].encode()):
        return Identity(IdentityKind.ADMIN, "admin")
    return None


def new_session(identity: Identity | None, request: web.Request) -> Session:
    """A fresh session (new CSRF token): at login, logout and a browser's first visit."""
    if identity is None:
        return Session(csrf=secrets.token_urlsafe(24), issued_at=int(time.time()))
    return Session(
        csrf=secrets.token_urlsafe(24),
        issued_at=int(time.time()),
        kind=identity.kind.value,
        name=identity.name,
        credential=fingerprint(request.app[admin_token_key]),
    )


def ensure_session(request: web.Request) -> Session:
    """The browser's session, starting an anonymous one (for the login form's CSRF token) if needed."""
    session = read_session(request)
    if session is None:
        session = new_session(None, request)
        request[_REQUEST_SESSION] = session
        request[_NEW_SESSION] = True
    return session


def set_cookie(response: web.StreamResponse, request: web.Request, session: Session) -> None:
    response.set_cookie(
        COOKIE_NAME,
        encode(session, request.app[session_key_key]),
        max_age=SESSION_TTL_S,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def persist_new_session(request: web.Request, response: web.StreamResponse) -> None:
    """Send the cookie of a session ``ensure_session`` started during this request."""
    if request.get(_NEW_SESSION):
        session = read_session(request)
        if session is not None:
            set_cookie(response, request, session)


def csrf_ok(request: web.Request, submitted: str | None) -> bool:
    session = read_session(request)
    return session is not None and bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")


# ---------------------------------------------------------------- login throttling


@dataclass
class LoginThrottle:
    """At most ``limit`` failed logins per client address in ``window_s``; memory stays bounded."""

    limit: int = 10
    window_s: float = 300.0
    max_clients: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, client: str, now: float) -> bool:
        recent = self._failures.get(client)
        if recent is None:
            return False
        while recent and now - recent[0] > self.window_s:
            recent.popleft()
        return len(recent) >= self.limit

    def failed(self, client: str, now: float) -> None:
        if client not in self._failures and len(self._failures) >= self.max_clients:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest client
        self._failures.setdefault(client, deque(maxlen=self.limit)).append(now)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


login_throttle_key = web.AppKey("web_login_throttle", LoginThrottle)
