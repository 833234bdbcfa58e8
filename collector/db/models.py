"""The collector's tables (SQLModel), with the Base / Table / Public split where an API shows them.

Organization (tenant) → Customer → Site → SnapshotVersion (+ Baseline history). Agents enrol for
one site with a one-time EnrolmentCode and push with their own token. Secrets (agent tokens,
enrolment codes) are stored only as sha256 hashes. IngestRequest makes a retried push harmless.

No relationships are declared on purpose: lazy loading does not work in async code, and every
query here names the join it needs.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Customer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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
    snapshot: dict[str, Any] = Field(sa_column=Column(JsonDocument, nullable=False))
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
