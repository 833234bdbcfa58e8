"""The customer's share link, over real HTTP: wrong password refused (and slowed), works once, dies
at expiry, and the ZIP (handover PDF, XLSX, JSON, built as the customer) holds no secret."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from pypdf import PdfReader
from sqlmodel import update

from collector.auth import cli_admin
from collector.db.alert_tables import ShareLink
from collector.keys import sessions_key, vault_keys_key
from collector.services import share, vault
from collector.services.context import Ctx
from collector.vault.store import EntryDraft
from tests.collector.conftest import Api, unique_name, unique_site
from tests.collector.test_people import PRODUCED_BY, assert_audited, last_audit_id
from tests.collector.test_web_ui import site_v1

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


async def _form(api: Api, path: str) -> tuple[int, str]:
    resp = await api.client.get(path)
    text = await resp.text()
    match = CSRF.search(text)
    return resp.status, match.group(1) if match else ""


async def _try(api: Api, path: str, password: str) -> tuple[int, bytes, str]:
    _, csrf = await _form(api, "/login")
    resp = await api.client.post(path, data={"csrf": csrf, "password": password}, allow_redirects=False)
    return resp.status, await resp.read(), resp.headers.get("Content-Type", "")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the PDF dominates; PostgreSQL: test_alerts
async def test_share_link_refuses_wrong_password_works_once_expires_and_holds_no_secret(api: Api) -> None:
    app, site, customer = api.app, unique_site(), unique_name("Meridian")
    code = await api.issue_code(site, customer=customer)
    resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "a"})
    status, _ = await api.push((await resp.json())["token"], site_v1(site))
    assert status == 201
    secret = f"nvr-pass-{unique_name('s')}"
    admin = Ctx(cli_admin("test"))
    start = await last_audit_id(app)
    async with app[sessions_key]() as db, db.begin():
        draft = EntryDraft(label="nvr admin", kind="login", username="admin", secrets={"password": secret})
        await vault.save_entry(db, admin, app[vault_keys_key], site, draft)
        link, token = await share.create_link(
            db,
            admin,
            site,
            recipient="Ms Tanaka",
            password="tell-by-phone-1",
            ttl_h=24,
            formats=["pdf", "xlsx", "json"],
        )
        stale, stale_token = await share.create_link(
            db, admin, site, recipient="late", password="tell-by-phone-2", ttl_h=1, formats=["json"]
        )
        stored = await db.get(ShareLink, link.id)
        assert (
            stored is not None
            and token not in stored.token_hash
            and "tell-by-phone" not in stored.password_hash
        )
    path = f"/share/{token}"

    status, csrf = await _form(api, path)
    assert status == 200 and csrf
    status, body, _ = await _try(api, path, "not the password")
    assert status == 401 and b"not right" in body
    status, body, kind = await _try(api, path, "tell-by-phone-1")
    assert status == 200 and kind == "application/zip", body[:300]
    with zipfile.ZipFile(io.BytesIO(body)) as pack:
        names = pack.namelist()
        files = {n: pack.read(n) for n in names}
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["json", "pdf", "xlsx"]
    pdf = files[next(n for n in names if n.endswith(".pdf"))]
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "cam-gate" in pdf_text.lower() or "gate" in pdf_text.lower()
    assert secret not in pdf_text
    with zipfile.ZipFile(io.BytesIO(files[next(n for n in names if n.endswith(".xlsx"))])) as book:
        assert all(secret.encode() not in book.read(n) for n in book.namelist())
    json_text = files[next(n for n in names if n.endswith(".json"))].decode()
    assert site in json_text and secret not in json_text

    # Once: the same link and password again is gone, like a link that never existed.
    status, body, _ = await _try(api, path, "tell-by-phone-1")
    assert status == 404 and b"expired or was already used" in body
    assert (await api.client.get(path)).status == 404
    assert (await api.client.get("/share/not-a-link")).status == 404

    # Expired: dead although never used.
    async with app[sessions_key]() as db, db.begin():
        await db.exec(
            update(ShareLink)
            .where(ShareLink.id == stale.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    status, _, _ = await _try(api, f"/share/{stale_token}", "tell-by-phone-2")
    assert status == 404

    # Guessing slows down: after a few wrong passwords, 429 with Retry-After.
    async with app[sessions_key]() as db, db.begin():
        _, guessed = await share.create_link(
            db, admin, site, recipient="guess", password="tell-by-phone-3", ttl_h=1, formats=["json"]
        )
    answers = [(await _try(api, f"/share/{guessed}", f"wrong-{n}"))[0] for n in range(7)]
    assert answers[:5] == [401] * 5 and 429 in answers[5:]
    await assert_audited(
        app, start, "test_share_link_refuses_wrong_password_works_once_expires_and_holds_no_secret"
    )
    assert PRODUCED_BY  # the declaration lives in test_people
