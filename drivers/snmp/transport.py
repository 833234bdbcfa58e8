"""SNMP transports: the live one (pysnmp 7, asyncio, v3arch) and a replay of recorded ``.snmprec`` files.

Both hand the driver plain Python values keyed by numeric OID, the one place protocol types are
converted (the puresnmp ``PyWrapper`` idea): INTEGER-like types become ``int``, OCTET STRING ``bytes``,
OBJECT IDENTIFIER and IpAddress ``str``. pysnmp reports failures as an ``errorIndication`` value rather
than an exception; they are turned into ``drivers.errors`` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as hlapi
from pysnmp.proto import rfc1902, rfc1905

from drivers.base import Credential
from drivers.errors import AuthError, DeviceTimeout, NotSupported, ProtocolError, Unreachable

SnmpValue = int | bytes | str
Walk = dict[str, SnmpValue]  # numeric OID (no leading dot) -> value

# GETBULK sizes. Every var-bind an agent sends is decoded by pyasn1 (the scan's largest CPU cost on a
# switch), including the rows past the end of a column, so a walk asks for few rows first and more
# once the column proves long: a 2-row ENTITY column costs 8 decoded var-binds, not 40.
FIRST_REPETITIONS = 8
REPETITIONS_GROWTH = 4
MAX_VARBINDS_PER_REQUEST = 240  # rows x columns in one GETBULK; agents truncate a reply that is too big


class SnmpTransport(Protocol):
    """What the SNMP driver needs from a transport. Walks stop at the end of the subtree."""

    async def get(self, oids: Sequence[str]) -> Walk: ...

    async def walk(self, base: str, *, max_rows: int) -> Walk:
        """Every row under `base`, at most `max_rows` of them (the caller notes a truncation)."""
        ...

    async def walk_columns(self, bases: Sequence[str], *, max_rows: int) -> dict[str, Walk]:
        """`walk` of each base (the columns of one table), in as few requests as the agent allows."""
        ...

    def for_vlan(self, vlan: int) -> SnmpTransport:
        """The same agent, addressing one VLAN's bridge instance (Cisco: community@vlan / context vlan-N)."""
        ...

    async def close(self) -> None: ...


def in_subtree(oid: str, base: str) -> bool:
    return oid == base or oid.startswith(base + ".")


# ---------------------------------------------------------------- replay of recorded .snmprec files

_SNMPREC_LINE = re.compile(r"^(?P<oid>\.?\d+(?:\.\d+)*)\|(?P<tag>\d+x?)\|(?P<value>.*)$")


def parse_snmprec(text: str) -> Walk:
    """Read the LibreNMS/snmpsim recording format, one ``OID|tag|value`` per line.

    Tags: 2 Integer, 4 OctetString (4x: hex), 5 Null, 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32,
    67 TimeTicks, 70 Counter64. Example:: ``1.3.6.1.2.1.1.5.0|4|sw-core``
    """
    rows: Walk = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _SNMPREC_LINE.match(line)
        if not match:
            raise ValueError(f"snmprec line {number}: not OID|tag|value: {line[:80]!r}")
        oid, tag, value = match["oid"].lstrip("."), match["tag"], match["value"]
        if tag == "4x":
            rows[oid] = bytes.fromhex(value)
        elif tag == "4":
            rows[oid] = value.encode()
        elif tag in {"6", "64"}:
            rows[oid] = value.lstrip(".")
        elif tag == "5":
            continue
        else:
            rows[oid] = int(value)
    return rows


def dump_snmprec(rows: Mapping[str, SnmpValue]) -> str:
    """Write walk results in the same format, sorted by OID, to record a device as a fixture.

    Plain types only survive the round trip (an integer is written as tag 2, whatever SNMP type it
    had): enough for the parsers, which read values, not types.
    """
    lines = []
    for oid, value in sorted(rows.items(), key=lambda kv: _oid_key(kv[0])):
        if isinstance(value, bytes):
            printable = value.isascii() and all(32 <= b < 127 for b in value)
            lines.append(f"{oid}|4|{value.decode()}" if printable else f"{oid}|4x|{value.hex()}")
        elif isinstance(value, int):
            lines.append(f"{oid}|2|{value}")
        else:
            tag = "64" if value.count(".") == 3 else "6"  # both read back as text; the tag is for people
            lines.append(f"{oid}|{tag}|{value}")
    return "\n".join(lines) + "\n"


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


class ReplayTransport:
    """Serves recorded walks: ``device.snmprec`` plus ``device@<vlan>.snmprec`` per VLAN context."""

    def __init__(
        self, rows: Mapping[str, SnmpValue], vlans: Mapping[int, Mapping[str, SnmpValue]] | None = None
    ) -> None:
        self._rows = dict(sorted(rows.items(), key=lambda kv: _oid_key(kv[0])))
        self._vlans = vlans or {}
        self.requests: list[tuple[str, str]] = []  # (operation, oid): lets tests see what was asked

    @classmethod
    def from_folder(cls, folder: Path, name: str = "device") -> ReplayTransport:
        rows = parse_snmprec((folder / f"{name}.snmprec").read_text())
        vlans: dict[int, Mapping[str, SnmpValue]] = {}
        for path in folder.glob(f"{name}@*.snmprec"):
            vlans[int(path.stem.split("@", 1)[1])] = parse_snmprec(path.read_text())
        return cls(rows, vlans)

    async def get(self, oids: Sequence[str]) -> Walk:
        self.requests.extend(("get", oid) for oid in oids)
        return {oid: self._rows[oid] for oid in oids if oid in self._rows}

    async def walk(self, base: str, *, max_rows: int) -> Walk:
        self.requests.append(("walk", base))
        found: Walk = {}
        for oid, value in self._rows.items():
            if in_subtree(oid, base):
                found[oid] = value
                if len(found) >= max_rows:
                    break
        return found

    async def walk_columns(self, bases: Sequence[str], *, max_rows: int) -> dict[str, Walk]:
        return {base: await self.walk(base, max_rows=max_rows) for base in bases}

    def for_vlan(self, vlan: int) -> SnmpTransport:
        # An agent without that VLAN context answers nothing for it, like a wrong community.
        return ReplayTransport(self._vlans.get(vlan, {}))

    async def close(self) -> None:
        return None


# ---------------------------------------------------------------- live transport (pysnmp 7)

_AUTH_PROTOCOLS = {
    "MD5": "usmHMACMD5AuthProtocol",
    "SHA": "usmHMACSHAAuthProtocol",
    "SHA224": "usmHMAC128SHA224AuthProtocol",
    "SHA256": "usmHMAC192SHA256AuthProtocol",
    "SHA384": "usmHMAC256SHA384AuthProtocol",
    "SHA512": "usmHMAC384SHA512AuthProtocol",
}
_PRIV_PROTOCOLS = {
    "DES": "usmDESPrivProtocol",
    "3DES": "usm3DESEDEPrivProtocol",
    "AES": "usmAesCfb128Protocol",
    "AES128": "usmAesCfb128Protocol",
    "AES192": "usmAesCfb192Protocol",
    "AES256": "usmAesCfb256Protocol",
}

# errorIndication classes that mean "your credential is wrong" (v3 keys, unknown user) rather than "no answer"
_AUTH_INDICATIONS = frozenset(
    {
        "WrongDigest",
        "DecryptionError",
        "UnknownUserName",
        "UnknownSecurityName",
        "AuthenticationError",
        "AuthenticationFailure",
        "UnsupportedSecurityLevel",
        "NotInTimeWindow",
        "UnknownCommunityName",
    }
)


def _raise_for(indication: Any, operation: str) -> None:
    """Turn a pysnmp errorIndication into the matching drivers.errors exception."""
    kind = type(indication).__name__
    message = f"{operation}: {indication}"
    if kind == "RequestTimedOut":
        # v2c agents drop requests with a wrong community silently, so this is also "wrong community".
        raise DeviceTimeout(message, operation=operation)
    if kind in _AUTH_INDICATIONS:
        raise AuthError(message, operation=operation)
    if kind in {"UnsupportedAuthProtocol", "UnsupportedPrivProtocol", "NoEncryption"}:
        raise NotSupported(message, operation=operation)
    raise ProtocolError(message, operation=operation)


def _to_python(value: Any) -> SnmpValue | None:
    """One protocol value as a plain Python value; None for the 'no such object' exception values.

    Checked against pyasn1's base types: every SNMP integer (Counter32, Gauge32, TimeTicks, Counter64)
    is a univ.Integer, IpAddress and Opaque are OCTET STRINGs, the exception values are NULLs.
    """
    if isinstance(value, univ.Null):  # pyasn1's Null is an OctetString: test it first
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    if isinstance(value, univ.Integer):
        return int(value)
    return None  # Null, noSuchObject, noSuchInstance, endOfMibView


class _SharedEngine:
    def __init__(self) -> None:
        self.engine = hlapi.SnmpEngine()
        self.users = 0
        self.holds = 0


# One pysnmp engine per event loop: building one loads a dozen MIB modules (~0.1 s of CPU), and one
# engine serves any number of agents and credentials at once. It lives while a transport uses it, or
# while a scan holds it (`shared_engine()`), so the switches of one scan share it.
_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedEngine] = weakref.WeakKeyDictionary()


def _acquire_engine() -> Any:
    loop = asyncio.get_running_loop()
    shared = _engines.get(loop)
    if shared is None:
        shared = _engines[loop] = _SharedEngine()
    shared.users += 1
    return shared.engine


def _release_engine(engine: Any) -> None:
    loop = asyncio.get_running_loop()
    shared = _engines.get(loop)
    if shared is None or shared.engine is not engine:
        engine.close_dispatcher()
        return
    shared.users -= 1
    if shared.users <= 0 and shared.holds <= 0:
        del _engines[loop]
        engine.close_dispatcher()


@contextlib.asynccontextmanager
async def shared_engine() -> AsyncIterator[None]:
    """Keep this loop's SNMP engine open for the block (a scan), however many switches come and go."""
    loop = asyncio.get_running_loop()
    shared = _engines.get(loop)
    if shared is None:
        shared = _engines[loop] = _SharedEngine()
    shared.holds += 1
    try:
        yield
    finally:
        shared.holds -= 1
        if shared.users <= 0 and shared.holds <= 0 and _engines.get(loop) is shared:
            del _engines[loop]
            shared.engine.close_dispatcher()


class PysnmpTransport:
    """SNMP v2c or v3 over UDP with pysnmp's asyncio v3arch API, numeric OIDs, no MIB lookups."""

    def __init__(
        self,
        engine: Any,
        auth: Any,
        target: Any,
        *,
        context: str = "",
        community: str | None = None,
        deadline_s: float = 30.0,
    ) -> None:
        self._engine = engine
        self._auth = auth
        self._target = target
        self._context = context
        self._community = community
        self._deadline_s = deadline_s
        self._owns_engine = True

    @classmethod
    async def open(
        cls, host: str, port: int, credential: Credential, *, timeout_s: float, retries: int
    ) -> PysnmpTransport:
        auth, community = _auth_data(credential)
        try:
            target = await hlapi.UdpTransportTarget.create((host, port), timeout=timeout_s, retries=retries)
        except Exception as exc:  # name resolution or a bad address: pysnmp raises PySnmpError
            raise Unreachable(f"snmp target {host}:{port}: {exc}", operation="connect") from None
        # One request may wait timeout × (retries + 1); a walk is many requests, so bound it as a whole.
        deadline = max(10.0, timeout_s * (retries + 1) * 4)
        return cls(_acquire_engine(), auth, target, community=community, deadline_s=deadline)

    def for_vlan(self, vlan: int) -> SnmpTransport:
        if self._community is not None:
            # Cisco serves one BRIDGE-MIB instance per VLAN, addressed as community@vlan (v2c) ...
            auth = hlapi.CommunityData(f"{self._community}@{vlan}", mpModel=1)
            twin = PysnmpTransport(
                self._engine, auth, self._target, community=None, deadline_s=self._deadline_s
            )
        else:
            # ... and as context "vlan-N" (v3).
            twin = PysnmpTransport(
                self._engine, self._auth, self._target, context=f"vlan-{vlan}", deadline_s=self._deadline_s
            )
        twin._owns_engine = False
        return twin

    def _context_data(self) -> Any:
        return hlapi.ContextData(contextName=self._context) if self._context else hlapi.ContextData()

    async def get(self, oids: Sequence[str]) -> Walk:
        objects = [hlapi.ObjectType(hlapi.ObjectIdentity(oid)) for oid in oids]
        try:
            async with asyncio.timeout(self._deadline_s):
                indication, status, index, var_binds = await hlapi.get_cmd(
                    self._engine, self._auth, self._target, self._context_data(), *objects, lookupMib=False
                )
        except TimeoutError:
            raise DeviceTimeout(
                f"get {oids[0]}: no answer within {self._deadline_s:.0f} s", operation="get"
            ) from None
        if indication:
            _raise_for(indication, f"get {oids[0]}")
        if status:
            raise ProtocolError(f"get {oids[0]}: {status.prettyPrint()} at {index}", operation="get")
        result: Walk = {}
        for oid, value in var_binds:
            converted = _to_python(value)
            if converted is not None:
                result[str(oid)] = converted
        return result

    async def walk(self, base: str, *, max_rows: int) -> Walk:
        return (await self.walk_columns([base], max_rows=max_rows))[base]

    async def walk_columns(self, bases: Sequence[str], *, max_rows: int) -> dict[str, Walk]:
        """Walk several columns in lockstep (one GETBULK asks for the next rows of each), asking for
        FIRST_REPETITIONS rows first and REPETITIONS_GROWTH times more while columns go on. Each
        column stops at the end of its subtree, at the agent's end of MIB view, or at `max_rows`."""
        found: dict[str, Walk] = {base: {} for base in bases}
        cursor = {base: base for base in dict.fromkeys(bases)}  # open column -> last OID seen
        operation = f"walk {bases[0]}" if len(bases) == 1 else f"walk {bases[0]} (+{len(bases) - 1})"
        repetitions = FIRST_REPETITIONS
        try:
            async with asyncio.timeout(self._deadline_s):
                while cursor:
                    columns = list(cursor)
                    rows = max(1, min(repetitions, MAX_VARBINDS_PER_REQUEST // len(columns)))
                    indication, status, index, var_binds = await hlapi.bulk_cmd(
                        self._engine,
                        self._auth,
                        self._target,
                        self._context_data(),
                        0,
                        rows,
                        *(hlapi.ObjectType(hlapi.ObjectIdentity(cursor[c])) for c in columns),
                        lookupMib=False,
                    )
                    if indication:
                        _raise_for(indication, operation)
                    if status:
                        message = f"{operation}: {status.prettyPrint()} at {index}"
                        raise ProtocolError(message, operation="walk")
                    if not var_binds:
                        break
                    done: set[str] = set()
                    # Wire order: row by row, one var-bind per requested column (a truncated reply
                    # may end inside a row; the columns it did not reach continue from their cursor).
                    for position, (oid, value) in enumerate(var_binds):
                        column = columns[position % len(columns)]
                        if column in done:
                            continue
                        key = str(oid)
                        if isinstance(value, rfc1905.EndOfMibView):
                            done.add(column)
                            continue
                        if not in_subtree(key, column) or _oid_key(key) <= _oid_key(cursor[column]):
                            done.add(column)  # past the column (or an agent that does not increase)
                            continue
                        cursor[column] = key
                        converted = _to_python(value)
                        if converted is None:
                            continue
                        found[column][key] = converted
                        if len(found[column]) >= max_rows:
                            done.add(column)
                    for column in done:
                        cursor.pop(column, None)
                    repetitions *= REPETITIONS_GROWTH
        except TimeoutError:
            raise DeviceTimeout(
                f"{operation}: not done within {self._deadline_s:.0f} s", operation="walk"
            ) from None
        return found

    async def close(self) -> None:
        if self._owns_engine:
            _release_engine(self._engine)


def _auth_data(credential: Credential) -> tuple[Any, str | None]:
    """pysnmp auth data from a site credential: SNMPv3 when a v3 user is set, else the v2c community."""
    if credential.snmp_v3_user:
        auth_name = _AUTH_PROTOCOLS.get(credential.snmp_v3_auth_protocol.upper())
        priv_name = _PRIV_PROTOCOLS.get(credential.snmp_v3_priv_protocol.upper())
        if auth_name is None or priv_name is None:
            raise NotSupported(
                f"SNMPv3 protocols {credential.snmp_v3_auth_protocol}/{credential.snmp_v3_priv_protocol}",
                operation="connect",
            )
        auth_key = credential.snmp_v3_auth_key.get_secret_value() if credential.snmp_v3_auth_key else None
        priv_key = credential.snmp_v3_priv_key.get_secret_value() if credential.snmp_v3_priv_key else None
        usm = hlapi.UsmUserData(
            credential.snmp_v3_user,
            auth_key,
            priv_key if auth_key else None,
            authProtocol=getattr(hlapi, auth_name) if auth_key else hlapi.usmNoAuthProtocol,
            privProtocol=getattr(hlapi, priv_name) if auth_key and priv_key else hlapi.usmNoPrivProtocol,
        )
        return usm, None
    if credential.snmp_community is None:
        raise AuthError(
            f"credential {credential.name!r} has no SNMP community or v3 user", operation="connect"
        )
    community = credential.snmp_community.get_secret_value()
    return hlapi.CommunityData(community, mpModel=1), community
