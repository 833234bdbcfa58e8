"""Identify and collect each host as soon as discovery has seen enough of it (the streaming pipeline).

A host does not wait for the WS-Discovery window to close, nor for the rest of the network:
- a WS-Discovery reply is enough to plan the host: it is identified and collected at once, while
  discovery goes on for the others;
- a host the TCP sweep found with a web port open but that WS-Discovery has not heard (yet) gets
  its own unicast Probe (a second chance: UDP replies get lost, and on a large range the sweep may
  find it before the multicast/unicast sweep reached it), and is planned as soon as it answers (the
  Probe is repeated every 0.6 s, up to the WS-Discovery window); a host without a web port is
  planned at once;
- a host only ARP saw gets a short settling time for its ProbeMatch, then its own cheap port probe
  (one connect per port, in parallel), then its plan;
- whatever is left when the sweep ends (an mDNS-only NAS, say) is planned then.
Later hints about a host already being read (an mDNS TXT record, a second discoverer) are kept: the
device is assembled from the host's final candidate, with every hint the sweep gathered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any

from agent.collect import Collector, TargetResult
from agent.identify import WEB_PORTS, Plan, plan_for, role_hint
from drivers.base import Candidate, DeviceDriver, Ports

log = logging.getLogger(__name__)

SETTLE_S = 0.5  # an ARP-only host waits this long for its WS-Discovery reply before its port probe
PORT_PROBE_TIMEOUT_S = 0.5  # a port that does not answer a connect on the LAN within this is closed
# The second-chance WS-Discovery Probe: a publisher answers within APP_MAX_DELAY (0.5 s), so the
# Probe is sent again when this passes without a reply; the host waits no longer than the scan's
# WS-Discovery window in all (a busy publisher answers late), and is planned the moment it answers.
SECOND_CHANCE_RESEND_S = 0.6


def ready(candidate: Candidate) -> bool:
    """Enough is known to plan the host: it answered WS-Discovery or the TCP sweep probed it."""
    return "wsd" in candidate.sources or "tcp" in candidate.sources or bool(candidate.open_ports)


class StreamingCollect:
    """Receives candidates from the sweep as they are found; plans and collects each host once."""

    def __init__(
        self,
        collector: Collector,
        drivers: dict[str, type[DeviceDriver]],
        ports: Ports,
        probe_ports: tuple[int, ...],
        *,
        on_plan: Callable[[Plan], None] | None = None,
        on_done: Callable[[TargetResult], None] | None = None,
        wsd_grace_s: float = 0.0,
    ) -> None:
        self.collector = collector
        # A host the TCP sweep found first, with a web port, is probed again and waits up to this
        # long for its WS-Discovery reply (planned as soon as it comes): planned on an open web
        # port alone, a camera would get only a quiet, speculative ONVIF try, and no endpoint
        # reference. 0 means WS-Discovery is off for this scan.
        self.wsd_grace_s = wsd_grace_s
        self.drivers = drivers
        self.ports = ports
        self.probe_ports = probe_ports
        self.on_plan = on_plan
        self.on_done = on_done
        self.known: dict[str, Candidate] = {}
        self.tasks: dict[str, asyncio.Task[TargetResult]] = {}
        self._waiting: dict[str, asyncio.Task[None]] = {}  # ARP-only hosts settling
        self._grace: dict[str, asyncio.Task[None]] = {}  # second-chance WS-Discovery probes (bounded)
        self._prober: Any = None  # drivers.discovery.wsd.UnicastProber, opened on the first second chance
        self._answered: dict[str, asyncio.Event] = {}

    def see(self, candidate: Candidate) -> None:
        """A new host, or a new hint about one (called by the sweep; never blocks)."""
        self.known[candidate.ip] = (
            self.known[candidate.ip].merge(candidate) if candidate.ip in self.known else candidate
        )
        ip = candidate.ip
        if ip in self.tasks:
            return
        if ready(self.known[ip]):
            if not self._second_chance(self.known[ip]):
                self._start(ip)
            elif ip not in self._waiting and ip not in self._grace:
                self._grace[ip] = asyncio.create_task(self._grace_then_start(ip), name=f"grace-{ip}")
        elif "arp" in self.known[ip].sources and ip not in self._waiting:
            self._waiting[ip] = asyncio.create_task(self._settle_then_probe(ip), name=f"settle-{ip}")

    def _second_chance(self, candidate: Candidate) -> bool:
        """Worth its own WS-Discovery Probe before planning: WS-Discovery is on, the host was not
        heard, and it has a web port (where an ONVIF service would be)."""
        heard = "wsd" in candidate.sources or candidate.wsd_endpoint is not None
        web = candidate.open_ports & (WEB_PORTS | {self.ports.http})
        return bool(self.wsd_grace_s) and not heard and bool(web)

    async def _grace_then_start(self, ip: str) -> None:
        await self._probe_again(ip)
        if ip not in self.tasks:
            self._start(ip)

    async def _probe_again(self, ip: str) -> None:
        """A unicast WS-Discovery Probe to `ip`, sent again every SECOND_CHANCE_RESEND_S without a
        reply, for at most wsd_grace_s. The socket listens until the scan's collection ends, so a
        reply that comes later still gives the device its endpoint reference (merged in finish)."""
        from drivers.discovery import wsd

        if self._prober is None:
            self._prober = wsd.UnicastProber(self.ports.wsd, on_match=self._heard)
        answered = self._answered.setdefault(ip, asyncio.Event())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wsd_grace_s
        while not answered.is_set() and (left := deadline - loop.time()) > 0:
            await self._prober.send(ip)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answered.wait(), min(left, SECOND_CHANCE_RESEND_S))

    def _heard(self, candidate: Candidate) -> None:
        self.see_quietly(candidate)
        if candidate.ip in self._answered:
            self._answered[candidate.ip].set()

    def see_quietly(self, candidate: Candidate) -> None:
        """A hint merged into what we know, without planning anything (the caller plans)."""
        candidate = candidate.model_copy(update={"sources": candidate.sources | {"wsd"}})
        ip = candidate.ip
        self.known[ip] = self.known[ip].merge(candidate) if ip in self.known else candidate

    async def _settle_then_probe(self, ip: str) -> None:
        await asyncio.sleep(SETTLE_S)
        if ip in self.tasks:
            return
        from drivers.discovery import tcp

        try:
            found = await tcp.tcp_sweep([ip], self.probe_ports, timeout_s=PORT_PROBE_TIMEOUT_S)
        except Exception as exc:  # a probe that fails leaves the plan to the hints we have
            log.debug("%s: port probe failed: %s", ip, exc)
            found = {}
        if ip in self.tasks:
            return
        probed = Candidate(ip=ip, sources={"tcp"}, open_ports=found.get(ip, set()))
        self.known[ip] = self.known[ip].merge(probed)
        if self._second_chance(self.known[ip]):
            await self._probe_again(ip)
        if ip not in self.tasks:
            self._start(ip)

    def _start(self, ip: str) -> None:
        plan = plan_for(self.known[ip], self.drivers, self.ports)
        log.debug("%s: plan %s (scores %s)", ip, plan.drivers, plan.scores)
        if self.on_plan:
            self.on_plan(plan)
        self.tasks[ip] = asyncio.create_task(self._collect(plan), name=f"collect-{ip}")

    async def _collect(self, plan: Plan) -> TargetResult:
        result = await self.collector.collect_plan(plan)
        if self.on_done:
            self.on_done(result)
        return result

    async def finish(self, candidates: Iterable[Candidate]) -> list[TargetResult]:
        """The sweep is over: plan what is left, wait for every host, and give each result the
        host's final candidate (every hint the sweep gathered)."""
        final = {c.ip: c for c in candidates}
        for waiting in self._waiting.values():
            waiting.cancel()
        await asyncio.gather(*self._waiting.values(), return_exceptions=True)
        # A second-chance probe in flight is let finish (it lasts at most wsd_grace_s).
        await asyncio.gather(*self._grace.values(), return_exceptions=True)
        for ip, candidate in final.items():
            self.known[ip] = self.known[ip].merge(candidate) if ip in self.known else candidate
        for ip in self.known:
            if ip not in self.tasks:
                self._start(ip)
        try:
            results = list(await asyncio.gather(*self.tasks.values()))
        finally:
            self._close_prober()
        for result in results:
            latest = final.get(result.ip) or self.known.get(result.ip)
            if latest is not None and result.ip in self.known and self.known[result.ip] is not latest:
                latest = latest.merge(self.known[result.ip])  # a late second-chance reply
            if latest is not None:  # hints that came after the plan (an mDNS TXT) count for the device
                latest = latest.merge(result.plan.candidate)  # and those collection probed (Server)
                hint = role_hint(latest) or result.plan.role_hint
                result.plan = dataclasses.replace(result.plan, candidate=latest, role_hint=hint)
                if "wsd" in latest.sources and not result.reports:
                    # WS-Discovery did hear it (late): an ONVIF device whose read failed is a problem.
                    result.problems.extend(result.quiet)
        return sorted(results, key=lambda r: _ip_key(r.ip))

    async def cancel(self) -> None:
        pending = [*self._waiting.values(), *self._grace.values(), *self.tasks.values()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._close_prober()

    def _close_prober(self) -> None:
        if self._prober is not None:
            self._prober.close()
            self._prober = None


def _ip_key(ip: str) -> tuple[int, int]:
    import ipaddress

    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))
