"""Images: re-encoded without any metadata (EXIF with GPS, XMP, IPTC, comments), thumbnails.

Re-encoding is the only sure way to drop metadata: every chunk a camera or editor wrote is left
behind, only pixels go on. The EXIF orientation is applied to the pixels first, so a photo taken on
its side still stands up. Blocking (Pillow): callers run these in a thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from collector.attachments.errors import UploadRefused
from collector.attachments.sniff import HEIC, HEIF_SUPPORTED, JPEG, PNG, WEBP, FileType

if HEIF_SUPPORTED:
    import pillow_heif

    pillow_heif.register_heif_opener()

MAX_PIXELS = 60_000_000  # a 48 MP phone photo fits; a decompression bomb does not
JPEG_QUALITY = 90
THUMBNAIL_PX = 320
THUMBNAIL_QUALITY = 80
_FORMATS = {JPEG.media_type: "JPEG", PNG.media_type: "PNG", WEBP.media_type: "WEBP", HEIC.media_type: "JPEG"}
_STORED_AS = {HEIC.media_type: JPEG}  # browsers other than Safari cannot show HEIC


def stored_type(file_type: FileType) -> FileType:
    """What a cleaned image is stored as: its own type, except HEIC, which becomes JPEG."""
    return _STORED_AS.get(file_type.media_type, file_type)


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int


def open_checked(src: Path) -> Image.Image:
    try:
        image = Image.open(src)
    except (UnidentifiedImageError, OSError) as exc:
        raise UploadRefused(422, "unreadable", "the image cannot be read (damaged or not an image)") from exc
    except Image.DecompressionBombError as exc:
        raise UploadRefused(
            413, "too_large", f"the image has more than {MAX_PIXELS // 1_000_000} megapixels"
        ) from exc
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise UploadRefused(413, "too_large", f"the image has more than {MAX_PIXELS // 1_000_000} megapixels")
    return image


@contextlib.contextmanager
def _strict_decoding() -> Iterator[None]:
    """A cut-off image is refused, whatever the process set: WeasyPrint (the handover PDF, in the
    same collector process) sets Pillow's global ``LOAD_TRUNCATED_IMAGES`` on import. The lock keeps
    two uploads from restoring each other's setting."""
    with _DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


_DECODING = threading.Lock()


def clean_image(src: Path, dst: Path, file_type: FileType) -> ImageFacts:
    """Write ``src``'s pixels to ``dst`` as ``stored_type``, upright, without metadata."""
    with _strict_decoding():
        return _clean_image(src, dst, file_type)


def _clean_image(src: Path, dst: Path, file_type: FileType) -> ImageFacts:
    fmt = _FORMATS[file_type.media_type]
    with open_checked(src) as original:
        try:
            upright = ImageOps.exif_transpose(original)  # a copy, turned as the camera meant
            pixels = _plain(upright, fmt)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UploadRefused(422, "unreadable", "the image cannot be read (damaged)") from exc
    pixels.info = {}  # nothing of the original's metadata may ride along into save()
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": JPEG_QUALITY}
    pixels.save(dst, format=fmt, **options)
    return ImageFacts(width=pixels.width, height=pixels.height)


def _plain(image: Image.Image, fmt: str) -> Image.Image:
    """The pixels in a mode the format can save, as a fresh image (no chunks, no EXIF)."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    if image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK", "I;16", "I", "1"):
        image = image.convert("RGBA")
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def thumbnail(src: Path, dst: Path, max_px: int = THUMBNAIL_PX) -> ImageFacts:
    """A small JPEG of ``src`` (already clean), at most ``max_px`` on its longer side."""
    with open_checked(src) as image:
        small = _on_white(image)
    small.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    small.info = {}
    small.save(dst, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return ImageFacts(width=small.width, height=small.height)


def _on_white(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts (a PNG plan's background) become white, not black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
