"""Attachments: streamed, size-limited, sniffed, cleaned of metadata, thumbnailed, stored once, private."""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image

from collector.attachments.antivirus import NOT_CONFIGURED, AntivirusHook
from collector.attachments.errors import UploadRefused
from collector.attachments.intake import sweep_staging
from collector.attachments.sniff import DOCX, XLSX
from collector.attachments.storage import FilesystemStore
from collector.attachments.upload import (
    AttachmentKind,
    StoredFile,
    UploadPolicy,
    download_headers,
    store_upload,
)
from tests.record.files import (
    GPS_IFD,
    MAKE,
    ORIENTATION,
    chunks_of,
    docx,
    files_under,
    heic_with_gps,
    jpeg_with_gps,
    pdf_page,
    png,
    repeated,
    zip_of,
)

MiB = 1024 * 1024
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A real scanner process that reads stdin as clamdscan does: exit 1 and a FOUND line for EICAR.
FAKE_SCANNER = (
    "sh",
    "-c",
    'if grep -q EICAR-STANDARD; then echo "stream: Eicar-Test-Signature FOUND"; exit 1; fi; exit 0',
)


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore.in_data_dir(tmp_path)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: modes must still come out private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def put(
    store: FilesystemStore,
    data: bytes,
    name: str,
    kind: AttachmentKind = AttachmentKind.OTHER,
    *,
    declared: str | None = None,
    policy: UploadPolicy | None = None,
) -> StoredFile:
    return await store_upload(
        store,
        chunks_of(data),
        filename=name,
        declared_type=declared,
        kind=kind,
        policy=policy or UploadPolicy(),
    )


def stored_image(store: FilesystemStore, sha256: str) -> Image.Image:
    return Image.open(store.path_of(sha256))


async def test_photo_is_stored_without_gps_or_any_exif(store: FilesystemStore):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the phone did write a location
    got = await put(store, original, "IMG_0001.JPG", AttachmentKind.PHOTO, declared="image/jpeg")
    assert got.media_type == "image/jpeg" and (got.width, got.height) == (64, 48)
    with stored_image(store, got.sha256) as image:
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD) and MAKE not in exif and len(exif) == 0
        assert "exif" not in image.info and image.format == "JPEG"
    assert original.find(b"GPSLatitude") > 0 and original.find(b"Depot Nord") > 0
    stored = store.path_of(got.sha256).read_bytes()
    assert all(stored.find(mark) == -1 for mark in (b"Exif", b"GPSLatitude", b"xmpmeta", b"Depot Nord"))


async def test_an_iphone_heic_photo_is_stored_as_jpeg_without_its_location(store: FilesystemStore):
    original = heic_with_gps()
    assert original[4:12] == b"ftypheic"
    got = await put(store, original, "IMG_4711.HEIC", AttachmentKind.PHOTO, declared="image/heic")
    assert (got.media_type, got.original_name, got.width, got.height) == (
        "image/jpeg",
        "IMG_4711.jpg",
        64,
        48,
    )
    with stored_image(store, got.sha256) as image:
        assert image.format == "JPEG" and len(image.getexif()) == 0


async def test_orientation_is_applied_to_the_pixels(store: FilesystemStore):
    # Orientation 6: the camera was turned; viewers rotate 90° clockwise to show it upright.
    got = await put(store, jpeg_with_gps((60, 20), orientation=6), "side.jpg", AttachmentKind.PHOTO)
    with stored_image(store, got.sha256) as image:
        assert image.size == (20, 60) and ORIENTATION not in image.getexif()
        top, bottom = image.getpixel((10, 5)), image.getpixel((10, 55))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > 150 > bottom[2]  # the blue left half is now on top


async def test_thumbnail_exists_and_is_small(store: FilesystemStore):
    got = await put(store, png((2000, 1500), noisy=True), "plan.png", AttachmentKind.FLOOR_PLAN)
    assert got.thumbnail_sha256 is not None and got.thumbnail_sha256 != got.sha256
    thumb = store.path_of(got.thumbnail_sha256)
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and max(image.size) == 320 and image.size == (320, 240)
    assert thumb.stat().st_size < 60 * 1024 < store.path_of(got.sha256).stat().st_size


async def test_same_content_is_stored_once(store: FilesystemStore):
    data = jpeg_with_gps()
    first = await put(store, data, "a.jpg", AttachmentKind.PHOTO)
    second = await put(store, data, "copy of a.jpg", AttachmentKind.PHOTO)
    assert (first.sha256, first.thumbnail_sha256) == (second.sha256, second.thumbnail_sha256)
    assert first.new and not second.new
    assert len(files_under(store.root)) == 2  # the photo and its thumbnail; no staging leftovers


async def test_files_are_0600_and_directories_0700_whatever_the_umask(store: FilesystemStore, open_umask):
    got = await put(store, pdf_page(), "spec.pdf", AttachmentKind.SPEC_SHEET)
    path = store.path_of(got.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.relative_to(store.root).parts == (got.sha256[:2], got.sha256[2:4], got.sha256)
    for directory in (path.parent, path.parent.parent, store.root, store.staging_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


async def test_a_20_mb_upload_is_streamed_never_held_whole(store: FilesystemStore):
    chunk = b"%PDF-1.7\n" + b"0" * (64 * 1024 - 9)  # a large (dull) spec sheet, 64 KiB at a time
    tracemalloc.start()
    try:
        got = await store_upload(
            store, repeated(chunk, 320), filename="datasheet.pdf", declared_type="application/pdf",
            kind=AttachmentKind.SPEC_SHEET, policy=UploadPolicy(max_bytes=64 * MiB),
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.size == 320 * len(chunk) == 20 * MiB
    print(f"\n20 MiB upload: peak traced memory {peak / 1024:.0f} KiB", file=sys.stderr)
    assert peak < 2 * MiB
    assert store.path_of(got.sha256).stat().st_size == 20 * MiB


async def test_over_the_limit_is_refused_mid_stream_and_leaves_nothing(store: FilesystemStore):
    taken = [0]
    with pytest.raises(UploadRefused) as refused:
        await store_upload(
            store, repeated(b"a" * (64 * 1024), 1000, taken), filename="big.txt", declared_type="text/plain",
            kind=AttachmentKind.OTHER, policy=UploadPolicy(max_bytes=1 * MiB),
        )  # fmt: skip
    assert refused.value.status == 413 and "1 MiB" in refused.value.message
    assert taken[0] == 17  # stopped at the first chunk past the limit, not at the end of the stream
    assert files_under(store.root) == []


@pytest.mark.parametrize(
    ("data", "name", "declared", "says"),
    [
        (png(), "floorplan.pdf", "application/pdf", "named .pdf but its content is a PNG image"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg", "HTML, SVG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", None, "SVG"),
        (b"\xef\xbb\xbf  <html><body>hi</body></html>", "notes.txt", "text/plain", "HTML, SVG"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "camera-tool", None, "a Linux program"),
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.jpg", "image/jpeg", "a Windows program"),
        (b"#!/bin/sh\nrm -rf /\n", "fix.sh", None, "a script"),
        (zip_of({"a.txt": b"x"}), "photos.zip", None, "only XLSX and DOCX"),
        (
            zip_of(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "word/document.xml": b"<w/>",
                    "word/vbaProject.bin": b"\0",
                }
            ),
            "invoice.docx",
            None,
            "documents with macros",
        ),
        (b"<html><script>alert(1)</script>%PDF-1.7\n", "plan.pdf", "application/pdf", "HTML, SVG"),
        (jpeg_with_gps(), "photo.jpg", "application/pdf", "sent as application/pdf"),
        (b"part;qty\nDS-2CD;2\n", "quote.exe", None, "files named .exe are not accepted"),
        (b"caf\xe9;2\n", "quote.csv", "text/csv", "must be UTF-8"),
        (b"\x00\x01\x02binary", "blob.txt", None, "binary data"),
    ],
)
async def test_wrong_or_dangerous_types_are_refused(
    store: FilesystemStore, data: bytes, name: str, declared: str | None, says: str
):
    with pytest.raises(UploadRefused) as refused:
        await put(store, data, name, declared=declared)
    assert refused.value.status == 415 and says in refused.value.message, refused.value.message
    assert files_under(store.root) == []


async def test_a_photo_must_be_an_image(store: FilesystemStore):
    with pytest.raises(UploadRefused, match="a photo must be an image, not a PDF document"):
        await put(store, pdf_page(), "photo.pdf", AttachmentKind.PHOTO)


@pytest.mark.parametrize(
    ("maker", "name", "declared", "media_type"),
    [
        (lambda: jpeg_with_gps(), "IMG.JPEG", "image/jpeg", "image/jpeg"),
        (lambda: png(), "wiring.png", "image/png", "image/png"),
        (lambda: pdf_page(), "datasheet.pdf", "application/pdf", "application/pdf"),
        (lambda: docx(), "method.docx", "application/octet-stream", DOCX.media_type),
        (lambda: _xlsx(), "quote.xlsx", XLSX.media_type, XLSX.media_type),
        (lambda: b"Teil;Menge\nDS-2CD2T47G2-L;4\n", "angebot.csv", "application/vnd.ms-excel", "text/csv"),
        (lambda: "Kabel prüfen\n".encode(), "notes.txt", "text/plain", "text/plain"),
        (lambda: b"no extension, plain words\n", "README", None, "text/plain"),
    ],
)  # fmt: skip
async def test_accepted_types_are_named_from_their_content(
    store: FilesystemStore, maker, name: str, declared: str | None, media_type: str
):
    got = await put(store, maker(), name, declared=declared)
    assert got.media_type == media_type and got.original_name == name
    assert store.path_of(got.sha256).is_file()


async def test_a_pdf_floor_plan_gets_its_first_page_as_png(store: FilesystemStore):
    got = await put(store, pdf_page((600, 400)), "Ground floor.pdf", AttachmentKind.FLOOR_PLAN)
    assert got.media_type == "application/pdf" and got.preview_sha256 and got.thumbnail_sha256
    with Image.open(store.path_of(got.preview_sha256)) as page:
        assert page.format == "PNG" and max(page.size) == 4000
        assert abs(page.width / page.height - 1.5) < 0.01 and (got.width, got.height) == page.size


async def test_a_broken_pdf_floor_plan_is_refused(store: FilesystemStore):
    with pytest.raises(UploadRefused) as refused:
        await put(store, b"%PDF-1.4\nnot really a pdf\n", "plan.pdf", AttachmentKind.FLOOR_PLAN)
    assert refused.value.status == 422 and "PDF cannot be read" in refused.value.message
    assert files_under(store.root) == []


async def test_antivirus_hook_runs_on_the_file_before_it_is_stored(store: FilesystemStore):
    hook = UploadPolicy(antivirus=AntivirusHook(FAKE_SCANNER))
    clean = await put(store, b"just a note\n", "note.txt", policy=hook)
    assert clean.antivirus == "clean (sh)"
    with pytest.raises(UploadRefused) as refused:
        await put(store, EICAR + b"\n", "eicar.txt", policy=hook)
    assert refused.value.code == "antivirus" and "Eicar-Test-Signature FOUND" in refused.value.message
    assert files_under(store.root) == [str(store.path_of(clean.sha256).relative_to(store.root))]
    missing = UploadPolicy(antivirus=AntivirusHook.from_setting("/nonexistent/clamdscan --fdpass -"))
    with pytest.raises(UploadRefused, match="could not run"):  # configured but absent: fail closed
        await put(store, b"another note\n", "n2.txt", policy=missing)
    skipped = await put(store, b"third note\n", "n3.txt")
    assert skipped.antivirus == NOT_CONFIGURED


async def test_hostile_file_names_are_sanitised(store: FilesystemStore):
    got = await put(store, png(), "../../etc/\x00cron.d<x>.png", AttachmentKind.PHOTO)
    assert got.original_name == "cron.dx.png"


def test_download_headers_never_let_a_browser_run_or_sniff_it():
    headers = download_headers("application/pdf", 'Plan "EG" – v2.pdf', inline=False)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert headers["Content-Disposition"].startswith('attachment; filename="Plan EG _ v2.pdf"')
    assert "filename*=UTF-8''Plan%20%22EG%22%20%E2%80%93%20v2.pdf" in headers["Content-Disposition"]


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Part", "Qty"])
    sheet.append(["DS-2CD2T47G2-L", 4])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_policy_from_the_environment():
    policy = UploadPolicy.from_env(
        {"ASBUILT_ATTACHMENT_MAX_BYTES": "1048576", "ASBUILT_ANTIVIRUS_COMMAND": "clamdscan --fdpass -"}
    )
    assert policy.max_bytes == MiB and policy.antivirus.command == ("clamdscan", "--fdpass", "-")
    assert not UploadPolicy.from_env({}).antivirus.configured


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims a huge image (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        (png_claiming(30_000, 30_000), 413, "more than 60 megapixels"),
        (jpeg_with_gps((400, 300))[:2000], 422, "cannot be read"),  # cut off in the middle
    ],
)
async def test_bombs_and_damaged_images_are_refused(
    store: FilesystemStore, data: bytes, status: int, says: str
):
    import weasyprint  # noqa: F401  the collector imports it too, and it relaxes Pillow's decoding

    with pytest.raises(UploadRefused) as refused:
        await put(
            store, data, "photo.png" if data.startswith(b"\x89PNG") else "photo.jpg", AttachmentKind.PHOTO
        )
    assert refused.value.status == status and says in refused.value.message, refused.value.message
    assert files_under(store.root) == []


async def test_a_pdf_that_does_not_render_in_time_is_refused(store: FilesystemStore):
    slow = UploadPolicy(pdf_timeout_s=0.001)
    with pytest.raises(UploadRefused, match="did not render within"):
        await put(store, pdf_page(), "plan.pdf", AttachmentKind.FLOOR_PLAN, policy=slow)
    assert files_under(store.root) == []


async def test_an_antivirus_that_hangs_refuses_the_file(store: FilesystemStore):
    hung = UploadPolicy(antivirus=AntivirusHook(("sleep", "10"), timeout_s=0.3))
    with pytest.raises(UploadRefused, match=r"virus scan \(sleep\) did not finish within 0.3 s"):
        await put(store, b"note\n", "n.txt", policy=hung)
    assert files_under(store.root) == []


async def test_what_a_crash_left_in_staging_is_swept(store: FilesystemStore):
    kept = await put(store, b"a note\n", "n.txt")
    store.staging_dir.mkdir(parents=True, exist_ok=True)
    leftover = store.staging_dir / "0123abcd.part"
    leftover.write_bytes(b"half an upload")
    os.utime(leftover, (1_000_000, 1_000_000))
    fresh = store.staging_dir / "4567ef.part"  # an upload still under way
    fresh.write_bytes(b"streaming")
    assert sweep_staging(store.staging_dir) == 1
    assert not leftover.exists() and fresh.exists() and store.path_of(kept.sha256).exists()
