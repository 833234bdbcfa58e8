"""Numeric OIDs the SNMP driver reads, and the enum tables to decode them (no MIB compilation).

Each name is the MIB object's own name, so the code reads like the MIB; values are numeric OIDs
without a leading dot. See research/libraries.md §3.5 for how these were checked.
"""

from __future__ import annotations

# ---------------------------------------------------------------- SNMPv2-MIB system group
SYSTEM = "1.3.6.1.2.1.1"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"  # TimeTicks, 1/100 s
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"

# ---------------------------------------------------------------- IF-MIB (index: ifIndex)
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"  # up 1, down 2, testing 3
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"  # up 1, down 2, ... lowerLayerDown 7
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # Mbit/s
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"

# ifType values of switch ports worth listing (others: vlan interfaces, loopbacks, tunnels, CPU)
PORT_IF_TYPES = frozenset({6, 62, 117, 161})  # ethernetCsmacd, fastEther, gigabitEthernet, ieee8023adLag

# ---------------------------------------------------------------- BRIDGE-MIB
DOT1D_BASE_BRIDGE_ADDRESS = "1.3.6.1.2.1.17.1.1.0"
DOT1D_BASE_PORT_IF_INDEX = "1.3.6.1.2.1.17.1.4.1.2"  # index: bridge port -> ifIndex
DOT1D_TP_FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"  # index: MAC(6) -> bridge port
DOT1D_TP_FDB_STATUS = "1.3.6.1.2.1.17.4.3.1.3"

# ---------------------------------------------------------------- Q-BRIDGE-MIB
DOT1Q_TP_FDB_PORT = "1.3.6.1.2.1.17.7.1.2.2.1.2"  # index: fdbId . MAC(6) -> bridge port
DOT1Q_TP_FDB_STATUS = "1.3.6.1.2.1.17.7.1.2.2.1.3"
DOT1Q_VLAN_FDB_ID = "1.3.6.1.2.1.17.7.1.4.2.1.3"  # index: timeMark . vlan -> fdbId
DOT1Q_VLAN_STATIC_NAME = "1.3.6.1.2.1.17.7.1.4.3.1.1"  # index: vlan
DOT1Q_PVID = "1.3.6.1.2.1.17.7.1.4.5.1.1"  # index: bridge port -> vlan

# dot1dTpFdbStatus / dot1qTpFdbStatus: other 1, invalid 2, learned 3, self 4, mgmt 5.
# "self" is the switch's own MAC and "invalid" an aged entry: neither tells where a device is.
FDB_STATUS_SKIP = frozenset({2, 4})

# ---------------------------------------------------------------- Cisco VLANs (CISCO-VTP-MIB, VMVLAN)
CISCO_ENTERPRISE = "1.3.6.1.4.1.9"
VTP_VLAN_STATE = "1.3.6.1.4.1.9.9.46.1.3.1.1.2"  # index: domain . vlan; operational 1
VTP_VLAN_NAME = "1.3.6.1.4.1.9.9.46.1.3.1.1.4"
VLAN_TRUNK_PORT_NATIVE_VLAN = "1.3.6.1.4.1.9.9.46.1.6.1.1.5"  # index: ifIndex
VM_VLAN = "1.3.6.1.4.1.9.9.68.1.2.2.1.2"  # access VLAN, index: ifIndex
CISCO_RESERVED_VLANS = frozenset(range(1002, 1006))  # fddi/token-ring defaults: no bridge instance

# ---------------------------------------------------------------- LLDP-MIB
LLDP_LOC_PORT_ID_SUBTYPE = "1.0.8802.1.1.2.1.3.7.1.2"  # index: local port num
LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_LOC_PORT_DESC = "1.0.8802.1.1.2.1.3.7.1.4"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"  # index: timeMark . localPortNum . remIndex
LLDP_REM_CHASSIS_ID_SUBTYPE = LLDP_REM + ".4"
LLDP_REM_CHASSIS_ID = LLDP_REM + ".5"
LLDP_REM_PORT_ID_SUBTYPE = LLDP_REM + ".6"
LLDP_REM_PORT_ID = LLDP_REM + ".7"
LLDP_REM_PORT_DESC = LLDP_REM + ".8"
LLDP_REM_SYS_NAME = LLDP_REM + ".9"
LLDP_REM_SYS_DESC = LLDP_REM + ".10"
LLDP_REM_SYS_CAP_ENABLED = LLDP_REM + ".12"
# index: timeMark . localPortNum . remIndex . addrSubtype . addrLen . addr octets
LLDP_REM_MAN_ADDR_IF_SUBTYPE = "1.0.8802.1.1.2.1.4.2.1.3"

LLDP_CHASSIS_SUBTYPE_MAC = 4
LLDP_CHASSIS_SUBTYPE_NETWORK_ADDRESS = 5
LLDP_PORT_SUBTYPE_MAC = 3
LLDP_PORT_SUBTYPE_NETWORK_ADDRESS = 4
# LldpSystemCapabilitiesMap: BITS, first bit is the most significant bit of the first octet
LLDP_CAPABILITIES = (
    "other",
    "repeater",
    "bridge",
    "wlan-access-point",
    "router",
    "telephone",
    "docsis-cable-device",
    "station-only",
)

# ---------------------------------------------------------------- POWER-ETHERNET-MIB (index: group . port)
PETH_PSE_PORT_ADMIN_ENABLE = "1.3.6.1.2.1.105.1.1.1.3"  # true 1, false 2
PETH_PSE_PORT_DETECTION_STATUS = "1.3.6.1.2.1.105.1.1.1.6"
PETH_PSE_PORT_POWER_CLASSIFICATIONS = "1.3.6.1.2.1.105.1.1.1.10"  # class0 1 .. class4 5
PETH_MAIN_PSE_POWER = "1.3.6.1.2.1.105.1.3.1.1.2"  # index: group; watts
PETH_MAIN_PSE_CONSUMPTION = "1.3.6.1.2.1.105.1.3.1.1.4"  # watts

PETH_DETECTION_STATUS = {
    1: "disabled",
    2: "searching",
    3: "delivering",
    4: "fault",
    5: "test",
    6: "other-fault",
}

# Per-port power draw, not in the standard MIB: each vendor has its own column, same group.port index.
CPE_EXT_PSE_PORT_PWR_CONSUMPTION = "1.3.6.1.4.1.9.9.402.1.2.1.9"  # CISCO-POWER-ETHERNET-EXT-MIB, mW
HPICF_POE_PETH_PSE_PORT_POWER = "1.3.6.1.4.1.11.2.14.11.1.9.1.1.1.3"  # HP-ICF-POE-MIB, mW
VENDOR_PORT_POWER_MW = {
    "9": CPE_EXT_PSE_PORT_PWR_CONSUMPTION,
    "11": HPICF_POE_PETH_PSE_PORT_POWER,
}

# ---------------------------------------------------------------- ENTITY-MIB (index: entPhysicalIndex)
ENT_PHYSICAL_DESCR = "1.3.6.1.2.1.47.1.1.1.1.2"
ENT_PHYSICAL_CLASS = "1.3.6.1.2.1.47.1.1.1.1.5"  # chassis 3, module 9, port 10, stack 11
ENT_PHYSICAL_HARDWARE_REV = "1.3.6.1.2.1.47.1.1.1.1.8"
ENT_PHYSICAL_FIRMWARE_REV = "1.3.6.1.2.1.47.1.1.1.1.9"
ENT_PHYSICAL_SOFTWARE_REV = "1.3.6.1.2.1.47.1.1.1.1.10"
ENT_PHYSICAL_SERIAL_NUM = "1.3.6.1.2.1.47.1.1.1.1.11"
ENT_PHYSICAL_MODEL_NAME = "1.3.6.1.2.1.47.1.1.1.1.13"
ENT_CLASS_CHASSIS = 3

# ---------------------------------------------------------------- vendors by enterprise number
ENTERPRISE_PREFIX = "1.3.6.1.4.1."
ENTERPRISE_VENDORS = {
    "9": "Cisco",
    "11": "HP",
    "171": "D-Link",
    "207": "Allied Telesis",
    "674": "Dell",
    "890": "Zyxel",
    "1916": "Extreme Networks",
    "2011": "Huawei",
    "2636": "Juniper",
    "4413": "Ubiquiti",  # EdgeSwitch firmware is Broadcom FASTPATH under this number
    "4526": "Netgear",
    "6486": "Alcatel-Lucent",
    "11863": "TP-Link",
    "14988": "MikroTik",
    "25506": "H3C",
    "30065": "Arista",
    "41112": "Ubiquiti",
    "47196": "Aruba",
}
# Brands sold under another company's enterprise number: the sysDescr's first word tells them apart
# (Aruba 2530 switches still answer with HP's 1.3.6.1.4.1.11.2.3.7.11.x).
REBRANDS = {"11": ("Aruba", "HPE", "ProCurve")}
