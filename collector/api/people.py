"""People over the API: who am I, regions, customers, users, reset links, tokens, registered devices."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.api.baselines import if_match_revision
from collector.api.common import read_model, respond
from collector.api.guard import ctx_of
from collector.api.schemas import (
    CustomerList,
    CustomerPublic,
    CustomerRequest,
    DeviceList,
    DevicePublic,
    Me,
    RegionList,
    RegionPublic,
    RegionRequest,
    ResetLink,
    TokenCreated,
    TokenList,
    TokenPublic,
    TokenRequest,
    UserCreate,
    UserList,
    UserPublic,
    UserUpdate,
)
from collector.db.models import ApiToken, RegisteredDevice, User
from collector.errors import ApiError, not_found
from collector.http.caller import IDENTITY
from collector.http.params import int_param
from collector.keys import config_key, sessions_key
from collector.services import accounts, people
from collector.services.people import ScopeRequest, UserView, parse_role


async def me(request: web.Request) -> web.Response:
    identity = request[IDENTITY]
    return respond(
        Me(
            name=identity.name, kind=identity.kind.value, role=identity.role.value if identity.role else None,
            scope=identity.scope.kind.value, scope_ids=sorted(identity.scope.ids),
            customer_admin=identity.customer_admin,
        )
    )  # fmt: skip


# ---------------------------------------------------------------- regions and customers


async def list_regions(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        rows = await people.list_regions(db, ctx_of(request))
    return respond(RegionList(regions=[RegionPublic(name=r.name, customers=n) for r, n in rows]))


async def create_region(request: web.Request) -> web.Response:
    body = await read_model(request, RegionRequest)
    async with request.app[sessions_key]() as db, db.begin():
        region = await people.create_region(db, ctx_of(request), body.name)
    return respond(RegionPublic(name=region.name, customers=0), status=201)


async def list_customers(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        rows = await people.list_customers(db, ctx_of(request))
    return respond(
        CustomerList(
            customers=[
                CustomerPublic(
                    id=r.customer.id or 0, name=r.customer.name, region=r.region.name if r.region else None,
                    sites=r.sites, disabled=r.customer.disabled_at is not None,
                )
                for r in rows
            ]
        )
    )  # fmt: skip


async def create_customer(request: web.Request) -> web.Response:
    body = await read_model(request, CustomerRequest)
    async with request.app[sessions_key]() as db, db.begin():
        customer = await people.create_customer(db, ctx_of(request), body.name, body.region)
    return respond(
        CustomerPublic(id=customer.id or 0, name=customer.name, region=body.region, sites=0, disabled=False),
        status=201,
    )


# ---------------------------------------------------------------- users


def user_public(view: UserView) -> UserPublic:
    u = view.user
    return UserPublic(
        id=u.id or 0, name=u.name, full_name=u.full_name, role=u.role, scope=u.scope,
        regions=list(view.regions), customers=list(view.customers), customer=view.customer,
        customer_admin=u.customer_admin, totp=u.totp_enabled_at is not None,
        disabled=u.disabled_at is not None,
        revision=u.revision, created_at=u.created_at, last_sign_in_at=u.last_sign_in_at,
    )  # fmt: skip


def _user_response(view: UserView, status: int = 200) -> web.Response:
    response = respond(user_public(view), status=status)
    response.headers["ETag"] = f'"r{view.user.revision}"'
    return response


async def list_users(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        views = await people.list_users(db, ctx_of(request))
    return respond(UserList(users=[user_public(v) for v in views]))


async def create_user(request: web.Request) -> web.Response:
    body = await read_model(request, UserCreate)
    ctx = ctx_of(request)
    async with request.app[sessions_key]() as db, db.begin():
        scope = ScopeRequest(parse_role(body.role), body.regions, body.customers)
        user = await people.create_user(
            db, ctx, body.name, scope, password=body.password, full_name=body.full_name,
            customer_admin=body.customer_admin,
        )  # fmt: skip
        view = await people.user_view(db, user)
    return _user_response(view, 201)


async def get_user(request: web.Request) -> web.Response:
    user_id = int_param(request.match_info["user_id"], "user_id")
    async with request.app[sessions_key]() as db:
        view = await people.get_user(db, ctx_of(request), user_id)
    return _user_response(view)


async def update_user(request: web.Request) -> web.Response:
    user_id = int_param(request.match_info["user_id"], "user_id")
    body = await read_model(request, UserUpdate)
    base = if_match_revision(request)
    base = body.base_revision if base is None else base
    if base is None:
        raise ApiError(428, "revision_required", "send the revision you edited (If-Match or base_revision)",
                       field="base_revision")  # fmt: skip
    async with request.app[sessions_key]() as db, db.begin():
        scope = ScopeRequest(parse_role(body.role), body.regions, body.customers)
        user = await people.update_user(
            db, ctx_of(request), user_id, scope, base_revision=base, full_name=body.full_name,
            customer_admin=body.customer_admin,
        )  # fmt: skip
        view = await people.user_view(db, user)
    return _user_response(view)


async def _user(db: AsyncSession, request: web.Request) -> User:
    user_id = int_param(request.match_info["user_id"], "user_id")
    return (await people.get_user(db, ctx_of(request), user_id)).user


async def disable_user(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        user = await people.set_disabled(db, ctx_of(request), await _user(db, request), True)
        view = await people.user_view(db, user)
    return _user_response(view)


async def enable_user(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        user = await people.set_disabled(db, ctx_of(request), await _user(db, request), False)
        view = await people.user_view(db, user)
    return _user_response(view)


async def reset_link(request: web.Request) -> web.Response:
    config = request.app[config_key]
    ctx = ctx_of(request)
    async with request.app[sessions_key]() as db, db.begin():
        user = await _user(db, request)
        secret = await accounts.issue_reset(db, ctx, user, config.password_reset_ttl_s)
    path = f"/reset/{secret}"
    url = config.public_url.rstrip("/") + path if config.public_url else None
    expires = ctx.now + timedelta(seconds=config.password_reset_ttl_s)
    return respond(ResetLink(user=user.name, path=path, url=url, expires_at=expires), status=201)


# ---------------------------------------------------------------- tokens


def token_public(t: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=t.id or 0, name=t.name, hint=t.hint, created_at=t.created_at, last_used_at=t.last_used_at,
        revoked_at=t.revoked_at,
    )  # fmt: skip


async def _own_user(db: AsyncSession, request: web.Request) -> User:
    identity = request[IDENTITY]
    user = await db.get(User, identity.user_id) if identity.user_id else None
    if user is None:
        raise ApiError(
            403, "forbidden", "personal tokens belong to user accounts (not agents or the admin token)"
        )
    return user


async def list_tokens(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        user = await _own_user(db, request)
        assert user.id is not None
        tokens = await accounts.tokens_of(db, ctx_of(request), user.id)
    return respond(TokenList(tokens=[token_public(t) for t in tokens]))


async def create_token(request: web.Request) -> web.Response:
    body = await read_model(request, TokenRequest)
    async with request.app[sessions_key]() as db, db.begin():
        row, secret = await accounts.create_token(
            db, ctx_of(request), await _own_user(db, request), body.name
        )
    return respond(TokenCreated(**token_public(row).model_dump(), token=secret), status=201)


async def revoke_token(request: web.Request) -> web.Response:
    token_id = int_param(request.match_info["token_id"], "token_id")
    async with request.app[sessions_key]() as db, db.begin():
        row = await accounts.revoke_token(db, ctx_of(request), token_id)
    return respond(token_public(row))


# ---------------------------------------------------------------- registered devices


def device_public(d: RegisteredDevice, user: User) -> DevicePublic:
    return DevicePublic(
        id=d.id or 0, user=user.name, label=d.label, status=d.status, created_at=d.created_at,
        created_from=d.created_from, approved_by=d.approved_by, approved_at=d.approved_at,
        last_seen_at=d.last_seen_at,
    )  # fmt: skip


async def list_devices(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in accounts.DEVICE_STATUSES:
        raise ApiError(
            422, "invalid_parameter", "status must be pending, approved or revoked", field="status"
        )
    async with request.app[sessions_key]() as db:
        rows = await accounts.list_devices(db, ctx_of(request), status)
    return respond(DeviceList(devices=[device_public(r.device, r.user) for r in rows]))


async def _device_status(request: web.Request, status: str) -> web.Response:
    device_id = int_param(request.match_info["device_id"], "device_id")
    async with request.app[sessions_key]() as db, db.begin():
        device = await accounts.set_device_status(db, ctx_of(request), device_id, status)
        user = await db.get(User, device.user_id)
        if user is None:
            raise not_found(f"device {device_id}")
    return respond(device_public(device, user))


async def approve_device(request: web.Request) -> web.Response:
    return await _device_status(request, "approved")


async def revoke_device(request: web.Request) -> web.Response:
    return await _device_status(request, "revoked")
