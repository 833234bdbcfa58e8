"""Simulated ONVIF devices (cameras and recorders) for the lab: `start_onvif` serves one device."""

from lab.onvif.server import OnvifServer, start_onvif

__all__ = ["OnvifServer", "start_onvif"]
