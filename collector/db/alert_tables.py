"""Change alerts and share links: who wants to hear about which sites, where webhooks go, what was
sent (the delivery log), when a site's scan is expected, and the one-time links for a customer.

Secrets are never stored in clear: a webhook's signing secret is sealed with the collector's
SecretBox (the key file in the data directory, as TOTP seeds are), a share link's token is kept only
as its sha256 hash and its password as an argon2id hash.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow


class AlertSubscription(SQLModel, table=True):
    """One user's wish to get an e-mail about one site, or every site of one customer."""

    __tablename__ = "alert_subscription"
    __table_args__ = (UniqueConstraint("user_id", "customer_id", "site_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True, description="None: all")
    email: str = Field(max_length=320, description="Where the digest goes")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertWebhook(SQLModel, table=True):
    """An endpoint that receives every alert (or those of one customer), signed with its secret."""

    __tablename__ = "alert_webhook"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    url: str = Field(max_length=2000)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    secret_sealed: str = Field(max_length=1000, description="HMAC key, sealed (SecretBox)")
    active: bool = True
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertEvent(SQLModel, table=True):
    """One digest: a new version's changes, or a scan that did not arrive. Made once per ``key``."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True, description="changes:<site>:<version> | overdue:…")
    kind: str = Field(max_length=20, description="changes | overdue")
    site_id: int = Field(foreign_key="site.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    version: int | None = None
    subject: str = Field(max_length=500)
    text: str = Field(max_length=200_000)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertDelivery(SQLModel, table=True):
    """One digest to one place (a subscriber's mailbox, a webhook): the delivery log."""

    __tablename__ = "alert_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "subscription_id", "webhook_id"),
        Index("ix_alert_delivery_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="alert_event.id", index=True)
    channel: str = Field(max_length=10, description="email | webhook")
    subscription_id: int | None = Field(default=None, foreign_key="alert_subscription.id")
    webhook_id: int | None = Field(default=None, foreign_key="alert_webhook.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    target: str = Field(max_length=2000, description="The address or URL, as shown in the log")
    status: str = Field(
        default="queued", max_length=20, description="queued | retrying | sent | failed | skipped"
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertSchedule(SQLModel, table=True):
    """How often a site's scan is expected; an alert when one is later than that."""

    __tablename__ = "alert_schedule"

    site_id: int = Field(foreign_key="site.id", primary_key=True)
    every_s: int = Field(description="Expected interval between scans, seconds")
    alerted_for: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="The last sighting an overdue alert was sent for"
    )
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShareLink(SQLModel, table=True):
    """A one-time, expiring, password-protected download of one site's deliverables."""

    __tablename__ = "share_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 of the token in the link")
    password_hash: str = Field(max_length=200, description="argon2id")
    site_id: int = Field(foreign_key="site.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    formats: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    recipient: str = Field(max_length=200, description="Who it is for (a name, for the audit)")
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    failed_attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
