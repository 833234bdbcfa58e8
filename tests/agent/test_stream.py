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


class _Publisher(asyncio.DatagramProtocol):
    """A WS-Discovery publisher on a loopback address that answers unicast Probes (one ProbeMatch)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.probes = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        from lxml import etree

        self.probes += 1
        root = etree.fromstring(data)
        message_id = next(e.text for e in root.iter() if etree.QName(e).localname == "MessageID")
        reply = (
            '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
            ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
            ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
            f"<s:Header><a:RelatesTo>{message_id}</a:RelatesTo></s:Header><s:Body><d:ProbeMatches>"
            f"<d:ProbeMatch><a:EndpointReference><a:Address>{self.endpoint}</a:Address></a:EndpointReference>"
            "<d:Types>dn:NetworkVideoTransmitter</d:Types></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
        )
        assert self.transport is not None
        self.transport.sendto(reply.encode(), addr)


async def test_a_web_host_ws_discovery_missed_gets_its_own_probe_and_keeps_its_endpoint() -> None:
    loop = asyncio.get_running_loop()
    transport, publisher = await loop.create_datagram_endpoint(
        lambda: _Publisher("urn:uuid:second-chance"), local_addr=("127.0.0.13", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        collector = RecordingCollector()
        ports = Ports(wsd=port)
        stream = StreamingCollect(collector, load_drivers(), ports, (80,), wsd_grace_s=2.0)  # type: ignore[arg-type]
        collector.t0 = time.perf_counter()
        stream.see(Candidate(ip="127.0.0.13", sources={"tcp"}, open_ports={80}))
        results = await asyncio.wait_for(stream.finish([]), 5)
    finally:
        transport.close()
    assert publisher.probes >= 1
    assert results[0].plan.candidate.wsd_endpoint == "urn:uuid:second-chance"
    assert results[0].plan.onvif == "onvif" and not results[0].plan.onvif_speculative
    assert collector.started["127.0.0.13"] < 0.5  # planned on the reply, not after a fixed grace


async def test_a_silent_web_host_waits_at_most_the_window_and_a_host_without_web_port_not_at_all() -> None:
    collector = RecordingCollector()
    stream = StreamingCollect(collector, load_drivers(), Ports(wsd=9), (80, 22), wsd_grace_s=1.0)  # type: ignore[arg-type]
    collector.t0 = time.perf_counter()
    stream.see(Candidate(ip="127.0.0.14", sources={"tcp"}, open_ports={80}))
    stream.see(Candidate(ip="127.0.0.15", sources={"tcp"}, open_ports={22}))
    await asyncio.sleep(0.05)
    assert "127.0.0.15" in collector.started  # a switch's SSH port: nothing to wait for
    await asyncio.wait_for(stream.finish([]), 5)
    assert 0.9 < collector.started["127.0.0.14"] < 2.0  # asked twice, then planned at the window's end
