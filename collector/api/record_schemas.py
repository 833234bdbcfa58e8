"""Bodies of the site-record API (attachments, visits); also the source of their OpenAPI schemas."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from collector.api.schemas import Body, StoredText


class AttachmentPublic(BaseModel):
    attachment_id: int
    kind: str = Field(description="photo | floor_plan | spec_sheet | quote | wiring | other")
    device_id: str | None
    name: str = Field(description="The uploaded name, sanitised")
    media_type: str = Field(description="As sniffed from the content")
    size: int
    width: int | None
    height: int | None
    caption: str | None
    antivirus: str
    uploaded_by: str
    uploaded_at: datetime
    download: str = Field(description="Path of the permission-checked download")
    thumbnail: str | None = Field(description="Path of the 320 px JPEG thumbnail (images and plans)")


class AttachmentList(BaseModel):
    site_id: str
    attachments: list[AttachmentPublic]


class VisitRequest(Body):
    visited_on: date
    technician: StoredText = Field(min_length=1, max_length=200)
    reason: StoredText = Field(min_length=1, max_length=500)
    work_done: StoredText | None = Field(default=None, max_length=5000)


class VisitPublic(BaseModel):
    visit_id: int
    visited_on: date
    technician: str
    reason: str
    work_done: str | None
    versions: list[int] = Field(description="Scans taken during the visit")
    created_by: str
    created_at: datetime


class VisitList(BaseModel):
    site_id: str
    visits: list[VisitPublic]
    last_visit: date | None
