"""Quote lines in the database: an import replaces the site's quote; a line edit carries its version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.record_tables import PRICE_SCALE, QuoteLine
from collector.db.types import utcnow
from collector.record.errors import Invalid, StaleEdit
from collector.record.quote_import import QuoteItem
from collector.record.rows import versioned_update


def price_cents(amount: Decimal | None) -> int | None:
    """Exact hundredths; an amount with more decimals is refused rather than rounded."""
    if amount is None:
        return None
    cents = amount / PRICE_SCALE
    if cents != cents.to_integral_value():
        raise Invalid("unit_price", f"unit price {amount} has more than 2 decimals")
    return int(cents)


async def site_quote(session: AsyncSession, site_id: int) -> list[QuoteLine]:
    rows = await session.exec(
        select(QuoteLine)
        .where(QuoteLine.site_id == site_id)
        .order_by(col(QuoteLine.position), col(QuoteLine.id))
    )
    return list(rows.all())


async def quote_state(session: AsyncSession, site_id: int) -> tuple[int, int]:
    """(line count, sum of versions): what an import form was opened on, to refuse a stale import."""
    row = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(QuoteLine.version), 0)).where(
                QuoteLine.site_id == site_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def replace_quote(
    session: AsyncSession,
    *,
    site_id: int,
    items: Sequence[QuoteItem],
    user: str,
    expected_state: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> list[QuoteLine]:
    """The imported items become the site's quote (the previous lines go; the audit log keeps who)."""
    if expected_state is not None and await quote_state(session, site_id) != expected_state:
        raise StaleEdit("the quote was changed after you opened it; reload and import again")
    when = now or utcnow()
    await session.exec(delete(QuoteLine).where(col(QuoteLine.site_id) == site_id))
    lines = [_line(site_id, n, item, user, when) for n, item in enumerate(items, start=1)]
    session.add_all(lines)
    await session.flush()
    return lines


def _line(site_id: int, position: int, item: QuoteItem, user: str, when: datetime) -> QuoteLine:
    return QuoteLine(
        site_id=site_id, position=position, part=item.part, vendor=item.vendor, model=item.model,
        description=item.description, quantity=item.quantity, unit_price_cents=price_cents(item.unit_price),
        currency=item.currency, serials=list(item.serials), notes=item.notes, updated_by=user,
        updated_at=when,
    )  # fmt: skip


async def record_serials(
    session: AsyncSession,
    *,
    line_id: int,
    serials: Sequence[str],
    user: str,
    expected_version: int,
    now: datetime | None = None,
) -> QuoteLine:
    """Note the serial numbers of the units installed for a line (at most its quantity)."""
    line = await session.get(QuoteLine, line_id)
    cleaned = [s.strip() for s in serials if s.strip()]
    if line is not None and len(cleaned) > line.quantity:
        raise Invalid("serials", f"{len(cleaned)} serial numbers for quantity {line.quantity}")
    if any(len(s) > 100 for s in cleaned):
        raise Invalid("serials", "a serial number is at most 100 characters")
    values = {"serials": cleaned, "updated_by": user, "updated_at": now or utcnow()}
    return await versioned_update(
        session, QuoteLine, line_id, expected_version, values, what="this quote line"
    )
