"""Issue #14, classes 4 and 5: odd parameters are 4xx with the error envelope, never a 500; an
Idempotency-Key reused with another body is refused; a client leaving mid-upload is a quiet line."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from collector.app import create_app
from collector.config import CollectorConfig
from collector.enrolment import issue_code
from collector.keys import sessions_key
from tests.collector.conftest import ADMIN_TOKEN, Api, unique_site
from tests.collector.factory import T0, depot, edit


def _envelope(status: int, body: object) -> dict:
    assert isinstance(body, dict) and "error" in body and body["request_id"], body
    assert body["error"]["status"] == status
    return body["error"]


async def _site_with_a_version(api: Api) -> tuple[str, str]:
    site = unique_site()
    _, token = await api.enrol(site)
    status, body = await api.push(token, depot(site_id=site))
    assert status == 201, body
    return site, token


BIG = ["2147483648", "9223372036854775808", "99999999999999999999", "9" * 5000, "-1", "1e3", "٣", "0x10"]


@pytest.mark.parametrize("number", BIG, ids=lambda n: n[:12])
async def test_ids_and_limits_beyond_integer_columns_are_422(api: Api, number: str):
    site, _ = await _site_with_a_version(api)
    paths = [
        f"/api/v1/sites/{site}/versions/{number}",
        f"/api/v1/sites/{site}/versions/{number}/snapshot.json",
        f"/api/v1/sites/{site}/versions?limit={number}",
        f"/api/v1/sites/{site}/versions?offset={number}",
        f"/api/v1/sites/{site}/diff?from=1&to={number}",
        f"/api/v1/sites/{site}/diff/baseline?version={number}",
    ]
    for path in paths:
        status, body = await api.get(path)
        assert 400 <= status < 500, (path, status, body)
        _envelope(status, body)
    resp = await api.client.delete(
        f"/api/v1/agents/{number}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert 400 <= resp.status < 500
    _envelope(resp.status, await resp.json())
    # the same in a JSON body
    resp = await api.client.post(
        f"/api/v1/sites/{site}/baseline",
        data=b'{"version": '
        + (number.encode() if number.lstrip("-").isdigit() else b'"' + number.encode() + b'"')
        + b"}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    assert 400 <= resp.status < 500, await resp.text()
    _envelope(resp.status, await resp.json())


@pytest.mark.parametrize(
    "slug", ["a%00b", "%00", "x" * 300, "a%ED%A0%80b"], ids=["nul", "only-nul", "long", "surrogate"]
)
async def test_odd_site_ids_in_the_path_are_404_not_500(api: Api, slug: str):
    for path in (f"/api/v1/sites/{slug}", f"/api/v1/sites/{slug}/versions", f"/api/v1/sites/{slug}/baseline"):
        status, body = await api.get(path)
        assert 400 <= status < 500, (path, status, body)


async def test_nul_in_a_search_term_is_422(api: Api):
    from tests.collector.test_web_ui import login

    await login(api.client)  # the client keeps the session cookie
    for term in ("a%00b", "%00", "%00%00x"):
        resp = await api.client.get(f"/?q={term}")
        assert resp.status == 422, (term, resp.status)


@pytest.mark.parametrize("field", ["agent_name", "code"], ids=["nul-agent-name", "nul-code"])
async def test_nul_in_a_json_body_is_422(api: Api, field: str):
    site = unique_site()
    code = await api.issue_code(site)
    body = {"code": code, "agent_name": "box", field: "ab\x00cd"}
    resp = await api.client.post(
        "/api/v1/enrol", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 422
    assert _envelope(422, await resp.json())["field"] == field


@pytest.mark.parametrize(
    "key", ["clé-ünïcode", "a b\tc", "x" * 201, "日本"], ids=["non-ascii", "controls", "long", "cjk"]
)
async def test_a_non_ascii_idempotency_key_is_422(api: Api, key: str):
    site = unique_site()
    _, token = await api.enrol(site)
    snap = depot(site_id=site)
    raw = snap.canonical_json().encode()
    resp = await api.client.post(
        "/api/v1/snapshots",
        data=raw,
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("Content-Type", "application/json"),
            ("Idempotency-Key", key.encode("utf-8").decode("latin-1")),
        ],
    )
    assert resp.status == 422, await resp.text()
    assert _envelope(422, await resp.json())["field"] == "Idempotency-Key"
    assert await api.versions(site) == []


async def test_an_idempotency_key_reused_with_another_body_is_422_not_a_new_version(api: Api):
    site = unique_site()
    _, token = await api.enrol(site)
    first = depot(site_id=site)
    status, body = await api.push(token, first, key="key-1")
    assert status == 201, body
    # same key, really different content: refused, no version 2
    other = edit(first, scan=edit(first.scan, started_at=T0.replace(hour=5), finished_at=T0.replace(hour=5)))
    other = other.model_copy(update={"devices": first.devices[:-1]})
    status, body = await api.push(token, other, key="key-1")
    assert (status, _envelope(422, body)["code"]) == (422, "idempotency_key_reused")
    assert [v["version"] for v in await api.versions(site)] == [1]
    # same key, same body: the recorded answer
    status, body = await api.push(token, first, key="key-1")
    assert (status, body["reason"]) == (200, "replay")
    # a new key for the new body: version 2
    status, body = await api.push(token, other, key="key-2")
    assert status == 201 and body["version"] == 2


@pytest.mark.parametrize("slug", ["a/b", "two words", " lead", "tab\there", "", "é", ".hidden", "x" * 201])
async def test_site_ids_with_slashes_or_spaces_are_refused_at_creation(api: Api, slug: str):
    with pytest.raises(ValueError, match="site id"):
        await api.issue_code(slug)


def test_the_enrol_code_command_refuses_a_bad_site_id(tmp_path):
    from typer.testing import CliRunner

    from asbuilt.cli import app

    result = CliRunner().invoke(
        app, ["collector", "enrol-code", "--customer", "C", "--site", "a/b", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "site id" in result.output


async def test_a_client_leaving_mid_upload_is_one_quiet_log_line(
    config: CollectorConfig, caplog: pytest.LogCaptureFixture
):
    # Served as `asbuilt collector serve` does (web.run_app): handlers are not cancelled when the
    # client leaves, so the read fails with "Connection lost" (aiohttp's TestServer cancels instead).
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    try:
        site = unique_site()
        async with runner.app[sessions_key]() as session, session.begin():
            code, _ = await issue_code(
                session, customer="C", site_slug=site, now=datetime.now(UTC), ttl=timedelta(hours=1)
            )
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"http://127.0.0.1:{port}/api/v1/enrol", json={"code": code, "agent_name": "a"}
            )
            token = (await resp.json())["token"]
        caplog.set_level(logging.INFO)
        for _ in range(3):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                (
                    "POST /api/v1/snapshots HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                    "Content-Length: 200000\r\n\r\n"
                ).encode()
                + b'{"schema_version": 1, "devices": ['
                + b"{}," * 2000
            )
            await writer.drain()
            await asyncio.sleep(0.3)  # the handler is now waiting for the rest of the body
            writer.close()
            await writer.wait_closed()
        await asyncio.sleep(0.5)
    finally:
        await runner.cleanup()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records), "no traceback"
    quiet = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(quiet) == 3 and all(r.levelno == logging.INFO for r in quiet)
