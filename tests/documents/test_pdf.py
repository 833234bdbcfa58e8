"""The handover pack, rendered by WeasyPrint and read back with pypdf (text) — no layout mocked.

The large site's PDF takes several seconds to lay out (50 pages), so it is built once per module
and marked slow; the small site's pack carries the other checks.
"""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from collector.documents import Branding, SealedCredential, handover_html, handover_pdf, handover_pdf_async
from collector.documents.model import (
    AsBuiltRecord,
    ChannelEntry,
    FloorPlan,
    QuoteLine,
    QuoteReconciliation,
    ServiceVisit,
)
from collector.documents.pdf import DocumentFetchRefused, UnusedChannels, _fetch_embedded_only, channel_rows
from tests.documents.conftest import APPROVED_AT, CUSTOMER_JA, SITE_JA, Site

LOGO = (
    "data:image/svg+xml;base64,"
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI0MCIgaGVpZ2h0PSI0MCI+"
    "PHJlY3Qgd2lkdGg9IjQwIiBoZWlnaHQ9IjQwIiBmaWxsPSIjZThhMzNkIi8+PC9zdmc+"
)
BRAND = Branding(
    integrator_name="Nordlicht Sicherheitstechnik GmbH", logo_data_uri=LOGO, primary_colour="#114477"
)


def pages(pdf: bytes, *, layout: bool = False) -> list[str]:
    """The text of each page, by poppler's pdftotext, in content order (pypdf needs seconds for 50 pages)."""
    argv = ["pdftotext", "-enc", "UTF-8", "-layout" if layout else "-raw", "-", "-"]
    done = subprocess.run(argv, input=pdf, capture_output=True, check=True, timeout=60)
    texts = done.stdout.decode().split("\f")
    assert len(texts) - 1 == len(PdfReader(io.BytesIO(pdf)).pages)  # a form feed ends each page
    return texts[:-1]


def bare(record: AsBuiltRecord) -> AsBuiltRecord:
    """The record without devices: a pack of a few pages, for checks that are not about devices."""
    empty: dict[str, object] = {"devices": (), "switches": (), "links": (), "recorders": (), "streams": ()}
    return record.model_copy(update=empty)


def flat(text: str) -> str:
    """Text without whitespace: table cells wrap long serials over lines."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def small_pdf(small: Site) -> bytes:
    return handover_pdf(small.record, branding=BRAND)


@pytest.fixture(scope="module")
def large_pdf(large: Site) -> bytes:
    return handover_pdf(large.record)


def schedule_text(texts: list[str]) -> str:
    start = next(i for i, t in enumerate(texts) if "2. Device schedule" in t and "Contents" not in t)
    end = next(i for i, t in enumerate(texts) if "3. Wiring diagram" in t and "Contents" not in t)
    return flat(" ".join(texts[start:end]))


def check_schedule(site: Site, pdf: bytes) -> list[str]:
    texts = pages(pdf)
    schedule = schedule_text(texts)
    serials = [(d.identity.hostname, d.identity.serial) for d in site.current.devices]
    assert all(serial for _, serial in serials)  # every device of the lab reports one
    return [
        f"{name}: serial {serial} not in the schedule"
        for name, serial in serials
        if flat(serial or "") not in schedule
    ]


def test_small_pack_schedule_cover_and_japanese_names(small: Site, small_pdf: bytes) -> None:
    assert check_schedule(small, small_pdf) == []
    texts = pages(small_pdf)
    cover = texts[0]
    for expected in (CUSTOMER_JA, SITE_JA, "Kenji Sato", "Nordlicht Sicherheitstechnik GmbH", "version 1"):
        assert expected in cover, f"{expected!r} is not on the cover"
    assert APPROVED_AT.strftime("%Y-%m-%d") in cover
    assert all(f"Page {n} of {len(texts)}" in t for n, t in enumerate(texts[1:], start=2))
    assert f"{SITE_JA} — {CUSTOMER_JA}" in texts[1]  # running header on every later page


def test_contents_give_the_page_each_section_starts_on(small_pdf: bytes) -> None:
    texts = pages(small_pdf)
    contents = pages(small_pdf, layout=True)[1]
    for title in (
        "Device schedule",
        "Wiring diagram",
        "Recorders",
        "Changes since the baseline",
        "Scan notes",
    ):
        match = re.search(rf"\d+\. {title}\s*(\d+)", contents)
        assert match, f"{title} not in the contents"
        page = int(match.group(1))
        assert title in texts[page - 1], f"{title} is not on page {page}"


def test_sections_say_none_recorded_and_the_change_list_is_there(small: Site, small_pdf: bytes) -> None:
    text = " ".join(pages(small_pdf))
    for section in ("6. Floor plans", "7. Photos", "8. Quote reconciliation", "9. Service visits"):
        after = text.split(section, 2)[-1]
        assert after.lstrip().startswith("None recorded"), f"{section} is not marked as none recorded"
    for change in small.diff.changes:
        assert flat(change.label) in flat(text)
    assert "SEALED" not in text


def test_record_slots_render_when_filled(small: Site) -> None:
    camera = small.record.devices[-1]
    record = small.record.model_copy(
        update={
            "floor_plans": (FloorPlan(title="Ground floor", pins=()),),
            "quote": QuoteReconciliation(
                reference="Q-2026-114", lines=(QuoteLine(item="Dome camera", quoted=12, installed=13),)
            ),
            "visits": (
                ServiceVisit(date=APPROVED_AT, technician="Kenji Sato", summary="Replaced the gate camera"),
            ),
        }
    )
    html = handover_html(record, diagrams=[])
    assert "Ground floor" in html and "No pins placed." in html
    assert "Q-2026-114" in html and "+1" in html
    assert "Replaced the gate camera" in html and camera.name in html


def test_branding_is_checked_before_it_reaches_css() -> None:
    with pytest.raises(ValidationError):
        Branding(primary_colour="red; } body { display: none")
    with pytest.raises(ValidationError):
        Branding(logo_data_uri="file:///etc/passwd")


async def test_sealed_annex_only_when_given_and_no_fetching(small: Site, small_pdf: bytes) -> None:
    """One short pack (no devices) carries both checks: a PDF costs seconds even when short."""
    with pytest.raises(DocumentFetchRefused):
        _fetch_embedded_only("file:///etc/passwd")
    with pytest.raises(DocumentFetchRefused):
        _fetch_embedded_only("http://127.0.0.1:9/x.png")
    planted = "Planted-Annex-Secret-9137"
    camera = small.record.devices[-1]
    sealed = [
        SealedCredential(device_id=camera.id, device_name=camera.name, username="admin", secret=planted)
    ]
    hostile = bare(small.record).model_copy(
        update={"floor_plans": (FloorPlan(title="Plan", image_url="file:///etc/hostname"),)}
    )
    # In a worker thread; the plan's image is refused and the pack is still made.
    pdf = await handover_pdf_async(hostile, credentials=sealed)
    texts = pages(pdf)
    assert "Plan" in " ".join(texts)
    annex = [t for t in texts if "SEALED — credentials annex" in t]
    assert annex and planted in annex[-1] and camera.name in annex[-1]
    assert planted not in " ".join(pages(small_pdf)) and "SEALED" not in " ".join(pages(small_pdf))
    assert planted not in repr(sealed[0])


@pytest.mark.slow
def test_large_pack_every_serial_in_the_schedule(large: Site, large_pdf: bytes) -> None:
    assert check_schedule(large, large_pdf) == []
    texts = pages(large_pdf)
    assert CUSTOMER_JA in texts[0] and SITE_JA in texts[0]
    figures = [t for t in texts if re.search(r"Figure \d+\. sw-\d\d", t)]
    assert len(figures) >= len(large.record.switches)  # each switch drawn, large ones over two pages


def test_the_serial_check_can_fail(large: Site, small_pdf: bytes) -> None:
    """The schedule check is not vacuous: the small pack lacks the large site's serials."""
    assert len(check_schedule(large, small_pdf)) == len(large.current.devices)


def test_unused_recorder_channels_fold_into_one_row(large: Site) -> None:
    nvr = next(r for r in large.record.recorders if r.name == "nvr-01")
    rows = channel_rows(nvr)
    used = [r for r in rows if isinstance(r, ChannelEntry)]
    folded = [r for r in rows if isinstance(r, UnusedChannels)]
    assert len(used) == nvr.used_channels and len(used) + sum(f.last - f.first + 1 for f in folded) == 64
    assert [(f.first, f.last) for f in folded] == [(nvr.used_channels + 1, 64)]
