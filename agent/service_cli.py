"""`asbuilt agent ...`: enrol with a collector, run the scheduled service, show its status, push now."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import aiohttp
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from agent.preflight import UsageError, check_service
from agent.push import plain_words
from agent.service import AgentService, AgentServiceConfig, ScanFn, StatusFile, write_token
from agent.spool import Spool
from drivers.schema import Snapshot

app = typer.Typer(no_args_is_help=True, help="The site agent: scheduled scans delivered to a collector.")
err = Console(stderr=True)

ConfigOpt = typer.Option(..., "--config", "-c", exists=True, dir_okay=False, help="Agent YAML file")


def _load(config: Path) -> AgentServiceConfig:
    try:
        return AgentServiceConfig.load(config)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]error:[/red] {config}: {'.'.join(map(str, e['loc']))}: {e['msg']}")
        raise typer.Exit(2) from None


def _preflight(cfg: AgentServiceConfig) -> None:
    """Setup mistakes end here, in one line with exit code 2, before the service starts."""
    try:
        warnings = check_service(site=cfg.site, collector_url=cfg.collector_url, creds_file=cfg.creds_file)
    except UsageError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    for warning in warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")


def scan_function(config: AgentServiceConfig) -> ScanFn:
    """The scan the service runs: the same pipeline as `asbuilt scan`, with the config's settings."""
    from agent.config import ScanConfig
    from agent.credentials import credentials_from_env, load_credentials_file
    from agent.pipeline import run_scan

    scan_config = ScanConfig.model_validate({"site": config.site, **config.scan})

    async def run() -> Snapshot:
        creds = load_credentials_file(config.creds_file) if config.creds_file else []
        if config.credentials_from_collector:
            from agent.service import read_token
            from agent.vault_feed import fetch_site_credentials

            # Fetched afresh for each scan and dropped with it: no login is ever on this box's disk.
            creds += await fetch_site_credentials(config.collector_url, read_token(config.token_path))
        result = await run_scan(scan_config, creds + credentials_from_env())
        return result.snapshot

    return run


async def enrol_agent(collector_url: str, code: str, agent_name: str) -> dict[str, object]:
    url = collector_url.rstrip("/") + "/api/v1/enrol"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.post(url, json={"code": code, "agent_name": agent_name}) as resp,
    ):
        body = await resp.text()
        if resp.status != 200 and resp.status != 201:
            raise RuntimeError(f"enrolment refused: HTTP {resp.status} {body[:300]}")
        data = json.loads(body)
        if not isinstance(data, dict) or "token" not in data:
            raise RuntimeError("enrolment answer has no token")
        return data


@app.command()
def enrol(
    config: Path = ConfigOpt,
    code: str = typer.Option(..., "--code", help="One-time enrolment code from the collector"),
    name: str = typer.Option(socket.gethostname(), "--name", help="Name of this agent"),
) -> None:
    """Exchange a one-time code for this agent's token (stored owner-only in the state directory)."""
    cfg = _load(config)
    _preflight(cfg)
    try:
        data = asyncio.run(enrol_agent(cfg.collector_url, code, name))
    except RuntimeError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        err.print(f"[red]error:[/red] {plain_words(exc, cfg.collector_url, 30)}")
        raise typer.Exit(1) from None
    if data.get("site_id") not in (None, cfg.site):
        err.print(
            f"[red]error:[/red] the code is for site {data.get('site_id')!r}, this agent scans {cfg.site!r}"
        )
        raise typer.Exit(1)
    write_token(cfg.token_path, str(data["token"]))
    err.print(
        f"enrolled as agent {data.get('agent_id')} for site {data.get('site_id')}; token in {cfg.token_path}"
    )


@app.command()
def run(
    config: Path = ConfigOpt,
    once: bool = typer.Option(False, "--once", help="Scan and deliver once, then exit"),
) -> None:
    """Run the agent: scheduled scans, spooled to disk, pushed until the collector confirms."""
    cfg = _load(config)
    _preflight(cfg)
    service = AgentService(cfg, scan_function(cfg))

    async def main() -> None:
        if once:
            await service.scan_once()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await service.run_forever(stop=stop)

    asyncio.run(main())
    _print_status(cfg)


@app.command()
def push(config: Path = ConfigOpt) -> None:
    """Deliver spooled snapshots now."""
    cfg = _load(config)
    _preflight(cfg)
    service = AgentService(cfg, scan_function(cfg))
    asyncio.run(service.deliver())
    _print_status(cfg)
    if Spool(cfg.spool_dir).depth():
        raise typer.Exit(1)


@app.command()
def status(config: Path = ConfigOpt) -> None:
    """Spool depth, last scan, last push."""
    _print_status(_load(config))


def _ago(at: object) -> str:
    if not isinstance(at, int | float):
        return "never"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(at))} ({int(time.time() - at)} s ago)"


def _print_status(cfg: AgentServiceConfig) -> None:
    state = StatusFile(cfg.status_path).read()
    spool = Spool(cfg.spool_dir)
    table = Table(title=f"asbuilt agent - site {cfg.site}", show_header=False)
    table.add_row("collector", cfg.collector_url)
    held = spool.held()
    table.add_row("spool", f"{spool.depth()} waiting, {len(held)} held aside ({cfg.spool_dir})")
    for path, reason in held[-5:]:  # the newest few; all of them are in rejected/ with their reason
        snapshot_hash = path.name.partition("-")[2][:16]
        table.add_row("held aside", f"{snapshot_hash}: {reason[:300] or 'no reason recorded'}")
    scan = state.get("last_scan") or {}
    if scan:
        what = (
            f"{scan.get('devices')} devices, {scan.get('problems')} problems, {scan.get('duration_s')} s"
            if scan.get("ok")
            else f"FAILED: {scan.get('error')}"
        )
        table.add_row("last scan", f"{_ago(scan.get('at'))}: {what}")
    else:
        table.add_row("last scan", "never")
    pushed = state.get("last_push") or {}
    if pushed:
        what = f"delivered {pushed.get('delivered')}, remaining {pushed.get('remaining')}"
        if pushed.get("error"):
            what += f"; error: {pushed['error']}"
        table.add_row("last push", f"{_ago(pushed.get('at'))}: {what}")
    else:
        table.add_row("last push", "never")
    Console().print(table)
