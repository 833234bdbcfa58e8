"""The integrator's branding: the admin page (name, contact, logo upload, colours)."""

from __future__ import annotations

from aiohttp import web

from collector.errors import ApiError
from collector.http.params import int_param
from collector.keys import sessions_key
from collector.services import branding as branding_service
from collector.web.guard import ctx, post_with_csrf
from collector.web.render import done, forget_branding, render, url


async def branding_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    async with request.app[sessions_key]() as db:
        row = await branding_service.branding_row(db)
        current = branding_service.branding_of(row)
    return await render(
        request, "pages/admin/branding.html", status=status, area="settings", current=current,
        version=row.version if row else 0, error=error, max_kib=branding_service.MAX_LOGO_BYTES // 1024,
    )  # fmt: skip


async def branding_submit(request: web.Request) -> web.Response:
    form = await post_with_csrf(request)
    text = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("logo")
    logo = None
    if isinstance(upload, web.FileField):
        logo = upload.file.read(branding_service.MAX_LOGO_BYTES + 1) or None
    try:
        async with request.app[sessions_key]() as db, db.begin():
            await branding_service.save_branding(
                db, ctx(request), dict(text), logo=logo, remove_logo=text.get("remove_logo") == "1",
                expected_version=int_param(text.get("version"), "version", default=0, minimum=0) or None,
            )  # fmt: skip
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return await branding_page(request, error=exc.message, status=exc.status)
    forget_branding(request.app)
    return await done(request, url(request, "web-branding"), "Branding saved: new documents use it.")
