"""SNMP switch driver: system, IF-MIB, BRIDGE/Q-BRIDGE forwarding tables, VLANs, LLDP, PoE, ENTITY.

The driver decides what to walk (I/O); `parse.build_report` turns the walks into a report (pure).
Cisco keeps one BRIDGE-MIB instance per VLAN, so when Q-BRIDGE has no forwarding table and the
sysObjectID is Cisco's, the driver walks each VLAN's instance through community@vlan (v3: context vlan-N).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from drivers import vendors
from drivers.base import Candidate, DeviceDriver, DeviceReport, ReportNote
from drivers.errors import AuthError, DeviceTimeout, DriverError, ProtocolError
from drivers.schema import ProblemKind, RecorderInfo, Role
from drivers.snmp import oids
from drivers.snmp.parse import build_report, cisco_vlan_ids, enterprise_of, mac_of, parse_system
from drivers.snmp.transport import PysnmpTransport, SnmpTransport, Walk, shared_engine

log = logging.getLogger(__name__)

MAX_ROWS = 10_000  # per column; a 48-port switch has a few hundred rows in its largest non-FDB column
MAX_FDB_ROWS = 50_000
MAX_SILENT_VLANS = 2  # per-VLAN instances that time out in a row before the rest are skipped
PARALLEL_WALKS = 8  # concurrent walks per device; agents answer each in a few ms
# An SNMP agent on a LAN answers a GET in milliseconds; a host without one (or a wrong v2c community)
# is silent. One cheap GET decides, so silence costs this, not a call timeout times its retries
# (2 s: generous for a LAN, and for a busy agent that answers late but does answer).
PROBE_TIMEOUT_S = 2.0

# Walked on every switch: (what, columns). A missing table is normal (the walk comes back empty).
COMMON_TABLES: dict[str, tuple[str, ...]] = {
    "interfaces": (
        oids.IF_DESCR,
        oids.IF_TYPE,
        oids.IF_ADMIN_STATUS,
        oids.IF_OPER_STATUS,
        oids.IF_NAME,
        oids.IF_HIGH_SPEED,
        oids.IF_ALIAS,
    ),
    "bridge": (oids.DOT1D_BASE_BRIDGE_ADDRESS.removesuffix(".0"), oids.DOT1D_BASE_PORT_IF_INDEX),
    "vlans": (oids.DOT1Q_PVID, oids.DOT1Q_VLAN_STATIC_NAME, oids.DOT1Q_VLAN_FDB_ID),
    "fdb": (oids.DOT1Q_TP_FDB_PORT, oids.DOT1Q_TP_FDB_STATUS),
    "lldp": (
        oids.LLDP_LOC_PORT_ID,
        oids.LLDP_LOC_PORT_DESC,
        oids.LLDP_REM,
        oids.LLDP_REM_MAN_ADDR_IF_SUBTYPE,
    ),
    "poe": (
        oids.PETH_PSE_PORT_ADMIN_ENABLE,
        oids.PETH_PSE_PORT_DETECTION_STATUS,
        oids.PETH_PSE_PORT_POWER_CLASSIFICATIONS,
        oids.PETH_MAIN_PSE_POWER,
        oids.PETH_MAIN_PSE_CONSUMPTION,
    ),
    "entity": (
        oids.ENT_PHYSICAL_CLASS,
        oids.ENT_PHYSICAL_HARDWARE_REV,
        oids.ENT_PHYSICAL_FIRMWARE_REV,
        oids.ENT_PHYSICAL_SOFTWARE_REV,
        oids.ENT_PHYSICAL_SERIAL_NUM,
        oids.ENT_PHYSICAL_MODEL_NAME,
    ),
}
# Walked only on the vendor's own devices, by enterprise number.
VENDOR_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "9": {
        "cisco-vlans": (
            oids.VTP_VLAN_STATE,
            oids.VTP_VLAN_NAME,
            oids.VM_VLAN,
            oids.VLAN_TRUNK_PORT_NATIVE_VLAN,
        ),
        "cisco-poe": (oids.CPE_EXT_PSE_PORT_PWR_CONSUMPTION,),
    },
    "11": {"hp-poe": (oids.HPICF_POE_PETH_PSE_PORT_POWER,)},
}
FDB_COLUMNS = frozenset(
    {oids.DOT1Q_TP_FDB_PORT, oids.DOT1Q_TP_FDB_STATUS, oids.DOT1D_TP_FDB_PORT, oids.DOT1D_TP_FDB_STATUS}
)
# What each Cisco VLAN instance is asked for.
VLAN_INSTANCE_COLUMNS = (oids.DOT1D_BASE_PORT_IF_INDEX, oids.DOT1D_TP_FDB_PORT, oids.DOT1D_TP_FDB_STATUS)


class SnmpDriver(DeviceDriver):
    """Reads a managed switch over SNMP v2c or v3 (authPriv SHA/AES)."""

    name = "snmp"
    protocol = "snmp"
    needs_credential = True

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        """SNMP answers on switches, NVRs and some cameras and is cheap to ask: a small score by default,
        more for a host that answered SNMP in discovery, less for one with camera (ONVIF/mDNS) hints."""
        if "snmp" in candidate.sources:
            return 60
        if candidate.wsd_types or candidate.mdns_services:
            return 5
        return 20

    @classmethod
    def scan_scope(cls) -> contextlib.AbstractAsyncContextManager[None]:
        return shared_engine()

    async def collect(self) -> DeviceReport:
        if self.credential is None:
            raise AuthError("SNMP needs a community or a v3 user", operation="connect")
        transport = await PysnmpTransport.open(
            self.ip,
            self.options.ports.snmp,
            self.credential,
            timeout_s=self.options.timeout_s,
            retries=self.options.retries,
        )
        try:
            await probe(transport, min(PROBE_TIMEOUT_S, self.options.timeout_s))
            report = await read_host(transport, self.ip, driver=self.name)
        finally:
            await transport.close()
        return report.model_copy(update={"credential": self.credential.name})


async def probe(transport: SnmpTransport, timeout_s: float) -> None:
    """One GET of sysObjectID within `timeout_s`; DeviceTimeout when the agent stays silent."""
    try:
        async with asyncio.timeout(timeout_s):
            await transport.get([oids.SYS_OBJECT_ID])
    except TimeoutError:
        raise DeviceTimeout(f"no SNMP answer to a probe within {timeout_s:g} s", operation="probe") from None


async def read_host(transport: SnmpTransport, ip: str, *, driver: str = "snmp") -> DeviceReport:
    """The system group first; a recorder host (NAS, NVR: its vendor declares an SNMP identity) gets
    its vendor MIB read, anything else is read as a switch."""
    system_rows: Walk = dict(await transport.walk(oids.SYSTEM, max_rows=100))
    system = parse_system(system_rows)
    profile = vendors.snmp_profile(system.object_id, system.descr)
    if profile is not None and profile.is_recorder_host and vendors.Kind.SWITCH not in profile.kinds:
        return await read_recorder(transport, ip, profile, system_rows, driver=driver)
    return await read_switch(transport, ip, driver=driver, system_rows=system_rows)


async def read_recorder(
    transport: SnmpTransport, ip: str, profile: vendors.VendorProfile, rows: Walk, *, driver: str = "snmp"
) -> DeviceReport:
    """Identity of a NAS/NVR recorder from its vendor MIB scalars and sysDescr (pure after the walk)."""
    notes: list[ReportNote] = []
    # The vendor MIB for model/serial/firmware, IF-MIB's physical addresses for the MAC (a routed
    # scan, or one on loopback, has no ARP to tell it).
    for what, base in (("vendor identity", profile.snmp_identity_base), ("interfaces", oids.IF_PHYS_ADDRESS)):
        if base is None:
            continue
        try:
            rows = rows | dict(await transport.walk(base, max_rows=200))
        except DriverError as exc:
            notes.append(ReportNote(kind=exc.kind, operation=f"snmp {what}", message=str(exc)[:500]))
    system = parse_system(rows)
    identity = vendors.identity_from_snmp(profile, rows, system.descr, system.name)
    macs = [mac_of(v) for o, v in sorted(rows.items()) if o.startswith(oids.IF_PHYS_ADDRESS + ".")]
    identity = identity.model_copy(
        update={"location": system.location or None, "mac": next((m for m in macs if m), None)}
    )
    return DeviceReport(
        driver=driver,
        ip=ip,
        role=Role.RECORDER,
        identity=identity,
        recorder=RecorderInfo(),
        notes=notes,
    )


async def read_switch(
    transport: SnmpTransport, ip: str, *, driver: str = "snmp", system_rows: Walk | None = None
) -> DeviceReport:
    """Walk what a switch report needs and build it. The first walk (system group) must answer;
    a later table that fails becomes a note, unless the device stopped answering altogether."""
    rows, vlan_rows, notes = await read_walks(transport, system_rows)
    report = build_report(ip, rows, vlan_rows, driver=driver)
    return report.model_copy(update={"notes": [*notes, *report.notes]})


async def read_walks(
    transport: SnmpTransport, system_rows: Walk | None = None
) -> tuple[Walk, dict[int, Walk], list[ReportNote]]:
    """Every walk of one switch: the default context's rows, the per-VLAN rows, and notes on failures."""
    rows: Walk = dict(system_rows) if system_rows else dict(await transport.walk(oids.SYSTEM, max_rows=100))
    system = parse_system(rows)
    if system.object_id is None and system.descr is None:
        raise ProtocolError("the agent answered without a system group", operation="walk system")
    enterprise = enterprise_of(system.object_id)
    tables = {**COMMON_TABLES, **VENDOR_TABLES.get(enterprise or "", {})}
    notes: list[ReportNote] = []
    rows |= await _walk_all(transport, tables, notes)

    vlan_rows: dict[int, Walk] = {}
    qbridge_fdb = any(oid.startswith(oids.DOT1Q_TP_FDB_PORT + ".") for oid in rows)
    cisco_vlans = cisco_vlan_ids(rows) if enterprise == "9" else []
    if not qbridge_fdb and cisco_vlans:
        # The plain community is VLAN 1's instance again; each VLAN is read through its own.
        silent = 0
        for vlan in cisco_vlans:
            tables = {f"vlan {vlan} fdb": VLAN_INSTANCE_COLUMNS}
            before = len(notes)
            context = transport.for_vlan(vlan)
            try:
                # A context that does not answer costs one short probe, not a walk's timeouts.
                await probe(context, PROBE_TIMEOUT_S)
            except DeviceTimeout as exc:
                notes.append(ReportNote(kind=exc.kind, operation=f"snmp vlan {vlan} fdb", message=str(exc)))
                silent += 1
                if silent >= MAX_SILENT_VLANS:
                    notes.append(_no_vlan_instances())
                    break
                continue
            instance = await _walk_all(context, tables, notes, optional=True)
            if instance:
                vlan_rows[vlan] = instance
            timed_out = any(n.kind is ProblemKind.TIMEOUT for n in notes[before:])
            silent = silent + 1 if timed_out else 0
            if silent >= MAX_SILENT_VLANS:
                # An agent without community indexing drops every community@vlan request: asking
                # about each of its VLANs would cost one timeout per VLAN for nothing.
                notes.append(_no_vlan_instances())
                break
    elif not qbridge_fdb:
        bridge_fdb = {"bridge-fdb": (oids.DOT1D_TP_FDB_PORT, oids.DOT1D_TP_FDB_STATUS)}
        rows |= await _walk_all(transport, bridge_fdb, notes, optional=True)
    log.debug(
        "%s walks: %d rows, %d VLAN instances, %d notes", system.name, len(rows), len(vlan_rows), len(notes)
    )
    return rows, vlan_rows, notes


def _no_vlan_instances() -> ReportNote:
    return ReportNote(
        kind=ProblemKind.UNSUPPORTED,
        operation="snmp vlan fdb",
        message="per-VLAN bridge instances do not answer; stopped asking",
    )


async def _walk_all(
    transport: SnmpTransport,
    tables: Mapping[str, tuple[str, ...]],
    notes: list[ReportNote],
    *,
    optional: bool = False,
) -> Walk:
    """Walk every table, its columns in lockstep, a few tables at a time. A failed table becomes a
    note; when every walk timed out the device is gone and the timeout is raised (unless the tables
    are `optional`)."""
    limit = asyncio.Semaphore(PARALLEL_WALKS)

    async def one(bases: tuple[str, ...]) -> Walk:
        async with limit:
            max_rows = MAX_FDB_ROWS if FDB_COLUMNS & set(bases) else MAX_ROWS
            columns = await transport.walk_columns(bases, max_rows=max_rows)
            for base, found in columns.items():
                if len(found) >= max_rows:
                    notes.append(
                        ReportNote(
                            kind=ProblemKind.PARSE,
                            operation=f"walk {base}",
                            message=f"stopped at {max_rows} rows",
                        )
                    )
            return {oid: value for found in columns.values() for oid, value in found.items()}

    jobs = list(tables.items())
    results: Sequence[Walk | BaseException] = await asyncio.gather(
        *(one(bases) for _, bases in jobs), return_exceptions=True
    )
    rows: Walk = {}
    failed: dict[str, DriverError] = {}
    for (what, _bases), result in zip(jobs, results, strict=True):
        if isinstance(result, DriverError):
            failed.setdefault(what, result)
        elif isinstance(result, BaseException):
            raise result
        else:
            rows |= result
    if (
        not optional
        and failed
        and len(failed) == len(tables)
        and all(isinstance(e, DeviceTimeout) for e in failed.values())
    ):
        raise next(iter(failed.values()))
    for what, error in failed.items():
        notes.append(ReportNote(kind=error.kind, operation=f"snmp {what}", message=str(error)[:500]))
    return rows
