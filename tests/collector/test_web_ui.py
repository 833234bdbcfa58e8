"""The collector's pages over real HTTP (aiohttp test server on 127.0.0.1), on SQLite and PostgreSQL.

Versions are pushed through the real API by an enrolled agent; the pages are read as a browser
would, with the session cookie from the login form.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from aiohttp.test_utils import TestClient

from collector.web.pages.account import safe_next
from collector.web.record import natural_key
from drivers.schema import (
    LldpNeighbor,
    PortBinding,
    RecorderChannel,
    RecorderInfo,
    Snapshot,
    SwitchPort,
)
from tests.collector.conftest import PASSWORD, Api, add_user, sign_in, unique_site
from tests.collector.factory import (
    CORE_CONFIG,
    SW_CORE,
    SW_YARD,
    camera,
    depot,
    device,
    edit,
    port_name,
    problem,
    with_devices,
)

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
DOCK_SERIAL = "SER-DOCK-0077"
DOCK_MAC = "ac:cc:8e:5a:02:09"


# ---------------------------------------------------------------- the site, twice


def site_v1(site: str) -> Snapshot:
    """The depot with what the pages show beyond devices: an uplink, NVR channels, a stray MAC, a problem."""
    base = depot(site_id=site)
    core = device(base, "sw-core")
    assert core.switch is not None
    uplink = SwitchPort(
        name=port_name(24), admin_up=True, oper_up=True, speed_mbps=1000, vlan=1, is_uplink=True
    )
    core = edit(core, switch=edit(core.switch, ports=(*core.switch.ports, uplink)))
    nvr = device(base, "nvr-main")
    channels = (
        RecorderChannel(
            channel=1, name="Entrance", camera_id=device(base, "cam-entrance").id, recording_days=30
        ),
        RecorderChannel(channel=2, name="Lobby", camera_id=device(base, "cam-lobby").id, recording_days=30),
        RecorderChannel(channel=3, name="Old yard", source_address="10.77.0.99"),
    )
    nvr = edit(nvr, recorder=RecorderInfo(channel_count=16, channels=channels))
    return with_devices(
        base,
        core,
        nvr,
        lldp_neighbors=(
            LldpNeighbor(switch_id=SW_CORE, local_port=port_name(24), chassis_id="94:18:82:7a:20:00",
                         port_id="24", system_name="sw-yard"),
        ),
        port_bindings=(PortBinding(switch_id=SW_YARD, port=port_name(5), mac="02:aa:bb:cc:dd:05"),),
        problems=(problem("10.77.0.99"),),
    )  # fmt: skip


def site_v2(site: str) -> Snapshot:
    """A night later: firmware upgraded, a camera gone, one added, one moved, the switch reconfigured."""
    v1 = site_v1(site)
    gate = edit(device(v1, "cam-gate"), identity__firmware="V5.8.0 build 230101")
    parking = device(v1, "cam-parking")
    assert parking.attachment is not None
    parking = edit(parking, attachment=edit(parking.attachment, port=port_name(6)))
    dock = camera(
        "cam-dock", DOCK_MAC, "10.77.0.74", port=4, serial=DOCK_SERIAL, vendor="AXIS", model="M2036-LE"
    )
    configs = tuple(
        edit(c, text=CORE_CONFIG.replace("vlan 20", "vlan 30")) if c.device_id == SW_CORE else c
        for c in v1.configs
    )
    return with_devices(v1, gate, parking, dock, drop=[device(v1, "cam-lobby").id], configs=configs)


# ---------------------------------------------------------------- reading pages


class Tables(HTMLParser):
    """Rows of every <table>, by its class: {'devices': [[cell text, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            classes = (dict(attrs).get("class") or "").split()
            self._table = next((c for c in classes if c != "grid"), "table")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def row_with(rows: list[list[str]], text: str) -> list[str]:
    matches = [r for r in rows if any(text in cell for cell in r)]
    assert len(matches) == 1, f"{text!r} in {len(matches)} rows: {rows}"
    return matches[0]


async def page(client: TestClient, path: str, status: int = 200) -> str:
    resp = await client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, text[:2000]
    return text


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


async def login(client: TestClient, role: str = "admin") -> str:
    """A new user of ``role`` signs in through the form; returns the session's CSRF token."""
    name = await add_user(client.server.app, role)
    client.app_user = name  # type: ignore[attr-defined]  # for assertions naming the approver
    return await sign_in(client, name)


async def two_versions(api: Api) -> str:
    site = unique_site()
    _, token = await api.enrol(site)
    for snap in (site_v1(site), site_v2(site)):
        status, body = await api.push(token, snap)
        assert status == 201, body
    return site


# ---------------------------------------------------------------- tests


async def test_pages_require_login_and_send_security_headers(api: Api):
    client = api.client
    for path in ("/", "/sites/anything", "/sites/anything/versions/1", "/sites/anything/diff?from=1&to=2"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303, path
        assert resp.headers["Location"].startswith("/login?next=")

    resp = await client.get("/login")
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie

    # A wrong password is refused, and a forged cookie is no session.
    name = await add_user(api.app, "admin")
    html = await resp.text()
    resp = await client.post(
        "/login", data={"csrf": csrf_of(html), "name": name, "password": "wrong"}, allow_redirects=False
    )
    assert resp.status == 401
    assert "do not match" in await resp.text()
    client.session.cookie_jar.update_cookies({"asbuilt_session": "gAAAAABforged"})
    assert (await client.get("/", allow_redirects=False)).status == 303

    # The API keeps its own JSON errors.
    resp = await client.get("/api/v1/sites")
    assert resp.status == 401 and resp.content_type == "application/json"


async def test_login_form_needs_csrf(api: Api):
    client = api.client
    name = await add_user(api.app, "admin")
    resp = await client.post("/login", data={"name": name, "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 403
    await page(client, "/login")
    resp = await client.post(
        "/login", data={"csrf": "forged", "name": name, "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 403


async def test_login_redirects_only_to_local_paths(api: Api):
    client = api.client
    html = await page(client, "/login?next=//evil.example/x")
    assert 'name="next" value="/"' in html
    name = await add_user(api.app, "admin")
    resp = await client.post(
        "/login",
        data={"csrf": csrf_of(html), "name": name, "password": PASSWORD, "next": "https://evil.example/"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/"
    assert "Sites" in await page(client, "/")  # also on an empty database (SQLite: no tenant yet)


async def test_site_list_record_history_and_diff(api: Api):
    site = await two_versions(api)
    client = api.client
    await login(client)

    # Sites: the latest version, its device count and problems; no baseline yet.
    row = row_with(tables(await page(client, "/"))["sites"], site.upper())
    v2 = site_v2(site)
    assert row[0] == "Meridian" and row[2] == "v2" and row[4] == str(len(v2.devices)) and row[5] == "1"
    assert row[6] == "none" and row[7] == "—"

    # The current record.
    html = await page(client, f"/sites/{site}")
    assert "none approved yet" in html
    assert "Changes since v1" in html
    assert "Camera cam-gate (HIKVISION DS-2CD2T47G2-L) at sw-yard GigabitEthernet1/0/1 changed" in html
    assert "identity.firmware V5.7.10 build 220819 → V5.8.0 build 230101" in html
    assert "Camera cam-lobby (AXIS M3106-L Mk II) at sw-core GigabitEthernet1/0/2 missing" in html
    assert "Camera cam-dock (AXIS M2036-LE) added at sw-yard GigabitEthernet1/0/4" in html
    assert "moved: sw-yard GigabitEthernet1/0/3 → sw-yard GigabitEthernet1/0/6" in html
    t = tables(html)
    dock = row_with(t["devices"], "cam-dock")
    assert dock == [
        "cam-dock camera", "AXIS M2036-LE", DOCK_SERIAL, "V5.7.10 build 220819", "10.77.0.74", DOCK_MAC,
        "sw-yard GigabitEthernet1/0/4", "20", "6.5 W delivering",
    ]  # fmt: skip
    assert not [r for r in t["devices"] if "cam-lobby" in r[0]]
    ports = t["ports"]
    assert row_with(ports, "GigabitEthernet1/0/24")[4] == "uplink sw-yard 24"
    entrance = row_with(ports, "cam-entrance")
    assert entrance[:4] == ["GigabitEthernet1/0/1 cam-entrance", "up 100M", "20", "delivering 6.5 W class 4"]
    assert "unknown 02:aa:bb:cc:dd:05" in row_with(ports, "GigabitEthernet1/0/5")[4]
    channels = t["channels"]
    assert row_with(channels, "Entrance") == [
        "1", "Entrance", "Camera cam-entrance (AXIS P3245-LVE)", "30 d",
    ]  # fmt: skip
    assert row_with(channels, "Old yard")[2] == "not found: 10.77.0.99"
    assert row_with(t["problems"], "10.77.0.99")[3] == "timeout"
    assert "switchport access vlan 30" in html  # configuration text, for a logged-in user

    # History, newest first, with the stored summary of each version.
    rows = tables(await page(client, f"/sites/{site}/versions"))["versions"]
    assert [r[0].split()[0] for r in rows[1:]] == ["v2", "v1"]
    assert "vs v1:" in rows[1][5] and "1 missing" in rows[1][5] and "1 added" in rows[1][5]
    assert rows[2][5] == "first version"

    # An older version has the same layout, its own devices and its JSON.
    html = await page(client, f"/sites/{site}/versions/1")
    assert "latest is v2" in html and "cam-lobby" in html and "cam-dock" not in html
    resp = await client.get(f"/sites/{site}/versions/1/snapshot.json")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    _, from_api = await api.get(f"/api/v1/sites/{site}/versions/1/snapshot.json")
    assert json.loads(await resp.text()) == from_api

    # Field by field, including the configuration text diff.
    html = await page(client, f"/sites/{site}/diff?from=1&to=2")
    fields = tables(html)["fields"]
    assert ["identity.firmware", "V5.7.10 build 220819", "V5.8.0 build 230101"] in fields
    assert '<span class="add">+ switchport access vlan 30</span>' in html
    assert '<span class="del">- switchport access vlan 20</span>' in html

    # Bad input is an HTML error page, not a crash.
    assert "not found" in await page(client, f"/sites/{site}/versions/9", status=404)
    assert "must be an integer" in await page(client, f"/sites/{site}/diff?from=x&to=2", status=422)
    await page(client, "/sites/no-such-site", status=404)


async def test_approve_baseline_needs_csrf_and_shows_everywhere(api: Api):
    site = await two_versions(api)
    client = api.client
    csrf = await login(client)

    html = await page(client, f"/sites/{site}/versions/1")
    assert "Approve v1 as baseline" in html
    resp = await client.post(f"/sites/{site}/versions/1/approve", data={"note": "x"}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post(
        f"/sites/{site}/versions/1/approve", data={"note": "x", "csrf": "not-it"}, allow_redirects=False
    )
    assert resp.status == 403
    _, body = await api.get(f"/api/v1/sites/{site}/baseline")
    assert body["current"] is None

    resp = await client.post(
        f"/sites/{site}/versions/1/approve",
        data={"note": "commissioning <ok>", "csrf": csrf_of(html), "base_revision": "0"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert resp.headers["Location"] == f"/sites/{site}/versions/1"
    assert "v1 approved as the baseline" in await page(client, resp.headers["Location"])  # said once
    assert "approved as the baseline</p>" not in await page(client, resp.headers["Location"])
    assert "is compromised" not in await page(client, "/?done=Your+account+is+compromised")
    _, body = await api.get(f"/api/v1/sites/{site}/baseline")
    approver = client.app_user  # type: ignore[attr-defined]
    assert (body["current"]["version"], body["current"]["approved_by"]) == (1, approver)
    assert body["current"]["note"] == "commissioning <ok>"

    html = await page(client, f"/sites/{site}")
    assert "Changes since baseline v1" in html and f"approved by <strong>{approver}</strong>" in html
    assert "commissioning &lt;ok&gt;" in html
    row = row_with(tables(await page(client, "/"))["sites"], site.upper())
    assert row[6] == "v1" and row[7] == "5"  # 2 changed (cam-gate, sw-core's config), missing, added, moved

    # Approving the latest version leaves nothing open.
    resp = await client.post(
        f"/sites/{site}/versions/2/approve", data={"csrf": csrf, "base_revision": "1"}, allow_redirects=False
    )
    assert resp.status == 303
    row = row_with(tables(await page(client, "/"))["sites"], site.upper())
    assert row[6] == "v2" and row[7] == "0"

    # Logging out needs the token too, and ends the session in this browser.
    resp = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_search_by_site_and_customer_fields(api: Api):
    site = await two_versions(api)
    other = unique_site()
    _, token = await api.enrol(other)
    assert (await api.push(token, depot(site_id=other)))[0] == 201
    client = api.client
    await login(client)

    html = await page(client, f"/?q={other}")  # by site id
    assert other.upper() in html and site.upper() not in html
    html = await page(client, f"/?q={site[-4:]}")  # part of a site id
    assert site.upper() in html and other.upper() not in html
    html = await page(client, "/?q=100%25_")  # LIKE wildcards are literal
    assert "Nothing matches" in html


async def test_search_by_serial_mac_ip(api: Api):
    site = await two_versions(api)
    client = api.client
    await login(client)
    for term in (DOCK_SERIAL.lower(), "AC-CC-8E-5A-02-09", "accc.8e5a.0209", "10.77.0.74"):
        html = await page(client, f"/?q={term}")
        assert site.upper() in html, term
        assert f"#d-mac-{DOCK_MAC.replace(':', '-')}" in html, term  # a link to the device's row
    html = await page(client, "/?q=rtsp://10.77.0.74")  # only in a stream URI: not a device field
    assert site.upper() not in html and "Nothing matches" in html


async def test_every_value_is_escaped(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    snap = depot(site_id=site)
    evil = "<img src=x onerror=alert(1)>"
    gate = device(snap, "cam-gate")
    snap = with_devices(snap, edit(gate, identity=edit(gate.identity, hostname=evil, vendor=evil)))
    assert (await api.push(token, snap))[0] == 201
    await login(api.client)
    for path in (f"/sites/{site}", f"/?q={site}"):
        html = await page(api.client, path)
        assert evil not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in await page(api.client, f"/sites/{site}")


def test_only_local_paths_are_redirect_targets():
    assert safe_next("/sites/x?q=1") == "/sites/x?q=1"
    bad = (
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "sites",
        "/a\r\nSet-Cookie: x",
        "/\t/evil.example/",  # browsers drop the tab: //evil.example/
        "/%09/evil.example/".replace("%09", "\t"),
        "/\n/evil.example",
    )
    for target in bad:
        assert safe_next(target) == "/"


def test_ports_sort_naturally():
    names = ["GigabitEthernet1/0/10", "GigabitEthernet1/0/2", "A1", "GigabitEthernet1/0/1", "A10", "A2"]
    assert sorted(names, key=natural_key) == [
        "A1", "A2", "A10", "GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "GigabitEthernet1/0/10",
    ]  # fmt: skip
