"""Collector fixtures: every DB-touching test runs on SQLite and on the real PostgreSQL server.

PostgreSQL must be running (127.0.0.1:5432, trust auth): if it is not, these tests fail loudly.
One uniquely named database (asb_test_<random>) is created per test session and dropped at the end.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser

from collector.app import create_app
from collector.auth import cli_admin
from collector.config import CollectorConfig
from collector.enrolment import issue_code
from collector.keys import sessions_key
from collector.services import people
from collector.services.context import Ctx
from drivers.schema import Snapshot
from tests.collector.browser import launch_chromium

ADMIN_TOKEN = "test-admin-token-" + secrets.token_hex(8)
PG_HOST = os.environ.get("ASBUILT_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ASBUILT_TEST_PG_PORT", "5432"))


async def _pg_admin(sql: str) -> None:
    last: Exception | None = None
    for user in ("root", "postgres"):
        try:
            conn = await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=user, database="postgres", timeout=10
            )
        except (OSError, asyncpg.PostgresError) as exc:
            last = exc
            continue
        try:
            await conn.execute(sql)
            return
        finally:
            await conn.close()
    raise RuntimeError(f"PostgreSQL at {PG_HOST}:{PG_PORT} is required for the collector tests: {last}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"asb_test_{secrets.token_hex(6)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://root@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_vault_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pg-vault") / "vault.keys"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'collector.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def config(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> CollectorConfig:
    # The PostgreSQL database is shared by the whole run, and so are its vault data keys: one keyring.
    key_file = None if db_url.startswith("sqlite") else request.getfixturevalue("pg_vault_key_file")
    return CollectorConfig(
        data_dir=tmp_path,
        database_url=db_url,
        vault_key_file=key_file,
        admin_token=ADMIN_TOKEN,
        max_upload_bytes=256 * 1024,
        max_snapshot_bytes=1024 * 1024,
    )


def unique_site() -> str:
    """Tests share one PostgreSQL database: each uses its own site."""
    return f"site-{secrets.token_hex(4)}"


@dataclass
class Api:
    client: TestClient

    @property
    def app(self) -> Any:
        return self.client.server.app

    async def issue_code(
        self, site: str, *, ttl: timedelta = timedelta(hours=1), customer: str = "Meridian"
    ) -> str:
        async with self.app[sessions_key]() as session, session.begin():
            code, _ = await issue_code(
                session,
                customer=customer,
                site_slug=site,
                now=datetime.now(UTC),
                ttl=ttl,
                site_name=site.upper(),
            )
        return code

    async def enrol(self, site: str) -> tuple[int, str]:
        code = await self.issue_code(site)
        resp = await self.client.post("/api/v1/enrol", json={"code": code, "agent_name": f"agent-{site}"})
        assert resp.status == 201, await resp.text()
        body = await resp.json()
        assert body["site_id"] == site
        return body["agent_id"], body["token"]

    async def push(
        self,
        token: str,
        snapshot: Snapshot | bytes,
        *,
        key: str | None = "auto",
        compress: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        raw = snapshot if isinstance(snapshot, bytes) else snapshot.canonical_json().encode()
        sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
        if key == "auto" and isinstance(snapshot, Snapshot):
            key = hashlib.sha256(raw).hexdigest()  # one key per body, as the agent does
        if key:
            sent["Idempotency-Key"] = key
        if compress:
            raw = gzip.compress(raw)
            sent["Content-Encoding"] = "gzip"
        resp = await self.client.post("/api/v1/snapshots", data=raw, headers=sent)
        return resp.status, await resp.json()

    async def get(self, path: str, token: str = ADMIN_TOKEN) -> tuple[int, Any]:
        resp = await self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def versions(self, site: str) -> list[dict[str, Any]]:
        status, body = await self.get(f"/api/v1/sites/{site}/versions")
        assert status == 200, body
        return body["versions"]


@asynccontextmanager
async def serve_api(config: CollectorConfig) -> AsyncIterator[Api]:
    """The collector app in this process, on a real socket on 127.0.0.1."""
    async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as client:
        yield Api(client)


@pytest.fixture
async def api(config: CollectorConfig) -> AsyncIterator[Api]:
    async with serve_api(config) as served:
        yield served


# ---------------------------------------------------------------- the browser (tests/collector/browser.py)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per session (per xdist worker), on the session's event loop."""
    async with launch_chromium() as chromium:
        yield chromium


@pytest_asyncio.fixture(loop_scope="session")
async def browser_api(config: CollectorConfig) -> AsyncIterator[Api]:
    """The `api` fixture's collector (a fresh one per test), served on the browser's event loop."""
    async with serve_api(config) as served:
        yield served


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


# ---------------------------------------------------------------- people

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def unique_name(prefix: str) -> str:
    """Tests share one PostgreSQL database: user, region and customer names are unique per test."""
    return f"{prefix}-{secrets.token_hex(4)}"


async def add_user(
    app: Any,
    role: str,
    *,
    name: str | None = None,
    regions: tuple[str, ...] = (),
    customers: tuple[str, ...] = (),
    password: str | None = PASSWORD,
    customer_admin: bool = False,
) -> str:
    """A user made the way the CLI makes one (collector.services.people); returns the name."""
    name = name or unique_name(role)
    async with app[sessions_key]() as db, db.begin():
        scope = people.ScopeRequest(people.parse_role(role), regions, customers)
        await people.create_user(
            db, Ctx(cli_admin("test")), name, scope, password=password, customer_admin=customer_admin
        )
    return name


async def sign_in(client: TestClient, name: str, password: str = PASSWORD, *, expect: int = 303) -> str:
    """Sign in through the form; returns the new session's CSRF token (empty when refused)."""
    resp = await client.get("/login")
    form = await resp.text()
    match = CSRF_FIELD.search(form)
    assert match, form[:500]
    resp = await client.post(
        "/login", data={"csrf": match.group(1), "name": name, "password": password, "next": "/"},
        allow_redirects=False,
    )  # fmt: skip
    assert resp.status == expect, (await resp.text())[:2000]
    if expect != 303:
        return ""
    page = await (await client.get("/account")).text()
    match = CSRF_FIELD.search(page)
    assert match, page[:500]
    return match.group(1)
