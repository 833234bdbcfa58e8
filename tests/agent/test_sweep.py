"""Sweep orchestration: which discoverers run for which scope, merging by IP, scope filtering, and
degradation (a failing or non-root discoverer becomes a notice or a problem, never a crash)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agent.config import ScanConfig
from agent.sweep import ArpOutcome, plan_scopes, sweep, unicast_targets
from drivers.base import Candidate
from drivers.errors import NotSupported
from drivers.schema import ProblemKind

NETS = [("eth0", "10.77.0.250", "10.77.0.0/24")]


class FakeDiscovery:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.arp_warning: str | None = None
        self.fail_mdns = False
        self.hang_wsd = False

    async def arp(self, scope: str, interface: str | None, timeout_s: float) -> ArpOutcome:
        self.calls.append(("arp", (scope, interface)))
        found = [
            Candidate(ip="10.77.0.2", mac="00:1b:54:c2:10:00", sources={"arp"}),
            Candidate(ip="10.77.0.21", mac="ac:cc:8e:5a:01:01", sources={"arp"}),
            Candidate(ip="10.77.0.32", mac="c0:56:e3:44:10:02", sources={"arp"}),
            Candidate(ip="10.77.0.250", mac="02:a5:b1:00:00:fe", sources={"arp"}),  # ourselves
        ]
        return ArpOutcome(found, "tcp+neigh" if self.arp_warning else "arp", self.arp_warning)

    async def wsd(
        self, interfaces: Sequence[str], targets: Sequence[str], port: int, window_s: float
    ) -> list[Candidate]:
        self.calls.append(("wsd", (tuple(interfaces), len(targets), port)))
        if self.hang_wsd:
            await asyncio.sleep(3600)
        return [
            Candidate(
                ip="10.77.0.21",
                sources={"wsd"},
                wsd_endpoint="urn:uuid:a",
                wsd_types=["dn:NetworkVideoTransmitter"],
            ),
            Candidate(ip="192.0.2.9", sources={"wsd"}, wsd_endpoint="urn:uuid:outside"),  # not in scope
        ]

    async def mdns(self, interfaces: Sequence[str], window_s: float) -> list[Candidate]:
        self.calls.append(("mdns", tuple(interfaces)))
        if self.fail_mdns:
            raise NotSupported("no multicast on this interface")
        return [Candidate(ip="10.77.0.21", sources={"mdns"}, mdns_services=["_axis-video._tcp.local."])]

    async def tcp(self, ips: Sequence[str], ports: Sequence[int], timeout_s: float) -> list[Candidate]:
        self.calls.append(("tcp", (tuple(ips), tuple(ports))))
        answers = {"10.77.0.2": {22, 80}, "10.77.0.32": {80}, "127.26.0.5": {8080}}
        return [Candidate(ip=ip, sources={"tcp"}, open_ports=answers[ip]) for ip in ips if ip in answers]


def config(**kw: object) -> ScanConfig:
    return ScanConfig.model_validate({"scopes": ["10.77.0.0/24"], "wsd_window_s": 0.1, **kw})


async def test_local_scope_merges_arp_wsd_mdns_and_probes_ports_of_non_wsd_hosts() -> None:
    d = FakeDiscovery()
    result = await sweep(config(), d, networks=NETS, exclude={"10.77.0.250"})
    by_ip = {c.ip: c for c in result.candidates}
    assert list(by_ip) == ["10.77.0.2", "10.77.0.21", "10.77.0.32"]  # ourselves and 192.0.2.9 dropped
    cam = by_ip["10.77.0.21"]
    assert (
        cam.sources == {"arp", "wsd", "mdns"}
        and cam.mac == "ac:cc:8e:5a:01:01"
        and cam.wsd_endpoint == "urn:uuid:a"
    )
    assert by_ip["10.77.0.2"].open_ports == {22, 80} and by_ip["10.77.0.32"].sources == {"arp", "tcp"}
    tcp_calls = [args for name, args in d.calls if name == "tcp"]
    assert [ips for ips, _ in tcp_calls] == [("10.77.0.2", "10.77.0.32")]  # only hosts WSD did not see
    assert ("wsd", (("10.77.0.250",), 0, 3702)) in d.calls  # multicast only: the scope is on our LAN
    assert result.methods == ["arp", "mdns", "tcp", "wsd"] and not result.problems and not result.notices


async def test_without_raw_sockets_arp_degrades_and_says_so() -> None:
    d = FakeDiscovery()
    d.arp_warning = "no CAP_NET_RAW: ARP sweep replaced by TCP connect sweep + neighbour table"
    result = await sweep(config(), d, networks=NETS, exclude=set())
    assert "arp:tcp+neigh" in result.methods
    assert result.notices and "CAP_NET_RAW" in result.notices[0]
    assert len(result.candidates) == 4


async def test_failing_and_hanging_discoverers_become_problems() -> None:
    d = FakeDiscovery()
    d.fail_mdns = True
    d.hang_wsd = True
    import agent.sweep as sweep_module

    original = sweep_module.STAGE_SLACK_S
    sweep_module.STAGE_SLACK_S = 0.2
    try:
        result = await sweep(config(), d, networks=NETS, exclude=set())
    finally:
        sweep_module.STAGE_SLACK_S = original
    kinds = {(p.driver, p.kind) for p in result.problems}
    assert kinds == {("mdns", ProblemKind.UNSUPPORTED), ("wsd", ProblemKind.TIMEOUT)}
    assert {c.ip for c in result.candidates} >= {"10.77.0.2", "10.77.0.21"}  # ARP still counted


async def test_loopback_scope_uses_unicast_wsd_and_a_tcp_sweep_instead_of_arp() -> None:
    d = FakeDiscovery()
    cfg = ScanConfig(scopes=("127.26.0.0/29",), wsd_window_s=0.1)
    result = await sweep(cfg, d, networks=NETS, exclude=set())
    names = [name for name, _ in d.calls]
    assert "arp" not in names
    assert ("mdns", ("127.26.0.6",)) in d.calls  # browsed on lo from an address of the scope
    assert ("wsd", ((), 6, 3702)) in d.calls  # 6 host addresses of the /29, unicast
    assert [c.ip for c in result.candidates] == ["127.26.0.5"]


def test_scope_planning_and_unicast_targets() -> None:
    cfg = ScanConfig(scopes=("10.77.0.0/24", "10.88.0.0/30"), unicast_targets=("10.77.0.9",))
    plans = plan_scopes(cfg, NETS)
    assert [(p.scope, p.interface) for p in plans] == [("10.77.0.0/24", "eth0"), ("10.88.0.0/30", None)]
    assert unicast_targets(cfg, plans) == [
        "10.77.0.9",
        "10.88.0.1",
        "10.88.0.2",
    ]  # routed scope probed by unicast
    forced = ScanConfig(scopes=("10.77.0.0/30",), unicast=True)
    assert unicast_targets(forced, plan_scopes(forced, NETS)) == ["10.77.0.1", "10.77.0.2"]
    only_eth1 = ScanConfig(scopes=("10.77.0.0/24",), interfaces=("eth1",))
    assert plan_scopes(only_eth1, NETS)[0].interface is None
