"""The device page: everything known about one device of a site (collector.services.devices)."""

from __future__ import annotations

from aiohttp import web

from collector.auth import Action, permits
from collector.http.params import text_param
from collector.keys import sessions_key, snapshot_cache_key
from collector.services import devices as device_service
from collector.services.sites import resource_of
from collector.web.guard import ctx
from collector.web.record import build_record
from collector.web.render import render
from collector.web.vault_cards import card


async def device_page(request: web.Request) -> web.Response:
    c = ctx(request)
    device_id = text_param(request.query.get("id", ""), "id", max_length=300)
    async with request.app[sessions_key]() as db, db.begin():
        rec = await device_service.device_record(
            db, c, request.app[snapshot_cache_key], request.match_info["site"], device_id
        )
    view = build_record(rec.snapshot)
    row = next(r for r in view.devices if r.id == rec.device.id)
    channels = [  # the recorder channels that record this camera
        (rv, ch)
        for rv in view.recorders
        for ch in rv.channels
        if ch.camera is not None and ch.camera.id == rec.device.id
    ]
    port = None
    if rec.device.attachment is not None:
        switch = next((s for s in view.switches if s.id == rec.device.attachment.switch_id), None)
        port = (
            next((p for p in switch.ports if p.name == rec.device.attachment.port), None) if switch else None
        )
    resource = resource_of(rec.site, rec.customer)
    return await render(
        request, "pages/devices/device.html", area="sites", rec=rec, d=rec.device, row=row, channels=channels,
        port=port, recorder=next((rv for rv in view.recorders if rv.id == rec.device.id), None),
        switch=next((s for s in view.switches if s.id == rec.device.id), None),
        site=rec.site, customer=rec.customer, cards=[card(e) for e in rec.vault or []],
        can_edit=False, can_history=permits(c.identity, Action.READ_VAULT_HISTORY, resource),
        names=view.names,
    )  # fmt: skip
