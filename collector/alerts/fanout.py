"""Who gets a digest, and the delivery log's rows: the database half of the alert jobs.

An event (a digest) is made once per key, so a job that runs twice makes nothing twice. Each event
gets one delivery per subscriber address and one per matching webhook endpoint. A delivery to a
person re-checks, when it is sent, that the person may still see the site (the scope may have
changed since they subscribed, the account may be disabled): if not, it is logged as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from collector.alerts.digest import Digest, SiteRef, changes_digest, overdue_digest
from collector.auth import Action, permits
from collector.changes_words import present
from collector.config import CollectorConfig
from collector.db import queries
from collector.db.alert_tables import (
    AlertDelivery,
    AlertEvent,
    AlertSchedule,
    AlertSubscription,
    AlertWebhook,
)
from collector.db.models import Customer, Site, User
from collector.ingest import SnapshotCache
from collector.secretbox import SECRETS_KEY_FILE, SecretBox, load_or_create_key
from collector.services.accounts import identity_for_user, may_sign_in
from collector.services.diffs import stored_diff
from collector.services.sites import resource_of


def site_link(config: CollectorConfig, site: Site, version: int | None = None) -> str | None:
    if not config.public_url:
        return None
    base = config.public_url.rstrip("/") + f"/sites/{site.slug}"
    return base + (f"/versions/{version}" if version else "")


async def _queued(db: AsyncSession, event_id: int) -> list[int]:
    rows = await db.exec(
        select(AlertDelivery.id).where(AlertDelivery.event_id == event_id, AlertDelivery.status == "queued")
    )
    return [i for i in rows.all() if i is not None]


async def _existing(db: AsyncSession, key: str) -> AlertEvent | None:
    return (await db.exec(select(AlertEvent).where(AlertEvent.key == key))).first()


async def changes_event(db: AsyncSession, config: CollectorConfig, site_id: int, version: int) -> list[int]:
    """The digest of one new version against what it was compared with; its queued delivery ids."""
    key = f"changes:{site_id}:{version}"
    prior = await _existing(db, key)
    if prior is not None:
        assert prior.id is not None
        return await _queued(db, prior.id)
    site = await db.get(Site, site_id)
    meta = await queries.version_meta(db, site_id, version)
    if site is None or meta is None or meta.diff_against_version is None or not meta.diff_against_kind:
        return []
    if not await has_recipients(db, site):  # nobody to tell: no event, and no diff to work out
        return []
    compared = await stored_diff(
        db, SnapshotCache(2), config.removed_after_scans, site, meta.diff_against_version, version,
        meta.diff_against_kind,
    )  # fmt: skip
    report = present(compared.diff)
    if not report.items:
        return []
    customer = await db.get(Customer, site.customer_id)
    assert customer is not None
    digest = changes_digest(
        SiteRef(customer.name, site.slug, site.name), version, meta.diff_against_kind,
        meta.diff_against_version, report, meta.received_at, site_link(config, site, version),
    )  # fmt: skip
    return await _fan_out(db, key, digest, site, version)


def _subscriptions_of(site: Site) -> SelectOfScalar[AlertSubscription]:
    return select(AlertSubscription).where(
        AlertSubscription.customer_id == site.customer_id,
        or_(col(AlertSubscription.site_id).is_(None), AlertSubscription.site_id == site.id),
    )


def _webhooks_of(site: Site) -> SelectOfScalar[AlertWebhook]:
    return select(AlertWebhook).where(
        col(AlertWebhook.active).is_(True),
        or_(col(AlertWebhook.customer_id).is_(None), AlertWebhook.customer_id == site.customer_id),
    )


async def has_recipients(db: AsyncSession, site: Site) -> bool:
    """Whether a digest of this site would get any delivery (the rules of ``_fan_out``): one query.

    The push asks it in its own transaction, so a version nobody would hear about queues no job."""
    query = select(or_(_subscriptions_of(site).exists(), _webhooks_of(site).exists()))
    return bool((await db.exec(query)).first())


async def _fan_out(db: AsyncSession, key: str, digest: Digest, site: Site, version: int | None) -> list[int]:
    assert site.id is not None
    event = AlertEvent(
        key=key, kind=digest.kind, site_id=site.id, customer_id=site.customer_id, version=version,
        subject=digest.subject[:500], text=digest.text, payload=digest.payload,
    )  # fmt: skip
    db.add(event)
    await db.flush()
    assert event.id is not None
    subscriptions = await db.exec(_subscriptions_of(site).order_by(col(AlertSubscription.id)))
    seen: set[tuple[int, str]] = set()
    for sub in subscriptions.all():
        if (sub.user_id, sub.email.lower()) in seen:  # a site and its customer: still one mail
            continue
        seen.add((sub.user_id, sub.email.lower()))
        db.add(AlertDelivery(event_id=event.id, channel="email", subscription_id=sub.id, user_id=sub.user_id,
                             target=sub.email))  # fmt: skip
    hooks = await db.exec(_webhooks_of(site))
    for hook in hooks.all():
        db.add(AlertDelivery(event_id=event.id, channel="webhook", webhook_id=hook.id, target=hook.url))
    await db.flush()
    return await _queued(db, event.id)


async def overdue_events(db: AsyncSession, config: CollectorConfig, now: datetime) -> list[int]:
    """One digest per site whose scan is later than its expected interval (once per silence)."""
    out: list[int] = []
    rows = await db.exec(select(AlertSchedule, Site).join(Site, col(Site.id) == AlertSchedule.site_id))
    for schedule, site in rows.all():
        assert site.id is not None
        meta = await queries.version_meta(db, site.id, site.latest_version) if site.latest_version else None
        last_seen = meta.seen_last_at if meta is not None else None
        reference = last_seen or schedule.updated_at
        if now - reference <= timedelta(seconds=schedule.every_s) or schedule.alerted_for == reference:
            continue
        schedule.alerted_for = reference
        db.add(schedule)
        customer = await db.get(Customer, site.customer_id)
        assert customer is not None
        digest = overdue_digest(
            SiteRef(customer.name, site.slug, site.name), schedule.every_s, last_seen, now,
            site_link(config, site),
        )  # fmt: skip
        out += await _fan_out(db, f"overdue:{site.id}:{reference.isoformat()}", digest, site, None)
    return out


# ---------------------------------------------------------------- one delivery


@dataclass(frozen=True)
class Plan:
    delivery_id: int
    channel: str
    target: str
    digest: Digest
    secret: str | None = None  # a webhook's signing secret, opened for this attempt only


async def plan_delivery(db: AsyncSession, config: CollectorConfig, delivery_id: int) -> Plan | None:
    """What to send for a delivery, or None (already sent, or skipped now: the reason is logged)."""
    row = await db.get(AlertDelivery, delivery_id)
    if row is None or row.status in ("sent", "skipped", "failed"):
        return None
    event = await db.get(AlertEvent, row.event_id)
    assert event is not None
    digest = Digest(event.kind, event.subject, event.text, event.payload)
    if row.channel == "email":
        reason = await _may_not_receive(db, row, event)
        if reason is not None:
            row.status, row.last_error, row.next_try_at = "skipped", reason, None
            db.add(row)
            return None
        return Plan(delivery_id, "email", row.target, digest)
    hook = await db.get(AlertWebhook, row.webhook_id) if row.webhook_id else None
    if hook is None or not hook.active:
        row.status, row.last_error = "skipped", "the endpoint was removed or switched off"
        db.add(row)
        return None
    secret = SecretBox(load_or_create_key(config.data_dir, SECRETS_KEY_FILE)).open(hook.secret_sealed)
    if secret is None:
        row.status, row.last_error = "failed", "the endpoint's secret cannot be opened (secrets key changed?)"
        db.add(row)
        return None
    return Plan(delivery_id, "webhook", hook.url, digest, secret)


async def _may_not_receive(db: AsyncSession, row: AlertDelivery, event: AlertEvent) -> str | None:
    user = await db.get(User, row.user_id) if row.user_id else None
    if user is None or not await may_sign_in(db, user):
        return "the subscriber's account is gone or disabled"
    sub = await db.get(AlertSubscription, row.subscription_id) if row.subscription_id else None
    if sub is None:
        return "the subscription was removed"
    site = await db.get(Site, event.site_id)
    customer = await db.get(Customer, event.customer_id)
    if site is None or customer is None:
        return "the site was removed"
    identity = await identity_for_user(db, user)
    if not permits(identity, Action.SUBSCRIBE_ALERTS, resource_of(site, customer)):
        return "the subscriber may no longer see this site"
    return None


async def record_attempt(
    db: AsyncSession,
    delivery_id: int,
    attempt: int,
    error: str | None,
    now: datetime,
    next_try: datetime | None,
) -> None:
    """After one try: sent, or the error and when the queue tries again (None: it gave up)."""
    row = await db.get(AlertDelivery, delivery_id)
    if row is None:
        return
    row.attempts = max(row.attempts, attempt)
    if error is None:
        row.status, row.sent_at, row.last_error, row.next_try_at = "sent", now, None, None
    else:
        row.status = "retrying" if next_try is not None else "failed"
        row.last_error, row.next_try_at = error[:2000], next_try
    db.add(row)
