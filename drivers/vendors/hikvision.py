"""Hikvision: cameras and NVRs (ONVIF; NVR SNMP: sysDescr carries the model, HIK enterprise 39165)."""

import re

from drivers.vendors import Kind, Quirk, VendorProfile

PROFILE = VendorProfile(
    name="HIKVISION",
    kinds=frozenset({Kind.CAMERA, Kind.RECORDER}),
    words=("hikvision", "hik"),
    oui_orgs=("hikvision",),
    sys_object_ids=("1.3.6.1.4.1.39165.",),
    sys_descr_words=("hikvision",),
    server_headers=("app-webs", "dnvrs-webs", "hikvision"),
    # NVR: "Hikvision DS-7616NI-I2/16P V4.62.210 build 220617" (the firmware's own sysDescr)
    sys_descr_pattern=re.compile(
        r"hikvision\s+(?P<model>DS-\S+)(?:\s+(?P<firmware>V\d[\w.]*(?: build \d+)?))?", re.IGNORECASE
    ),
    quirks={
        "no-endpoint-reference": Quirk(
            "GetEndpointReference answers ActionNotSupported: the endpoint comes from WS-Discovery",
            "onvif/hikvision_ds-2cd2143g2-i_v5.7.3",
        ),
        "services-list-500": Quirk(
            "some firmware crashes on GetServices and GetCapabilities (HTTP 500, HTML page): identity is "
            "read first and the rest of the device service still answers",
            "onvif/hikvision_ds-2cd1043g0-i_v5.5.82_getservices-500",
        ),
        "invalid-utf8": Quirk(
            "GetDeviceInformation with bytes that are not UTF-8 in Model",
            "onvif/hikvision_ds-2cd2143g2-i_v5.7.3_invalid-utf8",
        ),
    },
)
