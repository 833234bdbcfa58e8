"""OnvifDriver: cameras and recorders over ONVIF (device management, media, recording, search)."""

from __future__ import annotations

from typing import ClassVar

from drivers.base import Candidate, DeviceDriver, DeviceReport
from drivers.onvif.collect import read_device
from drivers.onvif.transport import LiveSession

_ONVIF_TYPES = frozenset({"networkvideotransmitter", "networkvideostorage", "networkvideodisplay", "device"})
_WEB_PORTS = frozenset({80, 8080, 8000, 8899})


class OnvifDriver(DeviceDriver):
    name: ClassVar[str] = "onvif"
    protocol: ClassVar[str] = "onvif"

    @classmethod
    def score(cls, candidate: Candidate) -> int:
        """How likely the candidate speaks ONVIF, from discovery hints only.

        Example:: a WS-Discovery match of type dn:NetworkVideoTransmitter scores 90; a host with
        nothing but port 80 open scores 10 (worth one cheap try, after better-matching drivers).
        """
        types = {t.rsplit(":", 1)[-1].lower() for t in candidate.wsd_types}
        if types & _ONVIF_TYPES:
            return 90
        if any(s.lower().startswith("onvif://www.onvif.org/") for s in candidate.wsd_scopes):
            return 80
        if any("/onvif/" in x.lower() for x in candidate.wsd_xaddrs):
            return 70
        if any(s.startswith("_axis-video.") for s in candidate.mdns_services):
            return 50  # every current Axis camera serves ONVIF
        if candidate.open_ports and candidate.open_ports <= _WEB_PORTS:
            return 10
        return 0

    async def collect(self) -> DeviceReport:
        credential = self.credential
        session = LiveSession(
            self.ip,
            self.options.ports.http,
            credential.username if credential else None,
            credential.password.get_secret_value() if credential else None,
            self.options.timeout_s,
        )
        try:
            report = await read_device(session, driver=self.name)
        finally:
            await session.close()
        return report.model_copy(update={"credential": credential.name if credential else None})
