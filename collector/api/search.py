"""GET /api/v1/search?q=: the same search as the pages' box, scope applied in SQL."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from collector.api.common import respond
from collector.api.guard import ctx_of
from collector.http.params import text_param
from collector.keys import sessions_key
from collector.services import search as search_service


class DeviceHitPublic(BaseModel):
    site_id: str
    site_name: str | None
    customer: str
    device_id: str
    role: str
    vendor: str | None
    model: str | None
    serial: str | None
    mac: str | None
    ip: str | None
    hostname: str | None
    firmware: str | None
    matched_field: str = Field(
        description="mac, serial, ip, hostname, model, vendor, firmware, location, word"
    )
    present: bool = Field(description="False: the site's latest version no longer has this device")
    first_seen_version: int
    last_seen_version: int
    last_seen_at: datetime = Field(description="When the newest version that has the device was last scanned")


class SiteHitPublic(BaseModel):
    site_id: str
    name: str | None
    customer: str
    region: str | None


class NoteHitPublic(BaseModel):
    site_id: str
    what: str
    text: str
    device_id: str | None


class SearchResponse(BaseModel):
    """The term is not echoed: a body holds only what the caller's scope lets it see."""

    devices: list[DeviceHitPublic]
    sites: list[SiteHitPublic]
    notes: list[NoteHitPublic]


async def search(request: web.Request) -> web.Response:
    term = text_param(request.query.get("q"), "q")
    async with request.app[sessions_key]() as db:
        r = await search_service.search(db, ctx_of(request), term)
    return respond(
        SearchResponse(
            devices=[
                DeviceHitPublic(
                    site_id=h.site.slug,
                    site_name=h.site.name,
                    customer=h.customer.name,
                    device_id=h.device.device_id,
                    role=h.device.role,
                    vendor=h.device.vendor,
                    model=h.device.model,
                    serial=h.device.serial,
                    mac=h.device.mac,
                    ip=h.device.ip,
                    hostname=h.device.hostname,
                    firmware=h.device.firmware,
                    matched_field=h.field,
                    present=h.device.present,
                    first_seen_version=h.device.first_seen_version,
                    last_seen_version=h.device.last_seen_version,
                    last_seen_at=h.last_scan_at or h.device.last_seen_at,
                )
                for h in r.devices
            ],
            sites=[
                SiteHitPublic(
                    site_id=h.site.slug, name=h.site.name, customer=h.customer.name, region=h.region
                )
                for h in r.sites
            ],
            notes=[
                NoteHitPublic(site_id=h.site.slug, what=h.what, text=h.text, device_id=h.device_id)
                for h in r.notes
            ],
        )
    )
