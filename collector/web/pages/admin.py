"""What admins manage: users, regions, customers, registered devices, role policies; the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from collector.auth import Role
from collector.errors import ApiError
from collector.http.params import int_param
from collector.keys import config_key, sessions_key
from collector.services import accounts, audit, people
from collector.services.people import ScopeRequest, parse_role
from collector.web.guard import ctx, form_with_csrf
from collector.web.render import done, render, url

AUDIT_PER_PAGE = 50
ROLES = [r.value for r in Role]


def _names(text: str) -> list[str]:
    """'North, South' or one per line → ['North', 'South']."""
    return [part.strip() for chunk in text.splitlines() for part in chunk.split(",") if part.strip()]


def _scope_from(form: dict[str, str]) -> ScopeRequest:
    role = parse_role(form.get("role", ""))
    kind = form.get("scope", "all")
    regions = _names(form.get("regions", "")) if kind == "regions" else []
    customers = _names(form.get("customers", "")) if kind == "customers" or role is Role.CUSTOMER else []
    return ScopeRequest(role, regions, customers)


# ---------------------------------------------------------------- users


async def users_page(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        users = await people.list_users(db, ctx(request))
        regions = await people.list_regions(db, ctx(request))
        customers = await people.list_customers(db, ctx(request))
    return await render(
        request, "pages/admin/users.html", area="users", users=users, roles=ROLES, regions=regions,
        customers=customers, error=None, form={},
    )  # fmt: skip


async def user_create(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    c = ctx(request)
    try:
        async with request.app[sessions_key]() as db, db.begin():
            user = await people.create_user(
                db, c, form.get("name", ""), _scope_from(form), password=None,
                full_name=form.get("full_name", "").strip() or None,
                customer_admin=form.get("customer_admin") == "on",
            )  # fmt: skip
            secret = await accounts.issue_reset(db, c, user, request.app[config_key].password_reset_ttl_s)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        async with request.app[sessions_key]() as db:
            users = await people.list_users(db, c)
            regions = await people.list_regions(db, c)
            customers = await people.list_customers(db, c)
        return await render(
            request, "pages/admin/users.html", area="users", status=exc.status, users=users, roles=ROLES,
            regions=regions, customers=customers, error=exc.message, form=form,
        )  # fmt: skip
    return await _reset_shown(request, user.name, secret)


async def _reset_shown(request: web.Request, name: str, secret: str) -> web.Response:
    config = request.app[config_key]
    path = f"/reset/{secret}"
    link = (
        config.public_url.rstrip("/") if config.public_url else f"{request.scheme}://{request.host}"
    ) + path
    hours = config.password_reset_ttl_s // 3600
    return await render(
        request, "pages/admin/reset_link.html", area="users", name=name, link=link, hours=hours
    )


async def user_page(request: web.Request) -> web.Response:
    user_id = int_param(request.match_info["user_id"], "user_id")
    c = ctx(request)
    async with request.app[sessions_key]() as db:
        view = await people.get_user(db, c, user_id)
        assert view.user.id is not None
        tokens = await accounts.tokens_of(db, c, view.user.id)
    return await render(
        request, "pages/admin/user.html", area="users", u=view, roles=ROLES, tokens=tokens, error=None
    )


async def user_update(request: web.Request) -> web.Response:
    user_id = int_param(request.match_info["user_id"], "user_id")
    form = await form_with_csrf(request)
    c = ctx(request)
    base = int_param(form.get("base_revision"), "base_revision", minimum=0)
    async with request.app[sessions_key]() as db, db.begin():
        await people.update_user(
            db, c, user_id, _scope_from(form), base_revision=base,
            full_name=form.get("full_name", "").strip() or None,
            customer_admin=form.get("customer_admin") == "on",
        )  # fmt: skip
    return await done(request, url(request, "web-user", user_id=str(user_id)), "Saved.")


async def user_action(request: web.Request) -> web.Response:
    """One button on a user's page: disable, enable, reset link, second factor off, remove."""
    user_id = int_param(request.match_info["user_id"], "user_id")
    form = await form_with_csrf(request)
    action = form.get("action", "")
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        user = (await people.get_user(db, c, user_id)).user
        if action == "disable":
            await people.set_disabled(db, c, user, True)
            message = f"{user.name} disabled; their sessions ended."
        elif action == "enable":
            await people.set_disabled(db, c, user, False)
            message = f"{user.name} enabled."
        elif action == "totp-off":
            await accounts.disable_totp(db, c, user)
            message = f"Second factor of {user.name} removed; set up again at next sign-in if required."
        elif action == "reset":
            secret = await accounts.issue_reset(db, c, user, request.app[config_key].password_reset_ttl_s)
            message = ""
        elif action == "remove":
            await people.remove_user(db, c, user)
            return await done(request, url(request, "web-users"), f"{user.name} removed.")
        else:
            raise ApiError(422, "invalid_value", f"unknown action {action!r}", field="action")
    if action == "reset":
        return await _reset_shown(request, user.name, secret)
    return await done(request, url(request, "web-user", user_id=str(user_id)), message)


# ---------------------------------------------------------------- regions, customers, policies


async def regions_page(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        regions = await people.list_regions(db, ctx(request))
        policies = await people.policies(db)
    return await render(
        request, "pages/admin/regions.html", area="regions", regions=regions, policies=policies
    )


async def region_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    c = ctx(request)
    name = form.get("name", "")
    async with request.app[sessions_key]() as db, db.begin():
        if form.get("action") == "remove":
            await people.remove_region(db, c, name)
            message = f"Region {name} removed."
        else:
            region = await people.create_region(db, c, name)
            message = f"Region {region.name} added."
    return await done(request, url(request, "web-regions"), message)


async def policy_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        for role in Role:
            await people.set_policy(
                db, c, role, require_totp=form.get(f"{role.value}-totp") == "on",
                require_device=form.get(f"{role.value}-device") == "on",
            )  # fmt: skip
    return await done(request, url(request, "web-regions"), "Sign-in rules saved.")


async def customers_page(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        rows = await people.list_customers(db, ctx(request))
        regions = await people.list_regions(db, ctx(request)) if _is_admin(request) else []
    return await render(request, "pages/admin/customers.html", area="customers", rows=rows, regions=regions)


def _is_admin(request: web.Request) -> bool:
    return ctx(request).identity.role is Role.ADMIN


async def customer_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    c = ctx(request)
    name = form.get("name", "")
    action = form.get("action", "add")
    async with request.app[sessions_key]() as db, db.begin():
        if action == "add":
            customer = await people.create_customer(db, c, name, form.get("region", "").strip() or None)
            message = f"Customer {customer.name} added."
        elif action in ("disable", "enable"):
            await people.disable_customer(db, c, name, disabled=action == "disable")
            message = f"Customer {name} {action}d."
        elif action == "region":
            found = await people.customer_by_name(db, name)
            region = await people.region_by_name(db, form.get("region", "").strip())
            if found is None:
                raise ApiError(404, "not_found", f"customer {name!r} not found")
            await people.set_customer_region(db, c, found, region)
            message = f"{name} moved to {region.name if region else 'no region'}."
        elif action == "remove":
            await people.remove_customer(db, c, name)
            message = f"Customer {name} removed."
        else:
            raise ApiError(422, "invalid_value", f"unknown action {action!r}", field="action")
    return await done(request, url(request, "web-customers"), message)


# ---------------------------------------------------------------- registered devices


async def devices_page(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status not in (None, *accounts.DEVICE_STATUSES):
        status = None
    async with request.app[sessions_key]() as db:
        rows = await accounts.list_devices(db, ctx(request), status)
    return await render(request, "pages/admin/devices.html", area="devices", rows=rows, only=status)


async def device_submit(request: web.Request) -> web.Response:
    device_id = int_param(request.match_info["device_id"], "device_id")
    form = await form_with_csrf(request)
    status = "approved" if form.get("action") == "approve" else "revoked"
    async with request.app[sessions_key]() as db, db.begin():
        device = await accounts.set_device_status(db, ctx(request), device_id, status)
    if request.headers.get("HX-Request") == "true":  # the row only, swapped in place
        async with request.app[sessions_key]() as db:
            rows = [r for r in await accounts.list_devices(db, ctx(request)) if r.device.id == device.id]
        return await render(request, "pages/admin/_device_card.html", r=rows[0])
    return await done(request, url(request, "web-devices"), f"Device {device_id} {status}.")


# ---------------------------------------------------------------- audit


async def audit_page(request: web.Request) -> web.Response:
    page = int_param(request.query.get("page"), "page", default=1)
    flt = audit.parse_filter(request.query)
    async with request.app[sessions_key]() as db:
        rows, total = await audit.entries(
            db, ctx(request), flt, limit=AUDIT_PER_PAGE, offset=(page - 1) * AUDIT_PER_PAGE
        )
    context: dict[str, Any] = {
        "rows": rows, "total": total, "page": page, "more": page * AUDIT_PER_PAGE < total,
        "flt": flt, "kinds": [k.value for k in audit.Kind], "query": dict(request.query),
    }  # fmt: skip
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "audit-results":
        return await render(request, "pages/audit/_results.html", **context)
    return await render(request, "pages/audit/list.html", area="audit", **context)
