"""Looks for planted secrets everywhere they must not be: files (compressed or not), archives, pages.

Used by the vault's no-secret-anywhere test: it counts the places it looked at, so a sweep that
looked nowhere cannot pass as clean.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass
class Sweep:
    secrets: tuple[str, ...]
    looked_at: list[str] = field(default_factory=list)
    hits: list[str] = field(default_factory=list)

    def check_bytes(self, place: str, data: bytes) -> None:
        self.looked_at.append(place)
        for secret in self.secrets:
            for encoded in _encodings(secret):
                if encoded in data:
                    self.hits.append(f"{place}: {secret[:3]}… ({len(encoded)} bytes)")
                    break
        for inner_place, inner in _unpacked(place, data):
            self.check_bytes(inner_place, inner)

    def check_text(self, place: str, text: str) -> None:
        self.check_bytes(place, text.encode("utf-8", "surrogatepass"))

    def check_tree(self, root: Path, *, skip: Iterable[Path] = ()) -> None:
        skipped = {p.resolve() for p in skip}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.resolve() in skipped or path.stat().st_size > MAX_FILE_BYTES:
                continue
            self.check_bytes(str(path), path.read_bytes())


def _encodings(secret: str) -> list[bytes]:
    raw = secret.encode()
    # As stored text, in UTF-16 (some exports), and JSON-escaped forms are the same bytes for ASCII.
    return [raw, secret.encode("utf-16-le")]


def _unpacked(place: str, data: bytes) -> list[tuple[str, bytes]]:
    if data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError):
            return []
        if inner[257:262] == b"ustar":
            return _tar_members(place, inner)
        return [(f"{place}!gunzip", inner)]
    if data[257:262] == b"ustar":
        return _tar_members(place, data)
    if data[:4] == b"PK\x03\x04":  # XLSX, DOCX, zip exports
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [(f"{place}!{n}", archive.read(n)) for n in archive.namelist()]
        except zipfile.BadZipFile:
            return []
    return []


def _tar_members(place: str, data: bytes) -> list[tuple[str, bytes]]:
    members: list[tuple[str, bytes]] = []
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None:
                members.append((f"{place}!{member.name}", handle.read()))
    return members
