"""Vault storage on SQLite and PostgreSQL: sealed at rest, history, stale edits, rotation, scans."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agent.credentials import parse_credentials
from collector.config import CollectorConfig
from collector.db.migrate import upgrade
from collector.db.models import AuditEvent, Site
from collector.db.session import is_sqlite, make_engine, make_sessionmaker
from collector.db.vault_tables import VaultDataKey, VaultEntry
from collector.enrolment import issue_code
from collector.vault.crypto import VaultCryptoError
from collector.vault.keyring import KeyringSource
from collector.vault.store import (
    EntryDraft,
    StaleEdit,
    VaultError,
    VaultKeys,
    finish_rotation,
    flag_replaced,
    history,
    put_entry,
    reveal,
    reveal_earlier,
    rotate_master_key,
    scan_credentials,
)
from tests.collector.conftest import PG_HOST, PG_PORT, _pg_admin, unique_site
from tests.collector.test_people import PRODUCED_BY

PLANTED = "Pl4nted-" + secrets.token_hex(6)


@pytest.fixture(scope="module")
def vault_pg_url() -> Iterator[str]:
    """A PostgreSQL database of this module's own: a rotation re-wraps every organisation's key,
    so no other test's data keys (sealed under other keyrings) may be in it."""
    name = f"asb_vault_{secrets.token_hex(6)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://root@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def pg_keyring_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vault") / "vault.keys"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'collector.db'}"
    return request.getfixturevalue("vault_pg_url")


@pytest.fixture
def source(config: CollectorConfig, pg_keyring_path: Path) -> KeyringSource:
    """A keyring per database (the module's PostgreSQL database outlives one test)."""
    if is_sqlite(config.db_url):
        return KeyringSource.for_config(config)
    return KeyringSource(path=pg_keyring_path)


@pytest.fixture
async def db(config: CollectorConfig) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    if is_sqlite(config.db_url):
        config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.db_url)
    await upgrade(engine)
    try:
        yield engine, make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def new_site(sessions: async_sessionmaker[AsyncSession]) -> Site:
    slug = unique_site()
    async with sessions() as session, session.begin():
        await issue_code(
            session,
            customer="Meridian " + slug,
            site_slug=slug,
            now=datetime.now(UTC),
            ttl=timedelta(hours=1),
        )
    async with sessions() as session:
        return (await session.exec(select(Site).where(Site.slug == slug))).one()


def recorder_admin(password: str) -> EntryDraft:
    return EntryDraft(
        label="recorder admin",
        kind="login",
        username="admin",
        device_id="mac:00:11:22:33:44:55",
        settings={"drivers": ["onvif"], "vendors": ["Hikvision"]},
        secrets={"password": password},
    )


async def test_values_are_sealed_at_rest_and_revealed_one_field_at_a_time(
    db, config, source: KeyringSource
) -> None:
    engine, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        entry = await put_entry(session, keys, site=site, draft=recorder_admin(PLANTED), actor="tech-ana")
    async with sessions() as session:
        stored = await session.get(VaultEntry, entry.id)
        assert stored is not None
        assert PLANTED.encode() not in stored.sealed
        assert await reveal(session, keys, stored, "password") == PLANTED
        with pytest.raises(VaultError, match="no such value"):
            await reveal(session, keys, stored, "enable_secret")
        with pytest.raises(VaultError, match="one of"):
            await reveal(session, keys, stored, "username")
    # Not in the database in any form: not in a table, not in SQLite's file or its write-ahead log.
    async with engine.connect() as conn:
        for table in ("vault_entry", "vault_history", "vault_data_key"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
            assert PLANTED not in repr(rows)
    if is_sqlite(config.db_url):
        for path in config.data_dir.glob("collector.db*"):
            assert PLANTED.encode() not in path.read_bytes(), path
    assert source.path is not None and PLANTED not in source.path.read_text()


async def test_a_sealed_value_moved_to_another_entry_does_not_open(db, source: KeyringSource) -> None:
    _, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        one = await put_entry(session, keys, site=site, draft=recorder_admin(PLANTED), actor="a")
        other = await put_entry(
            session,
            keys,
            site=site,
            draft=EntryDraft(label="switch enable", kind="enable", secrets={"enable_secret": "x"}),
            actor="a",
        )
        other.sealed = one.sealed  # an attacker with write access to the table swaps ciphertexts
        with pytest.raises(VaultCryptoError):
            await reveal(session, keys, other, "password")


async def test_changes_keep_earlier_values_sealed_and_refuse_stale_edits(db, source: KeyringSource) -> None:
    _, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        entry = await put_entry(session, keys, site=site, draft=recorder_admin("first-pass"), actor="a")
    for n in range(2, 9):
        async with sessions() as session, session.begin():
            current = await session.get(VaultEntry, entry.id)
            assert current is not None
            await put_entry(
                session,
                keys,
                site=site,
                draft=recorder_admin(f"pass-{n}"),
                actor=f"tech-{n}",
                entry=current,
                expected_version=current.version,
                keep_history=3,
            )
    async with sessions() as session, session.begin():
        current = await session.get(VaultEntry, entry.id)
        assert current is not None and current.version == 8 and current.updated_by == "tech-8"
        earlier = await history(session, entry.id)
        assert [h.version for h in earlier] == [7, 6, 5]  # the newest three, older ones pruned
        assert await reveal_earlier(session, keys, current, earlier[0], "password") == "pass-7"
        with pytest.raises(StaleEdit, match="tech-8") as raised:
            await put_entry(
                session,
                keys,
                site=site,
                draft=recorder_admin("late"),
                actor="b",
                entry=current,
                expected_version=5,
            )
        assert "late" not in str(raised.value)
        # A label change without a new password keeps the value and adds no history.
        relabel = EntryDraft(label="NVR admin", kind="login", username="admin", device_id=current.device_id)
        await put_entry(session, keys, site=site, draft=relabel, actor="c", entry=current, expected_version=8)
        assert await reveal(session, keys, current, "password") == "pass-8"
        assert len(await history(session, entry.id)) == 3


async def test_rotation_rewraps_every_data_key_and_nothing_is_lost(db, source: KeyringSource) -> None:
    _, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        entry = await put_entry(session, keys, site=site, draft=recorder_admin(PLANTED), actor="a")
    before = source.load().current.key_id
    async with sessions() as session, session.begin():
        rotation = await rotate_master_key(session, source, retire=True)
    finish_rotation(source, rotation)
    assert rotation.rewrapped >= 1 and before in rotation.retired
    assert [k.key_id for k in source.load().keys] == [rotation.new_key_id]
    async with sessions() as session:
        rows = (await session.exec(select(VaultDataKey))).all()
        assert {row.master_key_id for row in rows} == {rotation.new_key_id}
        # A collector that still holds the old keyring in memory re-reads the file and opens it.
        fresh = await session.get(VaultEntry, entry.id)
        assert fresh is not None
        assert await reveal(session, VaultKeys(source), fresh, "password") == PLANTED
        stale_process = keys  # cached the old keyring and the opened data key
        stale_process._opened.clear()
        assert await reveal(session, stale_process, fresh, "password") == PLANTED


async def test_scan_credentials_are_the_agents_credential_format(db, source: KeyringSource) -> None:
    _, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        await put_entry(session, keys, site=site, draft=recorder_admin(PLANTED), actor="a")
        await put_entry(
            session,
            keys,
            site=site,
            draft=EntryDraft(
                label="switches ro",
                kind="snmp",
                settings={"drivers": ["snmp"]},
                secrets={"snmp_community": "c0mm"},
            ),
            actor="a",
        )
        await put_entry(
            session,
            keys,
            site=site,
            draft=EntryDraft(label="guest wifi", kind="wifi", secrets={"password": "wifi-pass"}),
            actor="a",
        )
        sets = await scan_credentials(session, keys, site.id or 0)
    bound = parse_credentials(sets, origin="vault")
    by_label = {b.name.split("-", 2)[2]: b.credential for b in bound}
    assert set(by_label) == {"recorder admin", "switches ro"}  # Wi-Fi is not a scan credential
    assert by_label["recorder admin"].password.get_secret_value() == PLANTED
    assert by_label["recorder admin"].vendors == ["Hikvision"]
    community = by_label["switches ro"].snmp_community
    assert community is not None and community.get_secret_value() == "c0mm"


async def test_a_replaced_devices_entry_is_flagged(db, source: KeyringSource) -> None:
    _, sessions = db
    keys = VaultKeys(source)
    site = await new_site(sessions)
    async with sessions() as session, session.begin():
        entry = await put_entry(session, keys, site=site, draft=recorder_admin(PLANTED), actor="a")
        assert (
            await flag_replaced(session, site.id or 0, [("mac:00:11:22:33:44:55", "mac:00:11:22:33:44:99")])
            == 1
        )
    async with sessions() as session:
        flagged = await session.get(VaultEntry, entry.id)
        assert flagged is not None and flagged.flag == "device replaced by mac:00:11:22:33:44:99"


def test_drafts_name_bad_fields_without_values() -> None:
    with pytest.raises(VaultError, match="kind"):
        EntryDraft(label="x", kind="password").checked()
    with pytest.raises(VaultError, match="unknown fields") as raised:
        EntryDraft(label="x", kind="login", secrets={"pin": PLANTED}).checked()
    assert PLANTED not in str(raised.value)
    with pytest.raises(VaultError, match="label"):
        EntryDraft(label=" ", kind="login").checked()


def test_the_rotate_key_command_rewraps_and_status_tells_what_wraps_what(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from collector.cli import collector_app

    data_dir = tmp_path / "collector"
    config = CollectorConfig(data_dir=data_dir)
    source = KeyringSource.for_config(config)

    async def seed() -> int:
        data_dir.mkdir()
        engine = make_engine(config.db_url)
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        site = await new_site(sessions)
        async with sessions() as session, session.begin():
            entry = await put_entry(
                session, VaultKeys(source), site=site, draft=recorder_admin(PLANTED), actor="a"
            )
        await engine.dispose()
        assert entry.id is not None
        return entry.id

    entry_id = asyncio.run(seed())
    runner = CliRunner()
    where = ["--data-dir", str(data_dir)]
    before = source.load().current.key_id
    result = runner.invoke(collector_app, ["vault", "rotate-key", *where])
    assert result.exit_code == 0, result.output
    assert "1 data key(s) re-wrapped" in result.stdout and f"retired: {before}" in result.stdout
    result = runner.invoke(collector_app, ["vault", "status", *where])
    assert result.exit_code == 0, result.output
    assert "current  wraps 1 data key(s)" in result.stdout and "1 vault entry" in result.stdout
    assert PLANTED not in result.output and before not in result.stdout

    async def read_back() -> str:
        engine = make_engine(config.db_url)
        async with make_sessionmaker(engine)() as session:
            entry = await session.get(VaultEntry, entry_id)
            assert entry is not None
            value = await reveal(session, VaultKeys(source), entry, "password")
        await engine.dispose()
        return value

    assert asyncio.run(read_back()) == PLANTED

    async def audited() -> set[str]:
        engine = make_engine(config.db_url)
        async with make_sessionmaker(engine)() as session:
            kinds = set((await session.exec(select(AuditEvent.kind))).all())
        await engine.dispose()
        return kinds

    wanted = {
        k.value for k in PRODUCED_BY["test_the_rotate_key_command_rewraps_and_status_tells_what_wraps_what"]
    }
    assert wanted <= asyncio.run(audited())
    missing = runner.invoke(collector_app, ["vault", "status", "--data-dir", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no collector database" in missing.output
