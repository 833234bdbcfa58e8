"""Versioned row edits shared by every record table: compare-and-set on ``version``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.record.errors import NotFound, StaleEdit

Row = TypeVar("Row", bound=SQLModel)


async def versioned_update(
    session: AsyncSession,
    model: type[Row],
    row_id: int,
    expected_version: int,
    values: dict[str, Any],
    *,
    what: str,
) -> Row:
    """Apply ``values`` to row ``row_id`` only if it is still at ``expected_version``; bump it.

    One UPDATE … WHERE version = :expected: two editors cannot both win, on either backend.
    """
    table: Any = model
    result = await session.exec(
        update(table)
        .where(table.id == row_id, table.version == expected_version)
        .values(**values, version=table.version + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        current = await session.get(model, row_id)
        if current is None:
            raise NotFound(f"{what} not found (deleted meanwhile?)")
        who = getattr(current, "updated_by", None)
        when: datetime | None = getattr(current, "updated_at", None)
        by = f" by {who}" if who else ""
        at = f" at {when:%Y-%m-%d %H:%M} UTC" if when else ""
        raise StaleEdit(
            f"{what} was changed{by}{at} (now version {getattr(current, 'version', '?')}) after you "
            f"opened it (version {expected_version}); reload and retry"
        )
    row = await session.get(model, row_id, populate_existing=True)
    assert row is not None
    return row
