"""Site-record benchmark: prints a table, asserts nothing.

1. A 20 MiB spec sheet streamed into the store (64 KiB chunks): seconds, MiB/s, peak traced memory.
2. A 12 MP phone photo (4000×3000 JPEG with EXIF and GPS): metadata stripped, re-encoded, thumbnailed.
3. A PDF floor plan: first page rendered to PNG by pdftoppm.
4. Quote import: 5,000 lines from CSV and from XLSX.
5. Changes in people's words for a 1,000-device site where 40 cameras were swapped.

Usage: .venv/bin/python benchmarks/site_record.py [--runs 5]. Figures are medians; the machine may be
shared, so read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from openpyxl import Workbook
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.attachments.storage import FilesystemStore
from collector.attachments.upload import AttachmentKind, UploadPolicy, store_upload
from collector.changes_words import present
from collector.diff import diff_snapshots
from collector.record.quote_import import parse_quote_csv, parse_quote_xlsx
from tests.collector.factory import edit, large_site

MiB = 1024 * 1024


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _repeat(chunk: bytes, times: int) -> AsyncIterator[bytes]:
    for _ in range(times):
        yield chunk


def median_s(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def photo_12mp() -> bytes:
    image = Image.effect_noise((4000, 3000), 40).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 6.2)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def floor_plan_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3508, 2480), (250, 250, 250)).save(out, format="PDF", resolution=300)  # A4 at 300 dpi
    return out.getvalue()


def quote_rows(n: int) -> list[list[object]]:
    return [["Part", "Vendor", "Model", "Qty", "Unit price", "Serials"]] + [
        [f"P-{i}", "Axis", f"M{i % 50}-L", 1 + i % 4, 99.5 + i % 7, f"S{i}"] for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = FilesystemStore.in_data_dir(Path(tmp))
        policy = UploadPolicy(max_bytes=64 * MiB)

        chunk = b"%PDF-1.7\n" + b"0" * (64 * 1024 - 9)

        def spec_sheet() -> None:
            asyncio.run(store_upload(store, _repeat(chunk, 320), filename="spec.pdf", declared_type=None,
                                     kind=AttachmentKind.SPEC_SHEET, policy=policy))  # fmt: skip

        seconds = median_s(runs, spec_sheet)
        tracemalloc.start()
        spec_sheet()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(
            (
                "20 MiB upload, streamed",
                f"{seconds:.3f} s ({20 / seconds:.0f} MiB/s), peak {peak // 1024} KiB",
            )
        )

        photo = photo_12mp()

        def phone_photo() -> None:
            asyncio.run(store_upload(store, _chunks(photo), filename="IMG.JPG", declared_type="image/jpeg",
                                     kind=AttachmentKind.PHOTO, policy=policy))  # fmt: skip

        rows.append(
            (
                f"12 MP photo ({len(photo) // 1024} KiB): strip + thumbnail",
                f"{median_s(runs, phone_photo):.3f} s",
            )
        )

        plan = floor_plan_pdf()

        def pdf_plan() -> None:
            asyncio.run(store_upload(store, _chunks(plan), filename="plan.pdf", declared_type=None,
                                     kind=AttachmentKind.FLOOR_PLAN, policy=policy))  # fmt: skip

        rows.append(("PDF floor plan: page 1 → PNG + thumbnail", f"{median_s(runs, pdf_plan):.3f} s"))

    table = quote_rows(5000)
    csv_data = "\n".join(";".join(str(c) for c in r) for r in table).encode()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in table:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    xlsx_data = out.getvalue()
    rows.append(
        ("quote import, 5,000 lines, CSV", f"{median_s(runs, lambda: parse_quote_csv(csv_data)):.3f} s")
    )
    rows.append(
        ("quote import, 5,000 lines, XLSX", f"{median_s(runs, lambda: parse_quote_xlsx(xlsx_data)):.3f} s")
    )

    before = large_site(1000)
    cams = [d for d in before.devices if d.role.value == "camera"]
    changed = {}
    for i, cam in enumerate(cams[:40]):  # swapped: another unit on the same port
        mac = f"0e:00:00:00:{i // 256:02x}:{i % 256:02x}"
        changed[cam.id] = edit(cam, id=f"mac:{mac}", identity__mac=mac, identity__serial=f"NEW-{i}")
    after = before.model_copy(update={"devices": tuple(changed.get(d.id, d) for d in before.devices)})
    diff = diff_snapshots(before, after)
    words_ms = median_s(runs, lambda: present(diff)) * 1000
    rows.append((f"changes in words, 1,000 devices, {len(diff.changes)} diff changes", f"{words_ms:.1f} ms"))

    width = max(len(a) for a, _ in rows)
    print(f"{'site record':<{width}}  median of {runs}")
    for a, b in rows:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
