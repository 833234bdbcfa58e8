"""`asbuilt scan`: scan the LAN, show live progress per stage, then the devices found and the problems.

Exit codes (also in `asbuilt scan --help`):
  0  scan complete; no problems, or only "unsupported" ones (a device lacks an optional feature)
  3  scan complete, with problems (partial results: read the problems list)
  2  usage or configuration error (bad scope, ports, credential file)
  4  nothing found, or the scan could not run at all
  5  scanned, but --push could not deliver it yet (it waits in the spool; `asbuilt agent push` retries)
With --json the snapshot JSON goes to stdout and everything else to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agent.config import ConfigError, Methods, ScanConfig, parse_ports
from agent.credentials import (
    BoundCredential,
    CredentialFileError,
    credentials_from_env,
    load_credentials_file,
)
from agent.pipeline import ProgressEvent, ScanResult, run_scan
from agent.preflight import UsageError, check_scan
from drivers.schema import Device, ProblemKind, Snapshot

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PROBLEMS = 3
EXIT_NOTHING = 4
EXIT_NOT_DELIVERED = 5
# Log lines in plain words ("warning: 10.0.0.5: onvif: login refused ..."), not logger names.
PLAIN_LOG_FORMAT = "%(levelname)s: %(message)s"


def scan(
    scopes: list[str] = typer.Argument(
        ..., metavar="CIDR...", help="Address ranges to scan (at most /16 each)"
    ),
    site: str = typer.Option("site", "--site", help="Site id the snapshot belongs to"),
    creds: Path | None = typer.Option(
        None, "--creds", help="Credential YAML file (else ASBUILT_CREDS_FILE / env)"
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the snapshot JSON to this file"),
    as_json: bool = typer.Option(False, "--json", help="Print the snapshot JSON on stdout"),
    ports: str | None = typer.Option(
        None, "--ports", help="Protocol ports, e.g. http=8080,snmp=1161,ssh=2222"
    ),
    timeout: float = typer.Option(5.0, "--timeout", min=0.1, max=120, help="Seconds per device call"),
    interface: list[str] = typer.Option([], "--interface", help="Interface to sweep from (repeatable)"),
    unicast: bool | None = typer.Option(
        None,
        "--unicast/--no-unicast",
        help="Unicast WS-Discovery to every scope address (default: routed/loopback)",
    ),
    target: list[str] = typer.Option([], "--target", help="Extra unicast WS-Discovery target (repeatable)"),
    window: float = typer.Option(
        2.0, "--wsd-window", min=0.1, max=30, help="Seconds to listen for discovery"
    ),
    methods: str = typer.Option("arp,wsd,mdns,tcp", "--methods", help="Discovery methods to use"),
    retries: int = typer.Option(1, "--retries", min=0, max=5, help="Retries for transient faults"),
    cred_cache: Path | None = typer.Option(
        None, "--cred-cache", help="Remember which credential NAME worked"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details to stderr"),
    push: str | None = typer.Option(
        None, "--push", metavar="URL", help="Deliver the snapshot to this collector"
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        envvar="ASBUILT_AGENT_TOKEN_FILE",
        help="Agent token for --push (from enrolment)",
    ),
    spool: Path = typer.Option(
        Path.home() / ".asbuilt" / "spool",
        "--spool",
        help="Where snapshots wait until the collector has them",
    ),
    vault: bool = typer.Option(
        False,
        "--vault",
        help="Take the device logins from the --push collector's vault (held in memory, never written)",
    ),
) -> None:
    """Scan address ranges: sweep → identify → collect → correlate → snapshot.

    Exit codes:

    0  complete (at most 'unsupported' notes)

    2  usage or configuration error

    3  complete with problems (partial results)

    4  nothing found, or the scan could not run

    5  scanned, but the snapshot waits in the spool (--push could not deliver it yet)
    """
    err = Console(stderr=True)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr, format=PLAIN_LOG_FORMAT
    )
    try:
        config = ScanConfig(
            site=site,
            scopes=tuple(scopes),
            unicast_targets=tuple(target),
            unicast=unicast,
            interfaces=tuple(interface),
            ports=parse_ports(ports),
            timeout_s=timeout,
            retries=retries,
            wsd_window_s=window,
            methods=parse_methods(methods),
            credential_cache=cred_cache,
        )
        for warning in check_scan(site=site, creds=creds, push=push, token_file=token_file):
            err.print(f"[yellow]warning:[/yellow] {warning}")
        if vault and not push:
            raise UsageError("--vault takes the logins from the collector given with --push URL")
        credentials: list[BoundCredential] = load_credentials_file(creds) if creds else []
        credentials += credentials_from_env()
    except (ConfigError, CredentialFileError, UsageError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            err.print(f"[red]error:[/red] {where}: {str(e['msg']).removeprefix('Value error, ')}")
        raise typer.Exit(EXIT_USAGE) from None

    if vault and push:
        credentials += _vault_credentials(push, token_file, err)
    try:
        result = asyncio.run(_run_with_progress(config, credentials, err))
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from None
    except Exception as exc:  # the pipeline is built not to raise; if it does, say so and fail clearly
        logging.getLogger(__name__).exception("scan failed")
        err.print(f"[red]scan failed:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_NOTHING) from None

    snapshot = result.snapshot
    text = snapshot.canonical_json()
    if out:
        out.write_text(text + "\n")
    for notice in result.notices:
        err.print(f"[yellow]note:[/yellow] {notice}")
    if as_json:
        sys.stdout.write(text + "\n")
        render(snapshot, err)
    else:
        render(snapshot, Console())
    err.print(
        f"{len(snapshot.devices)} devices, {len(snapshot.problems)} problems "
        f"in {result.total_seconds:.1f} s; sha256 {result.content_hash[:16]}"
        + (f"; written to {out}" if out else "")
    )
    if push and not _push(snapshot, push, token_file, spool, err):
        raise typer.Exit(EXIT_NOT_DELIVERED)
    raise typer.Exit(exit_code(snapshot))


def _vault_credentials(url: str, token_file: Path | None, err: Console) -> list[BoundCredential]:
    """The site's logins from the collector's vault, for this scan only (nothing is written)."""
    from agent.service import read_token
    from agent.vault_feed import VaultFeedError, fetch_site_credentials

    try:
        token = read_token(token_file) if token_file else _env_token()
        fetched = asyncio.run(fetch_site_credentials(url, token))
    except (ValueError, OSError, VaultFeedError) as exc:
        err.print(f"[red]error:[/red] no logins from the vault: {exc}")
        raise typer.Exit(EXIT_NOTHING) from None
    err.print(f"{len(fetched)} login set(s) from the collector's vault, kept in memory for this scan")
    return fetched


def _push(snapshot: Snapshot, url: str, token_file: Path | None, spool_dir: Path, err: Console) -> bool:
    """Spool first (so nothing is lost), then deliver; True when the collector has confirmed it."""
    from agent.push import PushClient, drain
    from agent.service import read_token
    from agent.spool import Spool

    spool = Spool(spool_dir)
    item = spool.put(snapshot)
    try:
        token = read_token(token_file) if token_file else _env_token()
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]not pushed:[/red] {exc}; the snapshot waits in {item.path}")
        return False

    async def deliver() -> bool:
        async with PushClient(url, token) as client:
            report = await drain(spool, client, attempts=3, base_delay_s=1.0)
        for result in report.delivered:
            err.print(f"pushed to {url}: version {result.version}")
        if report.last_error:
            err.print(
                f"[red]not delivered yet:[/red] {report.last_error}; "
                f"{report.remaining} waiting in {spool_dir}"
            )
        return all(waiting.content_hash != item.content_hash for waiting in spool.pending())

    return asyncio.run(deliver())


def _env_token() -> str:
    import os

    token = os.environ.get("ASBUILT_AGENT_TOKEN", "").strip()
    if not token:
        raise ValueError("--push needs --token-file (or ASBUILT_AGENT_TOKEN_FILE / ASBUILT_AGENT_TOKEN)")
    return token


def exit_code(snapshot: Snapshot) -> int:
    if not snapshot.devices:
        return EXIT_NOTHING
    significant = [p for p in snapshot.problems if p.kind is not ProblemKind.UNSUPPORTED]
    return EXIT_PROBLEMS if significant else EXIT_OK


def parse_methods(text: str) -> Methods:
    names = {m.strip().lower() for m in text.split(",") if m.strip()}
    unknown = names - set(Methods.model_fields)
    if unknown:
        raise ConfigError(
            f"unknown discovery method(s) {sorted(unknown)}; known: {sorted(Methods.model_fields)}"
        )
    return Methods(**{name: name in names for name in Methods.model_fields})


async def _run_with_progress(
    config: ScanConfig, credentials: list[BoundCredential], err: Console
) -> ScanResult:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
    )
    tasks: dict[str, TaskID] = {}

    def on_event(event: ProgressEvent) -> None:
        name = event.stage.value
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=event.total, detail=event.detail)
        task = tasks[name]
        if event.state == "done":
            total = event.total if event.total is not None else max(event.done, 1)
            progress.update(
                task, total=total, completed=total if event.total is None else event.done, detail=event.detail
            )
        else:
            progress.update(task, total=event.total, completed=event.done, detail=event.detail or "")

    with progress:
        return await run_scan(config, credentials, progress=on_event)


WIDE_TABLE = 150  # columns from which every field gets its own column
PROBLEM_ORDER = {  # real problems first; "not supported" notes last
    ProblemKind.INTERNAL: 0, ProblemKind.AUTH: 1, ProblemKind.TIMEOUT: 2, ProblemKind.UNREACHABLE: 3,
    ProblemKind.PROTOCOL: 4, ProblemKind.PARSE: 5, ProblemKind.UNSUPPORTED: 9,
}  # fmt: skip


def render(snapshot: Snapshot, console: Console) -> None:
    """The devices table, then the problems (real ones first), fitted to the terminal's width: every
    column from WIDE_TABLE columns on; below it name, role, vendor and model, IP and switch port, with
    serial, firmware and MAC left to --json / --out. Cells never break mid-word; values are cut with
    an ellipsis instead."""
    names = {d.id: (d.identity.hostname or d.network.ip or d.id) for d in snapshot.devices}
    per_device: dict[str | None, int] = {}
    for p in snapshot.problems:
        per_device[p.device_id] = per_device.get(p.device_id, 0) + 1
    wide = console.width >= WIDE_TABLE
    columns = (
        (
            "name",
            "role",
            "vendor",
            "model",
            "serial",
            "firmware",
            "IP",
            "MAC",
            "switch/port",
            "PoE W",
            "problems",
        )
        if wide
        else ("name", "role", "vendor / model", "IP", "switch/port", "!")
    )
    table = Table(title=f"{snapshot.site.site_id}: {len(snapshot.devices)} devices", show_lines=False)
    for column in columns:
        fixed = column in ("IP", "MAC", "role", "PoE W", "problems", "!")
        table.add_column(
            column,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if column in ("PoE W", "problems", "!") else "left",
            min_width=None if not fixed else len(column),
            ratio=None if fixed else 1,
        )
    for d in sorted(snapshot.devices, key=_row_order):
        a = d.attachment
        place = f"{names.get(a.switch_id, a.switch_name or a.switch_id)} {a.port}" if a else ""
        name = d.identity.hostname or d.network.ip or d.id
        count = str(per_device.get(d.id, ""))
        if wide:
            table.add_row(
                name, d.role.value, d.identity.vendor or "", d.identity.model or "", d.identity.serial or "",
                d.identity.firmware or "", d.network.ip or "", d.identity.mac or "", place,
                f"{a.poe_power_w:g}" if a and a.poe_power_w is not None else "", count,
            )  # fmt: skip
        else:
            model = " ".join(x for x in (d.identity.vendor, d.identity.model) if x)
            table.add_row(name, d.role.value, model, d.network.ip or "", place, count)
    console.print(table)
    if snapshot.problems:
        ordered = sorted(snapshot.problems, key=lambda p: (PROBLEM_ORDER.get(p.kind, 8), p.target))
        real = sum(1 for p in ordered if p.kind is not ProblemKind.UNSUPPORTED)
        console.print(f"[bold]{real} problem{'s' if real != 1 else ''}[/bold]" + (
            f" (and {len(ordered) - real} unsupported)" if len(ordered) > real else ""
        ))  # fmt: skip
        for p in ordered:
            where = names.get(p.device_id) if p.device_id else None
            who = f"{where} ({p.target})" if where and where != p.target else p.target
            console.print(f"  [bold]{who}[/bold] {p.driver} {p.kind.value}: {p.message}", overflow="fold")


def _row_order(d: Device) -> tuple[int, str, str]:
    order = {"switch": 0, "recorder": 1, "camera": 2, "other": 3}
    return (order.get(d.role.value, 9), d.attachment.switch_id if d.attachment else "~", d.network.ip or "")
