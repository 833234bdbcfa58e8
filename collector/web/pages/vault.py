"""The vault pages: a site's entries masked, one tap to reveal (audited) and copy, add, change, import."""

from __future__ import annotations

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, permits
from collector.db import queries
from collector.db.models import Site
from collector.diff import device_label
from collector.errors import ApiError
from collector.http.params import int_param
from collector.ingest import load_snapshot
from collector.keys import sessions_key, snapshot_cache_key, vault_keys_key
from collector.services import vault as vault_service
from collector.vault.store import KINDS, SECRET_FIELDS, EntryDraft
from collector.web.guard import ctx, form_with_csrf
from collector.web.render import done as flash_redirect
from collector.web.render import render, url
from collector.web.vault_cards import FIELD_LABELS
from collector.web.vault_cards import card as _card

NO_STORE = {"Cache-Control": "no-store"}


async def device_names(request: web.Request, db: AsyncSession, site: Site) -> dict[str, str]:
    """Device id → "cam-gate (HIKVISION DS-2CD2T47G2-L)" from the latest version, for the cards."""
    if site.id is None or not site.latest_version:
        return {}
    meta = await queries.version_meta(db, site.id, site.latest_version)
    if meta is None:
        return {}
    snapshot = await load_snapshot(
        db, request.app[snapshot_cache_key], site.id, meta.version, meta.content_hash
    )
    return {d.id: device_label(d) for d in snapshot.devices}


async def vault_page(request: web.Request) -> web.StreamResponse:
    return await _list(request, status=200)


async def _list(request: web.Request, *, status: int, error: str | None = None) -> web.StreamResponse:
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        site, customer, entries = await vault_service.site_entries(db, c, request.match_info["site"])
        names = await device_names(request, db, site)
    return await render(
        request,
        "pages/vault/list.html",
        status=status,
        area="sites",
        site=site,
        customer=customer,
        cards=[_card(e) for e in entries],
        kinds=KINDS,
        secret_fields=SECRET_FIELDS,
        labels=FIELD_LABELS,
        can_edit=permits(c.identity, Action.EDIT_VAULT),
        can_history=permits(c.identity, Action.READ_VAULT_HISTORY),
        names=names,
        error=error,
    )


def _draft(form: dict[str, str]) -> EntryDraft:
    settings = {
        k: form[k].replace(",", " ").split() for k in ("drivers", "vendors") if form.get(k, "").strip()
    }
    return EntryDraft(
        label=form.get("label", "").strip(),
        kind=form.get("kind", "login"),
        username=form.get("username", "").strip() or None,
        device_id=form.get("device_id", "").strip() or None,
        settings=settings,
        secrets={k: form[k] for k in SECRET_FIELDS if form.get(k)},
        notes=form.get("notes", "").strip() or None,
    )


async def entry_submit(request: web.Request) -> web.StreamResponse:
    """Add (no entry in the path) or change (the form's version must be the one shown) an entry."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    entry_id = int_param(request.match_info["entry"], "entry") if "entry" in request.match_info else None
    version = int_param(form.get("version"), "version") if entry_id is not None else None
    try:
        async with request.app[sessions_key]() as db, db.begin():
            saved = await vault_service.save_entry(
                db,
                c,
                request.app[vault_keys_key],
                slug,
                _draft(form),
                entry_id=entry_id,
                expected_version=version,
            )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _list(request, status=exc.status, error=exc.message)
    verb = "added" if entry_id is None else "saved"
    return await flash_redirect(request, url(request, "web-vault", site=slug), f"{saved.label} {verb}")


async def reveal_submit(request: web.Request) -> web.StreamResponse:
    """One value, after the audit entry: a fragment for htmx (the masked cell becomes the value)."""
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    entry_id = int_param(request.match_info["entry"], "entry")
    field = form.get("field", "password")
    async with request.app[sessions_key]() as db, db.begin():
        value = await vault_service.reveal(db, c, request.app[vault_keys_key], slug, entry_id, field)
        _, _, entry = await vault_service.get_entry(db, c, slug, entry_id)
    template = (
        "pages/vault/_revealed.html"
        if request.headers.get("HX-Request") == "true"
        else "pages/vault/revealed.html"
    )
    response = await render(
        request,
        template,
        site_slug=slug,
        entry=entry,
        field=field,
        label=FIELD_LABELS.get(field, field),
        value=value,
    )
    response.headers.update(NO_STORE)
    return response


async def import_submit(request: web.Request) -> web.StreamResponse:
    form = await form_with_csrf(request)
    c, slug = ctx(request), request.match_info["site"]
    posted = await request.post()
    upload = posted.get("file")
    raw: bytes = b""
    content_type = "text/csv"
    if isinstance(upload, web.FileField) and upload.filename:
        raw = upload.file.read(vault_service.MAX_IMPORT_BYTES + 1)
        name = upload.filename.lower()
        content_type = "application/yaml" if name.endswith((".yaml", ".yml")) else "text/csv"
    elif form.get("text", "").strip():
        raw = form["text"].encode()
        content_type = "application/yaml" if form["text"].lstrip().startswith("credentials") else "text/csv"
    try:
        async with request.app[sessions_key]() as db, db.begin():
            result = await vault_service.import_entries(
                db, c, request.app[vault_keys_key], slug, raw, content_type
            )
    except ApiError as exc:
        if exc.status not in (413, 415, 422):
            raise
        return await _list(request, status=exc.status, error=exc.message)
    done = f"imported: {result.created} added, {result.updated} changed"
    return await flash_redirect(request, url(request, "web-vault", site=slug), done)


async def history_page(request: web.Request) -> web.StreamResponse:
    c, slug = ctx(request), request.match_info["site"]
    entry_id = int_param(request.match_info["entry"], "entry")
    async with request.app[sessions_key]() as db:
        entry, rows = await vault_service.history(db, c, slug, entry_id)
    return await render(
        request, "pages/vault/history.html", area="sites", site_slug=slug, entry=entry, rows=rows
    )
