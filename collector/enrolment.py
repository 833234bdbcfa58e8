"""Agent enrolment: an admin issues a one-time code for a site; an agent trades it for a token."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries
from collector.db.models import Agent, EnrolmentCode, Site
from collector.tokens import new_agent_token, new_enrolment_code, normalise_code, secret_hash


class EnrolmentRefused(Exception):
    """The code is unknown, already used or expired (deliberately not saying which)."""


async def issue_code(
    session: AsyncSession,
    *,
    customer: str,
    site_slug: str,
    now: datetime,
    ttl: timedelta,
    site_name: str | None = None,
) -> tuple[str, Site]:
    """Create the customer and site when new, and a one-time code for the site. Returns (code, site)."""
    org = await queries.default_organization(session)
    assert org.id is not None
    cust = await queries.get_or_create_customer(session, org.id, customer)
    assert cust.id is not None
    site = await queries.get_or_create_site(session, org.id, cust.id, site_slug, site_name)
    assert site.id is not None
    code = new_enrolment_code()
    session.add(
        EnrolmentCode(
            site_id=site.id, code_hash=secret_hash(normalise_code(code)), created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return code, site


async def redeem_code(
    session: AsyncSession, code: str, agent_name: str, now: datetime
) -> tuple[Agent, str, Site]:
    """Spend the code once: returns the new agent, its bearer token (shown only now) and its site."""
    query = select(EnrolmentCode).where(EnrolmentCode.code_hash == secret_hash(normalise_code(code)))
    entry = (await session.exec(query)).first()
    if entry is None or entry.used_at is not None or entry.expires_at <= now:
        raise EnrolmentRefused("the enrolment code is unknown, already used or expired")
    # Spend it with a conditional write, so two agents racing with one code cannot both win.
    spend = (
        update(EnrolmentCode)
        .where(col(EnrolmentCode.id) == entry.id, col(EnrolmentCode.used_at).is_(None))
        .values(used_at=now)
    )
    if (await session.exec(spend)).rowcount != 1:
        raise EnrolmentRefused("the enrolment code is unknown, already used or expired")
    token = new_agent_token()
    agent = Agent(site_id=entry.site_id, name=agent_name, token_hash=secret_hash(token), created_at=now)
    session.add(agent)
    await session.flush()
    await session.exec(
        update(EnrolmentCode).where(col(EnrolmentCode.id) == entry.id).values(agent_id=agent.id)
    )
    site = await queries.get_site(session, entry.site_id)
    return agent, token, site
