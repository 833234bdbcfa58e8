"""Share links: an admin hands a customer without an account one site's deliverables, once.

The link carries a random token (only its sha256 is stored); the password is argon2id-hashed and
told to the recipient another way (a phone call). Whoever opens the link and gives the password gets
one ZIP of the chosen deliverables (handover PDF, XLSX, JSON), built by the same export service as
the customer's own downloads, as that customer (so no passwords: secrets are never in a customer's
documents). Then the link is dead; it also dies at its expiry, after ``MAX_FAILURES`` wrong
passwords, and wrong passwords slow down (a doubling wait per link and per client address).
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, desc, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, share_link_identity
from collector.db.alert_tables import ShareLink
from collector.db.models import Customer, Site
from collector.errors import ApiError, not_found
from collector.passwords import (
    PasswordRejected,
    check_new_password,
    hash_password_async,
    verify_password_async,
)
from collector.services import audit
from collector.services import exports as export_service
from collector.services.context import Ctx
from collector.services.exports import Format, Sources
from collector.services.sites import find_site
from collector.throttle import SlowDown
from collector.tokens import secret_hash

SHAREABLE = (Format.PDF, Format.XLSX, Format.JSON)
MAX_FAILURES = 10
MAX_TTL_H = 30 * 24
GONE = "this link has expired or was already used; ask for a new one"


def state_of(link: ShareLink, now: datetime) -> str:
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    return "live"


def parse_formats(values: list[str]) -> list[str]:
    chosen: list[str] = [str(f.value) for f in SHAREABLE if f.value in {v.lower() for v in values}]
    if not chosen:
        raise ApiError(422, "invalid_request", "formats: one or more of pdf, xlsx, json", field="formats")
    return chosen


async def create_link(
    db: AsyncSession, ctx: Ctx, slug: str, *, recipient: str, password: str, ttl_h: int, formats: list[str]
) -> tuple[ShareLink, str]:
    """A new link (its token is returned once, never stored)."""
    site, customer = await find_site(db, ctx, slug, Action.SHARE_SITE)
    assert site.id is not None and customer.id is not None
    recipient = recipient.strip()[:200]
    if not recipient:
        raise ApiError(422, "invalid_request", "recipient: who the link is for", field="recipient")
    if not 1 <= ttl_h <= MAX_TTL_H:
        raise ApiError(422, "invalid_request", f"hours: 1 to {MAX_TTL_H}", field="hours")
    try:
        check_new_password(password, recipient)
    except PasswordRejected as exc:
        raise ApiError(422, "invalid_request", f"password: {exc}", field="password") from None
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        token_hash=secret_hash(token),
        password_hash=await hash_password_async(password),
        site_id=site.id,
        customer_id=customer.id,
        formats=parse_formats(formats),
        recipient=recipient,
        created_by=ctx.identity.name,
        created_at=ctx.now,
        expires_at=ctx.now + timedelta(hours=ttl_h),
    )
    db.add(link)
    await db.flush()
    await audit.record(
        db,
        ctx,
        audit.Kind.SHARE_CREATE,
        target=f"site {site.slug} for {recipient}",
        customer_id=customer.id,
        site_id=site.id,
        detail={"link": link.id, "formats": link.formats, "hours": ttl_h},
    )
    return link, token


async def links_of(db: AsyncSession, ctx: Ctx, slug: str) -> tuple[Site, Customer, list[ShareLink]]:
    site, customer = await find_site(db, ctx, slug, Action.SHARE_SITE)
    rows = await db.exec(
        select(ShareLink).where(ShareLink.site_id == site.id).order_by(desc(col(ShareLink.id)))
    )
    return site, customer, list(rows.all())


@dataclass(frozen=True)
class Opened:
    link: ShareLink
    site: Site
    customer: Customer


async def find_live(db: AsyncSession, token: str, now: datetime) -> Opened | None:
    """The link a token names, while it still works (else None: the same answer for all reasons)."""
    link = (await db.exec(select(ShareLink).where(ShareLink.token_hash == secret_hash(token)))).first()
    if link is None or state_of(link, now) != "live":
        return None
    site = await db.get(Site, link.site_id)
    customer = await db.get(Customer, link.customer_id)
    if site is None or customer is None or customer.disabled_at is not None:
        return None
    return Opened(link, site, customer)


@dataclass(frozen=True)
class Pack:
    body: bytes
    filename: str
    files: tuple[str, ...]


async def use_link(
    sessions: Callable[[], Any], ctx: Ctx, throttle: SlowDown, sources: Sources, token: str, password: str
) -> Pack:
    """Check the password, build the ZIP, then claim the link (one claim wins); audited either way."""
    keys = (f"share:{secret_hash(token)[:16]}", f"share-client:{ctx.client}")
    wait = max(throttle.wait(k) for k in keys)
    if wait > 0:
        raise ApiError(
            429,
            "too_many_requests",
            f"too many tries; wait {int(wait) + 1} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    async with sessions() as db, db.begin():
        opened = await find_live(db, token, ctx.now)
        if opened is None:
            raise not_found("share link")
        link = opened.link
        right = await verify_password_async(link.password_hash, password)
        if not right:
            for key in keys:
                throttle.failure(key)
            link.failed_attempts += 1
            if link.failed_attempts >= MAX_FAILURES:
                link.revoked_at = ctx.now
            db.add(link)
            await audit.record(
                db,
                ctx,
                audit.Kind.SHARE_USE,
                target=f"site {opened.site.slug} for {link.recipient}",
                customer_id=link.customer_id,
                site_id=link.site_id,
                outcome="refused",
                detail={"link": link.id, "why": "wrong password", "failures": link.failed_attempts},
            )
    if not right:  # the failure is committed (counted, audited) before the answer
        raise ApiError(401, "wrong_password", "the password is not right")
    for key in keys:
        throttle.success(key)
    as_customer = Ctx(share_link_identity(link.id or 0, link.customer_id), ctx.client, None, ctx.now)
    buffer = io.BytesIO()
    names: list[str] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for fmt in link.formats:
            export = await export_service.export_site(
                sessions, as_customer, sources, opened.site.slug, Format(fmt), via="share-link"
            )
            archive.writestr(export.filename, export.body)
            names.append(export.filename)
    async with sessions() as db, db.begin():
        claimed = await db.exec(
            update(ShareLink)
            .where(col(ShareLink.id) == link.id, col(ShareLink.used_at).is_(None))
            .values(used_at=ctx.now)
        )
        if claimed.rowcount != 1:
            raise not_found("share link")
        await audit.record(
            db,
            ctx,
            audit.Kind.SHARE_USE,
            target=f"site {opened.site.slug} for {link.recipient}",
            customer_id=link.customer_id,
            site_id=link.site_id,
            detail={"link": link.id, "files": names},
        )
    return Pack(buffer.getvalue(), f"{opened.site.slug}-handover.zip", tuple(names))
