"""`asbuilt demo`: the whole product on one machine, against the simulated site.

1. start the simulated site (network namespaces as root, loopback addresses otherwise);
2. start the collector on the embedded database (SQLite in the demo directory);
3. create one user per role (admin, technician, support, customer) with printed passwords; move the
   site's device logins into the vault (the technician's credentials file, imported in one step and
   then deleted), enrol an agent, and scan the site with `asbuilt scan --vault --push` exactly as a
   technician would: the logins come from the vault into the scan's memory, nothing is written but
   the sealed spool item, which is gone once the collector has it;
4. approve that first version as the documented baseline with the technician's own API token;
5. change the site the way real sites drift (a camera swapped, one moved to another port, a
   firmware upgrade), scan again and push: the collector records version 2 and its diff;
6. serve the web UI and the API until Ctrl-C, then take the simulated site down.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import typer
import yaml
from rich.console import Console

from agent.service_cli import enrol_agent
from lab.runner import Mode

console = Console(stderr=True)

DEMO_LAB_ID = "demo"
DEMO_LOOPBACK_BASE = 77
DEMO_CUSTOMER = "Meridian Logistics"
DEMO_REGION = "North"
# (user name, role, scope) — one person per role, as the README describes them.
DEMO_PEOPLE: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("ada", "admin", {}),
    ("tom", "technician", {"regions": (DEMO_REGION,)}),
    ("sam", "support", {"customers": (DEMO_CUSTOMER,)}),
    ("meridian", "customer", {"customers": (DEMO_CUSTOMER,), "customer_admin": True}),
)
DEMO_CHANGES: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("swap", {"name": "cam-gate"}, "cam-gate replaced by a new unit (new serial and MAC, same port)"),
    ("move", {"name": "cam-office", "to": "sw-core:12"}, "cam-office re-patched to sw-core port 12"),
    ("firmware", {"name": "cam-lobby", "version": "10.12.200"}, "cam-lobby upgraded to firmware 10.12.200"),
)


def demo_credentials(site: Any, address: Any) -> dict[str, Any]:
    """The credential file a technician would write for the simulated site: one entry per device,
    bound to its address (real sites often have one password per camera)."""
    entries: list[dict[str, Any]] = []
    for d in site.devices:
        entries.append(
            {
                "name": f"{d.name}-admin",
                "username": d.credential.username,
                "password": d.credential.password,
                "drivers": ["onvif"],
                "targets": [address(d.ip)],
            }
        )
    for s in site.switches:
        entries.append(
            {
                "name": f"{s.name}-snmp",
                "snmp_community": s.snmp_community,
                "drivers": ["snmp"],
                "targets": [address(s.ip)],
            }
        )
        entries.append(
            {
                "name": f"{s.name}-cli",
                "username": s.credential.username,
                "password": s.credential.password,
                "enable_secret": s.enable_secret or None,
                "drivers": ["cli"],
                "targets": [address(s.ip)],
            }
        )
    return {"credentials": entries}


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


class Demo:
    def __init__(self, data_dir: Path, host: str, port: int, mode: Mode, site_name: str) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.mode = mode
        self.site_name = site_name
        self.site_id = f"demo-{site_name}"
        self.url = f"http://{host}:{port}"

    async def run(self, *, change: bool, serve: bool) -> None:
        from lab.runner import LabRunner
        from lab.site import load_site

        console.rule("[bold]1. the simulated site")
        runner = LabRunner(
            load_site(self.site_name),
            mode=self.mode,
            lab_id=DEMO_LAB_ID,
            loopback_base=DEMO_LOOPBACK_BASE,
        )
        await runner.start()
        try:
            await self._with_lab(runner, change=change, serve=serve)
        finally:
            console.print("stopping the simulated site ...")
            await runner.stop()

    async def _with_lab(self, runner: Any, *, change: bool, serve: bool) -> None:
        from aiohttp import web

        from collector.app import create_app
        from collector.config import CollectorConfig

        site = runner.state.site
        console.print(
            f"{len(site.devices)} cameras/recorders and {len(site.switches)} switches up in "
            f"{runner.timings.get('total', 0):.1f} s ({runner.mode} mode)"
        )
        creds = self.data_dir / "credentials.yaml"
        _write_private(creds, yaml.safe_dump(demo_credentials(site, runner.address), sort_keys=False))

        console.rule("[bold]2. the collector (embedded SQLite database)")
        config = CollectorConfig(data_dir=self.data_dir / "collector", host=self.host, port=self.port)
        app_runner = web.AppRunner(create_app(config))
        await app_runner.setup()
        await web.TCPSite(app_runner, self.host, self.port).start()
        try:
            console.print(f"collector at {self.url} (database {config.db_url})")
            code = await self._enrolment_code(config)
            passwords, tech_token = await self._people(config)
            await self._into_vault(config, creds)
            token_file = self.data_dir / "agent" / "agent.token"
            token_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_private(token_file, str((await enrol_agent(self.url, code, "demo-agent"))["token"]) + "\n")

            console.rule("[bold]3. scan the site with the vault's logins and push")
            await self._scan(runner, token_file)
            await self._approve(tech_token, 1)
            from asbuilt.demo_record import seed_record

            console.print(await seed_record(config, self.site_id))  # the site record beside the scan
            if change:
                console.rule("[bold]4. the site drifts; scan again")
                await self._drift(runner)
                await self._scan(runner, token_file)
            console.rule("[bold]5. the record")
            console.print(f"web UI:   [bold]{self.url}/[/bold]   sign in as one of:")
            for name, role, _ in DEMO_PEOPLE:
                console.print(f"  {role:<11} [bold]{name:<9}[/bold] password [bold]{passwords[name]}[/bold]")
            console.print(f"break-glass admin token (API only): {config.data_dir / 'admin-token'}")
            console.print(f"API:      {self.url}/api/v1/sites/{self.site_id}/diff/baseline")
            if serve:
                console.print("serving; press Ctrl-C to stop")
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await stop.wait()
        finally:
            await app_runner.cleanup()

    async def _enrolment_code(self, config: Any) -> str:
        from collector.db.session import make_engine, make_sessionmaker
        from collector.enrolment import issue_code

        engine = make_engine(config.db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                code, _ = await issue_code(
                    session,
                    customer=DEMO_CUSTOMER,
                    site_slug=self.site_id,
                    site_name="Depot Nord (demo)",
                    now=datetime.now(UTC),
                    ttl=timedelta(hours=1),
                )
            return code
        finally:
            await engine.dispose()

    async def _people(self, config: Any) -> tuple[dict[str, str], str]:
        """One user per role with a fresh random password, and a personal API token for the technician."""
        from collector.auth import cli_admin
        from collector.db.session import make_engine, make_sessionmaker
        from collector.services import accounts, people
        from collector.services.context import Ctx

        ctx = Ctx(cli_admin("demo"))
        passwords = {name: "-".join(secrets.token_urlsafe(4) for _ in range(3)) for name, _, _ in DEMO_PEOPLE}
        token = ""
        engine = make_engine(config.db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                customer = await people.customer_by_name(db, DEMO_CUSTOMER)
                region = await people.region_by_name(db, DEMO_REGION) or await people.create_region(
                    db, ctx, DEMO_REGION
                )
                assert customer is not None
                await people.set_customer_region(db, ctx, customer, region)
                for name, role, scope in DEMO_PEOPLE:
                    request = people.ScopeRequest(
                        people.parse_role(role), scope.get("regions", ()), scope.get("customers", ())
                    )
                    user = await people.create_user(
                        db, ctx, name, request, password=passwords[name],
                        customer_admin=scope.get("customer_admin", False),
                    )  # fmt: skip
                    if role == "technician":
                        _, token = await accounts.create_token(db, ctx, user, "demo approvals")
            return passwords, token
        finally:
            await engine.dispose()

    async def _into_vault(self, config: Any, creds: Path) -> None:
        """The site's existing credentials file into the vault in one step, then off the disk."""
        from collector.auth import cli_admin
        from collector.db.session import make_engine, make_sessionmaker
        from collector.services import vault
        from collector.services.context import Ctx
        from collector.vault.keyring import KeyringSource
        from collector.vault.store import VaultKeys

        raw = await asyncio.to_thread(creds.read_bytes)
        engine = make_engine(config.db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                keys = VaultKeys(KeyringSource.for_config(config))
                ctx = Ctx(cli_admin("demo"))
                result = await vault.import_entries(db, ctx, keys, self.site_id, raw, "application/yaml")
        finally:
            await engine.dispose()
        await asyncio.to_thread(creds.unlink)
        console.print(f"{result.created} device logins moved into the vault; {creds.name} deleted")

    async def _scan(self, runner: Any, token_file: Path) -> None:
        asbuilt = str(Path(sys.executable).with_name("asbuilt"))
        if runner.mode == "netns":
            scope = runner.state.site.subnet
            cmd = ["ip", "netns", "exec", runner.names.scanner, asbuilt, "scan", scope]
        else:
            first = runner.address(runner.state.site.scanner_ip)
            scope = ".".join(first.split(".")[:3]) + ".0/24"
            ports = runner.ports
            cmd = [asbuilt, "scan", scope, "--ports", f"http={ports.http},snmp={ports.snmp},ssh={ports.ssh}"]
        spool = self.data_dir / "agent" / "spool"
        cmd += ["--site", self.site_id, "--vault", "--push", self.url, "--token-file", str(token_file),
                "--spool", str(spool)]  # fmt: skip
        console.print("$ " + " ".join(cmd))
        proc = await asyncio.create_subprocess_exec(*cmd)
        code = await proc.wait()
        if code not in (0, 3):
            raise RuntimeError(f"the scan or its push failed (exit code {code})")

    async def _approve(self, token: str, version: int) -> None:
        url = f"{self.url}/api/v1/sites/{self.site_id}/baseline"
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
            http.post(url, json={"version": version, "note": "commissioning scan (demo)"}) as resp,
        ):
            if resp.status not in (200, 201):
                raise RuntimeError(f"approving the baseline failed: HTTP {resp.status} {await resp.text()}")
        console.print(f"version {version} approved as the documented baseline")

    async def _drift(self, runner: Any) -> None:
        from lab.changes import apply_change

        site = runner.state.site
        for kind, args, words in DEMO_CHANGES:
            site = apply_change(site, kind, args)
            console.print(f"  - {words}")
        await runner.apply(site)


def demo(
    port: int = typer.Option(8080, "--port", help="Port for the collector and web UI"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address for the collector and web UI"),
    site: str = typer.Option("small", "--site", help="Simulated site: small, large, or a site file"),
    loopback: bool = typer.Option(False, "--loopback", help="Loopback addresses even as root"),
    data_dir: Path = typer.Option(Path(".asbuilt/demo"), "--data-dir", help="Demo state (wiped at start)"),
    change: bool = typer.Option(True, "--change/--no-change", help="Drift the site and scan again"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Keep serving the web UI after the scans"),
) -> None:
    """Scan the simulated site, store it in the collector, show it in the web UI."""
    from lab.netns import is_root

    mode: Mode = "netns" if is_root() and not loopback and shutil.which("ip") else "loopback"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    if mode == "netns":
        from lab.netns import LabNames, delete_namespaces

        delete_namespaces(LabNames(DEMO_LAB_ID).prefix)  # left behind by a demo that was killed
    try:
        asyncio.run(Demo(data_dir, host, port, mode, site).run(change=change, serve=serve))
    except (RuntimeError, OSError) as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(1) from None
