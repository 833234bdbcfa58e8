"""Retention: the one rule of what is protected, and the durable job that prunes the rest."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select
from typer.testing import CliRunner

from collector.cli import collector_app
from collector.config import CollectorConfig
from collector.db import storage
from collector.db.models import AuditEvent, Baseline, IngestRequest, SnapshotVersion
from collector.db.record_tables import ServiceVisit
from collector.db.session import make_sessionmaker
from collector.enrolment import issue_code
from collector.jobs.queue import JobQueue
from collector.retention import VersionFacts, protected_versions
from tests.collector.conftest import unique_site
from tests.collector.factory import depot
from tests.collector.test_jobs import queue  # noqa: F401  the fixture: this process's worker running

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)
CHANGED = {"counts": {"changed": 1}}
SAME = {"counts": {"changed": 0, "added": 0}}


def test_protected_versions_is_the_one_rule():
    facts = [
        VersionFacts(1, OLD, True, None),
        VersionFacts(2, OLD, False, 1),
        VersionFacts(3, OLD, False, 1),
        VersionFacts(4, OLD, False, 1),
        VersionFacts(5, OLD, True, 4),  # changed something, diffed against 4: 4 stays with it
        VersionFacts(6, OLD, False, 1),
        VersionFacts(7, OLD, False, 1),
    ]
    keep = protected_versions(latest=7, baseline=1, approved=[2], visited=[], exported=[6], versions=facts)
    assert keep == {1, 2, 4, 5, 6, 7}  # only 3 may go
    assert protected_versions(
        latest=7, baseline=None, approved=[], visited=[3], exported=[], versions=facts
    ) >= {3}


async def test_the_retention_job_prunes_only_what_the_policy_allows(
    queue: JobQueue,  # noqa: F811
    config: CollectorConfig,
):
    from collector.db.session import make_engine

    engine = make_engine(config.db_url)
    sessions = make_sessionmaker(engine)
    blob = storage.encode_snapshot(depot())
    # version: (summary, against, seen_last_at)
    plan = {
        1: (None, None, OLD),
        2: (CHANGED, 1, OLD),
        3: (SAME, 1, OLD),  # pruned
        4: (SAME, 1, OLD),  # exported
        5: (SAME, 1, OLD),  # in a service visit
        6: (SAME, 1, NOW),  # identical but seen recently
        7: (SAME, 1, OLD),  # version 8 was diffed against it
        8: (CHANGED, 7, OLD),
        9: (SAME, 1, OLD),  # pruned
        10: (SAME, 1, OLD),  # the latest
    }
    try:
        async with sessions() as db, db.begin():
            _, site = await issue_code(
                db, customer="Meridian", site_slug=unique_site(), now=NOW, ttl=timedelta(hours=1)
            )
            assert site.id is not None
            for n, (summary, against, seen) in plan.items():
                db.add(SnapshotVersion(
                    site_id=site.id, version=n, content_hash=f"{n:064x}", schema_version=1, received_at=seen,
                    seen_last_at=seen, document=blob, diff_summary=summary, diff_against_version=against,
                    diff_against_kind=None if against is None else "previous",
                ))  # fmt: skip
            site.latest_version, site.baseline_version = 10, 1
            db.add(site)
            db.add(Baseline(site_id=site.id, version=1, approved_by="ana"))
            db.add(AuditEvent(kind="export.download", actor="ana", actor_kind="user", site_id=site.id,
                              detail={"version": 4, "format": "pdf"}))  # fmt: skip
            db.add(ServiceVisit(site_id=site.id, visited_on=date(2026, 1, 5), technician="ana", reason="PoE",
                                version_numbers=[5], created_by="ana"))  # fmt: skip
            for n, at, key in ((3, OLD, "k3"), (2, OLD, "k2"), (10, NOW, "k10")):
                db.add(IngestRequest(site_id=site.id, idempotency_key=key, body_hash="0" * 64, version=n,
                                     created=False, created_at=at))  # fmt: skip
        site_id = site.id

        assert await queue.defer("retention.prune", {}) is not None
        deadline = time.monotonic() + 30
        while True:
            async with sessions() as db:
                left = set(
                    (
                        await db.exec(
                            select(SnapshotVersion.version).where(SnapshotVersion.site_id == site_id)
                        )
                    ).all()
                )
                keys = set(
                    (
                        await db.exec(
                            select(IngestRequest.idempotency_key).where(col(IngestRequest.site_id) == site_id)
                        )
                    ).all()
                )
            if left != set(plan) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # the job's last transaction (push records)
        async with sessions() as db:
            keys = set(
                (
                    await db.exec(
                        select(IngestRequest.idempotency_key).where(col(IngestRequest.site_id) == site_id)
                    )
                ).all()
            )
        assert left == set(plan) - {3, 9}
        assert keys == {"k10"}  # k3 went with its version, k2 by age
    finally:
        await engine.dispose()


def test_cli_queues_one_retention_pass(tmp_path):
    runner = CliRunner()
    where = ["--data-dir", str(tmp_path)]
    assert runner.invoke(collector_app, ["migrate", *where]).exit_code == 0
    first = runner.invoke(collector_app, ["jobs", "retention", *where])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().isdigit()
    again = runner.invoke(collector_app, ["jobs", "retention", *where])  # one is already waiting
    assert again.exit_code == 0 and "already waiting" in again.stdout
