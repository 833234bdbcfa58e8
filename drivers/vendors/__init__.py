"""What every vendor we know declares about itself, in one module per vendor, and the rules that use it.

A vendor module holds one `VendorProfile`: how its devices are recognised (IEEE OUI registrant
names, sysObjectID prefixes, sysDescr words, WS-Discovery scope words, mDNS service types and TXT
keys, HTTP Server header), what it is (camera, recorder, switch), which CLI dialect its switches
speak, how its SNMP identity is read (vendor MIB OIDs, sysDescr patterns) and a `quirks` table of
named workarounds, each tied to the fixture folder that shows it. Adding a vendor is one module
here and one line in `PROFILES`.

The rules (pure, no I/O):
- `vendor_hint(candidate)`: the best-scoring vendor from every discovery hint, before any login,
  so credentials bound to a vendor are ordered (and sets of other vendors left out) from the start;
- `dialect_for(sys_object_id, words)`: the CLI dialect of a switch;
- `snmp_profile(sys_object_id, sys_descr)`: the vendor whose SNMP identity a host answers with;
- `identity_from_mdns(candidate)`: identity a vendor's mDNS TXT record carries.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote

from drivers.base import Candidate
from drivers.schema import DeviceIdentity


class Kind(StrEnum):
    CAMERA = "camera"
    RECORDER = "recorder"  # NVRs and NAS/VMS recorders
    SWITCH = "switch"


@dataclass(frozen=True)
class Quirk:
    """A named workaround: what the device does, what we do about it, and the fixture that shows it."""

    what: str
    fixture: str  # folder under tests/fixtures/ (or a lab personality: "lab:<site>/<device>")


@dataclass(frozen=True)
class VendorProfile:
    name: str  # as the devices spell it in GetDeviceInformation (Manufacturer)
    kinds: frozenset[Kind]
    words: tuple[str, ...]  # lower-case words naming the vendor in scopes, TXT, Server headers, sysDescr
    oui_orgs: tuple[str, ...] = ()  # lower-case parts of IEEE OUI registrant names
    sys_object_ids: tuple[str, ...] = ()  # sysObjectID prefixes (with trailing dot)
    sys_descr_words: tuple[str, ...] = ()  # lower-case words that name the vendor in sysDescr
    server_headers: tuple[str, ...] = ()  # lower-case prefixes of the HTTP Server header
    mdns_types: tuple[str, ...] = ()  # e.g. "_axis-video._tcp"
    mdns_vendor_values: tuple[str, ...] = ()  # lower-case values of TXT "vendor"
    cli_dialect: str | None = None  # driver name of the CLI dialect its switches speak
    # SNMP identity of hosts that are not switches (NAS, NVR): field -> OID (scalar instance)
    snmp_identity_oids: Mapping[str, str] = field(default_factory=dict)
    snmp_identity_base: str | None = None  # subtree to walk for them
    # sysDescr pattern with named groups model / firmware / serial
    sys_descr_pattern: re.Pattern[str] | None = None
    # mDNS TXT -> identity (None: the vendor's TXT carries none)
    mdns_identity: Callable[[Mapping[str, str]], DeviceIdentity | None] | None = None
    quirks: Mapping[str, Quirk] = field(default_factory=dict)

    @property
    def is_recorder_host(self) -> bool:
        """SNMP identity is read for it (a recorder that is not a switch)."""
        return bool(self.snmp_identity_oids or self.sys_descr_pattern)


def _load() -> tuple[VendorProfile, ...]:
    from drivers.vendors import (
        aruba,
        axis,
        cisco,
        dahua,
        hanwha,
        hikvision,
        qnap,
        synology,
        uniview,
    )

    return tuple(m.PROFILE for m in (axis, hikvision, dahua, hanwha, uniview, synology, qnap, cisco, aruba))


@functools.cache
def profiles() -> tuple[VendorProfile, ...]:
    return _load()


def by_name(name: str | None) -> VendorProfile | None:
    if not name:
        return None
    low = name.lower()
    return next((p for p in profiles() if p.name.lower() == low or low in p.words), None)


# ---------------------------------------------------------------- OUI (IEEE registry, offline)


@functools.lru_cache(maxsize=4096)
def oui_org(mac: str | None) -> str | None:
    """The IEEE registrant of a MAC's OUI, from netaddr's bundled copy of the IEEE registry (offline).
    None without netaddr, for a locally administered MAC, or an unregistered OUI."""
    if not mac:
        return None
    try:
        from netaddr import EUI
        from netaddr.core import NotRegisteredError
    except ImportError:
        return None
    try:
        return str(EUI(mac).oui.registration().org)
    except (NotRegisteredError, ValueError, IndexError, TypeError):
        return None


def vendor_of_mac(mac: str | None) -> VendorProfile | None:
    org = (oui_org(mac) or "").lower()
    if not org:
        return None
    return next((p for p in profiles() if any(o in org for o in p.oui_orgs)), None)


# ---------------------------------------------------------------- hints → vendor

# How much each kind of hint counts: a vendor's own TXT/scope is worth more than its OUI (OEM boards
# carry their chip maker's OUI), which is worth more than a web server banner.
WEIGHTS = {"mdns_vendor": 5, "scope": 4, "mdns_type": 4, "oui": 3, "server": 2, "sys_object_id": 5}


def _scope_words(scopes: list[str]) -> str:
    # name/, hardware/ and mfr/ scopes carry the maker in many firmwares ("name/Uniview", "mfr/AXIS")
    picked = [
        unquote(s.rsplit("/", 1)[-1]).lower()
        for s in scopes
        if any(f"/{k}/" in s.lower() for k in ("name", "hardware", "mfr", "manufacturer"))
    ]
    return " ".join(picked)


def hint_scores(candidate: Candidate) -> dict[str, int]:
    """Score every vendor profile from the candidate's discovery hints (no I/O)."""
    scores: dict[str, int] = {}
    scope_text = _scope_words(candidate.wsd_scopes)
    txt_vendor = (candidate.mdns_txt.get("vendor") or "").lower()
    server = (candidate.http_server or "").lower()
    by_oui = vendor_of_mac(candidate.mac)
    for p in profiles():
        score = 0
        if by_oui is p:
            score += WEIGHTS["oui"]
        if scope_text and any(re.search(rf"\b{re.escape(w)}\b", scope_text) for w in p.words):
            score += WEIGHTS["scope"]
        if txt_vendor and (txt_vendor in p.mdns_vendor_values or txt_vendor in p.words):
            score += WEIGHTS["mdns_vendor"]
        if any(t in candidate.mdns_services for t in p.mdns_types):
            score += WEIGHTS["mdns_type"]
        if server and any(server.startswith(h) for h in p.server_headers):
            score += WEIGHTS["server"]
        if score:
            scores[p.name] = score
    return scores


def vendor_hint(candidate: Candidate) -> str | None:
    """The vendor discovery suggests, or None when no hint names one."""
    scores = hint_scores(candidate)
    if not scores:
        return None
    return max(sorted(scores), key=lambda name: scores[name])


# ---------------------------------------------------------------- SNMP and CLI


def _object_id(oid: str | None) -> str:
    return (oid or "").lstrip(".") + "."


def snmp_profile(sys_object_id: str | None, sys_descr: str | None) -> VendorProfile | None:
    """The vendor an SNMP agent belongs to: longest sysObjectID prefix, else a sysDescr word."""
    oid = _object_id(sys_object_id)
    ranked = sorted(
        ((len(prefix), p) for p in profiles() for prefix in p.sys_object_ids if oid.startswith(prefix)),
        key=lambda item: -item[0],
    )
    if ranked:
        return ranked[0][1]
    words = (sys_descr or "").lower()
    return next((p for p in profiles() if any(w in words for w in p.sys_descr_words)), None)


def dialect_for(sys_object_id: str | None, words: str, available: set[str]) -> str | None:
    """The CLI dialect of a switch from its sysObjectID, else from vendor words (sysDescr, vendor)."""
    profile = snmp_profile(sys_object_id, None)
    if profile and profile.cli_dialect in available:
        return profile.cli_dialect
    low = words.lower()
    for p in profiles():
        if p.cli_dialect in available and any(
            w in low.split() or (len(w) > 2 and w in low) for w in (*p.words, *p.sys_descr_words)
        ):
            return p.cli_dialect
    return None


def identity_from_snmp(
    profile: VendorProfile, rows: Mapping[str, object], sys_descr: str | None, sys_name: str | None
) -> DeviceIdentity:
    """Identity of a recorder host from its vendor MIB scalars and sysDescr pattern."""
    values: dict[str, str] = {}
    if profile.sys_descr_pattern and sys_descr:
        match = profile.sys_descr_pattern.search(sys_descr)
        if match:
            values |= {k: v for k, v in match.groupdict().items() if v}
    for name, oid in profile.snmp_identity_oids.items():
        raw = rows.get(oid)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if isinstance(text, str) and text.strip():
            values[name] = text.strip()
    return DeviceIdentity(
        vendor=profile.name,
        model=values.get("model"),
        serial=values.get("serial"),
        firmware=values.get("firmware"),
        hostname=sys_name,
    )


def identity_from_mdns(candidate: Candidate) -> DeviceIdentity | None:
    """What a vendor's mDNS TXT record says about the device (Synology's _http._tcp: vendor, model,
    serial, DSM version), or None."""
    if not candidate.mdns_txt:
        return None
    txt = candidate.mdns_txt
    profile = by_name(txt.get("vendor"))
    if profile is None or profile.mdns_identity is None:
        return None
    return profile.mdns_identity(txt)
