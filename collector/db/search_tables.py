"""The search projection: what the scans said about each device, as rows an index can find.

``search_device`` has one row per device identity per site (``Device.id``), with the values of the
latest version that saw it, when it was first and last seen, and whether the latest version still
has it — so a camera that left a site keeps its row and says where and when it was last seen.
``search_term`` holds every normalised value a device was ever seen with (its MAC as 12 hex digits,
serial, IP, host name, model, vendor, firmware and their words), once per device, value and field:
search is a prefix range on one B-tree index (byte order: collation "C" on PostgreSQL), never a
scan of JSON documents. Both are filled at ingest by ``collector.search.index.project_version``.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import UTCDateTime

TERM_CHARS = 128
# Byte order on PostgreSQL, so `term >= 'ab' AND term < 'ac'` is exactly "starts with ab" and uses
# the index whatever the database's collation; SQLite compares bytes anyway.
TermText = String(TERM_CHARS).with_variant(String(TERM_CHARS, collation="C"), "postgresql")


class SearchDevice(SQLModel, table=True):
    __tablename__ = "search_device"
    __table_args__ = (
        UniqueConstraint("site_id", "device_id"),
        Index("ix_search_device_site_present", "site_id", "present"),
        Index("ix_search_device_device_id", "device_id"),  # the same unit at other sites
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    device_id: str = Field(max_length=300, description="The snapshot's Device.id")
    role: str = Field(max_length=20)
    vendor: str | None = Field(default=None, max_length=256)
    model: str | None = Field(default=None, max_length=256)
    serial: str | None = Field(default=None, max_length=256)
    mac: str | None = Field(default=None, max_length=17, description="aa:bb:cc:dd:ee:ff")
    ip: str | None = Field(default=None, max_length=64)
    hostname: str | None = Field(default=None, max_length=256)
    firmware: str | None = Field(default=None, max_length=256)
    location: str | None = Field(default=None, max_length=256)
    first_seen_version: int
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_version: int = Field(description="The newest version that has this device")
    last_seen_at: datetime = Field(sa_type=UTCDateTime, description="When that version arrived")
    present: bool = Field(description="Whether the site's latest version has this device")


class SearchTerm(SQLModel, table=True):
    __tablename__ = "search_term"
    __table_args__ = (
        UniqueConstraint("device_ref", "field", "term"),
        Index("ix_search_term_term", "term"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device_ref: int = Field(
        sa_column=Column(Integer, ForeignKey("search_device.id", ondelete="CASCADE"), nullable=False)
    )
    site_id: int = Field(foreign_key="site.id", description="Denormalised: scope joins skip search_device")
    field: str = Field(max_length=12, description="mac | serial | ip | hostname | model | vendor | ...")
    term: str = Field(sa_column=Column(TermText, nullable=False))
    first_seen_version: int
