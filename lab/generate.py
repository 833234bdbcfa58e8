"""Generate large simulated sites (e.g. 200 cameras over 8 PoE switches) deterministically."""

from __future__ import annotations

import ipaddress
from typing import Any

from lab.site import LabSite

# (personality, vendor, model, firmware, OUI, serial format) per camera vendor.
CAMERA_VENDORS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("axis", "AXIS", "P3245-LVE", "10.12.182", "ac:cc:8e", "ACCC8E{n:06X}"),
    (
        "hikvision",
        "HIKVISION",
        "DS-2CD2143G2-I",
        "V5.7.3 build 220112",
        "c0:56:e3",
        "DS-2CD2143G2-I20230101AAWRJ{n:08d}",
    ),
    ("dahua", "Dahua", "IPC-HDW2431T-AS-S2", "2.800.0000000.16.R", "3c:ef:8c", "7E0{n:05d}PAZ{n:04d}"),
    ("hanwha", "Hanwha Vision", "XNV-6080R", "2.21.02_20230420", "00:09:18", "ZK1{n:05d}X"),
)
# For the fleet reports: every 41st camera (from the 21st) still runs the previous firmware of its
# model, and one camera's clock is 95 s off.
OLDER_FIRMWARE = {
    "axis": "10.11.87",
    "hikvision": "V5.6.5 build 200316",
    "dahua": "2.800.0000000.14.R",
    "hanwha": "2.20.01_20220815",
}
SKEWED_CAMERA, SKEW_S = 12, 95.0
RECORDER_VENDORS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "hikvision-nvr",
        "HIKVISION",
        "DS-7616NI-I2/16P",
        "V4.62.210",
        "c0:56:e3",
        "DS-7616NI-I2/16P1620230101CCRR{n:09d}",
    ),
    ("dahua-nvr", "Dahua", "NVR5216-16P-I", "4.001.0000000.3.R", "3c:ef:8c", "6J0{n:05d}PAG"),
)


def _mac(oui: str, n: int) -> str:
    tail = f"{n & 0xFFFFFF:06x}"
    return f"{oui}:{tail[0:2]}:{tail[2:4]}:{tail[4:6]}"


def generate_site(
    cameras: int = 200, switches: int = 8, recorders: int = 4, subnet: str = "10.79.0.0/22"
) -> LabSite:
    """A site whose switches hang off the first one in a star; cameras spread evenly; each
    recorder records an even share of the cameras (up to 64 channels each)."""
    if switches < 1 or cameras < 0 or recorders < 0:
        raise ValueError("need at least one switch")
    net = ipaddress.ip_network(subnet)
    hosts = net.hosts()
    next(hosts)  # .1 is the gateway in a real site: leave it free
    ports_per_switch = 48
    per_switch = -(-(cameras + recorders) // switches)
    if per_switch > ports_per_switch - switches:
        raise ValueError(f"{cameras} cameras do not fit on {switches} switches of {ports_per_switch} ports")

    sw_list: list[dict[str, Any]] = []
    for i in range(switches):
        cisco = i % 2 == 0
        sw_list.append(
            {
                "name": f"sw-{i + 1:02d}",
                "dialect": "cisco_ios" if cisco else "hp_procurve",
                "vendor": "Cisco" if cisco else "Aruba",
                "model": "WS-C2960X-48FPD-L" if cisco else "J9772A 2530-48G-PoEP",
                "serial": f"FOC{2000 + i:04d}X1{i:02d}" if cisco else f"CN{60 + i:02d}FP{i:04d}",
                "firmware": "15.2(7)E8" if cisco else "YA.16.11.0016",
                "mac": _mac("00:1b:54" if cisco else "94:18:82", 0x100000 + i * 0x100),
                "ip": str(next(hosts)),
                "port_count": ports_per_switch,
                "poe_ports": ports_per_switch,
                "poe_budget_w": 740.0,
                "camera_vlan": 20,
                "vlans": {1: "default", 20: "CCTV"},
                "credential": {"username": "admin", "password": f"Sw!tch{i + 1}"},
                "enable_secret": "en4ble",
            }
        )
    # star: switch 1 port 48 - i links to switch i port 48
    links = [
        {"a": "sw-01", "a_port": ports_per_switch - i + 1, "b": f"sw-{i:02d}", "b_port": ports_per_switch}
        for i in range(2, switches + 1)
    ]
    next_port = {s["name"]: 1 for s in sw_list}

    def plug(k: int) -> dict[str, Any]:
        sw = sw_list[k % switches]["name"]
        port = next_port[sw]
        next_port[sw] += 1
        return {"switch": sw, "port": port}

    devices: list[dict[str, Any]] = []
    for n in range(cameras):
        pers, vendor, model, fw, oui, serial = CAMERA_VENDORS[n % len(CAMERA_VENDORS)]
        devices.append(
            {
                "name": f"cam-{n + 1:03d}",
                "role": "camera",
                "personality": pers,
                "vendor": vendor,
                "model": model,
                "serial": serial.format(n=n + 1),
                "firmware": fw,
                "mac": _mac(oui, 0x200000 + n),
                "ip": str(next(hosts)),
                "prefix_length": net.prefixlen,
                "placement": f"Building {n // 50 + 1}, pole {n % 50 + 1}",
                "credential": {"username": "admin", "password": f"Cam-{vendor[:3]}-2024"},
                "uplink": plug(n),
            }
        )
        if n % 41 == 20:
            devices[-1]["firmware"] = OLDER_FIRMWARE[pers]
        if n == SKEWED_CAMERA:
            devices[-1]["faults"] = {"clock_offset_s": SKEW_S}
    cam_names = [d["name"] for d in devices]
    share = -(-cameras // recorders) if recorders else 0
    for r in range(recorders):
        pers, vendor, model, fw, oui, serial = RECORDER_VENDORS[r % len(RECORDER_VENDORS)]
        chans = cam_names[r * share : (r + 1) * share][:64]
        devices.append(
            {
                "name": f"nvr-{r + 1:02d}",
                "role": "recorder",
                "personality": pers,
                "vendor": vendor,
                "model": model,
                "serial": serial.format(n=r + 1),
                "firmware": fw,
                "mac": _mac(oui, 0x300000 + r),
                "ip": str(next(hosts)),
                "prefix_length": net.prefixlen,
                "placement": f"Server room rack {r + 1}",
                "credential": {"username": "admin", "password": f"Nvr-{vendor[:3]}-2024"},
                "uplink": plug(cameras + r),
                "poe_class": None,
                "channels": chans,
                "channel_count": max(64, len(chans)),
            }
        )
    return LabSite.model_validate(
        {
            "name": f"large-{cameras}",
            "title": f"Generated site: {cameras} cameras, {switches} switches, {recorders} recorders",
            "subnet": subnet,
            "scanner_ip": str(list(net.hosts())[-1]),
            "switches": sw_list,
            "links": links,
            "devices": devices,
        }
    )
