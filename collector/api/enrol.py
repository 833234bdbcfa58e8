"""POST /api/v1/enrol: an agent trades a one-time code for its own token."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import now, read_model, respond
from collector.api.schemas import EnrolRequest, EnrolResponse
from collector.enrolment import EnrolmentRefused, redeem_code
from collector.errors import ApiError
from collector.keys import sessions_key


async def enrol(request: web.Request) -> web.Response:
    body = await read_model(request, EnrolRequest)
    try:
        async with request.app[sessions_key]() as session, session.begin():
            agent, token, site = await redeem_code(session, body.code, body.agent_name, now())
    except EnrolmentRefused as exc:
        raise ApiError(403, "enrolment_refused", str(exc), field="code") from None
    assert agent.id is not None
    return respond(EnrolResponse(agent_id=agent.id, token=token, site_id=site.slug), status=201)
