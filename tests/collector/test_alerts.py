"""Change alerts end to end with real parts: a real aiosmtpd server on loopback that requires
STARTTLS (with a throwaway self-signed certificate made here), a real aiohttp server that receives
the signed webhooks, and a dead port for an endpoint that is down. Plus the overdue-scan alert.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import col, select, update

from collector.alerts import signing
from collector.app import create_app
from collector.auth import cli_admin
from collector.config import CollectorConfig
from collector.db.alert_tables import AlertDelivery, AlertEvent
from collector.db.models import SnapshotVersion
from collector.jobs.queue import jobs_key
from collector.keys import secret_box_key, sessions_key
from collector.services import accounts, alerts, people
from collector.services.context import Ctx
from collector.services.sites import find_site
from tests.collector.conftest import ADMIN_TOKEN, Api, add_user, unique_name, unique_site
from tests.collector.factory import device, edit, with_devices
from tests.collector.test_web_ui import site_v1

WAIT_S = 25.0

# ---------------------------------------------------------------- real parts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (its own CA): the client verifies it, nothing is disabled."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asbuilt test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    messages: list[tuple[list[str], email.message.Message, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        self.messages.append((list(envelope.rcpt_tos), parsed, session.ssl is not None))
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    ca_file: Path
    mailbox: Mailbox


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield SmtpServer(port, cert, mailbox)
    finally:
        controller.stop()


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver("")

    async def hook(request: web.Request) -> web.Response:
        box.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    box.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield box
    finally:
        await runner.cleanup()


def alert_config(config: CollectorConfig, smtp: SmtpServer) -> CollectorConfig:
    return config.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_ca_file": smtp.ca_file,
                "smtp_sender": "alerts@asbuilt.test", "webhook_timeout_s": 3.0}
    )  # fmt: skip


@pytest.fixture
async def alert_api(config: CollectorConfig, smtp: SmtpServer) -> AsyncIterator[Api]:
    async with TestClient(TestServer(create_app(alert_config(config, smtp)), host="127.0.0.1")) as client:
        yield Api(client)


async def user_ctx(app: Any, name: str) -> Ctx:
    async with app[sessions_key]() as db:
        user = await people.user_by_name(db, name)
        assert user is not None
        return Ctx(await accounts.identity_for_user(db, user))


async def wait_for(check: Any, what: str, limit_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def deliveries_of(app: Any, site_id: int) -> list[AlertDelivery]:
    async with app[sessions_key]() as db:
        rows = await db.exec(
            select(AlertDelivery)
            .join(AlertEvent, col(AlertEvent.id) == AlertDelivery.event_id)
            .where(AlertEvent.site_id == site_id)
            .order_by(col(AlertDelivery.id))
        )
        return list(rows.all())


async def site_id_of(app: Any, slug: str) -> int:
    async with app[sessions_key]() as db:
        site, _ = await find_site(db, Ctx(cli_admin("t")), slug)
        assert site.id is not None
        return site.id


def one_firmware_change(site: str) -> tuple[Any, Any]:
    v1 = site_v1(site)
    gate = edit(device(v1, "cam-gate"), identity__firmware="V5.8.0 build 230101")
    return v1, with_devices(v1, gate)


async def push_timed(api: Api, token: str, snap: Any) -> float:
    start = time.perf_counter()
    status, body = await api.push(token, snap)
    elapsed = time.perf_counter() - start
    assert status == 201, body
    return elapsed


# ---------------------------------------------------------------- the tests


async def test_one_changed_camera_one_mail_one_signed_webhook_dead_endpoint_retried(
    alert_api: Api, smtp: SmtpServer, receiver: Receiver
) -> None:
    api, app = alert_api, alert_api.app
    customer = unique_name("Meridian")
    site = unique_site()
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "a"})
    token = (await resp.json())["token"]
    v1, v2 = one_firmware_change(site)

    # Before any endpoint exists: the ingest time of a changed scan, for comparison.
    quiet_site = unique_site()
    code = await api.issue_code(quiet_site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "q"})
    quiet_token = (await resp.json())["token"]
    qv1, qv2 = one_firmware_change(quiet_site)
    await push_timed(api, quiet_token, qv1)
    no_endpoint_s = await push_timed(api, quiet_token, qv2)

    subscriber = await add_user(app, "technician", customers=(customer,))
    bystander = await add_user(app, "technician", customers=(customer,))  # in scope, not subscribed
    admin = Ctx(cli_admin("test"))
    async with app[sessions_key]() as db, db.begin():
        other = await people.create_customer(db, admin, unique_name("Other-co"), None)
    outsider = await add_user(app, "technician", customers=(other.name,))
    await push_timed(api, token, v1)
    resp = await api.client.post(f"/api/v1/sites/{site}/baseline", json={"version": 1},
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    assert resp.status == 201, await resp.text()

    async with app[sessions_key]() as db, db.begin():
        await alerts.subscribe(db, await user_ctx(app, subscriber), "tech@example.test", site_slug=site)
    async with app[sessions_key]() as db, db.begin():  # out of scope: as if the site did not exist
        with pytest.raises(Exception) as refused:
            await alerts.subscribe(db, await user_ctx(app, outsider), "out@example.test", site_slug=site)
    assert getattr(refused.value, "status", None) == 404
    box = app[secret_box_key]
    async with app[sessions_key]() as db, db.begin():  # this customer's only: the PostgreSQL DB is shared
        _, owner = await find_site(db, admin, site)
        live, secret = await alerts.add_webhook(db, admin, box, "ticketing", receiver.url, owner.id)
        dead, _ = await alerts.add_webhook(
            db, admin, box, "down", f"http://127.0.0.1:{free_port()}/x", owner.id
        )
        stored = live.secret_sealed
    assert secret not in stored and box.open(stored) == secret  # sealed at rest

    with_dead_s = await push_timed(api, token, v2)
    site_id = await site_id_of(app, site)

    async def settled() -> bool:
        rows = await deliveries_of(app, site_id)
        by = {(r.channel, r.webhook_id): r for r in rows}
        dead_row = by.get(("webhook", dead.id))
        return (
            len(smtp.mailbox.messages) >= 1
            and len(receiver.requests) >= 1
            and dead_row is not None
            and dead_row.attempts >= 2
        )

    await wait_for(settled, "the mail, the webhook and two tries of the dead endpoint")
    # While the dead endpoint is being retried, another push is as fast as before.
    qv3 = with_devices(qv2, edit(device(qv2, "cam-gate"), identity__firmware="V5.9.0 build 240101"))
    during_retries_s = await push_timed(api, quiet_token, qv3)
    print(
        f"\ningest of a changed scan: no endpoint {no_endpoint_s * 1000:.1f} ms, with a dead webhook "
        f"endpoint queued {with_dead_s * 1000:.1f} ms, during its retries {during_retries_s * 1000:.1f} ms"
    )
    assert with_dead_s < no_endpoint_s + 1.0 and during_retries_s < no_endpoint_s + 1.0

    await asyncio.sleep(0.5)  # nothing more arrives for this one scan
    mine = [m for m in smtp.mailbox.messages if site in str(m[1]["Subject"])]
    assert len(mine) == 1, [m[1]["Subject"] for m in smtp.mailbox.messages]
    rcpt, message, over_tls = mine[0]
    assert rcpt == ["tech@example.test"] and over_tls
    text = message.get_content()  # type: ignore[attr-defined]
    assert "1 change: 1 changed" in message["Subject"]
    assert "cam-gate" in text and "V5.8.0" in text and "firmware" in text
    everyone = [r for m in smtp.mailbox.messages for r in m[0]]
    assert bystander not in str(everyone) and "out@example.test" not in everyone

    hooks = [r for r in receiver.requests if site in r[1].decode()]
    assert len(hooks) == 1
    headers, body = hooks[0]
    assert signing.verify(secret, headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER], body,
                          int(time.time()))  # fmt: skip
    assert not signing.verify("whsec_wrong", headers[signing.TIMESTAMP_HEADER],
                              headers[signing.SIGNATURE_HEADER], body, int(time.time()))  # fmt: skip
    payload = json.loads(body)
    assert payload["event"] == "site.changed" and payload["site_id"] == site
    assert [c["device_id"] for c in payload["changes"]] == [device(v2, "cam-gate").id]

    rows = {(r.channel, r.webhook_id): r for r in await deliveries_of(app, site_id)}
    down = rows[("webhook", dead.id)]
    assert down.status == "retrying" and down.next_try_at is not None
    assert down.last_error and "Connect" in down.last_error
    assert rows[("webhook", live.id)].status == "sent" and rows[("email", None)].status == "sent"

    # The log is on the admin page, with the error and the next try.
    status, log = await api.get("/api/v1/alerts/deliveries")
    assert status == 200
    mine_log = [d for d in log["deliveries"] if d["delivery_id"] == down.id]
    assert mine_log and mine_log[0]["status"] == "retrying" and mine_log[0]["attempts"] >= 2


async def test_scope_is_checked_again_when_sending_and_overdue_scan_alerts_once(
    alert_api: Api, smtp: SmtpServer
) -> None:
    api, app = alert_api, alert_api.app
    customer = unique_name("Meridian")
    site = unique_site()
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "a"})
    token = (await resp.json())["token"]
    await push_timed(api, token, site_v1(site))
    site_id = await site_id_of(app, site)
    watcher = await add_user(app, "support", customers=(customer,))
    moved_away = await add_user(app, "support", customers=(customer,))
    async with app[sessions_key]() as db, db.begin():
        await alerts.subscribe(db, await user_ctx(app, watcher), "watch@example.test", site_slug=site)
        await alerts.subscribe(db, await user_ctx(app, moved_away), "gone@example.test", site_slug=site)
    admin = Ctx(cli_admin("test"))
    async with app[sessions_key]() as db, db.begin():  # the second one's scope no longer has this customer
        user = await people.find_user(db, admin, moved_away)
        other = await people.create_customer(db, admin, unique_name("Elsewhere"), None)
        assert user.id is not None
        scope = people.ScopeRequest(people.parse_role("support"), (), (other.name,))
        await people.update_user(db, admin, user.id, scope, base_revision=user.revision, full_name=None,
                                 customer_admin=False)  # fmt: skip
        await alerts.set_schedule(db, admin, site, 3600)
        # The last scan was two hours ago.
        await db.exec(
            update(SnapshotVersion).where(col(SnapshotVersion.site_id) == site_id)
            .values(seen_last_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )  # fmt: skip

    await app[jobs_key].defer("alerts.overdue", {}, key="alerts.overdue")

    async def done() -> bool:
        rows = await deliveries_of(app, site_id)
        return len(rows) == 2 and all(r.status in ("sent", "skipped") for r in rows)

    await wait_for(done, "the overdue alert's two deliveries")
    rows = await deliveries_of(app, site_id)
    assert {r.target: r.status for r in rows} == {
        "watch@example.test": "sent",
        "gone@example.test": "skipped",
    }
    assert "may no longer see" in (next(r for r in rows if r.status == "skipped").last_error or "")
    mine = [m for m in smtp.mailbox.messages if site in str(m[1]["Subject"])]
    assert len(mine) == 1 and mine[0][0] == ["watch@example.test"]
    assert "no scan for 2 h (expected every 1 h)" in str(mine[0][1]["Subject"])

    await app[jobs_key].defer("alerts.overdue", {}, key="alerts.overdue")  # the same silence: no second alert
    await asyncio.sleep(1.5)
    assert len(await deliveries_of(app, site_id)) == 2
