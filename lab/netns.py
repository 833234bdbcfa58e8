"""Namespace mode: a real L2 segment made of network namespaces, built with iproute2.

Layout for lab `L` (every name starts with `asb-L-`, so teardown can find them all, also after a
crash, and never touches anybody else's namespaces):

    asb-L-br      holds bridge br0 (multicast snooping off, so WS-Discovery/mDNS floods every port)
    asb-L-<n>     one per device: lo up, eth0 with the device's MAC and ip/prefix; its veth peer
                  `p<n>` is enslaved to br0
    asb-L-scan    the scanner: eth0 with the site's scanner_ip, from where `asbuilt scan` runs

Each device namespace gets a 224.0.0.0/4 route on eth0, so multicast senders that do not pick an
interface still reach the segment. Commands go through `ip -batch` (one process per namespace for
the addresses, one for every `netns add` / veth creation), which brings 200 namespaces up in about
a second. The batch text is built by pure functions so it can be read and tested.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "asb-"
BRIDGE = "br0"
LAB_ID = re.compile(r"^[a-z0-9]{1,16}$")
CONCURRENCY = 8  # `ip` processes at once while configuring namespaces


class NetnsError(RuntimeError):
    """An iproute2 command failed; carries its stderr."""


def is_root() -> bool:
    return os.geteuid() == 0


def check_lab_id(lab_id: str) -> str:
    """Lab ids are short and dash-free so that `asb-<id>-` is never a prefix of another lab's names."""
    if not LAB_ID.match(lab_id):
        raise ValueError(f"lab id {lab_id!r} must be 1-16 lowercase letters or digits")
    return lab_id


@dataclass(frozen=True)
class Endpoint:
    """One host on the lab segment: its namespace, the bridge-side peer name, MAC and ip/prefix."""

    netns: str
    peer: str  # interface name in the bridge namespace (max 15 characters)
    mac: str
    address: str  # "10.77.0.21/24"

    def __post_init__(self) -> None:
        if len(self.peer) > 15:
            raise ValueError(f"interface name {self.peer!r} is longer than 15 characters")


@dataclass(frozen=True)
class LabNames:
    lab_id: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.lab_id}-"

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br"

    @property
    def scanner(self) -> str:
        return f"{self.prefix}scan"

    def device(self, index: int) -> str:
        return f"{self.prefix}{index}"


# ---------------------------------------------------------------- batch text (pure)


def bridge_batch() -> str:
    return (
        f"link set lo up\nlink add {BRIDGE} type bridge mcast_snooping 0 stp_state 0\nlink set {BRIDGE} up\n"
    )


def veth_batch(endpoints: Iterable[Endpoint], bridge_ns: str) -> str:
    """Root-namespace batch: each veth is created directly with one end in each namespace, so
    no interface name ever exists in the host's own namespace."""
    return "".join(
        f"link add eth0 netns {ep.netns} address {ep.mac} type veth peer name {ep.peer} netns {bridge_ns}\n"
        for ep in endpoints
    )


def enslave_batch(endpoints: Iterable[Endpoint]) -> str:
    return "".join(f"link set {ep.peer} master {BRIDGE} up\n" for ep in endpoints)


def endpoint_batch(ep: Endpoint) -> str:
    """Inside the endpoint's namespace: no IPv6 autoconfiguration noise, address, up, multicast route."""
    return (
        "link set lo up\n"
        "link set eth0 addrgenmode none\n"
        f"addr add {ep.address} dev eth0\n"
        "link set eth0 up\n"
        "route add 224.0.0.0/4 dev eth0\n"
    )


# ---------------------------------------------------------------- running ip


async def ip_batch(text: str, netns: str | None = None) -> None:
    """Run `ip [-n NS] -batch -` with `text` on stdin; raise NetnsError naming the failing line."""
    if not text:
        return
    argv = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(text.encode()), timeout=60)
    if proc.returncode != 0:
        where = f" in {netns}" if netns else ""
        raise NetnsError(f"ip -batch{where} failed: {err.decode(errors='replace').strip()}")


def list_namespaces(prefix: str = PREFIX) -> list[str]:
    """Names of existing namespaces starting with `prefix` (only ever asb-…)."""
    if not prefix.startswith(PREFIX):
        raise ValueError(f"refusing to list namespaces outside the {PREFIX} prefix")
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False)
    names = (line.split()[0] for line in out.stdout.splitlines() if line.strip())
    return sorted(n for n in names if n.startswith(prefix))


def delete_namespaces(prefix: str) -> list[str]:
    """Delete every namespace whose name starts with `prefix` (veth peers die with them).

    Idempotent; synchronous so it also works from a signal handler or after a crash."""
    if not prefix.startswith(PREFIX) or len(prefix) <= len(PREFIX):
        raise ValueError(f"refusing to delete namespaces for prefix {prefix!r}")
    names = list_namespaces(prefix)
    if names:
        text = "".join(f"netns del {n}\n" for n in names)
        # -force: keep going past a namespace that vanished meanwhile
        subprocess.run(
            ["ip", "-force", "-batch", "-"], input=text, text=True, capture_output=True, timeout=60
        )
    return names


# ---------------------------------------------------------------- the segment


class LabNetwork:
    """The bridge, the scanner and the device namespaces of one lab."""

    def __init__(self, lab_id: str) -> None:
        self.names = LabNames(check_lab_id(lab_id))
        self.endpoints: dict[str, Endpoint] = {}  # by namespace name

    async def build(self, scanner_address: str, scanner_mac: str, devices: list[Endpoint]) -> None:
        """Bridge first, then every endpoint. Leftovers of a crashed lab with the same id go first."""
        if not is_root():
            raise NetnsError("namespace mode needs root (CAP_NET_ADMIN); use loopback mode instead")
        delete_namespaces(self.names.prefix)
        await ip_batch(f"netns add {self.names.bridge}\n")
        await ip_batch(bridge_batch(), self.names.bridge)
        scanner = Endpoint(self.names.scanner, "pscan", scanner_mac, scanner_address)
        await self.add([scanner, *devices])

    async def add(self, endpoints: list[Endpoint]) -> None:
        if not endpoints:
            return
        await ip_batch("".join(f"netns add {ep.netns}\n" for ep in endpoints))
        await ip_batch(veth_batch(endpoints, self.names.bridge))
        await ip_batch(enslave_batch(endpoints), self.names.bridge)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def configure(ep: Endpoint) -> None:
            async with limit:
                await ip_batch(endpoint_batch(ep), ep.netns)

        await asyncio.gather(*(configure(ep) for ep in endpoints))
        self.endpoints.update({ep.netns: ep for ep in endpoints})

    async def remove(self, netns_names: list[str]) -> None:
        # Deleting the bridge-side peer first removes the veth pair at once; a deleted namespace
        # frees its interfaces only later, and the same names may be needed again right away.
        peers = [self.endpoints[n].peer for n in netns_names if n in self.endpoints]
        await ip_batch("".join(f"link del {p}\n" for p in peers), self.names.bridge)
        text = "".join(f"netns del {n}\n" for n in netns_names if n.startswith(self.names.prefix))
        await ip_batch(text)
        for n in netns_names:
            self.endpoints.pop(n, None)

    def teardown(self) -> list[str]:
        self.endpoints.clear()
        return delete_namespaces(self.names.prefix)
