"""The collector's aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from collector.config import CollectorConfig
from collector.db.migrate import upgrade
from collector.db.session import is_sqlite, make_engine, make_sessionmaker
from collector.ingest import SnapshotCache
from collector.keys import admin_token_key, config_key, engine_key, sessions_key, snapshot_cache_key
from collector.middlewares import errors_middleware
from collector.routes import setup_routes
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
    app.cleanup_ctx.append(database_context)
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
