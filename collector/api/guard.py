"""Every API route runs behind ``guarded``: who is calling (bearer token), throttles, and the route's
declared action checked before the view looks anything up. Views read ``request[IDENTITY]``.
"""

from __future__ import annotations

import functools
import math

from aiohttp import web
from aiohttp.typedefs import Handler

from collector.auth import Action, Identity, ensure
from collector.errors import ApiError, unauthorized
from collector.http.caller import IDENTITY, client_of
from collector.keys import (
    admin_token_key,
    api_auth_throttle_key,
    api_rate_key,
    sessions_key,
)
from collector.services.accounts import identity_for_bearer
from collector.services.context import Ctx, utc_now


def too_many(wait_s: float, what: str) -> ApiError:
    seconds = max(1, math.ceil(wait_s))
    return ApiError(
        429, "too_many_requests", f"{what}; retry in {seconds} s", headers={"Retry-After": str(seconds)}
    )


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: web.Request) -> Identity:
    """The caller's identity from its bearer token, or 401; 429 for a client that keeps guessing."""
    token = bearer_token(request)
    if token is None:
        raise unauthorized()
    client = client_of(request)
    throttle = request.app[api_auth_throttle_key]
    key = f"client:{client}"
    wait = throttle.wait(key)
    if wait > 0:
        raise too_many(wait, "too many requests with unknown tokens from this address")
    async with request.app[sessions_key]() as db, db.begin():
        identity = await identity_for_bearer(db, token, request.app[admin_token_key], utc_now())
    if identity is None:
        throttle.failure(key)
        raise unauthorized("the bearer token is unknown or revoked")
    caller = f"{identity.kind}:{identity.user_id or identity.agent_id or identity.name}"
    wait = request.app[api_rate_key].take(caller)
    if wait > 0:
        raise too_many(wait, "request rate over the limit for this caller")
    return identity


def ctx_of(request: web.Request) -> Ctx:
    return Ctx(request[IDENTITY], client_of(request))


def guarded(action: Action, handler: Handler) -> Handler:
    """Wrap ``handler``: public routes run as they are, the others need a caller who may ``action``."""
    if action is Action.PUBLIC:
        return handler

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        identity = await authenticate(request)
        ensure(identity, action)  # the role may never do this: 403 before anything is looked up
        request[IDENTITY] = identity
        return await handler(request)

    return view
