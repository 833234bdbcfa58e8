"""Refused pushes, remembered per site so that the office sees an agent stuck on a bad snapshot.

The agent holds such a snapshot aside (agent/push.py) and goes on with the next; the collector keeps
the newest KEEP refusals of each site with their status, code, field and message (never the body), and
the site page shows them (collector/web/templates/_refused.html).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import RefusedPush
from collector.errors import ApiError

log = logging.getLogger("asbuilt.collector")
KEEP = 20
SHOWN = 5


async def remember(
    sessions: async_sessionmaker[AsyncSession],
    *,
    site_id: int,
    agent_id: int | None,
    error: ApiError,
    now: datetime,
) -> None:
    """Record one refusal in its own transaction; failing to record it never hides the refusal."""
    try:
        async with sessions() as session, session.begin():
            session.add(
                RefusedPush(
                    site_id=site_id,
                    agent_id=agent_id,
                    at=now,
                    status=error.status,
                    code=error.code[:64],
                    field=error.field[:300] if error.field else None,
                    message=error.message[:1000],
                )
            )
            await session.flush()
            keep = (
                select(RefusedPush.id)
                .where(RefusedPush.site_id == site_id)
                .order_by(col(RefusedPush.at).desc(), col(RefusedPush.id).desc())
                .limit(KEEP)
            )
            await session.exec(
                delete(RefusedPush).where(
                    col(RefusedPush.site_id) == site_id, col(RefusedPush.id).not_in(keep.scalar_subquery())
                )
            )
    except SQLAlchemyError as exc:
        log.warning("could not record a refused push for site %s: %s", site_id, exc)


async def recent(session: AsyncSession, site_id: int, limit: int = SHOWN) -> list[RefusedPush]:
    query = (
        select(RefusedPush)
        .where(RefusedPush.site_id == site_id)
        .order_by(col(RefusedPush.at).desc(), col(RefusedPush.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())
