"""The record tables on SQLite and PostgreSQL: attachments' rows, plans and pins with stale-edit
refusal, the quote replaced by an import and its serials, visits and the last visit per site."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from collector.attachments.storage import FilesystemStore
from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
from collector.db.record_tables import QuoteLine, SiteAttachment
from collector.diff import diff_snapshots
from collector.record.attachments_db import add_attachment, remove_attachment, site_attachments
from collector.record.errors import Invalid, NotFound, StaleEdit
from collector.record.placement import PinState, devices_to_place, pin_flags
from collector.record.placement_db import (
    PinDraft,
    add_floor_plan,
    remove_pin,
    repoint_pin,
    save_pin,
    site_pins,
)
from collector.record.quote_db import quote_state, record_serials, replace_quote, site_quote
from collector.record.quote_import import parse_quote_csv
from collector.record.reconcile import reconcile
from collector.record.visits import VisitDraft, add_visit, last_visit_dates, site_visits, visit_attachment_ids
from tests.collector.factory import depot
from tests.record.conftest import Sessions
from tests.record.files import chunks_of, jpeg_with_gps, pdf_page

GATE = "mac:c0:56:e3:44:20:01"
LOBBY = "mac:ac:cc:8e:5a:01:02"


async def upload(
    sessions: Sessions, store: FilesystemStore, site_id: int, data: bytes, name: str, kind: AttachmentKind
) -> SiteAttachment:
    stored = await store_upload(
        store, chunks_of(data), filename=name, declared_type=None, kind=kind, policy=UploadPolicy()
    )
    async with sessions() as session, session.begin():
        return await add_attachment(
            session, site_id=site_id, stored=stored, kind=kind, uploaded_by="tech-ana", device_id=GATE,
            caption="  gate camera, pole 2  ",
        )  # fmt: skip


async def test_attachment_rows_and_their_blobs(sessions: Sessions, site_id: int, tmp_path: Path):
    store = FilesystemStore.in_data_dir(tmp_path)
    photo = await upload(sessions, store, site_id, jpeg_with_gps(), "gate.jpg", AttachmentKind.PHOTO)
    again = await upload(sessions, store, site_id, jpeg_with_gps(), "gate-again.jpg", AttachmentKind.PHOTO)
    assert photo.sha256 == again.sha256 and photo.id != again.id  # two rows, one blob
    async with sessions() as session:
        rows = await site_attachments(session, site_id, device_id=GATE, kind=AttachmentKind.PHOTO)
    assert {r.id for r in rows} == {photo.id, again.id}
    assert rows[0].caption == "gate camera, pole 2" and rows[0].antivirus.startswith("not scanned")
    assert photo.id is not None and again.id is not None
    async with sessions() as session, session.begin():
        assert (
            await remove_attachment(session, attachment_id=photo.id, expected_version=1) == []
        )  # still used
    async with sessions() as session, session.begin():
        gone = await remove_attachment(session, attachment_id=again.id, expected_version=1)
    assert sorted(gone) == sorted([again.sha256, again.thumbnail_sha256])


async def test_pins_refuse_stale_edits_and_follow_a_replaced_camera(
    sessions: Sessions, site_id: int, tmp_path: Path
):
    store = FilesystemStore.in_data_dir(tmp_path)
    drawing = await upload(sessions, store, site_id, pdf_page(), "ground.pdf", AttachmentKind.FLOOR_PLAN)
    assert drawing.id is not None and drawing.preview_sha256
    async with sessions() as session, session.begin():
        plan = await add_floor_plan(
            session,
            site_id=site_id,
            attachment_id=drawing.id,
            name="Ground floor",
            level="0",
            user="tech-ana",
        )
        with pytest.raises(Invalid, match="already has a floor plan"):
            await add_floor_plan(
                session, site_id=site_id, attachment_id=drawing.id, name="Ground floor", level=None, user="x"
            )
    assert plan.id is not None
    async with sessions() as session, session.begin():
        with pytest.raises(Invalid, match="is the floor plan 'Ground floor': remove the plan first"):
            await remove_attachment(session, attachment_id=drawing.id, expected_version=1)
        with pytest.raises(StaleEdit):
            await remove_attachment(session, attachment_id=drawing.id, expected_version=7)
    async with sessions() as session, session.begin():
        pin = await save_pin(
            session, floor_plan_id=plan.id, draft=PinDraft(GATE, 0.25, 0.75, "pole 2", 4.5, 370.0),
            user="tech-ana", expected_version=None,
        )  # fmt: skip
    assert (pin.version, pin.fov_deg) == (1, 10.0)
    async with sessions() as session, session.begin():
        moved = await save_pin(
            session,
            floor_plan_id=plan.id,
            draft=PinDraft(GATE, 0.3, 0.7),
            user="tech-ben",
            expected_version=1,
        )
    assert (moved.version, moved.x, moved.updated_by) == (2, 0.3, "tech-ben")
    # Ana's phone still shows version 1: her drag is refused, not silently lost over Ben's.
    async with sessions() as session, session.begin():
        with pytest.raises(StaleEdit, match=r"changed by tech-ben .* \(now version 2\)"):
            await save_pin(
                session,
                floor_plan_id=plan.id,
                draft=PinDraft(GATE, 0.9, 0.9),
                user="tech-ana",
                expected_version=1,
            )
        with pytest.raises(StaleEdit, match="was placed by tech-ben"):  # a second "place" of the same device
            await save_pin(
                session, floor_plan_id=plan.id, draft=PinDraft(GATE, 0.5, 0.5), user="tech-ana",
                expected_version=None,
            )  # fmt: skip
        with pytest.raises(Invalid, match="x must be between 0 and 1"):
            await save_pin(
                session,
                floor_plan_id=plan.id,
                draft=PinDraft(LOBBY, 1.5, 0.5),
                user="t",
                expected_version=None,
            )

    # The scan now sees another unit at the gate camera's port: the pin is flagged, then re-pointed.
    before = depot()
    gate = next(d for d in before.devices if d.id == GATE)
    new_unit = gate.model_copy(
        update={
            "id": "mac:c0:56:e3:44:20:99",
            "identity": gate.identity.model_copy(update={"serial": "NEW-1"}),
        }
    )
    after = before.model_copy(update={"devices": (*[d for d in before.devices if d.id != GATE], new_unit)})
    diff = diff_snapshots(before, after)
    async with sessions() as session:
        pins = await site_pins(session, site_id)
    flags = pin_flags(pins, after, diff)
    assert flags[GATE].state is PinState.REPLACED and flags[GATE].replaced_by == new_unit.id
    assert new_unit.id in {t.device_id for t in devices_to_place(after, pins)}
    assert pins[0].id is not None
    async with sessions() as session, session.begin():
        repointed = await repoint_pin(
            session, pin_id=pins[0].id, device_id=new_unit.id, user="tech-ana", expected_version=2
        )
        assert repointed.version == 3
    async with sessions() as session:
        pins = await site_pins(session, site_id)
    assert pin_flags(pins, after, diff)[new_unit.id].state is PinState.OK
    assert new_unit.id not in {t.device_id for t in devices_to_place(after, pins)}
    async with sessions() as session, session.begin():
        with pytest.raises(StaleEdit):
            await remove_pin(session, pin_id=repointed.id or 0, expected_version=2)
        await remove_pin(session, pin_id=repointed.id or 0, expected_version=3)
        with pytest.raises(NotFound):
            await remove_pin(session, pin_id=repointed.id or 0, expected_version=3)


async def test_quote_import_replaces_the_quote_exactly(sessions: Sessions, site_id: int):
    imported = parse_quote_csv(
        b"Part No.;Manufacturer;Model;Qty;Unit price (EUR);Serials\n"
        b"01532-001;Axis;P3245-LVE;1;1.234,56;\n"
        b"DS-2CD2T47G2-L;Hikvision;DS-2CD2T47G2-L;2;389,90;DS-2CD2T47G2-L20230702AAWRJ80000001\n"
    )
    assert not imported.errors
    async with sessions() as session, session.begin():
        state = await quote_state(session, site_id)
        await replace_quote(
            session, site_id=site_id, items=imported.items, user="tech-ana", expected_state=state
        )
    async with sessions() as session, session.begin():
        with pytest.raises(StaleEdit):  # someone imported in between: this form's state is old
            await replace_quote(
                session, site_id=site_id, items=imported.items, user="x", expected_state=state
            )
    async with sessions() as session:
        lines = await site_quote(session, site_id)
    assert [(ln.position, ln.model, ln.quantity, ln.unit_price, ln.currency) for ln in lines] == [
        (1, "P3245-LVE", 1, Decimal("1234.56"), "EUR"),
        (2, "DS-2CD2T47G2-L", 2, Decimal("389.90"), "EUR"),
    ]
    assert lines[1].serials == ["DS-2CD2T47G2-L20230702AAWRJ80000001"]
    # The stored lines reconcile as they are: the gate camera by its serial, the Axis dome by model.
    got = reconcile(lines, depot().devices)
    assert [(s.installed, s.shortfall, len(s.by_serial)) for s in got.lines] == [(1, 0, 0), (1, 1, 1)]
    assert lines[0].id is not None
    async with sessions() as session, session.begin():
        line = await record_serials(
            session, line_id=lines[0].id, serials=[" AX-1 "], user="t", expected_version=1
        )
    assert (line.serials, line.version) == (["AX-1"], 2)
    async with sessions() as session, session.begin():
        with pytest.raises(Invalid, match="2 serial numbers for quantity 1"):
            await record_serials(
                session, line_id=lines[0].id, serials=["a", "b"], user="t", expected_version=2
            )
        stored = await session.get(QuoteLine, lines[0].id)
        assert stored is not None and stored.unit_price_cents == 123456


async def test_visits_and_the_last_visit_per_site(sessions: Sessions, site_id: int, tmp_path: Path):
    store = FilesystemStore.in_data_dir(tmp_path)
    photo = await upload(sessions, store, site_id, jpeg_with_gps(), "after.jpg", AttachmentKind.PHOTO)
    assert photo.id is not None
    async with sessions() as session, session.begin():
        await add_visit(
            session, site_id=site_id, user="tech-ana",
            draft=VisitDraft(date(2026, 11, 2), "tech-ana", "yearly service", "cleaned domes", (1,)),
        )  # fmt: skip
        second = await add_visit(
            session, site_id=site_id, user="tech-ben",
            draft=VisitDraft(date(2026, 11, 23), "tech-ben", "gate camera dark", "swapped the unit",
                             (2, 3, 2), (photo.id,)),
            now=datetime(2026, 11, 23, 15, tzinfo=UTC),
        )  # fmt: skip
        with pytest.raises(NotFound, match="not files of this site"):
            await add_visit(
                session,
                site_id=site_id,
                user="x",
                draft=VisitDraft(date(2026, 11, 24), "x", "y", None, (), (999999,)),
            )
    async with sessions() as session:
        visits = await site_visits(session, site_id)
        assert [v.reason for v in visits] == ["gate camera dark", "yearly service"]
        assert visits[0].version_numbers == [2, 3]
        assert second.id is not None and await visit_attachment_ids(session, second.id) == [photo.id]
        assert await last_visit_dates(session, [site_id, -1]) == {site_id: date(2026, 11, 23)}
