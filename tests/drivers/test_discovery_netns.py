"""Discovery on a real L2 segment: the small site in network namespaces (asb-e1-*, built by the lab
runner and always deleted), the scan run as a separate process inside the scanner's namespace.

Covers what loopback cannot: scapy ARP, the neighbour-table fallback without CAP_NET_RAW, multicast
WS-Discovery out of one interface, and mDNS on a real link. Needs root (CI runs as root).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from lab.netns import delete_namespaces
from lab.runner import LabRunner
from lab.site import load_site

LAB_ID = "e1"
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespace mode needs root (CAP_NET_ADMIN)")

SCAN = """
import asyncio, json, sys
from drivers.discovery.arp import arp_sweep
from drivers.discovery.wsd import probe
from drivers.discovery.mdns import browse

async def main(what, subnet, scanner_ip):
    if what == "arp":
        r = await arp_sweep(subnet, "eth0", 1.0)
        out = {"method": r.method, "warning": r.warning, "hosts": {c.ip: c.mac for c in r.candidates}}
    elif what == "wsd":
        out = {"hosts": {c.ip: c.wsd_endpoint for c in await probe(["eth0"], window_s=1.0)}}
    else:
        out = {"hosts": {c.ip: c.mac for c in await browse([scanner_ip], window_s=1.5)}}
    print(json.dumps(out))

asyncio.run(main(*sys.argv[1:]))
"""


async def scan_in_namespace(netns: str, what: str, subnet: str, scanner_ip: str, *, raw: bool = True) -> dict:
    drop_raw = [] if raw else ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", "--"]
    command = ["ip", "netns", "exec", netns, *drop_raw, sys.executable, "-c", SCAN, what, subnet, scanner_ip]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        raise
    assert process.returncode == 0, stderr.decode()[-2000:]
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def test_arp_wsd_and_mdns_on_a_namespace_segment() -> None:
    site = load_site("small")
    runner = LabRunner(site, mode="netns", lab_id=LAB_ID)
    try:
        await runner.start()
        netns = runner.names.scanner
        args = (site.subnet, site.scanner_ip)
        arp, neigh, wsd, mdns = await asyncio.gather(
            scan_in_namespace(netns, "arp", *args),
            scan_in_namespace(netns, "arp", *args, raw=False),
            scan_in_namespace(netns, "wsd", *args),
            scan_in_namespace(netns, "mdns", *args),
        )
    finally:
        try:
            await runner.stop()
        finally:
            delete_namespaces(f"asb-{LAB_ID}-")
    every_host = {ip: mac for _name, ip, mac in site.hosts()}
    assert arp["method"] == "scapy" and arp["warning"] is None
    assert arp["hosts"] == every_host
    assert neigh["method"] == "neigh" and "CAP_NET_RAW" in neigh["warning"]
    assert neigh["hosts"] == every_host
    assert wsd["hosts"] == {d.ip: d.endpoint_uuid for d in site.devices if not d.faults.wsd_disabled}
    assert mdns["hosts"] == {d.ip: d.mac for d in site.devices if d.personality == "axis"}
