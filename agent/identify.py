"""Which drivers fit each discovered host, decided from discovery hints without I/O.

Every registered driver scores the candidate (`DeviceDriver.score`, no I/O). On top of the scores:
- a host WS-Discovery did not see (installer turned it off) but whose web port answers still gets
  an ONVIF attempt — marked *speculative*, so its failure is not reported as a problem;
- a host that is not an ONVIF device gets an SNMP attempt: switches are recognised by their
  sysObjectID, which also picks the CLI dialect (`cli_driver_for`), the cheap confirming call;
- a CLI (SSH) attempt needs the SSH port open and a CLI driver that claims the host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from drivers import REGISTRY, get_driver, vendors
from drivers.base import Candidate, DeviceDriver, DeviceReport, Ports
from drivers.schema import Role

log = logging.getLogger(__name__)

CONFIDENT_SCORE = 50  # below this, without WS-Discovery, an ONVIF attempt is speculative
WEB_PORTS = frozenset({80, 443, 8000, 8080, 8443})
# WS-Discovery types and ONVIF scopes that tell a recorder from a camera.
RECORDER_MARKS = ("networkvideostorage", "network_video_storage", "type/nvr", "type/recorder")
CAMERA_MARKS = ("networkvideotransmitter", "network_video_transmitter", "type/video_encoder", "type/ptz")


@dataclass(frozen=True)
class Plan:
    """What to try on one host, in the order collect will try it."""

    candidate: Candidate
    role_hint: Role | None
    onvif: str | None = None  # driver name
    onvif_speculative: bool = False
    snmp: str | None = None
    cli: tuple[str, ...] = ()  # CLI drivers that claim the host, best first
    scores: dict[str, int] = field(default_factory=dict)

    @property
    def ip(self) -> str:
        return self.candidate.ip

    @property
    def drivers(self) -> tuple[str, ...]:
        names = [n for n in (self.onvif, self.snmp) if n]
        return (*names, *self.cli)


def role_hint(candidate: Candidate) -> Role | None:
    """Camera or recorder from WS-Discovery types and scopes; None when discovery cannot tell."""
    marks = " ".join([*candidate.wsd_types, *candidate.wsd_scopes]).lower()
    if any(m in marks for m in RECORDER_MARKS):
        return Role.RECORDER
    announced = vendors.by_name(candidate.mdns_txt.get("vendor"))
    if announced is not None and announced.kinds == {vendors.Kind.RECORDER}:
        return Role.RECORDER  # a NAS/VMS recorder announcing itself (Synology, QNAP)
    if any(m in marks for m in CAMERA_MARKS) or candidate.wsd_endpoint:
        return Role.CAMERA
    return None


def vendor_hint(candidate: Candidate) -> str | None:
    """The vendor every discovery hint together suggests (OUI, WS-Discovery scopes, mDNS type and
    TXT, HTTP Server header; see drivers.vendors), used to order credentials before any login."""
    return vendors.vendor_hint(candidate)


def load_drivers(names: Iterable[str] | None = None) -> dict[str, type[DeviceDriver]]:
    """Driver classes by name; a driver whose module does not import is left out (and logged)."""
    found: dict[str, type[DeviceDriver]] = {}
    for name in sorted(names if names is not None else REGISTRY):
        try:
            found[name] = get_driver(name)
        except Exception as exc:  # a broken or missing driver must not stop the scan
            log.warning("driver %s unavailable: %s", name, exc)
    return found


def as_standard_ports(candidate: Candidate, ports: Ports) -> Candidate:
    """The candidate as drivers' score() expects it: open ports on their standard numbers, so a lab
    or site that moved SSH to 2222 still looks like an SSH host (score() knows no Ports)."""
    moved = {ports.http: 80, ports.ssh: 22}
    extra = {std for port, std in moved.items() if port in candidate.open_ports and port != std}
    if not extra:
        return candidate
    return candidate.model_copy(update={"open_ports": candidate.open_ports | extra})


def score_all(
    candidate: Candidate, drivers: dict[str, type[DeviceDriver]], ports: Ports | None = None
) -> dict[str, int]:
    if ports is not None:
        candidate = as_standard_ports(candidate, ports)
    scores: dict[str, int] = {}
    for name, cls in drivers.items():
        try:
            scores[name] = max(0, int(cls.score(candidate)))
        except Exception as exc:  # score() must not raise; if it does, the driver just does not fit
            log.warning("%s: %s.score failed: %s", candidate.ip, name, exc)
            scores[name] = 0
    return scores


def plan_for(candidate: Candidate, drivers: dict[str, type[DeviceDriver]], ports: Ports) -> Plan:
    scores = score_all(candidate, drivers, ports)
    hint = role_hint(candidate)
    is_wsd = "wsd" in candidate.sources or candidate.wsd_endpoint is not None
    web_open = bool(candidate.open_ports & (WEB_PORTS | {ports.http}))
    ssh_open = ports.ssh in candidate.open_ports or 22 in candidate.open_ports

    onvif = _family(drivers, "onvif")
    onvif_name = onvif[0] if onvif else None
    speculative = False
    if onvif_name:
        score = scores.get(onvif_name, 0)
        confident = score >= CONFIDENT_SCORE or (is_wsd and score > 0)
        if not confident:
            # A web port alone is worth one quiet try, after SNMP has had its say.
            speculative = web_open and not is_wsd
            onvif_name = onvif_name if speculative else None
    snmp = _family(drivers, "snmp")
    snmp_name = snmp[0] if snmp and not is_wsd else None
    cli = tuple(
        sorted((n for n in _family(drivers, "cli") if scores.get(n, 0) > 0), key=lambda n: (-scores[n], n))
    )
    if is_wsd or not ssh_open:
        cli = ()
    return Plan(
        candidate=candidate,
        role_hint=hint,
        onvif=onvif_name,
        onvif_speculative=speculative,
        snmp=snmp_name,
        cli=cli,
        scores=scores,
    )


def identify(
    candidates: Iterable[Candidate],
    ports: Ports,
    drivers: dict[str, type[DeviceDriver]] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> list[Plan]:
    drivers = load_drivers() if drivers is None else drivers
    plans = []
    for candidate in sorted(candidates, key=lambda c: _ip_key(c.ip)):
        plan = plan_for(candidate, drivers, ports)
        log.debug("%s: plan %s (scores %s)", candidate.ip, plan.drivers, plan.scores)
        plans.append(plan)
        if on_plan:
            on_plan(plan)
    return plans


def cli_driver_for(plan: Plan, snmp_report: DeviceReport | None, available: Iterable[str]) -> str | None:
    """The CLI dialect to log in with: from sysObjectID or vendor when SNMP answered, else the
    best-scoring CLI driver, else the generic one when SSH is open and SNMP said it is a switch."""
    available = set(available)
    if snmp_report is not None:
        oid = snmp_report.switch.sys_object_id if snmp_report.switch else None
        vendor = (snmp_report.identity.vendor if snmp_report.identity else None) or ""
        descr = (snmp_report.switch.sys_descr if snmp_report.switch else None) or ""
        dialect = vendors.dialect_for(oid, f"{vendor} {descr}", available)
        if dialect:
            return dialect
    if plan.cli:
        return plan.cli[0]
    if snmp_report is not None and snmp_report.role is Role.SWITCH and "cli.generic" in available:
        return "cli.generic"
    return None


def _family(drivers: dict[str, type[DeviceDriver]], family: str) -> list[str]:
    return [n for n in drivers if n == family or n.startswith(family + ".")]


def _ip_key(ip: str) -> tuple[int, ...]:
    import ipaddress

    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))
