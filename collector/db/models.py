"""The collector's tables (SQLModel), with the Base / Table / Public split where an API shows them.

Organization (tenant) → Region → Customer → Site → SnapshotVersion (+ Baseline history). Agents enrol
for one site with a one-time EnrolmentCode and push with their own token. Secrets (agent tokens,
enrolment codes, API tokens, session and device ids, reset links) are stored only as sha256 hashes,
passwords as argon2 hashes, TOTP seeds encrypted. IngestRequest makes a retried push harmless.

People: User (one role, a scope of regions or customers, or all), UserScope (the scope's rows),
UserSession (server-side, so logout and revocation are real), RegisteredDevice, ApiToken,
PasswordReset, RolePolicy (what a role must have to sign in) and AuditEvent (append-only: the
migration adds triggers that refuse UPDATE and DELETE on both databases).

No relationships are declared on purpose: lazy loading does not work in async code, and every
query here names the join it needs.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Region(SQLModel, table=True):
    """An area of the integrator's business: technicians and support are often scoped to one."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Customer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SiteBase(SQLModel):
    slug: str = Field(max_length=200, description="The site_id agents put in their snapshots")
    name: str | None = Field(default=None, max_length=200)
    latest_version: int = Field(default=0, description="Highest version number stored (0 = none yet)")
    baseline_version: int | None = Field(default=None, description="The approved version, if any")


class Site(SiteBase, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Touched by every ingest as its first statement: that row lock serializes ingests per site.
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Bumped by every edit of the site's record (a baseline approval, ...): an edit made from an
    # older revision is refused instead of silently overwriting a colleague's.
    revision: int = Field(default=0)


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 of the bearer token")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EnrolmentCode(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    code_hash: str = Field(max_length=64, unique=True, description="sha256 of the normalised code")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")


class SnapshotVersionBase(SQLModel):
    version: int = Field(description="1, 2, 3, ... per site")
    content_hash: str = Field(max_length=64, index=True, description="sha256 of the significant content")
    schema_version: int
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_last_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_count: int = Field(default=1, description="Scans that produced this same content in a row")
    scan_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scan_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    device_count: int = 0
    problem_count: int = 0
    diff_against_kind: str | None = Field(default=None, max_length=20, description="baseline | previous")
    diff_against_version: int | None = None
    diff_summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonDocument, nullable=True))


class SnapshotVersion(SnapshotVersionBase, table=True):
    __tablename__ = "snapshot_version"
    __table_args__ = (UniqueConstraint("site_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    # The snapshot document, zlib-compressed JSON: encode/decode only in collector/db/storage.py,
    # read only through collector/db/queries.py (version_document, version_snapshot).
    document: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # sha256 of the latest request body that produced this version (the same bytes again skip parsing).
    body_digest: str | None = Field(default=None, max_length=64)
    # collector/hashing.py:fingerprint of the latest snapshot seen as this version ("seen again" test).
    fingerprint: str | None = Field(default=None, max_length=64)
    # Per device id missing against the reference: consecutive scans absent when this version arrived.
    absent_streaks: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonDocument, nullable=False)
    )


class BaselineBase(SQLModel):
    version: int
    approved_by: str = Field(max_length=200)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=4000)


class Baseline(BaselineBase, table=True):
    """Approval history: the newest row of a site is its current baseline (also in Site.baseline_version)."""

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)


class IngestRequest(SQLModel, table=True):
    """One accepted push: replaying the same key and body returns the recorded answer."""

    __tablename__ = "ingest_request"
    __table_args__ = (UniqueConstraint("site_id", "idempotency_key", "body_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    idempotency_key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64, description="sha256 of the decoded request body")
    version: int
    created: bool = Field(description="Whether this request created the version")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---------------------------------------------------------------- people


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=100, description="The sign-in name")
    full_name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=20, description="admin | technician | support | customer")
    scope: str = Field(default="all", max_length=20, description="all | regions | customers")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    customer_admin: bool = Field(default=False, description="A customer's own admin: reads its audit")
    vault_granted: bool = Field(default=False, description="A customer's admin may reveal its own passwords")
    password_hash: str | None = Field(default=None, max_length=200, description="argon2id")
    totp_secret: str | None = Field(default=None, max_length=500, description="Encrypted TOTP seed")
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None, description="30 s step of the last code used: no replay")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revision: int = Field(default=0, description="Bumped by every edit: stale edits are refused")


class UserScope(SQLModel, table=True):
    """One region or one customer a user may see (the user's scope says which kind counts)."""

    __tablename__ = "user_scope"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)


class RegisteredDevice(SQLModel, table=True):
    """A browser an admin approved for a user: pending → approved → (revoked)."""

    __tablename__ = "registered_device"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 of the device cookie")
    label: str = Field(max_length=300, description="What the browser said it is, at registration")
    status: str = Field(default="pending", max_length=20, description="pending | approved | revoked")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_from: str | None = Field(default=None, max_length=100)
    approved_by: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries only the random id; this row says whether it still counts."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, description="sha256 of the session id")
    device_id: int | None = Field(default=None, foreign_key="registered_device.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_why: str | None = Field(default=None, max_length=50)
    client: str | None = Field(default=None, max_length=100)
    user_agent: str | None = Field(default=None, max_length=300)


class ApiToken(SQLModel, table=True):
    """A personal API token: the user's own permissions, shown once, stored as a hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=20, description="The token's first characters, to tell tokens apart")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PasswordReset(SQLModel, table=True):
    """A one-time link an admin issued: spent on first use, expires."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RolePolicy(SQLModel, table=True):
    """What a role needs to sign in: a second factor, a registered device."""

    __tablename__ = "role_policy"

    role: str = Field(primary_key=True, max_length=20)
    require_totp: bool = False
    require_device: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, max_length=100)


class AuditEventBase(SQLModel):
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=50, index=True, description="e.g. signin.failure, baseline.approve")
    outcome: str = Field(default="ok", max_length=20, description="ok | refused | failed")
    actor: str = Field(max_length=100, description="User name, agent name, or admin-token")
    actor_kind: str = Field(max_length=20, description="user | agent | admin-token | anonymous")
    actor_user_id: int | None = Field(default=None, index=True)
    client: str | None = Field(default=None, max_length=100, description="The client address")
    device_id: int | None = None
    target: str | None = Field(default=None, max_length=300, description="What it was done to")
    customer_id: int | None = Field(default=None, index=True)
    site_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))


class AuditEvent(AuditEventBase, table=True):
    """Append-only; deliberately no foreign keys, so removing a user or customer keeps its history."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)


class RefusedPush(SQLModel, table=True):
    """A push the collector refused (4xx) from an enrolled agent: what the office sees when a site's
    agent keeps sending something it cannot take (collector.refusals keeps the newest per site)."""

    __tablename__ = "refused_push"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: int
    code: str = Field(max_length=64)
    field: str | None = Field(default=None, max_length=300, description="The field the refusal names")
    message: str = Field(max_length=1000)
