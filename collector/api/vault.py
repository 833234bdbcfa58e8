"""The vault over the API: entries masked, one value per reveal, an agent's own credentials."""

from __future__ import annotations

from aiohttp import web

from collector.api.common import read_model, respond
from collector.api.guard import ctx_of
from collector.api.schemas import (
    AgentCredentials,
    RevealRequest,
    RevealResponse,
    VaultEntryList,
    VaultEntryPublic,
    VaultEntryRequest,
    VaultHistoryItem,
    VaultHistoryList,
    VaultImportResponse,
)
from collector.db.models import Site
from collector.db.vault_tables import VaultEntry
from collector.http.params import int_param
from collector.keys import sessions_key, vault_keys_key
from collector.services import vault as vault_service
from collector.vault.store import EntryDraft

NO_STORE = {"Cache-Control": "no-store"}  # a revealed value is never kept by a cache


def entry_public(entry: VaultEntry) -> VaultEntryPublic:
    return VaultEntryPublic(
        entry_id=entry.id or 0,
        label=entry.label,
        kind=entry.kind,
        username=entry.username,
        device_id=entry.device_id,
        secret_fields=[f for f in entry.secret_fields.split(",") if f],
        settings=entry.settings,
        notes=entry.notes,
        version=entry.version,
        updated_by=entry.updated_by,
        updated_at=entry.updated_at,
        flag=entry.flag,
    )


def draft_of(body: VaultEntryRequest) -> EntryDraft:
    return EntryDraft(
        label=body.label,
        kind=body.kind,
        username=body.username,
        device_id=body.device_id,
        settings=body.settings,
        secrets=body.secrets,
        notes=body.notes,
    )


async def list_entries(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db, db.begin():
        site, _, entries = await vault_service.site_entries(db, ctx_of(request), request.match_info["site"])
    return respond(VaultEntryList(site_id=site.slug, entries=[entry_public(e) for e in entries]))


async def create_entry(request: web.Request) -> web.Response:
    body = await read_model(request, VaultEntryRequest)
    async with request.app[sessions_key]() as db, db.begin():
        entry = await vault_service.save_entry(
            db, ctx_of(request), request.app[vault_keys_key], request.match_info["site"], draft_of(body)
        )
    return respond(entry_public(entry), 201)


async def update_entry(request: web.Request) -> web.Response:
    body = await read_model(request, VaultEntryRequest)
    entry_id = int_param(request.match_info["entry"], "entry")
    async with request.app[sessions_key]() as db, db.begin():
        entry = await vault_service.save_entry(
            db,
            ctx_of(request),
            request.app[vault_keys_key],
            request.match_info["site"],
            draft_of(body),
            entry_id=entry_id,
            expected_version=body.version,
        )
    return respond(entry_public(entry))


async def reveal(request: web.Request) -> web.Response:
    body = await read_model(request, RevealRequest)
    entry_id = int_param(request.match_info["entry"], "entry")
    ctx, keys, slug = ctx_of(request), request.app[vault_keys_key], request.match_info["site"]
    async with request.app[sessions_key]() as db, db.begin():
        if body.version is None:
            value = await vault_service.reveal(db, ctx, keys, slug, entry_id, body.field)
            _, _, entry = await vault_service.get_entry(db, ctx, slug, entry_id)
            version = entry.version
        else:
            value = await vault_service.reveal_earlier(
                db, ctx, keys, slug, entry_id, body.version, body.field
            )
            version = body.version
    response = respond(RevealResponse(entry_id=entry_id, field=body.field, value=value, version=version))
    response.headers.update(NO_STORE)
    return response


async def entry_history(request: web.Request) -> web.Response:
    entry_id = int_param(request.match_info["entry"], "entry")
    async with request.app[sessions_key]() as db:
        entry, rows = await vault_service.history(db, ctx_of(request), request.match_info["site"], entry_id)
    items = [
        VaultHistoryItem(
            version=h.version, username=h.username, replaced_at=h.replaced_at, replaced_by=h.replaced_by
        )
        for h in rows
    ]
    return respond(VaultHistoryList(entry_id=entry.id or 0, history=items))


async def import_entries(request: web.Request) -> web.Response:
    raw = await request.content.read(vault_service.MAX_IMPORT_BYTES + 1)  # bounded while reading
    async with request.app[sessions_key]() as db, db.begin():
        result = await vault_service.import_entries(
            db,
            ctx_of(request),
            request.app[vault_keys_key],
            request.match_info["site"],
            raw,
            request.content_type,
        )
    return respond(
        VaultImportResponse(
            site_id=request.match_info["site"], created=result.created, updated=result.updated
        )
    )


async def agent_credentials(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    async with request.app[sessions_key]() as db, db.begin():
        sets = await vault_service.agent_credentials(db, ctx, request.app[vault_keys_key])
        site = await db.get(Site, ctx.identity.site_id)
    response = respond(AgentCredentials(site_id=site.slug if site else "", credentials=sets))
    response.headers.update(NO_STORE)
    return response
