"""Files for record tests, made with the libraries a real phone or office tool would write them with."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg_with_gps(size: tuple[int, int] = (64, 48), *, orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera make and a GPS position."""
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):  # a left half that is another colour: orientation is visible
        for y in range(size[1]):
            image.putpixel((x, y), (20, 40, 220))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 6.2)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>52,31.2N</exif:GPSLatitude></x:xmpmeta>'
    image.save(out, format="JPEG", exif=exif, quality=95, xmp=xmp, comment=b"taken at Depot Nord gate")
    return out.getvalue()


def heic_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """An iPhone photo: HEIC with a GPS position in its EXIF (written through pillow-heif)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 6.2)}
    out = io.BytesIO()
    Image.new("RGB", size, (30, 160, 30)).save(out, format="HEIF", exif=exif.tobytes(), quality=80)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), *, noisy: bool = False) -> bytes:
    image = Image.new("RGB", size, (10, 120, 10))
    if noisy:
        image = Image.effect_noise(size, 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_page(size: tuple[int, int] = (600, 400)) -> bytes:
    """A one-page PDF (a scanned floor plan, as Pillow writes it)."""
    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(out, format="PDF")
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    """The same bytes on every call: a fixed member date, not the clock (the bytes name parametrized
    tests, and two pytest-xdist workers must collect the same names)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def docx() -> bytes:
    return zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def repeated(chunk: bytes, times: int, counter: list[int] | None = None) -> AsyncIterator[bytes]:
    """``chunk`` ``times`` times, never all at once; ``counter[0]`` counts what was taken."""
    for _ in range(times):
        if counter is not None:
            counter[0] += 1
        yield chunk


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
