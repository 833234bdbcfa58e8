"""The site record people keep beside the scans: attachments, floor plans and pins, the quote, visits.

Files themselves live in a content-addressed blob store (collector/attachments/); these rows hold
what a person said about them and the digests that find them. ``device_id`` is always the snapshot's
device identity (``Device.id``), so a pin or photo follows its device across versions — and shows when
the scan no longer sees it. Every row a person edits carries ``version``: a stale edit is refused.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow

# Money is kept in hundredths, as an integer: exact on SQLite and PostgreSQL alike.
PRICE_SCALE = Decimal("0.01")


class SiteAttachment(SQLModel, table=True):
    """One stored file of a site (or of one device of it): photo, floor plan, spec sheet, quote, ..."""

    __tablename__ = "site_attachment"
    __table_args__ = (Index("ix_site_attachment_site_kind", "site_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    device_id: str | None = Field(default=None, max_length=200, index=True)
    kind: str = Field(max_length=20, description="photo | floor_plan | spec_sheet | quote | wiring | other")
    sha256: str = Field(max_length=64, index=True, description="The stored (cleaned) content")
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    media_type: str = Field(max_length=100, description="As sniffed from the content, never as declared")
    original_name: str = Field(max_length=255, description="Sanitised: no path, no control characters")
    caption: str | None = Field(default=None, max_length=2000)
    width: int | None = Field(default=None, description="Pixels, for images and rendered PDF pages")
    height: int | None = None
    thumbnail_sha256: str | None = Field(default=None, max_length=64)
    preview_sha256: str | None = Field(default=None, max_length=64, description="A PDF's first page, PNG")
    antivirus: str = Field(max_length=200, description="What the antivirus hook said, or that none ran")
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1, description="Every edit of caption/kind/device adds one")


class FloorPlan(SQLModel, table=True):
    """A drawing of one level of a site; its image is an attachment of kind floor_plan."""

    __tablename__ = "floor_plan"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    attachment_id: int = Field(foreign_key="site_attachment.id")
    name: str = Field(max_length=200, description="'Ground floor', 'Yard'")
    level: str | None = Field(default=None, max_length=50, description="'0', 'B1', 'roof'")
    sort_order: int = 0
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class DevicePin(SQLModel, table=True):
    """Where a device is mounted on a plan: x/y as fractions of the image (0..1 from the top left)."""

    __tablename__ = "device_pin"
    __table_args__ = (
        UniqueConstraint("floor_plan_id", "device_id"),
        CheckConstraint("x >= 0 AND x <= 1 AND y >= 0 AND y <= 1", name="ck_device_pin_inside"),
        CheckConstraint("fov_deg IS NULL OR (fov_deg >= 0 AND fov_deg < 360)", name="ck_device_pin_fov"),
    )

    id: int | None = Field(default=None, primary_key=True)
    floor_plan_id: int = Field(foreign_key="floor_plan.id", index=True)
    device_id: str = Field(max_length=200, index=True)
    x: float
    y: float
    mounting_notes: str | None = Field(default=None, max_length=2000)
    height_m: float | None = Field(default=None, description="Mounting height above the floor")
    fov_deg: float | None = Field(default=None, description="Viewing direction, degrees clockwise from up")
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class QuoteLine(SQLModel, table=True):
    """One line of the quote / bill of materials of a site."""

    __tablename__ = "quote_line"
    __table_args__ = (CheckConstraint("quantity >= 0", name="ck_quote_line_quantity"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    position: int = Field(description="Order on the quote")
    part: str | None = Field(default=None, max_length=200, description="Part / article number")
    vendor: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    quantity: int = 1
    unit_price_cents: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True), description="Hundredths; see unit_price"
    )
    currency: str | None = Field(default=None, max_length=3)
    serials: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    notes: str | None = Field(default=None, max_length=2000)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1

    @property
    def unit_price(self) -> Decimal | None:
        return None if self.unit_price_cents is None else Decimal(self.unit_price_cents) * PRICE_SCALE


class ServiceVisit(SQLModel, table=True):
    """A technician's visit to a site: why, what was done, and the scans and photos that go with it."""

    __tablename__ = "service_visit"
    __table_args__ = (Index("ix_service_visit_site_date", "site_id", "visited_on"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    visited_on: date
    technician: str = Field(max_length=200, description="The user name of who was there")
    reason: str = Field(max_length=500)
    work_done: str | None = Field(default=None, max_length=5000)
    # Snapshot version numbers of the site (e.g. the scan taken during the visit).
    version_numbers: list[int] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class ServiceVisitAttachment(SQLModel, table=True):
    """The photos and files of a visit (an attachment may belong to several visits)."""

    __tablename__ = "service_visit_attachment"

    visit_id: int = Field(foreign_key="service_visit.id", primary_key=True)
    attachment_id: int = Field(foreign_key="site_attachment.id", primary_key=True, index=True)
