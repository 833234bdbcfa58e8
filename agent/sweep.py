"""Which hosts exist: run the discoverers concurrently and merge what they saw by IP.

- ARP on every scope that sits on one of our interfaces (the discovery module falls back to a TCP
  connect sweep plus the kernel's neighbour table without CAP_NET_RAW, and says so: we pass that on
  as a notice, never a crash);
- WS-Discovery multicast on those interfaces, plus unicast probes to every scope address when the
  scope is routed or on loopback (multicast does not cross routers), or when asked to;
- mDNS browsing on the same interfaces;
- then a TCP connect probe of web/SSH/RTSP ports on hosts ARP found but WS-Discovery did not,
  so identification can tell a switch (SSH) from a camera that hides from WS-Discovery (web).
For routed and loopback scopes, where ARP cannot see, the TCP sweep covers the whole scope.

Nothing is ever sent outside the configured scopes; answers from outside them are dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.config import ScanConfig, in_scopes, is_loopback_scope
from drivers.base import Candidate
from drivers.errors import DriverError
from drivers.schema import Problem, ProblemKind, Stage

log = logging.getLogger(__name__)

EXTRA_TCP_PORTS = (80, 443, 22, 554)  # standard web, SSH and RTSP, besides the configured ports
TCP_CONCURRENCY = 256
STAGE_SLACK_S = 10.0  # on top of a discoverer's own window before we give up on it
TCP_START_S = 0.3  # after the WS-Discovery probes went out: when most ProbeMatches are in
LARGE_TCP_SWEEP = 4096  # addresses from which the TCP sweep goes in two rounds (see run_tcp)


@dataclass
class ArpOutcome:
    candidates: list[Candidate]
    method: str
    warning: str | None = None


class Discovery(Protocol):
    """The discoverers the sweep drives; drivers.discovery in production, fakes in tests."""

    async def arp(self, scope: str, interface: str | None, timeout_s: float) -> ArpOutcome: ...

    async def wsd(
        self, interfaces: Sequence[str], unicast_targets: Sequence[str], port: int, window_s: float
    ) -> list[Candidate]: ...

    async def mdns(self, interfaces: Sequence[str], window_s: float) -> list[Candidate]: ...

    async def tcp(self, ips: Sequence[str], ports: Sequence[int], timeout_s: float) -> list[Candidate]: ...


@dataclass
class SweepResult:
    candidates: list[Candidate]
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScopePlan:
    scope: str
    interface: str | None  # None: routed or loopback, ARP cannot see it
    interface_ip: str | None

    @property
    def local(self) -> bool:
        return self.interface is not None


def plan_scopes(
    config: ScanConfig, networks: Iterable[tuple[str, str, str]] | None = None
) -> list[ScopePlan]:
    """Pair each scope with the interface it sits on. `networks`: (interface, ip, network) triples."""
    nets = list(local_networks() if networks is None else networks)
    plans = []
    for scope in config.scopes:
        net = ipaddress.ip_network(scope)
        chosen: tuple[str, str] | None = None
        if not net.is_loopback:
            for name, ip, network in nets:
                if config.interfaces and name not in config.interfaces:
                    continue
                if net.overlaps(ipaddress.ip_network(network)):
                    chosen = (name, ip)
                    break
        plans.append(ScopePlan(scope, chosen[0] if chosen else None, chosen[1] if chosen else None))
    return plans


def local_networks() -> list[tuple[str, str, str]]:
    """(interface, ip, network) for every IPv4 address of this host, loopback excluded."""
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                network = ipaddress.ip_interface(f"{ip.ip}/{ip.network_prefix}").network
                found.append((adapter.nice_name, ip.ip, str(network)))
    return found


def own_addresses() -> set[str]:
    import ifaddr

    return {ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)}


def tcp_ports(config: ScanConfig) -> tuple[int, ...]:
    return tuple(sorted({config.ports.http, config.ports.ssh, *EXTRA_TCP_PORTS}))


def unicast_targets(config: ScanConfig, plans: Sequence[ScopePlan]) -> list[str]:
    """Explicit targets, plus every host address of scopes multicast cannot reach (or all, if asked)."""
    targets = dict.fromkeys(config.unicast_targets)
    for plan in plans:
        wanted = config.unicast if config.unicast is not None else not plan.local
        if wanted:
            targets.update(dict.fromkeys(hosts_of(plan.scope)))
    return list(targets)


def hosts_of(scope: str) -> Iterable[str]:
    net = ipaddress.ip_network(scope)
    if net.num_addresses == 1:
        return [str(net.network_address)]
    return (str(ip) for ip in net.hosts())


async def sweep(
    config: ScanConfig,
    discovery: Discovery | None = None,
    *,
    networks: Iterable[tuple[str, str, str]] | None = None,
    exclude: set[str] | None = None,
    on_found: Callable[[int], None] | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
) -> SweepResult:
    """Find the hosts in the configured scopes. Never raises for a failing discoverer.

    `on_candidate` streams: it hears of every host (and every new hint about it) as soon as a
    discoverer sees it — a WS-Discovery reply, an open port — not when the sweep ends."""
    plans = plan_scopes(config, networks)
    exclude = own_addresses() if exclude is None else exclude
    result = SweepResult(candidates=[])
    found: dict[str, Candidate] = {}
    methods = config.methods

    def merge_in(c: Candidate, source: str) -> bool:
        if c.ip in exclude or not in_scopes(c.ip, config.scopes):
            return False
        c = c if source in c.sources else c.model_copy(update={"sources": c.sources | {source}})
        merged = found[c.ip].merge(c) if c.ip in found else c
        changed = found.get(c.ip) != merged
        found[c.ip] = merged
        if changed and on_candidate is not None:
            on_candidate(merged)
        return True

    def add(items: Iterable[Candidate], source: str) -> None:
        count = sum(1 for c in items if merge_in(c, source))
        result.counts[source] = result.counts.get(source, 0) + count
        if on_found:
            on_found(len(found))

    discovery = discovery or LiveDiscovery(on_found=merge_in if on_candidate else None)

    async def guarded(name: str, limit_s: float, call: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit_s):
                found = await call
                log.debug("%s discovery took %.2f s", name, time.perf_counter() - started)
                return found
        except TimeoutError:
            result.problems.append(
                _problem(name, ProblemKind.TIMEOUT, f"{name} gave no result within {limit_s:g} s")
            )
        except DriverError as exc:
            result.problems.append(_problem(name, exc.kind, str(exc)))
        except Exception as exc:  # a discoverer's bug costs its hosts, not the scan
            log.exception("%s discovery failed", name)
            result.problems.append(_problem(name, ProblemKind.INTERNAL, f"{type(exc).__name__}: {exc}"))
        return None

    local = [p for p in plans if p.local]
    remote = [p for p in plans if not p.local]
    # Discoverers are given interface addresses: zeroconf takes addresses, not interface names.
    interfaces = sorted({p.interface_ip for p in local if p.interface_ip})
    wsd_targets = unicast_targets(config, plans)
    ports = tcp_ports(config)

    async def run_arp(plan: ScopePlan) -> None:
        blocks = max(1, ipaddress.ip_network(plan.scope).num_addresses // 1024)  # one srp() per /22
        outcome = await guarded(
            "arp",
            blocks * (config.arp_timeout_s + 1) + STAGE_SLACK_S,
            discovery.arp(plan.scope, plan.interface, config.arp_timeout_s),
        )
        if outcome is None:
            return
        add(outcome.candidates, "arp")
        result.methods.append(
            f"arp:{outcome.method}" if outcome.method and outcome.method != "arp" else "arp"
        )
        if outcome.warning:
            result.notices.append(f"{plan.scope}: {outcome.warning}")
            log.warning("%s: %s", plan.scope, outcome.warning)

    async def run_wsd() -> None:
        if not interfaces and not wsd_targets:
            return
        limit = config.wsd_window_s + STAGE_SLACK_S + len(wsd_targets) / 400  # ~4 datagrams at 2000/s
        items = await guarded(
            "wsd", limit, discovery.wsd(interfaces, wsd_targets, config.ports.wsd, config.wsd_window_s)
        )
        if items is not None:
            add(items, "wsd")
            result.methods.append("wsd" + (":unicast" if wsd_targets else ""))

    # mDNS is link-local: browsed on our LAN interfaces, and on loopback scopes (a lab on `lo`) from
    # an address of the scope itself; never on routed scopes.
    mdns_on = interfaces + [_loopback_browse_address(p.scope) for p in remote if is_loopback_scope(p.scope)]

    async def run_mdns() -> None:
        if not mdns_on:
            return
        items = await guarded(
            "mdns", config.wsd_window_s + STAGE_SLACK_S, discovery.mdns(mdns_on, config.wsd_window_s)
        )
        if items is not None:
            add(items, "mdns")
            result.methods.append("mdns")

    async def run_tcp(ips: Iterable[str]) -> None:
        ips = list(ips)
        # A large range (a /16 of mostly empty space) is probed on the ports a readable device must
        # have first (web for ONVIF, SSH for a switch CLI); only hosts that have one get the rest.
        first = (config.ports.http, config.ports.ssh) if len(ips) > LARGE_TCP_SWEEP else ports
        limit = config.timeout_s * 3 + STAGE_SLACK_S + len(ips) * len(first) / 500
        items = await guarded("tcp", limit, discovery.tcp(ips, first, min(config.timeout_s, 1.0)))
        if items and first != ports:
            rest = tuple(p for p in ports if p not in first)
            more = await guarded(
                "tcp", limit, discovery.tcp([c.ip for c in items], rest, min(config.timeout_s, 1.0))
            )
            items = [*items, *(more or [])]
        if items is not None:
            add(items, "tcp")
            result.methods.append("tcp")

    # First the light, listening discoverers together. The TCP sweep of routed/loopback scopes starts
    # once the WS-Discovery probes are out and most replies are in (TCP_START_S): thousands of
    # connects at once would delay the ProbeMatches of the very devices WS-Discovery is hearing
    # (measured on the 200-camera lab: 157 of 204 endpoints lost when both started together), but
    # waiting for the whole window would keep the switches waiting for nothing.
    first: list[Awaitable[None]] = []
    if methods.arp:
        first += [run_arp(p) for p in local]
    if methods.wsd:
        first.append(run_wsd())
    if methods.mdns:
        first.append(run_mdns())

    async def remote_tcp() -> None:
        await asyncio.sleep(min(config.wsd_window_s, TCP_START_S + len(wsd_targets) / 1000))
        heard = {ip for ip, c in found.items() if "wsd" in c.sources or c.open_ports}
        probe = (ip for p in remote for ip in hosts_of(p.scope) if ip not in heard and ip not in exclude)
        await run_tcp(probe)

    if methods.tcp and remote:
        first.append(remote_tcp())
    await asyncio.gather(*first)

    if methods.tcp:
        # On our own LAN only the hosts ARP found that did not answer WS-Discovery (what are they?).
        heard = {ip for ip, c in found.items() if "wsd" in c.sources or c.open_ports}
        local_probe = sorted(
            ip for ip in found if ip not in heard and not any(in_scopes(ip, [p.scope]) for p in remote)
        )
        if local_probe:
            await run_tcp(local_probe)

    result.candidates = sorted(found.values(), key=lambda c: ipaddress.ip_address(c.ip))
    result.methods = sorted(set(result.methods))
    for plan in remote:
        if methods.arp and not is_loopback_scope(plan.scope):
            result.notices.append(
                f"{plan.scope} is not on a local interface (routed): no ARP, so hosts without an open "
                "port or WS-Discovery stay unseen and MACs come from the switches only"
            )
    return result


def _loopback_browse_address(scope: str) -> str:
    """The address mDNS browses a loopback scope from: its last host address (any 127/8 address is
    ours on `lo`; a lab keeps its devices low in the range)."""
    net = ipaddress.ip_network(scope)
    return str(net.broadcast_address - 1) if net.num_addresses > 2 else str(net.network_address)


def _problem(driver: str, kind: ProblemKind, message: str) -> Problem:
    return Problem(target="sweep", driver=driver, stage=Stage.SWEEP, kind=kind, message=message[:2000])


class LiveDiscovery:
    """The real discoverers from drivers.discovery (imported on first use). With `on_found`, every
    WS-Discovery reply and every host with an open port is passed on as it is seen (streaming)."""

    def __init__(self, on_found: Callable[[Candidate, str], object] | None = None) -> None:
        self.on_found = on_found

    async def arp(self, scope: str, interface: str | None, timeout_s: float) -> ArpOutcome:
        from drivers.discovery import arp

        res = await arp.arp_sweep(scope, interface, timeout_s)
        return ArpOutcome(list(res.candidates), res.method, res.warning)

    async def wsd(
        self, interfaces: Sequence[str], unicast_targets: Sequence[str], port: int, window_s: float
    ) -> list[Candidate]:
        from drivers.discovery import wsd

        stream = self.on_found
        on_match = (lambda c: stream(c, "wsd")) if stream else None
        return list(
            await wsd.probe(list(interfaces), list(unicast_targets), port, window_s, on_match=on_match)
        )

    async def mdns(self, interfaces: Sequence[str], window_s: float) -> list[Candidate]:
        from drivers.discovery import mdns

        return list(await mdns.browse(list(interfaces), window_s))

    async def tcp(self, ips: Sequence[str], ports: Sequence[int], timeout_s: float) -> list[Candidate]:
        from drivers.discovery import tcp

        stream = self.on_found
        on_host = (
            (lambda ip, open_ports: stream(Candidate(ip=ip, sources={"tcp"}, open_ports=open_ports), "tcp"))
            if stream
            else None
        )
        found = await tcp.tcp_sweep(
            ips, ports, concurrency=TCP_CONCURRENCY, timeout_s=timeout_s, on_host=on_host
        )
        return tcp.to_candidates(found)
