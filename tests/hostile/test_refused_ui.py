"""Issue #14, class 3 in the collector's UI: a push the collector refused is remembered for the site
and shown on its page, so the office sees that the site's agent holds a snapshot aside."""

from __future__ import annotations

import json

from collector import refusals
from collector.db import queries
from collector.keys import sessions_key
from tests.collector.conftest import Api, unique_site
from tests.collector.factory import depot
from tests.collector.test_web_ui import login


async def _page(api: Api, site: str) -> str:
    if not api.client.session.cookie_jar.filter_cookies(api.client.make_url("/")):
        await login(api.client)  # once: the client keeps the session cookie
    resp = await api.client.get(f"/sites/{site}")
    assert resp.status == 200
    return await resp.text()


async def test_a_refused_push_is_shown_on_the_site_page(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    bad = json.loads(depot(site_id=site).canonical_json())
    bad["devices"][0]["identity"]["model"] = "DS-2CD\x002143"
    status, _ = await api.push(token, json.dumps(bad).encode(), key=None)
    assert status == 422
    page = await _page(api, site)  # no version yet: the empty-site page shows it
    assert "Refused deliveries" in page and "devices[0].identity.model" in page
    assert "NUL characters cannot be stored" in page
    status, _ = await api.push(token, depot(site_id=site))
    assert status == 201
    page = await _page(api, site)  # the record page shows it too
    assert "Refused deliveries" in page and "HTTP 422" in page


async def test_only_the_newest_refusals_are_kept(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    for n in range(refusals.KEEP + 5):
        status, _ = await api.push(token, f'{{"schema_version": {n + 7}}}'.encode(), key=None)
        assert status == 422
    async with api.app[sessions_key]() as session:
        org_id = await queries.default_organization_id(session)
        assert org_id is not None
        site_row = await queries.site_by_slug(session, org_id, site)
        assert site_row is not None and site_row.id is not None
        kept = await refusals.recent(session, site_row.id, limit=100)
    assert len(kept) == refusals.KEEP
    assert "schema_version 31" in kept[0].message  # the newest first


async def test_a_page_without_refusals_shows_none(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    assert (await api.push(token, depot(site_id=site)))[0] == 201
    assert "Refused deliveries" not in await _page(api, site)
