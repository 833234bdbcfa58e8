"""Signing in and what a signed-in person owns: sessions, second factor, devices, tokens, passwords.

Sessions are rows (``UserSession``): the browser's cookie holds a random id, this module decides
whether it still counts (idle and absolute timeouts, logout, password change, user or customer
disabled, device revoked). Registered devices and API tokens work the same way: a random secret
in the client, its sha256 here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import BREAK_GLASS, Action, Identity, IdentityKind, Role, Scope, ScopeKind, ensure
from collector.db import queries
from collector.db.models import (
    ApiToken,
    Customer,
    PasswordReset,
    RegisteredDevice,
    RolePolicy,
    User,
    UserScope,
    UserSession,
)
from collector.errors import ApiError, not_found
from collector.passwords import (
    PasswordRejected,
    check_new_password,
    hash_password_async,
    new_totp_secret,
    totp_step,
    verify_password_async,
)
from collector.secretbox import SecretBox
from collector.services import audit, people
from collector.services.context import Ctx
from collector.tokens import AGENT_TOKEN_PREFIX, secret_hash

API_TOKEN_PREFIX = "asb_user_"
SESSION_TOUCH_S = 60  # last_seen_at is written at most once a minute per session
DEVICE_STATUSES = ("pending", "approved", "revoked")


# ---------------------------------------------------------------- identities


async def identity_for_user(db: AsyncSession, user: User) -> Identity:
    kind = ScopeKind(user.scope)
    rows: Sequence[UserScope] = ()
    if kind is not ScopeKind.ALL:  # an unscoped user's rows would not count: not read
        rows = (await db.exec(select(UserScope).where(UserScope.user_id == user.id))).all()
    if kind is ScopeKind.REGIONS:
        ids = frozenset(r.region_id for r in rows if r.region_id is not None)
    elif kind is ScopeKind.CUSTOMERS:
        ids = frozenset(r.customer_id for r in rows if r.customer_id is not None)
    else:
        ids = frozenset()
    return Identity(
        IdentityKind.USER, user.name, Role(user.role), Scope(kind, ids), user_id=user.id,
        customer_id=user.customer_id, customer_admin=user.customer_admin, vault_granted=user.vault_granted,
    )  # fmt: skip


def sign_in_allowed(user: User, customer_found: bool, customer_disabled_at: datetime | None) -> bool:
    """Not disabled, and a customer user's customer exists and is not disabled either."""
    if user.disabled_at is not None:
        return False
    if user.customer_id is not None:
        return customer_found and customer_disabled_at is None
    return True


async def may_sign_in(db: AsyncSession, user: User) -> bool:
    customer = await db.get(Customer, user.customer_id) if user.customer_id is not None else None
    return sign_in_allowed(user, customer is not None, customer.disabled_at if customer else None)


async def identity_for_bearer(
    db: AsyncSession, token: str, admin_token: str, now: datetime
) -> Identity | None:
    """An agent token, a personal API token, or the break-glass admin token; None when none fits."""
    if token.startswith(AGENT_TOKEN_PREFIX):
        agent = await queries.agent_by_token_hash(db, secret_hash(token))
        if agent is None or agent.revoked_at is not None:
            return None
        return Identity(IdentityKind.AGENT, agent.name, agent_id=agent.id, site_id=agent.site_id)
    if token.startswith(API_TOKEN_PREFIX):
        row = (await db.exec(select(ApiToken).where(ApiToken.token_hash == secret_hash(token)))).first()
        if row is None or row.revoked_at is not None:
            return None
        user = await db.get(User, row.user_id)
        if user is None or not await may_sign_in(db, user):
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > SESSION_TOUCH_S:
            row.last_used_at = now
            db.add(row)
        return await identity_for_user(db, user)
    if secrets.compare_digest(token.encode(), admin_token.encode()):
        return BREAK_GLASS
    return None


# ---------------------------------------------------------------- sign-in


class Step(StrEnum):
    DONE = "done"  # signed in
    TOTP = "totp"  # password right; the second factor next
    TOTP_SETUP = "totp_setup"  # the role needs a second factor this user has not set up yet
    DEVICE_PENDING = "device_pending"  # the role needs an approved device; this one is not (yet)
    REFUSED = "refused"


@dataclass(frozen=True)
class SignIn:
    step: Step
    user: User | None = None
    device: RegisteredDevice | None = None
    new_device_token: str | None = None  # set the device cookie to this


async def check_password(db: AsyncSession, ctx: Ctx, name: str, password: str) -> User | None:
    """The user when name and password match an account that may sign in; audits a failure."""
    user = await people.user_by_name(db, name) if name.strip() else None
    ok = await verify_password_async(user.password_hash if user else None, password)
    if user is not None and ok and await may_sign_in(db, user):
        return user
    why = "unknown user" if user is None else ("disabled" if ok else "wrong password")
    await audit.record(
        db, ctx, audit.Kind.SIGNIN_FAILED, outcome="refused", target=f"user {name.strip()[:100]}",
        customer_id=user.customer_id if user else None, detail={"reason": why, "step": "password"},
    )  # fmt: skip
    return None


async def device_of(db: AsyncSession, user: User, device_token: str | None) -> RegisteredDevice | None:
    if not device_token:
        return None
    query = select(RegisteredDevice).where(
        RegisteredDevice.token_hash == secret_hash(device_token), RegisteredDevice.user_id == user.id
    )
    return (await db.exec(query)).first()


async def next_step(
    db: AsyncSession, ctx: Ctx, user: User, *, device_token: str | None, user_agent: str, totp_done: bool
) -> SignIn:
    """After the password: what this user's role still asks for (second factor, approved device)."""
    policy = await people.policy_for(db, user.role)
    if user.totp_enabled_at is not None and not totp_done:
        return SignIn(Step.TOTP, user)
    if policy.require_totp and user.totp_enabled_at is None:
        return SignIn(Step.TOTP_SETUP, user)
    device = await device_of(db, user, device_token)
    if policy.require_device:
        if device is None:
            token = secrets.token_urlsafe(32)
            assert user.id is not None
            device = RegisteredDevice(
                user_id=user.id, token_hash=secret_hash(token), label=(user_agent or "unknown browser")[:300],
                created_at=ctx.now, created_from=ctx.client,
            )  # fmt: skip
            db.add(device)
            await db.flush()
            await audit.record(
                db, ctx, audit.Kind.DEVICE_REGISTER, actor=await identity_for_user(db, user),
                target=f"device {device.id} of {user.name}", customer_id=user.customer_id,
                detail={"label": device.label, "status": "pending"},
            )  # fmt: skip
            return SignIn(Step.DEVICE_PENDING, user, device, new_device_token=token)
        if device.status != "approved":
            return SignIn(Step.DEVICE_PENDING, user, device)
    return SignIn(Step.DONE, user, device)


def _fresh_step(secret: str | None, code: str, last: int | None, ctx: Ctx) -> int | None:
    step = totp_step(secret, code, ctx.now) if secret else None
    if step is None or (last is not None and step <= last):
        return None  # wrong, or already used once (a code seen over a shoulder is worth nothing)
    return step


async def check_totp(db: AsyncSession, ctx: Ctx, box: SecretBox, user: User, code: str) -> bool:
    secret = box.open(user.totp_secret) if user.totp_secret else None
    step = _fresh_step(secret, code, user.totp_last_step, ctx)
    if step is not None:
        user.totp_last_step = step
        db.add(user)
        return True
    await audit.record(
        db, ctx, audit.Kind.SIGNIN_FAILED, outcome="refused", target=f"user {user.name}",
        customer_id=user.customer_id, detail={"reason": "wrong or reused code", "step": "totp"},
    )  # fmt: skip
    return False


async def start_session(
    db: AsyncSession, ctx: Ctx, user: User, device: RegisteredDevice | None, ua: str
) -> str:
    """A new session row; returns its id for the cookie. Audits the sign-in."""
    sid = secrets.token_urlsafe(32)
    assert user.id is not None
    db.add(
        UserSession(
            user_id=user.id, token_hash=secret_hash(sid), device_id=device.id if device else None,
            created_at=ctx.now, last_seen_at=ctx.now, client=ctx.client, user_agent=ua[:300] or None,
        )
    )  # fmt: skip
    user.last_sign_in_at = ctx.now
    db.add(user)
    if device is not None:
        device.last_seen_at = ctx.now
        db.add(device)
    await audit.record(
        db, Ctx(ctx.identity, ctx.client, device.id if device else None, ctx.now), audit.Kind.SIGNIN_OK,
        actor=await identity_for_user(db, user), target=f"user {user.name}", customer_id=user.customer_id,
    )  # fmt: skip
    await db.flush()
    return sid


@dataclass(frozen=True)
class LiveSession:
    identity: Identity
    session: UserSession
    user: User


async def live_session(
    db: AsyncSession, ctx: Ctx, sid: str, *, idle_s: int, max_age_s: int
) -> LiveSession | None:
    """The session ``sid`` if it still counts; touches its last-seen time.

    Every page asks this, so it is one query: the session, its user, the user's customer (disabled?),
    the role's policy and the session's device, joined; a scoped user's scope rows are a second."""
    policy, device, customer = RolePolicy, RegisteredDevice, Customer
    query = (
        sa_select(UserSession, User, col(customer.disabled_at), col(customer.id).is_not(None),
                  col(policy.require_totp), col(policy.require_device), col(device.status))
        .join(User, col(User.id) == col(UserSession.user_id))
        .outerjoin(customer, col(customer.id) == col(User.customer_id))
        .outerjoin(policy, col(policy.role) == col(User.role))
        .outerjoin(device, col(device.id) == col(UserSession.device_id))
        .where(col(UserSession.token_hash) == secret_hash(sid))
    )  # fmt: skip
    found = (await db.execute(query)).first()
    if found is None:
        return None
    row, user, customer_disabled, customer_exists, require_totp, require_device, device_status = found
    if row.revoked_at is not None:
        return None
    if (ctx.now - row.created_at).total_seconds() > max_age_s or (
        ctx.now - row.last_seen_at
    ).total_seconds() > idle_s:
        row.revoked_at, row.revoked_why = ctx.now, "expired"
        db.add(row)
        return None
    if not sign_in_allowed(user, customer_exists, customer_disabled):
        return None
    if require_device and device_status != "approved":
        return None  # revoking the device ends its sessions at once
    if require_totp and user.totp_enabled_at is None:
        return None
    if (ctx.now - row.last_seen_at).total_seconds() > SESSION_TOUCH_S:
        row.last_seen_at = ctx.now
        db.add(row)
    return LiveSession(await identity_for_user(db, user), row, user)


async def end_session(db: AsyncSession, ctx: Ctx, sid: str) -> None:
    row = (await db.exec(select(UserSession).where(UserSession.token_hash == secret_hash(sid)))).first()
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at, row.revoked_why = ctx.now, "signed out"
    db.add(row)
    user = await db.get(User, row.user_id)
    await audit.record(
        db, ctx, audit.Kind.SIGNOUT, target=f"user {user.name if user else row.user_id}",
        customer_id=user.customer_id if user else None,
    )  # fmt: skip


# ---------------------------------------------------------------- passwords


def _password_error(exc: PasswordRejected) -> ApiError:
    return ApiError(422, "weak_password", str(exc), field="new_password")


async def change_password(db: AsyncSession, ctx: Ctx, user: User, current: str, new: str) -> None:
    """Own password: the current one must be right. Ends every session of the user (the caller starts
    a fresh one for this browser)."""
    ensure(ctx.identity, Action.OWN_ACCOUNT)
    if not await verify_password_async(user.password_hash, current):
        raise ApiError(403, "wrong_password", "the current password is not right", field="current_password")
    await _set_password(db, ctx, user, new, "password changed")
    await audit.record(
        db, ctx, audit.Kind.PASSWORD_CHANGE, target=f"user {user.name}", customer_id=user.customer_id
    )


async def _set_password(db: AsyncSession, ctx: Ctx, user: User, new: str, why: str) -> None:
    try:
        check_new_password(new, user.name)
    except PasswordRejected as exc:
        raise _password_error(exc) from None
    user.password_hash = await hash_password_async(new)
    user.password_changed_at = ctx.now
    user.revision += 1
    db.add(user)
    await people.revoke_sessions_where(db, UserSession.user_id == user.id, ctx, why)


async def issue_reset(db: AsyncSession, ctx: Ctx, user: User, ttl_s: int) -> str:
    """A one-time reset secret for ``user`` (the link is /reset/<secret>); earlier links stop working."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    pending = (
        await db.exec(
            select(PasswordReset).where(
                PasswordReset.user_id == user.id, col(PasswordReset.used_at).is_(None)
            )
        )
    ).all()
    for old in pending:
        old.used_at = ctx.now
        db.add(old)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    db.add(
        PasswordReset(
            user_id=user.id, token_hash=secret_hash(token), created_by=ctx.identity.name, created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=ttl_s),
        )
    )  # fmt: skip
    await audit.record(
        db, ctx, audit.Kind.PASSWORD_RESET_ISSUE, target=f"user {user.name}", customer_id=user.customer_id,
        detail={"expires_in_s": ttl_s},
    )  # fmt: skip
    return token


async def reset_target(db: AsyncSession, ctx: Ctx, token: str) -> tuple[PasswordReset, User] | None:
    row = (await db.exec(select(PasswordReset).where(PasswordReset.token_hash == secret_hash(token)))).first()
    if row is None or row.used_at is not None or row.expires_at <= ctx.now:
        return None
    user = await db.get(User, row.user_id)
    return None if user is None else (row, user)


async def use_reset(db: AsyncSession, ctx: Ctx, token: str, new: str) -> User:
    found = await reset_target(db, ctx, token)
    if found is None:
        raise ApiError(
            404, "not_found", "this reset link is unknown, used or expired; ask an admin for a new one"
        )
    row, user = found
    await _set_password(db, ctx, user, new, "password reset")
    row.used_at = ctx.now
    db.add(row)
    await audit.record(
        db, ctx, audit.Kind.PASSWORD_RESET_USE, actor=await identity_for_user(db, user),
        target=f"user {user.name}", customer_id=user.customer_id,
    )  # fmt: skip
    return user


# ---------------------------------------------------------------- second factor


def begin_totp(box: SecretBox) -> tuple[str, str]:
    """A new seed (plain, to show once) and its sealed form (kept in the set-up form until confirmed)."""
    secret = new_totp_secret()
    return secret, box.seal(secret)


async def enable_totp(db: AsyncSession, ctx: Ctx, box: SecretBox, user: User, sealed: str, code: str) -> bool:
    step = _fresh_step(box.open(sealed), code, None, ctx)
    if step is None:
        return False
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = sealed, ctx.now, step
    user.revision += 1
    db.add(user)
    await audit.record(db, ctx, audit.Kind.TOTP_ENABLE, actor=await identity_for_user(db, user),
                       target=f"user {user.name}", customer_id=user.customer_id)  # fmt: skip
    return True


async def disable_totp(db: AsyncSession, ctx: Ctx, user: User) -> None:
    """By the user (when the role does not require it) or by an admin (a lost phone)."""
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    user.revision += 1
    db.add(user)
    await audit.record(
        db, ctx, audit.Kind.TOTP_DISABLE, target=f"user {user.name}", customer_id=user.customer_id
    )


# ---------------------------------------------------------------- registered devices


@dataclass(frozen=True)
class DeviceRow:
    device: RegisteredDevice
    user: User


async def list_devices(db: AsyncSession, ctx: Ctx, status: str | None = None) -> list[DeviceRow]:
    ensure(ctx.identity, Action.MANAGE_DEVICES)
    query = select(RegisteredDevice, User).join(User, col(User.id) == col(RegisteredDevice.user_id))
    if status:
        query = query.where(RegisteredDevice.status == status)
    rows = await db.exec(
        query.order_by(col(RegisteredDevice.status) != "pending", col(RegisteredDevice.id).desc())
    )
    return [DeviceRow(d, u) for d, u in rows.all()]


async def set_device_status(db: AsyncSession, ctx: Ctx, device_id: int, status: str) -> RegisteredDevice:
    ensure(ctx.identity, Action.MANAGE_DEVICES)
    device = await db.get(RegisteredDevice, device_id)
    if device is None:
        raise not_found(f"device {device_id}")
    user = await db.get(User, device.user_id)
    assert user is not None
    before = device.status
    if status == "approved":
        device.status, device.approved_by, device.approved_at = "approved", ctx.identity.name, ctx.now
        kind = audit.Kind.DEVICE_APPROVE
    else:
        device.status, device.revoked_at = "revoked", ctx.now
        kind = audit.Kind.DEVICE_REVOKE
        await people.revoke_sessions_where(db, UserSession.device_id == device.id, ctx, "device revoked")
    db.add(device)
    await audit.record(
        db, ctx, kind, target=f"device {device.id} of {user.name}", customer_id=user.customer_id,
        detail={"status": {"from": before, "to": device.status}, "label": device.label},
    )  # fmt: skip
    return device


# ---------------------------------------------------------------- personal API tokens


async def create_token(db: AsyncSession, ctx: Ctx, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user`` (its own permissions). The secret is returned once and never again."""
    ensure(ctx.identity, Action.OWN_ACCOUNT if ctx.identity.user_id == user.id else Action.MANAGE_PEOPLE)
    name = people.clean_name(name)
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    row = ApiToken(
        user_id=user.id, name=name, token_hash=secret_hash(secret), hint=secret[:13], created_at=ctx.now
    )
    db.add(row)
    await db.flush()
    await audit.record(
        db, ctx, audit.Kind.TOKEN_CREATE, target=f"token {row.id} ({name}) of {user.name}",
        customer_id=user.customer_id, detail={"name": name},
    )  # fmt: skip
    return row, secret


async def tokens_of(db: AsyncSession, ctx: Ctx, user_id: int) -> list[ApiToken]:
    ensure(ctx.identity, Action.OWN_ACCOUNT if ctx.identity.user_id == user_id else Action.MANAGE_PEOPLE)
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id).desc())
    return list((await db.exec(query)).all())


async def all_tokens(db: AsyncSession, ctx: Ctx) -> list[tuple[ApiToken, User]]:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    query = (
        select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id)).order_by(col(ApiToken.id))
    )
    return [(t, u) for t, u in (await db.exec(query)).all()]


async def revoke_token(db: AsyncSession, ctx: Ctx, token_id: int) -> ApiToken:
    """Own tokens for everyone; any token for an admin. Someone else's token is 'not found'."""
    ensure(ctx.identity, Action.OWN_ACCOUNT)
    row = await db.get(ApiToken, token_id)
    admin = Action.MANAGE_PEOPLE in ctx.identity.actions
    if row is None or (row.user_id != ctx.identity.user_id and not admin):
        raise not_found(f"token {token_id}")
    user = await db.get(User, row.user_id)
    if row.revoked_at is None:
        row.revoked_at = ctx.now
        db.add(row)
        owner = user.name if user else "?"
        await audit.record(
            db, ctx, audit.Kind.TOKEN_REVOKE, target=f"token {row.id} ({row.name}) of {owner}",
            customer_id=user.customer_id if user else None,
        )  # fmt: skip
    return row


async def remove_token(db: AsyncSession, ctx: Ctx, token_id: int) -> None:
    """Revoke (audited) and delete a token row; admins only."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    row = await revoke_token(db, ctx, token_id)
    await db.delete(row)
