"""Floor plans and pins in the database: every pin edit carries the version it was made from."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.record_tables import DevicePin, FloorPlan, SiteAttachment
from collector.db.types import utcnow
from collector.record.errors import Invalid, NotFound, StaleEdit
from collector.record.rows import versioned_update

MAX_HEIGHT_M = 100.0


@dataclass(frozen=True)
class PinDraft:
    """Where a person put a device: x, y as fractions of the plan image (0..1 from the top left)."""

    device_id: str
    x: float
    y: float
    mounting_notes: str | None = None
    height_m: float | None = None
    fov_deg: float | None = None

    def checked(self) -> PinDraft:
        """The draft with the direction normalised to 0..360; raises ``Invalid`` naming a bad field."""
        if not self.device_id or len(self.device_id) > 200:
            raise Invalid("device_id", "a pin needs the device's id (at most 200 characters)")
        for name, value in (("x", self.x), ("y", self.y)):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise Invalid(name, f"{name} must be between 0 and 1 (a fraction of the plan)")
        if self.height_m is not None and not (
            math.isfinite(self.height_m) and 0 <= self.height_m <= MAX_HEIGHT_M
        ):
            raise Invalid("height_m", f"mounting height must be between 0 and {MAX_HEIGHT_M:.0f} m")
        fov = self.fov_deg
        if fov is not None:
            if not math.isfinite(fov):
                raise Invalid("fov_deg", "the viewing direction must be a number of degrees")
            fov = fov % 360.0
        notes = (self.mounting_notes or "").strip() or None
        if notes is not None and len(notes) > 2000:
            raise Invalid("mounting_notes", "mounting notes are limited to 2000 characters")
        return PinDraft(self.device_id, self.x, self.y, notes, self.height_m, fov)


async def add_floor_plan(
    session: AsyncSession,
    *,
    site_id: int,
    attachment_id: int,
    name: str,
    level: str | None,
    user: str,
    now: datetime | None = None,
) -> FloorPlan:
    attachment = await session.get(SiteAttachment, attachment_id)
    if attachment is None or attachment.site_id != site_id:
        raise NotFound("that file is not an attachment of this site")
    if attachment.kind != "floor_plan":
        raise Invalid("attachment_id", "a floor plan needs a file uploaded as a floor plan")
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("name", "a floor plan needs a name (at most 200 characters)")
    taken = await session.exec(
        select(FloorPlan.id).where(FloorPlan.site_id == site_id, FloorPlan.name == name)
    )
    if taken.first() is not None:
        raise Invalid("name", f"this site already has a floor plan named {name!r}")
    plan = FloorPlan(
        site_id=site_id, attachment_id=attachment_id, name=name, level=(level or "").strip() or None,
        updated_by=user, updated_at=now or utcnow(),
    )  # fmt: skip
    session.add(plan)
    await session.flush()
    return plan


async def site_plans(session: AsyncSession, site_id: int) -> list[FloorPlan]:
    rows = await session.exec(
        select(FloorPlan)
        .where(FloorPlan.site_id == site_id)
        .order_by(col(FloorPlan.sort_order), col(FloorPlan.id))
    )
    return list(rows.all())


async def site_pins(session: AsyncSession, site_id: int) -> list[DevicePin]:
    """Every pin on every plan of the site (for devices_to_place and pin_flags)."""
    rows = await session.exec(
        select(DevicePin)
        .join(FloorPlan, col(FloorPlan.id) == col(DevicePin.floor_plan_id))
        .where(FloorPlan.site_id == site_id)
        .order_by(col(DevicePin.floor_plan_id), col(DevicePin.device_id))
    )
    return list(rows.all())


async def save_pin(
    session: AsyncSession,
    *,
    floor_plan_id: int,
    draft: PinDraft,
    user: str,
    expected_version: int | None,
    now: datetime | None = None,
) -> DevicePin:
    """Place a device on a plan (``expected_version`` None) or move its pin (the version it was read at).

    A device already placed on another plan of the site moves here. Stale edits raise ``StaleEdit``.
    """
    draft = draft.checked()
    plan = await session.get(FloorPlan, floor_plan_id)
    if plan is None:
        raise NotFound("floor plan not found")
    when = now or utcnow()
    values = {k: v for k, v in asdict(draft).items() if k != "device_id"}
    existing = (
        await session.exec(
            select(DevicePin)
            .join(FloorPlan, col(FloorPlan.id) == col(DevicePin.floor_plan_id))
            .where(FloorPlan.site_id == plan.site_id, DevicePin.device_id == draft.device_id)
        )
    ).first()
    if existing is None:
        if expected_version is not None:
            raise StaleEdit("this pin was removed after you opened the plan; reload and place it again")
        pin = DevicePin(
            floor_plan_id=floor_plan_id, device_id=draft.device_id, updated_by=user, updated_at=when, **values
        )
        session.add(pin)
        await session.flush()
        return pin
    if expected_version is None:
        raise StaleEdit(
            f"{draft.device_id} was placed by {existing.updated_by} after you opened the plan; reload"
        )
    assert existing.id is not None
    values.update(floor_plan_id=floor_plan_id, updated_by=user, updated_at=when)
    return await versioned_update(session, DevicePin, existing.id, expected_version, values, what="this pin")


async def repoint_pin(
    session: AsyncSession,
    *,
    pin_id: int,
    device_id: str,
    user: str,
    expected_version: int,
    now: datetime | None = None,
) -> DevicePin:
    """Hand a pin to another device (the unit that replaced the one it showed)."""
    if not device_id or len(device_id) > 200:
        raise Invalid("device_id", "a pin needs the device's id (at most 200 characters)")
    values = {"device_id": device_id, "updated_by": user, "updated_at": now or utcnow()}
    return await versioned_update(session, DevicePin, pin_id, expected_version, values, what="this pin")


async def remove_pin(session: AsyncSession, *, pin_id: int, expected_version: int) -> None:
    result = await session.exec(
        delete(DevicePin).where(col(DevicePin.id) == pin_id, col(DevicePin.version) == expected_version)
    )
    if getattr(result, "rowcount", 0) != 1:
        if await session.get(DevicePin, pin_id) is None:
            raise NotFound("pin not found (removed meanwhile?)")
        raise StaleEdit("this pin was changed after you opened the plan; reload and retry")
