"""Synology: DiskStation NAS running Surveillance Station — a recorder without an ONVIF server.

Identity comes from two places, both read without a login to the web UI:
- mDNS `_http._tcp` TXT (DSM's Bonjour service): vendor, model, serial, version_major/minor/build,
  mac_address;
- SNMP: SYNOLOGY-SYSTEM-MIB (enterprise 6574) modelName, serialNumber, version; sysDescr is net-snmp's
  Linux one ("Linux <host> <kernel> #<build> ... synology_<platform>_<model>").
"""

from collections.abc import Mapping

from drivers.normalize import canonical_mac
from drivers.schema import DeviceIdentity
from drivers.vendors import Kind, Quirk, VendorProfile

SYNO_SYSTEM = "1.3.6.1.4.1.6574.1.5"


def mdns_identity(txt: Mapping[str, str]) -> DeviceIdentity:
    major, minor, build = txt.get("version_major"), txt.get("version_minor"), txt.get("version_build")
    firmware = f"DSM {major}.{minor or 0}-{build}" if major and build else None
    mac = None
    raw = (txt.get("mac_address") or "").split("|")[0]
    if raw:
        try:
            mac = canonical_mac(raw)
        except ValueError:
            mac = None
    return DeviceIdentity(
        vendor="Synology",
        model=txt.get("model") or None,
        serial=txt.get("serial") or None,
        firmware=firmware,
        mac=mac,
    )


PROFILE = VendorProfile(
    name="Synology",
    kinds=frozenset({Kind.RECORDER}),
    words=("synology", "diskstation"),
    oui_orgs=("synology",),
    sys_object_ids=("1.3.6.1.4.1.6574.",),
    sys_descr_words=("synology_",),
    mdns_vendor_values=("synology",),
    snmp_identity_base=SYNO_SYSTEM,
    snmp_identity_oids={
        "model": SYNO_SYSTEM + ".1.0",
        "serial": SYNO_SYSTEM + ".2.0",
        "firmware": SYNO_SYSTEM + ".3.0",
    },
    mdns_identity=mdns_identity,
    quirks={
        "net-snmp-object-id": Quirk(
            "sysObjectID is net-snmp's Linux agent, not Synology's: recognised by 'synology_' in sysDescr",
            "lab:field/nas-ss",
        ),
    },
)
