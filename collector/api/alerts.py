"""Change alerts and share links over the API: one's subscriptions; webhook endpoints, expected
scan intervals and the delivery log (admins); a share link for a site (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from collector.api.common import read_model, respond
from collector.api.guard import ctx_of
from collector.db.alert_tables import AlertSubscription, AlertWebhook
from collector.http.deliverables import share_url
from collector.http.params import int_param
from collector.keys import secret_box_key, sessions_key
from collector.services import alerts as alert_service
from collector.services import share as share_service


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionRequest(_Model):
    email: str = Field(max_length=320)
    site: str | None = Field(default=None, max_length=200, description="A site id; or customer_id")
    customer_id: int | None = Field(default=None, ge=1, description="Every site of this customer")


class SubscriptionPublic(_Model):
    subscription_id: int
    customer_id: int
    site_id: int | None
    email: str
    created_at: datetime


class SubscriptionList(_Model):
    subscriptions: list[SubscriptionPublic]


class WebhookRequest(_Model):
    name: str = Field(max_length=200)
    url: str = Field(max_length=2000)
    customer_id: int | None = Field(default=None, ge=1, description="Only this customer's alerts")


class WebhookPublic(_Model):
    webhook_id: int
    name: str
    url: str
    customer_id: int | None
    created_by: str
    created_at: datetime
    secret: str | None = Field(default=None, description="The signing secret: in the creation reply only")


class WebhookList(_Model):
    webhooks: list[WebhookPublic]


class DeliveryPublic(_Model):
    delivery_id: int
    event: str
    subject: str
    channel: Literal["email", "webhook"]
    target: str
    status: str
    attempts: int
    last_error: str | None
    next_try_at: datetime | None
    sent_at: datetime | None
    created_at: datetime


class DeliveryList(_Model):
    deliveries: list[DeliveryPublic]


class ScheduleRequest(_Model):
    every_s: int | None = Field(description="Expected seconds between scans; null: no overdue alert")


class ScheduleState(_Model):
    site_id: str
    every_s: int | None


class ShareRequest(_Model):
    recipient: str = Field(max_length=200)
    password: str = Field(max_length=1000, description="Told to the recipient another way")
    hours: int = Field(default=72, ge=1, le=share_service.MAX_TTL_H)
    formats: list[str] = Field(default_factory=lambda: ["pdf", "xlsx", "json"])


class ShareCreated(_Model):
    link_id: int
    url: str = Field(description="Shown once: the token is not stored")
    expires_at: datetime
    formats: list[str]


def subscription_public(row: AlertSubscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        subscription_id=row.id or 0,
        customer_id=row.customer_id,
        site_id=row.site_id,
        email=row.email,
        created_at=row.created_at,
    )


def webhook_public(row: AlertWebhook, secret: str | None = None) -> WebhookPublic:
    return WebhookPublic(
        webhook_id=row.id or 0,
        name=row.name,
        url=row.url,
        customer_id=row.customer_id,
        created_by=row.created_by,
        created_at=row.created_at,
        secret=secret,
    )


async def list_subscriptions(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        rows = await alert_service.subscriptions(db, ctx_of(request))
    return respond(SubscriptionList(subscriptions=[subscription_public(r.subscription) for r in rows]))


async def create_subscription(request: web.Request) -> web.Response:
    body = await read_model(request, SubscriptionRequest)
    async with request.app[sessions_key]() as db, db.begin():
        row = await alert_service.subscribe(
            db, ctx_of(request), body.email, site_slug=body.site, customer_id=body.customer_id
        )
    return respond(subscription_public(row), 201)


async def delete_subscription(request: web.Request) -> web.Response:
    sub_id = int_param(request.match_info["subscription"], "subscription")
    async with request.app[sessions_key]() as db, db.begin():
        await alert_service.unsubscribe(db, ctx_of(request), sub_id)
    return web.Response(status=204)


async def list_webhooks(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        rows = await alert_service.webhooks(db, ctx_of(request))
    return respond(WebhookList(webhooks=[webhook_public(h) for h, _ in rows]))


async def create_webhook(request: web.Request) -> web.Response:
    body = await read_model(request, WebhookRequest)
    async with request.app[sessions_key]() as db, db.begin():
        hook, secret = await alert_service.add_webhook(
            db, ctx_of(request), request.app[secret_box_key], body.name, body.url, body.customer_id
        )
    return respond(webhook_public(hook, secret), 201)


async def delete_webhook(request: web.Request) -> web.Response:
    hook_id = int_param(request.match_info["webhook"], "webhook")
    async with request.app[sessions_key]() as db, db.begin():
        hook = await alert_service.remove_webhook(db, ctx_of(request), hook_id)
    return respond(webhook_public(hook))


async def list_deliveries(request: web.Request) -> web.Response:
    limit = int_param(request.query.get("limit", "100"), "limit")
    async with request.app[sessions_key]() as db, db.begin():
        rows = await alert_service.deliveries(db, ctx_of(request), limit)
    return respond(
        DeliveryList(
            deliveries=[
                DeliveryPublic(
                    delivery_id=r.delivery.id or 0,
                    event=r.kind,
                    subject=r.subject,
                    channel="email" if r.delivery.channel == "email" else "webhook",
                    target=r.delivery.target,
                    status=r.delivery.status,
                    attempts=r.delivery.attempts,
                    last_error=r.delivery.last_error,
                    next_try_at=r.delivery.next_try_at,
                    sent_at=r.delivery.sent_at,
                    created_at=r.delivery.created_at,
                )
                for r in rows
            ]
        )
    )


async def put_schedule(request: web.Request) -> web.Response:
    body = await read_model(request, ScheduleRequest)
    slug = request.match_info["site"]
    async with request.app[sessions_key]() as db, db.begin():
        row = await alert_service.set_schedule(db, ctx_of(request), slug, body.every_s)
    return respond(ScheduleState(site_id=slug, every_s=row.every_s if row else None))


async def create_share(request: web.Request) -> web.Response:
    body = await read_model(request, ShareRequest)
    async with request.app[sessions_key]() as db, db.begin():
        link, token = await share_service.create_link(
            db,
            ctx_of(request),
            request.match_info["site"],
            recipient=body.recipient,
            password=body.password,
            ttl_h=body.hours,
            formats=body.formats,
        )
    return respond(
        ShareCreated(
            link_id=link.id or 0,
            url=share_url(request, token),
            expires_at=link.expires_at,
            formats=link.formats,
        ),
        201,
    )
