"""A cold process collecting many ONVIF devices at once: the WSDLs are parsed once, and no device
times out for it.

The collection runs in a fresh interpreter (this file run as a script), because the test process has
usually parsed the WSDLs already. The child serves every ONVIF device of the small site from the lab
on loopback (127.29.0.0/16), collects them all concurrently with a 2 s call timeout, then again warm,
and reports the outcome as one JSON line; it counts WSDL parses by wrapping zeep's document loader.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CALL_TIMEOUT_S = 2.0


def test_cold_process_collects_all_devices_concurrently_without_timeouts() -> None:
    child = subprocess.run(
        [sys.executable, __file__],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"\n{outcome['devices']} ONVIF devices, {CALL_TIMEOUT_S} s call timeout: "
        f"cold collect {outcome['cold_s']:.2f} s, warm collect {outcome['warm_s']:.2f} s"
    )

    assert outcome["devices"] == 14
    assert outcome["cached_at_start"] == 0, "the child was meant to start with no WSDL parsed"
    for run in ("cold", "warm"):
        failed = {ip: error for ip, error in outcome[run].items() if error}
        assert not failed, f"{run} run: {failed}"
    parses = outcome["parses"]
    assert parses and all(count == 1 for count in parses.values()), parses
    assert {"devicemgmt.wsdl", "media.wsdl"} <= set(parses)


# ---------------------------------------------------------------- the child process


async def _collect_all(devices: list[Any]) -> dict[str, str | None]:
    from drivers.base import Credential, DriverOptions, Ports
    from drivers.errors import DriverError
    from drivers.onvif import OnvifDriver
    from lab.host import PortPlan

    ports = Ports(http=PortPlan.unprivileged().http)

    async def one(ip: str, device: Any) -> str | None:
        credential = Credential(
            name="installer", username=device.credential.username, password=device.credential.password
        )
        driver = OnvifDriver(ip, credential, DriverOptions(timeout_s=CALL_TIMEOUT_S, ports=ports))
        try:
            report = await driver.collect()
        except DriverError as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            await driver.close()
        ident = report.identity
        return None if ident is not None and ident.serial == device.serial else f"wrong identity {ident}"

    results = await asyncio.gather(*(one(ip, device) for ip, device in devices))
    return {ip: result for (ip, _), result in zip(devices, results, strict=True)}


async def _child() -> dict[str, Any]:
    import onvif.client
    from zeep.wsdl import Document

    from lab.host import PortPlan, SimHost
    from lab.onvif import start_onvif
    from lab.site import load_site
    from lab.state import LabState

    parses: dict[str, int] = {}
    load = onvif.client.original_load

    def counted_load(self: Document, location: str, *args: Any, **kwargs: Any) -> None:
        name = Path(str(location)).name
        parses[name] = parses.get(name, 0) + 1
        load(self, location, *args, **kwargs)

    onvif.client.original_load = counted_load
    cached_at_start = len(onvif.client._DOCUMENT_CACHE)

    state = LabState(load_site("small"))
    devices = [("127.29.0." + d.ip.rsplit(".", 1)[1], d) for d in state.site.devices]
    ports = PortPlan.unprivileged()
    servers = []
    try:
        for ip, device in devices:
            servers.append(await start_onvif(state, device.name, SimHost(device.name, ip=ip, ports=ports)))
        started = time.perf_counter()
        cold = await _collect_all(devices)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm = await _collect_all(devices)
        warm_s = time.perf_counter() - started
    finally:
        for server in servers:
            await server.close()
    return {
        "devices": len(devices),
        "cached_at_start": cached_at_start,
        "cold": cold,
        "warm": warm,
        "cold_s": cold_s,
        "warm_s": warm_s,
        "parses": parses,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(asyncio.run(_child())))
