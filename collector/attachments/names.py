"""A person's file name, made safe to store and show: no path, no control characters, bounded."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def sanitise_filename(name: str | None, fallback: str = "upload") -> str:
    """'../../etc/passwd' → 'passwd'; 'C:\\Users\\x\\IMG 1.JPG' → 'IMG 1.JPG'; keeps the extension."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    if not text:
        return fallback
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        keep_ext = bool(dot) and 0 < len(ext) <= 10
        text = f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}" if keep_ext else text[:MAX_NAME]
    return text
