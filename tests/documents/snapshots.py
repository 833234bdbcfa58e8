"""The documents tests' input, as recorded: real scans of the simulated site, gzipped in fixtures/.

`python -m tests.documents.record_fixtures` records them again (it runs the lab); loading them here
needs no lab, so the documents tests share no address or port with the scans."""

from __future__ import annotations

import gzip
from pathlib import Path

from drivers.schema import Snapshot

FIXTURES = Path(__file__).with_name("fixtures")


def fixture_path(site: str, when: str) -> Path:
    return FIXTURES / f"{site}-{when}.json.gz"


def load_fixture(site: str, when: str) -> Snapshot:
    """A recorded snapshot: `when` is 'baseline' (as installed) or 'current' (after the changes)."""
    return Snapshot.model_validate_json(gzip.decompress(fixture_path(site, when).read_bytes()))
