"""Alert settings for people: their subscriptions, the webhook endpoints, expected scan intervals,
and the delivery log. Scope is applied to every lookup (out of scope is 404, as elsewhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, desc, select
from sqlmodel.ext.asyncio.session import AsyncSession
from yarl import URL

from collector.alerts import signing
from collector.auth import Action, ensure, scope_clause
from collector.db.alert_tables import (
    AlertDelivery,
    AlertEvent,
    AlertSchedule,
    AlertSubscription,
    AlertWebhook,
)
from collector.db.models import Customer, Site
from collector.errors import ApiError, not_found
from collector.secretbox import SecretBox
from collector.services import audit
from collector.services.context import Ctx
from collector.services.sites import find_site

_EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,255}$")
MIN_EVERY_S, MAX_EVERY_S = 60, 90 * 86400


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_request", f"{field}: {message}", field=field)


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: AlertSubscription
    customer: str
    site: str | None  # the slug; None: every site of the customer


async def _customer(db: AsyncSession, ctx: Ctx, customer_id: int) -> Customer:
    row = (
        await db.exec(select(Customer).where(Customer.id == customer_id, scope_clause(ctx.identity)))
    ).first()
    if row is None:
        raise not_found(f"customer {customer_id}")
    return row


async def subscriptions(db: AsyncSession, ctx: Ctx) -> list[SubscriptionRow]:
    ensure(ctx.identity, Action.SUBSCRIBE_ALERTS)
    rows = await db.exec(
        select(AlertSubscription, Customer, Site)
        .join(Customer, col(Customer.id) == AlertSubscription.customer_id)
        .outerjoin(Site, col(Site.id) == AlertSubscription.site_id)
        .where(AlertSubscription.user_id == (ctx.identity.user_id or -1))
        .order_by(col(Customer.name), col(AlertSubscription.id))
    )
    return [SubscriptionRow(s, c.name, site.slug if site else None) for s, c, site in rows.all()]


async def subscribe(
    db: AsyncSession, ctx: Ctx, email: str, *, site_slug: str | None = None, customer_id: int | None = None
) -> AlertSubscription:
    """The caller's e-mail alerts for one site, or all sites of one customer, in their scope."""
    ensure(ctx.identity, Action.SUBSCRIBE_ALERTS)
    if ctx.identity.user_id is None:
        raise ApiError(403, "forbidden", "only a user account can subscribe to alerts")
    email = email.strip()
    if not _EMAIL.match(email):
        raise invalid("email", "an e-mail address such as tech@example.com")
    site: Site | None = None
    if site_slug:
        site, customer = await find_site(db, ctx, site_slug, Action.SUBSCRIBE_ALERTS)
    elif customer_id is not None:
        customer = await _customer(db, ctx, customer_id)
    else:
        raise invalid("site", "a site or a customer to subscribe to")
    assert customer.id is not None
    existing = (
        await db.exec(
            select(AlertSubscription).where(
                AlertSubscription.user_id == ctx.identity.user_id,
                AlertSubscription.customer_id == customer.id,
                AlertSubscription.site_id == site.id if site else col(AlertSubscription.site_id).is_(None),
            )
        )
    ).first()
    if existing is not None:
        existing.email = email
        db.add(existing)
        return existing
    row = AlertSubscription(
        user_id=ctx.identity.user_id, customer_id=customer.id, site_id=site.id if site else None, email=email
    )
    db.add(row)
    await db.flush()
    await audit.record(
        db,
        ctx,
        audit.Kind.ALERT_SUBSCRIBE,
        target=f"site {site.slug}" if site else f"customer {customer.name}",
        customer_id=customer.id,
        site_id=site.id if site else None,
        detail={"action": "subscribe"},
    )
    return row


async def unsubscribe(db: AsyncSession, ctx: Ctx, subscription_id: int) -> None:
    ensure(ctx.identity, Action.SUBSCRIBE_ALERTS)
    row = await db.get(AlertSubscription, subscription_id)
    if row is None or row.user_id != ctx.identity.user_id:
        raise not_found(f"subscription {subscription_id}")
    await db.delete(row)
    await audit.record(
        db,
        ctx,
        audit.Kind.ALERT_SUBSCRIBE,
        target=f"subscription {subscription_id}",
        customer_id=row.customer_id,
        site_id=row.site_id,
        detail={"action": "unsubscribe"},
    )


# ---------------------------------------------------------------- webhook endpoints (admins)


def check_url(url: str) -> str:
    parsed = URL(url.strip())
    if parsed.scheme not in ("https", "http") or not parsed.host or len(url) > 2000:
        raise invalid("url", "an http(s):// address")
    return str(parsed)


async def webhooks(db: AsyncSession, ctx: Ctx) -> list[tuple[AlertWebhook, str | None]]:
    ensure(ctx.identity, Action.MANAGE_ALERTS)
    rows = await db.exec(
        select(AlertWebhook, Customer.name)
        .outerjoin(Customer, col(Customer.id) == AlertWebhook.customer_id)
        .where(col(AlertWebhook.active).is_(True))
        .order_by(col(AlertWebhook.id))
    )
    return [(hook, name) for hook, name in rows.all()]


async def add_webhook(
    db: AsyncSession, ctx: Ctx, box: SecretBox, name: str, url: str, customer_id: int | None
) -> tuple[AlertWebhook, str]:
    """A new endpoint and its signing secret (shown once; stored sealed)."""
    ensure(ctx.identity, Action.MANAGE_ALERTS)
    name = name.strip()[:200]
    if not name:
        raise invalid("name", "a name for the endpoint")
    if customer_id is not None:
        await _customer(db, ctx, customer_id)
    secret = signing.new_secret()
    hook = AlertWebhook(
        name=name,
        url=check_url(url),
        customer_id=customer_id,
        secret_sealed=box.seal(secret),
        created_by=ctx.identity.name,
    )
    db.add(hook)
    await db.flush()
    await audit.record(
        db,
        ctx,
        audit.Kind.ALERT_WEBHOOK,
        target=f"webhook {name}",
        customer_id=customer_id,
        detail={"action": "create", "host": URL(hook.url).host},
    )
    return hook, secret


async def remove_webhook(db: AsyncSession, ctx: Ctx, webhook_id: int) -> AlertWebhook:
    ensure(ctx.identity, Action.MANAGE_ALERTS)
    hook = await db.get(AlertWebhook, webhook_id)
    if hook is None or not hook.active:
        raise not_found(f"webhook {webhook_id}")
    hook.active = False
    db.add(hook)
    await audit.record(
        db,
        ctx,
        audit.Kind.ALERT_WEBHOOK,
        target=f"webhook {hook.name}",
        customer_id=hook.customer_id,
        detail={"action": "remove"},
    )
    return hook


# ---------------------------------------------------------------- expected scan intervals


async def schedules(db: AsyncSession, ctx: Ctx) -> list[tuple[AlertSchedule, Site]]:
    ensure(ctx.identity, Action.MANAGE_ALERTS)
    rows = await db.exec(
        select(AlertSchedule, Site).join(Site, col(Site.id) == AlertSchedule.site_id).order_by(col(Site.slug))
    )
    return [(a, b) for a, b in rows.all()]


async def set_schedule(db: AsyncSession, ctx: Ctx, slug: str, every_s: int | None) -> AlertSchedule | None:
    """Expect a scan of ``slug`` every ``every_s`` seconds (None: no longer)."""
    site, customer = await find_site(db, ctx, slug, Action.MANAGE_ALERTS)
    assert site.id is not None
    row = await db.get(AlertSchedule, site.id)
    if every_s is not None and not MIN_EVERY_S <= every_s <= MAX_EVERY_S:
        raise invalid("every", "between 1 minute and 90 days")
    if every_s is None:
        if row is not None:
            await db.delete(row)
    else:
        row = row or AlertSchedule(site_id=site.id, every_s=every_s, updated_by=ctx.identity.name)
        row.every_s, row.updated_by, row.updated_at, row.alerted_for = (
            every_s,
            ctx.identity.name,
            ctx.now,
            None,
        )
        db.add(row)
    await audit.record(
        db,
        ctx,
        audit.Kind.ALERT_SCHEDULE,
        target=f"site {site.slug}",
        customer_id=customer.id,
        site_id=site.id,
        detail={"every_s": every_s},
    )
    return row if every_s is not None else None


# ---------------------------------------------------------------- the delivery log


@dataclass(frozen=True)
class DeliveryRow:
    delivery: AlertDelivery
    subject: str
    kind: str
    created_at: datetime


async def deliveries(db: AsyncSession, ctx: Ctx, limit: int = 200) -> list[DeliveryRow]:
    ensure(ctx.identity, Action.MANAGE_ALERTS)
    rows = await db.exec(
        select(AlertDelivery, AlertEvent)
        .join(AlertEvent, col(AlertEvent.id) == AlertDelivery.event_id)
        .order_by(desc(col(AlertDelivery.id)))
        .limit(min(max(limit, 1), 500))
    )
    return [DeliveryRow(d, e.subject, e.kind, e.created_at) for d, e in rows.all()]
