"""A customer's fleet reports over a real collector: every role in scope gets them, an out-of-scope
customer answers exactly like a missing one, the spreadsheet opens cell by cell, the page shows the
chart and the rows, and every read and download is audited."""

from __future__ import annotations

import csv
import io
import re

import openpyxl

from tests.collector.conftest import Api
from tests.collector.factory import device, edit, with_devices
from tests.collector.test_isolation import customer_id
from tests.collector.test_people import assert_audited, last_audit_id
from tests.collector.test_web_ui import site_v1
from tests.collector.world import ROLES, build_world

OLD_GATE = "V5.6.0 build 210101"


async def test_fleet_reports_over_the_api_and_page_scoped_and_audited(api: Api) -> None:
    w = await build_world(api)
    try:
        start = await last_audit_id(api.app)
        # A second site of the inside customer: its gate camera runs an older firmware, a clock is off.
        annex = f"{w.inside.site}-annex"
        code = await api.issue_code(annex, customer=w.inside.customer)
        resp = await api.client.post("/api/v1/enrol", json={"code": code, "agent_name": "annex"})
        token = (await resp.json())["token"]
        base = site_v1(annex)
        gate = edit(device(base, "cam-gate"), identity__firmware=OLD_GATE)
        lobby = device(base, "cam-lobby")
        assert lobby.onvif is not None
        lobby = edit(lobby, onvif=edit(lobby.onvif, clock_offset_s=-93.5), network__ntp=("pool.ntp.org",))
        status, _ = await api.push(token, with_devices(base, gate, lobby))
        assert status == 201
        inside, outside = await customer_id(w, "in"), await customer_id(w, "out")
        for role in ROLES:
            headers = {"Authorization": f"Bearer {w.people[role].token}"}
            async with api.client.get(f"/api/v1/customers/{inside}/fleet", headers=headers) as resp:
                assert resp.status == 200, (role, await resp.text())
                body = await resp.json()
            assert sorted(body["sites"]) == sorted([w.inside.site, annex])
            gates = [r for r in body["firmware"]["rows"] if r["device"] == "cam-gate"]
            assert {(r["site"], r["firmware"], r["outdated"]) for r in gates} == {
                (w.inside.site, "V5.8.0 build 230101", False), (annex, OLD_GATE, True)}  # fmt: skip
            worst = body["clock"]["rows"][0]
            assert (worst["site"], worst["device"], worst["offset_s"], worst["state"], worst["ntp"]) == (
                annex, "cam-lobby", -93.5, "bad", ["pool.ntp.org"])  # fmt: skip
            drift = body["recording"]
            assert drift["compared"] == [w.inside.site] and drift["without_baseline"] == [annex]
            assert any(r["device"] == "cam-lobby" and r["kind"] == "missing" for r in drift["rows"])
            assert {r["switch"] for r in body["poe"]["rows"]} >= {"sw-core", "sw-yard"}
            text = await (await api.client.get(f"/api/v1/customers/{outside}/fleet", headers=headers)).text()
            missing = await (
                await api.client.get("/api/v1/customers/987654321/fleet", headers=headers)
            ).text()
            if role == "admin":
                assert w.outside.site in text
                continue
            assert '"not_found"' in text and all(m not in text for m in w.outside.markers), (role, text)
            assert re.sub(r'"request_id":\s*"[^"]*"|\d{5,}', "", text) == re.sub(
                r'"request_id":\s*"[^"]*"|\d{5,}', "", missing.replace("987654321", str(outside))
            )
        tech = {"Authorization": f"Bearer {w.people['technician'].token}"}
        async with api.client.get(f"/api/v1/customers/{inside}/fleet/poe", headers=tech) as resp:
            one = await resp.json()
        assert one["report"] == "poe" and set(one) >= {"poe", "sites"} and "firmware" not in one
        async with api.client.get(f"/api/v1/customers/{inside}/fleet/nonsense", headers=tech) as resp:
            assert resp.status == 422
        async with api.client.get(f"/api/v1/customers/{inside}/fleet-export.xlsx", headers=tech) as resp:
            assert resp.status == 200 and resp.headers["Content-Disposition"].endswith('.xlsx"')
            wb = openpyxl.load_workbook(io.BytesIO(await resp.read()))
        assert wb.sheetnames == ["firmware", "clock", "recording", "poe"]
        fw = wb["firmware"]
        first = [c.value for c in fw[2]]
        assert first[0] == annex and first[1] == "cam-gate" and first[7] == OLD_GATE and first[9] is True
        assert wb["clock"]["F2"].value == -93.5 and wb["clock"]["H2"].value == "pool.ntp.org"
        query = "?report=clock"
        async with api.client.get(
            f"/api/v1/customers/{inside}/fleet-export.csv{query}", headers=tech
        ) as resp:
            rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert rows[1][:2] == [annex, "cam-lobby"] and rows[1][5] == "-93.5"
        async with api.client.get(f"/api/v1/customers/{inside}/fleet-export.csv", headers=tech) as resp:
            assert resp.status == 422  # a CSV holds one report
        web = w.people["customer"].web
        assert web is not None
        async with web.get(f"/customers/{inside}/fleet?report=firmware") as resp:
            page = await resp.text()
        assert resp.status == 200 and "<svg" in page and OLD_GATE in page and "older</span>" in page
        assert all(m not in page for m in w.outside.markers)
        async with web.get(f"/customers/{outside}/fleet") as resp:
            assert resp.status == 404
        async with web.get(f"/customers/{inside}/fleet-export.xlsx?report=poe") as resp:
            assert resp.status == 200
            assert openpyxl.load_workbook(io.BytesIO(await resp.read())).sheetnames == ["poe"]
        await assert_audited(api.app, start, "test_fleet_reports_over_the_api_and_page_scoped_and_audited")
    finally:
        await w.close()
