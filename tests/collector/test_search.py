"""Search from the device projection: MAC in any spelling, a camera that left a site, scope in SQL,
and the device page (real collector over loopback; SQLite and PostgreSQL via the api fixture)."""

from __future__ import annotations

from collector.search.terms import mac_prefix, parse_query
from tests.collector.conftest import Api, add_user, sign_in, unique_name, unique_site
from tests.collector.factory import device
from tests.collector.test_web_ui import DOCK_MAC, DOCK_SERIAL, page, site_v1, site_v2

LOBBY_MAC = device(site_v1("x"), "cam-lobby").identity.mac


def test_a_mac_in_any_spelling_is_one_prefix_and_an_ip_is_not_a_mac():
    for spelling in ("AC:CC:8E:5A:02:09", "ac-cc-8e-5a-02-09", "ACCC.8E5A.0209", "accc8e5a0209"):
        assert parse_query(spelling).mac == "accc8e5a0209", spelling
    assert mac_prefix("ac:cc:8e") == "accc8e" and mac_prefix("accc.8e") == "accc8e"
    for not_mac in ("10.77.0.74", "1234", "ser-dock", "a:b:c"):
        assert mac_prefix(not_mac) is None, not_mac


async def _push(api: Api, site: str, customer: str, *snaps) -> None:
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": f"agent-{site}"})
    token = (await resp.json())["token"]
    for snap in snaps:
        status, body = await api.push(token, snap)
        assert status == 201, body


async def test_search_finds_macs_serials_and_a_camera_that_left(api: Api):
    site, other = unique_site(), unique_site()
    mine, theirs = unique_name("cust"), unique_name("cust")
    await _push(api, site, mine, site_v1(site), site_v2(site))  # v2: cam-lobby gone, cam-dock added
    await _push(api, other, theirs, site_v1(other))

    # Full spellings only: a bare prefix also matches the same fixture camera at other tests' sites in
    # the shared PostgreSQL database, and the result limit may cut this test's site off.
    for spelling in (DOCK_MAC.upper(), "accc.8e5a.0209", "AC-CC-8E-5A-02-09"):
        status, body = await api.get(f"/api/v1/search?q={spelling}")
        assert status == 200, body
        # The PostgreSQL database is shared with other tests' sites: look at this test's two.
        hits = [h for h in body["devices"] if h["mac"] == DOCK_MAC and h["site_id"] in (site, other)]
        assert [h["site_id"] for h in hits] == [site], spelling
    status, body = await api.get(f"/api/v1/search?q={DOCK_SERIAL[:7].lower()}")  # a serial prefix
    assert any(h["serial"] == DOCK_SERIAL for h in body["devices"])

    # cam-lobby left `site` in v2 but is still installed at `other`: both found, and said so.
    status, body = await api.get(f"/api/v1/search?q={LOBBY_MAC}")
    lobby = {h["site_id"]: h for h in body["devices"] if h["site_id"] in (site, other)}
    assert set(lobby) == {site, other}
    assert lobby[site]["present"] is False and lobby[site]["last_seen_version"] == 1
    assert lobby[site]["last_seen_at"] and lobby[other]["present"] is True

    # Scope in SQL: a technician of the other customer never sees this customer's devices or site.
    tech = await add_user(api.app, "technician", customers=(theirs,))
    await sign_in(api.client, tech)
    html = await page(api.client, f"/?q={DOCK_SERIAL}")
    assert "Nothing matches" in html and site.upper() not in html
    html = await page(api.client, f"/?q={LOBBY_MAC}")
    assert other.upper() in html and site.upper() not in html and "left the site" not in html


async def test_device_page_of_a_departed_and_a_present_camera(api: Api):
    site = unique_site()
    await _push(api, site, unique_name("cust"), site_v1(site), site_v2(site))
    admin = await add_user(api.app, "admin")
    await sign_in(api.client, admin)
    dock = device(site_v2(site), "cam-dock")
    html = await page(api.client, f"/sites/{site}/device?id={dock.id}")
    assert DOCK_SERIAL in html and "Switch port and PoE" in html and "left the site" not in html
    lobby = device(site_v1(site), "cam-lobby")
    html = await page(api.client, f"/sites/{site}/device?id={lobby.id}")
    assert "left the site" in html and "Last seen in" in html and "v1" in html
    assert "Recorded by" in html  # v1's NVR channel 2 recorded it
    await page(api.client, f"/sites/{site}/device?id=mac:00:00:00:00:00:00", status=404)


async def test_backfill_rebuilds_the_projection_the_ingest_made(api: Api):
    from sqlalchemy import delete
    from sqlmodel import col, select

    from collector.db.models import Site
    from collector.db.search_tables import SearchDevice, SearchTerm
    from collector.keys import sessions_key
    from collector.search.index import backfill

    site = unique_site()
    await _push(api, site, unique_name("cust"), site_v1(site), site_v2(site))
    sessions = api.app[sessions_key]
    async with sessions() as db:
        site_id = (await db.exec(select(Site.id).where(Site.slug == site))).one()

    async def rows() -> tuple[list[tuple[str, bool, int, int]], list[tuple[str, str]]]:
        async with sessions() as db:
            query = select(SearchDevice).where(SearchDevice.site_id == site_id)
            found = sorted((d.device_id, d.present, d.first_seen_version, d.last_seen_version)
                           for d in (await db.exec(query)).all())  # fmt: skip
            terms = (
                await db.exec(select(SearchTerm.field, SearchTerm.term).where(SearchTerm.site_id == site_id))
            ).all()
        return found, sorted(terms)

    made_at_ingest = await rows()
    assert any(not present for _, present, *_ in made_at_ingest[0])  # cam-lobby left in v2
    async with sessions() as db, db.begin():  # only this site's rows: the PostgreSQL database is shared
        await db.exec(delete(SearchTerm).where(col(SearchTerm.site_id) == site_id))
        await db.exec(delete(SearchDevice).where(col(SearchDevice.site_id) == site_id))
    # At least this site's two versions (other tests' sites in a shared database may be unprojected too).
    assert await backfill(sessions) >= 2
    assert await rows() == made_at_ingest
    assert await backfill(sessions) == 0  # nothing left to project
