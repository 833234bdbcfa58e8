"""Dahua: cameras and NVRs (ONVIF; NVR SNMP: DAHUA-SNMP-MIB under enterprise 1004849)."""

import re

from drivers.vendors import Kind, Quirk, VendorProfile

PROFILE = VendorProfile(
    name="Dahua",
    kinds=frozenset({Kind.CAMERA, Kind.RECORDER}),
    words=("dahua",),
    oui_orgs=("dahua",),
    sys_object_ids=("1.3.6.1.4.1.1004849.",),
    sys_descr_words=("dahua",),
    server_headers=("webs", "dahua"),
    # NVR: "Dahua NVR4108HS-8P-4KS2 4.001.0000000.3.R"
    sys_descr_pattern=re.compile(
        r"dahua\s+(?P<model>[A-Z]{2,4}\d\S*)(?:\s+(?P<firmware>\d[\w.]+))?", re.IGNORECASE
    ),
    quirks={
        "nvr-recording-tokens": Quirk(
            "recording tokens named Record_<channel>", "onvif/dahua_nvr4108hs-8p-4ks2_4.001.0000000.3.r"
        ),
    },
)
