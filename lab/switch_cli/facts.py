"""Facts about a simulated switch that both CLI dialects print: uptime, addressing, extra ports, hashes.

Everything here is a pure function of the site model, so two renders of the same site are identical.
The uptime is derived from the serial number (a stable, plausible figure) rather than a clock.
"""

from __future__ import annotations

import hashlib
import ipaddress
import zlib
from datetime import UTC, datetime, timedelta

from lab.site import Dialect, LabSite, Switch

SFP_SLOTS = (
    4  # both modelled families (2960X-24PS-L, 2530-24G-PoEP) have 4 empty SFP slots after the copper ports
)
MAX_POE_W = 30.0  # PoE+ per-port maximum


def uptime_seconds(switch: Switch) -> int:
    """A stable uptime between 20 and 400 days, different per switch."""
    seed = zlib.crc32(switch.serial.encode())
    return 20 * 86400 + seed % (380 * 86400)


def boot_time(switch: Switch) -> datetime:
    """When the switch last booted, consistent with uptime_seconds relative to a fixed reference."""
    return datetime(2026, 11, 23, 8, 0, tzinfo=UTC) - timedelta(seconds=uptime_seconds(switch))


def netmask(switch: Switch) -> str:
    return str(ipaddress.ip_network(f"0.0.0.0/{switch.prefix_length}").netmask)


def gateway(switch: Switch) -> str:
    """The first host of the switch's subnet: the site router in every lab site."""
    net = ipaddress.ip_interface(f"{switch.ip}/{switch.prefix_length}").network
    return str(next(net.hosts()))


def all_ports(switch: Switch) -> range:
    """Copper ports (from the site) followed by the empty SFP slots every modelled switch has."""
    return range(1, switch.port_count + SFP_SLOTS + 1)


def poe_total_w(site: LabSite, switch: Switch) -> float:
    return round(sum(site.port_view(switch.name, p).power_w for p in range(1, switch.port_count + 1)), 1)


def mac_octets(mac: str) -> str:
    return mac.replace(":", "").lower()


def cisco_mac(mac: str) -> str:
    """aabb.ccdd.eeff"""
    raw = mac_octets(mac)
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


def procurve_mac(mac: str) -> str:
    """aabbcc-ddeeff"""
    raw = mac_octets(mac)
    return f"{raw[0:6]}-{raw[6:12]}"


def port_ranges(ports: list[int]) -> str:
    """ProCurve port-list syntax: [1, 2, 3, 5] -> "1-3,5"."""
    parts: list[str] = []
    ordered = sorted(set(ports))
    start = prev = None
    for port in [*ordered, None]:
        if port is not None and prev is not None and port == prev + 1:
            prev = port
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = port
    return ",".join(parts)


# ---------------------------------------------------------------- platform strings
# Shared because each switch prints its own and its LLDP neighbours print the other's.

PROCURVE_BUILD_PATH = "/ws/swbuildm/rel_yakima_qaoff/code/build/lakes(swbuildm_rel_yakima_qaoff_rel_yakima)"


def cisco_platform(switch: Switch) -> str:
    """WS-C2960X-24PS-L -> C2960X (the image family in show version)."""
    parts = switch.model.split("-")
    return parts[1] if len(parts) > 1 and switch.model.startswith("WS-") else "C2960X"


def cisco_image(switch: Switch) -> str:
    return f"{cisco_platform(switch)}-UNIVERSALK9-M"


def cisco_software_line(switch: Switch) -> str:
    """The first line of IOS show version, also sent as the LLDP system description."""
    return (
        f"Cisco IOS Software, {cisco_platform(switch)} Software ({cisco_image(switch)}), "
        f"Version {switch.firmware}, RELEASE SOFTWARE (fc1)"
    )


def procurve_rom(switch: Switch) -> str:
    """The boot ROM a 2530 pairs with its firmware line (YA.16.x runs on ROM YA.15.20)."""
    return f"{switch.firmware.split('.')[0]}.15.20"


def procurve_product(switch: Switch) -> str:
    """ "Aruba J9773A 2530-24G-PoEP": vendor, product number and name."""
    return f"{switch.vendor} {switch.model}"


def procurve_system_description(switch: Switch) -> str:
    return (
        f"{procurve_product(switch)} Switch, revision {switch.firmware}, ROM {procurve_rom(switch)} "
        f"({PROCURVE_BUILD_PATH})"
    )


def lldp_system_description(switch: Switch) -> str:
    """What a switch sends as LLDP system description (one line)."""
    if switch.dialect is Dialect.CISCO_IOS:
        return cisco_software_line(switch)
    return procurve_system_description(switch)


# ---------------------------------------------------------------- planted secrets
# Configuration text carries hashed and weakly encoded secrets, as on real devices, so that a
# scanner's secret filter has real material to remove. None of these can log anyone in.

_TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def cisco_type7(secret: str, seed: int = 2) -> str:
    """Cisco 'password 7' encoding (a reversible XOR with a published key), as IOS prints it."""
    out = f"{seed:02d}"
    for i, char in enumerate(secret):
        out += f"{ord(char) ^ ord(_TYPE7_KEY[(seed + i) % len(_TYPE7_KEY)]):02X}"
    return out


def cisco_type5_like(secret: str, salt_from: str) -> str:
    """A string shaped like an md5-crypt ('secret 5') hash, stable per secret; not a verifiable hash."""
    digest = hashlib.sha256(f"{salt_from}:{secret}".encode()).digest()
    chars = "".join(_CRYPT_ALPHABET[b % 64] for b in digest)
    return f"$1${chars[:4]}${chars[4:26]}"


def sha1_hex(secret: str) -> str:
    """ProCurve stores manager/operator passwords as unsalted SHA-1 (shown with include-credentials)."""
    return hashlib.sha1(secret.encode()).hexdigest()
