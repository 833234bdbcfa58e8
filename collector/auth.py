"""Who is calling, and may they do this? Kept apart from the views so users, roles and scopes plug in.

Today there are two kinds of identity: the administrator (one bearer token from the config) and
agents (each with its own revocable token, bound to one site). ``permits`` is the single place
that decides; views call ``require``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

from collector.db import queries
from collector.errors import forbidden, unauthorized
from collector.keys import admin_token_key, sessions_key
from collector.tokens import AGENT_TOKEN_PREFIX, secret_hash


class Action(StrEnum):
    PUSH_SNAPSHOT = "snapshot:push"
    READ_SITE = "site:read"
    APPROVE_BASELINE = "baseline:approve"
    MANAGE_AGENTS = "agent:manage"


class IdentityKind(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    name: str
    agent_id: int | None = None
    site_id: int | None = None  # the one site an agent may push to


def permits(identity: Identity, action: Action, site_id: int | None = None) -> bool:
    if identity.kind is IdentityKind.ADMIN:
        return True
    if identity.kind is IdentityKind.AGENT:
        return action is Action.PUSH_SNAPSHOT and site_id is not None and site_id == identity.site_id
    return False


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: web.Request) -> Identity:
    """The caller's identity from its bearer token, or 401."""
    token = bearer_token(request)
    if token is None:
        raise unauthorized()
    if token.startswith(AGENT_TOKEN_PREFIX):
        async with request.app[sessions_key]() as session:
            agent = await queries.agent_by_token_hash(session, secret_hash(token))
        if agent is None or agent.revoked_at is not None:
            raise unauthorized("the agent token is unknown or revoked")
        return Identity(IdentityKind.AGENT, agent.name, agent_id=agent.id, site_id=agent.site_id)
    if hmac.compare_digest(token.encode(), request.app[admin_token_key].encode()):
        return Identity(IdentityKind.ADMIN, "admin")
    raise unauthorized("the bearer token is not valid")


def ensure(identity: Identity, action: Action, site_id: int | None = None) -> None:
    """403 unless ``permits``; call it once the resource (and its site) is known."""
    if not permits(identity, action, site_id):
        raise forbidden(f"{identity.kind.value} {identity.name!r} may not {action.value}")


async def require(request: web.Request, action: Action, site_id: int | None = None) -> Identity:
    identity = await authenticate(request)
    ensure(identity, action, site_id)
    return identity
