"""The collector's aiohttp application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from collector.alerts.tasks import overdue_ticker
from collector.attachments.intake import sweep_staging
from collector.attachments.storage import FilesystemStore
from collector.attachments.upload import UploadPolicy
from collector.config import CollectorConfig
from collector.db.migrate import upgrade
from collector.db.session import is_sqlite, make_engine, make_sessionmaker
from collector.ingest import SnapshotCache
from collector.jobs.queue import jobs_context
from collector.keys import (
    admin_token_key,
    api_auth_throttle_key,
    api_rate_key,
    attachment_store_key,
    config_key,
    engine_key,
    secret_box_key,
    sessions_key,
    snapshot_cache_key,
    upload_policy_key,
    vault_keys_key,
)
from collector.middlewares import errors_middleware
from collector.routes import setup_routes
from collector.secretbox import SECRETS_KEY_FILE, SecretBox, load_or_create_key
from collector.throttle import RateLimit, SlowDown
from collector.vault.keyring import KeyringSource
from collector.vault.store import VaultKeys
from collector.web import setup_web

log = logging.getLogger("asbuilt.collector")


def create_app(config: CollectorConfig) -> web.Application:
    app = web.Application(
        middlewares=[errors_middleware],
        client_max_size=config.max_upload_bytes,
        # Snapshot bodies are gunzipped by us, with a bound (collector.ingest.decode_body).
        handler_args={"auto_decompress": False},
    )
    app[config_key] = config
    app[admin_token_key] = config.resolve_admin_token()
    app[snapshot_cache_key] = SnapshotCache()
    app[secret_box_key] = SecretBox(load_or_create_key(config.data_dir, SECRETS_KEY_FILE))
    # Unknown bearer tokens: 10 free per client address, then a doubling wait up to 30 s.
    app[api_auth_throttle_key] = SlowDown(free=10, base_s=1.0, max_s=30.0)
    app[api_rate_key] = RateLimit(rate_per_s=config.api_rate_per_s, burst=config.api_burst)
    app[vault_keys_key] = VaultKeys(KeyringSource.for_config(config))
    app[attachment_store_key] = store = FilesystemStore.in_data_dir(config.data_dir)
    app[upload_policy_key] = UploadPolicy.from_env(os.environ)
    if store.staging_dir.is_dir():
        sweep_staging(store.staging_dir)  # what a crash mid-upload left behind
    app.cleanup_ctx.append(database_context)
    app.cleanup_ctx.append(jobs_context)  # after the database: its worker needs the sessions
    app.cleanup_ctx.append(overdue_ticker)  # after the jobs: it queues the overdue-scan check
    setup_routes(app)
    setup_web(app)
    return app


async def database_context(app: web.Application) -> AsyncIterator[None]:
    config = app[config_key]
    if is_sqlite(config.db_url):
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(config.db_url)
    try:
        if config.migrate_on_start:
            await upgrade(engine)
        app[engine_key] = engine
        app[sessions_key] = make_sessionmaker(engine)
        yield
    finally:
        await engine.dispose()
