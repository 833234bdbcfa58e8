"""`asbuilt collector …`: run the service, migrate its database, issue enrolment codes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

collector_app = typer.Typer(no_args_is_help=True, help="The collector service: versions, baselines, diffs.")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (SQLite file, admin token)")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql+asyncpg://user@host/db (default: SQLite)")
]


@collector_app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: ASBUILT_HOST or 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="TCP port [default: ASBUILT_PORT or 8080]")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Run the collector HTTP service (migrates the database first)."""
    import logging

    from aiohttp import web

    from collector.app import create_app
    from collector.config import CollectorConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url, host=host, port=port)
    if config.admin_token is None:
        token_file = config.admin_token_file or config.data_dir / "admin-token"
        typer.echo(f"admin token: in {token_file}")
    web.run_app(create_app(config), host=config.host, port=config.port, print=typer.echo)


@collector_app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Upgrade the database schema to the newest revision."""
    from collector.config import CollectorConfig
    from collector.db.migrate import current_revision, upgrade
    from collector.db.session import is_sqlite, make_engine

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)

    async def run() -> str | None:
        if is_sqlite(config.db_url):
            config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(config.db_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database at revision {asyncio.run(run())}")


@collector_app.command("enrol-code")
def enrol_code(
    customer: Annotated[str, typer.Option(help="Customer name (created when new)")],
    site: Annotated[str, typer.Option(help="Site id, as agents put it in snapshots (created when new)")],
    site_name: Annotated[str | None, typer.Option(help="Human name of a new site")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a one-time enrolment code for an agent of SITE."""
    from collector.config import CollectorConfig
    from collector.db.migrate import upgrade
    from collector.db.session import is_sqlite, make_engine, make_sessionmaker
    from collector.enrolment import issue_code
    from drivers.schema import check_site_id

    try:
        check_site_id(site)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)

    async def run() -> tuple[str, datetime]:
        if is_sqlite(config.db_url):
            config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(config.db_url)
        try:
            await upgrade(engine)
            now, ttl = datetime.now(UTC), timedelta(seconds=config.enrolment_code_ttl_s)
            async with make_sessionmaker(engine)() as session, session.begin():
                code, _ = await issue_code(
                    session, customer=customer, site_slug=site, site_name=site_name, now=now, ttl=ttl
                )
            return code, now + ttl
        finally:
            await engine.dispose()

    code, expires = asyncio.run(run())
    typer.echo(code)
    typer.echo(f"single use, expires {expires:%Y-%m-%d %H:%M} UTC", err=True)
