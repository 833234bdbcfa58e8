"""`asbuilt collector search …`: project the versions stored before the search projection existed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

search_app = typer.Typer(no_args_is_help=True, help="The search projection of every site's devices.")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (SQLite file)")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql+asyncpg://user@host/db (default: SQLite)")
]


@search_app.command("reindex")
def reindex(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Only the total")] = False,
) -> None:
    """Project every stored version not yet projected (oldest first, one transaction per site).
    Safe to run again and while the collector serves: new pushes are projected as they arrive."""
    from collector.config import CollectorConfig
    from collector.db.migrate import upgrade
    from collector.db.session import make_engine, make_sessionmaker
    from collector.search.index import backfill

    config = CollectorConfig.from_env(data_dir=data_dir, database_url=database_url)

    async def run() -> int:
        engine = make_engine(config.db_url)
        try:
            await upgrade(engine)
            return await backfill(make_sessionmaker(engine), progress=None if quiet else typer.echo)
        finally:
            await engine.dispose()

    typer.echo(f"{asyncio.run(run())} versions projected")
