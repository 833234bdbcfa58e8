"""One canonical form for MACs, IP addresses and interface names.

Every vendor spells these differently (``AC-CC-8E-01-02-03``, ``accc.8e01.0203``, ``Gi1/0/3``);
the snapshot contract applies these functions at its boundary so the rest of the code compares
plain strings. Pure functions, standard library only.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_HEX = re.compile(r"[0-9a-fA-F]")
# Values that are already canonical are by far the most common (every snapshot the collector
# ingests was normalised by the agent): recognise them without parsing.
_CANONICAL_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LABEL_CHARS = 256  # = drivers.schema.MAX_LABEL_CHARS (schema imports this module, not the reverse)
TEXT_CHARS = 4096  # = drivers.schema.MAX_TEXT_CHARS


def clean_text(value: str, limit: int = LABEL_CHARS) -> str:
    """Device text made fit for a snapshot: control characters (NUL first of all) removed, lone
    surrogates replaced, and cut to ``limit`` characters (with "…"). The collector refuses such values
    outright; a driver cleans them, because a camera's odd model string must not cost its record.

    Example:: clean_text("DS-2CD\x002143\ud800") == "DS-2CD2143\ufffd"
    """
    if not value.isascii():
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    value = _CONTROLS.sub("", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def canonical_mac(value: str | bytes) -> str:
    """Return ``aa:bb:cc:dd:ee:ff`` for any common MAC notation.

    Accepts colon, dash, dot (Cisco ``aabb.ccdd.eeff``), space separated and bare hex, and the
    6 raw octets SNMP returns. Raises ``ValueError`` naming the input otherwise.

    Example:: canonical_mac("ACCC.8E01.0203") == "ac:cc:8e:01:02:03"
    """
    if isinstance(value, str) and _CANONICAL_MAC.fullmatch(value):
        return value
    if isinstance(value, bytes | bytearray):
        if len(value) != 6:
            raise ValueError(f"a MAC address has 6 octets, got {len(value)}: {value!r}")
        return ":".join(f"{b:02x}" for b in value)
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    groups = re.split(r"[:\-. ]", text)
    if len(groups) == 6 and all(1 <= len(g) <= 2 for g in groups):
        digits = "".join(g.zfill(2) for g in groups)  # SNMP tools print "0:1b:..." without zero padding
    else:
        digits = "".join(groups)
    if len(digits) != 12 or len(_HEX.findall(digits)) != 12:
        raise ValueError(f"not a MAC address: {value!r}")
    digits = digits.lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def mac_oui(mac: str) -> str:
    """The vendor prefix (first three octets) of a canonical MAC, e.g. ``ac:cc:8e``."""
    return canonical_mac(mac)[:8]


def canonical_ip(value: str) -> str:
    """Return the canonical text of an IPv4 or IPv6 address; raises ``ValueError`` otherwise."""
    if _CANONICAL_IPV4.fullmatch(value):
        return value
    return _parse_ip(value)


@lru_cache(maxsize=4096)
def _parse_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"not an IP address: {value!r}") from None


def canonical_ip_interface(value: str) -> str:
    """Return ``address/prefix`` for an interface address such as ``10.0.0.5/24``."""
    try:
        return str(ipaddress.ip_interface(value.strip()))
    except ValueError:
        raise ValueError(f"not an IP interface (address/prefix): {value!r}") from None


# Abbreviations that switches use in tables, mapped to the full names their SNMP ifDescr and
# running-config use. Longest prefixes first so "Te" does not eat "TwentyFiveGigE".
_IFNAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("twentyfivegige", "TwentyFiveGigE"),
    ("tengigabitethernet", "TenGigabitEthernet"),
    ("gigabitethernet", "GigabitEthernet"),
    ("fastethernet", "FastEthernet"),
    ("port-channel", "Port-channel"),
    ("ethernet", "Ethernet"),
    ("vlan", "Vlan"),
    ("tengig", "TenGigabitEthernet"),
    ("twe", "TwentyFiveGigE"),
    ("gig", "GigabitEthernet"),
    ("ten", "TenGigabitEthernet"),
    ("eth", "Ethernet"),
    ("gi", "GigabitEthernet"),
    ("fa", "FastEthernet"),
    ("te", "TenGigabitEthernet"),
    ("po", "Port-channel"),
    ("vl", "Vlan"),
    ("et", "Ethernet"),
)
_IFNAME = re.compile(r"^([A-Za-z][A-Za-z\-]*?)\s*(\d[\d/.:]*)$")


@lru_cache(maxsize=4096)
def canonical_ifname(value: str) -> str:
    """Expand abbreviated interface names; leave names without a known prefix alone.

    ``Gi1/0/3`` → ``GigabitEthernet1/0/3``; ``fa0/1`` → ``FastEthernet0/1``; ProCurve ``A1`` and
    EdgeSwitch ``0/3`` stay as they are. Blank names are refused.
    """
    text = " ".join(value.split())
    if not text:
        raise ValueError("interface name is empty")
    match = _IFNAME.match(text)
    if not match:
        return text
    prefix, number = match.groups()
    lowered = prefix.lower()
    for short, full in _IFNAME_PREFIXES:
        if lowered == short:
            return f"{full}{number}"
    return text
