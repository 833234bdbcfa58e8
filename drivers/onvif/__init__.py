"""ONVIF driver package: transport (onvif-zeep-async), collection sequence, pure parsers, replay."""

from drivers.onvif.driver import OnvifDriver

__all__ = ["OnvifDriver"]
