"""Snapshot assembly: deterministic, de-duplicated, hashed, and free of credential secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.correlate import correlate
from agent.snapshot import SnapshotParts, build_snapshot, fold_problems, scan_info
from drivers.schema import ConfigText, Problem, ProblemKind, SiteRef, Snapshot, Stage
from tests.agent.synth import SmallSite

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def make(
    order: int = 1,
    when: datetime = T0,
    configs: list[ConfigText] | None = None,
    secrets: tuple[str, ...] = (),
) -> Snapshot:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    problems = [
        Problem(
            target="10.77.0.22",
            driver="onvif",
            stage=Stage.COLLECT,
            kind=ProblemKind.AUTH,
            message="refused 'a'",
        ),
        Problem(
            target="10.77.0.22",
            driver="onvif",
            stage=Stage.COLLECT,
            kind=ProblemKind.AUTH,
            message="refused 'b'",
        ),
    ]
    parts = SnapshotParts(
        devices=list(result.devices)[::order],
        mac_table=site.mac_table[::order],
        lldp_neighbors=site.lldp[::order],
        port_bindings=list(result.port_bindings)[::order],
        configs=configs or [],
        problems=problems[::order],
    )
    info = scan_info(when, when + timedelta(seconds=3), ["10.77.0.0/24"], ["wsd", "arp"])
    return build_snapshot(SiteRef(site_id="depot"), info, parts, secrets)


def test_same_content_gives_the_same_json_and_hash_whatever_the_order() -> None:
    a, b = make(1), make(-1)
    assert a.content_hash() == b.content_hash()
    later = make(1, when=T0 + timedelta(hours=1))
    assert later.content_hash() == a.content_hash()  # scan times are volatile
    assert later.canonical_json() != a.canonical_json()


def test_duplicate_problems_fold_into_one() -> None:
    snapshot = make()
    (problem,) = snapshot.problems
    assert problem.message == "refused 'a'; refused 'b'"
    assert fold_problems([problem, problem]) == [problem]


def test_a_secret_that_slipped_through_is_removed_and_reported() -> None:
    leaked = ConfigText(
        device_id="mac:00:1b:54:c2:10:00", kind="running-config", text="username admin secret C1sco-Depot!\n"
    )
    snapshot = make(configs=[leaked], secrets=("C1sco-Depot!", "x"))
    text = snapshot.canonical_json()
    assert "C1sco-Depot!" not in text
    assert "username admin secret <removed>" in snapshot.configs[0].text
    assert any(p.stage is Stage.SNAPSHOT and "configs[0].text" in p.message for p in snapshot.problems)
    assert Snapshot.model_validate_json(text) == snapshot


def test_clean_snapshot_is_untouched_by_the_secret_check() -> None:
    assert make(secrets=("not-present-anywhere",)) == make()
