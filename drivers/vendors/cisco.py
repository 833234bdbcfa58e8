"""Cisco: Catalyst switches (IOS / IOS-XE CLI over SSH; SNMP with per-VLAN community contexts)."""

from drivers.vendors import Kind, Quirk, VendorProfile

PROFILE = VendorProfile(
    name="Cisco",
    kinds=frozenset({Kind.SWITCH}),
    words=("cisco",),
    oui_orgs=("cisco",),
    sys_object_ids=("1.3.6.1.4.1.9.",),
    sys_descr_words=("cisco ios",),
    cli_dialect="cli.cisco_ios",
    quirks={
        "vlan-community-index": Quirk(
            "BRIDGE-MIB per VLAN through community@vlan; reserved VLANs 1002-1005 never answer",
            "snmp/cisco_ws-c2960x-24ps-l_15.2-7-e8_lab",
        ),
    },
)
