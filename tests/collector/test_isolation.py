"""The isolation matrix, generated from the routes tables: every API route and every page × every
kind of caller × a resource in the caller's scope and one out of it → the expected status, and the
out-of-scope side's data (site id, site name, customer name, a serial only its snapshot has) never
in any body a caller who may not see it receives. An out-of-scope resource answers exactly like a
nonexistent one. Every POST page is also tried without its CSRF token.

The expectations come from ``WHO_MAY`` below — the roles table of the design, written here again on
purpose so the test does not trust ``collector.auth`` to grade itself. A route or page added
without a permission declaration, or without a case here, fails ``test_every_route_is_declared``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
from collector.auth import Action, cli_admin
from collector.config import CollectorConfig
from collector.db.models import RegisteredDevice
from collector.keys import attachment_store_key, sessions_key
from collector.record.placement_db import PinDraft
from collector.routes import ROUTES
from collector.services import accounts, people, record
from collector.services.context import Ctx
from collector.web.routes import PAGES
from tests.collector.conftest import Api, add_user, unique_name
from tests.collector.factory import device, edit, with_devices
from tests.collector.test_web_ui import site_v2
from tests.collector.world import World, build_world, web_session
from tests.record.files import chunks_of, jpeg_with_gps, png


@pytest.fixture
def config(config: CollectorConfig, db_url: str) -> CollectorConfig:
    """A web-only instance: the matrix checks who may queue a job, not the job (tests/collector/test_jobs.py
    and test_handover_jobs.py run them), so the handover PDFs it queues are not laid out beside it.
    (``db_url`` is named so that pytest 8 sees the conftest fixture's parameters through this override.)"""
    assert config.database_url == db_url
    return config.model_copy(update={"run_jobs": False})


A = Action
# Who may do what (DESIGN.md, "Collector model"): the customer of the world is its customer's admin.
WHO_MAY: dict[Action, frozenset[str]] = {
    A.PUSH_SNAPSHOT: frozenset({"agent"}),
    A.READ_SITE: frozenset({"admin", "technician", "support", "customer"}),
    A.EXPORT_SITE: frozenset({"admin", "technician", "support", "customer"}),
    A.READ_CUSTOMERS: frozenset({"admin", "technician", "support", "customer"}),
    A.OWN_ACCOUNT: frozenset({"admin", "technician", "support", "customer"}),
    A.APPROVE_BASELINE: frozenset({"admin", "technician"}),
    A.MANAGE_AGENTS: frozenset({"admin", "technician"}),
    A.MANAGE_PEOPLE: frozenset({"admin"}),
    A.MANAGE_DEVICES: frozenset({"admin"}),
    A.READ_AUDIT: frozenset({"admin", "customer"}),
    # The vault: staff in scope; the world's customer admin has not been granted its passwords.
    A.READ_VAULT: frozenset({"admin", "technician", "support"}),
    A.REVEAL_SECRET: frozenset({"admin", "technician", "support"}),
    A.EDIT_VAULT: frozenset({"admin", "technician"}),
    A.READ_VAULT_HISTORY: frozenset({"admin"}),
    A.FETCH_CREDENTIALS: frozenset({"agent"}),
    # The site record: technicians place, photograph, import; support may note a visit too.
    A.EDIT_RECORD: frozenset({"admin", "technician"}),
    A.ADD_VISIT: frozenset({"admin", "technician", "support"}),
    # Alerts: everyone subscribes to what they see; endpoints, schedules and share links are admins'.
    A.SUBSCRIBE_ALERTS: frozenset({"admin", "technician", "support", "customer"}),
    A.MANAGE_ALERTS: frozenset({"admin"}),
    A.SHARE_SITE: frozenset({"admin"}),
    A.MANAGE_SETTINGS: frozenset({"admin"}),
}
API_CALLERS = ("anonymous", "agent", "admin", "technician", "support", "customer")
WEB_CALLERS = ("anonymous", "admin", "technician", "support", "customer")
MISSING_ID = 987_654_321
_REQUEST_ID = re.compile(r'"request_id":\s*"[^"]*"')


@dataclass
class Req:
    method: str
    path: str
    ok: int = 200  # the status of a caller who may, in scope
    json: Any = None
    data: dict[str, str] | None = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # "out" is a resource that does not exist at all (people, devices): 404 for whoever may.
    out_missing: bool = False
    out_status: int | None = None  # a different answer for the out side (an agent pushing elsewhere)
    public: dict[str, int] | None = None  # PUBLIC routes: {"anonymous": s, "signed": s}
    slug: str | None = None  # the out side's site id in the path (echoed in a 404, that is fine)
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart: field → (name, bytes, type)


Builder = Callable[[World, str, str], Awaitable[Req]]  # (world, side "in"/"out"/"none", caller)


def side_of(w: World, side: str) -> Any:
    return w.inside if side != "out" else w.outside


async def ctx_admin() -> Ctx:
    return Ctx(cli_admin("matrix"))


async def spare_user(w: World) -> tuple[int, int]:
    """A throwaway user (id, revision) to disable, edit or reset; without a password, whose argon2
    hash would cost a tenth of a second for each of the matrix's many cases and prove nothing here."""
    name = await add_user(w.app, "support", customers=(w.inside.customer,), password=None)
    async with w.app[sessions_key]() as db:
        user = await people.user_by_name(db, name)
        assert user is not None and user.id is not None
        return user.id, user.revision


async def spare_token(w: World, owner: str | None) -> int:
    """A throwaway token of ``owner`` (a role's user), or of a new user when None."""
    async with w.app[sessions_key]() as db, db.begin():
        ctx = await ctx_admin()
        if owner is None:
            name = await add_user(w.app, "support", customers=(w.inside.customer,), password=None)
        else:
            name = w.people[owner].name
        user = await people.find_user(db, ctx, name)
        row, _ = await accounts.create_token(db, ctx, user, "spare")
        assert row.id is not None
        return row.id


async def pending_device(w: World) -> int:
    """A browser that registered itself at sign-in and waits for approval."""
    name = await add_user(w.app, "support", customers=(w.inside.customer,), password=None)
    async with w.app[sessions_key]() as db, db.begin():
        user = await people.user_by_name(db, name)
        assert user is not None and user.id is not None
        row = RegisteredDevice(user_id=user.id, token_hash=secrets.token_hex(32), label="matrix browser")
        db.add(row)
        await db.flush()
        assert row.id is not None
        return row.id


async def spare_agent(w: World, side: str) -> int:
    s = side_of(w, side)
    code = await w.api.issue_code(s.site, customer=s.customer)
    resp = await w.api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "spare"})
    assert resp.status == 201
    return int((await resp.json())["agent_id"])


async def site_revision(w: World, slug: str) -> int:
    from sqlmodel import select

    from collector.db.models import Site

    async with w.app[sessions_key]() as db:
        site = (await db.exec(select(Site).where(Site.slug == slug))).one()
        return site.revision


def site_path(suffix: str = "") -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        return Req("GET", f"/api/v1/sites/{s.site}{suffix}", slug=s.site)

    return build


def page_path(suffix: str = "", ok: int = 200) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        return Req("GET", f"/sites/{s.site}{suffix}", ok=ok, slug=s.site)

    return build


def simple(method: str, path: str, ok: int = 200, **extra: Any) -> Builder:
    """A request without a resource in its path; a callable in its json/data is called per request
    with the world (a new unique name each time)."""

    async def build(w: World, side: str, caller: str) -> Req:
        fields: dict[str, Any] = {
            key: {k: v(w) if callable(v) else v for k, v in value.items()}
            if key in ("json", "data")
            else value
            for key, value in extra.items()
        }
        return Req(method, path, ok=ok, **fields)

    return build


def new(prefix: str) -> Callable[[World], str]:
    return lambda w: unique_name(prefix)


def inside_region(w: World) -> str:
    return w.inside.region


async def vault_entry(w: World, side: str) -> int:
    """A fresh vault entry on the side's site (with a history of one earlier value)."""
    from collector.keys import vault_keys_key
    from collector.services import vault
    from collector.vault.store import EntryDraft

    s = side_of(w, side)
    draft = EntryDraft(label=unique_name("nvr admin"), kind="login", username="admin",
                       secrets={"password": f"pw-{s.serial}"})  # fmt: skip
    async with w.app[sessions_key]() as db, db.begin():
        ctx, keys = await ctx_admin(), w.app[vault_keys_key]
        entry = await vault.save_entry(db, ctx, keys, s.site, draft)
        assert entry.id is not None
        changed = EntryDraft(label=draft.label, kind="login", username="admin", secrets={"password": "pw-2"})
        await vault.save_entry(db, ctx, keys, s.site, changed, entry_id=entry.id, expected_version=1)
        return entry.id


def vault_case(suffix: str, method: str = "GET", ok: int = 200, **extra: Any) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        entry = await vault_entry(w, side)
        return Req(method, f"/api/v1/sites/{s.site}/vault/{entry}{suffix}", ok=ok, slug=s.site, **extra)

    return build


async def _vault_create(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    body = {"label": unique_name("switch enable"), "kind": "enable", "secrets": {"enable_secret": "en-1"}}
    return Req("POST", f"/api/v1/sites/{s.site}/vault", ok=201, json=body, slug=s.site)


async def _vault_import(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    text = f"label,username,password\n{unique_name('cam')},admin,imported-1\n"
    return Req("POST", f"/api/v1/sites/{s.site}/vault/import", raw=text.encode(),
               headers={"Content-Type": "text/csv"}, slug=s.site)  # fmt: skip


def photo_file() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("IMG_0001.JPG", jpeg_with_gps(), "image/jpeg")}


async def record_attachment(w: World, side: str) -> int:
    """A fresh photo of the side's site."""
    s = side_of(w, side)
    stored = await store_upload(
        w.app[attachment_store_key],
        chunks_of(png()),
        filename="cab.png",
        declared_type="image/png",
        kind=AttachmentKind.PHOTO,
        policy=UploadPolicy(),
    )
    async with w.app[sessions_key]() as db, db.begin():
        _, row = await record.add_upload(db, await ctx_admin(), s.site, stored, AttachmentKind.PHOTO)
        assert row.id is not None
        return row.id


async def record_plan(w: World, side: str) -> int:
    s = side_of(w, side)
    stored = await store_upload(
        w.app[attachment_store_key],
        chunks_of(png((200, 100))),
        filename="p.png",
        declared_type="image/png",
        kind=AttachmentKind.FLOOR_PLAN,
        policy=UploadPolicy(),
    )
    async with w.app[sessions_key]() as db, db.begin():
        ctx = await ctx_admin()
        _, row = await record.add_upload(db, ctx, s.site, stored, AttachmentKind.FLOOR_PLAN)
        assert row.id is not None
        plan = await record.add_plan(db, ctx, s.site, row.id, unique_name("floor"), None)
        assert plan.id is not None
        return plan.id


async def _record_upload(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/api/v1/sites/{s.site}/attachments", ok=201, data={"kind": "photo"},
               files=photo_file(), slug=s.site)  # fmt: skip


async def _record_download(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("GET", f"/api/v1/sites/{s.site}/attachments/{await record_attachment(w, side)}", slug=s.site)


async def _record_visit_add(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    body = {"visited_on": "2026-11-30", "technician": "matrix", "reason": "camera offline"}
    return Req("POST", f"/api/v1/sites/{s.site}/visits", ok=201, json=body, slug=s.site)


async def own_subscription(w: World, caller: str) -> int:
    """A subscription of the caller (of a throwaway user for callers without an account)."""
    from collector.services import alerts

    name = w.people[caller].name if caller in w.people else await add_user(
        w.app, "support", customers=(w.inside.customer,), password=None)  # fmt: skip
    async with w.app[sessions_key]() as db, db.begin():
        user = await people.user_by_name(db, name)
        assert user is not None
        ctx = Ctx(await accounts.identity_for_user(db, user))
        row = await alerts.subscribe(db, ctx, f"{unique_name('m')}@example.test", customer_id=None,
                                     site_slug=w.inside.site)  # fmt: skip
        assert row.id is not None
        return row.id


async def customer_id(w: World, side: str) -> int:
    from sqlmodel import select

    from collector.db.models import Customer

    async with w.app[sessions_key]() as db:
        row = (await db.exec(select(Customer).where(Customer.name == side_of(w, side).customer))).one()
        assert row.id is not None
        return row.id


async def spare_webhook(w: World) -> int:
    from collector.keys import secret_box_key
    from collector.services import alerts

    async with w.app[sessions_key]() as db, db.begin():
        hook, _ = await alerts.add_webhook(db, await ctx_admin(), w.app[secret_box_key], unique_name("hook"),
                                           "http://127.0.0.1:9/matrix", None)  # fmt: skip
        assert hook.id is not None
        return hook.id


def site_json(method: str, suffix: str, ok: int, body: dict[str, Any]) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        return Req(method, f"/api/v1/sites/{s.site}{suffix}", ok=ok, json=dict(body), slug=s.site)

    return build


def fleet_case(prefix: str, suffix: str) -> Builder:
    """A customer's fleet: in scope the world's inside customer, out of scope the outside one."""

    async def build(w: World, side: str, caller: str) -> Req:
        return Req("GET", f"{prefix}/customers/{await customer_id(w, side)}{suffix}")

    return build


async def _subscribe(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", "/api/v1/alerts/subscriptions", ok=201, slug=s.site,
               json={"email": "matrix@example.test", "site": s.site})  # fmt: skip


SHARE_BODY = {"recipient": "matrix", "password": "matrix-password-1", "hours": 1, "formats": ["json"]}


async def handover_render(w: World, side: str, *, done: bool) -> int:
    """A handover render of the side's site (not queued as a job); ``done`` gives it a file."""
    from collector.db.deliverable_tables import HandoverRender
    from collector.keys import config_key
    from collector.services import handover

    s = side_of(w, side)
    async with w.app[sessions_key]() as db, db.begin():
        row = await handover.request_render(db, await ctx_admin(), s.site, None)
        assert row.id is not None
        render_id = row.id
    if done:
        path = handover.render_path(w.app[config_key].data_dir, render_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7 matrix " + s.serial.encode())
        async with w.app[sessions_key]() as db, db.begin():
            stored = await db.get(HandoverRender, render_id)
            assert stored is not None
            stored.status = "done"
            db.add(stored)
    return render_id


async def _handover_job(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/api/v1/sites/{s.site}/handover-jobs?version=1", ok=202, slug=s.site)


def handover_case(prefix: str, suffix: str, *, done: bool) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        render_id = await handover_render(w, side, done=done)
        folder = "handover-jobs" if prefix else "handover"
        return Req("GET", f"{prefix}/sites/{s.site}/{folder}/{render_id}{suffix}", slug=s.site)

    return build


# ---------------------------------------------------------------- API cases, by route name


async def _search(w: World, side: str, caller: str) -> Req:
    """Searching the other side's unique serial: a caller scoped to "in" must find nothing of it."""
    return Req("GET", f"/api/v1/search?q={w.outside.serial}")


def _web_device(w: World, side: str, caller: str) -> Awaitable[Req]:
    gate = device(site_v2(side_of(w, side).site), "cam-gate")
    return page_path(f"/device?id={gate.id}")(w, side, caller)


async def _push(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    cam = device(site_v2(s.site), "cam-gate")
    snap = with_devices(site_v2(s.site), edit(cam, identity=edit(cam.identity, serial=s.serial)))
    return Req("POST", "/api/v1/snapshots", ok=200, raw=snap.canonical_json().encode(),
               headers={"Content-Type": "application/json"}, out_status=403, slug=s.site)  # fmt: skip


async def _approve(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/api/v1/sites/{s.site}/baseline", ok=201, json={"version": 2}, slug=s.site)


async def _revoke_agent(w: World, side: str, caller: str) -> Req:
    return Req("DELETE", f"/api/v1/agents/{await spare_agent(w, side)}")


async def _user_target(
    w: World, side: str, suffix: str, method: str = "POST", ok: int = 200, **kw: Any
) -> Req:
    if side == "out":
        if method == "PATCH":
            kw["json"] = {**kw["json"], "base_revision": 0}
        return Req(method, f"/api/v1/users/{MISSING_ID}{suffix}", ok=ok, out_missing=True, **kw)
    user_id, revision = await spare_user(w)
    if method == "PATCH":
        kw["json"] = {**kw["json"], "base_revision": revision}
    return Req(method, f"/api/v1/users/{user_id}{suffix}", ok=ok, **kw)


async def _device(w: World, side: str, verb: str, api: bool) -> Req:
    prefix = "/api/v1/devices" if api else "/admin/devices"
    if side == "out":
        path = f"{prefix}/{MISSING_ID}/{verb}" if api else f"{prefix}/{MISSING_ID}"
        return Req("POST", path, out_missing=True, data=None if api else {"action": verb})
    device_id = await pending_device(w)
    if api:
        return Req("POST", f"{prefix}/{device_id}/{verb}")
    return Req("POST", f"{prefix}/{device_id}", ok=303, data={"action": verb})


async def _revoke_token(w: World, side: str, caller: str) -> Req:
    own = caller in w.people and side != "out"
    token_id = await spare_token(w, caller if own else None)
    return Req("DELETE", f"/api/v1/tokens/{token_id}")


API_CASES: dict[str, Builder] = {
    "enrol": simple("POST", "/api/v1/enrol", json={"code": "AAAA-BBBB-CCCC-DDDD", "agent_name": "x"},
                    public={"anonymous": 403, "signed": 403}),
    "push-snapshot": _push,
    "sites": simple("GET", "/api/v1/sites"),
    "site": site_path(),
    "versions": site_path("/versions"),
    "version": site_path("/versions/1"),
    "version-snapshot": site_path("/versions/1/snapshot.json"),
    "diff": site_path("/diff?from=1&to=2"),
    "export": site_path("/export.csv"),  # the same service renders every format; CSV is the cheap one
    "diagram": site_path("/diagram.svg"),
    "diff-baseline": site_path("/diff/baseline"),
    "baseline": site_path("/baseline"),
    "approve-baseline": _approve,
    "revoke-agent": _revoke_agent,
    "me": simple("GET", "/api/v1/me"),
    "regions": simple("GET", "/api/v1/regions"),
    "create-region": simple("POST", "/api/v1/regions", 201, json={"name": new("r")}),
    "customers": simple("GET", "/api/v1/customers"),
    "create-customer": simple("POST", "/api/v1/customers", 201,
                              json={"name": new("c"), "region": inside_region}),
    "users": simple("GET", "/api/v1/users"),
    "create-user": simple("POST", "/api/v1/users", 201, json={"name": new("u"), "role": "support"}),
    "user": lambda w, s, c: _user_target(w, s, "", "GET"),
    "update-user": lambda w, s, c: _user_target(w, s, "", "PATCH", json={"role": "support"}),
    "disable-user": lambda w, s, c: _user_target(w, s, "/disable"),
    "enable-user": lambda w, s, c: _user_target(w, s, "/enable"),
    "reset-link": lambda w, s, c: _user_target(w, s, "/password-reset", ok=201),
    "tokens": simple("GET", "/api/v1/tokens"),
    "create-token": simple("POST", "/api/v1/tokens", 201, json={"name": "from the matrix"}),
    "revoke-token": _revoke_token,
    "devices": simple("GET", "/api/v1/devices"),
    "approve-device": lambda w, s, c: _device(w, s, "approve", True),
    "revoke-device": lambda w, s, c: _device(w, s, "revoke", True),
    "audit": simple("GET", "/api/v1/audit?limit=500"),
    "openapi": simple("GET", "/api/v1/openapi.json", public={"anonymous": 200, "signed": 200}),
    "vault": site_path("/vault"),
    "vault-create": _vault_create,
    "vault-update": vault_case("", "PUT", json={"label": "renamed", "kind": "login", "version": 2}),
    "vault-reveal": vault_case("/reveal", "POST", json={"field": "password"}),
    "vault-history": vault_case("/history"),
    "vault-upload": _vault_import,
    "agent-credentials": simple("GET", "/api/v1/agent/credentials"),
    "record-attachments": site_path("/attachments"),
    "record-upload": _record_upload,
    "record-download": _record_download,
    "record-visits": site_path("/visits"),
    "record-visit-add": _record_visit_add,
    "alert-subscriptions": simple("GET", "/api/v1/alerts/subscriptions"),
    "alert-subscribe": _subscribe,
    "alert-unsubscribe": lambda w, s, c: _delete_subscription(w, c),
    "alert-webhooks": simple("GET", "/api/v1/alerts/webhooks"),
    "alert-webhook-create": simple("POST", "/api/v1/alerts/webhooks", 201,
                                   json={"name": new("hook"), "url": "http://127.0.0.1:9/matrix"}),
    "alert-webhook-remove": lambda w, s, c: _remove_webhook(w),
    "alert-deliveries": simple("GET", "/api/v1/alerts/deliveries"),
    "alert-schedule": site_json("PUT", "/alerts/schedule", 200, {"every_s": 86400}),
    "share-create": site_json("POST", "/share-links", 201, SHARE_BODY),
    "handover-job": _handover_job,
    "handover-job-state": handover_case("/api/v1", "", done=False),
    "handover-job-file": handover_case("/api/v1", "/file", done=True),
    "fleet": fleet_case("/api/v1", "/fleet"),
    "fleet-report": fleet_case("/api/v1", "/fleet/clock"),
    "fleet-export": fleet_case("/api/v1", "/fleet-export.csv?report=firmware"),
    "search": _search,
}  # fmt: skip
SCOPED_API = {"alert-subscribe", "alert-schedule", "share-create",
              "push-snapshot", "site", "versions", "version", "version-snapshot", "export", "diagram",
              "diff", "diff-baseline",
              "baseline", "approve-baseline", "revoke-agent", "user", "update-user", "disable-user",
              "enable-user", "reset-link", "revoke-token", "approve-device", "revoke-device", "vault",
              "vault-create", "vault-update", "vault-reveal", "vault-history", "vault-upload",
              "record-attachments", "record-upload", "record-download", "record-visits",
              "record-visit-add", "fleet", "fleet-report", "fleet-export", "handover-job",
              "handover-job-state", "handover-job-file"}  # fmt: skip


# ---------------------------------------------------------------- page cases, by page name


async def _web_approve(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    revision = await site_revision(w, s.site)
    return Req("POST", f"/sites/{s.site}/versions/2/approve", ok=303, slug=s.site,
               data={"note": "matrix", "base_revision": str(revision)})  # fmt: skip


async def _web_user(
    w: World, side: str, suffix: str, ok: int, data: dict[str, str] | None, method: str = "POST"
) -> Req:
    if side == "out":
        if data is not None and "base_revision" in data:
            data = {**data, "base_revision": "0"}
        return Req(method, f"/admin/users/{MISSING_ID}{suffix}", ok=ok, data=data, out_missing=True)
    user_id, revision = await spare_user(w)
    if data is not None and "base_revision" in data:
        data = {**data, "base_revision": str(revision)}
    return Req(method, f"/admin/users/{user_id}{suffix}", ok=ok, data=data)


async def _web_token_revoke(w: World, side: str, caller: str) -> Req:
    own = caller in w.people and side != "out"
    token_id = await spare_token(w, caller if own else None)
    return Req("POST", f"/account/tokens/{token_id}/revoke", ok=303, data={})


def vault_page_case(suffix: str, method: str, ok: int, data: dict[str, str] | None = None) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        entry = await vault_entry(w, side)
        return Req(method, f"/sites/{s.site}/vault/{entry}{suffix}", ok=ok, slug=s.site,
                   data=dict(data) if data is not None else None)  # fmt: skip

    return build


async def _web_vault_create(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/sites/{s.site}/vault", ok=303, slug=s.site,
               data={"label": unique_name("wifi"), "kind": "wifi", "password": "guest-1"})  # fmt: skip


async def _web_vault_upload(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/sites/{s.site}/vault/upload", ok=303, slug=s.site,
               data={"text": f"label,password\n{unique_name('cam')},imported-2\n"})  # fmt: skip


async def _web_record_file(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("GET", f"/sites/{s.site}/files/{await record_attachment(w, side)}", slug=s.site)


def _web_record_upload(
    suffix: str, kind: str, files: Callable[[], dict[str, tuple[str, bytes, str]]]
) -> Builder:
    async def build(w: World, side: str, caller: str) -> Req:
        s = side_of(w, side)
        return Req("POST", f"/sites/{s.site}{suffix}", ok=303, slug=s.site,
                   data={"kind": kind, "name": unique_name("plan")}, files=files())  # fmt: skip

    return build


async def _web_record_pin(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    plan = await record_plan(w, side)
    return Req("POST", f"/sites/{s.site}/plans/{plan}/pins", ok=303, slug=s.site,
               data={"device_id": unique_name("cam"), "x": "0.25", "y": "0.5", "version": ""})  # fmt: skip


def plan_file() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("plan.png", png((300, 200)), "image/png")}


async def _web_record_repoint(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    plan = await record_plan(w, side)
    async with w.app[sessions_key]() as db, db.begin():
        draft = PinDraft(unique_name("cam"), 0.5, 0.5)
        pin = await record.place_pin(db, await ctx_admin(), s.site, plan, draft, None)
    return Req("POST", f"/sites/{s.site}/pins/{pin.id}/repoint", ok=303, slug=s.site,
               data={"device_id": unique_name("cam-new"), "version": str(pin.version)})  # fmt: skip


async def _web_record_file_remove(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/sites/{s.site}/files/{await record_attachment(w, side)}/remove", ok=303,
               slug=s.site, data={"version": "1"})  # fmt: skip


async def _web_record_pin_remove(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    plan = await record_plan(w, side)
    async with w.app[sessions_key]() as db, db.begin():
        pin = await record.place_pin(
            db, await ctx_admin(), s.site, plan, PinDraft(unique_name("cam"), 0.5, 0.5), None
        )
    return Req("POST", f"/sites/{s.site}/pins/{pin.id}/remove", ok=303, slug=s.site,
               data={"version": str(pin.version)})  # fmt: skip


def quote_file() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("quote.csv", b"Qty,Manufacturer,Model\n2,Hikvision,DS-2CD2T47G2-L\n", "text/csv")}


async def _web_record_visit_add(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/sites/{s.site}/visits", ok=303, slug=s.site,
               data={"visited_on": "2026-11-30", "technician": "matrix",
                     "reason": "yearly check"})  # fmt: skip


async def _delete_subscription(w: World, caller: str) -> Req:
    return Req("DELETE", f"/api/v1/alerts/subscriptions/{await own_subscription(w, caller)}", ok=204)


async def _remove_webhook(w: World) -> Req:
    return Req("DELETE", f"/api/v1/alerts/webhooks/{await spare_webhook(w)}")


async def _web_unsubscribe(w: World, side: str, caller: str) -> Req:
    return Req("POST", f"/alerts/{await own_subscription(w, caller)}/delete", ok=303, data={})


async def _web_webhook_remove(w: World, side: str, caller: str) -> Req:
    return Req("POST", f"/admin/alerts/webhooks/{await spare_webhook(w)}/delete", ok=303, data={})


async def _web_share_create(w: World, side: str, caller: str) -> Req:
    s = side_of(w, side)
    return Req("POST", f"/sites/{s.site}/share", ok=201, slug=s.site,
               data={"recipient": "matrix", "password": "matrix-password-1", "hours": "1",
                     "formats": "json"})  # fmt: skip


def inside_target(w: World) -> str:
    return f"site:{w.inside.site}"


def inside_site(w: World) -> str:
    return w.inside.site


async def _web_handover_post(w: World, side: str, suffix: str) -> Req:
    s = side_of(w, side)
    ok = 200 if suffix else 303  # the sealed PDF comes back at once; the job page is a redirect
    return Req("POST", f"/sites/{s.site}/handover{suffix}", ok=ok, slug=s.site, data={"version": "2"})


PAGE_CASES: dict[str, Builder] = {
    "web-sites": simple("GET", "/"),
    "web-login": simple("GET", "/login", public={"anonymous": 200, "signed": 303}),
    "web-login-submit": simple("POST", "/login", data={"name": new("nobody"), "password": "wrong password"},
                               public={"anonymous": 401, "signed": 401}),
    "web-login-totp": simple("GET", "/login/totp", public={"anonymous": 303, "signed": 303}),
    "web-login-totp-submit": simple("POST", "/login/totp", data={"code": "000000"},
                                    public={"anonymous": 303, "signed": 303}),
    "web-logout": simple("POST", "/logout", data={}, public={"anonymous": 303, "signed": 303}),
    "web-reset": simple("GET", "/reset/not-a-real-link", public={"anonymous": 404, "signed": 404}),
    "web-reset-submit": simple("POST", "/reset/not-a-real-link",
                               data={"new_password": "x" * 12, "new_password_again": "x" * 12},
                               public={"anonymous": 404, "signed": 404}),
    "web-totp": simple("GET", "/account/totp", public={"anonymous": 303, "signed": 200}),
    "web-totp-submit": simple("POST", "/account/totp", data={"sealed": "x", "code": "000000"},
                              public={"anonymous": 303, "signed": 422}),
    "web-account": simple("GET", "/account"),
    "web-password": simple("GET", "/account/password"),
    "web-password-submit": simple("POST", "/account/password", ok=422, data={
        "current_password": "whatever", "new_password": "a" * 12, "new_password_again": "b" * 12}),
    "web-token-create": simple("POST", "/account/tokens", ok=201, data={"name": "matrix page"}),
    "web-token-revoke": _web_token_revoke,
    "web-site": page_path(),
    "web-versions": page_path("/versions"),
    "web-version": page_path("/versions/1"),
    "web-snapshot": page_path("/versions/1/snapshot.json"),
    "web-approve": _web_approve,
    "web-diff": page_path("/diff?from=1&to=2"),
    "web-export": page_path("/export.xlsx"),
    "web-diagram": page_path("/diagram"),
    "web-diagram-svg": page_path("/diagram.svg"),
    "web-customers": simple("GET", "/customers"),
    "web-customer-submit": simple("POST", "/customers", 303,
                                  data={"action": "add", "name": new("c"), "region": inside_region}),
    "web-users": simple("GET", "/admin/users"),
    "web-user-create": simple("POST", "/admin/users", 200,
                              data={"name": new("u"), "role": "support", "scope": "all"}),
    "web-user": lambda w, s, c: _web_user(w, s, "", 200, None, "GET"),
    "web-user-update": lambda w, s, c: _web_user(
        w, s, "", 303, {"role": "support", "scope": "all", "base_revision": "?"}),
    "web-user-action": lambda w, s, c: _web_user(w, s, "/action", 303, {"action": "disable"}),
    "web-regions": simple("GET", "/admin/regions"),
    "web-region-submit": simple("POST", "/admin/regions", 303, data={"name": new("r")}),
    "web-policy-submit": simple("POST", "/admin/policy", 303, data={}),
    "web-devices": simple("GET", "/admin/devices"),
    "web-device-submit": lambda w, s, c: _device(w, s, "approve", False),
    "web-audit": simple("GET", "/audit"),
    "web-vault": page_path("/vault"),
    "web-vault-create": _web_vault_create,
    "web-vault-upload": _web_vault_upload,
    "web-vault-update": vault_page_case("", "POST", 303, {"label": "renamed", "kind": "login",
                                                          "version": "2"}),
    "web-vault-reveal": vault_page_case("/reveal", "POST", 200, {"field": "password"}),
    "web-vault-history": vault_page_case("/history", "GET", 200),
    "web-record-files": page_path("/files"),
    "web-record-upload": _web_record_upload("/files", "photo", photo_file),
    "web-record-file": _web_record_file,
    "web-record-plans": page_path("/plans"),
    "web-record-plan-upload": _web_record_upload("/plans", "floor_plan", plan_file),
    "web-record-pin": _web_record_pin,
    "web-record-repoint": _web_record_repoint,
    "web-record-quote": page_path("/quote"),
    "web-record-quote-upload": _web_record_upload("/quote", "quote", quote_file),
    "web-record-visits": page_path("/visits"),
    "web-record-visit-add": _web_record_visit_add,
    "web-alerts": simple("GET", "/alerts"),
    "web-alert-subscribe": simple("POST", "/alerts", 303,
                                  data={"target": inside_target, "email": "matrix@example.test"}),
    "web-alert-unsubscribe": _web_unsubscribe,
    "web-alert-admin": simple("GET", "/admin/alerts"),
    "web-alert-webhook-create": simple("POST", "/admin/alerts/webhooks", 201,
                                       data={"name": new("hook"), "url": "http://127.0.0.1:9/matrix"}),
    "web-alert-webhook-remove": _web_webhook_remove,
    "web-alert-schedule": simple("POST", "/admin/alerts/schedules", 303,
                                 data={"site": inside_site, "hours": "24"}),
    "web-alert-deliveries": simple("GET", "/admin/alerts/deliveries"),
    "web-share-links": page_path("/share"),
    "web-share-create": _web_share_create,
    "web-share": simple("GET", "/share/not-a-real-link", public={"anonymous": 404, "signed": 404}),
    "web-share-download": simple("POST", "/share/not-a-real-link", data={"password": "whatever"},
                                 public={"anonymous": 404, "signed": 404}),
    "web-handover-start": lambda w, s, c: _web_handover_post(w, s, ""),
    "web-handover-sealed": lambda w, s, c: _web_handover_post(w, s, "/sealed"),
    "web-handover": handover_case("", "", done=False),
    "web-handover-file": handover_case("", "/file", done=True),
    "web-branding": simple("GET", "/admin/branding"),
    "web-branding-submit": simple("POST", "/admin/branding", 303,
                                  data={"integrator_name": "Matrix Integrations", "primary_colour": "#24415f",
                                        "accent_colour": "#c25e00"}),
    "web-fleet": fleet_case("", "/fleet?report=poe"),
    "web-fleet-export": fleet_case("", "/fleet-export.xlsx"),
    "web-device": _web_device,
    "web-record-file-remove": _web_record_file_remove,
    "web-record-pin-remove": _web_record_pin_remove,
}  # fmt: skip
SCOPED_PAGES = {"web-share-links", "web-share-create",
                "web-site", "web-versions", "web-version", "web-snapshot", "web-approve", "web-diff",
                "web-export", "web-diagram", "web-diagram-svg",
                "web-user", "web-user-update", "web-user-action", "web-token-revoke",
                "web-device-submit", "web-vault", "web-vault-create", "web-vault-upload", "web-vault-update",
                "web-vault-reveal", "web-vault-history", "web-record-files", "web-record-upload",
                "web-record-file", "web-record-plans", "web-record-plan-upload", "web-record-pin",
                "web-record-repoint",
                "web-record-quote", "web-record-quote-upload", "web-record-visits",
                "web-record-visit-add", "web-fleet", "web-fleet-export", "web-handover-start",
                "web-handover-sealed", "web-handover", "web-handover-file", "web-device",
                "web-record-file-remove", "web-record-pin-remove"}  # fmt: skip
LAST = ("web-logout",)  # ends the caller's session: after everything else


# ---------------------------------------------------------------- running it


@dataclass
class Tally:
    cases: int = 0
    leaks: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def check(self, label: str, got: int, want: int) -> None:
        self.cases += 1
        if got != want:
            self.wrong.append(f"{label}: {got}, expected {want}")


def expected(action: Action, caller: str, side: str, req: Req, *, web: bool) -> int:
    if action is A.PUBLIC:
        assert req.public is not None
        return req.public["anonymous" if caller == "anonymous" else "signed"]
    if caller == "anonymous":
        return 303 if web else 401
    if caller not in WHO_MAY[action]:
        return 403
    if side == "out":
        if req.out_status is not None:
            return req.out_status
        if req.out_missing or caller != "admin":
            return 404
    return req.ok


def leaked(w: World, caller: str, body: str, req: Req) -> list[str]:
    if caller == "admin":
        return []
    echoed = {req.slug, req.slug.upper() if req.slug else None}
    return [m for m in w.outside.markers if m in body and m not in echoed]


async def send(http: aiohttp.ClientSession | Any, req: Req, headers: dict[str, str]) -> tuple[int, str]:
    kwargs: dict[str, Any] = {"headers": {**req.headers, **headers}, "allow_redirects": False}
    if req.json is not None:
        kwargs["json"] = req.json
    if req.raw is not None:
        kwargs["data"] = req.raw
    if req.data is not None:
        kwargs["data"] = req.data
    if req.files is not None:  # the fields first (CSRF, kind), then the file, as the pages send it
        form = aiohttp.FormData()
        for key, value in (req.data or {}).items():
            form.add_field(key, value)
        for key, (name, content, media_type) in req.files.items():
            form.add_field(key, content, filename=name, content_type=media_type)
        kwargs["data"] = form
    async with http.request(req.method, req.path, **kwargs) as resp:
        return resp.status, (await resp.read()).decode("utf-8", "replace")


def same_answer(body: str, missing_body: str, slug: str, missing: str) -> bool:
    def norm(text: str) -> str:
        return _REQUEST_ID.sub("", text)

    return norm(body) == norm(missing_body.replace(missing, slug).replace(missing.upper(), slug.upper()))


async def run_api(w: World, tally: Tally) -> None:
    routes = {r.name: r for r in ROUTES}
    for name, build in API_CASES.items():
        route = routes[name]
        for caller in API_CALLERS:
            headers = {}
            if caller == "agent":
                headers["Authorization"] = f"Bearer {w.inside.agent_token}"
            elif caller != "anonymous":
                headers["Authorization"] = f"Bearer {w.people[caller].token}"
            for side in ("in", "out") if name in SCOPED_API else ("none",):
                req = await build(w, side, caller)
                status, body = await send(w.api.client, req, headers)
                want = expected(route.action, caller, side, req, web=False)
                label = f"API {req.method} {route.path} as {caller} ({side})"
                tally.check(label, status, want)
                tally.leaks += [f"{label}: {m!r}" for m in leaked(w, caller, body, req)]
                if side == "out" and want == 404 and req.slug:
                    missing = unique_name("site-none")
                    absent = Req(req.method, req.path.replace(req.slug, missing), json=req.json)
                    status2, body2 = await send(w.api.client, absent, headers)
                    tally.check(f"{label} vs nonexistent", status2, 404)
                    if not same_answer(body, body2, req.slug, missing):
                        tally.wrong.append(f"{label}: out of scope answers differently: {body!r} {body2!r}")


async def run_web(w: World, tally: Tally) -> None:
    pages = {p.name: p for p in PAGES}
    anonymous = await web_session(w.base_url)
    try:
        async with anonymous.get("/login") as resp:
            anon_csrf = re.search(r'name="csrf" value="([^"]*)"', await resp.text())
        assert anon_csrf
        sessions = {"anonymous": (anonymous, anon_csrf.group(1))}
        for role, person in w.people.items():
            assert person.web is not None
            sessions[role] = (person.web, person.csrf)
        order = [n for n in PAGE_CASES if n not in LAST] + list(LAST)
        for name in order:
            page_decl, build = pages[name], PAGE_CASES[name]
            for caller in WEB_CALLERS:
                http, csrf = sessions[caller]
                for side in ("in", "out") if name in SCOPED_PAGES else ("none",):
                    req = await build(w, side, caller)
                    label = f"page {req.method} {page_decl.path} as {caller} ({side})"
                    if req.method == "POST":
                        # Without the form's CSRF token first: refused, whoever asks.
                        status, body = await send(http, Req("POST", req.path, data=dict(req.data or {})), {})
                        no_csrf = 303 if caller == "anonymous" and page_decl.action is not A.PUBLIC else 403
                        tally.check(f"{label} without CSRF", status, no_csrf)
                        tally.leaks += [f"{label}: {m!r}" for m in leaked(w, caller, body, req)]
                        req.data = {**(req.data or {}), "csrf": csrf}
                    status, body = await send(http, req, {})
                    want = expected(page_decl.action, caller, side, req, web=True)
                    tally.check(label, status, want)
                    tally.leaks += [f"{label}: {m!r}" for m in leaked(w, caller, body, req)]
                    if side == "out" and want == 404 and req.slug and req.method == "GET":
                        missing = unique_name("site-none")
                        status2, body2 = await send(http, Req("GET", req.path.replace(req.slug, missing)), {})
                        tally.check(f"{label} vs nonexistent", status2, 404)
                        if not same_answer(body, body2, req.slug, missing):
                            tally.wrong.append(f"{label}: out of scope answers differently from nonexistent")
    finally:
        await anonymous.close()


def test_every_route_is_declared() -> None:
    """Each API route and page has an action, and a case in this matrix: a new route without either fails."""
    for route in ROUTES:
        assert isinstance(route.action, Action), route.name
        assert route.name in API_CASES, f"API route {route.name} has no isolation case"
        assert route.action is A.PUBLIC or route.action in WHO_MAY, route.name
    for page in PAGES:
        assert isinstance(page.action, Action), page.name
        assert page.name in PAGE_CASES, f"page {page.name} has no isolation case"
    assert set(API_CASES) == {r.name for r in ROUTES}
    assert set(PAGE_CASES) == {p.name for p in PAGES}


async def test_nothing_is_mounted_outside_the_tables(api: Api) -> None:
    """The running app serves exactly the declared routes and pages (and static files)."""
    declared = {r.name for r in ROUTES} | {p.name for p in PAGES} | {"web-static"}
    mounted = {route.name for route in api.app.router.routes() if route.name}
    unnamed = [route for route in api.app.router.routes() if not route.name and route.method != "HEAD"]
    assert mounted == declared and not unnamed, (mounted ^ declared, unnamed)


MATRIX_PARTS = {"api": run_api, "pages": run_web}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("part", list(MATRIX_PARTS))
async def test_isolation_matrix(api: Api, capsys: pytest.CaptureFixture[str], part: str) -> None:
    """Every API route (part "api") or page ("pages") × every caller × in and out of scope; the two
    parts run as separate tests, each in a world of its own, so a parallel run can share them out."""
    world = await build_world(api)
    try:
        tally = Tally()
        await MATRIX_PARTS[part](world, tally)
    finally:
        await world.close()
    with capsys.disabled():
        print(f"\nisolation matrix ({part}): {tally.cases} route×caller×scope cases, "
              f"{len(tally.leaks)} leaks, "
              f"{len(tally.wrong)} unexpected statuses")  # fmt: skip
    assert tally.wrong == [], "\n".join(tally.wrong[:60])
    assert tally.leaks == [], "\n".join(tally.leaks[:60])
    assert tally.cases > 500
