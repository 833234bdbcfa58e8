"""The vault through the API, on SQLite and PostgreSQL: who may reveal, what every reveal leaves in
the audit log, stale edits, imports, an agent's vault-fed credentials, and replaced cameras flagged."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from agent.credentials import parse_credentials
from collector.auth import cli_admin
from collector.db.models import AuditEvent
from collector.keys import sessions_key
from collector.services import accounts, people, vault
from collector.services.context import Ctx
from tests.collector.conftest import Api, add_user, unique_name, unique_site
from tests.collector.factory import camera, depot, device, with_devices
from tests.collector.test_people import assert_audited

SECRET = "Vlt-" + secrets.token_hex(6)


async def token_for(api: Api, name: str) -> str:
    async with api.app[sessions_key]() as db, db.begin():
        ctx = Ctx(cli_admin("test"))
        _, token = await accounts.create_token(db, ctx, await people.find_user(db, ctx, name), "vault")
    return token


async def call(
    api: Api, method: str, path: str, token: str, headers: dict[str, str] | None = None, **kw: Any
) -> tuple[int, Any]:
    sent = {"Authorization": f"Bearer {token}", **(headers or {})}
    resp = await api.client.request(method, path, headers=sent, **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    return resp.status, body


async def audit_start(api: Api) -> int:
    async with api.app[sessions_key]() as db:
        return int((await db.exec(select(func.max(AuditEvent.id)))).one() or 0)


async def audit_rows(api: Api, kind: str) -> list[AuditEvent]:
    async with api.app[sessions_key]() as db:
        rows = await db.exec(select(AuditEvent).where(AuditEvent.kind == kind).order_by(col(AuditEvent.id)))
        return list(rows.all())


async def site_with_people(api: Api) -> tuple[str, dict[str, str], dict[str, str], str]:
    """A site of its own customer, and one user per role scoped to it: (site, names, tokens, agent token)."""
    site, customer = unique_site(), unique_name("Vault customer")
    async with api.app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("test")), customer, unique_name("region"))
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "vault-agent"})
    assert resp.status == 201, await resp.text()
    agent_token = (await resp.json())["token"]
    status, answer = await api.push(agent_token, depot(site_id=site))
    assert status == 201, answer
    names = {
        "admin": await add_user(api.app, "admin"),
        "technician": await add_user(api.app, "technician", customers=(customer,)),
        "support": await add_user(api.app, "support", customers=(customer,)),
        "customer": await add_user(api.app, "customer", customers=(customer,), customer_admin=True),
    }
    tokens = {role: await token_for(api, name) for role, name in names.items()}
    return site, names, tokens, agent_token


async def test_reveal_is_for_staff_in_scope_and_a_granted_customer_admin_each_audited(api: Api) -> None:
    site, names, tokens, _ = await site_with_people(api)
    start = await audit_start(api)
    body = {"label": "recorder admin", "kind": "login", "username": "admin", "secrets": {"password": SECRET}}
    status, entry = await call(api, "POST", f"/api/v1/sites/{site}/vault", tokens["technician"], json=body)
    assert status == 201, entry
    assert SECRET not in str(entry) and entry["secret_fields"] == ["password"]
    reveal = f"/api/v1/sites/{site}/vault/{entry['entry_id']}/reveal"
    for role in ("admin", "technician", "support"):
        status, shown = await call(api, "POST", reveal, tokens[role], json={"field": "password"})
        assert (status, shown["value"]) == (200, SECRET), (role, shown)
    status, _ = await call(api, "POST", reveal, tokens["customer"], json={"field": "password"})
    assert status == 403  # a customer's admin sees its passwords only once an admin grants it
    status, listing = await call(api, "GET", f"/api/v1/sites/{site}/vault", tokens["support"])
    assert status == 200 and SECRET not in str(listing)
    status, _ = await call(api, "PUT", f"/api/v1/sites/{site}/vault/{entry['entry_id']}", tokens["support"],
                           json={**body, "version": 1})  # fmt: skip
    assert status == 403  # support reveals, it does not change

    async with api.app[sessions_key]() as db, db.begin():
        await vault.grant(db, Ctx(cli_admin("test")), names["customer"], True)
    granted = tokens["customer"]  # the same token: the grant counts from the next request
    status, shown = await call(api, "POST", reveal, granted, json={"field": "password"})
    assert (status, shown["value"]) == (200, SECRET)

    reveals = [r for r in await audit_rows(api, "vault.reveal") if r.site_id is not None]
    mine = [r for r in reveals if r.detail.get("entry") == entry["entry_id"]]
    assert [r.actor_kind for r in mine] == ["user"] * 4
    assert {r.actor.split("-")[0] for r in mine} == {"admin", "technician", "support", "customer"}
    for row in mine:
        assert row.detail["field"] == "password" and row.client == "127.0.0.1" and row.at is not None
        assert SECRET not in str(row.detail) and SECRET not in (row.target or "")
    await assert_audited(
        api.app, start, "test_reveal_is_for_staff_in_scope_and_a_granted_customer_admin_each_audited"
    )


async def test_a_stale_change_is_refused_and_the_old_value_is_kept(api: Api) -> None:
    site, _, tokens, _ = await site_with_people(api)
    start = await audit_start(api)
    body = {"label": "switch enable", "kind": "enable", "secrets": {"enable_secret": "first"}}
    _, entry = await call(api, "POST", f"/api/v1/sites/{site}/vault", tokens["technician"], json=body)
    path = f"/api/v1/sites/{site}/vault/{entry['entry_id']}"
    second = {**body, "secrets": {"enable_secret": "second"}, "version": 1}
    status, changed = await call(api, "PUT", path, tokens["technician"], json=second)
    assert status == 200 and changed["version"] == 2
    third = {**body, "secrets": {"enable_secret": "third"}, "version": 1}
    status, refused = await call(api, "PUT", path, tokens["admin"], json=third)
    assert status == 409 and "reload" in refused["error"]["message"]
    assert "third" not in str(refused)
    status, earlier = await call(api, "GET", f"{path}/history", tokens["admin"])
    assert status == 200 and [h["version"] for h in earlier["history"]] == [1]
    status, old = await call(api, "POST", f"{path}/reveal", tokens["admin"],
                             json={"field": "enable_secret", "version": 1})  # fmt: skip
    assert (status, old["value"]) == (200, "first")
    status, _ = await call(api, "GET", f"{path}/history", tokens["technician"])
    assert status == 403  # earlier values are for admins (recovery)
    await assert_audited(api.app, start, "test_a_stale_change_is_refused_and_the_old_value_is_kept")


YAML = f"""credentials:
  - {{name: installer-hik, username: admin, password: "{SECRET}", vendors: [HIKVISION], drivers: [onvif]}}
  - {{name: switches-ro, snmp_community: "c0mm-ro", drivers: [snmp]}}
"""


async def test_an_imported_credentials_file_feeds_the_agents_scan(api: Api) -> None:
    site, _, tokens, agent_token = await site_with_people(api)
    start = await audit_start(api)
    status, result = await call(api, "POST", f"/api/v1/sites/{site}/vault/import", tokens["technician"],
                                data=YAML.encode(), headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert status == 200, result
    assert (result["created"], result["updated"]) == (2, 0)
    status, again = await call(api, "POST", f"/api/v1/sites/{site}/vault/import", tokens["technician"],
                               data=YAML.encode(), headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert (again["created"], again["updated"]) == (0, 2)
    status, fetched = await call(api, "GET", "/api/v1/agent/credentials", agent_token)
    assert status == 200 and fetched["site_id"] == site
    sets = {b.name.split("-", 2)[2]: b.credential for b in parse_credentials(fetched["credentials"])}
    assert sets["installer-hik"].password.get_secret_value() == SECRET
    assert sets["installer-hik"].vendors == ["HIKVISION"]
    assert sets["switches-ro"].snmp_community is not None
    fetches = [r for r in await audit_rows(api, "vault.fetch") if r.target == f"site {site} scan credentials"]
    assert len(fetches) == 1 and fetches[0].actor_kind == "agent" and fetches[0].detail["sets"] == 2
    assert SECRET not in str(fetches[0].detail)
    status, _ = await call(api, "GET", "/api/v1/agent/credentials", tokens["admin"])
    assert status == 403  # only an agent, and only its own site's
    bad = b"label,password\n,nolabel\n"
    status, refused = await call(api, "POST", f"/api/v1/sites/{site}/vault/import", tokens["technician"],
                                 data=bad, headers={"Content-Type": "text/csv"})  # fmt: skip
    assert status == 422 and "row 2" in refused["error"]["message"] and "nolabel" not in str(refused)
    await assert_audited(api.app, start, "test_an_imported_credentials_file_feeds_the_agents_scan")


async def test_the_entry_of_a_replaced_camera_is_flagged(api: Api) -> None:
    site, _, tokens, agent_token = await site_with_people(api)
    old = depot(site_id=site)
    gate = device(old, "cam-gate")
    body = {"label": "camera login", "kind": "login", "username": "admin", "device_id": gate.id,
            "secrets": {"password": SECRET}}  # fmt: skip
    status, entry = await call(api, "POST", f"/api/v1/sites/{site}/vault", tokens["technician"], json=body)
    assert status == 201 and entry["flag"] is None
    swap = camera("cam-gate-2", "c0:56:e3:44:20:77", "10.77.0.88", port=1, serial="DS-2CD2T47G2-L20240101NEW")
    status, answer = await api.push(agent_token, with_devices(old, swap, drop=[gate.id]))
    assert status == 201, answer
    _, listing = await call(api, "GET", f"/api/v1/sites/{site}/vault", tokens["technician"])
    flagged = next(e for e in listing["entries"] if e["entry_id"] == entry["entry_id"])
    assert flagged["flag"] == f"device replaced by {swap.id}"
