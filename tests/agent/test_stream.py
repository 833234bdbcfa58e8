"""The streaming pipeline: a host is planned and collected as soon as discovery has seen enough of it,
and the device is assembled from the host's final candidate."""

from __future__ import annotations

import asyncio
import time

from agent.collect import TargetResult
from agent.identify import Plan, load_drivers
from agent.stream import StreamingCollect
from drivers.base import Candidate, Ports


class RecordingCollector:
    """Stands in for agent.collect.Collector: notes when each plan started (no device I/O)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.t0 = time.perf_counter()

    async def collect_plan(self, plan: Plan) -> TargetResult:
        self.started[plan.ip] = time.perf_counter() - self.t0
        await asyncio.sleep(0.01)
        return TargetResult(plan=plan)


async def test_a_ws_discovery_reply_starts_collection_at_once_and_late_hints_are_kept() -> None:
    collector = RecordingCollector()
    stream = StreamingCollect(collector, load_drivers(), Ports(), (80, 22))  # type: ignore[arg-type]
    collector.t0 = time.perf_counter()
    stream.see(Candidate(ip="127.0.0.10", sources={"wsd"}, wsd_endpoint="urn:uuid:1"))
    await asyncio.sleep(0.05)
    assert "127.0.0.10" in collector.started and collector.started["127.0.0.10"] < 0.05
    # A later hint (mDNS TXT) about the same host arrives while it is being read.
    late = Candidate(ip="127.0.0.10", sources={"mdns"}, mdns_txt={"vendor": "Synology"})
    results = await stream.finish([Candidate(ip="127.0.0.10", sources={"wsd"}).merge(late)])
    assert len(results) == 1 and results[0].plan.candidate.mdns_txt == {"vendor": "Synology"}


async def test_arp_only_host_settles_then_gets_its_own_port_probe() -> None:
    collector = RecordingCollector()
    stream = StreamingCollect(collector, load_drivers(), Ports(), (80, 22))  # type: ignore[arg-type]
    stream.see(Candidate(ip="127.0.0.11", sources={"arp"}, mac="02:00:00:00:00:11"))
    await asyncio.sleep(0.1)
    assert "127.0.0.11" not in collector.started  # waiting for a ProbeMatch that may still come
    results = await asyncio.wait_for(stream.finish([]), 5)
    assert [r.ip for r in results] == ["127.0.0.11"]
    assert "tcp" in results[0].plan.candidate.sources or collector.started["127.0.0.11"] >= 0.1


async def test_hosts_left_when_the_sweep_ends_are_planned_then() -> None:
    collector = RecordingCollector()
    stream = StreamingCollect(collector, load_drivers(), Ports(), (80,))  # type: ignore[arg-type]
    stream.see(Candidate(ip="127.0.0.12", sources={"mdns"}))  # routed/loopback: no ARP, no port yet
    await asyncio.sleep(0.05)
    assert not collector.started
    results = await stream.finish([Candidate(ip="127.0.0.12", sources={"mdns"})])
    assert [r.ip for r in results] == ["127.0.0.12"]
