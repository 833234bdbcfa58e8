"""One upload, start to finish: stream → sniff → antivirus → clean/thumbnail/render → commit.

Views call ``store_upload`` with the multipart part's chunks (after the permission check), then
record the returned ``StoredFile`` with ``collector.record.attachments.add_attachment``. Whatever is
refused leaves nothing behind: every temp file is removed on every path out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePath
from urllib.parse import quote

from collector.attachments import images, pdf
from collector.attachments.antivirus import SCAN_TIMEOUT_S, AntivirusHook
from collector.attachments.errors import UploadRefused
from collector.attachments.intake import StagedFile, receive, reserve, staged
from collector.attachments.names import sanitise_filename
from collector.attachments.sniff import PDF, FileType, resolve, sniff
from collector.attachments.storage import BlobStore

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 25 * MiB


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    FLOOR_PLAN = "floor_plan"
    SPEC_SHEET = "spec_sheet"
    QUOTE = "quote"
    WIRING = "wiring"
    OTHER = "other"


# What each kind may be (by FileType.family); kinds not listed take any accepted type.
_KIND_FAMILIES: dict[AttachmentKind, frozenset[str]] = {
    AttachmentKind.PHOTO: frozenset({"image"}),
    AttachmentKind.FLOOR_PLAN: frozenset({"image", "pdf"}),
}


@dataclass(frozen=True)
class UploadPolicy:
    max_bytes: int = DEFAULT_MAX_BYTES
    antivirus: AntivirusHook = field(default_factory=AntivirusHook)
    thumbnail_px: int = images.THUMBNAIL_PX
    pdf_timeout_s: float = pdf.RENDER_TIMEOUT_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> UploadPolicy:
        """ASBUILT_ATTACHMENT_MAX_BYTES, ASBUILT_ANTIVIRUS_COMMAND (e.g. 'clamdscan --fdpass -'),
        ASBUILT_ANTIVIRUS_TIMEOUT_S; unset ones keep their defaults."""
        max_bytes = int(environ.get("ASBUILT_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)
        timeout = float(environ.get("ASBUILT_ANTIVIRUS_TIMEOUT_S") or SCAN_TIMEOUT_S)
        if max_bytes < 1:
            raise ValueError("ASBUILT_ATTACHMENT_MAX_BYTES must be a positive number of bytes")
        return cls(
            max_bytes=max_bytes,
            antivirus=AntivirusHook.from_setting(environ.get("ASBUILT_ANTIVIRUS_COMMAND"), timeout),
        )


@dataclass(frozen=True)
class StoredFile:
    """What was committed to the store: the row-to-be of an attachment (see record_tables)."""

    sha256: str
    size: int
    media_type: str
    original_name: str
    antivirus: str
    width: int | None = None
    height: int | None = None
    thumbnail_sha256: str | None = None
    preview_sha256: str | None = None
    new: bool = True  # False: the same content was already stored


async def store_upload(
    store: BlobStore,
    chunks: AsyncIterator[bytes],
    *,
    filename: str | None,
    declared_type: str | None,
    kind: AttachmentKind,
    policy: UploadPolicy,
) -> StoredFile:
    """Stream, check, clean and commit one file; raises ``UploadRefused`` with a reason otherwise."""
    name = sanitise_filename(filename)
    raw = await receive(chunks, staging_dir=store.staging_dir, max_bytes=policy.max_bytes)
    made: list[StagedFile] = [raw]
    try:
        if raw.size == 0:
            raise UploadRefused(422, "empty", "the file is empty")
        file_type = resolve(await asyncio.to_thread(sniff, raw.head, raw.path), name, declared_type)
        _check_kind(kind, file_type)
        verdict = await policy.antivirus.check(raw.path)
        out = await _derive(store, raw, file_type, kind, policy, made)
        # Derived files first: a committed main file never points at a missing thumbnail.
        for derived in (out.thumb, out.preview):
            if derived is not None:
                await store.put(derived)
        new = await store.put(out.main)
        return StoredFile(
            sha256=out.main.sha256,
            size=out.main.size,
            media_type=out.file_type.media_type,
            original_name=_stored_name(name, file_type, out.file_type),
            antivirus=verdict,
            width=out.facts.width if out.facts else None,
            height=out.facts.height if out.facts else None,
            thumbnail_sha256=out.thumb.sha256 if out.thumb else None,
            preview_sha256=out.preview.sha256 if out.preview else None,
            new=new,
        )
    finally:
        for f in made:  # committed ones were moved away already; the rest must not stay
            f.discard()


def _check_kind(kind: AttachmentKind, file_type: FileType) -> None:
    allowed = _KIND_FAMILIES.get(kind)
    if allowed is None or file_type.family in allowed:
        return
    what = "an image or a PDF" if "pdf" in allowed else "an image"
    raise UploadRefused(
        415, "type_refused", f"a {kind.value.replace('_', ' ')} must be {what}, not a {file_type.label}"
    )


def _stored_name(name: str, sent: FileType, stored: FileType) -> str:
    """IMG_0001.HEIC stored as JPEG is named IMG_0001.jpg."""
    if stored is sent or not PurePath(name).suffix:
        return name
    return str(PurePath(name).with_suffix(stored.suffix))


@dataclass(frozen=True)
class _Derived:
    main: StagedFile  # what is stored: the upload itself, or its cleaned re-encoding
    file_type: FileType
    facts: images.ImageFacts | None = None
    thumb: StagedFile | None = None
    preview: StagedFile | None = None


async def _derive(
    store: BlobStore,
    raw: StagedFile,
    file_type: FileType,
    kind: AttachmentKind,
    policy: UploadPolicy,
    made: list[StagedFile],
) -> _Derived:
    """Clean an image (and thumbnail it), render a PDF floor plan's page; track every file made."""
    if file_type.is_image:
        main, facts = await _cleaned(store, raw, file_type)
        made.append(main)
        thumb = await _thumbnail(store, main, policy.thumbnail_px)
        made.append(thumb)
        return _Derived(main, images.stored_type(file_type), facts, thumb)
    if file_type is PDF and kind is AttachmentKind.FLOOR_PLAN:
        preview, facts = await _rendered(store, raw, policy.pdf_timeout_s)
        made.append(preview)
        thumb = await _thumbnail(store, preview, policy.thumbnail_px)
        made.append(thumb)
        return _Derived(raw, file_type, facts, thumb, preview)
    return _Derived(raw, file_type)


async def _cleaned(
    store: BlobStore, raw: StagedFile, file_type: FileType
) -> tuple[StagedFile, images.ImageFacts]:
    out = reserve(store.staging_dir, ".img")
    try:
        facts = await asyncio.to_thread(images.clean_image, raw.path, out, file_type)
        return await asyncio.to_thread(staged, out), facts
    except BaseException:
        out.unlink(missing_ok=True)
        raise


async def _thumbnail(store: BlobStore, src: StagedFile, max_px: int) -> StagedFile:
    out = reserve(store.staging_dir, ".thumb")
    try:
        await asyncio.to_thread(images.thumbnail, src.path, out, max_px)
        return await asyncio.to_thread(staged, out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


async def _rendered(
    store: BlobStore, raw: StagedFile, timeout_s: float
) -> tuple[StagedFile, images.ImageFacts]:
    out = reserve(store.staging_dir, ".png")
    try:
        await pdf.render_first_page(raw.path, out, timeout_s=timeout_s)
        facts = await asyncio.to_thread(_page_size, out)
        return await asyncio.to_thread(staged, out), facts
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _page_size(png: Path) -> images.ImageFacts:
    with images.open_checked(png) as page:
        return images.ImageFacts(width=page.width, height=page.height)


def download_headers(media_type: str, original_name: str, *, inline: bool) -> dict[str, str]:
    """Headers for serving a stored file: never sniffed by the browser, never run as a page.

    ``inline`` for images and PDFs shown in the page; everything else downloads.
    """
    disposition = "inline" if inline else "attachment"
    ascii_name = original_name.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    names = f"filename=\"{ascii_name}\"; filename*=UTF-8''{quote(original_name)}"
    return {
        "Content-Type": media_type,
        "Content-Disposition": f"{disposition}; {names}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
