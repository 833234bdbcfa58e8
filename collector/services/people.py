"""Regions, customers, users and role policies: what admins manage (web, API and CLI alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, Role, ScopeKind, ensure, scope_clause
from collector.db import queries
from collector.db.models import (
    ApiToken,
    Customer,
    PasswordReset,
    Region,
    RegisteredDevice,
    RolePolicy,
    Site,
    User,
    UserScope,
    UserSession,
)
from collector.errors import ApiError, not_found
from collector.passwords import PasswordRejected, check_new_password, hash_password_async
from collector.services import audit
from collector.services.context import Ctx

MAX_NAME = 100


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_value", message, field=field)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def clean_name(value: str, field: str = "name", limit: int = MAX_NAME) -> str:
    value = value.strip()
    if not value or len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise invalid(field, f"{field} must be 1 to {limit} printable characters")
    return value


async def _org_id(db: AsyncSession) -> int:
    org = await queries.default_organization(db)
    assert org.id is not None
    return org.id


# ---------------------------------------------------------------- regions


async def list_regions(db: AsyncSession, ctx: Ctx) -> list[tuple[Region, int]]:
    """Regions with how many customers each has."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    count = select(func.count()).where(Customer.region_id == Region.id).scalar_subquery()
    rows = await db.exec(select(Region, count).order_by(col(Region.name)))
    return [(r, int(n)) for r, n in rows.all()]


async def region_by_name(db: AsyncSession, name: str) -> Region | None:
    org_id = await _org_id(db)
    return (
        await db.exec(select(Region).where(Region.organization_id == org_id, Region.name == name))
    ).first()


async def create_region(db: AsyncSession, ctx: Ctx, name: str) -> Region:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    name = clean_name(name)
    if await region_by_name(db, name) is not None:
        raise conflict("exists", f"region {name!r} already exists")
    region = Region(organization_id=await _org_id(db), name=name, created_at=ctx.now)
    db.add(region)
    await db.flush()
    await audit.record(db, ctx, audit.Kind.REGION_CREATE, target=f"region {name}", detail={"name": name})
    return region


async def remove_region(db: AsyncSession, ctx: Ctx, name: str) -> None:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    region = await region_by_name(db, name)
    if region is None:
        raise not_found(f"region {name!r}")
    used = (await db.exec(select(func.count()).where(Customer.region_id == region.id))).one()
    scoped = (await db.exec(select(func.count()).where(UserScope.region_id == region.id))).one()
    if used or scoped:
        raise conflict(
            "in_use",
            f"region {name!r} still has {used} customer(s) and {scoped} user scope(s); move them first",
        )
    await db.delete(region)
    await audit.record(db, ctx, audit.Kind.REGION_REMOVE, target=f"region {name}")


# ---------------------------------------------------------------- customers


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    region: Region | None
    sites: int


async def list_customers(db: AsyncSession, ctx: Ctx) -> list[CustomerRow]:
    """The customers the caller may see (scope in the query), with their region and site count."""
    ensure(ctx.identity, Action.READ_CUSTOMERS)
    sites = select(func.count()).where(Site.customer_id == Customer.id).scalar_subquery()
    query = (
        select(Customer, Region, sites)
        .outerjoin(Region, col(Region.id) == col(Customer.region_id))
        .where(scope_clause(ctx.identity))
        .order_by(col(Customer.name))
    )
    return [CustomerRow(c, r, int(n)) for c, r, n in (await db.exec(query)).all()]


async def customer_by_name(db: AsyncSession, name: str) -> Customer | None:
    org_id = await _org_id(db)
    query = select(Customer).where(Customer.organization_id == org_id, Customer.name == name)
    return (await db.exec(query)).first()


async def create_customer(db: AsyncSession, ctx: Ctx, name: str, region_name: str | None) -> Customer:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    name = clean_name(name, limit=200)
    region = None
    if region_name:
        region = await region_by_name(db, region_name.strip())
        if region is None:
            region = await create_region(db, ctx, region_name)
    existing = await customer_by_name(db, name)
    if existing is not None:
        # enrol-code creates customers without a region; adding it with one files it there.
        if existing.region_id is None and region is not None:
            return await set_customer_region(db, ctx, existing, region)
        raise conflict("exists", f"customer {name!r} already exists")
    customer = Customer(
        organization_id=await _org_id(db), name=name, region_id=region.id if region else None,
        created_at=ctx.now,
    )  # fmt: skip
    db.add(customer)
    await db.flush()
    await audit.record(
        db, ctx, audit.Kind.CUSTOMER_CREATE, target=f"customer {name}", customer_id=customer.id,
        detail={"name": name, "region": region.name if region else None},
    )  # fmt: skip
    return customer


async def set_customer_region(
    db: AsyncSession, ctx: Ctx, customer: Customer, region: Region | None
) -> Customer:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    before = customer.region_id
    customer.region_id = region.id if region else None
    db.add(customer)
    await db.flush()
    await audit.record(
        db, ctx, audit.Kind.CUSTOMER_UPDATE, target=f"customer {customer.name}", customer_id=customer.id,
        detail={"region_id": {"from": before, "to": customer.region_id}},
    )  # fmt: skip
    return customer


async def _customer(db: AsyncSession, name: str) -> Customer:
    customer = await customer_by_name(db, name)
    if customer is None:
        raise not_found(f"customer {name!r}")
    return customer


async def disable_customer(db: AsyncSession, ctx: Ctx, name: str, *, disabled: bool = True) -> Customer:
    """A disabled customer's own users cannot sign in; staff still see its record."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    customer = await _customer(db, name)
    customer.disabled_at = ctx.now if disabled else None
    db.add(customer)
    if disabled:
        users = select(User.id).where(User.customer_id == customer.id)
        await revoke_sessions_where(db, col(UserSession.user_id).in_(users), ctx, "customer disabled")
    await audit.record(
        db, ctx, audit.Kind.CUSTOMER_DISABLE, target=f"customer {name}", customer_id=customer.id,
        detail={"disabled": disabled},
    )  # fmt: skip
    return customer


async def remove_customer(db: AsyncSession, ctx: Ctx, name: str) -> None:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    customer = await _customer(db, name)
    sites = (await db.exec(select(func.count()).where(Site.customer_id == customer.id))).one()
    users = (await db.exec(select(func.count()).where(User.customer_id == customer.id))).one()
    scoped = (await db.exec(select(func.count()).where(UserScope.customer_id == customer.id))).one()
    if sites or users or scoped:
        raise conflict(
            "in_use",
            f"customer {name!r} still has {sites} site(s), {users} user(s) and {scoped} user scope(s); "
            "a customer with a record is kept (disable it instead)",
        )
    await db.delete(customer)
    await audit.record(
        db, ctx, audit.Kind.CUSTOMER_REMOVE, target=f"customer {name}", customer_id=customer.id
    )


# ---------------------------------------------------------------- users


@dataclass(frozen=True)
class UserView:
    user: User
    regions: tuple[str, ...]
    customers: tuple[str, ...]
    customer: str | None  # a customer user's own customer

    @property
    def scope_text(self) -> str:
        if self.user.scope == ScopeKind.ALL:
            return "all"
        names = self.regions if self.user.scope == ScopeKind.REGIONS else self.customers
        return f"{self.user.scope}: {', '.join(names) or '(none)'}"


async def user_view(db: AsyncSession, user: User) -> UserView:
    rows = (
        await db.exec(
            select(Region.name, Customer.name)
            .select_from(UserScope)
            .outerjoin(Region, col(Region.id) == col(UserScope.region_id))
            .outerjoin(Customer, col(Customer.id) == col(UserScope.customer_id))
            .where(UserScope.user_id == user.id)
        )
    ).all()
    own = await db.get(Customer, user.customer_id) if user.customer_id else None
    return UserView(
        user,
        tuple(sorted(r for r, _ in rows if r)),
        tuple(sorted(c for _, c in rows if c)),
        own.name if own else None,
    )


async def list_users(db: AsyncSession, ctx: Ctx) -> list[UserView]:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    users = (await db.exec(select(User).order_by(col(User.name)))).all()
    return [await user_view(db, u) for u in users]


async def user_by_name(db: AsyncSession, name: str) -> User | None:
    return (await db.exec(select(User).where(User.name == name.strip()))).first()


async def get_user(db: AsyncSession, ctx: Ctx, user_id: int) -> UserView:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    user = await db.get(User, user_id)
    if user is None:
        raise not_found(f"user {user_id}")
    return await user_view(db, user)


async def find_user(db: AsyncSession, ctx: Ctx, name: str) -> User:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    user = await user_by_name(db, name)
    if user is None:
        raise not_found(f"user {name!r}")
    return user


@dataclass(frozen=True)
class ScopeRequest:
    role: Role
    regions: Sequence[str] = ()
    customers: Sequence[str] = ()


async def _resolve_scope(
    db: AsyncSession, want: ScopeRequest
) -> tuple[str, list[int], list[int], int | None]:
    """(scope kind, region ids, customer ids, own customer id), or 422 naming what is wrong."""
    regions: list[int] = []
    customers: list[int] = []
    for name in want.regions:
        region = await region_by_name(db, name.strip())
        if region is None or region.id is None:
            raise invalid("region", f"no region named {name!r} (asbuilt collector region add)")
        regions.append(region.id)
    for name in want.customers:
        customer = await customer_by_name(db, name.strip())
        if customer is None or customer.id is None:
            raise invalid("customer", f"no customer named {name!r} (asbuilt collector customer add)")
        customers.append(customer.id)
    if regions and customers:
        raise invalid("scope", "a scope is regions or customers, not both")
    if want.role is Role.ADMIN and (regions or customers):
        raise invalid("scope", "an admin sees the whole organisation: no --region or --customer")
    if want.role is Role.CUSTOMER:
        if len(customers) != 1 or regions:
            raise invalid("customer", "a customer user belongs to exactly one customer (--customer NAME)")
        return ScopeKind.CUSTOMERS, [], customers, customers[0]
    if regions:
        return ScopeKind.REGIONS, regions, [], None
    if customers:
        return ScopeKind.CUSTOMERS, [], customers, None
    return ScopeKind.ALL, [], [], None


async def _write_scope(db: AsyncSession, user: User, regions: list[int], customers: list[int]) -> None:
    await db.exec(delete(UserScope).where(col(UserScope.user_id) == user.id))
    assert user.id is not None
    for region_id in regions:
        db.add(UserScope(user_id=user.id, region_id=region_id))
    for customer_id in customers:
        db.add(UserScope(user_id=user.id, customer_id=customer_id))
    await db.flush()


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise invalid("role", f"role must be one of {', '.join(r.value for r in Role)}") from None


async def create_user(
    db: AsyncSession,
    ctx: Ctx,
    name: str,
    scope: ScopeRequest,
    *,
    password: str | None,
    full_name: str | None = None,
    customer_admin: bool = False,
) -> User:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    name = clean_name(name)
    if await user_by_name(db, name) is not None:
        raise conflict("exists", f"user {name!r} already exists")
    kind, regions, customers, own = await _resolve_scope(db, scope)
    password_hash = None
    if password is not None:
        try:
            check_new_password(password, name)
        except PasswordRejected as exc:
            raise invalid("password", str(exc)) from None
        password_hash = await hash_password_async(password)
    user = User(
        organization_id=await _org_id(db), name=name, full_name=full_name, role=scope.role.value, scope=kind,
        customer_id=own, customer_admin=customer_admin and scope.role is Role.CUSTOMER,
        password_hash=password_hash, password_changed_at=ctx.now if password_hash else None,
        created_at=ctx.now,
    )  # fmt: skip
    db.add(user)
    await db.flush()
    await _write_scope(db, user, regions, customers)
    view = await user_view(db, user)
    await audit.record(
        db, ctx, audit.Kind.USER_CREATE, target=f"user {name}", customer_id=own,
        detail={"role": user.role, "scope": view.scope_text, "customer_admin": user.customer_admin},
    )  # fmt: skip
    return user


async def update_user(
    db: AsyncSession,
    ctx: Ctx,
    user_id: int,
    scope: ScopeRequest,
    *,
    base_revision: int,
    full_name: str | None,
    customer_admin: bool,
) -> User:
    """Change a user's role, scope or name; refused (409) when made from a stale revision."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    user = await db.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found(f"user {user_id}")
    if user.revision != base_revision:
        raise conflict(
            "stale_revision",
            f"User {user.name} was changed by someone else after you opened this form "
            f"(revision {base_revision}, now {user.revision}). Reload to see the current values.",
        )
    before = await user_view(db, user)
    kind, regions, customers, own = await _resolve_scope(db, scope)
    user.role, user.scope, user.customer_id = scope.role.value, kind, own
    user.full_name = full_name
    user.customer_admin = customer_admin and scope.role is Role.CUSTOMER
    user.revision += 1
    db.add(user)
    await _write_scope(db, user, regions, customers)
    after = await user_view(db, user)
    changes: dict[str, Any] = {}
    for field, old, new in (
        ("role", before.user.role, user.role),
        ("scope", before.scope_text, after.scope_text),
        ("full_name", before.user.full_name, user.full_name),
        ("customer_admin", before.user.customer_admin, user.customer_admin),
    ):
        if old != new:
            changes[field] = {"from": old, "to": new}
    if changes:  # a new role or scope counts from the next request, so sessions may stay
        await audit.record(
            db, ctx, audit.Kind.USER_UPDATE, target=f"user {user.name}", customer_id=own, detail=changes
        )
    return user


async def revoke_sessions_where(db: AsyncSession, condition: Any, ctx: Ctx, why: str) -> None:
    sessions = (
        await db.exec(select(UserSession).where(condition, col(UserSession.revoked_at).is_(None)))
    ).all()
    for s in sessions:
        s.revoked_at, s.revoked_why = ctx.now, why
        db.add(s)
    await db.flush()


async def set_disabled(db: AsyncSession, ctx: Ctx, user: User, disabled: bool) -> User:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    if disabled and user.id == ctx.identity.user_id:
        raise conflict("self", "you cannot disable your own account")
    user.disabled_at = ctx.now if disabled else None
    user.revision += 1
    db.add(user)
    if disabled:
        await revoke_sessions_where(db, UserSession.user_id == user.id, ctx, "user disabled")
    kind = audit.Kind.USER_DISABLE if disabled else audit.Kind.USER_ENABLE
    await audit.record(db, ctx, kind, target=f"user {user.name}", customer_id=user.customer_id)
    return user


async def remove_user(db: AsyncSession, ctx: Ctx, user: User) -> None:
    """Delete the account and everything it holds (sessions, tokens, devices); its audit trail stays."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    if user.id == ctx.identity.user_id:
        raise conflict("self", "you cannot remove your own account")
    for table in (UserSession, ApiToken, PasswordReset, UserScope, RegisteredDevice):
        await db.exec(delete(table).where(col(table.user_id) == user.id))
    await db.delete(user)
    await audit.record(
        db, ctx, audit.Kind.USER_REMOVE, target=f"user {user.name}", customer_id=user.customer_id,
        detail={"role": user.role},
    )  # fmt: skip


# ---------------------------------------------------------------- role policies


async def policies(db: AsyncSession) -> dict[Role, RolePolicy]:
    rows = {p.role: p for p in (await db.exec(select(RolePolicy))).all()}
    return {role: rows.get(role.value) or RolePolicy(role=role.value) for role in Role}


async def policy_for(db: AsyncSession, role: str) -> RolePolicy:
    return await db.get(RolePolicy, role) or RolePolicy(role=role)


async def set_policy(
    db: AsyncSession, ctx: Ctx, role: Role, *, require_totp: bool, require_device: bool
) -> RolePolicy:
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    policy = await db.get(RolePolicy, role.value)
    before = (policy.require_totp, policy.require_device) if policy else (False, False)
    if policy is None:
        policy = RolePolicy(role=role.value)
    policy.require_totp, policy.require_device = require_totp, require_device
    policy.updated_at, policy.updated_by = ctx.now, ctx.identity.name
    db.add(policy)
    await db.flush()
    if before != (require_totp, require_device):
        await audit.record(
            db, ctx, audit.Kind.POLICY_UPDATE, target=f"role {role.value}",
            detail={"require_totp": {"from": before[0], "to": require_totp},
                    "require_device": {"from": before[1], "to": require_device}},
        )  # fmt: skip
    return policy
