"""The deliverables as the product serves them: every format for every role in scope, 404 out of
scope, one audit entry per download, the credentials annex only when asked and allowed (each value
audited as a reveal), no secret and no other customer's data in a customer's download, the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from collector.auth import cli_admin
from collector.cli import collector_app
from collector.db.models import AuditEvent
from collector.keys import config_key, sessions_key, vault_keys_key
from collector.services import vault
from collector.services.context import Ctx
from collector.vault.store import EntryDraft
from tests.collector.conftest import Api
from tests.collector.test_web_ui import site_v1, site_v2
from tests.collector.world import World, build_world, marked
from tests.secret_sweep import Sweep

ROLES = ("admin", "technician", "support", "customer")
CHEAP = ("xlsx", "csv", "json")


async def plant_secret(w: World) -> str:
    """A vault value on the inside site: no customer's download may ever contain it."""
    secret = f"planted-{w.inside.serial}-pw"
    draft = EntryDraft(label="nvr admin", kind="login", username="admin", secrets={"password": secret})
    async with w.app[sessions_key]() as db, db.begin():
        await vault.save_entry(db, Ctx(cli_admin("test")), w.app[vault_keys_key], w.inside.site, draft)
    return secret


async def fetch(w: World, role: str, path: str) -> tuple[int, bytes, Any]:
    headers = {"Authorization": f"Bearer {w.people[role].token}"}
    async with w.api.client.get(path, headers=headers) as resp:
        return resp.status, await resp.read(), resp.headers


async def audit_rows(w: World, kind: str, site: str) -> list[AuditEvent]:
    async with w.app[sessions_key]() as db:
        query = select(AuditEvent).where(AuditEvent.kind == kind).order_by(col(AuditEvent.id))
        return [r for r in (await db.exec(query)).all() if r.target and f"site {site} " in r.target]


def serials(site: str, serial: str) -> set[str]:
    snapshot = marked(site_v2(site), serial)
    return {d.identity.serial for d in snapshot.devices if d.identity.serial}


def pdf_text(body: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


async def test_every_format_for_every_role_in_scope_and_404_outside(api: Api) -> None:
    w = await build_world(api)
    try:
        secret = await plant_secret(w)
        inside = f"/api/v1/sites/{w.inside.site}"
        device_count = len(site_v2(w.inside.site).devices)
        every_serial = serials(w.inside.site, w.inside.serial)
        for role in ROLES:
            for fmt in CHEAP:
                status, body, headers = await fetch(w, role, f"{inside}/export.{fmt}")
                assert status == 200, (role, fmt, body[:300])
                disposition = headers["Content-Disposition"]
                assert disposition == f'attachment; filename="{w.inside.site}-v2-' + (
                    "devices.csv" if fmt == "csv" else f"record.{fmt}"
                ) + '"'  # fmt: skip
                if fmt == "xlsx":
                    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
                    sheet = book["devices"]
                    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if any(r)]
                    assert len(rows) == device_count, (role, sheet.title, rows)
                elif fmt == "csv":
                    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
                    assert len(rows) == device_count
                    assert every_serial <= {cell for row in rows for cell in row}
                else:
                    doc = json.loads(body)
                    assert {d["serial"] for d in doc["record"]["devices"] if d["serial"]} == every_serial
                    assert doc["record"]["baseline"]["version"] == 1  # the world approved v1
                    assert doc["record"]["changes"] is not None  # v2 against baseline v1
                sweep = Sweep((secret,))
                sweep.check_bytes(f"{role} {fmt}", body)
                assert sweep.looked_at and not sweep.hits, sweep.hits
                if role != "admin":
                    leaked = [m for m in w.outside.markers if m.encode() in body]
                    assert not leaked, (role, fmt, leaked)
            status, body, headers = await fetch(w, role, f"{inside}/diagram.svg?version=1")
            assert status == 200 and body.lstrip().startswith(b"<?xml") and b"<svg" in body
            assert headers["Content-Type"].startswith("image/svg+xml")
            # Out of scope answers as if the site did not exist; the admin sees everything.
            status, body, _ = await fetch(w, role, f"/api/v1/sites/{w.outside.site}/export.csv")
            assert status == (200 if role == "admin" else 404), (role, status)
        exports = await audit_rows(w, "export.download", w.inside.site)
        # 3 formats + the diagram, per role; each entry says what, which version and how.
        assert len(exports) == 4 * len(ROLES)
        assert {(e.detail["format"], e.detail["via"]) for e in exports} == {
            (f, "api") for f in (*CHEAP, "svg")
        }
        assert {e.detail["version"] for e in exports} == {1, 2}
        status, body, _ = await fetch(w, "admin", f"{inside}/export.docx")
        assert status == 422 and b"pdf, xlsx, csv, json" in body
        status, _, _ = await fetch(w, "admin", f"{inside}/export.csv?version=9")
        assert status == 404
    finally:
        await w.close()


async def test_handover_pdf_and_its_credentials_annex(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    """Few PDFs (each costs seconds): the customer's, a technician's with the annex."""
    w = await build_world(api)
    try:
        secret = await plant_secret(w)
        inside = f"/api/v1/sites/{w.inside.site}"
        started = time.perf_counter()
        status, body, headers = await fetch(w, "customer", f"{inside}/export.pdf")
        elapsed = time.perf_counter() - started
        with capsys.disabled():
            print(f"\nhandover PDF of the small site over HTTP: {elapsed:.2f} s, {len(body)} bytes")
        assert status == 200 and body.startswith(b"%PDF"), body[:300]
        assert headers["Content-Type"] == "application/pdf"
        assert "no-store" not in headers["Cache-Control"]
        text = pdf_text(body)
        assert all(s in text for s in serials(w.inside.site, w.inside.serial)), text[:2000]
        assert secret not in text and "Credentials" not in text
        sweep = Sweep((secret,))
        sweep.check_bytes("customer pdf", body)
        assert not sweep.hits
        # A customer never gets the annex (even one who could reveal in the vault), nor does a
        # format other than the PDF carry one; nothing was revealed by these refusals.
        status, _, _ = await fetch(w, "customer", f"{inside}/export.pdf?credentials=1")
        assert status == 403
        status, _, _ = await fetch(w, "technician", f"{inside}/export.csv?credentials=1")
        assert status == 422
        assert await audit_rows(w, "vault.reveal", w.inside.site) == []

        status, body, headers = await fetch(w, "technician", f"{inside}/export.pdf?credentials=1")
        assert status == 200, body[:300]
        assert headers["Cache-Control"] == "no-store"
        assert "with-passwords" in headers["Content-Disposition"]
        assert secret in pdf_text(body)
        reveals = await audit_rows(w, "vault.reveal", w.inside.site)
        assert [(r.actor, r.detail["field"]) for r in reveals] == [(w.people["technician"].name, "password")]
        assert reveals[0].detail["purpose"] == "handover pdf v2"
        pdfs = [
            e for e in await audit_rows(w, "export.download", w.inside.site) if e.detail["format"] == "pdf"
        ]
        assert [e.detail["credentials"] for e in pdfs] == [False, True]
    finally:
        await w.close()


async def test_pages_offer_the_documents_and_the_diagram(api: Api) -> None:
    w = await build_world(api)
    try:
        web = w.people["customer"].web
        assert web is not None
        async with web.get(f"/sites/{w.inside.site}") as resp:
            page = await resp.text()
        for fmt in ("pdf", "xlsx", "csv", "json"):
            assert f"/sites/{w.inside.site}/export.{fmt}?version=2" in page
        assert f"/sites/{w.inside.site}/diagram?version=2" in page
        async with web.get(f"/sites/{w.inside.site}/diagram") as resp:
            diagram = await resp.text()
        assert resp.status == 200 and f"/sites/{w.inside.site}/diagram.svg?version=2" in diagram
        async with web.get(f"/sites/{w.inside.site}/diagram?version=9") as resp:
            assert resp.status == 404
        async with web.get(f"/sites/{w.inside.site}/export.csv") as resp:
            assert resp.status == 200 and w.inside.serial in await resp.text()
        exports = await audit_rows(w, "export.download", w.inside.site)
        assert [(e.detail["format"], e.detail["via"]) for e in exports] == [("csv", "web")]
    finally:
        await w.close()


async def test_cli_export_writes_the_file_and_is_audited(api: Api, tmp_path: Path) -> None:
    w = await build_world(api)
    try:
        config = w.app[config_key]
        out = tmp_path / "record.xlsx"
        args = ["export", w.inside.site, "--format", "xlsx", "--version", "1", "--out", str(out),
                "--data-dir", str(config.data_dir), "--database-url", config.db_url]  # fmt: skip
        result = await asyncio.to_thread(CliRunner().invoke, collector_app, args)
        assert result.exit_code == 0, result.output
        book = openpyxl.load_workbook(out, read_only=True)
        devices = [r for r in book["devices"].iter_rows(min_row=2, values_only=True) if any(r)]
        assert len(devices) == len(site_v1(w.inside.site).devices)
        rows = await audit_rows(w, "export.download", w.inside.site)
        assert [(r.detail["format"], r.detail["version"], r.detail["via"]) for r in rows] == [
            ("xlsx", 1, "cli")
        ]
        bad = await asyncio.to_thread(CliRunner().invoke, collector_app, [*args[:3], "docx"])
        assert bad.exit_code == 2 and "pdf, xlsx, csv, json" in bad.output
        missing = await asyncio.to_thread(
            CliRunner().invoke, collector_app, ["export", "no-such-site", *args[2:]]
        )
        assert missing.exit_code == 1 and "not found" in missing.output.lower()
    finally:
        await w.close()


async def test_openapi_documents_the_downloads(api: Api) -> None:
    resp = await api.client.get("/api/v1/openapi.json")
    doc = await resp.json()
    export = doc["paths"]["/api/v1/sites/{site}/export.{format}"]["get"]
    params = {p["name"]: p for p in export["parameters"]}
    assert params["format"]["schema"] == {"type": "string", "enum": ["pdf", "xlsx", "csv", "json"]}
    assert {"version", "credentials"} <= set(params)
    assert {"application/pdf", "text/csv", "application/json"} <= set(export["responses"]["200"]["content"])
    diagram = doc["paths"]["/api/v1/sites/{site}/diagram.svg"]["get"]
    assert list(diagram["responses"]["200"]["content"]) == ["image/svg+xml"]
    assert "site:export" in diagram["description"]
