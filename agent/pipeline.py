"""One scan, start to end: sweep → identify → collect → correlate → snapshot.

`run_scan` owns no I/O of its own beyond what the stages do; it times each stage, reports progress
through a callback (the command line draws it, the scheduler logs it) and always returns a
snapshot — partial results with problems are a normal outcome, not an exception.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agent.collect import Collector, TargetResult
from agent.config import ScanConfig
from agent.correlate import correlate, source_host
from agent.credentials import BoundCredential, CredentialBook
from agent.identify import Plan, load_drivers
from agent.merge import (
    config_texts,
    merge_device,
    merge_devices,
    note_problems,
    shared_endpoints,
    switch_tables,
)
from agent.snapshot import SnapshotParts, build_snapshot, scan_info
from agent.stream import StreamingCollect
from agent.sweep import SweepResult, sweep, tcp_ports
from drivers.base import Candidate, DeviceDriver
from drivers.discovery import http_banner
from drivers.schema import (
    ConfigText,
    Device,
    LldpNeighbor,
    MacEntry,
    Problem,
    Role,
    SiteRef,
    Snapshot,
    Stage,
)

log = logging.getLogger(__name__)

STAGES = (Stage.SWEEP, Stage.IDENTIFY, Stage.COLLECT, Stage.CORRELATE, Stage.SNAPSHOT)


@dataclass(frozen=True)
class ProgressEvent:
    stage: Stage
    state: Literal["start", "advance", "done"]
    done: int = 0
    total: int | None = None
    detail: str = ""


ProgressFn = Callable[[ProgressEvent], None]


@dataclass
class ScanResult:
    snapshot: Snapshot
    content_hash: str
    stage_seconds: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    candidates: int = 0
    device_seconds: dict[str, float] = field(default_factory=dict, repr=False)  # collect time per host

    @property
    def total_seconds(self) -> float:
        return sum(self.stage_seconds.values())


async def run_scan(
    config: ScanConfig,
    credentials: list[BoundCredential] | None = None,
    *,
    progress: ProgressFn | None = None,
    drivers: dict[str, type[DeviceDriver]] | None = None,
) -> ScanResult:
    emit: ProgressFn = progress or (lambda event: None)
    book = CredentialBook(
        credentials or [], max_failures=config.max_auth_failures, cache_path=config.credential_cache
    )
    started_at = datetime.now(UTC)
    # ---- sweep, identify and collect, streamed: a host is read as soon as discovery has seen
    # enough of it (agent/stream.py), while the sweep goes on for the others.
    drivers = load_drivers() if drivers is None else drivers
    emit(ProgressEvent(Stage.SWEEP, "start", detail=", ".join(config.scopes)))
    emit(ProgressEvent(Stage.IDENTIFY, "start", 0, None))
    emit(ProgressEvent(Stage.COLLECT, "start", 0, None))
    collector = Collector(config, book, drivers, server_header=http_banner.server_header)
    async with collector.scan_resources():
        return await _scan(config, book, drivers, collector, emit, started_at)


async def _scan(
    config: ScanConfig,
    book: CredentialBook,
    drivers: dict[str, type[DeviceDriver]],
    collector: Collector,
    emit: ProgressFn,
    started_at: datetime,
) -> ScanResult:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    plans: list[Plan] = []
    finished: list[TargetResult] = []

    def planned(plan: Plan) -> None:
        plans.append(plan)
        emit(ProgressEvent(Stage.IDENTIFY, "advance", len(plans), None))

    def collected(result: TargetResult) -> None:
        finished.append(result)
        emit(ProgressEvent(Stage.COLLECT, "advance", len(finished), len(plans), result.ip))

    stream = StreamingCollect(
        collector,
        drivers,
        config.ports,
        tcp_ports(config),
        on_plan=planned,
        on_done=collected,
        wsd_grace_s=config.wsd_window_s if config.methods.wsd else 0.0,
    )
    loop = asyncio.get_running_loop()

    def found_count(n: int) -> None:
        loop.call_soon_threadsafe(emit, ProgressEvent(Stage.SWEEP, "advance", n))

    def found_host(candidate: Candidate) -> None:
        loop.call_soon_threadsafe(stream.see, candidate)

    try:
        # Discovery runs on its own event loop in a thread: reading the hosts found first keeps
        # this loop busy, and its timers (the WS-Discovery pacing, connect timeouts of the TCP
        # sweep) must not wait for that work. Hosts cross over as they are found.
        swept: SweepResult = await asyncio.to_thread(
            asyncio.run, sweep(config, on_found=found_count, on_candidate=found_host)
        )
    except BaseException:
        await stream.cancel()
        raise
    seconds["sweep"] = time.perf_counter() - t0
    emit(
        ProgressEvent(
            Stage.SWEEP, "done", len(swept.candidates), len(swept.candidates), _counts(swept.counts)
        )
    )
    log.info("sweep: %d hosts (%s)", len(swept.candidates), _counts(swept.counts))
    t0 = time.perf_counter()
    results = await stream.finish(swept.candidates)
    seconds["identify"] = 0.0  # planning is pure and done per host as it is found
    seconds["collect"] = time.perf_counter() - t0  # what collection took after the sweep ended
    emit(ProgressEvent(Stage.IDENTIFY, "done", len(plans), len(plans), _plan_summary(plans)))
    read = sum(1 for r in results if r.reports)
    emit(ProgressEvent(Stage.COLLECT, "done", len(results), len(results), f"{read} read"))
    log.info("collect: %d of %d hosts read", read, len(results))

    # ---- correlate
    t0 = time.perf_counter()
    emit(ProgressEvent(Stage.CORRELATE, "start"))
    devices, mac_table, lldp, configs, problems, arp = assemble(results)
    aliases = reported_addresses(results, devices)
    problems = [*swept.problems, *problems]
    for candidate in swept.candidates:
        if candidate.mac:
            arp.setdefault(candidate.mac, candidate.ip)
    correlation = correlate(devices, mac_table, lldp, arp, aliases)
    problems.extend(correlation.problems)
    seconds["correlate"] = time.perf_counter() - t0
    attached = sum(1 for d in correlation.devices if d.attachment)
    emit(
        ProgressEvent(
            Stage.CORRELATE,
            "done",
            len(correlation.port_bindings),
            None,
            f"{len(correlation.port_bindings)} bindings, {attached} devices placed",
        )
    )

    # ---- snapshot
    t0 = time.perf_counter()
    emit(ProgressEvent(Stage.SNAPSHOT, "start"))
    info = scan_info(started_at, datetime.now(UTC), config.scopes, swept.methods + _driver_methods(results))
    snapshot = build_snapshot(
        SiteRef(site_id=config.site, name=config.site_name),
        info,
        SnapshotParts(
            devices=correlation.devices,
            mac_table=mac_table,
            lldp_neighbors=lldp,
            port_bindings=correlation.port_bindings,
            configs=configs,
            problems=problems,
        ),
        secrets=book.secret_values(),
    )
    digest = snapshot.content_hash()
    try:
        book.save_cache()
    except OSError as exc:
        log.warning("credential cache not written: %s", exc.strerror)
    seconds["snapshot"] = time.perf_counter() - t0
    emit(ProgressEvent(Stage.SNAPSHOT, "done", len(snapshot.devices), None, digest[:12]))
    per_host = {r.ip: round(r.seconds, 3) for r in results}
    return ScanResult(snapshot, digest, seconds, list(swept.notices), len(swept.candidates), per_host)


def assemble(
    results: list[TargetResult],
) -> tuple[list[Device], list[MacEntry], list[LldpNeighbor], list[ConfigText], list[Problem], dict[str, str]]:
    """Per host: merge its reports into a Device and key its tables and problems to that device."""
    devices: list[Device] = []
    mac_table: list[MacEntry] = []
    lldp: list[LldpNeighbor] = []
    configs: list[ConfigText] = []
    problems: list[Problem] = []
    arp: dict[str, str] = {}
    shared = shared_endpoints(
        (r.plan.candidate for r in results), (report for r in results for report in r.reports)
    )
    for result in results:
        device = merge_device(result.plan.candidate, result.reports, result.plan.role_hint, shared)
        devices.append(device)
        if device.role is Role.SWITCH or any(r.fdb or r.lldp for r in result.reports):
            entries, neighbors, table = switch_tables(device, result.reports)
            mac_table.extend(entries)
            lldp.extend(neighbors)
            for mac, ip in table.items():
                arp.setdefault(mac, ip)
        configs.extend(config_texts(device, result.reports))
        problems.extend(note_problems(device, result.reports))
        problems.extend(p.model_copy(update={"device_id": device.id}) for p in result.problems)
    return merge_devices(devices), mac_table, lldp, configs, problems, arp


def reported_addresses(results: list[TargetResult], devices: list[Device]) -> dict[str, str]:
    """Addresses devices report for themselves that differ from where we reached them → device id."""
    by_mac = {d.identity.mac: d.id for d in devices if d.identity.mac}
    by_ip = {d.network.ip: d.id for d in devices if d.network.ip}
    aliases: dict[str, str] = {}
    for result in results:
        owner = by_ip.get(result.ip)
        for report in result.reports:
            mac = report.identity.mac if report.identity else None
            owner = by_mac.get(mac, owner) if mac else owner
            # A device names itself in its settings and in its stream URIs (the LAN address, even
            # when we reach it through NAT or a loopback lab), which is what a recorder records from.
            named = [report.network.ip if report.network else None]
            named += [
                source_host(p.stream_uri)
                for p in (report.onvif.profiles if report.onvif else ())
                if p.stream_uri
            ]
            for ip in named:
                if owner and ip and ip != result.ip:
                    aliases.setdefault(ip, owner)
    return aliases


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _plan_summary(plans: list[Plan]) -> str:
    onvif = sum(1 for p in plans if p.onvif)
    snmp = sum(1 for p in plans if p.snmp)
    cli = sum(1 for p in plans if p.cli)
    return f"onvif {onvif}, snmp {snmp}, cli {cli}"


def _driver_methods(results: list[TargetResult]) -> list[str]:
    return sorted({r.driver for result in results for r in result.reports})
