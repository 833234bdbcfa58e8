"""POST /api/v1/snapshots: an agent pushes a scan of its site."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.exc import IntegrityError, OperationalError

from collector import refusals
from collector.alerts import fanout
from collector.alerts.tasks import after_ingest
from collector.api.common import now, respond, token_header
from collector.api.guard import ctx_of
from collector.auth import Action, Identity, Resource, permits
from collector.db import queries
from collector.errors import ApiError, forbidden
from collector.http.caller import IDENTITY
from collector.ingest import (
    IngestResult,
    body_hash,
    decode_body,
    ingest,
    ingest_known_body,
    parse_snapshot,
    too_large,
)
from collector.keys import config_key, sessions_key, snapshot_cache_key
from collector.services import audit
from collector.vault import store as vault_store
from drivers.schema import Snapshot

IDEMPOTENCY_HEADER = "Idempotency-Key"
_CHUNK = 64 * 1024
_ATTEMPTS = 3


async def read_bounded(request: web.Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` bytes without buffering it all."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    buffer = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        buffer += chunk
        if len(buffer) > limit:
            raise too_large(limit)
    return bytes(buffer)


async def push_snapshot(request: web.Request) -> web.Response:
    identity = request[IDENTITY]
    try:
        return await _push(request, identity)
    except ApiError as exc:
        if identity.site_id is not None and 400 <= exc.status < 500:  # the site's office should see it
            await refusals.remember(
                request.app[sessions_key],
                site_id=identity.site_id,
                agent_id=identity.agent_id,
                error=exc,
                now=now(),
            )
        raise


async def _push(request: web.Request, identity: Identity) -> web.Response:
    config = request.app[config_key]
    key = token_header(request, IDEMPOTENCY_HEADER)

    raw = await read_bounded(request, config.max_upload_bytes)
    body = decode_body(raw, request.headers.get("Content-Encoding"), config.max_snapshot_bytes)
    if identity.site_id is None:
        raise forbidden("only an agent enrolled for a site may push snapshots")
    digest = body_hash(body)
    known = await _store_known(request, identity, digest, key)
    if known is not None:  # the very bytes of the latest version: nothing to parse
        return respond(known.body(), status=200)
    # Validating a large snapshot takes a while: keep the event loop free for other requests.
    snapshot = (
        await asyncio.to_thread(parse_snapshot, body) if len(body) > 256 * 1024 else parse_snapshot(body)
    )

    for attempt in range(1, _ATTEMPTS + 1):
        try:
            result, notify = await _store(request, identity, snapshot, digest, key)
            break
        except (IntegrityError, OperationalError) as exc:
            # Two writers raced past each other (another instance, a busy SQLite file): the
            # transaction rolled back whole, so trying again is safe.
            if attempt == _ATTEMPTS or not _transient(exc):
                raise ApiError(
                    503, "busy", "the collector is busy; retry later", headers={"Retry-After": "5"}
                ) from exc
            await asyncio.sleep(0.05 * attempt)
    # Committed: alerts are a job, never awaited here, and only queued when someone would get one.
    if result.created and notify and identity.site_id is not None:
        await after_ingest(request.app, identity.site_id, result.version)
    return respond(result.body(), status=201 if result.created else 200)


def _transient(exc: IntegrityError | OperationalError) -> bool:
    return isinstance(exc, IntegrityError) or "locked" in str(exc) or "deadlock" in str(exc)


async def _store_known(
    request: web.Request, identity: Identity, digest: str, key: str | None
) -> IngestResult | None:
    """Seen again by the body's digest alone, or None (then the body is parsed). A body that is not
    the latest's costs one indexed read: the site and the permission are looked at only on a match."""
    assert identity.site_id is not None
    async with request.app[sessions_key]() as session, session.begin():
        if await queries.latest_body_digest(session, identity.site_id) != digest:
            await session.rollback()
            return None
        site = await queries.get_site(session, identity.site_id)
        if not permits(
            identity, Action.PUSH_SNAPSHOT, Resource(customer_id=site.customer_id, site_id=site.id)
        ):
            return None  # the full path refuses it, with its message
        result = await ingest_known_body(
            session, site_id=identity.site_id, agent_id=identity.agent_id, body_digest=digest,
            idempotency_key=key, now=now(),
        )  # fmt: skip
        if result is None:
            await session.rollback()
        return result


async def _store(
    request: web.Request, identity: Identity, snapshot: Snapshot, digest: str, key: str | None
) -> tuple[IngestResult, bool]:
    """The ingest, and whether anyone subscribes to this site's alerts (only asked for a new version)."""
    config = request.app[config_key]
    assert identity.site_id is not None
    async with request.app[sessions_key]() as session, session.begin():
        site = await queries.get_site(session, identity.site_id)
        if snapshot.site.site_id != site.slug or not permits(
            identity, Action.PUSH_SNAPSHOT, Resource(customer_id=site.customer_id, site_id=site.id)
        ):
            raise forbidden(
                # The other site id is not repeated: this message is kept on the agent's own site page,
                # where people who may not see that other site read it.
                f"this agent is enrolled for site {site.slug!r} and may not push another site's snapshot"
            )
        result = await ingest(
            session,
            site_id=identity.site_id,
            agent_id=identity.agent_id,
            snapshot=snapshot,
            body_digest=digest,
            idempotency_key=key,
            now=now(),
            removed_after=config.removed_after_scans,
            cache=request.app[snapshot_cache_key],
        )
        if result.replaced:  # the vault entries of swapped-out devices may no longer fit
            await vault_store.flag_replaced(session, site.id or 0, result.replaced)
        notify = False
        if result.created:  # a new version is a write to the customer's record
            await audit.record(
                session, ctx_of(request), audit.Kind.SNAPSHOT_PUSH, target=f"site {site.slug}",
                customer_id=site.customer_id, site_id=site.id, detail={"version": result.version},
            )  # fmt: skip
            notify = await fanout.has_recipients(session, site)
        return result, notify
