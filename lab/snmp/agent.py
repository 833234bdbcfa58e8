"""The SNMP agent of one simulated switch: pysnmp 7's engine for the protocol, our sorted table for data.

pysnmp does the message work: v1/v2c communities, SNMPv3 USM (SHA + AES128, one user), engine
discovery, reports. Our responders answer GET/GETNEXT/GETBULK from lab.snmp.table instead of
pysnmp's MIB instrumentation, which lets them look the switch up on every request (live changes,
faults, gone devices) and cut GETBULK answers to one datagram like a real agent.

What a client meets:
- v2c/v1 with the switch's community, read-only (SET: noAccess); a wrong community gets no answer.
- cisco_ios also accepts `<community>@<vlan>` for each VLAN in Switch.vlans, and SNMPv3 context
  `vlan-<vlan>`: the BRIDGE-MIB instance of that VLAN (see lab/snmp/mib.py). Reserved VLANs
  1002-1005 have no instance: those communities get no answer, as on IOS.
- SNMPv3 user Switch.snmp_v3_user, authPriv SHA/AES128, context "" (wrong keys: a USM report).
- faults.snmp_timeout or a name in state.gone: silence. faults.slow_reply_s delays every answer.

Community, v3 keys and the VLAN list are read when the agent starts; every table is rebuilt when
state.generation changes (a background task rebuilds off the event loop; a request that arrives
first builds it itself, so an answer never shows an old generation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import zlib
from collections.abc import Sequence
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from lab.host import SimHost
from lab.site import Dialect, Switch
from lab.snmp import mib
from lab.snmp.table import Answer, OidTable, estimate_size
from lab.state import LabState

log = logging.getLogger(__name__)

# A GET/GETNEXT answer larger than this gets tooBig, like an agent bound to one Ethernet frame.
MAX_RESPONSE_BYTES = 1400
REFRESH_INTERVAL_S = 0.2
ENTERPRISE = {Dialect.CISCO_IOS: 9, Dialect.HP_PROCURVE: 11}


# ---------------------------------------------------------------- tables per generation


class SwitchTables:
    """The current tables of one switch: the plain one and, for Cisco, one per VLAN context."""

    def __init__(self, state: LabState, name: str) -> None:
        self._state = state
        self._name = name
        self._generation = -1
        self._facts: mib.SwitchFacts | None = None
        self._tables: dict[int | None, OidTable] = {}

    @property
    def stale(self) -> bool:
        return self._generation != self._state.generation

    def collect(self) -> tuple[int, mib.SwitchFacts | None]:
        """Facts for the current generation (the slow part: safe to run in a worker thread)."""
        generation, site = self._state.generation, self._state.site
        if not any(s.name == self._name for s in site.switches):
            return generation, None
        return generation, mib.collect_facts(site, self._name)

    def install(self, generation: int, facts: mib.SwitchFacts | None) -> None:
        if generation == self._state.generation and generation != self._generation:
            self._generation, self._facts, self._tables = generation, facts, {}

    def table(self, vlan: int | None) -> OidTable | None:
        if self.stale:
            self.install(*self.collect())
        if self._facts is None:
            return None
        if vlan not in self._tables:
            self._tables[vlan] = OidTable.from_rows(mib.build_from_facts(self._facts, vlan))
        return self._tables[vlan]


# ---------------------------------------------------------------- protocol values


def to_asn1(value: Any) -> Any:
    if isinstance(value, str):  # SNMPv2 exception values
        return {
            "noSuchObject": rfc1905.noSuchObject,
            "noSuchInstance": rfc1905.noSuchInstance,
            "endOfMibView": rfc1905.endOfMibView,
        }[value]
    kind, raw = value
    cls = {
        "int": v2c.Integer32, "str": v2c.OctetString, "hex": v2c.OctetString, "oid": v2c.ObjectIdentifier,
        "ticks": v2c.TimeTicks, "gauge": v2c.Gauge32, "counter": v2c.Counter32, "ip": v2c.IpAddress,
    }[kind]  # fmt: skip
    return cls(raw)


# ---------------------------------------------------------------- command responders


class _Responder(cmdrsp.CommandResponderBase):
    """Answers one PDU type from the server's table; subclasses choose the lookup."""

    def __init__(self, engine: SnmpEngine, snmp_context: context.SnmpContext, server: SnmpServer) -> None:
        super().__init__(engine, snmp_context)
        self._server = server

    def answer(self, table: OidTable, pdu: Any, names: list[mib.Oid]) -> list[Answer] | None:
        raise NotImplementedError

    def handle_management_operation(
        self, snmpEngine: Any, stateReference: Any, contextName: Any, PDU: Any
    ) -> None:
        names = [tuple(name) for name, _value in v2c.apiPDU.get_varbinds(PDU)]
        try:
            table = self._server.table_for(bytes(contextName))
            if table is None:
                return  # silence: no answer at all (process_pdu releases the request state)
            answers = self.answer(table, PDU, names)
            if answers is None:
                self._reply(snmpEngine, stateReference, "tooBig", [])
                return
            varbinds = [(rfc1902.ObjectName(o), to_asn1(v)) for o, v in map(self._server.live, answers)]
        except Exception:  # a bug of ours: answer genErr like a real agent instead of going silent
            log.exception("snmp %s: cannot answer %s", self._server.name, names[:4])
            self._reply(snmpEngine, stateReference, "genErr", [])
            return
        self._reply(snmpEngine, stateReference, 0, varbinds)

    def _reply(self, engine: Any, ref: Any, status: Any, varbinds: list[Any]) -> None:
        delay = self._server.reply_delay()
        if delay <= 0:
            self.send_varbinds(engine, ref, status, 0, varbinds)
            return
        # process_pdu forgets the request when we return: keep its state to answer later.
        pending = self._CommandResponderBase__pendingReqs
        saved = pending[ref]

        def later() -> None:
            if self._server.closed:
                return
            pending[ref] = saved
            try:
                self.send_varbinds(engine, ref, status, 0, varbinds)
            finally:
                self.release_state_information(ref)

        asyncio.get_running_loop().call_later(delay, later)


def _fits(answers: Sequence[Answer]) -> bool:
    return sum(estimate_size(a) for a in answers) <= MAX_RESPONSE_BYTES


class _Get(_Responder):
    SUPPORTED_PDU_TYPES = (rfc1905.GetRequestPDU.tagSet,)

    def answer(self, table: OidTable, pdu: Any, names: list[mib.Oid]) -> list[Answer] | None:
        answers = [table.get(name) for name in names]
        return answers if _fits(answers) else None


class _Next(_Responder):
    SUPPORTED_PDU_TYPES = (rfc1905.GetNextRequestPDU.tagSet,)

    def answer(self, table: OidTable, pdu: Any, names: list[mib.Oid]) -> list[Answer] | None:
        answers = [table.next(name) for name in names]
        return answers if _fits(answers) else None


class _Bulk(_Responder):
    SUPPORTED_PDU_TYPES = (rfc1905.GetBulkRequestPDU.tagSet,)

    def answer(self, table: OidTable, pdu: Any, names: list[mib.Oid]) -> list[Answer] | None:
        non_repeaters = int(v2c.apiBulkPDU.get_non_repeaters(pdu))
        max_repetitions = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
        return table.bulk(names, non_repeaters, max_repetitions, budget=MAX_RESPONSE_BYTES)


class _Set(_Responder):
    """Read-only agent: a SET is refused with noAccess, as VACM refuses a community without a write
    view (v1 clients see noSuchName)."""

    SUPPORTED_PDU_TYPES = (rfc1905.SetRequestPDU.tagSet,)

    def handle_management_operation(
        self, snmpEngine: Any, stateReference: Any, contextName: Any, PDU: Any
    ) -> None:
        if self._server.table_for(bytes(contextName)) is None:
            return
        varbinds = list(v2c.apiPDU.get_varbinds(PDU))
        self.send_varbinds(snmpEngine, stateReference, "noAccess", 1, varbinds)


# ---------------------------------------------------------------- the server


def engine_id(sw: Switch) -> bytes:
    """RFC 3411 engine ID, format 3 (MAC), under the vendor's enterprise number, as both vendors do."""
    enterprise = ENTERPRISE[sw.dialect] | 0x80000000
    return enterprise.to_bytes(4, "big") + b"\x03" + mib.mac_bytes(sw.mac)


class SnmpServer:
    """One switch's running agent. Create with start_snmp(); stop with close()."""

    def __init__(self, state: LabState, name: str, host: SimHost, tables: SwitchTables) -> None:
        self.state = state
        self.name = name
        self.address = (host.ip, host.ports.snmp)
        self.closed = False
        self._tables = tables
        self._vlan_contexts: dict[bytes, int] = {}
        self._engine: SnmpEngine | None = None
        self._sock: socket.socket | None = None
        self._refresher: asyncio.Task[None] | None = None
        switch = state.switch(name)
        seed = zlib.crc32(switch.serial.encode()) if switch else 0
        # Uptime: some days since "boot", then counting.
        self._boot_ticks = 86_400_00 * (7 + seed % 50) + seed % 86_400_00
        self._started = time.monotonic()

    # -- what the responders ask

    def _switch(self) -> Switch | None:
        return self.state.switch(self.name)

    def silent(self) -> bool:
        sw = self._switch()
        return self.closed or sw is None or sw.faults.snmp_timeout or self.name in self.state.gone

    def reply_delay(self) -> float:
        sw = self._switch()
        return sw.faults.slow_reply_s if sw else 0.0

    def table_for(self, context_name: bytes) -> OidTable | None:
        if self.silent():
            return None
        if context_name == b"":
            return self._tables.table(None)
        vlan = self._vlan_contexts.get(context_name)
        return None if vlan is None else self._tables.table(vlan)

    def live(self, answer: Answer) -> Answer:
        """Values that change between requests (sysUpTime) are computed when sent."""
        name, value = answer
        if name == mib.SYS_UPTIME and not isinstance(value, str):
            ticks = self._boot_ticks + int((time.monotonic() - self._started) * 100)
            return name, ("ticks", ticks % 2**32)
        return answer

    # -- life cycle

    def _configure(self, sw: Switch, facts: mib.SwitchFacts) -> None:
        engine = SnmpEngine(snmpEngineID=v2c.OctetString(engine_id(sw)))
        config.add_v1_system(engine, "asbuilt-ro", sw.snmp_community)
        for vlan in mib.community_vlans(facts):
            context_name = f"vlan-{vlan}".encode()
            self._vlan_contexts[context_name] = vlan
            config.add_v1_system(engine, f"asbuilt-ro-{vlan}", f"{sw.snmp_community}@{vlan}",
                                 contextName=context_name)  # fmt: skip
        config.add_v3_user(
            engine, sw.snmp_v3_user,
            config.USM_AUTH_HMAC96_SHA, sw.snmp_v3_auth_key,
            config.USM_PRIV_CFB128_AES, sw.snmp_v3_priv_key,
        )  # fmt: skip
        self._engine = engine

    async def _start(self, host: SimHost) -> None:
        engine = self._engine
        assert engine is not None
        # The socket is made inside the device's namespace (if any) and handed to pysnmp.
        sock = self._sock = host.udp_socket(host.ports.snmp)
        try:
            transport = udp.UdpAsyncioTransport().open_server_mode(sock=sock)
            config.add_transport(engine, udp.DOMAIN_NAME, transport)
        except BaseException:
            sock.close()
            raise
        snmp_context = context.SnmpContext(engine)
        for responder in (_Get, _Next, _Bulk, _Set):
            responder(engine, snmp_context, self)
        self._refresher = asyncio.create_task(self._refresh(), name=f"snmp-refresh-{self.name}")

    async def _refresh(self) -> None:
        """Rebuild the tables off the event loop soon after a live change."""
        while not self.closed:
            await asyncio.sleep(REFRESH_INTERVAL_S)
            if self._tables.stale:
                try:
                    self._tables.install(*await asyncio.to_thread(self._tables.collect))
                except Exception:  # a request will rebuild (and report) it; keep the agent alive
                    log.exception("snmp %s: table rebuild failed", self.name)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._engine is not None:
            self._engine.close_dispatcher()  # closes the transport and its socket
            self._engine = None
        if self._sock is not None:
            self._sock.close()  # in case the transport never finished opening


async def start_snmp(state: LabState, name: str, host: SimHost) -> SnmpServer:
    """Start the SNMP agent of switch `name`, listening on (host.ip, host.ports.snmp) over UDP."""
    sw = state.switch(name)
    if sw is None:
        raise ValueError(f"no switch {name!r} in site {state.site.name!r}")
    tables = SwitchTables(state, name)
    generation, facts = await asyncio.to_thread(tables.collect)
    tables.install(generation, facts)
    if facts is None:
        raise ValueError(f"no switch {name!r} in site {state.site.name!r}")
    server = SnmpServer(state, name, host, tables)
    await asyncio.to_thread(server._configure, sw, facts)
    await server._start(host)
    return server
