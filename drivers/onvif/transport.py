"""Talking SOAP to one device: onvif-zeep-async service clients behind a small `call()` interface.

Everything the network can do wrong is turned into a `drivers.errors` exception here, at the edge,
so the collection logic (collect.py) never sees a library exception.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.exceptions import XMLSyntaxError as ZeepXMLSyntaxError

from drivers import bounded
from drivers.errors import AuthError, DeviceTimeout, DriverError, NotSupported, ProtocolError, Unreachable
from drivers.onvif.lib import (
    SERVICES,
    WSDL_DIR,
    ONVIFError,
    ONVIFService,
    is_auth_error,
    stringify_onvif_error,
)
from drivers.onvif.wsdl import ensure_parsed

log = logging.getLogger(__name__)

MAX_REPLY_BYTES = (
    4 * 1024 * 1024
)  # the biggest real reply we know (GetProfiles of a 64-channel NVR) is ~600 kB
DEVICE_SERVICE = "devicemgmt"
# One HTTP connection pool per device, shared by its services: calls reuse kept-alive connections
# instead of opening one per call (connects were a quarter of the scanner's ONVIF CPU), and a
# camera's small web server never sees more than this many connections from us at once.
MAX_CONNECTIONS_PER_DEVICE = 4
KEEPALIVE_S = 4.0

# SOAP fault subcodes (and message fragments) that mean "this device does not do that".
_UNSUPPORTED_MARKERS = (
    "actionnotsupported",
    "notsupported",
    "not supported",
    "not implemented",
    "unknown operation",
)


# ---------------------------------------------------------------- reply guard (pure)

_STRICT_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


def check_reply(status: int, content: bytes) -> None:
    """Refuse a reply zeep would otherwise swallow.

    onvif-zeep-async runs zeep with ``strict=False``, which parses XML in lxml *recover* mode: a
    truncated document or invalid UTF-8 silently turns into partial data. Some firmware does send
    that: Home Assistant's ONVIF integration notes cameras with invalid UTF-8 in
    GetDeviceInformation and others with completely invalid XML (fixture
    tests/fixtures/onvif/hikvision_ds-2cd2143g2-i_v5.7.3_invalid-utf8). An as-built record must not contain
    half-parsed data, so we parse strictly first, without entities, DTDs or network access.
    """
    if status in (401, 403):
        # Many cameras answer an unknown user with a bare HTTP 401 (HTML body) instead of a SOAP fault.
        raise AuthError(f"device refused the credential (HTTP {status})")
    if len(content) > MAX_REPLY_BYTES:
        raise ProtocolError(f"reply of {len(content)} bytes exceeds the {MAX_REPLY_BYTES} byte limit")
    if not content:
        return
    try:
        root = etree.fromstring(content, parser=_STRICT_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(f"invalid XML from device: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ProtocolError("device reply carries a DOCTYPE (refused: entity expansion risk)")


def _bounded_post(transport: Any) -> Callable[..., Awaitable[tuple[Any, bytes]]]:
    """Replace the library's ``_post_internal``, which reads the whole reply (``response.read()``,
    decompressed by aiohttp) before anything can look at its size. Here the reply is read chunk by
    chunk and refused as soon as it passes MAX_REPLY_BYTES, compressed or decompressed: an endless
    chunked reply, a gzip bomb or a 200 MB body costs at most that much."""

    async def post_internal(address: str, message: str | bytes, headers: dict[str, str]) -> tuple[Any, bytes]:
        headers = {
            "User-Agent": "asbuilt",
            "Content-Type": 'text/xml; charset="utf-8"',
            **(headers or {}),
            "Accept-Encoding": "gzip, deflate",
        }
        data = message.encode("utf-8") if isinstance(message, str) else message
        response = await transport.session.post(
            address,
            data=data,
            headers=headers,
            proxy=transport.proxy,
            timeout=transport._client_timeout,
            auto_decompress=False,  # we inflate, with a bound
        )
        try:
            if (response.content_length or 0) > MAX_REPLY_BYTES:
                raise bounded.TooLarge(MAX_REPLY_BYTES, "reply")
            content = await bounded.read_bounded(
                response.content.iter_chunked(64 * 1024),
                encoding=response.headers.get("Content-Encoding"),
                raw_limit=MAX_REPLY_BYTES,
                limit=MAX_REPLY_BYTES,
            )
        except bounded.TooLarge as exc:
            raise ProtocolError(f"device {exc}; refused while reading") from None
        except bounded.BadEncoding as exc:
            raise ProtocolError(f"unreadable reply: {exc}") from None
        finally:
            response.release()
        return response, content

    return post_internal


def _guard(
    post_xml: Callable[..., Awaitable[Any]], record_to: Path | None = None
) -> Callable[..., Awaitable[Any]]:
    async def guarded(address: str, envelope: Any, headers: dict[str, str]) -> Any:
        response = await post_xml(address, envelope, headers)
        content = response.content or b""
        if record_to is not None:
            (record_to / fixture_name(envelope)).write_bytes(content)
        check_reply(response.status_code, content)
        return response

    return guarded


def fixture_name(envelope: etree._Element) -> str:
    """``<Operation>.xml``, or ``<Operation>.<ProfileToken>.xml`` for per-profile calls: the layout
    drivers/onvif/replay.py reads."""
    body = next((e for e in envelope if etree.QName(e).localname == "Body"), None)
    request = body[0] if body is not None and len(body) else None
    if request is None:
        return "unknown.xml"
    operation = etree.QName(request).localname
    token = next(
        (e.text for e in request.iter() if etree.QName(e).localname == "ProfileToken" and e.text), None
    )
    safe = "".join(c for c in (token or "") if c.isalnum() or c in "-_")
    return f"{operation}.{safe}.xml" if safe else f"{operation}.xml"


# ---------------------------------------------------------------- error translation


def translate(exc: BaseException, operation: str) -> DriverError:
    """Map a library or socket exception onto the driver error it means."""
    if isinstance(exc, DriverError):
        exc.operation = exc.operation or operation
        return exc
    if isinstance(exc, TimeoutError):
        return DeviceTimeout(f"{operation}: no answer in time", operation=operation)
    if isinstance(exc, Fault):
        text = stringify_onvif_error(exc)
        if is_auth_error(exc):
            return AuthError(f"{operation}: {text}", operation=operation)
        if any(marker in text.lower() for marker in _UNSUPPORTED_MARKERS):
            return NotSupported(f"{operation}: {text}", operation=operation)
        return ProtocolError(f"{operation}: device fault: {text}", operation=operation)
    if isinstance(exc, TransportError):
        if exc.status_code in (401, 403):
            return AuthError(f"{operation}: HTTP {exc.status_code}", operation=operation)
        if exc.status_code in (404, 405, 501):
            return NotSupported(f"{operation}: HTTP {exc.status_code}", operation=operation)
        return ProtocolError(f"{operation}: {str(exc)[:300]}", operation=operation)
    if isinstance(exc, ZeepXMLSyntaxError | etree.XMLSyntaxError | UnicodeDecodeError):
        return ProtocolError(f"{operation}: unreadable reply: {str(exc)[:300]}", operation=operation)
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError | ConnectionResetError):
        return Unreachable(f"{operation}: {exc}", operation=operation)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ProtocolError(f"{operation}: {exc}", operation=operation)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return Unreachable(f"{operation}: {exc}", operation=operation)
    if isinstance(exc, ONVIFError):
        cause = exc.__cause__
        if cause is not None and cause is not exc:
            return translate(cause, operation)
        if "support service" in str(exc):
            return NotSupported(f"{operation}: {exc}", operation=operation)
        return ProtocolError(f"{operation}: {exc}", operation=operation)
    return DriverError(f"{operation}: unexpected {type(exc).__name__}: {exc}", operation=operation)


# ---------------------------------------------------------------- addresses


def reachable_xaddr(advertised: str, host: str, port: int) -> str:
    """The address to call a service at, preferring the address we reached the device at.

    Cameras behind NAT, or whose web server sits behind a port forward, advertise their own LAN
    address in GetServices/GetCapabilities, which is not reachable from the agent. We keep the
    path and scheme and use the host and port we reached the device service at, unless the
    device advertises our host with a different port (a service on its own port).
    """
    parts = urlsplit(advertised)
    if parts.hostname == host and parts.port not in (None, port):
        return advertised
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit((parts.scheme or "http", netloc, parts.path or "/", parts.query, ""))


def new_service(name: str, xaddr: str, user: str | None, password: str | None, dt_diff: Any) -> ONVIFService:
    spec = SERVICES[name]
    return ONVIFService(
        xaddr,
        user,
        password,
        str(Path(WSDL_DIR) / spec["wsdl"]),
        encrypt=True,  # PasswordDigest: the password itself never crosses the wire
        no_cache=True,  # WSDLs are local files; the cache would only write a sqlite file to $HOME
        dt_diff=dt_diff,
        binding_name=f"{{{spec['ns']}}}{spec['binding']}",
        binding_key=(name, None),
    )


# ---------------------------------------------------------------- live session


class LiveSession:
    """Calls ONVIF operations on one device over HTTP. Every call is bounded by `timeout_s`."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        timeout_s: float,
        record_to: Path | None = None,
    ) -> None:
        """record_to: a folder that receives every reply body in the fixture layout. The bodies are
        raw (a stream URI may carry a password): anonymise them before committing."""
        self.host = host
        self._record_to = record_to
        self.port = port
        self.timeout_s = timeout_s
        self._user = user
        self._password = password
        self._xaddrs: dict[str, str] = {}
        self._services: dict[str, ONVIFService] = {}
        self._dt_diff: dt.timedelta | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def device_xaddr(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/onvif/device_service"

    def use_services(self, advertised: dict[str, str]) -> None:
        """Service name -> advertised XAddr, from GetServices or GetCapabilities."""
        self._xaddrs = {name: reachable_xaddr(x, self.host, self.port) for name, x in advertised.items()}

    async def set_clock_offset(self, offset_s: float) -> None:
        """Sign WS-Security tokens with the device's time from now on (clients built so far included)."""
        self._dt_diff = dt.timedelta(seconds=offset_s)
        for client in self._services.values():
            client.dt_diff = self._dt_diff
            wsse = client.zeep_client.wsse if client.zeep_client is not None else None
            if wsse is not None and hasattr(wsse, "dt_diff"):
                wsse.dt_diff = self._dt_diff

    def has_service(self, name: str) -> bool:
        return name == DEVICE_SERVICE or name in self._xaddrs

    async def call(
        self, service: str, operation: str, params: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any:
        try:
            # Building the client is local work (a WSDL parse on first use in the process) and is
            # not the device's time: only the exchange with the device counts against the timeout.
            client = await self._client(service)
            method = getattr(client, operation if auth else f"authless_{operation}")
            async with asyncio.timeout(self.timeout_s):
                return await method(params)
        except Exception as exc:
            raise translate(exc, operation) from None

    async def _client(self, name: str) -> ONVIFService:
        client = self._services.get(name)
        if client is None:
            xaddr = self.device_xaddr if name == DEVICE_SERVICE else self._xaddrs.get(name)
            if xaddr is None:
                raise NotSupported(f"device does not advertise the {name} service")
            await ensure_parsed(name)  # shared with every other session; setup() then finds it cached
            client = new_service(name, xaddr, self._user, self._password, self._dt_diff)
            try:
                await client.setup()
            except BaseException:
                await client.close()
                raise
            # The library gives every service its own pool; ours is the device's, shared.
            own = client.transport.session
            client.transport.session = self._pool()
            await own.close()
            client.transport._post_internal = _bounded_post(client.transport)
            client.transport.post_xml = _guard(client.transport.post_xml, self._record_to)
            self._services[name] = client
        return client

    def _pool(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(
                limit_per_host=MAX_CONNECTIONS_PER_DEVICE, keepalive_timeout=KEEPALIVE_S, ssl=False
            )
            self._http = aiohttp.ClientSession(connector=connector)
        return self._http

    async def close(self) -> None:
        services, self._services = self._services, {}
        http, self._http = self._http, None
        for client in services.values():
            try:
                await client.close()  # its own pool is closed already; ours is closed below
            except Exception as exc:  # closing must never hide the real result
                log.debug("%s: closing %s failed: %s", self.host, client.xaddr, exc)
        if http is not None:
            try:
                await http.close()
            except Exception as exc:
                log.debug("%s: closing the HTTP pool failed: %s", self.host, exc)
