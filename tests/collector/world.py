"""A small organisation for the people tests: two regions, a customer in each, a site each with two
versions pushed by its own agent, one user per role scoped to the "in" side, each with a web session
(its own cookie jar) and a personal API token.

The "out" side carries markers (its site id and name, its customer's name, a serial only its
snapshot has) that no body answering an "in"-scoped caller may ever contain.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from collector.auth import cli_admin
from collector.keys import sessions_key
from collector.services import accounts, people
from collector.services.context import Ctx
from drivers.schema import Snapshot
from tests.collector.conftest import ADMIN_TOKEN, CSRF_FIELD, PASSWORD, Api, add_user, unique_name
from tests.collector.factory import device, edit, with_devices
from tests.collector.test_web_ui import site_v1, site_v2

ROLES = ("admin", "technician", "support", "customer")


@dataclass
class Side:
    region: str
    customer: str
    site: str
    site_name: str
    serial: str
    agent_token: str = ""
    agent_id: int = 0

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.site, self.site_name, self.customer, self.serial)


@dataclass
class Person:
    role: str
    name: str
    token: str = ""  # personal API token
    web: aiohttp.ClientSession | None = None
    csrf: str = ""

    @property
    def sees_out(self) -> bool:
        return self.role == "admin"


@dataclass
class World:
    api: Api
    inside: Side
    outside: Side
    people: dict[str, Person] = field(default_factory=dict)
    base_url: str = ""

    @property
    def app(self) -> Any:
        return self.api.app

    async def close(self) -> None:
        for p in self.people.values():
            if p.web is not None:
                await p.web.close()


def marked(snapshot: Snapshot, serial: str) -> Snapshot:
    """The snapshot with one camera's serial replaced by a marker only this site has."""
    cam = device(snapshot, "cam-gate")
    return with_devices(snapshot, edit(cam, identity=edit(cam.identity, serial=serial)))


async def _side(api: Api, tag: str) -> Side:
    side = Side(
        region=unique_name(f"region-{tag}"),
        customer=unique_name(f"Customer {tag}"),
        site=unique_name(f"site-{tag}"),
        site_name="",
        serial=f"SER-{tag.upper()}-{secrets.token_hex(4)}",
    )
    side.site_name = side.site.upper()  # what Api.issue_code names the site
    async with api.app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("test")), side.customer, side.region)
    code = await api.issue_code(side.site, customer=side.customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": f"agent-{tag}"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    side.agent_token, side.agent_id = body["token"], body["agent_id"]
    for snap in (site_v1(side.site), site_v2(side.site)):
        status, answer = await api.push(side.agent_token, marked(snap, side.serial))
        assert status == 201, answer
    status, answer = await api.get(f"/api/v1/sites/{side.site}")
    assert status == 200, answer
    resp = await api.client.post(
        f"/api/v1/sites/{side.site}/baseline", json={"version": 1},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )  # fmt: skip
    assert resp.status == 201, await resp.text()
    return side


async def web_session(base_url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in_web(http: aiohttp.ClientSession, name: str, password: str = PASSWORD) -> str:
    async with http.get("/login") as resp:
        form = await resp.text()
    match = CSRF_FIELD.search(form)
    assert match, form[:300]
    async with http.post(
        "/login", data={"csrf": match.group(1), "name": name, "password": password, "next": "/"},
        allow_redirects=False,
    ) as resp:  # fmt: skip
        assert resp.status == 303, (await resp.text())[:1000]
    async with http.get("/account") as resp:
        page = await resp.text()
    match = CSRF_FIELD.search(page)
    assert match, page[:300]
    return match.group(1)


async def build_world(api: Api) -> World:
    inside, outside = await _side(api, "in"), await _side(api, "out")
    world = World(api, inside, outside, base_url=str(api.client.make_url("")).rstrip("/"))
    scopes: dict[str, dict[str, Any]] = {
        "admin": {},
        "technician": {"regions": (inside.region,)},
        "support": {"customers": (inside.customer,)},
        "customer": {"customers": (inside.customer,), "customer_admin": True},
    }
    for role in ROLES:
        name = await add_user(api.app, role, **scopes[role])
        person = Person(role, name)
        async with api.app[sessions_key]() as db, db.begin():
            ctx = Ctx(cli_admin("test"))
            user = await people.find_user(db, ctx, name)
            _, person.token = await accounts.create_token(db, ctx, user, "matrix")
        person.web = await web_session(world.base_url)
        person.csrf = await sign_in_web(person.web, name)
        world.people[role] = person
    return world
