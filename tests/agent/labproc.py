"""The simulated site in a child process, for end-to-end scans and the scan benchmark.

The lab's simulators (pysnmp agents, SSH servers, SOAP) are busy; in the scanner's own event loop
they would slow the scan they are measured by. A child process keeps them apart (and uses the
second core). The parent sends changes (`set_fault`, ...) over a pipe; `stop()` always tears the
lab down, namespaces included, also when a test fails.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

from lab.host import PortPlan
from lab.site import LabSite, load_site
from lab.truth import GroundTruth, ground_truth

START_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 60.0


def _child(site_name: str, mode: str, lab_id: str, base: int, unprivileged: bool, conn: Connection) -> None:
    from lab.changes import apply_change
    from lab.runner import LabRunner

    async def main() -> None:
        ports = PortPlan.unprivileged() if unprivileged else PortPlan.standard()
        runner = LabRunner(load_site(site_name), mode=mode, lab_id=lab_id, loopback_base=base, ports=ports)  # type: ignore[arg-type]
        try:
            await runner.start()
            conn.send(("ready", runner.status().model_dump(mode="json")))
            loop = asyncio.get_running_loop()
            while True:
                op, args = await loop.run_in_executor(None, conn.recv)
                if op == "stop":
                    break
                try:
                    new = apply_change(runner.state.site, op, args)
                    summary = await runner.apply(new)
                    conn.send(("ok", summary))
                except Exception as exc:
                    conn.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            await runner.stop()
        conn.send(("stopped", None))

    asyncio.run(main())


class LabProcess:
    def __init__(
        self,
        site: str = "small",
        *,
        mode: str = "loopback",
        lab_id: str = "f",
        base: int = 26,
        unprivileged: bool = True,
    ) -> None:
        self.site_name, self.mode, self.lab_id, self.base = site, mode, lab_id, base
        self.unprivileged = unprivileged
        self.site: LabSite = load_site(site)
        self.status: dict[str, Any] = {}
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child,
            args=(site, mode, lab_id, base, unprivileged, child),
            name=f"lab-{lab_id}",
            daemon=True,
        )

    # ------------------------------------------------------------ lifecycle

    def start(self) -> LabProcess:
        self._proc.start()
        if not self._conn.poll(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError("lab did not start in time")
        try:
            kind, payload = self._conn.recv()
        except (EOFError, OSError):
            self.stop()
            code = self._proc.exitcode
            raise RuntimeError(f"lab child exited before it was ready (exit code {code})") from None
        if kind != "ready":
            self.stop()
            raise RuntimeError(f"lab failed to start: {payload}")
        self.status = payload
        down = {
            d["name"]: f"{s}: {v.get('error') or 'down'}"
            for d in payload["devices"]
            for s, v in d["services"].items()
            if not v["up"]
        }
        if down:
            self.stop()
            raise RuntimeError(f"lab services down: {down}")
        return self

    def stop(self) -> None:
        if self._proc.is_alive():
            try:
                self._conn.send(("stop", None))
                if self._conn.poll(60):
                    self._conn.recv()
            except (OSError, EOFError):
                pass
            self._proc.join(30)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(10)
        if self.mode == "netns":
            from lab.netns import LabNetwork

            LabNetwork(self.lab_id).teardown()  # idempotent: removes whatever asb-<id>-* is left

    def __enter__(self) -> LabProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ changes

    def change(self, kind: str, **args: Any) -> dict[str, Any]:
        from lab.changes import apply_change

        self._conn.send((kind, args))
        if not self._conn.poll(REQUEST_TIMEOUT_S):
            raise RuntimeError(f"lab did not apply {kind} {args}")
        answer, payload = self._conn.recv()
        if answer != "ok":
            raise RuntimeError(f"lab refused {kind} {args}: {payload}")
        self.site = apply_change(self.site, kind, args)  # our copy of the site follows the lab's
        return dict(payload)

    # ------------------------------------------------------------ what a scan needs

    def address(self, ip: str) -> str:
        if self.mode == "netns":
            return ip
        from lab.runner import loopback_address

        return loopback_address(ip, self.site.subnet, self.base)

    @property
    def scope(self) -> str:
        import ipaddress

        net = ipaddress.ip_network(self.site.subnet)
        if self.mode == "netns":
            return str(net)
        first = self.address(str(net.network_address))
        return f"{first}/{net.prefixlen}"

    @property
    def ports_option(self) -> str:
        p = PortPlan.unprivileged() if self.unprivileged else PortPlan.standard()
        return f"http={p.http},snmp={p.snmp},ssh={p.ssh}"

    @property
    def scanner_netns(self) -> str | None:
        return self.status.get("scanner_netns")

    def truth(self) -> GroundTruth:
        return ground_truth(self.site)

    def credentials(self) -> list[dict[str, Any]]:
        """The site's credential file: one set per device, bound to its address (each camera on this
        site has its own password), the switches' CLI login and SNMP community."""
        creds: list[dict[str, Any]] = []
        for d in self.site.devices:
            creds.append({
                "name": f"lab-{d.name}", "username": d.credential.username, "password": d.credential.password,
                "drivers": ["onvif"], "targets": [self.address(d.ip)],
            })  # fmt: skip
        for d in self.site.devices:
            if d.snmp_community:
                creds.append({
                    "name": f"lab-{d.name}-snmp", "snmp_community": d.snmp_community, "drivers": ["snmp"],
                    "targets": [self.address(d.ip)],
                })  # fmt: skip
        for s in self.site.switches:
            login = s.credential
            creds.append({
                "name": f"lab-{s.name}-cli", "username": login.username, "password": login.password,
                "enable_secret": s.enable_secret or None, "drivers": ["cli"], "targets": [self.address(s.ip)],
            })  # fmt: skip
            creds.append({
                "name": f"lab-{s.name}-snmp", "snmp_community": s.snmp_community, "drivers": ["snmp"],
                "targets": [self.address(s.ip)],
            })  # fmt: skip
        return creds

    def write_credentials(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump({"credentials": self.credentials()}, sort_keys=False))
        path.chmod(0o600)
        return path

    def secrets(self) -> set[str]:
        values = {d.credential.password for d in self.site.devices}
        values |= {d.snmp_community for d in self.site.devices if d.snmp_community}
        for s in self.site.switches:
            values |= {s.credential.password, s.snmp_community, s.enable_secret}
        return {v for v in values if v and len(v) >= 4}
