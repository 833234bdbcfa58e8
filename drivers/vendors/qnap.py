"""QNAP: NAS running QVR / Surveillance Station — a recorder without an ONVIF server.

SNMP: sysDescr of QTS names the model ("QNAP Systems, Inc. TS-453D 5.1.2.2533"); NAS-MIB under
enterprise 24681 (modelName 1.3.6.1.4.1.24681.1.2.12.0, serial 1.3.6.1.4.1.24681.1.2.14.0 on QTS 4+;
firmware in the sysDescr).
"""

import re

from drivers.vendors import Kind, VendorProfile

QNAP_NAS = "1.3.6.1.4.1.24681.1.2"

PROFILE = VendorProfile(
    name="QNAP",
    kinds=frozenset({Kind.RECORDER}),
    words=("qnap",),
    oui_orgs=("qnap",),
    sys_object_ids=("1.3.6.1.4.1.24681.", "1.3.6.1.4.1.55062."),
    sys_descr_words=("qnap",),
    server_headers=("http server",),
    sys_descr_pattern=re.compile(
        r"qnap.*?\b(?P<model>(?:TS|TVS|TBS|HS|SS)-\S+)\s+(?P<firmware>\d[\w.]+)", re.IGNORECASE
    ),
    snmp_identity_base=QNAP_NAS,
    snmp_identity_oids={"model": QNAP_NAS + ".12.0", "serial": QNAP_NAS + ".14.0"},
    mdns_vendor_values=("qnap",),
)
