"""Agent management: revoke a token (the agent gets 401 from then on)."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import int_param, now, respond
from collector.api.schemas import AgentPublic
from collector.auth import Action, authenticate, ensure
from collector.db.models import Agent, Site
from collector.errors import not_found
from collector.keys import sessions_key


async def revoke_agent(request: web.Request) -> web.Response:
    agent_id = int_param(request.match_info["agent_id"], "agent_id")
    identity = await authenticate(request)
    async with request.app[sessions_key]() as session, session.begin():
        agent = await session.get(Agent, agent_id)
        if agent is None:
            raise not_found(f"agent {agent_id}")
        ensure(identity, Action.MANAGE_AGENTS, agent.site_id)
        if agent.revoked_at is None:  # revoking twice keeps the first time
            agent.revoked_at = now()
            session.add(agent)
        site = await session.get(Site, agent.site_id)
        assert site is not None
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
