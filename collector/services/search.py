"""Search for one caller: their scope applied in every query (collector.search.query)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, ensure, scope_clause
from collector.db import queries
from collector.search import query as q
from collector.search.terms import Query, parse_query
from collector.services.context import Ctx

MIN_CHARS = 2


@dataclass(frozen=True)
class SearchResults:
    query: Query
    sites: list[q.SiteHit] = field(default_factory=list)
    devices: list[q.DeviceHit] = field(default_factory=list)
    notes: list[q.NoteHit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sites or self.devices or self.notes)


async def search(db: AsyncSession, ctx: Ctx, raw: str) -> SearchResults:
    """Sites (customer, region, site), devices across history, notes — what ``ctx`` may see."""
    ensure(ctx.identity, Action.READ_SITE)
    parsed = parse_query(raw)
    org_id = await queries.default_organization_id(db)
    if org_id is None or len(parsed.text) < MIN_CHARS:
        return SearchResults(parsed)
    visible = scope_clause(ctx.identity)
    return SearchResults(
        parsed,
        sites=await q.search_sites(db, org_id, visible, parsed),
        devices=await q.search_devices(db, org_id, visible, parsed),
        notes=await q.search_notes(db, org_id, visible, parsed),
    )
