"""Replaying a recorded device: SOAP reply bodies from a fixture folder, parsed by the same zeep path.

A folder holds one file per operation, ``<Operation>.xml`` (or ``<Operation>.<ProfileToken>.xml``
for per-profile calls), containing the HTTP body the device sent. Each body goes through the same
reply guard and the same zeep deserialisation (same WSDL, same settings) as a live reply, so the
fixtures test exactly what the driver sees on the wire. An operation without a file behaves like
a device that does not implement it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from requests import Response
from requests.structures import CaseInsensitiveDict

from drivers.errors import NotSupported
from drivers.onvif.lib import ONVIFService
from drivers.onvif.transport import DEVICE_SERVICE, check_reply, new_service, translate

_FAULT_MARK = b":Fault>"


class ReplaySession:
    """Answers `call()` from recorded reply bodies. No network I/O."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta: dict[str, Any] = {}
        meta = folder / "meta.json"
        if meta.is_file():
            self.meta = json.loads(meta.read_text())
        self.host = str(self.meta.get("ip", "192.0.2.10"))
        self.port = 80
        self._advertised: set[str] = set()
        self._services: dict[str, ONVIFService] = {}
        self.clock_offset_s: float | None = None

    def use_services(self, advertised: dict[str, str]) -> None:
        self._advertised = set(advertised)

    async def set_clock_offset(self, offset_s: float) -> None:
        self.clock_offset_s = offset_s

    def has_service(self, name: str) -> bool:
        return name == DEVICE_SERVICE or name in self._advertised

    def _body(self, operation: str, params: dict[str, Any] | None) -> bytes:
        token = (params or {}).get("ProfileToken")
        for name in ([f"{operation}.{token}.xml"] if token else []) + [f"{operation}.xml"]:
            path = self.folder / name
            if path.is_file():
                return path.read_bytes()
        raise NotSupported(f"{operation}: not recorded in {self.folder.name}", operation=operation)

    async def call(
        self, service: str, operation: str, params: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any:
        if not self.has_service(service):
            raise NotSupported(f"device does not advertise the {service} service", operation=operation)
        body = self._body(operation, params)
        status = 500 if _FAULT_MARK in body else 200
        try:
            check_reply(status, body)
            client = await self._client(service)
            binding = client.document.bindings[client.binding_name]
            return binding.process_reply(client.zeep_client, binding.get(operation), _response(status, body))
        except Exception as exc:
            raise translate(exc, operation) from None

    async def _client(self, name: str) -> ONVIFService:
        client = self._services.get(name)
        if client is None:
            client = new_service(name, f"http://{self.host}/onvif/{name}", None, None, None)
            self._services[name] = client
            await client.setup()
        return client

    async def close(self) -> None:
        services, self._services = self._services, {}
        for client in services.values():
            await client.close()


def _response(status: int, body: bytes) -> Response:
    response = Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict({"Content-Type": "application/soap+xml; charset=utf-8"})
    response.encoding = "utf-8"
    return response
