"""The simulated switches' SNMP agents, read by independent clients over real UDP and compared with the
site model: pysnmp's hlapi (v2c, v3 authPriv) and net-snmp's snmpbulkwalk when installed.

Addresses: 127.21.0.0/16 only (reserved for these tests), UDP ports picked free per test.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    bulk_walk_cmd,
    get_cmd,
    set_cmd,
    usmAesCfb128Protocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto.rfc1902 import OctetString

from lab.host import PortPlan, SimHost
from lab.site import LabSite, PortView, Switch, load_site
from lab.snmp import mib
from lab.snmp.agent import SnmpServer, start_snmp
from lab.snmp.table import OidTable
from lab.state import LabState

COMMUNITY = "depotro"  # the small site's community
SNMPBULKWALK = shutil.which("snmpbulkwalk")
_subnets = itertools.count(1)

# OIDs the tests read, as a scanner would (numeric, no MIB files)
SYS_NAME, SYS_DESCR, SYS_OBJECT_ID = "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"
IF_NAME, IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.18"
IF_OPER_STATUS, IF_HIGH_SPEED = "1.3.6.1.2.1.2.2.1.8", "1.3.6.1.2.1.31.1.1.1.15"
ENT_CLASS, ENT_SERIAL, ENT_MODEL = (
    "1.3.6.1.2.1.47.1.1.1.1.5", "1.3.6.1.2.1.47.1.1.1.1.11", "1.3.6.1.2.1.47.1.1.1.1.13",
)  # fmt: skip
BASE_PORT_IF_INDEX = "1.3.6.1.2.1.17.1.4.1.2"
TP_FDB_PORT, TP_FDB_STATUS = "1.3.6.1.2.1.17.4.3.1.2", "1.3.6.1.2.1.17.4.3.1.3"
Q_FDB_PORT, Q_FDB_STATUS = "1.3.6.1.2.1.17.7.1.2.2.1.2", "1.3.6.1.2.1.17.7.1.2.2.1.3"
Q_VLAN_FDB_ID = "1.3.6.1.2.1.17.7.1.4.2.1.3"
VTP_VLAN_STATE = "1.3.6.1.4.1.9.9.46.1.3.1.1.2"
LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
PETH_DETECTION, PETH_CLASS = "1.3.6.1.2.1.105.1.1.1.6", "1.3.6.1.2.1.105.1.1.1.10"
CISCO_PORT_POWER_MW = "1.3.6.1.4.1.9.9.402.1.2.1.9"
HP_PORT_POWER_MW = "1.3.6.1.4.1.11.2.14.11.1.9.1.1.1.3"
DETECTION = {1: "disabled", 2: "searching", 3: "delivering"}


# ---------------------------------------------------------------- lab plumbing


def free_udp_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def agents(
    site: LabSite, only: set[str] | None = None
) -> AsyncIterator[tuple[LabState, dict[str, tuple[str, int]]]]:
    """The switches of `site` (or those named in `only`), each on its own 127.21.<n>.<k> address."""
    state = LabState(site)
    subnet = next(_subnets) % 250
    servers: list[SnmpServer] = []
    addresses: dict[str, tuple[str, int]] = {}
    try:
        for k, sw in enumerate(site.switches, start=2):
            if only is not None and sw.name not in only:
                continue
            ip = f"127.21.{subnet}.{k}"
            host = SimHost(sw.name, ip, ports=PortPlan(snmp=free_udp_port(ip)))
            servers.append(await start_snmp(state, sw.name, host))
            addresses[sw.name] = (ip, host.ports.snmp)
        yield state, addresses
    finally:
        for server in servers:
            await server.close()


def plain(value: Any) -> Any:
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    if isinstance(value, univ.OctetString):  # IpAddress included
        return bytes(value.asOctets())
    return int(value)


class Client:
    """A scanner's view of one agent through pysnmp's hlapi: numeric OIDs, bulk walks."""

    def __init__(self, address: tuple[str, int], auth: Any, context: str = "", timeout: float = 2.0) -> None:
        self.address, self.auth, self.context, self.timeout = address, auth, context, timeout
        self.engine = SnmpEngine()

    @classmethod
    def v2c(cls, address: tuple[str, int], community: str = COMMUNITY, **kw: Any) -> Client:
        return cls(address, CommunityData(community, mpModel=1), **kw)

    @classmethod
    def v3(cls, address: tuple[str, int], sw: Switch, auth_key: str | None = None, **kw: Any) -> Client:
        usm = UsmUserData(
            sw.snmp_v3_user, auth_key or sw.snmp_v3_auth_key, sw.snmp_v3_priv_key,
            authProtocol=usmHMACSHAAuthProtocol, privProtocol=usmAesCfb128Protocol,
        )  # fmt: skip
        return cls(address, usm, **kw)

    async def _target(self) -> Any:
        return await UdpTransportTarget.create(self.address, timeout=self.timeout, retries=0)

    async def get(self, *oids: str) -> dict[str, Any]:
        error, status, _index, varbinds = await get_cmd(
            self.engine, self.auth, await self._target(), ContextData(contextName=self.context),
            *[ObjectType(ObjectIdentity(o)) for o in oids], lookupMib=False,
        )  # fmt: skip
        if error or status:
            raise RuntimeError(str(error or status.prettyPrint()))
        return {str(name): plain(value) for name, value in varbinds}

    async def walk(self, base: str, max_repetitions: int = 25) -> dict[tuple[int, ...], Any]:
        """Rows under `base`, keyed by the index after it."""
        rows: dict[tuple[int, ...], Any] = {}
        prefix = mib.oid(base)
        async for error, status, _index, varbinds in bulk_walk_cmd(
            self.engine, self.auth, await self._target(), ContextData(contextName=self.context),
            0, max_repetitions, ObjectType(ObjectIdentity(base)), lexicographicMode=False, lookupMib=False,
        ):  # fmt: skip
            if error or status:
                raise RuntimeError(str(error or status.prettyPrint()))
            for name, value in varbinds:
                rows[tuple(name)[len(prefix) :]] = plain(value)
        return rows

    def close(self) -> None:
        self.engine.close_dispatcher()


@asynccontextmanager
async def client(factory: Any, *args: Any, **kw: Any) -> AsyncIterator[Client]:
    c = factory(*args, **kw)
    try:
        yield c
    finally:
        c.close()


def mac_of(octets: tuple[int, ...]) -> str:
    return ":".join(f"{b:02x}" for b in octets)


async def port_numbers(c: Client, sw: Switch) -> dict[int, int]:
    """ifIndex -> front-panel port, from ifName as a scanner would (Gi1/0/N or N)."""
    names = await c.walk(IF_NAME)
    ports = {}
    for (if_index,), name in names.items():
        for n in range(1, sw.port_count + 1):
            if name.decode() == sw.port_short_name(n):
                ports[if_index] = n
    return ports


async def bridge_fdb(c: Client, ports: dict[int, int], vlan: int) -> set[tuple[str, int, int]]:
    """(mac, vlan, port) of learned BRIDGE-MIB entries, bridge port -> ifIndex -> port."""
    if_index = {bp: ifi for (bp,), ifi in (await c.walk(BASE_PORT_IF_INDEX)).items()}
    status = await c.walk(TP_FDB_STATUS)
    entries = set()
    for mac, bridge_port in (await c.walk(TP_FDB_PORT)).items():
        if status[mac] == 3:
            entries.add((mac_of(mac), vlan, ports[if_index[bridge_port]]))
    return entries


# ---------------------------------------------------------------- identity, interfaces


async def test_system_and_chassis_identity_v2c() -> None:
    site = load_site("small")
    async with agents(site) as (_state, addr):
        for sw in site.switches:
            async with client(Client.v2c, addr[sw.name]) as c:
                system = await c.get(SYS_NAME, SYS_DESCR, SYS_OBJECT_ID)
                assert system[SYS_NAME] == sw.name.encode()
                assert system[SYS_DESCR] == mib.sys_descr(sw).encode()
                classes = await c.walk(ENT_CLASS)
                (chassis,) = [idx for idx, cls in classes.items() if cls == 3]
                assert (await c.walk(ENT_SERIAL))[chassis] == sw.serial.encode()
                assert (await c.walk(ENT_MODEL))[chassis] == mib.part_number(sw).encode()
        core = await _get_one(addr["sw-core"], SYS_DESCR)
        assert core.startswith(
            b"Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8"
        )
        assert (await _get_one(addr["sw-core"], SYS_OBJECT_ID)) == "1.3.6.1.4.1.9.1.1208"
        assert (await _get_one(addr["sw-yard"], SYS_OBJECT_ID)) == "1.3.6.1.4.1.11.2.3.7.11.137"
        assert (await _get_one(addr["sw-yard"], SYS_DESCR)).startswith(b"Aruba J9773A 2530-24G-PoEP Switch")


async def _get_one(address: tuple[str, int], oid: str) -> Any:
    async with client(Client.v2c, address) as c:
        return (await c.get(oid))[oid]


async def test_every_port_matches_port_view() -> None:
    site = load_site("small")
    async with agents(site) as (_state, addr):
        for sw in site.switches:
            async with client(Client.v2c, addr[sw.name]) as c:
                names, aliases = await c.walk(IF_NAME), await c.walk(IF_ALIAS)
                oper, speed = await c.walk(IF_OPER_STATUS), await c.walk(IF_HIGH_SPEED)
            for n in range(1, sw.port_count + 1):
                view: PortView = site.port_view(sw.name, n)
                idx = (view.if_index,)
                assert names[idx] == view.short_name.encode()
                assert aliases[idx] == view.alias.encode()
                assert oper[idx] == (1 if view.oper_up else 2), f"{sw.name} port {n}"
                assert speed[idx] == view.speed_mbps
            # plus the VLAN / management interface(s), which are not front-panel ports
            assert len(names) > sw.port_count
    assert site.port_view("sw-core", 5).if_index == 10105


# ---------------------------------------------------------------- forwarding tables


async def test_cisco_fdb_per_vlan_community_indexing() -> None:
    site = load_site("small")
    sw = site.switch("sw-core")
    async with agents(site) as (_state, addr):
        async with client(Client.v2c, addr[sw.name]) as c:
            ports = await port_numbers(c, sw)
            vlans = sorted(v for _domain, v in (await c.walk(VTP_VLAN_STATE)))
            assert vlans == [1, 20, 99, 1002, 1003, 1004, 1005]
            assert await c.walk(Q_FDB_PORT) == {}  # IOS has no Q-BRIDGE-MIB
            plain_fdb = await bridge_fdb(c, ports, vlan=1)
        found: set[tuple[str, int, int]] = set(plain_fdb)
        for vlan in [v for v in vlans if v not in mib.CISCO_RESERVED_VLANS]:
            async with client(Client.v2c, addr[sw.name], community=f"{COMMUNITY}@{vlan}") as c:
                found |= await bridge_fdb(c, ports, vlan)
        async with client(Client.v3, addr[sw.name], sw, context="vlan-20") as c:
            v3_vlan20 = await bridge_fdb(c, ports, vlan=20)
        async with client(Client.v2c, addr[sw.name], community=f"{COMMUNITY}@1002", timeout=0.5) as c:
            with pytest.raises(RuntimeError, match="No SNMP response"):
                await c.get(SYS_NAME)
    assert found == set(site.fdb(sw.name))
    assert plain_fdb == {e for e in site.fdb(sw.name) if e[1] == 1}  # the plain community: VLAN 1 only
    assert v3_vlan20 == {e for e in site.fdb(sw.name) if e[1] == 20}
    assert len(v3_vlan20) == 15


async def test_procurve_fdb_from_q_bridge() -> None:
    site = load_site("small")
    sw = site.switch("sw-yard")
    async with agents(site) as (_state, addr), client(Client.v2c, addr[sw.name]) as c:
        ports = await port_numbers(c, sw)
        if_index = {bp: ifi for (bp,), ifi in (await c.walk(BASE_PORT_IF_INDEX)).items()}
        fdb_vlan = {fdb_id: vlan for (_mark, vlan), fdb_id in (await c.walk(Q_VLAN_FDB_ID)).items()}
        status = await c.walk(Q_FDB_STATUS)
        found = {
            (mac_of(idx[1:]), fdb_vlan[idx[0]], ports[if_index[bridge_port]])
            for idx, bridge_port in (await c.walk(Q_FDB_PORT)).items()
            if status[idx] == 3
        }
        dot1d = await bridge_fdb(c, ports, vlan=sw.camera_vlan)  # BRIDGE-MIB, all VLANs merged
    assert found == set(site.fdb(sw.name))
    assert dot1d == set(site.fdb(sw.name))


# ---------------------------------------------------------------- LLDP, PoE


async def test_lldp_neighbours_are_the_inter_switch_links() -> None:
    site = load_site("small")
    async with agents(site) as (_state, addr):
        seen = set()
        for sw in site.switches:
            async with client(Client.v2c, addr[sw.name]) as c:
                local_ids = {n: v.decode() for (n,), v in (await c.walk(LLDP_LOC_PORT_ID)).items()}
                rem = await c.walk(LLDP_REM)
            for (column, mark, local, rem_index), value in rem.items():
                if column != 5:  # chassis id (MAC); read the row's other columns by its index
                    continue
                key = (mark, local, rem_index)
                local_port = next(n for n in range(1, sw.port_count + 1)
                                  if mib.lldp_port_id(sw, n)[1] == local_ids[local])  # fmt: skip
                far = next(s for s in site.switches if mib.mac_bytes(s.mac) == value)
                far_port_id = rem[(7, *key)].decode()
                far_port = next(
                    n for n in range(1, far.port_count + 1) if mib.lldp_port_id(far, n)[1] == far_port_id
                )
                assert rem[(4, *key)] == 4 and rem[(9, *key)] == far.name.encode()
                seen.add((sw.name, local_port, far.name, far_port))
    expected = {(lk.a, lk.a_port, lk.b, lk.b_port) for lk in site.links}
    expected |= {(lk.b, lk.b_port, lk.a, lk.a_port) for lk in site.links}
    assert seen == expected


async def test_poe_status_class_and_power_match_port_view() -> None:
    site = load_site("small")
    async with agents(site) as (_state, addr):
        for sw in site.switches:
            power_oid = CISCO_PORT_POWER_MW if sw.dialect == "cisco_ios" else HP_PORT_POWER_MW
            async with client(Client.v2c, addr[sw.name]) as c:
                detection, classes = await c.walk(PETH_DETECTION), await c.walk(PETH_CLASS)
                power = await c.walk(power_oid)
            for n in range(1, sw.poe_ports + 1):
                view = site.port_view(sw.name, n)
                assert DETECTION[detection[(1, n)]] == view.poe_status, f"{sw.name} port {n}"
                assert power[(1, n)] == round(view.power_w * 1000)
                if view.poe_status == "delivering":
                    assert classes[(1, n)] == view.poe_class + 1  # type: ignore[operator]
    assert site.port_view("sw-yard", 10).power_w == 22.0  # the unmanaged cabinet switch and its cameras


# ---------------------------------------------------------------- access control and faults


async def test_v3_auth_priv_and_wrong_secrets() -> None:
    site = load_site("small")
    sw = site.switch("sw-yard")
    async with agents(site) as (_state, addr):
        async with client(Client.v3, addr[sw.name], sw) as c:
            assert (await c.get(SYS_NAME))[SYS_NAME] == b"sw-yard"
        async with client(Client.v3, addr[sw.name], sw, auth_key="not-the-key-1") as c:
            with pytest.raises(RuntimeError) as wrong_key:
                await c.get(SYS_NAME)
        assert "No SNMP response" not in str(wrong_key.value)  # the agent reports, it is not silent
        async with client(Client.v2c, addr[sw.name], community="public", timeout=0.5) as c:
            with pytest.raises(RuntimeError, match="No SNMP response"):
                await c.get(SYS_NAME)


async def test_agent_is_read_only() -> None:
    site = load_site("small")
    async with agents(site, only={"sw-core"}) as (_state, addr), client(Client.v2c, addr["sw-core"]) as c:
        error, status, index, _vbs = await set_cmd(
            c.engine, c.auth, await c._target(), ContextData(),
            ObjectType(ObjectIdentity(SYS_NAME), OctetString("renamed")), lookupMib=False,
        )  # fmt: skip
        assert not error and status.prettyPrint() == "noAccess" and int(index) == 1
        assert (await c.get(SYS_NAME))[SYS_NAME] == b"sw-core"


async def test_snmp_timeout_fault_and_gone_switch_never_answer() -> None:
    site = load_site("small")
    async with agents(site) as (state, addr):
        faulty = site.model_copy(deep=True)
        faulty.switch("sw-core").faults.snmp_timeout = True
        state.replace(faulty)
        state.gone.add("sw-yard")
        for name in ("sw-core", "sw-yard"):
            async with client(Client.v2c, addr[name], timeout=0.5) as c:
                with pytest.raises(RuntimeError, match="No SNMP response"):
                    await c.get(SYS_NAME)
        state.gone.clear()
        async with client(Client.v2c, addr["sw-yard"]) as c:
            assert (await c.get(SYS_NAME))[SYS_NAME] == b"sw-yard"


async def test_slow_reply_fault_still_answers() -> None:
    site = load_site("small")
    site.switch("sw-yard").faults.slow_reply_s = 0.3
    async with agents(site, only={"sw-yard"}) as (_state, addr), client(Client.v2c, addr["sw-yard"]) as c:
        started = time.perf_counter()
        assert (await c.get(SYS_NAME))[SYS_NAME] == b"sw-yard"
        rows = await c.walk(IF_NAME)
    assert len(rows) == 24 + 2
    print(f"\nslow_reply_s=0.3: GET + walk took {time.perf_counter() - started:.2f} s")


async def test_live_change_shows_in_the_next_walk() -> None:
    site = load_site("small")
    sw = site.switch("sw-core")
    cam = site.device("cam-office")
    assert site.edge_port(cam)[1] == 5
    async with agents(site) as (state, addr):
        moved = site.model_copy(deep=True)
        moved.device("cam-office").uplink.port = 11
        state.replace(moved)
        async with client(Client.v2c, addr[sw.name], community=f"{COMMUNITY}@20") as c:
            ports = await port_numbers(c, sw)
            fdb = await bridge_fdb(c, ports, vlan=20)
            detection = await c.walk(PETH_DETECTION)
            power = await c.walk(CISCO_PORT_POWER_MW)
            aliases = await c.walk(IF_ALIAS)
    assert (cam.mac, 20, 11) in fdb and (cam.mac, 20, 5) not in fdb
    assert fdb == set(moved.fdb(sw.name))
    assert (detection[(1, 5)], detection[(1, 11)]) == (2, 3)
    assert (power[(1, 5)], power[(1, 11)]) == (0, round(cam.power_w * 1000))
    assert aliases[(10111,)] == b"cam-office"


# ---------------------------------------------------------------- GETBULK behaviour, second client, scale


async def test_getbulk_with_huge_max_repetitions_is_cut_to_one_datagram() -> None:
    site = load_site("small")
    async with agents(site) as (_state, addr), client(Client.v2c, addr["sw-yard"]) as c:
        started = time.perf_counter()
        error, status, _index, varbinds = await bulk_cmd(
            c.engine, c.auth, await c._target(), ContextData(), 0, 10_000,
            ObjectType(ObjectIdentity("1.3.6.1.2.1.2.2.1")), lookupMib=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        walked = await c.walk("1.3.6.1.2.1.2.2.1", max_repetitions=10_000)
    assert not error and not status
    assert 10 < len(varbinds) < 200
    names = [tuple(name) for name, _v in varbinds]
    assert names == sorted(names)
    assert len(walked) == 13 * (24 + 2)  # 13 ifTable columns of 24 ports and 2 VLAN interfaces
    print(f"\nGETBULK max-repetitions 10000 answered {len(varbinds)} var-binds in {elapsed * 1000:.1f} ms")


def test_table_bulk_respects_budget_and_end_of_mib() -> None:
    table = OidTable.from_rows([((1, 3, 6, 1, 2, 9, i), ("int", i)) for i in range(1, 1001)])
    answers = table.bulk([(1, 3, 6, 1, 2, 9)], 0, 5000, budget=600)
    assert 10 < len(answers) < 100
    assert [a[0][-1] for a in answers] == list(range(1, len(answers) + 1))
    tail = table.bulk([(1, 3, 6, 1, 2, 9, 999)], 0, 50)
    assert tail == [((1, 3, 6, 1, 2, 9, 1000), ("int", 1000)), ((1, 3, 6, 1, 2, 9, 1000), "endOfMibView")]
    assert table.get((1, 3, 6, 1, 2, 9, 5000))[1] == "noSuchObject"


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def _parse_net_snmp(out: str) -> dict[tuple[int, ...], str]:
    """Lines of `snmpbulkwalk -On -Oq`: ".1.3.6...  value"."""
    rows = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        rows[mib.oid(name)] = value.strip()
    return rows


@pytest.mark.skipif(
    SNMPBULKWALK is None, reason="net-snmp's snmpbulkwalk is not installed (apt-get install snmp)"
)
async def test_net_snmp_snmpbulkwalk_reads_the_same_fdb() -> None:
    site = load_site("small")
    sw = site.switch("sw-core")
    async with agents(site) as (_state, addr):
        target = "{}:{}".format(*addr[sw.name])
        v2c = await asyncio.to_thread(
            _run, ["snmpbulkwalk", "-v2c", "-c", f"{COMMUNITY}@20", "-On", "-Oq", "-t", "2", "-r", "0",
                   target, "1.3.6.1.2.1.17.4.3.1.2"],
        )  # fmt: skip
        v3 = await asyncio.to_thread(
            _run, ["snmpbulkwalk", "-v3", "-l", "authPriv", "-u", sw.snmp_v3_user, "-a", "SHA",
                   "-A", sw.snmp_v3_auth_key, "-x", "AES", "-X", sw.snmp_v3_priv_key, "-n", "vlan-20",
                   "-On", "-Oq", "-t", "2", "-r", "0", target, "1.3.6.1.2.1.17.1.4.1.2"],
        )  # fmt: skip
    assert v2c.returncode == 0, v2c.stderr
    assert v3.returncode == 0, v3.stderr
    prefix = len(mib.oid(TP_FDB_PORT))
    learned = {
        (mac_of(o[prefix:]), int(port)) for o, port in _parse_net_snmp(v2c.stdout).items() if port != "0"
    }
    # bridge port -> ifIndex (read over v3, context vlan-20) -> port: Gi1/0/N is ifIndex 10100 + N
    port_if = {o[-1]: int(v) for o, v in _parse_net_snmp(v3.stdout).items()}
    found = {(mac, port_if[bridge_port] - 10100) for mac, bridge_port in learned}
    assert found == {(mac, port) for mac, vlan, port in site.fdb(sw.name) if vlan == 20}


def many_cameras_site(cameras: int = 2000) -> LabSite:
    """The small site plus `cameras` extra cameras behind unmanaged switches on sw-core (2,000+ FDB rows)."""
    data = load_site("small").model_dump()
    data["subnet"] = "10.77.0.0/20"
    free_ports = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    data["unmanaged"] += [
        {"name": f"bulk-poe-{p}", "uplink": {"switch": "sw-core", "port": p}} for p in free_ports
    ]
    template = {
        k: v for k, v in data["devices"][0].items() if k not in ("name", "mac", "ip", "serial", "uplink")
    }
    for n in range(cameras):
        data["devices"].append({
            **template, "name": f"bulk-cam-{n}", "serial": f"BULK{n:06d}",
            "mac": f"02:00:00:00:{n >> 8:02x}:{n & 0xFF:02x}", "ip": f"10.77.{1 + n // 250}.{1 + n % 250}",
            "uplink": {"switch": f"bulk-poe-{free_ports[n % len(free_ports)]}"},
        })  # fmt: skip
    return LabSite.model_validate(data)


async def test_bulk_walk_of_a_2000_row_fdb_prints_its_time() -> None:
    started = time.perf_counter()
    site = many_cameras_site()
    sw = site.switch("sw-core")
    expected = {(mac, port) for mac, vlan, port in site.fdb(sw.name) if vlan == 20}
    assert len(expected) > 2000
    build_s = time.perf_counter() - started
    async with agents(site, only={sw.name}) as (_state, addr):
        started = time.perf_counter()
        async with client(Client.v2c, addr[sw.name], community=f"{COMMUNITY}@20", timeout=10) as c:
            rows = await c.walk(TP_FDB_PORT, max_repetitions=50)
        pysnmp_s = time.perf_counter() - started
        net_snmp_s = None
        if SNMPBULKWALK:
            started = time.perf_counter()
            result = await asyncio.to_thread(
                _run, ["snmpbulkwalk", "-v2c", "-c", f"{COMMUNITY}@20", "-On", "-Oq", "-Cr50", "-t", "5",
                       "{}:{}".format(*addr[sw.name]), TP_FDB_PORT],
            )  # fmt: skip
            net_snmp_s = time.perf_counter() - started
            assert len(result.stdout.splitlines()) == len(expected) + 1  # + the switch's own MAC (self)
    assert {(mac_of(m), p) for m, p in rows.items() if p != 0} == expected
    print(
        f"\nFDB of {len(expected)} MACs on {sw.name} (+1 self): site build {build_s:.2f} s, "
        f"pysnmp bulk walk {pysnmp_s:.2f} s"
        + (f", snmpbulkwalk {net_snmp_s:.2f} s" if net_snmp_s is not None else ", snmpbulkwalk not installed")
    )


async def test_large_site_switch_fdb_walk_prints_its_time() -> None:
    site = load_site("large")
    sw = site.switch("sw-01")
    async with agents(site, only={"sw-01", "sw-02"}) as (_state, addr):
        started = time.perf_counter()
        async with client(Client.v2c, addr[sw.name], community="public@20", timeout=10) as c:
            rows = await c.walk(TP_FDB_PORT)
        elapsed = time.perf_counter() - started
        async with client(Client.v2c, addr["sw-02"], community="public") as c:
            q_rows = await c.walk(Q_FDB_PORT)
    assert {(mac_of(m), p) for m, p in rows.items() if p != 0} == {(m, p) for m, _v, p in site.fdb(sw.name)}
    assert {(mac_of(k[1:]), p) for k, p in q_rows.items() if p != 0} == {
        (m, p) for m, _v, p in site.fdb("sw-02")
    }
    print(
        f"\nlarge site: {sw.name} FDB of {len(rows)} rows bulk-walked in {elapsed:.2f} s (pysnmp, max-rep 25)"
    )


# ---------------------------------------------------------------- network namespace


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("snmpget") is None,
    reason="needs root, iproute2 and net-snmp's snmpget to test namespace mode",
)
async def test_agent_socket_lives_in_the_device_namespace() -> None:
    """The agent's socket is made inside the switch's namespace: only a client in there reaches it."""
    ns = f"asb-b1-snmp{os.getpid() % 100000}"
    snmpget = ["snmpget", "-v2c", "-c", COMMUNITY, "-Oqv", "-t", "3", "-r", "1", "127.0.0.1:1161", SYS_NAME]
    assert (await asyncio.to_thread(_run, ["ip", "netns", "add", ns])).returncode == 0
    try:
        await asyncio.to_thread(_run, ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
        host = SimHost("sw-yard", "127.0.0.1", netns=ns, ports=PortPlan(snmp=1161))
        server = await start_snmp(LabState(load_site("small")), "sw-yard", host)
        try:
            inside = await asyncio.to_thread(_run, ["ip", "netns", "exec", ns, *snmpget])
        finally:
            await server.close()
    finally:
        await asyncio.to_thread(_run, ["ip", "netns", "delete", ns])
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.strip().strip('"') == "sw-yard"
