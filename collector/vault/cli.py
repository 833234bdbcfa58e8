"""`asbuilt collector vault …`: the operator's key commands (rotation, status)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

vault_app = typer.Typer(no_args_is_help=True, help="The vault's master keys: status and rotation.")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (SQLite file, vault.keys)")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql+asyncpg://user@host/db (default: SQLite)")
]


@vault_app.command("rotate-key")
def rotate_key(
    retire_old: Annotated[
        bool, typer.Option("--retire-old/--keep-old", help="Drop the old master keys once all are re-wrapped")
    ] = True,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Put a new master key first in the keyring and re-wrap every data key with it.

    Running collectors keep serving: they re-read the keyring when they meet the new key id. Copy
    the new keyring to wherever you keep it apart from backups before you retire the old one.
    """
    import getpass

    from collector.auth import cli_admin
    from collector.config import CollectorConfig
    from collector.db.session import make_engine, make_sessionmaker
    from collector.services import audit
    from collector.services.context import Ctx
    from collector.vault.keyring import KeyringError, KeyringSource
    from collector.vault.store import finish_rotation, rotate_master_key

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)
    source = KeyringSource.for_config(config)
    _require_database(config.db_url, config.data_dir)

    async def run() -> tuple[str, int, tuple[str, ...]]:
        engine = make_engine(config.db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                rotation = await rotate_master_key(session, source, retire=retire_old)
                await audit.record(
                    session, Ctx(cli_admin(getpass.getuser()), client="cli"), audit.Kind.VAULT_REWRAP,
                    target="vault master key",
                    detail={"new_key": rotation.new_key_id, "rewrapped": rotation.rewrapped,
                            "retired": list(rotation.retired)},
                )  # fmt: skip
            finish_rotation(source, rotation)
            return rotation.new_key_id, rotation.rewrapped, rotation.retired
        finally:
            await engine.dispose()

    try:
        new_key_id, rewrapped, retired = asyncio.run(run())
    except KeyringError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"new master key {new_key_id}; {rewrapped} data key(s) re-wrapped")
    if retired:
        typer.echo(f"retired: {', '.join(retired)}")
    where = source.path if source.path is not None else "ASBUILT_VAULT_KEYS"
    typer.echo(f"keyring: {where} — copy it to where you keep it apart from backups", err=True)


@vault_app.command("status")
def status(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Which master keys the keyring holds and how many data keys each wraps (no key material)."""
    from sqlmodel import func, select

    from collector.config import CollectorConfig
    from collector.db.session import make_engine, make_sessionmaker
    from collector.db.vault_tables import VaultDataKey, VaultEntry
    from collector.vault.keyring import KeyringError, KeyringSource

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)
    _require_database(config.db_url, config.data_dir)
    try:
        keyring = KeyringSource.for_config(config).load()
    except KeyringError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def run() -> tuple[dict[str, int], int]:
        engine = make_engine(config.db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                rows = await session.exec(
                    select(VaultDataKey.master_key_id, func.count()).group_by(VaultDataKey.master_key_id)
                )
                wrapped = {key_id: count for key_id, count in rows.all()}
                entries = (await session.exec(select(func.count()).select_from(VaultEntry))).one()
            return wrapped, entries
        finally:
            await engine.dispose()

    wrapped, entries = asyncio.run(run())
    for index, key in enumerate(keyring.keys):
        role = "current" if index == 0 else "unwrap only"
        typer.echo(f"{key.key_id}  {role}  wraps {wrapped.pop(key.key_id, 0)} data key(s)")
    for key_id, count in wrapped.items():
        typer.echo(f"{key_id}  MISSING from the keyring  wraps {count} data key(s)", err=True)
    typer.echo(f"{entries} vault entr{'y' if entries == 1 else 'ies'}")
    if wrapped:
        raise typer.Exit(1)


def _require_database(db_url: str, data_dir: Path) -> None:
    from collector.db.session import is_sqlite

    if is_sqlite(db_url) and not (data_dir / "collector.db").exists():
        typer.echo(f"error: no collector database in {data_dir} (wrong --data-dir?)", err=True)
        raise typer.Exit(2)
