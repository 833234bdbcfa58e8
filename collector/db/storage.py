"""How a version's snapshot document is stored: the one place that encodes and decodes it.

A document is the validated snapshot dumped to JSON by pydantic (Rust, one pass) and
zlib-compressed: a 1,000-device site's 1.3 MB document takes a few dozen KiB. Readers never touch
the column: they go through collector/db/queries.py (``version_document``, ``version_snapshot``),
which call ``decode_*`` here.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from collector.gcpause import gc_paused
from drivers.schema import Snapshot

# Level 1: a 1,000-device document in ~3 ms (level 6 stores a quarter less in four times the time).
LEVEL = 1


def encode_snapshot(snapshot: Snapshot) -> bytes:
    return zlib.compress(snapshot.__pydantic_serializer__.to_json(snapshot), LEVEL)


def encode_document(document: dict[str, Any]) -> bytes:
    """For JSON data that is already a dump (the migration of existing rows)."""
    return zlib.compress(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(), LEVEL)


def decode_document(blob: bytes) -> dict[str, Any]:
    data = json.loads(zlib.decompress(blob))
    assert isinstance(data, dict)
    return data


def decode_snapshot(blob: bytes) -> Snapshot:
    """Straight from the stored bytes to a Snapshot (pydantic parses the JSON itself)."""
    with gc_paused():
        return Snapshot.model_validate_json(zlib.decompress(blob))
