"""Records built from real scans of the simulated site (fixtures recorded by record_fixtures.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from collector.diff import SiteDiff, diff_snapshots
from collector.documents import AsBuiltRecord, BaselineInfo, SiteInfo, build_record
from drivers.schema import Snapshot
from lab.site import load_site
from tests.documents.snapshots import load_fixture

CUSTOMER_JA = "株式会社メリディアン物流"
SITE_JA = "北デポ（第二倉庫）"
GENERATED_AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
APPROVED_AT = datetime(2026, 11, 20, 16, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Site:
    name: str
    baseline: Snapshot
    current: Snapshot
    diff: SiteDiff
    record: AsBuiltRecord

    def lab_secrets(self) -> set[str]:
        """Every password, community and enable secret the simulated site uses."""
        lab = load_site(self.name)
        values = {d.credential.password for d in lab.devices}
        for s in lab.switches:
            values |= {s.credential.password, s.snmp_community, s.enable_secret}
            values |= {s.snmp_v3_auth_key, s.snmp_v3_priv_key}
        return {v for v in values if v and len(v) >= 6}


def make_record(current: Snapshot, diff: SiteDiff | None, **site: str) -> AsBuiltRecord:
    return build_record(
        current,
        SiteInfo(customer=CUSTOMER_JA, site_id=current.site.site_id, site_name=SITE_JA, version=2, **site),
        generated_at=GENERATED_AT,
        baseline=BaselineInfo(version=1, approved_by="Kenji Sato", approved_at=APPROVED_AT) if diff else None,
        diff=diff,
    )


def _site(name: str) -> Site:
    baseline, current = load_fixture(name, "baseline"), load_fixture(name, "current")
    diff = diff_snapshots(baseline, current)
    return Site(name, baseline, current, diff, make_record(current, diff))


@pytest.fixture(scope="session")
def small() -> Site:
    return _site("small")


@pytest.fixture(scope="session")
def large() -> Site:
    return _site("large")
