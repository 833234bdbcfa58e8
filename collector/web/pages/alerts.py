"""Alert pages: one's subscriptions; webhook endpoints, expected scan intervals and the delivery log
(admins); a site's share links (admins) and the recipient's password page (public, phone-first)."""

from __future__ import annotations

from aiohttp import web

from collector.errors import ApiError
from collector.http.deliverables import share_url, sources_of
from collector.http.params import int_param
from collector.keys import secret_box_key, sessions_key
from collector.services import alerts as alert_service
from collector.services import share as share_service
from collector.services import sites as site_service
from collector.services.people import list_customers
from collector.throttle import SlowDown
from collector.web.guard import anonymous_ctx, ctx, form_with_csrf
from collector.web.render import done, error_page, render, url

share_throttle_key = web.AppKey("web_share_throttle", SlowDown)  # wrong share-link passwords


# ---------------------------------------------------------------- one's subscriptions


async def _subscriptions(request: web.Request, status: int = 200, error: str = "") -> web.Response:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        rows = await alert_service.subscriptions(db, c)
        sites = await site_service.list_sites(db, c, limit=500)
        customers = await list_customers(db, c)
    return await render(
        request,
        "pages/alerts/subscriptions.html",
        status,
        area="alerts",
        rows=rows,
        sites=sites,
        customers=customers,
        error=error,
    )


async def subscriptions_page(request: web.Request) -> web.Response:
    return await _subscriptions(request)


async def subscribe_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    target = form.get("target", "")
    kind, _, value = target.partition(":")
    try:
        async with request.app[sessions_key]() as db, db.begin():
            await alert_service.subscribe(
                db,
                ctx(request),
                form.get("email", ""),
                site_slug=value if kind == "site" else None,
                customer_id=int_param(value, "customer") if kind == "customer" else None,
            )
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _subscriptions(request, 422, exc.message)
    return await done(
        request, url(request, "web-alerts"), "Subscribed: you will get an e-mail per change digest."
    )


async def unsubscribe_submit(request: web.Request) -> web.Response:
    await form_with_csrf(request)
    sub_id = int_param(request.match_info["subscription"], "subscription")
    async with request.app[sessions_key]() as db, db.begin():
        await alert_service.unsubscribe(db, ctx(request), sub_id)
    return await done(request, url(request, "web-alerts"), "Unsubscribed.")


# ---------------------------------------------------------------- admins: endpoints, schedules, log


async def _admin(request: web.Request, status: int = 200, **extra: object) -> web.Response:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        hooks = await alert_service.webhooks(db, c)
        schedules = await alert_service.schedules(db, c)
        customers = await list_customers(db, c)
        sites = await site_service.list_sites(db, c, limit=500)
    extra.setdefault("error", "")
    extra.setdefault("secret", None)
    return await render(
        request,
        "pages/alerts/admin.html",
        status,
        area="alert-admin",
        hooks=hooks,
        schedules=schedules,
        customers=customers,
        sites=sites,
        **extra,
    )


async def admin_page(request: web.Request) -> web.Response:
    return await _admin(request)


async def webhook_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    customer = form.get("customer_id", "")
    try:
        async with request.app[sessions_key]() as db, db.begin():
            hook, secret = await alert_service.add_webhook(
                db,
                ctx(request),
                request.app[secret_box_key],
                form.get("name", ""),
                form.get("url", ""),
                int_param(customer, "customer_id") if customer else None,
            )
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _admin(request, 422, error=exc.message)
    return await _admin(request, 201, secret=(hook, secret))


async def webhook_remove(request: web.Request) -> web.Response:
    await form_with_csrf(request)
    hook_id = int_param(request.match_info["webhook"], "webhook")
    async with request.app[sessions_key]() as db, db.begin():
        hook = await alert_service.remove_webhook(db, ctx(request), hook_id)
    return await done(request, url(request, "web-alert-admin"), f"Endpoint {hook.name} switched off.")


async def schedule_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    hours = form.get("hours", "").strip()
    try:
        every = round(float(hours) * 3600) if hours else None
    except ValueError:
        return await _admin(request, 422, error="hours: a number, such as 24")
    try:
        async with request.app[sessions_key]() as db, db.begin():
            await alert_service.set_schedule(db, ctx(request), form.get("site", ""), every)
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _admin(request, 422, error=exc.message)
    return await done(request, url(request, "web-alert-admin"), "Expected scan interval saved.")


async def deliveries_page(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        rows = await alert_service.deliveries(db, ctx(request))
    return await render(request, "pages/alerts/deliveries.html", area="alert-admin", rows=rows)


# ---------------------------------------------------------------- share links


async def _share(request: web.Request, status: int = 200, **extra: object) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, customer, links = await share_service.links_of(db, ctx(request), request.match_info["site"])
    extra.setdefault("error", "")
    extra.setdefault("created", None)
    return await render(
        request,
        "pages/alerts/share.html",
        status,
        area="sites",
        site=site,
        customer=customer,
        links=links,
        now=ctx(request).now,
        state_of=share_service.state_of,
        **extra,
    )


async def share_links_page(request: web.Request) -> web.Response:
    return await _share(request)


async def share_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    data = await request.post()
    formats = [v for v in data.getall("formats", []) if isinstance(v, str)]
    try:
        async with request.app[sessions_key]() as db, db.begin():
            link, token = await share_service.create_link(
                db,
                ctx(request),
                request.match_info["site"],
                recipient=form.get("recipient", ""),
                password=form.get("password", ""),
                ttl_h=int_param(form.get("hours", "72"), "hours"),
                formats=formats,
            )
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _share(request, 422, error=exc.message)
    return await _share(request, 201, created=(link, share_url(request, token)))


async def share_open(request: web.Request) -> web.Response:
    c = anonymous_ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        opened = await share_service.find_live(db, request.match_info["token"], c.now)
    if opened is None:
        return await error_page(request, 404, share_service.GONE)
    return await render(request, "pages/alerts/share_open.html", opened=opened, error="")


async def share_download(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    c, token = anonymous_ctx(request), request.match_info["token"]
    try:
        pack = await share_service.use_link(
            request.app[sessions_key],
            c,
            request.app[share_throttle_key],
            sources_of(request.app),
            token,
            form.get("password", ""),
        )
    except ApiError as exc:
        if exc.status == 404:
            return await error_page(request, 404, share_service.GONE)
        async with request.app[sessions_key]() as db, db.begin():
            opened = await share_service.find_live(db, token, c.now)
        if opened is None:
            return await error_page(request, 404, share_service.GONE)
        response = await render(
            request, "pages/alerts/share_open.html", exc.status, opened=opened, error=exc.message
        )
        response.headers.update(exc.headers or {})
        return response
    return web.Response(
        body=pack.body,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{pack.filename}"',
            "Cache-Control": "no-store",
        },
    )
