"""The SNMP agent of a simulated NAS recorder (Synology DiskStation running Surveillance Station).

What a client meets, as on DSM 7 with SNMP enabled (v2c, read-only community):
- SNMPv2-MIB system group from net-snmp: sysObjectID is net-snmp's Linux agent
  (1.3.6.1.4.1.8072.3.2.10), sysDescr "Linux <hostname> <kernel> #<build> SMP <date> x86_64 GNU/Linux
  synology_<platform>_<model>" — the model hides in the last word, the DSM build in "#<build>";
- IF-MIB ifTable: lo and eth0 (ifPhysAddress: the NAS's MAC);
- SYNOLOGY-SYSTEM-MIB (enterprise 6574): modelName .1.5.1.0, serialNumber .1.5.2.0, version .1.5.3.0
  ("DSM 7.2-64570");
- a wrong community gets no answer; `faults.snmp_timeout` or a gone device: silence.
"""

from __future__ import annotations

from lab.host import SimHost
from lab.site import OnvifDevice
from lab.snmp import mib
from lab.snmp.agent import SnmpServer
from lab.snmp.table import OidTable
from lab.state import LabState

NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"
SYNO_MODEL = mib.oid("1.3.6.1.4.1.6574.1.5.1.0")
SYNO_SERIAL = mib.oid("1.3.6.1.4.1.6574.1.5.2.0")
SYNO_VERSION = mib.oid("1.3.6.1.4.1.6574.1.5.3.0")


def dsm_build(device: OnvifDevice) -> str:
    """ "DSM 7.2-64570" -> "64570"."""
    return device.firmware.rsplit("-", 1)[-1]


def sys_descr(device: OnvifDevice) -> str:
    platform = device.model.lower().replace("+", "p").replace("-", "")
    return (
        f"Linux {device.name} 4.4.302+ #{dsm_build(device)} SMP Thu Mar 28 12:51:20 CST 2024 x86_64 "
        f"GNU/Linux synology_geminilake_{platform}"
    )


def nas_rows(device: OnvifDevice) -> list[mib.Row]:
    return [
        (mib.SYS_DESCR, ("str", sys_descr(device).encode())),
        (mib.SYS_OBJECT_ID, ("oid", NET_SNMP_LINUX)),
        (mib.SYS_UPTIME, ("ticks", 0)),
        (mib.SYS_CONTACT, ("str", b"")),
        (mib.SYS_NAME, ("str", device.name.encode())),
        (mib.SYS_LOCATION, ("str", device.placement.encode())),
        (mib.SYS_SERVICES, ("int", 76)),
        # IF-MIB: the loopback interface, then eth0 with the NAS's MAC
        (mib.oid("1.3.6.1.2.1.2.2.1.1.1"), ("int", 1)),
        (mib.oid("1.3.6.1.2.1.2.2.1.1.2"), ("int", 2)),
        (mib.oid("1.3.6.1.2.1.2.2.1.2.1"), ("str", b"lo")),
        (mib.oid("1.3.6.1.2.1.2.2.1.2.2"), ("str", b"eth0")),
        (mib.oid("1.3.6.1.2.1.2.2.1.6.1"), ("hex", b"")),
        (mib.oid("1.3.6.1.2.1.2.2.1.6.2"), ("hex", mib.mac_bytes(device.mac))),
        (SYNO_MODEL, ("str", device.model.encode())),
        (SYNO_SERIAL, ("str", device.serial.encode())),
        (SYNO_VERSION, ("str", device.firmware.encode())),
    ]


class NasTables:
    """The NAS's one table, rebuilt when the site changes (same interface as agent.SwitchTables)."""

    def __init__(self, state: LabState, name: str) -> None:
        self._state, self._name = state, name
        self._generation = -1
        self._table: OidTable | None = None

    stale = False  # rebuilt on demand in table(); nothing for the background refresher to do

    def table(self, vlan: int | None) -> OidTable | None:
        if vlan is not None:
            return None
        if self._generation != self._state.generation:
            device = self._state.device(self._name)
            self._table = OidTable.from_rows(nas_rows(device)) if device is not None else None
            self._generation = self._state.generation
        return self._table


class NasSnmpServer(SnmpServer):
    """SnmpServer with the NAS's table and its single v2c community (no VLAN contexts, no v3 user)."""

    def _switch(self) -> OnvifDevice | None:  # type: ignore[override]
        return self.state.device(self.name)

    def _configure_nas(self, device: OnvifDevice) -> None:
        from pysnmp.entity import config
        from pysnmp.entity.engine import SnmpEngine
        from pysnmp.proto.api import v2c

        engine_id = (8072 | 0x80000000).to_bytes(4, "big") + b"\x03" + mib.mac_bytes(device.mac)
        engine = SnmpEngine(snmpEngineID=v2c.OctetString(engine_id))
        config.add_v1_system(engine, "nas-ro", device.snmp_community or "public")
        self._engine = engine


async def start_nas_snmp(state: LabState, name: str, host: SimHost) -> NasSnmpServer:
    device = state.device(name)
    if device is None or not device.is_nas:
        raise ValueError(f"no NAS recorder {name!r} in site {state.site.name!r}")
    server = NasSnmpServer(state, name, host, NasTables(state, name))  # type: ignore[arg-type]
    server._configure_nas(device)
    await server._start(host)
    return server
