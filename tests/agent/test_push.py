"""Delivery to a real collector process: outages, lost answers, a killed agent, refused uploads.

The collector runs as `asbuilt collector serve` in a subprocess (SQLite in a temp dir; see
tests/e2e/collectorproc.py) so that it can really go down and come back. Nothing here is mocked:
the agent talks HTTP to the real service.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import signal
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from agent.push import Outcome, PushClient, drain
from agent.service_cli import enrol_agent
from agent.spool import Spool
from drivers import schema as s
from tests.e2e.collectorproc import CollectorProcess, HttpError, free_port

SITE = "depot-nord"


def snapshot(n: int, site: str = SITE) -> s.Snapshot:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    return s.Snapshot(
        site=s.SiteRef(site_id=site),
        scan=s.ScanInfo(agent_version="test", started_at=now, finished_at=now),
        devices=tuple(
            s.Device(
                role="camera",
                identity=s.DeviceIdentity(mac=f"ac:cc:8e:00:{n:02x}:{i:02x}", serial=f"S{n}-{i}"),
            )
            for i in range(3)
        ),
    )


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    with CollectorProcess(tmp_path / "collector") as c:
        yield c


def stored_versions(collector: CollectorProcess, site: str = SITE) -> list[dict[str, object]]:
    try:
        return list(collector.get(f"/api/v1/sites/{site}/versions")["versions"])
    except HttpError as exc:
        if exc.status == 404:
            return []
        raise


@pytest.fixture
async def token(collector: CollectorProcess) -> str:
    data = await enrol_agent(collector.url, collector.enrol_code(SITE, customer="Meridian"), "test-agent")
    assert data["site_id"] == SITE
    return str(data["token"])


async def test_spooled_snapshots_arrive_in_order_and_only_once(
    collector: CollectorProcess, token: str, tmp_path: Path
):
    spool = Spool(tmp_path / "spool")
    first, second = spool.put(snapshot(1)), spool.put(snapshot(2))
    async with PushClient(collector.url, token) as client:
        report = await drain(spool, client)
        assert [r.outcome for r in report.delivered] == [Outcome.DELIVERED, Outcome.DELIVERED]
        assert spool.depth() == 0
        # the answer to a push was lost and the agent sends it again: harmless
        replay = await client.push(spool.put(snapshot(1)))
        assert replay.outcome is Outcome.DELIVERED
    versions = stored_versions(collector)
    assert sorted(v["content_hash"] for v in versions) == sorted([first.content_hash, second.content_hash])


async def test_collector_down_during_push_then_snapshot_arrives_exactly_once(
    collector: CollectorProcess, token: str, tmp_path: Path
):
    spool = Spool(tmp_path / "spool")
    collector.stop()
    item = spool.put(snapshot(3))
    async with PushClient(collector.url, token, timeout_s=3) as client:
        report = await drain(spool, client, attempts=2, base_delay_s=0.05)
    assert report.delivered == [] and report.remaining == 1 and report.last_error
    assert spool.pending()[0].content_hash == item.content_hash  # still on disk

    collector.start()  # back, same database
    async with PushClient(collector.url, token) as client:
        report = await drain(spool, client, attempts=3, base_delay_s=0.05)
        assert len(report.delivered) == 1 and report.remaining == 0
        assert (await drain(spool, client)).delivered == []
    versions = stored_versions(collector)
    assert [v["content_hash"] for v in versions] == [item.content_hash]


class HoldingProxy:
    """A real HTTP hop between agent and collector that can hold a request before or after the
    collector sees it — to kill the agent at exactly that moment."""

    def __init__(self, upstream: str, *, forward_first: bool) -> None:
        self.upstream = upstream
        self.forward_first = forward_first
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.port = free_port()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # aiohttp has already undone the gzip encoding
        drop = ("host", "content-length", "content-encoding")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in drop}
        if not self.forward_first:
            self.arrived.set()
            await self.release.wait()
            if request.transport is None or request.transport.is_closing():
                raise ConnectionResetError("the agent is gone; the request never reaches the collector")
        async with (
            aiohttp.ClientSession() as http,
            http.request(request.method, self.upstream + request.path_qs, data=body, headers=headers) as up,
        ):
            payload, status = await up.read(), up.status
            self.upstream_status = status
        if self.forward_first:
            self.arrived.set()
            await self.release.wait()
        return web.Response(body=payload, status=status, content_type="application/json")

    async def __aenter__(self) -> HoldingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self.runner.cleanup()


AGENT_PUSH = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from agent.push import PushClient, drain
    from agent.spool import Spool
    async def main():
        async with PushClient(sys.argv[1], sys.argv[2], timeout_s=60) as client:
            await drain(Spool(Path(sys.argv[3])), client, attempts=1)
    asyncio.run(main())
    """
)


@pytest.mark.parametrize(
    "collector_saw_it", [False, True], ids=["killed-before-store", "killed-before-answer"]
)
async def test_agent_killed_mid_push_loses_nothing(
    collector: CollectorProcess, token: str, tmp_path: Path, collector_saw_it: bool
):
    spool_dir = tmp_path / "spool"
    item = Spool(spool_dir).put(snapshot(4))
    async with HoldingProxy(collector.url, forward_first=collector_saw_it) as proxy:
        agent = await asyncio.create_subprocess_exec(
            sys.executable, "-c", AGENT_PUSH, f"http://127.0.0.1:{proxy.port}", token, str(spool_dir)
        )
        await asyncio.wait_for(proxy.arrived.wait(), 30)
        agent.send_signal(signal.SIGKILL)  # kill -9 while its push is in flight
        await agent.wait()
    spool = Spool(spool_dir)
    assert [i.content_hash for i in spool.pending()] == [item.content_hash], "the snapshot must survive"
    assert getattr(proxy, "upstream_status", None) == (201 if collector_saw_it else None)
    assert len(stored_versions(collector)) == (1 if collector_saw_it else 0)

    async with PushClient(collector.url, token) as client:  # the agent comes back and drains
        report = await drain(spool, client)
    assert len(report.delivered) == 1 and spool.depth() == 0
    versions = stored_versions(collector)
    assert [v["content_hash"] for v in versions] == [item.content_hash]  # exactly once


async def test_refused_uploads_are_kept_aside_and_nothing_is_stored(
    collector: CollectorProcess, token: str, tmp_path: Path
):
    spool = Spool(tmp_path / "spool")
    good = spool.put(snapshot(5))
    # a corrupt spool file (disk trouble, an old agent): valid gzip, invalid snapshot
    bad_path = spool.pending_dir / f"{0:015d}-{'0' * 64}.json.gz"
    bad_path.write_bytes(gzip.compress(json.dumps({"schema_version": 1, "site": {"site_id": SITE}}).encode()))
    other_site = spool.put(snapshot(6, site="someone-else"))
    async with PushClient(collector.url, token) as client:
        report = await drain(spool, client)
    assert len(report.delivered) == 1 and report.remaining == 0
    rejected = {p.name for p in spool.rejected()}
    assert bad_path.name in rejected
    reason = (spool.rejected_dir / (bad_path.name + ".reason.txt")).read_text()
    assert reason.startswith("HTTP 422") and "scan" in reason  # names the missing field
    # a snapshot for another site is refused (403) for good: kept aside with the reason
    assert other_site.path.name in rejected
    versions = stored_versions(collector)
    assert [v["content_hash"] for v in versions] == [good.content_hash]


async def test_revoked_token_keeps_snapshots_waiting(collector: CollectorProcess, token: str, tmp_path: Path):
    agents = collector.get(f"/api/v1/sites/{SITE}")["agents"]
    revoked = collector.request("DELETE", f"/api/v1/agents/{agents[0]['agent_id']}")
    assert revoked["revoked_at"] is not None
    spool = Spool(tmp_path / "spool")
    spool.put(snapshot(7))
    async with PushClient(collector.url, token) as client:
        report = await drain(spool, client)
    assert report.remaining == 1 and report.last_error and "401" in report.last_error
    assert spool.rejected() == []
