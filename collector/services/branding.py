"""The integrator's branding (name, contact, logo, colours): read by every document and the page
header, changed by whoever may ``settings:manage`` (admins), audited field by field.

A logo is an uploaded PNG or JPEG: its type is sniffed from the bytes (the name and declared type
are not trusted), its size limited, its pixels decoded by Pillow with a pixel cap and re-encoded as
a plain PNG (no metadata, nothing but pixels), so what reaches a PDF is an image we wrote.
"""

from __future__ import annotations

import base64
import io
import warnings

from PIL import Image
from pydantic import ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, ensure
from collector.db import queries
from collector.db.deliverable_tables import DeliverableBranding
from collector.documents import Branding
from collector.errors import ApiError
from collector.services import audit
from collector.services.context import Ctx

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4_000_000
LOGO_PX = 600  # stored at most this wide/high: a cover logo, not a poster


def sniff_logo(data: bytes) -> str:
    """'png' or 'jpeg' from the magic bytes, else a 415 refusal saying what is accepted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    raise ApiError(415, "unsupported_media_type", "the logo must be a PNG or JPEG image", field="logo")


def clean_logo(data: bytes) -> bytes:
    """The logo re-encoded as a metadata-free PNG of at most LOGO_PX, or a refusal (413/415/422)."""
    if len(data) > MAX_LOGO_BYTES:
        raise ApiError(
            413, "too_large", f"the logo may be at most {MAX_LOGO_BYTES // 1024} KiB", field="logo"
        )
    sniff_logo(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise ApiError(422, "invalid_image", "the logo has too many pixels", field="logo")
            image.load()
    except ApiError:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken or hostile file
        raise ApiError(422, "invalid_image", "the logo could not be read as an image", field="logo") from exc
    plain = image.convert("RGBA")
    plain.thumbnail((LOGO_PX, LOGO_PX))
    out = io.BytesIO()
    plain.save(out, format="PNG", optimize=True)
    return out.getvalue()


def branding_of(row: DeliverableBranding | None) -> Branding:
    if row is None:
        return Branding()
    logo = None
    if row.logo:
        logo = f"data:image/png;base64,{base64.b64encode(row.logo).decode()}"
    return Branding(integrator_name=row.integrator_name, contact=row.contact, logo_data_uri=logo,
                    primary_colour=row.primary_colour, accent_colour=row.accent_colour,
                    footer_note=row.footer_note)  # fmt: skip


async def branding_row(db: AsyncSession) -> DeliverableBranding | None:
    org_id = await queries.default_organization_id(db)
    if org_id is None:
        return None
    query = select(DeliverableBranding).where(DeliverableBranding.organization_id == org_id)
    return (await db.exec(query)).first()


async def current_branding(db: AsyncSession) -> Branding:
    return branding_of(await branding_row(db))


FIELDS = ("integrator_name", "contact", "footer_note", "primary_colour", "accent_colour")


async def save_branding(
    db: AsyncSession,
    ctx: Ctx,
    values: dict[str, str | None],
    *,
    logo: bytes | None = None,
    remove_logo: bool = False,
    expected_version: int | None = None,
) -> DeliverableBranding:
    """Change the branding; ``logo`` is the uploaded file's bytes (cleaned here). Audited."""
    ensure(ctx.identity, Action.MANAGE_SETTINGS)
    cleaned = {k: (values.get(k) or "").strip() or None for k in FIELDS}
    try:
        checked = Branding(**{k: v for k, v in cleaned.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "branding"
        raise ApiError(422, "invalid_branding", f"{field}: {first['msg']}", field=field) from None
    org = await queries.default_organization(db)
    row = await branding_row(db)
    if row is not None and expected_version is not None and row.version != expected_version:
        raise ApiError(409, "stale_edit", f"the branding was changed by {row.updated_by} in the meantime; "
                       "reload and try again", field="version")  # fmt: skip
    new_logo = clean_logo(logo) if logo else None
    if row is None:
        assert org.id is not None
        row = DeliverableBranding(organization_id=org.id, integrator_name=checked.integrator_name,
                                  primary_colour=checked.primary_colour, accent_colour=checked.accent_colour,
                                  updated_by=ctx.identity.name, version=0)  # fmt: skip
    changes: dict[str, dict[str, str | None]] = {}
    for name in FIELDS:
        after = getattr(checked, name)
        before = getattr(row, name) if row.id is not None else None
        if before != after:
            changes[name] = {"from": before, "to": after}
            setattr(row, name, after)
    if new_logo is not None or (remove_logo and row.logo):
        changes["logo"] = {"from": "set" if row.logo else None, "to": "new image" if new_logo else None}
        row.logo = new_logo
        row.logo_media_type = "image/png" if new_logo else None
    row.updated_by, row.updated_at, row.version = ctx.identity.name, ctx.now, row.version + 1
    db.add(row)
    await db.flush()
    await audit.record(db, ctx, audit.Kind.SETTINGS_UPDATE, target="branding", detail=changes)
    return row
