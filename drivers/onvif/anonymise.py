"""Anonymise a recorded ONVIF fixture folder, so a field engineer can commit an odd device as a test.

Pure text rewriting of the reply bodies (`asbuilt record` writes them raw), with one consistent
mapping per folder, so the replay still describes one coherent device:
- IPv4 addresses -> 192.0.2.0/24 (RFC 5737 documentation range), the device itself -> 192.0.2.10;
- MAC addresses (colon, dash or bare hex form) -> locally administered 02:00:5e:00:00:NN;
- the serial number, host name, name/location scopes -> stand-ins of the same shape;
- user info in URIs (rtsp://user:pass@host) removed;
- urn:uuid endpoint references -> a uuid derived from the anonymised MAC.
What is left (model, firmware, vendor, XML shape) is what makes the fixture worth having.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
MAC = re.compile(
    r"(?<![0-9A-Fa-f:-])([0-9A-Fa-f]{2}(?P<sep>[:-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}[0-9A-Fa-f]{2})(?![0-9A-Fa-f:-])"
)
USERINFO = re.compile(r"(\w+://)[^/@\s<>\"']+@")
UUID = re.compile(r"urn:uuid:[0-9A-Fa-f-]{36}")
TAG_TEXT = r"(<(?:\w+:)?{tag}>)([^<]*)(</(?:\w+:)?{tag}>)"
SCOPE = re.compile(r"(onvif://www\.onvif\.org/(?:name|location)/)([^<\s]*)")
KEEP_IPS = {"0.0.0.0", "255.255.255.255", "127.0.0.1"}


@dataclass
class Anonymiser:
    device_ip: str
    ips: dict[str, str] = field(default_factory=dict)
    macs: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    def ip(self, value: str) -> str:
        try:
            addr = ipaddress.IPv4Address(value)
        except ValueError:
            return value
        if value in KEEP_IPS or (addr.is_loopback and value != self.device_ip) or int(addr) >> 24 == 255:
            return value
        if value == self.device_ip:
            return "192.0.2.10"
        if value not in self.ips:
            self.ips[value] = f"192.0.2.{20 + len(self.ips) % 200}"
        return self.ips[value]

    def mac(self, value: str, sep: str) -> str:
        key = re.sub(r"[:-]", "", value).lower()
        if key not in self.macs:
            self.macs[key] = f"02005e0000{len(self.macs) + 1:02x}"
        raw = self.macs[key]
        text = sep.join(raw[i : i + 2] for i in range(0, 12, 2))
        return text.upper() if value.isupper() else text

    def same_shape(self, value: str, kind: str) -> str:
        """A stand-in with the same shape (digits stay digits, letters letters), stable per value."""
        if not value:
            return value
        if value not in self.words:
            digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
            out = []
            for i, ch in enumerate(value):
                n = int(digest[i % len(digest)], 16)
                out.append(str(n % 10) if ch.isdigit() else chr(65 + n % 26) if ch.isalpha() else ch)
            self.words[value] = "".join(out)
        return self.words[value]

    def text(self, body: str, serials: set[str], names: set[str]) -> str:
        body = USERINFO.sub(r"\1", body)
        body = MAC.sub(lambda m: self.mac(m.group(1), m.group("sep")), body)
        for serial in sorted(serials, key=len, reverse=True):
            body = body.replace(serial, self.same_shape(serial, "serial"))
            bare = re.sub(r"[:-]", "", serial)
            if len(bare) == 12 and bare.lower() in self.macs:  # Axis: the serial is the MAC
                body = body.replace(self.same_shape(serial, "serial"), self.macs[bare.lower()].upper())
        for name in sorted(names, key=len, reverse=True):
            body = body.replace(name, self.same_shape(name, "name"))
        body = SCOPE.sub(lambda m: m.group(1) + ("recorded" if m.group(2) else ""), body)
        body = IPV4.sub(lambda m: self.ip(m.group(1)), body)
        return UUID.sub(lambda m: self.uuid(m.group(0)), body)

    def uuid(self, value: str) -> str:
        digest = hashlib.sha256(value.lower().encode()).hexdigest()
        return f"urn:uuid:{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def _tag_values(body: str, tag: str) -> set[str]:
    return {m.group(2).strip() for m in re.finditer(TAG_TEXT.format(tag=tag), body) if m.group(2).strip()}


def anonymise_folder(folder: Path, device_ip: str) -> Anonymiser:
    """Rewrite every reply body in `folder` in place; returns the mapping used (for meta.json)."""
    bodies = {p: p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.xml"))}
    serials: set[str] = set()
    names: set[str] = set()
    for body in bodies.values():
        serials |= _tag_values(body, "SerialNumber")
        names |= {n for n in _tag_values(body, "Name") if n and "." not in n} if "Hostname" in body else set()
    anonymiser = Anonymiser(device_ip)
    for path, body in bodies.items():
        path.write_text(anonymiser.text(body, serials, names), encoding="utf-8")
    return anonymiser
