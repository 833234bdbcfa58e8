"""Tables of the deliverables (migration 0009): the integrator's branding and the handover PDFs
rendered as durable jobs. A rendered PDF lives as a file in the data directory (``handover/``);
the row says whose request it was, its state, and the file's size and digest."""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from collector.db.types import UTCDateTime, utcnow


class DeliverableBranding(SQLModel, table=True):
    """One row per organisation: the name, logo and colours on every document and the page header."""

    __tablename__ = "deliverable_branding"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    integrator_name: str = Field(max_length=200)
    contact: str | None = Field(default=None, max_length=500)
    footer_note: str | None = Field(default=None, max_length=300)
    primary_colour: str = Field(max_length=7)
    accent_colour: str = Field(max_length=7)
    logo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    logo_media_type: str | None = Field(default=None, max_length=50)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class HandoverRender(SQLModel, table=True):
    """A handover PDF asked for as a job: queued → running → done (file) | failed (error)."""

    __tablename__ = "deliverable_render"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    version: int
    status: str = Field(default="queued", max_length=10, description="queued | running | done | failed")
    requested_by: str = Field(max_length=200)
    requested_user_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
