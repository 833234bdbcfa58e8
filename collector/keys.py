"""Typed application keys: everything a view reaches through ``request.app``."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.attachments.storage import BlobStore
from collector.attachments.upload import UploadPolicy
from collector.config import CollectorConfig
from collector.ingest import SnapshotCache
from collector.secretbox import SecretBox
from collector.throttle import RateLimit, SlowDown
from collector.vault.store import VaultKeys

config_key = web.AppKey("config", CollectorConfig)
engine_key = web.AppKey("engine", AsyncEngine)
sessions_key = web.AppKey("sessions", async_sessionmaker[AsyncSession])
admin_token_key = web.AppKey("admin_token", str)
snapshot_cache_key = web.AppKey("snapshot_cache", SnapshotCache)
openapi_key = web.AppKey("openapi", dict[str, Any])
secret_box_key = web.AppKey("secret_box", SecretBox)  # TOTP seeds at rest
api_auth_throttle_key = web.AppKey("api_auth_throttle", SlowDown)  # failed bearer tokens per client
api_rate_key = web.AppKey("api_rate", RateLimit)  # requests per caller
vault_keys_key = web.AppKey("vault_keys", VaultKeys)  # the master keyring and opened data keys
attachment_store_key = web.AppKey("attachment_store", BlobStore)  # photos, plans, quotes: by content
upload_policy_key = web.AppKey("upload_policy", UploadPolicy)  # size limit, antivirus hook
