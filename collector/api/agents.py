"""Agent management: revoke a token (the agent gets 401 from then on)."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import respond
from collector.api.guard import ctx_of
from collector.api.schemas import AgentPublic
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import sites as site_service


async def revoke_agent(request: web.Request) -> web.Response:
    agent_id = int_param(request.match_info["agent_id"], "agent_id")
    async with request.app[sessions_key]() as db, db.begin():
        agent, site = await site_service.revoke_agent(db, ctx_of(request), agent_id)
    return respond(
        AgentPublic(
            agent_id=agent_id,
            name=agent.name,
            site_id=site.slug,
            created_at=agent.created_at,
            revoked_at=agent.revoked_at,
            last_seen_at=agent.last_seen_at,
        )
    )
