"""Issue #14, class 3 on the agent's side: one bad snapshot never blocks a site's deliveries.

Against a real collector process on PostgreSQL (where a NUL used to be a 500, retried forever with
the good snapshot queued behind it), and through a real HTTP hop that answers 500 for one body (a
collector bug we cannot fix from the agent): the poisoned item is held aside, the next one is
delivered, and `asbuilt agent status` shows what is held and why. A refused token (401) is not
tried again until the agent is enrolled again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from typer.testing import CliRunner

from agent.push import PushClient, drain
from agent.service import AgentService, AgentServiceConfig, write_token
from agent.service_cli import app as agent_app
from agent.service_cli import enrol_agent
from agent.spool import HOLD_AFTER, Spool
from tests.agent.test_push import HoldingProxy, snapshot, stored_versions
from tests.e2e.collectorproc import CollectorProcess, postgres_database

SITE = "depot-nord"


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    with postgres_database("asb_hostile") as url, CollectorProcess(tmp_path / "collector", url) as c:
        yield c


@pytest.fixture
async def token(collector: CollectorProcess) -> str:
    data = await enrol_agent(collector.url, collector.enrol_code(SITE, customer="Meridian"), "agent")
    return str(data["token"])


def _spool_raw(spool: Spool, document: dict, stamp: int) -> Path:
    """A spooled item written as raw bytes: what an older agent (or a driver bug) put on disk."""
    path = spool.pending_dir / f"{stamp:015d}-{'a' * 63}{stamp % 10}.json.gz"
    path.write_bytes(gzip.compress(json.dumps(document, ensure_ascii=True).encode(), mtime=0))
    return path


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("where", "value"),
    [("identity.model", "DS-2CD\x002143"), ("identity.serial", "\ud800"), ("uptime_s", 2**70)],
    ids=["nul", "lone-surrogate", "beyond-64-bits"],
)
async def test_a_value_postgres_cannot_store_is_held_aside_and_the_next_snapshot_arrives(
    collector: CollectorProcess, token: str, tmp_path: Path, where: str, value: object
):
    spool = Spool(tmp_path / "spool")
    bad = json.loads(snapshot(1).canonical_json())
    node = bad["devices"][0]
    *parents, leaf = where.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    poisoned = _spool_raw(spool, bad, 1)
    good = spool.put(snapshot(2))
    async with PushClient(collector.url, token) as client:
        report = await drain(spool, client, attempts=2, base_delay_s=0.01)
    assert len(report.delivered) == 1 and report.remaining == 0
    assert [v["content_hash"] for v in stored_versions(collector)] == [good.content_hash]
    held = dict((p.name, reason) for p, reason in spool.held())
    assert poisoned.name in held and held[poisoned.name].startswith("HTTP 422")
    assert "devices[0]" in held[poisoned.name]  # the collector named the field


class FailingHop(HoldingProxy):
    """A real HTTP hop in front of the collector that answers 500 for one body, forwards the rest."""

    def __init__(self, upstream: str, poisoned_key: str) -> None:
        super().__init__(upstream, forward_first=True)
        self.poisoned_key = poisoned_key
        self.failures = 0
        self.release.set()  # never holds anything

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Idempotency-Key") == self.poisoned_key:
            self.failures += 1
            return web.json_response({"error": {"status": 500, "code": "internal_error"}}, status=500)
        return await super().handle(request)


@pytest.mark.postgres
async def test_a_snapshot_failing_again_and_again_is_held_and_shown_in_status(
    collector: CollectorProcess, token: str, tmp_path: Path
):
    state = tmp_path / "state"
    spool = Spool(state / "spool")
    first = spool.put(snapshot(3))
    second = spool.put(snapshot(4))
    key = hashlib.sha256(first.body()).hexdigest()  # what is pushed: the spool keeps it sealed
    async with FailingHop(collector.url, key) as hop:
        config = AgentServiceConfig(
            site=SITE,
            collector_url=f"http://127.0.0.1:{hop.port}",
            state_dir=state,
            schedule={"interval_minutes": 60},
            scan={"scopes": ["127.0.0.1/32"]},
            push={"attempts": 2, "base_delay_s": 0.01, "max_delay_s": 0.02},
        )
        write_token(config.token_path, token)
        service = AgentService(config, scan=None)  # type: ignore[arg-type]  # delivery only
        for run in range(1, HOLD_AFTER + 1):
            report = await service.deliver()
            assert report is not None
            if run < HOLD_AFTER:  # order kept: the second waits behind the failing first
                assert report.delivered == [] and spool.depth() == 2
        assert len(report.held) == 1 and len(report.delivered) == 1 and spool.depth() == 0
        assert hop.failures == 2 * HOLD_AFTER
    assert [v["content_hash"] for v in stored_versions(collector)] == [second.content_hash]

    config_file = tmp_path / "agent.yaml"
    config_file.write_text(yaml.safe_dump(json.loads(config.model_dump_json())))
    shown = CliRunner().invoke(agent_app, ["status", "--config", str(config_file)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "1 held aside" in shown.output
    assert first.content_hash[:16] in shown.output and "held after 3 failed deliveries" in shown.output


@pytest.mark.postgres
async def test_a_refused_token_is_not_tried_again_until_the_agent_is_enrolled_again(
    collector: CollectorProcess, tmp_path: Path
):
    state = tmp_path / "state"
    config = AgentServiceConfig(
        site=SITE,
        collector_url=collector.url,
        state_dir=state,
        schedule={"interval_minutes": 60},
        scan={"scopes": ["127.0.0.1/32"]},
        push={"attempts": 3, "base_delay_s": 0.01},
    )
    write_token(config.token_path, "asb_agent_not-a-real-token")
    service = AgentService(config, scan=None)  # type: ignore[arg-type]
    service.spool.put(snapshot(5))
    report = await service.deliver()
    assert report is not None and report.unauthorized and "enrol" in (report.last_error or "")
    assert await service.deliver() is None  # not tried: same refused token
    assert "refused this agent's token" in service.status.read()["last_push"]["error"]
    # enrolled again: a new token, delivered at once
    data = await enrol_agent(collector.url, collector.enrol_code(SITE, customer="Meridian"), "agent")
    write_token(config.token_path, str(data["token"]))
    report = await service.deliver()
    assert report is not None and len(report.delivered) == 1 and service.spool.depth() == 0
    # the status file is owner-only whatever the umask (class 8)
    assert stat.S_IMODE(config.status_path.stat().st_mode) == 0o600
