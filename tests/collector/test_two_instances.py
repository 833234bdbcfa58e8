"""Two real `asbuilt collector serve --reuse-port` processes on one port and one PostgreSQL:
every distinct snapshot pushed becomes exactly one version, none lost, none doubled, and a
retried push (same Idempotency-Key) is a replay whichever process it reaches."""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collector.db.migrate import upgrade
from collector.db.session import make_engine, make_sessionmaker
from collector.enrolment import issue_code
from tests.collector.factory import large_site
from tests.e2e.collectorproc import CollectorProcess, free_port, postgres_database

SITES = 2
PER_SITE = 12


def push(url: str, token: str, body: bytes, key: str) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url + "/api/v1/snapshots", data=body, method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode(errors="replace")[:500]}


def test_two_processes_on_one_port_lose_and_double_nothing(tmp_path: Path):
    port = free_port()
    env = {"ASBUILT_VAULT_KEY_FILE": str(tmp_path / "vault.keys")}
    with postgres_database("asb_two") as url:
        asyncio.run(_migrate(url))  # once: both processes then start together, neither waits
        one, two = (
            CollectorProcess(tmp_path / name, url, env, port=port, serve_args=("--reuse-port",))
            for name in "ab"
        )
        try:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(CollectorProcess.start, (one, two)))
            assert one.proc is not None and two.proc is not None and one.proc.pid != two.proc.pid
            tokens = {}
            for site, code in asyncio.run(_codes(url, [f"two-{s}" for s in range(SITES)])).items():
                answer = one.request("POST", "/api/v1/enrol", {"code": code, "agent_name": site}, token=None)
                tokens[site] = answer["token"]
            bodies = {
                site: [
                    large_site(10, site_id=site, seed=k).canonical_json().encode() for k in range(PER_SITE)
                ]
                for site in tokens
            }

            def site_pusher(site: str) -> list[tuple[int, int, int, int]]:
                out = []
                for body in bodies[site]:
                    key = hashlib.sha256(body).hexdigest()
                    first, answer = push(one.url, tokens[site], body, key)
                    again, replay = push(one.url, tokens[site], body, key)  # a retry: maybe the other one
                    assert first == 201, answer
                    assert again == 200 and replay["reason"] == "replay", replay
                    out.append((first, answer["version"], again, replay["version"]))
                return out

            with ThreadPoolExecutor(SITES) as pool:
                results = dict(zip(tokens, pool.map(site_pusher, tokens), strict=True))

            for site, rows in results.items():
                assert [r[1] for r in rows] == list(range(1, PER_SITE + 1))  # one version per snapshot
                assert all(r[1] == r[3] for r in rows)  # the replay named the same version
                versions = one.get(f"/api/v1/sites/{site}/versions?limit=100")["versions"]
                assert sorted(v["version"] for v in versions) == list(range(1, PER_SITE + 1))
                assert len({v["content_hash"] for v in versions}) == PER_SITE
        finally:
            one.stop()
            two.stop()
        served = [proc.log.read_text(errors="replace").count("POST /api/v1/snapshots") for proc in (one, two)]
    assert sum(served) == 2 * SITES * PER_SITE
    assert min(served) > 0, served  # the kernel spread connections over both processes


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _codes(url: str, sites: list[str]) -> dict[str, str]:
    """Enrolment codes, made as `asbuilt collector enrol-code` makes them (without its start-up)."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            now = datetime.now(UTC)
            return {
                site: (await issue_code(db, customer="Two", site_slug=site, now=now, ttl=timedelta(hours=1)))[
                    0
                ]
                for site in sites
            }
    finally:
        await engine.dispose()


def test_reuse_port_is_refused_on_sqlite(tmp_path: Path):
    from typer.testing import CliRunner

    from collector.cli import collector_app

    result = CliRunner().invoke(
        collector_app, ["serve", "--reuse-port", "--port", "0", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output
