"""Secret and noise filters for configuration text, declared as data (the Oxidized ``cmd :secret`` idea).

A filter is a regular expression and its replacement, applied line-wise (``re.MULTILINE``). Each CLI
platform module lists its own ``SECRET_FILTERS`` and ``NOISE_FILTERS``, built from the shared patterns
below; the driver applies them before configuration text leaves it, so a secret never reaches a report,
a snapshot or a log. ``redact_values`` is the second belt: it removes the literal values of the
credential the driver logged in with, should a vendor spell a secret in a way no pattern expected —
short, common secrets only as whole tokens, so a serial "2150PDN123456" survives a password "12345".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

REMOVED = "<removed>"


class Filter(NamedTuple):
    """Replace what `pattern` matches with `replacement` (``re.sub`` syntax, ``\\1`` back-references)."""

    pattern: re.Pattern[str]
    replacement: str


def sub(pattern: str, replacement: str = rf"\1 {REMOVED}", *, ignore_case: bool = True) -> Filter:
    """A substitution filter. The default keeps group 1 (the keyword) and removes the rest."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    return Filter(re.compile(pattern, flags), replacement)


def drop_line(pattern: str, *, ignore_case: bool = False) -> Filter:
    """A filter that deletes every whole line on which `pattern` matches (anchored at the line start)."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    return Filter(re.compile(rf"^(?:{pattern})[^\n]*(?:\n|\Z)", flags), "")


def apply_filters(text: str, filters: Iterable[Filter]) -> str:
    """Apply each filter in order to the whole text.

    Example:: apply_filters("enable secret 5 $1$x", CISCO_SECRETS) == "enable secret <removed>"
    """
    for flt in filters:
        text = flt.pattern.sub(flt.replacement, text)
    return text


# A secret at least this long is distinctive: wherever it occurs, it is the secret. A shorter one
# ("12345", "admin", "public") is also an ordinary word or part of a serial number, so it is removed
# only where it stands alone as a token, never from inside a longer word.
DISTINCTIVE_SECRET_LENGTH = 8


def redact_values(text: str, values: Iterable[str | None], *, min_length: int = 3) -> str:
    """Replace the literal secret values in free text: distinctive ones wherever they occur, short
    ones only as whole tokens (too short ones, below `min_length`, are left alone).

    Example:: redact_values("pw 12345 sn 2150PDN123456", ["12345"]) == "pw <removed> sn 2150PDN123456"
    """
    for value in sorted({v for v in values if v and len(v) >= min_length}, key=len, reverse=True):
        if len(value) >= DISTINCTIVE_SECRET_LENGTH:
            text = text.replace(value, REMOVED)
        else:
            text = re.sub(rf"(?<![\w.:/-]){re.escape(value)}(?![\w.:/-])", REMOVED, text)
    return text


def distinctive(values: Iterable[str | None]) -> list[str]:
    """The secrets long enough to be recognised inside any text, longest first."""
    return sorted({v for v in values if v and len(v) >= DISTINCTIVE_SECRET_LENGTH}, key=len, reverse=True)


# ---------------------------------------------------------------- shared patterns

# Cisco IOS and the many switches that copy its syntax (IOS-XE, NX-OS, EdgeSwitch, Ruckus, ...).
CISCO_SECRETS: Sequence[Filter] = (
    sub(r"^(\s*enable (?:secret|password)(?: level \d+)?)(?: \d+)? \S+.*$"),
    sub(r"^(\s*username \S+\b.*?\b(?:secret|password))(?: \d+)? \S+.*$"),
    sub(r"^(\s*snmp-server community) \S+.*$"),
    sub(r"^(\s*snmp-server host \S+(?: (?:informs|traps))?(?: version (?:1|2c|3 \w+))?) \S+.*$"),
    sub(r"^(\s*snmp-server user \S+ \S+(?: remote \S+)? v3\b).*$"),
    sub(r"^(\s*(?:tacacs|radius)-server (?:host \S+.*? )?key)(?: \d+)? \S+.*$"),
    sub(r"^(\s+(?:server-)?key)(?: \d+)? \S+.*$"),  # "tacacs server X" / "radius server X" blocks
    sub(r"^(\s*key-string)(?: \d+)? \S+.*$"),
    sub(r"^(\s*password)(?: \d+)? \S+.*$"),  # line con / vty passwords
    sub(r"(wpa-psk (?:ascii|hex))(?: \d+)? \S+"),
    sub(r"^(\s*ntp authentication-key \d+ md5) \S+.*$"),
    sub(r"(ip ospf authentication-key)(?: \d+)? \S+"),
    sub(r"(message-digest-key \d+ md5)(?: \d+)? \S+"),
    sub(r"^(\s*neighbor \S+ password)(?: \d+)? \S+.*$"),
    sub(r"^(\s*crypto isakmp key) \S+(.*)$", rf"\1 {REMOVED}\2"),
    sub(r"(pre-shared-key(?: (?:local|remote))?(?: (?:ascii|hex))?)(?: \d+)? \S+"),
)

# HP ProCurve / Aruba-OS switch: quoted values, "password manager", "snmpv3 user".
PROCURVE_SECRETS: Sequence[Filter] = (
    sub(r"^(\s*password (?:manager|operator|port-access)\b).*$"),
    sub(r"^(\s*snmp-server community )(\"[^\"]*\"|\S+)", rf'\1"{REMOVED}"'),
    sub(r"^(\s*snmp-server host \S+ (?:community )?)(\"[^\"]*\"|\S+)", rf'\1"{REMOVED}"'),
    sub(r"^(\s*snmpv3 user (?:\"[^\"]*\"|\S+)).*$"),
    sub(r"^(\s*(?:tacacs|radius)-server (?:host \S+ )?key)\b.*$"),
    sub(r"^(\s*aaa port-access .*?\bsecret)\b.*$"),
    sub(r"^(\s*key)\s+.*$"),
)

# Last resort for unknown platforms: anything after a word that names a secret.
GENERIC_SECRETS: Sequence[Filter] = (
    sub(r"\b((?:password|passwd|secret|community|key|psk|passphrase)(?:\s+\d)?)\s+(\"[^\"]*\"|\S+)"),
)

# Lines that change without a change of meaning, so a re-scan would store a new version for nothing.
CISCO_NOISE: Sequence[Filter] = (
    drop_line(r"! Last configuration change at"),
    drop_line(r"! NVRAM config last updated at"),
    drop_line(r"! No configuration change since last restart"),
    drop_line(r"ntp clock-period"),
    drop_line(r"Current configuration : \d+ bytes"),
    drop_line(r"Building configuration\.\.\."),
)

PROCURVE_NOISE: Sequence[Filter] = (drop_line(r"Running configuration:"),)

# Noise every platform may carry (headers with dates, uptimes, export stamps).
SHARED_NOISE: Sequence[Filter] = (
    drop_line(r"\s*!\s*Time:", ignore_case=True),
    drop_line(r"\s*;.*Configuration Editor; Created on release", ignore_case=True),  # ProCurve header
    drop_line(r".*\buptime\b", ignore_case=True),
    drop_line(r"\s*#\s*(?:generated|exported) (?:at|on)\b", ignore_case=True),
)

# Every noise rule the drivers declare, in one place: the collector's configuration diff applies
# exactly these (to texts stored before a rule existed, too), so noise is defined once.
ALL_NOISE: Sequence[Filter] = (*CISCO_NOISE, *PROCURVE_NOISE, *SHARED_NOISE)
