"""SSH CLI switch drivers: one small module per platform, mostly data (the Oxidized model idea).

A platform module declares ``COMMANDS`` (purpose -> command), pure ``parse_*`` functions from raw text
to records (ntc-templates TextFSM where a template exists, a hand parser where not), and its
``SECRET_FILTERS`` / ``NOISE_FILTERS``. `CliDriver` runs the commands in one session and assembles the
report; configuration text passes the secret filters before it is put into the report.
"""

from __future__ import annotations

import functools
import io
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import textfsm as textfsm_lib
from ntc_templates.parse import ParsingException, _get_template_dir, parse_output
from pydantic import ValidationError
from textfsm import TextFSMError, clitable

from drivers.base import Candidate, DeviceDriver, DeviceReport, FdbEntry, LldpEntry, ReportNote
from drivers.cli.transport import CliSession, NetmikoSession
from drivers.errors import AuthError, ParseError
from drivers.normalize import TEXT_CHARS, canonical_mac, clean_text
from drivers.sanitize import Filter, apply_filters, redact_values
from drivers.schema import DeviceIdentity, ProblemKind, Role, SwitchInfo, SwitchPort, Vlan
from drivers.uplinks import lldp_uplink_ports

T = TypeVar("T")
Outputs = Mapping[str, str]  # purpose -> raw command output

CONFIG = "config"  # the purpose whose output is the configuration text
CONFIG_KIND = "running-config"

# What a CLI prints for a command it does not have (IOS, ProCurve, and most of their imitators);
# IOS puts a line with a caret under the offending word first.
_REFUSED = re.compile(r"^\s*(?:%|Invalid input|Unknown command|Ambiguous input)", re.IGNORECASE)


# LLDP / CDP capability letters (IOS "B,R", ProCurve words are passed through as they are).
CAPABILITY_CODES = {
    "B": "bridge",
    "R": "router",
    "T": "telephone",
    "C": "docsis-cable-device",
    "W": "wlan-access-point",
    "P": "repeater",
    "S": "station-only",
    "O": "other",
}


# ---------------------------------------------------------------- small pure helpers


def usable(text: str | None) -> str | None:
    """The output, or None when the device refused the command or printed nothing."""
    if text is None or not text.strip():
        return None
    head = [line for line in text.strip().splitlines()[:3] if line.strip() != "^"]
    return None if any(_REFUSED.match(line) for line in head[:2]) else text


def textfsm(platform: str, command: str, text: str) -> list[dict[str, str]]:
    """Rows of an ntc-templates TextFSM parse, keys lower-case as the template names them.

    Raises ParseError when no template matches the command or the template rejects the output.
    """
    try:
        rows = _parse(platform, command, text)
    except (ParsingException, TextFSMError, clitable.CliTableError) as exc:
        raise ParseError(f"{platform} '{command}': {str(exc)[:300]}", operation=command) from None
    if not isinstance(rows, list):  # netmiko's habit: raw text back when nothing parsed
        raise ParseError(f"{platform} '{command}': no template", operation=command)
    # Device text, cleaned before it can reach a snapshot (controls, NUL, over-long values).
    return [
        {k: clean_text(v, TEXT_CHARS) if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
        if isinstance(row, dict)
    ]


# ntc-templates' parse_output reads and compiles the template on every call (a tenth of a large
# scan's CLI CPU); a command's single template is compiled once here and reused under a lock.
_fsm_lock = threading.Lock()


@functools.lru_cache(maxsize=256)
def _template_text(platform: str, command: str) -> str | None:
    """The text of the one ntc-templates template for this command; None when the index names none
    or several (then parse_output does the work, merging several templates as it does)."""
    directory = _get_template_dir()
    index = clitable.CliTable("index", directory).index
    row = index.GetRowMatch({"Command": command, "Platform": platform})
    if not row:
        return None
    names = index.index[row]["Template"].split(":")
    if len(names) != 1:
        return None
    with open(os.path.join(directory, names[0]), encoding="utf-8") as handle:
        return handle.read()


@functools.lru_cache(maxsize=256)
def _fsm(platform: str, command: str) -> Any:
    template = _template_text(platform, command)
    return None if template is None else textfsm_lib.TextFSM(io.StringIO(template))


def _parse(platform: str, command: str, text: str) -> Any:
    fsm = _fsm(platform, command)
    if fsm is None:
        return parse_output(platform=platform, command=command, data=text)
    with _fsm_lock:
        fsm.Reset()
        records = fsm.ParseText(text)
        header = [name.lower() for name in fsm.header]
    return [dict(zip(header, record, strict=True)) for record in records]


_SPEED = re.compile(r"(?i)^(?:a-)?(\d+(?:\.\d+)?)\s*(g|gig|m)?")


def speed_mbps(text: str | None) -> int | None:
    """'a-100' / '1000' / '100FDx' -> Mbit/s; '10G' / '10GigFD' -> 10000; 'auto' or '' -> None."""
    match = _SPEED.match((text or "").strip())
    if not match:
        return None
    value = float(match.group(1))
    return int(value * 1000) if (match.group(2) or "").lower().startswith("g") else int(value)


def mac_or_text(value: str) -> str:
    """A canonical MAC when the text is one (chassis ids usually are), else the text itself."""
    try:
        return canonical_mac(value)
    except ValueError:
        return value.strip()


def capabilities(text: str) -> list[str]:
    """'B,R' -> ['bridge', 'router']; 'bridge, router' -> ['bridge', 'router']."""
    names = []
    for part in re.split(r"[,\s]+", text.strip()):
        if part:
            names.append(CAPABILITY_CODES.get(part.upper(), part.lower()))
    return names


_DURATION_UNITS = {
    "year": 31_536_000,
    "week": 604_800,
    "day": 86_400,
    "hour": 3_600,
    "minute": 60,
    "second": 1,
}


def duration_seconds(text: str | None) -> int | None:
    """'2 years, 31 weeks, 6 days, 9 hours, 55 minutes' or '15 days' -> seconds."""
    total, found = 0, False
    for number, unit in re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)s?", text or ""):
        total += int(number) * _DURATION_UNITS[unit]
        found = True
    return total if found else None


# ---------------------------------------------------------------- what a platform parse returns


@dataclass
class Parsed:
    """Everything parsed from one device's outputs; a section that failed to parse becomes a note."""

    identity: DeviceIdentity | None = None
    ports: list[SwitchPort] = field(default_factory=list)
    vlans: list[Vlan] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    lldp: list[LldpEntry] = field(default_factory=list)
    poe_budget_w: float | None = None
    poe_consumption_w: float | None = None
    uptime_s: int | None = None
    notes: list[ReportNote] = field(default_factory=list)

    def attempt(self, operation: str, parse: Callable[[], T], default: T) -> T:
        """Run one section parser; a parse failure is noted and the section left at `default`."""
        try:
            return parse()
        except (ParseError, ValidationError, ValueError, KeyError, IndexError) as exc:
            message = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__
            self.notes.append(ReportNote(kind=ProblemKind.PARSE, operation=operation, message=message))
            return default


def mark_uplinks(ports: Iterable[SwitchPort], lldp: Iterable[LldpEntry]) -> list[SwitchPort]:
    """A port whose LLDP neighbour forwards for others leads to another switch (drivers.uplinks)."""
    uplinks = lldp_uplink_ports(lldp)
    return [p.model_copy(update={"is_uplink": True}) if p.name in uplinks else p for p in ports]


# ---------------------------------------------------------------- the driver


class CliDriver(DeviceDriver):
    """Base of the SSH CLI drivers. Subclasses are data plus `parse`."""

    protocol = "cli"
    needs_credential = True
    platform: ClassVar[str]  # netmiko device_type, also the ntc-templates platform
    COMMANDS: ClassVar[Mapping[str, str]]  # purpose -> command, run in this order
    SETUP_COMMANDS: ClassVar[tuple[str, ...]] = ()  # sent first, output ignored (netmiko pages most)
    SECRET_FILTERS: ClassVar[Sequence[Filter]] = ()
    NOISE_FILTERS: ClassVar[Sequence[Filter]] = ()
    # Discovery hints that make this platform likely: MAC prefixes (OUI) of its vendor.
    OUIS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        """0 without an SSH port (when ports were probed) or for a camera; more for the vendor's OUI."""
        if candidate.open_ports and 22 not in candidate.open_ports:
            return 0
        if candidate.wsd_types or candidate.mdns_services:
            return 0
        vendor_mac = candidate.mac is not None and candidate.mac[:8] in cls.OUIS
        return 40 if vendor_mac else 10

    @classmethod
    def parse(cls, outputs: Outputs) -> Parsed:
        """Raw outputs by purpose -> parsed sections. Pure."""
        raise NotImplementedError

    @classmethod
    def follow_up(cls, outputs: Outputs) -> dict[str, str]:
        """Commands that depend on earlier output (purpose -> command); none by default."""
        return {}

    @classmethod
    def sanitize_config(cls, text: str, secrets: Iterable[str | None] = ()) -> str:
        """Secrets out (patterns, then the literal credential values), then lines that are only noise."""
        text = apply_filters(text, cls.SECRET_FILTERS)
        text = redact_values(text, secrets)
        text = apply_filters(text, cls.NOISE_FILTERS)
        return text.strip("\n") + "\n"

    @classmethod
    def build_report(cls, ip: str, outputs: Outputs, secrets: Iterable[str | None] = ()) -> DeviceReport:
        """The whole report from raw outputs. Pure; the configuration leaves it sanitised."""
        refused = [p for p in cls.COMMANDS if usable(outputs.get(p)) is None]
        parsed = cls.parse({p: t for p, t in outputs.items() if usable(t) is not None})
        notes = [
            ReportNote(kind=ProblemKind.UNSUPPORTED, operation=cls.COMMANDS[p], message="no usable output")
            for p in refused
        ]
        config = usable(outputs.get(CONFIG))
        ports = mark_uplinks(parsed.ports, parsed.lldp)
        return DeviceReport(
            driver=cls.name,
            ip=ip,
            role=Role.SWITCH,
            identity=parsed.identity,
            switch=SwitchInfo(
                ports=tuple(ports),
                vlans=tuple(parsed.vlans),
                poe_budget_w=parsed.poe_budget_w,
                poe_consumption_w=parsed.poe_consumption_w,
                uptime_s=parsed.uptime_s,
            ),
            fdb=parsed.fdb,
            lldp=parsed.lldp,
            configs={CONFIG_KIND: cls.sanitize_config(config, secrets)} if config else {},
            notes=[*notes, *parsed.notes],
        )

    def _secrets(self) -> list[str | None]:
        """Literal values that must never leave the driver, whatever the filters missed."""
        c = self.credential
        if c is None:
            return []
        values = [c.password, c.enable_secret, c.snmp_community, c.snmp_v3_auth_key, c.snmp_v3_priv_key]
        return [v.get_secret_value() for v in values if v is not None]

    async def collect(self) -> DeviceReport:
        if self.credential is None:
            raise AuthError("a CLI login needs a credential", operation="connect")
        session = await NetmikoSession.open(
            self.ip,
            self.options.ports.ssh,
            self.platform,
            self.credential,
            timeout_s=self.options.timeout_s,
            # Without an enable secret, stay where the login lands: the privileged commands
            # (running-config) become notes instead of failing the whole read.
            privileged=self.credential.enable_secret is not None,
        )
        try:
            outputs = await run_commands(session, type(self))
        finally:
            await session.close()
        report = self.build_report(self.ip, outputs, self._secrets())
        return report.model_copy(update={"credential": self.credential.name})


async def run_commands(session: CliSession, driver: type[CliDriver]) -> dict[str, str]:
    """Every command of the platform, then its follow-ups, in one session: purpose -> raw output."""
    for command in driver.SETUP_COMMANDS:
        await session.send(command)
    outputs: dict[str, str] = {}
    for purpose, command in driver.COMMANDS.items():
        outputs[purpose] = await session.send(command)
    for purpose, command in driver.follow_up(outputs).items():
        outputs[purpose] = await session.send(command)
    return outputs
