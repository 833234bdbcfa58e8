"""What an operation handler gets: the device as the site says it is now, its clock, its addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from lab.onvif.soap import SoapFault, SoapRequest
from lab.site import LabSite, OnvifDevice

SERVICE_PATHS = {
    "device": "/onvif/device_service",
    "media": "/onvif/media_service",
    "recording": "/onvif/recording_service",
    "search": "/onvif/search_service",
}


@dataclass(frozen=True)
class Ctx:
    site: LabSite
    device: OnvifDevice
    now: dt.datetime  # the device's own clock (true UTC + its clock offset)
    base_url: str  # where clients reach this device: http://<ip>[:port]
    http_port: int

    def xaddr(self, service: str) -> str:
        return self.base_url + SERVICE_PATHS[service]

    def services(self) -> list[str]:
        """Services this device advertises: recorders add recording and search."""
        found = ["device", "media"]
        if self.device.role == "recorder":
            found += ["recording", "search"]
        return found


Handler = Callable[[Ctx, SoapRequest], str | SoapFault]
