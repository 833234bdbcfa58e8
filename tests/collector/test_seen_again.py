"""The cheap paths of ingest: the same bytes again skip parsing; the same content in other bytes
skips the content hash (fingerprint); both are "seen again", never a new version."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from collector.db.models import SnapshotVersion
from collector.hashing import fingerprint
from collector.keys import sessions_key
from tests.collector.conftest import Api, unique_site
from tests.collector.factory import depot, edit


async def _row(api: Api, site_slug: str, version: int) -> SnapshotVersion:
    from collector.db.models import Site

    async with api.app[sessions_key]() as db:
        site = (await db.exec(select(Site).where(Site.slug == site_slug))).one()[0]
        query = select(SnapshotVersion).where(
            SnapshotVersion.site_id == site.id, SnapshotVersion.version == version
        )
        return (await db.exec(query)).one()[0]


async def test_same_bytes_same_content_and_a_change(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    first = depot(site_id=site)
    body = first.canonical_json().encode()
    assert (await api.push(token, body, key=None))[0] == 201

    status, again = await api.push(token, body, key=None)  # the very bytes: digest shortcut
    assert (status, again["version"], again["seen_count"], again["reason"]) == (200, 1, 2, "seen_again")

    later = edit(first, scan=edit(first.scan, started_at=first.scan.started_at + timedelta(hours=1)))
    other_bytes = json.dumps(json.loads(later.canonical_json()), indent=1).encode()
    assert other_bytes != body
    status, seen = await api.push(token, other_bytes, key="k-1")  # same content, other bytes
    assert (status, seen["version"], seen["seen_count"]) == (200, 1, 3)
    status, replay = await api.push(token, other_bytes, key="k-1")  # the same request retried
    assert (status, replay["reason"], replay["seen_count"]) == (200, "replay", 3)

    row = await _row(api, site, 1)
    assert row.fingerprint == fingerprint(first) and row.seen_count == 3
    assert row.content_hash == first.content_hash()

    changed = edit(first, devices=(edit(first.devices[0], identity__firmware="V9.9"), *first.devices[1:]))
    status, new = await api.push(token, changed.canonical_json().encode(), key=None)
    assert (status, new["version"], new["created"]) == (201, 2, True)
    status, after = await api.push(token, body, key=None)  # the old bytes are no longer the latest
    assert (status, after["version"], after["created"]) == (201, 3, True)


def test_parsing_pauses_the_gc_and_always_resumes_it():
    import gc

    import pytest

    from collector.errors import ApiError
    from collector.ingest import gc_paused, parse_snapshot

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # overlapping parses (worker threads): the outer one switches it back
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ApiError):
        parse_snapshot(b'{"schema_version": 1, "devices": [')
    assert gc.isenabled()
    assert parse_snapshot(depot().canonical_json().encode()) == depot()
    assert gc.isenabled()
