"""`asbuilt collector …`: run the service, migrate its database, issue enrolment codes, and set up the
people: regions, customers, users, API tokens, sign-in rules. Every change goes through
collector.services (so it is checked and audited, as "cli:<operator>") exactly as from the web UI.

Commands other than `serve` and `migrate` refuse a data directory or database that holds no
collector yet, instead of quietly creating an empty one (a typo in --data-dir would otherwise
issue codes nobody's collector knows).
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from collector.config import CollectorConfig
    from collector.services.context import Ctx

T = TypeVar("T")

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
    reuse_port: Annotated[
        bool,
        typer.Option(
            "--reuse-port",
            help="Share the port with other collector processes (SO_REUSEPORT; the kernel spreads "
            "connections). PostgreSQL only: every process must see the same database.",
        ),
    ] = False,
) -> None:
    """Run the collector HTTP service (migrates the database first)."""
    import logging

    from aiohttp import web

    from collector.app import create_app
    from collector.config import CollectorConfig
    from collector.db.session import is_sqlite

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url, host=host, port=port)
    if config.admin_token is None:
        token_file = config.admin_token_file or config.data_dir / "admin-token"
        typer.echo(f"break-glass admin token (API only): in {token_file}")
    if reuse_port and is_sqlite(config.db_url):
        raise typer.BadParameter(
            "processes sharing a port must share a PostgreSQL database; SQLite is one process's file",
            param_hint="--reuse-port",
        )
    app = create_app(config)
    web.run_app(app, host=config.host, port=config.port, print=typer.echo, reuse_port=reuse_port or None)


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
    from collector.enrolment import issue_code
    from collector.services import audit
    from drivers.schema import check_site_id

    try:
        check_site_id(site)  # what a snapshot could not carry, or a URL not address, is refused here
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def run_with(db: AsyncSession, ctx: Ctx, config: CollectorConfig) -> tuple[str, datetime]:
        ttl = timedelta(seconds=config.enrolment_code_ttl_s)
        code, made = await issue_code(
            db, customer=customer, site_slug=site, site_name=site_name, now=ctx.now, ttl=ttl
        )
        await audit.record(
            db, ctx, audit.Kind.ENROL_CODE_ISSUE, target=f"site {made.slug}", customer_id=made.customer_id,
            site_id=made.id, detail={"expires_in_s": config.enrolment_code_ttl_s},
        )  # fmt: skip
        return code, ctx.now + ttl

    code, expires = _run(data_dir, database_url, run_with)
    typer.echo(code)
    typer.echo(f"single use, expires {expires:%Y-%m-%d %H:%M} UTC", err=True)


# ---------------------------------------------------------------- people


class NotACollector(Exception):
    """The data directory or database holds no collector (yet)."""


def _check_sqlite_file(config: CollectorConfig) -> None:
    from sqlalchemy import make_url

    from collector.db.session import is_sqlite

    if is_sqlite(config.db_url):
        db_file = Path(make_url(config.db_url).database or "")
        if not db_file.is_file():
            raise NotACollector(
                f"no collector database at {db_file} (data directory {config.data_dir.resolve()}); "
                "check --data-dir / ASBUILT_DATA_DIR, or create it with `asbuilt collector migrate`"
            )


async def _open_existing(config: CollectorConfig) -> object:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from collector.db.migrate import current_revision, upgrade
    from collector.db.session import make_engine

    engine = make_engine(config.db_url)
    try:
        revision = await current_revision(engine)
    except (OSError, OperationalError, DBAPIError) as exc:
        await engine.dispose()
        raise NotACollector(f"cannot open the collector database: {exc}") from None
    if revision is None:
        await engine.dispose()
        raise NotACollector(
            "the database holds no collector tables; check --database-url, or create them with "
            "`asbuilt collector migrate`"
        )
    await upgrade(engine)  # an older collector's database: bring it to this version first
    return engine


def _run(
    data_dir: Path | None,
    database_url: str | None,
    work: Callable[[AsyncSession, Ctx, CollectorConfig], Awaitable[T]],
) -> T:
    """Run ``work`` in one transaction as the CLI admin; clear errors instead of tracebacks."""
    from sqlalchemy.ext.asyncio import AsyncEngine

    from collector.auth import cli_admin
    from collector.config import CollectorConfig
    from collector.db.session import make_sessionmaker
    from collector.errors import ApiError
    from collector.services.context import Ctx

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)

    async def go() -> T:
        engine = await _open_existing(config)
        assert isinstance(engine, AsyncEngine)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                return await work(db, Ctx(cli_admin(getpass.getuser()), client="cli"), config)
        finally:
            await engine.dispose()

    try:
        _check_sqlite_file(config)
        return asyncio.run(go())
    except NotACollector as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except ApiError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


region_app = typer.Typer(no_args_is_help=True, help="Regions: the areas customers are filed in.")
customer_app = typer.Typer(no_args_is_help=True, help="Customers: whose sites the collector documents.")
user_app = typer.Typer(no_args_is_help=True, help="Users: one account per person, a role and a scope.")
token_app = typer.Typer(no_args_is_help=True, help="Personal API tokens (a user's own permissions).")
policy_app = typer.Typer(no_args_is_help=True, help="Sign-in rules per role: second factor, devices.")
collector_app.add_typer(region_app, name="region")
collector_app.add_typer(customer_app, name="customer")
collector_app.add_typer(user_app, name="user")
collector_app.add_typer(token_app, name="token")
collector_app.add_typer(policy_app, name="policy")


@region_app.command("add")
def region_add(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Add a region."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> str:
        return (await people.create_region(db, ctx, name)).name

    typer.echo(f"region {_run(data_dir, database_url, work)} added")


@region_app.command("list")
def region_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List regions and how many customers each has."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> list[list[str]]:
        return [[r.name, str(n)] for r, n in await people.list_regions(db, ctx)]

    _table(_run(data_dir, database_url, work), ["REGION", "CUSTOMERS"])


@region_app.command("remove")
def region_remove(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Remove a region that no customer or user scope uses."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.remove_region(db, ctx, name)

    _run(data_dir, database_url, work)
    typer.echo(f"region {name} removed")


@customer_app.command("add")
def customer_add(
    name: str,
    region: Annotated[str | None, typer.Option("--region", help="Its region (created when new)")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a customer, filed in REGION."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> str:
        return (await people.create_customer(db, ctx, name, region)).name

    added = _run(data_dir, database_url, work)
    typer.echo(f"customer {added} added" + (f" in region {region}" if region else ""))


@customer_app.command("list")
def customer_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List customers with their region and site count."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> list[list[str]]:
        return [
            [r.customer.name, r.region.name if r.region else "-", str(r.sites),
             "disabled" if r.customer.disabled_at else "active"]
            for r in await people.list_customers(db, ctx)
        ]  # fmt: skip

    _table(_run(data_dir, database_url, work), ["CUSTOMER", "REGION", "SITES", "STATE"])


@customer_app.command("disable")
def customer_disable(
    name: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Disable a customer: its own users can no longer sign in (staff still see its record)."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.disable_customer(db, ctx, name, disabled=not enable)

    _run(data_dir, database_url, work)
    typer.echo(f"customer {name} {'enabled' if enable else 'disabled'}")


@customer_app.command("remove")
def customer_remove(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Remove a customer without sites or users."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.remove_customer(db, ctx, name)

    _run(data_dir, database_url, work)
    typer.echo(f"customer {name} removed")


def _read_password() -> str:
    """One line from stdin (scripts: `printf '%s\n' "$PW" | asbuilt collector user add …`)."""
    line = sys.stdin.readline()
    if not line:
        typer.echo("error: --password-stdin given but stdin is empty", err=True)
        raise typer.Exit(2)
    return line.rstrip("\r\n")


def _reset_line(config: CollectorConfig, name: str, secret: str) -> str:
    path = f"/reset/{secret}"
    base = config.public_url.rstrip("/") if config.public_url else f"http://{config.host}:{config.port}"
    hours = config.password_reset_ttl_s // 3600
    return f"one-time password link for {name} (valid {hours} h): {base}{path}"


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help="admin | technician | support | customer")],
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Scope: sees this region's customers")
    ] = None,
    customer: Annotated[
        list[str] | None,
        typer.Option("--customer", help="Scope: sees this customer (a customer user: its own)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (else: print a reset link)")
    ] = False,
    full_name: Annotated[str | None, typer.Option("--full-name")] = None,
    customer_admin: Annotated[
        bool, typer.Option("--customer-admin", help="A customer user who may read its customer's audit log")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user. Without --region/--customer a technician or support user sees every customer."""
    from collector.services import accounts, people

    password = _read_password() if password_stdin else None

    async def work(db: AsyncSession, ctx: Ctx, config: CollectorConfig) -> tuple[str, str | None]:
        scope = people.ScopeRequest(people.parse_role(role), region or [], customer or [])
        user = await people.create_user(
            db, ctx, name, scope, password=password, full_name=full_name, customer_admin=customer_admin
        )
        view = await people.user_view(db, user)
        link = None
        if password is None:
            link = _reset_line(
                config, user.name, await accounts.issue_reset(db, ctx, user, config.password_reset_ttl_s)
            )
        return f"user {user.name} added: {user.role}, sees {view.scope_text}", link

    summary, link = _run(data_dir, database_url, work)
    typer.echo(summary)
    if link:
        typer.echo(link)


@user_app.command("list")
def user_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List users with role, scope and state."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> list[list[str]]:
        return [
            [v.user.name, v.user.role, v.customer or v.scope_text, "on" if v.user.totp_enabled_at else "off",
             "disabled" if v.user.disabled_at else "active"]
            for v in await people.list_users(db, ctx)
        ]  # fmt: skip

    _table(_run(data_dir, database_url, work), ["USER", "ROLE", "SEES", "TOTP", "STATE"])


@user_app.command("disable")
def user_disable(
    name: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Disable a user: their sessions end, their tokens stop working."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.set_disabled(db, ctx, await people.find_user(db, ctx, name), not enable)

    _run(data_dir, database_url, work)
    typer.echo(f"user {name} {'enabled' if enable else 'disabled'}")


@user_app.command("remove")
def user_remove(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Remove a user and their sessions, tokens and devices (the audit log keeps their history)."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.remove_user(db, ctx, await people.find_user(db, ctx, name))

    _run(data_dir, database_url, work)
    typer.echo(f"user {name} removed")


@user_app.command("reset-password")
def user_reset_password(name: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Print a one-time link with which NAME sets a new password (earlier links stop working)."""
    from collector.services import accounts, people

    async def work(db: AsyncSession, ctx: Ctx, config: CollectorConfig) -> str:
        user = await people.find_user(db, ctx, name)
        return _reset_line(
            config, user.name, await accounts.issue_reset(db, ctx, user, config.password_reset_ttl_s)
        )

    typer.echo(_run(data_dir, database_url, work))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token belongs to")],
    label: Annotated[str, typer.Option("--label", help="What the token is for")] = "cli",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a personal API token for user NAME; the token is the last line (shown only now)."""
    from collector.services import accounts, people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> tuple[int, str]:
        user = await people.find_user(db, ctx, name)
        row, secret = await accounts.create_token(db, ctx, user, label)
        return row.id or 0, secret

    token_id, secret = _run(data_dir, database_url, work)
    typer.echo(f"token {token_id} ({label}) for {name}; it is shown only now:", err=True)
    typer.echo(secret)


@token_app.command("list")
def token_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List every personal API token (never the secrets)."""
    from collector.services import accounts

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> list[list[str]]:
        return [
            [str(t.id), u.name, t.name, t.hint + "…", f"{t.created_at:%Y-%m-%d %H:%M}",
             "revoked" if t.revoked_at else "active"]
            for t, u in await accounts.all_tokens(db, ctx)
        ]  # fmt: skip

    _table(_run(data_dir, database_url, work), ["ID", "USER", "LABEL", "STARTS", "CREATED", "STATE"])


@token_app.command("disable")
def token_disable(token_id: int, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Revoke token TOKEN_ID: it stops working at once (kept in the list as revoked)."""
    from collector.services import accounts

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await accounts.revoke_token(db, ctx, token_id)

    _run(data_dir, database_url, work)
    typer.echo(f"token {token_id} revoked")


@token_app.command("remove")
def token_remove(token_id: int, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Revoke token TOKEN_ID and delete it from the list (the audit log keeps both events)."""
    from collector.services import accounts

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await accounts.remove_token(db, ctx, token_id)

    _run(data_dir, database_url, work)
    typer.echo(f"token {token_id} removed")


@policy_app.command("set")
def policy_set(
    role: str,
    require_totp: Annotated[bool, typer.Option("--require-totp/--no-require-totp")] = False,
    require_device: Annotated[bool, typer.Option("--require-device/--no-require-device")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set what ROLE needs to sign in: a second factor, an admin-approved device."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> None:
        await people.set_policy(
            db, ctx, people.parse_role(role), require_totp=require_totp, require_device=require_device
        )

    _run(data_dir, database_url, work)
    typer.echo(f"{role}: second factor {'required' if require_totp else 'optional'}, "
               f"devices {'approved only' if require_device else 'any'}")  # fmt: skip


@policy_app.command("list")
def policy_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show the sign-in rules of every role."""
    from collector.services import people

    async def work(db: AsyncSession, ctx: Ctx, _: CollectorConfig) -> list[list[str]]:
        return [
            [
                role.value,
                "required" if p.require_totp else "optional",
                "approved only" if p.require_device else "any",
            ]
            for role, p in (await people.policies(db)).items()
        ]

    _table(_run(data_dir, database_url, work), ["ROLE", "SECOND FACTOR", "DEVICES"])


@collector_app.command("export")
def export(
    site: Annotated[str, typer.Argument(help="The site id")],
    fmt: Annotated[str, typer.Option("--format", help="pdf | xlsx | csv | json")] = "pdf",
    version: Annotated[int | None, typer.Option("--version", min=1, help="Default: the latest")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: its own name, here)")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write a site's handover PDF, workbook, devices CSV or JSON (audited as an export by the CLI)."""
    from collector.attachments.storage import FilesystemStore
    from collector.errors import ApiError
    from collector.ingest import SnapshotCache
    from collector.services import exports
    from collector.vault.keyring import KeyringSource
    from collector.vault.store import VaultKeys

    try:
        chosen = exports.parse_format(fmt)
    except ApiError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None

    async def work(db: AsyncSession, ctx: Ctx, config: CollectorConfig) -> exports.Prepared:
        sources = exports.Sources(
            SnapshotCache(), config.removed_after_scans, VaultKeys(KeyringSource.for_config(config)),
            store=FilesystemStore.in_data_dir(config.data_dir),
        )  # fmt: skip
        return await exports.prepare(db, ctx, sources, site, chosen, version=version, via="cli")

    # The audit entry is committed before the render, which runs with the database closed.
    prepared = _run(data_dir, database_url, work)
    document = asyncio.run(exports.render(prepared))
    target = out or Path(document.filename)
    target.write_bytes(document.body)
    typer.echo(f"{target} ({len(document.body)} bytes)")


def _mount_vault() -> None:
    from collector.vault.cli import vault_app

    collector_app.add_typer(vault_app, name="vault")


_mount_vault()


def _mount_jobs() -> None:
    from collector.jobs.cli import jobs_app

    collector_app.add_typer(jobs_app, name="jobs")


_mount_jobs()


def _mount_search() -> None:
    from collector.search.cli import search_app

    collector_app.add_typer(search_app, name="search")


_mount_search()
