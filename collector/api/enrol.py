"""POST /api/v1/enrol: an agent trades a one-time code for its own token.

Refused codes count against the client address like unknown bearer tokens do (the same SlowDown):
codes have 80 bits, and guessing them should not even be cheap.
"""

from __future__ import annotations

from aiohttp import web

from collector.api.common import now, read_model, respond
from collector.api.guard import too_many
from collector.api.schemas import EnrolRequest, EnrolResponse
from collector.enrolment import EnrolmentRefused, redeem_code
from collector.errors import ApiError
from collector.http.caller import client_of
from collector.keys import api_auth_throttle_key, sessions_key


async def enrol(request: web.Request) -> web.Response:
    throttle, key = request.app[api_auth_throttle_key], f"enrol:{client_of(request)}"
    wait = throttle.wait(key)
    if wait > 0:
        raise too_many(wait, "too many refused enrolment codes from this address")
    body = await read_model(request, EnrolRequest)
    try:
        async with request.app[sessions_key]() as session, session.begin():
            agent, token, site = await redeem_code(session, body.code, body.agent_name, now())
    except EnrolmentRefused as exc:
        throttle.failure(key)
        raise ApiError(403, "enrolment_refused", str(exc), field="code") from None
    assert agent.id is not None
    return respond(EnrolResponse(agent_id=agent.id, token=token, site_id=site.slug), status=201)
