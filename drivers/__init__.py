"""asbuilt drivers: the registry of device drivers, by name.

Entries are ``"module:Class"`` strings, resolved only when a driver is asked for, so importing
``drivers`` or ``drivers.schema`` (as the collector does) never pulls in netmiko, pysnmp or zeep.
Adding a driver is one line here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.base import DeviceDriver

REGISTRY: dict[str, str] = {
    "onvif": "drivers.onvif:OnvifDriver",
    "snmp": "drivers.snmp:SnmpDriver",
    "cli.cisco_ios": "drivers.cli.cisco_ios:CiscoIosDriver",
    "cli.hp_procurve": "drivers.cli.hp_procurve:HpProcurveDriver",
    "cli.generic": "drivers.cli.generic:GenericCliDriver",
}


def get_driver(name: str) -> type[DeviceDriver]:
    """The driver class registered under `name` (imports its module on first use).

    Example:: get_driver("cli.cisco_ios").name == "cli.cisco_ios"
    """
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"no driver {name!r}; known drivers: {', '.join(sorted(REGISTRY))}") from None
    module_name, _, class_name = target.partition(":")
    driver: type[DeviceDriver] = getattr(import_module(module_name), class_name)
    return driver
